/*
 * matrix: a matrix file (matrices/NAME.yaml, read with libyaml) and what it
 * holds: the cells, and optionally the kernel trees to watch and the builds
 * to make of every commit. Loading is all-or-nothing: any error gives
 * "file:line:col: message" and no matrix, so a caller always keeps its last
 * good one. Editing keeps the file's comments and order and never writes a
 * file that would not load.
 */
#ifndef HVM_MATRIX_H
#define HVM_MATRIX_H

#include "cell.h"
#include "strbuf.h"

/* Defaults for settings a tree or a build leaves out. */
#define MATRIX_TREE_DEFAULT_BRANCH "master"
#define MATRIX_TREE_DEFAULT_POLL_S 300u
#define MATRIX_TREE_DEFAULT_FIRST 5u
#define MATRIX_TREE_DEFAULT_CONFIRM 2u
#define MATRIX_BUILD_DEFAULT_TARGET "bzImage"
#define MATRIX_BUILD_DEFAULT_IMAGE "arch/x86/boot/bzImage"
#define MATRIX_BUILD_DEFAULT_TIMEOUT_S 3600u

/*
 * A kernel git tree to watch. Paths written relative in the file are
 * stored resolved against the matrix file's directory.
 */
struct matrix_tree {
	char *name;		/* [A-Za-z0-9._-]+, unique among trees */
	char *path;		/* a local repository (resolved), or NULL */
	char *url;		/* a remote repository, or NULL */
	char **branches;	/* at least one */
	size_t n_branches;
	unsigned poll_s;	/* seconds between polls */
	unsigned first;		/* on first sight of a branch, queue only
				 * its newest `first` commits (0: all) */
	int tips_only;		/* test: tips (only each push's tip is built
				 * at once; a regression there is bisected);
				 * default every commit */
	unsigned confirm;	/* runs more a new FAIL needs before it is a
				 * regression (default MATRIX_TREE_DEFAULT_CONFIRM) */
	int tips_first;		/* order: tips-first (the tip of each push
				 * before the rest); default oldest-first */
	unsigned line, column;	/* where the tree starts in its file */
};

/* A way to configure and build every commit. */
struct matrix_build {
	char *name;		/* [A-Za-z0-9._-]+, unique among builds */
	char *base;		/* "defconfig", "tinyconfig", "allnoconfig" or
				 * a resolved path to a .config file */
	char **fragments;	/* resolved paths of config fragments */
	size_t n_fragments;
	char **targets;		/* make targets, at least one */
	size_t n_targets;
	char *image;		/* relative to the build output directory */
	unsigned timeout_s;
	char *ccache;		/* CCACHE_DIR (key ccache, resolved), or NULL:
				 * one cache per user, see build.h */
	unsigned line, column;	/* where the build starts in its file */
};

struct matrix {
	char *path;
	struct cell *cells;
	size_t n_cells;
	struct matrix_tree *trees;
	size_t n_trees;
	struct matrix_build *builds;
	size_t n_builds;
};

/* Returns 0, or -1 with "path:line:col: message" in err (m untouched). */
int matrix_load(struct matrix *m, const char *path, struct strbuf *err);
/*
 * Same, from memory; `name` is used in messages, and relative paths are
 * resolved against its directory ("." when it has none).
 */
int matrix_load_buf(struct matrix *m, const char *name, const char *buf,
		    size_t len, struct strbuf *err);
void matrix_release(struct matrix *m);
const struct cell *matrix_find(const struct matrix *m, const char *name);
const struct matrix_tree *matrix_find_tree(const struct matrix *m,
					   const char *name);
const struct matrix_build *matrix_find_build(const struct matrix *m,
					     const char *name);

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

/* The default matrix file: $HVMATRIX_MATRIX, else paths_default_matrix()
 * (installed: SYSCONFDIR/hvmatrix/matrix.yaml); from the build tree,
 * matrices/default.yaml under the current directory comes first. */
const char *matrix_default_path(void);

#endif
