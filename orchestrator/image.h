/*
 * image: what cells boot besides the kernel under test (Xen builds for
 * now). Resolves names to files made by the images/ recipes and refuses
 * anything incomplete: a half-written image is never booted.
 */
#ifndef HVM_IMAGE_H
#define HVM_IMAGE_H

#include "strbuf.h"

/* Where named Xen builds live: $HVMATRIX_XEN_DIR, else the build's
 * cache/xen (filled by images/xen/fetch-xen.sh). */
const char *image_xen_dir(void);

/*
 * Resolve a cell's `xen` setting (a build name, or a path to a Xen ELF)
 * to the ELF QEMU boots and the version it states. 0, or -1 with a
 * message saying how to get the build.
 */
int image_xen(const char *xen, char **elf, char **version,
	      struct strbuf *err);

#endif
