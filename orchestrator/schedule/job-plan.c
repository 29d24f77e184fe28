/*
 * job-plan: what a job runs. The store's plan for (tree, commit, build)
 * becomes runs per cell with their purpose; each boot round becomes its
 * runs: round 1 every run of the plan, later rounds the cells whose run
 * ended ERROR. Bookkeeping only: it starts nothing and writes nothing.
 * Round 1 starts its runs in the todos' order, which job_plan_order()
 * sets likeliest failures first.
 */
#include <stdlib.h>
#include <string.h>

#include "schedule/job-priv.h"
#include "schedule/schedule.h"
#include "lib/xmalloc.h"

/*
 * Every cell of the matrix at least once when the job tests the commit
 * (scope all), and as many more runs as confirmations and bisection steps
 * want. Cells already recorded (a restart) are not run again.
 */
void job_plan_todo(struct job *j)
{
	size_t i, k;

	j->todo = xcalloc(j->m->n_cells + 1, sizeof(*j->todo));
	for (i = 0; i < j->m->n_cells; i++) {
		const struct cell *c = &j->m->cells[i];
		const struct record_plan *p = NULL;
		unsigned have = 0, want = j->scope_all ? 1 : 0;
		const char *purpose = "test";

		for (k = 0; k < j->n_plan; k++)
			if (!strcmp(j->plan[k].cell, c->name))
				p = &j->plan[k];
		if (p) {
			have = p->have;
			if (p->want > want) {
				want = p->want;
				if (have || !j->scope_all)
					purpose = p->purpose;
			}
		}
		j->n_recorded += have;
		if (want <= have)
			continue;
		j->todo[j->n_todo].cell = c;
		j->todo[j->n_todo].have = have;
		j->todo[j->n_todo].runs = want - have;
		j->todo[j->n_todo].purpose = purpose;
		j->n_todo++;
	}
}

void job_plan_order(struct job *j, size_t counts[3])
{
	enum schedule_rank *rank;
	struct job_todo *sorted;
	size_t *order, i;

	counts[0] = counts[1] = counts[2] = 0;
	if (!j->n_todo)
		return;
	rank = xcalloc(j->n_todo, sizeof(*rank));
	order = xcalloc(j->n_todo, sizeof(*order));
	sorted = xcalloc(j->n_todo + 1, sizeof(*sorted));
	for (i = 0; i < j->n_todo; i++) {
		rank[i] = schedule_cell_rank(j->m, j->todo[i].cell, j->changed,
					     j->n_changed, j->changed_wide,
					     j->failed, j->n_failed);
		counts[rank[i]]++;
	}
	schedule_cell_order(rank, j->n_todo, order);
	for (i = 0; i < j->n_todo; i++)
		sorted[i] = j->todo[order[i]];
	free(j->todo);
	j->todo = sorted;
	free(order);
	free(rank);
}

void job_plan_environments(struct job *j)
{
	struct strbuf why = STRBUF_INIT;
	size_t i;

	for (i = 0; i < j->n_todo; i++) {
		boot_env_key(j->todo[i].cell, j->env->initrd, &j->todo[i].env,
			     &why);
		strbuf_reset(&why);
	}
	strbuf_release(&why);
}

struct job_todo *job_plan_find(const struct job *j, const char *cell)
{
	size_t i;

	for (i = 0; i < j->n_todo; i++)
		if (!strcmp(j->todo[i].cell->name, cell))
			return &j->todo[i];
	return NULL;
}

void job_plan_retry(struct job *j, const char *cell)
{
	ALLOC_GROW(j->retry, j->n_retry + 1, j->retry_alloc);
	j->retry[j->n_retry++] = xstrdup(cell);
}

/*
 * One run of a todo. Its log is named by the run's own nonce: a count of
 * the cell's runs, a round or a retry index repeat across passes of one
 * (tree, commit, build) and would overwrite a recorded run's log.
 */
static void run_init(struct job *j, struct boot_run *r,
		     const struct job_todo *t)
{
	boot_run_init(r, t->cell, j->image, j->env->initrd, "");
	free(r->log_path);
	r->log_path = xstrfmt("%s/%s-%s-%s.log", j->log_dir, t->cell->name,
			      j->batch, r->nonce);
	r->purpose = t->purpose;
}

void job_plan_round(struct job *j)
{
	size_t i, n = 0;
	unsigned k;

	if (j->round == 1)
		for (i = 0; i < j->n_todo; i++)
			n += j->todo[i].runs;
	else
		n = j->n_retry;
	j->runs = xcalloc(n + 1, sizeof(*j->runs));
	for (i = 0; j->round == 1 && i < j->n_todo; i++) {
		const struct job_todo *t = &j->todo[i];

		for (k = 0; k < t->runs; k++)
			run_init(j, &j->runs[j->n_runs++], t);
	}
	for (i = 0; j->round > 1 && i < j->n_retry; i++)
		run_init(j, &j->runs[j->n_runs++],
			 job_plan_find(j, j->retry[i]));
	record_strings_free(j->retry, j->n_retry);
	j->retry = NULL;
	j->n_retry = j->retry_alloc = 0;
}

void job_plan_round_release(struct job *j)
{
	size_t i;

	for (i = 0; i < j->n_runs; i++)
		boot_run_release(&j->runs[i]);
	free(j->runs);
	j->runs = NULL;
	j->n_runs = 0;
}
