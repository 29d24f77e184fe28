/*
 * matrix-priv.h: what the document parser (matrix.c) gives the editor
 * (matrix-edit.c): where things are in the text. The loader's own layers
 * have their headers (matrix-yaml.h, matrix-value.h, matrix-section.h,
 * matrix-sections.h). Nothing outside the matrix files includes it.
 */
#ifndef HVM_MATRIX_PRIV_H
#define HVM_MATRIX_PRIV_H

#include "matrix/matrix.h"
#include "matrix/matrix-section.h"

/* How the value of the top-level `cells` key is written. */
enum cells_style {
	CELLS_NONE = 0,		/* no `cells` key */
	CELLS_NULL,		/* `cells:` with no value */
	CELLS_BLOCK,		/* `cells:` then `- name: ...` lines */
	CELLS_FLOW,		/* `cells: [...]` */
};

/* Where things are in the text, for the editing functions. Positions are
 * libyaml mark indexes: characters, not bytes. */
struct layout {
	int root_flow;
	enum cells_style style;
	size_t key_end;			/* the `cells` key */
	size_t key_column;
	size_t value_start, value_end;
	int value_tagged;		/* value starts with a tag (!x) */
	struct item_layout *items;	/* each cell */
	size_t n_items, alloc_items;
};

/*
 * Parse buf (named name in messages, relative paths resolved against its
 * directory) into m; when lay is not NULL, also where things are in the
 * text, for the editing functions. 0, or -1 with "name:line:col: message"
 * in err (m untouched, lay released).
 */
int matrix_parse(struct matrix *m, const char *name, const char *buf,
		 size_t len, struct strbuf *err, struct layout *lay);
void matrix_layout_release(struct layout *lay);
/* Read path into sb; "path: message" in err when it cannot. */
int matrix_read_file(const char *path, struct strbuf *sb, struct strbuf *err);

#endif
