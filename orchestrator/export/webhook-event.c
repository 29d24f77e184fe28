/*
 * webhook-event: the pure half of webhooks (webhook.h): the events a
 * regressions computation gives (confirmed, fixed, flaky, drift), their JSON
 * bodies and delivery ids, the HMAC-SHA256 signature, the backoff, and
 * reading a secret. Nothing here touches the loop; webhook.c delivers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/json.h"
#include "export/webhook.h"
#include "lib/xmalloc.h"

#define SECRET_MAX (64 * 1024)

static void add_hex(char *hex, const unsigned char *md, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void webhook_event_sign(const void *key, size_t key_len, const void *body,
			size_t body_len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	static const unsigned char none;

	/* HMAC() wants a non-NULL key even when it is empty. */
	if (!HMAC(EVP_sha256(), key_len ? key : &none, (int)key_len,
		  body_len ? body : &none, body_len, md, &md_len) ||
	    md_len != 32)
		die("HMAC-SHA256 failed (libcrypto)");
	add_hex(hex, md, 32);
	OPENSSL_cleanse(md, sizeof(md));
}

double webhook_event_backoff_s(unsigned attempts, double base_s, double max_s)
{
	double d = base_s;

	while (attempts-- > 1 && d < max_s)
		d *= 2;
	return d < max_s ? d : max_s;
}

/*
 * The delivery id: a digest of what the event is keyed by, in the 8-4-4-4-12
 * form of a GUID (what GitHub sends). The same event has the same id on
 * every attempt, from every daemon.
 */
static char *delivery_id(const struct record_outbox_event *ev)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char hex[65], *id;
	char *key = xstrfmt("%s\n%s\n%s\n%s\n%s\n%s", ev->url, ev->event,
			    ev->tree, ev->build, ev->cell, ev->first_bad);

	if (!EVP_Digest(key, strlen(key), md, &md_len, EVP_sha256(), NULL))
		die("SHA-256 failed (libcrypto)");
	add_hex(hex, md, 16);
	id = xstrfmt("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		     hex + 16, hex + 20);
	free(key);
	return id;
}

static char *event_body(const struct regression *g,
			const struct record_outbox_event *ev, double now)
{
	struct strbuf sb = STRBUF_INIT, stamp = STRBUF_INIT;
	struct json js;
	size_t i;

	strbuf_add_utc(&stamp, now);
	json_init(&js, &sb);
	json_object_begin(&js);
	json_key_str(&js, "event", ev->event);
	json_key_str(&js, "delivery", ev->delivery);
	json_key_str(&js, "created_at", stamp.buf);
	json_key_str(&js, "tree", g->tree);
	json_key_str(&js, "build", g->build);
	json_key_str(&js, "cell", ev->cell);
	json_key(&js, "cells");
	json_array_begin(&js);
	for (i = 0; i < g->n_cells; i++)
		json_str(&js, g->cells[i]);
	json_array_end(&js);
	json_key_str(&js, "status", regression_status_name(g->status));
	regression_ref_json(&js, "first_bad", &g->first_bad);
	regression_ref_json(&js, "last_good", &g->last_good);
	regression_ref_json(&js, "fixed_by", &g->fixed_by);
	json_key_str(&js, "signature", g->signature);
	json_key_str(&js, "line", g->line);
	json_key(&js, "runs");
	json_object_begin(&js);
	json_key_int(&js, "fail", g->fail);
	json_key_int(&js, "total", g->total);
	json_object_end(&js);
	json_key(&js, "why");
	if (g->why)
		json_str(&js, g->why);
	else
		json_null(&js);
	regression_changes_json(&js, &g->changes);
	json_object_end(&js);
	strbuf_addch(&sb, '\n');
	strbuf_release(&stamp);
	return strbuf_detach(&sb, NULL);
}

/*
 * Which events a regression stands for. A regression still being bisected
 * is not announced: its first bad commit is not known yet, and the event
 * is keyed by it.
 */
static unsigned events_of(const struct regression *g)
{
	if (!g->first_bad.commit)
		return 0;
	switch (g->status) {
	case REGRESSION_OPEN:
		return g->bisecting ? 0 : MATRIX_EVENT_REGRESSION;
	case REGRESSION_FIXED:
		/* It was one before it was fixed: both, once each. */
		return MATRIX_EVENT_REGRESSION |
		       (g->fixed_by.commit ? MATRIX_EVENT_FIXED : 0);
	case REGRESSION_FLAKY:
		return MATRIX_EVENT_FLAKY;
	case REGRESSION_DRIFT:
		/* Like a regression: once its culprit is named. */
		return g->bisecting ? 0 : MATRIX_EVENT_DRIFT;
	default:
		return 0;
	}
}

static const char *event_name(unsigned bit)
{
	return bit == MATRIX_EVENT_REGRESSION ? "regression" :
	       bit == MATRIX_EVENT_FIXED ? "fixed" :
	       bit == MATRIX_EVENT_DRIFT ? "drift" : "flaky";
}

static void add_event(const struct regression *g, const char *url,
		      unsigned bit, const char *cell, double now,
		      struct record_outbox_event **out, size_t *n,
		      size_t *alloc)
{
	struct record_outbox_event *ev;

	ALLOC_GROW(*out, *n + 1, *alloc);
	ev = &(*out)[(*n)++];
	memset(ev, 0, sizeof(*ev));
	ev->url = xstrdup(url);
	ev->event = xstrdup(event_name(bit));
	ev->tree = xstrdup(g->tree);
	ev->build = xstrdup(g->build);
	ev->cell = xstrdup(cell);
	ev->first_bad = xstrdup(g->first_bad.commit);
	ev->delivery = delivery_id(ev);
	ev->body = event_body(g, ev, now);
}

void webhook_event_derive(const struct regressions *rs,
			  const struct matrix_webhook *hooks, size_t n_hooks,
		    double now, struct record_outbox_event **out, size_t *n)
{
	static const unsigned bits[] = { MATRIX_EVENT_REGRESSION,
					 MATRIX_EVENT_FIXED,
					 MATRIX_EVENT_FLAKY,
					 MATRIX_EVENT_DRIFT };
	size_t alloc = *n, i, h, b, c;

	for (i = 0; i < rs->n; i++) {
		const struct regression *g = &rs->v[i];
		unsigned want = events_of(g);

		for (h = 0; h < n_hooks; h++)
			for (b = 0; b < ARRAY_SIZE(bits); b++) {
				if (!(want & bits[b] & hooks[h].events))
					continue;
				/* One per cell: a cell that shares the
				 * regression later is announced too. */
				for (c = 0; c < g->n_cells; c++)
					add_event(g, hooks[h].url, bits[b],
						  g->cells[c], now, out, n,
						  &alloc);
			}
	}
}

void webhook_event_derived_free(struct record_outbox_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_outbox_event_release(&ev[i]);
	free(ev);
}

/* Wipe what a buffer held before it goes (it may be a secret). */
void webhook_event_wipe(struct strbuf *sb)
{
	if (sb->alloc)
		OPENSSL_cleanse(sb->buf, sb->alloc);
	strbuf_release(sb);
}

int webhook_event_read_secret(const struct matrix_webhook *hook,
			      struct strbuf *out,
			      struct strbuf *err)
{
	char buf[4096];
	ssize_t got;
	int fd;

	if (hook->secret_env) {
		const char *v = getenv(hook->secret_env);

		if (!v || !*v) {
			strbuf_addf(err, "secret_env %s: not set or empty",
				    hook->secret_env);
			return -1;
		}
		strbuf_addstr(out, v);
		return 0;
	}
	fd = open(hook->secret_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(err, "secret_file %s: %s", hook->secret_file,
			    strerror(errno));
		return -1;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0 &&
	       out->len + (size_t)got <= SECRET_MAX)
		strbuf_add(out, buf, (size_t)got);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	if (got != 0) {
		strbuf_addf(err, "secret_file %s: %s", hook->secret_file,
			    got < 0 ? strerror(errno) : "longer than 64 KiB");
		webhook_event_wipe(out);
		return -1;
	}
	/* `echo secret > file` adds a line end that is not the secret's. */
	if (out->len && out->buf[out->len - 1] == '\n')
		strbuf_setlen(out, out->len - 1);
	if (out->len && out->buf[out->len - 1] == '\r')
		strbuf_setlen(out, out->len - 1);
	if (!out->len) {
		strbuf_addf(err, "secret_file %s: empty", hook->secret_file);
		return -1;
	}
	return 0;
}

