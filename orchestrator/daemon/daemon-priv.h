/*
 * daemon-priv.h: what the daemon's files share. daemon.c owns the loop,
 * its handles, the status file, the loop-lag meter and the pause when the
 * store fails; daemon-poll.c polls the trees; schedule.c decides which job
 * runs next and on how many cores; job.c takes one job through build,
 * boot and record. Nothing outside them includes this header.
 *
 * Every store call goes through the store thread (record-thread.h): the
 * loop thread never waits for SQLite, a disk or a lock.
 */
#ifndef HVM_DAEMON_PRIV_H
#define HVM_DAEMON_PRIV_H

#include <stdint.h>
#include <uv.h>

#include "boot/boot.h"
#include "build/build.h"
#include "executor/executor.h"
#include "daemon/daemon.h"
#include "build/kernel.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "store/record-thread.h"
#include "lib/strbuf.h"

#define DAEMON_HEARTBEAT_MS 30000	/* "still building" lines */
#define DAEMON_MATRIX_CHECK_MS 1000	/* matrix file stat interval */
#define DAEMON_STATUS_MS 2000		/* status file refresh */
#define DAEMON_LAG_TICK_MS 50		/* loop-lag meter resolution */
#define DAEMON_LAG_WINDOW_S 60		/* worst lag over this window */
#define DAEMON_STATUS_SIZE 65536	/* status file, preallocated */

struct daemon;

enum job_stage {
	JOB_STARTING = 0,	/* reading what the store has for it */
	JOB_BUILDING,
	JOB_BUILT,		/* waiting for cores to boot on */
	JOB_BOOTING,
	JOB_ENDING,		/* writes in flight, then done */
};

/* Runs a job makes of one cell: why, and how many. */
struct job_todo {
	const struct cell *cell;
	unsigned have, runs;
	const char *purpose;		/* "test", "confirm", "bisect" */
};

/* One (tree, commit, build config) going through the pipeline. */
struct job {
	struct daemon *d;
	struct job *next;		/* d->jobs */
	struct record_job rj;
	struct matrix *m;		/* the matrix in force when it began */
	const struct matrix_tree *tree;
	const struct matrix_build *cfg;
	enum job_stage stage;
	const char *detail;		/* "checkout", "make", "boot", ... */
	struct build_job build;
	int building;
	unsigned build_cores;
	char *image;			/* the built kernel */
	struct kernel kernel;
	char *kernel_err;		/* the image cannot be used, or NULL */
	struct boot_run *runs;		/* the current round */
	size_t n_runs;
	struct executor *boot;		/* local and Slurm (executor.h) */
	int booting;
	unsigned round;			/* 1, then ERROR retries */
	struct job_todo *todo;		/* round 1: runs to make per cell */
	size_t n_todo;
	unsigned n_recorded;		/* runs the store had at the start */
	struct record_plan *plan;	/* from the store, at the start */
	size_t n_plan;
	int scope_all;
	char **retry;			/* cells that ended ERROR this round */
	size_t n_retry, retry_alloc;
	char *repo;			/* the repository the build reads */
	char *batch;
	char *log_dir;
	unsigned pending;		/* store ops in flight */
	int requeue;			/* stopped: back to the queue */
	int ended;			/* job_end() was called */
	char *defer;			/* failed for the farm: why (backoff) */
	int store_failed;		/* a store write failed: the daemon
					 * pauses, the job is left running
					 * in the store and recovered */
	double t0;
	uv_timer_t heartbeat;
};

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
	uv_timer_t kick;		/* schedule_cb: take the next job */
	uv_timer_t due_timer;		/* a deferred job's time comes */
	uv_timer_t status_timer;
	uv_timer_t lag_timer;
	uv_timer_t resume_timer;	/* paused: try the store again */
	/* poll */
	struct daemon_due *due;
	size_t n_due, due_alloc;
	int polling;
	int polled_once;
	/* jobs: at most one building and one booting at a time */
	struct job *jobs;
	int taking;			/* a record_job_next in flight */
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
	double retry_base_s;		/* first backoff delay */
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
void daemon_note_verdict(struct daemon *d, enum verdict v);
/* A store write failed: stop taking work until writes work again. */
void daemon_pause(struct daemon *d, const char *why);
void daemon_publish(struct daemon *d);
/* Compare every cell with its history; queue confirmations and
 * bisection steps (regressions.h). */
void daemon_compare(struct daemon *d);
void daemon_shutdown(struct daemon *d);
void daemon_free_retired(struct daemon *d);
char *daemon_tree_repo(struct daemon *d, const struct matrix_tree *t);

/* daemon-poll.c */
void daemon_poll_cb(uv_timer_t *t);
void daemon_poll_release(struct daemon *d);

/* schedule.c */
/* Look for work from the loop (not from inside a callback chain). */
void schedule(struct daemon *d);
/* Cores not taken by a build or by running boots. */
unsigned schedule_free_cores(const struct daemon *d, const struct job *j);
/* The backoff before attempt `attempts + 1` of a job that failed. */
double schedule_backoff_s(const struct daemon *d, int attempts);

/* job.c */
void job_begin(struct daemon *d, struct record_job *rj);
/* A built job may boot now (the booting one is done). */
void job_boot(struct job *j);
void job_stop(struct job *j);
int job_boot_tail(const struct job *j, unsigned *running);
const char *job_stage_name(const struct job *j);

#endif
