/*
 * build-host: what a build needs of the host and leaves on it: the tools
 * (make, ccache, gcc) checked before anything starts, the compiler cache
 * every state directory shares, and the process groups of builds whose
 * hvmatrix died with their trampoline (see build.h).
 *
 * Nothing here may ever signal a process that is not provably a build
 * step of ours: a process group id is reused once its last member is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "build/build-priv.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"

static const struct {
	const char *prog, *package;
} host_tools[] = {
	{ "make", "make" },
	{ "ccache", "ccache" },
	{ "gcc", "gcc" },	/* the build's CC is "ccache gcc" */
};

/* Would execvp find prog? The same search: PATH, else its default. */
static int in_path(const char *prog)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;
	int found = 0;

	if (!path)
		path = "/bin:/usr/bin";
	for (p = path; !found; p = end + 1) {
		char *cand;

		end = strchrnul(p, ':');
		/* An empty entry is the working directory. */
		cand = end == p ? xstrfmt("./%s", prog) :
		       xstrfmt("%.*s/%s", (int)(end - p), p, prog);
		found = access(cand, X_OK) == 0 && stat(cand, &st) == 0 &&
			S_ISREG(st.st_mode);
		free(cand);
		if (!*end)
			break;
	}
	return found;
}

int build_host_check(struct strbuf *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(host_tools); i++) {
		if (in_path(host_tools[i].prog))
			continue;
		strbuf_addf(err, "build host: %s not found in PATH "
			    "(apt-get install %s)", host_tools[i].prog,
			    host_tools[i].package);
		return -1;
	}
	return 0;
}

char *build_host_absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	abs = xstrfmt("%s/%s", cwd, path);
	free(cwd);
	return abs;
}

int build_host_ccache_dir(const struct matrix_build *c, char **dir,
			  struct strbuf *err)
{
	const char *env = getenv("HVMATRIX_CCACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;

	*dir = NULL;
	if (env && *env)
		*dir = build_host_absolute(env);
	else if (c && c->ccache && *c->ccache)
		*dir = build_host_absolute(c->ccache);
	/* The XDG spec ignores a relative XDG_CACHE_HOME. */
	else if (xdg && xdg[0] == '/')
		*dir = xstrfmt("%s/hvmatrix/ccache", xdg);
	else {
		if ((!home || home[0] != '/') && (pw = getpwuid(getuid())))
			home = pw->pw_dir;
		if (home && home[0] == '/')
			*dir = xstrfmt("%s/.cache/hvmatrix/ccache", home);
	}
	if (!*dir) {
		strbuf_addstr(err, "build: no directory for the compiler "
			      "cache: set HVMATRIX_CCACHE");
		return -1;
	}
	return 0;
}

/* State and group of pid from /proc/PID/stat; -1 if it is gone. */
static int proc_stat(long pid, char *state, long *pgrp)
{
	struct strbuf sb = STRBUF_INIT;
	char path[64], *p;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (fsutil_read(path, &sb))
		goto out;
	/* "PID (COMM) STATE PPID PGRP ...": COMM may hold ") ". */
	p = strrchr(sb.buf, ')');
	if (p && sscanf(p + 1, " %c %*d %ld", state, pgrp) == 2)
		ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

static int proc_alive(long pid)
{
	char state;
	long pgrp;

	return pid > 0 && proc_stat(pid, &state, &pgrp) == 0 &&
	       state != 'Z' && state != 'X';
}

/*
 * Is pid a step of group pgid that nobody else owns? Its environment has
 * our mark for that very group, and the hvmatrix that started it is gone
 * (or is us). A hvmatrix still running owns its groups: left alone.
 */
static int is_ours(long pid, long pgid)
{
	struct strbuf sb = STRBUF_INIT;
	static const char key[] = SPAWN_GROUP_ENV "=";
	char path[64], *p, *end, *dot;
	long g, owner;
	int ours = 0;

	snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
	/* Someone else's process: not readable, not ours. */
	if (fsutil_read(path, &sb))
		goto out;
	for (p = sb.buf, end = sb.buf + sb.len; p < end; p += strlen(p) + 1) {
		if (strncmp(p, key, sizeof(key) - 1))
			continue;
		p += sizeof(key) - 1;
		g = strtol(p, &dot, 10);
		if (dot == p || *dot != '.' || g != pgid)
			break;
		owner = strtol(dot + 1, &p, 10);
		if (*p || owner <= 0)
			break;
		ours = owner == (long)getpid() || !proc_alive(owner);
		break;
	}
out:
	strbuf_release(&sb);
	return ours;
}

/*
 * The live members of group pgid: how many (*n), whether one is ours.
 * Zombies are gone already: they only wait for their parent.
 */
static int scan_group(long pgid, size_t *n, int *ours, struct strbuf *log)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char state, *end;
	long pid, pgrp;

	*n = 0;
	*ours = 0;
	if (!d) {
		strbuf_addf(log, "cannot read /proc: %s", strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		pid = strtol(e->d_name, &end, 10);
		if (pid <= 0 || *end || proc_stat(pid, &state, &pgrp) ||
		    pgrp != pgid || state == 'Z' || state == 'X')
			continue;
		(*n)++;
		if (!*ours)
			*ours = is_ours(pid, pgid);
	}
	closedir(d);
	return 0;
}

int build_host_kill_group(int pgid, struct strbuf *log)
{
	size_t n, killed = 0;
	int ours, waited;

	if (pgid <= 1 || pgid == (int)getpgrp()) {
		strbuf_addf(log, "build: %d is not a build's process group",
			    pgid);
		return -1;
	}
	if (scan_group(pgid, &n, &ours, log))
		return -1;
	/*
	 * One member with our mark is proof enough for the whole group: an
	 * id is reused only once its group is empty, and nothing outside
	 * the group's session can join it.
	 */
	if (n && !ours)
		strbuf_addf(log, "process group %d is not a build of ours "
			    "(now): left alone", pgid);
	if (!n || !ours)
		return 0;
	killed = n;
	for (waited = 0; waited <= BUILD_KILL_WAIT_MS; waited += 50) {
		/* Again each time: a fork may have raced the first. */
		if (kill(-pgid, SIGKILL) < 0 && errno == ESRCH)
			break;
		usleep(50 * 1000);
		if (scan_group(pgid, &n, &ours, log))
			return -1;
		if (!n)
			break;
		if (n > killed)
			killed = n;
	}
	if (n) {
		strbuf_addf(log, "build: %zu processes of process group %d "
			    "survived SIGKILL for %d ms", n, pgid,
			    BUILD_KILL_WAIT_MS);
		return -1;
	}
	strbuf_addf(log, "killed %zu processes of build process group %d "
		    "left by a previous hvmatrix", killed, pgid);
	return (int)killed;
}
