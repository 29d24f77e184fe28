/*
 * child: see child.h. One path ends every child, whatever ended it (its
 * own exit, a watchdog, child_kill, a failed start): the process handle
 * is closed at its exit, each pipe at its EOF, and the timers once all of
 * those are gone; the last close callback calls on_closed. A child that
 * leads a group takes the group with it when it exits, so its pipes reach
 * EOF and nothing it started survives it.
 *
 * This module must never signal a process it did not see start, nor one
 * it has seen exit: its pid may already be someone else's.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/child.h"
#include "lib/xmalloc.h"

extern char **environ;

static const char *const env_names[] = {
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "LANG",
	"LANGUAGE", "TMPDIR", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
	"LD_LIBRARY_PATH", "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS",
	/* A build's, for a reproducible image (build.c's make_env). */
	"GIT_DIR", "SOURCE_DATE_EPOCH",
};

static const char *const env_families[] = {
	"LC_", "CCACHE_", "KBUILD_", "HVMATRIX_", "QEMU_", "SLURM_",
};

static pthread_mutex_t deny_lock = PTHREAD_MUTEX_INITIALIZER;
static char **denied, **hidden;
static size_t n_denied, n_hidden;

static void add_once(char ***list, size_t *n, const char *s);

/* Does entry ("NAME=value" or "NAME") name name? */
static int names(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && (!entry[n] || entry[n] == '=');
}

int child_env_allowed(const char *entry)
{
	size_t i;
	int ok = 0;

	for (i = 0; i < ARRAY_SIZE(env_names) && !ok; i++)
		ok = names(entry, env_names[i]);
	for (i = 0; i < ARRAY_SIZE(env_families) && !ok; i++)
		ok = !strncmp(entry, env_families[i],
			      strlen(env_families[i]));
	if (!ok)
		return 0;
	pthread_mutex_lock(&deny_lock);
	for (i = 0; i < n_denied && ok; i++)
		ok = !names(entry, denied[i]);
	pthread_mutex_unlock(&deny_lock);
	return ok;
}

void child_env_deny(const char *name)
{
	pthread_mutex_lock(&deny_lock);
	add_once(&denied, &n_denied, name);
	pthread_mutex_unlock(&deny_lock);
}

/* Add s to list (under deny_lock) unless it is there. */
static void add_once(char ***list, size_t *n, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*list)[i], s))
			return;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrdup(s);
}

void child_hide_file(const char *path)
{
	pthread_mutex_lock(&deny_lock);
	add_once(&hidden, &n_hidden, path);
	pthread_mutex_unlock(&deny_lock);
}

char **child_hidden_files(void)
{
	char **out;
	size_t i;

	pthread_mutex_lock(&deny_lock);
	out = xcalloc(n_hidden + 1, sizeof(*out));
	for (i = 0; i < n_hidden; i++)
		out[i] = xstrdup(hidden[i]);
	pthread_mutex_unlock(&deny_lock);
	return out;
}

char **child_env_filter(char *const *env)
{
	size_t n, k = 0, i;
	char **out;

	if (!env)
		env = environ;
	for (n = 0; env[n]; n++)
		;
	out = xcalloc(n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		if (child_env_allowed(env[i]))
			out[k++] = xstrdup(env[i]);
	return out;
}

void child_init(struct child *c)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = c->err_fd = c->pass_fd = -1;
}

static void handle_closed(uv_handle_t *h)
{
	struct child *c = h->data;

	/* Last: on_closed may free c, or start it again. */
	if (--c->handles == 0)
		c->on_closed(c);
}

static void track(struct child *c, uv_handle_t *h)
{
	h->data = c;
	c->handles++;
}

/* The timers go once the process and both pipes are gone. */
static void maybe_close_timers(struct child *c)
{
	if (c->alive || c->out_open || c->err_open || c->timers_closed)
		return;
	c->timers_closed = 1;
	uv_close((uv_handle_t *)&c->timeout, handle_closed);
	uv_close((uv_handle_t *)&c->silence, handle_closed);
	uv_close((uv_handle_t *)&c->grace, handle_closed);
}

int child_running(const struct child *c)
{
	return c->alive;
}

void child_kill(struct child *c)
{
	if (!c->alive || c->killed)
		return;
	c->killed = 1;
	if (c->via == SPAWN_DIRECT)
		uv_process_kill(&c->proc, SIGKILL);
	else
		kill(-c->pid, SIGKILL);
}

void child_signal(struct child *c, int sig)
{
	if (c->alive)
		uv_process_kill(&c->proc, sig);
}

static void grace_expired(uv_timer_t *t)
{
	child_kill(container_of(t, struct child, grace));
}

void child_kill_after(struct child *c, uint64_t ms)
{
	if (!c->alive || uv_is_active((uv_handle_t *)&c->grace))
		return;
	uv_timer_start(&c->grace, grace_expired, ms, 0);
}

static void timeout_expired(uv_timer_t *t)
{
	struct child *c = container_of(t, struct child, timeout);

	c->timed_out = 1;
	if (c->on_timeout)
		c->on_timeout(c);
	child_kill(c);
}

static void silence_expired(uv_timer_t *t)
{
	struct child *c = container_of(t, struct child, silence);

	c->silent = 1;
	if (c->on_silence)
		c->on_silence(c);
	child_kill(c);
}

static void close_in(struct child *c)
{
	if (!c->in_open)
		return;
	c->in_open = 0;
	uv_close((uv_handle_t *)&c->in, handle_closed);
}

int child_write(struct child *c, const char *buf, size_t len)
{
	uv_os_fd_t fd;
	ssize_t n;

	if (!c->in_open || !c->alive)
		return UV_EPIPE;
	if (uv_fileno((uv_handle_t *)&c->in, &fd) < 0)
		return UV_EBADF;
	/*
	 * libuv's stdio pipes are socket pairs: send() without SIGPIPE
	 * (a child that has just died must not take us with it), and
	 * without blocking: a few bytes into an empty buffer either fit
	 * or the child is not reading.
	 */
	do
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : UV_EAGAIN;
}

static void proc_exited(uv_process_t *proc, int64_t status, int sig)
{
	struct child *c = container_of(proc, struct child, proc);

	c->exit_status = status;
	c->term_signal = sig;
	c->alive = 0;
	/* Anything it left in its group goes too; the pipes then EOF. */
	if (c->via != SPAWN_DIRECT)
		kill(-c->pid, SIGKILL);
	/* An exited child is neither late nor silent. */
	uv_timer_stop(&c->timeout);
	uv_timer_stop(&c->silence);
	uv_timer_stop(&c->grace);
	uv_close((uv_handle_t *)proc, handle_closed);
	close_in(c);
	if (c->on_exit)
		c->on_exit(c);
	maybe_close_timers(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[65536];

	/* One loop thread, and each read is consumed before the next. */
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct child *c = s->data;
	int is_out = s == (uv_stream_t *)&c->out;

	if (nread > 0) {
		if (is_out && uv_is_active((uv_handle_t *)&c->silence))
			uv_timer_again(&c->silence);
		(is_out ? c->on_out : c->on_err)(c, buf->base, (size_t)nread);
	} else if (nread < 0) {
		if (is_out)
			c->out_open = 0;
		else
			c->err_open = 0;
		uv_close((uv_handle_t *)s, handle_closed);
		maybe_close_timers(c);
	}
}

/* Standard output or error: a pipe we read, an fd, or nothing. */
static void set_stdio(uv_stdio_container_t *s, child_output_cb cb,
		      uv_pipe_t *pipe, int fd)
{
	if (cb) {
		s->flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		s->data.stream = (uv_stream_t *)pipe;
	} else if (fd >= 0) {
		s->flags = UV_INHERIT_FD;
		s->data.fd = fd;
	} else {
		s->flags = UV_IGNORE;
	}
}

int child_start(struct child *c, uv_loop_t *loop)
{
	uv_process_options_t po;
	uv_stdio_container_t stdio[4];
	char **args = NULL, *self = NULL, **env = NULL;
	int rc = 0;

	uv_timer_init(loop, &c->timeout);
	track(c, (uv_handle_t *)&c->timeout);
	uv_timer_init(loop, &c->silence);
	track(c, (uv_handle_t *)&c->silence);
	uv_timer_init(loop, &c->grace);
	track(c, (uv_handle_t *)&c->grace);
	if (c->on_out) {
		uv_pipe_init(loop, &c->out, 0);
		track(c, (uv_handle_t *)&c->out);
		c->out_open = 1;
	}
	if (c->on_err) {
		uv_pipe_init(loop, &c->err, 0);
		track(c, (uv_handle_t *)&c->err);
		c->err_open = 1;
	}
	if (c->in_pipe) {
		uv_pipe_init(loop, &c->in, 0);
		track(c, (uv_handle_t *)&c->in);
		c->in_open = 1;
	}

	memset(&po, 0, sizeof(po));
	memset(stdio, 0, sizeof(stdio));
	if (c->in_pipe) {
		stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
		stdio[0].data.stream = (uv_stream_t *)&c->in;
	} else {
		stdio[0].flags = UV_IGNORE;
	}
	set_stdio(&stdio[1], c->on_out, &c->out, c->out_fd);
	set_stdio(&stdio[2], c->on_err, &c->err, c->err_fd);
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = c->pass_fd;
	po.stdio = stdio;
	po.stdio_count = c->pass_fd >= 0 ? 4 : 3;
	env = child_env_filter(c->env);
	po.env = env;
	po.cwd = c->cwd;
	po.exit_cb = proc_exited;
	if (c->via == SPAWN_DIRECT) {
		po.file = c->argv[0];
		po.args = (char **)c->argv;
	} else {
		if (!c->self && !(self = spawn_self())) {
			rc = errno ? -errno : UV_ENOENT;
			goto fail;
		}
		args = spawn_trampoline_argv(c->via, c->self ? c->self : self,
					     c->argv, po.stdio_count);
		po.file = args[0];
		po.args = args;
		/* setsid(): it leads its own process group, killed whole. */
		po.flags = UV_PROCESS_DETACHED;
	}
	/*
	 * Whatever a library left open without close-on-exec (libcurl's
	 * sockets) gets it now: a SPAWN_DIRECT child has no trampoline to
	 * close them. libuv dup2()s the fds the child is given, and a dup
	 * does not keep the flag.
	 */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	rc = uv_spawn(loop, &c->proc, &po);
	/* libuv wants even a process handle that failed closed. */
	track(c, (uv_handle_t *)&c->proc);
	if (rc < 0) {
		uv_close((uv_handle_t *)&c->proc, handle_closed);
		goto fail;
	}
	c->alive = 1;
	c->pid = c->proc.pid;
	if (c->timeout_ms)
		uv_timer_start(&c->timeout, timeout_expired, c->timeout_ms, 0);
	if (c->silence_ms)
		uv_timer_start(&c->silence, silence_expired, c->silence_ms,
			       c->silence_ms);
	if (c->on_out)
		uv_read_start((uv_stream_t *)&c->out, alloc_cb, on_read);
	if (c->on_err)
		uv_read_start((uv_stream_t *)&c->err, alloc_cb, on_read);
	goto out;
fail:
	c->spawn_error = rc;
	if (c->out_open) {
		c->out_open = 0;
		uv_close((uv_handle_t *)&c->out, handle_closed);
	}
	if (c->err_open) {
		c->err_open = 0;
		uv_close((uv_handle_t *)&c->err, handle_closed);
	}
	close_in(c);
	maybe_close_timers(c);
out:
	spawn_argv_free(args);
	spawn_argv_free(env);
	free(self);
	return rc;
}
