/*
 * record: the results store, SQLite in WAL mode under the state directory
 * ($STATE/hvmatrix.db; console logs under $STATE/logs/). A run is written
 * in one transaction with synchronous=FULL, so a recorded result survives a
 * crash or kill -9 of the process that wrote it. This module never deletes
 * or rewrites a recorded run.
 */
#ifndef HVM_RECORD_H
#define HVM_RECORD_H

#include <stdint.h>
#include "lib/strbuf.h"
#include "judge/verdict.h"

struct record;

/* One probe's result in a run (schema 8, record-probes.c). */
struct record_probe {
	char *name;	/* "smp", "suspend.clock", ... */
	char *result;	/* "pass", "fail", "skip", "error" */
	char *detail;
	double seconds;
};

struct record_run {
	int64_t id;		/* set by record_add_run */
	char *batch;		/* one `hvmatrix boot` invocation */
	char *kernel_id;	/* git blob id (SHA-1) of the kernel image */
	char *kernel_path;
	char *kernel_version;	/* from the bzImage header; may be "" */
	char *cell;
	char *matrix_path;
	enum verdict verdict;
	char *reason;		/* one line, for people */
	char *line;		/* console line that decided it; may be "" */
	double started_at;	/* Unix time, seconds */
	double duration_s;
	char *log_path;		/* absolute path of the console log */
	char *nonce;
	/* Runs of a built commit (schema 2); "" for `hvmatrix boot`. */
	char *tree;
	char *commit_id;
	char *build;
	char *subject;		/* read back only: the commit's subject */
	char *purpose;		/* "test" (NULL or "" too), "confirm",
				 * "bisect" or "try" (RECORD_PURPOSE_TRY):
				 * why the run was made */
	char *cmdline;		/* schema 4: the command that ran it (QEMU's
				 * argv, shell-quoted); NULL or "" if none */
	/* Schema 6: the hypervisor releases that ran it, as known when it
	 * ran: a named QEMU release and its Debian package ("10.0 (Debian
	 * 1:10.0.2+ds-2)"), what Xen said of itself ("4.20.5-pre"); ""
	 * if not known (a QEMU given as a path, a run that ran nothing). */
	char *qemu_version;
	char *xen_version;
	/* Schema 8: written with the run, read back only by
	 * record_probes_read() (never by the run lists): the payload's
	 * probe results and its fingerprint, a JSON object or NULL/"". */
	struct record_probe *probes;
	size_t n_probes;
	char *fingerprint;
	/* Schema 9 (boot/boot-env.h): the digest of what the run booted
	 * in (cell definition, hypervisor, payload) and of its hypervisor
	 * alone; NULL or "" when not known. */
	char *env_key;
	char *hv_build;
	/* Schema 12 (record-reuse.c): the run whose verdict this one
	 * carries over without a boot (same kernel bytes, same env_key);
	 * 0 for a run that booted. */
	int64_t reused_from;
};

/* A commit as the watcher found it. */
struct record_commit {
	char *id;
	char *subject;
	char *author;
	int64_t time;
	char *parent;		/* first parent, "" for a root */
};

enum record_job_state {
	RECORD_JOB_QUEUED = 0,
	RECORD_JOB_RUNNING,
	RECORD_JOB_DONE,
};

/* One (tree, commit, build config) in the queue. */
struct record_job {
	int64_t id;
	char *tree;
	char *commit_id;
	char *build;
	int priority;		/* RECORD_PRIORITY_* */
	int64_t batch;
	enum record_job_state state;
	int attempts;
	int pgid;
	double enqueued_at, started_at, finished_at;
	char *subject;		/* from commits, "" if unknown */
	double not_before;	/* not taken before (Unix time): backoff */
	char *last_error;	/* why its last attempt failed, or "" */
};

/* Job priorities: confirmation and bisection runs first, then tips. */
#define RECORD_PRIORITY_NORMAL 0
#define RECORD_PRIORITY_TIP 1
#define RECORD_PRIORITY_MANUAL 5
#define RECORD_PRIORITY_CONFIRM 10

enum record_build_status {
	RECORD_BUILD_OK = 0,
	RECORD_BUILD_FAILED,
	RECORD_BUILD_ERROR,
};

struct record_build {
	int64_t id;
	char *tree, *commit_id, *build;
	enum record_build_status status;
	char *reason, *errors, *log_path, *image_path;
	double started_at, duration_s;
};

/*
 * The state directory: `opt` if not NULL, else $HVMATRIX_STATE, else
 * "./hvmatrix-state". Returned string is owned by the caller.
 */
char *record_state_dir(const char *opt);

/* Create the directory and the database as needed. 0 or -1 + err. */
int record_open(struct record **out, const char *state_dir,
		struct strbuf *err);
/*
 * For readers (status, results, dashboard): a read-only connection that
 * never takes the write lock, so it reads while a daemon writes (WAL).
 * 0 with *out set, 1 with *out NULL when nothing was recorded yet (no
 * database), -1 + err.
 */
int record_open_readonly(struct record **out, const char *state_dir,
			 struct strbuf *err);
void record_close(struct record *r);
const char *record_dir(const struct record *r);

/*
 * A developer's series tried before it is sent (`hvmatrix try`). Such runs
 * are the try's alone: every listing that history, comparison, the
 * dashboard and the exports read (record_list_runs, the record_history_*
 * and record_query_* scans and counts) leaves them out; only the reads of
 * one commit or one run (record_list_commit_runs, record_query_row_runs,
 * record_query_run) return them.
 */
#define RECORD_PURPOSE_TRY "try"
/* The same, as SQL's literal, for the listings' WHERE clauses. */
#define RECORD_NOT_TRY_SQL "r.purpose <> 'try'"

/* Safe to call from any one thread at a time (e.g. uv_queue_work). */
int record_add_run(struct record *r, struct record_run *run,
		   struct strbuf *err);
/* All runs, newest first (by started_at then id). 0 or -1 + err. */
int record_list_runs(struct record *r, struct record_run **runs, size_t *n,
		     struct strbuf *err);
/* Runs of one commit (any build), newest first. */
int record_list_commit_runs(struct record *r, const char *tree,
			    const char *commit_id, struct record_run **runs,
			    size_t *n, struct strbuf *err);
void record_run_release(struct record_run *run);
void record_probes_free(struct record_probe *p, size_t n);
void record_runs_free(struct record_run *runs, size_t n);

/*
 * The queue. record_queue_add records the commits (oldest first) and queues
 * one job per (commit, build) that is not queued yet: a commit seen again
 * (a force-push, a second branch) is never queued twice. The last commit
 * gets tip_priority, the others RECORD_PRIORITY_NORMAL, all the given
 * batch. *n_new (may be NULL) counts the jobs added. 0 or -1 + err.
 */
int record_queue_add(struct record *r, const char *tree,
		     const struct record_commit *commits, size_t n_commits,
		     char *const *builds, size_t n_builds, int64_t batch,
		     int tip_priority, unsigned flags, size_t *n_new,
		     struct strbuf *err);
/* flags: queue only the last commit (a tree's `test: tips`); the others
 * are recorded, for bisections to find. */
#define RECORD_ENQUEUE_TIP_ONLY 0x1u
/* ... or none of them: the commits are only recorded (a bisection). */
#define RECORD_ENQUEUE_NO_JOBS 0x2u
/* Raise a job to at least `priority` and queue it again if done; adds the
 * job (and a bare commit row) when missing. 0 or -1 + err. */
int record_queue_add_one(struct record *r, const char *tree,
			 const struct record_commit *c, const char *build,
			 int priority, int64_t *job_id, struct strbuf *err);
/*
 * More runs wanted of one cell on one commit than the one every cell gets
 * (a confirmation, a bisection step): want `runs` runs in all (kept at the
 * highest asked), and queue the commit's job at `priority`. A job made
 * here runs only its wanted cells (scope "wants") unless the commit is
 * also queued for testing. 0 or -1 + err.
 */
int record_queue_want_runs(struct record *r, const char *tree,
		     const char *commit_id, const char *build, const char *cell,
		     unsigned runs, const char *purpose, int priority,
		     struct strbuf *err);
/* Take the next queued job (marks it running). 1 with *job set, 0 when
 * the queue is empty, -1 + err. only_id > 0 takes that job alone. */
int record_queue_job_next(struct record *r, int64_t only_id,
			  struct record_job *job, struct strbuf *err);
int record_queue_job_set_pgid(struct record *r, int64_t id, int pgid,
			      struct strbuf *err);
int record_queue_job_finish(struct record *r, int64_t id, struct strbuf *err);
/* Stopped (a signal, a shutdown): queued again, the attempt not counted. */
int record_queue_job_requeue(struct record *r, int64_t id, struct strbuf *err);
/* Failed for the farm's reasons: queued again, not taken before
 * not_before (Unix time), reason kept in last_error. */
int record_queue_job_defer(struct record *r, int64_t id, double not_before,
			   const char *reason, struct strbuf *err);
/* The earliest not_before of the queued jobs: 1 with *at, 0 when none are
 * queued, -1 + err. record_queue_job_next only takes jobs whose time has come. */
int record_queue_next_due(struct record *r, int64_t only_id, double *at,
			  struct strbuf *err);
/* A tiny real write (one transaction): does the store take writes? */
int record_queue_probe_write(struct record *r, struct strbuf *err);
/* After a crash: every running job is queued again; their build process
 * groups are returned (to kill) in *pgids (free()). */
int record_queue_jobs_recover(struct record *r, int **pgids, size_t *n,
			      struct strbuf *err);
/* Jobs in a state (or every job with state < 0), in queue order. */
int record_queue_list_jobs(struct record *r, int state,
			   struct record_job **jobs,
			   size_t *n, struct strbuf *err);
void record_queue_job_release(struct record_job *j);
void record_queue_jobs_free(struct record_job *jobs, size_t n);
const char *record_queue_job_state_name(enum record_job_state s);

/* Every commit id recorded for a tree (for the watcher's known set). */
int record_queue_known_commits(struct record *r, const char *tree, char ***ids,
			       size_t *n, struct strbuf *err);
int record_queue_set_tip(struct record *r, const char *tree, const char *branch,
			 const char *commit_id, struct strbuf *err);
/* 1 and out set when a tip is recorded, 0 when none, -1 + err. */
int record_queue_get_tip(struct record *r, const char *tree, const char *branch,
			 char out[41], struct strbuf *err);
/* The next poll batch number. */
int64_t record_queue_next_batch(struct record *r);

int record_build_add(struct record *r, struct record_build *b,
		     struct strbuf *err);
/* The newest build of (tree, commit, build): 1 with *out, 0 none, -1. */
int record_build_last(struct record *r, const char *tree,
		      const char *commit_id, const char *build,
		      struct record_build *out, struct strbuf *err);
void record_build_release(struct record_build *b);
const char *record_build_status_name(enum record_build_status s);
/*
 * What a job of (tree, commit, build) still has to run, per cell: the runs
 * recorded (have), the runs wanted (want: 1 for every cell when the job's
 * scope is "all", else 0, raised by record_queue_want_runs) and why (purpose of
 * the want, "test" otherwise). Cells with neither runs nor wants are not
 * listed. 0 or -1 + err.
 */
struct record_plan {
	char *cell;
	unsigned have, want;
	char *purpose;
};
int record_build_job_plan(struct record *r, const char *tree,
		    const char *commit_id, const char *build, int *scope_all,
		    struct record_plan **plan, size_t *n, struct strbuf *err);
void record_build_plan_free(struct record_plan *plan, size_t n);
/* Cells that already have a run for (tree, commit, build): a resumed job
 * does not run them again. */
int record_build_cells_done(struct record *r, const char *tree,
		      const char *commit_id, const char *build, char ***cells,
		      size_t *n, struct strbuf *err);
/* Cells with a FAIL among their `last` newest runs of (tree, build),
 * looking only at the newest `window` runs of the store: what a job boots
 * first after the cells its commit touches. 0 or -1 + err. */
int record_build_recent_fails(struct record *r, const char *tree,
			       const char *build, unsigned last,
			       unsigned window, char ***cells, size_t *n,
			       struct strbuf *err);
void record_strings_free(char **v, size_t n);

/*
 * ---- record-history.c: what comparison reads ----
 * The commits of a tree in recorded order (parents first), oldest first;
 * the revert checks' commits (record-revert.c) are not the tree's.
 */
int record_history_commits(struct record *r, const char *tree,
			   struct record_commit **out, size_t *n,
			   struct strbuf *err);
void record_history_commits_free(struct record_commit *v, size_t n);
/* Every (tree, build) with runs: pairs[2i] the tree, pairs[2i+1] the
 * build; *n pairs (free with record_strings_free(pairs, 2 * n)). */
int record_history_tree_builds(struct record *r, char ***pairs, size_t *n,
			       struct strbuf *err);
/* Every run of one (tree, build), oldest first. */
int record_history_tree_runs(struct record *r, const char *tree,
			     const char *build, struct record_run **runs,
			     size_t *n, struct strbuf *err);
/* The same with only id, cell, verdict, line, commit_id and purpose set
 * (the other strings NULL): what comparing reads. */
int record_history_tree_verdicts(struct record *r, const char *tree,
				 const char *build, struct record_run **runs,
				 size_t *n, struct strbuf *err);

/*
 * ---- record-query.c: bounded reads for publishing ----
 * What they load is bounded by what is shown, not by what was ever
 * recorded (the totals are counted by SQLite, nothing loaded).
 */
struct record_totals {
	size_t runs;		/* every run recorded */
	size_t rows;		/* kernel images and built commits */
	size_t cells;
};
int record_query_count_runs(struct record *r, struct record_totals *t,
			    struct strbuf *err);
/*
 * The runs of the newest rows (a row: a kernel image booted by `hvmatrix
 * boot`, or a built (tree, commit, build)), newest first: the rows of the
 * newest max_runs runs, and more rows until there are max_rows; of each
 * row its newest per_row runs. 0 or -1 + err.
 */
int record_query_recent_runs(struct record *r, size_t max_rows,
			     size_t max_runs, size_t per_row,
			     struct record_run **runs, size_t *n,
			     struct strbuf *err);
/*
 * The runs after after_id, in id order (the table's own: no index, no
 * sort), with only id, kernel_id, cell, verdict, reason, line, started_at,
 * log_path, tree, commit_id, build, purpose and reused_from set (the other
 * strings NULL): what comparing and the dashboard's grid read
 * (regressions_input_load). fn gets each run with borrowed strings valid
 * only during the call; it returns 0, or -1 + err to stop.
 */
int record_query_brief_after(struct record *r, int64_t after_id,
			     int (*fn)(const struct record_run *run,
			     void *data, struct strbuf *err),
			     void *data, struct strbuf *err);
/* The highest run id (0 for none) and how many runs were ever deleted or
 * changed (a trigger counts them, schema 7): what tells a copy of the
 * runs table it is still a prefix of it, without counting the runs. */
int record_query_runs_extent(struct record *r, int64_t *max_id,
			     int64_t *changed,
			     struct strbuf *err);
/* Every run of one row (commit_id "": the `hvmatrix boot` runs of
 * kernel_id), newest first, with its commit's subject. 0 or -1 + err. */
int record_query_row_runs(struct record *r, const char *tree,
			  const char *commit_id, const char *build,
			  const char *kernel_id, struct record_run **runs,
			  size_t *n, struct strbuf *err);
/* One run by id: 1 with *run set (release it), 0 no such run, -1 + err. */
int record_query_run(struct record *r, int64_t id, struct record_run *run,
		     struct strbuf *err);
/* run->id's probe results (in the order the guest printed them) and
 * fingerprint ("" if none) into run. 0 or -1 + err. */
int record_query_probes(struct record *r, struct record_run *run,
			struct strbuf *err);

/*
 * ---- record-reuse.c: a verdict carried over instead of a boot ----
 * The run that judged kernel_id in env_key (both non-empty), for a new
 * run to carry its verdict: 1 with *out set (with its probes and
 * fingerprint; release it), 0 when there is none to carry, -1 + err.
 * Only a run that booted (reused_from 0) with PASS or FAIL qualifies,
 * the newest of them; none does when those runs disagree (the bytes are
 * flaky there: they must boot again).
 */
int record_reuse_find(struct record *r, const char *kernel_id,
		      const char *env_key, struct record_run *out,
		      struct strbuf *err);

/*
 * ---- record-fingerprint.c: what drift reads ----
 * The runs after after_id that recorded a fingerprint (schema 8), in id
 * order: fn gets each run's id and its fingerprint (borrowed, valid only
 * during the call) and returns 0, or -1 + err to stop. 0 or -1 + err.
 */
int record_fingerprint_after(struct record *r, int64_t after_id,
			     int (*fn)(int64_t id, const char *fingerprint,
				       void *data, struct strbuf *err),
			     void *data, struct strbuf *err);

/*
 * ---- record-revert.c: revert checks of bisected culprits (schema 11) ----
 * One per (tree, build, culprit, tip): the tip with the culprit reverted,
 * revert_commit ("" when none was made), and what was decided: status
 * "queued" (its runs, purpose "revert", are wanted), "does-not-apply"
 * (detail: the conflicting paths, ", "-separated) or "error" (detail: why).
 */
struct record_revert {
	char *tree, *build, *culprit, *tip, *revert_commit;
	char *status, *detail;
	double created_at;
};
/* Record rv (kept if one is there) and, with a revert commit, that
 * commit with subject (left out of the tree's history). */
int record_revert_add(struct record *r, const struct record_revert *rv,
		      const char *subject, struct strbuf *err);
/* Every check, oldest first. */
int record_revert_list(struct record *r, struct record_revert **out,
		       size_t *n, struct strbuf *err);
/* The runs of purpose "revert" of revert_commit with build, in id order. */
int record_revert_runs(struct record *r, const char *tree,
		       const char *revert_commit, const char *build,
		       struct record_run **runs, size_t *n,
		       struct strbuf *err);
void record_revert_list_free(struct record_revert *v, size_t n);

#endif
