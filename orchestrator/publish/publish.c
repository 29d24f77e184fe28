/*
 * publish: the static dashboard (v2), the driver. The runs, compact
 * (regressions_input: ids into one string pool, tens of bytes a run), come
 * from the cache of the last publish plus the runs recorded since
 * (publish-cache.c), or from one scan of the runs table; the regressions
 * and every run's class are computed from them in memory
 * (regressions_compute_input: never recomputed here). They give:
 *
 *   index.html          open regressions, then the newest 100 commits
 *   grid/N.html         commits x cells, 100 commits a page (1: oldest)
 *   regressions.html    open first (first bad, last good, decisive line,
 *                       bisection cost), then fixed (fixing commit), flaky
 *   releases.html       hypervisor releases (from each cell's config) as
 *                       rows, the newest commits' classes across them
 *   web.html            the compatibility web: released kernels x
 *                       hypervisor releases and cells, support windows
 *   cell/NAME.html      a cell's history, as spans of one class
 *   commit/KEY.html     every cell, every run of one commit
 *   run/ID.html, .sh    a run with a log: its details, the command line,
 *                       reproduce.sh, the console log with line anchors
 *                       and the decisive line highlighted (#decisive)
 *
 * Incremental: .manifest in the site holds, per page, a key of the data
 * it was made from (run ids, classes, or its text). A page whose key is
 * unchanged is neither rendered nor written; a run page is rendered again
 * only when the class it shows changes. A page is a page: no script,
 * nothing from the network. The files are named for what they make
 * (publish-grid.c, publish-commit.c, publish-cell.c, publish-run.c, ...);
 * publish-priv.h says what each is and the order they call each other.
 *
 * Every string from the store (subjects, cell names, reasons, console
 * lines, paths) is user input and goes through strbuf_add_html; file
 * names made from names go through publish_html_path_part. This module only reads the
 * store.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "lib/fsutil.h"
#include "matrix/matrix.h"
#include "lib/paths.h"
#include "publish/publish.h"
#include "publish/publish-priv.h"
#include "compare/regressions.h"
#include "lib/xmalloc.h"

/*
 * After the model (publish-model.c, passes one and two): the run pages,
 * which show the final class, and each entry's link to one of them.
 */
static int run_pages(struct site *s, struct strbuf *err)
{
	size_t i, k;

	s->has_page = xcalloc(s->in.n_runs + 1, 1);
	for (k = 0; k < s->nrows; k++) {
		const struct row *row = &s->rows[k];

		for (i = 0; i < row->n_runs; i++) {
			size_t ri = s->row_runs[row->run_at + i];
			const struct regressions_run *run = &s->in.runs[ri];
			struct entry *e = &s->ev[s->dense[k * s->ncells +
						 s->cell_of[run->cell] - 1]];
			int rc;

			if (!run->has_log)
				continue;
			rc = publish_run_page(s, ri, row, e->look, err);
			if (rc < 0)
				return -1;
			s->has_page[ri] = rc > 0;
			/* A later run wins, but a FAIL stays linked over a
			 * later run that did not fail. */
			if (rc && (!e->link || run->verdict == VERDICT_FAIL ||
				   !e->link_fail)) {
				e->link = run->id;
				e->link_fail = run->verdict == VERDICT_FAIL;
			}
		}
	}
	return 0;
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
	publish_site_manifest_release(&s->manifest);
	free(s->commit_of);
	free(s->tree_at);
	free(s->cells);
	free(s->cell_of);
	for (i = 0; i < s->nrows; i++)
		free(s->rows[i].page);
	free(s->rows);
	free(s->rows_by_key.slots);
	free(s->run_row);
	free(s->row_runs);
	free(s->ev);
	free(s->dense);
	free(s->has_page);
	free(s->run_class);
	regressions_input_release(&s->in);
	strbuf_release(&s->tpl);
	free(s->generated);
}

/*
 * HVMATRIX_DEBUG_PUBLISH=1: where a publish spends its time, as the wall
 * clock and as the CPU the process took (a busy machine stretches the
 * one, not the other); the first call says what came before (the
 * program's start, the store's opening).
 */
static void debug_time(const char *what)
{
	static struct timespec last, last_cpu;
	struct timespec now, cpu;

	if (!getenv("HVMATRIX_DEBUG_PUBLISH"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	if (last.tv_sec)
		fprintf(stderr, "publish: %s %.3f s, cpu %.3f s\n", what,
			(double)(now.tv_sec - last.tv_sec) +
			(now.tv_nsec - last.tv_nsec) / 1e9,
			(double)(cpu.tv_sec - last_cpu.tv_sec) +
			(cpu.tv_nsec - last_cpu.tv_nsec) / 1e9);
	else
		fprintf(stderr, "publish: %s, cpu %.3f s before\n", what,
			(double)cpu.tv_sec + cpu.tv_nsec / 1e9);
	last = now;
	last_cpu = cpu;
}

int publish_dashboard(struct record *r, const char *out_dir,
		      char **index_path, struct strbuf *err)
{
	struct site s = { 0 };
	size_t i;
	struct strbuf gen = STRBUF_INIT, merr = STRBUF_INIT;
	const char *web = publish_web_dir();
	char *abs_out = NULL, *from = NULL;
	int rc, ret = -1, full = 1;

	debug_time("start");
	if (index_path)
		*index_path = NULL;
	regressions_input_init(&s.in);
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
	if (publish_site_dirs(abs_out, err) < 0)
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
	if (publish_site_style(&s, from, err) < 0)
		goto out;
	strbuf_add_utc(&gen, (double)time(NULL));
	s.generated = strbuf_detach(&gen, NULL);
	publish_site_manifest_load(&s);

	/* The matrix of the newest run: its cells' releases, the trees'
	 * and cells' confirm. A matrix gone or broken since only loses
	 * those (the defaults apply). */
	{
		struct record_run *nr = NULL;
		size_t nn = 0;

		if (record_query_recent_runs(r, 1, 1, 1, &nr, &nn, err) < 0)
			goto out;
		if (nn && *nr[0].matrix_path &&
		    matrix_load(&s.m, nr[0].matrix_path, &merr) == 0)
			s.have_m = 1;
		record_runs_free(nr, nn);
	}
	debug_time("manifest, matrix");
	if (publish_cache_load(&s, &full, err) < 0)
		goto out;
	debug_time(full ? "runs (store)" : "runs (cache, store)");
	s.run_class = xcalloc(s.in.n_runs + 1, sizeof(*s.run_class));
	if (regressions_compute_input(r, &s.in, s.have_m ? &s.m : NULL, &s.rs,
				      s.run_class, err) < 0 ||
	    regressions_revert_attach(r, &s.rs, err) < 0)
		goto out;
	debug_time("regressions");
	if (publish_model_build(&s, err) < 0)
		goto out;
	debug_time("commits, model");
	if (run_pages(&s, err) < 0)
		goto out;
	debug_time("run pages");
	for (i = 0; i < s.nrows; i++)
		if (publish_commit_page(&s, &s.rows[i], err) < 0)
			goto out;
	debug_time("commit pages");
	if (publish_grid_pages(&s, err) < 0 ||
	    publish_cell_pages(&s, err) < 0 ||
	    publish_regressions_page(&s, err) < 0 ||
	    publish_releases_page(&s, err) < 0 ||
	    publish_web_page(&s, err) < 0 ||
	    publish_grid_index_page(&s, err) < 0 ||
	    publish_site_manifest_save(&s, err) < 0)
		goto out;
	debug_time("other pages");
	/* Last: the runs, for the next publish (of any site of the store). */
	publish_cache_save(&s);
	debug_time("cache");
	if (index_path)
		*index_path = xstrfmt("%s/index.html", abs_out);
	if (getenv("HVMATRIX_DEBUG_PUBLISH"))
		fprintf(stderr, "publish: %zu rows, %zu cells, %zu pages "
			"written, %zu kept\n", s.nrows, s.ncells, s.written,
			s.kept);
	ret = 0;
out:
	site_release(&s);
	debug_time("release");
	strbuf_release(&gen);
	strbuf_release(&merr);
	free(abs_out);
	free(from);
	return ret;
}
