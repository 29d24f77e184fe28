/*
 * matrix-report: the `report` section, one mapping of optional strings:
 * what `hvmatrix report` writes in its mails (From, To, Reported-by, the
 * dashboard's URL).
 */
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

/* A mail address as a header carries it: "Name <a@b>" or "a@b". */
static int report_address(const char *key, const char *v, char **out,
			  struct strbuf *err)
{
	if (matrix_value_controls(key, v, err))
		return -1;
	if (!strchr(v, '@'))
		return matrix_value_bad(err, key,
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

	if (matrix_value_controls("dashboard_url", v, err))
		return -1;
	n = !strncmp(v, "https://", 8) ? 8 : !strncmp(v, "http://", 7) ? 7 : 0;
	if (!n || !v[n] || strchr(v, ' '))
		return matrix_value_bad(err, "dashboard_url", "an http:// or "
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

int matrix_report_parse(struct matrix_yaml *y, struct matrix_report *r)
{
	struct seen_key *seen;
	size_t n_seen;
	int ret;

	if (matrix_yaml_is_null(y))
		return 0;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "report: "
					"expected a mapping (from, to, "
					"reported_by, dashboard_url), got %s",
					matrix_yaml_node_kind(y->ev.type));
	ret = matrix_section_parse_mapping(y, &report_section, r, &seen,
					   &n_seen);
	matrix_yaml_seen_free(seen, n_seen);
	return ret;
}
