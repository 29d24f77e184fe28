/*
 * compare: the verdicts of one cell over the commits of one branch (one
 * tree, one build config) turned into what its users ask: did this commit
 * break the cell, was it already broken, did it fix it, or is the cell
 * flaky. Pure: the caller fills the input from the store and acts on the
 * result (confirmation runs, a bisection, the regressions it publishes);
 * nothing here is kept between calls, so a restart recomputes the same
 * classes from the same runs.
 *
 * The rules (docs/regressions.md says why):
 *  - a commit's own runs give its outcome: PASS (only PASS runs among
 *    PASS/FAIL), FAIL (only FAIL), FLAKY (both), or none (no PASS or FAIL
 *    run: BLOCKED, INFRA for ERROR, SKIP, UNTESTED);
 *  - a commit is compared with the nearest commit on its first-parent
 *    chain that has an outcome (merges compare against their first
 *    parent; commits without one are looked through);
 *  - a FLAKY commit counts as failing for the commits after it: the bug
 *    is there, it just does not show every time.
 */
#ifndef HVM_COMPARE_H
#define HVM_COMPARE_H

#include <stddef.h>
#include "lib/strbuf.h"
#include "judge/verdict.h"

/* More FAIL runs a new failure needs before it is a regression. */
#define COMPARE_CONFIRM_DEFAULT 2

/* One run of the cell on one commit. */
struct compare_run {
	enum verdict verdict;
	const char *signature;	/* FAIL: signature_of(its line); else NULL */
};

struct compare_commit {
	const char *id;
	int parent;		/* first parent's index, -1 when not given */
	const struct compare_run *runs;
	size_t n_runs;
};

struct compare_input {
	/* Topological order, oldest first: a parent's index is lower. */
	const struct compare_commit *commits;
	size_t n_commits;
	unsigned confirm;	/* COMPARE_CONFIRM_DEFAULT; 0: one FAIL */
};

enum compare_class {
	COMPARE_UNTESTED = 0,	/* no run */
	COMPARE_PASS,
	COMPARE_SKIP,		/* the host cannot run the cell */
	COMPARE_BLOCKED,	/* the build failed */
	COMPARE_INFRA,		/* ERROR only: never the kernel's fault */
	COMPARE_REGRESSION,	/* passed before, fails now, confirmed */
	COMPARE_UNCONFIRMED,	/* passed before, fails now, `need` runs more */
	COMPARE_STILL_FAILING,	/* the failure began at first_bad */
	COMPARE_FIXED,		/* failed before, passes now */
	COMPARE_NEVER_PASSED,	/* fails, nothing before it ever passed */
	COMPARE_FLAKY,		/* PASS and FAIL runs on this very commit */
};

/* "untested", "pass", ..., "still-failing", "never-passed", "flaky". */
const char *compare_class_name(enum compare_class c);

/* The class of one commit, with what it was compared with. */
struct compare_entry {
	enum compare_class class;
	unsigned pass, fail;	/* PASS and FAIL runs: a FLAKY rate is */
	unsigned runs;		/* fail/(pass+fail); runs counts all */
	unsigned need;		/* UNCONFIRMED: FAIL runs still needed */
	/*
	 * The failure's signature (the one most FAIL runs share, the first
	 * run's on a tie), borrowed from the input. FIXED: the signature of
	 * the failure it ends. NULL when the commit neither fails nor fixes.
	 */
	const char *signature;
	/* STILL_FAILING with other words than the commit before it. */
	int signature_changed;
	/*
	 * Indices into the input, -1 when none. first_bad: where the failure
	 * began (itself for REGRESSION and UNCONFIRMED, the first FLAKY or
	 * failing commit after a pass for the others; FIXED: the first bad
	 * commit of the failure it ends). last_good: the nearest earlier
	 * commit on the chain whose runs all passed.
	 */
	int first_bad;
	int last_good;
	/*
	 * REGRESSION and UNCONFIRMED: the first-parent chain from last_good
	 * to this commit, both included, oldest first: everything between
	 * is untested, blocked, skipped or infra. The input of bisect_init.
	 */
	size_t *range;
	size_t n_range;
};

struct compare_result {
	struct compare_entry *entries;	/* one per input commit */
	size_t n;
};

/*
 * Classify every commit of in. 0, or -1 + err (a parent not before its
 * child, a run without a verdict); out is then empty. Release out with
 * compare_result_release either way.
 */
int compare_cell(const struct compare_input *in, struct compare_result *out,
		 struct strbuf *err);
void compare_result_release(struct compare_result *res);

/*
 * What to do about commit i (the flaky policy, docs/regressions.md):
 *  COMPARE_NOTHING       its class needs nothing;
 *  COMPARE_CONFIRM       UNCONFIRMED: run the cell *runs more times on it;
 *  COMPARE_BISECT        REGRESSION: bisect its range (a range of two,
 *                        last_good and the commit, is only the culprit's
 *                        confirmation); the regression is open meanwhile;
 *  COMPARE_REPORT_FLAKY  FLAKY, or a REGRESSION whose failure was later
 *                        seen to pass and fail on one commit: report it
 *                        flaky with its rate, never bisect it.
 */
enum compare_action {
	COMPARE_NOTHING = 0,
	COMPARE_CONFIRM,
	COMPARE_BISECT,
	COMPARE_REPORT_FLAKY,
};
enum compare_action compare_decide(const struct compare_result *res,
				   size_t i, unsigned *runs);

/* The commit that fixed the failure that began at first_bad, or -1. */
int compare_fixed_by(const struct compare_result *res, size_t first_bad);

/*
 * Grouping: the same regression seen in several cells. Give one entry per
 * (cell, regression), of one tree and build config, with its first bad
 * commit (compare's, or the culprit a bisection named) and its signature.
 */
struct compare_regression {
	const char *cell;
	const char *first_bad;	/* commit id */
	const char *signature;
};

struct compare_finding {
	const char *first_bad;	/* borrowed from the regressions */
	const char *signature;
	size_t *members;	/* indices into the regressions, in order */
	size_t n_members;
};

struct compare_findings {
	struct compare_finding *v;	/* in order of first appearance */
	size_t n;
};

/*
 * One finding per (first_bad, signature), listing the regressions (and
 * so the cells) that share it. 0, or -1 + err (a NULL commit or
 * signature). Release out with compare_findings_release either way.
 */
int compare_group(const struct compare_regression *regs, size_t n,
		  struct compare_findings *out, struct strbuf *err);
void compare_findings_release(struct compare_findings *f);

#endif
