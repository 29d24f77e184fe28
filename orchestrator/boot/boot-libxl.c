/*
 * boot-libxl: backend xen-libxl. Cells that can share one nested boot of
 * Xen and its dom0 are grouped (at most BOOT_GROUP_MAX); the group's
 * leader boots QEMU once, with Debian's kernel as dom0 and an initramfs
 * that holds the toolstack and the agent, followed by a jobs archive: the
 * kernel under test, the payload and one job per member, which the agent
 * starts as guests one after the other (docs: images/xen/README.md).
 *
 * The images are megabytes read and written with fsync: written on the
 * thread pool before any run starts, never on the loop.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/boot.h"
#include "boot/boot-argv.h"
#include "boot/boot-priv.h"
#include "boot/image.h"
#include "matrix/cell-probes.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"

/* Is the dom0 image of the cell's Xen release missing (err says how to
 * build it)? make_image() reads it before the group's leader starts. */
int boot_libxl_dom0_missing(const struct boot_run *r, struct strbuf *err)
{
	char rel[16], *initrd, *kernel, *hvm = NULL;
	int missing = 0;

	image_xen_release(r->xen_version, rel, sizeof(rel));
	if (image_dom0(rel, &initrd, &kernel, err) < 0)
		return 1;
	if (r->cell->guest == CELL_GUEST_HVM &&
	    !(hvm = image_dom0_hvm(initrd, err)))
		missing = 1;
	free(hvm);
	free(initrd);
	free(kernel);
	return missing;
}

static int append_file(struct strbuf *cpio, const char *name,
		       const char *path, struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT;
	int rc = fsutil_read(path, &data);

	if (rc < 0)
		strbuf_addf(err, "cannot read %s: %s", path, strerror(-rc));
	else
		image_cpio_add(cpio, name, S_IFREG | 0644, data.buf, data.len);
	strbuf_release(&data);
	return rc < 0 ? -1 : 0;
}

/* The agent's job directory for one guest, in the jobs archive. */
static void add_job(struct strbuf *cpio, size_t i, struct boot_run *m)
{
	const struct cell *c = m->cell;
	char *dir = xstrfmt("hvmatrix/jobs/%02zu", i);
	char *p, *v, *probes;

#define JOB_FILE(name, value)                                              \
	do {                                                               \
		p = xstrfmt("%s/" name, dir);                              \
		v = value;                                                 \
		image_cpio_add(cpio, p, S_IFREG | 0644, v, strlen(v));     \
		free(p);                                                   \
		free(v);                                                   \
	} while (0)

	image_cpio_add(cpio, dir, S_IFDIR | 0755, NULL, 0);
	JOB_FILE("name", xstrfmt("%s\n", m->agent_guest));
	JOB_FILE("type", xstrfmt("%s\n", cell_guest_name(c->guest)));
	/*
	 * A PV guest's early Xen console writes to its console ring, which
	 * the agent relays (see boot_argv_qemu). A PVH guest's would go to
	 * Xen's debug port, not to its console, and what it printed there
	 * would be missing from the console: none for PVH (the agent reads
	 * a crashed guest's memory instead). An HVM guest's console is its
	 * emulated serial port, which the agent relays from the start:
	 * early printk there shows a death in the kernel's Xen HVM setup,
	 * which runs before the serial console is registered.
	 */
	probes = boot_argv_probe_words(c);
	JOB_FILE("cmdline", xstrfmt("%s panic=-1 hvmatrix.nonce=%s%s%s%s\n",
				    c->guest == CELL_GUEST_PV ?
				    "console=hvc0 earlyprintk=xen" :
				    c->guest == CELL_GUEST_HVM ?
				    "console=ttyS0 earlyprintk=ttyS0" :
				    "console=hvc0",
				    m->nonce, probes, c->cmdline ? " " : "",
				    c->cmdline ? c->cmdline : ""));
	free(probes);
	JOB_FILE("memory", xstrfmt("%u\n", c->memory_mb));
	JOB_FILE("vcpus", xstrfmt("%u\n", c->smp));
	JOB_FILE("timeout", xstrfmt("%u\n", c->timeout_s));
#undef JOB_FILE
	p = xstrfmt("%s/kernel", dir);
	image_cpio_add(cpio, p, S_IFLNK | 0777, "../../kernel", 12);
	free(p);
	p = xstrfmt("%s/initrd", dir);
	image_cpio_add(cpio, p, S_IFLNK | 0777, "../../initrd", 12);
	free(p);
	free(dir);
}

/*
 * A libxl group's leader: one nested boot of Xen with Debian's kernel as
 * dom0, its initramfs (toolstack + agent), the image's HVM part when a
 * member is an HVM guest (dom0 unpacks what it is given at every boot:
 * PV and PVH groups boot seconds faster without the device model),
 * followed by a jobs archive holding the kernel under test, the payload
 * and one job per member.
 */
static void make_image(struct boot_run *r)
{
	struct strbuf img = STRBUF_INIT, err = STRBUF_INIT;
	char *dom0 = NULL, *dom0_kernel = NULL, *hvm = NULL, rel[16];
	struct cell c;
	size_t i;
	int rc;

	/* Every member has the leader's xen (same_dom0()): one release. */
	image_xen_release(r->xen_version, rel, sizeof(rel));
	if (image_dom0(rel, &dom0, &dom0_kernel, &err) < 0)
		goto fail;
	if ((rc = fsutil_read(dom0, &img)) < 0) {
		strbuf_addf(&err, "cannot read dom0 image %s: %s", dom0,
			    strerror(-rc));
		goto fail;
	}
	for (i = 0; i < boot_n_members(r); i++)
		if (boot_member(r, i)->cell->guest == CELL_GUEST_HVM)
			break;
	if (i < boot_n_members(r)) {
		if (!(hvm = image_dom0_hvm(dom0, &err)))
			goto fail;
		if ((rc = fsutil_read(hvm, &img)) < 0) {
			strbuf_addf(&err, "cannot read %s: %s", hvm,
				    strerror(-rc));
			goto fail;
		}
	}
	image_cpio_add(&img, "hvmatrix", S_IFDIR | 0755, NULL, 0);
	image_cpio_add(&img, "hvmatrix/jobs", S_IFDIR | 0755, NULL, 0);
	if (append_file(&img, "hvmatrix/kernel", r->kernel, &err) < 0 ||
	    append_file(&img, "hvmatrix/initrd", r->initrd, &err) < 0)
		goto fail;
	r->timeout_s = BOOT_DOM0_BOOT_S;
	for (i = 0; i < boot_n_members(r); i++) {
		add_job(&img, i, boot_member(r, i));
		r->timeout_s += boot_member(r, i)->cell->timeout_s;
		/* The agent moves a guest's limit on by its save and
		 * restore, which the whole boot must allow for. */
		if (cell_probes_has(boot_member(r, i)->cell, "suspend"))
			r->timeout_s += BOOT_SUSPEND_S;
	}
	/* The agent times guests out; silence is the whole boot's limit. */
	r->silence_s = r->timeout_s;
	image_cpio_end(&img);
	r->boot_initrd = xstrfmt("%s.initrd", r->log_path);
	if ((rc = fsutil_write_atomic(r->boot_initrd, img.buf, img.len)) < 0) {
		strbuf_addf(&err, "cannot write %s: %s", r->boot_initrd,
			    strerror(-rc));
		goto fail;
	}
	/* QEMU's machine hosts dom0 and the guests: HOST-FACTS sizes. */
	cell_copy(&c, r->cell);
	c.memory_mb = BOOT_DOM0_MEMORY_MB;
	free(c.xen_cmdline);
	c.xen_cmdline = xstrfmt("dom0_mem=1024M,max:1024M dom0_max_vcpus=1%s%s",
				r->cell->xen_cmdline ? " " : "",
				r->cell->xen_cmdline ? r->cell->xen_cmdline :
				"");
	free(c.cmdline);
	c.cmdline = xstrdup("quiet loglevel=3");
	spawn_argv_free(r->argv);
	r->argv = boot_argv_with_release(r, boot_argv_qemu(&c, dom0_kernel,
							   r->boot_initrd,
							   "dom0", r->xen_elf));
	cell_release(&c);
	goto out;
fail:
	for (i = 0; i < boot_n_members(r); i++)
		judge_error(&boot_member(r, i)->judge, "%s", err.buf);
out:
	free(dom0);
	free(dom0_kernel);
	free(hvm);
	strbuf_release(&img);
	strbuf_release(&err);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Can these two libxl cells share one nested dom0 boot? The same xen
 * also means the same release, hence the same dom0 image. */
static int same_dom0(const struct cell *a, const struct cell *b)
{
	size_t i;

	if (!same_str(a->qemu, b->qemu) || a->accel != b->accel ||
	    !same_str(a->machine, b->machine) || !same_str(a->cpu, b->cpu) ||
	    a->smp != b->smp || !same_str(a->xen, b->xen) ||
	    !same_str(a->xen_cmdline, b->xen_cmdline) ||
	    a->n_qemu_args != b->n_qemu_args)
		return 0;
	for (i = 0; i < a->n_qemu_args; i++)
		if (strcmp(a->qemu_args[i], b->qemu_args[i]))
			return 0;
	return 1;
}

void boot_libxl_group(struct boot_run *runs, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		struct boot_run *r = &runs[i], *lead = NULL;

		if (r->cell->backend != CELL_BACKEND_XEN_LIBXL ||
		    judge_verdict(&r->judge))
			continue;
		for (k = 0; k < i && !lead; k++)
			if (runs[k].leader == &runs[k] &&
			    runs[k].n_members < BOOT_GROUP_MAX &&
			    same_dom0(runs[k].cell, r->cell))
				lead = &runs[k];
		if (!lead) {
			lead = r;
			r->members = xcalloc(BOOT_GROUP_MAX,
					     sizeof(*r->members));
		}
		r->leader = lead;
		lead->members[lead->n_members++] = r;
	}
}

/* A libxl leader's boot image (dom0 + kernel + jobs) is written first. */
static int is_libxl_leader(const struct boot_run *r)
{
	return r->cell->backend == CELL_BACKEND_XEN_LIBXL &&
	       (!r->leader || r->leader == r) && !judge_verdict(&r->judge);
}

int boot_libxl_needs_images(const struct boot_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_libxl_leader(&runs[i]))
			return 1;
	return 0;
}

void boot_libxl_make_images(struct boot_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_libxl_leader(&runs[i]))
			make_image(&runs[i]);
}
