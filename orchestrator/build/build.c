/*
 * build: check out one commit into a persistent tree per (tree, config),
 * configure it when the config inputs changed, run make through the group
 * trampoline, keep the image.
 *
 * Blocking work (libgit2, hashing config inputs, copying the image, reading
 * the log) runs on the thread pool; the loop thread only starts children
 * and timers. The uv handles live in struct build_priv and on_done is
 * called only once the last of them is closed and no work is in flight.
 * This module must never write to the watched repository, never run a
 * shell, and never leave make or a compiler running after a build ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "build/build.h"
#include "build/build-priv.h"
#include "lib/child.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"
#include "lib/timeutil.h"

#define BUILD_CONFIG_KEY ".hvmatrix-config-key"

extern char **environ;

struct build_priv {
	struct build *b;
	uv_loop_t *loop;
	char *root;		/* build/<tree>/<config> */
	char *src, *out;
	char *artifact;		/* artifacts/.../<image basename> */
	char *ccache_dir;
	char *config_key;	/* computed by the checkout work */
	int need_config;
	int log_fd;		/* the write end of the log's pipe */
	struct build_log *log;	/* build-log.c: capped, scanned */

	uv_work_t work;		/* checkout, then finish: never both */
	struct strbuf work_err;	/* a failed checkout's message */

	uv_timer_t timer;	/* the whole build's timeout */
	struct child child;	/* the step running now */

	char **sandbox;		/* bwrap ... --, or NULL: unconfined */
	char ***steps;		/* argv of each child, in order */
	const char **step_names;	/* for reasons: "make", "olddefconfig" */
	size_t n_steps, cur;
	char **env;

	int stopping, timed_out, finishing, libgit2;
	int reused;		/* the kept image is the result */
	enum build_status final;
	char *final_reason;
};

const char *build_status_name(enum build_status s)
{
	switch (s) {
	case BUILD_PENDING:
		return "PENDING";
	case BUILD_OK:
		return "OK";
	case BUILD_FAILED:
		return "FAILED";
	case BUILD_ERROR:
		return "ERROR";
	case BUILD_INTERRUPTED:
		return "INTERRUPTED";
	}
	return "?";
}

/* The streaming scan (build-log.c) over a whole log in memory. */
void build_error_lines(const char *log, size_t len, struct strbuf *out)
{
	struct build_log_scan scan;
	char *lines;

	build_log_scan_init(&scan);
	build_log_scan_feed(&scan, log, len);
	lines = build_log_scan_end(&scan);
	strbuf_addstr(out, lines);
	free(lines);
}

static void log_str(struct build_priv *p, const char *s)
{
	size_t len = strlen(s);

	/* The log is for people; a failed write must not fail the build. */
	while (p->log_fd >= 0 && len) {
		ssize_t n = write(p->log_fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void log_argv(struct build_priv *p, char *const *argv)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "\n--- hvmatrix: $ ");
	spawn_argv_quote(argv, &sb);
	strbuf_addch(&sb, '\n');
	log_str(p, sb.buf);
	strbuf_release(&sb);
}

static void progress(struct build_priv *p, const char *stage)
{
	if (p->b->on_progress)
		p->b->on_progress(p->b, stage, p->b->data);
}

static int is_config_target(const char *base)
{
	return !strchr(base, '/');
}

/* The config inputs' identity: base name or contents, then fragments. */
static int config_key(const struct matrix_build *c, char **key,
		      struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;
	size_t i;
	int rc, ret = -1;

	strbuf_addf(&sb, "base %s\n", c->base);
	if (!is_config_target(c->base) && (rc = fsutil_read(c->base, &sb))) {
		strbuf_addf(err, "cannot read %s: %s", c->base, strerror(-rc));
		goto out;
	}
	for (i = 0; i < c->n_fragments; i++) {
		strbuf_addf(&sb, "\nfragment %zu\n", i);
		if ((rc = fsutil_read(c->fragments[i], &sb))) {
			strbuf_addf(err, "cannot read %s: %s",
				    c->fragments[i], strerror(-rc));
			goto out;
		}
	}
	if (git_odb_hash(&oid, sb.buf, sb.len, GIT_OBJECT_BLOB)) {
		strbuf_addstr(err, "cannot hash the config inputs");
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &oid);
	*key = xstrdup(hex);
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

/* Decide whether to configure; start a copied base config if so. */
static int prepare_config(struct build_priv *p, struct strbuf *err)
{
	const struct matrix_build *c = p->b->config;
	struct strbuf have = STRBUF_INIT;
	char *key_path = xstrfmt("%s/%s", p->out, BUILD_CONFIG_KEY);
	char *dot_config = xstrfmt("%s/.config", p->out);
	struct stat st;
	int rc, ret = -1;

	if (config_key(c, &p->config_key, err))
		goto out;
	p->need_config = stat(dot_config, &st) < 0 ||
			 fsutil_read(key_path, &have) ||
			 strcmp(have.buf, p->config_key);
	if (!p->need_config) {
		ret = 0;
		goto out;
	}
	/* A config left half-made must not pass for the old one. */
	unlink(key_path);
	if (!is_config_target(c->base)) {
		char *cp[] = { "cp", c->base, dot_config, NULL };

		log_argv(p, cp);
		if ((rc = fsutil_copy(c->base, dot_config))) {
			strbuf_addf(err, "cannot copy %s: %s", c->base,
				    strerror(-rc));
			goto out;
		}
	}
	ret = 0;
out:
	strbuf_release(&have);
	free(key_path);
	free(dot_config);
	return ret;
}

static char **make_env(const char *ccache_dir, const char *root,
		       int64_t version_time);

static void checkout_work(uv_work_t *w)
{
	struct build_priv *p = container_of(w, struct build_priv, work);
	struct strbuf note = STRBUF_INIT, line = STRBUF_INIT;
	struct build_sandbox_view v;
	int64_t version_time = 0;
	uint64_t t0;
	char *more;
	int rc;

	if ((rc = fsutil_mkdir_p(p->out, 0755))) {
		strbuf_addf(&p->work_err, "cannot create %s: %s", p->out,
			    strerror(-rc));
		return;
	}
	/* Nothing of the commit runs on a host that cannot confine it. */
	if (!p->b->config->unconfined &&
	    build_sandbox_check(p->b->config->name, &p->work_err))
		return;
	t0 = uv_hrtime();
	more = build_revert_objects(p->b->state_dir, p->b->tree->name);
	rc = build_checkout(p->b->repo_path, more, p->src, p->b->commit,
			    &note, &version_time, &p->work_err);
	free(more);
	if (rc) {
		strbuf_release(&note);
		return;
	}
	/* Read by the steps only, which start after this work. */
	p->env = make_env(p->ccache_dir, p->root, version_time);
	/* How long, in the log: the one cost a plain make does not have. */
	strbuf_addf(&line, "--- hvmatrix: checkout: %s, %.3f s\n", note.buf,
		    (double)(uv_hrtime() - t0) / 1e9);
	log_str(p, line.buf);
	strbuf_release(&line);
	strbuf_release(&note);
	if (prepare_config(p, &p->work_err) || p->b->config->unconfined)
		return;
	v.state_dir = p->b->state_dir;
	v.root = p->root;
	v.src = p->src;
	v.repo = p->b->repo_path;
	v.ccache_dir = p->ccache_dir;
	v.fragments = p->b->config->fragments;
	v.n_fragments = p->b->config->n_fragments;
	p->sandbox = build_sandbox_prefix(&v, &p->work_err);
}

/* Results and the log's footer, on the thread pool. */
static void finish_work(uv_work_t *w)
{
	struct build_priv *p = container_of(w, struct build_priv, work);
	struct build *b = p->b;
	struct strbuf sb = STRBUF_INIT;
	char *image = NULL, *dir = NULL;
	int rc;

	if (p->final == BUILD_OK && !p->reused) {
		image = xstrfmt("%s/%s", p->out, b->config->image);
		dir = xstrdup(p->artifact);
		*strrchr(dir, '/') = '\0';
		if (access(image, F_OK) < 0) {
			p->final = BUILD_ERROR;
			free(p->final_reason);
			p->final_reason = xstrfmt("make succeeded but %s is "
						  "missing", image);
		} else if ((rc = fsutil_mkdir_p(dir, 0755)) ||
			   (rc = fsutil_copy(image, p->artifact))) {
			p->final = BUILD_ERROR;
			free(p->final_reason);
			p->final_reason = xstrfmt("cannot keep %s as %s: %s",
						  image, p->artifact,
						  strerror(-rc));
		}
	}
	strbuf_addf(&sb, "\n--- hvmatrix: build %s: %s\n",
		    build_status_name(p->final), p->final_reason);
	if (p->log) {
		struct strbuf err = STRBUF_INIT;

		/* The steps are gone: ours was the last write end. */
		if (p->log_fd >= 0)
			close(p->log_fd);
		p->log_fd = -1;
		/* The log is for people: its trouble never fails a build. */
		build_log_close(p->log, sb.buf, p->final == BUILD_FAILED ?
				&b->errors : NULL, &b->log_path, &err);
		p->log = NULL;
		strbuf_release(&err);
	}
	strbuf_release(&sb);
	free(image);
	free(dir);
}

static void timer_closed(uv_handle_t *h)
{
	struct build_priv *p = container_of(h, struct build_priv, timer);
	struct build *b = p->b;

	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
	if (p->libgit2)
		git_libgit2_shutdown();
	p->libgit2 = 0;
	b->status = p->final;
	b->reason = p->final_reason;
	p->final_reason = NULL;
	if (!b->errors)
		b->errors = xstrdup("");
	if (b->status == BUILD_OK)
		b->image_path = xstrdup(p->artifact);
	b->duration_s = timeutil_now() - b->started_at;
	b->pgid = 0;
	progress(p, "done");
	/* Last: the caller may release b from here. */
	b->on_done(b, b->data);
}

static void finish_after(uv_work_t *w, int status)
{
	struct build_priv *p = container_of(w, struct build_priv, work);

	uv_close((uv_handle_t *)&p->timer, timer_closed);
}

/* Decide the result; the rest happens off the loop, then on_done. */
static void finish(struct build_priv *p, enum build_status s, char *reason)
{
	if (p->finishing) {
		free(reason);
		return;
	}
	p->finishing = 1;
	p->final = s;
	p->final_reason = reason;
	uv_timer_stop(&p->timer);
	uv_queue_work(p->loop, &p->work, finish_work, finish_after);
}

static void start_step(struct build_priv *p);

static void step_closed(struct child *c)
{
	struct build_priv *p = container_of(c, struct build_priv, child);
	const char *name = p->step_names[p->cur];
	/* Not started: as if the trampoline had said it could not. */
	int64_t st = c->spawn_error ? 125 : c->exit_status;

	if (p->stopping) {
		finish(p, BUILD_INTERRUPTED, xstrdup("stopped"));
	} else if (p->timed_out) {
		finish(p, BUILD_ERROR, xstrfmt("build timed out after %u s",
					       p->b->config->timeout_s));
	} else if (c->term_signal) {
		/* Nobody here killed it: the host did (OOM killer, admin). */
		finish(p, BUILD_ERROR, xstrfmt("%s killed by signal %d",
					       name, c->term_signal));
	} else if (st == 125 || st == 127) {
		/* The trampoline's own codes: it could not start the step. */
		finish(p, BUILD_ERROR, xstrfmt("cannot run %s (exit %d, see "
					       "the log)", name, (int)st));
	} else if (st > 128) {
		finish(p, BUILD_ERROR, xstrfmt("%s killed by signal %d",
					       name, (int)st - 128));
	} else if (st) {
		finish(p, BUILD_FAILED, xstrfmt("%s exited %d", name,
						(int)st));
	} else if (++p->cur < p->n_steps) {
		start_step(p);
	} else {
		finish(p, BUILD_OK, xstrdup("built"));
	}
}

/* The child took its group with it: no group to record any more. */
static void step_exited(struct child *c)
{
	container_of(c, struct build_priv, child)->b->pgid = 0;
}

static void start_step(struct build_priv *p)
{
	char *self;
	int rc;

	/* The config is complete once its last step is done. */
	if (p->need_config && !strcmp(p->step_names[p->cur], "make")) {
		char *key_path = xstrfmt("%s/%s", p->out, BUILD_CONFIG_KEY);

		/* Tiny, and a lost key only costs a reconfigure. */
		rc = fsutil_write_atomic(key_path, p->config_key,
					 strlen(p->config_key));
		free(key_path);
		if (rc) {
			finish(p, BUILD_ERROR, xstrfmt("cannot write %s in %s:"
						       " %s", BUILD_CONFIG_KEY,
						       p->out, strerror(-rc)));
			return;
		}
		p->need_config = 0;
	}
	progress(p, strcmp(p->step_names[p->cur], "make") ? "config" :
		 "make");
	log_argv(p, p->steps[p->cur]);
	self = spawn_self();
	if (!self) {
		finish(p, BUILD_ERROR, xstrfmt("cannot resolve hvmatrix's own "
					       "executable: %s",
					       strerror(errno)));
		return;
	}
	child_init(&p->child);
	p->child.argv = p->steps[p->cur];
	p->child.env = p->env;
	p->child.cwd = p->src;
	p->child.via = SPAWN_GROUP;
	p->child.self = self;
	p->child.out_fd = p->child.err_fd = p->log_fd;
	p->child.on_exit = step_exited;
	p->child.on_closed = step_closed;
	rc = child_start(&p->child, p->loop);
	free(self);
	if (rc < 0) {
		/* step_closed() ends the build. */
		log_str(p, "hvmatrix: cannot start the group trampoline: ");
		log_str(p, uv_strerror(rc));
		log_str(p, "\n");
		return;
	}
	/* setsid() made the step's pid its group's id. */
	p->b->pgid = p->child.pid;
	if (p->b->on_spawn)
		p->b->on_spawn(p->b, p->b->pgid, p->b->data);
}

static void add_step(struct build_priv *p, const char *name, char **argv)
{
	p->steps = xrealloc(p->steps, (p->n_steps + 1) * sizeof(*p->steps));
	p->step_names = xrealloc(p->step_names,
				 (p->n_steps + 1) * sizeof(*p->step_names));
	p->steps[p->n_steps] = p->sandbox ?
			       build_sandbox_wrap(p->sandbox, argv) : argv;
	p->step_names[p->n_steps] = name;
	p->n_steps++;
}

/* make -C SRC O=OUT CC=... with room for n more arguments. */
static char **make_argv(struct build_priv *p, size_t n, size_t *at)
{
	char **argv = xcalloc(n + 6, sizeof(char *));
	size_t i = 0;

	argv[i++] = xstrdup("make");
	argv[i++] = xstrdup("-C");
	argv[i++] = xstrdup(p->src);
	argv[i++] = xstrfmt("O=%s", p->out);
	/* The same CC for kconfig and the build, or kconfig reruns. */
	argv[i++] = xstrdup("CC=ccache gcc");
	*at = i;
	return argv;
}

static void plan_steps(struct build_priv *p)
{
	const struct matrix_build *c = p->b->config;
	char **argv;
	size_t i, at;

	if (p->need_config) {
		if (is_config_target(c->base)) {
			argv = make_argv(p, 1, &at);
			argv[at] = xstrdup(c->base);
			add_step(p, "make config", argv);
		}
		if (c->n_fragments) {
			argv = xcalloc(c->n_fragments + 6, sizeof(char *));
			argv[0] = xstrfmt("%s/scripts/kconfig/merge_config.sh",
					  p->src);
			argv[1] = xstrdup("-m");
			argv[2] = xstrdup("-O");
			argv[3] = xstrdup(p->out);
			argv[4] = xstrfmt("%s/.config", p->out);
			for (i = 0; i < c->n_fragments; i++)
				argv[5 + i] = xstrdup(c->fragments[i]);
			add_step(p, "merge_config.sh", argv);
		}
		argv = make_argv(p, 1, &at);
		argv[at] = xstrdup("olddefconfig");
		add_step(p, "make olddefconfig", argv);
	}
	argv = make_argv(p, 1 + c->n_targets, &at);
	argv[at++] = xstrfmt("-j%u", p->b->jobs ? p->b->jobs : 1);
	for (i = 0; i < c->n_targets; i++)
		argv[at++] = xstrdup(c->targets[i]);
	add_step(p, "make", argv);
}

static void checkout_after(uv_work_t *w, int status)
{
	struct build_priv *p = container_of(w, struct build_priv, work);

	if (p->stopping) {
		finish(p, BUILD_INTERRUPTED, xstrdup("stopped"));
	} else if (p->timed_out) {
		finish(p, BUILD_ERROR, xstrfmt("build timed out after %u s",
					       p->b->config->timeout_s));
	} else if (p->work_err.len) {
		log_str(p, "hvmatrix: ");
		log_str(p, p->work_err.buf);
		log_str(p, "\n");
		finish(p, BUILD_ERROR, strbuf_detach(&p->work_err, NULL));
	} else {
		plan_steps(p);
		start_step(p);
	}
}

static void timed_out(uv_timer_t *t)
{
	struct build_priv *p = container_of(t, struct build_priv, timer);

	p->timed_out = 1;
	child_kill(&p->child);
	/* No step running: the checkout work sees it when it returns. */
}

static void reuse_artifact(uv_timer_t *t)
{
	struct build_priv *p = container_of(t, struct build_priv, timer);

	finish(p, BUILD_OK, xstrdup("reused the kept image"));
}

/*
 * environ with our ccache settings and what makes a build reproducible.
 * The cache is shared by every state
 * directory (build.h), but the kernel's command lines name the absolute
 * paths of src/ and out/, which differ between them: CCACHE_BASEDIR makes
 * ccache hash them relative to the compiler's directory (and pass them
 * so), and CCACHE_NOHASHDIR keeps that directory itself out of the hash
 * of -g compiles, at the price of debug info naming the build directory
 * of whichever farm compiled first. Without both, a new state directory
 * would never hit the shared cache.
 *
 * The same sources give the same image byte for byte (what lets the farm
 * carry a verdict over to an image it judged before, instead of booting
 * it: a docs-only commit builds the image of its parent): the kernel's
 * banner takes its date from the commit's history (build_checkout: the
 * committer date of the commit that set its Makefile, i.e. its version),
 * its build number, user and host fixed, none of the host's. And the
 * release string takes nothing of git: src/ is a repository whose HEAD
 * and index stay
 * those of the last full checkout (build-checkout.c), so setlocalversion
 * would append that commit's id and "-dirty" by what changed since, a
 * different string for the same sources; GIT_DIR naming no repository
 * leaves it nothing to append. The build's path is its config's own
 * (state/build/TREE/CONFIG), the same for every commit.
 */
static char **make_env(const char *ccache_dir, const char *root,
		       int64_t version_time)
{
	static const char *const ours[] = {
		"CCACHE_DIR=", "CCACHE_BASEDIR=", "CCACHE_NOHASHDIR=",
		"KBUILD_BUILD_TIMESTAMP=", "KBUILD_BUILD_VERSION=",
		"KBUILD_BUILD_USER=", "KBUILD_BUILD_HOST=", "GIT_DIR=",
		"LOCALVERSION=", "SOURCE_DATE_EPOCH=",
	};
	time_t t = (time_t)version_time;
	char stamp[64];
	struct tm tm;
	size_t n, i, j, k = 0;
	char **env;

	for (n = 0; environ[n]; n++)
		;
	env = xcalloc(n + ARRAY_SIZE(ours) + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		for (j = 0; j < ARRAY_SIZE(ours); j++)
			if (!strncmp(environ[i], ours[j], strlen(ours[j])))
				break;
		if (j == ARRAY_SIZE(ours))
			env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xstrfmt("CCACHE_DIR=%s", ccache_dir);
	env[k++] = xstrfmt("CCACHE_BASEDIR=%s", root);
	env[k++] = xstrdup("CCACHE_NOHASHDIR=1");
	/* date(1)'s own format, which the kernel's scripts parse back. */
	if (!gmtime_r(&t, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S UTC %Y", &tm))
		snprintf(stamp, sizeof(stamp), "@%lld",
			 (long long)version_time);
	env[k++] = xstrfmt("KBUILD_BUILD_TIMESTAMP=%s", stamp);
	env[k++] = xstrfmt("SOURCE_DATE_EPOCH=%lld",
			   (long long)version_time);
	env[k++] = xstrdup("KBUILD_BUILD_VERSION=1");
	env[k++] = xstrdup("KBUILD_BUILD_USER=hvmatrix");
	env[k++] = xstrdup("KBUILD_BUILD_HOST=hvmatrix");
	env[k++] = xstrfmt("GIT_DIR=%s/.no-repository", root);
	return env;
}

static int valid_name(const char *s)
{
	return s && *s && strcmp(s, ".") && strcmp(s, "..") &&
	       !strchr(s, '/');
}

static void priv_free(struct build_priv *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_steps; i++)
		spawn_argv_free(p->steps[i]);
	free(p->steps);
	free(p->step_names);
	spawn_argv_free(p->sandbox);
	spawn_argv_free(p->env);
	strbuf_release(&p->work_err);
	free(p->root);
	free(p->src);
	free(p->out);
	free(p->artifact);
	free(p->ccache_dir);
	free(p->config_key);
	free(p->final_reason);
	if (p->log_fd >= 0)
		close(p->log_fd);
	build_log_abort(p->log);
	if (p->libgit2)
		git_libgit2_shutdown();
	free(p);
}

int build_start(uv_loop_t *loop, struct build *b, struct strbuf *err)
{
	const struct matrix_build *c = b->config;
	struct build_priv *p;
	struct strbuf head = STRBUF_INIT;
	const char *base;
	char *log_dir = NULL, *state;
	struct stat st;
	int rc;

	if (!b->tree || !c || !b->state_dir || !b->repo_path || !b->on_done ||
	    !c->image || !c->n_targets || !valid_name(b->tree->name) ||
	    !valid_name(c->name)) {
		strbuf_addstr(err, "build: incomplete job");
		return -1;
	}
	/* It names directories: a full id, hex only. */
	if (strlen(b->commit) != GIT_OID_HEXSZ ||
	    strspn(b->commit, "0123456789abcdef") != GIT_OID_HEXSZ) {
		strbuf_addstr(err, "build: not a full commit id: ");
		strbuf_add_quoted(err, b->commit, 64);
		return -1;
	}
	base = strrchr(c->image, '/');
	base = base ? base + 1 : c->image;
	/* Absolute: the steps run in src/, with -C and O= naming it. */
	state = build_host_absolute(b->state_dir);
	if (!state) {
		strbuf_addf(err, "build: cannot resolve %s: %s", b->state_dir,
			    strerror(errno));
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->b = b;
	p->loop = loop;
	p->log_fd = -1;
	strbuf_init(&p->work_err, 0);
	p->root = xstrfmt("%s/build/%s/%s", state, b->tree->name, c->name);
	p->src = xstrfmt("%s/src", p->root);
	p->out = xstrfmt("%s/out", p->root);
	p->artifact = xstrfmt("%s/artifacts/%s/%s/%s/%s", state,
			      b->tree->name, b->commit, c->name, base);
	b->priv = p;
	b->status = BUILD_PENDING;
	b->started_at = timeutil_now();
	log_dir = xstrfmt("%s/logs/builds/%s", state, b->tree->name);
	b->log_path = xstrfmt("%s/%s-%s.log", log_dir, b->commit, c->name);

	/* Kept images appear only by rename: one there is complete. */
	if (stat(p->artifact, &st) == 0) {
		p->reused = 1;
		uv_timer_init(loop, &p->timer);
		uv_timer_start(&p->timer, reuse_artifact, 0, 0);
		goto out;
	}
	/* A missing tool is the farm's fault: never a build that failed. */
	if (build_host_check(err) ||
	    build_host_ccache_dir(c, &p->ccache_dir, err))
		goto fail;
	if ((rc = fsutil_mkdir_p(log_dir, 0755))) {
		strbuf_addf(err, "build: cannot create %s: %s", log_dir,
			    strerror(-rc));
		goto fail;
	}
	if ((rc = fsutil_mkdir_p(p->ccache_dir, 0755))) {
		strbuf_addf(err, "build: cannot create the ccache directory "
			    "%s: %s", p->ccache_dir, strerror(-rc));
		goto fail;
	}
	if (build_log_open(&p->log, b->log_path, BUILD_LOG_LIMIT,
			   &p->log_fd, err) < 0)
		goto fail;
	if (git_libgit2_init() < 0) {
		strbuf_addstr(err, "build: cannot initialise libgit2");
		goto fail;
	}
	p->libgit2 = 1;
	strbuf_addf(&head, "--- hvmatrix: build %s %s %s, started ",
		    b->tree->name, b->commit, c->name);
	strbuf_add_utc(&head, b->started_at);
	strbuf_addch(&head, '\n');
	log_str(p, head.buf);
	/* No handle exists before this point: failing above frees all. */
	uv_timer_init(loop, &p->timer);
	if (c->timeout_s)
		uv_timer_start(&p->timer, timed_out,
			       (uint64_t)c->timeout_s * 1000, 0);
	progress(p, "checkout");
	uv_queue_work(loop, &p->work, checkout_work, checkout_after);
out:
	strbuf_release(&head);
	free(log_dir);
	free(state);
	return 0;
fail:
	priv_free(p);
	b->priv = NULL;
	free(b->log_path);
	b->log_path = NULL;
	strbuf_release(&head);
	free(log_dir);
	free(state);
	return -1;
}

void build_stop(struct build *b)
{
	struct build_priv *p = b->priv;

	if (!p || p->finishing)
		return;
	p->stopping = 1;
	/* The trampoline stops its group: make first, so that it removes a
	 * half-written target, then everything (spawn.c). */
	child_signal(&p->child, SIGTERM);
	/* A checkout in progress finishes first, then sees stopping. */
}

void build_release(struct build *b)
{
	priv_free(b->priv);
	b->priv = NULL;
	free(b->reason);
	free(b->errors);
	free(b->log_path);
	free(b->image_path);
	b->reason = b->errors = b->log_path = b->image_path = NULL;
}
