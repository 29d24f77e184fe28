/*
 * regressions-priv.h: what the files of regressions (regressions.h) share.
 * From the bottom up: regression.c (one finding: made, released, named,
 * as JSON), regressions-history.c (the index of one tree and build's
 * runs by commit), regressions-class.c (the class of each commit's runs),
 * regressions-bisect.c (one bisection per range, for the cells that
 * broke over it), regressions-compare.c (each cell of a history compared:
 * classes, wants, flaky ones, bisection groups), regressions-merge.c (one
 * finding for a regression seen in several cells) and regressions.c (the
 * driver: every tree and build of the runs). Nothing outside them
 * includes it.
 */
#ifndef HVM_REGRESSIONS_PRIV_H
#define HVM_REGRESSIONS_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "compare/compare.h"
#include "compare/drift.h"
#include "compare/regressions.h"

/* ---- regression.c: one finding ---- */

/* A new finding in rs (tree and build copied), seen in cell. */
struct regression *regression_add(struct regressions *rs, const char *tree,
				  const char *build, const char *cell);
void regression_release(struct regression *g);

/* ---- regressions-history.c: one (tree, build)'s runs by commit ---- */

/* The history of one (tree, build): its runs are input indices. */
struct history {
	const struct regressions_input *in;
	const char *tree, *build;
	const struct record_commit *commits;	/* the input's */
	size_t n_commits;
	size_t *by_id;			/* commit indices sorted by id */
	uint32_t *runs;			/* input indices, id order */
	size_t n_runs;
	const char **sigs;		/* per run: FAIL's signature or NULL */
	int *run_commit;		/* per run: commit index or -1 */
	size_t *at;			/* per commit: its first in by_commit */
	int *parent;			/* per commit: its parent's index */
	uint32_t *by_commit;		/* runs grouped by commit, id order */
	char **sig_of;			/* per pool string: its signature */
	struct drift_fp **fp_of;	/* per pool string: the fingerprint
					 * it is the canonical text of */
	size_t n_fp;			/* runs with a fingerprint */
	/* regressions-compare.c's scratch, per commit and per run of one
	 * cell. */
	struct compare_commit *cc;
	size_t *count, *count_at;
	struct compare_run *cruns;
	size_t n_cruns;
};

#define RUN(h, i) (&(h)->in->runs[(h)->runs[i]])
#define STR(h, id) ((h)->in->strs[id])

/* The positions of commit c's runs: by_commit[at[c]] .. [at[c + 1]). */
#define FOR_COMMIT_RUNS(h, c, k) \
	for ((k) = (h)->at[c]; (k) < (h)->at[(c) + 1]; (k)++)

/*
 * Index h's runs (h->in, tree, build, runs and n_runs set by the caller)
 * by the commits of tree, a pool id, read from the store on first use.
 */
int regressions_history_load(struct record *r, struct regressions_input *in,
			     struct history *h, uint32_t tree,
			     struct strbuf *err);
void regressions_history_release(struct history *h);
/* Runs of cell on commit: all, FAIL with sig, and the first such line. */
unsigned regressions_history_runs_on(const struct history *h, int commit,
				     const char *cell, const char *sig,
				     unsigned *fail, const char **line);
/* Is a on b's first-parent chain (a == b included)? */
int regressions_history_on_chain(const struct history *h, int a, int b);
/* Has cell a "test" run on commit that failed (want_fail) or passed? */
int regressions_history_has_test_run(const struct history *h, int commit,
				     const char *cell, int want_fail);
/* ref: commit i of the history; nothing for i < 0. */
void regressions_history_ref(struct regression_ref *ref,
			     const struct history *h, int i);
/* g's first bad commit, its line and its runs, as the history has them. */
void regressions_history_first_bad(struct regression *g,
				   const struct history *h, int first_bad,
				   const char *cell, const char *sig);
/* The fingerprint of run i (history position), NULL when none. */
const struct drift_fp *regressions_history_fp(const struct history *h,
					      size_t i);
/* Ask for cell to have `runs` runs in all on commit. */
void regressions_history_want(struct regressions *rs,
			      const struct history *h, int commit,
			      const char *cell, unsigned runs,
			      const char *purpose);

/* One cell's comparison over a history (regressions-compare.c). */
struct cell_cmp {
	const char *cell;
	uint32_t cell_id;
	unsigned confirm;
	uint32_t *mine;			/* its runs (history positions) */
	int grouped;			/* a bisection group holds res */
	size_t n_mine;
	struct compare_result res;
};

/* ---- regressions-class.c ---- */

/*
 * The classes of cc's commits: into run_class (per input run) when it is
 * not NULL, else appended to rs->classes (sorted at the end).
 */
void regressions_class_add(struct regressions *rs, const struct history *h,
			   const struct cell_cmp *cc, const char **run_class);
void regressions_class_sort(struct regressions *rs);

/* ---- regressions-bisect.c ---- */

/*
 * A bisection over one range, for the cells that broke over it, or (a
 * drift group) whose fingerprints changed alike over it: there "bad" is
 * a run showing the after-values, "good" one showing the before-values.
 */
struct bisect_group {
	size_t *range;		/* commit indices, last good .. first bad */
	size_t n_range;
	const char *signature;
	struct cell_cmp **cells;
	size_t *entry;		/* per cell: its REGRESSION entry index */
	size_t n_cells;
	/* A drift group's own: the changes, their key (the signature)
	 * and the range (a regression's are its compare entry's). */
	int drift;
	struct drift_changes changes;
	char *key;
	size_t *own_range;
};

/* The bisections of one history, in the order their ranges came. */
struct bisect_groups {
	struct bisect_group *v;
	size_t n;
};

/* Put cc's regression at entry into the group of its range. */
void regressions_bisect_add(struct bisect_groups *groups,
			    struct cell_cmp *cc, size_t entry);
/* Put cc's drift over range (commit indices, before .. after) into the
 * group of its range and changes; range and changes are taken. */
void regressions_bisect_add_drift(struct bisect_groups *groups,
				  struct cell_cmp *cc, size_t *range,
				  size_t n_range,
				  struct drift_changes *changes);
/* Each group's next step (wants) and its cells' findings, into rs. */
int regressions_bisect_run(struct regressions *rs, const struct history *h,
			   struct bisect_groups *groups, struct strbuf *err);
void regressions_bisect_release(struct bisect_groups *groups);

/* ---- regressions-drift.c ---- */

/* The drifts of cc (a commit's fingerprints against its nearest tested
 * ancestor's, PASS runs only), each into its bisection group. */
void regressions_drift_cell(const struct history *h, struct cell_cmp *cc,
			    struct bisect_groups *groups);

/* ---- regressions-compare.c ---- */

/*
 * Compare every cell of h: classes, confirmation wants, flaky findings,
 * then the bisections. m (may be NULL) gives the `confirm`s.
 */
int regressions_compare_history(struct regressions *rs, struct history *h,
				const struct matrix *m, const char **run_class,
				struct strbuf *err);

/* ---- regressions-merge.c ---- */

/* rs->v[from ..]: the same regression in several cells made one. */
int regressions_merge_cells(struct regressions *rs, size_t from,
			    struct strbuf *err);

#endif
