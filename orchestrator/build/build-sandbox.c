/*
 * build-sandbox: the confinement every build step runs in, since a farm
 * builds code anyone can write (a Makefile is a program). A step runs as
 *
 *   bwrap --unshare-net --unshare-pid ... --ro-bind / / ... -- make ...
 *
 * with no network (a loopback that is down), everything read-only, /tmp
 * included (TMPDIR is the build's own .tmp), the state directory hidden
 * (the store, the dashboard, the logs, every mirror) but for the build's
 * own directory
 * (writable), the repository being built (read-only) and the compiler
 * cache (writable), and every file child_hidden_files() names (webhook
 * secrets) covered by an empty one. In a pid namespace of its own, no
 * process of the build (`setsid sleep 300 &`) outlives make: when make
 * ends, bwrap's init ends and the kernel kills what is left.
 *
 * Why bubblewrap rather than unshare(2) and mounts done here: it is the
 * maintained tool for exactly this (Flatpak's), works without setuid
 * through user namespaces for an ordinary user and directly for root
 * (dropping every capability), and keeps mount and namespace code, which
 * is easy to get subtly wrong, out of hvmatrix.
 *
 * Not --die-with-parent: bwrap is a child of the group trampoline
 * (spawn.h), which already ends the whole group whichever way hvmatrix
 * goes; with that option bwrap SIGKILLs make on the very SIGTERM that
 * asks make to delete the target it was writing, and a half-written
 * object would pass for up to date in the next incremental build.
 *
 * A host that cannot sandbox (bwrap missing, user namespaces refused) is
 * the farm's ERROR before make runs, never an unconfined build, unless
 * the build config says `sandbox: false`.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/build-priv.h"
#include "lib/child.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"

#define SANDBOX_PROG "bwrap"

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static int probe_ok;

/* The namespaces every step gets, the probe's too. */
static const char *const sandbox_unshare[] = {
	"--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
	"--unshare-cgroup-try",
};

/* Run bwrap once, confined as a step is, and say why it failed. */
static int probe(struct strbuf *err)
{
	char *argv[ARRAY_SIZE(sandbox_unshare) + 12];
	char buf[512];
	size_t n = 0, i;
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	argv[n++] = SANDBOX_PROG;
	for (i = 0; i < ARRAY_SIZE(sandbox_unshare); i++)
		argv[n++] = (char *)sandbox_unshare[i];
	argv[n++] = "--ro-bind";
	argv[n++] = "/";
	argv[n++] = "/";
	argv[n++] = "--proc";
	argv[n++] = "/proc";
	argv[n++] = "--dev";
	argv[n++] = "/dev";
	argv[n++] = "--";
	argv[n++] = "true";
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		strbuf_addf(err, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		strbuf_addf(err, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		dup2(fds[1], 2);
		spawn_close_from(3);
		execvp(argv[0], argv);
		dprintf(2, "%s not found in PATH (apt-get install bubblewrap)",
			SANDBOX_PROG);
		_exit(127);
	}
	close(fds[1]);
	n = 0;
	while (n < sizeof(buf) - 1 &&
	       (got = read(fds[0], buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n)
		strbuf_add_quoted(err, buf, sizeof(buf));
	else
		strbuf_addf(err, "%s exited with status %d", SANDBOX_PROG,
			    status);
	return -1;
}

int build_sandbox_check(const char *build, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	/* Once it worked it works: a failure is tried again next build. */
	pthread_mutex_lock(&probe_lock);
	if (!probe_ok && probe(&why) == 0)
		probe_ok = 1;
	if (!probe_ok) {
		strbuf_addstr(err, "cannot sandbox builds: ");
		strbuf_add(err, why.buf, why.len);
		strbuf_addf(err, "; set sandbox: false on build %s to build "
			    "unconfined", build);
		ret = -1;
	}
	pthread_mutex_unlock(&probe_lock);
	strbuf_release(&why);
	return ret;
}

struct argv_buf {
	char **v;
	size_t n, alloc;
};

static void add(struct argv_buf *a, char *s)
{
	ALLOC_GROW(a->v, a->n + 2, a->alloc);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void add3(struct argv_buf *a, const char *op, const char *x,
		 const char *y)
{
	add(a, xstrdup(op));
	add(a, xstrdup(x));
	if (y)
		add(a, xstrdup(y));
}

/* path resolved (malloc'd), or NULL with err set naming what it is. */
static char *resolve(const char *what, const char *path, struct strbuf *err)
{
	char *r = realpath(path, NULL);

	if (!r)
		strbuf_addf(err, "cannot sandbox the build: %s %s: %s", what,
			    path, strerror(errno));
	return r;
}

char **build_sandbox_prefix(const struct build_sandbox_view *v,
			    struct strbuf *err)
{
	struct argv_buf a = { 0 };
	char *state = NULL, *root = NULL, *repo = NULL, *ccache = NULL;
	char *src = NULL, **hidden = NULL, *f, *tmp;
	struct stat st;
	size_t i;

	if (!(state = resolve("state directory", v->state_dir, err)) ||
	    !(root = resolve("build directory", v->root, err)) ||
	    !(src = resolve("checkout", v->src, err)) ||
	    !(repo = resolve("repository", v->repo, err)) ||
	    !(ccache = resolve("ccache directory", v->ccache_dir, err)))
		goto fail;
	add(&a, xstrdup(SANDBOX_PROG));
	for (i = 0; i < ARRAY_SIZE(sandbox_unshare); i++)
		add(&a, xstrdup(sandbox_unshare[i]));
	add3(&a, "--ro-bind", "/", "/");
	add3(&a, "--dev", "/dev", NULL);
	add3(&a, "--proc", "/proc", NULL);
	/*
	 * /tmp stays what the rest of the system is, read-only: a farm
	 * (or its tests) may live under it, and a tmpfs there would hide
	 * it, the prebuilt files a tree's Makefile copies included. What a
	 * build writes as temporary goes to its own directory (TMPDIR).
	 * Later mounts show parts of the state directory again; everything
	 * else of it is gone.
	 */
	add3(&a, "--tmpfs", state, NULL);
	add3(&a, "--ro-bind", repo, repo);
	add3(&a, "--bind", root, root);
	add3(&a, "--bind", ccache, ccache);
	/* merge_config.sh reads the fragments from inside. */
	for (i = 0; i < v->n_fragments; i++) {
		if (!(f = resolve("fragment", v->fragments[i], err)))
			goto fail;
		add3(&a, "--ro-bind", f, f);
		free(f);
	}
	hidden = child_hidden_files();
	for (i = 0; hidden[i]; i++)
		if (stat(hidden[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    (f = realpath(hidden[i], NULL))) {
			add3(&a, "--ro-bind", "/dev/null", f);
			free(f);
		}
	/* The state directory's stand-in is read-only too: a write there
	 * fails as it would have to, rather than vanish. */
	add3(&a, "--remount-ro", state, NULL);
	tmp = xstrfmt("%s/.tmp", root);
	add3(&a, "--dir", tmp, NULL);
	add3(&a, "--setenv", "TMPDIR", tmp);
	free(tmp);
	add3(&a, "--chdir", src, NULL);
	add(&a, xstrdup("--"));
	goto out;
fail:
	spawn_argv_free(a.v);
	a.v = NULL;
out:
	spawn_argv_free(hidden);
	free(state);
	free(root);
	free(src);
	free(repo);
	free(ccache);
	return a.v;
}

char **build_sandbox_wrap(char *const *prefix, char **argv)
{
	struct argv_buf a = { 0 };
	size_t i;

	for (i = 0; prefix[i]; i++)
		add(&a, xstrdup(prefix[i]));
	for (i = 0; argv[i]; i++)
		add(&a, argv[i]);
	free(argv);
	return a.v;
}
