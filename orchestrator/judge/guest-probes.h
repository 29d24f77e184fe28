/*
 * guest-probes: what the payload's probes printed in one run. The judge
 * hands it every console line that starts with "HVMATRIX-PROBE ",
 * "HVMATRIX-CLOCK " or "HVMATRIX-FP "; only lines with this run's nonce
 * count (the kernel echoes its command line; a line from another run is
 * not ours). It keeps each probe's result, the fingerprint facts and the
 * clock probe's stamps, and says which probe failed or is still running.
 * It decides no verdict: judge.c does, from what this module kept.
 */
#ifndef HVM_GUEST_PROBES_H
#define HVM_GUEST_PROBES_H

#include <stddef.h>
#include "lib/strbuf.h"

#define GUEST_PROBES_PREFIX "HVMATRIX-PROBE "
#define GUEST_PROBES_CLOCK "HVMATRIX-CLOCK "
#define GUEST_PROBES_FP "HVMATRIX-FP "
#define GUEST_PROBES_MAX 64	/* results kept per run */
/* The console's own latency between the guest's clock and the host's
 * arrival time of a line, added to the cell's clock_tolerance. */
#define GUEST_PROBES_CLOCK_SLACK_S 0.5
/* The clock probe's stamps: mark 1 at its start, 2 and 3 about 1 s and
 * 2 s later. */
#define GUEST_PROBES_CLOCK_MARKS 3
/* As matrix/cell-probes.h's CELL_DEFAULT_CLOCK_TOLERANCE (the judge sits
 * below the matrix and cannot include it): for judges given no cell. */
#define GUEST_PROBES_DEFAULT_TOLERANCE 0.25

struct guest_probe {
	char *name;
	char *result;	/* "pass", "fail", "skip", "error" */
	char *detail;
	double seconds;
	char *line;	/* the console line it came from */
};

enum guest_probes_fp {
	GUEST_FP_HYPERVISOR = 0,
	GUEST_FP_GUEST_TYPE,
	GUEST_FP_CLOCKSOURCE,
	GUEST_FP_FEATURES,
	GUEST_FP_CPU_FLAGS,
	GUEST_FP_BOOT_SECONDS,
	GUEST_FP_N,
};

struct guest_probes {
	struct guest_probe *v;
	size_t n;
	char *fp[GUEST_FP_N];	/* NULL: not reported */
	double tolerance;	/* the cell's clock_tolerance */
	/* The clock probe's stamps: guest and host seconds of each mark. */
	double guest_at[GUEST_PROBES_CLOCK_MARKS];
	double host_at[GUEST_PROBES_CLOCK_MARKS];
	int marks;		/* bit i: mark i + 1 seen */
	char *running;		/* a probe that started and has not ended */
	char *running_line;
	char *handover;		/* "suspend"/"migrate" the guest is ready
				 * for, until taken */
	char *fp_json;		/* a fingerprint taken whole (a run judged
				 * on a cluster node), else NULL */
	int failed;		/* index of the first failed probe, or -1 */
	int errored;		/* ... of the first probe in error, or -1 */
};

void guest_probes_init(struct guest_probes *g, double clock_tolerance);
void guest_probes_release(struct guest_probes *g);
/*
 * One console line (NUL-terminated, no newline) that starts with one of
 * the prefixes above, arriving at host time `now` (monotonic seconds; 0 if
 * unknown: no clock comparison then). Returns 1 if it was this run's line
 * and was taken, 0 if it is not ours (another nonce, malformed).
 */
int guest_probes_line(struct guest_probes *g, const char *nonce,
		      const char *line, double now);
/*
 * A result another judge kept (a run on a cluster node, read back from
 * its result file): taken as it is, within the same cap.
 */
void guest_probes_add(struct guest_probes *g, const char *name,
		      const char *result, const char *detail, double seconds);
/* That judge's fingerprint, a JSON object, taken whole. */
void guest_probes_set_fingerprint(struct guest_probes *g, const char *json);
/* The fingerprint as one JSON object ("" when the guest reported none). */
void guest_probes_fingerprint_json(const struct guest_probes *g,
				   struct strbuf *out);
/* The field names of the fingerprint, in order (GUEST_FP_*). */
const char *guest_probes_fp_name(enum guest_probes_fp f);

#endif
