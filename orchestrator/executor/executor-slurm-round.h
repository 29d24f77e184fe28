/*
 * executor-slurm-round: a round of runs on Slurm as data and files, for
 * executor-slurm.c. Each run's Slurm job (its name, its directory in the
 * shared directory, what it asks Slurm for), the job arrays made of the
 * runs that ask for the same, and the round's stage in the shared
 * directory (its kernel, its payload, the job script).
 *
 * The file work runs in the thread pool and reports on the loop through
 * the caller's callback: staging (every file whole, temp + rename, so a
 * node never reads half of one; an array's task file last, as it is what
 * lets the array go), the scan of the results the nodes wrote (their
 * console logs taken into the daemon's log paths), and the removal of
 * the stage. It never talks to Slurm and never decides a verdict.
 */
#ifndef HVM_EXECUTOR_SLURM_ROUND_H
#define HVM_EXECUTOR_SLURM_ROUND_H

#include <uv.h>

#include "boot/boot.h"
#include "executor/rundir.h"
#include "executor/slurm-job.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"

struct executor_slurm_array;

struct executor_slurm_run {
	struct boot_run *r;
	struct slurm_job job;	/* job.name: own_name, or its array's */
	char *own_name;		/* hvm-NONCE */
	char *dir;		/* the run's directory, shared */
	struct executor_slurm_array *arr;	/* its group, or NULL */
	unsigned task;		/* its index there */
	int in_array;		/* submitted as arr's task */
	unsigned cpus, mem_mb, minutes;	/* what it asks Slurm for */
	int decided;		/* decided before it started (precheck) */
};

/*
 * The runs of one round that ask Slurm for the same resources: one
 * `sbatch --array=0-N`, task i running members[i]. Its task file (one run
 * directory a line, written at staging) is what a task reads, by
 * SLURM_ARRAY_TASK_ID: no parameter is ever put on a command line.
 */
struct executor_slurm_array {
	char *name;		/* Slurm job name: hvm-a-NONCE */
	char *dir;		/* SHARED/arrays/NAME: tasks, %a.out */
	struct executor_slurm_run **members;
	size_t n;
	int written;		/* the task file is in place */
	unsigned mark;		/* executor-slurm.c's squeue dedup */
};

struct executor_slurm_round {
	uv_loop_t *loop;
	struct executor_slurm_run *runs;
	size_t n;
	struct executor_slurm_array *arrays;
	size_t n_arrays;
	char *stage_dir;	/* SHARED/stage/NONCE */
	char *kernel, *initrd;	/* the round's artifacts there */
	char *script;		/* SHARED/hvmatrix-job.sh */
};

/*
 * runs[0..n) (n > 0) as cfg says. A run decided before it starts (SKIP,
 * a missing kernel) is done already (its job SLURM_JOB_DONE, decided):
 * never staged nor submitted.
 */
void executor_slurm_round_init(struct executor_slurm_round *rd,
			       uv_loop_t *loop,
			       const struct matrix_executor *cfg,
			       struct boot_run *runs, size_t n);
void executor_slurm_round_release(struct executor_slurm_round *rd);

/*
 * Stage the round in the thread pool; then, on the loop, done(rd, NULL),
 * or done(rd, what failed).
 */
void executor_slurm_round_stage(struct executor_slurm_round *rd,
				void (*done)(struct executor_slurm_round *rd,
					     const char *err));

/* One queued run's directory, as a scan found it. */
struct executor_slurm_scan {
	struct executor_slurm_run *run;
	char *dir, *log_path;	/* the scan's own copies */
	int was_ended;		/* slurm_job_scan_start() */
	int rc;			/* rundir_result_read() */
	struct rundir_result res;
	char *moved;		/* where the console log went, or NULL */
	struct strbuf err;
};

/*
 * Scan the directory of every queued run in the thread pool: 1, and
 * done(rd, items, n) on the loop (the items go after it returns); or 0
 * when no run is queued.
 */
int executor_slurm_round_scan(struct executor_slurm_round *rd,
			      void (*done)(struct executor_slurm_round *rd,
					   struct executor_slurm_scan *items,
					   size_t n));

/* The stage goes, in the thread pool, once every job is over. */
void executor_slurm_round_unstage(struct executor_slurm_round *rd);

#endif
