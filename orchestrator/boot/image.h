/*
 * image: what cells boot besides the kernel under test (Xen builds for
 * now). Resolves names to files made by the images/ recipes and refuses
 * anything incomplete: a half-written image is never booted.
 */
#ifndef HVM_IMAGE_H
#define HVM_IMAGE_H

#include "lib/strbuf.h"

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
 * The dom0 for xen-libxl cells of Xen release (e.g. "4.20"): its
 * initramfs, whose toolstack is that release's (images/xen/build-dom0.sh
 * --release R), and its kernel (Debian's: $HVMATRIX_DOM0_KERNEL, else
 * cache/debian-kernel.path). 0, or -1 naming the command that builds
 * what is missing.
 */
int image_dom0(const char *release, char **initrd, char **kernel,
	       struct strbuf *err);

/*
 * The HVM part of the dom0 image initrd (images/xen/build-dom0.sh leaves
 * it beside the image as IMAGE%.cpio.gz.hvm.cpio.gz): the device model,
 * hvmloader and SeaBIOS, appended to the image only for groups with an
 * HVM guest. Its path, or NULL with err saying what is missing.
 */
char *image_dom0_hvm(const char *initrd, struct strbuf *err);

/* The release whose dom0 serves a cell whose Xen states version. */
#define IMAGE_DOM0_DEFAULT "4.17"

/*
 * Where release's dom0 image is configured, first found: the environment
 * ($HVMATRIX_DOM0_4_20 for "4.20"; for 4.17 also $HVMATRIX_DOM0, as
 * before releases), else the first line of cache_dir/dom0-4.20.path
 * (for 4.17 also cache_dir/dom0.path). NULL when none is. The path
 * returned is not checked.
 */
char *image_dom0_path(const char *cache_dir, const char *release);

/*
 * The release ("4.20") of a Xen build's stated version
 * ("4.20.4+63-g7abf-0+deb13u1", "4.17"): major.minor. A version that
 * does not start so ("unknown", an own build) is IMAGE_DOM0_DEFAULT's.
 * Writes at most len bytes to buf and returns buf.
 */
char *image_xen_release(const char *version, char *buf, size_t len);
