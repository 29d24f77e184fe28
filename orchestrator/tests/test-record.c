/*
 * test-record: the results store (record.c) and the dashboard generated
 * from it (publish.c), each test on a fresh private state directory.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/fsutil.h"
#include "publish/publish.h"
#include "store/record.h"
#include "lib/xmalloc.h"

#define XSS "<script>alert(1)</script>"
#define XSS_ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;"

static char tmpdir[PATH_MAX];

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-record.XXXXXX",
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

static char *tmp_path(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

static struct record *open_store(void)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	char *state = tmp_path("state");

	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(record_dir(r), state);
	free(state);
	strbuf_release(&err);
	return r;
}

/* A run with every field distinct, so a swapped column shows. */
static struct record_run make_run(const char *tag, const char *kernel_id,
				  const char *cell, enum verdict v,
				  double started_at)
{
	struct record_run run = { 0 };

	run.batch = xstrfmt("batch-%s", tag);
	run.kernel_id = xstrdup(kernel_id);
	run.kernel_path = xstrfmt("/boot/vmlinuz-%s", tag);
	run.kernel_version = xstrfmt("6.1.0-%s-amd64 (debian-kernel@lists."
				     "debian.org) #1 SMP", tag);
	run.cell = xstrdup(cell);
	run.matrix_path = xstrfmt("/m/%s.yaml", tag);
	run.verdict = v;
	run.reason = xstrfmt("reason %s", tag);
	run.line = xstrfmt("[    1.0] line %s", tag);
	run.started_at = started_at;
	run.duration_s = 2.5 + started_at / 1e9;
	run.log_path = xstrfmt("%s/log-%s.txt", tmpdir, tag);
	run.nonce = xstrfmt("nonce-%s", tag);
	run.qemu_version = xstrfmt("10.0 (Debian 1:10.0.%s)", tag);
	run.xen_version = xstrfmt("4.20.%s-pre", tag);
	run.env_key = xstrfmt("env-%s", tag);
	run.hv_build = xstrfmt("hv-%s", tag);
	return run;
}

static void add_run(struct record *r, struct record_run *run)
{
	struct strbuf err = STRBUF_INIT;

	if (record_add_run(r, run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	ck_assert_int_gt(run->id, 0);
	strbuf_release(&err);
}

static void assert_run_eq(const struct record_run *got,
			  const struct record_run *want)
{
	ck_assert_int_eq(got->id, want->id);
	ck_assert_str_eq(got->batch, want->batch);
	ck_assert_str_eq(got->kernel_id, want->kernel_id);
	ck_assert_str_eq(got->kernel_path, want->kernel_path);
	ck_assert_str_eq(got->kernel_version, want->kernel_version);
	ck_assert_str_eq(got->cell, want->cell);
	ck_assert_str_eq(got->matrix_path, want->matrix_path);
	ck_assert_int_eq(got->verdict, want->verdict);
	ck_assert_str_eq(got->reason, want->reason);
	ck_assert_str_eq(got->line, want->line);
	ck_assert_double_eq(got->started_at, want->started_at);
	ck_assert_double_eq(got->duration_s, want->duration_s);
	ck_assert_str_eq(got->log_path, want->log_path);
	ck_assert_str_eq(got->nonce, want->nonce);
	ck_assert_str_eq(got->qemu_version, want->qemu_version);
	ck_assert_str_eq(got->xen_version, want->xen_version);
	ck_assert_str_eq(got->env_key, want->env_key);
	ck_assert_str_eq(got->hv_build, want->hv_build);
}

static void list_runs(struct record *r, struct record_run **runs, size_t *n)
{
	struct strbuf err = STRBUF_INIT;

	if (record_list_runs(r, runs, n, &err))
		ck_abort_msg("record_list_runs: %s", err.buf);
	strbuf_release(&err);
}

START_TEST(test_add_and_list)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", "q35", VERDICT_PASS, 100.5);
	struct record_run b = make_run("b", "bbbb", "xen", VERDICT_FAIL, 300.5);
	struct record_run c = make_run("c", "cccc", "kvm", VERDICT_SKIP, 200);
	struct record_run d = make_run("d", "dddd", "pc", VERDICT_BLOCKED, 200);
	struct record_run *runs;
	size_t n;

	/* Inserted out of time order: the list must sort, not echo. */
	add_run(r, &a);
	add_run(r, &b);
	add_run(r, &c);
	add_run(r, &d);
	ck_assert_int_ne(a.id, b.id);
	ck_assert_int_gt(d.id, c.id);

	list_runs(r, &runs, &n);
	ck_assert_uint_eq(n, 4);
	assert_run_eq(&runs[0], &b);
	/* Same started_at: the later insert (higher id) first. */
	assert_run_eq(&runs[1], &d);
	assert_run_eq(&runs[2], &c);
	assert_run_eq(&runs[3], &a);

	record_runs_free(runs, n);
	record_run_release(&a);
	record_run_release(&b);
	record_run_release(&c);
	record_run_release(&d);
	record_close(r);
}
END_TEST

START_TEST(test_survives_reopen)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", "q35", VERDICT_ERROR, 42);
	struct record_run *runs;
	size_t n;

	add_run(r, &a);
	record_close(r);

	r = open_store();
	list_runs(r, &runs, &n);
	ck_assert_uint_eq(n, 1);
	assert_run_eq(&runs[0], &a);
	record_runs_free(runs, n);
	record_run_release(&a);
	record_close(r);
}
END_TEST

/* One text value from a separate connection, as another process sees it. */
static char *query_text(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *res;

	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE,
					 NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	res = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return res;
}

START_TEST(test_wal_and_layout)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", "q35", VERDICT_FAIL, 1);
	char *db = tmp_path("state/hvmatrix.db");
	char *logs = tmp_path("state/logs");
	struct stat st;
	char *s;

	add_run(r, &a);
	ck_assert_int_eq(stat(logs, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));

	s = query_text(db, "PRAGMA journal_mode");
	ck_assert_str_eq(s, "wal");
	free(s);
	s = query_text(db, "SELECT value FROM meta WHERE key = "
		       "'schema_version'");
	ck_assert_str_eq(s, "10");
	free(s);
	/* The store keeps verdict names, not enum numbers. */
	s = query_text(db, "SELECT verdict FROM runs");
	ck_assert_str_eq(s, "FAIL");
	free(s);

	record_run_release(&a);
	record_close(r);
	free(db);
	free(logs);
}
END_TEST

START_TEST(test_rejects_bad_runs)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", "q35", VERDICT_NONE, 1);
	struct record_run b = make_run("b", "bbbb", "q35", VERDICT_PASS, 2);
	struct strbuf err = STRBUF_INIT;
	struct record_run *runs;
	size_t n;

	ck_assert_int_eq(record_add_run(r, &a, &err), -1);
	ck_assert_uint_gt(err.len, 0);
	strbuf_reset(&err);
	a.verdict = (enum verdict)42;
	ck_assert_int_eq(record_add_run(r, &a, &err), -1);
	ck_assert_uint_gt(err.len, 0);
	strbuf_reset(&err);

	/* A nonce is recorded once; the error names the database. */
	add_run(r, &b);
	ck_assert_int_eq(record_add_run(r, &b, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "hvmatrix.db"));
	ck_assert_ptr_nonnull(strstr(err.buf, "UNIQUE"));

	/* Nothing half-written, and the store still takes runs. */
	list_runs(r, &runs, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(runs[0].nonce, "nonce-b");
	record_runs_free(runs, n);
	free(b.nonce);
	b.nonce = xstrdup("nonce-b2");
	add_run(r, &b);

	strbuf_release(&err);
	record_run_release(&a);
	record_run_release(&b);
	record_close(r);
}
END_TEST

START_TEST(test_refuses_unknown_schema)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	char *db_path = tmp_path("state/hvmatrix.db");
	char *state = tmp_path("state");
	sqlite3 *db;

	record_close(r);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE "
				      "key = 'schema_version'", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);

	r = NULL;
	ck_assert_int_eq(record_open(&r, state, &err), -1);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(err.buf, db_path));
	ck_assert_ptr_nonnull(strstr(err.buf, "schema version 99"));

	strbuf_release(&err);
	free(db_path);
	free(state);
}
END_TEST

START_TEST(test_state_dir_precedence)
{
	char cwd[PATH_MAX];
	char *want, *s;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	want = xstrfmt("%s/hvmatrix-state", cwd);

	unsetenv("HVMATRIX_STATE");
	s = record_state_dir(NULL);
	ck_assert_str_eq(s, want);
	free(s);

	setenv("HVMATRIX_STATE", "", 1);
	s = record_state_dir(NULL);
	ck_assert_str_eq(s, want);
	free(s);

	setenv("HVMATRIX_STATE", "/from/env", 1);
	s = record_state_dir(NULL);
	ck_assert_str_eq(s, "/from/env");
	free(s);

	s = record_state_dir("/from/opt");
	ck_assert_str_eq(s, "/from/opt");
	free(s);

	free(want);
}
END_TEST

/* Publish to tmpdir/site; returns index.html's contents. */
static char *publish(struct record *r)
{
	struct strbuf err = STRBUF_INIT, html = STRBUF_INIT;
	char *out = tmp_path("site");
	char *want = tmp_path("site/index.html");
	char *index = NULL;

	if (publish_dashboard(r, out, &index, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	ck_assert_ptr_nonnull(index);
	ck_assert_int_eq(index[0], '/');
	ck_assert_str_eq(index, want);
	ck_assert_int_eq(fsutil_read(index, &html), 0);
	free(index);
	free(want);
	free(out);
	strbuf_release(&err);
	return strbuf_detach(&html, NULL);
}

/* The grid table alone, so runs listed below it cannot satisfy a check. */
static char *grid_of(const char *html)
{
	const char *start = strstr(html, "<table class=\"grid\">");
	const char *end;

	ck_assert_ptr_nonnull(start);
	end = strstr(start, "</table>");
	ck_assert_ptr_nonnull(end);
	return xstrndup(start, (size_t)(end - start));
}

static void write_file(const char *path, const char *text)
{
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
}

/* A page of the site (rel under tmpdir, freed here). */
static char *read_page(char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = tmp_path(rel);

	if (fsutil_read(path, &sb) < 0)
		ck_abort_msg("%s: cannot read", path);
	free(path);
	free(rel);
	return strbuf_detach(&sb, NULL);
}

START_TEST(test_publish_escapes)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", XSS "&x", VERDICT_FAIL, 5);
	char *css = tmp_path("site/style.css");
	char *html, *page, *cell;
	struct stat st;

	free(a.reason);
	a.reason = xstrdup("oops " XSS " & more");
	free(a.line);
	a.line = xstrdup("line " XSS);
	free(a.kernel_version);
	a.kernel_version = xstrdup(XSS " #1");
	free(a.kernel_path);
	a.kernel_path = xstrdup("/k/\"" XSS);
	write_file(a.log_path, "boot " XSS "\n");
	add_run(r, &a);

	html = publish(r);
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "alert(1)</"));
	ck_assert_ptr_nonnull(strstr(html, XSS_ESCAPED "&amp;x"));
	ck_assert_ptr_nonnull(strstr(html, "c-bad"));
	/* The run page: reason, line, kernel, log, all escaped. */
	page = read_page(xstrfmt("site/run/%lld.html", (long long)a.id));
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_nonnull(strstr(page, "oops " XSS_ESCAPED " &amp; more"));
	ck_assert_ptr_nonnull(strstr(page, "/k/&quot;" XSS_ESCAPED));
	ck_assert_ptr_nonnull(strstr(page, "</a>boot " XSS_ESCAPED));
	/* A cell name is a file name too: made safe. */
	cell = tmp_path("site/cell/_script_alert_1___script__x.html");
	ck_assert_int_eq(stat(cell, &st), 0);
	/* Self-contained: the stylesheet is next to the page. */
	ck_assert_int_eq(stat(css, &st), 0);
	ck_assert_int_gt(st.st_size, 0);
	ck_assert_ptr_null(strstr(html, "http://"));
	ck_assert_ptr_null(strstr(html, "https://"));

	free(html);
	free(page);
	free(cell);
	free(css);
	record_run_release(&a);
	record_close(r);
}
END_TEST

START_TEST(test_publish_latest_per_cell)
{
	struct record *r = open_store();
	/* The newer run is inserted first: latest means started_at. */
	struct record_run newer = make_run("new", "aaaa", "q35",
					   VERDICT_FAIL, 2000);
	struct record_run older = make_run("old", "aaaa", "q35",
					   VERDICT_PASS, 1000);
	char *html, *grid, *page;

	add_run(r, &newer);
	add_run(r, &older);
	html = publish(r);
	grid = grid_of(html);
	ck_assert_ptr_nonnull(strstr(grid, "c-bad"));
	ck_assert_ptr_null(strstr(grid, "c-ok"));
	ck_assert_ptr_nonnull(strstr(grid, "2 runs"));
	/* Both runs are on the kernel's page. */
	page = read_page(xstrdup("site/commit/k-aaaa.html"));
	ck_assert_ptr_nonnull(strstr(page, "reason new"));
	ck_assert_ptr_nonnull(strstr(page, "reason old"));
	ck_assert_ptr_nonnull(strstr(page, "1970-01-01T00:16:40Z"));

	free(page);
	free(grid);
	free(html);
	record_run_release(&newer);
	record_run_release(&older);
	record_close(r);
}
END_TEST

START_TEST(test_publish_order)
{
	struct record *r = open_store();
	/* An old kernel's batch ran "bb" then "mm"; the new kernel's batch
	 * booted "zz" before "aa". */
	struct record_run k1b = make_run("k1b", "1111111111111111", "bb",
					 VERDICT_PASS, 10);
	struct record_run k1a = make_run("k1a", "1111111111111111", "mm",
					 VERDICT_PASS, 11);
	struct record_run k2z = make_run("k2z", "2222222222222222", "zz",
					 VERDICT_PASS, 20);
	struct record_run k2a = make_run("k2a", "2222222222222222", "aa",
					 VERDICT_PASS, 21);
	char *html, *grid, *p1, *p2, *zz, *aa, *bb, *mm;

	add_run(r, &k1b);
	add_run(r, &k1a);
	add_run(r, &k2z);
	add_run(r, &k2a);
	html = publish(r);
	grid = grid_of(html);

	/* Rows: newest kernel first, by its 12-char id. */
	p2 = strstr(grid, "<code class=\"kid\">222222222222</code>");
	p1 = strstr(grid, "<code class=\"kid\">111111111111</code>");
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);
	ck_assert(p2 < p1);
	/* Columns: in the order the cells were first run (a matrix's). */
	zz = strstr(grid, ">zz</a>");
	aa = strstr(grid, ">aa</a>");
	bb = strstr(grid, ">bb</a>");
	mm = strstr(grid, ">mm</a>");
	ck_assert_ptr_nonnull(zz);
	ck_assert_ptr_nonnull(aa);
	ck_assert_ptr_nonnull(bb);
	ck_assert_ptr_nonnull(mm);
	ck_assert(bb < mm);
	ck_assert(mm < zz);
	ck_assert(zz < aa);
	/* Nothing broke: the front page says so first. */
	ck_assert_ptr_nonnull(strstr(html, "0 open regressions"));

	free(grid);
	free(html);
	record_run_release(&k1a);
	record_run_release(&k1b);
	record_run_release(&k2z);
	record_run_release(&k2a);
	record_close(r);
}
END_TEST

START_TEST(test_publish_copies_log)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", "q35", VERDICT_PASS, 7);
	char *page, *link, *html;

	write_file(a.log_path, "Linux version 6.1\nHVMATRIX-OK\n");
	add_run(r, &a);
	html = publish(r);
	page = read_page(xstrfmt("site/run/%lld.html", (long long)a.id));
	link = xstrfmt("href=\"run/%lld.html\"", (long long)a.id);
	ck_assert_ptr_nonnull(strstr(page, "<span id=\"L1\"><a class=\"ln\" "
				     "href=\"#L1\">1</a>Linux version 6.1"
				     "</span>\n<span id=\"L2\">"));
	ck_assert_ptr_nonnull(strstr(html, link));

	free(page);
	free(link);
	free(html);
	record_run_release(&a);
	record_close(r);
}
END_TEST

START_TEST(test_publish_missing_log)
{
	struct record *r = open_store();
	struct record_run a = make_run("a", "aaaa", "q35", VERDICT_FAIL, 7);
	struct record_run b = make_run("b", "bbbb", "q35", VERDICT_PASS, 8);
	char *copy, *link, *html, *grid;
	struct stat st;

	free(b.log_path);
	b.log_path = xstrdup("");
	add_run(r, &a);		/* its log file was never written */
	add_run(r, &b);		/* no log at all */
	html = publish(r);
	copy = xstrfmt("%s/site/run/%lld.html", tmpdir, (long long)a.id);
	link = xstrfmt("run/%lld.html", (long long)a.id);
	ck_assert_int_ne(stat(copy, &st), 0);
	ck_assert_ptr_null(strstr(html, link));
	grid = grid_of(html);
	ck_assert_ptr_nonnull(strstr(grid, "<span>FAIL</span>"));
	ck_assert_ptr_nonnull(strstr(grid, "<span>ok</span>"));

	free(grid);
	free(copy);
	free(link);
	free(html);
	record_run_release(&a);
	record_run_release(&b);
	record_close(r);
}
END_TEST

START_TEST(test_publish_empty)
{
	struct record *r = open_store();
	char *html = publish(r);

	ck_assert_ptr_nonnull(strstr(html, "No runs recorded yet"));
	/* Every placeholder was filled. */
	ck_assert_ptr_null(strstr(html, "@BODY@"));
	ck_assert_ptr_null(strstr(html, "@TITLE@"));
	ck_assert_ptr_null(strstr(html, "@BASE@"));
	free(html);
	record_close(r);
}
END_TEST

/* A version-1 store (before the daemon) is migrated; its runs stay. */
START_TEST(test_migrates_v1)
{
	char *state = tmp_path("state"), *db_path;
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	struct record_run *runs;
	sqlite3 *db;
	size_t n;
	char *s;

	ck_assert_int_eq(fsutil_mkdir_p(state, 0755), 0);
	db_path = tmp_path("state/hvmatrix.db");
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
		"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT "
		"NOT NULL); INSERT INTO meta VALUES ('schema_version', '1');"
		"CREATE TABLE runs (id INTEGER PRIMARY KEY, batch TEXT NOT NULL,"
		" kernel_id TEXT NOT NULL, kernel_path TEXT NOT NULL DEFAULT '',"
		" kernel_version TEXT NOT NULL DEFAULT '', cell TEXT NOT NULL,"
		" matrix_path TEXT NOT NULL DEFAULT '', verdict TEXT NOT NULL,"
		" reason TEXT NOT NULL DEFAULT '', line TEXT NOT NULL DEFAULT "
		"'', started_at REAL NOT NULL, duration_s REAL NOT NULL DEFAULT"
		" 0, log_path TEXT NOT NULL DEFAULT '', nonce TEXT UNIQUE);"
		"INSERT INTO runs (batch, kernel_id, cell, verdict, started_at)"
		" VALUES ('b1', 'k1', 'q35', 'PASS', 1);", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	list_runs(r, &runs, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(runs[0].kernel_id, "k1");
	ck_assert_str_eq(runs[0].commit_id, "");
	/* Runs from before schema 6 do not know their releases. */
	ck_assert_str_eq(runs[0].qemu_version, "");
	ck_assert_str_eq(runs[0].xen_version, "");
	/* ... nor, before schema 9, what they booted in. */
	ck_assert_str_eq(runs[0].env_key, "");
	ck_assert_str_eq(runs[0].hv_build, "");
	record_runs_free(runs, n);
	record_close(r);
	s = query_text(db_path, "SELECT value FROM meta WHERE key = "
		       "'schema_version'");
	ck_assert_str_eq(s, "10");
	free(s);
	strbuf_release(&err);
	free(db_path);
	free(state);
}
END_TEST

static struct record_commit commit_of(const char *id)
{
	struct record_commit c = {
		(char *)id, (char *)"subject <b>", (char *)"A <a@b>", 1000,
		(char *)"",
	};

	return c;
}

static void enqueue(struct record *r, const char *tree, const char **ids,
		    size_t n, int64_t batch, int tip_prio, size_t want_new)
{
	struct record_commit c[8];
	char *builds[] = { (char *)"tiny" };
	struct strbuf err = STRBUF_INIT;
	size_t i, added = 99;

	for (i = 0; i < n; i++)
		c[i] = commit_of(ids[i]);
	if (record_queue_add(r, tree, c, n, builds, 1, batch, tip_prio, 0,
			     &added,
			     &err))
		ck_abort_msg("record_queue_add: %s", err.buf);
	ck_assert_uint_eq(added, want_new);
	strbuf_release(&err);
}

/* Take the next job and check which commit it is. */
static int64_t take(struct record *r, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	struct record_job j;
	int64_t id;
	int rc = record_queue_job_next(r, 0, &j, &err);

	if (!want) {
		ck_assert_int_eq(rc, 0);
		return 0;
	}
	ck_assert_msg(rc == 1, "record_queue_job_next: %d %s", rc, err.buf);
	ck_assert_str_eq(j.commit_id, want);
	ck_assert_int_eq(j.state, RECORD_JOB_RUNNING);
	id = j.id;
	record_queue_job_release(&j);
	strbuf_release(&err);
	return id;
}

START_TEST(test_queue_order_and_no_duplicates)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	const char *first[] = { "c1", "c2", "c3" };
	const char *again[] = { "c2", "c3", "c4", "c5" };
	char **known;
	size_t n;
	int64_t id;

	enqueue(r, "t", first, 3, 1, RECORD_PRIORITY_NORMAL, 3);
	/* A second poll (a force-push sharing c2, c3): only the new ones. */
	enqueue(r, "t", again, 4, 2, RECORD_PRIORITY_TIP, 2);
	/* The same commits in another tree are another tree's jobs. */
	enqueue(r, "u", first, 1, 3, RECORD_PRIORITY_NORMAL, 1);
	ck_assert_int_eq(record_queue_known_commits(r, "t", &known, &n, &err),
			 0);
	ck_assert_uint_eq(n, 5);
	record_strings_free(known, n);

	/* The tip of batch 2 first, then newer batches, oldest first in a
	 * batch. */
	take(r, "c5");
	take(r, "c1");
	take(r, "c4");
	id = take(r, "c1");
	ck_assert_int_eq(record_queue_job_finish(r, id, &err), 0);
	take(r, "c2");
	take(r, "c3");
	take(r, NULL);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

START_TEST(test_queue_recover_after_crash)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	const char *ids[] = { "c1", "c2" };
	struct record_job *jobs;
	int64_t a, b;
	int *pgids;
	size_t n;

	enqueue(r, "t", ids, 2, 1, RECORD_PRIORITY_NORMAL, 2);
	a = take(r, "c1");
	ck_assert_int_eq(record_queue_job_set_pgid(r, a, 4242, &err), 0);
	ck_assert_int_eq(record_queue_job_finish(r, a, &err), 0);
	b = take(r, "c2");
	ck_assert_int_eq(record_queue_job_set_pgid(r, b, 777, &err), 0);
	/* "kill -9": the store is reopened with c2 running. */
	record_close(r);
	r = open_store();
	ck_assert_int_eq(record_queue_jobs_recover(r, &pgids, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pgids[0], 777);
	free(pgids);
	ck_assert_int_eq(record_queue_list_jobs(r, RECORD_JOB_QUEUED, &jobs, &n,
						&err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(jobs[0].commit_id, "c2");
	ck_assert_int_eq(jobs[0].attempts, 1);
	ck_assert_str_eq(jobs[0].subject, "subject <b>");
	record_queue_jobs_free(jobs, n);
	ck_assert_int_eq(record_queue_list_jobs(r, RECORD_JOB_DONE, &jobs, &n,
						&err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(jobs[0].pgid, 0);
	record_queue_jobs_free(jobs, n);
	take(r, "c2");
	take(r, NULL);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

START_TEST(test_enqueue_one_raises_and_requeues)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	const char *ids[] = { "c1", "c2" };
	struct record_commit c = commit_of("c1");
	int64_t id, job;

	enqueue(r, "t", ids, 2, 1, RECORD_PRIORITY_NORMAL, 2);
	id = take(r, "c1");
	ck_assert_int_eq(record_queue_job_finish(r, id, &err), 0);
	ck_assert_int_eq(record_queue_add_one(r, "t", &c, "tiny",
					      RECORD_PRIORITY_MANUAL, &job,
					      &err), 0);
	ck_assert_int_eq(job, id);
	/* Done, queued again, and ahead of c2. */
	take(r, "c1");
	take(r, "c2");
	strbuf_release(&err);
	record_close(r);
}
END_TEST

START_TEST(test_tips_builds_and_cells_done)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_build b = { 0 }, got;
	struct record_run run = make_run("a", "k", "q35", VERDICT_PASS, 1);
	struct record_run blocked = make_run("b", "", "pc", VERDICT_BLOCKED,
					     2);
	char tip[41], **cells;
	size_t n;

	ck_assert_int_eq(record_queue_get_tip(r, "t", "master", tip, &err), 0);
	ck_assert_int_eq(record_queue_set_tip(r, "t", "master", "c9", &err), 0);
	ck_assert_int_eq(record_queue_get_tip(r, "t", "master", tip, &err), 1);
	ck_assert_str_eq(tip, "c9");

	ck_assert_int_eq(record_build_last(r, "t", "c9", "tiny", &got, &err),
			 0);
	b.tree = (char *)"t";
	b.commit_id = (char *)"c9";
	b.build = (char *)"tiny";
	b.status = RECORD_BUILD_FAILED;
	b.errors = (char *)"init/main.c:1:1: error: x";
	ck_assert_int_eq(record_build_add(r, &b, &err), 0);
	ck_assert_int_eq(record_build_last(r, "t", "c9", "tiny", &got, &err),
			 1);
	ck_assert_int_eq(got.status, RECORD_BUILD_FAILED);
	ck_assert_str_eq(got.errors, "init/main.c:1:1: error: x");
	ck_assert_str_eq(got.log_path, "");
	record_build_release(&got);

	run.tree = xstrdup("t");
	run.commit_id = xstrdup("c9");
	run.build = xstrdup("tiny");
	add_run(r, &run);
	/* BLOCKED: no kernel, but a commit. */
	blocked.tree = xstrdup("t");
	blocked.commit_id = xstrdup("c9");
	blocked.build = xstrdup("tiny");
	add_run(r, &blocked);
	ck_assert_int_eq(record_build_cells_done(r, "t", "c9", "tiny", &cells,
						 &n,
						 &err), 0);
	ck_assert_uint_eq(n, 2);
	record_strings_free(cells, n);
	ck_assert_int_eq(record_build_cells_done(r, "t", "c9", "other", &cells,
						 &n,
						 &err), 0);
	ck_assert_uint_eq(n, 0);
	record_run_release(&run);
	record_run_release(&blocked);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

/* Built commits are rows of their own, BLOCKED ones (no image) too, and
 * their subjects (user input) are escaped. */
START_TEST(test_publish_commit_rows)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_commit c1 = {
		(char *)"1111111111111111111111111111111111111111",
		(char *)"good " XSS, (char *)"a <a@b>", 1, (char *)"",
	};
	struct record_commit c2 = {
		(char *)"2222222222222222222222222222222222222222",
		(char *)"breaks the build", (char *)"a <a@b>", 2, c1.id,
	};
	struct record_run a = make_run("a", "kkkk", "q35", VERDICT_PASS, 1);
	struct record_run b = make_run("b", "", "q35", VERDICT_BLOCKED, 2);
	struct record_run c = make_run("c", "", "pc", VERDICT_BLOCKED, 3);
	char *builds[] = { (char *)"tiny" };
	char *html, *grid;
	size_t rows = 0;
	const char *p;

	ck_assert_int_eq(record_queue_add(r, "demo", &c1, 1, builds, 1, 1, 0, 0,
					  NULL, &err), 0);
	ck_assert_int_eq(record_queue_add(r, "demo", &c2, 1, builds, 1, 1, 0, 0,
					  NULL, &err), 0);
	a.tree = xstrdup("demo");
	a.commit_id = xstrdup(c1.id);
	a.build = xstrdup("tiny");
	b.tree = xstrdup("demo");
	b.commit_id = xstrdup(c2.id);
	b.build = xstrdup("tiny");
	c.tree = xstrdup("demo");
	/* Another BLOCKED commit: a row of its own, not the other's. */
	c.commit_id = xstrdup("3333333333333333333333333333333333333333");
	c.build = xstrdup("tiny");
	add_run(r, &a);
	add_run(r, &b);
	add_run(r, &c);
	html = publish(r);
	grid = grid_of(html);
	for (p = grid; (p = strstr(p, "<th scope=\"row\"")); p++)
		rows++;
	ck_assert_uint_eq(rows, 3);
	ck_assert_ptr_nonnull(strstr(grid, "222222222222"));
	ck_assert_ptr_nonnull(strstr(grid, "333333333333"));
	ck_assert_ptr_nonnull(strstr(grid, "breaks the build"));
	ck_assert_ptr_nonnull(strstr(grid, "good " XSS_ESCAPED));
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_nonnull(strstr(grid, "c-blk"));
	free(grid);
	free(html);
	record_run_release(&a);
	record_run_release(&b);
	record_run_release(&c);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

static Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *store = tcase_create("store");
	TCase *site = tcase_create("publish");

	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, test_add_and_list);
	tcase_add_test(store, test_survives_reopen);
	tcase_add_test(store, test_wal_and_layout);
	tcase_add_test(store, test_rejects_bad_runs);
	tcase_add_test(store, test_refuses_unknown_schema);
	tcase_add_test(store, test_state_dir_precedence);
	tcase_add_test(store, test_migrates_v1);
	tcase_add_test(store, test_queue_order_and_no_duplicates);
	tcase_add_test(store, test_queue_recover_after_crash);
	tcase_add_test(store, test_enqueue_one_raises_and_requeues);
	tcase_add_test(store, test_tips_builds_and_cells_done);
	suite_add_tcase(s, store);

	tcase_add_checked_fixture(site, setup, teardown);
	tcase_add_test(site, test_publish_escapes);
	tcase_add_test(site, test_publish_latest_per_cell);
	tcase_add_test(site, test_publish_order);
	tcase_add_test(site, test_publish_copies_log);
	tcase_add_test(site, test_publish_missing_log);
	tcase_add_test(site, test_publish_empty);
	tcase_add_test(site, test_publish_commit_rows);
	suite_add_tcase(s, site);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(record_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
