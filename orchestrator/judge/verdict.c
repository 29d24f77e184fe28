/*
 * verdict: names of the verdicts, the only strings the store keeps, and
 * the exit codes they map to.
 */
#include <string.h>

#include "judge/verdict.h"
#include "lib/xmalloc.h"

static const char *const names[] = {
	[VERDICT_NONE] = "NONE",
	[VERDICT_PASS] = "PASS",
	[VERDICT_FAIL] = "FAIL",
	[VERDICT_ERROR] = "ERROR",
	[VERDICT_SKIP] = "SKIP",
	[VERDICT_BLOCKED] = "BLOCKED",
};

const char *verdict_name(enum verdict v)
{
	if ((unsigned)v >= ARRAY_SIZE(names))
		return "NONE";
	return names[v];
}

enum verdict verdict_parse(const char *name)
{
	unsigned i;

	for (i = 1; i < ARRAY_SIZE(names); i++)
		if (!strcmp(names[i], name))
			return (enum verdict)i;
	return VERDICT_NONE;
}

int verdict_exit_code(enum verdict v)
{
	switch (v) {
	case VERDICT_FAIL:
	case VERDICT_BLOCKED:
		return EXIT_FAIL;
	case VERDICT_ERROR:
		return EXIT_ERROR;
	default:
		return EXIT_OK;
	}
}

static int exit_rank(int code)
{
	switch (code) {
	case EXIT_OK: return 0;
	case EXIT_ERROR: return 1;
	case EXIT_FAIL: return 2;
	case EXIT_USAGE: return 3;
	default: return 4;
	}
}

int verdict_exit_worst(int a, int b)
{
	return exit_rank(b) > exit_rank(a) ? b : a;
}
