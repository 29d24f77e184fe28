/*
 * daemon-state: what every part of the daemon uses and that calls none of
 * them: its lines on stderr, the status file `hvmatrix status` reads (with
 * the loop-lag figures it reports), the matrix in force and the retired
 * ones, and the requests to daemon.c (look for work, pause, shut down).
 *
 * A request only sets state and kicks daemon.c's zero-delay timer: the
 * acting (stopping jobs, closing the loop, taking work) is daemon.c's, one
 * loop turn later at most. So nothing here may call daemon.c,
 * daemon-jobs.c, daemon-poll.c or daemon-work.c.
 *
 * The status file is the one write the loop does itself: into a
 * preallocated page, so that even on a full disk `hvmatrix status` can
 * say why the daemon paused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "export/webhook.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "lib/report.h"
#include "lib/xmalloc.h"

void daemon_state_say(struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	/* d->o.quiet: `run` and `bisect` run a daemon quietly too. */
	if (d->o.quiet)
		return;
	va_start(ap, fmt);
	report_vprogress(NULL, fmt, ap);
	va_end(ap);
}

/* ---- the loop-lag meter ---- */

/*
 * HVMATRIX_DEBUG_LAG: every hold-up over DAEMON_LAG_DEBUG_MS is said as
 * it happens, after whatever the daemon said last, with where the loop
 * thread's time went since the tick before, as the kernel counts it
 * (/proc/thread-self/schedstat): on a CPU (work done on the loop: move
 * it off), waiting for a CPU (the host's cores busy with other work),
 * or asleep (the timer's own wait, plus any system call that blocked).
 */
void daemon_state_lag_start(struct daemon *d)
{
	d->lag_debug = getenv("HVMATRIX_DEBUG_LAG") &&
		       *getenv("HVMATRIX_DEBUG_LAG");
	d->lag_sched_fd = d->lag_debug ?
		open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC) : -1;
}

/* The loop thread's time on a CPU and waiting for one, in ns; -1. */
static int sched_times(struct daemon *d, uint64_t *run, uint64_t *wait)
{
	char buf[128];
	ssize_t n;

	if (d->lag_sched_fd < 0)
		return -1;
	n = pread(d->lag_sched_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sscanf(buf, "%" SCNu64 " %" SCNu64, run, wait) == 2 ? 0 : -1;
}

static void lag_say(struct daemon *d, double lag_ms, double dt_ms)
{
	uint64_t run0 = d->lag_run_ns, wait0 = d->lag_wait_ns;
	int known = d->lag_sched_ok;
	double run_ms, wait_ms, sleep_ms;

	d->lag_sched_ok = sched_times(d, &d->lag_run_ns, &d->lag_wait_ns) == 0;
	if (lag_ms <= DAEMON_LAG_DEBUG_MS)
		return;
	if (!known || !d->lag_sched_ok) {
		daemon_state_say(d, "loop held up %.0f ms", lag_ms);
		return;
	}
	run_ms = (double)(d->lag_run_ns - run0) / 1e6;
	wait_ms = (double)(d->lag_wait_ns - wait0) / 1e6;
	sleep_ms = dt_ms - run_ms - wait_ms;
	daemon_state_say(d, "loop held up %.0f ms (of the %.0f ms since the "
			 "tick before: %.0f on a CPU, %.0f waiting for a "
			 "CPU, %.0f asleep)", lag_ms, dt_ms, run_ms, wait_ms,
			 sleep_ms > 0 ? sleep_ms : 0);
}

/*
 * daemon.c's timer every DAEMON_LAG_TICK_MS: how late it fires is how long the
 * loop was kept from its timers and console reads. The worst lag of each
 * second is kept for the last DAEMON_LAG_WINDOW_S seconds.
 */
void daemon_state_lag_tick(struct daemon *d)
{
	uint64_t now = uv_hrtime();
	uint64_t sec = now / 1000000000u;
	size_t slot = sec % DAEMON_LAG_WINDOW_S;
	double lag_ms = 0, dt = 0;

	if (d->lag_last_ns) {
		dt = (double)(now - d->lag_last_ns) / 1e6;
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
	if (d->lag_debug)
		lag_say(d, lag_ms, dt);
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
 * a shared flock (daemon_read_status). The loop never waits for the
 * lock: while a reader holds it, the write is left to the status timer's
 * next tick (DAEMON_STATUS_MS), and the loop's timers keep their time.
 */
int daemon_state_status_open(struct daemon *d, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", d->o.state_dir, DAEMON_STATUS_FILE);
	char *pad = NULL;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), ret = -1;
	struct stat st;

	/* Private: a reader who could open it could flock it. */
	if (fd < 0 || fchmod(fd, 0600) < 0 || fstat(fd, &st) < 0) {
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

void daemon_state_write_status(struct daemon *d)
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
	if (flock(d->status_fd, LOCK_EX | LOCK_NB) == 0) {
		if (pwrite(d->status_fd, sb.buf, sb.len, 0) == (ssize_t)sb.len)
			d->status_len = len;
		flock(d->status_fd, LOCK_UN);
	}
out:
	strbuf_release(&sb);
}

/* ---- the state directory's modes ---- */

/*
 * The state directory holds the store, logs, builds and the files the
 * daemon locks: none of it is anyone else's to read or to lock. It is
 * 0711 rather than 0700 so that the dashboard inside it (0755, its pages
 * 0644) can still be served; everything else at its top is made 0700 or
 * 0600, which also mends a directory made by an older hvmatrix. New
 * files are private by the daemon's umask (077).
 */
int daemon_state_private_dir(const char *state_dir, struct strbuf *err)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	int ret = 0;

	if (chmod(state_dir, 0711) < 0 || !(dir = opendir(state_dir))) {
		strbuf_addf(err, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		const char *n = de->d_name;

		if (!strcmp(n, ".") || !strcmp(n, "..") ||
		    !strcmp(n, DAEMON_DASHBOARD_DIR) ||
		    fstatat(dirfd(dir), n, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_uid != geteuid())
			continue;
		if ((S_ISDIR(st.st_mode) &&
		     fchmodat(dirfd(dir), n, 0700, 0) < 0) ||
		    (S_ISREG(st.st_mode) &&
		     fchmodat(dirfd(dir), n, st.st_mode & 0700, 0) < 0)) {
			strbuf_addf(err, "%s/%s: %s", state_dir, n,
				    strerror(errno));
			ret = -1;
			break;
		}
	}
	closedir(dir);
	return ret;
}

/* ---- the matrix in force, and the retired ones ---- */

static void matrix_free(struct matrix *m)
{
	if (!m)
		return;
	matrix_release(m);
	free(m);
}

void daemon_state_set_matrix(struct daemon *d, struct matrix *m)
{
	ALLOC_GROW(d->retired, d->n_retired + 1, d->retired_alloc);
	d->retired[d->n_retired++] = d->m;
	d->m = m;
}

void daemon_state_free_retired(struct daemon *d)
{
	size_t i;

	if (d->n_jobs || d->comparing || d->web_syncing)
		return;		/* a job, a compare or the web's look may
				 * point into one */
	for (i = 0; i < d->n_retired; i++)
		matrix_free(d->retired[i]);
	d->n_retired = 0;
}

void daemon_state_release(struct daemon *d)
{
	daemon_state_free_retired(d);
	free(d->retired);
	d->retired = NULL;
	d->retired_alloc = 0;
	matrix_free(d->m);
	d->m = NULL;
	if (d->status_fd >= 0)
		close(d->status_fd);
	d->status_fd = -1;
	if (d->lag_debug && d->lag_sched_fd >= 0)
		close(d->lag_sched_fd);
	d->lag_debug = 0;
	free(d->paused);
	d->paused = NULL;
}

/* ---- requests to daemon.c ---- */

static void want(struct daemon *d, unsigned what)
{
	d->wants |= what;
	if (!d->closed)
		uv_timer_start(&d->kick, d->kick_cb, 0, 0);
}

void daemon_state_kick(struct daemon *d)
{
	if (!d->stopping && !d->closed)
		want(d, DAEMON_WANT_WORK);
}

void daemon_state_pause(struct daemon *d, const char *why)
{
	if (d->paused)
		return;
	d->paused = xstrfmt("the store does not take writes: %s", why);
	daemon_state_say(d, "pausing: %s; nothing is taken until writes work "
			 "again", d->paused);
	want(d, DAEMON_WANT_PAUSE);
}

void daemon_state_shutdown(struct daemon *d)
{
	d->stopping = 1;
	want(d, DAEMON_WANT_SHUTDOWN);
}
