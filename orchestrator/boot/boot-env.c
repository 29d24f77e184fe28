/*
 * boot-env: a cell's environment as digests (boot-env.h). The parts are
 * hashed in a fixed order with a label each, so that no two different
 * environments give the same stream of bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "boot/boot-env.h"
#include "boot/image.h"
#include "matrix/hypervisors.h"
#include "lib/xmalloc.h"

/* File digests by identity: the daemon asks for the same few files (a
 * QEMU, a dom0 image, the payload) for every cell of every commit. */
struct file_digest {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char hex[BOOT_ENV_HEX + 1];
};

static pthread_mutex_t digests_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file_digest *digests;
static size_t n_digests, digests_alloc;

static void to_hex(const unsigned char *md, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < BOOT_ENV_HEX / 2; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[BOOT_ENV_HEX] = '\0';
}

static int same_file(const struct file_digest *d, const struct stat *st)
{
	return d->dev == st->st_dev && d->ino == st->st_ino &&
	       d->size == st->st_size &&
	       d->mtime.tv_sec == st->st_mtim.tv_sec &&
	       d->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int cached_digest(const struct stat *st, char *hex)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&digests_lock);
	for (i = 0; i < n_digests && !found; i++)
		if (same_file(&digests[i], st)) {
			memcpy(hex, digests[i].hex, sizeof(digests[i].hex));
			found = 1;
		}
	pthread_mutex_unlock(&digests_lock);
	return found;
}

static void keep_digest(const struct stat *st, const char *hex)
{
	struct file_digest *d;

	pthread_mutex_lock(&digests_lock);
	ALLOC_GROW(digests, n_digests + 1, digests_alloc);
	d = &digests[n_digests++];
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->size = st->st_size;
	d->mtime = st->st_mtim;
	memcpy(d->hex, hex, sizeof(d->hex));
	pthread_mutex_unlock(&digests_lock);
}

/* The sha256 of a file's bytes as hex, or -1 naming it in err. */
static int file_digest(const char *path, char *hex, struct strbuf *err)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct stat st;
	EVP_MD_CTX *ctx;
	ssize_t got;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(err, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (cached_digest(&st, hex)) {
		close(fd);
		return 0;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		strbuf_addf(err, "cannot hash %s: no sha256", path);
		goto out;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	if (got < 0) {
		strbuf_addf(err, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	EVP_DigestFinal_ex(ctx, md, &md_len);
	to_hex(md, hex);
	keep_digest(&st, hex);
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ret;
}

/* A labelled part: "label\0" value "\0". */
static void add_part(EVP_MD_CTX *ctx, const char *label, const char *value)
{
	EVP_DigestUpdate(ctx, label, strlen(label) + 1);
	EVP_DigestUpdate(ctx, value, strlen(value) + 1);
}

static int add_file(EVP_MD_CTX *ctx, const char *label, const char *path,
		    struct strbuf *err)
{
	char hex[BOOT_ENV_HEX + 1];

	if (file_digest(path, hex, err))
		return -1;
	add_part(ctx, label, hex);
	return 0;
}

/* A release as fetched: its binary's and its packages' digests. */
static int add_release(EVP_MD_CTX *ctx, const char *kind,
		       const char *version, struct strbuf *err)
{
	struct hypervisors_release rel;
	size_t i;

	if (hypervisors_load(&rel, kind, version, err))
		return -1;
	add_part(ctx, kind, rel.version);
	add_part(ctx, "package", rel.package ? rel.package : "");
	if (rel.sha256)
		add_part(ctx, "binary", rel.sha256);
	else if (rel.binary && add_file(ctx, "binary", rel.binary, err)) {
		hypervisors_release_clear(&rel);
		return -1;
	}
	for (i = 0; i < rel.n_debs; i++) {
		add_part(ctx, "deb", rel.debs[i].name);
		add_part(ctx, "sha256", rel.debs[i].sha256 ?
			 rel.debs[i].sha256 : "");
	}
	hypervisors_release_clear(&rel);
	return 0;
}

/* A program as exec would find it: a path, or the first in $PATH (an
 * empty entry is the current directory). */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/'))
		return xstrdup(name);
	for (p = path ? path : "/usr/bin:/bin";; p = end + 1) {
		char *full;

		end = strchrnul(p, ':');
		full = end == p ? xstrfmt("./%s", name) :
		       xstrfmt("%.*s/%s", (int)(end - p), p, name);
		if (!access(full, X_OK))
			return full;
		free(full);
		if (!*end)
			return NULL;
	}
}

static int add_qemu(EVP_MD_CTX *ctx, const char *qemu, struct strbuf *err)
{
	char *path;
	int ret;

	if (hypervisors_is_release(qemu))
		return add_release(ctx, "qemu", qemu, err);
	path = find_program(qemu);
	if (!path) {
		strbuf_addf(err, "%s: not found in PATH", qemu);
		return -1;
	}
	ret = add_file(ctx, "qemu", path, err);
	free(path);
	return ret;
}

static int add_xen(EVP_MD_CTX *ctx, const struct cell *c, struct strbuf *err)
{
	char *elf = NULL, *version = NULL, *initrd = NULL, *kernel = NULL;
	char *hvm = NULL, rel[32];
	int ret = -1;

	if (image_xen(c->xen, &elf, &version, err) < 0)
		goto out;
	if (add_file(ctx, "xen", elf, err))
		goto out;
	if (c->backend == CELL_BACKEND_XEN_LIBXL) {
		image_xen_release(version, rel, sizeof(rel));
		if (image_dom0(rel, &initrd, &kernel, err) < 0 ||
		    add_file(ctx, "dom0-kernel", kernel, err) ||
		    add_file(ctx, "dom0", initrd, err))
			goto out;
		if (c->guest == CELL_GUEST_HVM &&
		    (!(hvm = image_dom0_hvm(initrd, err)) ||
		     add_file(ctx, "dom0-hvm", hvm, err)))
			goto out;
	}
	ret = 0;
out:
	free(elf);
	free(version);
	free(initrd);
	free(kernel);
	free(hvm);
	return ret;
}

static int hypervisor_digest(const struct cell *c, char *hex,
			     struct strbuf *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -1;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		strbuf_addstr(err, "cannot hash: no sha256");
		goto out;
	}
	if (c->qemu && add_qemu(ctx, c->qemu, err))
		goto out;
	if (cell_is_xen(c) && add_xen(ctx, c, err))
		goto out;
	if (c->migrate_to && add_release(ctx, "qemu", c->migrate_to, err))
		goto out;
	EVP_DigestFinal_ex(ctx, md, &md_len);
	to_hex(md, hex);
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int boot_env_key(const struct cell *c, const char *payload,
		 struct boot_env *env, struct strbuf *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct strbuf def = STRBUF_INIT;
	EVP_MD_CTX *ctx = NULL;
	int ret = -1;

	memset(env, 0, sizeof(*env));
	if (hypervisor_digest(c, env->hypervisor, err))
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		strbuf_addstr(err, "cannot hash: no sha256");
		goto out;
	}
	cell_format_json(c, &def);
	add_part(ctx, "cell", def.buf);
	add_part(ctx, "hypervisor", env->hypervisor);
	if (payload && add_file(ctx, "payload", payload, err))
		goto out;
	EVP_DigestFinal_ex(ctx, md, &md_len);
	to_hex(md, env->key);
	ret = 0;
out:
	if (ret)
		memset(env, 0, sizeof(*env));
	EVP_MD_CTX_free(ctx);
	strbuf_release(&def);
	return ret;
}
