/*
 * hypervisors: the release catalogue. The hypervisor releases a cell can
 * name (qemu: "10.0", xen: "4.20") are Debian's builds, unpacked by
 * images/hypervisors/fetch-releases.sh under CACHE/qemu/VERSION/ and
 * CACHE/xen/VERSION/, each with a manifest saying what was fetched and how
 * to run it. This module reads the manifests, resolves a cell's setting to
 * a release, builds the command line that runs a QEMU release (its own
 * loader and libraries, its own firmware with -L, its own modules), asks a
 * release whether it starts here, and which machine types it has (asked
 * once per binary, cached by its sha256 under CACHE/qemu-machines/).
 *
 * A name is a release when it is a version (digits and dots); any other
 * qemu value is a program (PATH) or a path, as before: a user's own build.
 */
#ifndef HVM_HYPERVISORS_H
#define HVM_HYPERVISORS_H

#include <stddef.h>
#include "lib/strbuf.h"

#define HYPERVISORS_FETCH "images/hypervisors/fetch-releases.sh"

struct hypervisors_deb {
	char *name, *version, *sha256;
};

struct hypervisors_release {
	char *kind;		/* "qemu" or "xen" */
	char *version;		/* "10.0" */
	char *suite;		/* the Debian suite, or NULL */
	char *package;		/* Debian package version */
	char *dir;		/* the release's directory */
	char *binary;		/* absolute: qemu-system-x86_64, xen.elf */
	char *loader;		/* absolute ld.so to run binary with, or NULL */
	char *library_path;	/* absolute dirs, ':'-separated, or NULL */
	char *module_dir;	/* QEMU_MODULE_DIR, or NULL */
	char **firmware;	/* absolute dirs, each one -L */
	size_t n_firmware;
	char *sha256;		/* of binary, as fetched */
	struct hypervisors_deb *debs;
	size_t n_debs;
};

/* The catalogue's root: $HVMATRIX_HYPERVISORS_DIR, else the build's cache/. */
const char *hypervisors_dir(void);
/* Is a cell's qemu/xen value a release name ("5.2", "4.20")? */
/* Releases compared as versions, not strings: 5.2 < 7.2 < 10.0 < 11.1. */
int hypervisors_version_cmp(const char *a, const char *b);
int hypervisors_is_release(const char *name);

/*
 * Parse a manifest's text (see fetch-releases.sh) of the release in dir:
 * relative paths become absolute under dir. 0, or -1 naming the line.
 */
int hypervisors_manifest_parse(struct hypervisors_release *r, const char *dir,
			       const char *text, struct strbuf *err);
void hypervisors_release_clear(struct hypervisors_release *r);

/*
 * The release kind/version from the catalogue. A Xen build without a
 * manifest (images/xen/fetch-xen.sh's layout: xen.elf, version, complete)
 * is read from those. 0; or -1 when it is not fetched (or incomplete), err
 * naming the command that fetches it.
 */
int hypervisors_load(struct hypervisors_release *r, const char *kind,
		     const char *version, struct strbuf *err);

/* Every fetched release, QEMU then Xen, by version. */
int hypervisors_list(struct hypervisors_release **rs, size_t *n,
		     struct strbuf *err);
void hypervisors_list_free(struct hypervisors_release *rs, size_t n);

/*
 * The argv words that start a QEMU release, before its own arguments:
 * [loader --library-path DIRS] binary, then -L DIR per firmware directory
 * (NULL-terminated, malloc'd; free with spawn_argv_free). *n: the count.
 */
char **hypervisors_qemu_argv(const struct hypervisors_release *r, size_t *n);
/*
 * The environment it runs in: this process's, plus QEMU_MODULE_DIR and,
 * without a loader, LD_LIBRARY_PATH (NULL-terminated, malloc'd).
 */
char **hypervisors_qemu_env(const struct hypervisors_release *r);

/*
 * Does the release start here? QEMU: `--version` exits 0 within 20 s and
 * names its version; Xen: xen.elf is an ELF image of the recorded sha256
 * size. 1 yes, 0 no with the reason in reason.
 */
int hypervisors_starts(const struct hypervisors_release *r,
		       struct strbuf *reason);

/*
 * The machine types a QEMU release offers (`-machine help`, the first word
 * of each line after the header; aliases included), as one word per line
 * in out. Cached in CACHE/qemu-machines/SHA256; a release that does not
 * start is cached too (SHA256.failed), until the host reboots. Runs QEMU
 * (up to its timeout) when nothing is cached: never on a loop. 0, or -1
 * with err.
 */
int hypervisors_machines(const struct hypervisors_release *r,
			 struct strbuf *out,
			 struct strbuf *err);
/*
 * The cached answer only, never running QEMU: 1 with the list in out, -1
 * with the cached failure in err, 0 when nothing is cached.
 */
int hypervisors_machines_cached(const struct hypervisors_release *r,
				struct strbuf *out, struct strbuf *err);
/* Parse `-machine help` output into one word per line. */
void hypervisors_machines_parse(const char *help, struct strbuf *out);
/* Is machine's type (up to a ',': "pc,vmport=on" is pc) among the lines
 * of list (as hypervisors_machines makes)? */
int hypervisors_has_machine(const char *list, const char *machine);

/*
 * Check a cell's release names against the catalogue at load time: a
 * release that is fetched must have the cell's machine type (message
 * "machine: ..."). A release not fetched passes here (its runs are
 * ERROR naming the fetch command). A QEMU cell's migrate_to must be a
 * release the catalogue has, and one its cpu can move to (message
 * "migrate_to: ..."). 0, or -1 with err.
 */
struct cell;
int hypervisors_check_cell(const struct cell *c, struct strbuf *err);
/*
 * From now on (on: a daemon whose loop runs, reloading its matrix), a
 * matrix load checks only what is cached: a release never asked is left
 * to its runs' precheck.
 */
void hypervisors_check_cached_only(int on);

#endif
