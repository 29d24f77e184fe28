/*
 * matrix: load a matrix file with libyaml's event parser (which, unlike the
 * document loader, keeps the position of everything it reads), and edit
 * matrix files as text so that comments, order and blank lines survive.
 * Cell settings are checked by cell.c; the settings of trees and builds,
 * which only matrix files have, are checked here, table-driven the same way.
 *
 * Loading is all-or-nothing and never changes the caller's matrix on
 * error. An edit is only written after the edited text has been loaded
 * back and found to hold exactly the intended cells, and the same trees
 * and builds: this module must never write a matrix file that does not
 * load.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "fsutil.h"
#include "matrix.h"
#include "xmalloc.h"

/* How the value of the top-level `cells` key is written. */
enum cells_style {
	CELLS_NONE = 0,		/* no `cells` key */
	CELLS_NULL,		/* `cells:` with no value */
	CELLS_BLOCK,		/* `cells:` then `- name: ...` lines */
	CELLS_FLOW,		/* `cells: [...]` */
};

/* Positions are libyaml mark indexes: characters, not bytes. */
struct item_layout {
	size_t start;		/* the item's mapping */
	size_t end;		/* just after its last scalar or flow end */
};

/* Where things are in the text, for the editing functions. */
struct layout {
	int root_flow;
	enum cells_style style;
	size_t key_end;			/* the `cells` key */
	size_t key_column;
	size_t value_start, value_end;
	int value_tagged;		/* value starts with a tag (!x) */
	struct item_layout *items;
	size_t n_items, alloc_items;
};

struct seen_key {
	char *text;
	yaml_mark_t key_mark, value_mark;
};

struct loader;

/*
 * A setting of a tree or a build. set() checks one value as written (a
 * list setting gets one call per element) and stores it; dir is the
 * matrix file's directory, for relative paths. Messages start with the
 * setting's name and carry no position.
 */
struct setting {
	const char *name;
	int is_list;		/* a string or a list of strings */
	int (*set)(void *obj, const char *value, const char *dir,
		   struct strbuf *err);
};

/* A top-level list of named items other than cells: trees, builds. */
struct section {
	const char *key;		/* its top-level key: "trees" */
	const char *what;		/* one item: "tree" */
	const struct setting *settings;
	size_t n_settings;
	size_t size;			/* of one item */
	void (*init)(void *obj, unsigned line, unsigned column);
	void (*release)(void *obj);
	char **(*name)(void *obj);	/* the item's name field */
	/*
	 * Checks across settings, and defaults of list settings; reports
	 * with fail(). seen holds the settings given, with their positions.
	 */
	int (*finish)(struct loader *l, void *obj, struct seen_key *seen,
		      size_t n_seen, const yaml_mark_t *start);
};

/* The items of one section, as they are read. */
struct entries {
	void *items;
	size_t n, alloc;
	unsigned *name_lines;	/* line of each item's name, for messages */
};

struct loader {
	yaml_parser_t parser;
	yaml_event_t ev;
	int have_ev;
	const char *name;
	const char *buf;
	size_t len;
	struct strbuf *err;
	struct layout *lay;
	char *dir;		/* the file's directory, for relative paths */

	struct cell *cells;
	size_t n_cells, alloc_cells;
	unsigned *name_lines;	/* line of each cell's name, for messages */
	size_t alloc_name_lines;
	struct entries trees, builds;

	/*
	 * The item being read (a cell when cur_section is NULL), and an
	 * unknown key seen before its name.
	 */
	const struct section *cur_section;
	char *const *cur_name;
	size_t cur_index;
	char *pending_key;
	yaml_mark_t pending_mark;
};

static const char *const top_keys[] = { "builds", "cells", "trees",
					"version" };
static const char *const all_cell_keys[] = {
	"name", "description", "backend", "qemu", "accel", "machine", "cpu",
	"memory", "smp", "qemu_args", "cmdline", "timeout", "silence",
	"expect", "requires", "xen", "xen_cmdline", "guest",
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
static int add_hint(struct strbuf *sb, const char *key,
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

static const struct setting *find_setting(const struct section *sec,
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
	add_hint(sb, key, names, sec->n_settings);
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
		add_hint(l->err, l->pending_key, all_cell_keys,
			 ARRAY_SIZE(all_cell_keys));
}

static void add_position(struct loader *l, size_t line, size_t column)
{
	strbuf_addf(l->err, "%s:%zu:%zu: ", l->name, line + 1, column + 1);
}

/* Report the unknown key kept until the cell's name was known. */
static int fail_pending(struct loader *l)
{
	add_position(l, l->pending_mark.line, l->pending_mark.column);
	add_pending_message(l);
	return -1;
}

/*
 * Report an error at mark. A pending unknown key of the current cell wins:
 * it comes first in the file.
 */
__attribute__((format(printf, 3, 4)))
static int fail(struct loader *l, const yaml_mark_t *mark, const char *fmt,
		...)
{
	va_list ap;

	if (l->pending_key)
		return fail_pending(l);
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
			return fail(l, &mark, "yaml: %s (#x%02X)",
				    p->problem ? p->problem : "read error",
				    (unsigned)p->problem_value);
		return fail(l, &mark, "yaml: %s",
			    p->problem ? p->problem : "read error");
	}
	if (p->error == YAML_MEMORY_ERROR)
		return fail(l, &mark, "yaml: out of memory");
	if (p->context)
		return fail(l, &mark, "yaml: %s %s",
			    p->problem ? p->problem : "syntax error",
			    p->context);
	return fail(l, &mark, "yaml: %s",
		    p->problem ? p->problem : "syntax error");
}

/* Fetch the next event into l->ev. Refuses anchors and aliases. */
static int next(struct loader *l)
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
		return fail(l, &l->ev.start_mark,
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
		return fail(l, &l->ev.start_mark,
			    "anchors are not supported in matrix files");
	return 0;
}

static const char *ev_scalar(const struct loader *l)
{
	return (const char *)l->ev.data.scalar.value;
}

static const char *node_kind(yaml_event_type_t t)
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
static int ev_is_null(const struct loader *l)
{
	const char *v;

	if (l->ev.type != YAML_SCALAR_EVENT ||
	    l->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = ev_scalar(l);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null");
}

/* Skip the node that starts with the current event. */
static int skip_node(struct loader *l)
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
		if (next(l))
			return -1;
	}
}

static struct seen_key *seen_find(struct seen_key *seen, size_t n,
				  const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(seen[i].text, key))
			return &seen[i];
	return NULL;
}

/* Give one value to cell_set(); its message gets the value's position. */
static int set_value(struct loader *l, struct cell *c, const char *key,
		     const char *value, const yaml_mark_t *mark)
{
	struct strbuf msg = STRBUF_INIT;
	int ret = 0;

	if (cell_set(c, key, value, &msg))
		ret = fail(l, mark, "%s", msg.buf);
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
			return fail(l, &l->ev.start_mark,
				    "qemu_args: expected a list");
		item->end = l->ev.end_mark.index;
		return set_value(l, c, key, ev_scalar(l), &l->ev.start_mark);
	}
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(l, &l->ev.start_mark, "%s: expected a list, got %s",
			    key, node_kind(l->ev.type));
	flow = l->ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	for (;;) {
		if (next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return fail(l, &l->ev.start_mark,
				    "%s: expected a string for each element, "
				    "got %s", key, node_kind(l->ev.type));
		item->end = l->ev.end_mark.index;
		if (set_value(l, c, key, ev_scalar(l), &l->ev.start_mark))
			return -1;
	}
	if (flow)
		item->end = l->ev.end_mark.index;
	return 0;
}

/*
 * Find where a cell_validate() message points: it starts with the setting
 * it is about. A silence that is too long by default points at timeout.
 */
static const yaml_mark_t *validate_mark(const char *msg,
					struct seen_key *seen, size_t n_seen,
					const yaml_mark_t *fallback)
{
	size_t len = strcspn(msg, ":");
	struct seen_key *s;
	char *key = xstrndup(msg, len);

	s = seen_find(seen, n_seen, key);
	if (!s && !strcmp(key, "silence"))
		s = seen_find(seen, n_seen, "timeout");
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
	struct seen_key *seen = NULL;
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
		int is_list;

		if (next(l))
			goto out;
		if (l->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (l->ev.type != YAML_SCALAR_EVENT) {
			fail(l, &l->ev.start_mark, "expected a setting name, "
			     "got %s", node_kind(l->ev.type));
			goto out;
		}
		key_mark = l->ev.start_mark;
		s = seen_find(seen, n_seen, ev_scalar(l));
		if (s) {
			fail(l, &key_mark, "duplicate key '%s' (first defined "
			     "at line %zu)", s->text, s->key_mark.line + 1);
			goto out;
		}
		if (!cell_key_known(ev_scalar(l), &is_list)) {
			if (!l->pending_key) {
				l->pending_key = xstrdup(ev_scalar(l));
				l->pending_mark = key_mark;
			}
			if (c.name) {
				fail_pending(l);
				goto out;
			}
			/* Report it once the cell's name is known. */
			if (next(l) || skip_node(l))
				goto out;
			continue;
		}
		ALLOC_GROW(seen, n_seen + 1, alloc_seen);
		s = &seen[n_seen++];
		s->text = key = xstrdup(ev_scalar(l));
		s->key_mark = key_mark;
		if (next(l))
			goto out;
		s->value_mark = l->ev.start_mark;
		if (is_list) {
			if (parse_list_value(l, &c, key, &item))
				goto out;
			continue;
		}
		if (l->ev.type != YAML_SCALAR_EVENT) {
			fail(l, &l->ev.start_mark, "%s: expected a single "
			     "value, got %s", key, node_kind(l->ev.type));
			goto out;
		}
		item.end = l->ev.end_mark.index;
		if (set_value(l, &c, key, ev_scalar(l), &l->ev.start_mark))
			goto out;
	}
	if (flow)
		item.end = l->ev.end_mark.index;
	if (l->pending_key) {
		fail_pending(l);
		goto out;
	}
	if (cell_validate(&c, &msg)) {
		fail(l, validate_mark(msg.buf, seen, n_seen, &start), "%s",
		     msg.buf);
		goto out;
	}
	for (i = 0; i < l->n_cells; i++) {
		if (strcmp(l->cells[i].name, c.name))
			continue;
		fail(l, &seen_find(seen, n_seen, "name")->value_mark,
		     "duplicate cell name '%s' (first defined at line %u)",
		     c.name, l->name_lines[i]);
		goto out;
	}
	ALLOC_GROW(l->cells, l->n_cells + 1, l->alloc_cells);
	ALLOC_GROW(l->name_lines, l->n_cells + 1, l->alloc_name_lines);
	l->name_lines[l->n_cells] =
		(unsigned)seen_find(seen, n_seen, "name")->value_mark.line + 1;
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
	if (ev_is_null(l)) {
		/* `cells:` alone: no cells yet. */
		lay->style = CELLS_NULL;
		lay->value_end = l->ev.end_mark.index;
		return 0;
	}
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(l, &l->ev.start_mark, "cells: expected a list of "
			    "cells, got %s", node_kind(l->ev.type));
	lay->style = CELLS_BLOCK;
	if (l->ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE)
		lay->style = CELLS_FLOW;
	lay->value_tagged = l->ev.data.sequence_start.tag != NULL;
	for (;;) {
		if (next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (l->ev.type != YAML_MAPPING_START_EVENT)
			return fail(l, &l->ev.start_mark, "cells: expected a "
				    "mapping for each cell, got %s",
				    node_kind(l->ev.type));
		if (parse_cell(l))
			return -1;
	}
	lay->value_end = l->ev.end_mark.index;
	return 0;
}

/* --- trees and builds ---------------------------------------------- */

#define MATRIX_NAME_MAX 64

/* Longest value quoted back in an error message. */
#define ERR_VALUE_MAX 60

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789._-"

/* Append s for an error message: quoted, escaped, shortened. */
static void add_quoted(struct strbuf *sb, const char *s)
{
	strbuf_add_quoted(sb, s, ERR_VALUE_MAX);
}

static int bad_value(struct strbuf *err, const char *key, const char *what,
		     const char *value)
{
	strbuf_addf(err, "%s: expected %s, got ", key, what);
	add_quoted(err, value);
	return -1;
}

/*
 * Values end up in argv words, file names and the dashboard: a control
 * character (a newline in a branch name) is always a mistake. libyaml has
 * already checked that the text is UTF-8.
 */
static int check_controls(const char *key, const char *s, struct strbuf *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			continue;
		strbuf_addf(err, "%s: control characters are not allowed, "
			    "got ", key);
		add_quoted(err, s);
		return -1;
	}
	return 0;
}

static int check_name(const char *s, struct strbuf *err)
{
	size_t n = strspn(s, NAME_CHARS);

	if (!*s || s[n] || n > MATRIX_NAME_MAX)
		return bad_value(err, "name", "1 to 64 characters from "
				 "[A-Za-z0-9._-]", s);
	return 0;
}

/* A decimal integer in [lo, hi]: digits only (no sign, no 0x), at most 9. */
static int parse_bounded(const char *s, unsigned lo, unsigned hi,
			 unsigned *out)
{
	unsigned long v = 0;
	size_t n;

	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 9)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (!n || s[n] || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
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

static char *resolve_path(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (path[0] == '/')
		return xstrdup(path);
	/* dir/./x is dir/x; ".." is left alone (symbolic links). */
	while (path[0] == '.' && path[1] == '/')
		path += 2 + strspn(path + 2, "/");
	if (n && dir[n - 1] == '/')
		return xstrfmt("%s%s", dir, path);
	return xstrfmt("%s/%s", dir, path);
}

/*
 * A path as written in the file, resolved against dir. Whether it exists
 * is for its user to say: a build reports a missing fragment, a load does
 * not fail on it.
 */
static int parse_path(const char *key, const char *v, const char *dir,
		      char **out, struct strbuf *err)
{
	if (check_controls(key, v, err))
		return -1;
	if (!*v) {
		strbuf_addf(err, "%s: expected a non-empty path", key);
		return -1;
	}
	/* Nothing expands it: "~/linux" would quietly be ./~/linux. */
	if (v[0] == '~') {
		strbuf_addf(err, "%s: '~' is not expanded in matrix files; "
			    "write the whole path, got ", key);
		add_quoted(err, v);
		return -1;
	}
	*out = resolve_path(dir, v);
	return 0;
}

static void list_add(char ***arr, size_t *n, char *value)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = value;
}

static void list_free(char **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

/*
 * git check-ref-format's rules for a branch name (blanks and control
 * characters are checked before): the name is passed to git and libgit2
 * as is, and a leading '-' would read as an option.
 */
static int ref_name_ok(const char *s)
{
	size_t n = strlen(s), len;
	const char *c;

	if (!n || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' ||
	    s[n - 1] == '.' || !strcmp(s, "@"))
		return 0;
	if (strstr(s, "..") || strstr(s, "@{") || strstr(s, "//") ||
	    strpbrk(s, "~^:?*[\\"))
		return 0;
	/* No component starts with '.' or ends with ".lock". */
	for (c = s;; c += len + 1) {
		len = strcspn(c, "/");
		if (c[0] == '.' ||
		    (len >= 5 && !memcmp(c + len - 5, ".lock", 5)))
			return 0;
		if (!c[len])
			return 1;
	}
}

/*
 * What git can clone: scheme://rest or the scp-like [user@]host:path. A
 * local repository is a `path`, and git would take a bare "/srv/linux" in
 * `url` without the relative-path handling paths get.
 */
static int url_ok(const char *s)
{
	size_t scheme = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz0123456789+.-");
	const char *colon = strchr(s, ':');

	if (strchr(s, ' '))
		return 0;
	if (scheme && isalpha((unsigned char)s[0]) &&
	    !strncmp(s + scheme, "://", 3))
		return s[scheme + 3] != '\0';
	return colon && colon > s && !memchr(s, '/', (size_t)(colon - s)) &&
	       colon[1];
}

static int tree_set_name(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (check_name(v, err))
		return -1;
	t->name = xstrdup(v);
	return 0;
}

static int tree_set_path(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	return parse_path("path", v, dir, &t->path, err);
}

static int tree_set_url(void *obj, const char *v, const char *dir,
			struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (check_controls("url", v, err))
		return -1;
	if (!url_ok(v))
		return bad_value(err, "url", "a git URL without blanks "
				 "(scheme://host/path or host:path; a local "
				 "repository is a path)", v);
	t->url = xstrdup(v);
	return 0;
}

static int tree_set_branches(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_tree *t = obj;
	size_t i;

	if (check_controls("branches", v, err))
		return -1;
	if (!*v) {
		strbuf_addstr(err, "branches: expected a non-empty branch "
			      "name");
		return -1;
	}
	if (strchr(v, ' '))
		return bad_value(err, "branches", "a branch name without "
				 "blanks", v);
	if (!ref_name_ok(v))
		return bad_value(err, "branches", "a valid git branch name "
				 "(see git check-ref-format)", v);
	for (i = 0; i < t->n_branches; i++) {
		if (strcmp(t->branches[i], v))
			continue;
		strbuf_addf(err, "branches: '%s' is listed twice", v);
		return -1;
	}
	list_add(&t->branches, &t->n_branches, xstrdup(v));
	return 0;
}

static int tree_set_poll(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (parse_bounded(v, 10, 86400, &t->poll_s))
		return bad_value(err, "poll", "an integer number of seconds "
				 "between 10 and 86400", v);
	return 0;
}

static int tree_set_first(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (parse_bounded(v, 0, 100000, &t->first))
		return bad_value(err, "first", "an integer between 0 and "
				 "100000 (0: every commit)", v);
	return 0;
}

static int tree_set_order(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (!strcmp(v, "oldest-first"))
		t->tips_first = 0;
	else if (!strcmp(v, "tips-first"))
		t->tips_first = 1;
	else
		return bad_value(err, "order", "oldest-first or tips-first",
				 v);
	return 0;
}

static const struct setting tree_settings[] = {
	{ "name", 0, tree_set_name },
	{ "path", 0, tree_set_path },
	{ "url", 0, tree_set_url },
	{ "branches", 1, tree_set_branches },
	{ "poll", 0, tree_set_poll },
	{ "first", 0, tree_set_first },
	{ "order", 0, tree_set_order },
};

static void tree_init(void *obj, unsigned line, unsigned column)
{
	struct matrix_tree *t = obj;

	memset(t, 0, sizeof(*t));
	t->poll_s = MATRIX_TREE_DEFAULT_POLL_S;
	t->first = MATRIX_TREE_DEFAULT_FIRST;
	t->line = line;
	t->column = column;
}

static void tree_release(void *obj)
{
	struct matrix_tree *t = obj;

	free(t->name);
	free(t->path);
	free(t->url);
	list_free(t->branches, t->n_branches);
	memset(t, 0, sizeof(*t));
}

static char **tree_name(void *obj)
{
	return &((struct matrix_tree *)obj)->name;
}

/* Whichever of two given settings comes second in the file. */
static const yaml_mark_t *second_key(const struct seen_key *a,
				     const struct seen_key *b)
{
	return a->key_mark.index > b->key_mark.index ? &a->key_mark :
						       &b->key_mark;
}

static int tree_finish(struct loader *l, void *obj, struct seen_key *seen,
		       size_t n_seen, const yaml_mark_t *start)
{
	struct matrix_tree *t = obj;
	struct seen_key *path = seen_find(seen, n_seen, "path");
	struct seen_key *url = seen_find(seen, n_seen, "url");
	struct seen_key *branches = seen_find(seen, n_seen, "branches");

	if (!t->name)
		return fail(l, start, "name: missing (every tree needs a "
			    "name)");
	if (path && url)
		return fail(l, second_key(path, url), "tree '%s': give "
			    "either path or url", t->name);
	if (!path && !url)
		return fail(l, start, "tree '%s': needs a path or a url",
			    t->name);
	if (!t->n_branches && branches)
		return fail(l, &branches->value_mark, "branches: expected at "
			    "least one branch");
	if (!t->n_branches)
		list_add(&t->branches, &t->n_branches,
			 xstrdup(MATRIX_TREE_DEFAULT_BRANCH));
	return 0;
}

static const struct section tree_section = {
	.key = "trees",
	.what = "tree",
	.settings = tree_settings,
	.n_settings = ARRAY_SIZE(tree_settings),
	.size = sizeof(struct matrix_tree),
	.init = tree_init,
	.release = tree_release,
	.name = tree_name,
	.finish = tree_finish,
};

/* The make targets a base can be; anything else is a .config file. */
static const char *const config_targets[] = {
	"defconfig", "tinyconfig", "allnoconfig",
};

static int build_set_name(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (check_name(v, err))
		return -1;
	b->name = xstrdup(v);
	return 0;
}

static int build_set_base(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_build *b = obj;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(config_targets); i++) {
		if (strcmp(v, config_targets[i]))
			continue;
		b->base = xstrdup(v);
		return 0;
	}
	/*
	 * A missing file is not a load error, so a bare word (tinyconfg,
	 * x86_64_defconfig) taken as one would only fail at build time: a
	 * file is named with a '/' or a '.' in it.
	 */
	if (!strpbrk(v, "/.")) {
		bad_value(err, "base", "defconfig, tinyconfig, allnoconfig or "
			  "a path to a .config file", v);
		if (!add_hint(err, v, config_targets,
			      ARRAY_SIZE(config_targets)) && *v)
			strbuf_addf(err, " (a file of that name is written "
				    "./%s)", v);
		return -1;
	}
	return parse_path("base", v, dir, &b->base, err);
}

static int build_set_fragments(void *obj, const char *v, const char *dir,
			       struct strbuf *err)
{
	struct matrix_build *b = obj;
	char *path;

	if (parse_path("fragments", v, dir, &path, err))
		return -1;
	list_add(&b->fragments, &b->n_fragments, path);
	return 0;
}

static int build_set_targets(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (check_controls("targets", v, err))
		return -1;
	/* "-j1" or "O=x" would be an option or a variable, not a target. */
	if (!*v || v[0] == '-' || strpbrk(v, " ="))
		return bad_value(err, "targets", "a make target (no blanks, "
				 "no '=', no leading '-')", v);
	list_add(&b->targets, &b->n_targets, xstrdup(v));
	return 0;
}

/* Has path a ".." component? */
static int has_dotdot(const char *path)
{
	const char *c;
	size_t len;

	for (c = path;; c += len + 1) {
		len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return 1;
		if (!c[len])
			return 0;
	}
}

static int build_set_image(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (check_controls("image", v, err))
		return -1;
	if (!*v || v[0] == '/' || has_dotdot(v))
		return bad_value(err, "image", "a path inside the build "
				 "output directory, relative to it", v);
	free(b->image);
	b->image = xstrdup(v);
	return 0;
}

static int build_set_timeout(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (parse_bounded(v, 60, 86400, &b->timeout_s))
		return bad_value(err, "timeout", "an integer number of seconds "
				 "between 60 and 86400", v);
	return 0;
}

static const struct setting build_settings[] = {
	{ "name", 0, build_set_name },
	{ "base", 0, build_set_base },
	{ "fragments", 1, build_set_fragments },
	{ "targets", 1, build_set_targets },
	{ "image", 0, build_set_image },
	{ "timeout", 0, build_set_timeout },
};

static void build_init(void *obj, unsigned line, unsigned column)
{
	struct matrix_build *b = obj;

	memset(b, 0, sizeof(*b));
	b->image = xstrdup(MATRIX_BUILD_DEFAULT_IMAGE);
	b->timeout_s = MATRIX_BUILD_DEFAULT_TIMEOUT_S;
	b->line = line;
	b->column = column;
}

static void build_release(void *obj)
{
	struct matrix_build *b = obj;

	free(b->name);
	free(b->base);
	list_free(b->fragments, b->n_fragments);
	list_free(b->targets, b->n_targets);
	free(b->image);
	memset(b, 0, sizeof(*b));
}

static char **build_name(void *obj)
{
	return &((struct matrix_build *)obj)->name;
}

static int build_finish(struct loader *l, void *obj, struct seen_key *seen,
			size_t n_seen, const yaml_mark_t *start)
{
	struct matrix_build *b = obj;
	struct seen_key *targets = seen_find(seen, n_seen, "targets");

	if (!b->name)
		return fail(l, start, "name: missing (every build needs a "
			    "name)");
	if (!b->base)
		return fail(l, start, "build '%s': needs a base (defconfig, "
			    "tinyconfig, allnoconfig or a path to a .config "
			    "file)", b->name);
	if (!b->n_targets && targets)
		return fail(l, &targets->value_mark, "targets: expected at "
			    "least one target");
	if (!b->n_targets)
		list_add(&b->targets, &b->n_targets,
			 xstrdup(MATRIX_BUILD_DEFAULT_TARGET));
	return 0;
}

static const struct section build_section = {
	.key = "builds",
	.what = "build",
	.settings = build_settings,
	.n_settings = ARRAY_SIZE(build_settings),
	.size = sizeof(struct matrix_build),
	.init = build_init,
	.release = build_release,
	.name = build_name,
	.finish = build_finish,
};

static void *entry_at(const struct entries *list, const struct section *sec,
		      size_t i)
{
	return (char *)list->items + i * sec->size;
}

static void entries_release(struct entries *list, const struct section *sec)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		sec->release(entry_at(list, sec, i));
	free(list->items);
	free(list->name_lines);
	memset(list, 0, sizeof(*list));
}

/* Give one scalar to a setter; its message gets the value's position. */
static int set_setting(struct loader *l, const struct setting *k, void *obj)
{
	struct strbuf msg = STRBUF_INIT;
	int ret = 0;

	if (k->set(obj, ev_is_null(l) ? "" : ev_scalar(l), l->dir, &msg))
		ret = fail(l, &l->ev.start_mark, "%s", msg.buf);
	strbuf_release(&msg);
	return ret;
}

/* The value of setting k; the current event is its first. */
static int parse_setting(struct loader *l, const struct setting *k,
			 void *obj)
{
	/* `fragments:` alone is no fragments, not one empty path. */
	if (k->is_list && ev_is_null(l))
		return 0;
	if (l->ev.type == YAML_SCALAR_EVENT)
		return set_setting(l, k, obj);
	if (!k->is_list)
		return fail(l, &l->ev.start_mark, "%s: expected a single "
			    "value, got %s", k->name, node_kind(l->ev.type));
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(l, &l->ev.start_mark, "%s: expected a string or a "
			    "list of strings, got %s", k->name,
			    node_kind(l->ev.type));
	for (;;) {
		if (next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return fail(l, &l->ev.start_mark, "%s: expected a "
				    "string for each element, got %s",
				    k->name, node_kind(l->ev.type));
		if (set_setting(l, k, obj))
			return -1;
	}
}

/* One item of a section; the current event is its MAPPING_START. */
static int parse_entry(struct loader *l, const struct section *sec,
		       struct entries *list)
{
	void *obj = xmalloc(sec->size);
	struct seen_key *seen = NULL, *name;
	size_t n_seen = 0, alloc_seen = 0, i;
	yaml_mark_t start = l->ev.start_mark;
	int ret = -1;

	sec->init(obj, (unsigned)start.line + 1, (unsigned)start.column + 1);
	l->cur_section = sec;
	l->cur_name = sec->name(obj);
	l->cur_index = list->n;

	for (;;) {
		const struct setting *k;
		struct seen_key *s;
		yaml_mark_t key_mark;

		if (next(l))
			goto out;
		if (l->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (l->ev.type != YAML_SCALAR_EVENT) {
			fail(l, &l->ev.start_mark, "expected a setting name, "
			     "got %s", node_kind(l->ev.type));
			goto out;
		}
		key_mark = l->ev.start_mark;
		s = seen_find(seen, n_seen, ev_scalar(l));
		if (s) {
			fail(l, &key_mark, "duplicate key '%s' (first defined "
			     "at line %zu)", s->text, s->key_mark.line + 1);
			goto out;
		}
		k = find_setting(sec, ev_scalar(l));
		if (!k) {
			if (!l->pending_key) {
				l->pending_key = xstrdup(ev_scalar(l));
				l->pending_mark = key_mark;
			}
			if (*l->cur_name) {
				fail_pending(l);
				goto out;
			}
			/* Report it once the item's name is known. */
			if (next(l) || skip_node(l))
				goto out;
			continue;
		}
		ALLOC_GROW(seen, n_seen + 1, alloc_seen);
		s = &seen[n_seen++];
		s->text = xstrdup(k->name);
		s->key_mark = key_mark;
		if (next(l))
			goto out;
		s->value_mark = l->ev.start_mark;
		if (parse_setting(l, k, obj))
			goto out;
	}
	if (l->pending_key) {
		fail_pending(l);
		goto out;
	}
	if (sec->finish(l, obj, seen, n_seen, &start))
		goto out;
	name = seen_find(seen, n_seen, "name");
	for (i = 0; i < list->n; i++) {
		if (strcmp(*sec->name(entry_at(list, sec, i)),
			   *sec->name(obj)))
			continue;
		fail(l, &name->value_mark, "duplicate %s name '%s' (first "
		     "defined at line %u)", sec->what, *sec->name(obj),
		     list->name_lines[i]);
		goto out;
	}
	if (list->n == list->alloc) {
		list->alloc = list->alloc ? 2 * list->alloc : 4;
		list->items = xrealloc(list->items, list->alloc * sec->size);
		list->name_lines = xrealloc(list->name_lines, list->alloc *
					    sizeof(*list->name_lines));
	}
	/* The list owns what obj points to from here. */
	memcpy(entry_at(list, sec, list->n), obj, sec->size);
	list->name_lines[list->n++] = (unsigned)name->value_mark.line + 1;
	ret = 0;
out:
	l->cur_section = NULL;
	l->cur_name = NULL;
	if (ret)
		sec->release(obj);
	free(obj);
	for (i = 0; i < n_seen; i++)
		free(seen[i].text);
	free(seen);
	return ret;
}

/* The value of `trees` or `builds`; the current event is its first. */
static int parse_section(struct loader *l, const struct section *sec,
			 struct entries *list)
{
	if (ev_is_null(l))
		return 0;
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(l, &l->ev.start_mark, "%s: expected a list of %s, "
			    "got %s", sec->key, sec->key,
			    node_kind(l->ev.type));
	for (;;) {
		if (next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (l->ev.type != YAML_MAPPING_START_EVENT)
			return fail(l, &l->ev.start_mark, "%s: expected a "
				    "mapping for each %s, got %s", sec->key,
				    sec->what, node_kind(l->ev.type));
		if (parse_entry(l, sec, list))
			return -1;
	}
}

/* --- the top level ------------------------------------------------- */

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
	else if (find_setting(&tree_section, key))
		strbuf_addstr(&msg, " (tree settings go in the items of the "
			      "'trees' list)");
	else if (find_setting(&build_section, key))
		strbuf_addstr(&msg, " (build settings go in the items of the "
			      "'builds' list)");
	else
		add_hint(&msg, key, top_keys, ARRAY_SIZE(top_keys));
	fail(l, mark, "%s", msg.buf);
	strbuf_release(&msg);
	return -1;
}

/* The value of top-level key; the current event is the key. */
static int parse_top_value(struct loader *l, const char *key)
{
	if (!strcmp(key, "cells")) {
		l->lay->key_end = l->ev.end_mark.index;
		l->lay->key_column = l->ev.start_mark.column;
		if (next(l))
			return -1;
		return parse_cells(l);
	}
	if (next(l))
		return -1;
	if (!strcmp(key, "trees"))
		return parse_section(l, &tree_section, &l->trees);
	if (!strcmp(key, "builds"))
		return parse_section(l, &build_section, &l->builds);
	/* version */
	if (l->ev.type != YAML_SCALAR_EVENT)
		return fail(l, &l->ev.start_mark, "version: expected 1, got %s",
			    node_kind(l->ev.type));
	if (strcmp(ev_scalar(l), "1"))
		return fail(l, &l->ev.start_mark, "version: unsupported "
			    "version '%s' (only 1 is known)", ev_scalar(l));
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

		if (next(l))
			goto out;
		if (l->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (l->ev.type != YAML_SCALAR_EVENT) {
			fail(l, &l->ev.start_mark, "expected a key, got %s",
			     node_kind(l->ev.type));
			goto out;
		}
		key = ev_scalar(l);
		if (!top_key_known(key)) {
			unknown_top_key(l, key, &l->ev.start_mark);
			goto out;
		}
		s = seen_find(seen, n_seen, key);
		if (s) {
			fail(l, &l->ev.start_mark, "duplicate key '%s' (first "
			     "defined at line %zu)", key,
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
	if (!seen_find(seen, n_seen, "cells")) {
		fail(l, &root, "no 'cells' list");
		goto out;
	}
	ret = 0;
out:
	for (i = 0; i < n_seen; i++)
		free(seen[i].text);
	free(seen);
	return ret;
}

static int parse_stream(struct loader *l)
{
	if (next(l))
		return -1;
	/* STREAM_START, then nothing at all for an empty file. */
	if (next(l))
		return -1;
	if (l->ev.type == YAML_STREAM_END_EVENT)
		return fail(l, &l->ev.start_mark, "no 'cells' list");
	if (next(l))
		return -1;
	if (ev_is_null(l))
		return fail(l, &l->ev.start_mark, "no 'cells' list");
	if (l->ev.type != YAML_MAPPING_START_EVENT)
		return fail(l, &l->ev.start_mark, "expected a mapping with a "
			    "'cells' list at the top level, got %s",
			    node_kind(l->ev.type));
	if (parse_top(l))
		return -1;
	if (next(l))		/* DOCUMENT_END */
		return -1;
	if (next(l))
		return -1;
	if (l->ev.type != YAML_STREAM_END_EVENT)
		return fail(l, &l->ev.start_mark, "only one YAML document is "
			    "allowed in a matrix file");
	return 0;
}

static void layout_release(struct layout *lay)
{
	free(lay->items);
	memset(lay, 0, sizeof(*lay));
}

static void matrix_cells_free(struct cell *cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cell_release(&cells[i]);
	free(cells);
}

/* matrix_load_buf(), and the layout for the editing functions. */
static int load(struct matrix *m, const char *name, const char *buf,
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
	l.cells = NULL;
	l.n_cells = 0;
	l.trees.items = l.builds.items = NULL;
	l.trees.n = l.builds.n = 0;
	ret = 0;
out:
	if (l.have_ev)
		yaml_event_delete(&l.ev);
	yaml_parser_delete(&l.parser);
	matrix_cells_free(l.cells, l.n_cells);
	entries_release(&l.trees, &tree_section);
	entries_release(&l.builds, &build_section);
	free(l.dir);
	free(l.name_lines);
	free(l.pending_key);
	layout_release(&own);
	if (ret && lay)
		layout_release(lay);
	return ret;
}

int matrix_load_buf(struct matrix *m, const char *name, const char *buf,
		    size_t len, struct strbuf *err)
{
	return load(m, name, buf, len, err, NULL);
}

/* Read path into sb; "path: message" in err when it cannot. */
static int read_file(const char *path, struct strbuf *sb, struct strbuf *err)
{
	int r = fsutil_read(path, sb);

	if (r < 0) {
		strbuf_addf(err, "%s: cannot read: %s", path, strerror(-r));
		return -1;
	}
	return 0;
}

int matrix_load(struct matrix *m, const char *path, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int ret = -1;

	if (read_file(path, &text, err))
		goto out;
	ret = matrix_load_buf(m, path, text.buf, text.len, err);
out:
	strbuf_release(&text);
	return ret;
}

void matrix_release(struct matrix *m)
{
	size_t i;

	free(m->path);
	matrix_cells_free(m->cells, m->n_cells);
	for (i = 0; i < m->n_trees; i++)
		tree_release(&m->trees[i]);
	free(m->trees);
	for (i = 0; i < m->n_builds; i++)
		build_release(&m->builds[i]);
	free(m->builds);
	memset(m, 0, sizeof(*m));
}

const struct cell *matrix_find(const struct matrix *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_cells; i++)
		if (!strcmp(m->cells[i].name, name))
			return &m->cells[i];
	return NULL;
}

const struct matrix_tree *matrix_find_tree(const struct matrix *m,
					   const char *name)
{
	size_t i;

	for (i = 0; i < m->n_trees; i++)
		if (!strcmp(m->trees[i].name, name))
			return &m->trees[i];
	return NULL;
}

const struct matrix_build *matrix_find_build(const struct matrix *m,
					     const char *name)
{
	size_t i;

	for (i = 0; i < m->n_builds; i++)
		if (!strcmp(m->builds[i].name, name))
			return &m->builds[i];
	return NULL;
}

const char *matrix_default_path(void)
{
	const char *env = getenv("HVMATRIX_MATRIX");

	if (env && *env)
		return env;
	if (access("matrices/default.yaml", F_OK) == 0)
		return "matrices/default.yaml";
	return HVM_DATADIR "/matrices/default.yaml";
}

/* --- editing ------------------------------------------------------ */

/*
 * libyaml counts characters (a CRLF as two, a BOM as none); the editing
 * works on bytes. The text has loaded, so it is valid UTF-8.
 */
static size_t char_to_byte(const char *buf, size_t len, size_t idx)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t off = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		off = 3;
	while (idx-- && off < len) {
		if (p[off] < 0x80)
			off += 1;
		else if (p[off] < 0xe0)
			off += 2;
		else if (p[off] < 0xf0)
			off += 3;
		else
			off += 4;
	}
	return off < len ? off : len;
}

static size_t line_start(const char *buf, size_t off)
{
	while (off && buf[off - 1] != '\n')
		off--;
	return off;
}

/* Offset just after the newline that ends the line holding off. */
static size_t line_next(const char *buf, size_t len, size_t off)
{
	const char *nl = memchr(buf + off, '\n', len - off);

	return nl ? (size_t)(nl - buf) + 1 : len;
}

/* Only blanks between off and the end of its line? */
static int line_blank(const char *buf, size_t len, size_t off)
{
	for (; off < len && buf[off] != '\n'; off++)
		if (buf[off] != ' ' && buf[off] != '\t' && buf[off] != '\r')
			return 0;
	return 1;
}

/* Is the line at off (a line start) a comment; its indentation in *ind. */
static int line_comment(const char *buf, size_t len, size_t off,
			size_t *ind)
{
	size_t i = off;

	while (i < len && buf[i] == ' ')
		i++;
	*ind = i - off;
	return i < len && buf[i] == '#';
}

/* The end of a cell item's text: the end of its last line. */
static size_t item_end(const char *buf, size_t len, size_t end)
{
	/* A block scalar ends after its newline, at a line start. */
	if (end && buf[end - 1] == '\n')
		return end;
	return line_next(buf, len, end);
}

/* The '-' that starts a block item, searching from `from`. */
static size_t find_dash(const char *buf, size_t len, size_t from)
{
	size_t i = from;

	while (i < len && buf[i] != '-') {
		if (buf[i] == '#')
			i = line_next(buf, len, i);
		else
			i++;
	}
	return i;
}

/*
 * The '-' of the first item of the block `cells` list. Its mark is that
 * of the sequence, which starts at its tag when it has one.
 */
static size_t first_dash(const char *buf, size_t len,
			 const struct layout *lay)
{
	size_t i = char_to_byte(buf, len, lay->value_start);

	if (lay->value_tagged)
		while (i < len && !strchr(" \t\r\n", buf[i]))
			i++;
	return find_dash(buf, len, i);
}

/*
 * libyaml also breaks lines at a lone CR (and at U+0085, U+2028, U+2029,
 * which the check after each edit catches); the editing works with LF
 * and CRLF only.
 */
static int has_lone_cr(const char *buf, size_t len)
{
	const char *p = buf;

	while ((p = memchr(p, '\r', len - (size_t)(p - buf)))) {
		if ((size_t)(p - buf) + 1 >= len || p[1] != '\n')
			return 1;
		p++;
	}
	return 0;
}

static int uses_crlf(const char *buf, size_t len, size_t off)
{
	const char *nl = memchr(buf + off, '\n', len - off);

	if (!nl && off)
		nl = memrchr(buf, '\n', off);
	return nl && nl > buf && nl[-1] == '\r';
}

/* Append text, turning its newlines into CRLF when crlf is set. */
static void add_lines(struct strbuf *sb, const char *text, int crlf)
{
	for (; *text; text++) {
		if (*text == '\n' && crlf)
			strbuf_addch(sb, '\r');
		strbuf_addch(sb, *text);
	}
}

static int str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int list_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return 1;
}

/* Same settings (positions aside)? */
static int cell_same(const struct cell *a, const struct cell *b)
{
	return str_equal(a->name, b->name) &&
	       str_equal(a->description, b->description) &&
	       a->backend == b->backend && str_equal(a->qemu, b->qemu) &&
	       a->accel == b->accel && str_equal(a->machine, b->machine) &&
	       str_equal(a->cpu, b->cpu) && a->memory_mb == b->memory_mb &&
	       a->smp == b->smp &&
	       list_equal(a->qemu_args, a->n_qemu_args, b->qemu_args,
			  b->n_qemu_args) &&
	       str_equal(a->cmdline, b->cmdline) &&
	       a->timeout_s == b->timeout_s && a->silence_s == b->silence_s &&
	       list_equal(a->expect, a->n_expect, b->expect, b->n_expect) &&
	       a->requires == b->requires;
}

static int tree_same(const struct matrix_tree *a,
		     const struct matrix_tree *b)
{
	return str_equal(a->name, b->name) && str_equal(a->path, b->path) &&
	       str_equal(a->url, b->url) &&
	       list_equal(a->branches, a->n_branches, b->branches,
			  b->n_branches) &&
	       a->poll_s == b->poll_s && a->first == b->first &&
	       a->tips_first == b->tips_first;
}

static int build_same(const struct matrix_build *a,
		      const struct matrix_build *b)
{
	return str_equal(a->name, b->name) && str_equal(a->base, b->base) &&
	       list_equal(a->fragments, a->n_fragments, b->fragments,
			  b->n_fragments) &&
	       list_equal(a->targets, a->n_targets, b->targets,
			  b->n_targets) &&
	       str_equal(a->image, b->image) && a->timeout_s == b->timeout_s;
}

/* Does m hold the same trees and builds as old (NULL: none)? */
static int others_same(const struct matrix *m, const struct matrix *old)
{
	size_t i;

	if (!old)
		return !m->n_trees && !m->n_builds;
	if (m->n_trees != old->n_trees || m->n_builds != old->n_builds)
		return 0;
	for (i = 0; i < m->n_trees; i++)
		if (!tree_same(&m->trees[i], &old->trees[i]))
			return 0;
	for (i = 0; i < m->n_builds; i++)
		if (!build_same(&m->builds[i], &old->builds[i]))
			return 0;
	return 1;
}

/*
 * Load the edited text and check that it holds exactly `want` (old cells
 * minus the removed one, plus the added one, in order), and the trees and
 * builds of `old`, before anything is written.
 */
static int verify_and_write(const char *path, const struct strbuf *text,
			    const struct cell *const *want, size_t n_want,
			    const struct matrix *old, struct strbuf *err)
{
	struct matrix m;
	struct strbuf msg = STRBUF_INIT;
	size_t i;
	int r, ret = -1;

	if (load(&m, path, text->buf, text->len, &msg, NULL)) {
		strbuf_addf(err, "%s: internal error: the edited file would "
			    "not load (%s); left unchanged", path, msg.buf);
		goto out;
	}
	if (m.n_cells != n_want) {
		strbuf_addf(err, "%s: internal error: the edited file would "
			    "hold %zu cells instead of %zu; left unchanged",
			    path, m.n_cells, n_want);
		goto out_release;
	}
	for (i = 0; i < n_want; i++) {
		if (cell_same(&m.cells[i], want[i]))
			continue;
		strbuf_addf(err, "%s: internal error: cell '%s' would change "
			    "in the edited file; left unchanged", path,
			    want[i]->name);
		goto out_release;
	}
	if (!others_same(&m, old)) {
		strbuf_addf(err, "%s: internal error: the trees or builds "
			    "would change in the edited file; left unchanged",
			    path);
		goto out_release;
	}
	r = fsutil_write_atomic(path, text->buf, text->len);
	if (r < 0) {
		strbuf_addf(err, "%s: cannot write: %s", path, strerror(-r));
		goto out_release;
	}
	ret = 0;
out_release:
	matrix_release(&m);
out:
	strbuf_release(&msg);
	return ret;
}

int matrix_add_cell(const char *path, const struct cell *c,
		    struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf item = STRBUF_INIT, msg = STRBUF_INIT;
	struct matrix m = { 0 };
	struct layout lay;
	const struct cell **want = NULL;
	const struct cell *dup;
	size_t i, at;
	int r, crlf, ret = -1;

	memset(&lay, 0, sizeof(lay));
	if (cell_validate(c, &msg)) {
		strbuf_addf(err, "%s", msg.buf);
		goto out;
	}
	r = fsutil_read(path, &text);
	if (r == -ENOENT) {
		strbuf_addstr(&out, "cells:\n");
		cell_to_yaml(c, 2, &out);
		want = xmalloc(sizeof(*want));
		want[0] = c;
		ret = verify_and_write(path, &out, want, 1, NULL, err);
		goto out;
	}
	if (r < 0) {
		strbuf_addf(err, "%s: cannot read: %s", path, strerror(-r));
		goto out;
	}
	if (load(&m, path, text.buf, text.len, err, &lay))
		goto out;
	dup = matrix_find(&m, c->name);
	if (dup) {
		strbuf_addf(err, "cell '%s' already exists in %s (line %u)",
			    c->name, path, dup->line);
		goto out;
	}
	if (lay.root_flow || (lay.style == CELLS_FLOW && lay.n_items)) {
		strbuf_addf(err, "%s: cannot add to a matrix written in YAML "
			    "flow style ({...} or [...]); write 'cells' as a "
			    "block list", path);
		goto out;
	}
	if (has_lone_cr(text.buf, text.len)) {
		strbuf_addf(err, "%s: cannot edit a file with CR line ends; "
			    "convert them to LF", path);
		goto out;
	}
	if (lay.style == CELLS_BLOCK) {
		/* After the last line of the last cell, at its indent. */
		size_t dash = first_dash(text.buf, text.len, &lay);

		at = item_end(text.buf, text.len,
			      char_to_byte(text.buf, text.len,
					   lay.items[lay.n_items - 1].end));
		cell_to_yaml(c, (int)(dash - line_start(text.buf, dash)),
			     &item);
		strbuf_add(&out, text.buf, at);
	} else {
		/* `cells: []` or `cells:`: make it `cells:` + a block list. */
		size_t key_end = char_to_byte(text.buf, text.len, lay.key_end);
		size_t val_end = char_to_byte(text.buf, text.len,
					      lay.value_end);

		/* An empty value's mark is just after the colon. */
		if (val_end <= key_end)
			val_end = key_end + 1;
		at = line_next(text.buf, text.len, val_end);
		cell_to_yaml(c, (int)lay.key_column + 2, &item);
		strbuf_add(&out, text.buf, key_end);
		strbuf_addch(&out, ':');
		/* "cells: []# x" has a comment; "cells:# x" would not. */
		if (val_end < at && !strchr(" \t\r\n", text.buf[val_end]))
			strbuf_addch(&out, ' ');
		strbuf_add(&out, text.buf + val_end, at - val_end);
	}
	crlf = uses_crlf(text.buf, text.len, at ? at - 1 : 0);
	if (out.len && out.buf[out.len - 1] != '\n')
		add_lines(&out, "\n", crlf);
	add_lines(&out, item.buf, crlf);
	strbuf_add(&out, text.buf + at, text.len - at);

	want = xmalloc((m.n_cells + 1) * sizeof(*want));
	for (i = 0; i < m.n_cells; i++)
		want[i] = &m.cells[i];
	want[m.n_cells] = c;
	ret = verify_and_write(path, &out, want, m.n_cells + 1, &m, err);
out:
	free(want);
	matrix_release(&m);
	layout_release(&lay);
	strbuf_release(&text);
	strbuf_release(&out);
	strbuf_release(&item);
	strbuf_release(&msg);
	return ret;
}

/*
 * The byte range [*start, *end) of item i: from the line of its '-'
 * through its last line, with the comment lines just under it that are
 * indented deeper than the '-' (commented-out settings of that cell), and
 * with the comment block just above it when a blank line separates that
 * block from what precedes it (a heading for that cell). Comments that
 * stand on their own, such as a heading of the whole list, stay.
 */
static int item_range(const char *buf, size_t len, const struct layout *lay,
		      size_t i, size_t *start, size_t *end)
{
	size_t dash, s, e, ind, col, prev_end = 0;

	dash = first_dash(buf, len, lay);
	col = dash - line_start(buf, dash);
	if (i) {
		prev_end = char_to_byte(buf, len, lay->items[i - 1].end);
		prev_end = item_end(buf, len, prev_end);
		dash = find_dash(buf, len, prev_end);
	}
	s = line_start(buf, dash);
	if (dash >= len || dash - s != col || strspn(buf + s, " ") != col)
		return -1;
	e = item_end(buf, len, char_to_byte(buf, len, lay->items[i].end));

	/* Trailing comments indented under the item. */
	while (e < len && line_comment(buf, len, e, &ind) &&
	       ind > col)
		e = line_next(buf, len, e);

	/* A heading comment block separated from the previous item. */
	if (i) {
		size_t c = s;

		while (c > prev_end) {
			size_t p = line_start(buf, c - 1);

			if (!line_comment(buf, len, p, &ind) ||
			    ind != col)
				break;
			c = p;
		}
		if (c < s && c > prev_end &&
		    line_blank(buf, len, line_start(buf, c - 1)))
			s = c;
	}

	/* Do not leave two blank lines where the item was. */
	if (e < len && line_blank(buf, len, e) &&
	    (!i || line_blank(buf, len, line_start(buf, s - 1))))
		e = line_next(buf, len, e);
	*start = s;
	*end = e;
	return 0;
}

int matrix_remove_cell(const char *path, const char *name,
		       struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	struct matrix m = { 0 };
	struct layout lay;
	const struct cell **want = NULL;
	size_t i, idx, start, end, n_want = 0;
	int ret = -1;

	memset(&lay, 0, sizeof(lay));
	if (read_file(path, &text, err))
		goto out;
	if (load(&m, path, text.buf, text.len, err, &lay))
		goto out;
	for (idx = 0; idx < m.n_cells; idx++)
		if (!strcmp(m.cells[idx].name, name))
			break;
	if (idx == m.n_cells) {
		strbuf_addf(err, "no cell '%s' in %s", name, path);
		goto out;
	}
	if (lay.root_flow || lay.style != CELLS_BLOCK) {
		strbuf_addf(err, "%s: cannot remove from a matrix written in "
			    "YAML flow style ({...} or [...]); write 'cells' "
			    "as a block list", path);
		goto out;
	}
	if (has_lone_cr(text.buf, text.len)) {
		strbuf_addf(err, "%s: cannot edit a file with CR line ends; "
			    "convert them to LF", path);
		goto out;
	}
	if (item_range(text.buf, text.len, &lay, idx, &start, &end)) {
		strbuf_addf(err, "%s: cannot find the lines of cell '%s'",
			    path, name);
		goto out;
	}
	strbuf_add(&out, text.buf, start);
	if (m.n_cells == 1) {
		/* The last cell: leave `cells: []`, a list, not a null. */
		size_t key_end = char_to_byte(text.buf, text.len, lay.key_end);
		size_t colon = key_end;

		while (colon < start && text.buf[colon] != ':')
			colon++;
		strbuf_setlen(&out, colon + 1);
		strbuf_addstr(&out, " []");
		strbuf_add(&out, text.buf + colon + 1, start - colon - 1);
	}
	strbuf_add(&out, text.buf + end, text.len - end);

	want = xmalloc((m.n_cells ? m.n_cells : 1) * sizeof(*want));
	for (i = 0; i < m.n_cells; i++)
		if (i != idx)
			want[n_want++] = &m.cells[i];
	ret = verify_and_write(path, &out, want, n_want, &m, err);
out:
	free(want);
	matrix_release(&m);
	layout_release(&lay);
	strbuf_release(&text);
	strbuf_release(&out);
	return ret;
}
