/*
 * Unit tests for drift: fingerprints as the store keeps them in, changes
 * out (scalars, sets element by element, noise between runs of one
 * commit left out, missing fields and fingerprints no evidence), the side
 * of a change a run is on; and, over a real store, the drift finding
 * regressions.c makes of them, its bisection, its JSON and its webhook.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare/drift.h"
#include "compare/regressions.h"
#include "export/webhook.h"
#include "lib/json.h"
#include "store/record.h"
#include "lib/xmalloc.h"

#define FP_XEN "{\"hypervisor\": \"Xen PV\", \"guest_type\": \"dom0\", " \
	"\"clocksource\": \"xen\", \"features\": [\"pv-spinlocks\", " \
	"\"steal-time\"], \"cpu_flags\": [\"fpu\", \"sse2\", \"avx\"], " \
	"\"boot_seconds\": 4.2}"

/* The fingerprints a summary borrows from, released with it. */
static struct drift_fp kept[16];
static size_t n_kept;

static void kept_release(void)
{
	while (n_kept)
		drift_fp_release(&kept[--n_kept]);
}

/* The summary of a commit's runs, each a fingerprint's JSON. */
static void summary_of(struct drift_summary *s, const char *const *fps,
		       size_t n)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;

	drift_summary_init(s);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(n_kept, ARRAY_SIZE(kept));
		ck_assert_int_eq(drift_fp_parse(&kept[n_kept], fps[i], &err),
				 1);
		drift_summary_add(s, &kept[n_kept++]);
	}
	strbuf_release(&err);
}

/* The changes from runs `a` to runs `b`, in words. */
static char *diff_words(const char *const *a, size_t na,
			const char *const *b, size_t nb)
{
	struct drift_summary x, y;
	struct drift_changes c = { NULL, 0 };
	struct strbuf sb = STRBUF_INIT;

	summary_of(&x, a, na);
	summary_of(&y, b, nb);
	drift_diff(&x, &y, &c);
	drift_changes_words(&c, &sb);
	drift_changes_release(&c);
	drift_summary_release(&x);
	drift_summary_release(&y);
	kept_release();
	return strbuf_detach(&sb, NULL);
}

#define ASSERT_DIFF(a, b, want) do { \
	char *got_ = diff_words(a, ARRAY_SIZE(a), b, ARRAY_SIZE(b)); \
	ck_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

START_TEST(scalars_change)
{
	static const char *const before[] = { FP_XEN };
	static const char *const after[] = {
		"{\"hypervisor\": \"Xen PV\", \"guest_type\": \"dom0\", "
		"\"clocksource\": \"refined-jiffies\", \"features\": "
		"[\"steal-time\", \"pv-spinlocks\"], \"cpu_flags\": [\"avx\", "
		"\"fpu\", \"sse2\"], \"boot_seconds\": 9.9}",
	};

	/* Sets in another order and another boot time are no change. */
	ASSERT_DIFF(before, after, "clocksource: xen -> refined-jiffies");
	ASSERT_DIFF(before, before, "");
}
END_TEST

START_TEST(sets_change_element_by_element)
{
	static const char *const before[] = { FP_XEN };
	static const char *const after[] = {
		"{\"clocksource\": \"xen\", \"features\": [\"steal-time\", "
		"\"pv-tlb-flush\"], \"cpu_flags\": [\"fpu\", \"sse2\", "
		"\"avx\", \"avx\"]}",
	};

	/* A field the after side did not print (hypervisor) is unknown,
	 * not a change; a flag listed twice is one. */
	ASSERT_DIFF(before, after, "features: pv-spinlocks gone; features: "
		    "pv-tlb-flush added");
}
END_TEST

START_TEST(noise_of_one_commit_is_never_drift)
{
	static const char *const one[] = {
		"{\"clocksource\": \"xen\", \"cpu_flags\": [\"fpu\", "
		"\"avx\"]}",
	};
	/* Two runs of one commit disagree on the clocksource and on avx:
	 * neither is compared; the flag every run lost still is. */
	static const char *const noisy[] = {
		"{\"clocksource\": \"tsc\", \"cpu_flags\": [\"avx\"]}",
		"{\"clocksource\": \"hpet\", \"cpu_flags\": []}",
	};
	static const char *const steady[] = {
		"{\"clocksource\": \"tsc\", \"cpu_flags\": [\"avx\"]}",
		"{\"clocksource\": \"tsc\", \"cpu_flags\": [\"avx\"]}",
	};

	ASSERT_DIFF(one, noisy, "cpu_flags: fpu gone");
	ASSERT_DIFF(noisy, one, "cpu_flags: fpu added");
	ASSERT_DIFF(one, steady, "clocksource: xen -> tsc; cpu_flags: fpu "
		    "gone");
}
END_TEST

START_TEST(tsc_early_is_tsc)
{
	static const char *const early[] = { "{\"clocksource\": "
					     "\"tsc-early\"}" };
	static const char *const late[] = { "{\"clocksource\": \"tsc\"}" };
	char *canon = drift_fp_canonical("{\"clocksource\": \"tsc-early\", "
					 "\"boot_seconds\": 3}");

	ASSERT_DIFF(early, late, "");
	ck_assert_str_eq(canon, "{\"clocksource\":\"tsc\"}");
	free(canon);
}
END_TEST

START_TEST(missing_or_bad_fingerprints)
{
	struct strbuf err = STRBUF_INIT;
	struct drift_fp fp;
	char *canon;

	ck_assert_int_eq(drift_fp_parse(&fp, "", &err), 0);
	drift_fp_release(&fp);
	ck_assert_int_eq(drift_fp_parse(&fp, "{\"boot_seconds\": 3}", &err),
			 0);
	drift_fp_release(&fp);
	ck_assert_int_eq(drift_fp_parse(&fp, "[1]", &err), -1);
	drift_fp_release(&fp);
	ck_assert_int_eq(drift_fp_parse(&fp, "{\"clocksource\": 7}", &err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "clocksource"));
	drift_fp_release(&fp);
	ck_assert_int_eq(drift_fp_parse(&fp, "{\"features\": [1]}", &err),
			 -1);
	drift_fp_release(&fp);
	ck_assert_ptr_null(drift_fp_canonical(""));
	ck_assert_ptr_null(drift_fp_canonical("{\"clocksource\""));
	/* Canonical: sorted sets, compact, boot time left out. */
	canon = drift_fp_canonical(FP_XEN);
	ck_assert_str_eq(canon, "{\"hypervisor\":\"Xen PV\",\"guest_type\":"
			 "\"dom0\",\"clocksource\":\"xen\",\"features\":"
			 "[\"pv-spinlocks\",\"steal-time\"],\"cpu_flags\":"
			 "[\"avx\",\"fpu\",\"sse2\"]}");
	free(canon);
	strbuf_release(&err);
}
END_TEST

START_TEST(the_side_a_run_is_on)
{
	static const char *const before[] = { FP_XEN };
	static const char *const after[] = {
		"{\"clocksource\": \"tsc\", \"features\": [\"steal-time\"]}",
	};
	struct drift_summary x, y;
	struct drift_changes c = { NULL, 0 };
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT;
	struct drift_fp fp;
	static const struct {
		const char *json;
		enum drift_side want;
	} runs[] = {
		{ FP_XEN, DRIFT_BEFORE },
		{ "{\"clocksource\": \"tsc\", \"features\": []}", DRIFT_AFTER },
		{ "{\"clocksource\": \"tsc\", "
		  "\"features\": [\"pv-spinlocks\"]}", DRIFT_NEITHER },
		{ "{\"clocksource\": \"hpet\", \"features\": []}",
		  DRIFT_NEITHER },
		{ "{\"clocksource\": \"tsc\"}", DRIFT_UNKNOWN },
	};
	size_t i;

	summary_of(&x, before, 1);
	summary_of(&y, after, 1);
	drift_diff(&x, &y, &c);
	ck_assert_uint_eq(c.n, 2);
	drift_changes_key(&c, &key);
	ck_assert_str_eq(key.buf, "drift:clocksource:\"xen\">\"tsc\";"
			 "features:\"pv-spinlocks\">null");
	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		ck_assert_int_ge(drift_fp_parse(&fp, runs[i].json, &err), 0);
		ck_assert_msg(drift_side_of(&fp, &c) == runs[i].want,
			      "run %zu: side %d", i, drift_side_of(&fp, &c));
		drift_fp_release(&fp);
	}
	drift_changes_release(&c);
	drift_summary_release(&x);
	drift_summary_release(&y);
	kept_release();
	strbuf_release(&err);
	strbuf_release(&key);
}
END_TEST

/* ---- over a real store ---- */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

#define CS(x) "{\"hypervisor\": \"Xen PV\", \"clocksource\": \"" x "\"}"
#define QEMU_FP "{\"hypervisor\": \"none\", \"clocksource\": \"tsc\"}"

static void store_run(struct record *r, const char *commit,
		      const char *cell, const char *purpose, const char *fp)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };
	static unsigned seq;
	char *nonce = xstrfmt("d%u", ++seq);

	run.batch = (char *)"b";
	run.kernel_id = (char *)commit;
	run.cell = (char *)cell;
	run.verdict = VERDICT_PASS;
	run.started_at = seq;
	run.nonce = nonce;
	run.tree = (char *)"t";
	run.commit_id = (char *)commit;
	run.build = (char *)"b";
	run.purpose = (char *)purpose;
	run.fingerprint = (char *)fp;
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	free(nonce);
	strbuf_release(&err);
}

#define K1 "1111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222"
#define K3 "3333333333333333333333333333333333333333"
#define K4 "4444444444444444444444444444444444444444"

static const struct regression *find_cell(const struct regressions *rs,
					  const char *cell)
{
	size_t i, k;

	for (i = 0; i < rs->n; i++)
		for (k = 0; k < rs->v[i].n_cells; k++)
			if (!strcmp(rs->v[i].cells[k], cell))
				return &rs->v[i];
	return NULL;
}

/* The runs the computation wants, recorded as the daemon would. */
static size_t run_wants(struct record *r, const struct regressions *rs)
{
	size_t i;
	unsigned k, have;

	for (i = 0; i < rs->n_wants; i++) {
		const struct regression_want *w = &rs->wants[i];
		const char *fp = !strcmp(w->cell, "qemu") ? QEMU_FP :
				 !strcmp(w->commit, K1) ||
				 !strcmp(w->commit, K2) ? CS("xen") :
				 CS("refined-jiffies");

		/* The test knows each commit's runs: count them again. */
		have = 0;
		{
			struct strbuf err = STRBUF_INIT;
			struct record_run *runs;
			size_t n, j;

			ck_assert_int_eq(record_list_commit_runs(r, "t",
								 w->commit,
								 &runs, &n,
								 &err), 0);
			for (j = 0; j < n; j++)
				have += !strcmp(runs[j].cell, w->cell);
			record_runs_free(runs, n);
			strbuf_release(&err);
		}
		for (k = have; k < w->runs; k++)
			store_run(r, w->commit, w->cell, w->purpose, fp);
	}
	return rs->n_wants;
}

/*
 * K1 (xen), K2, K3 (the culprit), K4 tested: the Xen cell's clocksource
 * goes xen -> refined-jiffies between K1 and K4, K2 and K3 untested; the
 * QEMU cell never changes, and a noisy cell changes only by noise. The
 * drift is found, bisected to K3 by the runs it asks for, and reported
 * with its changes; nothing else is.
 */
START_TEST(a_drift_is_found_and_bisected)
{
	char dir[] = "/tmp/test-drift-XXXXXX";
	struct record_commit c[4] = {
		{ (char *)K1, (char *)"one", (char *)"A", 1, (char *)"" },
		{ (char *)K2, (char *)"two", (char *)"A", 2, (char *)K1 },
		{ (char *)K3, (char *)"clocksource", (char *)"A", 3,
		  (char *)K2 },
		{ (char *)K4, (char *)"four", (char *)"A", 4, (char *)K3 },
	};
	char *builds[] = { (char *)"b" };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct regressions rs;
	const struct regression *g;
	struct json js;
	struct json_value v;
	const struct json_value *ch;
	struct matrix_webhook hooks[2];
	struct record_outbox_event *ev = NULL;
	size_t n_ev = 0;
	struct record *r;
	char *state;
	int rounds = 0;

	memset(hooks, 0, sizeof(hooks));
	hooks[0].url = (char *)"http://127.0.0.1:1/a";
	hooks[0].events = MATRIX_EVENTS_ALL;
	hooks[1].url = (char *)"http://127.0.0.1:1/b";
	hooks[1].events = MATRIX_EVENT_REGRESSION | MATRIX_EVENT_FLAKY;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	state = xstrfmt("%s/state", dir);
	ck_assert_int_eq(record_open(&r, state, &err), 0);
	ck_assert_int_eq(record_queue_add(r, "t", c, 4, builds, 1, 1, 0,
					  RECORD_ENQUEUE_NO_JOBS, NULL, &err),
			 0);
	store_run(r, K1, "xen", "test", CS("xen"));
	store_run(r, K1, "qemu", "test", QEMU_FP);
	store_run(r, K1, "noisy", "test", CS("tsc"));
	store_run(r, K4, "xen", "test", CS("refined-jiffies"));
	store_run(r, K4, "qemu", "test", QEMU_FP);
	store_run(r, K4, "noisy", "test", CS("hpet"));
	store_run(r, K4, "noisy", "test", CS("tsc"));
	/* A run without a fingerprint is no evidence either way. */
	store_run(r, K4, "qemu", "test", "");

	ck_assert_int_eq(regressions_compute(r, NULL, &rs, &err), 0);
	g = find_cell(&rs, "xen");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->status, REGRESSION_DRIFT);
	ck_assert_int_eq(g->bisecting, 1);
	ck_assert_ptr_null(find_cell(&rs, "qemu"));
	ck_assert_ptr_null(find_cell(&rs, "noisy"));
	ck_assert_uint_gt(rs.n_wants, 0);
	/* Not announced before its culprit is named. */
	webhook_event_derive(&rs, hooks, 2, 1e9, &ev, &n_ev);
	ck_assert_uint_eq(n_ev, 0);
	/* The daemon's loop: run what is wanted until nothing is. */
	while (run_wants(r, &rs) && rounds++ < 20) {
		regressions_release(&rs);
		ck_assert_int_eq(regressions_compute(r, NULL, &rs, &err), 0);
	}
	ck_assert_uint_eq(rs.n_wants, 0);
	ck_assert_uint_eq(rs.n, 1);
	g = &rs.v[0];
	ck_assert_int_eq(g->status, REGRESSION_DRIFT);
	ck_assert_int_eq(g->bisecting, 0);
	ck_assert_str_eq(g->cells[0], "xen");
	ck_assert_str_eq(g->first_bad.commit, K3);
	ck_assert_str_eq(g->last_good.commit, K2);
	ck_assert_str_eq(g->line, "clocksource: xen -> refined-jiffies");
	ck_assert_uint_eq(g->fail, g->total);
	ck_assert_uint_ge(g->total, 3);
	ck_assert_uint_ge(g->boots, 6);

	json_init(&js, &out);
	regression_to_json(g, &js);
	ck_assert_int_eq(json_parse(&v, out.buf, out.len, &err), 0);
	ck_assert_str_eq(json_get_str(&v, "status"), "drift");
	ch = json_get(&v, "changes");
	ck_assert_ptr_nonnull(ch);
	ck_assert_uint_eq(ch->n, 1);
	ck_assert_str_eq(json_get_str(&ch->items[0], "field"), "clocksource");
	ck_assert_str_eq(json_get_str(&ch->items[0], "before"), "xen");
	ck_assert_str_eq(json_get_str(&ch->items[0], "after"),
			 "refined-jiffies");
	json_value_release(&v);

	/* Once bisected: the event "drift", to the endpoints that want it,
	 * with the changes in its body. */
	webhook_event_derive(&rs, hooks, 2, 1e9, &ev, &n_ev);
	ck_assert_uint_eq(n_ev, 1);
	ck_assert_str_eq(ev[0].event, "drift");
	ck_assert_str_eq(ev[0].url, "http://127.0.0.1:1/a");
	ck_assert_str_eq(ev[0].cell, "xen");
	ck_assert_str_eq(ev[0].first_bad, K3);
	ck_assert_int_eq(json_parse(&v, ev[0].body, strlen(ev[0].body), &err),
			 0);
	ck_assert_str_eq(json_get_str(&v, "status"), "drift");
	ch = json_get(&v, "changes");
	ck_assert_ptr_nonnull(ch);
	ck_assert_uint_eq(ch->n, 1);
	ck_assert_str_eq(json_get_str(&ch->items[0], "after"),
			 "refined-jiffies");
	json_value_release(&v);
	webhook_event_derived_free(ev, n_ev);

	regressions_release(&rs);
	record_close(r);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(state);
	strbuf_release(&err);
	strbuf_release(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("drift");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, scalars_change);
	tcase_add_test(tc, sets_change_element_by_element);
	tcase_add_test(tc, noise_of_one_commit_is_never_drift);
	tcase_add_test(tc, tsc_early_is_tsc);
	tcase_add_test(tc, missing_or_bad_fingerprints);
	tcase_add_test(tc, the_side_a_run_is_on);
	tcase_add_test(tc, a_drift_is_found_and_bisected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
