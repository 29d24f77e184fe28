/*
 * executor-slurm-stage: the Slurm executor's file work, in the thread
 * pool (never on the loop). Staging puts a round's kernel and payload,
 * the job script, each run's spec and each array's task file into the
 * shared directory, every file whole (temp + rename), so a node never
 * reads half of one. The scan reads the results the nodes wrote and takes
 * their console logs into the daemon's log paths. See
 * executor-slurm-priv.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/executor-slurm-priv.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

struct stage_work {
	uv_work_t req;
	struct executor_slurm *s;
	struct strbuf err;
	int rc;
};

struct scan_item {
	struct sjob *job;
	char *dir, *log_path;
	char *moved;		/* where the console log went, or NULL */
	int was_ended;
	int rc;			/* rundir_result_read */
	struct rundir_result res;
	struct strbuf err;
};

struct scan_work {
	uv_work_t req;
	struct executor_slurm *s;
	struct scan_item *items;
	size_t n;
};

/* ---- staging ---- */

static int stage_copy(const char *from, const char *to, struct strbuf *err)
{
	int rc = fsutil_copy(from, to);

	if (rc < 0)
		strbuf_addf(err, "cannot copy %s to %s: %s", from, to,
			    strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/* An array's task file: line i is task i's run directory. */
static int stage_tasks(const struct sarray *a, struct strbuf *err)
{
	const char **dirs = xcalloc(a->n, sizeof(*dirs));
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++)
		dirs[i] = a->members[i]->dir;
	rc = rundir_tasks_write(a->dir, dirs, a->n, err);
	free(dirs);
	return rc;
}

int executor_slurm_script(const char *path, struct strbuf *err)
{
	static const char script[] =
		"#!/bin/sh\n"
		"# hvmatrix's Slurm job: run the command given after it.\n"
		"exec \"$@\"\n";
	int rc = fsutil_write_atomic(path, script, sizeof(script) - 1);

	if (rc < 0 || chmod(path, 0755) < 0) {
		strbuf_addf(err, "cannot write %s: %s", path,
			    strerror(rc < 0 ? -rc : errno));
		return -1;
	}
	return 0;
}

static void stage_cb(uv_work_t *req)
{
	struct stage_work *w = container_of(req, struct stage_work, req);
	struct executor_slurm *s = w->s;
	size_t i;
	int rc;

	w->rc = -1;
	rc = fsutil_mkdir_p(s->stage_dir, 0755);
	if (rc < 0) {
		strbuf_addf(&w->err, "cannot create %s: %s", s->stage_dir,
			    strerror(-rc));
		return;
	}
	/* Every node reads these: whole files only (temp + rename). */
	if (stage_copy(s->jobs[0].r->kernel, s->kernel, &w->err) ||
	    stage_copy(s->jobs[0].r->initrd, s->initrd, &w->err))
		return;
	if (executor_slurm_script(s->script, &w->err))
		return;
	for (i = 0; i < s->n; i++) {
		struct sjob *j = &s->jobs[i];

		if (j->st == SJ_DONE)
			continue;
		if (rundir_spec_write(j->dir, j->r->cell, s->kernel,
				      s->initrd, &w->err))
			return;
	}
	/* Last: an array is only submitted once its runs' specs exist. */
	for (i = 0; i < s->n_arrays; i++) {
		if (stage_tasks(&s->arrays[i], &w->err))
			return;
		s->arrays[i].written = 1;
	}
	w->rc = 0;
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
		executor_slurm_say("%s", w->err.len ? w->err.buf :
				   uv_strerror(status));
		for (i = 0; i < s->n; i++)
			if (s->jobs[i].st != SJ_DONE && !s->stopping)
				executor_slurm_error(s, &s->jobs[i],
						     "shared directory: %s",
						     w->err.buf);
	} else {
		s->staged = 1;
	}
	strbuf_release(&w->err);
	free(w);
	executor_slurm_pump(s);
}

void executor_slurm_stage(struct executor_slurm *s)
{
	struct stage_work *w = xcalloc(1, sizeof(*w));

	w->s = s;
	strbuf_init(&w->err, 0);
	s->busy++;
	uv_queue_work(s->loop, &w->req, stage_cb, stage_after);
}

/* ---- the round's artifacts go once every job is over ---- */

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

void executor_slurm_unstage(struct executor_slurm *s)
{
	struct unstage_work *w = xcalloc(1, sizeof(*w));

	w->paths[0] = xstrdup(s->kernel);
	w->paths[1] = xstrdup(s->initrd);
	w->paths[2] = xstrdup(s->stage_dir);
	uv_queue_work(s->loop, &w->req, unstage_cb, unstage_after);
}

/* ---- scan: results written by the nodes ---- */

static void scan_cb(uv_work_t *req)
{
	struct scan_work *w = container_of(req, struct scan_work, req);
	size_t i;

	for (i = 0; i < w->n; i++) {
		struct scan_item *it = &w->items[i];

		it->rc = rundir_result_read(&it->res, it->dir, &it->err);
		if (it->rc > 0 && it->res.log)
			it->moved = rundir_console_take(it->dir, it->res.log,
							it->log_path);
		else if (it->rc == 0 && it->was_ended)
			/* Killed mid-run: its partial console still says
			 * how far it got. */
			it->moved = rundir_console_take(it->dir,
							RUNDIR_CONSOLE,
							it->log_path);
	}
}

static void scan_ingest(struct executor_slurm *s, struct scan_item *it)
{
	struct sjob *j = it->job;
	struct boot_run *r = j->r;

	if (it->moved) {
		/* The recorded path is the file's, as boot.c's. */
		free(r->log_path);
		r->log_path = it->moved;
		it->moved = NULL;
	}
	if (it->rc > 0) {
		judge_set(&r->judge, it->res.verdict, it->res.reason,
			  it->res.line);
		if (it->res.nonce && strlen(it->res.nonce) < sizeof(r->nonce))
			snprintf(r->nonce, sizeof(r->nonce), "%s",
				 it->res.nonce);
		r->started_at = it->res.started_at;
		r->duration_s = it->res.duration_s;
		executor_slurm_report(s, j);
	} else if (it->rc < 0) {
		executor_slurm_error(s, j, "Slurm job %s: %s", j->id,
				     it->err.buf);
	} else if (it->was_ended) {
		executor_slurm_error(s, j, "Slurm job %s ended %s without a "
				     "verdict", j->id, j->ended);
	}
}

static void scan_after(uv_work_t *req, int status)
{
	struct scan_work *w = container_of(req, struct scan_work, req);
	struct executor_slurm *s = w->s;
	size_t i;

	(void)status;
	s->busy--;
	for (i = 0; i < w->n; i++) {
		struct scan_item *it = &w->items[i];

		/* Once reported, a run is never ingested again (a job
		 * that wrote its result and was then requeued). */
		if (it->job->st != SJ_DONE && !s->stopping)
			scan_ingest(s, it);
		rundir_result_release(&it->res);
		strbuf_release(&it->err);
		free(it->dir);
		free(it->log_path);
		free(it->moved);
	}
	free(w->items);
	free(w);
	if (s->stopping || !executor_slurm_squeue(s))
		executor_slurm_pump(s);
}

int executor_slurm_scan(struct executor_slurm *s)
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
