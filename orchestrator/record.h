/*
 * record: the results store, SQLite in WAL mode under the state directory
 * ($STATE/hvmatrix.db; console logs under $STATE/logs/). A run is written
 * in one transaction with synchronous=FULL, so a recorded result survives a
 * crash or kill -9 of the process that wrote it. This module never deletes
 * or rewrites a recorded run.
 */
#ifndef HVM_RECORD_H
#define HVM_RECORD_H

#include <stdint.h>
#include "strbuf.h"
#include "verdict.h"

struct record;

struct record_run {
	int64_t id;		/* set by record_add_run */
	char *batch;		/* one `hvmatrix boot` invocation */
	char *kernel_id;	/* git blob id (SHA-1) of the kernel image */
	char *kernel_path;
	char *kernel_version;	/* from the bzImage header; may be "" */
	char *cell;
	char *matrix_path;
	enum verdict verdict;
	char *reason;		/* one line, for people */
	char *line;		/* console line that decided it; may be "" */
	double started_at;	/* Unix time, seconds */
	double duration_s;
	char *log_path;		/* absolute path of the console log */
	char *nonce;
};

/*
 * The state directory: `opt` if not NULL, else $HVMATRIX_STATE, else
 * "./hvmatrix-state". Returned string is owned by the caller.
 */
char *record_state_dir(const char *opt);

/* Create the directory and the database as needed. 0 or -1 + err. */
int record_open(struct record **out, const char *state_dir,
		struct strbuf *err);
void record_close(struct record *r);
const char *record_dir(const struct record *r);

/* Safe to call from any one thread at a time (e.g. uv_queue_work). */
int record_add_run(struct record *r, struct record_run *run,
		   struct strbuf *err);
/* All runs, newest first (by started_at then id). 0 or -1 + err. */
int record_list_runs(struct record *r, struct record_run **runs, size_t *n,
		     struct strbuf *err);
void record_run_release(struct record_run *run);
void record_runs_free(struct record_run *runs, size_t n);

#endif
