/*
 * web-table: the compatibility web's model (web-table.h): rows, columns,
 * one class per (kernel, cell) from the runs of the cell's latest
 * hypervisor build, and the support windows.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"
#include "compare/web-table.h"
#include "matrix/hypervisors.h"
#include "lib/xmalloc.h"

const char *web_table_kind_name(enum web_table_kind kind)
{
	return kind == WEB_TABLE_XEN ? "xen" : "qemu";
}

const char *web_table_kind_title(enum web_table_kind kind)
{
	return kind == WEB_TABLE_XEN ? "Xen" : "QEMU";
}

const char *web_table_code(const char *class)
{
	static const char *const codes[][2] = {
		{ "pass", "ok" }, { "never-passed", "nvr" },
		{ "flaky", "FLK" }, { "infra", "inf" }, { "skip", "skp" },
		{ "blocked", "blk" }, { "regression", "REG" },
		{ "unconfirmed", "new" }, { "still-failing", "bad" },
		{ "fixed", "FIX" },
	};
	size_t i;

	for (i = 0; class && i < ARRAY_SIZE(codes); i++)
		if (!strcmp(codes[i][0], class))
			return codes[i][1];
	return "-";
}

int web_table_version_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			size_t la, lb;
			int c;

			/* By value without overflow: leading zeros off,
			 * then the longer run is the larger number. */
			while (a[0] == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (b[0] == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (la = 0; isdigit((unsigned char)a[la]); la++)
				;
			for (lb = 0; isdigit((unsigned char)b[lb]); lb++)
				;
			if (la != lb)
				return la < lb ? -1 : 1;
			c = memcmp(a, b, la);
			if (c)
				return c < 0 ? -1 : 1;
			a += la;
			b += lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

int web_table_release_cmp(const char *a, const char *b)
{
	int ra = hypervisors_is_release(a), rb = hypervisors_is_release(b);

	if (ra && rb)
		return hypervisors_version_cmp(a, b);
	if (ra != rb)
		return ra ? -1 : 1;
	return strcmp(a, b);
}

/* "4.20" of "4.20.5-pre", "10.0" of "10.0 (Debian 1:10.0.2+ds-2)". */
static char *release_of_version(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (!n)
		return NULL;
	if (v[n] == '.' && isdigit((unsigned char)v[n + 1]))
		n += 1 + strspn(v + n + 1, "0123456789");
	return xstrndup(v, n);
}

/* Where a cell's column goes: its kind and release. */
static void place_cell(const struct matrix *m, const char *cell,
		       const struct record_run *run,
		       enum web_table_kind *kind, char **release)
{
	const struct cell *c = m ? matrix_find(m, cell) : NULL;
	char *r = NULL;

	if (c && cell_is_xen(c)) {
		*kind = WEB_TABLE_XEN;
		*release = xstrdup(c->xen ? c->xen : "unknown");
		return;
	}
	if (c) {
		*kind = WEB_TABLE_QEMU;
		*release = xstrdup(c->qemu);
		return;
	}
	/* Not in the matrix (any more): as its run recorded it. */
	if (*run->xen_version) {
		*kind = WEB_TABLE_XEN;
		r = release_of_version(run->xen_version);
	} else {
		*kind = WEB_TABLE_QEMU;
		r = release_of_version(run->qemu_version);
	}
	*release = r ? r : xstrdup("unknown");
}

void web_table_release(struct web_table *t)
{
	size_t i;

	for (i = 0; i < t->n_kernels; i++) {
		free(t->kernels[i].id);
		free(t->kernels[i].release);
		free(t->kernels[i].package);
		free(t->kernels[i].version);
	}
	for (i = 0; i < t->n_hvs; i++)
		free(t->hvs[i].release);
	for (i = 0; i < t->n_cols; i++)
		free(t->cols[i].cell);
	for (i = 0; t->entries && i < t->n_kernels * t->n_cols; i++) {
		free(t->entries[i].line);
		free(t->entries[i].hv_build);
	}
	free(t->kernels);
	free(t->hvs);
	free(t->cols);
	free(t->entries);
	memset(t, 0, sizeof(*t));
}

static int kernel_cmp(const void *a, const void *b)
{
	const struct web_table_kernel *x = a, *y = b;
	int c = web_table_version_cmp(x->release, y->release);

	if (!c)
		c = web_table_version_cmp(x->version, y->version);
	return c ? c : strcmp(x->id, y->id);
}

/* A column while they are collected: cell, kind, release. */
struct col_key {
	char *cell;
	enum web_table_kind kind;
	char *release;
};

static int col_cmp(const void *a, const void *b)
{
	const struct col_key *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = web_table_release_cmp(x->release, y->release);
	return c ? c : strcmp(x->cell, y->cell);
}

static int find_kernel(const struct web_table *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->n_kernels; i++)
		if (!strcmp(t->kernels[i].id, id))
			return (int)i;
	return -1;
}

static int find_col(const struct web_table *t, const char *cell)
{
	size_t i;

	for (i = 0; i < t->n_cols; i++)
		if (!strcmp(t->cols[i].cell, cell))
			return (int)i;
	return -1;
}

static void add_kernels(struct web_table *t,
			const struct record_web_kernel *kernels, size_t nk)
{
	size_t i, k;

	t->kernels = xcalloc(nk ? nk : 1, sizeof(*t->kernels));
	for (i = 0; i < nk; i++) {
		struct web_table_kernel *w = &t->kernels[t->n_kernels++];

		w->id = xstrdup(kernels[i].id);
		w->release = xstrdup(kernels[i].release);
		w->package = xstrdup(kernels[i].package);
		w->version = xstrdup(kernels[i].version);
		for (k = 0; k < WEB_TABLE_KINDS; k++)
			w->oldest[k] = -1;
	}
	if (t->n_kernels)
		qsort(t->kernels, t->n_kernels, sizeof(*t->kernels),
		      kernel_cmp);
}

/* The columns: every cell a web kernel ran in, sorted, grouped. */
static void add_columns(struct web_table *t, const struct matrix *m,
			const struct record_run *runs, size_t nr)
{
	struct col_key *keys = NULL;
	size_t n = 0, alloc = 0, i, j;

	for (i = 0; i < nr; i++) {
		if (find_kernel(t, runs[i].commit_id) < 0)
			continue;
		for (j = 0; j < n && strcmp(keys[j].cell, runs[i].cell); j++)
			;
		if (j < n)
			continue;
		ALLOC_GROW(keys, n + 1, alloc);
		keys[n].cell = xstrdup(runs[i].cell);
		place_cell(m, runs[i].cell, &runs[i], &keys[n].kind,
			   &keys[n].release);
		n++;
	}
	if (n)
		qsort(keys, n, sizeof(*keys), col_cmp);
	t->cols = xcalloc(n ? n : 1, sizeof(*t->cols));
	t->hvs = xcalloc(n ? n : 1, sizeof(*t->hvs));
	for (i = 0; i < n; i++) {
		struct web_table_hv *h = t->n_hvs ? &t->hvs[t->n_hvs - 1] :
					 NULL;

		if (!h || h->kind != keys[i].kind ||
		    strcmp(h->release, keys[i].release)) {
			h = &t->hvs[t->n_hvs++];
			h->kind = keys[i].kind;
			h->release = keys[i].release;
			keys[i].release = NULL;
			h->col = i;
			h->oldest_kernel = h->newest_kernel = -1;
		}
		h->n_cols++;
		t->cols[i].cell = keys[i].cell;
		t->cols[i].hv = t->n_hvs - 1;
		free(keys[i].release);
	}
	t->n_cols = n;
	free(keys);
}

/*
 * One (kernel, cell)'s runs, oldest first (indices into runs): the class
 * of those of the newest run's hypervisor build.
 */
static int classify(struct web_table_entry *e, const struct record_run *runs,
		    const size_t *mine, size_t n, struct strbuf *err)
{
	const char *build = runs[mine[n - 1]].hv_build;
	struct compare_run *cr = xcalloc(n, sizeof(*cr));
	struct compare_commit commit = { "release", -1, cr, 0 };
	struct compare_input in = { &commit, 1, COMPARE_CONFIRM_DEFAULT };
	struct compare_result res = { 0 };
	size_t i, pick = mine[n - 1];
	const char **seen = xcalloc(n, sizeof(*seen));
	size_t n_seen = 0;
	int ret = -1;

	for (i = 0; i < n; i++) {
		const struct record_run *run = &runs[mine[i]];
		size_t s;

		for (s = 0; s < n_seen && strcmp(seen[s], run->hv_build); s++)
			;
		if (s == n_seen)
			seen[n_seen++] = run->hv_build;
		if (strcmp(run->hv_build, build))
			continue;
		cr[commit.n_runs++].verdict = run->verdict;
		if (run->verdict == VERDICT_FAIL)
			pick = mine[i];
	}
	if (compare_cell(&in, &res, err) < 0)
		goto out;
	e->class = compare_class_name(res.entries[0].class);
	e->verdict = runs[pick].verdict;
	e->run_id = runs[pick].id;
	e->line = xstrdup(runs[pick].line);
	e->hv_build = xstrdup(build);
	e->runs = (unsigned)commit.n_runs;
	e->builds = (unsigned)n_seen;
	ret = 0;
out:
	compare_result_release(&res);
	free(seen);
	free(cr);
	return ret;
}

static void add_windows(struct web_table *t)
{
	size_t k, h;

	for (h = 0; h < t->n_hvs; h++) {
		struct web_table_hv *hv = &t->hvs[h];

		for (k = 0; k < t->n_kernels; k++) {
			int *oldest = &t->kernels[k].oldest[hv->kind];

			if (!web_table_works(t, k, h))
				continue;
			if (hv->oldest_kernel < 0)
				hv->oldest_kernel = (int)k;
			hv->newest_kernel = (int)k;
			if (*oldest < 0)
				*oldest = (int)h;
		}
	}
}

int web_table_build(struct web_table *t, const struct matrix *m,
		    const struct record_web_kernel *kernels, size_t nk,
		    const struct record_run *runs, size_t nr,
		    struct strbuf *err)
{
	size_t *order = xcalloc(nr ? nr : 1, sizeof(*order));
	size_t *at, i, cell, k;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	add_kernels(t, kernels, nk);
	add_columns(t, m, runs, nr);
	t->entries = xcalloc(t->n_kernels * t->n_cols + 1,
			     sizeof(*t->entries));
	/* Runs bucketed by (kernel, cell), each bucket oldest first. */
	at = xcalloc(t->n_kernels * t->n_cols + 1, sizeof(*at));
	for (i = 0; i < nr; i++) {
		int kk = find_kernel(t, runs[i].commit_id);

		if (kk >= 0)
			at[(size_t)kk * t->n_cols +
			   (size_t)find_col(t, runs[i].cell)]++;
	}
	for (i = 1; i <= t->n_kernels * t->n_cols; i++)
		at[i] += at[i - 1];
	/* Backwards, placing from each bucket's end: stable order. */
	for (i = nr; i-- > 0;) {
		int kk = find_kernel(t, runs[i].commit_id);

		if (kk >= 0)
			order[--at[(size_t)kk * t->n_cols +
				   (size_t)find_col(t, runs[i].cell)]] = i;
	}
	/* The runs may come in any order: each bucket by time, then id. */
	for (k = 0; k < t->n_kernels; k++)
		for (cell = 0; cell < t->n_cols; cell++) {
			size_t b = k * t->n_cols + cell;
			size_t lo = at[b], hi = at[b + 1], x, y;

			for (x = lo + 1; x < hi; x++)
				for (y = x; y > lo; y--) {
					const struct record_run *p =
						&runs[order[y - 1]];
					const struct record_run *q =
						&runs[order[y]];
					size_t tmp;

					if (p->started_at < q->started_at ||
					    (p->started_at == q->started_at &&
					     p->id < q->id))
						break;
					tmp = order[y];
					order[y] = order[y - 1];
					order[y - 1] = tmp;
				}
			if (hi > lo && classify(&t->entries[b], runs,
						order + lo, hi - lo, err) < 0)
				goto out;
		}
	add_windows(t);
	ret = 0;
out:
	free(at);
	free(order);
	return ret;
}

int web_table_load(struct web_table *t, struct record *r,
		   const struct matrix *m, struct strbuf *err)
{
	struct record_web_kernel *k = NULL;
	struct record_run *runs = NULL;
	size_t nk = 0, nr = 0;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	if (!r)
		return 0;
	if (record_web_kernels_list(r, &k, &nk, err) < 0 ||
	    record_web_runs(r, &runs, &nr, err) < 0)
		goto out;
	ret = web_table_build(t, m, k, nk, runs, nr, err);
out:
	record_web_kernels_free(k, nk);
	record_runs_free(runs, nr);
	return ret;
}

const struct web_table_entry *web_table_entry(const struct web_table *t,
					      size_t kernel, size_t col)
{
	const struct web_table_entry *e =
		&t->entries[kernel * t->n_cols + col];

	return e->class ? e : NULL;
}

int web_table_works(const struct web_table *t, size_t k, size_t h)
{
	const struct web_table_hv *hv = &t->hvs[h];
	size_t c;

	for (c = hv->col; c < hv->col + hv->n_cols; c++) {
		const struct web_table_entry *e = web_table_entry(t, k, c);

		if (!e || strcmp(e->class, "pass"))
			return 0;
	}
	return hv->n_cols > 0;
}

static void key_str_or_null(struct json *js, const char *key, const char *s)
{
	json_key(js, key);
	if (s)
		json_str(js, s);
	else
		json_null(js);
}

void web_table_to_json(const struct web_table *t, struct json *js)
{
	size_t k, h, c, kind;

	json_object_begin(js);
	json_key(js, "kernels");
	json_array_begin(js);
	for (k = 0; k < t->n_kernels; k++) {
		const struct web_table_kernel *w = &t->kernels[k];

		json_object_begin(js);
		json_key_str(js, "release", w->release);
		json_key_str(js, "package", w->package);
		json_key_str(js, "version", w->version);
		json_key_str(js, "id", w->id);
		json_key(js, "oldest_hypervisor");
		json_object_begin(js);
		for (kind = 0; kind < WEB_TABLE_KINDS; kind++)
			key_str_or_null(js, web_table_kind_name(kind),
					w->oldest[kind] < 0 ? NULL :
					t->hvs[w->oldest[kind]].release);
		json_object_end(js);
		json_object_end(js);
	}
	json_array_end(js);
	json_key(js, "hypervisors");
	json_array_begin(js);
	for (h = 0; h < t->n_hvs; h++) {
		const struct web_table_hv *hv = &t->hvs[h];

		json_object_begin(js);
		json_key_str(js, "kind", web_table_kind_name(hv->kind));
		json_key_str(js, "release", hv->release);
		json_key(js, "cells");
		json_array_begin(js);
		for (c = hv->col; c < hv->col + hv->n_cols; c++)
			json_str(js, t->cols[c].cell);
		json_array_end(js);
		key_str_or_null(js, "oldest_kernel", hv->oldest_kernel < 0 ?
				NULL : t->kernels[hv->oldest_kernel].release);
		key_str_or_null(js, "newest_kernel", hv->newest_kernel < 0 ?
				NULL : t->kernels[hv->newest_kernel].release);
		json_object_end(js);
	}
	json_array_end(js);
	json_key(js, "entries");
	json_array_begin(js);
	for (k = 0; k < t->n_kernels; k++)
		for (c = 0; c < t->n_cols; c++) {
			const struct web_table_entry *e =
				web_table_entry(t, k, c);
			const struct web_table_hv *hv =
				&t->hvs[t->cols[c].hv];

			if (!e)
				continue;
			json_object_begin(js);
			json_key_str(js, "kernel", t->kernels[k].id);
			json_key_str(js, "kernel_release",
				     t->kernels[k].release);
			json_key_str(js, "cell", t->cols[c].cell);
			json_key_str(js, "kind",
				     web_table_kind_name(hv->kind));
			json_key_str(js, "release", hv->release);
			json_key_str(js, "class", e->class);
			json_key_str(js, "verdict", verdict_name(e->verdict));
			json_key_int(js, "run_id", e->run_id);
			json_key_str(js, "line", e->line);
			json_key_str(js, "hv_build", e->hv_build);
			json_key_int(js, "runs", e->runs);
			json_key_int(js, "builds", e->builds);
			json_object_end(js);
		}
	json_array_end(js);
	json_object_end(js);
}
