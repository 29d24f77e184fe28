/*
 * regressions: see regressions.h; the driver. The runs, compact
 * (regressions-input.c), are split by (tree, build); each pair's history
 * is indexed by commit (regressions-history.c), its cells compared
 * (regressions-compare.c: classes in regressions-class.c, bisections in
 * regressions-bisect.c) and a regression seen in several cells made one
 * finding (regressions-merge.c). What a finding is, its id and its JSON
 * are regression.c's. Nothing here is kept from one call to the next.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

/* The (tree, build) pairs with runs, as record_history_tree_builds orders
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
		if (regressions_history_load(r, in, &h, pairs[i].tree,
					     err) < 0 ||
		    regressions_compare_history(out, &h, m, run_class,
						err) < 0 ||
		    regressions_merge_cells(out, from, err) < 0) {
			regressions_history_release(&h);
			goto out;
		}
		regressions_history_release(&h);
	}
	regressions_class_sort(out);
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
	if (!ret)
		ret = regressions_revert_attach(r, out, err);
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
