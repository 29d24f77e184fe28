/*
 * watch: the commit walker, step 1 of the pipeline. Given a repository (a
 * local path, or a remote URL mirrored into a cache directory), a branch
 * and the commits already known (queued or tested), it finds the commits
 * that are new, parents first. libgit2 only: it never runs git, never
 * writes to a repository it was given by path, and moves refs only in its
 * own mirror, by fetching.
 *
 * A struct watch_repo is not thread-safe: use each one from one thread at
 * a time (e.g. inside uv_queue_work). Everything here blocks, and cloning
 * a kernel tree takes minutes.
 */
#ifndef HVM_WATCH_H
#define HVM_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include "lib/strbuf.h"

/* Hex length of a commit id (SHA-1); equal to libgit2's GIT_OID_HEXSZ. */
#define WATCH_ID_HEXSZ 40

struct watch_commit {
	char id[WATCH_ID_HEXSZ + 1];
	char *subject;		/* first line of the message */
	char *author;		/* "Name <email>" */
	int64_t time;		/* committer time, Unix seconds */
	unsigned n_parents;	/* 0: root, 2 or more: merge */
	char parent[WATCH_ID_HEXSZ + 1];	/* first parent, "" for a root */
};

struct watch_repo;

/*
 * Open a local repository at `path` (exactly there, no search upwards), or
 * mirror the remote `url` into `cache_dir`: a bare clone on first use, a
 * fetch when `cache_dir` already holds a mirror of that same URL. Exactly
 * one of path and url is non-NULL; cache_dir is required with a URL.
 * The mirror's branches and tags follow the remote's, force-pushes and
 * deletions included. credentials (or NULL): a file whose "user:token"
 * answers the remote's request for a login (the tree's `credentials`
 * key), so that no token need be in the URL. 0, or -1 with a message in
 * err (never the token).
 */
int watch_open(struct watch_repo **out, const char *path, const char *url,
	       const char *credentials, const char *cache_dir,
	       struct strbuf *err);

/* Where a remote tree's mirror lives: STATE/mirrors/NAME.git (the one
 * place that says so). */
char *watch_mirror_dir(const char *state_dir, const char *tree);

/*
 * Read a credentials file: its first line, "user:token". Refused when
 * anyone may read it (o+r) or it is not a regular file. 0 with *user and
 * *token (malloc'd; wipe the token with watch_credentials_free), or -1
 * with err naming the file, never its content.
 */
int watch_credentials_read(const char *file, char **user, char **token,
			   struct strbuf *err);
void watch_credentials_free(char *user, char *token);

/* Fetch the remote again; a no-op for local repositories. 0 or -1 + err. */
int watch_fetch(struct watch_repo *w, struct strbuf *err);

/*
 * Resolve a branch, tag or any revspec to the id of the commit it names
 * (annotated tags are peeled). 0 or -1 + err naming the rev.
 */
int watch_resolve(struct watch_repo *w, const char *rev,
		  char out[WATCH_ID_HEXSZ + 1], struct strbuf *err);

/*
 * The commits reachable from `tip` that are neither in `known` nor
 * reachable from a commit in `known`, merges included, oldest first:
 * every commit comes after its parents, and committer time breaks the
 * ties (libgit2's GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME, reversed). With
 * `limit` (0: none) only the newest `limit` ones are kept, still returned
 * oldest first.
 *
 * `known` holds full 40-hex commit ids. Ids that are malformed, absent
 * from the repository (garbage-collected, never fetched) or not commits
 * are ignored. Because hiding works by reachability, passing the tips seen
 * before is enough for a fast-forward and for a force-push (the shared
 * base stays hidden through the old tip, which the mirror keeps); passing
 * the commits queued so far too keeps the base hidden if an old tip has
 * been garbage-collected. The cost grows with n_known (one object read
 * each), and with no known commit the whole history is walked once.
 *
 * On success *out is NULL when *n is 0; free it with watch_commits_free.
 * On error *out is NULL, *n is 0, and err names the repository and tip.
 */
int watch_new_commits(struct watch_repo *w, const char *tip,
		      char *const *known, size_t n_known, size_t limit,
		      struct watch_commit **out, size_t *n,
		      struct strbuf *err);

/* One commit, named by any revspec. 0, or -1 + err (out zeroed).
 * Release out with watch_commit_release. */
int watch_lookup(struct watch_repo *w, const char *rev,
		 struct watch_commit *out, struct strbuf *err);

void watch_commit_release(struct watch_commit *c);
void watch_commits_free(struct watch_commit *c, size_t n);
void watch_close(struct watch_repo *w);

#endif
