/*
 * matrix-edit: add and remove cells by editing matrix files as text, so
 * that comments, order and blank lines survive.
 *
 * An edit is only written after the edited text has been loaded back and
 * found to hold exactly the intended cells, and the same trees and
 * builds: this module must never write a matrix file that does not load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "matrix/matrix-priv.h"
#include "lib/xmalloc.h"

/*
 * libyaml counts characters (a CRLF as two, a BOM as none); the editing
 * works on bytes. The text has loaded, so it is valid UTF-8.
 */
static size_t char_to_byte(const char *buf, size_t len, size_t idx)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t off = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		off = 3;
	while (idx-- && off < len) {
		if (p[off] < 0x80)
			off += 1;
		else if (p[off] < 0xe0)
			off += 2;
		else if (p[off] < 0xf0)
			off += 3;
		else
			off += 4;
	}
	return off < len ? off : len;
}

static size_t line_start(const char *buf, size_t off)
{
	while (off && buf[off - 1] != '\n')
		off--;
	return off;
}

/* Offset just after the newline that ends the line holding off. */
static size_t line_next(const char *buf, size_t len, size_t off)
{
	const char *nl = memchr(buf + off, '\n', len - off);

	return nl ? (size_t)(nl - buf) + 1 : len;
}

/* Only blanks between off and the end of its line? */
static int line_blank(const char *buf, size_t len, size_t off)
{
	for (; off < len && buf[off] != '\n'; off++)
		if (buf[off] != ' ' && buf[off] != '\t' && buf[off] != '\r')
			return 0;
	return 1;
}

/* Is the line at off (a line start) a comment; its indentation in *ind. */
static int line_comment(const char *buf, size_t len, size_t off,
			size_t *ind)
{
	size_t i = off;

	while (i < len && buf[i] == ' ')
		i++;
	*ind = i - off;
	return i < len && buf[i] == '#';
}

/* The end of a cell item's text: the end of its last line. */
static size_t item_end(const char *buf, size_t len, size_t end)
{
	/* A block scalar ends after its newline, at a line start. */
	if (end && buf[end - 1] == '\n')
		return end;
	return line_next(buf, len, end);
}

/*
 * Where a new last cell goes, given the end of the last one (and where a
 * removed cell's text ends): after the blank and comment lines that
 * follow when one of them has a tab before its text. Such a line is valid
 * YAML where it is (a plain scalar may go on over it), but after a quoted
 * scalar or "[]", as an edit may leave there, libyaml refuses the tab
 * (found by fuzz/fuzz-matrix-edit.c).
 */
static size_t after_tab_blanks(const char *buf, size_t len, size_t at)
{
	size_t e = at, next, ws;
	int tab = 0;

	while (e < len) {
		next = line_next(buf, len, e);
		ws = strspn(buf + e, " \t");
		if (e + ws < next && !strchr("#\r\n", buf[e + ws]))
			break;	/* a line with text: not blank, no comment */
		if (memchr(buf + e, '\t', ws))
			tab = 1;
		e = next;
	}
	return tab ? e : at;
}

/* The '-' that starts a block item, searching from `from`. */
static size_t find_dash(const char *buf, size_t len, size_t from)
{
	size_t i = from;

	while (i < len && buf[i] != '-') {
		if (buf[i] == '#')
			i = line_next(buf, len, i);
		else
			i++;
	}
	return i;
}

/*
 * The '-' of the first item of the block `cells` list. Its mark is that
 * of the sequence, which starts at its tag when it has one.
 */
static size_t first_dash(const char *buf, size_t len,
			 const struct layout *lay)
{
	size_t i = char_to_byte(buf, len, lay->value_start);

	if (lay->value_tagged)
		while (i < len && !strchr(" \t\r\n", buf[i]))
			i++;
	return find_dash(buf, len, i);
}

/*
 * libyaml also breaks lines at a lone CR (and at U+0085, U+2028, U+2029,
 * which the check after each edit catches); the editing works with LF
 * and CRLF only.
 */
static int has_lone_cr(const char *buf, size_t len)
{
	const char *p = buf;

	while ((p = memchr(p, '\r', len - (size_t)(p - buf)))) {
		if ((size_t)(p - buf) + 1 >= len || p[1] != '\n')
			return 1;
		p++;
	}
	return 0;
}

static int uses_crlf(const char *buf, size_t len, size_t off)
{
	const char *nl = memchr(buf + off, '\n', len - off);

	if (!nl && off)
		nl = memrchr(buf, '\n', off);
	return nl && nl > buf && nl[-1] == '\r';
}

/* Append text, turning its newlines into CRLF when crlf is set. */
static void add_lines(struct strbuf *sb, const char *text, int crlf)
{
	for (; *text; text++) {
		if (*text == '\n' && crlf)
			strbuf_addch(sb, '\r');
		strbuf_addch(sb, *text);
	}
}

static int str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static int list_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return 1;
}

/* Same settings (positions aside)? */
static int cell_same(const struct cell *a, const struct cell *b)
{
	return str_equal(a->name, b->name) &&
	       str_equal(a->description, b->description) &&
	       a->backend == b->backend && str_equal(a->qemu, b->qemu) &&
	       a->accel == b->accel && str_equal(a->machine, b->machine) &&
	       str_equal(a->cpu, b->cpu) && a->memory_mb == b->memory_mb &&
	       a->smp == b->smp &&
	       list_equal(a->qemu_args, a->n_qemu_args, b->qemu_args,
			  b->n_qemu_args) &&
	       str_equal(a->cmdline, b->cmdline) &&
	       a->timeout_s == b->timeout_s && a->silence_s == b->silence_s &&
	       list_equal(a->expect, a->n_expect, b->expect, b->n_expect) &&
	       a->requires == b->requires && str_equal(a->xen, b->xen) &&
	       str_equal(a->xen_cmdline, b->xen_cmdline) &&
	       a->guest == b->guest && a->log_limit == b->log_limit;
}

static int tree_same(const struct matrix_tree *a,
		     const struct matrix_tree *b)
{
	return str_equal(a->name, b->name) && str_equal(a->path, b->path) &&
	       str_equal(a->url, b->url) &&
	       str_equal(a->credentials, b->credentials) &&
	       list_equal(a->branches, a->n_branches, b->branches,
			  b->n_branches) &&
	       a->poll_s == b->poll_s && a->first == b->first &&
	       a->tips_first == b->tips_first && a->no_reuse == b->no_reuse;
}

static int build_same(const struct matrix_build *a,
		      const struct matrix_build *b)
{
	return str_equal(a->name, b->name) && str_equal(a->base, b->base) &&
	       list_equal(a->fragments, a->n_fragments, b->fragments,
			  b->n_fragments) &&
	       list_equal(a->targets, a->n_targets, b->targets,
			  b->n_targets) &&
	       str_equal(a->image, b->image) && a->timeout_s == b->timeout_s &&
	       str_equal(a->ccache, b->ccache);
}

/* Does m hold the same trees and builds as old (NULL: none)? */
static int others_same(const struct matrix *m, const struct matrix *old)
{
	size_t i;

	if (!old)
		return !m->n_trees && !m->n_builds;
	if (m->n_trees != old->n_trees || m->n_builds != old->n_builds)
		return 0;
	for (i = 0; i < m->n_trees; i++)
		if (!tree_same(&m->trees[i], &old->trees[i]))
			return 0;
	for (i = 0; i < m->n_builds; i++)
		if (!build_same(&m->builds[i], &old->builds[i]))
			return 0;
	return 1;
}

/*
 * Load the edited text and check that it holds exactly `want` (old cells
 * minus the removed one, plus the added one, in order), and the trees and
 * builds of `old`, before anything is written.
 */
static int verify_and_write(const char *path, const struct strbuf *text,
			    const struct cell *const *want, size_t n_want,
			    const struct matrix *old, struct strbuf *err)
{
	struct matrix m;
	struct strbuf msg = STRBUF_INIT;
	size_t i;
	int r, ret = -1;

	if (matrix_parse(&m, path, text->buf, text->len, &msg, NULL)) {
		strbuf_addf(err, "%s: internal error: the edited file would "
			    "not load (%s); left unchanged", path, msg.buf);
		goto out;
	}
	if (m.n_cells != n_want) {
		strbuf_addf(err, "%s: internal error: the edited file would "
			    "hold %zu cells instead of %zu; left unchanged",
			    path, m.n_cells, n_want);
		goto out_release;
	}
	for (i = 0; i < n_want; i++) {
		if (cell_same(&m.cells[i], want[i]))
			continue;
		strbuf_addf(err, "%s: internal error: cell '%s' would change "
			    "in the edited file; left unchanged", path,
			    want[i]->name);
		goto out_release;
	}
	if (!others_same(&m, old)) {
		strbuf_addf(err, "%s: internal error: the trees or builds "
			    "would change in the edited file; left unchanged",
			    path);
		goto out_release;
	}
	r = fsutil_write_atomic(path, text->buf, text->len);
	if (r < 0) {
		strbuf_addf(err, "%s: cannot write: %s", path, strerror(-r));
		goto out_release;
	}
	ret = 0;
out_release:
	matrix_release(&m);
out:
	strbuf_release(&msg);
	return ret;
}

int matrix_edit_add_cell(const char *path, const struct cell *c,
			 struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf item = STRBUF_INIT, msg = STRBUF_INIT;
	struct matrix m = { 0 };
	struct layout lay;
	const struct cell **want = NULL;
	const struct cell *dup;
	size_t i, at;
	int r, crlf, ret = -1;

	memset(&lay, 0, sizeof(lay));
	if (cell_validate(c, &msg)) {
		strbuf_addf(err, "%s", msg.buf);
		goto out;
	}
	r = fsutil_read(path, &text);
	if (r == -ENOENT) {
		strbuf_addstr(&out, "cells:\n");
		cell_format_yaml(c, 2, &out);
		want = xmalloc(sizeof(*want));
		want[0] = c;
		ret = verify_and_write(path, &out, want, 1, NULL, err);
		goto out;
	}
	if (r < 0) {
		strbuf_addf(err, "%s: cannot read: %s", path, strerror(-r));
		goto out;
	}
	if (matrix_parse(&m, path, text.buf, text.len, err, &lay))
		goto out;
	dup = matrix_find(&m, c->name);
	if (dup) {
		strbuf_addf(err, "cell '%s' already exists in %s (line %u)",
			    c->name, path, dup->line);
		goto out;
	}
	if (lay.root_flow || (lay.style == CELLS_FLOW && lay.n_items)) {
		strbuf_addf(err, "%s: cannot add to a matrix written in YAML "
			    "flow style ({...} or [...]); write 'cells' as a "
			    "block list", path);
		goto out;
	}
	if (has_lone_cr(text.buf, text.len)) {
		strbuf_addf(err, "%s: cannot edit a file with CR line ends; "
			    "convert them to LF", path);
		goto out;
	}
	if (lay.style == CELLS_BLOCK) {
		/* After the last line of the last cell, at its indent. */
		size_t dash = first_dash(text.buf, text.len, &lay);

		at = item_end(text.buf, text.len,
			      char_to_byte(text.buf, text.len,
					   lay.items[lay.n_items - 1].end));
		at = after_tab_blanks(text.buf, text.len, at);
		cell_format_yaml(c, (int)(dash - line_start(text.buf, dash)),
				 &item);
		strbuf_add(&out, text.buf, at);
	} else {
		/* `cells: []` or `cells:`: make it `cells:` + a block list. */
		size_t key_end = char_to_byte(text.buf, text.len, lay.key_end);
		size_t val_end = char_to_byte(text.buf, text.len,
					      lay.value_end);

		/* An empty value's mark is just after the colon. */
		if (val_end <= key_end)
			val_end = key_end + 1;
		at = line_next(text.buf, text.len, val_end);
		cell_format_yaml(c, (int)lay.key_column + 2, &item);
		strbuf_add(&out, text.buf, key_end);
		strbuf_addch(&out, ':');
		/* "cells: []# x" has a comment; "cells:# x" would not. */
		if (val_end < at && !strchr(" \t\r\n", text.buf[val_end]))
			strbuf_addch(&out, ' ');
		strbuf_add(&out, text.buf + val_end, at - val_end);
	}
	crlf = uses_crlf(text.buf, text.len, at ? at - 1 : 0);
	if (out.len && out.buf[out.len - 1] != '\n')
		add_lines(&out, "\n", crlf);
	add_lines(&out, item.buf, crlf);
	strbuf_add(&out, text.buf + at, text.len - at);

	want = xmalloc((m.n_cells + 1) * sizeof(*want));
	for (i = 0; i < m.n_cells; i++)
		want[i] = &m.cells[i];
	want[m.n_cells] = c;
	ret = verify_and_write(path, &out, want, m.n_cells + 1, &m, err);
out:
	free(want);
	matrix_release(&m);
	matrix_layout_release(&lay);
	strbuf_release(&text);
	strbuf_release(&out);
	strbuf_release(&item);
	strbuf_release(&msg);
	return ret;
}

/*
 * The byte range [*start, *end) of item i: from the line of its '-'
 * through its last line, with the comment lines just under it that are
 * indented deeper than the '-' (commented-out settings of that cell), and
 * with the comment block just above it when a blank line separates that
 * block from what precedes it (a heading for that cell). Comments that
 * stand on their own, such as a heading of the whole list, stay.
 */
static int item_range(const char *buf, size_t len, const struct layout *lay,
		      size_t i, size_t *start, size_t *end)
{
	size_t dash, s, e, ind, col, prev_end = 0;

	dash = first_dash(buf, len, lay);
	col = dash - line_start(buf, dash);
	if (i) {
		prev_end = char_to_byte(buf, len, lay->items[i - 1].end);
		prev_end = item_end(buf, len, prev_end);
		dash = find_dash(buf, len, prev_end);
	}
	s = line_start(buf, dash);
	if (dash >= len || dash - s != col || strspn(buf + s, " ") != col)
		return -1;
	e = item_end(buf, len, char_to_byte(buf, len, lay->items[i].end));

	/* Trailing comments indented under the item. */
	while (e < len && line_comment(buf, len, e, &ind) &&
	       ind > col)
		e = line_next(buf, len, e);

	/* A heading comment block separated from the previous item. */
	if (i) {
		size_t c = s;

		while (c > prev_end) {
			size_t p = line_start(buf, c - 1);

			if (!line_comment(buf, len, p, &ind) ||
			    ind != col)
				break;
			c = p;
		}
		if (c < s && c > prev_end &&
		    line_blank(buf, len, line_start(buf, c - 1)))
			s = c;
	}

	/* Do not leave two blank lines where the item was. */
	if (e < len && line_blank(buf, len, e) &&
	    (!i || line_blank(buf, len, line_start(buf, s - 1))))
		e = line_next(buf, len, e);
	*start = s;
	*end = e;
	return 0;
}

int matrix_edit_remove_cell(const char *path, const char *name,
			    struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	struct matrix m = { 0 };
	struct layout lay;
	const struct cell **want = NULL;
	size_t i, idx, start, end, n_want = 0;
	int ret = -1;

	memset(&lay, 0, sizeof(lay));
	if (matrix_read_file(path, &text, err))
		goto out;
	if (matrix_parse(&m, path, text.buf, text.len, err, &lay))
		goto out;
	for (idx = 0; idx < m.n_cells; idx++)
		if (!strcmp(m.cells[idx].name, name))
			break;
	if (idx == m.n_cells) {
		strbuf_addf(err, "no cell '%s' in %s", name, path);
		goto out;
	}
	if (lay.root_flow || lay.style != CELLS_BLOCK) {
		strbuf_addf(err, "%s: cannot remove from a matrix written in "
			    "YAML flow style ({...} or [...]); write 'cells' "
			    "as a block list", path);
		goto out;
	}
	if (has_lone_cr(text.buf, text.len)) {
		strbuf_addf(err, "%s: cannot edit a file with CR line ends; "
			    "convert them to LF", path);
		goto out;
	}
	if (item_range(text.buf, text.len, &lay, idx, &start, &end)) {
		strbuf_addf(err, "%s: cannot find the lines of cell '%s'",
			    path, name);
		goto out;
	}
	/* Lines with a tab that only the removed cell's end made valid. */
	end = after_tab_blanks(text.buf, text.len, end);
	strbuf_add(&out, text.buf, start);
	if (m.n_cells == 1) {
		/* The last cell: leave `cells: []`, a list, not a null. */
		size_t key_end = char_to_byte(text.buf, text.len, lay.key_end);
		size_t colon = key_end;

		size_t p, q;

		while (colon < start && text.buf[colon] != ':')
			colon++;
		/*
		 * After the value's properties, if any, which may stand on
		 * lines of their own between comments: "cells: !t # x"
		 * becomes "cells: !t [] # x"; "[]" before the tag is not
		 * YAML (found by fuzz/fuzz-matrix-edit.c).
		 */
		p = colon + 1;
		for (q = p; q < start;) {
			q += strspn(text.buf + q, " \t\r\n");
			if (q >= start)
				break;
			if (text.buf[q] == '#') {
				q = line_next(text.buf, text.len, q);
			} else if (strchr("!&", text.buf[q])) {
				q += strcspn(text.buf + q, " \t\r\n");
				p = q;
			} else {
				break;
			}
		}
		if (p > start)
			p = start;
		strbuf_setlen(&out, p);
		strbuf_addstr(&out, " []");
		strbuf_add(&out, text.buf + p, start - p);
	}
	strbuf_add(&out, text.buf + end, text.len - end);

	want = xmalloc((m.n_cells ? m.n_cells : 1) * sizeof(*want));
	for (i = 0; i < m.n_cells; i++)
		if (i != idx)
			want[n_want++] = &m.cells[i];
	ret = verify_and_write(path, &out, want, n_want, &m, err);
out:
	free(want);
	matrix_release(&m);
	matrix_layout_release(&lay);
	strbuf_release(&text);
	strbuf_release(&out);
	return ret;
}
