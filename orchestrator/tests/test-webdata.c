/*
 * test-webdata: unit tests for the compatibility web's data side: the matrix's
 * web section (matrix-web.c: values, defaults, the exact
 * "file:line:col: message" of its errors, which cells are web cells), the
 * kernel catalogue's manifests (kernels.c), and the store's web kernels
 * (record-web.c: schema 10's table, their commits of the tree "release",
 * and which boots a cell's environment key still wants).
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
#include "matrix/kernels.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "store/record-web.h"
#include "lib/xmalloc.h"

#define CELLS "cells:\n  - name: qemu-a\n  - name: qemu-b\n  - name: xen-c\n" \
	      "    smp: 2\n"

static char tmpdir[PATH_MAX];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-webdata.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
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

/* Load text; 0 with m filled, or -1 with the message in *msg. */
static int load(struct matrix *m, const char *text, char **msg)
{
	struct strbuf err = STRBUF_INIT;
	int r = matrix_load_buf(m, "t.yaml", text, strlen(text), &err);

	*msg = strbuf_detach(&err, NULL);
	return r;
}

static void expect_error(const char *text, const char *want)
{
	struct matrix m = { 0 };
	char *msg;

	ck_assert_int_eq(load(&m, text, &msg), -1);
	ck_assert_str_eq(msg, want);
	free(msg);
}

START_TEST(test_web_section)
{
	struct matrix m = { 0 };
	char *msg;

	ck_assert_int_eq(load(&m, CELLS "web:\n  kernels: [\"5.10\", "
			      "\"6.1\", \"6.12\", \"7.3\"]\n", &msg), 0);
	free(msg);
	ck_assert(m.web.given);
	ck_assert_uint_eq(m.web.n_kernels, 4);
	ck_assert_str_eq(m.web.kernels[0], "5.10");
	ck_assert_str_eq(m.web.kernels[3], "7.3");
	/* No cells: every cell. */
	ck_assert_uint_eq(m.web.n_cells, 0);
	ck_assert(matrix_web_has_cell(&m, &m.cells[0]));
	ck_assert(matrix_web_has_cell(&m, &m.cells[2]));
	matrix_release(&m);

	ck_assert_int_eq(load(&m, CELLS "web:\n  kernels: [\"6.12\"]\n"
			      "  cells: [\"qemu-*\"]\n", &msg), 0);
	free(msg);
	ck_assert(matrix_web_has_cell(&m, &m.cells[0]));
	ck_assert(matrix_web_has_cell(&m, &m.cells[1]));
	ck_assert(!matrix_web_has_cell(&m, &m.cells[2]));
	matrix_release(&m);

	/* One glob as a string, like every list. */
	ck_assert_int_eq(load(&m, CELLS "web:\n  kernels: [\"6.12\"]\n"
			      "  cells: xen-c\n", &msg), 0);
	free(msg);
	ck_assert(!matrix_web_has_cell(&m, &m.cells[0]));
	ck_assert(matrix_web_has_cell(&m, &m.cells[2]));
	matrix_release(&m);

	/* No section, or `web:` alone: no web, no web cell. */
	ck_assert_int_eq(load(&m, CELLS, &msg), 0);
	free(msg);
	ck_assert(!m.web.given);
	ck_assert(!matrix_web_has_cell(&m, &m.cells[0]));
	matrix_release(&m);
	ck_assert_int_eq(load(&m, CELLS "web:\n", &msg), 0);
	free(msg);
	ck_assert(!m.web.given);
	matrix_release(&m);
}
END_TEST

START_TEST(test_web_errors)
{
	expect_error(CELLS "web:\n  kernels: [\"6.1\", \"six\"]\n",
		     "t.yaml:7:20: kernels: expected a kernel release "
		     "MAJOR.MINOR, quoted (\"5.10\", \"6.12\"), got \"six\"");
	expect_error(CELLS "web:\n  kernels: [\"6.1\", \"6.1\"]\n",
		     "t.yaml:7:20: kernels: release '6.1' is listed twice");
	expect_error(CELLS "web:\n  kernels: \"6.1\"\n",
		     "t.yaml:7:12: kernels: expected a list");
	expect_error(CELLS "web:\n  cells: [\"qemu-*\"]\n",
		     "t.yaml:7:3: web: needs kernels, a list of kernel "
		     "releases (\"5.10\", \"6.12\")");
	expect_error(CELLS "web:\n  kernels: [\"6.1\"]\n  cells: [qemu-a, "
		     "\"kvm-*\"]\n",
		     "t.yaml:8:10: web: cells: 'kvm-*' names no cell of the "
		     "matrix");
	expect_error(CELLS "web:\n  kernel: [\"6.1\"]\n",
		     "t.yaml:7:3: unknown key 'kernel' in web (did you mean "
		     "'kernels'?)");
	/* The tree of the web's kernels is not a matrix tree's name. */
	expect_error(CELLS "trees:\n  - name: release\n    path: /r\n",
		     "t.yaml:7:11: name: 'release' is the web section's tree "
		     "of released kernels; name the tree otherwise");
	expect_error(CELLS "web: [\"6.1\"]\n",
		     "t.yaml:6:6: web: expected a mapping (kernels, cells), "
		     "got a list");
}
END_TEST

/* The default matrix names the kernels setup fetches, no more, no less. */
START_TEST(test_default_matrix_and_fetcher_agree)
{
	struct strbuf sh = STRBUF_INIT, want = STRBUF_INIT;
	struct matrix m = { 0 };
	struct strbuf err = STRBUF_INIT;
	const char *p, *e;
	size_t i;

	ck_assert_int_eq(matrix_load(&m, HVM_TEST_FIXTURES
				     "/../../../matrices/default.yaml", &err),
			 0);
	ck_assert(m.web.given);
	ck_assert_uint_eq(m.web.n_cells, 0);
	for (i = 0; i < m.web.n_kernels; i++)
		strbuf_addf(&want, "%s%s", i ? " " : "", m.web.kernels[i]);
	ck_assert_int_ge(fsutil_read(HVM_TEST_FIXTURES "/../../../images/"
				     "kernels/fetch-releases.sh", &sh), 0);
	p = strstr(sh.buf, "\nall=(");
	ck_assert_ptr_nonnull(p);
	p += 6;
	e = strchr(p, ')');
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)(e - p), (int)want.len);
	ck_assert(!strncmp(p, want.buf, want.len));
	/* At least 5.10, 6.1, 6.12 and a 7.x. */
	ck_assert_ptr_nonnull(strstr(want.buf, "5.10 6.1 6.12 7."));
	matrix_release(&m);
	strbuf_release(&sh);
	strbuf_release(&want);
	strbuf_release(&err);
}
END_TEST

#define SHA_A "65d79b695132acf74c0643cb76229410f28c7952f319694a3f443613358e07e0"
#define SHA_B "954e792b6f3772e3e73ce4b91dd1ef322cbbc0f330249c79c831ae0c8ce0a6b0"

START_TEST(test_kernels_manifest)
{
	struct kernels_release k;
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(kernels_manifest_parse(&k, "/c/kernels/7.3",
		"release 7.3\nsuite trixie-backports\n"
		"package linux-binary-7.3.4+deb13-amd64\n"
		"version 7.3.4-1~bpo13+1\n"
		"path root/usr/lib/modules/7.3.4+deb13-amd64/vmlinuz\n"
		"sha256 " SHA_B "\ndeb x y z\n", &err), 0);
	ck_assert_str_eq(k.release, "7.3");
	ck_assert_str_eq(k.package, "linux-binary-7.3.4+deb13-amd64");
	ck_assert_str_eq(k.version, "7.3.4-1~bpo13+1");
	ck_assert_str_eq(k.path, "/c/kernels/7.3/root/usr/lib/modules/"
			 "7.3.4+deb13-amd64/vmlinuz");
	ck_assert_str_eq(k.sha256, SHA_B);
	kernels_release_clear(&k);

	ck_assert_int_eq(kernels_manifest_parse(&k, "/d", "release 6.1\n"
		"package p\nversion v\npath ../../etc/passwd\nsha256 "
		SHA_A "\n", &err), -1);
	ck_assert_str_eq(err.buf, "manifest line 4: path must be inside the "
			 "release's directory, got \"../../etc/passwd\"");
	strbuf_reset(&err);
	ck_assert_int_eq(kernels_manifest_parse(&k, "/d", "release 6.1\n"
		"package p\nversion v\npath vmlinuz\n", &err), -1);
	ck_assert_str_eq(err.buf, "manifest: missing sha256");
	strbuf_reset(&err);
	ck_assert_int_eq(kernels_manifest_parse(&k, "/d", "release 6.1\n"
		"package p\x1b[2J\n", &err), -1);
	ck_assert_str_eq(err.buf, "manifest line 2: a control character in "
			 "package");
	strbuf_release(&err);
}
END_TEST

/* The catalogue from a directory, oldest release first (as versions). */
START_TEST(test_kernels_list)
{
	const char *rels[] = { "6.12", "5.10", "6.1" };
	struct kernels_release *ks;
	char *partial;
	struct strbuf err = STRBUF_INIT;
	size_t n, i;

	for (i = 0; i < 3; i++) {
		char *d = xstrfmt("%s/%s", tmpdir, rels[i]);
		char *f = xstrfmt("%s/manifest", d);
		char *t = xstrfmt("release %s\npackage p%s\nversion v\n"
				  "path vmlinuz\nsha256 " SHA_A "\n", rels[i],
				  rels[i]);

		ck_assert_int_eq(fsutil_mkdir_p(d, 0755), 0);
		ck_assert_int_eq(fsutil_write_atomic(f, t, strlen(t)),
				 0);
		free(d);
		free(f);
		free(t);
	}
	/* A fetch under way (no manifest yet) is not a release. */
	partial = xstrfmt("%s/.7.3.XXXX", tmpdir);
	ck_assert_int_eq(fsutil_mkdir_p(partial, 0755), 0);
	free(partial);
	setenv("HVMATRIX_KERNELS_DIR", tmpdir, 1);
	kernels_list(&ks, &n, &err);
	unsetenv("HVMATRIX_KERNELS_DIR");
	ck_assert_str_eq(err.buf, "");
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ks[0].release, "5.10");
	ck_assert_str_eq(ks[1].release, "6.1");
	ck_assert_str_eq(ks[2].release, "6.12");
	kernels_list_free(ks, n);
	strbuf_release(&err);
}
END_TEST

static struct record *open_store(void)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r;
	char *state = xstrfmt("%s/state", tmpdir);

	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	free(state);
	strbuf_release(&err);
	return r;
}

static char *query(const char *sql)
{
	char *db = xstrfmt("%s/state/hvmatrix.db", tmpdir);
	sqlite3 *h;
	sqlite3_stmt *st;
	char *out;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(db);
	return out;
}

static void expect_query(const char *sql, const char *want)
{
	char *got = query(sql);

	ck_assert_str_eq(got, want);
	free(got);
}

/* A web run of kernel id in cell, booted in environment key. */
static void add_run(struct record *r, const char *id, const char *cell,
		    const char *key, const char *nonce)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };

	run.batch = (char *)"b";
	run.kernel_id = (char *)"k";
	run.cell = (char *)cell;
	run.verdict = VERDICT_PASS;
	run.started_at = 1;
	run.nonce = (char *)nonce;
	run.tree = (char *)RECORD_WEB_TREE;
	run.commit_id = (char *)id;
	run.build = (char *)RECORD_WEB_BUILD;
	run.purpose = (char *)RECORD_WEB_PURPOSE;
	run.env_key = (char *)key;
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	strbuf_release(&err);
}

START_TEST(test_store_web_kernels)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_web_kernel a = {
		(char *)SHA_A, (char *)"5.10",
		(char *)"linux-image-5.10.0-46-amd64-unsigned",
		(char *)"5.10.262-1", (char *)"/c/5.10/vmlinuz",
	}, b = {
		(char *)SHA_B, (char *)"7.3",
		(char *)"linux-binary-7.3.4+deb13-amd64",
		(char *)"7.3.4-1~bpo13+1", (char *)"/c/7.3/vmlinuz",
	}, got, *list;
	size_t n;

	expect_query("SELECT value FROM meta WHERE key = 'schema_version'",
		     "12");
	ck_assert_int_eq(record_web_kernels_add(r, &a, &err), 0);
	ck_assert_int_eq(record_web_kernels_add(r, &b, &err), 0);
	/* Added again, moved: the path follows, nothing doubles. */
	a.path = (char *)"/moved/vmlinuz";
	ck_assert_int_eq(record_web_kernels_add(r, &a, &err), 0);
	ck_assert_int_eq(record_web_kernels_list(r, &list, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].id, SHA_A);
	ck_assert_str_eq(list[0].release, "5.10");
	ck_assert_str_eq(list[0].path, "/moved/vmlinuz");
	ck_assert_str_eq(list[1].id, SHA_B);
	ck_assert_str_eq(list[1].package, "linux-binary-7.3.4+deb13-amd64");
	ck_assert_str_eq(list[1].version, "7.3.4-1~bpo13+1");
	record_web_kernels_free(list, n);
	ck_assert_int_eq(record_web_kernels_get(r, SHA_B, &got, &err), 1);
	ck_assert_str_eq(got.path, "/c/7.3/vmlinuz");
	record_web_kernel_release(&got);
	ck_assert_int_eq(record_web_kernels_get(r, "nope", &got, &err), 0);
	/* Each is a parentless commit of the tree "release". */
	expect_query("SELECT group_concat(subject || '|' || author || '|' || "
		     "parent || '|' || time, ';') FROM (SELECT * FROM commits "
		     "WHERE tree = 'release' ORDER BY id)",
		     "Debian linux-image-5.10.0-46-amd64-unsigned 5.10.262-1|"
		     "Debian||0;Debian linux-binary-7.3.4+deb13-amd64 "
		     "7.3.4-1~bpo13+1|Debian||0");
	record_close(r);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_store_web_want)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_web_kernel a = {
		(char *)SHA_A, (char *)"5.10", (char *)"p", (char *)"v",
		(char *)"/c/vmlinuz",
	};
	int wanted;

	ck_assert_int_eq(record_web_kernels_add(r, &a, &err), 0);
	/* Never booted there: one run wanted, a job of the tree release. */
	ck_assert_int_eq(record_web_want(r, SHA_A, "qemu-a", "k1", &wanted,
					 &err), 0);
	ck_assert_int_eq(wanted, 1);
	expect_query("SELECT runs || '/' || purpose FROM wants WHERE "
		     "cell = 'qemu-a'", "1/web");
	expect_query("SELECT tree || '/' || build || '/' || scope || '/' || "
		     "priority || '/' || state FROM jobs",
		     "release/release/wants/1/queued");
	/* Asked again before it ran: still one. */
	ck_assert_int_eq(record_web_want(r, SHA_A, "qemu-a", "k1", &wanted,
					 &err), 0);
	expect_query("SELECT runs FROM wants WHERE cell = 'qemu-a'", "1");
	/* Booted with that key: nothing more. */
	add_run(r, SHA_A, "qemu-a", "k1", "n1");
	ck_assert_int_eq(record_web_want(r, SHA_A, "qemu-a", "k1", &wanted,
					 &err), 0);
	ck_assert_int_eq(wanted, 0);
	/* The cell changed (a new key): one run more than it has. */
	ck_assert_int_eq(record_web_want(r, SHA_A, "qemu-a", "k2", &wanted,
					 &err), 0);
	ck_assert_int_eq(wanted, 1);
	expect_query("SELECT runs FROM wants WHERE cell = 'qemu-a'", "2");
	add_run(r, SHA_A, "qemu-a", "k2", "n2");
	/* Back to the first environment: it booted there, nothing runs. */
	ck_assert_int_eq(record_web_want(r, SHA_A, "qemu-a", "k1", &wanted,
					 &err), 0);
	ck_assert_int_eq(wanted, 0);
	/* A run of another kernel or cell with the key is not this one. */
	ck_assert_int_eq(record_web_want(r, SHA_A, "qemu-b", "k1", &wanted,
					 &err), 0);
	ck_assert_int_eq(wanted, 1);
	record_close(r);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("web");
	TCase *matrix = tcase_create("matrix");
	TCase *files = tcase_create("kernels");
	TCase *store = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_test(matrix, test_web_section);
	tcase_add_test(matrix, test_web_errors);
	tcase_add_test(matrix, test_default_matrix_and_fetcher_agree);
	suite_add_tcase(s, matrix);
	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_test(files, test_kernels_manifest);
	tcase_add_test(files, test_kernels_list);
	suite_add_tcase(s, files);
	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, test_store_web_kernels);
	tcase_add_test(store, test_store_web_want);
	suite_add_tcase(s, store);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
