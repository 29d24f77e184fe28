/*
 * daemon-poll: the watch stage inside the daemon. Every tree is polled in
 * the thread pool (libgit2 fetches and walks can take minutes) with a
 * store connection of the poll's own, opened for it: the queue rows it
 * adds are committed before the loop reads the queue. One poll at a time.
 *
 * It sees only daemon-state.c: when a poll ends it asks for a look for
 * work (or a pause, or for the shutdown to go on) and daemon.c acts.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon-priv.h"
#include "watch/watch.h"
#include "lib/url.h"
#include "lib/xmalloc.h"

struct poll_tree {
	char *name, *path, *url, *credentials, *mirror;
	char **branches;
	size_t n_branches;
	unsigned first;
	int tips_first;
	int tips_only;
};

struct poll_work {
	uv_work_t req;
	struct daemon *d;
	char *state_dir;
	struct poll_tree *trees;
	size_t n_trees;
	char **builds;
	size_t n_builds;
	struct strbuf log;		/* lines to print on the loop */
	int store_failed;
	size_t n_new;
};

static void poll_branch(struct poll_work *pw, struct record *store,
			struct watch_repo *w, const struct poll_tree *t,
			const char *branch, int64_t batch)
{
	struct strbuf err = STRBUF_INIT;
	struct watch_commit *c = NULL;
	struct record_commit *rc = NULL;
	char tip[WATCH_ID_HEXSZ + 1], old[41];
	char **known = NULL;
	size_t n_known = 0, n = 0, i, added = 0;
	int had_tip;

	if (watch_resolve(w, branch, tip, &err) < 0)
		goto out;
	had_tip = record_queue_get_tip(store, t->name, branch, old, &err);
	if (had_tip < 0)
		goto store_out;
	if (had_tip && !strcmp(old, tip))
		goto out;
	if (record_queue_known_commits(store, t->name, &known, &n_known,
				       &err) < 0)
		goto store_out;
	/* First sight of a branch: only its newest `first` commits. */
	if (watch_new_commits(w, tip, known, n_known, had_tip ? 0 : t->first,
			      &c, &n, &err) < 0)
		goto out;
	rc = xcalloc(n + 1, sizeof(*rc));
	for (i = 0; i < n; i++) {
		rc[i].id = c[i].id;
		rc[i].subject = c[i].subject;
		rc[i].author = c[i].author;
		rc[i].time = c[i].time;
		rc[i].parent = c[i].parent;
	}
	if (n && record_queue_add(store, t->name, rc, n, pw->builds,
				  pw->n_builds, batch, t->tips_first ?
				  RECORD_PRIORITY_TIP : RECORD_PRIORITY_NORMAL,
				  t->tips_only ? RECORD_ENQUEUE_TIP_ONLY : 0,
				  &added, &err) < 0)
		goto store_out;
	if (record_queue_set_tip(store, t->name, branch, tip, &err) < 0)
		goto store_out;
	pw->n_new += added;
	strbuf_addf(&pw->log, "poll %s %s: tip %.12s, %zu new commit%s, "
		    "%zu job%s queued\n", t->name, branch, tip, n,
		    n == 1 ? "" : "s", added, added == 1 ? "" : "s");
	goto out;
store_out:
	pw->store_failed = 1;
out:
	if (err.len)
		strbuf_addf(&pw->log, "poll %s %s: %s\n", t->name, branch,
			    err.buf);
	free(rc);
	watch_commits_free(c, n);
	record_strings_free(known, n_known);
	strbuf_release(&err);
}

static void poll_work_cb(uv_work_t *req)
{
	struct poll_work *pw = container_of(req, struct poll_work, req);
	struct strbuf err = STRBUF_INIT;
	struct record *store = NULL;
	int64_t batch;
	size_t i, k;

	if (record_open(&store, pw->state_dir, &err) < 0) {
		strbuf_addf(&pw->log, "poll: %s\n", err.buf);
		pw->store_failed = 1;
		goto out;
	}
	batch = record_queue_next_batch(store);
	for (i = 0; i < pw->n_trees && !pw->store_failed; i++) {
		struct poll_tree *t = &pw->trees[i];
		struct watch_repo *w = NULL;

		strbuf_reset(&err);
		if (watch_open(&w, t->path, t->url, t->credentials, t->mirror,
			       &err) < 0 ||
		    watch_fetch(w, &err) < 0) {
			strbuf_addf(&pw->log, "poll %s: %s\n", t->name,
				    err.buf);
		} else {
			for (k = 0; k < t->n_branches; k++)
				poll_branch(pw, store, w, t, t->branches[k],
					    batch);
		}
		if (w)
			watch_close(w);
	}
out:
	record_close(store);
	strbuf_release(&err);
}

static void poll_work_free(struct poll_work *pw)
{
	size_t i, k;

	for (i = 0; i < pw->n_trees; i++) {
		struct poll_tree *t = &pw->trees[i];

		free(t->name);
		free(t->path);
		free(t->url);
		free(t->credentials);
		free(t->mirror);
		for (k = 0; k < t->n_branches; k++)
			free(t->branches[k]);
		free(t->branches);
	}
	free(pw->trees);
	for (i = 0; i < pw->n_builds; i++)
		free(pw->builds[i]);
	free(pw->builds);
	free(pw->state_dir);
	strbuf_release(&pw->log);
	free(pw);
}

static void poll_after_cb(uv_work_t *req, int status)
{
	struct poll_work *pw = container_of(req, struct poll_work, req);
	struct daemon *d = pw->d;
	char *line, *save = NULL;

	/* Errors quote URLs; a token in one stays out of the log. */
	url_redact(&pw->log);
	for (line = strtok_r(pw->log.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		daemon_state_say(d, "%s", line);
	d->polling = 0;
	if (pw->store_failed) {
		/* Polled again once the store is back: nothing is lost,
		 * the tips only move once their commits are queued. */
		struct daemon_due *due;
		size_t i;

		for (i = 0; i < d->n_due; i++) {
			due = &d->due[i];
			due->next_ms = 0;
		}
		daemon_state_pause(d, "cannot queue new commits (see above)");
	} else {
		d->polled_once = 1;
		/* The same look as every minute's: its complaints said. */
		d->web_quiet = 1;
		daemon_web_sync(d);
	}
	poll_work_free(pw);
	if (d->stopping)
		daemon_state_shutdown(d);
	else
		daemon_state_kick(d);
}

static struct daemon_due *tree_due(struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_due; i++)
		if (!strcmp(d->due[i].name, name))
			return &d->due[i];
	ALLOC_GROW(d->due, d->n_due + 1, d->due_alloc);
	d->due[d->n_due].name = xstrdup(name);
	d->due[d->n_due].next_ms = 0;
	return &d->due[d->n_due++];
}

void daemon_poll_cb(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, poll_timer);
	uint64_t now = uv_now(d->loop), next = UINT64_MAX;
	struct poll_work *pw;
	size_t i, k;

	if (d->stopping)
		return;
	if (d->polling || d->paused) {
		/* One poll at a time, none while paused. */
		uv_timer_start(&d->poll_timer, daemon_poll_cb, 1000, 0);
		return;
	}
	pw = xcalloc(1, sizeof(*pw));
	pw->d = d;
	pw->state_dir = xstrdup(d->o.state_dir);
	strbuf_init(&pw->log, 0);
	pw->trees = xcalloc(d->m->n_trees + 1, sizeof(*pw->trees));
	for (i = 0; i < d->m->n_trees; i++) {
		const struct matrix_tree *mt = &d->m->trees[i];
		struct daemon_due *due = tree_due(d, mt->name);
		struct poll_tree *pt;

		if (due->next_ms > now) {
			if (due->next_ms < next)
				next = due->next_ms;
			continue;
		}
		due->next_ms = now + (uint64_t)mt->poll_s * 1000;
		if (due->next_ms < next)
			next = due->next_ms;
		pt = &pw->trees[pw->n_trees++];
		pt->name = xstrdup(mt->name);
		pt->path = mt->path ? xstrdup(mt->path) : NULL;
		pt->url = mt->url ? xstrdup(mt->url) : NULL;
		pt->credentials = mt->credentials ? xstrdup(mt->credentials) :
				  NULL;
		pt->mirror = watch_mirror_dir(d->o.state_dir, mt->name);
		pt->first = mt->first;
		pt->tips_first = mt->tips_first;
		pt->tips_only = mt->tips_only;
		pt->n_branches = mt->n_branches;
		pt->branches = xcalloc(mt->n_branches, sizeof(char *));
		for (k = 0; k < mt->n_branches; k++)
			pt->branches[k] = xstrdup(mt->branches[k]);
	}
	pw->n_builds = d->m->n_builds;
	pw->builds = xcalloc(d->m->n_builds + 1, sizeof(char *));
	for (i = 0; i < d->m->n_builds; i++)
		pw->builds[i] = xstrdup(d->m->builds[i].name);
	if (next != UINT64_MAX)
		uv_timer_start(&d->poll_timer, daemon_poll_cb, next - now, 0);
	if (!pw->n_trees) {
		poll_work_free(pw);
		d->polled_once = 1;
		daemon_state_kick(d);
		return;
	}
	d->polling = 1;
	uv_queue_work(d->loop, &pw->req, poll_work_cb, poll_after_cb);
}

void daemon_poll_release(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->n_due; i++)
		free(d->due[i].name);
	free(d->due);
	d->due = NULL;
	d->n_due = 0;
}
