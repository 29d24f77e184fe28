/*
 * slurm-job: one Slurm job's states, and the ERROR Slurm's trouble is.
 * See slurm-job.h. Every message names the job as Slurm does (its id) and
 * carries Slurm's own state and reason, so whoever reads a run's ERROR
 * can ask Slurm about it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "executor/slurm-job.h"
#include "lib/fsutil.h"
#include "lib/report.h"
#include "lib/xmalloc.h"

void slurm_job_init(struct slurm_job *j, const char *what,
		    unsigned pending_s)
{
	memset(j, 0, sizeof(*j));
	j->what = what;
	j->pending_s = pending_s;
}

void slurm_job_release(struct slurm_job *j)
{
	free(j->limit_note);
	free(j->ended);
	free(j->submit_error);
	memset(j, 0, sizeof(*j));
}

void slurm_job_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vprogress("slurm: ", fmt, ap);
	va_end(ap);
}

char *slurm_job_command(const struct matrix_executor *cfg)
{
	char *exe = cfg->command ? xstrdup(cfg->command) : spawn_self();

	return exe ? exe : xstrdup("hvmatrix");
}

int slurm_job_script_write(const char *path, struct strbuf *err)
{
	static const char script[] =
		"#!/bin/sh\n"
		"# hvmatrix's Slurm job: run the command given after it.\n"
		"exec \"$@\"\n";
	int rc = fsutil_write_atomic(path, script, sizeof(script) - 1);

	if (rc < 0 || chmod(path, 0755) < 0) {
		strbuf_addf(err, "cannot write %s: %s", path,
			    strerror(rc < 0 ? -rc : errno));
		return -1;
	}
	return 0;
}

/* ---- sbatch ---- */

static void add_opt(char **argv, size_t *n, const char *opt, const char *v)
{
	if (v)
		argv[(*n)++] = xstrfmt("%s=%s", opt, v);
}

/*
 * What a job's hvmatrix on a node reads of the environment it was
 * submitted from, and nothing else: without --export, sbatch sends the
 * whole environment (a secret too) to slurmctld's records and every node.
 * Names not set are left out by Slurm; SLURM_* it adds itself.
 */
#define SLURM_JOB_EXPORT "--export=PATH,HOME,LANG,LC_ALL,TZ,TMPDIR," \
	"XDG_CACHE_HOME,HVMATRIX_CCACHE,HVMATRIX_CACHE," \
	"HVMATRIX_HYPERVISORS_DIR,HVMATRIX_XEN_DIR,HVMATRIX_INITRD"

char **slurm_job_sbatch_argv(const struct slurm_job_request *rq,
			     const struct matrix_executor *cfg,
			     const char *script, const char *const *cmd)
{
	size_t n = 0, words = 0;
	char **argv;

	while (cmd[words])
		words++;
	argv = xcalloc(20 + words, sizeof(*argv));
	argv[n++] = xstrdup("sbatch");
	argv[n++] = xstrdup("--parsable");
	argv[n++] = xstrdup("--no-requeue");
	argv[n++] = xstrdup(SLURM_JOB_EXPORT);
	if (rq->array)
		argv[n++] = xstrfmt("--array=0-%zu", rq->array - 1);
	argv[n++] = xstrfmt("--job-name=%s", rq->name);
	argv[n++] = xstrfmt("--chdir=%s", rq->chdir);
	argv[n++] = xstrfmt("--output=%s", rq->output);
	argv[n++] = xstrdup("--nodes=1");
	argv[n++] = xstrdup("--ntasks=1");
	argv[n++] = xstrfmt("--cpus-per-task=%u", rq->cpus);
	if (rq->mem_mb)
		argv[n++] = xstrfmt("--mem=%u", rq->mem_mb);
	if (rq->minutes)
		argv[n++] = xstrfmt("--time=%u", rq->minutes);
	add_opt(argv, &n, "--partition", cfg->partition);
	add_opt(argv, &n, "--account", cfg->account);
	add_opt(argv, &n, "--qos", cfg->qos);
	add_opt(argv, &n, "--constraint", cfg->constraint);
	argv[n++] = xstrdup(script);
	/* The script's arguments: passed through as argv words. */
	while (*cmd)
		argv[n++] = xstrdup(*cmd++);
	return argv;
}

int slurm_job_sbatch_done(struct slurm_job *j, const struct slurm_cmd *p,
			  int task)
{
	/* --parsable: the job id, then ";CLUSTER" on a federation. */
	size_t n = strspn(p->out_text.buf, "0123456789");
	struct strbuf why = STRBUF_INIT;

	if (slurm_cmd_ok(p) && n > 0 && n < 32) {
		if (task >= 0)
			snprintf(j->id, sizeof(j->id), "%.*s_%d", (int)n,
				 p->out_text.buf, task);
		else
			snprintf(j->id, sizeof(j->id), "%.*s", (int)n,
				 p->out_text.buf);
		j->st = SLURM_JOB_QUEUED;
		return 1;
	}
	slurm_cmd_said(p, &why);
	free(j->submit_error);
	j->submit_error = strbuf_detach(&why, NULL);
	if (p->spawn_error)
		return -1;
	/* Did slurmctld get it? squeue says, before it is ever sent again. */
	j->submit_failures++;
	j->st = SLURM_JOB_UNSURE;
	return 0;
}

/* ---- squeue ---- */

char **slurm_job_squeue_argv(const char *filter, int array)
{
	char **argv = xcalloc(8, sizeof(*argv));
	size_t n = 0;

	argv[n++] = xstrdup("squeue");
	argv[n++] = xstrdup("--noheader");
	if (array)
		argv[n++] = xstrdup("--array");
	argv[n++] = xstrdup("--states=all");
	argv[n++] = xstrdup(filter);
	argv[n++] = xstrdup("--format=%i|%j|%T|%r");
	return argv;
}

void slurm_job_adopt(struct slurm_job *j, const char *id, int task)
{
	if (task >= 0)
		snprintf(j->id, sizeof(j->id), "%s_%d", id, task);
	else
		snprintf(j->id, sizeof(j->id), "%s", id);
	j->st = SLURM_JOB_QUEUED;
	if (task < 0)
		slurm_job_say("%s %s (%s) was submitted after all", j->what,
			      j->id, j->name);
}

enum slurm_job_event slurm_job_listed(struct slurm_job *j, const char *state,
				      const char *reason, double now,
				      struct strbuf *why)
{
	j->listed = 1;
	j->missing = 0;
	switch (slurm_cmd_state_class(state)) {
	case SLURM_WAITING:
		if (j->running && !strcmp(state, "PENDING"))
			goto requeued;	/* it ran, and waits again */
		if (j->running || now - j->submitted_at <= j->pending_s)
			return SLURM_JOB_NOTHING;
		strbuf_addf(why, "Slurm %s %s never started in %u s (%s, %s)",
			    j->what, j->id, j->pending_s, state, reason);
		return SLURM_JOB_CANCEL;
	case SLURM_REQUEUED:
	requeued:
		/* --no-requeue, yet requeued (scontrol requeue): it may
		 * have half happened; it must not happen again. */
		strbuf_addf(why, "Slurm requeued %s %s (%s, %s): cancelled, "
			    "not run twice", j->what, j->id, state, reason);
		return SLURM_JOB_CANCEL;
	case SLURM_ACTIVE:
		if (!j->running) {
			j->running = 1;
			j->running_at = now;
			return SLURM_JOB_STARTED;
		}
		if (!j->limit_s || now - j->running_at <= j->limit_s)
			return SLURM_JOB_NOTHING;
		strbuf_addf(why, "Slurm %s %s still running %.0f s after it "
			    "started%s: cancelled", j->what, j->id,
			    now - j->running_at,
			    j->limit_note ? j->limit_note : "");
		return SLURM_JOB_CANCEL;
	case SLURM_ENDED:
		/* The next scans say whether it left a result (COMPLETED)
		 * or not (CANCELLED, NODE_FAIL, PREEMPTED, TIMEOUT, ...). */
		if (!j->ended)
			j->ended = xstrfmt("%s (%s)", state, reason);
		return SLURM_JOB_NOTHING;
	}
	return SLURM_JOB_NOTHING;
}

void slurm_job_unlisted(struct slurm_job *j)
{
	if (!j->ended && ++j->missing >= SLURM_JOB_LOST_POLLS)
		j->ended = xstrfmt("LOST (Slurm no longer lists job %s)",
				   j->id);
}

int slurm_job_scan_start(struct slurm_job *j)
{
	int was_ended = j->ended && j->ended_scanned;

	if (j->ended)
		j->ended_scanned = 1;
	return was_ended;
}

/* ---- scancel ---- */

char **slurm_job_scancel_argv(const char *const *ids, size_t n)
{
	char **argv = xcalloc(n + 2, sizeof(*argv));
	size_t i;

	argv[0] = xstrdup("scancel");
	for (i = 0; i < n; i++)
		argv[i + 1] = xstrdup(ids[i]);
	return argv;
}
