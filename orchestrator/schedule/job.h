/*
 * job: one (tree, commit, build config) through the pipeline: what the
 * store already has for it, the build, the boots of every run its plan
 * still wants (ERROR runs again, policy.error_retries times), each verdict
 * recorded, then the job marked done, queued again (stopped) or deferred
 * with backoff (the farm failed).
 *
 * A job knows nothing of who runs it. It tells its owner what happened
 * only through the job_ops it is given, and asks it only through them
 * (whether it is stopping, the cores it may take, whether it may boot):
 * it never takes work from the queue, compares, publishes or shuts
 * anything down. Every store call is an op on the owner's store thread,
 * run in order: a job's verdicts are on disk before it is marked done.
 *
 * The files: job.c (the stages: begin, build, boot rounds, end, stop),
 * job-plan.c (what runs: the store's plan as runs per cell, the runs of
 * each round), job-record.c (the store writes), job-priv.h (what the three
 * share).
 */
#ifndef HVM_JOB_H
#define HVM_JOB_H

#include <uv.h>

#include "boot/boot.h"
#include "build/build.h"
#include "judge/verdict.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "store/record-thread.h"
#include "lib/strbuf.h"

#define JOB_HEARTBEAT_MS 30000	/* "still building" lines */

struct job;
struct executor;

enum job_stage {
	JOB_STARTING = 0,	/* reading what the store has for it */
	JOB_BUILDING,
	JOB_BUILT,		/* waiting for the booting job to end */
	JOB_BOOTING,
	JOB_ENDING,		/* writes in flight, then done */
};

/*
 * What a job tells its owner, and asks it. Each is called on the loop,
 * with the owner's pointer from job_env; every one must be set.
 */
struct job_ops {
	/* A line for people: "tree commit build: what happened". */
	void (*say)(void *owner, const char *line);
	/* Is the owner shutting down? A job then stops at the next step. */
	int (*stopping)(void *owner);
	/* Cores the job may take now for its build or a round of boots:
	 * those no other job holds (0: none; the job then takes one). */
	unsigned (*free_cores)(void *owner, const struct job *j);
	/* Built: may it boot now? If not, the owner calls job_boot() when
	 * the job that boots has ended. */
	int (*may_boot)(void *owner, const struct job *j);
	/* Its stage or what it shows for it changed (the status file). */
	void (*changed)(void *owner, struct job *j);
	/* Cores it held may be free now: a run ended, or the build did. */
	void (*cores_changed)(void *owner, struct job *j);
	/* A verdict goes to the store (the daemon's exit code counts it). */
	void (*verdict)(void *owner, struct job *j, enum verdict v);
	/* A run a finding waits for (a confirmation or a bisection step)
	 * is in the store, the job still running: a regression may be
	 * confirmed or bisected now, not only at the job's end. */
	void (*finding_run)(void *owner, struct job *j);
	/* A store write failed: the job is left `running` in the store and
	 * ends without another write; the owner should stop taking work. */
	void (*store_failed)(void *owner, struct job *j, const char *err);
	/* The job is over (its last write done). The owner drops it; the job
	 * frees itself on the loop after this returns. */
	void (*ended)(void *owner, struct job *j);
};

/*
 * Where builds and boots go. The real ones are job_runner_default
 * (build.c, or a Slurm job with `builds: true`; executor.c for the
 * runs). This seam exists for test-job.c, which drives jobs through a
 * fake build and executor without make or QEMU; nothing else replaces it.
 */
struct job_runner {
	int (*build_start)(uv_loop_t *loop, const struct matrix *m,
			   struct build *b, struct strbuf *err);
	void (*build_stop)(struct build *b);
	struct executor *(*boot_start)(uv_loop_t *loop,
				       const struct matrix *m,
				       struct boot_run *runs, size_t n,
				       const struct boot_opts *opts);
	void (*boot_stop)(struct executor *x);
	void (*boot_load)(const struct executor *x, size_t *waiting,
			  unsigned *running);
	void (*boot_free)(struct executor *x);
};

extern const struct job_runner job_runner_default;

/* The failure policy a job follows (daemon.h says what it is). */
struct job_policy {
	int attempts;		/* tries of a job the farm fails */
	unsigned error_retries;	/* reruns of a run that ended ERROR */
	double retry_base_s;	/* first backoff (schedule_backoff_s) */
};

/* What every job of one owner shares; it outlives them. */
struct job_env {
	uv_loop_t *loop;
	struct record_thread *store;
	const char *state_dir;
	const char *initrd;		/* the test payload */
	unsigned cores;			/* the farm's (--jobs) */
	int quiet;			/* the KVM probe says nothing */
	struct job_policy policy;
	const struct job_ops *ops;
	void *owner;
	const struct job_runner *runner;	/* NULL: job_runner_default */
};

/*
 * Begin the queue's job rj (taken: running in the store) with matrix m,
 * which must outlive the job. Takes rj's strings (rj is zeroed). The job
 * reads its plan from the store, then builds; it ends through ops->ended.
 */
struct job *job_begin(const struct job_env *env, struct matrix *m,
		      struct record_job *rj);
/* A built job may boot now (ops->may_boot said no before). */
void job_boot(struct job *j);
/* Stop it: a build or boots are killed and the job queued again. */
void job_stop(struct job *j);

enum job_stage job_stage(const struct job *j);
/* "starting", "make", "boot", ...: what the status file shows. */
const char *job_stage_name(const struct job *j);
/* The queue's row for it (tree, commit, build, subject, attempts). */
const struct record_job *job_queued(const struct job *j);
/* When it began (Unix time). */
double job_started_at(const struct job *j);
/* Cores its build holds now, 0 when it does not build. */
unsigned job_build_cores(const struct job *j);
/* Booting: 1 when every run of the round has started (the tail), with
 * the runs running now in *running; 0 before that or when not booting. */
int job_boot_tail(const struct job *j, unsigned *running);

#endif
