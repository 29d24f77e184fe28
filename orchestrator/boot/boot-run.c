/*
 * boot-run: a run before it starts and after it is reported. boot_run_init
 * gives it its nonce and QEMU's argv and decides up front what needs no
 * boot (a Xen build or dom0 image that is missing, a QEMU release that
 * cannot start here, a path Xen cannot take), so that the runner reports
 * those without starting anything.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "matrix/cell-probes.h"
#include "boot/boot-argv.h"
#include "boot/boot-migrate.h"
#include "boot/boot-priv.h"
#include "boot/image.h"
#include "lib/nonce.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"
#include "lib/logfile.h"
#include "store/record.h"

void boot_run_init(struct boot_run *r, const struct cell *c,
		   const char *kernel, const char *initrd,
		   const char *log_path)
{
	struct strbuf err = STRBUF_INIT;
	char *xen_elf = NULL;

	memset(r, 0, sizeof(*r));
	r->ram_fd = -1;
	r->cell = c;
	nonce_make(r->nonce);
	r->log_path = xstrdup(log_path);
	judge_init(&r->judge, r->nonce, c->expect, c->n_expect);
	judge_set_clock_tolerance(&r->judge, c->clock_tolerance ?
				  c->clock_tolerance :
				  CELL_DEFAULT_CLOCK_TOLERANCE);
	r->kernel = xstrdup(kernel);
	r->initrd = xstrdup(initrd);
	r->timeout_s = c->timeout_s;
	r->silence_s = c->silence_s;
	/* The run's own name on the agent's channel: runs of one cell in
	 * one dom0 group must never answer to each other's begin/end. */
	if (c->backend == CELL_BACKEND_XEN_LIBXL) {
		r->agent_guest = xstrfmt("%s@%s", c->name, r->nonce);
		judge_set_guest(&r->judge, r->agent_guest);
	}
	if (cell_is_xen(c) &&
	    image_xen(c->xen, &xen_elf, &r->xen_version, &err) < 0)
		judge_error(&r->judge, "%s", err.buf);
	/* One release's libxl cannot drive another's hypervisor (measured:
	 * 4.17's gets Permission denied from Xen 4.14 at xen-init-dom0 and
	 * from 4.20 at domain creation): the dom0 is the cell's release's. */
	else if (c->backend == CELL_BACKEND_XEN_LIBXL &&
		 boot_libxl_dom0_missing(r, &err))
		judge_error(&r->judge, "%s", err.buf);
	/* Under Xen, QEMU's module list splits on commas. */
	else if (xen_elf && (strchr(kernel, ',') || strchr(initrd, ',')))
		judge_error(&r->judge, "a kernel or payload path with ',' "
			    "cannot be a Xen module: %s", kernel);
	boot_argv_resolve_release(r, c);
	/* A libxl group's argv is built when its leader starts. */
	if (c->backend != CELL_BACKEND_XEN_LIBXL)
		r->argv = boot_argv_with_release(r, boot_argv_qemu(c, kernel,
								   initrd,
								   r->nonce,
								   xen_elf));
	r->xen_elf = xen_elf;
	boot_migrate_resolve(r);
	strbuf_release(&err);
}

void boot_run_release(struct boot_run *r)
{
	free(r->log_path);
	free(r->agent_guest);
	strbuf_release(&r->route);
	free(r->xen_version);
	free(r->qemu_version);
	free(r->xen_elf);
	free(r->kernel);
	free(r->initrd);
	free(r->members);
	if (r->boot_initrd)
		unlink(r->boot_initrd);
	free(r->boot_initrd);
	spawn_argv_free(r->argv);
	spawn_argv_free(r->qemu_prefix);
	spawn_argv_free(r->env);
	boot_migrate_clear(r);
	judge_release(&r->judge);
	logfile_abort(r->log);
	if (r->ram_fd >= 0)
		close(r->ram_fd);
	memset(r, 0, sizeof(*r));
	r->ram_fd = -1;
}

char *boot_run_cmdline(const struct boot_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	char **argv = r->leader ? r->leader->argv : r->argv;

	if (!argv || !argv[0])
		return NULL;
	spawn_argv_quote(argv, &sb);
	return strbuf_detach(&sb, NULL);
}

void boot_run_probes(const struct boot_run *r, struct record_probe **out,
		     size_t *n, char **fingerprint)
{
	const struct guest_probes *g = &r->judge.probes;
	struct strbuf fp = STRBUF_INIT;
	size_t i;

	*out = g->n ? xcalloc(g->n, sizeof(**out)) : NULL;
	for (i = 0; i < g->n; i++) {
		(*out)[i].name = xstrdup(g->v[i].name);
		(*out)[i].result = xstrdup(g->v[i].result);
		(*out)[i].detail = xstrdup(g->v[i].detail);
		(*out)[i].seconds = g->v[i].seconds;
	}
	*n = g->n;
	guest_probes_fingerprint_json(g, &fp);
	*fingerprint = strbuf_detach(&fp, NULL);
}
