/*
 * build-priv.h: what the files of the build module share (build.c: the
 * job, its steps and their process groups; build-checkout.c: the files of
 * a commit in src/; build-host.c: the host's tools, the ccache directory
 * and groups left behind). Nothing outside them and test-build includes it.
 */
#ifndef HVM_BUILD_PRIV_H
#define HVM_BUILD_PRIV_H

#include "lib/strbuf.h"

/*
 * In src/.git (so that it goes when the checkout goes): the commit whose
 * files src/ holds, one full id a line; more than one line while a
 * checkout is under way or was cut short (src/ holds a mix of them).
 */
#define BUILD_CHECKOUT_RECORD "hvmatrix-checkout"

/*
 * Make src (a repository of its own, created on demand, borrowing the
 * objects of the watched repository repo_path through alternates) hold
 * the files of commit (full hex id). libgit2 must be initialised. Runs on
 * the thread pool. Returns 0 with what it did in note, for the log ("full
 * checkout", "3 changed paths", "unchanged"), or -1 with err set.
 */
int build_checkout(const char *repo_path, const char *src,
		   const char *commit, struct strbuf *note,
		   struct strbuf *err);

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
