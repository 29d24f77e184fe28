/*
 * hvmatrix bisect: one bisection in the foreground. The first-parent chain
 * from GOOD to BAD is recorded, then each step the driver (bisect.c) asks
 * for is queued as runs wanted of the cell and run alone through the
 * daemon's pipeline (as `hvmatrix run` does), until the first bad commit
 * is named and confirmed, or the range cannot be narrowed further. Every
 * run is recorded: a bisection stopped and started again goes on where it
 * was, and the daemon's own comparison sees the same results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/bisect.h"
#include "cli/cmd.h"
#include "daemon/daemon.h"
#include "lib/report.h"
#include "lib/json.h"
#include "compare/regressions.h"
#include "compare/signature.h"
#include "watch/watch.h"
#include "lib/xmalloc.h"

#define BISECT_MAX_CHAIN 100000

static const char usage_text[] =
"usage: hvmatrix bisect --tree T --cell C --good G --bad B [--runs N]\n"
"                       [--config NAME] [options]\n"
"\n"
"Find the first commit between G and B (on B's first-parent chain) that\n"
"breaks cell C, building and booting only what the bisection needs and\n"
"reusing every result already recorded. A step counts as bad only when\n"
"it fails with the same signature as B; a commit that does not build or\n"
"fails another way is skipped. The culprit is named once its FAIL and its\n"
"parent's PASS are each reproduced N more times. Progress on stderr.\n"
"\n"
"  --tree T        a tree of the matrix file\n"
"  --cell C        a cell of the matrix file\n"
"  --good G        a commit where C passes\n"
"  --bad B         a commit where C fails\n"
"  --runs N        reproductions to confirm the culprit (default 3)\n"
"  --config NAME   a build config of the matrix (default: the first)\n"
"  --matrix FILE   matrix file (default: $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --jobs N        cores for the builds and the boots (default: all)\n"
"  --initrd PATH   test payload (default: the build's payload)\n"
"  --json          the result as one JSON object (the fields of\n"
"                  'hvmatrix regressions --json')\n"
"  -q, --quiet     no progress lines of the builds and boots\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 the first bad commit is named, 1 the bisection could not decide\n"
"(flaky, unbuildable commits; the range left is printed), 2 usage or\n"
"configuration error, 3 a host/tool ERROR, 130 interrupted.\n";

enum { OPT_TREE = 't', OPT_CELL = 'c', OPT_GOOD = 'g', OPT_BAD = 'b',
       OPT_RUNS = 'r', OPT_CONFIG = 'C' };

static const struct option options[] = {
	{ "tree", required_argument, NULL, OPT_TREE },
	{ "cell", required_argument, NULL, OPT_CELL },
	{ "good", required_argument, NULL, OPT_GOOD },
	{ "bad", required_argument, NULL, OPT_BAD },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ NULL, 0, NULL, 0 },
};

static unsigned confirm_runs(const struct cmd_ctx *ctx)
{
	const char *s = cmd_arg(ctx, OPT_RUNS);
	char *end;
	long v;

	if (!s)
		return BISECT_CONFIRM_DEFAULT;
	v = strtol(s, &end, 10);
	return !*s || *end || v < 0 || v > 20 ? (unsigned)-1 : (unsigned)v;
}

static int bisect_prepare(struct cmd_ctx *ctx)
{
	const char *config = cmd_arg(ctx, OPT_CONFIG);

	if (!cmd_arg(ctx, OPT_TREE) || !cmd_arg(ctx, OPT_CELL) ||
	    !cmd_arg(ctx, OPT_GOOD) || !cmd_arg(ctx, OPT_BAD))
		return cmd_usage_error("bisect: --tree, --cell, --good and "
				       "--bad are required (see 'hvmatrix "
				       "bisect --help')");
	if (!matrix_find_tree(&ctx->matrix, cmd_arg(ctx, OPT_TREE)))
		return cmd_usage_error("bisect: %s has no tree '%s'",
				       ctx->matrix_path, cmd_arg(ctx, OPT_TREE));
	if (!matrix_find(&ctx->matrix, cmd_arg(ctx, OPT_CELL)))
		return cmd_usage_error("bisect: %s has no cell '%s'",
				       ctx->matrix_path, cmd_arg(ctx, OPT_CELL));
	if (config ? !matrix_find_build(&ctx->matrix, config) :
	    !ctx->matrix.n_builds)
		return cmd_usage_error("bisect: %s has no build config%s%s",
				       ctx->matrix_path, config ? " " : "",
				       config ? config : "");
	if (confirm_runs(ctx) == (unsigned)-1)
		return cmd_usage_error("bisect: --runs wants 0..20, not '%s'",
				       cmd_arg(ctx, OPT_RUNS));
	return -1;
}

/* B's first-parent chain back to G, oldest (G) first. */
static int chain(const struct matrix_tree *t, const char *state_dir,
		 const char *good, const char *bad, struct watch_commit **out,
		 size_t *n, struct strbuf *err)
{
	struct watch_repo *w = NULL;
	char *mirror = watch_mirror_dir(state_dir, t->name);
	struct watch_commit g, *v = NULL;
	size_t nr = 0, alloc = 0, i;
	int ret = -1, have_g = 0;

	if (watch_open(&w, t->path, t->url, t->credentials, mirror, err) < 0 ||
	    watch_fetch(w, err) < 0 || watch_lookup(w, good, &g, err) < 0)
		goto out;
	have_g = 1;
	ALLOC_GROW(v, nr + 1, alloc);
	if (watch_lookup(w, bad, &v[nr], err) < 0)
		goto out;
	nr++;
	while (strcmp(v[nr - 1].id, g.id)) {
		if (!*v[nr - 1].parent || nr > BISECT_MAX_CHAIN) {
			strbuf_addf(err, "%s is not on the first-parent chain "
				    "of %s in tree %s", good, bad, t->name);
			goto out;
		}
		ALLOC_GROW(v, nr + 1, alloc);
		if (watch_lookup(w, v[nr - 1].parent, &v[nr], err) < 0)
			goto out;
		nr++;
	}
	if (nr < 2) {
		strbuf_addf(err, "--good and --bad are the same commit");
		goto out;
	}
	for (i = 0; i < nr / 2; i++) {
		struct watch_commit tmp = v[i];

		v[i] = v[nr - 1 - i];
		v[nr - 1 - i] = tmp;
	}
	*out = v;
	*n = nr;
	v = NULL;
	nr = 0;
	ret = 0;
out:
	if (have_g)
		watch_commit_release(&g);
	watch_commits_free(v, nr);
	if (w)
		watch_close(w);
	free(mirror);
	return ret;
}

/* The recorded runs of the cell on the chain, for bisect_load. */
struct results {
	struct record_run *runs;
	size_t n_runs;
	struct bisect_result *v;
	size_t n;
	char **sigs;
};

static void results_release(struct results *r)
{
	size_t i;

	for (i = 0; i < r->n_runs; i++)
		free(r->sigs[i]);
	free(r->sigs);
	free(r->v);
	record_runs_free(r->runs, r->n_runs);
	memset(r, 0, sizeof(*r));
}

static int results_load(struct record *store, const char *tree,
			const char *build, const char *cell, struct results *r,
			struct strbuf *err)
{
	size_t i;

	if (record_history_tree_runs(store, tree, build, &r->runs, &r->n_runs,
				     err) < 0)
		return -1;
	r->v = xcalloc(r->n_runs + 1, sizeof(*r->v));
	r->sigs = xcalloc(r->n_runs + 1, sizeof(*r->sigs));
	for (i = 0; i < r->n_runs; i++) {
		const struct record_run *run = &r->runs[i];

		if (strcmp(run->cell, cell))
			continue;
		if (run->verdict == VERDICT_FAIL)
			r->sigs[i] = signature_of(run->line);
		r->v[r->n].commit = run->commit_id;
		r->v[r->n].cell = run->cell;
		r->v[r->n].verdict = run->verdict;
		r->v[r->n].signature = r->sigs[i];
		r->v[r->n].ours = !strcmp(run->purpose, "bisect");
		r->n++;
	}
	return 0;
}

/* The signature of B's failure, from its first FAIL run, or NULL. */
static const char *bad_signature(const struct results *r, const char *bad,
				 unsigned *n_runs)
{
	size_t i;

	*n_runs = 0;
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].commit, bad))
			continue;
		(*n_runs)++;
		if (r->v[i].verdict == VERDICT_FAIL)
			return r->v[i].signature;
	}
	return NULL;
}

static unsigned runs_of(const struct results *r, const char *commit)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < r->n; i++)
		n += !strcmp(r->v[i].commit, commit);
	return n;
}

static void ref_of(struct regression_ref *ref, const struct watch_commit *c)
{
	ref->commit = xstrdup(c->id);
	ref->subject = xstrdup(c->subject);
	ref->author = xstrdup(c->author);
}

/* Run the step's wanted runs alone, through the daemon's pipeline. */
static int run_step(struct cmd_ctx *ctx, const struct matrix_tree *t,
		    const struct matrix_build *b, const struct watch_commit *c,
		    const char *cell, unsigned total, struct strbuf *err)
{
	struct daemon_opts o = {
		.matrix_path = ctx->matrix_path, .state_dir = ctx->state_dir,
		.initrd = ctx->initrd, .jobs = ctx->jobs, .quiet = ctx->quiet,
	};
	struct record_commit rc = {
		(char *)c->id, c->subject, c->author, c->time,
		(char *)c->parent,
	};
	int ran = 0, dret;

	if (record_queue_want_runs(ctx->store, t->name, c->id, b->name, cell,
				   total,
				   "bisect", RECORD_PRIORITY_MANUAL, err) < 0 ||
	    record_queue_add_one(ctx->store, t->name, &rc, b->name,
				 RECORD_PRIORITY_MANUAL, &o.only_job, err) < 0)
		return EXIT_ERROR;
	o.ran = &ran;
	dret = daemon_main(&o);
	if (!ran || dret == 130 || dret == EXIT_USAGE)
		return dret ? dret : EXIT_ERROR;
	return -1;
}

static int bisect_exec(struct cmd_ctx *ctx)
{
	const char *cell = cmd_arg(ctx, OPT_CELL);
	const char *config = cmd_arg(ctx, OPT_CONFIG);
	const struct matrix_tree *t = matrix_find_tree(&ctx->matrix,
						       cmd_arg(ctx, OPT_TREE));
	const struct matrix_build *b = config ?
		matrix_find_build(&ctx->matrix, config) : &ctx->matrix.builds[0];
	unsigned confirm = confirm_runs(ctx), n_bad_runs, step_no = 0;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct watch_commit *c = NULL;
	struct record_commit *rcs = NULL;
	struct results res = { 0 };
	struct bisect bs;
	struct bisect_step step;
	struct bisect_target target;
	const char **ids = NULL;
	const char *sig;
	enum bisect_status st;
	size_t n = 0, i;
	int ret = EXIT_ERROR, have_bs = 0, rc;

	memset(&bs, 0, sizeof(bs));
	if (chain(t, ctx->state_dir, cmd_arg(ctx, OPT_GOOD),
		  cmd_arg(ctx, OPT_BAD), &c, &n, &err) < 0) {
		report_error("bisect: %s", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	rcs = xcalloc(n, sizeof(*rcs));
	ids = xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		rcs[i].id = c[i].id;
		rcs[i].subject = c[i].subject;
		rcs[i].author = c[i].author;
		rcs[i].time = c[i].time;
		rcs[i].parent = c[i].parent;
		ids[i] = c[i].id;
	}
	if (record_queue_add(ctx->store, t->name, rcs, n, NULL, 0, 0, 0,
			     RECORD_ENQUEUE_NO_JOBS, NULL, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	fprintf(stderr, "bisect: %s %s, cell %s: %zu commits from %.12s "
		"(good) to %.12s (bad)\n", t->name, b->name, cell, n, c[0].id,
		c[n - 1].id);
	for (;;) {
		results_release(&res);
		if (have_bs)
			bisect_release(&bs);
		have_bs = 0;
		if (results_load(ctx->store, t->name, b->name, cell, &res,
				 &err) < 0) {
			report_error("%s", err.buf);
			goto out;
		}
		sig = bad_signature(&res, c[n - 1].id, &n_bad_runs);
		if (!sig && n_bad_runs) {
			report_error("bisect: %.12s does not FAIL "
				     "in cell %s", c[n - 1].id, cell);
			ret = EXIT_USAGE;
			goto out;
		}
		if (!sig) {
			fprintf(stderr, "bisect: first, the bad commit %.12s\n",
				c[n - 1].id);
			rc = run_step(ctx, t, b, &c[n - 1], cell, 1, &err);
			if (rc >= 0) {
				ret = rc;
				goto out;
			}
			continue;
		}
		target.cell = cell;
		target.signature = sig;
		have_bs = 1;
		if (bisect_init(&bs, ids, n, &target, 1, confirm, &err) < 0 ||
		    bisect_load(&bs, res.v, res.n, NULL, &err) < 0) {
			report_error("%s", err.buf);
			goto out;
		}
		st = bisect_next(&bs, &step);
		if (st != BISECT_RUN)
			break;
		step_no++;
		fprintf(stderr, "bisect: step %u: %.12s \"%s\": %u run%s of "
			"%s (%u builds, %u boots so far)\n", step_no,
			c[step.commit].id, c[step.commit].subject,
			step.want[0].runs, step.want[0].runs == 1 ? "" : "s",
			cell, bs.builds, bs.boots);
		rc = run_step(ctx, t, b, &c[step.commit], cell,
			      runs_of(&res, c[step.commit].id) +
			      step.want[0].runs, &err);
		if (rc >= 0) {
			if (rc == EXIT_ERROR)
				report_error("%s", err.buf);
			ret = rc;
			goto out;
		}
	}
	{
		const struct bisect_cell *bc = &bs.cells[0];
		int done = st == BISECT_DONE;
		unsigned fail = 0, total = 0;
		const char *line = "";
		size_t k = done ? bc->culprit : n - 1;

		for (i = 0; i < res.n_runs; i++) {
			const struct record_run *run = &res.runs[i];

			if (strcmp(run->cell, cell) ||
			    strcmp(run->commit_id, c[k].id))
				continue;
			total++;
			if (run->verdict == VERDICT_FAIL && res.sigs[i] &&
			    !strcmp(res.sigs[i], sig) && !fail++)
				line = run->line;
		}
		/* The object `hvmatrix regressions --json` prints. */
		struct regressions one = { 0 };
		struct regression *g;
		struct json js;

		one.v = xcalloc(1, sizeof(*one.v));
		one.n = 1;
		g = &one.v[0];
		g->tree = xstrdup(t->name);
		g->build = xstrdup(b->name);
		g->cells = xcalloc(1, sizeof(char *));
		g->cells[0] = xstrdup(cell);
		g->n_cells = 1;
		g->status = done ? REGRESSION_OPEN : REGRESSION_UNDECIDED;
		if (done) {
			ref_of(&g->first_bad, &c[bc->culprit]);
			ref_of(&g->last_good, &c[bc->lo]);
		} else {
			ref_of(&g->lo, &c[bc->lo]);
			ref_of(&g->hi, &c[bc->hi]);
			g->why = xstrdup(bc->why.buf);
		}
		g->line = xstrdup(line);
		g->signature = xstrdup(sig);
		g->fail = fail;
		g->total = total;
		g->bisected = 1;
		g->builds = bs.builds;
		g->boots = bs.boots;
		json_init(&js, &out);
		regression_to_json(g, &js);
		strbuf_addch(&out, '\n');
		regressions_release(&one);
		if (ctx->json)
			fputs(out.buf, stdout);
		else if (done)
			printf("first bad commit: %s %s\n  author: %s\n  last "
			       "good: %.12s\n  line: %s\n  spent: %u builds, "
			       "%u boots\n", c[bc->culprit].id,
			       c[bc->culprit].subject, c[bc->culprit].author,
			       c[bc->lo].id, line, bs.builds, bs.boots);
		else
			printf("undecided: %s\n  range: %.12s (good) .. %.12s "
			       "(bad)\n  spent: %u builds, %u boots\n",
			       bc->why.buf, c[bc->lo].id, c[bc->hi].id,
			       bs.builds, bs.boots);
		ret = done ? EXIT_OK : EXIT_FAIL;
	}
out:
	if (have_bs)
		bisect_release(&bs);
	results_release(&res);
	watch_commits_free(c, n);
	free(rcs);
	free(ids);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_bisect = {
	.name = "bisect",
	.summary = "find the first commit that breaks a cell, in the "
		   "foreground",
	.usage = usage_text,
	.flags = CMD_NEEDS_MATRIX | CMD_WRITES_STORE | CMD_TAKES_LOCK |
		 CMD_JSON | CMD_BOOTS,
	.options = options,
	.max_args = 0,
	.prepare = bisect_prepare,
	.exec = bisect_exec,
};
