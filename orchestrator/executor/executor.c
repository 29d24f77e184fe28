/*
 * executor: splits a round of runs between boot.c (here) and Slurm
 * (executor-slurm.c). See executor.h. It never blocks: both halves are
 * asynchronous.
 */
#include <stdlib.h>
#include <string.h>

#include "executor/executor.h"
#include "executor/executor-slurm.h"
#include "lib/xmalloc.h"

struct executor {
	struct boot *local;
	struct executor_slurm *slurm;
	struct boot_opts opts;	/* the caller's */
	int parts;		/* halves not done yet */
};

/* Both halves report to x; it forwards to the caller's callbacks. */
static void part_started(struct boot_run *r, void *data)
{
	struct executor *x = data;

	if (x->opts.on_start)
		x->opts.on_start(r, x->opts.data);
}

static void part_run_done(struct boot_run *r, void *data)
{
	struct executor *x = data;

	if (x->opts.on_done)
		x->opts.on_done(r, x->opts.data);
}

static void part_done(void *data)
{
	struct executor *x = data;

	if (--x->parts == 0 && x->opts.on_all_done)
		x->opts.on_all_done(x->opts.data);
}

struct executor *executor_start(uv_loop_t *loop, const struct matrix *m,
				struct boot_run *runs, size_t n,
				const struct boot_opts *opts)
{
	struct executor *x = xcalloc(1, sizeof(*x));
	struct boot_opts sub = {
		.jobs = opts->jobs, .on_start = part_started,
		.on_done = part_run_done, .on_all_done = part_done, .data = x,
	};
	struct boot_run *tmp;
	size_t i, nl = 0, ns = 0;

	x->opts = *opts;
	/* Stable partition, local runs first: nothing has started, so a
	 * run is still plain data and may move. */
	tmp = xcalloc(n + 1, sizeof(*tmp));
	for (i = 0; i < n; i++)
		if (matrix_cell_executor(m, runs[i].cell) ==
		    MATRIX_EXECUTOR_LOCAL)
			tmp[nl++] = runs[i];
	for (i = 0; i < n; i++)
		if (matrix_cell_executor(m, runs[i].cell) !=
		    MATRIX_EXECUTOR_LOCAL)
			tmp[nl + ns++] = runs[i];
	memcpy(runs, tmp, n * sizeof(*runs));
	free(tmp);
	/* Both counted before either starts: a half may end at once. */
	x->parts = (nl > 0 || !ns) + (ns > 0);
	if (nl || !ns)
		x->local = boot_start(loop, runs, nl, &sub);
	if (ns)
		x->slurm = executor_slurm_start(loop, &m->executor, runs + nl,
						ns, &sub);
	return x;
}

void executor_stop(struct executor *x)
{
	if (x->local)
		boot_stop(x->local);
	if (x->slurm)
		executor_slurm_stop(x->slurm);
}

void executor_load(const struct executor *x, size_t *waiting,
		   unsigned *running)
{
	size_t w = 0;
	unsigned r = 0;

	*waiting = 0;
	*running = 0;
	if (x->local)
		boot_load(x->local, waiting, running);
	if (x->slurm) {
		executor_slurm_load(x->slurm, &w, &r);
		*waiting += w;
		*running += r;
	}
}

void executor_free(struct executor *x)
{
	if (!x)
		return;
	boot_free(x->local);
	if (x->slurm)
		executor_slurm_free(x->slurm);
	free(x);
}
