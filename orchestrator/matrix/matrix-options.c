/*
 * matrix-options: the matrix sections of what the daemon does with its
 * findings and where its runs go: `webhooks` (a list, where signed events
 * are POSTed), `report` (one mapping: what `hvmatrix report` writes in its
 * mails) and `executor` (one mapping: local or Slurm, executor.h). Read
 * with matrix-sections.c's machinery, checked by the setters here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-priv.h"
#include "lib/xmalloc.h"

/*
 * Webhooks: where the daemon POSTs signed events (webhook.h). Only the
 * secret's whereabouts are read here, never the secret: a missing secret
 * file is for the daemon to report when it signs, and no message of the
 * loader can ever quote the secret.
 */
static const char *const webhook_events[] = { "regression", "fixed",
					      "flaky" };

static int webhook_set_url(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_webhook *w = obj;

	if (matrix_check_controls("url", v, err))
		return -1;
	if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) ||
	    strchr(v, ' ') || !v[strcspn(v, ":") + 3])
		return matrix_bad_value(err, "url",
					"an http:// or https:// URL without "
					"blanks", v);
	w->url = xstrdup(v);
	return 0;
}

static int webhook_set_secret_file(void *obj, const char *v, const char *dir,
				   struct strbuf *err)
{
	struct matrix_webhook *w = obj;

	return matrix_parse_path("secret_file", v, dir, &w->secret_file, err);
}

static int webhook_set_secret_env(void *obj, const char *v, const char *dir,
				  struct strbuf *err)
{
	struct matrix_webhook *w = obj;
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "abcdefghijklmnopqrstuvwxyz0123456789_");

	if (!*v || v[n] || isdigit((unsigned char)v[0]))
		return matrix_bad_value(err, "secret_env", "the name of an "
				 "environment variable "
				 "([A-Za-z_][A-Za-z0-9_]*)", v);
	w->secret_env = xstrdup(v);
	return 0;
}

static int webhook_set_events(void *obj, const char *v, const char *dir,
			      struct strbuf *err)
{
	struct matrix_webhook *w = obj;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(webhook_events); i++) {
		if (strcmp(v, webhook_events[i]))
			continue;
		w->events |= 1u << i;
		return 0;
	}
	matrix_bad_value(err, "events", "regression, fixed or flaky", v);
	matrix_add_hint(err, v, webhook_events, ARRAY_SIZE(webhook_events));
	return -1;
}

static const struct setting webhook_settings[] = {
	{ "url", 0, webhook_set_url },
	{ "secret_file", 0, webhook_set_secret_file },
	{ "secret_env", 0, webhook_set_secret_env },
	{ "events", 1, webhook_set_events },
};

static void webhook_init(void *obj, unsigned line, unsigned column)
{
	struct matrix_webhook *w = obj;

	memset(w, 0, sizeof(*w));
	w->line = line;
	w->column = column;
}

static void webhook_release(void *obj)
{
	struct matrix_webhook *w = obj;

	free(w->url);
	free(w->secret_file);
	free(w->secret_env);
	memset(w, 0, sizeof(*w));
}

static char **webhook_name(void *obj)
{
	return &((struct matrix_webhook *)obj)->url;
}

static int webhook_finish(struct loader *l, void *obj, struct seen_key *seen,
			  size_t n_seen, const yaml_mark_t *start)
{
	struct matrix_webhook *w = obj;
	struct seen_key *file = matrix_seen_find(seen, n_seen, "secret_file");
	struct seen_key *env = matrix_seen_find(seen, n_seen, "secret_env");
	struct seen_key *events = matrix_seen_find(seen, n_seen, "events");

	if (!w->url)
		return matrix_fail(l, start, "url: missing (every webhook "
				   "needs a url)");
	if (file && env)
		return matrix_fail(l, matrix_second_key(file, env),
				   "webhook '%s': give either secret_file or "
				   "secret_env",
				   w->url);
	if (!file && !env)
		return matrix_fail(l, start, "webhook '%s': needs a "
				   "secret_file or a secret_env (events are "
				   "signed)", w->url);
	if (!w->events && events)
		return matrix_fail(l, &events->value_mark, "events: expected "
				   "at least one of regression, fixed, flaky");
	if (!w->events)
		w->events = MATRIX_EVENTS_ALL;
	return 0;
}

const struct section matrix_webhook_section = {
	.key = "webhooks",
	.what = "webhook",
	.name_key = "url",
	.settings = webhook_settings,
	.n_settings = ARRAY_SIZE(webhook_settings),
	.size = sizeof(struct matrix_webhook),
	.init = webhook_init,
	.release = webhook_release,
	.name = webhook_name,
	.finish = webhook_finish,
};

/* ---- report: one mapping of optional strings ---- */

/* A mail address as a header carries it: "Name <a@b>" or "a@b". */
static int report_address(const char *key, const char *v, char **out,
			  struct strbuf *err)
{
	if (matrix_check_controls(key, v, err))
		return -1;
	if (!strchr(v, '@'))
		return matrix_bad_value(err, key,
					"a mail address (user@host or Name "
					"<user@host>)", v);
	free(*out);
	*out = xstrdup(v);
	return 0;
}

static int report_set_from(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	return report_address("from", v, &((struct matrix_report *)obj)->from,
			      err);
}

static int report_set_to(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	return report_address("to", v, &((struct matrix_report *)obj)->to,
			      err);
}

static int report_set_reported_by(void *obj, const char *v, const char *dir,
				  struct strbuf *err)
{
	struct matrix_report *r = obj;

	return report_address("reported_by", v, &r->reported_by, err);
}

static int report_set_dashboard_url(void *obj, const char *v,
				    const char *dir, struct strbuf *err)
{
	struct matrix_report *r = obj;
	size_t n;

	if (matrix_check_controls("dashboard_url", v, err))
		return -1;
	n = !strncmp(v, "https://", 8) ? 8 : !strncmp(v, "http://", 7) ? 7 : 0;
	if (!n || !v[n] || strchr(v, ' '))
		return matrix_bad_value(err, "dashboard_url", "an http:// or "
				 "https:// URL without blanks", v);
	free(r->dashboard_url);
	r->dashboard_url = xstrdup(v);
	return 0;
}

static const struct setting report_settings[] = {
	{ "from", 0, report_set_from },
	{ "to", 0, report_set_to },
	{ "reported_by", 0, report_set_reported_by },
	{ "dashboard_url", 0, report_set_dashboard_url },
};

static const struct section report_section = {
	.key = "report",
	.what = "report",
	.settings = report_settings,
	.n_settings = ARRAY_SIZE(report_settings),
};

void matrix_report_release(struct matrix_report *r)
{
	free(r->from);
	free(r->to);
	free(r->reported_by);
	free(r->dashboard_url);
	memset(r, 0, sizeof(*r));
}

int matrix_parse_report(struct loader *l, struct matrix_report *r)
{
	struct seen_key *seen;
	size_t n_seen;
	int ret;

	if (matrix_ev_is_null(l))
		return 0;
	if (l->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "report: expected a "
				   "mapping (from, to, reported_by, "
				   "dashboard_url), got %s",
				   matrix_node_kind(l->ev.type));
	ret = matrix_parse_mapping(l, &report_section, r, &seen, &n_seen);
	matrix_seen_free(seen, n_seen);
	return ret;
}

/* ---- executor: one mapping, not a list ---- */

static int exec_set_kind(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (!strcmp(v, "local"))
		x->kind = MATRIX_EXECUTOR_LOCAL;
	else if (!strcmp(v, "slurm"))
		x->kind = MATRIX_EXECUTOR_SLURM;
	else
		return matrix_bad_value(err, "kind", "local or slurm", v);
	return 0;
}

/* An sbatch option's value: one argv word, never an option itself. */
static int exec_set_word(const char *key, char **dst, const char *v,
			 struct strbuf *err)
{
	if (matrix_check_controls(key, v, err))
		return -1;
	if (!*v || v[0] == '-' || strpbrk(v, " \t"))
		return matrix_bad_value(err, key, "a name without blanks, not "
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
	if (matrix_check_controls("constraint", v, err))
		return -1;
	if (!*v || v[0] == '-')
		return matrix_bad_value(err, "constraint",
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
	return matrix_parse_path("shared_dir", v, dir, &x->shared_dir, err);
}

static int exec_set_command(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (v[0] != '/')
		return matrix_bad_value(err, "command",
					"an absolute path to hvmatrix on the "
					"nodes", v);
	free(x->command);
	x->command = NULL;
	return matrix_parse_path("command", v, dir, &x->command, err);
}

static int exec_set_pending(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_executor *x = obj;

	if (matrix_parse_bounded(v, 1, 7 * 86400, &x->pending_s))
		return matrix_bad_value(err, "pending_timeout",
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
		return matrix_bad_value(err, "arrays", "true or false", v);
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
		return matrix_bad_value(err, "builds", "true or false", v);
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

/* Only for matrix_find_setting() and the unknown-key hint. */
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

int matrix_parse_executor(struct loader *l, struct matrix_executor *x)
{
	struct seen_key *seen = NULL;
	size_t n_seen = 0;
	yaml_mark_t start = l->ev.start_mark;
	int ret = -1;

	x->given = 1;
	x->line = (unsigned)start.line + 1;
	x->column = (unsigned)start.column + 1;
	x->pending_s = MATRIX_EXECUTOR_DEFAULT_PENDING_S;
	if (matrix_ev_is_null(l))
		return 0;
	if (l->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_fail(l, &start, "executor: expected a mapping "
				   "(kind, partition, shared_dir, ...), got %s",
				   matrix_node_kind(l->ev.type));
	if (matrix_parse_mapping(l, &exec_section, x, &seen, &n_seen))
		goto out;
	if (x->kind == MATRIX_EXECUTOR_SLURM && !x->shared_dir) {
		matrix_fail(l, &start, "executor: kind slurm needs shared_dir "
			    "(a directory the daemon and every node see)");
		goto out;
	}
	if (x->builds && !x->shared_dir) {
		matrix_fail(l, &start, "executor: builds: true needs "
			    "shared_dir (a directory the daemon and every "
			    "node see)");
		goto out;
	}
	ret = 0;
out:
	matrix_seen_free(seen, n_seen);
	return ret;
}

int matrix_check_executor(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->n_cells; i++) {
		const struct cell *c = &l->cells[i];
		yaml_mark_t mark;

		if (c->executor != CELL_EXECUTOR_SLURM ||
		    l->executor.shared_dir)
			continue;
		memset(&mark, 0, sizeof(mark));
		mark.line = c->line ? c->line - 1 : 0;
		mark.column = c->column ? c->column - 1 : 0;
		return matrix_fail(l, &mark, "cell '%s': executor slurm needs "
				   "a top-level executor section with "
				   "shared_dir", c->name);
	}
	return 0;
}
