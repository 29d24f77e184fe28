/*
 * kernel: the identity of a kernel image under test: its git blob id (so
 * the same bytes are the same kernel wherever they live) and the version
 * string from the x86 boot protocol header. Read-only: never modifies the
 * image.
 */
#ifndef HVM_KERNEL_H
#define HVM_KERNEL_H

#include "lib/strbuf.h"

struct kernel {
	char *path;	/* absolute */
	char *id;	/* 40 hex digits */
	char *version;	/* e.g. "6.1.0-28-amd64 (debian-kernel@...) #1 SMP ..."
			 * or "" when the image has no bzImage header */
};

/* 0, or -1 with a message naming the path in err. */
int kernel_identify(struct kernel *k, const char *path, struct strbuf *err);
void kernel_release(struct kernel *k);
/* The version's first word, e.g. "6.1.0-28-amd64" (into out). */
void kernel_release_name(const char *version, struct strbuf *out);

#endif
