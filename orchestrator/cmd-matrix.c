/*
 * cmd-matrix: `hvmatrix matrix add|list|show|remove|check`, the CLI over
 * matrix files. It only parses arguments and prints: every value goes
 * through cell_set() and every edit through matrix_add_cell() and
 * matrix_remove_cell(), so the CLI can never accept what a matrix file
 * would refuse, nor write a file that does not load.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "cmd.h"
#include "matrix.h"
#include "strbuf.h"
#include "xmalloc.h"

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
	"add, list, show and remove take -f, --file FILE; the default is\n"
	"$HVMATRIX_MATRIX, else matrices/default.yaml under the current\n"
	"directory, else the one in the source tree.\n"
	"\n"
	"'hvmatrix matrix SUBCOMMAND --help' describes one subcommand.\n"
	"Exit codes: 0 success, 2 bad usage or an invalid matrix file.\n";

static const char add_usage[] =
	"usage: hvmatrix matrix add NAME [-f FILE] [OPTIONS]\n"
	"\n"
	"Add the cell NAME to the matrix file (created when missing), keeping\n"
	"the file's comments and layout. Settings left out take defaults.\n"
	"\n"
	"options:\n"
	"  -f, --file FILE        matrix file (default: see 'hvmatrix matrix "
	"--help')\n"
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
	"usage: hvmatrix matrix list [-f FILE] [--json]\n"
	"\n"
	"List the cells of a matrix file, one per line: name, backend, accel,\n"
	"machine, cpu, memory, and what the cell requires and expects.\n"
	"\n"
	"options:\n"
	"  -f, --file FILE   matrix file (default: see 'hvmatrix matrix "
	"--help')\n"
	"      --json        print a JSON array with every setting of every "
	"cell\n"
	"  -h, --help        show this help\n";

static const char show_usage[] =
	"usage: hvmatrix matrix show NAME [-f FILE] [--json]\n"
	"\n"
	"Show every setting of one cell, as YAML (settings at their default\n"
	"value as comments) or as JSON.\n"
	"\n"
	"options:\n"
	"  -f, --file FILE   matrix file (default: see 'hvmatrix matrix "
	"--help')\n"
	"      --json        print one JSON object\n"
	"  -h, --help        show this help\n";

static const char remove_usage[] =
	"usage: hvmatrix matrix remove NAME [-f FILE]\n"
	"\n"
	"Remove the cell NAME from the matrix file, keeping the rest of it as\n"
	"it is.\n"
	"\n"
	"options:\n"
	"  -f, --file FILE   matrix file (default: see 'hvmatrix matrix "
	"--help')\n"
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

/* add's options for cell settings: the YAML key, '_' written '-'. */
static const struct {
	const char *option;
	const char *key;
} setting_options[] = {
	{ "description", "description" },
	{ "backend", "backend" },
	{ "qemu", "qemu" },
	{ "accel", "accel" },
	{ "machine", "machine" },
	{ "cpu", "cpu" },
	{ "memory", "memory" },
	{ "smp", "smp" },
	{ "qemu-arg", "qemu_args" },
	{ "cmdline", "cmdline" },
	{ "timeout", "timeout" },
	{ "silence", "silence" },
	{ "expect", "expect" },
	{ "requires", "requires" },
	{ "xen", "xen" },
	{ "xen-cmdline", "xen_cmdline" },
	{ "guest", "guest" },
};

#define OPT_JSON 256
#define OPT_SETTING 512		/* + index in setting_options[] */

/* What a subcommand got on its command line. */
struct args {
	const char *file;
	int json;
	char **positional;
	size_t n_positional;
};

/*
 * Messages that already start with "FILE:" (file:line:col: ...) are
 * printed as they are; anything else gets the program name.
 */
static void print_error(const char *path, const char *msg)
{
	size_t n = path ? strlen(path) : 0;

	if (path && !strncmp(msg, path, n) && msg[n] == ':')
		fprintf(stderr, "%s\n", msg);
	else
		fprintf(stderr, "hvmatrix: %s\n", msg);
}

/* cell_set() messages start with "key: "; the CLI names the option. */
static const char *strip_key(const char *msg, const char *key)
{
	size_t n = strlen(key);

	if (!strncmp(msg, key, n) && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static void args_release(struct args *a)
{
	free(a->positional);
	a->positional = NULL;
	a->n_positional = 0;
}

/*
 * Parse the options of subcommand argv[0]. Options may come before or
 * after the positional arguments (whatever POSIXLY_CORRECT says). For
 * add, cell settings are applied to *c in command-line order. Returns -1
 * when the subcommand is done (help printed, or a usage error with its
 * exit code in *exit_code).
 */
static int parse_args(int argc, char **argv, const struct option *longopts,
		      const char *usage, struct args *a, struct cell *c,
		      int *exit_code)
{
	const char *sub = argv[0];
	int opt, longindex;

	memset(a, 0, sizeof(*a));
	a->positional = xmalloc((size_t)argc * sizeof(*a->positional));
	optind = 0;		/* GNU: full reinitialisation */
	opterr = 0;
	for (;;) {
		longindex = -1;
		opt = getopt_long(argc, argv, "-:f:h", longopts, &longindex);
		if (opt == -1)
			break;
		switch (opt) {
		case 1:
			a->positional[a->n_positional++] = optarg;
			break;
		case 'f':
			a->file = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			*exit_code = EXIT_OK;
			goto done;
		case OPT_JSON:
			a->json = 1;
			break;
		case ':':
			*exit_code = cmd_usage_error("matrix %s: %s needs a "
						     "value", sub,
						     argv[optind - 1]);
			goto done;
		case '?':
			if (optopt)
				*exit_code = cmd_usage_error(
					"matrix %s: unknown option '-%c'; see "
					"'hvmatrix matrix %s --help'", sub,
					optopt, sub);
			else
				*exit_code = cmd_usage_error(
					"matrix %s: unknown option '%s'; see "
					"'hvmatrix matrix %s --help'", sub,
					argv[optind - 1], sub);
			goto done;
		default: {
			struct strbuf err = STRBUF_INIT;
			size_t i = (size_t)(opt - OPT_SETTING);

			if (opt < OPT_SETTING || !c ||
			    i >= ARRAY_SIZE(setting_options))
				die("matrix %s: unexpected option %d", sub,
				    opt);
			if (!cell_set(c, setting_options[i].key, optarg,
				      &err)) {
				strbuf_release(&err);
				break;
			}
			*exit_code = cmd_usage_error("--%s: %s",
				setting_options[i].option,
				strip_key(err.buf, setting_options[i].key));
			strbuf_release(&err);
			goto done;
		}
		}
	}
	/* After "--": the rest is positional. */
	while (optind < argc)
		a->positional[a->n_positional++] = argv[optind++];
	return 0;
done:
	args_release(a);
	return -1;
}

static const char *args_file(const struct args *a)
{
	return a->file ? a->file : matrix_default_path();
}

static int load_or_complain(struct matrix *m, const char *path)
{
	struct strbuf err = STRBUF_INIT;
	int ret = 0;

	if (matrix_load(m, path, &err)) {
		print_error(path, err.buf);
		ret = -1;
	}
	strbuf_release(&err);
	return ret;
}

static int matrix_add(int argc, char **argv)
{
	static const struct option base[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option longopts[ARRAY_SIZE(base) +
			       ARRAY_SIZE(setting_options) + 1];
	struct strbuf err = STRBUF_INIT;
	struct args a;
	struct cell c;
	const char *path;
	size_t i, n = 0;
	int ret = EXIT_USAGE;

	for (i = 0; i < ARRAY_SIZE(base); i++)
		longopts[n++] = base[i];
	for (i = 0; i < ARRAY_SIZE(setting_options); i++) {
		longopts[n].name = setting_options[i].option;
		longopts[n].has_arg = required_argument;
		longopts[n].flag = NULL;
		longopts[n++].val = OPT_SETTING + (int)i;
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));

	cell_init(&c);
	if (parse_args(argc, argv, longopts, add_usage, &a, &c, &ret))
		goto out_cell;
	if (a.n_positional != 1) {
		ret = cmd_usage_error("matrix add: expected one cell NAME; see "
				      "'hvmatrix matrix add --help'");
		goto out;
	}
	if (cell_set(&c, "name", a.positional[0], &err)) {
		ret = cmd_usage_error("cell name: %s",
				      strip_key(err.buf, "name"));
		goto out;
	}
	if (cell_validate(&c, &err)) {
		ret = cmd_usage_error("%s", err.buf);
		goto out;
	}
	path = args_file(&a);
	if (matrix_add_cell(path, &c, &err)) {
		print_error(path, err.buf);
		goto out;
	}
	printf("added cell '%s' to %s\n", c.name, path);
	ret = EXIT_OK;
out:
	args_release(&a);
out_cell:
	cell_release(&c);
	strbuf_release(&err);
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
	struct strbuf out = STRBUF_INIT;
	size_t i;

	strbuf_addch(&out, '[');
	for (i = 0; i < m->n_cells; i++) {
		strbuf_addstr(&out, i ? ",\n  " : "\n  ");
		cell_to_json(&m->cells[i], &out);
	}
	strbuf_addstr(&out, m->n_cells ? "\n]\n" : "]\n");
	fputs(out.buf, stdout);
	strbuf_release(&out);
}

static const struct option list_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int matrix_list(int argc, char **argv)
{
	struct matrix m;
	struct args a;
	int ret = EXIT_USAGE;

	if (parse_args(argc, argv, list_options, list_usage, &a, NULL, &ret))
		return ret;
	if (a.n_positional) {
		ret = cmd_usage_error("matrix list: unexpected argument '%s'",
				      a.positional[0]);
		goto out;
	}
	if (load_or_complain(&m, args_file(&a)))
		goto out;
	if (a.json)
		list_json(&m);
	else
		list_text(&m);
	matrix_release(&m);
	ret = EXIT_OK;
out:
	args_release(&a);
	return ret;
}

/* cell_to_yaml() leaves defaults out; show them, as comments. */
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

static int matrix_show(int argc, char **argv)
{
	struct strbuf out = STRBUF_INIT;
	const struct cell *c;
	const char *path;
	struct matrix m;
	struct args a;
	int ret = EXIT_USAGE;

	if (parse_args(argc, argv, list_options, show_usage, &a, NULL, &ret))
		return ret;
	if (a.n_positional != 1) {
		ret = cmd_usage_error("matrix show: expected one cell NAME; "
				      "see 'hvmatrix matrix show --help'");
		goto out;
	}
	path = args_file(&a);
	if (load_or_complain(&m, path))
		goto out;
	c = matrix_find(&m, a.positional[0]);
	if (!c) {
		ret = cmd_usage_error("no cell '%s' in %s", a.positional[0],
				      path);
		goto out_matrix;
	}
	if (a.json) {
		cell_to_json(c, &out);
		strbuf_addch(&out, '\n');
	} else {
		strbuf_addf(&out, "# %s:%u\n", path, c->line);
		cell_to_yaml(c, 0, &out);
		show_defaults(c, &out);
	}
	fputs(out.buf, stdout);
	ret = EXIT_OK;
out_matrix:
	matrix_release(&m);
out:
	strbuf_release(&out);
	args_release(&a);
	return ret;
}

static const struct option remove_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int matrix_remove(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	const char *path;
	struct args a;
	int ret = EXIT_USAGE;

	if (parse_args(argc, argv, remove_options, remove_usage, &a, NULL,
		       &ret))
		return ret;
	if (a.n_positional != 1) {
		ret = cmd_usage_error("matrix remove: expected one cell NAME; "
				      "see 'hvmatrix matrix remove --help'");
		goto out;
	}
	path = args_file(&a);
	if (matrix_remove_cell(path, a.positional[0], &err)) {
		print_error(path, err.buf);
		goto out;
	}
	printf("removed cell '%s' from %s\n", a.positional[0], path);
	ret = EXIT_OK;
out:
	strbuf_release(&err);
	args_release(&a);
	return ret;
}

static const struct option check_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int matrix_check(int argc, char **argv)
{
	struct args a;
	size_t i;
	int ret = EXIT_USAGE;

	if (parse_args(argc, argv, check_options, check_usage, &a, NULL,
		       &ret))
		return ret;
	if (a.file) {
		ret = cmd_usage_error("matrix check: give the files as "
				      "arguments, not with --file");
		goto out;
	}
	if (!a.n_positional) {
		ret = cmd_usage_error("matrix check: expected at least one "
				      "FILE; see 'hvmatrix matrix check "
				      "--help'");
		goto out;
	}
	ret = EXIT_OK;
	for (i = 0; i < a.n_positional; i++) {
		const char *path = a.positional[i];
		struct matrix m;

		if (load_or_complain(&m, path)) {
			ret = EXIT_USAGE;
			continue;
		}
		printf("%s: %zu cells, ok\n", path, m.n_cells);
		matrix_release(&m);
	}
out:
	args_release(&a);
	return ret;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
	{ "add", matrix_add },
	{ "list", matrix_list },
	{ "show", matrix_show },
	{ "remove", matrix_remove },
	{ "check", matrix_check },
};

static int cmd_matrix_run(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(matrix_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(matrix_usage, stdout);
		return EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	return cmd_usage_error("matrix: '%s' is not a subcommand; see "
			       "'hvmatrix matrix --help'", argv[1]);
}

const struct cmd cmd_matrix = {
	"matrix",
	"add, list, show, remove and check matrix cells",
	cmd_matrix_run,
};
