/*
 * cmd-dashboard: `hvmatrix dashboard`, the static HTML site from the store
 * (see publish.c). Read-only on the store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "publish.h"
#include "record.h"
#include "strbuf.h"
#include "xmalloc.h"

static void dashboard_usage(FILE *f)
{
	fputs("usage: hvmatrix dashboard [--state DIR] [--out DIR]\n\n"
	      "Write the static HTML dashboard of the recorded runs.\n\n"
	      "  --state DIR   state directory (default $HVMATRIX_STATE, else\n"
	      "                ./hvmatrix-state)\n"
	      "  --out DIR     output directory (default STATE/dashboard)\n"
	      "  -h, --help    show this help\n", f);
}

static int cmd_dashboard_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT;
	const char *opt_state = NULL, *opt_out = NULL;
	struct record *r = NULL;
	char *state = NULL, *out_dir = NULL, *index = NULL;
	int c, ret;

	opterr = 0;
	optind = 0;	/* glibc: a full reset, should argv have been parsed */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt_state = optarg;
			break;
		case 'o':
			opt_out = optarg;
			break;
		case 'h':
			dashboard_usage(stdout);
			ret = EXIT_OK;
			goto out;
		case ':':
			ret = cmd_usage_error("dashboard: %s needs an argument",
					      argv[optind - 1]);
			goto out;
		default:
			ret = cmd_usage_error("dashboard: unknown option '%s'; "
					      "see 'hvmatrix dashboard --help'",
					      argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		ret = cmd_usage_error("dashboard: unexpected argument '%s'",
				      argv[optind]);
		goto out;
	}

	state = record_state_dir(opt_state);
	out_dir = opt_out ? xstrdup(opt_out) : xstrfmt("%s/dashboard", state);
	if (record_open(&r, state, &err) ||
	    publish_dashboard(r, out_dir, &index, &err)) {
		fprintf(stderr, "hvmatrix: %s\n", err.buf);
		ret = EXIT_ERROR;
		goto out;
	}
	printf("dashboard: %s\n", index);
	ret = EXIT_OK;
out:
	record_close(r);
	free(state);
	free(out_dir);
	free(index);
	strbuf_release(&err);
	return ret;
}

const struct cmd cmd_dashboard = {
	"dashboard", "write the static HTML dashboard", cmd_dashboard_run
};
