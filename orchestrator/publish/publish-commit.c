/*
 * publish-commit: the page of one row (commit/KEY.html): every cell,
 * every run of one built commit or booted kernel, from the runs in
 * memory (no query per page), written only when its entries or its
 * subject changed.
 */
#include <stdlib.h>
#include <string.h>

#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

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
	struct strbuf b = STRBUF_INIT, drift = STRBUF_INIT;
	uint64_t key = strmap_fnv_str(STRMAP_FNV0, PUBLISH_SALT);
	uint32_t *runs;
	size_t n = row->n_runs, i;
	char *title = NULL;
	int ret;

	for (i = 0; i < row->n; i++)
		key = publish_html_entry_key(key, &s->ev[row->ev + i]);
	key = strmap_fnv_str(key, row->subject);
	/* A drift found later (its bisection ended) changes the page too. */
	if (*row->commit)
		publish_regressions_drift(&drift, s, "../", row->tree,
					  row->build, row->commit, NULL);
	key = strmap_fnv_str(key, drift.buf);
	if (publish_site_fresh(s, row->page, key)) {
		strbuf_release(&drift);
		return 0;
	}
	runs = xcalloc(n + 1, sizeof(*runs));
	memcpy(runs, &s->row_runs[row->run_at], n * sizeof(*runs));
	qsort_r(runs, n, sizeof(*runs), cmp_run_cell, s);
	publish_html_nav(&b, "../");
	strbuf_addstr(&b, "<h2>");
	if (*row->commit) {
		strbuf_addstr(&b, "Commit ");
		publish_html_code(&b, row->commit);
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
		publish_html_code(&b, row->kernel);
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
		const struct entry *e = publish_model_row_entry(s, row,
						s->cell_of[run->cell] - 1);
		const struct look *l = e ? e->look :
				       publish_html_look_of("untested");

		strbuf_addstr(&b, "<tr><td>");
		publish_html_cell_link(&b, "../", cell);
		strbuf_addstr(&b, "</td><td class=\"m ");
		strbuf_addstr(&b, l->css);
		strbuf_addstr(&b, "\" title=\"");
		strbuf_addstr(&b, l->words);
		strbuf_addstr(&b, "\">");
		strbuf_addstr(&b, l->code);
		strbuf_addstr(&b, "</td><td>");
		if (s->has_page[runs[i]]) {
			strbuf_addstr(&b, "<a href=\"../run/");
			publish_html_num(&b, run->id);
			strbuf_addstr(&b, ".html\">");
			publish_html_num(&b, run->id);
			strbuf_addstr(&b, " log</a>");
		} else {
			publish_html_num(&b, run->id);
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
		publish_html_line(&b, s->in.strs[run->line]);
		strbuf_addstr(&b, "</code></td></tr>\n");
	}
	strbuf_addstr(&b, "</tbody></table>\n");
	strbuf_add(&b, drift.buf, drift.len);
	strbuf_release(&drift);
	publish_html_legend(&b);
	title = xstrfmt("%s %.12s", *row->commit ? "commit" : "kernel",
			*row->commit ? row->commit : row->kernel);
	ret = publish_site_page(s, row->page, "../", title, b.buf, 0, err);
	free(runs);
	strbuf_release(&b);
	free(title);
	return ret;
}

