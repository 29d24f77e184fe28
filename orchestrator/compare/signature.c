/*
 * signature: console line -> failure signature. The rules only ever
 * remove or mask what varies between two runs of one kernel (time,
 * addresses, pids, CPU numbers, nonces, build ids); they never rewrite a
 * word, because a bisection that mistakes one bug for another is worse
 * than none.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compare/signature.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

static int is_word_char(int c)
{
	return isalnum(c) || c == '_';
}

static int all_of(const char *s, size_t len, int (*pred)(int))
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!pred((unsigned char)s[i]))
			return 0;
	return 1;
}

static int has_digit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (isdigit((unsigned char)s[i]))
			return 1;
	return 0;
}

/*
 * A leading "[    0.532000] " (printk time), "[    T1] " (printk caller),
 * "[2026-12-01 21:13:00.123] " (Xen's console_timestamps): digits, with
 * only separators and a caller letter around them. Returns the length of
 * the group, 0 when p does not start with one.
 */
static size_t time_prefix(const char *p)
{
	const char *q = p + 1;

	if (*p != '[')
		return 0;
	while (*q && strchr(" .:-0123456789TC", *q))
		q++;
	if (*q != ']' || !has_digit(p + 1, (size_t)(q - p - 1)))
		return 0;
	return (size_t)(q - p) + 1;
}

/* "(d0v0)", "(d1)": Xen's tag of the domain (and vCPU) that printed. */
static size_t domain_prefix(const char *p)
{
	const char *q = p + 2;

	if (p[0] != '(' || p[1] != 'd' || !isdigit((unsigned char)*q))
		return 0;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q == 'v') {
		if (!isdigit((unsigned char)q[1]))
			return 0;
		q++;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q != ')')
		return 0;
	return (size_t)(q - p) + 1;
}

/* "<4>": a printk level left in front of the line by some consoles. */
static size_t level_prefix(const char *p)
{
	if (p[0] == '<' && isdigit((unsigned char)p[1]) && p[2] == '>')
		return 3;
	return 0;
}

static const char *skip_prefixes(const char *p)
{
	for (;;) {
		size_t n;

		while (isspace((unsigned char)*p))
			p++;
		n = time_prefix(p);
		if (!n)
			n = domain_prefix(p);
		if (!n)
			n = level_prefix(p);
		if (!n && !strncmp(p, "(XEN)", 5))
			n = 5;
		if (!n)
			return p;
		p += n;
	}
}

static int is_space_or_ctrl(int c)
{
	return isspace(c) || iscntrl(c);
}

/* The separators allowed between "pid", "ip"... and its number. */
static int is_number_sep(int c)
{
	return c == ':' || c == '=' || c == '#' || c == ' ' || c == '\t';
}

static int word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !strncasecmp(s, w, len);
}

enum {
	NEXT_NONE = 0,
	NEXT_DEC,		/* a pid, a CPU number */
	NEXT_HEX,		/* an address: "ip:4011d6", "address: 1000" */
};

/* What the number after this word is, if it comes next. */
static int next_kind(const char *s, size_t len)
{
	static const char *const dec[] = { "pid", "cpu" };
	static const char *const hex[] = {
		"ip", "sp", "bp", "pc", "lr", "addr", "address",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dec); i++)
		if (word_is(s, len, dec[i]))
			return NEXT_DEC;
	for (i = 0; i < ARRAY_SIZE(hex); i++)
		if (word_is(s, len, hex[i]))
			return NEXT_HEX;
	return NEXT_NONE;
}

static int is_hex_word(const char *s, size_t len)
{
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    all_of(s + 2, len - 2, isxdigit))
		return 1;
	/* Bare addresses: ffffffff81234567, 0000000000000008. */
	return len >= 8 && all_of(s, len, isxdigit);
}

/* The comm of an oops header, with its digits masked (swapper/0). */
static void add_comm(struct strbuf *sb, const char *p, const char **end)
{
	while (*p && !is_space_or_ctrl((unsigned char)*p)) {
		if (isdigit((unsigned char)*p)) {
			strbuf_addstr(sb, SIGNATURE_VAR);
			while (isdigit((unsigned char)*p))
				p++;
			continue;
		}
		strbuf_addch(sb, *p++);
	}
	*end = p;
}

/*
 * A probe's result line (judge/guest-probes.h): "probe:NAME:" and its
 * detail with every number made SIGNATURE_VAR (timings, counts, CPU
 * numbers vary between runs of one bug); a probe that started and never
 * ended: "probe:NAME:hung".
 */
static char *probe_signature(const char *line)
{
	const char *name = strstr(line, " name="), *detail, *p;
	struct strbuf sb = STRBUF_INIT;
	size_t n;

	if (!name)
		return xstrdup("probe:?:?");
	name += 6;
	n = strcspn(name, " ");
	strbuf_addf(&sb, "probe:%.*s:", (int)n, name);
	if (strstr(line, " result=start") || strstr(line, " result=ready")) {
		strbuf_addstr(&sb, "hung");
		return strbuf_detach(&sb, NULL);
	}
	detail = strstr(line, " detail=");
	for (p = detail ? detail + 8 : ""; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			while (isdigit((unsigned char)p[1]) || (p[1] == '.' &&
			       isdigit((unsigned char)p[2])))
				p++;
			strbuf_addstr(&sb, SIGNATURE_VAR);
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}

char *signature_of(const char *line)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	int depth = 0;		/* brackets open: (), [], <>, {} */
	int number_next = 0;	/* after "pid"/"CPU"/"ip" and separators */
	int space = 0;

	if (!line)
		return xstrdup("");
	if (!strncmp(line, "HVMATRIX-PROBE ", 15))
		return probe_signature(line);
	p = skip_prefixes(line);
	while (*p) {
		unsigned char c = (unsigned char)*p;
		const char *q;
		size_t len;

		if (is_space_or_ctrl(c)) {
			space = 1;
			p++;
			continue;
		}
		if (space && sb.len)
			strbuf_addch(&sb, ' ');
		space = 0;
		if (!is_word_char(c)) {
			if (!is_number_sep(c))
				number_next = 0;
			if (strchr("([<{", c))
				depth++;
			else if (strchr(")]>}", c) && depth > 0)
				depth--;
			strbuf_addch(&sb, (char)c);
			p++;
			continue;
		}
		for (q = p; is_word_char((unsigned char)*q); q++)
			;
		len = (size_t)(q - p);
		if (word_is(p, len, "nonce") && *q == '=') {
			/* A run's nonce: random by design. */
			strbuf_addstr(&sb, "nonce=" SIGNATURE_VAR);
			while (*q && !is_space_or_ctrl((unsigned char)*q))
				q++;
		} else if (len == 4 && !strncmp(p, "Comm", 4) &&
			   q[0] == ':' && q[1] == ' ') {
			/*
			 * "CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-rc1-
			 * 00012-gabcdef #3": after the comm come the taint
			 * flags (earlier warnings) and the release, which
			 * names the commit itself. Neither names the bug.
			 */
			strbuf_addstr(&sb, "Comm: ");
			q += 2;
			while (*q == ' ')
				q++;
			add_comm(&sb, q, &q);
			break;
		} else if (is_hex_word(p, len) ||
			   (number_next == NEXT_DEC &&
			    all_of(p, len, isdigit)) ||
			   (number_next == NEXT_HEX &&
			    all_of(p, len, isxdigit)) ||
			   (depth > 0 && all_of(p, len, isxdigit) &&
			    has_digit(p, len))) {
			strbuf_addstr(&sb, SIGNATURE_VAR);
		} else if (len > 3 && !strncasecmp(p, "cpu", 3) &&
			   all_of(p + 3, len - 3, isdigit)) {
			/* "CPU0", "cpu3". */
			strbuf_add(&sb, p, 3);
			strbuf_addstr(&sb, SIGNATURE_VAR);
		} else {
			strbuf_add(&sb, p, len);
		}
		number_next = next_kind(p, len);
		p = q;
	}
	/*
	 * Trailing dots and spaces are how far a line had got when the
	 * console stopped ("Booting from ROM.." or "..."): not the bug.
	 */
	while (sb.len && (sb.buf[sb.len - 1] == '.' ||
			  sb.buf[sb.len - 1] == ' '))
		sb.buf[--sb.len] = '\0';
	return strbuf_detach(&sb, NULL);
}
