/*
 * boot-priv.h: what the files of the boot runner share (boot.c: the
 * runner, the runs' lifecycle; boot-run.c: a run before it starts;
 * boot-log.c: the console logs; boot-libxl.c: libxl groups and their boot
 * images). Nothing outside orchestrator/boot/ includes it.
 */
#ifndef HVM_BOOT_PRIV_H
#define HVM_BOOT_PRIV_H

#include <stddef.h>
#include <uv.h>

#include "boot/boot.h"
#include "lib/strbuf.h"

/* The runs a QEMU process serves: a libxl group's members, or itself. */
static inline size_t boot_n_members(const struct boot_run *r)
{
	return r->n_members ? r->n_members : 1;
}

static inline struct boot_run *boot_member(struct boot_run *r, size_t i)
{
	return r->n_members ? r->members[i] : r;
}

/* boot-log.c */

/* QEMU's console: to r's log, or a group's to its members' logs. */
void boot_log_console(struct boot_run *r, const char *buf, size_t len);
/* A group's last console line, unterminated, to where it belongs. */
void boot_log_flush(struct boot_run *r);
/*
 * Finish each member's log off the loop (footer, RAM read after an
 * unexplained FAIL, compression), then done(r) on the loop once all are
 * final. Returns how many are pending; when none, done is never called.
 */
unsigned boot_log_finish(struct boot_run *r, uv_loop_t *loop,
			 void (*done)(struct boot_run *r));

/* boot-libxl.c */

/* Is the dom0 image of r's Xen release missing? err says how to make it. */
int boot_libxl_dom0_missing(const struct boot_run *r, struct strbuf *err);
/* Put libxl cells that can share a dom0 boot into groups (in order). */
void boot_libxl_group(struct boot_run *runs, size_t n);
/* Does any group leader need its boot image written? */
int boot_libxl_needs_images(const struct boot_run *runs, size_t n);
/*
 * Write each group leader's boot image and build its QEMU argv; a member
 * whose image cannot be made gets ERROR. Blocking, for the thread pool,
 * before any run starts.
 */
void boot_libxl_make_images(struct boot_run *runs, size_t n);

#endif
