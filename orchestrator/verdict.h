/*
 * verdict: the verdict vocabulary (aligned with KernelCI's KCIDB statuses).
 * Only FAIL can be a kernel regression; host and tool trouble is ERROR or
 * SKIP, never FAIL.
 */
#ifndef HVM_VERDICT_H
#define HVM_VERDICT_H

enum verdict {
	VERDICT_NONE = 0,	/* not decided yet */
	VERDICT_PASS,
	VERDICT_FAIL,
	VERDICT_ERROR,
	VERDICT_SKIP,
	VERDICT_BLOCKED,
};

/* "PASS", "FAIL", ... ("NONE" for VERDICT_NONE). */
const char *verdict_name(enum verdict v);
/* Parse a name as printed by verdict_name; VERDICT_NONE when unknown. */
enum verdict verdict_parse(const char *name);

#endif
