/*
 * cmd-regressions: `hvmatrix regressions`, which commit broke which cell
 * (or made it drift), as the store shows it now (regressions.c computes it
 * from the recorded runs; the daemon acts on the same computation).
 * Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "lib/report.h"
#include "lib/json.h"
#include "compare/regressions.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix regressions [--state DIR] [--matrix FILE] [--tree T]\n"
"                            [--cell C] [--all] [--json]\n"
"\n"
"List the regressions the recorded runs show: per tree, build config and\n"
"cell, the first bad commit (bisected when commits between were not\n"
"tested), the last good one, the decisive console line, how many runs of\n"
"the first bad commit failed, and what the bisection spent. The same\n"
"regression seen in several cells is listed once, with its cells.\n"
"A drift is a commit that still passes but engages other parts of the\n"
"hypervisor interface than its parent (its fingerprint: hypervisor,\n"
"guest type, clocksource, paravirt features, CPU flags; a value that\n"
"differs between runs of one commit is noise, never drift), bisected the\n"
"same way.\n"
"Once a bisection names a culprit of an open regression, the daemon\n"
"builds the tree's tip with it reverted and boots the broken cells: the\n"
"finding then says `verified by revert` (every broken cell healed) or\n"
"why not (still fails, the revert does not apply, the farm failed).\n"
"\n"
"  --state DIR     state directory (default $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --matrix FILE   for the trees' and cells' `confirm` (default\n"
"                  $HVMATRIX_MATRIX, else matrices/default.yaml)\n"
"  --tree T        only tree T\n"
"  --cell C        only regressions seen in cell C\n"
"  --all           fixed, flaky and undecided ones too (default: open\n"
"                  and drift)\n"
"  --json          an array of objects: id (TREE:BUILD:CELL:FIRSTBAD12, for\n"
"                  `hvmatrix report`), tree, build, cell, status (open,\n"
"                  fixed, flaky, undecided, drift), first_bad, last_good,\n"
"                  fixed_by ({commit, subject, author} or null), line,\n"
"                  runs {fail, total}, signature, cells, bisect ({builds,\n"
"                  boots, running} or null), why, range, changes (a\n"
"                  drift's [{field, before, after}], null for a set\n"
"                  element absent on that side; [] for a failure),\n"
"                  revert (the culprit reverted on the tip and the broken\n"
"                  cells booted: {status: heals, still-fails,\n"
"                  does-not-apply, error or pending; run_ids, tip, commit,\n"
"                  why}, or null while not tried)\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 listed (whatever it shows), 2 usage, 3 the store cannot be read.\n";

enum { OPT_TREE = 't', OPT_CELL = 'c', OPT_ALL = 'a' };

static const struct option options[] = {
	{ "tree", required_argument, NULL, OPT_TREE },
	{ "cell", required_argument, NULL, OPT_CELL },
	{ "all", no_argument, NULL, OPT_ALL },
	{ NULL, 0, NULL, 0 },
};

static int shown(const struct cmd_ctx *ctx, const struct regression *g)
{
	const char *tree = cmd_arg(ctx, OPT_TREE);
	const char *cell = cmd_arg(ctx, OPT_CELL);
	size_t i;

	if (tree && strcmp(tree, g->tree))
		return 0;
	if (!cmd_has(ctx, OPT_ALL) && g->status != REGRESSION_OPEN &&
	    g->status != REGRESSION_DRIFT)
		return 0;
	if (!cell)
		return 1;
	for (i = 0; i < g->n_cells; i++)
		if (!strcmp(g->cells[i], cell))
			return 1;
	return 0;
}

static void add_ref(struct strbuf *sb, const char *what,
		    const struct regression_ref *ref)
{
	if (!ref->commit)
		return;
	strbuf_addf(sb, "    %-10s %.12s ", what, ref->commit);
	cmd_add_printable(sb, ref->subject, 72);
	strbuf_addstr(sb, " (");
	cmd_add_printable(sb, ref->author, 60);
	strbuf_addstr(sb, ")\n");
}

static void add_text(struct strbuf *sb, const struct regression *g)
{
	struct strbuf revert = STRBUF_INIT;
	size_t i;

	strbuf_addf(sb, "%s %s: %s in ", g->tree, g->build,
		    regression_status_name(g->status));
	for (i = 0; i < g->n_cells; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", g->cells[i]);
	strbuf_addch(sb, '\n');
	strbuf_addstr(sb, "    id         ");
	regression_id(g, sb);
	strbuf_addch(sb, '\n');
	add_ref(sb, "first bad", &g->first_bad);
	add_ref(sb, "last good", &g->last_good);
	add_ref(sb, "fixed by", &g->fixed_by);
	strbuf_addstr(sb, g->changes.n ? "    changes    " : "    line       ");
	cmd_add_printable(sb, g->line, 160);
	if (g->changes.n)
		strbuf_addf(sb, "\n    runs       %u of %u showed it", g->fail,
			    g->total);
	else
		strbuf_addf(sb, "\n    runs       %u of %u failed", g->fail,
			    g->total);
	if (g->bisected)
		strbuf_addf(sb, "; bisection%s: %u build%s, %u boot%s",
			    g->bisecting ? " under way" : "", g->builds,
			    g->builds == 1 ? "" : "s", g->boots,
			    g->boots == 1 ? "" : "s");
	strbuf_addch(sb, '\n');
	if (g->why) {
		strbuf_addstr(sb, "    why        ");
		cmd_add_printable(sb, g->why, 200);
		strbuf_addch(sb, '\n');
	}
	regression_revert_words(g, &revert);
	if (revert.len) {
		strbuf_addstr(sb, "    revert     ");
		cmd_add_printable(sb, revert.buf, 300);
		strbuf_addch(sb, '\n');
	}
	strbuf_release(&revert);
}

static int regressions_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct regressions rs = { 0 };
	struct json js;
	struct matrix m = { 0 };
	int have_m = 0, ret = EXIT_ERROR;
	size_t i, n = 0;

	/* The matrix only refines `confirm`: without one, the defaults. */
	have_m = cmd_optional_matrix(ctx, &m);
	if (have_m < 0) {
		have_m = 0;
		ret = EXIT_USAGE;
		goto out;
	}
	if (ctx->store &&
	    regressions_compute(ctx->store, have_m ? &m : NULL, &rs,
				&err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	json_init(&js, &out);
	if (ctx->json)
		json_array_begin(&js);
	for (i = 0; i < rs.n; i++) {
		if (!shown(ctx, &rs.v[i]))
			continue;
		if (ctx->json) {
			regression_to_json(&rs.v[i], &js);
		} else {
			add_text(&out, &rs.v[i]);
		}
		n++;
	}
	if (ctx->json) {
		json_array_end(&js);
		strbuf_addch(&out, '\n');
	} else if (!n) {
		strbuf_addf(&out, "no %sregressions recorded\n",
			    cmd_has(ctx, OPT_ALL) ? "" : "open ");
	}
	fputs(out.buf, stdout);
	ret = EXIT_OK;
out:
	regressions_release(&rs);
	if (have_m)
		matrix_release(&m);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_regressions = {
	.name = "regressions",
	.summary = "which commit broke which cell: open (or all) regressions",
	.usage = usage_text,
	.flags = CMD_READS_STORE | CMD_MATRIX | CMD_JSON,
	.shortopts = "",
	.options = options,
	.max_args = 0,
	.exec = regressions_exec,
};
