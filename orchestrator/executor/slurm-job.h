/*
 * slurm-job: one Slurm batch job's life as hvmatrix tracks it, the same
 * for a run (executor-slurm.c) and a build (executor-build.c): its sbatch
 * command line, what sbatch answered, and what each line of squeue says
 * of it.
 *
 * The farm's trouble is ERROR, never FAIL, and Slurm's part of it is
 * decided here, with Slurm's state and reason in the words: a job that
 * never started in pending_s; one Slurm requeued although it went
 * --no-requeue (an administrator's `scontrol requeue`: it may have half
 * run, it must not run again); one still running past its limit; one
 * Slurm no longer lists (lost). A submission whose fate is unknown
 * (sbatch failed, slurmctld may have it) is unsure: it is looked up by
 * its job name, which is a nonce, before it is ever submitted again, so
 * nothing runs twice.
 *
 * It decides and never acts: the caller spawns the clients (slurm-cmd.c),
 * cancels a job it is told to, records the ERROR, and reads the job's
 * directory (rundir.c), where a job Slurm ended without a result is an
 * ERROR too. Nothing here blocks but slurm_job_script_write(), which is
 * for the thread pool.
 */
#ifndef HVM_SLURM_JOB_H
#define HVM_SLURM_JOB_H

#include "executor/slurm-cmd.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"

#define SLURM_JOB_SCRIPT "hvmatrix-job.sh"	/* in the shared directory */
#define SLURM_JOB_LOST_POLLS 4	/* listings without it: lost */

enum slurm_job_state {
	SLURM_JOB_NEW = 0,	/* to submit */
	SLURM_JOB_SUBMITTING,	/* sbatch running */
	SLURM_JOB_UNSURE,	/* sbatch failed: look it up by name first */
	SLURM_JOB_QUEUED,	/* Slurm has it (job id known) */
	SLURM_JOB_DONE,		/* decided, and reported */
};

struct slurm_job {
	enum slurm_job_state st;
	const char *what;	/* "job", "build job": in every message */
	const char *name;	/* the submission's job name (a nonce) */
	char id[48];		/* Slurm's job id, JOB_TASK for a task */
	unsigned pending_s;	/* never started in this long: ERROR */
	double limit_s;		/* running longer: ERROR (0: no limit) */
	char *limit_note;	/* said of the limit, or NULL */
	double submitted_at, running_at;
	int running;		/* squeue said it runs, at least once */
	int listed;		/* in the listing being read */
	unsigned missing;	/* successful listings without it */
	char *ended;		/* Slurm ended it: "STATE (reason)" */
	int ended_scanned;	/* its directory was scanned since */
	unsigned submit_failures;	/* unsure submissions */
	char *submit_error;	/* what sbatch said last */
};

/* what is a static string; the caller sets name and the limit. */
void slurm_job_init(struct slurm_job *j, const char *what,
		    unsigned pending_s);
void slurm_job_release(struct slurm_job *j);

/* A line of the daemon's log (stderr) about an event Slurm caused. */
void slurm_job_say(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* hvmatrix as the nodes run it: the executor's command, or this one. */
char *slurm_job_command(const struct matrix_executor *cfg);
/*
 * The fixed job script every job runs (exec "$@": the command is argv
 * words, never a shell string), at path, atomically. 0, or -1 + err.
 */
int slurm_job_script_write(const char *path, struct strbuf *err);

/* What one submission asks of Slurm. */
struct slurm_job_request {
	const char *name;	/* --job-name */
	const char *chdir;
	const char *output;	/* Slurm's own file name pattern */
	size_t array;		/* tasks of a job array, 0: one job */
	unsigned cpus;
	unsigned mem_mb, minutes;	/* 0: Slurm's default */
};

/*
 * sbatch's argv (free with spawn_argv_free): --parsable --no-requeue, rq,
 * cfg's partition, account, qos and constraint, then script and cmd (a
 * NULL-terminated list of words) as the script's arguments.
 */
char **slurm_job_sbatch_argv(const struct slurm_job_request *rq,
			     const struct matrix_executor *cfg,
			     const char *script, const char *const *cmd);
/*
 * sbatch's answer p, for j, task (>= 0) of the array submitted, or the
 * job itself (task < 0). 1: queued, j->id set. 0: unsure (sbatch failed:
 * slurmctld may have it). -1: sbatch never ran: ERROR, "sbatch: " and
 * j->submit_error.
 */
int slurm_job_sbatch_done(struct slurm_job *j, const struct slurm_cmd *p,
			  int task);

/*
 * squeue's argv (spawn_argv_free): every state, one job a line as
 * "%i|%j|%T|%r", selected by filter ("--name=A,B" or "--jobs=ID"); with
 * array, each task of an array on its own line (JOB_TASK ids).
 */
char **slurm_job_squeue_argv(const char *filter, int array);

/*
 * An unsure submission Slurm took after all, as job id, or as task
 * (>= 0) of the array job id (whose adoption the caller says, once).
 */
void slurm_job_adopt(struct slurm_job *j, const char *id, int task);

enum slurm_job_event {
	SLURM_JOB_NOTHING = 0,
	SLURM_JOB_STARTED,	/* running, for the first time */
	SLURM_JOB_CANCEL,	/* cancel it; it is ERROR for why */
};

/*
 * The squeue line of a queued j says state (and Slurm's reason) at now.
 * A job Slurm ended is noted in j->ended, for the next scan of its
 * directory to say whether it left a result.
 */
enum slurm_job_event slurm_job_listed(struct slurm_job *j, const char *state,
				      const char *reason, double now,
				      struct strbuf *why);
/* A successful listing without queued j: lost, in the end. */
void slurm_job_unlisted(struct slurm_job *j);

/*
 * A scan of j's directory starts. 1 when Slurm had ended j already as
 * the scan before started: no result now means it never left one (the
 * scan between gave a result written as the job ended time to show).
 */
int slurm_job_scan_start(struct slurm_job *j);

/*
 * scancel's argv for ids[0..n) (spawn_argv_free). A job array's task
 * goes by its JOB_TASK id, the rest of the array untouched.
 */
char **slurm_job_scancel_argv(const char *const *ids, size_t n);

#endif
