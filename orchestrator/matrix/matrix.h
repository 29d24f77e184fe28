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

#include "matrix/cell.h"
#include "lib/strbuf.h"

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
	char *credentials;	/* url only: a "user:token" file (resolved)
				 * for the remote's login, or NULL */
	char **branches;	/* at least one */
	size_t n_branches;
	unsigned poll_s;	/* seconds between polls */
	unsigned first;		/* on first sight of a branch, queue only
				 * its newest `first` commits (0: all) */
	int tips_only;		/* test: tips (only each push's tip is built
				 * at once; a regression there is bisected);
				 * default every commit */
	unsigned confirm;	/* runs more a new FAIL needs before it is a
				 * regression (default
				 * MATRIX_TREE_DEFAULT_CONFIRM) */
	int tips_first;		/* order: tips-first (the tip of each push
				 * before the rest); default oldest-first */
	int no_reuse;		/* reuse: false: every cell boots, even an
				 * image already judged there (default:
				 * its verdict is carried over) */
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
	int unconfined;		/* `sandbox: false`: make runs without the
				 * build sandbox (build-sandbox.c) */
	unsigned line, column;	/* where the build starts in its file */
};

/* The events a webhook can be sent (matrix_webhook.events, a bit set). */
#define MATRIX_EVENT_REGRESSION 1u	/* a regression is confirmed */
#define MATRIX_EVENT_FIXED 2u		/* ... and fixed by a later commit */
#define MATRIX_EVENT_FLAKY 4u		/* a cell turns flaky */
#define MATRIX_EVENT_DRIFT 8u		/* a drift is bisected */
#define MATRIX_EVENTS_ALL 15u

/*
 * An endpoint the daemon POSTs signed events to (webhook.h). Only where
 * the secret is kept is here, never the secret itself: it is read when an
 * event is signed, so no listing of the matrix can show it.
 */
struct matrix_webhook {
	char *url;		/* http:// or https://, unique */
	char *secret_file;	/* resolved path, or NULL */
	char *secret_env;	/* an environment variable's name, or NULL */
	unsigned events;	/* MATRIX_EVENT_* (default all) */
	unsigned line, column;	/* where it starts in its file */
};

/*
 * The optional top-level `report:` mapping: what `hvmatrix report` puts
 * in its mails. Every field may be NULL (not given).
 */
struct matrix_report {
	char *from;		/* From: address */
	char *to;		/* To: address(es) */
	char *reported_by;	/* the Reported-by: tag's value */
	char *dashboard_url;	/* http(s):// base of the published site */
};

/* Where runs go (top-level section executor; see executor.h). */
enum matrix_executor_kind {
	MATRIX_EXECUTOR_LOCAL = 0,	/* children of the daemon (default) */
	MATRIX_EXECUTOR_SLURM,		/* Slurm jobs, through sbatch */
};

#define MATRIX_EXECUTOR_DEFAULT_PENDING_S 600u

struct matrix_executor {
	enum matrix_executor_kind kind;
	char *partition;	/* sbatch --partition, or NULL */
	char *account;		/* --account, or NULL */
	char *qos;		/* --qos, or NULL */
	char *constraint;	/* --constraint, or NULL */
	char *shared_dir;	/* resolved; seen by the daemon and every node
				 * (required once any cell runs in Slurm) */
	char *command;		/* hvmatrix on the nodes (default: the
				 * daemon's own executable) */
	unsigned pending_s;	/* a job not started after this long is
				 * cancelled: ERROR (key pending_timeout) */
	int no_arrays;		/* arrays: false: one sbatch per run, never
				 * a job array for the cells of one build */
	int builds;		/* builds: true: kernel builds are Slurm
				 * jobs too (executor-build.c) */
	int given;		/* the file has an executor section */
	unsigned line, column;
};

/*
 * One entry of the top-level `interfaces` mapping: the files of a kernel
 * tree whose change makes some cells likelier to fail
 * (matrix-interfaces.h).
 */
struct matrix_interface {
	char *key;		/* a kind's name, or a glob of cell names */
	int kind;		/* enum matrix_interfaces_kind, -1: a glob */
	char **paths;		/* patterns (matrix_interfaces_match) */
	size_t n_paths;
	unsigned line, column;	/* where the key is in its file */
};

/*
 * The optional top-level `web:` mapping: the compatibility web, released
 * kernels (images/kernels/fetch-releases.sh fetches each into
 * cache/kernels/RELEASE/) booted in every web cell whenever the cell is
 * new or changed. Without the section there is no web.
 */
struct matrix_web {
	char **kernels;		/* releases: "5.10", "6.12", "7.3" */
	size_t n_kernels;
	char **cells;		/* globs of the cells they boot in (NULL:
				 * every cell) */
	size_t n_cells;
	int given;		/* the file has a web section */
	unsigned line, column;
	unsigned cells_line, cells_column;	/* its cells' value */
};

struct matrix {
	char *path;
	struct cell *cells;
	size_t n_cells;
	struct matrix_tree *trees;
	size_t n_trees;
	struct matrix_build *builds;
	size_t n_builds;
	struct matrix_executor executor;
	struct matrix_webhook *webhooks;
	size_t n_webhooks;
	struct matrix_report report;
	struct matrix_interface *interfaces;
	size_t n_interfaces;
	struct matrix_web web;
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
/* Where cell c runs: its executor key, else the section's kind. */
enum matrix_executor_kind matrix_cell_executor(const struct matrix *m,
					       const struct cell *c);
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
int matrix_edit_add_cell(const char *path, const struct cell *c,
			 struct strbuf *err);
/* Remove the cell called name from the file at path. 0 or -1 + err. */
int matrix_edit_remove_cell(const char *path, const char *name,
			    struct strbuf *err);

/* Is cell c one the web's kernels boot in? (0 when there is no web.) */
int matrix_web_has_cell(const struct matrix *m, const struct cell *c);

/* The default matrix file: $HVMATRIX_MATRIX, else paths_default_matrix()
 * (installed: SYSCONFDIR/hvmatrix/matrix.yaml); from the build tree,
 * matrices/default.yaml under the current directory comes first. */
const char *matrix_default_path(void);

#endif
