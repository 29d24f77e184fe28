/*
 * Unit tests for signatures and the comparison rules: decisive console
 * lines as the judge records them (real captures' shapes: printk
 * timestamps, Xen prefixes, oops headers) in, signatures out; recorded
 * verdict histories of one cell in, a class per commit out; and, over a
 * real store, the findings regressions.c makes of them and the class each
 * run shows.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare/compare.h"
#include "compare/regressions.h"
#include "compare/signature.h"
#include "store/record.h"
#include "lib/xmalloc.h"

static void assert_sig(const char *line, const char *want)
{
	char *s = signature_of(line);

	ck_assert_str_eq(s, want);
	free(s);
}

static void assert_same_sig(const char *a, const char *b)
{
	char *sa = signature_of(a), *sb = signature_of(b);

	ck_assert_str_eq(sa, sb);
	free(sa);
	free(sb);
}

static void assert_other_sig(const char *a, const char *b)
{
	char *sa = signature_of(a), *sb = signature_of(b);

	ck_assert_str_ne(sa, sb);
	free(sa);
	free(sb);
}

START_TEST(signature_keeps_the_words)
{
	assert_sig("[    0.532000] Kernel panic - not syncing: vmware: "
		   "hypercall page lost",
		   "Kernel panic - not syncing: vmware: hypercall page lost");
	assert_sig("Kernel panic - not syncing: vmware: hypercall page lost",
		   "Kernel panic - not syncing: vmware: hypercall page lost");
	assert_sig("Unable to boot - please use a kernel appropriate for "
		   "your CPU.",
		   "Unable to boot - please use a kernel appropriate for "
		   "your CPU");
	assert_sig("(XEN) Hardware Dom0 crashed: rebooting machine in 5 "
		   "seconds.",
		   "Hardware Dom0 crashed: rebooting machine in 5 seconds");
	/* How far a line had got when the console stopped is not the bug. */
	assert_same_sig("Booting from ROM..", "Booting from ROM...");
	/* Short hex-looking words and a segment selector are words. */
	assert_sig("[    0.812345] RIP: 0010:native_write_msr+0x4/0x20",
		   "RIP: 0010:native_write_msr+?/?");
	assert_sig("", "");
	assert_sig(NULL, "");
	assert_sig("   \t ", "");
	assert_sig("[    2.006434] Kernel  panic -\tnot syncing:  x \r",
		   "Kernel panic - not syncing: x");
}
END_TEST

START_TEST(signature_masks_what_varies)
{
	assert_sig("[    1.234567] BUG: unable to handle page fault for "
		   "address: ffffffffc0000000",
		   "BUG: unable to handle page fault for address: ?");
	assert_same_sig("[    1.234567] BUG: unable to handle page fault for "
			"address: ffffffffc0000000",
			"[   12.000001] BUG: unable to handle page fault for "
			"address: ffffffffc0a01000");
	assert_same_sig("[    0.812345] RIP: 0010:native_write_msr+0x4/0x20",
			"[    0.900000] RIP: 0010:native_write_msr+0x8/0x30");
	assert_same_sig("[    0.000000] CPU: 0 PID: 1 Comm: swapper/0 Not "
			"tainted 6.1.0-rc1-00012-gabcdef123 #3",
			"[    3.100000] CPU: 1 PID: 57 Comm: swapper/1 "
			"Tainted: G        W          6.1.0-rc1-00013-g1234567 "
			"#4");
	assert_sig("CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1",
		   "CPU: ? PID: ? Comm: swapper/?");
	assert_same_sig("segfault in init pid: 123", "segfault in init pid: 9");
	assert_sig("traps: init[1] general protection fault ip:4011d6 "
		   "sp:7ffd2b1c0000 error:0 in init[401000+93000]",
		   "traps: init[?] general protection fault ip:? sp:? "
		   "error:0 in init[?+?]");
	assert_same_sig("(XEN) [2026-12-01 21:13:00.123] Hardware Dom0 "
			"crashed: rebooting machine in 5 seconds.",
			"(XEN) Hardware Dom0 crashed: rebooting machine in 5 "
			"seconds.");
	assert_same_sig("(XEN) Panic on CPU 0:", "(XEN) Panic on CPU 3:");
	assert_same_sig("(XEN) (d0v0) [    0.400000] Kernel panic - not "
			"syncing: x", "(d0v1) Kernel panic - not syncing: x");
	assert_same_sig("[    0.3][    T1] Oops: 0000 [#1] PREEMPT SMP",
			"[    0.4][    T1] Oops: 0000 [#2] PREEMPT SMP");
	assert_same_sig("HVMATRIX-OK nonce=abc123",
			"HVMATRIX-OK nonce=ffff-0000");
	assert_same_sig("Call Trace: <ffffffff81234567>",
			"Call Trace: <ffffffff8123aaaa>");
	assert_same_sig("Kernel panic - not syncing: VFS: Unable to mount "
			"root fs on unknown-block(0,0)",
			"Kernel panic - not syncing: VFS: Unable to mount "
			"root fs on unknown-block(8,1)");
	assert_same_sig("BUG: kernel NULL pointer dereference, address: "
			"0000000000000008",
			"BUG: kernel NULL pointer dereference, address: "
			"0000000000000010");
}
END_TEST

START_TEST(signature_tells_failures_apart)
{
	assert_other_sig("[    0.532000] Kernel panic - not syncing: vmware: "
			 "hypercall page lost",
			 "[    0.532000] Kernel panic - not syncing: VFS: "
			 "Unable to mount root fs on unknown-block(0,0)");
	assert_other_sig("RIP: 0010:native_write_msr+0x4/0x20",
			 "RIP: 0010:native_read_msr+0x4/0x20");
	assert_other_sig("BUG: unable to handle page fault for address: "
			 "ffffffffc0000000",
			 "BUG: kernel NULL pointer dereference, address: "
			 "0000000000000008");
	assert_other_sig("(XEN) Hardware Dom0 crashed: rebooting machine in "
			 "5 seconds.",
			 "(XEN) Hardware Dom0 halted: halting machine");
	assert_other_sig("Unable to boot - please use a kernel appropriate "
			 "for your CPU.", "");
	/* The seconds of Xen's reboot delay are not in brackets: kept. */
	assert_other_sig("(XEN) Hardware Dom0 crashed: rebooting machine in "
			 "5 seconds.",
			 "(XEN) Hardware Dom0 crashed: rebooting machine in "
			 "10 seconds.");
}
END_TEST

/*
 * A history: one commit per entry, runs as letters (P PASS, F FAIL with
 * the entry's signature, G FAIL with signature "other", E ERROR, S SKIP,
 * B BLOCKED), parent -2 meaning the entry before.
 */
struct hist {
	const char *runs;
	const char *sig;
	int parent;
};

#define LIN(r, s) { r, s, -2 }

struct fixture {
	struct compare_commit *commits;
	struct compare_run *runs;
	char **ids;
	struct compare_input in;
	struct compare_result res;
};

static void build(struct fixture *f, const struct hist *h, size_t n,
		  unsigned confirm)
{
	size_t i, k, nr = 0, total = 0;

	for (i = 0; i < n; i++)
		total += strlen(h[i].runs);
	f->commits = xcalloc(n, sizeof(*f->commits));
	f->runs = xcalloc(total + 1, sizeof(*f->runs));
	f->ids = xcalloc(n, sizeof(*f->ids));
	for (i = 0; i < n; i++) {
		struct compare_commit *c = &f->commits[i];

		f->ids[i] = xstrfmt("c%zu", i);
		c->id = f->ids[i];
		c->parent = h[i].parent == -2 ? (int)i - 1 : h[i].parent;
		c->runs = &f->runs[nr];
		for (k = 0; h[i].runs[k]; k++) {
			struct compare_run *r = &f->runs[nr++];

			switch (h[i].runs[k]) {
			case 'P':
				r->verdict = VERDICT_PASS;
				break;
			case 'F':
				r->verdict = VERDICT_FAIL;
				r->signature = h[i].sig;
				break;
			case 'G':
				r->verdict = VERDICT_FAIL;
				r->signature = "other";
				break;
			case 'E':
				r->verdict = VERDICT_ERROR;
				break;
			case 'S':
				r->verdict = VERDICT_SKIP;
				break;
			case 'B':
				r->verdict = VERDICT_BLOCKED;
				break;
			default:
				r->verdict = VERDICT_NONE;
			}
			c->n_runs++;
		}
	}
	f->in.commits = f->commits;
	f->in.n_commits = n;
	f->in.confirm = confirm;
}

static void run(struct fixture *f, const struct hist *h, size_t n,
		unsigned confirm)
{
	struct strbuf err = STRBUF_INIT;

	build(f, h, n, confirm);
	ck_assert_msg(!compare_cell(&f->in, &f->res, &err), "%s", err.buf);
	ck_assert_uint_eq(f->res.n, n);
	strbuf_release(&err);
}

static void done(struct fixture *f)
{
	size_t i;

	compare_result_release(&f->res);
	for (i = 0; i < f->in.n_commits; i++)
		free(f->ids[i]);
	free(f->ids);
	free(f->commits);
	free(f->runs);
}

static void assert_classes(const struct fixture *f, const char *const *want)
{
	size_t i;

	for (i = 0; i < f->res.n; i++)
		ck_assert_msg(!strcmp(compare_class_name(
					f->res.entries[i].class), want[i]),
			      "commit %zu: %s, expected %s", i,
			      compare_class_name(f->res.entries[i].class),
			      want[i]);
}

static void assert_range(const struct compare_entry *e, const size_t *want,
			 size_t n)
{
	size_t i;

	ck_assert_uint_eq(e->n_range, n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(e->range[i], want[i]);
}

START_TEST(linear_regression_still_failing_fixed)
{
	static const struct hist h[] = {
		LIN("P", NULL), LIN("P", NULL), LIN("FFF", "panic A"),
		LIN("FFF", "panic A"), LIN("PPP", NULL),
	};
	static const char *const want[] = {
		"pass", "pass", "regression", "still-failing", "fixed",
	};
	static const size_t range[] = { 1, 2 };
	struct fixture f;
	unsigned runs;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	ck_assert_int_eq(f.res.entries[2].first_bad, 2);
	ck_assert_int_eq(f.res.entries[2].last_good, 1);
	ck_assert_str_eq(f.res.entries[2].signature, "panic A");
	assert_range(&f.res.entries[2], range, 2);
	ck_assert_int_eq(f.res.entries[3].first_bad, 2);
	ck_assert_int_eq(f.res.entries[3].last_good, 1);
	ck_assert_int_eq(f.res.entries[3].signature_changed, 0);
	ck_assert_uint_eq(f.res.entries[3].n_range, 0);
	ck_assert_int_eq(f.res.entries[4].first_bad, 2);
	ck_assert_str_eq(f.res.entries[4].signature, "panic A");
	ck_assert_int_eq(compare_fixed_by(&f.res, 2), 4);
	ck_assert_int_eq(compare_fixed_by(&f.res, 1), -1);
	/* Even a range of two goes to the bisector: it confirms. */
	ck_assert_int_eq(compare_decide(&f.res, 2, &runs), COMPARE_BISECT);
	ck_assert_int_eq(compare_decide(&f.res, 3, &runs), COMPARE_NOTHING);
	done(&f);
}
END_TEST

START_TEST(a_new_fail_needs_confirmation)
{
	static const struct hist h[] = {
		LIN("P", NULL), LIN("F", "panic A"),
	};
	static const struct hist h2[] = {
		LIN("P", NULL), LIN("FF", "panic A"),
	};
	static const char *const unconfirmed[] = { "pass", "unconfirmed" };
	static const char *const regression[] = { "pass", "regression" };
	struct fixture f;
	unsigned runs;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, unconfirmed);
	ck_assert_uint_eq(f.res.entries[1].need, 2);
	ck_assert_int_eq(compare_decide(&f.res, 1, &runs), COMPARE_CONFIRM);
	ck_assert_uint_eq(runs, 2);
	/* Its range is known already, for a bisection after confirming. */
	ck_assert_uint_eq(f.res.entries[1].n_range, 2);
	done(&f);

	run(&f, h2, ARRAY_SIZE(h2), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, unconfirmed);
	ck_assert_uint_eq(f.res.entries[1].need, 1);
	done(&f);
	run(&f, h2, ARRAY_SIZE(h2), 1);
	assert_classes(&f, regression);
	done(&f);
	/* confirm: 0 takes one FAIL as a regression. */
	run(&f, h, ARRAY_SIZE(h), 0);
	assert_classes(&f, regression);
	done(&f);
}
END_TEST

START_TEST(never_passed_is_not_a_regression)
{
	static const struct hist h[] = {
		LIN("FFF", "panic A"), LIN("", NULL), LIN("FFF", "panic A"),
		LIN("P", NULL), LIN("FFF", "panic A"),
	};
	static const char *const want[] = {
		"never-passed", "untested", "never-passed", "fixed",
		"regression",
	};
	struct fixture f;
	unsigned runs;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	ck_assert_int_eq(f.res.entries[2].first_bad, 0);
	ck_assert_int_eq(f.res.entries[3].first_bad, 0);
	ck_assert_int_eq(compare_decide(&f.res, 0, &runs), COMPARE_NOTHING);
	ck_assert_int_eq(compare_decide(&f.res, 2, &runs), COMPARE_NOTHING);
	ck_assert_int_eq(f.res.entries[4].last_good, 3);
	done(&f);
}
END_TEST

START_TEST(tips_leave_a_range_to_bisect)
{
	/* test: tips: only the pushes' tips ran; one commit did not build. */
	static const struct hist h[] = {
		LIN("P", NULL), LIN("", NULL), LIN("", NULL), LIN("B", NULL),
		LIN("E", NULL), LIN("S", NULL), LIN("FFF", "panic A"),
	};
	static const char *const want[] = {
		"pass", "untested", "untested", "blocked", "infra", "skip",
		"regression",
	};
	static const size_t range[] = { 0, 1, 2, 3, 4, 5, 6 };
	struct fixture f;
	unsigned runs;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	ck_assert_int_eq(f.res.entries[6].last_good, 0);
	assert_range(&f.res.entries[6], range, ARRAY_SIZE(range));
	ck_assert_int_eq(compare_decide(&f.res, 6, &runs), COMPARE_BISECT);
	done(&f);
}
END_TEST

START_TEST(infra_is_never_the_kernels)
{
	/* ERROR between two passes: nothing broke, nothing was fixed. */
	static const struct hist h[] = {
		LIN("P", NULL), LIN("EEE", NULL), LIN("P", NULL),
		LIN("E", NULL), LIN("FFF", "panic A"), LIN("FE", "panic A"),
	};
	static const char *const want[] = {
		"pass", "infra", "pass", "infra", "regression",
		"still-failing",
	};
	static const size_t range[] = { 2, 3, 4 };
	struct fixture f;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	assert_range(&f.res.entries[4], range, ARRAY_SIZE(range));
	done(&f);
}
END_TEST

START_TEST(merges_compare_with_the_first_parent)
{
	/*
	 *  0 --- 2 ------ 3(merge) -- 4 -- 5 ------- 7(merge)
	 *   \            /                  \        /
	 *    1(side) ---'                    6(side)'
	 */
	static const struct hist h[] = {
		{ "P", NULL, -1 },
		{ "FFF", "panic A", 0 },	/* side branch broke */
		{ "P", NULL, 0 },
		{ "FFF", "panic A", 2 },	/* the merge brings it */
		{ "P", NULL, 3 },		/* the revert */
		{ "FFF", "panic B", 4 },
		{ "P", NULL, 4 },		/* a side branch still fine */
		{ "FFF", "panic B", 5 },	/* merged into a broken main */
	};
	static const char *const want[] = {
		"pass", "regression", "pass", "regression", "fixed",
		"regression", "pass", "still-failing",
	};
	static const size_t range3[] = { 2, 3 };
	struct fixture f;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	/* The merge's last good is its first parent, not the side. */
	ck_assert_int_eq(f.res.entries[3].last_good, 2);
	assert_range(&f.res.entries[3], range3, 2);
	ck_assert_int_eq(f.res.entries[1].last_good, 0);
	ck_assert_int_eq(compare_fixed_by(&f.res, 3), 4);
	ck_assert_int_eq(f.res.entries[7].first_bad, 5);
	ck_assert_int_eq(f.res.entries[7].last_good, 4);
	done(&f);
}
END_TEST

START_TEST(flaky_is_reported_not_bisected)
{
	static const struct hist h[] = {
		LIN("P", NULL), LIN("PFF", "panic A"), LIN("FFF", "panic A"),
		LIN("P", NULL),
	};
	static const char *const want[] = {
		"pass", "flaky", "still-failing", "fixed",
	};
	/* A clean-looking regression, then its failure seen to pass too. */
	static const struct hist h2[] = {
		LIN("P", NULL), LIN("FFF", "panic A"), LIN("FPF", "panic A"),
	};
	static const char *const want2[] = { "pass", "regression", "flaky" };
	struct fixture f;
	unsigned runs;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	ck_assert_uint_eq(f.res.entries[1].fail, 2);
	ck_assert_uint_eq(f.res.entries[1].pass + f.res.entries[1].fail, 3);
	ck_assert_int_eq(f.res.entries[1].first_bad, 1);
	ck_assert_int_eq(f.res.entries[1].last_good, 0);
	ck_assert_int_eq(compare_decide(&f.res, 1, &runs),
			 COMPARE_REPORT_FLAKY);
	ck_assert_int_eq(f.res.entries[2].first_bad, 1);
	ck_assert_int_eq(compare_fixed_by(&f.res, 1), 3);
	done(&f);

	run(&f, h2, ARRAY_SIZE(h2), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want2);
	ck_assert_int_eq(f.res.entries[2].first_bad, 1);
	ck_assert_int_eq(compare_decide(&f.res, 1, &runs),
			 COMPARE_REPORT_FLAKY);
	done(&f);
	/* Without the flaky child, the same regression is bisected. */
	run(&f, h2, 2, COMPARE_CONFIRM_DEFAULT);
	ck_assert_int_eq(compare_decide(&f.res, 1, &runs), COMPARE_BISECT);
	done(&f);
}
END_TEST

START_TEST(signatures_on_one_commit_and_a_change_of_words)
{
	static const struct hist h[] = {
		LIN("P", NULL), LIN("GFF", "panic A"), LIN("FFF", "panic B"),
		LIN("FFF", "panic B"),
	};
	static const char *const want[] = {
		"pass", "regression", "still-failing", "still-failing",
	};
	struct fixture f;

	run(&f, h, ARRAY_SIZE(h), COMPARE_CONFIRM_DEFAULT);
	assert_classes(&f, want);
	/* Most runs' words win over the first run's. */
	ck_assert_str_eq(f.res.entries[1].signature, "panic A");
	ck_assert_int_eq(f.res.entries[2].signature_changed, 1);
	ck_assert_int_eq(f.res.entries[2].first_bad, 1);
	ck_assert_int_eq(f.res.entries[3].signature_changed, 0);
	done(&f);
}
END_TEST

START_TEST(bad_input_is_refused)
{
	static const struct hist loop[] = {
		LIN("P", NULL), { "P", NULL, 1 },
	};
	static const struct hist none[] = {
		LIN("P", NULL), LIN("PX", NULL),
	};
	struct strbuf err = STRBUF_INIT;
	struct fixture f;

	build(&f, loop, ARRAY_SIZE(loop), 2);
	ck_assert_int_eq(compare_cell(&f.in, &f.res, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "oldest first"));
	ck_assert_uint_eq(f.res.n, 0);
	done(&f);
	strbuf_reset(&err);
	build(&f, none, ARRAY_SIZE(none), 2);
	ck_assert_int_eq(compare_cell(&f.in, &f.res, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "c1"));
	done(&f);
	strbuf_release(&err);
}
END_TEST

START_TEST(one_regression_seen_in_several_cells)
{
	static const struct compare_regression regs[] = {
		{ "vmware-vmport", "c5", "Kernel panic - not syncing: vmware" },
		{ "q35-vmware", "c5", "Kernel panic - not syncing: vmware" },
		{ "xen-pv-dom0", "c5", "Hardware Dom0 crashed" },
		{ "pc-vmware", "c7", "Kernel panic - not syncing: vmware" },
		{ "pc-2.4-vmware", "c5", "Kernel panic - not syncing: vmware" },
	};
	static const struct compare_regression bad[] = {
		{ "vmware-vmport", "c5", NULL },
	};
	struct strbuf err = STRBUF_INIT;
	struct compare_findings fs;

	ck_assert_int_eq(compare_group(regs, ARRAY_SIZE(regs), &fs, &err), 0);
	ck_assert_uint_eq(fs.n, 3);
	ck_assert_str_eq(fs.v[0].first_bad, "c5");
	ck_assert_uint_eq(fs.v[0].n_members, 3);
	ck_assert_uint_eq(fs.v[0].members[0], 0);
	ck_assert_uint_eq(fs.v[0].members[1], 1);
	ck_assert_uint_eq(fs.v[0].members[2], 4);
	ck_assert_str_eq(fs.v[1].signature, "Hardware Dom0 crashed");
	ck_assert_uint_eq(fs.v[1].n_members, 1);
	ck_assert_str_eq(fs.v[2].first_bad, "c7");
	ck_assert_uint_eq(fs.v[2].n_members, 1);
	compare_findings_release(&fs);
	ck_assert_int_eq(compare_group(bad, 1, &fs, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "vmware-vmport"));
	ck_assert_uint_eq(fs.n, 0);
	compare_findings_release(&fs);
	strbuf_release(&err);
}
END_TEST

START_TEST(two_cells_one_push_compare_apart)
{
	/* One push of four commits, only its tip tested, two cells. */
	static const struct hist a[] = {
		LIN("P", NULL), LIN("", NULL), LIN("", NULL), LIN("", NULL),
		LIN("FFF", "panic A"),
	};
	static const struct hist b[] = {
		LIN("P", NULL), LIN("", NULL), LIN("", NULL), LIN("", NULL),
		LIN("FFF", "Hardware Dom0 crashed"),
	};
	struct fixture fa, fb;
	struct compare_regression regs[2];
	struct compare_findings fs;
	struct strbuf err = STRBUF_INIT;

	run(&fa, a, ARRAY_SIZE(a), COMPARE_CONFIRM_DEFAULT);
	run(&fb, b, ARRAY_SIZE(b), COMPARE_CONFIRM_DEFAULT);
	ck_assert_int_eq(fa.res.entries[4].class, COMPARE_REGRESSION);
	ck_assert_int_eq(fb.res.entries[4].class, COMPARE_REGRESSION);
	ck_assert_uint_eq(fa.res.entries[4].n_range, 5);
	regs[0].cell = "a";
	regs[0].first_bad = fa.ids[4];
	regs[0].signature = fa.res.entries[4].signature;
	regs[1].cell = "b";
	regs[1].first_bad = fb.ids[4];
	regs[1].signature = fb.res.entries[4].signature;
	/* Same tip, other words: two findings, not one. */
	ck_assert_int_eq(compare_group(regs, 2, &fs, &err), 0);
	ck_assert_uint_eq(fs.n, 2);
	compare_findings_release(&fs);
	strbuf_release(&err);
	done(&fa);
	done(&fb);
}
END_TEST

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void store_run(struct record *r, const char *tree,
		      const char *commit, const char *cell, enum verdict v,
		      struct record_run *out)
{
	struct strbuf err = STRBUF_INIT;
	struct record_run run = { 0 };
	static unsigned seq;
	char *nonce = xstrfmt("c%u", ++seq);

	run.batch = (char *)"b";
	run.kernel_id = (char *)(*commit ? commit : "k1");
	run.cell = (char *)cell;
	run.verdict = v;
	run.reason = (char *)"r";
	run.line = (char *)(v == VERDICT_FAIL ?
			    "Kernel panic - not syncing: VFS" : "");
	run.started_at = seq;
	run.log_path = (char *)"";
	run.nonce = nonce;
	run.tree = (char *)tree;
	run.commit_id = (char *)commit;
	run.build = (char *)(*tree ? "b" : "");
	if (record_add_run(r, &run, &err))
		ck_abort_msg("record_add_run: %s", err.buf);
	if (out)
		*out = run;
	free(nonce);
	strbuf_release(&err);
}

#define K1 "1111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222"
#define K3 "3333333333333333333333333333333333333333"

/*
 * Over a store: a regression on K2 in two cells with the same words is
 * one finding listing both; each run shows its commit's class in its
 * cell, and a run of no tree (`hvmatrix boot`) shows none.
 */
START_TEST(findings_and_the_class_a_run_shows)
{
	char dir[] = "/tmp/test-compare-XXXXXX";
	struct record_commit c[3] = {
		{ (char *)K1, (char *)"one", (char *)"A", 1, (char *)"" },
		{ (char *)K2, (char *)"two", (char *)"A", 2, (char *)K1 },
		{ (char *)K3, (char *)"three", (char *)"A", 3, (char *)K2 },
	};
	char *builds[] = { (char *)"b" };
	struct record_run pass1, fail2, fail3, boot, other;
	struct strbuf err = STRBUF_INIT;
	struct regressions rs;
	struct record *r;
	char *state;
	int i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	state = xstrfmt("%s/state", dir);
	ck_assert_int_eq(record_open(&r, state, &err), 0);
	ck_assert_int_eq(record_queue_add(r, "t", c, 3, builds, 1, 1, 0,
					  RECORD_ENQUEUE_NO_JOBS, NULL, &err),
			 0);
	store_run(r, "t", K1, "vm", VERDICT_PASS, &pass1);
	store_run(r, "t", K1, "pc", VERDICT_PASS, NULL);
	for (i = 0; i < 3; i++) {
		store_run(r, "t", K2, "vm", VERDICT_FAIL, &fail2);
		store_run(r, "t", K2, "pc", VERDICT_FAIL, NULL);
	}
	store_run(r, "t", K3, "vm", VERDICT_FAIL, &fail3);
	store_run(r, "", "", "vm", VERDICT_FAIL, &boot);
	ck_assert_int_eq(regressions_compute(r, NULL, &rs, &err), 0);

	ck_assert_uint_eq(rs.n, 1);
	ck_assert_int_eq(rs.v[0].status, REGRESSION_OPEN);
	ck_assert_str_eq(rs.v[0].first_bad.commit, K2);
	ck_assert_str_eq(rs.v[0].last_good.commit, K1);
	ck_assert_uint_eq(rs.v[0].n_cells, 2);
	ck_assert_str_eq(rs.v[0].cells[0], "vm");
	ck_assert_str_eq(rs.v[0].cells[1], "pc");
	ck_assert_uint_eq(rs.v[0].fail, 3);
	ck_assert_uint_eq(rs.v[0].total, 3);
	/*
	 * One bisection for both cells: its last good commit is its parent,
	 * but a culprit is named only on runs of its own (purpose bisect),
	 * so it wants them on K2, for each cell, and has built nothing.
	 */
	ck_assert_int_eq(rs.v[0].bisected, 1);
	ck_assert_int_eq(rs.v[0].bisecting, 1);
	ck_assert_uint_eq(rs.v[0].builds, 0);
	ck_assert_uint_eq(rs.n_wants, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_str_eq(rs.wants[i].commit, K2);
		ck_assert_str_eq(rs.wants[i].purpose, "bisect");
		ck_assert_uint_gt(rs.wants[i].runs, 3);
	}
	ck_assert_str_eq(rs.wants[0].cell, "vm");
	ck_assert_str_eq(rs.wants[1].cell, "pc");

	ck_assert_str_eq(regressions_class_of_run(&rs, &pass1), "pass");
	ck_assert_str_eq(regressions_class_of_run(&rs, &fail2), "regression");
	ck_assert_str_eq(regressions_class_of_run(&rs, &fail3),
			 "still-failing");
	ck_assert_ptr_null(regressions_class_of_run(&rs, &boot));
	other = fail3;
	other.tree = NULL;
	ck_assert_ptr_null(regressions_class_of_run(&rs, &other));
	other = fail3;
	other.cell = (char *)"pc";	/* pc has no run on K3 */
	ck_assert_ptr_null(regressions_class_of_run(&rs, &other));

	regressions_release(&rs);
	record_close(r);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(state);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compare");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, signature_keeps_the_words);
	tcase_add_test(tc, signature_masks_what_varies);
	tcase_add_test(tc, signature_tells_failures_apart);
	tcase_add_test(tc, linear_regression_still_failing_fixed);
	tcase_add_test(tc, a_new_fail_needs_confirmation);
	tcase_add_test(tc, never_passed_is_not_a_regression);
	tcase_add_test(tc, tips_leave_a_range_to_bisect);
	tcase_add_test(tc, infra_is_never_the_kernels);
	tcase_add_test(tc, merges_compare_with_the_first_parent);
	tcase_add_test(tc, flaky_is_reported_not_bisected);
	tcase_add_test(tc, signatures_on_one_commit_and_a_change_of_words);
	tcase_add_test(tc, bad_input_is_refused);
	tcase_add_test(tc, one_regression_seen_in_several_cells);
	tcase_add_test(tc, two_cells_one_push_compare_apart);
	tcase_add_test(tc, findings_and_the_class_a_run_shows);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
