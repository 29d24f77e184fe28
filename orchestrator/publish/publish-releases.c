/*
 * publish-releases: the hypervisor releases page: the releases and
 * machines the cells run (from the matrix of the newest run) as rows,
 * the newest commits' classes across them.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/web-table.h"
#include "matrix/matrix.h"
#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

#define RELEASE_COLS 5		/* newest commits in the releases view */

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

/*
 * Keys "KIND\nRELEASE\nMACHINE": by kind, then release as a version
 * (5.2 < 7.2 < 10.0 < 11.1; a program or path after the releases), then
 * machine.
 */
static int key_cmp(const char *a, const char *b)
{
	const char *a1 = strchr(a, '\n'), *b1 = strchr(b, '\n');
	const char *a2 = strchr(a1 + 1, '\n'), *b2 = strchr(b1 + 1, '\n');
	char *ra = xstrndup(a1 + 1, (size_t)(a2 - a1 - 1));
	char *rb = xstrndup(b1 + 1, (size_t)(b2 - b1 - 1));
	size_t la = (size_t)(a1 - a), lb = (size_t)(b1 - b);
	int c = memcmp(a, b, la < lb ? la : lb);

	if (!c && la != lb)
		c = la < lb ? -1 : 1;
	if (!c)
		c = web_table_release_cmp(ra, rb);
	if (!c)
		c = strcmp(a2 + 1, b2 + 1);
	free(ra);
	free(rb);
	return c;
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
		for (k = i; k > 0 && key_cmp(keys[order[k - 1]],
					     keys[order[k]]) > 0; k--) {
			size_t t = order[k];

			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	publish_html_nav(&b, "");
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
		publish_html_row_link(&b, "", &s->rows[s->nrows - 1 - k], 1);
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
				const struct entry *e =
					publish_model_row_entry(s, row,
							(uint32_t)order[m]);
				const struct look *l = e ? e->look :
					publish_html_look_of("untested");

				strbuf_addf(&b, "<li><span class=\"m %s\">%s"
					    "</span> ", l->css, l->code);
				publish_html_cell_link(&b, "", cell);
				strbuf_addstr(&b, "</li>");
			}
			strbuf_addstr(&b, "</ul></td>");
		}
		strbuf_addstr(&b, "</tr>\n");
	}
	strbuf_addstr(&b, "</tbody></table></div>\n");
	publish_html_legend(&b);
	ret = publish_site_page(s, "releases.html", "", "hvmatrix releases",
				b.buf, 1, err);
	for (c = 0; c < s->ncells; c++)
		free(keys[c]);
	free(keys);
	free(order);
	strbuf_release(&b);
	return ret;
}

