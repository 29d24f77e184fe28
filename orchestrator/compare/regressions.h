/*
 * regressions: step 7 of the pipeline, compare, as the farm runs it. It
 * reads the store's history of every (tree, build config, cell), classifies
 * it (compare.h), drives the bisection of each confirmed regression
 * (bisect.h) and says what to run next: confirmation runs of a new FAIL,
 * the next bisection step. Everything is derived from recorded runs, so a
 * restart computes the same findings and the same next steps; nothing is
 * kept in memory between calls and nothing is written here (the caller
 * turns `wants` into queued runs with record_queue_want_runs).
 */
#ifndef HVM_REGRESSIONS_H
#define HVM_REGRESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "compare/drift.h"
#include "compare/revert.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "lib/strbuf.h"
#include "lib/strmap.h"

enum regression_status {
	REGRESSION_OPEN = 0,	/* confirmed; bisected or being bisected */
	REGRESSION_FIXED,	/* a later commit passes again */
	REGRESSION_FLAKY,	/* passes and fails on one commit */
	REGRESSION_UNDECIDED,	/* the bisection could not name a commit */
	REGRESSION_DRIFT,	/* still passes, but engages less (or other)
				 * of the interface than its parent: changes */
};

struct regression_ref {
	char *commit;		/* NULL: none */
	char *subject, *author;
};

/* One regression, seen in one or more cells of one tree and build. */
struct regression {
	char *tree, *build;
	char **cells;		/* every cell it was seen in, the first is
				 * the one it is listed under */
	size_t n_cells;
	enum regression_status status;
	struct regression_ref first_bad, last_good, fixed_by;
	char *line;		/* the decisive console line on first_bad */
	char *signature;
	unsigned fail, total;	/* FAIL runs and all runs on first_bad */
	int bisected;		/* a bisection ran (builds, boots valid) */
	int bisecting;		/* ... and is not done */
	unsigned builds, boots;
	char *why;		/* UNDECIDED, FLAKY: in words */
	struct regression_ref lo, hi;	/* UNDECIDED: the range left */
	/* A drift (drift.h; also when its bisection ended undecided or
	 * flaky): what changed from last_good to first_bad. fail then
	 * counts first_bad's runs that showed the after-values. */
	struct drift_changes changes;
	/* A culprit checked by reverting it (revert.h, regressions-revert.c):
	 * tip is the tree's newest commit the open regression is on (set
	 * once a bisection named first_bad), or the tip a recorded check
	 * reverted it on; due: none is recorded yet, the daemon makes it. */
	struct regression_revert {
		enum revert_status status;	/* REVERT_NONE: not tried */
		char *tip, *commit, *why;
		int64_t *run_ids;
		size_t n_run_ids;
		int due;
	} revert;
};

/* Runs to queue: the cell wants `runs` runs in all on the commit. */
struct regression_want {
	char *tree, *commit, *build, *cell;
	unsigned runs;
	const char *purpose;	/* "confirm" or "bisect" */
};

/* The class of one (tree, build, cell, commit) with runs (compare.h). */
struct regression_class {
	char *tree, *build, *cell, *commit;
	const char *name;	/* compare_class_name(): "regression", ... */
};

struct regressions {
	struct regression *v;
	size_t n;
	struct regression_class *classes;	/* sorted: see below */
	size_t n_classes;
	struct regression_want *wants;
	size_t n_wants;
};

/*
 * The runs as comparing (and the dashboard) read them, compact: every
 * string is an id into the input's pool (0 is ""), so 400,000 runs cost
 * tens of bytes each, not a dozen mallocs. Filled from the store, or by
 * the dashboard from its cache plus the runs recorded since.
 */
struct regressions_run {
	int64_t id;
	double started_at;
	uint32_t tree, build, commit, cell, line, purpose, reason, kernel;
	unsigned char verdict;	/* enum verdict */
	unsigned char has_log;	/* its log_path is not "" */
	unsigned char reused;	/* its verdict was carried over from
				 * another run (reused_from), not booted */
	uint32_t fp;		/* its fingerprint, canonical (drift.h);
				 * 0 when it printed none */
};

/* A tree's commits (record_history_commits), read once per input. */
struct regressions_tree {
	uint32_t tree;
	struct record_commit *commits;
	size_t n;
};

struct regressions_input {
	struct regressions_run *runs;	/* id order */
	size_t n_runs, runs_alloc;
	char **strs;			/* the pool; strs[0] is "" */
	size_t n_strs, strs_alloc;
	struct strmap index;		/* over strs */
	struct regressions_tree *trees;
	size_t n_trees;
};

void regressions_input_init(struct regressions_input *in);
void regressions_input_release(struct regressions_input *in);
uint32_t regressions_input_intern(struct regressions_input *in,
				  const char *s);
/* The pool id of s, or UINT32_MAX when it is not in the pool. */
uint32_t regressions_input_lookup(const struct regressions_input *in,
				  const char *s);
/* The commits of tree (a pool id), read from the store on first use. */
int regressions_input_commits(struct regressions_input *in,
			      struct record *r, uint32_t tree,
			      const struct regressions_tree **out,
			      struct strbuf *err);
void regressions_input_add(struct regressions_input *in,
			   const struct record_run *run);
/* Add the runs with an id above after_id, from the store, with their
 * fingerprints. */
int regressions_input_load(struct regressions_input *in, struct record *r,
			   int64_t after_id, struct strbuf *err);

/*
 * regressions_compute over runs already read: the commits still come
 * from the store. run_class (may be NULL): per input run, the class of
 * its (tree, build, cell, commit), NULL when it has none; given, the
 * sorted `classes` are not made (the dashboard needs the one, not both).
 */
int regressions_compute_input(struct record *r,
			      struct regressions_input *in,
			      const struct matrix *m, struct regressions *out,
			      const char **run_class, struct strbuf *err);

/*
 * Compute every regression the store shows and the runs they want next.
 * m (may be NULL) gives the trees' and cells' `confirm`; without it the
 * defaults apply. 0 or -1 + err; release out either way.
 */
int regressions_compute(struct record *r, const struct matrix *m,
			struct regressions *out, struct strbuf *err);
void regressions_release(struct regressions *rs);
/*
 * The revert checks of rs's regressions, from the store (table reverts,
 * runs of purpose "revert"): each finding's revert status, or `due` when
 * a bisection named its culprit, it is still open and no check is
 * recorded. regressions_compute does it; 0 or -1 + err.
 */
int regressions_revert_attach(struct record *r, struct regressions *rs,
			      struct strbuf *err);
/* The class of a commit's runs in one cell, or NULL (no such runs). */
const char *regressions_class_of(const struct regressions *rs,
				 const char *tree, const char *build,
				 const char *cell, const char *commit);
/*
 * The class a run shows (`results`, `status`): its commit's in its cell,
 * or NULL for a run of no tree (`hvmatrix boot`) or of no class.
 */
const char *regressions_class_of_run(const struct regressions *rs,
				     const struct record_run *run);
const char *regression_status_name(enum regression_status s);
/*
 * The regression's id, "TREE:BUILD:CELL:FIRSTBAD12" (the first 12 hex
 * digits of its first bad commit, "none" without one): names never hold
 * ':', and the id is derived from what the store records, so it is the
 * same across restarts (`regressions --json` "id", `hvmatrix report ID`).
 */
void regression_id(const struct regression *g, struct strbuf *out);

/* The JSON object of one regression (the `regressions --json` contract). */
struct json;
/* key: {commit, subject, author}, or null for a ref with no commit. */
void regression_ref_json(struct json *js, const char *key,
			 const struct regression_ref *ref);
void regression_to_json(const struct regression *g, struct json *js);
/* The revert check in words: "verified by revert: ..." or why not; ""
 * when none was tried nor is due. */
void regression_revert_words(const struct regression *g, struct strbuf *out);
/* "changes": [{"field", "before", "after"}], a drift's (null: a set
 * element absent on that side); [] for a failure. */
void regression_changes_json(struct json *js,
			     const struct drift_changes *changes);

#endif
