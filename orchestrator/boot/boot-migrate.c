/*
 * boot-migrate: see boot-migrate.h. QMP is spoken from the loop over a
 * unix socket QEMU listens on (-qmp unix:PATH,server=on,wait=off, the
 * spelling every release from 5.2 to 11.1 takes): one command at a
 * time, each written at once with send() (a QEMU that has just died must
 * not SIGPIPE us), replies read by libuv. A 100 ms timer retries the
 * connection, polls the migration and holds the deadline.
 *
 * The stream is a file in a directory of the run's own. Releases before
 * 8.2 write and read it through a descriptor handed over with getfd
 * (SCM_RIGHTS) and the uri fd:NAME; from 8.2 on QEMU refuses fd: on a
 * regular file (measured with 11.1: "fd: migration to a file is not
 * supported. Use file: instead") and takes file:PATH, the same stream.
 *
 * This module must never call the kernel's FAIL: whatever goes wrong
 * between the ready line and the guest running at the destination is the
 * farm's or a release's ERROR, naming both releases.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-migrate.h"
#include "boot/boot-priv.h"
#include "lib/json.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"
#include "matrix/cell-probes.h"
#include "matrix/hypervisors.h"

#define MIGRATE_TICK_MS 100
/* From the ready line to the guest running again. */
#define MIGRATE_LIMIT_MS 120000
#define MIGRATE_FDNAME "hvmatrix-stream"
#define MIGRATE_FILE_URI 802	/* QEMU 8.2: migrate to file: */

enum migrate_stage {
	STAGE_WAIT,		/* the source runs, the guest not ready */
	STAGE_SAVING,		/* the source saves the guest */
	STAGE_SAVED,		/* the stream is whole; source stopping */
	STAGE_LOADING,		/* the destination loads the stream */
	STAGE_RUNNING,		/* the guest runs at the destination */
	STAGE_FAILED,
};

enum qmp_step {
	QMP_NONE,		/* not connected */
	QMP_CONNECTING,
	QMP_GREETING,
	QMP_CAPS,
	QMP_GETFD,
	QMP_MIGRATE,		/* migrate or migrate-incoming sent */
	QMP_POLL,		/* a query sent */
	QMP_IDLE,		/* the next query waits for the timer */
};

struct boot_migrate {
	struct boot_run *run;	/* NULL once freed: handles closing */
	uv_loop_t *loop;
	char *dir, *sock, *stream;
	enum migrate_stage stage;

	uv_pipe_t qmp;
	uv_connect_t connect;
	uv_timer_t tick;
	int qmp_inited;
	int handles;		/* open handles: free at zero */
	enum qmp_step step;
	struct strbuf in;	/* QMP bytes not yet a line */
	unsigned version;	/* this QEMU's, major * 100 + minor */
	uint64_t t_ready, t_saved;
	off_t stream_bytes;
	size_t stderr_mark;	/* the destination's stderr starts here */
};

int boot_migrate_wanted(const struct cell *c)
{
	return c->backend == CELL_BACKEND_QEMU &&
	       cell_probes_has(c, "migrate");
}

static char *end_name(const char *qemu)
{
	return hypervisors_is_release(qemu) ? xstrfmt("QEMU %s", qemu) :
	       xstrdup(qemu);
}

/* "7.2" > "5.2", "10.0" > "7.2": numbers, dot by dot. */
static int version_newer(const char *a, const char *b)
{
	while (*a || *b) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, 10);
		unsigned long y = strtoul(b, &eb, 10);

		if (x != y)
			return x > y;
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
		if (ea == a && eb == b)
			break;
	}
	return 0;
}

/* The newest "pc-i440fx-X.Y" (alias pc) or "pc-q35-X.Y" (q35) of list. */
static char *newest_versioned(const char *list, const char *alias)
{
	const char *prefix = !strcmp(alias, "pc") ? "pc-i440fx-" :
			     !strcmp(alias, "q35") ? "pc-q35-" : NULL;
	size_t plen = prefix ? strlen(prefix) : 0;
	const char *p = list, *best = NULL;
	size_t best_len = 0;
	char *b = NULL;

	while (prefix && *p) {
		size_t len = strcspn(p, "\n");

		if (len > plen && !strncmp(p, prefix, plen) &&
		    strspn(p + plen, "0123456789.") == len - plen) {
			char *v = xstrndup(p + plen, len - plen);

			if (!best || version_newer(v, b)) {
				best = p;
				best_len = len;
				free(b);
				b = v;
			} else {
				free(v);
			}
		}
		p += len;
		if (*p)
			p++;
	}
	free(b);
	return best ? xstrndup(best, best_len) : NULL;
}

/*
 * Both ends must run one machine type; an alias means another type in
 * another release, so it is pinned to the source release's newest.
 */
static void pin_machine(struct boot_run *r)
{
	const struct cell *c = r->cell;
	struct strbuf list = STRBUF_INIT, err = STRBUF_INIT;
	struct hypervisors_release rel;
	size_t i, w = strcspn(c->machine, ",");
	char *alias = xstrndup(c->machine, w), *pinned;

	if (!hypervisors_is_release(c->qemu) ||
	    hypervisors_load(&rel, "qemu", c->qemu, &err))
		goto out;
	if (!hypervisors_machines(&rel, &list, &err) &&
	    (pinned = newest_versioned(list.buf, alias))) {
		for (i = 0; r->argv[i] && r->argv[i + 1]; i++) {
			if (strcmp(r->argv[i], "-machine") ||
			    strcmp(r->argv[i + 1], c->machine))
				continue;
			free(r->argv[i + 1]);
			r->argv[i + 1] = xstrfmt("%s%s", pinned,
						 c->machine + w);
			break;
		}
		free(pinned);
	}
	hypervisors_release_clear(&rel);
out:
	free(alias);
	strbuf_release(&list);
	strbuf_release(&err);
}

/* The destination's machine type: the one the source's argv runs. */
static const char *machine_of(char **argv)
{
	size_t i;

	for (i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], "-machine"))
			return argv[i + 1];
	return "";
}

void boot_migrate_resolve(struct boot_run *r)
{
	const struct cell *c = r->cell;
	const char *to = c->migrate_to && *c->migrate_to ? c->migrate_to :
			 c->qemu;
	struct strbuf err = STRBUF_INIT, list = STRBUF_INIT;
	struct hypervisors_release rel;
	char **prefix = NULL, **env = NULL;
	size_t k = 0, n = 0, i, p = 0;
	const char *machine;

	if (!boot_migrate_wanted(c) || !r->argv)
		return;
	r->migrate_from = end_name(c->qemu);
	r->migrate_to = end_name(to);
	if (judge_verdict(&r->judge))
		goto out;
	pin_machine(r);
	machine = machine_of(r->argv);
	if (hypervisors_is_release(to)) {
		if (hypervisors_load(&rel, "qemu", to, &err)) {
			judge_error(&r->judge, "migration from %s to %s: %s",
				    r->migrate_from, r->migrate_to, err.buf);
			goto out;
		}
		if (hypervisors_machines(&rel, &list, &err)) {
			char *why = xstrfmt("migration from %s to %s: QEMU %s "
					    "(%s) cannot start on this host: "
					    "%s", r->migrate_from,
					    r->migrate_to, to, rel.package,
					    err.buf);

			judge_skip(&r->judge, why);
			free(why);
		} else if (!hypervisors_has_machine(list.buf, machine)) {
			judge_error(&r->judge, "migration from %s to %s: QEMU "
				    "%s (%s) has no machine type %.*s to "
				    "receive the guest", r->migrate_from,
				    r->migrate_to, to, rel.package,
				    (int)strcspn(machine, ","), machine);
		} else {
			prefix = hypervisors_qemu_argv(&rel, &p);
			env = hypervisors_qemu_env(&rel);
		}
		hypervisors_release_clear(&rel);
		if (!prefix)
			goto out;
	} else {
		prefix = xcalloc(2, sizeof(char *));
		prefix[0] = xstrdup(to);
		p = 1;
	}
	/* The source's argv without the words that start its release. */
	if (r->qemu_prefix)
		while (r->qemu_prefix[k])
			k++;
	else
		k = 1;
	while (r->argv[n])
		n++;
	r->migrate_argv = xcalloc(p + n - k + 1, sizeof(char *));
	for (i = 0; i < p; i++)
		r->migrate_argv[i] = prefix[i];
	for (i = k; i < n; i++)
		r->migrate_argv[p + i - k] = xstrdup(r->argv[i]);
	free(prefix);
	r->migrate_env = env;
out:
	strbuf_release(&err);
	strbuf_release(&list);
}

void boot_migrate_clear(struct boot_run *r)
{
	spawn_argv_free(r->migrate_argv);
	spawn_argv_free(r->migrate_env);
	free(r->migrate_from);
	free(r->migrate_to);
	r->migrate_argv = r->migrate_env = NULL;
	r->migrate_from = r->migrate_to = NULL;
}

static void fail(struct boot_migrate *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct boot_migrate *m, const char *fmt, ...)
{
	struct boot_run *r = m->run;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (m->stage == STAGE_FAILED || !r)
		return;
	m->stage = STAGE_FAILED;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	judge_error(&r->judge, "migration from %s to %s failed: %s",
		    r->migrate_from, r->migrate_to, sb.buf);
	strbuf_release(&sb);
	uv_timer_stop(&m->tick);
	child_kill(&r->child);
}

struct boot_migrate *boot_migrate_new(struct boot_run *r, uv_loop_t *loop)
{
	struct boot_migrate *m;
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (!r->migrate_argv || judge_verdict(&r->judge))
		return NULL;
	dir = xstrfmt("%s/hvmatrix-migrate-XXXXXX", tmp && *tmp ? tmp :
		      "/tmp");
	/* QEMU splits its options on commas; a unix socket path is short. */
	if (strchr(dir, ',') || strlen(dir) > 80 || !mkdtemp(dir)) {
		judge_error(&r->judge, "migration from %s to %s: cannot make "
			    "a stream directory %s: %s", r->migrate_from,
			    r->migrate_to, dir, strchr(dir, ',') ?
			    "a ',' in the path" : strlen(dir) > 80 ?
			    "path too long for a socket" : strerror(errno));
		free(dir);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->run = r;
	m->loop = loop;
	m->dir = dir;
	m->sock = xstrfmt("%s/qmp.sock", dir);
	m->stream = xstrfmt("%s/stream", dir);
	strbuf_init(&m->in, 0);
	uv_timer_init(loop, &m->tick);
	m->tick.data = m;
	m->handles = 1;
	return m;
}

char **boot_migrate_argv(const struct boot_migrate *m)
{
	return m->stage == STAGE_LOADING ? m->run->migrate_argv :
	       m->run->argv;
}

char **boot_migrate_env(const struct boot_migrate *m)
{
	return m->stage == STAGE_LOADING ? m->run->migrate_env :
	       m->run->env;
}

void boot_migrate_args(const struct boot_migrate *m, char **args, size_t *n)
{
	args[(*n)++] = xstrdup("-qmp");
	args[(*n)++] = xstrfmt("unix:%s,server=on,wait=off", m->sock);
	if (m->stage == STAGE_LOADING) {
		args[(*n)++] = xstrdup("-incoming");
		args[(*n)++] = xstrdup("defer");
	}
}

/* ---- QMP ---- */

static void handle_closed(uv_handle_t *h)
{
	struct boot_migrate *m = h->data;

	if (--m->handles || m->run)
		return;
	strbuf_release(&m->in);
	free(m->sock);
	free(m->stream);
	free(m->dir);
	free(m);
}

static void qmp_close(struct boot_migrate *m)
{
	if (m->qmp_inited && !uv_is_closing((uv_handle_t *)&m->qmp))
		uv_close((uv_handle_t *)&m->qmp, handle_closed);
	m->qmp_inited = 0;
	m->step = QMP_NONE;
	strbuf_reset(&m->in);
}

/* One command, with a descriptor for getfd (fd >= 0). */
static int qmp_send(struct boot_migrate *m, const char *cmd, int fd)
{
	char ctrl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)cmd, strlen(cmd) };
	struct msghdr msg;
	uv_os_fd_t s;
	ssize_t n;

	if (uv_fileno((uv_handle_t *)&m->qmp, &s) < 0)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(ctrl, 0, sizeof(ctrl));
		msg.msg_control = ctrl;
		msg.msg_controllen = sizeof(ctrl);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	/* A command is a few dozen bytes into an idle socket: it fits. */
	do
		n = sendmsg(s, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)iov.iov_len) {
		fail(m, "QMP: cannot send a command: %s",
		     n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

static const char *end_of(struct boot_migrate *m)
{
	return m->stage == STAGE_LOADING ? m->run->migrate_to :
	       m->run->migrate_from;
}

/* getfd, then migrate fd:NAME; or migrate file:PATH (8.2 on). */
static void send_stream(struct boot_migrate *m)
{
	int loading = m->stage == STAGE_LOADING;
	const char *verb = loading ? "migrate-incoming" : "migrate";
	struct strbuf cmd = STRBUF_INIT;
	int fd;

	if (m->version >= MIGRATE_FILE_URI || m->step == QMP_GETFD) {
		strbuf_addf(&cmd, "{\"execute\": \"%s\", \"arguments\": "
			    "{\"uri\": ", verb);
		if (m->version >= MIGRATE_FILE_URI) {
			char *uri = xstrfmt("file:%s", m->stream);

			strbuf_add_json_str(&cmd, uri);
			free(uri);
		} else {
			strbuf_add_json_str(&cmd, "fd:" MIGRATE_FDNAME);
		}
		strbuf_addstr(&cmd, "}}\n");
		if (!qmp_send(m, cmd.buf, -1))
			m->step = QMP_MIGRATE;
		goto out;
	}
	fd = loading ? open(m->stream, O_RDONLY | O_CLOEXEC) :
	     open(m->stream, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail(m, "%s: %s", m->stream, strerror(errno));
		goto out;
	}
	if (!qmp_send(m, "{\"execute\": \"getfd\", \"arguments\": "
		      "{\"fdname\": \"" MIGRATE_FDNAME "\"}}\n", fd))
		m->step = QMP_GETFD;
	/* QEMU holds its own copy now. */
	close(fd);
out:
	strbuf_release(&cmd);
}

static void saved(struct boot_migrate *m)
{
	struct stat st;

	m->stream_bytes = stat(m->stream, &st) ? 0 : st.st_size;
	m->stage = STAGE_SAVED;
	m->t_saved = uv_now(m->loop);
	qmp_close(m);
	/* Stopped; boot_migrate_closed() then starts the destination. */
	child_kill(&m->run->child);
}

static void running(struct boot_migrate *m)
{
	struct boot_run *r = m->run;
	char *go = xstrfmt("HVMATRIX-GO nonce=%s\n", r->nonce);
	char *note;
	double total = (uv_now(m->loop) - m->t_ready) / 1000.0;
	double load = (uv_now(m->loop) - m->t_saved) / 1000.0;
	int rc;

	m->stage = STAGE_RUNNING;
	uv_timer_stop(&m->tick);
	qmp_close(m);
	/* In the log, not to the judge: it is not the kernel's line. */
	note = xstrfmt("\nhvmatrix: migrated from %s to %s in %.1f s "
		       "(stream %.1f MiB, loaded in %.1f s)\n",
		       r->migrate_from, r->migrate_to, total,
		       m->stream_bytes / 1048576.0, load);
	boot_log_console(r, note, strlen(note));
	free(note);
	rc = child_write(&r->child, go, strlen(go));
	if (rc < 0)
		fail(m, "cannot write to %s's console input: %s",
		     r->migrate_to, uv_strerror(rc));
	free(go);
}

static void on_reply(struct boot_migrate *m, const struct json_value *v)
{
	const struct json_value *ret = json_get(v, "return");
	const struct json_value *err = json_get(v, "error");
	const char *status;

	if (json_get(v, "event"))
		return;
	if (m->step == QMP_GREETING) {
		const struct json_value *q = json_get(json_get(v, "QMP"),
						      "version");
		double major = 0, minor = 0;

		q = json_get(q, "qemu");
		if (!json_get_number(q, "major", &major) ||
		    !json_get_number(q, "minor", &minor)) {
			fail(m, "%s's QMP greeting has no version",
			     end_of(m));
			return;
		}
		m->version = (unsigned)major * 100 + (unsigned)minor;
		if (!qmp_send(m, "{\"execute\": \"qmp_capabilities\"}\n", -1))
			m->step = QMP_CAPS;
		return;
	}
	if (err || !ret) {
		const char *desc = err ? json_get_str(err, "desc") : NULL;

		fail(m, "%s: QMP: %s", end_of(m), desc ? desc :
		     "an answer without return");
		return;
	}
	switch (m->step) {
	case QMP_CAPS:
	case QMP_GETFD:
		send_stream(m);
		break;
	case QMP_MIGRATE:
		m->step = QMP_IDLE;
		break;
	case QMP_POLL:
		m->step = QMP_IDLE;
		status = json_get_str(ret, "status");
		if (!status)
			break;
		if (m->stage == STAGE_SAVING) {
			if (!strcmp(status, "completed")) {
				saved(m);
			} else if (!strcmp(status, "failed") ||
				   !strcmp(status, "cancelled")) {
				const char *d = json_get_str(ret,
							     "error-desc");

				fail(m, "%s could not save the guest: %s",
				     end_of(m), d ? d : status);
			}
		} else if (!strcmp(status, "running")) {
			running(m);
		} else if (strcmp(status, "inmigrate")) {
			fail(m, "%s is %s after loading the stream",
			     end_of(m), status);
		}
		break;
	default:
		break;
	}
}

static void qmp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[16384];

	buf->base = slab;
	buf->len = sizeof(slab);
}

static void qmp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct boot_migrate *m = s->data;
	char *nl;

	if (nread < 0) {
		/* QEMU went away: its exit says why (boot_migrate_closed). */
		qmp_close(m);
		return;
	}
	strbuf_add(&m->in, buf->base, (size_t)nread);
	while (m->qmp_inited && (nl = memchr(m->in.buf, '\n', m->in.len))) {
		struct json_value v;
		struct strbuf err = STRBUF_INIT;
		size_t len = (size_t)(nl - m->in.buf) + 1;

		if (json_parse(&v, m->in.buf, len - 1, &err))
			fail(m, "%s: QMP: %s", end_of(m), err.buf);
		else
			on_reply(m, &v);
		json_value_release(&v);
		strbuf_release(&err);
		if (!m->qmp_inited || m->stage == STAGE_FAILED)
			break;
		memmove(m->in.buf, m->in.buf + len, m->in.len - len);
		strbuf_setlen(&m->in, m->in.len - len);
	}
}

static void qmp_connected(uv_connect_t *req, int status)
{
	struct boot_migrate *m = req->data;

	if (!m->run || m->step != QMP_CONNECTING)
		return;
	if (status < 0) {
		/* Not listening yet: the timer tries again. */
		qmp_close(m);
		return;
	}
	m->step = QMP_GREETING;
	m->qmp.data = m;
	uv_read_start((uv_stream_t *)&m->qmp, qmp_alloc, qmp_read);
}

static void qmp_connect(struct boot_migrate *m)
{
	uv_pipe_init(m->loop, &m->qmp, 0);
	m->qmp.data = m;
	m->qmp_inited = 1;
	m->handles++;
	m->step = QMP_CONNECTING;
	m->connect.data = m;
	uv_pipe_connect(&m->connect, &m->qmp, m->sock, qmp_connected);
}

static void tick(uv_timer_t *t)
{
	struct boot_migrate *m = t->data;
	const char *q;

	if (!m->run || m->stage == STAGE_FAILED)
		return;
	if (uv_now(m->loop) - m->t_ready > MIGRATE_LIMIT_MS) {
		fail(m, "%s did not finish its step in %d s", end_of(m),
		     MIGRATE_LIMIT_MS / 1000);
		return;
	}
	if (!child_running(&m->run->child))
		return;
	if (m->step == QMP_NONE) {
		qmp_connect(m);
		return;
	}
	if (m->step != QMP_IDLE)
		return;
	q = m->stage == STAGE_SAVING ? "{\"execute\": \"query-migrate\"}\n" :
	    "{\"execute\": \"query-status\"}\n";
	if (!qmp_send(m, q, -1))
		m->step = QMP_POLL;
}

void boot_migrate_started(struct boot_migrate *m)
{
	if (m->stage != STAGE_LOADING)
		return;
	/* QEMU makes its socket as it starts: the timer connects. */
	uv_timer_start(&m->tick, tick, MIGRATE_TICK_MS, MIGRATE_TICK_MS);
}

void boot_migrate_begin(struct boot_migrate *m)
{
	if (m->stage != STAGE_WAIT)
		return;
	m->stage = STAGE_SAVING;
	m->t_ready = uv_now(m->loop);
	qmp_connect(m);
	uv_timer_start(&m->tick, tick, MIGRATE_TICK_MS, MIGRATE_TICK_MS);
}

int boot_migrate_watchdog(struct boot_migrate *m, const char *what,
			  unsigned seconds)
{
	if (!m || m->stage < STAGE_SAVING || m->stage > STAGE_LOADING)
		return 0;
	fail(m, "the run's %s (%u s) ran out while the guest was moved",
	     what, seconds);
	return 1;
}

int boot_migrate_closed(struct boot_migrate *m)
{
	struct boot_run *r = m->run;
	const char *why;
	size_t len;

	qmp_close(m);
	switch (m->stage) {
	case STAGE_SAVED:
		m->stage = STAGE_LOADING;
		m->step = QMP_NONE;
		m->stderr_mark = r->judge.stderr_text.len;
		unlink(m->sock);
		return 1;
	case STAGE_SAVING:
		fail(m, "%s ended while saving the guest (exit %lld, signal "
		     "%d)", r->migrate_from, (long long)r->child.exit_status,
		     r->child.term_signal);
		break;
	case STAGE_LOADING:
		/* Its stderr says why: "load of migration failed", an
		 * unknown section, a machine type it lacks. */
		why = r->judge.stderr_text.len > m->stderr_mark ?
		      r->judge.stderr_text.buf + m->stderr_mark : "";
		len = strlen(why);
		while (len && strchr(" \t\r\n", why[len - 1]))
			len--;
		fail(m, "%s refused %s's stream (exit %lld, signal %d): %.*s",
		     r->migrate_to, r->migrate_from,
		     (long long)r->child.exit_status, r->child.term_signal,
		     len ? (int)len : 10, len ? why : "no message");
		break;
	default:
		break;
	}
	uv_timer_stop(&m->tick);
	return 0;
}

void boot_migrate_free(struct boot_migrate *m)
{
	if (!m)
		return;
	qmp_close(m);
	unlink(m->stream);
	unlink(m->sock);
	rmdir(m->dir);
	m->run = NULL;
	uv_close((uv_handle_t *)&m->tick, handle_closed);
}
