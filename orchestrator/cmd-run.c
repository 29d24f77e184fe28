/*
 * hvmatrix run: build and boot one commit of a watched tree in the
 * foreground, through the same queue and pipeline as the daemon (the job
 * is queued first, then run alone), and print its verdicts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "cmd.h"
#include "daemon.h"
#include "matrix.h"
#include "record.h"
#include "watch.h"
#include "xmalloc.h"

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
	char *mirror = xstrfmt("%s/mirrors/%s.git", state_dir, t->name);
	int rc = -1;

	if (watch_open(&w, t->path, t->url, mirror, err) < 0 ||
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
static int report(const char *state_dir, const char *tree,
		  const char *commit, const char *build, int json)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct record *store = NULL;
	struct record_run *runs = NULL;
	size_t n = 0, i, k;
	int fail = 0, error = 0, first = 1, ret = EXIT_ERROR;

	if (record_open(&store, state_dir, &err) < 0 ||
	    record_list_commit_runs(store, tree, commit, &runs, &n, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		goto out;
	}
	if (json)
		strbuf_addch(&out, '[');
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
		fail |= r->verdict == VERDICT_FAIL ||
			r->verdict == VERDICT_BLOCKED;
		error |= r->verdict == VERDICT_ERROR;
		if (json) {
			strbuf_addstr(&out, first ? "\n  {\"cell\": " :
				      ",\n  {\"cell\": ");
			strbuf_add_json_str(&out, r->cell);
			strbuf_addstr(&out, ", \"verdict\": ");
			strbuf_add_json_str(&out, verdict_name(r->verdict));
			strbuf_addstr(&out, ", \"reason\": ");
			strbuf_add_json_str(&out, r->reason);
			strbuf_addf(&out, ", \"duration_s\": %.3f, \"log\": ",
				    r->duration_s);
			strbuf_add_json_str(&out, r->log_path);
			strbuf_addch(&out, '}');
		} else {
			strbuf_addf(&out, "%-24s  %-7s  %6.1fs  %s\n", r->cell,
				    verdict_name(r->verdict), r->duration_s,
				    r->reason);
		}
		first = 0;
	}
	if (json)
		strbuf_addstr(&out, first ? "]\n" : "\n]\n");
	fputs(out.buf, stdout);
	ret = first ? EXIT_ERROR : fail ? EXIT_FAIL : error ? EXIT_ERROR :
	      EXIT_OK;
out:
	record_runs_free(runs, n);
	if (store)
		record_close(store);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

static int cmd_run_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "rev", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "matrix", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = {
		.matrix_path = matrix_default_path(),
		.initrd = boot_default_initrd(),
		.jobs = cmd_default_jobs(),
	};
	const char *tree_name = NULL, *rev = NULL, *config = NULL;
	const char *state_opt = NULL;
	struct strbuf err = STRBUF_INIT;
	struct matrix m = { 0 };
	struct watch_commit wc;
	struct record_commit rc;
	struct record *store = NULL;
	const struct matrix_tree *t;
	const struct matrix_build *b;
	char *state = NULL, *build_name = NULL;
	int opt, ret = EXIT_USAGE, json = 0, have_matrix = 0, have_commit = 0;
	int dret, ran = 0;

	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 't': tree_name = optarg; break;
		case 'r': rev = optarg; break;
		case 'c': config = optarg; break;
		case 'm': o.matrix_path = optarg; break;
		case 's': state_opt = optarg; break;
		case 'j':
			if (cmd_parse_jobs(optarg, &o.jobs))
				goto out;
			break;
		case 'i': o.initrd = optarg; break;
		case 'J': json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind < argc) {
		ret = cmd_usage_error("run: unexpected argument '%s'",
				      argv[optind]);
		goto out;
	}
	if (!tree_name || !rev) {
		ret = cmd_usage_error("run: --tree NAME and --rev REV are "
				      "required (see 'hvmatrix run --help')");
		goto out;
	}
	if (matrix_load(&m, o.matrix_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	have_matrix = 1;
	t = matrix_find_tree(&m, tree_name);
	if (!t) {
		ret = cmd_usage_error("run: %s has no tree '%s'",
				      o.matrix_path, tree_name);
		goto out;
	}
	b = config ? matrix_find_build(&m, config) :
	    m.n_builds ? &m.builds[0] : NULL;
	if (!b) {
		ret = cmd_usage_error("run: %s has no build config%s%s%s",
				      o.matrix_path, config ? " '" : "",
				      config ? config : "", config ? "'" : "");
		goto out;
	}
	build_name = xstrdup(b->name);
	state = record_state_dir(state_opt);
	o.state_dir = state;
	ret = EXIT_ERROR;
	if (lookup(t, state, rev, &wc, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	have_commit = 1;
	rc.id = wc.id;
	rc.subject = wc.subject;
	rc.author = wc.author;
	rc.time = wc.time;
	rc.parent = wc.parent;
	if (record_open(&store, state, &err) < 0 ||
	    record_enqueue_one(store, t->name, &rc, build_name,
			       RECORD_PRIORITY_MANUAL, &o.only_job, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		goto out;
	}
	record_close(store);
	store = NULL;
	if (!o.quiet)
		fprintf(stderr, "run: %s %.12s %s (%s)\n", t->name, wc.id,
			build_name, wc.subject);
	o.ran = &ran;
	dret = daemon_main(&o);
	if (!ran || dret == 130) {
		ret = dret;
		goto out;
	}
	ret = report(state, tree_name, wc.id, build_name, json);
	if (!json && !o.quiet)
		printf("results: %s (see 'hvmatrix results --commit %.12s')\n",
		       state, wc.id);
out:
	if (have_commit)
		watch_commit_release(&wc);
	if (store)
		record_close(store);
	if (have_matrix)
		matrix_release(&m);
	free(state);
	free(build_name);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_run = {
	"run", "build and boot one commit of a tree in the foreground",
	cmd_run_run,
};
