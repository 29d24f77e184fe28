/*
 * Unit tests for lib/mail.c: a git author's name never adds a recipient,
 * display names are quoted or encoded per RFC 5322 / RFC 2047, and
 * addresses that are not plain local@host ones are refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mail.h"

static void mailbox_is(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = mail_add_mailbox(&sb, in);

	if (want) {
		ck_assert_msg(rc == 0, "refused: %s", in);
		ck_assert_str_eq(sb.buf, want);
	} else {
		ck_assert_msg(rc < 0, "taken: %s as %s", in, sb.buf);
		ck_assert_uint_eq(sb.len, 0);
	}
	strbuf_release(&sb);
}

/* Recipients a mail reader sees in an address list: its top-level ','s. */
static size_t count_recipients(const char *s)
{
	size_t n = 1;
	int quoted = 0, angle = 0;

	for (; *s; s++) {
		if (*s == '\\' && quoted && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == '<')
			angle = 1;
		else if (!quoted && *s == '>')
			angle = 0;
		else if (!quoted && !angle && *s == ',')
			n++;
	}
	return n;
}

START_TEST(author_with_comma_is_one_recipient)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_int_eq(mail_add_mailbox(&sb, "victim@evil.example, Foo "
					  "<a@kernel.example>"), 0);
	ck_assert_str_eq(sb.buf,
			 "\"victim@evil.example, Foo\" <a@kernel.example>");
	ck_assert_uint_eq(count_recipients(sb.buf), 1);
	strbuf_release(&sb);
}
END_TEST

START_TEST(display_names)
{
	mailbox_is("Jane Doe <jane@kernel.example>",
		   "Jane Doe <jane@kernel.example>");
	mailbox_is("jane@kernel.example", "jane@kernel.example");
	mailbox_is("<jane@kernel.example>", "<jane@kernel.example>");
	mailbox_is("J. \"Q\" Doe\\ <j@x.example>",
		   "\"J. \\\"Q\\\" Doe\\\\\" <j@x.example>");
	mailbox_is("\"Doe, Jane\" <jane@x.example>",
		   "\"Doe, Jane\" <jane@x.example>");
	mailbox_is("a <b> <c@x.example>", "\"a <b>\" <c@x.example>");
	/* One mailbox: the last <> is the address, the rest all name. */
	mailbox_is("Foo <a@b.example>, <c@d.example>",
		   "\"Foo <a@b.example>,\" <c@d.example>");
	mailbox_is("Jos\xc3\xa9 <j@x.example>",
		   "=?UTF-8?B?Sm9zw6k=?= <j@x.example>");
}
END_TEST

START_TEST(addresses_refused)
{
	mailbox_is("victim@evil.example, a@kernel.example", NULL);
	mailbox_is("Foo <a@b.example> x", NULL);
	mailbox_is("Foo <a@b.example>>", NULL);
	mailbox_is("Foo <>", NULL);
	mailbox_is("Foo <a>", NULL);
	mailbox_is("Foo <a@>", NULL);
	mailbox_is("Foo <@b>", NULL);
	mailbox_is("Foo <a..b@c>", NULL);
	mailbox_is("Foo <a@b..c>", NULL);
	mailbox_is("Foo <a@-b.c->", NULL);
	mailbox_is("Foo <\"a b\"@c>", NULL);
	mailbox_is("Foo <a@[127.0.0.1]>", NULL);
	mailbox_is("Foo <a@b\r\nBcc: x@y>", NULL);
	mailbox_is("", NULL);
	ck_assert(mail_addr_ok("a.b+c@kernel.org", 16));
	ck_assert(mail_addr_ok("hvmatrix@host", 13));
}
END_TEST

START_TEST(list_drops_bad_ones)
{
	struct strbuf sb = STRBUF_INIT, dropped = STRBUF_INIT;

	ck_assert_uint_eq(mail_add_list(&sb, "kvm@vger.kernel.org, \"A, B\" "
					"<ab@x.example>, nope, "
					"Me <m@x.example>", &dropped), 3);
	ck_assert_str_eq(sb.buf, "kvm@vger.kernel.org, \"A, B\" "
			 "<ab@x.example>, Me <m@x.example>");
	ck_assert_str_eq(dropped.buf, " nope\n");
	ck_assert_uint_eq(count_recipients(sb.buf), 3);
	strbuf_release(&sb);
	strbuf_release(&dropped);
}
END_TEST

START_TEST(text_encoded)
{
	struct strbuf sb = STRBUF_INIT;

	mail_add_text(&sb, "plain");
	ck_assert_str_eq(sb.buf, "plain");
	strbuf_reset(&sb);
	mail_add_text(&sb, "\xc3\xa9");
	ck_assert_str_eq(sb.buf, "=?UTF-8?B?w6k=?=");
	strbuf_release(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mail");
	TCase *tc = tcase_create("mail");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, author_with_comma_is_one_recipient);
	tcase_add_test(tc, display_names);
	tcase_add_test(tc, addresses_refused);
	tcase_add_test(tc, list_drops_bad_ones);
	tcase_add_test(tc, text_encoded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
