/*
 * boot-ram: see boot-ram.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/boot-ram.h"
#include "judge/panicscan.h"
#include "lib/xmalloc.h"

#define BOOT_RAM_CHUNK (1 << 20)

int boot_ram_open(void)
{
	return memfd_create("hvmatrix-guest-ram", MFD_CLOEXEC);
}

void boot_ram_args(char **args, size_t *n, unsigned memory_mb)
{
	args[(*n)++] = xstrdup("-object");
	args[(*n)++] = xstrfmt("memory-backend-file,id=hvmatrix-ram,"
			       "size=%uM,mem-path=/proc/self/fd/%d,share=on",
			       memory_mb, BOOT_RAM_FD);
	args[(*n)++] = xstrdup("-machine");
	args[(*n)++] = xstrdup("memory-backend=hvmatrix-ram");
}

char *boot_ram_recover(int fd)
{
	struct panicscan s;
	char *buf = xmalloc(BOOT_RAM_CHUNK);
	off_t data = 0, hole;
	ssize_t got;

	panicscan_init(&s);
	/* Each stretch the guest wrote; holes read as zeros, skipped. */
	while ((data = lseek(fd, data, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		while (data < hole) {
			size_t want = hole - data < BOOT_RAM_CHUNK ?
				      (size_t)(hole - data) : BOOT_RAM_CHUNK;

			got = pread(fd, buf, want, data);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				goto out;
			data += got;
			if (panicscan_feed(&s, buf, (size_t)got))
				goto out;
		}
		/* A message cut by a hole ends there. */
		panicscan_feed(&s, "", 1);
	}
out:
	free(buf);
	close(fd);
	return s.found[0] ? xstrdup(s.found) : NULL;
}
