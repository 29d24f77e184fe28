/*
 * job-priv.h: what job.c, job-plan.c and job-record.c share: the job
 * itself. job.c drives it through its stages; job-plan.c and job-record.c
 * never call back into job.c (a store op's completion goes to the
 * `after` function job.c gives with it). Nothing outside these three
 * includes this header.
 */
#ifndef HVM_JOB_PRIV_H
#define HVM_JOB_PRIV_H

#include "schedule/job.h"
#include "build/kernel.h"
#include "boot/boot-env.h"

/* Runs a job makes of one cell: why, and how many. */
struct job_todo {
	const struct cell *cell;
	unsigned have, runs;
	const char *purpose;		/* "test", "confirm", "bisect" */
	/* What the cell boots in (boot-env.h), found off the loop before
	 * the boots; all zero when it could not be (then it is unknown). */
	struct boot_env env;
	/* The run whose verdict a "test" todo carries over instead of a
	 * boot (record_reuse_find), or NULL: set by the store thread while
	 * nothing on the loop reads the todo, recorded then freed. */
	struct record_run *reuse;
};

/* One (tree, commit, build config) going through the pipeline. */
struct job {
	const struct job_env *env;
	const struct job_runner *runner;
	struct record_job rj;
	struct matrix *m;		/* the matrix in force when it began */
	const struct matrix_tree *tree;
	const struct matrix_build *cfg;
	enum job_stage stage;
	const char *detail;		/* "checkout", "make", "boot", ... */
	struct build build;
	int building;
	unsigned build_cores;
	char *image;			/* the built kernel */
	int web;			/* a web kernel's job (tree
					 * "release"): nothing to build */
	char *web_image;		/* its image, from the store, or
					 * NULL when the store has none */
	struct kernel kernel;
	char *kernel_err;		/* the image cannot be used, or NULL */
	struct boot_run *runs;		/* the current round */
	size_t n_runs;
	struct executor *boot;		/* local and Slurm (executor.h) */
	int booting;
	unsigned round;			/* 1, then ERROR retries */
	/* round 1: runs to make per cell */
	struct job_todo *todo;
	size_t n_todo;
	unsigned n_recorded;		/* runs recorded at the start */
	struct record_plan *plan;	/* from the store, at the start */
	size_t n_plan;
	int scope_all;
	int have_last_build;		/* the store had a build of it */
	struct record_build last_build;
	/* What orders round 1, likeliest failures first (job_plan_order) */
	char **changed;			/* paths the commit changes */
	size_t n_changed;
	int changed_wide;		/* more than JOB_PLAN_DIFF_CAP */
	char **failed;			/* cells that failed recently */
	size_t n_failed;
	char **retry;			/* cells ERROR this round */
	size_t n_retry, retry_alloc;
	char *repo;			/* the repository the build reads */
	char *batch;
	char *log_dir;
	unsigned pending;		/* store ops and hashing in flight */
	int requeue;			/* stopped: back to the queue */
	int ended;			/* job_end() was called */
	char *defer;			/* the farm failed it: why */
	int store_failed;		/* a store write failed: the owner
					 * pauses, the job is left running
					 * in the store and recovered */
	double t0;
	uv_timer_t heartbeat;
};

/* ---- job-plan.c: what runs ---- */

/* The store's plan (j->plan, j->scope_all) as runs per cell (j->todo);
 * counts what is recorded already in j->n_recorded. */
void job_plan_todo(struct job *j);
/* Paths of a commit looked at for the order; past them it touches
 * everything (a merge, a tree-wide change) and ranks no cell first. */
#define JOB_PLAN_DIFF_CAP 2000
/* A cell failed recently: a FAIL among its newest runs of the tree, in
 * the newest runs of the store. */
#define JOB_PLAN_RECENT_RUNS 3
#define JOB_PLAN_RECENT_WINDOW 20000
/*
 * Round 1's order: the todos whose interface files the commit changes
 * (j->changed), then those that failed recently (j->failed), then the
 * rest, each in matrix order. The number of todos in each rank goes to
 * counts[SCHEDULE_RANK_*].
 */
void job_plan_order(struct job *j, size_t counts[3]);
/* What each todo's cell boots in (todo.env), reading the hypervisor's and
 * the payload's files: off the loop. A cell whose environment cannot be
 * read keeps an empty key: its run says why (the boot finds the same
 * missing file). */
void job_plan_environments(struct job *j);
/* The todo of a cell, or NULL. */
struct job_todo *job_plan_find(const struct job *j, const char *cell);
/* A run of cell ended ERROR: it runs again in the next round. */
void job_plan_retry(struct job *j, const char *cell);
/* The runs of round j->round in j->runs: every todo's runs in round 1,
 * the cells to retry after. Empties the retry list. */
void job_plan_round(struct job *j);
/* Release j->runs. */
void job_plan_round_release(struct job *j);

/* ---- job-record.c: the store writes, each an op on the store thread ---- */

/* Called on the loop once the op ran: rc < 0 means the store failed. */
typedef void (*job_record_after_fn)(struct job *j, int rc, const char *err);

/* The newest build of the job's commit (j->last_build) and its plan;
 * for a web kernel's job, its image (j->web_image) and its plan. */
void job_record_prepare(struct job *j, job_record_after_fn after);
/* One run's verdict. r: the run, when one ran (NULL: decided without a
 * boot, e.g. BLOCKED). */
void job_record_run(struct job *j, const char *cell, enum verdict v,
		    const char *reason, const char *line, double started_at,
		    double duration_s, const char *log_path, const char *nonce,
		    const char *purpose, const struct boot_run *r,
		    job_record_after_fn after);
/* Which todos of purpose "test" may carry over a verdict: sets
 * todo->reuse for those whose kernel bytes were judged in their
 * environment before (j->kernel.id, todo->env.key). */
void job_record_reuse_find(struct job *j, job_record_after_fn after);
/* A run of todo t carrying t->reuse's verdict, reason, line, log,
 * probes and fingerprint, reused_from its id, started now, no duration. */
void job_record_reused(struct job *j, const struct job_todo *t,
		       job_record_after_fn after);
/* The build's outcome, from j->build. */
void job_record_build(struct job *j, enum record_build_status s,
		      job_record_after_fn after);
/* A build step's process group, before the step can do anything. */
void job_record_pgid(struct job *j, int pgid, job_record_after_fn after);
/* The end: queued again (j->requeue), deferred until not_before
 * (j->defer), or done. */
void job_record_finish(struct job *j, double not_before,
		       job_record_after_fn after);

#endif
