/*
 * watch-diff: the paths a commit changes, against its first parent (a
 * root commit: against nothing), read with libgit2 from the repository a
 * tree's builds read. Only subtrees whose ids differ are entered, and
 * the walk stops past a cap, so a one-file commit reads a handful of
 * objects and a tree-wide one costs no more than the cap. It blocks:
 * call it in the thread pool. It never writes to the repository.
 */
#ifndef HVM_WATCH_DIFF_H
#define HVM_WATCH_DIFF_H

#include <stddef.h>

#include "lib/strbuf.h"

/*
 * The paths commit (40 hex) changes in the repository at repo_path,
 * each relative to the tree's top ("arch/x86/xen/enlighten.c"), in tree
 * order. 0 with all of them in *paths (*n of them; NULL when none), 1
 * when there are more than cap (*paths then holds the first cap), -1
 * with err naming the repository and the commit. Free *paths with
 * watch_diff_paths_free.
 */
int watch_diff_paths(const char *repo_path, const char *commit, size_t cap,
		     char ***paths, size_t *n, struct strbuf *err);
void watch_diff_paths_free(char **paths, size_t n);

#endif
