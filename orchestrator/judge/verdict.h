/*
 * verdict: the verdict vocabulary (aligned with KernelCI's KCIDB statuses)
 * and the exit codes verdicts map to. Only FAIL can be a kernel
 * regression; host and tool trouble is ERROR or SKIP, never FAIL.
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

/*
 * Exit codes scripts can rely on, for every program that reports verdicts
 * (the CLI's commands, the daemon): the worst verdict decides.
 */
#define EXIT_OK 0
#define EXIT_FAIL 1	/* some cell FAILed, or a build broke (BLOCKED) */
#define EXIT_USAGE 2	/* bad usage or configuration */
#define EXIT_ERROR 3	/* host/tool ERROR, no FAIL */

/* "PASS", "FAIL", ... ("NONE" for VERDICT_NONE). */
const char *verdict_name(enum verdict v);
/* Parse a name as printed by verdict_name; VERDICT_NONE when unknown. */
enum verdict verdict_parse(const char *name);

/*
 * The exit code a verdict calls for: EXIT_FAIL for FAIL and BLOCKED (the
 * kernel's fault), EXIT_ERROR for ERROR (the farm's), else EXIT_OK.
 */
int verdict_exit_code(enum verdict v);
/*
 * The worse of two exit codes, so a caller folds many into one:
 * EXIT_OK < EXIT_ERROR < EXIT_FAIL < EXIT_USAGE < any other code (an
 * interruption, 130). A FAIL outranks an ERROR: a regression found is
 * news even when something else broke.
 */
int verdict_exit_worst(int a, int b);

#endif
