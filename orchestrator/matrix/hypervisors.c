/*
 * hypervisors: the release catalogue (see hypervisors.h). Everything here
 * is synchronous: a manifest read, a `--version` or a `-machine help`
 * (once per binary, then a cached file; a failure once per host boot),
 * which can take QEMU's whole timeout. Callers on a loop use only the
 * cached answers (hypervisors_machines_cached, and matrix loads after
 * hypervisors_check_cached_only); the asking is the precheck's, on the
 * thread pool (boot/probe.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/child.h"
#include "matrix/cell.h"
#include "lib/fsutil.h"
#include "matrix/hypervisors.h"
#include "lib/paths.h"
#include "lib/spawn.h"
#include "lib/timeutil.h"
#include "lib/xmalloc.h"

extern char **environ;

#define RUN_TIMEOUT_MS 20000

const char *hypervisors_dir(void)
{
	const char *env = getenv("HVMATRIX_HYPERVISORS_DIR");

	return env && *env ? env : paths_cache_dir();
}

int hypervisors_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10);
		long y = strtol(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!*a != !*b)
			return *a ? 1 : -1;
	}
	return 0;
}

int hypervisors_is_release(const char *name)
{
	const char *p = name;
	int dots = 0;

	if (!name || !isdigit((unsigned char)*p))
		return 0;
	for (; *p; p++) {
		if (*p == '.') {
			if (!isdigit((unsigned char)p[1]))
				return 0;
			dots++;
		} else if (!isdigit((unsigned char)*p)) {
			return 0;
		}
	}
	return dots > 0;
}

void hypervisors_release_clear(struct hypervisors_release *r)
{
	size_t i;

	free(r->kind);
	free(r->version);
	free(r->suite);
	free(r->package);
	free(r->dir);
	free(r->binary);
	free(r->loader);
	free(r->library_path);
	free(r->module_dir);
	for (i = 0; i < r->n_firmware; i++)
		free(r->firmware[i]);
	free(r->firmware);
	free(r->sha256);
	for (i = 0; i < r->n_debs; i++) {
		free(r->debs[i].name);
		free(r->debs[i].version);
		free(r->debs[i].sha256);
	}
	free(r->debs);
	memset(r, 0, sizeof(*r));
}

/* "a:b" relative to dir -> "DIR/a:DIR/b" (absolute parts kept). */
static char *absolute_list(const char *dir, const char *v)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = v;

	while (*p) {
		size_t len = strcspn(p, ":");

		if (sb.len)
			strbuf_addch(&sb, ':');
		if (*p != '/')
			strbuf_addf(&sb, "%s/", dir);
		strbuf_add(&sb, p, len);
		p += len;
		if (*p == ':')
			p++;
	}
	return strbuf_detach(&sb, NULL);
}

static int set_once(char **field, const char *key, char *value,
		    unsigned line, struct strbuf *err)
{
	if (*field) {
		strbuf_addf(err, "manifest line %u: %s given twice", line, key);
		free(value);
		return -1;
	}
	*field = value;
	return 0;
}

static int parse_deb(struct hypervisors_release *r, const char *v,
		     unsigned line,
		     struct strbuf *err)
{
	const char *a = v, *b, *c;
	struct hypervisors_deb *d;

	b = strchr(a, ' ');
	c = b ? strchr(b + 1, ' ') : NULL;
	if (!b || !c || b == a || c == b + 1 || !c[1] || strchr(c + 1, ' ')) {
		strbuf_addf(err, "manifest line %u: deb: expected NAME "
			    "VERSION SHA256, got \"%s\"", line, v);
		return -1;
	}
	r->debs = xrealloc(r->debs, (r->n_debs + 1) * sizeof(*r->debs));
	d = &r->debs[r->n_debs++];
	d->name = xstrndup(a, (size_t)(b - a));
	d->version = xstrndup(b + 1, (size_t)(c - b - 1));
	d->sha256 = xstrdup(c + 1);
	return 0;
}

static int parse_line(struct hypervisors_release *r, const char *dir, char *key,
		      const char *v, unsigned line, struct strbuf *err)
{
	if (!strcmp(key, "kind")) {
		if (strcmp(v, "qemu") && strcmp(v, "xen")) {
			strbuf_addf(err, "manifest line %u: kind: expected "
				    "qemu or xen, got \"%s\"", line, v);
			return -1;
		}
		return set_once(&r->kind, key, xstrdup(v), line, err);
	}
	if (!strcmp(key, "version"))
		return set_once(&r->version, key, xstrdup(v), line, err);
	if (!strcmp(key, "suite"))
		return set_once(&r->suite, key, xstrdup(v), line, err);
	if (!strcmp(key, "package"))
		return set_once(&r->package, key, xstrdup(v), line, err);
	if (!strcmp(key, "sha256"))
		return set_once(&r->sha256, key, xstrdup(v), line, err);
	if (!strcmp(key, "binary"))
		return set_once(&r->binary, key, absolute_list(dir, v), line,
				err);
	if (!strcmp(key, "loader"))
		return set_once(&r->loader, key, absolute_list(dir, v), line,
				err);
	if (!strcmp(key, "library_path"))
		return set_once(&r->library_path, key, absolute_list(dir, v),
				line, err);
	if (!strcmp(key, "module_dir"))
		return set_once(&r->module_dir, key, absolute_list(dir, v),
				line, err);
	if (!strcmp(key, "firmware")) {
		char *all = absolute_list(dir, v), *p, *save = NULL;

		if (r->n_firmware) {
			free(all);
			strbuf_addf(err, "manifest line %u: firmware given "
				    "twice", line);
			return -1;
		}
		for (p = strtok_r(all, ":", &save); p;
		     p = strtok_r(NULL, ":", &save)) {
			r->firmware = xrealloc(r->firmware, (r->n_firmware + 1)
					       * sizeof(char *));
			r->firmware[r->n_firmware++] = xstrdup(p);
		}
		free(all);
		return 0;
	}
	if (!strcmp(key, "deb"))
		return parse_deb(r, v, line, err);
	/* Newer fetchers may record more: unknown keys are kept out. */
	return 0;
}

int hypervisors_manifest_parse(struct hypervisors_release *r, const char *dir,
			       const char *text, struct strbuf *err)
{
	const char *p = text;
	unsigned line = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->dir = xstrdup(dir);
	while (*p) {
		size_t len = strcspn(p, "\n");
		char *l = xstrndup(p, len), *sp;
		int rc = 0;

		line++;
		p += len;
		if (*p)
			p++;
		if (*l) {
			sp = strchr(l, ' ');
			if (!sp || sp == l || !sp[1]) {
				strbuf_addf(err, "manifest line %u: expected "
					    "\"KEY VALUE\", got \"%s\"", line,
					    l);
				rc = -1;
			} else {
				*sp = '\0';
				rc = parse_line(r, dir, l, sp + 1, line, err);
			}
		}
		free(l);
		if (rc)
			goto out;
	}
	if (!r->kind || !r->version || !r->package || !r->binary) {
		strbuf_addf(err, "manifest: missing %s", !r->kind ? "kind" :
			    !r->version ? "version" : !r->package ? "package" :
			    "binary");
		goto out;
	}
	ret = 0;
out:
	if (ret)
		hypervisors_release_clear(r);
	return ret;
}

static void chomp(struct strbuf *sb)
{
	while (sb->len && (sb->buf[sb->len - 1] == '\n' ||
			   sb->buf[sb->len - 1] == ' '))
		strbuf_setlen(sb, sb->len - 1);
}

/* images/xen/fetch-xen.sh's layout: xen.elf, version, complete. */
static int load_xen_build(struct hypervisors_release *r, const char *dir,
			  const char *version, struct strbuf *err)
{
	struct strbuf complete = STRBUF_INIT, ver = STRBUF_INIT;
	char *p = xstrfmt("%s/complete", dir), *s;
	int ret = -1;

	if (fsutil_read(p, &complete) < 0)
		goto out;
	free(p);
	p = xstrfmt("%s/version", dir);
	if (fsutil_read(p, &ver) < 0)
		strbuf_addstr(&ver, "unknown");
	chomp(&ver);
	memset(r, 0, sizeof(*r));
	r->kind = xstrdup("xen");
	r->version = xstrdup(version);
	r->package = strbuf_detach(&ver, NULL);
	r->dir = xstrdup(dir);
	r->binary = xstrfmt("%s/xen.elf", dir);
	s = strstr(complete.buf, "sha256 ");
	if (s)
		r->sha256 = xstrndup(s + 7, strcspn(s + 7, "\n"));
	ret = 0;
out:
	if (ret)
		strbuf_addf(err, "%s: no manifest", dir);
	free(p);
	strbuf_release(&complete);
	strbuf_release(&ver);
	return ret;
}

int hypervisors_load(struct hypervisors_release *r, const char *kind,
		     const char *version, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, msg = STRBUF_INIT;
	char *dir = xstrfmt("%s/%s/%s", hypervisors_dir(), kind, version);
	char *path = xstrfmt("%s/manifest", dir);
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (fsutil_read(path, &text) < 0) {
		if (!strcmp(kind, "xen") &&
		    !load_xen_build(r, dir, version, &msg)) {
			ret = 0;
			goto out;
		}
		strbuf_addf(err, "%s %s is not fetched (fetch it: %s %s "
			    "%s/%s)", kind, version, HYPERVISORS_FETCH,
			    hypervisors_dir(), kind, version);
		goto out;
	}
	if (hypervisors_manifest_parse(r, dir, text.buf, &msg)) {
		strbuf_addf(err, "%s: %s (fetch it again: %s %s %s/%s)", path,
			    msg.buf, HYPERVISORS_FETCH, hypervisors_dir(),
			    kind, version);
		goto out;
	}
	if (strcmp(r->kind, kind) || strcmp(r->version, version)) {
		strbuf_addf(err, "%s: says %s %s, expected %s %s", path,
			    r->kind, r->version, kind, version);
		hypervisors_release_clear(r);
		goto out;
	}
	ret = 0;
out:
	free(dir);
	free(path);
	strbuf_release(&text);
	strbuf_release(&msg);
	return ret;
}

/* Versions in numeric order: 4.9 < 4.14 < 10.0. */
char **hypervisors_qemu_argv(const struct hypervisors_release *r, size_t *n)
{
	char **argv = xcalloc(8 + 2 * r->n_firmware, sizeof(char *));
	size_t i, k = 0;

	if (r->loader) {
		argv[k++] = xstrdup(r->loader);
		if (r->library_path) {
			argv[k++] = xstrdup("--library-path");
			argv[k++] = xstrdup(r->library_path);
		}
	}
	argv[k++] = xstrdup(r->binary);
	for (i = 0; i < r->n_firmware; i++) {
		argv[k++] = xstrdup("-L");
		argv[k++] = xstrdup(r->firmware[i]);
	}
	argv[k] = NULL;
	*n = k;
	return argv;
}

char **hypervisors_qemu_env(const struct hypervisors_release *r)
{
	size_t n = 0, k = 0, i;
	char **env;
	int lib = r->library_path && !r->loader;

	while (environ[n])
		n++;
	env = xcalloc(n + 3, sizeof(char *));
	for (i = 0; i < n; i++) {
		/* Ours replace the caller's: a host's own LD_LIBRARY_PATH
		 * or module dir would mix two releases' files. */
		if ((r->module_dir && !strncmp(environ[i], "QEMU_MODULE_DIR=",
					       16)) ||
		    (lib && !strncmp(environ[i], "LD_LIBRARY_PATH=", 16)) ||
		    !child_env_allowed(environ[i]))
			continue;
		env[k++] = xstrdup(environ[i]);
	}
	if (r->module_dir)
		env[k++] = xstrfmt("QEMU_MODULE_DIR=%s", r->module_dir);
	if (lib)
		env[k++] = xstrfmt("LD_LIBRARY_PATH=%s", r->library_path);
	env[k] = NULL;
	return env;
}

/*
 * Run argv (env) to its end with input on its stdin (NULL: /dev/null),
 * stdout and stderr in out, killed after RUN_TIMEOUT_MS. Its exit status,
 * or -1 (err) when it could not run or was killed.
 */
static int run_capture(char **argv, char **env, const char *input,
		       struct strbuf *out, struct strbuf *err)
{
	int fds[2], in = -1, status = 0, ret = -1;
	double deadline = timeutil_now() + RUN_TIMEOUT_MS / 1000.0;
	pid_t pid;

	/* The input from a file, not a pipe: a child that exits without
	 * reading it cannot SIGPIPE us (the daemon). */
	if (input) {
		in = memfd_create("hvmatrix-input", MFD_CLOEXEC);
		if (in < 0 || fsutil_write_all(in, input, strlen(input)) < 0 ||
		    lseek(in, 0, SEEK_SET) < 0) {
			strbuf_addf(err, "input file: %s", strerror(errno));
			if (in >= 0)
				close(in);
			return -1;
		}
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		strbuf_addf(err, "pipe: %s", strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		strbuf_addf(err, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		if (in >= 0)
			close(in);
		return -1;
	}
	if (!pid) {
		int fd0 = input ? in : open("/dev/null", O_RDONLY);

		/* The daemon ignores SIGPIPE; its children do not. */
		signal(SIGPIPE, SIG_DFL);
		if (fd0 >= 0)
			dup2(fd0, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		spawn_close_from(3);
		execve(argv[0], argv, env);
		fprintf(stderr, "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (in >= 0)
		close(in);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		double left = deadline - timeutil_now();
		char buf[4096];
		ssize_t got;

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0) {
			kill(pid, SIGKILL);
			strbuf_addf(err, "%s did not finish in %d s", argv[0],
				    RUN_TIMEOUT_MS / 1000);
			goto reap;
		}
		got = read(fds[0], buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		strbuf_add(out, buf, (size_t)got);
	}
	ret = 0;
reap:
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret)
		return -1;
	if (WIFSIGNALED(status)) {
		strbuf_addf(err, "%s died of signal %d", argv[0],
			    WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* The last line of QEMU's output that says something: its error. */
static void add_last_line(struct strbuf *err, const char *out)
{
	const char *end = out + strlen(out), *start;

	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > out && start[-1] != '\n')
		start--;
	strbuf_add(err, start, (size_t)(end - start > 300 ? 300 :
					end - start));
}

/* Run the QEMU release with args (NULL-terminated); output in out. */
static int run_qemu(const struct hypervisors_release *r,
		    const char *const *args,
		    const char *input, struct strbuf *out, struct strbuf *err)
{
	size_t n, i;
	char **argv = hypervisors_qemu_argv(r, &n);
	char **env = hypervisors_qemu_env(r);
	int rc;

	for (i = 0; args[i]; i++)
		;
	argv = xrealloc(argv, (n + i + 1) * sizeof(char *));
	for (i = 0; args[i]; i++)
		argv[n++] = xstrdup(args[i]);
	argv[n] = NULL;
	rc = run_capture(argv, env, input, out, err);
	if (rc > 0) {
		strbuf_addf(err, "%s %s exits %d: ", r->binary, args[0], rc);
		add_last_line(err, out->buf);
		rc = -1;
	}
	spawn_argv_free(argv);
	spawn_argv_free(env);
	return rc;
}

/*
 * Start its accelerator for real (TCG: the modules it needs load only
 * then) on an empty machine, and quit through the monitor.
 */
static int qemu_starts(const struct hypervisors_release *r, struct strbuf *err)
{
	static const char *const args[] = {
		"-machine", "none", "-accel", "tcg", "-display", "none",
		"-nodefaults", "-monitor", "stdio", NULL,
	};
	struct strbuf out = STRBUF_INIT;
	int rc = run_qemu(r, args, "quit\n", &out, err);

	strbuf_release(&out);
	return rc ? -1 : 0;
}

int hypervisors_starts(const struct hypervisors_release *r,
		       struct strbuf *reason)
{
	static const char *const version_args[] = { "--version", NULL };
	struct strbuf out = STRBUF_INIT;
	struct stat st;
	int ok = 0;

	if (stat(r->binary, &st) < 0) {
		strbuf_addf(reason, "%s: %s", r->binary, strerror(errno));
		goto out;
	}
	if (!strcmp(r->kind, "xen")) {
		int fd = open(r->binary, O_RDONLY | O_CLOEXEC);
		char magic[4];

		ok = fd >= 0 && read(fd, magic, 4) == 4 &&
		     !memcmp(magic, "\177ELF", 4);
		if (fd >= 0)
			close(fd);
		if (!ok)
			strbuf_addf(reason, "%s is not an ELF image",
				    r->binary);
		goto out;
	}
	if (run_qemu(r, version_args, NULL, &out, reason))
		goto out;
	if (!strstr(out.buf, "QEMU emulator version ")) {
		strbuf_addf(reason, "%s --version does not say \"QEMU emulator"
			    " version\": %.200s", r->binary, out.buf);
		goto out;
	}
	ok = !qemu_starts(r, reason);
out:
	strbuf_release(&out);
	return ok;
}

void hypervisors_machines_parse(const char *help, struct strbuf *out)
{
	const char *p = help;

	while (*p) {
		size_t len = strcspn(p, "\n"), w = strcspn(p, " \t\n");

		/* "Supported machines are:" is the header. */
		if (w && w < len && strncmp(p, "Supported", 9)) {
			strbuf_add(out, p, w);
			strbuf_addch(out, '\n');
		}
		p += len;
		if (*p)
			p++;
	}
}

int hypervisors_has_machine(const char *list, const char *machine)
{
	/* "pc,vmport=on": the type is the first word, options follow. */
	size_t m = strcspn(machine, ",");
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, "\n");

		if (len == m && !strncmp(p, machine, m))
			return 1;
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

/* The host's boot id (a failure's cache key), or NULL. */
static char *host_boot_id(void)
{
	struct strbuf sb = STRBUF_INIT;

	if (fsutil_read("/proc/sys/kernel/random/boot_id", &sb) < 0 ||
	    !sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	while (sb.len && sb.buf[sb.len - 1] == '\n')
		strbuf_setlen(&sb, sb.len - 1);
	return strbuf_detach(&sb, NULL);
}

/* CACHE/qemu-machines/SHA256 (suffix ".failed": a failure), or NULL. */
static char *machines_path(const struct hypervisors_release *r,
			   const char *suffix)
{
	if (!r->sha256 || strspn(r->sha256, "0123456789abcdef") != 64 ||
	    r->sha256[64])
		return NULL;
	return xstrfmt("%s/qemu-machines/%s%s", hypervisors_dir(),
		       r->sha256, suffix);
}

int hypervisors_machines_cached(const struct hypervisors_release *r,
				struct strbuf *out, struct strbuf *err)
{
	char *path = machines_path(r, "");
	char *failed = machines_path(r, ".failed");
	struct strbuf text = STRBUF_INIT;
	char *id = NULL, *nl;
	int ret = 0;

	if (!path)
		goto out;
	if (!fsutil_read(path, out) && out->len) {
		ret = 1;
		goto out;
	}
	strbuf_reset(out);
	/* "BOOT_ID\nREASON": a failure holds until the host reboots. */
	if (fsutil_read(failed, &text) < 0 || !(id = host_boot_id()) ||
	    !(nl = strchr(text.buf, '\n')) ||
	    (size_t)(nl - text.buf) != strlen(id) ||
	    strncmp(text.buf, id, strlen(id)))
		goto out;
	strbuf_addstr(err, nl + 1);
	ret = -1;
out:
	free(id);
	free(path);
	free(failed);
	strbuf_release(&text);
	return ret;
}

/* The cache is only a shortcut: failing to write it is no error. */
static void machines_put(const struct hypervisors_release *r,
			 const char *suffix, const char *text, size_t len)
{
	char *path = machines_path(r, suffix);
	char *dir = xstrfmt("%s/qemu-machines", hypervisors_dir());

	if (path && !fsutil_mkdir_p(dir, 0755))
		fsutil_write_atomic(path, text, len);
	free(path);
	free(dir);
}

int hypervisors_machines(const struct hypervisors_release *r,
			 struct strbuf *out,
			 struct strbuf *err)
{
	static const char *const help_args[] = { "-machine", "help", NULL };
	struct strbuf help = STRBUF_INIT, why = STRBUF_INIT;
	int rc = hypervisors_machines_cached(r, out, err), ret = -1;
	char *id;

	if (rc)
		return rc > 0 ? 0 : -1;
	/* Cached only once it started: a cached list means it runs. */
	if (qemu_starts(r, &why) || run_qemu(r, help_args, NULL, &help, &why))
		goto fail;
	hypervisors_machines_parse(help.buf, out);
	if (!out->len) {
		strbuf_addf(&why, "%s -machine help lists no machine types",
			    r->binary);
		goto fail;
	}
	machines_put(r, "", out->buf, out->len);
	ret = 0;
	goto out;
fail:
	/* Asked once per host boot, not once per run (each ask may take
	 * QEMU's whole timeout). */
	if ((id = host_boot_id())) {
		char *text = xstrfmt("%s\n%s", id, why.buf);

		machines_put(r, ".failed", text, strlen(text));
		free(text);
		free(id);
	}
	strbuf_add(err, why.buf, why.len);
out:
	strbuf_release(&help);
	strbuf_release(&why);
	return ret;
}
