/*
 * kcidb: the store as one KernelCI KCIDB v5.3 report (the kcidb-io
 * schema): checkouts (a tree's commit; a released kernel of the
 * compatibility web, "release-<version>"), builds (a build config of it),
 * tests (one per recorded run, path "boot.<cell>"), and issues plus
 * incidents for the regressions regressions.c finds, each incident naming
 * a failing test of the first bad commit. A lab submits the report as it
 * is, so what is written must validate: every id is "origin:...", no value
 * is ever null (what is unknown is left out), git_repository_url only for
 * an https:// tree, log excerpts at most 16 KiB of text.
 *
 * Two halves: kcidb_collect() reads the store into a report of plain
 * structs (strings may be NULL, numbers <= 0 or NaN for "unknown"), and
 * kcidb_write() turns one into JSON, leaving out whatever is unknown. The
 * store is only read; nothing here writes it.
 */
#ifndef HVM_KCIDB_H
#define HVM_KCIDB_H

#include <stddef.h>
#include <stdint.h>

#include "matrix/matrix.h"
#include "store/record.h"
#include "lib/strbuf.h"
#include "judge/verdict.h"

#define KCIDB_VERSION_MAJOR 5
#define KCIDB_VERSION_MINOR 3
/* The schema's maxLength of log_excerpt (characters; we count bytes,
 * which is never fewer). */
#define KCIDB_EXCERPT_MAX 16384
#define KCIDB_MISC_MAX 16

/* misc: key/value pairs written as strings; a NULL value is left out. */
struct kcidb_misc {
	const char *key[KCIDB_MISC_MAX];
	const char *value[KCIDB_MISC_MAX];
	size_t n;
};

/* Local ids below are the part after "origin:". */
struct kcidb_checkout {
	const char *id;
	const char *tree, *branch, *commit, *subject, *url, *comment;
	double start_time;	/* commit time, Unix seconds */
	int tip;		/* its branch's tip: 1, 0, -1 unknown */
};

struct kcidb_build {
	const char *id, *checkout_id;
	const char *config, *status, *comment;
	const char *log_path, *log_excerpt;
	double start_time, duration;
	struct kcidb_misc misc;
};

struct kcidb_test {
	const char *id, *build_id;
	const char *cell;	/* path "boot.<cell>", environment.misc */
	const char *probe;	/* a probe's result: "boot.<cell>.<probe>" */
	const char *status, *comment;
	const char *log_path, *log_excerpt;
	double start_time, duration;
	const char *env_comment;	/* "QEMU 7.2.19, machine pc" */
	struct kcidb_misc env;	/* hypervisor, release, machine ... */
	struct kcidb_misc misc;	/* the run: id, verdict, reason ... */
};

struct kcidb_issue {
	const char *id;
	unsigned version;
	const char *subject, *comment;
	struct kcidb_misc misc;
};

struct kcidb_incident {
	const char *id, *issue_id, *test_id, *build_id;
	unsigned issue_version;
	const char *comment;
};

struct kcidb_report {
	struct kcidb_checkout *checkouts;
	size_t n_checkouts;
	struct kcidb_build *builds;
	size_t n_builds;
	struct kcidb_test *tests;
	size_t n_tests;
	struct kcidb_issue *issues;
	size_t n_issues;
	struct kcidb_incident *incidents;
	size_t n_incidents;
	char **pool;		/* strings the report owns */
	size_t n_pool, alloc_pool;
};

/* An origin KCIDB takes: [a-z0-9_]+. */
int kcidb_origin_ok(const char *origin);
/* PASS, FAIL, ERROR, SKIP; BLOCKED is MISS (nothing ran); NULL for none. */
const char *kcidb_test_status(enum verdict v);
/* OK is PASS, FAILED is FAIL, ERROR is ERROR. */
const char *kcidb_build_status(enum record_build_status s);
/* "boot.<cell>", a KCIDB path: a '.' in the cell's name (q35-2.4) would
 * start a sub-test, so it becomes '_'; other bytes a path cannot hold too. */
void kcidb_test_path(struct strbuf *out, const char *cell);
/*
 * Append the tail of text[0..len): at most max bytes, starting on a UTF-8
 * character boundary, NUL bytes left out (the schema forbids them).
 */
void kcidb_excerpt(struct strbuf *out, const char *text, size_t len,
		   size_t max);
/* The last max bytes of a console or build log (plain or zstd) as an
 * excerpt. 0 or -1 + err. */
int kcidb_log_tail(const char *path, size_t max, struct strbuf *out,
		   struct strbuf *err);
/*
 * A time for --since: Unix seconds ("1764633600", "1764633600.5") or ISO
 * 8601 ("2026-12-01", "2026-12-01T10:00", "2026-12-01T10:00:00Z",
 * "2026-12-01 10:00:00+01:00"; no zone is UTC). 0 or -1.
 */
int kcidb_parse_time(const char *s, double *out);
/* "7.2.19" from `QEMU --version` (argv, no shell), or NULL. */
char *kcidb_qemu_version(const char *qemu);
/*
 * What a run ran on, as recorded with it (record_run's qemu_version,
 * xen_version; "" or NULL when not recorded, as for runs before schema 6).
 * kcidb_run_qemu: the recorded QEMU, else the release the cell names
 * ("10.0"), else `qemu --version` of the cell's binary now (a path: the
 * only way left to know it); NULL if none. Free it.
 * kcidb_hypervisor: "qemu" or "xen". kcidb_release: the Xen release (the
 * recorded version, else the build the cell names), else the QEMU release
 * (the name the cell gives, else qemu_version); may be NULL.
 * kcidb_describe_cell: a line such as "Xen 4.17.5 (the kernel as dom0) on
 * QEMU 7.2 (Debian 1:7.2+dfsg-7), machine pc, ...".
 */
char *kcidb_run_qemu(const struct cell *c, const char *recorded);
const char *kcidb_hypervisor(const struct cell *c);
const char *kcidb_release(const struct cell *c, const char *qemu_version,
			  const char *xen_version);
void kcidb_describe_cell(const struct cell *c, const char *qemu_version,
			 const char *xen_version, struct strbuf *out);

struct kcidb_opts {
	double since;		/* runs started at or after (0: all) */
};

/*
 * Read the store into rep (release it either way): the runs since
 * opts->since, their builds and checkouts, and the open and fixed
 * regressions (m, which may be NULL, gives the trees' URLs and branches,
 * the cells' hypervisors and `confirm`). 0 or -1 + err.
 */
int kcidb_collect(struct record *r, const struct matrix *m,
		  const struct kcidb_opts *opts, struct kcidb_report *rep,
		  struct strbuf *err);
void kcidb_collect_release(struct kcidb_report *rep);
/* rep as one KCIDB v5.3 JSON object, every id prefixed "origin:". */
void kcidb_write(const struct kcidb_report *rep, const char *origin,
		 struct strbuf *out);

#endif
