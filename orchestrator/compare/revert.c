/*
 * revert: see revert.h. Each broken cell's runs with the revert give the
 * cell's outcome; the cells' outcomes give the check's.
 */
#include <stdlib.h>
#include <string.h>

#include "compare/revert.h"
#include "compare/signature.h"

/* A cell's outcome, least decisive first. */
enum cell_outcome {
	CELL_NONE = 0,
	CELL_FARM,		/* ERROR, BLOCKED or SKIP only */
	CELL_HEALS,
	CELL_FAILS,
};

static const char *const names[] = {
	[REVERT_PENDING] = "pending", [REVERT_HEALS] = "heals",
	[REVERT_STILL_FAILS] = "still-fails",
	[REVERT_DOES_NOT_APPLY] = "does-not-apply", [REVERT_ERROR] = "error",
};

const char *revert_status_name(enum revert_status s)
{
	if (s <= REVERT_NONE || (size_t)s >= sizeof(names) / sizeof(*names))
		return NULL;
	return names[s];
}

static enum cell_outcome run_outcome(const struct revert_run *run,
				     const char *signature)
{
	enum cell_outcome o = CELL_NONE;
	char *sig;

	switch (run->verdict) {
	case VERDICT_PASS:
		o = CELL_HEALS;
		break;
	case VERDICT_FAIL:
		sig = signature_of(run->line ? run->line : "");
		o = !strcmp(sig, signature ? signature : "") ? CELL_FAILS :
		    CELL_HEALS;
		free(sig);
		break;
	case VERDICT_ERROR:
	case VERDICT_BLOCKED:
	case VERDICT_SKIP:
		o = CELL_FARM;
		break;
	default:
		break;
	}
	return o;
}

enum revert_status revert_status_of(const char *decided, const char *detail,
				    const char *const *cells, size_t n_cells,
				    const char *signature,
				    const struct revert_run *runs,
				    size_t n_runs, struct strbuf *why)
{
	enum cell_outcome worst = CELL_FAILS, o, c;
	const struct revert_run *farm = NULL;
	const char *failing = NULL;
	size_t i, k;

	if (!decided || !*decided)
		return REVERT_NONE;
	if (!strcmp(decided, "does-not-apply")) {
		strbuf_addf(why, "the revert does not apply: %s",
			    detail && *detail ? detail : "conflicts");
		return REVERT_DOES_NOT_APPLY;
	}
	if (strcmp(decided, "queued")) {
		strbuf_addstr(why, detail && *detail ? detail :
			      "the revert could not be made");
		return REVERT_ERROR;
	}
	if (!n_cells)
		return REVERT_PENDING;
	/* worst: the least decisive cell's outcome, unless one fails. */
	for (i = 0; i < n_cells; i++) {
		const struct revert_run *cell_farm = NULL;

		c = CELL_NONE;
		for (k = 0; k < n_runs; k++) {
			if (strcmp(runs[k].cell, cells[i]))
				continue;
			o = run_outcome(&runs[k], signature);
			if (o == CELL_FARM && !cell_farm)
				cell_farm = &runs[k];
			if (o > c)
				c = o;
		}
		if (c == CELL_FAILS && !failing)
			failing = cells[i];
		if (c == CELL_FARM && !farm)
			farm = cell_farm;
		if (c < worst)
			worst = c;
	}
	if (failing) {
		strbuf_addf(why, "%s still fails with the revert", failing);
		return REVERT_STILL_FAILS;
	}
	if (farm) {
		strbuf_addf(why, "%s with the revert in %s%s%s",
			    farm->verdict == VERDICT_BLOCKED ?
			    "the build failed" : verdict_name(farm->verdict),
			    farm->cell, farm->reason && *farm->reason ?
			    ": " : "", farm->reason ? farm->reason : "");
		return REVERT_ERROR;
	}
	if (worst == CELL_NONE)
		return REVERT_PENDING;
	return REVERT_HEALS;
}
