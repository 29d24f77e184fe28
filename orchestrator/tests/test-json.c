/*
 * Unit tests for json: the writer's exact output (commas, nesting, layout,
 * escaping), its refusal of calls out of place, and the reader, alone and
 * on what the writer wrote.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "judge/verdict.h"

START_TEST(writer_nesting_and_commas)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_array_begin(&j);
	json_object_begin(&j);
	json_key_str(&j, "cell", "q35");
	json_key_int(&j, "n", -3);
	json_key(&j, "args");
	json_array_begin(&j);
	json_str(&j, "-m");
	json_int(&j, 256);
	json_array_end(&j);
	json_key(&j, "none");
	json_null(&j);
	json_object_end(&j);
	json_object_begin(&j);
	json_key_bool(&j, "ok", 1);
	json_key_double(&j, "t", 1.5);
	json_object_end(&j);
	json_array_end(&j);
	ck_assert(json_complete(&j));
	ck_assert_str_eq(sb.buf,
		"[\n"
		"  {\"cell\": \"q35\", \"n\": -3, \"args\": [\"-m\", 256], "
		"\"none\": null},\n"
		"  {\"ok\": true, \"t\": 1.500}\n"
		"]");
	strbuf_release(&sb);
}
END_TEST

START_TEST(writer_top_object_a_member_a_line)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_object_begin(&j);
	json_key(&j, "daemon");
	json_raw(&j, "{\"pid\": 1}");
	json_key(&j, "trees");
	json_array_begin(&j);
	json_object_begin(&j);
	json_key_str(&j, "tree", "t");
	json_object_end(&j);
	json_array_end(&j);
	json_key(&j, "queue");
	json_array_begin(&j);
	json_array_end(&j);
	json_object_end(&j);
	ck_assert_str_eq(sb.buf,
		"{\n"
		"  \"daemon\": {\"pid\": 1},\n"
		"  \"trees\": [\n"
		"    {\"tree\": \"t\"}\n"
		"  ],\n"
		"  \"queue\": []\n"
		"}");
	strbuf_release(&sb);
}
END_TEST

START_TEST(writer_empty_and_special_values)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_array_begin(&j);
	json_array_end(&j);
	ck_assert_str_eq(sb.buf, "[]");
	strbuf_reset(&sb);
	json_init(&j, &sb);
	json_array_begin(&j);
	json_double(&j, NAN);
	json_double(&j, INFINITY);
	json_str(&j, NULL);
	json_str(&j, "a\"b\\c\nd\x01");
	json_bool(&j, 0);
	json_array_end(&j);
	ck_assert_str_eq(sb.buf,
			 "[null, null, null, \"a\\\"b\\\\c\\nd\\u0001\", false]");
	strbuf_release(&sb);
}
END_TEST

START_TEST(writer_incomplete_is_not_complete)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	ck_assert(!json_complete(&j));
	json_object_begin(&j);
	ck_assert(!json_complete(&j));
	json_object_end(&j);
	ck_assert(json_complete(&j));
	strbuf_release(&sb);
}
END_TEST

/* Calls out of place are bugs: die() exits 2. */
START_TEST(writer_value_without_key_dies)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_object_begin(&j);
	json_int(&j, 1);
}
END_TEST

START_TEST(writer_mismatched_end_dies)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_array_begin(&j);
	json_object_end(&j);
}
END_TEST

START_TEST(writer_key_in_array_dies)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_array_begin(&j);
	json_key(&j, "k");
}
END_TEST

START_TEST(writer_two_top_values_die)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_int(&j, 1);
	json_int(&j, 2);
}
END_TEST

static void parse_ok(struct json_value *v, const char *text)
{
	struct strbuf err = STRBUF_INIT;

	if (json_parse(v, text, strlen(text), &err) < 0)
		ck_abort_msg("parse of %s failed: %s", text, err.buf);
	strbuf_release(&err);
}

static void parse_bad(const char *text, const char *msg)
{
	struct strbuf err = STRBUF_INIT;
	struct json_value v;

	ck_assert_int_eq(json_parse(&v, text, strlen(text), &err), -1);
	ck_assert_msg(strstr(err.buf, msg), "%s: got '%s', want '%s'", text,
		      err.buf, msg);
	ck_assert_int_eq(v.type, JSON_NULL);
	ck_assert_ptr_null(v.items);
	strbuf_release(&err);
}

START_TEST(reader_status_file)
{
	struct json_value v;
	const struct json_value *job, *jobs, *loop;
	double d;

	parse_ok(&v, " {\"pid\": 26016, \"updated_at\": 1796154831.446,\n"
		 "\"matrix\": \"/m/x.yaml\", \"stopping\": false,\n"
		 "\"paused\": null, \"loop\": {\"worst_lag_ms\": 3.2,"
		 " \"window_s\": 60}, \"jobs\": [{\"tree\": \"demo\","
		 " \"stage\": \"make\", \"started_at\": 1e9}],"
		 " \"job\": null}\n");
	ck_assert_int_eq(v.type, JSON_OBJECT);
	ck_assert(json_get_number(&v, "pid", &d));
	ck_assert(d == 26016);
	ck_assert(json_get_number(&v, "updated_at", &d));
	ck_assert(fabs(d - 1796154831.446) < 1e-6);
	ck_assert_str_eq(json_get_str(&v, "matrix"), "/m/x.yaml");
	ck_assert_int_eq(json_get(&v, "stopping")->type, JSON_BOOL);
	ck_assert_int_eq(json_get(&v, "stopping")->boolean, 0);
	ck_assert_int_eq(json_get(&v, "paused")->type, JSON_NULL);
	ck_assert_ptr_null(json_get_str(&v, "paused"));
	loop = json_get(&v, "loop");
	ck_assert(json_get_number(loop, "worst_lag_ms", &d));
	ck_assert(fabs(d - 3.2) < 1e-9);
	jobs = json_get(&v, "jobs");
	ck_assert_int_eq(jobs->type, JSON_ARRAY);
	ck_assert_uint_eq(jobs->n, 1);
	job = &jobs->items[0];
	ck_assert_str_eq(json_get_str(job, "stage"), "make");
	ck_assert(json_get_number(job, "started_at", &d));
	ck_assert(d == 1e9);
	/* Missing members and members of the wrong type read as absent. */
	ck_assert_ptr_null(json_get(&v, "nosuch"));
	ck_assert_ptr_null(json_get_str(&v, "pid"));
	ck_assert(!json_get_number(&v, "matrix", &d));
	ck_assert_str_eq(json_get_str(job, "tree"), "demo");
	ck_assert_ptr_null(json_get(jobs, "tree"));
	json_value_release(&v);
}
END_TEST

START_TEST(reader_escapes_and_unicode)
{
	struct json_value v;

	parse_ok(&v, "[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\","
		 " \"\\ud83d\\ude00\", \"\xc3\xa9\", -0.5e+2, true, {}]");
	ck_assert_uint_eq(v.n, 7);
	ck_assert_str_eq(v.items[0].string, "a\"\\/\b\f\n\r\t");
	ck_assert_str_eq(v.items[1].string, "\xc3\xa9\xe2\x82\xac");
	ck_assert_str_eq(v.items[2].string, "\xf0\x9f\x98\x80");
	ck_assert_str_eq(v.items[3].string, "\xc3\xa9");
	ck_assert(v.items[4].number == -50);
	ck_assert_int_eq(v.items[5].boolean, 1);
	ck_assert_int_eq(v.items[6].type, JSON_OBJECT);
	ck_assert_uint_eq(v.items[6].n, 0);
	json_value_release(&v);
}
END_TEST

START_TEST(reader_rejects_bad_text)
{
	parse_bad("", "expected a value");
	parse_bad("{\"a\": 1} x", "text after the value");
	parse_bad("{\"a\" 1}", "expected ':'");
	parse_bad("{\"a\": 1,}", "expected a key");
	parse_bad("[1 2]", "expected ',' or ']'");
	parse_bad("[\"abc", "unterminated string");
	parse_bad("[\"a\nb\"]", "control character");
	parse_bad("[01]", "bad number");
	parse_bad("[1.]", "bad number");
	parse_bad("[tru]", "unexpected character");
	parse_bad("[\"\\x\"]", "bad escape");
	parse_bad("[\"\\ud800\"]", "unpaired surrogate");
	parse_bad("[\"\\udc00\"]", "unpaired surrogate");
	parse_bad("{\"a\": [1, {\"b\": }]}", "unexpected character");
}
END_TEST

START_TEST(reader_depth_is_bounded)
{
	char deep[200];

	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	parse_bad(deep, "nested too deep");
}
END_TEST

/* What the writer writes, the reader reads back. */
START_TEST(round_trip)
{
	static const char odd[] = "tab\there \"q\" back\\slash \x1b[31m";
	struct strbuf sb = STRBUF_INIT;
	struct json_value v;
	struct json j;

	json_init(&j, &sb);
	json_object_begin(&j);
	json_key_str(&j, "s", odd);
	json_key_double(&j, "t", 1796154831.446);
	json_key(&j, "a");
	json_array_begin(&j);
	json_object_begin(&j);
	json_key_int(&j, "n", 7);
	json_object_end(&j);
	json_array_end(&j);
	json_object_end(&j);
	parse_ok(&v, sb.buf);
	ck_assert_str_eq(json_get_str(&v, "s"), odd);
	ck_assert(fabs(json_get(&v, "t")->number - 1796154831.446) < 1e-6);
	ck_assert(json_get(&v, "a")->items[0].items[0].number == 7);
	json_value_release(&v);
	strbuf_release(&sb);
}
END_TEST

START_TEST(verdict_exit_codes)
{
	ck_assert_int_eq(verdict_exit_code(VERDICT_PASS), EXIT_OK);
	ck_assert_int_eq(verdict_exit_code(VERDICT_SKIP), EXIT_OK);
	ck_assert_int_eq(verdict_exit_code(VERDICT_FAIL), EXIT_FAIL);
	ck_assert_int_eq(verdict_exit_code(VERDICT_BLOCKED), EXIT_FAIL);
	ck_assert_int_eq(verdict_exit_code(VERDICT_ERROR), EXIT_ERROR);
	ck_assert_int_eq(verdict_exit_worst(EXIT_OK, EXIT_ERROR), EXIT_ERROR);
	ck_assert_int_eq(verdict_exit_worst(EXIT_ERROR, EXIT_FAIL), EXIT_FAIL);
	ck_assert_int_eq(verdict_exit_worst(EXIT_FAIL, EXIT_ERROR), EXIT_FAIL);
	ck_assert_int_eq(verdict_exit_worst(EXIT_FAIL, EXIT_OK), EXIT_FAIL);
	ck_assert_int_eq(verdict_exit_worst(EXIT_FAIL, EXIT_USAGE),
			 EXIT_USAGE);
	ck_assert_int_eq(verdict_exit_worst(130, EXIT_FAIL), 130);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, writer_nesting_and_commas);
	tcase_add_test(tc, writer_top_object_a_member_a_line);
	tcase_add_test(tc, writer_empty_and_special_values);
	tcase_add_test(tc, writer_incomplete_is_not_complete);
	tcase_add_exit_test(tc, writer_value_without_key_dies, 2);
	tcase_add_exit_test(tc, writer_mismatched_end_dies, 2);
	tcase_add_exit_test(tc, writer_key_in_array_dies, 2);
	tcase_add_exit_test(tc, writer_two_top_values_die, 2);
	tcase_add_test(tc, reader_status_file);
	tcase_add_test(tc, reader_escapes_and_unicode);
	tcase_add_test(tc, reader_rejects_bad_text);
	tcase_add_test(tc, reader_depth_is_bounded);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, verdict_exit_codes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
