/*
 * matrix: a matrix file (matrices/NAME.yaml, read with libyaml) and the cells
 * it holds. Loading is all-or-nothing: any error gives "file:line:col:
 * message" and no matrix, so a caller always keeps its last good one.
 * Editing keeps the file's comments and order and never writes a file that
 * would not load.
 */
#ifndef HVM_MATRIX_H
#define HVM_MATRIX_H

#include "cell.h"
#include "strbuf.h"

struct matrix {
	char *path;
	struct cell *cells;
	size_t n_cells;
};

/* Returns 0, or -1 with "path:line:col: message" in err (m untouched). */
int matrix_load(struct matrix *m, const char *path, struct strbuf *err);
/* Same, from memory; `name` is used in messages. */
int matrix_load_buf(struct matrix *m, const char *name, const char *buf,
		    size_t len, struct strbuf *err);
void matrix_release(struct matrix *m);
const struct cell *matrix_find(const struct matrix *m, const char *name);

/*
 * Append cell c (validated; its name must be new) to the cells of the
 * matrix file at path, keeping the rest of the text as it is. The file is
 * created (with a "cells:" header) when it does not exist. 0 or -1 + err.
 */
int matrix_add_cell(const char *path, const struct cell *c,
		    struct strbuf *err);
/* Remove the cell called name from the file at path. 0 or -1 + err. */
int matrix_remove_cell(const char *path, const char *name,
		       struct strbuf *err);

/* The default matrix file: $HVMATRIX_MATRIX, else matrices/default.yaml
 * under the current directory if present, else the source tree's. */
const char *matrix_default_path(void);

#endif
