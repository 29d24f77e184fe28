/*
 * Unit tests for lib/url.c: a tree URL's userinfo and query never reach
 * what is shown, whether the URL stands alone or inside a message.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/url.h"

static void display_is(const char *url, const char *want)
{
	char *got = url_display(url);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(display_strips_userinfo_and_query)
{
	display_is("https://user:TOKEN@git.example/a/b.git",
		   "https://git.example/a/b.git");
	display_is("https://TOKEN@git.example", "https://git.example");
	display_is("https://git.example/x.git?private_token=TOKEN#frag",
		   "https://git.example/x.git");
	display_is("https://a@b:TOKEN@git.example:8443/x?y",
		   "https://git.example:8443/x");
	/* An '@' in the path is not userinfo. */
	display_is("https://git.example/~u@x/y.git",
		   "https://git.example/~u@x/y.git");
	display_is("git@github.com:torvalds/linux.git",
		   "git@github.com:torvalds/linux.git");
	display_is("/srv/git/linux", "/srv/git/linux");
	ck_assert_ptr_null(url_display(NULL));
}
END_TEST

START_TEST(redact_in_text)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "poll t: https://u:TOKEN@h.example/r.git: cannot "
		      "fetch 'https://u:TOKEN@h.example/r.git?k=TOKEN2' "
		      "(see ssh://me:TOKEN3@h/x)");
	url_redact(&sb);
	ck_assert_str_eq(sb.buf, "poll t: https://h.example/r.git: cannot "
			 "fetch 'https://h.example/r.git' (see ssh://h/x)");
	ck_assert_ptr_null(strstr(sb.buf, "TOKEN"));
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "nothing to see: user@host, a://");
	url_redact(&sb);
	ck_assert_str_eq(sb.buf, "nothing to see: user@host, a://");
	strbuf_release(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("url");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, display_strips_userinfo_and_query);
	tcase_add_test(tc, redact_in_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
