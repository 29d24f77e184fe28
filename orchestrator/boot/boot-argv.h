/*
 * boot-argv: QEMU's command line for a cell, and the QEMU release a cell
 * may name (its binary, loader, firmware and environment). What it builds
 * is what users see (--dry-run, the store, the reproducers) and what
 * runs: the spawn-time additions (the trampoline, boot-ram's memory
 * backend) are never part of it.
 */
#ifndef HVM_BOOT_ARGV_H
#define HVM_BOOT_ARGV_H

#include "matrix/cell.h"

struct boot_run;

/*
 * QEMU's argv for a cell (NULL-terminated; free with spawn_argv_free).
 * xen_elf: for backend xen, the Xen ELF QEMU boots, the kernel and initrd
 * becoming its dom0 modules; NULL otherwise.
 */
char **boot_argv_qemu(const struct cell *c, const char *kernel,
		      const char *initrd, const char *nonce,
		      const char *xen_elf);

/*
 * The kernel command line's words that ask the payload for the cell's
 * probes (" hvmatrix.probes=smp+clock hvmatrix.cpus=2"), "" when it runs
 * none. Free it.
 */
char *boot_argv_probe_words(const struct cell *c);

/*
 * A cell naming a QEMU release ("10.0"): r's qemu_prefix, env and
 * qemu_version, or its verdict decided (ERROR: not fetched, or no such
 * machine type; SKIP: the release cannot start on this host). Nothing for
 * a cell naming a binary, or a run decided already.
 */
void boot_argv_resolve_release(struct boot_run *r, const struct cell *c);

/* argv with argv[0] (the cell's qemu) replaced by r's release's words;
 * argv itself when r names no release. Takes argv. */
char **boot_argv_with_release(const struct boot_run *r, char **argv);

#endif
