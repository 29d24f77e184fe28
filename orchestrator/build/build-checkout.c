/*
 * build-checkout: put one commit's files into a build's src/ directory,
 * touching only what differs from what is there, so that make's
 * timestamps keep the next build incremental.
 *
 * src/ is a repository of its own whose objects come from the watched
 * repository through alternates. The first checkout (and any checkout
 * whose record below is missing or unreadable) is libgit2's: a forced
 * checkout of the whole tree, which writes src/.git's HEAD and index.
 * Every later one reads no index: it diffs the recorded commit's tree with
 * the new one (identical subtrees are skipped by id) and writes, modes and
 * removes only those paths itself. On a kernel tree that saves reading and
 * rewriting a 78,000-entry index (~0.6 s) per build.
 *
 * So src/.git's HEAD and index stay those of the last full checkout, and
 * `git status` in src/ shows the later commits' changes as modifications
 * of it: src/ is hvmatrix's, not a work tree for people to edit. The
 * checked-out commit is in src/.git/hvmatrix-checkout (build-priv.h).
 *
 * Before it touches a file, a checkout adds its commit to the record, and
 * it leaves only the new commit there once every path is written: a
 * checkout cut short leaves a record of every commit whose files src/ may
 * mix, and the next checkout rewrites every path in which any of them
 * differs from its commit. Blobs are written as stored: no attribute
 * filters (line endings, ident), which kernel trees do not use.
 * This file must never write to the watched repository.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "build/build-priv.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

/* A record longer than this (checkouts cut short again and again) is
 * given up for a full checkout. */
#define CHECKOUT_MAX_RECORDED 8

struct change {
	char *path;
	int content;	/* 0: only the executable bit changed */
};

struct changes {
	struct change *v;
	size_t n;
};

void build_checkout_git_fail(struct strbuf *err, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "%s: %s", what, e && e->message ? e->message : "?");
}

int build_checkout_open(const char *repo_path, const char *more_objects,
			const char *src, int bare, git_repository **out,
			int *created, struct strbuf *err)
{
	git_repository *watched = NULL, *repo = NULL;
	struct strbuf have = STRBUF_INIT;
	char *alternates = NULL, *want = NULL;
	int rc, ret = -1;

	*created = 0;
	if (git_repository_open_ext(&watched, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) {
		build_checkout_git_fail(err,
			"cannot open the watched repository");
		goto out;
	}
	/* Only once it exists: git in src/ (a kernel's setlocalversion)
	 * would complain of a missing one into the build log. */
	if (more_objects && access(more_objects, F_OK))
		more_objects = NULL;
	want = xstrfmt("%sobjects\n%s%s", git_repository_commondir(watched),
		       more_objects ? more_objects : "",
		       more_objects ? "\n" : "");
	if (git_repository_open_ext(&repo, src, GIT_REPOSITORY_OPEN_NO_SEARCH |
				    (bare ? GIT_REPOSITORY_OPEN_BARE : 0), NULL)) {
		repo = NULL;
		if (git_repository_init(&repo, src, bare)) {
			build_checkout_git_fail(err, bare ?
				"cannot create the revert repository" :
				"cannot create the checkout repository");
			goto out;
		}
		*created = 1;
	}
	alternates = xstrfmt("%sobjects/info/alternates",
			     git_repository_path(repo));
	/* Written before the object database is first used below. */
	if ((fsutil_read(alternates, &have) || strcmp(have.buf, want)) &&
	    (rc = fsutil_write_atomic(alternates, want, strlen(want)))) {
		strbuf_addf(err, "cannot write %s: %s", alternates,
			    strerror(-rc));
		goto out;
	}
	*out = repo;
	repo = NULL;
	ret = 0;
out:
	git_repository_free(repo);
	git_repository_free(watched);
	strbuf_release(&have);
	free(alternates);
	free(want);
	return ret;
}

/*
 * The recorded commits, each one readable in repo; 0, or -1 when there is
 * no usable record (missing, malformed, too long, naming an unknown
 * commit): then only a full checkout can be trusted.
 */
static int read_record(git_repository *repo, const char *path,
		       git_oid *ids, size_t *n)
{
	struct strbuf sb = STRBUF_INIT;
	git_commit *c;
	char *p, *nl;
	int ret = -1;

	*n = 0;
	if (fsutil_read(path, &sb) || !sb.len || sb.buf[sb.len - 1] != '\n')
		goto out;
	for (p = sb.buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		if (*n == CHECKOUT_MAX_RECORDED ||
		    strlen(p) != GIT_OID_HEXSZ ||
		    strspn(p, "0123456789abcdef") != GIT_OID_HEXSZ ||
		    git_oid_fromstr(&ids[*n], p) ||
		    git_commit_lookup(&c, repo, &ids[*n]))
			goto out;
		git_commit_free(c);
		(*n)++;
	}
	ret = *n ? 0 : -1;
out:
	strbuf_release(&sb);
	return ret;
}

static int write_record(const char *path, const git_oid *ids, size_t n,
			struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		git_oid_tostr(hex, sizeof(hex), &ids[i]);
		strbuf_addf(&sb, "%s\n", hex);
	}
	/* fsync'd: the files written next must never outlive their record */
	rc = fsutil_write_atomic(path, sb.buf, sb.len);
	if (rc)
		strbuf_addf(err, "cannot write %s: %s", path, strerror(-rc));
	strbuf_release(&sb);
	return rc ? -1 : 0;
}

static int full_checkout(git_repository *repo, git_tree *tree,
			 const git_oid *id, struct strbuf *err)
{
	git_checkout_options opts;

	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	/* Files whose content is right are left alone (the index's stat
	 * data says so), the rest is made to match, strays removed. */
	opts.checkout_strategy = GIT_CHECKOUT_FORCE |
				 GIT_CHECKOUT_REMOVE_UNTRACKED;
	if (git_checkout_tree(repo, (git_object *)tree, &opts)) {
		build_checkout_git_fail(err, "checkout failed");
		return -1;
	}
	if (git_repository_set_head_detached(repo, id)) {
		build_checkout_git_fail(err, "cannot set HEAD");
		return -1;
	}
	return 0;
}

static int is_file_mode(uint16_t mode)
{
	return mode == GIT_FILEMODE_BLOB ||
	       mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static void add_change(struct changes *c, const char *prefix,
		       const char *name, int content)
{
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n].path = xstrfmt("%s%s", prefix, name);
	c->v[c->n].content = content;
	c->n++;
}

/* Every path below tree id (a directory that comes or goes). */
static int add_all(git_repository *repo, const git_oid *id,
		   const char *prefix, struct changes *c)
{
	git_tree *t = NULL;
	size_t i, n;
	int ret = -1;

	if (git_tree_lookup(&t, repo, id))
		return -1;
	n = git_tree_entrycount(t);
	for (i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		char *sub;

		if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			add_change(c, prefix, git_tree_entry_name(e), 1);
			continue;
		}
		sub = xstrfmt("%s%s/", prefix, git_tree_entry_name(e));
		if (add_all(repo, git_tree_entry_id(e), sub, c)) {
			free(sub);
			goto out;
		}
		free(sub);
	}
	ret = 0;
out:
	git_tree_free(t);
	return ret;
}

/*
 * The paths in which trees a and b (either may be NULL: empty) differ.
 * Unlike git_diff_tree_to_tree, which reads every subtree (~5,000 tree
 * objects on a kernel tree, 0.1 to 1 s), it enters only the subtrees
 * whose ids differ: a one-file commit reads a handful of objects.
 */
static int diff_trees(git_repository *repo, git_tree *a, git_tree *b,
		      const char *prefix, struct changes *c)
{
	size_t i, na = a ? git_tree_entrycount(a) : 0;
	size_t nb = b ? git_tree_entrycount(b) : 0;
	git_tree *sa = NULL, *sb = NULL;
	char *sub = NULL;
	int ret = -1;

	for (i = 0; i < na; i++) {
		const git_tree_entry *ea = git_tree_entry_byindex(a, i);
		const char *name = git_tree_entry_name(ea);
		const git_tree_entry *eb = b ? git_tree_entry_byname(b, name) :
					   NULL;
		git_filemode_t ma = git_tree_entry_filemode(ea);
		git_filemode_t mb = eb ? git_tree_entry_filemode(eb) : 0;
		int same_id = eb && git_oid_equal(git_tree_entry_id(ea),
						  git_tree_entry_id(eb));

		if (same_id && ma == mb)
			continue;
		free(sub);
		sub = xstrfmt("%s%s/", prefix, name);
		if (ma == GIT_FILEMODE_TREE && mb == GIT_FILEMODE_TREE) {
			if (git_tree_lookup(&sa, repo, git_tree_entry_id(ea)) ||
			    git_tree_lookup(&sb, repo, git_tree_entry_id(eb)) ||
			    diff_trees(repo, sa, sb, sub, c))
				goto out;
			git_tree_free(sa);
			git_tree_free(sb);
			sa = sb = NULL;
			continue;
		}
		/* A directory going, or turning into a file: all of it. */
		if (ma == GIT_FILEMODE_TREE) {
			if (add_all(repo, git_tree_entry_id(ea), sub, c))
				goto out;
			if (eb)
				add_change(c, prefix, name, 1);
			continue;
		}
		/* A file going, changing, or turning into a directory. */
		add_change(c, prefix, name, !(same_id && is_file_mode(ma) &&
					      is_file_mode(mb)));
		if (mb == GIT_FILEMODE_TREE &&
		    add_all(repo, git_tree_entry_id(eb), sub, c))
			goto out;
	}
	for (i = 0; i < nb; i++) {
		const git_tree_entry *eb = git_tree_entry_byindex(b, i);
		const char *name = git_tree_entry_name(eb);

		if (a && git_tree_entry_byname(a, name))
			continue;	/* seen above */
		if (git_tree_entry_type(eb) != GIT_OBJECT_TREE) {
			add_change(c, prefix, name, 1);
			continue;
		}
		free(sub);
		sub = xstrfmt("%s%s/", prefix, name);
		if (add_all(repo, git_tree_entry_id(eb), sub, c))
			goto out;
	}
	ret = 0;
out:
	git_tree_free(sa);
	git_tree_free(sb);
	free(sub);
	return ret;
}

static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* The paths in which any of the recorded trees differs from tree. */
static int collect_changes(git_repository *repo, const git_oid *ids,
			   size_t n, git_tree *tree, struct changes *c,
			   struct strbuf *err)
{
	git_commit *commit = NULL;
	git_tree *old = NULL;
	size_t i, k;
	int ret = -1;

	for (i = 0; i < n; i++) {
		if (git_commit_lookup(&commit, repo, &ids[i]) ||
		    git_commit_tree(&old, commit) ||
		    diff_trees(repo, old, tree, "", c)) {
			build_checkout_git_fail(err,
				"cannot diff the checked-out commit");
			goto out;
		}
		git_tree_free(old);
		git_commit_free(commit);
		old = NULL;
		commit = NULL;
	}
	if (!c->n) {
		ret = 0;
		goto out;
	}
	/* One entry per path, with a content change if any diff has one. */
	qsort(c->v, c->n, sizeof(*c->v), change_cmp);
	for (i = 1, k = 0; i < c->n; i++) {
		if (!strcmp(c->v[i].path, c->v[k].path)) {
			c->v[k].content |= c->v[i].content;
			free(c->v[i].path);
		} else {
			c->v[++k] = c->v[i];
		}
	}
	c->n = k + 1;
	ret = 0;
out:
	git_tree_free(old);
	git_commit_free(commit);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Make path (a file's path) free for a new file: nothing there, any kind. */
static int clear_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode))
		return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* mkdir -p of full's parents below src; a file or link in the way goes. */
static int make_parents(const char *src, char *full)
{
	char *p = full + strlen(src) + 1;
	struct stat st;
	int ok;

	while ((p = strchr(p, '/'))) {
		*p = '\0';
		ok = (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) ||
		     ((unlink(full) == 0 || errno == ENOENT) &&
		      mkdir(full, 0777) == 0);
		*p++ = '/';
		if (!ok)
			return -1;
	}
	return 0;
}

/* No path of a tree may leave src/ or reach into its .git. */
static int safe_path(const char *path)
{
	const char *p = path, *end;
	size_t len;

	for (;;) {
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (!len || (len == 1 && p[0] == '.') ||
		    (len == 2 && !memcmp(p, "..", 2)) ||
		    (len == 4 && !strncasecmp(p, ".git", 4)))
			return 0;
		if (!*end)
			return 1;
		p = end + 1;
	}
}

/* After a path went: its parents that are now empty go too, like git. */
static void prune_parents(const char *src, char *full)
{
	size_t root = strlen(src);
	char *slash;

	while ((slash = strrchr(full, '/')) && (size_t)(slash - full) > root) {
		*slash = '\0';
		if (rmdir(full) < 0)
			break;
	}
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write entry's blob (a file or a symbolic link) at full. */
static int write_entry(git_repository *repo, const git_tree_entry *e,
		       const char *full, struct strbuf *err)
{
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_blob *blob = NULL;
	char *target = NULL;
	const char *data;
	size_t len;
	int fd = -1, ret = -1;

	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e))) {
		build_checkout_git_fail(err, "cannot read a blob");
		goto out;
	}
	data = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	if (clear_path(full) < 0)
		goto fail;
	if (mode == GIT_FILEMODE_LINK) {
		target = xstrndup(data, len);
		if (symlink(target, full) < 0)
			goto fail;
		ret = 0;
		goto out;
	}
	/* The umask applies, as with git. */
	fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		  mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0777 : 0666);
	if (fd < 0 || write_all(fd, data, len) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	ret = 0;
	goto out;
fail:
	strbuf_addf(err, "cannot write %s: %s", full, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(target);
	git_blob_free(blob);
	return ret;
}

/* Only the executable bit changed: chmod, keeping the file's mtime. */
static int set_exec_bit(const char *full, int exec, struct strbuf *err)
{
	struct stat st;
	mode_t m;

	if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode))
		return 1;	/* not the file expected: rewrite it */
	m = st.st_mode & 07777;
	/* x where r is, as git does, or no x at all */
	m = exec ? m | ((m & 0444) >> 2) : m & ~0111;
	if (chmod(full, m) < 0) {
		strbuf_addf(err, "cannot chmod %s: %s", full, strerror(errno));
		return -1;
	}
	return 0;
}

/* Make each changed path what tree has there. */
static int apply_changes(git_repository *repo, const char *src,
			 git_tree *tree, const struct changes *c,
			 struct strbuf *err)
{
	git_tree_entry *e = NULL;
	git_object_t type;
	char *full = NULL;
	size_t i;
	int rc, ret = -1;

	/*
	 * Removals first, deepest first: a path that becomes a directory
	 * (or stops being one) is cleared before anything is written.
	 */
	for (i = 0; i < c->n; i++) {
		if (!safe_path(c->v[i].path)) {
			strbuf_addstr(err, "unsafe path in the commit: ");
			strbuf_add_quoted(err, c->v[i].path, 64);
			goto out;
		}
	}
	for (i = c->n; i-- > 0;) {
		rc = git_tree_entry_bypath(&e, tree, c->v[i].path);
		type = rc ? GIT_OBJECT_INVALID : git_tree_entry_type(e);
		git_tree_entry_free(e);
		e = NULL;
		if (rc != GIT_ENOTFOUND && rc) {
			build_checkout_git_fail(err,
				"cannot read the commit's tree");
			goto out;
		}
		if (type != GIT_OBJECT_INVALID && type != GIT_OBJECT_TREE)
			continue;
		free(full);
		full = xstrfmt("%s/%s", src, c->v[i].path);
		/* A directory there is one the new tree has: kept. */
		if (type == GIT_OBJECT_TREE) {
			struct stat st;

			if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
				continue;
		}
		if (unlink(full) < 0 && errno != ENOENT && errno != EISDIR) {
			strbuf_addf(err, "cannot remove %s: %s", full,
				    strerror(errno));
			goto out;
		}
		prune_parents(src, full);
	}
	for (i = 0; i < c->n; i++) {
		rc = git_tree_entry_bypath(&e, tree, c->v[i].path);
		if (rc == GIT_ENOTFOUND)
			continue;
		if (rc) {
			build_checkout_git_fail(err,
				"cannot read the commit's tree");
			goto out;
		}
		free(full);
		full = xstrfmt("%s/%s", src, c->v[i].path);
		if (make_parents(src, full) < 0) {
			strbuf_addf(err, "cannot create the directories of "
				    "%s: %s", full, strerror(errno));
			goto out;
		}
		switch (git_tree_entry_filemode(e)) {
		case GIT_FILEMODE_BLOB:
		case GIT_FILEMODE_BLOB_EXECUTABLE:
			if (!c->v[i].content) {
				rc = set_exec_bit(full,
						  git_tree_entry_filemode(e) ==
						  GIT_FILEMODE_BLOB_EXECUTABLE,
						  err);
				if (rc <= 0) {
					if (rc < 0)
						goto out;
					break;
				}
			}
			/* fall through */
		case GIT_FILEMODE_LINK:
			if (write_entry(repo, e, full, err))
				goto out;
			break;
		case GIT_FILEMODE_COMMIT:
			/* A submodule: an empty directory, as git leaves. */
			if (clear_path(full) < 0 || mkdir(full, 0777) < 0) {
				strbuf_addf(err, "cannot create %s: %s", full,
					    strerror(errno));
				goto out;
			}
			break;
		default:
			break;	/* a tree: its files have entries of their own */
		}
		git_tree_entry_free(e);
		e = NULL;
	}
	ret = 0;
out:
	git_tree_entry_free(e);
	free(full);
	return ret;
}

/* The blob id of c's top-level Makefile: 1, or 0 when it has none. */
static int makefile_id(git_commit *c, git_oid *id)
{
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	int have = 0;

	if (!git_commit_tree(&t, c) &&
	    !git_tree_entry_bypath(&e, t, "Makefile")) {
		git_oid_cpy(id, git_tree_entry_id(e));
		have = 1;
	}
	git_tree_entry_free(e);
	git_tree_free(t);
	return have;
}

/*
 * The date a build's banner shows: the committer date of the commit that
 * gave the top-level Makefile its content (a kernel's VERSION, PATCHLEVEL,
 * SUBLEVEL and EXTRAVERSION: the release the sources are at), found along
 * first parents. Not the commit's own date: then every commit, a docs-only
 * one too, would build an image of its own, and the farm could never know
 * it had judged those bytes before. A history cut short (a shallow mirror)
 * or longer than CHECKOUT_VERSION_WALK ends the walk where it is.
 */
#define CHECKOUT_VERSION_WALK 100000

static int64_t version_time(git_commit *c)
{
	git_commit *cur = c, *parent;
	git_oid mine, theirs;
	int have = makefile_id(c, &mine), steps;
	int64_t t;

	for (steps = 0; steps < CHECKOUT_VERSION_WALK &&
	     git_commit_parentcount(cur) > 0; steps++) {
		if (git_commit_parent(&parent, cur, 0))
			break;
		if (makefile_id(parent, &theirs) != have ||
		    (have && !git_oid_equal(&mine, &theirs))) {
			git_commit_free(parent);
			break;
		}
		if (cur != c)
			git_commit_free(cur);
		cur = parent;
	}
	t = (int64_t)git_commit_time(cur);
	if (cur != c)
		git_commit_free(cur);
	return t;
}

int build_checkout(const char *repo_path, const char *more_objects,
		   const char *src, const char *commit, struct strbuf *note,
		   int64_t *time,
		   struct strbuf *err)
{
	git_oid ids[CHECKOUT_MAX_RECORDED + 1], oid;
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	struct changes ch = { NULL, 0 };
	char *record = NULL;
	size_t n = 0, recorded, i;
	int created, ret = -1;

	if (build_checkout_open(repo_path, more_objects, src, 0, &repo,
				&created, err))
		goto out;
	record = xstrfmt("%s%s", git_repository_path(repo),
			 BUILD_CHECKOUT_RECORD);
	if (git_oid_fromstr(&oid, commit) ||
	    git_commit_lookup(&c, repo, &oid)) {
		build_checkout_git_fail(err, "commit not found");
		goto out;
	}
	*time = version_time(c);
	if (git_commit_tree(&tree, c)) {
		build_checkout_git_fail(err, "cannot read the commit's tree");
		goto out;
	}
	if (created || read_record(repo, record, ids, &n)) {
		/* Whatever src/ holds, the record no longer vouches for it. */
		if (unlink(record) < 0 && errno != ENOENT) {
			strbuf_addf(err, "cannot remove %s: %s", record,
				    strerror(errno));
			goto out;
		}
		if (full_checkout(repo, tree, &oid, err))
			goto out;
		ret = write_record(record, &oid, 1, err);
		strbuf_addstr(note, "full checkout");
		goto out;
	}
	if (n == 1 && git_oid_equal(&ids[0], &oid)) {
		strbuf_addstr(note, "unchanged");
		ret = 0;
		goto out;
	}
	if (collect_changes(repo, ids, n, tree, &ch, err))
		goto out;
	recorded = n;
	for (i = 0; i < n && !git_oid_equal(&ids[i], &oid); i++)
		;
	if (i == n)
		ids[n++] = oid;
	if (write_record(record, ids, n, err) ||
	    apply_changes(repo, src, tree, &ch, err) ||
	    write_record(record, &oid, 1, err))
		goto out;
	strbuf_addf(note, "%zu changed path%s", ch.n, ch.n == 1 ? "" : "s");
	if (recorded > 1)
		strbuf_addstr(note, " (after a checkout cut short)");
	ret = 0;
out:
	for (i = 0; i < ch.n; i++)
		free(ch.v[i].path);
	free(ch.v);
	free(record);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
	return ret;
}
