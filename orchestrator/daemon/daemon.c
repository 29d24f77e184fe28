/*
 * daemon: see daemon.h. This file owns the loop and what lives as long as
 * it: signals, the matrix watcher, the status file, the loop-lag meter,
 * the pause when the store fails and shutdown. Polling is in
 * daemon-poll.c, publishing and comparing in daemon-work.c, taking and
 * running jobs in daemon-jobs.c (which acts on schedule.c's choices; a
 * job's way through build, boot and record is schedule/job.c's).
 *
 * Nothing here blocks the loop: store calls go to the store thread,
 * polls and publishing to the thread pool. The one exception is the
 * status file, a write into a preallocated page, so that even on a full
 * disk `hvmatrix status` can say why the daemon paused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
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
#include "lib/json.h"
#include "export/webhook.h"
#include "lib/xmalloc.h"
#include "lib/timeutil.h"

#define DAEMON_RESUME_FIRST_MS 1000
#define DAEMON_RESUME_MAX_MS 30000

void daemon_say(struct daemon *d, const char *fmt, ...)
{
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (d->o.quiet)
		return;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(stderr, "[%s] ", stamp);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the loop-lag meter ---- */

/*
 * A timer every DAEMON_LAG_TICK_MS: how late it fires is how long the
 * loop was kept from its timers and console reads. The worst lag of each
 * second is kept for the last DAEMON_LAG_WINDOW_S seconds.
 */
static void lag_tick(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, lag_timer);
	uint64_t now = uv_hrtime();
	uint64_t sec = now / 1000000000u;
	size_t slot = sec % DAEMON_LAG_WINDOW_S;
	double lag_ms = 0;

	if (d->lag_last_ns) {
		double dt = (double)(now - d->lag_last_ns) / 1e6;

		lag_ms = dt > DAEMON_LAG_TICK_MS ? dt - DAEMON_LAG_TICK_MS : 0;
	}
	d->lag_last_ns = now;
	if (d->lag_bucket_s[slot] != sec) {
		d->lag_bucket_s[slot] = sec;
		d->lag_bucket_ms[slot] = 0;
	}
	if (lag_ms > d->lag_bucket_ms[slot])
		d->lag_bucket_ms[slot] = lag_ms;
	if (lag_ms > d->lag_worst_ms)
		d->lag_worst_ms = lag_ms;
	if (lag_ms > 100 && getenv("HVMATRIX_DEBUG_LAG"))
		daemon_say(d, "loop held up %.0f ms", lag_ms);
}

static double worst_lag_ms(const struct daemon *d)
{
	uint64_t sec = uv_hrtime() / 1000000000u;
	double worst = 0;
	size_t i;

	for (i = 0; i < DAEMON_LAG_WINDOW_S; i++)
		if (d->lag_bucket_s[i] + DAEMON_LAG_WINDOW_S > sec &&
		    d->lag_bucket_ms[i] > worst)
			worst = d->lag_bucket_ms[i];
	return worst;
}

/* ---- the status file `hvmatrix status` reads ---- */

/*
 * The file is made DAEMON_STATUS_SIZE bytes of spaces once, then each
 * update overwrites its start in place (padded with spaces over what the
 * last one wrote) under an exclusive flock: no new block is ever needed,
 * so the file still tells the truth when the disk is full. Readers take
 * a shared flock (daemon_read_status).
 */
static int status_open(struct daemon *d, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", d->o.state_dir, DAEMON_STATUS_FILE);
	char *pad = NULL;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), ret = -1;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size != DAEMON_STATUS_SIZE) {
		pad = xmalloc(DAEMON_STATUS_SIZE);
		memset(pad, ' ', DAEMON_STATUS_SIZE);
		pad[DAEMON_STATUS_SIZE - 1] = '\n';
		if (ftruncate(fd, 0) < 0 ||
		    pwrite(fd, pad, DAEMON_STATUS_SIZE, 0) !=
		    DAEMON_STATUS_SIZE) {
			strbuf_addf(err, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	d->status_fd = fd;
	d->status_len = DAEMON_STATUS_SIZE - 1;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(pad);
	free(path);
	return ret;
}

static void add_job_status(struct json *js, const struct job *j)
{
	const struct record_job *rj = job_queued(j);

	json_object_begin(js);
	json_key_str(js, "tree", rj->tree);
	json_key_str(js, "commit", rj->commit_id);
	json_key_str(js, "build", rj->build);
	json_key_str(js, "subject", rj->subject);
	json_key_str(js, "stage", job_stage_name(j));
	json_key_int(js, "attempt", rj->attempts);
	json_key_double(js, "started_at", job_started_at(j));
	json_object_end(js);
}

void daemon_write_status(struct daemon *d)
{
	struct strbuf sb = STRBUF_INIT;
	struct json js;
	size_t len, i;

	if (d->status_fd < 0)
		return;
	json_init(&js, &sb);
	json_object_begin(&js);
	json_key_int(&js, "pid", (int64_t)getpid());
	json_key_double(&js, "updated_at", timeutil_now());
	json_key_str(&js, "matrix", d->o.matrix_path);
	json_key_bool(&js, "stopping", d->stopping);
	json_key(&js, "paused");
	if (d->paused)
		json_str(&js, d->paused);
	else
		json_null(&js);
	json_key(&js, "loop");
	json_object_begin(&js);
	json_key_double(&js, "worst_lag_ms", worst_lag_ms(d));
	json_key_int(&js, "window_s", DAEMON_LAG_WINDOW_S);
	json_object_end(&js);
	json_key(&js, "webhooks");
	webhook_status_json(d->hooks, &js);
	json_key(&js, "job");
	if (d->n_jobs)
		add_job_status(&js, d->jobs[0]);
	else
		json_null(&js);
	json_key(&js, "jobs");
	json_array_begin(&js);
	for (i = 0; i < d->n_jobs; i++)
		add_job_status(&js, d->jobs[i]);
	json_array_end(&js);
	json_object_end(&js);
	strbuf_addch(&sb, '\n');
	if (sb.len >= DAEMON_STATUS_SIZE)
		goto out;	/* cannot happen with two jobs; never torn */
	len = sb.len;
	while (sb.len < d->status_len)
		strbuf_addch(&sb, ' ');
	if (flock(d->status_fd, LOCK_EX) == 0) {
		if (pwrite(d->status_fd, sb.buf, sb.len, 0) == (ssize_t)sb.len)
			d->status_len = len;
		flock(d->status_fd, LOCK_UN);
	}
out:
	strbuf_release(&sb);
}

int daemon_read_status(const char *state_dir, struct strbuf *out)
{
	char *path = xstrfmt("%s/%s", state_dir, DAEMON_STATUS_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (flock(fd, LOCK_SH) == 0) {
		char buf[8192];
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0)
			strbuf_add(out, buf, (size_t)n);
		ret = n < 0 ? -1 : 0;
		flock(fd, LOCK_UN);
	}
	close(fd);
	/* The padding of the preallocated file. */
	while (out->len && (out->buf[out->len - 1] == ' ' ||
			    out->buf[out->len - 1] == '\n'))
		out->buf[--out->len] = '\0';
	return ret;
}

static void status_tick(uv_timer_t *t)
{
	daemon_write_status(container_of(t, struct daemon, status_timer));
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

static void matrix_free(struct matrix *m)
{
	if (!m)
		return;
	matrix_release(m);
	free(m);
}

void daemon_free_retired(struct daemon *d)
{
	size_t i;

	if (d->n_jobs || d->comparing)
		return;		/* a job or a compare may point into one */
	for (i = 0; i < d->n_retired; i++)
		matrix_free(d->retired[i]);
	d->n_retired = 0;
}

/* A changed matrix file, or SIGHUP (systemd's ExecReload). */
static void reload_matrix(struct daemon *d)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix *m;

	m = load_matrix(d->o.matrix_path, &err);
	if (!m) {
		daemon_say(d, "matrix reload refused: %s; keeping the last "
			   "good matrix", err.buf);
		strbuf_release(&err);
		return;
	}
	daemon_say(d, "matrix reloaded: %zu cells, %zu trees, %zu builds",
		   m->n_cells, m->n_trees, m->n_builds);
	ALLOC_GROW(d->retired, d->n_retired + 1, d->retired_alloc);
	d->retired[d->n_retired++] = d->m;
	d->m = m;
	webhook_configure(d->hooks, m);
	daemon_free_retired(d);
	strbuf_release(&err);
	/* New trees are polled at once. */
	if (d->o.poll && !d->stopping)
		uv_timer_start(&d->poll_timer, daemon_poll_cb, 0, 0);
}

static void matrix_changed(uv_fs_poll_t *h, int status,
			   const uv_stat_t *prev, const uv_stat_t *cur)
{
	struct daemon *d = container_of(h, struct daemon, matrix_watch);

	if (status < 0) {
		daemon_say(d, "matrix %s: %s; keeping the last good matrix",
			   d->o.matrix_path, uv_strerror(status));
		return;
	}
	reload_matrix(d);
}

/* ---- the pause: the store does not take writes ---- */

static void resume_probe_done(void *arg, int rc, const char *err);

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
		daemon_shutdown(d);
		return;
	}
	if (rc < 0) {
		free(d->paused);
		d->paused = xstrfmt("the store does not take writes: %s; "
				    "trying again in %u s", err,
				    d->resume_delay_ms / 1000);
		daemon_write_status(d);
		uv_timer_start(&d->resume_timer, resume_timer_cb,
			       d->resume_delay_ms, 0);
		if (d->resume_delay_ms < DAEMON_RESUME_MAX_MS)
			d->resume_delay_ms *= 2;
		return;
	}
	daemon_say(d, "the store takes writes again: resuming");
	free(d->paused);
	d->paused = NULL;
	daemon_write_status(d);
	daemon_jobs_schedule(d);
}

void daemon_pause(struct daemon *d, const char *why)
{
	if (d->paused)
		return;
	d->paused = xstrfmt("the store does not take writes: %s", why);
	d->resume_delay_ms = DAEMON_RESUME_FIRST_MS;
	daemon_say(d, "pausing: %s; nothing is taken until writes work "
		   "again", d->paused);
	daemon_jobs_stop(d);
	daemon_write_status(d);
	uv_timer_start(&d->resume_timer, resume_timer_cb,
		       d->resume_delay_ms, 0);
}

/* ---- signals and shutdown ---- */

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		daemon_say(d, "SIGHUP: re-reading the matrix %s",
			   d->o.matrix_path);
		if (!d->stopping)
			reload_matrix(d);
		return;
	}
	daemon_say(d, "%s: stopping; running work goes back to the queue",
		   strsignal(signum));
	if (d->o.only_job && d->worst == EXIT_OK)
		d->worst = 130;
	daemon_shutdown(d);
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
	uv_close((uv_handle_t *)&d->matrix_watch, NULL);
	webhook_stop(d->hooks);
	d->hooks = NULL;
	record_thread_stop(d->store, store_closed, d);
}

static void shutdown_cb(void *data)
{
	daemon_shutdown(data);
}

/* Stop taking work, stop what runs; close once nothing is in flight. */
void daemon_shutdown(struct daemon *d)
{
	d->stopping = 1;
	if (d->n_jobs) {
		daemon_jobs_stop(d);
		return;		/* the last job's end calls back */
	}
	if (d->polling || d->publishing || d->taking || d->resuming ||
	    d->comparing)
		return;		/* their callbacks call back */
	/* An attempt under way ends (WEBHOOK_TIMEOUT_MS at most) and is
	 * marked in the store: a 2xx it got is never sent again. */
	if (webhook_drain(d->hooks, shutdown_cb, d) ||
	    record_thread_pending(d->store))
		return;
	daemon_write_status(d);
	close_all(d);
}

/* ---- start ---- */

static int take_lock(struct daemon *d, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", d->o.state_dir, DAEMON_LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
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
			daemon_say(d, "killed %d process%s of build group %d "
				   "left by a previous daemon", n_killed,
				   n_killed == 1 ? "" : "es", pgids[i]);
		else if (n_killed < 0)
			daemon_say(d, "build group %d: %s", pgids[i],
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
	daemon_say(data, "%s", line);
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
	if (o->poll && !d.m->n_trees) {
		fprintf(stderr, "hvmatrix: %s: no trees to watch (add a "
			"'trees:' section)\n", o->matrix_path);
		goto out;
	}
	if (!d.m->n_builds) {
		fprintf(stderr, "hvmatrix: %s: no build configs (add a "
			"'builds:' section)\n", o->matrix_path);
		goto out;
	}
	ret = EXIT_ERROR;
	if (fsutil_mkdir_p(o->state_dir, 0755) < 0) {
		fprintf(stderr, "hvmatrix: %s: cannot create: %s\n",
			o->state_dir, strerror(errno));
		goto out;
	}
	if (take_lock(&d, &err) < 0 || recover_jobs(&d, &err) < 0 ||
	    status_open(&d, &err) < 0 ||
	    record_thread_start(&d.store, d.loop, o->state_dir, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		goto out;
	}
	d.dash_dir = xstrfmt("%s/dashboard", o->state_dir);
	if (webhook_start(&d.hooks, d.loop, d.store, hook_say, &d, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
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
	uv_timer_init(d.loop, &d.poll_timer);
	uv_timer_init(d.loop, &d.due_timer);
	uv_timer_init(d.loop, &d.resume_timer);
	uv_timer_init(d.loop, &d.status_timer);
	uv_timer_start(&d.status_timer, status_tick, DAEMON_STATUS_MS,
		       DAEMON_STATUS_MS);
	uv_timer_init(d.loop, &d.lag_timer);
	uv_timer_start(&d.lag_timer, lag_tick, DAEMON_LAG_TICK_MS,
		       DAEMON_LAG_TICK_MS);
	uv_fs_poll_init(d.loop, &d.matrix_watch);
	uv_fs_poll_start(&d.matrix_watch, matrix_changed, d.o.matrix_path,
			 DAEMON_MATRIX_CHECK_MS);
	daemon_say(&d, "hvmatrix daemon: matrix %s (%zu cells, %zu trees, "
		   "%zu builds), state %s, %u cores", d.o.matrix_path,
		   d.m->n_cells, d.m->n_trees, d.m->n_builds, o->state_dir,
		   d.o.jobs);
	daemon_write_status(&d);
	if (o->ran)
		*o->ran = 1;
	if (o->poll)
		uv_timer_start(&d.poll_timer, daemon_poll_cb, 0, 0);
	else
		daemon_jobs_schedule(&d);
	uv_run(d.loop, UV_RUN_DEFAULT);
	daemon_say(&d, "loop lag: worst %.1f ms since the start",
		   d.lag_worst_ms);
	daemon_say(&d, "dashboard: %s/index.html", d.dash_dir);
	ret = d.worst;
out:
	daemon_poll_release(&d);
	daemon_jobs_release(&d);
	daemon_free_retired(&d);
	free(d.retired);
	matrix_free(d.m);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	if (d.status_fd >= 0)
		close(d.status_fd);
	free(d.paused);
	free(d.dash_dir);
	free(abs_matrix);
	strbuf_release(&err);
	return ret;
}
