/*
 * report: every line hvmatrix writes for people on stderr goes out here,
 * one way (in the manner of git's vreportf): a prefix, the message, a
 * newline, written whole so that lines of the loop and of worker threads
 * never interleave mid-line.
 *
 * Two kinds: progress (what the farm is doing) is dropped under --quiet
 * and, in the daemon, stamped "[HH:MM:SS] "; errors ("hvmatrix: ...",
 * usage and fatal ones) are always written, never stamped. The switches
 * are process-wide: the CLI sets them once from its options.
 */
#ifndef HVM_REPORT_H
#define HVM_REPORT_H

#include <stdarg.h>

/* --quiet: progress lines are dropped. */
void report_set_quiet(int quiet);
int report_quiet(void);
/* The daemon's lines: progress lines carry the local time. */
void report_set_stamp(int stamp);

/* A progress line, with an optional prefix ("slurm: "). */
void report_progress(const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_vprogress(const char *prefix, const char *fmt, va_list ap);
/* An error line: "hvmatrix: " and the message, always written. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_verror(const char *fmt, va_list ap);

#endif
