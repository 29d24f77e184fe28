/*
 * regression: one finding (struct regression), made and released here,
 * and as the outside sees it: its status name, its stable id
 * (TREE:BUILD:CELL:FIRSTBAD12) and its JSON object, the `regressions
 * --json` contract that `bisect --json`, webhooks and the dashboard share
 * (a drift's changes included: [] for a failure).
 * It knows nothing of runs or histories: the other regressions files fill
 * it in.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "compare/regressions-priv.h"
#include "lib/xmalloc.h"

static const char *const status_names[] = {
	[REGRESSION_OPEN] = "open", [REGRESSION_FIXED] = "fixed",
	[REGRESSION_FLAKY] = "flaky", [REGRESSION_UNDECIDED] = "undecided",
	[REGRESSION_DRIFT] = "drift",
};

struct regression *regression_add(struct regressions *rs, const char *tree,
				  const char *build, const char *cell)
{
	struct regression *g;

	rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof(*g));
	g = &rs->v[rs->n++];
	memset(g, 0, sizeof(*g));
	g->tree = xstrdup(tree);
	g->build = xstrdup(build);
	g->cells = xcalloc(2, sizeof(char *));
	g->cells[0] = xstrdup(cell);
	g->n_cells = 1;
	return g;
}

static void ref_release(struct regression_ref *ref)
{
	free(ref->commit);
	free(ref->subject);
	free(ref->author);
}

void regression_release(struct regression *g)
{
	size_t i;

	free(g->tree);
	free(g->build);
	for (i = 0; i < g->n_cells; i++)
		free(g->cells[i]);
	free(g->cells);
	ref_release(&g->first_bad);
	ref_release(&g->last_good);
	ref_release(&g->fixed_by);
	ref_release(&g->lo);
	ref_release(&g->hi);
	free(g->line);
	free(g->signature);
	free(g->why);
	drift_changes_release(&g->changes);
	free(g->revert.tip);
	free(g->revert.commit);
	free(g->revert.why);
	free(g->revert.run_ids);
}

const char *regression_status_name(enum regression_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

void regression_id(const struct regression *g, struct strbuf *out)
{
	strbuf_addf(out, "%s:%s:%s:%.12s", g->tree, g->build, g->cells[0],
		    g->first_bad.commit ? g->first_bad.commit : "none");
}

void regression_ref_json(struct json *js, const char *key,
			 const struct regression_ref *ref)
{
	json_key(js, key);
	if (!ref->commit) {
		json_null(js);
		return;
	}
	json_object_begin(js);
	json_key_str(js, "commit", ref->commit);
	json_key_str(js, "subject", ref->subject);
	json_key_str(js, "author", ref->author);
	json_object_end(js);
}

void regression_changes_json(struct json *js,
			     const struct drift_changes *changes)
{
	size_t i;

	json_key(js, "changes");
	json_array_begin(js);
	for (i = 0; i < changes->n; i++) {
		const struct drift_change *c = &changes->v[i];

		json_object_begin(js);
		json_key_str(js, "field", drift_field_name(c->field));
		json_key_str(js, "before", c->before);
		json_key_str(js, "after", c->after);
		json_object_end(js);
	}
	json_array_end(js);
}

void regression_to_json(const struct regression *g, struct json *js)
{
	struct strbuf id = STRBUF_INIT;
	size_t i;

	json_object_begin(js);
	regression_id(g, &id);
	json_key_str(js, "id", id.buf);
	strbuf_release(&id);
	json_key_str(js, "tree", g->tree);
	json_key_str(js, "build", g->build);
	json_key_str(js, "cell", g->cells[0]);
	json_key_str(js, "status", regression_status_name(g->status));
	regression_ref_json(js, "first_bad", &g->first_bad);
	regression_ref_json(js, "last_good", &g->last_good);
	regression_ref_json(js, "fixed_by", &g->fixed_by);
	json_key_str(js, "line", g->line);
	json_key(js, "runs");
	json_object_begin(js);
	json_key_int(js, "fail", g->fail);
	json_key_int(js, "total", g->total);
	json_object_end(js);
	json_key_str(js, "signature", g->signature);
	json_key(js, "cells");
	json_array_begin(js);
	for (i = 0; i < g->n_cells; i++)
		json_str(js, g->cells[i]);
	json_array_end(js);
	json_key(js, "bisect");
	if (g->bisected) {
		json_object_begin(js);
		json_key_int(js, "builds", g->builds);
		json_key_int(js, "boots", g->boots);
		json_key_bool(js, "running", g->bisecting);
		json_object_end(js);
	} else {
		json_null(js);
	}
	json_key(js, "why");
	if (g->why)
		json_str(js, g->why);
	else
		json_null(js);
	json_key(js, "range");
	if (g->status == REGRESSION_UNDECIDED && g->lo.commit) {
		json_object_begin(js);
		regression_ref_json(js, "good", &g->lo);
		regression_ref_json(js, "bad", &g->hi);
		json_object_end(js);
	} else {
		json_null(js);
	}
	regression_changes_json(js, &g->changes);
	json_key(js, "revert");
	if (g->revert.status != REVERT_NONE) {
		json_object_begin(js);
		json_key_str(js, "status",
			     revert_status_name(g->revert.status));
		json_key(js, "run_ids");
		json_array_begin(js);
		for (i = 0; i < g->revert.n_run_ids; i++)
			json_int(js, g->revert.run_ids[i]);
		json_array_end(js);
		json_key_str(js, "tip", g->revert.tip);
		json_key_str(js, "commit", g->revert.commit);
		json_key(js, "why");
		if (g->revert.why && *g->revert.why)
			json_str(js, g->revert.why);
		else
			json_null(js);
		json_object_end(js);
	} else {
		json_null(js);
	}
	json_object_end(js);
}

void regression_revert_words(const struct regression *g, struct strbuf *out)
{
	const struct regression_revert *rv = &g->revert;
	size_t i;

	switch (rv->status) {
	case REVERT_HEALS:
		strbuf_addf(out, "verified by revert: reverting it on %.12s "
			    "heals %s (run%s ", rv->tip,
			    g->n_cells > 1 ? "every broken cell" :
			    "the cell", rv->n_run_ids == 1 ? "" : "s");
		for (i = 0; i < rv->n_run_ids; i++)
			strbuf_addf(out, "%s%lld", i ? ", " : "",
				    (long long)rv->run_ids[i]);
		strbuf_addch(out, ')');
		break;
	case REVERT_STILL_FAILS:
	case REVERT_DOES_NOT_APPLY:
	case REVERT_ERROR:
		strbuf_addf(out, "not verified by revert (%s on %.12s): %s",
			    revert_status_name(rv->status), rv->tip,
			    rv->why ? rv->why : "");
		break;
	case REVERT_PENDING:
		strbuf_addf(out, "not verified by revert yet: its boots on "
			    "%.12s are under way", rv->tip);
		break;
	default:
		if (rv->due)
			strbuf_addf(out, "not verified by revert yet: the "
				    "revert on %.12s is to be made", rv->tip);
		break;
	}
}
