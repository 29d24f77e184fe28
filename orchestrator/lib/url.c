/*
 * url: userinfo and query stripped from URLs for display (see url.h).
 * Only "scheme://authority/path" URLs carry a userinfo; scp-like
 * "user@host:path" names a login, not a secret, and is left alone.
 */
#include <ctype.h>
#include <string.h>

#include "lib/url.h"
#include "lib/xmalloc.h"

/* Where a URL embedded in text ends: a space, a control or a quote. */
static int url_ends(unsigned char c)
{
	return !c || c <= ' ' || c == 0x7f || c == '"' || c == '\'' ||
	       c == '<' || c == '>' || c == '`';
}

/* Is s[0..] the start of a "scheme://"? Returns the scheme's length. */
static size_t scheme_len(const char *s, size_t len)
{
	size_t i;

	if (!len || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = s[i];

		if (isalnum(c) || c == '+' || c == '-' || c == '.')
			continue;
		break;
	}
	if (i + 3 <= len && !memcmp(s + i, "://", 3))
		return i;
	return 0;
}

/*
 * Append the URL s[0..len) (from its scheme on) to out without userinfo,
 * query or fragment.
 */
static void add_clean(struct strbuf *out, const char *s, size_t len)
{
	size_t sl = scheme_len(s, len), auth, end, at = 0, i;

	if (!sl) {
		strbuf_add(out, s, len);
		return;
	}
	auth = sl + 3;
	/* The authority ends at the path, query or fragment. */
	for (end = auth; end < len; end++) {
		if (s[end] == '/' || s[end] == '?' || s[end] == '#')
			break;
		if (s[end] == '@')
			at = end + 1;	/* the last '@' ends the userinfo */
	}
	strbuf_add(out, s, auth);
	if (at)
		strbuf_add(out, s + at, end - at);
	else
		strbuf_add(out, s + auth, end - auth);
	for (i = end; i < len && s[i] != '?' && s[i] != '#'; i++)
		;
	strbuf_add(out, s + end, i - end);
}

char *url_display(const char *url)
{
	struct strbuf sb = STRBUF_INIT;

	if (!url)
		return NULL;
	add_clean(&sb, url, strlen(url));
	return strbuf_detach(&sb, NULL);
}

void url_redact(struct strbuf *sb)
{
	struct strbuf out = STRBUF_INIT;
	size_t i = 0, from = 0;

	while (i < sb->len) {
		size_t sl, end;

		/* A scheme starts a word: not inside "xhttps://". */
		if ((i && isalnum((unsigned char)sb->buf[i - 1])) ||
		    !(sl = scheme_len(sb->buf + i, sb->len - i))) {
			i++;
			continue;
		}
		for (end = i + sl + 3; end < sb->len; end++)
			if (url_ends(sb->buf[end]))
				break;
		strbuf_add(&out, sb->buf + from, i - from);
		add_clean(&out, sb->buf + i, end - i);
		i = from = end;
	}
	if (!from) {
		strbuf_release(&out);
		return;
	}
	strbuf_add(&out, sb->buf + from, sb->len - from);
	strbuf_release(sb);
	*sb = out;
}
