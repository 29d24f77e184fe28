/*
 * regressions-input: the runs as comparing and the dashboard read them
 * (regressions.h, struct regressions_input): compact, every string an id
 * into one pool, filled from one sequential scan of the store or, by the
 * dashboard, from its cache plus the runs recorded since; and each tree's
 * commits, read once. A run's fingerprint is kept as its canonical text
 * (drift.h), one pool string shared by every run that engaged the same.
 * Nothing here compares; nothing is written.
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

/* The pool id of a fingerprint's canonical text, 0 for none. */
static uint32_t fp_id(struct regressions_input *in, const char *json)
{
	char *canon;
	uint32_t id;

	if (!json || !*json)
		return 0;
	canon = drift_fp_canonical(json);
	id = regressions_input_intern(in, canon);
	free(canon);
	return id;
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
	v->reused = run->reused_from != 0;
	v->fp = fp_id(in, run->fingerprint);
	in->n_runs++;
}

static int input_scan(const struct record_run *run, void *data,
		      struct strbuf *err)
{
	(void)err;
	/* A revert check's runs boot a commit that is not the tree's:
	 * extra evidence (regressions-revert.c), never its history. */
	if (run->purpose && !strcmp(run->purpose, "revert"))
		return 0;
	regressions_input_add(data, run);
	return 0;
}

/*
 * The fingerprints' scan walks the runs it was given in id order too. A
 * cell's runs differ in their boot time alone, which the canonical text
 * leaves out: the text without it (when it is the last member, as the
 * judge writes it) is remembered with its pool id, so that 400,000 runs
 * are parsed a few hundred times, not 400,000.
 */
struct fp_scan {
	struct regressions_input *in;
	size_t at;
	struct strmap memo;
	char **keys;
	uint32_t *ids;
	size_t n, alloc;
};

/* json without a last member `, "boot_seconds": NUMBER`, or as it is. */
static char *memo_key(const char *json)
{
	static const char member[] = ", \"boot_seconds\": ";
	const char *at = strstr(json, member), *next;
	const char *end = json + strlen(json);

	while (at && (next = strstr(at + 1, member)))
		at = next;
	if (at && end > at && end[-1] == '}' &&
	    strspn(at + strlen(member), "0123456789.-+eEnul") ==
	    (size_t)(end - 1 - at - strlen(member)))
		return xstrfmt("%.*s}", (int)(at - json), json);
	return xstrdup(json);
}

static int fp_scan(int64_t id, const char *fingerprint, void *data,
		   struct strbuf *err)
{
	struct fp_scan *s = data;
	char *key;
	uint32_t k;
	int added;

	(void)err;
	while (s->at < s->in->n_runs && s->in->runs[s->at].id < id)
		s->at++;
	/* A run recorded between the two scans is read by the next load. */
	if (s->at == s->in->n_runs || s->in->runs[s->at].id != id)
		return 0;
	key = memo_key(fingerprint);
	k = strmap_put(&s->memo, s->keys, key, &added);
	if (added) {
		ALLOC_GROW(s->keys, s->n + 1, s->alloc);
		s->ids = xrealloc(s->ids, s->alloc * sizeof(*s->ids));
		s->keys[s->n] = key;
		s->ids[s->n++] = fp_id(s->in, key);
	} else {
		free(key);
	}
	s->in->runs[s->at].fp = s->ids[k];
	return 0;
}

int regressions_input_load(struct regressions_input *in, struct record *r,
			   int64_t after_id, struct strbuf *err)
{
	struct fp_scan s;
	size_t lo = 0, hi = in->n_runs, i;
	int ret;

	if (record_query_brief_after(r, after_id, input_scan, in, err) < 0)
		return -1;
	/* The first run above after_id: the scan starts there. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (in->runs[mid].id <= after_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == in->n_runs)
		return 0;
	memset(&s, 0, sizeof(s));
	s.in = in;
	s.at = lo;
	ret = record_fingerprint_after(r, after_id, fp_scan, &s, err);
	for (i = 0; i < s.n; i++)
		free(s.keys[i]);
	free(s.keys);
	free(s.ids);
	strmap_release(&s.memo);
	return ret;
}

