/*
 * kcidb: see kcidb.h. kcidb_collect() walks the recorded runs once (newest
 * first, as record_list_runs gives them), adds each run's build and
 * checkout the first time it is seen, then the regressions as issues with
 * an incident per failing test of their first bad commit. kcidb_write()
 * is the only place that emits JSON, and it leaves out every value that
 * is unknown rather than writing null (the schema has no nullable field).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hypervisors.h"
#include "json.h"
#include "kcidb.h"
#include "logfile.h"
#include "regressions.h"
#include "xmalloc.h"

int kcidb_origin_ok(const char *origin)
{
	const char *p;

	if (!origin || !*origin)
		return 0;
	for (p = origin; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return 0;
	return 1;
}

const char *kcidb_test_status(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "PASS";
	case VERDICT_FAIL:
		return "FAIL";
	case VERDICT_ERROR:
		return "ERROR";
	case VERDICT_SKIP:
		return "SKIP";
	case VERDICT_BLOCKED:
		/* The build broke: the test was never run. */
		return "MISS";
	default:
		return NULL;
	}
}

const char *kcidb_build_status(enum record_build_status s)
{
	switch (s) {
	case RECORD_BUILD_OK:
		return "PASS";
	case RECORD_BUILD_FAILED:
		return "FAIL";
	case RECORD_BUILD_ERROR:
		return "ERROR";
	default:
		return NULL;
	}
}

void kcidb_test_path(struct strbuf *out, const char *cell)
{
	const char *p;

	strbuf_addstr(out, "boot.");
	for (p = cell; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';

		strbuf_addch(out, ok ? *p : '_');
	}
	if (!*cell)
		strbuf_addch(out, '_');
}

void kcidb_excerpt(struct strbuf *out, const char *text, size_t len,
		   size_t max)
{
	size_t start = len > max ? len - max : 0, i, from;

	/* Never start inside a character: skip its continuation bytes. */
	while (start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
		start++;
	for (i = from = start; i < len; i++) {
		if (text[i])
			continue;
		strbuf_add(out, text + from, i - from);
		from = i + 1;
	}
	strbuf_add(out, text + from, len - from);
}

int kcidb_log_tail(const char *path, size_t max, struct strbuf *out,
		   struct strbuf *err)
{
	struct logfile_reader *rd = NULL;
	struct strbuf tail = STRBUF_INIT, clean = STRBUF_INIT;
	char buf[65536];
	size_t start;
	ssize_t n;
	int ret = -1;

	if (logfile_open_read(&rd, path, err) < 0)
		return -1;
	/* Stream it: a log is up to its cell's log_limit (16 MiB). */
	while ((n = logfile_read(rd, buf, sizeof(buf), err)) > 0) {
		strbuf_add(&tail, buf, (size_t)n);
		if (tail.len > 2 * max + sizeof(buf)) {
			memmove(tail.buf, tail.buf + tail.len - max, max);
			strbuf_setlen(&tail, max);
		}
	}
	if (n < 0)
		goto out;
	/* Text for people: the guest's terminal escapes dropped, valid
	 * UTF-8, controls as their pictures (no NUL), one character each. */
	start = tail.len > 2 * max ? tail.len - 2 * max : 0;
	while (start < tail.len &&
	       ((unsigned char)tail.buf[start] & 0xc0) == 0x80)
		start++;
	strbuf_add_clean(&clean, tail.buf + start, tail.len - start, 0);
	kcidb_excerpt(out, clean.buf, clean.len, max);
	ret = 0;
out:
	logfile_close_read(rd);
	strbuf_release(&tail);
	strbuf_release(&clean);
	return ret;
}

/* Digits [lo, hi] of width n at *p, advancing p. */
static int take_num(const char **p, int n, int lo, int hi, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*p += n;
	*out = v;
	return 0;
}

int kcidb_parse_time(const char *s, double *out)
{
	struct tm tm;
	const char *p = s;
	double frac = 0;
	long offset = 0;
	char *end;
	time_t t;

	if (!s || !*s)
		return -1;
	if (strspn(s, "0123456789.") == strlen(s)) {
		double v = strtod(s, &end);

		if (*end || v < 0)
			return -1;
		*out = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (take_num(&p, 4, 1970, 9999, &tm.tm_year) || *p++ != '-' ||
	    take_num(&p, 2, 1, 12, &tm.tm_mon) || *p++ != '-' ||
	    take_num(&p, 2, 1, 31, &tm.tm_mday))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (take_num(&p, 2, 0, 23, &tm.tm_hour) || *p++ != ':' ||
		    take_num(&p, 2, 0, 59, &tm.tm_min))
			return -1;
		if (*p == ':') {
			p++;
			if (take_num(&p, 2, 0, 60, &tm.tm_sec))
				return -1;
			if (*p == '.' || *p == ',') {
				const char *f = p + 1;
				double scale = 0.1;

				if (*f < '0' || *f > '9')
					return -1;
				for (; *f >= '0' && *f <= '9'; f++) {
					frac += (*f - '0') * scale;
					scale /= 10;
				}
				p = f;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, hh, mm = 0;

			if (take_num(&p, 2, 0, 23, &hh))
				return -1;
			if (*p == ':')
				p++;
			if (*p && take_num(&p, 2, 0, 59, &mm))
				return -1;
			offset = sign * (hh * 3600L + mm * 60L);
		}
	}
	if (*p)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (double)(t - offset) + frac;
	return 0;
}

char *kcidb_qemu_version(const char *qemu)
{
	char *argv[] = { (char *)qemu, "--version", NULL };
	struct strbuf sb = STRBUF_INIT;
	char buf[512], *v = NULL;
	const char *p;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	/* argv, never a shell; the child only dup2s and execs. */
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(fds[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execvp(qemu, argv);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && sb.len < 4096 &&
	       (n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		strbuf_add(&sb, buf, (size_t)n);
	}
	close(fds[0]);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	/* "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u16)" */
	p = sb.len ? strstr(sb.buf, "version ") : NULL;
	if (p) {
		p += 8;
		n = (ssize_t)strspn(p, "0123456789.");
		if (n)
			v = xstrndup(p, (size_t)n);
	}
	strbuf_release(&sb);
	return v;
}

char *kcidb_run_qemu(const struct cell *c, const char *recorded)
{
	if (recorded && *recorded)
		return xstrdup(recorded);
	if (hypervisors_is_release(c->qemu))
		return xstrdup(c->qemu);
	return kcidb_qemu_version(c->qemu);
}

const char *kcidb_hypervisor(const struct cell *c)
{
	return cell_is_xen(c) ? "xen" : "qemu";
}

const char *kcidb_release(const struct cell *c, const char *qemu_version,
			  const char *xen_version)
{
	if (cell_is_xen(c)) {
		/* A build by name ("4.17"), or the last part of a path. */
		const char *slash = c->xen ? strrchr(c->xen, '/') : NULL;

		if (xen_version && *xen_version)
			return xen_version;
		return slash && slash[1] ? slash + 1 : c->xen;
	}
	if (hypervisors_is_release(c->qemu))
		return c->qemu;
	return qemu_version;
}

void kcidb_describe_cell(const struct cell *c, const char *qemu_version,
			 const char *xen_version, struct strbuf *out)
{
	const char *xen = cell_is_xen(c) ? kcidb_release(c, NULL,
							 xen_version) : NULL;

	if (c->backend == CELL_BACKEND_XEN)
		strbuf_addf(out, "Xen %s (the kernel as dom0) on ",
			    xen ? xen : "?");
	else if (c->backend == CELL_BACKEND_XEN_LIBXL)
		strbuf_addf(out, "Xen %s (the kernel as a %s guest) on ",
			    xen ? xen : "?", cell_guest_name(c->guest));
	strbuf_addf(out, "QEMU %s, machine %s, cpu %s, accel %s",
		    qemu_version ? qemu_version : "(version unknown)",
		    c->machine, c->cpu, cell_accel_name(c->accel));
}

/* ---- collecting ---- */

static const char *keep(struct kcidb_report *rep, char *s)
{
	if (!s)
		return NULL;
	ALLOC_GROW(rep->pool, rep->n_pool + 1, rep->alloc_pool);
	rep->pool[rep->n_pool++] = s;
	return s;
}

static const char *keep_dup(struct kcidb_report *rep, const char *s)
{
	return s ? keep(rep, xstrdup(s)) : NULL;
}

/* A non-empty string, or NULL: "" in the store means unknown. */
static const char *known(const char *s)
{
	return s && *s ? s : NULL;
}

static void misc_add(struct kcidb_misc *m, const char *key,
		     const char *value)
{
	if (m->n < KCIDB_MISC_MAX && value) {
		m->key[m->n] = key;
		m->value[m->n++] = value;
	}
}

struct qemu_version {
	char *qemu, *version;
};

struct collector {
	struct record *r;
	const struct matrix *m;
	struct kcidb_report *rep;
	size_t alloc_checkouts, alloc_builds, alloc_tests;
	size_t alloc_issues, alloc_incidents;
	struct qemu_version *qv;	/* `qemu --version`, once a binary */
	size_t n_qv;
	/* A tree's recorded commits, loaded once per tree. */
	char *commits_tree;
	struct record_commit *commits;
	size_t n_commits;
};

/* What ran run (see kcidb_run_qemu); `qemu --version` once a binary. */
static const char *qemu_version_of(struct collector *co,
				   const struct cell *c,
				   const struct record_run *run)
{
	size_t i;

	if (known(run->qemu_version) || hypervisors_is_release(c->qemu))
		return keep(co->rep, kcidb_run_qemu(c, run->qemu_version));
	for (i = 0; i < co->n_qv; i++)
		if (!strcmp(co->qv[i].qemu, c->qemu))
			return co->qv[i].version;
	co->qv = xrealloc(co->qv, (co->n_qv + 1) * sizeof(*co->qv));
	co->qv[co->n_qv].qemu = xstrdup(c->qemu);
	co->qv[co->n_qv].version = kcidb_qemu_version(c->qemu);
	return co->qv[co->n_qv++].version;
}

static const struct record_commit *find_commit(struct collector *co,
					       const char *tree,
					       const char *id,
					       struct strbuf *err)
{
	size_t i;

	if (!co->commits_tree || strcmp(co->commits_tree, tree)) {
		record_commits_free(co->commits, co->n_commits);
		co->commits = NULL;
		co->n_commits = 0;
		free(co->commits_tree);
		co->commits_tree = xstrdup(tree);
		if (record_list_commits(co->r, tree, &co->commits,
					&co->n_commits, err) < 0)
			return NULL;
	}
	for (i = 0; i < co->n_commits; i++)
		if (!strcmp(co->commits[i].id, id))
			return &co->commits[i];
	return NULL;
}

/* A 40-digit lowercase hex id (the schema's git_commit_hash). */
static int is_sha1(const char *s)
{
	return s && strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

static const char *find_checkout(const struct kcidb_report *rep,
				 const char *id)
{
	size_t i;

	for (i = rep->n_checkouts; i-- > 0;)
		if (!strcmp(rep->checkouts[i].id, id))
			return rep->checkouts[i].id;
	return NULL;
}

static const char *find_build(const struct kcidb_report *rep,
			      const char *id)
{
	size_t i;

	for (i = rep->n_builds; i-- > 0;)
		if (!strcmp(rep->builds[i].id, id))
			return rep->builds[i].id;
	return NULL;
}

/* The checkout of a run's commit (or of its prebuilt kernel). */
static int add_checkout(struct collector *co, const struct record_run *run,
			const char **id_out, struct strbuf *err)
{
	struct kcidb_report *rep = co->rep;
	struct kcidb_checkout *c;
	const struct matrix_tree *t;
	const struct record_commit *rc = NULL;
	char *id;
	size_t i;

	if (known(run->tree))
		id = xstrfmt("%s:%s", run->tree, run->commit_id);
	else
		id = xstrfmt("kernel:%s", run->kernel_id);
	if ((*id_out = find_checkout(rep, id))) {
		free(id);
		return 0;
	}
	ALLOC_GROW(rep->checkouts, rep->n_checkouts + 1, co->alloc_checkouts);
	c = &rep->checkouts[rep->n_checkouts++];
	memset(c, 0, sizeof(*c));
	c->id = *id_out = keep(rep, id);
	c->tip = -1;
	if (!known(run->tree)) {
		c->comment = keep(rep, xstrfmt("a prebuilt kernel, booted by "
					       "`hvmatrix boot`: %s%s%s%s",
					       run->kernel_path,
					       known(run->kernel_version) ?
					       " (" : "",
					       known(run->kernel_version) ?
					       run->kernel_version : "",
					       known(run->kernel_version) ?
					       ")" : ""));
		return 0;
	}
	c->tree = keep_dup(rep, run->tree);
	if (is_sha1(run->commit_id))
		c->commit = keep_dup(rep, run->commit_id);
	rc = find_commit(co, run->tree, run->commit_id, err);
	if (!rc && err->len)
		return -1;
	if (rc) {
		c->subject = keep_dup(rep, known(rc->subject));
		c->start_time = (double)rc->time;
		c->comment = keep(rep, known(rc->author) ?
				  xstrfmt("author: %s", rc->author) : NULL);
	}
	t = co->m ? matrix_find_tree(co->m, run->tree) : NULL;
	if (!t)
		return 0;
	/* KCIDB takes only https:// repositories; a local tree has none. */
	if (t->url && !strncmp(t->url, "https://", 8))
		c->url = keep_dup(rep, t->url);
	for (i = 0; i < t->n_branches; i++) {
		char tip[41];
		int rc2 = record_get_tip(co->r, t->name, t->branches[i], tip,
					 err);

		if (rc2 < 0)
			return -1;
		if (rc2 > 0 && !strcmp(tip, run->commit_id)) {
			c->branch = keep_dup(rep, t->branches[i]);
			c->tip = 1;
			return 0;
		}
	}
	/* One branch watched: the commit is on it (not its tip). */
	if (t->n_branches == 1) {
		c->branch = keep_dup(rep, t->branches[0]);
		c->tip = 0;
	}
	return 0;
}

static int add_build(struct collector *co, const struct record_run *run,
		     const char *checkout_id, const char **id_out,
		     struct strbuf *err)
{
	struct kcidb_report *rep = co->rep;
	struct record_build rb = { 0 };
	struct kcidb_build *b;
	struct strbuf sb = STRBUF_INIT;
	char *id;
	int rc;

	if (known(run->tree))
		id = xstrfmt("%s:%s:%s", run->tree, run->commit_id,
			     run->build);
	else
		id = xstrfmt("kernel:%s", run->kernel_id);
	if ((*id_out = find_build(rep, id))) {
		free(id);
		return 0;
	}
	ALLOC_GROW(rep->builds, rep->n_builds + 1, co->alloc_builds);
	b = &rep->builds[rep->n_builds++];
	memset(b, 0, sizeof(*b));
	b->id = *id_out = keep(rep, id);
	b->checkout_id = checkout_id;
	if (!known(run->tree)) {
		/* Someone else built it; it booted, so it is there. */
		b->status = "PASS";
		b->comment = keep(rep, xstrfmt("prebuilt kernel %s",
					       run->kernel_path));
		misc_add(&b->misc, "kernel_path", keep_dup(rep,
			 known(run->kernel_path)));
		misc_add(&b->misc, "kernel_version", keep_dup(rep,
			 known(run->kernel_version)));
		return 0;
	}
	b->config = keep_dup(rep, known(run->build));
	rc = record_last_build(co->r, run->tree, run->commit_id, run->build,
			       &rb, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	b->status = kcidb_build_status(rb.status);
	b->start_time = rb.started_at;
	b->duration = rb.duration_s;
	b->comment = keep_dup(rep, known(rb.reason));
	b->log_path = keep_dup(rep, known(rb.log_path));
	if (rb.status == RECORD_BUILD_FAILED && known(rb.errors)) {
		/* The compiler's error lines, as build.c picked them. */
		kcidb_excerpt(&sb, rb.errors, strlen(rb.errors),
			      KCIDB_EXCERPT_MAX);
	} else if (rb.status != RECORD_BUILD_OK && known(rb.log_path)) {
		struct strbuf e = STRBUF_INIT;

		/* A log that is gone is no excerpt, not an error. */
		kcidb_log_tail(rb.log_path, KCIDB_EXCERPT_MAX, &sb, &e);
		strbuf_release(&e);
	}
	if (sb.len)
		b->log_excerpt = keep(rep, strbuf_detach(&sb, NULL));
	misc_add(&b->misc, "image_path", keep_dup(rep, known(rb.image_path)));
	strbuf_release(&sb);
	record_build_release(&rb);
	return 0;
}

static void add_environment(struct collector *co, struct kcidb_test *t,
			    const struct cell *c,
			    const struct record_run *run)
{
	struct kcidb_report *rep = co->rep;
	struct strbuf sb = STRBUF_INIT;
	const char *qv = qemu_version_of(co, c, run);
	const char *xv = known(run->xen_version);

	misc_add(&t->env, "hypervisor", kcidb_hypervisor(c));
	misc_add(&t->env, "release", keep_dup(rep, kcidb_release(c, qv, xv)));
	misc_add(&t->env, "machine", keep_dup(rep, c->machine));
	misc_add(&t->env, "qemu", keep_dup(rep, qv));
	if (xv)
		misc_add(&t->env, "xen", keep_dup(rep, xv));
	misc_add(&t->env, "backend", cell_backend_name(c->backend));
	misc_add(&t->env, "accel", cell_accel_name(c->accel));
	misc_add(&t->env, "cpu", keep_dup(rep, c->cpu));
	if (c->backend == CELL_BACKEND_XEN_LIBXL)
		misc_add(&t->env, "guest", cell_guest_name(c->guest));
	kcidb_describe_cell(c, qv, xv, &sb);
	t->env_comment = keep(rep, strbuf_detach(&sb, NULL));
}

static int add_test(struct collector *co, const struct record_run *run,
		    const struct regressions *rs, struct strbuf *err)
{
	struct kcidb_report *rep = co->rep;
	const char *checkout_id, *build_id;
	const struct cell *c;
	struct kcidb_test *t;

	if (add_checkout(co, run, &checkout_id, err) < 0 ||
	    add_build(co, run, checkout_id, &build_id, err) < 0)
		return -1;
	ALLOC_GROW(rep->tests, rep->n_tests + 1, co->alloc_tests);
	t = &rep->tests[rep->n_tests++];
	memset(t, 0, sizeof(*t));
	t->id = keep(rep, xstrfmt("run:%lld", (long long)run->id));
	t->build_id = build_id;
	t->cell = keep_dup(rep, run->cell);
	t->status = kcidb_test_status(run->verdict);
	t->comment = keep_dup(rep, known(run->reason));
	t->start_time = run->started_at;
	t->duration = run->duration_s;
	t->log_path = keep_dup(rep, known(run->log_path));
	if ((run->verdict == VERDICT_FAIL || run->verdict == VERDICT_ERROR) &&
	    known(run->log_path)) {
		struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;

		/* The tail: where a panic and its trace are. A log that
		 * is gone or damaged gives no excerpt, not a failed export. */
		if (kcidb_log_tail(run->log_path, KCIDB_EXCERPT_MAX, &sb,
				   &e) == 0 && sb.len)
			t->log_excerpt = keep(rep, strbuf_detach(&sb, NULL));
		strbuf_release(&sb);
		strbuf_release(&e);
	}
	/* KernelCI's dashboard keys test histories by platform. */
	misc_add(&t->env, "platform", t->cell);
	c = co->m ? matrix_find(co->m, run->cell) : NULL;
	if (c)
		add_environment(co, t, c, run);
	misc_add(&t->misc, "run", keep(rep, xstrfmt("%lld",
		 (long long)run->id)));
	misc_add(&t->misc, "verdict", verdict_name(run->verdict));
	misc_add(&t->misc, "line", keep_dup(rep, known(run->line)));
	misc_add(&t->misc, "purpose", keep_dup(rep, known(run->purpose)));
	misc_add(&t->misc, "nonce", keep_dup(rep, known(run->nonce)));
	misc_add(&t->misc, "kernel_version",
		 keep_dup(rep, known(run->kernel_version)));
	if (known(run->tree))
		misc_add(&t->misc, "class", regressions_class_of(rs,
			 run->tree, run->build, run->cell, run->commit_id));
	return 0;
}

static int in_cells(const struct regression *g, const char *cell)
{
	size_t i;

	for (i = 0; i < g->n_cells; i++)
		if (!strcmp(g->cells[i], cell))
			return 1;
	return 0;
}

static void add_issue(struct collector *co, const struct regression *g,
		      const struct record_run *runs, size_t n_runs,
		      const size_t *test_of)
{
	struct kcidb_report *rep = co->rep;
	struct strbuf sb = STRBUF_INIT;
	struct kcidb_issue *is;
	const char *id;
	size_t i;

	regression_id(g, &sb);
	id = keep(rep, strbuf_detach(&sb, NULL));
	ALLOC_GROW(rep->issues, rep->n_issues + 1, co->alloc_issues);
	is = &rep->issues[rep->n_issues++];
	memset(is, 0, sizeof(*is));
	is->id = id;
	/* Fixed is news about the same issue: a newer version of it. */
	is->version = g->status == REGRESSION_FIXED ? 2 : 1;
	strbuf_addf(&sb, "%s: %s", g->cells[0],
		    known(g->line) ? g->line : "boot failure");
	is->subject = keep(rep, strbuf_detach(&sb, NULL));
	strbuf_addf(&sb, "regression in %s (%s build): first bad commit %s",
		    g->tree, g->build, g->first_bad.commit);
	if (known(g->first_bad.subject))
		strbuf_addf(&sb, " (\"%s\")", g->first_bad.subject);
	if (g->last_good.commit)
		strbuf_addf(&sb, ", last good %s", g->last_good.commit);
	if (g->fixed_by.commit)
		strbuf_addf(&sb, ", fixed by %s", g->fixed_by.commit);
	is->comment = keep(rep, strbuf_detach(&sb, NULL));
	misc_add(&is->misc, "status", regression_status_name(g->status));
	misc_add(&is->misc, "tree", keep_dup(rep, g->tree));
	misc_add(&is->misc, "build", keep_dup(rep, g->build));
	for (i = 0; i < g->n_cells; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", g->cells[i]);
	misc_add(&is->misc, "cells", keep(rep, strbuf_detach(&sb, NULL)));
	misc_add(&is->misc, "first_bad", keep_dup(rep, g->first_bad.commit));
	misc_add(&is->misc, "first_bad_author",
		 keep_dup(rep, known(g->first_bad.author)));
	misc_add(&is->misc, "last_good", keep_dup(rep, g->last_good.commit));
	misc_add(&is->misc, "fixed_by", keep_dup(rep, g->fixed_by.commit));
	misc_add(&is->misc, "line", keep_dup(rep, known(g->line)));
	misc_add(&is->misc, "signature", keep_dup(rep, known(g->signature)));

	/* An incident per exported failing test of the first bad commit. */
	for (i = 0; i < n_runs; i++) {
		const struct record_run *run = &runs[i];
		const struct kcidb_test *t;
		struct kcidb_incident *in;

		if (test_of[i] == (size_t)-1 || run->verdict != VERDICT_FAIL ||
		    strcmp(run->tree, g->tree) ||
		    strcmp(run->build, g->build) ||
		    strcmp(run->commit_id, g->first_bad.commit) ||
		    !in_cells(g, run->cell))
			continue;
		t = &rep->tests[test_of[i]];
		ALLOC_GROW(rep->incidents, rep->n_incidents + 1,
			   co->alloc_incidents);
		in = &rep->incidents[rep->n_incidents++];
		memset(in, 0, sizeof(*in));
		in->id = keep(rep, xstrfmt("%s:run:%lld", id,
					   (long long)run->id));
		in->issue_id = id;
		in->issue_version = is->version;
		in->test_id = t->id;
		in->build_id = t->build_id;
		in->comment = keep(rep, xstrfmt("%s fails on the first bad "
						"commit", run->cell));
	}
}

int kcidb_collect(struct record *r, const struct matrix *m,
		  const struct kcidb_opts *opts, struct kcidb_report *rep,
		  struct strbuf *err)
{
	struct collector co;
	struct regressions rs = { 0 };
	struct record_run *runs = NULL;
	size_t n_runs = 0, i, *test_of = NULL;
	int ret = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&co, 0, sizeof(co));
	co.r = r;
	co.m = m;
	co.rep = rep;
	if (!r)
		return 0;	/* nothing recorded: an empty report */
	if (regressions_compute(r, m, &rs, err) < 0 ||
	    record_list_runs(r, &runs, &n_runs, err) < 0)
		goto out;
	test_of = xcalloc(n_runs ? n_runs : 1, sizeof(*test_of));
	/* Oldest first: the report reads in the order things happened. */
	for (i = n_runs; i-- > 0;) {
		test_of[i] = (size_t)-1;
		if (runs[i].started_at < opts->since)
			continue;
		if (add_test(&co, &runs[i], &rs, err) < 0)
			goto out;
		test_of[i] = rep->n_tests - 1;
	}
	for (i = 0; i < rs.n; i++)
		if ((rs.v[i].status == REGRESSION_OPEN ||
		     rs.v[i].status == REGRESSION_FIXED) &&
		    rs.v[i].first_bad.commit)
			add_issue(&co, &rs.v[i], runs, n_runs, test_of);
	ret = 0;
out:
	regressions_release(&rs);
	record_runs_free(runs, n_runs);
	free(test_of);
	for (i = 0; i < co.n_qv; i++) {
		free(co.qv[i].qemu);
		free(co.qv[i].version);
	}
	free(co.qv);
	free(co.commits_tree);
	record_commits_free(co.commits, co.n_commits);
	return ret;
}

void kcidb_report_release(struct kcidb_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n_pool; i++)
		free(rep->pool[i]);
	free(rep->pool);
	free(rep->checkouts);
	free(rep->builds);
	free(rep->tests);
	free(rep->issues);
	free(rep->incidents);
	memset(rep, 0, sizeof(*rep));
}

/* ---- writing: nothing unknown is written, never a null ---- */

struct writer {
	struct json *js;
	const char *origin;
	struct strbuf tmp;
};

static void put_str(struct writer *w, const char *key, const char *s)
{
	if (s)
		json_key_str(w->js, key, s);
}

static void put_id(struct writer *w, const char *key, const char *local)
{
	if (!local)
		return;
	strbuf_reset(&w->tmp);
	strbuf_addf(&w->tmp, "%s:%s", w->origin, local);
	json_key_str(w->js, key, w->tmp.buf);
}

static void put_time(struct writer *w, const char *key, double t)
{
	if (!isfinite(t) || t <= 0)
		return;
	strbuf_reset(&w->tmp);
	strbuf_add_utc(&w->tmp, t);
	json_key_str(w->js, key, w->tmp.buf);
}

static void put_duration(struct writer *w, const char *key, double d)
{
	if (isfinite(d) && d >= 0)
		json_key_double(w->js, key, d);
}

/* A local path as a file:// URI, bytes outside RFC 3986's unreserved
 * and '/' percent-encoded. */
static void put_file_url(struct writer *w, const char *key,
			 const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (!path || path[0] != '/')
		return;
	strbuf_reset(&w->tmp);
	strbuf_addstr(&w->tmp, "file://");
	for (p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p)) {
			strbuf_addch(&w->tmp, *p);
		} else {
			strbuf_addch(&w->tmp, '%');
			strbuf_addch(&w->tmp, hex[*p >> 4]);
			strbuf_addch(&w->tmp, hex[*p & 15]);
		}
	}
	json_key_str(w->js, key, w->tmp.buf);
}

static void put_misc(struct writer *w, const char *key,
		     const struct kcidb_misc *m)
{
	size_t i;

	if (!m->n)
		return;
	json_key(w->js, key);
	json_object_begin(w->js);
	for (i = 0; i < m->n; i++)
		put_str(w, m->key[i], m->value[i]);
	json_object_end(w->js);
}

static void write_checkout(struct writer *w, const struct kcidb_checkout *c)
{
	json_object_begin(w->js);
	put_id(w, "id", c->id);
	put_str(w, "origin", w->origin);
	put_str(w, "tree_name", c->tree);
	put_str(w, "git_repository_url", c->url);
	put_str(w, "git_repository_branch", c->branch);
	if (c->tip >= 0)
		json_key_bool(w->js, "git_repository_branch_tip", c->tip);
	put_str(w, "git_commit_hash", c->commit);
	put_str(w, "git_commit_message", c->subject);
	put_time(w, "start_time", c->start_time);
	put_str(w, "comment", c->comment);
	json_object_end(w->js);
}

static void write_build(struct writer *w, const struct kcidb_build *b)
{
	json_object_begin(w->js);
	put_id(w, "id", b->id);
	put_str(w, "origin", w->origin);
	put_id(w, "checkout_id", b->checkout_id);
	put_str(w, "architecture", "x86_64");
	put_str(w, "config_name", b->config);
	put_str(w, "status", b->status);
	put_time(w, "start_time", b->start_time);
	put_duration(w, "duration", b->duration);
	put_file_url(w, "log_url", b->log_path);
	put_str(w, "log_excerpt", b->log_excerpt);
	put_str(w, "comment", b->comment);
	put_misc(w, "misc", &b->misc);
	json_object_end(w->js);
}

static void write_test(struct writer *w, const struct kcidb_test *t)
{
	json_object_begin(w->js);
	put_id(w, "id", t->id);
	put_str(w, "origin", w->origin);
	put_id(w, "build_id", t->build_id);
	if (t->cell) {
		strbuf_reset(&w->tmp);
		kcidb_test_path(&w->tmp, t->cell);
		json_key_str(w->js, "path", w->tmp.buf);
	}
	put_str(w, "status", t->status);
	put_time(w, "start_time", t->start_time);
	put_duration(w, "duration", t->duration);
	if (t->env_comment || t->env.n) {
		json_key(w->js, "environment");
		json_object_begin(w->js);
		put_str(w, "comment", t->env_comment);
		put_misc(w, "misc", &t->env);
		json_object_end(w->js);
	}
	put_file_url(w, "log_url", t->log_path);
	put_str(w, "log_excerpt", t->log_excerpt);
	put_str(w, "comment", t->comment);
	put_misc(w, "misc", &t->misc);
	json_object_end(w->js);
}

static void write_issue(struct writer *w, const struct kcidb_issue *is)
{
	json_object_begin(w->js);
	put_id(w, "id", is->id);
	json_key_int(w->js, "version", is->version);
	put_str(w, "origin", w->origin);
	put_str(w, "report_subject", is->subject);
	json_key(w->js, "culprit");
	json_object_begin(w->js);
	/* A commit broke it: the kernel's code, not the farm. */
	json_key_bool(w->js, "code", 1);
	json_key_bool(w->js, "tool", 0);
	json_key_bool(w->js, "harness", 0);
	json_object_end(w->js);
	put_str(w, "comment", is->comment);
	put_misc(w, "misc", &is->misc);
	json_object_end(w->js);
}

static void write_incident(struct writer *w, const struct kcidb_incident *in)
{
	json_object_begin(w->js);
	put_id(w, "id", in->id);
	put_str(w, "origin", w->origin);
	put_id(w, "issue_id", in->issue_id);
	json_key_int(w->js, "issue_version", in->issue_version);
	put_id(w, "test_id", in->test_id);
	put_id(w, "build_id", in->build_id);
	json_key_bool(w->js, "present", 1);
	put_str(w, "comment", in->comment);
	json_object_end(w->js);
}

void kcidb_write(const struct kcidb_report *rep, const char *origin,
		 struct strbuf *out)
{
	struct json js;
	struct writer w = { &js, origin, STRBUF_INIT };
	size_t i;

	json_init(&js, out);
	json_object_begin(&js);
	json_key(&js, "version");
	json_object_begin(&js);
	json_key_int(&js, "major", KCIDB_VERSION_MAJOR);
	json_key_int(&js, "minor", KCIDB_VERSION_MINOR);
	json_object_end(&js);
	json_key(&js, "checkouts");
	json_array_begin(&js);
	for (i = 0; i < rep->n_checkouts; i++)
		write_checkout(&w, &rep->checkouts[i]);
	json_array_end(&js);
	json_key(&js, "builds");
	json_array_begin(&js);
	for (i = 0; i < rep->n_builds; i++)
		write_build(&w, &rep->builds[i]);
	json_array_end(&js);
	json_key(&js, "tests");
	json_array_begin(&js);
	for (i = 0; i < rep->n_tests; i++)
		write_test(&w, &rep->tests[i]);
	json_array_end(&js);
	json_key(&js, "issues");
	json_array_begin(&js);
	for (i = 0; i < rep->n_issues; i++)
		write_issue(&w, &rep->issues[i]);
	json_array_end(&js);
	json_key(&js, "incidents");
	json_array_begin(&js);
	for (i = 0; i < rep->n_incidents; i++)
		write_incident(&w, &rep->incidents[i]);
	json_array_end(&js);
	json_object_end(&js);
	strbuf_addch(out, '\n');
	strbuf_release(&w.tmp);
}
