/*
 * fuzz-matrix: the matrix loader (matrix-yaml.c, matrix-sections.c,
 * cell.c) on any bytes. A file people edit by hand and the daemon reloads
 * while it runs: whatever it holds, loading must return 0 or -1 with a
 * message naming the file, and never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	memset(&m, 0, sizeof(m));
	if (matrix_load_buf(&m, "/fuzz/matrix.yaml", (const char *)data,
			    size, &err) == 0) {
		/* Every name the loader accepted can be looked up. */
		for (size_t i = 0; i < m.n_cells; i++)
			if (matrix_find(&m, m.cells[i].name) != &m.cells[i])
				FUZZ_FAIL("cell %zu not found by its name", i);
		matrix_release(&m);
	} else if (strncmp(err.buf, "/fuzz/matrix.yaml", 17)) {
		FUZZ_FAIL("an error that does not name the file: %s", err.buf);
	}
	strbuf_release(&err);
	return 0;
}
