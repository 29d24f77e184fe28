/*
 * fsutil: whole-file reads, atomic whole-file writes, mkdir -p, copy.
 * Writes go to a temporary file that is fsynced and renamed into place, so
 * a crash leaves either the old file or the new one, never half of one.
 */
#ifndef HVM_FSUTIL_H
#define HVM_FSUTIL_H

#include <sys/types.h>
#include "strbuf.h"

/* Each returns 0 or -errno. */
int fsutil_read(const char *path, struct strbuf *out);
int fsutil_write_atomic(const char *path, const void *data, size_t len);
int fsutil_mkdir_p(const char *path, mode_t mode);
int fsutil_copy(const char *from, const char *to);

#endif
