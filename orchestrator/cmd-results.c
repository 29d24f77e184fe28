/*
 * cmd-results: `hvmatrix results`, the recorded verdicts as a table for
 * people or as JSON for scripts. Read-only: it never changes a run.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "logfile.h"
#include "record.h"
#include "strbuf.h"
#include "xmalloc.h"

#define RESULTS_ID_LEN 12

struct results_opts {
	const char *state;
	const char *kernel;	/* kernel id prefix */
	const char *cell;
	const char *tree;
	const char *commit;	/* commit id prefix */
	size_t limit;		/* 0: all */
	int json;
	int commits;		/* one line per built commit */
	int64_t log_id;		/* --log: print this run's console log */
};

static void results_usage(FILE *f)
{
	fputs("usage: hvmatrix results [--state DIR] [--json] "
	      "[--kernel ID-PREFIX] [--cell NAME]\n"
	      "                        [--tree NAME] [--commit ID-PREFIX] "
	      "[--commits] [--limit N]\n"
	      "       hvmatrix results [--state DIR] --log RUN-ID\n\n"
	      "Show the recorded runs, newest first; with --commits, one line "
	      "per built\ncommit with its verdict counts.\n\n"
	      "  --state DIR          state directory (default "
	      "$HVMATRIX_STATE, else\n"
	      "                       ./hvmatrix-state)\n"
	      "  --json               print one JSON array of runs\n"
	      "  --kernel ID-PREFIX   only kernels whose id starts with "
	      "ID-PREFIX\n"
	      "  --cell NAME          only the cell NAME\n"
	      "  --tree NAME          only commits of the tree NAME\n"
	      "  --commit ID-PREFIX   only the commit whose id starts with "
	      "ID-PREFIX\n"
	      "  --commits            per built commit: verdict counts and "
	      "subject\n"
	      "  --limit N            at most N runs\n"
	      "  --log RUN-ID         print the console log of run RUN-ID "
	      "(the \"id\" of\n"
	      "                       --json), escape sequences and invalid "
	      "bytes made\n"
	      "                       harmless\n"
	      "  -h, --help           show this help\n", f);
}

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

/* Console text may hold escape sequences and invalid UTF-8: keep them
 * off the terminal; one line per field. */
static void add_printable(struct strbuf *sb, const char *s, size_t max)
{
	size_t len = 0;

	while (len < max && s[len])
		len++;
	strbuf_add_clean(sb, s, len, STRBUF_CLEAN_LINE);
}

/* --log: the run's log (plain or zstd), cleaned for a terminal. */
static int print_log(struct record *r, int64_t id, struct strbuf *err)
{
	struct record_run run = { 0 };
	int rc, ret = -1;

	rc = record_get_run(r, id, &run, err);
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

static void add_kernel(struct strbuf *sb, const struct record_run *run)
{
	size_t len = strcspn(run->kernel_version, " \t\n");

	if (*run->commit_id) {
		add_printable(sb, run->tree, SIZE_MAX);
		strbuf_addch(sb, ' ');
		add_printable(sb, run->commit_id, RESULTS_ID_LEN);
		strbuf_addch(sb, ' ');
		add_printable(sb, run->build, SIZE_MAX);
		return;
	}

	if (len) {
		add_printable(sb, run->kernel_version, len);
		strbuf_addch(sb, ' ');
	}
	add_printable(sb, run->kernel_id, RESULTS_ID_LEN);
}

static void add_json_num(struct strbuf *sb, double d)
{
	if (isfinite(d))
		strbuf_addf(sb, "%.3f", d);
	else
		strbuf_addstr(sb, "null");
}

/* The built commit a run belongs to ("" for `hvmatrix boot` runs). */
static void add_json_commit(struct strbuf *sb, const struct record_run *run)
{
	strbuf_addstr(sb, "\"tree\": ");
	strbuf_add_json_str(sb, run->tree);
	strbuf_addstr(sb, ", \"commit\": ");
	strbuf_add_json_str(sb, run->commit_id);
	strbuf_addstr(sb, ", \"build\": ");
	strbuf_add_json_str(sb, run->build);
	strbuf_addstr(sb, ", \"subject\": ");
	strbuf_add_json_str(sb, run->subject);
}

static void add_json_run(struct strbuf *sb, const struct record_run *run)
{
	strbuf_addf(sb, "{\"id\": %lld, \"batch\": ", (long long)run->id);
	strbuf_add_json_str(sb, run->batch);
	strbuf_addstr(sb, ", \"kernel_id\": ");
	strbuf_add_json_str(sb, run->kernel_id);
	strbuf_addstr(sb, ", \"kernel_path\": ");
	strbuf_add_json_str(sb, run->kernel_path);
	strbuf_addstr(sb, ", \"kernel_version\": ");
	strbuf_add_json_str(sb, run->kernel_version);
	strbuf_addstr(sb, ", \"cell\": ");
	strbuf_add_json_str(sb, run->cell);
	strbuf_addstr(sb, ", \"verdict\": ");
	strbuf_add_json_str(sb, verdict_name(run->verdict));
	strbuf_addstr(sb, ", \"reason\": ");
	strbuf_add_json_str(sb, run->reason);
	strbuf_addstr(sb, ", \"line\": ");
	strbuf_add_json_str(sb, run->line);
	strbuf_addstr(sb, ", \"started_at\": ");
	add_json_num(sb, run->started_at);
	strbuf_addstr(sb, ", \"duration_s\": ");
	add_json_num(sb, run->duration_s);
	strbuf_addstr(sb, ", \"log\": ");
	strbuf_add_json_str(sb, run->log_path);
	strbuf_addstr(sb, ", \"nonce\": ");
	strbuf_add_json_str(sb, run->nonce);
	strbuf_addstr(sb, ", ");
	add_json_commit(sb, run);
	strbuf_addch(sb, '}');
}

static void print_json(struct strbuf *sb, const struct results_opts *o,
		       const struct record_run *runs, size_t n)
{
	size_t i, shown = 0;

	strbuf_addch(sb, '[');
	for (i = 0; i < n; i++) {
		if (!results_matches(o, &runs[i]))
			continue;
		if (o->limit && shown == o->limit)
			break;
		strbuf_addstr(sb, shown ? ",\n  " : "\n  ");
		add_json_run(sb, &runs[i]);
		shown++;
	}
	strbuf_addstr(sb, shown ? "\n]\n" : "]\n");
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

static void print_table(struct strbuf *sb, const struct results_opts *o,
			const struct record_run *runs, size_t n)
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
		add_printable(&cells[i], run->cell, SIZE_MAX);
		if (utf8_width(kernels[i].buf) > kw)
			kw = utf8_width(kernels[i].buf);
		if (utf8_width(cells[i].buf) > cw)
			cw = utf8_width(cells[i].buf);
	}

	add_padded(sb, "TIME (UTC)", strlen("2000-01-01T00:00:00Z"));
	add_padded(sb, "KERNEL", kw);
	add_padded(sb, "CELL", cw);
	add_padded(sb, "VERDICT", strlen("BLOCKED"));
	strbuf_addstr(sb, "DURATION  REASON\n");
	for (i = 0; i < nr; i++) {
		const struct record_run *run = &runs[rows[i]];
		struct strbuf dur = STRBUF_INIT;

		strbuf_add_utc(sb, run->started_at);
		strbuf_addstr(sb, "  ");
		add_padded(sb, kernels[i].buf, kw);
		add_padded(sb, cells[i].buf, cw);
		add_padded(sb, verdict_name(run->verdict), strlen("BLOCKED"));
		strbuf_addf(&dur, "%.1fs", run->duration_s);
		strbuf_addf(sb, "%8s  ", dur.buf);
		add_printable(sb, run->reason, SIZE_MAX);
		strbuf_addch(sb, '\n');
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

	if (o->json)
		strbuf_addch(sb, '[');
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
			strbuf_addstr(sb, shown ? ",\n  {" : "\n  {");
			add_json_commit(sb, run);
			strbuf_addf(sb, ", \"PASS\": %u, \"FAIL\": %u, "
				    "\"ERROR\": %u, \"SKIP\": %u, "
				    "\"BLOCKED\": %u}", count[VERDICT_PASS],
				    count[VERDICT_FAIL], count[VERDICT_ERROR],
				    count[VERDICT_SKIP], count[VERDICT_BLOCKED]);
		} else {
			struct strbuf t = STRBUF_INIT;

			add_printable(&t, run->tree, SIZE_MAX);
			add_padded(sb, t.buf, 12);
			strbuf_reset(&t);
			add_printable(&t, run->commit_id, RESULTS_ID_LEN);
			add_padded(sb, t.buf, RESULTS_ID_LEN);
			strbuf_reset(&t);
			add_printable(&t, run->build, SIZE_MAX);
			add_padded(sb, t.buf, 10);
			strbuf_addf(sb, "%4u %4u %5u %4u %7u  ",
				    count[VERDICT_PASS], count[VERDICT_FAIL],
				    count[VERDICT_ERROR], count[VERDICT_SKIP],
				    count[VERDICT_BLOCKED]);
			add_printable(sb, run->subject, SIZE_MAX);
			strbuf_addch(sb, '\n');
			strbuf_release(&t);
		}
		shown++;
	}
	if (o->json)
		strbuf_addstr(sb, shown ? "\n]\n" : "]\n");
	else if (!shown)
		strbuf_reset(sb);
}

static int results_parse(struct results_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "cell", required_argument, NULL, 'c' },
		{ "tree", required_argument, NULL, 't' },
		{ "commit", required_argument, NULL, 'C' },
		{ "commits", no_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	opterr = 0;
	optind = 0;	/* glibc: a full reset, should argv have been parsed */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->state = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case 'c':
			o->cell = optarg;
			break;
		case 't':
			o->tree = optarg;
			break;
		case 'C':
			o->commit = optarg;
			break;
		case 'S':
			o->commits = 1;
			break;
		case 'n':
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 1)
				return cmd_usage_error("results: --limit wants "
						       "a positive number, not "
						       "'%s'", optarg);
			o->limit = (size_t)v;
			break;
		case 'l':
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 1)
				return cmd_usage_error("results: --log wants "
						       "a run id, not '%s'",
						       optarg);
			o->log_id = v;
			break;
		case 'h':
			results_usage(stdout);
			return -1;
		case ':':
			return cmd_usage_error("results: %s needs an argument",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("results: unknown option '%s'; "
					       "see 'hvmatrix results --help'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error("results: unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

static int cmd_results_run(int argc, char **argv)
{
	struct results_opts o = { 0 };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct record_run *runs = NULL;
	struct record *r = NULL;
	char *state = NULL;
	size_t n = 0;
	int ret;

	ret = results_parse(&o, argc, argv);
	if (ret) {
		ret = ret < 0 ? EXIT_OK : ret;
		goto out;
	}
	state = record_state_dir(o.state);
	if (o.log_id) {
		ret = EXIT_OK;
		if (record_open(&r, state, &err) ||
		    print_log(r, o.log_id, &err)) {
			fprintf(stderr, "hvmatrix: %s\n", err.buf);
			ret = EXIT_ERROR;
		}
		if (fflush(stdout) == EOF) {
			perror("hvmatrix: stdout");
			ret = EXIT_ERROR;
		}
		goto out;
	}
	if (record_open(&r, state, &err) ||
	    record_list_runs(r, &runs, &n, &err)) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		ret = EXIT_ERROR;
		goto out;
	}
	if (o.commits)
		print_commits(&out, &o, runs, n);
	else if (o.json)
		print_json(&out, &o, runs, n);
	else
		print_table(&out, &o, runs, n);
	if (!out.len)
		strbuf_addf(&out, n ? "no runs match the filters in %s\n" :
			    "no runs recorded in %s\n", state);
	fwrite(out.buf, 1, out.len, stdout);
	ret = EXIT_OK;
	if (fflush(stdout) == EOF) {
		perror("hvmatrix: stdout");
		ret = EXIT_ERROR;
	}
out:
	record_runs_free(runs, n);
	record_close(r);
	free(state);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_results = {
	"results", "show recorded verdicts from the store", cmd_results_run
};
