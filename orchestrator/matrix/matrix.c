/*
 * matrix: the model of a matrix file (its cells, trees and builds), the
 * load entry points, the lookups and the default path. The parser is in
 * matrix-yaml.c (the events, the top level, cells) and matrix-sections.c
 * (trees and builds), the editing of matrix files in matrix-edit.c; what
 * they share is in matrix-priv.h.
 *
 * Loading is all-or-nothing and never changes the caller's matrix on
 * error.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "matrix/matrix-priv.h"
#include "lib/paths.h"
#include "lib/xmalloc.h"

void matrix_cells_free(struct cell *cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cell_release(&cells[i]);
	free(cells);
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
		matrix_tree_section.release(&m->trees[i]);
	free(m->trees);
	for (i = 0; i < m->n_builds; i++)
		matrix_build_section.release(&m->builds[i]);
	free(m->builds);
	matrix_executor_release(&m->executor);
	for (i = 0; i < m->n_webhooks; i++)
		matrix_webhook_section.release(&m->webhooks[i]);
	free(m->webhooks);
	matrix_report_release(&m->report);
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
