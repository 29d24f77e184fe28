/*
 * boot-env: what a cell boots a kernel in, as digests. Two runs of the
 * same kernel bytes with the same environment key booted the same thing
 * (the cell's definition, the hypervisor's bytes, the payload's bytes),
 * so one's verdict may stand for the other's; the hypervisor digest alone
 * names the hypervisor build a run ran under (a rebuilt QEMU or Xen is a
 * new one, a renamed cell is not).
 */
#ifndef HVM_BOOT_ENV_H
#define HVM_BOOT_ENV_H

#include "matrix/cell.h"
#include "lib/strbuf.h"

#define BOOT_ENV_HEX 64

struct boot_env {
	/* sha256 of: the cell's definition (its JSON form), the hypervisor
	 * digest below, the payload's bytes. */
	char key[BOOT_ENV_HEX + 1];
	/* sha256 of the hypervisor's parts: the QEMU that runs the cell (a
	 * release's binary and packages as fetched, or the file a path or
	 * PATH names), a Xen cell's ELF, a libxl cell's dom0 kernel and
	 * image, a migrate_to release's binary. */
	char hypervisor[BOOT_ENV_HEX + 1];
};

/*
 * Fill env for cell c booting with payload (the initramfs path). Reads
 * the files it names (megabytes: call it off the loop); a file's digest
 * is kept per (device, inode, size, mtime), so asking again is cheap.
 * 0, or -1 with err naming what could not be read (a release not
 * fetched, a missing dom0 image): such a cell's environment is unknown
 * and nothing may be reused for it.
 */
int boot_env_key(const struct cell *c, const char *payload,
		 struct boot_env *env, struct strbuf *err);

#endif
