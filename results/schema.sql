-- hvmatrix results store, schema version 1.
--
-- Compiled into the program (orchestrator/store/schema.h) and run on every open,
-- so every statement here must be idempotent: IF NOT EXISTS, OR IGNORE.
-- A change to a table is a new schema_version plus a migration in
-- orchestrator/store/record.c, never an edit of a statement below.
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
--
-- Schema version 2 (the daemon). The tables below are new in version 2;
-- runs gains tree, commit_id and build through the migration in
-- orchestrator/store/record.c (ALTER TABLE is not idempotent, so it is not here).
--
-- commits: every commit the watcher has queued, per tree. parent is the
-- first parent ('' for a root), for comparing a commit with the one before.
CREATE TABLE IF NOT EXISTS commits (
	tree TEXT NOT NULL,
	id TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	author TEXT NOT NULL DEFAULT '',
	time INTEGER NOT NULL DEFAULT 0,
	parent TEXT NOT NULL DEFAULT '',
	seen_at REAL NOT NULL,
	PRIMARY KEY (tree, id)
);
--
-- tips: the last tip recorded per watched branch; the next poll queues
-- what is new since.
CREATE TABLE IF NOT EXISTS tips (
	tree TEXT NOT NULL,
	branch TEXT NOT NULL,
	commit_id TEXT NOT NULL,
	updated_at REAL NOT NULL,
	PRIMARY KEY (tree, branch)
);
--
-- jobs: the persistent queue, one row per (tree, commit, build config), so
-- nothing is queued twice. Taken in order of priority (higher first), then
-- poll batch (newer pushes first), then id (oldest commit of a push first).
-- A job left 'running' by a killed daemon is requeued at the next start;
-- pgid is its build's process group, killed then if it is still there.
CREATE TABLE IF NOT EXISTS jobs (
	id INTEGER PRIMARY KEY,
	tree TEXT NOT NULL,
	commit_id TEXT NOT NULL,
	build TEXT NOT NULL,
	priority INTEGER NOT NULL DEFAULT 0,
	batch INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'running', 'done')),
	attempts INTEGER NOT NULL DEFAULT 0,
	pgid INTEGER NOT NULL DEFAULT 0,
	enqueued_at REAL NOT NULL,
	started_at REAL NOT NULL DEFAULT 0,
	finished_at REAL NOT NULL DEFAULT 0,
	UNIQUE (tree, commit_id, build)
);
CREATE INDEX IF NOT EXISTS jobs_order ON jobs (state, priority, batch, id);
--
-- builds: one row per finished build of (tree, commit, build config).
-- FAILED: the kernel did not build (its cells are BLOCKED); ERROR: the
-- farm failed (checkout, spawn, timeout), retried.
CREATE TABLE IF NOT EXISTS builds (
	id INTEGER PRIMARY KEY,
	tree TEXT NOT NULL,
	commit_id TEXT NOT NULL,
	build TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('OK', 'FAILED', 'ERROR')),
	reason TEXT NOT NULL DEFAULT '',
	errors TEXT NOT NULL DEFAULT '',
	log_path TEXT NOT NULL DEFAULT '',
	image_path TEXT NOT NULL DEFAULT '',
	started_at REAL NOT NULL,
	duration_s REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS builds_commit ON builds (tree, commit_id, build);
--
-- Schema version 3 (failure policy, regressions): jobs gain not_before and
-- last_error (backoff) and scope ('all': every cell at least once;
-- 'wants': only what wants asks for), runs gain purpose ('test',
-- 'confirm', 'bisect'), through the migration in orchestrator/store/record.c.
-- wants: more runs of a cell on a commit than the one every cell gets:
-- the confirmation of a new failure, a bisection step. runs is the total
-- wanted, kept at the highest asked.
CREATE TABLE IF NOT EXISTS wants (
	tree TEXT NOT NULL,
	commit_id TEXT NOT NULL,
	build TEXT NOT NULL,
	cell TEXT NOT NULL,
	runs INTEGER NOT NULL,
	purpose TEXT NOT NULL,
	updated_at REAL NOT NULL,
	PRIMARY KEY (tree, commit_id, build, cell)
);
--
-- Schema version 10 (the compatibility web), through the migration in
-- orchestrator/store/record.c: web_kernels, the released kernels the
-- matrix's web section names (orchestrator/store/record-web.c), id the
-- image's sha256. Each is also a commits row of the tree 'release' (same
-- id, subject 'Debian PACKAGE VERSION', author 'Debian', no parent), and
-- its runs have tree = 'release', build = 'release', purpose = 'web':
-- CREATE TABLE IF NOT EXISTS web_kernels (id TEXT PRIMARY KEY,
--   release TEXT NOT NULL, package TEXT NOT NULL, version TEXT NOT NULL,
--   path TEXT NOT NULL, added_at REAL NOT NULL);
-- Schema version 11 (a culprit checked by reverting it), through the
-- migration in orchestrator/store/record.c: reverts, one row per revert
-- check of a bisected first bad commit (culprit) on the tree's tip:
-- revert_commit is the tip with the culprit reverted (made in
-- STATE/revert/TREE.git, '' when none was), status 'queued' (its runs,
-- purpose 'revert', are wanted; what they showed is derived from them),
-- 'does-not-apply' (detail: the conflicting paths) or 'error' (detail:
-- why). runs of purpose 'revert' are evidence, never a commit of the
-- tree: history, classes, the dashboard and exports leave them out.
-- Schema version 12 (through the migration in orchestrator/store/record.c):
-- runs gain reused_from, the id of the run whose verdict a run carries over
-- without booting (the same kernel_id booted in the same env_key: the same
-- bytes in the same cell, hypervisor build and payload), 0 for a run that
-- booted. runs_env (kernel_id, env_key) is the index its look-up uses.
