/*
 * hvmatrix status: what the farm is doing. The daemon (running or not,
 * what it runs and on which matrix, from STATE/daemon.json), each watched
 * tree's recorded tips, the queue and the latest verdicts. Read-only.
 *
 * The status file is input from another process, possibly an older
 * daemon's: any member may be missing or of another type, and the text
 * for people must still come out (the JSON is passed through as is).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "daemon/daemon.h"
#include "lib/report.h"
#include "lib/json.h"
#include "lib/url.h"
#include "compare/regressions.h"
#include "lib/xmalloc.h"

#define STATUS_RECENT 10
#define STATUS_QUEUE_SHOWN 10
#define STATUS_ID_LEN 8

static const char usage_text[] =
"usage: hvmatrix status [--matrix FILE] [--state DIR] [--json]\n"
"\n"
"Show whether a daemon works on the state directory and on what, the\n"
"recorded tip of every watched branch, the build configs whose commits\n"
"are built unconfined (sandbox: false), the queue, and the latest\n"
"verdicts.\n"
"\n"
"  --matrix FILE   matrix file whose trees to show (default: the one the\n"
"                  running daemon uses, else $HVMATRIX_MATRIX, else\n"
"                  matrices/default.yaml)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --json          one JSON object: daemon (the daemon's status file as\n"
"                  it is, null when no daemon runs), trees,\n"
"                  unconfined_builds, queue, open_regressions, recent\n"
"                  (each with its class)\n"
"  -h, --help      this text\n";

/* What we know of the daemon. */
struct daemon_info {
	int running;		/* it holds the lock */
	char *text;		/* STATE/daemon.json, trimmed; NULL if none */
	struct json_value v;	/* parsed; JSON_NULL if not */
	int parsed;
};

static void daemon_info_read(struct daemon_info *d, const char *state)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	memset(d, 0, sizeof(*d));
	d->running = cmd_daemon_running(state);
	/* Under the daemon's lock on the file: never half an update. */
	if (daemon_read_status(state, &sb) == 0) {
		/* A file garbled (by hand, by an older daemon) is none. */
		if (json_parse(&d->v, sb.buf, sb.len, &err) == 0 &&
		    d->v.type == JSON_OBJECT) {
			d->parsed = 1;
			d->text = strbuf_detach(&sb, NULL);
		} else {
			json_value_release(&d->v);
		}
	}
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void daemon_info_release(struct daemon_info *d)
{
	json_value_release(&d->v);
	free(d->text);
}

/* "29 s", "4 min 12 s", "3 h 05 min". */
static void add_elapsed(struct strbuf *sb, double s)
{
	long t = s > 0 ? (long)(s + 0.5) : 0;

	if (t < 60)
		strbuf_addf(sb, "%ld s", t);
	else if (t < 3600)
		strbuf_addf(sb, "%ld min %ld s", t / 60, t % 60);
	else
		strbuf_addf(sb, "%ld h %02ld min", t / 3600, t / 60 % 60);
}

/* HH:MM:SS UTC when today, else the full date. */
static void add_seen(struct strbuf *sb, double t)
{
	time_t then = (time_t)t, now = time(NULL);
	struct tm a, b;

	gmtime_r(&then, &a);
	gmtime_r(&now, &b);
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		strbuf_addf(sb, "%02d:%02d:%02d UTC", a.tm_hour, a.tm_min,
			    a.tm_sec);
	else
		strbuf_add_utc(sb, t);
}

/*
 *   building demo 9568ec3c "Linux 6.1.192": make, 29 s
 *   booting demo 9568ec3c "Linux 6.1.192": 1 min 4 s
 */
static void add_job_line(struct strbuf *out, const struct json_value *job)
{
	const char *stage = json_get_str(job, "stage");
	const char *subject = json_get_str(job, "subject");
	double started;
	int building = stage && (!strcmp(stage, "build") ||
				 !strcmp(stage, "checkout") ||
				 !strcmp(stage, "config") ||
				 !strcmp(stage, "make"));
	int booting = stage && !strcmp(stage, "boot");
	/* The verb says it all for a boot, or a build not yet in a step. */
	int say_stage = stage && *stage && !booting && strcmp(stage, "build");

	strbuf_addstr(out, "  ");
	strbuf_addstr(out, building ? "building" : booting ? "booting" :
		      "working on");
	strbuf_addch(out, ' ');
	cmd_add_printable(out, json_get_str(job, "tree") ?
		      json_get_str(job, "tree") : "?", SIZE_MAX);
	strbuf_addch(out, ' ');
	cmd_add_printable(out, json_get_str(job, "commit") ?
		      json_get_str(job, "commit") : "?", STATUS_ID_LEN);
	if (subject) {
		strbuf_addstr(out, " \"");
		cmd_add_printable(out, subject, SIZE_MAX);
		strbuf_addch(out, '"');
	}
	/* ": make, 29 s": the stage, the time. */
	if (say_stage) {
		strbuf_addstr(out, ": ");
		cmd_add_printable(out, stage, SIZE_MAX);
	}
	if (json_get_number(job, "started_at", &started)) {
		strbuf_addstr(out, say_stage ? ", " : ": ");
		add_elapsed(out, (double)time(NULL) - started);
	}
	strbuf_addch(out, '\n');
}

static void add_daemon_text(struct strbuf *out, const struct daemon_info *d)
{
	const struct json_value *v = d->parsed ? &d->v : NULL;
	const struct json_value *jobs = json_get(v, "jobs");
	const struct json_value *job = json_get(v, "job");
	const struct json_value *loop = json_get(v, "loop");
	const struct json_value *stopping = json_get(v, "stopping");
	const struct json_value *hooks = json_get(v, "webhooks");
	const char *matrix = json_get_str(v, "matrix");
	const char *paused = json_get_str(v, "paused");
	double num, window, pending;
	size_t i;

	if (!d->running) {
		strbuf_addstr(out, "daemon: not running");
		if (json_get_number(v, "updated_at", &num)) {
			strbuf_addstr(out, " (last seen ");
			add_seen(out, num);
			strbuf_addch(out, ')');
		}
		strbuf_addch(out, '\n');
		return;
	}
	strbuf_addstr(out, "daemon: running");
	if (!v) {
		strbuf_addstr(out, " (no readable status file)\n");
		return;
	}
	if (stopping && stopping->type == JSON_BOOL && stopping->boolean)
		strbuf_addstr(out, ", stopping");
	if (json_get_number(v, "pid", &num))
		strbuf_addf(out, ", pid %.0f", num);
	if (matrix) {
		strbuf_addstr(out, ", matrix ");
		cmd_add_printable(out, matrix, SIZE_MAX);
	}
	if (json_get_number(loop, "worst_lag_ms", &num)) {
		strbuf_addf(out, ", loop lag worst %.0f ms", num);
		if (json_get_number(loop, "window_s", &window))
			strbuf_addf(out, " (%.0f s)", window);
	}
	strbuf_addch(out, '\n');
	if (paused) {
		strbuf_addstr(out, "paused: ");
		cmd_add_printable(out, paused, SIZE_MAX);
		strbuf_addch(out, '\n');
	}
	/* The outbox of the daemon's webhooks (never their secrets). */
	if (json_get_number(hooks, "endpoints", &num) && num > 0 &&
	    json_get_number(hooks, "pending", &pending)) {
		strbuf_addf(out, "webhooks: %.0f endpoint%s, %.0f pending",
			    num, num == 1 ? "" : "s", pending);
		if (json_get_number(hooks, "failing", &num) && num > 0)
			strbuf_addf(out, " (%.0f failing)", num);
		if (json_get_number(hooks, "delivered", &num))
			strbuf_addf(out, ", %.0f delivered", num);
		strbuf_addch(out, '\n');
	}
	/* "jobs" when the daemon writes it, else an older one's "job". */
	if (jobs && jobs->type == JSON_ARRAY) {
		for (i = 0; i < jobs->n; i++)
			if (jobs->items[i].type == JSON_OBJECT)
				add_job_line(out, &jobs->items[i]);
	} else if (job && job->type == JSON_OBJECT) {
		add_job_line(out, job);
	}
	if (!paused && !(jobs && jobs->n) &&
	    !(job && job->type == JSON_OBJECT))
		strbuf_addstr(out, "  idle\n");
}

/* The trees' branches and their recorded tips. */
static void add_trees(struct strbuf *out, struct json *j,
		      struct record *store, const struct matrix *m, int json)
{
	struct strbuf err = STRBUF_INIT;
	size_t i, k;

	for (i = 0; i < m->n_trees; i++) {
		const struct matrix_tree *t = &m->trees[i];

		for (k = 0; k < t->n_branches; k++) {
			char tip[41] = "";
			/* A URL's token is the matrix file's secret. */
			char *shown = url_display(t->url);
			int have = store ? record_queue_get_tip(store, t->name,
							  t->branches[k], tip,
							  &err) : 0;

			if (json) {
				json_object_begin(j);
				json_key_str(j, "tree", t->name);
				json_key_str(j, "branch", t->branches[k]);
				json_key_str(j, "tip", have > 0 ? tip : "");
				json_key_str(j, "source",
					     t->path ? t->path : shown);
				json_object_end(j);
			} else {
				strbuf_addf(out, "  %-12s %-12s tip %.12s  "
					    "(%s)\n", t->name, t->branches[k],
					    have > 0 ? tip : "(not polled)",
					    t->path ? t->path : shown);
			}
			free(shown);
			strbuf_reset(&err);
		}
	}
	strbuf_release(&err);
}

static void add_queue_job(struct json *j, const struct record_job *rj)
{
	json_object_begin(j);
	json_key_str(j, "tree", rj->tree);
	json_key_str(j, "commit", rj->commit_id);
	json_key_str(j, "build", rj->build);
	json_key_str(j, "subject", rj->subject);
	json_key_str(j, "state", record_queue_job_state_name(rj->state));
	json_key_int(j, "priority", rj->priority);
	json_key_int(j, "attempts", rj->attempts);
	json_object_end(j);
}

static void add_recent(struct json *j, const struct record_run *r,
		       const struct regressions *rs)
{
	const char *class = regressions_class_of_run(rs, r);

	json_object_begin(j);
	json_key_str(j, "cell", r->cell);
	json_key_str(j, "verdict", verdict_name(r->verdict));
	json_key_str(j, "tree", r->tree);
	json_key_str(j, "commit", r->commit_id);
	json_key_str(j, "kernel_id", r->kernel_id);
	json_key_double(j, "started_at", r->started_at);
	json_key_str(j, "reason", r->reason);
	json_key(j, "class");
	if (class)
		json_str(j, class);
	else
		json_null(j);
	json_object_end(j);
}

/*
 * The matrix whose trees to show: --matrix when given, else the one the
 * running daemon says it runs, else the default. 0, or -1 after a message
 * (*fatal: the user named it, so that is a usage error).
 */
static int status_matrix(struct cmd_ctx *ctx, const struct daemon_info *d,
			 struct matrix *m, const char **path, int *fatal)
{
	struct strbuf err = STRBUF_INIT;
	const char *daemon_matrix = d->running && d->parsed ?
				    json_get_str(&d->v, "matrix") : NULL;
	int ret = 0;

	*fatal = !daemon_matrix || ctx->matrix_given;
	*path = ctx->matrix_given || !daemon_matrix ? ctx->matrix_path :
		daemon_matrix;
	if (matrix_load(m, *path, &err) < 0) {
		cmd_matrix_error(*path, err.buf);
		ret = -1;
	}
	strbuf_release(&err);
	return ret;
}

/*
 * The builds whose commits run without the build sandbox (`sandbox:
 * false`): whoever reads the status must see that the farm trusts them.
 */
static void add_unconfined(struct strbuf *out, struct json *j,
			   const struct matrix *m, int json)
{
	size_t i, n = 0;

	if (json) {
		json_key(j, "unconfined_builds");
		json_array_begin(j);
	}
	for (i = 0; i < m->n_builds; i++) {
		if (!m->builds[i].unconfined)
			continue;
		if (json) {
			json_str(j, m->builds[i].name);
			continue;
		}
		strbuf_addstr(out, n++ ? ", " : "unconfined builds "
			      "(sandbox: false, trusted commits only): ");
		cmd_add_printable(out, m->builds[i].name, SIZE_MAX);
	}
	if (json)
		json_array_end(j);
	else if (n)
		strbuf_addch(out, '\n');
}

static int status_exec(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct record_job *jobs = NULL;
	struct record_run *runs = NULL;
	struct regressions rs = { 0 };
	struct daemon_info d;
	struct matrix m = { 0 };
	struct json j;
	const char *matrix_path;
	size_t n_jobs = 0, n_runs = 0, i, counts[3] = { 0 }, shown = 0;
	size_t n_open = 0;
	int ret = EXIT_ERROR, have_matrix = 0, fatal;

	daemon_info_read(&d, ctx->state_dir);
	if (status_matrix(ctx, &d, &m, &matrix_path, &fatal) == 0)
		have_matrix = 1;
	else if (fatal) {
		ret = EXIT_USAGE;
		goto out;
	}
	/* No store yet: nothing recorded, nothing queued. */
	if (ctx->store &&
	    (record_queue_list_jobs(ctx->store, -1, &jobs, &n_jobs, &err) < 0 ||
	     record_list_runs(ctx->store, &runs, &n_runs, &err) < 0)) {
		report_error("%s", err.buf);
		goto out;
	}
	/* Each verdict's class and the open regressions, from the history. */
	if (ctx->store &&
	    regressions_compute(ctx->store, have_matrix ? &m : NULL, &rs,
				&err) < 0) {
		report_error("%s", err.buf);
		goto out;
	}
	for (i = 0; i < rs.n; i++)
		if (rs.v[i].status == REGRESSION_OPEN)
			n_open++;
	for (i = 0; i < n_jobs; i++)
		if ((unsigned)jobs[i].state < ARRAY_SIZE(counts))
			counts[jobs[i].state]++;

	json_init(&j, &out);
	if (ctx->json) {
		json_object_begin(&j);
		json_key(&j, "daemon");
		if (!d.running)
			json_null(&j);
		else
			json_raw(&j, d.text ? d.text : "{}");
		json_key(&j, "matrix");
		json_str(&j, matrix_path);
		json_key(&j, "trees");
		json_array_begin(&j);
	} else {
		add_daemon_text(&out, &d);
		strbuf_addstr(&out, "trees");
		if (have_matrix)
			strbuf_addf(&out, " (%s)", matrix_path);
		strbuf_addstr(&out, ":\n");
	}
	if (have_matrix)
		add_trees(&out, &j, ctx->store, &m, ctx->json);
	else if (!ctx->json)
		strbuf_addf(&out, "  (cannot load %s)\n", matrix_path);
	if (ctx->json)
		json_array_end(&j);
	if (have_matrix)
		add_unconfined(&out, &j, &m, ctx->json);
	if (ctx->json) {
		json_key(&j, "queue");
		json_array_begin(&j);
	} else {
		if (n_open)
			strbuf_addf(&out, "regressions: %zu open (see hvmatrix "
				    "regressions)\n", n_open);
		strbuf_addf(&out, "queue: %zu queued, %zu running, %zu done\n",
			    counts[RECORD_JOB_QUEUED],
			    counts[RECORD_JOB_RUNNING],
			    counts[RECORD_JOB_DONE]);
	}
	for (i = 0; i < n_jobs; i++) {
		const struct record_job *rj = &jobs[i];

		if (rj->state == RECORD_JOB_DONE)
			continue;
		if (ctx->json)
			add_queue_job(&j, rj);
		else if (shown < STATUS_QUEUE_SHOWN) {
			strbuf_addf(&out, "  %-8s %s %.12s %s  ",
				    record_queue_job_state_name(rj->state),
				    rj->tree, rj->commit_id, rj->build);
			cmd_add_printable(&out, rj->subject, SIZE_MAX);
			strbuf_addch(&out, '\n');
		}
		shown++;
	}
	if (!ctx->json && shown > STATUS_QUEUE_SHOWN)
		strbuf_addf(&out, "  ... and %zu more\n",
			    shown - STATUS_QUEUE_SHOWN);
	if (ctx->json) {
		json_array_end(&j);
		json_key_int(&j, "open_regressions", (int64_t)n_open);
		json_key(&j, "recent");
		json_array_begin(&j);
	} else if (!n_runs) {
		strbuf_addf(&out, "recent verdicts: nothing recorded in %s "
			    "yet\n", ctx->state_dir);
	} else {
		strbuf_addstr(&out, "recent verdicts:\n");
	}
	for (i = 0; i < n_runs && i < STATUS_RECENT; i++) {
		const struct record_run *r = &runs[i];

		if (ctx->json) {
			add_recent(&j, r, &rs);
		} else {
			const char *class = regressions_class_of_run(&rs, r);

			strbuf_addstr(&out, "  ");
			strbuf_add_utc(&out, r->started_at);
			strbuf_addf(&out, "  %-7s %-13s %-20s %.12s  ",
				    verdict_name(r->verdict),
				    class ? class : "-", r->cell,
				    *r->commit_id ? r->commit_id :
				    r->kernel_id);
			cmd_add_printable(&out, r->reason, SIZE_MAX);
			strbuf_addch(&out, '\n');
		}
	}
	if (ctx->json) {
		json_array_end(&j);
		json_object_end(&j);
		strbuf_addch(&out, '\n');
	}
	fputs(out.buf, stdout);
	ret = EXIT_OK;
out:
	record_queue_jobs_free(jobs, n_jobs);
	record_runs_free(runs, n_runs);
	regressions_release(&rs);
	if (have_matrix)
		matrix_release(&m);
	daemon_info_release(&d);
	strbuf_release(&err);
	strbuf_release(&out);
	return ret;
}

const struct cmd cmd_status = {
	.name = "status",
	.summary = "the daemon, the watched trees, the queue, recent verdicts",
	.usage = usage_text,
	.flags = CMD_MATRIX | CMD_READS_STORE | CMD_JSON,
	.max_args = 0,
	.exec = status_exec,
};
