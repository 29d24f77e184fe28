/*
 * early: the failures that come before a kernel prints anything. A
 * hypervisor that cannot load the kernel's image says so in its own words
 * (Xen's dom0 builder on its console, libxenguest through the agent,
 * QEMU's -kernel loader on its stderr); a guest that resets at once leaves
 * only the CPU's state in QEMU's reset log. Both only recognise and
 * extract: the verdict is judge.c's.
 */
#ifndef HVM_EARLY_H
#define HVM_EARLY_H

/*
 * Does `line` say a hypervisor cannot load a kernel image (its format or
 * its compression)? Then the words that say so, else NULL.
 */
const char *early_unloadable(const char *line);
/*
 * QEMU's reset log (-d cpu_reset -D FILE): the CPU's state at the first
 * reset the guest caused (the power-on resets at the reset vector are
 * not), as one line "CPU 0 reset after a triple fault: RIP=... RFL=...
 * CR0=... CR2=... CR3=..." (EIP for a CPU still in 32-bit mode), else
 * NULL. Caller frees.
 */
char *early_reset_line(const char *log);

#endif
