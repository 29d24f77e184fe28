/*
 * compare: one cell's verdict history -> a class per commit. It walks the
 * commits once, oldest first, each looking at its first parent's
 * already-computed entry, so a history of n commits costs O(n) plus the
 * ranges of the new failures. It must never call a failure a regression
 * unless a commit before it on the same first-parent chain passed, and
 * never hide a FLAKY result behind a clean class.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"
#include "lib/xmalloc.h"

enum outcome {
	OUT_NONE = 0,		/* no PASS and no FAIL run */
	OUT_PASS,
	OUT_FAIL,
	OUT_FLAKY,
};

/* What the walk carries from a commit to its children. */
struct walk {
	enum outcome outcome;
	int prev;		/* nearest ancestor with an outcome */
	int last_pass;		/* nearest ancestor with outcome PASS */
	int ever_passed;	/* some ancestor had a PASS run */
};

static const char *const class_names[] = {
	[COMPARE_UNTESTED] = "untested",
	[COMPARE_PASS] = "pass",
	[COMPARE_SKIP] = "skip",
	[COMPARE_BLOCKED] = "blocked",
	[COMPARE_INFRA] = "infra",
	[COMPARE_REGRESSION] = "regression",
	[COMPARE_UNCONFIRMED] = "unconfirmed",
	[COMPARE_STILL_FAILING] = "still-failing",
	[COMPARE_FIXED] = "fixed",
	[COMPARE_NEVER_PASSED] = "never-passed",
	[COMPARE_FLAKY] = "flaky",
};

const char *compare_class_name(enum compare_class c)
{
	if ((unsigned)c >= ARRAY_SIZE(class_names))
		return "untested";
	return class_names[c];
}

static const char *sig_or_empty(const char *s)
{
	return s ? s : "";
}

/* The signature most FAIL runs share; the earliest one on a tie. */
static const char *common_signature(const struct compare_commit *c)
{
	const char *best = NULL;
	unsigned best_n = 0;
	size_t i, j;

	for (i = 0; i < c->n_runs; i++) {
		const char *s = sig_or_empty(c->runs[i].signature);
		unsigned n = 0;

		if (c->runs[i].verdict != VERDICT_FAIL)
			continue;
		for (j = i; j < c->n_runs; j++)
			if (c->runs[j].verdict == VERDICT_FAIL &&
			    !strcmp(s, sig_or_empty(c->runs[j].signature)))
				n++;
		if (n > best_n) {
			best = s;
			best_n = n;
		}
	}
	return best;
}

/* Count the runs of commit i; its outcome, or its class when it has none. */
static int count_runs(const struct compare_input *in, size_t i,
		      struct compare_entry *e, enum outcome *outcome,
		      struct strbuf *err)
{
	const struct compare_commit *c = &in->commits[i];
	unsigned error = 0, skip = 0, blocked = 0;
	size_t k;

	for (k = 0; k < c->n_runs; k++) {
		switch (c->runs[k].verdict) {
		case VERDICT_PASS:
			e->pass++;
			break;
		case VERDICT_FAIL:
			e->fail++;
			break;
		case VERDICT_ERROR:
			error++;
			break;
		case VERDICT_SKIP:
			skip++;
			break;
		case VERDICT_BLOCKED:
			blocked++;
			break;
		default:
			strbuf_addf(err, "commit %s: a run without a verdict",
				    c->id ? c->id : "?");
			return -1;
		}
	}
	e->runs = (unsigned)c->n_runs;
	if (e->pass && e->fail)
		*outcome = OUT_FLAKY;
	else if (e->fail)
		*outcome = OUT_FAIL;
	else if (e->pass)
		*outcome = OUT_PASS;
	else
		*outcome = OUT_NONE;
	if (e->fail)
		e->signature = common_signature(c);
	/* A failed build blocks the boot; ERROR is the farm, not the cell. */
	if (blocked)
		e->class = COMPARE_BLOCKED;
	else if (error)
		e->class = COMPARE_INFRA;
	else if (skip)
		e->class = COMPARE_SKIP;
	else
		e->class = COMPARE_UNTESTED;
	return 0;
}

/* The chain from `from` (an ancestor) down to i, oldest first. */
static void fill_range(const struct compare_input *in, size_t i, int from,
		       struct compare_entry *e)
{
	size_t n = 1, k;
	int c;

	for (c = (int)i; c != from; c = in->commits[c].parent)
		n++;
	e->range = xcalloc(n, sizeof(*e->range));
	e->n_range = n;
	k = n;
	for (c = (int)i; c != from; c = in->commits[c].parent)
		e->range[--k] = (size_t)c;
	e->range[0] = (size_t)from;
}

static void classify(const struct compare_input *in, size_t i,
		     struct compare_entry *entries, const struct walk *walk)
{
	const struct walk *w = &walk[i];
	struct compare_entry *e = &entries[i];
	const struct compare_entry *pe = NULL;
	enum outcome prev_out = OUT_NONE;

	if (w->prev >= 0) {
		pe = &entries[w->prev];
		prev_out = walk[w->prev].outcome;
	}

	e->first_bad = -1;
	e->last_good = w->last_pass;
	switch (w->outcome) {
	case OUT_NONE:
		return;
	case OUT_PASS:
		e->last_good = -1;
		if (prev_out == OUT_FAIL || prev_out == OUT_FLAKY) {
			e->class = COMPARE_FIXED;
			e->first_bad = pe->first_bad;
			e->signature = pe->signature;
		} else {
			e->class = COMPARE_PASS;
		}
		return;
	case OUT_FLAKY:
		e->class = COMPARE_FLAKY;
		if (prev_out == OUT_FAIL || prev_out == OUT_FLAKY)
			e->first_bad = pe->first_bad;
		else
			e->first_bad = (int)i;
		return;
	case OUT_FAIL:
		break;
	}
	if (!w->ever_passed) {
		/* Nothing to regress from: it is how the cell always was. */
		e->class = COMPARE_NEVER_PASSED;
		e->first_bad = prev_out == OUT_FAIL ? pe->first_bad : (int)i;
	} else if (prev_out == OUT_PASS) {
		e->first_bad = (int)i;
		if (e->fail >= in->confirm + 1) {
			e->class = COMPARE_REGRESSION;
		} else {
			e->class = COMPARE_UNCONFIRMED;
			e->need = in->confirm + 1 - e->fail;
		}
		fill_range(in, i, w->prev, e);
	} else {
		/* The commit before it failed or was flaky. */
		e->class = COMPARE_STILL_FAILING;
		e->first_bad = pe->first_bad;
		e->signature_changed = strcmp(sig_or_empty(e->signature),
					      sig_or_empty(pe->signature)) != 0;
	}
}

int compare_cell(const struct compare_input *in, struct compare_result *out,
		 struct strbuf *err)
{
	struct walk *walk = NULL;
	size_t i;
	int ret = -1;

	out->entries = xcalloc(in->n_commits ? in->n_commits : 1,
			       sizeof(*out->entries));
	out->n = in->n_commits;
	walk = xcalloc(in->n_commits ? in->n_commits : 1, sizeof(*walk));
	for (i = 0; i < in->n_commits; i++) {
		int p = in->commits[i].parent;
		struct walk *w = &walk[i];

		if (p < -1 || p >= (int)i) {
			strbuf_addf(err, "commit %s: its parent is not before "
				    "it (the commits must be oldest first)",
				    in->commits[i].id ? in->commits[i].id :
				    "?");
			goto out;
		}
		if (count_runs(in, i, &out->entries[i], &w->outcome, err))
			goto out;
		w->prev = -1;
		w->last_pass = -1;
		if (p >= 0) {
			const struct walk *pw = &walk[p];

			w->prev = pw->outcome != OUT_NONE ? p : pw->prev;
			w->last_pass = pw->outcome == OUT_PASS ? p :
				       pw->last_pass;
			w->ever_passed = pw->ever_passed ||
					 pw->outcome == OUT_PASS ||
					 pw->outcome == OUT_FLAKY;
		}
		classify(in, i, out->entries, walk);
	}
	ret = 0;
out:
	free(walk);
	if (ret)
		compare_result_release(out);
	return ret;
}

void compare_result_release(struct compare_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		free(res->entries[i].range);
	free(res->entries);
	res->entries = NULL;
	res->n = 0;
}

enum compare_action compare_decide(const struct compare_result *res,
				   size_t i, unsigned *runs)
{
	const struct compare_entry *e;
	size_t j;

	*runs = 0;
	if (i >= res->n)
		return COMPARE_NOTHING;
	e = &res->entries[i];
	switch (e->class) {
	case COMPARE_UNCONFIRMED:
		*runs = e->need;
		return COMPARE_CONFIRM;
	case COMPARE_FLAKY:
		return COMPARE_REPORT_FLAKY;
	case COMPARE_REGRESSION:
		/*
		 * Descendants come later in topological order. One of them
		 * passing and failing with these words means this failure
		 * does not show every time: bisecting it one run per step
		 * would blame whichever commit happened to fail first.
		 */
		for (j = i + 1; j < res->n; j++) {
			const struct compare_entry *d = &res->entries[j];

			if (d->class == COMPARE_FLAKY &&
			    d->first_bad == (int)i &&
			    !strcmp(sig_or_empty(d->signature),
				    sig_or_empty(e->signature)))
				return COMPARE_REPORT_FLAKY;
		}
		return COMPARE_BISECT;
	default:
		return COMPARE_NOTHING;
	}
}

int compare_fixed_by(const struct compare_result *res, size_t first_bad)
{
	size_t j;

	for (j = first_bad + 1; j < res->n; j++)
		if (res->entries[j].class == COMPARE_FIXED &&
		    res->entries[j].first_bad == (int)first_bad)
			return (int)j;
	return -1;
}

int compare_group(const struct compare_regression *regs, size_t n,
		  struct compare_findings *out, struct strbuf *err)
{
	size_t *which = NULL, alloc = 0, i, k;
	int ret = -1;

	out->v = NULL;
	out->n = 0;
	which = xcalloc(n ? n : 1, sizeof(*which));
	/* Quadratic, but n is cells x open regressions: tens, not millions. */
	for (i = 0; i < n; i++) {
		if (!regs[i].first_bad || !regs[i].signature) {
			strbuf_addf(err, "regression %zu (cell %s): no first "
				    "bad commit or no signature", i,
				    regs[i].cell ? regs[i].cell : "?");
			goto out;
		}
		for (k = 0; k < out->n; k++)
			if (!strcmp(out->v[k].first_bad, regs[i].first_bad) &&
			    !strcmp(out->v[k].signature, regs[i].signature))
				break;
		if (k == out->n) {
			ALLOC_GROW(out->v, out->n + 1, alloc);
			memset(&out->v[k], 0, sizeof(out->v[k]));
			out->v[k].first_bad = regs[i].first_bad;
			out->v[k].signature = regs[i].signature;
			out->n++;
		}
		which[i] = k;
		out->v[k].n_members++;
	}
	for (k = 0; k < out->n; k++) {
		out->v[k].members = xcalloc(out->v[k].n_members,
					    sizeof(*out->v[k].members));
		out->v[k].n_members = 0;
	}
	for (i = 0; i < n; i++) {
		struct compare_finding *f = &out->v[which[i]];

		f->members[f->n_members++] = i;
	}
	ret = 0;
out:
	free(which);
	if (ret)
		compare_findings_release(out);
	return ret;
}

void compare_findings_release(struct compare_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].members);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
