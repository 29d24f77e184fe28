/*
 * spawn: the group trampoline. A long-running child tree (make and every
 * compiler under it) is started as
 *
 *   hvmatrix __exec-group PARENT_PID PROG ARGS...
 *
 * with UV_PROCESS_DETACHED, so it leads its own process group. The
 * trampoline dies with hvmatrix (PR_SET_PDEATHSIG) and, when it is told to
 * stop (SIGTERM, SIGINT), kills its whole group, so nothing it started
 * outlives hvmatrix, even after kill -9. It never runs a shell.
 */
#ifndef HVM_SPAWN_H
#define HVM_SPAWN_H

#include "lib/strbuf.h"

#define SPAWN_GROUP_TRAMPOLINE "__exec-group"

/*
 * The trampoline runs PROG with SPAWN_GROUP_ENV=PGID.PARENT_PID in its
 * environment (make passes it to every compiler), the mark by which a
 * group that outlived both hvmatrix and its trampoline (both SIGKILLed)
 * is known to be ours: a process that merely reuses the group's id lacks
 * it. See build_host_kill_group().
 */
#define SPAWN_GROUP_ENV "HVMATRIX_GROUP"

/*
 * The executable that carries the trampoline: NULL (the default) means
 * this program, /proc/self/exe. Unit tests, whose own binary is not
 * hvmatrix, point it at the built hvmatrix.
 */
extern const char *spawn_self_exe;

/*
 * The argv to give uv_spawn for running argv (NULL-terminated) through
 * the group trampoline: self exe, SPAWN_GROUP_TRAMPOLINE, our pid, then
 * argv. args[0] is also the file to execute. NULL with errno set when the
 * executable cannot be resolved. Free with spawn_argv_free.
 */
char **spawn_group_argv(char *const *argv);

/* Free a NULL-terminated argv of malloc'd strings (NULL is fine). */
void spawn_argv_free(char **argv);
/* Append argv as one line a POSIX shell would read back the same. */
void spawn_argv_quote(char *const *argv, struct strbuf *out);

/* The child half: argv[0] is SPAWN_GROUP_TRAMPOLINE. Never returns. */
int spawn_group_trampoline(int argc, char **argv);

#endif
