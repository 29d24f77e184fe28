/*
 * test-build: the builder (build.c) and the group trampoline (spawn.c) on
 * a small repository made with libgit2 in a private temporary directory.
 * Its Makefile is a fake kernel: it honours O=, tinyconfig and
 * olddefconfig, and "compiles" each .c into $(O)/<name>.o, appending the
 * source's name to $(O)/counter, then concatenates the objects into
 * $(O)/arch/x86/boot/bzImage. A source containing FAIL makes its rule fail,
 * one containing SLEEP makes it wait forever; its merge_config.sh appends
 * the fragments to the .config. The real make runs, through the real
 * hvmatrix binary as trampoline.
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "build.h"
#include "fsutil.h"
#include "spawn.h"
#include "strbuf.h"
#include "xmalloc.h"

static const char fake_makefile[] =
	"O ?= .\n"
	"tinyconfig:\n"
	"\techo CONFIG_FAKE=y > $(O)/.config\n"
	"olddefconfig:\n"
	"\ttest -f $(O)/.config\n"
	"\techo '# olddefconfig' >> $(O)/.config\n"
	"bzImage: $(O)/arch/x86/boot/bzImage\n"
	"$(O)/%.o: %.c $(O)/.config\n"
	"\t@if grep -q FAIL $<; then echo \"$<:1: error: boom\" >&2; "
	"exit 1; fi\n"
	"\t@if grep -q SLEEP $<; then touch $(O)/sleeping; "
	"while true; do sleep 1; done; fi\n"
	"\techo $< >> $(O)/counter\n"
	"\tcat $< > $@\n"
	"$(O)/arch/x86/boot/bzImage: $(O)/a.o $(O)/b.o\n"
	"\tmkdir -p $(dir $@)\n"
	"\tcat $^ > $@\n";

/* merge_config.sh -m -O OUT OUT/.config FRAGMENTS...: appends them. */
static const char fake_merge_config[] =
	"#!/bin/sh\n"
	"[ \"$1\" = -m ] && [ \"$2\" = -O ] || exit 1\n"
	"out=$3\n"
	"shift 4\n"
	"cat \"$@\" >> \"$out/.config\"\n";

static char tmpdir[PATH_MAX];
static int64_t clock_now;
static git_repository *repo;
static int bare;		/* the watched repository is a bare mirror */
static char *repo_path, *state_dir;
static struct matrix_tree tree;
static struct matrix_build config;
static char *targets[] = { "bzImage" };

static int made_progress;	/* on_progress saw "make" */
static int done_calls;

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-build.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_ge(git_libgit2_init(), 1);
	clock_now = 1700000000;
	spawn_self_exe = HVM_BUILDDIR "/hvmatrix";
	repo_path = xstrfmt("%s/linux", tmpdir);
	state_dir = xstrfmt("%s/state", tmpdir);
	ck_assert_int_eq(git_repository_init(&repo, repo_path, bare), 0);
	memset(&tree, 0, sizeof(tree));
	tree.name = "linux";
	tree.path = repo_path;
	memset(&config, 0, sizeof(config));
	config.name = "tiny";
	config.base = "tinyconfig";
	config.targets = targets;
	config.n_targets = 1;
	config.image = "arch/x86/boot/bzImage";
	config.timeout_s = 600;
	made_progress = done_calls = 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	git_repository_free(repo);
	git_libgit2_shutdown();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(repo_path);
	free(state_dir);
}

static void check_git(int rc, const char *what)
{
	const git_error *e = git_error_last();

	if (rc < 0)
		ck_abort_msg("%s: %s", what, e ? e->message : "?");
}

/* A commit of Makefile, a.c = a and b.c = b on top of parent (or none). */
static void commit(const char *a, const char *b, const git_oid *parent,
		   char hex[41])
{
	const char *names[] = { "Makefile", "a.c", "b.c" };
	const char *data[] = { fake_makefile, a, b };
	git_treebuilder *scripts = NULL, *kconfig = NULL;
	git_oid sub;
	const git_commit *pc[1] = { NULL };
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *t = NULL;
	git_oid blob, tree_id, id;
	size_t i;

	clock_now += 60;
	check_git(git_signature_new(&sig, "A U Thor", "a@example.com",
				    clock_now, 0), "sig");
	check_git(git_treebuilder_new(&tb, repo, NULL), "treebuilder");
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!data[i])
			continue;	/* the file is not in this commit */
		check_git(git_blob_create_from_buffer(&blob, repo, data[i],
						      strlen(data[i])), "blob");
		check_git(git_treebuilder_insert(NULL, tb, names[i], &blob,
						 GIT_FILEMODE_BLOB), "insert");
	}
	check_git(git_blob_create_from_buffer(&blob, repo, fake_merge_config,
					      strlen(fake_merge_config)),
		  "blob");
	check_git(git_treebuilder_new(&kconfig, repo, NULL), "treebuilder");
	check_git(git_treebuilder_insert(NULL, kconfig, "merge_config.sh",
					 &blob, GIT_FILEMODE_BLOB_EXECUTABLE),
		  "insert");
	check_git(git_treebuilder_write(&sub, kconfig), "write tree");
	check_git(git_treebuilder_new(&scripts, repo, NULL), "treebuilder");
	check_git(git_treebuilder_insert(NULL, scripts, "kconfig", &sub,
					 GIT_FILEMODE_TREE), "insert");
	check_git(git_treebuilder_write(&sub, scripts), "write tree");
	check_git(git_treebuilder_insert(NULL, tb, "scripts", &sub,
					 GIT_FILEMODE_TREE), "insert");
	check_git(git_treebuilder_write(&tree_id, tb), "write tree");
	check_git(git_tree_lookup(&t, repo, &tree_id), "tree");
	if (parent)
		check_git(git_commit_lookup((git_commit **)&pc[0], repo,
					    parent), "parent");
	check_git(git_commit_create(&id, repo, "refs/heads/master", sig, sig,
				    NULL, "commit\n", t, parent ? 1 : 0, pc),
		  "commit");
	git_oid_tostr(hex, 41, &id);
	git_commit_free((git_commit *)pc[0]);
	git_tree_free(t);
	git_treebuilder_free(tb);
	git_treebuilder_free(kconfig);
	git_treebuilder_free(scripts);
	git_signature_free(sig);
}

static void on_progress(struct build_job *b, const char *stage, void *data)
{
	if (!strcmp(stage, "make"))
		made_progress = 1;
}

static void on_done(struct build_job *b, void *data)
{
	done_calls++;
}

static void job_init(struct build_job *b, const char *hex)
{
	memset(b, 0, sizeof(*b));
	b->tree = &tree;
	b->config = &config;
	snprintf(b->commit, sizeof(b->commit), "%s", hex);
	b->state_dir = state_dir;
	b->repo_path = repo_path;
	b->jobs = 2;
	b->on_progress = on_progress;
	b->on_done = on_done;
}

/* Build hex to its end on a fresh loop; the caller releases b. */
static void build(struct build_job *b, const char *hex)
{
	struct strbuf err = STRBUF_INIT;
	uv_loop_t loop;

	job_init(b, hex);
	made_progress = done_calls = 0;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	if (build_start(&loop, b, &err))
		ck_abort_msg("build_start: %s", err.buf);
	/* Asynchronous even when nothing is built. */
	ck_assert_int_eq(done_calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	strbuf_release(&err);
}

static char *read_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_msg(fsutil_read(path, &sb) == 0, "cannot read %s", path);
	return strbuf_detach(&sb, NULL);
}

static char *state_file(const char *rel)
{
	return xstrfmt("%s/%s", state_dir, rel);
}

/* How many times make compiled name (counter lines; -j2 mixes order). */
static unsigned compiled(const char *counter, const char *name)
{
	char *s = read_file(counter), *p = s;
	size_t len = strlen(name);
	unsigned n = 0;

	while (*p) {
		char *nl = strchrnul(p, '\n');

		if ((size_t)(nl - p) == len && !memcmp(p, name, len))
			n++;
		p = *nl ? nl + 1 : nl;
	}
	free(s);
	return n;
}

static void assert_ok(const struct build_job *b)
{
	if (b->status != BUILD_OK) {
		char *log = b->log_path ? read_file(b->log_path) : NULL;

		ck_abort_msg("status %s (%s); log:\n%s",
			     build_status_name(b->status), b->reason,
			     log ? log : "");
	}
}

START_TEST(test_build_incremental_and_reuse)
{
	struct build_job b;
	char c1[41], c2[41];
	char *src_b = state_file("build/linux/tiny/src/b.c");
	char *counter = state_file("build/linux/tiny/out/counter");
	char *art, *s, *alt;
	struct stat st1, st2;
	git_repository *src;

	commit("a1\n", "b1\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	ck_assert(made_progress);
	ck_assert_str_eq(b.errors, "");
	art = xstrfmt("%s/artifacts/linux/%s/tiny/bzImage", state_dir, c1);
	ck_assert_str_eq(b.image_path, art);
	s = read_file(art);
	ck_assert_str_eq(s, "a1\nb1\n");
	free(s);
	free(art);
	ck_assert_uint_eq(compiled(counter, "a.c"), 1);
	ck_assert_uint_eq(compiled(counter, "b.c"), 1);
	/* The log names each step's exact command. */
	s = read_file(b.log_path);
	ck_assert_ptr_nonnull(strstr(s, "$ make -C "));
	ck_assert_ptr_nonnull(strstr(s, " tinyconfig\n"));
	ck_assert_ptr_nonnull(strstr(s, "'CC=ccache gcc' -j2 bzImage\n"));
	free(s);
	build_job_release(&b);

	/* The checkout borrows objects; HEAD is the commit, detached. */
	alt = state_file("build/linux/tiny/src/.git/objects/info/alternates");
	s = read_file(alt);
	ck_assert_ptr_nonnull(strstr(s, "/linux/.git/objects\n"));
	free(s);
	free(alt);
	s = state_file("build/linux/tiny/src");
	check_git(git_repository_open(&src, s), "open src");
	ck_assert(git_repository_head_detached(src) == 1);
	git_repository_free(src);
	free(s);

	/* Commit 2 changes a.c only: b.c is neither rewritten nor rebuilt. */
	ck_assert_int_eq(stat(src_b, &st1), 0);
	{
		git_oid p;

		git_oid_fromstr(&p, c1);
		commit("a2\n", "b1\n", &p, c2);
	}
	build(&b, c2);
	assert_ok(&b);
	ck_assert_int_eq(stat(src_b, &st2), 0);
	ck_assert_int_eq(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	ck_assert_int_eq(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	ck_assert_int_eq(st1.st_ino, st2.st_ino);
	ck_assert_uint_eq(compiled(counter, "a.c"), 2);
	ck_assert_uint_eq(compiled(counter, "b.c"), 1);
	s = read_file(b.image_path);
	ck_assert_str_eq(s, "a2\nb1\n");
	free(s);
	/* Same config inputs: not configured again. */
	s = read_file(b.log_path);
	ck_assert_ptr_null(strstr(s, "tinyconfig"));
	free(s);
	build_job_release(&b);

	/* Already built: OK at once, make never runs. */
	build(&b, c1);
	assert_ok(&b);
	ck_assert(!made_progress);
	ck_assert_uint_eq(compiled(counter, "a.c"), 2);
	ck_assert_uint_eq(compiled(counter, "b.c"), 1);
	s = read_file(b.image_path);
	ck_assert_str_eq(s, "a1\nb1\n");
	free(s);
	build_job_release(&b);

	free(src_b);
	free(counter);
}
END_TEST

/*
 * Only the paths two commits differ in are checked out: a file the next
 * commit deletes goes, one it brings back comes back with its content.
 */
START_TEST(test_checkout_follows_the_diff)
{
	struct build_job b;
	char c1[41], c2[41], c3[41];
	char *src_a = state_file("build/linux/tiny/src/a.c");
	char *src_b = state_file("build/linux/tiny/src/b.c");
	struct stat st;
	git_oid p;
	char *s;

	commit("a1\n", "b1\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	build_job_release(&b);
	git_oid_fromstr(&p, c1);
	commit("a2\n", NULL, &p, c2);
	build(&b, c2);		/* the fake Makefile may fail without b.c */
	build_job_release(&b);
	ck_assert_int_eq(stat(src_b, &st), -1);
	s = read_file(src_a);
	ck_assert_str_eq(s, "a2\n");
	free(s);
	git_oid_fromstr(&p, c2);
	commit("a2\n", "b3\n", &p, c3);
	build(&b, c3);
	assert_ok(&b);
	s = read_file(src_b);
	ck_assert_str_eq(s, "b3\n");
	free(s);
	s = read_file(b.image_path);
	ck_assert_str_eq(s, "a2\nb3\n");
	free(s);
	build_job_release(&b);
	free(src_a);
	free(src_b);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
}

static void assert_contains(const char *path, const char *what)
{
	char *s = read_file(path);

	ck_assert_msg(strstr(s, what), "%s lacks \"%s\":\n%s", path, what, s);
	free(s);
}

static void assert_lacks(const char *path, const char *what)
{
	char *s = read_file(path);

	ck_assert_msg(!strstr(s, what), "%s has \"%s\":\n%s", path, what, s);
	free(s);
}

/* The config is redone when, and only when, its inputs change. */
START_TEST(test_build_config_inputs)
{
	struct build_job b;
	char c[4][41];
	char *frag = xstrfmt("%s/frag.config", tmpdir);
	char *base = xstrfmt("%s/base.config", tmpdir);
	char *dot_config = state_file("build/linux/tiny/out/.config");
	char *fragments[] = { frag };
	git_oid p;
	int i;

	for (i = 0; i < 4; i++) {
		char a[16];

		snprintf(a, sizeof(a), "a%d\n", i);
		if (i)
			git_oid_fromstr(&p, c[i - 1]);
		commit(a, "b\n", i ? &p : NULL, c[i]);
	}
	write_file(frag, "CONFIG_A=y\n");
	config.fragments = fragments;
	config.n_fragments = 1;

	build(&b, c[0]);
	assert_ok(&b);
	assert_contains(b.log_path, "merge_config.sh -m -O ");
	assert_contains(b.log_path, " olddefconfig\n");
	assert_contains(dot_config, "CONFIG_FAKE=y\nCONFIG_A=y\n");
	build_job_release(&b);

	/* Same inputs: straight to make. */
	build(&b, c[1]);
	assert_ok(&b);
	assert_lacks(b.log_path, "olddefconfig");
	build_job_release(&b);

	/* A fragment's contents changed: configured afresh. */
	write_file(frag, "CONFIG_A=n\n");
	build(&b, c[2]);
	assert_ok(&b);
	assert_contains(b.log_path, " tinyconfig\n");
	assert_contains(b.log_path, " olddefconfig\n");
	assert_contains(dot_config, "CONFIG_FAKE=y\nCONFIG_A=n\n");
	assert_lacks(dot_config, "CONFIG_A=y");
	build_job_release(&b);

	/* A base file is copied in, not made. */
	write_file(base, "CONFIG_BASE=y\n");
	config.base = base;
	build(&b, c[3]);
	assert_ok(&b);
	assert_lacks(b.log_path, "tinyconfig");
	assert_contains(b.log_path, "$ cp ");
	assert_contains(dot_config, "CONFIG_BASE=y\nCONFIG_A=n\n");
	assert_lacks(dot_config, "CONFIG_FAKE");
	build_job_release(&b);

	free(frag);
	free(base);
	free(dot_config);
}
END_TEST

/* A bare mirror (as watch keeps for a URL) lends its objects too. */
START_TEST(test_build_bare_mirror)
{
	struct build_job b;
	char c1[41];
	char *alt;

	commit("a1\n", "b1\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	alt = state_file("build/linux/tiny/src/.git/objects/info/alternates");
	assert_contains(alt, "/linux/objects\n");
	assert_contains(b.image_path, "a1\nb1\n");
	build_job_release(&b);
	free(alt);
}
END_TEST

static void setup_bare(void)
{
	bare = 1;
	setup();
}

static void teardown_bare(void)
{
	teardown();
	bare = 0;
}

START_TEST(test_build_failure)
{
	struct build_job b;
	char c1[41];
	char *art;

	commit("a1\n", "FAIL\n", NULL, c1);
	build(&b, c1);
	ck_assert_str_eq(build_status_name(b.status), "FAILED");
	ck_assert_str_eq(b.reason, "make exited 2");
	ck_assert_ptr_nonnull(strstr(b.errors, "b.c:1: error: boom"));
	ck_assert_ptr_null(b.image_path);
	art = xstrfmt("%s/artifacts/linux/%s/tiny/bzImage", state_dir, c1);
	ck_assert_int_ne(access(art, F_OK), 0);
	free(art);
	build_job_release(&b);
}
END_TEST

/* Any process whose command line mentions tmpdir, other than us. */
static pid_t find_leftover(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		char *path;
		pid_t pid = (pid_t)atol(e->d_name);
		size_t i;

		if (pid <= 0 || pid == getpid())
			continue;
		path = xstrfmt("/proc/%s/cmdline", e->d_name);
		if (!fsutil_read(path, &sb)) {
			for (i = 0; i < sb.len; i++)
				if (!sb.buf[i])
					sb.buf[i] = ' ';
			if (strstr(sb.buf, tmpdir))
				found = pid;
		}
		free(path);
		strbuf_release(&sb);
	}
	closedir(d);
	return found;
}

static void assert_no_leftover(void)
{
	pid_t pid = 0;
	int i;

	/* SIGKILL is sent; give the kernel a moment to reap. */
	for (i = 0; i < 100; i++) {
		if (!(pid = find_leftover()))
			return;
		usleep(100000);
	}
	ck_abort_msg("process %ld outlived the build", (long)pid);
}

static struct build_job *stop_job;
static char *sleeping_marker;

/* Stop once make is in the sleeping rule. */
static void poll_sleeping(uv_timer_t *t)
{
	if (access(sleeping_marker, F_OK) == 0) {
		ck_assert_int_gt(stop_job->pgid, 0);
		build_stop(stop_job);
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, NULL);
	}
}

START_TEST(test_build_stop)
{
	struct strbuf err = STRBUF_INIT;
	struct build_job b;
	uv_timer_t poll;
	uv_loop_t loop;
	char c1[41];

	commit("SLEEP\n", "b1\n", NULL, c1);
	job_init(&b, c1);
	stop_job = &b;
	sleeping_marker = state_file("build/linux/tiny/out/sleeping");
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	if (build_start(&loop, &b, &err))
		ck_abort_msg("build_start: %s", err.buf);
	uv_timer_init(&loop, &poll);
	uv_timer_start(&poll, poll_sleeping, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_int_eq(access(sleeping_marker, F_OK), 0);
	ck_assert_str_eq(build_status_name(b.status), "INTERRUPTED");
	ck_assert_int_eq(b.pgid, 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	assert_no_leftover();
	build_job_release(&b);
	free(sleeping_marker);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_build_timeout)
{
	struct build_job b;
	char c1[41];

	commit("SLEEP\n", "b1\n", NULL, c1);
	config.timeout_s = 1;
	build(&b, c1);
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_str_eq(b.reason, "build timed out after 1 s");
	assert_no_leftover();
	build_job_release(&b);
}
END_TEST

START_TEST(test_build_errors)
{
	struct build_job b;
	char c1[41];

	/* An unknown commit is the farm's problem, not the kernel's. */
	commit("a1\n", "b1\n", NULL, c1);
	build(&b, "0123456789abcdef0123456789abcdef01234567");
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_ptr_nonnull(strstr(b.reason, "commit not found"));
	build_job_release(&b);

	/* A commit that is not an id never starts (it would be a path). */
	{
		struct strbuf err = STRBUF_INIT;
		uv_loop_t loop;

		job_init(&b, "../../../../../../../../../../../../../x");
		done_calls = 0;
		ck_assert_int_eq(uv_loop_init(&loop), 0);
		ck_assert_int_eq(build_start(&loop, &b, &err), -1);
		ck_assert_ptr_nonnull(strstr(err.buf, "not a full commit id"));
		ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
		ck_assert_int_eq(done_calls, 0);
		ck_assert_int_eq(uv_loop_close(&loop), 0);
		build_job_release(&b);
		strbuf_release(&err);
	}

	/* A base config that cannot be read. */
	config.base = "/nonexistent/base.config";
	build(&b, c1);
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_ptr_nonnull(strstr(b.reason, "/nonexistent/base.config"));
	build_job_release(&b);
}
END_TEST

START_TEST(test_build_missing_make)
{
	struct build_job b;
	char c1[41];
	char *saved = xstrdup(getenv("PATH"));

	commit("a1\n", "b1\n", NULL, c1);
	/* The trampoline is found by path; make is not found at all. */
	setenv("PATH", "/nonexistent", 1);
	build(&b, c1);
	setenv("PATH", saved, 1);
	free(saved);
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_ptr_nonnull(strstr(b.reason, "cannot run make config"));
	build_job_release(&b);
}
END_TEST

START_TEST(test_error_lines)
{
	static const char log[] =
		"  CC      kernel/fork.o\n"
		"kernel/fork.c:12:3: error: 'x' undeclared\r\n"
		"kernel/fork.c:12:3: note: each undeclared identifier\n"
		"make[2]: *** [scripts/Makefile.build:250: kernel/fork.o] "
		"Error 1\n"
		"kernel/fork.c:12:3: error: 'x' undeclared\n"
		"ld: vmlinux.o: undefined reference to `foo'\n"
		"include/linux/x.h:1:10: fatal error: y.h: No such file\n"
		"warning: nothing\n";
	struct strbuf out = STRBUF_INIT;
	struct strbuf many = STRBUF_INIT;
	size_t i, n = 0;

	build_error_lines(log, sizeof(log) - 1, &out);
	ck_assert_str_eq(out.buf,
			 "kernel/fork.c:12:3: error: 'x' undeclared\n"
			 "make[2]: *** [scripts/Makefile.build:250: "
			 "kernel/fork.o] Error 1\n"
			 "ld: vmlinux.o: undefined reference to `foo'\n"
			 "include/linux/x.h:1:10: fatal error: y.h: No such "
			 "file");
	strbuf_release(&out);

	for (i = 0; i < 50; i++)
		strbuf_addf(&many, "f%zu.c:1: error: e\n", i);
	build_error_lines(many.buf, many.len, &out);
	for (i = 0; i < out.len; i++)
		n += out.buf[i] == '\n';
	ck_assert_uint_eq(n + 1, BUILD_MAX_ERROR_LINES);
	strbuf_release(&out);
	strbuf_release(&many);
}
END_TEST

static Suite *build_suite(void)
{
	Suite *s = suite_create("build");
	TCase *tc = tcase_create("build");
	TCase *lines = tcase_create("lines");
	TCase *mirror = tcase_create("mirror");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* Real make under a loaded machine: generous, never asserted. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_build_incremental_and_reuse);
	tcase_add_test(tc, test_checkout_follows_the_diff);
	tcase_add_test(tc, test_build_config_inputs);
	tcase_add_test(tc, test_build_failure);
	tcase_add_test(tc, test_build_stop);
	tcase_add_test(tc, test_build_timeout);
	tcase_add_test(tc, test_build_errors);
	tcase_add_test(tc, test_build_missing_make);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(mirror, setup_bare, teardown_bare);
	tcase_set_timeout(mirror, 300);
	tcase_add_test(mirror, test_build_bare_mirror);
	suite_add_tcase(s, mirror);
	tcase_add_test(lines, test_error_lines);
	suite_add_tcase(s, lines);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(build_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
