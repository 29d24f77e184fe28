/*
 * regressions-merge: the same regression seen in several cells of one
 * tree and build (same first bad commit, signature and status) becomes
 * one finding listing them all, grouped by compare_group (pure), so a
 * reader and a webhook see one thing broken, not one per cell.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

/*
 * The same regression in several cells: one entry listing them all
 * (same tree, build, first bad commit, signature and status).
 */
int regressions_merge_cells(struct regressions *rs, size_t from,
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
