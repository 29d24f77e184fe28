/*
 * hvmatrix daemon: watch the matrix's kernel trees, build every new commit
 * with every build config, boot each build in every cell, record the
 * verdicts and keep the dashboard current (daemon.c does the work).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "boot.h"
#include "cmd.h"
#include "daemon.h"
#include "matrix.h"
#include "record.h"

static const char usage_text[] =
"usage: hvmatrix daemon [options]\n"
"\n"
"Watch the kernel trees of a matrix file, build every new commit with\n"
"every build config, boot each build in every cell and record the\n"
"verdicts; the dashboard (STATE/dashboard/index.html) is rewritten after\n"
"every commit. The queue lives in the store: a daemon stopped with\n"
"SIGTERM, or killed, resumes it at the next start. An edit of the matrix\n"
"file takes effect at once; an invalid one is reported with its\n"
"file:line:col and the last good matrix stays in force.\n"
"\n"
"  --matrix FILE   matrix file with trees, builds and cells (default:\n"
"                  $HVMATRIX_MATRIX, else matrices/default.yaml)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --jobs N        cores for builds and boots (default: all)\n"
"  --initrd PATH   test payload (default: the build's payload)\n"
"  --until-idle    exit once the queue is empty (after the first poll)\n"
"  -q, --quiet     no progress lines\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 stopped (or idle) with no FAIL seen, 1 a cell FAILed or a build\n"
"broke, 2 usage or configuration error, 3 a host/tool ERROR and no FAIL.\n";

static int cmd_daemon_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "matrix", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "until-idle", no_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = {
		.matrix_path = matrix_default_path(),
		.initrd = boot_default_initrd(),
		.jobs = cmd_default_jobs(),
		.poll = 1,
	};
	const char *state_opt = NULL;
	char *state;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm': o.matrix_path = optarg; break;
		case 's': state_opt = optarg; break;
		case 'j':
			if (cmd_parse_jobs(optarg, &o.jobs))
				return EXIT_USAGE;
			break;
		case 'i': o.initrd = optarg; break;
		case 'u': o.until_idle = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error("daemon: unexpected argument '%s'",
				       argv[optind]);
	state = record_state_dir(state_opt);
	o.state_dir = state;
	ret = daemon_main(&o);
	free(state);
	return ret;
}

const struct cmd cmd_daemon = {
	"daemon", "watch kernel trees: build, boot and record every commit",
	cmd_daemon_run,
};
