/*
 * publish-pages: the pages about one thing: a commit (every cell, every
 * run: from the runs in memory, no query per page), a cell (its history
 * as spans of one class), the regressions (open first, then fixed and
 * flaky) and the hypervisor releases. Each is written only when what it
 * shows changed.
 */
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix.h"
#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

#define RELEASE_COLS 5		/* newest commits in the releases view */

/* A commit page's runs: by cell name, then id. */
static int cmp_run_cell(const void *a, const void *b, void *arg)
{
	const struct site *s = arg;
	const struct regressions_run *x = &s->in.runs[*(const uint32_t *)a];
	const struct regressions_run *y = &s->in.runs[*(const uint32_t *)b];
	int c = x->cell == y->cell ? 0 :
		strcmp(s->in.strs[x->cell], s->in.strs[y->cell]);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* The page of a row whose entries changed. */
int publish_commit_page(struct site *s, const struct row *row,
			struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	uint64_t key = strmap_fnv_str(STRMAP_FNV0, PUBLISH_SALT);
	uint32_t *runs;
	size_t n = row->n_runs, i;
	char *title = NULL;
	int ret;

	for (i = 0; i < row->n; i++)
		key = publish_entry_key(key, &s->ev[row->ev + i]);
	key = strmap_fnv_str(key, row->subject);
	if (publish_fresh(s, row->page, key))
		return 0;
	runs = xcalloc(n + 1, sizeof(*runs));
	memcpy(runs, &s->row_runs[row->run_at], n * sizeof(*runs));
	qsort_r(runs, n, sizeof(*runs), cmp_run_cell, s);
	strbuf_addstr(&b, "<nav class=\"nav\"><a href=\"../index.html\">"
		      "Overview</a> <a href=\"../regressions.html\">"
		      "Regressions</a></nav>\n<h2>");
	if (*row->commit) {
		strbuf_addstr(&b, "Commit ");
		publish_add_code(&b, row->commit);
		strbuf_addstr(&b, "</h2>\n<p class=\"subject big\">");
		strbuf_add_html(&b, row->subject);
		strbuf_addstr(&b, "</p>\n<p>");
		strbuf_add_html(&b, row->commit);
		strbuf_addstr(&b, " &middot; tree ");
		strbuf_add_html(&b, row->tree);
		strbuf_addstr(&b, " &middot; build ");
		strbuf_add_html(&b, row->build);
		strbuf_addstr(&b, " &middot; ");
		strbuf_add_html(&b, row->author);
		strbuf_addstr(&b, " &middot; ");
		strbuf_add_utc(&b, (double)row->time);
	} else {
		strbuf_addstr(&b, "Kernel image ");
		publish_add_code(&b, row->kernel);
		strbuf_addstr(&b, "</h2>\n<p>");
		strbuf_add_html(&b, row->kernel);
	}
	strbuf_addstr(&b, "</p>\n<table class=\"runs\"><thead><tr><th>Cell"
		      "</th><th>Class</th><th>Run</th><th>Verdict</th><th>"
		      "Purpose</th><th>Started (UTC)</th><th>Reason</th><th>"
		      "Decisive line</th></tr></thead><tbody>\n");
	for (i = 0; i < n; i++) {
		const struct regressions_run *run = &s->in.runs[runs[i]];
		const char *cell = s->in.strs[run->cell];
		const struct entry *e = publish_row_entry(s, row,
					s->cell_of[run->cell] - 1);
		const struct look *l = e ? e->look :
				       publish_look_of("untested");

		strbuf_addstr(&b, "<tr><td>");
		publish_add_cell_link(&b, "../", cell);
		strbuf_addstr(&b, "</td><td class=\"m ");
		strbuf_addstr(&b, l->css);
		strbuf_addstr(&b, "\" title=\"");
		strbuf_addstr(&b, l->words);
		strbuf_addstr(&b, "\">");
		strbuf_addstr(&b, l->code);
		strbuf_addstr(&b, "</td><td>");
		if (s->has_page[runs[i]]) {
			strbuf_addstr(&b, "<a href=\"../run/");
			publish_add_num(&b, run->id);
			strbuf_addstr(&b, ".html\">");
			publish_add_num(&b, run->id);
			strbuf_addstr(&b, " log</a>");
		} else {
			publish_add_num(&b, run->id);
		}
		strbuf_addstr(&b, "</td><td>");
		strbuf_addstr(&b, verdict_name((enum verdict)run->verdict));
		strbuf_addstr(&b, "</td><td>");
		strbuf_add_html(&b, s->in.strs[run->purpose]);
		strbuf_addstr(&b, "</td><td class=\"time\">");
		strbuf_add_utc(&b, run->started_at);
		strbuf_addstr(&b, "</td><td>");
		strbuf_add_html(&b, s->in.strs[run->reason]);
		strbuf_addstr(&b, "</td><td><code class=\"line\">");
		publish_add_line(&b, s->in.strs[run->line]);
		strbuf_addstr(&b, "</code></td></tr>\n");
	}
	strbuf_addstr(&b, "</tbody></table>\n");
	publish_add_legend(&b);
	title = xstrfmt("%s %.12s", *row->commit ? "commit" : "kernel",
			*row->commit ? row->commit : row->kernel);
	ret = publish_page(s, row->page, "../", title, b.buf, 0, err);
	free(runs);
	strbuf_release(&b);
	free(title);
	return ret;
}

static void add_ref(struct strbuf *sb, const struct site *s,
		    const struct regression *g,
		    const struct regression_ref *ref)
{
	const struct row *row;

	if (!ref->commit) {
		strbuf_addstr(sb, "&ndash;");
		return;
	}
	row = publish_find_row(s, g->tree, g->build, ref->commit);
	if (row) {
		publish_add_row_link(sb, "", row, 0);
	} else {
		publish_add_code(sb, ref->commit);
	}
	strbuf_addstr(sb, " <span class=\"subject\">");
	strbuf_add_html(sb, ref->subject);
	strbuf_addstr(sb, "</span>");
}

/* The decisive line, linked to its run page when there is one. */
static void add_decisive(struct strbuf *sb, const struct site *s,
			 const struct regression *g)
{
	const struct row *row = g->first_bad.commit ?
		publish_find_row(s, g->tree, g->build, g->first_bad.commit) :
		NULL;
	const struct entry *e = NULL;
	size_t ci;

	for (ci = 0; row && ci < s->ncells; ci++)
		if (!strcmp(s->cells[ci], g->cells[0])) {
			e = publish_row_entry(s, row, (uint32_t)ci);
			break;
		}
	if (e && e->link)
		strbuf_addf(sb, "<a href=\"run/%lld.html#decisive\">",
			    (long long)e->link);
	strbuf_addstr(sb, "<code class=\"line\">");
	publish_add_line(sb, *g->line ? g->line : "(no line)");
	strbuf_addstr(sb, "</code>");
	if (e && e->link)
		strbuf_addstr(sb, "</a>");
}

static void add_cells(struct strbuf *sb, const struct regression *g)
{
	size_t i;

	for (i = 0; i < g->n_cells; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		publish_add_cell_link(sb, "", g->cells[i]);
	}
}

static int is_open(const struct regression *g)
{
	return g->status == REGRESSION_OPEN ||
	       g->status == REGRESSION_UNDECIDED;
}

/* What broke, where, since when: the open ones, one line each. */
void publish_add_open_summary(struct strbuf *sb, const struct site *s)
{
	size_t i, n = 0, fixed = 0, flaky = 0;

	for (i = 0; i < s->rs.n; i++) {
		n += is_open(&s->rs.v[i]);
		fixed += s->rs.v[i].status == REGRESSION_FIXED;
		flaky += s->rs.v[i].status == REGRESSION_FLAKY;
	}
	strbuf_addf(sb, "<section id=\"open\"><h2>%zu open regression%s"
		    "</h2>\n", n, n == 1 ? "" : "s");
	if (!n) {
		strbuf_addstr(sb, "<p class=\"good\">Nothing is broken.</p>\n");
	} else {
		strbuf_addstr(sb, "<table class=\"open\"><thead><tr><th>Where "
			      "(cells)</th><th>What: first bad commit</th>"
			      "<th>Since</th><th>Decisive line</th></tr>"
			      "</thead><tbody>\n");
		for (i = 0; i < s->rs.n; i++) {
			const struct regression *g = &s->rs.v[i];
			const struct row *row;

			if (!is_open(g))
				continue;
			row = g->first_bad.commit ? publish_find_row(s, g->tree,
				g->build, g->first_bad.commit) : NULL;
			strbuf_addstr(sb, "<tr class=\"c-reg\"><td><span "
				      "class=\"m c-reg\">REG</span> ");
			add_cells(sb, g);
			strbuf_addstr(sb, "</td><td>");
			add_ref(sb, s, g, &g->first_bad);
			strbuf_addstr(sb, "</td><td class=\"time\">");
			if (row)
				strbuf_add_utc(sb, (double)row->time);
			strbuf_addstr(sb, "</td><td>");
			add_decisive(sb, s, g);
			strbuf_addstr(sb, "</td></tr>\n");
		}
		strbuf_addstr(sb, "</tbody></table>\n");
	}
	strbuf_addf(sb, "<p><a href=\"regressions.html\">All regressions"
		    "</a>: %zu open, %zu fixed, %zu flaky.</p></section>\n",
		    n, fixed, flaky);
}

static void add_regression_table(struct strbuf *sb, const struct site *s,
				 int which)
{
	size_t i, start = sb->len, rows = 0;

	strbuf_addstr(sb, "<table class=\"regs\"><thead><tr><th>Status</th>"
		      "<th>Cells</th><th>First bad</th><th>Last good</th>"
		      "<th>Decisive line</th><th>Runs</th><th>Bisection</th>"
		      "<th>Fixed by</th></tr></thead><tbody>\n");
	for (i = 0; i < s->rs.n; i++) {
		const struct regression *g = &s->rs.v[i];

		if ((which == 0 && !is_open(g)) ||
		    (which == 1 && g->status != REGRESSION_FIXED) ||
		    (which == 2 && g->status != REGRESSION_FLAKY))
			continue;
		rows++;
		strbuf_addf(sb, "<tr><td><span class=\"m %s\">%s</span> %s"
			    "</td><td>", which == 1 ? "c-fix" : which == 2 ?
			    "c-flk" : "c-reg", which == 1 ? "FIX" :
			    which == 2 ? "FLK" : "REG",
			    regression_status_name(g->status));
		add_cells(sb, g);
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->first_bad);
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->last_good);
		strbuf_addstr(sb, "</td><td>");
		add_decisive(sb, s, g);
		strbuf_addf(sb, "</td><td>%u of %u failed</td><td>", g->fail,
			    g->total);
		if (g->bisected)
			strbuf_addf(sb, "%u build%s, %u boot%s%s", g->builds,
				    g->builds == 1 ? "" : "s", g->boots,
				    g->boots == 1 ? "" : "s",
				    g->bisecting ? ", running" : "");
		else
			strbuf_addstr(sb, "not bisected");
		if (g->why) {
			strbuf_addstr(sb, "<br><span class=\"hint\">");
			strbuf_add_html(sb, g->why);
			strbuf_addstr(sb, "</span>");
		}
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->fixed_by);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table>\n");
	if (!rows) {
		strbuf_setlen(sb, start);
		strbuf_addstr(sb, "<p class=\"hint\">None.</p>\n");
	}
}

int publish_regressions_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	int ret;

	publish_add_nav(&b, "");
	strbuf_addstr(&b, "<h2>Open regressions</h2>\n");
	add_regression_table(&b, s, 0);
	strbuf_addstr(&b, "<h2>Fixed</h2>\n");
	add_regression_table(&b, s, 1);
	strbuf_addstr(&b, "<h2>Flaky</h2>\n");
	add_regression_table(&b, s, 2);
	ret = publish_page(s, "regressions.html", "", "hvmatrix regressions",
			 b.buf, 1, err);
	strbuf_release(&b);
	return ret;
}

/* A cell's history: per (tree, build), spans of commits of one class. */
int publish_cell_pages(struct site *s, struct strbuf *err)
{
	size_t c, k;

	for (c = 0; c < s->ncells; c++) {
		struct strbuf b = STRBUF_INIT, page = STRBUF_INIT;
		const struct row *start = NULL, *last = NULL;
		const struct look *cur = NULL;
		size_t count = 0;
		int rc;

		publish_add_nav(&b, "../");
		strbuf_addstr(&b, "<h2>Cell ");
		strbuf_add_html(&b, s->cells[c]);
		strbuf_addstr(&b, "</h2>\n<p class=\"hint\">Its history, "
			      "newest first: each line a span of commits of "
			      "one class.</p>\n<table class=\"runs\"><thead>"
			      "<tr><th>Class</th><th>Commits</th><th>From"
			      "</th><th>To</th></tr></thead><tbody>\n");
		/* Newest first; a span breaks where the class, tree or
		 * build changes. */
		for (k = s->nrows + 1; k-- > 0; ) {
			const struct row *row = k < s->nrows ? &s->rows[k] :
						NULL;
			const struct entry *e = row ? publish_row_entry(s, row,
							(uint32_t)c) : NULL;

			if (row && !e)
				continue;
			if (cur && (!row || e->look != cur ||
				    strcmp(row->tree, last->tree) ||
				    strcmp(row->build, last->build))) {
				strbuf_addf(&b, "<tr><td class=\"m %s\">%s</td>"
					    "<td>%zu</td><td>", cur->css,
					    cur->code, count);
				publish_add_row_link(&b, "../", last, 1);
				strbuf_addstr(&b, "</td><td>");
				publish_add_row_link(&b, "../", start, 1);
				strbuf_addstr(&b, "</td></tr>\n");
				cur = NULL;
			}
			if (!row)
				break;
			if (!cur) {
				cur = e->look;
				start = row;
				count = 0;
			}
			last = row;
			count++;
		}
		strbuf_addstr(&b, "</tbody></table>\n");
		publish_add_legend(&b);
		strbuf_addstr(&page, "cell/");
		publish_path_part(&page, s->cells[c]);
		strbuf_addstr(&page, ".html");
		rc = publish_page(s, page.buf, "../", s->cells[c], b.buf, 1,
				  err);
		strbuf_release(&b);
		strbuf_release(&page);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * The hypervisor release a cell runs, from its configuration: the kind
 * (QEMU, Xen), the release (the QEMU binary; the Xen build), the machine.
 * One place to say it, so catalogued releases (`qemu: "10.0"`) slot in.
 */
static void release_of(const struct cell *c, struct strbuf *kind,
		       struct strbuf *release, struct strbuf *machine)
{
	if (!c) {
		strbuf_addstr(kind, "unknown");
		strbuf_addstr(release, "not in the matrix");
		return;
	}
	if (cell_is_xen(c)) {
		strbuf_addstr(kind, "Xen");
		strbuf_addstr(release, c->xen ? c->xen : "?");
		strbuf_addf(machine, "%s, %s", c->machine,
			    c->backend == CELL_BACKEND_XEN ? "dom0" :
			    cell_guest_name(c->guest));
	} else {
		strbuf_addstr(kind, "QEMU");
		strbuf_addstr(release, c->qemu);
		strbuf_addstr(machine, c->machine);
	}
}

int publish_releases_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	char **keys = xcalloc(s->ncells + 1, sizeof(*keys));
	size_t *order = xcalloc(s->ncells + 1, sizeof(*order));
	size_t c, k, i, cols = s->nrows < RELEASE_COLS ? s->nrows :
			       RELEASE_COLS;
	int ret;

	for (c = 0; c < s->ncells; c++) {
		struct strbuf kind = STRBUF_INIT, rel = STRBUF_INIT,
			      mach = STRBUF_INIT;

		release_of(s->have_m ? matrix_find(&s->m, s->cells[c]) : NULL,
			   &kind, &rel, &mach);
		keys[c] = xstrfmt("%s\n%s\n%s", kind.buf, rel.buf, mach.buf);
		order[c] = c;
		strbuf_release(&kind);
		strbuf_release(&rel);
		strbuf_release(&mach);
	}
	/* Rows sorted by release, insertion sort: cells are tens. */
	for (i = 1; i < s->ncells; i++)
		for (k = i; k > 0 && strcmp(keys[order[k - 1]],
					    keys[order[k]]) > 0; k--) {
			size_t t = order[k];

			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	publish_add_nav(&b, "");
	strbuf_addstr(&b, "<h2>Hypervisor releases</h2>\n<p class=\"hint\">"
		      "Rows: the hypervisor releases and machines the cells "
		      "run (from the matrix in force); columns: the newest "
		      "commits, each cell's class.</p>\n");
	if (!s->have_m)
		strbuf_addstr(&b, "<p class=\"hint\">The matrix of the newest "
			      "run could not be read: releases unknown.</p>\n");
	strbuf_addstr(&b, "<div class=\"scroll\"><table class=\"releases\">"
		      "<thead><tr><th>Hypervisor</th><th>Release</th><th>"
		      "Machine</th>");
	for (k = 0; k < cols; k++) {
		strbuf_addstr(&b, "<th>");
		publish_add_row_link(&b, "", &s->rows[s->nrows - 1 - k], 1);
		strbuf_addstr(&b, "</th>");
	}
	strbuf_addstr(&b, "</tr></thead><tbody>\n");
	for (i = 0; i < s->ncells; i = k) {
		const char *key = keys[order[i]];
		const char *nl1 = strchr(key, '\n'), *nl2 = strchr(nl1 + 1,
								   '\n');
		size_t col;

		for (k = i; k < s->ncells && !strcmp(keys[order[k]], key); k++)
			;
		strbuf_addstr(&b, "<tr><th>");
		strbuf_add_html_n(&b, key, (size_t)(nl1 - key));
		strbuf_addstr(&b, "</th><td>");
		strbuf_add_html_n(&b, nl1 + 1, (size_t)(nl2 - nl1 - 1));
		strbuf_addstr(&b, "</td><td>");
		strbuf_add_html(&b, nl2 + 1);
		strbuf_addstr(&b, "</td>");
		for (col = 0; col < cols; col++) {
			const struct row *row = &s->rows[s->nrows - 1 - col];
			size_t m;

			strbuf_addstr(&b, "<td><ul class=\"rel\">");
			for (m = i; m < k; m++) {
				const char *cell = s->cells[order[m]];
				const struct entry *e = publish_row_entry(s,
						row, (uint32_t)order[m]);
				const struct look *l = e ? e->look :
					publish_look_of("untested");

				strbuf_addf(&b, "<li><span class=\"m %s\">%s"
					    "</span> ", l->css, l->code);
				publish_add_cell_link(&b, "", cell);
				strbuf_addstr(&b, "</li>");
			}
			strbuf_addstr(&b, "</ul></td>");
		}
		strbuf_addstr(&b, "</tr>\n");
	}
	strbuf_addstr(&b, "</tbody></table></div>\n");
	publish_add_legend(&b);
	ret = publish_page(s, "releases.html", "", "hvmatrix releases", b.buf,
			 1, err);
	for (c = 0; c < s->ncells; c++)
		free(keys[c]);
	free(keys);
	free(order);
	strbuf_release(&b);
	return ret;
}

