/*
 * job: one (tree, commit, build config) through its stages (see job.h):
 * begin (what the store has), build, boot rounds, end, and stop at any
 * of them.
 *
 * It never FAILs a cell for the farm's trouble: a build the farm could
 * not run is retried, then recorded as ERROR; only a kernel that does not
 * build gives BLOCKED, and only a kernel that does not boot gives FAIL.
 * When a store write fails the owner is told and the job is left
 * `running` in the store, to be queued again when writes work (its
 * recorded cells are not run twice). It reaches its owner only through
 * job_ops: never the daemon, the queue, compare or publish.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/job-priv.h"
#include "schedule/schedule.h"
#include "executor/executor.h"
#include "executor/executor-build.h"
#include "boot/probe.h"
#include "lib/fsutil.h"
#include "store/record-web.h"
#include "watch/watch.h"
#include "watch/watch-diff.h"
#include "lib/xmalloc.h"
#include "lib/timeutil.h"

/* ---- where builds and boots go ---- */

/* builds: true: the build is a Slurm job (executor-build.c). */
static int default_build_start(uv_loop_t *loop, const struct matrix *m,
			       struct build *b, struct strbuf *err)
{
	return m->executor.builds ?
	       executor_build_start(loop, &m->executor, m->path, b, err) :
	       build_start(loop, b, err);
}

/* Each is a no-op for a build it did not start. */
static void default_build_stop(struct build *b)
{
	build_stop(b);
	executor_build_stop(b);
}

const struct job_runner job_runner_default = {
	.build_start = default_build_start,
	.build_stop = default_build_stop,
	.boot_start = executor_start,
	.boot_stop = executor_stop,
	.boot_load = executor_load,
	.boot_free = executor_free,
};

/* ---- what the owner sees ---- */

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

enum job_stage job_stage(const struct job *j)
{
	return j->stage;
}

const struct record_job *job_queued(const struct job *j)
{
	return &j->rj;
}

double job_started_at(const struct job *j)
{
	return j->t0;
}

unsigned job_build_cores(const struct job *j)
{
	return j->building ? j->build_cores : 0;
}

int job_boot_tail(const struct job *j, unsigned *running)
{
	size_t waiting;

	*running = 0;
	if (!j->boot)
		return 0;
	j->runner->boot_load(j->boot, &waiting, running);
	return waiting == 0;
}

static void say(struct job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct job *j, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	j->env->ops->say(j->env->owner, sb.buf);
	strbuf_release(&sb);
}

/* A line about the job: "tree commit build: ...". */
static void say_job(struct job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say_job(struct job *j, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	say(j, "%s %.12s %s: %s", j->rj.tree, j->rj.commit_id, j->rj.build,
	    sb.buf);
	strbuf_release(&sb);
}

static int stopping(const struct job *j)
{
	return j->env->ops->stopping(j->env->owner);
}

static unsigned free_cores(const struct job *j)
{
	return j->env->ops->free_cores(j->env->owner, j);
}

static void changed(struct job *j)
{
	j->env->ops->changed(j->env->owner, j);
}

/* ---- the end of a job ---- */

static void job_maybe_done(struct job *j);

/* Every store op ends here first: a failed write stops the job. */
static void store_checked(struct job *j, int rc, const char *err)
{
	if (rc < 0 && !j->store_failed) {
		j->store_failed = 1;
		say_job(j, "store: %s", err);
		j->env->ops->store_failed(j->env->owner, j, err);
	}
}

/* After a write that nothing waits for but the end. */
static void written(struct job *j, int rc, const char *err)
{
	store_checked(j, rc, err);
	job_maybe_done(j);
}

static void job_free_cb(uv_handle_t *h)
{
	struct job *j = container_of((uv_timer_t *)h, struct job, heartbeat);

	job_plan_round_release(j);
	if (j->boot)
		j->runner->boot_free(j->boot);
	build_release(&j->build);
	kernel_release(&j->kernel);
	record_queue_job_release(&j->rj);
	record_build_plan_free(j->plan, j->n_plan);
	if (j->have_last_build)
		record_build_release(&j->last_build);
	free(j->todo);
	watch_diff_paths_free(j->changed, j->n_changed);
	record_strings_free(j->failed, j->n_failed);
	record_strings_free(j->retry, j->n_retry);
	free(j->kernel_err);
	free(j->image);
	free(j->web_image);
	free(j->batch);
	free(j->log_dir);
	free(j->repo);
	free(j->defer);
	free(j);
}

/* Over: the owner drops it, the loop frees it after. */
static void job_unlink(struct job *j)
{
	uv_close((uv_handle_t *)&j->heartbeat, job_free_cb);
	j->env->ops->ended(j->env->owner, j);
}

static void finished(struct job *j, int rc, const char *err)
{
	store_checked(j, rc, err);
	if (rc == 0)
		say_job(j, "%s after %.0f s", j->requeue ?
			"stopped, queued again" : j->defer ?
			"failed for the farm, queued again" : "done",
			timeutil_now() - j->t0);
	job_unlink(j);
	job_maybe_done(j);
}

static void job_end(struct job *j)
{
	double wait, not_before = 0;

	j->ended = 1;
	j->stage = JOB_ENDING;
	if (j->store_failed) {
		/* Left `running` in the store: recovered on resume. */
		say_job(j, "left for when the store takes writes again");
		job_unlink(j);
		return;
	}
	if (j->defer && !j->requeue) {
		wait = schedule_backoff_s(j->env->policy.retry_base_s,
					  j->rj.attempts);
		not_before = timeutil_now() + wait;
		say_job(j, "attempt %d failed: %s; next attempt in %.0f s",
			j->rj.attempts, j->defer, wait);
	}
	job_record_finish(j, not_before, finished);
}

/* End the job once nothing is in flight and no step is left to start. */
static void job_maybe_done(struct job *j)
{
	if (j->ended || j->building || j->booting || j->pending)
		return;
	if (j->stage == JOB_ENDING || j->requeue || j->store_failed)
		job_end(j);
}

/* A confirmation or bisection run on disk: the owner need not wait for
 * the end to see what it settles. */
static void finding_written(struct job *j, int rc, const char *err)
{
	store_checked(j, rc, err);
	if (rc == 0 && !j->ended)
		j->env->ops->finding_run(j->env->owner, j);
	job_maybe_done(j);
}

static void save_verdict(struct job *j, const char *cell, enum verdict v,
			 const char *reason, const char *line,
			 double started_at, double duration_s,
			 const char *log_path, const char *nonce,
			 const char *purpose, const struct boot_run *r)
{
	int finding = purpose && (!strcmp(purpose, "confirm") ||
				  !strcmp(purpose, "bisect"));

	j->env->ops->verdict(j->env->owner, j, v);
	job_record_run(j, cell, v, reason, line, started_at, duration_s,
		       log_path, nonce, purpose, r,
		       finding ? finding_written : written);
}

/* Every cell not yet recorded gets verdict v (BLOCKED or ERROR). */
static void save_all_cells(struct job *j, enum verdict v,
			   const char *reason, const char *line,
			   const char *log_path)
{
	double now = timeutil_now();
	size_t i;

	/* Once per cell: a build serves every run of it. */
	for (i = 0; i < j->n_todo; i++)
		save_verdict(j, j->todo[i].cell->name, v, reason, line, now,
			     0, log_path, NULL, j->todo[i].purpose, NULL);
}

/*
 * The farm failed this job: try it again later, or after the last
 * attempt give every cell left an ERROR with the reason.
 */
static void job_farm_failed(struct job *j, const char *reason,
			    const char *line, const char *log_path)
{
	if (j->rj.attempts < j->env->policy.attempts) {
		free(j->defer);
		j->defer = xstrdup(reason);
	} else {
		save_all_cells(j, VERDICT_ERROR, reason, line, log_path);
	}
}

/* ---- boot ---- */

static void boot_round(struct job *j);
static void boot_prechecked(void *data);

static void boot_started(struct boot_run *r, void *data)
{
	struct job *j = data;

	say(j, "  start  %s%s", r->cell->name,
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
	say(j, "  %-7s %s (%.1f s): %s", verdict_name(v), r->cell->name,
	    r->duration_s, r->judge.reason);
	if (v == VERDICT_ERROR && j->round <= j->env->policy.error_retries &&
	    !stopping(j)) {
		/* The farm's trouble may pass: run it again first. */
		job_plan_retry(j, r->cell->name);
	} else {
		save_verdict(j, r->cell->name, v, r->judge.reason,
			     r->judge.line, r->started_at, r->duration_s,
			     r->log_path, r->nonce, r->purpose, r);
	}
	j->env->ops->cores_changed(j->env->owner, j);
}

static void boot_all_done(void *data)
{
	struct job *j = data;

	j->booting = 0;
	job_plan_round_release(j);
	if (j->boot)
		j->runner->boot_free(j->boot);
	j->boot = NULL;
	if (j->n_retry && !j->requeue && !j->store_failed && !stopping(j)) {
		j->round++;
		boot_round(j);
		return;
	}
	j->stage = JOB_ENDING;
	job_maybe_done(j);
}

static void boot_round(struct job *j)
{
	const struct job_env *env = j->env;

	job_plan_round(j);
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
	if (probe_precheck_start(env->loop, j->runs, j->n_runs, j->image,
				 j->kernel_err, env->initrd, env->quiet,
				 boot_prechecked, j) < 0) {
		probe_precheck(j->runs, j->n_runs, j->image, j->kernel_err,
			       env->initrd, env->quiet);
		boot_prechecked(j);
	}
}

static void boot_prechecked(void *data)
{
	struct job *j = data;
	struct boot_opts opts = {
		.on_start = boot_started, .on_done = boot_done,
		.on_all_done = boot_all_done, .data = j,
	};

	if (j->requeue || j->store_failed || stopping(j)) {
		j->requeue = 1;
		/* Nothing started: this releases the runs. */
		boot_all_done(j);
		return;
	}
	opts.jobs = free_cores(j);
	if (!opts.jobs)
		opts.jobs = 1;
	/* Each cell's executor (local or Slurm) runs it: same verdicts. */
	j->boot = j->runner->boot_start(j->env->loop, j->m, j->runs,
					j->n_runs, &opts);
}

/* ---- verdicts carried over instead of boots ---- */

/* Each todo that found its bytes judged in its environment records that
 * verdict as its run (reused_from) and boots one run fewer. */
static void reuse_found(struct job *j, int rc, const char *err)
{
	size_t i;
	unsigned n = 0;

	store_checked(j, rc, err);
	for (i = 0; i < j->n_todo; i++) {
		struct job_todo *t = &j->todo[i];

		if (!t->reuse)
			continue;
		if (rc == 0 && !j->store_failed && !j->requeue) {
			say(j, "  %-7s %s (reused from run %lld): %s",
			    verdict_name(t->reuse->verdict), t->cell->name,
			    (long long)t->reuse->id, t->reuse->reason);
			j->env->ops->verdict(j->env->owner, j,
					     t->reuse->verdict);
			job_record_reused(j, t, written);
			t->runs--;
			n++;
		}
		record_run_release(t->reuse);
		free(t->reuse);
		t->reuse = NULL;
	}
	if (n)
		say_job(j, "%u cell%s not booted: the same image was judged "
			"there before", n, n == 1 ? "" : "s");
	if (j->requeue || j->store_failed) {
		job_maybe_done(j);
		return;
	}
	j->round = 1;
	boot_round(j);
}

/* Reuse needs the image's id and a tree that allows it; the todos
 * themselves say which may (purpose "test", a known environment). */
static void reuse_or_boot(struct job *j)
{
	if (j->tree && !j->tree->no_reuse && !j->kernel_err &&
	    j->kernel.id && *j->kernel.id) {
		job_record_reuse_find(j, reuse_found);
		return;
	}
	j->round = 1;
	boot_round(j);
}

/* Hashing a kernel image reads megabytes: not on the loop. */
struct identify_work {
	uv_work_t req;
	struct job *j;
	struct kernel k;
	struct strbuf err;
	int rc;
	/* The commit's changed paths, for the order of its runs. */
	char **paths;
	size_t n_paths;
	int diff_rc;
	struct strbuf diff_err;
};

static void identify_cb(uv_work_t *req)
{
	struct identify_work *w = container_of(req, struct identify_work, req);

	w->rc = kernel_identify(&w->k, w->j->image, &w->err);
	/* Nothing on the loop reads the todo while the job identifies. */
	job_plan_environments(w->j);
	w->diff_rc = watch_diff_paths(w->j->repo, w->j->rj.commit_id,
				      JOB_PLAN_DIFF_CAP, &w->paths,
				      &w->n_paths, &w->diff_err);
}

/*
 * Round 1 likeliest failures first. The order is only a head start: a
 * commit that cannot be diffed keeps matrix order and fails nothing.
 */
static void order_runs(struct job *j, struct identify_work *w)
{
	size_t counts[3];

	if (w->diff_rc < 0) {
		say_job(j, "no cell first for its paths: %s",
			w->diff_err.buf);
	} else {
		j->changed = w->paths;
		j->n_changed = w->n_paths;
		j->changed_wide = w->diff_rc > 0;
		w->paths = NULL;
		w->n_paths = 0;
	}
	job_plan_order(j, counts);
	if (counts[SCHEDULE_RANK_TOUCHED] || counts[SCHEDULE_RANK_FAILED])
		say_job(j, "first the %zu cell%s whose interface it touches, "
			"then the %zu that failed recently",
			counts[SCHEDULE_RANK_TOUCHED],
			counts[SCHEDULE_RANK_TOUCHED] == 1 ? "" : "s",
			counts[SCHEDULE_RANK_FAILED]);
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
	order_runs(j, w);
	watch_diff_paths_free(w->paths, w->n_paths);
	strbuf_release(&w->err);
	strbuf_release(&w->diff_err);
	free(w);
	if (j->requeue || j->store_failed) {
		job_maybe_done(j);
		return;
	}
	reuse_or_boot(j);
}

void job_boot(struct job *j)
{
	struct identify_work *w;

	j->stage = JOB_BOOTING;
	changed(j);
	j->log_dir = xstrfmt("%s/logs/%s/%.12s-%s", j->env->state_dir,
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
	strbuf_init(&w->diff_err, 0);
	j->pending++;
	uv_queue_work(j->env->loop, &w->req, identify_cb, identify_after);
}

/* ---- build ---- */

static void heartbeat_cb(uv_timer_t *t)
{
	struct job *j = container_of(t, struct job, heartbeat);

	say_job(j, "%s (%.0f s)", job_stage_name(j), timeutil_now() - j->t0);
}

static void build_spawned(struct build *b, int pgid, void *data)
{
	/* The group is in the store before the step can do anything. */
	job_record_pgid(data, pgid, written);
}

static void build_progress(struct build *b, const char *stage,
			   void *data)
{
	struct job *j = data;

	j->detail = stage;
	changed(j);
	say_job(j, "%s (%.0f s)", stage, timeutil_now() - j->t0);
}

/* The first error line, for a BLOCKED run's "line". */
static char *first_line(const char *s)
{
	return xstrndup(s ? s : "", s ? strcspn(s, "\n") : 0);
}

static void build_done(struct build *b, void *data)
{
	struct job *j = data;
	char *line;

	j->building = 0;
	j->build_cores = 0;
	uv_timer_stop(&j->heartbeat);
	say_job(j, "build %s in %.0f s%s%s", build_status_name(b->status),
		b->duration_s, b->reason && *b->reason ? ": " : "",
		b->reason ? b->reason : "");
	if (b->status == BUILD_INTERRUPTED || (stopping(j) &&
					      b->status != BUILD_OK &&
					      b->status != BUILD_FAILED)) {
		j->requeue = 1;
	} else if (b->status == BUILD_OK) {
		job_record_build(j, RECORD_BUILD_OK, written);
		j->image = xstrdup(b->image_path);
		j->stage = JOB_BUILT;
		if (stopping(j) || j->requeue) {
			j->requeue = 1;
		} else if (j->env->ops->may_boot(j->env->owner, j)) {
			job_boot(j);
			return;
		} else {
			say_job(j, "built; boots once the previous commit's "
				"are done");
			changed(j);
			j->env->ops->cores_changed(j->env->owner, j);
			return;
		}
	} else if (b->status == BUILD_FAILED) {
		job_record_build(j, RECORD_BUILD_FAILED, written);
		line = first_line(b->errors);
		save_all_cells(j, VERDICT_BLOCKED, b->reason, line,
			       b->log_path);
		free(line);
	} else {
		job_record_build(j, RECORD_BUILD_ERROR, written);
		line = first_line(b->errors);
		job_farm_failed(j, b->reason ? b->reason : "build error",
				line, b->log_path);
		free(line);
	}
	j->stage = JOB_ENDING;
	job_maybe_done(j);
}

/* The repository a tree's builds read: its path, or the poll's mirror. */
static char *tree_repo(const struct job *j)
{
	return j->tree->path ? xstrdup(j->tree->path) :
	       watch_mirror_dir(j->env->state_dir, j->tree->name);
}

static void start_build(struct job *j)
{
	struct strbuf err = STRBUF_INIT;

	j->repo = tree_repo(j);
	j->build.tree = j->tree;
	j->build.config = j->cfg;
	snprintf(j->build.commit, sizeof(j->build.commit), "%s",
		 j->rj.commit_id);
	j->build.state_dir = j->env->state_dir;
	j->build.repo_path = j->repo;
	j->build_cores = free_cores(j);
	if (!j->build_cores)
		j->build_cores = 1;
	j->build.jobs = j->build_cores;
	j->build.on_progress = build_progress;
	j->build.on_spawn = build_spawned;
	j->build.on_done = build_done;
	j->build.data = j;
	j->stage = JOB_BUILDING;
	j->detail = NULL;
	changed(j);
	if (j->runner->build_start(j->env->loop, j->m, &j->build, &err) < 0) {
		say_job(j, "cannot build: %s", err.buf);
		j->build_cores = 0;
		j->stage = JOB_ENDING;
		job_farm_failed(j, err.buf, "", "");
		strbuf_release(&err);
		job_maybe_done(j);
		return;
	}
	if (j->build_cores < j->env->cores)
		say_job(j, "building on %u of %u cores beside the previous "
			"commit's last boots", j->build_cores, j->env->cores);
	j->building = 1;
	uv_timer_start(&j->heartbeat, heartbeat_cb, JOB_HEARTBEAT_MS,
		       JOB_HEARTBEAT_MS);
	strbuf_release(&err);
}

/* ---- the start ---- */

/*
 * A web kernel (tree "release") is built already: Debian's image, as the
 * store's web_kernels row says. Its runs are what the daemon wanted
 * (scope wants, purpose "web"); it waits for its turn to boot like a
 * built commit.
 */
static void web_prepared(struct job *j)
{
	if (!j->web_image) {
		say_job(j, "not a web kernel of the store; dropping the job");
		j->stage = JOB_ENDING;
		return;
	}
	job_plan_todo(j);
	if (!j->n_todo) {
		say_job(j, "nothing left to run");
		j->stage = JOB_ENDING;
		return;
	}
	j->image = xstrdup(j->web_image);
	j->stage = JOB_BUILT;
	if (j->env->ops->may_boot(j->env->owner, j)) {
		job_boot(j);
		return;
	}
	say_job(j, "boots once the previous job's are done");
	changed(j);
	j->env->ops->cores_changed(j->env->owner, j);
}

static void prepared(struct job *j, int rc, const char *err)
{
	char *line;

	store_checked(j, rc, err);
	if (rc < 0)
		goto out;	/* the owner pauses; job_maybe_done ends it */
	if (j->requeue || stopping(j)) {
		j->requeue = 1;
		goto out;
	}
	if (j->web) {
		web_prepared(j);
		goto out;
	}
	if (!j->tree || !j->cfg) {
		say_job(j, "tree or build config is no longer in the matrix; "
			"dropping the job");
		j->stage = JOB_ENDING;
		goto out;
	}
	job_plan_todo(j);
	/* A matrix without cells still builds: does it compile? */
	if (!j->n_todo && j->m->n_cells) {
		say_job(j, "nothing left to run");
		j->stage = JOB_ENDING;
		goto out;
	}
	if (j->have_last_build &&
	    j->last_build.status == RECORD_BUILD_FAILED) {
		/* Built and failed before a restart: only the verdicts may
		 * be missing. */
		line = first_line(j->last_build.errors);
		save_all_cells(j, VERDICT_BLOCKED, j->last_build.reason,
			       line, j->last_build.log_path);
		free(line);
		j->stage = JOB_ENDING;
		goto out;
	}
	start_build(j);
out:
	job_maybe_done(j);
}

struct job *job_begin(const struct job_env *env, struct matrix *m,
		      struct record_job *rj)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->env = env;
	j->runner = env->runner ? env->runner : &job_runner_default;
	j->rj = *rj;
	memset(rj, 0, sizeof(*rj));
	j->m = m;
	j->t0 = timeutil_now();
	j->batch = xstrfmt("%s-%.12s-%s", j->rj.tree, j->rj.commit_id,
			   j->rj.build);
	j->web = !strcmp(j->rj.tree, RECORD_WEB_TREE);
	if (!j->web) {
		j->tree = matrix_find_tree(j->m, j->rj.tree);
		j->cfg = matrix_find_build(j->m, j->rj.build);
	}
	uv_timer_init(env->loop, &j->heartbeat);
	say_job(j, "%s (attempt %d)", j->rj.subject, j->rj.attempts);
	job_record_prepare(j, prepared);
	return j;
}

void job_stop(struct job *j)
{
	j->requeue = 1;
	if (j->building)
		j->runner->build_stop(&j->build);
	if (j->booting && j->boot)
		j->runner->boot_stop(j->boot);
	job_maybe_done(j);
}
