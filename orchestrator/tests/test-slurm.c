/*
 * test-slurm: unit tests for the Slurm executor's pure parts: squeue's
 * lines (slurm-cmd.c: fields, states, array task ids), the executor keys
 * arrays and builds (matrix-sections.c), and a build's files in the
 * shared directory (executor-build.c: the spec and the result, whose
 * paths must stay inside the shared directory). The executor against a
 * real slurmctld is t-slurm.sh and t-slurm-faults.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/executor.h"
#include "lib/fsutil.h"
#include "matrix/matrix.h"
#include "executor/slurm-cmd.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

START_TEST(test_fields)
{
	char line[] = "12_3|hvm-a-00ff|RUNNING|None";
	char short_line[] = "12|hvm-x";
	char *f[4];

	ck_assert_int_eq(slurm_cmd_fields(line, f, 4), 0);
	ck_assert_str_eq(f[0], "12_3");
	ck_assert_str_eq(f[1], "hvm-a-00ff");
	ck_assert_str_eq(f[2], "RUNNING");
	ck_assert_str_eq(f[3], "None");
	ck_assert_int_eq(slurm_cmd_fields(short_line, f, 4), -1);
}
END_TEST

START_TEST(test_states)
{
	ck_assert_int_eq(slurm_cmd_state_class("PENDING"), SLURM_WAITING);
	ck_assert_int_eq(slurm_cmd_state_class("SUSPENDED"), SLURM_WAITING);
	ck_assert_int_eq(slurm_cmd_state_class("REQUEUED"), SLURM_REQUEUED);
	ck_assert_int_eq(slurm_cmd_state_class("REQUEUE_HOLD"),
			 SLURM_REQUEUED);
	ck_assert_int_eq(slurm_cmd_state_class("RUNNING"), SLURM_ACTIVE);
	ck_assert_int_eq(slurm_cmd_state_class("COMPLETING"), SLURM_ACTIVE);
	ck_assert_int_eq(slurm_cmd_state_class("NODE_FAIL"), SLURM_ENDED);
	ck_assert_int_eq(slurm_cmd_state_class("PREEMPTED"), SLURM_ENDED);
	ck_assert_int_eq(slurm_cmd_state_class("TIMEOUT"), SLURM_ENDED);
	ck_assert_int_eq(slurm_cmd_state_class("COMPLETED"), SLURM_ENDED);
}
END_TEST

START_TEST(test_task_id)
{
	char job[32];
	unsigned task = 99;

	ck_assert_int_eq(slurm_cmd_task_id("123_4", job, sizeof(job), &task),
			 0);
	ck_assert_str_eq(job, "123");
	ck_assert_uint_eq(task, 4);
	/* A plain job, an unsplit pending array, junk: not a task. */
	ck_assert_int_eq(slurm_cmd_task_id("123", job, sizeof(job), &task),
			 -1);
	ck_assert_int_eq(slurm_cmd_task_id("123_[0-3]", job, sizeof(job),
					   &task), -1);
	ck_assert_int_eq(slurm_cmd_task_id("_4", job, sizeof(job), &task), -1);
	ck_assert_int_eq(slurm_cmd_task_id("123_4x", job, sizeof(job), &task),
			 -1);
	ck_assert_int_eq(slurm_cmd_task_id("123_4", job, 3, &task), -1);
}
END_TEST

static int load(struct matrix *m, const char *exec, struct strbuf *err)
{
	char *text = xstrfmt("executor:\n  kind: slurm\n%s"
			     "cells:\n  - name: a\n", exec);
	int rc = matrix_load_buf(m, "t.yaml", text, strlen(text), err);

	free(text);
	return rc;
}

START_TEST(test_keys)
{
	struct matrix m;
	struct strbuf err = STRBUF_INIT;
	const char *text;

	ck_assert_int_eq(load(&m, "  shared_dir: /srv/h\n", &err), 0);
	ck_assert_int_eq(m.executor.no_arrays, 0);	/* arrays by default */
	ck_assert_int_eq(m.executor.builds, 0);	/* builds here */
	matrix_release(&m);
	ck_assert_int_eq(load(&m, "  shared_dir: /srv/h\n  arrays: false\n"
			      "  builds: true\n", &err), 0);
	ck_assert_int_eq(m.executor.no_arrays, 1);
	ck_assert_int_eq(m.executor.builds, 1);
	matrix_release(&m);
	ck_assert_int_eq(load(&m, "  shared_dir: /srv/h\n  arrays: yes\n",
			      &err), -1);
	ck_assert_str_eq(err.buf, "t.yaml:4:11: arrays: expected true or "
			 "false, got \"yes\"");
	strbuf_reset(&err);
	text = "executor:\n  builds: true\ncells:\n  - name: a\n";
	ck_assert_int_eq(matrix_load_buf(&m, "t.yaml", text, strlen(text),
					 &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "builds: true needs "
				     "shared_dir"));
	strbuf_release(&err);
}
END_TEST

START_TEST(test_build_files)
{
	char tmpl[] = "/tmp/hvm-test-slurm-XXXXXX";
	char *dir, *path, *text;
	struct build_job b, res;
	struct executor_build_spec spec;
	struct strbuf err = STRBUF_INIT;

	dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(dir);
	/* Nothing yet: 0. */
	ck_assert_int_eq(executor_build_result_read(&res, dir, dir, &err), 0);
	memset(&b, 0, sizeof(b));
	b.status = BUILD_FAILED;
	b.reason = xstrdup("the kernel did not build");
	b.errors = xstrdup("init/main.c:1:1: error: expected identifier");
	b.log_path = xstrfmt("%s/logs/b.log", dir);
	b.duration_s = 2.5;
	ck_assert_int_eq(executor_build_result_write(dir, &b), 0);
	ck_assert_int_eq(executor_build_result_read(&res, dir, dir, &err), 1);
	ck_assert_int_eq(res.status, BUILD_FAILED);
	ck_assert_str_eq(res.reason, b.reason);
	ck_assert_str_eq(res.errors, b.errors);
	ck_assert_str_eq(res.log_path, b.log_path);
	ck_assert_ptr_null(res.image_path);
	build_job_release(&res);
	/* OK with an image outside the shared directory: refused. */
	b.status = BUILD_OK;
	b.image_path = xstrdup("/etc/passwd");
	ck_assert_int_eq(executor_build_result_write(dir, &b), 0);
	ck_assert_int_eq(executor_build_result_read(&res, dir, dir, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "without an image"));
	strbuf_reset(&err);
	free(b.image_path);
	b.image_path = xstrfmt("%s/../x/bzImage", dir);
	ck_assert_int_eq(executor_build_result_write(dir, &b), 0);
	ck_assert_int_eq(executor_build_result_read(&res, dir, dir, &err), -1);
	strbuf_reset(&err);
	build_job_release(&b);
	/* The spec: every field required. */
	path = xstrfmt("%s/spec.json", dir);
	text = "{\"version\": 1, \"matrix\": \"/m.yaml\", \"tree\": \"t\", "
	       "\"build\": \"b\", \"commit\": \"0123\", \"repo\": \"/r\", "
	       "\"state_dir\": \"/s\", \"jobs\": 4}\n";
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
	ck_assert_int_eq(executor_build_spec_read(&spec, path, &err), 0);
	ck_assert_str_eq(spec.matrix, "/m.yaml");
	ck_assert_str_eq(spec.repo, "/r");
	ck_assert_uint_eq(spec.jobs, 4);
	executor_build_spec_release(&spec);
	text = "{\"version\": 1, \"matrix\": \"/m.yaml\"}\n";
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
	ck_assert_int_eq(executor_build_spec_read(&spec, path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "needs tree"));
	unlink(path);
	free(path);
	path = xstrfmt("%s/%s", dir, EXECUTOR_RESULT);
	unlink(path);
	free(path);
	rmdir(dir);
	strbuf_release(&err);
}
END_TEST

static Suite *slurm_suite(void)
{
	Suite *s = suite_create("slurm");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_task_id);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_build_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(slurm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
