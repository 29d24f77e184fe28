/*
 * test-tool: the one helper binary of the shell tests (in the manner of
 * git's t/helper/test-tool.c): each subcommand does what a test needs and
 * the CLI must not offer, through the project's own API.
 *
 *   test-tool fill-store STATE   t-hygiene.sh's runs: reasons, deciding
 *                                lines and console logs full of every
 *                                kind of bad byte, through the real store
 *                                API and a log written by logfile.c
 *   test-tool signature LINE     the failure signature of a deciding
 *                                line, as compare/ groups regressions
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare/signature.h"
#include "lib/logfile.h"
#include "store/record.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

/* What a confused guest may print: every kind of bad byte. */
static const char console[] =
	"Linux version 6.1.0 \xff\xfe overlong \xc0\xaf surrogate "
	"\xed\xa0\x80 cut \xe2\x82\r\n"
	"\x1b[1;31mred alert\x1b[0m \x1b]0;title\x07 NUL\0here BEL\x07 "
	"DEL\x7f C1\xc2\x9b" "2J <script>alert(1)</script> & \"q\"\r\n";

static void die_on(int rc, const char *what, struct strbuf *err)
{
	if (rc < 0) {
		fprintf(stderr, "test-hygiene: %s: %s\n", what, err->buf);
		exit(1);
	}
}

/* A log of `lines` console texts through logfile.c, capped at limit,
 * compressed when asked. */
static char *write_log(const char *path, int lines, size_t limit,
		       int compress)
{
	static const char last_line[] = "the very last line \xff\n";
	static const char trailer[] = "\n--- hvmatrix: nasty: FAIL: \xff\n";
	struct strbuf err = STRBUF_INIT;
	struct logfile_writer *w;
	char *zst = NULL;
	int i;

	die_on(logfile_create(&w, path, limit, &err), "log", &err);
	for (i = 0; i < lines; i++) {
		/* Numbered, with noise: zstd cannot fold it all into one
		 * block. */
		char *n = xstrfmt("%d %016llx ", i, (unsigned long long)i *
				  0x9e3779b97f4a7c15ull);

		die_on(logfile_write(w, n, strlen(n), &err), "log", &err);
		die_on(logfile_write(w, console, sizeof(console) - 1, &err),
		       "log", &err);
		free(n);
	}
	die_on(logfile_write(w, last_line, sizeof(last_line) - 1, &err),
	       "log", &err);
	die_on(logfile_finish(w, trailer, sizeof(trailer) - 1, &err), "log",
	       &err);
	if (!compress)
		return xstrdup(path);
	die_on(logfile_compress(path, &zst, &err), "compress", &err);
	strbuf_release(&err);
	return zst;
}

static int fill_store(const char *state)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };
	struct record *r;
	struct stat st;
	char *logdir = xstrfmt("%s/logs", state);
	char *p;

	die_on(record_open(&r, state, &err), "store", &err);
	run.batch = "hygiene-batch";
	run.kernel_id = "0123456789abcdef0123456789abcdef01234567";
	run.kernel_path = "/k/bzImage-\xff";
	run.kernel_version = "6.1.0-\xff\x1b[31m-evil (gcc \xc0\xaf) #1";
	run.matrix_path = "/m/default.yaml";
	run.reason = "kernel panic \xe2\x82 \x1b[1mbold\x1b[0m \xed\xa0\x80";
	run.line = "Kernel panic - not syncing: \xff\xfe \x1b[31mred\x1b[0m "
		   "\x01\x7f end";

	/* A capped, compressed log: the form every run now has. */
	run.cell = "nasty";
	run.verdict = VERDICT_FAIL;
	run.started_at = 1000;
	run.duration_s = 1.5;
	run.nonce = "hygiene-1";
	p = xstrfmt("%s/nasty.log", logdir);
	run.log_path = write_log(p, 200, 8192, 1);
	free(p);
	die_on(record_add_run(r, &run, &err), "record", &err);
	free(run.log_path);

	/* A plain log, as runs recorded before compression have. */
	run.cell = "plain";
	run.verdict = VERDICT_PASS;
	run.reason = "marker seen \xff";
	run.line = "HVMATRIX-OK nonce=hygiene-2 \x1b[0m\xc3";
	run.started_at = 1001;
	run.nonce = "hygiene-2";
	p = xstrfmt("%s/plain.log", logdir);
	run.log_path = write_log(p, 200, 0, 0);
	free(p);
	die_on(record_add_run(r, &run, &err), "record", &err);
	free(run.log_path);

	/* A compressed log cut short (a full disk, a copy broken off),
	 * long enough for zstd blocks before the cut. */
	run.cell = "broken";
	run.verdict = VERDICT_ERROR;
	run.reason = "log cut short";
	run.line = "";
	run.started_at = 1002;
	run.nonce = "hygiene-3";
	p = xstrfmt("%s/broken.log", logdir);
	run.log_path = write_log(p, 5000, 0, 1);
	free(p);
	if (stat(run.log_path, &st) < 0 ||
	    truncate(run.log_path, st.st_size / 2) < 0) {
		perror(run.log_path);
		return 1;
	}
	die_on(record_add_run(r, &run, &err), "record", &err);
	free(run.log_path);

	record_close(r);
	free(logdir);
	strbuf_release(&err);
	return 0;
}

static int signature(const char *line)
{
	char *sig = signature_of(line);

	printf("%s\n", sig);
	free(sig);
	return 0;
}

static const struct {
	const char *name, *args;
	int argc;
	int (*fn)(const char *arg);
} tools[] = {
	{ "fill-store", "STATE", 1, fill_store },
	{ "signature", "LINE", 1, signature },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc >= 2 && i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!strcmp(argv[1], tools[i].name) &&
		    argc == 2 + tools[i].argc)
			return tools[i].fn(argv[2]);
	fprintf(stderr, "usage: test-tool COMMAND ARGS\n");
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		fprintf(stderr, "  test-tool %s %s\n", tools[i].name,
			tools[i].args);
	return 2;
}
