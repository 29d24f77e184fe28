/*
 * schedule: step 3 of the pipeline, as a decision and nothing else. Given
 * a snapshot of the farm (its cores, the jobs running and what each
 * holds, the queued jobs with their priorities and backoff), it says
 * whether a job may be taken, which queued job that is, on how many cores
 * a job builds or boots, and which built job boots next.
 *
 * It never does I/O, never reads a clock (the caller passes `now`) and
 * never sees the daemon: the daemon (daemon-jobs.c) builds the snapshot,
 * asks, and acts on the answer. That is what lets test-schedule.c check
 * every rule on snapshots made up for it.
 *
 * The rules, as the daemon has always followed them:
 *  - At most one job is before its boots (starting, building, or built and
 *    waiting) and at most one boots.
 *  - A build holds the cores it was started with (make -jN); a job that
 *    boots holds every core until each of its runs has started (its
 *    tail), then only the runs still running. The cores nothing holds are
 *    what the next build, or the next round of boots, gets: the next
 *    commit's build overlaps the last boots of the previous one without
 *    more than `cores` things running at once.
 *  - The queue is taken by priority (confirmation and bisection steps
 *    first, then tips, then the backlog), then newest batch, then oldest
 *    job: the store's own order (record-queue.c, `hvmatrix queue`). A job
 *    whose backoff has not run out is not taken; the earliest one says
 *    when to look again.
 *  - Within a job, the cells likeliest to fail on its commit boot first:
 *    those whose interface files the commit touches (matrix-interfaces.h),
 *    then those that failed recently, then the rest, each group in matrix
 *    order. Only which run starts first changes, never a verdict.
 */
#ifndef HVM_SCHEDULE_H
#define HVM_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include "matrix/matrix.h"

/* The most a failed job waits before its next attempt. */
#define SCHEDULE_RETRY_MAX_S 1800.0

/* No job: for schedule_free_cores(), and what schedule_next_boot() says
 * when no job should boot. */
#define SCHEDULE_NO_JOB ((size_t)-1)

/* Where a running job is, as far as cores and turns go. */
enum schedule_phase {
	SCHEDULE_PREPARING = 0,	/* reading the store, building */
	SCHEDULE_BUILT,		/* built, waiting for the booting job */
	SCHEDULE_BOOTING,
	SCHEDULE_ENDING,	/* its last writes in flight */
};

/* One running job. */
struct schedule_job {
	enum schedule_phase phase;
	unsigned build_cores;	/* held by its build now, 0 when none */
	int boot_tail;		/* booting, and every run has started */
	unsigned boot_running;	/* booting: runs running now */
};

/* The farm as the scheduler sees it. */
struct schedule_state {
	unsigned cores;			/* the farm's (--jobs) */
	const struct schedule_job *jobs;	/* in the order they began */
	size_t n_jobs;
	int stopping;			/* shutting down */
	int paused;			/* the store does not take writes */
	int taking;			/* a take is in flight already */
	int no_overlap;			/* one job at a time */
	int64_t only_job;		/* > 0: this queued job alone */
	int took_only_job;		/* ... and it was taken */
};

/* One queued job, as the store lists it. */
struct schedule_queued {
	int64_t id;
	int priority;			/* RECORD_PRIORITY_* */
	int64_t batch;			/* the poll that found it */
	double not_before;		/* backoff: Unix time */
};

enum schedule_action {
	SCHEDULE_WAIT = 0,	/* nothing to do now */
	SCHEDULE_TAKE,		/* take the one schedule_pick() picks */
	SCHEDULE_DONE,		/* --job: the one job ran; stop */
};

/* What to do about the queue now. */
enum schedule_action schedule_next(const struct schedule_state *s);

/*
 * The queued job to take at `now`: 1 with *index set, or 0. With 0,
 * *due_at is when the first job waiting out its backoff may be taken
 * (1 returned in *have_due), or *have_due is 0 when nothing is queued.
 */
int schedule_pick(const struct schedule_queued *q, size_t n,
		  int64_t only_job, double now, size_t *index, int *have_due,
		  double *due_at);

/*
 * Cores the job at index self (SCHEDULE_NO_JOB: a job not begun yet)
 * may take now: those no other job holds. 0 when none is free.
 */
unsigned schedule_free_cores(const struct schedule_state *s, size_t self);

/* May the built job at index self boot now (no other job boots)? */
int schedule_may_boot(const struct schedule_state *s, size_t self);

/* A job ended: the built job that boots now, or SCHEDULE_NO_JOB. */
size_t schedule_next_boot(const struct schedule_state *s);

/* How likely a job's cell is to fail on its commit, likeliest first. */
enum schedule_rank {
	SCHEDULE_RANK_TOUCHED = 0,	/* the commit touches its interface */
	SCHEDULE_RANK_FAILED,		/* it failed among its last runs */
	SCHEDULE_RANK_REST,
};

/*
 * Cell c's rank in a job whose commit changes paths (n_paths of them;
 * wide: more than the caller looked at, so every cell may be touched and
 * none ranks first for it) and whose tree's recent failures are the cells
 * named in failed.
 */
enum schedule_rank schedule_cell_rank(const struct matrix *m,
				      const struct cell *c,
				      char *const *paths, size_t n_paths,
				      int wide, char *const *failed,
				      size_t n_failed);
/* order[0..n): the indexes 0..n-1 sorted by rank[], ties kept in index
 * order. */
void schedule_cell_order(const enum schedule_rank *rank, size_t n,
			 size_t *order);

/* The backoff before attempt `attempts + 1` of a job the farm failed:
 * base_s, twice as long after each attempt, at most SCHEDULE_RETRY_MAX_S. */
double schedule_backoff_s(double base_s, int attempts);

#endif
