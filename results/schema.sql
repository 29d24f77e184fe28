-- hvmatrix results store, schema version 1.
--
-- Compiled into the program (orchestrator/schema.h) and run on every open,
-- so every statement here must be idempotent: IF NOT EXISTS, OR IGNORE.
-- A change to a table is a new schema_version plus a migration in
-- orchestrator/record.c, never an edit of a statement below.
--
-- meta: key/value facts about the store itself.
CREATE TABLE IF NOT EXISTS meta (
	key TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
--
-- runs: one row per boot of one kernel in one cell. Rows are only added,
-- never updated or deleted. Times are Unix seconds (UTC); log_path is the
-- absolute path of the console log; nonce is the per-run token the guest
-- echoes back, unique so a run cannot be recorded twice.
CREATE TABLE IF NOT EXISTS runs (
	id INTEGER PRIMARY KEY,
	batch TEXT NOT NULL,
	kernel_id TEXT NOT NULL,
	kernel_path TEXT NOT NULL DEFAULT '',
	kernel_version TEXT NOT NULL DEFAULT '',
	cell TEXT NOT NULL,
	matrix_path TEXT NOT NULL DEFAULT '',
	verdict TEXT NOT NULL
		CHECK (verdict IN ('PASS', 'FAIL', 'ERROR', 'SKIP', 'BLOCKED')),
	reason TEXT NOT NULL DEFAULT '',
	line TEXT NOT NULL DEFAULT '',
	started_at REAL NOT NULL,
	duration_s REAL NOT NULL DEFAULT 0,
	log_path TEXT NOT NULL DEFAULT '',
	nonce TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS runs_kernel_cell ON runs (kernel_id, cell);
CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at);
