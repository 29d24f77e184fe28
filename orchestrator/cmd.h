/*
 * cmd: the CLI's command table and helpers shared by subcommands. One file
 * per subcommand (cmd-matrix.c, cmd-boot.c, ...), each exporting one
 * `struct cmd`; hvmatrix.c collects them. Exit codes are the CLI contract.
 */
#ifndef HVM_CMD_H
#define HVM_CMD_H

#include <stdio.h>

/* Exit codes scripts can rely on. */
#define EXIT_OK 0
#define EXIT_FAIL 1	/* some cell FAILed */
#define EXIT_USAGE 2	/* bad usage or configuration */
#define EXIT_ERROR 3	/* host/tool ERROR, no FAIL */

struct cmd {
	const char *name;
	const char *summary;	/* one line for `hvmatrix --help` */
	int (*run)(int argc, char **argv);	/* argv[0] is the name */
};

extern const struct cmd cmd_matrix;
extern const struct cmd cmd_boot;
extern const struct cmd cmd_results;
extern const struct cmd cmd_dashboard;
extern const struct cmd cmd_daemon;
extern const struct cmd cmd_run;
extern const struct cmd cmd_status;

/* --jobs N (1..256): 0, or EXIT_USAGE after a message. */
int cmd_parse_jobs(const char *arg, unsigned *jobs);
/* The number of cores. */
unsigned cmd_default_jobs(void);

/* Is argv[i] "-h" or "--help"? */
int cmd_wants_help(int argc, char **argv);
/* Print "hvmatrix: msg" and return EXIT_USAGE. */
int cmd_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
