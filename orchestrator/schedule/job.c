/*
 * job: one (tree, commit, build config) through the pipeline inside the
 * daemon: what the store already has for it, the build, the boots of
 * every cell not yet recorded (ERROR runs again, DAEMON_ERROR_RETRIES
 * times), each verdict recorded, then the job marked done, queued again
 * (stopped) or deferred with backoff (the farm failed).
 *
 * It never FAILs a cell for the farm's trouble: a build the farm could
 * not run is retried, then recorded as ERROR; only a kernel that does not
 * build gives BLOCKED, and only a kernel that does not boot gives FAIL.
 * Every store call is an op on the store thread, run in order: a job's
 * verdicts are on disk before the job is marked done. When a write fails
 * the daemon pauses and the job is left `running` in the store, to be
 * queued again when writes work (its recorded cells are not run twice).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon-priv.h"
#include "executor/executor-build.h"
#include "lib/fsutil.h"
#include "boot/probe.h"
#include "lib/xmalloc.h"
#include "lib/timeutil.h"

static const char *const stage_names[] = {
	[JOB_STARTING] = "starting", [JOB_BUILDING] = "build",
	[JOB_BUILT] = "built, waiting for cores", [JOB_BOOTING] = "boot",
	[JOB_ENDING] = "recording",
};

const char *job_stage_name(const struct job *j)
{
	if (j->stage == JOB_BUILDING && j->detail)
		return j->detail;	/* checkout, config, make */
	return stage_names[j->stage];
}

static void say_job(struct job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say_job(struct job *j, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	daemon_say(j->d, "%s %.12s %s: %s", j->rj.tree, j->rj.commit_id,
		   j->rj.build, sb.buf);
	strbuf_release(&sb);
}

static struct job_todo *todo_of(const struct job *j, const char *cell)
{
	size_t i;

	for (i = 0; i < j->n_todo; i++)
		if (!strcmp(j->todo[i].cell->name, cell))
			return &j->todo[i];
	return NULL;
}

/*
 * What this job runs, from the store's plan: every cell of the matrix at
 * least once when the job tests the commit (scope all), and as many more
 * runs as confirmations and bisection steps want. Cells already recorded
 * (a restart) are not run again.
 */
static void make_todo(struct job *j)
{
	size_t i, k;

	j->todo = xcalloc(j->m->n_cells + 1, sizeof(*j->todo));
	for (i = 0; i < j->m->n_cells; i++) {
		const struct cell *c = &j->m->cells[i];
		const struct record_plan *p = NULL;
		unsigned have = 0, want = j->scope_all ? 1 : 0;
		const char *purpose = "test";

		for (k = 0; k < j->n_plan; k++)
			if (!strcmp(j->plan[k].cell, c->name))
				p = &j->plan[k];
		if (p) {
			have = p->have;
			if (p->want > want) {
				want = p->want;
				if (have || !j->scope_all)
					purpose = p->purpose;
			}
		}
		j->n_recorded += have;
		if (want <= have)
			continue;
		j->todo[j->n_todo].cell = c;
		j->todo[j->n_todo].have = have;
		j->todo[j->n_todo].runs = want - have;
		j->todo[j->n_todo].purpose = purpose;
		j->n_todo++;
	}
}

/* ---- store ops ---- */

struct job_op {
	struct job *j;
	int (*fn)(struct record *r, struct job_op *op, struct strbuf *err);
	void (*after)(struct job_op *op, int rc);
	struct record_run run;
	struct record_build build;	/* strings borrowed from the job */
	int have_build;
	double not_before;
	int pgid;
	/* prepare */
	int have_last;
	struct record_build last;
};

static void job_maybe_done(struct job *j);

static int op_run(struct record *r, void *arg, struct strbuf *err)
{
	struct job_op *op = arg;

	return op->fn(r, op, err);
}

static void op_done(void *arg, int rc, const char *err)
{
	struct job_op *op = arg;
	struct job *j = op->j;

	j->pending--;
	if (rc < 0 && !j->store_failed) {
		j->store_failed = 1;
		say_job(j, "store: %s", err);
		daemon_pause(j->d, err);
	}
	if (op->after)
		op->after(op, rc);
	record_run_release(&op->run);
	if (op->have_last)
		record_build_release(&op->last);
	free(op);
	job_maybe_done(j);
}

static void submit(struct job *j, struct job_op *op)
{
	op->j = j;
	j->pending++;
	record_thread_submit(j->d->store, op_run, op_done, op);
}

static struct job_op *new_op(int (*fn)(struct record *, struct job_op *,
				       struct strbuf *))
{
	struct job_op *op = xcalloc(1, sizeof(*op));

	op->fn = fn;
	return op;
}

static int add_run_fn(struct record *r, struct job_op *op, struct strbuf *err)
{
	return record_add_run(r, &op->run, err);
}

static void record_verdict(struct job *j, const char *cell, enum verdict v,
			   const char *reason, const char *line,
			   double started_at, double duration_s,
			   const char *log_path, const char *nonce,
			   const char *purpose, const struct boot_run *r)
{
	struct job_op *op = new_op(add_run_fn);
	struct record_run *run = &op->run;

	run->batch = xstrdup(j->batch);
	run->kernel_id = xstrdup(j->kernel.id ? j->kernel.id : "");
	run->kernel_path = xstrdup(j->kernel.path ? j->kernel.path : "");
	run->kernel_version = xstrdup(j->kernel.version ?
				      j->kernel.version : "");
	run->cell = xstrdup(cell);
	run->matrix_path = xstrdup(j->m->path ? j->m->path : "");
	run->verdict = v;
	run->reason = xstrdup(reason ? reason : "");
	run->line = xstrdup(line ? line : "");
	run->started_at = started_at;
	run->duration_s = duration_s;
	run->log_path = xstrdup(log_path ? log_path : "");
	run->nonce = nonce ? xstrdup(nonce) : NULL;
	run->tree = xstrdup(j->rj.tree);
	run->commit_id = xstrdup(j->rj.commit_id);
	run->build = xstrdup(j->rj.build);
	run->purpose = xstrdup(purpose ? purpose : "test");
	/* What ran it, when something did: the command and the releases. */
	run->cmdline = r ? boot_run_cmdline(r) : NULL;
	run->qemu_version = r && r->qemu_version ? xstrdup(r->qemu_version) :
			    NULL;
	run->xen_version = r && r->xen_version ? xstrdup(r->xen_version) :
			   NULL;
	daemon_note_verdict(j->d, v);
	submit(j, op);
}

/* Every cell not yet recorded gets verdict v (BLOCKED or ERROR). */
static void record_all_cells(struct job *j, enum verdict v,
			     const char *reason, const char *line,
			     const char *log_path)
{
	double now = timeutil_now();
	size_t i;

	/* Once per cell: a build serves every run of it. */
	for (i = 0; i < j->n_todo; i++)
		record_verdict(j, j->todo[i].cell->name, v, reason, line, now,
			       0, log_path, NULL, j->todo[i].purpose, NULL);
}

static int add_build_fn(struct record *r, struct job_op *op,
			struct strbuf *err)
{
	return record_add_build(r, &op->build, err);
}

static void save_build(struct job *j, enum record_build_status s)
{
	struct job_op *op = new_op(add_build_fn);
	struct record_build *rb = &op->build;

	/* The job outlives its ops: its strings can be borrowed. */
	rb->tree = j->rj.tree;
	rb->commit_id = j->rj.commit_id;
	rb->build = j->rj.build;
	rb->status = s;
	rb->reason = j->build.reason;
	rb->errors = j->build.errors;
	rb->log_path = j->build.log_path;
	rb->image_path = j->build.image_path;
	rb->started_at = j->build.started_at;
	rb->duration_s = j->build.duration_s;
	submit(j, op);
}

static int set_pgid_fn(struct record *r, struct job_op *op,
		       struct strbuf *err)
{
	return record_job_set_pgid(r, op->j->rj.id, op->pgid, err);
}

/* ---- the end of a job ---- */

static void job_free_cb(uv_handle_t *h)
{
	struct job *j = container_of((uv_timer_t *)h, struct job, heartbeat);
	size_t i;

	for (i = 0; i < j->n_runs; i++)
		boot_run_release(&j->runs[i]);
	free(j->runs);
	executor_free(j->boot);
	build_job_release(&j->build);
	kernel_release(&j->kernel);
	record_job_release(&j->rj);
	record_plan_free(j->plan, j->n_plan);
	free(j->todo);
	record_strings_free(j->retry, j->n_retry);
	free(j->kernel_err);
	free(j->image);
	free(j->batch);
	free(j->log_dir);
	free(j->repo);
	free(j->defer);
	free(j);
}

static void job_unlink(struct job *j)
{
	struct daemon *d = j->d;
	struct job **p, *next_built = NULL, *k;

	for (p = &d->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	for (k = d->jobs; k; k = k->next)
		if (k->stage == JOB_BUILT)
			next_built = k;
	daemon_free_retired(d);
	daemon_write_status(d);
	uv_close((uv_handle_t *)&j->heartbeat, job_free_cb);
	if (next_built && !d->stopping)
		job_boot(next_built);
	if (d->stopping && !d->jobs) {
		daemon_shutdown(d);
		return;
	}
	daemon_compare(d);
	daemon_publish(d);
	schedule(d);
}

static int finish_fn(struct record *r, struct job_op *op, struct strbuf *err)
{
	struct job *j = op->j;

	if (j->requeue)
		return record_job_requeue(r, j->rj.id, err);
	if (j->defer)
		return record_job_defer(r, j->rj.id, op->not_before,
					j->defer, err);
	return record_job_finish(r, j->rj.id, err);
}

static void finish_after(struct job_op *op, int rc)
{
	struct job *j = op->j;

	if (rc == 0)
		say_job(j, "%s after %.0f s", j->requeue ?
			"stopped, queued again" : j->defer ?
			"failed for the farm, queued again" : "done",
			timeutil_now() - j->t0);
	job_unlink(j);
}

static void job_end(struct job *j)
{
	struct job_op *op;
	double wait;

	j->ended = 1;
	j->stage = JOB_ENDING;
	if (j->store_failed) {
		/* Left `running` in the store: recovered on resume. */
		say_job(j, "left for when the store takes writes again");
		job_unlink(j);
		return;
	}
	op = new_op(finish_fn);
	op->after = finish_after;
	if (j->defer && !j->requeue) {
		wait = schedule_backoff_s(j->d, j->rj.attempts);
		op->not_before = timeutil_now() + wait;
		say_job(j, "attempt %d failed: %s; next attempt in %.0f s",
			j->rj.attempts, j->defer, wait);
	}
	submit(j, op);
}

/* End the job once nothing is in flight and no step is left to start. */
static void job_maybe_done(struct job *j)
{
	if (j->ended || j->building || j->booting || j->pending)
		return;
	if (j->stage == JOB_ENDING || j->requeue || j->store_failed)
		job_end(j);
}

/*
 * The farm failed this job: try it again later, or after the last
 * attempt give every cell left an ERROR with the reason.
 */
static void job_farm_failed(struct job *j, const char *reason,
			    const char *line, const char *log_path)
{
	if (j->rj.attempts < DAEMON_JOB_ATTEMPTS) {
		free(j->defer);
		j->defer = xstrdup(reason);
	} else {
		record_all_cells(j, VERDICT_ERROR, reason, line, log_path);
	}
}

/* ---- boot ---- */

static void boot_round(struct job *j);
static void boot_prechecked(void *data);

static void boot_started(struct boot_run *r, void *data)
{
	struct job *j = data;

	daemon_say(j->d, "  start  %s%s", r->cell->name,
		   j->round > 1 ? " (again, after an ERROR)" : "");
}

static void boot_done(struct boot_run *r, void *data)
{
	struct job *j = data;
	enum verdict v = judge_verdict(&r->judge);

	if (r->interrupted) {
		j->requeue = 1;
		return;
	}
	daemon_say(j->d, "  %-7s %s (%.1f s): %s", verdict_name(v),
		   r->cell->name, r->duration_s, r->judge.reason);
	if (v == VERDICT_ERROR && j->round <= DAEMON_ERROR_RETRIES &&
	    !j->d->stopping) {
		/* The farm's trouble may pass: run it again first. */
		ALLOC_GROW(j->retry, j->n_retry + 1, j->retry_alloc);
		j->retry[j->n_retry++] = xstrdup(r->cell->name);
	} else {
		record_verdict(j, r->cell->name, v, r->judge.reason,
			       r->judge.line, r->started_at, r->duration_s,
			       r->log_path, r->nonce, r->data, r);
	}
	schedule(j->d);		/* cores may have come free */
}

static void boot_all_done(void *data)
{
	struct job *j = data;
	size_t i;

	j->booting = 0;
	for (i = 0; i < j->n_runs; i++)
		boot_run_release(&j->runs[i]);
	free(j->runs);
	j->runs = NULL;
	j->n_runs = 0;
	executor_free(j->boot);
	j->boot = NULL;
	if (j->n_retry && !j->requeue && !j->store_failed &&
	    !j->d->stopping) {
		j->round++;
		boot_round(j);
		return;
	}
	j->stage = JOB_ENDING;
	job_maybe_done(j);
}

/*
 * One run of a todo. Its log is named by the run's own nonce: a count of
 * the cell's runs, a round or a retry index repeat across passes of one
 * (tree, commit, build) and would overwrite a recorded run's log.
 */
static void job_run_init(struct job *j, struct boot_run *r,
			 const struct job_todo *t)
{
	boot_run_init(r, t->cell, j->image, j->d->o.initrd, "");
	free(r->log_path);
	r->log_path = xstrfmt("%s/%s-%s-%s.log", j->log_dir, t->cell->name,
			      j->batch, r->nonce);
	r->data = (void *)t->purpose;
}

static void boot_round(struct job *j)
{
	struct daemon *d = j->d;
	size_t i, n = 0;
	unsigned k;

	if (j->round == 1)
		for (i = 0; i < j->n_todo; i++)
			n += j->todo[i].runs;
	else
		n = j->n_retry;
	j->runs = xcalloc(n + 1, sizeof(*j->runs));
	for (i = 0; j->round == 1 && i < j->n_todo; i++) {
		const struct job_todo *t = &j->todo[i];

		for (k = 0; k < t->runs; k++)
			job_run_init(j, &j->runs[j->n_runs++], t);
	}
	for (i = 0; j->round > 1 && i < j->n_retry; i++)
		job_run_init(j, &j->runs[j->n_runs++],
			     todo_of(j, j->retry[i]));
	record_strings_free(j->retry, j->n_retry);
	j->retry = NULL;
	j->n_retry = j->retry_alloc = 0;
	if (j->round == 1)
		say_job(j, "booting %zu run%s (%u already recorded)",
			j->n_runs, j->n_runs == 1 ? "" : "s",
			j->n_recorded);
	else
		say_job(j, "running %zu cell%s again after an ERROR "
			"(attempt %u)", j->n_runs, j->n_runs == 1 ? "" : "s",
			j->round);
	if (!j->n_runs) {
		j->stage = JOB_ENDING;
		job_maybe_done(j);
		return;
	}
	/* The KVM probe may boot a kernel for seconds: not on the loop. */
	j->booting = 1;
	if (probe_precheck_start(d->loop, j->runs, j->n_runs, j->image,
				 j->kernel_err, d->o.initrd, d->o.quiet,
				 boot_prechecked, j) < 0) {
		probe_precheck(j->runs, j->n_runs, j->image, j->kernel_err,
			       d->o.initrd, d->o.quiet);
		boot_prechecked(j);
	}
}

static void boot_prechecked(void *data)
{
	struct job *j = data;
	struct daemon *d = j->d;
	struct boot_opts opts = {
		.on_start = boot_started, .on_done = boot_done,
		.on_all_done = boot_all_done, .data = j,
	};

	if (j->requeue || j->store_failed || d->stopping) {
		j->requeue = 1;
		boot_all_done(j);	/* nothing started: releases the runs */
		return;
	}
	opts.jobs = schedule_free_cores(d, j);
	if (!opts.jobs)
		opts.jobs = 1;
	/* Each cell's executor (local or Slurm) runs it: same verdicts. */
	j->boot = executor_start(d->loop, j->m, j->runs, j->n_runs, &opts);
}

/* Hashing a kernel image reads megabytes: not on the loop. */
struct identify_work {
	uv_work_t req;
	struct job *j;
	struct kernel k;
	struct strbuf err;
	int rc;
};

static void identify_cb(uv_work_t *req)
{
	struct identify_work *w = container_of(req, struct identify_work, req);

	w->rc = kernel_identify(&w->k, w->j->image, &w->err);
}

static void identify_after(uv_work_t *req, int status)
{
	struct identify_work *w = container_of(req, struct identify_work, req);
	struct job *j = w->j;

	j->pending--;
	if (w->rc < 0) {
		j->kernel.path = xstrdup(j->image);
		j->kernel.id = xstrdup("");
		j->kernel.version = xstrdup("");
		j->kernel_err = strbuf_detach(&w->err, NULL);
	} else {
		j->kernel = w->k;
	}
	strbuf_release(&w->err);
	free(w);
	if (j->requeue || j->store_failed) {
		job_maybe_done(j);
		return;
	}
	j->round = 1;
	boot_round(j);
}

void job_boot(struct job *j)
{
	struct identify_work *w;

	j->stage = JOB_BOOTING;
	daemon_write_status(j->d);
	j->log_dir = xstrfmt("%s/logs/%s/%.12s-%s", j->d->o.state_dir,
			     j->rj.tree, j->rj.commit_id, j->rj.build);
	if (fsutil_mkdir_p(j->log_dir, 0755) < 0) {
		char *why = xstrfmt("cannot create %s: %s", j->log_dir,
				    strerror(errno));

		say_job(j, "%s", why);
		job_farm_failed(j, why, "", "");
		free(why);
		j->stage = JOB_ENDING;
		job_maybe_done(j);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->j = j;
	strbuf_init(&w->err, 0);
	j->pending++;
	uv_queue_work(j->d->loop, &w->req, identify_cb, identify_after);
}

int job_boot_tail(const struct job *j, unsigned *running)
{
	size_t waiting;

	*running = 0;
	if (!j->boot)
		return 0;
	executor_load(j->boot, &waiting, running);
	return waiting == 0;
}

/* ---- build ---- */

static void heartbeat_cb(uv_timer_t *t)
{
	struct job *j = container_of(t, struct job, heartbeat);

	say_job(j, "%s (%.0f s)", job_stage_name(j), timeutil_now() - j->t0);
}

static void build_spawned(struct build_job *b, int pgid, void *data)
{
	struct job *j = data;
	struct job_op *op = new_op(set_pgid_fn);

	/* The group is in the store before the step can do anything. */
	op->pgid = pgid;
	submit(j, op);
}

static void build_progress(struct build_job *b, const char *stage,
			   void *data)
{
	struct job *j = data;

	j->detail = stage;
	daemon_write_status(j->d);
	say_job(j, "%s (%.0f s)", stage, timeutil_now() - j->t0);
}

/* The first error line, for a BLOCKED run's "line". */
static char *first_line(const char *s)
{
	return xstrndup(s ? s : "", s ? strcspn(s, "\n") : 0);
}

static void build_done(struct build_job *b, void *data)
{
	struct job *j = data;
	struct daemon *d = j->d;
	char *line;

	j->building = 0;
	j->build_cores = 0;
	uv_timer_stop(&j->heartbeat);
	say_job(j, "build %s in %.0f s%s%s", build_status_name(b->status),
		b->duration_s, b->reason && *b->reason ? ": " : "",
		b->reason ? b->reason : "");
	if (b->status == BUILD_INTERRUPTED || (d->stopping &&
					      b->status != BUILD_OK &&
					      b->status != BUILD_FAILED)) {
		j->requeue = 1;
	} else if (b->status == BUILD_OK) {
		save_build(j, RECORD_BUILD_OK);
		j->image = xstrdup(b->image_path);
		j->stage = JOB_BUILT;
		if (d->stopping || j->requeue) {
			j->requeue = 1;
		} else {
			struct job *k;

			for (k = d->jobs; k; k = k->next)
				if (k != j && k->stage == JOB_BOOTING)
					break;
			if (!k) {
				job_boot(j);
				return;
			}
			say_job(j, "built; boots once the previous commit's "
				"are done");
			daemon_write_status(d);
			schedule(d);
			return;
		}
	} else if (b->status == BUILD_FAILED) {
		save_build(j, RECORD_BUILD_FAILED);
		line = first_line(b->errors);
		record_all_cells(j, VERDICT_BLOCKED, b->reason, line,
				 b->log_path);
		free(line);
	} else {
		save_build(j, RECORD_BUILD_ERROR);
		line = first_line(b->errors);
		job_farm_failed(j, b->reason ? b->reason : "build error",
				line, b->log_path);
		free(line);
	}
	j->stage = JOB_ENDING;
	job_maybe_done(j);
}

static void start_build(struct job *j)
{
	struct daemon *d = j->d;
	struct strbuf err = STRBUF_INIT;

	j->repo = daemon_tree_repo(d, j->tree);
	j->build.tree = j->tree;
	j->build.config = j->cfg;
	snprintf(j->build.commit, sizeof(j->build.commit), "%s",
		 j->rj.commit_id);
	j->build.state_dir = d->o.state_dir;
	j->build.repo_path = j->repo;
	j->build_cores = schedule_free_cores(d, j);
	if (!j->build_cores)
		j->build_cores = 1;
	j->build.jobs = j->build_cores;
	j->build.on_progress = build_progress;
	j->build.on_spawn = build_spawned;
	j->build.on_done = build_done;
	j->build.data = j;
	j->stage = JOB_BUILDING;
	j->detail = NULL;
	daemon_write_status(d);
	/* builds: true: the build is a Slurm job (executor-build.c). */
	if ((j->m->executor.builds ?
	     executor_build_start(d->loop, &j->m->executor, j->m->path,
				  &j->build, &err) :
	     build_start(d->loop, &j->build, &err)) < 0) {
		say_job(j, "cannot build: %s", err.buf);
		j->build_cores = 0;
		j->stage = JOB_ENDING;
		job_farm_failed(j, err.buf, "", "");
		strbuf_release(&err);
		job_maybe_done(j);
		return;
	}
	if (j->build_cores < d->o.jobs)
		say_job(j, "building on %u of %u cores beside the previous "
			"commit's last boots", j->build_cores, d->o.jobs);
	j->building = 1;
	uv_timer_start(&j->heartbeat, heartbeat_cb, DAEMON_HEARTBEAT_MS,
		       DAEMON_HEARTBEAT_MS);
	strbuf_release(&err);
}

/* ---- the start ---- */

static int prepare_fn(struct record *r, struct job_op *op, struct strbuf *err)
{
	struct job *j = op->j;
	int have = record_last_build(r, j->rj.tree, j->rj.commit_id,
				     j->rj.build, &op->last, err);

	if (have < 0)
		return -1;
	op->have_last = have;
	return record_job_plan(r, j->rj.tree, j->rj.commit_id, j->rj.build,
			       &j->scope_all, &j->plan, &j->n_plan, err);
}

static void prepare_after(struct job_op *op, int rc)
{
	struct job *j = op->j;
	char *line;

	if (rc < 0)
		return;		/* paused; job_maybe_done ends it */
	if (j->requeue || j->d->stopping) {
		j->requeue = 1;
		return;
	}
	if (!j->tree || !j->cfg) {
		say_job(j, "tree or build config is no longer in the matrix; "
			"dropping the job");
		j->stage = JOB_ENDING;
		return;
	}
	make_todo(j);
	/* A matrix without cells still builds: does it compile? */
	if (!j->n_todo && j->m->n_cells) {
		say_job(j, "nothing left to run");
		j->stage = JOB_ENDING;
		return;
	}
	if (op->have_last && op->last.status == RECORD_BUILD_FAILED) {
		/* Built and failed before a restart: only the verdicts may
		 * be missing. */
		line = first_line(op->last.errors);
		record_all_cells(j, VERDICT_BLOCKED, op->last.reason, line,
				 op->last.log_path);
		free(line);
		j->stage = JOB_ENDING;
		return;
	}
	start_build(j);
}

void job_begin(struct daemon *d, struct record_job *rj)
{
	struct job *j = xcalloc(1, sizeof(*j)), **p;
	struct job_op *op;

	j->d = d;
	j->rj = *rj;
	memset(rj, 0, sizeof(*rj));
	j->m = d->m;
	j->t0 = timeutil_now();
	j->batch = xstrfmt("%s-%.12s-%s", j->rj.tree, j->rj.commit_id,
			   j->rj.build);
	j->tree = matrix_find_tree(j->m, j->rj.tree);
	j->cfg = matrix_find_build(j->m, j->rj.build);
	uv_timer_init(d->loop, &j->heartbeat);
	for (p = &d->jobs; *p; p = &(*p)->next)
		;
	*p = j;
	say_job(j, "%s (attempt %d)", j->rj.subject, j->rj.attempts);
	daemon_write_status(d);
	op = new_op(prepare_fn);
	op->after = prepare_after;
	submit(j, op);
}

void job_stop(struct job *j)
{
	j->requeue = 1;
	if (j->building) {
		/* Each is a no-op for a build it did not start. */
		build_stop(&j->build);
		executor_build_stop(&j->build);
	}
	if (j->booting && j->boot)
		executor_stop(j->boot);
	job_maybe_done(j);
}
