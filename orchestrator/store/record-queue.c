/*
 * record-queue: the queue of (tree, commit, build) jobs, the commits the
 * watcher found and the branch tips it last saw (schema 2). A job is
 * never queued twice for one (tree, commit, build).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/record-priv.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

static int add_commit(struct record *r, const char *tree,
		      const struct record_commit *c, struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "INSERT OR IGNORE INTO commits (tree, "
				   "id, subject, author, parent, time, seen_at) "
				   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				   "cannot add a commit", err, 5, tree, c->id,
				   c->subject, c->author, c->parent);

	if (st) {
		sqlite3_bind_int64(st, 6, c->time);
		sqlite3_bind_double(st, 7, timeutil_now());
	}
	return record_step_done(r, st, "cannot add a commit", err);
}

static int add_job(struct record *r, const char *tree, const char *commit,
		   const char *build, int priority, int64_t batch,
		   size_t *n_new, struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "INSERT OR IGNORE INTO jobs (tree, "
				   "commit_id, build, priority, batch, "
				   "enqueued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				   "cannot queue a job", err, 3, tree, commit,
				   build);

	if (st) {
		sqlite3_bind_int(st, 4, priority);
		sqlite3_bind_int64(st, 5, batch);
		sqlite3_bind_double(st, 6, timeutil_now());
	}
	if (record_step_done(r, st, "cannot queue a job", err))
		return -1;
	if (n_new)
		*n_new += (size_t)sqlite3_changes(r->db);
	return 0;
}

int record_queue_add(struct record *r, const char *tree,
		     const struct record_commit *commits, size_t n_commits,
		     char *const *builds, size_t n_builds, int64_t batch,
		     int tip_priority, unsigned flags, size_t *n_new,
		     struct strbuf *err)
{
	size_t i, k, added = 0;
	int bad = 0;

	if (record_txn_begin(r, err))
		return -1;
	for (i = 0; i < n_commits && !bad; i++) {
		int prio = i + 1 == n_commits ? tip_priority :
			   RECORD_PRIORITY_NORMAL;

		bad = add_commit(r, tree, &commits[i], err);
		if (((flags & RECORD_ENQUEUE_TIP_ONLY) && i + 1 < n_commits) ||
		    (flags & RECORD_ENQUEUE_NO_JOBS))
			continue;
		for (k = 0; k < n_builds && !bad; k++)
			bad = add_job(r, tree, commits[i].id, builds[k], prio,
				      batch, &added, err);
	}
	if (record_txn_end(r, bad, err))
		return -1;
	if (n_new)
		*n_new = added;
	return 0;
}

int record_queue_add_one(struct record *r, const char *tree,
			 const struct record_commit *c, const char *build,
			 int priority, int64_t *job_id, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	bad = add_commit(r, tree, c, err) ||
	      add_job(r, tree, c->id, build, priority, 0, NULL, err);
	if (!bad) {
		st = record_prepare(r, "UPDATE jobs SET priority = max(priority, ?4), "
			     "state = CASE state WHEN 'done' THEN 'queued' "
			     "ELSE state END WHERE tree = ?1 AND commit_id = ?2 "
			     "AND build = ?3", "cannot raise a job", err, 3, tree,
			     c->id, build);
		if (st)
			sqlite3_bind_int(st, 4, priority);
		bad = record_step_done(r, st, "cannot raise a job", err);
	}
	if (!bad && job_id) {
		st = record_prepare(r, "SELECT id FROM jobs WHERE tree = ?1 AND "
			     "commit_id = ?2 AND build = ?3", "cannot find a "
			     "job", err, 3, tree, c->id, build);
		bad = !st || sqlite3_step(st) != SQLITE_ROW;
		if (!bad)
			*job_id = sqlite3_column_int64(st, 0);
		else if (st)
			record_db_error(r, err, "cannot find a job");
		sqlite3_finalize(st);
	}
	return record_txn_end(r, bad, err);
}

#define JOB_COLUMNS \
	"j.id, j.tree, j.commit_id, j.build, j.priority, j.batch, j.state, " \
	"j.attempts, j.pgid, j.enqueued_at, j.started_at, j.finished_at, " \
	"coalesce(c.subject, ''), j.not_before, j.last_error"
#define JOB_FROM \
	" FROM jobs j LEFT JOIN commits c ON c.tree = j.tree AND " \
	"c.id = j.commit_id "
#define JOB_ORDER " ORDER BY j.priority DESC, j.batch DESC, j.id ASC"

static const char *const job_states[] = { "queued", "running", "done" };

const char *record_queue_job_state_name(enum record_job_state s)
{
	return (unsigned)s < ARRAY_SIZE(job_states) ? job_states[s] : "?";
}

static void read_job(sqlite3_stmt *st, struct record_job *j)
{
	const char *state = (const char *)sqlite3_column_text(st, 6);
	size_t i;

	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->tree = record_column_str(st, 1);
	j->commit_id = record_column_str(st, 2);
	j->build = record_column_str(st, 3);
	j->priority = sqlite3_column_int(st, 4);
	j->batch = sqlite3_column_int64(st, 5);
	for (i = 0; i < ARRAY_SIZE(job_states); i++)
		if (state && !strcmp(state, job_states[i]))
			j->state = (enum record_job_state)i;
	j->attempts = sqlite3_column_int(st, 7);
	j->pgid = sqlite3_column_int(st, 8);
	j->enqueued_at = sqlite3_column_double(st, 9);
	j->started_at = sqlite3_column_double(st, 10);
	j->finished_at = sqlite3_column_double(st, 11);
	j->subject = record_column_str(st, 12);
	j->not_before = sqlite3_column_double(st, 13);
	j->last_error = record_column_str(st, 14);
}

int record_queue_job_next(struct record *r, int64_t only_id,
			  struct record_job *job, struct strbuf *err)
{
	sqlite3_stmt *st;
	int rc, found = 0, bad = 0;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "SELECT " JOB_COLUMNS JOB_FROM "WHERE j.state = "
		     "'queued' AND (?1 = 0 OR j.id = ?1) AND j.not_before <= ?2"
		     JOB_ORDER " LIMIT 1",
		     "cannot read the queue", err, 0);
	if (!st) {
		bad = 1;
		goto out;
	}
	sqlite3_bind_int64(st, 1, only_id);
	sqlite3_bind_double(st, 2, timeutil_now());
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_job(st, job);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read the queue");
		bad = 1;
	}
	sqlite3_finalize(st);
	if (!found || bad)
		goto out;
	st = record_prepare(r, "UPDATE jobs SET state = 'running', attempts = "
		     "attempts + 1, started_at = ?2 WHERE id = ?1",
		     "cannot take a job", err, 0);
	if (st) {
		sqlite3_bind_int64(st, 1, job->id);
		sqlite3_bind_double(st, 2, timeutil_now());
	}
	bad = record_step_done(r, st, "cannot take a job", err);
	job->state = RECORD_JOB_RUNNING;
	job->attempts++;
out:
	if (record_txn_end(r, bad, err)) {
		if (found)
			record_queue_job_release(job);
		return -1;
	}
	return found;
}

/* One UPDATE of one job by id (?1), with an optional integer ?2. */
static int job_update(struct record *r, const char *sql, int64_t id,
		      int64_t arg, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, sql, "cannot update a job", err, 0);
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, arg);
		if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_double(st, 3, timeutil_now());
	}
	bad = record_step_done(r, st, "cannot update a job", err);
	return record_txn_end(r, bad, err);
}

int record_queue_job_set_pgid(struct record *r, int64_t id, int pgid,
			      struct strbuf *err)
{
	return job_update(r, "UPDATE jobs SET pgid = ?2 WHERE id = ?1", id,
			  pgid, err);
}

int record_queue_job_finish(struct record *r, int64_t id, struct strbuf *err)
{
	return job_update(r, "UPDATE jobs SET state = 'done', pgid = ?2, "
			  "finished_at = ?3 WHERE id = ?1", id, 0, err);
}

int record_queue_job_requeue(struct record *r, int64_t id, struct strbuf *err)
{
	/* Stopped, not failed: the attempt does not count. */
	return job_update(r, "UPDATE jobs SET state = 'queued', pgid = ?2, "
			  "attempts = max(attempts - 1, 0) WHERE id = ?1", id,
			  0, err);
}

int record_queue_job_defer(struct record *r, int64_t id, double not_before,
			   const char *reason, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "UPDATE jobs SET state = 'queued', pgid = 0, "
			    "not_before = ?2, last_error = ?3 WHERE id = ?1",
			    "cannot defer a job", err, 0);
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_double(st, 2, not_before);
		record_bind_text(st, 3, reason);
	}
	bad = record_step_done(r, st, "cannot defer a job", err);
	return record_txn_end(r, bad, err);
}

int record_queue_next_due(struct record *r, int64_t only_id, double *at,
			  struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT min(not_before) FROM jobs "
					  "WHERE state = 'queued' AND "
					  "(?1 = 0 OR id = ?1)",
					  "cannot read the queue", err, 0);
	int rc, ret = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, only_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = sqlite3_column_type(st, 0) != SQLITE_NULL;
		if (ret)
			*at = sqlite3_column_double(st, 0);
	} else {
		record_db_error(r, err, "cannot read the queue");
	}
	sqlite3_finalize(st);
	return ret;
}

int record_queue_probe_write(struct record *r, struct strbuf *err)
{
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	bad = record_exec(r, "INSERT OR REPLACE INTO meta (key, value) VALUES "
			  "('last_write', CAST(strftime('%s', 'now') AS "
			  "TEXT))", "cannot write", err);
	return record_txn_end(r, bad, err);
}

int record_queue_jobs_recover(struct record *r, int **pgids, size_t *n,
			      struct strbuf *err)
{
	size_t nr = 0, alloc = 0;
	int *v = NULL;
	sqlite3_stmt *st;
	int rc, bad = 0;

	*pgids = NULL;
	*n = 0;
	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "SELECT pgid FROM jobs WHERE state = 'running' AND "
		     "pgid > 0", "cannot read the queue", err, 0);
	if (!st) {
		bad = 1;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read the queue");
		bad = 1;
		goto out;
	}
	bad = record_step_done(r, record_prepare(r, "UPDATE jobs SET state = 'queued', "
				   "pgid = 0 WHERE state = 'running'",
				   "cannot requeue", err, 0),
			"cannot requeue", err);
out:
	if (record_txn_end(r, bad, err)) {
		free(v);
		return -1;
	}
	*pgids = v;
	*n = nr;
	return 0;
}

int record_queue_list_jobs(struct record *r, int state,
			   struct record_job **jobs,
			   size_t *n, struct strbuf *err)
{
	struct record_job *v = NULL;
	size_t nr = 0, alloc = 0, i;
	sqlite3_stmt *st;
	int rc;

	*jobs = NULL;
	*n = 0;
	st = record_prepare(r, "SELECT " JOB_COLUMNS JOB_FROM "WHERE ?1 IS NULL OR "
		     "j.state = ?1" JOB_ORDER, "cannot list jobs", err, 1,
		     state >= 0 ? record_queue_job_state_name(state) : NULL);
	if (!st)
		return -1;
	if (state < 0)
		sqlite3_bind_null(st, 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		read_job(st, &v[nr++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list jobs");
		for (i = 0; i < nr; i++)
			record_queue_job_release(&v[i]);
		free(v);
		return -1;
	}
	*jobs = v;
	*n = nr;
	return 0;
}

void record_queue_job_release(struct record_job *j)
{
	free(j->tree);
	free(j->commit_id);
	free(j->build);
	free(j->subject);
	free(j->last_error);
	memset(j, 0, sizeof(*j));
}

void record_queue_jobs_free(struct record_job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_queue_job_release(&jobs[i]);
	free(jobs);
}

/* The first column of every row, as strings. */
int record_queue_known_commits(struct record *r, const char *tree, char ***ids,
			       size_t *n, struct strbuf *err)
{
	return record_list_strings(r, record_prepare(r, "SELECT id FROM commits WHERE "
				       "tree = ?1 UNION SELECT commit_id FROM "
				       "tips WHERE tree = ?1",
				       "cannot list commits", err, 1, tree),
			    ids, n, err);
}

int record_queue_set_tip(struct record *r, const char *tree, const char *branch,
			 const char *commit_id, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "INSERT OR REPLACE INTO tips (tree, branch, "
		     "commit_id, updated_at) VALUES (?1, ?2, ?3, ?4)",
		     "cannot record a tip", err, 3, tree, branch, commit_id);
	if (st)
		sqlite3_bind_double(st, 4, timeutil_now());
	bad = record_step_done(r, st, "cannot record a tip", err);
	return record_txn_end(r, bad, err);
}

int record_queue_get_tip(struct record *r, const char *tree, const char *branch,
			 char out[41], struct strbuf *err)
{
	sqlite3_stmt *st = record_prepare(r, "SELECT commit_id FROM tips WHERE "
				   "tree = ?1 AND branch = ?2",
				   "cannot read a tip", err, 2, tree, branch);
	int rc, ret = 0;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		snprintf(out, 41, "%s", id ? id : "");
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read a tip");
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

int64_t record_queue_next_batch(struct record *r)
{
	sqlite3_stmt *st = NULL;
	int64_t b = 1;

	if (sqlite3_prepare_v2(r->db, "SELECT coalesce(max(batch), 0) + 1 "
			       "FROM jobs", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		b = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return b;
}

int record_queue_want_runs(struct record *r, const char *tree,
		     const char *commit_id, const char *build, const char *cell,
		     unsigned runs, const char *purpose, int priority,
		     struct strbuf *err)
{
	struct record_commit c = {
		(char *)commit_id, (char *)"", (char *)"", 0, (char *)"",
	};
	sqlite3_stmt *st;
	int bad;

	if (record_txn_begin(r, err))
		return -1;
	st = record_prepare(r, "INSERT INTO wants (tree, commit_id, build, "
			    "cell, runs, purpose, updated_at) VALUES (?1, ?2, "
			    "?3, ?4, ?5, ?6, ?7) ON CONFLICT (tree, commit_id, "
			    "build, cell) DO UPDATE SET runs = max(runs, "
			    "excluded.runs), purpose = excluded.purpose, "
			    "updated_at = excluded.updated_at",
			    "cannot want runs", err, 4, tree, commit_id, build,
			    cell);
	if (st) {
		sqlite3_bind_int(st, 5, (int)runs);
		record_bind_text(st, 6, purpose);
		sqlite3_bind_double(st, 7, timeutil_now());
	}
	bad = record_step_done(r, st, "cannot want runs", err);
	/* A commit the watcher never queued (test: tips) gets a job that
	 * runs only what is wanted. */
	bad = bad || add_commit(r, tree, &c, err);
	if (!bad) {
		st = record_prepare(r, "INSERT OR IGNORE INTO jobs (tree, "
				    "commit_id, build, priority, batch, "
				    "enqueued_at, scope) VALUES (?1, ?2, ?3, "
				    "?4, 0, ?5, 'wants')", "cannot queue a job",
				    err, 3, tree, commit_id, build);
		if (st) {
			sqlite3_bind_int(st, 4, priority);
			sqlite3_bind_double(st, 5, timeutil_now());
		}
		bad = record_step_done(r, st, "cannot queue a job", err);
	}
	if (!bad) {
		st = record_prepare(r, "UPDATE jobs SET priority = max(priority, "
				    "?4), state = CASE state WHEN 'done' THEN "
				    "'queued' ELSE state END, attempts = CASE "
				    "state WHEN 'done' THEN 0 ELSE attempts END "
				    "WHERE tree = ?1 AND commit_id = ?2 AND "
				    "build = ?3", "cannot raise a job", err, 3,
				    tree, commit_id, build);
		if (st)
			sqlite3_bind_int(st, 4, priority);
		bad = record_step_done(r, st, "cannot raise a job", err);
	}
	return record_txn_end(r, bad, err);
}
