/*
 * early: an image a hypervisor cannot load, a guest that resets before it
 * printed anything (see early.h). Words, not verdicts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/early.h"

/* Linked into the agent too, which has no lib/: libc only. */
#define EARLY_N(a) (sizeof(a) / sizeof((a)[0]))
#define EARLY_LINE_MAX 512

/*
 * What each hypervisor says when a kernel image is not one it can read.
 * Xen's dom0 builder (xen/common/libelf, arch/x86/bzimage.c, the PVH dom0
 * builder), 4.14 .. 4.20; libxenguest's domain builder as libxl logs it
 * through the agent (xc_dom_bzimageloader.c, xc_dom_core.c); QEMU's
 * -kernel loader (hw/i386/x86.c), 5.2 .. 11.1. A consequence ("Could not
 * construct domain 0", "domain creation failed") names no cause: not here.
 */
static const char *const unloadable[] = {
	"not an ELF binary",	/* "ELF: ...", older libelf "elf_init: ..." */
	"Error trying to detect bz compressed kernel",
	"Unable to init ELF",
	"unknown compression format",
	"xc_dom_find_loader: no loader found",
	"linux kernel too old to load a ram disk",
	"Error loading uncompressed kernel without PVH ELF Note",
	"Cannot load x86-64 image, give a 32bit one",
	"invalid kernel header",
};

const char *early_unloadable(const char *line)
{
	size_t i;

	for (i = 0; i < EARLY_N(unloadable); i++)
		if (strstr(line, unloadable[i]))
			return unloadable[i];
	return NULL;
}

/* The value after "KEY=" in a register line, as far as the blank. */
static void reg(char *out, const char *block, const char *end,
		const char *key)
{
	size_t used = strlen(out);

	const char *p = block;
	size_t k = strlen(key), n;

	while ((p = strstr(p, key)) && p < end) {
		if ((p == block || p[-1] == ' ' || p[-1] == '\n') && p[k] == '=')
			break;
		p += k;
	}
	if (!p || p >= end)
		return;
	p += k + 1;
	n = strcspn(p, " \n");
	snprintf(out + used, EARLY_LINE_MAX - used, " %s=%.*s", key, (int)n,
		 p);
}

/* A reset of a CPU at the reset vector or never run: power-on's. */
static int power_on(const char *block, const char *end)
{
	const char *ip = strstr(block, "EIP=");
	const char *rip = strstr(block, "RIP=");

	if (rip && rip < end)
		return 0;
	if (!ip || ip >= end)
		return 1;
	return !strncmp(ip, "EIP=0000fff0 ", 13) ||
	       (!strncmp(ip, "EIP=00000000 ", 13) &&
		strstr(block, " A20=0 ") && strstr(block, " A20=0 ") < end);
}

char *early_reset_line(const char *log)
{
	static const char head[] = "CPU Reset (CPU 0)";
	char out[EARLY_LINE_MAX];
	const char *p = log, *next, *triple;

	triple = strstr(log, "Triple fault");
	while ((p = strstr(p, head))) {
		next = strstr(p + 1, "CPU Reset (");
		if (!next)
			next = p + strlen(p);
		if (!power_on(p, next)) {
			snprintf(out, sizeof(out), "CPU 0 reset%s:", triple &&
				 triple < p ? " after a triple fault" : "");
			reg(out, p, next, strstr(p, "RIP=") &&
			    strstr(p, "RIP=") < next ? "RIP" : "EIP");
			reg(out, p, next, strstr(p, "RFL=") &&
			    strstr(p, "RFL=") < next ? "RFL" : "EFL");
			reg(out, p, next, "CPL");
			reg(out, p, next, "CR0");
			reg(out, p, next, "CR2");
			reg(out, p, next, "CR3");
			reg(out, p, next, "CR4");
			return strdup(out);
		}
		p = next;
	}
	/* QEMU stopped at the guest's reset (-no-reboot) before the CPU's
	 * reset, so the log holds only its word for why. */
	if (triple)
		return strdup("Triple fault (QEMU's reset log: the guest's "
			       "CPU faulted while delivering a double fault)");
	return NULL;
}
