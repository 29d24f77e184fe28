/*
 * hypervisors-check: does a cell's hypervisor release fit it (the machine
 * type its QEMU release has, a migrate_to release that can take its
 * guest)? Asked at every matrix load; on the daemon's loop only what the
 * catalogue's cache already knows (hypervisors_check_cached_only), the
 * asking being the precheck's.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matrix/cell.h"
#include "matrix/hypervisors.h"
#include "lib/xmalloc.h"

static int check_cached_only;

void hypervisors_check_cached_only(int on)
{
	check_cached_only = on;
}

/*
 * The migrate probe: a QEMU cell's, to a release the catalogue has. A CPU
 * model that is whatever the release offers (max, host) cannot move to
 * an older release: the guest would lose features it runs on (measured:
 * busybox dies of an AVX2 invalid opcode moved from 11.1 to 5.2), which
 * would read as the kernel's FAIL.
 */
static int check_migrate(const struct cell *c, struct strbuf *err)
{
	struct hypervisors_release r;
	struct strbuf msg = STRBUF_INIT;
	size_t w = strcspn(c->cpu, ",");

	/* Which cells may migrate at all is cell-probes.c's to say. */
	if (!c->migrate_to || c->backend != CELL_BACKEND_QEMU)
		return 0;
	if (hypervisors_load(&r, "qemu", c->migrate_to, &msg)) {
		char *dir = xstrfmt("%s/qemu", hypervisors_dir());
		int catalogue = access(dir, F_OK) == 0;

		free(dir);
		/* No QEMU release fetched here at all (a host before its
		 * set-up): the run says so, as ERROR with the command, as
		 * for a cell's own qemu release. Else the catalogue must
		 * have it. */
		if (catalogue)
			strbuf_addf(err, "migrate_to: the catalogue has no "
				    "QEMU release \"%s\": %s", c->migrate_to,
				    msg.buf);
		strbuf_release(&msg);
		return catalogue ? -1 : 0;
	}
	hypervisors_release_clear(&r);
	strbuf_release(&msg);
	if (hypervisors_is_release(c->qemu) &&
	    hypervisors_version_cmp(c->migrate_to, c->qemu) < 0 &&
	    ((w == 3 && !strncmp(c->cpu, "max", 3)) ||
	     (w == 4 && !strncmp(c->cpu, "host", 4)))) {
		strbuf_addf(err, "migrate_to: cpu %.*s is what each release "
			    "makes of it: a guest moved from QEMU %s to the "
			    "older %s would lose CPU features; name a CPU "
			    "model (e.g. qemu64)", (int)w, c->cpu, c->qemu,
			    c->migrate_to);
		return -1;
	}
	return 0;
}

int hypervisors_check_cell(const struct cell *c, struct strbuf *err)
{
	struct strbuf list = STRBUF_INIT, msg = STRBUF_INIT;
	struct hypervisors_release r;
	int ret = 0;

	if (check_migrate(c, err))
		return -1;
	if (!hypervisors_is_release(c->qemu))
		return 0;
	/* Not fetched: the run says so, as ERROR, with the command. */
	if (hypervisors_load(&r, "qemu", c->qemu, &msg))
		goto out;
	/* Not known yet, on a loop: left to the run's precheck. */
	if (check_cached_only &&
	    hypervisors_machines_cached(&r, &list, &msg) <= 0) {
		hypervisors_release_clear(&r);
		goto out;
	}
	if (hypervisors_machines(&r, &list, &msg)) {
		/* A release that does not start is SKIP at run time. */
		hypervisors_release_clear(&r);
		goto out;
	}
	if (!hypervisors_has_machine(list.buf, c->machine)) {
		strbuf_addf(err, "machine: QEMU %s (%s) has no machine type "
			    "\"%.*s\" (its types: %s/qemu-machines/%s)",
			    c->qemu, r.package, (int)strcspn(c->machine, ","),
			    c->machine, hypervisors_dir(), r.sha256);
		ret = -1;
	}
	hypervisors_release_clear(&r);
out:
	strbuf_release(&list);
	strbuf_release(&msg);
	return ret;
}
