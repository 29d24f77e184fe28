/*
 * boot-ram: the guest's RAM in a memfd that hvmatrix keeps, so that after
 * a FAIL the kernel did not explain (Xen's "Hardware Dom0 crashed", the
 * silence watchdog) its own panic message can still be read from its log
 * buffer. A kernel that dies before it has read its command line (early
 * Xen PV setup) has no console at all, early or not; its log buffer still
 * holds the message.
 *
 * QEMU gets the memfd as fd 3 and maps it shared as the machine's memory
 * (memory-backend-file on /proc/self/fd/3). The memfd lives as long as
 * its holders: a killed daemon leaves no file behind. These arguments are
 * added at spawn time only: the command line shown to users (--dry-run,
 * the dashboard) is the one that reproduces the boot by hand.
 */
#ifndef HVM_BOOT_RAM_H
#define HVM_BOOT_RAM_H

#include <stddef.h>

#define BOOT_RAM_FD 3		/* where the child finds the memfd */
#define BOOT_RAM_ARGS 4		/* how many arguments boot_ram_args adds */

/* A new memfd (close-on-exec), or -1 when the host has none. */
int boot_ram_open(void);

/* Append the BOOT_RAM_ARGS arguments (malloc'ed) at args[*n]. */
void boot_ram_args(char **args, size_t *n, unsigned memory_mb);

/*
 * The kernel's panic message in the guest RAM behind fd, or NULL. Reads
 * only the parts the guest wrote (SEEK_DATA): no memory is allocated for
 * the rest. Blocking: for a worker thread. Closes fd.
 */
char *boot_ram_recover(int fd);

#endif
