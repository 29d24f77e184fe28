/*
 * matrix-priv.h: what the files of the matrix module share (matrix.c: the
 * model and the load entry points; matrix-yaml.c: the libyaml event parser,
 * cells and the top level; matrix-sections.c: trees and builds;
 * matrix-edit.c: editing matrix files as text). Nothing outside them
 * includes it.
 */
#ifndef HVM_MATRIX_PRIV_H
#define HVM_MATRIX_PRIV_H

#include <yaml.h>

#include "matrix/matrix.h"

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
	const char *name_key;		/* the key naming an item; NULL:
					 * "name" */
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
	struct entries trees, builds, webhooks;
	struct matrix_report report;
	struct matrix_executor executor;

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

/* --- matrix-yaml.c: the parser ------------------------------------- */

/*
 * Parse buf (named name in messages, relative paths resolved against its
 * directory) into m; when lay is not NULL, also where things are in the
 * text, for the editing functions. 0, or -1 with "name:line:col: message"
 * in err (m untouched, lay released).
 */
int matrix_parse(struct matrix *m, const char *name, const char *buf,
		 size_t len, struct strbuf *err, struct layout *lay);
void matrix_layout_release(struct layout *lay);

/*
 * Report an error at mark. A pending unknown key of the current item wins:
 * it comes first in the file. Always -1.
 */
__attribute__((format(printf, 3, 4)))
int matrix_fail(struct loader *l, const yaml_mark_t *mark, const char *fmt,
		...);
/* Report the unknown key kept until the item's name was known. */
int matrix_fail_pending(struct loader *l);
/* Fetch the next event into l->ev. Refuses anchors and aliases. */
int matrix_next(struct loader *l);
const char *matrix_ev_scalar(const struct loader *l);
/* Is the current event a null scalar (`key:`, `key: ~`, `key: null`)? */
int matrix_ev_is_null(const struct loader *l);
/* "a mapping", "a list" or "a single value", for messages. */
const char *matrix_node_kind(yaml_event_type_t t);
/* Skip the node that starts with the current event. */
int matrix_skip_node(struct loader *l);
struct seen_key *matrix_seen_find(struct seen_key *seen, size_t n,
				  const char *key);
/*
 * The next key of the mapping being read: 0 with the current event on it
 * (key_mark set), 1 at the mapping's end, -1 after an error (a key that
 * is not a scalar, or one seen before).
 */
int matrix_next_key(struct loader *l, struct seen_key *seen, size_t n_seen,
		    yaml_mark_t *key_mark);
/*
 * Append " (did you mean 'x'?)" when a known key is close to key; 1 when
 * it did.
 */
int matrix_add_hint(struct strbuf *sb, const char *key,
		    const char *const *known, size_t n);
const struct setting *matrix_find_setting(const struct section *sec,
					  const char *key);

/* --- matrix-sections.c: trees, builds, how sections are read ------- */

/* "key: expected what, got 'value'" into err; -1. */
int matrix_bad_value(struct strbuf *err, const char *key, const char *what,
		     const char *value);
/* A control character in s is an error naming key: -1. */
int matrix_check_controls(const char *key, const char *s, struct strbuf *err);
/* A decimal integer in [lo, hi]: digits only (no sign, no 0x), at most 9. */
int matrix_parse_bounded(const char *s, unsigned lo, unsigned hi,
			 unsigned *out);
/* A path as written, resolved against dir (the matrix file's). */
int matrix_parse_path(const char *key, const char *v, const char *dir,
		      char **out, struct strbuf *err);
/* The later of two keys' positions, for "give either a or b". */
const yaml_mark_t *matrix_second_key(const struct seen_key *a,
				     const struct seen_key *b);
void matrix_seen_free(struct seen_key *seen, size_t n_seen);
/*
 * The keys of one mapping into obj through sec's settings; the current
 * event is its MAPPING_START. The settings given, with their positions,
 * are left in *seen for checks across them (matrix_seen_free them, also
 * on failure).
 */
int matrix_parse_mapping(struct loader *l, const struct section *sec,
			 void *obj, struct seen_key **seen, size_t *n_seen);

extern const struct section matrix_tree_section, matrix_build_section,
	matrix_webhook_section;

/* The value of `trees` or `builds`; the current event is its first. */
int matrix_parse_section(struct loader *l, const struct section *sec,
			 struct entries *list);
void matrix_entries_release(struct entries *list, const struct section *sec);
/* The value of `executor`, a mapping; the current event is its first. */
int matrix_parse_executor(struct loader *l, struct matrix_executor *x);
/* Cells that run in Slurm need the section's shared_dir. */
int matrix_check_executor(struct loader *l);
void matrix_executor_release(struct matrix_executor *x);
/* The value of `report`; the current event is its first. */
int matrix_parse_report(struct loader *l, struct matrix_report *r);
void matrix_report_release(struct matrix_report *r);

/* --- matrix.c ------------------------------------------------------ */

void matrix_cells_free(struct cell *cells, size_t n);
/* Read path into sb; "path: message" in err when it cannot. */
int matrix_read_file(const char *path, struct strbuf *sb, struct strbuf *err);

#endif
