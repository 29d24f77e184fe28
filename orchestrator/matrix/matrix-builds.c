/*
 * matrix-builds: the `builds` section: how every commit is configured and
 * built (a base config, fragments, make targets, the image to boot, a
 * time limit, a compiler cache). Targets and the image path are checked
 * so that no value becomes a make option or leaves the build directory.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

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
		matrix_value_bad(err, "base",
				 "defconfig, tinyconfig, allnoconfig or a "
				 "path to a .config file", v);
		if (!matrix_yaml_add_hint(err, v, config_targets,
					  ARRAY_SIZE(config_targets)) && *v)
			strbuf_addf(err, " (a file of that name is written "
				    "./%s)", v);
		return -1;
	}
	return matrix_value_path("base", v, dir, &b->base, err);
}

static int build_set_fragments(void *obj, const char *v, const char *dir,
			       struct strbuf *err)
{
	struct matrix_build *b = obj;
	char *path;

	if (matrix_value_path("fragments", v, dir, &path, err))
		return -1;
	matrix_value_list_add(&b->fragments, &b->n_fragments, path);
	return 0;
}

static int build_set_targets(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (matrix_value_controls("targets", v, err))
		return -1;
	/* "-j1" or "O=x" would be an option or a variable, not a target. */
	if (!*v || v[0] == '-' || strpbrk(v, " ="))
		return matrix_value_bad(err, "targets",
					"a make target (no blanks, no '=', "
					"no leading '-')", v);
	matrix_value_list_add(&b->targets, &b->n_targets, xstrdup(v));
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

	if (matrix_value_controls("image", v, err))
		return -1;
	if (!*v || v[0] == '/' || has_dotdot(v))
		return matrix_value_bad(err, "image", "a path inside the build "
					"output directory, relative to it", v);
	free(b->image);
	b->image = xstrdup(v);
	return 0;
}

static int build_set_timeout(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (matrix_value_bounded(v, 60, 86400, &b->timeout_s))
		return matrix_value_bad(err, "timeout",
					"an integer number of seconds "
					"between 60 and 86400", v);
	return 0;
}

/* A directory of its own for this build's compiler cache. */
static int build_set_ccache(void *obj, const char *v, const char *dir,
			    struct strbuf *err)
{
	struct matrix_build *b = obj;

	return matrix_value_path("ccache", v, dir, &b->ccache, err);
}

/*
 * `sandbox: false` builds this config's commits unconfined: for a host
 * that cannot sandbox (no bubblewrap, user namespaces refused) and
 * commits its owner trusts. hvmatrix status names every such build.
 */
static int build_set_sandbox(void *obj, const char *v, const char *dir,
			     struct strbuf *err)
{
	struct matrix_build *b = obj;

	if (!strcmp(v, "true"))
		b->unconfined = 0;
	else if (!strcmp(v, "false"))
		b->unconfined = 1;
	else
		return matrix_value_bad(err, "sandbox", "true or false", v);
	return 0;
}

static const struct setting build_settings[] = {
	{ "name", 0, build_set_name },
	{ "base", 0, build_set_base },
	{ "fragments", 1, build_set_fragments },
	{ "targets", 1, build_set_targets },
	{ "image", 0, build_set_image },
	{ "timeout", 0, build_set_timeout },
	{ "ccache", 0, build_set_ccache },
	{ "sandbox", 0, build_set_sandbox },
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
	matrix_value_list_free(b->fragments, b->n_fragments);
	matrix_value_list_free(b->targets, b->n_targets);
	free(b->image);
	free(b->ccache);
	memset(b, 0, sizeof(*b));
}

static char **build_name(void *obj)
{
	return &((struct matrix_build *)obj)->name;
}

static int build_finish(struct matrix_yaml *y, void *obj, struct seen_key *seen,
			size_t n_seen, const yaml_mark_t *start)
{
	struct matrix_build *b = obj;
	struct seen_key *targets = matrix_yaml_seen_find(seen, n_seen,
							 "targets");

	if (!b->name)
		return matrix_yaml_fail(y, start, "name: missing (every build "
					"needs a name)");
	if (!b->base)
		return matrix_yaml_fail(y, start, "build '%s': needs a base "
					"(defconfig, tinyconfig, allnoconfig "
					"or a path to a .config file)",
					b->name);
	if (!b->n_targets && targets)
		return matrix_yaml_fail(y, &targets->value_mark, "targets: "
					"expected at least one target");
	if (!b->n_targets)
		matrix_value_list_add(&b->targets, &b->n_targets,
				      xstrdup(MATRIX_BUILD_DEFAULT_TARGET));
	return 0;
}

const struct section matrix_builds_section = {
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
