/*
 * matrix-sections.h: the top-level sections of a matrix file, each in the
 * file named for its key (matrix-cells.c, matrix-trees.c, ...), each read
 * by matrix-section.c from its table. Only the document parser (matrix.c)
 * puts them together.
 */
#ifndef HVM_MATRIX_SECTIONS_H
#define HVM_MATRIX_SECTIONS_H

#include "matrix/matrix.h"
#include "matrix/matrix-section.h"

/* matrix-cells.c */
extern const struct section matrix_cells_section;
void matrix_cells_free(struct cell *cells, size_t n);

/* matrix-trees.c, matrix-builds.c, matrix-webhooks.c */
extern const struct section matrix_trees_section;
extern const struct section matrix_builds_section;
extern const struct section matrix_webhooks_section;

/* matrix-report.c: the value of `report`; the current event is its
 * first. */
int matrix_report_parse(struct matrix_yaml *y, struct matrix_report *r);
void matrix_report_release(struct matrix_report *r);

/* matrix-executor.c: the value of `executor`, a mapping; the current
 * event is its first. */
int matrix_executor_parse(struct matrix_yaml *y, struct matrix_executor *x);
/* Cells that run in Slurm need the section's shared_dir. */
int matrix_executor_check(struct matrix_yaml *y,
			  const struct matrix_executor *x,
			  const struct cell *cells, size_t n_cells);
void matrix_executor_release(struct matrix_executor *x);

/* matrix-interfaces.c: the value of `interfaces`, a mapping of kinds and
 * cell globs to lists of paths; the current event is its first. */
int matrix_interfaces_parse(struct matrix_yaml *y,
			    struct matrix_interface **out, size_t *n);
/* Every cell glob matches a cell of the matrix. */
int matrix_interfaces_check(struct matrix_yaml *y,
			    const struct matrix_interface *v, size_t n,
			    const struct cell *cells, size_t n_cells);
void matrix_interfaces_free(struct matrix_interface *v, size_t n);
/* matrix-web.c: the value of `web`, a mapping; the current event is its
 * first. matrix_web_check: every glob names a cell. */
int matrix_web_parse(struct matrix_yaml *y, struct matrix_web *w);
int matrix_web_check(struct matrix_yaml *y, const struct matrix_web *w,
		     const struct cell *cells, size_t n_cells);
void matrix_web_release(struct matrix_web *w);

#endif
