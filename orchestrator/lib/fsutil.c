/*
 * fsutil: file helpers. Never leaves a half-written file at its final path,
 * and the one check of a name that ends up in a path.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/xmalloc.h"

int fsutil_read(const char *path, struct strbuf *out)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		strbuf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

int fsutil_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fsutil_write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = xstrfmt("%s.tmp.XXXXXX", path);
	int fd, ret;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = fsutil_write_all(fd, data, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (!ret) {
		struct stat st;

		/* Keep the mode of the file we replace (mkstemp gives 0600). */
		if (stat(path, &st) == 0)
			fchmod(fd, st.st_mode & 07777);
		else
			fchmod(fd, 0644);
	}
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	free(tmp);
	return ret;
}

int fsutil_mkdir_p(const char *path, mode_t mode)
{
	char *copy = xstrdup(path);
	char *p;
	int ret = 0;

	for (p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(copy, mode) < 0 && errno != EEXIST) {
				ret = -errno;
				break;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	free(copy);
	return ret;
}

int fsutil_copy(const char *from, const char *to)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = fsutil_read(from, &sb);

	if (!ret)
		ret = fsutil_write_atomic(to, sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
}

/* Longest name quoted back in a message. */
#define NAME_QUOTE_MAX 60

int fsutil_check_name(const char *name, struct strbuf *err)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789._-";
	size_t n = strspn(name, chars);

	if (!*name) {
		strbuf_addstr(err, "name is empty: use letters, digits, '.', "
			      "'_' and '-', not starting with '.' or '-'");
		return -1;
	}
	if (name[n] || name[0] == '.' || name[0] == '-') {
		strbuf_addstr(err, "name ");
		strbuf_add_quoted(err, name, NAME_QUOTE_MAX);
		strbuf_addstr(err, " is not allowed: use letters, digits, '.', "
			      "'_' and '-', not starting with '.' or '-'");
		return -1;
	}
	if (n > FSUTIL_NAME_MAX) {
		strbuf_addstr(err, "name ");
		strbuf_add_quoted(err, name, NAME_QUOTE_MAX);
		strbuf_addf(err, " is too long: at most %d characters",
			    FSUTIL_NAME_MAX);
		return -1;
	}
	return 0;
}
