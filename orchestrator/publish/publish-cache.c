/*
 * publish-cache: the runs of the last publish, compact, beside the store
 * in STATE/runs-cache (a head, then the runs as they are in memory) and
 * STATE/runs-cache-strs (the string pool, NUL-separated), so that a
 * publish after one more commit reads only the runs recorded since (a
 * rowid range) instead of the whole runs table, and appends them. The
 * cache holds inputs, never results: everything shown is computed again
 * from the same runs a full scan gives, so an incremental publish writes
 * what a full one writes, and any site of the store can use it. It is
 * not in the site: a web server serves the site. A cache that cannot be
 * written (a state directory the reader may not write) only costs the
 * next publish a full scan.
 *
 * It is used only while it is a prefix of the runs table: no run was
 * deleted or changed since (the store's runs_changed, which triggers keep,
 * schema 7) and the store's highest id is not below the cache's. A run
 * deleted or edited, files of another size than the head says (a publish
 * that died appending), a checksum that does not match, another layout:
 * the cache is dropped and the whole table read. A schema step that adds
 * columns does not change the ones kept here. Native byte order: a file
 * of this machine's, like the site's manifest, not a format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

#define CACHE "runs-cache"
#define STRS "runs-cache-strs"
#define MAGIC "hvmatrix-runs-6\n"

struct cache_head {
	char magic[16];
	uint64_t run_size;	/* sizeof(struct regressions_run) */
	uint64_t n_runs, n_strs, str_bytes;
	int64_t max_id;
	uint64_t check;		/* check_runs + check_str of all */
	int64_t changed;	/* the store's runs_changed then */
};

static uint64_t mix(uint64_t v)
{
	v = (v ^ (v >> 31)) * 0x7fb5d329728ea185ULL;
	return v ^ (v >> 27);
}

/*
 * A sum, so that appending runs and strings only adds to it: each word
 * times an odd number of its place (a word changed, moved or lost
 * changes it), one multiplication a word: 400,000 runs are read at
 * every publish, and a finer mix per word cost more than the read.
 */
static uint64_t check_runs(const struct regressions_run *runs, size_t from,
			   size_t to)
{
	const size_t words = sizeof(*runs) / 8;
	uint64_t sum = 0, w, place = 2 * from * words + 1;
	size_t i, k;

	for (i = from; i < to; i++)
		for (k = 0; k < words; k++, place += 2) {
			memcpy(&w, (const char *)&runs[i] + 8 * k, 8);
			sum += (w ^ 0x9e3779b97f4a7c15ULL) * place;
		}
	return sum;
}

static uint64_t check_str(const char *s, size_t i)
{
	return mix(strmap_fnv_str(STRMAP_FNV0, s) + i);
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t got = read(fd, p, len);

		if (got <= 0)
			return -1;
		p += got;
		len -= (size_t)got;
	}
	return 0;
}

static int write_at(int fd, const void *buf, size_t len, off_t at)
{
	const char *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len, at);

		if (w <= 0)
			return -1;
		p += w;
		at += w;
		len -= (size_t)w;
	}
	return 0;
}

/* s->in from the files; -1 (in left empty) when they cannot be used. */
static int cache_read(struct site *s)
{
	char *path = xstrfmt("%s/" CACHE, record_dir(s->r));
	char *spath = xstrfmt("%s/" STRS, record_dir(s->r));
	int fd = -1, sfd = -1, ret = -1;
	struct cache_head h;
	struct stat st, sst;
	char *strs = NULL, *p, *end;
	uint64_t check = 0;
	size_t i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	sfd = open(spath, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || sfd < 0 || fstat(fd, &st) < 0 ||
	    fstat(sfd, &sst) < 0 || read_all(fd, &h, sizeof(h)) < 0)
		goto out;
	if (memcmp(h.magic, MAGIC, sizeof(h.magic)) ||
	    h.run_size != sizeof(struct regressions_run) || !h.n_strs ||
	    h.n_runs > (SIZE_MAX - sizeof(h)) / h.run_size ||
	    (uint64_t)st.st_size != sizeof(h) + h.n_runs * h.run_size ||
	    (uint64_t)sst.st_size != h.str_bytes || !h.str_bytes)
		goto out;
	strs = xmalloc(h.str_bytes + 1);
	if (read_all(sfd, strs, h.str_bytes) < 0)
		goto out;
	strs[h.str_bytes] = '\0';
	/* The pool in order: interned again, each must get its own id. */
	p = strs;
	end = strs + h.str_bytes;
	for (i = 0; i < h.n_strs; i++) {
		char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul || (i == 0) != (nul == p) ||
		    (i && regressions_input_intern(&s->in, p) != i))
			goto out;
		check += check_str(p, i);
		p = nul + 1;
	}
	if (p != end)
		goto out;
	s->in.runs = xmalloc((h.n_runs + 1) * sizeof(*s->in.runs));
	s->in.runs_alloc = h.n_runs + 1;
	if (read_all(fd, s->in.runs, h.n_runs * sizeof(*s->in.runs)) < 0)
		goto out;
	s->in.n_runs = h.n_runs;
	check += check_runs(s->in.runs, 0, h.n_runs);
	if (check != h.check)
		goto out;
	for (i = 0; i < h.n_runs; i++) {
		const struct regressions_run *r = &s->in.runs[i];

		if ((i && r->id <= r[-1].id) || r->tree >= h.n_strs ||
		    r->build >= h.n_strs || r->commit >= h.n_strs ||
		    r->cell >= h.n_strs || r->line >= h.n_strs ||
		    r->purpose >= h.n_strs || r->reason >= h.n_strs ||
		    r->kernel >= h.n_strs || r->fp >= h.n_strs)
			goto out;
	}
	if ((h.n_runs ? s->in.runs[h.n_runs - 1].id : 0) != h.max_id)
		goto out;
	s->cache_runs = h.n_runs;
	s->cache_strs = h.n_strs;
	s->cache_str_bytes = h.str_bytes;
	s->cache_check = h.check;
	s->cache_changed = h.changed;
	ret = 0;
out:
	if (ret < 0) {
		regressions_input_release(&s->in);
		regressions_input_init(&s->in);
	}
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	free(strs);
	free(path);
	free(spath);
	return ret;
}

int publish_cache_load(struct site *s, int *full, struct strbuf *err)
{
	int64_t max_id, changed;

	if (full)
		*full = 1;
	s->from_cache = 0;
	if (record_query_runs_extent(s->r, &max_id, &changed, err) < 0)
		return -1;
	s->changed = changed;
	if (cache_read(s) == 0) {
		int64_t cached_max = s->in.n_runs ?
				     s->in.runs[s->in.n_runs - 1].id : 0;

		if (s->cache_changed == changed && cached_max <= max_id) {
			if (full)
				*full = 0;
			s->from_cache = 1;
			return regressions_input_load(&s->in, s->r,
						      cached_max, err);
		}
		regressions_input_release(&s->in);
		regressions_input_init(&s->in);
	}
	return regressions_input_load(&s->in, s->r, 0, err);
}

/* The strings from `from` on, NUL-separated, into b. */
static uint64_t add_strs(const struct site *s, size_t from,
			 struct strbuf *b)
{
	uint64_t check = 0;
	size_t i;

	for (i = from; i < s->in.n_strs; i++) {
		strbuf_add(b, s->in.strs[i], strlen(s->in.strs[i]) + 1);
		check += check_str(s->in.strs[i], i);
	}
	return check;
}

static void head_of(const struct site *s, struct cache_head *h,
		    uint64_t str_bytes, uint64_t check)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MAGIC, sizeof(h->magic));
	h->run_size = sizeof(struct regressions_run);
	h->n_runs = s->in.n_runs;
	h->n_strs = s->in.n_strs;
	h->str_bytes = str_bytes;
	h->max_id = s->in.n_runs ? s->in.runs[s->in.n_runs - 1].id : 0;
	h->check = check;
	h->changed = s->changed;
}

/* After a publish from the cache: the new runs and strings appended,
 * then the head (a publish that dies before leaves sizes the head does
 * not match: the next one reads the store whole). */
static int cache_append(struct site *s, struct strbuf *err)
{
	char *path = xstrfmt("%s/" CACHE, record_dir(s->r));
	char *spath = xstrfmt("%s/" STRS, record_dir(s->r));
	struct strbuf b = STRBUF_INIT;
	struct cache_head h;
	uint64_t check = s->cache_check;
	int fd = -1, sfd = -1, ret = -1;
	size_t n = s->in.n_runs - s->cache_runs;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	sfd = open(spath, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || sfd < 0)
		goto fail;
	check += add_strs(s, s->cache_strs, &b);
	check += check_runs(s->in.runs, s->cache_runs, s->in.n_runs);
	head_of(s, &h, s->cache_str_bytes + b.len, check);
	if (write_at(sfd, b.buf, b.len, (off_t)s->cache_str_bytes) < 0 ||
	    write_at(fd, &s->in.runs[s->cache_runs], n * sizeof(*s->in.runs),
		     (off_t)(sizeof(h) + s->cache_runs *
			     sizeof(*s->in.runs))) < 0 ||
	    write_at(fd, &h, sizeof(h), 0) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	strbuf_addf(err, "%s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	strbuf_release(&b);
	free(path);
	free(spath);
	return ret;
}

static int cache_write(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	struct cache_head h;
	char *path = xstrfmt("%s/" CACHE, record_dir(s->r));
	char *spath = xstrfmt("%s/" STRS, record_dir(s->r));
	char *tmp = xstrfmt("%s.tmp", path);
	uint64_t check;
	int fd = -1, ret = -1;

	check = add_strs(s, 0, &b);
	check += check_runs(s->in.runs, 0, s->in.n_runs);
	head_of(s, &h, b.len, check);
	/* Without fsync: a cache lost is a full scan. The strings first:
	 * the runs' head is what makes them valid. The runs are written
	 * from memory, not copied (20 MB for 400,000). */
	if (publish_site_write_path(spath, b.buf, b.len, err) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && (write_at(fd, &h, sizeof(h), 0) < 0 ||
			write_at(fd, s->in.runs, s->in.n_runs *
				 sizeof(*s->in.runs), (off_t)sizeof(h)) < 0)) {
		close(fd);
		fd = -1;
	} else if (fd >= 0 && close(fd) < 0) {
		fd = -1;
	}
	if (fd < 0) {
		strbuf_addf(err, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&b);
	free(path);
	free(spath);
	free(tmp);
	return ret;
}

void publish_cache_save(struct site *s)
{
	struct strbuf err = STRBUF_INIT;
	int rc = s->from_cache ? cache_append(s, &err) : cache_write(s, &err);

	if (rc < 0 && getenv("HVMATRIX_DEBUG_PUBLISH"))
		fprintf(stderr, "publish: the runs are not cached: %s\n",
			err.buf);
	strbuf_release(&err);
}
