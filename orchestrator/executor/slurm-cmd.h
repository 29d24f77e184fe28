/*
 * slurm-cmd: running one Slurm client (sbatch, squeue, scancel, scontrol)
 * from the loop and reading what it says, for executor-slurm.c. A client
 * is a uv_spawn child with an argv, its stdout and stderr captured, killed
 * after SLURM_CMD_TIMEOUT_MS (a client waits and retries while slurmctld
 * is away: past that, slurmctld counts as down). The parsing of squeue's
 * lines lives here too, so the executor deals in jobs, not text.
 * A client is short-lived and runs as a direct child (child.h): in our
 * process group, killed alone.
 */
#ifndef HVM_SLURM_CMD_H
#define HVM_SLURM_CMD_H

#include <stdint.h>
#include <uv.h>

#include "lib/child.h"
#include "lib/strbuf.h"

#define SLURM_CMD_TIMEOUT_MS 5000
#define SLURM_CMD_OUT_MAX (1u << 20)	/* of a tool's output we keep */

struct slurm_cmd {
	struct child child;
	int timed_out;
	struct strbuf out_text, err_text;
	int64_t status;
	int signal;
	int spawn_error;	/* it could not start: a negative uv code */
	void (*done)(struct slurm_cmd *p);
	void *data, *job;	/* the caller's */
};

/*
 * Start argv (NULL-terminated, copied by libuv); done(p) once it exited
 * and its pipes closed, also when it could not start (p->spawn_error).
 * p is freed after done returns.
 */
void slurm_cmd_run(uv_loop_t *loop, char **argv,
		   void (*done)(struct slurm_cmd *), void *data, void *job);
/* It ran and exited 0. */
int slurm_cmd_ok(const struct slurm_cmd *p);
/* The first line of what it said (stderr, else stdout), for a reason. */
void slurm_cmd_said(const struct slurm_cmd *p, struct strbuf *out);

/* What squeue's state of a job means to us. */
enum slurm_state_class {
	SLURM_WAITING,		/* PENDING, CONFIGURING, SUSPENDED, ... */
	SLURM_REQUEUED,		/* REQUEUED, REQUEUE_HOLD, REQUEUE_FED */
	SLURM_ACTIVE,		/* RUNNING, COMPLETING, ... */
	SLURM_ENDED,		/* anything else: COMPLETED, NODE_FAIL, ... */
};

enum slurm_state_class slurm_cmd_state_class(const char *state);

/*
 * Split one line of squeue output at '|' into exactly n fields (in place).
 * 0, or -1 for a line with fewer.
 */
int slurm_cmd_fields(char *line, char **f, size_t n);

/*
 * An array task's id "JOB_TASK" (squeue --array): *task set, the job id
 * copied to job (size len). -1 for anything else ("JOB", "JOB_[0-3]").
 */
int slurm_cmd_task_id(const char *id, char *job, size_t len,
		      unsigned *task);

#endif
