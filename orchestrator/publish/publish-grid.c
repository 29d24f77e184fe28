/*
 * publish-grid: the grid of commits x cells, newest first, in pages of
 * PUBLISH_PAGE_ROWS commits (grid/1.html the oldest), and the front page:
 * the open regressions, then the newest page of the grid. A grid page
 * links its neighbours, the oldest and the newest, not every page: so a
 * new page changes one old page, not all of them.
 */
#include <stdio.h>
#include <string.h>

#include "publish/publish-priv.h"

/* The grid of rows [lo, hi), newest first. */
static void add_grid(struct strbuf *sb, const struct site *s,
		     const char *base, size_t lo, size_t hi)
{
	size_t c, k;

	strbuf_addstr(sb, "<div class=\"scroll\"><table class=\"grid\">\n"
		      "<thead><tr><th scope=\"col\" class=\"corner\">Commit"
		      "</th>");
	for (c = 0; c < s->ncells; c++) {
		strbuf_addstr(sb, "<th scope=\"col\" class=\"vh\"><div>");
		publish_html_cell_link(sb, base, s->cells[c]);
		strbuf_addstr(sb, "</div></th>");
	}
	strbuf_addstr(sb, "</tr></thead>\n<tbody>\n");
	for (k = hi; k-- > lo; ) {
		const struct row *row = &s->rows[k];

		strbuf_addstr(sb, "<tr><th scope=\"row\" class=\"commit\">");
		publish_html_row_link(sb, base, row, 1);
		strbuf_addstr(sb, "</th>");
		for (c = 0; c < s->ncells; c++)
			publish_html_mark(sb, base, publish_model_row_entry(
						  s, row, (uint32_t)c));
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></div>\n");
}

/*
 * Page cur of pages (0: the front page): the newest, the newer and older
 * neighbours, the oldest. Page p's own pager depends only on whether
 * p + 1 exists.
 */
static void add_pager(struct strbuf *sb, const char *base, size_t pages,
		      size_t cur)
{
	strbuf_addstr(sb, "<p class=\"pager\">Grid pages:");
	if (!cur) {
		strbuf_addf(sb, " <a href=\"%sgrid/%zu.html\">newest (%zu)"
			    "</a>", base, pages, pages);
		if (pages > 1)
			strbuf_addf(sb, " <a href=\"%sgrid/%zu.html\">older "
				    "(%zu)</a>", base, pages - 1, pages - 1);
	} else {
		strbuf_addf(sb, " <a href=\"%sindex.html\">newest</a>", base);
		if (cur < pages)
			strbuf_addf(sb, " <a href=\"%sgrid/%zu.html\">newer "
				    "(%zu)</a>", base, cur + 1, cur + 1);
		strbuf_addf(sb, " <b>%zu</b>", cur);
		if (cur > 1)
			strbuf_addf(sb, " <a href=\"%sgrid/%zu.html\">older "
				    "(%zu)</a>", base, cur - 1, cur - 1);
	}
	if (cur != 1)
		strbuf_addf(sb, " <a href=\"%sgrid/1.html\">oldest (1)</a>",
			    base);
	strbuf_addstr(sb, "</p>\n");
}
int publish_grid_pages(struct site *s, struct strbuf *err)
{
	size_t pages = (s->nrows + PUBLISH_PAGE_ROWS - 1) / PUBLISH_PAGE_ROWS;
	size_t p, k, i;

	for (p = 0; p < pages; p++) {
		size_t lo = p * PUBLISH_PAGE_ROWS, hi = lo + PUBLISH_PAGE_ROWS;
		uint64_t key = strmap_fnv_str(STRMAP_FNV0, PUBLISH_SALT);
		struct strbuf b = STRBUF_INIT;
		char page[64], title[64];
		int rc = 0;

		if (hi > s->nrows)
			hi = s->nrows;
		/* The page's data: its entries, the cells, whether a newer
		 * page exists (the pager). */
		key = strmap_fnv_str(key, p + 1 < pages ? "newer" : "");
		key = strmap_fnv(key, &s->ncells, sizeof(s->ncells));
		for (k = lo; k < hi; k++)
			for (i = 0; i < s->rows[k].n; i++) {
				const struct entry *e =
					&s->ev[s->rows[k].ev + i];

				key = publish_html_entry_key(key, e);
			}
		snprintf(page, sizeof(page), "grid/%zu.html", p + 1);
		if (publish_site_fresh(s, page, key))
			continue;
		snprintf(title, sizeof(title), "hvmatrix grid %zu", p + 1);
		publish_html_nav(&b, "../");
		add_pager(&b, "../", pages, p + 1);
		add_grid(&b, s, "../", lo, hi);
		publish_html_legend(&b);
		rc = publish_site_page(s, page, "../", title, b.buf, 0, err);
		strbuf_release(&b);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int publish_grid_index_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	size_t pages = (s->nrows + PUBLISH_PAGE_ROWS - 1) / PUBLISH_PAGE_ROWS;
	size_t lo = s->nrows > PUBLISH_PAGE_ROWS ?
		    s->nrows - PUBLISH_PAGE_ROWS : 0;
	int ret;

	publish_html_nav(&b, "");
	publish_regressions_summary(&b, s);
	strbuf_addf(&b, "<section id=\"grid\"><h2>Commits &times; cells</h2>"
		    "\n<p class=\"hint\">The newest %zu of %zu commits, newest "
		    "first; each mark links the run's console log.</p>\n",
		    s->nrows - lo, s->nrows);
	if (!s->nrows)
		strbuf_addstr(&b, "<p class=\"empty\">No runs recorded yet. "
			      "Run <code>hvmatrix boot</code>, then "
			      "<code>hvmatrix dashboard</code>.</p>\n");
	else
		add_grid(&b, s, "", lo, s->nrows);
	publish_html_legend(&b);
	if (pages)
		add_pager(&b, "", pages, 0);
	strbuf_addstr(&b, "</section>\n");
	ret = publish_site_page(s, "index.html", "", "hvmatrix", b.buf, 1, err);
	strbuf_release(&b);
	return ret;
}

