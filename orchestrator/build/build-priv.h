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

#endif
