/*
 * regressions-input: the runs as comparing and the dashboard read them
 * (regressions.h, struct regressions_input): compact, every string an id
 * into one pool, filled from one sequential scan of the store or, by the
 * dashboard, from its cache plus the runs recorded since; and each tree's
 * commits, read once. Nothing here compares; nothing is written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/regressions.h"
#include "lib/xmalloc.h"

void regressions_input_init(struct regressions_input *in)
{
	int added;

	memset(in, 0, sizeof(*in));
	ALLOC_GROW(in->strs, 1, in->strs_alloc);
	in->strs[0] = xstrdup("");
	in->n_strs = 1;
	strmap_put(&in->index, in->strs, "", &added);
}

void regressions_input_release(struct regressions_input *in)
{
	size_t i;

	for (i = 0; i < in->n_trees; i++)
		record_history_commits_free(in->trees[i].commits,
					    in->trees[i].n);
	free(in->trees);
	for (i = 0; i < in->n_strs; i++)
		free(in->strs[i]);
	free(in->strs);
	strmap_release(&in->index);
	free(in->runs);
	memset(in, 0, sizeof(*in));
}

uint32_t regressions_input_intern(struct regressions_input *in,
				  const char *s)
{
	uint32_t id;
	int added;

	if (!s || !*s)
		return 0;
	id = strmap_put(&in->index, in->strs, s, &added);
	if (added) {
		ALLOC_GROW(in->strs, in->n_strs + 1, in->strs_alloc);
		in->strs[in->n_strs++] = xstrdup(s);
	}
	return id;
}

uint32_t regressions_input_lookup(const struct regressions_input *in,
				  const char *s)
{
	if (!s || !*s)
		return 0;
	return strmap_get(&in->index, in->strs, s);
}

int regressions_input_commits(struct regressions_input *in,
			      struct record *r, uint32_t tree,
			      const struct regressions_tree **out,
			      struct strbuf *err)
{
	struct regressions_tree *t;
	size_t i;

	for (i = 0; i < in->n_trees; i++)
		if (in->trees[i].tree == tree) {
			*out = &in->trees[i];
			return 0;
		}
	in->trees = xrealloc(in->trees, (in->n_trees + 1) *
			     sizeof(*in->trees));
	t = &in->trees[in->n_trees];
	memset(t, 0, sizeof(*t));
	t->tree = tree;
	if (record_history_commits(r, in->strs[tree], &t->commits, &t->n,
				   err) < 0)
		return -1;
	in->n_trees++;
	*out = t;
	return 0;
}

/* Runs come in groups (one job: one commit, its cells): the field of the
 * run before is tried first. */
static uint32_t intern_near(struct regressions_input *in, const char *s,
			    uint32_t before)
{
	if (!s || !*s)
		return 0;
	if (!strcmp(in->strs[before], s))
		return before;
	return regressions_input_intern(in, s);
}

void regressions_input_add(struct regressions_input *in,
			   const struct record_run *run)
{
	static const struct regressions_run none;
	const struct regressions_run *b;
	struct regressions_run *v;

	ALLOC_GROW(in->runs, in->n_runs + 1, in->runs_alloc);
	v = &in->runs[in->n_runs];
	b = in->n_runs ? &in->runs[in->n_runs - 1] : &none;
	memset(v, 0, sizeof(*v));
	v->id = run->id;
	v->started_at = run->started_at;
	v->tree = intern_near(in, run->tree, b->tree);
	v->build = intern_near(in, run->build, b->build);
	v->commit = intern_near(in, run->commit_id, b->commit);
	v->cell = regressions_input_intern(in, run->cell);
	v->line = intern_near(in, run->line, b->line);
	v->purpose = intern_near(in, run->purpose, b->purpose);
	v->reason = intern_near(in, run->reason, b->reason);
	v->kernel = intern_near(in, run->kernel_id, b->kernel);
	v->verdict = (unsigned char)run->verdict;
	v->has_log = run->log_path && *run->log_path;
	in->n_runs++;
}

static int input_scan(const struct record_run *run, void *data,
		      struct strbuf *err)
{
	(void)err;
	regressions_input_add(data, run);
	return 0;
}

int regressions_input_load(struct regressions_input *in, struct record *r,
			   int64_t after_id, struct strbuf *err)
{
	return record_query_brief_after(r, after_id, input_scan, in, err);
}

