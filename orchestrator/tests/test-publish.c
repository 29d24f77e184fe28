/*
 * test-publish: the dashboard (publish.c, record-query.c): the grid is
 * paged, a log page is streamed, never read whole, classes come from
 * regressions.c, every subject is escaped, an unchanged page is not
 * written again, and an incremental publish (publish-cache.c) writes
 * what a full one writes; each test on a fresh private state directory.
 */
#include <check.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wordexp.h>

#include "lib/fsutil.h"
#include "lib/logfile.h"
#include "publish/publish.h"
#include "store/record.h"
#include "lib/xmalloc.h"

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
	ck_assert_int_eq(record_query_recent_runs(r, 50, 200, 1000, &runs, &n,
						  &err), 0);
	ck_assert_uint_eq(n, 67 * 3);
	snprintf(kernel, sizeof(kernel), "%040zx", (size_t)299);
	ck_assert_str_eq(runs[0].kernel_id, kernel);
	ck_assert_str_eq(runs[0].cell, "cc");
	for (i = 1; i < n; i++)
		ck_assert(runs[i - 1].started_at >= runs[i].started_at);
	record_runs_free(runs, n);
	/* Few runs, more rows wanted: more rows, every run of each. */
	ck_assert_int_eq(record_query_recent_runs(r, 80, 10, 1000, &runs, &n,
						  &err), 0);
	ck_assert_uint_eq(n, 80 * 3);
	record_runs_free(runs, n);
	ck_assert_int_eq(record_query_count_runs(r, &t, &err), 0);
	ck_assert_uint_eq(t.runs, 900);
	ck_assert_uint_eq(t.rows, 300);
	ck_assert_uint_eq(t.cells, 3);

	/* The front page: the newest 100 rows; the grid is paged. */
	html = publish(r);
	ck_assert_ptr_nonnull(strstr(html, "The newest 100 of 300 commits"));
	grid = strstr(html, "<table class=\"grid\">");
	ck_assert_ptr_nonnull(grid);
	*strstr(grid, "</table>") = '\0';
	ck_assert_uint_eq(count(grid, "<th scope=\"row\""), 100);
	/* Newest first. */
	ck_assert_ptr_nonnull(strstr(grid, "k-00000000000000000000000000000"
				     "0000000012b.html"));
	ck_assert_ptr_null(strstr(grid, "k-00000000000000000000000000000"
				  "0000000000c7.html"));
	{
		struct strbuf page = STRBUF_INIT;
		char *p;

		for (i = 1; i <= 3; i++) {
			p = xstrfmt("%s/site/grid/%zu.html", tmpdir, i);
			ck_assert_int_eq(fsutil_read(p, &page), 0);
			ck_assert_uint_eq(count(page.buf, "<th scope=\"row\""),
					  100);
			strbuf_reset(&page);
			free(p);
		}
		/* The deciding line comes from the store, on the row's
		 * page. */
		p = xstrfmt("%s/site/commit/k-%040zx.html", tmpdir,
			    (size_t)0x12b);
		ck_assert_int_eq(fsutil_read(p, &page), 0);
		ck_assert_ptr_nonnull(strstr(page.buf, "line of "
				      "000000000000000000000000000000000000"
				      "012b cc"));
		free(p);
		strbuf_release(&page);
	}
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
	p = xstrfmt("%s/site/run/1.html", tmpdir);
	ck_assert_int_eq(fsutil_read(p, &page), 0);
	ck_assert_uint_gt(page.len, len);
	ck_assert_ptr_nonnull(strstr(page.buf, "</a>END</span>\n</pre>"));

	free(p);
	free(html);
	free(line);
	free(log);
	strbuf_release(&page);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

/* A run page is rendered once: the next publish keeps it. */
START_TEST(log_page_rendered_once)
{
	struct record *r = open_store();
	char *log = xstrfmt("%s/one.log", tmpdir);
	char *page = xstrfmt("%s/site/run/1.html", tmpdir);
	char *manifest = xstrfmt("%s/site/.manifest", tmpdir);
	struct strbuf got = STRBUF_INIT;

	ck_assert_int_eq(fsutil_write_atomic(log, "boot\n", 5), 0);
	add(r, "0123456789abcdef0123456789abcdef01234567", "one", 1, log);
	free(publish(r));
	ck_assert_int_eq(fsutil_write_atomic(page, "kept", 4), 0);
	free(publish(r));
	ck_assert_int_eq(fsutil_read(page, &got), 0);
	ck_assert_str_eq(got.buf, "kept");
	/* Without the manifest, everything is made again. */
	ck_assert_int_eq(unlink(manifest), 0);
	free(publish(r));
	strbuf_reset(&got);
	ck_assert_int_eq(fsutil_read(page, &got), 0);
	ck_assert_ptr_nonnull(strstr(got.buf, "</a>boot</span>"));

	strbuf_release(&got);
	free(log);
	free(page);
	free(manifest);
	record_close(r);
}
END_TEST

/* The command line add_commit_run records. */
static const char *run_cmdline = "qemu-system-x86_64 -m 256";

/* A run of a built commit (tree, commit, build), with its log. */
static void add_commit_run(struct record *r, const char *commit,
			   const char *cell, enum verdict v, const char *line,
			   const char *log)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };
	static unsigned seq;
	char *nonce = xstrfmt("n%u", ++seq);

	run.batch = (char *)"b";
	run.kernel_id = (char *)commit;
	run.cell = (char *)cell;
	run.verdict = v;
	run.reason = (char *)"r";
	run.line = (char *)line;
	run.started_at = 1;
	run.log_path = (char *)(log ? log : "");
	run.nonce = nonce;
	run.tree = (char *)"t";
	run.commit_id = (char *)commit;
	run.build = (char *)"b";
	run.cmdline = (char *)run_cmdline;
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	free(nonce);
	strbuf_release(&err);
}

static void add_commit(struct record *r, const char *id, const char *parent,
		       const char *subject)
{
	struct strbuf err = STRBUF_INIT;
	struct record_commit c = { (char *)id, (char *)subject, (char *)"A",
				   1, (char *)parent };
	char *builds[] = { (char *)"b" };

	if (record_queue_add(r, "t", &c, 1, builds, 1, 1, 0,
			     RECORD_ENQUEUE_NO_JOBS, NULL, &err))
		ck_abort_msg("record_queue_add: %s", err.buf);
	strbuf_release(&err);
}

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333"
#define XSS "<img src=x onerror=alert(1)>\"'"

static char *read_site(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	char *p = xstrfmt("%s/site/%s", tmpdir, rel);

	if (fsutil_read(p, &sb) < 0)
		ck_abort_msg("%s: cannot read", p);
	free(p);
	return strbuf_detach(&sb, NULL);
}

/*
 * A subject is text on every page; a regression's class is on the grid
 * (REG, from regressions.c), its decisive line anchored on the log page,
 * read as the judge reads it (no escapes, no CR); the command line and
 * reproduce.sh next to it.
 */
START_TEST(classes_escaping_and_run_pages)
{
	struct record *r = open_store();
	char *log = xstrfmt("%s/fail.log", tmpdir), *html;
	static const char *const pages[] = {
		"index.html", "regressions.html",
		"commit/t~b~" C2 ".html", "grid/1.html",
	};
	size_t i;

	static const char text[] = "x\n\033[2JBooting from ROM...\r\n"
				   "after\n";
	ck_assert_int_eq(fsutil_write_atomic(log, text, sizeof(text) - 1), 0);
	add_commit(r, C1, "", "good");
	add_commit(r, C2, C1, XSS);
	add_commit_run(r, C1, "vm", VERDICT_PASS, "ok", NULL);
	for (i = 0; i < 3; i++)
		add_commit_run(r, C2, "vm", VERDICT_FAIL,
			       "Booting from ROM...", i == 2 ? log : NULL);
	html = publish(r);
	free(html);
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		html = read_site(pages[i]);
		ck_assert_msg(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"
				     "&quot;&#39;"), "%s: no escaped subject",
			      pages[i]);
		ck_assert_msg(!strstr(html, "<img"), "%s: an img", pages[i]);
		free(html);
	}
	html = read_site("index.html");
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"m c-reg\" title=\""
				     "regression: passed before, fails now "
				     "(confirmed), 3 runs\"><a href=\"run/4."
				     "html\">REG</a>"));
	ck_assert_ptr_nonnull(strstr(html, "run/4.html#decisive"));
	free(html);
	html = read_site("run/4.html");
	ck_assert_ptr_nonnull(strstr(html, "<span id=\"L2\" class=\"decisive"
				     "\">"));
	ck_assert_ptr_nonnull(strstr(html, "<pre class=\"cmdline\" id=\""
				     "cmdline\">qemu-system-x86_64 -m 256</pre>"));
	free(html);
	html = read_site("run/4.sh");
	ck_assert_ptr_nonnull(strstr(html, "\nexec qemu-system-x86_64 -m 256"
				     "\n"));
	free(html);
	free(log);
	record_close(r);
}
END_TEST

/*
 * An argument holding ESC [ (a kernel command line from a crafted cell)
 * stays one argument in reproduce.sh: cleaned, then quoted, so that the
 * sequence cannot swallow its closing quote and run the rest as shell.
 */
START_TEST(reproducer_argument_with_escape)
{
	struct record *r = open_store();
	char *log = xstrfmt("%s/x.log", tmpdir), *sh, *line, *end;
	wordexp_t we;
	int rc;

	ck_assert_int_eq(fsutil_write_atomic(log, "x\n", 2), 0);

	/*
	 * spawn_argv_quote of qemu, "x ESC [", "A", "; touch /tmp/p; #":
	 * cleaned whole, ESC [ ' space A went as one CSI, so the last
	 * word's opening quote closed 'x and its command ran.
	 */
	run_cmdline = "qemu-system-x86_64 'x\033[' A '; touch /tmp/p; #'";
	add_commit(r, C1, "", "one");
	add_commit_run(r, C1, "vm", VERDICT_FAIL, "x", log);
	run_cmdline = "qemu-system-x86_64 -m 256";
	free(publish(r));
	sh = read_site("run/1.sh");
	ck_assert_ptr_null(strchr(sh, '\033'));
	line = strstr(sh, "\nexec ");
	ck_assert_ptr_nonnull(line);
	line += 6;
	end = strchr(line, '\n');
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	/* Split as a shell would; a ';' outside quotes is refused. */
	rc = wordexp(line, &we, WRDE_NOCMD | WRDE_UNDEF);
	ck_assert_msg(rc == 0, "not one quoted command (%d): %s", rc, line);
	ck_assert_uint_eq(we.we_wordc, 4);
	/* The sequence dropped inside its word, the rest kept as text. */
	ck_assert_str_eq(we.we_wordv[1], "x");
	ck_assert_str_eq(we.we_wordv[2], "A");
	ck_assert_str_eq(we.we_wordv[3], "; touch /tmp/p; #");
	wordfree(&we);
	free(sh);
	free(log);
	record_close(r);
}
END_TEST

/* Publishing is incremental: an unchanged page is not written again. */
START_TEST(incremental)
{
	struct record *r = open_store();
	char *c1 = xstrfmt("%s/site/commit/t~b~" C1 ".html", tmpdir);
	char *html;

	add_commit(r, C1, "", "one");
	add_commit_run(r, C1, "vm", VERDICT_PASS, "ok", NULL);
	free(publish(r));
	ck_assert_int_eq(fsutil_write_atomic(c1, "kept", 4), 0);
	add_commit(r, C2, C1, "two");
	add_commit_run(r, C2, "vm", VERDICT_PASS, "ok", NULL);
	free(publish(r));
	html = read_site("commit/t~b~" C1 ".html");
	ck_assert_str_eq(html, "kept");
	free(html);
	html = read_site("commit/t~b~" C2 ".html");
	ck_assert_ptr_nonnull(strstr(html, "two"));
	free(html);
	/* New data for C1: its page is made again. */
	add_commit(r, C3, C2, "three");
	add_commit_run(r, C1, "other", VERDICT_PASS, "ok", NULL);
	free(publish(r));
	html = read_site("commit/t~b~" C1 ".html");
	ck_assert_ptr_nonnull(strstr(html, "other"));
	free(html);
	free(c1);
	record_close(r);
}
END_TEST

/* A run of a built commit with what the equivalence test varies. */
static void add_run_at(struct record *r, const char *commit, const char *cell,
		       enum verdict v, const char *line, const char *purpose,
		       double t, const char *matrix)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };
	static unsigned seq;
	char *nonce = xstrfmt("e%u", ++seq);
	char *log = xstrfmt("%s/%s-%s-%u.log", tmpdir, commit, cell, seq);
	char *text = xstrfmt("boot %u\n%s\nend\n", seq, line);

	/* Every non-PASS run has a log: its page shows the class. */
	if (v != VERDICT_PASS)
		ck_assert_int_eq(fsutil_write_atomic(log, text, strlen(text)),
				 0);
	run.batch = (char *)"b";
	run.kernel_id = (char *)commit;
	run.cell = (char *)cell;
	run.verdict = v;
	run.reason = (char *)"r";
	run.line = (char *)line;
	run.started_at = t;
	run.log_path = v != VERDICT_PASS ? log : (char *)"";
	run.nonce = nonce;
	run.tree = (char *)"t";
	run.commit_id = (char *)commit;
	run.build = (char *)"b";
	run.purpose = (char *)purpose;
	run.matrix_path = (char *)(matrix ? matrix : "");
	run.cmdline = (char *)"qemu-system-x86_64 -m 256";
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	free(nonce);
	free(log);
	free(text);
	strbuf_release(&err);
}

/* The pages of a site, but the Generated time (a kept page keeps its). */
static char *page_text(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *t, *e;

	if (fsutil_read(path, &sb) < 0)
		ck_abort_msg("%s: cannot read", path);
	t = strstr(sb.buf, "<time>");
	e = t ? strstr(t, "</time>") : NULL;
	if (e)
		memmove(t, e, strlen(e) + 1);
	return strbuf_detach(&sb, NULL);
}

static const char *walk_a, *walk_b;
static size_t walk_n;

static int same_file(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	const char *base = path + ftw->base;
	char *other, *x, *y;

	(void)st;
	/* The manifest, the runs' cache and the spares are the site's
	 * bookkeeping, not pages. */
	if (flag != FTW_F || *base == '.')
		return 0;
	walk_n++;
	if (!walk_b)
		return 0;
	other = xstrfmt("%s%s", walk_b, path + strlen(walk_a));
	x = page_text(path);
	y = page_text(other);
	ck_assert_msg(!strcmp(x, y), "%s and %s differ", path, other);
	free(x);
	free(y);
	free(other);
	return 0;
}

static size_t count_pages(const char *dir)
{
	walk_a = dir;
	walk_b = NULL;
	walk_n = 0;
	ck_assert_int_eq(nftw(dir, same_file, 16, FTW_PHYS), 0);
	return walk_n;
}

/*
 * Publish to site (incremental: its manifest and the store's runs cache
 * from the last time) and, without the cache, to a new directory (full);
 * both must give the same pages. Returns what HVMATRIX_DEBUG_PUBLISH said
 * of the incremental one.
 */
static char *publish_both(struct record *r, unsigned step)
{
	struct strbuf err = STRBUF_INIT, said = STRBUF_INIT;
	char *site = xstrfmt("%s/site", tmpdir);
	char *full = xstrfmt("%s/full-%u", tmpdir, step);
	char *log = xstrfmt("%s/said-%u", tmpdir, step);
	char *cache = xstrfmt("%s/state/runs-cache", tmpdir);
	char *strs = xstrfmt("%s/state/runs-cache-strs", tmpdir);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644), keep;
	size_t n;

	ck_assert_int_ge(fd, 0);
	setenv("HVMATRIX_DEBUG_PUBLISH", "1", 1);
	fflush(stderr);
	keep = dup(2);
	dup2(fd, 2);
	close(fd);
	if (publish_dashboard(r, site, NULL, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	fflush(stderr);
	dup2(keep, 2);
	close(keep);
	unsetenv("HVMATRIX_DEBUG_PUBLISH");
	unlink(cache);
	unlink(strs);
	if (publish_dashboard(r, full, NULL, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	n = count_pages(full);
	ck_assert_uint_gt(n, 5);
	ck_assert_uint_eq(count_pages(site), n);
	walk_a = full;
	walk_b = site;
	ck_assert_int_eq(nftw(full, same_file, 16, FTW_PHYS), 0);
	ck_assert_int_eq(fsutil_read(log, &said), 0);
	free(site);
	free(full);
	free(log);
	free(cache);
	free(strs);
	strbuf_release(&err);
	return strbuf_detach(&said, NULL);
}

#define C4 "4444444444444444444444444444444444444444"
#define C5 "5555555555555555555555555555555555555555"

/*
 * An incremental publish (the cached runs plus those recorded since)
 * writes what a full one writes, byte for byte: after new commits, a
 * confirmation and a bisection run on old commits (whose classes and run
 * pages change), a matrix change, a run deleted and a damaged cache (a
 * full scan then).
 */
START_TEST(incremental_is_full)
{
	struct record *r = open_store();
	char *matrix = xstrfmt("%s/m.yaml", tmpdir), *said, *html, *cache;
	static const char m1[] = "cells:\n  - name: vm\n    machine: q35\n";
	static const char m2[] = "cells:\n  - name: vm\n    machine: pc\n"
				 "    confirm: 0\n";

	add_commit(r, C1, "", "one");
	add_commit(r, C2, C1, "two " XSS);
	add_run_at(r, C1, "vm", VERDICT_PASS, "ok", "test", 10, NULL);
	add_run_at(r, C1, "other", VERDICT_PASS, "ok", "test", 11, NULL);
	add_run_at(r, C2, "vm", VERDICT_PASS, "ok", "test", 20, NULL);
	add_run_at(r, C2, "other", VERDICT_ERROR, "qemu died", "test", 21,
		   NULL);
	free(publish_both(r, 0));

	/* New commits: C4 fails, once (unconfirmed), C3 untested. */
	add_commit(r, C3, C2, "three");
	add_commit(r, C4, C3, "four");
	add_run_at(r, C4, "vm", VERDICT_FAIL, "BUG: oops", "test", 40, NULL);
	add_run_at(r, C4, "other", VERDICT_PASS, "ok", "test", 41, NULL);
	said = publish_both(r, 1);
	ck_assert_ptr_nonnull(strstr(said, "runs (cache, store)"));
	free(said);
	html = read_site("index.html");
	ck_assert_ptr_nonnull(strstr(html, "c-unc"));
	free(html);

	/* Confirmation runs on the old commit: a regression now. */
	add_commit(r, C5, C4, "five");
	add_run_at(r, C5, "vm", VERDICT_FAIL, "BUG: oops", "test", 50, NULL);
	add_run_at(r, C4, "vm", VERDICT_FAIL, "BUG: oops", "confirm", 60,
		   NULL);
	add_run_at(r, C4, "vm", VERDICT_FAIL, "BUG: oops", "confirm", 61,
		   NULL);
	said = publish_both(r, 2);
	ck_assert_ptr_nonnull(strstr(said, "runs (cache, store)"));
	free(said);
	html = read_site("regressions.html");
	ck_assert_ptr_nonnull(strstr(html, "c-reg"));
	free(html);

	/* A bisection run on an old, untested commit. */
	add_run_at(r, C3, "vm", VERDICT_PASS, "ok", "bisect", 70, NULL);
	free(publish_both(r, 3));

	/* The matrix in force (the newest run's), then edited. */
	ck_assert_int_eq(fsutil_write_atomic(matrix, m1, sizeof(m1) - 1), 0);
	add_run_at(r, C5, "other", VERDICT_PASS, "ok", "test", 80, matrix);
	free(publish_both(r, 4));
	html = read_site("releases.html");
	ck_assert_ptr_nonnull(strstr(html, "q35"));
	free(html);
	ck_assert_int_eq(fsutil_write_atomic(matrix, m2, sizeof(m2) - 1), 0);
	said = publish_both(r, 5);
	ck_assert_ptr_nonnull(strstr(said, "runs (cache, store)"));
	free(said);
	html = read_site("releases.html");
	ck_assert_ptr_null(strstr(html, "q35"));
	free(html);

	/* A run deleted by hand (runs are only added): a full scan. */
	{
		char *db = xstrfmt("%s/state/hvmatrix.db", tmpdir);
		sqlite3 *h;

		ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
		ck_assert_int_eq(sqlite3_exec(h, "DELETE FROM runs WHERE id "
					      "= 6", NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(h);
		free(db);
	}
	said = publish_both(r, 8);
	ck_assert_ptr_nonnull(strstr(said, "runs (store)"));
	free(said);
	said = publish_both(r, 9);
	ck_assert_ptr_nonnull(strstr(said, "runs (cache, store)"));
	free(said);

	/* A damaged cache is not used. */
	cache = xstrfmt("%s/state/runs-cache", tmpdir);
	ck_assert_int_eq(fsutil_write_atomic(cache, "damaged", 7), 0);
	add_run_at(r, C5, "vm", VERDICT_FAIL, "BUG: oops", "confirm", 90,
		   NULL);
	said = publish_both(r, 6);
	ck_assert_ptr_nonnull(strstr(said, "runs (store)"));
	free(said);
	free(publish_both(r, 7));

	free(cache);
	free(matrix);
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
	tcase_add_test(tc, reproducer_argument_with_escape);
	tcase_add_test(tc, bounded_load);
	tcase_add_test(tc, log_page_streamed);
	tcase_add_test(tc, log_page_rendered_once);
	tcase_add_test(tc, classes_escaping_and_run_pages);
	tcase_add_test(tc, incremental);
	tcase_add_test(tc, incremental_is_full);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
