/* verdict: names of the verdicts, the only strings the store keeps. */
#include <string.h>

#include "verdict.h"
#include "xmalloc.h"

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
