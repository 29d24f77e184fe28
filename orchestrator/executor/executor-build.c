/*
 * executor-build: a kernel build as a Slurm job (executor key builds:
 * true). The daemon writes the build's spec (the matrix file, the tree
 * and build config by name, the commit, the repository) into the shared
 * directory and submits `hvmatrix run-build --spec S --out D` with an argv
 * (the same fixed job script as the boots); the node builds with build.c,
 * exactly as the daemon would, into a state directory in the shared
 * directory (its persistent build trees, artifacts and build logs), and
 * writes result.json atomically (rundir.c). The daemon reads it back into
 * the struct build_job, so job.c sees a local build's results: a compile
 * error is BUILD_FAILED (the commit's cells BLOCKED), the farm's trouble
 * BUILD_ERROR.
 *
 * Slurm's own trouble is BUILD_ERROR with Slurm's reason, never FAILED: a
 * job that ends without a result (cancelled, node down, preempted, out of
 * time), one that never starts, one Slurm requeues. A failed sbatch is
 * looked up by its job name before anything else: nothing builds twice.
 * Files are for the thread pool, Slurm's clients are children of the
 * loop (slurm-cmd.c): nothing blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "executor/executor-slurm-priv.h"
#include "executor/rundir.h"
#include "executor/slurm-cmd.h"
#include "lib/spawn.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

#define XB_TICK_MS 1000
#define XB_GRACE_S 120		/* past the build's timeout: cancel */
#define XB_LOST_POLLS 4

enum xb_state { XB_STAGING, XB_SUBMITTING, XB_UNSURE, XB_QUEUED, XB_DONE };

struct xbuild {
	struct build_job *b;
	uv_loop_t *loop;
	const struct matrix_executor *cfg;
	enum xb_state st;
	char *name, *dir, *script, *self_exe, *spec_text;
	char id[32];
	char *submit_error;
	uv_timer_t tick;
	int busy, stopping, running, cancel_sent, closing;
	double submitted_at, running_at;
	char *ended;		/* "STATE (reason)" once Slurm ended it */
	int ended_scanned;
	unsigned missing;
	int scan_next;		/* the tick alternates: scan, squeue */
	struct xbuild *next;
};

/* The builds in flight, for executor_build_stop(b). */
static struct xbuild *active;

struct xb_work {
	uv_work_t req;
	struct xbuild *x;
	int rc;
	struct strbuf err;
	struct build_job res;	/* the node's results */
};

static void xb_pump(struct xbuild *x);

static void xb_closed(uv_handle_t *h)
{
	struct xbuild *x = h->data;

	free(x->name);
	free(x->dir);
	free(x->script);
	free(x->self_exe);
	free(x->spec_text);
	free(x->submit_error);
	free(x->ended);
	free(x);
}

/* x goes once it is done and nothing of it is in flight. */
static void xb_release(struct xbuild *x)
{
	if (x->st != XB_DONE || x->busy || x->closing)
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
	struct build_job *b = x->b;
	struct xbuild **pp;
	va_list ap;

	x->st = XB_DONE;
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
	    executor_slurm_script(x->script, &w->err) < 0)
		return;
	w->rc = 0;
}

static void scan_cb(uv_work_t *req)
{
	struct xb_work *w = container_of(req, struct xb_work, req);

	w->rc = rundir_build_result_read(&w->res, w->x->dir,
					 w->x->cfg->shared_dir, &w->err);
}

static void work_after(uv_work_t *req, int status)
{
	struct xb_work *w = container_of(req, struct xb_work, req);
	struct xbuild *x = w->x;
	int staging = x->st == XB_STAGING;

	(void)status;
	x->busy--;
	if (staging && w->rc < 0 && !x->stopping) {
		xb_finish(x, BUILD_ERROR, "shared directory: %s", w->err.buf);
	} else if (staging) {
		x->st = XB_SUBMITTING;	/* sbatch next */
	} else if (x->st == XB_QUEUED && !x->stopping && w->rc != 0) {
		struct build_job *b = x->b;

		if (w->rc > 0) {
			b->status = w->res.status;
			free(b->reason);
			free(b->errors);
			free(b->log_path);
			free(b->image_path);
			b->reason = w->res.reason;
			b->errors = w->res.errors;
			b->log_path = w->res.log_path;
			b->image_path = w->res.image_path;
			b->duration_s = w->res.duration_s;
			memset(&w->res, 0, sizeof(w->res));
			xb_finish(x, b->status, NULL);
		} else {
			xb_finish(x, BUILD_ERROR, "Slurm build job %s: %s",
				  x->id, w->err.buf);
		}
	} else if (x->st == XB_QUEUED && !x->stopping && x->ended &&
		   x->ended_scanned) {
		xb_finish(x, BUILD_ERROR, "Slurm build job %s ended %s "
			  "without a result", x->id, x->ended);
	}
	build_job_release(&w->res);
	strbuf_release(&w->err);
	free(w);
	xb_pump(x);
}

static void work_start(struct xbuild *x, uv_work_cb cb)
{
	struct xb_work *w = xcalloc(1, sizeof(*w));

	w->x = x;
	strbuf_init(&w->err, 0);
	if (x->ended)
		x->ended_scanned = 1;
	x->busy++;
	uv_queue_work(x->loop, &w->req, cb, work_after);
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
	if (x->stopping && x->st != XB_DONE)
		xb_finish(x, BUILD_INTERRUPTED, "stopped");
	else
		xb_pump(x);
}

static void scancel_start(struct xbuild *x)
{
	char **argv = xcalloc(3, sizeof(*argv));

	argv[0] = xstrdup("scancel");
	argv[1] = xstrdup(x->id);
	x->cancel_sent = 1;
	cmd_start(x, argv, scancel_done);
}

/* squeue of our job (by id, or by name when unsure) */
static void squeue_done(struct slurm_cmd *p)
{
	struct xbuild *x = p->data;
	double now = timeutil_now();
	char *f[4], *line = p->out_text.buf;
	int listed;

	x->busy--;
	if (x->stopping || x->st == XB_DONE || !slurm_cmd_ok(p)) {
		/* slurmctld away: ask again next tick */
		xb_pump(x);
		return;
	}
	line[strcspn(line, "\n")] = '\0';
	listed = *line && !slurm_cmd_fields(line, f, 4);
	if (x->st == XB_UNSURE) {
		if (!listed) {
			xb_finish(x, BUILD_ERROR, "sbatch: %s",
				  x->submit_error);
			return;
		}
		snprintf(x->id, sizeof(x->id), "%s", f[0]);
		x->st = XB_QUEUED;
		executor_slurm_say("build job %s (%s) was submitted after "
				   "all", x->id, x->name);
	}
	if (!listed) {
		if (!x->ended && ++x->missing >= XB_LOST_POLLS)
			x->ended = xstrfmt("LOST (Slurm no longer lists job "
					   "%s)", x->id);
		return;
	}
	x->missing = 0;
	switch (slurm_cmd_state_class(f[2])) {
	case SLURM_WAITING:
		if (x->running && !strcmp(f[2], "PENDING"))
			goto requeued;
		if (!x->running && now - x->submitted_at > x->cfg->pending_s) {
			scancel_start(x);
			xb_finish(x, BUILD_ERROR, "Slurm build job %s never "
				  "started in %u s (%s, %s)", x->id,
				  x->cfg->pending_s, f[2], f[3]);
		}
		return;
	case SLURM_REQUEUED:
	requeued:
		scancel_start(x);
		xb_finish(x, BUILD_ERROR, "Slurm requeued build job %s (%s, "
			  "%s): cancelled, not run twice", x->id, f[2], f[3]);
		return;
	case SLURM_ACTIVE:
		if (!x->running) {
			x->running = 1;
			x->running_at = now;
			if (x->b->on_progress)
				x->b->on_progress(x->b, "make", x->b->data);
		}
		if (x->b->config->timeout_s &&
		    now - x->running_at > x->b->config->timeout_s +
					  XB_GRACE_S) {
			scancel_start(x);
			xb_finish(x, BUILD_ERROR, "Slurm build job %s still "
				  "running %.0f s after it started: cancelled",
				  x->id, now - x->running_at);
		}
		return;
	case SLURM_ENDED:
		if (!x->ended)
			x->ended = xstrfmt("%s (%s)", f[2], f[3]);
		return;
	}
}

static void squeue_start(struct xbuild *x)
{
	char **argv = xcalloc(8, sizeof(*argv));

	argv[0] = xstrdup("squeue");
	argv[1] = xstrdup("--noheader");
	argv[2] = xstrdup("--states=all");
	argv[3] = x->st == XB_UNSURE ? xstrfmt("--name=%s", x->name) :
		  xstrfmt("--jobs=%s", x->id);
	argv[4] = xstrdup("--format=%i|%j|%T|%r");
	cmd_start(x, argv, squeue_done);
}

static void sbatch_done(struct slurm_cmd *p)
{
	struct xbuild *x = p->data;
	size_t n = strspn(p->out_text.buf, "0123456789");
	struct strbuf why = STRBUF_INIT;

	x->busy--;
	if (slurm_cmd_ok(p) && n > 0 && n < sizeof(x->id)) {
		memcpy(x->id, p->out_text.buf, n);
		x->id[n] = '\0';
		x->st = XB_QUEUED;
		if (x->b->on_progress)
			x->b->on_progress(x->b, "queued", x->b->data);
		xb_pump(x);
		return;
	}
	slurm_cmd_said(p, &why);
	if (p->spawn_error) {
		xb_finish(x, BUILD_ERROR, "sbatch: %s", why.buf);
	} else {
		/* Did slurmctld get it? squeue by name says first. */
		free(x->submit_error);
		x->submit_error = strbuf_detach(&why, NULL);
		x->st = XB_UNSURE;
		executor_slurm_say("sbatch failed for build %s: %s", x->name,
				   x->submit_error);
		xb_pump(x);
	}
	strbuf_release(&why);
}

static void sbatch_start(struct xbuild *x)
{
	const struct matrix_executor *cfg = x->cfg;
	unsigned t = x->b->config->timeout_s;
	char **argv = xcalloc(32, sizeof(*argv));
	size_t n = 0;

	argv[n++] = xstrdup("sbatch");
	argv[n++] = xstrdup("--parsable");
	argv[n++] = xstrdup("--no-requeue");
	argv[n++] = xstrfmt("--job-name=%s", x->name);
	argv[n++] = xstrfmt("--chdir=%s", x->dir);
	argv[n++] = xstrfmt("--output=%s/slurm.out", x->dir);
	argv[n++] = xstrdup("--nodes=1");
	argv[n++] = xstrdup("--ntasks=1");
	argv[n++] = xstrfmt("--cpus-per-task=%u", x->b->jobs ? x->b->jobs : 1);
	if (t)
		argv[n++] = xstrfmt("--time=%u", (t + XB_GRACE_S + 59) / 60);
	if (cfg->partition)
		argv[n++] = xstrfmt("--partition=%s", cfg->partition);
	if (cfg->account)
		argv[n++] = xstrfmt("--account=%s", cfg->account);
	if (cfg->qos)
		argv[n++] = xstrfmt("--qos=%s", cfg->qos);
	if (cfg->constraint)
		argv[n++] = xstrfmt("--constraint=%s", cfg->constraint);
	argv[n++] = xstrdup(x->script);
	argv[n++] = xstrdup(x->self_exe);
	argv[n++] = xstrdup(RUNDIR_RUN_BUILD);
	argv[n++] = xstrdup("--quiet");
	argv[n++] = xstrdup("--spec");
	argv[n++] = xstrfmt("%s/%s", x->dir, RUNDIR_SPEC);
	argv[n++] = xstrdup("--out");
	argv[n++] = xstrdup(x->dir);
	x->submitted_at = timeutil_now();
	x->st = XB_SUBMITTING;
	cmd_start(x, argv, sbatch_done);
}

/* One step at a time, as executor-slurm's pump. */
static void xb_pump(struct xbuild *x)
{
	if (x->st == XB_DONE) {
		xb_release(x);
		return;
	}
	if (x->busy)
		return;
	if (x->stopping) {
		if (x->st == XB_QUEUED && !x->cancel_sent)
			scancel_start(x);
		else
			xb_finish(x, BUILD_INTERRUPTED, "stopped");
		return;
	}
	if (x->st == XB_SUBMITTING && !x->submitted_at)
		sbatch_start(x);
}

static void tick_cb(uv_timer_t *t)
{
	struct xbuild *x = t->data;

	if (x->busy || x->st == XB_DONE || x->stopping)
		return;
	if (x->st == XB_UNSURE) {
		squeue_start(x);
		return;
	}
	if (x->st != XB_QUEUED)
		return;
	/* Alternate: the result first, then what Slurm says. */
	x->scan_next = !x->scan_next;
	if (x->scan_next)
		work_start(x, scan_cb);
	else
		squeue_start(x);
}

/* ---- the interface ---- */

static char *xb_nonce(void)
{
	unsigned char raw[8];
	size_t i;
	char hex[17];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		uint64_t v = (uint64_t)(timeutil_now() * 1e6) ^
			     (uint64_t)getpid() << 40;

		memcpy(raw, &v, sizeof(raw));
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return xstrdup(hex);
}

int executor_build_start(uv_loop_t *loop, const struct matrix_executor *cfg,
			 const char *matrix_path, struct build_job *b,
			 struct strbuf *err)
{
	struct xbuild *x;
	struct strbuf spec = STRBUF_INIT;
	char *nonce, *state, *abs_matrix;

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
	nonce = xb_nonce();
	x->name = xstrfmt("hvm-b-%s", nonce);
	free(nonce);
	x->dir = xstrfmt("%s/builds/runs/%s", cfg->shared_dir, x->name);
	x->script = xstrfmt("%s/%s", cfg->shared_dir, EXEC_SLURM_SCRIPT);
	x->self_exe = cfg->command ? xstrdup(cfg->command) :
		      realpath("/proc/self/exe", NULL);
	if (!x->self_exe)
		x->self_exe = xstrdup("hvmatrix");
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
	x->st = XB_STAGING;
	work_start(x, stage_cb);
	return 0;
}

void executor_build_stop(struct build_job *b)
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
