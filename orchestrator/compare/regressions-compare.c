/*
 * regressions-compare: every cell of one history (regressions-history.c)
 * compared against its first-parent chain (compare_cell, pure): the
 * classes, the confirmation runs a new FAIL wants, the flaky findings,
 * and the confirmed regressions handed to their bisection groups
 * (regressions-bisect.c), and its drifts (regressions-drift.c), bisected
 * alongside. The cells come in the order their first runs came.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

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

static void add_flaky(struct regressions *rs, const struct history *h,
		      const struct cell_cmp *cc, size_t i)
{
	const struct compare_entry *e = &cc->res.entries[i];
	struct regression *g = regression_add(rs, h->tree, h->build, cc->cell);
	int first_bad = e->class == COMPARE_FLAKY ? (int)i : e->first_bad;

	if (first_bad < 0)
		first_bad = (int)i;
	g->status = REGRESSION_FLAKY;
	regressions_history_ref(&g->last_good, h, e->last_good);
	regressions_history_first_bad(g, h, first_bad, cc->cell,
				      e->signature);
	g->why = xstrfmt("fails %u of %u runs on one commit: flaky, not "
			 "bisected", g->fail, g->total);
}

/*
 * The cells in the order their first runs came, each with its runs (a
 * cell's name is one pool string: compared as an id).
 */
static struct cell_cmp *history_cells(const struct history *h,
				      const struct matrix *m, size_t *n)
{
	struct cell_cmp *cells = NULL;
	size_t n_cells = 0, i, k, last = 0, *alloc = NULL;

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
	*n = n_cells;
	return cells;
}

/* What commit i of cc's comparison asks for: more runs, a bisection. */
static void decide(struct regressions *rs, const struct history *h,
		   struct cell_cmp *cc, size_t i, struct bisect_groups *groups)
{
	const struct compare_entry *e = &cc->res.entries[i];
	unsigned need, fail, have;

	switch (compare_decide(&cc->res, i, &need)) {
	case COMPARE_CONFIRM:
		have = regressions_history_runs_on(h, (int)i, cc->cell, NULL,
						   &fail, NULL);
		regressions_history_want(rs, h, (int)i, cc->cell, have + need,
					 "confirm");
		break;
	case COMPARE_BISECT:
		regressions_bisect_add(groups, cc, i);
		break;
	case COMPARE_REPORT_FLAKY:
		/* Once per failure: on its first commit. */
		if (e->class == COMPARE_REGRESSION || e->first_bad == (int)i ||
		    (e->first_bad >= 0 &&
		     cc->res.entries[e->first_bad].class !=
		     COMPARE_REGRESSION &&
		     cc->res.entries[e->first_bad].class != COMPARE_FLAKY))
			add_flaky(rs, h, cc, i);
		break;
	default:
		break;
	}
}

int regressions_compare_history(struct regressions *rs, struct history *h,
				const struct matrix *m, const char **run_class,
				struct strbuf *err)
{
	struct bisect_groups groups = { NULL, 0 };
	struct cell_cmp *cells;
	size_t n_cells, i, k;
	int ret = -1;

	cells = history_cells(h, m, &n_cells);
	for (k = 0; k < n_cells; k++) {
		struct cell_cmp *cc = &cells[k];

		if (cell_compare(h, cc, err) < 0)
			goto out;
		regressions_class_add(rs, h, cc, run_class);
		for (i = 0; i < cc->res.n; i++)
			decide(rs, h, cc, i, &groups);
		regressions_drift_cell(h, cc, &groups);
		/* Only a bisection reads a result later: 10,000 entries a
		 * cell, 40 cells, are not kept for nothing. */
		if (!cc->grouped) {
			compare_result_release(&cc->res);
			memset(&cc->res, 0, sizeof(cc->res));
		}
	}
	if (regressions_bisect_run(rs, h, &groups, err) < 0)
		goto out;
	ret = 0;
out:
	regressions_bisect_release(&groups);
	for (k = 0; k < n_cells; k++)
		cell_cmp_release(&cells[k]);
	free(cells);
	return ret;
}
