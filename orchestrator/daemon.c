/*
 * daemon: see daemon.h. The loop owns a few handles embedded in struct
 * daemon (signals, the poll timer, the matrix watcher, the scheduling
 * kick) and at most one job at a time: a job is one (tree, commit, build
 * config) going through build, boot and record. libgit2 polls, store
 * writes and dashboard writes run in uv_queue_work, off the loop thread.
 *
 * It never FAILs a cell for the farm's trouble: a build the farm could
 * not run is retried, then recorded as ERROR; only a kernel that does not
 * build gives BLOCKED, and only a kernel that does not boot gives FAIL.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "boot.h"
#include "build.h"
#include "cmd.h"
#include "daemon.h"
#include "fsutil.h"
#include "kernel.h"
#include "matrix.h"
#include "probe.h"
#include "publish.h"
#include "record.h"
#include "watch.h"
#include "xmalloc.h"

#define DAEMON_HEARTBEAT_MS 30000	/* "still building" lines */
#define DAEMON_MATRIX_CHECK_MS 1000	/* matrix file stat interval */

struct daemon;

/* One (tree, commit, build config) going through the pipeline. */
struct job {
	struct daemon *d;
	struct record_job rj;
	struct matrix *m;	/* the matrix in force when the job began */
	const struct matrix_tree *tree;
	const struct matrix_build *cfg;
	struct build_job build;
	int building;
	struct boot_run *runs;
	size_t n_runs;
	struct boot *boot;
	int booting;
	struct kernel kernel;
	char *repo;		/* the repository the build reads */
	char *batch;
	char *log_dir;
	unsigned pending;	/* store writes in flight */
	int requeue;		/* stopped: back to the queue, not done */
	double t0;
	const char *stage;
	uv_timer_t heartbeat;
};

/* A tree's next poll time, by name (trees come and go with reloads). */
struct tree_due {
	char *name;
	uint64_t next_ms;
};

struct daemon {
	uv_loop_t *loop;
	struct daemon_opts o;
	struct matrix *m;		/* the last good matrix */
	struct matrix **retired;	/* replaced while a job used them */
	size_t n_retired, retired_alloc;
	struct record *store;
	char *dash_dir;
	uv_signal_t sig[3];
	uv_timer_t poll_timer;
	uv_fs_poll_t matrix_watch;
	uv_timer_t kick;
	struct tree_due *due;
	size_t n_due, due_alloc;
	int polling;			/* a poll in a worker thread */
	int polled_once;
	int publishing;
	struct job *job;
	int took_only_job;
	int stopping, closed;
	int worst;			/* exit code so far */
	int lock_fd;
};

static void schedule(struct daemon *d);
static void daemon_shutdown(struct daemon *d);
static void poll_timer_cb(uv_timer_t *t);

static void say(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct daemon *d, const char *fmt, ...)
{
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (d->o.quiet)
		return;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(stderr, "[%s] ", stamp);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_unix(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void note_exit(struct daemon *d, enum verdict v)
{
	int code = v == VERDICT_FAIL || v == VERDICT_BLOCKED ? EXIT_FAIL :
		   v == VERDICT_ERROR ? EXIT_ERROR : EXIT_OK;

	if (code == EXIT_FAIL || (code == EXIT_ERROR && d->worst != EXIT_FAIL))
		d->worst = code;
}

/* ---- the status file `hvmatrix status` reads ---- */

static void write_status(struct daemon *d)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xstrfmt("%s/%s", d->o.state_dir, DAEMON_STATUS_FILE);
	struct job *j = d->job;

	strbuf_addf(&sb, "{\"pid\": %ld, \"updated_at\": %.3f, "
		    "\"stopping\": %s, \"job\": ", (long)getpid(), now_unix(),
		    d->stopping ? "true" : "false");
	if (j) {
		strbuf_addstr(&sb, "{\"tree\": ");
		strbuf_add_json_str(&sb, j->rj.tree);
		strbuf_addstr(&sb, ", \"commit\": ");
		strbuf_add_json_str(&sb, j->rj.commit_id);
		strbuf_addstr(&sb, ", \"build\": ");
		strbuf_add_json_str(&sb, j->rj.build);
		strbuf_addstr(&sb, ", \"subject\": ");
		strbuf_add_json_str(&sb, j->rj.subject);
		strbuf_addstr(&sb, ", \"stage\": ");
		strbuf_add_json_str(&sb, j->stage ? j->stage : "");
		strbuf_addf(&sb, ", \"started_at\": %.3f}", j->t0);
	} else {
		strbuf_addstr(&sb, "null");
	}
	strbuf_addstr(&sb, "}\n");
	fsutil_write_atomic(path, sb.buf, sb.len);
	strbuf_release(&sb);
	free(path);
}

static void set_stage(struct job *j, const char *stage)
{
	j->stage = stage;
	write_status(j->d);
}

/* ---- the matrix: load, reload, retire ---- */

static struct matrix *load_matrix(const char *path, struct strbuf *err)
{
	struct matrix *m = xcalloc(1, sizeof(*m));

	if (matrix_load(m, path, err) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

static void matrix_free(struct matrix *m)
{
	if (!m)
		return;
	matrix_release(m);
	free(m);
}

static void free_retired(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->n_retired; i++)
		matrix_free(d->retired[i]);
	d->n_retired = 0;
}

static void matrix_changed(uv_fs_poll_t *h, int status,
			   const uv_stat_t *prev, const uv_stat_t *cur)
{
	struct daemon *d = container_of(h, struct daemon, matrix_watch);
	struct strbuf err = STRBUF_INIT;
	struct matrix *m;

	if (status < 0) {
		say(d, "matrix %s: %s; keeping the last good matrix",
		    d->o.matrix_path, uv_strerror(status));
		return;
	}
	m = load_matrix(d->o.matrix_path, &err);
	if (!m) {
		say(d, "matrix reload refused: %s; keeping the last good "
		    "matrix", err.buf);
		strbuf_release(&err);
		return;
	}
	say(d, "matrix reloaded: %zu cells, %zu trees, %zu builds",
	    m->n_cells, m->n_trees, m->n_builds);
	/* The running job keeps pointers into the old one. */
	ALLOC_GROW(d->retired, d->n_retired + 1, d->retired_alloc);
	d->retired[d->n_retired++] = d->m;
	d->m = m;
	if (!d->job)
		free_retired(d);
	strbuf_release(&err);
	/* New trees are polled at once. */
	if (d->o.poll)
		uv_timer_start(&d->poll_timer, poll_timer_cb, 0, 0);
}

/* ---- polling the trees (libgit2, in a worker thread) ---- */

struct poll_tree {
	char *name, *path, *url, *mirror;
	char **branches;
	size_t n_branches;
	unsigned first;
	int tips_first;
};

struct poll_work {
	uv_work_t req;
	struct daemon *d;
	struct poll_tree *trees;
	size_t n_trees;
	char **builds;
	size_t n_builds;
	struct strbuf log;		/* lines to print on the loop */
	size_t n_new;
};

static char *tree_mirror_dir(const char *state_dir, const char *name)
{
	return xstrfmt("%s/mirrors/%s.git", state_dir, name);
}

/* The repository builds read from: the tree's path, or our mirror. */
static char *tree_repo_path(struct daemon *d, const struct matrix_tree *t)
{
	return t->path ? xstrdup(t->path) :
	       tree_mirror_dir(d->o.state_dir, t->name);
}

static void poll_branch(struct poll_work *pw, struct watch_repo *w,
			const struct poll_tree *t, const char *branch,
			int64_t batch)
{
	struct record *store = pw->d->store;
	struct strbuf err = STRBUF_INIT;
	struct watch_commit *c = NULL;
	struct record_commit *rc = NULL;
	char tip[WATCH_ID_HEXSZ + 1], old[41];
	char **known = NULL;
	size_t n_known = 0, n = 0, i, added = 0;
	int had_tip;

	if (watch_resolve(w, branch, tip, &err) < 0)
		goto out;
	had_tip = record_get_tip(store, t->name, branch, old, &err);
	if (had_tip < 0)
		goto out;
	if (had_tip && !strcmp(old, tip))
		goto out;
	if (record_known_commits(store, t->name, &known, &n_known, &err) < 0)
		goto out;
	/* First sight of a branch: only its newest `first` commits. */
	if (watch_new_commits(w, tip, known, n_known, had_tip ? 0 : t->first,
			      &c, &n, &err) < 0)
		goto out;
	rc = xcalloc(n + 1, sizeof(*rc));
	for (i = 0; i < n; i++) {
		rc[i].id = c[i].id;
		rc[i].subject = c[i].subject;
		rc[i].author = c[i].author;
		rc[i].time = c[i].time;
		rc[i].parent = c[i].parent;
	}
	if (n && record_enqueue(store, t->name, rc, n, pw->builds,
				pw->n_builds, batch, t->tips_first ?
				RECORD_PRIORITY_TIP : RECORD_PRIORITY_NORMAL,
				&added, &err) < 0)
		goto out;
	if (record_set_tip(store, t->name, branch, tip, &err) < 0)
		goto out;
	pw->n_new += added;
	strbuf_addf(&pw->log, "poll %s %s: tip %.12s, %zu new commit%s, "
		    "%zu job%s queued\n", t->name, branch, tip, n,
		    n == 1 ? "" : "s", added, added == 1 ? "" : "s");
out:
	if (err.len)
		strbuf_addf(&pw->log, "poll %s %s: %s\n", t->name, branch,
			    err.buf);
	free(rc);
	watch_commits_free(c, n);
	record_strings_free(known, n_known);
	strbuf_release(&err);
}

static void poll_work_cb(uv_work_t *req)
{
	struct poll_work *pw = container_of(req, struct poll_work, req);
	int64_t batch = record_next_batch(pw->d->store);
	size_t i, k;

	for (i = 0; i < pw->n_trees; i++) {
		struct poll_tree *t = &pw->trees[i];
		struct strbuf err = STRBUF_INIT;
		struct watch_repo *w = NULL;

		if (watch_open(&w, t->path, t->url, t->mirror, &err) < 0 ||
		    watch_fetch(w, &err) < 0) {
			strbuf_addf(&pw->log, "poll %s: %s\n", t->name,
				    err.buf);
		} else {
			for (k = 0; k < t->n_branches; k++)
				poll_branch(pw, w, t, t->branches[k], batch);
		}
		if (w)
			watch_close(w);
		strbuf_release(&err);
	}
}

static void poll_work_free(struct poll_work *pw)
{
	size_t i, k;

	for (i = 0; i < pw->n_trees; i++) {
		struct poll_tree *t = &pw->trees[i];

		free(t->name);
		free(t->path);
		free(t->url);
		free(t->mirror);
		for (k = 0; k < t->n_branches; k++)
			free(t->branches[k]);
		free(t->branches);
	}
	free(pw->trees);
	for (i = 0; i < pw->n_builds; i++)
		free(pw->builds[i]);
	free(pw->builds);
	strbuf_release(&pw->log);
	free(pw);
}

static void poll_after_cb(uv_work_t *req, int status)
{
	struct poll_work *pw = container_of(req, struct poll_work, req);
	struct daemon *d = pw->d;
	char *line, *save = NULL;

	for (line = strtok_r(pw->log.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		say(d, "%s", line);
	d->polling = 0;
	d->polled_once = 1;
	poll_work_free(pw);
	if (d->stopping)
		daemon_shutdown(d);
	else
		schedule(d);
}

static struct tree_due *tree_due(struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_due; i++)
		if (!strcmp(d->due[i].name, name))
			return &d->due[i];
	ALLOC_GROW(d->due, d->n_due + 1, d->due_alloc);
	d->due[d->n_due].name = xstrdup(name);
	d->due[d->n_due].next_ms = 0;
	return &d->due[d->n_due++];
}

static void poll_timer_cb(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, poll_timer);
	uint64_t now = uv_now(d->loop), next = UINT64_MAX;
	struct poll_work *pw;
	size_t i, k;

	if (d->stopping)
		return;
	if (d->polling) {
		/* One poll at a time; look again shortly. */
		uv_timer_start(&d->poll_timer, poll_timer_cb, 1000, 0);
		return;
	}
	pw = xcalloc(1, sizeof(*pw));
	pw->d = d;
	strbuf_init(&pw->log, 0);
	pw->trees = xcalloc(d->m->n_trees + 1, sizeof(*pw->trees));
	for (i = 0; i < d->m->n_trees; i++) {
		const struct matrix_tree *mt = &d->m->trees[i];
		struct tree_due *due = tree_due(d, mt->name);
		struct poll_tree *pt;

		if (due->next_ms > now) {
			if (due->next_ms < next)
				next = due->next_ms;
			continue;
		}
		due->next_ms = now + (uint64_t)mt->poll_s * 1000;
		if (due->next_ms < next)
			next = due->next_ms;
		pt = &pw->trees[pw->n_trees++];
		pt->name = xstrdup(mt->name);
		pt->path = mt->path ? xstrdup(mt->path) : NULL;
		pt->url = mt->url ? xstrdup(mt->url) : NULL;
		pt->mirror = tree_mirror_dir(d->o.state_dir, mt->name);
		pt->first = mt->first;
		pt->tips_first = mt->tips_first;
		pt->n_branches = mt->n_branches;
		pt->branches = xcalloc(mt->n_branches, sizeof(char *));
		for (k = 0; k < mt->n_branches; k++)
			pt->branches[k] = xstrdup(mt->branches[k]);
	}
	pw->n_builds = d->m->n_builds;
	pw->builds = xcalloc(d->m->n_builds + 1, sizeof(char *));
	for (i = 0; i < d->m->n_builds; i++)
		pw->builds[i] = xstrdup(d->m->builds[i].name);
	if (next != UINT64_MAX)
		uv_timer_start(&d->poll_timer, poll_timer_cb, next - now, 0);
	if (!pw->n_trees) {
		poll_work_free(pw);
		d->polled_once = 1;
		schedule(d);
		return;
	}
	d->polling = 1;
	uv_queue_work(d->loop, &pw->req, poll_work_cb, poll_after_cb);
}

/* ---- recording, off the loop thread ---- */

struct record_work {
	uv_work_t req;
	struct job *job;
	struct record_run run;
	struct strbuf err;
	int rc;
};

static void job_maybe_done(struct job *j);

static void record_work_cb(uv_work_t *req)
{
	struct record_work *w = container_of(req, struct record_work, req);

	w->rc = record_add_run(w->job->d->store, &w->run, &w->err);
}

static void record_after_cb(uv_work_t *req, int status)
{
	struct record_work *w = container_of(req, struct record_work, req);
	struct job *j = w->job;

	if (status < 0 || w->rc < 0) {
		say(j->d, "cannot record %s: %s", w->run.cell,
		    status < 0 ? uv_strerror(status) : w->err.buf);
		/* Not recorded: run it again next time. */
		j->requeue = 1;
	}
	record_run_release(&w->run);
	strbuf_release(&w->err);
	free(w);
	j->pending--;
	job_maybe_done(j);
}

static void record_verdict(struct job *j, const char *cell, enum verdict v,
			   const char *reason, const char *line,
			   double started_at, double duration_s,
			   const char *log_path, const char *nonce)
{
	struct record_work *w = xcalloc(1, sizeof(*w));
	struct record_run *run = &w->run;

	w->job = j;
	strbuf_init(&w->err, 0);
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
	note_exit(j->d, v);
	j->pending++;
	uv_queue_work(j->d->loop, &w->req, record_work_cb, record_after_cb);
}

/* ---- publishing ---- */

struct publish_work {
	uv_work_t req;
	struct daemon *d;
	struct strbuf err;
	int rc;
};

static void publish_work_cb(uv_work_t *req)
{
	struct publish_work *p = container_of(req, struct publish_work, req);

	p->rc = publish_dashboard(p->d->store, p->d->dash_dir, NULL, &p->err);
}

static void publish_after_cb(uv_work_t *req, int status)
{
	struct publish_work *p = container_of(req, struct publish_work, req);
	struct daemon *d = p->d;

	if (p->rc < 0)
		say(d, "dashboard: %s", p->err.buf);
	d->publishing = 0;
	strbuf_release(&p->err);
	free(p);
	if (d->stopping)
		daemon_shutdown(d);
	else
		schedule(d);
}

static void publish(struct daemon *d)
{
	struct publish_work *p;

	if (d->publishing)
		return;
	p = xcalloc(1, sizeof(*p));
	p->d = d;
	strbuf_init(&p->err, 0);
	d->publishing = 1;
	uv_queue_work(d->loop, &p->req, publish_work_cb, publish_after_cb);
}

/* ---- one job: build, boot, record ---- */

static char *short_id(const char *id)
{
	return xstrndup(id, 12);
}

static void heartbeat_cb(uv_timer_t *t)
{
	struct job *j = container_of(t, struct job, heartbeat);
	char *sid = short_id(j->rj.commit_id);

	say(j->d, "%s %s %s: %s (%.0f s)", j->rj.tree, sid, j->rj.build,
	    j->stage, now_unix() - j->t0);
	free(sid);
}

static void job_free_cb(uv_handle_t *h)
{
	struct job *j = container_of((uv_timer_t *)h, struct job, heartbeat);
	size_t i;

	for (i = 0; i < j->n_runs; i++)
		boot_run_release(&j->runs[i]);
	free(j->runs);
	boot_free(j->boot);
	build_job_release(&j->build);
	kernel_release(&j->kernel);
	record_job_release(&j->rj);
	free(j->batch);
	free(j->log_dir);
	free(j->repo);
	free(j);
}

static void job_end(struct job *j)
{
	struct daemon *d = j->d;
	struct strbuf err = STRBUF_INIT;
	char *sid = short_id(j->rj.commit_id);
	int rc;

	if (j->requeue)
		rc = record_job_requeue(d->store, j->rj.id, &err);
	else
		rc = record_job_finish(d->store, j->rj.id, &err);
	if (rc < 0)
		say(d, "queue: %s", err.buf);
	say(d, "%s %s %s: %s after %.0f s", j->rj.tree, sid, j->rj.build,
	    j->requeue ? "stopped, queued again" : "done",
	    now_unix() - j->t0);
	free(sid);
	strbuf_release(&err);
	d->job = NULL;
	free_retired(d);
	write_status(d);
	uv_close((uv_handle_t *)&j->heartbeat, job_free_cb);
	publish(d);
}

static void job_maybe_done(struct job *j)
{
	if (j->building || j->booting || j->pending)
		return;
	job_end(j);
}

/* Every cell not yet recorded gets verdict v (BLOCKED or ERROR). */
static void record_all_cells(struct job *j, enum verdict v,
			     const char *reason, const char *line,
			     const char *log_path)
{
	struct strbuf err = STRBUF_INIT;
	char **done = NULL;
	size_t n_done = 0, i, k;
	double now = now_unix();

	if (record_cells_done(j->d->store, j->rj.tree, j->rj.commit_id,
			      j->rj.build, &done, &n_done, &err) < 0) {
		say(j->d, "%s", err.buf);
		j->requeue = 1;
		goto out;
	}
	for (i = 0; i < j->m->n_cells; i++) {
		const char *cell = j->m->cells[i].name;

		for (k = 0; k < n_done && strcmp(done[k], cell); k++)
			;
		if (k == n_done)
			record_verdict(j, cell, v, reason, line, now, 0,
				       log_path, NULL);
	}
out:
	record_strings_free(done, n_done);
	strbuf_release(&err);
}

static void boot_started(struct boot_run *r, void *data)
{
	struct job *j = data;

	say(j->d, "  start  %s", r->cell->name);
}

static void boot_done(struct boot_run *r, void *data)
{
	struct job *j = data;
	enum verdict v = judge_verdict(&r->judge);

	if (r->interrupted) {
		j->requeue = 1;
		return;
	}
	say(j->d, "  %-7s %s (%.1f s): %s", verdict_name(v), r->cell->name,
	    r->duration_s, r->judge.reason);
	record_verdict(j, r->cell->name, v, r->judge.reason, r->judge.line,
		       r->started_at, r->duration_s, r->log_path, r->nonce);
}

static void boot_all_done(void *data)
{
	struct job *j = data;

	j->booting = 0;
	job_maybe_done(j);
}

static void job_boot(struct job *j, const char *image)
{
	struct daemon *d = j->d;
	struct strbuf err = STRBUF_INIT, kerr = STRBUF_INIT;
	char **done = NULL;
	size_t n_done = 0, i, k;
	char *sid = short_id(j->rj.commit_id);
	struct boot_opts opts = {
		.jobs = d->o.jobs, .on_start = boot_started,
		.on_done = boot_done, .on_all_done = boot_all_done, .data = j,
	};

	set_stage(j, "boot");
	if (kernel_identify(&j->kernel, image, &kerr) < 0) {
		j->kernel.path = xstrdup(image);
		j->kernel.id = xstrdup("");
		j->kernel.version = xstrdup("");
	}
	if (record_cells_done(d->store, j->rj.tree, j->rj.commit_id,
			      j->rj.build, &done, &n_done, &err) < 0) {
		say(d, "%s", err.buf);
		j->requeue = 1;
		goto out;
	}
	j->log_dir = xstrfmt("%s/logs/%s/%s-%s", d->o.state_dir, j->rj.tree,
			     sid, j->rj.build);
	if (fsutil_mkdir_p(j->log_dir, 0755) < 0) {
		say(d, "cannot create %s: %s", j->log_dir, strerror(errno));
		j->requeue = 1;
		goto out;
	}
	j->runs = xcalloc(j->m->n_cells + 1, sizeof(*j->runs));
	for (i = 0; i < j->m->n_cells; i++) {
		const struct cell *c = &j->m->cells[i];
		char *log;

		for (k = 0; k < n_done && strcmp(done[k], c->name); k++)
			;
		if (k < n_done)
			continue;	/* recorded before a restart */
		log = xstrfmt("%s/%s-%s.log", j->log_dir, c->name, j->batch);
		boot_run_init(&j->runs[j->n_runs++], c, image, d->o.initrd,
			      log);
		free(log);
	}
	say(d, "%s %s %s: booting in %zu cell%s (%zu already recorded)",
	    j->rj.tree, sid, j->rj.build, j->n_runs,
	    j->n_runs == 1 ? "" : "s", n_done);
	if (!j->n_runs)
		goto out;
	probe_precheck(j->runs, j->n_runs, image, kerr.len ? kerr.buf : NULL,
		       d->o.initrd, d->o.quiet);
	j->booting = 1;
	j->boot = boot_start(d->loop, j->runs, j->n_runs, &opts);
out:
	record_strings_free(done, n_done);
	strbuf_release(&err);
	strbuf_release(&kerr);
	free(sid);
	job_maybe_done(j);
}

static void build_progress(struct build_job *b, const char *stage,
			   void *data)
{
	struct job *j = data;
	char *sid = short_id(j->rj.commit_id);

	set_stage(j, stage);
	say(j->d, "%s %s %s: %s (%.0f s)", j->rj.tree, sid, j->rj.build,
	    stage, now_unix() - j->t0);
	if (b->pgid)
		record_job_set_pgid(j->d->store, j->rj.id, b->pgid, NULL);
	free(sid);
}

static void save_build(struct job *j, enum record_build_status s)
{
	struct record_build rb = { 0 };
	struct strbuf err = STRBUF_INIT;

	rb.tree = j->rj.tree;
	rb.commit_id = j->rj.commit_id;
	rb.build = j->rj.build;
	rb.status = s;
	rb.reason = j->build.reason;
	rb.errors = j->build.errors;
	rb.log_path = j->build.log_path;
	rb.image_path = j->build.image_path;
	rb.started_at = j->build.started_at;
	rb.duration_s = j->build.duration_s;
	if (record_add_build(j->d->store, &rb, &err) < 0) {
		say(j->d, "%s", err.buf);
		j->requeue = 1;
	}
	strbuf_release(&err);
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
	char *sid = short_id(j->rj.commit_id), *line;

	j->building = 0;
	uv_timer_stop(&j->heartbeat);
	say(d, "%s %s %s: build %s in %.0f s%s%s", j->rj.tree, sid,
	    j->rj.build, build_status_name(b->status), b->duration_s,
	    b->reason && *b->reason ? ": " : "", b->reason ? b->reason : "");
	free(sid);
	if (b->status == BUILD_INTERRUPTED || (d->stopping &&
					      b->status != BUILD_OK &&
					      b->status != BUILD_FAILED)) {
		j->requeue = 1;
	} else if (b->status == BUILD_OK) {
		save_build(j, RECORD_BUILD_OK);
		if (!d->stopping && !j->requeue) {
			job_boot(j, b->image_path);
			return;
		}
		j->requeue = 1;
	} else if (b->status == BUILD_FAILED) {
		save_build(j, RECORD_BUILD_FAILED);
		line = first_line(b->errors);
		record_all_cells(j, VERDICT_BLOCKED, b->reason, line,
				 b->log_path);
		free(line);
	} else {
		save_build(j, RECORD_BUILD_ERROR);
		if (j->rj.attempts < DAEMON_BUILD_ATTEMPTS) {
			j->requeue = 1;
		} else {
			line = first_line(b->errors);
			record_all_cells(j, VERDICT_ERROR, b->reason, line,
					 b->log_path);
			free(line);
		}
	}
	job_maybe_done(j);
}

static void job_begin(struct daemon *d, struct record_job *rj)
{
	struct job *j = xcalloc(1, sizeof(*j));
	struct strbuf err = STRBUF_INIT;
	struct record_build last;
	char *sid = short_id(rj->commit_id), *line;
	int have;

	j->d = d;
	j->rj = *rj;
	j->m = d->m;
	j->t0 = now_unix();
	j->batch = xstrfmt("%s-%.12s-%s", rj->tree, rj->commit_id,
			   rj->build);
	uv_timer_init(d->loop, &j->heartbeat);
	d->job = j;
	j->tree = matrix_find_tree(j->m, rj->tree);
	j->cfg = matrix_find_build(j->m, rj->build);
	say(d, "%s %s %s: %s (attempt %d)", rj->tree, sid, rj->build,
	    rj->subject, rj->attempts);
	if (!j->tree || !j->cfg) {
		say(d, "%s %s: tree or build config %s is no longer in the "
		    "matrix; dropping the job", rj->tree, sid, rj->build);
		goto out;
	}
	have = record_last_build(d->store, rj->tree, rj->commit_id,
				 rj->build, &last, &err);
	if (have < 0) {
		say(d, "%s", err.buf);
		j->requeue = 1;
		goto out;
	}
	if (have && last.status == RECORD_BUILD_FAILED) {
		/* Built and failed before a restart: only the verdicts
		 * may be missing. */
		line = first_line(last.errors);
		record_all_cells(j, VERDICT_BLOCKED, last.reason, line,
				 last.log_path);
		free(line);
		record_build_release(&last);
		goto out;
	}
	if (have)
		record_build_release(&last);
	j->repo = tree_repo_path(d, j->tree);
	j->build.tree = j->tree;
	j->build.config = j->cfg;
	snprintf(j->build.commit, sizeof(j->build.commit), "%s",
		 rj->commit_id);
	j->build.state_dir = d->o.state_dir;
	j->build.repo_path = j->repo;
	j->build.jobs = d->o.jobs;
	j->build.on_progress = build_progress;
	j->build.on_done = build_done;
	j->build.data = j;
	set_stage(j, "build");
	if (build_start(d->loop, &j->build, &err) < 0) {
		say(d, "%s %s %s: cannot build: %s", rj->tree, sid, rj->build,
		    err.buf);
		j->requeue = rj->attempts < DAEMON_BUILD_ATTEMPTS;
		if (!j->requeue)
			record_all_cells(j, VERDICT_ERROR, err.buf, "", "");
		goto out;
	}
	j->building = 1;
	uv_timer_start(&j->heartbeat, heartbeat_cb, DAEMON_HEARTBEAT_MS,
		       DAEMON_HEARTBEAT_MS);
out:
	free(sid);
	strbuf_release(&err);
	job_maybe_done(j);
}

/* ---- scheduling and shutdown ---- */

static void kick_cb(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, kick);
	struct strbuf err = STRBUF_INIT;
	struct record_job rj;
	int rc;

	if (d->stopping || d->job || d->publishing)
		return;
	if (d->o.only_job && d->took_only_job) {
		daemon_shutdown(d);
		return;
	}
	rc = record_job_next(d->store, d->o.only_job, &rj, &err);
	if (rc < 0) {
		say(d, "queue: %s", err.buf);
		strbuf_release(&err);
		d->worst = EXIT_ERROR;
		daemon_shutdown(d);
		return;
	}
	strbuf_release(&err);
	if (rc == 1) {
		d->took_only_job = 1;
		job_begin(d, &rj);
		return;
	}
	if (d->o.only_job ||
	    (d->o.until_idle && !d->polling && (d->polled_once || !d->o.poll))) {
		say(d, "queue empty: stopping (--until-idle)");
		daemon_shutdown(d);
	}
}

/* Take the next job from the loop, not from inside a callback chain. */
static void schedule(struct daemon *d)
{
	if (!d->stopping && !d->closed)
		uv_timer_start(&d->kick, kick_cb, 0, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	say(d, "%s: stopping; running work goes back to the queue",
	    strsignal(signum));
	if (d->o.only_job && d->worst == EXIT_OK)
		d->worst = 130;
	daemon_shutdown(d);
}

static void close_all(struct daemon *d)
{
	size_t i;

	if (d->closed)
		return;
	d->closed = 1;
	for (i = 0; i < ARRAY_SIZE(d->sig); i++)
		uv_close((uv_handle_t *)&d->sig[i], NULL);
	uv_close((uv_handle_t *)&d->poll_timer, NULL);
	uv_close((uv_handle_t *)&d->kick, NULL);
	uv_close((uv_handle_t *)&d->matrix_watch, NULL);
}

/* Stop taking work, stop what runs; close once nothing is in flight. */
static void daemon_shutdown(struct daemon *d)
{
	d->stopping = 1;
	if (d->job) {
		if (d->job->building)
			build_stop(&d->job->build);
		if (d->job->booting && d->job->boot)
			boot_stop(d->job->boot);
		return;		/* job_end calls publish, which calls back */
	}
	if (d->polling || d->publishing)
		return;
	write_status(d);
	close_all(d);
}

static int take_lock(struct daemon *d, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", d->o.state_dir, DAEMON_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		strbuf_addf(err, "%s: another hvmatrix daemon or run works on "
			    "this state directory", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	d->lock_fd = fd;
	return 0;
}

/* A build left by a killed daemon: kill its group if it is still ours. */
static void kill_leftover(struct daemon *d, int pgid)
{
	char path[64];
	struct strbuf cmd = STRBUF_INIT;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pgid);
	if (fsutil_read(path, &cmd) == 0 && strstr(cmd.buf, "hvmatrix")) {
		say(d, "killing build process group %d left by a previous "
		    "daemon", pgid);
		kill(-pgid, SIGKILL);
	}
	strbuf_release(&cmd);
}

int daemon_main(const struct daemon_opts *o)
{
	static const int signums[] = { SIGINT, SIGTERM, SIGHUP };
	struct daemon d;
	struct strbuf err = STRBUF_INIT;
	int *pgids = NULL, ret = EXIT_USAGE;
	size_t n_pgids = 0, i;
	char *abs_matrix = NULL;

	memset(&d, 0, sizeof(d));
	d.o = *o;
	d.lock_fd = -1;
	/*
	 * Paths in the matrix are resolved against its directory: make that
	 * absolute, since builds run their steps in other directories.
	 */
	abs_matrix = realpath(o->matrix_path, NULL);
	if (abs_matrix)
		d.o.matrix_path = abs_matrix;
	d.loop = uv_default_loop();
	if (!d.o.jobs)
		d.o.jobs = 1;
	d.m = load_matrix(d.o.matrix_path, &err);
	if (!d.m) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	if (o->poll && !d.m->n_trees) {
		fprintf(stderr, "hvmatrix: %s: no trees to watch (add a "
			"'trees:' section)\n", o->matrix_path);
		goto out;
	}
	if (!d.m->n_builds) {
		fprintf(stderr, "hvmatrix: %s: no build configs (add a "
			"'builds:' section)\n", o->matrix_path);
		goto out;
	}
	ret = EXIT_ERROR;
	if (record_open(&d.store, o->state_dir, &err) < 0 ||
	    take_lock(&d, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		goto out;
	}
	if (record_jobs_recover(d.store, &pgids, &n_pgids, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		goto out;
	}
	for (i = 0; i < n_pgids; i++)
		kill_leftover(&d, pgids[i]);
	d.dash_dir = xstrfmt("%s/dashboard", o->state_dir);

	for (i = 0; i < ARRAY_SIZE(signums); i++) {
		uv_signal_init(d.loop, &d.sig[i]);
		d.sig[i].data = &d;
		uv_signal_start(&d.sig[i], on_signal, signums[i]);
	}
	uv_timer_init(d.loop, &d.kick);
	uv_timer_init(d.loop, &d.poll_timer);
	uv_fs_poll_init(d.loop, &d.matrix_watch);
	uv_fs_poll_start(&d.matrix_watch, matrix_changed, d.o.matrix_path,
			 DAEMON_MATRIX_CHECK_MS);
	say(&d, "hvmatrix daemon: matrix %s (%zu cells, %zu trees, %zu "
	    "builds), state %s, %u cores", d.o.matrix_path, d.m->n_cells,
	    d.m->n_trees, d.m->n_builds, o->state_dir, d.o.jobs);
	write_status(&d);
	if (o->ran)
		*o->ran = 1;
	if (o->poll)
		uv_timer_start(&d.poll_timer, poll_timer_cb, 0, 0);
	else
		schedule(&d);
	uv_run(d.loop, UV_RUN_DEFAULT);
	say(&d, "dashboard: %s/index.html", d.dash_dir);
	ret = d.worst;
out:
	free(pgids);
	for (i = 0; i < d.n_due; i++)
		free(d.due[i].name);
	free(d.due);
	free_retired(&d);
	free(d.retired);
	matrix_free(d.m);
	if (d.store)
		record_close(d.store);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	free(d.dash_dir);
	free(abs_matrix);
	strbuf_release(&err);
	return ret;
}
