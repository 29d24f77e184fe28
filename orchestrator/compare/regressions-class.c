/*
 * regressions-class: the class of each (tree, build, cell, commit) with
 * runs (compare.h's words: regression, still-failing, flaky, pass, ...),
 * per run for the dashboard or as a sorted table for lookups, and the one
 * place that says which class a run shows (`results`, `status`).
 */
#include <stdlib.h>
#include <string.h>

#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

void regressions_class_add(struct regressions *rs, const struct history *h,
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

		if (!h->cc[i].n_runs)	/* the comparison's, still there */
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

void regressions_class_sort(struct regressions *rs)
{
	if (rs->n_classes)	/* qsort of NULL is undefined, even for 0 */
		qsort(rs->classes, rs->n_classes, sizeof(*rs->classes),
		      class_sort);
}

const char *regressions_class_of_run(const struct regressions *rs,
				     const struct record_run *run)
{
	if (!run->tree || !*run->tree)
		return NULL;
	return regressions_class_of(rs, run->tree, run->build, run->cell,
				    run->commit_id);
}
