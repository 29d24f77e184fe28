/*
 * test-job: one job (job.c) driven through a fake build and a fake
 * executor (the job_runner seam: no make, no QEMU) against a real store
 * and its store thread, on a private state directory. What the job tells
 * its owner through job_ops is traced, one letter per callback, and what
 * it leaves in the store is read back.
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>
#include <uv.h>

#include "schedule/job.h"
#include "store/record.h"
#include "store/record-thread.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

#define TREE "t"
#define BUILD "tiny"

enum build_mode { BUILD_MODE_OK, BUILD_MODE_HANG, BUILD_MODE_ERROR };

/* What the fakes do, and what the job told its owner. */
static struct fake {
	/* the fake build */
	enum build_mode build_mode;
	uv_timer_t build_timer;
	struct build *b;
	unsigned builds, build_stops, build_jobs;
	unsigned cores_while_building;
	/* the fake executor */
	unsigned rounds, round_size[8], round_jobs[8];
	unsigned error_once_runs, error_always_runs;
	/* the owner */
	unsigned free_cores[4];		/* in turn, then the last */
	unsigned n_free_asked;
	int stopping;
	struct strbuf trace;		/* one letter per callback */
	struct strbuf said;		/* lines, '\n' after each */
	struct strbuf started;		/* cells in start order, ' ' after
					 * each */
	unsigned ended;
	unsigned cores_at_end;
	struct job *job;
} fake;

static char tmpdir[PATH_MAX];
static char *state, *image, *initrd;
static uv_loop_t loop;
static struct record_thread *store;
static struct matrix m;		/* use_cells() loads it */

/* ---- the fake build ---- */

static void build_finish(uv_timer_t *t)
{
	struct build *b = fake.b;

	fake.b = NULL;
	if (b->status == BUILD_PENDING) {
		fake.cores_while_building = job_build_cores(fake.job);
		b->on_spawn(b, 4242, b->data);
		b->on_progress(b, "make", b->data);
		b->status = fake.build_mode == BUILD_MODE_ERROR ?
			    BUILD_ERROR : BUILD_OK;
		b->reason = xstrdup(fake.build_mode == BUILD_MODE_ERROR ?
				    "disk full" : "");
		b->image_path = xstrdup(image);
	}
	b->errors = xstrdup("");
	b->log_path = xstrfmt("%s/build.log", tmpdir);
	b->started_at = 1;
	b->on_done(b, b->data);
}

static int fake_build_start(uv_loop_t *l, const struct matrix *mx,
			    struct build *b, struct strbuf *err)
{
	ck_assert_str_eq(b->commit, job_queued(fake.job)->commit_id);
	fake.builds++;
	fake.build_jobs = b->jobs;
	fake.b = b;
	if (fake.build_mode != BUILD_MODE_HANG)
		uv_timer_start(&fake.build_timer, build_finish, 1, 0);
	return 0;
}

/* As build.c's: the group is killed, on_done follows, INTERRUPTED. */
static void fake_build_stop(struct build *b)
{
	fake.build_stops++;
	if (fake.b != b)
		return;
	b->status = BUILD_INTERRUPTED;
	b->reason = xstrdup("stopped");
	uv_timer_start(&fake.build_timer, build_finish, 0, 0);
}

/* ---- the fake executor: one run per tick, verdict by cell name ---- */

struct executor {
	uv_timer_t timer;
	struct boot_run *runs;
	size_t n, next;
	struct boot_opts opts;
	int stopped;
};

static enum verdict verdict_of(const char *cell)
{
	if (!strcmp(cell, "fail"))
		return VERDICT_FAIL;
	if (!strcmp(cell, "error-once"))
		return fake.error_once_runs++ ? VERDICT_PASS : VERDICT_ERROR;
	if (!strcmp(cell, "error-always")) {
		fake.error_always_runs++;
		return VERDICT_ERROR;
	}
	return VERDICT_PASS;
}

static void exec_tick(uv_timer_t *t)
{
	struct executor *x = container_of(t, struct executor, timer);
	struct boot_run *r;

	if (x->next < x->n) {
		r = &x->runs[x->next++];
		if (x->stopped) {
			r->interrupted = 1;
		} else {
			x->opts.on_start(r, x->opts.data);
			strbuf_addf(&fake.started, "%s ", r->cell->name);
			judge_set(&r->judge, verdict_of(r->cell->name),
				  "fake", "fake line");
			r->started_at = 2;
			r->duration_s = 0.5;
		}
		x->opts.on_done(r, x->opts.data);
		return;
	}
	uv_timer_stop(t);
	x->opts.on_all_done(x->opts.data);	/* frees x */
}

static struct executor *fake_boot_start(uv_loop_t *l, const struct matrix *mx,
					struct boot_run *runs, size_t n,
					const struct boot_opts *opts)
{
	struct executor *x = xcalloc(1, sizeof(*x));

	ck_assert_uint_lt(fake.rounds, ARRAY_SIZE(fake.round_size));
	fake.round_size[fake.rounds] = n;
	fake.round_jobs[fake.rounds++] = opts->jobs;
	x->runs = runs;
	x->n = n;
	x->opts = *opts;
	uv_timer_init(l, &x->timer);
	uv_timer_start(&x->timer, exec_tick, 1, 1);
	return x;
}

static void fake_boot_stop(struct executor *x)
{
	x->stopped = 1;
}

static void fake_boot_load(const struct executor *x, size_t *waiting,
			   unsigned *running)
{
	*waiting = x->n - x->next;
	*running = 0;
}

static void exec_closed(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct executor, timer));
}

static void fake_boot_free(struct executor *x)
{
	uv_close((uv_handle_t *)&x->timer, exec_closed);
}

static const struct job_runner fake_runner = {
	.build_start = fake_build_start,
	.build_stop = fake_build_stop,
	.boot_start = fake_boot_start,
	.boot_stop = fake_boot_stop,
	.boot_load = fake_boot_load,
	.boot_free = fake_boot_free,
};

/* ---- the owner: every callback leaves its letter ---- */

static void trace(char c)
{
	strbuf_addch(&fake.trace, c);
}

static void own_say(void *owner, const char *line)
{
	ck_assert_ptr_eq(owner, &fake);
	strbuf_addf(&fake.said, "%s\n", line);
}

static int own_stopping(void *owner)
{
	return fake.stopping;
}

static unsigned own_free_cores(void *owner, const struct job *j)
{
	size_t i = fake.n_free_asked < ARRAY_SIZE(fake.free_cores) ?
		   fake.n_free_asked : ARRAY_SIZE(fake.free_cores) - 1;

	ck_assert_ptr_eq(j, fake.job);
	fake.n_free_asked++;
	trace('F');
	return fake.free_cores[i];
}

static int own_may_boot(void *owner, const struct job *j)
{
	trace('B');
	return 1;
}

static void own_changed(void *owner, struct job *j)
{
	trace('C');
}

static void own_cores_changed(void *owner, struct job *j)
{
	trace('K');
}

static void own_verdict(void *owner, struct job *j, enum verdict v)
{
	trace('V');
}

static void own_finding_run(void *owner, struct job *j)
{
	ck_assert_ptr_eq(j, fake.job);
	trace('X');
}

static void own_store_failed(void *owner, struct job *j, const char *err)
{
	trace('S');
}

static void own_ended(void *owner, struct job *j)
{
	ck_assert_ptr_eq(j, fake.job);
	fake.ended++;
	fake.cores_at_end = job_build_cores(j);
	trace('E');
}

static const struct job_ops own_ops = {
	.say = own_say,
	.stopping = own_stopping,
	.free_cores = own_free_cores,
	.may_boot = own_may_boot,
	.changed = own_changed,
	.cores_changed = own_cores_changed,
	.verdict = own_verdict,
	.finding_run = own_finding_run,
	.store_failed = own_store_failed,
	.ended = own_ended,
};

static struct job_env env = {
	.state_dir = NULL,		/* set in setup */
	.cores = 4,
	.quiet = 1,
	.policy = { .attempts = 3, .error_retries = 2, .retry_base_s = 30 },
	.ops = &own_ops,
	.owner = &fake,
	.runner = &fake_runner,
};

/* ---- set-up ---- */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	struct strbuf err = STRBUF_INIT;

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-job.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	state = xstrfmt("%s/state", tmpdir);
	image = xstrfmt("%s/bzImage", tmpdir);
	initrd = xstrfmt("%s/payload.cpio.gz", tmpdir);
	write_file(image, "not really a kernel\n");
	write_file(initrd, "not really a payload\n");
	memset(&m, 0, sizeof(m));
	memset(&fake, 0, sizeof(fake));
	strbuf_init(&fake.trace, 0);
	strbuf_init(&fake.said, 0);
	strbuf_init(&fake.started, 0);
	fake.free_cores[0] = 4;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &fake.build_timer);
	if (record_thread_start(&store, &loop, state, &err) < 0)
		ck_abort_msg("store: %s", err.buf);
	env.loop = &loop;
	env.store = store;
	env.state_dir = state;
	env.initrd = initrd;
	strbuf_release(&err);
}

static void store_stopped(void *data)
{
	*(int *)data = 1;
}

static void teardown(void)
{
	int stopped = 0;

	uv_close((uv_handle_t *)&fake.build_timer, NULL);
	record_thread_stop(store, store_stopped, &stopped);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(stopped, 1);
	/* Nothing the job opened is left open. */
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	matrix_release(&m);
	strbuf_release(&fake.trace);
	strbuf_release(&fake.said);
	strbuf_release(&fake.started);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(state);
	free(image);
	free(initrd);
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

/* The watcher found commit id: its job is queued (scope all). */
static void enqueue(struct record *r, const char *id)
{
	struct record_commit c = {
		(char *)id, (char *)"subject", (char *)"a", 1, (char *)"",
	};
	char *builds[] = { (char *)BUILD };
	struct strbuf err = STRBUF_INIT;

	if (record_queue_add(r, TREE, &c, 1, builds, 1, 1,
			     RECORD_PRIORITY_NORMAL, 0, NULL, &err))
		ck_abort_msg("record_queue_add: %s", err.buf);
	strbuf_release(&err);
}

static void want(struct record *r, const char *id, const char *cell,
		 unsigned runs, const char *purpose)
{
	struct strbuf err = STRBUF_INIT;

	if (record_queue_want_runs(r, TREE, id, BUILD, cell, runs, purpose,
				   RECORD_PRIORITY_CONFIRM, &err))
		ck_abort_msg("record_queue_want_runs: %s", err.buf);
	strbuf_release(&err);
}

/* A run recorded before this job (an earlier job's). */
static void recorded(struct record *r, const char *id, const char *cell,
		     enum verdict v)
{
	struct record_run run = {
		.batch = (char *)"earlier", .kernel_id = (char *)"",
		.kernel_path = (char *)"", .kernel_version = (char *)"",
		.cell = (char *)cell, .matrix_path = (char *)"",
		.verdict = v, .reason = (char *)"", .line = (char *)"",
		.log_path = (char *)"", .tree = (char *)TREE,
		.commit_id = (char *)id, .build = (char *)BUILD,
		.purpose = (char *)"test",
	};
	struct strbuf err = STRBUF_INIT;

	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	strbuf_release(&err);
}

/* Take the queue's next job as the daemon would and run it to its end. */
static void run_job(struct record *r, void (*poke)(void))
{
	struct strbuf err = STRBUF_INIT;
	struct record_job rj;

	ck_assert_int_eq(record_queue_job_next(r, 0, &rj, &err), 1);
	fake.job = job_begin(&env, &m, &rj);
	ck_assert_ptr_null(rj.tree);		/* its strings were taken */
	while (!fake.ended) {
		if (poke)
			poke();
		uv_run(&loop, UV_RUN_ONCE);
	}
	strbuf_release(&err);
}

/* How many runs of (cell, verdict, purpose) the store has for commit id. */
static unsigned count_runs(struct record *r, const char *id,
			   const char *cell, enum verdict v,
			   const char *purpose)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run *runs = NULL;
	size_t n = 0, i;
	unsigned count = 0;

	ck_assert_int_eq(record_list_commit_runs(r, TREE, id, &runs, &n, &err),
			 0);
	for (i = 0; i < n; i++)
		count += !strcmp(runs[i].cell, cell) && runs[i].verdict == v &&
			 !strcmp(runs[i].purpose && *runs[i].purpose ?
				 runs[i].purpose : "test", purpose);
	record_runs_free(runs, n);
	strbuf_release(&err);
	return count;
}

static size_t all_runs(struct record *r, const char *id)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run *runs = NULL;
	size_t n = 0;

	ck_assert_int_eq(record_list_commit_runs(r, TREE, id, &runs, &n, &err),
			 0);
	record_runs_free(runs, n);
	strbuf_release(&err);
	return n;
}

/* The queue's row for commit id. */
static struct record_job queue_row(struct record *r, const char *id)
{
	struct strbuf err = STRBUF_INIT;
	struct record_job *jobs = NULL, out;
	size_t n = 0, i;

	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(record_queue_list_jobs(r, -1, &jobs, &n, &err), 0);
	for (i = 0; i < n; i++)
		if (!strcmp(jobs[i].commit_id, id)) {
			out = jobs[i];
			memset(&jobs[i], 0, sizeof(jobs[i]));
		}
	record_queue_jobs_free(jobs, n);
	strbuf_release(&err);
	ck_assert_ptr_nonnull(out.commit_id);
	return out;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static int said(const char *text)
{
	return strstr(fake.said.buf, text) != NULL;
}

/* ---- the tests ---- */

static const char two_cells[] =
	"cells:\n  - name: pass\n  - name: fail\n";

/* A matrix of one tree, one build and the cells of yaml (a `cells:`
 * section); the fake executor's verdict is in each cell's name. */
/* More keys of the test's tree, e.g. "    reuse: false\n". */
static const char *tree_keys = "";

static void use_cells(const char *yaml)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	char *path = xstrfmt("%s/matrix.yaml", tmpdir);

	strbuf_addf(&sb, "trees:\n  - name: " TREE "\n    path: repo\n%s"
		    "builds:\n  - name: " BUILD "\n    base: tinyconfig\n%s",
		    tree_keys, yaml);
	matrix_release(&m);
	memset(&m, 0, sizeof(m));
	if (matrix_load_buf(&m, path, sb.buf, sb.len, &err) < 0)
		ck_abort_msg("matrix: %s", err.buf);
	free(path);
	strbuf_release(&sb);
	strbuf_release(&err);
}

START_TEST(test_job_ends)
{
	struct record *r = open_store();
	struct record_job row;
	struct record_build b;
	struct strbuf err = STRBUF_INIT;

	use_cells(two_cells);
	enqueue(r, "c1");
	run_job(r, NULL);
	/*
	 * In order: the build's cores asked (F) and its stage shown (C),
	 * "make" shown (C), may it boot (B), "boot" shown (C), the round's
	 * cores asked (F), each run's verdict (V) and the cores it gave
	 * back (K), then the end (E), once, after the last write.
	 */
	ck_assert_str_eq(fake.trace.buf, "FCCBCFVKVKE");
	ck_assert_uint_eq(fake.builds, 1);
	ck_assert_uint_eq(fake.rounds, 1);
	ck_assert_uint_eq(fake.round_size[0], 2);
	ck_assert(said("t c1 tiny: subject (attempt 1)"));
	ck_assert(said("t c1 tiny: booting 2 runs (0 already recorded)"));
	ck_assert(said("  start  pass\n"));
	ck_assert(said("  FAIL    fail (0.5 s): fake\n"));
	ck_assert(said("t c1 tiny: done after"));
	ck_assert_uint_eq(count_runs(r, "c1", "pass", VERDICT_PASS, "test"),
			  1);
	ck_assert_uint_eq(count_runs(r, "c1", "fail", VERDICT_FAIL, "test"),
			  1);
	ck_assert_uint_eq(all_runs(r, "c1"), 2);
	ck_assert_int_eq(record_build_last(r, TREE, "c1", BUILD, &b, &err), 1);
	ck_assert_int_eq(b.status, RECORD_BUILD_OK);
	ck_assert_str_eq(b.image_path, image);
	record_build_release(&b);
	row = queue_row(r, "c1");
	ck_assert_int_eq(row.state, RECORD_JOB_DONE);
	record_queue_job_release(&row);
	record_close(r);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_error_retried_then_recorded)
{
	struct record *r = open_store();

	use_cells("cells:\n  - name: pass\n  - name: error-once\n"
		  "  - name: error-always\n");
	enqueue(r, "c1");
	run_job(r, NULL);
	/* Round 1: all three; round 2: both ERRORs again; round 3 (the
	 * last retry) the one that still fails. */
	ck_assert_uint_eq(fake.rounds, 3);
	ck_assert_uint_eq(fake.round_size[0], 3);
	ck_assert_uint_eq(fake.round_size[1], 2);
	ck_assert_uint_eq(fake.round_size[2], 1);
	ck_assert_uint_eq(fake.error_always_runs, 3);
	ck_assert(said("running 2 cells again after an ERROR (attempt 2)"));
	ck_assert(said("running 1 cell again after an ERROR (attempt 3)"));
	ck_assert(said("  start  error-always (again, after an ERROR)"));
	/* Only the last verdict of each cell is recorded. */
	ck_assert_uint_eq(count_runs(r, "c1", "pass", VERDICT_PASS, "test"),
			  1);
	ck_assert_uint_eq(count_runs(r, "c1", "error-once", VERDICT_PASS,
				     "test"), 1);
	ck_assert_uint_eq(count_runs(r, "c1", "error-always", VERDICT_ERROR,
				     "test"), 1);
	ck_assert_uint_eq(all_runs(r, "c1"), 3);
	/* Each round asks for its cores; an ERROR retried is no verdict
	 * but gives its core back all the same. */
	ck_assert_str_eq(fake.trace.buf, "FCCBCFVKKKFVKKFVKE");
	record_close(r);
}
END_TEST

/* The owner stops the job once its build runs. */
static void stop_when_building(void)
{
	if (fake.b && !fake.build_stops) {
		fake.stopping = 1;
		job_stop(fake.job);
	}
}

START_TEST(test_stop_mid_build)
{
	struct record *r = open_store();
	struct record_job row;

	use_cells(two_cells);
	fake.build_mode = BUILD_MODE_HANG;
	enqueue(r, "c1");
	run_job(r, stop_when_building);
	ck_assert_uint_eq(fake.build_stops, 1);
	ck_assert_uint_eq(fake.rounds, 0);
	/* No verdict, no run: the job is queued again, its attempt not
	 * counted. */
	ck_assert_ptr_null(strchr(fake.trace.buf, 'V'));
	ck_assert_str_eq(fake.trace.buf, "FCE");
	ck_assert_uint_eq(all_runs(r, "c1"), 0);
	ck_assert(said("t c1 tiny: build INTERRUPTED in 0 s: stopped"));
	ck_assert(said("t c1 tiny: stopped, queued again after"));
	row = queue_row(r, "c1");
	ck_assert_int_eq(row.state, RECORD_JOB_QUEUED);
	ck_assert_int_eq(row.attempts, 0);	/* taken once, given back */
	ck_assert(row.not_before == 0);		/* no backoff */
	record_queue_job_release(&row);
	record_close(r);
}
END_TEST

START_TEST(test_farm_error_deferred)
{
	struct record *r = open_store();
	struct record_job row;

	use_cells(two_cells);
	fake.build_mode = BUILD_MODE_ERROR;
	enqueue(r, "c1");
	run_job(r, NULL);
	/* Attempt 1 of 3: no ERROR verdict yet, the job waits its backoff
	 * (policy.retry_base_s) with the reason kept. */
	ck_assert_uint_eq(fake.rounds, 0);
	ck_assert_str_eq(fake.trace.buf, "FCCE");
	ck_assert_uint_eq(all_runs(r, "c1"), 0);
	ck_assert(said("attempt 1 failed: disk full; next attempt in 30 s"));
	row = queue_row(r, "c1");
	ck_assert_int_eq(row.state, RECORD_JOB_QUEUED);
	ck_assert_str_eq(row.last_error, "disk full");
	ck_assert(row.not_before > row.started_at + 25);
	record_queue_job_release(&row);
	record_close(r);
}
END_TEST

/*
 * A new FAIL wants 3 runs in all on a commit under test: the cell with
 * one FAIL recorded runs twice more as "confirm", the other once, as the
 * test, and the one recorded run is not run again.
 */
START_TEST(test_confirmation_wants)
{
	struct record *r = open_store();

	use_cells(two_cells);
	enqueue(r, "c1");
	recorded(r, "c1", "fail", VERDICT_FAIL);
	want(r, "c1", "fail", 3, "confirm");
	run_job(r, NULL);
	ck_assert(said("booting 3 runs (1 already recorded)"));
	ck_assert_uint_eq(fake.round_size[0], 3);
	ck_assert_uint_eq(count_runs(r, "c1", "fail", VERDICT_FAIL,
				     "confirm"), 2);
	ck_assert_uint_eq(count_runs(r, "c1", "fail", VERDICT_FAIL, "test"),
			  1);
	ck_assert_uint_eq(count_runs(r, "c1", "pass", VERDICT_PASS, "test"),
			  1);
	ck_assert_uint_eq(all_runs(r, "c1"), 4);
	/*
	 * Each confirmation run, once on disk, was told (X) while the job
	 * still ran, before its end (E); the test run was not. When each
	 * write ends against the next run is the store thread's timing:
	 * only the count and the end are fixed. The cell with a FAIL
	 * recorded booted first.
	 */
	ck_assert_uint_eq(count_char(fake.trace.buf, 'X'), 2);
	ck_assert_uint_eq(strcspn(fake.trace.buf, "E"),
			  strlen(fake.trace.buf) - 1);
	ck_assert_str_eq(fake.started.buf, "fail fail pass ");
	record_close(r);
}
END_TEST

/*
 * A bisection step on a commit the watcher never queued: only the cells
 * being bisected run, as many times as wanted, each run a "bisect".
 */
START_TEST(test_bisection_wants)
{
	struct record *r = open_store();

	use_cells(two_cells);
	want(r, "c2", "fail", 3, "bisect");
	run_job(r, NULL);
	ck_assert(said("booting 3 runs (0 already recorded)"));
	ck_assert_uint_eq(fake.rounds, 1);
	ck_assert_uint_eq(count_runs(r, "c2", "fail", VERDICT_FAIL, "bisect"),
			  3);
	ck_assert_uint_eq(all_runs(r, "c2"), 3);
	/* Each bisection step, once on disk, was told before the end. */
	ck_assert_uint_eq(count_char(fake.trace.buf, 'X'), 3);
	ck_assert_uint_eq(strcspn(fake.trace.buf, "E"),
			  strlen(fake.trace.buf) - 1);
	record_close(r);
}
END_TEST

/*
 * The cores: the build gets what the owner says is free then, the round
 * what is free when it starts (at least one each), and the job holds its
 * build's cores only while it builds.
 */
START_TEST(test_cores)
{
	struct record *r = open_store();

	use_cells(two_cells);
	fake.free_cores[0] = 3;
	fake.free_cores[1] = 0;
	enqueue(r, "c1");
	run_job(r, NULL);
	ck_assert_uint_eq(fake.n_free_asked, 2);
	ck_assert_uint_eq(fake.build_jobs, 3);
	ck_assert_uint_eq(fake.cores_while_building, 3);
	ck_assert(said("building on 3 of 4 cores beside the previous "
		       "commit's last boots"));
	ck_assert_uint_eq(fake.round_jobs[0], 1);	/* none free: one */
	ck_assert_uint_eq(fake.cores_at_end, 0);
	/* Every run that ended gave its core back. */
	ck_assert_uint_eq(strspn(strchr(fake.trace.buf, 'V'), "VK"), 4);
	record_close(r);
}
END_TEST

/*
 * The commit's own paths, read from the tree's repository (made here
 * with libgit2): a commit touching arch/x86/xen/ boots the Xen cell
 * first, one touching nothing of interest keeps matrix order.
 */
static void git_ok(int rc, const char *what)
{
	const git_error *e = git_error_last();

	if (rc < 0)
		ck_abort_msg("%s: %s", what, e && e->message ? e->message :
			     "?");
}

/* A commit on parent (NULL: a root) that writes path; its hex id. */
static char *git_commit_path(git_repository *repo, const char *parent,
			     const char *path)
{
	const git_commit *pc[1] = { NULL };
	git_index *index = NULL;
	git_index_entry e;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, id, pid;
	char hex[GIT_OID_HEXSZ + 1];

	git_ok(git_repository_index(&index, repo), "index");
	memset(&e, 0, sizeof(e));
	e.mode = GIT_FILEMODE_BLOB;
	e.path = path;
	git_ok(git_index_add_from_buffer(index, &e, path, strlen(path)),
	       "add");
	git_ok(git_index_write_tree(&tree_id, index), "write tree");
	git_ok(git_tree_lookup(&tree, repo, &tree_id), "tree");
	git_ok(git_signature_new(&sig, "A", "a@example.com", 1700000000, 0),
	       "signature");
	if (parent) {
		git_ok(git_oid_fromstr(&pid, parent), "parent id");
		git_ok(git_commit_lookup((git_commit **)&pc[0], repo, &pid),
		       "parent");
	}
	git_ok(git_commit_create(&id, repo, NULL, sig, sig, NULL, path, tree,
				 parent ? 1 : 0, pc), "commit");
	git_commit_free((git_commit *)pc[0]);
	git_tree_free(tree);
	git_signature_free(sig);
	git_index_free(index);
	return xstrdup(git_oid_tostr(hex, sizeof(hex), &id));
}

/* Round 1 started in this order (later rounds retry a cell that ended
 * ERROR, e.g. a Xen cell whose build this host lacks: they follow). */
#define ck_round_one(want)						\
	ck_assert_msg(!strncmp(fake.started.buf, want, strlen(want)),	\
		      "started \"%s\", round 1 should be \"%s\"",		\
		      fake.started.buf, want)

START_TEST(test_order_by_commit)
{
	struct record *r = open_store();
	git_repository *repo = NULL;
	char *path = xstrfmt("%s/repo", tmpdir), *base, *xen, *doc;

	git_libgit2_init();
	git_ok(git_repository_init(&repo, path, 0), "init");
	base = git_commit_path(repo, NULL, "README");
	xen = git_commit_path(repo, base, "arch/x86/xen/enlighten_pv.c");
	doc = git_commit_path(repo, xen, "Documentation/x86/boot.rst");
	/* The fake build gives every commit one image: without this the
	 * docs commit would carry the Xen commit's verdicts, boot nothing. */
	tree_keys = "    reuse: false\n";
	use_cells("cells:\n  - name: plain\n"
		  "  - name: vmw\n    machine: pc,vmport=on\n"
		  "  - name: dom0\n    backend: xen\n    xen: \"4.17\"\n");
	enqueue(r, xen);
	run_job(r, NULL);
	ck_round_one("dom0 plain vmw ");
	ck_assert(said("first the 1 cell whose interface it touches, then "
		       "the 0 that failed recently"));
	fake.ended = 0;
	strbuf_reset(&fake.started);
	strbuf_reset(&fake.said);
	enqueue(r, doc);
	run_job(r, NULL);
	ck_round_one("plain vmw dom0 ");
	ck_assert(!said("first the"));
	/* Verdicts as ever: the order changed only which started first
	 * (plain, not dom0: a host without the Xen build makes dom0 ERROR). */
	ck_assert_uint_eq(count_runs(r, xen, "plain", VERDICT_PASS, "test"), 1);
	ck_assert_uint_eq(count_runs(r, doc, "plain", VERDICT_PASS, "test"), 1);
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(base);
	free(xen);
	free(doc);
	free(path);
	record_close(r);
}
END_TEST

/* The matrix's interfaces section overrides the built-in map. */
START_TEST(test_order_matrix_override)
{
	struct record *r = open_store();
	git_repository *repo = NULL;
	char *path = xstrfmt("%s/repo", tmpdir), *base, *doc;

	git_libgit2_init();
	git_ok(git_repository_init(&repo, path, 0), "init");
	base = git_commit_path(repo, NULL, "README");
	doc = git_commit_path(repo, base, "Documentation/x86/boot.rst");
	use_cells("cells:\n  - name: plain\n"
		  "  - name: dom0\n    backend: xen\n    xen: \"4.17\"\n"
		  "interfaces:\n  \"do*\": [Documentation/x86/]\n");
	enqueue(r, doc);
	run_job(r, NULL);
	ck_round_one("dom0 plain ");
	git_repository_free(repo);
	git_libgit2_shutdown();
	free(base);
	free(doc);
	free(path);
	record_close(r);
}
END_TEST

/*
 * The same image in the same cells: a later commit's test runs carry the
 * verdicts over (reused_from), nothing boots; confirmations always boot.
 */
START_TEST(test_reuse)
{
	struct record *r = open_store();
	struct strbuf err = STRBUF_INIT;
	struct record_run *runs = NULL;
	size_t n = 0, i;

	use_cells(two_cells);
	enqueue(r, "c1");
	run_job(r, NULL);
	ck_assert_uint_eq(fake.rounds, 1);
	fake.ended = 0;
	enqueue(r, "c2");
	run_job(r, NULL);
	ck_assert_uint_eq(fake.rounds, 1);	/* no boot at all */
	ck_assert(said("  FAIL    fail (reused from run "));
	ck_assert(said("t c2 tiny: 2 cells not booted"));
	ck_assert_uint_eq(count_runs(r, "c2", "fail", VERDICT_FAIL, "test"),
			  1);
	ck_assert_uint_eq(count_runs(r, "c2", "pass", VERDICT_PASS, "test"),
			  1);
	ck_assert_int_eq(record_list_commit_runs(r, TREE, "c2", &runs, &n,
						 &err), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_gt(runs[i].reused_from, 0);
		ck_assert_str_eq(runs[i].line, "fake line");
		ck_assert(runs[i].duration_s == 0);
	}
	record_runs_free(runs, n);
	/* Its FAIL confirmed: two more runs, booted. */
	fake.ended = 0;
	want(r, "c2", "fail", 3, "confirm");
	run_job(r, NULL);
	ck_assert_uint_eq(fake.rounds, 2);
	ck_assert_uint_eq(fake.round_size[1], 2);
	ck_assert_uint_eq(count_runs(r, "c2", "fail", VERDICT_FAIL,
				     "confirm"), 2);
	strbuf_release(&err);
	record_close(r);
}
END_TEST

static Suite *job_suite(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("job");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_job_ends);
	tcase_add_test(tc, test_error_retried_then_recorded);
	tcase_add_test(tc, test_stop_mid_build);
	tcase_add_test(tc, test_farm_error_deferred);
	tcase_add_test(tc, test_confirmation_wants);
	tcase_add_test(tc, test_bisection_wants);
	tcase_add_test(tc, test_cores);
	tcase_add_test(tc, test_order_by_commit);
	tcase_add_test(tc, test_order_matrix_override);
	tcase_add_test(tc, test_reuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(job_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
