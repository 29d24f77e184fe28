/*
 * boot: the runner. One QEMU child per run, started from an argv array
 * (never a shell), its console read through a pipe and judged as it
 * streams, a timeout and a silence watchdog per run, at most `jobs` runs
 * at once. A run ends by killing its whole process group. Children are
 * started through the trampoline (lib/spawn.h), which sets
 * PR_SET_PDEATHSIG, so no QEMU outlives hvmatrix, even after kill -9.
 *
 * The module's files: boot.c (the runner), boot-run.c (a run before it
 * starts), boot-argv.c (QEMU's command line), boot-log.c (console logs),
 * boot-libxl.c (libxl groups), boot-ram.c (the guest's RAM),
 * boot-migrate.c (the migrate probe: a run moved to a second QEMU).
 */
#ifndef HVM_BOOT_H
#define HVM_BOOT_H

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "matrix/cell.h"
#include "judge/judge.h"
#include "lib/child.h"
#include "lib/nonce.h"
#include "lib/strbuf.h"

struct logfile_writer;
struct record_probe;

#define BOOT_FAIL_GRACE_MS 1000	/* capture a trace after a failure line */
#define BOOT_PASS_GRACE_MS 5000	/* let the guest power off after the marker */
#define BOOT_GROUP_MAX 8	/* guest cells sharing one nested dom0 boot */
#define BOOT_DOM0_MEMORY_MB 2048	/* QEMU machine for a libxl dom0 */
#define BOOT_DOM0_BOOT_S 180	/* Xen + dom0 + toolstack start, at most */
#define BOOT_SUSPEND_S 180	/* a libxl guest's save and restore */

struct boot;

struct boot_run {
	const struct cell *cell;
	char nonce[NONCE_LEN + 1];
	/* The console log, capped at the cell's log_limit. From on_done on,
	 * the compressed log ("<path>.zst"; the plain path if compression
	 * failed): read it with logfile_open_read(). */
	char *log_path;
	char **argv;		/* QEMU's argv, NULL-terminated */
	char *xen_version;	/* backend xen: the build's stated version */
	/* A cell naming a QEMU release: "10.0 (Debian <package version>)",
	 * as recorded with the run; else NULL. */
	char *qemu_version;
	char *kernel, *initrd;	/* as given to boot_run_init */
	char *xen_elf;		/* backend xen, xen-libxl: resolved build */
	/* A cell naming a QEMU release: the words that start it (replacing
	 * the cell's qemu in argv) and its environment; else NULL. */
	char **qemu_prefix, **env;
	/*
	 * The migrate probe: the destination QEMU's argv and environment
	 * (NULL: no migration), and the two ends as the reason and the log
	 * name them ("QEMU 7.2", "QEMU 10.0").
	 */
	char **migrate_argv, **migrate_env;
	char *migrate_from, *migrate_to;
	/*
	 * backend xen-libxl: runs that share one nested dom0 boot, one guest
	 * after the other. The leader owns the QEMU process and lists every
	 * member, itself included; each member keeps its own judge and its
	 * own log. The agent knows each member's guest by `agent_guest`
	 * ("CELL@NONCE"): two runs of one cell in a group are two jobs.
	 */
	char *agent_guest;
	struct boot_run *leader;
	struct boot_run **members;
	size_t n_members;
	char *boot_initrd;	/* leader: dom0 image + jobs, removed after */
	unsigned timeout_s, silence_s;	/* of the QEMU process */
	struct judge judge;
	double started_at;	/* Unix time */
	double duration_s;
	int interrupted;	/* stopped by a signal to hvmatrix: no verdict */
	/* The cell's QEMU release was never asked for its machine types:
	 * the precheck asks (boot_argv_check_release), off the loop. */
	int release_unchecked;
	const char *purpose;	/* "test", "confirm", "bisect" */
	void *data;		/* the caller's */

	/* Private to the runner (boot.c, boot-log.c, boot-libxl.c). */
	struct boot *boot;
	struct child child;	/* QEMU (a group's leader's) */
	struct logfile_writer *log;	/* the console log being written */
	/* A group's leader: the console line being routed to its members'
	 * logs, the member whose guest runs now, logs still being finished. */
	struct strbuf route;
	struct boot_run *route_to;
	unsigned logs_pending;
	int ram_fd;		/* the guest's RAM (boot-ram.h); -1: none */
	struct boot_migrate *migrate;	/* while it runs (boot-migrate.h) */
	struct boot_reset_watch *reset_watch;	/* QEMU's reset log (boot.c) */
	uint64_t t0_ms;
};

struct boot_opts {
	unsigned jobs;
	void (*on_start)(struct boot_run *r, void *data);
	void (*on_done)(struct boot_run *r, void *data);
	/* Every run is done, or boot_stop() stopped the rest. */
	void (*on_all_done)(void *data);
	void *data;
};

/*
 * Prepare a run of cell c booting kernel + initrd (a fresh nonce, QEMU's
 * argv). The log goes to log_path, then to log_path + ".zst" once the run
 * is done (see struct boot_run). A run can be decided before it starts
 * with judge_skip/judge_error on r->judge; boot_run_all then reports it
 * without starting anything.
 */
void boot_run_init(struct boot_run *r, const struct cell *c,
		   const char *kernel, const char *initrd,
		   const char *log_path);
void boot_run_release(struct boot_run *r);

/*
 * The command line that ran r, shell-quoted (the QEMU process: a libxl
 * group's leader's), for the store and the reproducers; NULL before it
 * started. Caller frees.
 */
char *boot_run_cmdline(const struct boot_run *r);
/*
 * What r's probes reported, as the store keeps it: a copy of each result
 * (*out, *n; free with record_probes_free) and the fingerprint as a JSON
 * object ("" when the guest printed none; free it).
 */
void boot_run_probes(const struct boot_run *r, struct record_probe **out,
		     size_t *n, char **fingerprint);

/* The test payload: $HVMATRIX_INITRD, else the build's
 * images/payload.cpio.gz. */
const char *boot_default_initrd(void);

/*
 * Run every run to its verdict on loop, at most opts->jobs at once.
 * SIGINT/SIGTERM/SIGHUP stop every child; their runs are marked
 * interrupted. Returns 0, or 1 when interrupted.
 */
int boot_run_all(uv_loop_t *loop, struct boot_run *runs, size_t n,
		 const struct boot_opts *opts);

/*
 * The same without running the loop or catching signals, for a caller
 * that owns both (the daemon): runs go on while loop runs; on_all_done
 * is called once at the end, after which boot_free() may be called.
 * boot_stop() kills every child; their runs are marked interrupted.
 */
struct boot *boot_start(uv_loop_t *loop, struct boot_run *runs, size_t n,
			const struct boot_opts *opts);
void boot_stop(struct boot *b);
int boot_stopped(const struct boot *b);
/* Runs not started yet, and QEMU processes running now. */
void boot_load(const struct boot *b, size_t *waiting, unsigned *running);
void boot_free(struct boot *b);

#endif
