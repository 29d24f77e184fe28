/*
 * publish-cell: a page per cell (cell/NAME.html): its history, newest
 * first, as spans of commits of one class per tree and build, and the
 * drift findings seen in it.
 */
#include <string.h>

#include "publish/publish-priv.h"

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

		publish_html_nav(&b, "../");
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
			const struct entry *e = row ?
				publish_model_row_entry(s, row, (uint32_t)c) :
				NULL;

			if (row && !e)
				continue;
			if (cur && (!row || e->look != cur ||
				    strcmp(row->tree, last->tree) ||
				    strcmp(row->build, last->build))) {
				strbuf_addf(&b, "<tr><td class=\"m %s\">%s</td>"
					    "<td>%zu</td><td>", cur->css,
					    cur->code, count);
				publish_html_row_link(&b, "../", last, 1);
				strbuf_addstr(&b, "</td><td>");
				publish_html_row_link(&b, "../", start, 1);
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
		publish_regressions_drift(&b, s, "../", NULL, NULL, NULL,
					  s->cells[c]);
		publish_html_legend(&b);
		strbuf_addstr(&page, "cell/");
		publish_html_path_part(&page, s->cells[c]);
		strbuf_addstr(&page, ".html");
		rc = publish_site_page(s, page.buf, "../", s->cells[c], b.buf,
				       1, err);
		strbuf_release(&b);
		strbuf_release(&page);
		if (rc < 0)
			return -1;
	}
	return 0;
}

