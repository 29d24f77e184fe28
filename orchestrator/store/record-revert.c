/*
 * record-revert: the revert checks of bisected culprits (schema 11,
 * table reverts): what the daemon decided for each (tree, build, culprit,
 * tip). What the revert's runs showed is not kept here: compare derives
 * it from the runs (purpose 'revert') every time, so a restart neither
 * loses nor redoes a finished check.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/record.h"
#include "store/record-priv.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

int record_revert_add(struct record *r, const struct record_revert *rv,
		      const char *subject, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "INSERT OR IGNORE INTO reverts (tree, build, "
			    "culprit, tip, revert_commit, status, detail, "
			    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			    "?8)", "cannot record a revert check", err, 7,
			    rv->tree, rv->build, rv->culprit, rv->tip,
			    rv->revert_commit, rv->status, rv->detail);
	if (st)
		sqlite3_bind_double(st, 8, timeutil_now());
	bad = record_step_done(r, st, "cannot record a revert check", err);
	/* The revert commit's subject for whoever lists its runs; the
	 * tree's history leaves the commit out (record-history.c). */
	if (!bad && rv->revert_commit && *rv->revert_commit) {
		st = record_prepare(r, "INSERT OR IGNORE INTO commits (tree, "
				    "id, subject, author, parent, time, "
				    "seen_at) VALUES (?1, ?2, ?3, '', ?4, 0, "
				    "?5)", "cannot record a revert check", err,
				    4, rv->tree, rv->revert_commit, subject,
				    rv->tip);
		if (st)
			sqlite3_bind_double(st, 5, timeutil_now());
		bad = record_step_done(r, st, "cannot record a revert check",
				       err);
		/* record_queue_want_runs may have added it first, bare. */
		st = bad ? NULL :
		     record_prepare(r, "UPDATE commits SET subject = ?3, "
				    "parent = ?4 WHERE tree = ?1 AND id = ?2",
				    "cannot record a revert check", err, 4,
				    rv->tree, rv->revert_commit, subject,
				    rv->tip);
		bad = bad || record_step_done(r, st,
					      "cannot record a revert check",
					      err);
	}
	return record_txn_end(r, bad, err);
}

int record_revert_list(struct record *r, struct record_revert **out,
		       size_t *n, struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT tree, build, culprit, "
		"tip, revert_commit, status, detail, created_at FROM reverts "
		"ORDER BY created_at, rowid", "cannot list revert checks",
		err, 0);
	struct record_revert *v = NULL;
	size_t nr = 0, alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].tree = record_column_str(st, 0);
		v[nr].build = record_column_str(st, 1);
		v[nr].culprit = record_column_str(st, 2);
		v[nr].tip = record_column_str(st, 3);
		v[nr].revert_commit = record_column_str(st, 4);
		v[nr].status = record_column_str(st, 5);
		v[nr].detail = record_column_str(st, 6);
		v[nr].created_at = sqlite3_column_double(st, 7);
		nr++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list revert checks");
		record_revert_list_free(v, nr);
		return -1;
	}
	*out = v;
	*n = nr;
	return 0;
}

int record_revert_runs(struct record *r, const char *tree,
		       const char *revert_commit, const char *build,
		       struct record_run **runs, size_t *n,
		       struct strbuf *err)
{
	static const char sql[] = "SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM
		"WHERE r.tree = ?1 AND r.commit_id = ?2 AND r.build = ?3 AND "
		"r.purpose = 'revert' ORDER BY r.id";

	return record_list_runs_where(r, record_prepare(r, sql,
				      "cannot list a revert's runs", err, 3,
				      tree, revert_commit, build), runs, n,
				      err);
}

void record_revert_list_free(struct record_revert *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].tree);
		free(v[i].build);
		free(v[i].culprit);
		free(v[i].tip);
		free(v[i].revert_commit);
		free(v[i].status);
		free(v[i].detail);
	}
	free(v);
}
