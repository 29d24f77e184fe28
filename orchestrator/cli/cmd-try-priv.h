/*
 * cmd-try-priv: what the files of `hvmatrix try` share: cmd-try.c (the
 * command: options, the comparison, what it prints), cmd-try-series.c
 * (the series to try) and cmd-try-job.c (one commit through the farm's
 * job, for some cells).
 */
#ifndef HVM_CMD_TRY_PRIV_H
#define HVM_CMD_TRY_PRIV_H

#include <stddef.h>

#include "cli/cmd.h"
#include "lib/strbuf.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "watch/watch.h"

/* The series: its base and its commits on top, oldest first. */
struct cmd_try_series {
	char *repo;			/* the repository holding them all */
	struct watch_commit base;
	struct watch_commit *patches;
	size_t n;
};

/*
 * Resolve what to try in tree t's repository (fetched first if remote):
 * spec "REV" or "BASE..TIP", or (spec NULL) the mbox file mbox applied
 * onto the tree's first branch. 0; EXIT_USAGE with err for a revision
 * that does not resolve, an empty range or a series that does not apply
 * (err names the patch); EXIT_ERROR with err when git or the repository
 * fails.
 */
int cmd_try_series_open(struct cmd_try_series *s, const struct matrix_tree *t,
			const char *state_dir, const char *spec,
			const char *mbox, struct strbuf *err);
void cmd_try_series_release(struct cmd_try_series *s);

/* Where a try's jobs run. */
struct cmd_try_farm {
	struct matrix *m;	/* the matrix with the try's tree added */
	struct record *store;	/* the command's own connection */
	const char *state_dir;
	const char *initrd;
	const char *build;	/* the build config's name */
	const char *try_tree;	/* the tree its runs are recorded under */
	unsigned jobs;
	int quiet;
};

/*
 * Build commit (subject for the store) with the build config and boot it
 * in each of cells (names of f->m's cells) that has no try run of it yet;
 * record the runs (purpose "try") under f->try_tree. Returns EXIT_OK once
 * the job has run (its verdicts are in the store, whatever they are),
 * EXIT_ERROR after a message when the store or the loop failed, 130 when
 * interrupted.
 */
int cmd_try_job_run(const struct cmd_try_farm *f, const char *commit,
		    const char *subject, char *const *cells, size_t n_cells);

#endif
