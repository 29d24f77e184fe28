/*
 * test-daemon-state: the bottom of the daemon's files (daemon-state.c) on
 * a real loop with a stand-in for daemon.c's handler: a request sets its
 * state at once and wakes the handler once, on a later turn, with what
 * was asked; nothing is asked while stopping; a pause keeps its first
 * reason; the status file says what the state is; a retired matrix
 * outlives the jobs and compares that may point into it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "daemon/daemon-priv.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

/* What the stand-in handler saw, one entry per time it ran. */
static unsigned seen[8];
static size_t n_seen;

static void handler(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, kick);

	ck_assert_uint_lt(n_seen, ARRAY_SIZE(seen));
	seen[n_seen++] = d->wants;
	d->wants = 0;
}

static void daemon_setup(struct daemon *d, uv_loop_t *loop)
{
	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->o.quiet = 1;
	d->lock_fd = -1;
	d->status_fd = -1;
	d->kick_cb = handler;
	uv_loop_init(loop);
	uv_timer_init(loop, &d->kick);
	n_seen = 0;
}

static void daemon_teardown(struct daemon *d, uv_loop_t *loop)
{
	uv_close((uv_handle_t *)&d->kick, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(loop), 0);
	daemon_state_release(d);
}

START_TEST(test_kick_wakes_once)
{
	struct daemon d;
	uv_loop_t loop;

	daemon_setup(&d, &loop);
	daemon_state_kick(&d);
	daemon_state_kick(&d);
	/* Not from inside the request: the handler runs on the loop. */
	ck_assert_uint_eq(n_seen, 0);
	ck_assert_uint_eq(d.wants, DAEMON_WANT_WORK);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 1);
	ck_assert_uint_eq(seen[0], DAEMON_WANT_WORK);
	daemon_teardown(&d, &loop);
}
END_TEST

START_TEST(test_no_work_while_stopping)
{
	struct daemon d;
	uv_loop_t loop;

	daemon_setup(&d, &loop);
	daemon_state_shutdown(&d);
	ck_assert_int_eq(d.stopping, 1);	/* at once */
	daemon_state_kick(&d);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 1);
	ck_assert_uint_eq(seen[0], DAEMON_WANT_SHUTDOWN);
	/* Stopping: a look for work asks nothing, wakes nothing. */
	daemon_state_kick(&d);
	ck_assert_uint_eq(d.wants, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 1);
	/* Each thing in flight that ends asks the shutdown to go on. */
	daemon_state_shutdown(&d);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 2);
	ck_assert_uint_eq(seen[1], DAEMON_WANT_SHUTDOWN);
	daemon_teardown(&d, &loop);
}
END_TEST

START_TEST(test_closed_wakes_nothing)
{
	struct daemon d;
	uv_loop_t loop;

	daemon_setup(&d, &loop);
	d.closed = 1;
	daemon_state_kick(&d);
	daemon_state_shutdown(&d);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 0);
	daemon_teardown(&d, &loop);
}
END_TEST

START_TEST(test_pause_first_reason)
{
	struct daemon d;
	uv_loop_t loop;

	daemon_setup(&d, &loop);
	daemon_state_pause(&d, "disk full");
	ck_assert_str_eq(d.paused,
			 "the store does not take writes: disk full");
	daemon_state_kick(&d);	/* poll_after_cb asks both */
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 1);
	ck_assert_uint_eq(seen[0], DAEMON_WANT_PAUSE | DAEMON_WANT_WORK);
	/* Paused already: the first reason stays, the jobs stop once. */
	daemon_state_pause(&d, "another failure");
	ck_assert_str_eq(d.paused,
			 "the store does not take writes: disk full");
	ck_assert_uint_eq(d.wants, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(n_seen, 1);
	daemon_teardown(&d, &loop);
}
END_TEST

START_TEST(test_status_file)
{
	char dir[] = "/tmp/test-daemon-state-XXXXXX";
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct daemon d;
	uv_loop_t loop;
	struct stat st;
	char *path;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	daemon_setup(&d, &loop);
	d.o.state_dir = dir;
	d.o.matrix_path = "/x/matrix.yaml";
	ck_assert_int_eq(daemon_state_status_open(&d, &err), 0);
	path = xstrfmt("%s/%s", dir, DAEMON_STATUS_FILE);
	ck_assert_int_eq(stat(path, &st), 0);
	/* Preallocated: no new block needed on a full disk. */
	ck_assert_int_eq(st.st_size, DAEMON_STATUS_SIZE);
	daemon_state_pause(&d, "disk full");
	daemon_state_shutdown(&d);
	daemon_state_write_status(&d);
	ck_assert_int_eq(daemon_read_status(dir, &sb), 0);
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"matrix\": "
				     "\"/x/matrix.yaml\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"stopping\": true"));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"paused\": \"the store does "
				     "not take writes: disk full\""));
	ck_assert_ptr_nonnull(strstr(sb.buf, "\"jobs\": []"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, DAEMON_STATUS_SIZE);
	daemon_teardown(&d, &loop);
	unlink(path);
	rmdir(dir);
	free(path);
	strbuf_release(&sb);
	strbuf_release(&err);
}
END_TEST

/* Spin on the CPU for ms milliseconds: the loop held up by work. */
static void spin_ms(unsigned ms)
{
	uint64_t until = uv_hrtime() + (uint64_t)ms * 1000000u;

	while (uv_hrtime() < until)
		;
}

/*
 * The meter keeps the worst lag; with HVMATRIX_DEBUG_LAG each hold-up
 * over DAEMON_LAG_DEBUG_MS is said with where the loop thread's time went:
 * a hold-up spent spinning is on a CPU or waiting for one, not asleep.
 */
START_TEST(test_lag_said_with_its_cause)
{
	struct daemon d;
	uv_loop_t loop;
	struct strbuf out = STRBUF_INIT;
	char path[] = "/tmp/test-daemon-state-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	unsigned held, dt, cpu, wait, asleep;
	const char *line;

	ck_assert_int_ge(fd, 0);
	daemon_setup(&d, &loop);
	d.o.quiet = 0;
	setenv("HVMATRIX_DEBUG_LAG", "1", 1);
	daemon_state_lag_start(&d);
	unsetenv("HVMATRIX_DEBUG_LAG");
	ck_assert_int_eq(d.lag_debug, 1);
	ck_assert_int_ge(d.lag_sched_fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	daemon_state_lag_tick(&d);
	spin_ms(DAEMON_LAG_TICK_MS + 150);
	daemon_state_lag_tick(&d);
	/* On time: nothing said. */
	d.lag_last_ns = uv_hrtime() - DAEMON_LAG_TICK_MS * 1000000u;
	daemon_state_lag_tick(&d);
	fflush(stderr);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	ck_assert_int_eq(fsutil_read(path, &out), 0);
	unlink(path);
	close(fd);
	ck_assert_double_ge(d.lag_worst_ms, 150);
	line = strstr(out.buf, "loop held up ");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_null(strstr(line + 1, "loop held up "));
	ck_assert_int_eq(sscanf(line, "loop held up %u ms (of the %u ms since "
				"the tick before: %u on a CPU, %u waiting for "
				"a CPU, %u asleep)", &held, &dt, &cpu, &wait,
				&asleep), 5);
	ck_assert_uint_ge(held, 150);
	ck_assert_uint_ge(cpu + wait, 190);
	ck_assert_uint_le(asleep, 10);
	strbuf_release(&out);
	daemon_teardown(&d, &loop);
}
END_TEST

START_TEST(test_retired_matrix_kept)
{
	struct daemon d;
	uv_loop_t loop;

	daemon_setup(&d, &loop);
	d.m = xcalloc(1, sizeof(*d.m));
	daemon_state_set_matrix(&d, xcalloc(1, sizeof(*d.m)));
	ck_assert_uint_eq(d.n_retired, 1);
	d.n_jobs = 1;		/* a job may point into the old one */
	daemon_state_free_retired(&d);
	ck_assert_uint_eq(d.n_retired, 1);
	d.n_jobs = 0;
	d.comparing = 1;	/* so may a compare */
	daemon_state_free_retired(&d);
	ck_assert_uint_eq(d.n_retired, 1);
	d.comparing = 0;
	daemon_state_free_retired(&d);
	ck_assert_uint_eq(d.n_retired, 0);
	ck_assert_ptr_nonnull(d.m);
	daemon_teardown(&d, &loop);
	ck_assert_ptr_null(d.m);
}
END_TEST

static Suite *daemon_state_suite(void)
{
	Suite *s = suite_create("daemon-state");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_kick_wakes_once);
	tcase_add_test(tc, test_no_work_while_stopping);
	tcase_add_test(tc, test_closed_wakes_nothing);
	tcase_add_test(tc, test_pause_first_reason);
	tcase_add_test(tc, test_status_file);
	tcase_add_test(tc, test_retired_matrix_kept);
	tcase_add_test(tc, test_lag_said_with_its_cause);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(daemon_state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
