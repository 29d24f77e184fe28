/*
 * hvmatrix: the command-line front end. It only dispatches: each
 * subcommand lives in its own cmd-*.c file and is listed in cmds[];
 * cmd_main() (cmd.c) parses its command line and does its setup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli/cmd.h"
#include "lib/report.h"
#include "lib/spawn.h"

static const struct cmd *const cmds[] = {
	&cmd_boot,
	&cmd_matrix,
	&cmd_results,
	&cmd_dashboard,
	&cmd_daemon,
	&cmd_run,
	&cmd_try,
	&cmd_status,
	&cmd_regressions,
	&cmd_bisect,
	&cmd_run_cell,
	&cmd_run_build,
	&cmd_export,
	&cmd_report,
	&cmd_hypervisors,
	&cmd_web,
	&cmd_kernels,
};

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: hvmatrix [--version] [--help] COMMAND [ARGS]\n\n"
	      "Boot Linux kernels across a matrix of hypervisors and record "
	      "a verdict per cell.\n\ncommands:\n", f);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
	fputs("\n'hvmatrix COMMAND --help' describes one command.\n"
	      "Exit codes: 0 all PASS/SKIP, 1 a cell FAILed, 2 usage or "
	      "configuration error,\n3 a host/tool ERROR and no FAIL.\n", f);
}

int main(int argc, char **argv)
{
	size_t i;

	/* Hidden: the child's half of QEMU and build steps (lib/spawn.h). */
	if (argc > 1 && spawn_is_trampoline(argv[1]))
		return spawn_trampoline(argc - 1, argv + 1);
	/* Our own path, while the file is surely there (spawn.h). */
	free(spawn_self());
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hvmatrix %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i]->name))
			return cmd_main(cmds[i], argc - 1, argv + 1);
	report_error("'%s' is not a command; see 'hvmatrix "
		     "--help'", argv[1]);
	return EXIT_USAGE;
}
