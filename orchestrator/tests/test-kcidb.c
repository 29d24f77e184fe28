/*
 * Unit tests for kcidb: the status mapping, the origin and id rules, the
 * promise that no null is ever written (from a report of unknowns and
 * from a real store of bare runs), log excerpts cut at a UTF-8 boundary
 * and read from zstd logs, and --since's time forms.
 */
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "matrix/matrix.h"
#include "export/kcidb.h"
#include "lib/logfile.h"
#include "lib/xmalloc.h"

static char tmpdir[256];

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-kcidb.XXXXXX",
		 base && *base ? base : "/tmp");
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

/* Nulls anywhere in v; ids (key "id" or "*_id") not "origin:..." too. */
static void walk(const struct json_value *v, const char *key,
		 const char *origin, size_t *nulls, size_t *bad_ids,
		 size_t *ids)
{
	size_t i, n;

	if (v->type == JSON_NULL)
		(*nulls)++;
	if (key && v->type == JSON_STRING &&
	    (!strcmp(key, "id") ||
	     ((n = strlen(key)) > 3 && !strcmp(key + n - 3, "_id")))) {
		(*ids)++;
		if (strncmp(v->string, origin, strlen(origin)) ||
		    v->string[strlen(origin)] != ':')
			(*bad_ids)++;
	}
	for (i = 0; i < v->n; i++)
		walk(&v->items[i], v->type == JSON_OBJECT ? v->keys[i] : NULL,
		     origin, nulls, bad_ids, ids);
}

static void parse(const struct strbuf *sb, struct json_value *v)
{
	struct strbuf err = STRBUF_INIT;

	if (json_parse(v, sb->buf, sb->len, &err) < 0)
		ck_abort_msg("not JSON: %s\n%s", err.buf, sb->buf);
	strbuf_release(&err);
}

START_TEST(status_mapping)
{
	ck_assert_str_eq(kcidb_test_status(VERDICT_PASS), "PASS");
	ck_assert_str_eq(kcidb_test_status(VERDICT_FAIL), "FAIL");
	ck_assert_str_eq(kcidb_test_status(VERDICT_ERROR), "ERROR");
	ck_assert_str_eq(kcidb_test_status(VERDICT_SKIP), "SKIP");
	/* The build broke: nothing ran, which KCIDB calls MISS. */
	ck_assert_str_eq(kcidb_test_status(VERDICT_BLOCKED), "MISS");
	ck_assert_ptr_null(kcidb_test_status(VERDICT_NONE));
	ck_assert_str_eq(kcidb_build_status(RECORD_BUILD_OK), "PASS");
	ck_assert_str_eq(kcidb_build_status(RECORD_BUILD_FAILED), "FAIL");
	ck_assert_str_eq(kcidb_build_status(RECORD_BUILD_ERROR), "ERROR");
}
END_TEST

START_TEST(origin_rules)
{
	ck_assert(kcidb_origin_ok("hvmatrix"));
	ck_assert(kcidb_origin_ok("my_lab_2"));
	ck_assert(!kcidb_origin_ok(""));
	ck_assert(!kcidb_origin_ok(NULL));
	ck_assert(!kcidb_origin_ok("MyLab"));
	ck_assert(!kcidb_origin_ok("my-lab"));
	ck_assert(!kcidb_origin_ok("lab:x"));
	ck_assert(!kcidb_origin_ok("lab x"));
	ck_assert(!kcidb_origin_ok("lab\xc3\xa9"));
}
END_TEST

START_TEST(test_path)
{
	struct strbuf sb = STRBUF_INIT;

	kcidb_test_path(&sb, "vmware-vmport");
	ck_assert_str_eq(sb.buf, "boot.vmware-vmport");
	strbuf_reset(&sb);
	/* A '.' would make "4" a sub-test of "q35-2". */
	kcidb_test_path(&sb, "q35-2.4");
	ck_assert_str_eq(sb.buf, "boot.q35-2_4");
	strbuf_release(&sb);
}
END_TEST

/* One object of each kind, every optional field unknown. */
START_TEST(no_null_from_unknowns)
{
	struct kcidb_checkout c = { .id = "t:abc", .tip = -1 };
	struct kcidb_build b = { .id = "t:abc:b", .checkout_id = "t:abc",
				 .start_time = NAN, .duration = NAN };
	struct kcidb_test t = { .id = "run:1", .build_id = "t:abc:b",
				.start_time = -1, .duration = INFINITY };
	struct kcidb_issue is = { .id = "t:b:c:abc", .version = 1 };
	struct kcidb_incident in = { .id = "t:b:c:abc:run:1",
				     .issue_id = "t:b:c:abc",
				     .test_id = "run:1" };
	struct kcidb_report rep = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct json_value v;
	size_t nulls = 0, bad = 0, ids = 0;

	t.misc.key[0] = "reason";	/* a key whose value is unknown */
	t.misc.value[0] = NULL;
	t.misc.n = 1;
	rep.checkouts = &c;
	rep.n_checkouts = 1;
	rep.builds = &b;
	rep.n_builds = 1;
	rep.tests = &t;
	rep.n_tests = 1;
	rep.issues = &is;
	rep.n_issues = 1;
	rep.incidents = &in;
	rep.n_incidents = 1;
	kcidb_write(&rep, "lab", &sb);
	parse(&sb, &v);
	walk(&v, NULL, "lab", &nulls, &bad, &ids);
	ck_assert_msg(nulls == 0, "nulls written:\n%s", sb.buf);
	ck_assert_msg(!strstr(sb.buf, "null"), "%s", sb.buf);
	/* 5 ids, checkout_id, build_id, issue_id, test_id (the incident's
	 * build_id is unknown: left out). */
	ck_assert_uint_eq(ids, 9);
	ck_assert_uint_eq(bad, 0);
	/* Unknown times are left out, not written as null or 0. */
	ck_assert_ptr_null(json_get(&json_get(&v, "tests")->items[0],
				    "start_time"));
	ck_assert_ptr_null(json_get(&json_get(&v, "tests")->items[0],
				    "duration"));
	ck_assert_ptr_null(json_get(&json_get(&v, "builds")->items[0],
				    "duration"));
	ck_assert_int_eq(json_get(&v, "version")->type, JSON_OBJECT);
	json_value_release(&v);
	strbuf_release(&sb);
}
END_TEST

static void add_run(struct record *r, const char *tree, const char *commit,
		    const char *cell, enum verdict verdict, double t)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };

	run.batch = "b1";
	run.kernel_id = "0123456789abcdef0123456789abcdef01234567";
	run.kernel_path = "";
	run.kernel_version = "";
	run.cell = (char *)cell;
	run.matrix_path = "";
	run.verdict = verdict;
	run.reason = "";
	run.line = "";
	run.started_at = t;
	run.log_path = "";
	run.tree = (char *)tree;
	run.commit_id = (char *)commit;
	run.build = tree[0] ? "tiny" : "";
	run.purpose = "";
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	strbuf_release(&err);
}

/* A real store of bare runs (empty strings everywhere, no matrix). */
START_TEST(no_null_from_a_store)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct kcidb_opts opts = { 0 };
	struct kcidb_report rep;
	struct record *r = NULL;
	struct json_value v;
	const struct json_value *tests;
	char *state = xstrfmt("%s/state", tmpdir);
	size_t nulls = 0, bad = 0, ids = 0, i;

	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	add_run(r, "", "", "q35-2.4", VERDICT_PASS, 1000);
	add_run(r, "t", "1111111111111111111111111111111111111111", "plain",
		VERDICT_BLOCKED, 2000);
	add_run(r, "t", "2222222222222222222222222222222222222222", "plain",
		VERDICT_ERROR, 3000);
	if (kcidb_collect(r, NULL, &opts, &rep, &err) < 0)
		ck_abort_msg("kcidb_collect: %s", err.buf);
	kcidb_write(&rep, "lab_1", &sb);
	parse(&sb, &v);
	walk(&v, NULL, "lab_1", &nulls, &bad, &ids);
	ck_assert_msg(nulls == 0, "nulls written:\n%s", sb.buf);
	ck_assert_uint_eq(bad, 0);
	tests = json_get(&v, "tests");
	ck_assert_ptr_nonnull(tests);
	ck_assert_uint_eq(tests->n, 3);
	/* Oldest first; BLOCKED is MISS; the '.' of q35-2.4 is '_'. */
	ck_assert_str_eq(json_get_str(&tests->items[0], "path"),
			 "boot.q35-2_4");
	ck_assert_str_eq(json_get_str(&tests->items[1], "status"), "MISS");
	ck_assert_str_eq(json_get_str(&tests->items[2], "status"), "ERROR");
	ck_assert_str_eq(json_get_str(json_get(json_get(&tests->items[1],
		"environment"), "misc"), "platform"), "plain");
	ck_assert_uint_eq(json_get(&v, "checkouts")->n, 3);
	/* A local tree (no matrix, no URL): no git_repository_url. */
	ck_assert_ptr_null(strstr(sb.buf, "git_repository_url"));
	json_value_release(&v);
	kcidb_collect_release(&rep);

	/* --since leaves out what started before. */
	strbuf_reset(&sb);
	opts.since = 2500;
	if (kcidb_collect(r, NULL, &opts, &rep, &err) < 0)
		ck_abort_msg("kcidb_collect: %s", err.buf);
	ck_assert_uint_eq(rep.n_tests, 1);
	ck_assert_uint_eq(rep.n_checkouts, 1);
	for (i = 0; i < rep.n_tests; i++)
		ck_assert_str_eq(rep.tests[i].status, "ERROR");
	kcidb_collect_release(&rep);
	record_close(r);
	free(state);
	strbuf_release(&err);
	strbuf_release(&sb);
}
END_TEST

/* A tree URL's userinfo and query (a token) never reach the export. */
START_TEST(repository_url_without_token)
{
	static const char yaml[] =
		"version: 1\n"
		"trees:\n"
		"  - name: t\n"
		"    url: https://user:TOKEN1@git.example/linux.git"
		"?private_token=TOKEN2\n"
		"    branches: [master]\n"
		"builds:\n"
		"  - name: tiny\n"
		"    base: tinyconfig\n"
		"cells:\n"
		"  - name: plain\n"
		"    machine: pc\n";
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct kcidb_opts opts = { 0 };
	struct kcidb_report rep;
	struct record *r = NULL;
	struct matrix m;
	struct json_value v;
	const struct json_value *co;
	char *state = xstrfmt("%s/state-url", tmpdir);

	if (matrix_load_buf(&m, "m.yaml", yaml, strlen(yaml), &err))
		ck_abort_msg("matrix_load_buf: %s", err.buf);
	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	add_run(r, "t", "1111111111111111111111111111111111111111", "plain",
		VERDICT_PASS, 1000);
	if (kcidb_collect(r, &m, &opts, &rep, &err) < 0)
		ck_abort_msg("kcidb_collect: %s", err.buf);
	kcidb_write(&rep, "lab_1", &sb);
	ck_assert_msg(!strstr(sb.buf, "TOKEN"), "token exported:\n%s",
		      sb.buf);
	parse(&sb, &v);
	co = json_get(&v, "checkouts");
	ck_assert_uint_eq(co->n, 1);
	ck_assert_str_eq(json_get_str(&co->items[0], "git_repository_url"),
			 "https://git.example/linux.git");
	json_value_release(&v);
	kcidb_collect_release(&rep);
	record_close(r);
	matrix_release(&m);
	free(state);
	strbuf_release(&err);
	strbuf_release(&sb);
}
END_TEST

/* Is s[0..len) valid UTF-8? */
static int utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, k, n;

	while (i < len) {
		n = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
		    (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
		if (!n || i + n > len)
			return 0;
		for (k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n;
	}
	return 1;
}

START_TEST(excerpt_cut_at_utf8_boundary)
{
	struct strbuf text = STRBUF_INIT, sb = STRBUF_INIT;
	size_t i;

	/* 7000 euro signs, 3 bytes each: 21000 - 16384 = 4616 falls on
	 * the third byte of one (4616 % 3 == 2). */
	for (i = 0; i < 7000; i++)
		strbuf_addstr(&text, "\xe2\x82\xac");
	kcidb_excerpt(&sb, text.buf, text.len, KCIDB_EXCERPT_MAX);
	ck_assert_uint_le(sb.len, KCIDB_EXCERPT_MAX);
	ck_assert_uint_eq(sb.len, KCIDB_EXCERPT_MAX - 1);
	ck_assert_uint_eq((unsigned char)sb.buf[0], 0xe2);
	ck_assert(utf8_ok((const unsigned char *)sb.buf, sb.len));
	/* The tail: it ends where the text ends. */
	ck_assert(!memcmp(sb.buf, text.buf + text.len - sb.len, sb.len));
	strbuf_reset(&sb);
	/* Short text as it is, NULs left out. */
	kcidb_excerpt(&sb, "a\0b\n", 4, KCIDB_EXCERPT_MAX);
	ck_assert_uint_eq(sb.len, 3);
	ck_assert_str_eq(sb.buf, "ab\n");
	strbuf_release(&text);
	strbuf_release(&sb);
}
END_TEST

/* The tail of a zstd-compressed console log, cleaned, within the cap. */
START_TEST(log_tail_of_a_zstd_log)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct logfile_writer *w = NULL;
	char *path = xstrfmt("%s/run.log", tmpdir), *zst = NULL;
	char line[128];
	size_t i;

	if (logfile_create(&w, path, 0, &err) < 0)
		ck_abort_msg("logfile_create: %s", err.buf);
	for (i = 0; i < 4000; i++) {
		int n = snprintf(line, sizeof(line), "[%6zu] line "
				 "\xc3\xa9t\xc3\xa9 \x1b[0mwith an escape\r\n",
				 i);

		ck_assert_int_eq(logfile_write(w, line, (size_t)n, &err), 0);
	}
	ck_assert_int_eq(logfile_write(w, "Kernel panic - the end\n", 23,
				       &err), 0);
	ck_assert_int_eq(logfile_finish(w, NULL, 0, &err), 0);
	if (logfile_compress(path, &zst, &err) < 0)
		ck_abort_msg("logfile_compress: %s", err.buf);
	if (kcidb_log_tail(zst, KCIDB_EXCERPT_MAX, &sb, &err) < 0)
		ck_abort_msg("kcidb_log_tail: %s", err.buf);
	ck_assert_uint_le(sb.len, KCIDB_EXCERPT_MAX);
	ck_assert_uint_gt(sb.len, KCIDB_EXCERPT_MAX - 100);
	ck_assert(utf8_ok((const unsigned char *)sb.buf, sb.len));
	ck_assert_msg(sb.len >= 23 &&
		      !strcmp(sb.buf + sb.len - 23, "Kernel panic - the end\n"),
		      "tail: %s", sb.buf + (sb.len > 60 ? sb.len - 60 : 0));
	/* The guest's terminal escapes are gone. */
	ck_assert_ptr_null(memchr(sb.buf, 0x1b, sb.len));
	free(path);
	free(zst);
	strbuf_release(&err);
	strbuf_release(&sb);
}
END_TEST

START_TEST(since_times)
{
	double t = -1;

	ck_assert_int_eq(kcidb_parse_time("1796083200", &t), 0);
	ck_assert(t == 1796083200.0);
	ck_assert_int_eq(kcidb_parse_time("1796083200.5", &t), 0);
	ck_assert(t == 1796083200.5);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01", &t), 0);
	ck_assert(t == 1796083200.0);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01T09:00:00Z", &t), 0);
	ck_assert(t == 1796115600.0);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01T10:00:00+01:00", &t), 0);
	ck_assert(t == 1796115600.0);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01 09:00", &t), 0);
	ck_assert(t == 1796115600.0);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01T09:00:00.250Z", &t), 0);
	ck_assert(t == 1796115600.25);
	ck_assert_int_eq(kcidb_parse_time("yesterday", &t), -1);
	ck_assert_int_eq(kcidb_parse_time("", &t), -1);
	ck_assert_int_eq(kcidb_parse_time("2026-13-01", &t), -1);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01T25:00", &t), -1);
	ck_assert_int_eq(kcidb_parse_time("2026-12-01T09:00Zjunk", &t), -1);
	ck_assert_int_eq(kcidb_parse_time("-5", &t), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kcidb");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, status_mapping);
	tcase_add_test(tc, origin_rules);
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, no_null_from_unknowns);
	tcase_add_test(tc, no_null_from_a_store);
	tcase_add_test(tc, repository_url_without_token);
	tcase_add_test(tc, excerpt_cut_at_utf8_boundary);
	tcase_add_test(tc, log_tail_of_a_zstd_log);
	tcase_add_test(tc, since_times);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
