/*
 * cmd-hypervisors: `hvmatrix hypervisors`, the release catalogue (what
 * images/hypervisors/fetch-releases.sh fetched) and whether each release
 * starts on this host. Read-only: it runs each QEMU's --version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "matrix/hypervisors.h"
#include "lib/json.h"
#include "lib/xmalloc.h"

static const char usage_text[] =
"usage: hvmatrix hypervisors [--json]\n"
"\n"
"List the hypervisor releases cells can name (qemu: \"10.0\", xen:\n"
"\"4.20\"): Debian's builds fetched by images/hypervisors/fetch-releases.sh\n"
"into cache/qemu/VERSION and cache/xen/VERSION ($HVMATRIX_HYPERVISORS_DIR\n"
"sets the root). For each: its kind, version, Debian package version,\n"
"path and whether it starts here (QEMU: `--version` through its own\n"
"loader and libraries; Xen: its ELF image is there), with the reason when\n"
"it does not.\n"
"\n"
"  --json          an array of objects: kind (qemu or xen), version,\n"
"                  package, path, starts (true/false), reason (null when\n"
"                  it starts)\n"
"  -h, --help      this text\n"
"\n"
"Exit: 0 listed (whatever starts), 3 no release fetched (run the fetcher).\n";

static const struct option options[] = {
	{ NULL, 0, NULL, 0 },
};

static int hypervisors_exec(struct cmd_ctx *ctx)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct hypervisors_release *rs = NULL;
	struct json js;
	size_t n = 0, i;
	int ret = EXIT_ERROR;

	hypervisors_list(&rs, &n, &err);
	if (ctx->json) {
		json_init(&js, &out);
		json_array_begin(&js);
	} else if (n) {
		strbuf_addf(&out, "%-5s %-8s %-34s %-6s %s\n", "KIND",
			    "VERSION", "PACKAGE", "STARTS", "PATH");
	}
	for (i = 0; i < n; i++) {
		struct strbuf reason = STRBUF_INIT;
		int ok = hypervisors_starts(&rs[i], &reason);

		if (ctx->json) {
			json_object_begin(&js);
			json_key_str(&js, "kind", rs[i].kind);
			json_key_str(&js, "version", rs[i].version);
			json_key_str(&js, "package", rs[i].package);
			json_key_str(&js, "path", rs[i].binary);
			json_key_bool(&js, "starts", ok);
			json_key_str(&js, "reason", ok ? NULL : reason.buf);
			json_object_end(&js);
		} else {
			strbuf_addf(&out, "%-5s %-8s %-34s %-6s %s\n",
				    rs[i].kind, rs[i].version, rs[i].package,
				    ok ? "yes" : "no", rs[i].binary);
			if (!ok)
				strbuf_addf(&out, "      not starting: %s\n",
					    reason.buf);
		}
		strbuf_release(&reason);
	}
	if (ctx->json) {
		json_array_end(&js);
		strbuf_addch(&out, '\n');
	}
	fputs(out.buf, stdout);
	if (!n)
		fprintf(stderr, "hvmatrix hypervisors: no release in %s (fetch "
			"them: %s %s)\n", hypervisors_dir(), HYPERVISORS_FETCH,
			hypervisors_dir());
	ret = n ? EXIT_OK : EXIT_ERROR;
	hypervisors_list_free(rs, n);
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_hypervisors = {
	.name = "hypervisors",
	.summary = "the hypervisor releases cells can name, and whether each "
		   "starts here",
	.usage = usage_text,
	.flags = CMD_JSON,
	.shortopts = "",
	.options = options,
	.max_args = 0,
	.exec = hypervisors_exec,
};
