/*
 * hvmatrix run: build and boot one commit of a watched tree in the
 * foreground, through the same queue and pipeline as the daemon (the job
 * is queued first, then run alone), and print its verdicts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "daemon/daemon.h"
#include "lib/report.h"
#include "lib/json.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "watch/watch.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix run --tree NAME --rev REV [options]\n"
"\n"
"Build commit REV of the matrix's tree NAME with one build config, boot\n"
"the build in every cell, record the verdicts and print them. A commit\n"
"already recorded is not run again: only its missing cells are.\n"
"\n"
"  --tree NAME     a tree of the matrix file (required)\n"
"  --rev REV       a commit, branch or tag of that tree (required)\n"
"  --config NAME   a build config of the matrix (default: the first)\n"
"  --matrix FILE   matrix file (default: $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --jobs N        cores for the build and the boots (default: all)\n"
"  --initrd PATH   test payload (default: the build's payload)\n"
"  --json          print the verdicts as one JSON array\n"
"  -q, --quiet     no progress lines\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 every cell PASS or SKIP, 1 a cell FAILed or the build broke\n"
"(BLOCKED), 2 usage or configuration error, 3 a host/tool ERROR and no\n"
"FAIL, 130 interrupted.\n";

/* Resolve REV in the tree's repository (fetching a remote first). */
static int lookup(const struct matrix_tree *t, const char *state_dir,
		  const char *rev, struct watch_commit *c, struct strbuf *err)
{
	struct watch_repo *w = NULL;
	char *mirror = watch_mirror_dir(state_dir, t->name);
	int rc = -1;

	if (watch_open(&w, t->path, t->url, t->credentials, mirror, err) < 0 ||
	    watch_fetch(w, err) < 0 || watch_lookup(w, rev, c, err) < 0)
		goto out;
	rc = 0;
out:
	if (w)
		watch_close(w);
	free(mirror);
	return rc;
}

/* The newest verdict of every cell of this commit, printed; the exit code. */
static int report(struct record *store, const char *tree, const char *commit,
		  const char *build, int json)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct record_run *runs = NULL;
	struct json j;
	size_t n = 0, i, k, shown = 0;
	int ret = EXIT_OK;

	if (record_list_commit_runs(store, tree, commit, &runs, &n,
				    &err) < 0) {
		report_error("%s", err.buf);
		ret = EXIT_ERROR;
		goto out;
	}
	json_init(&j, &out);
	if (json)
		json_array_begin(&j);
	else
		strbuf_addf(&out, "%-24s  %-7s  %7s  %s\n", "CELL", "VERDICT",
			    "TIME", "REASON");
	for (i = 0; i < n; i++) {
		struct record_run *r = &runs[i];

		if (strcmp(r->build, build))
			continue;
		/* Newest first: skip a cell seen already. */
		for (k = 0; k < i; k++)
			if (!strcmp(runs[k].build, build) &&
			    !strcmp(runs[k].cell, r->cell))
				break;
		if (k < i)
			continue;
		ret = verdict_exit_worst(ret, verdict_exit_code(r->verdict));
		if (json) {
			json_object_begin(&j);
			json_key_str(&j, "cell", r->cell);
			json_key_str(&j, "verdict", verdict_name(r->verdict));
			json_key_str(&j, "reason", r->reason);
			json_key_double(&j, "duration_s", r->duration_s);
			json_key_str(&j, "log", r->log_path);
			json_object_end(&j);
		} else {
			strbuf_addf(&out, "%-24s  %-7s  %6.1fs  %s\n", r->cell,
				    verdict_name(r->verdict), r->duration_s,
				    r->reason);
		}
		shown++;
	}
	if (json) {
		json_array_end(&j);
		strbuf_addch(&out, '\n');
	}
	fputs(out.buf, stdout);
	/* Nothing recorded for a commit that was run: the farm failed. */
	if (!shown)
		ret = EXIT_ERROR;
out:
	record_runs_free(runs, n);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

enum { OPT_TREE = 't', OPT_REV = 'r', OPT_CONFIG = 'c' };

static const struct option options[] = {
	{ "tree", required_argument, NULL, OPT_TREE },
	{ "rev", required_argument, NULL, OPT_REV },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ NULL, 0, NULL, 0 },
};

/* The tree and build config the options name, or NULL after a message. */
static const struct matrix_tree *run_tree(const struct cmd_ctx *ctx,
					  const struct matrix_build **b)
{
	const char *config = cmd_arg(ctx, OPT_CONFIG);
	const struct matrix *m = &ctx->matrix;
	const struct matrix_tree *t;

	t = matrix_find_tree(m, cmd_arg(ctx, OPT_TREE));
	if (!t) {
		cmd_usage_error("run: %s has no tree '%s'", ctx->matrix_path,
				cmd_arg(ctx, OPT_TREE));
		return NULL;
	}
	*b = config ? matrix_find_build(m, config) :
	     m->n_builds ? &m->builds[0] : NULL;
	if (!*b) {
		cmd_usage_error("run: %s has no build config%s%s%s",
				ctx->matrix_path, config ? " '" : "",
				config ? config : "", config ? "'" : "");
		return NULL;
	}
	return t;
}

/* Usage errors before the state directory is touched. */
static int run_prepare(struct cmd_ctx *ctx)
{
	const struct matrix_build *b;

	if (!cmd_arg(ctx, OPT_TREE) || !cmd_arg(ctx, OPT_REV))
		return cmd_usage_error("run: --tree NAME and --rev REV are "
				       "required (see 'hvmatrix run --help')");
	return run_tree(ctx, &b) ? -1 : EXIT_USAGE;
}

static int run_exec(struct cmd_ctx *ctx)
{
	struct daemon_opts o = {
		.matrix_path = ctx->matrix_path,
		.state_dir = ctx->state_dir,
		.initrd = ctx->initrd,
		.jobs = ctx->jobs,
		.quiet = ctx->quiet,
	};
	const char *tree_name = cmd_arg(ctx, OPT_TREE);
	const char *rev = cmd_arg(ctx, OPT_REV);
	struct strbuf err = STRBUF_INIT;
	struct watch_commit wc;
	struct record_commit rc;
	const struct matrix_tree *t;
	const struct matrix_build *b;
	int ret = EXIT_USAGE, have_commit = 0, dret, ran = 0;

	t = run_tree(ctx, &b);	/* found: run_prepare() checked */
	if (lookup(t, ctx->state_dir, rev, &wc, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	have_commit = 1;
	rc.id = wc.id;
	rc.subject = wc.subject;
	rc.author = wc.author;
	rc.time = wc.time;
	rc.parent = wc.parent;
	if (record_queue_add_one(ctx->store, t->name, &rc, b->name,
				 RECORD_PRIORITY_MANUAL, &o.only_job,
				 &err) < 0) {
		report_error("%s", err.buf);
		ret = EXIT_ERROR;
		goto out;
	}
	if (!o.quiet)
		fprintf(stderr, "run: %s %.12s %s (%s)\n", t->name, wc.id,
			b->name, wc.subject);
	o.ran = &ran;
	dret = daemon_main(&o);
	if (!ran || dret == 130) {
		ret = dret;
		goto out;
	}
	ret = report(ctx->store, tree_name, wc.id, b->name, ctx->json);
	if (!ctx->json && !o.quiet)
		printf("results: %s (see 'hvmatrix results --commit %.12s')\n",
		       ctx->state_dir, wc.id);
out:
	if (have_commit)
		watch_commit_release(&wc);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_run = {
	.name = "run",
	.summary = "build and boot one commit of a tree in the foreground",
	.usage = usage_text,
	.flags = CMD_NEEDS_MATRIX | CMD_WRITES_STORE | CMD_TAKES_LOCK |
		 CMD_JSON | CMD_BOOTS,
	.options = options,
	.max_args = 0,
	.prepare = run_prepare,
	.exec = run_exec,
};
