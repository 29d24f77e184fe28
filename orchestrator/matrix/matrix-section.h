/*
 * matrix-section: how a top-level section of a matrix file is read, the
 * same way for all of them: a list of items (cells, trees, builds,
 * webhooks), each a mapping of settings, or one mapping (report,
 * executor). A section is a table: its settings with their setters, or,
 * for cells, the hooks of the module that owns them (cell.c, which the
 * command line shares). On matrix-yaml.c; the sections themselves are in
 * the files named for their keys (matrix-sections.h).
 */
#ifndef HVM_MATRIX_SECTION_H
#define HVM_MATRIX_SECTION_H

#include <stddef.h>

#include "matrix/matrix-yaml.h"

/* How a setting's value may be written. */
enum setting_kind {
	SETTING_ONE = 0,	/* a single value */
	SETTING_LIST = 1,	/* one value or a list of them */
	SETTING_LIST_ONLY = 2,	/* a list, even of one */
};

/*
 * A setting of a table-driven section. set() checks one value as written
 * (a list setting gets one call per element) and stores it; dir is the
 * matrix file's directory, for relative paths. Messages start with the
 * setting's name and carry no position.
 */
struct setting {
	const char *name;
	int is_list;		/* SETTING_ONE or SETTING_LIST */
	int (*set)(void *obj, const char *value, const char *dir,
		   struct strbuf *err);
};

/* Where an item is in the text: libyaml mark indexes (characters). */
struct item_layout {
	size_t start;		/* the item's mapping */
	size_t end;		/* just after its last scalar or flow end */
};

struct section {
	const char *key;		/* its top-level key: "trees" */
	const char *what;		/* one item: "tree" */
	const char *name_key;		/* the key naming an item; NULL:
					 * "name" */
	const struct setting *settings;
	size_t n_settings;
	/*
	 * Instead of settings, for items whose keys another module owns:
	 * key_kind() is a key's enum setting_kind, or -1 when it is none;
	 * set() takes one value; key_name(i) is key i, NULL past the last.
	 */
	int (*key_kind)(const char *key);
	int (*set)(void *obj, const char *key, const char *value,
		   struct strbuf *err);
	const char *(*key_name)(size_t i);
	/*
	 * Values go to the setter as written: "~" and "null" too, and
	 * `key:` alone is one empty value, not an empty list (cell_set()
	 * judges every value, as it does on the command line); a list
	 * setting given a mapping "expected a list".
	 */
	int as_written;
	size_t size;			/* of one item */
	void (*init)(void *obj, unsigned line, unsigned column);
	void (*release)(void *obj);
	char **(*name)(void *obj);	/* the item's name field */
	/*
	 * Checks across settings, and defaults of list settings; reports
	 * with matrix_yaml_fail(). seen holds the settings given, with
	 * their positions; start is the item's.
	 */
	int (*finish)(struct matrix_yaml *y, void *obj, struct seen_key *seen,
		      size_t n_seen, const yaml_mark_t *start);
};

/* The items of one section, as they are read. */
struct entries {
	void *items;
	size_t n, alloc;
	unsigned *name_lines;	/* line of each item's name, for messages */
	struct item_layout *extents;	/* where each item is */
};

/* Is key one of sec's settings? */
int matrix_section_has_key(const struct section *sec, const char *key);
/*
 * The value of a list section (`cells`, `trees`, ...) into list; the
 * current event is its first. On success it is the value's last.
 */
int matrix_section_parse_list(struct matrix_yaml *y,
			      const struct section *sec,
			      struct entries *list);
void matrix_section_entries_release(struct entries *list,
				    const struct section *sec);
/*
 * The keys of one mapping into obj through sec's settings; the current
 * event is its MAPPING_START. The settings given, with their positions,
 * are left in *seen for checks across them (matrix_yaml_seen_free them,
 * also on failure).
 */
int matrix_section_parse_mapping(struct matrix_yaml *y,
				 const struct section *sec, void *obj,
				 struct seen_key **seen, size_t *n_seen);

#endif
