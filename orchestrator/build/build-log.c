/*
 * build-log: a build's log, capped as a console log is (lib/logfile.c:
 * its head and tail kept, the cut marked, compressed when done), and its
 * error lines found as it streams.
 *
 * The steps write into a pipe, not the file: a reader thread of the
 * build's own moves the bytes into the capped writer and through the
 * error scanner, so that neither the disk nor the daemon's memory grows
 * with what a commit's build prints (400 MiB of output once made the
 * failed-build path read it all into memory). The loop never touches the
 * bytes; it only writes its own short lines into the same pipe, in order
 * with the steps' output.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build.h"
#include "build/build-priv.h"
#include "lib/logfile.h"
#include "lib/xmalloc.h"

#define BUILD_LOG_CHUNK 65536
/* After the build: what the pipe holds is at most 64 KiB, unless
 * something left behind keeps writing; 1 MiB more is all it gets. */
#define BUILD_LOG_DRAIN_CHUNKS 16

static const char *const error_markers[] = {
	"error:", "Error ", "*** ", "undefined reference", "fatal error",
};

static int is_error_line(const char *s, size_t len)
{
	size_t i, m;

	for (i = 0; i < ARRAY_SIZE(error_markers); i++) {
		m = strlen(error_markers[i]);
		if (m <= len && memmem(s, len, error_markers[i], m))
			return 1;
	}
	return 0;
}

/* Is the line s (len bytes) already one of out's lines? */
static int has_line(const struct strbuf *out, const char *s, size_t len)
{
	const char *p = out->buf, *end = out->buf + out->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (l == len && !memcmp(p, s, len))
			return 1;
		p += l + 1;
	}
	return 0;
}

void build_log_scan_init(struct build_log_scan *s)
{
	strbuf_init(&s->line, 0);
	strbuf_init(&s->out, 0);
	s->n = 0;
	s->long_line = 0;
}

static void scan_line(struct build_log_scan *s)
{
	size_t l = s->line.len;

	if (l && s->line.buf[l - 1] == '\r')
		l--;
	/* make -j repeats the same failure once per level. */
	if (s->n < BUILD_MAX_ERROR_LINES && is_error_line(s->line.buf, l) &&
	    !has_line(&s->out, s->line.buf, l)) {
		if (s->out.len)
			strbuf_addch(&s->out, '\n');
		strbuf_add(&s->out, s->line.buf, l);
		s->n++;
	}
	strbuf_reset(&s->line);
	s->long_line = 0;
}

void build_log_scan_feed(struct build_log_scan *s, const char *buf,
			 size_t len)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t l = nl ? (size_t)(nl - buf) : len, keep = l;

		/* A line is judged by its first BUILD_LOG_LINE_MAX bytes:
		 * memory stays bounded whatever one line holds. */
		if (s->line.len + keep > BUILD_LOG_LINE_MAX)
			keep = BUILD_LOG_LINE_MAX - s->line.len;
		if (!s->long_line)
			strbuf_add(&s->line, buf, keep);
		if (keep < l)
			s->long_line = 1;
		if (!nl)
			return;
		scan_line(s);
		buf += l + 1;
		len -= l + 1;
	}
}

char *build_log_scan_end(struct build_log_scan *s)
{
	if (s->line.len)
		scan_line(s);
	strbuf_release(&s->line);
	return strbuf_detach(&s->out, NULL);
}

struct build_log {
	struct logfile_writer *w;
	char *path;
	int rd;			/* the pipe's read end */
	int stop[2];		/* written to: drain what is there and end */
	pthread_t thread;
	int started;
	struct build_log_scan scan;
	struct strbuf err;	/* the first write error */
};

/* Move what the pipe gives into the log and the scanner. */
static int pump(struct build_log *l, char *buf)
{
	ssize_t n = read(l->rd, buf, BUILD_LOG_CHUNK);

	if (n < 0)
		return errno == EINTR ? 1 : 0;	/* EAGAIN: drained */
	if (n == 0)
		return 0;
	build_log_scan_feed(&l->scan, buf, (size_t)n);
	/* After a failed write, the scan goes on: the lines still count. */
	if (!l->err.len)
		logfile_write(l->w, buf, (size_t)n, &l->err);
	return 1;
}

static void *reader(void *arg)
{
	struct build_log *l = arg;
	char *buf = xmalloc(BUILD_LOG_CHUNK);
	struct pollfd pf[2] = {
		{ .fd = l->rd, .events = POLLIN },
		{ .fd = l->stop[0], .events = POLLIN },
	};
	size_t i;

	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents) {
			/*
			 * The build is over, but something it started may
			 * still hold the pipe, even write on: take what is
			 * there, at most BUILD_LOG_DRAIN_CHUNKS reads.
			 */
			fcntl(l->rd, F_SETFL, O_NONBLOCK);
			for (i = 0; i < BUILD_LOG_DRAIN_CHUNKS; i++)
				if (!pump(l, buf))
					break;
			break;
		}
		if (pf[0].revents && !pump(l, buf))
			break;		/* every writer has closed */
	}
	free(buf);
	return NULL;
}

int build_log_open(struct build_log **out, const char *path, size_t limit,
		   int *write_fd, struct strbuf *err)
{
	struct build_log *l = xcalloc(1, sizeof(*l));
	int fds[2] = { -1, -1 };

	*out = NULL;
	*write_fd = -1;
	l->rd = l->stop[0] = l->stop[1] = -1;
	strbuf_init(&l->err, 0);
	build_log_scan_init(&l->scan);
	l->path = xstrdup(path);
	if (logfile_create(&l->w, path, limit, err) < 0)
		goto fail;
	if (pipe2(fds, O_CLOEXEC) < 0 || pipe2(l->stop, O_CLOEXEC) < 0) {
		strbuf_addf(err, "build log %s: pipe: %s", path,
			    strerror(errno));
		goto fail;
	}
	l->rd = fds[0];
	if (pthread_create(&l->thread, NULL, reader, l)) {
		strbuf_addf(err, "build log %s: cannot start its reader",
			    path);
		goto fail;
	}
	l->started = 1;
	*write_fd = fds[1];
	*out = l;
	return 0;
fail:
	if (fds[1] >= 0)
		close(fds[1]);
	build_log_abort(l);
	return -1;
}

/* Tell the reader to drain and end, and wait for it. */
static void stop_reader(struct build_log *l)
{
	if (!l->started)
		return;
	while (write(l->stop[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(l->thread, NULL);
	l->started = 0;
}

static void log_free(struct build_log *l)
{
	if (l->rd >= 0)
		close(l->rd);
	if (l->stop[0] >= 0)
		close(l->stop[0]);
	if (l->stop[1] >= 0)
		close(l->stop[1]);
	free(build_log_scan_end(&l->scan));
	strbuf_release(&l->err);
	free(l->path);
	free(l);
}

void build_log_abort(struct build_log *l)
{
	if (!l)
		return;
	stop_reader(l);
	logfile_abort(l->w);
	log_free(l);
}

int build_log_close(struct build_log *l, const char *trailer, char **errors,
		    char **log_path, struct strbuf *err)
{
	char *zst = NULL;
	int ret = -1;

	stop_reader(l);
	/* Taken: a fresh scanner for log_free() to end; else log_free()
	 * ends this one (re-initialising it would leak its lines). */
	if (errors) {
		*errors = build_log_scan_end(&l->scan);
		build_log_scan_init(&l->scan);
	}
	if (l->err.len) {
		strbuf_add(err, l->err.buf, l->err.len);
		logfile_abort(l->w);
	} else if (logfile_finish(l->w, trailer, strlen(trailer), err) == 0 &&
		   logfile_compress(l->path, &zst, err) == 0) {
		free(*log_path);
		*log_path = zst;
		ret = 0;
	}
	l->w = NULL;
	log_free(l);
	return ret;
}
