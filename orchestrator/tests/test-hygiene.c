/*
 * test-hygiene: whatever bytes a guest prints, every JSON and HTML string
 * hvmatrix writes is valid UTF-8 with no raw control or terminal escape
 * (strbuf.c's escapers), checked with a UTF-8 decoder of the test's own.
 *
 * t-hygiene.sh checks the same through the CLI and the dashboard, on a
 * store that `test-tool fill-store` fills.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/logfile.h"
#include "store/record.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

/*
 * Strict UTF-8, decoded the long way (code point, then its range), apart
 * from strbuf.c's table: no overlong form, no surrogate, nothing past
 * U+10FFFF, nothing cut short.
 */
static int valid_utf8(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, k, n;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 2; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 3; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 4; cp = s[i] & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (i + n > len)
			return 0;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

/* No raw C0 control (but those allowed), DEL or C1 control. */
static int no_raw_controls(const char *buf, size_t len, const char *allowed)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((s[i] < 0x20 && !(s[i] && strchr(allowed, s[i]))) ||
		    s[i] == 0x7f)
			return 0;
		/* U+0080..U+009F is 0xc2 0x80..0x9f */
		if (s[i] == 0xc2 && i + 1 < len && s[i + 1] < 0xa0)
			return 0;
	}
	return 1;
}

struct nasty {
	const char *s;
	size_t len;
	const char *json;	/* expected strbuf_add_json_strn */
	const char *html;	/* expected strbuf_add_html_n */
};

#define N(lit) lit, sizeof(lit) - 1
#define FFFD "\xef\xbf\xbd"

static const struct nasty nasties[] = {
	{ N("\xff"), "\"" FFFD "\"", FFFD },
	{ N("\xfe\xff"), "\"" FFFD FFFD "\"", FFFD FFFD },
	/* Overlongs: "/" in two and three bytes. */
	{ N("\xc0\xaf"), "\"" FFFD FFFD "\"", FFFD FFFD },
	{ N("\xe0\x80\xaf"), "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD },
	/* A surrogate, and past U+10FFFF. */
	{ N("\xed\xa0\x80"), "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD },
	{ N("\xf4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"",
	  FFFD FFFD FFFD FFFD },
	/* Cut short: at the end, and before an ASCII byte. */
	{ N("\xe2\x82"), "\"" FFFD "\"", FFFD },
	{ N("\xe2\x82" "A"), "\"" FFFD "A\"", FFFD "A" },
	{ N("\xf0\x9f\x98"), "\"" FFFD "\"", FFFD },
	{ N("a\0b"), "\"a\\u0000b\"", "a\xe2\x90\x80" "b" },
	{ N("\x01\x7f"), "\"\\u0001\\u007f\"", "\xe2\x90\x81\xe2\x90\xa1" },
	{ N("\x1b[1;31mred\x1b[0m"), "\"\\u001b[1;31mred\\u001b[0m\"",
	  "red" },
	{ N("\x1b]0;title\x07text"), "\"\\u001b]0;title\\u0007text\"",
	  "text" },
	{ N("\x1b(Bx\x1b" "7y"), "\"\\u001b(Bx\\u001b7y\"", "xy" },
	{ N("end\x1b"), "\"end\\u001b\"", "end\xe2\x90\x9b" },
	{ N("a\x1b[31"), "\"a\\u001b[31\"", "a" },
	/* A C1 control (8-bit CSI) is valid UTF-8 but no text. */
	{ N("\xc2\x9b" "2J"), "\"\\u009b2J\"", FFFD "2J" },
	{ N("<b>\"'&\r\n\t"), "\"<b>\\\"'&\\r\\n\\t\"",
	  "&lt;b&gt;&quot;&#39;&amp;\r\n\t" },
	/* Valid text passes as it is. */
	{ N("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
	{ N("\xef\xbf\xbd"), "\"" FFFD "\"", FFFD },
};

START_TEST(escapers_on_nasty_bytes)
{
	const struct nasty *t = &nasties[_i];
	struct strbuf json = STRBUF_INIT, html = STRBUF_INIT;

	strbuf_add_json_strn(&json, t->s, t->len);
	strbuf_add_html_n(&html, t->s, t->len);
	ck_assert_msg(valid_utf8(json.buf, json.len), "case %d json", _i);
	ck_assert_msg(valid_utf8(html.buf, html.len), "case %d html", _i);
	ck_assert_msg(no_raw_controls(json.buf, json.len, ""), "case %d", _i);
	ck_assert_msg(no_raw_controls(html.buf, html.len, "\t\n\r"),
		      "case %d", _i);
	ck_assert_str_eq(json.buf, t->json);
	ck_assert_str_eq(html.buf, t->html);
	strbuf_release(&json);
	strbuf_release(&html);
}
END_TEST

static void check_outputs(const char *s, size_t len)
{
	struct strbuf json = STRBUF_INIT, html = STRBUF_INIT;
	struct strbuf line = STRBUF_INIT;

	strbuf_add_json_strn(&json, s, len);
	strbuf_add_html_n(&html, s, len);
	strbuf_add_clean(&line, s, len, STRBUF_CLEAN_LINE);
	ck_assert(valid_utf8(json.buf, json.len));
	ck_assert(valid_utf8(html.buf, html.len));
	ck_assert(valid_utf8(line.buf, line.len));
	ck_assert(no_raw_controls(json.buf, json.len, ""));
	ck_assert(no_raw_controls(html.buf, html.len, "\t\n\r"));
	ck_assert(no_raw_controls(line.buf, line.len, ""));
	ck_assert_ptr_null(memchr(html.buf, '<', html.len));
	strbuf_release(&json);
	strbuf_release(&html);
	strbuf_release(&line);
}

/* Every two-byte string, and random ones up to 12 bytes. */
START_TEST(escapers_on_every_short_string)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned char s[12];
	unsigned i, k, len;

	for (i = 0; i < 65536; i++) {
		s[0] = (unsigned char)(i >> 8);
		s[1] = (unsigned char)i;
		check_outputs((const char *)s, 2);
	}
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 1 + (unsigned)(x % 12);
		for (k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Favour the bytes that start sequences. */
			s[k] = x % 3 ? (unsigned char)(x >> 8) :
			       (unsigned char)"\x1b[]\xe2\xf0\xc2\x80\x9b"
			       [(x >> 8) % 8];
		}
		check_outputs((const char *)s, len);
	}
}
END_TEST

/* Valid UTF-8 text comes out as it went in. */
START_TEST(valid_text_is_kept)
{
	static const uint32_t cps[] = { 0x41, 0xe9, 0x7ff, 0x800, 0xfffd,
					0xd7ff, 0xe000, 0xffff, 0x10000,
					0x1f600, 0x10ffff };
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		uint32_t c = cps[i];

		if (c < 0x80) {
			strbuf_addch(&in, (int)c);
		} else if (c < 0x800) {
			strbuf_addch(&in, 0xc0 | c >> 6);
			strbuf_addch(&in, 0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			strbuf_addch(&in, 0xe0 | c >> 12);
			strbuf_addch(&in, 0x80 | (c >> 6 & 0x3f));
			strbuf_addch(&in, 0x80 | (c & 0x3f));
		} else {
			strbuf_addch(&in, 0xf0 | c >> 18);
			strbuf_addch(&in, 0x80 | (c >> 12 & 0x3f));
			strbuf_addch(&in, 0x80 | (c >> 6 & 0x3f));
			strbuf_addch(&in, 0x80 | (c & 0x3f));
		}
	}
	ck_assert(valid_utf8(in.buf, in.len));
	strbuf_add_html_n(&out, in.buf, in.len);
	ck_assert_uint_eq(out.len, in.len);
	ck_assert_mem_eq(out.buf, in.buf, in.len);
	strbuf_reset(&out);
	strbuf_add_json_strn(&out, in.buf, in.len);
	ck_assert_uint_eq(out.len, in.len + 2);
	ck_assert_mem_eq(out.buf + 1, in.buf, in.len);
	strbuf_release(&in);
	strbuf_release(&out);
}
END_TEST

/* A stream cut anywhere cleans as it would whole. */
START_TEST(clean_stream_any_split)
{
	static const char s[] = "ok \xe2\x82\xac \x1b[1;31mred\x1b[0m "
		"\xf0\x9f\x98\x80 \x1b]0;title\x1b\\ \xc3 \xe2\x82 tail\0z"
		"\x1b[";
	const size_t len = sizeof(s) - 1;
	struct strbuf whole = STRBUF_INIT, parts = STRBUF_INIT;
	size_t k, used;
	char *rest;

	strbuf_add_clean(&whole, s, len, STRBUF_CLEAN_HTML);
	ck_assert(valid_utf8(whole.buf, whole.len));
	ck_assert_ptr_null(memchr(whole.buf, 0x1b, whole.len));
	for (k = 0; k <= len; k++) {
		strbuf_reset(&parts);
		used = strbuf_add_clean(&parts, s, k,
					STRBUF_CLEAN_HTML | STRBUF_CLEAN_MORE);
		ck_assert_uint_le(used, k);
		ck_assert_uint_le(k - used, 256);
		rest = xmalloc(len - used + 1);
		memcpy(rest, s + used, len - used);
		strbuf_add_clean(&parts, rest, len - used, STRBUF_CLEAN_HTML);
		free(rest);
		ck_assert_msg(parts.len == whole.len &&
			      !memcmp(parts.buf, whole.buf, whole.len),
			      "split at %zu differs", k);
	}
	strbuf_release(&whole);
	strbuf_release(&parts);
}
END_TEST

static int run_unit_tests(void)
{
	Suite *s = suite_create("hygiene");
	TCase *tc = tcase_create("escapers");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, escapers_on_nasty_bytes, 0,
			    sizeof(nasties) / sizeof(nasties[0]));
	tcase_add_test(tc, escapers_on_every_short_string);
	tcase_add_test(tc, valid_text_is_kept);
	tcase_add_test(tc, clean_stream_any_split);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(void)
{
	return run_unit_tests();
}
