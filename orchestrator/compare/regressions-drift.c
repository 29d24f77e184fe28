/*
 * regressions-drift: silent feature loss as the farm finds it. In one
 * cell of one history, each commit's fingerprints (its PASS runs that
 * printed one, drift.h) are summed and compared with those of its nearest
 * ancestor on the first-parent chain that has some (commits between are
 * looked through, as compare.c looks through untested ones). What changed
 * is a drift over that range, handed to its bisection group
 * (regressions-bisect.c), where cells that drifted alike over the same
 * range share one bisection; its confirmation runs on the culprit and its
 * parent are what tell a drift from a value that merely comes and goes.
 * Nothing here wants runs or makes findings itself.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

void regressions_drift_cell(const struct history *h, struct cell_cmp *cc,
			    struct bisect_groups *groups)
{
	struct drift_summary *sum;
	const struct drift_fp **last;
	unsigned char *has;
	size_t i;
	int c, p;

	/* No run of the history printed a fingerprint (a farm whose
	 * payload does not): nothing to sum, and a sum per commit of each
	 * cell would be most of the comparison's memory. */
	if (!h->n_fp)
		return;
	sum = xcalloc(h->n_commits + 1, sizeof(*sum));
	has = xcalloc(h->n_commits + 1, 1);
	last = xcalloc(h->n_commits + 1, sizeof(*last));
	for (i = 0; i < cc->n_mine; i++) {
		size_t k = cc->mine[i];
		const struct drift_fp *fp = regressions_history_fp(h, k);

		c = h->run_commit[k];
		/* Only a PASS says what a working kernel engaged. */
		if (c < 0 || !fp || RUN(h, k)->verdict != VERDICT_PASS)
			continue;
		if (!has[c])
			drift_summary_init(&sum[c]);
		has[c] = 1;
		/* The same fingerprint again (one parse per canonical text)
		 * cannot tell agreement from noise: only a different one can. */
		if (last[c] != fp)
			drift_summary_add(&sum[c], fp);
		last[c] = fp;
	}
	for (c = 0; c < (int)h->n_commits; c++) {
		struct drift_changes changes = { NULL, 0 };
		size_t *range, n = 1;
		int x;

		if (!has[c])
			continue;
		for (p = h->parent[c]; p >= 0 && !has[p]; p = h->parent[p])
			n++;
		if (p < 0)
			continue;
		drift_diff(&sum[p], &sum[c], &changes);
		if (!changes.n)
			continue;
		/* The chain p .. c, oldest first (bisect_init's order). */
		range = xcalloc(n + 2, sizeof(*range));
		range[n] = (size_t)c;
		for (x = h->parent[c], i = n; x != p; x = h->parent[x])
			range[--i] = (size_t)x;
		range[0] = (size_t)p;
		regressions_bisect_add_drift(groups, cc, range, n + 1,
					     &changes);
	}
	for (i = 0; i < h->n_commits; i++)
		if (has[i])
			drift_summary_release(&sum[i]);
	free(sum);
	free(has);
	free(last);
}
