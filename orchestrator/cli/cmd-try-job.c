/*
 * cmd-try-job: one commit of a tried series through the farm's own job
 * (schedule/job.h: build with the tree's build config, boot, judge,
 * record), in the foreground, for the cells asked only.
 *
 * The cells are asked for as wants of purpose "try" under the try's own
 * tree name, so the job's plan (job-plan.c) runs exactly them and records
 * their runs apart (RECORD_PURPOSE_TRY). A cell already tried on the same
 * commit is not booted again: its recorded verdict stands. This file is
 * the job's owner, as daemon-jobs.c is the daemon's: it takes the one job
 * from the queue, answers its job_ops and stops when it ends. It never
 * compares, publishes or sends a webhook: a try changes no tree's
 * history.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli/cmd-try-priv.h"
#include "daemon/daemon.h"
#include "lib/report.h"
#include "lib/sigwatch.h"
#include "lib/xmalloc.h"
#include "schedule/job.h"
#include "store/record-thread.h"

struct owner {
	uv_loop_t loop;
	struct record_thread *store;
	struct job_env env;
	struct sigwatch sigs;
	struct matrix *m;
	int64_t job_id;
	struct record_job rj;
	struct job *job;	/* once taken */
	int stopping, interrupted, failed, began;
	struct strbuf err;
};

static void owner_say(void *data, const char *line)
{
	report_progress("try: ", "%s", line);
}

static int owner_stopping(void *data)
{
	return ((struct owner *)data)->stopping;
}

/* The job is alone: every core is its own. */
static unsigned owner_free_cores(void *data, const struct job *j)
{
	return ((struct owner *)data)->env.cores;
}

static int owner_may_boot(void *data, const struct job *j)
{
	return 1;
}

static void owner_nothing(void *data, struct job *j)
{
}

static void owner_verdict(void *data, struct job *j, enum verdict v)
{
}

static void owner_store_failed(void *data, struct job *j, const char *err)
{
	struct owner *o = data;

	o->failed = 1;
	if (!o->err.len)
		strbuf_addstr(&o->err, err);
}

static void store_closed(void *data)
{
	struct owner *o = data;

	o->store = NULL;
	sigwatch_close(&o->sigs);
}

static void owner_ended(void *data, struct job *j)
{
	struct owner *o = data;

	o->job = NULL;	/* freed by the loop after this returns */
	record_thread_stop(o->store, store_closed, o);
}

static const struct job_ops owner_ops = {
	.say = owner_say,
	.stopping = owner_stopping,
	.free_cores = owner_free_cores,
	.may_boot = owner_may_boot,
	.changed = owner_nothing,
	.cores_changed = owner_nothing,
	.verdict = owner_verdict,
	.store_failed = owner_store_failed,
	.ended = owner_ended,
};

static void on_signal(struct sigwatch *w, int signum)
{
	struct owner *o = container_of(w, struct owner, sigs);

	report_progress("try: ", "%s: stopping", strsignal(signum));
	o->stopping = 1;
	o->interrupted = 1;
	if (o->job)
		job_stop(o->job);
}

/* On the store thread: the one job, marked running. */
static int take_op(struct record *r, void *arg, struct strbuf *err)
{
	struct owner *o = arg;

	return record_queue_job_next(r, o->job_id, &o->rj, err);
}

static void take_done(void *arg, int rc, const char *err)
{
	struct owner *o = arg;

	if (rc != 1 || o->stopping) {
		if (rc < 0) {
			o->failed = 1;
			strbuf_addstr(&o->err, err);
		} else if (rc == 0) {
			o->failed = 1;
			strbuf_addstr(&o->err, "the try's job is not queued");
		}
		if (rc == 1)
			record_queue_job_release(&o->rj);
		record_thread_stop(o->store, store_closed, o);
		return;
	}
	o->began = 1;
	o->job = job_begin(&o->env, o->m, &o->rj);
}

/* The queued job of (tree, commit, build): its id, 0 when none. */
static int64_t queued_job(struct record *r, const char *tree,
			  const char *commit, const char *build,
			  struct strbuf *err)
{
	struct record_job *q = NULL;
	size_t n = 0, i;
	int64_t id = 0;

	if (record_queue_list_jobs(r, RECORD_JOB_QUEUED, &q, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!strcmp(q[i].tree, tree) &&
		    !strcmp(q[i].commit_id, commit) &&
		    !strcmp(q[i].build, build))
			id = q[i].id;
	record_queue_jobs_free(q, n);
	return id;
}

int cmd_try_job_run(const struct cmd_try_farm *f, const char *commit,
		    const char *subject, char *const *cells, size_t n_cells)
{
	static const int signums[] = { SIGINT, SIGTERM };
	struct record_commit rc = {
		(char *)commit, (char *)(subject ? subject : ""), (char *)"",
		0, (char *)"",
	};
	char *builds[1] = { (char *)f->build };
	struct owner o;
	size_t i;
	int ret = EXIT_ERROR, rc_jobs;

	memset(&o, 0, sizeof(o));
	strbuf_init(&o.err, 0);
	o.m = f->m;
	/* The commit with its subject first: a want alone makes a bare
	 * row. */
	if (record_queue_add(f->store, f->try_tree, &rc, 1, builds, 1, 0,
			     RECORD_PRIORITY_MANUAL, RECORD_ENQUEUE_NO_JOBS,
			     NULL, &o.err) < 0)
		goto out;
	for (i = 0; i < n_cells; i++)
		if (record_queue_want_runs(f->store, f->try_tree, commit,
					   f->build, cells[i], 1,
					   RECORD_PURPOSE_TRY,
					   RECORD_PRIORITY_MANUAL, &o.err) < 0)
			goto out;
	o.job_id = queued_job(f->store, f->try_tree, commit, f->build, &o.err);
	if (o.job_id < 0)
		goto out;
	if (!o.job_id) {
		/* Running: a try killed without a word left it so (the
		 * daemon's lock, ours now, says nothing else runs). */
		int *pgids = NULL;
		size_t n_pgids = 0;

		rc_jobs = record_queue_jobs_recover(f->store, &pgids, &n_pgids,
						    &o.err);
		free(pgids);
		if (rc_jobs < 0)
			goto out;
		o.job_id = queued_job(f->store, f->try_tree, commit, f->build,
				      &o.err);
		if (o.job_id <= 0) {
			strbuf_addf(&o.err, "%s %.12s: no job queued",
				    f->try_tree, commit);
			goto out;
		}
	}
	if (uv_loop_init(&o.loop) < 0) {
		strbuf_addstr(&o.err, "cannot start an event loop");
		goto out;
	}
	if (record_thread_start(&o.store, &o.loop, f->state_dir,
				&o.err) < 0) {
		uv_loop_close(&o.loop);
		goto out;
	}
	o.env.loop = &o.loop;
	o.env.store = o.store;
	o.env.state_dir = f->state_dir;
	o.env.initrd = f->initrd;
	o.env.cores = f->jobs ? f->jobs : 1;
	o.env.quiet = f->quiet;
	/* A developer waits: the farm's trouble is told at once (ERROR),
	 * after one more boot of a cell that ended ERROR. */
	o.env.policy.attempts = 1;
	o.env.policy.error_retries = 1;
	o.env.policy.retry_base_s = DAEMON_RETRY_BASE_S;
	o.env.ops = &owner_ops;
	o.env.owner = &o;
	sigwatch_start(&o.sigs, &o.loop, signums, ARRAY_SIZE(signums),
		       on_signal);
	record_thread_submit(o.store, take_op, take_done, &o);
	uv_run(&o.loop, UV_RUN_DEFAULT);
	uv_loop_close(&o.loop);
	if (o.interrupted)
		ret = 130;
	else if (!o.failed)
		ret = EXIT_OK;
out:
	if (ret == EXIT_ERROR && o.err.len)
		report_error("try: %s", o.err.buf);
	strbuf_release(&o.err);
	return ret;
}
