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

/*
 * Append one entry to a newc cpio archive in out (the format the kernel
 * unpacks into its initramfs; archives may be concatenated). mode is the
 * full st_mode (S_IFDIR | 0755, S_IFREG | 0644, ...).
 */
void image_cpio_add(struct strbuf *out, const char *name, unsigned mode,
		    const void *data, size_t len);
/* Close an archive with its TRAILER!!! entry. */
void image_cpio_end(struct strbuf *out);

/*
 * The dom0 for xen-libxl cells: its initramfs (images/xen/build-dom0.sh,
 * $HVMATRIX_DOM0, else the path recorded in the build's cache/dom0.path)
 * and its kernel (Debian's: $HVMATRIX_DOM0_KERNEL, else
 * cache/debian-kernel.path). 0, or -1 saying how to make them.
 */
int image_dom0(char **initrd, char **kernel, struct strbuf *err);
