/*
 * record-priv.h: what the files of the record module (record.c: the store
 * and its runs; record-queue.c: the queue, commits and tips; record-build.c:
 * builds) share. Nothing outside them includes it.
 */
#ifndef HVM_RECORD_PRIV_H
#define HVM_RECORD_PRIV_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/record.h"

struct record {
	char *dir;
	char *db_path;
	sqlite3 *db;
	sqlite3_stmt *insert;
	/* One writer at a time: the connection is shared by the worker
	 * threads that record runs, and a transaction spans several calls. */
	pthread_mutex_t lock;
	int readonly;		/* record_open_readonly(): never writes */
};

/* Run columns with their commit's subject, for record_read_run(). */
#define RECORD_RUN_COLUMNS \
	"r.id, r.batch, r.kernel_id, r.kernel_path, r.kernel_version, " \
	"r.cell, r.matrix_path, r.verdict, r.reason, r.line, r.started_at, " \
	"r.duration_s, r.log_path, r.nonce, r.tree, r.commit_id, r.build, " \
	"coalesce(c.subject, ''), r.purpose, r.cmdline, r.qemu_version, " \
	"r.xen_version, r.env_key, r.hv_build, r.reused_from"
#define RECORD_RUN_FROM \
	" FROM runs r LEFT JOIN commits c ON c.tree = r.tree AND " \
	"c.id = r.commit_id "

/* "path: what: sqlite's message" into err. */
void record_db_error(struct record *r, struct strbuf *err, const char *what);
int record_exec(struct record *r, const char *sql, const char *what,
		struct strbuf *err);
/* NULL binds "". */
int record_bind_text(sqlite3_stmt *st, int i, const char *s);
/* One IMMEDIATE transaction under r->lock; txn_end commits when ok is 0,
 * else rolls back. Both 0 or -1 + err. */
int record_txn_begin(struct record *r, struct strbuf *err);
int record_txn_end(struct record *r, int ok, struct strbuf *err);
/* Never NULL: "" for SQL NULL. */
char *record_column_str(sqlite3_stmt *st, int i);
/* A row of RECORD_RUN_COLUMNS. */
void record_read_run(sqlite3_stmt *st, struct record_run *run);
/* Prepare sql and bind n text arguments to ?1 .. ?n; NULL + err. */
sqlite3_stmt *record_prepare(struct record *r, const char *sql,
			     const char *what, struct strbuf *err, int n, ...);
/* Step a statement that returns no row, then finalize it. */
int record_step_done(struct record *r, sqlite3_stmt *st, const char *what,
		     struct strbuf *err);
/* The first column of every row (finalizes st). */
int record_list_strings(struct record *r, sqlite3_stmt *st, char ***out,
			size_t *n, struct strbuf *err);
/* Every row of st (RECORD_RUN_COLUMNS) as runs; finalizes st. */
int record_list_runs_where(struct record *r, sqlite3_stmt *st,
			   struct record_run **runs, size_t *n,
			   struct strbuf *err);

#endif
