/*
 * matrix-value: the checks every setter of a matrix section shares: a
 * value quoted back in a message, no control characters, bounded
 * integers, paths resolved against the matrix file's directory, and the
 * string lists list settings fill. Paths written relative are resolved;
 * whether they exist is for their users to say, never a load error.
 */
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

/* Longest value quoted back in an error message. */
#define ERR_VALUE_MAX 60

/* Append s for an error message: quoted, escaped, shortened. */
static void add_quoted(struct strbuf *sb, const char *s)
{
	strbuf_add_quoted(sb, s, ERR_VALUE_MAX);
}

int matrix_value_bad(struct strbuf *err, const char *key, const char *what,
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
int matrix_value_controls(const char *key, const char *s,
			  struct strbuf *err)
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

int matrix_value_bounded(const char *s, unsigned lo, unsigned hi,
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
int matrix_value_path(const char *key, const char *v, const char *dir,
		      char **out, struct strbuf *err)
{
	if (matrix_value_controls(key, v, err))
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

void matrix_value_list_add(char ***arr, size_t *n, char *value)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = value;
}

void matrix_value_list_free(char **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}
