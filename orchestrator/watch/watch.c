/*
 * watch: the commit walker (see watch.h). It answers one question, "which
 * commits on this branch has hvmatrix not seen?", by a libgit2 revision
 * walk from the tip with every known commit hidden. Hiding by reachability
 * rather than comparing with one recorded tip is what makes force-pushes
 * safe: the old tip still hides the history it shares with the new one,
 * so only rewritten commits come out and nothing is queued twice.
 *
 * It must never run git, never write to a repository given by path, and
 * never hand out a commit it could not read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "watch/watch.h"
#include "lib/url.h"
#include "lib/xmalloc.h"

_Static_assert(WATCH_ID_HEXSZ == GIT_OID_HEXSZ, "commit ids are SHA-1");

#define WATCH_REMOTE "origin"

/*
 * The mirror's refs are the remote's, forced: a branch that was
 * force-pushed there must move here too, or the rewrite is never seen.
 */
static const char *const mirror_refspecs[] = {
	"+refs/heads/*:refs/heads/*",
	"+refs/tags/*:refs/tags/*",
};

struct watch_repo {
	git_repository *repo;
	/*
	 * Looked up once, not per fetch: in Debian's libgit2 1.5 every
	 * git_remote_lookup leaks PCRE2 match data (~180 KB; see libgit2
	 * PR #6382), which a daemon fetching every few minutes would feel.
	 */
	git_remote *remote;	/* NULL: local, nothing to fetch */
	char *name;		/* path or URL (no userinfo), for messages */
	char *url;		/* NULL: local */
	char *credentials;	/* a "user:token" file, or NULL */
	int cred_asked;		/* times the remote asked, this transfer */
};

static const char *last_error(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* "name: what: libgit2's message"; call right after the failing call. */
static void fail(struct strbuf *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct strbuf *err, const char *name, const char *fmt, ...)
{
	const char *why = last_error();
	va_list ap;

	strbuf_addf(err, "%s: ", name);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	strbuf_addf(err, ": %s", why);
	/* libgit2 repeats the URL, token and all. */
	url_redact(err);
}

int watch_credentials_read(const char *file, char **user, char **token,
			   struct strbuf *err)
{
	char buf[4096], *colon, *nl;
	struct stat st;
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY), ret = -1;

	*user = *token = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(err, "credentials %s: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_addf(err, "credentials %s: not a regular file", file);
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		strbuf_addf(err, "credentials %s: readable by anyone "
			    "(chmod o-r it)", file);
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		strbuf_addf(err, "credentials %s: %s", file, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	nl = buf + strcspn(buf, "\r\n");
	*nl = '\0';
	colon = strchr(buf, ':');
	if (!colon || colon == buf || !colon[1]) {
		strbuf_addf(err, "credentials %s:1: expected one line "
			    "\"user:token\"", file);
		goto out;
	}
	*user = xstrndup(buf, (size_t)(colon - buf));
	*token = xstrdup(colon + 1);
	ret = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return ret;
}

void watch_credentials_free(char *user, char *token)
{
	if (token)
		explicit_bzero(token, strlen(token));
	free(user);
	free(token);
}

/* libgit2 asks when the remote wants a login: the tree's file answers. */
static int acquire_credentials(git_credential **out, const char *url,
			       const char *user_from_url,
			       unsigned int allowed, void *payload)
{
	struct watch_repo *w = payload;
	struct strbuf err = STRBUF_INIT;
	char *user, *token;
	int rc;

	if (!w->credentials) {
		git_error_set_str(GIT_ERROR_NET, "the remote asks for a "
				  "login: give the tree a credentials file");
		return GIT_EAUTH;
	}
	/* Asked again: the remote refused what the file gave. */
	if (w->cred_asked++ ||
	    !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
		strbuf_addf(&err, "the remote refused the login of %s",
			    w->credentials);
		git_error_set_str(GIT_ERROR_NET, err.buf);
		strbuf_release(&err);
		return GIT_EAUTH;
	}
	if (watch_credentials_read(w->credentials, &user, &token, &err) < 0) {
		git_error_set_str(GIT_ERROR_NET, err.buf);
		strbuf_release(&err);
		return GIT_EAUTH;
	}
	rc = git_credential_userpass_plaintext_new(out, user, token);
	watch_credentials_free(user, token);
	return rc;
}

static void set_fetch_options(struct watch_repo *w, git_fetch_options *opts)
{
	/* A mirror drops what the remote dropped. */
	opts->prune = GIT_FETCH_PRUNE;
	opts->proxy_opts.type = GIT_PROXY_AUTO;
	opts->callbacks.credentials = acquire_credentials;
	opts->callbacks.payload = w;
	w->cred_asked = 0;
}

/* git_clone's remote_cb: an "origin" that fetches with mirror_refspecs. */
static int create_mirror_remote(git_remote **out, git_repository *repo,
				const char *name, const char *url,
				void *payload)
{
	size_t i;
	int rc;

	*out = NULL;
	rc = git_remote_create_with_fetchspec(out, repo, name, url,
					      mirror_refspecs[0]);
	for (i = 1; !rc && i < ARRAY_SIZE(mirror_refspecs); i++)
		rc = git_remote_add_fetch(repo, name, mirror_refspecs[i]);
	/* add_fetch changes the configuration, not a loaded remote. */
	if (!rc) {
		git_remote_free(*out);
		*out = NULL;
		rc = git_remote_lookup(out, repo, name);
	}
	if (rc) {
		git_remote_free(*out);
		*out = NULL;
	}
	return rc;
}

int watch_fetch(struct watch_repo *w, struct strbuf *err)
{
	git_fetch_options opts;

	if (!w->remote)
		return 0;
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	set_fetch_options(w, &opts);
	if (git_remote_fetch(w->remote, NULL, &opts, "hvmatrix: fetch")) {
		fail(err, w->name, "cannot fetch into %s",
		     git_repository_path(w->repo));
		return -1;
	}
	return 0;
}

static int clone_mirror(struct watch_repo *w, const char *cache_dir,
			struct strbuf *err)
{
	git_clone_options opts;

	/* The _INIT macros leave fields out, which -Wextra reports. */
	git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
	opts.bare = 1;
	opts.remote_cb = create_mirror_remote;
	set_fetch_options(w, &opts.fetch_opts);
	if (git_clone(&w->repo, w->url, cache_dir, &opts)) {
		w->repo = NULL;
		fail(err, w->name, "cannot clone into %s", cache_dir);
		return -1;
	}
	return 0;
}

/*
 * Clone w->url into cache_dir, or reuse and fetch the mirror already
 * there; either way, leave its remote in w->remote.
 */
static int open_mirror(struct watch_repo *w, const char *cache_dir,
		       struct strbuf *err)
{
	const char *have;
	int cloned = 0, ret;

	ret = git_repository_open_bare(&w->repo, cache_dir);
	if (ret == GIT_ENOTFOUND) {
		w->repo = NULL;
		if (clone_mirror(w, cache_dir, err))
			return -1;
		cloned = 1;
	} else if (ret) {
		fail(err, w->name, "cannot open the mirror %s", cache_dir);
		return -1;
	}
	if (git_remote_lookup(&w->remote, w->repo, WATCH_REMOTE)) {
		w->remote = NULL;
		fail(err, w->name, "%s is not a mirror made by hvmatrix",
		     cache_dir);
		return -1;
	}
	/* Never fetch one tree into another's mirror. */
	have = git_remote_url(w->remote);
	if (!have || strcmp(have, w->url)) {
		strbuf_addf(err, "%s: %s is a mirror of %s, not of this URL",
			    w->name, cache_dir, have ? have : "nothing");
		return -1;
	}
	return cloned ? 0 : watch_fetch(w, err);
}

char *watch_mirror_dir(const char *state_dir, const char *tree)
{
	return xstrfmt("%s/mirrors/%s.git", state_dir, tree);
}

int watch_open(struct watch_repo **out, const char *path, const char *url,
	       const char *credentials, const char *cache_dir,
	       struct strbuf *err)
{
	struct watch_repo *w = NULL;
	int rc = -1;

	*out = NULL;
	if (!path == !url) {
		strbuf_addstr(err, "watch: give exactly one of a repository "
			      "path and a URL");
		return -1;
	}
	if (url && !cache_dir) {
		strbuf_addf(err, "%s: a remote needs a cache directory", url);
		url_redact(err);
		return -1;
	}
	if (git_libgit2_init() < 0) {
		fail(err, path ? path : url, "cannot initialise libgit2");
		return -1;
	}
	/* From here on w owns one libgit2 reference; watch_close drops it. */
	w = xcalloc(1, sizeof(*w));
	w->name = path ? xstrdup(path) : url_display(url);
	if (path) {
		if (git_repository_open_ext(&w->repo, path,
					    GIT_REPOSITORY_OPEN_NO_SEARCH,
					    NULL)) {
			w->repo = NULL;
			fail(err, path, "cannot open the repository");
			goto out;
		}
	} else {
		w->url = xstrdup(url);
		w->credentials = credentials ? xstrdup(credentials) : NULL;
		if (open_mirror(w, cache_dir, err))
			goto out;
	}
	*out = w;
	w = NULL;
	rc = 0;
out:
	watch_close(w);
	return rc;
}

static int resolve(struct watch_repo *w, const char *rev, git_oid *oid,
		   struct strbuf *err)
{
	git_object *obj = NULL, *commit = NULL;
	int rc = -1;

	if (git_revparse_single(&obj, w->repo, rev)) {
		fail(err, w->name, "cannot resolve '%s'", rev);
		goto out;
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT)) {
		fail(err, w->name, "'%s' does not name a commit", rev);
		goto out;
	}
	git_oid_cpy(oid, git_object_id(commit));
	rc = 0;
out:
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

int watch_resolve(struct watch_repo *w, const char *rev,
		  char out[WATCH_ID_HEXSZ + 1], struct strbuf *err)
{
	git_oid oid;

	if (resolve(w, rev, &oid, err))
		return -1;
	git_oid_tostr(out, WATCH_ID_HEXSZ + 1, &oid);
	return 0;
}

static int ignorable(int code)
{
	return code == GIT_ENOTFOUND || code == GIT_EINVALIDSPEC ||
	       code == GIT_EPEEL;
}

/*
 * Hide one known id and everything reachable from it. Ids that are not
 * there (gc, garbage) or not commits hide nothing; a read error is an
 * error, since ignoring it could queue a whole history again.
 */
static int hide_known(struct watch_repo *w, git_revwalk *walk,
		      const char *hex, struct strbuf *err)
{
	git_object *obj = NULL, *commit = NULL;
	git_oid oid;
	int rc = -1, ret;

	if (!hex || strlen(hex) != WATCH_ID_HEXSZ ||
	    git_oid_fromstr(&oid, hex))
		return 0;
	ret = git_object_lookup(&obj, w->repo, &oid, GIT_OBJECT_ANY);
	if (!ret)
		ret = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
	if (ignorable(ret)) {
		rc = 0;
		goto out;
	}
	if (ret) {
		fail(err, w->name, "cannot read known commit %s", hex);
		goto out;
	}
	if (git_revwalk_hide(walk, git_object_id(commit))) {
		fail(err, w->name, "cannot hide known commit %s", hex);
		goto out;
	}
	rc = 0;
out:
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

static int fill_commit(struct watch_repo *w, struct watch_commit *c,
		       const git_oid *oid, struct strbuf *err)
{
	git_commit *commit = NULL;
	const git_signature *sig;
	const char *msg;
	size_t len;

	git_oid_tostr(c->id, sizeof(c->id), oid);
	if (git_commit_lookup(&commit, w->repo, oid)) {
		fail(err, w->name, "cannot read commit %s", c->id);
		return -1;
	}
	msg = git_commit_message(commit);
	if (!msg)
		msg = "";
	len = strcspn(msg, "\n");
	while (len && (msg[len - 1] == '\r' || msg[len - 1] == ' ' ||
		       msg[len - 1] == '\t'))
		len--;
	c->subject = xstrndup(msg, len);
	sig = git_commit_author(commit);
	c->author = xstrfmt("%s <%s>", sig->name, sig->email);
	c->time = git_commit_time(commit);
	c->n_parents = git_commit_parentcount(commit);
	c->parent[0] = '\0';
	if (c->n_parents)
		git_oid_tostr(c->parent, sizeof(c->parent),
			      git_commit_parent_id(commit, 0));
	git_commit_free(commit);
	return 0;
}

int watch_lookup(struct watch_repo *w, const char *rev,
		 struct watch_commit *out, struct strbuf *err)
{
	git_oid oid;

	memset(out, 0, sizeof(*out));
	if (resolve(w, rev, &oid, err) || fill_commit(w, out, &oid, err)) {
		free(out->subject);
		free(out->author);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int watch_new_commits(struct watch_repo *w, const char *tip,
		      char *const *known, size_t n_known, size_t limit,
		      struct watch_commit **out, size_t *n,
		      struct strbuf *err)
{
	struct watch_commit *c = NULL;
	git_revwalk *walk = NULL;
	git_oid tip_oid, *ids = NULL;
	size_t nr = 0, alloc = 0, i;
	int rc = -1, ret;

	*out = NULL;
	*n = 0;
	if (resolve(w, tip, &tip_oid, err))
		goto out;
	/*
	 * Walk newest first and reverse at the end: a limited walk can then
	 * stop after `limit` commits, and those are the newest ones.
	 */
	if (git_revwalk_new(&walk, w->repo) ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) ||
	    git_revwalk_push(walk, &tip_oid)) {
		fail(err, w->name, "cannot start a walk from '%s'", tip);
		goto out;
	}
	for (i = 0; i < n_known; i++)
		if (hide_known(w, walk, known[i], err))
			goto out;
	while (!limit || nr < limit) {
		git_oid oid;

		ret = git_revwalk_next(&oid, walk);
		if (ret == GIT_ITEROVER)
			break;
		if (ret) {
			fail(err, w->name, "cannot walk the history of '%s'",
			     tip);
			goto out;
		}
		ALLOC_GROW(ids, nr + 1, alloc);
		ids[nr++] = oid;
	}
	if (nr)
		c = xcalloc(nr, sizeof(*c));
	for (i = 0; i < nr; i++)
		if (fill_commit(w, &c[i], &ids[nr - 1 - i], err))
			goto out;
	*out = c;
	*n = nr;
	c = NULL;
	rc = 0;
out:
	watch_commits_free(c, nr);
	free(ids);
	git_revwalk_free(walk);
	return rc;
}

void watch_commit_release(struct watch_commit *c)
{
	free(c->subject);
	free(c->author);
	c->subject = c->author = NULL;
}

void watch_commits_free(struct watch_commit *c, size_t n)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < n; i++) {
		free(c[i].subject);
		free(c[i].author);
	}
	free(c);
}

void watch_close(struct watch_repo *w)
{
	if (!w)
		return;
	git_remote_free(w->remote);
	git_repository_free(w->repo);
	free(w->name);
	free(w->url);
	free(w->credentials);
	free(w);
	git_libgit2_shutdown();
}
