/*
 * executor-slurm: a round of runs as Slurm batch jobs. Each run gets a
 * directory in the shared directory (its spec in, its result out), the
 * round's kernel and payload are copied there once (executor-slurm-stage.c,
 * temp + rename), and the runs are submitted with `sbatch --parsable` and
 * an argv: a fixed job script that execs its arguments, and
 * `hvmatrix run-cell` after it. No shell string is ever built from the
 * cell.
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
 * `squeue` (uv_spawn) says which jobs Slurm ended, lost or never started,
 * then queued runs are submitted one sbatch at a time. A timer restarts
 * the pump every EXEC_SLURM_TICK_MS.
 *
 * The farm's trouble is ERROR, never FAIL: a job that ended without a
 * result (cancelled, killed, node down, preempted, out of time) is ERROR
 * with Slurm's state and reason, and job.c runs it again under the failure
 * policy. When slurmctld does not answer, nothing is decided and nothing
 * is submitted until it does; a submission whose fate is unknown (sbatch
 * failed) is looked up by its job name before it is ever submitted again,
 * so nothing runs twice. Jobs are submitted --no-requeue, and one Slurm
 * requeues all the same (an administrator's `scontrol requeue`) is
 * cancelled and is ERROR: a run is never ingested twice, nor left to run
 * again behind our back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/executor-slurm-priv.h"
#include "executor/slurm-cmd.h"
#include "lib/spawn.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

#define EXEC_SLURM_TICK_MS 250
#define EXEC_SLURM_RUN_GRACE_S 60	/* past the cell's timeout: cancel */
#define EXEC_SLURM_LOST_POLLS 4		/* unlisted this often: lost */
#define EXEC_SLURM_SUBMIT_TRIES 3	/* sbatch refusals, squeue working */
#define EXEC_SLURM_DOWN_POLL_S 2.0	/* squeue while slurmctld is down */

/* The daemon's log is stderr: one line per event Slurm caused. */
void executor_slurm_say(const char *fmt, ...)
{
	va_list ap;

	fputs("slurm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define say executor_slurm_say

/* A Slurm client from the pump: counted busy until its callback. */
static void run_cmd(struct executor_slurm *s, char **argv,
		    void (*done)(struct slurm_cmd *), struct sjob *job)
{
	s->busy++;
	slurm_cmd_run(s->loop, argv, done, s, job);
}

/* ---- the end of runs ---- */

static void maybe_finish(struct executor_slurm *s)
{
	if (s->finished || s->busy)
		return;
	if (s->n_done < s->n)
		return;
	s->finished = 1;
	uv_timer_stop(&s->tick);
	executor_slurm_unstage(s);
	if (s->opts.on_all_done)
		s->opts.on_all_done(s->opts.data);
}

void executor_slurm_report(struct executor_slurm *s, struct sjob *j)
{
	j->st = SJ_DONE;
	s->n_done++;
	if (s->opts.on_done)
		s->opts.on_done(j->r, s->opts.data);
}

/* The farm's trouble: ERROR with why, never FAIL. */
void executor_slurm_error(struct executor_slurm *s, struct sjob *j,
			  const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (j->r->started_at == 0)
		j->r->started_at = j->submitted_at ? j->submitted_at :
				   timeutil_now();
	j->r->duration_s = timeutil_now() - j->r->started_at;
	judge_error(&j->r->judge, "%s", sb.buf);
	strbuf_release(&sb);
	executor_slurm_report(s, j);
}

#define job_error executor_slurm_error

static void want_cancel(struct executor_slurm *s, const struct sjob *j)
{
	if (!j->id[0])
		return;
	ALLOC_GROW(s->cancel, s->n_cancel + 1, s->alloc_cancel);
	s->cancel[s->n_cancel++] = xstrdup(j->id);
}

/* ---- squeue: what Slurm says of each job ---- */

/* Slurm took an array we were unsure of: every task of it is ours. */
static void adopt_array(struct executor_slurm *s, struct sarray *a,
			const char *job_id)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		struct sjob *m = a->members[i];

		if (m->st != SJ_UNSURE || !m->in_array)
			continue;
		snprintf(m->id, sizeof(m->id), "%s_%u", job_id, m->task);
		m->st = SJ_QUEUED;
	}
	say("array %s (%s) was submitted after all", job_id, a->name);
}

/*
 * The run a listed job is: by name and id, or, for a submission we are
 * unsure of, by name (and task) alone, adopting it: never submitted
 * again. An older job of the same name cannot be: names are nonces.
 */
static struct sjob *job_of(struct executor_slurm *s, const char *name,
			   const char *id)
{
	char base[32];
	unsigned task;
	int is_task = !slurm_cmd_task_id(id, base, sizeof(base), &task);
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];

		if (j->st == SJ_QUEUED && !strcmp(j->name, name) &&
		    !strcmp(j->id, id))
			return j;
	}
	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];

		if (j->st != SJ_UNSURE || strcmp(j->name, name))
			continue;
		if (j->in_array) {
			if (!is_task || task != j->task)
				continue;
			adopt_array(s, j->arr, base);
			return j;
		}
		snprintf(j->id, sizeof(j->id), "%s", id);
		j->st = SJ_QUEUED;
		say("job %s (%s) was submitted after all", j->id, j->name);
		return j;
	}
	return NULL;
}

/* One line of `squeue --array -o %i|%j|%T|%r`. */
static void squeue_line(struct executor_slurm *s, char *line, double now)
{
	char *f[4];
	struct sjob *j;
	const struct cell *c;
	double limit;

	if (slurm_cmd_fields(line, f, 4))
		return;
	j = job_of(s, f[1], f[0]);
	if (!j)
		return;
	j->listed = 1;
	j->missing = 0;
	c = j->r->cell;
	switch (slurm_cmd_state_class(f[2])) {
	case SLURM_WAITING:
		if (j->running && !strcmp(f[2], "PENDING"))
			goto requeued;	/* it ran, and waits again */
		if (now - j->submitted_at > s->cfg->pending_s) {
			want_cancel(s, j);
			job_error(s, j, "Slurm job %s never started in %u s "
				  "(%s, %s)", j->id, s->cfg->pending_s, f[2],
				  f[3]);
		}
		return;
	case SLURM_REQUEUED:
	requeued:
		/* --no-requeue, yet requeued (scontrol requeue): its run
		 * may have half happened; it must not happen again. */
		want_cancel(s, j);
		job_error(s, j, "Slurm requeued job %s (%s, %s): cancelled, "
			  "not run twice", j->id, f[2], f[3]);
		return;
	case SLURM_ACTIVE:
		if (!j->running) {
			j->running = 1;
			j->running_at = now;
			if (s->opts.on_start)
				s->opts.on_start(j->r, s->opts.data);
		}
		limit = j->r->timeout_s + EXEC_SLURM_RUN_GRACE_S +
			(cell_is_xen(c) ? BOOT_DOM0_BOOT_S : 0);
		if (now - j->running_at > limit) {
			want_cancel(s, j);
			job_error(s, j, "Slurm job %s still running %.0f s "
				  "after it started (the cell's timeout is "
				  "%u s): cancelled", j->id,
				  now - j->running_at, c->timeout_s);
		}
		return;
	case SLURM_ENDED:
		/* The next scan says whether it left a result (COMPLETED)
		 * or not (CANCELLED, NODE_FAIL, PREEMPTED, TIMEOUT, ...). */
		if (!j->ended)
			j->ended = xstrfmt("%s (%s)", f[2], f[3]);
		return;
	}
}

static void squeue_done(struct slurm_cmd *p)
{
	struct executor_slurm *s = p->data;
	double now = timeutil_now();
	char *line, *next;
	size_t i;

	s->busy--;
	if (!slurm_cmd_ok(p)) {
		struct strbuf why = STRBUF_INIT;

		slurm_cmd_said(p, &why);
		s->next_squeue = now + EXEC_SLURM_DOWN_POLL_S;
		if (!s->ctld_down || !s->down_since) {
			say("slurmctld does not answer (squeue: %s); "
			    "submission paused", why.buf);
			s->ctld_down = 1;
			s->down_since = now;
		}
		strbuf_release(&why);
		executor_slurm_pump(s);
		return;
	}
	if (s->ctld_down && s->down_since)
		say("slurmctld answers again after %.0f s; submission "
		    "resumes", now - s->down_since);
	s->ctld_down = 0;
	s->down_since = 0;
	for (i = 0; i < s->n; i++)
		s->jobs[i].listed = 0;
	for (line = p->out_text.buf; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		squeue_line(s, line, now);
	}
	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];

		if (j->st == SJ_UNSURE) {
			/* Slurm never took it: submit it again, unless
			 * slurmctld answers and keeps refusing it (a bad
			 * partition or account, a limit). */
			if (j->submit_failures >= EXEC_SLURM_SUBMIT_TRIES)
				job_error(s, j, "sbatch refused the job %u "
					  "times: %s", j->submit_failures,
					  j->submit_error);
			else
				j->st = SJ_NEW;
			continue;
		}
		if (j->st != SJ_QUEUED || j->ended)
			continue;
		if (!j->listed && ++j->missing >= EXEC_SLURM_LOST_POLLS)
			j->ended = xstrfmt("LOST (Slurm no longer lists job "
					   "%s)", j->id);
	}
	executor_slurm_pump(s);
}

int executor_slurm_squeue(struct executor_slurm *s)
{
	struct strbuf names = STRBUF_INIT;
	char **argv;
	size_t i;

	s->mark++;
	for (i = 0; i < s->n; i++) {
		const struct sjob *j = &s->jobs[i];

		if (j->st != SJ_QUEUED && j->st != SJ_UNSURE)
			continue;
		if (j->in_array) {
			if (j->arr->mark == s->mark)
				continue;	/* its name is in already */
			j->arr->mark = s->mark;
		}
		strbuf_addf(&names, "%s%s", names.len ? "," : "", j->name);
	}
	if (!names.len || (s->ctld_down && timeutil_now() < s->next_squeue)) {
		strbuf_release(&names);
		return 0;
	}
	argv = xcalloc(8, sizeof(*argv));
	argv[0] = xstrdup("squeue");
	argv[1] = xstrdup("--noheader");
	argv[2] = xstrdup("--array");	/* one line a task: JOB_TASK */
	argv[3] = xstrdup("--states=all");
	argv[4] = xstrfmt("--name=%s", names.buf);
	argv[5] = xstrdup("--format=%i|%j|%T|%r");
	run_cmd(s, argv, squeue_done, NULL);
	spawn_argv_free(argv);
	strbuf_release(&names);
	return 1;
}

/* ---- sbatch ---- */

static void sbatch_done(struct slurm_cmd *p)
{
	struct executor_slurm *s = p->data;
	struct sjob *j = p->job, **group = &j;
	struct strbuf why = STRBUF_INIT;
	size_t n = strspn(p->out_text.buf, "0123456789"), ng = 1, i;

	s->busy--;
	if (j->in_array) {
		group = j->arr->members;
		ng = j->arr->n;
	}
	if (slurm_cmd_ok(p) && n > 0 && n < 32) {
		for (i = 0; i < ng; i++) {
			struct sjob *m = group[i];

			if (j->in_array)
				snprintf(m->id, sizeof(m->id), "%.*s_%u",
					 (int)n, p->out_text.buf, m->task);
			else
				snprintf(m->id, sizeof(m->id), "%.*s",
					 (int)n, p->out_text.buf);
			m->st = SJ_QUEUED;
		}
		executor_slurm_pump(s);
		return;
	}
	slurm_cmd_said(p, &why);
	for (i = 0; i < ng; i++) {
		struct sjob *m = group[i];

		free(m->submit_error);
		m->submit_error = xstrdup(why.buf);
		if (p->spawn_error) {
			job_error(s, m, "sbatch: %s", m->submit_error);
			continue;
		}
		/* Did slurmctld get it? squeue says before any retry, and
		 * nothing else is submitted until it has. */
		m->submit_failures++;
		m->st = SJ_UNSURE;
	}
	if (!p->spawn_error) {
		s->ctld_down = 1;
		say("sbatch failed for %s: %s; submission paused", j->name,
		    why.buf);
	}
	strbuf_release(&why);
	executor_slurm_pump(s);
}

static void add_opt(char **argv, size_t *n, const char *opt, const char *v)
{
	if (v)
		argv[(*n)++] = xstrfmt("%s=%s", opt, v);
}

/* An array goes whole, while every task of it is still to submit. */
static int array_ready(const struct sarray *a)
{
	size_t i;

	if (!a || !a->written)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->members[i]->st != SJ_NEW)
			return 0;
	return 1;
}

static int sbatch_start(struct executor_slurm *s)
{
	const struct matrix_executor *cfg = s->cfg;
	struct sjob *j = NULL;
	struct sarray *a;
	char **argv;
	size_t i, n = 0;
	double now = timeutil_now();

	if (s->ctld_down || !s->staged)
		return 0;
	for (i = 0; i < s->n && !j; i++)
		if (s->jobs[i].st == SJ_NEW)
			j = &s->jobs[i];
	if (!j)
		return 0;
	a = array_ready(j->arr) ? j->arr : NULL;
	argv = xcalloc(40, sizeof(*argv));
	argv[n++] = xstrdup("sbatch");
	argv[n++] = xstrdup("--parsable");
	argv[n++] = xstrdup("--no-requeue");
	if (a) {
		argv[n++] = xstrfmt("--array=0-%zu", a->n - 1);
		argv[n++] = xstrfmt("--job-name=%s", a->name);
		argv[n++] = xstrfmt("--chdir=%s", a->dir);
		/* Slurm's own file name pattern: the task's number. */
		argv[n++] = xstrfmt("--output=%s/%%a.out", a->dir);
	} else {
		argv[n++] = xstrfmt("--job-name=%s", j->own_name);
		argv[n++] = xstrfmt("--chdir=%s", j->dir);
		argv[n++] = xstrfmt("--output=%s/slurm.out", j->dir);
	}
	argv[n++] = xstrdup("--nodes=1");
	argv[n++] = xstrdup("--ntasks=1");
	argv[n++] = xstrfmt("--cpus-per-task=%u", j->cpus);
	argv[n++] = xstrfmt("--mem=%u", j->mem_mb);
	argv[n++] = xstrfmt("--time=%u", j->minutes);
	add_opt(argv, &n, "--partition", cfg->partition);
	add_opt(argv, &n, "--account", cfg->account);
	add_opt(argv, &n, "--qos", cfg->qos);
	add_opt(argv, &n, "--constraint", cfg->constraint);
	argv[n++] = xstrdup(s->script);
	/* The script's arguments: passed through as argv words. */
	argv[n++] = xstrdup(s->self_exe);
	argv[n++] = xstrdup(RUNDIR_RUN_CELL);
	argv[n++] = xstrdup("--quiet");
	if (a) {
		argv[n++] = xstrdup("--tasks");
		argv[n++] = xstrfmt("%s/%s", a->dir, RUNDIR_TASKS);
	} else {
		argv[n++] = xstrdup("--spec");
		argv[n++] = xstrfmt("%s/%s", j->dir, RUNDIR_SPEC);
		argv[n++] = xstrdup("--out");
		argv[n++] = xstrdup(j->dir);
	}
	for (i = 0; i < (a ? a->n : 1); i++) {
		struct sjob *m = a ? a->members[i] : j;

		m->st = SJ_SUBMITTING;
		m->in_array = !!a;
		m->name = a ? a->name : m->own_name;
		if (!m->submitted_at)
			m->submitted_at = now;
	}
	run_cmd(s, argv, sbatch_done, j);
	spawn_argv_free(argv);
	return 1;
}

/* ---- scancel, and the stop ---- */

static void stop_finish(struct executor_slurm *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];

		if (j->st == SJ_DONE)
			continue;
		j->r->interrupted = 1;
		executor_slurm_report(s, j);
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
		say("scancel: %s", why.buf);
		strbuf_release(&why);
	}
	executor_slurm_pump(s);
}

static int scancel_start(struct executor_slurm *s, int all)
{
	char **argv;
	size_t i, n = 0;

	if (all) {
		/* Every job (or task) of ours Slurm has; an unsure
		 * submission (sbatch failed) is left: scancel cannot tell
		 * it apart safely. */
		for (i = 0; i < s->n; i++)
			if (s->jobs[i].st == SJ_QUEUED)
				want_cancel(s, &s->jobs[i]);
	}
	if (!s->n_cancel)
		return 0;
	argv = xcalloc(s->n_cancel + 4, sizeof(*argv));
	argv[n++] = xstrdup("scancel");
	for (i = 0; i < s->n_cancel; i++) {
		argv[n++] = s->cancel[i];
		s->cancel[i] = NULL;
	}
	s->n_cancel = 0;
	run_cmd(s, argv, scancel_done, NULL);
	spawn_argv_free(argv);
	return 1;
}

/*
 * One step at a time: stop, cancels, scan, squeue, submissions. Each
 * step's callback calls the pump again; the timer calls it when idle.
 */
void executor_slurm_pump(struct executor_slurm *s)
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
	/* The scan first: a result beats anything squeue says. Its after
	 * callback runs squeue, then the pump, which submits. */
	if (executor_slurm_scan(s))
		return;
	if (executor_slurm_squeue(s))
		return;
	executor_slurm_pump(s);
}

/* ---- the interface ---- */

/* What a run asks Slurm for: its CPUs, memory and time. */
static void job_request(struct sjob *j)
{
	const struct cell *c = j->r->cell;

	j->cpus = c->smp;
	/* Slurm's limit is in minutes: the run's own timeout, the dom0's
	 * start for Xen, and room for run-cell around QEMU. */
	j->minutes = (j->r->timeout_s + EXEC_SLURM_RUN_GRACE_S + 59 +
		      (cell_is_xen(c) ? BOOT_DOM0_BOOT_S : 0)) / 60;
	j->mem_mb = (c->backend == CELL_BACKEND_XEN_LIBXL ?
		     BOOT_DOM0_MEMORY_MB : c->memory_mb) + 256;
}

static int same_request(const struct sjob *a, const struct sjob *b)
{
	return a->cpus == b->cpus && a->mem_mb == b->mem_mb &&
	       a->minutes == b->minutes;
}

/*
 * The runs still to submit, grouped by identical requests; a group of two
 * or more is an array. A task file lists directories one a line: a
 * shared_dir with a newline in it gets no arrays.
 */
static void group_arrays(struct executor_slurm *s)
{
	size_t i, k, n;
	int *taken;

	if (s->cfg->no_arrays || strchr(s->cfg->shared_dir, '\n'))
		return;
	taken = xcalloc(s->n, sizeof(*taken));
	s->arrays = xcalloc(s->n, sizeof(*s->arrays));
	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];
		struct sarray *a;

		if (taken[i] || j->decided)
			continue;
		for (k = i + 1, n = 1; k < s->n; k++)
			if (!taken[k] && !s->jobs[k].decided &&
			    same_request(j, &s->jobs[k]))
				n++;
		if (n < 2)
			continue;
		a = &s->arrays[s->n_arrays++];
		a->name = xstrfmt("hvm-a-%s", j->r->nonce);
		a->dir = xstrfmt("%s/arrays/%s", s->cfg->shared_dir, a->name);
		a->members = xcalloc(n, sizeof(*a->members));
		for (k = i; k < s->n; k++) {
			struct sjob *m = &s->jobs[k];

			if (taken[k] || m->decided || !same_request(j, m))
				continue;
			taken[k] = 1;
			m->arr = a;
			m->task = (unsigned)a->n;
			a->members[a->n++] = m;
		}
	}
	free(taken);
}

struct executor_slurm *executor_slurm_start(uv_loop_t *loop,
					    const struct matrix_executor *cfg,
					    struct boot_run *runs, size_t n,
					    const struct boot_opts *opts)
{
	struct executor_slurm *s = xcalloc(1, sizeof(*s));
	size_t i;

	s->loop = loop;
	s->cfg = cfg;
	s->opts = *opts;
	s->n = n;
	s->jobs = xcalloc(n, sizeof(*s->jobs));
	s->self_exe = cfg->command ? xstrdup(cfg->command) :
		      realpath("/proc/self/exe", NULL);
	if (!s->self_exe)
		s->self_exe = xstrdup("hvmatrix");
	/* One stage per round, named after its first run: unique. */
	s->stage_dir = xstrfmt("%s/stage/%s", cfg->shared_dir, runs[0].nonce);
	s->kernel = xstrfmt("%s/kernel", s->stage_dir);
	s->initrd = xstrfmt("%s/initrd", s->stage_dir);
	s->script = xstrfmt("%s/%s", cfg->shared_dir, EXEC_SLURM_SCRIPT);
	for (i = 0; i < n; i++) {
		struct sjob *j = &s->jobs[i];

		j->r = &runs[i];
		j->own_name = xstrfmt("hvm-%s", runs[i].nonce);
		j->name = j->own_name;
		j->dir = xstrfmt("%s/runs/%s", cfg->shared_dir, j->own_name);
		job_request(j);
		/* Runs decided before they start (SKIP, a missing kernel)
		 * are reported once staging is done, from the loop: never
		 * from inside this call. */
		if (judge_verdict(&runs[i].judge) != VERDICT_NONE) {
			j->st = SJ_DONE;
			j->decided = 1;
		}
	}
	group_arrays(s);
	uv_timer_init(loop, &s->tick);
	uv_timer_start(&s->tick, tick_cb, EXEC_SLURM_TICK_MS,
		       EXEC_SLURM_TICK_MS);
	executor_slurm_stage(s);
	return s;
}

void executor_slurm_stop(struct executor_slurm *s)
{
	if (s->stopping || s->finished)
		return;
	s->stopping = 1;
	executor_slurm_pump(s);
}

void executor_slurm_load(const struct executor_slurm *s, size_t *waiting,
			 unsigned *running)
{
	size_t i;

	*waiting = 0;
	*running = 0;
	for (i = 0; i < s->n; i++) {
		if (s->jobs[i].st == SJ_DONE)
			continue;
		if (s->jobs[i].running)
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

	for (i = 0; i < s->n; i++) {
		free(s->jobs[i].own_name);
		free(s->jobs[i].dir);
		free(s->jobs[i].ended);
		free(s->jobs[i].submit_error);
	}
	for (i = 0; i < s->n_arrays; i++) {
		free(s->arrays[i].name);
		free(s->arrays[i].dir);
		free(s->arrays[i].members);
	}
	free(s->arrays);
	for (i = 0; i < s->n_cancel; i++)
		free(s->cancel[i]);
	free(s->cancel);
	free(s->jobs);
	free(s->self_exe);
	free(s->stage_dir);
	free(s->kernel);
	free(s->initrd);
	free(s->script);
	free(s);
}

void executor_slurm_free(struct executor_slurm *s)
{
	if (!s || s->freed)
		return;
	s->freed = 1;
	uv_close((uv_handle_t *)&s->tick, free_cb);
}
