/*
 * daemon-priv.h: what the daemon's own files share, and nothing else
 * includes. The files are layers; each calls only the ones below it:
 *
 *   daemon.c        daemon_main: set-up, signals, the loop and its
 *                   handles, matrix reloads, the pause's resume probes,
 *                   shutdown, and kick_cb, the one handler that acts on
 *                   the requests of the files below
 *   daemon-jobs.c   acts on what schedule.c decides: takes the queue's
 *                   next job, begins it, answers its callbacks, and when
 *                   it ends boots the next built one, compares, publishes
 *   daemon-poll.c   polls the trees (thread pool)
 *   daemon-work.c   compares and publishes (thread pool)
 *   daemon-web.c    the web kernels' boots each cell still needs (thread
 *                   pool, then the store thread)
 *   daemon-state.c  what all of them use: daemon_state_say, the status
 *                   file and the loop-lag meter, the matrix in force and
 *                   the retired ones, and the requests to daemon.c (look
 *                   for work, pause, shut down), which only set state and
 *                   kick daemon.c's zero-delay timer
 *
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
#define DAEMON_LAG_DEBUG_MS 20		/* HVMATRIX_DEBUG_LAG says more */
#define DAEMON_STATUS_SIZE 65536	/* status file, preallocated */
#define DAEMON_WEB_CHECK_MS 60000	/* the web's cells looked at again */

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
	uv_timer_t kick;		/* daemon.c acts on `wants` */
	uv_timer_cb kick_cb;		/* daemon.c's, set before any kick */
	unsigned wants;			/* DAEMON_WANT_*, since the last kick */
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
	/* the web (daemon-web.c): a look in flight, asked again, done once
	 * since the start, and whether its complaints were said already */
	int web_syncing, web_again, web_synced_once, web_quiet;
	uv_timer_t web_timer;
	/* lag meter: worst lag per second over the last window */
	uint64_t lag_last_ns;
	double lag_bucket_ms[DAEMON_LAG_WINDOW_S];
	double lag_worst_ms;		/* since the start */
	uint64_t lag_bucket_s[DAEMON_LAG_WINDOW_S];
	/* HVMATRIX_DEBUG_LAG: each hold-up said, with the loop thread's
	 * time on a CPU and waiting for one (its schedstat, -1 if none) */
	int lag_debug, lag_sched_fd, lag_sched_ok;
	uint64_t lag_run_ns, lag_wait_ns;
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

/* What daemon.c is asked to do at its next kick (struct daemon.wants). */
#define DAEMON_WANT_WORK	0x1	/* look for work */
#define DAEMON_WANT_PAUSE	0x2	/* a pause began: stop the jobs */
#define DAEMON_WANT_SHUTDOWN	0x4	/* stop, close once nothing runs */

/* daemon-state.c */
void daemon_state_say(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int daemon_state_status_open(struct daemon *d, struct strbuf *err);
/* The state directory 0711, its top 0700/0600 but the dashboard. */
int daemon_state_private_dir(const char *state_dir, struct strbuf *err);
void daemon_state_write_status(struct daemon *d);
/* HVMATRIX_DEBUG_LAG read, once, on the loop thread. */
void daemon_state_lag_start(struct daemon *d);
/* One tick of the loop-lag meter (every DAEMON_LAG_TICK_MS). */
void daemon_state_lag_tick(struct daemon *d);
/* m in force; the last one is kept (retired) while jobs may use it. */
void daemon_state_set_matrix(struct daemon *d, struct matrix *m);
void daemon_state_free_retired(struct daemon *d);
/* The matrices, the status file, the pause's reason. */
void daemon_state_release(struct daemon *d);
/*
 * Requests to daemon.c, which acts on them at its next kick (a zero-delay
 * timer: this loop turn or the next). Look for work (not while stopping).
 */
void daemon_state_kick(struct daemon *d);
/* A store write failed: paused at once, the jobs stopped at the kick, no
 * work taken until writes work again. */
void daemon_state_pause(struct daemon *d, const char *why);
/* Stopping at once; at the kick the jobs stop, or, once nothing is in
 * flight, the loop closes. */
void daemon_state_shutdown(struct daemon *d);

/* daemon-work.c */
void daemon_work_publish(struct daemon *d);
/* Compare every cell with its history; queue confirmations and
 * bisection steps (regressions.h). */
void daemon_work_compare(struct daemon *d);

/* daemon-web.c */
/* Queue every web kernel's boot in every web cell that has no run of it
 * in the cell as it is now; daemon_web_start also looks every
 * DAEMON_WEB_CHECK_MS. */
void daemon_web_sync(struct daemon *d);
void daemon_web_start(struct daemon *d);

/* daemon-poll.c */
void daemon_poll_cb(uv_timer_t *t);
void daemon_poll_release(struct daemon *d);

/* daemon-jobs.c */
/* What every job is given (after the store thread started). */
void daemon_jobs_init(struct daemon *d, double retry_base_s);
/* Ask schedule.c what to do now, and take the next job if it says so. */
void daemon_jobs_take(struct daemon *d);
/* Stop every job: each goes back to the queue and ends. */
void daemon_jobs_stop(struct daemon *d);
void daemon_jobs_release(struct daemon *d);

#endif
