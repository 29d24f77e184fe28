/*
 * record-query: reads of the store bounded by what a page shows, for the
 * dashboard that is rewritten after every job: it must cost the same on
 * the thousandth commit as on the first. Read-only.
 *
 * A row is what the dashboard's grid shows on one line: a kernel image
 * booted by `hvmatrix boot` (commit_id ""), or a built (tree, commit,
 * build), which a BLOCKED run has without an image.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/record.h"
#include "store/record-priv.h"
#include "lib/xmalloc.h"

/* The same key for every run of a row; kernel ids hold no newline. */
#define ROW_KEY_SQL \
	"CASE WHEN r.commit_id = '' THEN r.kernel_id ELSE r.tree || " \
	"char(10) || r.commit_id || char(10) || r.build END"

int record_query_count_runs(struct record *r, struct record_totals *t,
			    struct strbuf *err)
{
	static const char sql[] = "SELECT count(*), count(DISTINCT r.cell), "
		"count(DISTINCT " ROW_KEY_SQL ") FROM runs r WHERE "
		RECORD_NOT_TRY_SQL;
	sqlite3_stmt *st = record_prepare(r, sql, "cannot count runs", err,
					  0);
	int ret = -1;

	memset(t, 0, sizeof(*t));
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		record_db_error(r, err, "cannot count runs");
		goto out;
	}
	t->runs = (size_t)sqlite3_column_int64(st, 0);
	t->cells = (size_t)sqlite3_column_int64(st, 1);
	t->rows = (size_t)sqlite3_column_int64(st, 2);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

struct row {
	char *tree, *commit_id, *build, *kernel_id;
};

static int same_row(const struct row *a, sqlite3_stmt *st)
{
	const char *commit = (const char *)sqlite3_column_text(st, 1);

	commit = commit ? commit : "";
	if (strcmp(a->commit_id, commit))
		return 0;
	if (!*commit) {
		const char *k = (const char *)sqlite3_column_text(st, 3);

		return !strcmp(a->kernel_id, k ? k : "");
	}
	return !strcmp(a->tree, (const char *)sqlite3_column_text(st, 0)) &&
	       !strcmp(a->build, (const char *)sqlite3_column_text(st, 2));
}

/*
 * Walk the runs newest first (the started_at index) and stop as soon as
 * the rows are known: only the four key columns are read.
 */
static int newest_rows(struct record *r, size_t max_rows, size_t max_runs,
		       struct row **rows, size_t *n, struct strbuf *err)
{
	static const char sql[] = "SELECT r.tree, r.commit_id, r.build, "
		"r.kernel_id FROM runs r WHERE " RECORD_NOT_TRY_SQL
		" ORDER BY r.started_at DESC, r.id DESC";
	sqlite3_stmt *st = record_prepare(r, sql, "cannot list runs", err, 0);
	size_t nr = 0, alloc = 0, seen = 0, i;
	struct row *v = NULL;
	int rc = SQLITE_DONE;

	*rows = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((seen < max_runs || nr < max_rows) &&
	       (rc = sqlite3_step(st)) == SQLITE_ROW) {
		seen++;
		for (i = 0; i < nr && !same_row(&v[i], st); i++)
			;
		if (i < nr)
			continue;
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].tree = record_column_str(st, 0);
		v[nr].commit_id = record_column_str(st, 1);
		v[nr].build = record_column_str(st, 2);
		v[nr].kernel_id = record_column_str(st, 3);
		nr++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list runs");
		*rows = v;
		*n = nr;
		return -1;
	}
	*rows = v;
	*n = nr;
	return 0;
}

static void rows_free(struct row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].tree);
		free(v[i].commit_id);
		free(v[i].build);
		free(v[i].kernel_id);
	}
	free(v);
}

/* The newest per_row runs of one row, appended to *runs. */
static int row_runs(struct record *r, const struct row *row, size_t per_row,
		    struct record_run **runs, size_t *n, size_t *alloc,
		    struct strbuf *err)
{
	static const char commit_sql[] = "SELECT " RECORD_RUN_COLUMNS
		RECORD_RUN_FROM "WHERE r.tree = ?1 AND r.commit_id = ?2 AND "
		"r.build = ?3 ORDER BY r.started_at DESC, r.id DESC LIMIT ?4";
	static const char kernel_sql[] = "SELECT " RECORD_RUN_COLUMNS
		RECORD_RUN_FROM "WHERE r.commit_id = '' AND r.kernel_id = ?1 "
		"ORDER BY r.started_at DESC, r.id DESC LIMIT ?2";
	sqlite3_stmt *st;
	int rc;

	if (*row->commit_id) {
		st = record_prepare(r, commit_sql, "cannot list runs", err, 3,
				    row->tree, row->commit_id, row->build);
		if (st)
			sqlite3_bind_int64(st, 4, (sqlite3_int64)per_row);
	} else {
		st = record_prepare(r, kernel_sql, "cannot list runs", err, 1,
				    row->kernel_id);
		if (st)
			sqlite3_bind_int64(st, 2, (sqlite3_int64)per_row);
	}
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(*runs, *n + 1, *alloc);
		record_read_run(st, &(*runs)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list runs");
		return -1;
	}
	return 0;
}

/* Newest first, as record_list_runs(). */
static int cmp_newest(const void *a, const void *b)
{
	const struct record_run *x = a, *y = b;

	if (x->started_at != y->started_at)
		return x->started_at > y->started_at ? -1 : 1;
	return x->id > y->id ? -1 : x->id < y->id;
}

int record_query_recent_runs(struct record *r, size_t max_rows,
			     size_t max_runs, size_t per_row,
			     struct record_run **runs, size_t *n,
			     struct strbuf *err)
{
	struct record_run *v = NULL;
	size_t nv = 0, alloc = 0, nrows = 0, i;
	struct row *rows = NULL;
	int ret = -1;

	*runs = NULL;
	*n = 0;
	if (newest_rows(r, max_rows, max_runs, &rows, &nrows, err) < 0)
		goto out;
	for (i = 0; i < nrows; i++)
		if (row_runs(r, &rows[i], per_row, &v, &nv, &alloc, err) < 0)
			goto out;
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_newest);
	*runs = v;
	*n = nv;
	v = NULL;
	nv = 0;
	ret = 0;
out:
	record_runs_free(v, nv);
	rows_free(rows, nrows);
	return ret;
}

int record_query_run(struct record *r, int64_t id, struct record_run *run,
		     struct strbuf *err)
{
	static const char sql[] = "SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM
		"WHERE r.id = ?1";
	sqlite3_stmt *st = record_prepare(r, sql, "cannot read a run", err, 0);
	int rc, ret = -1;

	memset(run, 0, sizeof(*run));
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		record_read_run(st, run);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		record_db_error(r, err, "cannot read a run");
	}
	sqlite3_finalize(st);
	return ret;
}

int record_query_row_runs(struct record *r, const char *tree,
			  const char *commit_id, const char *build,
			  const char *kernel_id, struct record_run **runs,
			  size_t *n, struct strbuf *err)
{
	struct row row = { (char *)tree, (char *)commit_id, (char *)build,
			   (char *)kernel_id };
	size_t alloc = 0;

	*runs = NULL;
	*n = 0;
	if (row_runs(r, &row, (size_t)INT64_MAX, runs, n, &alloc, err) < 0) {
		record_runs_free(*runs, *n);
		*runs = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int record_query_runs_extent(struct record *r, int64_t *max_id,
			     int64_t *changed,
			     struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT coalesce(max(id), 0), "
		"(SELECT coalesce(max(value), 0) FROM meta WHERE key = "
		"'runs_changed') FROM runs", "cannot read the runs' extent",
		err, 0);
	int ret = -1;

	*max_id = 0;
	*changed = 0;
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		record_db_error(r, err, "cannot read the runs' extent");
		goto out;
	}
	*max_id = sqlite3_column_int64(st, 0);
	*changed = sqlite3_column_int64(st, 1);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* What comparing and the grid read, a sequential read from after_id on. */
int record_query_brief_after(struct record *r, int64_t after_id,
			     int (*fn)(const struct record_run *run,
			     void *data, struct strbuf *err),
			     void *data, struct strbuf *err)
{
	static const char sql[] = "SELECT r.id, r.kernel_id, r.cell, "
		"r.verdict, r.reason, r.line, r.started_at, r.log_path, "
		"r.tree, r.commit_id, r.build, r.purpose, r.reused_from "
		"FROM runs r "
		"WHERE r.id > ?1 AND " RECORD_NOT_TRY_SQL " ORDER BY r.id";
	sqlite3_stmt *st = record_prepare(r, sql, "cannot scan runs", err, 0);
	struct record_run run;
	int rc, ret = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, after_id);
#define COL(i) ((char *)(sqlite3_column_text(st, i) ? \
			 (const char *)sqlite3_column_text(st, i) : ""))
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&run, 0, sizeof(run));
		run.id = sqlite3_column_int64(st, 0);
		run.kernel_id = COL(1);
		run.cell = COL(2);
		run.verdict = verdict_parse(COL(3));
		run.reason = COL(4);
		run.line = COL(5);
		run.started_at = sqlite3_column_double(st, 6);
		run.log_path = COL(7);
		run.tree = COL(8);
		run.commit_id = COL(9);
		run.build = COL(10);
		run.purpose = COL(11);
		run.reused_from = sqlite3_column_int64(st, 12);
		if (fn(&run, data, err) < 0)
			goto out;
	}
#undef COL
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot scan runs");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int record_query_probes(struct record *r, struct record_run *run,
			struct strbuf *err)
{
	static const char probes_sql[] = "SELECT name, result, detail, "
		"seconds FROM probes WHERE run_id = ?1 ORDER BY rowid";
	static const char fp_sql[] = "SELECT fingerprint FROM runs "
		"WHERE id = ?1";
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc;

	record_probes_free(run->probes, run->n_probes);
	run->probes = NULL;
	run->n_probes = 0;
	free(run->fingerprint);
	run->fingerprint = NULL;
	st = record_prepare(r, probes_sql, "cannot read probes", err, 0);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_probe *p;

		if (run->n_probes == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			run->probes = xrealloc(run->probes,
					       alloc * sizeof(*run->probes));
		}
		p = &run->probes[run->n_probes++];
		p->name = record_column_str(st, 0);
		p->result = record_column_str(st, 1);
		p->detail = record_column_str(st, 2);
		p->seconds = sqlite3_column_double(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read probes");
		return -1;
	}
	st = record_prepare(r, fp_sql, "cannot read a fingerprint", err, 0);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run->id);
	rc = sqlite3_step(st);
	run->fingerprint = rc == SQLITE_ROW ? record_column_str(st, 0) :
			   xstrdup("");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
