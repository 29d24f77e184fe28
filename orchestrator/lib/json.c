/*
 * json: see json.h. The writer keeps one small record per open level
 * (object or array, has a member, broke a line) and nothing else: output
 * goes straight to the caller's strbuf. The reader is a strict recursive
 * descent over RFC 8259; it exists for files hvmatrix writes itself, so it
 * favours clear errors over speed.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/xmalloc.h"

void json_init(struct json *j, struct strbuf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

int json_complete(const struct json *j)
{
	return j->top == 1 && !j->depth;
}

static void indent(struct json *j, unsigned levels)
{
	unsigned i;

	strbuf_addch(j->out, '\n');
	for (i = 0; i < levels; i++)
		strbuf_addstr(j->out, "  ");
}

/* Commas, line breaks and the key check before any value. */
static void before_value(struct json *j, int container)
{
	unsigned l;

	if (!j->depth) {
		if (j->top++)
			die("json: a second top-level value");
		return;
	}
	l = j->depth - 1;
	if (j->kind[l] == '{') {
		if (!j->keyed)
			die("json: a value in an object without its key");
		j->keyed = 0;
		return;
	}
	if (j->members[l])
		strbuf_addch(j->out, ',');
	if (container) {
		indent(j, j->depth);
		j->broke[l] = 1;
	} else if (j->members[l]) {
		strbuf_addch(j->out, ' ');
	}
	j->members[l] = 1;
}

static void begin(struct json *j, char kind)
{
	before_value(j, 1);
	if (j->depth == JSON_MAX_DEPTH)
		die("json: nested deeper than %d", JSON_MAX_DEPTH);
	j->kind[j->depth] = kind;
	j->members[j->depth] = 0;
	j->broke[j->depth] = 0;
	j->depth++;
	strbuf_addch(j->out, kind);
}

static void end(struct json *j, char kind)
{
	unsigned l;

	if (!j->depth || j->kind[j->depth - 1] != kind)
		die("json: '%c' closes nothing open", kind == '{' ? '}' : ']');
	if (j->keyed)
		die("json: a key without its value");
	l = j->depth - 1;
	if (j->broke[l])
		indent(j, l);
	j->depth--;
	strbuf_addch(j->out, kind == '{' ? '}' : ']');
}

void json_object_begin(struct json *j)
{
	begin(j, '{');
}

void json_object_end(struct json *j)
{
	end(j, '{');
}

void json_array_begin(struct json *j)
{
	begin(j, '[');
}

void json_array_end(struct json *j)
{
	end(j, '[');
}

void json_key(struct json *j, const char *key)
{
	unsigned l;

	if (!j->depth || j->kind[j->depth - 1] != '{' || j->keyed)
		die("json: key \"%s\" outside an object or after a key", key);
	l = j->depth - 1;
	if (j->members[l])
		strbuf_addch(j->out, ',');
	/* A top-level object is a record people read: a member a line. */
	if (j->depth == 1) {
		indent(j, 1);
		j->broke[l] = 1;
	} else if (j->members[l]) {
		strbuf_addch(j->out, ' ');
	}
	j->members[l] = 1;
	strbuf_add_json_str(j->out, key);
	strbuf_addstr(j->out, ": ");
	j->keyed = 1;
}

void json_str(struct json *j, const char *s)
{
	before_value(j, 0);
	strbuf_add_json_str(j->out, s);
}

void json_int(struct json *j, int64_t v)
{
	before_value(j, 0);
	strbuf_addf(j->out, "%lld", (long long)v);
}

void json_double(struct json *j, double v)
{
	before_value(j, 0);
	if (isfinite(v))
		strbuf_addf(j->out, "%.3f", v);
	else
		strbuf_addstr(j->out, "null");
}

void json_bool(struct json *j, int v)
{
	before_value(j, 0);
	strbuf_addstr(j->out, v ? "true" : "false");
}

void json_null(struct json *j)
{
	before_value(j, 0);
	strbuf_addstr(j->out, "null");
}

void json_raw(struct json *j, const char *text)
{
	/* Laid out as what it is: an object or array as a container. */
	before_value(j, *text == '{' || *text == '[');
	strbuf_addstr(j->out, text);
}

void json_key_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_key_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_key_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	json_double(j, v);
}

void json_key_bool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	json_bool(j, v);
}

/* ---- the reader ---- */

#define JSON_PARSE_DEPTH 64

struct parser {
	const char *s;
	size_t len, pos;
	struct strbuf *err;
};

static int fail(struct parser *p, const char *what)
{
	strbuf_addf(p->err, "offset %zu: %s", p->pos, what);
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) &&
	       p->s[p->pos])
		p->pos++;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character");
	p->pos += n;
	return 0;
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0, i;

	if (p->len - p->pos < 4)
		return fail(p, "short \\u escape");
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(p, "bad \\u escape");
	}
	p->pos += 4;
	*out = v;
	return 0;
}

static void add_utf8(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xc0 | cp >> 6));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xe0 | cp >> 12));
		strbuf_addch(sb, (int)(0x80 | (cp >> 6 & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (int)(0xf0 | cp >> 18));
		strbuf_addch(sb, (int)(0x80 | (cp >> 12 & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp >> 6 & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	}
}

/* At the opening quote; *out is a new string. */
static int parse_string(struct parser *p, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned cp, lo;

	p->pos++;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len) {
			fail(p, "unterminated string");
			goto bad;
		}
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->pos--;
			fail(p, "control character in a string");
			goto bad;
		}
		if (c != '\\') {
			strbuf_addch(&sb, c);
			continue;
		}
		if (p->pos >= p->len) {
			fail(p, "unterminated string");
			goto bad;
		}
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/': strbuf_addch(&sb, c); break;
		case 'b': strbuf_addch(&sb, '\b'); break;
		case 'f': strbuf_addch(&sb, '\f'); break;
		case 'n': strbuf_addch(&sb, '\n'); break;
		case 'r': strbuf_addch(&sb, '\r'); break;
		case 't': strbuf_addch(&sb, '\t'); break;
		case 'u':
			if (hex4(p, &cp) < 0)
				goto bad;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (p->len - p->pos < 2 ||
				    memcmp(p->s + p->pos, "\\u", 2)) {
					fail(p, "unpaired surrogate");
					goto bad;
				}
				p->pos += 2;
				if (hex4(p, &lo) < 0)
					goto bad;
				if (lo < 0xdc00 || lo > 0xdfff) {
					fail(p, "unpaired surrogate");
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(p, "unpaired surrogate");
				goto bad;
			}
			add_utf8(&sb, cp);
			break;
		default:
			p->pos--;
			fail(p, "bad escape");
			goto bad;
		}
	}
	*out = strbuf_detach(&sb, NULL);
	return 0;
bad:
	strbuf_release(&sb);
	return -1;
}

static int parse_number(struct parser *p, double *out)
{
	size_t start = p->pos, digits;
	char *copy, *end;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	digits = p->pos;
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	if (p->pos == digits ||
	    (p->s[digits] == '0' && p->pos - digits > 1))
		return fail(p, "bad number");
	if (p->pos < p->len && p->s[p->pos] == '.') {
		digits = ++p->pos;
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		       p->s[p->pos] <= '9')
			p->pos++;
		if (p->pos == digits)
			return fail(p, "bad number");
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' ||
					p->s[p->pos] == '-'))
			p->pos++;
		digits = p->pos;
		while (p->pos < p->len && p->s[p->pos] >= '0' &&
		       p->s[p->pos] <= '9')
			p->pos++;
		if (p->pos == digits)
			return fail(p, "bad number");
	}
	/* strtod wants a NUL: the text need not have one here. */
	copy = xstrndup(p->s + start, p->pos - start);
	*out = strtod(copy, &end);
	free(copy);
	return 0;
}

static int parse_value(struct parser *p, struct json_value *v,
		       unsigned depth);

static int parse_container(struct parser *p, struct json_value *v,
			   unsigned depth)
{
	int object = p->s[p->pos] == '{';
	char close = object ? '}' : ']';
	size_t alloc = 0, kalloc = 0;

	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	if (depth >= JSON_PARSE_DEPTH)
		return fail(p, "nested too deep");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a key");
			if (parse_string(p, &key) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return fail(p, "expected ':'");
			}
			p->pos++;
			ALLOC_GROW(v->keys, v->n + 1, kalloc);
			v->keys[v->n] = key;
		}
		ALLOC_GROW(v->items, v->n + 1, alloc);
		memset(&v->items[v->n], 0, sizeof(v->items[v->n]));
		v->n++;
		if (parse_value(p, &v->items[v->n - 1], depth + 1) < 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return fail(p, object ? "expected ',' or '}'" :
			    "expected ',' or ']'");
	}
}

static int parse_value(struct parser *p, struct json_value *v,
		       unsigned depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "expected a value");
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		return parse_container(p, v, depth);
	case '"':
		v->type = JSON_STRING;
		return parse_string(p, &v->string);
	case 't':
		v->type = JSON_BOOL;
		v->boolean = 1;
		return literal(p, "true");
	case 'f':
		v->type = JSON_BOOL;
		return literal(p, "false");
	case 'n':
		v->type = JSON_NULL;
		return literal(p, "null");
	default:
		if (p->s[p->pos] != '-' &&
		    (p->s[p->pos] < '0' || p->s[p->pos] > '9'))
			return fail(p, "unexpected character");
		v->type = JSON_NUMBER;
		return parse_number(p, &v->number);
	}
}

int json_parse(struct json_value *v, const char *text, size_t len,
	       struct strbuf *err)
{
	struct parser p = { text, len, 0, err };

	memset(v, 0, sizeof(*v));
	if (parse_value(&p, v, 0) < 0)
		goto bad;
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, "text after the value");
		goto bad;
	}
	return 0;
bad:
	json_value_release(v);
	return -1;
}

void json_value_release(struct json_value *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		json_value_release(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	memset(v, 0, sizeof(*v));
}

int json_file_read(struct json_value *v, const char *path,
		   struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, msg = STRBUF_INIT;
	int rc, ret = -1;

	memset(v, 0, sizeof(*v));
	rc = fsutil_read(path, &text);
	if (rc == -ENOENT)
		ret = 0;
	else if (rc < 0)
		strbuf_addf(err, "%s: %s", path, strerror(-rc));
	else if (json_parse(v, text.buf, text.len, &msg) < 0)
		strbuf_addf(err, "%s: %s", path, msg.buf);
	else
		ret = 1;
	strbuf_release(&text);
	strbuf_release(&msg);
	return ret;
}

const struct json_value *json_get(const struct json_value *v,
				  const char *key)
{
	size_t i;

	if (!v || v->type != JSON_OBJECT)
		return NULL;
	/* The last of duplicate keys wins, as in most readers. */
	for (i = v->n; i-- > 0;)
		if (!strcmp(v->keys[i], key))
			return &v->items[i];
	return NULL;
}

const char *json_get_str(const struct json_value *v, const char *key)
{
	const struct json_value *m = json_get(v, key);

	return m && m->type == JSON_STRING ? m->string : NULL;
}

int json_get_number(const struct json_value *v, const char *key,
		    double *out)
{
	const struct json_value *m = json_get(v, key);

	if (!m || m->type != JSON_NUMBER)
		return 0;
	*out = m->number;
	return 1;
}

static void write_value(struct json *j, const struct json_value *v)
{
	size_t i;

	switch (v->type) {
	case JSON_NULL:
		json_null(j);
		break;
	case JSON_BOOL:
		json_bool(j, v->boolean);
		break;
	case JSON_NUMBER:
		json_double(j, v->number);
		break;
	case JSON_STRING:
		json_str(j, v->string);
		break;
	case JSON_ARRAY:
		json_array_begin(j);
		for (i = 0; i < v->n; i++)
			write_value(j, &v->items[i]);
		json_array_end(j);
		break;
	case JSON_OBJECT:
		json_object_begin(j);
		for (i = 0; i < v->n; i++) {
			json_key(j, v->keys[i]);
			write_value(j, &v->items[i]);
		}
		json_object_end(j);
		break;
	}
}

void json_value_write(const struct json_value *v, struct strbuf *out)
{
	struct json j;

	json_init(&j, out);
	write_value(&j, v);
}
