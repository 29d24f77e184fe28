/*
 * matrix-trees: the `trees` section: the kernel git trees to watch (a
 * local path or a URL (and the file with its login), branches, how often
 * and how much to poll, whether
 * every commit or only each push's tip is tested). Names and branches are
 * checked the way git and the store need them; a path is resolved, never
 * required to exist at load time.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

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
	/* The web's released kernels are the store's tree "release". */
	if (!strcmp(v, "release")) {
		strbuf_addstr(err, "name: 'release' is the web section's "
			      "tree of released kernels; name the tree "
			      "otherwise");
		return -1;
	}
	t->name = xstrdup(v);
	return 0;
}

static int tree_set_path(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	return matrix_value_path("path", v, dir, &t->path, err);
}

static int tree_set_url(void *obj, const char *v, const char *dir,
			struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_value_controls("url", v, err))
		return -1;
	if (!url_ok(v))
		return matrix_value_bad(err, "url", "a git URL without "
					"blanks (scheme://host/path or "
					"host:path; a local repository is a "
					"path)", v);
	t->url = xstrdup(v);
	return 0;
}

static int tree_set_credentials(void *obj, const char *v, const char *dir,
				struct strbuf *err)
{
	struct matrix_tree *t = obj;

	return matrix_value_path("credentials", v, dir, &t->credentials, err);
}

static int tree_set_branches(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_tree *t = obj;
	size_t i;

	if (matrix_value_controls("branches", v, err))
		return -1;
	if (!*v) {
		strbuf_addstr(err, "branches: expected a non-empty branch "
			      "name");
		return -1;
	}
	if (strchr(v, ' '))
		return matrix_value_bad(err, "branches",
					"a branch name without blanks", v);
	if (!ref_name_ok(v))
		return matrix_value_bad(err, "branches",
					"a valid git branch name (see git "
					"check-ref-format)", v);
	for (i = 0; i < t->n_branches; i++) {
		if (strcmp(t->branches[i], v))
			continue;
		strbuf_addf(err, "branches: '%s' is listed twice", v);
		return -1;
	}
	matrix_value_list_add(&t->branches, &t->n_branches, xstrdup(v));
	return 0;
}

static int tree_set_poll(void *obj, const char *v, const char *dir,
			 struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_value_bounded(v, 10, 86400, &t->poll_s))
		return matrix_value_bad(err, "poll",
					"an integer number of seconds "
					"between 10 and 86400", v);
	return 0;
}

static int tree_set_first(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_value_bounded(v, 0, 100000, &t->first))
		return matrix_value_bad(err, "first",
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
		return matrix_value_bad(err, "order",
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
		return matrix_value_bad(err, "test", "every or tips", v);
	return 0;
}

static int tree_set_confirm(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (matrix_value_bounded(v, 0, 20, &t->confirm))
		return matrix_value_bad(err, "confirm",
					"an integer between 0 and 20 (runs "
					"more a new FAIL needs)", v);
	return 0;
}

static int tree_set_reuse(void *obj, const char *v, const char *dir,
			  struct strbuf *err)
{
	struct matrix_tree *t = obj;

	if (!strcmp(v, "true"))
		t->no_reuse = 0;
	else if (!strcmp(v, "false"))
		t->no_reuse = 1;
	else
		return matrix_value_bad(err, "reuse", "true or false", v);
	return 0;
}

static const struct setting tree_settings[] = {
	{ "name", 0, tree_set_name },
	{ "path", 0, tree_set_path },
	{ "url", 0, tree_set_url },
	{ "credentials", 0, tree_set_credentials },
	{ "branches", 1, tree_set_branches },
	{ "poll", 0, tree_set_poll },
	{ "first", 0, tree_set_first },
	{ "order", 0, tree_set_order },
	{ "test", 0, tree_set_test },
	{ "confirm", 0, tree_set_confirm },
	{ "reuse", 0, tree_set_reuse },
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
	free(t->credentials);
	matrix_value_list_free(t->branches, t->n_branches);
	memset(t, 0, sizeof(*t));
}

static char **tree_name(void *obj)
{
	return &((struct matrix_tree *)obj)->name;
}

static int tree_finish(struct matrix_yaml *y, void *obj,
		       struct seen_key *seen, size_t n_seen,
		       const yaml_mark_t *start)
{
	struct matrix_tree *t = obj;
	struct seen_key *path = matrix_yaml_seen_find(seen, n_seen, "path");
	struct seen_key *url = matrix_yaml_seen_find(seen, n_seen, "url");
	struct seen_key *branches = matrix_yaml_seen_find(seen, n_seen,
							  "branches");
	struct seen_key *cred = matrix_yaml_seen_find(seen, n_seen,
						      "credentials");

	if (!t->name)
		return matrix_yaml_fail(y, start, "name: missing (every tree "
					"needs a name)");
	if (path && url)
		return matrix_yaml_fail(y, matrix_yaml_second_key(path, url),
					"tree '%s': give either path or url",
					t->name);
	if (!path && !url)
		return matrix_yaml_fail(y, start, "tree '%s': needs a path "
					"or a url", t->name);
	if (cred && path)
		return matrix_yaml_fail(y, &cred->key_mark, "credentials: "
					"only a url's login takes a "
					"credentials file (tree '%s' is a "
					"path)", t->name);
	if (!t->n_branches && branches)
		return matrix_yaml_fail(y, &branches->value_mark, "branches: "
					"expected at least one branch");
	if (!t->n_branches)
		matrix_value_list_add(&t->branches, &t->n_branches,
				      xstrdup(MATRIX_TREE_DEFAULT_BRANCH));
	return 0;
}

const struct section matrix_trees_section = {
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
