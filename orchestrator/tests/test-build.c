/*
 * test-build: the builder (build.c) and the group trampoline (spawn.c) on
 * a small repository made with libgit2 in a private temporary directory.
 * Its Makefile is a fake kernel: it honours O=, tinyconfig and
 * olddefconfig, and "compiles" each .c into $(O)/<name>.o, appending the
 * source's name to $(O)/counter, then concatenates the objects into
 * $(O)/arch/x86/boot/bzImage. A source containing FAIL makes its rule fail,
 * one containing SLEEP makes it wait forever, one containing SUBMAKE runs
 * a sub-make that sleeps 300 s, one containing FLOOD prints 400 MiB with
 * an error line in the middle and one at the end, and fails, one
 * containing FOREVER leaves a process behind (setsid) that writes on; its
 * merge_config.sh appends the fragments to the .config. The real make
 * runs, through the real hvmatrix binary as trampoline.
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "build/build.h"
#include "build/build-priv.h"
#include "lib/fsutil.h"
#include "lib/logfile.h"
#include "lib/spawn.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

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
	"\t@if grep -q SUBMAKE $<; then $(MAKE) sleep300; fi\n"
	"\t@if grep -q FLOOD $<; then yes 'a line of a flood of output' | "
	"head -c 200M; echo \"$<:1: error: in the middle\"; "
	"yes 'a line of a flood of output' | head -c 200M; "
	"echo \"$<:2: error: at the end\" >&2; exit 1; fi\n"
	"\t@if grep -q FOREVER $<; then setsid yes $(O) & fi\n"
	"\techo $< >> $(O)/counter\n"
	"\tcat $< > $@\n"
	"$(O)/arch/x86/boot/bzImage: $(O)/a.o $(O)/b.o\n"
	"\tmkdir -p $(dir $@)\n"
	"\techo \"$$CCACHE_DIR $$CCACHE_BASEDIR $$CCACHE_NOHASHDIR\" > "
	"$(O)/ccache-dir\n"
	"\techo \"$$KBUILD_BUILD_TIMESTAMP|$$KBUILD_BUILD_VERSION|"
	"$$KBUILD_BUILD_USER|$$KBUILD_BUILD_HOST|$$GIT_DIR|"
	"$$SOURCE_DATE_EPOCH\" > $(O)/kbuild-env\n"
	"\tcat $^ > $@\n"
	"sleep300:\n"
	"\ttouch $(O)/sleeping\n"
	"\tsleep 300\n";

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
static char *repo_path, *state_dir, *ccache_dir;
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
	/* Not the user's cache: tests must leave $HOME alone. */
	ccache_dir = xstrfmt("%s/ccache", tmpdir);
	setenv("HVMATRIX_CCACHE", ccache_dir, 1);
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
	free(ccache_dir);
	unsetenv("HVMATRIX_CCACHE");
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

static void on_progress(struct build *b, const char *stage, void *data)
{
	if (!strcmp(stage, "make"))
		made_progress = 1;
}

static void on_done(struct build *b, void *data)
{
	done_calls++;
}

static void job_init(struct build *b, const char *hex)
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
static void build(struct build *b, const char *hex)
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

/* A log's text, plain or compressed (lib/logfile.c reads both). */
static char *read_log(const char *path)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	ck_assert_msg(logfile_read_all(path, 0, &sb, &err) == 0,
		      "cannot read %s: %s", path, err.buf);
	strbuf_release(&err);
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

static void assert_ok(const struct build *b)
{
	if (b->status != BUILD_OK) {
		char *log = b->log_path ? read_log(b->log_path) : NULL;

		ck_abort_msg("status %s (%s); log:\n%s",
			     build_status_name(b->status), b->reason,
			     log ? log : "");
	}
}

static void assert_contains(const char *path, const char *what);

START_TEST(test_build_incremental_and_reuse)
{
	struct build b;
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
	/* The log names each step's exact command, sandbox and all. */
	s = read_log(b.log_path);
	ck_assert_ptr_nonnull(strstr(s, "$ bwrap --unshare-net "));
	ck_assert_ptr_nonnull(strstr(s, " -- make -C "));
	ck_assert_ptr_nonnull(strstr(s, " tinyconfig\n"));
	ck_assert_ptr_nonnull(strstr(s, "'CC=ccache gcc' -j2 bzImage\n"));
	free(s);
	build_release(&b);

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
	/* Reproducible: the date of the commit that set the Makefile (c1:
	 * c2 changed a.c only), nothing of the host's or of src/'s git
	 * state (tests/t-reuse.sh: a real kernel). */
	s = state_file("build/linux/tiny/out/kbuild-env");
	alt = read_file(s);
	free(s);
	s = xstrfmt("Tue Nov 14 22:14:20 UTC 2023|1|hvmatrix|hvmatrix|%s/"
		    "build/linux/tiny/.no-repository|1700000060\n", state_dir);
	ck_assert_str_eq(alt, s);
	free(s);
	free(alt);
	assert_contains(b.log_path, "--- hvmatrix: checkout: 1 changed path, ");
	/* Same config inputs: not configured again. */
	s = read_log(b.log_path);
	ck_assert_ptr_null(strstr(s, "tinyconfig"));
	free(s);
	build_release(&b);

	/* Already built: OK at once, make never runs. */
	build(&b, c1);
	assert_ok(&b);
	ck_assert(!made_progress);
	ck_assert_uint_eq(compiled(counter, "a.c"), 2);
	ck_assert_uint_eq(compiled(counter, "b.c"), 1);
	s = read_file(b.image_path);
	ck_assert_str_eq(s, "a1\nb1\n");
	free(s);
	build_release(&b);

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
	struct build b;
	char c1[41], c2[41], c3[41];
	char *src_a = state_file("build/linux/tiny/src/a.c");
	char *src_b = state_file("build/linux/tiny/src/b.c");
	struct stat st;
	git_oid p;
	char *s;

	commit("a1\n", "b1\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	build_release(&b);
	git_oid_fromstr(&p, c1);
	commit("a2\n", NULL, &p, c2);
	build(&b, c2);		/* the fake Makefile may fail without b.c */
	build_release(&b);
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
	build_release(&b);
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
	char *s = read_log(path);

	ck_assert_msg(strstr(s, what), "%s lacks \"%s\":\n%s", path, what, s);
	free(s);
}

static void assert_lacks(const char *path, const char *what)
{
	char *s = read_log(path);

	ck_assert_msg(!strstr(s, what), "%s has \"%s\":\n%s", path, what, s);
	free(s);
}

/* The config is redone when, and only when, its inputs change. */
START_TEST(test_build_config_inputs)
{
	struct build b;
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
	build_release(&b);

	/* Same inputs: straight to make. */
	build(&b, c[1]);
	assert_ok(&b);
	assert_lacks(b.log_path, "olddefconfig");
	build_release(&b);

	/* A fragment's contents changed: configured afresh. */
	write_file(frag, "CONFIG_A=n\n");
	build(&b, c[2]);
	assert_ok(&b);
	assert_contains(b.log_path, " tinyconfig\n");
	assert_contains(b.log_path, " olddefconfig\n");
	assert_contains(dot_config, "CONFIG_FAKE=y\nCONFIG_A=n\n");
	assert_lacks(dot_config, "CONFIG_A=y");
	build_release(&b);

	/* A base file is copied in, not made. */
	write_file(base, "CONFIG_BASE=y\n");
	config.base = base;
	build(&b, c[3]);
	assert_ok(&b);
	assert_lacks(b.log_path, "tinyconfig");
	assert_contains(b.log_path, "$ cp ");
	assert_contains(dot_config, "CONFIG_BASE=y\nCONFIG_A=n\n");
	assert_lacks(dot_config, "CONFIG_FAKE");
	build_release(&b);

	free(frag);
	free(base);
	free(dot_config);
}
END_TEST

/* A bare mirror (as watch keeps for a URL) lends its objects too. */
START_TEST(test_build_bare_mirror)
{
	struct build b;
	char c1[41];
	char *alt;

	commit("a1\n", "b1\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	alt = state_file("build/linux/tiny/src/.git/objects/info/alternates");
	assert_contains(alt, "/linux/objects\n");
	assert_contains(b.image_path, "a1\nb1\n");
	build_release(&b);
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
	struct build b;
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
	build_release(&b);
}
END_TEST

/*
 * A build that prints 400 MiB: the log keeps its head and tail (16 MiB,
 * the cut marked), compressed; the error lines are found in all of it,
 * the cut part included; and this process (the loop and the log's
 * reader) never holds the output in memory.
 */
START_TEST(test_build_log_capped)
{
	struct build b;
	struct rusage ru;
	struct stat st;
	char c1[41], *log;
	size_t len;

	commit("a1\n", "FLOOD\n", NULL, c1);
	build(&b, c1);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	printf("# a build printing 400 MiB: max RSS %ld KiB\n", ru.ru_maxrss);
	ck_assert_msg(ru.ru_maxrss < 64 * 1024, "max RSS %ld KiB",
		      ru.ru_maxrss);
	ck_assert_str_eq(build_status_name(b.status), "FAILED");
	ck_assert_ptr_nonnull(strstr(b.errors, "b.c:1: error: in the middle"));
	ck_assert_ptr_nonnull(strstr(b.errors, "b.c:2: error: at the end"));
	len = strlen(b.log_path);
	ck_assert(len > 4 && !strcmp(b.log_path + len - 4, ".zst"));
	ck_assert_int_eq(stat(b.log_path, &st), 0);
	printf("# its log: %lld bytes compressed\n", (long long)st.st_size);
	ck_assert_int_lt(st.st_size, BUILD_LOG_LIMIT);
	log = read_log(b.log_path);
	len = strlen(log);
	ck_assert_uint_le(len, BUILD_LOG_LIMIT + 4096);
	ck_assert_uint_ge(len, BUILD_LOG_LIMIT);
	ck_assert_ptr_nonnull(strstr(log, "--- hvmatrix: build "));
	ck_assert_ptr_nonnull(strstr(log, " bytes cut here (log_limit "));
	/* The tail is kept: the last error, then the build's own end. */
	ck_assert_ptr_nonnull(strstr(log, "b.c:2: error: at the end"));
	ck_assert_ptr_nonnull(strstr(log, "\n--- hvmatrix: build FAILED: "
				     "make exited 2\n"));
	free(log);
	build_release(&b);
}
END_TEST

/*
 * A process the build left behind, out of its group, writing on into the
 * log's pipe: the build still ends (the log takes what the pipe holds,
 * no more), and once the pipe is gone the writer dies of it.
 */
START_TEST(test_build_log_writer_left_behind)
{
	struct build b;
	char c1[41];
	size_t len;

	commit("a1\n", "FOREVER\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	len = strlen(b.log_path);
	ck_assert(len > 4 && !strcmp(b.log_path + len - 4, ".zst"));
	build_release(&b);
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

static struct build *stop_job;
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
	struct build b;
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
	build_release(&b);
	free(sleeping_marker);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_build_timeout)
{
	struct build b;
	char c1[41];

	commit("SLEEP\n", "b1\n", NULL, c1);
	config.timeout_s = 1;
	build(&b, c1);
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_str_eq(b.reason, "build timed out after 1 s");
	assert_no_leftover();
	build_release(&b);
}
END_TEST

START_TEST(test_build_errors)
{
	struct build b;
	char c1[41];

	/* An unknown commit is the farm's problem, not the kernel's. */
	commit("a1\n", "b1\n", NULL, c1);
	build(&b, "0123456789abcdef0123456789abcdef01234567");
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_ptr_nonnull(strstr(b.reason, "commit not found"));
	build_release(&b);

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
		build_release(&b);
		strbuf_release(&err);
	}

	/* A base config that cannot be read. */
	config.base = "/nonexistent/base.config";
	build(&b, c1);
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_ptr_nonnull(strstr(b.reason, "/nonexistent/base.config"));
	build_release(&b);
}
END_TEST

/* Run argv (no shell, found in PATH); its exit status. */
static int run(char *const *argv)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct tfile {
	const char *path;
	const char *data;	/* a link's target for GIT_FILEMODE_LINK */
	git_filemode_t mode;
};

/* A commit of the fake kernel plus files (paths with directories). */
static void commit_files(const struct tfile *files, size_t n,
			 const char *parent_hex, char hex[41])
{
	const struct tfile kernel[] = {
		{ "Makefile", fake_makefile, GIT_FILEMODE_BLOB },
		{ "a.c", "a\n", GIT_FILEMODE_BLOB },
		{ "b.c", "b\n", GIT_FILEMODE_BLOB },
	};
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	git_index *idx = NULL;
	git_tree *t = NULL;
	git_oid tree_id, id;
	size_t i;

	clock_now += 60;
	check_git(git_signature_new(&sig, "A U Thor", "a@example.com",
				    clock_now, 0), "sig");
	/* The repository's own index, used in memory only. */
	check_git(git_repository_index(&idx, repo), "index");
	check_git(git_index_clear(idx), "index");
	for (i = 0; i < ARRAY_SIZE(kernel) + n; i++) {
		const struct tfile *f = i < ARRAY_SIZE(kernel) ? &kernel[i] :
					&files[i - ARRAY_SIZE(kernel)];
		git_index_entry e;

		memset(&e, 0, sizeof(e));
		e.path = f->path;
		e.mode = f->mode;
		check_git(git_index_add_from_buffer(idx, &e, f->data,
						    strlen(f->data)), f->path);
	}
	check_git(git_index_write_tree_to(&tree_id, idx, repo), "tree");
	check_git(git_tree_lookup(&t, repo, &tree_id), "tree");
	if (parent_hex) {
		git_oid p;

		git_oid_fromstr(&p, parent_hex);
		check_git(git_commit_lookup(&parent, repo, &p), "parent");
	}
	check_git(git_commit_create(&id, repo, "refs/heads/master", sig, sig,
				    NULL, "commit\n", t, parent ? 1 : 0,
				    (const git_commit **)&parent), "commit");
	git_oid_tostr(hex, 41, &id);
	git_commit_free(parent);
	git_tree_free(t);
	git_index_free(idx);
	git_signature_free(sig);
}

static char **manifest_lines;
static size_t manifest_n, manifest_root;

static int manifest_one(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	const char *rel = path + manifest_root;
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	char target[PATH_MAX];
	ssize_t n;
	size_t i;

	if (!*rel)
		return FTW_CONTINUE;
	rel++;
	if (!strcmp(rel, ".git"))
		return FTW_SKIP_SUBTREE;
	if (S_ISDIR(st->st_mode)) {
		strbuf_addf(&line, "%s/", rel);
	} else if (S_ISLNK(st->st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		ck_assert_int_ge(n, 0);
		target[n] = '\0';
		strbuf_addf(&line, "%s -> %s", rel, target);
	} else {
		ck_assert_msg(S_ISREG(st->st_mode), "%s: not a file", path);
		ck_assert_int_eq(fsutil_read(path, &sb), 0);
		strbuf_addf(&line, "%s %s ", rel,
			    st->st_mode & S_IXUSR ? "x" : "-");
		for (i = 0; i < sb.len; i++) {
			if (sb.buf[i] == '\n')
				strbuf_addstr(&line, "\\n");
			else
				strbuf_addch(&line, sb.buf[i]);
		}
	}
	manifest_lines = xrealloc(manifest_lines, (manifest_n + 1) *
				  sizeof(*manifest_lines));
	manifest_lines[manifest_n++] = strbuf_detach(&line, NULL);
	strbuf_release(&sb);
	return FTW_CONTINUE;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per entry under dir but .git, sorted: path, kind, x, data. */
static char *manifest(const char *dir)
{
	struct strbuf out = STRBUF_INIT;
	size_t i;

	manifest_lines = NULL;
	manifest_n = 0;
	manifest_root = strlen(dir);
	ck_assert_int_eq(nftw(dir, manifest_one, 16,
			      FTW_PHYS | FTW_ACTIONRETVAL), 0);
	qsort(manifest_lines, manifest_n, sizeof(*manifest_lines), cmp_str);
	for (i = 0; i < manifest_n; i++) {
		strbuf_addf(&out, "%s\n", manifest_lines[i]);
		free(manifest_lines[i]);
	}
	free(manifest_lines);
	return strbuf_detach(&out, NULL);
}

/* src/ holds exactly what `git archive` of hex holds. */
static void assert_src_is(const char *hex)
{
	char *tar = xstrfmt("%s/archive.tar", tmpdir);
	static unsigned n;
	char *dir = xstrfmt("%s/archive-%u", tmpdir, n++);
	char *src = state_file("build/linux/tiny/src");
	char *git[] = { "git", "-C", repo_path, "archive", "--format=tar",
			"-o", tar, (char *)hex, NULL };
	char *untar[] = { "tar", "-xf", tar, "-C", dir, NULL };
	char *want, *have;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(run(git), 0);
	ck_assert_int_eq(run(untar), 0);
	want = manifest(dir);
	have = manifest(src);
	ck_assert_str_eq(have, want);
	free(want);
	free(have);
	free(tar);
	free(dir);
	free(src);
}

/* So that a commit built before is built again, not reused. */
static void forget_artifacts(void)
{
	char *dir = state_file("artifacts");

	ck_assert_int_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

static void assert_record(const char *record, const char *hex)
{
	char *s = read_file(record), *want = xstrfmt("%s\n", hex);

	ck_assert_str_eq(s, want);
	free(s);
	free(want);
}

static void stat_index(struct stat *st)
{
	char *index = state_file("build/linux/tiny/src/.git/index");

	ck_assert_int_eq(stat(index, st), 0);
	free(index);
}

/*
 * Consecutive builds of commits that add, modify, delete, chmod, rename,
 * turn a file into a directory and back, add and drop a symbolic link:
 * src/ is each commit's `git archive`, and only the first checkout (or one
 * whose record is missing or corrupt) touches the index.
 */
/*
 * The date a build's banner shows: the committer date of the commit that
 * set the top-level Makefile (the version), along first parents; the same
 * for a commit that changes something else.
 */
START_TEST(test_checkout_version_date)
{
	const struct tfile v2[] = {
		{ "Makefile", "VERSION = 2\n", GIT_FILEMODE_BLOB },
	};
	const struct tfile v2_docs[] = {
		{ "Makefile", "VERSION = 2\n", GIT_FILEMODE_BLOB },
		{ "Documentation/x.rst", "x\n", GIT_FILEMODE_BLOB },
	};
	struct strbuf note = STRBUF_INIT, err = STRBUF_INIT;
	char c1[41], c2[41], c3[41], c4[41];
	char *src = xstrfmt("%s/version-src", tmpdir);
	const char *ids[] = { c1, c2, c3, c4 };
	int64_t want[4], t;
	size_t i;

	commit_files(NULL, 0, NULL, c1);
	want[0] = clock_now;
	commit_files(NULL, 0, c1, c2);	/* the same files: c1's date */
	want[1] = want[0];
	commit_files(v2, 1, c2, c3);	/* a new version */
	want[2] = clock_now;
	commit_files(v2_docs, 2, c3, c4);	/* docs on top: c3's */
	want[3] = want[2];
	ck_assert_int_ne(want[0], want[2]);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		t = 0;
		if (build_checkout(repo_path, NULL, src, ids[i], &note, &t, &err))
			ck_abort_msg("build_checkout: %s", err.buf);
		ck_assert_int_eq(t, want[i]);
	}
	strbuf_release(&note);
	strbuf_release(&err);
	free(src);
}
END_TEST

START_TEST(test_checkout_matches_archive)
{
	const struct tfile s1[] = {
		{ "docs/x.txt", "x1\n", GIT_FILEMODE_BLOB },
		{ "docs/deep/er/y.txt", "y\n", GIT_FILEMODE_BLOB },
		{ "tools/run.sh", "#!/bin/sh\n", GIT_FILEMODE_BLOB_EXECUTABLE },
		{ "old.txt", "moving\n", GIT_FILEMODE_BLOB },
		{ "swap", "a file\n", GIT_FILEMODE_BLOB },
	};
	const struct tfile s2[] = {
		{ "docs/x.txt", "x2\n", GIT_FILEMODE_BLOB },
		{ "tools/run.sh", "#!/bin/sh\n", GIT_FILEMODE_BLOB },
		{ "new/place/old.txt", "moving\n", GIT_FILEMODE_BLOB },
		{ "link", "docs/x.txt", GIT_FILEMODE_LINK },
		{ "swap/inner.txt", "now a directory\n", GIT_FILEMODE_BLOB },
	};
	const struct tfile s3[] = {
		{ "tools/run.sh", "#!/bin/sh\n", GIT_FILEMODE_BLOB_EXECUTABLE },
		{ "new/place/old.txt", "moving\n", GIT_FILEMODE_BLOB },
		{ "new/bin.sh", "#!/bin/sh\nexit 0\n",
		  GIT_FILEMODE_BLOB_EXECUTABLE },
		{ "link", "a regular file now\n", GIT_FILEMODE_BLOB },
		{ "swap", "a file again\n", GIT_FILEMODE_BLOB },
		{ "tools/dir-link", "../new", GIT_FILEMODE_LINK },
	};
	struct build b;
	char c1[41], c2[41], c3[41];
	char *record = state_file("build/linux/tiny/src/.git/"
				  BUILD_CHECKOUT_RECORD);
	char *run_sh = state_file("build/linux/tiny/src/tools/run.sh");
	char *x_txt = state_file("build/linux/tiny/src/docs/x.txt");
	char *bin_sh = state_file("build/linux/tiny/src/new/bin.sh");
	struct stat idx1, idx2, st1, st2;
	char *s;

	commit_files(s1, ARRAY_SIZE(s1), NULL, c1);
	commit_files(s2, ARRAY_SIZE(s2), c1, c2);
	commit_files(s3, ARRAY_SIZE(s3), c2, c3);

	build(&b, c1);
	assert_ok(&b);
	assert_contains(b.log_path, "--- hvmatrix: checkout: full checkout, ");
	build_release(&b);
	assert_src_is(c1);
	assert_record(record, c1);
	stat_index(&idx1);

	build(&b, c2);
	assert_ok(&b);
	build_release(&b);
	assert_src_is(c2);
	build(&b, c3);
	assert_ok(&b);
	build_release(&b);
	assert_src_is(c3);
	/* A mode change alone is a chmod: the file is not rewritten. */
	ck_assert_int_eq(stat(run_sh, &st1), 0);
	forget_artifacts();
	build(&b, c2);
	assert_ok(&b);
	build_release(&b);
	assert_src_is(c2);
	ck_assert_int_eq(stat(run_sh, &st2), 0);
	ck_assert_int_eq(st1.st_ino, st2.st_ino);
	ck_assert_int_eq(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	ck_assert_int_eq(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	/* No index read or written since the first checkout. */
	stat_index(&idx2);
	ck_assert_int_eq(idx1.st_ino, idx2.st_ino);
	ck_assert_int_eq(idx1.st_mtim.tv_sec, idx2.st_mtim.tv_sec);
	ck_assert_int_eq(idx1.st_mtim.tv_nsec, idx2.st_mtim.tv_nsec);
	assert_record(record, c2);

	/*
	 * A checkout from c2 to c3 cut short: the record names both, src/
	 * holds some of each. Building c1 from there rewrites every path
	 * in which either differs from c1.
	 */
	s = xstrfmt("%s\n%s\n", c2, c3);
	write_file(record, s);
	free(s);
	ck_assert_int_eq(chmod(run_sh, 0755), 0);
	ck_assert_int_eq(unlink(x_txt), 0);
	/* c3's alone: neither c2 nor c1 has it */
	write_file(bin_sh, "#!/bin/sh\nexit 0\n");
	forget_artifacts();
	build(&b, c1);
	assert_ok(&b);
	assert_contains(b.log_path, " (after a checkout cut short), ");
	build_release(&b);
	assert_src_is(c1);

	/* A corrupt record: a full checkout (libgit2's, with the index). */
	write_file(record, "not a commit\n");
	forget_artifacts();
	build(&b, c3);
	assert_ok(&b);
	build_release(&b);
	assert_src_is(c3);
	stat_index(&idx2);
	ck_assert(idx1.st_ino != idx2.st_ino ||
		  idx1.st_mtim.tv_nsec != idx2.st_mtim.tv_nsec ||
		  idx1.st_mtim.tv_sec != idx2.st_mtim.tv_sec);
	/* And incremental again from there. */
	forget_artifacts();
	build(&b, c2);
	assert_ok(&b);
	build_release(&b);
	assert_src_is(c2);
	/* A missing record, the index of another commit (c3): full. */
	ck_assert_int_eq(unlink(record), 0);
	forget_artifacts();
	build(&b, c1);
	assert_ok(&b);
	build_release(&b);
	assert_src_is(c1);
	free(record);
	free(run_sh);
	free(x_txt);
	free(bin_sh);
}
END_TEST

/* A relative state directory: the steps still find src/ and out/. */
START_TEST(test_build_relative_state)
{
	struct build b;
	char c1[41], *want;

	commit("a1\n", "b1\n", NULL, c1);
	ck_assert_int_eq(chdir(tmpdir), 0);
	job_init(&b, c1);
	b.state_dir = "rel-state";
	{
		struct strbuf err = STRBUF_INIT;
		uv_loop_t loop;

		done_calls = 0;
		ck_assert_int_eq(uv_loop_init(&loop), 0);
		if (build_start(&loop, &b, &err))
			ck_abort_msg("build_start: %s", err.buf);
		uv_run(&loop, UV_RUN_DEFAULT);
		ck_assert_int_eq(done_calls, 1);
		ck_assert_int_eq(uv_loop_close(&loop), 0);
		strbuf_release(&err);
	}
	assert_ok(&b);
	want = xstrfmt("%s/rel-state/artifacts/linux/%s/tiny/bzImage", tmpdir,
		       c1);
	ck_assert_str_eq(b.image_path, want);
	assert_contains(b.image_path, "a1\nb1\n");
	free(want);
	build_release(&b);
}
END_TEST

START_TEST(test_build_ccache_dir)
{
	struct matrix_build c;
	struct build b;
	char c1[41], *dir = NULL, *want, *s, *path;
	struct strbuf err = STRBUF_INIT;

	memset(&c, 0, sizeof(c));
	/* The environment first, then the key, then XDG, then $HOME. */
	setenv("HVMATRIX_CCACHE", "/from/env", 1);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	setenv("HOME", "/home/someone", 1);
	c.ccache = "/from/key";
	ck_assert_int_eq(build_host_ccache_dir(&c, &dir, &err), 0);
	ck_assert_str_eq(dir, "/from/env");
	free(dir);
	unsetenv("HVMATRIX_CCACHE");
	ck_assert_int_eq(build_host_ccache_dir(&c, &dir, &err), 0);
	ck_assert_str_eq(dir, "/from/key");
	free(dir);
	c.ccache = NULL;
	ck_assert_int_eq(build_host_ccache_dir(&c, &dir, &err), 0);
	ck_assert_str_eq(dir, "/xdg/hvmatrix/ccache");
	free(dir);
	ck_assert_int_eq(build_host_ccache_dir(NULL, &dir, &err), 0);
	ck_assert_str_eq(dir, "/xdg/hvmatrix/ccache");
	free(dir);
	/* A relative XDG_CACHE_HOME is to be ignored (the XDG spec). */
	setenv("XDG_CACHE_HOME", "relative", 1);
	ck_assert_int_eq(build_host_ccache_dir(&c, &dir, &err), 0);
	ck_assert_str_eq(dir, "/home/someone/.cache/hvmatrix/ccache");
	free(dir);
	unsetenv("XDG_CACHE_HOME");
	ck_assert_int_eq(build_host_ccache_dir(&c, &dir, &err), 0);
	ck_assert_str_eq(dir, "/home/someone/.cache/hvmatrix/ccache");
	free(dir);
	/* A relative one is made absolute: compilers run elsewhere. */
	setenv("HVMATRIX_CCACHE", "rel/cc", 1);
	ck_assert_int_eq(build_host_ccache_dir(&c, &dir, &err), 0);
	ck_assert_str_eq(dir + strlen(dir) - 7, "/rel/cc");
	ck_assert(dir[0] == '/');
	free(dir);

	/*
	 * A build's compilers get it, and the state holds no cache. Paths
	 * are hashed relative to the build's own directory, so another
	 * state directory hits the same entries.
	 */
	setenv("HVMATRIX_CCACHE", ccache_dir, 1);
	setenv("HOME", tmpdir, 1);
	setenv("CCACHE_BASEDIR", "/elsewhere", 1);
	commit("a1\n", "b1\n", NULL, c1);
	build(&b, c1);
	assert_ok(&b);
	build_release(&b);
	path = state_file("build/linux/tiny/out/ccache-dir");
	s = read_file(path);
	want = xstrfmt("%s %s/build/linux/tiny 1\n", ccache_dir, state_dir);
	ck_assert_str_eq(s, want);
	free(path);
	free(s);
	free(want);
	ck_assert_int_eq(access(ccache_dir, F_OK), 0);
	s = state_file("ccache");
	ck_assert_int_ne(access(s, F_OK), 0);
	free(s);
	strbuf_release(&err);
}
END_TEST

/* A directory that holds links to only these tools of PATH. */
static char *tool_dir(const char *name, const char *const *tools, size_t n)
{
	char *dir = xstrfmt("%s/%s", tmpdir, name);
	size_t i;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	for (i = 0; i < n; i++) {
		char *from = xstrfmt("/usr/bin/%s", tools[i]);
		char *to = xstrfmt("%s/%s", dir, tools[i]);

		ck_assert_int_eq(symlink(from, to), 0);
		free(from);
		free(to);
	}
	return dir;
}

START_TEST(test_build_missing_tools)
{
	static const char *const tools[] = { "make", "ccache", "gcc" };
	struct strbuf err = STRBUF_INIT;
	char *saved = xstrdup(getenv("PATH"));
	char *empty = tool_dir("empty", tools, 0);
	char *make_only = tool_dir("make-only", tools, 1);
	char *all = tool_dir("all", tools, 3);
	struct build b;
	uv_loop_t loop;
	char c1[41];

	setenv("PATH", empty, 1);
	ck_assert_int_eq(build_host_check(&err), -1);
	ck_assert_str_eq(err.buf, "build host: make not found in PATH "
			 "(apt-get install make)");
	strbuf_reset(&err);
	setenv("PATH", all, 1);
	ck_assert_int_eq(build_host_check(&err), 0);
	ck_assert_str_eq(err.buf, "");

	/* Through build_start: refused at once, on_done never called. */
	commit("a1\n", "b1\n", NULL, c1);
	setenv("PATH", make_only, 1);
	job_init(&b, c1);
	done_calls = 0;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(build_start(&loop, &b, &err), -1);
	setenv("PATH", saved, 1);
	ck_assert_str_eq(err.buf, "build host: ccache not found in PATH "
			 "(apt-get install ccache)");
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(done_calls, 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	build_release(&b);
	strbuf_release(&err);
	free(saved);
	free(empty);
	free(make_only);
	free(all);
}
END_TEST

/*
 * A host that cannot sandbox: every build is the farm's ERROR before make
 * runs, naming the fix, unless its config says sandbox: false. PATH is
 * the system's programs less bwrap.
 */
START_TEST(test_build_cannot_sandbox)
{
	static const char *const bins[] = { "/usr/bin", "/bin" };
	char *saved = xstrdup(getenv("PATH"));
	char *dir = xstrfmt("%s/no-bwrap", tmpdir), *log;
	struct build b;
	char c1[41];
	size_t i;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	for (i = 0; i < ARRAY_SIZE(bins); i++) {
		DIR *d = opendir(bins[i]);
		struct dirent *e;

		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d))) {
			char *from, *to;

			if (e->d_name[0] == '.' || !strcmp(e->d_name, "bwrap"))
				continue;
			from = xstrfmt("%s/%s", bins[i], e->d_name);
			to = xstrfmt("%s/%s", dir, e->d_name);
			/* /bin may be /usr/bin: the first one stays. */
			ck_assert(symlink(from, to) == 0 || errno == EEXIST);
			free(from);
			free(to);
		}
		closedir(d);
	}
	commit("a1\n", "b1\n", NULL, c1);
	setenv("PATH", dir, 1);
	build(&b, c1);
	ck_assert_int_eq(b.status, BUILD_ERROR);
	ck_assert_str_eq(b.reason, "cannot sandbox builds: \"bwrap not found "
			 "in PATH (apt-get install bubblewrap)\"; set "
			 "sandbox: false on build tiny to build unconfined");
	log = read_log(b.log_path);
	ck_assert_ptr_null(strstr(log, "$ make"));
	free(log);
	build_release(&b);

	/* Unconfined by the matrix's word: built, and no bwrap in sight. */
	config.unconfined = 1;
	build(&b, c1);
	config.unconfined = 0;
	setenv("PATH", saved, 1);
	assert_ok(&b);
	log = read_log(b.log_path);
	ck_assert_ptr_nonnull(strstr(log, "$ make -C "));
	ck_assert_ptr_null(strstr(log, "bwrap"));
	free(log);
	build_release(&b);
	free(saved);
	free(dir);
}
END_TEST

/* The group of the first process other than us whose command line
 * mentions tmpdir and word (0 if none). */
static pid_t group_of(const char *word)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		pid_t pid = (pid_t)atol(e->d_name);
		char *path;
		size_t i;

		if (pid <= 0 || pid == getpid())
			continue;
		path = xstrfmt("/proc/%s/cmdline", e->d_name);
		if (!fsutil_read(path, &sb)) {
			for (i = 0; i < sb.len; i++)
				if (!sb.buf[i])
					sb.buf[i] = ' ';
			if (strstr(sb.buf, tmpdir) && strstr(sb.buf, word))
				found = getpgid(pid);
		}
		free(path);
		strbuf_release(&sb);
	}
	closedir(d);
	return found;
}

#define MAX_SPAWNS 8
static int spawned[MAX_SPAWNS], n_spawned;

static void on_spawn(struct build *b, int pgid, void *data)
{
	ck_assert_int_lt(n_spawned, MAX_SPAWNS);
	ck_assert_int_gt(pgid, 0);
	ck_assert_int_eq(b->pgid, pgid);
	/* The group exists now, led by the step: recordable at once. */
	ck_assert_int_eq(kill(-pgid, 0), 0);
	ck_assert_int_eq(getpgid(pgid), pgid);
	spawned[n_spawned++] = pgid;
}

/* Once make sleeps: the recorded group is the one the step runs in. */
static void check_sleeping_group(uv_timer_t *t)
{
	if (access(sleeping_marker, F_OK))
		return;
	ck_assert_int_eq(n_spawned, 3);	/* tinyconfig, olddefconfig, make */
	ck_assert_int_eq(group_of("bzImage"), spawned[2]);
	ck_assert_int_eq(stop_job->pgid, spawned[2]);
	build_stop(stop_job);
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, NULL);
}

START_TEST(test_build_on_spawn)
{
	struct strbuf err = STRBUF_INIT;
	struct build b;
	uv_timer_t poll;
	uv_loop_t loop;
	char c1[41];

	commit("SLEEP\n", "b1\n", NULL, c1);
	job_init(&b, c1);
	b.on_spawn = on_spawn;
	n_spawned = 0;
	stop_job = &b;
	sleeping_marker = state_file("build/linux/tiny/out/sleeping");
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	if (build_start(&loop, &b, &err))
		ck_abort_msg("build_start: %s", err.buf);
	uv_timer_init(&loop, &poll);
	uv_timer_start(&poll, check_sleeping_group, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_str_eq(build_status_name(b.status), "INTERRUPTED");
	/* One group per step, each its own. */
	ck_assert_int_eq(n_spawned, 3);
	ck_assert_int_ne(spawned[0], spawned[1]);
	ck_assert_int_ne(spawned[1], spawned[2]);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	assert_no_leftover();
	build_release(&b);
	free(sleeping_marker);
	strbuf_release(&err);
}
END_TEST

/* Live (not zombie) processes in group pgid, and one of them named comm. */
static unsigned live_in_group(pid_t pgid, const char *comm, int *has_comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	if (has_comm)
		*has_comm = 0;
	while ((e = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		long pid = atol(e->d_name), pgrp;
		char *path, *p, state, name[64];

		if (pid <= 0)
			continue;
		path = xstrfmt("/proc/%ld/stat", pid);
		if (!fsutil_read(path, &sb) && (p = strrchr(sb.buf, ')')) &&
		    sscanf(p + 1, " %c %*d %ld", &state, &pgrp) == 2 &&
		    pgrp == pgid && state != 'Z') {
			n++;
			if (has_comm && sscanf(sb.buf, "%*d (%63[^)])",
					       name) == 1 &&
			    !strcmp(name, comm))
				*has_comm = 1;
		}
		free(path);
		strbuf_release(&sb);
	}
	closedir(d);
	return n;
}

static char state_of(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xstrfmt("/proc/%ld/stat", (long)pid), *p, st = 0;

	if (!fsutil_read(path, &sb) && (p = strrchr(sb.buf, ')')))
		st = p[2];
	free(path);
	strbuf_release(&sb);
	return st;
}

/*
 * `sleep 300` in a group of its own, marked as a step of group mark_group
 * (0: its own) started by owner.
 */
static pid_t decoy(long mark_group, long owner)
{
	char *argv[] = { "/bin/sleep", "300", NULL };
	char mark[96], *env[] = { mark, NULL };
	pid_t pid = fork();
	int i;

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		setpgid(0, 0);
		snprintf(mark, sizeof(mark), SPAWN_GROUP_ENV "=%ld.%ld",
			 mark_group ? mark_group : (long)getpid(), owner);
		execve(argv[0], argv, env);
		_exit(127);
	}
	setpgid(pid, pid);	/* both sides: no race with the checks */
	snprintf(mark, sizeof(mark), SPAWN_GROUP_ENV "=%ld.%ld",
		 mark_group ? mark_group : (long)pid, owner);
	/* Until it has exec'd, its environment is ours; and until it is
	 * asleep, the checks' 'S' (alive, left alone) cannot be told from a
	 * process still starting. */
	for (i = 0; i < 500; i++) {
		struct strbuf sb = STRBUF_INIT;
		char *path = xstrfmt("/proc/%ld/environ", (long)pid);
		int done = !fsutil_read(path, &sb) && !strcmp(sb.buf, mark) &&
			   state_of(pid) == 'S';

		free(path);
		strbuf_release(&sb);
		if (done)
			return pid;
		usleep(10000);
	}
	ck_abort_msg("the decoy did not start");
	return 0;
}

static int kill_result;
static pid_t decoy_same_mark, decoy_foreign, decoy_live_owner;
static struct strbuf kill_log = STRBUF_INIT;

/*
 * What an OOM kill of hvmatrix and the trampoline leaves: kill the
 * group's leader only, while make's sub-make sleeps, then clean up with
 * build_host_kill_group() before the loop sees the leader's exit (which would
 * kill the group itself).
 */
static void kill_leader(uv_timer_t *t)
{
	pid_t pgid = stop_job->pgid;
	int has_sleep, i;

	if (access(sleeping_marker, F_OK) ||
	    (live_in_group(pgid, "sleep", &has_sleep), !has_sleep))
		return;
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, NULL);
	/* The same mark in another group: not a member. */
	decoy_same_mark = decoy(pgid, getpid());
	ck_assert_int_eq(kill(pgid, SIGKILL), 0);
	/* Our child: a zombie until the loop reaps it, which it cannot. */
	for (i = 0; i < 500 && state_of(pgid) != 'Z'; i++)
		usleep(10000);
	ck_assert_int_eq(state_of(pgid), 'Z');
	ck_assert_uint_ge(live_in_group(pgid, "sleep", &has_sleep), 2);
	ck_assert(has_sleep);
	kill_result = build_host_kill_group(pgid, &kill_log);
	ck_assert_uint_eq(live_in_group(pgid, NULL, NULL), 0);
	ck_assert_int_eq(state_of(decoy_same_mark), 'S');
}

START_TEST(test_build_kill_group)
{
	struct strbuf err = STRBUF_INIT;
	struct build b;
	uv_timer_t poll;
	uv_loop_t loop;
	char c1[41];
	int st;

	commit("SUBMAKE\n", "b1\n", NULL, c1);
	job_init(&b, c1);
	stop_job = &b;
	kill_result = -2;
	strbuf_reset(&kill_log);
	sleeping_marker = state_file("build/linux/tiny/out/sleeping");
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	if (build_start(&loop, &b, &err))
		ck_abort_msg("build_start: %s", err.buf);
	uv_timer_init(&loop, &poll);
	uv_timer_start(&poll, kill_leader, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	/* make, the recipe's shell, the sub-make, sleep (shells may exec) */
	ck_assert_msg(kill_result >= 3, "killed %d: %s", kill_result,
		      kill_log.buf);
	ck_assert_ptr_nonnull(strstr(kill_log.buf, "killed "));
	ck_assert_str_eq(build_status_name(b.status), "ERROR");
	ck_assert_str_eq(b.reason, "make killed by signal 9");
	build_release(&b);

	/* A group whose mark names another group: a reused id, left. */
	decoy_foreign = decoy(1, getpid());
	strbuf_reset(&kill_log);
	ck_assert_int_eq(build_host_kill_group(decoy_foreign, &kill_log), 0);
	ck_assert_ptr_nonnull(strstr(kill_log.buf, "left alone"));
	/* Its own group's mark, but the hvmatrix that started it (here:
	 * the test runner, our parent) still runs: its group, left. */
	decoy_live_owner = decoy(0, getppid());
	ck_assert_int_eq(build_host_kill_group(decoy_live_owner, &kill_log), 0);
	ck_assert_int_eq(state_of(decoy_foreign), 'S');
	ck_assert_int_eq(state_of(decoy_live_owner), 'S');
	ck_assert_int_eq(state_of(decoy_same_mark), 'S');
	/* Not an id to kill at all. */
	ck_assert_int_eq(build_host_kill_group(getpgrp(), &kill_log), -1);
	ck_assert_int_eq(build_host_kill_group(1, &kill_log), -1);
	/* Marked with its own group and no other live owner: it goes. */
	ck_assert_int_eq(kill(decoy_same_mark, SIGKILL), 0);
	ck_assert_int_eq(waitpid(decoy_same_mark, &st, 0), decoy_same_mark);
	decoy_same_mark = decoy(0, getpid());
	ck_assert_int_eq(build_host_kill_group(decoy_same_mark, &kill_log), 1);
	ck_assert_int_eq(waitpid(decoy_same_mark, &st, 0), decoy_same_mark);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	kill(decoy_foreign, SIGKILL);
	kill(decoy_live_owner, SIGKILL);
	waitpid(decoy_foreign, &st, 0);
	waitpid(decoy_live_owner, &st, 0);
	assert_no_leftover();
	free(sleeping_marker);
	strbuf_release(&err);
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
	tcase_add_test(tc, test_build_log_capped);
	tcase_add_test(tc, test_build_log_writer_left_behind);
	tcase_add_test(tc, test_build_missing_tools);
	tcase_add_test(tc, test_build_cannot_sandbox);
	tcase_add_test(tc, test_build_on_spawn);
	tcase_add_test(tc, test_build_kill_group);
	tcase_add_test(tc, test_checkout_matches_archive);
	tcase_add_test(tc, test_checkout_version_date);
	tcase_add_test(tc, test_build_ccache_dir);
	tcase_add_test(tc, test_build_relative_state);
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
