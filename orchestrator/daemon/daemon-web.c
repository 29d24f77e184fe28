/*
 * daemon-web: the compatibility web kept current from both sides. For
 * every kernel of the matrix's web section (the kernel catalogue,
 * kernels.h) and every web cell, a boot is wanted when no run of that
 * kernel in that cell was made in the cell as it is now (its environment
 * key, boot-env.h): a new hypervisor release or cell, a rebuilt QEMU or
 * Xen, a changed definition or payload, or a new kernel release. The
 * keys are found in the thread pool (they read files; digests are kept
 * by file identity, so a look when nothing changed is a few stats); the
 * kernels and wants go to the store thread, and the jobs they queue
 * (tree "release", nothing to build) run like any other.
 *
 * Looked at on start, after every matrix reload and poll, and every
 * DAEMON_WEB_CHECK_MS (a hypervisor replaced in the cache changes no
 * file the daemon watches). One look at a time; asked again meanwhile,
 * it looks once more when it is done. It sees only daemon-state.c.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon-priv.h"
#include "boot/boot-env.h"
#include "matrix/kernels.h"
#include "store/record-web.h"
#include "lib/xmalloc.h"

struct web_cell {
	const char *name;		/* the matrix's, kept alive */
	char key[BOOT_ENV_HEX + 1];
};

struct web_work {
	uv_work_t req;
	struct daemon *d;
	const struct matrix *m;
	struct record_web_kernel *kernels;
	size_t n_kernels;
	struct web_cell *cells;
	size_t n_cells;
	struct strbuf log;		/* lines for people, one per \n */
	size_t wanted;			/* boots asked for */
	struct strbuf wanted_log;
};

/* In the thread pool: the kernels' manifests and the cells' keys. */
static void web_work_cb(uv_work_t *req)
{
	struct web_work *w = container_of(req, struct web_work, req);
	const struct matrix *m = w->m;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	w->kernels = xcalloc(m->web.n_kernels + 1, sizeof(*w->kernels));
	for (i = 0; i < m->web.n_kernels; i++) {
		struct kernels_release k;

		if (kernels_load(&k, m->web.kernels[i], &err)) {
			strbuf_addf(&w->log, "web: %s; its boots wait for "
				    "it\n", err.buf);
			strbuf_reset(&err);
			continue;
		}
		w->kernels[w->n_kernels].id = k.sha256;
		w->kernels[w->n_kernels].release = k.release;
		w->kernels[w->n_kernels].package = k.package;
		w->kernels[w->n_kernels].version = k.version;
		w->kernels[w->n_kernels].path = k.path;
		w->n_kernels++;
	}
	w->cells = xcalloc(m->n_cells + 1, sizeof(*w->cells));
	for (i = 0; w->n_kernels && i < m->n_cells; i++) {
		const struct cell *c = &m->cells[i];
		struct boot_env env;

		if (!matrix_web_has_cell(m, c))
			continue;
		/* Unknown: nothing can say it booted there already. */
		if (boot_env_key(c, w->d->o.initrd, &env, &err) < 0) {
			strbuf_addf(&w->log, "web: cell %s: %s; web kernels "
				    "boot there once it can be read\n",
				    c->name, err.buf);
			strbuf_reset(&err);
			continue;
		}
		w->cells[w->n_cells].name = c->name;
		memcpy(w->cells[w->n_cells].key, env.key, sizeof(env.key));
		w->n_cells++;
	}
	strbuf_release(&err);
}

/* On the store thread: the kernels, then one want per missing boot. */
static int web_apply(struct record *r, void *arg, struct strbuf *err)
{
	struct web_work *w = arg;
	struct strbuf cells = STRBUF_INIT;
	size_t i, k, n;
	int wanted;

	for (i = 0; i < w->n_kernels; i++) {
		const struct record_web_kernel *kr = &w->kernels[i];

		if (record_web_kernels_add(r, kr, err) < 0)
			goto fail;
		strbuf_reset(&cells);
		for (k = n = 0; k < w->n_cells; k++) {
			if (record_web_want(r, kr->id, w->cells[k].name,
					    w->cells[k].key, &wanted,
					    err) < 0)
				goto fail;
			if (!wanted)
				continue;
			strbuf_addf(&cells, "%s%s", n++ ? ", " : "",
				    w->cells[k].name);
		}
		/* One line per kernel: a new release is every cell. */
		if (n)
			strbuf_addf(&w->wanted_log, "web: kernel %s (%s %s) "
				    "boots in %zu cell%s: %s\n", kr->release,
				    kr->package, kr->version, n,
				    n == 1 ? "" : "s", cells.buf);
		w->wanted += n;
	}
	strbuf_release(&cells);
	return 0;
fail:
	strbuf_release(&cells);
	return -1;
}

static void web_free(struct web_work *w)
{
	record_web_kernels_free(w->kernels, w->n_kernels);
	free(w->cells);
	strbuf_release(&w->log);
	strbuf_release(&w->wanted_log);
	free(w);
}

static void say_lines(struct daemon *d, struct strbuf *sb)
{
	char *line, *save = NULL;

	for (line = strtok_r(sb->buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		daemon_state_say(d, "%s", line);
}

static void web_finished(struct daemon *d)
{
	d->web_syncing = 0;
	d->web_synced_once = 1;
	daemon_state_free_retired(d);
	if (d->stopping) {
		daemon_state_shutdown(d);
		return;
	}
	if (d->web_again) {
		d->web_again = 0;
		daemon_web_sync(d);
	}
	daemon_state_kick(d);
}

static void web_applied(void *arg, int rc, const char *err)
{
	struct web_work *w = arg;
	struct daemon *d = w->d;

	if (rc < 0) {
		daemon_state_pause(d, err);
	} else {
		say_lines(d, &w->wanted_log);
		if (w->wanted)
			daemon_state_say(d, "web: %zu boot%s queued", w->wanted,
					 w->wanted == 1 ? "" : "s");
	}
	web_free(w);
	web_finished(d);
}

static void web_after_cb(uv_work_t *req, int status)
{
	struct web_work *w = container_of(req, struct web_work, req);
	struct daemon *d = w->d;

	/* The same complaint every minute helps no one: said when the
	 * look was asked for by a start, a reload or a poll. */
	if (!d->web_quiet)
		say_lines(d, &w->log);
	if (w->n_kernels && w->n_cells && !d->stopping && !d->paused) {
		record_thread_submit(d->store, web_apply, web_applied, w);
		return;
	}
	web_free(w);
	web_finished(d);
}

void daemon_web_sync(struct daemon *d)
{
	struct web_work *w;

	if (!d->m->web.given || d->stopping) {
		d->web_synced_once = 1;
		return;
	}
	if (d->web_syncing) {
		d->web_again = 1;
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->d = d;
	w->m = d->m;	/* kept alive: no retired matrix is freed meanwhile */
	strbuf_init(&w->log, 0);
	strbuf_init(&w->wanted_log, 0);
	d->web_syncing = 1;
	uv_queue_work(d->loop, &w->req, web_work_cb, web_after_cb);
}

static void web_timer_cb(uv_timer_t *t)
{
	struct daemon *d = container_of(t, struct daemon, web_timer);

	d->web_quiet = 1;
	daemon_web_sync(d);
}

void daemon_web_start(struct daemon *d)
{
	uv_timer_init(d->loop, &d->web_timer);
	uv_timer_start(&d->web_timer, web_timer_cb, DAEMON_WEB_CHECK_MS,
		       DAEMON_WEB_CHECK_MS);
	daemon_web_sync(d);
}
