/*
 * hvmatrix boot: boot one prebuilt kernel across the cells of a matrix,
 * record every verdict, print a table (or JSON). Exit codes are the
 * contract of verdict.h: 0 all PASS/SKIP, 1 any FAIL, 3 ERROR but no FAIL,
 * 2 usage or configuration, 130 interrupted.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-env.h"
#include "cli/cmd.h"
#include "lib/report.h"
#include "lib/spawn.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "build/kernel.h"
#include "matrix/matrix.h"
#include "boot/probe.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix boot --kernel PATH [options]\n"
"\n"
"Boot a prebuilt kernel in every selected cell of a matrix, in parallel,\n"
"judge each console and record the verdicts in the state directory.\n"
"\n"
"  --kernel PATH   kernel image (bzImage) to boot (required)\n"
"  --initrd PATH   test payload (default: $HVMATRIX_INITRD, else the\n"
"                  build's images/payload.cpio.gz)\n"
"  --matrix FILE   matrix file (default: $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml)\n"
"  --cell GLOB     only cells whose name matches GLOB (repeatable)\n"
"  --repeat N      boot every selected cell N times (1-32, default 1):\n"
"                  each run its own nonce, log and verdict; the runs of\n"
"                  one libxl cell share a dom0 boot as the daemon's\n"
"                  confirmations do\n""  --jobs N        runs at once (default: number of cores)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --json          print one JSON array of {cell, verdict, reason,\n"
"                  line, duration_s, log} instead of a table\n"
"  --dry-run       print each cell's QEMU command line; boot nothing\n"
"  -q, --quiet     no progress lines on stderr\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 every cell PASS or SKIP, 1 a cell FAILed, 2 usage or\n"
"configuration error, 3 a host/tool ERROR and no FAIL, 130 interrupted.\n";

struct boot_ctx {
	struct record *store;
	struct kernel kernel;
	char *batch;
	char *matrix_path;
	size_t n, started, finished;
	int quiet;
	int store_failed;
};

struct record_work {
	uv_work_t req;
	struct boot_ctx *ctx;
	const struct boot_run *r;
	struct boot_env env;
	struct record_run run;
	struct strbuf err;
	int rc;
};

static void record_work_cb(uv_work_t *req)
{
	struct record_work *w = container_of(req, struct record_work, req);
	struct strbuf why = STRBUF_INIT;

	/* Hashing the hypervisor and the payload reads megabytes (once per
	 * file): here, off the loop. Unknown stays "". */
	if (!boot_env_key(w->r->cell, w->r->initrd, &w->env, &why)) {
		w->run.env_key = w->env.key;
		w->run.hv_build = w->env.hypervisor;
	}
	strbuf_release(&why);
	w->rc = record_add_run(w->ctx->store, &w->run, &w->err);
}

static void record_after_cb(uv_work_t *req, int status)
{
	struct record_work *w = container_of(req, struct record_work, req);

	if (status < 0 || w->rc < 0) {
		report_error("cannot record %s: %s",
			     w->run.cell, status < 0 ? uv_strerror(status) :
			     w->err.buf);
		w->ctx->store_failed = 1;
	}
	/* Borrowed strings: only the struct and its own copies go. */
	free(w->run.reason);
	free(w->run.line);
	free(w->run.cmdline);
	free(w->run.fingerprint);
	record_probes_free(w->run.probes, w->run.n_probes);
	strbuf_release(&w->err);
	free(w);
}

static void on_start(struct boot_run *r, void *data)
{
	struct boot_ctx *ctx = data;

	ctx->started++;
	if (!ctx->quiet)
		fprintf(stderr, "[%2zu/%zu] start  %s%s%s%s\n", ctx->started,
			ctx->n, r->cell->name,
			r->xen_version ? " (Xen " : "",
			r->xen_version ? r->xen_version : "",
			r->xen_version ? ")" : "");
}

static void on_done(struct boot_run *r, void *data)
{
	struct boot_ctx *ctx = data;
	struct record_work *w;

	if (r->interrupted)
		return;
	ctx->finished++;
	if (!ctx->quiet)
		fprintf(stderr, "[%2zu/%zu] %-7s %s (%.1f s): %s\n",
			ctx->finished, ctx->n,
			verdict_name(judge_verdict(&r->judge)), r->cell->name,
			r->duration_s, r->judge.reason);
	w = xcalloc(1, sizeof(*w));
	w->ctx = ctx;
	w->r = r;
	strbuf_init(&w->err, 0);
	w->run.batch = ctx->batch;
	w->run.kernel_id = ctx->kernel.id;
	w->run.kernel_path = ctx->kernel.path;
	w->run.kernel_version = ctx->kernel.version;
	w->run.cell = r->cell->name;
	w->run.matrix_path = ctx->matrix_path;
	w->run.verdict = judge_verdict(&r->judge);
	w->run.reason = xstrdup(r->judge.reason);
	w->run.line = xstrdup(r->judge.line ? r->judge.line : "");
	w->run.started_at = r->started_at;
	w->run.duration_s = r->duration_s;
	w->run.log_path = r->log_path;
	w->run.nonce = r->nonce;
	w->run.cmdline = boot_run_cmdline(r);
	w->run.qemu_version = r->qemu_version;	/* borrowed, as log_path */
	w->run.xen_version = r->xen_version;
	boot_run_probes(r, &w->run.probes, &w->run.n_probes,
			&w->run.fingerprint);
	uv_queue_work(uv_default_loop(), &w->req, record_work_cb,
		      record_after_cb);
}

static char *new_batch_id(void)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	unsigned rnd;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (getentropy(&rnd, sizeof(rnd)) < 0)
		rnd = (unsigned)getpid();
	return xstrfmt("%s-%04x", stamp, rnd & 0xffff);
}

static void print_table(struct boot_run *runs, size_t n)
{
	size_t i, w = 4;
	unsigned counts[VERDICT_BLOCKED + 1] = { 0 };

	for (i = 0; i < n; i++)
		if (strlen(runs[i].cell->name) > w)
			w = strlen(runs[i].cell->name);
	printf("%-*s  %-7s  %7s  %s\n", (int)w, "CELL", "VERDICT", "TIME",
	       "REASON");
	for (i = 0; i < n; i++) {
		struct boot_run *r = &runs[i];
		enum verdict v = judge_verdict(&r->judge);

		if (r->interrupted)
			continue;
		counts[v]++;
		printf("%-*s  %-7s  %6.1fs  %s\n", (int)w, r->cell->name,
		       verdict_name(v), r->duration_s, r->judge.reason);
	}
	printf("\n%zu cells: %u PASS, %u FAIL, %u ERROR, %u SKIP\n", n,
	       counts[VERDICT_PASS], counts[VERDICT_FAIL],
	       counts[VERDICT_ERROR], counts[VERDICT_SKIP]);
}

static void print_json(struct boot_run *runs, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;
	size_t i;

	json_init(&j, &sb);
	json_array_begin(&j);
	for (i = 0; i < n; i++) {
		struct boot_run *r = &runs[i];

		if (r->interrupted)
			continue;
		json_object_begin(&j);
		json_key_str(&j, "cell", r->cell->name);
		json_key_str(&j, "verdict",
			     verdict_name(judge_verdict(&r->judge)));
		json_key_str(&j, "reason", r->judge.reason);
		json_key_str(&j, "line", r->judge.line);
		json_key_double(&j, "duration_s", r->duration_s);
		json_key_str(&j, "log", r->log_path);
		json_key_str(&j, "nonce", r->nonce);
		json_object_end(&j);
	}
	json_array_end(&j);
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

static int exit_code(struct boot_run *runs, size_t n, int store_failed)
{
	int ret = store_failed ? EXIT_ERROR : EXIT_OK;
	size_t i;

	for (i = 0; i < n; i++)
		ret = verdict_exit_worst(ret, verdict_exit_code(
			judge_verdict(&runs[i].judge)));
	return ret;
}

enum { OPT_KERNEL = 'k', OPT_CELL = 'c', OPT_DRY_RUN = 'n', OPT_REPEAT = 'r' };

static const struct option options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "cell", required_argument, NULL, OPT_CELL },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ NULL, 0, NULL, 0 },
};

#define BOOT_REPEAT_MAX 32

/* --repeat N: 1 when absent, 0 when not a count in range. */
static unsigned boot_repeat(struct cmd_ctx *ctx)
{
	const char *s = cmd_arg(ctx, OPT_REPEAT);
	char *end;
	unsigned long v;

	if (!s)
		return 1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < 1 ||
	    v > BOOT_REPEAT_MAX)
		return 0;
	return (unsigned)v;
}

/* Usage errors before any setup; a dry run needs no store. */
static int boot_prepare(struct cmd_ctx *ctx)
{
	if (!cmd_arg(ctx, OPT_KERNEL))
		return cmd_usage_error("boot: --kernel PATH is required (see "
				       "'hvmatrix boot --help')");
	if (cmd_arg(ctx, OPT_REPEAT) && boot_repeat(ctx) == 0)
		return cmd_usage_error("boot: --repeat takes a count from 1 "
				       "to %u, not '%s'", BOOT_REPEAT_MAX,
				       cmd_arg(ctx, OPT_REPEAT));
	if (cmd_has(ctx, OPT_DRY_RUN))
		ctx->flags = (ctx->flags & ~(unsigned)CMD_WRITES_STORE) |
			     CMD_STATE;
	return -1;
}

static int boot_exec(struct cmd_ctx *ctx)
{
	const char *kernel_arg = cmd_arg(ctx, OPT_KERNEL);
	const char *initrd = ctx->initrd;
	const struct matrix *m = &ctx->matrix;
	char *log_dir = NULL;
	size_t i, k, n = 0;
	unsigned rep, repeat = boot_repeat(ctx);
	struct strbuf kerr = STRBUF_INIT;
	struct boot_ctx bctx;
	struct boot_run *runs;
	unsigned jobs = ctx->jobs;
	int ret = EXIT_USAGE, globs = cmd_has(ctx, OPT_CELL);

	memset(&bctx, 0, sizeof(bctx));
	bctx.quiet = ctx->quiet;
	bctx.store = ctx->store;
	runs = xcalloc(m->n_cells * repeat + 1, sizeof(*runs));
	bctx.batch = new_batch_id();
	log_dir = xstrfmt("%s/logs/%s", ctx->state_dir, bctx.batch);
	for (i = 0; i < m->n_cells; i++) {
		char *log;

		/* --cell GLOB, repeatable: any match selects the cell. */
		for (k = 0; globs && k < ctx->n_args; k++)
			if (ctx->args[k].id == OPT_CELL &&
			    !fnmatch(ctx->args[k].value, m->cells[i].name, 0))
				break;
		if (globs && k == ctx->n_args)
			continue;
		for (rep = 1; rep <= repeat; rep++) {
			log = rep == 1 ?
			      xstrfmt("%s/%s.log", log_dir, m->cells[i].name) :
			      xstrfmt("%s/%s-%u.log", log_dir,
				      m->cells[i].name, rep);
			boot_run_init(&runs[n++], &m->cells[i], kernel_arg,
				      initrd, log);
			free(log);
		}
	}
	if (!n) {
		ret = cmd_usage_error("boot: no cell of %s matches the --cell "
				      "patterns", ctx->matrix_path);
		goto out;
	}
	if (cmd_has(ctx, OPT_DRY_RUN)) {
		for (i = 0; i < n; i++) {
			struct strbuf sb = STRBUF_INIT;

			/* A libxl guest has no QEMU of its own: its group's
			 * dom0 boot is made when the group starts. */
			if (!runs[i].argv)
				printf("# %s: a libxl guest, booted inside its "
				       "group's dom0 (no command line of its "
				       "own)\n", runs[i].cell->name);
			else {
				spawn_argv_quote(runs[i].argv, &sb);
				printf("%s\n", sb.buf);
			}
			strbuf_release(&sb);
		}
		ret = EXIT_OK;
		goto out;
	}
	if (fsutil_mkdir_p(log_dir, 0755) < 0) {
		report_error("%s: cannot create the log "
			     "directory", log_dir);
		ret = EXIT_ERROR;
		goto out;
	}
	bctx.n = n;
	bctx.matrix_path = realpath(ctx->matrix_path, NULL);
	if (!bctx.matrix_path)
		bctx.matrix_path = xstrdup(ctx->matrix_path);
	if (kernel_identify(&bctx.kernel, kernel_arg, &kerr) < 0) {
		bctx.kernel.path = xstrdup(kernel_arg);
		bctx.kernel.id = xstrdup("unknown");
		bctx.kernel.version = xstrdup("");
	}
	probe_precheck(runs, n, kernel_arg, kerr.len ? kerr.buf : NULL,
		       initrd, bctx.quiet);
	if (!bctx.quiet)
		fprintf(stderr, "booting %s in %zu cells, %u at a time; logs "
			"in %s\n", bctx.kernel.path, n, jobs, log_dir);
	{
		struct boot_opts opts = {
			.jobs = jobs, .on_start = on_start,
			.on_done = on_done, .data = &bctx,
		};

		if (boot_run_all(uv_default_loop(), runs, n, &opts)) {
			report_error("interrupted; finished runs "
				     "are recorded in %s", ctx->state_dir);
			ret = 130;
			goto out;
		}
	}
	if (ctx->json)
		print_json(runs, n);
	else
		print_table(runs, n);
	if (!ctx->json && !bctx.quiet)
		printf("results: %s (see 'hvmatrix results', 'hvmatrix "
		       "dashboard')\n", ctx->state_dir);
	ret = exit_code(runs, n, bctx.store_failed);
out:
	for (i = 0; i < n; i++)
		boot_run_release(&runs[i]);
	free(runs);
	kernel_release(&bctx.kernel);
	free(bctx.batch);
	free(bctx.matrix_path);
	free(log_dir);
	strbuf_release(&kerr);
	return ret;
}

const struct cmd cmd_boot = {
	.name = "boot",
	.summary = "boot a kernel across the cells of a matrix",
	.usage = usage_text,
	.flags = CMD_NEEDS_MATRIX | CMD_WRITES_STORE | CMD_JSON | CMD_BOOTS,
	.options = options,
	.max_args = 0,
	.prepare = boot_prepare,
	.exec = boot_exec,
};
