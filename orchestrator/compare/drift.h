/*
 * drift: silent feature loss. A run's fingerprint (store schema 8, the
 * JSON object the guest's HVMATRIX-FP lines gave: hypervisor, guest_type,
 * clocksource, features, cpu_flags, boot_seconds) says what the kernel
 * engaged of the hypervisor's interface. Comparing a commit's fingerprints
 * with its parent's in one cell says what it stopped (or started) using
 * while both still PASS: a drift. Pure: the caller picks the runs
 * (regressions-drift.c); nothing here reads the store.
 *
 * The rules:
 *  - scalar fields (hypervisor, guest_type, clocksource) change when both
 *    commits agree on a value across all their runs and the values differ;
 *  - features and cpu_flags are sets: an element present in every run of
 *    one commit and in no run of the other is gone, or added;
 *  - noise is never drift: a field (for sets, an element) that differs
 *    between runs of ONE commit is left out of that comparison;
 *  - a field a run did not print is unknown, not a change: a run without
 *    a fingerprint is no evidence either way;
 *  - boot_seconds is not compared: under TCG on a shared host it moves by
 *    a factor between runs of one kernel, and telling a real slowdown from
 *    load would take a statistical test over many runs per commit;
 *  - clocksource "tsc-early" is "tsc": the same counter before the kernel
 *    finished calibrating it, which the kernel replaces a second or so
 *    after boot, so which of the two a probe sees is timing, not the
 *    kernel's choice.
 */
#ifndef HVM_DRIFT_H
#define HVM_DRIFT_H

#include <stddef.h>

#include "lib/strbuf.h"

enum drift_field {
	DRIFT_HYPERVISOR = 0,
	DRIFT_GUEST_TYPE,
	DRIFT_CLOCKSOURCE,
	DRIFT_N_SCALARS,
	DRIFT_FEATURES = DRIFT_N_SCALARS,
	DRIFT_CPU_FLAGS,
	DRIFT_N_FIELDS,
};
#define DRIFT_N_SETS (DRIFT_N_FIELDS - DRIFT_N_SCALARS)

/* "hypervisor", ..., "cpu_flags": the fingerprint's own keys. */
const char *drift_field_name(enum drift_field f);

/* One run's fingerprint, parsed. */
struct drift_fp {
	char *value[DRIFT_N_SCALARS];	/* NULL: not printed */
	char **set[DRIFT_N_SETS];	/* sorted, unique */
	size_t n_set[DRIFT_N_SETS];
	int has_set[DRIFT_N_SETS];	/* printed (even empty) */
};

/*
 * Parse a fingerprint. 1 with *fp set, 0 for "" or an object with none of
 * the compared fields (fp empty), -1 + err when it is not a JSON object
 * or a field has the wrong type. Release fp in every case.
 */
int drift_fp_parse(struct drift_fp *fp, const char *json,
		   struct strbuf *err);
void drift_fp_release(struct drift_fp *fp);
/*
 * The compared part of a fingerprint as one canonical JSON text (sets
 * sorted, boot_seconds left out, tsc-early as tsc), so that runs that
 * engaged the same share one string; NULL when it has none or is not
 * valid (free() it).
 */
char *drift_fp_canonical(const char *json);

/*
 * What one commit's runs agree on, in one cell. Its strings are the
 * fingerprints' (a summary is made per commit and cell: copying 90 CPU
 * flags each time would be most of what comparing costs): the
 * fingerprints added must outlive it.
 */
struct drift_count {
	const char *name;
	unsigned runs;		/* runs whose set holds it */
};

struct drift_summary {
	unsigned runs;			/* fingerprints added */
	const char *value[DRIFT_N_SCALARS];	/* NULL: never printed */
	unsigned char noise[DRIFT_N_SCALARS];	/* differs between runs */
	struct drift_count *set[DRIFT_N_SETS];	/* sorted by name */
	size_t n_set[DRIFT_N_SETS];
	unsigned set_runs[DRIFT_N_SETS];	/* runs that printed it */
};

void drift_summary_init(struct drift_summary *s);
void drift_summary_add(struct drift_summary *s, const struct drift_fp *fp);
void drift_summary_release(struct drift_summary *s);

/* One change: before/after NULL for a set element absent on that side. */
struct drift_change {
	enum drift_field field;
	char *before, *after;
};

struct drift_changes {
	struct drift_change *v;	/* field order, then element order */
	size_t n;
};

/* What changed from `before` to `after`, noise left out (appended). */
void drift_diff(const struct drift_summary *before,
		const struct drift_summary *after, struct drift_changes *out);
void drift_changes_release(struct drift_changes *c);
/*
 * The changes as one key, "drift:FIELD:BEFORE>AFTER;..." (the same
 * changes give the same key: cells that drifted alike share a bisection
 * and a finding), and in words, "clocksource: xen -> tsc; features:
 * pv-spinlocks gone", for a finding's line. Appended to out.
 */
void drift_changes_key(const struct drift_changes *c, struct strbuf *out);
void drift_changes_words(const struct drift_changes *c, struct strbuf *out);

/* Which side of the changes one run's fingerprint is on. */
enum drift_side {
	DRIFT_UNKNOWN = 0,	/* a changed field it did not print */
	DRIFT_BEFORE,		/* every change: the before-value */
	DRIFT_AFTER,		/* every change: the after-value */
	DRIFT_NEITHER,		/* mixed, or a third value */
};
enum drift_side drift_side_of(const struct drift_fp *fp,
			      const struct drift_changes *c);

#endif
