/*
 * regressions-history: the runs of one (tree, build) indexed by the
 * tree's commits in recorded order (parents first): each commit's parent,
 * its runs grouped once, each FAIL's signature computed once per line;
 * and what the other regressions files ask of it (a cell's runs on a
 * commit, the first-parent chain, a commit as a finding's reference, a
 * want). 400,000 runs are a few linear passes: no string compared per
 * run where a pool id will do. Nothing here decides a class.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/regressions-priv.h"
#include "compare/signature.h"
#include "lib/xmalloc.h"

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

static struct drift_fp *parse_fp(const char *canon)
{
	struct strbuf err = STRBUF_INIT;
	struct drift_fp *fp = xcalloc(1, sizeof(*fp));

	/* Canonical texts were made by drift_fp_canonical: they parse. */
	drift_fp_parse(fp, canon, &err);
	strbuf_release(&err);
	return fp;
}

const struct drift_fp *regressions_history_fp(const struct history *h,
					      size_t i)
{
	const struct regressions_run *run = RUN(h, i);

	return run->fp ? h->fp_of[run->fp] : NULL;
}

void regressions_history_release(struct history *h)
{
	size_t i;

	if (h->sig_of)
		for (i = 0; i < h->in->n_strs; i++)
			free(h->sig_of[i]);
	free(h->sig_of);
	if (h->fp_of)
		for (i = 0; i < h->in->n_strs; i++)
			if (h->fp_of[i]) {
				drift_fp_release(h->fp_of[i]);
				free(h->fp_of[i]);
			}
	free(h->fp_of);
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

int regressions_history_load(struct record *r, struct regressions_input *in,
			     struct history *h, uint32_t tree,
			     struct strbuf *err)
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
	h->fp_of = xcalloc(h->in->n_strs + 1, sizeof(*h->fp_of));
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
		/* Parsed once per distinct fingerprint: most runs of a
		 * cell share one. */
		if (run->fp && !h->fp_of[run->fp])
			h->fp_of[run->fp] = parse_fp(STR(h, run->fp));
		if (run->fp)
			h->n_fp++;
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

unsigned regressions_history_runs_on(const struct history *h, int commit,
				     const char *cell, const char *sig,
				     unsigned *fail, const char **line)
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

int regressions_history_on_chain(const struct history *h, int a, int b)
{
	while (b > a)
		b = h->parent[b];
	return b == a;
}

int regressions_history_has_test_run(const struct history *h, int commit,
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

void regressions_history_ref(struct regression_ref *ref,
			     const struct history *h, int i)
{
	if (i < 0)
		return;
	ref->commit = xstrdup(h->commits[i].id);
	ref->subject = xstrdup(h->commits[i].subject);
	ref->author = xstrdup(h->commits[i].author);
}

void regressions_history_first_bad(struct regression *g,
				   const struct history *h, int first_bad,
				   const char *cell, const char *sig)
{
	const char *line = "";

	regressions_history_ref(&g->first_bad, h, first_bad);
	g->signature = xstrdup(sig ? sig : "");
	g->total = regressions_history_runs_on(h, first_bad, cell, sig,
					       &g->fail, &line);
	g->line = xstrdup(line ? line : "");
}

void regressions_history_want(struct regressions *rs,
			      const struct history *h, int commit,
			      const char *cell, unsigned runs,
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
