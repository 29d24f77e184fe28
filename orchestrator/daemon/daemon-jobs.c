/*
 * daemon-jobs: the daemon's side of its jobs. schedule.c decides, this
 * file acts on the decision: it shows schedule.c the jobs as they are,
 * takes the queued job schedule_pick() chose from the store, begins it
 * (job.h), answers what the job asks and tells (its lines, its cores, its
 * verdicts, a failed store write), and when a job ends boots the next
 * built one and starts a compare and a publish (daemon-work.c), as it
 * does when a confirmation or bisection run is recorded inside a running
 * job.
 *
 * Jobs never see struct daemon: everything they reach of it is here,
 * behind job_ops. This file never calls daemon.c: a pause, a shutdown or
 * a look for more work is asked for through daemon-state.c, and daemon.c
 * acts on it (stopping the jobs with daemon_jobs_stop(), taking with
 * daemon_jobs_take()).
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon-priv.h"
#include "schedule/schedule.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

/* ---- what schedule.c decides on ---- */

struct jobs_view {
	struct schedule_state s;
	struct schedule_job *jobs;
};

static enum schedule_phase phase_of(const struct job *j)
{
	switch (job_stage(j)) {
	case JOB_STARTING:
	case JOB_BUILDING:
		return SCHEDULE_PREPARING;
	case JOB_BUILT:
		return SCHEDULE_BUILT;
	case JOB_BOOTING:
		return SCHEDULE_BOOTING;
	case JOB_ENDING:
		break;
	}
	return SCHEDULE_ENDING;
}

static void view_init(struct jobs_view *v, const struct daemon *d)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	v->jobs = xcalloc(d->n_jobs + 1, sizeof(*v->jobs));
	for (i = 0; i < d->n_jobs; i++) {
		struct schedule_job *sj = &v->jobs[i];

		sj->phase = phase_of(d->jobs[i]);
		sj->build_cores = job_build_cores(d->jobs[i]);
		if (sj->phase == SCHEDULE_BOOTING)
			sj->boot_tail = job_boot_tail(d->jobs[i],
						      &sj->boot_running);
	}
	v->s.cores = d->o.jobs;
	v->s.jobs = v->jobs;
	v->s.n_jobs = d->n_jobs;
	v->s.stopping = d->stopping;
	v->s.paused = d->paused != NULL;
	v->s.taking = d->taking;
	v->s.no_overlap = d->no_overlap;
	v->s.only_job = d->o.only_job;
	v->s.took_only_job = d->took_only_job;
}

static void view_release(struct jobs_view *v)
{
	free(v->jobs);
}

static size_t index_of(const struct daemon *d, const struct job *j)
{
	size_t i;

	for (i = 0; i < d->n_jobs; i++)
		if (d->jobs[i] == j)
			return i;
	return SCHEDULE_NO_JOB;
}

/* ---- what a job tells the daemon, and asks it ---- */

static void job_say(void *owner, const char *line)
{
	daemon_state_say(owner, "%s", line);
}

static int job_stopping(void *owner)
{
	return ((struct daemon *)owner)->stopping;
}

static unsigned job_free_cores(void *owner, const struct job *j)
{
	struct daemon *d = owner;
	struct jobs_view v;
	unsigned n;

	view_init(&v, d);
	n = schedule_free_cores(&v.s, index_of(d, j));
	view_release(&v);
	return n;
}

static int job_may_boot(void *owner, const struct job *j)
{
	struct daemon *d = owner;
	struct jobs_view v;
	int ok;

	view_init(&v, d);
	ok = schedule_may_boot(&v.s, index_of(d, j));
	view_release(&v);
	return ok;
}

static void job_changed(void *owner, struct job *j)
{
	daemon_state_write_status(owner);
}

static void job_cores_changed(void *owner, struct job *j)
{
	daemon_state_kick(owner);
}

static void job_verdict(void *owner, struct job *j, enum verdict v)
{
	struct daemon *d = owner;

	d->worst = verdict_exit_worst(d->worst, verdict_exit_code(v));
}

/*
 * A confirmation or bisection run is on disk: compare (whose webhook
 * events go to the outbox) and publish now, in the thread pool as at a
 * job's end, so that a regression it confirms or bisects is told while
 * the rest of its job still boots. Either one already running runs once
 * more after, so a burst of runs costs at most two of each.
 */
static void job_finding_run(void *owner, struct job *j)
{
	struct daemon *d = owner;

	if (d->stopping)
		return;
	daemon_work_compare(d);
	daemon_work_publish(d);
}

static void job_store_failed(void *owner, struct job *j, const char *err)
{
	daemon_state_pause(owner, err);
}

static void job_ended(void *owner, struct job *j)
{
	struct daemon *d = owner;
	struct job *next = NULL;
	struct jobs_view v;
	size_t i = index_of(d, j), k;

	if (i != SCHEDULE_NO_JOB) {
		memmove(&d->jobs[i], &d->jobs[i + 1],
			(d->n_jobs - i - 1) * sizeof(*d->jobs));
		d->n_jobs--;
	}
	view_init(&v, d);
	k = schedule_next_boot(&v.s);
	if (k != SCHEDULE_NO_JOB)
		next = d->jobs[k];
	view_release(&v);
	daemon_state_free_retired(d);
	daemon_state_write_status(d);
	if (next)
		job_boot(next);
	if (d->stopping && !d->n_jobs) {
		daemon_state_shutdown(d);
		return;
	}
	daemon_work_compare(d);
	daemon_work_publish(d);
	daemon_state_kick(d);
}

static const struct job_ops daemon_job_ops = {
	.say = job_say,
	.stopping = job_stopping,
	.free_cores = job_free_cores,
	.may_boot = job_may_boot,
	.changed = job_changed,
	.cores_changed = job_cores_changed,
	.verdict = job_verdict,
	.finding_run = job_finding_run,
	.store_failed = job_store_failed,
	.ended = job_ended,
};

void daemon_jobs_init(struct daemon *d, double retry_base_s)
{
	struct job_env *env = &d->job_env;

	memset(env, 0, sizeof(*env));
	env->loop = d->loop;
	env->store = d->store;
	env->state_dir = d->o.state_dir;
	env->initrd = d->o.initrd;
	env->cores = d->o.jobs;
	env->quiet = d->o.quiet;
	env->policy.attempts = DAEMON_JOB_ATTEMPTS;
	env->policy.error_retries = DAEMON_ERROR_RETRIES;
	env->policy.retry_base_s = retry_base_s;
	env->ops = &daemon_job_ops;
	env->owner = d;
}

void daemon_jobs_stop(struct daemon *d)
{
	struct job **jobs = xcalloc(d->n_jobs + 1, sizeof(*jobs));
	size_t i, n = d->n_jobs;

	/* A job may end inside job_stop() and leave d->jobs: stop the ones
	 * running now, each once, in the order they began. */
	memcpy(jobs, d->jobs, n * sizeof(*jobs));
	for (i = 0; i < n; i++)
		job_stop(jobs[i]);
	free(jobs);
}

void daemon_jobs_release(struct daemon *d)
{
	free(d->jobs);
	d->jobs = NULL;
	d->n_jobs = d->jobs_alloc = 0;
}

/* ---- taking the next job from the queue ---- */

struct take {
	struct daemon *d;
	int64_t only_job;
	struct record_job rj;
	int found;
	int have_due;
	double due_at;
};

/* On the store thread: the queue as it is, schedule_pick's choice taken. */
static int take_op(struct record *r, void *arg, struct strbuf *err)
{
	struct take *t = arg;
	struct record_job *q = NULL;
	struct schedule_queued *e;
	size_t n = 0, i, pick;
	int rc = 0;

	if (record_queue_list_jobs(r, RECORD_JOB_QUEUED, &q, &n, err) < 0)
		return -1;
	e = xcalloc(n + 1, sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].id = q[i].id;
		e[i].priority = q[i].priority;
		e[i].batch = q[i].batch;
		e[i].not_before = q[i].not_before;
	}
	if (schedule_pick(e, n, t->only_job, timeutil_now(), &pick,
			  &t->have_due, &t->due_at)) {
		rc = record_queue_job_next(r, e[pick].id, &t->rj, err);
		t->found = rc == 1;
		if (rc == 0) {
			/* Not queued any more: look again, not "empty". */
			t->have_due = 1;
			t->due_at = 0;
		}
	}
	free(e);
	record_queue_jobs_free(q, n);
	return rc < 0 ? -1 : 0;
}

static void requeue_done(void *arg, int rc, const char *err)
{
	struct take *t = arg;
	struct daemon *d = t->d;

	record_queue_job_release(&t->rj);
	free(t);
	d->taking = 0;
	if (d->stopping)
		daemon_state_shutdown(d);
	else
		daemon_state_kick(d);	/* paused: resuming schedules */
}

static int requeue_op(struct record *r, void *arg, struct strbuf *err)
{
	struct take *t = arg;

	return record_queue_job_requeue(r, t->rj.id, err);
}

static void due_cb(uv_timer_t *t)
{
	daemon_state_kick(container_of(t, struct daemon, due_timer));
}

static int idle(const struct daemon *d)
{
	return !d->n_jobs && !d->polling && !d->publishing && !d->comparing &&
	       !d->web_syncing && d->web_synced_once &&
	       (d->polled_once || !d->o.poll);
}

static void begin(struct daemon *d, struct record_job *rj)
{
	struct job *j = job_begin(&d->job_env, d->m, rj);

	ALLOC_GROW(d->jobs, d->n_jobs + 1, d->jobs_alloc);
	d->jobs[d->n_jobs++] = j;
	daemon_state_write_status(d);
}

static void take_done(void *arg, int rc, const char *err)
{
	struct take *t = arg;
	struct daemon *d = t->d;
	double wait;

	if (rc < 0) {
		d->taking = 0;
		daemon_state_pause(d, err);
		free(t);
		return;
	}
	if (d->stopping || d->paused) {
		if (t->found) {
			/* Taken as we stopped: put it back untouched. */
			record_thread_submit(d->store, requeue_op,
					     requeue_done, t);
			return;
		}
		d->taking = 0;
		free(t);
		daemon_state_shutdown(d);
		return;
	}
	d->taking = 0;
	if (t->found) {
		d->took_only_job = 1;
		begin(d, &t->rj);	/* takes rj's strings */
		free(t);
		daemon_state_kick(d);	/* another may fit beside it */
		return;
	}
	if (t->have_due && !d->o.only_job) {
		wait = t->due_at - timeutil_now();
		uv_timer_start(&d->due_timer, due_cb,
			       wait > 0 ? (uint64_t)(wait * 1000) + 10 : 10,
			       0);
	}
	rc = t->have_due;
	free(t);
	if (rc)
		return;		/* deferred work is still work */
	if (d->o.only_job ? !d->n_jobs : (d->o.until_idle && idle(d))) {
		daemon_state_say(d, "queue empty: stopping (--until-idle)");
		daemon_state_shutdown(d);
	}
}

void daemon_jobs_take(struct daemon *d)
{
	enum schedule_action a;
	struct jobs_view v;
	struct take *t;

	view_init(&v, d);
	a = schedule_next(&v.s);
	view_release(&v);
	if (a == SCHEDULE_DONE)
		daemon_state_shutdown(d);
	if (a != SCHEDULE_TAKE)
		return;
	t = xcalloc(1, sizeof(*t));
	t->d = d;
	t->only_job = d->o.only_job;
	d->taking = 1;
	record_thread_submit(d->store, take_op, take_done, t);
}
