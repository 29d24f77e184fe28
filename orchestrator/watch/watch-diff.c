/*
 * watch-diff: which paths one commit changes (watch-diff.h). Its own walk
 * rather than git_diff_tree_to_tree, which reads every subtree of both
 * trees (thousands of objects on a kernel tree) and cannot stop early.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "watch/watch-diff.h"
#include "lib/xmalloc.h"

struct walk {
	git_repository *repo;
	char **paths;
	size_t n, alloc, cap;
	int over;		/* more than cap: stop */
};

/* 0 go on, 1 over the cap, -1 a libgit2 error. */
static int add(struct walk *w, const char *prefix, const char *name)
{
	if (w->n == w->cap) {
		w->over = 1;
		return 1;
	}
	ALLOC_GROW(w->paths, w->n + 1, w->alloc);
	w->paths[w->n++] = xstrfmt("%s%s", prefix, name);
	return 0;
}

static int walk_trees(struct walk *w, const git_oid *a, const git_oid *b,
		      const char *prefix);

/* One entry present on one side or both, with different ids or modes. */
static int walk_entry(struct walk *w, const git_tree_entry *ea,
		      const git_tree_entry *eb, const char *prefix)
{
	const git_tree_entry *e = ea ? ea : eb;
	int ta = ea && git_tree_entry_type(ea) == GIT_OBJECT_TREE;
	int tb = eb && git_tree_entry_type(eb) == GIT_OBJECT_TREE;
	char *sub;
	int rc = 0;

	/* A file on either side is a changed path of its own. */
	if ((ea && !ta) || (eb && !tb))
		rc = add(w, prefix, git_tree_entry_name(e));
	if (rc || (!ta && !tb))
		return rc;
	sub = xstrfmt("%s%s/", prefix, git_tree_entry_name(e));
	rc = walk_trees(w, ta ? git_tree_entry_id(ea) : NULL,
			tb ? git_tree_entry_id(eb) : NULL, sub);
	free(sub);
	return rc;
}

/* The paths in which trees a and b (NULL: empty) differ, below prefix. */
static int walk_trees(struct walk *w, const git_oid *a, const git_oid *b,
		      const char *prefix)
{
	git_tree *ta = NULL, *tb = NULL;
	size_t i, na, nb;
	int rc = -1;

	if ((a && git_tree_lookup(&ta, w->repo, a)) ||
	    (b && git_tree_lookup(&tb, w->repo, b)))
		goto out;
	na = ta ? git_tree_entrycount(ta) : 0;
	nb = tb ? git_tree_entrycount(tb) : 0;
	rc = 0;
	for (i = 0; i < na && !rc; i++) {
		const git_tree_entry *ea = git_tree_entry_byindex(ta, i);
		const git_tree_entry *eb = tb ?
			git_tree_entry_byname(tb, git_tree_entry_name(ea)) :
			NULL;

		if (eb && git_oid_equal(git_tree_entry_id(ea),
					git_tree_entry_id(eb)) &&
		    git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb))
			continue;
		rc = walk_entry(w, ea, eb, prefix);
	}
	for (i = 0; i < nb && !rc; i++) {
		const git_tree_entry *eb = git_tree_entry_byindex(tb, i);

		if (ta && git_tree_entry_byname(ta, git_tree_entry_name(eb)))
			continue;	/* seen above */
		rc = walk_entry(w, NULL, eb, prefix);
	}
out:
	git_tree_free(ta);
	git_tree_free(tb);
	return rc;
}

void watch_diff_paths_free(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

int watch_diff_paths(const char *repo_path, const char *commit, size_t cap,
		     char ***paths, size_t *n, struct strbuf *err)
{
	struct walk w = { .cap = cap };
	git_commit *c = NULL, *parent = NULL;
	git_oid id;
	const git_error *e;
	int rc = -1;

	*paths = NULL;
	*n = 0;
	if (git_libgit2_init() < 0) {
		strbuf_addf(err, "%s: cannot initialise libgit2", repo_path);
		return -1;
	}
	if (git_repository_open_ext(&w.repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) ||
	    git_oid_fromstr(&id, commit) ||
	    git_commit_lookup(&c, w.repo, &id) ||
	    (git_commit_parentcount(c) && git_commit_parent(&parent, c, 0)))
		goto out;
	rc = walk_trees(&w, parent ? git_commit_tree_id(parent) : NULL,
			git_commit_tree_id(c), "");
out:
	if (rc < 0) {
		e = git_error_last();
		strbuf_addf(err, "%s: cannot diff commit %.12s: %s", repo_path,
			    commit, e && e->message ? e->message :
			    "unknown libgit2 error");
		watch_diff_paths_free(w.paths, w.n);
	} else {
		*paths = w.paths;
		*n = w.n;
		rc = w.over;
	}
	git_commit_free(parent);
	git_commit_free(c);
	git_repository_free(w.repo);
	git_libgit2_shutdown();
	return rc;
}
