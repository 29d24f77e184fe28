/*
 * boot: run cells as QEMU children on a libuv loop and judge their
 * consoles as they stream.
 *
 * Every uv handle is embedded in its struct boot_run; the run is finished
 * (log footer, next run started) only from the last close callback, and
 * reported (on_done) once a worker thread has written out and compressed
 * its log, so on_done sees the log's final path. The console goes to the
 * judge whole and to the log through logfile.c's cap.
 * This module must never leave a child behind: every path that
 * ends a run kills the child's whole process group, and the trampoline's
 * PR_SET_PDEATHSIG covers the paths where hvmatrix itself dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-ram.h"
#include "lib/fsutil.h"
#include "lib/nonce.h"
#include "matrix/hypervisors.h"
#include "boot/image.h"
#include "store/logfile.h"
#include "judge/panicscan.h"
#include "lib/paths.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"
#include "lib/timeutil.h"

struct boot {
	uv_loop_t *loop;
	struct boot_run *runs;
	size_t n_runs, next, done;
	unsigned running;
	unsigned finishing;	/* logs being finished off the loop */
	struct boot_opts opts;
	char *self_exe;
	int stopping, finished;
	int preparing;		/* libxl boot images being written */
	uv_work_t prep;
};

static void start_next(struct boot *b);

/* The runs a QEMU process serves: a libxl group's members, or itself. */
static size_t n_members(const struct boot_run *r)
{
	return r->n_members ? r->n_members : 1;
}

static struct boot_run *member(struct boot_run *r, size_t i)
{
	return r->n_members ? r->members[i] : r;
}

char **boot_argv(const struct cell *c, const char *kernel,
		 const char *initrd, const char *nonce, const char *xen_elf)
{
	size_t n = 0, i, max = 32 + c->n_qemu_args;
	char **argv = xcalloc(max, sizeof(char *));
	char *cmdline;

	/*
	 * earlyprintk: the kernel's early console, on the same line as the
	 * console, so that a panic before the console driver is up (a
	 * hypervisor platform's setup, say) still prints its own message
	 * and is judged by it at once, not by the silence watchdog. Once the
	 * real console registers, the boot console is retired without
	 * repeating what it printed. earlycon, not earlyprintk=serial: the
	 * kernel's real-mode setup code reads earlyprintk too and would
	 * print its messages ("Unable to boot") on the serial line beside
	 * the BIOS's copy of them, every character twice.
	 */
	cmdline = xstrfmt("console=%s %s panic=-1 "
			  "hvmatrix.nonce=%s%s%s",
			  xen_elf ? "hvc0" : "ttyS0",
			  xen_elf ? "earlyprintk=xen" :
			  "earlycon=uart8250,io,0x3f8,115200", nonce,
			  c->cmdline ? " " : "", c->cmdline ? c->cmdline : "");
	argv[n++] = xstrdup(c->qemu);
	argv[n++] = xstrdup("-accel");
	argv[n++] = xstrdup(cell_accel_name(c->accel));
	argv[n++] = xstrdup("-machine");
	argv[n++] = xstrdup(c->machine);
	argv[n++] = xstrdup("-cpu");
	argv[n++] = xstrdup(c->cpu);
	argv[n++] = xstrdup("-m");
	argv[n++] = xstrfmt("%u", c->memory_mb);
	argv[n++] = xstrdup("-smp");
	argv[n++] = xstrfmt("%u", c->smp);
	argv[n++] = xstrdup("-nographic");
	argv[n++] = xstrdup("-no-reboot");
	argv[n++] = xstrdup("-kernel");
	if (xen_elf) {
		/* Xen on the serial line; the kernel as dom0, its command
		 * line and the payload as multiboot modules. */
		argv[n++] = xstrdup(xen_elf);
		argv[n++] = xstrdup("-append");
		argv[n++] = xstrfmt("console=com1 com1=115200 %s",
				    c->xen_cmdline ? c->xen_cmdline :
				    CELL_DEFAULT_XEN_CMDLINE);
		argv[n++] = xstrdup("-initrd");
		argv[n++] = xstrfmt("%s %s,%s", kernel, cmdline, initrd);
		free(cmdline);
	} else {
		argv[n++] = xstrdup(kernel);
		argv[n++] = xstrdup("-initrd");
		argv[n++] = xstrdup(initrd);
		argv[n++] = xstrdup("-append");
		argv[n++] = cmdline;
	}
	for (i = 0; i < c->n_qemu_args; i++)
		argv[n++] = xstrdup(c->qemu_args[i]);
	argv[n] = NULL;
	return argv;
}

/*
 * A cell that names a QEMU release ("10.0") runs that release's binary
 * (through its own loader and libraries when it needs them, its firmware
 * first with -L, its modules): the words that replace argv[0], and its
 * environment. Not fetched is the farm's ERROR naming the fetch command;
 * fetched but not starting here (its `-machine help`, cached by the
 * binary's sha256, fails) is SKIP with the reason.
 */
static void resolve_release(struct boot_run *r, const struct cell *c)
{
	struct strbuf err = STRBUF_INIT, list = STRBUF_INIT;
	struct hv_release rel;
	size_t n;

	if (!hypervisors_is_release(c->qemu) || judge_verdict(&r->judge))
		return;
	if (hypervisors_load(&rel, "qemu", c->qemu, &err)) {
		judge_error(&r->judge, "%s", err.buf);
		goto out;
	}
	if (hypervisors_machines(&rel, &list, &err)) {
		char *why = xstrfmt("QEMU %s (%s) cannot start on this host: "
				    "%s", c->qemu, rel.package, err.buf);

		judge_skip(&r->judge, why);
		free(why);
	}
	else if (!hypervisors_has_machine(list.buf, c->machine))
		judge_error(&r->judge, "QEMU %s (%s) has no machine type %s",
			    c->qemu, rel.package, c->machine);
	else {
		r->qemu_prefix = hypervisors_qemu_argv(&rel, &n);
		r->env = hypervisors_qemu_env(&rel);
		r->qemu_version = xstrfmt("%s (Debian %s)", rel.version,
					  rel.package);
	}
	hypervisors_release_free(&rel);
out:
	strbuf_release(&err);
	strbuf_release(&list);
}

/* argv[0] (the cell's qemu) becomes the release's words. */
static char **release_argv(const struct boot_run *r, char **argv)
{
	size_t n = 0, k = 0, i;
	char **out;

	if (!r->qemu_prefix || !argv)
		return argv;
	while (r->qemu_prefix[k])
		k++;
	while (argv[n])
		n++;
	out = xcalloc(n + k, sizeof(char *));
	for (i = 0; i < k; i++)
		out[i] = xstrdup(r->qemu_prefix[i]);
	for (i = 1; i < n; i++)
		out[k + i - 1] = argv[i];
	free(argv[0]);
	free(argv);
	return out;
}

/* Is the dom0 image of the cell's Xen release missing (err says how to
 * build it)? libxl_prepare() reads it when the group's leader starts. */
static int libxl_dom0_missing(const struct boot_run *r, struct strbuf *err)
{
	char rel[16], *initrd, *kernel;

	image_xen_release(r->xen_version, rel, sizeof(rel));
	if (image_dom0(rel, &initrd, &kernel, err) < 0)
		return 1;
	free(initrd);
	free(kernel);
	return 0;
}

void boot_run_init(struct boot_run *r, const struct cell *c,
		   const char *kernel, const char *initrd,
		   const char *log_path)
{
	struct strbuf err = STRBUF_INIT;
	char *xen_elf = NULL;

	memset(r, 0, sizeof(*r));
	r->ram_fd = -1;
	r->cell = c;
	nonce_make(r->nonce);
	r->log_path = xstrdup(log_path);
	judge_init(&r->judge, r->nonce, c->expect, c->n_expect);
	r->kernel = xstrdup(kernel);
	r->initrd = xstrdup(initrd);
	r->timeout_s = c->timeout_s;
	r->silence_s = c->silence_s;
	/* The run's own name on the agent's channel: runs of one cell in
	 * one dom0 group must never answer to each other's begin/end. */
	if (c->backend == CELL_BACKEND_XEN_LIBXL) {
		r->agent_job = xstrfmt("%s@%s", c->name, r->nonce);
		judge_set_job(&r->judge, r->agent_job);
	}
	if (cell_is_xen(c) &&
	    image_xen(c->xen, &xen_elf, &r->xen_version, &err) < 0)
		judge_error(&r->judge, "%s", err.buf);
	else if (c->backend == CELL_BACKEND_XEN_LIBXL &&
		 c->guest == CELL_GUEST_HVM)
		judge_skip(&r->judge, "HVM guests need qemu-system-xen and "
			   "hvmloader in the dom0 image, which does not have "
			   "them yet");
	/* One release's libxl cannot drive another's hypervisor (measured:
	 * 4.17's gets Permission denied from Xen 4.14 at xen-init-dom0 and
	 * from 4.20 at domain creation): the dom0 is the cell's release's. */
	else if (c->backend == CELL_BACKEND_XEN_LIBXL &&
		 libxl_dom0_missing(r, &err))
		judge_error(&r->judge, "%s", err.buf);
	/* Under Xen, QEMU's module list splits on commas. */
	else if (xen_elf && (strchr(kernel, ',') || strchr(initrd, ',')))
		judge_error(&r->judge, "a kernel or payload path with ',' "
			    "cannot be a Xen module: %s", kernel);
	resolve_release(r, c);
	/* A libxl group's argv is built when its leader starts. */
	if (c->backend != CELL_BACKEND_XEN_LIBXL)
		r->argv = release_argv(r, boot_argv(c, kernel, initrd,
						    r->nonce, xen_elf));
	r->xen_elf = xen_elf;
	strbuf_release(&err);
}

void boot_run_release(struct boot_run *r)
{
	free(r->log_path);
	free(r->agent_job);
	strbuf_release(&r->route);
	free(r->xen_version);
	free(r->qemu_version);
	free(r->xen_elf);
	free(r->kernel);
	free(r->initrd);
	free(r->members);
	if (r->boot_initrd)
		unlink(r->boot_initrd);
	free(r->boot_initrd);
	spawn_argv_free(r->argv);
	spawn_argv_free(r->qemu_prefix);
	spawn_argv_free(r->env);
	judge_release(&r->judge);
	logfile_abort(r->log);
	if (r->ram_fd >= 0)
		close(r->ram_fd);
	memset(r, 0, sizeof(*r));
	r->ram_fd = -1;
}

char *boot_run_cmdline(const struct boot_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	char **argv = r->leader ? r->leader->argv : r->argv;

	if (!argv || !argv[0])
		return NULL;
	spawn_argv_quote(argv, &sb);
	return strbuf_detach(&sb, NULL);
}

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
	struct strbuf prefix = STRBUF_INIT;
	size_t i, k;
	struct boot_run *found = NULL;

	while (n && *s == '\r')
		s++, n--;
	strbuf_addf(&prefix, "%s%s job=", JUDGE_AGENT, what);
	if (n < prefix.len || memcmp(s, prefix.buf, prefix.len))
		goto out;
	s += prefix.len;
	n -= prefix.len;
	for (k = 0; k < n && s[k] != ' ' && s[k] != '\r' && s[k] != '\n'; k++)
		;
	for (i = 0; i < n_members(r) && !found; i++) {
		struct boot_run *m = member(r, i);

		if (m->agent_job && strlen(m->agent_job) == k &&
		    !memcmp(m->agent_job, s, k))
			found = m;
	}
out:
	strbuf_release(&prefix);
	return found;
}

static void route_line(struct boot_run *r, const char *line, size_t len)
{
	struct boot_run *m;
	size_t i;

	if (!r->route_to && (m = route_member(r, line, len, "begin"))) {
		r->route_to = m;
		for (i = 0; i < n_members(r); i++) {
			struct boot_run *o = member(r, i);
			char *note;

			if (o == m)
				continue;
			note = xstrfmt("--- hvmatrix: another run's guest "
				       "(job=%s) runs here; its lines are in "
				       "its own log\n", m->agent_job);
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
	for (i = 0; i < n_members(r); i++)
		log_write(member(r, i), line, len);
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

static void route_flush(struct boot_run *r)
{
	if (r->route.len)
		route_line(r, r->route.buf, r->route.len);
	strbuf_reset(&r->route);
}

static int members_decided(struct boot_run *r)
{
	size_t i;

	for (i = 0; i < n_members(r); i++)
		if (!judge_verdict(&member(r, i)->judge))
			return 0;
	return 1;
}

/* The members' verdicts go out once their log is final. */
static void run_report(struct boot_run *r)
{
	struct boot *b = r->boot;
	size_t i;

	for (i = 0; i < n_members(r); i++) {
		b->done++;
		if (b->opts.on_done)
			b->opts.on_done(member(r, i), b->opts.data);
	}
	start_next(b);
}

/* A finished log, handed to a worker thread to write out and compress. */
struct log_work {
	uv_work_t req;
	struct boot_run *run;	/* the loop's: the worker never touches it */
	struct boot_run *leader;	/* reported once its logs are done */
	struct logfile_writer *log;
	char *path;
	char *trailer;
	size_t len;
	char *zst_path;		/* the compressed log; NULL: it failed */
	int ram_fd;		/* the guest's RAM, to read; -1: no need */
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

	if (w->ram_fd >= 0) {
		w->recovered = boot_ram_recover(w->ram_fd);
		w->ram_fd = -1;
		if (w->recovered) {
			char *t = xstrfmt("%s--- hvmatrix: the kernel's log in "
					  "the guest's memory: %s\n",
					  w->trailer, w->recovered);

			free(w->trailer);
			w->trailer = t;
			w->len = strlen(t);
		}
	}
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
	leader->boot->finishing--;
	free(w->recovered);
	free(w->path);
	free(w->trailer);
	free(w->zst_path);
	free(w);
	if (--leader->logs_pending == 0)
		run_report(leader);
}

static void run_done(struct boot_run *r)
{
	struct boot *b = r->boot;
	double whole = r->t0_ms ? (uv_now(b->loop) - r->t0_ms) / 1000.0 : 0;
	size_t i;

	if (r->n_members)
		route_flush(r);
	for (i = 0; i < n_members(r); i++) {
		struct boot_run *m = member(r, i);
		struct judge *j = &m->judge;

		m->interrupted |= r->interrupted;
		if (!m->interrupted && !judge_verdict(j))
			judge_exit(j, r->child.exit_status,
				   r->child.term_signal, r->child.killed);
		/* A guest's own time, as the agent measured it. A follower
		 * started with its leader's boot. */
		m->duration_s = j->job_seconds > 0 ? j->job_seconds : whole;
		if (!m->started_at)
			m->started_at = r->started_at;
	}
	if (r->boot_initrd)
		unlink(r->boot_initrd);
	if (r->t0_ms)
		b->running--;
	/*
	 * Writing out the tails and compressing block: off the loop, a log
	 * per member. The next run starts meanwhile; this one is reported
	 * once every log is final.
	 */
	r->logs_pending = 1;	/* held until every log is queued */
	for (i = 0; i < n_members(r); i++) {
		struct boot_run *m = member(r, i);
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
		w->ram_fd = -1;
		if (m == r && r->ram_fd >= 0 && !r->n_members &&
		    unexplained_fail(&r->judge)) {
			w->ram_fd = r->ram_fd;
			r->ram_fd = -1;
		}
		w->log = m->log;
		w->path = xstrdup(m->log_path);
		m->log = NULL;
		w->trailer = strbuf_detach(&sb, &w->len);
		b->finishing++;
		r->logs_pending++;
		uv_queue_work(b->loop, &w->req, log_work_cb, log_after_cb);
	}
	if (r->ram_fd >= 0)
		close(r->ram_fd);
	r->ram_fd = -1;
	if (--r->logs_pending == 0) {
		run_report(r);
		return;
	}
	start_next(b);
}

static void run_closed(struct child *c)
{
	run_done(container_of(c, struct boot_run, child));
}

static void run_timed_out(struct child *c)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	for (i = 0; i < n_members(r); i++)
		judge_timeout(&member(r, i)->judge, r->timeout_s);
}

static void run_silent(struct child *c)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	for (i = 0; i < n_members(r); i++)
		judge_silence(&member(r, i)->judge, r->silence_s);
}

/*
 * After console output: once every member is decided, stop the process
 * after a short grace (the rest of a trace goes to the log); when the only
 * undecided ones have shown their marker, give the guest time to power off.
 */
static void react(struct boot_run *r)
{
	int all_decided = 1, pending_pass = 0;
	size_t i;

	for (i = 0; i < n_members(r); i++) {
		struct judge *j = &member(r, i)->judge;

		if (judge_verdict(j))
			continue;
		if (j->action == JUDGE_PASSING)
			pending_pass = 1;
		else
			all_decided = 0;
	}
	if (all_decided)
		child_kill_after(&r->child, pending_pass ?
				 BOOT_PASS_GRACE_MS : BOOT_FAIL_GRACE_MS);
}

static void on_out(struct child *c, const char *buf, size_t len)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	if (r->n_members)
		route_feed(r, buf, len);
	else
		log_write(r, buf, len);
	for (i = 0; i < n_members(r); i++)
		judge_feed(&member(r, i)->judge, buf, len);
	react(r);
}

static void on_err(struct child *c, const char *buf, size_t len)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	for (i = 0; i < n_members(r); i++)
		judge_feed_stderr(&member(r, i)->judge, buf, len);
}

static int append_file(struct strbuf *cpio, const char *name,
		       const char *path, struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT;
	int rc = fsutil_read(path, &data);

	if (rc < 0)
		strbuf_addf(err, "cannot read %s: %s", path, strerror(-rc));
	else
		image_cpio_add(cpio, name, S_IFREG | 0644, data.buf, data.len);
	strbuf_release(&data);
	return rc < 0 ? -1 : 0;
}

/* The agent's job directory for one guest, in the jobs archive. */
static void add_job(struct strbuf *cpio, size_t i, struct boot_run *m)
{
	const struct cell *c = m->cell;
	char *dir = xstrfmt("hvmatrix/jobs/%02zu", i);
	char *p, *v;

#define JOB_FILE(name, value)                                              \
	do {                                                               \
		p = xstrfmt("%s/" name, dir);                              \
		v = value;                                                 \
		image_cpio_add(cpio, p, S_IFREG | 0644, v, strlen(v));     \
		free(p);                                                   \
		free(v);                                                   \
	} while (0)

	image_cpio_add(cpio, dir, S_IFDIR | 0755, NULL, 0);
	JOB_FILE("name", xstrfmt("%s\n", m->agent_job));
	JOB_FILE("type", xstrfmt("%s\n", cell_guest_name(c->guest)));
	/*
	 * A PV guest's early Xen console writes to its console ring, which
	 * the agent relays (see boot_argv). A PVH guest's would go to Xen's
	 * debug port, not to its console, and what it printed there would
	 * be missing from the console: none for PVH (the agent reads a
	 * crashed guest's memory instead).
	 */
	JOB_FILE("cmdline", xstrfmt("console=hvc0%s panic=-1 "
				    "hvmatrix.nonce=%s%s%s\n",
				    c->guest == CELL_GUEST_PV ?
				    " earlyprintk=xen" : "",
				    m->nonce, c->cmdline ? " " : "",
				    c->cmdline ? c->cmdline : ""));
	JOB_FILE("memory", xstrfmt("%u\n", c->memory_mb));
	JOB_FILE("timeout", xstrfmt("%u\n", c->timeout_s));
#undef JOB_FILE
	p = xstrfmt("%s/kernel", dir);
	image_cpio_add(cpio, p, S_IFLNK | 0777, "../../kernel", 12);
	free(p);
	p = xstrfmt("%s/initrd", dir);
	image_cpio_add(cpio, p, S_IFLNK | 0777, "../../initrd", 12);
	free(p);
	free(dir);
}

/*
 * A libxl group's leader: one nested boot of Xen with Debian's kernel as
 * dom0, its initramfs (toolstack + agent) followed by a jobs archive
 * holding the kernel under test, the payload and one job per member.
 */
static void libxl_prepare(struct boot_run *r)
{
	struct strbuf img = STRBUF_INIT, err = STRBUF_INIT;
	char *dom0 = NULL, *dom0_kernel = NULL, rel[16];
	struct cell c;
	size_t i;
	int rc;

	/* Every member has the leader's xen (same_dom0()): one release. */
	image_xen_release(r->xen_version, rel, sizeof(rel));
	if (image_dom0(rel, &dom0, &dom0_kernel, &err) < 0)
		goto fail;
	if ((rc = fsutil_read(dom0, &img)) < 0) {
		strbuf_addf(&err, "cannot read dom0 image %s: %s", dom0,
			    strerror(-rc));
		goto fail;
	}
	image_cpio_add(&img, "hvmatrix", S_IFDIR | 0755, NULL, 0);
	image_cpio_add(&img, "hvmatrix/jobs", S_IFDIR | 0755, NULL, 0);
	if (append_file(&img, "hvmatrix/kernel", r->kernel, &err) < 0 ||
	    append_file(&img, "hvmatrix/initrd", r->initrd, &err) < 0)
		goto fail;
	r->timeout_s = BOOT_DOM0_BOOT_S;
	for (i = 0; i < n_members(r); i++) {
		add_job(&img, i, member(r, i));
		r->timeout_s += member(r, i)->cell->timeout_s;
	}
	/* The agent times guests out; silence is the whole boot's limit. */
	r->silence_s = r->timeout_s;
	image_cpio_end(&img);
	r->boot_initrd = xstrfmt("%s.initrd", r->log_path);
	if ((rc = fsutil_write_atomic(r->boot_initrd, img.buf, img.len)) < 0) {
		strbuf_addf(&err, "cannot write %s: %s", r->boot_initrd,
			    strerror(-rc));
		goto fail;
	}
	/* QEMU's machine hosts dom0 and the guests: HOST-FACTS sizes. */
	cell_copy(&c, r->cell);
	c.memory_mb = BOOT_DOM0_MEMORY_MB;
	free(c.xen_cmdline);
	c.xen_cmdline = xstrfmt("dom0_mem=1024M,max:1024M dom0_max_vcpus=1%s%s",
				r->cell->xen_cmdline ? " " : "",
				r->cell->xen_cmdline ? r->cell->xen_cmdline :
				"");
	free(c.cmdline);
	c.cmdline = xstrdup("quiet loglevel=3");
	spawn_argv_free(r->argv);
	r->argv = release_argv(r, boot_argv(&c, dom0_kernel, r->boot_initrd,
					    "dom0", r->xen_elf));
	cell_release(&c);
	goto out;
fail:
	for (i = 0; i < n_members(r); i++)
		judge_error(&member(r, i)->judge, "%s", err.buf);
out:
	free(dom0);
	free(dom0_kernel);
	strbuf_release(&img);
	strbuf_release(&err);
}

static void start_run(struct boot *b, struct boot_run *r)
{
	struct strbuf log_err = STRBUF_INIT;
	char **args;
	size_t n, i, a;
	int rc;

	r->boot = b;
	r->started_at = timeutil_now();
	/* Every member of a group has a log of its own. */
	for (i = 0; i < n_members(r); i++) {
		struct boot_run *m = member(r, i);

		strbuf_reset(&log_err);
		logfile_create(&m->log, m->log_path, m->cell->log_limit,
			       &log_err);
		if (!m->log)
			judge_error(&m->judge, "%s", log_err.buf);
	}
	strbuf_release(&log_err);
	/* Decided before start (SKIP, missing image): the log says why. */
	if (members_decided(r)) {
		run_done(r);
		return;
	}
	for (n = 0; r->argv[n]; n++)
		;
	args = xcalloc(n + 1 + BOOT_RAM_ARGS, sizeof(char *));
	memcpy(args, r->argv, n * sizeof(char *));
	a = n;
	/* A libxl guest's memory is read by the agent in dom0, not here. */
	if (r->cell->backend != CELL_BACKEND_XEN_LIBXL)
		r->ram_fd = boot_ram_open();
	if (r->ram_fd >= 0)
		boot_ram_args(args, &a, r->cell->memory_mb);

	child_init(&r->child);
	r->child.argv = args;
	r->child.env = r->env;	/* NULL: ours */
	r->child.via = SPAWN_EXEC;
	r->child.self = b->self_exe;
	r->child.on_out = on_out;
	r->child.on_err = on_err;
	r->child.pass_fd = r->ram_fd;
	r->child.timeout_ms = (uint64_t)r->timeout_s * 1000;
	r->child.on_timeout = run_timed_out;
	r->child.silence_ms = (uint64_t)r->silence_s * 1000;
	r->child.on_silence = run_silent;
	r->child.on_closed = run_closed;
	b->running++;
	r->t0_ms = uv_now(b->loop);
	rc = child_start(&r->child, b->loop);
	for (i = n; i < a; i++)
		free(args[i]);
	free(args);
	if (rc < 0) {
		/* run_closed() finishes the run. */
		judge_error(&r->judge, "cannot start %s: %s", b->self_exe,
			    uv_strerror(rc));
		return;
	}
	if (b->opts.on_start)
		b->opts.on_start(r, b->opts.data);
}

static void start_next(struct boot *b)
{
	while (!b->stopping && !b->preparing && b->next < b->n_runs &&
	       b->running < b->opts.jobs) {
		struct boot_run *r = &b->runs[b->next++];

		/* A group's followers run inside their leader's boot. */
		if (!r->leader || r->leader == r)
			start_run(b, r);
	}
	if (!b->finished && !b->finishing && !b->preparing &&
	    (b->done == b->n_runs || (b->stopping && !b->running))) {
		b->finished = 1;
		if (b->opts.on_all_done)
			b->opts.on_all_done(b->opts.data);
	}
}

void boot_stop(struct boot *b)
{
	size_t i;

	if (b->stopping || b->finished)
		return;
	b->stopping = 1;
	for (i = 0; i < b->next; i++) {
		struct boot_run *r = &b->runs[i];

		if (child_running(&r->child)) {
			r->interrupted = 1;
			child_kill(&r->child);
		}
	}
	for (; b->next < b->n_runs; b->next++)
		b->runs[b->next].interrupted = 1;
	start_next(b);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Can these two libxl cells share one nested dom0 boot? The same xen
 * also means the same release, hence the same dom0 image. */
static int same_dom0(const struct cell *a, const struct cell *b)
{
	size_t i;

	if (!same_str(a->qemu, b->qemu) || a->accel != b->accel ||
	    !same_str(a->machine, b->machine) || !same_str(a->cpu, b->cpu) ||
	    a->smp != b->smp || !same_str(a->xen, b->xen) ||
	    !same_str(a->xen_cmdline, b->xen_cmdline) ||
	    a->n_qemu_args != b->n_qemu_args)
		return 0;
	for (i = 0; i < a->n_qemu_args; i++)
		if (strcmp(a->qemu_args[i], b->qemu_args[i]))
			return 0;
	return 1;
}

/* Put libxl cells that can share a dom0 boot into groups (in order). */
static void group_libxl(struct boot_run *runs, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		struct boot_run *r = &runs[i], *lead = NULL;

		if (r->cell->backend != CELL_BACKEND_XEN_LIBXL ||
		    judge_verdict(&r->judge))
			continue;
		for (k = 0; k < i && !lead; k++)
			if (runs[k].leader == &runs[k] &&
			    runs[k].n_members < BOOT_GROUP_MAX &&
			    same_dom0(runs[k].cell, r->cell))
				lead = &runs[k];
		if (!lead) {
			lead = r;
			r->members = xcalloc(BOOT_GROUP_MAX,
					     sizeof(*r->members));
		}
		r->leader = lead;
		lead->members[lead->n_members++] = r;
	}
}

const char *boot_default_initrd(void)
{
	const char *env = getenv("HVMATRIX_INITRD");

	return env && *env ? env : paths_payload();
}

/* A libxl leader's boot image (dom0 + kernel + jobs) is written first. */
static int is_libxl_leader(const struct boot_run *r)
{
	return r->cell->backend == CELL_BACKEND_XEN_LIBXL &&
	       (!r->leader || r->leader == r) && !judge_verdict(&r->judge);
}

static int needs_prepare(const struct boot_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_libxl_leader(&runs[i]))
			return 1;
	return 0;
}

static void prepare_work(uv_work_t *w)
{
	struct boot *b = w->data;
	size_t i;

	/* No run has started: nothing on the loop reads these runs. */
	for (i = 0; i < b->n_runs; i++)
		if (is_libxl_leader(&b->runs[i]))
			libxl_prepare(&b->runs[i]);
}

static void prepare_after(uv_work_t *w, int status)
{
	struct boot *b = w->data;

	b->preparing = 0;
	start_next(b);
}

struct boot *boot_start(uv_loop_t *loop, struct boot_run *runs, size_t n,
			const struct boot_opts *opts)
{
	struct boot *b = xcalloc(1, sizeof(*b));

	b->loop = loop;
	b->runs = runs;
	b->n_runs = n;
	b->opts = *opts;
	if (!b->opts.jobs)
		b->opts.jobs = 1;
	b->self_exe = spawn_self();
	if (!b->self_exe)
		die("cannot resolve /proc/self/exe: %s", strerror(errno));
	group_libxl(runs, n);
	if (needs_prepare(runs, n)) {
		/* Megabytes read and written with fsync: not on the loop. */
		b->preparing = 1;
		b->prep.data = b;
		uv_queue_work(loop, &b->prep, prepare_work, prepare_after);
		return b;
	}
	start_next(b);
	return b;
}

int boot_stopped(const struct boot *b)
{
	return b->stopping;
}

void boot_load(const struct boot *b, size_t *waiting, unsigned *running)
{
	*waiting = b->n_runs - b->next;
	*running = b->running;
}

void boot_free(struct boot *b)
{
	if (!b)
		return;
	free(b->self_exe);
	free(b);
}

/* boot_run_all: the foreground form, with its own signal handling. */
struct run_all {
	uv_signal_t signals[3];
	struct boot *boot;
	const struct boot_opts *user;
};

static void run_all_done(void *data)
{
	struct run_all *ra = data;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ra->signals); i++)
		if (!uv_is_closing((uv_handle_t *)&ra->signals[i]))
			uv_close((uv_handle_t *)&ra->signals[i], NULL);
	if (ra->user->on_all_done)
		ra->user->on_all_done(ra->user->data);
}

static void run_all_start(struct boot_run *r, void *data)
{
	struct run_all *ra = data;

	if (ra->user->on_start)
		ra->user->on_start(r, ra->user->data);
}

static void run_all_run_done(struct boot_run *r, void *data)
{
	struct run_all *ra = data;

	if (ra->user->on_done)
		ra->user->on_done(r, ra->user->data);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct run_all *ra = s->data;

	fprintf(stderr, "hvmatrix: %s: stopping every run\n",
		strsignal(signum));
	boot_stop(ra->boot);
}

int boot_run_all(uv_loop_t *loop, struct boot_run *runs, size_t n,
		 const struct boot_opts *opts)
{
	static const int signums[] = { SIGINT, SIGTERM, SIGHUP };
	struct boot_opts mine = *opts;
	struct run_all ra;
	size_t i;
	int stopped;

	memset(&ra, 0, sizeof(ra));
	ra.user = opts;
	mine.on_start = run_all_start;
	mine.on_done = run_all_run_done;
	mine.on_all_done = run_all_done;
	mine.data = &ra;
	for (i = 0; i < ARRAY_SIZE(signums); i++) {
		uv_signal_init(loop, &ra.signals[i]);
		ra.signals[i].data = &ra;
		uv_signal_start(&ra.signals[i], on_signal, signums[i]);
	}
	ra.boot = boot_start(loop, runs, n, &mine);
	uv_run(loop, UV_RUN_DEFAULT);
	stopped = boot_stopped(ra.boot);
	boot_free(ra.boot);
	return stopped;
}
