/*
 * cmd-dashboard: `hvmatrix dashboard`, the static HTML site from the store
 * (see publish.c). Read-only on the store.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "publish/publish.h"
#include "lib/report.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix dashboard [--state DIR] [--out DIR]\n"
"\n"
"Write the static HTML dashboard of the recorded runs: index.html (open\n"
"regressions, then the newest commits x cells), grid/N.html (100 commits\n"
"a page), regressions.html, releases.html, cell/, commit/ and run/ pages\n"
"(each run with a log: its command line, reproduce.sh, the log with the\n"
"decisive line at #decisive). Incremental: only pages whose data changed\n"
"are written again (DIR/.manifest keeps what each was made from).\n"
"\n"
"  --state DIR   state directory (default $HVMATRIX_STATE, else\n"
"                ./hvmatrix-state)\n"
"  --out DIR     output directory (default STATE/dashboard)\n"
"  -h, --help    show this help\n";

enum { OPT_OUT = 'o' };

static const struct option options[] = {
	{ "out", required_argument, NULL, OPT_OUT },
	{ NULL, 0, NULL, 0 },
};

static int dashboard_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	const char *opt_out = cmd_arg(ctx, OPT_OUT);
	char *out_dir, *index = NULL;
	int ret = EXIT_OK;

	if (!ctx->store) {
		printf("dashboard: nothing recorded in %s yet; no dashboard "
		       "written\n", ctx->state_dir);
		return EXIT_OK;
	}
	out_dir = opt_out ? xstrdup(opt_out) :
		  xstrfmt("%s/dashboard", ctx->state_dir);
	if (publish_dashboard(ctx->store, out_dir, &index, &err)) {
		report_error("%s", err.buf);
		ret = EXIT_ERROR;
	} else {
		printf("dashboard: %s\n", index);
	}
	free(out_dir);
	free(index);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_dashboard = {
	.name = "dashboard",
	.summary = "write the static HTML dashboard",
	.usage = usage_text,
	.flags = CMD_READS_STORE,
	.options = options,
	.max_args = 0,
	.exec = dashboard_exec,
};
