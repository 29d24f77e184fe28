/*
 * sigwatch: signals caught on the loop (uv_signal), all handed to one
 * callback, for a foreground command that must stop its children
 * cleanly when it is told to stop (SIGINT, SIGTERM, ...) rather than die
 * and leave the trampolines to kill them.
 */
#ifndef HVM_SIGWATCH_H
#define HVM_SIGWATCH_H

#include <stddef.h>
#include <uv.h>

#define SIGWATCH_MAX 4

struct sigwatch;
typedef void (*sigwatch_cb)(struct sigwatch *w, int signum);

struct sigwatch {
	sigwatch_cb cb;
	/* Private to sigwatch.c; the owner is found with container_of. */
	uv_signal_t sig[SIGWATCH_MAX];
	size_t n;
	int closed;
};

/* Catch each of signums (n of them, at most SIGWATCH_MAX) with cb. */
void sigwatch_start(struct sigwatch *w, uv_loop_t *loop, const int *signums,
		    size_t n, sigwatch_cb cb);

/*
 * Stop catching them (the default actions return); a second call does
 * nothing. w must outlive the loop's next iteration: the handles close
 * there.
 */
void sigwatch_close(struct sigwatch *w);

#endif
