/*
 * cell-probes: which probes a cell runs inside its guest after the boot
 * (key probes), with a default per backend, and the settings they take
 * (clock_tolerance, migrate_to). It only knows the names and which backend
 * can run each; the guest side is images/payload/hvm-probe.c, the verdict
 * is the judge's.
 */
#ifndef HVM_CELL_PROBES_H
#define HVM_CELL_PROBES_H

#include <stddef.h>
#include "lib/strbuf.h"

struct cell;

#define CELL_PROBES_MAX 8
/* The guest's elapsed time may differ from the host's by this fraction
 * (key clock_tolerance), plus the judge's fixed slack for the console. */
#define CELL_DEFAULT_CLOCK_TOLERANCE 0.25

/* Append one probe (key probes); "" or "none" asks for none. */
int cell_probes_set(struct cell *c, const char *v, struct strbuf *err);
int cell_probes_set_tolerance(struct cell *c, const char *v,
			      struct strbuf *err);
int cell_probes_set_migrate_to(struct cell *c, const char *v,
			       struct strbuf *err);
/* Checks across fields: each probe known and runnable by the backend. */
int cell_probes_check(const struct cell *c, struct strbuf *err);
/*
 * The probes the cell runs: its own list when it set one, else its
 * backend's default. Fills out[] (at most CELL_PROBES_MAX); the count.
 */
size_t cell_probes_effective(const struct cell *c, const char **out);
/* The effective probes as one comma-separated word ("" for none). */
void cell_probes_format(const struct cell *c, struct strbuf *out);
/* Does the cell run probe `name`? */
int cell_probes_has(const struct cell *c, const char *name);
/* Probe i's name (every known probe, in the manual's order); NULL past
 * the last. */
const char *cell_probes_name(size_t i);

#endif
