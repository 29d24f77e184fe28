/*
 * schedule: step 3 of the pipeline inside the daemon. Decides when the
 * next job is taken from the store's queue (by priority, then newest push;
 * record-queue.c orders it) and on how many cores it runs.
 *
 * Cores: a build uses make -jN with N the cores free when it starts; the
 * boots of a build use the cores no build holds. At most one job builds
 * and one boots at a time. When the boots of a commit reach their tail
 * (every run started, some cores idle: the long Xen cells at the end of a
 * batch), the next commit's build starts on the idle cores, so the two
 * overlap without ever running more than `jobs` things at once.
 *
 * A job the farm failed waits out its backoff in the store (not_before):
 * a timer wakes the scheduler when the first deferred job is due.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon-priv.h"
#include "lib/xmalloc.h"
#include "lib/timeutil.h"

struct take {
	struct daemon *d;
	struct record_job rj;
	int found;
	int have_due;
	double due_at;
};

double schedule_backoff_s(const struct daemon *d, int attempts)
{
	double s = d->retry_base_s;
	int i;

	for (i = 1; i < attempts && s < DAEMON_RETRY_MAX_S; i++)
		s *= 2;
	return s > DAEMON_RETRY_MAX_S ? DAEMON_RETRY_MAX_S : s;
}

unsigned schedule_free_cores(const struct daemon *d, const struct job *self)
{
	unsigned used = 0, running;
	const struct job *j;

	for (j = d->jobs; j; j = j->next) {
		if (j == self)
			continue;
		if (j->building)
			used += j->build_cores;
		if (j->stage == JOB_BOOTING && job_boot_tail(j, &running))
			used += running;
		else if (j->stage == JOB_BOOTING)
			used += d->o.jobs;	/* runs still to start */
	}
	return used >= d->o.jobs ? 0 : d->o.jobs - used;
}

/* May a new job start now? */
static int room_for_a_job(const struct daemon *d)
{
	const struct job *j;

	if (d->no_overlap && d->jobs)
		return 0;
	for (j = d->jobs; j; j = j->next)
		if (j->stage != JOB_BOOTING && j->stage != JOB_ENDING)
			return 0;	/* one job before its boots at a time */
	return schedule_free_cores(d, NULL) > 0;
}

static int take_op(struct record *r, void *arg, struct strbuf *err)
{
	struct take *t = arg;
	int rc = record_job_next(r, t->d->o.only_job, &t->rj, err);

	if (rc < 0)
		return -1;
	t->found = rc;
	if (!rc) {
		rc = record_queue_next_due(r, t->d->o.only_job, &t->due_at,
					   err);
		if (rc < 0)
			return -1;
		t->have_due = rc;
	}
	return 0;
}

static void requeue_done(void *arg, int rc, const char *err)
{
	struct take *t = arg;
	struct daemon *d = t->d;

	record_job_release(&t->rj);
	free(t);
	d->taking = 0;
	if (d->stopping)
		daemon_shutdown(d);
	else
		schedule(d);	/* paused: resume_probe_done schedules */
}

static int requeue_op(struct record *r, void *arg, struct strbuf *err)
{
	struct take *t = arg;

	return record_job_requeue(r, t->rj.id, err);
}

static void due_cb(uv_timer_t *t)
{
	schedule(container_of(t, struct daemon, due_timer));
}

static int idle(const struct daemon *d)
{
	return !d->jobs && !d->polling && !d->publishing && !d->comparing &&
	       (d->polled_once || !d->o.poll);
}

static void take_done(void *arg, int rc, const char *err)
{
	struct take *t = arg;
	struct daemon *d = t->d;
	double wait;

	if (rc < 0) {
		d->taking = 0;
		daemon_pause(d, err);
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
		daemon_shutdown(d);
		return;
	}
	d->taking = 0;
	if (t->found) {
		d->took_only_job = 1;
		job_begin(d, &t->rj);	/* takes rj's strings */
		free(t);
		schedule(d);		/* another may fit beside it */
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
	if (d->o.only_job ? !d->jobs : (d->o.until_idle && idle(d))) {
		daemon_say(d, "queue empty: stopping (--until-idle)");
		daemon_shutdown(d);
	}
}

static void kick_cb(uv_timer_t *timer)
{
	struct daemon *d = container_of(timer, struct daemon, kick);
	struct take *t;

	if (d->stopping || d->paused || d->taking)
		return;
	if (d->o.only_job && d->took_only_job) {
		if (!d->jobs)
			daemon_shutdown(d);
		return;
	}
	if (!room_for_a_job(d))
		return;
	t = xcalloc(1, sizeof(*t));
	t->d = d;
	d->taking = 1;
	record_thread_submit(d->store, take_op, take_done, t);
}

void schedule(struct daemon *d)
{
	if (!d->stopping && !d->closed)
		uv_timer_start(&d->kick, kick_cb, 0, 0);
}
