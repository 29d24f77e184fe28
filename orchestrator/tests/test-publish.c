/*
 * test-publish: what publishing costs (publish.c, record-query.c). The
 * dashboard is rewritten after every job, so what it loads must be bounded
 * by what it shows, and a log page is streamed, never read whole; each
 * test on a fresh private state directory.
 */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "logfile.h"
#include "publish.h"
#include "record.h"
#include "xmalloc.h"

static char tmpdir[PATH_MAX];

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-publish.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	unsetenv("HVMATRIX_STATE");
	setenv("HVMATRIX_WEB", HVM_DATADIR "/web", 1);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct record *open_store(void)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	char *state = xstrfmt("%s/state", tmpdir);

	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	free(state);
	strbuf_release(&err);
	return r;
}

static void add(struct record *r, const char *kernel, const char *cell,
		double t, const char *log_path)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };

	run.batch = xstrfmt("batch-%s", kernel);
	run.kernel_id = (char *)kernel;
	run.cell = (char *)cell;
	run.verdict = VERDICT_PASS;
	run.reason = "ok";
	run.line = xstrfmt("line of %s %s", kernel, cell);
	run.started_at = t;
	run.log_path = (char *)(log_path ? log_path : "");
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	free(run.batch);
	free(run.line);
	strbuf_release(&err);
}

static char *publish(struct record *r)
{
	struct strbuf err = STRBUF_INIT, html = STRBUF_INIT;
	char *out = xstrfmt("%s/site", tmpdir);
	char *index = NULL;

	if (publish_dashboard(r, out, &index, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	ck_assert_int_eq(fsutil_read(index, &html), 0);
	free(index);
	free(out);
	strbuf_release(&err);
	return strbuf_detach(&html, NULL);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* 300 kernels in 3 cells: the page loads the newest rows, counts all. */
START_TEST(bounded_load)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_run *runs = NULL;
	struct record_totals t;
	char kernel[41], *html, *grid;
	size_t n, i;

	for (i = 0; i < 300; i++) {
		snprintf(kernel, sizeof(kernel), "%040zx", i);
		add(r, kernel, "aa", 10.0 * i, NULL);
		add(r, kernel, "bb", 10.0 * i + 1, NULL);
		add(r, kernel, "cc", 10.0 * i + 2, NULL);
	}
	/* The newest 200 runs reach 67 kernels; 50 would be the floor. */
	ck_assert_int_eq(record_list_recent_runs(r, 50, 200, 1000, &runs, &n,
						 &err), 0);
	ck_assert_uint_eq(n, 67 * 3);
	snprintf(kernel, sizeof(kernel), "%040zx", (size_t)299);
	ck_assert_str_eq(runs[0].kernel_id, kernel);
	ck_assert_str_eq(runs[0].cell, "cc");
	for (i = 1; i < n; i++)
		ck_assert(runs[i - 1].started_at >= runs[i].started_at);
	record_runs_free(runs, n);
	/* Few runs, more rows wanted: more rows, every run of each. */
	ck_assert_int_eq(record_list_recent_runs(r, 80, 10, 1000, &runs, &n,
						 &err), 0);
	ck_assert_uint_eq(n, 80 * 3);
	record_runs_free(runs, n);
	ck_assert_int_eq(record_count_runs(r, &t, &err), 0);
	ck_assert_uint_eq(t.runs, 900);
	ck_assert_uint_eq(t.rows, 300);
	ck_assert_uint_eq(t.cells, 3);

	html = publish(r);
	ck_assert_ptr_nonnull(strstr(html, "300 kernels, 3 cells, 900 runs "
				     "recorded."));
	ck_assert_ptr_nonnull(strstr(html, "The 67 most recent of 300 "
				     "kernels."));
	ck_assert_ptr_nonnull(strstr(html, "The 200 most recent of 900 "
				     "runs."));
	grid = strstr(html, "<table class=\"grid\">");
	ck_assert_ptr_nonnull(grid);
	*strstr(grid, "</table>") = '\0';
	ck_assert_uint_eq(count(grid, "<th scope=\"row\""), 67);
	/* The deciding line comes from the store. */
	ck_assert_ptr_nonnull(strstr(grid, "line of " "0000000000000000000000"
				     "00000000000000012b cc"));
	free(html);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

static long max_rss_kib(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/*
 * A 48 MiB log becomes its page with the process growing by far less than
 * the log: it is streamed, not read whole.
 */
START_TEST(log_page_streamed)
{
	const size_t len = 48u << 20;
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT, page = STRBUF_INIT;
	struct logfile_writer *w;
	char *log = xstrfmt("%s/big.log", tmpdir), *html, *p;
	char *line = xmalloc(4096);
	long before;
	size_t i;

	memset(line, 'x', 4095);
	line[4095] = '\n';
	ck_assert_int_eq(logfile_create(&w, log, 0, &err), 0);
	for (i = 0; i < len / 4096; i++)
		ck_assert_int_eq(logfile_write(w, line, 4096, &err), 0);
	ck_assert_int_eq(logfile_write(w, "\x1b[31mEND\x1b[0m\n", 13, &err),
			 0);
	ck_assert_int_eq(logfile_finish(w, NULL, 0, &err), 0);
	add(r, "0123456789abcdef0123456789abcdef01234567", "big", 1, log);

	before = max_rss_kib();
	html = publish(r);
	ck_assert_msg(max_rss_kib() - before < 16 * 1024,
		      "publishing grew by %ld KiB", max_rss_kib() - before);
	p = xstrfmt("%s/site/logs/1.txt", tmpdir);
	ck_assert_int_eq(fsutil_read(p, &page), 0);
	ck_assert_uint_eq(page.len, len / 4096 * 4096 + 4);
	ck_assert_str_eq(page.buf + page.len - 4, "END\n");

	free(p);
	free(html);
	free(line);
	free(log);
	strbuf_release(&page);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

/* A page is rendered once per log: the next publish keeps it. */
START_TEST(log_page_rendered_once)
{
	struct record *r = open_store();
	char *log = xstrfmt("%s/one.log", tmpdir);
	char *page = xstrfmt("%s/site/logs/1.txt", tmpdir);
	struct strbuf got = STRBUF_INIT;
	struct stat st1;

	ck_assert_int_eq(fsutil_write_atomic(log, "boot\n", 5), 0);
	add(r, "0123456789abcdef0123456789abcdef01234567", "one", 1, log);
	free(publish(r));
	ck_assert_int_eq(stat(page, &st1), 0);
	/* Marked as the page of this log: it is not written again. */
	ck_assert_int_eq(fsutil_write_atomic(page, "kept", 4), 0);
	{
		struct timespec times[2] = { { 0, UTIME_OMIT }, st1.st_mtim };

		ck_assert_int_eq(utimensat(AT_FDCWD, page, times, 0), 0);
	}
	free(publish(r));
	ck_assert_int_eq(fsutil_read(page, &got), 0);
	ck_assert_str_eq(got.buf, "kept");
	/* Another log (another mtime): rendered again. */
	{
		struct timespec times[2] = { { 0, UTIME_OMIT },
					     { st1.st_mtim.tv_sec - 60, 0 } };

		ck_assert_int_eq(utimensat(AT_FDCWD, log, times, 0), 0);
	}
	free(publish(r));
	strbuf_reset(&got);
	ck_assert_int_eq(fsutil_read(page, &got), 0);
	ck_assert_str_eq(got.buf, "boot\n");

	strbuf_release(&got);
	free(log);
	free(page);
	record_close(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("publish");
	TCase *tc = tcase_create("publish");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, bounded_load);
	tcase_add_test(tc, log_page_streamed);
	tcase_add_test(tc, log_page_rendered_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
