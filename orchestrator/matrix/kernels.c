/*
 * kernels: the kernel release catalogue (kernels.h): manifests read, never
 * written; the fetcher (images/kernels/fetch-releases.sh) writes them
 * last, so a directory with one is complete.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/kernels.h"
#include "matrix/hypervisors.h"
#include "lib/fsutil.h"
#include "lib/paths.h"
#include "lib/xmalloc.h"

char *kernels_dir(void)
{
	const char *env = getenv("HVMATRIX_KERNELS_DIR");

	if (env && *env)
		return xstrdup(env);
	return xstrfmt("%s/kernels", paths_cache_dir());
}

static int hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int set_key(struct kernels_release *k, const char *dir,
		   const char *key, const char *v, unsigned line,
		   struct strbuf *err)
{
	char **slot = !strcmp(key, "release") ? &k->release :
		      !strcmp(key, "package") ? &k->package :
		      !strcmp(key, "version") ? &k->version :
		      !strcmp(key, "sha256") ? &k->sha256 : NULL;

	const char *c;

	/* What a manifest says is printed to terminals and pages. */
	for (c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			strbuf_addf(err, "manifest line %u: a control "
				    "character in %s", line, key);
			return -1;
		}
	if (!strcmp(key, "path")) {
		/* Relative to its directory, and inside it. */
		if (v[0] == '/' || strstr(v, "..")) {
			strbuf_addf(err, "manifest line %u: path must be "
				    "inside the release's directory, got "
				    "\"%s\"", line, v);
			return -1;
		}
		free(k->path);
		k->path = xstrfmt("%s/%s", dir, v);
		return 0;
	}
	if (!slot)
		return 0;	/* suite, deb: for people */
	if (slot == &k->sha256 && !hex64(v)) {
		strbuf_addf(err, "manifest line %u: sha256 must be 64 hex "
			    "digits, got \"%s\"", line, v);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(v);
	return 0;
}

int kernels_manifest_parse(struct kernels_release *k, const char *dir,
			   const char *text, struct strbuf *err)
{
	const char *p = text;
	unsigned line = 0;
	int rc = 0;

	memset(k, 0, sizeof(*k));
	while (*p && !rc) {
		size_t len = strcspn(p, "\n");
		char *l = xstrndup(p, len), *sp;

		line++;
		p += len + (p[len] ? 1 : 0);
		if (*l) {
			sp = strchr(l, ' ');
			if (!sp || sp == l || !sp[1]) {
				strbuf_addf(err, "manifest line %u: expected "
					    "\"KEY VALUE\", got \"%s\"", line,
					    l);
				rc = -1;
			} else {
				*sp = '\0';
				rc = set_key(k, dir, l, sp + 1, line, err);
			}
		}
		free(l);
	}
	if (!rc && (!k->release || !k->package || !k->version || !k->path ||
		    !k->sha256)) {
		strbuf_addf(err, "manifest: missing %s", !k->release ?
			    "release" : !k->package ? "package" : !k->version ?
			    "version" : !k->path ? "path" : "sha256");
		rc = -1;
	}
	if (rc)
		kernels_release_clear(k);
	return rc;
}

int kernels_load(struct kernels_release *k, const char *rel,
		 struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, msg = STRBUF_INIT;
	char *root = kernels_dir();
	char *dir = xstrfmt("%s/%s", root, rel);
	char *path = xstrfmt("%s/manifest", dir);
	int ret = -1;

	memset(k, 0, sizeof(*k));
	if (fsutil_read(path, &text) < 0) {
		strbuf_addf(err, "kernel %s is not fetched (fetch it: %s %s "
			    "%s)", rel, KERNELS_FETCH, paths_cache_dir(), rel);
		goto out;
	}
	if (kernels_manifest_parse(k, dir, text.buf, &msg)) {
		strbuf_addf(err, "%s: %s (fetch it again: remove %s, then "
			    "%s %s %s)", path, msg.buf, dir, KERNELS_FETCH,
			    paths_cache_dir(), rel);
		goto out;
	}
	if (strcmp(k->release, rel)) {
		strbuf_addf(err, "%s: says release %s, expected %s", path,
			    k->release, rel);
		kernels_release_clear(k);
		goto out;
	}
	ret = 0;
out:
	free(root);
	free(dir);
	free(path);
	strbuf_release(&text);
	strbuf_release(&msg);
	return ret;
}

static int by_release(const void *a, const void *b)
{
	const struct kernels_release *x = a, *y = b;

	return hypervisors_version_cmp(x->release, y->release);
}

void kernels_list(struct kernels_release **out, size_t *n,
		  struct strbuf *err)
{
	struct kernels_release *v = NULL;
	size_t nr = 0, alloc = 0;
	char *root = kernels_dir();
	struct dirent *de;
	DIR *d = opendir(root);

	*out = NULL;
	*n = 0;
	while (d && (de = readdir(d))) {
		struct kernels_release k;

		if (de->d_name[0] == '.')
			continue;	/* ., .., a fetch under way */
		if (kernels_load(&k, de->d_name, err)) {
			strbuf_addch(err, '\n');
			continue;
		}
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = k;
	}
	if (d)
		closedir(d);
	free(root);
	if (nr)
		qsort(v, nr, sizeof(*v), by_release);
	*out = v;
	*n = nr;
}

void kernels_release_clear(struct kernels_release *k)
{
	free(k->release);
	free(k->package);
	free(k->version);
	free(k->path);
	free(k->sha256);
	memset(k, 0, sizeof(*k));
}

void kernels_list_free(struct kernels_release *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kernels_release_clear(&k[i]);
	free(k);
}
