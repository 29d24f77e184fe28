/*
 * report: the one way lines for people reach stderr (see report.h). It
 * allocates nothing and calls nothing of the project, so that die() can
 * use it when memory has run out.
 */
#include <stdio.h>
#include <time.h>

#include "lib/report.h"

static int quiet, stamp;

void report_set_quiet(int q)
{
	quiet = q;
}

int report_quiet(void)
{
	return quiet;
}

void report_set_stamp(int s)
{
	stamp = s;
}

static void vline(const char *stamp_fmt, const char *prefix,
		  const char *fmt, va_list ap)
{
	char head[32] = "";

	if (stamp_fmt) {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(head, sizeof(head), stamp_fmt, &tm);
	}
	/* One lock for the whole line: threads never split it. */
	flockfile(stderr);
	fputs(head, stderr);
	fputs(prefix ? prefix : "", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void report_vprogress(const char *prefix, const char *fmt, va_list ap)
{
	if (!quiet)
		vline(stamp ? "[%H:%M:%S] " : NULL, prefix, fmt, ap);
}

void report_progress(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vprogress(prefix, fmt, ap);
	va_end(ap);
}

void report_verror(const char *fmt, va_list ap)
{
	vline(NULL, "hvmatrix: ", fmt, ap);
}

void report_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
}
