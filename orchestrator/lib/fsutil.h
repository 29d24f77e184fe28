/*
 * fsutil: whole-file reads, atomic whole-file writes, mkdir -p, copy, and
 * the check of a name that becomes a path component. Writes go to a
 * temporary file that is fsynced and renamed into place, so a crash leaves
 * either the old file or the new one, never half of one.
 */
#ifndef HVM_FSUTIL_H
#define HVM_FSUTIL_H

#include <sys/types.h>
#include "lib/strbuf.h"

/* Each returns 0 or -errno. */
int fsutil_read(const char *path, struct strbuf *out);
/* write(2) all of data, through EINTR and short writes: 0 or -errno. */
int fsutil_write_all(int fd, const void *data, size_t len);
int fsutil_write_atomic(const char *path, const void *data, size_t len);
int fsutil_mkdir_p(const char *path, mode_t mode);
int fsutil_copy(const char *from, const char *to);

#define FSUTIL_NAME_MAX 64

/*
 * Is name safe as one path component, on every file system and in every
 * shell: 1 to FSUTIL_NAME_MAX characters from [A-Za-z0-9._-], not starting
 * with '.' (no ".", "..", hidden files) or '-' (no option). Cell, tree and
 * build names all pass here. 0, or -1 with a message (starting with
 * "name") in err.
 */
int fsutil_check_name(const char *name, struct strbuf *err);

#endif
