/*
 * cmd: the CLI's command table, and the one place that parses command
 * lines and does what every command needs first. One file per subcommand
 * (cmd-matrix.c, cmd-boot.c, ...), each exporting one `struct cmd`;
 * hvmatrix.c collects them.
 *
 * As in git's commands[] and tmux's cmd_entry, a command declares what it
 * needs (flags) and its own options; cmd_main() parses the command line
 * (the common options --state, --matrix, --json, --help included), loads
 * the matrix, lets the command check its options (prepare), opens the
 * store and only then calls the command (exec), which reads its options
 * back with cmd_arg(). No command repeats that setup, and its errors (a
 * bad matrix is EXIT_USAGE with file:line:col, a store that cannot open
 * is EXIT_ERROR) read the same everywhere.
 */
#ifndef HVM_CMD_H
#define HVM_CMD_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "matrix/matrix.h"
#include "store/record.h"
#include "judge/verdict.h"	/* EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_ERROR */

/* What a command needs before it runs. */
enum cmd_flags {
	/* Takes --matrix FILE (ctx->matrix_path; default
	 * matrix_default_path()), loaded by the command itself. */
	CMD_MATRIX = 1 << 0,
	/* Loads it: ctx->matrix is valid in exec; implies CMD_MATRIX. */
	CMD_NEEDS_MATRIX = 1 << 1 | CMD_MATRIX,
	/* Takes --state DIR: ctx->state_dir is resolved. */
	CMD_STATE = 1 << 2,
	/* Opens the store read-only (record_open_readonly): ctx->store, or
	 * NULL when nothing is recorded yet (an empty store). */
	CMD_READS_STORE = 1 << 3 | CMD_STATE,
	/* Opens the store for writing (record_open): ctx->store is set. */
	CMD_WRITES_STORE = 1 << 4 | CMD_STATE,
	/* Works under the state directory's daemon lock (daemon_main takes
	 * it): refused up front while a daemon holds it, before any work. */
	CMD_TAKES_LOCK = 1 << 5 | CMD_STATE,
	/* Takes --json: ctx->json. */
	CMD_JSON = 1 << 6,
	/* -f, --file FILE are --matrix FILE too: the matrix subcommands'
	 * first spelling, kept so scripts written for it go on working. */
	CMD_MATRIX_FILE_ALIAS = 1 << 7 | CMD_MATRIX,
	/* Boots cells: takes --jobs N (ctx->jobs, default: the cores),
	 * --initrd PATH (ctx->initrd, default boot_default_initrd()) and
	 * -q, --quiet (ctx->quiet). */
	CMD_BOOTS = 1 << 8,
};

/* Option ids of the common options (a command's own use other values). */
enum {
	CMD_OPT_HELP = 'h',
	CMD_OPT_MATRIX = 0x1000,	/* --matrix */
	CMD_OPT_STATE,
	CMD_OPT_JSON,
	CMD_OPT_JOBS,
	CMD_OPT_INITRD,
	CMD_OPT_QUIET,
};

/* One of the command's own options, in command-line order. */
struct cmd_arg {
	int id;			/* the option's val */
	const char *option;	/* its long name; NULL when given short */
	const char *value;	/* its argument; NULL for a flag */
};

struct cmd;

struct cmd_ctx {
	const struct cmd *cmd;
	const char *name;	/* "boot", "matrix add": for messages */
	unsigned flags;		/* cmd->flags; prepare() may drop some */
	struct cmd_arg *args;	/* the command's own options, in order */
	size_t n_args;
	char **argv;		/* positional arguments */
	size_t argc;
	const char *matrix_path;	/* CMD_MATRIX */
	int matrix_given;	/* --matrix was on the command line */
	struct matrix matrix;	/* CMD_NEEDS_MATRIX */
	int have_matrix;
	char *state_dir;	/* CMD_STATE */
	struct record *store;	/* CMD_*_STORE (readers: may be NULL) */
	int json;		/* CMD_JSON */
	unsigned jobs;		/* CMD_BOOTS */
	const char *initrd;	/* CMD_BOOTS */
	int quiet;		/* CMD_BOOTS */
	void *data;		/* the command's own, between its hooks */
};

struct cmd {
	const char *name;
	const char *summary;	/* one line for the parent's --help */
	const char *usage;	/* the text of --help */
	unsigned flags;		/* enum cmd_flags */
	const char *shortopts;	/* the command's own, getopt syntax */
	const struct option *options;	/* its own long ones, NULL-ended */
	int max_args;		/* positional arguments allowed; -1 any */
	/*
	 * Optional: check the options once the matrix is loaded but before
	 * anything touches the state directory (a usage error must not
	 * create one), and adjust ctx->flags. An exit code, or -1 to go on.
	 */
	int (*prepare)(struct cmd_ctx *ctx);
	/* The command; returns an exit code. */
	int (*exec)(struct cmd_ctx *ctx);
	/* A command of subcommands (matrix): dispatched on argv[1]. */
	const struct cmd *const *sub;
	size_t n_sub;
};

extern const struct cmd cmd_matrix;
extern const struct cmd cmd_boot;
extern const struct cmd cmd_results;
extern const struct cmd cmd_dashboard;
extern const struct cmd cmd_daemon;
extern const struct cmd cmd_run;
extern const struct cmd cmd_try;
extern const struct cmd cmd_status;
extern const struct cmd cmd_regressions;
extern const struct cmd cmd_bisect;
extern const struct cmd cmd_run_cell;
extern const struct cmd cmd_run_build;
extern const struct cmd cmd_export;
extern const struct cmd cmd_report;
extern const struct cmd cmd_hypervisors;
extern const struct cmd cmd_web;
extern const struct cmd cmd_kernels;

/* Run command c on argv (argv[0] is its name): parse, set up, exec. */
int cmd_main(const struct cmd *c, int argc, char **argv);

/* The value of the last -x/--x given (id), or NULL. */
const char *cmd_arg(const struct cmd_ctx *ctx, int id);
/* Was option id given? */
int cmd_has(const struct cmd_ctx *ctx, int id);

/* --jobs N (1..256): 0, or EXIT_USAGE after a message. */
int cmd_parse_jobs(const char *arg, unsigned *jobs);
/* The number of cores. */
unsigned cmd_default_jobs(void);

/* Print "hvmatrix: msg" and return EXIT_USAGE. */
int cmd_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/*
 * Print an error about a matrix file: a message that already starts with
 * "PATH:" (file:line:col: ...) as it is, anything else after "hvmatrix: ".
 */
void cmd_matrix_error(const char *path, const char *msg);

/*
 * For commands the matrix only refines (regressions, report, export):
 * load ctx->matrix_path into m. 1: loaded; 0: none (the default one is
 * missing or invalid: go on without); -1: the user named it with
 * --matrix and it does not load (the error is printed: EXIT_USAGE).
 */
int cmd_optional_matrix(const struct cmd_ctx *ctx, struct matrix *m);

/*
 * Append at most max bytes of s (NULL: nothing) with control characters
 * as '?': console text, commit subjects and another process's files may
 * hold escape sequences, which must not reach a terminal.
 */
void cmd_add_printable(struct strbuf *sb, const char *s, size_t max);

/* 1 when a daemon (or `hvmatrix run`) holds state_dir's lock, else 0. */
int cmd_daemon_running(const char *state_dir);

#endif
