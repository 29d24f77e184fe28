/*
 * matrix-yaml: see matrix-yaml.h. Positions are libyaml's (lines and
 * columns from 0, shown from 1). A held unknown key wins over any later
 * error of its item: it comes first in the file.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-yaml.h"
#include "lib/xmalloc.h"

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, res;
	size_t *row;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	row = xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	res = row[lb];
	free(row);
	return res;
}

/*
 * Append " (did you mean 'x'?)" when a known key is close to key; 1 when
 * it did.
 */
int matrix_yaml_add_hint(struct strbuf *sb, const char *key,
			 const char *const *known, size_t n)
{
	size_t i, best = 3, d;
	const char *hint = NULL;

	for (i = 0; i < n; i++) {
		d = edit_distance(key, known[i]);
		if (d < best) {
			best = d;
			hint = known[i];
		}
	}
	if (hint)
		strbuf_addf(sb, " (did you mean '%s'?)", hint);
	return hint != NULL;
}

static void add_position(struct matrix_yaml *y, size_t line, size_t column)
{
	strbuf_addf(y->err, "%s:%zu:%zu: ", y->name, line + 1, column + 1);
}

/* The held unknown key, named after its item. Always -1. */
static int fail_held(struct matrix_yaml *y)
{
	add_position(y, y->held_mark.line, y->held_mark.column);
	strbuf_addf(y->err, "unknown key '%s' in %s ", y->held_key,
		    y->item_what);
	if (y->item_name && *y->item_name)
		strbuf_addf(y->err, "'%s'", *y->item_name);
	else
		strbuf_addf(y->err, "#%zu", y->item_index + 1);
	strbuf_addstr(y->err, y->held_hint);
	return -1;
}

int matrix_yaml_fail(struct matrix_yaml *y, const yaml_mark_t *mark,
		     const char *fmt, ...)
{
	va_list ap;

	if (y->held_key)
		return fail_held(y);
	add_position(y, mark->line, mark->column);
	va_start(ap, fmt);
	strbuf_vaddf(y->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int yaml_fail(struct matrix_yaml *y)
{
	yaml_parser_t *p = &y->parser;
	yaml_mark_t mark = p->problem_mark;

	if (p->error == YAML_READER_ERROR) {
		/* Reader errors come with a byte offset, not a mark. */
		size_t i, line = 0, col = 0;

		for (i = 0; i < p->problem_offset && i < y->len; i++) {
			unsigned char ch = (unsigned char)y->buf[i];

			if (ch == '\n') {
				line++;
				col = 0;
			} else if ((ch & 0xc0) != 0x80) {
				col++;
			}
		}
		mark.line = line;
		mark.column = col;
		if (p->problem_value != -1)
			return matrix_yaml_fail(y, &mark, "yaml: %s (#x%02X)",
						p->problem ? p->problem :
						"read error",
						(unsigned)p->problem_value);
		return matrix_yaml_fail(y, &mark, "yaml: %s",
					p->problem ? p->problem : "read error");
	}
	if (p->error == YAML_MEMORY_ERROR)
		return matrix_yaml_fail(y, &mark, "yaml: out of memory");
	if (p->context)
		return matrix_yaml_fail(y, &mark, "yaml: %s %s",
					p->problem ? p->problem :
					"syntax error", p->context);
	return matrix_yaml_fail(y, &mark, "yaml: %s",
				p->problem ? p->problem : "syntax error");
}

/* Fetch the next event into y->ev. Refuses anchors and aliases. */
int matrix_yaml_next(struct matrix_yaml *y)
{
	const yaml_char_t *anchor = NULL;

	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = 0;
	}
	if (!yaml_parser_parse(&y->parser, &y->ev))
		return yaml_fail(y);
	y->have_ev = 1;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		return matrix_yaml_fail(y, &y->ev.start_mark, "aliases are "
					"not supported in matrix files");
	case YAML_SCALAR_EVENT:
		anchor = y->ev.data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = y->ev.data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = y->ev.data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor)
		return matrix_yaml_fail(y, &y->ev.start_mark, "anchors are "
					"not supported in matrix files");
	return 0;
}

const char *matrix_yaml_scalar(const struct matrix_yaml *y)
{
	return (const char *)y->ev.data.scalar.value;
}

const char *matrix_yaml_node_kind(yaml_event_type_t t)
{
	switch (t) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	default:
		return "a single value";
	}
}

/* Is the current event a null scalar (`key:`, `key: ~`, `key: null`)? */
int matrix_yaml_is_null(const struct matrix_yaml *y)
{
	const char *v;

	if (y->ev.type != YAML_SCALAR_EVENT ||
	    y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = matrix_yaml_scalar(y);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null");
}

/* Skip the node that starts with the current event. */
int matrix_yaml_skip(struct matrix_yaml *y)
{
	int depth = 0;

	for (;;) {
		switch (y->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (depth <= 0)
			return 0;
		if (matrix_yaml_next(y))
			return -1;
	}
}

struct seen_key *matrix_yaml_seen_find(struct seen_key *seen, size_t n,
				       const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(seen[i].text, key))
			return &seen[i];
	return NULL;
}

int matrix_yaml_next_key(struct matrix_yaml *y, struct seen_key *seen,
			 size_t n_seen, yaml_mark_t *key_mark)
{
	struct seen_key *s;

	if (matrix_yaml_next(y))
		return -1;
	if (y->ev.type == YAML_MAPPING_END_EVENT)
		return 1;
	if (y->ev.type != YAML_SCALAR_EVENT) {
		matrix_yaml_fail(y, &y->ev.start_mark, "expected a setting "
				 "name, got %s",
				 matrix_yaml_node_kind(y->ev.type));
		return -1;
	}
	*key_mark = y->ev.start_mark;
	s = matrix_yaml_seen_find(seen, n_seen, matrix_yaml_scalar(y));
	if (s) {
		matrix_yaml_fail(y, key_mark, "duplicate key '%s' (first "
				 "defined at line %zu)", s->text,
				 s->key_mark.line + 1);
		return -1;
	}
	return 0;
}

struct seen_key *matrix_yaml_seen_add(struct seen_key **seen, size_t *n,
				      size_t *alloc, const char *key,
				      const yaml_mark_t *key_mark)
{
	struct seen_key *s;

	ALLOC_GROW(*seen, *n + 1, *alloc);
	s = &(*seen)[(*n)++];
	s->text = xstrdup(key);
	s->key_mark = *key_mark;
	return s;
}

void matrix_yaml_seen_free(struct seen_key *seen, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(seen[i].text);
	free(seen);
}

const yaml_mark_t *matrix_yaml_second_key(const struct seen_key *a,
					  const struct seen_key *b)
{
	return a->key_mark.index > b->key_mark.index ? &a->key_mark :
						       &b->key_mark;
}

void matrix_yaml_item_begin(struct matrix_yaml *y, const char *what,
			    char *const *name, size_t index)
{
	y->item_what = what;
	y->item_name = name;
	y->item_index = index;
}

int matrix_yaml_unknown_key(struct matrix_yaml *y, const char *key,
			    const yaml_mark_t *mark, const char *hint)
{
	if (!y->held_key) {
		y->held_key = xstrdup(key);
		y->held_hint = xstrdup(hint);
		y->held_mark = *mark;
	}
	if (*y->item_name)
		return fail_held(y);
	return 0;
}

int matrix_yaml_item_check(struct matrix_yaml *y)
{
	return y->held_key ? fail_held(y) : 0;
}

void matrix_yaml_item_end(struct matrix_yaml *y)
{
	y->item_what = NULL;
	y->item_name = NULL;
}

/* The directory of a matrix file's name: relative paths start there. */
static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	size_t n;

	if (!slash)
		return xstrdup(".");
	n = (size_t)(slash - name);
	while (n && name[n - 1] == '/')
		n--;
	return n ? xstrndup(name, n) : xstrdup("/");
}

void matrix_yaml_init(struct matrix_yaml *y, const char *name,
		      const char *buf, size_t len, struct strbuf *err)
{
	memset(y, 0, sizeof(*y));
	y->name = name;
	y->buf = buf;
	y->len = len;
	y->err = err;
	y->dir = dir_of(name);
	if (!yaml_parser_initialize(&y->parser))
		die("out of memory (yaml parser)");
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)buf,
				     len);
}

void matrix_yaml_release(struct matrix_yaml *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	yaml_parser_delete(&y->parser);
	free(y->dir);
	free(y->held_key);
	free(y->held_hint);
	memset(y, 0, sizeof(*y));
}
