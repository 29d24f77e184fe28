/*
 * cmd-results: `hvmatrix results`, the recorded verdicts as a table for
 * people or as JSON for scripts. Read-only: it never changes a run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "lib/report.h"
#include "lib/json.h"
#include "lib/logfile.h"
#include "compare/regressions.h"
#include "store/record.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

#define RESULTS_ID_LEN 12

struct results_opts {
	const char *kernel;	/* kernel id prefix */
	const char *cell;
	const char *tree;
	const char *commit;	/* commit id prefix */
	size_t limit;		/* 0: all */
	int json;
	int commits;		/* one line per built commit */
	int64_t log_id;		/* --log: print this run's console log */
	int probes;		/* --probes: each run's probe results */
};

static const char usage_text[] =
"usage: hvmatrix results [--state DIR] [--json] [--kernel ID-PREFIX] "
"[--cell NAME]\n"
"                        [--tree NAME] [--commit ID-PREFIX] [--commits] "
"[--limit N]\n"
"                        [--probes]\n"
"       hvmatrix results [--state DIR] --log RUN-ID\n"
"\n"
"Show the recorded runs, newest first; with --commits, one line per "
"built\n"
"commit with its verdict counts.\n"
"\n"
"  --state DIR          state directory (default $HVMATRIX_STATE, else\n"
"                       ./hvmatrix-state)\n"
"                       The table has each run's CLASS (below).\n"
"  --json               print one JSON array of runs (of commits with\n"
"                       --commits); [] when nothing matches. A run of a\n"
"                       built commit has its \"class\" against the cell's\n"
"                       history (regression, unconfirmed, still-failing,\n"
"                       fixed, never-passed, flaky, infra, blocked, pass,\n"
"                       skip) and its \"purpose\" (test, confirm, bisect),\n"
"                       its \"probes\" ([{name, result, detail, seconds}])\n"
"                       and \"fingerprint\" ({hypervisor, guest_type,\n"
"                       clocksource, features, cpu_flags, boot_seconds},\n"
"                       null when the guest reported none)\n"
"                       and \"reused_from\": the run whose verdict it\n"
"                       carries over without a boot (the same image\n"
"                       judged in the same environment), null when it\n"
"                       booted; the table's reason then begins \"reused\n"
"                       from run N\"\n"
"  --kernel ID-PREFIX   only kernels whose id starts with ID-PREFIX\n"
"  --cell NAME          only the cell NAME\n"
"  --tree NAME          only commits of the tree NAME\n"
"  --commit ID-PREFIX   only the commit whose id starts with ID-PREFIX\n"
"  --commits            per built commit: verdict counts and subject\n"
"  --limit N            at most N runs\n"
"  --probes             under each run, its probes' results (pass, fail,\n"
"                       skip, error), seconds and detail\n"
"  --log RUN-ID         print the console log of run RUN-ID (the \"id\" of\n"
"                       --json), plain or compressed, escape sequences and\n"
"                       invalid bytes made harmless\n"
"  -h, --help           show this help\n";

static int results_matches(const struct results_opts *o,
			   const struct record_run *run)
{
	if (o->kernel && strncmp(run->kernel_id, o->kernel,
				 strlen(o->kernel)))
		return 0;
	if (o->cell && strcmp(run->cell, o->cell))
		return 0;
	if (o->tree && strcmp(run->tree, o->tree))
		return 0;
	if (o->commit && (!*run->commit_id ||
			  strncmp(run->commit_id, o->commit,
				  strlen(o->commit))))
		return 0;
	return 1;
}

static void add_kernel(struct strbuf *sb, const struct record_run *run)
{
	size_t len = strcspn(run->kernel_version, " \t\n");

	if (*run->commit_id) {
		cmd_add_printable(sb, run->tree, SIZE_MAX);
		strbuf_addch(sb, ' ');
		cmd_add_printable(sb, run->commit_id, RESULTS_ID_LEN);
		strbuf_addch(sb, ' ');
		cmd_add_printable(sb, run->build, SIZE_MAX);
		return;
	}

	if (len) {
		cmd_add_printable(sb, run->kernel_version, len);
		strbuf_addch(sb, ' ');
	}
	cmd_add_printable(sb, run->kernel_id, RESULTS_ID_LEN);
}

/* The built commit a run belongs to ("" for `hvmatrix boot` runs). */
static void add_json_commit(struct json *j, const struct record_run *run)
{
	json_key_str(j, "tree", run->tree);
	json_key_str(j, "commit", run->commit_id);
	json_key_str(j, "build", run->build);
	json_key_str(j, "subject", run->subject);
}

/* run's probes and fingerprint (schema 8) into t, by its id. */
static int load_probes(struct record *store, const struct record_run *run,
		       struct record_run *t)
{
	struct strbuf err = STRBUF_INIT;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->id = run->id;
	if (store && record_query_probes(store, t, &err)) {
		report_error("%s", err.buf);
		ret = -1;
	}
	strbuf_release(&err);
	return ret;
}

static void add_json_probes(struct json *j, struct record *store,
			    const struct record_run *run)
{
	struct record_run t;
	struct json_value v;
	struct strbuf err;
	size_t i;

	load_probes(store, run, &t);
	json_key(j, "probes");
	json_array_begin(j);
	for (i = 0; i < t.n_probes; i++) {
		json_object_begin(j);
		json_key_str(j, "name", t.probes[i].name);
		json_key_str(j, "result", t.probes[i].result);
		json_key_str(j, "detail", t.probes[i].detail);
		json_key_double(j, "seconds", t.probes[i].seconds);
		json_object_end(j);
	}
	json_array_end(j);
	/* Written by the judge; re-read so a store edited by hand can
	 * never make this output invalid. */
	json_key(j, "fingerprint");
	strbuf_init(&err, 0);
	if (t.fingerprint && *t.fingerprint &&
	    !json_parse(&v, t.fingerprint, strlen(t.fingerprint), &err)) {
		if (v.type == JSON_OBJECT)
			json_raw(j, t.fingerprint);
		else
			json_null(j);
		json_value_release(&v);
	} else {
		json_null(j);
	}
	strbuf_release(&err);
	record_run_release(&t);
}

static void add_json_run(struct json *j, const struct record_run *run,
			 const struct regressions *rs, struct record *store)
{
	const char *class = regressions_class_of_run(rs, run);

	json_object_begin(j);
	json_key_int(j, "id", run->id);
	json_key_str(j, "batch", run->batch);
	json_key_str(j, "kernel_id", run->kernel_id);
	json_key_str(j, "kernel_path", run->kernel_path);
	json_key_str(j, "kernel_version", run->kernel_version);
	json_key_str(j, "cell", run->cell);
	json_key_str(j, "verdict", verdict_name(run->verdict));
	json_key_str(j, "reason", run->reason);
	json_key_str(j, "line", run->line);
	json_key_double(j, "started_at", run->started_at);
	json_key_double(j, "duration_s", run->duration_s);
	json_key_str(j, "log", run->log_path);
	json_key_str(j, "nonce", run->nonce);
	add_json_commit(j, run);
	/* What the run means against the cell's history (compare.h). */
	json_key(j, "class");
	if (class)
		json_str(j, class);
	else
		json_null(j);
	json_key_str(j, "purpose", run->purpose && *run->purpose ?
		     run->purpose : "test");
	add_json_probes(j, store, run);
	json_key(j, "reused_from");
	if (run->reused_from)
		json_int(j, run->reused_from);
	else
		json_null(j);
	json_object_end(j);
}

static void print_json(struct strbuf *sb, const struct results_opts *o,
		       const struct record_run *runs, size_t n,
		       const struct regressions *rs, struct record *store)
{
	struct json j;
	size_t i, shown = 0;

	json_init(&j, sb);
	json_array_begin(&j);
	for (i = 0; i < n; i++) {
		if (!results_matches(o, &runs[i]))
			continue;
		if (o->limit && shown == o->limit)
			break;
		add_json_run(&j, &runs[i], rs, store);
		shown++;
	}
	json_array_end(&j);
	strbuf_addch(sb, '\n');
}

static size_t utf8_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void add_padded(struct strbuf *sb, const char *s, size_t width)
{
	size_t w = utf8_width(s);

	strbuf_addstr(sb, s);
	while (w++ < width)
		strbuf_addch(sb, ' ');
	strbuf_addstr(sb, "  ");
}

/* --probes: a run's probe results, indented under its row. */
static void add_probe_rows(struct strbuf *sb, struct record *store,
			   const struct record_run *run)
{
	struct record_run t;
	size_t i;

	if (load_probes(store, run, &t))
		return;
	for (i = 0; i < t.n_probes; i++) {
		struct strbuf name = STRBUF_INIT;

		strbuf_addstr(sb, "    probe ");
		cmd_add_printable(&name, t.probes[i].name, SIZE_MAX);
		add_padded(sb, name.buf, strlen("suspend.cpu-hotplug"));
		strbuf_release(&name);
		strbuf_addf(sb, "%-5s %6.1fs  ", t.probes[i].result,
			    t.probes[i].seconds);
		cmd_add_printable(sb, t.probes[i].detail, SIZE_MAX);
		strbuf_addch(sb, '\n');
	}
	record_run_release(&t);
}

static void print_table(struct strbuf *sb, const struct results_opts *o,
			const struct record_run *runs, size_t n,
			const struct regressions *rs, struct record *store)
{
	struct strbuf *kernels, *cells;
	size_t *rows = xcalloc(n ? n : 1, sizeof(*rows));
	size_t kw = strlen("KERNEL"), cw = strlen("CELL");
	size_t i, nr = 0;

	for (i = 0; i < n && (!o->limit || nr < o->limit); i++)
		if (results_matches(o, &runs[i]))
			rows[nr++] = i;
	kernels = xcalloc(nr ? nr : 1, sizeof(*kernels));
	cells = xcalloc(nr ? nr : 1, sizeof(*cells));
	for (i = 0; i < nr; i++) {
		const struct record_run *run = &runs[rows[i]];

		strbuf_init(&kernels[i], 0);
		strbuf_init(&cells[i], 0);
		add_kernel(&kernels[i], run);
		cmd_add_printable(&cells[i], run->cell, SIZE_MAX);
		if (utf8_width(kernels[i].buf) > kw)
			kw = utf8_width(kernels[i].buf);
		if (utf8_width(cells[i].buf) > cw)
			cw = utf8_width(cells[i].buf);
	}

	add_padded(sb, "TIME (UTC)", strlen("2000-01-01T00:00:00Z"));
	add_padded(sb, "KERNEL", kw);
	add_padded(sb, "CELL", cw);
	add_padded(sb, "VERDICT", strlen("BLOCKED"));
	add_padded(sb, "CLASS", strlen("never-passed"));
	strbuf_addstr(sb, "DURATION  REASON\n");
	for (i = 0; i < nr; i++) {
		const struct record_run *run = &runs[rows[i]];
		const char *class = regressions_class_of_run(rs, run);
		struct strbuf dur = STRBUF_INIT;

		strbuf_add_utc(sb, run->started_at);
		strbuf_addstr(sb, "  ");
		add_padded(sb, kernels[i].buf, kw);
		add_padded(sb, cells[i].buf, cw);
		add_padded(sb, verdict_name(run->verdict), strlen("BLOCKED"));
		/* "-": a kernel booted by hand, outside any tree's history. */
		add_padded(sb, class ? class : "-", strlen("never-passed"));
		strbuf_addf(&dur, "%.1fs", run->duration_s);
		strbuf_addf(sb, "%8s  ", dur.buf);
		if (run->reused_from)
			strbuf_addf(sb, "reused from run %lld: ",
				    (long long)run->reused_from);
		cmd_add_printable(sb, run->reason, SIZE_MAX);
		strbuf_addch(sb, '\n');
		if (o->probes)
			add_probe_rows(sb, store, run);
		strbuf_release(&dur);
		strbuf_release(&kernels[i]);
		strbuf_release(&cells[i]);
	}
	if (!nr)
		strbuf_reset(sb);
	free(kernels);
	free(cells);
	free(rows);
}

/*
 * --commits: one entry per (tree, commit, build), newest first, counting
 * the newest verdict of each of its cells.
 */
static void print_commits(struct strbuf *sb, const struct results_opts *o,
			  const struct record_run *runs, size_t n)
{
	size_t i, k, shown = 0;
	struct json js;

	json_init(&js, sb);
	if (o->json)
		json_array_begin(&js);
	else
		strbuf_addstr(sb, "TREE          COMMIT        BUILD       PASS "
			      "FAIL ERROR SKIP BLOCKED  SUBJECT\n");
	for (i = 0; i < n; i++) {
		const struct record_run *run = &runs[i];
		unsigned count[VERDICT_BLOCKED + 1] = { 0 };
		size_t j, m;

		if (!*run->commit_id || !results_matches(o, run))
			continue;
		for (k = 0; k < i; k++)
			if (!strcmp(runs[k].commit_id, run->commit_id) &&
			    !strcmp(runs[k].tree, run->tree) &&
			    !strcmp(runs[k].build, run->build))
				break;
		if (k < i)
			continue;	/* this commit was listed */
		if (o->limit && shown == o->limit)
			break;
		for (j = i; j < n; j++) {
			const struct record_run *r = &runs[j];

			if (strcmp(r->commit_id, run->commit_id) ||
			    strcmp(r->tree, run->tree) ||
			    strcmp(r->build, run->build))
				continue;
			for (m = i; m < j; m++)
				if (!strcmp(runs[m].commit_id, r->commit_id) &&
				    !strcmp(runs[m].tree, r->tree) &&
				    !strcmp(runs[m].build, r->build) &&
				    !strcmp(runs[m].cell, r->cell))
					break;
			if (m == j && r->verdict <= VERDICT_BLOCKED)
				count[r->verdict]++;
		}
		if (o->json) {
			enum verdict v;

			json_object_begin(&js);
			add_json_commit(&js, run);
			for (v = VERDICT_PASS; v <= VERDICT_BLOCKED; v++)
				json_key_int(&js, verdict_name(v), count[v]);
			json_object_end(&js);
		} else {
			struct strbuf t = STRBUF_INIT;

			cmd_add_printable(&t, run->tree, SIZE_MAX);
			add_padded(sb, t.buf, 12);
			strbuf_reset(&t);
			cmd_add_printable(&t, run->commit_id, RESULTS_ID_LEN);
			add_padded(sb, t.buf, RESULTS_ID_LEN);
			strbuf_reset(&t);
			cmd_add_printable(&t, run->build, SIZE_MAX);
			add_padded(sb, t.buf, 10);
			strbuf_addf(sb, "%4u %4u %5u %4u %7u  ",
				    count[VERDICT_PASS], count[VERDICT_FAIL],
				    count[VERDICT_ERROR], count[VERDICT_SKIP],
				    count[VERDICT_BLOCKED]);
			cmd_add_printable(sb, run->subject, SIZE_MAX);
			strbuf_addch(sb, '\n');
			strbuf_release(&t);
		}
		shown++;
	}
	if (o->json) {
		json_array_end(&js);
		strbuf_addch(sb, '\n');
	} else if (!shown) {
		strbuf_reset(sb);
	}
}

enum { OPT_KERNEL = 'k', OPT_CELL = 'c', OPT_TREE = 't', OPT_COMMIT = 'C',
       OPT_COMMITS = 'S', OPT_LIMIT = 'n', OPT_LOG = 'l', OPT_PROBES = 'p' };

static const struct option options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "cell", required_argument, NULL, OPT_CELL },
	{ "tree", required_argument, NULL, OPT_TREE },
	{ "commit", required_argument, NULL, OPT_COMMIT },
	{ "commits", no_argument, NULL, OPT_COMMITS },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "probes", no_argument, NULL, OPT_PROBES },
	{ NULL, 0, NULL, 0 },
};

static int results_options(const struct cmd_ctx *ctx, struct results_opts *o)
{
	const char *limit = cmd_arg(ctx, OPT_LIMIT);
	const char *log = cmd_arg(ctx, OPT_LOG);
	char *end;
	long v;

	memset(o, 0, sizeof(*o));
	o->kernel = cmd_arg(ctx, OPT_KERNEL);
	o->cell = cmd_arg(ctx, OPT_CELL);
	o->tree = cmd_arg(ctx, OPT_TREE);
	o->commit = cmd_arg(ctx, OPT_COMMIT);
	o->commits = cmd_has(ctx, OPT_COMMITS);
	o->probes = cmd_has(ctx, OPT_PROBES);
	o->json = ctx->json;
	if (limit) {
		v = strtol(limit, &end, 10);
		if (!*limit || *end || v < 1)
			return cmd_usage_error("results: --limit wants a "
					       "positive number, not '%s'",
					       limit);
		o->limit = (size_t)v;
	}
	if (log) {
		v = strtol(log, &end, 10);
		if (!*log || *end || v < 1)
			return cmd_usage_error("results: --log wants a run id, "
					       "not '%s'", log);
		o->log_id = v;
	}
	return 0;
}

/* --log: the run's log (plain or zstd), cleaned for a terminal. */
static int print_log(struct record *r, int64_t id, struct strbuf *err)
{
	struct record_run run = { 0 };
	int rc, ret = -1;

	rc = record_query_run(r, id, &run, err);
	if (rc == 0)
		strbuf_addf(err, "no run %lld in %s", (long long)id,
			    record_dir(r));
	if (rc <= 0)
		goto out;
	if (!*run.log_path) {
		strbuf_addf(err, "run %lld has no console log", (long long)id);
		goto out;
	}
	if (logfile_print(run.log_path, stdout, 0, err) == 0)
		ret = 0;
out:
	record_run_release(&run);
	return ret;
}

/* Usage errors before any setup. */
static int results_prepare(struct cmd_ctx *ctx)
{
	struct results_opts o;

	return results_options(ctx, &o) ? EXIT_USAGE : -1;
}

static int results_exec(struct cmd_ctx *ctx)
{
	struct results_opts o;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct record_run *runs = NULL;
	struct regressions rs = { 0 };
	size_t n = 0;
	int ret = EXIT_OK;

	results_options(ctx, &o);
	if (o.log_id) {
		if (!ctx->store) {
			report_error("no run %lld: nothing "
				     "recorded in %s", (long long)o.log_id,
				     ctx->state_dir);
			ret = EXIT_ERROR;
		} else if (print_log(ctx->store, o.log_id, &err)) {
			report_error("%s", err.buf);
			ret = EXIT_ERROR;
		}
		if (fflush(stdout) == EOF) {
			perror("hvmatrix: stdout");
			ret = EXIT_ERROR;
		}
		goto out;
	}
	/* No store yet is an empty one. */
	if (ctx->store && record_list_runs(ctx->store, &runs, &n, &err)) {
		report_error("%s", err.buf);
		ret = EXIT_ERROR;
		goto out;
	}
	/* Each built commit's class per cell, from the whole history. */
	if (!o.commits && ctx->store &&
	    regressions_compute(ctx->store, NULL, &rs, &err) < 0) {
		report_error("%s", err.buf);
		ret = EXIT_ERROR;
		goto out;
	}
	if (o.commits)
		print_commits(&out, &o, runs, n);
	else if (o.json)
		print_json(&out, &o, runs, n, &rs, ctx->store);
	else
		print_table(&out, &o, runs, n, &rs, ctx->store);
	if (!out.len)
		strbuf_addf(&out, n ? "no runs match the filters in %s\n" :
			    "no runs recorded in %s\n", ctx->state_dir);
	fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout) == EOF) {
		perror("hvmatrix: stdout");
		ret = EXIT_ERROR;
	}
out:
	regressions_release(&rs);
	record_runs_free(runs, n);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_results = {
	.name = "results",
	.summary = "show recorded verdicts from the store",
	.usage = usage_text,
	.flags = CMD_READS_STORE | CMD_JSON,
	.options = options,
	.max_args = 0,
	.prepare = results_prepare,
	.exec = results_exec,
};
