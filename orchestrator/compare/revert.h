/*
 * revert: what a revert check of a bisected culprit showed (pure: no
 * store, no job). The daemon builds the tree's tip with the culprit
 * reverted and boots the regression's broken cells with it; their runs
 * (purpose "revert") and what the daemon recorded for the check give its
 * status:
 *
 *   heals           every broken cell passes with the revert (or fails
 *                   only with another signature: the regression's line
 *                   no longer appears);
 *   still-fails     a broken cell still fails with the same signature;
 *   does-not-apply  the revert conflicts (why: the conflicting paths);
 *   error           the farm could not tell: the revert did not build
 *                   (BLOCKED), the farm failed (ERROR) or the host cannot
 *                   run a cell (SKIP), with nothing decisive otherwise;
 *                   never heals nor still-fails;
 *   pending         queued, some cell has no verdict yet.
 *
 * A cell's verdict is its most decisive run: a FAIL with the signature,
 * else a PASS or another FAIL, else an ERROR, BLOCKED or SKIP. One cell
 * that still fails makes the check still-fails, whatever the others do.
 */
#ifndef HVM_REVERT_H
#define HVM_REVERT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "judge/verdict.h"

enum revert_status {
	REVERT_NONE = 0,	/* not tried (JSON null) */
	REVERT_PENDING,
	REVERT_HEALS,
	REVERT_STILL_FAILS,
	REVERT_DOES_NOT_APPLY,
	REVERT_ERROR,
};

/* One run of the revert commit. */
struct revert_run {
	int64_t id;
	const char *cell;
	enum verdict verdict;
	const char *line;	/* the decisive console line */
	const char *reason;	/* the verdict's reason, for people */
};

/*
 * The status of a check the daemon recorded as `decided` ("queued",
 * "does-not-apply" or "error", with detail), for a regression with
 * signature broken in cells, from the revert's runs. why gets a line for
 * people (the conflicting paths, the cell still failing, the farm's
 * reason); may be left empty for heals.
 */
enum revert_status revert_status_of(const char *decided, const char *detail,
				    const char *const *cells, size_t n_cells,
				    const char *signature,
				    const struct revert_run *runs,
				    size_t n_runs, struct strbuf *why);
/* "heals", "still-fails", "does-not-apply", "error", "pending"; NULL for
 * REVERT_NONE. */
const char *revert_status_name(enum revert_status s);

#endif
