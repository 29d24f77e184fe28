/*
 * executor: splits a round of runs between boot.c (here) and Slurm
 * (executor-slurm.c), and owns the files a run's directory in the shared
 * directory holds. See executor.h. It never blocks: both halves are
 * asynchronous, and the file helpers are for the thread pool or for
 * run-cell, never for the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/executor.h"
#include "lib/fsutil.h"
#include "lib/json.h"
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

/* ---- spec.json ---- */

void executor_spec_format(struct strbuf *out, const struct cell *c,
			  const char *kernel, const char *initrd)
{
	struct strbuf cj = STRBUF_INIT;
	struct json j;

	cell_to_json(c, &cj);
	json_init(&j, out);
	json_object_begin(&j);
	json_key_int(&j, "version", 1);
	json_key(&j, "cell");
	json_raw(&j, cj.buf);
	json_key_str(&j, "kernel", kernel);
	json_key_str(&j, "initrd", initrd);
	json_object_end(&j);
	strbuf_addch(out, '\n');
	strbuf_release(&cj);
}

/* One member of the cell's JSON back through cell_set(), as text. */
static int spec_set(struct cell *c, const char *key,
		    const struct json_value *v, struct strbuf *err)
{
	char num[32];
	size_t i;

	switch (v->type) {
	case JSON_NULL:
		return 0;
	case JSON_STRING:
		return cell_set(c, key, v->string, err);
	case JSON_NUMBER:
		snprintf(num, sizeof(num), "%.0f", v->number);
		return cell_set(c, key, num, err);
	case JSON_ARRAY:
		for (i = 0; i < v->n; i++)
			if (spec_set(c, key, &v->items[i], err))
				return -1;
		return 0;
	default:
		strbuf_addf(err, "%s: unexpected value", key);
		return -1;
	}
}

int executor_spec_json(const char *path, struct json_value *v,
		       struct strbuf *err)
{
	int rc = json_file_read(v, path, err);

	if (rc == 0)
		strbuf_addf(err, "%s: %s", path, strerror(ENOENT));
	return rc > 0 ? 0 : -1;
}

int executor_spec_read(struct executor_spec *s, const char *path,
		       struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	struct json_value v;
	const struct json_value *cj;
	const char *kernel, *initrd;
	size_t i;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	cell_init(&s->cell);
	if (executor_spec_json(path, &v, err) < 0)
		goto out;
	cj = json_get(&v, "cell");
	kernel = json_get_str(&v, "kernel");
	initrd = json_get_str(&v, "initrd");
	if (!cj || cj->type != JSON_OBJECT || !kernel || !initrd) {
		strbuf_addf(err, "%s: needs cell, kernel and initrd", path);
		goto out;
	}
	for (i = 0; i < cj->n; i++) {
		/* cell_to_json writes guest for libxl cells only, and
		 * cell_set refuses nothing else it writes. */
		if (spec_set(&s->cell, cj->keys[i], &cj->items[i], &msg)) {
			strbuf_addf(err, "%s: cell: %s", path, msg.buf);
			goto out;
		}
	}
	if (cell_validate(&s->cell, &msg) < 0) {
		strbuf_addf(err, "%s: cell: %s", path, msg.buf);
		goto out;
	}
	s->kernel = xstrdup(kernel);
	s->initrd = xstrdup(initrd);
	ret = 0;
out:
	if (ret)
		executor_spec_release(s);
	json_value_release(&v);
	strbuf_release(&msg);
	return ret;
}

void executor_spec_release(struct executor_spec *s)
{
	cell_release(&s->cell);
	free(s->kernel);
	free(s->initrd);
	memset(s, 0, sizeof(*s));
}

/* ---- result.json ---- */

int executor_result_write(const char *dir, const struct boot_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	char host[256] = "";
	const char *log = strrchr(r->log_path, '/');
	char *path = xstrfmt("%s/%s", dir, EXECUTOR_RESULT);
	struct json j;
	int ret;

	gethostname(host, sizeof(host) - 1);
	log = log ? log + 1 : r->log_path;
	json_init(&j, &sb);
	json_object_begin(&j);
	json_key_str(&j, "cell", r->cell->name);
	json_key_str(&j, "verdict", verdict_name(judge_verdict(&r->judge)));
	json_key_str(&j, "reason", r->judge.reason);
	json_key_str(&j, "line", r->judge.line);
	json_key_str(&j, "nonce", r->nonce);
	json_key_double(&j, "started_at", r->started_at);
	json_key_double(&j, "duration_s", r->duration_s);
	/* boot.c has made it the compressed log's path by now. */
	json_key_str(&j, "log", access(r->log_path, F_OK) == 0 ? log : NULL);
	json_key_str(&j, "host", host);
	json_object_end(&j);
	strbuf_addch(&sb, '\n');
	ret = fsutil_write_atomic(path, sb.buf, sb.len);
	strbuf_release(&sb);
	free(path);
	return ret;
}

int executor_result_json(const char *dir, struct json_value *v,
			 char **path, struct strbuf *err)
{
	*path = xstrfmt("%s/%s", dir, EXECUTOR_RESULT);
	return json_file_read(v, *path, err);
}

int executor_result_read(struct executor_result *res, const char *dir,
			 struct strbuf *err)
{
	struct json_value v;
	const char *s;
	char *path;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = executor_result_json(dir, &v, &path, err);
	if (ret <= 0)
		goto out;
	ret = -1;
	s = json_get_str(&v, "verdict");
	res->verdict = s ? verdict_parse(s) : VERDICT_NONE;
	if (res->verdict == VERDICT_NONE) {
		strbuf_addf(err, "%s: no verdict", path);
		goto out;
	}
	s = json_get_str(&v, "reason");
	res->reason = xstrdup(s ? s : "");
	s = json_get_str(&v, "line");
	res->line = xstrdup(s ? s : "");
	s = json_get_str(&v, "nonce");
	res->nonce = s ? xstrdup(s) : NULL;
	s = json_get_str(&v, "log");
	/* A bare file name: never a path out of the run's directory. */
	res->log = s && *s && !strchr(s, '/') && s[0] != '.' ?
		   xstrdup(s) : NULL;
	s = json_get_str(&v, "host");
	res->host = xstrdup(s ? s : "");
	json_get_number(&v, "started_at", &res->started_at);
	json_get_number(&v, "duration_s", &res->duration_s);
	ret = 1;
out:
	if (ret < 0)
		executor_result_release(res);
	json_value_release(&v);
	free(path);
	return ret;
}

void executor_result_release(struct executor_result *res)
{
	free(res->reason);
	free(res->line);
	free(res->nonce);
	free(res->log);
	free(res->host);
	memset(res, 0, sizeof(*res));
}
