/*
 * cmd: parse a command line against a command's declaration and do the
 * setup its flags ask for (see cmd.h). Everything every command would
 * otherwise repeat lives here: the common options, usage errors, the
 * matrix with its file:line:col errors, the state directory, the store.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "boot/boot.h"
#include "cli/cmd.h"
#include "daemon/daemon.h"
#include "lib/json.h"
#include "lib/report.h"
#include "lib/xmalloc.h"

static int has_flags(unsigned flags, unsigned want)
{
	return (flags & want) == want;
}

int cmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_verror(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

void cmd_matrix_error(const char *path, const char *msg)
{
	size_t n = path ? strlen(path) : 0;

	if (path && !strncmp(msg, path, n) && msg[n] == ':')
		fprintf(stderr, "%s\n", msg);
	else
		report_error("%s", msg);
}

int cmd_optional_matrix(const struct cmd_ctx *ctx, struct matrix *m)
{
	struct strbuf err = STRBUF_INIT;
	int ret = 1;

	if (matrix_load(m, ctx->matrix_path, &err) < 0) {
		ret = ctx->matrix_given ? -1 : 0;
		if (ret < 0)
			cmd_matrix_error(ctx->matrix_path, err.buf);
	}
	strbuf_release(&err);
	return ret;
}

/* --jobs N: 1..256. Returns 0 or EXIT_USAGE after a message. */
int cmd_parse_jobs(const char *arg, unsigned *jobs)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < 1 || v > 256)
		return cmd_usage_error("--jobs: expected 1..256, got \"%s\"",
				       arg);
	*jobs = (unsigned)v;
	return 0;
}

unsigned cmd_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

const char *cmd_arg(const struct cmd_ctx *ctx, int id)
{
	size_t i;

	for (i = ctx->n_args; i-- > 0;)
		if (ctx->args[i].id == id)
			return ctx->args[i].value;
	return NULL;
}

int cmd_has(const struct cmd_ctx *ctx, int id)
{
	size_t i;

	for (i = 0; i < ctx->n_args; i++)
		if (ctx->args[i].id == id)
			return 1;
	return 0;
}

void cmd_add_printable(struct strbuf *sb, const char *s, size_t max)
{
	size_t len = 0;

	/* Escape sequences and invalid UTF-8 never reach the terminal. */
	while (s && len < max && s[len])
		len++;
	if (len)
		strbuf_add_clean(sb, s, len, STRBUF_CLEAN_LINE);
}

int cmd_daemon_running(const char *state_dir)
{
	char *path = xstrfmt("%s/%s", state_dir, DAEMON_LOCK_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), held = 0;

	free(path);
	if (fd < 0)
		return 0;
	/* A shared lock is refused only while the daemon holds its own. */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		held = 1;
	close(fd);
	return held;
}

/* The pid in the daemon's status file, or 0. */
static long daemon_pid(const char *state_dir)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct json_value v;
	double pid = 0;

	if (daemon_read_status(state_dir, &sb) == 0 &&
	    json_parse(&v, sb.buf, sb.len, &err) == 0) {
		if (!json_get_number(&v, "pid", &pid))
			pid = 0;
		json_value_release(&v);
	}
	strbuf_release(&sb);
	strbuf_release(&err);
	return (long)pid;
}

static void ctx_release(struct cmd_ctx *ctx)
{
	if (ctx->have_matrix)
		matrix_release(&ctx->matrix);
	record_close(ctx->store);
	free(ctx->state_dir);
	free(ctx->args);
	free(ctx->argv);
}

/* The command's long options plus the common ones its flags call for. */
static struct option *all_options(const struct cmd_ctx *ctx)
{
	const struct cmd *c = ctx->cmd;
	struct option *o;
	size_t n_own = 0, n;

	while (c->options && c->options[n_own].name)
		n_own++;
	o = xcalloc(n_own + 9, sizeof(*o));	/* 8 common ones, the end */
	memcpy(o, c->options, n_own * sizeof(*o));
	n = n_own;
	o[n++] = (struct option){ "help", no_argument, NULL, CMD_OPT_HELP };
	if (has_flags(ctx->flags, CMD_MATRIX))
		o[n++] = (struct option){ "matrix", required_argument, NULL,
					  CMD_OPT_MATRIX };
	if (has_flags(ctx->flags, CMD_MATRIX_FILE_ALIAS))
		o[n++] = (struct option){ "file", required_argument, NULL,
					  CMD_OPT_MATRIX };
	if (has_flags(ctx->flags, CMD_STATE))
		o[n++] = (struct option){ "state", required_argument, NULL,
					  CMD_OPT_STATE };
	if (has_flags(ctx->flags, CMD_JSON))
		o[n++] = (struct option){ "json", no_argument, NULL,
					  CMD_OPT_JSON };
	if (has_flags(ctx->flags, CMD_BOOTS)) {
		o[n++] = (struct option){ "jobs", required_argument, NULL,
					  CMD_OPT_JOBS };
		o[n++] = (struct option){ "initrd", required_argument, NULL,
					  CMD_OPT_INITRD };
		o[n++] = (struct option){ "quiet", no_argument, NULL,
					  CMD_OPT_QUIET };
	}
	return o;
}

/*
 * A common option: 1 taken, 0 not a common one, or an exit code + 1
 * (negated) when it ends the command: -1 - EXIT_OK after --help.
 */
static int take_common(struct cmd_ctx *ctx, int opt, const char **state_opt)
{
	switch (opt) {
	case CMD_OPT_HELP:
		fputs(ctx->cmd->usage, stdout);
		return -1 - EXIT_OK;
	case CMD_OPT_MATRIX:
		ctx->matrix_path = optarg;
		ctx->matrix_given = 1;
		return 1;
	case CMD_OPT_STATE:
		*state_opt = optarg;
		return 1;
	case CMD_OPT_JSON:
		ctx->json = 1;
		return 1;
	case CMD_OPT_JOBS:
		return cmd_parse_jobs(optarg, &ctx->jobs) ? -1 - EXIT_USAGE : 1;
	case CMD_OPT_INITRD:
		ctx->initrd = optarg;
		return 1;
	case CMD_OPT_QUIET:
		ctx->quiet = 1;
		report_set_quiet(1);
		return 1;
	default:
		return 0;
	}
}

static int unknown_option(const struct cmd_ctx *ctx, char **argv)
{
	const char *arg = argv[optind - 1];

	/* optopt names a short option only when it is a character. */
	if (optopt > 0 && optopt < 256 && isprint(optopt) &&
	    strncmp(arg, "--", 2))
		return cmd_usage_error("%s: unknown option '-%c'; see "
				       "'hvmatrix %s --help'", ctx->name,
				       optopt, ctx->name);
	return cmd_usage_error("%s: unknown option '%s'; see 'hvmatrix %s "
			       "--help'", ctx->name, arg, ctx->name);
}

/*
 * Parse the command line into ctx. Returns -1 to go on, or an exit code
 * (help printed, or a usage error).
 */
static int parse(struct cmd_ctx *ctx, int argc, char **argv,
		 const char **state_opt)
{
	const struct cmd *c = ctx->cmd;
	struct option *longopts = all_options(ctx);
	struct strbuf shortopts = STRBUF_INIT;
	size_t args_alloc = 0;
	int opt, longindex, taken, ret = -1;

	if (has_flags(ctx->flags, CMD_BOOTS)) {
		ctx->jobs = cmd_default_jobs();
		ctx->initrd = boot_default_initrd();
	}
	/* "-": arguments in order, options before or after them. */
	strbuf_addf(&shortopts, "-:h%s%s%s",
		    has_flags(ctx->flags, CMD_MATRIX_FILE_ALIAS) ? "f:" : "",
		    has_flags(ctx->flags, CMD_BOOTS) ? "q" : "",
		    c->shortopts ? c->shortopts : "");
	ctx->argv = xcalloc((size_t)argc + 1, sizeof(*ctx->argv));
	optind = 0;	/* glibc: a full reset */
	opterr = 0;
	for (;;) {
		longindex = -1;
		opt = getopt_long(argc, argv, shortopts.buf, longopts,
				  &longindex);
		if (opt == -1)
			break;
		if (opt == 'f' && has_flags(ctx->flags, CMD_MATRIX_FILE_ALIAS))
			opt = CMD_OPT_MATRIX;
		if (opt == 'q' && has_flags(ctx->flags, CMD_BOOTS))
			opt = CMD_OPT_QUIET;
		taken = take_common(ctx, opt, state_opt);
		if (taken < 0) {
			ret = -1 - taken;
			goto out;
		}
		if (taken)
			continue;
		if (opt == 1) {
			ctx->argv[ctx->argc++] = optarg;
			continue;
		}
		if (opt == ':') {
			ret = cmd_usage_error("%s: %s needs a value", ctx->name,
					      argv[optind - 1]);
			goto out;
		}
		if (opt == '?') {
			ret = unknown_option(ctx, argv);
			goto out;
		}
		ALLOC_GROW(ctx->args, ctx->n_args + 1, args_alloc);
		ctx->args[ctx->n_args].id = opt;
		ctx->args[ctx->n_args].option = longindex < 0 ? NULL :
			longopts[longindex].name;
		ctx->args[ctx->n_args++].value = optarg;
	}
	/* After "--": the rest is positional. */
	while (optind < argc)
		ctx->argv[ctx->argc++] = argv[optind++];
	if (c->max_args >= 0 && ctx->argc > (size_t)c->max_args)
		ret = cmd_usage_error("%s: unexpected argument '%s'",
				      ctx->name, ctx->argv[c->max_args]);
	if (has_flags(ctx->flags, CMD_MATRIX) && !ctx->matrix_path)
		ctx->matrix_path = matrix_default_path();
out:
	free(longopts);
	strbuf_release(&shortopts);
	return ret;
}

/* The matrix, when the command needs it. -1 to go on, or an exit code. */
static int load_matrix(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	int ret = -1;

	if (!has_flags(ctx->flags, CMD_NEEDS_MATRIX))
		return -1;
	if (matrix_load(&ctx->matrix, ctx->matrix_path, &err) < 0) {
		cmd_matrix_error(ctx->matrix_path, err.buf);
		ret = EXIT_USAGE;
	} else {
		ctx->have_matrix = 1;
	}
	strbuf_release(&err);
	return ret;
}

/*
 * path made absolute against the working directory (it need not exist):
 * builds run in other directories, and the store keeps absolute log paths.
 */
static char *absolute(char *path)
{
	char *cwd, *abs;

	if (path[0] == '/' || !(cwd = getcwd(NULL, 0)))
		return path;
	abs = xstrfmt("%s/%s", cwd, path);
	free(cwd);
	free(path);
	return abs;
}

/* The state directory and the store. -1 to go on, or an exit code. */
static int setup(struct cmd_ctx *ctx, const char *state_opt)
{
	struct strbuf err = STRBUF_INIT;
	int ret = -1, rc;

	if (!has_flags(ctx->flags, CMD_STATE))
		goto out;
	ctx->state_dir = absolute(record_state_dir(state_opt));
	if (has_flags(ctx->flags, CMD_TAKES_LOCK) &&
	    cmd_daemon_running(ctx->state_dir)) {
		long pid = daemon_pid(ctx->state_dir);

		fprintf(stderr, "hvmatrix: a daemon");
		if (pid > 0)
			fprintf(stderr, " (pid %ld)", pid);
		fprintf(stderr, " works on %s; see 'hvmatrix status --state "
			"%s'\n", ctx->state_dir, ctx->state_dir);
		ret = EXIT_ERROR;
		goto out;
	}
	if (has_flags(ctx->flags, CMD_WRITES_STORE))
		rc = record_open(&ctx->store, ctx->state_dir, &err);
	else if (has_flags(ctx->flags, CMD_READS_STORE))
		rc = record_open_readonly(&ctx->store, ctx->state_dir, &err);
	else
		rc = 0;
	if (rc < 0) {
		report_error("%s", err.buf);
		ret = EXIT_ERROR;
	}
out:
	strbuf_release(&err);
	return ret;
}

static int run_cmd(const struct cmd *c, const char *name, int argc,
		   char **argv);

static int run_sub(const struct cmd *c, const char *name, int argc,
		   char **argv)
{
	char *sub_name;
	size_t i;
	int ret;

	if (argc < 2) {
		fputs(c->usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(c->usage, stdout);
		return EXIT_OK;
	}
	for (i = 0; i < c->n_sub; i++)
		if (!strcmp(argv[1], c->sub[i]->name))
			break;
	if (i == c->n_sub)
		return cmd_usage_error("%s: '%s' is not a subcommand; see "
				       "'hvmatrix %s --help'", name, argv[1],
				       name);
	sub_name = xstrfmt("%s %s", name, c->sub[i]->name);
	ret = run_cmd(c->sub[i], sub_name, argc - 1, argv + 1);
	free(sub_name);
	return ret;
}

static int run_cmd(const struct cmd *c, const char *name, int argc,
		   char **argv)
{
	struct cmd_ctx ctx;
	const char *state_opt = NULL;
	int ret;

	if (c->sub)
		return run_sub(c, name, argc, argv);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cmd = c;
	ctx.name = name;
	ctx.flags = c->flags;
	ret = parse(&ctx, argc, argv, &state_opt);
	if (ret < 0)
		ret = load_matrix(&ctx);
	if (ret < 0 && c->prepare)
		ret = c->prepare(&ctx);
	if (ret < 0)
		ret = setup(&ctx, state_opt);
	if (ret < 0)
		ret = c->exec(&ctx);
	ctx_release(&ctx);
	return ret;
}

int cmd_main(const struct cmd *c, int argc, char **argv)
{
	return run_cmd(c, c->name, argc, argv);
}
