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
 * The shared-directory format (spec in, result out) lives here too, so
 * that the daemon's writer and the node's reader are one module:
 *
 *   SHARED/runs/NAME/spec.json     the cell and its artifacts (daemon)
 *   SHARED/runs/NAME/result.json   the verdict (node, temp + rename)
 *   SHARED/runs/NAME/console.log[.zst]  the console (node)
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

#define EXECUTOR_RUN_CELL "run-cell"	/* the node's command */
#define EXECUTOR_RUN_BUILD "run-build"	/* ... for a build */
#define EXECUTOR_SPEC "spec.json"
#define EXECUTOR_RESULT "result.json"
#define EXECUTOR_CONSOLE "console.log"

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

/* ---- the shared directory's files ---- */

/* What a node needs to run one cell. */
struct executor_spec {
	struct cell cell;
	char *kernel, *initrd;	/* paths the node can read */
};

/* spec.json for running c with kernel and initrd (appended to out). */
void executor_spec_format(struct strbuf *out, const struct cell *c,
			  const char *kernel, const char *initrd);
/* Read spec.json back: 0, or -1 + err ("FILE: ..."). */
int executor_spec_read(struct executor_spec *s, const char *path,
		       struct strbuf *err);
void executor_spec_release(struct executor_spec *s);

/* A finished run's result, as written by the node. */
struct executor_result {
	enum verdict verdict;
	char *reason, *line;
	char *nonce;
	char *log;		/* file name in the run directory, or NULL */
	char *host;
	double started_at, duration_s;
};

/* Write dir/result.json atomically from a finished run. 0 or -errno. */
int executor_result_write(const char *dir, const struct boot_run *r);
/*
 * A file of the shared directory parsed into v (release it with
 * json_value_release, in every case). executor_spec_json: a spec the
 * daemon wrote, which must be there: 0, or -1 + err naming the file.
 * executor_result_json: DIR/result.json, *path its name (free it): 1, 0
 * if there is none yet, -1 + err.
 */
struct json_value;
int executor_spec_json(const char *path, struct json_value *v,
		       struct strbuf *err);
int executor_result_json(const char *dir, struct json_value *v,
			 char **path, struct strbuf *err);
/* 1 and *res set, 0 when there is no result yet, -1 + err if unreadable. */
int executor_result_read(struct executor_result *res, const char *dir,
			 struct strbuf *err);
void executor_result_release(struct executor_result *res);

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

/* SHARED/builds/runs/NAME/spec.json, as `hvmatrix run-build` reads it. */
struct executor_build_spec {
	char *matrix, *tree, *build, *commit, *repo, *state_dir;
	unsigned jobs;
};

int executor_build_spec_read(struct executor_build_spec *s, const char *path,
			     struct strbuf *err);
void executor_build_spec_release(struct executor_build_spec *s);
/* dir/result.json from a finished build, atomically. 0 or -errno. */
int executor_build_result_write(const char *dir, const struct build_job *b);
/*
 * 1 and res's results set (release with build_job_release), 0 when there
 * is none yet, -1 + err. Paths outside shared are dropped.
 */
int executor_build_result_read(struct build_job *res, const char *dir,
			       const char *shared, struct strbuf *err);

#endif
