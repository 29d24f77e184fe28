/*
 * record-reuse: the run whose verdict a new run may carry over instead of
 * booting. Kernel bytes (kernel_id, the image's git blob id) judged in an
 * environment (env_key: the cell's definition, the hypervisor build and
 * the payload, boot/boot-env.h) give the same verdict again: a boot of
 * them would tell nothing new, unless they were seen both ways there.
 * Both columns are in the runs_env index (schema 9): one look-up each.
 */
#include <string.h>

#include "store/record.h"
#include "store/record-priv.h"

/* How many verdicts (PASS, FAIL) the bytes got there: 2 is flaky. */
static int verdicts_seen(struct record *r, const char *kernel_id,
			 const char *env_key, struct strbuf *err)
{
	static const char sql[] = "SELECT count(DISTINCT verdict) FROM runs "
		"WHERE kernel_id = ?1 AND env_key = ?2 AND "
		"verdict IN ('PASS', 'FAIL')";
	sqlite3_stmt *st = record_prepare(r, sql, "cannot look up a verdict",
					  err, 2, kernel_id, env_key);
	int n = -1;

	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		record_db_error(r, err, "cannot look up a verdict");
	sqlite3_finalize(st);
	return n;
}

int record_reuse_find(struct record *r, const char *kernel_id,
		      const char *env_key, struct record_run *out,
		      struct strbuf *err)
{
	/* Runs that booted: a reused run points at its original, and
	 * ERROR, BLOCKED (the farm's or the build's) and SKIP (decided by
	 * the host of the day, e.g. its KVM) say nothing of the bytes. */
	static const char sql[] = "SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM
		"WHERE r.kernel_id = ?1 AND r.env_key = ?2 AND "
		"r.reused_from = 0 AND r.verdict IN ('PASS', 'FAIL') "
		"ORDER BY r.id DESC LIMIT 1";
	sqlite3_stmt *st;
	int n, rc;

	memset(out, 0, sizeof(*out));
	if (!kernel_id || !*kernel_id || !env_key || !*env_key)
		return 0;
	n = verdicts_seen(r, kernel_id, env_key, err);
	if (n != 1)
		return n < 0 ? -1 : 0;
	st = record_prepare(r, sql, "cannot look up a verdict", err, 2,
			    kernel_id, env_key);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		record_read_run(st, out);
	else if (rc != SQLITE_DONE)
		record_db_error(r, err, "cannot look up a verdict");
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	if (record_query_probes(r, out, err) < 0) {
		record_run_release(out);
		return -1;
	}
	return 1;
}
