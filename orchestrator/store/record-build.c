/*
 * record-build: the builds of each (tree, commit, build config) and which
 * cells already have a verdict, so a resumed job runs only the rest.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/record-priv.h"
#include "lib/xmalloc.h"

static const char *const build_states[] = { "OK", "FAILED", "ERROR" };

const char *record_build_status_name(enum record_build_status s)
{
	return (unsigned)s < ARRAY_SIZE(build_states) ? build_states[s] : "?";
}

int record_build_add(struct record *r, struct record_build *b,
		     struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "INSERT INTO builds (tree, commit_id, build, status, "
		     "reason, errors, log_path, image_path, started_at, "
		     "duration_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
		     "?10)", "cannot record a build", err, 8, b->tree,
		     b->commit_id, b->build,
		     record_build_status_name(b->status), b->reason,
		     b->errors, b->log_path, b->image_path);
	if (st) {
		sqlite3_bind_double(st, 9, b->started_at);
		sqlite3_bind_double(st, 10, b->duration_s);
	}
	bad = record_step_done(r, st, "cannot record a build", err);
	if (!bad)
		b->id = sqlite3_last_insert_rowid(r->db);
	return record_txn_end(r, bad, err);
}

int record_build_last(struct record *r, const char *tree,
		      const char *commit_id, const char *build,
		      struct record_build *out, struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT id, status, reason, errors, "
				   "log_path, image_path, started_at, "
				   "duration_s FROM builds WHERE tree = ?1 AND "
				   "commit_id = ?2 AND build = ?3 ORDER BY id "
				   "DESC LIMIT 1", "cannot read builds", err, 3,
				   tree, commit_id, build);
	const char *status;
	int rc, ret = 0;
	size_t i;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(st, 0);
		out->tree = xstrdup(tree);
		out->commit_id = xstrdup(commit_id);
		out->build = xstrdup(build);
		status = (const char *)sqlite3_column_text(st, 1);
		for (i = 0; i < ARRAY_SIZE(build_states); i++)
			if (status && !strcmp(status, build_states[i]))
				out->status = (enum record_build_status)i;
		out->reason = record_column_str(st, 2);
		out->errors = record_column_str(st, 3);
		out->log_path = record_column_str(st, 4);
		out->image_path = record_column_str(st, 5);
		out->started_at = sqlite3_column_double(st, 6);
		out->duration_s = sqlite3_column_double(st, 7);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read builds");
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

void record_build_release(struct record_build *b)
{
	free(b->tree);
	free(b->commit_id);
	free(b->build);
	free(b->reason);
	free(b->errors);
	free(b->log_path);
	free(b->image_path);
	memset(b, 0, sizeof(*b));
}

int record_build_cells_done(struct record *r, const char *tree,
		      const char *commit_id, const char *build, char ***cells,
		      size_t *n, struct strbuf *err)
{
	return record_list_strings(r, record_prepare(r, "SELECT DISTINCT cell FROM runs "
				       "WHERE tree = ?1 AND commit_id = ?2 AND "
				       "build = ?3", "cannot list runs", err, 3,
				       tree, commit_id, build),
			    cells, n, err);
}

int record_build_recent_fails(struct record *r, const char *tree,
			       const char *build, unsigned last,
			       unsigned window, char ***cells, size_t *n,
			       struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT DISTINCT cell FROM "
		"(SELECT cell, verdict, row_number() OVER (PARTITION BY cell "
		"ORDER BY id DESC) AS k FROM runs WHERE id > (SELECT "
		"coalesce(max(id), 0) FROM runs) - ?3 AND tree = ?1 AND "
		"build = ?2) WHERE k <= ?4 AND verdict = 'FAIL' ORDER BY cell",
		"cannot list recent failures", err, 2, tree, build);

	/* Bounded by id, not by a scan of the tree's whole history. */
	if (st) {
		sqlite3_bind_int64(st, 3, (sqlite3_int64)window);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)last);
	}
	return record_list_strings(r, st, cells, n, err);
}

int record_build_job_plan(struct record *r, const char *tree,
		    const char *commit_id, const char *build, int *scope_all,
		    struct record_plan **plan, size_t *n, struct strbuf *err)
{
	struct record_plan *v = NULL;
	size_t nr = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc, all = 1;

	*plan = NULL;
	*n = 0;
	st = record_prepare(r, "SELECT scope FROM jobs WHERE tree = ?1 AND "
			    "commit_id = ?2 AND build = ?3", "cannot read a job",
			    err, 3, tree, commit_id, build);
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		all = strcmp((const char *)sqlite3_column_text(st, 0), "wants");
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read a job");
		return -1;
	}
	st = record_prepare(r, "SELECT cell, sum(have), sum(want), "
			    "max(purpose) FROM (SELECT cell, count(*) AS have, "
			    "0 AS want, '' AS purpose FROM runs WHERE tree = ?1 "
			    "AND commit_id = ?2 AND build = ?3 GROUP BY cell "
			    "UNION ALL SELECT cell, 0, runs, purpose FROM wants "
			    "WHERE tree = ?1 AND commit_id = ?2 AND build = ?3) "
			    "GROUP BY cell ORDER BY cell", "cannot plan a job",
			    err, 3, tree, commit_id, build);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].cell = record_column_str(st, 0);
		v[nr].have = (unsigned)sqlite3_column_int(st, 1);
		v[nr].want = (unsigned)sqlite3_column_int(st, 2);
		v[nr].purpose = record_column_str(st, 3);
		if (!*v[nr].purpose) {
			free(v[nr].purpose);
			v[nr].purpose = xstrdup("test");
		}
		nr++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot plan a job");
		record_build_plan_free(v, nr);
		return -1;
	}
	*scope_all = all;
	*plan = v;
	*n = nr;
	return 0;
}

void record_build_plan_free(struct record_plan *plan, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(plan[i].cell);
		free(plan[i].purpose);
	}
	free(plan);
}
