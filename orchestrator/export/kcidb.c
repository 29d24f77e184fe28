/*
 * kcidb: see kcidb.h. The mappings (verdicts to statuses, paths, times,
 * excerpts, what a cell runs on) and kcidb_write(), the only place that
 * emits JSON: it leaves out every value that is unknown rather than
 * writing null (the schema has no nullable field). Gathering the report
 * from the store is kcidb-collect.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "matrix/hypervisors.h"
#include "lib/json.h"
#include "export/kcidb.h"
#include "store/logfile.h"
#include "compare/regressions.h"
#include "lib/xmalloc.h"

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
		const char *p;

		strbuf_reset(&w->tmp);
		kcidb_test_path(&w->tmp, t->cell);
		/* "suspend.smp" keeps its dot: a sub-test in the path. */
		for (p = t->probe ? t->probe : ""; *p; p++) {
			if (p == t->probe)
				strbuf_addch(&w->tmp, '.');
			strbuf_addch(&w->tmp, isalnum((unsigned char)*p) ||
				     *p == '-' || *p == '.' ? *p : '_');
		}
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
