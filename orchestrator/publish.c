/*
 * publish: the static dashboard (v2). One pass over the runs table
 * (record_scan_runs: grouped by commit, no sort) plus the regressions
 * (regressions_compute: the classes and regressions come from there, never
 * recomputed here) give:
 *
 *   index.html          open regressions, then the newest 100 commits
 *   grid/N.html         commits x cells, 100 commits a page (1: oldest)
 *   regressions.html    open first (first bad, last good, decisive line,
 *                       bisection cost), then fixed (fixing commit), flaky
 *   releases.html       hypervisor releases (from each cell's config) as
 *                       rows, the newest commits' classes across them
 *   cell/NAME.html      a cell's history, as spans of one class
 *   commit/KEY.html     every cell, every run of one commit
 *   run/ID.html, .sh    a run with a log: its details, the command line,
 *                       reproduce.sh, the console log with line anchors
 *                       and the decisive line highlighted (#decisive)
 *
 * Incremental: .manifest in the site holds, per page, a key of the data
 * it was made from (run ids, classes, or its text). A page whose key is
 * unchanged is neither rendered nor written; a run page never changes once
 * written. A page is a page: no script, nothing from the network.
 *
 * Every string from the store (subjects, cell names, reasons, console
 * lines, paths) is user input and goes through strbuf_add_html; file
 * names made from names go through path_part. This module only reads the
 * store.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fsutil.h"
#include "logfile.h"
#include "matrix.h"
#include "paths.h"
#include "publish.h"
#include "regressions.h"
#include "spawn.h"
#include "xmalloc.h"

#define PAGE_ROWS 100		/* commits per grid page */
#define ID_LEN 12		/* commit and kernel id characters shown */
#define RELEASE_COLS 5		/* newest commits in the releases view */
#define MANIFEST ".manifest"
#define SALT "hvmatrix-dashboard-2"	/* bump when a page's form changes */
#define LINE_MAX_BYTES 65536	/* a log line longer than this is split */

/* ---- small helpers ---- */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

#define FNV0 14695981039346656037ULL

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s ? s : "", strlen(s ? s : "") + 1);
}

/* An open-addressing map from owned strings to 64-bit values. */
struct smap {
	char **keys;
	uint64_t *vals;
	unsigned char *seen;
	size_t cap, n;
};

static size_t smap_slot(const struct smap *m, const char *key)
{
	size_t i = (size_t)fnv_str(FNV0, key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void smap_grow(struct smap *m)
{
	struct smap old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 1024;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	m->seen = xcalloc(m->cap, 1);
	for (i = 0; i < old.cap; i++) {
		size_t k;

		if (!old.keys[i])
			continue;
		k = smap_slot(m, old.keys[i]);
		m->keys[k] = old.keys[i];
		m->vals[k] = old.vals[i];
		m->seen[k] = old.seen[i];
	}
	free(old.keys);
	free(old.vals);
	free(old.seen);
}

/* The slot of key, added (value 0) when missing. */
static size_t smap_put(struct smap *m, const char *key)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		smap_grow(m);
	i = smap_slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = xstrdup(key);
		m->n++;
	}
	return i;
}

static int smap_get(const struct smap *m, const char *key, uint64_t *val)
{
	size_t i;

	if (!m->cap)
		return 0;
	i = smap_slot(m, key);
	if (!m->keys[i])
		return 0;
	*val = m->vals[i];
	return 1;
}

static void smap_release(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->seen);
	memset(m, 0, sizeof(*m));
}

/* A name as a file name part: [A-Za-z0-9._-], never "." first. */
static void path_part(struct strbuf *sb, const char *s)
{
	if (!*s || *s == '.')
		strbuf_addch(sb, '_');
	for (; *s; s++)
		strbuf_addch(sb, (*s >= 'a' && *s <= 'z') ||
			     (*s >= 'A' && *s <= 'Z') ||
			     (*s >= '0' && *s <= '9') || *s == '.' ||
			     *s == '-' ? *s : '_');
}

/* ---- the model ---- */

/* How a class shows: text (for a text browser), a CSS class, words. */
struct look {
	const char *name;	/* compare_class_name(), or a verdict's */
	const char *code;
	const char *css;
	const char *words;
};

static const struct look looks[] = {
	{ "regression", "REG", "c-reg", "regression: passed before, fails "
	  "now (confirmed)" },
	{ "unconfirmed", "new", "c-unc", "new failure, being confirmed" },
	{ "still-failing", "bad", "c-bad", "still failing since an earlier "
	  "regression" },
	{ "never-passed", "nvr", "c-nvr", "never passed" },
	{ "flaky", "FLK", "c-flk", "flaky: passes and fails on one commit" },
	{ "fixed", "FIX", "c-fix", "fixed: failed before, passes now" },
	{ "infra", "inf", "c-inf", "infra: the farm failed (ERROR)" },
	{ "blocked", "blk", "c-blk", "blocked: the build failed" },
	{ "skip", "skp", "c-skp", "skipped: the host cannot run the cell" },
	{ "pass", "ok", "c-ok", "pass" },
	{ "untested", "-", "c-none", "no verdict" },
	/* `hvmatrix boot` runs have verdicts, no history. */
	{ "FAIL", "FAIL", "c-bad", "FAIL" },
};

static const struct look *look_of(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(looks); i++)
		if (!strcmp(looks[i].name, name))
			return &looks[i];
	return &looks[ARRAY_SIZE(looks) - 2];
}

static const char *verdict_look(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "FAIL";
	case VERDICT_ERROR: return "infra";
	case VERDICT_SKIP: return "skip";
	case VERDICT_BLOCKED: return "blocked";
	default: return "untested";
	}
}

struct entry;
static uint64_t entry_key(uint64_t key, const struct entry *e);

/* One cell of one row: what the grid shows. */
struct entry {
	int64_t newest;		/* newest run */
	int64_t link;		/* the run page to link (0: none) */
	const struct look *look;
	uint32_t cell;
	uint16_t runs;
	unsigned char verdict;	/* of the newest run */
	unsigned char link_fail;	/* link is a FAIL run */
	unsigned char have_class;	/* look is regressions.c's class */
	double newest_t;	/* newest's start */
};

/* What a page shows of an entry, as a key (no pointers: the keys must
 * hold from one process to the next). */
static uint64_t entry_key(uint64_t key, const struct entry *e)
{
	key = fnv(key, &e->newest, sizeof(e->newest));
	key = fnv(key, &e->link, sizeof(e->link));
	key = fnv(key, &e->cell, sizeof(e->cell));
	key = fnv(key, &e->runs, sizeof(e->runs));
	return fnv_str(key, e->look->name);
}

struct row {
	char *tree, *commit, *build, *kernel;	/* kernel: boot rows */
	char *subject, *author;
	int64_t time;		/* commit time, else first run's start */
	int64_t first;		/* first run id: rows are in this order */
	struct entry *ev;	/* its cells, in the order first seen */
	size_t n, alloc;
	char *page;		/* commit/KEY.html */
};

struct site {
	struct record *r;
	const char *out;
	struct regressions rs;
	struct matrix m;
	int have_m;
	struct smap manifest;	/* page -> key, loaded then updated */
	struct smap commits;	/* tree\ncommit -> index into cv */
	struct record_commit *cv;
	size_t ncv, cv_alloc;
	char **cells;		/* every cell name, by index */
	size_t ncells, cells_alloc;
	struct smap cellmap;	/* name -> index */
	struct smap rowmap;	/* row key -> index into rows */
	struct row *rows;
	size_t nrows, rows_alloc, last_row;
	struct strbuf key;	/* scratch */
	size_t written, kept;
	struct strbuf tpl;
	char *generated;
};

static uint32_t cell_index(struct site *s, const char *name)
{
	size_t slot = smap_put(&s->cellmap, name);

	if (!s->cellmap.seen[slot]) {
		s->cellmap.seen[slot] = 1;
		s->cellmap.vals[slot] = s->ncells;
		ALLOC_GROW(s->cells, s->ncells + 1, s->cells_alloc);
		s->cells[s->ncells++] = xstrdup(name);
	}
	return (uint32_t)s->cellmap.vals[slot];
}

static const struct record_commit *find_commit(struct site *s,
					       const char *tree,
					       const char *id)
{
	struct strbuf key = STRBUF_INIT;
	uint64_t v;
	int ok;

	strbuf_addf(&key, "%s\n%s", tree, id);
	ok = smap_get(&s->commits, key.buf, &v);
	strbuf_release(&key);
	return ok ? &s->cv[v] : NULL;
}

static int load_commits(struct site *s, struct strbuf *err)
{
	char **pairs = NULL;
	size_t n = 0, i, k;
	char *last = NULL;
	int ret = -1;

	if (record_list_tree_builds(s->r, &pairs, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct record_commit *v = NULL;
		size_t nv = 0;

		if (last && !strcmp(last, pairs[2 * i]))
			continue;
		last = pairs[2 * i];
		if (record_list_commits(s->r, last, &v, &nv, err) < 0)
			goto out;
		for (k = 0; k < nv; k++) {
			struct strbuf key = STRBUF_INIT;
			size_t slot;

			strbuf_addf(&key, "%s\n%s", last, v[k].id);
			slot = smap_put(&s->commits, key.buf);
			strbuf_release(&key);
			ALLOC_GROW(s->cv, s->ncv + 1, s->cv_alloc);
			s->cv[s->ncv] = v[k];
			s->commits.vals[slot] = s->ncv++;
		}
		free(v);	/* the strings moved to s->cv */
	}
	ret = 0;
out:
	record_strings_free(pairs, 2 * n);
	return ret;
}

/* ---- writing pages ---- */

static int site_fresh(struct site *s, const char *page, uint64_t key)
{
	size_t slot = smap_put(&s->manifest, page);

	s->manifest.seen[slot] = 1;
	if (s->manifest.vals[slot] == key) {
		s->kept++;
		return 1;
	}
	s->manifest.vals[slot] = key;
	return 0;
}

/* Write OUT/page via a temporary file and rename (no fsync: the site is
 * made again from the store; the manifest is written last). */
static int site_write(struct site *s, const char *page, const char *data,
		      size_t len, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", s->out, page);
	char *tmp = xstrfmt("%s.tmp", path);
	int fd, ret = -1;
	ssize_t w = 0;
	size_t done = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (done < len && (w = write(fd, data + done, len - done)) > 0)
		done += (size_t)w;
	if (w < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	s->written++;
	ret = 0;
out:
	free(path);
	free(tmp);
	return ret;
}

/* Replace @NAME@ in the template in one pass (a value is never expanded
 * again). Unknown @...@ stay as they are. */
struct subst {
	const char *name;
	const char *value;
};

static void fill_template(struct strbuf *out, const char *tpl,
			  const struct subst *subs, size_t nsubs)
{
	const char *p = tpl;

	while (*p) {
		const char *at = strchr(p, '@');
		size_t len, i;

		if (!at) {
			strbuf_addstr(out, p);
			break;
		}
		strbuf_add(out, p, (size_t)(at - p));
		len = strspn(at + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		p = at + 1;
		if (!len || at[1 + len] != '@') {
			strbuf_addch(out, '@');
			continue;
		}
		for (i = 0; i < nsubs; i++)
			if (strlen(subs[i].name) == len &&
			    !strncmp(subs[i].name, at + 1, len))
				break;
		if (i == nsubs) {
			strbuf_addch(out, '@');
			continue;
		}
		strbuf_addstr(out, subs[i].value);
		p = at + len + 2;
	}
}

/* The page around body; title is plain text (escaped here). */
static void page_wrap(const struct site *s, struct strbuf *out,
		      const char *base, const char *title, const char *body)
{
	struct strbuf t = STRBUF_INIT;
	const struct subst subs[] = {
		{ "TITLE", t.buf },
		{ "BASE", base },
		{ "VERSION", PACKAGE_VERSION },
		{ "GENERATED", s->generated },
		{ "BODY", body },
	};
	struct subst fixed[ARRAY_SIZE(subs)];

	strbuf_add_html(&t, title);
	memcpy(fixed, subs, sizeof(subs));
	fixed[0].value = t.buf;
	fill_template(out, s->tpl.buf, fixed, ARRAY_SIZE(fixed));
	strbuf_release(&t);
}

static int write_page(struct site *s, const char *page, const char *base,
		      const char *title, const char *body, int by_text,
		      struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	int ret = 0;

	if (by_text && site_fresh(s, page, fnv_str(fnv_str(FNV0, SALT),
						     body) ^
				  fnv_str(FNV0, title)))
		return 0;
	page_wrap(s, &out, base, title, body);
	ret = site_write(s, page, out.buf, out.len, err);
	strbuf_release(&out);
	return ret;
}

/* ---- links and labels ---- */

static void add_code(struct strbuf *sb, const char *id)
{
	strbuf_addstr(sb, "<code class=\"kid\">");
	strbuf_add_html_n(sb, id, strnlen(id, ID_LEN));
	strbuf_addstr(sb, "</code>");
}

static void add_row_link(struct strbuf *sb, const char *base,
			 const struct row *row, int subject)
{
	strbuf_addf(sb, "<a href=\"%s", base);
	strbuf_add_html(sb, row->page);
	strbuf_addstr(sb, "\">");
	add_code(sb, *row->commit ? row->commit : row->kernel);
	strbuf_addstr(sb, "</a>");
	if (subject && *row->subject) {
		strbuf_addstr(sb, " <span class=\"subject\">");
		strbuf_add_html(sb, row->subject);
		strbuf_addstr(sb, "</span>");
	}
}

static void add_cell_link(struct strbuf *sb, const char *base,
			  const char *cell)
{
	strbuf_addf(sb, "<a class=\"cellname\" href=\"%scell/", base);
	path_part(sb, cell);
	strbuf_addstr(sb, ".html\">");
	strbuf_add_html(sb, cell);
	strbuf_addstr(sb, "</a>");
}

static void add_mark(struct strbuf *sb, const char *base,
		     const struct entry *e, const struct row *row)
{
	const struct look *l = e ? e->look : look_of("untested");

	strbuf_addf(sb, "<td class=\"m %s\" title=\"%s", l->css, l->words);
	if (e && e->runs > 1)
		strbuf_addf(sb, ", %u runs", e->runs);
	strbuf_addstr(sb, "\">");
	if (!e) {
		strbuf_addstr(sb, "<span>-</span></td>");
		return;
	}
	/* A mark links its log; one without a log is only its text (the
	 * row's commit page has its runs). */
	if (e->link)
		strbuf_addf(sb, "<a href=\"%srun/%lld.html\">%s</a></td>",
			    base, (long long)e->link, l->code);
	else
		strbuf_addf(sb, "<span>%s</span></td>", l->code);
	(void)row;
}

static const struct entry *row_entry(const struct site *s,
				     const struct row *row, uint32_t cell)
{
	size_t i;

	(void)s;
	for (i = 0; i < row->n; i++)
		if (row->ev[i].cell == cell)
			return &row->ev[i];
	return NULL;
}

static void add_legend(struct strbuf *sb)
{
	size_t i;

	strbuf_addstr(sb, "<ul class=\"legend\">");
	for (i = 0; i + 1 < ARRAY_SIZE(looks); i++)
		strbuf_addf(sb, "<li><span class=\"m %s\">%s</span> %s</li>",
			    looks[i].css, looks[i].code, looks[i].words);
	strbuf_addstr(sb, "</ul>\n");
}

static void add_nav(struct strbuf *sb, const char *base)
{
	strbuf_addf(sb, "<nav class=\"nav\"><a href=\"%sindex.html\">"
		    "Overview</a> <a href=\"%sregressions.html\">Regressions"
		    "</a> <a href=\"%sreleases.html\">Releases</a> "
		    "<a href=\"%sgrid/1.html\">Grid pages</a></nav>\n",
		    base, base, base, base);
}

/* The grid of rows [lo, hi), newest first. */
static void add_grid(struct strbuf *sb, const struct site *s,
		     const char *base, size_t lo, size_t hi)
{
	size_t c, k;

	strbuf_addstr(sb, "<div class=\"scroll\"><table class=\"grid\">\n"
		      "<thead><tr><th scope=\"col\" class=\"corner\">Commit"
		      "</th>");
	for (c = 0; c < s->ncells; c++) {
		strbuf_addstr(sb, "<th scope=\"col\" class=\"vh\"><div>");
		add_cell_link(sb, base, s->cells[c]);
		strbuf_addstr(sb, "</div></th>");
	}
	strbuf_addstr(sb, "</tr></thead>\n<tbody>\n");
	for (k = hi; k-- > lo; ) {
		const struct row *row = &s->rows[k];

		strbuf_addstr(sb, "<tr><th scope=\"row\" class=\"commit\">");
		add_row_link(sb, base, row, 1);
		strbuf_addstr(sb, "</th>");
		for (c = 0; c < s->ncells; c++)
			add_mark(sb, base, row_entry(s, row, (uint32_t)c),
				 row);
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table></div>\n");
}

static void add_pager(struct strbuf *sb, const char *base, size_t pages,
		      size_t cur)
{
	size_t p;

	strbuf_addstr(sb, "<p class=\"pager\">Pages (newest first):");
	for (p = pages; p >= 1; p--) {
		if (p == cur)
			strbuf_addf(sb, " <b>%zu</b>", p);
		else
			strbuf_addf(sb, " <a href=\"%sgrid/%zu.html\">%zu</a>",
				    base, p, p);
	}
	strbuf_addstr(sb, "</p>\n");
}

/* ---- the scan: one group (one row's runs) at a time ---- */

static void add_html_line(struct strbuf *sb, const char *s)
{
	strbuf_add_clean(sb, s, strlen(s), STRBUF_CLEAN_HTML |
			 STRBUF_CLEAN_LINE);
}

/*
 * Is `want` (the judge's line) the log's line `got` (len bytes)? The judge
 * reads a line without its terminal escapes and control bytes (judge.c's
 * judge_feed), so the raw line is read the same way before comparing.
 */
static int same_line(const char *got, size_t len, const char *want)
{
	size_t wl = strlen(want), i, k = 0;
	int esc = 0;	/* 1 after ESC, 2 in CSI, 3 in OSC, 4 one more */

	if (!wl)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)got[i];

		switch (esc) {
		case 1:
			esc = c == '[' ? 2 : c == ']' ? 3 :
			      (c == '(' || c == ')') ? 4 : 0;
			continue;
		case 2:
			if (c >= 0x40 && c <= 0x7e)
				esc = 0;
			continue;
		case 3:
			if (c == 0x07)
				esc = 0;
			else if (c == 0x1b)
				esc = 4;
			continue;
		case 4:
			esc = 0;
			continue;
		}
		if (c == 0x1b) {
			esc = 1;
		} else if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
			if (k >= wl || (unsigned char)want[k] != c)
				return 0;
			k++;
		}
	}
	return k == wl;
}

static void flush_line(struct strbuf *out, struct strbuf *line,
		       unsigned long no, const char *decisive, int *found)
{
	int hit = !*found && same_line(line->buf, line->len, decisive);

	if (hit)
		*found = 1;
	strbuf_addf(out, "<span id=\"L%lu\"%s><a class=\"ln\" href=\"#L%lu\">"
		    "%lu</a>%s", no, hit ? " class=\"decisive\"" : "", no, no,
		    hit ? "<span id=\"decisive\"></span>" : "");
	strbuf_add_clean(out, line->buf, line->len, STRBUF_CLEAN_HTML);
	strbuf_addstr(out, "</span>\n");
	strbuf_reset(line);
}

/* The reproducer: the recorded command line, else one made from the
 * cell and commit (and said so). */
static void reproducer(const struct record_run *run, struct strbuf *cmd,
		       int *made)
{
	*made = 0;
	if (run->cmdline && *run->cmdline) {
		strbuf_addstr(cmd, run->cmdline);
		return;
	}
	*made = 1;
	if (*run->commit_id) {
		char *argv[] = { (char *)"hvmatrix", (char *)"run",
				 (char *)"--tree", run->tree,
				 (char *)"--rev", run->commit_id, NULL };

		spawn_argv_quote(argv, cmd);
	} else {
		char *argv[] = { (char *)"hvmatrix", (char *)"boot",
				 (char *)"--kernel", run->kernel_path,
				 (char *)"--cell", run->cell,
				 (char *)"--matrix", run->matrix_path, NULL };

		if (!*run->matrix_path)
			argv[6] = NULL;
		spawn_argv_quote(argv, cmd);
	}
}

/* body to f, when it has grown: a log page is streamed, never whole. */
static void spill(struct strbuf *body, FILE *f, size_t over)
{
	if (body->len >= over) {
		fwrite(body->buf, 1, body->len, f);
		strbuf_reset(body);
	}
}

/* The console log as lines with anchors; the decisive one marked. */
static void add_log(struct strbuf *body, FILE *f, struct logfile_reader *rd,
		    const char *decisive)
{
	struct strbuf line = STRBUF_INIT, rerr = STRBUF_INIT;
	static char buf[65536];
	unsigned long no = 0;
	int found = 0;
	ssize_t got;

	strbuf_addstr(body, "<pre class=\"log\">");
	for (;;) {
		char *p, *nl;

		got = logfile_read(rd, buf, sizeof(buf), &rerr);
		if (got <= 0)
			break;
		for (p = buf; p < buf + got; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(buf + got - p));
			if (!nl) {
				strbuf_add(&line, p, (size_t)(buf + got - p));
				if (line.len > LINE_MAX_BYTES)
					flush_line(body, &line, ++no,
						   decisive, &found);
				break;
			}
			strbuf_add(&line, p, (size_t)(nl - p));
			flush_line(body, &line, ++no, decisive, &found);
			spill(body, f, 1 << 16);
		}
	}
	if (line.len)
		flush_line(body, &line, ++no, decisive, &found);
	strbuf_addstr(body, "</pre>\n");
	/* What a damaged log still gave is worth showing, with why. */
	if (got < 0) {
		strbuf_addstr(body, "<p class=\"hint\">hvmatrix: ");
		add_html_line(body, rerr.buf);
		strbuf_addstr(body, "</p>\n");
	}
	if (*decisive && !found)
		strbuf_addstr(body, "<p class=\"hint\" id=\"decisive\">The "
			      "decisive line is not in the kept log (cut by "
			      "log_limit).</p>\n");
	strbuf_release(&line);
	strbuf_release(&rerr);
}

static void kv(struct strbuf *b, const char *key)
{
	strbuf_addf(b, "</td></tr><tr><th>%s</th><td>", key);
}

/*
 * The run page (and reproduce.sh) of a run with a log: written once, as
 * a run never changes once recorded. 1 written or there already, 0 no
 * log to show, -1 + err.
 */
static int run_page(struct site *s, const struct record_run *run,
		    const struct row *row, const struct look *l,
		    struct strbuf *err)
{
	struct strbuf body = STRBUF_INIT, out = STRBUF_INIT, cmd = STRBUF_INIT;
	struct strbuf rerr = STRBUF_INIT, sh = STRBUF_INIT;
	struct logfile_reader *rd = NULL;
	char page[64], shpage[64], *title = NULL, *path = NULL, *tmp = NULL;
	char *mark;
	FILE *f = NULL;
	int made, rc, ret = -1;
	uint64_t old;

	if (!*run->log_path)
		return 0;
	snprintf(page, sizeof(page), "run/%lld.html", (long long)run->id);
	snprintf(shpage, sizeof(shpage), "run/%lld.sh", (long long)run->id);
	if (smap_get(&s->manifest, page, &old) && old == 1) {
		site_fresh(s, page, 1);
		site_fresh(s, shpage, 1);
		return 1;
	}
	/* A missing or unreadable log is no page, not a broken site. */
	if (logfile_open_read(&rd, run->log_path, &rerr) < 0) {
		ret = 0;
		goto out;
	}
	reproducer(run, &cmd, &made);
	strbuf_addstr(&body, "<nav class=\"nav\"><a href=\"../index.html\">"
		      "Overview</a> <a href=\"../regressions.html\">"
		      "Regressions</a></nav>\n");
	strbuf_addf(&body, "<h2>Run %lld: <span class=\"m %s\">%s</span> %s"
		    "</h2>\n<table class=\"kv\"><tr><th>Cell</th><td>",
		    (long long)run->id, l->css, l->code,
		    verdict_name(run->verdict));
	add_cell_link(&body, "../", run->cell);
	kv(&body, *row->commit ? "Commit" : "Kernel");
	add_row_link(&body, "../", row, 1);
	kv(&body, "Class of the cell");
	strbuf_addstr(&body, l->words);
	kv(&body, "Reason");
	strbuf_add_html(&body, run->reason);
	kv(&body, "Purpose");
	strbuf_add_html(&body, run->purpose);
	kv(&body, "Started (UTC)");
	strbuf_add_utc(&body, run->started_at);
	strbuf_addf(&body, ", %.1f s", run->duration_s);
	kv(&body, "Kernel image");
	strbuf_add_html(&body, run->kernel_path);
	strbuf_addstr(&body, " ");
	strbuf_add_html(&body, run->kernel_version);
	kv(&body, "Decisive line");
	if (*run->line) {
		strbuf_addstr(&body, "<a href=\"#decisive\"><code class=\"line\">");
		add_html_line(&body, run->line);
		strbuf_addstr(&body, "</code></a>");
	} else {
		strbuf_addstr(&body, "none");
	}
	strbuf_addstr(&body, "</td></tr></table>\n<h3>Command line</h3>\n");
	if (made)
		strbuf_addstr(&body, "<p class=\"hint\">The store has no "
			      "command line for this run (recorded before "
			      "schema 4, or it booted nothing): this one is "
			      "made from its cell and commit.</p>\n");
	strbuf_addstr(&body, "<pre class=\"cmdline\" id=\"cmdline\">");
	strbuf_add_html(&body, cmd.buf);
	strbuf_addf(&body, "</pre>\n<p><a href=\"%lld.sh\">reproduce.sh</a> "
		    "(the kernel and initrd paths are the farm's)</p>\n"
		    "<h3>Console log</h3>\n", (long long)run->id);
	title = xstrfmt("run %lld %s", (long long)run->id, run->cell);
	page_wrap(s, &out, "../", title, "\001");
	path = xstrfmt("%s/%s", s->out, page);
	tmp = xstrfmt("%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		strbuf_addf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	mark = strchr(out.buf, '\001');
	fwrite(out.buf, 1, (size_t)(mark - out.buf), f);
	add_log(&body, f, rd, run->line);
	spill(&body, f, 0);
	fputs(mark + 1, f);
	rc = ferror(f);
	if (fclose(f) == EOF || rc || rename(tmp, path) < 0) {
		f = NULL;
		strbuf_addf(err, "%s: cannot write", path);
		unlink(tmp);
		goto out;
	}
	f = NULL;
	s->written++;
	/* Valid UTF-8, one line each, like every page: a name or path
	 * with other bytes is shown, not run. */
	strbuf_addf(&sh, "#!/bin/sh\n# hvmatrix run %lld: cell ",
		    (long long)run->id);
	strbuf_add_clean(&sh, run->cell, strlen(run->cell), STRBUF_CLEAN_LINE);
	strbuf_addf(&sh, ", %s ", *row->commit ? "commit" : "kernel");
	strbuf_add_clean(&sh, *row->commit ? row->commit : row->kernel,
			 strlen(*row->commit ? row->commit : row->kernel),
			 STRBUF_CLEAN_LINE);
	strbuf_addf(&sh, ", verdict %s.\n# The kernel and initrd paths are "
		    "the farm's: copy or rebuild them first.\n%s",
		    verdict_name(run->verdict), made ? "" : "exec ");
	strbuf_add_clean(&sh, cmd.buf, cmd.len, STRBUF_CLEAN_LINE);
	strbuf_addch(&sh, '\n');
	if (site_write(s, shpage, sh.buf, sh.len, err) < 0)
		goto out;
	site_fresh(s, page, 1);
	site_fresh(s, shpage, 1);
	ret = 1;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	free(path);
	free(tmp);
	if (rd)
		logfile_close_read(rd);
	strbuf_release(&body);
	strbuf_release(&out);
	strbuf_release(&cmd);
	strbuf_release(&rerr);
	strbuf_release(&sh);
	free(title);
	return ret;
}

static struct row *row_of(struct site *s, const struct record_run *run)
{
	const struct record_commit *c;
	struct strbuf page = STRBUF_INIT;
	struct row *row;
	size_t slot;

	/* A job's runs come one after the other: the last row first. */
	if (s->nrows) {
		row = &s->rows[s->last_row];
		if (!strcmp(row->commit, run->commit_id) &&
		    (*run->commit_id ? !strcmp(row->tree, run->tree) &&
		     !strcmp(row->build, run->build) :
		     !strcmp(row->kernel, run->kernel_id)))
			return row;
	}
	strbuf_reset(&s->key);
	if (*run->commit_id)
		strbuf_addf(&s->key, "%s\n%s\n%s", run->tree, run->commit_id,
			    run->build);
	else
		strbuf_addf(&s->key, "\n\n\n%s", run->kernel_id);
	slot = smap_put(&s->rowmap, s->key.buf);
	if (s->rowmap.seen[slot]) {
		s->last_row = s->rowmap.vals[slot];
		return &s->rows[s->last_row];
	}
	s->rowmap.seen[slot] = 1;
	s->last_row = s->nrows;
	s->rowmap.vals[slot] = s->nrows;
	c = *run->commit_id ? find_commit(s, run->tree, run->commit_id) : NULL;
	ALLOC_GROW(s->rows, s->nrows + 1, s->rows_alloc);
	row = &s->rows[s->nrows++];
	memset(row, 0, sizeof(*row));
	row->tree = xstrdup(run->tree);
	row->commit = xstrdup(run->commit_id);
	row->build = xstrdup(run->build);
	row->kernel = xstrdup(run->kernel_id);
	row->subject = xstrdup(c ? c->subject : "");
	row->author = xstrdup(c ? c->author : "");
	row->time = c && c->time ? c->time : (int64_t)run->started_at;
	row->first = run->id;
	strbuf_addstr(&page, "commit/");
	if (*run->commit_id) {
		path_part(&page, run->tree);
		strbuf_addch(&page, '~');
		path_part(&page, run->build);
		strbuf_addch(&page, '~');
		path_part(&page, run->commit_id);
	} else {
		strbuf_addstr(&page, "k-");
		path_part(&page, run->kernel_id);
	}
	strbuf_addstr(&page, ".html");
	row->page = strbuf_detach(&page, NULL);
	return row;
}

/* Pass one, every run in id order: the grid's entries, the run pages. */
static int scan_run(const struct record_run *run, void *data,
		    struct strbuf *err)
{
	struct site *s = data;
	struct row *row = row_of(s, run);
	uint32_t cell = cell_index(s, run->cell);
	struct entry *e = NULL;
	size_t i;
	int rc;

	for (i = 0; i < row->n; i++)
		if (row->ev[i].cell == cell) {
			e = &row->ev[i];
			break;
		}
	if (!e) {
		const char *cls = *row->commit ?
			regressions_class_of(&s->rs, row->tree, row->build,
					     run->cell, row->commit) : NULL;

		ALLOC_GROW(row->ev, row->n + 1, row->alloc);
		e = &row->ev[row->n++];
		memset(e, 0, sizeof(*e));
		e->cell = cell;
		e->look = cls ? look_of(cls) : NULL;
		e->have_class = cls != NULL;
	}
	/* The newest run by its start (ids follow the ends). */
	if (!e->newest || run->started_at >= e->newest_t) {
		e->newest = run->id;
		e->newest_t = run->started_at;
		e->verdict = (unsigned char)run->verdict;
		/* `hvmatrix boot` rows have no history: its verdict. */
		if (!*row->commit || !e->look || !e->have_class)
			e->look = look_of(verdict_look(run->verdict));
	}
	if (e->runs < UINT16_MAX)
		e->runs++;
	rc = run_page(s, run, row, e->look, err);
	if (rc < 0)
		return -1;
	/* A later run wins, but a FAIL stays linked over a later run that
	 * did not fail. */
	if (rc && (!e->link || run->verdict == VERDICT_FAIL || !e->link_fail)) {
		e->link = run->id;
		e->link_fail = run->verdict == VERDICT_FAIL;
	}
	return 0;
}

static int cmp_run_cell(const void *a, const void *b)
{
	const struct record_run *x = a, *y = b;
	int c = strcmp(x->cell, y->cell);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Pass two: the page of each row whose entries changed. */
static int commit_page(struct site *s, const struct row *row,
		       struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	struct record_run *runs = NULL;
	uint64_t key = fnv_str(FNV0, SALT);
	size_t n = 0, i;
	char *title = NULL;
	int ret = -1;

	for (i = 0; i < row->n; i++)
		key = entry_key(key, &row->ev[i]);
	key = fnv_str(key, row->subject);
	if (site_fresh(s, row->page, key))
		return 0;
	if (record_list_row_runs(s->r, row->tree, row->commit, row->build,
				 row->kernel, &runs, &n, err) < 0)
		goto out;
	qsort(runs, n, sizeof(*runs), cmp_run_cell);
	strbuf_addstr(&b, "<nav class=\"nav\"><a href=\"../index.html\">"
		      "Overview</a> <a href=\"../regressions.html\">"
		      "Regressions</a></nav>\n<h2>");
	if (*row->commit) {
		strbuf_addstr(&b, "Commit ");
		add_code(&b, row->commit);
		strbuf_addstr(&b, "</h2>\n<p class=\"subject big\">");
		strbuf_add_html(&b, row->subject);
		strbuf_addstr(&b, "</p>\n<p>");
		strbuf_add_html(&b, row->commit);
		strbuf_addstr(&b, " &middot; tree ");
		strbuf_add_html(&b, row->tree);
		strbuf_addstr(&b, " &middot; build ");
		strbuf_add_html(&b, row->build);
		strbuf_addstr(&b, " &middot; ");
		strbuf_add_html(&b, row->author);
		strbuf_addstr(&b, " &middot; ");
		strbuf_add_utc(&b, (double)row->time);
	} else {
		strbuf_addstr(&b, "Kernel image ");
		add_code(&b, row->kernel);
		strbuf_addstr(&b, "</h2>\n<p>");
		strbuf_add_html(&b, row->kernel);
	}
	strbuf_addstr(&b, "</p>\n<table class=\"runs\"><thead><tr><th>Cell"
		      "</th><th>Class</th><th>Run</th><th>Verdict</th><th>"
		      "Purpose</th><th>Started (UTC)</th><th>Reason</th><th>"
		      "Decisive line</th></tr></thead><tbody>\n");
	for (i = 0; i < n; i++) {
		const struct record_run *run = &runs[i];
		uint64_t ci = 0, v;
		const struct entry *e = smap_get(&s->cellmap, run->cell, &ci) ?
			row_entry(s, row, (uint32_t)ci) : NULL;
		const struct look *l = e ? e->look : look_of("untested");
		char p[64];

		strbuf_addstr(&b, "<tr><td>");
		add_cell_link(&b, "../", run->cell);
		strbuf_addf(&b, "</td><td class=\"m %s\" title=\"%s\">%s</td>"
			    "<td>", l->css, l->words, l->code);
		snprintf(p, sizeof(p), "run/%lld.html", (long long)run->id);
		if (smap_get(&s->manifest, p, &v) && v == 1)
			strbuf_addf(&b, "<a href=\"../%s\">%lld log</a>", p,
				    (long long)run->id);
		else
			strbuf_addf(&b, "%lld", (long long)run->id);
		strbuf_addf(&b, "</td><td>%s</td><td>",
			    verdict_name(run->verdict));
		strbuf_add_html(&b, run->purpose);
		strbuf_addstr(&b, "</td><td class=\"time\">");
		strbuf_add_utc(&b, run->started_at);
		strbuf_addstr(&b, "</td><td>");
		strbuf_add_html(&b, run->reason);
		strbuf_addstr(&b, "</td><td><code class=\"line\">");
		add_html_line(&b, run->line);
		strbuf_addstr(&b, "</code></td></tr>\n");
	}
	strbuf_addstr(&b, "</tbody></table>\n");
	add_legend(&b);
	title = xstrfmt("%s %.12s", *row->commit ? "commit" : "kernel",
			*row->commit ? row->commit : row->kernel);
	ret = write_page(s, row->page, "../", title, b.buf, 0, err);
out:
	record_runs_free(runs, n);
	strbuf_release(&b);
	free(title);
	return ret;
}

static const struct row *find_row(const struct site *s, const char *tree,
				  const char *build, const char *commit)
{
	size_t i;

	/* Rows are few next to runs; regressions fewer still. */
	for (i = s->nrows; i-- > 0; )
		if (!strcmp(s->rows[i].commit, commit) &&
		    !strcmp(s->rows[i].tree, tree) &&
		    !strcmp(s->rows[i].build, build))
			return &s->rows[i];
	return NULL;
}

static void add_ref(struct strbuf *sb, const struct site *s,
		    const struct regression *g,
		    const struct regression_ref *ref)
{
	const struct row *row;

	if (!ref->commit) {
		strbuf_addstr(sb, "&ndash;");
		return;
	}
	row = find_row(s, g->tree, g->build, ref->commit);
	if (row) {
		add_row_link(sb, "", row, 0);
	} else {
		add_code(sb, ref->commit);
	}
	strbuf_addstr(sb, " <span class=\"subject\">");
	strbuf_add_html(sb, ref->subject);
	strbuf_addstr(sb, "</span>");
}

/* The decisive line, linked to its run page when there is one. */
static void add_decisive(struct strbuf *sb, const struct site *s,
			 const struct regression *g)
{
	const struct row *row = g->first_bad.commit ?
		find_row(s, g->tree, g->build, g->first_bad.commit) : NULL;
	const struct entry *e = NULL;
	uint64_t ci;

	if (row && smap_get(&s->cellmap, g->cells[0], &ci))
		e = row_entry(s, row, (uint32_t)ci);
	if (e && e->link)
		strbuf_addf(sb, "<a href=\"run/%lld.html#decisive\">",
			    (long long)e->link);
	strbuf_addstr(sb, "<code class=\"line\">");
	add_html_line(sb, *g->line ? g->line : "(no line)");
	strbuf_addstr(sb, "</code>");
	if (e && e->link)
		strbuf_addstr(sb, "</a>");
}

static void add_cells(struct strbuf *sb, const struct regression *g)
{
	size_t i;

	for (i = 0; i < g->n_cells; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		add_cell_link(sb, "", g->cells[i]);
	}
}

static int is_open(const struct regression *g)
{
	return g->status == REGRESSION_OPEN ||
	       g->status == REGRESSION_UNDECIDED;
}

/* What broke, where, since when: the open ones, one line each. */
static void add_open_summary(struct strbuf *sb, const struct site *s)
{
	size_t i, n = 0, fixed = 0, flaky = 0;

	for (i = 0; i < s->rs.n; i++) {
		n += is_open(&s->rs.v[i]);
		fixed += s->rs.v[i].status == REGRESSION_FIXED;
		flaky += s->rs.v[i].status == REGRESSION_FLAKY;
	}
	strbuf_addf(sb, "<section id=\"open\"><h2>%zu open regression%s"
		    "</h2>\n", n, n == 1 ? "" : "s");
	if (!n) {
		strbuf_addstr(sb, "<p class=\"good\">Nothing is broken.</p>\n");
	} else {
		strbuf_addstr(sb, "<table class=\"open\"><thead><tr><th>Where "
			      "(cells)</th><th>What: first bad commit</th>"
			      "<th>Since</th><th>Decisive line</th></tr>"
			      "</thead><tbody>\n");
		for (i = 0; i < s->rs.n; i++) {
			const struct regression *g = &s->rs.v[i];
			const struct row *row;

			if (!is_open(g))
				continue;
			row = g->first_bad.commit ? find_row(s, g->tree,
				g->build, g->first_bad.commit) : NULL;
			strbuf_addstr(sb, "<tr class=\"c-reg\"><td><span "
				      "class=\"m c-reg\">REG</span> ");
			add_cells(sb, g);
			strbuf_addstr(sb, "</td><td>");
			add_ref(sb, s, g, &g->first_bad);
			strbuf_addstr(sb, "</td><td class=\"time\">");
			if (row)
				strbuf_add_utc(sb, (double)row->time);
			strbuf_addstr(sb, "</td><td>");
			add_decisive(sb, s, g);
			strbuf_addstr(sb, "</td></tr>\n");
		}
		strbuf_addstr(sb, "</tbody></table>\n");
	}
	strbuf_addf(sb, "<p><a href=\"regressions.html\">All regressions"
		    "</a>: %zu open, %zu fixed, %zu flaky.</p></section>\n",
		    n, fixed, flaky);
}

static void add_regression_table(struct strbuf *sb, const struct site *s,
				 int which)
{
	size_t i, start = sb->len, rows = 0;

	strbuf_addstr(sb, "<table class=\"regs\"><thead><tr><th>Status</th>"
		      "<th>Cells</th><th>First bad</th><th>Last good</th>"
		      "<th>Decisive line</th><th>Runs</th><th>Bisection</th>"
		      "<th>Fixed by</th></tr></thead><tbody>\n");
	for (i = 0; i < s->rs.n; i++) {
		const struct regression *g = &s->rs.v[i];

		if ((which == 0 && !is_open(g)) ||
		    (which == 1 && g->status != REGRESSION_FIXED) ||
		    (which == 2 && g->status != REGRESSION_FLAKY))
			continue;
		rows++;
		strbuf_addf(sb, "<tr><td><span class=\"m %s\">%s</span> %s"
			    "</td><td>", which == 1 ? "c-fix" : which == 2 ?
			    "c-flk" : "c-reg", which == 1 ? "FIX" :
			    which == 2 ? "FLK" : "REG",
			    regression_status_name(g->status));
		add_cells(sb, g);
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->first_bad);
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->last_good);
		strbuf_addstr(sb, "</td><td>");
		add_decisive(sb, s, g);
		strbuf_addf(sb, "</td><td>%u of %u failed</td><td>", g->fail,
			    g->total);
		if (g->bisected)
			strbuf_addf(sb, "%u build%s, %u boot%s%s", g->builds,
				    g->builds == 1 ? "" : "s", g->boots,
				    g->boots == 1 ? "" : "s",
				    g->bisecting ? ", running" : "");
		else
			strbuf_addstr(sb, "not bisected");
		if (g->why) {
			strbuf_addstr(sb, "<br><span class=\"hint\">");
			strbuf_add_html(sb, g->why);
			strbuf_addstr(sb, "</span>");
		}
		strbuf_addstr(sb, "</td><td>");
		add_ref(sb, s, g, &g->fixed_by);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody></table>\n");
	if (!rows) {
		strbuf_setlen(sb, start);
		strbuf_addstr(sb, "<p class=\"hint\">None.</p>\n");
	}
}

static int regressions_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	int ret;

	add_nav(&b, "");
	strbuf_addstr(&b, "<h2>Open regressions</h2>\n");
	add_regression_table(&b, s, 0);
	strbuf_addstr(&b, "<h2>Fixed</h2>\n");
	add_regression_table(&b, s, 1);
	strbuf_addstr(&b, "<h2>Flaky</h2>\n");
	add_regression_table(&b, s, 2);
	ret = write_page(s, "regressions.html", "", "hvmatrix regressions",
			 b.buf, 1, err);
	strbuf_release(&b);
	return ret;
}

static int grid_pages(struct site *s, struct strbuf *err)
{
	size_t pages = (s->nrows + PAGE_ROWS - 1) / PAGE_ROWS, p, k, i;

	for (p = 0; p < pages; p++) {
		size_t lo = p * PAGE_ROWS, hi = lo + PAGE_ROWS;
		uint64_t key = fnv_str(FNV0, SALT);
		struct strbuf b = STRBUF_INIT;
		char page[64], title[64];
		int rc = 0;

		if (hi > s->nrows)
			hi = s->nrows;
		/* The page's data: its entries, the cells, the page count
		 * (the pager). */
		key = fnv(key, &pages, sizeof(pages));
		key = fnv(key, &s->ncells, sizeof(s->ncells));
		for (k = lo; k < hi; k++)
			for (i = 0; i < s->rows[k].n; i++) {
				const struct entry *e = &s->rows[k].ev[i];

				key = entry_key(key, e);
			}
		snprintf(page, sizeof(page), "grid/%zu.html", p + 1);
		if (site_fresh(s, page, key))
			continue;
		snprintf(title, sizeof(title), "hvmatrix grid %zu", p + 1);
		add_nav(&b, "../");
		add_pager(&b, "../", pages, p + 1);
		add_grid(&b, s, "../", lo, hi);
		add_legend(&b);
		rc = write_page(s, page, "../", title, b.buf, 0, err);
		strbuf_release(&b);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A cell's history: per (tree, build), spans of commits of one class. */
static int cell_pages(struct site *s, struct strbuf *err)
{
	size_t c, k;

	for (c = 0; c < s->ncells; c++) {
		struct strbuf b = STRBUF_INIT, page = STRBUF_INIT;
		const struct row *start = NULL, *last = NULL;
		const struct look *cur = NULL;
		size_t count = 0;
		int rc;

		add_nav(&b, "../");
		strbuf_addstr(&b, "<h2>Cell ");
		strbuf_add_html(&b, s->cells[c]);
		strbuf_addstr(&b, "</h2>\n<p class=\"hint\">Its history, "
			      "newest first: each line a span of commits of "
			      "one class.</p>\n<table class=\"runs\"><thead>"
			      "<tr><th>Class</th><th>Commits</th><th>From"
			      "</th><th>To</th></tr></thead><tbody>\n");
		/* Newest first; a span breaks where the class, tree or
		 * build changes. */
		for (k = s->nrows + 1; k-- > 0; ) {
			const struct row *row = k < s->nrows ? &s->rows[k] :
						NULL;
			const struct entry *e = row ? row_entry(s, row,
							(uint32_t)c) : NULL;

			if (row && !e)
				continue;
			if (cur && (!row || e->look != cur ||
				    strcmp(row->tree, last->tree) ||
				    strcmp(row->build, last->build))) {
				strbuf_addf(&b, "<tr><td class=\"m %s\">%s</td>"
					    "<td>%zu</td><td>", cur->css,
					    cur->code, count);
				add_row_link(&b, "../", last, 1);
				strbuf_addstr(&b, "</td><td>");
				add_row_link(&b, "../", start, 1);
				strbuf_addstr(&b, "</td></tr>\n");
				cur = NULL;
			}
			if (!row)
				break;
			if (!cur) {
				cur = e->look;
				start = row;
				count = 0;
			}
			last = row;
			count++;
		}
		strbuf_addstr(&b, "</tbody></table>\n");
		add_legend(&b);
		strbuf_addstr(&page, "cell/");
		path_part(&page, s->cells[c]);
		strbuf_addstr(&page, ".html");
		rc = write_page(s, page.buf, "../", s->cells[c], b.buf, 1, err);
		strbuf_release(&b);
		strbuf_release(&page);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * The hypervisor release a cell runs, from its configuration: the kind
 * (QEMU, Xen), the release (the QEMU binary; the Xen build), the machine.
 * One place to say it, so catalogued releases (`qemu: "10.0"`) slot in.
 */
static void release_of(const struct cell *c, struct strbuf *kind,
		       struct strbuf *release, struct strbuf *machine)
{
	if (!c) {
		strbuf_addstr(kind, "unknown");
		strbuf_addstr(release, "not in the matrix");
		return;
	}
	if (cell_is_xen(c)) {
		strbuf_addstr(kind, "Xen");
		strbuf_addstr(release, c->xen ? c->xen : "?");
		strbuf_addf(machine, "%s, %s", c->machine,
			    c->backend == CELL_BACKEND_XEN ? "dom0" :
			    cell_guest_name(c->guest));
	} else {
		strbuf_addstr(kind, "QEMU");
		strbuf_addstr(release, c->qemu);
		strbuf_addstr(machine, c->machine);
	}
}

static int releases_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	char **keys = xcalloc(s->ncells + 1, sizeof(*keys));
	size_t *order = xcalloc(s->ncells + 1, sizeof(*order));
	size_t c, k, i, cols = s->nrows < RELEASE_COLS ? s->nrows :
			       RELEASE_COLS;
	int ret;

	for (c = 0; c < s->ncells; c++) {
		struct strbuf kind = STRBUF_INIT, rel = STRBUF_INIT,
			      mach = STRBUF_INIT;

		release_of(s->have_m ? matrix_find(&s->m, s->cells[c]) : NULL,
			   &kind, &rel, &mach);
		keys[c] = xstrfmt("%s\n%s\n%s", kind.buf, rel.buf, mach.buf);
		order[c] = c;
		strbuf_release(&kind);
		strbuf_release(&rel);
		strbuf_release(&mach);
	}
	/* Rows sorted by release, insertion sort: cells are tens. */
	for (i = 1; i < s->ncells; i++)
		for (k = i; k > 0 && strcmp(keys[order[k - 1]],
					    keys[order[k]]) > 0; k--) {
			size_t t = order[k];

			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	add_nav(&b, "");
	strbuf_addstr(&b, "<h2>Hypervisor releases</h2>\n<p class=\"hint\">"
		      "Rows: the hypervisor releases and machines the cells "
		      "run (from the matrix in force); columns: the newest "
		      "commits, each cell's class.</p>\n");
	if (!s->have_m)
		strbuf_addstr(&b, "<p class=\"hint\">The matrix of the newest "
			      "run could not be read: releases unknown.</p>\n");
	strbuf_addstr(&b, "<div class=\"scroll\"><table class=\"releases\">"
		      "<thead><tr><th>Hypervisor</th><th>Release</th><th>"
		      "Machine</th>");
	for (k = 0; k < cols; k++) {
		strbuf_addstr(&b, "<th>");
		add_row_link(&b, "", &s->rows[s->nrows - 1 - k], 1);
		strbuf_addstr(&b, "</th>");
	}
	strbuf_addstr(&b, "</tr></thead><tbody>\n");
	for (i = 0; i < s->ncells; i = k) {
		const char *key = keys[order[i]];
		const char *nl1 = strchr(key, '\n'), *nl2 = strchr(nl1 + 1,
								   '\n');
		size_t col;

		for (k = i; k < s->ncells && !strcmp(keys[order[k]], key); k++)
			;
		strbuf_addstr(&b, "<tr><th>");
		strbuf_add_html_n(&b, key, (size_t)(nl1 - key));
		strbuf_addstr(&b, "</th><td>");
		strbuf_add_html_n(&b, nl1 + 1, (size_t)(nl2 - nl1 - 1));
		strbuf_addstr(&b, "</td><td>");
		strbuf_add_html(&b, nl2 + 1);
		strbuf_addstr(&b, "</td>");
		for (col = 0; col < cols; col++) {
			const struct row *row = &s->rows[s->nrows - 1 - col];
			size_t m;

			strbuf_addstr(&b, "<td><ul class=\"rel\">");
			for (m = i; m < k; m++) {
				const struct entry *e = row_entry(s, row,
							(uint32_t)order[m]);
				const struct look *l = e ? e->look :
						       look_of("untested");

				strbuf_addf(&b, "<li><span class=\"m %s\">%s"
					    "</span> ", l->css, l->code);
				add_cell_link(&b, "", s->cells[order[m]]);
				strbuf_addstr(&b, "</li>");
			}
			strbuf_addstr(&b, "</ul></td>");
		}
		strbuf_addstr(&b, "</tr>\n");
	}
	strbuf_addstr(&b, "</tbody></table></div>\n");
	add_legend(&b);
	ret = write_page(s, "releases.html", "", "hvmatrix releases", b.buf,
			 1, err);
	for (c = 0; c < s->ncells; c++)
		free(keys[c]);
	free(keys);
	free(order);
	strbuf_release(&b);
	return ret;
}

static int index_page(struct site *s, struct strbuf *err)
{
	struct strbuf b = STRBUF_INIT;
	size_t pages = (s->nrows + PAGE_ROWS - 1) / PAGE_ROWS;
	size_t lo = s->nrows > PAGE_ROWS ? s->nrows - PAGE_ROWS : 0;
	int ret;

	add_nav(&b, "");
	add_open_summary(&b, s);
	strbuf_addf(&b, "<section id=\"grid\"><h2>Commits &times; cells</h2>"
		    "\n<p class=\"hint\">The newest %zu of %zu commits, newest "
		    "first; each mark links the run's console log.</p>\n",
		    s->nrows - lo, s->nrows);
	if (!s->nrows)
		strbuf_addstr(&b, "<p class=\"empty\">No runs recorded yet. "
			      "Run <code>hvmatrix boot</code>, then "
			      "<code>hvmatrix dashboard</code>.</p>\n");
	else
		add_grid(&b, s, "", lo, s->nrows);
	add_legend(&b);
	if (pages)
		add_pager(&b, "", pages, 0);
	strbuf_addstr(&b, "</section>\n");
	ret = write_page(s, "index.html", "", "hvmatrix", b.buf, 1, err);
	strbuf_release(&b);
	return ret;
}

static int manifest_load(struct site *s)
{
	struct strbuf text = STRBUF_INIT;
	char *path = xstrfmt("%s/" MANIFEST, s->out), *p, *nl;

	if (fsutil_read(path, &text) == 0) {
		for (p = text.buf; *p; p = nl + 1) {
			char *sp;
			size_t slot;

			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = '\0';
			sp = strchr(p, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			slot = smap_put(&s->manifest, sp + 1);
			s->manifest.vals[slot] = strtoull(p, NULL, 16);
		}
	}
	free(path);
	strbuf_release(&text);
	return 0;
}

static int manifest_save(struct site *s, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	char *path = xstrfmt("%s/" MANIFEST, s->out);
	size_t i;
	int rc;

	for (i = 0; i < s->manifest.cap; i++)
		if (s->manifest.keys[i] && s->manifest.seen[i])
			strbuf_addf(&text, "%016llx %s\n",
				    (unsigned long long)s->manifest.vals[i],
				    s->manifest.keys[i]);
	rc = fsutil_write_atomic(path, text.buf, text.len);
	if (rc < 0)
		strbuf_addf(err, "%s: %s", path, strerror(-rc));
	free(path);
	strbuf_release(&text);
	return rc < 0 ? -1 : 0;
}

const char *publish_web_dir(void)
{
	const char *env = getenv("HVMATRIX_WEB");

	if (env && *env)
		return env;
	return paths_web_dir();
}

static void site_release(struct site *s)
{
	size_t i;

	regressions_release(&s->rs);
	if (s->have_m)
		matrix_release(&s->m);
	smap_release(&s->manifest);
	smap_release(&s->commits);
	smap_release(&s->cellmap);
	record_commits_free(s->cv, s->ncv);
	for (i = 0; i < s->ncells; i++)
		free(s->cells[i]);
	free(s->cells);
	for (i = 0; i < s->nrows; i++) {
		free(s->rows[i].tree);
		free(s->rows[i].commit);
		free(s->rows[i].build);
		free(s->rows[i].kernel);
		free(s->rows[i].subject);
		free(s->rows[i].author);
		free(s->rows[i].page);
		free(s->rows[i].ev);
	}
	free(s->rows);
	smap_release(&s->rowmap);
	strbuf_release(&s->key);
	strbuf_release(&s->tpl);
	free(s->generated);
}

/* HVMATRIX_DEBUG_PUBLISH=1: where a publish spends its time. */
static void debug_time(const char *what)
{
	static struct timespec last;
	struct timespec now;

	if (!getenv("HVMATRIX_DEBUG_PUBLISH"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec)
		fprintf(stderr, "publish: %s %.3f s\n", what,
			(double)(now.tv_sec - last.tv_sec) +
			(now.tv_nsec - last.tv_nsec) / 1e9);
	last = now;
}

static int make_dirs(const char *out, struct strbuf *err)
{
	static const char *const dirs[] = { "grid", "cell", "commit", "run" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *d = xstrfmt("%s/%s", out, dirs[i]);
		int rc = fsutil_mkdir_p(d, 0755);

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

int publish_dashboard(struct record *r, const char *out_dir,
		      char **index_path, struct strbuf *err)
{
	struct site s = { 0 };
	size_t i;
	struct strbuf gen = STRBUF_INIT, merr = STRBUF_INIT;
	const char *web = publish_web_dir();
	char *abs_out = NULL, *from = NULL, *to = NULL;
	int rc, ret = -1;

	if (index_path)
		*index_path = NULL;
	s.r = r;
	rc = fsutil_mkdir_p(out_dir, 0755);
	if (rc < 0) {
		strbuf_addf(err, "%s: cannot create: %s", out_dir,
			    strerror(-rc));
		goto out;
	}
	abs_out = realpath(out_dir, NULL);
	if (!abs_out) {
		strbuf_addf(err, "%s: %s", out_dir, strerror(errno));
		goto out;
	}
	s.out = abs_out;
	if (make_dirs(abs_out, err) < 0)
		goto out;
	from = xstrfmt("%s/page.html.in", web);
	rc = fsutil_read(from, &s.tpl);
	if (rc < 0) {
		strbuf_addf(err, "%s: cannot read the template: %s (set "
			    "HVMATRIX_WEB to the web/ directory)", from,
			    strerror(-rc));
		goto out;
	}
	free(from);
	from = xstrfmt("%s/style.css", web);
	to = xstrfmt("%s/style.css", abs_out);
	rc = fsutil_copy(from, to);
	if (rc < 0) {
		strbuf_addf(err, "cannot copy %s to %s: %s", from, to,
			    strerror(-rc));
		goto out;
	}
	strbuf_add_utc(&gen, (double)time(NULL));
	s.generated = strbuf_detach(&gen, NULL);
	manifest_load(&s);

	/* The matrix of the newest run: its cells' releases, the trees'
	 * and cells' confirm. A matrix gone or broken since only loses
	 * those (the defaults apply). */
	{
		struct record_run *nr = NULL;
		size_t nn = 0;

		if (record_list_recent_runs(r, 1, 1, 1, &nr, &nn, err) < 0)
			goto out;
		if (nn && *nr[0].matrix_path &&
		    matrix_load(&s.m, nr[0].matrix_path, &merr) == 0)
			s.have_m = 1;
		record_runs_free(nr, nn);
	}
	debug_time("start");
	if (regressions_compute(r, s.have_m ? &s.m : NULL, &s.rs, err) < 0)
		goto out;
	debug_time("regressions_compute");
	if (load_commits(&s, err) < 0)
		goto out;
	debug_time("commits");
	if (record_scan_runs(r, scan_run, &s, err) < 0)
		goto out;
	debug_time("scan, run pages");
	for (i = 0; i < s.nrows; i++)
		if (commit_page(&s, &s.rows[i], err) < 0)
			goto out;
	debug_time("commit pages");
	if (grid_pages(&s, err) < 0 || cell_pages(&s, err) < 0 ||
	    regressions_page(&s, err) < 0 || releases_page(&s, err) < 0 ||
	    index_page(&s, err) < 0 || manifest_save(&s, err) < 0)
		goto out;
	debug_time("other pages");
	if (index_path)
		*index_path = xstrfmt("%s/index.html", abs_out);
	if (getenv("HVMATRIX_DEBUG_PUBLISH"))
		fprintf(stderr, "publish: %zu rows, %zu cells, %zu pages "
			"written, %zu kept\n", s.nrows, s.ncells, s.written,
			s.kept);
	ret = 0;
out:
	site_release(&s);
	strbuf_release(&gen);
	strbuf_release(&merr);
	free(abs_out);
	free(from);
	free(to);
	return ret;
}
