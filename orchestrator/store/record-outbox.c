/*
 * record-outbox: see record-outbox.h. The table is made by the schema
 * step that brought the store to version 4 (record.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/record-outbox.h"
#include "store/record-priv.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

void record_outbox_event_release(struct record_outbox_event *ev)
{
	free(ev->url);
	free(ev->event);
	free(ev->tree);
	free(ev->build);
	free(ev->cell);
	free(ev->first_bad);
	free(ev->delivery);
	free(ev->body);
	memset(ev, 0, sizeof(*ev));
}

int record_outbox_add(struct record *r, const struct record_outbox_event *ev,
		      size_t n, size_t *added, struct strbuf *err)
{
	double now = timeutil_now();
	size_t i, count = 0;
	int bad = 0;

	if (added)
		*added = 0;
	if (!n)
		return 0;
	if (record_txn_begin(r, err))
		return -1;
	for (i = 0; i < n && !bad; i++) {
		sqlite3_stmt *st = record_prepare(r, "INSERT OR IGNORE INTO "
			"outbox (url, event, tree, build, cell, first_bad, "
			"delivery, body, created_at, next_attempt) VALUES "
			"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
			"cannot queue a webhook event", err, 8, ev[i].url,
			ev[i].event, ev[i].tree, ev[i].build, ev[i].cell,
			ev[i].first_bad, ev[i].delivery, ev[i].body);

		if (st)
			sqlite3_bind_double(st, 9, now);
		bad = record_step_done(r, st, "cannot queue a webhook event",
				       err);
		if (!bad)
			count += (size_t)sqlite3_changes(r->db);
	}
	if (record_txn_end(r, bad, err))
		return -1;
	if (added)
		*added = count;
	return 0;
}

void record_outbox_rows_free(struct record_outbox_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].url);
		free(rows[i].event);
		free(rows[i].delivery);
		free(rows[i].body);
	}
	free(rows);
}

/* The due rows of one endpoint, appended; its next later attempt. */
static int due_of(struct record *r, const char *url, double now, size_t max,
		  struct record_outbox_row **rows, size_t *n, size_t *alloc,
		  double *next_at, struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT id, event, delivery, "
		"body, attempts FROM outbox WHERE url = ?1 AND delivered_at "
		"IS NULL AND next_attempt <= ?2 ORDER BY next_attempt, id "
		"LIMIT ?3", "cannot read the outbox", err, 1, url);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_double(st, 2, now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct record_outbox_row *row;

		ALLOC_GROW(*rows, *n + 1, *alloc);
		row = &(*rows)[(*n)++];
		row->id = sqlite3_column_int64(st, 0);
		row->url = xstrdup(url);
		row->event = record_column_str(st, 1);
		row->delivery = record_column_str(st, 2);
		row->body = record_column_str(st, 3);
		row->attempts = (unsigned)sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read the outbox");
		return -1;
	}
	st = record_prepare(r, "SELECT min(next_attempt) FROM outbox WHERE "
			    "url = ?1 AND delivered_at IS NULL AND "
			    "next_attempt > ?2", "cannot read the outbox", err,
			    1, url);
	if (!st)
		return -1;
	sqlite3_bind_double(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		double t = sqlite3_column_double(st, 0);

		if (!*next_at || t < *next_at)
			*next_at = t;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		record_db_error(r, err, "cannot read the outbox");
		return -1;
	}
	return 0;
}

int record_outbox_due(struct record *r, const char *const *urls,
		      size_t n_urls, double now, size_t max,
		      struct record_outbox_row **rows, size_t *n,
		      double *next_at, struct strbuf *err)
{
	size_t alloc = 0, i;

	*rows = NULL;
	*n = 0;
	*next_at = 0;
	for (i = 0; i < n_urls && *n < max; i++) {
		if (due_of(r, urls[i], now, max - *n, rows, n, &alloc,
			   next_at, err) < 0) {
			record_outbox_rows_free(*rows, *n);
			*rows = NULL;
			*n = 0;
			return -1;
		}
	}
	return 0;
}

int record_outbox_delivered(struct record *r, int64_t id, double at,
			    struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "UPDATE outbox SET delivered_at = ?1, "
			    "attempts = attempts + 1, last_error = '' WHERE "
			    "id = ?2", "cannot mark a webhook delivered", err,
			    0);
	if (st) {
		sqlite3_bind_double(st, 1, at);
		sqlite3_bind_int64(st, 2, id);
	}
	bad = record_step_done(r, st, "cannot mark a webhook delivered", err);
	return record_txn_end(r, bad, err);
}

int record_outbox_retry(struct record *r, int64_t id, double next_at,
			const char *why, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "UPDATE outbox SET next_attempt = ?1, "
			    "attempts = attempts + 1, last_error = ?2 WHERE id "
			    "= ?3 AND delivered_at IS NULL",
			    "cannot reschedule a webhook", err, 0);
	if (st) {
		sqlite3_bind_double(st, 1, next_at);
		record_bind_text(st, 2, why);
		sqlite3_bind_int64(st, 3, id);
	}
	bad = record_step_done(r, st, "cannot reschedule a webhook", err);
	return record_txn_end(r, bad, err);
}

int record_outbox_count(struct record *r, struct record_outbox_counts *c,
			struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT "
		"coalesce(sum(delivered_at IS NULL), 0), "
		"coalesce(sum(delivered_at IS NULL AND attempts > 0), 0), "
		"coalesce(sum(delivered_at IS NOT NULL), 0) FROM outbox",
		"cannot count the outbox", err, 0);
	int rc;

	memset(c, 0, sizeof(*c));
	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->pending = (unsigned)sqlite3_column_int(st, 0);
		c->failing = (unsigned)sqlite3_column_int(st, 1);
		c->delivered = (unsigned)sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		record_db_error(r, err, "cannot count the outbox");
		return -1;
	}
	return 0;
}
