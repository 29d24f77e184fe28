/*
 * executor-slurm: a round of runs as Slurm batch jobs. Each run gets a
 * directory in the shared directory (its spec in, its result out), the
 * round's kernel and payload are copied there once (temp + rename; see
 * executor-slurm-round.c), and the runs are submitted with
 * `sbatch --parsable` and an argv: a fixed job script that execs its
 * arguments, and `hvmatrix run-cell` after it. No shell string is ever
 * built from the cell.
 *
 * The runs of one round (the cells of one build) that ask for the same
 * resources go as one job array (`sbatch --array=0-N`): each task runs
 * `run-cell --tasks FILE`, and FILE, written at staging, maps
 * SLURM_ARRAY_TASK_ID to the run's directory. Each task is tracked and
 * cancelled on its own (JOB_TASK ids, `squeue --array`). A run alone in
 * its resources, one submitted again after its array's sbatch was lost,
 * or `arrays: false` goes as a job of its own.
 *
 * One state machine, the pump, runs on the loop and never waits: a scan of
 * the run directories (thread pool) ingests every result written, then
 * `squeue` (uv_spawn) says which jobs Slurm ended, lost or never started
 * (what each state means is slurm-job.c's), then queued runs are
 * submitted one sbatch at a time. A timer restarts the pump every
 * EXEC_SLURM_TICK_MS.
 *
 * The farm's trouble is ERROR, never FAIL (slurm-job.h): a job that ended
 * without a result (cancelled, killed, node down, preempted, out of time)
 * is ERROR with Slurm's state and reason, and job.c runs it again under
 * the failure policy. When slurmctld does not answer, nothing is decided
 * and nothing is submitted until it does. A submission slurmctld may have
 * (sbatch failed) is looked up by its job name before it is submitted
 * again; one slurmctld keeps refusing while it answers is ERROR. A run is
 * never ingested twice, nor left to run again behind our back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/executor-slurm.h"
#include "executor/executor-slurm-round.h"
#include "executor/rundir.h"
#include "executor/slurm-cmd.h"
#include "executor/slurm-job.h"
#include "lib/spawn.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

#define EXEC_SLURM_TICK_MS 250
#define EXEC_SLURM_SUBMIT_TRIES 3	/* sbatch refusals, squeue working */
#define EXEC_SLURM_DOWN_POLL_S 2.0	/* squeue while slurmctld is down */

struct executor_slurm {
	struct executor_slurm_round round;	/* runs, arrays, files */
	const struct matrix_executor *cfg;
	struct boot_opts opts;
	size_t n_done;
	uv_timer_t tick;
	int busy;		/* a step of the pump is in flight */
	int staged;		/* the artifacts are in the shared dir */
	int stopping, stop_sent, finished, freed;
	int ctld_down;
	double down_since, next_squeue;
	unsigned mark;		/* squeue_start's dedup of arrays */
	char *self_exe;		/* hvmatrix on the nodes */
	char **cancel;		/* job ids to scancel */
	size_t n_cancel, alloc_cancel;
};

static void pump(struct executor_slurm *s);

/* A Slurm client from the pump (argv is freed): busy until its done. */
static void run_cmd(struct executor_slurm *s, char **argv,
		    void (*done)(struct slurm_cmd *),
		    struct executor_slurm_run *x)
{
	s->busy++;
	slurm_cmd_run(s->round.loop, argv, done, s, x);
	spawn_argv_free(argv);
}

/* ---- the end of runs ---- */

static void maybe_finish(struct executor_slurm *s)
{
	if (s->finished || s->busy)
		return;
	if (s->n_done < s->round.n)
		return;
	s->finished = 1;
	uv_timer_stop(&s->tick);
	executor_slurm_round_unstage(&s->round);
	if (s->opts.on_all_done)
		s->opts.on_all_done(s->opts.data);
}

static void report(struct executor_slurm *s, struct executor_slurm_run *x)
{
	x->job.st = SLURM_JOB_DONE;
	s->n_done++;
	if (s->opts.on_done)
		s->opts.on_done(x->r, s->opts.data);
}

/* The farm's trouble: ERROR with why, never FAIL. */
static void run_error(struct executor_slurm *s, struct executor_slurm_run *x,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void run_error(struct executor_slurm *s, struct executor_slurm_run *x,
		      const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct boot_run *r = x->r;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (r->started_at == 0)
		r->started_at = x->job.submitted_at ? x->job.submitted_at :
				timeutil_now();
	r->duration_s = timeutil_now() - r->started_at;
	judge_error(&r->judge, "%s", sb.buf);
	strbuf_release(&sb);
	report(s, x);
}

static void want_cancel(struct executor_slurm *s,
			const struct executor_slurm_run *x)
{
	if (!x->job.id[0])
		return;
	ALLOC_GROW(s->cancel, s->n_cancel + 1, s->alloc_cancel);
	s->cancel[s->n_cancel++] = xstrdup(x->job.id);
}

/* ---- the thread pool's reports: staged, scanned ---- */

static void staged(struct executor_slurm_round *rd, const char *err)
{
	struct executor_slurm *s = container_of(rd, struct executor_slurm,
						round);
	size_t i;

	s->busy--;
	/* Runs decided before they started (SKIP, a missing kernel) are
	 * reported now, from the loop: never from inside the start. */
	for (i = 0; i < rd->n; i++)
		if (rd->runs[i].decided) {
			s->n_done++;
			if (s->opts.on_done)
				s->opts.on_done(rd->runs[i].r, s->opts.data);
		}
	if (err) {
		slurm_job_say("%s", err);
		for (i = 0; i < rd->n; i++)
			if (rd->runs[i].job.st != SLURM_JOB_DONE &&
			    !s->stopping)
				run_error(s, &rd->runs[i],
					  "shared directory: %s", err);
	} else {
		s->staged = 1;
	}
	pump(s);
}

static void ingest(struct executor_slurm *s, struct executor_slurm_scan *it)
{
	struct executor_slurm_run *x = it->run;
	struct boot_run *r = x->r;
	size_t k;

	if (it->moved) {
		/* The recorded path is the file's, as boot.c's. */
		free(r->log_path);
		r->log_path = it->moved;
		it->moved = NULL;
	}
	if (it->rc > 0) {
		judge_set(&r->judge, it->res.verdict, it->res.reason,
			  it->res.line);
		for (k = 0; k < it->res.n_probes; k++)
			guest_probes_add(&r->judge.probes,
					 it->res.probes[k].name,
					 it->res.probes[k].result,
					 it->res.probes[k].detail,
					 it->res.probes[k].seconds);
		guest_probes_set_fingerprint(&r->judge.probes,
					     it->res.fingerprint);
		if (it->res.nonce && strlen(it->res.nonce) < sizeof(r->nonce))
			snprintf(r->nonce, sizeof(r->nonce), "%s",
				 it->res.nonce);
		r->started_at = it->res.started_at;
		r->duration_s = it->res.duration_s;
		report(s, x);
	} else if (it->rc < 0) {
		run_error(s, x, "Slurm job %s: %s", x->job.id, it->err.buf);
	} else if (it->was_ended) {
		run_error(s, x, "Slurm job %s ended %s without a verdict",
			  x->job.id, x->job.ended);
	}
}

static int squeue_start(struct executor_slurm *s);

static void scanned(struct executor_slurm_round *rd,
		    struct executor_slurm_scan *items, size_t n)
{
	struct executor_slurm *s = container_of(rd, struct executor_slurm,
						round);
	size_t i;

	s->busy--;
	for (i = 0; i < n; i++)
		/* Once reported, a run is never ingested again (a job
		 * that wrote its result and was then requeued). */
		if (items[i].run->job.st != SLURM_JOB_DONE && !s->stopping)
			ingest(s, &items[i]);
	if (s->stopping || !squeue_start(s))
		pump(s);
}

/* ---- squeue: what Slurm says of each job ---- */

/* Slurm took an array we were unsure of: every task of it is ours. */
static void adopt_array(struct executor_slurm_array *a, const char *job_id)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		struct executor_slurm_run *m = a->members[i];

		if (m->job.st == SLURM_JOB_UNSURE && m->in_array)
			slurm_job_adopt(&m->job, job_id, (int)m->task);
	}
	slurm_job_say("array %s (%s) was submitted after all", job_id, a->name);
}

/*
 * The run a listed job is: by name and id, or, for a submission we are
 * unsure of, by name (and task) alone, adopting it: never submitted
 * again. An older job of the same name cannot be: names are nonces.
 */
static struct executor_slurm_run *run_of(struct executor_slurm *s,
					 const char *name, const char *id)
{
	struct executor_slurm_round *rd = &s->round;
	char base[32];
	unsigned task;
	int is_task = !slurm_cmd_task_id(id, base, sizeof(base), &task);
	size_t i;

	for (i = 0; i < rd->n; i++) {
		struct slurm_job *j = &rd->runs[i].job;

		if (j->st == SLURM_JOB_QUEUED && !strcmp(j->name, name) &&
		    !strcmp(j->id, id))
			return &rd->runs[i];
	}
	for (i = 0; i < rd->n; i++) {
		struct executor_slurm_run *x = &rd->runs[i];

		if (x->job.st != SLURM_JOB_UNSURE || strcmp(x->job.name, name))
			continue;
		if (x->in_array) {
			if (!is_task || task != x->task)
				continue;
			adopt_array(x->arr, base);
			return x;
		}
		slurm_job_adopt(&x->job, id, -1);
		return x;
	}
	return NULL;
}

/* One line of `squeue --array -o %i|%j|%T|%r`. */
static void squeue_line(struct executor_slurm *s, char *line, double now)
{
	struct strbuf why = STRBUF_INIT;
	struct executor_slurm_run *x;
	char *f[4];

	if (slurm_cmd_fields(line, f, 4))
		return;
	x = run_of(s, f[1], f[0]);
	if (!x)
		return;
	switch (slurm_job_listed(&x->job, f[2], f[3], now, &why)) {
	case SLURM_JOB_STARTED:
		if (s->opts.on_start)
			s->opts.on_start(x->r, s->opts.data);
		break;
	case SLURM_JOB_CANCEL:
		want_cancel(s, x);
		run_error(s, x, "%s", why.buf);
		break;
	case SLURM_JOB_NOTHING:
		break;
	}
	strbuf_release(&why);
}

static void squeue_done(struct slurm_cmd *p)
{
	struct executor_slurm *s = p->data;
	struct executor_slurm_round *rd = &s->round;
	double now = timeutil_now();
	char *line, *next;
	size_t i;

	s->busy--;
	if (!slurm_cmd_ok(p)) {
		struct strbuf why = STRBUF_INIT;

		slurm_cmd_said(p, &why);
		s->next_squeue = now + EXEC_SLURM_DOWN_POLL_S;
		if (!s->ctld_down || !s->down_since) {
			slurm_job_say("slurmctld does not answer (squeue: "
				      "%s); submission paused", why.buf);
			s->ctld_down = 1;
			s->down_since = now;
		}
		strbuf_release(&why);
		pump(s);
		return;
	}
	if (s->ctld_down && s->down_since)
		slurm_job_say("slurmctld answers again after %.0f s; "
			      "submission resumes", now - s->down_since);
	s->ctld_down = 0;
	s->down_since = 0;
	for (i = 0; i < rd->n; i++)
		rd->runs[i].job.listed = 0;
	for (line = p->out_text.buf; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		squeue_line(s, line, now);
	}
	for (i = 0; i < rd->n; i++) {
		struct executor_slurm_run *x = &rd->runs[i];

		if (x->job.st == SLURM_JOB_UNSURE) {
			/* Slurm never took it: submit it again, unless
			 * slurmctld answers and keeps refusing it (a bad
			 * partition or account, a limit). */
			if (x->job.submit_failures >= EXEC_SLURM_SUBMIT_TRIES)
				run_error(s, x, "sbatch refused the job %u "
					  "times: %s", x->job.submit_failures,
					  x->job.submit_error);
			else
				x->job.st = SLURM_JOB_NEW;
			continue;
		}
		if (x->job.st == SLURM_JOB_QUEUED && !x->job.listed)
			slurm_job_unlisted(&x->job);
	}
	pump(s);
}

/* After a scan: squeue (1), or 0 when there is nothing to ask. */
static int squeue_start(struct executor_slurm *s)
{
	struct executor_slurm_round *rd = &s->round;
	struct strbuf names = STRBUF_INIT;
	char *filter;
	size_t i;

	s->mark++;
	for (i = 0; i < rd->n; i++) {
		const struct executor_slurm_run *x = &rd->runs[i];

		if (x->job.st != SLURM_JOB_QUEUED &&
		    x->job.st != SLURM_JOB_UNSURE)
			continue;
		if (x->in_array) {
			if (x->arr->mark == s->mark)
				continue;	/* its name is in already */
			x->arr->mark = s->mark;
		}
		strbuf_addf(&names, "%s%s", names.len ? "," : "",
			    x->job.name);
	}
	if (!names.len || (s->ctld_down && timeutil_now() < s->next_squeue)) {
		strbuf_release(&names);
		return 0;
	}
	/* --array: one line a task, JOB_TASK. */
	filter = xstrfmt("--name=%s", names.buf);
	run_cmd(s, slurm_job_squeue_argv(filter, 1), squeue_done, NULL);
	free(filter);
	strbuf_release(&names);
	return 1;
}

/* ---- sbatch ---- */

static void sbatch_done(struct slurm_cmd *p)
{
	struct executor_slurm *s = p->data;
	struct executor_slurm_run *x = p->job, **group = &x;
	size_t ng = 1, i;
	int rc = 0;

	s->busy--;
	if (x->in_array) {
		group = x->arr->members;
		ng = x->arr->n;
	}
	for (i = 0; i < ng; i++) {
		struct executor_slurm_run *m = group[i];

		rc = slurm_job_sbatch_done(&m->job, p, x->in_array ?
					   (int)m->task : -1);
		if (rc < 0)
			run_error(s, m, "sbatch: %s", m->job.submit_error);
	}
	if (rc == 0) {
		/* Nothing else is submitted until squeue has said
		 * whether slurmctld got it. */
		s->ctld_down = 1;
		slurm_job_say("sbatch failed for %s: %s; submission paused",
			      x->job.name, x->job.submit_error);
	}
	pump(s);
}

/* An array goes whole, while every task of it is still to submit. */
static int array_ready(const struct executor_slurm_array *a)
{
	size_t i;

	if (!a || !a->written)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->members[i]->job.st != SLURM_JOB_NEW)
			return 0;
	return 1;
}

static int sbatch_start(struct executor_slurm *s)
{
	struct executor_slurm_round *rd = &s->round;
	struct executor_slurm_run *x = NULL;
	struct executor_slurm_array *a;
	struct slurm_job_request rq;
	char *output, *file, **argv;
	const char *cmd[8];
	size_t i, n = 0;
	double now = timeutil_now();

	if (s->ctld_down || !s->staged)
		return 0;
	for (i = 0; i < rd->n && !x; i++)
		if (rd->runs[i].job.st == SLURM_JOB_NEW)
			x = &rd->runs[i];
	if (!x)
		return 0;
	a = array_ready(x->arr) ? x->arr : NULL;
	memset(&rq, 0, sizeof(rq));
	rq.name = a ? a->name : x->own_name;
	rq.chdir = a ? a->dir : x->dir;
	/* An array's: Slurm's own file name pattern, the task's number. */
	output = a ? xstrfmt("%s/%%a.out", a->dir) :
		 xstrfmt("%s/slurm.out", x->dir);
	rq.output = output;
	rq.array = a ? a->n : 0;
	rq.cpus = x->cpus;
	rq.mem_mb = x->mem_mb;
	rq.minutes = x->minutes;
	cmd[n++] = s->self_exe;
	cmd[n++] = RUNDIR_RUN_CELL;
	cmd[n++] = "--quiet";
	if (a) {
		file = xstrfmt("%s/%s", a->dir, RUNDIR_TASKS);
		cmd[n++] = "--tasks";
		cmd[n++] = file;
	} else {
		file = xstrfmt("%s/%s", x->dir, RUNDIR_SPEC);
		cmd[n++] = "--spec";
		cmd[n++] = file;
		cmd[n++] = "--out";
		cmd[n++] = x->dir;
	}
	cmd[n] = NULL;
	argv = slurm_job_sbatch_argv(&rq, s->cfg, rd->script, cmd);
	for (i = 0; i < (a ? a->n : 1); i++) {
		struct executor_slurm_run *m = a ? a->members[i] : x;

		m->job.st = SLURM_JOB_SUBMITTING;
		m->in_array = !!a;
		m->job.name = a ? a->name : m->own_name;
		if (!m->job.submitted_at)
			m->job.submitted_at = now;
	}
	run_cmd(s, argv, sbatch_done, x);
	free(output);
	free(file);
	return 1;
}

/* ---- scancel, and the stop ---- */

static void stop_finish(struct executor_slurm *s)
{
	size_t i;

	for (i = 0; i < s->round.n; i++) {
		struct executor_slurm_run *x = &s->round.runs[i];

		if (x->job.st == SLURM_JOB_DONE)
			continue;
		x->r->interrupted = 1;
		report(s, x);
	}
	maybe_finish(s);
}

static void scancel_done(struct slurm_cmd *p)
{
	struct executor_slurm *s = p->data;

	s->busy--;
	if (!slurm_cmd_ok(p)) {
		struct strbuf why = STRBUF_INIT;

		slurm_cmd_said(p, &why);
		slurm_job_say("scancel: %s", why.buf);
		strbuf_release(&why);
	}
	pump(s);
}

static int scancel_start(struct executor_slurm *s, int all)
{
	char **argv;
	size_t i;

	if (all) {
		/* Every job (or task) of ours Slurm has; an unsure
		 * submission (sbatch failed) is left: scancel cannot tell
		 * it apart safely. */
		for (i = 0; i < s->round.n; i++)
			if (s->round.runs[i].job.st == SLURM_JOB_QUEUED)
				want_cancel(s, &s->round.runs[i]);
	}
	if (!s->n_cancel)
		return 0;
	argv = slurm_job_scancel_argv((const char *const *)s->cancel,
				      s->n_cancel);
	for (i = 0; i < s->n_cancel; i++)
		free(s->cancel[i]);
	s->n_cancel = 0;
	run_cmd(s, argv, scancel_done, NULL);
	return 1;
}

/*
 * One step at a time: stop, cancels, submissions. Each step's callback
 * calls the pump again; the timer starts a scan and squeue when idle.
 */
static void pump(struct executor_slurm *s)
{
	if (s->busy || s->finished)
		return;
	if (s->stopping) {
		if (!s->stop_sent) {
			s->stop_sent = 1;
			if (scancel_start(s, 1))
				return;
		}
		stop_finish(s);
		return;
	}
	if (s->n_cancel && scancel_start(s, 0))
		return;
	if (sbatch_start(s))
		return;
	maybe_finish(s);
}

static void tick_cb(uv_timer_t *t)
{
	struct executor_slurm *s = container_of(t, struct executor_slurm,
						tick);

	if (s->busy || s->finished || s->stopping)
		return;
	/* The scan first: a result beats anything squeue says. Its report
	 * runs squeue, then the pump, which submits. */
	if (executor_slurm_round_scan(&s->round, scanned)) {
		s->busy++;
		return;
	}
	if (squeue_start(s))
		return;
	pump(s);
}

/* ---- the interface ---- */

struct executor_slurm *executor_slurm_start(uv_loop_t *loop,
					    const struct matrix_executor *cfg,
					    struct boot_run *runs, size_t n,
					    const struct boot_opts *opts)
{
	struct executor_slurm *s = xcalloc(1, sizeof(*s));

	s->cfg = cfg;
	s->opts = *opts;
	s->self_exe = slurm_job_command(cfg);
	executor_slurm_round_init(&s->round, loop, cfg, runs, n);
	uv_timer_init(loop, &s->tick);
	uv_timer_start(&s->tick, tick_cb, EXEC_SLURM_TICK_MS,
		       EXEC_SLURM_TICK_MS);
	s->busy++;
	executor_slurm_round_stage(&s->round, staged);
	return s;
}

void executor_slurm_stop(struct executor_slurm *s)
{
	if (s->stopping || s->finished)
		return;
	s->stopping = 1;
	pump(s);
}

void executor_slurm_load(const struct executor_slurm *s, size_t *waiting,
			 unsigned *running)
{
	size_t i;

	*waiting = 0;
	*running = 0;
	for (i = 0; i < s->round.n; i++) {
		const struct slurm_job *j = &s->round.runs[i].job;

		if (j->st == SLURM_JOB_DONE)
			continue;
		if (j->running)
			(*running)++;
		else
			(*waiting)++;
	}
}

static void free_cb(uv_handle_t *h)
{
	struct executor_slurm *s = container_of((uv_timer_t *)h,
						struct executor_slurm, tick);
	size_t i;

	executor_slurm_round_release(&s->round);
	for (i = 0; i < s->n_cancel; i++)
		free(s->cancel[i]);
	free(s->cancel);
	free(s->self_exe);
	free(s);
}

void executor_slurm_free(struct executor_slurm *s)
{
	if (!s || s->freed)
		return;
	s->freed = 1;
	uv_close((uv_handle_t *)&s->tick, free_cb);
}
