/*
 * publish: the static dashboard (v2), the driver. The runs, compact
 * (regressions_input: ids into one string pool, tens of bytes a run), come
 * from the cache of the last publish plus the runs recorded since
 * (publish-cache.c), or from one scan of the runs table; the regressions
 * and every run's class are computed from them in memory
 * (regressions_compute_input: never recomputed here). They give:
 *
 *   index.html          open regressions, then the newest 100 commits
 *   grid/N.html         commits x cells, 100 commits a page (1: oldest)
 *   regressions.html    open first (first bad, last good, decisive line,
 *                       bisection cost), then fixed (fixing commit), flaky
 *   releases.html       hypervisor releases (from each cell's config) as
 *                       rows, the newest commits' classes across them
 *   cell/NAME.html      a cell's history, as spans of one class
 *   commit/KEY.html     every cell, every run of one commit
 *   run/ID.html, .sh    a run with a log: its details, the command line,
 *                       reproduce.sh, the console log with line anchors
 *                       and the decisive line highlighted (#decisive)
 *
 * Incremental: .manifest in the site holds, per page, a key of the data
 * it was made from (run ids, classes, or its text). A page whose key is
 * unchanged is neither rendered nor written; a run page is rendered again
 * only when the class it shows changes. A page is a page: no script,
 * nothing from the network. The files: publish-html.c (frame, links),
 * publish-grid.c, publish-pages.c, publish-log.c, publish-cache.c.
 *
 * Every string from the store (subjects, cell names, reasons, console
 * lines, paths) is user input and goes through strbuf_add_html; file
 * names made from names go through path_part. This module only reads the
 * store.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "lib/fsutil.h"
#include "matrix/matrix.h"
#include "lib/paths.h"
#include "publish/publish.h"
#include "publish/publish-priv.h"
#include "compare/regressions.h"
#include "lib/xmalloc.h"

#define MANIFEST ".manifest"
#define VERDICT_LOOKS 16	/* more than enum verdict has */

/* ---- the model ---- */

/* Each commit of a tree with runs, by its id's pool string (a commit no
 * run names is not in the pool and needs no row), per tree: trees that
 * share history share commit ids. */
static int load_commits(struct site *s, struct strbuf *err)
{
	size_t i, k, t, n = s->in.n_strs + 1;

	for (i = 0; i < s->in.n_runs; i++) {
		const struct regressions_tree *tr;
		uint32_t tree = s->in.runs[i].tree;

		if (tree && (i == 0 || tree != s->in.runs[i - 1].tree) &&
		    regressions_input_commits(&s->in, s->r, tree, &tr,
					      err) < 0)
			return -1;
	}
	s->commit_of = xcalloc(s->in.n_trees * n + 1, sizeof(*s->commit_of));
	s->tree_at = xcalloc(n, sizeof(*s->tree_at));
	for (t = 0; t < s->in.n_trees; t++) {
		const struct regressions_tree *tr = &s->in.trees[t];

		s->tree_at[tr->tree] = (uint32_t)t;
		for (k = 0; k < tr->n; k++) {
			uint32_t id = regressions_input_lookup(&s->in,
							 tr->commits[k].id);

			if (id != UINT32_MAX)
				s->commit_of[t * n + id] = &tr->commits[k];
		}
	}
	return 0;
}

/* The hash of what same_row compares. */
static uint64_t row_hash(uint32_t commit, uint32_t tree, uint32_t build,
			 uint32_t kernel)
{
	uint64_t h;

	if (!commit)
		tree = build = 0;
	else
		kernel = 0;
	h = ((uint64_t)tree << 32 | commit) * 0x9e3779b97f4a7c15ULL;
	return (h ^ ((uint64_t)build << 32 | kernel)) * 0xff51afd7ed558ccdULL;
}

static void new_row(struct site *s, const struct regressions_run *run)
{
	const struct record_commit *c;
	struct strbuf page = STRBUF_INIT;
	struct row *row;
	const char *tree = s->in.strs[run->tree];
	const char *commit = s->in.strs[run->commit];
	const char *build = s->in.strs[run->build];

	ALLOC_GROW(s->rows, s->nrows + 1, s->rows_alloc);
	row = &s->rows[s->nrows++];
	memset(row, 0, sizeof(*row));
	c = *commit ? s->commit_of[s->tree_at[run->tree] *
				   (s->in.n_strs + 1) + run->commit] : NULL;
	row->tree = tree;
	row->commit = commit;
	row->build = build;
	row->kernel = s->in.strs[run->kernel];
	row->tree_id = run->tree;
	row->commit_id = run->commit;
	row->build_id = run->build;
	row->kernel_id = run->kernel;
	row->subject = c ? c->subject : "";
	row->author = c ? c->author : "";
	row->time = c && c->time ? c->time : (int64_t)run->started_at;
	strbuf_addstr(&page, "commit/");
	if (*commit) {
		publish_path_part(&page, tree);
		strbuf_addch(&page, '~');
		publish_path_part(&page, build);
		strbuf_addch(&page, '~');
		publish_path_part(&page, commit);
	} else {
		strbuf_addstr(&page, "k-");
		publish_path_part(&page, row->kernel);
	}
	strbuf_addstr(&page, ".html");
	row->page = strbuf_detach(&page, NULL);
}

static int same_row(const struct row *row, const struct regressions_run *run)
{
	if (row->commit_id != run->commit)
		return 0;
	return run->commit ? row->tree_id == run->tree &&
			     row->build_id == run->build :
			     row->kernel_id == run->kernel;
}

/* Pass one, every run in id order: its row (rows in the order of their
 * first runs) and its cell (cells in the order first seen). */
static void assign_rows(struct site *s)
{
	struct rowmap map = { NULL, 1024 };
	size_t i, last = 0;

	free(s->rows_by_key.slots);

	s->run_row = xcalloc(s->in.n_runs + 1, sizeof(*s->run_row));
	s->cell_of = xcalloc(s->in.n_strs + 1, sizeof(*s->cell_of));
	map.slots = xcalloc(map.cap, sizeof(*map.slots));
	for (i = 0; i < s->in.n_runs; i++) {
		const struct regressions_run *run = &s->in.runs[i];
		size_t slot;

		if (!s->cell_of[run->cell]) {
			ALLOC_GROW(s->cells, s->ncells + 1, s->cells_alloc);
			s->cells[s->ncells++] = s->in.strs[run->cell];
			s->cell_of[run->cell] = (uint32_t)s->ncells;
		}
		/* A job's runs come one after the other: the last row
		 * first. */
		if (s->nrows && same_row(&s->rows[last], run)) {
			s->run_row[i] = (uint32_t)last;
			continue;
		}
		if (2 * (s->nrows + 1) > map.cap) {
			size_t k;

			free(map.slots);
			map.cap *= 2;
			map.slots = xcalloc(map.cap, sizeof(*map.slots));
			for (k = 0; k < s->nrows; k++) {
				const struct row *r = &s->rows[k];

				slot = row_hash(r->commit_id, r->tree_id,
						r->build_id, r->kernel_id) &
				       (map.cap - 1);
				while (map.slots[slot])
					slot = (slot + 1) & (map.cap - 1);
				map.slots[slot] = (uint32_t)k + 1;
			}
		}
		slot = row_hash(run->commit, run->tree, run->build,
				run->kernel) & (map.cap - 1);
		while (map.slots[slot] &&
		       !same_row(&s->rows[map.slots[slot] - 1], run))
			slot = (slot + 1) & (map.cap - 1);
		if (!map.slots[slot]) {
			new_row(s, run);
			map.slots[slot] = (uint32_t)s->nrows;
		}
		last = map.slots[slot] - 1;
		s->run_row[i] = (uint32_t)last;
	}
	s->rows_by_key = map;
}

const struct row *publish_find_row(const struct site *s, const char *tree,
				   const char *build, const char *commit)
{
	struct regressions_run key = { 0 };
	size_t slot;

	key.tree = regressions_input_lookup(&s->in, tree);
	key.build = regressions_input_lookup(&s->in, build);
	key.commit = regressions_input_lookup(&s->in, commit);
	if (key.tree == UINT32_MAX || key.build == UINT32_MAX ||
	    key.commit == UINT32_MAX || !key.commit || !s->rows_by_key.cap)
		return NULL;
	slot = row_hash(key.commit, key.tree, key.build, 0) &
	       (s->rows_by_key.cap - 1);
	for (; s->rows_by_key.slots[slot];
	     slot = (slot + 1) & (s->rows_by_key.cap - 1))
		if (same_row(&s->rows[s->rows_by_key.slots[slot] - 1], &key))
			return &s->rows[s->rows_by_key.slots[slot] - 1];
	return NULL;
}

/* Pass two, row by row: the runs of each row, its entries, the grid's. */
static void build_entries(struct site *s)
{
	const struct look *verdict_looks[VERDICT_LOOKS], *last_look = NULL;
	const char *last_cls = NULL;
	size_t i, k, *fill;

	for (i = 0; i < VERDICT_LOOKS; i++)
		verdict_looks[i] = publish_look_of(publish_verdict_look(
							(enum verdict)i));
	for (i = 0; i < s->in.n_runs; i++)
		s->rows[s->run_row[i]].n_runs++;
	for (i = 1; i < s->nrows; i++)
		s->rows[i].run_at = s->rows[i - 1].run_at +
				    s->rows[i - 1].n_runs;
	s->row_runs = xcalloc(s->in.n_runs + 1, sizeof(*s->row_runs));
	fill = xcalloc(s->nrows + 1, sizeof(*fill));
	for (i = 0; i < s->in.n_runs; i++) {
		struct row *row = &s->rows[s->run_row[i]];

		s->row_runs[row->run_at + fill[s->run_row[i]]++] =
			(uint32_t)i;
	}
	free(fill);
	/* At most an entry a run: allocated once, only the used part is
	 * ever touched. */
	s->ev = xmalloc((s->in.n_runs + 1) * sizeof(*s->ev));
	s->dense = xmalloc((s->nrows * s->ncells + 1) * sizeof(*s->dense));
	memset(s->dense, 0xff, (s->nrows * s->ncells + 1) *
	       sizeof(*s->dense));
	for (k = 0; k < s->nrows; k++) {
		struct row *row = &s->rows[k];
		int32_t *d = &s->dense[k * s->ncells];

		row->ev = s->nev;
		for (i = 0; i < row->n_runs; i++) {
			size_t ri = s->row_runs[row->run_at + i];
			const struct regressions_run *run = &s->in.runs[ri];
			uint32_t cell = s->cell_of[run->cell] - 1;
			struct entry *e;

			if (d[cell] < 0) {
				const char *cls = *row->commit ?
						  s->run_class[ri] : NULL;

				/* Class names are compare.c's constants:
				 * the last one's look first. */
				if (cls && cls != last_cls) {
					last_cls = cls;
					last_look = publish_look_of(cls);
				}

				d[cell] = (int32_t)s->nev;
				e = &s->ev[s->nev++];
				memset(e, 0, sizeof(*e));
				e->cell = cell;
				e->look = cls ? last_look : NULL;
				e->have_class = cls != NULL;
				row->n++;
			}
			e = &s->ev[d[cell]];
			/* The newest run by its start (ids follow the
			 * ends). */
			if (!e->newest || run->started_at >= e->newest_t) {
				e->newest = run->id;
				e->newest_t = run->started_at;
				e->verdict = run->verdict;
				/* `hvmatrix boot` rows have no history: its
				 * verdict. */
				if (!*row->commit || !e->look ||
				    !e->have_class)
					e->look = verdict_looks[run->verdict %
						VERDICT_LOOKS];
			}
			if (e->runs < UINT16_MAX)
				e->runs++;
		}
	}
}

/* Pass three: the run pages (they show the final class), the links. */
static int run_pages(struct site *s, struct strbuf *err)
{
	size_t i, k;

	s->has_page = xcalloc(s->in.n_runs + 1, 1);
	for (k = 0; k < s->nrows; k++) {
		const struct row *row = &s->rows[k];

		for (i = 0; i < row->n_runs; i++) {
			size_t ri = s->row_runs[row->run_at + i];
			const struct regressions_run *run = &s->in.runs[ri];
			struct entry *e = &s->ev[s->dense[k * s->ncells +
						 s->cell_of[run->cell] - 1]];
			int rc;

			if (!run->has_log)
				continue;
			rc = publish_run_page(s, ri, row, e->look, err);
			if (rc < 0)
				return -1;
			s->has_page[ri] = rc > 0;
			/* A later run wins, but a FAIL stays linked over a
			 * later run that did not fail. */
			if (rc && (!e->link || run->verdict == VERDICT_FAIL ||
				   !e->link_fail)) {
				e->link = run->id;
				e->link_fail = run->verdict == VERDICT_FAIL;
			}
		}
	}
	return 0;
}

static int manifest_load(struct site *s)
{
	struct strbuf text = STRBUF_INIT;
	char *path = xstrfmt("%s/" MANIFEST, s->out), *p, *nl;

	if (fsutil_read(path, &text) == 0) {
		for (p = text.buf; *p; p = nl + 1) {
			char *sp;
			size_t i;

			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = '\0';
			sp = strchr(p, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			i = publish_manifest_put(&s->manifest, sp + 1);
			s->manifest.keys[i] = strtoull(p, NULL, 16);
		}
	}
	free(path);
	strbuf_release(&text);
	return 0;
}

/* Written last, like a page (no fsync): lost, the next publish renders
 * every page again. In the index's order, which is its own from one
 * publish to the next: the same pages give the same file. */
static int manifest_save(struct site *s, struct strbuf *err)
{
	const struct manifest *m = &s->manifest;
	struct strbuf text = STRBUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < m->index.cap; i++) {
		uint32_t e = m->index.slots[i];

		if (e && m->seen[e - 1])
			strbuf_addf(&text, "%016llx %s\n",
				    (unsigned long long)m->keys[e - 1],
				    m->pages[e - 1]);
	}
	rc = publish_write(s, MANIFEST, text.buf, text.len, err);
	if (!rc)
		s->written--;
	strbuf_release(&text);
	return rc;
}

/* The style sheet, written only when it changed. */
static int copy_style(struct site *s, const char *from, struct strbuf *err)
{
	struct strbuf want = STRBUF_INIT, have = STRBUF_INIT;
	char *to = xstrfmt("%s/style.css", s->out);
	int rc = fsutil_read(from, &want), ret = -1;

	if (rc < 0) {
		strbuf_addf(err, "%s: cannot read: %s", from, strerror(-rc));
		goto out;
	}
	if (fsutil_read(to, &have) == 0 && have.len == want.len &&
	    !memcmp(have.buf, want.buf, want.len)) {
		ret = 0;
		goto out;
	}
	ret = publish_write(s, "style.css", want.buf, want.len, err);
out:
	strbuf_release(&want);
	strbuf_release(&have);
	free(to);
	return ret;
}

const char *publish_web_dir(void)
{
	const char *env = getenv("HVMATRIX_WEB");

	if (env && *env)
		return env;
	return paths_web_dir();
}

static void site_release(struct site *s)
{
	size_t i;

	regressions_release(&s->rs);
	if (s->have_m)
		matrix_release(&s->m);
	publish_manifest_release(&s->manifest);
	free(s->commit_of);
	free(s->tree_at);
	free(s->cells);
	free(s->cell_of);
	for (i = 0; i < s->nrows; i++)
		free(s->rows[i].page);
	free(s->rows);
	free(s->rows_by_key.slots);
	free(s->run_row);
	free(s->row_runs);
	free(s->ev);
	free(s->dense);
	free(s->has_page);
	free(s->run_class);
	regressions_input_release(&s->in);
	strbuf_release(&s->tpl);
	free(s->generated);
}

/* HVMATRIX_DEBUG_PUBLISH=1: where a publish spends its time. */
static void debug_time(const char *what)
{
	static struct timespec last;
	struct timespec now;

	if (!getenv("HVMATRIX_DEBUG_PUBLISH"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec)
		fprintf(stderr, "publish: %s %.3f s\n", what,
			(double)(now.tv_sec - last.tv_sec) +
			(now.tv_nsec - last.tv_nsec) / 1e9);
	last = now;
}

static int make_dirs(const char *out, struct strbuf *err)
{
	static const char *const dirs[] = { "grid", "cell", "commit", "run" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *d = xstrfmt("%s/%s", out, dirs[i]);
		int rc = fsutil_mkdir_p(d, 0755);

		if (rc < 0) {
			strbuf_addf(err, "%s: cannot create: %s", d,
				    strerror(-rc));
			free(d);
			return -1;
		}
		free(d);
	}
	return 0;
}

int publish_dashboard(struct record *r, const char *out_dir,
		      char **index_path, struct strbuf *err)
{
	struct site s = { 0 };
	size_t i;
	struct strbuf gen = STRBUF_INIT, merr = STRBUF_INIT;
	const char *web = publish_web_dir();
	char *abs_out = NULL, *from = NULL;
	int rc, ret = -1, full = 1;

	if (index_path)
		*index_path = NULL;
	regressions_input_init(&s.in);
	s.r = r;
	rc = fsutil_mkdir_p(out_dir, 0755);
	if (rc < 0) {
		strbuf_addf(err, "%s: cannot create: %s", out_dir,
			    strerror(-rc));
		goto out;
	}
	abs_out = realpath(out_dir, NULL);
	if (!abs_out) {
		strbuf_addf(err, "%s: %s", out_dir, strerror(errno));
		goto out;
	}
	s.out = abs_out;
	if (make_dirs(abs_out, err) < 0)
		goto out;
	from = xstrfmt("%s/page.html.in", web);
	rc = fsutil_read(from, &s.tpl);
	if (rc < 0) {
		strbuf_addf(err, "%s: cannot read the template: %s (set "
			    "HVMATRIX_WEB to the web/ directory)", from,
			    strerror(-rc));
		goto out;
	}
	free(from);
	from = xstrfmt("%s/style.css", web);
	if (copy_style(&s, from, err) < 0)
		goto out;
	strbuf_add_utc(&gen, (double)time(NULL));
	s.generated = strbuf_detach(&gen, NULL);
	manifest_load(&s);

	/* The matrix of the newest run: its cells' releases, the trees'
	 * and cells' confirm. A matrix gone or broken since only loses
	 * those (the defaults apply). */
	{
		struct record_run *nr = NULL;
		size_t nn = 0;

		if (record_list_recent_runs(r, 1, 1, 1, &nr, &nn, err) < 0)
			goto out;
		if (nn && *nr[0].matrix_path &&
		    matrix_load(&s.m, nr[0].matrix_path, &merr) == 0)
			s.have_m = 1;
		record_runs_free(nr, nn);
	}
	debug_time("start");
	if (publish_cache_load(&s, &full, err) < 0)
		goto out;
	debug_time(full ? "runs (store)" : "runs (cache, store)");
	s.run_class = xcalloc(s.in.n_runs + 1, sizeof(*s.run_class));
	if (regressions_compute_input(r, &s.in, s.have_m ? &s.m : NULL, &s.rs,
				      s.run_class, err) < 0)
		goto out;
	debug_time("regressions");
	if (load_commits(&s, err) < 0)
		goto out;
	assign_rows(&s);
	build_entries(&s);
	debug_time("commits, model");
	if (run_pages(&s, err) < 0)
		goto out;
	debug_time("run pages");
	for (i = 0; i < s.nrows; i++)
		if (publish_commit_page(&s, &s.rows[i], err) < 0)
			goto out;
	debug_time("commit pages");
	if (publish_grid_pages(&s, err) < 0 ||
	    publish_cell_pages(&s, err) < 0 ||
	    publish_regressions_page(&s, err) < 0 ||
	    publish_releases_page(&s, err) < 0 ||
	    publish_index_page(&s, err) < 0 || manifest_save(&s, err) < 0)
		goto out;
	debug_time("other pages");
	/* Last: the runs, for the next publish (of any site of the store). */
	publish_cache_save(&s);
	debug_time("cache");
	if (index_path)
		*index_path = xstrfmt("%s/index.html", abs_out);
	if (getenv("HVMATRIX_DEBUG_PUBLISH"))
		fprintf(stderr, "publish: %zu rows, %zu cells, %zu pages "
			"written, %zu kept\n", s.nrows, s.ncells, s.written,
			s.kept);
	ret = 0;
out:
	site_release(&s);
	strbuf_release(&gen);
	strbuf_release(&merr);
	free(abs_out);
	free(from);
	return ret;
}
