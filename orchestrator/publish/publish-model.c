/*
 * publish-model: what the dashboard shows, built from the runs in memory
 * (regressions_input) and their classes: a row per built commit (or per
 * kernel booted by `hvmatrix boot`) in the order of its first run, the
 * cells in the order first seen, and an entry per row and cell (its
 * newest run, its look, how many runs), with the dense grid that finds
 * one. Three linear passes over the runs; nothing here writes a page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

#define VERDICT_LOOKS 16	/* more than enum verdict has */

/* Each commit of a tree with runs, by its id's pool string (a commit no
 * run names is not in the pool and needs no row), per tree: trees that
 * share history share commit ids. */
static int load_commits(struct site *s, struct strbuf *err)
{
	size_t i, k, t, n = s->in.n_strs + 1;

	for (i = 0; i < s->in.n_runs; i++) {
		const struct regressions_tree *tr;
		uint32_t tree = s->in.runs[i].tree;

		if (tree && (i == 0 || tree != s->in.runs[i - 1].tree) &&
		    regressions_input_commits(&s->in, s->r, tree, &tr,
					      err) < 0)
			return -1;
	}
	s->commit_of = xcalloc(s->in.n_trees * n + 1, sizeof(*s->commit_of));
	s->tree_at = xcalloc(n, sizeof(*s->tree_at));
	for (t = 0; t < s->in.n_trees; t++) {
		const struct regressions_tree *tr = &s->in.trees[t];

		s->tree_at[tr->tree] = (uint32_t)t;
		for (k = 0; k < tr->n; k++) {
			uint32_t id = regressions_input_lookup(&s->in,
							tr->commits[k].id);

			if (id != UINT32_MAX)
				s->commit_of[t * n + id] = &tr->commits[k];
		}
	}
	return 0;
}

/* The hash of what same_row compares. */
static uint64_t row_hash(uint32_t commit, uint32_t tree, uint32_t build,
			 uint32_t kernel)
{
	uint64_t h;

	if (!commit)
		tree = build = 0;
	else
		kernel = 0;
	h = ((uint64_t)tree << 32 | commit) * 0x9e3779b97f4a7c15ULL;
	return (h ^ ((uint64_t)build << 32 | kernel)) * 0xff51afd7ed558ccdULL;
}

static void new_row(struct site *s, const struct regressions_run *run)
{
	const struct record_commit *c;
	struct strbuf page = STRBUF_INIT;
	struct row *row;
	const char *tree = s->in.strs[run->tree];
	const char *commit = s->in.strs[run->commit];
	const char *build = s->in.strs[run->build];

	ALLOC_GROW(s->rows, s->nrows + 1, s->rows_alloc);
	row = &s->rows[s->nrows++];
	memset(row, 0, sizeof(*row));
	c = *commit ? s->commit_of[s->tree_at[run->tree] *
				   (s->in.n_strs + 1) + run->commit] : NULL;
	row->tree = tree;
	row->commit = commit;
	row->build = build;
	row->kernel = s->in.strs[run->kernel];
	row->tree_id = run->tree;
	row->commit_id = run->commit;
	row->build_id = run->build;
	row->kernel_id = run->kernel;
	row->subject = c ? c->subject : "";
	row->author = c ? c->author : "";
	row->time = c && c->time ? c->time : (int64_t)run->started_at;
	strbuf_addstr(&page, "commit/");
	if (*commit) {
		publish_html_path_part(&page, tree);
		strbuf_addch(&page, '~');
		publish_html_path_part(&page, build);
		strbuf_addch(&page, '~');
		publish_html_path_part(&page, commit);
	} else {
		strbuf_addstr(&page, "k-");
		publish_html_path_part(&page, row->kernel);
	}
	strbuf_addstr(&page, ".html");
	row->page = strbuf_detach(&page, NULL);
}

static int same_row(const struct row *row, const struct regressions_run *run)
{
	if (row->commit_id != run->commit)
		return 0;
	return run->commit ? row->tree_id == run->tree &&
			     row->build_id == run->build :
			     row->kernel_id == run->kernel;
}

/* Pass one, every run in id order: its row (rows in the order of their
 * first runs) and its cell (cells in the order first seen). */
static void assign_rows(struct site *s)
{
	struct rowmap map = { NULL, 1024 };
	size_t i, last = 0;

	free(s->rows_by_key.slots);

	s->run_row = xcalloc(s->in.n_runs + 1, sizeof(*s->run_row));
	s->cell_of = xcalloc(s->in.n_strs + 1, sizeof(*s->cell_of));
	map.slots = xcalloc(map.cap, sizeof(*map.slots));
	for (i = 0; i < s->in.n_runs; i++) {
		const struct regressions_run *run = &s->in.runs[i];
		size_t slot;

		if (!s->cell_of[run->cell]) {
			ALLOC_GROW(s->cells, s->ncells + 1, s->cells_alloc);
			s->cells[s->ncells++] = s->in.strs[run->cell];
			s->cell_of[run->cell] = (uint32_t)s->ncells;
		}
		/* A job's runs come one after the other: the last row
		 * first. */
		if (s->nrows && same_row(&s->rows[last], run)) {
			s->run_row[i] = (uint32_t)last;
			continue;
		}
		if (2 * (s->nrows + 1) > map.cap) {
			size_t k;

			free(map.slots);
			map.cap *= 2;
			map.slots = xcalloc(map.cap, sizeof(*map.slots));
			for (k = 0; k < s->nrows; k++) {
				const struct row *r = &s->rows[k];

				slot = row_hash(r->commit_id, r->tree_id,
						r->build_id, r->kernel_id) &
				       (map.cap - 1);
				while (map.slots[slot])
					slot = (slot + 1) & (map.cap - 1);
				map.slots[slot] = (uint32_t)k + 1;
			}
		}
		slot = row_hash(run->commit, run->tree, run->build,
				run->kernel) & (map.cap - 1);
		while (map.slots[slot] &&
		       !same_row(&s->rows[map.slots[slot] - 1], run))
			slot = (slot + 1) & (map.cap - 1);
		if (!map.slots[slot]) {
			new_row(s, run);
			map.slots[slot] = (uint32_t)s->nrows;
		}
		last = map.slots[slot] - 1;
		s->run_row[i] = (uint32_t)last;
	}
	s->rows_by_key = map;
}

const struct row *publish_model_find_row(const struct site *s,
					 const char *tree, const char *build,
					 const char *commit)
{
	struct regressions_run key = { 0 };
	size_t slot;

	key.tree = regressions_input_lookup(&s->in, tree);
	key.build = regressions_input_lookup(&s->in, build);
	key.commit = regressions_input_lookup(&s->in, commit);
	if (key.tree == UINT32_MAX || key.build == UINT32_MAX ||
	    key.commit == UINT32_MAX || !key.commit || !s->rows_by_key.cap)
		return NULL;
	slot = row_hash(key.commit, key.tree, key.build, 0) &
	       (s->rows_by_key.cap - 1);
	for (; s->rows_by_key.slots[slot];
	     slot = (slot + 1) & (s->rows_by_key.cap - 1))
		if (same_row(&s->rows[s->rows_by_key.slots[slot] - 1], &key))
			return &s->rows[s->rows_by_key.slots[slot] - 1];
	return NULL;
}

/* Pass two, row by row: the runs of each row, its entries, the grid's. */
static void build_entries(struct site *s)
{
	const struct look *verdict_looks[VERDICT_LOOKS], *last_look = NULL;
	const char *last_cls = NULL;
	size_t i, k, *fill;

	for (i = 0; i < VERDICT_LOOKS; i++)
		verdict_looks[i] = publish_html_look_of(
			publish_html_verdict_look((enum verdict)i));
	for (i = 0; i < s->in.n_runs; i++)
		s->rows[s->run_row[i]].n_runs++;
	for (i = 1; i < s->nrows; i++)
		s->rows[i].run_at = s->rows[i - 1].run_at +
				    s->rows[i - 1].n_runs;
	s->row_runs = xcalloc(s->in.n_runs + 1, sizeof(*s->row_runs));
	fill = xcalloc(s->nrows + 1, sizeof(*fill));
	for (i = 0; i < s->in.n_runs; i++) {
		struct row *row = &s->rows[s->run_row[i]];

		s->row_runs[row->run_at + fill[s->run_row[i]]++] =
			(uint32_t)i;
	}
	free(fill);
	/* At most an entry a run: allocated once, only the used part is
	 * ever touched. */
	s->ev = xmalloc((s->in.n_runs + 1) * sizeof(*s->ev));
	s->dense = xmalloc((s->nrows * s->ncells + 1) * sizeof(*s->dense));
	memset(s->dense, 0xff, (s->nrows * s->ncells + 1) *
	       sizeof(*s->dense));
	for (k = 0; k < s->nrows; k++) {
		struct row *row = &s->rows[k];
		int32_t *d = &s->dense[k * s->ncells];

		row->ev = s->nev;
		for (i = 0; i < row->n_runs; i++) {
			size_t ri = s->row_runs[row->run_at + i];
			const struct regressions_run *run = &s->in.runs[ri];
			uint32_t cell = s->cell_of[run->cell] - 1;
			struct entry *e;

			if (d[cell] < 0) {
				const char *cls = *row->commit ?
						  s->run_class[ri] : NULL;

				/* Class names are compare.c's constants:
				 * the last one's look first. */
				if (cls && cls != last_cls) {
					last_cls = cls;
					last_look = publish_html_look_of(cls);
				}

				d[cell] = (int32_t)s->nev;
				e = &s->ev[s->nev++];
				memset(e, 0, sizeof(*e));
				e->cell = cell;
				e->look = cls ? last_look : NULL;
				e->have_class = cls != NULL;
				row->n++;
			}
			e = &s->ev[d[cell]];
			/* The newest run by its start (ids follow the
			 * ends). */
			if (!e->newest || run->started_at >= e->newest_t) {
				e->newest = run->id;
				e->newest_t = run->started_at;
				e->verdict = run->verdict;
				e->reused = run->reused;
				/* `hvmatrix boot` rows have no history: its
				 * verdict. */
				if (!*row->commit || !e->look ||
				    !e->have_class)
					e->look = verdict_looks[run->verdict %
						VERDICT_LOOKS];
			}
			if (e->runs < UINT16_MAX)
				e->runs++;
		}
	}
}

const struct entry *publish_model_row_entry(const struct site *s,
					    const struct row *row,
					    uint32_t cell)
{
	int32_t e = s->dense[(size_t)(row - s->rows) * s->ncells + cell];

	return e < 0 ? NULL : &s->ev[e];
}

int publish_model_build(struct site *s, struct strbuf *err)
{
	if (load_commits(s, err) < 0)
		return -1;
	assign_rows(s);
	build_entries(s);
	return 0;
}
