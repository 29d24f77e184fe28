/*
 * executor-slurm-round: a round's runs, arrays and files on Slurm. See
 * executor-slurm-round.h. The file work is for the thread pool: it reads
 * only what does not change once the round is set up, and writes only
 * its own work item, which the loop reads once the work is over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/executor-slurm-round.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

#define EXEC_SLURM_RUN_GRACE_S 60	/* past the cell's timeout: cancel */

/* ---- the round's runs and arrays ---- */

/* What a run asks Slurm for (its CPUs, memory and time), and its limit. */
static void run_request(struct executor_slurm_run *x)
{
	const struct cell *c = x->r->cell;
	unsigned dom0_s = cell_is_xen(c) ? BOOT_DOM0_BOOT_S : 0;

	x->cpus = c->smp;
	/* Slurm's limit is in minutes: the run's own timeout, the dom0's
	 * start for Xen, and room for run-cell around QEMU. */
	x->minutes = (x->r->timeout_s + EXEC_SLURM_RUN_GRACE_S + 59 +
		      dom0_s) / 60;
	x->mem_mb = (c->backend == CELL_BACKEND_XEN_LIBXL ?
		     BOOT_DOM0_MEMORY_MB : c->memory_mb) + 256;
	x->job.limit_s = x->r->timeout_s + EXEC_SLURM_RUN_GRACE_S + dom0_s;
	x->job.limit_note = xstrfmt(" (the cell's timeout is %u s)",
				    c->timeout_s);
}

static int same_request(const struct executor_slurm_run *a,
			const struct executor_slurm_run *b)
{
	return a->cpus == b->cpus && a->mem_mb == b->mem_mb &&
	       a->minutes == b->minutes;
}

/*
 * The runs still to submit, grouped by identical requests; a group of two
 * or more is an array. A task file lists directories one a line: a
 * shared_dir with a newline in it gets no arrays.
 */
static void group_arrays(struct executor_slurm_round *rd,
			 const struct matrix_executor *cfg)
{
	size_t i, k, n;
	int *taken;

	if (cfg->no_arrays || strchr(cfg->shared_dir, '\n'))
		return;
	taken = xcalloc(rd->n, sizeof(*taken));
	rd->arrays = xcalloc(rd->n, sizeof(*rd->arrays));
	for (i = 0; i < rd->n; i++) {
		struct executor_slurm_run *x = &rd->runs[i];
		struct executor_slurm_array *a;

		if (taken[i] || x->decided)
			continue;
		for (k = i + 1, n = 1; k < rd->n; k++)
			if (!taken[k] && !rd->runs[k].decided &&
			    same_request(x, &rd->runs[k]))
				n++;
		if (n < 2)
			continue;
		a = &rd->arrays[rd->n_arrays++];
		a->name = xstrfmt("hvm-a-%s", x->r->nonce);
		a->dir = xstrfmt("%s/arrays/%s", cfg->shared_dir, a->name);
		a->members = xcalloc(n, sizeof(*a->members));
		for (k = i; k < rd->n; k++) {
			struct executor_slurm_run *m = &rd->runs[k];

			if (taken[k] || m->decided || !same_request(x, m))
				continue;
			taken[k] = 1;
			m->arr = a;
			m->task = (unsigned)a->n;
			a->members[a->n++] = m;
		}
	}
	free(taken);
}

void executor_slurm_round_init(struct executor_slurm_round *rd,
			       uv_loop_t *loop,
			       const struct matrix_executor *cfg,
			       struct boot_run *runs, size_t n)
{
	size_t i;

	memset(rd, 0, sizeof(*rd));
	rd->loop = loop;
	rd->n = n;
	rd->runs = xcalloc(n, sizeof(*rd->runs));
	/* One stage per round, named after its first run: unique. */
	rd->stage_dir = xstrfmt("%s/stage/%s", cfg->shared_dir,
				runs[0].nonce);
	rd->kernel = xstrfmt("%s/kernel", rd->stage_dir);
	rd->initrd = xstrfmt("%s/initrd", rd->stage_dir);
	rd->script = xstrfmt("%s/%s", cfg->shared_dir, SLURM_JOB_SCRIPT);
	for (i = 0; i < n; i++) {
		struct executor_slurm_run *x = &rd->runs[i];

		x->r = &runs[i];
		slurm_job_init(&x->job, "job", cfg->pending_s);
		x->own_name = xstrfmt("hvm-%s", runs[i].nonce);
		x->job.name = x->own_name;
		x->dir = xstrfmt("%s/runs/%s", cfg->shared_dir, x->own_name);
		run_request(x);
		if (judge_verdict(&runs[i].judge) != VERDICT_NONE) {
			x->job.st = SLURM_JOB_DONE;
			x->decided = 1;
		}
	}
	group_arrays(rd, cfg);
}

void executor_slurm_round_release(struct executor_slurm_round *rd)
{
	size_t i;

	for (i = 0; i < rd->n; i++) {
		slurm_job_release(&rd->runs[i].job);
		free(rd->runs[i].own_name);
		free(rd->runs[i].dir);
	}
	for (i = 0; i < rd->n_arrays; i++) {
		free(rd->arrays[i].name);
		free(rd->arrays[i].dir);
		free(rd->arrays[i].members);
	}
	free(rd->arrays);
	free(rd->runs);
	free(rd->stage_dir);
	free(rd->kernel);
	free(rd->initrd);
	free(rd->script);
	memset(rd, 0, sizeof(*rd));
}

/* ---- staging ---- */

struct stage_work {
	uv_work_t req;
	struct executor_slurm_round *rd;
	void (*done)(struct executor_slurm_round *rd, const char *err);
	struct strbuf err;
	int rc;
};

static int stage_copy(const char *from, const char *to, struct strbuf *err)
{
	int rc = fsutil_copy(from, to);

	if (rc < 0)
		strbuf_addf(err, "cannot copy %s to %s: %s", from, to,
			    strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/* An array's task file: line i is task i's run directory. */
static int stage_tasks(const struct executor_slurm_array *a,
		       struct strbuf *err)
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

static void stage_cb(uv_work_t *req)
{
	struct stage_work *w = container_of(req, struct stage_work, req);
	struct executor_slurm_round *rd = w->rd;
	int rc;
	size_t i;

	w->rc = -1;
	rc = fsutil_mkdir_p(rd->stage_dir, 0755);
	if (rc < 0) {
		strbuf_addf(&w->err, "cannot create %s: %s", rd->stage_dir,
			    strerror(-rc));
		return;
	}
	/* Every node reads these: whole files only (temp + rename). */
	if (stage_copy(rd->runs[0].r->kernel, rd->kernel, &w->err) ||
	    stage_copy(rd->runs[0].r->initrd, rd->initrd, &w->err))
		return;
	if (slurm_job_script_write(rd->script, &w->err))
		return;
	for (i = 0; i < rd->n; i++) {
		const struct executor_slurm_run *x = &rd->runs[i];

		if (x->decided)
			continue;
		if (rundir_spec_write(x->dir, x->r->cell, rd->kernel,
				      rd->initrd, &w->err))
			return;
	}
	/* Last: an array is only submitted once its runs' specs exist. */
	for (i = 0; i < rd->n_arrays; i++) {
		if (stage_tasks(&rd->arrays[i], &w->err))
			return;
		rd->arrays[i].written = 1;
	}
	w->rc = 0;
}

static void stage_after(uv_work_t *req, int status)
{
	struct stage_work *w = container_of(req, struct stage_work, req);

	if (w->rc < 0 || status < 0) {
		if (!w->err.len)
			strbuf_addstr(&w->err, uv_strerror(status));
		w->done(w->rd, w->err.buf);
	} else {
		w->done(w->rd, NULL);
	}
	strbuf_release(&w->err);
	free(w);
}

void executor_slurm_round_stage(struct executor_slurm_round *rd,
				void (*done)(struct executor_slurm_round *rd,
					     const char *err))
{
	struct stage_work *w = xcalloc(1, sizeof(*w));

	w->rd = rd;
	w->done = done;
	strbuf_init(&w->err, 0);
	uv_queue_work(rd->loop, &w->req, stage_cb, stage_after);
}

/* ---- the scan: results written by the nodes ---- */

struct scan_work {
	uv_work_t req;
	struct executor_slurm_round *rd;
	void (*done)(struct executor_slurm_round *rd,
		     struct executor_slurm_scan *items, size_t n);
	struct executor_slurm_scan *items;
	size_t n;
};

static void scan_cb(uv_work_t *req)
{
	struct scan_work *w = container_of(req, struct scan_work, req);
	size_t i;

	for (i = 0; i < w->n; i++) {
		struct executor_slurm_scan *it = &w->items[i];

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

static void scan_after(uv_work_t *req, int status)
{
	struct scan_work *w = container_of(req, struct scan_work, req);
	size_t i;

	(void)status;
	w->done(w->rd, w->items, w->n);
	for (i = 0; i < w->n; i++) {
		struct executor_slurm_scan *it = &w->items[i];

		rundir_result_release(&it->res);
		strbuf_release(&it->err);
		free(it->dir);
		free(it->log_path);
		free(it->moved);
	}
	free(w->items);
	free(w);
}

int executor_slurm_round_scan(struct executor_slurm_round *rd,
			      void (*done)(struct executor_slurm_round *rd,
					   struct executor_slurm_scan *items,
					   size_t n))
{
	struct scan_work *w;
	size_t i, n = 0;

	for (i = 0; i < rd->n; i++)
		if (rd->runs[i].job.st == SLURM_JOB_QUEUED)
			n++;
	if (!n)
		return 0;
	w = xcalloc(1, sizeof(*w));
	w->rd = rd;
	w->done = done;
	w->items = xcalloc(n, sizeof(*w->items));
	for (i = 0; i < rd->n; i++) {
		struct executor_slurm_run *x = &rd->runs[i];
		struct executor_slurm_scan *it;

		if (x->job.st != SLURM_JOB_QUEUED)
			continue;
		it = &w->items[w->n++];
		it->run = x;
		it->dir = xstrdup(x->dir);
		it->log_path = xstrdup(x->r->log_path);
		it->was_ended = slurm_job_scan_start(&x->job);
		strbuf_init(&it->err, 0);
	}
	uv_queue_work(rd->loop, &w->req, scan_cb, scan_after);
	return 1;
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

void executor_slurm_round_unstage(struct executor_slurm_round *rd)
{
	struct unstage_work *w = xcalloc(1, sizeof(*w));

	/* Copies: the round may be freed before the work runs. */
	w->paths[0] = xstrdup(rd->kernel);
	w->paths[1] = xstrdup(rd->initrd);
	w->paths[2] = xstrdup(rd->stage_dir);
	uv_queue_work(rd->loop, &w->req, unstage_cb, unstage_after);
}
