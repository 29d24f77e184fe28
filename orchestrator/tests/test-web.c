/*
 * test-web: the compatibility web's views (compare/web-table.c, `hvmatrix
 * web --json`, the dashboard's web.html, the KCIDB export's checkouts of
 * released kernels) on a store with known web runs: five kernel releases,
 * QEMU and Xen cells of several releases, a cell the matrix lacks (placed
 * by its runs' Xen version), a rebuilt hypervisor (a second hv_build) and
 * runs that are not the web's. Every class, the column order, the support
 * windows and the version sorts are asserted exactly. Nothing boots.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare/web-table.h"
#include "export/kcidb.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "matrix/hypervisors.h"
#include "matrix/matrix.h"
#include "publish/publish.h"
#include "store/record.h"
#include "lib/xmalloc.h"

static char tmpdir[PATH_MAX];
static char *matrix_path;	/* the runs' matrix, for the dashboard */

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	char *empty;

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-web.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	unsetenv("HVMATRIX_STATE");
	setenv("HVMATRIX_WEB", HVM_DATADIR "/web", 1);
	/* No catalogue: the matrix's releases are names, nothing runs. */
	empty = xstrfmt("%s/catalogue", tmpdir);
	ck_assert_int_eq(mkdir(empty, 0755), 0);
	setenv("HVMATRIX_HYPERVISORS_DIR", empty, 1);
	free(empty);
	matrix_path = xstrfmt("%s/web.yaml", tmpdir);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(matrix_path);
}

/* Cell names sort otherwise than their releases do (as strings
 * "qemu-10.0" < "qemu-5.2", "4.14" < "4.20" < "4.9"). */
static const char matrix_yaml[] =
	"version: 1\n"
	"cells:\n"
	"  - name: qemu-11.1\n"
	"    qemu: \"11.1\"\n"
	"  - name: qemu-10.0\n"
	"    qemu: \"10.0\"\n"
	"  - name: qemu-7.2-q35\n"
	"    qemu: \"7.2\"\n"
	"    machine: q35\n"
	"  - name: qemu-7.2-pc\n"
	"    qemu: \"7.2\"\n"
	"  - name: qemu-5.2\n"
	"    qemu: \"5.2\"\n"
	"  - name: xen-4.20\n"
	"    backend: xen\n"
	"    xen: \"4.20\"\n"
	"  - name: xen-4.14\n"
	"    backend: xen\n"
	"    xen: \"4.14\"\n";

#define K54 "5400000000000000000000000000000000000000000000000000000000000054"
#define K510 "5100000000000000000000000000000000000000000000000000000000000510"
#define K61 "6100000000000000000000000000000000000000000000000000000000000061"
#define K612 "6120000000000000000000000000000000000000000000000000000000000612"
#define K73 "7300000000000000000000000000000000000000000000000000000000000073"

/* Inserted out of order: the rows must come out by release. */
static const char kernels_sql[] =
	"INSERT INTO web_kernels VALUES ('" K612 "', '6.12', "
	"'linux-image-6.12.117+deb13-amd64-unsigned', '6.12.117+deb13', "
	"'/k/6.12', 5);"
	"INSERT INTO web_kernels VALUES ('" K73 "', '7.3', "
	"'linux-binary-7.3.4+deb13-amd64', '7.3.4+deb13', '/k/7.3', 4);"
	"INSERT INTO web_kernels VALUES ('" K510 "', '5.10', "
	"'linux-image-5.10.0-46-amd64-unsigned', '5.10.262-1', "
	"'/k/5.10', 3);"
	"INSERT INTO web_kernels VALUES ('" K54 "', '5.4', "
	"'linux-image-5.4.0-1-amd64-unsigned', '5.4.0-1 <b>', "
	"'/k/5.4', 2);"
	"INSERT INTO web_kernels VALUES ('" K61 "', '6.1', "
	"'linux-image-6.1.0-40-amd64-unsigned', '6.1.153-1', "
	"'/k/6.1', 1);";

static int64_t add(struct record *r, const char *tree, const char *commit,
		   const char *cell, enum verdict v, double t,
		   const char *hv_build)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };
	int xen = !strncmp(cell, "xen", 3) || !strncmp(cell, "old", 3);

	run.batch = (char *)"b";
	run.kernel_id = (char *)commit;
	run.cell = (char *)cell;
	run.matrix_path = matrix_path;
	run.verdict = v;
	run.reason = (char *)"why";
	run.line = xstrfmt("%s in %s <script>", verdict_name(v), cell);
	run.started_at = t;
	run.tree = (char *)tree;
	run.commit_id = (char *)commit;
	run.build = (char *)tree;
	run.purpose = (char *)"web";
	run.qemu_version = (char *)(xen ? "7.2 (Debian 1:7.2+dfsg-7)" : "");
	run.xen_version = (char *)(!strncmp(cell, "old", 3) ? "4.9.4-pre" :
				   xen ? "4.20.1" : "");
	run.hv_build = (char *)hv_build;
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	free(run.line);
	strbuf_release(&err);
	return run.id;
}

/* The store: what each kernel does where (the latest build's runs). */
static struct record *make_store(void)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	char *state = xstrfmt("%s/state", tmpdir);
	char *db_path = xstrfmt("%s/hvmatrix.db", state);
	const char *all[] = { "qemu-5.2", "qemu-7.2-pc", "qemu-7.2-q35",
			      "qemu-10.0", "qemu-11.1", "xen-4.14",
			      "xen-4.20" };
	sqlite3 *db;
	double t = 1000;
	size_t i;

	ck_assert_int_eq(fsutil_write_atomic(matrix_path, matrix_yaml,
					   strlen(matrix_yaml)), 0);
	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, kernels_sql, NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	/* 5.4: the old QEMU and Xen releases only. */
	add(r, "release", K54, "qemu-5.2", VERDICT_PASS, t++, "q52");
	add(r, "release", K54, "qemu-7.2-pc", VERDICT_PASS, t++, "q72");
	add(r, "release", K54, "qemu-7.2-q35", VERDICT_PASS, t++, "q72");
	add(r, "release", K54, "qemu-10.0", VERDICT_FAIL, t++, "q100");
	add(r, "release", K54, "qemu-11.1", VERDICT_FAIL, t++, "q111");
	add(r, "release", K54, "xen-4.14", VERDICT_PASS, t++, "x414");
	add(r, "release", K54, "xen-4.20", VERDICT_FAIL, t++, "x420");
	/* 5.10: everywhere, flaky under Xen 4.20, and in a cell the
	 * matrix no longer has (Xen 4.9 by its runs). */
	for (i = 0; i < 5; i++)
		add(r, "release", K510, all[i], VERDICT_PASS, t++, "b");
	add(r, "release", K510, "xen-4.14", VERDICT_PASS, t++, "x414");
	add(r, "release", K510, "xen-4.20", VERDICT_PASS, t++, "x420");
	add(r, "release", K510, "xen-4.20", VERDICT_FAIL, t++, "x420");
	add(r, "release", K510, "old-xen", VERDICT_PASS, t++, "x49");
	/* 6.1: the farm failed under QEMU 5.2 (ERROR: infra). */
	add(r, "release", K61, "qemu-5.2", VERDICT_ERROR, t++, "q52");
	for (i = 1; i < 7; i++)
		add(r, "release", K61, all[i], VERDICT_PASS, t++, "b");
	/* 6.12: failed under QEMU 5.2's first build, passes under its
	 * rebuild (a new column value, the old runs kept); skipped in one
	 * QEMU 7.2 cell; never passes under Xen 4.14. */
	add(r, "release", K612, "qemu-5.2", VERDICT_FAIL, t++, "q52");
	add(r, "release", K612, "qemu-5.2", VERDICT_FAIL, t++, "q52");
	add(r, "release", K612, "qemu-7.2-pc", VERDICT_PASS, t++, "q72");
	add(r, "release", K612, "qemu-7.2-q35", VERDICT_SKIP, t++, "q72");
	add(r, "release", K612, "qemu-10.0", VERDICT_PASS, t++, "q100");
	add(r, "release", K612, "qemu-11.1", VERDICT_PASS, t++, "q111");
	add(r, "release", K612, "xen-4.14", VERDICT_FAIL, t++, "x414");
	add(r, "release", K612, "xen-4.20", VERDICT_PASS, t++, "x420");
	add(r, "release", K612, "qemu-5.2", VERDICT_PASS, t++, "q52-rebuilt");
	/* 7.3: fails under QEMU 11.1, never ran under Xen 4.14. */
	for (i = 0; i < 4; i++)
		add(r, "release", K73, all[i], VERDICT_PASS, t++, "b");
	add(r, "release", K73, "qemu-11.1", VERDICT_FAIL, t++, "q111");
	add(r, "release", K73, "xen-4.20", VERDICT_PASS, t++, "x420");
	/* Not the web's: a commit of a tree, a release not catalogued. */
	add(r, "linux", "1111111111111111111111111111111111111111",
	    "qemu-5.2", VERDICT_FAIL, t++, "q52");
	add(r, "release", "99", "qemu-5.2", VERDICT_FAIL, t++, "q52");
	free(db_path);
	free(state);
	strbuf_release(&err);
	return r;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* Both are there, a before b. */
static void before(const char *a, const char *b)
{
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_msg(a < b, "out of order: \"%.40s\" after \"%.40s\"",
		      a, b);
}

static void load_matrix(struct matrix *m)
{
	struct strbuf err = STRBUF_INIT;

	if (matrix_load_buf(m, "web.yaml", matrix_yaml,
			    strlen(matrix_yaml), &err) < 0)
		ck_abort_msg("matrix: %s", err.buf);
	strbuf_release(&err);
}

START_TEST(version_sort)
{
	ck_assert_int_lt(web_table_release_cmp("5.2", "7.2"), 0);
	ck_assert_int_lt(web_table_release_cmp("7.2", "10.0"), 0);
	ck_assert_int_lt(web_table_release_cmp("10.0", "11.1"), 0);
	ck_assert_int_gt(web_table_release_cmp("11.1", "5.2"), 0);
	ck_assert_int_lt(web_table_release_cmp("4.14", "4.20"), 0);
	ck_assert_int_lt(web_table_release_cmp("4.9", "4.14"), 0);
	ck_assert_int_eq(web_table_release_cmp("10.0", "10.0"), 0);
	/* A program or path after every release. */
	ck_assert_int_lt(web_table_release_cmp("11.1",
					       "qemu-system-x86_64"), 0);
	ck_assert_int_lt(hypervisors_version_cmp("5.2", "10.0"), 0);
	ck_assert_int_lt(web_table_version_cmp("5.4", "5.10"), 0);
	ck_assert_int_lt(web_table_version_cmp("5.10", "6.1"), 0);
	ck_assert_int_lt(web_table_version_cmp("6.1", "6.12"), 0);
	ck_assert_int_lt(web_table_version_cmp("6.12", "7.3"), 0);
	ck_assert_int_lt(web_table_version_cmp("6.12.9+deb13",
					       "6.12.117+deb13"), 0);
	ck_assert_int_lt(web_table_version_cmp("6.12.117",
					       "6.12.117+deb13"), 0);
	ck_assert_int_eq(web_table_version_cmp("5.010", "5.10"), 0);
	ck_assert_int_lt(web_table_version_cmp("9", "99999999999999999999"),
			 0);
}
END_TEST

/* The table as one line a kernel: its codes, columns in order. */
static void grid(const struct web_table *t, struct strbuf *sb)
{
	size_t k, c;

	for (k = 0; k < t->n_kernels; k++) {
		strbuf_addf(sb, "%s:", t->kernels[k].release);
		for (c = 0; c < t->n_cols; c++) {
			const struct web_table_entry *e =
				web_table_entry(t, k, c);

			strbuf_addf(sb, " %s", web_table_code(e ? e->class :
							      NULL));
		}
		strbuf_addch(sb, '\n');
	}
}

START_TEST(model)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct record *r = make_store();
	struct web_table t;
	struct matrix m;
	const struct web_table_entry *e;
	static const char *const cols[] = {
		"qemu-5.2", "qemu-7.2-pc", "qemu-7.2-q35", "qemu-10.0",
		"qemu-11.1", "old-xen", "xen-4.14", "xen-4.20",
	};
	static const char *const hvs[][2] = {
		{ "qemu", "5.2" }, { "qemu", "7.2" }, { "qemu", "10.0" },
		{ "qemu", "11.1" }, { "xen", "4.9" }, { "xen", "4.14" },
		{ "xen", "4.20" },
	};
	/* oldest, newest kernel per hypervisor release (-1: none) */
	static const int windows[][2] = {
		{ 0, 4 }, { 0, 4 }, { 1, 4 }, { 1, 3 }, { 1, 1 }, { 0, 2 },
		{ 2, 4 },
	};
	/* oldest QEMU, Xen release per kernel, into hvs */
	static const int oldest[][2] = {
		{ 0, 5 }, { 0, 4 }, { 1, 5 }, { 0, 6 }, { 0, 6 },
	};
	size_t i;

	load_matrix(&m);
	if (web_table_load(&t, r, &m, &err) < 0)
		ck_abort_msg("web_table_load: %s", err.buf);
	ck_assert_uint_eq(t.n_kernels, 5);
	ck_assert_uint_eq(t.n_cols, ARRAY_SIZE(cols));
	for (i = 0; i < t.n_cols; i++)
		ck_assert_str_eq(t.cols[i].cell, cols[i]);
	ck_assert_uint_eq(t.n_hvs, ARRAY_SIZE(hvs));
	for (i = 0; i < t.n_hvs; i++) {
		ck_assert_str_eq(web_table_kind_name(t.hvs[i].kind),
				 hvs[i][0]);
		ck_assert_str_eq(t.hvs[i].release, hvs[i][1]);
		ck_assert_int_eq(t.hvs[i].oldest_kernel, windows[i][0]);
		ck_assert_int_eq(t.hvs[i].newest_kernel, windows[i][1]);
	}
	for (i = 0; i < t.n_kernels; i++) {
		ck_assert_int_eq(t.kernels[i].oldest[WEB_TABLE_QEMU],
				 oldest[i][0]);
		ck_assert_int_eq(t.kernels[i].oldest[WEB_TABLE_XEN],
				 oldest[i][1]);
	}
	grid(&t, &sb);
	ck_assert_str_eq(sb.buf,
		"5.4: ok ok ok nvr nvr - ok nvr\n"
		"5.10: ok ok ok ok ok ok ok FLK\n"
		"6.1: inf ok ok ok ok - ok ok\n"
		"6.12: ok ok skp ok ok - nvr ok\n"
		"7.3: ok ok ok ok nvr - - ok\n");
	/* 6.12 under QEMU 5.2: the rebuild's one PASS, not the first
	 * build's two FAILs; both builds counted. */
	e = web_table_entry(&t, 3, 0);
	ck_assert_str_eq(e->class, "pass");
	ck_assert_str_eq(e->hv_build, "q52-rebuilt");
	ck_assert_uint_eq(e->runs, 1);
	ck_assert_uint_eq(e->builds, 2);
	/* 5.10 under Xen 4.20: flaky, its FAIL run named. */
	e = web_table_entry(&t, 1, 7);
	ck_assert_str_eq(e->class, "flaky");
	ck_assert_int_eq(e->verdict, VERDICT_FAIL);
	ck_assert_str_eq(e->line, "FAIL in xen-4.20 <script>");
	ck_assert_uint_eq(e->runs, 2);
	ck_assert_uint_eq(e->builds, 1);
	web_table_release(&t);

	/* Without a matrix every cell is placed by its runs: the Xen
	 * cells by xen_version, the QEMU ones by nothing recorded. */
	if (web_table_load(&t, r, NULL, &err) < 0)
		ck_abort_msg("web_table_load: %s", err.buf);
	ck_assert_uint_eq(t.n_hvs, 3);
	ck_assert_str_eq(t.hvs[0].release, "unknown");
	ck_assert_str_eq(t.hvs[1].release, "4.9");
	ck_assert_str_eq(t.hvs[2].release, "4.20");
	ck_assert_uint_eq(t.hvs[2].n_cols, 2);
	web_table_release(&t);
	/* An empty store: an empty table. */
	ck_assert_int_eq(web_table_load(&t, NULL, &m, &err), 0);
	ck_assert_uint_eq(t.n_kernels + t.n_cols + t.n_hvs, 0);
	web_table_release(&t);
	matrix_release(&m);
	record_close(r);
	strbuf_release(&sb);
	strbuf_release(&err);
}
END_TEST

static const char *str_at(const struct json_value *a, size_t i,
			  const char *key)
{
	ck_assert_uint_gt(a->n, i);
	return json_get_str(&a->items[i], key);
}

START_TEST(json)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct record *r = make_store();
	const struct json_value *ks, *hs, *es, *o, *cells;
	struct json_value v;
	struct web_table t;
	struct matrix m;
	struct json js;
	double num;
	size_t i, n_flaky = 0;
	static const char *const releases[] = {
		"5.4", "5.10", "6.1", "6.12", "7.3",
	};

	load_matrix(&m);
	if (web_table_load(&t, r, &m, &err) < 0)
		ck_abort_msg("web_table_load: %s", err.buf);
	json_init(&js, &out);
	web_table_to_json(&t, &js);
	ck_assert(json_complete(&js));
	if (json_parse(&v, out.buf, out.len, &err) < 0)
		ck_abort_msg("json: %s\n%s", err.buf, out.buf);
	ks = json_get(&v, "kernels");
	hs = json_get(&v, "hypervisors");
	es = json_get(&v, "entries");
	ck_assert_uint_eq(ks->n, 5);
	for (i = 0; i < ks->n; i++)
		ck_assert_str_eq(str_at(ks, i, "release"), releases[i]);
	ck_assert_str_eq(str_at(ks, 0, "version"), "5.4.0-1 <b>");
	ck_assert_str_eq(str_at(ks, 0, "id"), K54);
	ck_assert_str_eq(str_at(ks, 3, "package"),
			 "linux-image-6.12.117+deb13-amd64-unsigned");
	o = json_get(&ks->items[2], "oldest_hypervisor");
	ck_assert_str_eq(json_get_str(o, "qemu"), "7.2");
	ck_assert_str_eq(json_get_str(o, "xen"), "4.14");
	ck_assert_uint_eq(hs->n, 7);
	ck_assert_str_eq(str_at(hs, 1, "kind"), "qemu");
	ck_assert_str_eq(str_at(hs, 1, "release"), "7.2");
	cells = json_get(&hs->items[1], "cells");
	ck_assert_uint_eq(cells->n, 2);
	ck_assert_str_eq(cells->items[0].string, "qemu-7.2-pc");
	ck_assert_str_eq(cells->items[1].string, "qemu-7.2-q35");
	ck_assert_str_eq(str_at(hs, 3, "release"), "11.1");
	ck_assert_str_eq(str_at(hs, 3, "oldest_kernel"), "5.10");
	ck_assert_str_eq(str_at(hs, 3, "newest_kernel"), "6.12");
	ck_assert_str_eq(str_at(hs, 5, "kind"), "xen");
	ck_assert_str_eq(str_at(hs, 5, "release"), "4.14");
	ck_assert_str_eq(str_at(hs, 5, "newest_kernel"), "6.1");
	/* Absent: no entry for a cell without runs. 5 x 8 less 5. */
	ck_assert_uint_eq(es->n, 35);
	for (i = 0; i < es->n; i++) {
		const struct json_value *e = &es->items[i];

		if (strcmp(json_get_str(e, "class"), "flaky"))
			continue;
		n_flaky++;
		ck_assert_str_eq(json_get_str(e, "kernel"), K510);
		ck_assert_str_eq(json_get_str(e, "kernel_release"), "5.10");
		ck_assert_str_eq(json_get_str(e, "cell"), "xen-4.20");
		ck_assert_str_eq(json_get_str(e, "kind"), "xen");
		ck_assert_str_eq(json_get_str(e, "release"), "4.20");
		ck_assert_str_eq(json_get_str(e, "verdict"), "FAIL");
		ck_assert_str_eq(json_get_str(e, "line"),
				 "FAIL in xen-4.20 <script>");
		ck_assert_str_eq(json_get_str(e, "hv_build"), "x420");
		ck_assert(json_get_number(e, "run_id", &num) && num > 0);
		ck_assert(json_get_number(e, "runs", &num) && num == 2);
	}
	ck_assert_uint_eq(n_flaky, 1);
	/* The first entry: 5.4 in QEMU 5.2, row by row, column order. */
	ck_assert_str_eq(str_at(es, 0, "cell"), "qemu-5.2");
	ck_assert_str_eq(str_at(es, 0, "class"), "pass");
	ck_assert_str_eq(str_at(es, 5, "cell"), "xen-4.14");
	json_value_release(&v);
	web_table_release(&t);
	matrix_release(&m);
	record_close(r);
	strbuf_release(&out);
	strbuf_release(&err);
}
END_TEST

START_TEST(dashboard)
{
	struct strbuf err = STRBUF_INIT, html = STRBUF_INIT;
	struct record *r = make_store();
	char *out = xstrfmt("%s/site", tmpdir);
	char *page = xstrfmt("%s/web.html", out);
	char *index = NULL;
	struct stat st1, st2;
	const char *p;
	size_t nvr;

	if (publish_dashboard(r, out, &index, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	ck_assert_int_eq(fsutil_read(index, &html), 0);
	ck_assert_ptr_nonnull(strstr(html.buf, "href=\"web.html\">Web</a>"));
	strbuf_reset(&html);
	ck_assert_int_eq(fsutil_read(page, &html), 0);
	/* The version, escaped; the kernel rows oldest first. */
	ck_assert_ptr_nonnull(strstr(html.buf, "5.4.0-1 &lt;b&gt;"));
	ck_assert_ptr_null(strstr(html.buf, "5.4.0-1 <b>"));
	p = strstr(html.buf, "<b>5.4</b>");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(strstr(p, "<b>5.10</b>"));
	before(strstr(html.buf, "<b>5.10</b>"),
			 strstr(html.buf, "<b>6.1</b>"));
	/* Columns: QEMU before Xen, releases as versions. */
	p = strstr(html.buf, "colspan=\"2\">7.2</th>");
	ck_assert_ptr_nonnull(p);
	before(strstr(html.buf, ">5.2</th>"), p);
	before(p, strstr(html.buf, ">10.0</th>"));
	before(strstr(html.buf, ">10.0</th>"),
			 strstr(html.buf, ">11.1</th>"));
	before(strstr(html.buf, ">4.9</th>"),
			 strstr(html.buf, ">4.14</th>"));
	before(strstr(html.buf, ">4.14</th>"),
			 strstr(html.buf, ">4.20</th>"));
	/* Text codes with the colours: a flaky and a never-passed mark. */
	ck_assert_ptr_nonnull(strstr(html.buf, "class=\"m c-flk\""));
	ck_assert_ptr_nonnull(strstr(html.buf, ">FLK<"));
	nvr = count(html.buf, "<span>nvr</span>");
	ck_assert_uint_eq(nvr, 5);
	ck_assert_ptr_nonnull(strstr(html.buf, "Support windows"));
	/* Every page links it: the releases page too. */
	strbuf_reset(&html);
	free(page);
	page = xstrfmt("%s/releases.html", out);
	ck_assert_int_eq(fsutil_read(page, &html), 0);
	ck_assert_ptr_nonnull(strstr(html.buf, "href=\"web.html\">Web</a>"));
	/* ... which sorts releases as versions: 5.2 before 10.0. */
	p = strstr(html.buf, "<td>5.2</td>");
	ck_assert_ptr_nonnull(p);
	before(p, strstr(html.buf, "<td>10.0</td>"));
	before(strstr(html.buf, "<td>7.2</td>"),
			 strstr(html.buf, "<td>10.0</td>"));

	/* Incremental: unchanged runs leave web.html as it was; a web run
	 * more rewrites it. */
	free(page);
	page = xstrfmt("%s/web.html", out);
	ck_assert_int_eq(stat(page, &st1), 0);
	free(index);
	if (publish_dashboard(r, out, &index, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	ck_assert_int_eq(stat(page, &st2), 0);
	ck_assert_int_eq(st1.st_ino, st2.st_ino);
	ck_assert(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
		  st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
	add(r, "release", K73, "xen-4.14", VERDICT_FAIL, 9000, "x414");
	free(index);
	if (publish_dashboard(r, out, &index, &err))
		ck_abort_msg("publish_dashboard: %s", err.buf);
	strbuf_reset(&html);
	ck_assert_int_eq(fsutil_read(page, &html), 0);
	ck_assert_uint_eq(count(html.buf, "<span>nvr</span>"), nvr + 1);
	free(index);
	free(page);
	free(out);
	record_close(r);
	strbuf_release(&html);
	strbuf_release(&err);
}
END_TEST

START_TEST(kcidb)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct record *r = make_store();
	struct kcidb_opts opts = { 0 };
	struct kcidb_report rep;
	const struct json_value *cs, *bs, *ts;
	struct json_value v;
	struct matrix m;
	size_t i, web_checkouts = 0, web_tests = 0;

	load_matrix(&m);
	if (kcidb_collect(r, &m, &opts, &rep, &err) < 0)
		ck_abort_msg("kcidb_collect: %s", err.buf);
	kcidb_write(&rep, "lab_1", &sb);
	if (json_parse(&v, sb.buf, sb.len, &err) < 0)
		ck_abort_msg("json: %s", err.buf);
	cs = json_get(&v, "checkouts");
	bs = json_get(&v, "builds");
	ts = json_get(&v, "tests");
	for (i = 0; i < cs->n; i++) {
		const char *id = json_get_str(&cs->items[i], "id");

		ck_assert_str_eq(json_get_str(&cs->items[i], "origin"),
				 "lab_1");
		if (strncmp(id, "lab_1:release-", 14))
			continue;
		web_checkouts++;
		ck_assert_str_eq(json_get_str(&cs->items[i], "tree_name"),
				 "release");
		ck_assert_ptr_null(json_get(&cs->items[i],
					    "git_commit_hash"));
		if (!strcmp(id, "lab_1:release-6.12.117+deb13"))
			ck_assert_ptr_nonnull(strstr(json_get_str(
				&cs->items[i], "comment"),
				"linux-image-6.12.117+deb13-amd64-unsigned"));
	}
	/* One checkout per released kernel; not the uncatalogued one. */
	ck_assert_uint_eq(web_checkouts, 5);
	ck_assert_ptr_null(strstr(sb.buf, "lab_1:release-99"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"lab_1:release:99\""));
	for (i = 0; i < bs->n; i++)
		if (!strcmp(json_get_str(&bs->items[i], "id"),
			    "lab_1:release-5.10.262-1:release"))
			ck_assert_str_eq(json_get_str(&bs->items[i],
				"checkout_id"), "lab_1:release-5.10.262-1");
	for (i = 0; i < ts->n; i++)
		if (!strncmp(json_get_str(&ts->items[i], "build_id"),
			     "lab_1:release-", 14))
			web_tests++;
	/* Every web run is a test of its release's build. */
	ck_assert_uint_eq(web_tests, 38);
	json_value_release(&v);
	kcidb_collect_release(&rep);
	matrix_release(&m);
	record_close(r);
	strbuf_release(&sb);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("web");
	TCase *tc = tcase_create("web");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, version_sort);
	tcase_add_test(tc, model);
	tcase_add_test(tc, json);
	tcase_add_test(tc, dashboard);
	tcase_add_test(tc, kcidb);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
