/*
 * daemon-priv.h: what the daemon's own files share, and nothing else
 * includes. daemon.c owns the loop, its handles, the status file, the
 * loop-lag meter, the pause when the store fails and shutdown;
 * daemon-poll.c polls the trees; daemon-work.c compares and publishes in
 * the thread pool; daemon-jobs.c acts on what schedule.c decides (takes
 * the queue's next job, begins it, answers its callbacks, and when it
 * ends boots the next built one, compares, publishes and takes again).
 * The jobs themselves (schedule/job.h) never see struct daemon.
 *
 * Every store call goes through the store thread (record-thread.h): the
 * loop thread never waits for SQLite, a disk or a lock.
 */
#ifndef HVM_DAEMON_PRIV_H
#define HVM_DAEMON_PRIV_H

#include <stdint.h>
#include <uv.h>

#include "daemon/daemon.h"
#include "matrix/matrix.h"
#include "schedule/job.h"
#include "store/record.h"
#include "store/record-thread.h"
#include "lib/strbuf.h"

#define DAEMON_MATRIX_CHECK_MS 1000	/* matrix file stat interval */
#define DAEMON_STATUS_MS 2000		/* status file refresh */
#define DAEMON_LAG_TICK_MS 50		/* loop-lag meter resolution */
#define DAEMON_LAG_WINDOW_S 60		/* worst lag over this window */
#define DAEMON_STATUS_SIZE 65536	/* status file, preallocated */

struct daemon {
	uv_loop_t *loop;
	struct daemon_opts o;
	struct matrix *m;		/* the last good matrix */
	struct matrix **retired;	/* replaced while jobs used them */
	size_t n_retired, retired_alloc;
	struct record_thread *store;	/* every store call from the loop */
	struct webhook *hooks;		/* signed event POSTs (webhook.h) */
	char *dash_dir;
	uv_signal_t sig[3];
	uv_timer_t poll_timer;
	uv_fs_poll_t matrix_watch;
	uv_timer_t kick;		/* kick_cb: take the next job */
	uv_timer_t due_timer;		/* a deferred job's time comes */
	uv_timer_t status_timer;
	uv_timer_t lag_timer;
	uv_timer_t resume_timer;	/* paused: try the store again */
	/* poll */
	struct daemon_due *due;
	size_t n_due, due_alloc;
	int polling;
	int polled_once;
	/* jobs (daemon-jobs.c): at most one before its boots and one
	 * booting at a time (schedule.h), in the order they began */
	struct job_env job_env;		/* what every job is given */
	struct job **jobs;
	size_t n_jobs, jobs_alloc;
	int taking;			/* a take in flight */
	int took_only_job;
	int publishing, publish_again;
	int comparing, compare_again;	/* regressions_compute in flight */
	/* lag meter: worst lag per second over the last window */
	uint64_t lag_last_ns;
	double lag_bucket_ms[DAEMON_LAG_WINDOW_S];
	double lag_worst_ms;		/* since the start */
	uint64_t lag_bucket_s[DAEMON_LAG_WINDOW_S];
	/* pause */
	char *paused;			/* why, or NULL */
	unsigned resume_delay_ms;
	int resuming;
	int stopping, closed;
	int worst;			/* exit code so far */
	int lock_fd;
	int status_fd;
	size_t status_len;
	int no_overlap;			/* $HVMATRIX_NO_OVERLAP: a build
					 * only once the boots are done (to
					 * measure what overlap gains) */
};

/* A tree's next poll time, by name (trees come and go with reloads). */
struct daemon_due {
	char *name;
	uint64_t next_ms;
};

/* daemon.c */
void daemon_say(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void daemon_write_status(struct daemon *d);
/* A store write failed: stop taking work until writes work again. */
void daemon_pause(struct daemon *d, const char *why);
void daemon_shutdown(struct daemon *d);
void daemon_free_retired(struct daemon *d);

/* daemon-work.c */
void daemon_publish(struct daemon *d);
/* Compare every cell with its history; queue confirmations and
 * bisection steps (regressions.h). */
void daemon_compare(struct daemon *d);

/* daemon-poll.c */
void daemon_poll_cb(uv_timer_t *t);
void daemon_poll_release(struct daemon *d);

/* daemon-jobs.c */
/* What every job is given (after the store thread started). */
void daemon_jobs_init(struct daemon *d, double retry_base_s);
/* Look for work from the loop (not from inside a callback chain). */
void daemon_jobs_schedule(struct daemon *d);
/* Stop every job: each goes back to the queue and ends. */
void daemon_jobs_stop(struct daemon *d);
void daemon_jobs_release(struct daemon *d);

#endif
