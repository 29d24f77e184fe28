/*
 * hvmatrix boot: boot one prebuilt kernel across the cells of a matrix,
 * record every verdict, print a table (or JSON). Exit codes are the
 * contract of cmd.h: 0 all PASS/SKIP, 1 any FAIL, 3 ERROR but no FAIL,
 * 2 usage or configuration, 130 interrupted.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "cmd.h"
#include "fsutil.h"
#include "kernel.h"
#include "matrix.h"
#include "probe.h"
#include "record.h"
#include "xmalloc.h"

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
"  --jobs N        runs at once (default: number of cores)\n"
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
	struct record_run run;
	struct strbuf err;
	int rc;
};

static void record_work_cb(uv_work_t *req)
{
	struct record_work *w = container_of(req, struct record_work, req);

	w->rc = record_add_run(w->ctx->store, &w->run, &w->err);
}

static void record_after_cb(uv_work_t *req, int status)
{
	struct record_work *w = container_of(req, struct record_work, req);

	if (status < 0 || w->rc < 0) {
		fprintf(stderr, "hvmatrix: cannot record %s: %s\n",
			w->run.cell, status < 0 ? uv_strerror(status) :
			w->err.buf);
		w->ctx->store_failed = 1;
	}
	/* Borrowed strings: only the struct and its own copies go. */
	free(w->run.reason);
	free(w->run.line);
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

static int selected(const struct cell *c, char **globs, size_t n_globs)
{
	size_t i;

	if (!n_globs)
		return 1;
	for (i = 0; i < n_globs; i++)
		if (!fnmatch(globs[i], c->name, 0))
			return 1;
	return 0;
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
	size_t i;
	int first = 1;

	strbuf_addch(&sb, '[');
	for (i = 0; i < n; i++) {
		struct boot_run *r = &runs[i];

		if (r->interrupted)
			continue;
		strbuf_addstr(&sb, first ? "\n  {\"cell\": " : ",\n  {\"cell\": ");
		first = 0;
		strbuf_add_json_str(&sb, r->cell->name);
		strbuf_addstr(&sb, ", \"verdict\": ");
		strbuf_add_json_str(&sb, verdict_name(judge_verdict(&r->judge)));
		strbuf_addstr(&sb, ", \"reason\": ");
		strbuf_add_json_str(&sb, r->judge.reason);
		strbuf_addstr(&sb, ", \"line\": ");
		strbuf_add_json_str(&sb, r->judge.line);
		strbuf_addf(&sb, ", \"duration_s\": %.3f, \"log\": ",
			    r->duration_s);
		strbuf_add_json_str(&sb, r->log_path);
		strbuf_addstr(&sb, ", \"nonce\": ");
		strbuf_add_json_str(&sb, r->nonce);
		strbuf_addch(&sb, '}');
	}
	strbuf_addstr(&sb, first ? "]\n" : "\n]\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

static int exit_code(struct boot_run *runs, size_t n, int store_failed)
{
	int fail = 0, error = store_failed;
	size_t i;

	for (i = 0; i < n; i++) {
		fail |= judge_verdict(&runs[i].judge) == VERDICT_FAIL;
		error |= judge_verdict(&runs[i].judge) == VERDICT_ERROR;
	}
	return fail ? EXIT_FAIL : error ? EXIT_ERROR : EXIT_OK;
}

static int cmd_boot_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "matrix", required_argument, NULL, 'm' },
		{ "cell", required_argument, NULL, 'c' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel_arg = NULL, *initrd = boot_default_initrd();
	const char *matrix_path = matrix_default_path(), *state_opt = NULL;
	char **globs = NULL, *state_dir = NULL, *log_dir = NULL;
	size_t n_globs = 0, globs_alloc = 0, i, n = 0;
	struct strbuf err = STRBUF_INIT, kerr = STRBUF_INIT;
	struct boot_ctx ctx;
	struct matrix m = { 0 };
	struct boot_run *runs = NULL;
	unsigned jobs = cmd_default_jobs();
	int json = 0, dry_run = 0, opt, ret = EXIT_USAGE, have_matrix = 0;

	memset(&ctx, 0, sizeof(ctx));
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': kernel_arg = optarg; break;
		case 'i': initrd = optarg; break;
		case 'm': matrix_path = optarg; break;
		case 'c':
			ALLOC_GROW(globs, n_globs + 1, globs_alloc);
			globs[n_globs++] = optarg;
			break;
		case 'j':
			if (cmd_parse_jobs(optarg, &jobs))
				goto out;
			break;
		case 's': state_opt = optarg; break;
		case 'J': json = 1; break;
		case 'n': dry_run = 1; break;
		case 'q': ctx.quiet = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind < argc) {
		ret = cmd_usage_error("boot: unexpected argument '%s'",
				      argv[optind]);
		goto out;
	}
	if (!kernel_arg) {
		ret = cmd_usage_error("boot: --kernel PATH is required (see "
				      "'hvmatrix boot --help')");
		goto out;
	}
	if (matrix_load(&m, matrix_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	have_matrix = 1;
	runs = xcalloc(m.n_cells + 1, sizeof(*runs));
	state_dir = record_state_dir(state_opt);
	ctx.batch = new_batch_id();
	log_dir = xstrfmt("%s/logs/%s", state_dir, ctx.batch);
	for (i = 0; i < m.n_cells; i++) {
		char *log;

		if (!selected(&m.cells[i], globs, n_globs))
			continue;
		log = xstrfmt("%s/%s.log", log_dir, m.cells[i].name);
		boot_run_init(&runs[n++], &m.cells[i], kernel_arg, initrd, log);
		free(log);
	}
	if (!n) {
		ret = cmd_usage_error("boot: no cell of %s matches the --cell "
				      "patterns", matrix_path);
		goto out;
	}
	if (dry_run) {
		for (i = 0; i < n; i++) {
			struct strbuf sb = STRBUF_INIT;

			boot_argv_quote(runs[i].argv, &sb);
			printf("%s\n", sb.buf);
			strbuf_release(&sb);
		}
		ret = EXIT_OK;
		goto out;
	}
	if (record_open(&ctx.store, state_dir, &err) < 0 ||
	    fsutil_mkdir_p(log_dir, 0755) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.len ? err.buf :
			"cannot create the log directory");
		ret = EXIT_ERROR;
		goto out;
	}
	ctx.n = n;
	ctx.matrix_path = realpath(matrix_path, NULL);
	if (!ctx.matrix_path)
		ctx.matrix_path = xstrdup(matrix_path);
	if (kernel_identify(&ctx.kernel, kernel_arg, &kerr) < 0) {
		ctx.kernel.path = xstrdup(kernel_arg);
		ctx.kernel.id = xstrdup("unknown");
		ctx.kernel.version = xstrdup("");
	}
	boot_precheck(runs, n, kernel_arg, kerr.len ? kerr.buf : NULL,
			    initrd, ctx.quiet);
	if (!ctx.quiet)
		fprintf(stderr, "booting %s in %zu cells, %u at a time; logs "
			"in %s\n", ctx.kernel.path, n, jobs, log_dir);
	{
		struct boot_opts opts = {
			.jobs = jobs, .on_start = on_start,
			.on_done = on_done, .data = &ctx,
		};

		if (boot_run_all(uv_default_loop(), runs, n, &opts)) {
			fprintf(stderr, "hvmatrix: interrupted; finished runs "
				"are recorded in %s\n", state_dir);
			ret = 130;
			goto out;
		}
	}
	if (json)
		print_json(runs, n);
	else
		print_table(runs, n);
	if (!json && !ctx.quiet)
		printf("results: %s (see 'hvmatrix results', 'hvmatrix "
		       "dashboard')\n", state_dir);
	ret = exit_code(runs, n, ctx.store_failed);
out:
	for (i = 0; i < n; i++)
		boot_run_release(&runs[i]);
	free(runs);
	if (ctx.store)
		record_close(ctx.store);
	kernel_release(&ctx.kernel);
	free(ctx.batch);
	free(ctx.matrix_path);
	if (have_matrix)
		matrix_release(&m);
	free(globs);
	free(state_dir);
	free(log_dir);
	strbuf_release(&err);
	strbuf_release(&kerr);
	return ret;
}

const struct cmd cmd_boot = {
	"boot", "boot a kernel across the cells of a matrix", cmd_boot_run,
};
