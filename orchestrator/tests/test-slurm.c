/*
 * test-slurm: unit tests for the Slurm executor's pure parts: squeue's
 * lines (slurm-cmd.c: fields, states, array task ids) and the executor
 * keys arrays and builds (matrix-sections.c). The shared directory's
 * files are test-rundir.c; the executor against a real slurmctld is
 * t-slurm.sh and t-slurm-faults.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static Suite *slurm_suite(void)
{
	Suite *s = suite_create("slurm");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_task_id);
	tcase_add_test(tc, test_keys);
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
