/*
 * web-table: the compatibility web as a table, the one model behind
 * `hvmatrix web`, the dashboard's web.html and nothing else: released
 * kernels (rows, oldest release first) x hypervisor releases and their
 * cells (columns: QEMU, then Xen; releases sorted as versions, 5.2 < 7.2 <
 * 10.0 < 11.1), each entry the class of that kernel's runs in that cell
 * under the cell's latest hypervisor build (a rebuilt QEMU or Xen is a new
 * build: its runs replace the older build's in the view, and the older
 * build's runs stay in the store), plus the support windows.
 *
 * A kernel release has no parent to compare with, so its class is its
 * own runs' outcome, by compare_cell() on one commit without parent:
 * pass (only PASS), never-passed (only FAIL), flaky (both), infra (ERROR
 * only), skip, blocked; a cell without runs has no entry ("untested").
 *
 * Support windows: a kernel works on a hypervisor release when every cell
 * of that release's column group is "pass" for it. Per hypervisor release,
 * the oldest and newest kernel that works (its ends, not a claim about the
 * kernels between); per kernel, the oldest release of each kind it works
 * on. Pure but for web_table_load(), which reads the store.
 */
#ifndef HVM_WEB_TABLE_H
#define HVM_WEB_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"
#include "lib/strbuf.h"
#include "matrix/matrix.h"
#include "store/record.h"
#include "store/record-web.h"
#include "judge/verdict.h"

enum web_table_kind {
	WEB_TABLE_QEMU = 0,
	WEB_TABLE_XEN,
	WEB_TABLE_KINDS,
};

struct web_table_kernel {
	char *id, *release, *package, *version;
	int oldest[WEB_TABLE_KINDS];	/* index into hvs, -1: none */
};

/* One hypervisor release: a group of columns. */
struct web_table_hv {
	enum web_table_kind kind;
	char *release;		/* "10.0", "4.20"; a program or path as
				 * the cell names it when not a release */
	size_t col, n_cols;	/* its columns: cols[col .. col + n_cols) */
	int oldest_kernel, newest_kernel;	/* into kernels, -1: none */
};

struct web_table_col {
	char *cell;
	size_t hv;		/* its release, into hvs */
};

/* One (kernel, cell): absent (class NULL) when the cell has no run. */
struct web_table_entry {
	const char *class;	/* compare_class_name(), or NULL */
	enum verdict verdict;	/* of run_id */
	int64_t run_id;		/* the newest FAIL run of the build if
				 * any, else its newest run */
	char *line;		/* run_id's decisive line, may be "" */
	char *hv_build;		/* the latest build's digest, may be "" */
	unsigned runs;		/* runs of that build */
	unsigned builds;	/* hypervisor builds with runs (>1: rebuilt) */
};

struct web_table {
	struct web_table_kernel *kernels;	/* rows, oldest first */
	size_t n_kernels;
	struct web_table_hv *hvs;		/* QEMU first, by version */
	size_t n_hvs;
	struct web_table_col *cols;		/* hvs' columns, in order */
	size_t n_cols;
	struct web_table_entry *entries;	/* n_kernels x n_cols */
};

/*
 * Build t from the web's kernels and runs (any order). m (may be NULL)
 * says each cell's hypervisor kind and release; a cell it lacks is placed
 * from what its runs recorded (xen_version, else qemu_version). Runs of a
 * kernel not in kernels are left out. 0 or -1 + err; release t either way.
 */
int web_table_build(struct web_table *t, const struct matrix *m,
		    const struct record_web_kernel *kernels, size_t nk,
		    const struct record_run *runs, size_t nr,
		    struct strbuf *err);
/* The same from the store (r NULL: an empty store, an empty table). */
int web_table_load(struct web_table *t, struct record *r,
		   const struct matrix *m, struct strbuf *err);
void web_table_release(struct web_table *t);

const struct web_table_entry *web_table_entry(const struct web_table *t,
					      size_t kernel, size_t col);
/* Does kernel k work (every cell "pass") on hypervisor release h? */
int web_table_works(const struct web_table *t, size_t k, size_t h);
/* "qemu", "xen" (JSON); "QEMU", "Xen" (people). */
const char *web_table_kind_name(enum web_table_kind kind);
const char *web_table_kind_title(enum web_table_kind kind);
/* The text code of a class (NULL: untested), as the dashboard marks it:
 * "ok", "nvr", "FLK", "inf", "skp", "blk", "-". */
const char *web_table_code(const char *class);
/* Kernel versions compared as versions: digit runs by value, anything
 * else byte by byte ("5.10" < "6.1" < "6.12" < "6.12.117+deb13"). */
int web_table_version_cmp(const char *a, const char *b);
/* Hypervisor releases: hypervisors_version_cmp() for two releases, a
 * release before any program or path, those by name. */
int web_table_release_cmp(const char *a, const char *b);

/*
 * The table as one JSON object (docs/hvmatrix.1's `web --json`):
 * {"kernels": [{release, package, version, id, oldest_hypervisor: {qemu,
 * xen}}], "hypervisors": [{kind, release, cells, oldest_kernel,
 * newest_kernel}], "entries": [{kernel, cell, kind, release, class,
 * verdict, run_id, line, hv_build, runs, builds}]}; unknown is null.
 */
void web_table_to_json(const struct web_table *t, struct json *js);

#endif
