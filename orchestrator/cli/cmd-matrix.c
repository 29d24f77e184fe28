/*
 * cmd-matrix: `hvmatrix matrix add|list|show|remove|check`, the CLI over
 * matrix files. It only parses arguments and prints: every value goes
 * through cell_set() and every edit through matrix_edit_add_cell() and
 * matrix_edit_remove_cell(), so the CLI can never accept what a matrix file
 * would refuse, nor write a file that does not load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/cell.h"
#include "cli/cmd.h"
#include "lib/json.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

static const char matrix_usage[] =
	"usage: hvmatrix matrix SUBCOMMAND [ARGS]\n"
	"\n"
	"Inspect and edit matrix files: the cells (QEMU machines, hypervisor\n"
	"interfaces) a kernel must boot in.\n"
	"\n"
	"subcommands:\n"
	"  add NAME [OPTIONS]   add a cell to a matrix file\n"
	"  list [--json]        list the cells of a matrix file\n"
	"  show NAME [--json]   show every setting of one cell\n"
	"  remove NAME          remove a cell from a matrix file\n"
	"  check FILE...        check that matrix files load\n"
	"\n"
	"add, list, show and remove take --matrix FILE (or -f, --file FILE);\n"
	"the default is $HVMATRIX_MATRIX, else the installed\n"
	HVM_SYSCONFDIR "/hvmatrix/matrix.yaml (run from a checkout:\n"
	"matrices/default.yaml under the current directory, else the source\n"
	"tree's).\n"
	"\n"
	"'hvmatrix matrix SUBCOMMAND --help' describes one subcommand.\n"
	"Exit codes: 0 success, 2 bad usage or an invalid matrix file.\n";

static const char add_usage[] =
	"usage: hvmatrix matrix add NAME [--matrix FILE] [OPTIONS]\n"
	"\n"
	"Add the cell NAME to the matrix file (created when missing), keeping\n"
	"the file's comments and layout. Settings left out take defaults.\n"
	"\n"
	"options:\n"
	"      --matrix FILE      matrix file (default: see 'hvmatrix matrix "
	"--help');\n"
	"  -f, --file FILE        the same\n"
	"      --description TEXT free text\n"
	"      --backend NAME     qemu boots the kernel directly, xen boots "
	"it as\n"
	"                         dom0 of a Xen build, xen-libxl as a guest "
	"that\n"
	"                         a dom0 agent creates through libxenlight\n"
	"      --guest pv|pvh|hvm backend xen-libxl: the guest's type "
	"(default: pv)\n"
	"      --qemu PROGRAM     QEMU binary name or path "
	"(default: " CELL_DEFAULT_QEMU ")\n"
	"      --accel tcg|kvm    accelerator (default: tcg)\n"
	"      --machine TYPE     QEMU machine, e.g. q35 or pc,vmport=on "
	"(default: " CELL_DEFAULT_MACHINE ")\n"
	"      --cpu MODEL        QEMU CPU model, e.g. qemu64 or "
	"max,-hypervisor\n"
	"                         (default: " CELL_DEFAULT_CPU ")\n"
	"      --memory SIZE      guest memory in MiB, or with M/G: 512M, 1G "
	"(default: 256)\n"
	"      --smp N            number of CPUs, 1 to 64 (default: 1)\n"
	"      --qemu-arg ARG     one extra QEMU argument (repeatable); the "
	"next\n"
	"                         word is taken as is, even if it starts with "
	"'-'\n"
	"      --cmdline TEXT     extra kernel command line\n"
	"      --timeout SECONDS  limit for the whole run (default: 120)\n"
	"      --silence SECONDS  FAIL after this long without console output\n"
	"                         (default: 30, at most the timeout)\n"
	"      --expect TEXT      a result the guest must report (repeatable)\n"
	"      --requires CAP     a host capability the cell needs: kvm "
	"(repeatable)\n"
	"      --xen BUILD        backend xen: the Xen build, a name such as "
	"4.17\n"
	"                         (images/xen/fetch-xen.sh) or a path\n"
	"      --xen-cmdline TEXT backend xen: Xen's boot options (default:\n"
	"                         " CELL_DEFAULT_XEN_CMDLINE ")\n"
	"  -h, --help             show this help\n";

static const char list_usage[] =
	"usage: hvmatrix matrix list [--matrix FILE] [--json]\n"
	"\n"
	"List the cells of a matrix file, one per line: name, backend, accel,\n"
	"machine, cpu, memory, and what the cell requires and expects.\n"
	"\n"
	"options:\n"
	"      --matrix FILE matrix file (default: see 'hvmatrix matrix "
	"--help');\n"
	"  -f, --file FILE   the same\n"
	"      --json        print a JSON array with every setting of every "
	"cell\n"
	"  -h, --help        show this help\n";

static const char show_usage[] =
	"usage: hvmatrix matrix show NAME [--matrix FILE] [--json]\n"
	"\n"
	"Show every setting of one cell, as YAML (settings at their default\n"
	"value as comments) or as JSON.\n"
	"\n"
	"options:\n"
	"      --matrix FILE matrix file (default: see 'hvmatrix matrix "
	"--help');\n"
	"  -f, --file FILE   the same\n"
	"      --json        print one JSON object\n"
	"  -h, --help        show this help\n";

static const char remove_usage[] =
	"usage: hvmatrix matrix remove NAME [--matrix FILE]\n"
	"\n"
	"Remove the cell NAME from the matrix file, keeping the rest of it as\n"
	"it is.\n"
	"\n"
	"options:\n"
	"      --matrix FILE matrix file (default: see 'hvmatrix matrix "
	"--help');\n"
	"  -f, --file FILE   the same\n"
	"  -h, --help        show this help\n";

static const char check_usage[] =
	"usage: hvmatrix matrix check FILE...\n"
	"\n"
	"Load each matrix file and print 'FILE: N cells, ok' or its first\n"
	"error as FILE:LINE:COLUMN: message. Exits 0 when every file is "
	"valid,\n"
	"2 otherwise.\n"
	"\n"
	"options:\n"
	"  -h, --help   show this help\n";

#define OPT_SETTING 512

/*
 * add's options, one per cell setting: the YAML key with '_' written '-',
 * except --qemu-arg (qemu_args), one argument per use. The value goes
 * through cell_set() under that key.
 */
static const struct option add_options[] = {
	{ "description", required_argument, NULL, OPT_SETTING },
	{ "backend", required_argument, NULL, OPT_SETTING },
	{ "qemu", required_argument, NULL, OPT_SETTING },
	{ "accel", required_argument, NULL, OPT_SETTING },
	{ "machine", required_argument, NULL, OPT_SETTING },
	{ "cpu", required_argument, NULL, OPT_SETTING },
	{ "memory", required_argument, NULL, OPT_SETTING },
	{ "smp", required_argument, NULL, OPT_SETTING },
	{ "qemu-arg", required_argument, NULL, OPT_SETTING },
	{ "cmdline", required_argument, NULL, OPT_SETTING },
	{ "timeout", required_argument, NULL, OPT_SETTING },
	{ "silence", required_argument, NULL, OPT_SETTING },
	{ "expect", required_argument, NULL, OPT_SETTING },
	{ "requires", required_argument, NULL, OPT_SETTING },
	{ "xen", required_argument, NULL, OPT_SETTING },
	{ "xen-cmdline", required_argument, NULL, OPT_SETTING },
	{ "guest", required_argument, NULL, OPT_SETTING },
	{ NULL, 0, NULL, 0 },
};

static void setting_key(const char *option, struct strbuf *key)
{
	const char *p;

	strbuf_reset(key);
	if (!strcmp(option, "qemu-arg")) {
		strbuf_addstr(key, "qemu_args");
		return;
	}
	for (p = option; *p; p++)
		strbuf_addch(key, *p == '-' ? '_' : *p);
}

/* cell_set() messages start with "key: "; the CLI names the option. */
static const char *strip_key(const char *msg, const char *key)
{
	size_t n = strlen(key);

	if (!strncmp(msg, key, n) && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static int one_name(struct cmd_ctx *ctx)
{
	if (ctx->argc == 1)
		return -1;
	return cmd_usage_error("%s: expected one cell NAME; see 'hvmatrix %s "
			       "--help'", ctx->name, ctx->name);
}

static int matrix_add(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT;
	struct cell c;
	size_t k;
	int ret = EXIT_USAGE;

	cell_init(&c);
	/* Settings in command-line order: a later one overrides. */
	for (k = 0; k < ctx->n_args; k++) {
		const struct cmd_arg *a = &ctx->args[k];

		if (a->id != OPT_SETTING)
			continue;
		setting_key(a->option, &key);
		if (cell_set(&c, key.buf, a->value, &err)) {
			ret = cmd_usage_error("--%s: %s", a->option,
					      strip_key(err.buf, key.buf));
			goto out;
		}
	}
	if (cell_set(&c, "name", ctx->argv[0], &err)) {
		ret = cmd_usage_error("cell name: %s",
				      strip_key(err.buf, "name"));
		goto out;
	}
	if (cell_validate(&c, &err)) {
		ret = cmd_usage_error("%s", err.buf);
		goto out;
	}
	if (matrix_edit_add_cell(ctx->matrix_path, &c, &err)) {
		cmd_matrix_error(ctx->matrix_path, err.buf);
		goto out;
	}
	printf("added cell '%s' to %s\n", c.name, ctx->matrix_path);
	ret = EXIT_OK;
out:
	cell_release(&c);
	strbuf_release(&err);
	strbuf_release(&key);
	return ret;
}

/* The last column of `matrix list`: what the cell needs and checks. */
static void list_summary(const struct cell *c, struct strbuf *sb)
{
	if (cell_required(c) & CELL_REQUIRE_KVM)
		strbuf_addstr(sb, "requires kvm");
	if (c->n_expect)
		strbuf_addf(sb, "%sexpects %zu result%s", sb->len ? ", " : "",
			    c->n_expect, c->n_expect == 1 ? "" : "s");
	if (!sb->len)
		strbuf_addch(sb, '-');
}

#define LIST_COLUMNS 6

static void list_columns(const struct cell *c, char *col[LIST_COLUMNS])
{
	col[0] = xstrdup(c->name);
	col[1] = xstrdup(cell_backend_name(c->backend));
	col[2] = xstrdup(cell_accel_name(c->accel));
	col[3] = xstrdup(c->machine);
	col[4] = xstrdup(c->cpu);
	col[5] = xstrfmt("%uM", c->memory_mb);
}

static void list_text(const struct matrix *m)
{
	static const char *const titles[LIST_COLUMNS] = {
		"NAME", "BACKEND", "ACCEL", "MACHINE", "CPU", "MEMORY",
	};
	size_t width[LIST_COLUMNS];
	char *col[LIST_COLUMNS];
	size_t i, j;

	for (j = 0; j < LIST_COLUMNS; j++)
		width[j] = strlen(titles[j]);
	for (i = 0; i < m->n_cells; i++) {
		list_columns(&m->cells[i], col);
		for (j = 0; j < LIST_COLUMNS; j++) {
			if (strlen(col[j]) > width[j])
				width[j] = strlen(col[j]);
			free(col[j]);
		}
	}
	for (j = 0; j < LIST_COLUMNS; j++)
		printf(j == LIST_COLUMNS - 1 ? "%*s  " : "%-*s  ",
		       (int)width[j], titles[j]);
	printf("CHECKS\n");
	for (i = 0; i < m->n_cells; i++) {
		struct strbuf summary = STRBUF_INIT;

		list_columns(&m->cells[i], col);
		for (j = 0; j < LIST_COLUMNS; j++) {
			/* Memory is a number: right-aligned. */
			if (j == LIST_COLUMNS - 1)
				printf("%*s  ", (int)width[j], col[j]);
			else
				printf("%-*s  ", (int)width[j], col[j]);
			free(col[j]);
		}
		list_summary(&m->cells[i], &summary);
		printf("%s\n", summary.buf);
		strbuf_release(&summary);
	}
}

static void list_json(const struct matrix *m)
{
	struct strbuf out = STRBUF_INIT, cell = STRBUF_INIT;
	struct json j;
	size_t i;

	json_init(&j, &out);
	json_array_begin(&j);
	for (i = 0; i < m->n_cells; i++) {
		strbuf_reset(&cell);
		cell_format_json(&m->cells[i], &cell);
		json_raw(&j, cell.buf);
	}
	json_array_end(&j);
	strbuf_addch(&out, '\n');
	fputs(out.buf, stdout);
	strbuf_release(&out);
	strbuf_release(&cell);
}

static int matrix_list(struct cmd_ctx *ctx)
{
	if (ctx->json)
		list_json(&ctx->matrix);
	else
		list_text(&ctx->matrix);
	return EXIT_OK;
}

/* cell_format_yaml() leaves defaults out; show them, as comments. */
static void show_defaults(const struct cell *c, struct strbuf *out)
{
	if (c->backend == CELL_BACKEND_QEMU)
		strbuf_addstr(out, "  # backend: qemu (default)\n");
	if (!strcmp(c->qemu, CELL_DEFAULT_QEMU))
		strbuf_addstr(out, "  # qemu: " CELL_DEFAULT_QEMU
			      " (default)\n");
	if (c->accel == CELL_ACCEL_TCG)
		strbuf_addstr(out, "  # accel: tcg (default)\n");
	if (!strcmp(c->machine, CELL_DEFAULT_MACHINE))
		strbuf_addstr(out, "  # machine: " CELL_DEFAULT_MACHINE
			      " (default)\n");
	if (!strcmp(c->cpu, CELL_DEFAULT_CPU))
		strbuf_addstr(out, "  # cpu: " CELL_DEFAULT_CPU
			      " (default)\n");
	if (c->memory_mb == CELL_DEFAULT_MEMORY_MB)
		strbuf_addf(out, "  # memory: %u (default)\n", c->memory_mb);
	if (c->smp == CELL_DEFAULT_SMP)
		strbuf_addf(out, "  # smp: %u (default)\n", c->smp);
	if (c->timeout_s == CELL_DEFAULT_TIMEOUT_S)
		strbuf_addf(out, "  # timeout: %u (default)\n", c->timeout_s);
	if (c->silence_s == CELL_DEFAULT_SILENCE_S)
		strbuf_addf(out, "  # silence: %u (default)\n", c->silence_s);
}

static int matrix_show(struct cmd_ctx *ctx)
{
	struct strbuf out = STRBUF_INIT;
	const struct cell *c = matrix_find(&ctx->matrix, ctx->argv[0]);

	if (!c)
		return cmd_usage_error("no cell '%s' in %s", ctx->argv[0],
				       ctx->matrix_path);
	if (ctx->json) {
		cell_format_json(c, &out);
		strbuf_addch(&out, '\n');
	} else {
		strbuf_addf(&out, "# %s:%u\n", ctx->matrix_path, c->line);
		cell_format_yaml(c, 0, &out);
		show_defaults(c, &out);
	}
	fputs(out.buf, stdout);
	strbuf_release(&out);
	return EXIT_OK;
}

static int matrix_remove(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	int ret = EXIT_USAGE;

	if (matrix_edit_remove_cell(ctx->matrix_path, ctx->argv[0], &err)) {
		cmd_matrix_error(ctx->matrix_path, err.buf);
		goto out;
	}
	printf("removed cell '%s' from %s\n", ctx->argv[0],
	       ctx->matrix_path);
	ret = EXIT_OK;
out:
	strbuf_release(&err);
	return ret;
}

static int check_prepare(struct cmd_ctx *ctx)
{
	if (ctx->argc)
		return -1;
	return cmd_usage_error("matrix check: expected at least one FILE; see "
			       "'hvmatrix matrix check --help'");
}

static int matrix_check(struct cmd_ctx *ctx)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;
	int ret = EXIT_OK;

	for (i = 0; i < ctx->argc; i++) {
		const char *path = ctx->argv[i];
		struct matrix m;

		strbuf_reset(&err);
		if (matrix_load(&m, path, &err)) {
			cmd_matrix_error(path, err.buf);
			ret = EXIT_USAGE;
			continue;
		}
		printf("%s: %zu cells, ok\n", path, m.n_cells);
		matrix_release(&m);
	}
	strbuf_release(&err);
	return ret;
}

static const struct cmd matrix_add_cmd = {
	.name = "add",
	.summary = "add a cell to a matrix file",
	.usage = add_usage,
	/* The file may not exist yet: matrix_edit_add_cell() creates it. */
	.flags = CMD_MATRIX_FILE_ALIAS,
	.options = add_options,
	.max_args = -1,
	.prepare = one_name,
	.exec = matrix_add,
};

static const struct cmd matrix_list_cmd = {
	.name = "list",
	.summary = "list the cells of a matrix file",
	.usage = list_usage,
	.flags = CMD_NEEDS_MATRIX | CMD_MATRIX_FILE_ALIAS | CMD_JSON,
	.max_args = 0,
	.exec = matrix_list,
};

static const struct cmd matrix_show_cmd = {
	.name = "show",
	.summary = "show every setting of one cell",
	.usage = show_usage,
	.flags = CMD_NEEDS_MATRIX | CMD_MATRIX_FILE_ALIAS | CMD_JSON,
	.max_args = -1,
	.prepare = one_name,
	.exec = matrix_show,
};

static const struct cmd matrix_remove_cmd = {
	.name = "remove",
	.summary = "remove a cell from a matrix file",
	.usage = remove_usage,
	.flags = CMD_MATRIX_FILE_ALIAS,
	.max_args = -1,
	.prepare = one_name,
	.exec = matrix_remove,
};

static const struct cmd matrix_check_cmd = {
	.name = "check",
	.summary = "check that matrix files load",
	.usage = check_usage,
	.max_args = -1,
	.prepare = check_prepare,
	.exec = matrix_check,
};

static const struct cmd *const subcommands[] = {
	&matrix_add_cmd, &matrix_list_cmd, &matrix_show_cmd,
	&matrix_remove_cmd, &matrix_check_cmd,
};

const struct cmd cmd_matrix = {
	.name = "matrix",
	.summary = "add, list, show, remove and check matrix cells",
	.usage = matrix_usage,
	.sub = subcommands,
	.n_sub = ARRAY_SIZE(subcommands),
};
