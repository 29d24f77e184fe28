/*
 * fuzz-escape: the escapers (strbuf.c) that put git commit metadata on
 * the dashboard and into JSON. A subject or an author is whatever bytes
 * whoever committed chose; the page and the JSON must stay well-formed
 * whatever they are. Input: subject, NUL, author (missing: empty).
 *
 * Checked: HTML text is valid UTF-8 with no raw markup character (& only
 * as one of the entities written) and no control but tab/LF/CR (none as
 * a table line); a JSON string literal is valid JSON (checked here by a
 * strict scanner) and valid UTF-8; and cleaning a stream in chunks
 * (STRBUF_CLEAN_MORE, as logfile_print reads logs) gives the same text
 * as cleaning it whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/strbuf.h"

/* Length of the well-formed UTF-8 sequence at s, 0 if ill-formed. */
static size_t utf8_ok(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		lo = c == 0xe0 ? 0xa0 : lo;	/* overlong */
		hi = c == 0xed ? 0x9f : hi;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		lo = c == 0xf0 ? 0x90 : lo;	/* overlong */
		hi = c == 0xf4 ? 0x8f : hi;	/* past U+10FFFF */
	} else {
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

static void check_utf8(const char *what, const struct strbuf *sb)
{
	const unsigned char *s = (const unsigned char *)sb->buf;
	size_t i = 0, n;

	while (i < sb->len) {
		n = utf8_ok(s + i, sb->len - i);
		if (!n)
			FUZZ_FAIL("%s: ill-formed UTF-8 at byte %zu", what, i);
		i += n;
	}
}

static void check_html(const struct strbuf *sb, int line)
{
	static const char *const entities[] = {
		"&amp;", "&lt;", "&gt;", "&quot;", "&#39;",
	};
	size_t i, k;

	check_utf8("html", sb);
	for (i = 0; i < sb->len; i++) {
		unsigned char c = sb->buf[i];

		if (strchr("<>\"'", c) && c)
			FUZZ_FAIL("html: raw '%c' at byte %zu", c, i);
		if (c == '&') {
			for (k = 0; k < 5; k++)
				if (!strncmp(sb->buf + i, entities[k],
					     strlen(entities[k])))
					break;
			if (k == 5)
				FUZZ_FAIL("html: a bare & at byte %zu", i);
		}
		if (c == 0x7f || (c < 0x20 && (line || !strchr("\t\n\r", c))))
			FUZZ_FAIL("html: control 0x%02x at byte %zu", c, i);
	}
}

/* RFC 8259 string: "...", no raw control, only the escapes it has. */
static void check_json(const struct strbuf *sb)
{
	const char *s = sb->buf;
	size_t i, k;

	check_utf8("json", sb);
	if (sb->len < 2 || s[0] != '"' || s[sb->len - 1] != '"')
		FUZZ_FAIL("json: not a quoted string");
	for (i = 1; i < sb->len - 1; i++) {
		unsigned char c = s[i];

		if (c < 0x20)
			FUZZ_FAIL("json: raw control 0x%02x", c);
		if (c == '"')
			FUZZ_FAIL("json: unescaped quote at byte %zu", i);
		if (c != '\\')
			continue;
		c = s[++i];
		if (i >= sb->len - 1)
			FUZZ_FAIL("json: escape cut by the closing quote");
		if (c == 'u') {
			for (k = 1; k <= 4; k++)
				if (i + k >= sb->len - 1 ||
				    !strchr("0123456789abcdefABCDEF",
					    s[i + k]) || !s[i + k])
					FUZZ_FAIL("json: bad \\u escape");
			i += 4;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			FUZZ_FAIL("json: bad escape \\%c", c);
		}
	}
}

static void check_chunked(const char *s, size_t len, size_t chunk,
			  unsigned flags)
{
	struct strbuf whole = STRBUF_INIT, cut = STRBUF_INIT;
	struct strbuf carry = STRBUF_INIT;
	size_t off = 0, used, n;

	strbuf_add_clean(&whole, s, len, flags);
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		strbuf_add(&carry, s + off, n);
		off += n;
		used = strbuf_add_clean(&cut, carry.buf, carry.len,
					flags | STRBUF_CLEAN_MORE);
		memmove(carry.buf, carry.buf + used, carry.len - used);
		strbuf_setlen(&carry, carry.len - used);
	}
	strbuf_add_clean(&cut, carry.buf, carry.len, flags);
	if (whole.len != cut.len || memcmp(whole.buf, cut.buf, whole.len))
		FUZZ_FAIL("cleaning in chunks of %zu differs from whole",
			  chunk);
	strbuf_release(&whole);
	strbuf_release(&cut);
	strbuf_release(&carry);
}

static void one(const char *s, size_t len, size_t chunk)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_html_n(&sb, s, len);
	check_html(&sb, 0);
	strbuf_reset(&sb);
	strbuf_add_clean(&sb, s, len, STRBUF_CLEAN_HTML | STRBUF_CLEAN_LINE);
	check_html(&sb, 1);
	strbuf_reset(&sb);
	strbuf_add_json_strn(&sb, s, len);
	check_json(&sb);
	strbuf_reset(&sb);
	/* The C-string form the dashboard uses: up to the first NUL. */
	strbuf_add_json_str(&sb, s);
	check_json(&sb);
	strbuf_release(&sb);
	check_chunked(s, len, chunk, STRBUF_CLEAN_HTML);
	check_chunked(s, len, chunk, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *nul;
	size_t subject_len, chunk;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nul = memchr(buf, '\0', size);
	subject_len = nul ? (size_t)(nul - buf) : size;
	chunk = size ? (size_t)data[0] % 13 + 1 : 1;
	one(buf, subject_len, chunk);
	if (nul)
		one(nul + 1, size - subject_len - 1, chunk);
	free(buf);
	return 0;
}
