/*
 * strbuf: a growable, always NUL-terminated string buffer (after git's),
 * with the escapers every output path uses: JSON and HTML. Anything shown
 * on the dashboard or printed as JSON goes through these.
 */
#ifndef HVM_STRBUF_H
#define HVM_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { strbuf_slopbuf, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/*
 * The escapers emit valid UTF-8 whatever the bytes they are given (console
 * output is anything a guest prints): an ill-formed sequence (overlong,
 * surrogate, truncated, stray byte) becomes U+FFFD.
 *
 * JSON: s as a string literal, quotes included; NULL gives null. Controls
 * (C0, DEL, C1) and U+2028/9 are \u escapes, NULs included with _strn.
 */
void strbuf_add_json_str(struct strbuf *sb, const char *s);
void strbuf_add_json_strn(struct strbuf *sb, const char *s, size_t len);
/*
 * Text for people (a page, a terminal): terminal escape sequences (CSI,
 * OSC, ESC + final) are dropped, tab, LF and CR kept, any other control
 * shown as its Unicode picture (NUL as U+2400, ESC as U+241B), a C1
 * control as U+FFFD. STRBUF_CLEAN_HTML also escapes & < > " ' for HTML
 * text and attribute values. STRBUF_CLEAN_MORE: s is a chunk of a stream,
 * so a sequence it ends inside is left for the next call, with the bytes
 * after it (at most 256). STRBUF_CLEAN_LINE: one line of a table, so tab,
 * LF and CR show as their pictures too. Returns the bytes of s consumed
 * (all of them without STRBUF_CLEAN_MORE).
 */
#define STRBUF_CLEAN_HTML 1u
#define STRBUF_CLEAN_MORE 2u
#define STRBUF_CLEAN_LINE 4u
size_t strbuf_add_clean(struct strbuf *sb, const char *s, size_t len,
			unsigned flags);
/* strbuf_add_clean(.., STRBUF_CLEAN_HTML) of a C string (NULL: nothing). */
void strbuf_add_html(struct strbuf *sb, const char *s);
void strbuf_add_html_n(struct strbuf *sb, const char *s, size_t len);
/*
 * Append s as a value quoted in an error message: in double quotes, with
 * quotes, backslashes and control characters escaped, cut after max
 * characters ("...").
 */
void strbuf_add_quoted(struct strbuf *sb, const char *s, size_t max);
/* Append Unix time t as UTC ISO 8601 ("2026-11-25T13:41:05Z"). */
void strbuf_add_utc(struct strbuf *sb, double t);

/*
 * One UTF-8 sequence at s (len > 0): its length, with *cp its code point,
 * or STRBUF_UTF8_BAD for an ill-formed sequence, whose length is then that
 * of its maximal subpart (Unicode 3.9, table 3-7: no overlongs, no surrogates,
 * nothing past U+10FFFF), so "\xe2\x82A" is one bad sequence and an "A".
 * 0 when s ends inside a sequence that may still be well-formed and more
 * is to come.
 */
#define STRBUF_UTF8_BAD 0xffffffffu
size_t strbuf_utf8_decode(const unsigned char *s, size_t len, int more,
			  uint32_t *cp);

#endif
