/*
 * publish-priv.h: what the files of the dashboard share, from the bottom
 * up: publish-html.c (how a class looks, links, marks, the page frame),
 * publish-site.c (the site as files: directories, manifest, writes),
 * publish-model.c (rows, cells, entries from the runs in memory), the
 * pages (publish-commit.c, publish-cell.c, publish-regressions.c,
 * publish-releases.c, publish-web.c, publish-run.c; publish-grid.c, whose front page
 * starts with the regressions summary), publish-cache.c (the runs kept
 * between publishes) and publish.c (the driver). A file calls only the
 * files before it. Nothing outside the publish files includes it.
 */
#ifndef HVM_PUBLISH_PRIV_H
#define HVM_PUBLISH_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "matrix/matrix.h"
#include "store/record.h"
#include "compare/regressions.h"
#include "lib/strbuf.h"
#include "lib/strmap.h"
#include "judge/verdict.h"

#define PUBLISH_PAGE_ROWS 100	/* commits per grid page */
#define PUBLISH_SALT "hvmatrix-dashboard-4"	/* bump when a page's form
						 * changes */

/* How a class shows: text (for a text browser), a CSS class, words. */
struct look {
	const char *name;	/* compare_class_name(), or a verdict's */
	const char *code;
	const char *css;
	const char *words;
};

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
	unsigned char reused;	/* the newest run's verdict was carried
				 * over (same image), not booted */
	double newest_t;	/* newest's start */
};

/* A built commit (tree, commit, build) or a kernel image booted by
 * `hvmatrix boot`: its strings are the input pool's or the commits'. */
struct row {
	const char *tree, *commit, *build, *kernel;
	const char *subject, *author;
	int64_t time;		/* commit time, else first run's start */
	uint32_t tree_id, commit_id, build_id, kernel_id;
	size_t ev, n;		/* its entries: site.ev[ev .. ev + n) */
	size_t run_at, n_runs;	/* its runs: site.row_runs[run_at ..] */
	char *page;		/* commit/KEY.html */
};

/* Rows by their key (tree, commit, build ids; or the kernel id). */
struct rowmap {
	uint32_t *slots;	/* row index + 1 */
	size_t cap;
};

/*
 * The manifest (publish-site.c): per page, the key of the data it was
 * made from, loaded, then updated as pages are made. Rows by entry,
 * found by the index.
 */
struct manifest {
	struct strmap index;	/* over pages */
	char **pages;
	uint64_t *keys;
	unsigned char *seen;	/* made or kept by this publish */
	size_t alloc;
};

struct site {
	struct record *r;
	const char *out;
	struct regressions rs;
	struct matrix m;
	int have_m;
	struct regressions_input in;
	const char **run_class;	/* per run: its class or NULL */
	unsigned char *has_page;	/* per run: its run page exists */
	struct manifest manifest;	/* page -> key, loaded then updated */
	/* The input's commits: commit_of[tree_at[tree] * (n_strs + 1) +
	 * id] is the commit of pool string id in that tree. */
	const struct record_commit **commit_of;
	uint32_t *tree_at;
	const char **cells;	/* every cell name, by index */
	size_t ncells, cells_alloc;
	uint32_t *cell_of;	/* per pool string: cell index + 1 */
	struct row *rows;
	size_t nrows, rows_alloc;
	struct rowmap rows_by_key;
	uint32_t *run_row;	/* per run: its row */
	uint32_t *row_runs;	/* runs grouped by row, id order */
	struct entry *ev;	/* every row's entries, row after row */
	size_t nev;
	int32_t *dense;		/* nrows x ncells: index into ev or -1 */
	/* What the cache held when loaded (publish-cache.c appends the
	 * rest): runs, pool strings and their bytes, its checksum. */
	int from_cache;
	size_t cache_runs, cache_strs;
	uint64_t cache_str_bytes, cache_check;
	int64_t cache_changed, changed;	/* runs_changed: cached, now */
	size_t written, kept;
	struct strbuf tpl;
	char *generated;
};

/* ---- publish-html.c: looks, links, marks, the frame ---- */

const struct look *publish_html_look_of(const char *name);
const char *publish_html_verdict_look(enum verdict v);
/* What a page shows of an entry, as a key. */
uint64_t publish_html_entry_key(uint64_t key, const struct entry *e);
/* A name as a file name part: [A-Za-z0-9._-], never "." first. */
void publish_html_path_part(struct strbuf *sb, const char *s);
/* The page around body; title is plain text (escaped here). */
void publish_html_wrap(const struct site *s, struct strbuf *out,
		       const char *base, const char *title, const char *body);
void publish_html_code(struct strbuf *sb, const char *id);
void publish_html_num(struct strbuf *sb, int64_t v);
void publish_html_row_link(struct strbuf *sb, const char *base,
			   const struct row *row, int subject);
void publish_html_cell_link(struct strbuf *sb, const char *base,
			    const char *cell);
void publish_html_mark(struct strbuf *sb, const char *base,
		       const struct entry *e);
void publish_html_legend(struct strbuf *sb);
void publish_html_nav(struct strbuf *sb, const char *base);
void publish_html_line(struct strbuf *sb, const char *s);

/* ---- publish-site.c: the site as files ---- */

/* OUT/grid, cell, commit, run. */
int publish_site_dirs(const char *out, struct strbuf *err);
/* OUT/style.css from the template's, written only when it changed. */
int publish_site_style(struct site *s, const char *from,
		       struct strbuf *err);
/* The manifest the last publish left, if any. */
int publish_site_manifest_load(struct site *s);
/* ... and this one's: the pages it made or kept. */
int publish_site_manifest_save(struct site *s, struct strbuf *err);
void publish_site_manifest_release(struct manifest *m);
/* Is the manifest's key of page key? Nothing is recorded. */
int publish_site_known(const struct site *s, const char *page,
		       uint64_t key);
/* Is the page's key the manifest's? Either way the page is kept in it. */
int publish_site_fresh(struct site *s, const char *page, uint64_t key);
int publish_site_write(struct site *s, const char *page, const char *data,
		       size_t len, struct strbuf *err);
/* The same for any path (not counted as a page). */
int publish_site_write_path(const char *path, const char *data, size_t len,
			    struct strbuf *err);
/* The page around body; by_text: skipped when the text is unchanged. */
int publish_site_page(struct site *s, const char *page, const char *base,
		      const char *title, const char *body, int by_text,
		      struct strbuf *err);

/* ---- publish-model.c: rows, cells, entries ---- */

/* The rows, cells and entries of s->in, whose classes are s->run_class. */
int publish_model_build(struct site *s, struct strbuf *err);
/* The row of a built commit, or NULL. */
const struct row *publish_model_find_row(const struct site *s,
					 const char *tree, const char *build,
					 const char *commit);
/* The entry of row in cell (an index into s->cells), or NULL. */
const struct entry *publish_model_row_entry(const struct site *s,
					    const struct row *row,
					    uint32_t cell);

/* ---- the pages ---- */

/* publish-commit.c: the page of a row whose entries changed. */
int publish_commit_page(struct site *s, const struct row *row,
			struct strbuf *err);
/* publish-cell.c */
int publish_cell_pages(struct site *s, struct strbuf *err);
/* publish-regressions.c: the page, and the open ones in one table. */
int publish_regressions_page(struct site *s, struct strbuf *err);
void publish_regressions_summary(struct strbuf *sb, const struct site *s);
/*
 * The drift findings (a table, nothing when none) of tree and build
 * (NULL: any) whose first bad commit is commit (NULL: any) and which
 * were seen in cell (NULL: any); links relative to base.
 */
void publish_regressions_drift(struct strbuf *sb, const struct site *s,
			       const char *base, const char *tree,
			       const char *build, const char *commit,
			       const char *cell);
/* publish-releases.c */
int publish_releases_page(struct site *s, struct strbuf *err);
/* publish-web.c: web.html, the compatibility web. */
int publish_web_page(struct site *s, struct strbuf *err);
/* publish-run.c: the run page of input run i (it has a log): 1 there,
 * 0 none, -1. */
int publish_run_page(struct site *s, size_t i, const struct row *row,
		     const struct look *l, struct strbuf *err);
/* publish-grid.c: the grid pages, and the front page. */
int publish_grid_pages(struct site *s, struct strbuf *err);
int publish_grid_index_page(struct site *s, struct strbuf *err);

/* ---- publish-cache.c ---- */
/* s->in from STATE/runs-cache and the runs recorded since, or from the
 * whole store when the cache is missing, broken or no longer a prefix
 * of the runs table. *full (may be NULL): the cache was not used. */
int publish_cache_load(struct site *s, int *full, struct strbuf *err);
/* Keep s->in for the next publish; failing only costs that one a scan. */
void publish_cache_save(struct site *s);

#endif
