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

#include "lib/fsutil.h"
#include "store/record.h"
#include "store/record-priv.h"
#include "lib/xmalloc.h"
#include "store/schema.h"

#define RECORD_SCHEMA_VERSION 10
#define RECORD_DB_NAME "hvmatrix.db"
#define RECORD_BUSY_TIMEOUT_MS 5000


static const char insert_sql[] =
	"INSERT INTO runs (batch, kernel_id, kernel_path, kernel_version, "
	"cell, matrix_path, verdict, reason, line, started_at, duration_s, "
	"log_path, nonce, tree, commit_id, build, purpose, cmdline, "
	"qemu_version, xen_version, fingerprint, env_key, hv_build) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	"?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)";

static const char list_sql[] =
	"SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM "ORDER BY r.started_at DESC, r.id DESC";

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
	/* 2 -> 3: the failure policy: a job that failed waits until
	 * not_before (backoff) and says why in last_error. */
	"ALTER TABLE jobs ADD COLUMN not_before REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN last_error TEXT NOT NULL DEFAULT '';"
	/* ... and regressions: why a run was made, which cells a job is for */
	"ALTER TABLE runs ADD COLUMN purpose TEXT NOT NULL DEFAULT 'test';"
	"ALTER TABLE jobs ADD COLUMN scope TEXT NOT NULL DEFAULT 'all';"
	"UPDATE meta SET value = '3' WHERE key = 'schema_version';",
	/* 3 -> 4: the webhooks' outbox (record-outbox.c): one row per
	 * (endpoint, event), queued once ever, delivered at most once. */
	"CREATE TABLE IF NOT EXISTS outbox ("
	" id INTEGER PRIMARY KEY,"
	" url TEXT NOT NULL, event TEXT NOT NULL, tree TEXT NOT NULL,"
	" build TEXT NOT NULL, cell TEXT NOT NULL, first_bad TEXT NOT NULL,"
	" delivery TEXT NOT NULL, body TEXT NOT NULL,"
	" created_at REAL NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt REAL NOT NULL DEFAULT 0,"
	" delivered_at REAL,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" UNIQUE (url, event, tree, build, cell, first_bad));"
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox (url, delivered_at, "
	"next_attempt);"
	"UPDATE meta SET value = '4' WHERE key = 'schema_version';",
	/* 4 -> 5: the command line that ran a run (QEMU's argv, quoted),
	 * for the dashboard's reproducers; '' for runs that ran nothing. */
	"ALTER TABLE runs ADD COLUMN cmdline TEXT NOT NULL DEFAULT '';"
	"UPDATE meta SET value = '5' WHERE key = 'schema_version';",
	/* 5 -> 6: the hypervisor releases a run ran under, recorded when it
	 * ran (an export later must not ask today's binaries); '' before. */
	"ALTER TABLE runs ADD COLUMN qemu_version TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN xen_version TEXT NOT NULL DEFAULT '';"
	"UPDATE meta SET value = '6' WHERE key = 'schema_version';",
	/* 6 -> 7: runs_changed counts the runs deleted or changed (runs
	 * are only added; by hand they can be), so that a copy of the runs
	 * table, the dashboard's cache, knows in O(1) that it is still a
	 * prefix of it (record_query_runs_extent). */
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('runs_changed', "
	"'0');"
	"CREATE TRIGGER IF NOT EXISTS runs_deleted AFTER DELETE ON runs "
	"BEGIN UPDATE meta SET value = value + 1 WHERE key = 'runs_changed'; "
	"END;"
	"CREATE TRIGGER IF NOT EXISTS runs_updated AFTER UPDATE ON runs "
	"BEGIN UPDATE meta SET value = value + 1 WHERE key = 'runs_changed'; "
	"END;"
	"UPDATE meta SET value = '7' WHERE key = 'schema_version';",
	/* 7 -> 8: what the payload's probes found (record-probes.c): one
	 * row per probe result, and the run's fingerprint (a JSON object,
	 * '' when the guest reported none), kept out of RECORD_RUN_COLUMNS
	 * so that the many readers of runs never carry it. */
	"CREATE TABLE IF NOT EXISTS probes ("
	" run_id INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" seconds REAL NOT NULL,"
	" PRIMARY KEY (run_id, name));"
	"ALTER TABLE runs ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';"
	"UPDATE meta SET value = '8' WHERE key = 'schema_version';",
	/* 8 -> 9: what a run booted in (boot/boot-env.h): env_key, the
	 * digest of the cell's definition, hypervisor and payload, so that
	 * the same kernel bytes in the same environment are known to be
	 * the same boot; hv_build, the hypervisor's digest alone (a
	 * rebuilt QEMU or Xen is a new build). '' when not known. */
	"ALTER TABLE runs ADD COLUMN env_key TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE runs ADD COLUMN hv_build TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX IF NOT EXISTS runs_env ON runs (kernel_id, env_key);"
	"UPDATE meta SET value = '9' WHERE key = 'schema_version';",
	/* 9 -> 10: the compatibility web's released kernels (record-web.c):
	 * id is the image's sha256, also the id of its commit of the tree
	 * "release". */
	"CREATE TABLE IF NOT EXISTS web_kernels (id TEXT PRIMARY KEY, "
	"release TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT "
	"NULL, path TEXT NOT NULL, added_at REAL NOT NULL);"
	"UPDATE meta SET value = '10' WHERE key = 'schema_version';",
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

void record_db_error(struct record *r, struct strbuf *err, const char *what)
{
	strbuf_addf(err, "%s: %s: %s", r->db_path, what, sqlite3_errmsg(r->db));
}

int record_exec(struct record *r, const char *sql, const char *what,
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
		record_db_error(r, err, "cannot set WAL mode");
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		record_db_error(r, err, "cannot set WAL mode");
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
		record_db_error(r, err, "cannot read the schema version");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		strbuf_addf(err, "%s: no schema_version in table meta",
			    r->db_path);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		record_db_error(r, err, "cannot read the schema version");
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
		if (record_exec(r, migrations[v - 1], "cannot migrate the schema",
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

	/* Private but for the dashboard inside (daemon-state.c). */
	rc = fsutil_mkdir_p(state_dir, 0711);
	if (rc) {
		strbuf_addf(err, "%s: cannot create the state directory: %s",
			    state_dir, strerror(-rc));
		goto out;
	}
	rc = fsutil_mkdir_p(logs, 0700);
	if (rc) {
		strbuf_addf(err, "%s: cannot create the log directory: %s",
			    logs, strerror(-rc));
		goto out;
	}

	rc = sqlite3_open_v2(r->db_path, &r->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (r->db)
			record_db_error(r, err, "cannot open");
		else
			strbuf_addf(err, "%s: cannot open: %s", r->db_path,
				    sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(r->db, 1);
	sqlite3_busy_timeout(r->db, RECORD_BUSY_TIMEOUT_MS);

	if (set_wal(r, err) ||
	    record_exec(r, "PRAGMA synchronous=FULL", "cannot set synchronous",
		     err))
		goto out;
	/* One transaction, so two processes opening a new store at once
	 * cannot interleave the schema and the version row. */
	if (record_exec(r, "BEGIN IMMEDIATE", "cannot begin", err))
		goto out;
	if (record_exec(r, record_schema_sql, "cannot create the schema", err) ||
	    migrate(r, err)) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (record_exec(r, "COMMIT", "cannot commit the schema", err)) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (check_schema_version(r, err))
		goto out;

	if (sqlite3_prepare_v3(r->db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &r->insert, NULL) != SQLITE_OK) {
		record_db_error(r, err, "cannot prepare the insert");
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
			record_db_error(r, err, "cannot open for reading");
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
int record_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

static int bind_run(sqlite3_stmt *st, const struct record_run *run)
{
	int rc = SQLITE_OK;

	rc |= record_bind_text(st, 1, run->batch);
	rc |= record_bind_text(st, 2, run->kernel_id);
	rc |= record_bind_text(st, 3, run->kernel_path);
	rc |= record_bind_text(st, 4, run->kernel_version);
	rc |= record_bind_text(st, 5, run->cell);
	rc |= record_bind_text(st, 6, run->matrix_path);
	rc |= record_bind_text(st, 7, verdict_name(run->verdict));
	rc |= record_bind_text(st, 8, run->reason);
	rc |= record_bind_text(st, 9, run->line);
	rc |= sqlite3_bind_double(st, 10, run->started_at);
	rc |= sqlite3_bind_double(st, 11, run->duration_s);
	rc |= record_bind_text(st, 12, run->log_path);
	/* nonce is UNIQUE: an absent one must be NULL, not a shared "". */
	if (run->nonce && *run->nonce)
		rc |= record_bind_text(st, 13, run->nonce);
	else
		rc |= sqlite3_bind_null(st, 13);
	rc |= record_bind_text(st, 14, run->tree);
	rc |= record_bind_text(st, 15, run->commit_id);
	rc |= record_bind_text(st, 16, run->build);
	rc |= record_bind_text(st, 17, run->purpose && *run->purpose ?
				run->purpose : "test");
	rc |= record_bind_text(st, 18, run->cmdline);
	rc |= record_bind_text(st, 19, run->qemu_version);
	rc |= record_bind_text(st, 20, run->xen_version);
	rc |= record_bind_text(st, 21, run->fingerprint);
	rc |= record_bind_text(st, 22, run->env_key);
	rc |= record_bind_text(st, 23, run->hv_build);
	return rc;
}

/* A run's probe results, inside the run's transaction. */
static int insert_probes(struct record *r, int64_t run_id,
			 const struct record_probe *p, size_t n,
			 struct strbuf *err)
{
	static const char sql[] = "INSERT OR REPLACE INTO probes (run_id, "
		"name, result, detail, seconds) VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *st;
	size_t i;
	int rc = SQLITE_OK;

	if (!n)
		return 0;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		record_db_error(r, err, "cannot store the probes");
		return -1;
	}
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(st, 1, run_id);
		record_bind_text(st, 2, p[i].name);
		record_bind_text(st, 3, p[i].result);
		record_bind_text(st, 4, p[i].detail);
		sqlite3_bind_double(st, 5, p[i].seconds);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(st);
	}
	if (rc != SQLITE_OK)
		record_db_error(r, err, "cannot store the probes");
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

void record_probes_free(struct record_probe *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].result);
		free(p[i].detail);
	}
	free(p);
}

/*
 * Every change is one IMMEDIATE transaction under the lock: one writer at
 * a time on the shared connection.
 */
int record_txn_begin(struct record *r, struct strbuf *err)
{
	pthread_mutex_lock(&r->lock);
	if (record_exec(r, "BEGIN IMMEDIATE", "cannot begin", err)) {
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	return 0;
}

/* Commit when ok is 0, else roll back; returns 0 or -1. */
int record_txn_end(struct record *r, int ok, struct strbuf *err)
{
	int ret = ok;

	if (!ret)
		ret = record_exec(r, "COMMIT", "cannot commit", err);
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
	if (record_txn_begin(r, err))
		return -1;
	if (bind_run(r->insert, run) != SQLITE_OK) {
		record_db_error(r, err, "cannot bind the run");
		bad = 1;
	} else if (sqlite3_step(r->insert) != SQLITE_DONE) {
		record_db_error(r, err, "cannot insert the run");
		bad = 1;
	} else {
		id = sqlite3_last_insert_rowid(r->db);
	}
	sqlite3_reset(r->insert);
	sqlite3_clear_bindings(r->insert);
	/* The probes in the same transaction: a run is never on disk
	 * without them. */
	if (!bad && insert_probes(r, id, run->probes, run->n_probes, err))
		bad = 1;
	if (record_txn_end(r, bad, err))
		return -1;
	run->id = id;
	return 0;
}

char *record_column_str(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return xstrdup(s ? s : "");
}

void record_read_run(sqlite3_stmt *st, struct record_run *run)
{
	const char *v = (const char *)sqlite3_column_text(st, 7);

	/* Whatever the row does not carry (the probes) stays empty. */
	memset(run, 0, sizeof(*run));
	run->id = sqlite3_column_int64(st, 0);
	run->batch = record_column_str(st, 1);
	run->kernel_id = record_column_str(st, 2);
	run->kernel_path = record_column_str(st, 3);
	run->kernel_version = record_column_str(st, 4);
	run->cell = record_column_str(st, 5);
	run->matrix_path = record_column_str(st, 6);
	run->verdict = verdict_parse(v ? v : "");
	run->reason = record_column_str(st, 8);
	run->line = record_column_str(st, 9);
	run->started_at = sqlite3_column_double(st, 10);
	run->duration_s = sqlite3_column_double(st, 11);
	run->log_path = record_column_str(st, 12);
	run->nonce = record_column_str(st, 13);
	run->tree = record_column_str(st, 14);
	run->commit_id = record_column_str(st, 15);
	run->build = record_column_str(st, 16);
	run->subject = record_column_str(st, 17);
	run->purpose = record_column_str(st, 18);
	run->cmdline = record_column_str(st, 19);
	run->qemu_version = record_column_str(st, 20);
	run->xen_version = record_column_str(st, 21);
	run->env_key = record_column_str(st, 22);
	run->hv_build = record_column_str(st, 23);
}

/* Prepare sql and bind n text arguments to ?1 .. ?n (NULL binds ""). */
sqlite3_stmt *record_prepare(struct record *r, const char *sql,
			     const char *what, struct strbuf *err, int n, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int i;

	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		record_db_error(r, err, what);
		return NULL;
	}
	va_start(ap, n);
	for (i = 1; i <= n; i++)
		record_bind_text(st, i, va_arg(ap, const char *));
	va_end(ap);
	return st;
}

int record_list_runs_where(struct record *r, sqlite3_stmt *st,
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
		record_read_run(st, &v[nr++]);
	}
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot list runs");
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
	return record_list_runs_where(r, record_prepare(r, list_sql, "cannot list runs",
					  err, 0), runs, n, err);
}

int record_list_commit_runs(struct record *r, const char *tree,
			    const char *commit_id, struct record_run **runs,
			    size_t *n, struct strbuf *err)
{
	static const char sql[] = "SELECT " RECORD_RUN_COLUMNS RECORD_RUN_FROM
		"WHERE r.tree = ?1 AND r.commit_id = ?2 "
		"ORDER BY r.started_at DESC, r.id DESC";

	return record_list_runs_where(r, record_prepare(r, sql, "cannot list runs", err, 2,
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
	free(run->purpose);
	free(run->cmdline);
	free(run->qemu_version);
	free(run->xen_version);
	free(run->fingerprint);
	free(run->env_key);
	free(run->hv_build);
	record_probes_free(run->probes, run->n_probes);
	memset(run, 0, sizeof(*run));
}

void record_runs_free(struct record_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_run_release(&runs[i]);
	free(runs);
}

int record_list_strings(struct record *r, sqlite3_stmt *st, char ***out,
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
		v[nr++] = record_column_str(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, "cannot read");
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

/* Step a statement that returns no row; finalizes it. */
int record_step_done(struct record *r, sqlite3_stmt *st, const char *what,
		     struct strbuf *err)
{
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		record_db_error(r, err, what);
		return -1;
	}
	return 0;
}
