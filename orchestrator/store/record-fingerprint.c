/*
 * record-fingerprint: the one read drift needs (compare/drift.c): every
 * run's fingerprint (schema 8, runs.fingerprint, the JSON object of what
 * the kernel engaged) after a run id, in id order. Only the runs that
 * printed one are returned, so a store of boot-only runs costs a scan of
 * ids and nothing more. Read-only; what a fingerprint means is compare's.
 */
#include <sqlite3.h>

#include "store/record.h"
#include "store/record-priv.h"

int record_fingerprint_after(struct record *r, int64_t after_id,
			     int (*fn)(int64_t id, const char *fingerprint,
				       void *data, struct strbuf *err),
			     void *data, struct strbuf *err)
{
	static const char sql[] = "SELECT r.id, r.fingerprint FROM runs r "
		"WHERE r.id > ?1 AND r.fingerprint <> '' ORDER BY r.id";
	sqlite3_stmt *st = record_prepare(r, sql, "cannot scan fingerprints",
					  err, 0);
	int rc, ret = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, after_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fp = (const char *)sqlite3_column_text(st, 1);

		if (fn(sqlite3_column_int64(st, 0), fp ? fp : "", data,
		       err) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot scan fingerprints");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
