/*
 * cmd-kernels: `hvmatrix kernels`, the kernel release catalogue (what
 * images/kernels/fetch-releases.sh fetched for the matrix's web section).
 * Read-only: it reads manifests and never hashes an image.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "matrix/kernels.h"
#include "lib/json.h"
#include "lib/paths.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix kernels [--json]\n"
"\n"
"List the released kernels the matrix's web section can name (\"5.10\",\n"
"\"6.12\"): Debian's images fetched by images/kernels/fetch-releases.sh\n"
"into cache/kernels/RELEASE ($HVMATRIX_KERNELS_DIR sets the root), oldest\n"
"release first. For each: its release, Debian package and version, the\n"
"image's path and its sha256 (the id of its runs in the store, tree\n"
"\"release\").\n"
"\n"
"  --json          an array of objects: release, package, version, path,\n"
"                  sha256\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 listed, 3 no kernel fetched (run the fetcher).\n";

static const struct option options[] = {
	{ NULL, 0, NULL, 0 },
};

static int kernels_exec(struct cmd_ctx *ctx)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct kernels_release *ks = NULL;
	struct json js;
	size_t n = 0, i;
	char *dir;

	kernels_list(&ks, &n, &err);
	if (ctx->json) {
		json_init(&js, &out);
		json_array_begin(&js);
	} else if (n) {
		strbuf_addf(&out, "%-8s %-44s %-18s %s\n", "RELEASE",
			    "PACKAGE", "VERSION", "SHA256");
	}
	for (i = 0; i < n; i++) {
		if (ctx->json) {
			json_object_begin(&js);
			json_key_str(&js, "release", ks[i].release);
			json_key_str(&js, "package", ks[i].package);
			json_key_str(&js, "version", ks[i].version);
			json_key_str(&js, "path", ks[i].path);
			json_key_str(&js, "sha256", ks[i].sha256);
			json_object_end(&js);
		} else {
			strbuf_addf(&out, "%-8s %-44s %-18s %.16s\n",
				    ks[i].release, ks[i].package,
				    ks[i].version, ks[i].sha256);
			strbuf_addf(&out, "         %s\n", ks[i].path);
		}
	}
	if (ctx->json) {
		json_array_end(&js);
		strbuf_addch(&out, '\n');
	}
	/* Manifest values carry no control character (kernels.c). */
	fputs(out.buf, stdout);
	if (err.len)
		fprintf(stderr, "hvmatrix kernels: %s", err.buf);
	dir = kernels_dir();
	if (!n)
		fprintf(stderr, "hvmatrix kernels: no kernel in %s (fetch "
			"them: %s %s)\n", dir, KERNELS_FETCH,
			paths_cache_dir());
	free(dir);
	kernels_list_free(ks, n);
	strbuf_release(&out);
	strbuf_release(&err);
	return n ? EXIT_OK : EXIT_ERROR;
}

const struct cmd cmd_kernels = {
	.name = "kernels",
	.summary = "the released kernels the web section can name",
	.usage = usage_text,
	.flags = CMD_JSON,
	.shortopts = "",
	.options = options,
	.max_args = 0,
	.exec = kernels_exec,
};
