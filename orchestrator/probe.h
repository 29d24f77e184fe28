/*
 * probe: host capabilities that cells can require. Each is probed at most
 * once per host boot (cached under $HVMATRIX_CACHE, else
 * $XDG_CACHE_HOME/hvmatrix, else ~/.cache/hvmatrix). A missing capability
 * makes a cell SKIP with the reason: a probe must never turn into a
 * kernel's FAIL.
 */
#ifndef HVM_PROBE_H
#define HVM_PROBE_H

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

#endif
