/*
 * spawn: the trampoline (see spawn.h), the argv that reaches it, and argv
 * helpers for every child hvmatrix starts (freeing, quoting for logs).
 *
 * The trampoline must never leave its child behind. SPAWN_EXEC leaves
 * that to the kernel: the parent-death SIGKILL it asks for is PROG's once
 * it has exec'd. SPAWN_GROUP ends every way it can be told to stop (its
 * parent dying, SIGTERM, SIGINT) in SIGKILL to the whole group, itself
 * included. It passes SIGTERM on to the group first and waits up to
 * SPAWN_STOP_GRACE_MS: make, told to stop, deletes the target it was
 * writing, so a half-written object file is never taken for an up-to-date
 * one by the next (incremental) build.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/spawn.h"
#include "lib/xmalloc.h"

const char *spawn_self_exe;

/*
 * Our own executable, resolved once: a `make` or a package upgrade that
 * replaces the file under a running daemon leaves /proc/self/exe naming a
 * deleted file, and every build and boot after it would fail to start.
 * The path resolved first still names the (new) program.
 */
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static char *self_path;
static int self_errno;

static void self_resolve(void)
{
	self_path = realpath("/proc/self/exe", NULL);
	self_errno = errno;
}

char *spawn_self(void)
{
	if (spawn_self_exe)
		return realpath(spawn_self_exe, NULL);
	pthread_once(&self_once, self_resolve);
	if (!self_path) {
		errno = self_errno;
		return NULL;
	}
	return xstrdup(self_path);
}

char **spawn_trampoline_argv(enum spawn_via via, const char *self,
			     char *const *argv, int keep)
{
	char **args;
	size_t n, i;

	for (n = 0; argv[n]; n++)
		;
	args = xcalloc(n + 4, sizeof(char *));
	args[0] = xstrdup(self);
	args[1] = xstrdup(via == SPAWN_GROUP ? SPAWN_GROUP_TRAMPOLINE :
			  SPAWN_EXEC_TRAMPOLINE);
	args[2] = keep == 3 ? xstrfmt("%ld", (long)getpid()) :
		  xstrfmt("%ld:%d", (long)getpid(), keep);
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
static void __attribute__((noreturn)) stop_group(void)
{
	int status, waited;
	pid_t r;

	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	kill(0, SIGTERM);
	/*
	 * Until every process we lead is gone, not just PROG: as subreaper
	 * we wait for the orphans too. PROG may be the build sandbox, which
	 * dies of the SIGTERM at once while make, inside, still deletes
	 * the target it was writing.
	 */
	for (waited = 0; waited < SPAWN_STOP_GRACE_MS; waited += 50) {
		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (r < 0 && errno == ECHILD)
			break;
		usleep(50 * 1000);
	}
	kill(0, SIGKILL);
	_exit(128 + SIGTERM);
}

/* Become argv[0], found in PATH; only a failed exec returns here. */
static void __attribute__((noreturn)) exec_prog(char **argv)
{
	execvp(argv[0], argv);
	fprintf(stderr, "hvmatrix: cannot run %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

/* SPAWN_GROUP: run argv as our child, stay until it is gone. */
static void __attribute__((noreturn)) lead_group(pid_t parent, char **argv)
{
	pid_t child;
	int status;

	/* Orphans of the group become ours to wait for (stop_group). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
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
		exec_prog(argv);
	}
	if (stop_requested)
		stop_group();
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(125);
		if (stop_requested)
			stop_group();
	}
	if (stop_requested)
		stop_group();
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

void spawn_close_from(int first)
{
	struct rlimit rl;
	long fd, max = 65536;

	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
	/* A kernel before 5.9: every fd the limit allows, one by one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (fd = first; fd < max; fd++)
		close((int)fd);
}

int spawn_is_trampoline(const char *arg)
{
	return !strcmp(arg, SPAWN_EXEC_TRAMPOLINE) ||
	       !strcmp(arg, SPAWN_GROUP_TRAMPOLINE);
}

int spawn_trampoline(int argc, char **argv)
{
	int group = !strcmp(argv[0], SPAWN_GROUP_TRAMPOLINE);
	struct sigaction sa;
	const char *colon;
	pid_t parent;
	int keep = 3;

	if (argc < 3) {
		fprintf(stderr, "hvmatrix: %s: missing arguments\n", argv[0]);
		_exit(125);
	}
	parent = (pid_t)atol(argv[1]);
	colon = strchr(argv[1], ':');
	if (colon)
		keep = atoi(colon + 1);
	if (keep < 3 || keep > 64) {
		fprintf(stderr, "hvmatrix: %s: bad fd count\n", argv[0]);
		_exit(125);
	}
	/*
	 * First thing: nothing of hvmatrix's beyond what the child was given
	 * (its standard streams, a passed fd) reaches PROG and what it runs.
	 */
	spawn_close_from(keep);
	if (group) {
		memset(&sa, 0, sizeof(sa));
		/* No SA_RESTART: waitpid sees EINTR. */
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGTERM, &sa, NULL) < 0 ||
		    sigaction(SIGINT, &sa, NULL) < 0)
			_exit(125);
	}
	/*
	 * SPAWN_EXEC: SIGKILL, which stays set across the exec of PROG.
	 * SPAWN_GROUP: SIGTERM, which the handler above turns into SIGKILL
	 * for the whole group. Checking the parent after prctl closes the
	 * race where it died before we asked.
	 */
	if (prctl(PR_SET_PDEATHSIG, group ? SIGTERM : SIGKILL) < 0 ||
	    getppid() != parent)
		_exit(125);
	if (group)
		lead_group(parent, argv + 2);
	exec_prog(argv + 2);
}
