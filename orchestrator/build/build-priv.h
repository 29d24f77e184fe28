/*
 * build-priv.h: what the files of the build module share (build.c: the
 * job, its steps and their process groups; build-checkout.c: the files of
 * a commit in src/; build-host.c: the host's tools, the ccache directory
 * and groups left behind; build-log.c: the capped log and its error
 * lines). Nothing outside them and test-build includes it.
 */
#ifndef HVM_BUILD_PRIV_H
#define HVM_BUILD_PRIV_H

#include <git2/types.h>
#include "lib/strbuf.h"

/*
 * In src/.git (so that it goes when the checkout goes): the commit whose
 * files src/ holds, one full id a line; more than one line while a
 * checkout is under way or was cut short (src/ holds a mix of them).
 */
#define BUILD_CHECKOUT_RECORD "hvmatrix-checkout"

/*
 * Make src (a repository of its own, created on demand, borrowing the
 * objects of the watched repository repo_path through alternates, and
 * those of more_objects when not NULL: the tree's revert commits,
 * build-revert.c) hold the files of commit (full hex id). libgit2 must be
 * initialised. Runs on the thread pool. Returns 0 with what it did in
 * note, for the log ("full checkout", "3 changed paths", "unchanged") and
 * the date its image's banner shows in *time (Unix seconds): the
 * committer date of the commit that gave its top-level Makefile its
 * content, the same for a docs-only commit as for its parent; or -1 with
 * err set.
 */
/*
 * Open the repository at src (bare: a repository with no work tree),
 * creating it if need be, with alternates pointing at the watched
 * repository's objects, and at more_objects (may be NULL; left out while
 * it does not exist, and added by the first open after it does), written
 * before its objects are first read. *created says it is new. 0, or -1
 * with err set.
 */
int build_checkout_open(const char *repo_path, const char *more_objects,
			const char *src, int bare, git_repository **out,
			int *created, struct strbuf *err);
/* "what: libgit2's last error" into err. */
void build_checkout_git_fail(struct strbuf *err, const char *what);

int build_checkout(const char *repo_path, const char *more_objects,
		   const char *src, const char *commit, struct strbuf *note,
		   int64_t *time,
		   struct strbuf *err);

/*
 * The build log (build-log.c): the steps' output through a pipe into a
 * log capped at BUILD_LOG_LIMIT bytes (head and tail kept, the cut
 * marked; lib/logfile.c), compressed when the build ends, its error lines
 * found as it streams.
 */
#define BUILD_LOG_LIMIT (16u << 20)
#define BUILD_LOG_LINE_MAX 4096	/* bytes of a line the scan looks at */

/* The error-line scanner, fed the log in chunks of any size. */
struct build_log_scan {
	struct strbuf line;	/* the line being read (its first bytes) */
	struct strbuf out;	/* the lines found, '\n'-separated */
	size_t n;
	int long_line;		/* the line being read is past LINE_MAX */
};
void build_log_scan_init(struct build_log_scan *s);
void build_log_scan_feed(struct build_log_scan *s, const char *buf,
			 size_t len);
/* The error lines (malloc'd, "" if none); s is released. */
char *build_log_scan_end(struct build_log_scan *s);

struct build_log;
/*
 * Create the log at path (capped at limit bytes, 0: none) and the pipe
 * into it: *write_fd is the end the steps and the build's own lines
 * write to (the caller closes it). 0, or -1 with err set.
 */
int build_log_open(struct build_log **out, const char *path, size_t limit,
		   int *write_fd, struct strbuf *err);
/*
 * After the caller closed its write end: take what is left in the pipe
 * (a process the build left behind does not hold it open), append
 * trailer (never cut), close, compress. *errors (if errors) gets the
 * error lines; *log_path becomes the compressed log's path. Blocking: off
 * the loop. 0, or -1 with err set (the log, plain or partial, is left as
 * it is). l is freed either way.
 */
int build_log_close(struct build_log *l, const char *trailer, char **errors,
		    char **log_path, struct strbuf *err);
/* Stop and free without writing more (a build that never started). */
void build_log_abort(struct build_log *l);

/*
 * path made absolute against the working directory (malloc'd; NULL if
 * that cannot be had): steps and compilers run in other directories.
 */
char *build_host_absolute(const char *path);

/*
 * build-sandbox.c: the confinement of every step (see there).
 *
 * build_sandbox_check: can this host sandbox? Runs bwrap once (until it
 * has worked once); on the thread pool. 0, or -1 with "cannot sandbox
 * builds: WHY; set sandbox: false on build BUILD to build unconfined".
 *
 * build_sandbox_prefix: the argv words (bwrap ... --) that put a step of
 * the build described by v in its sandbox, NULL-terminated, or NULL with
 * err set. The paths must exist. On the thread pool.
 *
 * build_sandbox_wrap: prefix followed by argv, whose strings it takes
 * (argv itself is freed).
 */
struct build_sandbox_view {
	const char *state_dir, *root, *src, *repo, *ccache_dir;
	char *const *fragments;
	size_t n_fragments;
};

int build_sandbox_check(const char *build, struct strbuf *err);
char **build_sandbox_prefix(const struct build_sandbox_view *v,
			    struct strbuf *err);
char **build_sandbox_wrap(char *const *prefix, char **argv);

#endif
