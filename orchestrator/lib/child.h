/*
 * child: one child process supervised from the loop. Every process
 * hvmatrix runs while its loop runs (QEMU, a build step, a Slurm client)
 * is a struct child: an argv (never a shell), its output read chunk by
 * chunk or written to a file, optional watchdogs that kill it, and one
 * callback once it is over and every handle it used is closed.
 *
 * Started through the trampoline (spawn.h: SPAWN_EXEC, SPAWN_GROUP), a
 * child leads a process group of its own, and "kill" means the whole
 * group: nothing it started is left behind, and nothing of it outlives
 * hvmatrix. Started SPAWN_DIRECT (a short-lived client), it stays in our
 * group and is killed alone.
 *
 * The uv handles live in the struct, which the caller embeds in its own
 * and finds again with container_of(); the caller frees it only from
 * on_closed.
 */
#ifndef HVM_CHILD_H
#define HVM_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/spawn.h"

struct child;
typedef void (*child_output_cb)(struct child *c, const char *buf,
				size_t len);
typedef void (*child_cb)(struct child *c);

struct child {
	/* Set after child_init(), before child_start(); argv, env, cwd and
	 * self are only read by child_start(). */
	char *const *argv;	/* NULL-terminated; argv[0] found in PATH */
	char *const *env;	/* NULL: ours; either way only the names
				 * child_env_allowed() lets through */
	const char *cwd;	/* NULL: ours */
	enum spawn_via via;
	/* The executable carrying the trampoline; NULL: spawn_self(). */
	const char *self;
	/*
	 * Standard output and error: read through a pipe and handed to
	 * on_out / on_err a chunk at a time when those are set, else
	 * written to out_fd / err_fd, else (-1) discarded. Standard input
	 * is /dev/null, or with in_pipe a pipe child_write() writes to (a
	 * guest's console input, say).
	 */
	child_output_cb on_out, on_err;
	int out_fd, err_fd;
	int in_pipe;
	int pass_fd;		/* given to the child as fd 3; -1: none */
	/*
	 * Watchdogs, 0 for none: the whole run's limit, and the longest
	 * time without standard output (re-armed by each chunk). When one
	 * fires, timed_out or silent is set, on_timeout / on_silence is
	 * called (if set), then the child is killed.
	 */
	uint64_t timeout_ms, silence_ms;
	child_cb on_timeout, on_silence;
	child_cb on_exit;	/* it exited; its pipes may still be open */
	child_cb on_closed;	/* it is over, every handle closed: the
				 * caller may free or restart c from here */

	/* Results. */
	int pid;		/* also its group's id unless SPAWN_DIRECT */
	int64_t exit_status;
	int term_signal;
	int spawn_error;	/* it could not start: a negative uv code */
	int killed;		/* child_kill() or a watchdog sent SIGKILL */
	int timed_out, silent;

	/* Private to child.c. */
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_timer_t timeout, silence, grace;
	unsigned handles;	/* not closed yet */
	int alive, in_open, out_open, err_open, timers_closed;
};

#define CHILD_INIT { .out_fd = -1, .err_fd = -1, .pass_fd = -1 }

/*
 * The environment every child gets is built from an allow-list, never
 * passed whole: a secret hvmatrix was given in its environment (a
 * webhook's secret_env) must not reach make, QEMU or a Slurm client, nor
 * what a hostile commit's Makefile runs. Allowed: PATH, HOME, USER,
 * LOGNAME, SHELL, TERM, TZ, LANG, LANGUAGE, LC_*, TMPDIR, XDG_CACHE_HOME,
 * XDG_RUNTIME_DIR, and the families CCACHE_*, KBUILD_*, HVMATRIX_*,
 * QEMU_*, SLURM_*, LD_LIBRARY_PATH (a QEMU release's own libraries, see
 * hypervisors_qemu_env()) and the sanitizers' *SAN_OPTIONS; never a name
 * given to child_env_deny().
 *
 * child_env_allowed: is "NAME=value" (or "NAME") one a child may get?
 * child_env_deny: never pass name (a secret's variable), allowed or not.
 * child_env_filter: env (NULL: environ) with only the allowed entries, as
 * a malloc'd array of malloc'd strings (spawn_argv_free()).
 */
int child_env_allowed(const char *entry);
void child_env_deny(const char *name);
char **child_env_filter(char *const *env);

/*
 * Files no confined child may read (a webhook's secret_file): the build
 * sandbox (build-sandbox.c) covers each with an empty file.
 * child_hide_file registers path (absolute); child_hidden_files returns
 * them as a malloc'd NULL-terminated copy (spawn_argv_free()).
 */
void child_hide_file(const char *path);
char **child_hidden_files(void);

/* Set c to CHILD_INIT: nothing to start yet. */
void child_init(struct child *c);

/*
 * Start c on loop. 0, or a negative uv error code (also in
 * c->spawn_error) when it could not be started. Either way on_closed
 * follows, exactly once; on_exit only if it started.
 */
int child_start(struct child *c, uv_loop_t *loop);

/* Is it running (started and its exit not seen yet)? */
int child_running(const struct child *c);

/* SIGKILL to its group (SPAWN_DIRECT: to it), once; no-op when over. */
void child_kill(struct child *c);

/*
 * Send sig to the child process alone (a SPAWN_GROUP trampoline passes a
 * SIGTERM on to its group and stops it gracefully); no-op when over.
 */
void child_signal(struct child *c, int sig);

/*
 * Write len bytes of buf (a line, a few bytes) to its standard input
 * (in_pipe) at once, never blocking: 0, or a negative uv error code (no
 * pipe, it is over, or UV_EAGAIN: it does not read). The pipe is closed
 * when the child exits.
 */
int child_write(struct child *c, const char *buf, size_t len);

/* child_kill() in ms, unless such a kill is already pending. */
void child_kill_after(struct child *c, uint64_t ms);

#endif
