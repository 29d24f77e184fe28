/*
 * matrix-yaml: load a matrix file with libyaml's event parser (which,
 * unlike the document loader, keeps the position of everything it reads):
 * the events and their errors, the top level, and the cells, whose values
 * cell.c checks. Trees and builds are read by matrix-sections.c with the
 * same helpers. Every error is "file:line:col: message", and the caller's
 * matrix is only filled once the whole file has loaded.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/hypervisors.h"
#include "matrix/matrix-priv.h"
#include "lib/xmalloc.h"

static const char *const top_keys[] = { "builds", "cells", "trees",
					"version", "webhooks", "report",
					"executor" };
static const char *const all_cell_keys[] = {
	"name", "description", "backend", "qemu", "accel", "machine", "cpu",
	"memory", "smp", "qemu_args", "cmdline", "timeout", "silence",
	"expect", "requires", "xen", "xen_cmdline", "guest", "log_limit",
	"confirm", "executor",
};

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
int matrix_add_hint(struct strbuf *sb, const char *key,
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

const struct setting *matrix_find_setting(const struct section *sec,
					  const char *key)
{
	size_t i;

	for (i = 0; i < sec->n_settings; i++)
		if (!strcmp(sec->settings[i].name, key))
			return &sec->settings[i];
	return NULL;
}

static void add_setting_hint(struct strbuf *sb, const char *key,
			     const struct section *sec)
{
	const char **names = xmalloc(sec->n_settings * sizeof(*names));
	size_t i;

	for (i = 0; i < sec->n_settings; i++)
		names[i] = sec->settings[i].name;
	matrix_add_hint(sb, key, names, sec->n_settings);
	free(names);
}

static void add_pending_message(struct loader *l)
{
	const struct section *sec = l->cur_section;

	strbuf_addf(l->err, "unknown key '%s' in %s ", l->pending_key,
		    sec ? sec->what : "cell");
	if (l->cur_name && *l->cur_name)
		strbuf_addf(l->err, "'%s'", *l->cur_name);
	else
		strbuf_addf(l->err, "#%zu", l->cur_index + 1);
	if (sec)
		add_setting_hint(l->err, l->pending_key, sec);
	else
		matrix_add_hint(l->err, l->pending_key, all_cell_keys,
				ARRAY_SIZE(all_cell_keys));
}

static void add_position(struct loader *l, size_t line, size_t column)
{
	strbuf_addf(l->err, "%s:%zu:%zu: ", l->name, line + 1, column + 1);
}

/* Report the unknown key kept until the cell's name was known. */
int matrix_fail_pending(struct loader *l)
{
	add_position(l, l->pending_mark.line, l->pending_mark.column);
	add_pending_message(l);
	return -1;
}

/*
 * Report an error at mark. A pending unknown key of the current cell wins:
 * it comes first in the file.
 */
int matrix_fail(struct loader *l, const yaml_mark_t *mark, const char *fmt,
		...)
{
	va_list ap;

	if (l->pending_key)
		return matrix_fail_pending(l);
	add_position(l, mark->line, mark->column);
	va_start(ap, fmt);
	strbuf_vaddf(l->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int yaml_fail(struct loader *l)
{
	yaml_parser_t *p = &l->parser;
	yaml_mark_t mark = p->problem_mark;

	if (p->error == YAML_READER_ERROR) {
		/* Reader errors come with a byte offset, not a mark. */
		size_t i, line = 0, col = 0;

		for (i = 0; i < p->problem_offset && i < l->len; i++) {
			unsigned char ch = (unsigned char)l->buf[i];

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
			return matrix_fail(l, &mark, "yaml: %s (#x%02X)",
					   p->problem ? p->problem :
					   "read error",
					   (unsigned)p->problem_value);
		return matrix_fail(l, &mark, "yaml: %s",
				   p->problem ? p->problem : "read error");
	}
	if (p->error == YAML_MEMORY_ERROR)
		return matrix_fail(l, &mark, "yaml: out of memory");
	if (p->context)
		return matrix_fail(l, &mark, "yaml: %s %s",
				   p->problem ? p->problem : "syntax error",
				   p->context);
	return matrix_fail(l, &mark, "yaml: %s",
			   p->problem ? p->problem : "syntax error");
}

/* Fetch the next event into l->ev. Refuses anchors and aliases. */
int matrix_next(struct loader *l)
{
	const yaml_char_t *anchor = NULL;

	if (l->have_ev) {
		yaml_event_delete(&l->ev);
		l->have_ev = 0;
	}
	if (!yaml_parser_parse(&l->parser, &l->ev))
		return yaml_fail(l);
	l->have_ev = 1;
	switch (l->ev.type) {
	case YAML_ALIAS_EVENT:
		return matrix_fail(l, &l->ev.start_mark,
				   "aliases are not supported in matrix files");
	case YAML_SCALAR_EVENT:
		anchor = l->ev.data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = l->ev.data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = l->ev.data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor)
		return matrix_fail(l, &l->ev.start_mark,
				   "anchors are not supported in matrix files");
	return 0;
}

const char *matrix_ev_scalar(const struct loader *l)
{
	return (const char *)l->ev.data.scalar.value;
}

const char *matrix_node_kind(yaml_event_type_t t)
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
int matrix_ev_is_null(const struct loader *l)
{
	const char *v;

	if (l->ev.type != YAML_SCALAR_EVENT ||
	    l->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = matrix_ev_scalar(l);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null");
}

/* Skip the node that starts with the current event. */
int matrix_skip_node(struct loader *l)
{
	int depth = 0;

	for (;;) {
		switch (l->ev.type) {
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
		if (matrix_next(l))
			return -1;
	}
}

struct seen_key *matrix_seen_find(struct seen_key *seen, size_t n,
				  const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(seen[i].text, key))
			return &seen[i];
	return NULL;
}

int matrix_next_key(struct loader *l, struct seen_key *seen, size_t n_seen,
		    yaml_mark_t *key_mark)
{
	struct seen_key *s;

	if (matrix_next(l))
		return -1;
	if (l->ev.type == YAML_MAPPING_END_EVENT)
		return 1;
	if (l->ev.type != YAML_SCALAR_EVENT) {
		matrix_fail(l, &l->ev.start_mark, "expected a setting name, "
			    "got %s", matrix_node_kind(l->ev.type));
		return -1;
	}
	*key_mark = l->ev.start_mark;
	s = matrix_seen_find(seen, n_seen, matrix_ev_scalar(l));
	if (s) {
		matrix_fail(l, key_mark, "duplicate key '%s' (first defined "
			    "at line %zu)", s->text, s->key_mark.line + 1);
		return -1;
	}
	return 0;
}

/* Give one value to cell_set(); its message gets the value's position. */
static int set_value(struct loader *l, struct cell *c, const char *key,
		     const char *value, const yaml_mark_t *mark)
{
	struct strbuf msg = STRBUF_INIT;
	int ret = 0;

	if (cell_set(c, key, value, &msg))
		ret = matrix_fail(l, mark, "%s", msg.buf);
	strbuf_release(&msg);
	return ret;
}

/* The value of a list setting: one scalar, or a list of scalars. */
static int parse_list_value(struct loader *l, struct cell *c,
			    const char *key, struct item_layout *item)
{
	int flow;

	if (l->ev.type == YAML_SCALAR_EVENT) {
		/* qemu_args: a scalar would be split how? Refuse. */
		if (!strcmp(key, "qemu_args"))
			return matrix_fail(l, &l->ev.start_mark,
					   "qemu_args: expected a list");
		item->end = l->ev.end_mark.index;
		return set_value(l, c, key, matrix_ev_scalar(l),
				 &l->ev.start_mark);
	}
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "%s: expected a list, "
				   "got %s", key, matrix_node_kind(l->ev.type));
	flow = l->ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	for (;;) {
		if (matrix_next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return matrix_fail(l, &l->ev.start_mark, "%s: expected "
					   "a string for each element, got %s",
					   key, matrix_node_kind(l->ev.type));
		item->end = l->ev.end_mark.index;
		if (set_value(l, c, key, matrix_ev_scalar(l),
			      &l->ev.start_mark))
			return -1;
	}
	if (flow)
		item->end = l->ev.end_mark.index;
	return 0;
}

/*
 * Find where a cell_validate() message points: it starts with the setting
 * it is about: "memory: ...", or fsutil_check_name()'s 'name "x" is
 * not allowed'. A silence that is too long by default points at timeout.
 */
static const yaml_mark_t *validate_mark(const char *msg,
					struct seen_key *seen, size_t n_seen,
					const yaml_mark_t *fallback)
{
	size_t len = strspn(msg, "abcdefghijklmnopqrstuvwxyz_");
	struct seen_key *s;
	char *key = xstrndup(msg, len);

	s = matrix_seen_find(seen, n_seen, key);
	if (!s && !strcmp(key, "silence"))
		s = matrix_seen_find(seen, n_seen, "timeout");
	free(key);
	return s ? &s->value_mark : fallback;
}

static void layout_add_item(struct layout *lay, const struct item_layout *it)
{
	ALLOC_GROW(lay->items, lay->n_items + 1, lay->alloc_items);
	lay->items[lay->n_items++] = *it;
}

/* One item of `cells`; the current event is its MAPPING_START. */
static int parse_cell(struct loader *l)
{
	struct cell c;
	struct seen_key *seen = NULL, *name;
	size_t n_seen = 0, alloc_seen = 0, i;
	struct item_layout item;
	yaml_mark_t start = l->ev.start_mark;
	struct strbuf msg = STRBUF_INIT;
	int flow, ret = -1;

	cell_init(&c);
	c.line = (unsigned)start.line + 1;
	c.column = (unsigned)start.column + 1;
	flow = l->ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	item.start = item.end = start.index;
	l->cur_section = NULL;
	l->cur_name = &c.name;
	l->cur_index = l->n_cells;

	for (;;) {
		struct seen_key *s;
		char *key;
		yaml_mark_t key_mark;
		int is_list, rc;

		rc = matrix_next_key(l, seen, n_seen, &key_mark);
		if (rc < 0)
			goto out;
		if (rc > 0)
			break;
		if (!cell_key_known(matrix_ev_scalar(l), &is_list)) {
			if (!l->pending_key) {
				l->pending_key = xstrdup(matrix_ev_scalar(l));
				l->pending_mark = key_mark;
			}
			if (c.name) {
				matrix_fail_pending(l);
				goto out;
			}
			/* Report it once the cell's name is known. */
			if (matrix_next(l) || matrix_skip_node(l))
				goto out;
			continue;
		}
		ALLOC_GROW(seen, n_seen + 1, alloc_seen);
		s = &seen[n_seen++];
		s->text = key = xstrdup(matrix_ev_scalar(l));
		s->key_mark = key_mark;
		if (matrix_next(l))
			goto out;
		s->value_mark = l->ev.start_mark;
		if (is_list) {
			if (parse_list_value(l, &c, key, &item))
				goto out;
			continue;
		}
		if (l->ev.type != YAML_SCALAR_EVENT) {
			matrix_fail(l, &l->ev.start_mark, "%s: expected a "
				    "single value, got %s", key,
				    matrix_node_kind(l->ev.type));
			goto out;
		}
		item.end = l->ev.end_mark.index;
		if (set_value(l, &c, key, matrix_ev_scalar(l),
			      &l->ev.start_mark))
			goto out;
	}
	if (flow)
		item.end = l->ev.end_mark.index;
	if (l->pending_key) {
		matrix_fail_pending(l);
		goto out;
	}
	if (cell_validate(&c, &msg) || hypervisors_check_cell(&c, &msg)) {
		matrix_fail(l, validate_mark(msg.buf, seen, n_seen, &start),
			    "%s", msg.buf);
		goto out;
	}
	name = matrix_seen_find(seen, n_seen, "name");
	for (i = 0; i < l->n_cells; i++) {
		if (strcmp(l->cells[i].name, c.name))
			continue;
		matrix_fail(l, &name->value_mark, "duplicate cell name '%s' "
			    "(first defined at line %u)", c.name,
			    l->name_lines[i]);
		goto out;
	}
	ALLOC_GROW(l->cells, l->n_cells + 1, l->alloc_cells);
	ALLOC_GROW(l->name_lines, l->n_cells + 1, l->alloc_name_lines);
	l->name_lines[l->n_cells] = (unsigned)name->value_mark.line + 1;
	l->cells[l->n_cells++] = c;
	cell_init(&c);
	layout_add_item(l->lay, &item);
	ret = 0;
out:
	l->cur_name = NULL;
	cell_release(&c);
	for (i = 0; i < n_seen; i++)
		free(seen[i].text);
	free(seen);
	strbuf_release(&msg);
	return ret;
}

/* The value of `cells`; the current event is its first. */
static int parse_cells(struct loader *l)
{
	struct layout *lay = l->lay;

	lay->value_start = l->ev.start_mark.index;
	if (matrix_ev_is_null(l)) {
		/* `cells:` alone: no cells yet. */
		lay->style = CELLS_NULL;
		lay->value_end = l->ev.end_mark.index;
		return 0;
	}
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "cells: expected a "
				   "list of cells, got %s",
				   matrix_node_kind(l->ev.type));
	lay->style = CELLS_BLOCK;
	if (l->ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE)
		lay->style = CELLS_FLOW;
	lay->value_tagged = l->ev.data.sequence_start.tag != NULL;
	for (;;) {
		if (matrix_next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (l->ev.type != YAML_MAPPING_START_EVENT)
			return matrix_fail(l, &l->ev.start_mark, "cells: "
					   "expected a mapping for each cell, "
					   "got %s",
					   matrix_node_kind(l->ev.type));
		if (parse_cell(l))
			return -1;
	}
	lay->value_end = l->ev.end_mark.index;
	return 0;
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

static int top_key_known(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(top_keys); i++)
		if (!strcmp(top_keys[i], key))
			return 1;
	return 0;
}

static int unknown_top_key(struct loader *l, const char *key,
			   const yaml_mark_t *mark)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_addf(&msg, "unknown key '%s'", key);
	if (cell_key_known(key, NULL))
		strbuf_addstr(&msg, " (cell settings go in the items of the "
			      "'cells' list)");
	else if (matrix_find_setting(&matrix_tree_section, key))
		strbuf_addstr(&msg, " (tree settings go in the items of the "
			      "'trees' list)");
	else if (matrix_find_setting(&matrix_build_section, key))
		strbuf_addstr(&msg, " (build settings go in the items of the "
			      "'builds' list)");
	else
		matrix_add_hint(&msg, key, top_keys, ARRAY_SIZE(top_keys));
	matrix_fail(l, mark, "%s", msg.buf);
	strbuf_release(&msg);
	return -1;
}

/* The value of top-level key; the current event is the key. */
static int parse_top_value(struct loader *l, const char *key)
{
	if (!strcmp(key, "cells")) {
		l->lay->key_end = l->ev.end_mark.index;
		l->lay->key_column = l->ev.start_mark.column;
		if (matrix_next(l))
			return -1;
		return parse_cells(l);
	}
	if (matrix_next(l))
		return -1;
	if (!strcmp(key, "trees"))
		return matrix_parse_section(l, &matrix_tree_section, &l->trees);
	if (!strcmp(key, "builds"))
		return matrix_parse_section(l, &matrix_build_section,
					    &l->builds);
	if (!strcmp(key, "executor"))
		return matrix_parse_executor(l, &l->executor);
	if (!strcmp(key, "webhooks"))
		return matrix_parse_section(l, &matrix_webhook_section,
					    &l->webhooks);
	if (!strcmp(key, "report"))
		return matrix_parse_report(l, &l->report);
	/* version */
	if (l->ev.type != YAML_SCALAR_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "version: expected 1, "
				   "got %s", matrix_node_kind(l->ev.type));
	if (strcmp(matrix_ev_scalar(l), "1"))
		return matrix_fail(l, &l->ev.start_mark, "version: unsupported "
				   "version '%s' (only 1 is known)",
				   matrix_ev_scalar(l));
	return 0;
}

/* The top-level mapping; the current event is its MAPPING_START. */
static int parse_top(struct loader *l)
{
	yaml_mark_t root = l->ev.start_mark;
	struct seen_key *seen = NULL;
	size_t n_seen = 0, alloc_seen = 0, i;
	int ret = -1;

	l->lay->root_flow =
		l->ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	for (;;) {
		struct seen_key *s;
		const char *key;

		if (matrix_next(l))
			goto out;
		if (l->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (l->ev.type != YAML_SCALAR_EVENT) {
			matrix_fail(l, &l->ev.start_mark, "expected a key, got "
				    "%s", matrix_node_kind(l->ev.type));
			goto out;
		}
		key = matrix_ev_scalar(l);
		if (!top_key_known(key)) {
			unknown_top_key(l, key, &l->ev.start_mark);
			goto out;
		}
		s = matrix_seen_find(seen, n_seen, key);
		if (s) {
			matrix_fail(l, &l->ev.start_mark, "duplicate key '%s' "
				    "(first defined at line %zu)", key,
				    s->key_mark.line + 1);
			goto out;
		}
		ALLOC_GROW(seen, n_seen + 1, alloc_seen);
		s = &seen[n_seen++];
		s->text = xstrdup(key);
		s->key_mark = l->ev.start_mark;
		if (parse_top_value(l, s->text))
			goto out;
	}
	if (!matrix_seen_find(seen, n_seen, "cells")) {
		matrix_fail(l, &root, "no 'cells' list");
		goto out;
	}
	if (matrix_check_executor(l))
		goto out;
	ret = 0;
out:
	for (i = 0; i < n_seen; i++)
		free(seen[i].text);
	free(seen);
	return ret;
}

static int parse_stream(struct loader *l)
{
	if (matrix_next(l))
		return -1;
	/* STREAM_START, then nothing at all for an empty file. */
	if (matrix_next(l))
		return -1;
	if (l->ev.type == YAML_STREAM_END_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "no 'cells' list");
	if (matrix_next(l))
		return -1;
	if (matrix_ev_is_null(l))
		return matrix_fail(l, &l->ev.start_mark, "no 'cells' list");
	if (l->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "expected a mapping "
				   "with a 'cells' list at the top level, got "
				   "%s", matrix_node_kind(l->ev.type));
	if (parse_top(l))
		return -1;
	if (matrix_next(l))		/* DOCUMENT_END */
		return -1;
	if (matrix_next(l))
		return -1;
	if (l->ev.type != YAML_STREAM_END_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "only one YAML "
				   "document is allowed in a matrix file");
	return 0;
}

void matrix_layout_release(struct layout *lay)
{
	free(lay->items);
	memset(lay, 0, sizeof(*lay));
}

/* matrix_load_buf(), and the layout for the editing functions. */
int matrix_parse(struct matrix *m, const char *name, const char *buf,
		 size_t len, struct strbuf *err, struct layout *lay)
{
	struct loader l;
	struct layout own;
	int ret = -1;

	memset(&l, 0, sizeof(l));
	memset(&own, 0, sizeof(own));
	l.name = name;
	l.buf = buf;
	l.len = len;
	l.err = err;
	l.dir = dir_of(name);
	l.lay = lay ? lay : &own;
	memset(l.lay, 0, sizeof(*l.lay));
	if (!yaml_parser_initialize(&l.parser))
		die("out of memory (yaml parser)");
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)buf,
				     len);
	if (parse_stream(&l))
		goto out;
	m->path = xstrdup(name);
	m->cells = l.cells;
	m->n_cells = l.n_cells;
	m->trees = l.trees.items;
	m->n_trees = l.trees.n;
	m->builds = l.builds.items;
	m->n_builds = l.builds.n;
	m->executor = l.executor;
	memset(&l.executor, 0, sizeof(l.executor));
	m->webhooks = l.webhooks.items;
	m->n_webhooks = l.webhooks.n;
	l.webhooks.items = NULL;
	l.webhooks.n = 0;
	l.cells = NULL;
	l.n_cells = 0;
	l.trees.items = l.builds.items = NULL;
	l.trees.n = l.builds.n = 0;
	m->report = l.report;
	memset(&l.report, 0, sizeof(l.report));
	ret = 0;
out:
	if (l.have_ev)
		yaml_event_delete(&l.ev);
	yaml_parser_delete(&l.parser);
	matrix_cells_free(l.cells, l.n_cells);
	matrix_entries_release(&l.trees, &matrix_tree_section);
	matrix_entries_release(&l.builds, &matrix_build_section);
	matrix_executor_release(&l.executor);
	matrix_entries_release(&l.webhooks, &matrix_webhook_section);
	matrix_report_release(&l.report);
	free(l.dir);
	free(l.name_lines);
	free(l.pending_key);
	matrix_layout_release(&own);
	if (ret && lay)
		matrix_layout_release(lay);
	return ret;
}
