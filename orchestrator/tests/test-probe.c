/*
 * Unit tests for the precheck: what cannot run is decided before any
 * boot, the KVM probe's answer is cached, and the async form keeps the
 * caller's loop turning while the probe boots. The "QEMU" here is a
 * script that sleeps and exits: the probe's boot fails the way a hanging
 * KVM guest's would, in a known time.
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"
#include "boot/probe.h"
#include "lib/xmalloc.h"

static char tmpdir[] = "/tmp/hvm-test-probe.XXXXXX";
static char *fake_qemu, *payload;

static const char script[] = "#!/bin/sh\nsleep 1.5\nexit 1\n";

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* In the test's own (forked) process: its directory goes with it. */
static void fixture_teardown(void)
{
	if (strcmp(tmpdir + strlen(tmpdir) - 6, "XXXXXX"))
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fixture_setup(void)
{
	char *cache;

	if (!mkdtemp(tmpdir))
		abort();
	cache = xstrfmt("%s/cache", tmpdir);
	setenv("HVMATRIX_CACHE", cache, 1);
	free(cache);
	fake_qemu = xstrfmt("%s/qemu-slow", tmpdir);
	ck_assert_int_eq(fsutil_write_atomic(fake_qemu, script,
					     strlen(script)), 0);
	ck_assert_int_eq(chmod(fake_qemu, 0755), 0);
	payload = xstrfmt("%s/payload", tmpdir);
	ck_assert_int_eq(fsutil_write_atomic(payload, "x", 1), 0);
}

static void kvm_cell(struct cell *c, const char *name)
{
	cell_init(c);
	c->name = xstrdup(name);
	free(c->qemu);
	c->qemu = xstrdup(fake_qemu);
	c->accel = CELL_ACCEL_KVM;
	ck_assert(cell_required(c) & CELL_REQUIRE_KVM);
}

static void plain_cell(struct cell *c, const char *name)
{
	cell_init(c);
	c->name = xstrdup(name);
}

static int kvm_usable(void)
{
	return access("/dev/kvm", R_OK | W_OK) == 0;
}

struct waiter {
	uv_timer_t tick;
	unsigned ticks;
	int done;
};

static void on_tick(uv_timer_t *t)
{
	container_of(t, struct waiter, tick)->ticks++;
}

static void on_done(void *data)
{
	struct waiter *w = data;

	w->done++;
	uv_timer_stop(&w->tick);
	uv_close((uv_handle_t *)&w->tick, NULL);
}

/* Start the async precheck and run the loop until it is done. */
static void run_async(struct boot_run *runs, size_t n, const char *kernel_err,
		      const char *initrd, struct waiter *w)
{
	uv_loop_t loop;

	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &w->tick);
	uv_timer_start(&w->tick, on_tick, 50, 50);
	ck_assert_int_eq(probe_precheck_start(&loop, runs, n, payload,
					      kernel_err, initrd, 1, on_done,
					      w), 0);
	/* done never runs inside the start call. */
	ck_assert_int_eq(w->done, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(w->done, 1);
}

START_TEST(async_probe_keeps_the_loop_turning)
{
	struct cell c[2];
	struct boot_run runs[2];
	struct waiter w;
	char *log0 = xstrfmt("%s/a.log", tmpdir);
	char *log1 = xstrfmt("%s/b.log", tmpdir);

	fixture_setup();
	kvm_cell(&c[0], "kvm-a");
	plain_cell(&c[1], "tcg-b");
	boot_run_init(&runs[0], &c[0], payload, payload, log0);
	boot_run_init(&runs[1], &c[1], payload, payload, log1);
	run_async(runs, 2, NULL, payload, &w);
	ck_assert_int_eq(judge_verdict(&runs[0].judge), VERDICT_SKIP);
	ck_assert_ptr_nonnull(strstr(runs[0].judge.reason,
				     "host lacks working KVM"));
	/* A cell without KVM is left to run. */
	ck_assert_int_eq(judge_verdict(&runs[1].judge), VERDICT_NONE);
	if (kvm_usable()) {
		/* 1.5 s of probe boot: the 50 ms timer ran all along. */
		ck_assert_msg(w.ticks >= 15, "only %u ticks", w.ticks);
		ck_assert_ptr_nonnull(strstr(runs[0].judge.reason,
					     "KVM test boot failed"));
	}
	boot_run_release(&runs[0]);
	boot_run_release(&runs[1]);
	cell_release(&c[0]);
	cell_release(&c[1]);
	free(log0);
	free(log1);
}
END_TEST

START_TEST(cached_answer_is_not_probed_again)
{
	struct cell c;
	struct boot_run run;
	struct waiter w;
	char *log = xstrfmt("%s/a.log", tmpdir);
	char *reason = NULL;

	fixture_setup();
	if (!kvm_usable())
		return;		/* no probe to cache without /dev/kvm */
	kvm_cell(&c, "kvm-a");
	ck_assert_int_eq(probe_kvm(fake_qemu, payload, payload, &reason), 0);
	free(reason);
	/* Cached: no 1.5 s boot this time. */
	boot_run_init(&run, &c, payload, payload, log);
	run_async(&run, 1, NULL, payload, &w);
	ck_assert_msg(w.ticks < 10, "%u ticks: probed again", w.ticks);
	ck_assert_int_eq(judge_verdict(&run.judge), VERDICT_SKIP);
	ck_assert_ptr_nonnull(strstr(run.judge.reason,
				     "KVM test boot failed"));
	boot_run_release(&run);
	cell_release(&c);
	free(log);
}
END_TEST

START_TEST(unusable_kernel_is_error_everywhere_without_probe)
{
	struct cell c[2];
	struct boot_run runs[2];
	struct waiter w;
	char *log = xstrfmt("%s/a.log", tmpdir);

	fixture_setup();
	kvm_cell(&c[0], "kvm-a");
	plain_cell(&c[1], "tcg-b");
	boot_run_init(&runs[0], &c[0], payload, payload, log);
	boot_run_init(&runs[1], &c[1], payload, payload, log);
	run_async(runs, 2, "no such file", payload, &w);
	ck_assert_uint_lt(w.ticks, 10);
	ck_assert_int_eq(judge_verdict(&runs[0].judge), VERDICT_ERROR);
	ck_assert_int_eq(judge_verdict(&runs[1].judge), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(runs[1].judge.reason,
				     "kernel image unusable: no such file"));
	boot_run_release(&runs[0]);
	boot_run_release(&runs[1]);
	cell_release(&c[0]);
	cell_release(&c[1]);
	free(log);
}
END_TEST

START_TEST(missing_payload_is_error_sync)
{
	struct cell c;
	struct boot_run run;
	char *log = xstrfmt("%s/a.log", tmpdir);
	char *missing = xstrfmt("%s/no-payload", tmpdir);

	fixture_setup();
	plain_cell(&c, "tcg-b");
	boot_run_init(&run, &c, payload, missing, log);
	probe_precheck(&run, 1, payload, NULL, missing, 1);
	ck_assert_int_eq(judge_verdict(&run.judge), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(run.judge.reason,
				     "test payload missing"));
	boot_run_release(&run);
	cell_release(&c);
	free(log);
	free(missing);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	/* The runner starts children through this binary (see boot.c). */
	if (argc > 1 && spawn_is_trampoline(argv[1]))
		return spawn_trampoline(argc - 1, argv + 1);
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, fixture_teardown);
	tcase_add_test(tc, async_probe_keeps_the_loop_turning);
	tcase_add_test(tc, cached_answer_is_not_probed_again);
	tcase_add_test(tc, unusable_kernel_is_error_everywhere_without_probe);
	tcase_add_test(tc, missing_payload_is_error_sync);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
