/*
 * fuzz-matrix-edit: the comment-keeping editor (matrix-edit.c) behind
 * `hvmatrix matrix add` and `remove`, on any file the loader accepts. The
 * editor checks its own output before writing ("internal error: ...");
 * such a refusal is a bug the fuzzer must report, as is a write that
 * leaves other than the cells asked for. The file lives in a private
 * directory (the editor works on paths, and writes atomically).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matrix/cell.h"
#include "lib/fsutil.h"
#include "fuzz.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

#define MAX_REMOVES 4	/* cells removed per input: bounded work */

static char *dir, *path;

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	/* tmpfs when there is one: the editor fsyncs every write. */
	char *tmpl = xstrfmt("%s/hvm-fuzz-edit.XXXXXX",
			     access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");

	if (!mkdtemp(tmpl))
		FUZZ_FAIL("mkdtemp failed");
	dir = tmpl;
	path = xstrfmt("%s/matrix.yaml", dir);
	atexit(teardown);
}

static void put(const uint8_t *data, size_t size)
{
	if (fsutil_write_atomic(path, data, size) < 0)
		FUZZ_FAIL("cannot write %s", path);
}

static void no_internal_error(const struct strbuf *err)
{
	if (strstr(err->buf, "internal error"))
		FUZZ_FAIL("editor refused its own output: %s", err->buf);
}

static size_t load_count(const char *what, const char *last)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;
	size_t n;

	memset(&m, 0, sizeof(m));
	if (matrix_load(&m, path, &err))
		FUZZ_FAIL("%s: the edited file does not load: %s", what,
			  err.buf);
	n = m.n_cells;
	if (last && (!n || strcmp(m.cells[n - 1].name, last)))
		FUZZ_FAIL("%s: the added cell is not last", what);
	matrix_release(&m);
	strbuf_release(&err);
	return n;
}

static void try_add(const uint8_t *data, size_t size, size_t n)
{
	struct strbuf err = STRBUF_INIT;
	struct cell c;

	cell_init(&c);
	if (cell_set(&c, "name", "fuzz-added", &err) ||
	    cell_set(&c, "machine", "pc-q35-7.2", &err) ||
	    cell_set(&c, "expect", "hypervisor=none", &err))
		FUZZ_FAIL("cannot make the cell: %s", err.buf);
	put(data, size);
	if (matrix_edit_add_cell(path, &c, &err) == 0) {
		if (load_count("add", "fuzz-added") != n + 1)
			FUZZ_FAIL("add: not one cell more");
	} else {
		no_internal_error(&err);
	}
	cell_release(&c);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;
	size_t i;

	if (!dir)
		setup();
	memset(&m, 0, sizeof(m));
	put(data, size);
	if (matrix_load(&m, path, &err)) {
		strbuf_release(&err);
		return 0;
	}
	if (!matrix_find(&m, "fuzz-added"))
		try_add(data, size, m.n_cells);
	for (i = 0; i < m.n_cells && i < MAX_REMOVES; i++) {
		strbuf_reset(&err);
		put(data, size);
		if (matrix_edit_remove_cell(path, m.cells[i].name, &err) == 0) {
			if (load_count("remove", NULL) != m.n_cells - 1)
				FUZZ_FAIL("remove: not one cell less");
		} else {
			no_internal_error(&err);
		}
	}
	matrix_release(&m);
	strbuf_release(&err);
	return 0;
}
