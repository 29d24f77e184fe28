/*
 * Unit tests for webhooks: HMAC-SHA256 against RFC 4231's test vectors,
 * the backoff, which events a computation's regressions stand for (and
 * their bodies and delivery ids), the outbox's once-ever queueing and its
 * delivery bookkeeping in a real store, reading secrets, and the matrix
 * file's `webhooks` section with its file:line:col errors.
 */
#include <check.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "matrix/matrix.h"
#include "store/record-outbox.h"
#include "export/webhook.h"
#include "lib/xmalloc.h"

static void sign_hex(const void *key, size_t klen, const void *data,
		     size_t dlen, char hex[65])
{
	webhook_event_sign(key, klen, data, dlen, hex);
}

/* RFC 4231 section 4: test cases 1-4, 6 and 7 (5 is truncated output). */
START_TEST(hmac_rfc4231)
{
	unsigned char key[131], data[50];
	char hex[65];
	size_t i;
	static const char tc7[] = "This is a test using a larger than "
		"block-size key and a larger than block-size data. The key "
		"needs to be hashed before being used by the HMAC algorithm.";

	memset(key, 0x0b, 20);
	sign_hex(key, 20, "Hi There", 8, hex);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b"
			 "881dc200c9833da726e9376c2e32cff7");
	sign_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c7"
			 "5a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	sign_hex(key, 20, data, 50, hex);
	ck_assert_str_eq(hex, "773ea91e36800e46854db8ebd09181a7"
			 "2959098b3ef8c122d9635514ced565fe");
	for (i = 0; i < 25; i++)
		key[i] = (unsigned char)(i + 1);
	memset(data, 0xcd, 50);
	sign_hex(key, 25, data, 50, hex);
	ck_assert_str_eq(hex, "82558a389a443c0ea4cc819899f2083a"
			 "85f0faa3e578f8077a2e3ff46729665b");
	memset(key, 0xaa, 131);
	sign_hex(key, 131, "Test Using Larger Than Block-Size Key - Hash Key "
		 "First", 54, hex);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
			 "8e0bc6213728c5140546040f0ee37f54");
	sign_hex(key, 131, tc7, strlen(tc7), hex);
	ck_assert_str_eq(hex, "9b09ffa71b942fcb27635fbcd5b0e944"
			 "bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

START_TEST(backoff_doubles_to_its_cap)
{
	ck_assert(webhook_event_backoff_s(1, 1, 600) == 1);
	ck_assert(webhook_event_backoff_s(2, 1, 600) == 2);
	ck_assert(webhook_event_backoff_s(5, 1, 600) == 16);
	ck_assert(webhook_event_backoff_s(10, 1, 600) == 512);
	ck_assert(webhook_event_backoff_s(11, 1, 600) == 600);
	ck_assert(webhook_event_backoff_s(1000, 1, 600) == 600);
	ck_assert(webhook_event_backoff_s(3, 0.5, 600) == 2);
}
END_TEST

static void set_ref(struct regression_ref *r, const char *commit)
{
	r->commit = commit ? xstrdup(commit) : NULL;
	r->subject = commit ? xstrfmt("subject of %s", commit) : NULL;
	r->author = commit ? xstrdup("A U Thor <a@example.org>") : NULL;
}

static void add_reg(struct regressions *rs, const char *cell,
		    enum regression_status st, int bisecting,
		    const char *first_bad, const char *fixed_by)
{
	struct regression *g;

	rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
	g = &rs->v[rs->n++];
	memset(g, 0, sizeof(*g));
	g->tree = xstrdup("t");
	g->build = xstrdup("b");
	g->cells = xcalloc(2, sizeof(*g->cells));
	g->cells[0] = xstrdup(cell);
	g->n_cells = 1;
	g->status = st;
	g->bisecting = bisecting;
	set_ref(&g->first_bad, first_bad);
	set_ref(&g->last_good, "c0");
	set_ref(&g->fixed_by, fixed_by);
	g->line = xstrdup("Kernel panic - not syncing: \"quoted\"");
	g->signature = xstrdup("Kernel panic - not syncing");
	g->fail = 3;
	g->total = 3;
}

/* Four events for hook a (all kinds), one for hook b (fixed only). */
static void sample(struct regressions *rs, struct matrix_webhook hooks[2])
{
	memset(rs, 0, sizeof(*rs));
	add_reg(rs, "vmware", REGRESSION_OPEN, 0, "c1", NULL);
	add_reg(rs, "xen", REGRESSION_OPEN, 1, "c2", NULL); /* bisecting */
	add_reg(rs, "q35", REGRESSION_FIXED, 0, "c3", "c4");
	add_reg(rs, "pc", REGRESSION_FLAKY, 0, "c5", NULL);
	add_reg(rs, "hvm", REGRESSION_UNDECIDED, 0, "c6", NULL);
	memset(hooks, 0, 2 * sizeof(*hooks));
	hooks[0].url = "http://127.0.0.1:1/a";
	hooks[0].events = MATRIX_EVENTS_ALL;
	hooks[1].url = "http://127.0.0.1:1/b";
	hooks[1].events = MATRIX_EVENT_FIXED;
}

START_TEST(events_from_regressions)
{
	struct regressions rs;
	struct matrix_webhook hooks[2];
	struct record_outbox_event *ev = NULL, *ev2 = NULL;
	size_t n = 0, n2 = 0, i;
	struct json_value v;
	struct strbuf err = STRBUF_INIT;

	sample(&rs, hooks);
	webhook_event_derive(&rs, hooks, 2, 1e9, &ev, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(ev[0].event, "regression");
	ck_assert_str_eq(ev[0].cell, "vmware");
	ck_assert_str_eq(ev[0].first_bad, "c1");
	ck_assert_str_eq(ev[1].event, "regression");	/* fixed: was one */
	ck_assert_str_eq(ev[1].cell, "q35");
	ck_assert_str_eq(ev[2].event, "fixed");
	ck_assert_str_eq(ev[2].url, "http://127.0.0.1:1/a");
	ck_assert_str_eq(ev[3].event, "fixed");
	ck_assert_str_eq(ev[3].url, "http://127.0.0.1:1/b");
	ck_assert_str_eq(ev[4].event, "flaky");
	ck_assert_str_eq(ev[4].cell, "pc");
	/* Delivery ids: GUID-shaped, per endpoint and event. */
	ck_assert_uint_eq(strlen(ev[0].delivery), 36);
	ck_assert_int_eq(ev[0].delivery[8], '-');
	ck_assert_str_ne(ev[2].delivery, ev[3].delivery);
	ck_assert_str_ne(ev[1].delivery, ev[2].delivery);
	/* The same computation later gives the same ids (not the same
	 * created_at): queueing it again is a no-op, not a new event. */
	webhook_event_derive(&rs, hooks, 2, 2e9, &ev2, &n2);
	ck_assert_uint_eq(n2, n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(ev[i].delivery, ev2[i].delivery);
	/* The body: JSON with what a receiver needs. */
	ck_assert_int_eq(json_parse(&v, ev[2].body, strlen(ev[2].body), &err),
			 0);
	ck_assert_str_eq(json_get_str(&v, "event"), "fixed");
	ck_assert_str_eq(json_get_str(&v, "delivery"), ev[2].delivery);
	ck_assert_str_eq(json_get_str(&v, "tree"), "t");
	ck_assert_str_eq(json_get_str(json_get(&v, "first_bad"), "commit"),
			 "c3");
	ck_assert_str_eq(json_get_str(json_get(&v, "first_bad"), "subject"),
			 "subject of c3");
	ck_assert_str_eq(json_get_str(json_get(&v, "last_good"), "commit"),
			 "c0");
	ck_assert_str_eq(json_get_str(json_get(&v, "fixed_by"), "commit"),
			 "c4");
	ck_assert_str_eq(json_get_str(&v, "line"),
			 "Kernel panic - not syncing: \"quoted\"");
	ck_assert_str_eq(json_get_str(&v, "signature"),
			 "Kernel panic - not syncing");
	ck_assert_int_eq(json_get(&v, "cells")->n, 1);
	ck_assert_str_eq(json_get(&v, "cells")->items[0].string, "q35");
	ck_assert(json_get(json_get(&v, "runs"), "fail")->number == 3);
	json_value_release(&v);
	webhook_event_derived_free(ev, n);
	webhook_event_derived_free(ev2, n2);
	regressions_release(&rs);
	strbuf_release(&err);
}
END_TEST

static char *tmp_dir(void)
{
	char *d = xstrdup("/tmp/hvm-webhook.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	ck_assert_int_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

START_TEST(outbox_queues_once_delivers_once)
{
	struct regressions rs;
	struct matrix_webhook hooks[2];
	struct record_outbox_event *ev = NULL;
	struct record_outbox_row *rows;
	struct record_outbox_counts c;
	struct record *r;
	struct strbuf err = STRBUF_INIT;
	const char *urls[] = { "http://127.0.0.1:1/a", "http://127.0.0.1:1/b" };
	size_t n = 0, added, n_rows;
	double next_at, now = 1e9;
	char *dir = tmp_dir();

	sample(&rs, hooks);
	webhook_event_derive(&rs, hooks, 2, now, &ev, &n);
	if (record_open(&r, dir, &err))
		ck_abort_msg("record_open: %s", err.buf);
	ck_assert_int_eq(record_outbox_add(r, ev, n, &added, &err), 0);
	ck_assert_uint_eq(added, 5);
	/* Recomputed, or after a restart: nothing new. */
	ck_assert_int_eq(record_outbox_add(r, ev, n, &added, &err), 0);
	ck_assert_uint_eq(added, 0);
	ck_assert_int_eq(record_outbox_count(r, &c, &err), 0);
	ck_assert_uint_eq(c.pending, 5);
	ck_assert_uint_eq(c.delivered, 0);

	/* Only the endpoints asked for; everything is due at first. */
	ck_assert_int_eq(record_outbox_due(r, urls, 1, 3e9, 16, &rows,
					   &n_rows, &next_at, &err), 0);
	ck_assert_uint_eq(n_rows, 4);
	ck_assert(next_at == 0);
	ck_assert_str_eq(rows[0].delivery, ev[0].delivery);
	ck_assert_str_eq(rows[0].body, ev[0].body);
	ck_assert_uint_eq(rows[0].attempts, 0);
	/* One delivered, one failed: retried later, the rest as they were. */
	ck_assert_int_eq(record_outbox_delivered(r, rows[0].id, 3e9, &err), 0);
	ck_assert_int_eq(record_outbox_retry(r, rows[1].id, 3e9 + 8,
					     "Connection refused", &err), 0);
	record_outbox_rows_free(rows, n_rows);
	ck_assert_int_eq(record_outbox_due(r, urls, 1, 3e9 + 1, 16, &rows,
					   &n_rows, &next_at, &err), 0);
	ck_assert_uint_eq(n_rows, 2);
	ck_assert(next_at == 3e9 + 8);
	record_outbox_rows_free(rows, n_rows);
	ck_assert_int_eq(record_outbox_due(r, urls, 1, 3e9 + 9, 16, &rows,
					   &n_rows, &next_at, &err), 0);
	ck_assert_uint_eq(n_rows, 3);
	ck_assert_uint_eq(rows[2].attempts, 1);	/* due last */
	record_outbox_rows_free(rows, n_rows);
	/* Queued again after it was delivered: still delivered, not due. */
	ck_assert_int_eq(record_outbox_add(r, ev, n, &added, &err), 0);
	ck_assert_uint_eq(added, 0);
	ck_assert_int_eq(record_outbox_count(r, &c, &err), 0);
	ck_assert_uint_eq(c.pending, 4);
	ck_assert_uint_eq(c.failing, 1);
	ck_assert_uint_eq(c.delivered, 1);
	ck_assert_int_eq(record_outbox_due(r, urls, 2, 3e9 + 9, 1, &rows,
					   &n_rows, &next_at, &err), 0);
	ck_assert_uint_eq(n_rows, 1);	/* the limit */
	record_outbox_rows_free(rows, n_rows);
	record_close(r);
	webhook_event_derived_free(ev, n);
	regressions_release(&rs);
	strbuf_release(&err);
	rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(secrets_from_file_and_env)
{
	struct matrix_webhook h = { 0 };
	struct strbuf s = STRBUF_INIT, err = STRBUF_INIT;
	char *dir = tmp_dir();
	char *path = xstrfmt("%s/secret", dir);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("s3cr3t value\n", f);
	fclose(f);
	h.secret_file = path;
	ck_assert_int_eq(webhook_event_read_secret(&h, &s, &err), 0);
	ck_assert_str_eq(s.buf, "s3cr3t value");	/* line end dropped */
	strbuf_reset(&s);
	h.secret_file = "/nonexistent/hvm-secret";
	ck_assert_int_eq(webhook_event_read_secret(&h, &s, &err), -1);
	ck_assert_str_eq(err.buf, "secret_file /nonexistent/hvm-secret: "
			 "No such file or directory");
	strbuf_reset(&err);
	h.secret_file = NULL;
	h.secret_env = "HVM_TEST_WEBHOOK_SECRET";
	unsetenv("HVM_TEST_WEBHOOK_SECRET");
	ck_assert_int_eq(webhook_event_read_secret(&h, &s, &err), -1);
	ck_assert_str_eq(err.buf, "secret_env HVM_TEST_WEBHOOK_SECRET: not "
			 "set or empty");
	setenv("HVM_TEST_WEBHOOK_SECRET", "from env", 1);
	ck_assert_int_eq(webhook_event_read_secret(&h, &s, &err), 0);
	ck_assert_str_eq(s.buf, "from env");
	strbuf_release(&s);
	strbuf_release(&err);
	rm_rf(dir);
	free(path);
	free(dir);
}
END_TEST

static const char cells_yaml[] = "cells:\n  - name: c\n";

static int load(struct matrix *m, const char *text, struct strbuf *err)
{
	char *buf = xstrfmt("%s%s", cells_yaml, text);
	int rc = matrix_load_buf(m, "/etc/hvm/m.yaml", buf, strlen(buf), err);

	free(buf);
	return rc;
}

static void expect_error(const char *text, const char *msg)
{
	struct matrix m;
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(load(&m, text, &err), -1);
	ck_assert_str_eq(err.buf, msg);
	strbuf_release(&err);
}

START_TEST(matrix_webhooks_section)
{
	struct matrix m;
	struct strbuf err = STRBUF_INIT;

	if (load(&m, "webhooks:\n"
		 "  - url: http://127.0.0.1:8080/hook\n"
		 "    secret_file: hook.secret\n"
		 "  - url: https://example.org/x\n"
		 "    secret_env: HOOK_SECRET\n"
		 "    events: [fixed, flaky]\n", &err))
		ck_abort_msg("load: %s", err.buf);
	ck_assert_uint_eq(m.n_webhooks, 2);
	ck_assert_str_eq(m.webhooks[0].url, "http://127.0.0.1:8080/hook");
	ck_assert_str_eq(m.webhooks[0].secret_file, "/etc/hvm/hook.secret");
	ck_assert_ptr_null(m.webhooks[0].secret_env);
	ck_assert_uint_eq(m.webhooks[0].events, MATRIX_EVENTS_ALL);
	ck_assert_uint_eq(m.webhooks[0].line, 4);
	ck_assert_str_eq(m.webhooks[1].secret_env, "HOOK_SECRET");
	ck_assert_uint_eq(m.webhooks[1].events,
			  MATRIX_EVENT_FIXED | MATRIX_EVENT_FLAKY);
	matrix_release(&m);
	strbuf_release(&err);

	expect_error("webhooks:\n  - url: http://h/x\n",
		     "/etc/hvm/m.yaml:4:5: webhook 'http://h/x': needs a "
		     "secret_file or a secret_env (events are signed)");
	expect_error("webhooks:\n  - url: http://h/x\n    secret_env: A\n"
		     "    secret_file: f\n",
		     "/etc/hvm/m.yaml:6:5: webhook 'http://h/x': give either "
		     "secret_file or secret_env");
	expect_error("webhooks:\n  - url: ftp://h/x\n    secret_env: A\n",
		     "/etc/hvm/m.yaml:4:10: url: expected an http:// or "
		     "https:// URL without blanks, got \"ftp://h/x\"");
	expect_error("webhooks:\n  - url: http://h/x\n    secret_env: A\n"
		     "    events: [regresion]\n",
		     "/etc/hvm/m.yaml:6:14: events: expected regression, "
		     "fixed, flaky or drift, got \"regresion\" (did you "
		     "mean 'regression'?)");
	expect_error("webhooks:\n  - url: http://h/x\n    secret_env: 1A\n",
		     "/etc/hvm/m.yaml:5:17: secret_env: expected the name of "
		     "an environment variable ([A-Za-z_][A-Za-z0-9_]*), got "
		     "\"1A\"");
	expect_error("webhooks:\n  - url: http://h/x\n    secret_env: A\n"
		     "  - url: http://h/x\n    secret_env: B\n",
		     "/etc/hvm/m.yaml:6:10: duplicate webhook url "
		     "'http://h/x' (first defined at line 4)");
	expect_error("webhooks:\n  - url: http://h/x\n    secret_fil: A\n",
		     "/etc/hvm/m.yaml:5:5: unknown key 'secret_fil' in webhook "
		     "'http://h/x' (did you mean 'secret_file'?)");
	expect_error("webhooks:\n  - secret_env: A\n",
		     "/etc/hvm/m.yaml:4:5: url: missing (every webhook needs "
		     "a url)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, hmac_rfc4231);
	tcase_add_test(tc, backoff_doubles_to_its_cap);
	tcase_add_test(tc, events_from_regressions);
	tcase_add_test(tc, outbox_queues_once_delivers_once);
	tcase_add_test(tc, secrets_from_file_and_env);
	tcase_add_test(tc, matrix_webhooks_section);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
