/*
 * cell: one environment a kernel must boot in (a QEMU machine, a hypervisor
 * interface). This module owns the cell's settings, their defaults and the
 * validation of every value, whether it comes from a matrix file or from
 * the command line: there is exactly one place that decides what a valid
 * cell is. It never starts anything.
 */
#ifndef HVM_CELL_H
#define HVM_CELL_H

#include <stddef.h>
#include "lib/strbuf.h"

enum cell_backend {
	CELL_BACKEND_QEMU = 0,	/* the kernel boots directly under QEMU */
	CELL_BACKEND_XEN,	/* Xen under QEMU, the kernel as dom0 */
	CELL_BACKEND_XEN_LIBXL,	/* Xen under QEMU, the kernel as a guest that
				 * the agent creates through libxenlight */
};

enum cell_guest {
	CELL_GUEST_PV = 0,
	CELL_GUEST_PVH,
	CELL_GUEST_HVM,
};

enum cell_accel {
	CELL_ACCEL_TCG = 0,
	CELL_ACCEL_KVM,
};

/* Where a cell's runs go (key executor); DEFAULT: the matrix's executor
 * section, else local. */
enum cell_executor {
	CELL_EXECUTOR_DEFAULT = 0,
	CELL_EXECUTOR_LOCAL,	/* a child of the daemon, on this machine */
	CELL_EXECUTOR_SLURM,	/* a Slurm job (see executor.h) */
};

/* Host capabilities a cell can require (bit mask). */
#define CELL_REQUIRE_KVM 0x1u

/* Defaults for settings a cell leaves out. */
#define CELL_DEFAULT_QEMU "qemu-system-x86_64"
#define CELL_DEFAULT_MACHINE "pc"
#define CELL_DEFAULT_CPU "max"
#define CELL_DEFAULT_MEMORY_MB 256u
#define CELL_DEFAULT_SMP 1u
#define CELL_DEFAULT_TIMEOUT_S 120u
#define CELL_DEFAULT_SILENCE_S 30u
#define CELL_DEFAULT_XEN_CMDLINE "dom0_mem=512M,max:512M"
#define CELL_CONFIRM_MAX 20u
#define CELL_DEFAULT_LOG_LIMIT (16u << 20)	/* bytes of console log kept */

struct cell {
	char *name;		/* [A-Za-z0-9._-]+, unique within a matrix */
	char *description;	/* free text or NULL */
	enum cell_backend backend;
	char *qemu;		/* binary name (searched in PATH) or path */
	enum cell_accel accel;
	char *machine;		/* QEMU machine type, e.g. pc-i440fx-2.4 */
	char *cpu;		/* QEMU CPU model, e.g. max, qemu64 */
	unsigned memory_mb;
	unsigned smp;
	char **qemu_args;	/* extra QEMU arguments, each one argv word */
	size_t n_qemu_args;
	char *cmdline;		/* extra kernel command line or NULL */
	unsigned timeout_s;	/* whole run */
	unsigned silence_s;	/* no console output for this long: FAIL */
	char **expect;		/* each must be reported by the guest */
	size_t n_expect;
	unsigned requires;	/* CELL_REQUIRE_* */
	char *xen;		/* backend xen: a Xen build, by name ("4.17",
				 * see images/xen/fetch-xen.sh) or path */
	char *xen_cmdline;	/* backend xen: Xen's options (default
				 * CELL_DEFAULT_XEN_CMDLINE) */
	enum cell_guest guest;	/* backend xen-libxl: the guest's type */
	int confirm;		/* runs more a new FAIL needs before it is a
				 * regression (key confirm); -1: the tree's */
	size_t log_limit;	/* console log cap in bytes (key log_limit;
				 * default CELL_DEFAULT_LOG_LIMIT) */
	enum cell_executor executor;	/* key executor */
	/* Probes run in the guest after the boot (cell-probes.c): the list
	 * the cell set (probes_set: even an empty one), else the backend's
	 * default. */
	char **probes;
	size_t n_probes;
	int probes_set;
	double clock_tolerance;	/* key clock_tolerance; 0: the default */
	char *migrate_to;	/* key migrate_to: a QEMU release, or NULL */
	unsigned line, column;	/* where the cell starts in its file, 1-based */
};

/* Set every field to its default (name NULL). */
void cell_init(struct cell *c);
void cell_release(struct cell *c);
/* Deep copy. */
void cell_copy(struct cell *dst, const struct cell *src);

/*
 * Set one setting from its text form, as written in YAML or on the command
 * line: key is the YAML key ("memory", "qemu_args", ...). For list settings
 * (qemu_args, expect, requires) each call appends one element. Returns 0,
 * or -1 with a message (without position) in err, e.g.
 * "memory: expected an integer in MiB between 16 and 65536, got \"x\"".
 */
int cell_set(struct cell *c, const char *key, const char *value,
	     struct strbuf *err);
/* Is key a known setting? Sets *is_list for list settings. */
int cell_key_known(const char *key, int *is_list);
/* Setting i's key, in the order the manual lists them; NULL past the
 * last. */
const char *cell_key_name(size_t i);
/* Checks across fields (name present, silence <= timeout, ...). */
int cell_validate(const struct cell *c, struct strbuf *err);

/* accel kvm or requires kvm */
unsigned cell_required(const struct cell *c);
const char *cell_accel_name(enum cell_accel a);
const char *cell_backend_name(enum cell_backend b);
const char *cell_guest_name(enum cell_guest g);
/* "local", "slurm"; NULL for CELL_EXECUTOR_DEFAULT. */
const char *cell_executor_name(enum cell_executor e);
/* Backends that boot Xen (xen, xen-libxl). */
int cell_is_xen(const struct cell *c);

/*
 * Render as a YAML block sequence item ("- name: x\n  machine: y\n..."),
 * every line prefixed by `indent` spaces; only settings that differ from
 * the defaults, plus name. Strings are quoted when YAML needs it.
 */
void cell_format_yaml(const struct cell *c, int indent, struct strbuf *out);
/* Length of the UTF-8 sequence at s (in a string), *cp its code point; 0
 * if it is ill-formed (overlong, a surrogate, past U+10FFFF, cut). */
size_t cell_utf8_len(const unsigned char *s, uint32_t *cp);
/* Render as one JSON object with every setting (defaults included). */
void cell_format_json(const struct cell *c, struct strbuf *out);

#endif
