/*
 * test-queue: the failure policy's part of the store (deferred jobs,
 * attempts), readers beside a writer, and the store thread the daemon
 * sends every store call to. Each test on a fresh private state dir.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/record.h"
#include "store/record-thread.h"
#include "lib/xmalloc.h"

static char tmpdir[PATH_MAX];
static char *state;

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-queue.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	state = xstrfmt("%s/state", tmpdir);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(state);
}

static struct record *open_store(void)
{
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;

	if (record_open(&r, state, &err))
		ck_abort_msg("record_open: %s", err.buf);
	strbuf_release(&err);
	return r;
}

static double now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void enqueue(struct record *r, const char *id)
{
	struct record_commit c = {
		(char *)id, (char *)"s", (char *)"a", 1, (char *)"",
	};
	char *builds[] = { (char *)"tiny" };
	struct strbuf err = STRBUF_INIT;

	if (record_queue_add(r, "t", &c, 1, builds, 1, 1, 0,
			     RECORD_PRIORITY_NORMAL, NULL, &err))
		ck_abort_msg("record_queue_add: %s", err.buf);
	strbuf_release(&err);
}

START_TEST(test_defer_waits_and_counts)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_job j, k;
	double at = 0, t;

	enqueue(r, "c1");
	ck_assert_int_eq(record_queue_job_next(r, 0, &j, &err), 1);
	ck_assert_int_eq(j.attempts, 1);
	/* Failed for the farm: not taken again before its time. */
	t = now_unix() + 3600;
	ck_assert_int_eq(record_queue_job_defer(r, j.id, t, "disk full", &err),
			 0);
	ck_assert_int_eq(record_queue_job_next(r, 0, &k, &err), 0);
	ck_assert_int_eq(record_queue_next_due(r, 0, &at, &err), 1);
	ck_assert(at > t - 1 && at < t + 1);
	/* Its time comes: taken, the attempt counted, the reason kept. */
	ck_assert_int_eq(record_queue_job_defer(r, j.id, now_unix() - 1,
						"disk full", &err), 0);
	ck_assert_int_eq(record_queue_job_next(r, 0, &k, &err), 1);
	ck_assert_int_eq(k.attempts, 2);
	ck_assert_str_eq(k.last_error, "disk full");
	/* Stopped (a signal), not failed: the attempt does not count. */
	ck_assert_int_eq(record_queue_job_requeue(r, k.id, &err), 0);
	record_queue_job_release(&k);
	ck_assert_int_eq(record_queue_job_next(r, 0, &k, &err), 1);
	ck_assert_int_eq(k.attempts, 2);
	ck_assert_int_eq(record_queue_job_finish(r, k.id, &err), 0);
	ck_assert_int_eq(record_queue_next_due(r, 0, &at, &err), 0);
	ck_assert_int_eq(record_queue_probe_write(r, &err), 0);
	record_queue_job_release(&j);
	record_queue_job_release(&k);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

START_TEST(test_reader_beside_a_writer)
{
	struct record *w = open_store(), *rd = NULL;
	struct strbuf err = STRBUF_INIT;
	struct record_job *jobs = NULL;
	size_t n = 0;
	sqlite3 *db;
	char *path = xstrfmt("%s/hvmatrix.db", state);

	enqueue(w, "c1");
	/* Nothing recorded yet elsewhere: 1, no store made. */
	{
		char *none = xstrfmt("%s/none", tmpdir);
		struct record *x = (void *)1;

		ck_assert_int_eq(record_open_readonly(&x, none, &err), 1);
		ck_assert_ptr_null(x);
		ck_assert_int_eq(access(none, F_OK), -1);
		free(none);
	}
	ck_assert_int_eq(record_open_readonly(&rd, state, &err), 0);
	/* A writer holds the write lock with an uncommitted job... */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE jobs SET "
				      "state = 'done'", NULL, NULL, NULL),
			 SQLITE_OK);
	/* ...and the reader reads at once, the committed state only. */
	ck_assert_int_eq(record_queue_list_jobs(rd, -1, &jobs, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(jobs[0].state, RECORD_JOB_QUEUED);
	record_queue_jobs_free(jobs, n);
	/* A reader never writes. */
	ck_assert_int_eq(record_queue_job_finish(rd, 1, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "readonly"));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	record_close(rd);
	record_close(w);
	free(path);
	strbuf_release(&err);
}
END_TEST

/* The store thread: ops in order, results back on the loop thread. */
struct order {
	int seq[16];
	int n_ran, n_done;
	pthread_t loop_thread;
	int on_loop;
	int stopped;
};

struct op {
	struct order *o;
	int i;
};

static int run_op(struct record *r, void *arg, struct strbuf *err)
{
	struct op *op = arg;
	char id[8];

	snprintf(id, sizeof(id), "c%d", op->i);
	op->o->seq[op->o->n_ran++] = op->i;
	enqueue(r, id);
	if (op->i == 3) {
		strbuf_addstr(err, "op 3 fails");
		return -1;
	}
	return 0;
}

static void op_done(void *arg, int rc, const char *err)
{
	struct op *op = arg;

	op->o->on_loop += pthread_equal(pthread_self(), op->o->loop_thread);
	ck_assert_int_eq(op->i, op->o->n_done);
	ck_assert_int_eq(rc, op->i == 3 ? -1 : 0);
	ck_assert_str_eq(err, op->i == 3 ? "op 3 fails" : "");
	op->o->n_done++;
	free(op);
}

static void stopped(void *data)
{
	((struct order *)data)->stopped = 1;
}

START_TEST(test_store_thread_order)
{
	uv_loop_t loop;
	struct record_thread *t = NULL;
	struct strbuf err = STRBUF_INIT;
	struct order o = { .loop_thread = pthread_self() };
	struct record *r;
	struct record_job *jobs = NULL;
	size_t n = 0;
	int i;

	uv_loop_init(&loop);
	ck_assert_int_eq(record_thread_start(&t, &loop, state, &err), 0);
	for (i = 0; i < 8; i++) {
		struct op *op = xcalloc(1, sizeof(*op));

		op->o = &o;
		op->i = i;
		record_thread_submit(t, run_op, op_done, op);
	}
	ck_assert_uint_eq(record_thread_pending(t), 8);
	while (o.n_done < 4)
		uv_run(&loop, UV_RUN_ONCE);
	/* Stop with ops still queued: they run, their callbacks come. */
	record_thread_stop(t, stopped, &o);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(o.stopped, 1);
	ck_assert_int_eq(o.n_ran, 8);
	ck_assert_int_eq(o.n_done, 8);
	ck_assert_int_eq(o.on_loop, 8);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(o.seq[i], i);
	/* Every op's write is committed, in the thread's own connection. */
	r = open_store();
	ck_assert_int_eq(record_queue_list_jobs(r, -1, &jobs, &n, &err), 0);
	ck_assert_uint_eq(n, 8);
	record_queue_jobs_free(jobs, n);
	record_close(r);
	uv_loop_close(&loop);
	strbuf_release(&err);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("queue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defer_waits_and_counts);
	tcase_add_test(tc, test_reader_beside_a_writer);
	tcase_add_test(tc, test_store_thread_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
