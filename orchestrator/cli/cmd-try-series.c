/*
 * cmd-try-series: what `hvmatrix try` is asked to try, as a base commit
 * and the series' commits on top of it, oldest first: REV (REV against
 * its first parent), BASE..TIP (every commit of the range), or an mbox
 * applied with `git am` onto the tree's tip in a scratch worktree under
 * the state directory, removed afterwards (the commits it made stay in
 * the tree's object store, where the build reads them).
 *
 * Commits are read with libgit2 (watch/); only what libgit2 cannot do
 * (am, worktrees) runs git, as an argv, never a shell string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "cli/cmd-try-priv.h"
#include "lib/child.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

/* ---- git, for what libgit2 does not do ---- */

struct git_run {
	struct child c;
	struct strbuf *out, *err;
	int closed;
};

static void git_out(struct child *c, const char *buf, size_t len)
{
	strbuf_add(container_of(c, struct git_run, c)->out, buf, len);
}

static void git_err(struct child *c, const char *buf, size_t len)
{
	strbuf_add(container_of(c, struct git_run, c)->err, buf, len);
}

static void git_closed(struct child *c)
{
	container_of(c, struct git_run, c)->closed = 1;
}

/*
 * Run git with argv (argv[0] is "git"), its output into out and err: its
 * exit status, or -1 when it could not run (err says why).
 */
static int git(char *const *argv, struct strbuf *out, struct strbuf *err)
{
	struct git_run g;
	uv_loop_t loop;
	int rc;

	memset(&g, 0, sizeof(g));
	child_init(&g.c);
	g.out = out;
	g.err = err;
	g.c.argv = argv;
	g.c.via = SPAWN_DIRECT;
	g.c.on_out = git_out;
	g.c.on_err = git_err;
	g.c.on_closed = git_closed;
	if (uv_loop_init(&loop) < 0) {
		strbuf_addstr(err, "cannot start an event loop");
		return -1;
	}
	rc = child_start(&g.c, &loop);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (rc < 0) {
		strbuf_addf(err, "cannot run git: %s", uv_strerror(rc));
		return -1;
	}
	if (g.c.term_signal) {
		strbuf_addf(err, "git killed by signal %d", g.c.term_signal);
		return -1;
	}
	return (int)g.c.exit_status;
}

/* ---- the series ---- */

/* The first parent of c as the series' base. */
static int base_of(struct watch_repo *w, const struct watch_commit *c,
		   struct cmd_try_series *s, struct strbuf *err)
{
	if (!c->n_parents) {
		strbuf_addf(err, "%.12s has no parent to compare it with",
			    c->id);
		return EXIT_USAGE;
	}
	return watch_lookup(w, c->parent, &s->base, err) < 0 ? EXIT_USAGE : 0;
}

/* Every commit reachable from tip and not from base, oldest first. */
static int range(struct watch_repo *w, const char *base, const char *tip,
		 struct cmd_try_series *s, struct strbuf *err)
{
	char tip_id[WATCH_ID_HEXSZ + 1];
	char *known[1];

	if (watch_lookup(w, base, &s->base, err) < 0 ||
	    watch_resolve(w, tip, tip_id, err) < 0)
		return EXIT_USAGE;
	known[0] = s->base.id;
	if (watch_new_commits(w, tip_id, known, 1, 0, &s->patches, &s->n,
			      err) < 0)
		return EXIT_USAGE;
	if (!s->n) {
		strbuf_addf(err, "%s..%s holds no commit", base, tip);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * git am's "Patch failed at 0002 SUBJECT" as "patch 2 (SUBJECT)" with
 * git's reason, or git's first line when it said no such thing (not an
 * mbox at all).
 */
static void am_failure(const char *mbox, const char *git_err,
		       struct strbuf *err)
{
	static const char key[] = "Patch failed at ";
	const char *at = strstr(git_err, key), *eol;
	char *end;
	long nr;

	if (at) {
		at += strlen(key);
		nr = strtol(at, &end, 10);
		eol = end + strcspn(end, "\n");
		while (*end == ' ')
			end++;
		strbuf_addf(err, "%s: patch %ld (", mbox, nr);
		strbuf_add(err, end, (size_t)(eol > end ? eol - end : 0));
		strbuf_addstr(err, ") does not apply");
		at = strstr(git_err, "error: ");
		if (at) {
			strbuf_addstr(err, ": ");
			strbuf_add(err, at + 7, strcspn(at + 7, "\n"));
		}
		return;
	}
	strbuf_addf(err, "%s: the series does not apply: ", mbox);
	while (*git_err == '\n')
		git_err++;
	strbuf_add(err, git_err, strcspn(git_err, "\n"));
}

/* The scratch worktree out of the repository, whatever it holds. */
static void scratch_remove(const char *repo, const char *dir)
{
	char *rm[] = { "git", "-C", (char *)repo, "worktree", "remove",
		       "--force", (char *)dir, NULL };
	char *prune[] = { "git", "-C", (char *)repo, "worktree", "prune",
			  NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	git(rm, &out, &err);
	git(prune, &out, &err);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* The mbox applied with git am onto the tree's tip in a scratch
 * worktree; the series is what am committed. */
static int apply_mbox(struct watch_repo *w, const struct matrix_tree *t,
		      const char *state_dir, const char *mbox,
		      struct cmd_try_series *s, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT, gerr = STRBUF_INIT;
	char *file = realpath(mbox, NULL), *dir = NULL, *parent = NULL;
	char head[WATCH_ID_HEXSZ + 1], *known[1];
	int ret = EXIT_USAGE, added = 0, rc;

	if (!file || access(file, R_OK) < 0) {
		strbuf_addf(err, "%s: %s", mbox, strerror(errno));
		goto out;
	}
	if (watch_lookup(w, t->branches[0], &s->base, err) < 0)
		goto out;
	ret = EXIT_ERROR;
	parent = xstrfmt("%s/try", state_dir);
	dir = xstrfmt("%s/am-%ld", parent, (long)getpid());
	if ((rc = fsutil_mkdir_p(parent, 0700))) {
		strbuf_addf(err, "cannot create %s: %s", parent, strerror(-rc));
		goto out;
	}
	{
		char *add[] = { "git", "-C", s->repo, "worktree", "add",
				"--quiet", "--detach", dir, s->base.id, NULL };
		char *am[] = { "git", "-C", dir,
			       "-c", "user.name=hvmatrix try",
			       "-c", "user.email=try@hvmatrix.invalid",
			       "am", "--quiet",
			       "--committer-date-is-author-date", file, NULL };
		char *rev[] = { "git", "-C", dir, "rev-parse", "HEAD", NULL };

		rc = git(add, &out, &gerr);
		if (rc) {
			strbuf_addf(err, "git worktree add %s: %s", dir,
				    rc < 0 ? gerr.buf : gerr.len ? gerr.buf :
				    "failed");
			goto out;
		}
		added = 1;
		strbuf_reset(&gerr);
		rc = git(am, &out, &gerr);
		if (rc < 0) {
			strbuf_addstr(err, gerr.buf);
			goto out;
		}
		if (rc) {
			/* "Patch failed at" is on its standard output. */
			strbuf_addstr(&out, gerr.buf);
			am_failure(mbox, out.buf, err);
			ret = EXIT_USAGE;
			goto out;
		}
		strbuf_reset(&out);
		strbuf_reset(&gerr);
		if (git(rev, &out, &gerr) || out.len < WATCH_ID_HEXSZ) {
			strbuf_addf(err, "git rev-parse HEAD in %s: %s", dir,
				    gerr.buf);
			goto out;
		}
		snprintf(head, sizeof(head), "%.*s", WATCH_ID_HEXSZ, out.buf);
	}
	known[0] = s->base.id;
	if (watch_new_commits(w, head, known, 1, 0, &s->patches, &s->n,
			      err) < 0)
		goto out;
	if (!s->n) {
		strbuf_addf(err, "%s: no patch in it", mbox);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = 0;
out:
	if (added)
		scratch_remove(s->repo, dir);
	strbuf_release(&out);
	strbuf_release(&gerr);
	free(file);
	free(dir);
	free(parent);
	return ret;
}

int cmd_try_series_open(struct cmd_try_series *s, const struct matrix_tree *t,
			const char *state_dir, const char *spec,
			const char *mbox, struct strbuf *err)
{
	struct watch_repo *w = NULL;
	char *mirror = watch_mirror_dir(state_dir, t->name);
	struct watch_commit c;
	const char *dots;
	int ret = EXIT_ERROR;

	memset(s, 0, sizeof(*s));
	s->repo = t->path ? xstrdup(t->path) : xstrdup(mirror);
	if (watch_open(&w, t->path, t->url, t->credentials, mirror, err) < 0 ||
	    watch_fetch(w, err) < 0)
		goto out;
	if (mbox) {
		ret = apply_mbox(w, t, state_dir, mbox, s, err);
		goto out;
	}
	dots = strstr(spec, "..");
	if (dots) {
		char *base = xstrndup(spec, (size_t)(dots - spec));

		ret = range(w, *base ? base : "HEAD", dots[2] ? dots + 2 :
			    "HEAD", s, err);
		free(base);
		goto out;
	}
	ret = EXIT_USAGE;
	if (watch_lookup(w, spec, &c, err) < 0)
		goto out;
	ret = base_of(w, &c, s, err);
	if (ret) {
		watch_commit_release(&c);
		goto out;
	}
	s->patches = xcalloc(1, sizeof(*s->patches));
	s->patches[0] = c;
	s->n = 1;
out:
	if (w)
		watch_close(w);
	free(mirror);
	return ret;
}

void cmd_try_series_release(struct cmd_try_series *s)
{
	watch_commit_release(&s->base);
	watch_commits_free(s->patches, s->n);
	free(s->repo);
	memset(s, 0, sizeof(*s));
}
