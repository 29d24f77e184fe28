/*
 * build: step 2 of the pipeline. Builds one commit of a kernel tree with
 * one build config in a persistent tree per (tree, config), so that
 * consecutive commits rebuild only what changed (ccache beneath).
 *
 * Layout under the state directory (all created on demand):
 *   build/<tree>/<config>/src/    the checkout: its own git repository whose
 *                                 objects come from the watched repository
 *                                 through alternates (nothing is written to
 *                                 the watched repository itself)
 *   build/<tree>/<config>/out/    make's O= output directory
 *   artifacts/<tree>/<commit>/<config>/<image basename>   the kept image
 *   logs/builds/<tree>/<commit>-<config>.log               the build log
 *   ccache/                       CCACHE_DIR
 *
 * A build runs as a child process group (make and its compilers) started
 * through hvmatrix's group trampoline (spawn.h): killing the group ends it
 * whole, and none of it outlives hvmatrix, even after kill -9.
 * Never blames the kernel for the farm: a checkout that fails, a make that
 * cannot start or a build that times out is BUILD_ERROR, not BUILD_FAILED.
 */
#ifndef HVM_BUILD_H
#define HVM_BUILD_H

#include <uv.h>

#include "matrix.h"
#include "strbuf.h"

enum build_status {
	BUILD_PENDING = 0,
	BUILD_OK,		/* the image is at image_path */
	BUILD_FAILED,		/* the kernel did not build: cells BLOCKED */
	BUILD_ERROR,		/* the farm failed (checkout, spawn, timeout,
				 * disk): cells ERROR, the commit is retried */
	BUILD_INTERRUPTED,	/* build_stop(): no result */
};

struct build_job;
typedef void (*build_progress_cb)(struct build_job *b, const char *stage,
				  void *data);
typedef void (*build_done_cb)(struct build_job *b, void *data);

struct build_job {
	/* Set by the caller before build_start(). */
	const struct matrix_tree *tree;
	const struct matrix_build *config;
	char commit[41];		/* full hex id */
	const char *state_dir;
	const char *repo_path;	/* the watched repository (path, or mirror) */
	unsigned jobs;		/* make -jN */
	build_progress_cb on_progress;	/* stage: "checkout", "config",
					 * "make", "done"; may be NULL */
	build_done_cb on_done;	/* called exactly once, on the loop */
	void *data;

	/* Results, valid in on_done. */
	enum build_status status;
	char *reason;		/* one line for people */
	char *errors;		/* the log's error lines, '\n'-separated, at
				 * most BUILD_MAX_ERROR_LINES; "" if none */
	char *log_path;
	char *image_path;	/* BUILD_OK only */
	double started_at;	/* Unix time */
	double duration_s;
	int pgid;		/* of the running make, 0 when none */

	/* Private to build.c. */
	void *priv;
};

#define BUILD_MAX_ERROR_LINES 20

/*
 * Start building b->commit on loop. Returns 0 (on_done will be called), or
 * -1 with err set and on_done never called. An artifact already kept for
 * (tree, commit, config) is reused: on_done reports BUILD_OK at once.
 */
int build_start(uv_loop_t *loop, struct build_job *b, struct strbuf *err);
/* Kill a running build's process group; on_done follows, INTERRUPTED. */
void build_stop(struct build_job *b);
/* Free what build_start and the results allocated (not b itself). */
void build_job_release(struct build_job *b);

/* Extract error lines from a build log's text (for tests and callers). */
void build_error_lines(const char *log, size_t len, struct strbuf *out);

const char *build_status_name(enum build_status s);

#endif
