/*
 * matrix: the model of a matrix file (its cells, trees, builds, webhooks,
 * report, executor, interfaces and web), the load entry points, the lookups and the
 * default path; and the document parser on top of the loader's layers:
 * the stream, the top-level mapping and its keys, each section given to
 * the file named for it (matrix-sections.h), read by matrix-section.c on
 * matrix-yaml.c. The layout of the text the editor (matrix-edit.c) needs
 * is in matrix-priv.h.
 *
 * Loading is all-or-nothing and never changes the caller's matrix on
 * error.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "matrix/matrix-priv.h"
#include "matrix/matrix-sections.h"
#include "lib/paths.h"
#include "lib/xmalloc.h"

static const char *const top_keys[] = { "builds", "cells", "trees",
					"version", "webhooks", "report",
					"executor", "interfaces",
					"web" };

/* What the parse reads into; the caller's matrix only once it all has. */
struct loader {
	struct matrix_yaml y;
	struct layout *lay;
	struct entries cells, trees, builds, webhooks;
	struct matrix_report report;
	struct matrix_executor executor;
	struct matrix_interface *interfaces;
	size_t n_interfaces;
	struct matrix_web web;
};

/* The value of `cells`; the current event is its first. */
static int parse_cells(struct loader *l)
{
	struct matrix_yaml *y = &l->y;
	struct layout *lay = l->lay;
	const yaml_event_t *ev = &y->ev;

	lay->value_start = ev->start_mark.index;
	if (matrix_yaml_is_null(y)) {
		/* `cells:` alone: no cells yet. */
		lay->style = CELLS_NULL;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		lay->style = ev->data.sequence_start.style ==
			     YAML_FLOW_SEQUENCE_STYLE ? CELLS_FLOW :
							CELLS_BLOCK;
		lay->value_tagged = ev->data.sequence_start.tag != NULL;
	}
	if (matrix_section_parse_list(y, &matrix_cells_section, &l->cells))
		return -1;
	lay->value_end = ev->end_mark.index;
	return 0;
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
	struct matrix_yaml *y = &l->y;
	struct strbuf msg = STRBUF_INIT;

	strbuf_addf(&msg, "unknown key '%s'", key);
	if (matrix_section_has_key(&matrix_cells_section, key))
		strbuf_addstr(&msg, " (cell settings go in the items of the "
			      "'cells' list)");
	else if (matrix_section_has_key(&matrix_trees_section, key))
		strbuf_addstr(&msg, " (tree settings go in the items of the "
			      "'trees' list)");
	else if (matrix_section_has_key(&matrix_builds_section, key))
		strbuf_addstr(&msg, " (build settings go in the items of the "
			      "'builds' list)");
	else
		matrix_yaml_add_hint(&msg, key, top_keys, ARRAY_SIZE(top_keys));
	matrix_yaml_fail(y, mark, "%s", msg.buf);
	strbuf_release(&msg);
	return -1;
}

/* The value of top-level key; the current event is the key. */
static int parse_top_value(struct loader *l, const char *key)
{
	struct matrix_yaml *y = &l->y;

	if (!strcmp(key, "cells")) {
		l->lay->key_end = y->ev.end_mark.index;
		l->lay->key_column = y->ev.start_mark.column;
		if (matrix_yaml_next(y))
			return -1;
		return parse_cells(l);
	}
	if (matrix_yaml_next(y))
		return -1;
	if (!strcmp(key, "trees"))
		return matrix_section_parse_list(y, &matrix_trees_section,
						 &l->trees);
	if (!strcmp(key, "builds"))
		return matrix_section_parse_list(y, &matrix_builds_section,
						 &l->builds);
	if (!strcmp(key, "executor"))
		return matrix_executor_parse(y, &l->executor);
	if (!strcmp(key, "webhooks"))
		return matrix_section_parse_list(y, &matrix_webhooks_section,
						 &l->webhooks);
	if (!strcmp(key, "report"))
		return matrix_report_parse(y, &l->report);
	if (!strcmp(key, "interfaces"))
		return matrix_interfaces_parse(y, &l->interfaces,
					       &l->n_interfaces);
	if (!strcmp(key, "web"))
		return matrix_web_parse(y, &l->web);
	/* version */
	if (y->ev.type != YAML_SCALAR_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "version: "
					"expected 1, got %s",
					matrix_yaml_node_kind(y->ev.type));
	if (strcmp(matrix_yaml_scalar(y), "1"))
		return matrix_yaml_fail(y, &y->ev.start_mark, "version: "
					"unsupported version '%s' (only 1 is "
					"known)", matrix_yaml_scalar(y));
	return 0;
}

/* The top-level mapping; the current event is its MAPPING_START. */
static int parse_top(struct loader *l)
{
	struct matrix_yaml *y = &l->y;
	yaml_mark_t root = y->ev.start_mark;
	struct seen_key *seen = NULL;
	size_t n_seen = 0, alloc_seen = 0;
	int ret = -1;

	l->lay->root_flow =
		y->ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	for (;;) {
		struct seen_key *s;
		const char *key;

		if (matrix_yaml_next(y))
			goto out;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (y->ev.type != YAML_SCALAR_EVENT) {
			matrix_yaml_fail(y, &y->ev.start_mark, "expected a "
					 "key, got %s",
					 matrix_yaml_node_kind(y->ev.type));
			goto out;
		}
		key = matrix_yaml_scalar(y);
		if (!top_key_known(key)) {
			unknown_top_key(l, key, &y->ev.start_mark);
			goto out;
		}
		s = matrix_yaml_seen_find(seen, n_seen, key);
		if (s) {
			matrix_yaml_fail(y, &y->ev.start_mark, "duplicate key "
					 "'%s' (first defined at line %zu)",
					 key, s->key_mark.line + 1);
			goto out;
		}
		s = matrix_yaml_seen_add(&seen, &n_seen, &alloc_seen, key,
					 &y->ev.start_mark);
		if (parse_top_value(l, s->text))
			goto out;
	}
	if (!matrix_yaml_seen_find(seen, n_seen, "cells")) {
		matrix_yaml_fail(y, &root, "no 'cells' list");
		goto out;
	}
	if (matrix_executor_check(y, &l->executor, l->cells.items,
				  l->cells.n) ||
	    matrix_web_check(y, &l->web, l->cells.items, l->cells.n))
		goto out;
	if (matrix_interfaces_check(y, l->interfaces, l->n_interfaces,
				    l->cells.items, l->cells.n))
		goto out;
	ret = 0;
out:
	matrix_yaml_seen_free(seen, n_seen);
	return ret;
}

static int parse_stream(struct loader *l)
{
	struct matrix_yaml *y = &l->y;

	if (matrix_yaml_next(y))
		return -1;
	/* STREAM_START, then nothing at all for an empty file. */
	if (matrix_yaml_next(y))
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark,
					"no 'cells' list");
	if (matrix_yaml_next(y))
		return -1;
	if (matrix_yaml_is_null(y))
		return matrix_yaml_fail(y, &y->ev.start_mark,
					"no 'cells' list");
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "expected a "
					"mapping with a 'cells' list at the "
					"top level, got %s",
					matrix_yaml_node_kind(y->ev.type));
	if (parse_top(l))
		return -1;
	if (matrix_yaml_next(y))		/* DOCUMENT_END */
		return -1;
	if (matrix_yaml_next(y))
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "only one YAML "
					"document is allowed in a matrix file");
	return 0;
}

void matrix_layout_release(struct layout *lay)
{
	free(lay->items);
	memset(lay, 0, sizeof(*lay));
}

int matrix_parse(struct matrix *m, const char *name, const char *buf,
		 size_t len, struct strbuf *err, struct layout *lay)
{
	struct loader l;
	struct layout own;
	int ret = -1;

	memset(&l, 0, sizeof(l));
	memset(&own, 0, sizeof(own));
	matrix_yaml_init(&l.y, name, buf, len, err);
	l.lay = lay ? lay : &own;
	memset(l.lay, 0, sizeof(*l.lay));
	if (parse_stream(&l))
		goto out;
	m->path = xstrdup(name);
	m->cells = l.cells.items;
	m->n_cells = l.cells.n;
	m->trees = l.trees.items;
	m->n_trees = l.trees.n;
	m->builds = l.builds.items;
	m->n_builds = l.builds.n;
	m->webhooks = l.webhooks.items;
	m->n_webhooks = l.webhooks.n;
	l.cells.items = l.trees.items = l.builds.items = NULL;
	l.webhooks.items = NULL;
	l.cells.n = l.trees.n = l.builds.n = l.webhooks.n = 0;
	m->executor = l.executor;
	memset(&l.executor, 0, sizeof(l.executor));
	m->report = l.report;
	memset(&l.report, 0, sizeof(l.report));
	m->interfaces = l.interfaces;
	m->n_interfaces = l.n_interfaces;
	l.interfaces = NULL;
	l.n_interfaces = 0;
	m->web = l.web;
	memset(&l.web, 0, sizeof(l.web));
	/* Where each cell is, for the editor. */
	l.lay->items = l.cells.extents;
	l.lay->n_items = m->n_cells;
	l.lay->alloc_items = l.cells.alloc;
	l.cells.extents = NULL;
	ret = 0;
out:
	matrix_yaml_release(&l.y);
	matrix_section_entries_release(&l.cells, &matrix_cells_section);
	matrix_section_entries_release(&l.trees, &matrix_trees_section);
	matrix_section_entries_release(&l.builds, &matrix_builds_section);
	matrix_executor_release(&l.executor);
	matrix_section_entries_release(&l.webhooks,
				       &matrix_webhooks_section);
	matrix_report_release(&l.report);
	matrix_interfaces_free(l.interfaces, l.n_interfaces);
	matrix_web_release(&l.web);
	matrix_layout_release(&own);
	if (ret && lay)
		matrix_layout_release(lay);
	return ret;
}

int matrix_load_buf(struct matrix *m, const char *name, const char *buf,
		    size_t len, struct strbuf *err)
{
	return matrix_parse(m, name, buf, len, err, NULL);
}

int matrix_read_file(const char *path, struct strbuf *sb, struct strbuf *err)
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

	if (matrix_read_file(path, &text, err))
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
		matrix_trees_section.release(&m->trees[i]);
	free(m->trees);
	for (i = 0; i < m->n_builds; i++)
		matrix_builds_section.release(&m->builds[i]);
	free(m->builds);
	matrix_executor_release(&m->executor);
	for (i = 0; i < m->n_webhooks; i++)
		matrix_webhooks_section.release(&m->webhooks[i]);
	free(m->webhooks);
	matrix_report_release(&m->report);
	matrix_interfaces_free(m->interfaces, m->n_interfaces);
	matrix_web_release(&m->web);
	memset(m, 0, sizeof(*m));
}

enum matrix_executor_kind matrix_cell_executor(const struct matrix *m,
					       const struct cell *c)
{
	if (c->executor == CELL_EXECUTOR_LOCAL)
		return MATRIX_EXECUTOR_LOCAL;
	if (c->executor == CELL_EXECUTOR_SLURM)
		return MATRIX_EXECUTOR_SLURM;
	return m->executor.kind;
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
	/* From a checkout, the matrix of the tree one stands in. */
	if (paths_in_build_tree() &&
	    access("matrices/default.yaml", F_OK) == 0)
		return "matrices/default.yaml";
	return paths_default_matrix();
}
