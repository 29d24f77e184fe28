/*
 * job-record: a job's store calls. Each is an op on the owner's store
 * thread (record-thread.h), so the loop never waits for SQLite; ops run in
 * submission order, which is what puts a job's verdicts on disk before
 * the op that marks it done. The job counts them in flight (j->pending)
 * and ends only when none is. What follows an op is the `after` function
 * the caller gave: this file decides nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "schedule/job-priv.h"
#include "lib/timeutil.h"
#include "store/record-web.h"
#include "lib/xmalloc.h"

struct job_op {
	struct job *j;
	int (*fn)(struct record *r, struct job_op *op, struct strbuf *err);
	job_record_after_fn after;
	struct record_run run;
	struct record_build build;	/* strings borrowed from the job */
	double not_before;
	int pgid;
};

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
	op->after(j, rc, err);
	record_run_release(&op->run);
	free(op);
}

static void submit(struct job *j,
		   int (*fn)(struct record *, struct job_op *,
			     struct strbuf *),
		   job_record_after_fn after, struct job_op *op)
{
	op->j = j;
	op->fn = fn;
	op->after = after;
	j->pending++;
	record_thread_submit(j->env->store, op_run, op_done, op);
}

static struct job_op *new_op(void)
{
	return xcalloc(1, sizeof(struct job_op));
}

/* ---- the start: what the store has ---- */

static int prepare_fn(struct record *r, struct job_op *op, struct strbuf *err)
{
	struct job *j = op->j;
	struct record_web_kernel k;
	int have;

	if (j->web) {
		have = record_web_kernels_get(r, j->rj.commit_id, &k, err);
		if (have < 0)
			return -1;
		if (have)
			j->web_image = xstrdup(k.path);
		record_web_kernel_release(&k);
		return record_build_job_plan(r, j->rj.tree, j->rj.commit_id,
					     j->rj.build, &j->scope_all,
					     &j->plan, &j->n_plan, err);
	}
	have = record_build_last(r, j->rj.tree, j->rj.commit_id, j->rj.build,
				 &j->last_build, err);
	if (have < 0)
		return -1;
	j->have_last_build = have;
	if (record_build_recent_fails(r, j->rj.tree, j->rj.build,
				      JOB_PLAN_RECENT_RUNS,
				      JOB_PLAN_RECENT_WINDOW, &j->failed,
				      &j->n_failed, err) < 0)
		return -1;
	return record_build_job_plan(r, j->rj.tree, j->rj.commit_id,
				     j->rj.build,
				     &j->scope_all, &j->plan, &j->n_plan, err);
}

void job_record_prepare(struct job *j, job_record_after_fn after)
{
	submit(j, prepare_fn, after, new_op());
}

/* ---- runs ---- */

static int add_run_fn(struct record *r, struct job_op *op, struct strbuf *err)
{
	return record_add_run(r, &op->run, err);
}

void job_record_run(struct job *j, const char *cell, enum verdict v,
		    const char *reason, const char *line, double started_at,
		    double duration_s, const char *log_path, const char *nonce,
		    const char *purpose, const struct boot_run *r,
		    job_record_after_fn after)
{
	struct job_op *op = new_op();
	struct record_run *run = &op->run;
	const struct job_todo *todo;

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
	if (r)
		boot_run_probes(r, &run->probes, &run->n_probes,
				&run->fingerprint);
	todo = job_plan_find(j, cell);
	if (todo) {
		run->env_key = xstrdup(todo->env.key);
		run->hv_build = xstrdup(todo->env.hypervisor);
	}
	submit(j, add_run_fn, after, op);
}

/* ---- verdicts carried over (record-reuse.c) ---- */

static int reuse_find_fn(struct record *r, struct job_op *op,
			 struct strbuf *err)
{
	struct job *j = op->j;
	struct record_run found;
	size_t i;
	int rc;

	for (i = 0; i < j->n_todo; i++) {
		struct job_todo *t = &j->todo[i];

		/* Confirmations, bisection steps and any other purpose ask
		 * for a boot of their own: only a first test is carried. */
		if (!t->runs || strcmp(t->purpose, "test") || !*t->env.key)
			continue;
		rc = record_reuse_find(r, j->kernel.id, t->env.key, &found,
				       err);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			t->reuse = xmalloc(sizeof(*t->reuse));
			*t->reuse = found;
		}
	}
	return 0;
}

void job_record_reuse_find(struct job *j, job_record_after_fn after)
{
	submit(j, reuse_find_fn, after, new_op());
}

static struct record_probe *probes_dup(const struct record_probe *p,
				       size_t n)
{
	struct record_probe *v = xcalloc(n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].name = xstrdup(p[i].name);
		v[i].result = xstrdup(p[i].result);
		v[i].detail = xstrdup(p[i].detail);
		v[i].seconds = p[i].seconds;
	}
	return v;
}

void job_record_reused(struct job *j, const struct job_todo *t,
		       job_record_after_fn after)
{
	struct job_op *op = new_op();
	struct record_run *run = &op->run;
	const struct record_run *o = t->reuse;

	run->batch = xstrdup(j->batch);
	run->kernel_id = xstrdup(j->kernel.id);
	run->kernel_path = xstrdup(j->kernel.path ? j->kernel.path : "");
	run->kernel_version = xstrdup(j->kernel.version ?
				      j->kernel.version : "");
	run->cell = xstrdup(t->cell->name);
	run->matrix_path = xstrdup(j->m->path ? j->m->path : "");
	run->verdict = o->verdict;
	run->reason = xstrdup(o->reason);
	run->line = xstrdup(o->line);
	run->started_at = timeutil_now();
	run->duration_s = 0;
	/* The console that decided it is the original's: nothing ran. */
	run->log_path = xstrdup(o->log_path);
	run->tree = xstrdup(j->rj.tree);
	run->commit_id = xstrdup(j->rj.commit_id);
	run->build = xstrdup(j->rj.build);
	run->purpose = xstrdup(t->purpose);
	/* The same environment: the releases that judged it. */
	run->qemu_version = xstrdup(o->qemu_version);
	run->xen_version = xstrdup(o->xen_version);
	run->probes = probes_dup(o->probes, o->n_probes);
	run->n_probes = o->n_probes;
	run->fingerprint = xstrdup(o->fingerprint ? o->fingerprint : "");
	run->env_key = xstrdup(t->env.key);
	run->hv_build = xstrdup(t->env.hypervisor);
	run->reused_from = o->id;
	submit(j, add_run_fn, after, op);
}

/* ---- the build ---- */

static int add_build_fn(struct record *r, struct job_op *op,
			struct strbuf *err)
{
	return record_build_add(r, &op->build, err);
}

void job_record_build(struct job *j, enum record_build_status s,
		      job_record_after_fn after)
{
	struct job_op *op = new_op();
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
	submit(j, add_build_fn, after, op);
}

static int set_pgid_fn(struct record *r, struct job_op *op,
		       struct strbuf *err)
{
	return record_queue_job_set_pgid(r, op->j->rj.id, op->pgid, err);
}

void job_record_pgid(struct job *j, int pgid, job_record_after_fn after)
{
	struct job_op *op = new_op();

	op->pgid = pgid;
	submit(j, set_pgid_fn, after, op);
}

/* ---- the end ---- */

static int finish_fn(struct record *r, struct job_op *op, struct strbuf *err)
{
	struct job *j = op->j;

	if (j->requeue)
		return record_queue_job_requeue(r, j->rj.id, err);
	if (j->defer)
		return record_queue_job_defer(r, j->rj.id, op->not_before,
					      j->defer, err);
	return record_queue_job_finish(r, j->rj.id, err);
}

void job_record_finish(struct job *j, double not_before,
		       job_record_after_fn after)
{
	struct job_op *op = new_op();

	op->not_before = not_before;
	submit(j, finish_fn, after, op);
}
