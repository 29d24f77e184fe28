/*
 * matrix-web: the `web` section, one mapping: the released kernels of the
 * compatibility web (kernels: a list of releases, "MAJOR.MINOR") and the
 * cells they boot in (cells: a list of globs, default every cell). Which
 * Debian package a release is, and where its image is, is the kernel
 * catalogue's (images/kernels/fetch-releases.sh, cache/kernels/); the
 * matrix only names releases, so a file is valid before any fetch.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

/* "5.10", "6.12", "7.3": what Debian's kernel series are called. */
static int release_ok(const char *v)
{
	size_t a = strspn(v, "0123456789"), b;

	if (!a || a > 3 || v[a] != '.')
		return 0;
	b = strspn(v + a + 1, "0123456789");
	return b && b <= 3 && !v[a + 1 + b];
}

static int web_set_kernels(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_web *w = obj;
	size_t i;

	if (matrix_value_controls("kernels", v, err))
		return -1;
	if (!release_ok(v))
		return matrix_value_bad(err, "kernels", "a kernel release "
					"MAJOR.MINOR, quoted (\"5.10\", "
					"\"6.12\")", v);
	for (i = 0; i < w->n_kernels; i++)
		if (!strcmp(w->kernels[i], v)) {
			strbuf_addf(err, "kernels: release '%s' is listed "
				    "twice", v);
			return -1;
		}
	matrix_value_list_add(&w->kernels, &w->n_kernels, xstrdup(v));
	return 0;
}

static int web_set_cells(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_web *w = obj;

	if (matrix_value_controls("cells", v, err))
		return -1;
	if (!*v)
		return matrix_value_bad(err, "cells", "a cell name or glob "
					"(\"xen-*\")", v);
	matrix_value_list_add(&w->cells, &w->n_cells, xstrdup(v));
	return 0;
}

static const struct setting web_settings[] = {
	{ "kernels", SETTING_LIST_ONLY, web_set_kernels },
	{ "cells", SETTING_LIST, web_set_cells },
};

static const struct section web_section = {
	.key = "web",
	.what = "web",
	.settings = web_settings,
	.n_settings = ARRAY_SIZE(web_settings),
};

void matrix_web_release(struct matrix_web *w)
{
	matrix_value_list_free(w->kernels, w->n_kernels);
	matrix_value_list_free(w->cells, w->n_cells);
	memset(w, 0, sizeof(*w));
}

int matrix_web_parse(struct matrix_yaml *y, struct matrix_web *w)
{
	struct seen_key *seen = NULL, *s;
	size_t n_seen = 0;
	yaml_mark_t start = y->ev.start_mark;
	int ret = -1;

	if (matrix_yaml_is_null(y))
		return 0;	/* `web:` alone: no web */
	w->line = (unsigned)start.line + 1;
	w->column = (unsigned)start.column + 1;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_yaml_fail(y, &start, "web: expected a mapping "
					"(kernels, cells), got %s",
					matrix_yaml_node_kind(y->ev.type));
	if (matrix_section_parse_mapping(y, &web_section, w, &seen, &n_seen))
		goto out;
	if (!w->n_kernels) {
		matrix_yaml_fail(y, &start, "web: needs kernels, a list of "
				 "kernel releases (\"5.10\", \"6.12\")");
		goto out;
	}
	s = matrix_yaml_seen_find(seen, n_seen, "cells");
	if (s) {
		w->cells_line = (unsigned)s->value_mark.line + 1;
		w->cells_column = (unsigned)s->value_mark.column + 1;
	}
	w->given = 1;
	ret = 0;
out:
	matrix_yaml_seen_free(seen, n_seen);
	return ret;
}

static int glob_matches(const char *glob, const struct cell *cells,
			size_t n_cells)
{
	size_t i;

	for (i = 0; i < n_cells; i++)
		if (!fnmatch(glob, cells[i].name, 0))
			return 1;
	return 0;
}

int matrix_web_check(struct matrix_yaml *y, const struct matrix_web *w,
		     const struct cell *cells, size_t n_cells)
{
	yaml_mark_t mark;
	size_t i;

	for (i = 0; i < w->n_cells; i++) {
		if (glob_matches(w->cells[i], cells, n_cells))
			continue;
		/* A glob that names no cell is a typo, not an empty web. */
		memset(&mark, 0, sizeof(mark));
		mark.line = w->cells_line ? w->cells_line - 1 : 0;
		mark.column = w->cells_column ? w->cells_column - 1 : 0;
		return matrix_yaml_fail(y, &mark, "web: cells: '%s' names no "
					"cell of the matrix", w->cells[i]);
	}
	return 0;
}

int matrix_web_has_cell(const struct matrix *m, const struct cell *c)
{
	size_t i;

	if (!m->web.given)
		return 0;
	if (!m->web.n_cells)
		return 1;
	for (i = 0; i < m->web.n_cells; i++)
		if (!fnmatch(m->web.cells[i], c->name, 0))
			return 1;
	return 0;
}
