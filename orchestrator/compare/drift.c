/*
 * drift: see drift.h; a fingerprint parsed, made canonical, summed over a
 * commit's runs and compared with another commit's. Pure: strings in,
 * changes out; it never reads the store and never decides what to run.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/drift.h"
#include "lib/json.h"
#include "lib/xmalloc.h"

static const char *const field_names[DRIFT_N_FIELDS] = {
	[DRIFT_HYPERVISOR] = "hypervisor",
	[DRIFT_GUEST_TYPE] = "guest_type",
	[DRIFT_CLOCKSOURCE] = "clocksource",
	[DRIFT_FEATURES] = "features",
	[DRIFT_CPU_FLAGS] = "cpu_flags",
};

const char *drift_field_name(enum drift_field f)
{
	return (unsigned)f < DRIFT_N_FIELDS ? field_names[f] : "?";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void drift_fp_release(struct drift_fp *fp)
{
	size_t i, k;

	for (i = 0; i < DRIFT_N_SCALARS; i++)
		free(fp->value[i]);
	for (i = 0; i < DRIFT_N_SETS; i++) {
		for (k = 0; k < fp->n_set[i]; k++)
			free(fp->set[i][k]);
		free(fp->set[i]);
	}
	memset(fp, 0, sizeof(*fp));
}

/* A set field: an array of strings (a list as the guest printed it). */
static int parse_set(struct drift_fp *fp, size_t i,
		     const struct json_value *v, struct strbuf *err)
{
	size_t k, n = 0;

	if (v->type != JSON_ARRAY) {
		strbuf_addf(err, "fingerprint: %s is not an array",
			    field_names[DRIFT_N_SCALARS + i]);
		return -1;
	}
	fp->set[i] = xcalloc(v->n + 1, sizeof(char *));
	for (k = 0; k < v->n; k++) {
		if (v->items[k].type != JSON_STRING) {
			strbuf_addf(err, "fingerprint: %s holds a non-string",
				    field_names[DRIFT_N_SCALARS + i]);
			fp->n_set[i] = n;
			return -1;
		}
		if (*v->items[k].string)
			fp->set[i][n++] = xstrdup(v->items[k].string);
	}
	qsort(fp->set[i], n, sizeof(char *), cmp_str);
	/* Unique: a flag the guest listed twice is one flag. */
	for (k = 0; k + 1 < n; k++)
		if (!strcmp(fp->set[i][k], fp->set[i][k + 1])) {
			free(fp->set[i][k + 1]);
			memmove(&fp->set[i][k + 1], &fp->set[i][k + 2],
				(n - k - 2) * sizeof(char *));
			n--;
			k--;
		}
	fp->n_set[i] = n;
	fp->has_set[i] = 1;
	return 0;
}

int drift_fp_parse(struct drift_fp *fp, const char *json,
		   struct strbuf *err)
{
	struct json_value v = { 0 };
	int ret = -1, any = 0;
	size_t i;

	memset(fp, 0, sizeof(*fp));
	if (!json || !*json)
		return 0;
	if (json_parse(&v, json, strlen(json), err) < 0)
		goto out;
	if (v.type != JSON_OBJECT) {
		strbuf_addstr(err, "fingerprint: not a JSON object");
		goto out;
	}
	for (i = 0; i < DRIFT_N_SCALARS; i++) {
		const struct json_value *f = json_get(&v, field_names[i]);

		if (!f || f->type == JSON_NULL)
			continue;
		if (f->type != JSON_STRING) {
			strbuf_addf(err, "fingerprint: %s is not a string",
				    field_names[i]);
			goto out;
		}
		if (!*f->string)
			continue;
		/* See drift.h: the same counter, caught mid-calibration. */
		fp->value[i] = xstrdup(i == DRIFT_CLOCKSOURCE &&
				       !strcmp(f->string, "tsc-early") ?
				       "tsc" : f->string);
		any = 1;
	}
	for (i = 0; i < DRIFT_N_SETS; i++) {
		const struct json_value *f =
			json_get(&v, field_names[DRIFT_N_SCALARS + i]);

		if (!f || f->type == JSON_NULL)
			continue;
		if (parse_set(fp, i, f, err) < 0)
			goto out;
		any = 1;
	}
	ret = any;
out:
	json_value_release(&v);
	return ret;
}

char *drift_fp_canonical(const char *json)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct drift_fp fp;
	const char *sep = "";
	size_t i, k;

	if (drift_fp_parse(&fp, json, &err) <= 0) {
		drift_fp_release(&fp);
		strbuf_release(&err);
		return NULL;
	}
	strbuf_release(&err);
	strbuf_addch(&sb, '{');
	for (i = 0; i < DRIFT_N_SCALARS; i++) {
		if (!fp.value[i])
			continue;
		strbuf_addf(&sb, "%s\"%s\":", sep, field_names[i]);
		strbuf_add_json_str(&sb, fp.value[i]);
		sep = ",";
	}
	for (i = 0; i < DRIFT_N_SETS; i++) {
		if (!fp.has_set[i])
			continue;
		strbuf_addf(&sb, "%s\"%s\":[", sep,
			    field_names[DRIFT_N_SCALARS + i]);
		for (k = 0; k < fp.n_set[i]; k++) {
			if (k)
				strbuf_addch(&sb, ',');
			strbuf_add_json_str(&sb, fp.set[i][k]);
		}
		strbuf_addch(&sb, ']');
		sep = ",";
	}
	strbuf_addch(&sb, '}');
	drift_fp_release(&fp);
	return strbuf_detach(&sb, NULL);
}

void drift_summary_init(struct drift_summary *s)
{
	memset(s, 0, sizeof(*s));
}

void drift_summary_release(struct drift_summary *s)
{
	size_t i;

	for (i = 0; i < DRIFT_N_SETS; i++)
		free(s->set[i]);
	memset(s, 0, sizeof(*s));
}

/* Merge one run's sorted set into the counts (both sorted). */
static void add_set(struct drift_summary *s, size_t i, char *const *set,
		    size_t n)
{
	struct drift_count *old = s->set[i], *v;
	size_t n_old = s->n_set[i], a = 0, b = 0, m = 0;

	if (!s->set_runs[i]) {	/* the first: every element once */
		v = xcalloc(n + 1, sizeof(*v));
		for (m = 0; m < n; m++) {
			v[m].name = set[m];
			v[m].runs = 1;
		}
		free(old);
		s->set[i] = v;
		s->n_set[i] = n;
		s->set_runs[i] = 1;
		return;
	}
	v = xcalloc(n_old + n + 1, sizeof(*v));
	while (a < n_old || b < n) {
		int c = a == n_old ? 1 : b == n ? -1 :
			strcmp(old[a].name, set[b]);

		if (c < 0) {
			v[m++] = old[a++];
		} else if (c > 0) {
			v[m].name = set[b++];
			v[m++].runs = 1;
		} else {
			v[m] = old[a++];
			v[m++].runs++;
			b++;
		}
	}
	free(old);
	s->set[i] = v;
	s->n_set[i] = m;
	s->set_runs[i]++;
}

void drift_summary_add(struct drift_summary *s, const struct drift_fp *fp)
{
	size_t i;

	s->runs++;
	for (i = 0; i < DRIFT_N_SCALARS; i++) {
		if (!fp->value[i])
			continue;
		if (!s->value[i])
			s->value[i] = fp->value[i];
		else if (strcmp(s->value[i], fp->value[i]))
			s->noise[i] = 1;
	}
	for (i = 0; i < DRIFT_N_SETS; i++)
		if (fp->has_set[i])
			add_set(s, i, fp->set[i], fp->n_set[i]);
}

static void add_change(struct drift_changes *out, enum drift_field f,
		       const char *before, const char *after)
{
	struct drift_change *c;

	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	c = &out->v[out->n++];
	c->field = f;
	c->before = before ? xstrdup(before) : NULL;
	c->after = after ? xstrdup(after) : NULL;
}

/*
 * Elements in every run of one side that no run of the other has: gone
 * (in `a` = before) or added (in `a` = after). An element some runs of
 * either side have and others not is noise: left out.
 */
static void diff_set(const struct drift_summary *before,
		     const struct drift_summary *after, size_t i,
		     struct drift_changes *out)
{
	const struct drift_count *x = before->set[i], *y = after->set[i];
	size_t nx = before->n_set[i], ny = after->n_set[i], a = 0, b = 0;
	enum drift_field f = (enum drift_field)(DRIFT_N_SCALARS + i);

	if (!before->set_runs[i] || !after->set_runs[i])
		return;
	while (a < nx || b < ny) {
		int c = a == nx ? 1 : b == ny ? -1 :
			strcmp(x[a].name, y[b].name);

		if (c < 0) {
			if (x[a].runs == before->set_runs[i])
				add_change(out, f, x[a].name, NULL);
			a++;
		} else if (c > 0) {
			if (y[b].runs == after->set_runs[i])
				add_change(out, f, NULL, y[b].name);
			b++;
		} else {
			a++;
			b++;
		}
	}
}

void drift_diff(const struct drift_summary *before,
		const struct drift_summary *after, struct drift_changes *out)
{
	size_t i;

	for (i = 0; i < DRIFT_N_SCALARS; i++) {
		if (!before->value[i] || !after->value[i] ||
		    before->noise[i] || after->noise[i] ||
		    !strcmp(before->value[i], after->value[i]))
			continue;
		add_change(out, (enum drift_field)i, before->value[i],
			   after->value[i]);
	}
	for (i = 0; i < DRIFT_N_SETS; i++)
		diff_set(before, after, i, out);
}

void drift_changes_release(struct drift_changes *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].before);
		free(c->v[i].after);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void add_json_or_null(struct strbuf *out, const char *s)
{
	if (s)
		strbuf_add_json_str(out, s);
	else
		strbuf_addstr(out, "null");
}

void drift_changes_key(const struct drift_changes *c, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "drift:");
	for (i = 0; i < c->n; i++) {
		strbuf_addf(out, "%s%s:", i ? ";" : "",
			    drift_field_name(c->v[i].field));
		add_json_or_null(out, c->v[i].before);
		strbuf_addch(out, '>');
		add_json_or_null(out, c->v[i].after);
	}
}

void drift_changes_words(const struct drift_changes *c, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct drift_change *x = &c->v[i];

		strbuf_addf(out, "%s%s: ", i ? "; " : "",
			    drift_field_name(x->field));
		if (x->before && x->after)
			strbuf_addf(out, "%s -> %s", x->before, x->after);
		else if (x->before)
			strbuf_addf(out, "%s gone", x->before);
		else
			strbuf_addf(out, "%s added", x->after);
	}
}

static int in_set(const struct drift_fp *fp, size_t i, const char *name)
{
	return bsearch(&name, fp->set[i], fp->n_set[i], sizeof(char *),
		       cmp_str) != NULL;
}

enum drift_side drift_side_of(const struct drift_fp *fp,
			      const struct drift_changes *c)
{
	unsigned before = 0, after = 0;
	size_t k;

	for (k = 0; k < c->n; k++) {
		const struct drift_change *x = &c->v[k];
		size_t i = (size_t)x->field;

		if (i < DRIFT_N_SCALARS) {
			if (!fp->value[i])
				return DRIFT_UNKNOWN;
			if (!strcmp(fp->value[i], x->before))
				before++;
			else if (!strcmp(fp->value[i], x->after))
				after++;
			continue;
		}
		i -= DRIFT_N_SCALARS;
		if (!fp->has_set[i])
			return DRIFT_UNKNOWN;
		/* Gone: the before side has it; added: the after side. */
		if (in_set(fp, i, x->before ? x->before : x->after) ==
		    (x->before != NULL))
			before++;
		else
			after++;
	}
	if (before == c->n)
		return DRIFT_BEFORE;
	if (after == c->n)
		return DRIFT_AFTER;
	return DRIFT_NEITHER;
}
