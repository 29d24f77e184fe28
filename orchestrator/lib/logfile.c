/*
 * logfile: capped console and build logs, their zstd compression and the
 * reader of both forms.
 *
 * The writer keeps the head of a log in the file as it streams (so a log
 * can be followed while its run goes on) and the last tail-size bytes in a
 * ring; only when the log outgrows its limit is the file cut back to the
 * head, the tail then written at the end behind a marker. The judge is fed
 * separately (boot.c), so the cap never hides anything from a verdict.
 *
 * Nothing here runs on a loop: finish, compress and read block, and their
 * callers put them on a worker thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "lib/fsutil.h"
#include "lib/logfile.h"
#include "lib/xmalloc.h"

#define LOGFILE_CHUNK 65536

struct logfile_writer {
	int fd;
	char *path;
	size_t limit;		/* 0: no cap */
	size_t head, tail;	/* head + tail == limit */
	uint64_t total;		/* console bytes given */
	char *ring;		/* the newest bytes past the head */
	size_t ring_pos;	/* where the next byte goes */
	int ring_full;
	int cut;		/* the file holds the head only */
	int failed;
};

int logfile_create(struct logfile_writer **out, const char *path,
		   size_t limit, struct strbuf *err)
{
	struct logfile_writer *w;
	int fd;

	*out = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "cannot create log %s: %s", path,
			    strerror(errno));
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->path = xstrdup(path);
	w->limit = limit;
	w->tail = limit / 2;
	w->head = limit - w->tail;
	*out = w;
	return 0;
}

static int put(struct logfile_writer *w, const void *buf, size_t len,
	       struct strbuf *err)
{
	int rc = fsutil_write_all(w->fd, buf, len);

	if (rc < 0) {
		w->failed = 1;
		strbuf_addf(err, "cannot write log %s: %s", w->path,
			    strerror(-rc));
		return -1;
	}
	return 0;
}

/* Keep the newest w->tail bytes of everything past the head. */
static void ring_add(struct logfile_writer *w, const char *p, size_t len)
{
	size_t n;

	if (!w->tail)
		return;
	if (!w->ring)
		w->ring = xmalloc(w->tail);
	if (len >= w->tail) {
		memcpy(w->ring, p + len - w->tail, w->tail);
		w->ring_pos = 0;
		w->ring_full = 1;
		return;
	}
	n = w->tail - w->ring_pos;
	if (n > len)
		n = len;
	memcpy(w->ring + w->ring_pos, p, n);
	memcpy(w->ring, p + n, len - n);
	if (w->ring_pos + len >= w->tail)
		w->ring_full = 1;
	w->ring_pos = (w->ring_pos + len) % w->tail;
}

int logfile_write(struct logfile_writer *w, const void *buf, size_t len,
		  struct strbuf *err)
{
	const char *p = buf;

	if (w->failed) {
		strbuf_addf(err, "log %s: an earlier write failed", w->path);
		return -1;
	}
	if (!w->limit) {
		w->total += len;
		return put(w, p, len, err);
	}
	if (w->total < w->head) {
		size_t n = w->head - w->total;

		if (n > len)
			n = len;
		if (put(w, p, n, err) < 0)
			return -1;
		w->total += n;
		p += n;
		len -= n;
	}
	if (!len)
		return 0;
	ring_add(w, p, len);
	if (!w->cut && w->total + len <= w->limit) {
		if (put(w, p, len, err) < 0)
			return -1;
	} else if (!w->cut) {
		/* Past the limit: the file goes back to the head, the ring
		 * has the tail. */
		if (ftruncate(w->fd, (off_t)w->head) < 0 ||
		    lseek(w->fd, (off_t)w->head, SEEK_SET) < 0) {
			w->failed = 1;
			strbuf_addf(err, "cannot cut log %s: %s", w->path,
				    strerror(errno));
			return -1;
		}
		w->cut = 1;
	}
	w->total += len;
	return 0;
}

uint64_t logfile_cut_bytes(const struct logfile_writer *w)
{
	return w->limit && w->total > w->limit ? w->total - w->limit : 0;
}

void logfile_abort(struct logfile_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->ring);
	free(w->path);
	free(w);
}

int logfile_finish(struct logfile_writer *w, const void *trailer,
		   size_t len, struct strbuf *err)
{
	int ret = -1;

	if (w->failed) {
		strbuf_addf(err, "log %s: an earlier write failed", w->path);
		goto out;
	}
	if (w->cut) {
		char *marker = xstrfmt("\n--- hvmatrix: %llu bytes cut here "
				       "(log_limit %zu) ---\n",
				       (unsigned long long)logfile_cut_bytes(w),
				       w->limit);
		int rc = put(w, marker, strlen(marker), err);

		free(marker);
		if (rc < 0)
			goto out;
		/* A cut log has a full ring: oldest from ring_pos on. */
		if (put(w, w->ring + w->ring_pos, w->tail - w->ring_pos,
			err) < 0 ||
		    put(w, w->ring, w->ring_pos, err) < 0)
			goto out;
	}
	if (trailer && len && put(w, trailer, len, err) < 0)
		goto out;
	ret = 0;
out:
	if (close(w->fd) < 0 && !ret) {
		strbuf_addf(err, "cannot write log %s: %s", w->path,
			    strerror(errno));
		ret = -1;
	}
	w->fd = -1;
	free(w->ring);
	free(w->path);
	free(w);
	return ret;
}

int logfile_compress(const char *path, char **zst_path, struct strbuf *err)
{
	size_t in_cap = ZSTD_CStreamInSize(), out_cap = ZSTD_CStreamOutSize();
	char *in = xmalloc(in_cap), *outbuf = xmalloc(out_cap);
	char *dst = xstrfmt("%s%s", path, LOGFILE_ZST_SUFFIX);
	char *tmp = xstrfmt("%s.tmp.XXXXXX", dst);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	int in_fd = -1, out_fd = -1, ret = -1, rc;
	struct stat st;
	size_t zr;

	*zst_path = NULL;
	if (!cctx)
		die("out of memory for a zstd context");
	in_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in_fd < 0 || fstat(in_fd, &st) < 0) {
		strbuf_addf(err, "cannot read log %s: %s", path,
			    strerror(errno));
		goto out;
	}
	out_fd = mkostemp(tmp, O_CLOEXEC);
	if (out_fd < 0) {
		strbuf_addf(err, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	fchmod(out_fd, 0644);
	/* The checksum lets a reader tell a damaged log from a good one;
	 * the size lets zstd size its window to the log. */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
			       LOGFILE_ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(cctx, (unsigned long long)st.st_size);
	for (;;) {
		ssize_t n = read(in_fd, in, in_cap);
		ZSTD_EndDirective mode;
		ZSTD_inBuffer input;
		int done;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addf(err, "cannot read log %s: %s", path,
				    strerror(errno));
			goto out;
		}
		mode = n ? ZSTD_e_continue : ZSTD_e_end;
		input.src = in;
		input.size = (size_t)n;
		input.pos = 0;
		do {
			ZSTD_outBuffer o = { outbuf, out_cap, 0 };

			zr = ZSTD_compressStream2(cctx, &o, &input, mode);
			if (ZSTD_isError(zr)) {
				strbuf_addf(err, "cannot compress log %s: %s",
					    path, ZSTD_getErrorName(zr));
				goto out;
			}
			if ((rc = fsutil_write_all(out_fd, outbuf, o.pos)) < 0) {
				strbuf_addf(err, "cannot write %s: %s", tmp,
					    strerror(-rc));
				goto out;
			}
			done = mode == ZSTD_e_end ? zr == 0 :
			       input.pos == input.size;
		} while (!done);
		if (mode == ZSTD_e_end)
			break;
	}
	/* The plain log goes next: its only copy must be on disk first. */
	if (fsync(out_fd) < 0) {
		strbuf_addf(err, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = close(out_fd);
	out_fd = -1;
	if (rc < 0 || rename(tmp, dst) < 0) {
		strbuf_addf(err, "cannot write %s: %s", dst, strerror(errno));
		goto out;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		strbuf_addf(err, "cannot remove %s: %s", path, strerror(errno));
		unlink(dst);
		goto out;
	}
	*zst_path = dst;
	dst = NULL;
	ret = 0;
out:
	if (out_fd >= 0)
		close(out_fd);
	if (ret)
		unlink(tmp);
	if (in_fd >= 0)
		close(in_fd);
	ZSTD_freeCCtx(cctx);
	free(in);
	free(outbuf);
	free(dst);
	free(tmp);
	return ret;
}

struct logfile_reader {
	int fd;
	char *path;
	ZSTD_DCtx *dctx;	/* NULL for a plain log */
	char *in;
	size_t in_cap;
	ZSTD_inBuffer input;
	size_t hint;		/* last ZSTD_decompressStream(): 0 at a
				 * frame's end */
	int eof;
};

int logfile_open_read(struct logfile_reader **out, const char *path,
		      struct strbuf *err)
{
	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	unsigned char head[4];
	struct logfile_reader *rd;
	ssize_t n;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		strbuf_addf(err, "cannot open log %s: %s", path,
			    strerror(errno));
		return -1;
	}
	/* By content, not by name: plain logs from before compression, and
	 * a .zst that is not one, must both read as what they are. */
	do
		n = pread(fd, head, sizeof(head), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		strbuf_addf(err, "cannot read log %s: %s", path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	rd = xcalloc(1, sizeof(*rd));
	rd->fd = fd;
	rd->path = xstrdup(path);
	if (n == (ssize_t)sizeof(head) && !memcmp(head, magic, sizeof(head))) {
		rd->dctx = ZSTD_createDCtx();
		if (!rd->dctx)
			die("out of memory for a zstd context");
		rd->in_cap = ZSTD_DStreamInSize();
		rd->in = xmalloc(rd->in_cap);
		rd->input.src = rd->in;
	}
	*out = rd;
	return 0;
}

static ssize_t read_plain(struct logfile_reader *rd, void *buf, size_t len,
			  struct strbuf *err)
{
	ssize_t n;

	do
		n = read(rd->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		strbuf_addf(err, "cannot read log %s: %s", rd->path,
			    strerror(errno));
	return n < 0 ? -1 : n;
}

ssize_t logfile_read(struct logfile_reader *rd, void *buf, size_t len,
		     struct strbuf *err)
{
	ZSTD_outBuffer o = { buf, len, 0 };

	if (!rd->dctx)
		return read_plain(rd, buf, len, err);
	if (!len)
		return 0;
	for (;;) {
		size_t zr, in_pos;

		if (rd->input.pos == rd->input.size && !rd->eof) {
			ssize_t n = read_plain(rd, rd->in, rd->in_cap, err);

			if (n < 0)
				return -1;
			rd->input.size = (size_t)n;
			rd->input.pos = 0;
			rd->eof = !n;
		}
		/* With the input used up, one more call still flushes what
		 * the decoder holds. */
		in_pos = rd->input.pos;
		zr = ZSTD_decompressStream(rd->dctx, &o, &rd->input);
		if (ZSTD_isError(zr)) {
			strbuf_addf(err, "log %s: damaged zstd data: %s",
				    rd->path, ZSTD_getErrorName(zr));
			return -1;
		}
		/* A call that did nothing after a frame's end asks for the
		 * next frame's header: that is no truncation. */
		if (rd->input.pos != in_pos || o.pos)
			rd->hint = zr;
		if (o.pos)
			return (ssize_t)o.pos;
		if (rd->input.pos == rd->input.size && rd->eof) {
			if (rd->hint) {
				strbuf_addf(err, "log %s: truncated zstd data",
					    rd->path);
				return -1;
			}
			return 0;
		}
	}
}

void logfile_close_read(struct logfile_reader *rd)
{
	if (!rd)
		return;
	close(rd->fd);
	ZSTD_freeDCtx(rd->dctx);
	free(rd->in);
	free(rd->path);
	free(rd);
}

int logfile_read_all(const char *path, size_t limit, struct strbuf *out,
		     struct strbuf *err)
{
	struct logfile_reader *rd;
	size_t got = 0;
	ssize_t n;
	int ret = -1;

	if (logfile_open_read(&rd, path, err) < 0)
		return -1;
	for (;;) {
		size_t want = LOGFILE_CHUNK;
		char probe;

		if (limit && got == limit) {
			/* Is there more than the caller wanted? */
			n = logfile_read(rd, &probe, 1, err);
			if (n >= 0)
				ret = n > 0;
			break;
		}
		if (limit && limit - got < want)
			want = limit - got;
		strbuf_grow(out, want);
		n = logfile_read(rd, out->buf + out->len, want, err);
		if (n < 0)
			break;
		if (!n) {
			ret = 0;
			break;
		}
		strbuf_setlen(out, out->len + (size_t)n);
		got += (size_t)n;
	}
	logfile_close_read(rd);
	return ret;
}

int logfile_print(const char *path, FILE *f, unsigned flags,
		  struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	struct logfile_reader *rd;
	char *buf;
	size_t have = 0, used;
	ssize_t n;

	if (logfile_open_read(&rd, path, err) < 0)
		return -1;
	buf = xmalloc(LOGFILE_CHUNK);
	/* A sequence a chunk ends inside waits for the next chunk. */
	while ((n = logfile_read(rd, buf + have, LOGFILE_CHUNK - have,
				 err)) > 0) {
		have += (size_t)n;
		used = strbuf_add_clean(&text, buf, have,
					flags | STRBUF_CLEAN_MORE);
		memmove(buf, buf + used, have - used);
		have -= used;
		fwrite(text.buf, 1, text.len, f);
		strbuf_reset(&text);
	}
	strbuf_add_clean(&text, buf, have, flags & ~STRBUF_CLEAN_MORE);
	fwrite(text.buf, 1, text.len, f);
	strbuf_release(&text);
	free(buf);
	logfile_close_read(rd);
	return n < 0 ? 1 : 0;
}
