/*
 * cmd-export: `hvmatrix export kcidb`, the store as one KernelCI KCIDB
 * v5.3 report (kcidb.c builds it) on stdout or in a file, for a lab to
 * submit as it is. Read-only: the store is opened with
 * record_open_readonly and never waits for a running daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "lib/report.h"
#include "lib/fsutil.h"
#include "export/kcidb.h"
#include "lib/xmalloc.h"

#define DEFAULT_ORIGIN "hvmatrix"

static const char export_usage[] =
"usage: hvmatrix export kcidb [--state DIR] [--matrix FILE] [--origin NAME]\n"
"                             [--since TIME] [--out FILE]\n"
"\n"
"Export what the store holds in another system's format.\n"
"\n"
"  kcidb    one KernelCI KCIDB v5.3 report (JSON)\n"
"\n"
"'hvmatrix export kcidb --help' describes it.\n";

static const char kcidb_usage[] =
"usage: hvmatrix export kcidb [--state DIR] [--matrix FILE] [--origin NAME]\n"
"                             [--since TIME] [--out FILE]\n"
"\n"
"Write the recorded runs as one KCIDB v5.3 report, valid against\n"
"KernelCI's kcidb-io schema: checkouts (tree, branch, commit), builds\n"
"(config, status, duration, log), one test per run (path boot.<cell>, a\n"
"'.' in the cell's name written '_'; PASS, FAIL, ERROR, SKIP, and MISS\n"
"for BLOCKED; environment: the hypervisor, its release, the QEMU machine,\n"
"the cell in misc.platform; the tail of the console log of FAIL and ERROR\n"
"runs, at most 16 KiB), and the open and fixed regressions as issues, with\n"
"an incident per failing test of their first bad commit. Every id is\n"
"ORIGIN:...; nothing unknown is written (no nulls); git_repository_url\n"
"only for an https:// tree.\n"
"\n"
"  --state DIR     state directory (default $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --matrix FILE   for the trees' URLs and branches, the cells'\n"
"                  hypervisors, `confirm` (default $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml; without one, less is known)\n"
"  --origin NAME   the lab's KCIDB origin, [a-z0-9_]+ (default\n"
"                  " DEFAULT_ORIGIN ")\n"
"  --since TIME    only runs started at or after TIME: Unix seconds or ISO\n"
"                  8601 (2026-12-01, 2026-12-01T10:00:00Z; no zone is UTC)\n"
"  --out FILE      write FILE (atomically) instead of stdout\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 written, 2 usage, 3 the store cannot be read or FILE written.\n";

enum { OPT_ORIGIN = 'o', OPT_SINCE = 's', OPT_OUT = 'O' };

static const struct option kcidb_options[] = {
	{ "origin", required_argument, NULL, OPT_ORIGIN },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ NULL, 0, NULL, 0 },
};

/* Usage errors before the state directory is touched. */
static int kcidb_prepare(struct cmd_ctx *ctx)
{
	const char *origin = cmd_arg(ctx, OPT_ORIGIN);
	const char *since = cmd_arg(ctx, OPT_SINCE);
	double t;

	if (origin && !kcidb_origin_ok(origin))
		return cmd_usage_error("%s: --origin: expected [a-z0-9_]+ "
				       "(KCIDB's origin), got \"%s\"",
				       ctx->name, origin);
	if (since && kcidb_parse_time(since, &t) < 0)
		return cmd_usage_error("%s: --since: expected Unix seconds "
				       "or an ISO 8601 time "
				       "(2026-12-01T10:00:00Z), got \"%s\"",
				       ctx->name, since);
	return -1;
}

static int kcidb_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct kcidb_report rep = { 0 };
	struct kcidb_opts opts = { 0 };
	struct matrix m = { 0 };
	const char *origin = cmd_arg(ctx, OPT_ORIGIN);
	const char *since = cmd_arg(ctx, OPT_SINCE);
	const char *path = cmd_arg(ctx, OPT_OUT);
	int have_m = 0, ret = EXIT_ERROR;

	if (!origin)
		origin = DEFAULT_ORIGIN;
	if (since)
		kcidb_parse_time(since, &opts.since);
	/* The matrix only adds what the store does not know. */
	have_m = cmd_optional_matrix(ctx, &m);
	if (have_m < 0) {
		have_m = 0;
		ret = EXIT_USAGE;
		goto out;
	}
	if (kcidb_collect(ctx->store, have_m ? &m : NULL, &opts, &rep,
			  &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	kcidb_write(&rep, origin, &out);
	if (path) {
		int rc = fsutil_write_atomic(path, out.buf, out.len);

		if (rc < 0) {
			report_error("%s: %s", path,
				     strerror(-rc));
			goto out;
		}
	} else if (fwrite(out.buf, 1, out.len, stdout) != out.len ||
		   fflush(stdout)) {
		perror("hvmatrix: stdout");
		goto out;
	}
	ret = EXIT_OK;
out:
	kcidb_collect_release(&rep);
	if (have_m)
		matrix_release(&m);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

static const struct cmd export_kcidb_cmd = {
	.name = "kcidb",
	.summary = "the store as one KCIDB v5.3 report",
	.usage = kcidb_usage,
	.flags = CMD_READS_STORE | CMD_MATRIX,
	.shortopts = "",
	.options = kcidb_options,
	.max_args = 0,
	.prepare = kcidb_prepare,
	.exec = kcidb_exec,
};

static const struct cmd *const subcommands[] = { &export_kcidb_cmd };

const struct cmd cmd_export = {
	.name = "export",
	.summary = "the store in another system's format (kcidb)",
	.usage = export_usage,
	.sub = subcommands,
	.n_sub = ARRAY_SIZE(subcommands),
};
