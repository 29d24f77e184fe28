/*
 * hypervisors-list: every release the catalogue holds (hypervisors.h),
 * for `hvmatrix hypervisors` and the dashboard: QEMU before Xen, each by
 * version.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/hypervisors.h"
#include "lib/xmalloc.h"

static int release_cmp(const void *pa, const void *pb)
{
	const struct hypervisors_release *a = pa, *b = pb;
	int k = strcmp(a->kind, b->kind);

	/* qemu before xen, by name */
	return k ? k : hypervisors_version_cmp(a->version, b->version);
}

int hypervisors_list(struct hypervisors_release **rs, size_t *n,
		     struct strbuf *err)
{
	static const char *const kinds[] = { "qemu", "xen" };
	size_t k;

	(void)err;
	*rs = NULL;
	*n = 0;
	for (k = 0; k < 2; k++) {
		char *d = xstrfmt("%s/%s", hypervisors_dir(), kinds[k]);
		DIR *dir = opendir(d);
		struct dirent *de;

		free(d);
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			struct strbuf msg = STRBUF_INIT;
			struct hypervisors_release r;

			if (!hypervisors_is_release(de->d_name))
				continue;
			if (!hypervisors_load(&r, kinds[k], de->d_name, &msg)) {
				*rs = xrealloc(*rs, (*n + 1) * sizeof(**rs));
				(*rs)[(*n)++] = r;
			}
			strbuf_release(&msg);
		}
		closedir(dir);
	}
	if (*n)
		qsort(*rs, *n, sizeof(**rs), release_cmp);
	return 0;
}

void hypervisors_list_free(struct hypervisors_release *rs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		hypervisors_release_clear(&rs[i]);
	free(rs);
}
