/*
 * executor-slurm: a round of runs as Slurm batch jobs. Each run gets a
 * directory in the shared directory (its spec in, its result out), the
 * round's kernel and payload are copied there once (temp + rename), and
 * each run is submitted with `sbatch --parsable` and an argv: a fixed job
 * script that execs its arguments, and `hvmatrix run-cell --spec S --out D`
 * after it. No shell string is ever built from the cell.
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
 * so nothing runs twice. Jobs are submitted --no-requeue: Slurm never
 * reruns one behind our back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "fsutil.h"
#include "spawn.h"
#include "timeutil.h"
#include "xmalloc.h"

#define EXEC_SLURM_TICK_MS 250
#define EXEC_SLURM_OUT_MAX (1u << 20)	/* of a tool's stdout we keep */
#define EXEC_SLURM_RUN_GRACE_S 60	/* past the cell's timeout: cancel */
#define EXEC_SLURM_LOST_POLLS 4		/* unlisted this often: lost */
#define EXEC_SLURM_SCRIPT "hvmatrix-job.sh"
#define EXEC_SLURM_SUBMIT_TRIES 3	/* sbatch refusals, squeue working */
#define EXEC_SLURM_DOWN_POLL_S 2.0	/* squeue while slurmctld is down */
/* A Slurm client waits and retries while slurmctld is away: past this,
 * it is killed and slurmctld counts as down. */
#define EXEC_SLURM_CMD_TIMEOUT_MS 5000

enum sjob_state {
	SJ_NEW = 0,	/* to submit */
	SJ_SUBMITTING,	/* sbatch running */
	SJ_UNSURE,	/* sbatch failed: look it up by name first */
	SJ_QUEUED,	/* Slurm has it (job id known) */
	SJ_DONE,	/* reported to on_done */
};

struct sjob {
	struct boot_run *r;
	enum sjob_state st;
	char *name;		/* Slurm job name: hvm-NONCE */
	char *dir;		/* the run's directory, shared */
	char id[32];		/* Slurm job id */
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

/* A child (sbatch, squeue, scancel) and what it wrote. */
struct sproc {
	struct executor_slurm *s;
	uv_process_t proc;
	uv_pipe_t out, err;
	uv_timer_t timer;	/* EXEC_SLURM_CMD_TIMEOUT_MS */
	int timed_out;
	struct strbuf out_text, err_text;
	int open;		/* handles not closed yet */
	int64_t status;
	int signal;
	int spawn_error;	/* uv_spawn failed: -errno */
	void (*done)(struct sproc *p);
	struct sjob *job;	/* sbatch: the run being submitted */
};

struct scan_item {
	struct sjob *job;
	char *dir, *log_path;
	char *moved;		/* where the console log went, or NULL */
	int was_ended;
	int rc;			/* executor_result_read */
	struct executor_result res;
	struct strbuf err;
};

struct scan_work {
	uv_work_t req;
	struct executor_slurm *s;
	struct scan_item *items;
	size_t n;
};

struct stage_work {
	uv_work_t req;
	struct executor_slurm *s;
	struct strbuf err;
	int rc;
};

struct executor_slurm {
	uv_loop_t *loop;
	const struct matrix_executor *cfg;
	struct boot_opts opts;
	struct sjob *jobs;
	size_t n, n_done;
	uv_timer_t tick;
	int busy;		/* a step of the pump is in flight */
	int staged;		/* the artifacts are in the shared dir */
	int stopping, stop_sent, finished, freed;
	int ctld_down;
	double down_since, next_squeue;
	char *self_exe;		/* hvmatrix on the nodes */
	char *stage_dir, *kernel, *initrd, *script;
	char **cancel;		/* job ids to scancel */
	size_t n_cancel, alloc_cancel;
};

static void pump(struct executor_slurm *s);
static int squeue_start(struct executor_slurm *s);

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The daemon's log is stderr: one line per event Slurm caused. */
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("slurm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- children ---- */

static void sproc_closed(uv_handle_t *h)
{
	struct sproc *p = h->data;

	if (--p->open)
		return;
	p->done(p);
	strbuf_release(&p->out_text);
	strbuf_release(&p->err_text);
	free(p);
}

static void sproc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[65536];

	(void)h;
	(void)hint;
	/* The loop is one thread and each read is consumed at once. */
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void sproc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct sproc *p = st->data;
	struct strbuf *sb = st == (uv_stream_t *)&p->out ? &p->out_text :
			    &p->err_text;

	if (n > 0 && sb->len < EXEC_SLURM_OUT_MAX)
		strbuf_add(sb, buf->base, (size_t)n);
	if (n < 0)
		uv_close((uv_handle_t *)st, sproc_closed);
}

static void sproc_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct sproc *p = proc->data;

	p->status = status;
	p->signal = sig;
	uv_close((uv_handle_t *)proc, sproc_closed);
	uv_close((uv_handle_t *)&p->timer, sproc_closed);
}

static void sproc_timeout(uv_timer_t *t)
{
	struct sproc *p = t->data;

	p->timed_out = 1;
	uv_process_kill(&p->proc, SIGKILL);
}

/* Start argv (NULL-terminated); done(p) once it exited and its pipes
 * closed, also when it could not start (p->spawn_error). */
static void sproc_run(struct executor_slurm *s, char **argv,
		      void (*done)(struct sproc *), struct sjob *job)
{
	struct sproc *p = xcalloc(1, sizeof(*p));
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	int rc;

	p->s = s;
	p->done = done;
	p->job = job;
	strbuf_init(&p->out_text, 0);
	strbuf_init(&p->err_text, 0);
	uv_pipe_init(s->loop, &p->out, 0);
	uv_pipe_init(s->loop, &p->err, 0);
	uv_timer_init(s->loop, &p->timer);
	p->out.data = p->err.data = p->proc.data = p->timer.data = p;
	memset(&po, 0, sizeof(po));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&p->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&p->err;
	po.file = argv[0];
	po.args = argv;
	po.exit_cb = sproc_exit;
	po.stdio = stdio;
	po.stdio_count = 3;
	s->busy++;
	rc = uv_spawn(s->loop, &p->proc, &po);
	if (rc < 0) {
		p->spawn_error = rc;
		p->status = 127;
		p->open = 4;
		uv_close((uv_handle_t *)&p->proc, sproc_closed);
		uv_close((uv_handle_t *)&p->out, sproc_closed);
		uv_close((uv_handle_t *)&p->err, sproc_closed);
		uv_close((uv_handle_t *)&p->timer, sproc_closed);
		return;
	}
	p->open = 4;
	uv_timer_start(&p->timer, sproc_timeout, EXEC_SLURM_CMD_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&p->out, sproc_alloc, sproc_read);
	uv_read_start((uv_stream_t *)&p->err, sproc_alloc, sproc_read);
}

/* The first line of what a tool said, for a reason. */
static void sproc_said(const struct sproc *p, struct strbuf *out)
{
	const char *t = p->err_text.len ? p->err_text.buf : p->out_text.buf;

	if (p->spawn_error) {
		strbuf_addf(out, "cannot run it: %s",
			    uv_strerror(p->spawn_error));
		return;
	}
	if (p->timed_out) {
		strbuf_addf(out, "no answer in %d s",
			    EXEC_SLURM_CMD_TIMEOUT_MS / 1000);
		return;
	}
	strbuf_add(out, t, strcspn(t, "\n"));
	if (!out->len)
		strbuf_addf(out, "exit status %lld", (long long)p->status);
}

static int sproc_ok(const struct sproc *p)
{
	return !p->spawn_error && !p->timed_out && p->status == 0 &&
	       p->signal == 0;
}

/* ---- the end of runs ---- */

/* The round's kernel and payload copies go once every job is over. */
struct unstage_work {
	uv_work_t req;
	char *paths[3];		/* kernel, initrd, then the directory */
};

static void unstage_cb(uv_work_t *req)
{
	struct unstage_work *w = container_of(req, struct unstage_work, req);

	unlink(w->paths[0]);
	unlink(w->paths[1]);
	rmdir(w->paths[2]);
}

static void unstage_after(uv_work_t *req, int status)
{
	struct unstage_work *w = container_of(req, struct unstage_work, req);
	size_t i;

	(void)status;
	for (i = 0; i < 3; i++)
		free(w->paths[i]);
	free(w);
}

static void maybe_finish(struct executor_slurm *s)
{
	struct unstage_work *w;

	if (s->finished || s->busy)
		return;
	if (s->n_done < s->n)
		return;
	s->finished = 1;
	uv_timer_stop(&s->tick);
	w = xcalloc(1, sizeof(*w));
	w->paths[0] = xstrdup(s->kernel);
	w->paths[1] = xstrdup(s->initrd);
	w->paths[2] = xstrdup(s->stage_dir);
	uv_queue_work(s->loop, &w->req, unstage_cb, unstage_after);
	if (s->opts.on_all_done)
		s->opts.on_all_done(s->opts.data);
}

static void job_report(struct executor_slurm *s, struct sjob *j)
{
	j->st = SJ_DONE;
	s->n_done++;
	if (s->opts.on_done)
		s->opts.on_done(j->r, s->opts.data);
}

/* The farm's trouble: ERROR with why, never FAIL. */
static void job_error(struct executor_slurm *s, struct sjob *j,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void job_error(struct executor_slurm *s, struct sjob *j,
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
	job_report(s, j);
}

static void want_cancel(struct executor_slurm *s, const struct sjob *j)
{
	if (!j->id[0])
		return;
	ALLOC_GROW(s->cancel, s->n_cancel + 1, s->alloc_cancel);
	s->cancel[s->n_cancel++] = xstrdup(j->id);
}

/* ---- staging: the artifacts and the specs, in the thread pool ---- */

static int stage_copy(const char *from, const char *to, struct strbuf *err)
{
	int rc = fsutil_copy(from, to);

	if (rc < 0)
		strbuf_addf(err, "cannot copy %s to %s: %s", from, to,
			    strerror(-rc));
	return rc < 0 ? -1 : 0;
}

static void stage_cb(uv_work_t *req)
{
	struct stage_work *w = container_of(req, struct stage_work, req);
	struct executor_slurm *s = w->s;
	static const char script[] =
		"#!/bin/sh\n"
		"# hvmatrix's Slurm job: run the command given after it.\n"
		"exec \"$@\"\n";
	struct strbuf spec = STRBUF_INIT;
	size_t i;
	int rc;

	w->rc = -1;
	rc = fsutil_mkdir_p(s->stage_dir, 0755);
	if (rc < 0) {
		strbuf_addf(&w->err, "cannot create %s: %s", s->stage_dir,
			    strerror(-rc));
		goto out;
	}
	/* Every node reads these: whole files only (temp + rename). */
	if (stage_copy(s->jobs[0].r->kernel, s->kernel, &w->err) ||
	    stage_copy(s->jobs[0].r->initrd, s->initrd, &w->err))
		goto out;
	rc = fsutil_write_atomic(s->script, script, sizeof(script) - 1);
	if (rc < 0 || chmod(s->script, 0755) < 0) {
		strbuf_addf(&w->err, "cannot write %s: %s", s->script,
			    strerror(rc < 0 ? -rc : errno));
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];
		char *path;

		if (j->st == SJ_DONE)
			continue;
		rc = fsutil_mkdir_p(j->dir, 0755);
		if (rc < 0) {
			strbuf_addf(&w->err, "cannot create %s: %s", j->dir,
				    strerror(-rc));
			goto out;
		}
		strbuf_reset(&spec);
		executor_spec_format(&spec, j->r->cell, s->kernel, s->initrd);
		path = xstrfmt("%s/%s", j->dir, EXECUTOR_SPEC);
		rc = fsutil_write_atomic(path, spec.buf, spec.len);
		free(path);
		if (rc < 0) {
			strbuf_addf(&w->err, "cannot write the spec in %s: %s",
				    j->dir, strerror(-rc));
			goto out;
		}
	}
	w->rc = 0;
out:
	strbuf_release(&spec);
}

static void stage_after(uv_work_t *req, int status)
{
	struct stage_work *w = container_of(req, struct stage_work, req);
	struct executor_slurm *s = w->s;
	size_t i;

	s->busy--;
	for (i = 0; i < s->n; i++)
		if (s->jobs[i].decided) {
			s->n_done++;
			if (s->opts.on_done)
				s->opts.on_done(s->jobs[i].r, s->opts.data);
		}
	if (w->rc < 0 || status < 0) {
		say("%s", w->err.len ? w->err.buf : uv_strerror(status));
		for (i = 0; i < s->n; i++)
			if (s->jobs[i].st != SJ_DONE && !s->stopping)
				job_error(s, &s->jobs[i], "shared directory: "
					  "%s", w->err.buf);
	} else {
		s->staged = 1;
	}
	strbuf_release(&w->err);
	free(w);
	pump(s);
}

/* ---- scan: results written by the nodes, in the thread pool ---- */

/*
 * The run's console into the daemon's log path (".zst" added for a
 * compressed one, as boot.c does); it->moved says where it went.
 */
static void scan_take_log(struct scan_item *it, const char *name)
{
	const char *dot = strrchr(name, '.');
	char *from = xstrfmt("%s/%s", it->dir, name);
	char *to = dot && !strcmp(dot, ".zst") ?
		   xstrfmt("%s.zst", it->log_path) : xstrdup(it->log_path);

	/* Same file system: a rename; else a copy (temp + rename). */
	if (rename(from, to) == 0) {
		it->moved = to;
		to = NULL;
	} else if (fsutil_copy(from, to) == 0) {
		unlink(from);
		it->moved = to;
		to = NULL;
	}
	free(from);
	free(to);
}

static void scan_cb(uv_work_t *req)
{
	struct scan_work *w = container_of(req, struct scan_work, req);
	size_t i;

	for (i = 0; i < w->n; i++) {
		struct scan_item *it = &w->items[i];

		it->rc = executor_result_read(&it->res, it->dir, &it->err);
		if (it->rc > 0 && it->res.log)
			scan_take_log(it, it->res.log);
		else if (it->rc == 0 && it->was_ended)
			/* Killed mid-run: its partial console still says
			 * how far it got. */
			scan_take_log(it, EXECUTOR_CONSOLE);
	}
}

static void scan_after(uv_work_t *req, int status)
{
	struct scan_work *w = container_of(req, struct scan_work, req);
	struct executor_slurm *s = w->s;
	size_t i;

	s->busy--;
	for (i = 0; i < w->n; i++) {
		struct scan_item *it = &w->items[i];
		struct sjob *j = it->job;

		if (j->st != SJ_DONE && !s->stopping && it->moved) {
			/* The recorded path is the file's, as boot.c's. */
			free(j->r->log_path);
			j->r->log_path = it->moved;
			it->moved = NULL;
		}
		if (j->st != SJ_DONE && !s->stopping) {
			if (it->rc > 0) {
				struct boot_run *r = j->r;

				judge_set(&r->judge, it->res.verdict,
					  it->res.reason, it->res.line);
				if (it->res.nonce &&
				    strlen(it->res.nonce) < sizeof(r->nonce))
					snprintf(r->nonce, sizeof(r->nonce),
						 "%s", it->res.nonce);
				r->started_at = it->res.started_at;
				r->duration_s = it->res.duration_s;
				job_report(s, j);
			} else if (it->rc < 0) {
				job_error(s, j, "Slurm job %s: %s", j->id,
					  it->err.buf);
			} else if (it->was_ended) {
				job_error(s, j, "Slurm job %s ended %s "
					  "without a verdict", j->id,
					  j->ended);
			}
		}
		executor_result_release(&it->res);
		strbuf_release(&it->err);
		free(it->dir);
		free(it->log_path);
		free(it->moved);
	}
	free(w->items);
	free(w);
	if (s->stopping || !squeue_start(s))
		pump(s);
}

static int scan_start(struct executor_slurm *s)
{
	struct scan_work *w;
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->jobs[i].st == SJ_QUEUED)
			n++;
	if (!n)
		return 0;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->items = xcalloc(n, sizeof(*w->items));
	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];
		struct scan_item *it;

		if (j->st != SJ_QUEUED)
			continue;
		it = &w->items[w->n++];
		it->job = j;
		it->dir = xstrdup(j->dir);
		it->log_path = xstrdup(j->r->log_path);
		it->was_ended = j->ended && j->ended_scanned;
		strbuf_init(&it->err, 0);
		if (j->ended)
			j->ended_scanned = 1;
	}
	s->busy++;
	uv_queue_work(s->loop, &w->req, scan_cb, scan_after);
	return 1;
}

/* ---- squeue: what Slurm says of each job ---- */

static struct sjob *job_by_name(struct executor_slurm *s, const char *name,
				size_t len)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->jobs[i].name) == len &&
		    !memcmp(s->jobs[i].name, name, len))
			return &s->jobs[i];
	return NULL;
}

static int state_is(const char *st, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(st, *list))
			return 1;
	return 0;
}

/* One line of `squeue -o %i|%j|%T|%r`. */
static void squeue_line(struct executor_slurm *s, char *line, double now)
{
	static const char *const waiting[] = {
		"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD",
		"REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED", NULL
	};
	static const char *const active[] = {
		"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING",
		"RESIZING", "STOPPED", NULL
	};
	char *f[4];
	struct sjob *j;
	size_t k;
	const struct cell *c;
	double limit;

	for (k = 0; k < 4; k++) {
		f[k] = line;
		line = strchrnul(line, '|');
		if (*line)
			*line++ = '\0';
		else if (k < 3)
			return;
	}
	j = job_by_name(s, f[1], strlen(f[1]));
	if (!j || j->st == SJ_DONE || j->st == SJ_SUBMITTING)
		return;
	if (j->st == SJ_UNSURE) {
		/* sbatch failed but Slurm has it: adopt, never resubmit (an
		 * older job of the same name cannot be: names are nonces). */
		snprintf(j->id, sizeof(j->id), "%s", f[0]);
		j->st = SJ_QUEUED;
		say("job %s (%s) was submitted after all", j->id, j->name);
	}
	if (strcmp(j->id, f[0]))
		return;		/* an older job of the same name */
	j->listed = 1;
	j->missing = 0;
	c = j->r->cell;
	if (state_is(f[2], waiting)) {
		if (!j->running && now - j->submitted_at > s->cfg->pending_s) {
			want_cancel(s, j);
			job_error(s, j, "Slurm job %s never started in %u s "
				  "(%s, %s)", j->id, s->cfg->pending_s, f[2],
				  f[3]);
		}
		return;
	}
	if (state_is(f[2], active)) {
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
	}
	/* Any other state is an end: the next scan says whether it left a
	 * result (COMPLETED) or not (CANCELLED, NODE_FAIL, PREEMPTED, ...). */
	if (!j->ended)
		j->ended = xstrfmt("%s (%s)", f[2], f[3]);
}

static void squeue_done(struct sproc *p)
{
	struct executor_slurm *s = p->s;
	double now = timeutil_now();
	char *line, *next;
	size_t i;

	s->busy--;
	if (!sproc_ok(p)) {
		struct strbuf why = STRBUF_INIT;

		sproc_said(p, &why);
		s->next_squeue = now + EXEC_SLURM_DOWN_POLL_S;
		if (!s->ctld_down || !s->down_since) {
			say("slurmctld does not answer (squeue: %s); "
			    "submission paused", why.buf);
			s->ctld_down = 1;
			s->down_since = now;
		}
		strbuf_release(&why);
		pump(s);
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
	pump(s);
}

static int squeue_start(struct executor_slurm *s)
{
	struct strbuf names = STRBUF_INIT;
	char **argv;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct sjob *j = &s->jobs[i];

		if (j->st != SJ_QUEUED && j->st != SJ_UNSURE)
			continue;
		strbuf_addf(&names, "%s%s", names.len ? "," : "", j->name);
	}
	if (!names.len || (s->ctld_down && timeutil_now() < s->next_squeue)) {
		strbuf_release(&names);
		return 0;
	}
	argv = xcalloc(8, sizeof(*argv));
	argv[0] = xstrdup("squeue");
	argv[1] = xstrdup("--noheader");
	argv[2] = xstrdup("--states=all");
	argv[3] = xstrfmt("--name=%s", names.buf);
	argv[4] = xstrdup("--format=%i|%j|%T|%r");
	sproc_run(s, argv, squeue_done, NULL);
	spawn_argv_free(argv);
	strbuf_release(&names);
	return 1;
}

/* ---- sbatch ---- */

static void sbatch_done(struct sproc *p)
{
	struct executor_slurm *s = p->s;
	struct sjob *j = p->job;
	struct strbuf why = STRBUF_INIT;
	size_t n = strspn(p->out_text.buf, "0123456789");

	s->busy--;
	if (sproc_ok(p) && n > 0 && n < sizeof(j->id)) {
		memcpy(j->id, p->out_text.buf, n);
		j->id[n] = '\0';
		j->st = SJ_QUEUED;
		pump(s);
		return;
	}
	sproc_said(p, &why);
	free(j->submit_error);
	j->submit_error = strbuf_detach(&why, NULL);
	if (p->spawn_error) {
		job_error(s, j, "sbatch: %s", j->submit_error);
	} else {
		/* Did slurmctld get it? squeue says before any retry, and
		 * nothing else is submitted until it has. */
		j->submit_failures++;
		j->st = SJ_UNSURE;
		s->ctld_down = 1;
		say("sbatch failed for %s: %s; submission paused", j->name,
		    j->submit_error);
	}
	strbuf_release(&why);
	pump(s);
}

static void add_opt(char **argv, size_t *n, const char *opt, const char *v)
{
	if (v)
		argv[(*n)++] = xstrfmt("%s=%s", opt, v);
}

static int sbatch_start(struct executor_slurm *s)
{
	const struct matrix_executor *cfg = s->cfg;
	struct sjob *j = NULL;
	const struct cell *c;
	char **argv;
	size_t i, n = 0;
	unsigned minutes, mem;

	if (s->ctld_down || !s->staged)
		return 0;
	for (i = 0; i < s->n && !j; i++)
		if (s->jobs[i].st == SJ_NEW)
			j = &s->jobs[i];
	if (!j)
		return 0;
	c = j->r->cell;
	/* Slurm's limit is in minutes: the run's own timeout, the dom0's
	 * start for Xen, and room for run-cell around QEMU. */
	minutes = (j->r->timeout_s + (cell_is_xen(c) ? BOOT_DOM0_BOOT_S : 0) +
		   EXEC_SLURM_RUN_GRACE_S + 59) / 60;
	mem = (c->backend == CELL_BACKEND_XEN_LIBXL ? BOOT_DOM0_MEMORY_MB :
	       c->memory_mb) + 256;
	argv = xcalloc(32, sizeof(*argv));
	argv[n++] = xstrdup("sbatch");
	argv[n++] = xstrdup("--parsable");
	argv[n++] = xstrdup("--no-requeue");
	argv[n++] = xstrfmt("--job-name=%s", j->name);
	argv[n++] = xstrfmt("--chdir=%s", j->dir);
	argv[n++] = xstrfmt("--output=%s/slurm.out", j->dir);
	argv[n++] = xstrdup("--nodes=1");
	argv[n++] = xstrdup("--ntasks=1");
	argv[n++] = xstrfmt("--cpus-per-task=%u", c->smp);
	argv[n++] = xstrfmt("--mem=%u", mem);
	argv[n++] = xstrfmt("--time=%u", minutes);
	add_opt(argv, &n, "--partition", cfg->partition);
	add_opt(argv, &n, "--account", cfg->account);
	add_opt(argv, &n, "--qos", cfg->qos);
	add_opt(argv, &n, "--constraint", cfg->constraint);
	argv[n++] = xstrdup(s->script);
	/* The script's arguments: passed through as argv words. */
	argv[n++] = xstrdup(s->self_exe);
	argv[n++] = xstrdup(EXECUTOR_RUN_CELL);
	argv[n++] = xstrdup("--quiet");
	argv[n++] = xstrdup("--spec");
	argv[n++] = xstrfmt("%s/%s", j->dir, EXECUTOR_SPEC);
	argv[n++] = xstrdup("--out");
	argv[n++] = xstrdup(j->dir);
	j->st = SJ_SUBMITTING;
	if (!j->submitted_at)
		j->submitted_at = timeutil_now();
	sproc_run(s, argv, sbatch_done, j);
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
		job_report(s, j);
	}
	maybe_finish(s);
}

static void scancel_done(struct sproc *p)
{
	struct executor_slurm *s = p->s;

	s->busy--;
	if (!sproc_ok(p)) {
		struct strbuf why = STRBUF_INIT;

		sproc_said(p, &why);
		say("scancel: %s", why.buf);
		strbuf_release(&why);
	}
	pump(s);
}

static int scancel_start(struct executor_slurm *s, int all)
{
	char **argv;
	size_t i, n = 0, max;

	if (all) {
		/* Every job of ours Slurm has; an unsure submission (sbatch
		 * failed) is left: scancel cannot tell it apart safely. */
		for (i = 0; i < s->n; i++) {
			const struct sjob *j = &s->jobs[i];

			if (j->st == SJ_QUEUED && j->id[0]) {
				ALLOC_GROW(s->cancel, s->n_cancel + 1,
					   s->alloc_cancel);
				s->cancel[s->n_cancel++] = xstrdup(j->id);
			}
		}
	}
	if (!s->n_cancel)
		return 0;
	max = s->n_cancel + 4;
	argv = xcalloc(max, sizeof(*argv));
	argv[n++] = xstrdup("scancel");
	for (i = 0; i < s->n_cancel; i++) {
		argv[n++] = s->cancel[i];
		s->cancel[i] = NULL;
	}
	s->n_cancel = 0;
	sproc_run(s, argv, scancel_done, NULL);
	spawn_argv_free(argv);
	return 1;
}

/*
 * One step at a time: stop, cancels, scan, squeue, submissions. Each
 * step's callback calls pump again; the timer calls it when idle.
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
	/* The scan first: a result beats anything squeue says. Its after
	 * callback runs the pump, which submits; squeue runs from here. */
	if (scan_start(s))
		return;
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
	struct stage_work *w;
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
		j->name = xstrfmt("hvm-%s", runs[i].nonce);
		j->dir = xstrfmt("%s/runs/%s", cfg->shared_dir, j->name);
	}
	uv_timer_init(loop, &s->tick);
	uv_timer_start(&s->tick, tick_cb, EXEC_SLURM_TICK_MS,
		       EXEC_SLURM_TICK_MS);
	/* Runs decided before they start (SKIP, a missing kernel) are
	 * reported once staging is done, from the loop: never from inside
	 * this call. */
	for (i = 0; i < n; i++)
		if (judge_verdict(&runs[i].judge) != VERDICT_NONE) {
			s->jobs[i].st = SJ_DONE;
			s->jobs[i].decided = 1;
		}
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	strbuf_init(&w->err, 0);
	s->busy++;
	uv_queue_work(loop, &w->req, stage_cb, stage_after);
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
		free(s->jobs[i].name);
		free(s->jobs[i].dir);
		free(s->jobs[i].ended);
		free(s->jobs[i].submit_error);
	}
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
