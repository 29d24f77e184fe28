/*
 * matrix-sections: the sections only matrix files have, trees and builds,
 * and the machinery every such section is read with (a list of mappings,
 * or one mapping): settings checked table-driven the way cell.c checks
 * cells, with the parser's helpers (matrix-yaml.c). The sections of what
 * the daemon does with its findings and where runs go (webhooks, report,
 * executor) are matrix-options.c's. Paths written relative are resolved
 * against the matrix file's directory; whether they exist is for their
 * users to say, never a load error.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "matrix/matrix-priv.h"
#include "lib/xmalloc.h"

/* Longest value quoted back in an error message. */
#define ERR_VALUE_MAX 60

/* Append s for an error message: quoted, escaped, shortened. */
static void add_quoted(struct strbuf *sb, const char *s)
{
	strbuf_add_quoted(sb, s, ERR_VALUE_MAX);
}

int matrix_bad_value(struct strbuf *err, const char *key, const char *what,
		     const char *value)
{
	strbuf_addf(err, "%s: expected %s, got ", key, what);
	add_quoted(err, value);
	return -1;
}

/*
 * Values end up in argv words, file names and the dashboard: a control
 * character (a newline in a branch name) is always a mistake. libyaml has
 * already checked that the text is UTF-8.
 */
int matrix_check_controls(const char *key, const char *s, struct strbuf *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			continue;
		strbuf_addf(err, "%s: control characters are not allowed, "
			    "got ", key);
		add_quoted(err, s);
		return -1;
	}
	return 0;
}

/* A decimal integer in [lo, hi]: digits only (no sign, no 0x), at most 9. */
int matrix_parse_bounded(const char *s, unsigned lo, unsigned hi,
			 unsigned *out)
{
	unsigned long v = 0;
	size_t n;

	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 9)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (!n || s[n] || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static char *resolve_path(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (path[0] == '/')
		return xstrdup(path);
	/* dir/./x is dir/x; ".." is left alone (symbolic links). */
	while (path[0] == '.' && path[1] == '/')
		path += 2 + strspn(path + 2, "/");
	if (n && dir[n - 1] == '/')
		return xstrfmt("%s%s", dir, path);
	return xstrfmt("%s/%s", dir, path);
}

/*
 * A path as written in the file, resolved against dir. Whether it exists
 * is for its user to say: a build reports a missing fragment, a load does
 * not fail on it.
 */
int matrix_parse_path(const char *key, const char *v, const char *dir,
		      char **out, struct strbuf *err)
{
	if (matrix_check_controls(key, v, err))
		return -1;
	if (!*v) {
		strbuf_addf(err, "%s: expected a non-empty path", key);
		return -1;
	}
	/* Nothing expands it: "~/linux" would quietly be ./~/linux. */
	if (v[0] == '~') {
		strbuf_addf(err, "%s: '~' is not expanded in matrix files; "
			    "write the whole path, got ", key);
		add_quoted(err, v);
		return -1;
	}
	*out = resolve_path(dir, v);
	return 0;
}

static void list_add(char ***arr, size_t *n, char *value)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = value;
}

static void list_free(char **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

/*
 * git check-ref-format's rules for a branch name (blanks and control
 * characters are checked before): the name is passed to git and libgit2
 * as is, and a leading '-' would read as an option.
 */
static int ref_name_ok(const char *s)
{
	size_t n = strlen(s), len;
	const char *c;

	if (!n || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' ||
	    s[n - 1] == '.' || !strcmp(s, "@"))
		return 0;
	if (strstr(s, "..") || strstr(s, "@{") || strstr(s, "//") ||
	    strpbrk(s, "~^:?*[\\"))
		return 0;
	/* No component starts with '.' or ends with ".lock". */
	for (c = s;; c += len + 1) {
		len = strcspn(c, "/");
		if (c[0] == '.' ||
		    (len >= 5 && !memcmp(c + len - 5, ".lock", 5)))
			return 0;
		if (!c[len])
			return 1;
	}
}

/*
 * What git can clone: scheme://rest or the scp-like [user@]host:path. A
 * local repository is a `path`, and git would take a bare "/srv/linux" in
 * `url` without the relative-path handling paths get.
 */
static int url_ok(const char *s)
{
	size_t scheme = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz0123456789+.-");
	const char *colon = strchr(s, ':');

	if (strchr(s, ' '))
		return 0;
	if (scheme && isalpha((unsigned char)s[0]) &&
	    !strncmp(s + scheme, "://", 3))
		return s[scheme + 3] != '\0';
	return colon && colon > s && !memchr(s, '/', (size_t)(colon - s)) &&
	       colon[1];
}

static int tree_set_name(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (fsutil_check_name(v, err))
		return -1;
	t->name = xstrdup(v);
	return 0;
}

static int tree_set_path(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	return matrix_parse_path("path", v, dir, &t->path, err);
}

static int tree_set_url(void *obj, const char *v, const char *dir,
			struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_check_controls("url", v, err))
		return -1;
	if (!url_ok(v))
		return matrix_bad_value(err, "url", "a git URL without blanks "
				 "(scheme://host/path or host:path; a local "
				 "repository is a path)", v);
	t->url = xstrdup(v);
	return 0;
}

static int tree_set_branches(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_tree *t = obj;
	size_t i;

	if (matrix_check_controls("branches", v, err))
		return -1;
	if (!*v) {
		strbuf_addstr(err, "branches: expected a non-empty branch "
			      "name");
		return -1;
	}
	if (strchr(v, ' '))
		return matrix_bad_value(err, "branches",
					"a branch name without blanks", v);
	if (!ref_name_ok(v))
		return matrix_bad_value(err, "branches",
					"a valid git branch name (see git "
					"check-ref-format)", v);
	for (i = 0; i < t->n_branches; i++) {
		if (strcmp(t->branches[i], v))
			continue;
		strbuf_addf(err, "branches: '%s' is listed twice", v);
		return -1;
	}
	list_add(&t->branches, &t->n_branches, xstrdup(v));
	return 0;
}

static int tree_set_poll(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_parse_bounded(v, 10, 86400, &t->poll_s))
		return matrix_bad_value(err, "poll",
					"an integer number of seconds "
					"between 10 and 86400", v);
	return 0;
}

static int tree_set_first(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_parse_bounded(v, 0, 100000, &t->first))
		return matrix_bad_value(err, "first",
					"an integer between 0 and 100000 (0: "
					"every commit)", v);
	return 0;
}

static int tree_set_order(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (!strcmp(v, "oldest-first"))
		t->tips_first = 0;
	else if (!strcmp(v, "tips-first"))
		t->tips_first = 1;
	else
		return matrix_bad_value(err, "order",
					"oldest-first or tips-first", v);
	return 0;
}

static int tree_set_test(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (!strcmp(v, "every"))
		t->tips_only = 0;
	else if (!strcmp(v, "tips"))
		t->tips_only = 1;
	else
		return matrix_bad_value(err, "test", "every or tips", v);
	return 0;
}

static int tree_set_confirm(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_parse_bounded(v, 0, 20, &t->confirm))
		return matrix_bad_value(err, "confirm",
					"an integer between 0 and 20 (runs "
					"more a new FAIL needs)", v);
	return 0;
}

static const struct setting tree_settings[] = {
	{ "name", 0, tree_set_name },
	{ "path", 0, tree_set_path },
	{ "url", 0, tree_set_url },
	{ "branches", 1, tree_set_branches },
	{ "poll", 0, tree_set_poll },
	{ "first", 0, tree_set_first },
	{ "order", 0, tree_set_order },
	{ "test", 0, tree_set_test },
	{ "confirm", 0, tree_set_confirm },
};

static void tree_init(void *obj, unsigned line, unsigned column)
{
	struct matrix_tree *t = obj;

	memset(t, 0, sizeof(*t));
	t->poll_s = MATRIX_TREE_DEFAULT_POLL_S;
	t->first = MATRIX_TREE_DEFAULT_FIRST;
	t->confirm = MATRIX_TREE_DEFAULT_CONFIRM;
	t->line = line;
	t->column = column;
}

static void tree_release(void *obj)
{
	struct matrix_tree *t = obj;

	free(t->name);
	free(t->path);
	free(t->url);
	list_free(t->branches, t->n_branches);
	memset(t, 0, sizeof(*t));
}

static char **tree_name(void *obj)
{
	return &((struct matrix_tree *)obj)->name;
}

/* Whichever of two given settings comes second in the file. */
const yaml_mark_t *matrix_second_key(const struct seen_key *a,
				     const struct seen_key *b)
{
	return a->key_mark.index > b->key_mark.index ? &a->key_mark :
						       &b->key_mark;
}

static int tree_finish(struct loader *l, void *obj, struct seen_key *seen,
		       size_t n_seen, const yaml_mark_t *start)
{
	struct matrix_tree *t = obj;
	struct seen_key *path = matrix_seen_find(seen, n_seen, "path");
	struct seen_key *url = matrix_seen_find(seen, n_seen, "url");
	struct seen_key *branches = matrix_seen_find(seen, n_seen, "branches");

	if (!t->name)
		return matrix_fail(l, start, "name: missing (every tree needs "
				   "a name)");
	if (path && url)
		return matrix_fail(l, matrix_second_key(path, url),
				   "tree '%s': give either path or url",
				   t->name);
	if (!path && !url)
		return matrix_fail(l, start, "tree '%s': needs a path or a url",
				   t->name);
	if (!t->n_branches && branches)
		return matrix_fail(l, &branches->value_mark, "branches: "
				   "expected at least one branch");
	if (!t->n_branches)
		list_add(&t->branches, &t->n_branches,
			 xstrdup(MATRIX_TREE_DEFAULT_BRANCH));
	return 0;
}

const struct section matrix_tree_section = {
	.key = "trees",
	.what = "tree",
	.settings = tree_settings,
	.n_settings = ARRAY_SIZE(tree_settings),
	.size = sizeof(struct matrix_tree),
	.init = tree_init,
	.release = tree_release,
	.name = tree_name,
	.finish = tree_finish,
};

/* The make targets a base can be; anything else is a .config file. */
static const char *const config_targets[] = {
	"defconfig", "tinyconfig", "allnoconfig",
};

static int build_set_name(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (fsutil_check_name(v, err))
		return -1;
	b->name = xstrdup(v);
	return 0;
}

static int build_set_base(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_build *b = obj;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(config_targets); i++) {
		if (strcmp(v, config_targets[i]))
			continue;
		b->base = xstrdup(v);
		return 0;
	}
	/*
	 * A missing file is not a load error, so a bare word (tinyconfg,
	 * x86_64_defconfig) taken as one would only fail at build time: a
	 * file is named with a '/' or a '.' in it.
	 */
	if (!strpbrk(v, "/.")) {
		matrix_bad_value(err, "base",
				 "defconfig, tinyconfig, allnoconfig or a "
				 "path to a .config file", v);
		if (!matrix_add_hint(err, v, config_targets,
				     ARRAY_SIZE(config_targets)) && *v)
			strbuf_addf(err, " (a file of that name is written "
				    "./%s)", v);
		return -1;
	}
	return matrix_parse_path("base", v, dir, &b->base, err);
}

static int build_set_fragments(void *obj, const char *v, const char *dir,
			       struct strbuf *err)
{
	struct matrix_build *b = obj;
	char *path;

	if (matrix_parse_path("fragments", v, dir, &path, err))
		return -1;
	list_add(&b->fragments, &b->n_fragments, path);
	return 0;
}

static int build_set_targets(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (matrix_check_controls("targets", v, err))
		return -1;
	/* "-j1" or "O=x" would be an option or a variable, not a target. */
	if (!*v || v[0] == '-' || strpbrk(v, " ="))
		return matrix_bad_value(err, "targets",
					"a make target (no blanks, no '=', "
					"no leading '-')", v);
	list_add(&b->targets, &b->n_targets, xstrdup(v));
	return 0;
}

/* Has path a ".." component? */
static int has_dotdot(const char *path)
{
	const char *c;
	size_t len;

	for (c = path;; c += len + 1) {
		len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return 1;
		if (!c[len])
			return 0;
	}
}

static int build_set_image(void *obj, const char *v, const char *dir,
			   struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (matrix_check_controls("image", v, err))
		return -1;
	if (!*v || v[0] == '/' || has_dotdot(v))
		return matrix_bad_value(err, "image", "a path inside the build "
				 "output directory, relative to it", v);
	free(b->image);
	b->image = xstrdup(v);
	return 0;
}

static int build_set_timeout(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (matrix_parse_bounded(v, 60, 86400, &b->timeout_s))
		return matrix_bad_value(err, "timeout",
					"an integer number of seconds "
					"between 60 and 86400", v);
	return 0;
}

/* A directory of its own for this build's compiler cache. */
static int build_set_ccache(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_build *b = obj;

	return matrix_parse_path("ccache", v, dir, &b->ccache, err);
}

static const struct setting build_settings[] = {
	{ "name", 0, build_set_name },
	{ "base", 0, build_set_base },
	{ "fragments", 1, build_set_fragments },
	{ "targets", 1, build_set_targets },
	{ "image", 0, build_set_image },
	{ "timeout", 0, build_set_timeout },
	{ "ccache", 0, build_set_ccache },
};

static void build_init(void *obj, unsigned line, unsigned column)
{
	struct matrix_build *b = obj;

	memset(b, 0, sizeof(*b));
	b->image = xstrdup(MATRIX_BUILD_DEFAULT_IMAGE);
	b->timeout_s = MATRIX_BUILD_DEFAULT_TIMEOUT_S;
	b->line = line;
	b->column = column;
}

static void build_release(void *obj)
{
	struct matrix_build *b = obj;

	free(b->name);
	free(b->base);
	list_free(b->fragments, b->n_fragments);
	list_free(b->targets, b->n_targets);
	free(b->image);
	free(b->ccache);
	memset(b, 0, sizeof(*b));
}

static char **build_name(void *obj)
{
	return &((struct matrix_build *)obj)->name;
}

static int build_finish(struct loader *l, void *obj, struct seen_key *seen,
			size_t n_seen, const yaml_mark_t *start)
{
	struct matrix_build *b = obj;
	struct seen_key *targets = matrix_seen_find(seen, n_seen, "targets");

	if (!b->name)
		return matrix_fail(l, start, "name: missing (every build needs "
				   "a name)");
	if (!b->base)
		return matrix_fail(l, start, "build '%s': needs a base "
				   "(defconfig, tinyconfig, allnoconfig or a "
				   "path to a .config file)", b->name);
	if (!b->n_targets && targets)
		return matrix_fail(l, &targets->value_mark, "targets: expected "
				   "at least one target");
	if (!b->n_targets)
		list_add(&b->targets, &b->n_targets,
			 xstrdup(MATRIX_BUILD_DEFAULT_TARGET));
	return 0;
}

const struct section matrix_build_section = {
	.key = "builds",
	.what = "build",
	.settings = build_settings,
	.n_settings = ARRAY_SIZE(build_settings),
	.size = sizeof(struct matrix_build),
	.init = build_init,
	.release = build_release,
	.name = build_name,
	.finish = build_finish,
};

void matrix_seen_free(struct seen_key *seen, size_t n_seen)
{
	size_t i;

	for (i = 0; i < n_seen; i++)
		free(seen[i].text);
	free(seen);
}

static void *entry_at(const struct entries *list, const struct section *sec,
		      size_t i)
{
	return (char *)list->items + i * sec->size;
}

void matrix_entries_release(struct entries *list, const struct section *sec)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		sec->release(entry_at(list, sec, i));
	free(list->items);
	free(list->name_lines);
	memset(list, 0, sizeof(*list));
}

/* Give one scalar to a setter; its message gets the value's position. */
static int set_setting(struct loader *l, const struct setting *k, void *obj)
{
	struct strbuf msg = STRBUF_INIT;
	int ret = 0;

	if (k->set(obj, matrix_ev_is_null(l) ? "" : matrix_ev_scalar(l), l->dir,
		   &msg))
		ret = matrix_fail(l, &l->ev.start_mark, "%s", msg.buf);
	strbuf_release(&msg);
	return ret;
}

/* The value of setting k; the current event is its first. */
static int parse_setting(struct loader *l, const struct setting *k,
			 void *obj)
{
	/* `fragments:` alone is no fragments, not one empty path. */
	if (k->is_list && matrix_ev_is_null(l))
		return 0;
	if (l->ev.type == YAML_SCALAR_EVENT)
		return set_setting(l, k, obj);
	if (!k->is_list)
		return matrix_fail(l, &l->ev.start_mark, "%s: expected a "
				   "single value, got %s", k->name,
				   matrix_node_kind(l->ev.type));
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "%s: expected a "
				   "string or a list of strings, got %s",
				   k->name, matrix_node_kind(l->ev.type));
	for (;;) {
		if (matrix_next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return matrix_fail(l, &l->ev.start_mark, "%s: expected "
					   "a string for each element, got %s",
					   k->name,
					   matrix_node_kind(l->ev.type));
		if (set_setting(l, k, obj))
			return -1;
	}
}

/* One item of a section; the current event is its MAPPING_START. */
static int parse_entry(struct loader *l, const struct section *sec,
		       struct entries *list)
{
	void *obj = xmalloc(sec->size);
	struct seen_key *seen = NULL, *name;
	size_t n_seen = 0, alloc_seen = 0, i;
	yaml_mark_t start = l->ev.start_mark;
	int ret = -1;

	sec->init(obj, (unsigned)start.line + 1, (unsigned)start.column + 1);
	l->cur_section = sec;
	l->cur_name = sec->name(obj);
	l->cur_index = list->n;

	for (;;) {
		const struct setting *k;
		struct seen_key *s;
		yaml_mark_t key_mark;
		int rc;

		rc = matrix_next_key(l, seen, n_seen, &key_mark);
		if (rc < 0)
			goto out;
		if (rc > 0)
			break;
		k = matrix_find_setting(sec, matrix_ev_scalar(l));
		if (!k) {
			if (!l->pending_key) {
				l->pending_key = xstrdup(matrix_ev_scalar(l));
				l->pending_mark = key_mark;
			}
			if (*l->cur_name) {
				matrix_fail_pending(l);
				goto out;
			}
			/* Report it once the item's name is known. */
			if (matrix_next(l) || matrix_skip_node(l))
				goto out;
			continue;
		}
		ALLOC_GROW(seen, n_seen + 1, alloc_seen);
		s = &seen[n_seen++];
		s->text = xstrdup(k->name);
		s->key_mark = key_mark;
		if (matrix_next(l))
			goto out;
		s->value_mark = l->ev.start_mark;
		if (parse_setting(l, k, obj))
			goto out;
	}
	if (l->pending_key) {
		matrix_fail_pending(l);
		goto out;
	}
	if (sec->finish(l, obj, seen, n_seen, &start))
		goto out;
	name = matrix_seen_find(seen, n_seen, sec->name_key ? sec->name_key :
				"name");
	for (i = 0; i < list->n; i++) {
		if (strcmp(*sec->name(entry_at(list, sec, i)),
			   *sec->name(obj)))
			continue;
		matrix_fail(l, &name->value_mark, "duplicate %s %s '%s' "
			    "(first defined at line %u)", sec->what,
			    sec->name_key ? sec->name_key : "name",
			    *sec->name(obj), list->name_lines[i]);
		goto out;
	}
	if (list->n == list->alloc) {
		list->alloc = list->alloc ? 2 * list->alloc : 4;
		list->items = xrealloc(list->items, list->alloc * sec->size);
		list->name_lines = xrealloc(list->name_lines, list->alloc *
					    sizeof(*list->name_lines));
	}
	/* The list owns what obj points to from here. */
	memcpy(entry_at(list, sec, list->n), obj, sec->size);
	list->name_lines[list->n++] = (unsigned)name->value_mark.line + 1;
	ret = 0;
out:
	l->cur_section = NULL;
	l->cur_name = NULL;
	if (ret)
		sec->release(obj);
	free(obj);
	matrix_seen_free(seen, n_seen);
	return ret;
}

/* The value of `trees` or `builds`; the current event is its first. */
int matrix_parse_section(struct loader *l, const struct section *sec,
			 struct entries *list)
{
	if (matrix_ev_is_null(l))
		return 0;
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return matrix_fail(l, &l->ev.start_mark, "%s: expected a list "
				   "of %s, got %s", sec->key, sec->key,
				   matrix_node_kind(l->ev.type));
	for (;;) {
		if (matrix_next(l))
			return -1;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (l->ev.type != YAML_MAPPING_START_EVENT)
			return matrix_fail(l, &l->ev.start_mark, "%s: expected "
					   "a mapping for each %s, got %s",
					   sec->key, sec->what,
					   matrix_node_kind(l->ev.type));
		if (parse_entry(l, sec, list))
			return -1;
	}
}

/* ---- sections that are one mapping, not a list (report, executor) ---- */

static void unknown_key(struct loader *l, const struct section *sec,
			const yaml_mark_t *mark)
{
	const char **names = xcalloc(sec->n_settings, sizeof(*names));
	struct strbuf msg = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sec->n_settings; i++)
		names[i] = sec->settings[i].name;
	strbuf_addf(&msg, "unknown key '%s' in %s", matrix_ev_scalar(l),
		    sec->key);
	matrix_add_hint(&msg, matrix_ev_scalar(l), names, sec->n_settings);
	matrix_fail(l, mark, "%s", msg.buf);
	strbuf_release(&msg);
	free(names);
}

/*
 * The keys of one mapping into obj through sec's settings; the current
 * event is its MAPPING_START. The settings given, with their positions,
 * are left in *seen for the caller's checks across them (free with
 * seen_free, also on failure).
 */
int matrix_parse_mapping(struct loader *l, const struct section *sec,
			 void *obj, struct seen_key **seen, size_t *n_seen)
{
	size_t alloc_seen = 0;

	*seen = NULL;
	*n_seen = 0;
	for (;;) {
		const struct setting *k;
		struct seen_key *s;
		yaml_mark_t key_mark;
		int rc = matrix_next_key(l, *seen, *n_seen, &key_mark);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
		k = matrix_find_setting(sec, matrix_ev_scalar(l));
		if (!k) {
			unknown_key(l, sec, &key_mark);
			return -1;
		}
		ALLOC_GROW(*seen, *n_seen + 1, alloc_seen);
		s = &(*seen)[(*n_seen)++];
		s->text = xstrdup(k->name);
		s->key_mark = key_mark;
		if (matrix_next(l))
			return -1;
		s->value_mark = l->ev.start_mark;
		if (parse_setting(l, k, obj))
			return -1;
	}
}
