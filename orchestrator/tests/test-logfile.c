/*
 * test-logfile: the capped console log writer, zstd compression and the
 * reader every consumer of a log uses (logfile.c), on real files in a
 * private directory; and boot.c's use of them, with a shell script standing
 * in for QEMU (this binary is then also boot.c's exec trampoline).
 */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"
#include "lib/logfile.h"
#include "lib/xmalloc.h"

static char tmpdir[PATH_MAX];

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-logfile.XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_path(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

/* Deterministic bytes: a line-ish text with a counter, so any shift,
 * loss or reordering of a chunk shows. */
static char *pattern(size_t len)
{
	char *p = xmalloc(len + 1);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = i % 61 == 60 ? '\n' : "0123456789abcdef"[(i / 61) % 16];
	p[len] = '\0';
	return p;
}

/* Write buf in uneven chunks, as console reads come. */
static void write_chunks(struct logfile_writer *w, const char *buf,
			 size_t len)
{
	struct strbuf err = STRBUF_INIT;
	size_t off = 0, step = 1;

	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		if (logfile_write(w, buf + off, n, &err) < 0)
			ck_abort_msg("logfile_write: %s", err.buf);
		off += n;
		step = step * 7 % 4093 + 1;
	}
	strbuf_release(&err);
}

static void finish(struct logfile_writer *w, const char *trailer)
{
	struct strbuf err = STRBUF_INIT;

	if (logfile_finish(w, trailer, trailer ? strlen(trailer) : 0,
			   &err) < 0)
		ck_abort_msg("logfile_finish: %s", err.buf);
	strbuf_release(&err);
}

static struct logfile_writer *create(const char *path, size_t limit)
{
	struct strbuf err = STRBUF_INIT;
	struct logfile_writer *w = NULL;

	if (logfile_create(&w, path, limit, &err) < 0)
		ck_abort_msg("logfile_create: %s", err.buf);
	strbuf_release(&err);
	return w;
}

static void read_all(const char *path, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;

	if (logfile_read_all(path, 0, out, &err) != 0)
		ck_abort_msg("logfile_read_all: %s", err.buf);
	strbuf_release(&err);
}

START_TEST(cap_keeps_head_marker_tail)
{
	char *path = tmp_path("cap.log");
	char *text = pattern(10000);
	struct logfile_writer *w = create(path, 1000);
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	struct stat st;

	write_chunks(w, text, 10000);
	ck_assert_uint_eq(logfile_cut_bytes(w), 9000);
	/* Past the limit the file holds the head only, until finish. */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 500);
	finish(w, "\n--- hvmatrix: cell: PASS: ok\n");

	strbuf_add(&want, text, 500);
	strbuf_addstr(&want, "\n--- hvmatrix: 9000 bytes cut here "
		      "(log_limit 1000) ---\n");
	strbuf_add(&want, text + 9500, 500);
	strbuf_addstr(&want, "\n--- hvmatrix: cell: PASS: ok\n");
	ck_assert_int_eq(fsutil_read(path, &got), 0);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_mem_eq(got.buf, want.buf, want.len);

	strbuf_release(&got);
	strbuf_release(&want);
	free(text);
	free(path);
}
END_TEST

START_TEST(under_limit_is_whole_and_live)
{
	char *path = tmp_path("small.log");
	char *text = pattern(1000);
	struct strbuf got = STRBUF_INIT;
	struct logfile_writer *w;

	/* 800 bytes: past the head (500), within the limit: on disk as
	 * they come, no marker. */
	w = create(path, 1000);
	write_chunks(w, text, 800);
	ck_assert_uint_eq(logfile_cut_bytes(w), 0);
	ck_assert_int_eq(fsutil_read(path, &got), 0);
	ck_assert_uint_eq(got.len, 800);
	finish(w, "END\n");
	strbuf_reset(&got);
	ck_assert_int_eq(fsutil_read(path, &got), 0);
	ck_assert_uint_eq(got.len, 804);
	ck_assert_mem_eq(got.buf, text, 800);
	ck_assert_str_eq(got.buf + 800, "END\n");

	/* Exactly the limit: nothing cut either. */
	w = create(path, 1000);
	write_chunks(w, text, 1000);
	finish(w, NULL);
	strbuf_reset(&got);
	ck_assert_int_eq(fsutil_read(path, &got), 0);
	ck_assert_uint_eq(got.len, 1000);
	ck_assert_ptr_null(strstr(got.buf, "cut here"));

	/* One byte more: one byte cut, the newest 500 kept. */
	w = create(path, 999);
	write_chunks(w, text, 1000);
	finish(w, NULL);
	strbuf_reset(&got);
	ck_assert_int_eq(fsutil_read(path, &got), 0);
	ck_assert_ptr_nonnull(strstr(got.buf, "\n--- hvmatrix: 1 bytes cut "
				     "here (log_limit 999) ---\n"));
	ck_assert_mem_eq(got.buf + got.len - 499, text + 501, 499);

	/* No limit: everything. */
	w = create(path, 0);
	write_chunks(w, text, 1000);
	finish(w, NULL);
	strbuf_reset(&got);
	ck_assert_int_eq(fsutil_read(path, &got), 0);
	ck_assert_uint_eq(got.len, 1000);

	strbuf_release(&got);
	free(text);
	free(path);
}
END_TEST

/* xorshift: reproducible noise zstd cannot squeeze. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned char next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned char)rng;
}

START_TEST(compress_round_trip_multi_mb)
{
	const size_t len = 5u << 20;
	char *path = tmp_path("big.log");
	char *zst = NULL, *text = xmalloc(len), *chunk = xmalloc(1000);
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	struct logfile_reader *rd;
	struct logfile_writer *w;
	struct stat st;
	unsigned char magic[4];
	FILE *f;
	size_t i;
	ssize_t n;

	/* Random bytes (NULs and all) with long text runs between. */
	for (i = 0; i < len; i++)
		text[i] = (i / 65536) % 2 ? (char)next_byte() :
			  "console line\n"[i % 13];
	w = create(path, 16u << 20);
	write_chunks(w, text, len);
	finish(w, NULL);
	if (logfile_compress(path, &zst, &err) < 0)
		ck_abort_msg("logfile_compress: %s", err.buf);
	ck_assert_str_eq(zst + strlen(path), ".zst");
	ck_assert_mem_eq(zst, path, strlen(path));
	ck_assert_int_ne(stat(path, &st), 0);	/* the plain log is gone */
	ck_assert_int_eq(stat(zst, &st), 0);
	ck_assert_int_lt(st.st_size, (off_t)len * 3 / 4);
	f = fopen(zst, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(magic, 1, 4, f), 4);
	fclose(f);
	ck_assert_mem_eq(magic, "\x28\xb5\x2f\xfd", 4);

	read_all(zst, &got);
	ck_assert_uint_eq(got.len, len);
	ck_assert_mem_eq(got.buf, text, len);

	/* Small reads give the same bytes. */
	ck_assert_int_eq(logfile_open_read(&rd, zst, &err), 0);
	strbuf_reset(&got);
	while ((n = logfile_read(rd, chunk, 1000, &err)) > 0)
		strbuf_add(&got, chunk, (size_t)n);
	ck_assert_int_eq(n, 0);
	logfile_close_read(rd);
	ck_assert_uint_eq(got.len, len);
	ck_assert_mem_eq(got.buf, text, len);

	/* A limit stops the read and says so. */
	strbuf_reset(&got);
	ck_assert_int_eq(logfile_read_all(zst, 4096, &got, &err), 1);
	ck_assert_uint_eq(got.len, 4096);
	ck_assert_mem_eq(got.buf, text, 4096);
	strbuf_reset(&got);
	ck_assert_int_eq(logfile_read_all(zst, len, &got, &err), 0);

	strbuf_release(&err);
	strbuf_release(&got);
	free(text);
	free(chunk);
	free(zst);
	free(path);
}
END_TEST

START_TEST(plain_and_zst_read_by_content)
{
	char *plain = tmp_path("old.log"), *fake = tmp_path("fake.log.zst");
	char *zlog = tmp_path("z.log"), *zst = NULL, *renamed;
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	static const char text[] = "Linux version 6.1\n\0\xff\x1b[31mred\n";

	/* A plain log from before compression existed. */
	ck_assert_int_eq(fsutil_write_atomic(plain, text, sizeof(text)), 0);
	read_all(plain, &got);
	ck_assert_uint_eq(got.len, sizeof(text));
	ck_assert_mem_eq(got.buf, text, sizeof(text));

	/* A plain file whatever its name says. */
	ck_assert_int_eq(fsutil_write_atomic(fake, "abc", 3), 0);
	strbuf_reset(&got);
	read_all(fake, &got);
	ck_assert_str_eq(got.buf, "abc");

	/* Shorter than the magic, and empty. */
	ck_assert_int_eq(fsutil_write_atomic(fake, "\x28\xb5", 2), 0);
	strbuf_reset(&got);
	read_all(fake, &got);
	ck_assert_uint_eq(got.len, 2);
	ck_assert_int_eq(fsutil_write_atomic(fake, "", 0), 0);
	strbuf_reset(&got);
	read_all(fake, &got);
	ck_assert_uint_eq(got.len, 0);

	/* zstd whatever its name says. */
	ck_assert_int_eq(fsutil_write_atomic(zlog, text, sizeof(text)), 0);
	ck_assert_int_eq(logfile_compress(zlog, &zst, &err), 0);
	renamed = tmp_path("renamed.txt");
	ck_assert_int_eq(rename(zst, renamed), 0);
	strbuf_reset(&got);
	read_all(renamed, &got);
	ck_assert_uint_eq(got.len, sizeof(text));
	ck_assert_mem_eq(got.buf, text, sizeof(text));

	/* A missing log is an error that names it. */
	ck_assert_int_eq(logfile_read_all(zlog, 0, &got, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, zlog));

	strbuf_release(&err);
	strbuf_release(&got);
	free(plain);
	free(fake);
	free(zlog);
	free(zst);
	free(renamed);
}
END_TEST

START_TEST(truncated_or_damaged_zst_is_a_clean_error)
{
	const size_t len = 300000;
	char *path = tmp_path("t.log"), *zst = NULL, *text = xmalloc(len);
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT, z = STRBUF_INIT;
	size_t i, cut;

	for (i = 0; i < len; i++)
		text[i] = (char)next_byte();
	ck_assert_int_eq(fsutil_write_atomic(path, text, len), 0);
	ck_assert_int_eq(logfile_compress(path, &zst, &err), 0);
	ck_assert_int_eq(fsutil_read(zst, &z), 0);

	/* Cut anywhere after the magic, down to the magic alone. */
	{
		const size_t cuts[] = { z.len - 1, z.len - 4, z.len - 100,
					z.len / 2, 1000, 13, 5, 4 };

		for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			cut = cuts[i];
			ck_assert_int_eq(fsutil_write_atomic(zst, z.buf, cut),
					 0);
			strbuf_reset(&got);
			strbuf_reset(&err);
			ck_assert_int_eq(logfile_read_all(zst, 0, &got, &err),
					 -1);
			ck_assert_msg(strstr(err.buf, "truncated") ||
				      strstr(err.buf, "damaged"),
				      "cut %zu: %s", cut, err.buf);
			ck_assert_ptr_nonnull(strstr(err.buf, zst));
			ck_assert_uint_le(got.len, len);
		}
	}

	/* A flipped byte in the data: the checksum or the decoder says so. */
	z.buf[z.len / 2] ^= 0x40;
	ck_assert_int_eq(fsutil_write_atomic(zst, z.buf, z.len), 0);
	strbuf_reset(&got);
	strbuf_reset(&err);
	ck_assert_int_eq(logfile_read_all(zst, 0, &got, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "damaged"));

	strbuf_release(&err);
	strbuf_release(&got);
	strbuf_release(&z);
	free(text);
	free(zst);
	free(path);
}
END_TEST

START_TEST(compress_failure_keeps_the_plain_log)
{
	char *path = tmp_path("never-written.log"), *zst = NULL, *z;
	struct strbuf err = STRBUF_INIT;
	struct stat st;

	ck_assert_int_eq(logfile_compress(path, &zst, &err), -1);
	ck_assert_ptr_null(zst);
	ck_assert_ptr_nonnull(strstr(err.buf, path));
	z = xstrfmt("%s.zst", path);
	ck_assert_int_ne(stat(z, &st), 0);

	strbuf_release(&err);
	free(z);
	free(path);
}
END_TEST

/*
 * A stand-in for QEMU: noise, the marker with the nonce it finds in its
 * -append, more noise. Its marker lands in the part of the log the cap
 * cuts: the judge must see it anyway.
 */
static const char fake_qemu[] =
	"#!/bin/sh\n"
	"for a; do case $a in *hvmatrix.nonce=*) n=${a##*hvmatrix.nonce=};"
	" n=${n%% *};; esac; done\n"
	"head -c 300000 /dev/zero | tr '\\0' a; echo\n"
	"echo \"HVMATRIX-OK nonce=$n\"\n"
	"head -c 300000 /dev/zero | tr '\\0' b; echo\n"
	"echo the last line\n";

static char *done_log_path;

static void fake_done(struct boot_run *r, void *data)
{
	struct stat st;

	/* What on_done sees is what the store records: the final log. */
	done_log_path = xstrdup(r->log_path);
	ck_assert_int_eq(stat(r->log_path, &st), 0);
}

START_TEST(boot_caps_compresses_and_judges_everything)
{
	char *script = tmp_path("fake-qemu"), *log = tmp_path("run.log");
	struct strbuf got = STRBUF_INIT, err = STRBUF_INIT;
	struct boot_opts opts = { .jobs = 1, .on_done = fake_done };
	struct boot_run run;
	struct stat st;
	struct cell c;
	uv_loop_t loop;
	const char *marker;

	ck_assert_int_eq(fsutil_write_atomic(script, fake_qemu,
					     sizeof(fake_qemu) - 1), 0);
	ck_assert_int_eq(chmod(script, 0755), 0);
	cell_init(&c);
	c.name = xstrdup("fake");
	free(c.qemu);
	c.qemu = xstrdup(script);
	c.log_limit = 65536;
	c.timeout_s = 60;
	c.silence_s = 30;
	uv_loop_init(&loop);
	boot_run_init(&run, &c, "/no/kernel", "/no/initrd", log);
	ck_assert_int_eq(boot_run_all(&loop, &run, 1, &opts), 0);

	ck_assert_msg(judge_verdict(&run.judge) == VERDICT_PASS, "%s: %s",
		      verdict_name(judge_verdict(&run.judge)),
		      run.judge.reason);
	ck_assert_ptr_nonnull(done_log_path);
	ck_assert_str_eq(done_log_path, run.log_path);
	ck_assert_str_eq(run.log_path + strlen(log), ".zst");
	ck_assert_int_ne(stat(log, &st), 0);
	if (logfile_read_all(run.log_path, 0, &got, &err) != 0)
		ck_abort_msg("%s", err.buf);
	/* Head, marker, tail, then hvmatrix's own footer. */
	marker = strstr(got.buf, "\n--- hvmatrix: ");
	ck_assert_ptr_nonnull(marker);
	ck_assert_ptr_nonnull(strstr(marker, " bytes cut here (log_limit "
				     "65536) ---\n"));
	ck_assert_ptr_null(strstr(got.buf, "HVMATRIX-OK"));
	ck_assert_ptr_nonnull(strstr(got.buf, "bbb\nthe last line\n"
				     "\n--- hvmatrix: fake: PASS: "));
	ck_assert_uint_lt(got.len, 65536 + 200);
	ck_assert_uint_gt(got.len, 65536);

	boot_run_release(&run);
	cell_release(&c);
	uv_loop_close(&loop);
	strbuf_release(&got);
	strbuf_release(&err);
	free(done_log_path);
	free(script);
	free(log);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("logfile");
	TCase *tc = tcase_create("logfile");
	SRunner *sr;
	int failed;

	/* boot.c starts its children through this binary. */
	if (argc > 1 && spawn_is_trampoline(argv[1]))
		return spawn_trampoline(argc - 1, argv + 1);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cap_keeps_head_marker_tail);
	tcase_add_test(tc, under_limit_is_whole_and_live);
	tcase_add_test(tc, compress_round_trip_multi_mb);
	tcase_add_test(tc, plain_and_zst_read_by_content);
	tcase_add_test(tc, truncated_or_damaged_zst_is_a_clean_error);
	tcase_add_test(tc, compress_failure_keeps_the_plain_log);
	tcase_add_test(tc, boot_caps_compresses_and_judges_everything);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
