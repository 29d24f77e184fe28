/*
 * cell-probes: the `probes` setting of a cell and the settings probes
 * take. The one place that says which probes exist and which backend can
 * run each; never starts anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/cell.h"
#include "matrix/cell-probes.h"
#include "lib/xmalloc.h"

#define BACKEND_BIT(b) (1u << (b))
#define ALL_BACKENDS (BACKEND_BIT(CELL_BACKEND_QEMU) | \
		      BACKEND_BIT(CELL_BACKEND_XEN) | \
		      BACKEND_BIT(CELL_BACKEND_XEN_LIBXL))

static const struct {
	const char *name;
	unsigned backends;	/* BACKEND_BIT()s that can run it */
	unsigned by_default;	/* ... and run it when a cell says nothing */
	const char *why_not;	/* for the other backends */
} probes[] = {
	{ "smp", ALL_BACKENDS, ALL_BACKENDS, NULL },
	{ "cpu-hotplug", ALL_BACKENDS, ALL_BACKENDS, NULL },
	{ "clock", ALL_BACKENDS, ALL_BACKENDS, NULL },
	{ "suspend", BACKEND_BIT(CELL_BACKEND_XEN_LIBXL), 0,
	  "only a xen-libxl guest can be saved and restored by the agent" },
	{ "migrate", BACKEND_BIT(CELL_BACKEND_QEMU), 0,
	  "only a kernel booted directly under QEMU (backend qemu) can be "
	  "migrated" },
};

/* cell.c names backends too, but calls this file: no call back. */
static const char *backend_word(enum cell_backend b)
{
	return b == CELL_BACKEND_QEMU ? "qemu" : b == CELL_BACKEND_XEN ?
	       "xen" : "xen-libxl";
}

static int find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (!strcmp(probes[i].name, name))
			return (int)i;
	return -1;
}

static void add_known(struct strbuf *err)
{
	size_t i;

	strbuf_addstr(err, " (known: ");
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		strbuf_addf(err, "%s%s", i ? ", " : "", probes[i].name);
	strbuf_addch(err, ')');
}

int cell_probes_set(struct cell *c, const char *v, struct strbuf *err)
{
	size_t i;

	c->probes_set = 1;
	if (!*v || !strcmp(v, "none"))
		return 0;
	if (find(v) < 0) {
		strbuf_addf(err, "probes: unknown probe \"%s\"", v);
		add_known(err);
		return -1;
	}
	for (i = 0; i < c->n_probes; i++)
		if (!strcmp(c->probes[i], v))
			return 0;
	c->probes = xrealloc(c->probes, (c->n_probes + 1) *
			     sizeof(*c->probes));
	c->probes[c->n_probes++] = xstrdup(v);
	return 0;
}

int cell_probes_set_tolerance(struct cell *c, const char *v,
			      struct strbuf *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (!*v || *end || errno || !(d >= 0.01 && d <= 10)) {
		strbuf_addf(err, "clock_tolerance: expected a fraction "
			    "between 0.01 and 10 (0.25: the guest's elapsed "
			    "time within 25%% of the host's), got \"%s\"", v);
		return -1;
	}
	c->clock_tolerance = d;
	return 0;
}

int cell_probes_set_migrate_to(struct cell *c, const char *v,
			       struct strbuf *err)
{
	if (!*v || strspn(v, "0123456789.") != strlen(v)) {
		strbuf_addf(err, "migrate_to: expected a QEMU release such "
			    "as \"10.0\", got \"%s\"", v);
		return -1;
	}
	free(c->migrate_to);
	c->migrate_to = xstrdup(v);
	return 0;
}

int cell_probes_check(const struct cell *c, struct strbuf *err)
{
	size_t i;
	int k;

	for (i = 0; i < c->n_probes; i++) {
		k = find(c->probes[i]);
		if (k < 0) {
			strbuf_addf(err, "probes: unknown probe \"%s\"",
				    c->probes[i]);
			add_known(err);
			return -1;
		}
		if (!(probes[k].backends & BACKEND_BIT(c->backend))) {
			strbuf_addf(err, "probes: %s cannot run in a %s cell: "
				    "%s", probes[k].name,
				    backend_word(c->backend),
				    probes[k].why_not);
			return -1;
		}
	}
	if (c->migrate_to && !cell_probes_has(c, "migrate")) {
		strbuf_addstr(err, "migrate_to: only for a cell whose probes "
			      "include migrate");
		return -1;
	}
	if (c->clock_tolerance != 0 &&
	    !(c->clock_tolerance >= 0.01 && c->clock_tolerance <= 10)) {
		strbuf_addstr(err, "clock_tolerance: out of range (0.01 to "
			      "10)");
		return -1;
	}
	return 0;
}

size_t cell_probes_effective(const struct cell *c, const char **out)
{
	size_t i, n = 0;

	if (c->probes_set) {
		for (i = 0; i < c->n_probes && n < CELL_PROBES_MAX; i++)
			out[n++] = c->probes[i];
		return n;
	}
	for (i = 0; i < ARRAY_SIZE(probes) && n < CELL_PROBES_MAX; i++)
		if (probes[i].by_default & BACKEND_BIT(c->backend))
			out[n++] = probes[i].name;
	return n;
}

void cell_probes_format(const struct cell *c, struct strbuf *out)
{
	const char *p[CELL_PROBES_MAX];
	size_t i, n = cell_probes_effective(c, p);

	for (i = 0; i < n; i++)
		strbuf_addf(out, "%s%s", i ? "," : "", p[i]);
}

int cell_probes_has(const struct cell *c, const char *name)
{
	const char *p[CELL_PROBES_MAX];
	size_t i, n = cell_probes_effective(c, p);

	for (i = 0; i < n; i++)
		if (!strcmp(p[i], name))
			return 1;
	return 0;
}

const char *cell_probes_name(size_t i)
{
	return i < ARRAY_SIZE(probes) ? probes[i].name : NULL;
}
