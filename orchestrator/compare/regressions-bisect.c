/*
 * regressions-bisect: the bisection of confirmed regressions. Cells whose
 * regressions span the same range with the same signature share one
 * bisection (bisect.c, pure): its next step becomes wants for all of
 * them, and each gets its finding (open, bisecting, fixed, undecided,
 * flaky) with what the bisection cost in builds and boots, counted from
 * the runs it made. A drift (regressions-drift.c) is bisected the same
 * way, its runs read as the side of the change their fingerprints show.
 * Derived from the runs every time: nothing is kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/bisect.h"
#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

/* Did the watcher test commit c in cell (a test run passed or failed)? */
static int tested(const struct history *h, int c, const char *cell)
{
	return regressions_history_has_test_run(h, c, cell, 0) ||
	       regressions_history_has_test_run(h, c, cell, 1);
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
	while (lo >= 0 &&
	       !regressions_history_has_test_run(h, lo, cc->cell, 0))
		lo = h->parent[lo];
	for (c = first_bad; c < (int)h->n_commits && hi < 0; c++)
		if (regressions_history_has_test_run(h, c, cc->cell, 1) &&
		    regressions_history_on_chain(h, first_bad, c))
			hi = c;
	if (hi < 0)
		hi = first_bad;
	seen = xcalloc(h->n_commits + 1, 1);
	/* The runs of the commits in (lo, hi]: a count, so in any order. */
	for (c = lo + 1; c <= hi; c++) {
		if (c < 0 || !regressions_history_on_chain(h, c, hi))
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
			if (!seen[c] && !tested(h, c, cc->cell)) {
				seen[c] = 1;
				(*builds)++;
			}
		}
	}
	free(seen);
}

/* The newest commit of the history with first_bad on its first-parent
 * chain (first_bad itself when none is newer). */
static int tip_of(const struct history *h, int first_bad)
{
	int c;

	for (c = (int)h->n_commits - 1; c > first_bad; c--)
		if (regressions_history_on_chain(h, first_bad, c))
			return c;
	return first_bad;
}

static struct bisect_group *find_group(struct bisect_groups *groups,
				       const size_t *range, size_t n_range,
				       const char *signature, int drift)
{
	struct bisect_group *g;
	size_t i;

	for (i = 0; i < groups->n; i++) {
		g = &groups->v[i];
		if (g->drift == drift && g->n_range == n_range &&
		    !memcmp(g->range, range, n_range * sizeof(size_t)) &&
		    !strcmp(g->signature, signature))
			return g;
	}
	groups->v = xrealloc(groups->v, (groups->n + 1) * sizeof(*g));
	g = &groups->v[groups->n++];
	memset(g, 0, sizeof(*g));
	g->range = (size_t *)range;
	g->n_range = n_range;
	g->signature = signature;
	g->drift = drift;
	return g;
}

static void group_add_cell(struct bisect_group *g, struct cell_cmp *cc,
			   size_t entry)
{
	g->cells = xrealloc(g->cells, (g->n_cells + 1) * sizeof(*g->cells));
	g->entry = xrealloc(g->entry, (g->n_cells + 1) * sizeof(*g->entry));
	g->cells[g->n_cells] = cc;
	g->entry[g->n_cells++] = entry;
}

void regressions_bisect_add(struct bisect_groups *groups,
			    struct cell_cmp *cc, size_t entry)
{
	const struct compare_entry *e = &cc->res.entries[entry];

	group_add_cell(find_group(groups, e->range, e->n_range,
				  e->signature ? e->signature : "", 0),
		       cc, entry);
	cc->grouped = 1;
}

void regressions_bisect_add_drift(struct bisect_groups *groups,
				  struct cell_cmp *cc, size_t *range,
				  size_t n_range,
				  struct drift_changes *changes)
{
	struct strbuf key = STRBUF_INIT;
	struct bisect_group *g;

	drift_changes_key(changes, &key);
	g = find_group(groups, range, n_range, key.buf, 1);
	if (g->range == range) {	/* a new group: it takes them */
		g->own_range = range;
		g->key = strbuf_detach(&key, NULL);
		g->signature = g->key;
		g->changes = *changes;
	} else {
		free(range);
		drift_changes_release(changes);
		strbuf_release(&key);
	}
	memset(changes, 0, sizeof(*changes));
	group_add_cell(g, cc, SIZE_MAX);
}

/*
 * A run as the bisection of grp sees it. For a drift, a PASS is bad when
 * its fingerprint shows the after-values, good when it shows the before-
 * values, another failure (skipped) when it shows neither, and unknown
 * (skipped) without one; a run that did not pass is what it is, so a
 * real failure in the range is skipped like an unbuildable commit.
 */
static void result_of(const struct history *h, const struct bisect_group *grp,
		      size_t ri, struct bisect_result *res)
{
	const struct regressions_run *run = RUN(h, ri);
	const struct drift_fp *fp;

	res->verdict = (enum verdict)run->verdict;
	res->signature = h->sigs[ri];
	if (!grp->drift || run->verdict != VERDICT_PASS)
		return;
	fp = regressions_history_fp(h, ri);
	switch (fp ? drift_side_of(fp, &grp->changes) : DRIFT_UNKNOWN) {
	case DRIFT_BEFORE:
		break;
	case DRIFT_AFTER:
		res->verdict = VERDICT_FAIL;
		res->signature = grp->signature;
		break;
	case DRIFT_NEITHER:
		res->verdict = VERDICT_FAIL;
		res->signature = "drift: neither side";
		break;
	default:
		res->verdict = VERDICT_SKIP;
		break;
	}
}

/* A drift finding's runs on first_bad: all, and those on the after side;
 * its key, its changes and those in words. */
static void drift_first_bad(struct regression *g, const struct history *h,
			    int first_bad, const char *cell,
			    const struct drift_changes *changes)
{
	struct strbuf words = STRBUF_INIT;
	size_t k, i;

	regressions_history_ref(&g->first_bad, h, first_bad);
	drift_changes_key(changes, &words);
	g->signature = strbuf_detach(&words, NULL);
	drift_changes_words(changes, &words);
	g->line = strbuf_detach(&words, NULL);
	for (i = 0; i < changes->n; i++) {
		const struct drift_change *x = &changes->v[i];

		g->changes.v = xrealloc(g->changes.v, (g->changes.n + 1) *
					sizeof(*x));
		g->changes.v[g->changes.n].field = x->field;
		g->changes.v[g->changes.n].before =
			x->before ? xstrdup(x->before) : NULL;
		g->changes.v[g->changes.n++].after =
			x->after ? xstrdup(x->after) : NULL;
	}
	if (first_bad < 0)
		return;
	FOR_COMMIT_RUNS(h, first_bad, k) {
		size_t ri = h->by_commit[k];
		const struct regressions_run *run = RUN(h, ri);
		const struct drift_fp *fp = regressions_history_fp(h, ri);

		if (strcmp(STR(h, run->cell), cell))
			continue;
		g->total++;
		if (fp && run->verdict == VERDICT_PASS &&
		    drift_side_of(fp, changes) == DRIFT_AFTER)
			g->fail++;
	}
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
			result_of(h, grp, ri, &results[n_res]);
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
			unsigned fail, have;

			have = regressions_history_runs_on(h, commit, cell,
							   NULL, &fail, NULL);
			regressions_history_want(rs, h, commit, cell,
						 have + step.want[k].runs,
						 "bisect");
		}
	}
	for (i = 0; i < grp->n_cells; i++) {
		struct cell_cmp *cc = grp->cells[i];
		const struct bisect_cell *bc = &b.cells[i];
		struct regression *g = regression_add(rs, h->tree, h->build,
						      cc->cell);
		int first_bad, last_good, fixed = -1;

		if (grp->drift) {
			first_bad = (int)grp->range[grp->n_range - 1];
			last_good = (int)grp->range[0];
		} else {
			first_bad = (int)grp->entry[i];
			last_good = cc->res.entries[first_bad].last_good;
			fixed = compare_fixed_by(&cc->res, grp->entry[i]);
		}
		g->bisected = 1;
		if (bc->status == BISECT_DONE) {
			first_bad = (int)grp->range[bc->culprit];
			last_good = (int)grp->range[bc->lo];
		}
		regressions_history_ref(&g->last_good, h, last_good);
		if (grp->drift)
			drift_first_bad(g, h, first_bad, cc->cell,
					&grp->changes);
		else
			regressions_history_first_bad(g, h, first_bad,
						      cc->cell,
						      grp->signature);
		bisect_cost(h, cc, first_bad, &g->builds, &g->boots);
		if (bc->status == BISECT_RUN) {
			g->status = grp->drift ? REGRESSION_DRIFT :
				    REGRESSION_OPEN;
			g->bisecting = 1;
		} else if (bc->status == BISECT_UNDECIDED) {
			g->status = REGRESSION_UNDECIDED;
			for (k = 0; k < b.n_commits; k++)
				if (bisect_state_of(&b, i, k) == BISECT_FLAKY)
					g->status = REGRESSION_FLAKY;
			g->why = xstrdup(bc->why.buf);
			regressions_history_ref(&g->lo, h,
						(int)grp->range[bc->lo]);
			regressions_history_ref(&g->hi, h,
						(int)grp->range[bc->hi]);
		} else {
			g->status = grp->drift ? REGRESSION_DRIFT :
				    REGRESSION_OPEN;
		}
		if (fixed >= 0 && g->status == REGRESSION_OPEN &&
		    !g->bisecting) {
			g->status = REGRESSION_FIXED;
			regressions_history_ref(&g->fixed_by, h, fixed);
		}
		/* Named and still open: the tip a revert check reverts
		 * the culprit on (regressions-revert.c). */
		if (!grp->drift && bc->status == BISECT_DONE &&
		    g->status == REGRESSION_OPEN && !g->bisecting)
			g->revert.tip = xstrdup(h->commits[tip_of(h,
						first_bad)].id);
	}
	ret = 0;
out:
	bisect_release(&b);
	free(ids);
	free(targets);
	free(results);
	return ret;
}

int regressions_bisect_run(struct regressions *rs, const struct history *h,
			   struct bisect_groups *groups, struct strbuf *err)
{
	size_t i;

	for (i = 0; i < groups->n; i++)
		if (run_bisection(rs, h, &groups->v[i], err) < 0)
			return -1;
	return 0;
}

void regressions_bisect_release(struct bisect_groups *groups)
{
	size_t i;

	for (i = 0; i < groups->n; i++) {
		free(groups->v[i].cells);
		free(groups->v[i].entry);
		free(groups->v[i].own_range);
		free(groups->v[i].key);
		drift_changes_release(&groups->v[i].changes);
	}
	free(groups->v);
	memset(groups, 0, sizeof(*groups));
}
