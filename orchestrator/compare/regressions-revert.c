/*
 * regressions-revert: each finding's revert check, from the store. The
 * checks the daemon recorded (table reverts) and the runs of their
 * revert commits (purpose "revert", which the rest of comparing never
 * reads) give the status (revert.c, pure). One check per (tree, build,
 * culprit) is made: the newest recorded one is the finding's, whatever
 * the tip has become since (a check is a full build and boot of every
 * broken cell, not worth redoing on every push while the regression
 * stays open). Nothing is kept between calls.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/regressions.h"
#include "lib/xmalloc.h"

/* The newest check of g's culprit, or NULL. */
static const struct record_revert *check_of(const struct regression *g,
					    const struct record_revert *v,
					    size_t n)
{
	size_t i = n;

	while (i--)
		if (!strcmp(v[i].tree, g->tree) &&
		    !strcmp(v[i].build, g->build) &&
		    !strcmp(v[i].culprit, g->first_bad.commit))
			return &v[i];
	return NULL;
}

static int attach_one(struct record *r, struct regression *g,
		      const struct record_revert *rv, struct strbuf *err)
{
	struct record_run *runs = NULL;
	struct revert_run *rr;
	struct strbuf why = STRBUF_INIT;
	size_t n = 0, i;

	if (*rv->revert_commit &&
	    record_revert_runs(r, rv->tree, rv->revert_commit, rv->build,
			       &runs, &n, err) < 0)
		return -1;
	rr = xcalloc(n + 1, sizeof(*rr));
	g->revert.run_ids = xcalloc(n + 1, sizeof(*g->revert.run_ids));
	for (i = 0; i < n; i++) {
		rr[i].id = runs[i].id;
		rr[i].cell = runs[i].cell;
		rr[i].verdict = runs[i].verdict;
		rr[i].line = runs[i].line;
		rr[i].reason = runs[i].reason;
	}
	g->revert.status = revert_status_of(rv->status, rv->detail,
					    (const char *const *)g->cells,
					    g->n_cells, g->signature, rr, n,
					    &why);
	/* The runs of the broken cells: the evidence the status rests on. */
	for (i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < g->n_cells; k++)
			if (!strcmp(g->cells[k], runs[i].cell))
				break;
		if (k < g->n_cells)
			g->revert.run_ids[g->revert.n_run_ids++] = runs[i].id;
	}
	free(g->revert.tip);
	g->revert.tip = xstrdup(rv->tip);
	g->revert.commit = xstrdup(rv->revert_commit);
	g->revert.why = strbuf_detach(&why, NULL);
	free(rr);
	record_runs_free(runs, n);
	return 0;
}

int regressions_revert_attach(struct record *r, struct regressions *rs,
			      struct strbuf *err)
{
	struct record_revert *v = NULL;
	size_t n = 0, i;
	int ret = -1;

	if (record_revert_list(r, &v, &n, err) < 0)
		return -1;
	for (i = 0; i < rs->n; i++) {
		struct regression *g = &rs->v[i];
		const struct record_revert *rv;

		if (!g->first_bad.commit || g->status == REGRESSION_DRIFT)
			continue;
		rv = check_of(g, v, n);
		if (rv) {
			if (attach_one(r, g, rv, err) < 0)
				goto out;
		} else if (g->revert.tip) {
			g->revert.due = 1;
		}
	}
	ret = 0;
out:
	record_revert_list_free(v, n);
	return ret;
}
