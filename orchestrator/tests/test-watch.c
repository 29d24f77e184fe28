/*
 * test-watch: the commit walker (watch.c) on small repositories built with
 * libgit2 itself in a private temporary directory: no git command, no
 * network (the remote that asks for a login is a stub on 127.0.0.1). Each
 * test builds its own history with increasing commit times.
 */
#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "watch/watch.h"
#include "watch/watch-diff.h"
#include "lib/xmalloc.h"

#define AUTHOR "A U Thor"
#define EMAIL "author@example.com"
#define NO_SUCH_ID "0123456789abcdef0123456789abcdef01234567"

static char tmpdir[PATH_MAX];
static int64_t clock_now;

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-watch.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_ge(git_libgit2_init(), 1);
	clock_now = 1700000000;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	git_libgit2_shutdown();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_path(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

static void check_git(int rc, const char *what)
{
	const git_error *e = git_error_last();

	if (rc < 0)
		ck_abort_msg("%s: %s", what, e ? e->message : "?");
}

/* A fresh non-bare repository under tmpdir; its branches are set by hand. */
static git_repository *make_repo(const char *name)
{
	git_repository *repo = NULL;
	char *path = tmp_path(name);

	check_git(git_repository_init(&repo, path, 0), "init");
	free(path);
	return repo;
}

/*
 * A commit whose only file holds `msg`, so that every commit has its own
 * tree, with parents (n of them) and a time later than any before it.
 */
static git_oid commit_n(git_repository *repo, const char *msg,
			const git_oid *parents, size_t n)
{
	const git_commit *pc[4] = { NULL };
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid blob, tree_id, id;
	size_t i;

	ck_assert_uint_le(n, ARRAY_SIZE(pc));
	clock_now += 60;
	check_git(git_signature_new(&sig, AUTHOR, EMAIL, clock_now, 0), "sig");
	check_git(git_blob_create_from_buffer(&blob, repo, msg, strlen(msg)),
		  "blob");
	check_git(git_treebuilder_new(&tb, repo, NULL), "treebuilder");
	check_git(git_treebuilder_insert(NULL, tb, "file", &blob,
					 GIT_FILEMODE_BLOB), "insert");
	check_git(git_treebuilder_write(&tree_id, tb), "write tree");
	check_git(git_tree_lookup(&tree, repo, &tree_id), "tree");
	for (i = 0; i < n; i++)
		check_git(git_commit_lookup((git_commit **)&pc[i], repo,
					    &parents[i]), "parent");
	check_git(git_commit_create(&id, repo, NULL, sig, sig, NULL, msg,
				    tree, n, pc), "commit");
	for (i = 0; i < n; i++)
		git_commit_free((git_commit *)pc[i]);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_signature_free(sig);
	return id;
}

static git_oid commit1(git_repository *repo, const char *msg,
		       const git_oid *parent)
{
	return commit_n(repo, msg, parent, parent ? 1 : 0);
}

/* A commit at time t exactly, later commits continuing from there. */
static git_oid commit_at(git_repository *repo, const char *msg,
			 const git_oid *parent, int64_t t)
{
	clock_now = t - 60;
	return commit1(repo, msg, parent);
}

/* Point refs/heads/<branch> at id, forced, as a (force-)push would. */
static void set_branch(git_repository *repo, const char *branch,
		       const git_oid *id)
{
	git_reference *ref = NULL;
	char *name = xstrfmt("refs/heads/%s", branch);

	check_git(git_reference_create(&ref, repo, name, id, 1, NULL),
		  "set branch");
	git_reference_free(ref);
	free(name);
}

/* A linear history "c1".."c<n>" on master; ids[i] is c<i+1>. */
static void linear(git_repository *repo, git_oid *ids, size_t n)
{
	char msg[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "c%zu\n\nbody of c%zu\n", i + 1,
			 i + 1);
		ids[i] = commit1(repo, msg, i ? &ids[i - 1] : NULL);
	}
	set_branch(repo, "master", &ids[n - 1]);
}

static char *hex(const git_oid *id)
{
	char buf[GIT_OID_HEXSZ + 1];

	git_oid_tostr(buf, sizeof(buf), id);
	return xstrdup(buf);
}

static struct watch_repo *open_local(const char *name)
{
	struct strbuf err = STRBUF_INIT;
	struct watch_repo *w = NULL;
	char *path = tmp_path(name);

	if (watch_open(&w, path, NULL, NULL, NULL, &err))
		ck_abort_msg("watch_open: %s", err.buf);
	ck_assert_ptr_nonnull(w);
	free(path);
	strbuf_release(&err);
	return w;
}

/*
 * New commits from `tip` given `known` (a NULL-terminated list of ids,
 * freed here); aborts the test on error.
 */
static struct watch_commit *walk(struct watch_repo *w, const char *tip,
				 char **known, size_t limit, size_t *n)
{
	struct strbuf err = STRBUF_INIT;
	struct watch_commit *c = NULL;
	size_t n_known = 0, i;

	while (known && known[n_known])
		n_known++;
	if (watch_new_commits(w, tip, known, n_known, limit, &c, n, &err))
		ck_abort_msg("watch_new_commits: %s", err.buf);
	ck_assert_int_eq(*n == 0, c == NULL);
	for (i = 0; i < n_known; i++)
		free(known[i]);
	strbuf_release(&err);
	return c;
}

/* The subjects of c, space-separated: one string to compare per test. */
static char *subjects(const struct watch_commit *c, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", c[i].subject);
	return strbuf_detach(&sb, NULL);
}

#define assert_subjects(c, n, want)					\
	do {								\
		char *got_ = subjects((c), (n));			\
		ck_assert_str_eq(got_, (want));				\
		free(got_);						\
	} while (0)

static size_t index_of(const struct watch_commit *c, size_t n,
		       const git_oid *id)
{
	char *h = hex(id);
	size_t i;

	for (i = 0; i < n && strcmp(c[i].id, h); i++)
		;
	free(h);
	return i;
}

START_TEST(test_linear_in_order)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	git_oid ids[5];
	size_t n, i;

	linear(repo, ids, 5);
	w = open_local("r");
	c = walk(w, "master", NULL, 0, &n);
	ck_assert_uint_eq(n, 5);
	assert_subjects(c, n, "c1 c2 c3 c4 c5");
	for (i = 0; i < n; i++) {
		char *h = hex(&ids[i]);

		ck_assert_str_eq(c[i].id, h);
		ck_assert_str_eq(c[i].author, AUTHOR " <" EMAIL ">");
		ck_assert_int_eq(c[i].time, 1700000000 + 60 * (i + 1));
		ck_assert_uint_eq(c[i].n_parents, i ? 1 : 0);
		free(h);
	}
	watch_commits_free(c, n);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

START_TEST(test_resolve)
{
	git_repository *repo = make_repo("r");
	struct strbuf err = STRBUF_INIT;
	git_object *target = NULL;
	struct watch_repo *w;
	char id[WATCH_ID_HEXSZ + 1];
	git_signature *sig = NULL;
	git_oid ids[3], tag;
	char *h2 = NULL, *h3 = NULL;

	linear(repo, ids, 3);
	h2 = hex(&ids[1]);
	h3 = hex(&ids[2]);
	/* An annotated tag on c2 resolves to c2, not to the tag object. */
	check_git(git_signature_new(&sig, AUTHOR, EMAIL, clock_now, 0), "sig");
	check_git(git_object_lookup(&target, repo, &ids[1], GIT_OBJECT_COMMIT),
		  "lookup");
	check_git(git_tag_create(&tag, repo, "v1", target, sig, "v1\n", 0),
		  "tag");
	w = open_local("r");
	ck_assert_int_eq(watch_resolve(w, "master", id, &err), 0);
	ck_assert_str_eq(id, h3);
	ck_assert_int_eq(watch_resolve(w, "refs/heads/master", id, &err), 0);
	ck_assert_str_eq(id, h3);
	ck_assert_int_eq(watch_resolve(w, "master~1", id, &err), 0);
	ck_assert_str_eq(id, h2);
	ck_assert_int_eq(watch_resolve(w, "v1", id, &err), 0);
	ck_assert_str_eq(id, h2);
	ck_assert_str_eq(err.buf, "");
	watch_close(w);
	git_object_free(target);
	git_signature_free(sig);
	git_repository_free(repo);
	free(h2);
	free(h3);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_nothing_new_when_tip_known)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	char *known[3] = { NULL };
	git_oid ids[4];
	size_t n;

	linear(repo, ids, 4);
	w = open_local("r");
	known[0] = hex(&ids[3]);
	c = walk(w, "master", known, 0, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(c);
	/* Knowing a descendant of the tip hides it too. */
	known[0] = hex(&ids[3]);
	c = walk(w, "master~2", known, 0, &n);
	ck_assert_uint_eq(n, 0);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

START_TEST(test_fast_forward)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	char *known[2] = { NULL };
	git_oid ids[3], d, e;
	size_t n;

	linear(repo, ids, 3);
	/* The daemon's case: the handle stays open while the branch moves. */
	w = open_local("r");
	c = walk(w, "master", NULL, 0, &n);
	ck_assert_uint_eq(n, 3);
	watch_commits_free(c, n);

	d = commit1(repo, "d", &ids[2]);
	e = commit1(repo, "e", &d);
	set_branch(repo, "master", &e);
	known[0] = hex(&ids[2]);
	c = walk(w, "master", known, 0, &n);
	ck_assert_uint_eq(n, 2);
	assert_subjects(c, n, "d e");
	ck_assert_uint_eq(index_of(c, n, &e), 1);
	watch_commits_free(c, n);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

/*
 *   a - b - c ------- m      master
 *        \           /
 *         s1 - s2 - s3       side
 */
START_TEST(test_merge_brings_side_branch)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	char *known[3] = { NULL };
	git_oid a, b, cc, s1, s2, s3, m, mp[2];
	size_t n, i;

	a = commit1(repo, "a", NULL);
	b = commit1(repo, "b", &a);
	s1 = commit1(repo, "s1", &b);
	cc = commit1(repo, "c", &b);
	s2 = commit1(repo, "s2", &s1);
	s3 = commit1(repo, "s3", &s2);
	mp[0] = cc;
	mp[1] = s3;
	m = commit_n(repo, "m", mp, 2);
	set_branch(repo, "master", &m);
	set_branch(repo, "side", &s3);
	w = open_local("r");

	/* The merge brings the whole side branch, parents first. */
	known[0] = hex(&cc);
	c = walk(w, "master", known, 0, &n);
	assert_subjects(c, n, "s1 s2 s3 m");
	ck_assert_uint_eq(c[3].n_parents, 2);
	watch_commits_free(c, n);

	/* From b: both lines of history, each commit after its parents. */
	known[0] = hex(&b);
	c = walk(w, "master", known, 0, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(index_of(c, n, &m), 4);
	ck_assert_uint_lt(index_of(c, n, &s1), index_of(c, n, &s2));
	ck_assert_uint_lt(index_of(c, n, &s2), index_of(c, n, &s3));
	ck_assert_uint_lt(index_of(c, n, &cc), n);
	/* Between the two lines, committer time decides. */
	assert_subjects(c, n, "s1 c s2 s3 m");
	for (i = 0; i < n; i++)
		ck_assert_str_ne(c[i].subject, "b");
	watch_commits_free(c, n);

	/* Side branch already tested on its own: only c and the merge. */
	known[0] = hex(&s3);
	known[1] = hex(&b);
	c = walk(w, "master", known, 0, &n);
	assert_subjects(c, n, "c m");
	watch_commits_free(c, n);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

/* Remove a loose object, as gc would after a force-push. */
static void drop_object(git_repository *repo, const git_oid *id)
{
	char *h = hex(id);
	char *path = xstrfmt("%sobjects/%.2s/%s", git_repository_path(repo),
			     h, h + 2);

	ck_assert_int_eq(unlink(path), 0);
	free(path);
	free(h);
}

START_TEST(test_force_push)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	git_oid ids[5], d2, e2, f2;
	size_t n, i;

	linear(repo, ids, 5);
	/* Rewrite c4 and c5 on top of c3, then force-push. */
	d2 = commit1(repo, "c4 v2", &ids[2]);
	e2 = commit1(repo, "c5 v2", &d2);
	set_branch(repo, "master", &e2);
	w = open_local("r");

	/* Only the old tip recorded: it still hides the shared base. */
	{
		char *known[] = { hex(&ids[4]), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c4 v2 c5 v2");
	watch_commits_free(c, n);

	/* Every old commit queued, tip included: the same answer. */
	{
		char *known[6] = { NULL };

		for (i = 0; i < 5; i++)
			known[i] = hex(&ids[i]);
		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c4 v2 c5 v2");
	watch_commits_free(c, n);

	/* Old and new tips known: nothing is queued twice... */
	{
		char *known[] = { hex(&ids[4]), hex(&e2), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	ck_assert_uint_eq(n, 0);

	/* ...and the next push brings only its own commit. */
	f2 = commit1(repo, "c6", &e2);
	set_branch(repo, "master", &f2);
	{
		char *known[] = { hex(&ids[4]), hex(&e2), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c6");
	watch_commits_free(c, n);
	watch_close(w);

	/*
	 * The old tip garbage-collected: it is ignored, and the commits
	 * queued before still hide the base.
	 */
	drop_object(repo, &ids[4]);
	w = open_local("r");
	{
		char *known[] = { hex(&ids[4]), hex(&ids[3]), hex(&ids[2]),
				  NULL };

		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c4 v2 c5 v2 c6");
	watch_commits_free(c, n);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

/*
 * Committer clocks are wrong sometimes: a child older than its parent must
 * still come after it. Time only breaks ties between unrelated commits.
 */
START_TEST(test_clock_skew)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	git_oid a, b, cc, d;
	size_t n;

	a = commit_at(repo, "a", NULL, 1000000);
	b = commit_at(repo, "b", &a, 2000000);
	cc = commit_at(repo, "c", &b, 500000);
	d = commit_at(repo, "d", &cc, 3000000);
	set_branch(repo, "master", &d);
	w = open_local("r");
	c = walk(w, "master", NULL, 0, &n);
	assert_subjects(c, n, "a b c d");
	ck_assert_int_eq(c[2].time, 500000);
	watch_commits_free(c, n);
	c = walk(w, "master", NULL, 2, &n);
	assert_subjects(c, n, "c d");
	watch_commits_free(c, n);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

START_TEST(test_limit_keeps_newest)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	git_oid ids[10];
	size_t n;

	linear(repo, ids, 10);
	w = open_local("r");
	c = walk(w, "master", NULL, 3, &n);
	assert_subjects(c, n, "c8 c9 c10");
	watch_commits_free(c, n);

	c = walk(w, "master", NULL, 100, &n);
	ck_assert_uint_eq(n, 10);
	assert_subjects(c, n, "c1 c2 c3 c4 c5 c6 c7 c8 c9 c10");
	watch_commits_free(c, n);

	{
		char *known[] = { hex(&ids[2]), NULL };

		c = walk(w, "master", known, 2, &n);
	}
	assert_subjects(c, n, "c9 c10");
	watch_commits_free(c, n);

	c = walk(w, "master", NULL, 1, &n);
	assert_subjects(c, n, "c10");
	watch_commits_free(c, n);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

START_TEST(test_garbage_known_ignored)
{
	git_repository *repo = make_repo("r");
	struct watch_repo *w;
	struct watch_commit *c;
	git_commit *commit = NULL;
	git_oid ids[5];
	size_t n;

	linear(repo, ids, 5);
	check_git(git_commit_lookup(&commit, repo, &ids[1]), "lookup");
	w = open_local("r");
	{
		/* Garbage, absent, a tree, short, empty: then c3. */
		char *known[] = {
			xstrdup("not a commit id at all"),
			xstrdup(NO_SUCH_ID),
			hex(git_commit_tree_id(commit)),
			xstrdup("0123"),
			xstrdup(""),
			hex(&ids[2]),
			NULL,
		};

		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c4 c5");
	watch_commits_free(c, n);

	/* Only garbage: everything is new. */
	{
		char *known[] = { xstrdup(NO_SUCH_ID), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	ck_assert_uint_eq(n, 5);
	watch_commits_free(c, n);
	git_commit_free(commit);
	watch_close(w);
	git_repository_free(repo);
}
END_TEST

START_TEST(test_bad_tip_is_an_error)
{
	git_repository *repo = make_repo("r");
	struct strbuf err = STRBUF_INIT;
	struct watch_commit *c = (void *)1;
	struct watch_repo *w;
	char id[WATCH_ID_HEXSZ + 1];
	char *path = tmp_path("r");
	git_oid ids[2];
	size_t n = 42;

	linear(repo, ids, 2);
	w = open_local("r");
	ck_assert_int_eq(watch_new_commits(w, "no-such-branch", NULL, 0, 0,
					   &c, &n, &err), -1);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(err.buf, "no-such-branch"));
	ck_assert_ptr_nonnull(strstr(err.buf, path));
	strbuf_reset(&err);

	ck_assert_int_eq(watch_resolve(w, "no-such-branch", id, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "no-such-branch"));
	ck_assert_ptr_nonnull(strstr(err.buf, path));
	strbuf_reset(&err);

	/* A tree is not a commit. */
	ck_assert_int_eq(watch_resolve(w, "master^{tree}", id, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "master^{tree}"));
	watch_close(w);
	git_repository_free(repo);
	strbuf_release(&err);
	free(path);
}
END_TEST

START_TEST(test_open_errors)
{
	git_repository *repo = make_repo("r");
	struct strbuf err = STRBUF_INIT;
	struct watch_repo *w = (void *)1;
	char *missing = tmp_path("missing");
	char *plain = tmp_path("r/plain");
	char *cache = tmp_path("cache");

	ck_assert_int_eq(watch_open(&w, missing, NULL, NULL, NULL, &err), -1);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(strstr(err.buf, missing));
	strbuf_reset(&err);

	/*
	 * A directory that is not a repository is not searched upwards, even
	 * inside a work tree: the daemon must watch what it was told to.
	 */
	ck_assert_int_eq(mkdir(plain, 0755), 0);
	ck_assert_int_eq(watch_open(&w, plain, NULL, NULL, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, plain));
	strbuf_reset(&err);

	ck_assert_int_eq(watch_open(&w, NULL, NULL, NULL, NULL, &err), -1);
	ck_assert_str_ne(err.buf, "");
	strbuf_reset(&err);
	ck_assert_int_eq(watch_open(&w, plain, "file:///x", NULL, cache, &err),
			 -1);
	ck_assert_str_ne(err.buf, "");
	strbuf_reset(&err);
	ck_assert_int_eq(watch_open(&w, NULL, "file:///x", NULL, NULL, &err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "file:///x"));
	strbuf_reset(&err);

	/* A remote that is not there: the error names it. */
	free(missing);
	missing = xstrfmt("file://%s/missing", tmpdir);
	ck_assert_int_eq(watch_open(&w, NULL, missing, NULL, cache, &err), -1);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(strstr(err.buf, missing));
	strbuf_release(&err);
	git_repository_free(repo);
	free(missing);
	free(plain);
	free(cache);
}
END_TEST

/*
 * A remote that wants a login: every request without an Authorization
 * header gets 401 (Basic); the first with one is recorded and answered
 * 404, which ends the transfer.
 */
struct http_stub {
	int fd;
	int port;
	pthread_t thread;
	char auth[512];
	int requests;
};

static void *http_stub_main(void *arg)
{
	static const char ask[] = "HTTP/1.1 401 Unauthorized\r\n"
		"WWW-Authenticate: Basic realm=\"t\"\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n";
	static const char none[] = "HTTP/1.1 404 Not Found\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct http_stub *h = arg;
	char req[8192];
	int k;

	for (k = 0; k < 8; k++) {
		int c = accept(h->fd, NULL, NULL);
		size_t n = 0;
		ssize_t r;
		char *a;

		if (c < 0)
			break;
		while (n < sizeof(req) - 1 &&
		       (r = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
			n += (size_t)r;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[n] = '\0';
		h->requests++;
		a = strcasestr(req, "\r\nAuthorization: ");
		if (a) {
			a += 17;
			snprintf(h->auth, sizeof(h->auth), "%.*s",
				 (int)strcspn(a, "\r\n"), a);
		}
		if (write(c, a ? none : ask, a ? strlen(none) :
			  strlen(ask)) < 0)
			a = NULL;
		close(c);
		if (a)
			break;
	}
	return NULL;
}

static void http_stub_start(struct http_stub *h)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	memset(h, 0, sizeof(*h));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(h->fd, 0);
	ck_assert_int_eq(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(h->fd, 8), 0);
	ck_assert_int_eq(getsockname(h->fd, (struct sockaddr *)&sa, &len), 0);
	h->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&h->thread, NULL, http_stub_main, h),
			 0);
}

static void http_stub_stop(struct http_stub *h)
{
	shutdown(h->fd, SHUT_RDWR);	/* ends a waiting accept() */
	pthread_join(h->thread, NULL);
	close(h->fd);
}

/* Open url (with the credentials file cred) against a fresh stub. */
static int open_stub(struct http_stub *h, const char *path,
		     const char *cred, struct strbuf *err)
{
	char *url = xstrfmt("http://%s127.0.0.1:%d/linux.git",
			    path ? path : "", h->port);
	char *cache = tmp_path("stub-mirror");
	struct watch_repo *w = NULL;
	int rc = watch_open(&w, NULL, url, cred, cache, err);

	if (w)
		watch_close(w);
	free(url);
	free(cache);
	return rc;
}

/*
 * A tree's login comes from its credentials file, not its URL: the
 * remote's request for one is answered with the file's user:token, and
 * no message carries the token. A file anyone may read is refused.
 */
START_TEST(test_credentials_file)
{
	struct strbuf err = STRBUF_INIT;
	struct http_stub h;
	char *cred = tmp_path("cred");

	ck_assert_int_eq(fsutil_write_atomic(cred, "me:s3cret-token\n", 16),
			 0);
	ck_assert_int_eq(chmod(cred, 0600), 0);
	http_stub_start(&h);
	ck_assert_int_eq(open_stub(&h, NULL, cred, &err), -1);
	http_stub_stop(&h);
	/* base64("me:s3cret-token") */
	ck_assert_str_eq(h.auth, "Basic bWU6czNjcmV0LXRva2Vu");
	ck_assert_msg(!strstr(err.buf, "s3cret"), "%s", err.buf);

	/* Without a file: the message says what is missing. */
	strbuf_reset(&err);
	http_stub_start(&h);
	ck_assert_int_eq(open_stub(&h, NULL, NULL, &err), -1);
	http_stub_stop(&h);
	ck_assert_str_eq(h.auth, "");
	ck_assert_msg(strstr(err.buf, "give the tree a credentials file"),
		      "%s", err.buf);

	/* Readable by anyone: refused before anything is sent. */
	strbuf_reset(&err);
	ck_assert_int_eq(chmod(cred, 0644), 0);
	http_stub_start(&h);
	ck_assert_int_eq(open_stub(&h, NULL, cred, &err), -1);
	http_stub_stop(&h);
	ck_assert_str_eq(h.auth, "");
	ck_assert_msg(strstr(err.buf, "readable by anyone"), "%s", err.buf);

	/* A token in the URL itself never reaches a message. */
	strbuf_reset(&err);
	http_stub_start(&h);
	ck_assert_int_eq(open_stub(&h, "me:url-t0ken@", NULL, &err), -1);
	http_stub_stop(&h);
	ck_assert_msg(!strstr(err.buf, "url-t0ken"), "%s", err.buf);
	ck_assert_msg(strstr(err.buf, "http://127.0.0.1:"), "%s", err.buf);
	strbuf_release(&err);
	free(cred);
}
END_TEST

START_TEST(test_credentials_read)
{
	struct strbuf err = STRBUF_INIT;
	char *cred = tmp_path("cred"), *user, *token;

	ck_assert_int_eq(fsutil_write_atomic(cred, "no colon\n", 9), 0);
	ck_assert_int_eq(chmod(cred, 0640), 0);
	ck_assert_int_eq(watch_credentials_read(cred, &user, &token, &err),
			 -1);
	ck_assert_msg(strstr(err.buf, ":1: expected one line \"user:token\""),
		      "%s", err.buf);
	ck_assert_msg(!strstr(err.buf, "no colon"), "%s", err.buf);
	strbuf_reset(&err);
	ck_assert_int_eq(fsutil_write_atomic(cred, "u:t:x\r\nmore\n", 12), 0);
	ck_assert_int_eq(chmod(cred, 0640), 0);
	ck_assert_int_eq(watch_credentials_read(cred, &user, &token, &err), 0);
	ck_assert_str_eq(user, "u");
	ck_assert_str_eq(token, "t:x");
	watch_credentials_free(user, token);
	strbuf_release(&err);
	free(cred);
}
END_TEST

static struct watch_repo *open_remote(const char *url, const char *cache)
{
	struct strbuf err = STRBUF_INIT;
	struct watch_repo *w = NULL;

	if (watch_open(&w, NULL, url, NULL, cache, &err))
		ck_abort_msg("watch_open: %s", err.buf);
	strbuf_release(&err);
	return w;
}

START_TEST(test_remote_clone_and_fetch)
{
	git_repository *origin = make_repo("origin");
	struct strbuf err = STRBUF_INIT;
	struct watch_repo *w;
	struct watch_commit *c;
	char *url = xstrfmt("file://%s/origin", tmpdir);
	char *cache = tmp_path("cache/tree.git");
	char id[WATCH_ID_HEXSZ + 1];
	git_repository *mirror = NULL;
	git_oid ids[2], cc, d, d2;
	size_t n;
	char *h;

	linear(origin, ids, 2);
	w = open_remote(url, cache);
	/* The first open made a bare mirror. */
	check_git(git_repository_open_bare(&mirror, cache), "open mirror");
	ck_assert(git_repository_is_bare(mirror));
	git_repository_free(mirror);
	c = walk(w, "master", NULL, 0, &n);
	assert_subjects(c, n, "c1 c2");
	watch_commits_free(c, n);

	/* The origin moves: not seen before a fetch, seen after. */
	cc = commit1(origin, "c3", &ids[1]);
	set_branch(origin, "master", &cc);
	{
		char *known[] = { hex(&ids[1]), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(watch_fetch(w, &err), 0);
	{
		char *known[] = { hex(&ids[1]), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c3");
	h = hex(&cc);
	ck_assert_str_eq(c[0].id, h);
	free(h);
	watch_commits_free(c, n);

	/* A force-push upstream moves the mirror's branch too. */
	d2 = commit1(origin, "c3 v2", &ids[1]);
	set_branch(origin, "master", &d2);
	ck_assert_int_eq(watch_fetch(w, &err), 0);
	{
		char *known[] = { hex(&cc), NULL };

		c = walk(w, "master", known, 0, &n);
	}
	assert_subjects(c, n, "c3 v2");
	watch_commits_free(c, n);
	watch_close(w);

	/* Reopening the cache fetches: a new commit and a new branch. */
	d = commit1(origin, "c4", &d2);
	set_branch(origin, "master", &d);
	set_branch(origin, "next", &ids[0]);
	w = open_remote(url, cache);
	ck_assert_int_eq(watch_resolve(w, "master", id, &err), 0);
	h = hex(&d);
	ck_assert_str_eq(id, h);
	free(h);
	ck_assert_int_eq(watch_resolve(w, "next", id, &err), 0);
	h = hex(&ids[0]);
	ck_assert_str_eq(id, h);
	free(h);
	watch_close(w);

	/* The mirror is a bare repository that opens as a local one too. */
	w = open_local("cache/tree.git");
	ck_assert_int_eq(watch_resolve(w, "master", id, &err), 0);
	h = hex(&d);
	ck_assert_str_eq(id, h);
	free(h);
	watch_close(w);

	/* The cache belongs to one URL. */
	free(url);
	url = xstrfmt("file://%s/other", tmpdir);
	ck_assert_int_eq(watch_open(&w, NULL, url, NULL, cache, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, cache));
	ck_assert_ptr_nonnull(strstr(err.buf, "origin"));
	strbuf_release(&err);
	git_repository_free(origin);
	free(url);
	free(cache);
}
END_TEST

START_TEST(test_local_fetch_is_noop)
{
	git_repository *repo = make_repo("r");
	struct strbuf err = STRBUF_INIT;
	struct watch_repo *w;
	git_oid ids[1];

	linear(repo, ids, 1);
	w = open_local("r");
	ck_assert_int_eq(watch_fetch(w, &err), 0);
	ck_assert_str_eq(err.buf, "");
	watch_close(w);
	git_repository_free(repo);
	strbuf_release(&err);
}
END_TEST

/* ---- watch-diff: the paths a commit changes ---- */

/*
 * A commit on top of parent (NULL: a root) whose tree is the repository's
 * index after writing path with text (text NULL: path removed).
 */
static git_oid commit_path(git_repository *repo, const git_oid *parent,
			   const char *path, const char *text)
{
	const git_commit *pc[1] = { NULL };
	git_index *index = NULL;
	git_index_entry e;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, id;

	check_git(git_repository_index(&index, repo), "index");
	if (text) {
		memset(&e, 0, sizeof(e));
		e.mode = GIT_FILEMODE_BLOB;
		e.path = path;
		check_git(git_index_add_from_buffer(index, &e, text,
						    strlen(text)), "add");
	} else {
		check_git(git_index_remove(index, path, 0), "remove");
	}
	check_git(git_index_write_tree(&tree_id, index), "write tree");
	check_git(git_tree_lookup(&tree, repo, &tree_id), "tree");
	check_git(git_signature_new(&sig, AUTHOR, EMAIL, ++clock_now, 0),
		  "sig");
	if (parent)
		check_git(git_commit_lookup((git_commit **)&pc[0], repo,
					    parent), "parent");
	check_git(git_commit_create(&id, repo, NULL, sig, sig, NULL, path,
				    tree, parent ? 1 : 0, pc), "commit");
	git_commit_free((git_commit *)pc[0]);
	git_tree_free(tree);
	git_signature_free(sig);
	git_index_free(index);
	return id;
}

static int diff(const git_oid *id, size_t cap, char ***paths, size_t *n)
{
	struct strbuf err = STRBUF_INIT;
	char *path = tmp_path("d"), *h = hex(id);
	int rc = watch_diff_paths(path, h, cap, paths, n, &err);

	ck_assert_msg(rc >= 0, "watch_diff_paths: %s", err.buf);
	free(path);
	free(h);
	strbuf_release(&err);
	return rc;
}

START_TEST(test_diff_paths)
{
	git_repository *repo = make_repo("d");
	struct strbuf err = STRBUF_INIT;
	git_oid a, b, c, d;
	char **paths = NULL, *path;
	size_t n = 0;

	a = commit_path(repo, NULL, "README", "x\n");
	a = commit_path(repo, &a, "arch/x86/kernel/setup.c", "s\n");
	a = commit_path(repo, &a, "drivers/net/e1000.c", "e\n");
	b = commit_path(repo, &a, "arch/x86/xen/enlighten.c", "x\n");
	/* Only the path that changed, not its unchanged neighbours. */
	ck_assert_int_eq(diff(&b, 10, &paths, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(paths[0], "arch/x86/xen/enlighten.c");
	watch_diff_paths_free(paths, n);
	/* A change and a removal, in tree order. */
	c = commit_path(repo, &b, "README", "y\n");
	c = commit_path(repo, &c, "drivers/net/e1000.c", NULL);
	d = commit_path(repo, &c, "arch/x86/xen/enlighten.c", "z\n");
	ck_assert_int_eq(diff(&c, 10, &paths, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(paths[0], "drivers/net/e1000.c");
	watch_diff_paths_free(paths, n);
	ck_assert_int_eq(diff(&d, 10, &paths, &n), 0);
	ck_assert_uint_eq(n, 1);
	watch_diff_paths_free(paths, n);
	/* A root commit: every path of its tree. */
	a = commit_path(repo, NULL, "README", "again\n");
	ck_assert_int_eq(diff(&a, 10, &paths, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(paths[0], "README");
	ck_assert_str_eq(paths[1], "arch/x86/kernel/setup.c");
	ck_assert_str_eq(paths[2], "arch/x86/xen/enlighten.c");
	watch_diff_paths_free(paths, n);
	/* Past the cap the walk stops: 1, with the first cap paths. */
	ck_assert_int_eq(diff(&a, 2, &paths, &n), 1);
	ck_assert_uint_eq(n, 2);
	watch_diff_paths_free(paths, n);
	ck_assert_int_eq(diff(&a, 3, &paths, &n), 0);
	watch_diff_paths_free(paths, n);
	/* A commit the repository lacks names itself. */
	path = tmp_path("d");
	ck_assert_int_eq(watch_diff_paths(path, NO_SUCH_ID, 10, &paths, &n,
					  &err), -1);
	ck_assert_ptr_null(paths);
	ck_assert_ptr_nonnull(strstr(err.buf, "cannot diff commit "
				     "0123456789ab"));
	free(path);
	strbuf_release(&err);
	git_repository_free(repo);
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *local = tcase_create("local");
	TCase *remote = tcase_create("remote");

	tcase_add_checked_fixture(local, setup, teardown);
	tcase_add_test(local, test_linear_in_order);
	tcase_add_test(local, test_diff_paths);
	tcase_add_test(local, test_resolve);
	tcase_add_test(local, test_nothing_new_when_tip_known);
	tcase_add_test(local, test_fast_forward);
	tcase_add_test(local, test_merge_brings_side_branch);
	tcase_add_test(local, test_force_push);
	tcase_add_test(local, test_clock_skew);
	tcase_add_test(local, test_limit_keeps_newest);
	tcase_add_test(local, test_garbage_known_ignored);
	tcase_add_test(local, test_bad_tip_is_an_error);
	tcase_add_test(local, test_open_errors);
	tcase_add_test(local, test_local_fetch_is_noop);
	suite_add_tcase(s, local);

	tcase_add_checked_fixture(remote, setup, teardown);
	tcase_add_test(remote, test_remote_clone_and_fetch);
	tcase_add_test(remote, test_credentials_file);
	tcase_add_test(remote, test_credentials_read);
	suite_add_tcase(s, remote);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(watch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
