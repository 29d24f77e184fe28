/*
 * daemon: see daemon.h. The top of the daemon's files: daemon_main (set-up,
 * signals, the loop and what lives as long as it: the matrix watcher and
 * reloads, the status and loop-lag timers), the pause's resume probes,
 * shutdown, and kick_cb, the one handler that acts on what the files below
 * ask through daemon-state.c (stop the jobs on a pause, stop or close on
 * shutdown, look for work when something changed). Below: daemon-jobs.c
 * (takes and runs jobs on schedule.c's choices), daemon-poll.c and
 * daemon-work.c (polls; compare and publish), daemon-state.c (what they
 * all share). Nothing below calls up here.
 *
 * Nothing here blocks the loop: store calls go to the store thread,
 * polls and publishing to the thread pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/daemon-priv.h"
#include "build/build.h"
#include "lib/fsutil.h"
#include "matrix/hypervisors.h"
#include "export/webhook.h"
#include "lib/report.h"
#include "lib/xmalloc.h"

#define DAEMON_RESUME_FIRST_MS 1000
#define DAEMON_RESUME_MAX_MS 30000

/* ---- the status file: its reader here, its writer in daemon-state.c ---- */

/*
 * The writer's flock (daemon_state_write_status) keeps a read whole. A
 * lock held by someone else for longer than a second is not waited for:
 * the file is read as it is (a torn one parses as nothing).
 */
int daemon_read_status(const char *state_dir, struct strbuf *out)
{
	char *path = xstrfmt("%s/%s", state_dir, DAEMON_STATUS_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1, locked, tries;
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	char buf[8192];
	ssize_t n;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	for (tries = 0; !(locked = flock(fd, LOCK_SH | LOCK_NB) == 0) &&
	     errno == EWOULDBLOCK && tries < 20; tries++)
		nanosleep(&nap, NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(out, buf, (size_t)n);
	ret = n < 0 ? -1 : 0;
	if (locked)
		flock(fd, LOCK_UN);
	close(fd);
	/* The padding of the preallocated file. */
	while (out->len && (out->buf[out->len - 1] == ' ' ||
			    out->buf[out->len - 1] == '\n'))
		out->buf[--out->len] = '\0';
	return ret;
}

/* The status file (daemon-state.c), rewritten at least this often. */
static void status_tick(uv_timer_t *t)
{
	daemon_state_write_status(container_of(t, struct daemon, status_timer));
}

/* The loop-lag meter (daemon-state.c) samples on a timer of its own. */
static void lag_tick(uv_timer_t *t)
{
	daemon_state_lag_tick(container_of(t, struct daemon, lag_timer));
}

/* ---- the matrix: load, reload, retire ---- */

static struct matrix *load_matrix(const char *path, struct strbuf *err)
{
	struct matrix *m = xcalloc(1, sizeof(*m));

	if (matrix_load(m, path, err) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

/* A changed matrix file, or SIGHUP (systemd's ExecReload). */
static void reload_matrix(struct daemon *d)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix *m;

	m = load_matrix(d->o.matrix_path, &err);
	if (!m) {
		daemon_state_say(d, "matrix reload refused: %s; keeping the "
				 "last good matrix", err.buf);
		strbuf_release(&err);
		return;
	}
	daemon_state_say(d, "matrix reloaded: %zu cells, %zu trees, %zu "
			 "builds", m->n_cells, m->n_trees, m->n_builds);
	daemon_state_set_matrix(d, m);
	webhook_configure(d->hooks, m);
	daemon_state_free_retired(d);
	strbuf_release(&err);
	/* A new or changed cell, a new kernel release: the web's boots. */
	d->web_quiet = 0;
	daemon_web_sync(d);
	/* New trees are polled at once. */
	if (d->o.poll && !d->stopping)
		uv_timer_start(&d->poll_timer, daemon_poll_cb, 0, 0);
}

static void matrix_changed(uv_fs_poll_t *h, int status,
			   const uv_stat_t *prev, const uv_stat_t *cur)
{
	struct daemon *d = container_of(h, struct daemon, matrix_watch);

	if (status < 0) {
		daemon_state_say(d, "matrix %s: %s; keeping the last good "
				 "matrix", d->o.matrix_path,
				 uv_strerror(status));
		return;
	}
	reload_matrix(d);
}

/* ---- the pause: the store does not take writes ---- */

static void resume_probe_done(void *arg, int rc, const char *err);
static void shut_down(struct daemon *d);

static int resume_probe(struct record *r, void *arg, struct strbuf *err)
{
	int *pgids = NULL;
	size_t n = 0;
	int rc = record_queue_probe_write(r, err);

	/* The jobs the failure left running go back to the queue. */
	if (!rc)
		rc = record_queue_jobs_recover(r, &pgids, &n, err);
	free(pgids);	/* their builds were stopped when we paused */
	return rc;
}

static void resume_timer_cb(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, resume_timer);

	if (d->stopping || d->n_jobs) {
		/* Let the stopped jobs end first. */
		if (!d->stopping)
			uv_timer_start(&d->resume_timer, resume_timer_cb,
				       DAEMON_RESUME_FIRST_MS, 0);
		return;
	}
	d->resuming = 1;
	record_thread_submit(d->store, resume_probe, resume_probe_done, d);
}

static void resume_probe_done(void *arg, int rc, const char *err)
{
	struct daemon *d = arg;

	d->resuming = 0;
	if (d->stopping) {
		shut_down(d);
		return;
	}
	if (rc < 0) {
		free(d->paused);
		d->paused = xstrfmt("the store does not take writes: %s; "
				    "trying again in %u s", err,
				    d->resume_delay_ms / 1000);
		daemon_state_write_status(d);
		uv_timer_start(&d->resume_timer, resume_timer_cb,
			       d->resume_delay_ms, 0);
		if (d->resume_delay_ms < DAEMON_RESUME_MAX_MS)
			d->resume_delay_ms *= 2;
		return;
	}
	daemon_state_say(d, "the store takes writes again: resuming");
	free(d->paused);
	d->paused = NULL;
	daemon_state_write_status(d);
	daemon_state_kick(d);
}

/* daemon_state_pause() set the reason and said it; the jobs stop now. */
static void pause_begin(struct daemon *d)
{
	d->resume_delay_ms = DAEMON_RESUME_FIRST_MS;
	daemon_jobs_stop(d);
	daemon_state_write_status(d);
	uv_timer_start(&d->resume_timer, resume_timer_cb,
		       d->resume_delay_ms, 0);
}

/* ---- signals and shutdown ---- */

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		daemon_state_say(d, "SIGHUP: re-reading the matrix %s",
				 d->o.matrix_path);
		if (!d->stopping)
			reload_matrix(d);
		return;
	}
	daemon_state_say(d, "%s: stopping; running work goes back to the "
			 "queue", strsignal(signum));
	if (d->o.only_job && d->worst == EXIT_OK)
		d->worst = 130;
	shut_down(d);
}

static void store_closed(void *data)
{
	struct daemon *d = data;

	d->store = NULL;
}

static void close_all(struct daemon *d)
{
	size_t i;

	if (d->closed)
		return;
	d->closed = 1;
	for (i = 0; i < ARRAY_SIZE(d->sig); i++)
		uv_close((uv_handle_t *)&d->sig[i], NULL);
	uv_close((uv_handle_t *)&d->poll_timer, NULL);
	uv_close((uv_handle_t *)&d->kick, NULL);
	uv_close((uv_handle_t *)&d->due_timer, NULL);
	uv_close((uv_handle_t *)&d->status_timer, NULL);
	uv_close((uv_handle_t *)&d->lag_timer, NULL);
	uv_close((uv_handle_t *)&d->resume_timer, NULL);
	uv_close((uv_handle_t *)&d->web_timer, NULL);
	uv_close((uv_handle_t *)&d->matrix_watch, NULL);
	webhook_stop(d->hooks);
	d->hooks = NULL;
	record_thread_stop(d->store, store_closed, d);
}

static void shutdown_cb(void *data)
{
	shut_down(data);
}

/*
 * Stop taking work, stop what runs; close once nothing is in flight. Each
 * thing in flight, once it is over, asks again (daemon_state_shutdown).
 */
static void shut_down(struct daemon *d)
{
	d->stopping = 1;
	if (d->n_jobs) {
		daemon_jobs_stop(d);
		return;		/* the last job's end asks again */
	}
	if (d->polling || d->publishing || d->taking || d->resuming ||
	    d->comparing || d->web_syncing)
		return;		/* their callbacks ask again */
	/* An attempt under way ends (WEBHOOK_TIMEOUT_MS at most) and is
	 * marked in the store: a 2xx it got is never sent again. */
	if (webhook_drain(d->hooks, shutdown_cb, d) ||
	    record_thread_pending(d->store))
		return;
	daemon_state_write_status(d);
	close_all(d);
}

/*
 * The one place that acts on what the other files ask (daemon-state.c):
 * whatever was asked since the last kick, in this order.
 */
static void kick_cb(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, kick);
	unsigned wants = d->wants;

	d->wants = 0;
	if (wants & DAEMON_WANT_PAUSE)
		pause_begin(d);
	if (wants & DAEMON_WANT_SHUTDOWN)
		shut_down(d);
	else if (wants & DAEMON_WANT_WORK)
		daemon_jobs_take(d);
}

/* ---- start ---- */

static int take_lock(struct daemon *d, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", d->o.state_dir, DAEMON_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	/*
	 * Never blocks: a second daemon is told at once. The file is
	 * private so that no other user can open it and hold a lock on it.
	 */
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		if (fd >= 0)
			close(fd);
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		strbuf_addf(err, "%s: another hvmatrix daemon or run works on "
			    "this state directory", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	d->lock_fd = fd;
	return 0;
}

/* Builds left by a killed daemon: kill their groups if still ours. */
static int recover_jobs(struct daemon *d, struct strbuf *err)
{
	struct record *r = NULL;
	int *pgids = NULL, ret = -1, n_killed;
	size_t n = 0, i;
	struct strbuf log = STRBUF_INIT;

	/* Before the loop runs: a short-lived connection of our own. */
	if (record_open(&r, d->o.state_dir, err) < 0 ||
	    record_queue_jobs_recover(r, &pgids, &n, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		n_killed = build_host_kill_group(pgids[i], &log);
		if (n_killed > 0)
			daemon_state_say(d, "killed %d process%s of build "
					 "group %d left by a previous daemon",
					 n_killed, n_killed == 1 ? "" : "es",
					 pgids[i]);
		else if (n_killed < 0)
			daemon_state_say(d, "build group %d: %s", pgids[i],
					 log.buf);
		strbuf_reset(&log);
	}
	ret = 0;
out:
	strbuf_release(&log);
	free(pgids);
	record_close(r);
	return ret;
}

static double retry_base(void)
{
	const char *s = getenv("HVMATRIX_RETRY_BASE_S");
	char *end;
	double v;

	if (!s || !*s)
		return DAEMON_RETRY_BASE_S;
	v = strtod(s, &end);
	return *end || v < 0 ? DAEMON_RETRY_BASE_S : v;
}

static void hook_say(void *data, const char *line)
{
	daemon_state_say(data, "%s", line);
}

int daemon_main(const struct daemon_opts *o)
{
	static const int signums[] = { SIGINT, SIGTERM, SIGHUP };
	struct daemon d;
	struct strbuf err = STRBUF_INIT;
	int ret = EXIT_USAGE;
	char *abs_matrix = NULL;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.o = *o;
	/* The daemon's progress lines carry the time (lib/report.h). */
	report_set_stamp(1);
	/*
	 * A peer that hangs up (a webhook endpoint, a TLS socket, a closed
	 * pipe to a child) is an EPIPE to handle, not the daemon's death:
	 * libcurl is told not to touch signals (CURLOPT_NOSIGNAL), so it is
	 * ours to ignore. Children get the default again (libuv resets
	 * every disposition before exec; the two forks that do not use it
	 * reset SIGPIPE themselves).
	 */
	signal(SIGPIPE, SIG_IGN);
	d.lock_fd = -1;
	d.status_fd = -1;
	d.no_overlap = getenv("HVMATRIX_NO_OVERLAP") &&
		       *getenv("HVMATRIX_NO_OVERLAP");
	/*
	 * Paths in the matrix are resolved against its directory: make that
	 * absolute, since builds run their steps in other directories.
	 */
	abs_matrix = realpath(o->matrix_path, NULL);
	if (abs_matrix)
		d.o.matrix_path = abs_matrix;
	d.loop = uv_default_loop();
	if (!d.o.jobs)
		d.o.jobs = 1;
	d.m = load_matrix(d.o.matrix_path, &err);
	if (!d.m) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	/* Reloads run on the loop: they never ask a QEMU release (up to
	 * 20 s); one not asked yet is its runs' precheck's to ask. */
	hypervisors_check_cached_only(1);
	/* The web alone is work too: released kernels, nothing to build. */
	if (o->poll && !d.m->n_trees && !d.m->web.given) {
		report_error("%s: no trees to watch (add a "
			     "'trees:' section) and no web section",
			     o->matrix_path);
		goto out;
	}
	if (!d.m->n_builds && d.m->n_trees) {
		report_error("%s: no build configs (add a "
			     "'builds:' section)", o->matrix_path);
		goto out;
	}
	ret = EXIT_ERROR;
	/* Whatever the daemon and its children make is the farm's alone. */
	umask(077);
	if (fsutil_mkdir_p(o->state_dir, 0711) < 0) {
		report_error("%s: cannot create: %s",
			     o->state_dir, strerror(errno));
		goto out;
	}
	if (take_lock(&d, &err) < 0 ||
	    daemon_state_private_dir(o->state_dir, &err) < 0 ||
	    recover_jobs(&d, &err) < 0 ||
	    daemon_state_status_open(&d, &err) < 0 ||
	    record_thread_start(&d.store, d.loop, o->state_dir, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	d.dash_dir = xstrfmt("%s/" DAEMON_DASHBOARD_DIR, o->state_dir);
	/* Served: readable by others, unlike the rest (umask 077). */
	if (fsutil_mkdir_p(d.dash_dir, 0755) == 0)
		chmod(d.dash_dir, 0755);
	if (webhook_start(&d.hooks, d.loop, d.store, hook_say, &d, &err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	webhook_configure(d.hooks, d.m);
	daemon_jobs_init(&d, retry_base());
	/* What a previous daemon left undelivered. */
	webhook_kick(d.hooks);

	for (i = 0; i < ARRAY_SIZE(signums); i++) {
		uv_signal_init(d.loop, &d.sig[i]);
		d.sig[i].data = &d;
		uv_signal_start(&d.sig[i], on_signal, signums[i]);
	}
	uv_timer_init(d.loop, &d.kick);
	d.kick_cb = kick_cb;
	uv_timer_init(d.loop, &d.poll_timer);
	uv_timer_init(d.loop, &d.due_timer);
	uv_timer_init(d.loop, &d.resume_timer);
	uv_timer_init(d.loop, &d.status_timer);
	uv_timer_start(&d.status_timer, status_tick, DAEMON_STATUS_MS,
		       DAEMON_STATUS_MS);
	daemon_state_lag_start(&d);
	uv_timer_init(d.loop, &d.lag_timer);
	uv_timer_start(&d.lag_timer, lag_tick, DAEMON_LAG_TICK_MS,
		       DAEMON_LAG_TICK_MS);
	uv_fs_poll_init(d.loop, &d.matrix_watch);
	uv_fs_poll_start(&d.matrix_watch, matrix_changed, d.o.matrix_path,
			 DAEMON_MATRIX_CHECK_MS);
	daemon_state_say(&d, "hvmatrix daemon: matrix %s (%zu cells, %zu "
			 "trees, %zu builds), state %s, %u cores",
			 d.o.matrix_path, d.m->n_cells, d.m->n_trees,
			 d.m->n_builds, o->state_dir, d.o.jobs);
	daemon_state_write_status(&d);
	daemon_web_start(&d);
	if (o->ran)
		*o->ran = 1;
	if (o->poll)
		uv_timer_start(&d.poll_timer, daemon_poll_cb, 0, 0);
	else
		daemon_state_kick(&d);
	uv_run(d.loop, UV_RUN_DEFAULT);
	daemon_state_say(&d, "loop lag: worst %.1f ms since the start",
			 d.lag_worst_ms);
	daemon_state_say(&d, "dashboard: %s/index.html", d.dash_dir);
	ret = d.worst;
out:
	daemon_poll_release(&d);
	daemon_jobs_release(&d);
	daemon_state_release(&d);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	free(d.dash_dir);
	free(abs_matrix);
	strbuf_release(&err);
	return ret;
}
