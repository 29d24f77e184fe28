/*
 * sigwatch: see sigwatch.h. The handles are embedded in struct sigwatch;
 * nothing is allocated, and nothing is called back once it is closed.
 */
#include "lib/sigwatch.h"
#include "lib/xmalloc.h"

static void on_signal(uv_signal_t *s, int signum)
{
	struct sigwatch *w = s->data;

	w->cb(w, signum);
}

void sigwatch_start(struct sigwatch *w, uv_loop_t *loop, const int *signums,
		    size_t n, sigwatch_cb cb)
{
	size_t i;

	if (n > SIGWATCH_MAX)
		die("sigwatch: %zu signals, at most %d", n, SIGWATCH_MAX);
	w->cb = cb;
	w->n = n;
	w->closed = 0;
	for (i = 0; i < n; i++) {
		uv_signal_init(loop, &w->sig[i]);
		w->sig[i].data = w;
		uv_signal_start(&w->sig[i], on_signal, signums[i]);
	}
}

void sigwatch_close(struct sigwatch *w)
{
	size_t i;

	if (w->closed)
		return;
	w->closed = 1;
	for (i = 0; i < w->n; i++)
		uv_close((uv_handle_t *)&w->sig[i], NULL);
}
