/*
 * Unit tests for the bisection driver: simulated ranges whose commits
 * pass, fail with the regression's words, fail another way, do not build
 * or fail on a coin flip, driven to the end the way the daemon drives
 * it. Asserted: the exact culprit, the builds and boots it cost against
 * ceil(log2 N) plus the confirmation runs, and the same next step after a
 * restart from the recorded results.
 */
#include <check.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/bisect.h"
#include "lib/xmalloc.h"

#define SIG "Kernel panic - not syncing: vmware: hypercall page lost"
#define OTHER_SIG "BUG: unable to handle page fault for address: ?"
#define MAX_CELLS 2

/*
 * What each commit does in each cell: G passes, B fails with SIG, O fails
 * with OTHER_SIG, K does not build, C fails with SIG on a coin flip, A
 * fails and passes in turn (fail first).
 */
struct world {
	size_t n;		/* commits: 0 (last good) .. n (first bad) */
	char *ids[201];
	char kind[MAX_CELLS][201];
	unsigned seq[MAX_CELLS][201];
	uint64_t rng;
	/* every run fed, for a restart */
	struct bisect_result *log;
	size_t n_log, alloc_log;
	unsigned steps;
};

static void world_init(struct world *w, size_t n, size_t n_cells,
		       const size_t *culprit)
{
	size_t i, c;

	memset(w, 0, sizeof(*w));
	ck_assert_uint_le(n, 200);
	w->n = n;
	for (i = 0; i <= n; i++)
		w->ids[i] = xstrfmt("c%zu", i);
	for (c = 0; c < n_cells; c++)
		for (i = 0; i <= n; i++)
			w->kind[c][i] = i >= culprit[c] ? 'B' : 'G';
	w->rng = 1;
}

static void world_release(struct world *w)
{
	size_t i;

	for (i = 0; i <= w->n; i++)
		free(w->ids[i]);
	free(w->log);
}

static int coin(struct world *w)
{
	/* Knuth's MMIX LCG: deterministic per seed, no global state. */
	w->rng = w->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (int)((w->rng >> 33) & 1);
}

static void outcome(struct world *w, size_t cell, size_t i, enum verdict *v,
		    const char **sig)
{
	unsigned k = w->seq[cell][i]++;

	*sig = NULL;
	switch (w->kind[cell][i]) {
	case 'G':
		*v = VERDICT_PASS;
		return;
	case 'K':
		*v = VERDICT_BLOCKED;
		return;
	case 'O':
		*v = VERDICT_FAIL;
		*sig = OTHER_SIG;
		return;
	case 'C':
		*v = coin(w) ? VERDICT_FAIL : VERDICT_PASS;
		break;
	case 'A':
		*v = k % 2 ? VERDICT_PASS : VERDICT_FAIL;
		break;
	default:
		*v = VERDICT_FAIL;
	}
	if (*v == VERDICT_FAIL)
		*sig = SIG;
}

static void feed(struct world *w, struct bisect *b, size_t commit,
		 size_t cell, enum verdict v, const char *sig, int ours)
{
	struct strbuf err = STRBUF_INIT;
	struct bisect_result *r;

	ck_assert_msg(!bisect_add(b, commit, cell, v, sig, ours, &err), "%s",
		      err.buf);
	strbuf_release(&err);
	ALLOC_GROW(w->log, w->n_log + 1, w->alloc_log);
	r = &w->log[w->n_log++];
	r->commit = w->ids[commit];
	r->cell = b->cells[cell].name;
	r->verdict = v;
	r->signature = sig;
	r->ours = ours;
}

static const char *const cell_names[MAX_CELLS] = { "vmware", "xen-pv" };

static void start(struct world *w, struct bisect *b, size_t n_cells,
		  unsigned confirm)
{
	struct bisect_target t[MAX_CELLS];
	struct strbuf err = STRBUF_INIT;
	size_t c, k;

	for (c = 0; c < n_cells; c++) {
		t[c].cell = cell_names[c];
		t[c].signature = SIG;
	}
	ck_assert_msg(!bisect_init(b, (const char *const *)w->ids, w->n + 1,
				   t, n_cells, confirm, &err), "%s", err.buf);
	strbuf_release(&err);
	/* What compare saw: one pass on the last good, 3 fails on the bad. */
	for (c = 0; c < n_cells; c++) {
		feed(w, b, 0, c, VERDICT_PASS, NULL, 0);
		for (k = 0; k < 3; k++)
			feed(w, b, w->n, c, VERDICT_FAIL, SIG, 0);
	}
}

/* Run the steps the driver asks for, at most max_steps of them. */
static enum bisect_status drive(struct world *w, struct bisect *b,
				unsigned max_steps)
{
	struct bisect_step step;
	enum bisect_status st;
	unsigned left = max_steps;

	while ((st = bisect_next(b, &step)) == BISECT_RUN && left--) {
		size_t i;
		unsigned r;

		ck_assert_uint_gt(step.n_want, 0);
		w->steps++;
		ck_assert_uint_lt(w->steps, 10000);
		for (i = 0; i < step.n_want; i++)
			for (r = 0; r < step.want[i].runs; r++) {
				size_t cell = step.want[i].cell;
				enum verdict v;
				const char *sig;

				outcome(w, cell, step.commit, &v, &sig);
				feed(w, b, step.commit, cell, v, sig, 1);
			}
	}
	return st;
}

static unsigned ceil_log2(size_t n)
{
	unsigned k = 0;

	while (((size_t)1 << k) < n)
		k++;
	return k;
}

static unsigned floor_log2(size_t n)
{
	unsigned k = 0;

	while (((size_t)2 << k) <= n)
		k++;
	return k;
}

START_TEST(linear_ranges_every_culprit_position)
{
	static const size_t sizes[] = { 1, 2, 7, 100 };
	const unsigned confirm = BISECT_CONFIRM_DEFAULT;
	size_t s;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		size_t n = sizes[s], culprit;

		for (culprit = 1; culprit <= n; culprit++) {
			struct world w;
			struct bisect b;
			unsigned at_culprit, boots;

			world_init(&w, n, 1, &culprit);
			start(&w, &b, 1, confirm);
			ck_assert_int_eq(drive(&w, &b, 1000), BISECT_DONE);
			ck_assert_int_eq(b.cells[0].status, BISECT_DONE);
			ck_assert_msg(b.cells[0].culprit == culprit,
				      "N=%zu: named %zu, culprit %zu", n,
				      b.cells[0].culprit, culprit);
			ck_assert_uint_eq(b.cells[0].lo, culprit - 1);
			/* Binary search: one build per halving, no more. */
			ck_assert_uint_le(b.builds, ceil_log2(n));
			ck_assert_uint_ge(b.builds, floor_log2(n));
			/*
			 * Confirmation: the culprit's FAIL and the parent's
			 * PASS reproduced `confirm` more times (the first
			 * bad commit already had 3 FAILs from compare).
			 */
			at_culprit = culprit == n ? confirm + 1 - 3 : confirm;
			boots = b.builds + at_culprit + confirm;
			ck_assert_uint_eq(b.boots, boots);
			ck_assert_uint_eq(b.cells[0].boots, boots);
			ck_assert_uint_eq(w.steps,
					  b.builds + (at_culprit > 0) + 1);
			ck_assert_uint_eq(b.cells[0].runs[culprit].bad,
					  confirm + 1);
			ck_assert_uint_eq(b.cells[0].runs[culprit - 1].pass,
					  confirm + 1);
			bisect_release(&b);
			world_release(&w);
		}
	}
}
END_TEST

START_TEST(build_failure_after_the_culprit_is_skipped)
{
	size_t culprit = 5;
	struct world w;
	struct bisect b;

	world_init(&w, 10, 1, &culprit);
	w.kind[0][6] = 'K';
	w.kind[0][7] = 'K';
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_DONE);
	ck_assert_uint_eq(b.cells[0].culprit, 5);
	ck_assert_uint_le(b.builds, ceil_log2(10) + 2);
	bisect_release(&b);
	world_release(&w);
}
END_TEST

START_TEST(build_failure_before_the_culprit_leaves_a_range)
{
	size_t culprit = 5;
	struct world w;
	struct bisect b;

	world_init(&w, 10, 1, &culprit);
	w.kind[0][4] = 'K';
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_UNDECIDED);
	ck_assert_int_eq(b.cells[0].status, BISECT_UNDECIDED);
	/* Like git bisect: "the first bad commit could be any of c4 c5". */
	ck_assert_uint_eq(b.cells[0].lo, 3);
	ck_assert_uint_eq(b.cells[0].hi, 5);
	ck_assert_int_eq(bisect_state_of(&b, 0, 4), BISECT_SKIP);
	ck_assert_ptr_nonnull(strstr(b.cells[0].why.buf, "after c3 up to c5"));
	ck_assert_ptr_nonnull(strstr(b.cells[0].why.buf, "1 between them do "
				     "not build"));
	bisect_release(&b);
	world_release(&w);
}
END_TEST

START_TEST(another_failure_is_not_the_culprit)
{
	size_t culprit = 6;
	struct world w;
	struct bisect b;

	/* c4, the first midpoint, fails with other words. */
	world_init(&w, 8, 1, &culprit);
	w.kind[0][4] = 'O';
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_DONE);
	ck_assert_uint_eq(b.cells[0].culprit, 6);
	ck_assert_int_eq(bisect_state_of(&b, 0, 4), BISECT_OTHER);
	ck_assert_str_eq(b.cells[0].runs[4].other_signature, OTHER_SIG);
	bisect_release(&b);
	world_release(&w);

	/* Right before the culprit: the culprit cannot be named. */
	world_init(&w, 8, 1, &culprit);
	w.kind[0][5] = 'O';
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_UNDECIDED);
	ck_assert_uint_eq(b.cells[0].lo, 4);
	ck_assert_uint_eq(b.cells[0].hi, 6);
	ck_assert_ptr_nonnull(strstr(b.cells[0].why.buf,
				     "1 fail another way (\"" OTHER_SIG));
	bisect_release(&b);
	world_release(&w);
}
END_TEST

START_TEST(all_skipped_is_undecided_with_the_range)
{
	size_t culprit = 3, i;
	struct world w;
	struct bisect b;

	world_init(&w, 6, 1, &culprit);
	for (i = 1; i < 6; i++)
		w.kind[0][i] = 'K';
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_UNDECIDED);
	ck_assert_uint_eq(b.cells[0].lo, 0);
	ck_assert_uint_eq(b.cells[0].hi, 6);
	ck_assert_ptr_nonnull(strstr(b.cells[0].why.buf, "the 6 commits after "
				     "c0 up to c6: 5 between them do not "
				     "build"));
	/* Every commit tried once, nothing booted. */
	ck_assert_uint_eq(b.builds, 5);
	ck_assert_uint_eq(b.boots, 0);
	bisect_release(&b);
	world_release(&w);
}
END_TEST

static unsigned builds_alone(size_t n, size_t culprit)
{
	struct world w;
	struct bisect b;
	unsigned builds;

	world_init(&w, n, 1, &culprit);
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_DONE);
	ck_assert_uint_eq(b.cells[0].culprit, culprit);
	builds = b.builds;
	bisect_release(&b);
	world_release(&w);
	return builds;
}

START_TEST(two_cells_break_at_different_commits_in_one_push)
{
	const size_t culprits[2] = { 3, 9 };
	struct bisect_step step;
	struct world w;
	struct bisect b;

	world_init(&w, 12, 2, culprits);
	start(&w, &b, 2, BISECT_CONFIRM_DEFAULT);
	/* The first midpoint is shared: one build, both cells boot it. */
	ck_assert_int_eq(bisect_next(&b, &step), BISECT_RUN);
	ck_assert_uint_eq(step.n_want, 2);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_DONE);
	ck_assert_uint_eq(b.cells[0].culprit, 3);
	ck_assert_uint_eq(b.cells[1].culprit, 9);
	ck_assert_uint_lt(b.builds, builds_alone(12, 3) + builds_alone(12, 9));
	ck_assert_uint_eq(b.boots, b.cells[0].boots + b.cells[1].boots);
	bisect_release(&b);
	world_release(&w);
}
END_TEST

START_TEST(a_failed_build_skips_the_commit_in_every_cell)
{
	const size_t culprits[2] = { 3, 3 };
	struct strbuf err = STRBUF_INIT;
	struct bisect_step step;
	struct world w;
	struct bisect b;

	world_init(&w, 4, 2, culprits);
	start(&w, &b, 2, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(bisect_next(&b, &step), BISECT_RUN);
	ck_assert_uint_eq(step.commit, 2);
	ck_assert_uint_eq(step.n_want, 2);
	ck_assert_int_eq(bisect_add_blocked(&b, 2, 1, &err), 0);
	ck_assert_int_eq(bisect_state_of(&b, 0, 2), BISECT_SKIP);
	ck_assert_int_eq(bisect_state_of(&b, 1, 2), BISECT_SKIP);
	ck_assert_uint_eq(b.builds, 1);
	ck_assert_uint_eq(b.boots, 0);
	/* Neither cell asks for c2 again: the neighbour is tried. */
	ck_assert_int_eq(bisect_next(&b, &step), BISECT_RUN);
	ck_assert_uint_ne(step.commit, 2);
	ck_assert_int_eq(bisect_add_blocked(&b, 9, 1, &err), -1);
	bisect_release(&b);
	world_release(&w);
	strbuf_release(&err);
}
END_TEST

START_TEST(one_cell_decides_while_the_other_cannot)
{
	const size_t culprits[2] = { 4, 4 };
	struct world w;
	struct bisect b;

	world_init(&w, 8, 2, culprits);
	w.kind[1][3] = 'K';	/* only cell 1's boot is blocked there */
	start(&w, &b, 2, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_UNDECIDED);
	ck_assert_int_eq(b.cells[0].status, BISECT_DONE);
	ck_assert_uint_eq(b.cells[0].culprit, 4);
	ck_assert_int_eq(b.cells[1].status, BISECT_UNDECIDED);
	ck_assert_uint_eq(b.cells[1].lo, 2);
	ck_assert_uint_eq(b.cells[1].hi, 4);
	bisect_release(&b);
	world_release(&w);
}
END_TEST

static void assert_same_step(struct bisect *a, struct bisect *b)
{
	struct bisect_step sa, sb;
	size_t i;

	ck_assert_int_eq(bisect_next(a, &sa), bisect_next(b, &sb));
	ck_assert_uint_eq(sa.commit, sb.commit);
	ck_assert_uint_eq(sa.n_want, sb.n_want);
	for (i = 0; i < sa.n_want; i++) {
		ck_assert_uint_eq(sa.want[i].cell, sb.want[i].cell);
		ck_assert_uint_eq(sa.want[i].runs, sb.want[i].runs);
	}
	ck_assert_uint_eq(a->builds, b->builds);
	ck_assert_uint_eq(a->boots, b->boots);
}

START_TEST(restart_from_recorded_results_resumes)
{
	const size_t culprits[2] = { 37, 80 };
	struct bisect_target t[2] = { { "vmware", SIG }, { "xen-pv", SIG } };
	struct bisect_result *shuffled, noise[2];
	struct strbuf err = STRBUF_INIT;
	struct world w;
	struct bisect b, r;
	size_t i, used;
	unsigned cut;

	/* Stop mid-way in the bisection, then again mid-confirmation. */
	for (cut = 3; cut <= 12; cut += 9) {
		world_init(&w, 100, 2, culprits);
		start(&w, &b, 2, BISECT_CONFIRM_DEFAULT);
		ck_assert_int_eq(drive(&w, &b, cut), BISECT_RUN);

		/* The store gives them back in its own order, and more. */
		shuffled = xcalloc(w.n_log + 2, sizeof(*shuffled));
		for (i = 0; i < w.n_log; i++)
			shuffled[i] = w.log[w.n_log - 1 - i];
		noise[0] = w.log[0];
		noise[0].commit = "not-in-the-range";
		noise[1] = w.log[0];
		noise[1].cell = "another-cell";
		shuffled[w.n_log] = noise[0];
		shuffled[w.n_log + 1] = noise[1];
		ck_assert_int_eq(bisect_init(&r, (const char *const *)w.ids,
					     w.n + 1, t, 2,
					     BISECT_CONFIRM_DEFAULT, &err), 0);
		ck_assert_int_eq(bisect_load(&r, shuffled, w.n_log + 2,
					     &used, &err), 0);
		ck_assert_uint_eq(used, w.n_log);
		assert_same_step(&b, &r);

		/* The restarted one finishes as the first would have. */
		ck_assert_int_eq(drive(&w, &r, 1000), BISECT_DONE);
		ck_assert_uint_eq(r.cells[0].culprit, 37);
		ck_assert_uint_eq(r.cells[1].culprit, 80);
		free(shuffled);
		bisect_release(&b);
		bisect_release(&r);
		world_release(&w);
	}
	strbuf_release(&err);
}
END_TEST

START_TEST(a_culprit_that_passes_on_confirmation_is_flaky)
{
	size_t culprit = 5;
	struct world w;
	struct bisect b;

	world_init(&w, 8, 1, &culprit);
	w.kind[0][5] = 'A';
	start(&w, &b, 1, BISECT_CONFIRM_DEFAULT);
	ck_assert_int_eq(drive(&w, &b, 1000), BISECT_UNDECIDED);
	ck_assert_ptr_nonnull(strstr(b.cells[0].why.buf, "flaky: c5 passed 2 "
				     "and failed 2 of 4 times"));
	bisect_release(&b);
	world_release(&w);
}
END_TEST

/* Coin-flip bisections: how often a wrong commit is named. */
static unsigned wrong_culprits(unsigned confirm, unsigned trials,
			       unsigned *right)
{
	unsigned t, wrong = 0;

	*right = 0;
	for (t = 0; t < trials; t++) {
		size_t culprit = 8, i;
		struct world w;
		struct bisect b;

		world_init(&w, 16, 1, &culprit);
		for (i = culprit; i < 16; i++)
			w.kind[0][i] = 'C';
		w.rng = t + 1;
		start(&w, &b, 1, confirm);
		if (drive(&w, &b, 1000) == BISECT_DONE) {
			if (b.cells[0].culprit == culprit)
				(*right)++;
			else
				wrong++;
		}
		bisect_release(&b);
		world_release(&w);
	}
	return wrong;
}

START_TEST(a_coin_flip_panic_is_pinned_wrongly_under_1_in_64)
{
	const unsigned trials = 2000;
	unsigned wrong, wrong0, right, right0;

	/*
	 * Under the stated bound, a wrong commit named with 3 reproductions
	 * each side happens in at most 1/64 of bisections; without them, a
	 * single pass of the coin sends the search past the culprit.
	 */
	wrong = wrong_culprits(BISECT_CONFIRM_DEFAULT, trials, &right);
	wrong0 = wrong_culprits(0, trials, &right0);
	printf("coin flip, %u bisections: confirm %u: %u right, %u wrong; "
	       "confirm 0: %u right, %u wrong\n", trials,
	       BISECT_CONFIRM_DEFAULT, right, wrong, right0, wrong0);
	ck_assert_msg(wrong * 64 <= trials, "%u wrong of %u", wrong, trials);
	ck_assert_msg(wrong0 > 4 * wrong, "%u vs %u", wrong0, wrong);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
	const char *ids[] = { "c0", "c1" };
	struct bisect_target dup[2] = { { "a", SIG }, { "a", SIG } };
	struct strbuf err = STRBUF_INIT;
	struct bisect b;

	ck_assert_int_eq(bisect_init(&b, ids, 1, dup, 1, 3, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "last good"));
	bisect_release(&b);
	strbuf_reset(&err);
	ck_assert_int_eq(bisect_init(&b, ids, 2, dup, 2, 3, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "cell a given twice"));
	bisect_release(&b);
	strbuf_reset(&err);
	ck_assert_int_eq(bisect_init(&b, ids, 2, dup, 1, 3, &err), 0);
	ck_assert_int_eq(bisect_add(&b, 2, 0, VERDICT_PASS, NULL, 1, &err),
			 -1);
	ck_assert_int_eq(bisect_add(&b, 1, 0, VERDICT_NONE, NULL, 1, &err),
			 -1);
	bisect_release(&b);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bisect");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, linear_ranges_every_culprit_position);
	tcase_add_test(tc, build_failure_after_the_culprit_is_skipped);
	tcase_add_test(tc, build_failure_before_the_culprit_leaves_a_range);
	tcase_add_test(tc, another_failure_is_not_the_culprit);
	tcase_add_test(tc, all_skipped_is_undecided_with_the_range);
	tcase_add_test(tc, two_cells_break_at_different_commits_in_one_push);
	tcase_add_test(tc, a_failed_build_skips_the_commit_in_every_cell);
	tcase_add_test(tc, one_cell_decides_while_the_other_cannot);
	tcase_add_test(tc, restart_from_recorded_results_resumes);
	tcase_add_test(tc, a_culprit_that_passes_on_confirmation_is_flaky);
	tcase_add_test(tc, a_coin_flip_panic_is_pinned_wrongly_under_1_in_64);
	tcase_add_test(tc, bad_arguments_are_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
