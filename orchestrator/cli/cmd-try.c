/*
 * hvmatrix try: a developer's series checked against its base before it
 * is sent. The tip is built with the tree's build config and booted in
 * every cell asked for (cmd-try-job.c, the farm's own job); each cell's
 * verdict is compared with the base's (the tree's own recorded verdict,
 * else an earlier try's, else the base is run too); for a series of
 * several patches, each broken cell is run on the series' patches in
 * order until the first that breaks it (the culprit).
 *
 * Its runs are recorded apart: purpose "try" under the tree name
 * "try@TREE" (not a valid matrix tree name, so no tree of a matrix can
 * share it), which the tree's history, comparison, the dashboard, the
 * exports and webhooks never read (store/record.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd-try-priv.h"
#include "daemon/daemon.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/report.h"
#include "lib/xmalloc.h"
#include "matrix/cell.h"

static const char usage_text[] =
"usage: hvmatrix try [options] (REV | BASE..TIP | --mbox FILE)\n"
"\n"
"Try a series before it is sent: build its tip with the tree's build\n"
"config, boot it in every cell, and compare each cell's verdict with the\n"
"base's (the tree's recorded verdict, else the base is run too). REV is\n"
"compared with its first parent; BASE..TIP is the range's commits on\n"
"BASE; --mbox applies a patch series with git am onto the tree's tip in\n"
"a scratch worktree. For a series of several patches, each broken cell\n"
"is booted on the series' patches in order until the first that breaks\n"
"it (the culprit). The runs are recorded apart (purpose try, tree\n"
"try@TREE): no tree's history, regressions, dashboard, export or\n"
"webhook sees them.\n"
"\n"
"  --tree NAME     a tree of the matrix (default: its first)\n"
"  --config NAME   a build config of the matrix (default: the first)\n"
"  --cell GLOB     only the cells whose name matches GLOB (fnmatch)\n"
"  --mbox FILE     a patch series (git format-patch) instead of REV\n"
"  --daemon        queue the try to a running daemon (not supported yet:\n"
"                  a usage error)\n"
"  --matrix FILE   matrix file (default: $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --jobs N        cores for the builds and the boots (default: all)\n"
"  --initrd PATH   test payload (default: the build's payload)\n"
"  --json          print {\"base\", \"tip\", \"cells\", \"culprit\"}\n"
"  -q, --quiet     no progress lines\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 the series breaks no cell, 1 it breaks a cell, 2 usage (a\n"
"series that does not apply too), 3 a host/tool ERROR and no break, 130\n"
"interrupted.\n";

enum {
	OPT_TREE = 0x2000, OPT_CONFIG, OPT_CELL, OPT_MBOX, OPT_DAEMON,
};

static const struct option options[] = {
	{ "tree", required_argument, NULL, OPT_TREE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "cell", required_argument, NULL, OPT_CELL },
	{ "mbox", required_argument, NULL, OPT_MBOX },
	{ "daemon", no_argument, NULL, OPT_DAEMON },
	{ NULL, 0, NULL, 0 },
};

#define TRY_TREE_PREFIX "try@"

/* One cell's outcome. */
struct try_cell {
	const char *name;	/* the matrix's */
	const struct cell *cell;
	int have_base, have_tip;
	enum verdict base, tip;
	char *base_line, *tip_line, *release;
	const char *change;	/* "breaks", "fixes", "same" */
	long culprit;		/* index in the series, -1: none */
};

struct try {
	struct cmd_ctx *ctx;
	const struct matrix_tree *tree;
	const struct matrix_build *build;
	struct cmd_try_series s;
	struct cmd_try_farm farm;
	struct matrix m;	/* ctx->matrix with the try's tree */
	struct matrix_tree *trees;
	struct try_cell *cells;
	size_t n_cells;
};

/* ---- options ---- */

static int pick(struct cmd_ctx *ctx, const struct matrix_tree **t,
		const struct matrix_build **b)
{
	const struct matrix *m = &ctx->matrix;
	const char *tree = cmd_arg(ctx, OPT_TREE);
	const char *config = cmd_arg(ctx, OPT_CONFIG);

	*t = tree ? matrix_find_tree(m, tree) : m->n_trees ? &m->trees[0] :
	     NULL;
	if (!*t)
		return cmd_usage_error("try: %s has no tree%s%s%s",
				       ctx->matrix_path, tree ? " '" : "",
				       tree ? tree : "", tree ? "'" : "");
	*b = config ? matrix_find_build(m, config) :
	     m->n_builds ? &m->builds[0] : NULL;
	if (!*b)
		return cmd_usage_error("try: %s has no build config%s%s%s",
				       ctx->matrix_path, config ? " '" : "",
				       config ? config : "", config ? "'" : "");
	return -1;
}

static int matches(const struct cmd_ctx *ctx, const char *cell)
{
	const char *glob = cmd_arg(ctx, OPT_CELL);

	return !glob || fnmatch(glob, cell, 0) == 0;
}

static int try_prepare(struct cmd_ctx *ctx)
{
	const struct matrix_tree *t;
	const struct matrix_build *b;
	size_t i, n = 0;
	int rc;

	if (cmd_has(ctx, OPT_DAEMON))
		return cmd_usage_error("try: --daemon is not supported yet; "
				       "run try without it (it takes the "
				       "state directory's lock)");
	if (!!cmd_arg(ctx, OPT_MBOX) + !!ctx->argc != 1)
		return cmd_usage_error("try: give one of REV, BASE..TIP or "
				       "--mbox FILE (see 'hvmatrix try "
				       "--help')");
	rc = pick(ctx, &t, &b);
	if (rc >= 0)
		return rc;
	for (i = 0; i < ctx->matrix.n_cells; i++)
		n += matches(ctx, ctx->matrix.cells[i].name);
	if (!n)
		return cmd_usage_error("try: no cell of %s matches '%s'",
				       ctx->matrix_path,
				       cmd_arg(ctx, OPT_CELL));
	return -1;
}

/* ---- the state directory's lock, as the daemon takes it ---- */

static int take_lock(const char *state_dir)
{
	char *path = xstrfmt("%s/%s", state_dir, DAEMON_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || fchmod(fd, 0600) < 0) {
		report_error("%s: %s", path, strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		report_error("%s: another hvmatrix daemon or run works on "
			     "this state directory", path);
	} else {
		free(path);
		return fd;
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

/* ---- verdicts ---- */

static int is_ok(enum verdict v)
{
	return v == VERDICT_PASS;
}

static int is_bad(enum verdict v)
{
	return v == VERDICT_FAIL || v == VERDICT_BLOCKED;
}

/* The releases that ran r, as recorded, else as its cell names them. */
static char *release(const struct cell *c, const struct record_run *r)
{
	const char *qemu = *r->qemu_version ? r->qemu_version : c->qemu;
	const char *xen = *r->xen_version ? r->xen_version : c->xen;

	if (cell_is_xen(c))
		return xstrfmt("qemu %s, xen %s", qemu ? qemu : "?",
			       xen ? xen : "?");
	return xstrfmt("qemu %s", qemu ? qemu : "?");
}

/*
 * The newest run of each cell of (tree, commit, build), for the cells
 * without one yet (base: into the base side, else the tip side); try
 * runs are taken only under the try's tree, never the tree's.
 */
static int read_verdicts(struct try *t, const char *tree, const char *commit,
			 int base)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run *runs = NULL;
	size_t n = 0, i, k;

	if (record_list_commit_runs(t->ctx->store, tree, commit, &runs, &n,
				    &err) < 0) {
		report_error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	for (k = 0; k < t->n_cells; k++) {
		struct try_cell *c = &t->cells[k];

		if (base ? c->have_base : c->have_tip)
			continue;
		for (i = 0; i < n; i++) {
			const struct record_run *r = &runs[i];
			int try_run = !strcmp(r->purpose, RECORD_PURPOSE_TRY);

			if (strcmp(r->cell, c->name) ||
			    strcmp(r->build, t->build->name) ||
			    try_run != !strcmp(tree, t->farm.try_tree))
				continue;
			if (base) {
				c->have_base = 1;
				c->base = r->verdict;
				c->base_line = xstrdup(r->line);
			} else {
				c->have_tip = 1;
				c->tip = r->verdict;
				c->tip_line = xstrdup(r->line);
				c->release = release(c->cell, r);
			}
			break;
		}
	}
	record_runs_free(runs, n);
	strbuf_release(&err);
	return 0;
}

/* Run commit in the cells chosen by want (each set: a name); 0 or an exit
 * code. */
static int run_cells(struct try *t, const struct watch_commit *c,
		     const char *what, int (*want)(const struct try_cell *))
{
	char **names = xcalloc(t->n_cells + 1, sizeof(*names));
	size_t i, n = 0;
	int rc = EXIT_OK;

	for (i = 0; i < t->n_cells; i++)
		if (want(&t->cells[i]))
			names[n++] = (char *)t->cells[i].name;
	if (n) {
		report_progress("try: ", "%s %.12s: building, booting %zu "
				"cell%s", what, c->id, n, n == 1 ? "" : "s");
		rc = cmd_try_job_run(&t->farm, c->id, c->subject, names, n);
	}
	free(names);
	return rc;
}

static int want_all(const struct try_cell *c)
{
	return 1;
}

static int want_no_base(const struct try_cell *c)
{
	return !c->have_base;
}

/* Broken and not yet pinned on a patch. */
static int want_culprit(const struct try_cell *c)
{
	return !strcmp(c->change, "breaks") && c->culprit < 0;
}

static void compare(struct try *t)
{
	size_t i;

	for (i = 0; i < t->n_cells; i++) {
		struct try_cell *c = &t->cells[i];

		c->change = "same";
		c->culprit = -1;
		if (!c->have_base || !c->have_tip)
			continue;
		if (is_ok(c->base) && is_bad(c->tip))
			c->change = "breaks";
		else if (is_bad(c->base) && is_ok(c->tip))
			c->change = "fixes";
	}
}

/*
 * The first patch that breaks each broken cell: the series' patches in
 * order, booted in the broken cells not pinned yet; the tip pins the
 * rest.
 */
static int find_culprits(struct try *t)
{
	size_t p, i;
	int rc;

	for (p = 0; p + 1 < t->s.n; p++) {
		const struct watch_commit *c = &t->s.patches[p];
		struct strbuf what = STRBUF_INIT;

		for (i = 0; i < t->n_cells && !want_culprit(&t->cells[i]); i++)
			;
		if (i == t->n_cells)
			return 0;
		strbuf_addf(&what, "culprit: patch %zu/%zu", p + 1, t->s.n);
		rc = run_cells(t, c, what.buf, want_culprit);
		strbuf_release(&what);
		if (rc)
			return rc;
		for (i = 0; i < t->n_cells; i++) {
			struct try_cell *tc = &t->cells[i];
			struct record_run *runs = NULL;
			struct strbuf err = STRBUF_INIT;
			size_t n = 0, k;

			if (!want_culprit(tc))
				continue;
			if (record_list_commit_runs(t->ctx->store,
						    t->farm.try_tree, c->id,
						    &runs, &n, &err) < 0) {
				report_error("%s", err.buf);
				strbuf_release(&err);
				return EXIT_ERROR;
			}
			for (k = 0; k < n; k++)
				if (!strcmp(runs[k].cell, tc->name) &&
				    !strcmp(runs[k].build, t->build->name))
					break;
			if (k < n && is_bad(runs[k].verdict))
				tc->culprit = (long)p;
			record_runs_free(runs, n);
			strbuf_release(&err);
		}
	}
	for (i = 0; i < t->n_cells; i++)
		if (want_culprit(&t->cells[i]))
			t->cells[i].culprit = (long)t->s.n - 1;
	return 0;
}

/* ---- what it prints ---- */

static const char *verdict_or_none(int have, enum verdict v)
{
	return have ? verdict_name(v) : "NONE";
}

static void json_commit(struct json *j, const char *key,
			const struct watch_commit *c)
{
	json_key(j, key);
	json_object_begin(j);
	json_key_str(j, "commit", c->id);
	json_key_str(j, "subject", c->subject);
	json_object_end(j);
}

static void print_json(const struct try *t, struct strbuf *out)
{
	struct json j;
	size_t i;

	json_init(&j, out);
	json_object_begin(&j);
	json_commit(&j, "base", &t->s.base);
	json_commit(&j, "tip", &t->s.patches[t->s.n - 1]);
	json_key(&j, "cells");
	json_array_begin(&j);
	for (i = 0; i < t->n_cells; i++) {
		const struct try_cell *c = &t->cells[i];
		const char *line = !strcmp(c->change, "breaks") ? c->tip_line :
				   !strcmp(c->change, "fixes") ? c->base_line :
				   "";

		json_object_begin(&j);
		json_key_str(&j, "cell", c->name);
		json_key_str(&j, "base", verdict_or_none(c->have_base,
							 c->base));
		json_key_str(&j, "tip", verdict_or_none(c->have_tip, c->tip));
		json_key_str(&j, "change", c->change);
		json_key_str(&j, "line", line ? line : "");
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "culprit");
	json_array_begin(&j);
	for (i = 0; i < t->n_cells; i++) {
		const struct try_cell *c = &t->cells[i];

		if (c->culprit < 0)
			continue;
		json_object_begin(&j);
		json_key_str(&j, "cell", c->name);
		json_key_str(&j, "commit", t->s.patches[c->culprit].id);
		json_key_str(&j, "subject", t->s.patches[c->culprit].subject);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	strbuf_addch(out, '\n');
}

static void add_commit(struct strbuf *out, const struct watch_commit *c)
{
	strbuf_addf(out, "%.12s \"", c->id);
	cmd_add_printable(out, c->subject, 200);
	strbuf_addch(out, '"');
}

static void print_text(const struct try *t, struct strbuf *out)
{
	size_t i, n[3] = { 0, 0, 0 };

	strbuf_addf(out, "try: %s, %zu patch%s on base ", t->tree->name,
		    t->s.n, t->s.n == 1 ? "" : "es");
	add_commit(out, &t->s.base);
	strbuf_addstr(out, "\n     tip ");
	add_commit(out, &t->s.patches[t->s.n - 1]);
	strbuf_addf(out, "\n\n%-24s  %-7s  %-7s  %-7s  %s\n", "CELL", "BASE",
		    "TIP", "CHANGE", "RELEASE");
	for (i = 0; i < t->n_cells; i++) {
		const struct try_cell *c = &t->cells[i];

		strbuf_addf(out, "%-24s  %-7s  %-7s  %-7s  ", c->name,
			    verdict_or_none(c->have_base, c->base),
			    verdict_or_none(c->have_tip, c->tip), c->change);
		cmd_add_printable(out, c->release ? c->release : "", 200);
		strbuf_addch(out, '\n');
		if (c->culprit >= 0) {
			strbuf_addf(out, "    first broken by patch %ld/%zu ",
				    c->culprit + 1, t->s.n);
			add_commit(out, &t->s.patches[c->culprit]);
			strbuf_addch(out, '\n');
		}
		if (!strcmp(c->change, "breaks") && c->tip_line &&
		    *c->tip_line) {
			strbuf_addstr(out, "    line: ");
			cmd_add_printable(out, c->tip_line, 300);
			strbuf_addch(out, '\n');
		}
		n[!strcmp(c->change, "breaks") ? 0 :
		  !strcmp(c->change, "fixes") ? 1 : 2]++;
	}
	strbuf_addf(out, "\nbreaks %zu cell%s, fixes %zu, same %zu\n", n[0],
		    n[0] == 1 ? "" : "s", n[1], n[2]);
}

/* ---- the command ---- */

/* The matrix the jobs see: the command's, with the try's tree. */
static void farm_matrix(struct try *t)
{
	const struct matrix *m = &t->ctx->matrix;
	struct matrix_tree *tt;

	t->m = *m;
	t->trees = xcalloc(m->n_trees + 1, sizeof(*t->trees));
	memcpy(t->trees, m->trees, m->n_trees * sizeof(*t->trees));
	tt = &t->trees[m->n_trees];
	*tt = *t->tree;
	tt->name = xstrfmt(TRY_TREE_PREFIX "%s", t->tree->name);
	tt->path = t->s.repo;	/* the build reads the series there */
	tt->url = NULL;
	tt->credentials = NULL;
	t->m.trees = t->trees;
	t->m.n_trees = m->n_trees + 1;
	t->farm.m = &t->m;
	t->farm.try_tree = tt->name;
}

static int try_run(struct try *t)
{
	const struct watch_commit *tip = &t->s.patches[t->s.n - 1];
	size_t i;
	int rc, worst = EXIT_OK;

	rc = run_cells(t, tip, "tip", want_all);
	if (rc || read_verdicts(t, t->farm.try_tree, tip->id, 0) < 0)
		return rc ? rc : EXIT_ERROR;
	/* The tree's own verdicts of the base first, then a try's. */
	if (read_verdicts(t, t->tree->name, t->s.base.id, 1) < 0 ||
	    read_verdicts(t, t->farm.try_tree, t->s.base.id, 1) < 0)
		return EXIT_ERROR;
	rc = run_cells(t, &t->s.base, "base (no verdict recorded)",
		       want_no_base);
	if (rc || read_verdicts(t, t->farm.try_tree, t->s.base.id, 1) < 0)
		return rc ? rc : EXIT_ERROR;
	compare(t);
	rc = find_culprits(t);
	if (rc)
		return rc;
	for (i = 0; i < t->n_cells; i++) {
		const struct try_cell *c = &t->cells[i];

		if (!strcmp(c->change, "breaks"))
			worst = EXIT_FAIL;
		else if (worst == EXIT_OK &&
			 (!c->have_tip || !c->have_base ||
			  c->tip == VERDICT_ERROR || c->base == VERDICT_ERROR))
			worst = EXIT_ERROR;
	}
	return worst;
}

static int try_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct try t;
	size_t i;
	int ret, lock_fd = -1;

	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	pick(ctx, &t.tree, &t.build);	/* found: try_prepare() checked */
	/* Whatever the farm makes is its alone, as the daemon's. */
	umask(077);
	lock_fd = take_lock(ctx->state_dir);
	if (lock_fd < 0)
		return EXIT_ERROR;
	report_progress("try: ", "%s: reading the series", t.tree->name);
	ret = cmd_try_series_open(&t.s, t.tree, ctx->state_dir,
				  ctx->argc ? ctx->argv[0] : NULL,
				  cmd_arg(ctx, OPT_MBOX), &err);
	if (ret) {
		report_error("try: %s", err.buf);
		goto out;
	}
	t.farm.store = ctx->store;
	t.farm.state_dir = ctx->state_dir;
	t.farm.initrd = ctx->initrd;
	t.farm.build = t.build->name;
	t.farm.jobs = ctx->jobs;
	t.farm.quiet = ctx->quiet;
	farm_matrix(&t);
	t.cells = xcalloc(ctx->matrix.n_cells + 1, sizeof(*t.cells));
	for (i = 0; i < ctx->matrix.n_cells; i++)
		if (matches(ctx, ctx->matrix.cells[i].name)) {
			t.cells[t.n_cells].cell = &ctx->matrix.cells[i];
			t.cells[t.n_cells++].name = ctx->matrix.cells[i].name;
		}
	ret = try_run(&t);
	if (ret == EXIT_OK || ret == EXIT_FAIL ||
	    (ret == EXIT_ERROR && t.cells[0].change)) {
		if (ctx->json)
			print_json(&t, &out);
		else
			print_text(&t, &out);
		fputs(out.buf, stdout);
	}
out:
	for (i = 0; i < t.n_cells; i++) {
		free(t.cells[i].base_line);
		free(t.cells[i].tip_line);
		free(t.cells[i].release);
	}
	free(t.cells);
	if (t.trees)
		free((char *)t.farm.try_tree);
	free(t.trees);
	cmd_try_series_release(&t.s);
	close(lock_fd);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_try = {
	.name = "try",
	.summary = "try a series against its base before it is sent",
	.usage = usage_text,
	.flags = CMD_NEEDS_MATRIX | CMD_WRITES_STORE | CMD_TAKES_LOCK |
		 CMD_JSON | CMD_BOOTS,
	.options = options,
	.max_args = 1,
	.prepare = try_prepare,
	.exec = try_exec,
};
