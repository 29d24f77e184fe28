/*
 * bisect: the bisection driver. Given the first-parent chain from the
 * last good commit to the first bad one and the cells that broke over it,
 * it says which commit to build and boot next, in which cells, how many
 * times, until it can name the first bad commit of every cell (or say why
 * it cannot). Pure: the caller builds, boots, records, and feeds each
 * result back; the driver's whole state is the results it was fed, so
 * after a restart bisect_load() of the recorded results resumes exactly.
 *
 * A step is one commit: one build serves every cell still bisecting over
 * it, so cells that broke in the same push share their midpoints. A
 * result counts as bad only with the signature of the regression chased;
 * a failure with other words is OTHER and, like a commit that does not
 * build, is skipped as `git bisect skip` does. The culprit is named only
 * when it and its parent were both tested and each reproduced its result
 * `confirm` more times (osstest); a commit that both passes and fails
 * ends the cell's bisection as flaky (docs/regressions.md).
 */
#ifndef HVM_BISECT_H
#define HVM_BISECT_H

#include <stddef.h>
#include "lib/strbuf.h"
#include "judge/verdict.h"

/* Reproductions of the culprit's FAIL and its parent's PASS: 4^-3. */
#define BISECT_CONFIRM_DEFAULT 3

/* What one cell's runs say about one commit. */
enum bisect_state {
	BISECT_UNKNOWN = 0,	/* no run yet */
	BISECT_GOOD,		/* passes */
	BISECT_BAD,		/* fails with the regression's signature */
	BISECT_OTHER,		/* fails only with another signature */
	BISECT_SKIP,		/* does not build, BLOCKED, ERROR, SKIP */
	BISECT_FLAKY,		/* both GOOD and BAD runs */
};

enum bisect_status {
	BISECT_RUN = 0,		/* a step to run (bisect_next's step) */
	BISECT_DONE,		/* the first bad commit is named */
	BISECT_UNDECIDED,	/* why says why, lo..hi the range left */
};

/* One cell's runs on one commit. */
struct bisect_runs {
	unsigned pass, bad, other, skip;
	unsigned ours;		/* runs made by this bisection */
	char *other_signature;	/* the first OTHER run's */
};

struct bisect_cell {
	char *name;
	char *signature;	/* of the regression chased */
	struct bisect_runs *runs;	/* one per commit */
	unsigned boots;		/* boots this bisection spent on the cell */
	/*
	 * Recomputed by every bisect_next from the runs alone. The first
	 * bad commit is in (lo, hi]: lo is GOOD, hi BAD. DONE: culprit is
	 * hi and its parent lo. UNDECIDED: why says why.
	 */
	enum bisect_status status;
	size_t lo, hi, culprit;
	struct strbuf why;
	/* bisect.c's own: what the cell wants next. */
	int want_kind;
	size_t want_commit;
	unsigned want_runs;
};

/* A cell to bisect and the signature of its regression. */
struct bisect_target {
	const char *cell;
	const char *signature;
};

struct bisect_want {
	size_t cell;		/* index into b->cells */
	unsigned runs;		/* boots of that cell wanted on the commit */
};

struct bisect_step {
	size_t commit;		/* index into b->commits */
	const struct bisect_want *want;	/* valid until the next call */
	size_t n_want;
};

struct bisect {
	char **commits;		/* [0] last good .. [n-1] first bad */
	size_t n_commits;
	struct bisect_cell *cells;
	size_t n_cells;
	unsigned confirm;
	/*
	 * Spent by this bisection (runs fed with `ours`): builds are the
	 * commits strictly inside the range it ran on (the two ends were
	 * built before it began); boots the runs that booted (not BLOCKED,
	 * not SKIP).
	 */
	unsigned builds, boots;
	unsigned char *built;	/* per commit: counted in builds */
	struct bisect_want *want;	/* the step's, n_cells long */
};

/*
 * commits: the first-parent chain, oldest first, from the last good
 * commit to the first bad one, both included (compare_entry.range); at
 * least two. The ends are taken as good and bad until runs say otherwise.
 * 0, or -1 + err; release b with bisect_release either way.
 */
int bisect_init(struct bisect *b, const char *const *commits,
		size_t n_commits, const struct bisect_target *targets,
		size_t n_targets, unsigned confirm, struct strbuf *err);
void bisect_release(struct bisect *b);

/*
 * Feed one run of cell on commit (indices). signature: of a FAIL. ours:
 * the run was made for this bisection (it counts as spent). 0, or -1 +
 * err (an index out of range, no verdict).
 */
int bisect_add(struct bisect *b, size_t commit, size_t cell, enum verdict v,
	       const char *signature, int ours, struct strbuf *err);

/*
 * The build of commit failed: BLOCKED for every cell (each would have
 * asked for it). 0, or -1 + err (no such commit).
 */
int bisect_add_blocked(struct bisect *b, size_t commit, int ours,
		       struct strbuf *err);

/* A recorded result, as the store holds it. */
struct bisect_result {
	const char *commit;	/* id */
	const char *cell;
	enum verdict verdict;
	const char *signature;
	int ours;
};

/*
 * Rebuild the state from recorded results (a restart): each result of a
 * commit and cell of this bisection is fed with bisect_add, the others are
 * ignored; *n_used (may be NULL) counts the ones taken. 0 or -1 + err.
 */
int bisect_load(struct bisect *b, const struct bisect_result *results,
		size_t n, size_t *n_used, struct strbuf *err);

/*
 * The next step. BISECT_RUN: build step->commit and boot each wanted cell
 * the wanted number of times, feed the results, call again. Otherwise
 * every cell is decided: BISECT_DONE when every cell named its culprit,
 * BISECT_UNDECIDED when at least one could not (see each cell's status).
 * Deterministic in the results fed, in whatever order.
 */
enum bisect_status bisect_next(struct bisect *b, struct bisect_step *step);

/* The state of a commit for a cell, the ends' assumptions included. */
enum bisect_state bisect_state_of(const struct bisect *b, size_t cell,
				  size_t commit);
/* "unknown", "good", "bad", "other", "skip", "flaky". */
const char *bisect_state_name(enum bisect_state s);

#endif
