/*
 * record-webview: the reads the compatibility web's views need (schema
 * 10): the released kernels (web_kernels, one row per kernel image, id its
 * sha256) and their runs (tree 'release', commit_id the kernel's id). What
 * the runs mean (classes, columns, support windows) is compare/web-table.c's.
 * Read-only.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/record.h"
#include "store/record-priv.h"
#include "lib/xmalloc.h"

int record_webview_kernels(struct record *r,
			   struct record_webview_kernel **out, size_t *n,
			   struct strbuf *err)
{
	static const char sql[] = "SELECT id, release, package, version, "
		"path, added_at FROM web_kernels ORDER BY id";
	sqlite3_stmt *st = record_prepare(r, sql, "cannot list the web's "
					  "kernels", err, 0);
	struct record_webview_kernel *v = NULL;
	size_t nv = 0, alloc = 0;
	int rc, ret = -1;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_webview_kernel *k;

		ALLOC_GROW(v, nv + 1, alloc);
		k = &v[nv++];
		k->id = record_column_str(st, 0);
		k->release = record_column_str(st, 1);
		k->package = record_column_str(st, 2);
		k->version = record_column_str(st, 3);
		k->path = record_column_str(st, 4);
		k->added_at = sqlite3_column_double(st, 5);
	}
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list the web's kernels");
		goto out;
	}
	*out = v;
	*n = nv;
	v = NULL;
	nv = 0;
	ret = 0;
out:
	record_webview_kernels_free(v, nv);
	sqlite3_finalize(st);
	return ret;
}

void record_webview_kernels_free(struct record_webview_kernel *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].release);
		free(v[i].package);
		free(v[i].version);
		free(v[i].path);
	}
	free(v);
}

/* The index runs_commit (tree, commit_id, build, cell) finds them. */
int record_webview_runs(struct record *r, struct record_run **runs,
			size_t *n, struct strbuf *err)
{
	static const char sql[] = "SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM
		"WHERE r.tree = 'release' AND r.commit_id IN "
		"(SELECT id FROM web_kernels) ORDER BY r.started_at, r.id";

	return record_list_runs_where(r, record_prepare(r, sql,
				      "cannot list the web's runs", err, 0),
				      runs, n, err);
}
