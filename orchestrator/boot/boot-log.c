/*
 * boot-log: a run's console log, from the first byte to the final file.
 * While QEMU runs, its console goes to the log through logfile.c's cap;
 * a libxl group's console is routed a line at a time to the log of the
 * member whose guest printed it. When the run ends, each log gets its
 * footer (QEMU's stderr, the verdict) and is compressed on the thread
 * pool; after a FAIL the console does not explain, the guest's RAM is
 * read there too (boot-ram.h), and the kernel's own panic message
 * becomes the decisive line.
 *
 * A log that cannot be written is the farm's ERROR, never the kernel's
 * FAIL; one that cannot be finished or compressed stays, plain.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-priv.h"
#include "boot/boot-ram.h"
#include "judge/panicscan.h"
#include "lib/xmalloc.h"
#include "lib/logfile.h"

static void log_write(struct boot_run *r, const char *buf, size_t len)
{
	struct strbuf err = STRBUF_INIT;

	if (r->log && logfile_write(r->log, buf, len, &err) < 0) {
		/* A log we cannot write makes the verdict unverifiable: the
		 * farm's failure, not the kernel's. */
		judge_error(&r->judge, "%s", err.buf);
		logfile_abort(r->log);
		r->log = NULL;
	}
	strbuf_release(&err);
}

/*
 * A group's console to its members' logs, a line at a time: the lines
 * between the agent's "begin job=X" and "end job=X" are X's guest's and go
 * to X's log alone; the rest (Xen, dom0, the agent) is every member's, so
 * each log reads as its own boot. Another guest's lines leave a note.
 */
#define ROUTE_MAX_LINE 65536

/* The member whose agent job a "begin"/"end" line names, or NULL. */
static struct boot_run *route_member(struct boot_run *r, const char *s,
				     size_t n, const char *what)
{
	const char *name;
	size_t i, k;

	/* Every console line passes here: read in place. */
	while (n && *s == '\r')
		s++, n--;
	if (!(name = judge_agent_guest(s, n, what, &k)))
		return NULL;
	for (i = 0; i < boot_n_members(r); i++) {
		struct boot_run *m = boot_member(r, i);

		if (m->agent_guest && strlen(m->agent_guest) == k &&
		    !memcmp(m->agent_guest, name, k))
			return m;
	}
	return NULL;
}

static void route_line(struct boot_run *r, const char *line, size_t len)
{
	struct boot_run *m;
	size_t i;

	if (!r->route_to && (m = route_member(r, line, len, "begin"))) {
		r->route_to = m;
		for (i = 0; i < boot_n_members(r); i++) {
			struct boot_run *o = boot_member(r, i);
			char *note;

			if (o == m)
				continue;
			note = xstrfmt("--- hvmatrix: another run's guest "
				       "(job=%s) runs here; its lines are in "
				       "its own log\n", m->agent_guest);
			log_write(o, note, strlen(note));
			free(note);
		}
	}
	if ((m = r->route_to)) {
		log_write(m, line, len);
		if (route_member(r, line, len, "end") == m)
			r->route_to = NULL;
		return;
	}
	for (i = 0; i < boot_n_members(r); i++)
		log_write(boot_member(r, i), line, len);
}

static void route_feed(struct boot_run *r, const char *buf, size_t len)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t k = nl ? (size_t)(nl - buf) + 1 : len;

		strbuf_add(&r->route, buf, k);
		buf += k;
		len -= k;
		if (nl || r->route.len >= ROUTE_MAX_LINE) {
			route_line(r, r->route.buf, r->route.len);
			strbuf_reset(&r->route);
		}
	}
}

void boot_log_console(struct boot_run *r, const char *buf, size_t len)
{
	if (r->n_members)
		route_feed(r, buf, len);
	else
		log_write(r, buf, len);
}

void boot_log_flush(struct boot_run *r)
{
	if (!r->n_members)
		return;
	if (r->route.len)
		route_line(r, r->route.buf, r->route.len);
	strbuf_reset(&r->route);
}

/* A finished log, handed to a worker thread to write out and compress. */
struct log_work {
	uv_work_t req;
	/* The loop's run: the worker never touches it. */
	struct boot_run *run;
	struct boot_run *leader;	/* done(leader) once its logs are */
	void (*done)(struct boot_run *leader);
	struct logfile_writer *log;
	char *path;
	char *trailer;
	size_t len;
	char *zst_path;		/* the compressed log; NULL: it failed */
	int ram_fd;		/* the guest's RAM, to close; -1: none */
	int read_ram;		/* ... and to read first */
	char *recovered;	/* the panic message found there */
};

/* A FAIL whose decisive line is not the kernel's own panic message. */
static int unexplained_fail(const struct judge *j)
{
	return judge_verdict(j) == VERDICT_FAIL &&
	       (!j->line || !strstr(j->line, PANICSCAN_NEEDLE));
}

static void log_work_cb(uv_work_t *req)
{
	struct log_work *w = container_of(req, struct log_work, req);
	struct strbuf err = STRBUF_INIT;

	if (w->ram_fd >= 0 && w->read_ram) {
		w->recovered = boot_ram_recover(w->ram_fd);
		if (w->recovered) {
			char *t = xstrfmt("%s--- hvmatrix: the kernel's log in "
					  "the guest's memory: %s\n",
					  w->trailer, w->recovered);

			free(w->trailer);
			w->trailer = t;
			w->len = strlen(t);
		}
	} else if (w->ram_fd >= 0) {
		/*
		 * The last reference to the guest's RAM frees it: 0.1 to
		 * 0.4 s for a guest that touched 1 GiB. Here, off the loop.
		 */
		close(w->ram_fd);
	}
	w->ram_fd = -1;
	/* A log that cannot be finished or compressed stays as it is,
	 * plain: every reader takes both forms. */
	if (logfile_finish(w->log, w->trailer, w->len, &err) == 0)
		logfile_compress(w->path, &w->zst_path, &err);
	w->log = NULL;
	strbuf_release(&err);
}

static void log_after_cb(uv_work_t *req, int status)
{
	struct log_work *w = container_of(req, struct log_work, req);
	struct boot_run *r = w->run, *leader = w->leader;
	void (*done)(struct boot_run *) = w->done;

	/*
	 * The kernel's own words, read from its memory, decide the line:
	 * the console only had what came after (Xen's, the watchdog's).
	 */
	if (w->recovered) {
		struct judge *j = &r->judge;
		char *reason = xstrfmt("kernel panic, read from the guest's "
				       "memory (the console: %s)", j->reason);

		free(j->line);
		j->line = w->recovered;
		w->recovered = NULL;
		free(j->reason);
		j->reason = reason;
	}
	/* The store records the log where it ends up. */
	if (w->zst_path) {
		free(r->log_path);
		r->log_path = xstrdup(w->zst_path);
	}
	free(w->recovered);
	free(w->path);
	free(w->trailer);
	free(w->zst_path);
	free(w);
	if (--leader->logs_pending == 0)
		done(leader);
}

unsigned boot_log_finish(struct boot_run *r, uv_loop_t *loop,
			 void (*done)(struct boot_run *r))
{
	size_t i;

	r->logs_pending = 1;	/* held until every log is queued */
	for (i = 0; i < boot_n_members(r); i++) {
		struct boot_run *m = boot_member(r, i);
		struct strbuf sb = STRBUF_INIT;
		struct log_work *w;

		if (!m->log)
			continue;
		if (r->judge.stderr_text.len)
			strbuf_addf(&sb, "\n--- QEMU stderr ---\n%s",
				    r->judge.stderr_text.buf);
		if (m->interrupted)
			strbuf_addf(&sb, "\n--- hvmatrix: %s: interrupted, no "
				    "verdict\n", m->cell->name);
		else
			strbuf_addf(&sb, "\n--- hvmatrix: %s: %s: %s\n",
				    m->cell->name,
				    verdict_name(judge_verdict(&m->judge)),
				    m->judge.reason);
		w = xcalloc(1, sizeof(*w));
		w->run = m;
		w->leader = r;
		w->done = done;
		w->ram_fd = -1;
		if (m == r && r->ram_fd >= 0 && !r->n_members) {
			w->ram_fd = r->ram_fd;
			w->read_ram = unexplained_fail(&r->judge);
			r->ram_fd = -1;
		}
		w->log = m->log;
		w->path = xstrdup(m->log_path);
		m->log = NULL;
		w->trailer = strbuf_detach(&sb, &w->len);
		r->logs_pending++;
		uv_queue_work(loop, &w->req, log_work_cb, log_after_cb);
	}
	if (r->ram_fd >= 0)
		close(r->ram_fd);
	r->ram_fd = -1;
	return --r->logs_pending;
}
