/*
 * dashboard-store: the synthetic store bench/dashboard.sh publishes. It
 * records COMMITS commits of one tree and a matrix of CELLS cells through
 * the real record API (record_queue_add, record_add_run, logfile.c for the
 * logs), with a known mix of classes: a regression fixed later, an open
 * one, a flaky cell, BLOCKED builds, ERROR runs, SKIP cells. Every FAIL,
 * ERROR and BLOCKED run, and every run of the newest 10 commits, has a
 * zstd-compressed console log; the other PASS runs have none (a real farm
 * logs every run, but a log page is rendered once in a run's life, so a
 * steady-state publish never renders old logs again).
 *
 *   dashboard-store STATE COMMITS CELLS       build the store
 *   dashboard-store --add STATE CELLS         one more commit, every cell
 *
 * Only for benchmarks: writes with synchronous=OFF (the runs table and
 * what it holds are the real ones; only the fsync per run is skipped, or
 * 400,000 runs would take an hour to record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/logfile.h"
#include "store/record.h"
#include "store/record-priv.h"
#include "judge/verdict.h"
#include "lib/xmalloc.h"

#define TREE "bench"
#define BUILD "tiny"

static void fail(const char *what, const struct strbuf *err)
{
	fprintf(stderr, "dashboard-store: %s: %s\n", what, err->buf);
	exit(1);
}

static char *commit_id(unsigned i)
{
	return xstrfmt("%08x%08x%024x", i * 2654435761u, i, i);
}

/* What cell c gives on commit i of n, and why. */
static enum verdict verdict_of(unsigned i, unsigned n, unsigned c,
			       unsigned k, const char **reason,
			       const char **line)
{
	*reason = "the payload's marker reached the console";
	*line = "HVMATRIX-OK nonce=0123456789abcdef";
	if (i % 997 == 500) {
		*reason = "the build failed";
		*line = "drivers/foo.c:12:1: error: expected ';' before '}'";
		return VERDICT_BLOCKED;
	}
	if (c == 3 || c == 4) {
		*reason = "KVM does not work on this host";
		*line = "";
		return VERDICT_SKIP;
	}
	if (c == 7 && i >= n / 2 && i < n / 2 + 50) {
		*reason = "kernel panic";
		*line = "[    1.234567] Kernel panic - not syncing: VMware";
		return VERDICT_FAIL;
	}
	if (c == 12 && i >= n - 20) {
		*reason = "kernel oops";
		*line = "[    0.912345] BUG: unable to handle page fault";
		return VERDICT_FAIL;
	}
	if (c == 20 && i % 101 == 7 && k == 1) {
		*reason = "no console output for 30 s";
		*line = "";
		return VERDICT_FAIL;
	}
	if (c == 30 && i % 211 == 3) {
		*reason = "QEMU exited with status 1";
		*line = "qemu-system-x86_64: -machine pc-9.9: unsupported";
		return VERDICT_ERROR;
	}
	return VERDICT_PASS;
}

static char *write_log(const char *state, unsigned i, unsigned c,
		       unsigned k, const char *line)
{
	struct logfile_writer *w;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	char *path = xstrfmt("%s/logs/bench-%u-%u-%u.log", state, i, c, k);
	char *zst = NULL;
	unsigned l;

	for (l = 0; l < 200; l++)
		strbuf_addf(&text, "[    0.%06u] bench console line %u of "
			    "commit %u <cell %u>\n", l * 1000, l, i, c);
	strbuf_addf(&text, "%s\n[    1.300000] after the decisive line\n",
		    line);
	if (logfile_create(&w, path, 0, &err) ||
	    logfile_write(w, text.buf, text.len, &err) ||
	    logfile_finish(w, NULL, 0, &err) ||
	    logfile_compress(path, &zst, &err))
		fail(path, &err);
	free(path);
	strbuf_release(&text);
	return zst;
}

static void add_runs(struct record *r, const char *state, unsigned i,
		     unsigned n, unsigned cells, const char *id, double t)
{
	struct strbuf err = STRBUF_INIT;
	unsigned c, k;

	for (c = 0; c < cells; c++) {
		unsigned runs = c == 20 && i % 101 == 7 ? 2 : 1;

		if (c == 7 && i == n / 2)
			runs = 3;	/* confirmed */
		if (c == 12 && i == n - 20)
			runs = 3;
		for (k = 0; k < runs; k++) {
			struct record_run run = { 0 };
			const char *reason, *line;
			char *cell = xstrfmt("cell-%02u", c);
			char *kid = xstrfmt("%040x", i);
			char *log = NULL;
			char *nonce = xstrfmt("%08x%08x", i, c * 8 + k);
			char *cmd = xstrfmt("qemu-system-x86_64 -accel tcg "
					    "-machine pc -cpu max -m 256 "
					    "-kernel /bench/%u/bzImage -append "
					    "'console=ttyS0 hvmatrix.nonce=%s'",
					    i, nonce);

			run.verdict = verdict_of(i, n, c, k, &reason, &line);
			if ((run.verdict != VERDICT_PASS &&
			     run.verdict != VERDICT_SKIP) || i + 10 >= n)
				log = write_log(state, i, c, k, line);
			run.batch = (char *)"bench";
			run.kernel_id = run.verdict == VERDICT_BLOCKED ?
					(char *)"" : kid;
			run.kernel_path = (char *)"/bench/bzImage";
			run.kernel_version = (char *)"6.1.0-bench";
			run.cell = cell;
			run.matrix_path = (char *)"";
			run.reason = (char *)reason;
			run.line = (char *)line;
			run.started_at = t + c + k;
			run.duration_s = 2.5;
			run.log_path = log ? log : (char *)"";
			run.nonce = nonce;
			run.tree = (char *)TREE;
			run.commit_id = (char *)id;
			run.build = (char *)BUILD;
			run.purpose = (char *)(k ? "confirm" : "test");
			run.cmdline = cmd;
			if (record_add_run(r, &run, &err))
				fail("record_add_run", &err);
			free(cell);
			free(kid);
			free(log);
			free(nonce);
			free(cmd);
		}
	}
	strbuf_release(&err);
}

static void add_commits(struct record *r, const char *state, unsigned from,
			unsigned to, unsigned n, unsigned cells)
{
	struct strbuf err = STRBUF_INIT;
	struct record_commit *v = xcalloc(to - from, sizeof(*v));
	char *builds[] = { (char *)BUILD };
	unsigned i;

	for (i = from; i < to; i++) {
		struct record_commit *c = &v[i - from];

		c->id = commit_id(i);
		c->subject = i == to - 1 ?
			xstrfmt("bench: commit %u <img src=x onerror="
				"alert(1)>\"'", i) :
			xstrfmt("bench: commit %u", i);
		c->author = xstrdup("Bench <bench@example.org>");
		c->time = 1700000000 + (int64_t)i * 60;
		c->parent = i ? commit_id(i - 1) : xstrdup("");
	}
	if (record_queue_add(r, TREE, v, to - from, builds, 1, 1, 0,
			     RECORD_ENQUEUE_NO_JOBS, NULL, &err))
		fail("record_queue_add", &err);
	if (record_queue_set_tip(r, TREE, "master", v[to - from - 1].id, &err))
		fail("record_queue_set_tip", &err);
	for (i = from; i < to; i++)
		add_runs(r, state, i, n, cells, v[i - from].id,
			 1700000000.0 + i * 60.0);
	record_history_commits_free(v, to - from);
	strbuf_release(&err);
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	struct record_totals t;
	int add = argc > 1 && !strcmp(argv[1], "--add");
	unsigned n, cells;
	const char *state;

	if ((add && argc != 4) || (!add && argc != 4)) {
		fprintf(stderr, "usage: dashboard-store STATE COMMITS CELLS\n"
			"       dashboard-store --add STATE CELLS\n");
		return 2;
	}
	state = argv[add ? 2 : 1];
	cells = (unsigned)atoi(argv[3]);
	if (record_open(&r, state, &err))
		fail(state, &err);
	if (record_exec(r, "PRAGMA synchronous=OFF", "bench", &err))
		fail(state, &err);
	{
		char *logs = xstrfmt("%s/logs", state);

		fsutil_mkdir_p(logs, 0755);
		free(logs);
	}
	if (add) {
		if (record_query_count_runs(r, &t, &err))
			fail(state, &err);
		n = (unsigned)t.rows;
		add_commits(r, state, n, n + 1, n + 1, cells);
	} else {
		n = (unsigned)atoi(argv[2]);
		add_commits(r, state, 0, n, n, cells);
	}
	record_close(r);
	strbuf_release(&err);
	return 0;
}
