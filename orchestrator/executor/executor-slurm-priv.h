/*
 * executor-slurm's state, shared by its two files: executor-slurm.c (the
 * pump on the loop: sbatch, squeue, scancel, the end of runs) and
 * executor-slurm-stage.c (the thread pool's half: the artifacts, specs
 * and task files into the shared directory, the results out of it).
 */
#ifndef HVM_EXECUTOR_SLURM_PRIV_H
#define HVM_EXECUTOR_SLURM_PRIV_H

#include "executor/executor.h"
#include "executor/rundir.h"

#define EXEC_SLURM_SCRIPT "hvmatrix-job.sh"

enum sjob_state {
	SJ_NEW = 0,	/* to submit */
	SJ_SUBMITTING,	/* sbatch running */
	SJ_UNSURE,	/* sbatch failed: look it up by name first */
	SJ_QUEUED,	/* Slurm has it (job id known) */
	SJ_DONE,	/* reported to on_done */
};

/*
 * The runs of one round that ask Slurm for the same resources: one
 * `sbatch --array=0-N`, task i running members[i]. Its task file (one run
 * directory a line, written at staging) is what a task reads, by
 * SLURM_ARRAY_TASK_ID: no parameter is ever put on a command line.
 */
struct sarray {
	char *name;		/* Slurm job name: hvm-a-NONCE */
	char *dir;		/* SHARED/arrays/NAME: tasks, %a.out */
	struct sjob **members;
	size_t n;
	int written;		/* the task file is in place */
	unsigned mark;		/* squeue_start's dedup */
};

struct sjob {
	struct boot_run *r;
	enum sjob_state st;
	const char *name;	/* the submission's name: own_name, or its
				 * array's */
	char *own_name;		/* hvm-NONCE */
	char *dir;		/* the run's directory, shared */
	char id[48];		/* Slurm job id, JOB_TASK for a task */
	struct sarray *arr;	/* its group, or NULL */
	unsigned task;		/* its index there */
	int in_array;		/* submitted as arr's task */
	unsigned cpus, mem_mb, minutes;	/* what it asks Slurm for */
	double submitted_at, running_at;
	int running;		/* squeue said RUNNING at least once */
	unsigned missing;	/* successful listings without it */
	int listed;		/* in the listing being read */
	char *ended;		/* Slurm ended it: "STATE (reason)" */
	int ended_scanned;	/* ended seen before the scan started */
	int decided;		/* decided before it started (precheck) */
	unsigned submit_failures;
	char *submit_error;	/* what sbatch said last */
};

struct executor_slurm {
	uv_loop_t *loop;
	const struct matrix_executor *cfg;
	struct boot_opts opts;
	struct sjob *jobs;
	size_t n, n_done;
	struct sarray *arrays;
	size_t n_arrays;
	uv_timer_t tick;
	int busy;		/* a step of the pump is in flight */
	int staged;		/* the artifacts are in the shared dir */
	int stopping, stop_sent, finished, freed;
	int ctld_down;
	double down_since, next_squeue;
	unsigned mark;
	char *self_exe;		/* hvmatrix on the nodes */
	char *stage_dir, *kernel, *initrd, *script;
	char **cancel;		/* job ids to scancel */
	size_t n_cancel, alloc_cancel;
};

/* executor-slurm.c */
void executor_slurm_pump(struct executor_slurm *s);
void executor_slurm_say(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void executor_slurm_report(struct executor_slurm *s, struct sjob *j);
void executor_slurm_error(struct executor_slurm *s, struct sjob *j,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After a scan: squeue, or 0 when there is nothing to ask. */
int executor_slurm_squeue(struct executor_slurm *s);

/* executor-slurm-stage.c, each starting thread-pool work (s->busy++) */
void executor_slurm_stage(struct executor_slurm *s);
/* 1 if a scan started, 0 when no job is queued. */
int executor_slurm_scan(struct executor_slurm *s);
void executor_slurm_unstage(struct executor_slurm *s);
/* The fixed job script (exec "$@") at path, atomically: 0, or -1 + err. */
int executor_slurm_script(const char *path, struct strbuf *err);

#endif
