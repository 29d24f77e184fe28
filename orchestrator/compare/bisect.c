/*
 * bisect: the driver's rules. Everything bisect_next decides is computed
 * again from the run counts on every call, never remembered, so results
 * fed in any order, before or after a restart, give the same next step.
 * It must never name a commit whose parent was not itself tested and
 * passed: with a skipped commit in between, the culprit is a range.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare/bisect.h"
#include "lib/xmalloc.h"

enum want_kind {
	WANT_NONE = 0,
	WANT_BISECT,		/* one run on an untested commit */
	WANT_CONFIRM,		/* reproductions on the culprit or parent */
};

static const char *const state_names[] = {
	[BISECT_UNKNOWN] = "unknown",
	[BISECT_GOOD] = "good",
	[BISECT_BAD] = "bad",
	[BISECT_OTHER] = "other",
	[BISECT_SKIP] = "skip",
	[BISECT_FLAKY] = "flaky",
};

const char *bisect_state_name(enum bisect_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[s];
}

static const char *nonnull(const char *s)
{
	return s ? s : "";
}

int bisect_init(struct bisect *b, const char *const *commits,
		size_t n_commits, const struct bisect_target *targets,
		size_t n_targets, unsigned confirm, struct strbuf *err)
{
	size_t i, j;

	memset(b, 0, sizeof(*b));
	if (n_commits < 2) {
		strbuf_addstr(err, "bisect: the range needs the last good "
			      "and the first bad commit");
		return -1;
	}
	if (!n_targets) {
		strbuf_addstr(err, "bisect: no cell to bisect");
		return -1;
	}
	for (i = 0; i < n_commits; i++)
		if (!commits[i]) {
			strbuf_addf(err, "bisect: commit %zu has no id", i);
			return -1;
		}
	for (i = 0; i < n_targets; i++) {
		if (!targets[i].cell) {
			strbuf_addf(err, "bisect: target %zu has no cell", i);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(targets[i].cell, targets[j].cell)) {
				strbuf_addf(err, "bisect: cell %s given twice",
					    targets[i].cell);
				return -1;
			}
	}
	b->n_commits = n_commits;
	b->commits = xcalloc(n_commits, sizeof(*b->commits));
	for (i = 0; i < n_commits; i++)
		b->commits[i] = xstrdup(commits[i]);
	b->built = xcalloc(n_commits, 1);
	b->n_cells = n_targets;
	b->cells = xcalloc(n_targets, sizeof(*b->cells));
	b->want = xcalloc(n_targets, sizeof(*b->want));
	for (i = 0; i < n_targets; i++) {
		struct bisect_cell *c = &b->cells[i];

		c->name = xstrdup(targets[i].cell);
		c->signature = xstrdup(nonnull(targets[i].signature));
		c->runs = xcalloc(n_commits, sizeof(*c->runs));
		strbuf_init(&c->why, 0);
		c->hi = n_commits - 1;
	}
	b->confirm = confirm;
	return 0;
}

void bisect_release(struct bisect *b)
{
	size_t i, j;

	for (i = 0; i < b->n_commits; i++)
		free(b->commits[i]);
	free(b->commits);
	for (i = 0; i < b->n_cells; i++) {
		struct bisect_cell *c = &b->cells[i];

		for (j = 0; j < b->n_commits; j++)
			free(c->runs[j].other_signature);
		free(c->runs);
		free(c->name);
		free(c->signature);
		strbuf_release(&c->why);
	}
	free(b->cells);
	free(b->built);
	free(b->want);
	memset(b, 0, sizeof(*b));
}

int bisect_add(struct bisect *b, size_t commit, size_t cell, enum verdict v,
	       const char *signature, int ours, struct strbuf *err)
{
	struct bisect_cell *c;
	struct bisect_runs *r;

	if (commit >= b->n_commits || cell >= b->n_cells) {
		strbuf_addf(err, "bisect: no commit %zu or cell %zu", commit,
			    cell);
		return -1;
	}
	c = &b->cells[cell];
	r = &c->runs[commit];
	switch (v) {
	case VERDICT_PASS:
		r->pass++;
		break;
	case VERDICT_FAIL:
		if (!strcmp(nonnull(signature), c->signature)) {
			r->bad++;
			break;
		}
		r->other++;
		if (!r->other_signature)
			r->other_signature = xstrdup(nonnull(signature));
		break;
	case VERDICT_ERROR:
	case VERDICT_BLOCKED:
	case VERDICT_SKIP:
		r->skip++;
		break;
	default:
		strbuf_addf(err, "bisect: a run of %s on %s without a verdict",
			    c->name, b->commits[commit]);
		return -1;
	}
	if (!ours)
		return 0;
	r->ours++;
	if (v == VERDICT_PASS || v == VERDICT_FAIL || v == VERDICT_ERROR) {
		c->boots++;
		b->boots++;
	}
	if (commit > 0 && commit < b->n_commits - 1 && !b->built[commit]) {
		b->built[commit] = 1;
		b->builds++;
	}
	return 0;
}

int bisect_add_blocked(struct bisect *b, size_t commit, int ours,
		       struct strbuf *err)
{
	size_t i;

	for (i = 0; i < b->n_cells; i++)
		if (bisect_add(b, commit, i, VERDICT_BLOCKED, NULL, ours, err))
			return -1;
	return 0;
}

static size_t find_commit(const struct bisect *b, const char *id)
{
	size_t i;

	for (i = 0; i < b->n_commits; i++)
		if (!strcmp(b->commits[i], id))
			return i;
	return SIZE_MAX;
}

static size_t find_cell(const struct bisect *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n_cells; i++)
		if (!strcmp(b->cells[i].name, name))
			return i;
	return SIZE_MAX;
}

int bisect_load(struct bisect *b, const struct bisect_result *results,
		size_t n, size_t *n_used, struct strbuf *err)
{
	size_t i, used = 0;

	for (i = 0; i < n; i++) {
		const struct bisect_result *r = &results[i];
		size_t commit, cell;

		if (!r->commit || !r->cell)
			continue;
		commit = find_commit(b, r->commit);
		cell = find_cell(b, r->cell);
		if (commit == SIZE_MAX || cell == SIZE_MAX)
			continue;
		if (bisect_add(b, commit, cell, r->verdict, r->signature,
			       r->ours, err))
			return -1;
		used++;
	}
	if (n_used)
		*n_used = used;
	return 0;
}

enum bisect_state bisect_state_of(const struct bisect *b, size_t cell,
				  size_t commit)
{
	const struct bisect_runs *r;
	enum bisect_state s;

	if (cell >= b->n_cells || commit >= b->n_commits)
		return BISECT_UNKNOWN;
	r = &b->cells[cell].runs[commit];
	if (r->pass && r->bad)
		return BISECT_FLAKY;
	if (r->bad)
		return BISECT_BAD;
	if (r->pass)
		return BISECT_GOOD;
	s = r->other ? BISECT_OTHER : r->skip ? BISECT_SKIP : BISECT_UNKNOWN;
	/* compare found the ends so: taken as such until a run disagrees. */
	if (commit == 0)
		return BISECT_GOOD;
	if (commit == b->n_commits - 1)
		return BISECT_BAD;
	return s;
}

static void undecided(struct bisect_cell *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void undecided(struct bisect_cell *c, const char *fmt, ...)
{
	va_list ap;

	c->status = BISECT_UNDECIDED;
	va_start(ap, fmt);
	strbuf_vaddf(&c->why, fmt, ap);
	va_end(ap);
}

/*
 * The untested commit nearest the middle of (lo, hi), SIZE_MAX when all
 * are skipped: the middle halves the range; a neighbour of a skipped
 * middle almost does.
 */
static size_t pick(const struct bisect *b, size_t cell, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2, d;

	for (d = 0; d < hi - lo; d++) {
		if (mid + d < hi &&
		    bisect_state_of(b, cell, mid + d) == BISECT_UNKNOWN)
			return mid + d;
		if (d && mid > lo + d &&
		    bisect_state_of(b, cell, mid - d) == BISECT_UNKNOWN)
			return mid - d;
	}
	return SIZE_MAX;
}

/* The range (lo, hi) holds no untested commit, yet more than one. */
static void why_gap(const struct bisect *b, struct bisect_cell *c)
{
	unsigned skip = 0, other = 0;
	const char *other_sig = NULL;
	size_t i;

	for (i = c->lo + 1; i < c->hi; i++) {
		const struct bisect_runs *r = &c->runs[i];

		if (bisect_state_of(b, (size_t)(c - b->cells), i) ==
		    BISECT_OTHER) {
			other++;
			if (!other_sig)
				other_sig = r->other_signature;
		} else {
			skip++;
		}
	}
	undecided(c, "the first bad commit is one of the %zu commits after "
		  "%s up to %s: %u between them do not build or give no "
		  "verdict", c->hi - c->lo, b->commits[c->lo],
		  b->commits[c->hi], skip);
	if (other)
		strbuf_addf(&c->why, ", %u fail another way (\"%s\")", other,
			    nonnull(other_sig));
}

static void want(struct bisect_cell *c, int kind, size_t commit,
		 unsigned runs)
{
	c->want_kind = kind;
	c->want_commit = commit;
	c->want_runs = runs;
}

/* Reproductions still wanted of the end at i, or undecided. */
static int confirm_end(const struct bisect *b, struct bisect_cell *c,
		       size_t i, unsigned have, const char *what)
{
	const struct bisect_runs *r = &c->runs[i];
	unsigned goal = b->confirm + 1;

	if (have >= goal)
		return 0;
	/* Runs that neither confirm nor refute: give up after as many. */
	if (r->other + r->skip >= goal) {
		undecided(c, "%s %s did not reproduce: %u of its runs failed "
			  "another way or gave no verdict", what,
			  b->commits[i], r->other + r->skip);
		return 0;
	}
	want(c, WANT_CONFIRM, i, goal - have);
	return 1;
}

static void cell_eval(const struct bisect *b, struct bisect_cell *c)
{
	size_t n = b->n_commits, cell = (size_t)(c - b->cells), i, m;
	int have_lo = 0, have_hi = 0;

	strbuf_reset(&c->why);
	want(c, WANT_NONE, 0, 0);
	c->status = BISECT_RUN;
	c->lo = 0;
	c->hi = n - 1;
	c->culprit = 0;
	for (i = 0; i < n; i++) {
		enum bisect_state s = bisect_state_of(b, cell, i);
		const struct bisect_runs *r = &c->runs[i];

		if (s == BISECT_FLAKY) {
			undecided(c, "flaky: %s passed %u and failed %u of "
				  "%u times with the regression's "
				  "signature", b->commits[i], r->pass, r->bad,
				  r->pass + r->bad);
			return;
		}
		if (s == BISECT_GOOD) {
			c->lo = i;
			have_lo = 1;
		}
		if (s == BISECT_BAD && !have_hi) {
			c->hi = i;
			have_hi = 1;
		}
	}
	if (!have_hi) {
		undecided(c, "the failure did not reproduce: no commit up to "
			  "%s failed with its signature", b->commits[n - 1]);
		return;
	}
	if (!have_lo) {
		undecided(c, "the last good commit %s fails with the "
			  "regression's signature", b->commits[0]);
		return;
	}
	if (c->hi < c->lo) {
		undecided(c, "%s fails with the regression's signature but "
			  "the later %s passes: not a clean regression "
			  "(flaky?)", b->commits[c->hi], b->commits[c->lo]);
		c->lo = 0;
		c->hi = n - 1;
		return;
	}
	m = pick(b, cell, c->lo, c->hi);
	if (m != SIZE_MAX) {
		want(c, WANT_BISECT, m, 1);
		return;
	}
	if (c->hi - c->lo > 1) {
		why_gap(b, c);
		return;
	}
	/* hi is the culprit, lo its parent: reproduce both (osstest). */
	if (confirm_end(b, c, c->hi, c->runs[c->hi].bad, "the failure of") ||
	    c->status == BISECT_UNDECIDED)
		return;
	if (confirm_end(b, c, c->lo, c->runs[c->lo].pass,
			"the pass of the parent") ||
	    c->status == BISECT_UNDECIDED)
		return;
	c->status = BISECT_DONE;
	c->culprit = c->hi;
}

enum bisect_status bisect_next(struct bisect *b, struct bisect_step *step)
{
	struct bisect_cell *chosen = NULL;
	size_t i, n = 0, commit;
	int all_done = 1;

	for (i = 0; i < b->n_cells; i++) {
		struct bisect_cell *c = &b->cells[i];

		cell_eval(b, c);
		if (c->status != BISECT_DONE)
			all_done = 0;
		/* The widest range first: its midpoint splits the most. */
		if (c->want_kind == WANT_BISECT &&
		    (!chosen || chosen->want_kind != WANT_BISECT ||
		     c->hi - c->lo > chosen->hi - chosen->lo))
			chosen = c;
		else if (c->want_kind == WANT_CONFIRM && !chosen)
			chosen = c;
	}
	step->want = b->want;
	step->n_want = 0;
	step->commit = 0;
	if (!chosen)
		return all_done ? BISECT_DONE : BISECT_UNDECIDED;
	commit = chosen->want_commit;
	/* One build of the commit serves every cell it tells something. */
	for (i = 0; i < b->n_cells; i++) {
		struct bisect_cell *c = &b->cells[i];
		unsigned runs = 0;

		if (c->want_kind == WANT_CONFIRM && c->want_commit == commit)
			runs = c->want_runs;
		else if (c->want_kind == WANT_BISECT && c->lo < commit &&
			 commit < c->hi &&
			 bisect_state_of(b, i, commit) == BISECT_UNKNOWN)
			runs = 1;
		if (!runs)
			continue;
		b->want[n].cell = i;
		b->want[n].runs = runs;
		n++;
	}
	step->commit = commit;
	step->n_want = n;
	return BISECT_RUN;
}
