/*
 * mail: RFC 5322 / RFC 2047 header pieces (see mail.h). The addresses
 * accepted are the plain ones a kernel developer has: a dot-atom local
 * part and a host name; anything else (quoted local parts, domain
 * literals, comments, groups) is refused, not guessed at.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/mail.h"
#include "lib/xmalloc.h"

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void add_base64(struct strbuf *sb, const unsigned char *p, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		strbuf_addch(sb, b64[p[i] >> 2]);
		strbuf_addch(sb, b64[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		strbuf_addch(sb, b64[(p[i + 1] & 15) << 2 | p[i + 2] >> 6]);
		strbuf_addch(sb, b64[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		strbuf_addch(sb, b64[p[i] >> 2]);
		strbuf_addch(sb, b64[(p[i] & 3) << 4]);
		strbuf_addstr(sb, "==");
	} else if (n - i == 2) {
		strbuf_addch(sb, b64[p[i] >> 2]);
		strbuf_addch(sb, b64[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		strbuf_addch(sb, b64[(p[i + 1] & 15) << 2]);
		strbuf_addch(sb, '=');
	}
}

/* A word of 45 bytes is 60 of base64: it stays under 75 characters. */
void mail_add_text(struct strbuf *sb, const char *s)
{
	size_t len = strlen(s), i = 0;

	if (is_ascii(s)) {
		strbuf_addstr(sb, s);
		return;
	}
	while (i < len) {
		size_t n = len - i > 45 ? 45 : len - i;

		while (i + n < len &&
		       ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		if (i)
			strbuf_addstr(sb, "\n ");
		strbuf_addstr(sb, "=?UTF-8?B?");
		add_base64(sb, (const unsigned char *)s + i, n);
		strbuf_addstr(sb, "?=");
		i += n;
	}
}

/* RFC 5322 atext: what an atom (a dot-atom's parts) is made of. */
static int is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~",
						       c));
}

static int is_host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

int mail_addr_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t local, i;

	if (!at || len > 254)
		return 0;
	local = (size_t)(at - s);
	if (!local || local > 64 || local + 1 == len)
		return 0;
	for (i = 0; i < local; i++)
		if (!is_atext(s[i]) &&
		    !(s[i] == '.' && i && i + 1 < local && s[i + 1] != '.'))
			return 0;
	for (i = local + 1; i < len; i++) {
		int edge = i == local + 1 || i + 1 == len;

		/* A label neither starts nor ends with '-'. */
		if (s[i] == '-' && (edge || s[i - 1] == '.' ||
				    s[i + 1] == '.'))
			return 0;
		if (is_host_char(s[i]))
			continue;
		if (s[i] == '.' && !edge && s[i + 1] != '.')
			continue;
		return 0;
	}
	return 1;
}

/* An ASCII display name made only of atoms and single spaces. */
static int is_phrase_of_atoms(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_atext(s[i]) &&
		    !(s[i] == ' ' && i && i + 1 < len && s[i + 1] != ' '))
			return 0;
	return len > 0;
}

static void add_display_name(struct strbuf *sb, const char *s, size_t len)
{
	char *name = xstrndup(s, len);
	size_t i;

	if (!is_ascii(name)) {
		mail_add_text(sb, name);
	} else if (is_phrase_of_atoms(name, len)) {
		strbuf_add(sb, name, len);
	} else {
		/* A quoted-string: '"' and '\' escaped, controls (none
		 * should be left) made spaces. */
		strbuf_addch(sb, '"');
		for (i = 0; i < len; i++) {
			unsigned char c = name[i];

			if (c == '"' || c == '\\')
				strbuf_addch(sb, '\\');
			strbuf_addch(sb, c < ' ' || c == 0x7f ? ' ' : c);
		}
		strbuf_addch(sb, '"');
	}
	free(name);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int mail_add_mailbox(struct strbuf *sb, const char *mailbox)
{
	const char *s = mailbox, *lt, *gt;
	size_t len = strlen(s), nlen;

	while (len && is_space(*s))
		s++, len--;
	while (len && is_space(s[len - 1]))
		len--;
	if (!len)
		return -1;
	if (s[len - 1] != '>') {
		if (!mail_addr_ok(s, len))
			return -1;
		strbuf_add(sb, s, len);
		return 0;
	}
	gt = s + len - 1;
	/* The address is what the last '<' opens; the rest is the name. */
	for (lt = gt; lt > s && lt[-1] != '<'; lt--)
		;
	if (lt == s || !mail_addr_ok(lt, (size_t)(gt - lt)))
		return -1;
	nlen = (size_t)(lt - 1 - s);
	while (nlen && is_space(s[nlen - 1]))
		nlen--;
	/* A name already quoted ("Foo, Bar" <a@b>) is taken unquoted. */
	if (nlen >= 2 && s[0] == '"' && s[nlen - 1] == '"' &&
	    !memchr(s + 1, '"', nlen - 2) && !memchr(s + 1, '\\', nlen - 2)) {
		s++;
		nlen -= 2;
	}
	if (nlen) {
		add_display_name(sb, s, nlen);
		strbuf_addch(sb, ' ');
	}
	strbuf_addch(sb, '<');
	strbuf_add(sb, lt, (size_t)(gt - lt));
	strbuf_addch(sb, '>');
	return 0;
}

size_t mail_add_list(struct strbuf *sb, const char *list,
		     struct strbuf *dropped)
{
	const char *p = list, *start = list;
	int quoted = 0, angle = 0;
	size_t n = 0;

	for (;; p++) {
		if (*p == '"' && (p == list || p[-1] != '\\'))
			quoted = !quoted;
		else if (!quoted && *p == '<')
			angle = 1;
		else if (!quoted && *p == '>')
			angle = 0;
		if (*p && (*p != ',' || quoted || angle))
			continue;
		{
			char *one = xstrndup(start, (size_t)(p - start));
			size_t mark = sb->len;

			if (n)
				strbuf_addstr(sb, ", ");
			if (mail_add_mailbox(sb, one) == 0) {
				n++;
			} else {
				strbuf_setlen(sb, mark);
				if (strspn(one, " \t") != strlen(one))
					strbuf_addf(dropped, "%s\n", one);
			}
			free(one);
		}
		if (!*p)
			break;
		start = p + 1;
	}
	return n;
}
