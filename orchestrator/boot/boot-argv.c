/*
 * boot-argv: see boot-argv.h. Pure but for the release's cached machine
 * types (hypervisors.c): no process is started here and no file written,
 * so --dry-run and the reports can call it freely; the one exception,
 * boot_argv_check_release, is the precheck's, on the thread pool.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/boot-argv.h"
#include "lib/xmalloc.h"
#include "matrix/cell-probes.h"
#include "matrix/hypervisors.h"

char *boot_argv_probe_words(const struct cell *c)
{
	const char *p[CELL_PROBES_MAX];
	size_t i, n = cell_probes_effective(c, p);
	struct strbuf sb = STRBUF_INIT;

	if (!n)
		return xstrdup("");
	/* '+', not ',': a xen cell's command line rides in QEMU's module
	 * list, where a comma separates modules. */
	strbuf_addstr(&sb, " hvmatrix.probes=");
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? "+" : "", p[i]);
	strbuf_addf(&sb, " hvmatrix.cpus=%u", c->smp);
	return strbuf_detach(&sb, NULL);
}

char **boot_argv_qemu(const struct cell *c, const char *kernel,
		      const char *initrd, const char *nonce,
		      const char *xen_elf)
{
	size_t n = 0, i, max = 32 + c->n_qemu_args;
	char **argv = xcalloc(max, sizeof(char *));
	char *cmdline, *probes = boot_argv_probe_words(c);

	/*
	 * earlyprintk: the kernel's early console, on the same line as the
	 * console, so that a panic before the console driver is up (a
	 * hypervisor platform's setup, say) still prints its own message
	 * and is judged by it at once, not by the silence watchdog. Once the
	 * real console registers, the boot console is retired without
	 * repeating what it printed. earlycon, not earlyprintk=serial: the
	 * kernel's real-mode setup code reads earlyprintk too and would
	 * print its messages ("Unable to boot") on the serial line beside
	 * the BIOS's copy of them, every character twice.
	 */
	cmdline = xstrfmt("console=%s %s panic=-1 "
			  "hvmatrix.nonce=%s%s%s%s",
			  xen_elf ? "hvc0" : "ttyS0",
			  xen_elf ? "earlyprintk=xen" :
			  "earlycon=uart8250,io,0x3f8,115200", nonce, probes,
			  c->cmdline ? " " : "", c->cmdline ? c->cmdline : "");
	free(probes);
	argv[n++] = xstrdup(c->qemu);
	argv[n++] = xstrdup("-accel");
	argv[n++] = xstrdup(cell_accel_name(c->accel));
	argv[n++] = xstrdup("-machine");
	argv[n++] = xstrdup(c->machine);
	argv[n++] = xstrdup("-cpu");
	argv[n++] = xstrdup(c->cpu);
	argv[n++] = xstrdup("-m");
	argv[n++] = xstrfmt("%u", c->memory_mb);
	argv[n++] = xstrdup("-smp");
	argv[n++] = xstrfmt("%u", c->smp);
	argv[n++] = xstrdup("-nographic");
	/*
	 * Xen's cells stop at a reset: it is Xen's (its CPU state says
	 * nothing of the kernel). A plain cell lets the guest's reset
	 * happen, for QEMU's reset log to hold the CPU's state at it
	 * (-d cpu_reset, which -no-reboot would skip): the runner stops the
	 * run at that first reset (boot.c, reset watch).
	 */
	if (xen_elf)
		argv[n++] = xstrdup("-no-reboot");
	/*
	 * seccomp: a guest that escapes into QEMU still cannot run a
	 * program, gain privileges or use obsolete system calls. Accepted
	 * by every release of the catalogue (5.2 to 11.1) and Debian's own.
	 */
	argv[n++] = xstrdup("-sandbox");
	argv[n++] = xstrdup("on,obsolete=deny,elevateprivileges=deny,"
			    "spawn=deny,resourcecontrol=deny");
	argv[n++] = xstrdup("-kernel");
	if (xen_elf) {
		/* Xen on the serial line; the kernel as dom0, its command
		 * line and the payload as multiboot modules. */
		argv[n++] = xstrdup(xen_elf);
		argv[n++] = xstrdup("-append");
		argv[n++] = xstrfmt("console=com1 com1=115200 %s",
				    c->xen_cmdline ? c->xen_cmdline :
				    CELL_DEFAULT_XEN_CMDLINE);
		argv[n++] = xstrdup("-initrd");
		argv[n++] = xstrfmt("%s %s,%s", kernel, cmdline, initrd);
		free(cmdline);
	} else {
		argv[n++] = xstrdup(kernel);
		argv[n++] = xstrdup("-initrd");
		argv[n++] = xstrdup(initrd);
		argv[n++] = xstrdup("-append");
		argv[n++] = cmdline;
	}
	for (i = 0; i < c->n_qemu_args; i++)
		argv[n++] = xstrdup(c->qemu_args[i]);
	argv[n] = NULL;
	return argv;
}

/*
 * A cell that names a QEMU release ("10.0") runs that release's binary
 * (through its own loader and libraries when it needs them, its firmware
 * first with -L, its modules): the words that replace argv[0], and its
 * environment. Not fetched is the farm's ERROR naming the fetch command;
 * fetched but not starting here (its `-machine help`, cached by the
 * binary's sha256, fails) is SKIP with the reason. Only cached answers
 * are used here; the asking is boot_argv_check_release's.
 */
void boot_argv_resolve_release(struct boot_run *r, const struct cell *c)
{
	struct strbuf err = STRBUF_INIT, list = STRBUF_INIT;
	struct hypervisors_release rel;
	size_t n;
	int known;

	if (!hypervisors_is_release(c->qemu) || judge_verdict(&r->judge))
		return;
	if (hypervisors_load(&rel, "qemu", c->qemu, &err)) {
		judge_error(&r->judge, "%s", err.buf);
		goto out;
	}
	known = hypervisors_machines_cached(&rel, &list, &err);
	if (known < 0) {
		char *why = xstrfmt("QEMU %s (%s) cannot start on this host: "
				    "%s", c->qemu, rel.package, err.buf);

		judge_skip(&r->judge, why);
		free(why);
	}
	else if (known > 0 && !hypervisors_has_machine(list.buf, c->machine))
		judge_error(&r->judge, "QEMU %s (%s) has no machine type %s",
			    c->qemu, rel.package, c->machine);
	else {
		r->release_unchecked = !known;
		r->qemu_prefix = hypervisors_qemu_argv(&rel, &n);
		r->env = hypervisors_qemu_env(&rel);
		r->qemu_version = xstrfmt("%s (Debian %s)", rel.version,
					  rel.package);
	}
	hypervisors_release_clear(&rel);
out:
	strbuf_release(&err);
	strbuf_release(&list);
}

int boot_argv_check_release(const struct cell *c, char **why)
{
	struct strbuf err = STRBUF_INIT, list = STRBUF_INIT;
	struct hypervisors_release rel;
	int ret = 0;

	*why = NULL;
	if (hypervisors_load(&rel, "qemu", c->qemu, &err)) {
		*why = strbuf_detach(&err, NULL);
		return 2;
	}
	if (hypervisors_machines(&rel, &list, &err)) {
		*why = xstrfmt("QEMU %s (%s) cannot start on this host: %s",
			       c->qemu, rel.package, err.buf);
		ret = 1;
	} else if (!hypervisors_has_machine(list.buf, c->machine)) {
		*why = xstrfmt("QEMU %s (%s) has no machine type %s",
			       c->qemu, rel.package, c->machine);
		ret = 2;
	}
	hypervisors_release_clear(&rel);
	strbuf_release(&err);
	strbuf_release(&list);
	return ret;
}

char **boot_argv_with_release(const struct boot_run *r, char **argv)
{
	size_t n = 0, k = 0, i;
	char **out;

	if (!r->qemu_prefix || !argv)
		return argv;
	while (r->qemu_prefix[k])
		k++;
	while (argv[n])
		n++;
	out = xcalloc(n + k, sizeof(char *));
	for (i = 0; i < k; i++)
		out[i] = xstrdup(r->qemu_prefix[i]);
	for (i = 1; i < n; i++)
		out[k + i - 1] = argv[i];
	free(argv[0]);
	free(argv);
	return out;
}
