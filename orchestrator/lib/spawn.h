/*
 * spawn: the child's side of starting a process, and argv helpers for
 * every child hvmatrix starts (freeing, quoting for logs).
 *
 * The trampoline: a child that must never outlive hvmatrix is started as
 *
 *   hvmatrix __exec-child PARENT_PID[:KEEP] PROG ARGS...   (SPAWN_EXEC)
 *   hvmatrix __exec-group PARENT_PID[:KEEP] PROG ARGS...   (SPAWN_GROUP)
 *
 * in a process group of its own (child.c asks libuv for setsid()). It
 * closes every file descriptor from KEEP (default 3) up, asks for a
 * parent-death signal, checks that hvmatrix is still its parent, and runs
 * PROG from PATH; it never runs a shell. Whatever a library of ours left
 * open without close-on-exec (libcurl's sockets) thus never reaches a
 * build or QEMU.
 *
 * SPAWN_EXEC becomes PROG (QEMU): the parent-death signal is SIGKILL and
 * survives the exec, and PROG's own exit status and signal are the ones
 * hvmatrix sees (the judge reads them).
 *
 * SPAWN_GROUP stays as PROG's parent and the group's leader (make and
 * every compiler under it): when it is told to stop (SIGTERM, SIGINT,
 * hvmatrix dying) it passes SIGTERM to the group, so that make deletes the
 * target it was writing, then kills the group whole. PROG's processes
 * carry SPAWN_GROUP_ENV, the mark by which a group that outlived hvmatrix
 * and its trampoline (both SIGKILLed) is known to be ours.
 */
#ifndef HVM_SPAWN_H
#define HVM_SPAWN_H

#include "lib/strbuf.h"

enum spawn_via {
	SPAWN_DIRECT = 0,	/* no trampoline: argv[0] itself */
	SPAWN_EXEC,		/* the trampoline becomes argv[0] */
	SPAWN_GROUP,		/* the trampoline stays, leading the group */
};

#define SPAWN_EXEC_TRAMPOLINE "__exec-child"
#define SPAWN_GROUP_TRAMPOLINE "__exec-group"

/*
 * SPAWN_GROUP's mark, PGID.PARENT_PID, in the environment of every
 * process of the group (make passes it to every compiler): a process that
 * merely reuses the group's id lacks it. See build_host_kill_group().
 */
#define SPAWN_GROUP_ENV "HVMATRIX_GROUP"

/*
 * The executable that carries the trampoline: NULL (the default) means
 * this program, /proc/self/exe. Unit tests whose own binary does not
 * dispatch the trampoline point it at the built hvmatrix.
 */
extern const char *spawn_self_exe;

/* spawn_self_exe resolved (malloc'd), or NULL with errno set; without
 * it, our own executable as it was the first time this was called (main()
 * calls it first thing). */
char *spawn_self(void);

/*
 * The argv to execute self with for running argv (NULL-terminated)
 * through the trampoline via (SPAWN_EXEC or SPAWN_GROUP): self, the
 * trampoline's name, our pid (with ":keep" when keep is not 3: the child
 * needs fds 3 .. keep - 1 too), then argv. Free with spawn_argv_free.
 */
char **spawn_trampoline_argv(enum spawn_via via, const char *self,
			     char *const *argv, int keep);

/*
 * Close every file descriptor from first up (close_range, or one by one
 * where the kernel lacks it). For a child between fork and exec.
 */
void spawn_close_from(int first);

/* Free a NULL-terminated argv of malloc'd strings (NULL is fine). */
void spawn_argv_free(char **argv);
/* Append argv as one line a POSIX shell would read back the same. */
void spawn_argv_quote(char *const *argv, struct strbuf *out);

/*
 * Is arg (argv[1] of a program) a trampoline's name? Every program that
 * may be spawn_self_exe checks it first thing in main() and then runs
 * spawn_trampoline(argc - 1, argv + 1), which never returns.
 */
int spawn_is_trampoline(const char *arg);
int spawn_trampoline(int argc, char **argv);

#endif
