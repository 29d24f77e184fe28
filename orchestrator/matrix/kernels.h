/*
 * kernels: the kernel release catalogue, beside the hypervisor one: the
 * released kernels images/kernels/fetch-releases.sh fetched from Debian's
 * archive into CACHE/kernels/RELEASE/ (a manifest: release, package,
 * version, path of the image, its sha256), which the matrix's web section
 * names by release. Read-only: it never fetches.
 */
#ifndef HVM_KERNELS_H
#define HVM_KERNELS_H

#include <stddef.h>

#include "lib/strbuf.h"

#define KERNELS_FETCH "images/kernels/fetch-releases.sh"

struct kernels_release {
	char *release;		/* "6.12" */
	char *package;		/* "linux-image-6.12.118+deb13-amd64-unsigned" */
	char *version;		/* Debian's version of the package */
	char *path;		/* the image, absolute */
	char *sha256;		/* of the image, as fetched (hex) */
};

/* The catalogue's root: $HVMATRIX_KERNELS_DIR, else CACHE/kernels. */
char *kernels_dir(void);
/* A manifest's text (dir: the release's directory). 0 or -1 + err. */
int kernels_manifest_parse(struct kernels_release *k, const char *dir,
			   const char *text, struct strbuf *err);
/* Release rel from the catalogue. 0, or -1 + err (not fetched, bad). */
int kernels_load(struct kernels_release *k, const char *rel,
		 struct strbuf *err);
/* Every fetched release, oldest (as versions) first; a bad manifest is
 * skipped, its message appended to err. */
void kernels_list(struct kernels_release **out, size_t *n,
		  struct strbuf *err);
void kernels_release_clear(struct kernels_release *k);
void kernels_list_free(struct kernels_release *k, size_t n);

#endif
