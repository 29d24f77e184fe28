/*
 * regressions: see regressions.h. For each (tree, build) with runs: the
 * tree's commits in recorded order (parents first) and its runs, compact
 * (regressions-input.c), grouped by commit and by cell once; per cell,
 * compare_cell over them; then one bisection per range (cells whose
 * regressions span the same range with the same words share its steps).
 * 400,000 runs are a few linear passes: no string compared per run where
 * a pool id will do, no per-cell copy of the history. How a regression
 * is named and written as JSON is regressions-json.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/bisect.h"
#include "compare/compare.h"
#include "compare/regressions.h"
#include "compare/signature.h"
#include "lib/xmalloc.h"

/* The history of one (tree, build): its runs are input indices. */
struct history {
	const struct regressions_input *in;
	const char *tree, *build;
	const struct record_commit *commits;	/* the input's */
	size_t n_commits;
	size_t *by_id;			/* commit indices sorted by id */
	uint32_t *runs;			/* input indices, id order */
	size_t n_runs;
	const char **sigs;		/* per run: FAIL's signature or NULL */
	int *run_commit;		/* per run: commit index or -1 */
	size_t *at;			/* per commit: its first in by_commit */
	int *parent;			/* per commit: its parent's index */
	uint32_t *by_commit;		/* runs grouped by commit, id order */
	char **sig_of;			/* per pool string: its signature */
	/* cell_compare's scratch, per commit and per run of one cell. */
	struct compare_commit *cc;
	size_t *count, *count_at;
	struct compare_run *cruns;
	size_t n_cruns;
};

#define RUN(h, i) (&(h)->in->runs[(h)->runs[i]])
#define STR(h, id) ((h)->in->strs[id])

/* One cell's comparison. */
struct cell_cmp {
	const char *cell;
	uint32_t cell_id;
	unsigned confirm;
	uint32_t *mine;			/* its runs (history positions) */
	int grouped;			/* a bisection group holds res */
	size_t n_mine;
	struct compare_result res;
};

/* qsort_r's: the history is an argument, not a global (worker threads). */
static int cmp_by_id(const void *a, const void *b, void *arg)
{
	const struct history *h = arg;

	return strcmp(h->commits[*(const size_t *)a].id,
		      h->commits[*(const size_t *)b].id);
}

/* The index of commit id, by a binary search of by_id (sorted on first
 * use: a linear history never needs it). */
static int commit_index(struct history *h, const char *id)
{
	size_t lo = 0, hi = h->n_commits, i;

	if (!h->by_id) {
		h->by_id = xcalloc(h->n_commits + 1, sizeof(*h->by_id));
		for (i = 0; i < h->n_commits; i++)
			h->by_id[i] = i;
		qsort_r(h->by_id, h->n_commits, sizeof(*h->by_id),
			cmp_by_id, h);
	}

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(h->commits[h->by_id[mid]].id, id);

		if (!c)
			return (int)h->by_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void history_release(struct history *h)
{
	size_t i;

	if (h->sig_of)
		for (i = 0; i < h->in->n_strs; i++)
			free(h->sig_of[i]);
	free(h->sig_of);
	free(h->sigs);
	free(h->run_commit);
	free(h->by_id);
	free(h->at);
	free(h->cc);
	free(h->count);
	free(h->count_at);
	free(h->cruns);
	free(h->parent);
	free(h->by_commit);
	free(h->runs);
}

/* The positions of commit c's runs: by_commit[at[c]] .. [at[c + 1]). */
#define FOR_COMMIT_RUNS(h, c, k) \
	for ((k) = (h)->at[c]; (k) < (h)->at[(c) + 1]; (k)++)

static int history_load(struct record *r, struct regressions_input *in,
			struct history *h, uint32_t tree, struct strbuf *err)
{
	const struct regressions_tree *t;
	int *commit_of;		/* per pool string: commit index + 1 */
	size_t i, *fill;

	if (regressions_input_commits(in, r, tree, &t, err) < 0)
		return -1;
	h->commits = t->commits;
	h->n_commits = t->n;
	h->parent = xcalloc(h->n_commits + 1, sizeof(*h->parent));
	h->cc = xcalloc(h->n_commits + 1, sizeof(*h->cc));
	h->count = xcalloc(h->n_commits + 1, sizeof(*h->count));
	h->count_at = xcalloc(h->n_commits + 1, sizeof(*h->count_at));
	for (i = 0; i < h->n_commits; i++) {
		const char *parent = h->commits[i].parent;
		/* Ids are unique in a tree; the parent is most often the
		 * commit recorded before. */
		int p = !*parent ? -1 :
			i && !strcmp(h->commits[i - 1].id, parent) ?
			(int)i - 1 : commit_index(h, parent);

		/* Recorded order puts parents first; anything else is a
		 * history we did not see whole: compare it as a root. */
		h->parent[i] = p >= 0 && (size_t)p < i ? p : -1;
	}
	h->sigs = xcalloc(h->n_runs + 1, sizeof(*h->sigs));
	h->run_commit = xcalloc(h->n_runs + 1, sizeof(*h->run_commit));
	h->sig_of = xcalloc(h->in->n_strs + 1, sizeof(*h->sig_of));
	h->at = xcalloc(h->n_commits + 2, sizeof(*h->at));
	h->by_commit = xcalloc(h->n_runs + 1, sizeof(*h->by_commit));
	/* A commit id the runs name is one pool string: each commit's
	 * index by its id's pool id, 0 for none. */
	commit_of = xcalloc(h->in->n_strs + 1, sizeof(*commit_of));
	for (i = 0; i < h->n_commits; i++) {
		uint32_t id = regressions_input_lookup(h->in, h->commits[i].id);

		if (id != UINT32_MAX)
			commit_of[id] = (int)i + 1;
	}
	for (i = 0; i < h->n_runs; i++) {
		const struct regressions_run *run = RUN(h, i);

		h->run_commit[i] = commit_of[run->commit] - 1;
		if (run->verdict == VERDICT_FAIL) {
			if (!h->sig_of[run->line])
				h->sig_of[run->line] =
					signature_of(STR(h, run->line));
			h->sigs[i] = h->sig_of[run->line];
		}
		if (h->run_commit[i] >= 0)
			h->at[h->run_commit[i] + 1]++;
	}
	free(commit_of);
	for (i = 1; i <= h->n_commits; i++)
		h->at[i] += h->at[i - 1];
	fill = xcalloc(h->n_commits + 1, sizeof(*fill));
	for (i = 0; i < h->n_runs; i++) {
		int c = h->run_commit[i];

		if (c >= 0)
			h->by_commit[h->at[c] + fill[c]++] = (uint32_t)i;
	}
	free(fill);
	return 0;
}

static unsigned confirm_of(const struct matrix *m, const char *tree,
			   const char *cell)
{
	const struct matrix_tree *t = m ? matrix_find_tree(m, tree) : NULL;
	const struct cell *c = m ? matrix_find(m, cell) : NULL;

	if (c && c->confirm >= 0)
		return (unsigned)c->confirm;
	return t ? t->confirm : COMPARE_CONFIRM_DEFAULT;
}

/*
 * Compare one cell. The commits and runs handed to compare_cell are the
 * history's scratch, reused from cell to cell (only the result is kept):
 * 40 cells of 10,000 commits would otherwise be 40 arrays to clear.
 */
static int cell_compare(struct history *h, struct cell_cmp *cc,
			struct strbuf *err)
{
	struct compare_input in = { 0 };
	size_t i, *count = h->count, *at = h->count_at;

	if (cc->n_mine > h->n_cruns) {
		free(h->cruns);
		h->n_cruns = cc->n_mine;
		h->cruns = xmalloc((h->n_cruns + 1) * sizeof(*h->cruns));
	}
	memset(count, 0, (h->n_commits + 1) * sizeof(*count));
	for (i = 0; i < cc->n_mine; i++)
		if (h->run_commit[cc->mine[i]] >= 0)
			count[h->run_commit[cc->mine[i]]]++;
	for (i = 0; i < h->n_commits; i++) {
		at[i] = i ? at[i - 1] + count[i - 1] : 0;
		h->cc[i].id = h->commits[i].id;
		h->cc[i].parent = h->parent[i];
		h->cc[i].runs = &h->cruns[at[i]];
		h->cc[i].n_runs = 0;
	}
	for (i = 0; i < cc->n_mine; i++) {
		size_t k = cc->mine[i];
		int c = h->run_commit[k];
		struct compare_run *cr;

		if (c < 0)
			continue;
		cr = &h->cruns[at[c] + h->cc[c].n_runs++];
		cr->verdict = (enum verdict)RUN(h, k)->verdict;
		cr->signature = h->sigs[k];
	}
	in.commits = h->cc;
	in.n_commits = h->n_commits;
	in.confirm = cc->confirm;
	return compare_cell(&in, &cc->res, err);
}

static void cell_cmp_release(struct cell_cmp *cc)
{
	compare_result_release(&cc->res);
	free(cc->mine);
}

static void ref_set(struct regression_ref *ref, const struct history *h,
		    int i)
{
	if (i < 0)
		return;
	ref->commit = xstrdup(h->commits[i].id);
	ref->subject = xstrdup(h->commits[i].subject);
	ref->author = xstrdup(h->commits[i].author);
}

static void ref_release(struct regression_ref *ref)
{
	free(ref->commit);
	free(ref->subject);
	free(ref->author);
}

static void add_want(struct regressions *rs, const struct history *h,
		     int commit, const char *cell, unsigned runs,
		     const char *purpose)
{
	struct regression_want *w;

	rs->wants = xrealloc(rs->wants, (rs->n_wants + 1) * sizeof(*w));
	w = &rs->wants[rs->n_wants++];
	w->tree = xstrdup(h->tree);
	w->commit = xstrdup(h->commits[commit].id);
	w->build = xstrdup(h->build);
	w->cell = xstrdup(cell);
	w->runs = runs;
	w->purpose = purpose;
}

/* Runs of cell on commit: all, FAIL with sig, and the first such line. */
static unsigned runs_on(const struct history *h, int commit,
			const char *cell, const char *sig, unsigned *fail,
			const char **line)
{
	unsigned n = 0;
	size_t k;

	*fail = 0;
	if (commit < 0)
		return 0;
	FOR_COMMIT_RUNS(h, commit, k) {
		size_t i = h->by_commit[k];
		const struct regressions_run *run = RUN(h, i);

		if (strcmp(STR(h, run->cell), cell))
			continue;
		n++;
		if (run->verdict != VERDICT_FAIL)
			continue;
		if (sig && h->sigs[i] && strcmp(h->sigs[i], sig))
			continue;
		if (!(*fail)++ && line)
			*line = STR(h, run->line);
	}
	return n;
}

static struct regression *new_regression(struct regressions *rs,
					 const struct history *h,
					 const char *cell)
{
	struct regression *g;

	rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*g));
	g = &rs->v[rs->n++];
	memset(g, 0, sizeof(*g));
	g->tree = xstrdup(h->tree);
	g->build = xstrdup(h->build);
	g->cells = xcalloc(2, sizeof(char *));
	g->cells[0] = xstrdup(cell);
	g->n_cells = 1;
	return g;
}

static void fill_first_bad(struct regression *g, const struct history *h,
			   int first_bad, const char *cell, const char *sig)
{
	const char *line = "";

	ref_set(&g->first_bad, h, first_bad);
	g->signature = xstrdup(sig ? sig : "");
	g->total = runs_on(h, first_bad, cell, sig, &g->fail, &line);
	g->line = xstrdup(line ? line : "");
}

/* Is a on b's first-parent chain (a == b included)? */
static int on_chain(const struct history *h, int a, int b)
{
	while (b > a)
		b = h->parent[b];
	return b == a;
}

static int has_test_run(const struct history *h, int commit,
			const char *cell, int want_fail)
{
	size_t k;

	FOR_COMMIT_RUNS(h, commit, k) {
		const struct regressions_run *run = RUN(h, h->by_commit[k]);

		if (!strcmp(STR(h, run->cell), cell) &&
		    !strcmp(STR(h, run->purpose), "test") &&
		    (run->verdict == VERDICT_FAIL) == want_fail &&
		    (want_fail || run->verdict == VERDICT_PASS))
			return 1;
	}
	return 0;
}

/*
 * What a bisection spent on the cell, from the runs it made: the commits
 * it built and the runs it booted between the tested commits around the
 * culprit (the last that passed and the first that failed as the watcher
 * tested them). The driver's own count covers only the range left at the
 * end, which shrinks to the culprit and its parent.
 */
static void bisect_cost(const struct history *h, const struct cell_cmp *cc,
			int first_bad, unsigned *builds, unsigned *boots)
{
	int lo = first_bad, hi = -1, c;
	size_t k;
	unsigned char *seen;

	*builds = *boots = 0;
	while (lo >= 0 && !has_test_run(h, lo, cc->cell, 0))
		lo = h->parent[lo];
	for (c = first_bad; c < (int)h->n_commits && hi < 0; c++)
		if (has_test_run(h, c, cc->cell, 1) &&
		    on_chain(h, first_bad, c))
			hi = c;
	if (hi < 0)
		hi = first_bad;
	seen = xcalloc(h->n_commits + 1, 1);
	/* The runs of the commits in (lo, hi]: a count, so in any order. */
	for (c = lo + 1; c <= hi; c++) {
		if (c < 0 || !on_chain(h, c, hi))
			continue;
		FOR_COMMIT_RUNS(h, c, k) {
			const struct regressions_run *run =
				RUN(h, h->by_commit[k]);

			if (run->cell != cc->cell_id ||
			    strcmp(STR(h, run->purpose), "bisect"))
				continue;
			if (run->verdict != VERDICT_BLOCKED &&
			    run->verdict != VERDICT_SKIP)
				(*boots)++;
			if (!seen[c] && !has_test_run(h, c, cc->cell, 0) &&
			    !has_test_run(h, c, cc->cell, 1)) {
				seen[c] = 1;
				(*builds)++;
			}
		}
	}
	free(seen);
}

/* A bisection over one range, for the cells that broke over it. */
struct bisect_group {
	size_t *range;		/* commit indices, last good .. first bad */
	size_t n_range;
	const char *signature;
	struct cell_cmp **cells;
	size_t *entry;		/* per cell: its REGRESSION entry index */
	size_t n_cells;
};

static struct bisect_group *find_group(struct bisect_group **v, size_t *n,
				       const struct compare_entry *e)
{
	struct bisect_group *g;
	size_t i;

	for (i = 0; i < *n; i++) {
		g = &(*v)[i];
		if (g->n_range == e->n_range &&
		    !memcmp(g->range, e->range, e->n_range * sizeof(size_t)) &&
		    !strcmp(g->signature, e->signature ? e->signature : ""))
			return g;
	}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	g = &(*v)[(*n)++];
	memset(g, 0, sizeof(*g));
	g->range = e->range;
	g->n_range = e->n_range;
	g->signature = e->signature ? e->signature : "";
	return g;
}

static int run_bisection(struct regressions *rs, const struct history *h,
			 struct bisect_group *grp, struct strbuf *err)
{
	struct bisect b;
	struct bisect_target *targets;
	struct bisect_result *results;
	struct bisect_step step;
	const char **ids;
	size_t i, k, n_res = 0;
	enum bisect_status st;
	int ret = -1;

	ids = xcalloc(grp->n_range + 1, sizeof(*ids));
	for (i = 0; i < grp->n_range; i++)
		ids[i] = h->commits[grp->range[i]].id;
	targets = xcalloc(grp->n_cells + 1, sizeof(*targets));
	for (i = 0; i < grp->n_cells; i++) {
		targets[i].cell = grp->cells[i]->cell;
		targets[i].signature = grp->signature;
	}
	/* bisect_load takes the results of the range's commits and the
	 * group's cells and ignores the others, in any order: only those. */
	for (i = 0; i < grp->n_range; i++)
		n_res += h->at[grp->range[i] + 1] - h->at[grp->range[i]];
	results = xcalloc(n_res + 1, sizeof(*results));
	n_res = 0;
	for (i = 0; i < grp->n_range; i++) {
		size_t c = grp->range[i], j;

		FOR_COMMIT_RUNS(h, c, j) {
			size_t ri = h->by_commit[j];
			const struct regressions_run *run = RUN(h, ri);

			for (k = 0; k < grp->n_cells; k++)
				if (grp->cells[k]->cell_id == run->cell)
					break;
			if (k == grp->n_cells)
				continue;
			results[n_res].commit = h->commits[c].id;
			results[n_res].cell = STR(h, run->cell);
			results[n_res].verdict = (enum verdict)run->verdict;
			results[n_res].signature = h->sigs[ri];
			results[n_res].ours = !strcmp(STR(h, run->purpose),
						      "bisect");
			n_res++;
		}
	}
	if (bisect_init(&b, ids, grp->n_range, targets, grp->n_cells,
			BISECT_CONFIRM_DEFAULT, err) < 0 ||
	    bisect_load(&b, results, n_res, NULL, err) < 0)
		goto out;
	st = bisect_next(&b, &step);
	if (st == BISECT_RUN) {
		int commit = (int)grp->range[step.commit];

		for (k = 0; k < step.n_want; k++) {
			const char *cell = b.cells[step.want[k].cell].name;
			unsigned fail, have = runs_on(h, commit, cell, NULL,
						      &fail, NULL);

			add_want(rs, h, commit, cell,
				 have + step.want[k].runs, "bisect");
		}
	}
	for (i = 0; i < grp->n_cells; i++) {
		struct cell_cmp *cc = grp->cells[i];
		const struct compare_entry *e = &cc->res.entries[grp->entry[i]];
		const struct bisect_cell *bc = &b.cells[i];
		struct regression *g = new_regression(rs, h, cc->cell);
		int first_bad = (int)grp->entry[i], fixed;

		g->bisected = 1;
		if (bc->status == BISECT_DONE) {
			first_bad = (int)grp->range[bc->culprit];
			ref_set(&g->last_good, h, (int)grp->range[bc->lo]);
		} else {
			ref_set(&g->last_good, h, e->last_good);
		}
		fill_first_bad(g, h, first_bad, cc->cell, grp->signature);
		bisect_cost(h, cc, first_bad, &g->builds, &g->boots);
		fixed = compare_fixed_by(&cc->res, grp->entry[i]);
		if (bc->status == BISECT_RUN) {
			g->status = REGRESSION_OPEN;
			g->bisecting = 1;
		} else if (bc->status == BISECT_UNDECIDED) {
			g->status = REGRESSION_UNDECIDED;
			for (k = 0; k < b.n_commits; k++)
				if (bisect_state_of(&b, i, k) == BISECT_FLAKY)
					g->status = REGRESSION_FLAKY;
			g->why = xstrdup(bc->why.buf);
			ref_set(&g->lo, h, (int)grp->range[bc->lo]);
			ref_set(&g->hi, h, (int)grp->range[bc->hi]);
		} else {
			g->status = REGRESSION_OPEN;
		}
		if (fixed >= 0 && g->status == REGRESSION_OPEN &&
		    !g->bisecting) {
			g->status = REGRESSION_FIXED;
			ref_set(&g->fixed_by, h, fixed);
		}
	}
	ret = 0;
out:
	bisect_release(&b);
	free(ids);
	free(targets);
	free(results);
	return ret;
}

static void add_flaky(struct regressions *rs, const struct history *h,
		      const struct cell_cmp *cc, size_t i)
{
	const struct compare_entry *e = &cc->res.entries[i];
	struct regression *g = new_regression(rs, h, cc->cell);
	int first_bad = e->class == COMPARE_FLAKY ? (int)i : e->first_bad;

	if (first_bad < 0)
		first_bad = (int)i;
	g->status = REGRESSION_FLAKY;
	ref_set(&g->last_good, h, e->last_good);
	fill_first_bad(g, h, first_bad, cc->cell, e->signature);
	g->why = xstrfmt("fails %u of %u runs on one commit: flaky, not "
			 "bisected", g->fail, g->total);
}

static void add_classes(struct regressions *rs, const struct history *h,
			const struct cell_cmp *cc, const char **run_class)
{
	size_t i;

	if (run_class) {
		for (i = 0; i < cc->n_mine; i++) {
			int c = h->run_commit[cc->mine[i]];

			if (c >= 0)
				run_class[h->runs[cc->mine[i]]] =
					compare_class_name(
						cc->res.entries[c].class);
		}
		return;
	}
	for (i = 0; i < cc->res.n; i++) {
		struct regression_class *c;

		if (!h->cc[i].n_runs)	/* cell_compare's, still there */
			continue;
		rs->classes = xrealloc(rs->classes, (rs->n_classes + 1) *
				       sizeof(*rs->classes));
		c = &rs->classes[rs->n_classes++];
		c->tree = xstrdup(h->tree);
		c->build = xstrdup(h->build);
		c->cell = xstrdup(cc->cell);
		c->commit = xstrdup(h->commits[i].id);
		c->name = compare_class_name(cc->res.entries[i].class);
	}
}

static int class_cmp(const char *tree, const char *build, const char *cell,
		     const char *commit, const struct regression_class *c)
{
	int r = strcmp(tree, c->tree);

	if (!r)
		r = strcmp(build, c->build);
	if (!r)
		r = strcmp(cell, c->cell);
	return r ? r : strcmp(commit, c->commit);
}

static int class_sort(const void *a, const void *b)
{
	const struct regression_class *x = a;

	return class_cmp(x->tree, x->build, x->cell, x->commit, b);
}

const char *regressions_class_of(const struct regressions *rs,
				 const char *tree, const char *build,
				 const char *cell, const char *commit)
{
	size_t lo = 0, hi = rs->n_classes;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = class_cmp(tree, build, cell, commit,
				  &rs->classes[mid]);

		if (!c)
			return rs->classes[mid].name;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int do_history(struct regressions *rs, struct history *h,
		      const struct matrix *m, const char **run_class,
		      struct strbuf *err)
{
	struct cell_cmp *cells = NULL;
	struct bisect_group *groups = NULL;
	size_t n_cells = 0, n_groups = 0, i, k, last = 0, *alloc = NULL;
	unsigned need;
	int ret = -1;

	/* The cells in the order their first runs came, each with its
	 * runs (a cell's name is one pool string: compared as an id). */
	for (i = 0; i < h->n_runs; i++) {
		uint32_t id = RUN(h, i)->cell;

		if (n_cells && cells[last].cell_id == id) {
			k = last;
		} else {
			for (k = 0; k < n_cells; k++)
				if (cells[k].cell_id == id)
					break;
		}
		if (k == n_cells) {
			cells = xrealloc(cells, (n_cells + 1) *
					 sizeof(*cells));
			alloc = xrealloc(alloc, (n_cells + 1) *
					 sizeof(*alloc));
			memset(&cells[n_cells], 0, sizeof(*cells));
			alloc[n_cells] = 0;
			cells[n_cells].cell = STR(h, id);
			cells[n_cells].cell_id = id;
			cells[n_cells].confirm = confirm_of(m, h->tree,
							    STR(h, id));
			n_cells++;
		}
		last = k;
		ALLOC_GROW(cells[k].mine, cells[k].n_mine + 1, alloc[k]);
		cells[k].mine[cells[k].n_mine++] = (uint32_t)i;
	}
	free(alloc);
	for (k = 0; k < n_cells; k++) {
		struct cell_cmp *cc = &cells[k];

		if (cell_compare(h, cc, err) < 0)
			goto out;
		add_classes(rs, h, cc, run_class);
		for (i = 0; i < cc->res.n; i++) {
			const struct compare_entry *e = &cc->res.entries[i];
			struct bisect_group *g;
			unsigned fail;

			switch (compare_decide(&cc->res, i, &need)) {
			case COMPARE_CONFIRM:
				add_want(rs, h, (int)i, cc->cell,
					 runs_on(h, (int)i, cc->cell, NULL,
						 &fail, NULL) + need,
					 "confirm");
				break;
			case COMPARE_BISECT:
				g = find_group(&groups, &n_groups, e);
				g->cells = xrealloc(g->cells, (g->n_cells + 1) *
						    sizeof(*g->cells));
				g->entry = xrealloc(g->entry, (g->n_cells + 1) *
						    sizeof(*g->entry));
				g->cells[g->n_cells] = cc;
				g->entry[g->n_cells++] = i;
				cc->grouped = 1;
				break;
			case COMPARE_REPORT_FLAKY:
				/* Once per failure: on its first commit. */
				if (e->class == COMPARE_REGRESSION ||
				    e->first_bad == (int)i ||
				    (e->first_bad >= 0 &&
				     cc->res.entries[e->first_bad].class !=
				     COMPARE_REGRESSION &&
				     cc->res.entries[e->first_bad].class !=
				     COMPARE_FLAKY))
					add_flaky(rs, h, cc, i);
				break;
			default:
				break;
			}
		}
		/* Only a bisection reads a result later: 10,000 entries a
		 * cell, 40 cells, are not kept for nothing. */
		if (!cc->grouped) {
			compare_result_release(&cc->res);
			memset(&cc->res, 0, sizeof(cc->res));
		}
	}
	for (i = 0; i < n_groups; i++)
		if (run_bisection(rs, h, &groups[i], err) < 0)
			goto out;
	ret = 0;
out:
	for (i = 0; i < n_groups; i++) {
		free(groups[i].cells);
		free(groups[i].entry);
	}
	free(groups);
	for (k = 0; k < n_cells; k++)
		cell_cmp_release(&cells[k]);
	free(cells);
	return ret;
}

static void regression_release(struct regression *g)
{
	size_t i;

	free(g->tree);
	free(g->build);
	for (i = 0; i < g->n_cells; i++)
		free(g->cells[i]);
	free(g->cells);
	ref_release(&g->first_bad);
	ref_release(&g->last_good);
	ref_release(&g->fixed_by);
	ref_release(&g->lo);
	ref_release(&g->hi);
	free(g->line);
	free(g->signature);
	free(g->why);
}

/*
 * The same regression in several cells: one entry listing them all
 * (same tree, build, first bad commit, signature and status).
 */
static int merge_cells(struct regressions *rs, size_t from,
		       struct strbuf *err)
{
	struct compare_regression *regs;
	struct compare_findings f = { 0 };
	struct regression *merged;
	size_t n = rs->n - from, i, k, m = 0;

	if (n < 2)
		return 0;
	regs = xcalloc(n, sizeof(*regs));
	for (i = 0; i < n; i++) {
		struct regression *g = &rs->v[from + i];

		regs[i].cell = g->cells[0];
		regs[i].first_bad = g->first_bad.commit ? g->first_bad.commit :
				    "";
		regs[i].signature = g->signature ? g->signature : "";
	}
	if (compare_group(regs, n, &f, err) < 0) {
		free(regs);
		compare_findings_release(&f);
		return -1;
	}
	merged = xcalloc(f.n + n, sizeof(*merged));
	for (i = 0; i < f.n; i++) {
		struct regression *lead = NULL;

		for (k = 0; k < f.v[i].n_members; k++) {
			struct regression *g = &rs->v[from +
						      f.v[i].members[k]];

			if (lead && g->status == lead->status) {
				lead->cells = xrealloc(lead->cells,
						       (lead->n_cells + 1) *
						       sizeof(char *));
				lead->cells[lead->n_cells++] = g->cells[0];
				g->cells[0] = NULL;
				regression_release(g);
				continue;
			}
			merged[m++] = *g;
			lead = &merged[m - 1];
		}
	}
	memcpy(&rs->v[from], merged, m * sizeof(*merged));
	rs->n = from + m;
	free(merged);
	free(regs);
	compare_findings_release(&f);
	return 0;
}

/* The (tree, build) pairs with runs, as record_list_tree_builds orders
 * them (tree, then build, bytewise), and each pair's runs in id order. */
struct pair {
	uint32_t tree, build;
	uint32_t *runs;
	size_t n, alloc;
};

static int pair_cmp(const void *a, const void *b, void *arg)
{
	const struct regressions_input *in = arg;
	const struct pair *x = a, *y = b;
	int c = strcmp(in->strs[x->tree], in->strs[y->tree]);

	return c ? c : strcmp(in->strs[x->build], in->strs[y->build]);
}

int regressions_compute_input(struct record *r,
			      struct regressions_input *in,
			      const struct matrix *m, struct regressions *out,
			      const char **run_class, struct strbuf *err)
{
	struct pair *pairs = NULL;
	size_t n_pairs = 0, i, k, from, last = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < in->n_runs; i++) {
		const struct regressions_run *run = &in->runs[i];

		if (run_class)
			run_class[i] = NULL;
		if (!*in->strs[run->tree])
			continue;
		if (n_pairs && pairs[last].tree == run->tree &&
		    pairs[last].build == run->build) {
			k = last;
		} else {
			for (k = 0; k < n_pairs; k++)
				if (pairs[k].tree == run->tree &&
				    pairs[k].build == run->build)
					break;
		}
		if (k == n_pairs) {
			pairs = xrealloc(pairs, (n_pairs + 1) *
					 sizeof(*pairs));
			memset(&pairs[n_pairs], 0, sizeof(*pairs));
			pairs[n_pairs].tree = run->tree;
			pairs[n_pairs].build = run->build;
			n_pairs++;
		}
		last = k;
		ALLOC_GROW(pairs[k].runs, pairs[k].n + 1, pairs[k].alloc);
		pairs[k].runs[pairs[k].n++] = (uint32_t)i;
	}
	if (n_pairs)
		qsort_r(pairs, n_pairs, sizeof(*pairs), pair_cmp,
			(void *)in);
	for (i = 0; i < n_pairs; i++) {
		struct history h = { 0 };

		h.in = in;
		h.tree = in->strs[pairs[i].tree];
		h.build = in->strs[pairs[i].build];
		h.runs = pairs[i].runs;
		h.n_runs = pairs[i].n;
		pairs[i].runs = NULL;
		from = out->n;
		if (history_load(r, in, &h, pairs[i].tree, err) < 0 ||
		    do_history(out, &h, m, run_class, err) < 0 ||
		    merge_cells(out, from, err) < 0) {
			history_release(&h);
			goto out;
		}
		history_release(&h);
	}
	if (out->n_classes)	/* qsort of NULL is undefined, even for 0 */
		qsort(out->classes, out->n_classes, sizeof(*out->classes),
		      class_sort);
	ret = 0;
out:
	for (i = 0; i < n_pairs; i++)
		free(pairs[i].runs);
	free(pairs);
	return ret;
}

int regressions_compute(struct record *r, const struct matrix *m,
			struct regressions *out, struct strbuf *err)
{
	struct regressions_input in;
	int ret;

	memset(out, 0, sizeof(*out));
	regressions_input_init(&in);
	ret = regressions_input_load(&in, r, 0, err);
	if (!ret)
		ret = regressions_compute_input(r, &in, m, out, NULL, err);
	regressions_input_release(&in);
	return ret;
}

void regressions_release(struct regressions *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		regression_release(&rs->v[i]);
	free(rs->v);
	for (i = 0; i < rs->n_wants; i++) {
		free(rs->wants[i].tree);
		free(rs->wants[i].commit);
		free(rs->wants[i].build);
		free(rs->wants[i].cell);
	}
	free(rs->wants);
	for (i = 0; i < rs->n_classes; i++) {
		free(rs->classes[i].tree);
		free(rs->classes[i].build);
		free(rs->classes[i].cell);
		free(rs->classes[i].commit);
	}
	free(rs->classes);
	memset(rs, 0, sizeof(*rs));
}
