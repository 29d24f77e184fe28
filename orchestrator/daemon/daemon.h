/*
 * daemon: the farm's scheduler. One libuv loop drives the whole pipeline:
 * it polls the matrix's trees (watch), queues every new commit once per
 * build config in the store, builds each queued commit (build), boots the
 * build in every cell (boot, judge), records each verdict (record) and
 * rewrites the dashboard (publish) after every commit.
 *
 * Builds and boots take turns: a build uses `jobs` cores (make -jN), the
 * boots of the finished build then use the same `jobs` slots, so the two
 * never oversubscribe the machine.
 *
 * It must never lose a recorded result nor record one twice: a job killed
 * with the daemon is queued again at the next start, and its cells that
 * already have a verdict are not run again. Only one daemon (or `hvmatrix
 * run`) works on a state directory at a time.
 */
#ifndef HVM_DAEMON_H
#define HVM_DAEMON_H

#include <stdint.h>

#include "lib/strbuf.h"

struct daemon_opts {
	const char *matrix_path;
	const char *state_dir;
	const char *initrd;	/* the test payload */
	unsigned jobs;		/* cores to use */
	int poll;		/* watch the matrix's trees */
	int until_idle;		/* stop once nothing is queued or running
				 * (after the first poll) */
	int64_t only_job;	/* > 0: run this queued job alone, then stop */
	int quiet;
	int *ran;		/* if not NULL: set to 1 once work can start */
};

/*
 * The daemon's own status file under the state directory (JSON), rewritten
 * atomically whenever something changes and at least every few seconds:
 *   {"pid": 123, "updated_at": 1796154831.446,   Unix time, seconds
 *    "matrix": "/abs/path/of/the/matrix/in/force.yaml",
 *    "stopping": false,
 *    "paused": null or "why no work is taken (e.g. the store fails)",
 *    "loop": {"worst_lag_ms": 3.2, "window_s": 60},
 *    "webhooks": {"endpoints": 1, "pending": 0, "failing": 0,
 *                 "delivered": 4}   (counts once the outbox was read),
 *    "job": the first of "jobs", or null,
 *    "jobs": [{"tree", "commit", "build", "subject", "stage",
 *              "started_at"}, ...]}
 * `hvmatrix status` prints it for people; `status --json` passes it on.
 */
#define DAEMON_STATUS_FILE "daemon.json"
#define DAEMON_LOCK_FILE "daemon.lock"
#define DAEMON_DASHBOARD_DIR "dashboard"	/* served: not private */
/*
 * The failure policy. A job that fails for the farm's reasons (a build the
 * farm could not run, a log directory it cannot make) is tried
 * DAEMON_JOB_ATTEMPTS times in all, waiting DAEMON_RETRY_BASE_S (or
 * $HVMATRIX_RETRY_BASE_S) seconds before the second attempt and twice as
 * long before each next one, at most SCHEDULE_RETRY_MAX_S (30 minutes,
 * schedule.h); then its cells get ERROR. A cell whose run ends ERROR is
 * run DAEMON_ERROR_RETRIES more times before the ERROR is recorded. The
 * daemon gives these to every job (struct job_policy, job.h). A store
 * that does not take a write pauses the daemon (the reason in the status
 * file) until a test write succeeds.
 */
#define DAEMON_JOB_ATTEMPTS 3
#define DAEMON_RETRY_BASE_S 30.0
#define DAEMON_ERROR_RETRIES 2

/*
 * Run until SIGTERM/SIGINT (or idle / the one job done). Returns an exit
 * code: 0, EXIT_FAIL when a cell FAILed or a build broke (BLOCKED),
 * EXIT_ERROR for an ERROR and no FAIL, EXIT_USAGE when the matrix or the
 * state directory cannot be used.
 */
int daemon_main(const struct daemon_opts *o);

/*
 * The status file's JSON (without its padding) into out, read under the
 * daemon's lock on it: 0, 1 when there is none, -1 (errno).
 */
int daemon_read_status(const char *state_dir, struct strbuf *out);

#endif
