/*
 * webhook: signed event POSTs from the daemon, the way GitHub sends its
 * own: a JSON body and `X-Hvmatrix-Signature-256: sha256=<hex HMAC-SHA256
 * of the body>` with the endpoint's secret, plus X-Hvmatrix-Event and
 * X-Hvmatrix-Delivery.
 *
 * Events are derived from the regressions the daemon's compare computes
 * (webhook_event_derive, pure, in the thread pool): "regression" once a
 * regression is confirmed and its first bad commit known, "fixed" once a
 * later commit passes again, "flaky" when a cell turns flaky, "drift" once
 * a drift (a commit that still passes but engages other parts of the
 * interface, its body's "changes" say which) is bisected. They go to
 * the store's outbox (record-outbox.h), keyed so that each is queued once
 * ever, then are delivered from the loop with libcurl's multi interface
 * driven by libuv (never a blocking call on the loop): a 2xx marks a row
 * delivered, anything else is retried with exponential backoff kept in
 * the store. A restart or an endpoint that is down loses nothing; a
 * delivered event is never sent again. (A daemon killed between the
 * endpoint's 2xx and the store's mark sends that one event again at its
 * next start, with the same delivery id: receivers dedup on it.)
 *
 * Secrets are read (file or environment) on the store thread right before
 * a batch is signed, and never kept, logged, stored or shown.
 */
#ifndef HVM_WEBHOOK_H
#define HVM_WEBHOOK_H

#include <stddef.h>
#include <uv.h>

#include "matrix/matrix.h"
#include "store/record-outbox.h"
#include "store/record-thread.h"
#include "compare/regressions.h"
#include "lib/strbuf.h"

#define WEBHOOK_RETRY_BASE_S 1.0	/* $HVMATRIX_WEBHOOK_RETRY_S */
#define WEBHOOK_RETRY_MAX_S 600.0
#define WEBHOOK_TIMEOUT_MS 10000	/* one attempt, connect included */
#define WEBHOOK_BATCH 16		/* attempts in flight at most */

/* hex: 64 digits and a NUL. */
void webhook_event_sign(const void *key, size_t key_len, const void *body,
			size_t body_len, char hex[65]);
/* Seconds before the attempt after `attempts` failed ones (>= 1). */
double webhook_event_backoff_s(unsigned attempts, double base_s, double max_s);
/*
 * The events rs shows, for every endpoint of hooks[0..n_hooks) that wants
 * them, appended to *out (grown; *n counts). now: the bodies'
 * "created_at". Each has its delivery id and body; queueing one that was
 * queued before is a no-op (record_outbox_add).
 */
void webhook_event_derive(const struct regressions *rs,
			  const struct matrix_webhook *hooks, size_t n_hooks,
		    double now, struct record_outbox_event **out, size_t *n);
void webhook_event_derived_free(struct record_outbox_event *ev, size_t n);
/* Overwrite sb's buffer (a secret) before releasing it. */
void webhook_event_wipe(struct strbuf *sb);
/* The secret of hook into out: 0, or -1 + err naming where it is. */
int webhook_event_read_secret(const struct matrix_webhook *hook,
			      struct strbuf *out,
			      struct strbuf *err);

/* ---- delivery, on a libuv loop ---- */

struct webhook;

/*
 * Start delivering from the outbox of store's state. say(data, line) is
 * told what happens (no secret is ever in it). 0 or -1 + err.
 */
int webhook_start(struct webhook **out, uv_loop_t *loop,
		  struct record_thread *store,
		  void (*say)(void *data, const char *line), void *data,
		  struct strbuf *err);
/* The endpoints (copied; call again after a matrix reload). */
void webhook_configure(struct webhook *w, const struct matrix *m);
/* Look for due events now (after new ones were queued). */
void webhook_kick(struct webhook *w);
/*
 * No new attempt starts; 1 when attempts or store ops are in flight, and
 * then idle(data) is called once they are all done; 0 when idle already.
 */
int webhook_drain(struct webhook *w, void (*idle)(void *), void *data);
/* Close (after webhook_drain said idle); w is freed. */
void webhook_stop(struct webhook *w);
/* {"endpoints", "pending", "failing", "delivered"}: no secret. */
struct json;
void webhook_status_json(const struct webhook *w, struct json *js);

#endif
