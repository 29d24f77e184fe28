/*
 * boot-migrate: the migrate probe's host side, for QEMU cells. When the
 * guest says it is ready (HVMATRIX-PROBE ... name=migrate result=ready),
 * the running QEMU saves the guest through QMP to a stream file, is
 * stopped, and a new QEMU (the cell's migrate_to release, or the same)
 * loads it with -incoming; once the guest runs there, HVMATRIX-GO goes
 * into its console input. The console continues into the same log and
 * judge. A step the farm or a QEMU release fails is ERROR naming both
 * releases, never the kernel's FAIL.
 *
 * Private to orchestrator/boot/: boot-run.c resolves the destination
 * before the run starts, boot.c drives the rest from the loop.
 */
#ifndef HVM_BOOT_MIGRATE_H
#define HVM_BOOT_MIGRATE_H

#include <stddef.h>
#include <uv.h>

struct boot_run;
struct cell;
struct boot_migrate;

/* The QMP socket, and the destination's -incoming defer. */
#define BOOT_MIGRATE_ARGS 4

/* Does the cell ask for the migrate probe (a QEMU cell only)? */
int boot_migrate_wanted(const struct cell *c);

/*
 * Before the run starts (after r->argv is built): the destination's argv
 * and environment, the release names both ends are known by, and, for a
 * machine type alias ("pc"), the source release's newest versioned type
 * in r->argv, so that both ends run the same machine. A destination that
 * is not fetched, or cannot start here, decides r (ERROR, SKIP).
 */
void boot_migrate_resolve(struct boot_run *r);
/* What boot_migrate_resolve() set, freed. */
void boot_migrate_clear(struct boot_run *r);

/* A run that migrates, as it starts: its stream directory. NULL: r does
 * not migrate, or r is decided (ERROR: no directory). */
struct boot_migrate *boot_migrate_new(struct boot_run *r, uv_loop_t *loop);

/* The argv and environment of the QEMU to start next: the source's, then
 * the destination's. */
char **boot_migrate_argv(const struct boot_migrate *m);
char **boot_migrate_env(const struct boot_migrate *m);
/* Append this QEMU's spawn-time arguments (at most BOOT_MIGRATE_ARGS). */
void boot_migrate_args(const struct boot_migrate *m, char **args, size_t *n);
/* That QEMU started (r->child is running). */
void boot_migrate_started(struct boot_migrate *m);

/* The guest is ready to be moved (the judge's hand-over "migrate"). */
void boot_migrate_begin(struct boot_migrate *m);

/*
 * A watchdog of the run fired (what: "timeout" or "silence"): while the
 * guest is being moved, that is the farm's ERROR, decided here (1);
 * else 0, the kernel's as always.
 */
int boot_migrate_watchdog(struct boot_migrate *m, const char *what,
			  unsigned seconds);

/*
 * The QEMU process is over. 1: the source has saved the guest, start
 * the destination now (boot_migrate_argv). 0: the run is over (a
 * destination that ended before it ran the guest, or a source that ended
 * while saving, is decided ERROR here).
 */
int boot_migrate_closed(struct boot_migrate *m);

/* At the run's end: its handles closed, its files removed. */
void boot_migrate_free(struct boot_migrate *m);

#endif
