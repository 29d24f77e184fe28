/*
 * matrix-interfaces: which files of a kernel tree each cell's hypervisor
 * interface lives in, so that a job can boot first the cells a commit is
 * most likely to break. A cell's kinds come from its definition (backend,
 * accel, machine, cpu); each kind has paths built in, which the matrix's
 * `interfaces` section may replace (a kind's key) or add to (a cell glob's
 * key). It only answers questions: it reads no repository and starts
 * nothing.
 */
#ifndef HVM_MATRIX_INTERFACES_H
#define HVM_MATRIX_INTERFACES_H

#include <stddef.h>

#include "matrix/matrix.h"

/* The interface kinds a cell can exercise (bits of a mask). */
enum matrix_interfaces_kind {
	MATRIX_KIND_XEN = 0,	/* backend xen or xen-libxl */
	MATRIX_KIND_VMWARE,	/* a machine with vmport=on */
	MATRIX_KIND_KVM,	/* accel kvm or requires kvm, no hv- flags */
	MATRIX_KIND_HYPERV,	/* a cpu with Hyper-V (hv-) enlightenments */
	MATRIX_KIND_COUNT,
};

/* "xen", "vmware", "kvm", "hyperv"; NULL past the last. */
const char *matrix_interfaces_kind_name(unsigned kind);
/* The kind called name, or -1. */
int matrix_interfaces_kind_find(const char *name);
/* The kinds of cell c, as a mask of 1u << MATRIX_KIND_*. */
unsigned matrix_interfaces_kinds(const struct cell *c);

/*
 * Does path (relative to the tree's top, e.g. "arch/x86/xen/enlighten.c")
 * match pattern? A pattern ending in '/' names a directory: every path
 * below a directory it matches. Otherwise it names files. Both may hold
 * fnmatch(3) wildcards, which never match a '/' ("arch/x86/kernel/kvm*.c").
 */
int matrix_interfaces_match(const char *pattern, const char *path);

/*
 * Does any of paths touch cell c's interfaces: the paths of its kinds
 * (the matrix's lists where it gives a kind, else the built-in ones) and
 * those of every cell glob of the matrix that matches c's name?
 */
int matrix_interfaces_touched(const struct matrix *m, const struct cell *c,
			      char *const *paths, size_t n_paths);

#endif
