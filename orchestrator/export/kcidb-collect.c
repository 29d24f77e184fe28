/*
 * kcidb-collect: the store gathered into a struct kcidb_report (kcidb.h)
 * for kcidb_write(). kcidb_collect() walks the recorded runs once (newest
 * first, as record_list_runs gives them), adds each run's build and
 * checkout the first time it is seen, then the regressions as issues with
 * an incident per failing test of their first bad commit. Every string
 * the report points to is in its pool, owned by it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/hypervisors.h"
#include "export/kcidb.h"
#include "compare/regressions.h"
#include "store/record-web.h"
#include "lib/url.h"
#include "lib/xmalloc.h"

static const char *keep(struct kcidb_report *rep, char *s)
{
	if (!s)
		return NULL;
	ALLOC_GROW(rep->pool, rep->n_pool + 1, rep->alloc_pool);
	rep->pool[rep->n_pool++] = s;
	return s;
}

static const char *keep_dup(struct kcidb_report *rep, const char *s)
{
	return s ? keep(rep, xstrdup(s)) : NULL;
}

/* A non-empty string, or NULL: "" in the store means unknown. */
static const char *known(const char *s)
{
	return s && *s ? s : NULL;
}

static void misc_add(struct kcidb_misc *m, const char *key,
		     const char *value)
{
	if (m->n < KCIDB_MISC_MAX && value) {
		m->key[m->n] = key;
		m->value[m->n++] = value;
	}
}

struct qemu_version {
	char *qemu, *version;
};

struct collector {
	struct record *r;
	const struct matrix *m;
	struct kcidb_report *rep;
	size_t alloc_checkouts, alloc_builds, alloc_tests;
	size_t alloc_issues, alloc_incidents;
	struct qemu_version *qv;	/* `qemu --version`, once a binary */
	size_t n_qv;
	/* The compatibility web's released kernels: their runs are
	 * checkouts of their own, "release-<version>". */
	struct record_web_kernel *web;
	size_t n_web;
	/* A tree's recorded commits, loaded once per tree. */
	char *commits_tree;
	struct record_commit *commits;
	size_t n_commits;
};

/* What ran run (see kcidb_run_qemu); `qemu --version` once a binary. */
static const char *qemu_version_of(struct collector *co,
				   const struct cell *c,
				   const struct record_run *run)
{
	size_t i;

	if (known(run->qemu_version) || hypervisors_is_release(c->qemu))
		return keep(co->rep, kcidb_run_qemu(c, run->qemu_version));
	for (i = 0; i < co->n_qv; i++)
		if (!strcmp(co->qv[i].qemu, c->qemu))
			return co->qv[i].version;
	co->qv = xrealloc(co->qv, (co->n_qv + 1) * sizeof(*co->qv));
	co->qv[co->n_qv].qemu = xstrdup(c->qemu);
	co->qv[co->n_qv].version = kcidb_qemu_version(c->qemu);
	return co->qv[co->n_qv++].version;
}

static const struct record_commit *find_commit(struct collector *co,
					       const char *tree,
					       const char *id,
					       struct strbuf *err)
{
	size_t i;

	if (!co->commits_tree || strcmp(co->commits_tree, tree)) {
		record_history_commits_free(co->commits, co->n_commits);
		co->commits = NULL;
		co->n_commits = 0;
		free(co->commits_tree);
		co->commits_tree = xstrdup(tree);
		if (record_history_commits(co->r, tree, &co->commits,
					   &co->n_commits, err) < 0)
			return NULL;
	}
	for (i = 0; i < co->n_commits; i++)
		if (!strcmp(co->commits[i].id, id))
			return &co->commits[i];
	return NULL;
}

/* A 40-digit lowercase hex id (the schema's git_commit_hash). */
static int is_sha1(const char *s)
{
	return s && strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

static const char *find_checkout(const struct kcidb_report *rep,
				 const char *id)
{
	size_t i;

	for (i = rep->n_checkouts; i-- > 0;)
		if (!strcmp(rep->checkouts[i].id, id))
			return rep->checkouts[i].id;
	return NULL;
}

static const char *find_build(const struct kcidb_report *rep,
			      const char *id)
{
	size_t i;

	for (i = rep->n_builds; i-- > 0;)
		if (!strcmp(rep->builds[i].id, id))
			return rep->builds[i].id;
	return NULL;
}

/* The web kernel a run booted (tree "release"), or NULL. */
static const struct record_web_kernel *web_kernel_of(
	const struct collector *co, const struct record_run *run)
{
	size_t i;

	if (strcmp(run->tree, "release"))
		return NULL;
	for (i = 0; i < co->n_web; i++)
		if (!strcmp(co->web[i].id, run->commit_id))
			return &co->web[i];
	return NULL;
}

/* A released kernel's checkout: the release as Debian shipped it. */
static void web_checkout(struct kcidb_report *rep, struct kcidb_checkout *c,
			 const struct record_web_kernel *k)
{
	c->tree = "release";
	c->comment = keep(rep, xstrfmt("released kernel %s: Debian package "
				       "%s version %s, image sha256 %s",
				       k->release, k->package, k->version,
				       k->id));
	c->start_time = k->added_at;
}

/* The checkout of a run's commit (or of its prebuilt kernel). */
static int add_checkout(struct collector *co, const struct record_run *run,
			const char **id_out, struct strbuf *err)
{
	struct kcidb_report *rep = co->rep;
	struct kcidb_checkout *c;
	const struct matrix_tree *t;
	const struct record_commit *rc = NULL;
	char *id;
	size_t i;

	const struct record_web_kernel *wk = web_kernel_of(co, run);

	if (wk)
		id = xstrfmt("release-%s", wk->version);
	else if (known(run->tree))
		id = xstrfmt("%s:%s", run->tree, run->commit_id);
	else
		id = xstrfmt("kernel:%s", run->kernel_id);
	if ((*id_out = find_checkout(rep, id))) {
		free(id);
		return 0;
	}
	ALLOC_GROW(rep->checkouts, rep->n_checkouts + 1, co->alloc_checkouts);
	c = &rep->checkouts[rep->n_checkouts++];
	memset(c, 0, sizeof(*c));
	c->id = *id_out = keep(rep, id);
	c->tip = -1;
	if (wk) {
		web_checkout(rep, c, wk);
		return 0;
	}
	if (!known(run->tree)) {
		c->comment = keep(rep, xstrfmt("a prebuilt kernel, booted by "
					       "`hvmatrix boot`: %s%s%s%s",
					       run->kernel_path,
					       known(run->kernel_version) ?
					       " (" : "",
					       known(run->kernel_version) ?
					       run->kernel_version : "",
					       known(run->kernel_version) ?
					       ")" : ""));
		return 0;
	}
	c->tree = keep_dup(rep, run->tree);
	if (is_sha1(run->commit_id))
		c->commit = keep_dup(rep, run->commit_id);
	rc = find_commit(co, run->tree, run->commit_id, err);
	if (!rc && err->len)
		return -1;
	if (rc) {
		c->subject = keep_dup(rep, known(rc->subject));
		c->start_time = (double)rc->time;
		c->comment = keep(rep, known(rc->author) ?
				  xstrfmt("author: %s", rc->author) : NULL);
	}
	t = co->m ? matrix_find_tree(co->m, run->tree) : NULL;
	if (!t)
		return 0;
	/* KCIDB takes only https:// repositories; a local tree has none. */
	if (t->url && !strncmp(t->url, "https://", 8))
		c->url = keep(rep, url_display(t->url));	/* no token */
	for (i = 0; i < t->n_branches; i++) {
		char tip[41];
		int rc2 = record_queue_get_tip(co->r, t->name, t->branches[i],
					       tip,
					       err);

		if (rc2 < 0)
			return -1;
		if (rc2 > 0 && !strcmp(tip, run->commit_id)) {
			c->branch = keep_dup(rep, t->branches[i]);
			c->tip = 1;
			return 0;
		}
	}
	/* One branch watched: the commit is on it (not its tip). */
	if (t->n_branches == 1) {
		c->branch = keep_dup(rep, t->branches[0]);
		c->tip = 0;
	}
	return 0;
}

static int add_build(struct collector *co, const struct record_run *run,
		     const char *checkout_id, const char **id_out,
		     struct strbuf *err)
{
	struct kcidb_report *rep = co->rep;
	struct record_build rb = { 0 };
	struct kcidb_build *b;
	struct strbuf sb = STRBUF_INIT;
	char *id;
	int rc;

	const struct record_web_kernel *wk = web_kernel_of(co, run);

	if (wk)
		id = xstrfmt("release-%s:%s", wk->version, run->build);
	else if (known(run->tree))
		id = xstrfmt("%s:%s:%s", run->tree, run->commit_id,
			     run->build);
	else
		id = xstrfmt("kernel:%s", run->kernel_id);
	if ((*id_out = find_build(rep, id))) {
		free(id);
		return 0;
	}
	ALLOC_GROW(rep->builds, rep->n_builds + 1, co->alloc_builds);
	b = &rep->builds[rep->n_builds++];
	memset(b, 0, sizeof(*b));
	b->id = *id_out = keep(rep, id);
	b->checkout_id = checkout_id;
	if (wk) {
		/* Debian built it; it booted, so it is there. */
		b->status = "PASS";
		b->config = keep_dup(rep, known(run->build));
		b->comment = keep(rep, xstrfmt("Debian's prebuilt image of %s "
					       "%s", wk->package,
					       wk->version));
		misc_add(&b->misc, "kernel_path", keep_dup(rep,
			 known(wk->path)));
		misc_add(&b->misc, "package", keep_dup(rep,
			 known(wk->package)));
		misc_add(&b->misc, "version", keep_dup(rep,
			 known(wk->version)));
		misc_add(&b->misc, "sha256", keep_dup(rep, known(wk->id)));
		return 0;
	}
	if (!known(run->tree)) {
		/* Someone else built it; it booted, so it is there. */
		b->status = "PASS";
		b->comment = keep(rep, xstrfmt("prebuilt kernel %s",
					       run->kernel_path));
		misc_add(&b->misc, "kernel_path", keep_dup(rep,
			 known(run->kernel_path)));
		misc_add(&b->misc, "kernel_version", keep_dup(rep,
			 known(run->kernel_version)));
		return 0;
	}
	b->config = keep_dup(rep, known(run->build));
	rc = record_build_last(co->r, run->tree, run->commit_id, run->build,
			       &rb, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	b->status = kcidb_build_status(rb.status);
	b->start_time = rb.started_at;
	b->duration = rb.duration_s;
	b->comment = keep_dup(rep, known(rb.reason));
	b->log_path = keep_dup(rep, known(rb.log_path));
	if (rb.status == RECORD_BUILD_FAILED && known(rb.errors)) {
		/* The compiler's error lines, as build.c picked them. */
		kcidb_excerpt(&sb, rb.errors, strlen(rb.errors),
			      KCIDB_EXCERPT_MAX);
	} else if (rb.status != RECORD_BUILD_OK && known(rb.log_path)) {
		struct strbuf e = STRBUF_INIT;

		/* A log that is gone is no excerpt, not an error. */
		kcidb_log_tail(rb.log_path, KCIDB_EXCERPT_MAX, &sb, &e);
		strbuf_release(&e);
	}
	if (sb.len)
		b->log_excerpt = keep(rep, strbuf_detach(&sb, NULL));
	misc_add(&b->misc, "image_path", keep_dup(rep, known(rb.image_path)));
	strbuf_release(&sb);
	record_build_release(&rb);
	return 0;
}

static void add_environment(struct collector *co, struct kcidb_test *t,
			    const struct cell *c,
			    const struct record_run *run)
{
	struct kcidb_report *rep = co->rep;
	struct strbuf sb = STRBUF_INIT;
	const char *qv = qemu_version_of(co, c, run);
	const char *xv = known(run->xen_version);

	misc_add(&t->env, "hypervisor", kcidb_hypervisor(c));
	misc_add(&t->env, "release", keep_dup(rep, kcidb_release(c, qv, xv)));
	misc_add(&t->env, "machine", keep_dup(rep, c->machine));
	misc_add(&t->env, "qemu", keep_dup(rep, qv));
	if (xv)
		misc_add(&t->env, "xen", keep_dup(rep, xv));
	misc_add(&t->env, "backend", cell_backend_name(c->backend));
	misc_add(&t->env, "accel", cell_accel_name(c->accel));
	misc_add(&t->env, "cpu", keep_dup(rep, c->cpu));
	if (c->backend == CELL_BACKEND_XEN_LIBXL)
		misc_add(&t->env, "guest", cell_guest_name(c->guest));
	kcidb_describe_cell(c, qv, xv, &sb);
	t->env_comment = keep(rep, strbuf_detach(&sb, NULL));
}

static int add_test(struct collector *co, const struct record_run *run,
		    const struct regressions *rs, struct strbuf *err)
{
	struct kcidb_report *rep = co->rep;
	const char *checkout_id, *build_id;
	const struct cell *c;
	struct kcidb_test *t;

	if (add_checkout(co, run, &checkout_id, err) < 0 ||
	    add_build(co, run, checkout_id, &build_id, err) < 0)
		return -1;
	ALLOC_GROW(rep->tests, rep->n_tests + 1, co->alloc_tests);
	t = &rep->tests[rep->n_tests++];
	memset(t, 0, sizeof(*t));
	t->id = keep(rep, xstrfmt("run:%lld", (long long)run->id));
	t->build_id = build_id;
	t->cell = keep_dup(rep, run->cell);
	t->status = kcidb_test_status(run->verdict);
	t->comment = keep_dup(rep, known(run->reason));
	t->start_time = run->started_at;
	t->duration = run->duration_s;
	t->log_path = keep_dup(rep, known(run->log_path));
	if ((run->verdict == VERDICT_FAIL || run->verdict == VERDICT_ERROR) &&
	    known(run->log_path)) {
		struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;

		/* The tail: where a panic and its trace are. A log that
		 * is gone or damaged gives no excerpt, not a failed export. */
		if (kcidb_log_tail(run->log_path, KCIDB_EXCERPT_MAX, &sb,
				   &e) == 0 && sb.len)
			t->log_excerpt = keep(rep, strbuf_detach(&sb, NULL));
		strbuf_release(&sb);
		strbuf_release(&e);
	}
	/* KernelCI's dashboard keys test histories by platform. */
	misc_add(&t->env, "platform", t->cell);
	c = co->m ? matrix_find(co->m, run->cell) : NULL;
	if (c)
		add_environment(co, t, c, run);
	misc_add(&t->misc, "run", keep(rep, xstrfmt("%lld",
		 (long long)run->id)));
	misc_add(&t->misc, "verdict", verdict_name(run->verdict));
	misc_add(&t->misc, "line", keep_dup(rep, known(run->line)));
	misc_add(&t->misc, "purpose", keep_dup(rep, known(run->purpose)));
	misc_add(&t->misc, "nonce", keep_dup(rep, known(run->nonce)));
	misc_add(&t->misc, "kernel_version",
		 keep_dup(rep, known(run->kernel_version)));
	misc_add(&t->misc, "class", regressions_class_of_run(rs, run));
	/* A verdict carried over from the same image's run there: what
	 * KernelCI counts as a boot was that run's. */
	if (run->reused_from)
		misc_add(&t->misc, "reused_from", keep(rep, xstrfmt("%lld",
			 (long long)run->reused_from)));
	return 0;
}

/*
 * Each probe of the run (schema 8) as a test of its own under the run's
 * path, "boot.<cell>.<probe>", so that KernelCI shows which interface
 * path failed, not only that the boot did.
 */
static int add_probe_tests(struct collector *co, const struct record_run *run,
			   size_t run_test, struct strbuf *err)
{
	static const struct {
		const char *result, *status;
	} map[] = {
		{ "pass", "PASS" }, { "fail", "FAIL" }, { "skip", "SKIP" },
		{ "error", "ERROR" },
	};
	struct kcidb_report *rep = co->rep;
	struct record_run pr = { 0 };
	size_t i, k;

	pr.id = run->id;
	if (record_query_probes(co->r, &pr, err) < 0)
		return -1;
	for (i = 0; i < pr.n_probes; i++) {
		struct kcidb_test *t;
		const char *status = NULL;

		for (k = 0; k < ARRAY_SIZE(map); k++)
			if (!strcmp(pr.probes[i].result, map[k].result))
				status = map[k].status;
		ALLOC_GROW(rep->tests, rep->n_tests + 1, co->alloc_tests);
		t = &rep->tests[rep->n_tests++];
		memset(t, 0, sizeof(*t));
		t->id = keep(rep, xstrfmt("run:%lld:%s", (long long)run->id,
					  pr.probes[i].name));
		t->build_id = rep->tests[run_test].build_id;
		t->cell = rep->tests[run_test].cell;
		t->probe = keep_dup(rep, pr.probes[i].name);
		t->status = status;
		t->comment = keep_dup(rep, known(pr.probes[i].detail));
		t->start_time = run->started_at;
		t->duration = pr.probes[i].seconds;
		t->log_path = rep->tests[run_test].log_path;
		misc_add(&t->env, "platform", t->cell);
		misc_add(&t->misc, "run", keep(rep, xstrfmt("%lld",
			 (long long)run->id)));
		misc_add(&t->misc, "probe", t->probe);
		/* The probe ran in the original run, as its boot did. */
		if (run->reused_from)
			misc_add(&t->misc, "reused_from", keep(rep, xstrfmt(
				 "%lld", (long long)run->reused_from)));
	}
	record_run_release(&pr);
	return 0;
}

static int in_cells(const struct regression *g, const char *cell)
{
	size_t i;

	for (i = 0; i < g->n_cells; i++)
		if (!strcmp(g->cells[i], cell))
			return 1;
	return 0;
}

static void add_issue(struct collector *co, const struct regression *g,
		      const struct record_run *runs, size_t n_runs,
		      const size_t *test_of)
{
	struct kcidb_report *rep = co->rep;
	struct strbuf sb = STRBUF_INIT;
	struct kcidb_issue *is;
	const char *id;
	size_t i;

	regression_id(g, &sb);
	id = keep(rep, strbuf_detach(&sb, NULL));
	ALLOC_GROW(rep->issues, rep->n_issues + 1, co->alloc_issues);
	is = &rep->issues[rep->n_issues++];
	memset(is, 0, sizeof(*is));
	is->id = id;
	/* Fixed is news about the same issue: a newer version of it. */
	is->version = g->status == REGRESSION_FIXED ? 2 : 1;
	strbuf_addf(&sb, "%s: %s", g->cells[0],
		    known(g->line) ? g->line : "boot failure");
	is->subject = keep(rep, strbuf_detach(&sb, NULL));
	strbuf_addf(&sb, "regression in %s (%s build): first bad commit %s",
		    g->tree, g->build, g->first_bad.commit);
	if (known(g->first_bad.subject))
		strbuf_addf(&sb, " (\"%s\")", g->first_bad.subject);
	if (g->last_good.commit)
		strbuf_addf(&sb, ", last good %s", g->last_good.commit);
	if (g->fixed_by.commit)
		strbuf_addf(&sb, ", fixed by %s", g->fixed_by.commit);
	is->comment = keep(rep, strbuf_detach(&sb, NULL));
	misc_add(&is->misc, "status", regression_status_name(g->status));
	misc_add(&is->misc, "tree", keep_dup(rep, g->tree));
	misc_add(&is->misc, "build", keep_dup(rep, g->build));
	for (i = 0; i < g->n_cells; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", g->cells[i]);
	misc_add(&is->misc, "cells", keep(rep, strbuf_detach(&sb, NULL)));
	misc_add(&is->misc, "first_bad", keep_dup(rep, g->first_bad.commit));
	misc_add(&is->misc, "first_bad_author",
		 keep_dup(rep, known(g->first_bad.author)));
	misc_add(&is->misc, "last_good", keep_dup(rep, g->last_good.commit));
	misc_add(&is->misc, "fixed_by", keep_dup(rep, g->fixed_by.commit));
	misc_add(&is->misc, "line", keep_dup(rep, known(g->line)));
	misc_add(&is->misc, "signature", keep_dup(rep, known(g->signature)));

	/* An incident per exported failing test of the first bad commit. */
	for (i = 0; i < n_runs; i++) {
		const struct record_run *run = &runs[i];
		const struct kcidb_test *t;
		struct kcidb_incident *in;

		if (test_of[i] == (size_t)-1 || run->verdict != VERDICT_FAIL ||
		    strcmp(run->tree, g->tree) ||
		    strcmp(run->build, g->build) ||
		    strcmp(run->commit_id, g->first_bad.commit) ||
		    !in_cells(g, run->cell))
			continue;
		t = &rep->tests[test_of[i]];
		ALLOC_GROW(rep->incidents, rep->n_incidents + 1,
			   co->alloc_incidents);
		in = &rep->incidents[rep->n_incidents++];
		memset(in, 0, sizeof(*in));
		in->id = keep(rep, xstrfmt("%s:run:%lld", id,
					   (long long)run->id));
		in->issue_id = id;
		in->issue_version = is->version;
		in->test_id = t->id;
		in->build_id = t->build_id;
		in->comment = keep(rep, xstrfmt("%s fails on the first bad "
						"commit", run->cell));
	}
}

int kcidb_collect(struct record *r, const struct matrix *m,
		  const struct kcidb_opts *opts, struct kcidb_report *rep,
		  struct strbuf *err)
{
	struct collector co;
	struct regressions rs = { 0 };
	struct record_run *runs = NULL;
	size_t n_runs = 0, i, *test_of = NULL;
	int ret = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&co, 0, sizeof(co));
	co.r = r;
	co.m = m;
	co.rep = rep;
	if (!r)
		return 0;	/* nothing recorded: an empty report */
	if (regressions_compute(r, m, &rs, err) < 0 ||
	    record_list_runs(r, &runs, &n_runs, err) < 0 ||
	    record_web_kernels_list(r, &co.web, &co.n_web, err) < 0)
		goto out;
	test_of = xcalloc(n_runs ? n_runs : 1, sizeof(*test_of));
	/* Oldest first: the report reads in the order things happened. */
	for (i = n_runs; i-- > 0;) {
		test_of[i] = (size_t)-1;
		if (runs[i].started_at < opts->since)
			continue;
		/* A revert check boots a commit that is not the tree's: it
		 * is evidence for `regressions`, not a test of the tree. */
		if (runs[i].purpose && !strcmp(runs[i].purpose, "revert"))
			continue;
		if (add_test(&co, &runs[i], &rs, err) < 0)
			goto out;
		test_of[i] = rep->n_tests - 1;
		if (add_probe_tests(&co, &runs[i], test_of[i], err) < 0)
			goto out;
	}
	for (i = 0; i < rs.n; i++)
		if ((rs.v[i].status == REGRESSION_OPEN ||
		     rs.v[i].status == REGRESSION_FIXED) &&
		    rs.v[i].first_bad.commit)
			add_issue(&co, &rs.v[i], runs, n_runs, test_of);
	ret = 0;
out:
	regressions_release(&rs);
	record_runs_free(runs, n_runs);
	free(test_of);
	for (i = 0; i < co.n_qv; i++) {
		free(co.qv[i].qemu);
		free(co.qv[i].version);
	}
	free(co.qv);
	free(co.commits_tree);
	record_history_commits_free(co.commits, co.n_commits);
	record_web_kernels_free(co.web, co.n_web);
	return ret;
}

void kcidb_collect_release(struct kcidb_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n_pool; i++)
		free(rep->pool[i]);
	free(rep->pool);
	free(rep->checkouts);
	free(rep->builds);
	free(rep->tests);
	free(rep->issues);
	free(rep->incidents);
	memset(rep, 0, sizeof(*rep));
}

