/*
 * probe: host capabilities that cells can require. Each is probed at most
 * once per host boot (cached under $HVMATRIX_CACHE, else
 * $XDG_CACHE_HOME/hvmatrix, else ~/.cache/hvmatrix). A missing capability
 * makes a cell SKIP with the reason: a probe must never turn into a
 * kernel's FAIL.
 */
#ifndef HVM_PROBE_H
#define HVM_PROBE_H

#include <stddef.h>
#include <uv.h>

#include "boot/boot.h"

/*
 * Does KVM work for `qemu` on this host? /dev/kvm must open read-write and
 * a short KVM boot of kernel + initrd (the test payload) must reach its
 * marker: on some hosts /dev/kvm exists but guests hang. The probe's
 * console log is kept beside the cached result, which the reason names.
 * Returns 1 if KVM works, 0 if not (*reason set, caller frees).
 */
int probe_kvm(const char *qemu, const char *kernel, const char *initrd,
	      char **reason);

/* The cache directory (caller frees). */
char *probe_cache_dir(void);

/*
 * Decide up front what cannot run: an unusable kernel (kernel_err not
 * NULL) or a missing payload is ERROR in every run, a cell needing KVM
 * where KVM does not work is SKIP with the probe's reason. KVM is probed
 * (with the first such cell's QEMU) only when a run needs it and the
 * cache has no answer for this host boot; "probing KVM (once per host
 * boot)..." and the answer go to stderr unless quiet, and only then.
 * Blocks for up to the probe's 40 s: for callers without a loop (the CLI).
 */
void probe_precheck(struct boot_run *runs, size_t n, const char *kernel,
		    const char *kernel_err, const char *initrd, int quiet);

/*
 * The same for a caller that runs a loop (the daemon): the probe, a
 * nested boot, runs in the loop's thread pool; the verdicts are set on
 * the loop thread, then done(data) is called there. Until then the
 * caller must neither start nor free the runs nor their cells (the
 * worker reads cell->qemu); the strings are copied. A signal that stops
 * boots (SIGINT, SIGTERM, SIGHUP) also ends the probe early, which then
 * proves nothing and is not cached. Returns 0, or a negative libuv error
 * (done is then never called and the runs are untouched).
 */
int probe_precheck_start(uv_loop_t *loop, struct boot_run *runs, size_t n,
			 const char *kernel, const char *kernel_err,
			 const char *initrd, int quiet,
			 void (*done)(void *data), void *data);

#endif
