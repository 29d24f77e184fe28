/*
 * record-outbox: the webhooks' outbox in the store (webhook.h). One row
 * per (endpoint, event): its body, fixed when it is queued, and how its
 * delivery goes (attempts, the next attempt's time, delivered or not).
 * Rows are keyed by what they announce (url, event, tree, build, cell,
 * first bad commit), so queueing the same event again, after a restart or
 * any recomputation, changes nothing: each is sent until delivered, and
 * never again once it was. Secrets are never stored here.
 */
#ifndef HVM_RECORD_OUTBOX_H
#define HVM_RECORD_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store/record.h"
#include "lib/strbuf.h"

/* An event to queue for one endpoint. */
struct record_outbox_event {
	char *url, *event, *tree, *build, *cell, *first_bad;
	char *delivery;		/* its id, the same for every attempt */
	char *body;		/* the JSON sent, signed when sent */
};

/* A row due for an attempt. */
struct record_outbox_row {
	int64_t id;
	char *url, *event, *delivery, *body;
	unsigned attempts;	/* made so far */
};

struct record_outbox_counts {
	unsigned pending;	/* not delivered yet */
	unsigned failing;	/* ... of which at least one attempt failed */
	unsigned delivered;
};

/*
 * Queue events (one transaction); those queued before are left as they
 * are. *added (may be NULL): how many were new. 0 or -1 + err.
 */
int record_outbox_add(struct record *r, const struct record_outbox_event *ev,
		      size_t n, size_t *added, struct strbuf *err);
/*
 * Undelivered rows of the endpoints urls[0..n_urls) whose next attempt is
 * due at `now`, oldest first, at most max; *next_at: the earliest later
 * attempt of theirs (0: none). 0 or -1 + err.
 */
int record_outbox_due(struct record *r, const char *const *urls,
		      size_t n_urls, double now, size_t max,
		      struct record_outbox_row **rows, size_t *n,
		      double *next_at, struct strbuf *err);
void record_outbox_rows_free(struct record_outbox_row *rows, size_t n);
/* The endpoint answered 2xx: never sent again. */
int record_outbox_delivered(struct record *r, int64_t id, double at,
			    struct strbuf *err);
/* An attempt failed (why: for people, never a secret): try at next_at. */
int record_outbox_retry(struct record *r, int64_t id, double next_at,
			const char *why, struct strbuf *err);
int record_outbox_count(struct record *r, struct record_outbox_counts *c,
			struct strbuf *err);
/* Release ev's strings. */
void record_outbox_event_release(struct record_outbox_event *ev);

#endif
