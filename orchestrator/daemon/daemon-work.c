/*
 * daemon-work: the daemon's work in the thread pool, each with its own
 * read-only store connection: publishing the dashboard, and comparing
 * (regressions_compute), whose wants (confirmation and bisection runs),
 * revert checks (a named culprit reverted on the tip, made here, its runs
 * wanted) and webhook events then go to the store thread. One of each
 * runs at a time; asked again meanwhile, it runs once more when it is
 * done.
 *
 * It sees only daemon-state.c: when a piece of work ends it asks for a
 * look for work (or a pause, or for the shutdown to go on) and daemon.c
 * acts.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "daemon/daemon-priv.h"
#include "publish/publish.h"
#include "compare/regressions.h"
#include "lib/timeutil.h"
#include "export/webhook.h"
#include "lib/xmalloc.h"
#include "build/build.h"
#include "watch/watch.h"

/* ---- publishing: its own read-only connection, in the thread pool ---- */

struct publish_work {
	uv_work_t req;
	struct daemon *d;
	struct strbuf err;
	int rc;
};

static void publish_work_cb(uv_work_t *req)
{
	struct publish_work *p = container_of(req, struct publish_work, req);
	struct record *r = NULL;

	p->rc = record_open_readonly(&r, p->d->o.state_dir, &p->err);
	if (p->rc == 0)
		p->rc = publish_dashboard(r, p->d->dash_dir, NULL, &p->err);
	else if (p->rc == 1)
		p->rc = 0;	/* nothing recorded yet */
	record_close(r);
}

static void publish_after_cb(uv_work_t *req, int status)
{
	struct publish_work *p = container_of(req, struct publish_work, req);
	struct daemon *d = p->d;

	if (p->rc < 0)
		daemon_state_say(d, "dashboard: %s", p->err.buf);
	d->publishing = 0;
	strbuf_release(&p->err);
	free(p);
	if (d->publish_again && !d->stopping) {
		d->publish_again = 0;
		daemon_work_publish(d);
		return;
	}
	if (d->stopping)
		daemon_state_shutdown(d);
	else
		daemon_state_kick(d);
}

void daemon_work_publish(struct daemon *d)
{
	struct publish_work *p;

	if (d->publishing) {
		d->publish_again = 1;
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->d = d;
	strbuf_init(&p->err, 0);
	d->publishing = 1;
	uv_queue_work(d->loop, &p->req, publish_work_cb, publish_after_cb);
}

/* ---- compare: its own read-only connection, in the thread pool ---- */

/* A revert check made in the thread pool, recorded by the store thread. */
struct revert_made {
	struct record_revert rv;
	const struct regression *g;	/* its cells */
	char *subject;
};

struct compare_work {
	uv_work_t req;
	struct daemon *d;
	const struct matrix *m;
	struct regressions rs;
	struct revert_made *reverts;
	size_t n_reverts;
	struct record_outbox_event *events;	/* webhooks' */
	size_t n_events, added;
	struct strbuf err;
	int rc;
	size_t applied;
};

/*
 * The revert of g's culprit on its tip (build-revert.c), for the store
 * thread to queue and record: the check's status is decided here only
 * when the revert cannot be booted (it does not apply, or the farm could
 * not make it); what its boots show is derived from their runs.
 */
static void revert_make(struct compare_work *w, const struct regression *g)
{
	const struct matrix_tree *t = matrix_find_tree(w->m, g->tree);
	struct strbuf subject = STRBUF_INIT, conflicts = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct revert_made *x;
	char id[41] = "", *repo;
	int rc;

	if (!t)
		return;	/* a tree no longer watched */
	repo = t->path ? xstrdup(t->path) :
	       watch_mirror_dir(w->d->o.state_dir, t->name);
	rc = build_revert_make(w->d->o.state_dir, t->name, repo,
			       g->revert.tip, g->first_bad.commit, id,
			       &subject, &conflicts, &err);
	free(repo);
	w->reverts = xrealloc(w->reverts, (w->n_reverts + 1) *
			      sizeof(*w->reverts));
	x = &w->reverts[w->n_reverts++];
	memset(x, 0, sizeof(*x));
	x->g = g;
	x->rv.tree = g->tree;
	x->rv.build = g->build;
	x->rv.culprit = g->first_bad.commit;
	x->rv.tip = g->revert.tip;
	x->rv.revert_commit = xstrdup(rc == 0 ? id : "");
	x->rv.status = (char *)(rc == 0 ? "queued" : rc == 1 ?
				"does-not-apply" : "error");
	x->rv.detail = strbuf_detach(rc == 1 ? &conflicts : &err, NULL);
	x->subject = strbuf_detach(&subject, NULL);
	strbuf_release(&conflicts);
	strbuf_release(&err);
}

static void compare_work_cb(uv_work_t *req)
{
	struct compare_work *w = container_of(req, struct compare_work, req);
	struct record *r = NULL;

	w->rc = record_open_readonly(&r, w->d->o.state_dir, &w->err);
	if (w->rc == 0)
		w->rc = regressions_compute(r, w->m, &w->rs, &w->err);
	else if (w->rc == 1)
		w->rc = 0;
	record_close(r);
	if (w->rc == 0) {
		size_t i;

		for (i = 0; i < w->rs.n; i++)
			if (w->rs.v[i].revert.due)
				revert_make(w, &w->rs.v[i]);
	}
	/* What classes changed: the outbox keeps each event once. */
	if (w->rc == 0 && w->m->n_webhooks)
		webhook_event_derive(&w->rs, w->m->webhooks, w->m->n_webhooks,
				     timeutil_now(), &w->events, &w->n_events);
}

static int apply_wants(struct record *r, void *arg, struct strbuf *err)
{
	struct compare_work *w = arg;
	size_t i;

	for (i = 0; i < w->rs.n_wants; i++) {
		const struct regression_want *x = &w->rs.wants[i];

		if (record_queue_want_runs(r, x->tree, x->commit, x->build,
					   x->cell,
					   x->runs, x->purpose,
					   RECORD_PRIORITY_CONFIRM, err) < 0)
			return -1;
		w->applied++;
	}
	/* A revert's runs are wanted before its check is recorded: a stop
	 * in between makes the same revert again, never a check whose
	 * runs nobody wants. */
	for (i = 0; i < w->n_reverts; i++) {
		const struct revert_made *x = &w->reverts[i];
		size_t k;

		for (k = 0; *x->rv.revert_commit && k < x->g->n_cells; k++)
			if (record_queue_want_runs(r, x->rv.tree,
						   x->rv.revert_commit,
						   x->rv.build,
						   x->g->cells[k], 1,
						   "revert",
						   RECORD_PRIORITY_CONFIRM,
						   err) < 0)
				return -1;
		if (record_revert_add(r, &x->rv, x->subject, err) < 0)
			return -1;
	}
	return record_outbox_add(r, w->events, w->n_events, &w->added, err);
}

static void compare_free(struct compare_work *w)
{
	size_t i;

	for (i = 0; i < w->n_reverts; i++) {
		free(w->reverts[i].rv.revert_commit);
		free(w->reverts[i].rv.detail);
		free(w->reverts[i].subject);
	}
	free(w->reverts);
	regressions_release(&w->rs);
	webhook_event_derived_free(w->events, w->n_events);
	strbuf_release(&w->err);
	free(w);
}

static void compare_finished(struct daemon *d)
{
	d->comparing = 0;
	daemon_state_free_retired(d);
	if (d->stopping) {
		daemon_state_shutdown(d);
		return;
	}
	if (d->compare_again) {
		d->compare_again = 0;
		daemon_work_compare(d);
	}
	daemon_state_kick(d);
}

static void wants_applied(void *arg, int rc, const char *err)
{
	struct compare_work *w = arg;
	struct daemon *d = w->d;
	size_t i;

	if (rc < 0) {
		daemon_state_pause(d, err);
	} else {
		for (i = 0; i < w->rs.n_wants; i++)
			daemon_state_say(d, "%s %.12s %s: %s: %u run%s "
					 "wanted in all", w->rs.wants[i].tree,
					 w->rs.wants[i].commit,
					 w->rs.wants[i].cell,
					 w->rs.wants[i].purpose,
					 w->rs.wants[i].runs,
					 w->rs.wants[i].runs == 1 ? "" : "s");
		for (i = 0; i < w->n_reverts; i++)
			daemon_state_say(d, "%s %.12s: revert on %.12s: %s%s%s",
					 w->reverts[i].rv.tree,
					 w->reverts[i].rv.culprit,
					 w->reverts[i].rv.tip,
					 w->reverts[i].rv.status,
					 *w->reverts[i].rv.detail ? ": " : "",
					 w->reverts[i].rv.detail);
		if (w->added) {
			daemon_state_say(d, "webhooks: %zu event%s queued",
					 w->added, w->added == 1 ? "" : "s");
			webhook_kick(d->hooks);
		}
	}
	compare_free(w);
	compare_finished(d);
}

static void compare_after_cb(uv_work_t *req, int status)
{
	struct compare_work *w = container_of(req, struct compare_work, req);
	struct daemon *d = w->d;

	if (w->rc < 0) {
		daemon_state_say(d, "compare: %s", w->err.buf);
	} else if ((w->rs.n_wants || w->n_events || w->n_reverts) &&
		   !d->stopping &&
		   !d->paused) {
		record_thread_submit(d->store, apply_wants, wants_applied, w);
		return;
	}
	compare_free(w);
	compare_finished(d);
}

void daemon_work_compare(struct daemon *d)
{
	struct compare_work *w;

	if (d->comparing) {
		d->compare_again = 1;
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->d = d;
	w->m = d->m;	/* kept alive: no retired matrix is freed meanwhile */
	strbuf_init(&w->err, 0);
	d->comparing = 1;
	uv_queue_work(d->loop, &w->req, compare_work_cb, compare_after_cb);
}
