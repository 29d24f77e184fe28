/*
 * paths: see paths.h. The one module that knows the configured install
 * directories (HVM_PKGDATADIR, HVM_SYSCONFDIR, HVM_LOCALSTATEDIR) and the
 * build tree's (HVM_DATADIR: the sources, HVM_BUILDDIR: make's output).
 * Everything else asks here, and never names the source tree itself.
 *
 * The layout is decided once per process from /proc/self/exe: a program
 * in the top build directory (hvmatrix) or below its orchestrator/ (the
 * test programs) uses the build tree. A prefix inside the build
 * directory still counts as installed: its bin/ is neither of those.
 *
 * Installed and run by systemd with CacheDirectory=, the cache is the
 * one systemd made ($CACHE_DIRECTORY), whatever --localstatedir said.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/paths.h"
#include "lib/xmalloc.h"

static pthread_once_t paths_once = PTHREAD_ONCE_INIT;
static int in_build_tree;
static char *cache_dir, *xen_dir;	/* set once, never freed */

static void paths_decide(void)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *top = realpath(HVM_BUILDDIR, NULL);
	const char *systemd = getenv("CACHE_DIRECTORY");
	size_t n = top ? strlen(top) : 0;

	if (exe && top && !strncmp(exe, top, n) && exe[n] == '/') {
		const char *rest = exe + n + 1;

		in_build_tree = !strchr(rest, '/') ||
				!strncmp(rest, "orchestrator/", 13);
	}
	if (in_build_tree)
		cache_dir = xstrdup(HVM_BUILDDIR "/cache");
	else if (systemd && *systemd)	/* "DIR" or "DIR:DIR..." */
		cache_dir = xstrndup(systemd, strcspn(systemd, ":"));
	else
		cache_dir = xstrdup(HVM_LOCALSTATEDIR "/cache/hvmatrix");
	xen_dir = xstrfmt("%s/xen", cache_dir);
	free(exe);
	free(top);
}

int paths_in_build_tree(void)
{
	pthread_once(&paths_once, paths_decide);
	return in_build_tree;
}

/* Literals, or strings set once: nothing to free, safe from any thread. */
#define PICK(build, installed) \
	(paths_in_build_tree() ? (build) : (installed))

const char *paths_data_dir(void)
{
	return PICK(HVM_DATADIR, HVM_PKGDATADIR);
}

const char *paths_web_dir(void)
{
	return PICK(HVM_DATADIR "/web", HVM_PKGDATADIR "/web");
}

const char *paths_payload(void)
{
	return PICK(HVM_BUILDDIR "/images/payload.cpio.gz",
		    HVM_PKGDATADIR "/images/payload.cpio.gz");
}

const char *paths_cache_dir(void)
{
	pthread_once(&paths_once, paths_decide);
	return cache_dir;
}

const char *paths_xen_dir(void)
{
	pthread_once(&paths_once, paths_decide);
	return xen_dir;
}

const char *paths_default_matrix(void)
{
	return PICK(HVM_DATADIR "/matrices/default.yaml",
		    HVM_SYSCONFDIR "/hvmatrix/matrix.yaml");
}
