/*
 * report: the one way lines for people reach stderr (see report.h). It
 * allocates nothing and calls nothing of the project, so that die() can
 * use it when memory has run out. What a line quotes is not trusted: it
 * reaches the terminal without escape sequences or controls.
 */
#include <stdio.h>
#include <time.h>

#include "lib/report.h"

static int quiet, stamp;

void report_set_quiet(int q)
{
	quiet = q;
}

int report_quiet(void)
{
	return quiet;
}

void report_set_stamp(int s)
{
	stamp = s;
}

/*
 * Where an escape sequence starting at s[0] (ESC) ends: CSI up to its
 * final byte, OSC/DCS/APC/PM/SOS up to BEL or ESC \, else ESC and one
 * byte. A sequence cut by the end of the line ends there.
 */
static size_t escape_len(const unsigned char *s, size_t len)
{
	size_t i;

	if (len < 2)
		return len;
	if (s[1] == '[') {
		for (i = 2; i < len && (s[i] < 0x40 || s[i] > 0x7e); i++)
			if (s[i] < 0x20)
				return i;	/* not a CSI: cut it here */
		return i < len ? i + 1 : len;
	}
	if (s[1] == ']' || s[1] == 'P' || s[1] == '_' || s[1] == '^' ||
	    s[1] == 'X') {
		for (i = 2; i < len; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b && i + 1 < len && s[i + 1] == '\\')
				return i + 2;
		}
		return len;
	}
	return 2;
}

/*
 * The line as a terminal may show it: what it quotes (a commit subject,
 * a guest's console) cannot move the cursor, set the title or the
 * clipboard (OSC 52). Escape sequences are dropped; other controls (C0
 * but tab and newline, DEL, and C1 as UTF-8) become '?', and so does each
 * ill-formed UTF-8 sequence (a raw C1 byte among them).
 */
/*
 * The second byte's range of a well-formed sequence led by c (Unicode 3.9,
 * table 3-7: no overlongs, no surrogates, nothing past U+10FFFF), and its
 * length; 0 for a byte that leads none. Written here, not taken from
 * lib/strbuf.c: strbuf's allocations die() through this file.
 */
static size_t utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c == 0xe0)
		*lo = 0xa0;
	else if (c == 0xed)
		*hi = 0x9f;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c == 0xf0)
		*lo = 0x90;
	else if (c == 0xf4)
		*hi = 0x8f;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* The well-formed sequence's length at s (s[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	unsigned char lo, hi;
	size_t n = utf8_lead(s[0], &lo, &hi), k;

	if (!n || n > len || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return n;
}

/* An ill-formed sequence's maximal subpart at s: one '?' for it all. */
static size_t utf8_bad_len(const unsigned char *s, size_t len)
{
	unsigned char lo, hi;
	size_t n = utf8_lead(s[0], &lo, &hi), k = 1;

	if (n && k < len && s[k] >= lo && s[k] <= hi)
		for (k = 2; k < n && k < len && s[k] >= 0x80 && s[k] <= 0xbf;)
			k++;
	return k;
}

static void put_clean(const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];

		if (c == 0x1b) {
			i += escape_len(s + i, len - i);
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_len(s + i, len - i);

			/* A raw C1 byte is a control (0x9b is CSI) to a
			 * terminal that is not in UTF-8 mode. */
			if (!n || (c == 0xc2 && s[i + 1] <= 0x9f)) {
				putc('?', stderr);
				n = n ? n : utf8_bad_len(s + i, len - i);
			} else {
				fwrite(s + i, 1, n, stderr);
			}
			i += n;
			continue;
		}
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			c = '?';
		putc(c, stderr);
		i++;
	}
}

static void vline(const char *stamp_fmt, const char *prefix,
		  const char *fmt, va_list ap)
{
	/* Used under stderr's lock only; static, as die() may have no
	 * memory left to allocate. Longer lines are cut. */
	static char line[65536];
	char head[32] = "";
	int n;

	if (stamp_fmt) {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(head, sizeof(head), stamp_fmt, &tm);
	}
	/* One lock for the whole line: threads never split it. */
	flockfile(stderr);
	fputs(head, stderr);
	fputs(prefix ? prefix : "", stderr);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n > 0)
		put_clean(line, (size_t)n < sizeof(line) ? (size_t)n :
			  sizeof(line) - 1);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void report_vprogress(const char *prefix, const char *fmt, va_list ap)
{
	if (!quiet)
		vline(stamp ? "[%H:%M:%S] " : NULL, prefix, fmt, ap);
}

void report_progress(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vprogress(prefix, fmt, ap);
	va_end(ap);
}

void report_verror(const char *fmt, va_list ap)
{
	vline(NULL, "hvmatrix: ", fmt, ap);
}

void report_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
}
