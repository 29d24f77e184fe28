/*
 * hvmatrix status: what the farm is doing. The daemon (running or not,
 * and its current job and stage, from STATE/daemon.json), each watched
 * tree's recorded tips, the queue and the latest verdicts. Read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cmd.h"
#include "daemon.h"
#include "fsutil.h"
#include "matrix.h"
#include "record.h"
#include "xmalloc.h"

#define STATUS_RECENT 10
#define STATUS_QUEUE_SHOWN 10

static const char usage_text[] =
"usage: hvmatrix status [--matrix FILE] [--state DIR] [--json]\n"
"\n"
"Show whether a daemon works on the state directory and on what, the\n"
"recorded tip of every watched branch, the queue, and the latest\n"
"verdicts.\n"
"\n"
"  --matrix FILE   matrix file whose trees to show (default:\n"
"                  $HVMATRIX_MATRIX, else matrices/default.yaml)\n"
"  --state DIR     state directory (default: $HVMATRIX_STATE, else\n"
"                  ./hvmatrix-state)\n"
"  --json          one JSON object: daemon, trees, queue, recent\n"
"  -h, --help      this text\n";

/* Is the daemon lock held by someone? */
static int daemon_running(const char *state)
{
	char *path = xstrfmt("%s/%s", state, DAEMON_LOCK_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), held = 0;

	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		held = 1;
	close(fd);
	return held;
}

static void add_job_json(struct strbuf *sb, const struct record_job *j)
{
	strbuf_addstr(sb, "{\"tree\": ");
	strbuf_add_json_str(sb, j->tree);
	strbuf_addstr(sb, ", \"commit\": ");
	strbuf_add_json_str(sb, j->commit_id);
	strbuf_addstr(sb, ", \"build\": ");
	strbuf_add_json_str(sb, j->build);
	strbuf_addstr(sb, ", \"subject\": ");
	strbuf_add_json_str(sb, j->subject);
	strbuf_addstr(sb, ", \"state\": ");
	strbuf_add_json_str(sb, record_job_state_name(j->state));
	strbuf_addf(sb, ", \"priority\": %d, \"attempts\": %d}", j->priority,
		    j->attempts);
}

static int cmd_status_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "matrix", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *matrix_path = matrix_default_path(), *state_opt = NULL;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, info = STRBUF_INIT;
	struct record *store = NULL;
	struct record_job *jobs = NULL;
	struct record_run *runs = NULL;
	struct matrix m = { 0 };
	size_t n_jobs = 0, n_runs = 0, i, k, counts[3] = { 0 }, shown = 0;
	char *state = NULL, *info_path = NULL;
	int opt, json = 0, ret = EXIT_USAGE, have_matrix = 0, running;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm': matrix_path = optarg; break;
		case 's': state_opt = optarg; break;
		case 'J': json = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error("status: unexpected argument '%s'",
				       argv[optind]);
	if (matrix_load(&m, matrix_path, &err) < 0) {
		fprintf(stderr, "%s\n", err.buf);
		goto out;
	}
	have_matrix = 1;
	state = record_state_dir(state_opt);
	ret = EXIT_ERROR;
	if (record_open(&store, state, &err) < 0 ||
	    record_list_jobs(store, -1, &jobs, &n_jobs, &err) < 0 ||
	    record_list_runs(store, &runs, &n_runs, &err) < 0) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		goto out;
	}
	running = daemon_running(state);
	info_path = xstrfmt("%s/%s", state, DAEMON_STATUS_FILE);
	if (running && fsutil_read(info_path, &info) < 0)
		strbuf_reset(&info);
	while (info.len && info.buf[info.len - 1] == '\n')
		strbuf_setlen(&info, info.len - 1);
	for (i = 0; i < n_jobs; i++)
		counts[jobs[i].state]++;

	if (json) {
		strbuf_addstr(&out, "{\"daemon\": ");
		strbuf_addstr(&out, running && info.len ? info.buf :
			      running ? "{}" : "null");
		strbuf_addstr(&out, ",\n \"trees\": [");
	} else {
		strbuf_addf(&out, "daemon: %s\n", running ? "running" :
			    "not running");
		if (running && info.len)
			strbuf_addf(&out, "  %s\n", info.buf);
		strbuf_addstr(&out, "trees:\n");
	}
	for (i = 0; i < m.n_trees; i++) {
		const struct matrix_tree *t = &m.trees[i];

		for (k = 0; k < t->n_branches; k++) {
			char tip[41] = "";
			int have = record_get_tip(store, t->name,
						  t->branches[k], tip, &err);

			if (json) {
				strbuf_addstr(&out, i || k ? ",\n  {" :
					      "\n  {");
				strbuf_addstr(&out, "\"tree\": ");
				strbuf_add_json_str(&out, t->name);
				strbuf_addstr(&out, ", \"branch\": ");
				strbuf_add_json_str(&out, t->branches[k]);
				strbuf_addstr(&out, ", \"tip\": ");
				strbuf_add_json_str(&out, have > 0 ? tip : "");
				strbuf_addstr(&out, ", \"source\": ");
				strbuf_add_json_str(&out, t->path ? t->path :
						    t->url);
				strbuf_addch(&out, '}');
			} else {
				strbuf_addf(&out, "  %-12s %-12s tip %.12s  "
					    "(%s)\n", t->name, t->branches[k],
					    have > 0 ? tip : "(not polled)",
					    t->path ? t->path : t->url);
			}
		}
	}
	if (json) {
		strbuf_addstr(&out, "],\n \"queue\": [");
	} else {
		strbuf_addf(&out, "queue: %zu queued, %zu running, %zu done\n",
			    counts[RECORD_JOB_QUEUED],
			    counts[RECORD_JOB_RUNNING],
			    counts[RECORD_JOB_DONE]);
	}
	for (i = 0; i < n_jobs; i++) {
		const struct record_job *j = &jobs[i];

		if (j->state == RECORD_JOB_DONE)
			continue;
		if (json) {
			strbuf_addstr(&out, shown ? ",\n  " : "\n  ");
			add_job_json(&out, j);
		} else if (shown < STATUS_QUEUE_SHOWN) {
			strbuf_addf(&out, "  %-8s %s %.12s %s  %s\n",
				    record_job_state_name(j->state), j->tree,
				    j->commit_id, j->build, j->subject);
		}
		shown++;
	}
	if (!json && shown > STATUS_QUEUE_SHOWN)
		strbuf_addf(&out, "  ... and %zu more\n",
			    shown - STATUS_QUEUE_SHOWN);
	strbuf_addstr(&out, json ? "],\n \"recent\": [" : "recent verdicts:\n");
	for (i = 0; i < n_runs && i < STATUS_RECENT; i++) {
		const struct record_run *r = &runs[i];

		if (json) {
			strbuf_addstr(&out, i ? ",\n  {\"cell\": " :
				      "\n  {\"cell\": ");
			strbuf_add_json_str(&out, r->cell);
			strbuf_addstr(&out, ", \"verdict\": ");
			strbuf_add_json_str(&out, verdict_name(r->verdict));
			strbuf_addstr(&out, ", \"tree\": ");
			strbuf_add_json_str(&out, r->tree);
			strbuf_addstr(&out, ", \"commit\": ");
			strbuf_add_json_str(&out, r->commit_id);
			strbuf_addstr(&out, ", \"kernel_id\": ");
			strbuf_add_json_str(&out, r->kernel_id);
			strbuf_addstr(&out, ", \"started_at\": ");
			strbuf_addf(&out, "%.3f, \"reason\": ", r->started_at);
			strbuf_add_json_str(&out, r->reason);
			strbuf_addch(&out, '}');
		} else {
			strbuf_addstr(&out, "  ");
			strbuf_add_utc(&out, r->started_at);
			strbuf_addf(&out, "  %-7s %-20s %.12s  %s\n",
				    verdict_name(r->verdict), r->cell,
				    *r->commit_id ? r->commit_id :
				    r->kernel_id, r->reason);
		}
	}
	if (json)
		strbuf_addstr(&out, "]}\n");
	fputs(out.buf, stdout);
	ret = EXIT_OK;
out:
	record_jobs_free(jobs, n_jobs);
	record_runs_free(runs, n_runs);
	if (store)
		record_close(store);
	if (have_matrix)
		matrix_release(&m);
	free(state);
	free(info_path);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&info);
	return ret;
}

const struct cmd cmd_status = {
	"status", "the daemon, the watched trees, the queue, recent verdicts",
	cmd_status_run,
};
