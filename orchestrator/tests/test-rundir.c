/*
 * test-rundir: unit tests for the files of a run's and a build's
 * directory in the shared directory (executor/rundir.c), the contract
 * between the daemon and the node: what one side writes, the other reads
 * back as it was; what cannot be trusted (a log name out of the run's
 * directory, a build's path outside the shared directory) is refused.
 * Also json_file_read() (lib/json.c), which every reader here goes
 * through. The node's side against a real Slurm is t-slurm.sh.
 */
#include <check.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "executor/rundir.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

static char tmpdir[] = "/tmp/hvm-test-rundir-XXXXXX";

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/hvm-test-rundir-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void teardown(void)
{
	ck_assert_int_eq(nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void put(const char *path, const char *text)
{
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_int_eq(fsutil_read(path, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

START_TEST(test_json_file_read)
{
	struct strbuf err = STRBUF_INIT;
	struct json_value v;
	char *path = xstrfmt("%s/x.json", tmpdir);

	/* None yet: 0, and nothing said. */
	ck_assert_int_eq(json_file_read(&v, path, &err), 0);
	ck_assert_uint_eq(err.len, 0);
	json_value_release(&v);
	put(path, "{\"a\": \"b\", \"n\": 3}\n");
	ck_assert_int_eq(json_file_read(&v, path, &err), 1);
	ck_assert_str_eq(json_get_str(&v, "a"), "b");
	json_value_release(&v);
	/* Not JSON: -1, the file named. */
	put(path, "{\"a\": ");
	ck_assert_int_eq(json_file_read(&v, path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, path));
	json_value_release(&v);
	strbuf_release(&err);
	free(path);
}
END_TEST

/* A run the node finished: its verdict, times and console's name. */
START_TEST(test_result_round_trip)
{
	struct strbuf err = STRBUF_INIT;
	struct rundir_result res;
	struct boot_run run;
	struct cell c;
	char *log = xstrfmt("%s/console.log.zst", tmpdir);

	cell_init(&c);
	c.name = xstrdup("q35");
	boot_run_init(&run, &c, "/k", "/i", log);
	/* None yet: 0. */
	ck_assert_int_eq(rundir_result_read(&res, tmpdir, &err), 0);
	/* The probes the node's judge kept travel with the verdict. */
	run.judge.now = 1;
	judge_feed(&run.judge, "HVMATRIX-FP nonce=", 18);
	judge_feed(&run.judge, run.nonce, strlen(run.nonce));
	judge_feed(&run.judge, " clocksource=xen\nHVMATRIX-PROBE nonce=", 38);
	judge_feed(&run.judge, run.nonce, strlen(run.nonce));
	judge_feed(&run.judge, " name=smp result=fail seconds=0.5 detail=1 "
		   "of 2 \"vCPUs\"\n", 56);
	judge_set(&run.judge, VERDICT_FAIL, "kernel panic",
		  "Kernel panic - not syncing: VFS");
	run.started_at = 1700000000.5;
	run.duration_s = 4.25;
	/* No console file: no log named. */
	ck_assert_int_eq(rundir_result_write(tmpdir, &run), 0);
	ck_assert_int_eq(rundir_result_read(&res, tmpdir, &err), 1);
	ck_assert_int_eq(res.verdict, VERDICT_FAIL);
	ck_assert_str_eq(res.reason, "kernel panic");
	ck_assert_str_eq(res.line, "Kernel panic - not syncing: VFS");
	ck_assert_str_eq(res.nonce, run.nonce);
	ck_assert_ptr_null(res.log);
	ck_assert(res.started_at == 1700000000.5);
	ck_assert(res.duration_s == 4.25);
	ck_assert_uint_gt(strlen(res.host), 0);
	ck_assert_uint_eq(res.n_probes, 1);
	ck_assert_str_eq(res.probes[0].name, "smp");
	ck_assert_str_eq(res.probes[0].result, "fail");
	ck_assert_str_eq(res.probes[0].detail, "1 of 2 \"vCPUs\"");
	ck_assert(res.probes[0].seconds == 0.5);
	ck_assert_ptr_nonnull(strstr(res.fingerprint, "\"clocksource\": "
				     "\"xen\""));
	rundir_result_release(&res);
	/* The console there: its bare name, never a path. */
	put(log, "x");
	ck_assert_int_eq(rundir_result_write(tmpdir, &run), 0);
	ck_assert_int_eq(rundir_result_read(&res, tmpdir, &err), 1);
	ck_assert_str_eq(res.log, "console.log.zst");
	rundir_result_release(&res);
	boot_run_release(&run);
	cell_release(&c);
	strbuf_release(&err);
	free(log);
}
END_TEST

START_TEST(test_result_refused)
{
	struct strbuf err = STRBUF_INIT;
	struct rundir_result res;
	char *path = xstrfmt("%s/%s", tmpdir, RUNDIR_RESULT);

	/* A log name that leaves the run's directory is dropped. */
	put(path, "{\"verdict\": \"PASS\", \"log\": \"../../etc/passwd\"}");
	ck_assert_int_eq(rundir_result_read(&res, tmpdir, &err), 1);
	ck_assert_ptr_null(res.log);
	ck_assert_str_eq(res.reason, "");
	rundir_result_release(&res);
	put(path, "{\"verdict\": \"PASS\", \"log\": \".hidden\"}");
	ck_assert_int_eq(rundir_result_read(&res, tmpdir, &err), 1);
	ck_assert_ptr_null(res.log);
	rundir_result_release(&res);
	/* No verdict: unreadable. */
	put(path, "{\"verdict\": \"MAYBE\"}");
	ck_assert_int_eq(rundir_result_read(&res, tmpdir, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "no verdict"));
	strbuf_release(&err);
	free(path);
}
END_TEST

/* The daemon's spec, written where the node looks, read back whole. */
START_TEST(test_spec_write)
{
	struct strbuf err = STRBUF_INIT;
	struct rundir_spec spec;
	struct cell c;
	char *dir = xstrfmt("%s/runs/hvm-00ff", tmpdir);
	char *path = xstrfmt("%s/%s", dir, RUNDIR_SPEC);

	cell_init(&c);
	c.name = xstrdup("pc");
	ck_assert_int_eq(rundir_spec_write(dir, &c, "/s/kernel", "/s/initrd",
					   &err), 0);
	ck_assert_int_eq(rundir_spec_read(&spec, path, &err), 0);
	ck_assert_str_eq(spec.cell.name, "pc");
	ck_assert_str_eq(spec.kernel, "/s/kernel");
	ck_assert_str_eq(spec.initrd, "/s/initrd");
	rundir_spec_release(&spec);
	/* No spec: the node says which file. */
	unlink(path);
	ck_assert_int_eq(rundir_spec_read(&spec, path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, path));
	strbuf_reset(&err);
	put(path, "{\"cell\": {\"name\": \"pc\"}, \"kernel\": \"/k\"}");
	ck_assert_int_eq(rundir_spec_read(&spec, path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "needs cell, kernel and "
				     "initrd"));
	cell_release(&c);
	strbuf_release(&err);
	free(dir);
	free(path);
}
END_TEST

START_TEST(test_console_take)
{
	char *from = xstrfmt("%s/console.log.zst", tmpdir);
	char *to = xstrfmt("%s/run.log", tmpdir);
	char *want = xstrfmt("%s.zst", to);
	char *moved, *text;

	put(from, "console bytes");
	moved = rundir_console_take(tmpdir, "console.log.zst", to);
	/* A compressed log keeps its suffix, as boot.c names it. */
	ck_assert_ptr_nonnull(moved);
	ck_assert_str_eq(moved, want);
	text = slurp(moved);
	ck_assert_str_eq(text, "console bytes");
	ck_assert_int_eq(access(from, F_OK), -1);
	free(text);
	free(moved);
	/* A plain one goes to the path itself. */
	free(from);
	from = xstrfmt("%s/%s", tmpdir, RUNDIR_CONSOLE);
	put(from, "partial");
	moved = rundir_console_take(tmpdir, RUNDIR_CONSOLE, to);
	ck_assert_ptr_nonnull(moved);
	ck_assert_str_eq(moved, to);
	free(moved);
	/* Nothing to take: NULL. */
	ck_assert_ptr_null(rundir_console_take(tmpdir, RUNDIR_CONSOLE, to));
	free(from);
	free(to);
	free(want);
}
END_TEST

START_TEST(test_tasks_write)
{
	static const char *const dirs[] = { "/s/runs/hvm-a", "/s/runs/hvm-b" };
	struct strbuf err = STRBUF_INIT;
	char *dir = xstrfmt("%s/arrays/hvm-a-00", tmpdir);
	char *path = xstrfmt("%s/%s", dir, RUNDIR_TASKS);
	char *text;

	ck_assert_int_eq(rundir_tasks_write(dir, dirs, 2, &err), 0);
	text = slurp(path);
	/* Line i is task i's run directory. */
	ck_assert_str_eq(text, "/s/runs/hvm-a\n/s/runs/hvm-b\n");
	free(text);
	strbuf_release(&err);
	free(dir);
	free(path);
}
END_TEST

/* The build's spec as the daemon formats it, read back by run-build. */
START_TEST(test_build_spec)
{
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct rundir_build_spec spec;
	struct matrix_tree tree;
	struct matrix_build config;
	struct build b;
	char *dir = xstrfmt("%s/builds/runs/hvm-b-01", tmpdir);
	char *path = xstrfmt("%s/%s", dir, RUNDIR_SPEC);

	memset(&b, 0, sizeof(b));
	memset(&tree, 0, sizeof(tree));
	memset(&config, 0, sizeof(config));
	tree.name = "mainline";
	config.name = "tiny";
	b.tree = &tree;
	b.config = &config;
	snprintf(b.commit, sizeof(b.commit), "%s", "0123abcd");
	b.repo_path = "/srv/linux.git";
	b.jobs = 6;
	rundir_build_spec_format(&text, "/etc/m.yaml", &b, "/s/builds");
	ck_assert_int_eq(rundir_build_spec_write(dir, text.buf, &err), 0);
	ck_assert_int_eq(rundir_build_spec_read(&spec, path, &err), 0);
	ck_assert_str_eq(spec.matrix, "/etc/m.yaml");
	ck_assert_str_eq(spec.tree, "mainline");
	ck_assert_str_eq(spec.build, "tiny");
	ck_assert_str_eq(spec.commit, "0123abcd");
	ck_assert_str_eq(spec.repo, "/srv/linux.git");
	ck_assert_str_eq(spec.state_dir, "/s/builds");
	ck_assert_uint_eq(spec.jobs, 6);
	rundir_build_spec_release(&spec);
	/* Every field required; jobs out of range is 1. */
	put(path, "{\"version\": 1, \"matrix\": \"/m.yaml\"}\n");
	ck_assert_int_eq(rundir_build_spec_read(&spec, path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "needs tree"));
	put(path, "{\"matrix\": \"/m\", \"tree\": \"t\", \"build\": \"b\", "
	    "\"commit\": \"c\", \"repo\": \"/r\", \"state_dir\": \"/s\", "
	    "\"jobs\": 100000}\n");
	ck_assert_int_eq(rundir_build_spec_read(&spec, path, &err), 0);
	ck_assert_uint_eq(spec.jobs, 1);
	rundir_build_spec_release(&spec);
	strbuf_release(&text);
	strbuf_release(&err);
	free(dir);
	free(path);
}
END_TEST

START_TEST(test_build_result)
{
	struct build b, res;
	struct strbuf err = STRBUF_INIT;

	/* Nothing yet: 0. */
	ck_assert_int_eq(rundir_build_result_read(&res, tmpdir, tmpdir, &err),
			 0);
	memset(&b, 0, sizeof(b));
	b.status = BUILD_FAILED;
	b.reason = xstrdup("the kernel did not build");
	b.errors = xstrdup("init/main.c:1:1: error: expected identifier");
	b.log_path = xstrfmt("%s/logs/b.log", tmpdir);
	b.duration_s = 2.5;
	ck_assert_int_eq(rundir_build_result_write(tmpdir, &b), 0);
	ck_assert_int_eq(rundir_build_result_read(&res, tmpdir, tmpdir, &err),
			 1);
	ck_assert_int_eq(res.status, BUILD_FAILED);
	ck_assert_str_eq(res.reason, b.reason);
	ck_assert_str_eq(res.errors, b.errors);
	ck_assert_str_eq(res.log_path, b.log_path);
	ck_assert_ptr_null(res.image_path);
	ck_assert(res.duration_s == 2.5);
	build_release(&res);
	/* OK with an image outside the shared directory: refused. */
	b.status = BUILD_OK;
	b.image_path = xstrdup("/etc/passwd");
	ck_assert_int_eq(rundir_build_result_write(tmpdir, &b), 0);
	ck_assert_int_eq(rundir_build_result_read(&res, tmpdir, tmpdir, &err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "without an image"));
	strbuf_reset(&err);
	free(b.image_path);
	b.image_path = xstrfmt("%s/../x/bzImage", tmpdir);
	ck_assert_int_eq(rundir_build_result_write(tmpdir, &b), 0);
	ck_assert_int_eq(rundir_build_result_read(&res, tmpdir, tmpdir, &err),
			 -1);
	strbuf_reset(&err);
	/* Inside it: taken. */
	free(b.image_path);
	b.image_path = xstrfmt("%s/builds/bzImage", tmpdir);
	ck_assert_int_eq(rundir_build_result_write(tmpdir, &b), 0);
	ck_assert_int_eq(rundir_build_result_read(&res, tmpdir, tmpdir, &err),
			 1);
	ck_assert_int_eq(res.status, BUILD_OK);
	ck_assert_str_eq(res.image_path, b.image_path);
	build_release(&res);
	build_release(&b);
	strbuf_release(&err);
}
END_TEST

static Suite *rundir_suite(void)
{
	Suite *s = suite_create("rundir");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_json_file_read);
	tcase_add_test(tc, test_result_round_trip);
	tcase_add_test(tc, test_result_refused);
	tcase_add_test(tc, test_spec_write);
	tcase_add_test(tc, test_console_take);
	tcase_add_test(tc, test_tasks_write);
	tcase_add_test(tc, test_build_spec);
	tcase_add_test(tc, test_build_result);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rundir_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
