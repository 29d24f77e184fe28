/*
 * cmd-web: `hvmatrix web`, the compatibility web: released kernels x
 * hypervisor releases and their cells, each entry the class of the
 * cell's latest hypervisor build, with the support windows of each row
 * and column (compare/web-table.c computes it; the dashboard's web.html
 * shows the same model). Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "compare/web-table.h"
#include "lib/json.h"
#include "lib/report.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix web [--state DIR] [--matrix FILE] [--json]\n"
"\n"
"Show the compatibility web: the released kernels the store has (rows,\n"
"oldest release first) x the hypervisor releases and their cells they\n"
"ran in (columns: QEMU, then Xen, releases sorted as versions: 5.2 <\n"
"7.2 < 10.0 < 11.1). Each entry is the class of that kernel's runs in\n"
"that cell under the cell's latest hypervisor build (a rebuilt QEMU or\n"
"Xen replaces the older build's runs in this view): pass, never-passed\n"
"(only FAIL), flaky (PASS and FAIL), infra (ERROR only), skip, blocked.\n"
"A kernel works on a hypervisor release when all of that release's\n"
"cells pass. Support windows: per hypervisor release, the oldest and\n"
"newest kernel that works; per kernel, the oldest release of each kind\n"
"it works on.\n"
"\n"
"  --state DIR     state directory (default $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --matrix FILE   which hypervisor and release each cell is (default\n"
"                  $HVMATRIX_MATRIX, else matrices/default.yaml); a cell\n"
"                  it lacks is placed by the releases its runs recorded\n"
"  --json          one object: kernels [{release, package, version, id,\n"
"                  oldest_hypervisor {qemu, xen}}], hypervisors [{kind,\n"
"                  release, cells, oldest_kernel, newest_kernel}], entries\n"
"                  [{kernel, kernel_release, cell, kind, release, class,\n"
"                  verdict, run_id, line, hv_build, runs, builds}]; null\n"
"                  where there is none\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 shown (whatever it shows), 2 usage, 3 the store cannot be read.\n";

static const struct option options[] = {
	{ NULL, 0, NULL, 0 },
};

/* s, printable, padded to width columns (bytes: names are ASCII). */
static void add_padded(struct strbuf *sb, const char *s, size_t width)
{
	size_t before = sb->len;

	cmd_add_printable(sb, s, 80);
	while (sb->len - before < width)
		strbuf_addch(sb, ' ');
}

/* The end of a line: no trailing blanks. */
static void end_line(struct strbuf *sb)
{
	while (sb->len && sb->buf[sb->len - 1] == ' ')
		sb->buf[--sb->len] = '\0';
	strbuf_addch(sb, '\n');
}

static void kernel_label(struct strbuf *sb, const struct web_table_kernel *k)
{
	cmd_add_printable(sb, k->release, 40);
	strbuf_addstr(sb, " (");
	cmd_add_printable(sb, k->version, 60);
	strbuf_addch(sb, ')');
}

static void add_release(struct strbuf *sb, const struct web_table *t,
			size_t h)
{
	const struct web_table_hv *hv = &t->hvs[h];
	struct strbuf label = STRBUF_INIT;
	size_t k, c, width = 6;

	for (k = 0; k < t->n_kernels; k++) {
		strbuf_reset(&label);
		kernel_label(&label, &t->kernels[k]);
		if (label.len > width)
			width = label.len;
	}
	strbuf_addf(sb, "%s ", web_table_kind_title(hv->kind));
	cmd_add_printable(sb, hv->release, 80);
	if (hv->oldest_kernel < 0) {
		strbuf_addstr(sb, ": no kernel works in all its cells\n");
	} else {
		strbuf_addstr(sb, ": works with kernels from ");
		cmd_add_printable(sb, t->kernels[hv->oldest_kernel].release,
				  40);
		strbuf_addstr(sb, " (oldest) to ");
		cmd_add_printable(sb, t->kernels[hv->newest_kernel].release,
				  40);
		strbuf_addstr(sb, " (newest) in all its cells\n");
	}
	strbuf_addstr(sb, "  ");
	add_padded(sb, "kernel", width + 2);
	for (c = hv->col; c < hv->col + hv->n_cols; c++)
		add_padded(sb, t->cols[c].cell, strlen(t->cols[c].cell) + 2);
	end_line(sb);
	for (k = 0; k < t->n_kernels; k++) {
		strbuf_reset(&label);
		kernel_label(&label, &t->kernels[k]);
		strbuf_addstr(sb, "  ");
		add_padded(sb, label.buf, width + 2);
		for (c = hv->col; c < hv->col + hv->n_cols; c++) {
			const struct web_table_entry *e =
				web_table_entry(t, k, c);

			add_padded(sb, web_table_code(e ? e->class : NULL),
				   strlen(t->cols[c].cell) + 2);
		}
		end_line(sb);
	}
	strbuf_addch(sb, '\n');
	strbuf_release(&label);
}

static void add_text(struct strbuf *sb, const struct web_table *t)
{
	size_t h, k, kind;

	if (!t->n_kernels) {
		strbuf_addstr(sb, "no released kernel recorded\n");
		return;
	}
	strbuf_addstr(sb, "Released kernels x hypervisor releases, each "
		      "cell's class under its latest\nhypervisor build: ok "
		      "pass, nvr fails (never passed), FLK flaky, inf the farm"
		      "\nfailed (ERROR), skp skipped, blk blocked, - no run."
		      "\n\n");
	for (h = 0; h < t->n_hvs; h++)
		add_release(sb, t, h);
	strbuf_addstr(sb, "The oldest hypervisor release each kernel works "
		      "on in all its cells:\n");
	for (k = 0; k < t->n_kernels; k++) {
		struct strbuf label = STRBUF_INIT;

		kernel_label(&label, &t->kernels[k]);
		strbuf_addstr(sb, "  ");
		add_padded(sb, label.buf, 30);
		for (kind = 0; kind < WEB_TABLE_KINDS; kind++) {
			int o = t->kernels[k].oldest[kind];

			strbuf_addf(sb, "  %-4s ", web_table_kind_title(kind));
			add_padded(sb, o < 0 ? "none" : t->hvs[o].release, 6);
		}
		end_line(sb);
		strbuf_release(&label);
	}
}

static int web_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct web_table t = { 0 };
	struct matrix m = { 0 };
	struct json js;
	int have_m, ret = EXIT_ERROR;

	/* The matrix only places the cells: without one, their runs do. */
	have_m = cmd_optional_matrix(ctx, &m);
	if (have_m < 0) {
		have_m = 0;
		ret = EXIT_USAGE;
		goto out;
	}
	if (web_table_load(&t, ctx->store, have_m ? &m : NULL, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	if (ctx->json) {
		json_init(&js, &out);
		web_table_to_json(&t, &js);
		strbuf_addch(&out, '\n');
	} else {
		add_text(&out, &t);
	}
	fputs(out.buf, stdout);
	ret = EXIT_OK;
out:
	web_table_release(&t);
	if (have_m)
		matrix_release(&m);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_web = {
	.name = "web",
	.summary = "the compatibility web: released kernels x hypervisor "
		   "releases, support windows",
	.usage = usage_text,
	.flags = CMD_READS_STORE | CMD_MATRIX | CMD_JSON,
	.shortopts = "",
	.options = options,
	.max_args = 0,
	.exec = web_exec,
};
