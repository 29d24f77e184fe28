/*
 * hvmatrix run-cell: the node's half of a run that another machine
 * scheduled (a Slurm job, see executor.h). It reads one cell and its
 * artifacts from a spec file, boots it with boot.c's runner, exactly as
 * `hvmatrix boot` does, and leaves the console log and the verdict
 * (result.json, written atomically) in the output directory, where the
 * daemon ingests them. It touches no store: the daemon records the run.
 *
 * A task of a job array (--tasks FILE) finds its run in FILE: line
 * SLURM_ARRAY_TASK_ID (from 0) is the run's directory, holding its spec
 * and receiving its result. The daemon writes FILE before it submits the
 * array; nothing of the run is on the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "cli/cmd.h"
#include "executor/rundir.h"
#include "lib/report.h"
#include "lib/fsutil.h"
#include "boot/probe.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix run-cell --spec FILE --out DIR [-q]\n"
"       hvmatrix run-cell --tasks FILE [-q]\n"
"\n"
"Boot one cell as the spec file says (the cell's settings, the kernel and\n"
"the payload; the daemon writes it into its shared directory), judge the\n"
"console and write DIR/" RUNDIR_CONSOLE "[.zst] and DIR/" RUNDIR_RESULT
" (the verdict,\n"
"written atomically). This is what a Slurm job runs on a node; the daemon\n"
"records the verdict as if the cell had run on its own machine.\n"
"\n"
"  --spec FILE     the run's spec (JSON: cell, kernel, initrd)\n"
"  --out DIR       where the console log and the result go\n"
"  --tasks FILE    a job array's task: the run directory on line\n"
"                  $SLURM_ARRAY_TASK_ID of FILE (from 0), with its\n"
"                  " RUNDIR_SPEC ", is --spec DIR/" RUNDIR_SPEC
" --out DIR\n"
"  -q, --quiet     no progress lines on stderr\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 PASS or SKIP, 1 FAIL, 2 usage or a bad spec, 3 ERROR,\n"
"130 interrupted (then no result is written).\n";

enum { OPT_SPEC = 0x2000, OPT_OUT, OPT_TASKS, OPT_QUIET = 'q' };

static const struct option options[] = {
	{ "spec", required_argument, NULL, OPT_SPEC },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "tasks", required_argument, NULL, OPT_TASKS },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ NULL, 0, NULL, 0 },
};

static int run_cell_prepare(struct cmd_ctx *ctx)
{
	int pair = cmd_arg(ctx, OPT_SPEC) && cmd_arg(ctx, OPT_OUT);
	int tasks = cmd_arg(ctx, OPT_TASKS) != NULL;

	if (pair == tasks || (tasks && (cmd_arg(ctx, OPT_SPEC) ||
					cmd_arg(ctx, OPT_OUT))))
		return cmd_usage_error("run-cell: --spec FILE and --out DIR, "
				       "or --tasks FILE, are required (see "
				       "'hvmatrix run-cell --help')");
	return -1;
}

/*
 * A job array's task: its line of the task file. 0 and *dir set, or -1
 * with the reason in err ("FILE: ...").
 */
static int run_cell_task(const char *file, char **dir, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	const char *env = getenv("SLURM_ARRAY_TASK_ID"), *p;
	unsigned long task, i;
	char *end;
	int rc, ret = -1;

	if (!env || !*env) {
		strbuf_addf(err, "%s: SLURM_ARRAY_TASK_ID is not set (not a "
			    "job array's task)", file);
		return -1;
	}
	errno = 0;
	task = strtoul(env, &end, 10);
	if (*end || errno || env[0] == '-') {
		strbuf_addf(err, "%s: SLURM_ARRAY_TASK_ID '%s' is not a "
			    "task number", file, env);
		return -1;
	}
	rc = fsutil_read(file, &text);
	if (rc < 0) {
		strbuf_addf(err, "%s: %s", file, strerror(-rc));
		goto out;
	}
	for (p = text.buf, i = 0; *p && i < task; i++) {
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	if (!p || !*p || *p == '\n') {
		strbuf_addf(err, "%s: no line %lu (task %lu)", file, task + 1,
			    task);
		goto out;
	}
	*dir = xstrndup(p, strcspn(p, "\n"));
	ret = 0;
out:
	strbuf_release(&text);
	return ret;
}

static int run_cell_exec(struct cmd_ctx *ctx)
{
	const char *out = cmd_arg(ctx, OPT_OUT);
	const char *spec_path = cmd_arg(ctx, OPT_SPEC);
	int quiet = cmd_has(ctx, OPT_QUIET);
	struct strbuf err = STRBUF_INIT;
	struct rundir_spec spec;
	struct boot_run run;
	struct boot_opts opts = { .jobs = 1 };
	char *log = NULL, *task_dir = NULL, *task_spec = NULL;
	int ret = EXIT_USAGE, rc, have_run = 0;

	memset(&spec, 0, sizeof(spec));
	if (cmd_arg(ctx, OPT_TASKS)) {
		if (run_cell_task(cmd_arg(ctx, OPT_TASKS), &task_dir,
				  &err) < 0) {
			report_error("%s", err.buf);
			goto out;
		}
		out = task_dir;
		task_spec = xstrfmt("%s/%s", task_dir, RUNDIR_SPEC);
		spec_path = task_spec;
	}
	if (rundir_spec_read(&spec, spec_path, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	rc = fsutil_mkdir_p(out, 0755);
	if (rc < 0) {
		report_error("%s: %s", out, strerror(-rc));
		ret = EXIT_ERROR;
		goto out;
	}
	log = xstrfmt("%s/%s", out, RUNDIR_CONSOLE);
	boot_run_init(&run, &spec.cell, spec.kernel, spec.initrd, log);
	have_run = 1;
	/* The node's own KVM and image checks, as `hvmatrix boot` does. */
	probe_precheck(&run, 1, spec.kernel, NULL, spec.initrd, quiet);
	if (!quiet)
		fprintf(stderr, "run-cell: %s on %s\n", spec.cell.name,
			spec.kernel);
	if (boot_run_all(uv_default_loop(), &run, 1, &opts)) {
		ret = 130;
		goto out;
	}
	rc = rundir_result_write(out, &run);
	if (rc < 0) {
		report_error("%s/%s: %s", out, RUNDIR_RESULT,
			     strerror(-rc));
		ret = EXIT_ERROR;
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "run-cell: %s %s (%.1f s): %s\n",
			spec.cell.name, verdict_name(judge_verdict(&run.judge)),
			run.duration_s, run.judge.reason);
	ret = verdict_exit_code(judge_verdict(&run.judge));
out:
	if (have_run)
		boot_run_release(&run);
	rundir_spec_release(&spec);
	free(log);
	free(task_dir);
	free(task_spec);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_run_cell = {
	.name = RUNDIR_RUN_CELL,
	.summary = "boot one cell from a spec file (a Slurm job's command)",
	.usage = usage_text,
	.flags = 0,
	.shortopts = "q",
	.options = options,
	.max_args = 0,
	.prepare = run_cell_prepare,
	.exec = run_cell_exec,
};
