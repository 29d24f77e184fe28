/*
 * record-thread: the store's one writer thread, for callers that run a
 * libuv loop. Ops run in submission order on one thread with the thread's
 * own connection; their done callbacks run on the loop, in the same order.
 */
#ifndef HVM_RECORD_THREAD_H
#define HVM_RECORD_THREAD_H

#include <uv.h>

#include "store/record.h"

struct record_thread;

/* Runs on the store thread: 0 or -1 + err (or any int the op defines). */
typedef int (*record_op_fn)(struct record *r, void *arg, struct strbuf *err);
/* Runs on the loop thread with the op's return and message ("" if none). */
typedef void (*record_op_done_fn)(void *arg, int rc, const char *err);

/* Open the store (record_open) for the thread and start it. 0 or -1. */
int record_thread_start(struct record_thread **out, uv_loop_t *loop,
			const char *state_dir, struct strbuf *err);
void record_thread_submit(struct record_thread *t, record_op_fn fn,
			  record_op_done_fn done, void *arg);
/* Ops submitted whose done callback has not run yet. */
size_t record_thread_pending(const struct record_thread *t);
/*
 * Run what is queued, stop the thread, close the store. The remaining done
 * callbacks run from the loop, then closed(data); t is freed after.
 */
void record_thread_stop(struct record_thread *t, void (*closed)(void *),
			void *data);

#endif
