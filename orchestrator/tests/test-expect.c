/*
 * Unit tests for expectations checked from facts (judge/expect.c), an
 * image a hypervisor cannot load and QEMU's reset log (judge/early.c),
 * through the judge: console text as 5.10 and 6.1 kernels print it in.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"

static const char *pvh_facts[] = { "hypervisor=xen", "guest_type=PVH" };
static const char *pvh_words[] = { "Booting kernel on Xen PVH" };
static const char *none_fact[] = { "hypervisor=none" };

static void feed_str(struct judge *j, const char *s)
{
	judge_feed(j, s, strlen(s));
}

/* 6.1 as PVH dom0: the payload's facts and 6.1's banner. */
static const char boot_61[] =
	"[    0.000000] Hypervisor detected: Xen HVM\n"
	"[    0.000000] Booting kernel on Xen PVH\n"
	"hvmatrix-init: kernel=6.1.0-57-amd64 hypervisor=Xen HVM\n"
	"HVMATRIX-FACT nonce=n1 hypervisor=xen cpuid=XenVMMXenVMM "
	"sys_type=xen guest_type=PVH guest_type_from=sysfs\n"
	"HVMATRIX-OK nonce=n1\n";

/* 5.10 as PVH dom0: its banner is worded differently, and its payload
 * here printed no fact line (an older payload, or hvm-probe absent). */
static const char boot_510[] =
	"[    0.000000] Hypervisor detected: Xen HVM\n"
	"hvmatrix-init: kernel=5.10.0-46-amd64 hypervisor=Xen HVM\n"
	"hvmatrix-init: kernel said: [    0.000000] Booting paravirtualized "
	"kernel on Xen PVH\n"
	"HVMATRIX-OK nonce=n1\n";

static enum verdict judge_text(const char **expect, size_t n,
			       const char *text, struct judge *j)
{
	judge_init(j, "n1", (char *const *)expect, n);
	feed_str(j, text);
	judge_exit(j, 0, 0, 0);
	return judge_verdict(j);
}

START_TEST(pvh_facts_hold_for_61_and_510)
{
	struct judge j;

	ck_assert_int_eq(judge_text(pvh_facts, 2, boot_61, &j), VERDICT_PASS);
	judge_release(&j);
	ck_assert_int_eq(judge_text(pvh_facts, 2, boot_510, &j),
			 VERDICT_PASS);
	judge_release(&j);
	/* A user's matrix with 6.1's words: 5.10 is not blamed for its. */
	ck_assert_int_eq(judge_text(pvh_words, 1, boot_510, &j),
			 VERDICT_PASS);
	judge_release(&j);
	ck_assert_int_eq(judge_text(pvh_words, 1, boot_61, &j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

START_TEST(facts_that_differ_fail_on_the_fact_line)
{
	struct judge j;
	static const char pv[] =
		"hvmatrix-init: kernel=6.1 hypervisor=Xen PV\n"
		"HVMATRIX-FACT nonce=n1 hypervisor=xen cpuid=- sys_type=xen "
		"guest_type=PV guest_type_from=sysfs\n"
		"HVMATRIX-OK nonce=n1\n";

	ck_assert_int_eq(judge_text(pvh_facts, 2, pv, &j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "guest_type=PV"));
	ck_assert_ptr_nonnull(strstr(j.line, "HVMATRIX-FACT"));
	judge_release(&j);
	/* The old wording form is judged by the same facts. */
	ck_assert_int_eq(judge_text(pvh_words, 1, pv, &j), VERDICT_FAIL);
	judge_release(&j);
}
END_TEST

START_TEST(fact_line_of_another_run_is_not_ours)
{
	struct judge j;

	ck_assert_int_eq(judge_text(pvh_facts, 2,
		"HVMATRIX-FACT nonce=n12 hypervisor=xen cpuid=- sys_type=xen "
		"guest_type=PVH guest_type_from=sysfs\n"
		"HVMATRIX-OK nonce=n1\n", &j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "neither"));
	judge_release(&j);
}
END_TEST

START_TEST(hypervisor_none_from_facts_and_detection)
{
	struct judge j;

	/* QEMU's TCG signature is no paravirt interface. */
	ck_assert_int_eq(judge_text(none_fact, 1,
		"hvmatrix-init: kernel=6.1 hypervisor=none\n"
		"HVMATRIX-FACT nonce=n1 hypervisor=tcg cpuid=TCGTCGTCGTCG "
		"sys_type=- guest_type=- guest_type_from=-\n"
		"HVMATRIX-OK nonce=n1\n", &j), VERDICT_PASS);
	judge_release(&j);
	/* The kernel misdetecting one on a plain cell is caught. */
	ck_assert_int_eq(judge_text(none_fact, 1,
		"hvmatrix-init: kernel=6.1 hypervisor=KVM\n"
		"HVMATRIX-FACT nonce=n1 hypervisor=none cpuid=- sys_type=- "
		"guest_type=- guest_type_from=-\n"
		"HVMATRIX-OK nonce=n1\n", &j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, "detected KVM"));
	judge_release(&j);
	/* Payload unsure (no iopl for the VMware backdoor): the kernel's
	 * detection decides. */
	{
		static const char *vmw[] = { "hypervisor=vmware" };

		ck_assert_int_eq(judge_text(vmw, 1,
			"hvmatrix-init: kernel=6.1 hypervisor=VMware\n"
			"HVMATRIX-FACT nonce=n1 hypervisor=unknown cpuid=- "
			"sys_type=- guest_type=- guest_type_from=-\n"
			"HVMATRIX-OK nonce=n1\n", &j), VERDICT_PASS);
		judge_release(&j);
	}
}
END_TEST

START_TEST(fact_vocabulary)
{
	const char *bad;

	ck_assert_int_eq(expect_is_fact("hypervisor=xen", &bad), 1);
	ck_assert_ptr_null(bad);
	ck_assert_int_eq(expect_is_fact("guest_type=pvh", &bad), 1);
	ck_assert_ptr_null(bad);
	ck_assert_int_eq(expect_is_fact("hypervisor=qemu", &bad), 1);
	ck_assert_ptr_nonnull(bad);
	ck_assert_int_eq(expect_is_fact("Booting kernel on Xen", &bad), 0);
}
END_TEST

/* Xen 4.14 as the builder of a 6.12 dom0 (the words). */
START_TEST(unloadable_dom0)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "(XEN) *** Building a PV Dom0 ***\n"
		 "(XEN) ELF: not an ELF binary\n"
		 "(XEN) \n(XEN) ****************************************\n"
		 "(XEN) Panic on CPU 0:\n"
		 "(XEN) Could not construct domain 0\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, JUDGE_IMAGE_UNLOADABLE));
	ck_assert_str_eq(j.line, "(XEN) ELF: not an ELF binary");
	judge_release(&j);

	/* The words in the kernel's own lines are not the hypervisor's. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "[    1.0] x: ELF: not an ELF binary\n"
		 "[    1.1] Kernel panic - not syncing: x\n");
	ck_assert_str_eq(j.reason, "kernel panic");
	judge_release(&j);

	/* A panic with no such word before it stays a Xen panic. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "(XEN) Panic on CPU 0:\n");
	ck_assert_str_eq(j.reason, "Xen panic");
	judge_release(&j);
}
END_TEST

/* The same cause through libxl: a new agent's fate and an old one's. */
START_TEST(unloadable_libxl_one_finding)
{
	static const char *ends[] = {
		"hvmatrix-agent: end job=g fate=unloadable seconds=0.2 "
		"detail=xc_dom_probe_bzimage_kernel: unknown compression "
		"format\n",
		"hvmatrix-agent: end job=g fate=error seconds=0.2 "
		"detail=domain creation failed: xc_dom_probe_bzimage_kernel: "
		"unknown compression format\n",
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		struct judge j;

		judge_init(&j, "n1", NULL, 0);
		judge_set_guest(&j, "g");
		feed_str(&j, "hvmatrix-agent: begin job=g type=pvh\n");
		feed_str(&j, ends[i]);
		ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
		ck_assert_ptr_eq(strstr(j.reason, JUDGE_IMAGE_UNLOADABLE),
				 j.reason);
		ck_assert_ptr_nonnull(strstr(j.line, "unknown compression"));
		judge_release(&j);
	}
}
END_TEST

START_TEST(unloadable_qemu_and_missing_file)
{
	struct judge j;
	static const char said[] =
		"qemu-system-x86_64: linux kernel too old to load a ram disk\n";
	static const char missing[] =
		"qemu-system-x86_64: could not open kernel file 'x': No such "
		"file or directory\n";

	judge_init(&j, "n1", NULL, 0);
	judge_feed_stderr(&j, said, strlen(said));
	judge_exit(&j, 1, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.reason, JUDGE_IMAGE_UNLOADABLE));
	ck_assert_ptr_nonnull(strstr(j.line, "too old to load a ram disk"));
	judge_release(&j);
	/* A missing file is the farm's. */
	judge_init(&j, "n1", NULL, 0);
	judge_feed_stderr(&j, missing, strlen(missing));
	judge_exit(&j, 1, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	judge_release(&j);
}
END_TEST

/* QEMU 7.2's -d cpu_reset words: two power-on resets, then a guest's. */
static const char reset_log[] =
	"CPU Reset (CPU 0)\n"
	"EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000000\n"
	"EIP=00000000 EFL=00000000 [-------] CPL=0 II=0 A20=0 SMM=0 HLT=0\n"
	"CR0=00000000 CR2=00000000 CR3=00000000 CR4=00000000\n"
	"CPU Reset (CPU 0)\n"
	"EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
	"CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000\n"
	"CPU Reset (CPU 1)\n"
	"EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
	"Triple fault\n"
	"CPU Reset (CPU 0)\n"
	"RAX=0000000000000000 RBX=ffffffff82a03e80\n"
	"RIP=ffffffff81e4a2b1 RFL=00010046 [---Z-P-] CPL=0 II=0 A20=1\n"
	"CR0=80050033 CR2=ffffffffff5fc000 CR3=0000000002a0e000 "
	"CR4=000006b0\n";

START_TEST(reset_log_first_guest_reset)
{
	char *line = early_reset_line(reset_log);
	struct judge j;

	ck_assert_str_eq(line, "CPU 0 reset after a triple fault: "
			 "RIP=ffffffff81e4a2b1 RFL=00010046 CPL=0 "
			 "CR0=80050033 CR2=ffffffffff5fc000 "
			 "CR3=0000000002a0e000 CR4=000006b0");
	free(line);
	/* Power-on resets only: nothing to say. */
	ck_assert_ptr_null(early_reset_line("CPU Reset (CPU 0)\n"
		"EIP=0000fff0 EFL=00000002 [-------] CPL=0 A20=1\n"));
	/* With -no-reboot QEMU stops before the reset: its word only. */
	line = early_reset_line("CPU Reset (CPU 0)\nEIP=0000fff0 A20=1\n"
				"Triple fault\n");
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_eq(strstr(line, "Triple fault"), line);
	free(line);

	/* A guest that printed nothing: the reset's state decides. */
	judge_init(&j, "n1", NULL, 0);
	judge_reset_log(&j, reset_log);
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_ptr_nonnull(strstr(j.line, "RIP=ffffffff81e4a2b1"));
	judge_release(&j);
	/* One that printed: its last line, as before. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "[    0.5] Probing EDD\n");
	judge_reset_log(&j, reset_log);
	judge_exit(&j, 0, 0, 0);
	ck_assert_str_eq(j.line, "[    0.5] Probing EDD");
	judge_release(&j);
}
END_TEST

/* A plain cell lets the reset happen: the watch hands the log over. */
START_TEST(guest_reset_while_running)
{
	struct judge j;

	judge_init(&j, "n1", NULL, 0);
	/* QEMU's power-on resets decide nothing. */
	ck_assert_int_eq(judge_guest_reset(&j, "CPU Reset (CPU 0)\n"
		"EIP=0000fff0 EFL=00000002 [-------] CPL=0 A20=1\n"), 0);
	ck_assert_int_eq(judge_guest_reset(&j, reset_log), 1);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_ptr_eq(strstr(j.line, "CPU 0 reset after a triple fault"),
			 j.line);
	ck_assert_ptr_nonnull(strstr(j.reason, "printed nothing"));
	judge_release(&j);

	/* The firmware's words (QEMU 7.2's, as captured) are not the
	 * kernel's: the CPU's state still decides. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-"
		 "1.16.2-1)\n\n\niPXE (http://ipxe.org) 00:03.0 CA00 PCI2.10 "
		 "PnP PMM+0EFCF000+0EF0F000 CA00\n"
		 "Press Ctrl-B to configure iPXE (PCI 00:03.0)...\n"
		 "Booting from ROM..\n");
	ck_assert_int_eq(judge_guest_reset(&j, reset_log), 1);
	ck_assert_ptr_eq(strstr(j.line, "CPU 0 reset after a triple fault"),
			 j.line);
	judge_release(&j);

	/* A kernel that printed: its last line decides (the signature),
	 * the CPU's state goes in the reason. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "[    0.5] Probing EDD (edd=off to disable)... ok\n");
	ck_assert_int_eq(judge_guest_reset(&j, reset_log), 1);
	ck_assert_str_eq(j.line, "[    0.5] Probing EDD (edd=off to disable)"
			 "... ok");
	ck_assert_ptr_nonnull(strstr(j.reason, "RIP=ffffffff81e4a2b1"));
	judge_release(&j);

	/* After the marker a reset is the guest's way out: PASS. */
	judge_init(&j, "n1", NULL, 0);
	feed_str(&j, "HVMATRIX-OK nonce=n1\n");
	ck_assert_int_eq(judge_guest_reset(&j, reset_log), 1);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("expect");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, pvh_facts_hold_for_61_and_510);
	tcase_add_test(tc, facts_that_differ_fail_on_the_fact_line);
	tcase_add_test(tc, fact_line_of_another_run_is_not_ours);
	tcase_add_test(tc, hypervisor_none_from_facts_and_detection);
	tcase_add_test(tc, fact_vocabulary);
	tcase_add_test(tc, unloadable_dom0);
	tcase_add_test(tc, unloadable_libxl_one_finding);
	tcase_add_test(tc, unloadable_qemu_and_missing_file);
	tcase_add_test(tc, reset_log_first_guest_reset);
	tcase_add_test(tc, guest_reset_while_running);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
