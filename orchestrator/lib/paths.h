/*
 * paths: where hvmatrix finds what it did not get on its command line or
 * in the environment: web assets, the payload, the default matrix, the
 * cache (Xen builds, the dom0 image, Debian's kernel).
 *
 * Two layouts. Installed (make install): the directories configure was
 * given (--prefix, --sysconfdir, --localstatedir); the source tree is
 * never looked at, so a moved or deleted checkout changes nothing. In the
 * build tree (the binary, or a test program, runs from where make put
 * it): the source and build directories, so the tests and tools/demo.sh
 * work from a checkout without installing.
 */
#ifndef HVM_PATHS_H
#define HVM_PATHS_H

/* 1 when this program runs from its build tree, 0 when installed. */
int paths_in_build_tree(void);
/* Read-only data shipped with the sources: web/, results/, matrices/,
 * images/ scripts and configs (installed: $(pkgdatadir)). */
const char *paths_data_dir(void);
/* The dashboard's template and CSS: <data>/web. */
const char *paths_web_dir(void);
/* The test payload the build makes (installed:
 * $(pkgdatadir)/images/payload.cpio.gz). */
const char *paths_payload(void);
/* Shared artifacts: dom0.path, debian-kernel.path (installed:
 * $CACHE_DIRECTORY when systemd set it, else
 * $(localstatedir)/cache/hvmatrix). */
const char *paths_cache_dir(void);
/* Named Xen builds (images/xen/fetch-xen.sh): <cache>/xen. */
const char *paths_xen_dir(void);
/* The matrix used when none is named (installed:
 * $(sysconfdir)/hvmatrix/matrix.yaml). */
const char *paths_default_matrix(void);

#endif
