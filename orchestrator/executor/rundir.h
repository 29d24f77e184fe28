/*
 * rundir: the files of a run's or a build's directory in the shared
 * directory, the contract between the daemon and the command a Slurm job
 * runs on a node (`hvmatrix run-cell`, `hvmatrix run-build`). The writer
 * of each file and its reader are this one module, so the two sides
 * cannot disagree on a format:
 *
 *   SHARED/runs/NAME/spec.json         the cell and its artifacts (daemon)
 *   SHARED/runs/NAME/result.json       the verdict (node)
 *   SHARED/runs/NAME/console.log[.zst] the console (node)
 *   SHARED/arrays/NAME/tasks           a job array's run directories, one
 *                                      a line (daemon; read by run-cell)
 *   SHARED/builds/runs/NAME/spec.json, result.json   the same for a build
 *
 * Every file is written whole (temp + rename): a reader never sees half
 * of one. Everything here blocks: it is for the thread pool or for the
 * node's command, never for the loop. It decides nothing: a verdict is
 * the node's judge's, read back as it was written.
 */
#ifndef HVM_RUNDIR_H
#define HVM_RUNDIR_H

#include "boot/boot.h"
#include "build/build.h"
#include "matrix/cell.h"
#include "lib/strbuf.h"

#define RUNDIR_RUN_CELL "run-cell"	/* the node's command for a run */
#define RUNDIR_RUN_BUILD "run-build"	/* ... for a build */
#define RUNDIR_SPEC "spec.json"
#define RUNDIR_RESULT "result.json"
#define RUNDIR_CONSOLE "console.log"
#define RUNDIR_TASKS "tasks"		/* an array's task file */

/* ---- a run: spec.json in, result.json and the console out ---- */

/* What a node needs to run one cell. */
struct rundir_spec {
	struct cell cell;
	char *kernel, *initrd;	/* paths the node can read */
};

/* spec.json for running c with kernel and initrd (appended to out). */
void rundir_spec_format(struct strbuf *out, const struct cell *c,
			const char *kernel, const char *initrd);
/* dir (created) and dir/spec.json in it: 0, or -1 + err. */
int rundir_spec_write(const char *dir, const struct cell *c,
		      const char *kernel, const char *initrd,
		      struct strbuf *err);
/* Read spec.json back: 0, or -1 + err ("FILE: ..."). */
int rundir_spec_read(struct rundir_spec *s, const char *path,
		     struct strbuf *err);
void rundir_spec_release(struct rundir_spec *s);

/* A finished run's result, as written by the node. */
struct rundir_result {
	enum verdict verdict;
	char *reason, *line;
	char *nonce;
	char *log;		/* file name in the run directory, or NULL */
	char *host;
	double started_at, duration_s;
	/* The node's probe results and fingerprint (JSON object text,
	 * "" if none), handed to the daemon's judge as they are. */
	struct rundir_probe {
		char *name, *result, *detail;
		double seconds;
	} *probes;
	size_t n_probes;
	char *fingerprint;
};

/* Write dir/result.json atomically from a finished run. 0 or -errno. */
int rundir_result_write(const char *dir, const struct boot_run *r);
/* 1 and *res set, 0 when there is no result yet, -1 + err if unreadable. */
int rundir_result_read(struct rundir_result *res, const char *dir,
		       struct strbuf *err);
void rundir_result_release(struct rundir_result *res);

/*
 * The console log dir/name moved to log_path (".zst" added when name is
 * a compressed one, as boot.c does): the path it went to (free it), or
 * NULL when it could not be moved.
 */
char *rundir_console_take(const char *dir, const char *name,
			  const char *log_path);

/* dir (created) and dir/tasks: line i is run_dirs[i]. 0, or -1 + err. */
int rundir_tasks_write(const char *dir, const char *const *run_dirs,
		       size_t n, struct strbuf *err);

/* ---- a build: the same two files ---- */

/* What `hvmatrix run-build` reads: the build, by name, from a matrix. */
struct rundir_build_spec {
	char *matrix, *tree, *build, *commit, *repo, *state_dir;
	unsigned jobs;
};

/*
 * spec.json for building b (its tree, config, commit, repo_path and jobs)
 * as matrix_path says, under state_dir on the node (appended to out).
 */
void rundir_build_spec_format(struct strbuf *out, const char *matrix_path,
			      const struct build *b,
			      const char *state_dir);
/* dir (created) and text as dir/spec.json: 0, or -1 + err. */
int rundir_build_spec_write(const char *dir, const char *text,
			    struct strbuf *err);
int rundir_build_spec_read(struct rundir_build_spec *s, const char *path,
			   struct strbuf *err);
void rundir_build_spec_release(struct rundir_build_spec *s);
/* dir/result.json from a finished build, atomically. 0 or -errno. */
int rundir_build_result_write(const char *dir, const struct build *b);
/*
 * 1 and res's results set (release with build_release), 0 when there
 * is none yet, -1 + err. Paths outside shared are dropped.
 */
int rundir_build_result_read(struct build *res, const char *dir,
			     const char *shared, struct strbuf *err);

#endif
