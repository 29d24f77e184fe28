/*
 * cmd-report: `hvmatrix report ID`, one regression as a plain-text mail
 * in the style kernel developers get from the 0-day robot and syzbot:
 * RFC 5322 headers, the first bad commit, the cell and its hypervisor
 * release, the decisive console lines, where the log is, how to reproduce
 * it, and the Reported-by: tag to put in the fix. It prints the mail and
 * sends nothing (pipe it to sendmail -t, or to git's tools). Read-only.
 *
 * Header values come from the store (commit subjects, authors) and the
 * matrix's `report:` mapping: control characters never reach a header,
 * and non-ASCII text is written as RFC 2047 encoded words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-argv.h"
#include "cli/cmd.h"
#include "export/kcidb.h"
#include "lib/logfile.h"
#include "compare/regressions.h"
#include "lib/mail.h"
#include "lib/report.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"

#define CONTEXT_BEFORE 12	/* console lines before the decisive one */
#define CONTEXT_AFTER 4
#define TAIL_LINES 20		/* without the decisive line in the log */
#define LOG_READ_MAX (64u << 20)

static const char usage_text[] =
"usage: hvmatrix report ID [--state DIR] [--matrix FILE]\n"
"\n"
"Print regression ID as a plain-text mail for the first bad commit's\n"
"author, in the style of the 0-day robot and syzbot: RFC 5322 headers\n"
"(From, To, Subject, Date, Message-ID, an empty In-Reply-To), the first\n"
"bad commit, the cell and its hypervisor release, the decisive console\n"
"lines, a link to the log, the reproducer and a Reported-by: tag. It\n"
"sends nothing: pipe it to `sendmail -t`.\n"
"\n"
"ID is a regression's id as `hvmatrix regressions` (--json: \"id\")\n"
"prints it, TREE:BUILD:CELL:FIRSTBAD12, or any unique prefix of one.\n"
"\n"
"The matrix's optional `report:` mapping sets what the mail says:\n"
"  from: \"hvmatrix <ci@example.org>\"   the sender (default hvmatrix@HOST)\n"
"  to: \"kvm@vger.kernel.org\"           the recipients (default: the author)\n"
"  reported_by: \"CI <ci@example.org>\"  the Reported-by: tag (default: from)\n"
"  dashboard_url: https://ci.example.org/hvmatrix   the published site, for\n"
"                                      the log's link (default: its path)\n"
"\n"
"  --state DIR     state directory (default $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --matrix FILE   the matrix (default $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml)\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 printed, 2 usage or no such regression (or an ambiguous prefix),\n"
"3 the store cannot be read.\n";

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				     "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
				      "Jun", "Jul", "Aug", "Sep", "Oct",
				      "Nov", "Dec" };

/* RFC 5322 date-time in UTC, in English whatever the locale. */
static void add_date(struct strbuf *sb, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strbuf_addf(sb, "%s, %02d %s %04d %02d:%02d:%02d +0000",
		    wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* One line of header-safe text: no controls, no line breaks. */
static char *clean_line(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;

	cmd_add_printable(&sb, s, max);
	return strbuf_detach(&sb, NULL);
}

/* A dropped address, named on stderr the way a terminal can show it. */
static void note_dropped(const char *what, const char *addr)
{
	char *shown = clean_line(addr, 200);

	report_error("report: %s '%s' is not a valid address; left out",
		     what, shown);
	free(shown);
}

static void add_from(struct strbuf *out, const char *from)
{
	if (mail_add_mailbox(out, from) == 0)
		return;
	note_dropped("the sender", from);
	strbuf_addstr(out, "hvmatrix <hvmatrix@localhost>");
}

/*
 * The recipients: the matrix's `to:` list, else the first bad commit's
 * author as one mailbox (a ',' or '@' in a git author name stays in the
 * name, quoted), else the sender. An address that is not valid is left
 * out with a note on stderr.
 */
static void add_to(struct strbuf *out, const char *to, const char *author,
		   const char *from)
{
	struct strbuf dropped = STRBUF_INIT;
	char *line, *save = NULL, *who;
	size_t n = 0;

	if (to) {
		n = mail_add_list(out, to, &dropped);
		for (line = strtok_r(dropped.buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			note_dropped("the recipient", line);
	} else {
		who = clean_line(author, 200);
		if (*who && mail_add_mailbox(out, who) == 0)
			n = 1;
		else if (*who)
			note_dropped("the author", who);
		free(who);
	}
	if (!n && mail_add_mailbox(out, from) < 0)
		strbuf_addstr(out, "hvmatrix <hvmatrix@localhost>");
	strbuf_release(&dropped);
}

/* The domain of an address ("a@b.org", "Name <a@b.org>"), or NULL. */
static char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	size_t n;

	if (!at)
		return NULL;
	n = strcspn(at + 1, "> \t");
	return n ? xstrndup(at + 1, n) : NULL;
}

/* A msg-id's dot-atom: letters, digits, '-' and '_', the rest '-'. */
static void add_atom(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			 (*s >= '0' && *s <= '9') || *s == '-' || *s == '_';

		strbuf_addch(sb, ok ? *s : '-');
	}
}

/* The same for a domain, whose dots stay (never two in a row, none at
 * either end: a dot-atom's rule). */
static void add_domain(struct strbuf *sb, const char *s)
{
	size_t start = sb->len;

	for (; *s; s++) {
		if (*s != '.') {
			char one[2] = { *s, 0 };

			add_atom(sb, one);
		} else if (sb->len > start && sb->buf[sb->len - 1] != '.') {
			strbuf_addch(sb, '.');
		}
	}
	if (sb->len > start && sb->buf[sb->len - 1] == '.')
		strbuf_setlen(sb, sb->len - 1);
	if (sb->len == start)
		strbuf_addstr(sb, "localhost");
}

/* The regression whose id is id, or whose id alone starts with it. */
static const struct regression *find(const struct regressions *rs,
				     const char *id, int *exit_code)
{
	struct strbuf sb = STRBUF_INIT, list = STRBUF_INIT;
	const struct regression *hit = NULL;
	size_t i, n = 0, len = strlen(id);

	for (i = 0; i < rs->n; i++) {
		strbuf_reset(&sb);
		regression_id(&rs->v[i], &sb);
		if (!strcmp(sb.buf, id)) {
			hit = &rs->v[i];
			n = 1;
			break;
		}
		if (len && !strncmp(sb.buf, id, len)) {
			hit = &rs->v[i];
			n++;
			strbuf_addf(&list, "\n  %s (%s)", sb.buf,
				    regression_status_name(rs->v[i].status));
		}
	}
	if (n == 1) {
		*exit_code = -1;
	} else if (!n) {
		*exit_code = cmd_usage_error("report: no regression with id "
					     "'%s'; see 'hvmatrix regressions "
					     "--all'", id);
		hit = NULL;
	} else {
		*exit_code = cmd_usage_error("report: '%s' is the start of "
					     "%zu regressions' ids; give "
					     "more of one:%s", id, n,
					     list.buf);
		hit = NULL;
	}
	strbuf_release(&sb);
	strbuf_release(&list);
	return hit;
}

/*
 * The run to show: a FAIL of the first bad commit in the regression's
 * first cell, the oldest with the regression's decisive line if any.
 * 1 with *out set, 0 none, -1 + err.
 */
static int failing_run(struct record *r, const struct regression *g,
		       struct record_run *out, struct strbuf *err)
{
	struct record_run *runs = NULL;
	size_t n = 0, i, pick = (size_t)-1;
	int ret = 0;

	if (record_list_commit_runs(r, g->tree, g->first_bad.commit, &runs, &n,
				    err) < 0)
		return -1;
	for (i = n; i-- > 0;) {
		if (runs[i].verdict != VERDICT_FAIL ||
		    strcmp(runs[i].build, g->build) ||
		    strcmp(runs[i].cell, g->cells[0]))
			continue;
		if (pick == (size_t)-1)
			pick = i;
		if (g->line && !strcmp(runs[i].line, g->line)) {
			pick = i;
			break;
		}
	}
	if (pick != (size_t)-1) {
		*out = runs[pick];
		memset(&runs[pick], 0, sizeof(runs[pick]));
		ret = 1;
	}
	record_runs_free(runs, n);
	return ret;
}

static void add_indented(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf line = STRBUF_INIT;

	/* A serial console's CRs (and what they overwrite) are noise. */
	for (; len; s++, len--)
		if (*s != '\r')
			strbuf_addch(&line, *s);
	while (line.len && (line.buf[line.len - 1] == ' ' ||
			    line.buf[line.len - 1] == '\t'))
		strbuf_setlen(&line, line.len - 1);
	strbuf_addstr(sb, "    ");
	cmd_add_printable(sb, line.buf, 200);
	strbuf_addch(sb, '\n');
	strbuf_release(&line);
}

/*
 * The console lines around the decisive one (the judge's line), or the
 * log's last lines when it is not there (a silent hang).
 */
static void add_console(struct strbuf *sb, const struct record_run *run)
{
	struct strbuf log = STRBUF_INIT, err = STRBUF_INIT;
	const char **starts = NULL;
	size_t n = 0, alloc = 0, i, at = (size_t)-1, from, to;
	const char *p, *end;

	if (logfile_read_all(run->log_path, LOG_READ_MAX, &log, &err) < 0) {
		strbuf_addstr(sb, "    (the console log cannot be read: ");
		cmd_add_printable(sb, err.buf, 200);
		strbuf_addstr(sb, ")\n");
		goto out;
	}
	end = log.buf + log.len;
	for (p = log.buf; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		ALLOC_GROW(starts, n + 2, alloc);
		starts[n++] = p;
		p = nl ? nl + 1 : end;
	}
	if (!n)
		goto out;
	starts[n] = end;
	for (i = 0; *run->line && i < n; i++) {
		size_t len = (size_t)(starts[i + 1] - starts[i]);
		char *line = xstrndup(starts[i], len);
		int hit = strstr(line, run->line) != NULL;

		free(line);
		if (hit) {
			at = i;
			break;
		}
	}
	if (at == (size_t)-1) {
		from = n > TAIL_LINES ? n - TAIL_LINES : 0;
		to = n;
	} else {
		from = at > CONTEXT_BEFORE ? at - CONTEXT_BEFORE : 0;
		to = at + 1 + CONTEXT_AFTER < n ? at + 1 + CONTEXT_AFTER : n;
	}
	for (i = from; i < to; i++) {
		size_t len = (size_t)(starts[i + 1] - starts[i]);

		if (len && starts[i][len - 1] == '\n')
			len--;
		add_indented(sb, starts[i], len);
	}
out:
	free(starts);
	strbuf_release(&log);
	strbuf_release(&err);
}

/* Whether a revert of the culprit on the tip healed the broken cells. */
static void add_revert(struct strbuf *sb, const struct regression *g)
{
	struct strbuf words = STRBUF_INIT;

	regression_revert_words(g, &words);
	if (words.len) {
		strbuf_addstr(sb, "revert:    ");
		cmd_add_printable(sb, words.buf, 300);
		strbuf_addch(sb, '\n');
	}
	strbuf_release(&words);
}

static void add_ref(struct strbuf *sb, const char *what,
		    const struct regression_ref *ref)
{
	strbuf_addf(sb, "%-10s %s", what, ref->commit);
	if (ref->subject && *ref->subject) {
		strbuf_addstr(sb, " (\"");
		cmd_add_printable(sb, ref->subject, 200);
		strbuf_addstr(sb, "\")");
	}
	strbuf_addch(sb, '\n');
}

static void add_reproducer(struct strbuf *sb, const struct cmd_ctx *ctx,
			   const struct matrix *m, const struct cell *c,
			   const struct record_run *run)
{
	const char *matrix = m ? m->path : ctx->matrix_path;
	char *boot[] = { "hvmatrix", "boot", "--matrix", (char *)matrix,
			 "--cell", run->cell, "--kernel", run->kernel_path,
			 NULL, NULL };

	strbuf_addstr(sb, "To reproduce (the kernel the farm built, booted in "
		      "the same cell):\n\n    ");
	spawn_argv_quote(boot, sb);
	strbuf_addstr(sb, "\n\nwith --dry-run it prints the QEMU command "
		      "line instead");
	if (c && c->backend == CELL_BACKEND_QEMU) {
		char **argv = boot_argv_qemu(c, run->kernel_path,
					     boot_default_initrd(), run->nonce,
					     NULL);

		strbuf_addf(sb, "; run %lld's was:\n\n    ",
			    (long long)run->id);
		spawn_argv_quote(argv, sb);
		strbuf_addch(sb, '\n');
		spawn_argv_free(argv);
	} else {
		strbuf_addstr(sb, ".\n");
	}
}

static int report_prepare(struct cmd_ctx *ctx)
{
	if (ctx->argc != 1)
		return cmd_usage_error("report: expected one regression id "
				       "(see 'hvmatrix regressions --all'); "
				       "see 'hvmatrix report --help'");
	return -1;
}

static int report_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, id = STRBUF_INIT;
	struct strbuf where = STRBUF_INIT;
	struct regressions rs = { 0 };
	struct record_run run = { 0 };
	struct matrix m = { 0 };
	const struct regression *g;
	const struct matrix_report *cfg = NULL;
	const struct cell *c = NULL;
	char host[256] = "localhost", *from = NULL, *domain = NULL, *qv = NULL;
	char *subject = NULL, *line = NULL;
	int have_m = 0, have_run = 0, ret = EXIT_ERROR, rc;
	size_t i;

	have_m = cmd_optional_matrix(ctx, &m);
	if (have_m < 0) {
		have_m = 0;
		ret = EXIT_USAGE;
		goto out;
	}
	if (have_m)
		cfg = &m.report;
	if (ctx->store &&
	    regressions_compute(ctx->store, have_m ? &m : NULL, &rs,
				&err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	g = find(&rs, ctx->argv[0], &rc);
	if (!g) {
		ret = rc;
		goto out;
	}
	if (!g->first_bad.commit) {
		ret = cmd_usage_error("report: regression '%s' has no first "
				      "bad commit (%s) to report",
				      ctx->argv[0],
				      regression_status_name(g->status));
		goto out;
	}
	regression_id(g, &id);
	rc = failing_run(ctx->store, g, &run, &err);
	if (rc < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	have_run = rc;
	if (have_m)
		c = matrix_find(&m, g->cells[0]);
	if (c)
		qv = kcidb_run_qemu(c, have_run ? run.qemu_version : NULL);

	gethostname(host, sizeof(host) - 1);
	from = cfg && cfg->from ? xstrdup(cfg->from) :
	       xstrfmt("hvmatrix <hvmatrix@%s>", host);
	domain = domain_of(from);
	line = clean_line(g->line && *g->line ? g->line : "boot failure",
			  100);
	subject = xstrfmt("[hvmatrix] %s %s: %s", g->tree, g->cells[0], line);

	/* ---- headers ---- */
	strbuf_addstr(&out, "From: ");
	add_from(&out, from);
	strbuf_addstr(&out, "\nTo: ");
	add_to(&out, cfg ? cfg->to : NULL, g->first_bad.author, from);
	strbuf_addstr(&out, "\nSubject: ");
	mail_add_text(&out, subject);
	strbuf_addstr(&out, "\nDate: ");
	add_date(&out, time(NULL));
	/* The same regression always has the same Message-ID: a second
	 * mail of it is a duplicate to the receiving tools, not news. */
	strbuf_addstr(&out, "\nMessage-ID: <hvmatrix.");
	add_atom(&out, g->tree);
	strbuf_addch(&out, '.');
	add_atom(&out, g->build);
	strbuf_addch(&out, '.');
	add_atom(&out, g->cells[0]);
	strbuf_addf(&out, ".%.12s@", g->first_bad.commit);
	add_domain(&out, domain ? domain : host);
	strbuf_addstr(&out, ">\nIn-Reply-To:\n"
		      "MIME-Version: 1.0\n"
		      "Content-Type: text/plain; charset=utf-8\n"
		      "Content-Transfer-Encoding: 8bit\n"
		      "X-Hvmatrix-Regression: ");
	strbuf_addstr(&out, id.buf);
	strbuf_addstr(&out, "\n\n");

	/* ---- body ---- */
	strbuf_addf(&out, "Hello,\n\nhvmatrix, a regression test farm for "
		    "Linux's hypervisor interfaces, found\nthat this commit "
		    "of %s (build config %s) no longer boots in cell\n%s",
		    g->tree, g->build, g->cells[0]);
	if (c) {
		strbuf_addstr(&out, ":\n    ");
		kcidb_describe_cell(c, qv, have_run ? run.xen_version :
				    NULL, &out);
	}
	strbuf_addstr(&out, "\n\n");
	add_ref(&out, "commit:", &g->first_bad);
	strbuf_addstr(&out, "author:    ");
	cmd_add_printable(&out, g->first_bad.author, 200);
	strbuf_addch(&out, '\n');
	if (g->last_good.commit)
		add_ref(&out, "last good:", &g->last_good);
	if (g->fixed_by.commit)
		add_ref(&out, "fixed by:", &g->fixed_by);
	strbuf_addf(&out, "status:    %s\n", regression_status_name(g->status));
	if (g->n_cells > 1) {
		strbuf_addstr(&out, "cells:     ");
		for (i = 0; i < g->n_cells; i++)
			strbuf_addf(&out, "%s%s", i ? ", " : "", g->cells[i]);
		strbuf_addch(&out, '\n');
	}
	strbuf_addf(&out, "runs:      %u of %u runs of the commit failed\n",
		    g->fail, g->total);
	if (g->bisected)
		strbuf_addf(&out, "bisected:  %u builds, %u boots%s\n",
			    g->builds, g->boots,
			    g->bisecting ? " (still running)" : "");
	add_revert(&out, g);
	strbuf_addstr(&out, "\nThe decisive console line:\n\n    ");
	cmd_add_printable(&out, g->line && *g->line ? g->line :
			  "(none: the console went silent)", 200);
	strbuf_addstr(&out, "\n\n");
	if (have_run) {
		strbuf_addf(&out, "The console of run %lld around it:\n\n",
			    (long long)run.id);
		add_console(&out, &run);
		if (cfg && cfg->dashboard_url) {
			size_t n = strlen(cfg->dashboard_url);

			strbuf_addf(&where, "%s%srun/%lld.html",
				    cfg->dashboard_url,
				    n && cfg->dashboard_url[n - 1] == '/' ?
				    "" : "/", (long long)run.id);
		} else {
			strbuf_addstr(&where, run.log_path);
		}
		strbuf_addstr(&out, "\nThe whole console log: ");
		cmd_add_printable(&out, where.buf, 4096);
		strbuf_addstr(&out, "\n\n");
		add_reproducer(&out, ctx, have_m ? &m : NULL, c, &run);
	} else {
		strbuf_addstr(&out, "(No failing run of it is recorded "
			      "anymore.)\n");
	}
	strbuf_addstr(&out, "\nIf you fix the issue, kindly add this tag to "
		      "the commit:\n\nReported-by: ");
	cmd_add_printable(&out, cfg && cfg->reported_by ? cfg->reported_by :
			  from, 200);
	strbuf_addf(&out, "\n\nThis regression's id: %s\n"
		    "(hvmatrix regressions --json; hvmatrix report %s)\n",
		    id.buf, id.buf);
	strbuf_addstr(&out, "\n-- \nhvmatrix\n");
	fputs(out.buf, stdout);
	ret = fflush(stdout) ? EXIT_ERROR : EXIT_OK;
out:
	regressions_release(&rs);
	if (have_run)
		record_run_release(&run);
	if (have_m)
		matrix_release(&m);
	free(from);
	free(domain);
	free(qv);
	free(subject);
	free(line);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&id);
	strbuf_release(&where);
	return ret;
}

const struct cmd cmd_report = {
	.name = "report",
	.summary = "one regression as a mail to the first bad commit's author",
	.usage = usage_text,
	.flags = CMD_READS_STORE | CMD_MATRIX,
	.shortopts = "",
	.options = NULL,
	.max_args = 1,
	.prepare = report_prepare,
	.exec = report_exec,
};
