/*
 * executor-build: a kernel build as a Slurm job (executor key builds:
 * true). The daemon writes the build's spec (the matrix file, the tree
 * and build config by name, the commit, the repository) into the shared
 * directory and submits `hvmatrix run-build --spec S --out D` with an argv
 * (the same fixed job script as the boots); the node builds with build.c,
 * exactly as the daemon would, into a state directory in the shared
 * directory (its persistent build trees, artifacts and build logs), and
 * writes result.json atomically (rundir.c). The daemon reads it back into
 * the struct build, so job.c sees a local build's results: a compile
 * error is BUILD_FAILED (the commit's cells BLOCKED), the farm's trouble
 * BUILD_ERROR.
 *
 * Slurm's own trouble is BUILD_ERROR with Slurm's reason, never FAILED
 * (slurm-job.c decides it as for a run): a job that ends without a
 * result, one that never starts, one Slurm requeues. A failed sbatch is
 * looked up by its job name before anything else, and is BUILD_ERROR if
 * Slurm does not have it: nothing builds twice. Files are for the thread
 * pool, Slurm's clients are children of the loop (slurm-cmd.c): nothing
 * blocks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/executor-build.h"
#include "executor/rundir.h"
#include "executor/slurm-cmd.h"
#include "executor/slurm-job.h"
#include "lib/nonce.h"
#include "lib/spawn.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

#define XB_TICK_MS 1000
#define XB_GRACE_S 120		/* past the build's timeout: cancel */

struct xbuild {
	struct build *b;
	uv_loop_t *loop;
	const struct matrix_executor *cfg;
	struct slurm_job job;	/* job.name is name */
	char *name, *dir, *script, *self_exe, *spec_text;
	uv_timer_t tick;
	int busy, staged, stopping, cancel_sent, closing;
	int scan_next;		/* the tick alternates: scan, squeue */
	struct xbuild *next;
};

/* The builds in flight, for executor_build_stop(b). */
static struct xbuild *active;

struct xb_work {
	uv_work_t req;
	struct xbuild *x;
	int rc;
	int was_ended;		/* slurm_job_scan_start(), for a scan */
	struct strbuf err;
	struct build res;	/* the node's results */
};

static void xb_pump(struct xbuild *x);

static void xb_closed(uv_handle_t *h)
{
	struct xbuild *x = h->data;

	slurm_job_release(&x->job);
	free(x->name);
	free(x->dir);
	free(x->script);
	free(x->self_exe);
	free(x->spec_text);
	free(x);
}

/* x goes once it is done and nothing of it is in flight. */
static void xb_release(struct xbuild *x)
{
	if (x->job.st != SLURM_JOB_DONE || x->busy || x->closing)
		return;
	x->closing = 1;
	uv_close((uv_handle_t *)&x->tick, xb_closed);
}

/* The end: on_done once, then x goes (b is the caller's again). */
static void xb_finish(struct xbuild *x, enum build_status st,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void xb_finish(struct xbuild *x, enum build_status st,
		      const char *fmt, ...)
{
	struct build *b = x->b;
	struct xbuild **pp;
	va_list ap;

	x->job.st = SLURM_JOB_DONE;
	for (pp = &active; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	uv_timer_stop(&x->tick);
	if (fmt) {
		struct strbuf sb = STRBUF_INIT;

		va_start(ap, fmt);
		strbuf_vaddf(&sb, fmt, ap);
		va_end(ap);
		free(b->reason);
		b->reason = strbuf_detach(&sb, NULL);
		b->status = st;
		b->duration_s = timeutil_now() - b->started_at;
	}
	if (!b->errors)
		b->errors = xstrdup("");
	if (!b->log_path)
		b->log_path = xstrdup("");
	b->on_done(b, b->data);
	xb_release(x);
}

/* ---- the files, in the thread pool ---- */

static void stage_cb(uv_work_t *req)
{
	struct xb_work *w = container_of(req, struct xb_work, req);
	struct xbuild *x = w->x;

	w->rc = -1;
	/* The spec first: it creates the build's directory. */
	if (rundir_build_spec_write(x->dir, x->spec_text, &w->err) < 0 ||
	    slurm_job_script_write(x->script, &w->err) < 0)
		return;
	w->rc = 0;
}

static void stage_after(uv_work_t *req, int status)
{
	struct xb_work *w = container_of(req, struct xb_work, req);
	struct xbuild *x = w->x;

	(void)status;
	x->busy--;
	if (w->rc < 0 && !x->stopping)
		xb_finish(x, BUILD_ERROR, "shared directory: %s", w->err.buf);
	else
		x->staged = 1;	/* sbatch next */
	strbuf_release(&w->err);
	free(w);
	xb_pump(x);
}

static void scan_cb(uv_work_t *req)
{
	struct xb_work *w = container_of(req, struct xb_work, req);

	w->rc = rundir_build_result_read(&w->res, w->x->dir,
					 w->x->cfg->shared_dir, &w->err);
}

/* The node's results are b's: a local build's, as build.c gives them. */
static void take_result(struct build *b, struct build *res)
{
	b->status = res->status;
	free(b->reason);
	free(b->errors);
	free(b->log_path);
	free(b->image_path);
	b->reason = res->reason;
	b->errors = res->errors;
	b->log_path = res->log_path;
	b->image_path = res->image_path;
	b->duration_s = res->duration_s;
	memset(res, 0, sizeof(*res));
}

static void scan_after(uv_work_t *req, int status)
{
	struct xb_work *w = container_of(req, struct xb_work, req);
	struct xbuild *x = w->x;
	int live = x->job.st == SLURM_JOB_QUEUED && !x->stopping;

	(void)status;
	x->busy--;
	if (live && w->rc > 0) {
		take_result(x->b, &w->res);
		xb_finish(x, x->b->status, NULL);
	} else if (live && w->rc < 0) {
		xb_finish(x, BUILD_ERROR, "Slurm build job %s: %s",
			  x->job.id, w->err.buf);
	} else if (live && w->was_ended) {
		xb_finish(x, BUILD_ERROR, "Slurm build job %s ended %s "
			  "without a result", x->job.id, x->job.ended);
	}
	build_release(&w->res);
	strbuf_release(&w->err);
	free(w);
	xb_pump(x);
}

static void work_start(struct xbuild *x, uv_work_cb cb,
		       uv_after_work_cb after, int was_ended)
{
	struct xb_work *w = xcalloc(1, sizeof(*w));

	w->x = x;
	w->was_ended = was_ended;
	strbuf_init(&w->err, 0);
	x->busy++;
	uv_queue_work(x->loop, &w->req, cb, after);
}

/* ---- Slurm's clients ---- */

static void cmd_start(struct xbuild *x, char **argv,
		      void (*done)(struct slurm_cmd *))
{
	x->busy++;
	slurm_cmd_run(x->loop, argv, done, x, NULL);
	spawn_argv_free(argv);
}

static void scancel_done(struct slurm_cmd *p)
{
	struct xbuild *x = p->data;

	x->busy--;
	if (x->stopping && x->job.st != SLURM_JOB_DONE)
		xb_finish(x, BUILD_INTERRUPTED, "stopped");
	else
		xb_pump(x);
}

static void scancel_start(struct xbuild *x)
{
	const char *id = x->job.id;

	x->cancel_sent = 1;
	cmd_start(x, slurm_job_scancel_argv(&id, 1), scancel_done);
}

/* squeue of our job (by id, or by name when unsure) */
static void squeue_done(struct slurm_cmd *p)
{
	struct xbuild *x = p->data;
	struct strbuf why = STRBUF_INIT;
	char *f[4], *line = p->out_text.buf;
	int listed;

	x->busy--;
	if (x->stopping || x->job.st == SLURM_JOB_DONE || !slurm_cmd_ok(p)) {
		/* slurmctld away: ask again next tick */
		xb_pump(x);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	listed = *line && !slurm_cmd_fields(line, f, 4);
	if (x->job.st == SLURM_JOB_UNSURE) {
		if (!listed) {
			xb_finish(x, BUILD_ERROR, "sbatch: %s",
				  x->job.submit_error);
			return;
		}
		slurm_job_adopt(&x->job, f[0], -1);
	}
	if (!listed) {
		slurm_job_unlisted(&x->job);
		return;
	}
	switch (slurm_job_listed(&x->job, f[2], f[3], timeutil_now(), &why)) {
	case SLURM_JOB_STARTED:
		if (x->b->on_progress)
			x->b->on_progress(x->b, "make", x->b->data);
		break;
	case SLURM_JOB_CANCEL:
		scancel_start(x);
		xb_finish(x, BUILD_ERROR, "%s", why.buf);
		break;
	case SLURM_JOB_NOTHING:
		break;
	}
	strbuf_release(&why);
}

static void squeue_start(struct xbuild *x)
{
	char *filter = x->job.st == SLURM_JOB_UNSURE ?
		       xstrfmt("--name=%s", x->name) :
		       xstrfmt("--jobs=%s", x->job.id);

	cmd_start(x, slurm_job_squeue_argv(filter, 0), squeue_done);
	free(filter);
}

static void sbatch_done(struct slurm_cmd *p)
{
	struct xbuild *x = p->data;
	int rc;

	x->busy--;
	rc = slurm_job_sbatch_done(&x->job, p, -1);
	if (rc < 0) {
		xb_finish(x, BUILD_ERROR, "sbatch: %s", x->job.submit_error);
		return;
	}
	if (rc > 0) {
		if (x->b->on_progress)
			x->b->on_progress(x->b, "queued", x->b->data);
	} else {
		/* Did slurmctld get it? squeue by name says first. */
		slurm_job_say("sbatch failed for build %s: %s", x->name,
			      x->job.submit_error);
	}
	xb_pump(x);
}

static void sbatch_start(struct xbuild *x)
{
	unsigned t = x->b->config->timeout_s;
	struct slurm_job_request rq = {
		.name = x->name, .chdir = x->dir,
		.cpus = x->b->jobs ? x->b->jobs : 1,
		.minutes = t ? (t + XB_GRACE_S + 59) / 60 : 0,
	};
	char *output = xstrfmt("%s/slurm.out", x->dir);
	char *spec = xstrfmt("%s/%s", x->dir, RUNDIR_SPEC);
	const char *cmd[] = {
		x->self_exe, RUNDIR_RUN_BUILD, "--quiet", "--spec", spec,
		"--out", x->dir, NULL,
	};

	rq.output = output;
	x->job.submitted_at = timeutil_now();
	x->job.st = SLURM_JOB_SUBMITTING;
	cmd_start(x, slurm_job_sbatch_argv(&rq, x->cfg, x->script, cmd),
		  sbatch_done);
	free(output);
	free(spec);
}

/* One step at a time, as executor-slurm's pump. */
static void xb_pump(struct xbuild *x)
{
	if (x->job.st == SLURM_JOB_DONE) {
		xb_release(x);
		return;
	}
	if (x->busy)
		return;
	if (x->stopping) {
		if (x->job.st == SLURM_JOB_QUEUED && !x->cancel_sent)
			scancel_start(x);
		else
			xb_finish(x, BUILD_INTERRUPTED, "stopped");
		return;
	}
	if (x->job.st == SLURM_JOB_NEW && x->staged)
		sbatch_start(x);
}

static void tick_cb(uv_timer_t *t)
{
	struct xbuild *x = t->data;

	if (x->busy || x->job.st == SLURM_JOB_DONE || x->stopping)
		return;
	if (x->job.st == SLURM_JOB_UNSURE) {
		squeue_start(x);
		return;
	}
	if (x->job.st != SLURM_JOB_QUEUED)
		return;
	/* Alternate: the result first, then what Slurm says. */
	x->scan_next = !x->scan_next;
	if (x->scan_next)
		work_start(x, scan_cb, scan_after,
			   slurm_job_scan_start(&x->job));
	else
		squeue_start(x);
}

/* ---- the interface ---- */

int executor_build_start(uv_loop_t *loop, const struct matrix_executor *cfg,
			 const char *matrix_path, struct build *b,
			 struct strbuf *err)
{
	struct xbuild *x;
	struct strbuf spec = STRBUF_INIT;
	char nonce[NONCE_LEN + 1], *state, *abs_matrix;

	if (!cfg->shared_dir || !matrix_path || !*matrix_path) {
		strbuf_addstr(err, "builds on Slurm need the executor's "
			      "shared_dir and a matrix file");
		return -1;
	}
	/* The node loads it by this path (a few stats, once a build). */
	abs_matrix = realpath(matrix_path, NULL);
	if (!abs_matrix) {
		strbuf_addf(err, "%s: %s", matrix_path, strerror(errno));
		return -1;
	}
	if (!b->tree || !b->config || !b->repo_path || !b->on_done) {
		strbuf_addstr(err, "build: incomplete job");
		free(abs_matrix);
		return -1;
	}
	x = xcalloc(1, sizeof(*x));
	x->b = b;
	x->loop = loop;
	x->cfg = cfg;
	nonce_make(nonce);
	x->name = xstrfmt("hvm-b-%s", nonce);
	slurm_job_init(&x->job, "build job", cfg->pending_s);
	x->job.name = x->name;
	if (b->config->timeout_s)
		x->job.limit_s = b->config->timeout_s + XB_GRACE_S;
	x->dir = xstrfmt("%s/builds/runs/%s", cfg->shared_dir, x->name);
	x->script = xstrfmt("%s/%s", cfg->shared_dir, SLURM_JOB_SCRIPT);
	x->self_exe = slurm_job_command(cfg);
	state = xstrfmt("%s/builds", cfg->shared_dir);
	rundir_build_spec_format(&spec, abs_matrix, b, state);
	x->spec_text = strbuf_detach(&spec, NULL);
	free(state);
	free(abs_matrix);
	b->status = BUILD_PENDING;
	b->started_at = timeutil_now();
	uv_timer_init(loop, &x->tick);
	x->tick.data = x;
	uv_timer_start(&x->tick, tick_cb, XB_TICK_MS, XB_TICK_MS);
	x->next = active;
	active = x;
	if (b->on_progress)
		b->on_progress(b, "submit", b->data);
	work_start(x, stage_cb, stage_after, 0);
	return 0;
}

void executor_build_stop(struct build *b)
{
	struct xbuild *x;

	for (x = active; x; x = x->next)
		if (x->b == b)
			break;
	if (!x || x->stopping)
		return;
	x->stopping = 1;
	xb_pump(x);
}
