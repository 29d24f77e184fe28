/*
 * strbuf: growable strings and the JSON/HTML escapers. Escaping lives here,
 * in one place, so no output path can forget it. The escapers take any
 * bytes (a guest prints anything) and must only ever emit valid UTF-8 with
 * no raw control: the JSON parser and the browser downstream get nothing
 * to choke on, a terminal nothing to obey.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/strbuf.h"
#include "lib/xmalloc.h"

char strbuf_slopbuf[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->buf = strbuf_slopbuf;
	sb->len = 0;
	sb->alloc = 0;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	strbuf_grow(sb, 0);
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return res;
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	int fresh = !sb->alloc;

	if (sb->len + extra + 1 <= sb->alloc)
		return;
	if (fresh)
		sb->buf = NULL;
	sb->alloc = (sb->len + extra + 1) * 3 / 2 + 16;
	sb->buf = xrealloc(sb->buf, sb->alloc);
	if (fresh)
		sb->buf[0] = '\0';
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc) {
		if (len)
			die("strbuf_setlen beyond an empty buffer");
		return;
	}
	sb->len = len;
	sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	strbuf_setlen(sb, sb->len + len);
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len] = (char)c;
	strbuf_setlen(sb, sb->len + 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	/* Into the room there is first: most fit, and are formatted once. */
	strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		die("vsnprintf failed on \"%s\"", fmt);
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	}
	strbuf_setlen(sb, sb->len + (size_t)n);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

size_t strbuf_utf8_decode(const unsigned char *s, size_t len, int more,
			  uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t v;

	*cp = STRBUF_UTF8_BAD;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		if (c == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else {
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i == len)
			return more ? 0 : i;
		if (s[i] < lo || s[i] > hi)
			return i;
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

static void add_json_bytes(struct strbuf *sb, const unsigned char *p,
			   size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t n;

		switch (c) {
		case '"': strbuf_addstr(sb, "\\\""); i++; continue;
		case '\\': strbuf_addstr(sb, "\\\\"); i++; continue;
		case '\n': strbuf_addstr(sb, "\\n"); i++; continue;
		case '\r': strbuf_addstr(sb, "\\r"); i++; continue;
		case '\t': strbuf_addstr(sb, "\\t"); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\u%04x", c);
			i++;
			continue;
		}
		if (c < 0x80) {
			strbuf_addch(sb, c);
			i++;
			continue;
		}
		n = strbuf_utf8_decode(p + i, len - i, 0, &cp);
		if (cp == STRBUF_UTF8_BAD)
			strbuf_addstr(sb, replacement);
		else if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029)
			/* C1 controls and the separators JavaScript takes
			 * for line ends: valid JSON, escaped anyway. */
			strbuf_addf(sb, "\\u%04x", (unsigned)cp);
		else
			strbuf_add(sb, p + i, n);
		i += n;
	}
}

void strbuf_add_json_str(struct strbuf *sb, const char *s)
{
	if (!s) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_add_json_strn(sb, s, strlen(s));
}

void strbuf_add_json_strn(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_addch(sb, '"');
	add_json_bytes(sb, (const unsigned char *)s, len);
	strbuf_addch(sb, '"');
}

#define ANSI_MAX 256	/* longer is not a sequence we strip whole */
#define ANSI_PARTIAL ((size_t)-1)

/*
 * The length of the terminal escape sequence at s (s[0] is ESC): CSI
 * (ESC [ parameters intermediates final), OSC (ESC ] ... BEL or ESC \),
 * or ESC intermediates final. A malformed one ends before the byte that
 * breaks it, so the ESC always goes; 0 for an ESC that starts nothing.
 * ANSI_PARTIAL when s ends inside one and more is to come.
 */
static size_t ansi_len(const unsigned char *s, size_t len, int more)
{
	size_t i;

	if (len < 2)
		return more ? ANSI_PARTIAL : 0;
	if (s[1] == '[') {
		for (i = 2; i < len && i < ANSI_MAX; i++) {
			if (s[i] >= 0x40 && s[i] <= 0x7e)
				return i + 1;
			if (s[i] < 0x20 || s[i] > 0x3f)
				return i;
		}
	} else if (s[1] == ']') {
		for (i = 2; i < len && i < ANSI_MAX; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b) {
				if (i + 1 == len)
					break;
				return s[i + 1] == '\\' ? i + 2 : i;
			}
			if (s[i] < 0x20 || s[i] == 0x7f)
				return i;
		}
	} else {
		for (i = 1; i < len && i < ANSI_MAX; i++) {
			if (s[i] >= 0x30 && s[i] <= 0x7e)
				return i + 1;
			if (s[i] < 0x20 || s[i] > 0x2f)
				return i == 1 ? 0 : i;
		}
	}
	if (i >= ANSI_MAX)
		return i;
	return more ? ANSI_PARTIAL : i;
}

/* Plain text bytes that need nothing done: runs of them go at once. */
static int is_plain(unsigned char c, unsigned flags)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return !(flags & STRBUF_CLEAN_LINE);
	if (c < 0x20 || c >= 0x7f)
		return 0;
	return !(flags & STRBUF_CLEAN_HTML) ||
	       (c != '&' && c != '<' && c != '>' && c != '"' && c != '\'');
}

size_t strbuf_add_clean(struct strbuf *sb, const char *str, size_t len,
			unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	int more = flags & STRBUF_CLEAN_MORE;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		for (n = 0; i + n < len && is_plain(s[i + n], flags); n++)
			;
		if (n) {
			strbuf_add(sb, s + i, n);
			i += n;
			continue;
		}
		if (c == 0x1b) {
			n = ansi_len(s + i, len - i, more);
			if (n == ANSI_PARTIAL)
				break;
			if (n) {
				i += n;
				continue;
			}
		}
		if (c < 0x80) {
			switch (c) {
			case '&': strbuf_addstr(sb, "&amp;"); break;
			case '<': strbuf_addstr(sb, "&lt;"); break;
			case '>': strbuf_addstr(sb, "&gt;"); break;
			case '"': strbuf_addstr(sb, "&quot;"); break;
			case '\'': strbuf_addstr(sb, "&#39;"); break;
			default:
				/* A control shows as its picture (U+2400 +
				 * c, U+2421 for DEL), never as itself. */
				strbuf_addstr(sb, "\xe2\x90");
				strbuf_addch(sb, c == 0x7f ? 0xa1 : 0x80 + c);
			}
			i++;
			continue;
		}
		n = strbuf_utf8_decode(s + i, len - i, more, &cp);
		if (!n)
			break;
		if (cp == STRBUF_UTF8_BAD || cp <= 0x9f)	/* or a C1 control */
			strbuf_addstr(sb, replacement);
		else
			strbuf_add(sb, s + i, n);
		i += n;
	}
	return i;
}

void strbuf_add_html(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_clean(sb, s, strlen(s), STRBUF_CLEAN_HTML);
}

void strbuf_add_html_n(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_add_clean(sb, s, len, STRBUF_CLEAN_HTML);
}

void strbuf_add_utc(struct strbuf *sb, double t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		strbuf_addstr(sb, "?");
		return;
	}
	strbuf_addstr(sb, buf);
}

void strbuf_add_quoted(struct strbuf *sb, const char *s, size_t max)
{
	size_t i;

	strbuf_addch(sb, '"');
	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == max) {
			strbuf_addstr(sb, "...");
			break;
		}
		if (ch == '"' || ch == '\\')
			strbuf_addf(sb, "\\%c", ch);
		else if (ch == '\n')
			strbuf_addstr(sb, "\\n");
		else if (ch == '\t')
			strbuf_addstr(sb, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			strbuf_addf(sb, "\\x%02x", ch);
		else
			strbuf_addch(sb, ch);
	}
	strbuf_addch(sb, '"');
}
