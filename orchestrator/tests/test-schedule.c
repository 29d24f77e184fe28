/*
 * test-schedule: the scheduler's decisions (schedule.c) on snapshots made
 * up for each rule: the queue's order (confirmations and bisection steps
 * ahead of tips and the backlog) and that it is the store's own, backoff,
 * cores never promised twice, the turns of builds and boots, nothing
 * taken while stopping or paused; within a job, the cells a commit
 * touches first, then those that failed recently.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schedule/schedule.h"
#include "store/record.h"
#include "lib/xmalloc.h"

#define NOW 1000000.0

static struct schedule_queued entry(int64_t id, int priority, int64_t batch,
				    double not_before)
{
	struct schedule_queued q = { id, priority, batch, not_before };

	return q;
}

/* The id schedule_pick chooses, or 0. */
static int64_t picked(const struct schedule_queued *q, size_t n,
		      int64_t only_job)
{
	size_t i = SCHEDULE_NO_JOB;
	int have_due;
	double due_at;

	if (!schedule_pick(q, n, only_job, NOW, &i, &have_due, &due_at))
		return 0;
	ck_assert_uint_lt(i, n);
	return q[i].id;
}

START_TEST(test_pick_priority)
{
	struct schedule_queued q[] = {
		entry(1, RECORD_PRIORITY_NORMAL, 9, 0),	/* newest poll */
		entry(2, RECORD_PRIORITY_TIP, 3, 0),
		entry(3, RECORD_PRIORITY_CONFIRM, 1, 0),	/* oldest */
		entry(4, RECORD_PRIORITY_MANUAL, 2, 0),
	};

	/* A confirmation or bisection step goes before everything... */
	ck_assert_int_eq(picked(q, 4, 0), 3);
	/* ...then a manual request, then a tip, then the backlog, however
	 * new the backlog's poll. */
	q[2] = entry(3, RECORD_PRIORITY_NORMAL, 1, 0);
	ck_assert_int_eq(picked(q, 4, 0), 4);
	ck_assert_int_eq(picked(q, 3, 0), 2);
	/* Same priority: the newest poll first, then the oldest job. */
	q[1] = entry(2, RECORD_PRIORITY_NORMAL, 3, 0);
	ck_assert_int_eq(picked(q, 3, 0), 1);
	q[0] = entry(5, RECORD_PRIORITY_NORMAL, 3, 0);
	ck_assert_int_eq(picked(q, 3, 0), 2);
	/* --job: that one alone, whatever else is queued. */
	ck_assert_int_eq(picked(q, 4, 3), 3);
	ck_assert_int_eq(picked(q, 4, 42), 0);
}
END_TEST

START_TEST(test_pick_backoff)
{
	struct schedule_queued q[] = {
		entry(1, RECORD_PRIORITY_CONFIRM, 5, NOW + 60),
		entry(2, RECORD_PRIORITY_NORMAL, 1, NOW),
		entry(3, RECORD_PRIORITY_TIP, 2, NOW + 30),
	};
	size_t i = 99;
	int have_due = -1;
	double due_at = 0;

	/* Waiting out its backoff, the confirmation is passed over; a job
	 * whose time is exactly now is taken. */
	ck_assert_int_eq(picked(q, 3, 0), 2);
	/* Nothing due: nothing taken, and the first to wake up says when. */
	ck_assert_int_eq(schedule_pick(q, 1, 0, NOW, &i, &have_due, &due_at),
			 0);
	ck_assert_int_eq(have_due, 1);
	ck_assert(due_at == NOW + 60);
	q[1] = entry(2, RECORD_PRIORITY_NORMAL, 1, NOW + 90);
	ck_assert_int_eq(schedule_pick(q, 3, 0, NOW, &i, &have_due, &due_at),
			 0);
	ck_assert_int_eq(have_due, 1);
	ck_assert(due_at == NOW + 30);
	ck_assert_uint_eq(i, 99);
	/* Its time came. */
	ck_assert_int_eq(schedule_pick(q, 3, 0, NOW + 61, &i, &have_due,
				       &due_at), 1);
	ck_assert_int_eq(q[i].id, 1);
	/* --job: only that job's backoff counts. */
	ck_assert_int_eq(schedule_pick(q, 3, 2, NOW, &i, &have_due, &due_at),
			 0);
	ck_assert_int_eq(have_due, 1);
	ck_assert(due_at == NOW + 90);
	/* An empty queue: nothing to wait for either. */
	ck_assert_int_eq(schedule_pick(q, 0, 0, NOW, &i, &have_due, &due_at),
			 0);
	ck_assert_int_eq(have_due, 0);
}
END_TEST

/* ---- the order is the store's own ---- */

static char tmpdir[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void enqueue(struct record *r, const char *id, int64_t batch,
		    int tip_priority)
{
	struct record_commit c = {
		(char *)id, (char *)"s", (char *)"a", 1, (char *)"",
	};
	char *builds[] = { (char *)"tiny", (char *)"big" };
	struct strbuf err = STRBUF_INIT;

	if (record_queue_add(r, "t", &c, 1, builds, 2, batch, tip_priority, 0,
			     NULL, &err))
		ck_abort_msg("record_queue_add: %s", err.buf);
	strbuf_release(&err);
}

/*
 * The daemon lists the queue and takes schedule_pick's choice by id: the
 * queue must go in the order the store itself takes it and lists it
 * (`hvmatrix queue`). Every job is taken both ways, one at a time.
 */
START_TEST(test_pick_is_the_store_order)
{
	const char *base = getenv("TMPDIR");
	struct strbuf err = STRBUF_INIT;
	struct record *r = NULL;
	struct record_job *q = NULL, rj;
	struct schedule_queued *e;
	char *state;
	size_t n = 0, i, k, pick, taken = 0;
	int have_due;
	double due_at;

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-schedule.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	state = xstrfmt("%s/state", tmpdir);
	ck_assert_int_eq(record_open(&r, state, &err), 0);
	enqueue(r, "c1", 1, RECORD_PRIORITY_NORMAL);
	enqueue(r, "c2", 1, RECORD_PRIORITY_TIP);
	enqueue(r, "c3", 2, RECORD_PRIORITY_NORMAL);
	enqueue(r, "c4", 3, RECORD_PRIORITY_TIP);
	ck_assert_int_eq(record_queue_want_runs(r, "t", "c1", "tiny", "q35", 3,
					  "confirm", RECORD_PRIORITY_CONFIRM,
					  &err), 0);
	ck_assert_int_eq(record_queue_want_runs(r, "t", "c0", "tiny", "q35", 3,
					  "bisect", RECORD_PRIORITY_CONFIRM,
					  &err), 0);
	for (;;) {
		ck_assert_int_eq(record_queue_list_jobs(r, RECORD_JOB_QUEUED,
							&q, &n,
							&err), 0);
		if (!n)
			break;
		/* In an order of its own, so the listing's cannot help. */
		e = xcalloc(n, sizeof(*e));
		for (i = 0; i < n; i++) {
			k = (i * 7 + 3) % n;
			while (e[k].id)
				k = (k + 1) % n;
			e[k] = entry(q[i].id, q[i].priority, q[i].batch,
				     q[i].not_before);
		}
		ck_assert_int_eq(schedule_pick(e, n, 0, 1e12, &pick,
					       &have_due, &due_at), 1);
		ck_assert_int_eq(record_queue_job_next(r, 0, &rj, &err), 1);
		ck_assert_int_eq(e[pick].id, rj.id);
		/* The listing's first is the store's next, too. */
		ck_assert_int_eq(q[0].id, rj.id);
		if (taken < 2)
			ck_assert_int_eq(rj.priority,
					 RECORD_PRIORITY_CONFIRM);
		ck_assert_int_eq(record_queue_job_finish(r, rj.id, &err), 0);
		record_queue_job_release(&rj);
		record_queue_jobs_free(q, n);
		free(e);
		taken++;
	}
	/* c0 and c1 wanted, then four commits with two builds each
	 * (c1 tiny already taken). */
	ck_assert_uint_eq(taken, 9);
	record_close(r);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(state);
	strbuf_release(&err);
}
END_TEST

/* ---- cores and turns ---- */

static struct schedule_state farm(unsigned cores, struct schedule_job *jobs,
				  size_t n)
{
	struct schedule_state s;

	memset(&s, 0, sizeof(s));
	s.cores = cores;
	s.jobs = jobs;
	s.n_jobs = n;
	return s;
}

static struct schedule_job job(enum schedule_phase phase,
			       unsigned build_cores, int tail,
			       unsigned running)
{
	struct schedule_job j = { phase, build_cores, tail, running };

	return j;
}

START_TEST(test_free_cores)
{
	struct schedule_job jobs[2];
	struct schedule_state s = farm(4, jobs, 0);

	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 4);
	/* A build holds what it started with; not from itself. */
	jobs[0] = job(SCHEDULE_PREPARING, 3, 0, 0);
	s = farm(4, jobs, 1);
	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 1);
	ck_assert_uint_eq(schedule_free_cores(&s, 0), 4);
	/* Boots before their tail hold every core. */
	jobs[0] = job(SCHEDULE_BOOTING, 0, 0, 1);
	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 0);
	/* In their tail, only the runs still running. */
	jobs[0] = job(SCHEDULE_BOOTING, 0, 1, 1);
	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 3);
	/* The next build took the idle cores: none left for anything. */
	jobs[1] = job(SCHEDULE_PREPARING, 3, 0, 0);
	s = farm(4, jobs, 2);
	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 0);
	/* Its boots, later, get what the other's last run leaves. */
	jobs[1] = job(SCHEDULE_BUILT, 0, 0, 0);
	ck_assert_uint_eq(schedule_free_cores(&s, 1), 3);
	/* More held than there are (a round started on one core when none
	 * was free): 0, never a wrapped count. */
	jobs[0] = job(SCHEDULE_BOOTING, 0, 1, 3);
	jobs[1] = job(SCHEDULE_PREPARING, 2, 0, 0);
	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 0);
}
END_TEST

/*
 * Whatever the jobs hold, a job given the free cores never takes the
 * farm past its cores: what the others hold plus what it gets is at most
 * `cores` whenever anything is free.
 */
static void check_one_holder(unsigned cores, struct schedule_job other)
{
	struct schedule_job jobs[2] = {
		other, job(SCHEDULE_PREPARING, 0, 0, 0),
	};
	struct schedule_state s = farm(cores, jobs, 2);
	unsigned free_n = schedule_free_cores(&s, 1);
	unsigned held = other.build_cores;

	if (other.phase == SCHEDULE_BOOTING)
		held += other.boot_tail ? other.boot_running : cores;
	if (held >= cores)
		ck_assert_uint_eq(free_n, 0);
	else
		ck_assert_uint_eq(held + free_n, cores);
}

START_TEST(test_cores_never_overcommitted)
{
	unsigned cores, b, r, tail, phase;

	for (cores = 1; cores <= 6; cores++)
		for (phase = SCHEDULE_PREPARING; phase <= SCHEDULE_ENDING;
		     phase++)
			for (b = 0; b <= cores; b++)
				for (r = 0; r <= cores; r++)
					for (tail = 0; tail <= 1; tail++)
						check_one_holder(cores,
							job(phase, b, tail,
							    r));
}
END_TEST

START_TEST(test_next_take)
{
	struct schedule_job jobs[2];
	struct schedule_state s = farm(2, jobs, 0);

	ck_assert_int_eq(schedule_next(&s), SCHEDULE_TAKE);
	/* Nothing while stopping, paused, or with a take in flight. */
	s.stopping = 1;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	s = farm(2, jobs, 0);
	s.paused = 1;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	s = farm(2, jobs, 0);
	s.taking = 1;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	/* One job before its boots at a time, built or not. */
	jobs[0] = job(SCHEDULE_PREPARING, 1, 0, 0);
	s = farm(2, jobs, 1);
	ck_assert_uint_eq(schedule_free_cores(&s, SCHEDULE_NO_JOB), 1);
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	jobs[0] = job(SCHEDULE_BUILT, 0, 0, 0);
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	/* Boots not in their tail leave no core. */
	jobs[0] = job(SCHEDULE_BOOTING, 0, 0, 1);
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	/* In their tail with a core idle: the next job's build overlaps. */
	jobs[0] = job(SCHEDULE_BOOTING, 0, 1, 1);
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_TAKE);
	jobs[0] = job(SCHEDULE_BOOTING, 0, 1, 2);
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	/* ...unless overlap is off. */
	jobs[0] = job(SCHEDULE_BOOTING, 0, 1, 1);
	s.no_overlap = 1;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	/* Ending jobs hold nothing. */
	jobs[0] = job(SCHEDULE_ENDING, 0, 0, 0);
	s = farm(2, jobs, 1);
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_TAKE);
	/* --job: once taken, nothing more; done when it has ended. */
	s.only_job = 7;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_TAKE);
	s.took_only_job = 1;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
	s.n_jobs = 0;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_DONE);
	s.stopping = 1;
	ck_assert_int_eq(schedule_next(&s), SCHEDULE_WAIT);
}
END_TEST

START_TEST(test_boot_turns)
{
	struct schedule_job jobs[3];
	struct schedule_state s;

	jobs[0] = job(SCHEDULE_BOOTING, 0, 1, 1);
	jobs[1] = job(SCHEDULE_BUILT, 0, 0, 0);
	s = farm(2, jobs, 2);
	/* One job boots at a time. */
	ck_assert_int_eq(schedule_may_boot(&s, 1), 0);
	jobs[0] = job(SCHEDULE_ENDING, 0, 0, 0);
	ck_assert_int_eq(schedule_may_boot(&s, 1), 1);
	/* The booting one ended (left the list): the built one boots. */
	jobs[0] = job(SCHEDULE_BUILT, 0, 0, 0);
	s = farm(2, jobs, 1);
	ck_assert_uint_eq(schedule_next_boot(&s), 0);
	jobs[0] = job(SCHEDULE_PREPARING, 2, 0, 0);
	ck_assert_uint_eq(schedule_next_boot(&s), SCHEDULE_NO_JOB);
	/* Not while stopping: it goes back to the queue instead. */
	jobs[0] = job(SCHEDULE_BUILT, 0, 0, 0);
	s.stopping = 1;
	ck_assert_uint_eq(schedule_next_boot(&s), SCHEDULE_NO_JOB);
}
END_TEST

START_TEST(test_backoff)
{
	ck_assert(schedule_backoff_s(30, 1) == 30);
	ck_assert(schedule_backoff_s(30, 2) == 60);
	ck_assert(schedule_backoff_s(30, 3) == 120);
	ck_assert(schedule_backoff_s(30, 40) == SCHEDULE_RETRY_MAX_S);
	ck_assert(schedule_backoff_s(4000, 1) == SCHEDULE_RETRY_MAX_S);
	ck_assert(schedule_backoff_s(0, 3) == 0);	/* as tests set it */
}
END_TEST

/* ---- within a job: likeliest failures first ---- */

static const char order_yaml[] =
	"cells:\n"
	"  - name: plain\n"
	"  - name: vmw\n    machine: pc,vmport=on\n"
	"  - name: dom0\n    backend: xen\n    xen: \"4.17\"\n"
	"  - name: flaky\n"
	"  - name: guest\n    backend: xen-libxl\n    xen: \"4.17\"\n";

/* The cells of order_yaml in the order a commit changing `path` (NULL:
 * nothing) boots them, with "flaky" failed recently; wide as given. */
static char *order_of(const struct matrix *m, const char *path, int wide)
{
	char *paths[] = { (char *)"MAINTAINERS", (char *)path };
	char *failed[] = { (char *)"flaky", (char *)"gone" };
	enum schedule_rank rank[8];
	size_t order[8], i;
	struct strbuf sb = STRBUF_INIT;

	ck_assert_uint_le(m->n_cells, 8);
	for (i = 0; i < m->n_cells; i++)
		rank[i] = schedule_cell_rank(m, &m->cells[i], paths,
					     path ? 2 : 1, wide, failed, 2);
	schedule_cell_order(rank, m->n_cells, order);
	for (i = 0; i < m->n_cells; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "",
			    m->cells[order[i]].name);
	return strbuf_detach(&sb, NULL);
}

#define ck_order(m, path, wide, want)				\
	do {							\
		char *o_ = order_of(m, path, wide);		\
		ck_assert_str_eq(o_, want);			\
		free(o_);					\
	} while (0)

START_TEST(test_cell_order)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	if (matrix_load_buf(&m, "t.yaml", order_yaml, strlen(order_yaml),
			    &err))
		ck_abort_msg("matrix: %s", err.buf);
	/* The Xen cells first, in matrix order, then the recent failure. */
	ck_order(&m, "arch/x86/xen/enlighten_pv.c", 0,
		 "dom0 guest flaky plain vmw");
	ck_order(&m, "drivers/xen/xenbus/xenbus_probe.c", 0,
		 "dom0 guest flaky plain vmw");
	ck_order(&m, "arch/x86/kernel/cpu/vmware.c", 0,
		 "vmw flaky plain dom0 guest");
	/* Nothing of interest: only the recent failure moves. */
	ck_order(&m, "Documentation/admin-guide/README.rst", 0,
		 "flaky plain vmw dom0 guest");
	ck_order(&m, NULL, 0, "flaky plain vmw dom0 guest");
	/* Too many paths looked at: no cell is ranked first for them. */
	ck_order(&m, "arch/x86/xen/enlighten_pv.c", 1,
		 "flaky plain vmw dom0 guest");
	matrix_release(&m);
	strbuf_release(&err);
}
END_TEST

static Suite *schedule_suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("schedule");

	tcase_add_test(tc, test_pick_priority);
	tcase_add_test(tc, test_cell_order);
	tcase_add_test(tc, test_pick_backoff);
	tcase_add_test(tc, test_pick_is_the_store_order);
	tcase_add_test(tc, test_free_cores);
	tcase_add_test(tc, test_cores_never_overcommitted);
	tcase_add_test(tc, test_next_take);
	tcase_add_test(tc, test_boot_turns);
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(schedule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
