/*
 * matrix-executor: the `executor` section, one mapping: where runs go
 * (local children or Slurm jobs, executor.h) and what sbatch is given.
 * Every value that becomes an sbatch argument is one word that cannot be
 * read as an option.
 */
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

static int exec_set_kind(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (!strcmp(v, "local"))
		x->kind = MATRIX_EXECUTOR_LOCAL;
	else if (!strcmp(v, "slurm"))
		x->kind = MATRIX_EXECUTOR_SLURM;
	else
		return matrix_value_bad(err, "kind", "local or slurm", v);
	return 0;
}

/* An sbatch option's value: one argv word, never an option itself. */
static int exec_set_word(const char *key, char **dst, const char *v,
			 struct strbuf *err)
{
	if (matrix_value_controls(key, v, err))
		return -1;
	if (!*v || v[0] == '-' || strpbrk(v, " \t"))
		return matrix_value_bad(err, key, "a name without blanks, not "
					"starting with '-'", v);
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

static int exec_set_partition(void *obj, const char *v, const char *dir,
			      struct strbuf *err)
{
	return exec_set_word("partition",
			     &((struct matrix_executor *)obj)->partition, v,
			     err);
}

static int exec_set_account(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	return exec_set_word("account",
			     &((struct matrix_executor *)obj)->account, v, err);
}

static int exec_set_qos(void *obj, const char *v, const char *dir,
			struct strbuf *err)
{
	return exec_set_word("qos", &((struct matrix_executor *)obj)->qos, v,
			     err);
}

static int exec_set_constraint(void *obj, const char *v, const char *dir,
			       struct strbuf *err)
{
	struct matrix_executor *x = obj;

	/* Slurm's constraint syntax has '&', '|', '[', ...: one word. */
	if (matrix_value_controls("constraint", v, err))
		return -1;
	if (!*v || v[0] == '-')
		return matrix_value_bad(err, "constraint",
					"a Slurm constraint, not starting "
					"with '-'", v);
	free(x->constraint);
	x->constraint = xstrdup(v);
	return 0;
}

static int exec_set_shared_dir(void *obj, const char *v, const char *dir,
			       struct strbuf *err)
{
	struct matrix_executor *x = obj;

	free(x->shared_dir);
	x->shared_dir = NULL;
	return matrix_value_path("shared_dir", v, dir, &x->shared_dir, err);
}

static int exec_set_command(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (v[0] != '/')
		return matrix_value_bad(err, "command",
					"an absolute path to hvmatrix on the "
					"nodes", v);
	free(x->command);
	x->command = NULL;
	return matrix_value_path("command", v, dir, &x->command, err);
}

static int exec_set_pending(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (matrix_value_bounded(v, 1, 7 * 86400, &x->pending_s))
		return matrix_value_bad(err, "pending_timeout",
					"a number of seconds between 1 and "
					"604800", v);
	return 0;
}

static int exec_set_arrays(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (!strcmp(v, "true"))
		x->no_arrays = 0;
	else if (!strcmp(v, "false"))
		x->no_arrays = 1;
	else
		return matrix_value_bad(err, "arrays", "true or false", v);
	return 0;
}

static int exec_set_builds(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (!strcmp(v, "true"))
		x->builds = 1;
	else if (!strcmp(v, "false"))
		x->builds = 0;
	else
		return matrix_value_bad(err, "builds", "true or false", v);
	return 0;
}

static const struct setting exec_settings[] = {
	{ "kind", 0, exec_set_kind },
	{ "partition", 0, exec_set_partition },
	{ "account", 0, exec_set_account },
	{ "qos", 0, exec_set_qos },
	{ "constraint", 0, exec_set_constraint },
	{ "shared_dir", 0, exec_set_shared_dir },
	{ "command", 0, exec_set_command },
	{ "pending_timeout", 0, exec_set_pending },
	{ "arrays", 0, exec_set_arrays },
	{ "builds", 0, exec_set_builds },
};

/* One mapping: read with matrix_section_parse_mapping(). */
static const struct section exec_section = {
	.key = "executor",
	.what = "executor",
	.settings = exec_settings,
	.n_settings = ARRAY_SIZE(exec_settings),
};

void matrix_executor_release(struct matrix_executor *x)
{
	free(x->partition);
	free(x->account);
	free(x->qos);
	free(x->constraint);
	free(x->shared_dir);
	free(x->command);
	memset(x, 0, sizeof(*x));
}

int matrix_executor_parse(struct matrix_yaml *y, struct matrix_executor *x)
{
	struct seen_key *seen = NULL;
	size_t n_seen = 0;
	yaml_mark_t start = y->ev.start_mark;
	int ret = -1;

	x->given = 1;
	x->line = (unsigned)start.line + 1;
	x->column = (unsigned)start.column + 1;
	x->pending_s = MATRIX_EXECUTOR_DEFAULT_PENDING_S;
	if (matrix_yaml_is_null(y))
		return 0;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_yaml_fail(y, &start, "executor: expected a "
					"mapping (kind, partition, shared_dir, "
					"...), got %s",
					matrix_yaml_node_kind(y->ev.type));
	if (matrix_section_parse_mapping(y, &exec_section, x, &seen, &n_seen))
		goto out;
	if (x->kind == MATRIX_EXECUTOR_SLURM && !x->shared_dir) {
		matrix_yaml_fail(y, &start, "executor: kind slurm needs "
				 "shared_dir (a directory the daemon and "
				 "every node see)");
		goto out;
	}
	if (x->builds && !x->shared_dir) {
		matrix_yaml_fail(y, &start, "executor: builds: true needs "
				 "shared_dir (a directory the daemon and every "
				 "node see)");
		goto out;
	}
	ret = 0;
out:
	matrix_yaml_seen_free(seen, n_seen);
	return ret;
}

int matrix_executor_check(struct matrix_yaml *y,
			  const struct matrix_executor *x,
			  const struct cell *cells, size_t n_cells)
{
	size_t i;

	for (i = 0; i < n_cells; i++) {
		const struct cell *c = &cells[i];
		yaml_mark_t mark;

		if (c->executor != CELL_EXECUTOR_SLURM || x->shared_dir)
			continue;
		memset(&mark, 0, sizeof(mark));
		mark.line = c->line ? c->line - 1 : 0;
		mark.column = c->column ? c->column - 1 : 0;
		return matrix_yaml_fail(y, &mark, "cell '%s': executor slurm "
					"needs a top-level executor section "
					"with shared_dir", c->name);
	}
	return 0;
}
