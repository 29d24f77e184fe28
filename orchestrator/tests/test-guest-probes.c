/*
 * Unit tests for the probes: the probe-line parser (judge/guest-probes.c),
 * what the judge makes of probe lines, the probe signature, and the cells'
 * probes setting. Console lines here are what images/payload/hvm-probe.c
 * prints; the real thing is booted by t-probes.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "compare/signature.h"
#include "judge/judge.h"
#include "lib/xmalloc.h"
#include "matrix/cell-probes.h"
#include "matrix/matrix.h"

#define N "f00dcafe12345678"

static void feed(struct judge *j, const char *s)
{
	judge_feed(j, s, strlen(s));
}

static int take(struct guest_probes *g, const char *line, double now)
{
	return guest_probes_line(g, N, line, now);
}

START_TEST(parser_keeps_results_of_this_run_only)
{
	struct guest_probes g;

	guest_probes_init(&g, 0.25);
	ck_assert_int_eq(take(&g, "HVMATRIX-PROBE nonce=" N " name=smp "
			      "result=pass seconds=0.04 detail=2 of 2 vCPUs "
			      "online", 0), 1);
	/* Another run's nonce, a prefix of ours, no nonce at all. */
	ck_assert_int_eq(take(&g, "HVMATRIX-PROBE nonce=0000 name=smp "
			      "result=fail detail=x", 0), 0);
	ck_assert_int_eq(take(&g, "HVMATRIX-PROBE nonce=f00d name=smp "
			      "result=fail detail=x", 0), 0);
	ck_assert_int_eq(take(&g, "HVMATRIX-PROBE name=smp result=fail", 0),
			 0);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(g.v[0].name, "smp");
	ck_assert_str_eq(g.v[0].result, "pass");
	ck_assert_str_eq(g.v[0].detail, "2 of 2 vCPUs online");
	ck_assert_double_eq_tol(g.v[0].seconds, 0.04, 1e-9);
	ck_assert_int_eq(g.failed, -1);
	guest_probes_release(&g);
}
END_TEST

START_TEST(parser_refuses_malformed_lines)
{
	static const char *const bad[] = {
		"HVMATRIX-PROBE nonce=" N,
		"HVMATRIX-PROBE nonce=" N " name=smp",
		"HVMATRIX-PROBE nonce=" N " name=smp result=maybe",
		"HVMATRIX-PROBE nonce=" N " name=SMP;rm result=fail",
		"HVMATRIX-PROBE nonce=" N " name= result=fail",
		"HVMATRIX-PROBE nonce=" N " name=.smp result=fail",
		"HVMATRIX-PROBE nonce=" N " name=suspend..smp result=fail",
		"HVMATRIX-PROBE nonce=" N " result=fail name=smp",
		"HVMATRIX-CLOCK nonce=" N " mark=4 guest=1.0",
		"HVMATRIX-CLOCK nonce=" N " mark=0 guest=1.0",
		"HVMATRIX-CLOCK nonce=" N " mark=1",
		"HVMATRIX-FP nonce=" N " favourite=xen",
	};
	struct guest_probes g;
	size_t i;

	guest_probes_init(&g, 0.25);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(take(&g, bad[i], 1.0) == 0, "took: %s", bad[i]);
	ck_assert_uint_eq(g.n, 0);
	ck_assert_int_eq(g.failed, -1);
	ck_assert_ptr_null(g.running);
	guest_probes_release(&g);
}
END_TEST

START_TEST(parser_caps_what_a_guest_can_make_it_keep)
{
	struct guest_probes g;
	size_t i;

	guest_probes_init(&g, 0.25);
	for (i = 0; i < 10 * GUEST_PROBES_MAX; i++)
		take(&g, "HVMATRIX-PROBE nonce=" N " name=smp result=pass "
		     "seconds=1e300 detail=again", 0);
	ck_assert_uint_eq(g.n, GUEST_PROBES_MAX);
	/* A silly duration is not kept as such. */
	ck_assert_double_eq(g.v[0].seconds, 0);
	guest_probes_release(&g);
}
END_TEST

/* The clock probe's three stamps at guest times 5, 6, 7 s, read by the
 * host at h1, h2, h3; then its result line. */
static void clock_run(struct guest_probes *g, double h1, double h2, double h3)
{
	guest_probes_init(g, 0.25);
	take(g, "HVMATRIX-PROBE nonce=" N " name=clock result=start", 0);
	take(g, "HVMATRIX-CLOCK nonce=" N " mark=1 guest=5.000", h1);
	take(g, "HVMATRIX-CLOCK nonce=" N " mark=2 guest=6.000", h2);
	take(g, "HVMATRIX-CLOCK nonce=" N " mark=3 guest=7.000", h3);
	take(g, "HVMATRIX-PROBE nonce=" N " name=clock result=pass "
	     "seconds=2.0 detail=clocksource=tsc", h3 + 0.1);
}

START_TEST(clock_compared_with_the_host)
{
	struct guest_probes g;

	/* The guest's 2 s took the host 2.1 s: within 0.5 s + 25 %. */
	clock_run(&g, 100.0, 101.05, 102.1);
	ck_assert_str_eq(g.v[0].result, "pass");
	ck_assert_ptr_nonnull(strstr(g.v[0].detail, "host span 2.100 s"));
	ck_assert_ptr_null(g.running);
	guest_probes_release(&g);

	/* A guest clock running at half speed is a failure. */
	clock_run(&g, 100.0, 102.0, 104.0);
	ck_assert_str_eq(g.v[0].result, "fail");
	ck_assert_ptr_nonnull(strstr(g.v[0].detail, "ran 2.000 s while the "
				     "host's ran 4.000 s"));
	ck_assert_int_eq(g.failed, 0);
	guest_probes_release(&g);

	/* ... and one running five times too fast (twice is within the
	 * console's slack over 2 s, as it was with two stamps). */
	clock_run(&g, 100.0, 100.2, 100.4);
	ck_assert_str_eq(g.v[0].result, "fail");
	guest_probes_release(&g);

	/* Mark 1 read 1.6 s late (a loaded host): the host's whole span is
	 * 0.4 s, but the second half agrees: the console's, not a FAIL. */
	clock_run(&g, 101.6, 101.05, 102.0);
	ck_assert_str_eq(g.v[0].result, "pass");
	guest_probes_release(&g);

	/* Mark 3 read 2 s late: the whole span is long, the first half
	 * agrees. */
	clock_run(&g, 100.0, 101.0, 104.0);
	ck_assert_str_eq(g.v[0].result, "pass");
	guest_probes_release(&g);

	/* Mark 2 read 1.5 s late: the halves stray opposite ways. */
	clock_run(&g, 100.0, 102.5, 102.0);
	ck_assert_str_eq(g.v[0].result, "pass");
	guest_probes_release(&g);

	/* A stamp missing: no comparison. */
	guest_probes_init(&g, 0.25);
	take(&g, "HVMATRIX-CLOCK nonce=" N " mark=1 guest=5.000", 100.0);
	take(&g, "HVMATRIX-CLOCK nonce=" N " mark=3 guest=7.000", 110.0);
	take(&g, "HVMATRIX-PROBE nonce=" N " name=clock result=pass "
	     "seconds=2.0 detail=ok", 110.0);
	ck_assert_str_eq(g.v[0].detail, "ok");
	guest_probes_release(&g);

	/* No host times (a replay): no comparison, the guest's word. */
	guest_probes_init(&g, 0.25);
	take(&g, "HVMATRIX-CLOCK nonce=" N " mark=1 guest=5.000", 0);
	take(&g, "HVMATRIX-CLOCK nonce=" N " mark=2 guest=6.000", 0);
	take(&g, "HVMATRIX-CLOCK nonce=" N " mark=3 guest=7.000", 0);
	take(&g, "HVMATRIX-PROBE nonce=" N " name=clock result=pass "
	     "seconds=2.0 detail=ok", 0);
	ck_assert_str_eq(g.v[0].result, "pass");
	ck_assert_str_eq(g.v[0].detail, "ok");
	guest_probes_release(&g);
}
END_TEST

START_TEST(fingerprint_as_json)
{
	struct guest_probes g;
	struct strbuf sb = STRBUF_INIT;

	guest_probes_init(&g, 0.25);
	guest_probes_fingerprint_json(&g, &sb);
	ck_assert_str_eq(sb.buf, "");
	take(&g, "HVMATRIX-FP nonce=" N " hypervisor=Xen \"PV\"", 0);
	take(&g, "HVMATRIX-FP nonce=" N " clocksource=xen", 0);
	take(&g, "HVMATRIX-FP nonce=" N " features=pv-spinlocks,,steal-time",
	     0);
	take(&g, "HVMATRIX-FP nonce=" N " cpu_flags=fpu  de tsc", 0);
	take(&g, "HVMATRIX-FP nonce=" N " boot_seconds=nan", 0);
	guest_probes_fingerprint_json(&g, &sb);
	ck_assert_str_eq(sb.buf, "{\"hypervisor\": \"Xen \\\"PV\\\"\", "
			 "\"guest_type\": null, \"clocksource\": \"xen\", "
			 "\"features\": [\"pv-spinlocks\", \"steal-time\"], "
			 "\"cpu_flags\": [\"fpu\", \"de\", \"tsc\"], "
			 "\"boot_seconds\": null}");
	strbuf_release(&sb);
	guest_probes_release(&g);
}
END_TEST

static const char *const good_run =
	"[    1.0] Run /init as init process\n"
	"hvmatrix-init: kernel=6.1 hypervisor=Xen PV\n"
	"HVMATRIX-PROBE nonce=" N " name=smp result=start\n"
	"HVMATRIX-PROBE nonce=" N " name=smp result=pass seconds=0.1 "
	"detail=2 of 2 vCPUs online\n";

START_TEST(judge_a_failed_probe_fails_the_run_at_the_marker)
{
	struct judge j;

	judge_init(&j, N, NULL, 0);
	feed(&j, good_run);
	feed(&j, "HVMATRIX-PROBE nonce=" N " name=cpu-hotplug result=start\n"
	     "HVMATRIX-PROBE nonce=" N " name=cpu-hotplug result=fail "
	     "seconds=0.2 detail=taking cpu1 back online: Input/output "
	     "error\n");
	/* The other probes still run: no verdict yet. */
	ck_assert_int_eq(j.action, JUDGE_CONTINUE);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_NONE);
	feed(&j, "HVMATRIX-OK nonce=" N "\n");
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "probe cpu-hotplug failed: taking cpu1 "
			 "back online: Input/output error");
	ck_assert_ptr_nonnull(strstr(j.line, "name=cpu-hotplug result=fail"));
	ck_assert_uint_eq(j.probes.n, 2);
	judge_release(&j);
}
END_TEST

START_TEST(judge_all_probes_pass)
{
	struct judge j;

	judge_init(&j, N, NULL, 0);
	feed(&j, good_run);
	feed(&j, "HVMATRIX-OK nonce=" N "\n");
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

START_TEST(judge_names_a_probe_that_hung)
{
	struct judge j;

	judge_init(&j, N, NULL, 0);
	feed(&j, good_run);
	feed(&j, "HVMATRIX-PROBE nonce=" N " name=cpu-hotplug result=start\n"
	     "[   12.0] rcu: INFO: rcu_sched self-detected stall\n");
	judge_silence(&j, 30);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "probe cpu-hotplug hung: the console went "
			 "silent");
	ck_assert_ptr_nonnull(strstr(j.line, "result=start"));
	judge_release(&j);

	/* A reset during the probe: the probe is named, not "before the
	 * marker". */
	judge_init(&j, N, NULL, 0);
	feed(&j, good_run);
	feed(&j, "HVMATRIX-PROBE nonce=" N " name=cpu-hotplug result=start\n");
	judge_exit(&j, 0, 0, 0);
	ck_assert_str_eq(j.reason, "probe cpu-hotplug hung: the guest powered "
			 "off or reset");
	judge_release(&j);
}
END_TEST

START_TEST(judge_a_probe_without_a_result_is_no_pass)
{
	struct judge j;

	judge_init(&j, N, NULL, 0);
	feed(&j, good_run);
	feed(&j, "HVMATRIX-PROBE nonce=" N " name=clock result=start\n"
	     "[    9.0] traps: hvm-probe[77] trap invalid opcode\n"
	     "HVMATRIX-OK nonce=" N "\n");
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_FAIL);
	ck_assert_str_eq(j.reason, "probe clock ended without a result");
	judge_release(&j);
}
END_TEST

START_TEST(judge_farm_trouble_in_a_probe_is_error)
{
	struct judge j;

	judge_init(&j, N, NULL, 0);
	feed(&j, "HVMATRIX-PROBE nonce=" N " name=warp result=error "
	     "seconds=0 detail=unknown probe warp in this payload\n");
	ck_assert_int_eq(judge_verdict(&j), VERDICT_ERROR);
	ck_assert_int_eq(j.action, JUDGE_FAILING);
	judge_release(&j);
}
END_TEST

START_TEST(judge_probe_forged_in_the_command_line_echo)
{
	struct judge j;

	judge_init(&j, N, NULL, 0);
	feed(&j, "[    0.0] Command line: console=ttyS0 hvmatrix.nonce=" N
	     " x=HVMATRIX-PROBE nonce=" N " name=smp result=fail detail=x\n"
	     "Kernel command line: HVMATRIX-PROBE nonce=" N " name=smp "
	     "result=fail detail=y\n");
	ck_assert_uint_eq(j.probes.n, 0);
	feed(&j, "HVMATRIX-OK nonce=" N "\n");
	judge_exit(&j, 0, 0, 0);
	ck_assert_int_eq(judge_verdict(&j), VERDICT_PASS);
	judge_release(&j);
}
END_TEST

START_TEST(judge_handover_taken_once)
{
	struct judge j;
	char *h;

	judge_init(&j, N, NULL, 0);
	ck_assert_ptr_null(judge_take_handover(&j));
	feed(&j, "HVMATRIX-PROBE nonce=" N " name=migrate result=ready\n");
	h = judge_take_handover(&j);
	ck_assert_str_eq(h, "migrate");
	free(h);
	ck_assert_ptr_null(judge_take_handover(&j));
	/* Another run's ready line is not ours to act on. */
	feed(&j, "HVMATRIX-PROBE nonce=1234 name=migrate result=ready\n");
	ck_assert_ptr_null(judge_take_handover(&j));
	judge_release(&j);
}
END_TEST

START_TEST(signature_of_a_probe)
{
	char *s = signature_of("HVMATRIX-PROBE nonce=abc name=cpu-hotplug "
			       "result=fail seconds=0.213 detail=taking cpu1 "
			       "back online: error 5 after 0.25 s");

	ck_assert_str_eq(s, "probe:cpu-hotplug:taking cpu? back online: "
			 "error ? after ? s");
	free(s);
	s = signature_of("HVMATRIX-PROBE nonce=def name=suspend result=ready");
	ck_assert_str_eq(s, "probe:suspend:hung");
	free(s);
}
END_TEST

static char *load_error(const char *text)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	if (!matrix_load_buf(&m, "t.yaml", text, strlen(text), &err)) {
		matrix_release(&m);
		strbuf_release(&err);
		return NULL;
	}
	return strbuf_detach(&err, NULL);
}

START_TEST(cells_choose_their_probes)
{
	static const char text[] =
		"cells:\n"
		"  - name: dflt\n"
		"  - name: none\n"
		"    probes: []\n"
		"  - name: some\n"
		"    probes: [clock, migrate]\n"
		"    migrate_to: \"10.0\"\n"
		"  - name: libxl\n"
		"    backend: xen-libxl\n"
		"    xen: \"4.17\"\n"
		"    probes: [smp, suspend]\n";
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	const char *p[CELL_PROBES_MAX];
	struct matrix m;

	ck_assert_msg(matrix_load_buf(&m, "t.yaml", text, strlen(text),
				      &err) == 0, "%s", err.buf);
	cell_probes_format(matrix_find(&m, "dflt"), &sb);
	ck_assert_str_eq(sb.buf, "smp,cpu-hotplug,clock");
	ck_assert_uint_eq(cell_probes_effective(matrix_find(&m, "none"), p),
			  0);
	ck_assert_uint_eq(cell_probes_effective(matrix_find(&m, "some"), p),
			  2);
	ck_assert_str_eq(p[1], "migrate");
	ck_assert_int_eq(cell_probes_has(matrix_find(&m, "libxl"), "suspend"),
			 1);
	/* probes: [] survives a round trip through YAML. */
	strbuf_reset(&sb);
	cell_format_yaml(matrix_find(&m, "none"), 2, &sb);
	ck_assert_ptr_nonnull(strstr(sb.buf, "probes: []"));
	matrix_release(&m);
	strbuf_release(&sb);
	strbuf_release(&err);
}
END_TEST

START_TEST(matrix_check_refuses_bad_probes)
{
	char *e;

	e = load_error("cells:\n  - name: a\n    probes: [smp, warp]\n");
	ck_assert_str_eq(e, "t.yaml:3:19: probes: unknown probe \"warp\" "
			 "(known: smp, cpu-hotplug, clock, suspend, migrate)");
	free(e);
	e = load_error("cells:\n  - name: a\n    probes: [suspend]\n");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "t.yaml:3:") && strstr(e, "suspend cannot "
		      "run in a qemu cell"), "%s", e);
	free(e);
	e = load_error("cells:\n  - name: a\n    migrate_to: \"10.0\"\n");
	ck_assert_msg(e && strstr(e, "t.yaml:3:") &&
		      strstr(e, "migrate_to: only for a cell whose probes "
			     "include migrate"), "%s", e ? e : "loaded");
	free(e);
	e = load_error("cells:\n  - name: a\n    clock_tolerance: fast\n");
	ck_assert_msg(e && strstr(e, "t.yaml:3:22: clock_tolerance:"), "%s",
		      e ? e : "loaded");
	free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("probes");
	TCase *tc = tcase_create("probes");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, parser_keeps_results_of_this_run_only);
	tcase_add_test(tc, parser_refuses_malformed_lines);
	tcase_add_test(tc, parser_caps_what_a_guest_can_make_it_keep);
	tcase_add_test(tc, clock_compared_with_the_host);
	tcase_add_test(tc, fingerprint_as_json);
	tcase_add_test(tc, judge_a_failed_probe_fails_the_run_at_the_marker);
	tcase_add_test(tc, judge_all_probes_pass);
	tcase_add_test(tc, judge_names_a_probe_that_hung);
	tcase_add_test(tc, judge_a_probe_without_a_result_is_no_pass);
	tcase_add_test(tc, judge_farm_trouble_in_a_probe_is_error);
	tcase_add_test(tc, judge_probe_forged_in_the_command_line_echo);
	tcase_add_test(tc, judge_handover_taken_once);
	tcase_add_test(tc, signature_of_a_probe);
	tcase_add_test(tc, cells_choose_their_probes);
	tcase_add_test(tc, matrix_check_refuses_bad_probes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
