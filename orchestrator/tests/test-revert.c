/*
 * Unit tests for a culprit checked by reverting it: the status a check's
 * runs give (revert.c, pure) and what the store keeps of a check
 * (record-revert.c): the check itself, its commit left out of the tree's
 * history, its runs read back apart.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/revert.h"
#include "store/record.h"
#include "lib/xmalloc.h"

#define SIG "Kernel panic - not syncing: hvmatrix test: broken VMware " \
	"platform setup"
#define LINE "[    0.532000] " SIG

static const char *const two[] = { "vmware", "vmware-6" };

static enum revert_status status(const char *decided, const char *detail,
				 const struct revert_run *runs, size_t n,
				 size_t n_cells, char **why)
{
	struct strbuf sb = STRBUF_INIT;
	enum revert_status s;

	s = revert_status_of(decided, detail, two, n_cells, SIG, runs, n,
			     &sb);
	*why = strbuf_detach(&sb, NULL);
	return s;
}

START_TEST(not_tried_is_none)
{
	char *why;

	ck_assert_int_eq(status(NULL, NULL, NULL, 0, 2, &why), REVERT_NONE);
	ck_assert_ptr_null(revert_status_name(REVERT_NONE));
	free(why);
}
END_TEST

START_TEST(every_cell_passes_heals)
{
	const struct revert_run runs[] = {
		{ 1, "vmware", VERDICT_PASS, "", "" },
		{ 2, "vmware-6", VERDICT_PASS, "", "" },
	};
	char *why;

	ck_assert_int_eq(status("queued", "", runs, 2, 2, &why),
			 REVERT_HEALS);
	ck_assert_str_eq(revert_status_name(REVERT_HEALS), "heals");
	free(why);
}
END_TEST

START_TEST(another_signature_heals_the_regression)
{
	const struct revert_run runs[] = {
		{ 1, "vmware", VERDICT_FAIL,
		  "BUG: unable to handle page fault for address: 0x10", "" },
		{ 2, "vmware-6", VERDICT_PASS, "", "" },
	};
	char *why;

	ck_assert_int_eq(status("queued", "", runs, 2, 2, &why),
			 REVERT_HEALS);
	free(why);
}
END_TEST

START_TEST(one_cell_still_failing_is_still_fails)
{
	/* The same words with another time stamp: the same signature. */
	const struct revert_run runs[] = {
		{ 1, "vmware", VERDICT_PASS, "", "" },
		{ 2, "vmware-6", VERDICT_FAIL, "[    1.100000] " SIG, "" },
		{ 3, "vmware-6", VERDICT_PASS, "", "" },
	};
	char *why;

	ck_assert_int_eq(status("queued", "", runs, 3, 2, &why),
			 REVERT_STILL_FAILS);
	ck_assert_str_eq(revert_status_name(REVERT_STILL_FAILS),
			 "still-fails");
	ck_assert_ptr_nonnull(strstr(why, "vmware-6"));
	free(why);
}
END_TEST

START_TEST(a_cell_without_runs_is_pending)
{
	const struct revert_run runs[] = {
		{ 1, "vmware", VERDICT_PASS, "", "" },
		/* A cell the regression did not break counts for nothing. */
		{ 2, "plain", VERDICT_FAIL, LINE, "" },
	};
	char *why;

	ck_assert_int_eq(status("queued", "", runs, 2, 2, &why),
			 REVERT_PENDING);
	free(why);
	ck_assert_int_eq(status("queued", "", NULL, 0, 2, &why),
			 REVERT_PENDING);
	free(why);
}
END_TEST

START_TEST(farm_trouble_is_never_heals_nor_still_fails)
{
	const struct revert_run blocked[] = {
		{ 1, "vmware", VERDICT_BLOCKED, "", "build failed" },
		{ 2, "vmware-6", VERDICT_BLOCKED, "", "build failed" },
	};
	const struct revert_run error[] = {
		{ 1, "vmware", VERDICT_PASS, "", "" },
		{ 2, "vmware-6", VERDICT_ERROR, "", "qemu: cannot start" },
	};
	/* A retry that passed after an ERROR decides the cell. */
	const struct revert_run retried[] = {
		{ 1, "vmware", VERDICT_PASS, "", "" },
		{ 2, "vmware-6", VERDICT_ERROR, "", "qemu: cannot start" },
		{ 3, "vmware-6", VERDICT_PASS, "", "" },
	};
	char *why;

	ck_assert_int_eq(status("queued", "", blocked, 2, 2, &why),
			 REVERT_ERROR);
	ck_assert_ptr_nonnull(strstr(why, "build failed"));
	free(why);
	ck_assert_int_eq(status("queued", "", error, 2, 2, &why),
			 REVERT_ERROR);
	ck_assert_ptr_nonnull(strstr(why, "ERROR"));
	ck_assert_ptr_nonnull(strstr(why, "vmware-6"));
	free(why);
	ck_assert_int_eq(status("queued", "", retried, 3, 2, &why),
			 REVERT_HEALS);
	free(why);
	ck_assert_int_eq(status("error", "cannot open the watched repository",
				NULL, 0, 2, &why), REVERT_ERROR);
	ck_assert_str_eq(why, "cannot open the watched repository");
	free(why);
}
END_TEST

START_TEST(a_conflict_does_not_apply_naming_the_files)
{
	const struct revert_run stray[] = {
		{ 1, "vmware", VERDICT_PASS, "", "" },
	};
	char *why;

	/* Whatever runs say, a revert that did not apply was not booted. */
	ck_assert_int_eq(status("does-not-apply", "arch/x86/kernel/cpu/"
				"vmware.c, subject", stray, 1, 1, &why),
			 REVERT_DOES_NOT_APPLY);
	ck_assert_str_eq(revert_status_name(REVERT_DOES_NOT_APPLY),
			 "does-not-apply");
	ck_assert_ptr_nonnull(strstr(why, "arch/x86/kernel/cpu/vmware.c"));
	ck_assert_ptr_nonnull(strstr(why, "subject"));
	free(why);
}
END_TEST

/* ---- the store ---- */

static char tmpdir[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void add_run(struct record *r, const char *commit, const char *cell,
		    enum verdict v, const char *purpose, const char *nonce)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };

	run.batch = (char *)"b";
	run.kernel_id = (char *)"k";
	run.cell = (char *)cell;
	run.verdict = v;
	run.started_at = 1;
	run.nonce = (char *)nonce;
	run.tree = (char *)"t";
	run.commit_id = (char *)commit;
	run.build = (char *)"tiny";
	run.purpose = (char *)purpose;
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	strbuf_release(&err);
}

START_TEST(a_check_is_kept_and_its_commit_is_not_the_trees)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	struct record_commit c[2] = {
		{ (char *)"c1", (char *)"good", (char *)"a", 1, (char *)"" },
		{ (char *)"c2", (char *)"bad", (char *)"a", 2, (char *)"c1" },
	};
	struct record_revert rv = {
		(char *)"t", (char *)"tiny", (char *)"c2", (char *)"c2",
		(char *)"r1", (char *)"queued", (char *)"", 0,
	};
	struct record_revert conflict = {
		(char *)"t", (char *)"tiny", (char *)"c2", (char *)"c3",
		(char *)"", (char *)"does-not-apply", (char *)"subject", 0,
	};
	struct record_revert *v = NULL;
	struct record_commit *h = NULL;
	struct record_run *runs = NULL;
	char **builds = NULL;
	char *state;
	size_t n = 0, i;
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-revert.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	state = xstrfmt("%s/state", tmpdir);
	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	builds = xcalloc(2, sizeof(*builds));
	builds[0] = (char *)"tiny";
	ck_assert_int_eq(record_queue_add(r, "t", c, 2, builds, 1, 1,
					  RECORD_PRIORITY_CONFIRM, 0, NULL,
					  &err), 0);
	/* As the daemon does it: the runs wanted, then the check. */
	ck_assert_int_eq(record_queue_want_runs(r, "t", "r1", "tiny", "vmware",
						1, "revert",
						RECORD_PRIORITY_CONFIRM, &err),
			 0);
	ck_assert_int_eq(record_revert_add(r, &rv, "Revert \"bad\"", &err), 0);
	ck_assert_int_eq(record_revert_add(r, &conflict, "", &err), 0);
	/* Recorded twice (a restart between want and record): kept once. */
	ck_assert_int_eq(record_revert_add(r, &rv, "Revert \"bad\"", &err), 0);
	add_run(r, "c2", "vmware", VERDICT_FAIL, "test", "n1");
	add_run(r, "r1", "vmware", VERDICT_PASS, "revert", "n2");
	add_run(r, "r1", "plain", VERDICT_PASS, "test", "n3");

	ck_assert_int_eq(record_revert_list(r, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].revert_commit, "r1");
	ck_assert_str_eq(v[0].status, "queued");
	ck_assert_str_eq(v[1].status, "does-not-apply");
	ck_assert_str_eq(v[1].detail, "subject");
	ck_assert_str_eq(v[1].tip, "c3");
	record_revert_list_free(v, n);

	ck_assert_int_eq(record_history_commits(r, "t", &h, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++)
		ck_assert_str_ne(h[i].id, "r1");
	record_history_commits_free(h, n);

	/* Only the revert's own runs, of purpose revert. */
	ck_assert_int_eq(record_revert_runs(r, "t", "r1", "tiny", &runs, &n,
					    &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(runs[0].cell, "vmware");
	ck_assert_int_eq(runs[0].verdict, VERDICT_PASS);
	record_runs_free(runs, n);
	/* Its subject, for whoever lists the runs. */
	ck_assert_int_eq(record_list_commit_runs(r, "t", "r1", &runs, &n,
						 &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(runs[0].subject, "Revert \"bad\"");
	record_runs_free(runs, n);

	record_close(r);
	free(builds);
	free(state);
	strbuf_release(&err);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("revert");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, not_tried_is_none);
	tcase_add_test(tc, every_cell_passes_heals);
	tcase_add_test(tc, another_signature_heals_the_regression);
	tcase_add_test(tc, one_cell_still_failing_is_still_fails);
	tcase_add_test(tc, a_cell_without_runs_is_pending);
	tcase_add_test(tc, farm_trouble_is_never_heals_nor_still_fails);
	tcase_add_test(tc, a_conflict_does_not_apply_naming_the_files);
	tcase_add_test(tc, a_check_is_kept_and_its_commit_is_not_the_trees);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
