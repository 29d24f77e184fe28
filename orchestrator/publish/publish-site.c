/*
 * publish-site: the site as files: its directories, the style sheet, the
 * manifest (.manifest: per page, the key of the data it was made from; a
 * page whose key is unchanged is neither rendered nor written) and the
 * writing of pages, each replaced whole as a reader sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

#define MANIFEST ".manifest"

/* The entry of page, added (key 0) when missing. */
static size_t manifest_put(struct manifest *m, const char *page)
{
	int added;
	uint32_t i = strmap_put(&m->index, m->pages, page, &added);

	if (added) {
		size_t old = m->alloc;

		ALLOC_GROW(m->pages, m->index.n, m->alloc);
		if (m->alloc != old) {
			m->keys = xrealloc(m->keys, m->alloc *
					   sizeof(*m->keys));
			m->seen = xrealloc(m->seen, m->alloc);
		}
		m->pages[i] = xstrdup(page);
		m->keys[i] = 0;
		m->seen[i] = 0;
	}
	return i;
}

/* The key of page: 1, or 0 when the manifest has no such page. */
static int manifest_get(const struct manifest *m, const char *page,
			uint64_t *key)
{
	uint32_t i = strmap_get(&m->index, m->pages, page);

	if (i == STRMAP_NONE)
		return 0;
	*key = m->keys[i];
	return 1;
}

void publish_site_manifest_release(struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->index.n; i++)
		free(m->pages[i]);
	free(m->pages);
	free(m->keys);
	free(m->seen);
	strmap_release(&m->index);
	memset(m, 0, sizeof(*m));
}

int publish_site_manifest_load(struct site *s)
{
	struct strbuf text = STRBUF_INIT;
	char *path = xstrfmt("%s/" MANIFEST, s->out), *p, *nl;

	if (fsutil_read(path, &text) == 0) {
		for (p = text.buf; *p; p = nl + 1) {
			char *sp;
			size_t i;

			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = '\0';
			sp = strchr(p, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			i = manifest_put(&s->manifest, sp + 1);
			s->manifest.keys[i] = strtoull(p, NULL, 16);
		}
	}
	free(path);
	strbuf_release(&text);
	return 0;
}

/* Written last, like a page (no fsync): lost, the next publish renders
 * every page again. In the index's order, which is its own from one
 * publish to the next: the same pages give the same file. */
int publish_site_manifest_save(struct site *s, struct strbuf *err)
{
	const struct manifest *m = &s->manifest;
	struct strbuf text = STRBUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < m->index.cap; i++) {
		uint32_t e = m->index.slots[i];

		if (e && m->seen[e - 1])
			strbuf_addf(&text, "%016llx %s\n",
				    (unsigned long long)m->keys[e - 1],
				    m->pages[e - 1]);
	}
	rc = publish_site_write(s, MANIFEST, text.buf, text.len, err);
	if (!rc)
		s->written--;
	strbuf_release(&text);
	return rc;
}

int publish_site_known(const struct site *s, const char *page,
		       uint64_t key)
{
	uint64_t old;

	return manifest_get(&s->manifest, page, &old) && old == key;
}

int publish_site_fresh(struct site *s, const char *page, uint64_t key)
{
	size_t i = manifest_put(&s->manifest, page);

	s->manifest.seen[i] = 1;
	if (s->manifest.keys[i] == key) {
		s->kept++;
		return 1;
	}
	s->manifest.keys[i] = key;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Write OUT/page, no fsync (the site is made again from the store; the
 * manifest is written last). A new page is created where it goes, with
 * O_EXCL: nothing links to it before the pages written after it. A page
 * there already is replaced whole, as a reader sees it, by writing its
 * spare DIR/.NAME.old and exchanging the two (RENAME_EXCHANGE): the spare
 * then holds the old text for the next write, so a rewrite neither makes
 * nor frees an inode (on ext4 without a journal each new inode costs a
 * scan past the recently freed ones: 5 ms a page on a busy disk). Where
 * the exchange is not supported, the spare is renamed over the page.
 */
int publish_site_write_path(const char *path, const char *data, size_t len,
			    struct strbuf *err)
{
	char *spare = NULL;
	const char *slash;
	int fd, ret = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write_all(fd, data, len) < 0 || close(fd) < 0) {
			strbuf_addf(err, "%s: %s", path, strerror(errno));
			unlink(path);
			goto out;
		}
		goto done;
	}
	if (errno != EEXIST) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	slash = strrchr(path, '/');
	spare = xstrfmt("%.*s/.%s.old", (int)(slash - path), path, slash + 1);
	fd = open(spare, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len) < 0) {
		strbuf_addf(err, "%s: %s", spare, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		strbuf_addf(err, "%s: %s", spare, strerror(errno));
		goto out;
	}
	if (renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_EXCHANGE) < 0 &&
	    ((errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) ||
	     rename(spare, path) < 0)) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
done:
	ret = 0;
out:
	free(spare);
	return ret;
}

int publish_site_write(struct site *s, const char *page, const char *data,
		       size_t len, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", s->out, page);
	int ret = publish_site_write_path(path, data, len, err);

	/* A page is served: readable whatever the daemon's umask (077);
	 * the store's own files (the runs cache) stay private. */
	if (!ret) {
		chmod(path, 0644);
		s->written++;
	}
	free(path);
	return ret;
}

int publish_site_page(struct site *s, const char *page, const char *base,
		      const char *title, const char *body, int by_text,
		      struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	uint64_t key = strmap_fnv_str(STRMAP_FNV0, PUBLISH_SALT);
	int ret = 0;

	if (by_text) {
		key = strmap_fnv_str(key, body) ^
		      strmap_fnv_str(STRMAP_FNV0, title);
		if (publish_site_fresh(s, page, key))
			return 0;
	}
	publish_html_wrap(s, &out, base, title, body);
	ret = publish_site_write(s, page, out.buf, out.len, err);
	strbuf_release(&out);
	return ret;
}

/* The style sheet, written only when it changed. */
int publish_site_style(struct site *s, const char *from, struct strbuf *err)
{
	struct strbuf want = STRBUF_INIT, have = STRBUF_INIT;
	char *to = xstrfmt("%s/style.css", s->out);
	int rc = fsutil_read(from, &want), ret = -1;

	if (rc < 0) {
		strbuf_addf(err, "%s: cannot read: %s", from, strerror(-rc));
		goto out;
	}
	if (fsutil_read(to, &have) == 0 && have.len == want.len &&
	    !memcmp(have.buf, want.buf, want.len)) {
		ret = 0;
		goto out;
	}
	ret = publish_site_write(s, "style.css", want.buf, want.len, err);
out:
	strbuf_release(&want);
	strbuf_release(&have);
	free(to);
	return ret;
}

int publish_site_dirs(const char *out, struct strbuf *err)
{
	static const char *const dirs[] = { "grid", "cell", "commit", "run" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *d = xstrfmt("%s/%s", out, dirs[i]);
		int rc = fsutil_mkdir_p(d, 0755);

		if (rc == 0)
			chmod(d, 0755);	/* served, whatever the umask */

		if (rc < 0) {
			strbuf_addf(err, "%s: cannot create: %s", d,
				    strerror(-rc));
			free(d);
			return -1;
		}
		free(d);
	}
	return 0;
}

