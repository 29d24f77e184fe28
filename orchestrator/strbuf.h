/*
 * strbuf: a growable, always NUL-terminated string buffer (after git's),
 * with the escapers every output path uses: JSON and HTML. Anything shown
 * on the dashboard or printed as JSON goes through these.
 */
#ifndef HVM_STRBUF_H
#define HVM_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

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

/* Append s as a JSON string literal, quotes included; NULL gives null. */
void strbuf_add_json_str(struct strbuf *sb, const char *s);
/* Append s with & < > " ' escaped for HTML text and attribute values. */
void strbuf_add_html(struct strbuf *sb, const char *s);
/*
 * Append s as a value quoted in an error message: in double quotes, with
 * quotes, backslashes and control characters escaped, cut after max
 * characters ("...").
 */
void strbuf_add_quoted(struct strbuf *sb, const char *s, size_t max);
/* Append Unix time t as UTC ISO 8601 ("2026-11-25T13:41:05Z"). */
void strbuf_add_utc(struct strbuf *sb, double t);

#endif
