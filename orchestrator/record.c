/*
 * record: the results store. One SQLite database per state directory, in
 * WAL mode with synchronous=FULL: once record_add_run() returns 0 the run
 * is on disk and survives a crash of this process or of the host.
 *
 * This module only ever INSERTs runs. It never updates or deletes one, and
 * it never builds SQL from data: every value is a bound parameter.
 *
 * Strings read back are never NULL ("" for an absent value), so callers
 * can print them without checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sqlite3.h>

#include "fsutil.h"
#include "record.h"
#include "xmalloc.h"
#include "schema.h"

#define RECORD_SCHEMA_VERSION 2
#define RECORD_DB_NAME "hvmatrix.db"
#define RECORD_BUSY_TIMEOUT_MS 5000

struct record {
	char *dir;
	char *db_path;
	sqlite3 *db;
	sqlite3_stmt *insert;
	/* One writer at a time: the connection is shared by the worker
	 * threads that record runs, and a transaction spans several calls. */
	pthread_mutex_t lock;
	int readonly;		/* record_open_readonly(): never writes */
};

static const char insert_sql[] =
	"INSERT INTO runs (batch, kernel_id, kernel_path, kernel_version, "
	"cell, matrix_path, verdict, reason, line, started_at, duration_s, "
	"log_path, nonce, tree, commit_id, build) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	"?15, ?16)";

/* Runs with their commit's subject (schema 2), for reading back. */
#define RUN_COLUMNS \
	"r.id, r.batch, r.kernel_id, r.kernel_path, r.kernel_version, " \
	"r.cell, r.matrix_path, r.verdict, r.reason, r.line, r.started_at, " \
	"r.duration_s, r.log_path, r.nonce, r.tree, r.commit_id, r.build, " \
	"coalesce(c.subject, '')"
#define RUN_FROM \
	" FROM runs r LEFT JOIN commits c ON c.tree = r.tree AND " \
	"c.id = r.commit_id "
static const char list_sql[] =
	"SELECT " RUN_COLUMNS RUN_FROM "ORDER BY r.started_at DESC, r.id DESC";

/*
 * Migrations, in order: migrations[i] takes a store from version i + 1 to
 * i + 2, in the same transaction as the schema.
 */
static const char *const migrations[] = {
	/* 1 -> 2: runs of built commits. */
	"ALTER TABLE runs ADD COLUMN tree TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN commit_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN build TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX IF NOT EXISTS runs_commit ON runs (tree, commit_id, "
	"build, cell);"
	"UPDATE meta SET value = '2' WHERE key = 'schema_version';",
};

char *record_state_dir(const char *opt)
{
	const char *env = getenv("HVMATRIX_STATE");
	char *cwd;
	char *dir;

	if (opt)
		return xstrdup(opt);
	if (env && *env)
		return xstrdup(env);
	/* Absolute, so log paths stored in runs stay valid from anywhere. */
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return xstrdup("hvmatrix-state");
	dir = xstrfmt("%s/hvmatrix-state", strcmp(cwd, "/") ? cwd : "");
	free(cwd);
	return dir;
}

const char *record_dir(const struct record *r)
{
	return r->dir;
}

static void db_error(struct record *r, struct strbuf *err, const char *what)
{
	strbuf_addf(err, "%s: %s: %s", r->db_path, what, sqlite3_errmsg(r->db));
}

static int exec_sql(struct record *r, const char *sql, const char *what,
		    struct strbuf *err)
{
	char *msg = NULL;

	if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	strbuf_addf(err, "%s: %s: %s", r->db_path, what,
		    msg ? msg : sqlite3_errmsg(r->db));
	sqlite3_free(msg);
	return -1;
}

/* journal_mode answers with the mode in force, which may not be WAL. */
static int set_wal(struct record *r, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int ret = -1;

	if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK) {
		db_error(r, err, "cannot set WAL mode");
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_error(r, err, "cannot set WAL mode");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (!mode || strcasecmp(mode, "wal")) {
		strbuf_addf(err, "%s: journal mode is %s, not WAL (is the "
			    "state directory on a local file system?)",
			    r->db_path, mode ? mode : "unknown");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int check_schema_version(struct record *r, struct strbuf *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta "
			       "WHERE key = 'schema_version'", -1, &st,
			       NULL) != SQLITE_OK) {
		db_error(r, err, "cannot read the schema version");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		strbuf_addf(err, "%s: no schema_version in table meta",
			    r->db_path);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		db_error(r, err, "cannot read the schema version");
		goto out;
	}
	if (sqlite3_column_int(st, 0) != RECORD_SCHEMA_VERSION) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		strbuf_addf(err, "%s: schema version %s, this hvmatrix "
			    "knows only version %d", r->db_path,
			    v ? v : "NULL", RECORD_SCHEMA_VERSION);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int schema_version(struct record *r)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = "
			       "'schema_version'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bring an older store up to RECORD_SCHEMA_VERSION (inside a transaction). */
static int migrate(struct record *r, struct strbuf *err)
{
	int v = schema_version(r);

	while (v >= 1 && v < RECORD_SCHEMA_VERSION &&
	       (size_t)v <= ARRAY_SIZE(migrations)) {
		if (exec_sql(r, migrations[v - 1], "cannot migrate the schema",
			     err))
			return -1;
		v = schema_version(r);
	}
	return 0;
}

int record_open(struct record **out, const char *state_dir,
		struct strbuf *err)
{
	struct record *r = xcalloc(1, sizeof(*r));
	char *logs = xstrfmt("%s/logs", state_dir);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_FULLMUTEX;
	int rc, ret = -1;

	*out = NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->dir = xstrdup(state_dir);
	r->db_path = xstrfmt("%s/%s", state_dir, RECORD_DB_NAME);

	rc = fsutil_mkdir_p(state_dir, 0755);
	if (rc) {
		strbuf_addf(err, "%s: cannot create the state directory: %s",
			    state_dir, strerror(-rc));
		goto out;
	}
	rc = fsutil_mkdir_p(logs, 0755);
	if (rc) {
		strbuf_addf(err, "%s: cannot create the log directory: %s",
			    logs, strerror(-rc));
		goto out;
	}

	rc = sqlite3_open_v2(r->db_path, &r->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (r->db)
			db_error(r, err, "cannot open");
		else
			strbuf_addf(err, "%s: cannot open: %s", r->db_path,
				    sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(r->db, 1);
	sqlite3_busy_timeout(r->db, RECORD_BUSY_TIMEOUT_MS);

	if (set_wal(r, err) ||
	    exec_sql(r, "PRAGMA synchronous=FULL", "cannot set synchronous",
		     err))
		goto out;
	/* One transaction, so two processes opening a new store at once
	 * cannot interleave the schema and the version row. */
	if (exec_sql(r, "BEGIN IMMEDIATE", "cannot begin", err))
		goto out;
	if (exec_sql(r, record_schema_sql, "cannot create the schema", err) ||
	    migrate(r, err)) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (exec_sql(r, "COMMIT", "cannot commit the schema", err)) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (check_schema_version(r, err))
		goto out;

	if (sqlite3_prepare_v3(r->db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &r->insert, NULL) != SQLITE_OK) {
		db_error(r, err, "cannot prepare the insert");
		goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	free(logs);
	record_close(r);
	return ret;
}

int record_open_readonly(struct record **out, const char *state_dir,
			 struct strbuf *err)
{
	struct record *r = xcalloc(1, sizeof(*r));
	int rc, ret = -1;

	*out = NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->dir = xstrdup(state_dir);
	r->db_path = xstrfmt("%s/%s", state_dir, RECORD_DB_NAME);
	if (access(r->db_path, F_OK) < 0) {
		ret = 1;	/* nothing recorded yet */
		goto out;
	}
	rc = sqlite3_open_v2(r->db_path, &r->db, SQLITE_OPEN_READONLY |
			     SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (r->db)
			db_error(r, err, "cannot open for reading");
		else
			strbuf_addf(err, "%s: cannot open for reading: %s",
				    r->db_path, sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(r->db, 1);
	sqlite3_busy_timeout(r->db, RECORD_BUSY_TIMEOUT_MS);
	if (check_schema_version(r, err))
		goto out;
	r->readonly = 1;
	*out = r;
	r = NULL;
	ret = 0;
out:
	record_close(r);
	return ret;
}

void record_close(struct record *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->insert);
	sqlite3_close(r->db);
	pthread_mutex_destroy(&r->lock);
	free(r->dir);
	free(r->db_path);
	free(r);
}

/* NULL stores as "" so readers never see NULL; see the schema. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

static int bind_run(sqlite3_stmt *st, const struct record_run *run)
{
	int rc = SQLITE_OK;

	rc |= bind_text(st, 1, run->batch);
	rc |= bind_text(st, 2, run->kernel_id);
	rc |= bind_text(st, 3, run->kernel_path);
	rc |= bind_text(st, 4, run->kernel_version);
	rc |= bind_text(st, 5, run->cell);
	rc |= bind_text(st, 6, run->matrix_path);
	rc |= bind_text(st, 7, verdict_name(run->verdict));
	rc |= bind_text(st, 8, run->reason);
	rc |= bind_text(st, 9, run->line);
	rc |= sqlite3_bind_double(st, 10, run->started_at);
	rc |= sqlite3_bind_double(st, 11, run->duration_s);
	rc |= bind_text(st, 12, run->log_path);
	/* nonce is UNIQUE: an absent one must be NULL, not a shared "". */
	if (run->nonce && *run->nonce)
		rc |= bind_text(st, 13, run->nonce);
	else
		rc |= sqlite3_bind_null(st, 13);
	rc |= bind_text(st, 14, run->tree);
	rc |= bind_text(st, 15, run->commit_id);
	rc |= bind_text(st, 16, run->build);
	return rc;
}

/*
 * Every change is one IMMEDIATE transaction under the lock: one writer at
 * a time on the shared connection.
 */
static int txn_begin(struct record *r, struct strbuf *err)
{
	pthread_mutex_lock(&r->lock);
	if (exec_sql(r, "BEGIN IMMEDIATE", "cannot begin", err)) {
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	return 0;
}

/* Commit when ok is 0, else roll back; returns 0 or -1. */
static int txn_end(struct record *r, int ok, struct strbuf *err)
{
	int ret = ok;

	if (!ret)
		ret = exec_sql(r, "COMMIT", "cannot commit", err);
	if (ret)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&r->lock);
	return ret ? -1 : 0;
}

int record_add_run(struct record *r, struct record_run *run,
		   struct strbuf *err)
{
	int64_t id = 0;
	int bad = 0;

	if (run->verdict <= VERDICT_NONE || run->verdict > VERDICT_BLOCKED) {
		strbuf_addf(err, "%s: refusing to record a run without a "
			    "verdict (%d)", r->db_path, (int)run->verdict);
		return -1;
	}
	/* A BLOCKED run has no kernel, but always a commit. */
	if (((!run->kernel_id || !*run->kernel_id) &&
	     (!run->commit_id || !*run->commit_id)) || !run->cell ||
	    !*run->cell) {
		strbuf_addf(err, "%s: refusing to record a run without a "
			    "kernel id or cell", r->db_path);
		return -1;
	}
	if (txn_begin(r, err))
		return -1;
	if (bind_run(r->insert, run) != SQLITE_OK) {
		db_error(r, err, "cannot bind the run");
		bad = 1;
	} else if (sqlite3_step(r->insert) != SQLITE_DONE) {
		db_error(r, err, "cannot insert the run");
		bad = 1;
	} else {
		id = sqlite3_last_insert_rowid(r->db);
	}
	sqlite3_reset(r->insert);
	sqlite3_clear_bindings(r->insert);
	if (txn_end(r, bad, err))
		return -1;
	run->id = id;
	return 0;
}

static char *column_str(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return xstrdup(s ? s : "");
}

static void read_run(sqlite3_stmt *st, struct record_run *run)
{
	const char *v = (const char *)sqlite3_column_text(st, 7);

	run->id = sqlite3_column_int64(st, 0);
	run->batch = column_str(st, 1);
	run->kernel_id = column_str(st, 2);
	run->kernel_path = column_str(st, 3);
	run->kernel_version = column_str(st, 4);
	run->cell = column_str(st, 5);
	run->matrix_path = column_str(st, 6);
	run->verdict = verdict_parse(v ? v : "");
	run->reason = column_str(st, 8);
	run->line = column_str(st, 9);
	run->started_at = sqlite3_column_double(st, 10);
	run->duration_s = sqlite3_column_double(st, 11);
	run->log_path = column_str(st, 12);
	run->nonce = column_str(st, 13);
	run->tree = column_str(st, 14);
	run->commit_id = column_str(st, 15);
	run->build = column_str(st, 16);
	run->subject = column_str(st, 17);
}

/* Prepare sql and bind n text arguments to ?1 .. ?n (NULL binds ""). */
static sqlite3_stmt *prepare(struct record *r, const char *sql,
			     const char *what, struct strbuf *err, int n, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int i;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(r, err, what);
		return NULL;
	}
	va_start(ap, n);
	for (i = 1; i <= n; i++)
		bind_text(st, i, va_arg(ap, const char *));
	va_end(ap);
	return st;
}

static int list_runs_where(struct record *r, sqlite3_stmt *st,
			   struct record_run **runs, size_t *n,
			   struct strbuf *err)
{
	struct record_run *v = NULL;
	size_t nr = 0, alloc = 0;
	int rc, ret = -1;

	*runs = NULL;
	*n = 0;
	if (!st)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		read_run(st, &v[nr++]);
	}
	if (rc != SQLITE_DONE) {
		db_error(r, err, "cannot list runs");
		goto out;
	}
	*runs = v;
	*n = nr;
	v = NULL;
	nr = 0;
	ret = 0;
out:
	record_runs_free(v, nr);
	sqlite3_finalize(st);
	return ret;
}

int record_list_runs(struct record *r, struct record_run **runs, size_t *n,
		     struct strbuf *err)
{
	return list_runs_where(r, prepare(r, list_sql, "cannot list runs",
					  err, 0), runs, n, err);
}

int record_list_commit_runs(struct record *r, const char *tree,
			    const char *commit_id, struct record_run **runs,
			    size_t *n, struct strbuf *err)
{
	static const char sql[] = "SELECT " RUN_COLUMNS RUN_FROM
		"WHERE r.tree = ?1 AND r.commit_id = ?2 "
		"ORDER BY r.started_at DESC, r.id DESC";

	return list_runs_where(r, prepare(r, sql, "cannot list runs", err, 2,
					  tree, commit_id),
			       runs, n, err);
}

void record_run_release(struct record_run *run)
{
	free(run->batch);
	free(run->kernel_id);
	free(run->kernel_path);
	free(run->kernel_version);
	free(run->cell);
	free(run->matrix_path);
	free(run->reason);
	free(run->line);
	free(run->log_path);
	free(run->nonce);
	free(run->tree);
	free(run->commit_id);
	free(run->build);
	free(run->subject);
	memset(run, 0, sizeof(*run));
}

void record_runs_free(struct record_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_run_release(&runs[i]);
	free(runs);
}

/* The queue, the watcher's commits and tips, and builds (schema 2). */

/* Step a statement that returns no row; finalizes it. */
static int step_done(struct record *r, sqlite3_stmt *st, const char *what,
		     struct strbuf *err)
{
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(r, err, what);
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add_commit(struct record *r, const char *tree,
		      const struct record_commit *c, struct strbuf *err)
{
	sqlite3_stmt *st = prepare(r, "INSERT OR IGNORE INTO commits (tree, "
				   "id, subject, author, parent, time, seen_at) "
				   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				   "cannot add a commit", err, 5, tree, c->id,
				   c->subject, c->author, c->parent);

	if (st) {
		sqlite3_bind_int64(st, 6, c->time);
		sqlite3_bind_double(st, 7, now_s());
	}
	return step_done(r, st, "cannot add a commit", err);
}

static int add_job(struct record *r, const char *tree, const char *commit,
		   const char *build, int priority, int64_t batch,
		   size_t *n_new, struct strbuf *err)
{
	sqlite3_stmt *st = prepare(r, "INSERT OR IGNORE INTO jobs (tree, "
				   "commit_id, build, priority, batch, "
				   "enqueued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				   "cannot queue a job", err, 3, tree, commit,
				   build);

	if (st) {
		sqlite3_bind_int(st, 4, priority);
		sqlite3_bind_int64(st, 5, batch);
		sqlite3_bind_double(st, 6, now_s());
	}
	if (step_done(r, st, "cannot queue a job", err))
		return -1;
	if (n_new)
		*n_new += (size_t)sqlite3_changes(r->db);
	return 0;
}

int record_enqueue(struct record *r, const char *tree,
		   const struct record_commit *commits, size_t n_commits,
		   char *const *builds, size_t n_builds, int64_t batch,
		   int tip_priority, size_t *n_new, struct strbuf *err)
{
	size_t i, k, added = 0;
	int bad = 0;

	if (txn_begin(r, err))
		return -1;
	for (i = 0; i < n_commits && !bad; i++) {
		int prio = i + 1 == n_commits ? tip_priority :
			   RECORD_PRIORITY_NORMAL;

		bad = add_commit(r, tree, &commits[i], err);
		for (k = 0; k < n_builds && !bad; k++)
			bad = add_job(r, tree, commits[i].id, builds[k], prio,
				      batch, &added, err);
	}
	if (txn_end(r, bad, err))
		return -1;
	if (n_new)
		*n_new = added;
	return 0;
}

int record_enqueue_one(struct record *r, const char *tree,
		       const struct record_commit *c, const char *build,
		       int priority, int64_t *job_id, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (txn_begin(r, err))
		return -1;
	bad = add_commit(r, tree, c, err) ||
	      add_job(r, tree, c->id, build, priority, 0, NULL, err);
	if (!bad) {
		st = prepare(r, "UPDATE jobs SET priority = max(priority, ?4), "
			     "state = CASE state WHEN 'done' THEN 'queued' "
			     "ELSE state END WHERE tree = ?1 AND commit_id = ?2 "
			     "AND build = ?3", "cannot raise a job", err, 3, tree,
			     c->id, build);
		if (st)
			sqlite3_bind_int(st, 4, priority);
		bad = step_done(r, st, "cannot raise a job", err);
	}
	if (!bad && job_id) {
		st = prepare(r, "SELECT id FROM jobs WHERE tree = ?1 AND "
			     "commit_id = ?2 AND build = ?3", "cannot find a "
			     "job", err, 3, tree, c->id, build);
		bad = !st || sqlite3_step(st) != SQLITE_ROW;
		if (!bad)
			*job_id = sqlite3_column_int64(st, 0);
		else if (st)
			db_error(r, err, "cannot find a job");
		sqlite3_finalize(st);
	}
	return txn_end(r, bad, err);
}

#define JOB_COLUMNS \
	"j.id, j.tree, j.commit_id, j.build, j.priority, j.batch, j.state, " \
	"j.attempts, j.pgid, j.enqueued_at, j.started_at, j.finished_at, " \
	"coalesce(c.subject, '')"
#define JOB_FROM \
	" FROM jobs j LEFT JOIN commits c ON c.tree = j.tree AND " \
	"c.id = j.commit_id "
#define JOB_ORDER " ORDER BY j.priority DESC, j.batch DESC, j.id ASC"

static const char *const job_states[] = { "queued", "running", "done" };

const char *record_job_state_name(enum record_job_state s)
{
	return (unsigned)s < ARRAY_SIZE(job_states) ? job_states[s] : "?";
}

static void read_job(sqlite3_stmt *st, struct record_job *j)
{
	const char *state = (const char *)sqlite3_column_text(st, 6);
	size_t i;

	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	j->tree = column_str(st, 1);
	j->commit_id = column_str(st, 2);
	j->build = column_str(st, 3);
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
	j->subject = column_str(st, 12);
}

int record_job_next(struct record *r, int64_t only_id,
		    struct record_job *job, struct strbuf *err)
{
	sqlite3_stmt *st;
	int rc, found = 0, bad = 0;

	if (txn_begin(r, err))
		return -1;
	st = prepare(r, "SELECT " JOB_COLUMNS JOB_FROM "WHERE j.state = "
		     "'queued' AND (?1 = 0 OR j.id = ?1)" JOB_ORDER " LIMIT 1",
		     "cannot read the queue", err, 0);
	if (!st) {
		bad = 1;
		goto out;
	}
	sqlite3_bind_int64(st, 1, only_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_job(st, job);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		db_error(r, err, "cannot read the queue");
		bad = 1;
	}
	sqlite3_finalize(st);
	if (!found || bad)
		goto out;
	st = prepare(r, "UPDATE jobs SET state = 'running', attempts = "
		     "attempts + 1, started_at = ?2 WHERE id = ?1",
		     "cannot take a job", err, 0);
	if (st) {
		sqlite3_bind_int64(st, 1, job->id);
		sqlite3_bind_double(st, 2, now_s());
	}
	bad = step_done(r, st, "cannot take a job", err);
	job->state = RECORD_JOB_RUNNING;
	job->attempts++;
out:
	if (txn_end(r, bad, err)) {
		if (found)
			record_job_release(job);
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

	if (txn_begin(r, err))
		return -1;
	st = prepare(r, sql, "cannot update a job", err, 0);
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, arg);
		if (sqlite3_bind_parameter_count(st) >= 3)
			sqlite3_bind_double(st, 3, now_s());
	}
	bad = step_done(r, st, "cannot update a job", err);
	return txn_end(r, bad, err);
}

int record_job_set_pgid(struct record *r, int64_t id, int pgid,
			struct strbuf *err)
{
	return job_update(r, "UPDATE jobs SET pgid = ?2 WHERE id = ?1", id,
			  pgid, err);
}

int record_job_finish(struct record *r, int64_t id, struct strbuf *err)
{
	return job_update(r, "UPDATE jobs SET state = 'done', pgid = ?2, "
			  "finished_at = ?3 WHERE id = ?1", id, 0, err);
}

int record_job_requeue(struct record *r, int64_t id, struct strbuf *err)
{
	return job_update(r, "UPDATE jobs SET state = 'queued', pgid = ?2 "
			  "WHERE id = ?1", id, 0, err);
}

int record_jobs_recover(struct record *r, int **pgids, size_t *n,
			struct strbuf *err)
{
	size_t nr = 0, alloc = 0;
	int *v = NULL;
	sqlite3_stmt *st;
	int rc, bad = 0;

	*pgids = NULL;
	*n = 0;
	if (txn_begin(r, err))
		return -1;
	st = prepare(r, "SELECT pgid FROM jobs WHERE state = 'running' AND "
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
		db_error(r, err, "cannot read the queue");
		bad = 1;
		goto out;
	}
	bad = step_done(r, prepare(r, "UPDATE jobs SET state = 'queued', "
				   "pgid = 0 WHERE state = 'running'",
				   "cannot requeue", err, 0),
			"cannot requeue", err);
out:
	if (txn_end(r, bad, err)) {
		free(v);
		return -1;
	}
	*pgids = v;
	*n = nr;
	return 0;
}

int record_list_jobs(struct record *r, int state, struct record_job **jobs,
		     size_t *n, struct strbuf *err)
{
	struct record_job *v = NULL;
	size_t nr = 0, alloc = 0, i;
	sqlite3_stmt *st;
	int rc;

	*jobs = NULL;
	*n = 0;
	st = prepare(r, "SELECT " JOB_COLUMNS JOB_FROM "WHERE ?1 IS NULL OR "
		     "j.state = ?1" JOB_ORDER, "cannot list jobs", err, 1,
		     state >= 0 ? record_job_state_name(state) : NULL);
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
		db_error(r, err, "cannot list jobs");
		for (i = 0; i < nr; i++)
			record_job_release(&v[i]);
		free(v);
		return -1;
	}
	*jobs = v;
	*n = nr;
	return 0;
}

void record_job_release(struct record_job *j)
{
	free(j->tree);
	free(j->commit_id);
	free(j->build);
	free(j->subject);
	memset(j, 0, sizeof(*j));
}

void record_jobs_free(struct record_job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_job_release(&jobs[i]);
	free(jobs);
}

/* The first column of every row, as strings. */
static int list_strings(struct record *r, sqlite3_stmt *st, char ***out,
			size_t *n, struct strbuf *err)
{
	char **v = NULL;
	size_t nr = 0, alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = column_str(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_error(r, err, "cannot read");
		record_strings_free(v, nr);
		return -1;
	}
	*out = v;
	*n = nr;
	return 0;
}

void record_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int record_known_commits(struct record *r, const char *tree, char ***ids,
			 size_t *n, struct strbuf *err)
{
	return list_strings(r, prepare(r, "SELECT id FROM commits WHERE "
				       "tree = ?1 UNION SELECT commit_id FROM "
				       "tips WHERE tree = ?1",
				       "cannot list commits", err, 1, tree),
			    ids, n, err);
}

int record_set_tip(struct record *r, const char *tree, const char *branch,
		   const char *commit_id, struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (txn_begin(r, err))
		return -1;
	st = prepare(r, "INSERT OR REPLACE INTO tips (tree, branch, "
		     "commit_id, updated_at) VALUES (?1, ?2, ?3, ?4)",
		     "cannot record a tip", err, 3, tree, branch, commit_id);
	if (st)
		sqlite3_bind_double(st, 4, now_s());
	bad = step_done(r, st, "cannot record a tip", err);
	return txn_end(r, bad, err);
}

int record_get_tip(struct record *r, const char *tree, const char *branch,
		   char out[41], struct strbuf *err)
{
	sqlite3_stmt *st = prepare(r, "SELECT commit_id FROM tips WHERE "
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
		db_error(r, err, "cannot read a tip");
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

int64_t record_next_batch(struct record *r)
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

static const char *const build_states[] = { "OK", "FAILED", "ERROR" };

const char *record_build_status_name(enum record_build_status s)
{
	return (unsigned)s < ARRAY_SIZE(build_states) ? build_states[s] : "?";
}

int record_add_build(struct record *r, struct record_build *b,
		     struct strbuf *err)
{
	sqlite3_stmt *st;
	int bad;

	if (txn_begin(r, err))
		return -1;
	st = prepare(r, "INSERT INTO builds (tree, commit_id, build, status, "
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
	bad = step_done(r, st, "cannot record a build", err);
	if (!bad)
		b->id = sqlite3_last_insert_rowid(r->db);
	return txn_end(r, bad, err);
}

int record_last_build(struct record *r, const char *tree,
		      const char *commit_id, const char *build,
		      struct record_build *out, struct strbuf *err)
{
	sqlite3_stmt *st = prepare(r, "SELECT id, status, reason, errors, "
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
		out->reason = column_str(st, 2);
		out->errors = column_str(st, 3);
		out->log_path = column_str(st, 4);
		out->image_path = column_str(st, 5);
		out->started_at = sqlite3_column_double(st, 6);
		out->duration_s = sqlite3_column_double(st, 7);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		db_error(r, err, "cannot read builds");
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

int record_cells_done(struct record *r, const char *tree,
		      const char *commit_id, const char *build, char ***cells,
		      size_t *n, struct strbuf *err)
{
	return list_strings(r, prepare(r, "SELECT DISTINCT cell FROM runs "
				       "WHERE tree = ?1 AND commit_id = ?2 AND "
				       "build = ?3", "cannot list runs", err, 3,
				       tree, commit_id, build),
			    cells, n, err);
}
