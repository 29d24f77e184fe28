/*
 * schedule: which job next and on how many cores (see schedule.h for the
 * rules). Pure functions of the snapshot they are given: no I/O, no
 * clock, no daemon. Whoever acts on an answer (daemon-jobs.c) owns the
 * queue, the jobs and the timers.
 */
#include <string.h>

#include "schedule/schedule.h"
#include "matrix/matrix-interfaces.h"

enum schedule_rank schedule_cell_rank(const struct matrix *m,
				      const struct cell *c,
				      char *const *paths, size_t n_paths,
				      int wide, char *const *failed,
				      size_t n_failed)
{
	size_t i;

	if (!wide && matrix_interfaces_touched(m, c, paths, n_paths))
		return SCHEDULE_RANK_TOUCHED;
	for (i = 0; i < n_failed; i++)
		if (!strcmp(failed[i], c->name))
			return SCHEDULE_RANK_FAILED;
	return SCHEDULE_RANK_REST;
}

void schedule_cell_order(const enum schedule_rank *rank, size_t n,
			 size_t *order)
{
	size_t i, k = 0;
	unsigned r;

	/* Three ranks: one pass each keeps every tie in index order. */
	for (r = SCHEDULE_RANK_TOUCHED; r <= SCHEDULE_RANK_REST; r++)
		for (i = 0; i < n; i++)
			if (rank[i] == r)
				order[k++] = i;
}

double schedule_backoff_s(double base_s, int attempts)
{
	double s = base_s;
	int i;

	for (i = 1; i < attempts && s < SCHEDULE_RETRY_MAX_S; i++)
		s *= 2;
	return s > SCHEDULE_RETRY_MAX_S ? SCHEDULE_RETRY_MAX_S : s;
}

unsigned schedule_free_cores(const struct schedule_state *s, size_t self)
{
	unsigned used = 0;
	size_t i;

	for (i = 0; i < s->n_jobs; i++) {
		const struct schedule_job *j = &s->jobs[i];

		if (i == self)
			continue;
		used += j->build_cores;
		/* Until its last run has started, a round may start one on
		 * any core that comes free: it holds them all. */
		if (j->phase == SCHEDULE_BOOTING)
			used += j->boot_tail ? j->boot_running : s->cores;
	}
	return used >= s->cores ? 0 : s->cores - used;
}

/* May a new job start beside the running ones? */
static int room_for_a_job(const struct schedule_state *s)
{
	size_t i;

	if (s->no_overlap && s->n_jobs)
		return 0;
	for (i = 0; i < s->n_jobs; i++)
		if (s->jobs[i].phase != SCHEDULE_BOOTING &&
		    s->jobs[i].phase != SCHEDULE_ENDING)
			return 0;	/* one before its boots at a time */
	return schedule_free_cores(s, SCHEDULE_NO_JOB) > 0;
}

enum schedule_action schedule_next(const struct schedule_state *s)
{
	if (s->stopping || s->paused || s->taking)
		return SCHEDULE_WAIT;
	if (s->only_job && s->took_only_job)
		return s->n_jobs ? SCHEDULE_WAIT : SCHEDULE_DONE;
	return room_for_a_job(s) ? SCHEDULE_TAKE : SCHEDULE_WAIT;
}

/* Does a come before b in the queue? The store's order (JOB_ORDER in
 * record-queue.c): priority, then the newest poll, then the oldest job. */
static int queued_before(const struct schedule_queued *a,
			 const struct schedule_queued *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	if (a->batch != b->batch)
		return a->batch > b->batch;
	return a->id < b->id;
}

int schedule_pick(const struct schedule_queued *q, size_t n,
		  int64_t only_job, double now, size_t *index, int *have_due,
		  double *due_at)
{
	size_t i, best = SCHEDULE_NO_JOB;

	*have_due = 0;
	for (i = 0; i < n; i++) {
		if (only_job > 0 && q[i].id != only_job)
			continue;
		if (q[i].not_before > now) {
			/* Waiting out its backoff: when to look again. */
			if (!*have_due || q[i].not_before < *due_at)
				*due_at = q[i].not_before;
			*have_due = 1;
			continue;
		}
		if (best == SCHEDULE_NO_JOB || queued_before(&q[i], &q[best]))
			best = i;
	}
	if (best == SCHEDULE_NO_JOB)
		return 0;
	*index = best;
	return 1;
}

int schedule_may_boot(const struct schedule_state *s, size_t self)
{
	size_t i;

	for (i = 0; i < s->n_jobs; i++)
		if (i != self && s->jobs[i].phase == SCHEDULE_BOOTING)
			return 0;
	return 1;
}

size_t schedule_next_boot(const struct schedule_state *s)
{
	size_t i, next = SCHEDULE_NO_JOB;

	if (s->stopping)
		return SCHEDULE_NO_JOB;
	/* At most one is built and waiting; the newest, were there more. */
	for (i = 0; i < s->n_jobs; i++)
		if (s->jobs[i].phase == SCHEDULE_BUILT)
			next = i;
	return next;
}
