/*
 * executor: where a round of runs goes. The local executor is boot.c's
 * runner (children of this process); the Slurm executor (executor-slurm.c)
 * submits each run as a batch job that runs `hvmatrix run-cell` on a node
 * (the runs of a round with the same requests as one job array): the
 * same runner, the same judge, so a verdict means the same thing wherever
 * it ran. A matrix's `executor` section picks the default, a cell's
 * `executor` key overrides it; one round may use both. With `builds:
 * true` the kernel builds are Slurm jobs too (executor-build.h).
 *
 * The folder, from the bottom up: rundir.c (the files of a run's
 * directory in the shared directory: the daemon's writer and the node's
 * reader), slurm-cmd.c (one Slurm client as a child of the loop),
 * slurm-job.c (one Slurm job's states, and the ERROR Slurm's trouble is),
 * executor-slurm-round.c and executor-slurm.c (a round's runs on Slurm),
 * executor-build.c (a build on Slurm), and this file on top.
 *
 * It never decides a verdict itself except ERROR for the farm's trouble
 * (a job Slurm killed, lost or never started).
 */
#ifndef HVM_EXECUTOR_H
#define HVM_EXECUTOR_H

#include <uv.h>

#include "boot/boot.h"
#include "matrix/matrix.h"

struct executor;

/*
 * boot_start() for a matrix: runs whose cell goes to Slurm are submitted
 * there, the rest are booted here (at most opts->jobs at once). runs[] is
 * reordered (local ones first) before anything starts. on_all_done once,
 * after both halves are done.
 */
struct executor *executor_start(uv_loop_t *loop, const struct matrix *m,
				struct boot_run *runs, size_t n,
				const struct boot_opts *opts);
void executor_stop(struct executor *x);
/* Runs not started yet, and runs running now (local and in Slurm). */
void executor_load(const struct executor *x, size_t *waiting,
		   unsigned *running);
void executor_free(struct executor *x);

#endif
