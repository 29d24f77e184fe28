/*
 * record-web: the web kernels (record-web.h): the table web_kernels,
 * their commits of the tree "release", and the one question the daemon
 * asks of them: has this kernel booted in this cell as the cell is now
 * (its env_key)? Runs are keyed by what they booted in, so a cell
 * removed and added again, unchanged, asks for nothing.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/record-web.h"
#include "store/record-priv.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

int record_web_kernels_add(struct record *r,
			   const struct record_web_kernel *k,
			   struct strbuf *err)
{
	char *subject = xstrfmt("Debian %s %s", k->package, k->version);
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err)) {
		free(subject);
		return -1;
	}
	st = record_prepare(r, "INSERT INTO web_kernels (id, release, "
			    "package, version, path, added_at) VALUES (?1, "
			    "?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE "
			    "SET release = excluded.release, package = "
			    "excluded.package, version = excluded.version, "
			    "path = excluded.path", "cannot add a web kernel",
			    err, 5, k->id, k->release, k->package, k->version,
			    k->path);
	if (st)
		sqlite3_bind_double(st, 6, timeutil_now());
	bad = record_step_done(r, st, "cannot add a web kernel", err);
	if (!bad) {
		/* Its commit: no parent, so nothing is compared with it
		 * and nothing bisects to it. */
		st = record_prepare(r, "INSERT OR IGNORE INTO commits (tree, "
				    "id, subject, author, time, parent, "
				    "seen_at) VALUES (?1, ?2, ?3, 'Debian', 0, "
				    "'', ?4)", "cannot add a web kernel", err,
				    3, RECORD_WEB_TREE, k->id, subject);
		if (st)
			sqlite3_bind_double(st, 4, timeutil_now());
		bad = record_step_done(r, st, "cannot add a web kernel", err);
	}
	free(subject);
	return record_txn_end(r, bad, err);
}

static void read_kernel(sqlite3_stmt *st, struct record_web_kernel *k)
{
	k->id = record_column_str(st, 0);
	k->release = record_column_str(st, 1);
	k->package = record_column_str(st, 2);
	k->version = record_column_str(st, 3);
	k->path = record_column_str(st, 4);
	k->added_at = sqlite3_column_double(st, 5);
}

#define KERNEL_COLUMNS "SELECT id, release, package, version, path, " \
		       "added_at FROM web_kernels "

int record_web_kernels_list(struct record *r, struct record_web_kernel **out,
			    size_t *n, struct strbuf *err)
{
	struct record_web_kernel *v = NULL;
	size_t nr = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = record_prepare(r, KERNEL_COLUMNS "ORDER BY added_at, id",
			    "cannot list web kernels", err, 0);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		read_kernel(st, &v[nr++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list web kernels");
		record_web_kernels_free(v, nr);
		return -1;
	}
	*out = v;
	*n = nr;
	return 0;
}

int record_web_kernels_get(struct record *r, const char *id,
			   struct record_web_kernel *out, struct strbuf *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	st = record_prepare(r, KERNEL_COLUMNS "WHERE id = ?1",
			    "cannot read a web kernel", err, 1, id);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_kernel(st, out);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read a web kernel");
		return -1;
	}
	return rc == SQLITE_ROW;
}

void record_web_kernel_release(struct record_web_kernel *k)
{
	free(k->id);
	free(k->release);
	free(k->package);
	free(k->version);
	free(k->path);
	memset(k, 0, sizeof(*k));
}

void record_web_kernels_free(struct record_web_kernel *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_web_kernel_release(&k[i]);
	free(k);
}

int record_web_want(struct record *r, const char *id, const char *cell,
		    const char *env_key, int *wanted, struct strbuf *err)
{
	sqlite3_stmt *st;
	int rc, same = 0, have = 0;

	*wanted = 0;
	st = record_prepare(r, "SELECT count(*), coalesce(sum(env_key = ?4), "
			    "0) FROM runs WHERE tree = ?1 AND commit_id = ?2 "
			    "AND cell = ?3", "cannot read a web kernel's runs",
			    err, 4, RECORD_WEB_TREE, id, cell, env_key);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		have = sqlite3_column_int(st, 0);
		same = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		record_db_error(r, err, "cannot read a web kernel's runs");
		return -1;
	}
	if (same)
		return 0;
	/* One run more than it has: wants keep the highest asked, so
	 * asking again before it ran asks for nothing more. */
	if (record_queue_want_runs(r, RECORD_WEB_TREE, id, RECORD_WEB_BUILD,
				   cell, (unsigned)have + 1,
				   RECORD_WEB_PURPOSE, RECORD_PRIORITY_WEB,
				   err) < 0)
		return -1;
	*wanted = 1;
	return 0;
}

/* The index runs_commit (tree, commit_id, build, cell) finds them. */
int record_web_runs(struct record *r, struct record_run **runs, size_t *n,
		    struct strbuf *err)
{
	static const char sql[] = "SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM
		"WHERE r.tree = '" RECORD_WEB_TREE "' AND r.commit_id IN "
		"(SELECT id FROM web_kernels) ORDER BY r.started_at, r.id";

	return record_list_runs_where(r, record_prepare(r, sql,
				      "cannot list the web's runs", err, 0),
				      runs, n, err);
}
