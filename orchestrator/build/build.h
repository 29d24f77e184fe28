/*
 * build: step 2 of the pipeline. Builds one commit of a kernel tree with
 * one build config in a persistent tree per (tree, config), so that
 * consecutive commits rebuild only what changed (ccache beneath).
 *
 * Layout under the state directory (all created on demand):
 *   build/<tree>/<config>/src/    the checkout: its own git repository whose
 *                                 objects come from the watched repository
 *                                 through alternates (nothing is written to
 *                                 the watched repository itself); only the
 *                                 paths that changed are written, with no
 *                                 index (build-checkout.c): hvmatrix's, not
 *                                 a work tree for people
 *   build/<tree>/<config>/out/    make's O= output directory
 *   artifacts/<tree>/<commit>/<config>/<image basename>   the kept image
 *   logs/builds/<tree>/<commit>-<config>.log               the build log
 *
 * The compiler cache is shared by every state directory of a user, so a
 * new farm, test or demo starts warm. CCACHE_DIR is the first of:
 *   $HVMATRIX_CCACHE                    (non-empty)
 *   the build config's `ccache` key     (struct matrix_build.ccache)
 *   $XDG_CACHE_HOME/hvmatrix/ccache     (an absolute XDG_CACHE_HOME)
 *   ~/.cache/hvmatrix/ccache            ($HOME, else the passwd entry)
 * ccache itself locks its files: farms may share one cache. Paths are
 * hashed relative to build/<tree>/<config> (CCACHE_BASEDIR), so the same
 * source hits whichever state directory compiled it.
 *
 * A build runs as a child process group (make and its compilers) started
 * through hvmatrix's group trampoline (spawn.h): killing the group ends it
 * whole, and none of it outlives hvmatrix, even after kill -9.
 * Each step's processes carry SPAWN_GROUP_ENV (spawn.h), which lets a later
 * start tell a group left by a SIGKILLed hvmatrix *and* trampoline (an OOM
 * kill) from whatever reuses its id: build_host_kill_group().
 * Never blames the kernel for the farm: a host without make, ccache or
 * gcc, a checkout that fails, a make that cannot start or a build that
 * times out is a farm error (build_start() -1, or BUILD_ERROR), never
 * BUILD_FAILED.
 */
#ifndef HVM_BUILD_H
#define HVM_BUILD_H

#include <uv.h>

#include "matrix/matrix.h"
#include "lib/strbuf.h"

enum build_status {
	BUILD_PENDING = 0,
	BUILD_OK,		/* the image is at image_path */
	BUILD_FAILED,		/* the kernel did not build: cells BLOCKED */
	BUILD_ERROR,		/* the farm failed (checkout, spawn, timeout,
				 * disk): cells ERROR, the commit is retried */
	BUILD_INTERRUPTED,	/* build_stop(): no result */
};

struct build;
typedef void (*build_progress_cb)(struct build *b, const char *stage,
				  void *data);
typedef void (*build_done_cb)(struct build *b, void *data);
/* A step's process group exists: pgid, also in b->pgid. */
typedef void (*build_spawn_cb)(struct build *b, int pgid, void *data);

struct build {
	/* Set by the caller before build_start(). */
	const struct matrix_tree *tree;
	const struct matrix_build *config;
	char commit[41];		/* full hex id */
	const char *state_dir;
	const char *repo_path;	/* the watched repository (path, or mirror) */
	unsigned jobs;		/* make -jN */
	build_progress_cb on_progress;	/* stage: "checkout", "config",
					 * "make", "done"; may be NULL */
	build_spawn_cb on_spawn;	/* on the loop, right after each step
					 * is spawned (before it can exit),
					 * to record its group; may be NULL */
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
	int pgid;		/* of the running step, 0 when none */

	/* Private to build.c. */
	void *priv;
};

#define BUILD_MAX_ERROR_LINES 20

/*
 * Start building b->commit on loop. Returns 0 (on_done will be called), or
 * -1 with err set and on_done never called. An artifact already kept for
 * (tree, commit, config) is reused: on_done reports BUILD_OK at once.
 */
int build_start(uv_loop_t *loop, struct build *b, struct strbuf *err);
/* Kill a running build's process group; on_done follows, INTERRUPTED. */
void build_stop(struct build *b);
/* Free what build_start and the results allocated (not b itself). */
void build_release(struct build *b);

/*
 * The host can build: make, ccache and gcc are in PATH (searched as
 * execvp does). 0, or -1 with "build host: ccache not found in PATH
 * (apt-get install ccache)" in err. build_start() checks it.
 */
int build_host_check(struct strbuf *err);

/* CCACHE_DIR for builds with config c (NULL: none), see above. */
int build_host_ccache_dir(const struct matrix_build *c, char **dir,
			  struct strbuf *err);

/*
 * Kill what is left of a build step's process group pgid (recorded by an
 * hvmatrix that is gone): every process of that group that carries the
 * group's SPAWN_GROUP_ENV mark and no live owner but us. A group whose id
 * was reused by anything else is left alone. SIGKILL, then wait (up to
 * BUILD_KILL_WAIT_MS) until they are gone. Returns how many processes
 * were killed (0: nothing of ours left), with a line for people in log
 * when any was or the group was left alone; -1 with the reason in log if
 * some survive.
 */
int build_host_kill_group(int pgid, struct strbuf *log);
#define BUILD_KILL_WAIT_MS 5000

/* Extract error lines from a build log's text (for tests and callers). */
void build_error_lines(const char *log, size_t len, struct strbuf *out);

const char *build_status_name(enum build_status s);

/*
 * build-revert.c: a culprit checked by reverting it. The scratch
 * repository of tree's revert commits, STATE/revert/TREE.git, and its
 * objects directory (which every build's checkout borrows from).
 */
char *build_revert_dir(const char *state_dir, const char *tree);
char *build_revert_objects(const char *state_dir, const char *tree);
/*
 * Make the commit that reverts culprit on top of tip (full hex ids of
 * repo_path, the watched repository, which is never written) in tree's
 * scratch repository: 0 with its id in out; 1 when the revert does not
 * apply, with the conflicting paths in conflicts (", "-separated); -1
 * with err set when the farm failed. subject gets `Revert "SUBJECT"`
 * (0 and 1). Blocks (libgit2): call it off the loop.
 */
int build_revert_make(const char *state_dir, const char *tree,
		      const char *repo_path, const char *tip,
		      const char *culprit, char out[41],
		      struct strbuf *subject, struct strbuf *conflicts,
		      struct strbuf *err);

#endif
