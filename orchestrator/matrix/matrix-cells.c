/*
 * matrix-cells: the `cells` section. Its keys and values are cell.c's
 * (cell_set(), the same code the command line uses), so a value one
 * accepts the other does; this file only adapts them to the section
 * reader (matrix-section.c) and points a cell_validate() message at the
 * setting it is about.
 */
#include <stdlib.h>
#include <string.h>

#include "matrix/hypervisors.h"
#include "matrix/matrix-sections.h"
#include "lib/xmalloc.h"

static int cells_key_kind(const char *key)
{
	int is_list;

	if (!cell_key_known(key, &is_list))
		return -1;
	if (!is_list)
		return SETTING_ONE;
	/* qemu_args: a scalar would be split how? */
	return strcmp(key, "qemu_args") ? SETTING_LIST : SETTING_LIST_ONLY;
}

static int cells_set(void *obj, const char *key, const char *value,
		     struct strbuf *err)
{
	return cell_set(obj, key, value, err);
}

static void cells_init(void *obj, unsigned line, unsigned column)
{
	struct cell *c = obj;

	cell_init(c);
	c->line = line;
	c->column = column;
}

static void cells_release(void *obj)
{
	cell_release(obj);
}

static char **cells_name(void *obj)
{
	return &((struct cell *)obj)->name;
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

	s = matrix_yaml_seen_find(seen, n_seen, key);
	if (!s && !strcmp(key, "silence"))
		s = matrix_yaml_seen_find(seen, n_seen, "timeout");
	free(key);
	return s ? &s->value_mark : fallback;
}

static int cells_finish(struct matrix_yaml *y, void *obj,
			struct seen_key *seen, size_t n_seen,
			const yaml_mark_t *start)
{
	struct strbuf msg = STRBUF_INIT;
	int ret = 0;

	/* `probes: []` sets no element, yet asks for no probes. */
	if (matrix_yaml_seen_find(seen, n_seen, "probes"))
		((struct cell *)obj)->probes_set = 1;
	if (cell_validate(obj, &msg) || hypervisors_check_cell(obj, &msg))
		ret = matrix_yaml_fail(y, validate_mark(msg.buf, seen, n_seen,
							start), "%s", msg.buf);
	strbuf_release(&msg);
	return ret;
}

const struct section matrix_cells_section = {
	.key = "cells",
	.what = "cell",
	.key_kind = cells_key_kind,
	.set = cells_set,
	.key_name = cell_key_name,
	.as_written = 1,
	.size = sizeof(struct cell),
	.init = cells_init,
	.release = cells_release,
	.name = cells_name,
	.finish = cells_finish,
};

void matrix_cells_free(struct cell *cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cell_release(&cells[i]);
	free(cells);
}
