/*
 * matrix-webhooks: the `webhooks` section: where the daemon POSTs signed
 * events (webhook.h), which events, and where each endpoint's secret is
 * kept.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

/*
 * Webhooks: where the daemon POSTs signed events (webhook.h). Only the
 * secret's whereabouts are read here, never the secret: a missing secret
 * file is for the daemon to report when it signs, and no message of the
 * loader can ever quote the secret.
 */
static const char *const webhook_event_derive[] = { "regression", "fixed",
					      "flaky", "drift" };

static int webhook_set_url(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_webhook *w = obj;

	if (matrix_value_controls("url", v, err))
		return -1;
	if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) ||
	    strchr(v, ' ') || !v[strcspn(v, ":") + 3])
		return matrix_value_bad(err, "url",
					"an http:// or https:// URL without "
					"blanks", v);
	w->url = xstrdup(v);
	return 0;
}

static int webhook_set_secret_file(void *obj, const char *v, const char *dir,
				   struct strbuf *err)
{
	struct matrix_webhook *w = obj;

	return matrix_value_path("secret_file", v, dir, &w->secret_file, err);
}

static int webhook_set_secret_env(void *obj, const char *v, const char *dir,
				  struct strbuf *err)
{
	struct matrix_webhook *w = obj;
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "abcdefghijklmnopqrstuvwxyz0123456789_");

	if (!*v || v[n] || isdigit((unsigned char)v[0]))
		return matrix_value_bad(err, "secret_env", "the name of an "
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

	for (i = 0; i < ARRAY_SIZE(webhook_event_derive); i++) {
		if (strcmp(v, webhook_event_derive[i]))
			continue;
		w->events |= 1u << i;
		return 0;
	}
	matrix_value_bad(err, "events", "regression, fixed, flaky or drift",
			 v);
	matrix_yaml_add_hint(err, v, webhook_event_derive,
			     ARRAY_SIZE(webhook_event_derive));
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

static int webhook_finish(struct matrix_yaml *y, void *obj,
			  struct seen_key *seen, size_t n_seen,
			  const yaml_mark_t *start)
{
	struct matrix_webhook *w = obj;
	struct seen_key *file = matrix_yaml_seen_find(seen, n_seen,
						      "secret_file");
	struct seen_key *env = matrix_yaml_seen_find(seen, n_seen,
						     "secret_env");
	struct seen_key *events = matrix_yaml_seen_find(seen, n_seen,
							"events");

	if (!w->url)
		return matrix_yaml_fail(y, start, "url: missing (every webhook "
					"needs a url)");
	if (file && env)
		return matrix_yaml_fail(y, matrix_yaml_second_key(file, env),
					"webhook '%s': give either "
					"secret_file or secret_env", w->url);
	if (!file && !env)
		return matrix_yaml_fail(y, start, "webhook '%s': needs a "
					"secret_file or a secret_env (events "
					"are signed)", w->url);
	if (!w->events && events)
		return matrix_yaml_fail(y, &events->value_mark, "events: "
					"expected at least one of regression, "
					"fixed, flaky, drift");
	if (!w->events)
		w->events = MATRIX_EVENTS_ALL;
	return 0;
}

const struct section matrix_webhooks_section = {
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
