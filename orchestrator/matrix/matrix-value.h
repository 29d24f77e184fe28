/*
 * matrix-value: checks of a setting's value as written, for the setters
 * of the matrix sections (matrix-trees.c, ...). Messages start with the
 * setting's name and carry no position: the loader adds it.
 */
#ifndef HVM_MATRIX_VALUE_H
#define HVM_MATRIX_VALUE_H

#include <stddef.h>

#include "lib/strbuf.h"

/* "key: expected what, got 'value'" into err; -1. */
int matrix_value_bad(struct strbuf *err, const char *key, const char *what,
		     const char *value);
/* A control character in s is an error naming key: -1. */
int matrix_value_controls(const char *key, const char *s,
			  struct strbuf *err);
/* A decimal integer in [lo, hi]: digits only (no sign, no 0x), at most 9. */
int matrix_value_bounded(const char *s, unsigned lo, unsigned hi,
			 unsigned *out);
/* A path as written, resolved against dir (the matrix file's). */
int matrix_value_path(const char *key, const char *v, const char *dir,
		      char **out, struct strbuf *err);
/* Append value (owned) to the list *arr of *n. */
void matrix_value_list_add(char ***arr, size_t *n, char *value);
void matrix_value_list_free(char **arr, size_t n);

#endif
