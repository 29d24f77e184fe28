/*
 * webhook: see webhook.h. Delivery, on the daemon's loop (the pure half,
 * signing, the events of a computation and their bodies, is
 * webhook-event.c's): libcurl's multi interface told about sockets
 * and timeouts through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION,
 * which become uv_poll_t and uv_timer_t handles, as in curl's own
 * docs/examples/multi-uv.c. Every store call (what is due, what was
 * delivered) is an op on the store thread, and that op is where secrets
 * are read and bodies signed: the loop never opens a file.
 *
 * It must never block the loop, never send an event again once its 2xx is
 * in the store (only a kill between the answer and that note resends one,
 * with the same X-Hvmatrix-Delivery id for the receiver to drop), and
 * never let a secret reach a log line, the status file or the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/json.h"
#include "lib/timeutil.h"
#include "export/webhook.h"
#include "lib/xmalloc.h"

/* ---- delivery ---- */

struct webhook {
	uv_loop_t *loop;
	struct record_thread *store;
	void (*say)(void *, const char *);
	void *say_data;
	CURLM *multi;
	uv_timer_t curl_timer;		/* curl's timeout */
	uv_timer_t due_timer;		/* the next attempt's time */
	struct matrix_webhook *hooks;	/* copies of the matrix's */
	size_t n_hooks;
	int fetching;			/* a due op in flight */
	int again;			/* kicked meanwhile */
	unsigned transfers;		/* attempts in flight */
	unsigned marks;			/* mark ops in flight */
	int draining;
	void (*idle)(void *);
	void *idle_data;
	int stopping;
	unsigned open_handles;		/* uv handles not closed yet */
	double base_s, max_s;
	struct record_outbox_counts counts;
	int have_counts;
};

/* A socket curl wants watched. */
struct wh_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct webhook *w;
};

/* One attempt at one row. */
struct wh_xfer {
	struct webhook *w;
	CURL *easy;
	struct curl_slist *headers;
	struct record_outbox_row row;	/* owns its strings */
	char errbuf[CURL_ERROR_SIZE];
};

/* A row's outcome, to the store. */
struct wh_mark {
	struct webhook *w;
	int64_t id;
	int delivered;
	double at;			/* delivered_at or next attempt */
	char *why;
};

/* What is due, read and signed on the store thread. */
struct wh_fetch {
	struct webhook *w;
	struct matrix_webhook *hooks;	/* copies: the matrix may change */
	size_t n_hooks;
	struct record_outbox_row *rows;
	size_t n_rows;
	char **sig;			/* per row: hex, or NULL */
	char **why;			/* per row: why it is not signed */
	double next_at;
	struct record_outbox_counts counts;
};

static void say(struct webhook *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct webhook *w, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!w->say)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	w->say(w->say_data, sb.buf);
	strbuf_release(&sb);
}

static void hooks_copy(struct matrix_webhook **out, size_t *n,
		       const struct matrix_webhook *from, size_t n_from)
{
	size_t i;

	*out = n_from ? xcalloc(n_from, sizeof(**out)) : NULL;
	*n = n_from;
	for (i = 0; i < n_from; i++) {
		(*out)[i] = from[i];
		(*out)[i].url = xstrdup(from[i].url);
		(*out)[i].secret_file = from[i].secret_file ?
					xstrdup(from[i].secret_file) : NULL;
		(*out)[i].secret_env = from[i].secret_env ?
				       xstrdup(from[i].secret_env) : NULL;
	}
}

static void hooks_free(struct matrix_webhook *hooks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(hooks[i].url);
		free(hooks[i].secret_file);
		free(hooks[i].secret_env);
	}
	free(hooks);
}

static int busy(const struct webhook *w)
{
	return w->fetching || w->transfers || w->marks;
}

static void maybe_idle(struct webhook *w)
{
	void (*idle)(void *) = w->idle;

	if (!w->draining || busy(w) || !idle)
		return;
	w->idle = NULL;
	idle(w->idle_data);
}

static void fetch(struct webhook *w);

/* A batch is over: fetch again at once or when the next one is due. */
static void batch_over(struct webhook *w, int had_rows)
{
	if (w->draining) {
		maybe_idle(w);
		return;
	}
	if (busy(w))
		return;
	if (had_rows || w->again)
		fetch(w);
}

static void mark_done(void *arg, int rc, const char *err)
{
	struct wh_mark *m = arg;
	struct webhook *w = m->w;

	if (rc < 0)
		say(w, "webhook: the outbox does not take the outcome: %s",
		    err);
	w->marks--;
	free(m->why);
	free(m);
	batch_over(w, 1);
}

static int mark_op(struct record *r, void *arg, struct strbuf *err)
{
	struct wh_mark *m = arg;

	if (m->delivered)
		return record_outbox_delivered(r, m->id, m->at, err);
	return record_outbox_retry(r, m->id, m->at, m->why, err);
}

static void submit_mark(struct webhook *w, const struct record_outbox_row *row,
			int delivered, const char *why)
{
	struct wh_mark *m = xcalloc(1, sizeof(*m));
	double now = timeutil_now();

	m->w = w;
	m->id = row->id;
	m->delivered = delivered;
	if (delivered) {
		m->at = now;
	} else {
		double wait = webhook_event_backoff_s(row->attempts + 1,
						      w->base_s,
						      w->max_s);

		m->at = now + wait;
		m->why = xstrdup(why);
		say(w, "webhook %s %s to %s: %s (attempt %u); next in %.1f s",
		    row->event, row->delivery, row->url, why,
		    row->attempts + 1, wait);
	}
	w->marks++;
	record_thread_submit(w->store, mark_op, mark_done, m);
}

static void xfer_free(struct wh_xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->row.url);
	free(x->row.event);
	free(x->row.delivery);
	free(x->row.body);
	free(x);
}

static void xfer_done(struct wh_xfer *x, CURLcode res)
{
	struct webhook *w = x->w;
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && code >= 200 && code < 300) {
		say(w, "webhook %s %s to %s: delivered (HTTP %ld)",
		    x->row.event, x->row.delivery, x->row.url, code);
		submit_mark(w, &x->row, 1, NULL);
	} else if (res == CURLE_OK) {
		char *why = xstrfmt("HTTP %ld", code);

		submit_mark(w, &x->row, 0, why);
		free(why);
	} else {
		submit_mark(w, &x->row, 0, x->errbuf[0] ? x->errbuf :
			    curl_easy_strerror(res));
	}
	w->transfers--;
	xfer_free(x);
}

static void check_done(struct webhook *w)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(w->multi, &left))) {
		struct wh_xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&x);
		curl_multi_remove_handle(w->multi, msg->easy_handle);
		xfer_done(x, msg->data.result);
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct webhook *w = h->data;

	if (h->type == UV_POLL)
		free(container_of((uv_poll_t *)h, struct wh_sock, poll));
	if (--w->open_handles)
		return;
	hooks_free(w->hooks, w->n_hooks);
	free(w);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct wh_sock *s = container_of(h, struct wh_sock, poll);
	struct webhook *w = s->w;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(w->multi, s->fd, flags, &running);
	check_done(w);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct webhook *w = userp;
	struct wh_sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, handle_closed);
			curl_multi_assign(w->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->w = w;
		if (uv_poll_init_socket(w->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->poll.data = w;
		w->open_handles++;
		curl_multi_assign(w->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, poll_cb);
	return 0;
}

static void curl_timeout_cb(uv_timer_t *t)
{
	struct webhook *w = container_of(t, struct webhook, curl_timer);
	int running;

	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(w);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct webhook *w = userp;

	if (w->stopping)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&w->curl_timer);
	else
		uv_timer_start(&w->curl_timer, curl_timeout_cb,
			       (uint64_t)timeout_ms, 0);
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *data)
{
	return size * n;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *fmt,
				     const char *value)
{
	char *h = xstrfmt(fmt, value);
	struct curl_slist *n = curl_slist_append(l, h);

	free(h);
	if (!n)
		die("out of memory (curl headers)");
	return n;
}

/* One attempt; takes row's strings. */
/*
 * curl's sockets are opened close-on-exec: otherwise every child started
 * while a delivery is in flight (make, QEMU, sbatch) would hold one.
 */
static curl_socket_t open_socket(void *data, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void start_xfer(struct webhook *w, struct record_outbox_row *row,
		       const char *sig)
{
	struct wh_xfer *x = xcalloc(1, sizeof(*x));
	CURL *e = curl_easy_init();

	if (!e)
		die("out of memory (curl)");
	x->w = w;
	x->easy = e;
	x->row = *row;
	memset(row, 0, sizeof(*row));
	x->headers = add_header(NULL, "%s", "Content-Type: application/json");
	x->headers = add_header(x->headers, "%s", "Expect:");
	x->headers = add_header(x->headers, "X-Hvmatrix-Event: %s",
				x->row.event);
	x->headers = add_header(x->headers, "X-Hvmatrix-Delivery: %s",
				x->row.delivery);
	x->headers = add_header(x->headers, "X-Hvmatrix-Signature-256: "
				"sha256=%s", sig);
	curl_easy_setopt(e, CURLOPT_URL, x->row.url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->row.body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(x->row.body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hvmatrix-webhook/1");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	w->transfers++;
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		w->transfers--;
		submit_mark(w, &x->row, 0, "curl_multi_add_handle failed");
		xfer_free(x);
	}
}

static void fetch_free(struct wh_fetch *f)
{
	size_t i;

	for (i = 0; i < f->n_rows; i++) {
		free(f->sig[i]);
		free(f->why[i]);
	}
	free(f->sig);
	free(f->why);
	record_outbox_rows_free(f->rows, f->n_rows);
	hooks_free(f->hooks, f->n_hooks);
	free(f);
}

static int fetch_op(struct record *r, void *arg, struct strbuf *err)
{
	struct wh_fetch *f = arg;
	const char **urls = xcalloc(f->n_hooks + 1, sizeof(*urls));
	size_t i, h;
	int ret = -1;

	for (i = 0; i < f->n_hooks; i++)
		urls[i] = f->hooks[i].url;
	if (record_outbox_due(r, urls, f->n_hooks, timeutil_now(),
			      WEBHOOK_BATCH, &f->rows, &f->n_rows,
			      &f->next_at, err) < 0 ||
	    record_outbox_count(r, &f->counts, err) < 0)
		goto out;
	f->sig = xcalloc(f->n_rows + 1, sizeof(*f->sig));
	f->why = xcalloc(f->n_rows + 1, sizeof(*f->why));
	/* Each endpoint's secret is read once per batch, then wiped. */
	for (h = 0; h < f->n_hooks; h++) {
		struct strbuf secret = STRBUF_INIT, why = STRBUF_INIT;
		int ok = -2;

		for (i = 0; i < f->n_rows; i++) {
			char hex[65];

			if (strcmp(f->rows[i].url, f->hooks[h].url))
				continue;
			if (ok == -2)
				ok = webhook_event_read_secret(&f->hooks[h],
							       &secret,
							       &why);
			if (ok < 0) {
				f->why[i] = xstrdup(why.buf);
				continue;
			}
			webhook_event_sign(secret.buf, secret.len,
					   f->rows[i].body,
					   strlen(f->rows[i].body), hex);
			f->sig[i] = xstrdup(hex);
		}
		webhook_event_wipe(&secret);
		strbuf_release(&why);
	}
	ret = 0;
out:
	free(urls);
	return ret;
}

static void due_cb(uv_timer_t *t)
{
	fetch(container_of(t, struct webhook, due_timer));
}

static void fetch_done(void *arg, int rc, const char *err)
{
	struct wh_fetch *f = arg;
	struct webhook *w = f->w;
	size_t i, had = f->n_rows;

	w->fetching = 0;
	if (rc < 0) {
		say(w, "webhook: cannot read the outbox: %s; trying again in "
		    "30 s", err);
		f->next_at = timeutil_now() + 30;
	} else {
		w->counts = f->counts;
		w->have_counts = 1;
	}
	if (w->draining) {
		fetch_free(f);
		maybe_idle(w);
		return;
	}
	for (i = 0; i < f->n_rows; i++) {
		if (f->sig[i])
			start_xfer(w, &f->rows[i], f->sig[i]);
		else
			submit_mark(w, &f->rows[i], 0, f->why[i]);
	}
	if (f->next_at > 0) {
		double wait = f->next_at - timeutil_now();

		uv_timer_start(&w->due_timer, due_cb,
			       wait > 0 ? (uint64_t)(wait * 1000) + 5 : 0, 0);
	}
	fetch_free(f);
	if (!had)
		batch_over(w, 0);
}

static void fetch(struct webhook *w)
{
	struct wh_fetch *f;

	if (w->draining || w->stopping || !w->n_hooks)
		return;
	if (busy(w)) {
		w->again = 1;	/* when this batch is over */
		return;
	}
	w->again = 0;
	f = xcalloc(1, sizeof(*f));
	f->w = w;
	hooks_copy(&f->hooks, &f->n_hooks, w->hooks, w->n_hooks);
	w->fetching = 1;
	record_thread_submit(w->store, fetch_op, fetch_done, f);
}

static double env_seconds(const char *name, double dflt)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return dflt;
	v = strtod(s, &end);
	return *end || !(v > 0) ? dflt : v;
}

int webhook_start(struct webhook **out, uv_loop_t *loop,
		  struct record_thread *store,
		  void (*sayf)(void *data, const char *line), void *data,
		  struct strbuf *err)
{
	static int curl_ready;
	struct webhook *w;

	*out = NULL;
	/* Once per process, before any thread of ours uses curl. */
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			strbuf_addstr(err, "webhooks: curl_global_init failed");
			return -1;
		}
		curl_ready = 1;
	}
	w = xcalloc(1, sizeof(*w));
	w->multi = curl_multi_init();
	if (!w->multi) {
		strbuf_addstr(err, "webhooks: curl_multi_init failed");
		free(w);
		return -1;
	}
	w->loop = loop;
	w->store = store;
	w->say = sayf;
	w->say_data = data;
	w->base_s = env_seconds("HVMATRIX_WEBHOOK_RETRY_S",
				WEBHOOK_RETRY_BASE_S);
	w->max_s = env_seconds("HVMATRIX_WEBHOOK_RETRY_MAX_S",
			       WEBHOOK_RETRY_MAX_S);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	uv_timer_init(loop, &w->curl_timer);
	uv_timer_init(loop, &w->due_timer);
	w->curl_timer.data = w->due_timer.data = w;
	w->open_handles = 2;
	*out = w;
	return 0;
}

void webhook_configure(struct webhook *w, const struct matrix *m)
{
	webhook_event_take_secrets(m->webhooks, m->n_webhooks);
	hooks_free(w->hooks, w->n_hooks);
	hooks_copy(&w->hooks, &w->n_hooks, m->webhooks, m->n_webhooks);
}

void webhook_kick(struct webhook *w)
{
	if (w)
		fetch(w);
}

int webhook_drain(struct webhook *w, void (*idle)(void *), void *data)
{
	if (!w)
		return 0;
	w->draining = 1;
	uv_timer_stop(&w->due_timer);
	if (!busy(w))
		return 0;
	w->idle = idle;
	w->idle_data = data;
	return 1;
}

void webhook_stop(struct webhook *w)
{
	if (!w)
		return;
	w->draining = 1;
	w->stopping = 1;
	/* Closes cached connections: their polls go through socket_cb. */
	curl_multi_cleanup(w->multi);
	w->multi = NULL;
	uv_close((uv_handle_t *)&w->curl_timer, handle_closed);
	uv_close((uv_handle_t *)&w->due_timer, handle_closed);
}

void webhook_status_json(const struct webhook *w, struct json *js)
{
	json_object_begin(js);
	json_key_int(js, "endpoints", w ? (int64_t)w->n_hooks : 0);
	if (w && w->have_counts) {
		json_key_int(js, "pending", w->counts.pending);
		json_key_int(js, "failing", w->counts.failing);
		json_key_int(js, "delivered", w->counts.delivered);
	}
	json_object_end(js);
}
