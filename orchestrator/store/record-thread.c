/*
 * record-thread: the store's one writer thread, for a caller that runs an
 * event loop (the daemon). Every store call the loop wants made (writes
 * with their fsync, and the reads that decide what to do next) is queued
 * here and run in order on one thread with its own connection, so the
 * loop never waits for the disk and never reads another thread's
 * uncommitted rows. Results come back to the loop through a uv_async.
 *
 * Ops run strictly in the order they were submitted: a job's runs are on
 * disk before the op that marks the job done.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/record-thread.h"
#include "lib/xmalloc.h"

struct record_op {
	struct record_op *next;
	record_op_fn fn;
	record_op_done_fn done;
	void *arg;
	int rc;
	struct strbuf err;
};

struct record_thread {
	uv_loop_t *loop;
	struct record *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct record_op *todo, **todo_tail;	/* FIFO, to the thread */
	struct record_op *done, **done_tail;	/* FIFO, to the loop */
	size_t in_flight;			/* submitted, done not called */
	int quit;
	uv_async_t wake;
	void (*closed)(void *);
	void *closed_data;
};

static void *thread_main(void *data)
{
	struct record_thread *t = data;
	struct record_op *op;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!t->todo && !t->quit)
			pthread_cond_wait(&t->cond, &t->lock);
		if (!t->todo)
			break;
		op = t->todo;
		t->todo = op->next;
		if (!t->todo)
			t->todo_tail = &t->todo;
		pthread_mutex_unlock(&t->lock);

		op->rc = op->fn(t->store, op->arg, &op->err);

		pthread_mutex_lock(&t->lock);
		op->next = NULL;
		*t->done_tail = op;
		t->done_tail = &op->next;
		uv_async_send(&t->wake);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void wake_cb(uv_async_t *a)
{
	struct record_thread *t = container_of(a, struct record_thread, wake);
	struct record_op *list, *op;

	pthread_mutex_lock(&t->lock);
	list = t->done;
	t->done = NULL;
	t->done_tail = &t->done;
	pthread_mutex_unlock(&t->lock);
	while ((op = list)) {
		list = op->next;
		t->in_flight--;
		if (op->done)
			op->done(op->arg, op->rc, op->err.buf);
		strbuf_release(&op->err);
		free(op);
	}
}

int record_thread_start(struct record_thread **out, uv_loop_t *loop,
			const char *state_dir, struct strbuf *err)
{
	struct record_thread *t = xcalloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (record_open(&t->store, state_dir, err) < 0) {
		free(t);
		return -1;
	}
	t->loop = loop;
	t->todo_tail = &t->todo;
	t->done_tail = &t->done;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	uv_async_init(loop, &t->wake, wake_cb);
	rc = pthread_create(&t->thread, NULL, thread_main, t);
	if (rc) {
		strbuf_addf(err, "cannot start the store thread: %s",
			    strerror(rc));
		uv_close((uv_handle_t *)&t->wake, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
		record_close(t->store);
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->cond);
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void record_thread_submit(struct record_thread *t, record_op_fn fn,
			  record_op_done_fn done, void *arg)
{
	struct record_op *op = xcalloc(1, sizeof(*op));

	op->fn = fn;
	op->done = done;
	op->arg = arg;
	strbuf_init(&op->err, 0);
	t->in_flight++;
	pthread_mutex_lock(&t->lock);
	*t->todo_tail = op;
	t->todo_tail = &op->next;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

size_t record_thread_pending(const struct record_thread *t)
{
	return t ? t->in_flight : 0;
}

static void wake_closed(uv_handle_t *h)
{
	struct record_thread *t = container_of((uv_async_t *)h,
					       struct record_thread, wake);

	/* The thread is joined: deliver what it finished last. */
	wake_cb(&t->wake);
	if (t->closed)
		t->closed(t->closed_data);
	record_close(t->store);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t);
}

void record_thread_stop(struct record_thread *t, void (*closed)(void *),
			void *data)
{
	pthread_mutex_lock(&t->lock);
	t->quit = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	/* Queued ops still run: nothing handed to the store is dropped. */
	pthread_join(t->thread, NULL);
	t->closed = closed;
	t->closed_data = data;
	uv_close((uv_handle_t *)&t->wake, wake_closed);
}
