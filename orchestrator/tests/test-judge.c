/*
 * Unit tests for the judge: console streams (real captures from QEMU TCG
 * on Debian's 6.1 kernel, and hand-made edge cases) in, verdicts out.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/xmalloc.h"
#include "judge/judge.h"

static const char *vmware_expect[] = { "Hypervisor detected: VMware" };

static void feed_str(struct judge *j, const char *s)
{
	judge_feed(j, s, strlen(s));
}

/* Feed a fixture in reads of `chunk` bytes. */
static void feed_fixture(struct judge *j, const char *name, size_t chunk)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = NULL;
	size_t off;

	if (asprintf(&path, "%s/%s", HVM_TEST_FIXTURES, name) < 0)
		abort();
	ck_assert_int_eq(fsutil_read(path, &sb), 0);
	ck_assert_uint_gt(sb.len, 0);
	for (off = 0; off < sb.len; off += chunk)
		judge_feed(j, sb.buf + off,
			   sb.len - off < chunk ? sb.len - off : chunk);
	strbuf_release(&sb);
	free(path);
}

START_TEST(pass_real_capture_any_split)
{
	static const size_t chunks[] = { 1, 3, 7, 64, 4096, 1 << 20 };
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct judge j;

		judge_init(&j, "abc123", NULL, 0);
		feed_fixture(&j, "console-pass-debian.txt", chunks[i]);
		ck_assert_int_eq(j.action, JUDGE_PASSING);
		judge_exit(&j, 0, 0, 0);
		ck_assert_str_eq(verdict_name(judge_verdict(&j)), "PASS");
		ck_assert_str_eq(j.line, "HVMATRIX-OK nonce=abc123");
		ck_assert_str_eq(j.hypervisor, "none");
		judge_release(&j);
	}
}
END_TEST

START_TEST(wrong_nonce_is_not_a_pass)
{
	struct judge j;

	/* The capture's marker carries abc123; this run's nonce differs. */
	judge_init(&j, "ffff0000", NULL, 0);
	feed_fixture(&j, "console-pass-debian.txt", 512);
	ck_assert_int_eq(j.action, JUDGE_CONTINUE);
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "another run's nonce"));
	ck_assert_str_eq(j.line, "HVMATRIX-OK nonce=abc123");
	judge_release(&j);
}
END_TEST

START_TEST(nonce_in_command_line_echo_proves_nothing)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "[    0.000000] Command line: console=ttyS0 "
		 "HVMATRIX-OK nonce=n1 hvmatrix.nonce=n1\n"
		 "Kernel command line: HVMATRIX-OK nonce=n1\n"
		 "  HVMATRIX-OK nonce=n1\n");
	ck_assert_int_eq(j.action, JUDGE_CONTINUE);
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "before the marker"));
	judge_release(&j);
}
END_TEST

START_TEST(crlf_and_escape_sequences)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "\x1b" "c\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\r\r\n\x1b]0;t\x07"
		 "\x1b(B\x1b[1;31mHVMATRIX-OK");
	ck_assert_int_eq(j.action, JUDGE_CONTINUE);
	feed_str(&j, " nonce=n1\r");
	ck_assert_int_eq(j.action, JUDGE_CONTINUE);	/* line not ended */
	feed_str(&j, "\n");
	ck_assert_int_eq(j.action, JUDGE_PASSING);
	ck_assert_str_eq(j.line, "HVMATRIX-OK nonce=n1");
	judge_exit(&j, 0, 0, 1);	/* killed after the pass grace */
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

START_TEST(panic_real_capture)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_fixture(&j, "console-panic-rdinit.txt", 100);
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "kernel panic");
	ck_assert_ptr_nonnull(strstr(j.line, "Kernel panic - not syncing: "
				     "VFS: Unable to mount root fs"));
	/* The trace keeps coming, QEMU exits 0: still the panic. */
	feed_str(&j, "HVMATRIX-OK nonce=n1\n");
	judge_exit(&j, 0, 0, 0);
	ck_assert_str_eq(j.reason, "kernel panic");
	judge_release(&j);
}
END_TEST

START_TEST(old_machine_unable_to_boot)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_fixture(&j, "console-old-machine-cpu-max.txt", 5);
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.line, "Unable to boot"));
	judge_release(&j);
}
END_TEST

START_TEST(xen_dom0_crash_line)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "(XEN) d0v0 Unhandled: vec 14, #PF[0000]\n"
		 "(XEN) Hardware Dom0 crashed: rebooting machine in 5 "
		 "seconds.\n");
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_str_eq(j.reason, "Xen: dom0 crashed");
	ck_assert_str_eq(j.line, "(XEN) Hardware Dom0 crashed: rebooting "
			 "machine in 5 seconds.");
	judge_timeout(&j, 30);	/* a later end does not overturn it */
	ck_assert_str_eq(j.reason, "Xen: dom0 crashed");
	judge_release(&j);
}
END_TEST

START_TEST(xen_emulation_gap_is_host_error)
{
	struct judge j;

	/* Captured from Xen 4.17 PVH dom0 under QEMU TCG with -cpu max. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "[   12.788468] x86/fpu: Enabled xstate features 0x7\n"
		 "(XEN) Insn mismatch: Expected opcode 0xf0031, modrm 0, got "
		 "nrip_len 0, emul_len 3\n"
		 "(XEN) SVM Insn len emulation failed (1): d0v0 64bit @ "
		 "0010:ffffffff8107ee00 -> 0f 01 f9 66 90\n"
		 "(XEN) Hardware Dom0 crashed: rebooting machine in 5 "
		 "seconds.\n");
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(j.reason, "not the kernel"));
	ck_assert_ptr_nonnull(strstr(j.line, "SVM Insn len emulation failed"));
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	judge_release(&j);
}
END_TEST

START_TEST(init_reports_multiword_hypervisor)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "hvmatrix-init: kernel=6.1.0 hypervisor=Xen PV\n");
	ck_assert_str_eq(j.hypervisor, "Xen PV");
	judge_release(&j);
}
END_TEST

/* One nested dom0 boot running two guest jobs, as the agent reports it. */
static const char two_jobs[] =
	"(XEN) Xen version 4.17.7 (Debian 4.17.7)\r\n"
	"[    1.0] Hypervisor detected: Xen PV\n"
	"hvmatrix-agent: ready jobs=2 xen=4.17.7\n"
	"hvmatrix-agent: begin job=pv-a type=pv\n"
	"[    0.0] Hypervisor detected: Xen PV\n"
	"hvmatrix-init: kernel=6.1.0 hypervisor=Xen PV\n"
	"HVMATRIX-OK nonce=aaaa\n"
	"(XEN) d1: something Xen says meanwhile\n"
	"hvmatrix-agent: end job=pv-a fate=shutdown seconds=6.1\n"
	"hvmatrix-agent: begin job=pv-b type=pv\n"
	"[    0.5] Kernel panic - not syncing: VFS: Unable to mount root\n"
	"[    0.5] Call Trace:\n"
	"hvmatrix-agent: end job=pv-b fate=crashed seconds=3.0\n"
	"hvmatrix-agent: done\n";

START_TEST(guest_jobs_judged_apart)
{
	static const char *xen_pv[] = { "Hypervisor detected: Xen PV" };
	struct judge a, b;

	judge_init(&a, "aaaa", (char *const *)xen_pv, 1);
	judge_set_guest(&a, "pv-a");
	judge_init(&b, "bbbb", NULL, 0);
	judge_set_guest(&b, "pv-b");
	feed_str(&a, two_jobs);
	feed_str(&b, two_jobs);
	/* Guest b's panic is b's FAIL, and nothing of a's. */
	ck_assert_int_eq(judge_verdict(&a), VERDICT_PASS);
	ck_assert_int_eq(judge_verdict(&a), VERDICT_PASS);
	ck_assert_ptr_nonnull(strstr(a.reason, "guest shut down"));
	ck_assert_int_eq(judge_verdict(&b), VERDICT_FAIL);
	ck_assert_str_eq(b.reason, "kernel panic");
	ck_assert_ptr_nonnull(strstr(b.line, "VFS: Unable to mount root"));
	judge_release(&a);
	judge_release(&b);

	/* dom0's own "Hypervisor detected" is not the guest's report. */
	judge_init(&a, "aaaa", (char *const *)xen_pv, 1);
	judge_set_guest(&a, "pv-a");
	feed_str(&a, "[ 1.0] Hypervisor detected: Xen PV\n"
		 "hvmatrix-agent: begin job=pv-a type=pvh\n"
		 "HVMATRIX-OK nonce=aaaa\n"
		 "hvmatrix-agent: end job=pv-a fate=shutdown seconds=1.0\n");
	ck_assert_int_eq(judge_verdict(&a), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(a.reason, "Xen PV"));
	judge_release(&a);
}
END_TEST

/*
 * Three runs of one cell in one dom0 boot (confirmation, bisection): each
 * is its own job, CELL@NONCE. The first guest passes and the second
 * panics; the group is stopped before the third guest starts.
 */
static const char one_cell_thrice[] =
	"hvmatrix-agent: ready jobs=3 xen=4.17.7\n"
	"hvmatrix-agent: begin job=c@n1 type=pv\n"
	"HVMATRIX-OK nonce=n1\n"
	"hvmatrix-agent: end job=c@n1 fate=shutdown seconds=6.4\n"
	"hvmatrix-agent: begin job=c@n2 type=pv\n"
	"[ 0.5] Kernel panic - not syncing: hvmatrix test: coin flip lost\n"
	"hvmatrix-agent: end job=c@n2 fate=crashed seconds=3.0\n";

START_TEST(runs_of_one_cell_in_one_dom0_judged_apart)
{
	struct judge j[3];
	static const char *nonce[] = { "n1", "n2", "n3" };
	size_t i;

	for (i = 0; i < 3; i++) {
		char *job = xstrfmt("c@%s", nonce[i]);

		judge_init(&j[i], nonce[i], NULL, 0);
		judge_set_guest(&j[i], job);
		free(job);
		feed_str(&j[i], one_cell_thrice);
	}
	/* The first guest's end is the first run's alone. */
	ck_assert_int_eq(judge_verdict(&j[0]), VERDICT_PASS);
	ck_assert_int_eq(judge_verdict(&j[1]), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j[1].line, "coin flip lost"));
	ck_assert_int_eq(judge_verdict(&j[2]), VERDICT_NONE);
	/* The group is stopped: a guest that never started is the farm's. */
	judge_exit(&j[2], 0, 9, 1);
	ck_assert_int_eq(judge_verdict(&j[2]), VERDICT_ERROR);
	for (i = 0; i < 3; i++)
		judge_release(&j[i]);

	/* A job name that only starts like ours is not ours. */
	judge_init(&j[0], "n1", NULL, 0);
	judge_set_guest(&j[0], "c");
	feed_str(&j[0], one_cell_thrice);
	ck_assert_int_eq(judge_verdict(&j[0]), VERDICT_NONE);
	judge_exit(&j[0], 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j[0]), VERDICT_ERROR);
	judge_release(&j[0]);
}
END_TEST

START_TEST(another_guests_panic_is_not_the_farms)
{
	struct judge j;

	judge_init(&j, "n2", NULL, 0);
	judge_set_guest(&j, "second");
	feed_str(&j, "hvmatrix-agent: begin job=first type=pv\r\r\n"
		 "[ 5.5] Kernel panic - not syncing: VFS: Unable to mount\r\r\n"
		 "hvmatrix-agent: end job=first fate=crashed seconds=17.1\r\n"
		 "hvmatrix-agent: begin job=second type=pvh\r\n"
		 "HVMATRIX-OK nonce=n2\r\r\n"
		 "hvmatrix-agent: end job=second fate=shutdown seconds=16.6\r\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	ck_assert_double_eq_tol(j.guest_seconds, 16.6, 0.01);
	judge_release(&j);
}
END_TEST

START_TEST(guest_mode_blames_the_farm_outside_the_job)
{
	struct judge j;

	/* dom0 (Debian's kernel, not under test) panics: ERROR. */
	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g");
	feed_str(&j, "[ 2.0] Kernel panic - not syncing: dom0 trouble\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(j.reason, "before the guest started"));
	judge_release(&j);

	/* Xen's crash line while the guest runs: still the farm's. */
	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g");
	feed_str(&j, "hvmatrix-agent: begin job=g type=pv\n"
		 "(XEN) Hardware Dom0 crashed: rebooting machine\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	judge_release(&j);

	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g");
	feed_str(&j, "hvmatrix-agent: setup-failed step=xenstored\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_str_eq(j.reason, "dom0 setup failed");
	judge_release(&j);

	/* The agent could not build the domain. */
	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g");
	feed_str(&j, "hvmatrix-agent: begin job=g type=pv\n"
		 "hvmatrix-agent: end job=g fate=error seconds=0.2 "
		 "detail=libxl_domain_create_new failed\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(j.reason, "libxl_domain_create_new"));
	judge_release(&j);

	/* QEMU ends before the guest ran: the farm's trouble. */
	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g");
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	judge_release(&j);
}
END_TEST

/*
 * The suspend probe in a libxl guest: the agent's own suspend lines pass
 * as the guest's; a restored guest that panics names the probe it died
 * in; one that did not suspend when asked fails the probe.
 */
START_TEST(guest_suspend_probe)
{
	static const char before[] =
		"hvmatrix-agent: ready jobs=1 xen=4.17.7 handover=suspend\r\n"
		"hvmatrix-agent: begin job=g@n1 type=pv\r\n"
		"HVMATRIX-PROBE nonce=n1 name=suspend result=start\r\r\n"
		"HVMATRIX-PROBE nonce=n1 name=suspend result=ready\r\r\n"
		"hvmatrix-agent: suspend job=g@n1 saved bytes=268973472 "
		"seconds=5.9\r\n"
		"hvmatrix-agent: suspend job=g@n1 restored seconds=6.0\r\n";
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g@n1");
	feed_str(&j, before);
	feed_str(&j, "HVMATRIX-PROBE nonce=n1 name=suspend result=pass "
		 "seconds=12.0 detail=resumed\r\r\n"
		 "HVMATRIX-OK nonce=n1\r\r\n"
		 "hvmatrix-agent: end job=g@n1 fate=shutdown seconds=30\r\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);

	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g@n1");
	feed_str(&j, before);
	feed_str(&j, "[ 4.2] Kernel panic - not syncing: broken resume\r\r\n"
		 "hvmatrix-agent: end job=g@n1 fate=crashed seconds=23\r\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "kernel panic during probe suspend");
	ck_assert_str_eq(j.line, "[ 4.2] Kernel panic - not syncing: "
			 "broken resume");
	judge_release(&j);

	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g@n1");
	feed_str(&j, "hvmatrix-agent: ready jobs=1 xen=4.14.6 "
		 "handover=suspend\r\n"
		 "hvmatrix-agent: begin job=g@n1 type=pv\r\n"
		 "HVMATRIX-PROBE nonce=n1 name=suspend result=start\r\r\n"
		 "HVMATRIX-PROBE nonce=n1 name=suspend result=ready\r\r\n"
		 "hvmatrix-agent: end job=g@n1 fate=suspend-failed "
		 "seconds=140 detail=the guest did not suspend when asked: "
		 "guest did not suspend, timed out\r\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "probe suspend failed: the guest did not "
			 "suspend when asked: guest did not suspend, timed out");
	judge_release(&j);

	/* An agent from before the probe: the farm's, at the ready line. */
	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g@n1");
	feed_str(&j, "hvmatrix-agent: ready jobs=1 xen=4.17.7\r\n"
		 "hvmatrix-agent: begin job=g@n1 type=pv\r\n"
		 "HVMATRIX-PROBE nonce=n1 name=suspend result=ready\r\r\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(j.reason, "does not run the suspend"));
	judge_release(&j);
}
END_TEST

START_TEST(guest_timeout_and_prefix_names)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	judge_set_guest(&j, "g");
	/* "g2" is another job: its lines are not ours. */
	feed_str(&j, "hvmatrix-agent: begin job=g2 type=pv\n"
		 "HVMATRIX-OK nonce=n1\n"
		 "hvmatrix-agent: end job=g2 fate=shutdown seconds=1\n"
		 "hvmatrix-agent: begin job=g type=pv\n"
		 "[ 0.1] Booting\n"
		 "hvmatrix-agent: end job=g fate=timeout seconds=60.0\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "guest timeout"));
	ck_assert_str_eq(j.line, "[ 0.1] Booting");
	judge_release(&j);
}
END_TEST

START_TEST(expect_seen_real_vmware_capture)
{
	struct judge j;

	judge_init(&j, "n1", (char *const *)vmware_expect, 1);
	feed_fixture(&j, "console-vmware-n1.txt", 33);
	ck_assert_int_eq(j.action, JUDGE_PASSING);
	ck_assert_str_eq(j.hypervisor, "VMware");
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

START_TEST(expect_missing_is_wrong_hypervisor)
{
	struct judge j;

	judge_init(&j, "abc123", (char *const *)vmware_expect, 1);
	feed_fixture(&j, "console-pass-debian.txt", 4096);
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "Hypervisor detected: VMware"));
	ck_assert_ptr_nonnull(strstr(j.reason, "hypervisor=none"));
	judge_release(&j);
}
END_TEST

START_TEST(expect_only_in_command_line_does_not_count)
{
	struct judge j;

	judge_init(&j, "n1", (char *const *)vmware_expect, 1);
	feed_str(&j, "Command line: x=\"Hypervisor detected: VMware\"\n"
		 "HVMATRIX-OK nonce=n1\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	judge_release(&j);
}
END_TEST

START_TEST(silence_and_timeout)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	judge_silence(&j, 20);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "nothing printed at all"));
	judge_release(&j);

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "Booting from ROM...\r\nDecompressing");
	judge_timeout(&j, 120);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "timeout: no marker after 120 s (hang)");
	ck_assert_str_eq(j.line, "Decompressing");
	judge_release(&j);

	/* Marker seen, guest slow to power off: still a PASS. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "HVMATRIX-OK nonce=n1\n");
	judge_timeout(&j, 120);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

START_TEST(qemu_refusing_is_error_not_fail)
{
	struct judge j;
	static const char msg[] =
		"qemu-system-x86_64: warning: host doesn't support requested "
		"feature: CPUID.01H:ECX.pni [bit 0]\n"
		"qemu-system-x86_64: unsupported machine type\n"
		"Use -machine help to list supported machines\n";

	judge_init(&j, "n1", NULL, 0);
	judge_feed_stderr(&j, msg, strlen(msg));
	judge_exit(&j, 1, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_str_eq(j.line, "qemu-system-x86_64: unsupported machine "
			 "type");
	ck_assert_ptr_nonnull(strstr(j.reason, "status 1"));
	judge_release(&j);

	judge_init(&j, "n1", NULL, 0);
	judge_feed_stderr(&j, "hvmatrix: cannot run qemu-nope: No such file "
			  "or directory\n", 57);
	judge_exit(&j, 127, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(j.reason, "cannot run qemu-nope"));
	judge_release(&j);

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "SeaBIOS\n");
	judge_exit(&j, 0, 6, 0);	/* QEMU aborted (SIGABRT) */
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(j.reason, "signal 6"));
	judge_release(&j);
}
END_TEST

START_TEST(skip_and_error_before_start)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	judge_skip(&j, "host lacks working KVM");
	judge_exit(&j, 1, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_SKIP);
	ck_assert_str_eq(j.reason, "host lacks working KVM");
	judge_release(&j);
}
END_TEST

START_TEST(long_line_is_split_not_lost)
{
	struct judge j;
	char big[10000];

	memset(big, 'x', sizeof(big));
	judge_init(&j, "n1", NULL, 0);
	judge_feed(&j, big, sizeof(big));
	feed_str(&j, "\nKernel panic - not syncing: x\n");
	ck_assert_str_eq(j.reason, "kernel panic");
	judge_release(&j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("judge");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, pass_real_capture_any_split);
	tcase_add_test(tc, wrong_nonce_is_not_a_pass);
	tcase_add_test(tc, nonce_in_command_line_echo_proves_nothing);
	tcase_add_test(tc, crlf_and_escape_sequences);
	tcase_add_test(tc, panic_real_capture);
	tcase_add_test(tc, guest_suspend_probe);
	tcase_add_test(tc, old_machine_unable_to_boot);
	tcase_add_test(tc, xen_dom0_crash_line);
	tcase_add_test(tc, xen_emulation_gap_is_host_error);
	tcase_add_test(tc, init_reports_multiword_hypervisor);
	tcase_add_test(tc, guest_jobs_judged_apart);
	tcase_add_test(tc, another_guests_panic_is_not_the_farms);
	tcase_add_test(tc, runs_of_one_cell_in_one_dom0_judged_apart);
	tcase_add_test(tc, guest_mode_blames_the_farm_outside_the_job);
	tcase_add_test(tc, guest_timeout_and_prefix_names);
	tcase_add_test(tc, expect_seen_real_vmware_capture);
	tcase_add_test(tc, expect_missing_is_wrong_hypervisor);
	tcase_add_test(tc, expect_only_in_command_line_does_not_count);
	tcase_add_test(tc, silence_and_timeout);
	tcase_add_test(tc, qemu_refusing_is_error_not_fail);
	tcase_add_test(tc, skip_and_error_before_start);
	tcase_add_test(tc, long_line_is_split_not_lost);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
