/*
 * publish: the static dashboard. Reads the newest runs from the store (a
 * bounded query: the page is rewritten after every job and must cost the
 * same on the thousandth commit as on the first) and writes OUT/index.html
 * (from web/index.html.in), OUT/style.css and the console logs the page
 * links to, as OUT/logs/<run id>.txt. The result needs no server, no
 * script and nothing from the network.
 *
 * Every string that comes from a run (cell names, reasons, console lines,
 * kernel versions, paths) is user input and goes through strbuf_add_html;
 * nothing here may write one to the page any other way. A log page is the
 * log streamed through strbuf_add_clean (valid UTF-8, no terminal escapes,
 * no raw controls), never read whole into memory. The deciding line comes
 * from the store. This module only reads the store.
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
#include "paths.h"
#include "publish.h"
#include "xmalloc.h"

#define PUBLISH_MAX_RUNS 200	/* rows in the "Runs" table */
#define PUBLISH_MAX_KERNELS 50	/* grid rows, at least */
#define PUBLISH_ROW_RUNS 1000	/* runs loaded per grid row */
#define PUBLISH_ID_LEN 12	/* kernel id characters shown */
#define NO_RUN SIZE_MAX

/*
 * A small open-addressing map from borrowed strings to indexes, so that
 * grouping runs by kernel and cell stays linear in the number of runs.
 */
struct strmap {
	const char **keys;
	size_t *vals;
	size_t cap;		/* a power of two, at least twice the keys */
};

static void strmap_init(struct strmap *m, size_t nkeys)
{
	m->cap = 16;
	while (m->cap < 2 * nkeys + 1)
		m->cap *= 2;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
}

static void strmap_release(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
}

static size_t strmap_slot(const struct strmap *m, const char *key)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (i = (size_t)h & (m->cap - 1); m->keys[i];
	     i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key))
			break;
	return i;
}

/* The value for key, or NO_RUN. */
static size_t strmap_get(const struct strmap *m, const char *key)
{
	size_t i = strmap_slot(m, key);

	return m->keys[i] ? m->vals[i] : NO_RUN;
}

static void strmap_put(struct strmap *m, const char *key, size_t val)
{
	size_t i = strmap_slot(m, key);

	m->keys[i] = key;
	m->vals[i] = val;
}

struct site {
	const char *out;		/* absolute output directory */
	struct record_run *runs;	/* newest first */
	size_t n;
	struct record_totals totals;	/* of the whole store */
	/* Per run: 0 not looked at yet, 1 log copied, -1 no log. */
	signed char *log;
	char **keys;			/* per run: its row */
	size_t *kernels;		/* per row: index of its newest run */
	size_t nk;
	const char **cells;		/* column names, borrowed from runs */
	size_t nc;
	size_t *grid;			/* nk * nc run indexes, or NO_RUN */
};

const char *publish_web_dir(void)
{
	const char *env = getenv("HVMATRIX_WEB");

	if (env && *env)
		return env;
	return paths_web_dir();
}

static const char *verdict_class(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "verdict-pass";
	case VERDICT_FAIL: return "verdict-fail";
	case VERDICT_ERROR: return "verdict-error";
	case VERDICT_SKIP: return "verdict-skip";
	case VERDICT_BLOCKED: return "verdict-blocked";
	default: return "verdict-none";
	}
}

/*
 * "6.1.0-28-amd64 0123456789ab": the release, then the short blob id; for
 * a built commit "tree 0123456789ab build" and its subject.
 */
static void add_kernel_label(struct strbuf *sb, const struct record_run *run)
{
	const char *v = run->kernel_version;
	size_t len = strcspn(v, " \t\n");

	if (*run->commit_id) {
		strbuf_addstr(sb, "<span class=\"tree\">");
		strbuf_add_html(sb, run->tree);
		strbuf_addstr(sb, "</span> <code class=\"kid\">");
		strbuf_add_html_n(sb, run->commit_id,
				  strnlen(run->commit_id, PUBLISH_ID_LEN));
		strbuf_addstr(sb, "</code> <span class=\"build\">");
		strbuf_add_html(sb, run->build);
		strbuf_addstr(sb, "</span>");
		if (*run->subject) {
			strbuf_addstr(sb, "<br><span class=\"subject\">");
			strbuf_add_html(sb, run->subject);
			strbuf_addstr(sb, "</span>");
		}
		return;
	}

	if (len) {
		strbuf_addstr(sb, "<span class=\"release\">");
		strbuf_add_html_n(sb, v, len);
		strbuf_addstr(sb, "</span> ");
	}
	strbuf_addstr(sb, "<code class=\"kid\">");
	strbuf_add_html_n(sb, run->kernel_id,
			  strnlen(run->kernel_id, PUBLISH_ID_LEN));
	strbuf_addstr(sb, "</code>");
}

static void add_kernel_title(struct strbuf *sb, const struct record_run *run)
{
	strbuf_addstr(sb, " title=\"");
	if (*run->commit_id) {
		strbuf_add_html(sb, run->commit_id);
		strbuf_addstr(sb, "&#10;");
	}
	strbuf_add_html(sb, run->kernel_path);
	if (*run->kernel_version) {
		strbuf_addstr(sb, "&#10;");
		strbuf_add_html(sb, run->kernel_version);
	}
	strbuf_addstr(sb, "&#10;");
	strbuf_add_html(sb, run->kernel_id);
	strbuf_addstr(sb, "\"");
}

/*
 * Stream the log at src into the page dst, cleaned for people. The page
 * gets the log's mtime, which is how the next publish knows it is done.
 * 0 done, 1 the log cannot be opened (a missing log), -1 + err when the
 * site cannot be written.
 */
static int render_log(const char *src, const struct stat *src_st,
		      const char *dst, struct strbuf *err)
{
	struct strbuf rerr = STRBUF_INIT, note = STRBUF_INIT;
	char *tmp = xstrfmt("%s.tmp.XXXXXX", dst);
	struct timespec times[2];
	FILE *f = NULL;
	int fd, rc, ret = -1;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		strbuf_addf(err, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	rc = logfile_print(src, f, 0, &rerr);
	if (rc < 0) {
		ret = 1;
		goto out;
	}
	/* What a damaged log still gave is worth showing, with why. */
	if (rc > 0) {
		strbuf_addstr(&note, "\n--- hvmatrix: ");
		strbuf_add_clean(&note, rerr.buf, rerr.len, STRBUF_CLEAN_LINE);
		strbuf_addstr(&note, " ---\n");
		fwrite(note.buf, 1, note.len, f);
	}
	times[0].tv_nsec = UTIME_OMIT;
	times[1] = src_st->st_mtim;
	if (fflush(f) == EOF || fchmod(fileno(f), 0644) < 0 ||
	    fsync(fileno(f)) < 0 || futimens(fileno(f), times) < 0) {
		strbuf_addf(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = fclose(f);
	f = NULL;
	if (rc == EOF || rename(tmp, dst) < 0) {
		strbuf_addf(err, "%s: %s", dst, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (ret)
		unlink(tmp);
	strbuf_release(&rerr);
	strbuf_release(&note);
	free(tmp);
	return ret;
}

/*
 * Render run i's console log next to the page, once: logs never change
 * once their run is recorded, so a page with the log's mtime is kept. 1
 * when there is a page to link to, 0 when the log is gone, -1 + err when
 * the site itself cannot be written.
 */
static int site_log(struct site *s, size_t i, struct strbuf *err)
{
	const struct record_run *run = &s->runs[i];
	struct stat src_st, dst_st;
	char *dst = NULL;
	int rc, ret = 0;

	if (s->log[i])
		return s->log[i] > 0;
	s->log[i] = -1;
	if (!*run->log_path || stat(run->log_path, &src_st) < 0 ||
	    !S_ISREG(src_st.st_mode))
		goto out;
	dst = xstrfmt("%s/logs/%lld.txt", s->out, (long long)run->id);
	if (stat(dst, &dst_st) == 0 &&
	    dst_st.st_mtim.tv_sec == src_st.st_mtim.tv_sec &&
	    dst_st.st_mtim.tv_nsec == src_st.st_mtim.tv_nsec) {
		s->log[i] = 1;
		ret = 1;
		goto out;
	}
	rc = render_log(run->log_path, &src_st, dst, err);
	if (rc < 0) {
		ret = -1;
		goto out;
	}
	/* An unreadable log is a missing log, not a broken dashboard. */
	if (rc == 0) {
		s->log[i] = 1;
		ret = 1;
	}
out:
	free(dst);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Rows: kernels, newest run first. Columns: the newest batch's cells in the
 * order that batch started them (the matrix order), then every other cell
 * by name. Grid: the newest run of each (kernel, cell).
 */
static void site_layout(struct site *s)
{
	struct strmap kmap, cmap;
	const char *batch;
	size_t i, k, c, first_other;

	strmap_init(&kmap, s->n);
	strmap_init(&cmap, s->n);
	/* A row is a kernel image, or a built commit (which a BLOCKED run
	 * has without an image). */
	s->keys = xcalloc(s->n ? s->n : 1, sizeof(*s->keys));
	for (i = 0; i < s->n; i++) {
		const struct record_run *run = &s->runs[i];

		s->keys[i] = *run->commit_id ?
			xstrfmt("%s\n%s\n%s", run->tree, run->commit_id,
				run->build) : xstrdup(run->kernel_id);
	}
	s->kernels = xcalloc(s->n ? s->n : 1, sizeof(*s->kernels));
	s->cells = xcalloc(s->n ? s->n : 1, sizeof(*s->cells));

	for (i = 0; i < s->n; i++) {
		if (strmap_get(&kmap, s->keys[i]) != NO_RUN)
			continue;
		strmap_put(&kmap, s->keys[i], s->nk);
		s->kernels[s->nk++] = i;
	}

	batch = s->n ? s->runs[0].batch : "";
	for (i = s->n; i-- > 0; ) {
		const char *cell = s->runs[i].cell;

		if (strcmp(s->runs[i].batch, batch) ||
		    strmap_get(&cmap, cell) != NO_RUN)
			continue;
		strmap_put(&cmap, cell, s->nc);
		s->cells[s->nc++] = cell;
	}
	first_other = s->nc;
	for (i = 0; i < s->n; i++) {
		const char *cell = s->runs[i].cell;

		if (strmap_get(&cmap, cell) != NO_RUN)
			continue;
		strmap_put(&cmap, cell, s->nc);
		s->cells[s->nc++] = cell;
	}
	qsort(s->cells + first_other, s->nc - first_other, sizeof(*s->cells),
	      cmp_str);
	for (c = first_other; c < s->nc; c++)
		strmap_put(&cmap, s->cells[c], c);

	s->grid = xcalloc(s->nk * s->nc + 1, sizeof(*s->grid));
	for (i = 0; i < s->nk * s->nc; i++)
		s->grid[i] = NO_RUN;
	for (i = 0; i < s->n; i++) {
		size_t *slot;

		k = strmap_get(&kmap, s->keys[i]);
		c = strmap_get(&cmap, s->runs[i].cell);
		slot = &s->grid[k * s->nc + c];
		if (*slot == NO_RUN)
			*slot = i;
	}
	strmap_release(&kmap);
	strmap_release(&cmap);
}

static void site_release(struct site *s)
{
	size_t i;

	for (i = 0; s->keys && i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->log);
	free(s->kernels);
	free(s->cells);
	free(s->grid);
}

static void add_summary(struct strbuf *sb, const struct site *s)
{
	size_t count[VERDICT_BLOCKED + 1] = { 0 };
	double started = 0;
	size_t i, total = 0;
	int v;

	if (!s->n) {
		strbuf_addstr(sb, "<p class=\"empty\">No runs recorded yet. "
			      "Run <code>hvmatrix boot</code>, then "
			      "<code>hvmatrix dashboard</code>.</p>\n");
		return;
	}
	for (i = 0; i < s->n; i++) {
		const struct record_run *run = &s->runs[i];

		if (strcmp(run->batch, s->runs[0].batch))
			continue;
		if (run->verdict > VERDICT_NONE &&
		    run->verdict <= VERDICT_BLOCKED)
			count[run->verdict]++;
		started = run->started_at;	/* oldest of the batch */
		total++;
	}
	strbuf_addstr(sb, "<p class=\"summary-line\">Batch <code>");
	strbuf_add_html(sb, s->runs[0].batch);
	strbuf_addstr(sb, "</code> started ");
	strbuf_add_utc(sb, started);
	strbuf_addf(sb, ", %zu run%s:", total, total == 1 ? "" : "s");
	for (v = VERDICT_PASS; v <= VERDICT_BLOCKED; v++)
		strbuf_addf(sb, " <span class=\"count %s%s\">%zu %s</span>",
			    verdict_class(v), count[v] ? "" : " zero",
			    count[v], verdict_name(v));
	strbuf_addf(sb, "</p>\n<p class=\"totals\">%zu kernel%s, %zu cell%s, "
		    "%zu run%s recorded.</p>\n", s->totals.rows,
		    s->totals.rows == 1 ? "" : "s", s->totals.cells,
		    s->totals.cells == 1 ? "" : "s", s->totals.runs,
		    s->totals.runs == 1 ? "" : "s");
}

static void add_log_link(struct strbuf *sb, const struct record_run *run,
			 const char *text)
{
	strbuf_addf(sb, "<a href=\"logs/%lld.txt\">%s</a>", (long long)run->id,
		    text);
}

static int add_grid(struct strbuf *sb, struct site *s, struct strbuf *err)
{
	size_t k, c;

	if (!s->n) {
		strbuf_addstr(sb, "<p class=\"empty\">Nothing to show.</p>\n");
		return 0;
	}
	if (s->nk < s->totals.rows)
		strbuf_addf(sb, "<p class=\"hint\">The %zu most recent of %zu "
			    "kernels.</p>\n", s->nk, s->totals.rows);
	strbuf_addstr(sb, "<div class=\"scroll grid-scroll\">"
		      "<table class=\"grid\">\n<thead><tr>"
		      "<th scope=\"col\" class=\"corner\">Kernel</th>");
	for (c = 0; c < s->nc; c++) {
		strbuf_addstr(sb, "<th scope=\"col\">");
		strbuf_add_html(sb, s->cells[c]);
		strbuf_addstr(sb, "</th>");
	}
	strbuf_addstr(sb, "</tr></thead>\n<tbody>\n");
	for (k = 0; k < s->nk; k++) {
		const struct record_run *krun = &s->runs[s->kernels[k]];

		strbuf_addstr(sb, "<tr><th scope=\"row\" class=\"kernel\"");
		add_kernel_title(sb, krun);
		strbuf_addstr(sb, ">");
		add_kernel_label(sb, krun);
		strbuf_addstr(sb, "</th>");
		for (c = 0; c < s->nc; c++) {
			size_t i = s->grid[k * s->nc + c];
			const struct record_run *run;
			int have_log;

			if (i == NO_RUN) {
				strbuf_addstr(sb, "<td class=\"norun\" "
					      "title=\"not run\">&ndash;</td>");
				continue;
			}
			run = &s->runs[i];
			have_log = site_log(s, i, err);
			if (have_log < 0)
				return -1;
			strbuf_addf(sb, "<td class=\"verdict %s\" title=\"",
				    verdict_class(run->verdict));
			strbuf_add_html(sb, run->reason);
			if (*run->line) {
				strbuf_addstr(sb, "&#10;");
				strbuf_add_html(sb, run->line);
			}
			strbuf_addstr(sb, "\">");
			if (have_log) {
				add_log_link(sb, run,
					     verdict_name(run->verdict));
			} else {
				strbuf_addstr(sb, verdict_name(run->verdict));
				strbuf_addstr(sb, " <span class=\"nolog\">"
					      "log missing</span>");
			}
			strbuf_addstr(sb, "</td>");
		}
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</tbody>\n</table></div>\n");
	return 0;
}

static int add_runs(struct strbuf *sb, struct site *s, struct strbuf *err)
{
	size_t i, shown = s->n < PUBLISH_MAX_RUNS ? s->n : PUBLISH_MAX_RUNS;

	if (!s->n) {
		strbuf_addstr(sb, "<p class=\"empty\">Nothing to show.</p>\n");
		return 0;
	}
	if (shown < s->totals.runs)
		strbuf_addf(sb, "<p class=\"hint\">The %zu most recent of %zu "
			    "runs.</p>\n", shown, s->totals.runs);
	strbuf_addstr(sb, "<div class=\"scroll\"><table class=\"runs\">\n"
		      "<thead><tr><th scope=\"col\">Time (UTC)</th>"
		      "<th scope=\"col\">Kernel</th><th scope=\"col\">Cell</th>"
		      "<th scope=\"col\">Verdict</th>"
		      "<th scope=\"col\" class=\"num\">Duration</th>"
		      "<th scope=\"col\">Reason</th>"
		      "<th scope=\"col\">Deciding line</th>"
		      "<th scope=\"col\">Log</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < shown; i++) {
		const struct record_run *run = &s->runs[i];
		int have_log = site_log(s, i, err);

		if (have_log < 0)
			return -1;
		strbuf_addstr(sb, "<tr><td class=\"time\">");
		strbuf_add_utc(sb, run->started_at);
		strbuf_addstr(sb, "</td><td class=\"kernel\"");
		add_kernel_title(sb, run);
		strbuf_addstr(sb, ">");
		add_kernel_label(sb, run);
		strbuf_addstr(sb, "</td><td class=\"cell\">");
		strbuf_add_html(sb, run->cell);
		strbuf_addf(sb, "</td><td class=\"verdict %s\">%s</td>"
			    "<td class=\"num\">%.1f&nbsp;s</td>"
			    "<td class=\"reason\">",
			    verdict_class(run->verdict),
			    verdict_name(run->verdict), run->duration_s);
		strbuf_add_html(sb, run->reason);
		strbuf_addstr(sb, "</td><td><code class=\"line\">");
		strbuf_add_html(sb, run->line);
		strbuf_addstr(sb, "</code></td><td class=\"log\">");
		if (have_log)
			add_log_link(sb, run, "log");
		else
			strbuf_addstr(sb, "<span class=\"nolog\">log missing"
				      "</span>");
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody>\n</table></div>\n");
	return 0;
}

struct subst {
	const char *name;
	const char *value;
};

/*
 * Replace @NAME@ with its value in one pass, so a value that happens to
 * contain "@GRID@" is never expanded again. Unknown @...@ stay as they are.
 */
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

int publish_dashboard(struct record *r, const char *out_dir,
		      char **index_path, struct strbuf *err)
{
	struct strbuf tpl = STRBUF_INIT, page = STRBUF_INIT;
	struct strbuf generated = STRBUF_INIT, state = STRBUF_INIT;
	struct strbuf summary = STRBUF_INIT, grid = STRBUF_INIT;
	struct strbuf runs = STRBUF_INIT;
	struct site s = { 0 };
	const char *web = publish_web_dir();
	char *abs_out = NULL, *logs = NULL, *path = NULL, *from = NULL;
	int rc, ret = -1;

	if (index_path)
		*index_path = NULL;
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
	logs = xstrfmt("%s/logs", abs_out);
	rc = fsutil_mkdir_p(logs, 0755);
	if (rc < 0) {
		strbuf_addf(err, "%s: cannot create: %s", logs, strerror(-rc));
		goto out;
	}

	from = xstrfmt("%s/index.html.in", web);
	rc = fsutil_read(from, &tpl);
	if (rc < 0) {
		strbuf_addf(err, "%s: cannot read the template: %s (set "
			    "HVMATRIX_WEB to the web/ directory)", from,
			    strerror(-rc));
		goto out;
	}
	free(from);
	from = xstrfmt("%s/style.css", web);
	path = xstrfmt("%s/style.css", abs_out);
	rc = fsutil_copy(from, path);
	if (rc < 0) {
		strbuf_addf(err, "cannot copy %s to %s: %s", from, path,
			    strerror(-rc));
		goto out;
	}

	if (record_count_runs(r, &s.totals, err) ||
	    record_list_recent_runs(r, PUBLISH_MAX_KERNELS, PUBLISH_MAX_RUNS,
				    PUBLISH_ROW_RUNS, &s.runs, &s.n, err))
		goto out;
	s.out = abs_out;
	s.log = xcalloc(s.n ? s.n : 1, sizeof(*s.log));
	site_layout(&s);

	strbuf_add_utc(&generated, (double)time(NULL));
	strbuf_add_html(&state, record_dir(r));
	add_summary(&summary, &s);
	if (add_grid(&grid, &s, err) || add_runs(&runs, &s, err))
		goto out;
	{
		const struct subst subs[] = {
			{ "TITLE", "hvmatrix" },
			{ "VERSION", PACKAGE_VERSION },
			{ "GENERATED", generated.buf },
			{ "STATE", state.buf },
			{ "SUMMARY", summary.buf },
			{ "GRID", grid.buf },
			{ "RUNS", runs.buf },
		};

		fill_template(&page, tpl.buf, subs, ARRAY_SIZE(subs));
	}

	free(path);
	path = xstrfmt("%s/index.html", abs_out);
	rc = fsutil_write_atomic(path, page.buf, page.len);
	if (rc < 0) {
		strbuf_addf(err, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (index_path) {
		*index_path = path;
		path = NULL;
	}
	ret = 0;
out:
	site_release(&s);
	record_runs_free(s.runs, s.n);
	strbuf_release(&tpl);
	strbuf_release(&page);
	strbuf_release(&generated);
	strbuf_release(&state);
	strbuf_release(&summary);
	strbuf_release(&grid);
	strbuf_release(&runs);
	free(abs_out);
	free(logs);
	free(path);
	free(from);
	return ret;
}
