/*
 * matrix-yaml: the bottom of the matrix loader. libyaml's event parser
 * (which, unlike its document loader, keeps the position of everything it
 * reads) with the loader's rules: no anchors or aliases, every error
 * "file:line:col: message", a key given twice refused with where it came
 * first, and an unknown key of an item (a cell, a tree) held until the
 * item's name is known, so that its message names the item. It knows
 * nothing of what a matrix holds; matrix-section.c reads items with it.
 */
#ifndef HVM_MATRIX_YAML_H
#define HVM_MATRIX_YAML_H

#include <stddef.h>
#include <yaml.h>

#include "lib/strbuf.h"

/* A key of the mapping being read, and where it and its value are. */
struct seen_key {
	char *text;
	yaml_mark_t key_mark, value_mark;
};

struct matrix_yaml {
	yaml_parser_t parser;
	yaml_event_t ev;	/* the current event */
	int have_ev;
	const char *name;	/* the file, in messages */
	const char *buf;
	size_t len;
	struct strbuf *err;
	char *dir;		/* the file's directory, for relative paths */
	/* The item being read: what it is, where its name will be. */
	const char *item_what;
	char *const *item_name;
	size_t item_index;
	/* Its first unknown key, held until its name is known. */
	char *held_key, *held_hint;
	yaml_mark_t held_mark;
};

/*
 * Read buf (named name in messages, relative paths resolved against its
 * directory); errors go to err.
 */
void matrix_yaml_init(struct matrix_yaml *y, const char *name,
		      const char *buf, size_t len, struct strbuf *err);
void matrix_yaml_release(struct matrix_yaml *y);

/* Fetch the next event into y->ev. Refuses anchors and aliases. */
int matrix_yaml_next(struct matrix_yaml *y);
/* The current event's text (it is a scalar). */
const char *matrix_yaml_scalar(const struct matrix_yaml *y);
/* Is the current event a null scalar (`key:`, `key: ~`, `key: null`)? */
int matrix_yaml_is_null(const struct matrix_yaml *y);
/* "a mapping", "a list" or "a single value", for messages. */
const char *matrix_yaml_node_kind(yaml_event_type_t t);
/* Skip the node that starts with the current event. */
int matrix_yaml_skip(struct matrix_yaml *y);

/*
 * Report an error at mark. A held unknown key of the current item wins:
 * it comes first in the file. Always -1.
 */
__attribute__((format(printf, 3, 4)))
int matrix_yaml_fail(struct matrix_yaml *y, const yaml_mark_t *mark,
		     const char *fmt, ...);
/*
 * Append " (did you mean 'x'?)" when a known key is close to key; 1 when
 * it did.
 */
int matrix_yaml_add_hint(struct strbuf *sb, const char *key,
			 const char *const *known, size_t n);

/*
 * The next key of the mapping being read: 0 with the current event on it
 * (key_mark set), 1 at the mapping's end, -1 after an error (a key that
 * is not a scalar, or one in seen already).
 */
int matrix_yaml_next_key(struct matrix_yaml *y, struct seen_key *seen,
			 size_t n_seen, yaml_mark_t *key_mark);
struct seen_key *matrix_yaml_seen_find(struct seen_key *seen, size_t n,
				       const char *key);
/* Append key (copied), at key_mark; its value_mark is the caller's. */
struct seen_key *matrix_yaml_seen_add(struct seen_key **seen, size_t *n,
				      size_t *alloc, const char *key,
				      const yaml_mark_t *key_mark);
void matrix_yaml_seen_free(struct seen_key *seen, size_t n);
/* Whichever of two given keys comes second, for "give either a or b". */
const yaml_mark_t *matrix_yaml_second_key(const struct seen_key *a,
					  const struct seen_key *b);

/*
 * An item is being read: "cell", "tree", ...; *name is its name once
 * read (NULL before), index its place among its kind.
 */
void matrix_yaml_item_begin(struct matrix_yaml *y, const char *what,
			    char *const *name, size_t index);
/*
 * key, at mark, is not one of the item's; hint is what may follow its
 * message. Reported at once when the item's name is known (-1), else held
 * (the first one) and 0: the caller skips its value and reads on.
 */
int matrix_yaml_unknown_key(struct matrix_yaml *y, const char *key,
			    const yaml_mark_t *mark, const char *hint);
/* The item's keys are read: -1 reporting a held unknown key, else 0. */
int matrix_yaml_item_check(struct matrix_yaml *y);
void matrix_yaml_item_end(struct matrix_yaml *y);

#endif
