/*
 * hvmatrix daemon: watch the matrix's kernel trees, build every new commit
 * with every build config, boot each build in every cell, record the
 * verdicts and keep the dashboard current (daemon.c does the work).
 */
#include <stdio.h>

#include "cli/cmd.h"
#include "daemon/daemon.h"

static const char usage_text[] =
"usage: hvmatrix daemon [options]\n"
"\n"
"Watch the kernel trees of a matrix file, build every new commit with\n"
"every build config, boot each build in every cell and record the\n"
"verdicts; the dashboard (STATE/dashboard/index.html) is rewritten after\n"
"every commit. The queue lives in the store: a daemon stopped with\n"
"SIGTERM, or killed, resumes it at the next start. An edit of the matrix\n"
"file takes effect at once, and SIGHUP re-reads it; an invalid one is\n"
"reported with its file:line:col and the last good matrix stays in force.\n"
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

enum { OPT_UNTIL_IDLE = 'u' };

static const struct option options[] = {
	{ "until-idle", no_argument, NULL, OPT_UNTIL_IDLE },
	{ NULL, 0, NULL, 0 },
};

static int daemon_exec(struct cmd_ctx *ctx)
{
	struct daemon_opts o = {
		.matrix_path = ctx->matrix_path,
		.state_dir = ctx->state_dir,
		.initrd = ctx->initrd,
		.jobs = ctx->jobs,
		.poll = 1,
		.until_idle = cmd_has(ctx, OPT_UNTIL_IDLE),
		.quiet = ctx->quiet,
	};

	return daemon_main(&o);
}

const struct cmd cmd_daemon = {
	.name = "daemon",
	.summary = "watch kernel trees: build, boot and record every commit",
	.usage = usage_text,
	.flags = CMD_MATRIX | CMD_TAKES_LOCK | CMD_BOOTS,
	.options = options,
	.max_args = 0,
	.exec = daemon_exec,
};
