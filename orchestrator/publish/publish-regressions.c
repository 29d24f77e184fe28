/*
 * publish-regressions: the regressions page (open first, then drift,
 * fixed and flaky: first bad and last good commits, the decisive line
 * linked to its run, or a drift's changes, the bisection's cost), the
 * summary of the open ones the front page starts with, and the drift
 * findings a commit or a cell page lists.
 */
#include <string.h>

#include "publish/publish-priv.h"

static void add_ref(struct strbuf *sb, const struct site *s,
		    const struct regression *g,
		    const struct regression_ref *ref)
{
	const struct row *row;

	if (!ref->commit) {
		strbuf_addstr(sb, "&ndash;");
		return;
	}
	row = publish_model_find_row(s, g->tree, g->build, ref->commit);
	if (row) {
		publish_html_row_link(sb, "", row, 0);
	} else {
		publish_html_code(sb, ref->commit);
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
		publish_model_find_row(s, g->tree, g->build,
				       g->first_bad.commit) : NULL;
	const struct entry *e = NULL;
	size_t ci;

	for (ci = 0; row && ci < s->ncells; ci++)
		if (!strcmp(s->cells[ci], g->cells[0])) {
			e = publish_model_row_entry(s, row, (uint32_t)ci);
			break;
		}
	if (e && e->link)
		strbuf_addf(sb, "<a href=\"run/%lld.html#decisive\">",
			    (long long)e->link);
	strbuf_addstr(sb, "<code class=\"line\">");
	publish_html_line(sb, *g->line ? g->line : "(no line)");
	strbuf_addstr(sb, "</code>");
	if (e && e->link)
		strbuf_addstr(sb, "</a>");
}

/* Whether a revert of the culprit on the tip healed the broken cells. */
static void add_revert(struct strbuf *sb, const struct regression *g)
{
	struct strbuf words = STRBUF_INIT;

	regression_revert_words(g, &words);
	if (words.len) {
		strbuf_addstr(sb, "<br><span class=\"hint\">");
		strbuf_add_html(sb, words.buf);
		strbuf_addstr(sb, "</span>");
	}
	strbuf_release(&words);
}

static void add_cells(struct strbuf *sb, const struct regression *g)
{
	size_t i;

	for (i = 0; i < g->n_cells; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		publish_html_cell_link(sb, "", g->cells[i]);
	}
}

static int is_open(const struct regression *g)
{
	return g->status == REGRESSION_OPEN ||
	       g->status == REGRESSION_UNDECIDED;
}

/* What broke, where, since when: the open ones, one line each. */
void publish_regressions_summary(struct strbuf *sb, const struct site *s)
{
	size_t i, n = 0, fixed = 0, flaky = 0, drift = 0;

	for (i = 0; i < s->rs.n; i++) {
		n += is_open(&s->rs.v[i]);
		fixed += s->rs.v[i].status == REGRESSION_FIXED;
		flaky += s->rs.v[i].status == REGRESSION_FLAKY;
		drift += s->rs.v[i].status == REGRESSION_DRIFT;
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
			row = g->first_bad.commit ?
			      publish_model_find_row(s, g->tree, g->build,
						     g->first_bad.commit) :
			      NULL;
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
		    "</a>: %zu open, %zu drift, %zu fixed, %zu flaky.</p>"
		    "</section>\n", n, drift, fixed, flaky);
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
		    (which == 2 && g->status != REGRESSION_FLAKY) ||
		    (which == 3 && g->status != REGRESSION_DRIFT))
			continue;
		rows++;
		strbuf_addf(sb, "<tr><td><span class=\"m %s\">%s</span> %s"
			    "</td><td>", which == 1 ? "c-fix" : which == 2 ?
			    "c-flk" : which == 3 ? "c-drf" : "c-reg",
			    which == 1 ? "FIX" : which == 2 ? "FLK" :
			    which == 3 ? "DRF" : "REG",
			    regression_status_name(g->status));
		add_cells(sb, g);
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->first_bad);
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->last_good);
		strbuf_addstr(sb, "</td><td>");
		add_decisive(sb, s, g);
		strbuf_addf(sb, "</td><td>%u of %u %s</td><td>", g->fail,
			    g->total, g->changes.n ? "showed it" : "failed");
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
		add_revert(sb, g);
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

	publish_html_nav(&b, "");
	strbuf_addstr(&b, "<h2>Open regressions</h2>\n");
	add_regression_table(&b, s, 0);
	strbuf_addstr(&b, "<h2>Drift</h2>\n<p class=\"hint\">Commits that "
		      "still pass but engage other parts of the hypervisor "
		      "interface than their parent (clocksource, paravirt "
		      "features, CPU flags).</p>\n");
	add_regression_table(&b, s, 3);
	strbuf_addstr(&b, "<h2>Fixed</h2>\n");
	add_regression_table(&b, s, 1);
	strbuf_addstr(&b, "<h2>Flaky</h2>\n");
	add_regression_table(&b, s, 2);
	ret = publish_site_page(s, "regressions.html", "",
				"hvmatrix regressions", b.buf, 1, err);
	strbuf_release(&b);
	return ret;
}


void publish_regressions_drift(struct strbuf *sb, const struct site *s,
			       const char *base, const char *tree,
			       const char *build, const char *commit,
			       const char *cell)
{
	size_t i, k, rows = 0;

	for (i = 0; i < s->rs.n; i++) {
		const struct regression *g = &s->rs.v[i];
		int here = !cell;

		if (!g->changes.n || (tree && strcmp(g->tree, tree)) ||
		    (build && strcmp(g->build, build)) ||
		    (commit && (!g->first_bad.commit ||
				strcmp(g->first_bad.commit, commit))))
			continue;
		for (k = 0; cell && k < g->n_cells; k++)
			here |= !strcmp(g->cells[k], cell);
		if (!here)
			continue;
		if (!rows++)
			strbuf_addstr(sb, "<h3>Drift</h3>\n<table class=\"regs"
				      "\"><thead><tr><th>Status</th><th>Cells"
				      "</th><th>First bad</th><th>Changes"
				      "</th></tr></thead><tbody>\n");
		strbuf_addf(sb, "<tr><td><span class=\"m c-drf\">DRF</span> "
			    "%s</td><td>", regression_status_name(g->status));
		for (k = 0; k < g->n_cells; k++) {
			if (k)
				strbuf_addstr(sb, ", ");
			publish_html_cell_link(sb, base, g->cells[k]);
		}
		strbuf_addstr(sb, "</td><td>");
		publish_html_code(sb, g->first_bad.commit ?
				  g->first_bad.commit : "");
		strbuf_addstr(sb, "</td><td><code class=\"line\">");
		publish_html_line(sb, g->line);
		strbuf_addstr(sb, "</code></td></tr>\n");
	}
	if (rows)
		strbuf_addstr(sb, "</tbody></table>\n");
}
