/*
 * publish-web: web.html, the compatibility web (compare/web-table.c, the
 * model `hvmatrix web` prints): released kernels (rows, oldest first) x
 * hypervisor releases and their cells (QEMU, then Xen, releases sorted as
 * versions), each mark the class of the cell's latest hypervisor build,
 * with its text code as well as its colour, linking the run it names;
 * then the support windows. The table is read from the store on every
 * publish (it is small: kernels x cells) and the page is rewritten only
 * when its text changes, that is when the web's runs do.
 */
#include <string.h>

#include "compare/web-table.h"
#include "publish/publish-priv.h"

/* Does run id have a run page? The input's runs are in id order. */
static int has_page(const struct site *s, int64_t id)
{
	size_t lo = 0, hi = s->in.n_runs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->in.runs[mid].id == id)
			return s->has_page && s->has_page[mid];
		if (s->in.runs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void add_kernel(struct strbuf *b, const struct web_table_kernel *k)
{
	strbuf_addstr(b, "<b>");
	strbuf_add_html(b, k->release);
	strbuf_addstr(b, "</b> <span class=\"subject\">");
	strbuf_add_html(b, k->version);
	strbuf_addstr(b, "</span>");
}

static void add_head(struct strbuf *b, const struct web_table *t)
{
	size_t h, c, kind, span;

	strbuf_addstr(b, "<thead><tr><th scope=\"col\" class=\"corner\" "
		      "rowspan=\"3\">Kernel</th>");
	for (kind = 0; kind < WEB_TABLE_KINDS; kind++) {
		for (span = 0, h = 0; h < t->n_hvs; h++)
			if (t->hvs[h].kind == kind)
				span += t->hvs[h].n_cols;
		if (span)
			strbuf_addf(b, "<th scope=\"colgroup\" colspan=\"%zu\">"
				    "%s</th>", span,
				    web_table_kind_title(kind));
	}
	strbuf_addstr(b, "<th scope=\"col\" rowspan=\"3\">Oldest QEMU</th>"
		      "<th scope=\"col\" rowspan=\"3\">Oldest Xen</th></tr>\n"
		      "<tr>");
	for (h = 0; h < t->n_hvs; h++) {
		strbuf_addf(b, "<th scope=\"colgroup\" colspan=\"%zu\">",
			    t->hvs[h].n_cols);
		strbuf_add_html(b, t->hvs[h].release);
		strbuf_addstr(b, "</th>");
	}
	strbuf_addstr(b, "</tr>\n<tr>");
	for (c = 0; c < t->n_cols; c++) {
		strbuf_addstr(b, "<th scope=\"col\" class=\"vh\"><div>");
		publish_html_cell_link(b, "", t->cols[c].cell);
		strbuf_addstr(b, "</div></th>");
	}
	strbuf_addstr(b, "</tr></thead>\n");
}

static void add_rows(struct strbuf *b, const struct site *s,
		     const struct web_table *t)
{
	size_t k, c, kind;

	strbuf_addstr(b, "<tbody>\n");
	for (k = 0; k < t->n_kernels; k++) {
		strbuf_addstr(b, "<tr><th scope=\"row\" class=\"commit\">");
		add_kernel(b, &t->kernels[k]);
		strbuf_addstr(b, "</th>");
		for (c = 0; c < t->n_cols; c++) {
			const struct web_table_entry *we =
				web_table_entry(t, k, c);
			struct entry e = { 0 };

			if (!we) {
				publish_html_mark(b, "", NULL);
				continue;
			}
			e.look = publish_html_look_of(we->class);
			e.runs = we->runs > UINT16_MAX ? UINT16_MAX :
				 (uint16_t)we->runs;
			if (has_page(s, we->run_id))
				e.link = we->run_id;
			publish_html_mark(b, "", &e);
		}
		for (kind = 0; kind < WEB_TABLE_KINDS; kind++) {
			int o = t->kernels[k].oldest[kind];

			strbuf_addstr(b, "<td>");
			if (o < 0)
				strbuf_addstr(b, "none");
			else
				strbuf_add_html(b, t->hvs[o].release);
			strbuf_addstr(b, "</td>");
		}
		strbuf_addstr(b, "</tr>\n");
	}
	strbuf_addstr(b, "</tbody>\n");
}

/* Per hypervisor release: the kernels that work on it, its ends. */
static void add_windows(struct strbuf *b, const struct web_table *t)
{
	size_t h;

	strbuf_addstr(b, "<h3>Support windows</h3>\n<p class=\"hint\">A "
		      "kernel works on a hypervisor release when every cell of "
		      "the release passes; the oldest and newest kernel that "
		      "does (a kernel between may still fail).</p>\n<table "
		      "class=\"regs\"><thead><tr><th>Hypervisor</th><th>"
		      "Release</th><th>Cells</th><th>Oldest kernel</th><th>"
		      "Newest kernel</th></tr></thead><tbody>\n");
	for (h = 0; h < t->n_hvs; h++) {
		const struct web_table_hv *hv = &t->hvs[h];

		strbuf_addf(b, "<tr><td>%s</td><td>",
			    web_table_kind_title(hv->kind));
		strbuf_add_html(b, hv->release);
		strbuf_addf(b, "</td><td>%zu</td><td>", hv->n_cols);
		if (hv->oldest_kernel < 0)
			strbuf_addstr(b, "none");
		else
			strbuf_add_html(b,
				t->kernels[hv->oldest_kernel].release);
		strbuf_addstr(b, "</td><td>");
		if (hv->newest_kernel < 0)
			strbuf_addstr(b, "none");
		else
			strbuf_add_html(b,
				t->kernels[hv->newest_kernel].release);
		strbuf_addstr(b, "</td></tr>\n");
	}
	strbuf_addstr(b, "</tbody></table>\n");
}

int publish_web_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	struct web_table t = { 0 };
	int ret = -1;

	if (web_table_load(&t, s->r, s->have_m ? &s->m : NULL, err) < 0)
		goto out;
	publish_html_nav(&b, "");
	strbuf_addstr(&b, "<h2>Compatibility web</h2>\n<p class=\"hint\">"
		      "Rows: the released kernels, oldest first; columns: the "
		      "hypervisor releases and their cells, QEMU then Xen, "
		      "releases in version order. Each mark is the class of "
		      "the kernel's runs in the cell under the cell's latest "
		      "hypervisor build, and links its run.</p>\n");
	if (!t.n_kernels) {
		strbuf_addstr(&b, "<p class=\"empty\">No released kernel "
			      "recorded yet.</p>\n");
	} else {
		strbuf_addstr(&b, "<div class=\"scroll\"><table class=\"grid "
			      "web\">\n");
		add_head(&b, &t);
		add_rows(&b, s, &t);
		strbuf_addstr(&b, "</table></div>\n");
		publish_html_legend(&b);
		add_windows(&b, &t);
	}
	ret = publish_site_page(s, "web.html", "", "hvmatrix compatibility "
				"web", b.buf, 1, err);
out:
	web_table_release(&t);
	strbuf_release(&b);
	return ret;
}
