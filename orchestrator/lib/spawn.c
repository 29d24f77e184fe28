/*
 * spawn: the group trampoline (see spawn.h), the argv that reaches it, and
 * argv helpers for every child hvmatrix starts (freeing, quoting for logs).
 *
 * The trampoline must never leave its group behind: every way it can be
 * told to stop (its parent dying, SIGTERM, SIGINT) ends in SIGKILL to the
 * whole group, itself included. It passes SIGTERM on to the group first
 * and waits up to SPAWN_STOP_GRACE_MS: make, told to stop, deletes the
 * target it was writing, so a half-written object file is never taken for
 * an up-to-date one by the next (incremental) build.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/spawn.h"
#include "lib/xmalloc.h"

const char *spawn_self_exe;

char **spawn_group_argv(char *const *argv)
{
	char *self;
	char **args;
	size_t n, i;

	self = realpath(spawn_self_exe ? spawn_self_exe : "/proc/self/exe",
			NULL);
	if (!self)
		return NULL;
	for (n = 0; argv[n]; n++)
		;
	args = xcalloc(n + 4, sizeof(char *));
	args[0] = self;
	args[1] = xstrdup(SPAWN_GROUP_TRAMPOLINE);
	args[2] = xstrfmt("%ld", (long)getpid());
	for (i = 0; i < n; i++)
		args[3 + i] = xstrdup(argv[i]);
	return args;
}

void spawn_argv_free(char **argv)
{
	char **p;

	for (p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

void spawn_argv_quote(char *const *argv, struct strbuf *out)
{
	size_t i;

	for (i = 0; argv[i]; i++) {
		const char *s = argv[i];

		if (i)
			strbuf_addch(out, ' ');
		if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			     "-_./=,:+@%") == strlen(s)) {
			strbuf_addstr(out, s);
			continue;
		}
		strbuf_addch(out, '\'');
		for (; *s; s++) {
			if (*s == '\'')
				strbuf_addstr(out, "'\\''");
			else
				strbuf_addch(out, *s);
		}
		strbuf_addch(out, '\'');
	}
}

#define SPAWN_STOP_GRACE_MS 3000

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = 1;
}

/* Pass the stop on, give the group a moment, then kill it whole. */
static void __attribute__((noreturn)) stop_group(pid_t child)
{
	int status, waited;

	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	kill(0, SIGTERM);
	for (waited = 0; waited < SPAWN_STOP_GRACE_MS; waited += 50) {
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		usleep(50 * 1000);
	}
	kill(0, SIGKILL);
	_exit(128 + SIGTERM);
}

int spawn_group_trampoline(int argc, char **argv)
{
	struct sigaction sa;
	pid_t parent, child;
	int status;

	if (argc < 3) {
		fprintf(stderr, "hvmatrix: %s: missing arguments\n", argv[0]);
		_exit(125);
	}
	parent = (pid_t)atol(argv[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: waitpid sees EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		_exit(125);
	/*
	 * SIGTERM, not SIGKILL, when hvmatrix dies: the handler above turns
	 * it into SIGKILL for the whole group. Checking the parent after
	 * prctl closes the race where it died before we asked.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(125);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "hvmatrix: cannot fork: %s\n", strerror(errno));
		_exit(125);
	}
	if (!child) {
		char mark[64];

		snprintf(mark, sizeof(mark), "%ld.%ld", (long)getpgrp(),
			 (long)parent);
		if (setenv(SPAWN_GROUP_ENV, mark, 1) < 0)
			_exit(125);
		/* exec resets the handlers; the group stays ours. */
		execvp(argv[2], argv + 2);
		fprintf(stderr, "hvmatrix: cannot run %s: %s\n", argv[2],
			strerror(errno));
		_exit(127);
	}
	if (stop_requested)
		stop_group(child);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(125);
		if (stop_requested)
			stop_group(child);
	}
	if (stop_requested)
		stop_group(child);
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}
