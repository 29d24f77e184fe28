/*
 * build-revert: a culprit checked by reverting it. The commit that
 * reverts a bisected first bad commit on top of the tree's tip is made
 * in a scratch repository under the state directory,
 * STATE/revert/TREE.git: bare, borrowing the watched repository's objects
 * through alternates, so that nothing is written to the watched
 * repository and no work tree is written at all (libgit2 reverts in an
 * index in memory). Builds then check the revert commit out like any
 * other: their src/ borrows this repository's objects too
 * (build_checkout's more_objects), and the build runs the same sandboxed
 * path as every build. The commit is the same for the same tip and
 * culprit (its author and time are the tip's committer time's, fixed),
 * so making it twice is harmless.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "build/build.h"
#include "build/build-priv.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

char *build_revert_dir(const char *state_dir, const char *tree)
{
	return xstrfmt("%s/revert/%s.git", state_dir, tree);
}

char *build_revert_objects(const char *state_dir, const char *tree)
{
	return xstrfmt("%s/revert/%s.git/objects", state_dir, tree);
}

/* Open (or create) the scratch repository, borrowing the watched one's
 * objects. */
static int open_scratch(const char *repo_path, const char *dir,
			git_repository **out, struct strbuf *err)
{
	int created, rc = fsutil_mkdir_p(dir, 0755);

	if (rc) {
		strbuf_addf(err, "cannot create %s: %s", dir, strerror(-rc));
		return -1;
	}
	return build_checkout_open(repo_path, NULL, dir, 1, out, &created,
				   err);
}

/* The conflicting paths of index, ", "-separated, each once. */
static void conflicts_of(git_index *index, struct strbuf *out)
{
	git_index_conflict_iterator *it = NULL;
	const git_index_entry *anc, *ours, *theirs;

	if (git_index_conflict_iterator_new(&it, index))
		return;
	while (!git_index_conflict_next(&anc, &ours, &theirs, it)) {
		const git_index_entry *e = ours ? ours : theirs ? theirs : anc;

		if (!e)
			continue;
		if (out->len)
			strbuf_addstr(out, ", ");
		strbuf_addstr(out, e->path);
	}
	git_index_conflict_iterator_free(it);
}

int build_revert_make(const char *state_dir, const char *tree,
		      const char *repo_path, const char *tip,
		      const char *culprit, char out[41],
		      struct strbuf *subject, struct strbuf *conflicts,
		      struct strbuf *err)
{
	git_repository *repo = NULL;
	git_commit *tip_c = NULL, *bad_c = NULL;
	git_index *index = NULL;
	git_tree *t = NULL;
	git_signature *sig = NULL;
	git_oid oid;
	char *dir = build_revert_dir(state_dir, tree), *msg = NULL;
	const char *summary;
	int ret = -1;

	git_libgit2_init();
	if (open_scratch(repo_path, dir, &repo, err))
		goto out;
	if (git_oid_fromstr(&oid, tip) ||
	    git_commit_lookup(&tip_c, repo, &oid)) {
		build_checkout_git_fail(err,
			"the tip is not in the repository");
		goto out;
	}
	if (git_oid_fromstr(&oid, culprit) ||
	    git_commit_lookup(&bad_c, repo, &oid)) {
		build_checkout_git_fail(err,
			"the first bad commit is not in the repository");
		goto out;
	}
	/* A merge is reverted against its first parent (git revert -m 1). */
	if (git_revert_commit(&index, repo, bad_c, tip_c,
			      git_commit_parentcount(bad_c) > 1 ? 1 : 0,
			      NULL)) {
		build_checkout_git_fail(err, "cannot revert");
		goto out;
	}
	summary = git_commit_summary(bad_c);
	strbuf_addf(subject, "Revert \"%s\"", summary ? summary : "");
	if (git_index_has_conflicts(index)) {
		conflicts_of(index, conflicts);
		ret = 1;
		goto out;
	}
	if (git_index_write_tree_to(&oid, index, repo) ||
	    git_tree_lookup(&t, repo, &oid)) {
		build_checkout_git_fail(err, "cannot write the revert's tree");
		goto out;
	}
	if (git_signature_new(&sig, "hvmatrix", "hvmatrix@localhost",
			      git_commit_time(tip_c), 0)) {
		build_checkout_git_fail(err, "cannot sign the revert");
		goto out;
	}
	msg = xstrfmt("%s\n\nThis reverts commit %s on %s.\n", subject->buf,
		      culprit, tip);
	if (git_commit_create(&oid, repo, NULL, sig, sig, NULL, msg, t, 1,
			      (const git_commit **)&tip_c)) {
		build_checkout_git_fail(err, "cannot write the revert commit");
		goto out;
	}
	git_oid_tostr(out, 41, &oid);
	ret = 0;
out:
	git_signature_free(sig);
	git_tree_free(t);
	git_index_free(index);
	git_commit_free(bad_c);
	git_commit_free(tip_c);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(msg);
	free(dir);
	return ret;
}
