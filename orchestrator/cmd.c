/* cmd: helpers shared by the subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

int cmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvmatrix: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* --jobs N: 1..256. Returns 0 or EXIT_USAGE after a message. */
int cmd_parse_jobs(const char *arg, unsigned *jobs)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || v < 1 || v > 256)
		return cmd_usage_error("--jobs: expected 1..256, got \"%s\"",
				       arg);
	*jobs = (unsigned)v;
	return 0;
}

unsigned cmd_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}
