/*
 * image: resolve images by name. A named Xen build is a directory made by
 * images/xen/fetch-xen.sh, renamed into place only when complete; its
 * `complete` file states xen.elf's size, checked here on every use (the
 * script re-checks the sha256 each time setup runs). A libxl cell's dom0
 * image is its Xen release's (images/xen/build-dom0.sh --release R):
 * another release's toolstack cannot drive that hypervisor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "boot/image.h"
#include "lib/paths.h"
#include "lib/xmalloc.h"

const char *image_xen_dir(void)
{
	const char *env = getenv("HVMATRIX_XEN_DIR");

	return env && *env ? env : paths_xen_dir();
}

static int is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = fd >= 0 && read(fd, magic, 4) == 4 &&
		  !memcmp(magic, "\177ELF", 4);

	if (fd >= 0)
		close(fd);
	return ret;
}

static void chomp(struct strbuf *sb)
{
	while (sb->len && (sb->buf[sb->len - 1] == '\n' ||
			   sb->buf[sb->len - 1] == ' '))
		strbuf_setlen(sb, sb->len - 1);
}

int image_xen(const char *xen, char **elf, char **version,
	      struct strbuf *err)
{
	struct strbuf complete = STRBUF_INIT, ver = STRBUF_INIT;
	char *dir = NULL, *path = NULL, *p;
	struct stat st;
	long long size;
	int ret = -1;

	*elf = *version = NULL;
	if (strchr(xen, '/')) {
		if (!is_elf(xen)) {
			strbuf_addf(err, "xen %s: not an uncompressed Xen ELF "
				    "(import it: images/xen/fetch-xen.sh DIR "
				    "%s)", xen, xen);
			goto out;
		}
		*elf = xstrdup(xen);
		*version = xstrdup("unknown");
		ret = 0;
		goto out;
	}
	dir = xstrfmt("%s/%s", image_xen_dir(), xen);
	path = xstrfmt("%s/xen.elf", dir);
	p = xstrfmt("%s/complete", dir);
	if (fsutil_read(p, &complete) < 0 || stat(path, &st) < 0) {
		strbuf_addf(err, "Xen build %s missing in %s (get it: "
			    "images/hypervisors/fetch-releases.sh %s/.. xen/%s,"
			    " or images/xen/fetch-xen.sh %s %s)", xen,
			    image_xen_dir(), image_xen_dir(), xen,
			    image_xen_dir(), xen);
		free(p);
		goto out;
	}
	free(p);
	p = strstr(complete.buf, "size ");
	size = p ? atoll(p + 5) : -1;
	if (size != (long long)st.st_size) {
		strbuf_addf(err, "Xen build %s in %s is incomplete (%lld bytes,"
			    " expected %lld): run images/xen/fetch-xen.sh "
			    "again", xen, dir, (long long)st.st_size, size);
		goto out;
	}
	p = xstrfmt("%s/version", dir);
	if (fsutil_read(p, &ver) < 0)
		strbuf_addstr(&ver, "unknown");
	free(p);
	chomp(&ver);
	*elf = path;
	path = NULL;
	*version = strbuf_detach(&ver, NULL);
	ret = 0;
out:
	free(dir);
	free(path);
	strbuf_release(&complete);
	strbuf_release(&ver);
	return ret;
}

static void cpio_pad(struct strbuf *out)
{
	while (out->len % 4)
		strbuf_addch(out, '\0');
}

void image_cpio_add(struct strbuf *out, const char *name, unsigned mode,
		    const void *data, size_t len)
{
	static unsigned ino = 1;
	size_t namesize = strlen(name) + 1;

	/* newc: magic then 13 fields of 8 hex digits. */
	strbuf_addf(out, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X"
		    "%08zX%08X", ino++, mode, 0u, 0u, 1u, 0u, len, 0u, 0u, 0u,
		    0u, namesize, 0u);
	strbuf_add(out, name, namesize);
	cpio_pad(out);
	if (len)
		strbuf_add(out, data, len);
	cpio_pad(out);
}

void image_cpio_end(struct strbuf *out)
{
	image_cpio_add(out, "TRAILER!!!", 0, NULL, 0);
}

/* $env, else the first line of <the cache>/<file> (paths.h). */
static char *configured_path(const char *env, const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	const char *v = getenv(env);
	char *p;

	if (v && *v)
		return xstrdup(v);
	p = xstrfmt("%s/%s", paths_cache_dir(), file);
	if (fsutil_read(p, &sb) < 0) {
		free(p);
		strbuf_release(&sb);
		return NULL;
	}
	free(p);
	strbuf_setlen(&sb, strcspn(sb.buf, "\n"));
	return strbuf_detach(&sb, NULL);
}

/* The first line of path, or NULL. */
static char *first_line(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (fsutil_read(path, &sb) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	strbuf_setlen(&sb, strcspn(sb.buf, "\n"));
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

char *image_dom0_path(const char *cache_dir, const char *release)
{
	int legacy = !strcmp(release, IMAGE_DOM0_DEFAULT);
	char *env = xstrfmt("HVMATRIX_DOM0_%s", release), *p, *v;
	const char *e;

	/* Environment names cannot hold dots: 4.20 is HVMATRIX_DOM0_4_20. */
	for (p = env; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	e = getenv(env);
	free(env);
	if (e && *e)
		return xstrdup(e);
	/* Before images per release, 4.17's was the only one. */
	if (legacy && (e = getenv("HVMATRIX_DOM0")) && *e)
		return xstrdup(e);
	p = xstrfmt("%s/dom0-%s.path", cache_dir, release);
	v = first_line(p);
	free(p);
	if (!v && legacy) {
		p = xstrfmt("%s/dom0.path", cache_dir);
		v = first_line(p);
		free(p);
	}
	return v;
}

char *image_xen_release(const char *version, char *buf, size_t len)
{
	size_t n = 0;
	int dots = 0;

	/* digits "." digits, ended by the end or a non-digit */
	while (version && version[n] && dots < 2) {
		if (version[n] == '.')
			dots++;
		else if (version[n] < '0' || version[n] > '9')
			break;
		n++;
	}
	if (dots == 2)
		n--;
	if (!n || !dots || version[0] == '.' || version[n - 1] == '.') {
		snprintf(buf, len, "%s", IMAGE_DOM0_DEFAULT);
		return buf;
	}
	snprintf(buf, len, "%.*s", (int)n, version);
	return buf;
}

/* build-dom0.sh's IMAGE.cpio.gz's file IMAGE.ext beside it; NULL if the
 * image is not named so. */
static char *beside_image(const char *initrd, const char *ext)
{
	size_t n = strlen(initrd);

	if (n > 8 && !strcmp(initrd + n - 8, ".cpio.gz"))
		return xstrfmt("%.*s.%s", (int)(n - 8), initrd, ext);
	return NULL;
}

char *image_dom0_hvm(const char *initrd, struct strbuf *err)
{
	struct stat st;
	char *part = beside_image(initrd, "hvm.cpio.gz");

	if (!part)
		part = xstrfmt("%s.hvm.cpio.gz", initrd);
	if (stat(part, &st) == 0 && st.st_size)
		return part;
	strbuf_addf(err, "the dom0 image %s has no HVM part beside it "
		    "(%s), which HVM guests need: tools/setup.sh builds it "
		    "(images/xen/build-dom0.sh)", initrd, part);
	free(part);
	return NULL;
}

int image_dom0(const char *release, char **initrd, char **kernel,
	       struct strbuf *err)
{
	struct stat st;

	*initrd = image_dom0_path(paths_cache_dir(), release);
	*kernel = configured_path("HVMATRIX_DOM0_KERNEL", "debian-kernel.path");
	/* build-dom0.sh leaves dom0's kernel as a gzipped ELF beside the
	 * image: Xen builds dom0 from it in ~1 s instead of ~5 s. */
	if (*initrd && !getenv("HVMATRIX_DOM0_KERNEL")) {
		char *v = beside_image(*initrd, "vmlinux.gz");

		if (v && stat(v, &st) == 0 && st.st_size) {
			free(*kernel);
			*kernel = v;
		} else {
			free(v);
		}
	}
	if (!*initrd || stat(*initrd, &st) < 0 || !st.st_size) {
		strbuf_addf(err, "no dom0 image for Xen %s%s%s: tools/setup.sh "
			    "builds it (images/xen/build-dom0.sh --release "
			    "%s cache/xen . KERNEL_ROOT > "
			    "cache/dom0-%s.path)", release,
			    *initrd ? ", missing " : "",
			    *initrd ? *initrd : "", release, release);
		goto fail;
	}
	if (!*kernel || stat(*kernel, &st) < 0) {
		strbuf_addf(err, "dom0 kernel missing%s%s (tools/setup.sh "
			    "fetches Debian's)", *kernel ? ": " : "",
			    *kernel ? *kernel : "");
		goto fail;
	}
	return 0;
fail:
	free(*initrd);
	free(*kernel);
	*initrd = *kernel = NULL;
	return -1;
}
