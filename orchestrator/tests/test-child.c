/*
 * test-child: the child-process supervisor (lib/child.c) on a loop of its
 * own, the trampoline (lib/spawn.c) it starts QEMU and build steps
 * through, nonces (lib/nonce.c) and sigwatch (lib/sigwatch.c). The
 * children are small sh scripts; this binary carries the trampoline, as
 * hvmatrix does. Every test ends with uv_loop_close() succeeding: no
 * handle of a child is left open.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/child.h"
#include "lib/fsutil.h"
#include "lib/nonce.h"
#include "lib/sigwatch.h"
#include "lib/spawn.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

struct run {
	struct child c;
	struct strbuf out, err;
	int exits, closes, timeouts, silences, restarts;
};

static void run_out(struct child *c, const char *buf, size_t len)
{
	strbuf_add(&container_of(c, struct run, c)->out, buf, len);
}

static void run_err(struct child *c, const char *buf, size_t len)
{
	strbuf_add(&container_of(c, struct run, c)->err, buf, len);
}

static void run_exit(struct child *c)
{
	struct run *r = container_of(c, struct run, c);

	/* The process is gone, the handles not yet. */
	ck_assert(!child_running(c));
	ck_assert_int_eq(r->closes, 0);
	r->exits++;
}

static void run_closed(struct child *c)
{
	container_of(c, struct run, c)->closes++;
}

static void run_timeout(struct child *c)
{
	container_of(c, struct run, c)->timeouts++;
}

static void run_silence(struct child *c)
{
	container_of(c, struct run, c)->silences++;
}

/* sh -c script, collecting its output, via the given trampoline. */
static void run_init(struct run *r, enum spawn_via via, const char *script)
{
	static char *argv[4] = { "sh", "-c", NULL, NULL };

	memset(r, 0, sizeof(*r));
	strbuf_init(&r->out, 0);
	strbuf_init(&r->err, 0);
	argv[2] = (char *)script;
	child_init(&r->c);
	r->c.argv = argv;
	r->c.via = via;
	r->c.on_out = run_out;
	r->c.on_err = run_err;
	r->c.on_exit = run_exit;
	r->c.on_closed = run_closed;
}

/* Start it on a fresh loop and run that loop until nothing is left. */
static int run_wait(struct run *r)
{
	uv_loop_t loop;
	int rc;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	rc = child_start(&r->c, &loop);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(r->closes, 1);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	return rc;
}

static void run_release(struct run *r)
{
	strbuf_release(&r->out);
	strbuf_release(&r->err);
}

/* Is pid gone (or a zombie nobody will wait for)? Waits up to 2 s. */
static int gone(long pid)
{
	int i;

	for (i = 0; i < 200; i++) {
		struct strbuf sb = STRBUF_INIT;
		char path[64], *p;
		int dead;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		dead = fsutil_read(path, &sb) < 0 ||
		       ((p = strrchr(sb.buf, ')')) && p[2] == 'Z');
		strbuf_release(&sb);
		if (dead)
			return 1;
		usleep(10000);
	}
	return 0;
}

START_TEST(direct_output_and_status)
{
	struct run r;

	run_init(&r, SPAWN_DIRECT, "echo out; echo err >&2; exit 3");
	ck_assert_int_eq(run_wait(&r), 0);
	ck_assert_str_eq(r.out.buf, "out\n");
	ck_assert_str_eq(r.err.buf, "err\n");
	ck_assert_int_eq(r.c.exit_status, 3);
	ck_assert_int_eq(r.c.term_signal, 0);
	ck_assert_int_eq(r.exits, 1);
	ck_assert(!r.c.killed && !r.c.timed_out && !r.c.spawn_error);
	ck_assert_int_gt(r.c.pid, 0);
	run_release(&r);
}
END_TEST

/* On its first output line, a line into its standard input. */
static int write_rc = 1;

static void run_out_answer(struct child *c, const char *buf, size_t len)
{
	run_out(c, buf, len);
	if (write_rc == 1 && memchr(buf, '\n', len))
		write_rc = child_write(c, "go on\n", 6);
}

START_TEST(stdin_pipe_writes)
{
	struct run r;

	/* What the child reads back is what was written, once. */
	run_init(&r, SPAWN_EXEC, "echo ready; read l; echo \"got $l\"");
	r.c.in_pipe = 1;
	r.c.on_out = run_out_answer;
	write_rc = 1;
	ck_assert_int_eq(run_wait(&r), 0);
	ck_assert_int_eq(write_rc, 0);
	ck_assert_str_eq(r.out.buf, "ready\ngot go on\n");
	ck_assert_int_eq(r.c.exit_status, 0);
	/* Over: no pipe to write to. */
	ck_assert_int_eq(child_write(&r.c, "x\n", 2), UV_EPIPE);
	run_release(&r);

	/* A child that closed its input: an error, never our SIGPIPE. */
	run_init(&r, SPAWN_EXEC, "exec 0<&-; echo ready; sleep 0.3");
	r.c.in_pipe = 1;
	r.c.on_out = run_out_answer;
	write_rc = 1;
	ck_assert_int_eq(run_wait(&r), 0);
	ck_assert_int_eq(write_rc, UV_EPIPE);
	run_release(&r);

	/* Without in_pipe its input is /dev/null: nothing to write to. */
	run_init(&r, SPAWN_DIRECT, "echo ready; read l || echo eof");
	r.c.on_out = run_out_answer;
	write_rc = 1;
	ck_assert_int_eq(run_wait(&r), 0);
	ck_assert_int_eq(write_rc, UV_EPIPE);
	ck_assert_str_eq(r.out.buf, "ready\neof\n");
	run_release(&r);
}
END_TEST

START_TEST(failed_start_still_closes)
{
	static char *argv[] = { "/nonexistent/hvmatrix-test", NULL };
	struct run r;

	run_init(&r, SPAWN_DIRECT, "");
	r.c.argv = argv;
	ck_assert_int_lt(run_wait(&r), 0);
	ck_assert_int_eq(r.c.spawn_error, UV_ENOENT);
	ck_assert_int_eq(r.exits, 0);
	ck_assert(!child_running(&r.c));
	run_release(&r);
}
END_TEST

START_TEST(timeout_kills)
{
	struct run r;

	run_init(&r, SPAWN_DIRECT, "exec sleep 30");
	r.c.timeout_ms = 100;
	r.c.on_timeout = run_timeout;
	run_wait(&r);
	ck_assert_int_eq(r.timeouts, 1);
	ck_assert(r.c.timed_out && r.c.killed && !r.c.silent);
	ck_assert_int_eq(r.c.term_signal, SIGKILL);
	run_release(&r);
}
END_TEST

START_TEST(silence_kills)
{
	struct run r;

	run_init(&r, SPAWN_DIRECT, "echo one; exec sleep 30");
	r.c.silence_ms = 200;
	r.c.on_silence = run_silence;
	run_wait(&r);
	ck_assert_int_eq(r.silences, 1);
	ck_assert(r.c.silent && r.c.killed && !r.c.timed_out);
	ck_assert_str_eq(r.out.buf, "one\n");
	run_release(&r);
}
END_TEST

START_TEST(output_rearms_silence)
{
	struct run r;

	/* 2 s in all, a line every 0.2 s: never 1 s without output. */
	run_init(&r, SPAWN_DIRECT,
		 "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.2; done");
	r.c.silence_ms = 1000;
	r.c.on_silence = run_silence;
	run_wait(&r);
	ck_assert_int_eq(r.silences, 0);
	ck_assert(!r.c.killed);
	ck_assert_int_eq(r.c.exit_status, 0);
	ck_assert_str_eq(r.out.buf, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
	run_release(&r);
}
END_TEST

static void kill_soon(struct child *c, const char *buf, size_t len)
{
	run_out(c, buf, len);
	child_kill_after(c, 100);
	/* Pending already: this one must not push the kill back. */
	child_kill_after(c, 60000);
}

START_TEST(kill_after_kills_once)
{
	struct run r;

	run_init(&r, SPAWN_DIRECT, "echo ready; exec sleep 30");
	r.c.on_out = kill_soon;
	r.c.timeout_ms = 20000;
	run_wait(&r);
	ck_assert(r.c.killed && !r.c.timed_out);
	ck_assert_int_eq(r.c.term_signal, SIGKILL);
	run_release(&r);
}
END_TEST

/*
 * SPAWN_EXEC: the program is the child (its own signal reaches us) and
 * leads a group of its own, which goes whole when it exits: the sleep it
 * left behind holds the pipe, so without that this would never end.
 */
START_TEST(exec_group_goes_with_it)
{
	struct run r;
	long left;

	run_init(&r, SPAWN_EXEC, "sleep 300 & echo $!; echo $$ >&2; "
		 "kill -USR1 $$");
	run_wait(&r);
	ck_assert_int_eq(r.c.term_signal, SIGUSR1);
	ck_assert(!r.c.killed);
	/* sh is the child itself, not the trampoline's child. */
	ck_assert_int_eq(atol(r.err.buf), r.c.pid);
	left = atol(r.out.buf);
	ck_assert_int_gt(left, 0);
	ck_assert(gone(left));
	run_release(&r);
}
END_TEST

static void kill_on_ready(struct child *c, const char *buf, size_t len)
{
	run_out(c, buf, len);
	/* Through the trampoline: a process group of its own. */
	ck_assert_int_eq(getpgid(c->pid), c->pid);
	ck_assert_int_ne(getpgid(c->pid), getpgrp());
	if (memchr(buf, '\n', len))
		child_kill(c);
}

START_TEST(kill_takes_the_group)
{
	struct run r;
	long left;

	run_init(&r, SPAWN_EXEC, "sleep 300 & echo $!; wait");
	r.c.on_out = kill_on_ready;
	run_wait(&r);
	ck_assert(r.c.killed);
	ck_assert_int_eq(r.c.term_signal, SIGKILL);
	left = atol(r.out.buf);
	ck_assert_int_gt(left, 0);
	ck_assert(gone(left));
	run_release(&r);
}
END_TEST

/* SPAWN_GROUP: the trampoline stays; statuses come through it. */
START_TEST(group_marks_and_statuses)
{
	struct run r;
	char *want;

	run_init(&r, SPAWN_GROUP, "echo $HVMATRIX_GROUP; kill -USR1 $$");
	run_wait(&r);
	want = xstrfmt("%d.%ld\n", r.c.pid, (long)getpid());
	ck_assert_str_eq(r.out.buf, want);
	ck_assert_int_eq(r.c.term_signal, 0);
	ck_assert_int_eq(r.c.exit_status, 128 + SIGUSR1);
	free(want);
	run_release(&r);
}
END_TEST

static void term_on_ready(struct child *c, const char *buf, size_t len)
{
	run_out(c, buf, len);
	if (strstr(container_of(c, struct run, c)->out.buf, "ready\n"))
		child_signal(c, SIGTERM);
}

/*
 * A stop reaches the program as SIGTERM first (make cleans up); once it
 * is gone the trampoline kills the group whole, itself included.
 */
START_TEST(group_stop_is_graceful)
{
	struct run r;

	run_init(&r, SPAWN_GROUP, "trap 'echo cleaned; exit 0' TERM; "
		 "echo ready; while :; do sleep 0.1; done");
	r.c.on_out = term_on_ready;
	r.c.timeout_ms = 20000;
	run_wait(&r);
	ck_assert_str_eq(r.out.buf, "ready\ncleaned\n");
	ck_assert_int_eq(r.c.term_signal, SIGKILL);
	ck_assert(!r.c.killed && !r.c.timed_out);
	run_release(&r);
}
END_TEST

START_TEST(cwd_env_fds)
{
	static char *env[] = { "HVMATRIX_TEST=value", "HVM_TEST=dropped",
			       "PATH=/usr/bin:/bin", NULL };
	struct strbuf log = STRBUF_INIT, got = STRBUF_INIT;
	char dir[] = "/tmp/test-child.XXXXXX", *path, *real;
	int fds[2], fd;
	ssize_t n;
	char buf[64];
	struct run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xstrfmt("%s/log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	/* An allowed name passes, any other is dropped (child.h). */
	run_init(&r, SPAWN_GROUP, "pwd; echo $HVMATRIX_TEST$HVM_TEST >&2; "
		 "echo fd3 >&3");
	/* Like a build step: both streams to a log file. */
	r.c.on_out = r.c.on_err = NULL;
	r.c.out_fd = r.c.err_fd = fd;
	r.c.cwd = dir;
	r.c.env = env;
	r.c.pass_fd = fds[1];
	run_wait(&r);
	close(fds[1]);
	close(fd);
	ck_assert_int_eq(r.c.exit_status, 0);
	n = read(fds[0], buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 4);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "fd3\n");
	close(fds[0]);
	ck_assert_int_eq(fsutil_read(path, &log), 0);
	real = realpath(dir, NULL);
	ck_assert_ptr_nonnull(real);
	strbuf_addf(&got, "%s\nvalue\n", real);
	free(real);
	ck_assert_str_eq(log.buf, got.buf);
	unlink(path);
	rmdir(dir);
	free(path);
	strbuf_release(&log);
	strbuf_release(&got);
	run_release(&r);
}
END_TEST

/*
 * What every child sees of hvmatrix: the secret a webhook's secret_env
 * names is neither in its environment (denied, though HVMATRIX_* is an
 * allowed family; nor any name off the allow-list), nor is any file
 * descriptor hvmatrix holds without close-on-exec (a socket as libcurl
 * opens them), whichever way it is started.
 */
START_TEST(secrets_and_fds_stay_home)
{
	static const enum spawn_via vias[] = {
		SPAWN_DIRECT, SPAWN_EXEC, SPAWN_GROUP,
	};
	int sock = socket(AF_INET, SOCK_STREAM, 0);
	int lsock = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	size_t i;

	ck_assert_int_ge(sock, 3);
	ck_assert_int_ge(lsock, 3);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lsock, 1), 0);
	ck_assert_int_eq(setenv("HVM_TEST_TOKEN", "t0ken", 1), 0);
	ck_assert_int_eq(setenv("HVMATRIX_HOOK_SECRET", "s3cret", 1), 0);
	child_env_deny("HVMATRIX_HOOK_SECRET");
	ck_assert(!child_env_allowed("HVMATRIX_HOOK_SECRET=s3cret"));
	ck_assert(child_env_allowed("HVMATRIX_HOOK=x"));
	ck_assert(child_env_allowed("LC_ALL=C"));
	ck_assert(!child_env_allowed("PATHX=1"));
	for (i = 0; i < ARRAY_SIZE(vias); i++) {
		struct run r;

		/* The shell's own fds, listed by ls while the shell waits. */
		run_init(&r, vias[i], "env; echo fds:; ls /proc/$$/fd; "
			 "echo end");
		run_wait(&r);
		ck_assert_int_eq(r.c.exit_status, 0);
		ck_assert_ptr_null(strstr(r.out.buf, "s3cret"));
		ck_assert_ptr_null(strstr(r.out.buf, "t0ken"));
		ck_assert_ptr_nonnull(strstr(r.out.buf, "PATH="));
		ck_assert_msg(strstr(r.out.buf, "fds:\n0\n1\n2\nend\n"),
			      "via %d: %s", (int)vias[i], r.out.buf);
		run_release(&r);
	}
	/* hvmatrix keeps its own: only the children lost them. */
	ck_assert_int_eq(fcntl(sock, F_GETFD), FD_CLOEXEC);
	close(sock);
	close(lsock);
	unsetenv("HVM_TEST_TOKEN");
	unsetenv("HVMATRIX_HOOK_SECRET");
}
END_TEST

static uv_loop_t *restart_loop;

/* on_closed may start the same child again (build's next step). */
static void restart_closed(struct child *c)
{
	struct run *r = container_of(c, struct run, c);
	char *const *argv = c->argv;

	r->closes++;
	if (r->restarts++)
		return;
	child_init(c);
	c->argv = argv;
	c->on_out = run_out;
	c->on_closed = restart_closed;
	ck_assert_int_eq(child_start(c, restart_loop), 0);
}

START_TEST(restart_from_on_closed)
{
	uv_loop_t loop;
	struct run r;

	run_init(&r, SPAWN_DIRECT, "echo run");
	r.c.on_closed = restart_closed;
	restart_loop = &loop;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(child_start(&r.c, &loop), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(r.closes, 2);
	ck_assert_str_eq(r.out.buf, "run\nrun\n");
	run_release(&r);
}
END_TEST

/* The trampoline itself, run directly: its refusals and exit codes. */
START_TEST(trampoline_codes)
{
	char *self = spawn_self();
	char *no_args[] = { self, SPAWN_EXEC_TRAMPOLINE, "1", NULL };
	char *not_parent[] = { self, SPAWN_EXEC_TRAMPOLINE, "1", "true",
			       NULL };
	char *group_not_parent[] = { self, SPAWN_GROUP_TRAMPOLINE, "1",
				     "true", NULL };
	char *pid = xstrfmt("%ld", (long)getpid());
	char *missing[] = { self, SPAWN_EXEC_TRAMPOLINE, pid,
			    "/nonexistent/hvmatrix-test", NULL };
	char **cases[] = { no_args, not_parent, group_not_parent, missing };
	int want[] = { 125, 125, 125, 127 };
	size_t i;

	ck_assert_ptr_nonnull(self);
	ck_assert(spawn_is_trampoline(SPAWN_EXEC_TRAMPOLINE));
	ck_assert(spawn_is_trampoline(SPAWN_GROUP_TRAMPOLINE));
	ck_assert(!spawn_is_trampoline("boot"));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run r;

		run_init(&r, SPAWN_DIRECT, "");
		r.c.argv = cases[i];
		run_wait(&r);
		ck_assert_int_eq(r.c.exit_status, want[i]);
		run_release(&r);
	}
	free(pid);
	free(self);
}
END_TEST

static int cmp_nonce(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void check_nonces(size_t n)
{
	char (*v)[NONCE_LEN + 1] = xcalloc(n, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++) {
		nonce_make(v[i]);
		ck_assert_uint_eq(strlen(v[i]), NONCE_LEN);
		ck_assert_uint_eq(strspn(v[i], "0123456789abcdef"), NONCE_LEN);
	}
	qsort(v, n, sizeof(*v), cmp_nonce);
	for (i = 1; i < n; i++)
		ck_assert_str_ne(v[i - 1], v[i]);
	free(v);
}

START_TEST(nonces_never_repeat)
{
	check_nonces(1000);
	/* A host without getrandom(): the counter keeps them apart. */
	nonce_force_fallback = 1;
	check_nonces(200000);
	nonce_force_fallback = 0;
}
END_TEST

struct caught {
	struct sigwatch w;
	int signum, calls;
};

static void caught_cb(struct sigwatch *w, int signum)
{
	struct caught *c = container_of(w, struct caught, w);

	c->signum = signum;
	c->calls++;
	sigwatch_close(w);
	sigwatch_close(w);	/* twice is fine */
}

START_TEST(sigwatch_catches_then_closes)
{
	static const int signums[] = { SIGUSR1, SIGUSR2 };
	struct caught c;
	uv_loop_t loop;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	sigwatch_start(&c.w, &loop, signums, ARRAY_SIZE(signums), caught_cb);
	ck_assert_int_eq(raise(SIGUSR2), 0);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.signum, SIGUSR2);
}
END_TEST

/*
 * A copy of this binary run as `COPY --self-replaced`: it resolves itself,
 * then its file is replaced (a `make` or an upgrade under a running
 * daemon); what spawn_self() gives must still be a program to start.
 */
static int self_replaced(void)
{
	struct strbuf data = STRBUF_INIT;
	char *before = spawn_self(), *after;
	int ok;

	if (!before || fsutil_read(before, &data) < 0 || unlink(before) < 0 ||
	    fsutil_write_atomic(before, data.buf, data.len) < 0 ||
	    chmod(before, 0755) < 0)
		return 2;
	after = spawn_self();
	ok = after && !strcmp(before, after) && access(after, X_OK) == 0;
	free(before);
	free(after);
	strbuf_release(&data);
	return ok ? 0 : 1;
}

START_TEST(self_survives_its_file_replaced)
{
	char dir[] = "/tmp/hvm-self.XXXXXX";
	struct strbuf data = STRBUF_INIT;
	char *self = realpath("/proc/self/exe", NULL), *copy, *cmd[3];
	pid_t pid;
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	copy = xstrfmt("%s/test-child", dir);
	ck_assert_int_ge(fsutil_read(self, &data), 0);
	ck_assert_int_eq(fsutil_write_atomic(copy, data.buf, data.len), 0);
	ck_assert_int_eq(chmod(copy, 0755), 0);
	cmd[0] = copy;
	cmd[1] = (char *)"--self-replaced";
	cmd[2] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(copy, cmd);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "spawn_self() lost the program when its file was "
		      "replaced (status %d)", status);
	unlink(copy);
	rmdir(dir);
	free(copy);
	free(self);
	strbuf_release(&data);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	/* This binary is spawn_self_exe: it carries the trampoline. Both
	 * modes come before the suite is made (nothing to leak). */
	if (argc > 1 && spawn_is_trampoline(argv[1]))
		return spawn_trampoline(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "--self-replaced"))
		return self_replaced();
	s = suite_create("child");
	tc = tcase_create("child");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, direct_output_and_status);
	tcase_add_test(tc, self_survives_its_file_replaced);
	tcase_add_test(tc, stdin_pipe_writes);
	tcase_add_test(tc, failed_start_still_closes);
	tcase_add_test(tc, timeout_kills);
	tcase_add_test(tc, silence_kills);
	tcase_add_test(tc, output_rearms_silence);
	tcase_add_test(tc, kill_after_kills_once);
	tcase_add_test(tc, exec_group_goes_with_it);
	tcase_add_test(tc, kill_takes_the_group);
	tcase_add_test(tc, group_marks_and_statuses);
	tcase_add_test(tc, group_stop_is_graceful);
	tcase_add_test(tc, cwd_env_fds);
	tcase_add_test(tc, secrets_and_fds_stay_home);
	tcase_add_test(tc, restart_from_on_closed);
	tcase_add_test(tc, trampoline_codes);
	tcase_add_test(tc, nonces_never_repeat);
	tcase_add_test(tc, sigwatch_catches_then_closes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
