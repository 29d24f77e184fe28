/*
 * logfile: console and build logs on disk. A writer that caps a log at a
 * byte limit (the first part and the last part are kept, a marker line
 * says how much was cut between them), the compression of a finished log
 * to zstd, and the one reader every consumer of a log uses (CLI,
 * dashboard), which takes plain and zstd logs alike, told apart by their
 * magic number.
 *
 * Memory stays bounded whatever a guest prints: the writer holds at most
 * the tail part of its limit, the compressor and the reader stream.
 */
#ifndef HVM_LOGFILE_H
#define HVM_LOGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/strbuf.h"

#define LOGFILE_ZST_SUFFIX ".zst"
#define LOGFILE_ZSTD_LEVEL 3

struct logfile_writer;

/*
 * Create (truncate) the log at path. limit: bytes of log kept (0: no
 * cap); beyond it the first limit - limit/2 bytes and the last limit/2
 * bytes are kept, with between them the line
 * "--- hvmatrix: N bytes cut here (log_limit L) ---". 0 or -1 + err.
 */
int logfile_create(struct logfile_writer **out, const char *path,
		   size_t limit, struct strbuf *err);
/* Append console bytes (capped). 0 or -1 + err; after an error every
 * further write fails too. */
int logfile_write(struct logfile_writer *w, const void *buf, size_t len,
		  struct strbuf *err);
/* Bytes cut so far (0 while the log fits its limit). */
uint64_t logfile_cut_bytes(const struct logfile_writer *w);
/*
 * Write the kept tail (after the marker, if anything was cut), then the
 * trailer (never capped; may be NULL), close and free the writer. Blocking
 * file I/O: run it off the loop thread. 0 or -1 + err; w is freed either
 * way. logfile_abort() closes and frees without writing anything more.
 */
int logfile_finish(struct logfile_writer *w, const void *trailer,
		   size_t len, struct strbuf *err);
void logfile_abort(struct logfile_writer *w);

/*
 * Compress the finished log at path to path + ".zst" (streaming, bounded
 * memory, fsync'd), then remove path. *zst_path (caller frees) names the
 * new file. On error nothing is removed: path still holds the log.
 * Blocking: run it off the loop thread. 0 or -1 + err.
 */
int logfile_compress(const char *path, char **zst_path, struct strbuf *err);

struct logfile_reader;

/* Open a plain or zstd log for reading. 0 or -1 + err. */
int logfile_open_read(struct logfile_reader **out, const char *path,
		      struct strbuf *err);
/*
 * Up to len bytes of the log's text into buf: the number read, 0 at its
 * end, -1 + err (unreadable, corrupt or truncated zstd).
 */
ssize_t logfile_read(struct logfile_reader *rd, void *buf, size_t len,
		     struct strbuf *err);
void logfile_close_read(struct logfile_reader *rd);
/*
 * Append the log's text to out, at most limit bytes (0: all of it). 0 when
 * all of it was read, 1 when it stopped at limit, -1 + err.
 */
int logfile_read_all(const char *path, size_t limit, struct strbuf *out,
		     struct strbuf *err);
/*
 * Stream the log's text to f cleaned for people (strbuf_add_clean() with
 * flags: valid UTF-8, no terminal escapes, no raw controls), in chunks. 0
 * when all of it went; 1 + err when the log broke off (damaged, cut short:
 * what it gave went); -1 + err when it cannot be opened (nothing went).
 * Errors writing f are left to the caller (ferror, fflush).
 */
int logfile_print(const char *path, FILE *f, unsigned flags,
		  struct strbuf *err);

#endif
