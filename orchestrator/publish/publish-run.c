/*
 * publish-run: the page of a run with a log: its details, the exact
 * command line (copyable) and reproduce.sh beside it, the console log
 * read from its compressed form with an anchor per line and the decisive
 * line highlighted (#decisive). A log page is streamed, never whole in
 * memory. Its key is what it shows that can change (the cell's class on
 * the commit, the commit's subject): a run's own data never changes, so
 * a log is rendered again only when its class does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/logfile.h"
#include "publish/publish-priv.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"

#define LINE_MAX_BYTES 65536	/* a log line longer than this is split */

/*
 * Is `want` (the judge's line) the log's line `got` (len bytes)? The judge
 * reads a line without its terminal escapes and control bytes (judge.c's
 * judge_feed), so the raw line is read the same way before comparing.
 */
static int same_line(const char *got, size_t len, const char *want)
{
	size_t wl = strlen(want), i, k = 0;
	int esc = 0;	/* 1 after ESC, 2 in CSI, 3 in OSC, 4 one more */

	if (!wl)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)got[i];

		switch (esc) {
		case 1:
			esc = c == '[' ? 2 : c == ']' ? 3 :
			      (c == '(' || c == ')') ? 4 : 0;
			continue;
		case 2:
			if (c >= 0x40 && c <= 0x7e)
				esc = 0;
			continue;
		case 3:
			if (c == 0x07)
				esc = 0;
			else if (c == 0x1b)
				esc = 4;
			continue;
		case 4:
			esc = 0;
			continue;
		}
		if (c == 0x1b) {
			esc = 1;
		} else if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
			if (k >= wl || (unsigned char)want[k] != c)
				return 0;
			k++;
		}
	}
	return k == wl;
}

static void flush_line(struct strbuf *out, struct strbuf *line,
		       unsigned long no, const char *decisive, int *found)
{
	int hit = !*found && same_line(line->buf, line->len, decisive);

	if (hit)
		*found = 1;
	strbuf_addstr(out, "<span id=\"L");
	publish_html_num(out, (int64_t)no);
	strbuf_addstr(out, hit ? "\" class=\"decisive\"><a class=\"ln\" "
		      "href=\"#L" : "\"><a class=\"ln\" href=\"#L");
	publish_html_num(out, (int64_t)no);
	strbuf_addstr(out, "\">");
	publish_html_num(out, (int64_t)no);
	strbuf_addstr(out, hit ? "</a><span id=\"decisive\"></span>" : "</a>");
	strbuf_add_clean(out, line->buf, line->len, STRBUF_CLEAN_HTML);
	strbuf_addstr(out, "</span>\n");
	strbuf_reset(line);
}

/* The reproducer: the recorded command line, else one made from the
 * cell and commit (and said so). */
static void reproducer(const struct record_run *run, struct strbuf *cmd,
		       int *made)
{
	*made = 0;
	if (run->cmdline && *run->cmdline) {
		strbuf_addstr(cmd, run->cmdline);
		return;
	}
	*made = 1;
	if (*run->commit_id) {
		char *argv[] = { (char *)"hvmatrix", (char *)"run",
				 (char *)"--tree", run->tree,
				 (char *)"--rev", run->commit_id, NULL };

		spawn_argv_quote(argv, cmd);
	} else {
		char *argv[] = { (char *)"hvmatrix", (char *)"boot",
				 (char *)"--kernel", run->kernel_path,
				 (char *)"--cell", run->cell,
				 (char *)"--matrix", run->matrix_path, NULL };

		if (!*run->matrix_path)
			argv[6] = NULL;
		spawn_argv_quote(argv, cmd);
	}
}

/*
 * The next word of a shell-quoted command line (spawn_argv_quote's:
 * bare, '...' with '\'' for a quote, or "..." and \-escapes) into word;
 * returns where it ended, or NULL at the end of the line.
 */
static const char *next_word(const char *p, struct strbuf *word)
{
	strbuf_reset(word);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	while (*p && *p != ' ' && *p != '\t') {
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				strbuf_addch(word, *p);
			p += !!*p;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] &&
				    strchr("\"\\$`", p[1]))
					p++;
				strbuf_addch(word, *p);
			}
			p += !!*p;
		} else {
			if (*p == '\\' && p[1])
				p++;
			strbuf_addch(word, *p++);
		}
	}
	return p;
}

/*
 * The command line for reproduce.sh: each word cleaned of escape
 * sequences and controls (shown as their pictures) and then quoted again.
 * Cleaning the quoted line instead would let an argument's ESC [ swallow
 * the quote that closes it, and the rest of the argument run as shell.
 */
static void add_clean_command(struct strbuf *sh, const char *line)
{
	struct strbuf word = STRBUF_INIT, clean = STRBUF_INIT;
	char *argv[2] = { NULL, NULL };
	const char *p = line;
	int first = 1;

	while ((p = next_word(p, &word))) {
		strbuf_reset(&clean);
		strbuf_add_clean(&clean, word.buf, word.len,
				 STRBUF_CLEAN_LINE);
		if (!first)
			strbuf_addch(sh, ' ');
		first = 0;
		/* An empty word must stay a word: spawn_argv_quote gives ''. */
		argv[0] = clean.buf;
		spawn_argv_quote(argv, sh);
	}
	strbuf_release(&word);
	strbuf_release(&clean);
}

/* body to f, when it has grown: a log page is streamed, never whole. */
static void spill(struct strbuf *body, FILE *f, size_t over)
{
	if (body->len >= over) {
		fwrite(body->buf, 1, body->len, f);
		strbuf_reset(body);
	}
}

/* The console log as lines with anchors; the decisive one marked. */
static void add_log(struct strbuf *body, FILE *f, struct logfile_reader *rd,
		    const char *decisive)
{
	struct strbuf line = STRBUF_INIT, rerr = STRBUF_INIT;
	static char buf[65536];
	unsigned long no = 0;
	int found = 0;
	ssize_t got;

	strbuf_addstr(body, "<pre class=\"log\">");
	for (;;) {
		char *p, *nl;

		got = logfile_read(rd, buf, sizeof(buf), &rerr);
		if (got <= 0)
			break;
		for (p = buf; p < buf + got; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(buf + got - p));
			if (!nl) {
				strbuf_add(&line, p, (size_t)(buf + got - p));
				if (line.len > LINE_MAX_BYTES)
					flush_line(body, &line, ++no,
						   decisive, &found);
				break;
			}
			strbuf_add(&line, p, (size_t)(nl - p));
			flush_line(body, &line, ++no, decisive, &found);
			spill(body, f, 1 << 16);
		}
	}
	if (line.len)
		flush_line(body, &line, ++no, decisive, &found);
	strbuf_addstr(body, "</pre>\n");
	/* What a damaged log still gave is worth showing, with why. */
	if (got < 0) {
		strbuf_addstr(body, "<p class=\"hint\">hvmatrix: ");
		publish_html_line(body, rerr.buf);
		strbuf_addstr(body, "</p>\n");
	}
	if (*decisive && !found)
		strbuf_addstr(body, "<p class=\"hint\" id=\"decisive\">The "
			      "decisive line is not in the kept log (cut by "
			      "log_limit).</p>\n");
	strbuf_release(&line);
	strbuf_release(&rerr);
}

static void kv(struct strbuf *b, const char *key)
{
	strbuf_addf(b, "</td></tr><tr><th>%s</th><td>", key);
}

/*
 * The probes' results and the fingerprint (schema 8), when the run has
 * them: what a PASS means beyond "it booted", and which probe made a
 * FAIL. Every value is the guest's and is escaped.
 */
static int add_probes(struct strbuf *b, struct record *r,
		      struct record_run *run, struct strbuf *err)
{
	size_t i;

	if (record_query_probes(r, run, err) < 0)
		return -1;
	if (run->n_probes) {
		strbuf_addstr(b, "<h3>Probes</h3>\n<table class=\"kv\">"
			      "<tr><th>probe</th><th>result</th>"
			      "<th>seconds</th><th>detail</th></tr>\n");
		for (i = 0; i < run->n_probes; i++) {
			const struct record_probe *p = &run->probes[i];
			int bad = strcmp(p->result, "pass") &&
				  strcmp(p->result, "skip");

			strbuf_addstr(b, "<tr><td>");
			strbuf_add_html(b, p->name);
			strbuf_addf(b, "</td><td>%s", bad ? "<b>" : "");
			strbuf_add_html(b, p->result);
			strbuf_addf(b, "%s</td><td>%.1f</td><td>",
				    bad ? "</b>" : "", p->seconds);
			strbuf_add_html(b, p->detail);
			strbuf_addstr(b, "</td></tr>\n");
		}
		strbuf_addstr(b, "</table>\n");
	}
	if (run->fingerprint && *run->fingerprint) {
		strbuf_addstr(b, "<h3>Fingerprint</h3>\n<p class=\"hint\">"
			      "What the kernel engaged of the interface "
			      "(compared with the parent commit's for "
			      "drift).</p>\n<pre class=\"cmdline\">");
		strbuf_add_html(b, run->fingerprint);
		strbuf_addstr(b, "</pre>\n");
	}
	return 0;
}

/*
 * The run page (and reproduce.sh) of input run i, which has a log. 1
 * written or there already, 0 no log to show, -1 + err.
 */
int publish_run_page(struct site *s, size_t i, const struct row *row,
		     const struct look *l, struct strbuf *err)
{
	struct strbuf body = STRBUF_INIT, out = STRBUF_INIT, cmd = STRBUF_INIT;
	struct strbuf rerr = STRBUF_INIT, sh = STRBUF_INIT;
	struct logfile_reader *rd = NULL;
	char page[64], shpage[64], *title = NULL, *path = NULL, *tmp = NULL;
	char *mark;
	FILE *f = NULL;
	int made, rc, ret = -1;
	uint64_t key = strmap_fnv_str(STRMAP_FNV0, PUBLISH_SALT);
	struct record_run runv = { 0 }, *run = &runv;
	int have_run = 0;

	key = strmap_fnv_str(key, l->name);
	key = strmap_fnv_str(key, row->subject);
	snprintf(page, sizeof(page), "run/%lld.html",
		 (long long)s->in.runs[i].id);
	snprintf(shpage, sizeof(shpage), "run/%lld.sh",
		 (long long)s->in.runs[i].id);
	if (publish_site_known(s, page, key)) {
		publish_site_fresh(s, page, key);
		publish_site_fresh(s, shpage, key);
		return 1;
	}
	/* The page shows every column of the run: read it whole. */
	rc = record_query_run(s->r, s->in.runs[i].id, run, err);
	if (rc <= 0)
		return rc;
	have_run = 1;
	/* A missing or unreadable log is no page, not a broken site. */
	if (logfile_open_read(&rd, run->log_path, &rerr) < 0) {
		ret = 0;
		goto out;
	}
	reproducer(run, &cmd, &made);
	publish_html_nav(&body, "../");
	strbuf_addf(&body, "<h2>Run %lld: <span class=\"m %s\">%s</span> %s"
		    "</h2>\n<table class=\"kv\"><tr><th>Cell</th><td>",
		    (long long)run->id, l->css, l->code,
		    verdict_name(run->verdict));
	publish_html_cell_link(&body, "../", run->cell);
	kv(&body, *row->commit ? "Commit" : "Kernel");
	publish_html_row_link(&body, "../", row, 1);
	kv(&body, "Class of the cell");
	strbuf_addstr(&body, l->words);
	kv(&body, "Reason");
	strbuf_add_html(&body, run->reason);
	kv(&body, "Purpose");
	strbuf_add_html(&body, run->purpose);
	if (run->reused_from) {
		/* Nothing booted: the verdict, its log and probes are the
		 * original run's, whose page this links. */
		kv(&body, "Reused from");
		strbuf_addf(&body, "<a class=\"ru\" href=\"%lld.html\">run "
			    "%lld</a> (the same image in the same cell, "
			    "hypervisor build and payload: not booted)",
			    (long long)run->reused_from,
			    (long long)run->reused_from);
	}
	kv(&body, "Started (UTC)");
	strbuf_add_utc(&body, run->started_at);
	strbuf_addf(&body, ", %.1f s", run->duration_s);
	kv(&body, "Kernel image");
	strbuf_add_html(&body, run->kernel_path);
	strbuf_addstr(&body, " ");
	strbuf_add_html(&body, run->kernel_version);
	kv(&body, "Decisive line");
	if (*run->line) {
		strbuf_addstr(&body, "<a href=\"#decisive\"><code "
			      "class=\"line\">");
		publish_html_line(&body, run->line);
		strbuf_addstr(&body, "</code></a>");
	} else {
		strbuf_addstr(&body, "none");
	}
	strbuf_addstr(&body, "</td></tr></table>\n");
	if (add_probes(&body, s->r, run, err) < 0)
		goto out;
	strbuf_addstr(&body, "<h3>Command line</h3>\n");
	if (made)
		strbuf_addstr(&body, "<p class=\"hint\">The store has no "
			      "command line for this run (recorded before "
			      "schema 4, or it booted nothing): this one is "
			      "made from its cell and commit.</p>\n");
	strbuf_addstr(&body, "<pre class=\"cmdline\" id=\"cmdline\">");
	strbuf_add_html(&body, cmd.buf);
	strbuf_addf(&body, "</pre>\n<p><a href=\"%lld.sh\">reproduce.sh</a> "
		    "(the kernel and initrd paths are the farm's)</p>\n"
		    "<h3>Console log</h3>\n", (long long)run->id);
	title = xstrfmt("run %lld %s", (long long)run->id, run->cell);
	publish_html_wrap(s, &out, "../", title, "\001");
	path = xstrfmt("%s/%s", s->out, page);
	tmp = xstrfmt("%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		strbuf_addf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fchmod(fileno(f), 0644);	/* served, whatever the umask */
	mark = strchr(out.buf, '\001');
	fwrite(out.buf, 1, (size_t)(mark - out.buf), f);
	add_log(&body, f, rd, run->line);
	spill(&body, f, 0);
	fputs(mark + 1, f);
	rc = ferror(f);
	if (fclose(f) == EOF || rc || rename(tmp, path) < 0) {
		f = NULL;
		strbuf_addf(err, "%s: cannot write", path);
		unlink(tmp);
		goto out;
	}
	f = NULL;
	s->written++;
	/* Valid UTF-8, one line each, like every page: a name or path
	 * with other bytes is shown, not run. */
	strbuf_addf(&sh, "#!/bin/sh\n# hvmatrix run %lld: cell ",
		    (long long)run->id);
	strbuf_add_clean(&sh, run->cell, strlen(run->cell), STRBUF_CLEAN_LINE);
	strbuf_addf(&sh, ", %s ", *row->commit ? "commit" : "kernel");
	strbuf_add_clean(&sh, *row->commit ? row->commit : row->kernel,
			 strlen(*row->commit ? row->commit : row->kernel),
			 STRBUF_CLEAN_LINE);
	strbuf_addf(&sh, ", verdict %s.\n# The kernel and initrd paths are "
		    "the farm's: copy or rebuild them first.\n%s",
		    verdict_name(run->verdict), made ? "" : "exec ");
	add_clean_command(&sh, cmd.buf);
	strbuf_addch(&sh, '\n');
	if (publish_site_write(s, shpage, sh.buf, sh.len, err) < 0)
		goto out;
	publish_site_fresh(s, page, key);
	publish_site_fresh(s, shpage, key);
	ret = 1;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	free(path);
	free(tmp);
	if (rd)
		logfile_close_read(rd);
	strbuf_release(&body);
	strbuf_release(&out);
	strbuf_release(&cmd);
	strbuf_release(&rerr);
	strbuf_release(&sh);
	free(title);
	if (have_run)
		record_run_release(run);
	return ret;
}

