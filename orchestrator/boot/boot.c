/*
 * boot: the runner. Runs go to QEMU children on a libuv loop, at most
 * `jobs` at once, and their consoles to the judge as they stream; a
 * run is over when its child is (lib/child.h: every handle closed), and
 * reported (on_done) once its log is final (boot-log.c), so on_done sees
 * the log's last path. A libxl group's leader runs for all its members
 * (boot-libxl.c); boot-run.c prepares the runs, boot-argv.c QEMU's argv.
 *
 * This module must never leave a child behind: every QEMU runs through
 * the SPAWN_EXEC trampoline in a process group of its own, every path
 * that ends a run kills that group, and the trampoline's parent-death
 * signal covers the paths where hvmatrix itself dies.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-migrate.h"
#include "boot/boot-priv.h"
#include "boot/boot-ram.h"

#define BOOT_RESET_ARGS 4	/* -d cpu_reset -D FILE */
#include "lib/report.h"
#include "lib/child.h"
#include "lib/fsutil.h"
#include "lib/paths.h"
#include "lib/sigwatch.h"
#include "lib/spawn.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"
#include "lib/logfile.h"

struct boot {
	uv_loop_t *loop;
	struct boot_run *runs;
	size_t n_runs, next, done;
	unsigned running;
	unsigned finishing;	/* runs whose logs are being finished */
	struct boot_opts opts;
	char *self_exe;
	int stopping, finished;
	int preparing;		/* libxl boot images being written */
	uv_work_t prep;
};

static void start_next(struct boot *b);

static int members_decided(struct boot_run *r)
{
	size_t i;

	for (i = 0; i < boot_n_members(r); i++)
		if (!judge_verdict(&boot_member(r, i)->judge))
			return 0;
	return 1;
}

/* The members' verdicts go out once their log is final. */
static void run_report(struct boot_run *r)
{
	struct boot *b = r->boot;
	size_t i;

	for (i = 0; i < boot_n_members(r); i++) {
		b->done++;
		if (b->opts.on_done)
			b->opts.on_done(boot_member(r, i), b->opts.data);
	}
	start_next(b);
}

static void run_logged(struct boot_run *r)
{
	r->boot->finishing--;
	run_report(r);
}

/*
 * QEMU's reset log beside the console log (plain cells, see
 * boot_argv_qemu): polled while the run lives, so that the guest's first
 * reset ends the run at once instead of a reboot loop running to the
 * timeout. Its own allocation: a closing handle outlives the run.
 */
struct boot_reset_watch {
	uv_fs_poll_t poll;
	struct boot_run *r;	/* NULL once the run is done */
	char *path;
};

#define BOOT_RESET_POLL_MS 200

static int watches_reset(const struct boot_run *r)
{
	return r->log_path && r->cell->backend == CELL_BACKEND_QEMU;
}

static void react(struct boot_run *r);

static void reset_watch_closed(uv_handle_t *h)
{
	struct boot_reset_watch *w = h->data;

	free(w->path);
	free(w);
}

static void reset_changed(uv_fs_poll_t *p, int status,
			  const uv_stat_t *prev, const uv_stat_t *curr)
{
	struct boot_reset_watch *w = p->data;
	struct strbuf sb = STRBUF_INIT;

	(void)prev;
	(void)curr;
	if (!w->r || status < 0 || judge_verdict(&w->r->judge))
		return;
	if (!fsutil_read(w->path, &sb) && judge_guest_reset(&w->r->judge,
							    sb.buf))
		react(w->r);
	strbuf_release(&sb);
}

static void reset_watch_start(struct boot_run *r)
{
	struct boot_reset_watch *w;

	if (r->reset_watch || !watches_reset(r))
		return;
	w = xcalloc(1, sizeof(*w));
	w->r = r;
	w->path = xstrfmt("%s.reset", r->log_path);
	uv_fs_poll_init(r->boot->loop, &w->poll);
	w->poll.data = w;
	if (uv_fs_poll_start(&w->poll, reset_changed, w->path,
			     BOOT_RESET_POLL_MS) < 0) {
		uv_close((uv_handle_t *)&w->poll, reset_watch_closed);
		return;
	}
	r->reset_watch = w;
}

/* The watch ends; the log goes to the judge a last time, then away (it
 * is rewritten by every boot and says nothing the verdict does not). */
static void reset_watch_end(struct boot_run *r)
{
	struct boot_reset_watch *w = r->reset_watch;
	struct strbuf sb = STRBUF_INIT;
	char *path;

	if (w) {
		w->r = NULL;
		uv_fs_poll_stop(&w->poll);
		uv_close((uv_handle_t *)&w->poll, reset_watch_closed);
		r->reset_watch = NULL;
	}
	if (!watches_reset(r))
		return;
	path = xstrfmt("%s.reset", r->log_path);
	if (!r->interrupted && !judge_verdict(&r->judge) &&
	    !fsutil_read(path, &sb))
		judge_reset_log(&r->judge, sb.buf);
	unlink(path);
	free(path);
	strbuf_release(&sb);
}

static void run_done(struct boot_run *r)
{
	struct boot *b = r->boot;
	double whole = r->t0_ms ? (uv_now(b->loop) - r->t0_ms) / 1000.0 : 0;
	size_t i;

	boot_log_flush(r);
	boot_migrate_free(r->migrate);
	r->migrate = NULL;
	for (i = 0; i < boot_n_members(r); i++) {
		struct boot_run *m = boot_member(r, i);
		struct judge *j = &m->judge;

		m->interrupted |= r->interrupted;
		reset_watch_end(m);
		if (!m->interrupted && !judge_verdict(j))
			judge_exit(j, r->child.exit_status,
				   r->child.term_signal, r->child.killed);
		/* A guest's own time, as the agent measured it. A follower
		 * started with its leader's boot. */
		m->duration_s = j->guest_seconds > 0 ? j->guest_seconds : whole;
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
	if (!boot_log_finish(r, b->loop, run_logged)) {
		run_report(r);
		return;
	}
	b->finishing++;
	start_next(b);
}

static int spawn_qemu(struct boot_run *r);

static void run_closed(struct child *c)
{
	struct boot_run *r = container_of(c, struct boot_run, child);

	/* The source saved the guest: the destination takes over. */
	if (r->migrate && !r->interrupted && !r->boot->stopping &&
	    boot_migrate_closed(r->migrate)) {
		spawn_qemu(r);
		return;
	}
	run_done(r);
}

static void run_timed_out(struct child *c)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	if (boot_migrate_watchdog(r->migrate, "timeout", r->timeout_s))
		return;
	for (i = 0; i < boot_n_members(r); i++)
		judge_timeout(&boot_member(r, i)->judge, r->timeout_s);
}

static void run_silent(struct child *c)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	if (boot_migrate_watchdog(r->migrate, "silence limit", r->silence_s))
		return;
	for (i = 0; i < boot_n_members(r); i++)
		judge_silence(&boot_member(r, i)->judge, r->silence_s);
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

	for (i = 0; i < boot_n_members(r); i++) {
		struct judge *j = &boot_member(r, i)->judge;

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

/*
 * The guest is ready for a hand-over probe: migrate is ours (a QEMU
 * cell's); any other the guest waits out and its probe says so.
 */
static void take_handover(struct boot_run *r)
{
	char *h = judge_take_handover(&r->judge);

	if (h && !strcmp(h, "migrate") && r->migrate)
		boot_migrate_begin(r->migrate);
	free(h);
}

static void on_out(struct child *c, const char *buf, size_t len)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	double now = uv_hrtime() / 1e9;

	boot_log_console(r, buf, len);
	for (i = 0; i < boot_n_members(r); i++) {
		judge_set_now(&boot_member(r, i)->judge, now);
		judge_feed(&boot_member(r, i)->judge, buf, len);
	}
	take_handover(r);
	react(r);
}

static void on_err(struct child *c, const char *buf, size_t len)
{
	struct boot_run *r = container_of(c, struct boot_run, child);
	size_t i;

	for (i = 0; i < boot_n_members(r); i++)
		judge_feed_stderr(&boot_member(r, i)->judge, buf, len);
}

/*
 * Start r's QEMU: the run's first, or a migration's destination, which
 * gets what is left of the run's time. 0, or a negative uv error code
 * (the run is then decided ERROR and run_closed() finishes it).
 */
static int spawn_qemu(struct boot_run *r)
{
	struct boot *b = r->boot;
	char **argv = r->migrate ? boot_migrate_argv(r->migrate) : r->argv;
	uint64_t limit = (uint64_t)r->timeout_s * 1000, used = 0;
	char **args;
	size_t n, i, a;
	int rc;

	for (n = 0; argv[n]; n++)
		;
	args = xcalloc(n + 1 + BOOT_RAM_ARGS + BOOT_MIGRATE_ARGS +
		       BOOT_RESET_ARGS, sizeof(char *));
	memcpy(args, argv, n * sizeof(char *));
	a = n;
	/* A libxl guest's memory is read by the agent in dom0, not here.
	 * A destination has a memory of its own: the guest's from then. */
	if (r->ram_fd >= 0)
		close(r->ram_fd);
	r->ram_fd = -1;
	if (r->cell->backend != CELL_BACKEND_XEN_LIBXL)
		r->ram_fd = boot_ram_open();
	if (r->ram_fd >= 0)
		boot_ram_args(args, &a, r->cell->memory_mb);
	if (r->migrate)
		boot_migrate_args(r->migrate, args, &a);
	/*
	 * QEMU's reset log beside the console log: for a guest that resets
	 * before printing anything, the CPU's state is all there is (the
	 * judge reads it, judge_guest_reset). -d cpu_reset -D: in every
	 * release of the catalogue, 5.2 to 11.1. Xen's cells: a reset
	 * there is Xen's, and a libxl guest's is inside the nested Xen.
	 */
	if (watches_reset(r)) {
		args[a++] = xstrdup("-d");
		args[a++] = xstrdup("cpu_reset");
		args[a++] = xstrdup("-D");
		args[a++] = xstrfmt("%s.reset", r->log_path);
	}

	if (r->t0_ms)
		used = uv_now(b->loop) - r->t0_ms;
	child_init(&r->child);
	r->child.argv = args;
	r->child.env = r->migrate ? boot_migrate_env(r->migrate) : r->env;
	r->child.via = SPAWN_EXEC;
	r->child.self = b->self_exe;
	r->child.on_out = on_out;
	r->child.on_err = on_err;
	r->child.in_pipe = r->migrate != NULL;
	r->child.pass_fd = r->ram_fd;
	r->child.timeout_ms = limit > used + 1000 ? limit - used : 1000;
	r->child.on_timeout = run_timed_out;
	r->child.silence_ms = (uint64_t)r->silence_s * 1000;
	r->child.on_silence = run_silent;
	r->child.on_closed = run_closed;
	if (!r->t0_ms) {
		b->running++;
		r->t0_ms = uv_now(b->loop);
	}
	rc = child_start(&r->child, b->loop);
	if (!rc)
		reset_watch_start(r);
	for (i = n; i < a; i++)
		free(args[i]);
	free(args);
	if (rc < 0) {
		/* run_closed() finishes the run. */
		judge_error(&r->judge, "cannot start %s: %s", b->self_exe,
			    uv_strerror(rc));
		return rc;
	}
	if (r->migrate)
		boot_migrate_started(r->migrate);
	return 0;
}

static void start_run(struct boot *b, struct boot_run *r)
{
	struct strbuf log_err = STRBUF_INIT;
	size_t i;

	r->boot = b;
	r->started_at = timeutil_now();
	/* Every member of a group has a log of its own. */
	for (i = 0; i < boot_n_members(r); i++) {
		struct boot_run *m = boot_member(r, i);

		strbuf_reset(&log_err);
		logfile_create(&m->log, m->log_path, m->cell->log_limit,
			       &log_err);
		if (!m->log)
			judge_error(&m->judge, "%s", log_err.buf);
	}
	strbuf_release(&log_err);
	r->migrate = boot_migrate_new(r, b->loop);
	/* Decided before start (SKIP, missing image): the log says why. */
	if (members_decided(r)) {
		run_done(r);
		return;
	}
	if (!spawn_qemu(r) && b->opts.on_start)
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

static void prepare_work(uv_work_t *w)
{
	struct boot *b = w->data;

	/* No run has started: nothing on the loop reads these runs. */
	boot_libxl_make_images(b->runs, b->n_runs);
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
	boot_libxl_group(runs, n);
	if (boot_libxl_needs_images(runs, n)) {
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

const char *boot_default_initrd(void)
{
	const char *env = getenv("HVMATRIX_INITRD");

	return env && *env ? env : paths_payload();
}

/* boot_run_all: the foreground form, with its own signal handling. */
struct run_all {
	struct sigwatch signals;
	struct boot *boot;
	const struct boot_opts *user;
};

static void run_all_done(void *data)
{
	struct run_all *ra = data;

	sigwatch_close(&ra->signals);
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

static void on_signal(struct sigwatch *w, int signum)
{
	struct run_all *ra = container_of(w, struct run_all, signals);

	report_error("%s: stopping every run",
		     strsignal(signum));
	boot_stop(ra->boot);
}

int boot_run_all(uv_loop_t *loop, struct boot_run *runs, size_t n,
		 const struct boot_opts *opts)
{
	static const int signums[] = { SIGINT, SIGTERM, SIGHUP };
	struct boot_opts mine = *opts;
	struct run_all ra;
	int stopped;

	memset(&ra, 0, sizeof(ra));
	ra.user = opts;
	mine.on_start = run_all_start;
	mine.on_done = run_all_run_done;
	mine.on_all_done = run_all_done;
	mine.data = &ra;
	sigwatch_start(&ra.signals, loop, signums, ARRAY_SIZE(signums),
		       on_signal);
	ra.boot = boot_start(loop, runs, n, &mine);
	uv_run(loop, UV_RUN_DEFAULT);
	stopped = boot_stopped(ra.boot);
	boot_free(ra.boot);
	return stopped;
}
