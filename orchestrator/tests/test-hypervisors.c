/*
 * Unit tests for the release catalogue: manifest parsing, the machine-type
 * check at matrix load time (with file:line:col) and the resolution of a
 * cell's release into QEMU's argv: not fetched is ERROR naming the
 * fetcher, not starting is SKIP; the release is asked by the precheck on
 * the thread pool, never on a loop, and its answer (a failure too) is
 * cached. The "releases" here are temporary
 * directories whose binary is a small shell script standing in for QEMU.
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
#include "boot/probe.h"
#include "matrix/cell.h"
#include "lib/fsutil.h"
#include "matrix/hypervisors.h"
#include "matrix/matrix.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"

static char tmpdir[] = "/tmp/hvm-test-hv.XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	setenv("HVMATRIX_HYPERVISORS_DIR", tmpdir, 1);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *rel, const char *text, mode_t mode)
{
	char *path = xstrfmt("%s/%s", tmpdir, rel), *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(fsutil_mkdir_p(dir, 0755), 0);
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	free(path);
	free(dir);
}

static const char manifest[] =
	"kind qemu\n"
	"version 9.1\n"
	"suite trixie\n"
	"package 1:9.1+ds-1\n"
	"binary root/qemu\n"
	"firmware root/share/qemu:root/share/seabios\n"
	"module_dir root/lib/qemu\n"
	"library_path root/lib:/abs/lib\n"
	"loader root/ld.so\n"
	"sha256 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	"deb qemu-system-x86 1:9.1+ds-1 0123\n"
	"deb seabios 1.16-1 4567\n";

START_TEST(manifest_parses)
{
	struct strbuf err = STRBUF_INIT;
	struct hypervisors_release r;

	ck_assert_int_eq(hypervisors_manifest_parse(&r, "/c/qemu/9.1",
						    manifest, &err), 0);
	ck_assert_str_eq(r.kind, "qemu");
	ck_assert_str_eq(r.version, "9.1");
	ck_assert_str_eq(r.package, "1:9.1+ds-1");
	ck_assert_str_eq(r.binary, "/c/qemu/9.1/root/qemu");
	ck_assert_str_eq(r.loader, "/c/qemu/9.1/root/ld.so");
	ck_assert_str_eq(r.library_path, "/c/qemu/9.1/root/lib:/abs/lib");
	ck_assert_str_eq(r.module_dir, "/c/qemu/9.1/root/lib/qemu");
	ck_assert_uint_eq(r.n_firmware, 2);
	ck_assert_str_eq(r.firmware[1], "/c/qemu/9.1/root/share/seabios");
	ck_assert_uint_eq(r.n_debs, 2);
	ck_assert_str_eq(r.debs[1].name, "seabios");
	ck_assert_str_eq(r.debs[1].version, "1.16-1");
	ck_assert_str_eq(r.debs[1].sha256, "4567");
	hypervisors_release_clear(&r);
	strbuf_release(&err);
}
END_TEST

START_TEST(manifest_errors_name_the_line)
{
	struct strbuf err = STRBUF_INIT;
	struct hypervisors_release r;

	ck_assert_int_eq(hypervisors_manifest_parse(&r, "/d",
		"kind qemu\nversion 1.0\ndeb broken\n", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "manifest line 3: deb"));
	strbuf_reset(&err);
	ck_assert_int_eq(hypervisors_manifest_parse(&r, "/d",
		"kind kvm\n", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "line 1: kind"));
	strbuf_reset(&err);
	ck_assert_int_eq(hypervisors_manifest_parse(&r, "/d",
		"kind xen\nversion 4.1\npackage 4.1-1\n", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "missing binary"));
	strbuf_reset(&err);
	ck_assert_int_eq(hypervisors_manifest_parse(&r, "/d",
		"kind xen\nkind xen\n", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "given twice"));
	strbuf_release(&err);
}
END_TEST

START_TEST(release_names)
{
	ck_assert(hypervisors_is_release("10.0"));
	ck_assert(hypervisors_is_release("4.20"));
	ck_assert(!hypervisors_is_release("qemu-system-x86_64"));
	ck_assert(!hypervisors_is_release("/opt/qemu/bin/qemu-system-x86_64"));
	ck_assert(!hypervisors_is_release("10"));
	ck_assert(!hypervisors_is_release("10."));
	ck_assert(!hypervisors_is_release("./10.0"));
}
END_TEST

START_TEST(machine_help_parses)
{
	struct strbuf out = STRBUF_INIT;

	hypervisors_machines_parse(
		"Supported machines are:\n"
		"microvm              microvm (i386)\n"
		"pc                   Standard PC (alias of pc-i440fx-11.1)\n"
		"pc-i440fx-11.1       Standard PC (i440FX + PIIX, 1996) "
		"(default)\n"
		"pc-q35-5.2           Standard PC (Q35 + ICH9, 2009)\n", &out);
	ck_assert_str_eq(out.buf, "microvm\npc\npc-i440fx-11.1\npc-q35-5.2\n");
	ck_assert(hypervisors_has_machine(out.buf, "pc"));
	ck_assert(hypervisors_has_machine(out.buf, "pc,vmport=on"));
	ck_assert(hypervisors_has_machine(out.buf, "pc-q35-5.2"));
	ck_assert(!hypervisors_has_machine(out.buf, "pc-q35-5"));
	ck_assert(!hypervisors_has_machine(out.buf, "pc-i440fx-2.4"));
	strbuf_release(&out);
}
END_TEST

/* A stand-in QEMU: lists two machine types, quits, exits 0. */
static const char good_qemu[] =
	"#!/bin/sh\n"
	"case \"$*\" in\n"
	"*'-machine help'*) printf 'Supported machines are:\\n"
	"pc   Standard PC\\npc-q35-9.1  Q35\\n' ;;\n"
	"*--version*) echo 'QEMU emulator version 9.1.0' ;;\n"
	"esac\n"
	"exit 0\n";

static void add_release(const char *ver, const char *script)
{
	char *m = xstrfmt("kind qemu\nversion %s\npackage 1:%s-1\n"
			  "binary qemu\nfirmware fw\n", ver, ver);
	char *rel = xstrfmt("qemu/%s/manifest", ver);
	char *bin = xstrfmt("qemu/%s/qemu", ver);

	put(bin, script, 0755);
	put(rel, m, 0644);
	free(m);
	free(rel);
	free(bin);
}

START_TEST(machine_type_checked_at_load)
{
	static const char yaml[] =
		"version: 1\n"
		"cells:\n"
		"  - name: ok\n"
		"    qemu: \"9.1\"\n"
		"    machine: pc-q35-9.1\n"
		"  - name: old\n"
		"    qemu: \"9.1\"\n"
		"    machine: pc-i440fx-2.4\n";
	static const char later[] =
		"version: 1\ncells:\n  - name: a\n    qemu: \"3.0\"\n"
		"    machine: pc-q35-1.0\n";
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	add_release("9.1", good_qemu);
	ck_assert_int_eq(matrix_load_buf(&m, "m.yaml", yaml, strlen(yaml),
					 &err), -1);
	ck_assert_msg(strstr(err.buf, "m.yaml:8:14: machine: QEMU 9.1") &&
		      strstr(err.buf, "\"pc-i440fx-2.4\""), "%s", err.buf);
	/* The same machine through a path (a user's build) is not checked,
	 * and a release that is not fetched is left to run time. */
	strbuf_reset(&err);
	ck_assert_int_eq(matrix_load_buf(&m, "m.yaml", later, strlen(later),
					 &err), 0);
	matrix_release(&m);
	strbuf_release(&err);
}
END_TEST

START_TEST(release_resolves_into_argv)
{
	struct boot_run r;
	struct cell c;
	char *bin = xstrfmt("%s/qemu/9.1/qemu", tmpdir);
	char *fw = xstrfmt("%s/qemu/9.1/fw", tmpdir);
	size_t i;
	int has_l = 0;

	add_release("9.1", good_qemu);
	cell_init(&c);
	ck_assert_int_eq(cell_set(&c, "name", "x", NULL), 0);
	ck_assert_int_eq(cell_set(&c, "qemu", "9.1", NULL), 0);
	boot_run_init(&r, &c, "/k", "/i", "/tmp/log");
	ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_NONE);
	ck_assert_str_eq(r.argv[0], bin);
	for (i = 0; r.argv[i + 1]; i++)
		if (!strcmp(r.argv[i], "-L") && !strcmp(r.argv[i + 1], fw))
			has_l = 1;
	ck_assert(has_l);
	ck_assert_str_eq(r.argv[1], "-L");
	boot_run_release(&r);
	cell_release(&c);
	free(bin);
	free(fw);
}
END_TEST

START_TEST(missing_release_is_error_naming_fetcher)
{
	struct boot_run r;
	struct cell c;

	cell_init(&c);
	ck_assert_int_eq(cell_set(&c, "name", "x", NULL), 0);
	ck_assert_int_eq(cell_set(&c, "qemu", "8.0", NULL), 0);
	boot_run_init(&r, &c, "/k", "/i", "/tmp/log");
	ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_ERROR);
	ck_assert_msg(strstr(r.judge.reason, HYPERVISORS_FETCH) &&
		      strstr(r.judge.reason, "qemu/8.0"), "%s",
		      r.judge.reason);
	boot_run_release(&r);
	cell_release(&c);
}
END_TEST

START_TEST(release_that_cannot_start_is_skip)
{
	struct boot_run r;
	struct cell c;

	add_release("9.2", "#!/bin/sh\necho 'fatal: no TCG here' >&2\n"
		    "exit 1\n");
	cell_init(&c);
	ck_assert_int_eq(cell_set(&c, "name", "x", NULL), 0);
	ck_assert_int_eq(cell_set(&c, "qemu", "9.2", NULL), 0);
	boot_run_init(&r, &c, "/k", "/i", "/tmp/log");
	/* Asked by the precheck, never by boot_run_init (on a loop). */
	ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_NONE);
	probe_precheck(&r, 1, "/k", NULL, "/i", 1);
	ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_SKIP);
	ck_assert_msg(strstr(r.judge.reason, "cannot start") &&
		      strstr(r.judge.reason, "no TCG here"), "%s",
		      r.judge.reason);
	boot_run_release(&r);
	cell_release(&c);
}
END_TEST

/* A release with a sha256 in its manifest: its answers are cached. */
static void add_cached_release(const char *ver, const char *script)
{
	char *m = xstrfmt("kind qemu\nversion %s\npackage 1:%s-1\n"
			  "binary qemu\nfirmware fw\nsha256 %064d\n", ver, ver,
			  atoi(ver));
	char *rel = xstrfmt("qemu/%s/manifest", ver);
	char *bin = xstrfmt("qemu/%s/qemu", ver);

	put(bin, script, 0755);
	put(rel, m, 0644);
	free(m);
	free(rel);
	free(bin);
}

/* How many times a stand-in QEMU ran (one line each in tmpdir/asked). */
static unsigned times_asked(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xstrfmt("%s/asked", tmpdir);
	unsigned n = 0;
	size_t i;

	if (fsutil_read(path, &sb) == 0)
		for (i = 0; i < sb.len; i++)
			n += sb.buf[i] == '\n';
	strbuf_release(&sb);
	free(path);
	return n;
}

/* A stand-in that takes 1.5 s for each question, then answers. */
static char *slow_qemu(void)
{
	return xstrfmt("#!/bin/sh\necho x >> %s/asked\nsleep 1.5\n"
		       "case \"$*\" in\n"
		       "*'-machine help'*) printf 'Supported machines are:\\n"
		       "pc   Standard PC\\n' ;;\n"
		       "esac\nexit 0\n", tmpdir);
}

struct lag {
	uv_timer_t tick;
	uint64_t last_ns, worst_ns;
	int done;
};

static void lag_tick(uv_timer_t *t)
{
	struct lag *l = container_of(t, struct lag, tick);
	uint64_t now = uv_hrtime();

	if (l->last_ns && now - l->last_ns > l->worst_ns)
		l->worst_ns = now - l->last_ns;
	l->last_ns = now;
}

static void lag_done(void *data)
{
	struct lag *l = data;

	l->done = 1;
	uv_timer_stop(&l->tick);
	uv_close((uv_handle_t *)&l->tick, NULL);
}

/*
 * A release never asked: boot_run_init (on the daemon's loop, in
 * job-plan.c) does not run it; the precheck asks on the thread pool while
 * the loop's 10 ms timer keeps its time, and the answer is cached.
 */
START_TEST(machine_types_asked_off_the_loop)
{
	char *script = slow_qemu(), *payload = xstrfmt("%s/p", tmpdir);
	struct boot_run r;
	struct cell c;
	struct lag l = { 0 };
	uv_loop_t loop;
	uint64_t t0;
	double init_ms, lag_ms;

	add_cached_release("9.3", script);
	put("p", "x", 0644);
	cell_init(&c);
	ck_assert_int_eq(cell_set(&c, "name", "x", NULL), 0);
	ck_assert_int_eq(cell_set(&c, "qemu", "9.3", NULL), 0);
	ck_assert_int_eq(cell_set(&c, "machine", "pc", NULL), 0);
	t0 = uv_hrtime();
	boot_run_init(&r, &c, payload, payload, "/tmp/log");
	init_ms = (double)(uv_hrtime() - t0) / 1e6;
	printf("# boot_run_init of an unasked release: %.1f ms\n", init_ms);
	ck_assert_msg(init_ms < 500, "boot_run_init took %.0f ms", init_ms);
	ck_assert_uint_eq(times_asked(), 0);
	ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_NONE);
	ck_assert(r.release_unchecked);

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &l.tick);
	uv_timer_start(&l.tick, lag_tick, 10, 10);
	ck_assert_int_eq(probe_precheck_start(&loop, &r, 1, payload, NULL,
					      payload, 1, lag_done, &l), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert(l.done);
	/* The lag: how much later than its 10 ms a tick came, as the
	 * daemon's meter counts it. */
	lag_ms = (double)l.worst_ns / 1e6 - 10;
	printf("# the loop's worst lag while QEMU was asked: %.1f ms\n",
	       lag_ms);
	/* Two questions of 1.5 s each went by; the loop never waited for
	 * one (asked on the loop, the lag would be 1500 ms or more; CPU
	 * load alone on a busy 2-core host gives tens of ms, so the bound
	 * is well under a question and well over load). */
	ck_assert_uint_eq(times_asked(), 2);
	ck_assert_msg(lag_ms < 750, "worst lag %.0f ms", lag_ms);
	ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_NONE);
	ck_assert(!r.release_unchecked);
	boot_run_release(&r);

	/* Asked once: the next run's init finds the answer cached. */
	boot_run_init(&r, &c, payload, payload, "/tmp/log");
	ck_assert(!r.release_unchecked);
	ck_assert_uint_eq(times_asked(), 2);
	boot_run_release(&r);
	cell_release(&c);
	free(script);
	free(payload);
}
END_TEST

/* A release that cannot start is asked once per host boot, not per run. */
START_TEST(failure_is_cached)
{
	char *script = xstrfmt("#!/bin/sh\necho x >> %s/asked\n"
			       "echo 'fatal: no TCG here' >&2\nexit 1\n",
			       tmpdir);
	char *payload = xstrfmt("%s/p", tmpdir);
	struct boot_run r;
	struct cell c;
	int i;

	add_cached_release("9.4", script);
	put("p", "x", 0644);
	cell_init(&c);
	ck_assert_int_eq(cell_set(&c, "name", "x", NULL), 0);
	ck_assert_int_eq(cell_set(&c, "qemu", "9.4", NULL), 0);
	for (i = 0; i < 3; i++) {
		boot_run_init(&r, &c, payload, payload, "/tmp/log");
		probe_precheck(&r, 1, payload, NULL, payload, 1);
		ck_assert_int_eq(judge_verdict(&r.judge), VERDICT_SKIP);
		ck_assert_msg(strstr(r.judge.reason, "no TCG here"), "%s",
			      r.judge.reason);
		boot_run_release(&r);
	}
	ck_assert_uint_eq(times_asked(), 1);
	cell_release(&c);
	free(script);
	free(payload);
}
END_TEST

/* A daemon's matrix reload (on its loop) asks no release. */
START_TEST(reload_checks_only_what_is_cached)
{
	static const char yaml[] =
		"version: 1\ncells:\n  - name: a\n    qemu: \"9.3\"\n"
		"    machine: pc-q35-1.0\n";
	char *script = slow_qemu();
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	add_cached_release("9.3", script);
	hypervisors_check_cached_only(1);
	ck_assert_int_eq(matrix_load_buf(&m, "m.yaml", yaml, strlen(yaml),
					 &err), 0);
	matrix_release(&m);
	ck_assert_uint_eq(times_asked(), 0);
	hypervisors_check_cached_only(0);
	/* Asked (the CLI's `matrix check`): the machine is missing. */
	ck_assert_int_eq(matrix_load_buf(&m, "m.yaml", yaml, strlen(yaml),
					 &err), -1);
	ck_assert_msg(strstr(err.buf, "no machine type \"pc-q35-1.0\""), "%s",
		      err.buf);
	ck_assert_uint_eq(times_asked(), 2);
	/* Cached now: a reload sees it too. */
	strbuf_reset(&err);
	hypervisors_check_cached_only(1);
	ck_assert_int_eq(matrix_load_buf(&m, "m.yaml", yaml, strlen(yaml),
					 &err), -1);
	hypervisors_check_cached_only(0);
	ck_assert_uint_eq(times_asked(), 2);
	strbuf_release(&err);
	free(script);
}
END_TEST

START_TEST(loader_and_environment)
{
	struct strbuf err = STRBUF_INIT;
	struct hypervisors_release r;
	char **argv, **env;
	size_t n, i;
	int mod = 0;

	ck_assert_int_eq(hypervisors_manifest_parse(&r, "/c", manifest, &err),
			 0);
	argv = hypervisors_qemu_argv(&r, &n);
	ck_assert_uint_eq(n, 8);
	ck_assert_str_eq(argv[0], "/c/root/ld.so");
	ck_assert_str_eq(argv[1], "--library-path");
	ck_assert_str_eq(argv[3], "/c/root/qemu");
	env = hypervisors_qemu_env(&r);
	for (i = 0; env[i]; i++) {
		if (!strcmp(env[i], "QEMU_MODULE_DIR=/c/root/lib/qemu"))
			mod = 1;
		/* The loader has the libraries: no LD_LIBRARY_PATH. */
		ck_assert(strncmp(env[i], "LD_LIBRARY_PATH=/c/", 19));
	}
	ck_assert(mod);
	spawn_argv_free(argv);
	spawn_argv_free(env);
	hypervisors_release_clear(&r);
	strbuf_release(&err);
}
END_TEST

START_TEST(xen_build_without_manifest_and_listing)
{
	struct strbuf err = STRBUF_INIT;
	struct hypervisors_release *rs, r;
	size_t n;

	put("xen/4.17/xen.elf", "\177ELF", 0644);
	put("xen/4.17/version", "4.17.7-1\n", 0644);
	put("xen/4.17/complete", "size 4\nsha256 abc\n", 0644);
	add_release("10.0", good_qemu);
	add_release("9.1", good_qemu);
	ck_assert_int_eq(hypervisors_load(&r, "xen", "4.17", &err), 0);
	ck_assert_str_eq(r.package, "4.17.7-1");
	hypervisors_release_clear(&r);
	ck_assert_int_eq(hypervisors_list(&rs, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rs[0].version, "9.1");
	ck_assert_str_eq(rs[1].version, "10.0");
	ck_assert_str_eq(rs[2].kind, "xen");
	hypervisors_list_free(rs, n);
	strbuf_release(&err);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("hypervisors");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (argc > 1 && spawn_is_trampoline(argv[1]))
		return spawn_trampoline(argc - 1, argv + 1);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, manifest_parses);
	tcase_add_test(tc, manifest_errors_name_the_line);
	tcase_add_test(tc, release_names);
	tcase_add_test(tc, machine_help_parses);
	tcase_add_test(tc, machine_type_checked_at_load);
	tcase_add_test(tc, release_resolves_into_argv);
	tcase_add_test(tc, missing_release_is_error_naming_fetcher);
	tcase_add_test(tc, release_that_cannot_start_is_skip);
	tcase_add_test(tc, machine_types_asked_off_the_loop);
	tcase_add_test(tc, failure_is_cached);
	tcase_add_test(tc, reload_checks_only_what_is_cached);
	tcase_add_test(tc, loader_and_environment);
	tcase_add_test(tc, xen_build_without_manifest_and_listing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
