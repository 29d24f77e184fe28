/*
 * hvmatrix run-build: the node's half of a build the daemon sent to Slurm
 * (executor key builds: true, see executor-build.c). It reads the build's
 * spec (the matrix file, the tree and build config by name, the commit,
 * the repository, the state directory in the shared directory), builds
 * with build.c exactly as the daemon does, and writes DIR/result.json
 * (atomically): the status, reason, error lines, the build log's and the
 * image's paths. It touches no store: the daemon records the build. The
 * build is sandboxed as the daemon's builds are (build-sandbox.c): a
 * node without bubblewrap is an ERROR unless the build says
 * `sandbox: false`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"
#include "cli/cmd.h"
#include "executor/rundir.h"
#include "export/webhook.h"
#include "lib/report.h"
#include "lib/fsutil.h"
#include "lib/sigwatch.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix run-build --spec FILE --out DIR [-q]\n"
"\n"
"Build one commit as the spec file says (the daemon writes it into its\n"
"shared directory: the matrix file, tree and build config names, the\n"
"commit, the repository and the state directory to build in) and write\n"
"DIR/" RUNDIR_RESULT " (atomically): what a Slurm build job runs on a node.\n"
"The nodes must see the matrix file and the repository at the daemon's\n"
"paths.\n"
"\n"
"  --spec FILE     the build's spec (JSON)\n"
"  --out DIR       where the result goes\n"
"  -q, --quiet     no progress lines on stderr\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 built, 1 the kernel did not build, 2 usage or a bad spec,\n"
"3 ERROR (the farm's trouble), 130 interrupted (no result written).\n";

enum { OPT_SPEC = 0x2000, OPT_OUT, OPT_QUIET = 'q' };

static const struct option options[] = {
	{ "spec", required_argument, NULL, OPT_SPEC },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ NULL, 0, NULL, 0 },
};

struct run_build {
	struct build b;
	struct sigwatch signals;
	int quiet, done;
};

static int run_build_prepare(struct cmd_ctx *ctx)
{
	if (!cmd_arg(ctx, OPT_SPEC) || !cmd_arg(ctx, OPT_OUT))
		return cmd_usage_error("run-build: --spec FILE and --out DIR "
				       "are required (see 'hvmatrix "
				       "run-build --help')");
	return -1;
}

static void rb_progress(struct build *b, const char *stage, void *data)
{
	struct run_build *rb = data;

	if (!rb->quiet)
		fprintf(stderr, "run-build: %s\n", stage);
}

static void rb_done(struct build *b, void *data)
{
	struct run_build *rb = data;

	rb->done = 1;
	sigwatch_close(&rb->signals);
}

/* Slurm's scancel (SIGTERM), or ^C: stop the build's process group. */
static void rb_signal(struct sigwatch *w, int signum)
{
	struct run_build *rb = container_of(w, struct run_build, signals);

	build_stop(&rb->b);
}

static int run_build_exec(struct cmd_ctx *ctx)
{
	const char *out = cmd_arg(ctx, OPT_OUT);
	struct strbuf err = STRBUF_INIT;
	struct rundir_build_spec spec;
	struct matrix m;
	struct run_build rb;
	uv_loop_t *loop = uv_default_loop();
	static const int stop_signals[] = { SIGTERM, SIGINT };
	int ret = EXIT_USAGE, rc, have_m = 0;

	memset(&rb, 0, sizeof(rb));
	memset(&m, 0, sizeof(m));
	rb.quiet = cmd_has(ctx, OPT_QUIET);
	if (rundir_build_spec_read(&spec, cmd_arg(ctx, OPT_SPEC), &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	if (matrix_load(&m, spec.matrix, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	have_m = 1;
	/* The node's build is sandboxed as the daemon's: no secret the
	 * matrix names is visible to it either. */
	webhook_event_take_secrets(m.webhooks, m.n_webhooks);
	rb.b.tree = matrix_find_tree(&m, spec.tree);
	rb.b.config = matrix_find_build(&m, spec.build);
	if (!rb.b.tree || !rb.b.config) {
		report_error("%s: no tree '%s' or build '%s'",
			     spec.matrix, spec.tree, spec.build);
		goto out;
	}
	snprintf(rb.b.commit, sizeof(rb.b.commit), "%s", spec.commit);
	rb.b.state_dir = spec.state_dir;
	rb.b.repo_path = spec.repo;
	rb.b.jobs = spec.jobs;
	rb.b.on_progress = rb_progress;
	rb.b.on_done = rb_done;
	rb.b.data = &rb;
	rc = fsutil_mkdir_p(out, 0755);
	if (rc < 0) {
		report_error("%s: %s", out, strerror(-rc));
		ret = EXIT_ERROR;
		goto out;
	}
	sigwatch_start(&rb.signals, loop, stop_signals,
		       ARRAY_SIZE(stop_signals), rb_signal);
	if (build_start(loop, &rb.b, &err) < 0) {
		/* The node cannot build (no ccache, a bad commit id): the
		 * farm's trouble, said in the result. */
		rb.b.status = BUILD_ERROR;
		rb.b.reason = strbuf_detach(&err, NULL);
		rb_done(&rb.b, &rb);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (rb.b.status == BUILD_INTERRUPTED || !rb.done) {
		ret = 130;
		goto out;
	}
	rc = rundir_build_result_write(out, &rb.b);
	if (rc < 0) {
		report_error("%s/%s: %s", out, RUNDIR_RESULT,
			     strerror(-rc));
		ret = EXIT_ERROR;
		goto out;
	}
	if (!rb.quiet)
		fprintf(stderr, "run-build: %s in %.0f s: %s\n",
			build_status_name(rb.b.status), rb.b.duration_s,
			rb.b.reason ? rb.b.reason : "");
	ret = rb.b.status == BUILD_OK ? EXIT_OK :
	      rb.b.status == BUILD_FAILED ? EXIT_FAIL : EXIT_ERROR;
out:
	build_release(&rb.b);
	if (have_m)
		matrix_release(&m);
	rundir_build_spec_release(&spec);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_run_build = {
	.name = RUNDIR_RUN_BUILD,
	.summary = "build one commit from a spec file (a Slurm job's command)",
	.usage = usage_text,
	.flags = 0,
	.shortopts = "q",
	.options = options,
	.max_args = 0,
	.prepare = run_build_prepare,
	.exec = run_build_exec,
};
