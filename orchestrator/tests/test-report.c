/*
 * Unit tests for lib/report.c: progress lines honour --quiet and carry
 * the daemon's stamp; error lines are always written, never stamped; no
 * line passes a terminal escape sequence or control through.
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/report.h"

/* What the calls in between wrote to stderr. */
static char captured[4096];
static int saved_fd = -1;
static FILE *tmp;

static void capture_start(void)
{
	fflush(stderr);
	tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	saved_fd = dup(2);
	dup2(fileno(tmp), 2);
}

static const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(tmp);
	n = fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
	return captured;
}

START_TEST(progress_and_errors)
{
	report_set_quiet(0);
	report_set_stamp(0);
	capture_start();
	report_progress(NULL, "building %s", "c1");
	report_progress("slurm: ", "job %d", 7);
	report_error("bad %s", "matrix");
	ck_assert_str_eq(capture_end(),
			 "building c1\nslurm: job 7\nhvmatrix: bad matrix\n");
}
END_TEST

/* A commit subject in a daemon line: no sequence reaches the terminal. */
START_TEST(escapes_and_controls_dropped)
{
	const char *subject = "fix \x1b]52;c;ZWNobyBwd25lZA==\x07x"
			      "\x1b[2J\x1b[1;1H\x1b[31mred\x1b[0m"
			      "\r\x08\x7f\xc2\x9b" "1m\x1bP+q\x1b\\\x1b" "7"
			      "caf\xc3\xa9\tend";

	report_set_quiet(0);
	report_set_stamp(0);
	capture_start();
	report_progress(NULL, "building t deadbeef \"%s\"", subject);
	report_error("cut \x1b[");
	ck_assert_str_eq(capture_end(),
			 "building t deadbeef \"fix xred????1m"
			 "caf\xc3\xa9\tend\"\nhvmatrix: cut \n");
}
END_TEST

/*
 * Raw C1 bytes (0x9b is CSI to a terminal not in UTF-8 mode) and other
 * ill-formed UTF-8 show as '?', one per maximal subpart; well-formed
 * characters pass.
 */
START_TEST(raw_c1_and_bad_utf8_dropped)
{
	report_set_quiet(0);
	report_set_stamp(0);
	capture_start();
	report_progress(NULL, "%s", "a\x9b" "31m\x9d" "0;t\x9c b\x85\x90 "
			"\xff\xfe \xc3\x28 \xed\xa0\x80 \xc0\xaf \xe2\x82 "
			"\xe2\x82\xac \xf0\x9f\x98\x80");
	ck_assert_str_eq(capture_end(),
			 "a?31m?0;t? b?? ?? ?( ??? ?? ? "
			 "\xe2\x82\xac \xf0\x9f\x98\x80\n");
}
END_TEST

START_TEST(quiet_drops_progress_only)
{
	report_set_quiet(1);
	report_set_stamp(0);
	capture_start();
	report_progress(NULL, "not shown");
	report_error("shown");
	ck_assert_str_eq(capture_end(), "hvmatrix: shown\n");
	ck_assert_int_eq(report_quiet(), 1);
	report_set_quiet(0);
}
END_TEST

START_TEST(stamp_on_progress_not_on_errors)
{
	regex_t re;

	report_set_quiet(0);
	report_set_stamp(1);
	capture_start();
	report_progress(NULL, "start %s", "vmware");
	report_error("oops");
	capture_end();
	report_set_stamp(0);
	ck_assert_int_eq(regcomp(&re, "^\\[[0-9]{2}:[0-9]{2}:[0-9]{2}\\] "
				 "start vmware\nhvmatrix: oops\n$",
				 REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, captured, 0, NULL, 0) == 0, "got: %s",
		      captured);
	regfree(&re);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, progress_and_errors);
	tcase_add_test(tc, escapes_and_controls_dropped);
	tcase_add_test(tc, raw_c1_and_bad_utf8_dropped);
	tcase_add_test(tc, quiet_drops_progress_only);
	tcase_add_test(tc, stamp_on_progress_not_on_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
