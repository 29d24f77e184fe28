/*
 * kernel: identify a kernel image. The id is libgit2's blob hash of the
 * file, the same id git would give it; the version comes from the setup
 * header (Documentation/arch/x86/boot.rst: "HdrS" at 0x202, the version
 * string's offset at 0x20e, relative to 0x200).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "build/kernel.h"
#include "lib/xmalloc.h"

static char *read_version(int fd)
{
	unsigned char hdr[0x210];
	char buf[256];
	uint16_t off;
	ssize_t n;
	size_t len;

	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr + 0x202, "HdrS", 4))
		return xstrdup("");
	off = (uint16_t)(hdr[0x20e] | hdr[0x20f] << 8);
	if (!off)
		return xstrdup("");
	n = pread(fd, buf, sizeof(buf) - 1, 0x200 + off);
	if (n <= 0)
		return xstrdup("");
	buf[n] = '\0';
	for (len = 0; len < (size_t)n && buf[len] >= 0x20 && buf[len] < 0x7f;
	     len++)
		;
	return xstrndup(buf, len);
}

int kernel_identify(struct kernel *k, const char *path, struct strbuf *err)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;
	char *abs = NULL;
	int fd = -1, ret = -1;

	memset(k, 0, sizeof(*k));
	abs = realpath(path, NULL);
	if (!abs) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = open(abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	git_libgit2_init();
	if (git_odb_hashfile(&oid, abs, GIT_OBJECT_BLOB) < 0) {
		const git_error *e = git_error_last();

		strbuf_addf(err, "%s: cannot hash: %s", path,
			    e ? e->message : "unknown error");
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &oid);
	k->path = abs;
	abs = NULL;
	k->id = xstrdup(hex);
	k->version = read_version(fd);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(abs);
	return ret;
}

void kernel_release(struct kernel *k)
{
	free(k->path);
	free(k->id);
	free(k->version);
	memset(k, 0, sizeof(*k));
}

void kernel_release_name(const char *version, struct strbuf *out)
{
	strbuf_add(out, version, strcspn(version, " "));
}
