/*
 * executor: where a round of runs goes. The local executor is boot.c's
 * runner (children of this process); the Slurm executor (executor-slurm.c)
 * submits each run as a batch job that runs `hvmatrix run-cell` on a node
 * (the runs of a round with the same requests as one job array): the
 * same runner, the same judge, so a verdict means the same thing wherever
 * it ran. A matrix's `executor` section picks the default, a cell's
 * `executor` key overrides it; one round may use both. With `builds:
 * true` the kernel builds are Slurm jobs too (executor-build.c, `hvmatrix
 * run-build` on a node: build.c there).
 *
 * The shared directory's files (spec in, result out) are rundir.c's, so
 * that the daemon's writer and the node's reader are one module.
 *
 * It never decides a verdict itself except ERROR for the farm's trouble
 * (a job Slurm killed, lost or never started).
 */
#ifndef HVM_EXECUTOR_H
#define HVM_EXECUTOR_H

#include <uv.h>

#include "boot/boot.h"
#include "build/build.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"

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

/* ---- executor-slurm.c ---- */

struct executor_slurm;

struct executor_slurm *executor_slurm_start(uv_loop_t *loop,
					    const struct matrix_executor *cfg,
					    struct boot_run *runs, size_t n,
					    const struct boot_opts *opts);
void executor_slurm_stop(struct executor_slurm *s);
void executor_slurm_load(const struct executor_slurm *s, size_t *waiting,
			 unsigned *running);
/* After on_all_done; frees once its timer is closed. */
void executor_slurm_free(struct executor_slurm *s);

/* ---- executor-build.c: a build as a Slurm job (builds: true) ---- */

/*
 * build_start() through Slurm: b set up as for build_start (tree, config,
 * commit, repo_path, jobs, callbacks; state_dir is not used: the node
 * builds under SHARED/builds). 0 (on_done follows, on the loop, with the
 * results a local build gives), or -1 + err and on_done never called.
 * The nodes must see matrix_path and b->repo_path at the same paths.
 */
int executor_build_start(uv_loop_t *loop, const struct matrix_executor *cfg,
			 const char *matrix_path, struct build_job *b,
			 struct strbuf *err);
/* build_stop(): scancel; on_done follows, BUILD_INTERRUPTED. */
void executor_build_stop(struct build_job *b);

#endif
