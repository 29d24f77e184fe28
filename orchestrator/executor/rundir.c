/*
 * rundir: the files of a run's or a build's directory in the shared
 * directory. See rundir.h. Every write is fsutil_write_atomic (temp +
 * rename); every read takes the file whole and refuses what it cannot
 * trust (a log name that leaves the run's directory, a build's path
 * outside the shared directory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/rundir.h"
#include "lib/fsutil.h"
#include "lib/json.h"
#include "lib/xmalloc.h"

static int rundir_mkdir(const char *dir, struct strbuf *err)
{
	int rc = fsutil_mkdir_p(dir, 0755);

	if (rc < 0)
		strbuf_addf(err, "cannot create %s: %s", dir, strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/*
 * A spec the daemon wrote, which must be there, parsed into v (release
 * it in every case): 0, or -1 + err naming the file.
 */
static int spec_json(const char *path, struct json_value *v,
		     struct strbuf *err)
{
	int rc = json_file_read(v, path, err);

	if (rc == 0)
		strbuf_addf(err, "%s: %s", path, strerror(ENOENT));
	return rc > 0 ? 0 : -1;
}

/* DIR/result.json into v, *path its name (free it): as json_file_read. */
static int result_json(const char *dir, struct json_value *v, char **path,
		       struct strbuf *err)
{
	*path = xstrfmt("%s/%s", dir, RUNDIR_RESULT);
	return json_file_read(v, *path, err);
}

/* ---- a run's spec.json ---- */

void rundir_spec_format(struct strbuf *out, const struct cell *c,
			const char *kernel, const char *initrd)
{
	struct strbuf cj = STRBUF_INIT;
	struct json j;

	cell_format_json(c, &cj);
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

int rundir_spec_write(const char *dir, const struct cell *c,
		      const char *kernel, const char *initrd,
		      struct strbuf *err)
{
	struct strbuf spec = STRBUF_INIT;
	char *path;
	int rc;

	if (rundir_mkdir(dir, err))
		return -1;
	rundir_spec_format(&spec, c, kernel, initrd);
	path = xstrfmt("%s/%s", dir, RUNDIR_SPEC);
	rc = fsutil_write_atomic(path, spec.buf, spec.len);
	if (rc < 0)
		strbuf_addf(err, "cannot write the spec in %s: %s", dir,
			    strerror(-rc));
	free(path);
	strbuf_release(&spec);
	return rc < 0 ? -1 : 0;
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
		/* %g's shortest form: 16777216 and 0.25 both read back. */
		snprintf(num, sizeof(num), "%.17g", v->number);
		return cell_set(c, key, num, err);
	case JSON_ARRAY:
		/* probes: [] asks for none, unlike no probes key. */
		if (!v->n && !strcmp(key, "probes"))
			return cell_set(c, key, "", err);
		for (i = 0; i < v->n; i++)
			if (spec_set(c, key, &v->items[i], err))
				return -1;
		return 0;
	default:
		strbuf_addf(err, "%s: unexpected value", key);
		return -1;
	}
}

int rundir_spec_read(struct rundir_spec *s, const char *path,
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
	if (spec_json(path, &v, err) < 0)
		goto out;
	cj = json_get(&v, "cell");
	kernel = json_get_str(&v, "kernel");
	initrd = json_get_str(&v, "initrd");
	if (!cj || cj->type != JSON_OBJECT || !kernel || !initrd) {
		strbuf_addf(err, "%s: needs cell, kernel and initrd", path);
		goto out;
	}
	for (i = 0; i < cj->n; i++) {
		/* cell_format_json writes guest for libxl cells only, and
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
		rundir_spec_release(s);
	json_value_release(&v);
	strbuf_release(&msg);
	return ret;
}

void rundir_spec_release(struct rundir_spec *s)
{
	cell_release(&s->cell);
	free(s->kernel);
	free(s->initrd);
	memset(s, 0, sizeof(*s));
}

/* ---- a run's result.json and console ---- */

/*
 * A result.json, run's or build's: the caller's fields, then the node's
 * host name, written whole (temp + rename) so the daemon never reads half.
 */
static int result_finish(const char *dir, struct json *j, struct strbuf *sb)
{
	char host[256] = "";
	char *path = xstrfmt("%s/%s", dir, RUNDIR_RESULT);
	int ret;

	gethostname(host, sizeof(host) - 1);
	json_key_str(j, "host", host);
	json_object_end(j);
	strbuf_addch(sb, '\n');
	ret = fsutil_write_atomic(path, sb->buf, sb->len);
	strbuf_release(sb);
	free(path);
	return ret;
}

int rundir_result_write(const char *dir, const struct boot_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *log = strrchr(r->log_path, '/');
	struct json j;

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
	return result_finish(dir, &j, &sb);
}

int rundir_result_read(struct rundir_result *res, const char *dir,
		       struct strbuf *err)
{
	struct json_value v;
	const char *s;
	char *path;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = result_json(dir, &v, &path, err);
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
		rundir_result_release(res);
	json_value_release(&v);
	free(path);
	return ret;
}

void rundir_result_release(struct rundir_result *res)
{
	free(res->reason);
	free(res->line);
	free(res->nonce);
	free(res->log);
	free(res->host);
	memset(res, 0, sizeof(*res));
}

char *rundir_console_take(const char *dir, const char *name,
			  const char *log_path)
{
	const char *dot = strrchr(name, '.');
	char *from = xstrfmt("%s/%s", dir, name);
	char *to = dot && !strcmp(dot, ".zst") ?
		   xstrfmt("%s.zst", log_path) : xstrdup(log_path);

	/* Same file system: a rename; else a copy (temp + rename). */
	if (rename(from, to) < 0) {
		if (fsutil_copy(from, to) == 0) {
			unlink(from);
		} else {
			free(to);
			to = NULL;
		}
	}
	free(from);
	return to;
}

/* ---- an array's task file ---- */

int rundir_tasks_write(const char *dir, const char *const *run_dirs,
		       size_t n, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *path;
	size_t i;
	int rc;

	if (rundir_mkdir(dir, err))
		return -1;
	path = xstrfmt("%s/%s", dir, RUNDIR_TASKS);
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s\n", run_dirs[i]);
	rc = fsutil_write_atomic(path, sb.buf, sb.len);
	if (rc < 0)
		strbuf_addf(err, "cannot write %s: %s", path, strerror(-rc));
	strbuf_release(&sb);
	free(path);
	return rc < 0 ? -1 : 0;
}

/* ---- a build's spec.json ---- */

void rundir_build_spec_format(struct strbuf *out, const char *matrix_path,
			      const struct build *b,
			      const char *state_dir)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j);
	json_key_int(&j, "version", 1);
	json_key_str(&j, "matrix", matrix_path);
	json_key_str(&j, "tree", b->tree->name);
	json_key_str(&j, "build", b->config->name);
	json_key_str(&j, "commit", b->commit);
	json_key_str(&j, "repo", b->repo_path);
	json_key_str(&j, "state_dir", state_dir);
	json_key_int(&j, "jobs", b->jobs ? b->jobs : 1);
	json_object_end(&j);
	strbuf_addch(out, '\n');
}

int rundir_build_spec_write(const char *dir, const char *text,
			    struct strbuf *err)
{
	char *path;
	int rc;

	if (rundir_mkdir(dir, err))
		return -1;
	path = xstrfmt("%s/%s", dir, RUNDIR_SPEC);
	rc = fsutil_write_atomic(path, text, strlen(text));
	if (rc < 0)
		strbuf_addf(err, "cannot write %s: %s", path, strerror(-rc));
	free(path);
	return rc < 0 ? -1 : 0;
}

int rundir_build_spec_read(struct rundir_build_spec *s, const char *path,
			   struct strbuf *err)
{
	static const char *const keys[] = {
		"matrix", "tree", "build", "commit", "repo", "state_dir",
	};
	char **dst[] = {
		&s->matrix, &s->tree, &s->build, &s->commit, &s->repo,
		&s->state_dir,
	};
	struct json_value v;
	double jobs = 1;
	size_t i;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (spec_json(path, &v, err) < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *val = json_get_str(&v, keys[i]);

		if (!val || !*val) {
			strbuf_addf(err, "%s: needs %s", path, keys[i]);
			goto out;
		}
		*dst[i] = xstrdup(val);
	}
	json_get_number(&v, "jobs", &jobs);
	s->jobs = jobs >= 1 && jobs <= 1024 ? (unsigned)jobs : 1;
	ret = 0;
out:
	if (ret)
		rundir_build_spec_release(s);
	json_value_release(&v);
	return ret;
}

void rundir_build_spec_release(struct rundir_build_spec *s)
{
	free(s->matrix);
	free(s->tree);
	free(s->build);
	free(s->commit);
	free(s->repo);
	free(s->state_dir);
	memset(s, 0, sizeof(*s));
}

/* ---- a build's result.json ---- */

int rundir_build_result_write(const char *dir, const struct build *b)
{
	struct strbuf sb = STRBUF_INIT;
	struct json j;

	json_init(&j, &sb);
	json_object_begin(&j);
	json_key_str(&j, "status", build_status_name(b->status));
	json_key_str(&j, "reason", b->reason);
	json_key_str(&j, "errors", b->errors);
	json_key_str(&j, "log", b->log_path);
	json_key_str(&j, "image", b->image_path);
	json_key_double(&j, "started_at", b->started_at);
	json_key_double(&j, "duration_s", b->duration_s);
	return result_finish(dir, &j, &sb);
}

/* A path the node wrote: only under the shared directory. */
static char *shared_path(const char *p, const char *shared)
{
	size_t n = strlen(shared);

	if (!p || !*p || strncmp(p, shared, n) || p[n] != '/' ||
	    strstr(p, "/../"))
		return NULL;
	return xstrdup(p);
}

int rundir_build_result_read(struct build *res, const char *dir,
			     const char *shared, struct strbuf *err)
{
	static const enum build_status known[] = {
		BUILD_OK, BUILD_FAILED, BUILD_ERROR,
	};
	struct json_value v;
	const char *st, *s;
	char *path;
	size_t i;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = result_json(dir, &v, &path, err);
	if (ret <= 0)
		goto out;
	ret = -1;
	st = json_get_str(&v, "status");
	res->status = BUILD_PENDING;
	for (i = 0; st && i < ARRAY_SIZE(known); i++)
		if (!strcmp(st, build_status_name(known[i])))
			res->status = known[i];
	if (res->status == BUILD_PENDING) {
		strbuf_addf(err, "%s: no build status", path);
		goto out;
	}
	s = json_get_str(&v, "reason");
	res->reason = xstrdup(s ? s : "");
	s = json_get_str(&v, "errors");
	res->errors = xstrdup(s ? s : "");
	res->log_path = shared_path(json_get_str(&v, "log"), shared);
	if (!res->log_path)
		res->log_path = xstrdup("");
	res->image_path = shared_path(json_get_str(&v, "image"), shared);
	if (res->status == BUILD_OK && !res->image_path) {
		strbuf_addf(err, "%s: a build OK without an image in %s",
			    path, shared);
		goto out;
	}
	json_get_number(&v, "started_at", &res->started_at);
	json_get_number(&v, "duration_s", &res->duration_s);
	ret = 1;
out:
	if (ret < 0)
		build_release(res);
	json_value_release(&v);
	free(path);
	return ret;
}
