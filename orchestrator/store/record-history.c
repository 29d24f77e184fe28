/*
 * record-history: what comparison reads: the commits of a tree in the
 * order they were recorded (parents before children: each push is
 * recorded oldest first, on top of what was there), the (tree, build)
 * pairs that have runs, and every run of one pair. Read-only.
 */
#include <stdlib.h>
#include <string.h>

#include "store/record-priv.h"
#include "lib/xmalloc.h"

int record_history_commits(struct record *r, const char *tree,
			   struct record_commit **out, size_t *n,
			   struct strbuf *err)
{
	struct record_commit *v = NULL;
	size_t nr = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	st = record_prepare(r, "SELECT id, subject, author, time, parent FROM "
			    "commits WHERE tree = ?1 AND id NOT IN (SELECT "
			    "revert_commit FROM reverts WHERE tree = ?1) "
			    "ORDER BY rowid",
			    "cannot list commits", err, 1, tree);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].id = record_column_str(st, 0);
		v[nr].subject = record_column_str(st, 1);
		v[nr].author = record_column_str(st, 2);
		v[nr].time = sqlite3_column_int64(st, 3);
		v[nr].parent = record_column_str(st, 4);
		nr++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list commits");
		record_history_commits_free(v, nr);
		return -1;
	}
	*out = v;
	*n = nr;
	return 0;
}

void record_history_commits_free(struct record_commit *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].subject);
		free(v[i].author);
		free(v[i].parent);
	}
	free(v);
}

int record_history_tree_builds(struct record *r, char ***pairs, size_t *n,
			       struct strbuf *err)
{
	char **v = NULL;
	size_t nr = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc;

	*pairs = NULL;
	*n = 0;
	st = record_prepare(r, "SELECT DISTINCT tree, build FROM runs r WHERE "
			    "tree != '' AND " RECORD_NOT_TRY_SQL
			    " ORDER BY tree, build",
			    "cannot list trees", err, 0);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 2, alloc);
		v[nr++] = record_column_str(st, 0);
		v[nr++] = record_column_str(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list trees");
		record_strings_free(v, nr);
		return -1;
	}
	*pairs = v;
	*n = nr / 2;
	return 0;
}

int record_history_tree_runs(struct record *r, const char *tree,
			     const char *build, struct record_run **runs,
			     size_t *n, struct strbuf *err)
{
	return record_list_runs_where(r, record_prepare(r, "SELECT "
				      RECORD_RUN_COLUMNS RECORD_RUN_FROM
				      "WHERE r.tree = ?1 AND r.build = ?2 AND "
				      RECORD_NOT_TRY_SQL " ORDER BY r.id",
				      "cannot list runs", err, 2, tree, build),
				      runs, n, err);
}

/*
 * The same runs with only what comparing reads (id, cell, verdict, line,
 * commit_id, purpose; the other strings NULL): no join, a third of the
 * memory, for histories of hundreds of thousands of runs.
 */
int record_history_tree_verdicts(struct record *r, const char *tree,
				 const char *build, struct record_run **runs,
				 size_t *n, struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT id, cell, verdict, line, "
		"commit_id, purpose FROM runs r WHERE tree = ?1 AND build = ?2 "
		"AND " RECORD_NOT_TRY_SQL " ORDER BY id", "cannot list runs",
		err, 2, tree, build);
	struct record_run *v = NULL;
	size_t nr = 0, alloc = 0;
	int rc;

	*runs = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *verdict = (const char *)sqlite3_column_text(st, 2);

		ALLOC_GROW(v, nr + 1, alloc);
		memset(&v[nr], 0, sizeof(v[nr]));
		v[nr].id = sqlite3_column_int64(st, 0);
		v[nr].cell = record_column_str(st, 1);
		v[nr].verdict = verdict_parse(verdict ? verdict : "");
		v[nr].line = record_column_str(st, 3);
		v[nr].commit_id = record_column_str(st, 4);
		v[nr].purpose = record_column_str(st, 5);
		nr++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list runs");
		record_runs_free(v, nr);
		return -1;
	}
	*runs = v;
	*n = nr;
	return 0;
}
