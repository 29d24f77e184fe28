/*
 * test-matrix: unit tests for cell.c, the matrix module (matrix.c, the
 * loader's layers matrix-yaml.c, matrix-section.c and the sections
 * matrix-cells.c, matrix-trees.c, ..., and matrix-edit.c) and the name check
 * (fsutil_check_name): loading cells, trees and builds (values, defaults,
 * the exact "file:line:col: message" of every error kind), rendering (YAML
 * round trip, JSON) and editing matrix files in place (every original byte
 * kept, nothing written when the result would not load).
 */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matrix/cell.h"
#include "executor/rundir.h"
#include "lib/fsutil.h"
#include "matrix/matrix.h"
#include "matrix/matrix-interfaces.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

#define FIXTURE(name) HVM_TEST_FIXTURES "/" name

static char *tmpdir;

static void tmp_setup(void)
{
	char tmpl[] = "/tmp/hvm-test-matrix-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	tmpdir = xstrdup(tmpl);
}

static void tmp_teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xstrfmt("%s/%s", tmpdir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* A copy of fixture `name` in the temporary directory. */
static char *tmp_copy(const char *name)
{
	char *from = xstrfmt("%s/%s", HVM_TEST_FIXTURES, name);
	char *to = xstrfmt("%s/%s", tmpdir, name);

	ck_assert_int_eq(fsutil_copy(from, to), 0);
	free(from);
	return to;
}

static char *read_all(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_int_eq(fsutil_read(path, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

static void write_all(const char *path, const char *text)
{
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text)), 0);
}

/* Load text as "t.yaml"; the error message, or NULL when it loaded. */
static char *load_error(const char *text)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	if (!matrix_load_buf(&m, "t.yaml", text, strlen(text), &err)) {
		matrix_release(&m);
		strbuf_release(&err);
		return NULL;
	}
	return strbuf_detach(&err, NULL);
}

#define ck_load_error(text, expected)					\
	do {								\
		char *e_ = load_error(text);				\
		ck_assert_msg(e_ != NULL, "loaded: %s", text);		\
		ck_assert_str_eq(e_, expected);				\
		free(e_);						\
	} while (0)

static void load_ok(struct matrix *m, const char *text)
{
	struct strbuf err = STRBUF_INIT;
	int r = matrix_load_buf(m, "t.yaml", text, strlen(text), &err);

	ck_assert_msg(r == 0, "load failed: %s", err.buf);
	strbuf_release(&err);
}

static void set_ok(struct cell *c, const char *key, const char *value)
{
	struct strbuf err = STRBUF_INIT;

	ck_assert_msg(cell_set(c, key, value, &err) == 0, "%s", err.buf);
	strbuf_release(&err);
}

/* A cell with every setting away from its default. */
static void full_cell(struct cell *c, const char *name)
{
	static const char *const settings[][2] = {
		{ "description", "Quote \"this\", back\\slash: #not a "
				 "comment, caf\xc3\xa9\n\tsecond line" },
		{ "backend", "qemu" },
		{ "qemu", "yes" },
		{ "accel", "kvm" },
		{ "machine", "pc,vmport=on" },
		{ "cpu", "max,-hypervisor" },
		{ "memory", "1G" },
		{ "smp", "2" },
		{ "qemu_args", "-device" },
		{ "qemu_args", "virtio-rng-pci,id=rng0" },
		{ "qemu_args", "-name" },
		{ "qemu_args", "guest: one # two" },
		{ "qemu_args", "-global" },
		{ "qemu_args", "kvm-pit.lost_tick_policy=discard" },
		{ "cmdline", "console=ttyS0 quiet" },
		{ "timeout", "600" },
		{ "silence", "90" },
		{ "expect", "true" },
		{ "expect", "a: b" },
		{ "expect", "- dash" },
		{ "expect", "42" },
		{ "requires", "kvm" },
		{ "log_limit", "32M" },
	};
	size_t i;

	cell_init(c);
	set_ok(c, "name", name);
	for (i = 0; i < ARRAY_SIZE(settings); i++)
		set_ok(c, settings[i][0], settings[i][1]);
}

static void ck_cells_equal(const struct cell *a, const struct cell *b)
{
	size_t i;

	ck_assert_str_eq(a->name, b->name);
	ck_assert_pstr_eq(a->description, b->description);
	ck_assert_int_eq(a->backend, b->backend);
	ck_assert_str_eq(a->qemu, b->qemu);
	ck_assert_int_eq(a->accel, b->accel);
	ck_assert_str_eq(a->machine, b->machine);
	ck_assert_str_eq(a->cpu, b->cpu);
	ck_assert_uint_eq(a->memory_mb, b->memory_mb);
	ck_assert_uint_eq(a->smp, b->smp);
	ck_assert_uint_eq(a->n_qemu_args, b->n_qemu_args);
	for (i = 0; i < a->n_qemu_args; i++)
		ck_assert_str_eq(a->qemu_args[i], b->qemu_args[i]);
	ck_assert_pstr_eq(a->cmdline, b->cmdline);
	ck_assert_uint_eq(a->timeout_s, b->timeout_s);
	ck_assert_uint_eq(a->silence_s, b->silence_s);
	ck_assert_uint_eq(a->n_expect, b->n_expect);
	for (i = 0; i < a->n_expect; i++)
		ck_assert_str_eq(a->expect[i], b->expect[i]);
	ck_assert_uint_eq(a->requires, b->requires);
	ck_assert_uint_eq(a->log_limit, b->log_limit);
}

/* --- cell ---------------------------------------------------------- */

START_TEST(test_cell_defaults)
{
	struct cell c;

	cell_init(&c);
	ck_assert_ptr_null(c.name);
	ck_assert_ptr_null(c.description);
	ck_assert_str_eq(c.qemu, CELL_DEFAULT_QEMU);
	ck_assert_str_eq(c.machine, CELL_DEFAULT_MACHINE);
	ck_assert_str_eq(c.cpu, CELL_DEFAULT_CPU);
	ck_assert_int_eq(c.accel, CELL_ACCEL_TCG);
	ck_assert_uint_eq(c.memory_mb, CELL_DEFAULT_MEMORY_MB);
	ck_assert_uint_eq(c.smp, CELL_DEFAULT_SMP);
	ck_assert_uint_eq(c.timeout_s, CELL_DEFAULT_TIMEOUT_S);
	ck_assert_uint_eq(c.silence_s, CELL_DEFAULT_SILENCE_S);
	ck_assert_uint_eq(c.log_limit, 16u << 20);
	ck_assert_uint_eq(cell_required(&c), 0);
	cell_release(&c);
}
END_TEST

START_TEST(test_cell_set_values)
{
	struct strbuf err = STRBUF_INIT;
	struct cell c;
	int is_list = -1;

	cell_init(&c);
	ck_assert_int_eq(cell_set(&c, "memory", "512M", &err), 0);
	ck_assert_uint_eq(c.memory_mb, 512);
	ck_assert_int_eq(cell_set(&c, "memory", "2G", &err), 0);
	ck_assert_uint_eq(c.memory_mb, 2048);
	ck_assert_int_eq(cell_set(&c, "memory", "64", &err), 0);
	ck_assert_uint_eq(c.memory_mb, 64);
	ck_assert_int_eq(cell_set(&c, "memory", "65536", &err), 0);
	ck_assert_int_eq(cell_set(&c, "memory", "65537", &err), -1);
	ck_assert_int_eq(cell_set(&c, "memory", "0x40", &err), -1);
	ck_assert_int_eq(cell_set(&c, "memory", "-64", &err), -1);
	ck_assert_int_eq(cell_set(&c, "memory", "64T", &err), -1);
	ck_assert_uint_eq(c.memory_mb, 65536);
	strbuf_reset(&err);
	ck_assert_int_eq(cell_set(&c, "memory", "x", &err), -1);
	ck_assert_str_eq(err.buf, "memory: expected an integer in MiB "
			 "between 16 and 65536, got \"x\"");

	ck_assert_int_eq(cell_set(&c, "smp", "64", &err), 0);
	ck_assert_int_eq(cell_set(&c, "smp", "65", &err), -1);
	ck_assert_int_eq(cell_set(&c, "timeout", "86400", &err), 0);
	ck_assert_int_eq(cell_set(&c, "timeout", "86401", &err), -1);
	ck_assert_int_eq(cell_set(&c, "silence", "0", &err), -1);
	ck_assert_int_eq(cell_set(&c, "accel", "xen", &err), -1);
	ck_assert_int_eq(cell_set(&c, "backend", "hyperv", &err), -1);
	ck_assert_int_eq(cell_set(&c, "machine", "pc q35", &err), -1);
	ck_assert_int_eq(cell_set(&c, "machine", "", &err), -1);
	ck_assert_int_eq(cell_set(&c, "cpu", "max,-hypervisor", &err), 0);
	ck_assert_int_eq(cell_set(&c, "description", "a\x01b", &err), -1);
	ck_assert_int_eq(cell_set(&c, "cpu", "max\n", &err), -1);
	ck_assert_int_eq(cell_set(&c, "description", "two\nlines", &err), 0);
	ck_assert_int_eq(cell_set(&c, "description", "\xff", &err), -1);
	ck_assert_int_eq(cell_set(&c, "name", "a b", &err), -1);
	ck_assert_int_eq(cell_set(&c, "name", "", &err), -1);
	ck_assert_int_eq(cell_set(&c, "expect", "", &err), -1);
	/* Facts: a known value, any case; a string as it is otherwise. */
	ck_assert_int_eq(cell_set(&c, "expect", "hypervisor=xen", &err), 0);
	ck_assert_int_eq(cell_set(&c, "expect", "guest_type=pvh", &err), 0);
	ck_assert_int_eq(cell_set(&c, "expect", "Booting kernel on Xen PVH",
				  &err), 0);
	ck_assert_int_eq(cell_set(&c, "expect", "guest_type=pvm", &err), -1);
	ck_assert_int_eq(cell_set(&c, "requires", "xen", &err), -1);
	ck_assert_int_eq(cell_set(&c, "bogus", "1", &err), -1);

	/* 64 characters is the longest name. */
	ck_assert_int_eq(cell_set(&c, "name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &err), 0);
	ck_assert_int_eq(cell_set(&c, "name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", &err),
			 -1);

	/* QEMU also reads "--m" as "-m". */
	strbuf_reset(&err);
	ck_assert_int_eq(cell_set(&c, "qemu_args", "--m", &err), -1);
	ck_assert_str_eq(err.buf, "qemu_args: \"--m\" is set by hvmatrix; use "
			 "the 'memory' setting instead");
	strbuf_reset(&err);
	ck_assert_int_eq(cell_set(&c, "qemu_args", "-serial", &err), -1);
	ck_assert_str_eq(err.buf, "qemu_args: \"-serial\" is set by hvmatrix "
			 "and cannot be overridden");
	ck_assert_uint_eq(c.n_qemu_args, 0);
	ck_assert_int_eq(cell_set(&c, "qemu_args", "-device", &err), 0);
	ck_assert_int_eq(cell_set(&c, "qemu_args", "e1000", &err), 0);
	ck_assert_uint_eq(c.n_qemu_args, 2);
	ck_assert_str_eq(c.qemu_args[1], "e1000");

	ck_assert_int_eq(cell_set(&c, "cmdline", "a HVMATRIX b", &err), -1);
	ck_assert_int_eq(cell_set(&c, "cmdline", "hvmatrix.x=1", &err), -1);
	ck_assert_int_eq(cell_set(&c, "cmdline", "hvmatrix=1", &err), 0);

	ck_assert_uint_eq(cell_required(&c), 0);
	ck_assert_int_eq(cell_set(&c, "accel", "kvm", &err), 0);
	ck_assert_uint_eq(cell_required(&c), CELL_REQUIRE_KVM);
	ck_assert_int_eq(cell_set(&c, "accel", "tcg", &err), 0);
	ck_assert_int_eq(cell_set(&c, "requires", "kvm", &err), 0);
	ck_assert_uint_eq(cell_required(&c), CELL_REQUIRE_KVM);

	ck_assert_int_eq(cell_key_known("qemu_args", &is_list), 1);
	ck_assert_int_eq(is_list, 1);
	ck_assert_int_eq(cell_key_known("memory", &is_list), 1);
	ck_assert_int_eq(is_list, 0);
	ck_assert_int_eq(cell_key_known("memroy", &is_list), 0);
	/* The loader's hints list cell.c's keys: every one, and only them. */
	{
		size_t i;

		for (i = 0; cell_key_name(i); i++)
			ck_assert_msg(cell_key_known(cell_key_name(i), NULL),
				      "%s", cell_key_name(i));
		ck_assert_uint_eq(i, 24);
		ck_assert_str_eq(cell_key_name(0), "name");
		ck_assert_str_eq(cell_key_name(20), "executor");
		ck_assert_str_eq(cell_key_name(21), "probes");
	}
	cell_release(&c);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_cell_validate)
{
	struct strbuf err = STRBUF_INIT;
	struct cell c, copy;

	cell_init(&c);
	ck_assert_int_eq(cell_validate(&c, &err), -1);
	ck_assert_str_eq(err.buf, "name: missing (every cell needs a name)");
	ck_assert_int_eq(cell_set(&c, "name", "a", &err), 0);
	ck_assert_int_eq(cell_set(&c, "timeout", "10", &err), 0);
	strbuf_reset(&err);
	ck_assert_int_eq(cell_validate(&c, &err), -1);
	ck_assert_str_eq(err.buf, "silence: 30 s is longer than the timeout "
			 "(10 s)");
	ck_assert_int_eq(cell_set(&c, "silence", "10", &err), 0);
	ck_assert_int_eq(cell_validate(&c, &err), 0);

	/* A cell built in code gets the same checks as cell_set(). */
	cell_copy(&copy, &c);
	copy.memory_mb = 8;
	ck_assert_int_eq(cell_validate(&copy, &err), -1);
	copy.memory_mb = 512;
	free(copy.name);
	copy.name = xstrdup("no spaces allowed");
	ck_assert_int_eq(cell_validate(&copy, &err), -1);
	cell_release(&copy);
	/* The copy was deep: the original is intact. */
	ck_assert_str_eq(c.name, "a");
	cell_release(&c);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_cell_yaml_round_trip)
{
	struct strbuf text = STRBUF_INIT;
	struct matrix m;
	struct cell c, d;

	full_cell(&c, "1.0");
	strbuf_addstr(&text, "cells:\n");
	cell_format_yaml(&c, 2, &text);
	/* Strings YAML would misread are quoted. */
	ck_assert_ptr_nonnull(strstr(text.buf, "  - name: \"1.0\"\n"));
	ck_assert_ptr_nonnull(strstr(text.buf, "    qemu: \"yes\"\n"));
	ck_assert_ptr_nonnull(strstr(text.buf, "    accel: kvm\n"));
	ck_assert_ptr_nonnull(strstr(text.buf, "    memory: 1024\n"));
	ck_assert_ptr_nonnull(strstr(text.buf, "    log_limit: 32M\n"));
	ck_assert_ptr_nonnull(strstr(text.buf, "\"true\""));
	/* Not rendered: backend qemu is the default. */
	ck_assert_ptr_null(strstr(text.buf, "backend"));
	load_ok(&m, text.buf);
	ck_assert_uint_eq(m.n_cells, 1);
	ck_cells_equal(&m.cells[0], &c);
	matrix_release(&m);

	/* Defaults render as just the name, and read back as defaults. */
	cell_init(&d);
	set_ok(&d, "name", "plain");
	strbuf_reset(&text);
	cell_format_yaml(&d, 0, &text);
	ck_assert_str_eq(text.buf, "- name: plain\n");
	strbuf_reset(&text);
	strbuf_addstr(&text, "cells:\n");
	cell_format_yaml(&d, 0, &text);
	load_ok(&m, text.buf);
	ck_cells_equal(&m.cells[0], &d);
	matrix_release(&m);

	cell_release(&c);
	cell_release(&d);
	strbuf_release(&text);
}
END_TEST

START_TEST(test_cell_json)
{
	struct strbuf out = STRBUF_INIT;
	struct cell c;

	full_cell(&c, "j");
	cell_format_json(&c, &out);
	ck_assert_int_eq(out.buf[0], '{');
	ck_assert_int_eq(out.buf[out.len - 1], '}');
	ck_assert_ptr_nonnull(strstr(out.buf, "\"name\": \"j\""));
	ck_assert_ptr_nonnull(strstr(out.buf, "\"memory\": 1024"));
	ck_assert_ptr_nonnull(strstr(out.buf, "\"accel\": \"kvm\""));
	ck_assert_ptr_nonnull(strstr(out.buf, "\"requires\": [\"kvm\"]"));
	ck_assert_ptr_nonnull(strstr(out.buf, "\"log_limit\": 33554432,"));
	ck_assert_ptr_nonnull(strstr(out.buf, "\"description\": \"Quote "
				     "\\\"this\\\", back\\\\slash"));
	ck_assert_ptr_nonnull(strstr(out.buf, "\"qemu_args\": [\"-device\", "
				     "\"virtio-rng-pci,id=rng0\""));
	cell_release(&c);

	/* Every setting is there, defaults too. */
	strbuf_reset(&out);
	cell_init(&c);
	set_ok(&c, "name", "d");
	cell_format_json(&c, &out);
	ck_assert_str_eq(out.buf, "{\"name\": \"d\", \"description\": null, "
			 "\"backend\": \"qemu\", \"qemu\": "
			 "\"qemu-system-x86_64\", \"accel\": \"tcg\", "
			 "\"machine\": \"pc\", \"cpu\": \"max\", "
			 "\"memory\": 256, \"smp\": 1, \"qemu_args\": [], "
			 "\"cmdline\": null, \"timeout\": 120, "
			 "\"silence\": 30, \"log_limit\": 16777216, \"confirm\": null, "
			 "\"expect\": [], \"requires\": [], "
			 "\"xen\": null, \"xen_cmdline\": null, "
			 "\"guest\": null, \"executor\": null, "
			 "\"probes\": [\"smp\", \"cpu-hotplug\", \"clock\"], "
			 "\"clock_tolerance\": 0.25, \"migrate_to\": null}");
	cell_release(&c);
	strbuf_release(&out);
}
END_TEST

/* log_limit: bytes, with binary units, 64K to 1G. */
START_TEST(test_cell_log_limit)
{
	static const struct {
		const char *text;
		size_t bytes;
		const char *yaml;	/* as cell_format_yaml writes it */
	} ok[] = {
		{ "16M", 16u << 20, NULL },	/* the default: not written */
		{ "65536", 65536, "64K" },
		{ "1G", 1u << 30, "1G" },
		{ "64K", 64u << 10, "64K" },
		{ "3MiB", 3u << 20, "3M" },
		{ "1073741824", 1u << 30, "1G" },
		{ "100000", 100000, "100000" },
	};
	static const char *const bad[] = {
		"1K", "2G", "x", "65535", "1073741825", "-1", "16 M", "16MB",
		"", "0x10000",
	};
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct matrix m;
	struct cell c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		char *line;

		cell_init(&c);
		set_ok(&c, "name", "a");
		set_ok(&c, "log_limit", ok[i].text);
		ck_assert_uint_eq(c.log_limit, ok[i].bytes);
		strbuf_reset(&text);
		strbuf_addstr(&text, "cells:\n");
		cell_format_yaml(&c, 2, &text);
		line = ok[i].yaml ? xstrfmt("    log_limit: %s\n",
					    ok[i].yaml) : NULL;
		if (line)
			ck_assert_ptr_nonnull(strstr(text.buf, line));
		else
			ck_assert_ptr_null(strstr(text.buf, "log_limit"));
		/* ... and reads back as the same size. */
		load_ok(&m, text.buf);
		ck_assert_uint_eq(m.cells[0].log_limit, ok[i].bytes);
		matrix_release(&m);
		free(line);
		cell_release(&c);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *want = xstrfmt("log_limit: expected a number of bytes "
				     "between 64K and 1G (K, M, G: KiB, MiB, "
				     "GiB), got \"%s\"", bad[i]);

		cell_init(&c);
		ck_assert_int_eq(cell_set(&c, "log_limit", bad[i], &err), -1);
		ck_assert_str_eq(err.buf, want);
		ck_assert_uint_eq(c.log_limit, CELL_DEFAULT_LOG_LIMIT);
		strbuf_reset(&err);
		cell_release(&c);
		free(want);
	}

	/* In a file: the value's position. */
	ck_load_error("cells:\n  - name: a\n    log_limit: 1K\n",
		      "t.yaml:3:16: log_limit: expected a number of bytes "
		      "between 64K and 1G (K, M, G: KiB, MiB, GiB), got "
		      "\"1K\"");
	ck_load_error("cells:\n  - {name: a, log_limit: 2G}\n",
		      "t.yaml:2:26: log_limit: expected a number of bytes "
		      "between 64K and 1G (K, M, G: KiB, MiB, GiB), got "
		      "\"2G\"");
	ck_load_error("cells:\n  - name: a\n    log_limit: x\n",
		      "t.yaml:3:16: log_limit: expected a number of bytes "
		      "between 64K and 1G (K, M, G: KiB, MiB, GiB), got "
		      "\"x\"");
	ck_load_error("cells:\n  - name: a\n    log_limit: [16M]\n",
		      "t.yaml:3:16: log_limit: expected a single value, got "
		      "a list");
	ck_load_error("cells:\n  - name: a\n    log_limt: 16M\n",
		      "t.yaml:3:5: unknown key 'log_limt' in cell 'a' (did "
		      "you mean 'log_limit'?)");

	/* A cell built in code is checked too. */
	cell_init(&c);
	set_ok(&c, "name", "a");
	c.log_limit = 1024;
	ck_assert_int_eq(cell_validate(&c, &err), -1);
	ck_assert_str_eq(err.buf, "log_limit: 1024 is out of range (65536 "
			 "to 1073741824)");
	cell_release(&c);
	strbuf_release(&err);
	strbuf_release(&text);
}
END_TEST

START_TEST(test_xen_cells)
{
	struct strbuf out = STRBUF_INIT;
	struct matrix m;

	load_ok(&m, "cells:\n"
		"  - name: x\n"
		"    backend: xen\n"
		"    xen: \"4.17\"\n"
		"    xen_cmdline: dom0=pvh dom0_mem=512M\n");
	ck_assert_int_eq(m.cells[0].backend, CELL_BACKEND_XEN);
	ck_assert_str_eq(m.cells[0].xen, "4.17");
	ck_assert_str_eq(m.cells[0].xen_cmdline, "dom0=pvh dom0_mem=512M");
	/* It writes back as it was read. */
	cell_format_yaml(&m.cells[0], 2, &out);
	ck_assert_str_eq(out.buf, "  - name: x\n    backend: xen\n"
			 "    xen: \"4.17\"\n"
			 "    xen_cmdline: \"dom0=pvh dom0_mem=512M\"\n");
	matrix_release(&m);
	strbuf_release(&out);

	ck_load_error("cells:\n  - name: x\n    backend: xen\n",
		      "t.yaml:2:5: xen: missing (a xen cell names its Xen "
		      "build, e.g. xen: \"4.17\")");
	ck_load_error("cells:\n  - name: x\n    xen: \"4.17\"\n",
		      "t.yaml:3:10: xen: only for backends xen and xen-libxl");
	ck_load_error("cells:\n  - name: x\n    backend: xen\n"
		      "    xen: \"4.17\"\n    cmdline: a=1,2\n",
		      "t.yaml:5:14: cmdline: a xen cell's kernel command line "
		      "cannot contain ','");
	ck_load_error("cells:\n  - name: x\n    expect: hypervisor=qemu\n",
		      "t.yaml:3:13: expect: hypervisor= expects xen, kvm, "
		      "vmware, hyperv or none");
	ck_load_error("cells:\n  - name: x\n    backend: hyperv\n",
		      "t.yaml:3:14: backend: expected qemu, xen or xen-libxl, "
		      "got "
		      "\"hyperv\"");
}
END_TEST

START_TEST(test_executor)
{
	struct strbuf out = STRBUF_INIT;
	struct matrix m;

	load_ok(&m, "executor:\n"
		"  kind: slurm\n"
		"  partition: debug\n"
		"  account: kernel-qa\n"
		"  qos: short\n"
		"  constraint: \"kvm&x86\"\n"
		"  shared_dir: /srv/hvmatrix\n"
		"  pending_timeout: 60\n"
		"cells:\n"
		"  - name: a\n"
		"  - name: b\n"
		"    executor: local\n");
	ck_assert_int_eq(m.executor.kind, MATRIX_EXECUTOR_SLURM);
	ck_assert_str_eq(m.executor.partition, "debug");
	ck_assert_str_eq(m.executor.account, "kernel-qa");
	ck_assert_str_eq(m.executor.qos, "short");
	ck_assert_str_eq(m.executor.constraint, "kvm&x86");
	ck_assert_str_eq(m.executor.shared_dir, "/srv/hvmatrix");
	ck_assert_uint_eq(m.executor.pending_s, 60);
	ck_assert_int_eq(matrix_cell_executor(&m, &m.cells[0]),
			 MATRIX_EXECUTOR_SLURM);
	ck_assert_int_eq(matrix_cell_executor(&m, &m.cells[1]),
			 MATRIX_EXECUTOR_LOCAL);
	cell_format_yaml(&m.cells[1], 2, &out);
	ck_assert_str_eq(out.buf, "  - name: b\n    executor: local\n");
	matrix_release(&m);
	strbuf_release(&out);

	/* No section: everything local, as before. */
	load_ok(&m, "cells:\n  - name: a\n");
	ck_assert_int_eq(matrix_cell_executor(&m, &m.cells[0]),
			 MATRIX_EXECUTOR_LOCAL);
	matrix_release(&m);

	ck_load_error("executor:\n  kind: slurm\ncells:\n  - name: a\n",
		      "t.yaml:2:3: executor: kind slurm needs shared_dir (a "
		      "directory the daemon and every node see)");
	ck_load_error("executor:\n  kind: pbs\ncells:\n  - name: a\n",
		      "t.yaml:2:9: kind: expected local or slurm, got \"pbs\"");
	ck_load_error("executor:\n  partiton: x\ncells:\n  - name: a\n",
		      "t.yaml:2:3: unknown key 'partiton' in executor (did you "
		      "mean 'partition'?)");
	ck_load_error("executor:\n  partition: -x\ncells:\n  - name: a\n",
		      "t.yaml:2:14: partition: expected a name without blanks, "
		      "not starting with '-', got \"-x\"");
	ck_load_error("executor: slurm\ncells:\n  - name: a\n",
		      "t.yaml:1:11: executor: expected a mapping (kind, "
		      "partition, shared_dir, ...), got a single value");
	ck_load_error("cells:\n  - name: a\n    executor: slurm\n",
		      "t.yaml:2:5: cell 'a': executor slurm needs a top-level "
		      "executor section with shared_dir");
	ck_load_error("cells:\n  - name: a\n    executor: pbs\n",
		      "t.yaml:3:15: executor: expected local or slurm, got "
		      "\"pbs\"");
}
END_TEST

/* The node reads back exactly the cell the daemon wrote (rundir.c). */
START_TEST(test_executor_spec)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct rundir_spec spec;
	struct cell c;
	char *path = xstrfmt("%s/spec.json", tmpdir);

	full_cell(&c, "s");
	set_ok(&c, "executor", "slurm");
	rundir_spec_format(&text, &c, "/shared/k", "/shared/i");
	write_all(path, text.buf);
	ck_assert_msg(rundir_spec_read(&spec, path, &err) == 0, "%s",
		      err.buf);
	ck_cells_equal(&spec.cell, &c);
	ck_assert_str_eq(spec.kernel, "/shared/k");
	ck_assert_str_eq(spec.initrd, "/shared/i");
	rundir_spec_release(&spec);

	write_all(path, "{\"cell\": {\"name\": \"x\", \"memory\": 1}, "
		  "\"kernel\": \"k\", \"initrd\": \"i\"}");
	ck_assert_int_eq(rundir_spec_read(&spec, path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "memory: expected"));
	cell_release(&c);
	strbuf_release(&text);
	strbuf_release(&err);
	free(path);
}
END_TEST

/* --- loading --------------------------------------------------------- */

START_TEST(test_load_valid)
{
	struct strbuf err = STRBUF_INIT;
	const struct cell *c;
	struct matrix m;

	ck_assert_msg(matrix_load(&m, FIXTURE("matrix-valid.yaml"), &err) == 0,
		      "%s", err.buf);
	ck_assert_str_eq(m.path, FIXTURE("matrix-valid.yaml"));
	ck_assert_uint_eq(m.n_cells, 3);

	c = &m.cells[0];
	ck_assert_str_eq(c->name, "pc-tcg");
	ck_assert_uint_eq(c->line, 5);
	ck_assert_uint_eq(c->column, 5);
	ck_assert_str_eq(c->machine, CELL_DEFAULT_MACHINE);
	ck_assert_uint_eq(c->memory_mb, CELL_DEFAULT_MEMORY_MB);
	ck_assert_uint_eq(c->n_qemu_args, 0);
	ck_assert_uint_eq(c->n_expect, 0);
	ck_assert_uint_eq(cell_required(c), 0);

	c = matrix_find(&m, "q35-kvm");
	ck_assert_ptr_eq(c, &m.cells[1]);
	ck_assert_uint_eq(c->line, 7);
	ck_assert_str_eq(c->description, "Q35 with KVM: the common case");
	ck_assert_int_eq(c->accel, CELL_ACCEL_KVM);
	ck_assert_str_eq(c->machine, "q35");
	ck_assert_str_eq(c->cpu, "host");
	ck_assert_uint_eq(c->memory_mb, 1024);
	ck_assert_uint_eq(c->smp, 4);
	ck_assert_uint_eq(c->n_qemu_args, 2);
	ck_assert_str_eq(c->qemu_args[0], "-device");
	ck_assert_str_eq(c->qemu_args[1], "virtio-rng-pci");
	ck_assert_str_eq(c->cmdline, "quiet loglevel=3");
	ck_assert_uint_eq(c->timeout_s, 300);
	ck_assert_uint_eq(c->silence_s, 60);
	ck_assert_uint_eq(c->n_expect, 1);
	ck_assert_str_eq(c->expect[0], "boot-ok");
	ck_assert_uint_eq(c->requires, CELL_REQUIRE_KVM);

	c = matrix_find(&m, "old.pc_1-0");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->qemu, "/usr/local/bin/qemu-system-x86_64");
	ck_assert_str_eq(c->machine, "pc,vmport=on");
	ck_assert_str_eq(c->cpu, "max,-hypervisor");
	ck_assert_uint_eq(c->memory_mb, 512);
	ck_assert_int_eq(c->accel, CELL_ACCEL_TCG);
	ck_assert_uint_eq(c->timeout_s, CELL_DEFAULT_TIMEOUT_S);
	ck_assert_str_eq(c->qemu_args[1], "e1000,netdev=n0");
	ck_assert_uint_eq(c->n_expect, 2);
	ck_assert_str_eq(c->expect[1], "virtio: ok");
	ck_assert_uint_eq(cell_required(c), CELL_REQUIRE_KVM);

	ck_assert_ptr_null(matrix_find(&m, "nope"));
	matrix_release(&m);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_load_empty_lists)
{
	struct matrix m;

	load_ok(&m, "cells: []\n");
	ck_assert_uint_eq(m.n_cells, 0);
	matrix_release(&m);
	load_ok(&m, "version: 1\ncells:\n");
	ck_assert_uint_eq(m.n_cells, 0);
	matrix_release(&m);
	load_ok(&m, "cells: [{name: a, expect: []}, {name: b}]\n");
	ck_assert_uint_eq(m.n_cells, 2);
	ck_assert_str_eq(m.cells[1].name, "b");
	matrix_release(&m);
}
END_TEST

START_TEST(test_load_errors)
{
	ck_load_error("cells:\n  - name: a\n    memroy: 512\n",
		      "t.yaml:3:5: unknown key 'memroy' in cell 'a' "
		      "(did you mean 'memory'?)");
	/* The name comes after the typo: still named in the message. */
	ck_load_error("cells:\n  - memroy: 512\n    smp: x\n    name: b\n",
		      "t.yaml:2:5: unknown key 'memroy' in cell #1 "
		      "(did you mean 'memory'?)");
	ck_load_error("cells:\n  - name: a\n  - frobnicate: 1\n    name: b\n",
		      "t.yaml:3:5: unknown key 'frobnicate' in cell 'b'");
	ck_load_error("cells:\n  - name: a\n    machine: {type: q35}\n",
		      "t.yaml:3:14: machine: expected a single value, "
		      "got a mapping");
	ck_load_error("cells:\n  - name: a\n    cpu: [max]\n",
		      "t.yaml:3:10: cpu: expected a single value, got a list");
	ck_load_error("cells:\n  - name: a\n    smp: two\n",
		      "t.yaml:3:10: smp: expected an integer between 1 and "
		      "64, got \"two\"");
	ck_load_error("cells:\n  - name: a\n    memory: 8\n",
		      "t.yaml:3:13: memory: expected an integer in MiB "
		      "between 16 and 65536, got \"8\"");
	ck_load_error("cells:\n  - name: a\n    smp: 2\n    smp: 3\n",
		      "t.yaml:4:5: duplicate key 'smp' (first defined at "
		      "line 3)");
	ck_load_error("cells:\n  - name: a\n  - name: b\n\n  - machine: q35\n"
		      "    name: a\n",
		      "t.yaml:6:11: duplicate cell name 'a' (first defined "
		      "at line 2)");
	ck_load_error("cells:\n  - name: a\n    description: \"open\n",
		      "t.yaml:4:1: yaml: found unexpected end of stream "
		      "while scanning a quoted scalar");
	ck_load_error("cells:\n  - name: a\n   bad: 1\n",
		      "t.yaml:3:4: yaml: did not find expected '-' indicator "
		      "while parsing a block collection");
	ck_load_error("cells:\n  - name: a\n    qemu_args: [-device, e1000, "
		      "-m, 512]\n",
		      "t.yaml:3:33: qemu_args: \"-m\" is set by hvmatrix; use "
		      "the 'memory' setting instead");
	ck_load_error("cells:\n  - name: a\n    qemu_args: -device\n",
		      "t.yaml:3:16: qemu_args: expected a list");
	ck_load_error("cells:\n  - name: a\n    cmdline: console=ttyS0 "
		      "hvmatrix.nonce=1\n",
		      "t.yaml:3:14: cmdline: \"hvmatrix.\" is reserved for the "
		      "parameters hvmatrix passes itself");
	ck_load_error("cells:\n  - name: a\n    timeout: 10\n    silence: 20\n",
		      "t.yaml:4:14: silence: 20 s is longer than the timeout "
		      "(10 s)");
	/* The default silence (30 s) against a short timeout. */
	ck_load_error("cells:\n  - name: a\n    timeout: 10\n",
		      "t.yaml:3:14: silence: 30 s is longer than the timeout "
		      "(10 s)");
	ck_load_error("cells: []\ncels: []\n",
		      "t.yaml:2:1: unknown key 'cels' (did you mean 'cells'?)");
	ck_load_error("# nothing\nversion: 1\n", "t.yaml:2:1: no 'cells' list");
	ck_load_error("", "t.yaml:1:1: no 'cells' list");
	ck_load_error("version: 2\ncells: []\n",
		      "t.yaml:1:10: version: unsupported version '2' (only 1 "
		      "is known)");
	ck_load_error("cells:\n  - description: nameless\n",
		      "t.yaml:2:5: name: missing (every cell needs a name)");
	ck_load_error("cells:\n  - name: a\n    expect: [ok, [nested]]\n",
		      "t.yaml:3:18: expect: expected a string for each "
		      "element, got a list");
	ck_load_error("cells:\n  - name: &n a\n",
		      "t.yaml:2:11: anchors are not supported in matrix "
		      "files");
	ck_load_error("cells:\n  - name: a\n    expect: [x]\n  - name: b\n"
		      "    expect: *x\n",
		      "t.yaml:5:13: aliases are not supported in matrix files");
	ck_load_error("cells:\n  - just-a-string\n",
		      "t.yaml:2:5: cells: expected a mapping for each cell, "
		      "got a single value");
	ck_load_error("- name: a\n",
		      "t.yaml:1:1: expected a mapping with a 'cells' list at "
		      "the top level, got a list");
	ck_load_error("cells: []\n---\ncells: []\n",
		      "t.yaml:2:1: only one YAML document is allowed in a "
		      "matrix file");
	ck_load_error("cells:\n  - name: \xff\n",
		      "t.yaml:2:11: yaml: invalid leading UTF-8 octet (#xFF)");
}
END_TEST

START_TEST(test_load_error_from_file)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;
	char *want;

	/* Untouched on error. */
	m.path = (char *)"sentinel";
	m.cells = NULL;
	m.n_cells = 42;
	ck_assert_int_eq(matrix_load(&m, FIXTURE("matrix-bad-unknown-key.yaml"),
				     &err), -1);
	want = xstrfmt("%s:6:5: unknown key 'memroy' in cell 'typo' "
		       "(did you mean 'memory'?)",
		       FIXTURE("matrix-bad-unknown-key.yaml"));
	ck_assert_str_eq(err.buf, want);
	ck_assert_str_eq(m.path, "sentinel");
	ck_assert_uint_eq(m.n_cells, 42);
	free(want);

	strbuf_reset(&err);
	ck_assert_int_eq(matrix_load(&m, "/nonexistent/m.yaml", &err), -1);
	ck_assert_str_eq(err.buf, "/nonexistent/m.yaml: cannot read: "
			 "No such file or directory");
	strbuf_release(&err);
}
END_TEST

START_TEST(test_default_path)
{
	setenv("HVMATRIX_MATRIX", "/some/where.yaml", 1);
	ck_assert_str_eq(matrix_default_path(), "/some/where.yaml");
	setenv("HVMATRIX_MATRIX", "", 1);
	ck_assert_ptr_nonnull(strstr(matrix_default_path(),
				     "matrices/default.yaml"));
	unsetenv("HVMATRIX_MATRIX");
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_str_eq(matrix_default_path(),
			 HVM_DATADIR "/matrices/default.yaml");
	ck_assert_int_eq(mkdir("matrices", 0755), 0);
	write_all("matrices/default.yaml", "cells: []\n");
	ck_assert_str_eq(matrix_default_path(), "matrices/default.yaml");
	unlink("matrices/default.yaml");
	rmdir("matrices");
}
END_TEST

/* --- names ---------------------------------------------------------- */

#define NAME_RULE "use letters, digits, '.', '_' and '-', not starting " \
	"with '.' or '-'"

/* Names that are not one safe path component, as YAML plain scalars. */
static const char *const bad_names[] = { ".", "..", "-x", ".hidden", "a/b" };

START_TEST(test_names_rejected)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		const char *n = bad_names[i];
		char *text, *want;

		/* A cell, with the name not its first key. */
		text = xstrfmt("cells:\n  - name: a\n  - machine: q35\n"
			       "    name: %s\n", n);
		want = xstrfmt("t.yaml:4:11: name \"%s\" is not allowed: "
			       NAME_RULE, n);
		ck_load_error(text, want);
		free(text);
		free(want);

		/* The same in flow style: the column is the name's. */
		text = xstrfmt("cells: [{smp: 2, name: %s}]\n", n);
		want = xstrfmt("t.yaml:1:24: name \"%s\" is not allowed: "
			       NAME_RULE, n);
		ck_load_error(text, want);
		free(text);
		free(want);

		text = xstrfmt("cells: []\ntrees:\n  - path: /a\n"
			       "    name: %s\n", n);
		want = xstrfmt("t.yaml:4:11: name \"%s\" is not allowed: "
			       NAME_RULE, n);
		ck_load_error(text, want);
		free(text);
		free(want);

		text = xstrfmt("cells: []\nbuilds:\n  - base: defconfig\n"
			       "    name: %s\n", n);
		want = xstrfmt("t.yaml:4:11: name \"%s\" is not allowed: "
			       NAME_RULE, n);
		ck_load_error(text, want);
		free(text);
		free(want);
	}
	ck_load_error("cells:\n  - name: \"\"\n",
		      "t.yaml:2:11: name is empty: " NAME_RULE);
	ck_load_error("cells: []\nbuilds:\n  - name:\n    base: defconfig\n",
		      "t.yaml:3:10: name is empty: " NAME_RULE);
}
END_TEST

/* The same check wherever a name comes from: cell_set, cell_validate. */
START_TEST(test_names_one_check)
{
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/m.yaml", tmpdir);
	struct cell c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		char *want = xstrfmt("name \"%s\" is not allowed: " NAME_RULE,
				     bad_names[i]);

		cell_init(&c);
		ck_assert_int_eq(cell_set(&c, "name", bad_names[i], &err),
				 -1);
		ck_assert_str_eq(err.buf, want);
		ck_assert_ptr_null(c.name);
		strbuf_reset(&err);

		/* Built in code, past cell_set: matrix add refuses it. */
		c.name = xstrdup(bad_names[i]);
		ck_assert_int_eq(cell_validate(&c, &err), -1);
		ck_assert_str_eq(err.buf, want);
		strbuf_reset(&err);
		ck_assert_int_eq(matrix_edit_add_cell(path, &c, &err), -1);
		ck_assert_str_eq(err.buf, want);
		ck_assert_int_eq(access(path, F_OK), -1);
		strbuf_reset(&err);
		cell_release(&c);
		free(want);
	}

	/* 64 characters, dots and dashes inside: fine. 65: too long. */
	ck_assert_int_eq(fsutil_check_name("x..y", &err), 0);
	ck_assert_int_eq(fsutil_check_name("Q35_2.4-kvm", &err), 0);
	ck_assert_int_eq(fsutil_check_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					   &err), 0);
	ck_assert_str_eq(err.buf, "");
	ck_assert_int_eq(fsutil_check_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					   &err), -1);
	ck_assert_str_eq(err.buf, "name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaa...\" is too long: at most "
			 "64 characters");
	strbuf_reset(&err);
	ck_assert_int_eq(fsutil_check_name("tab\there", &err), -1);
	ck_assert_str_eq(err.buf, "name \"tab\\there\" is not allowed: "
			 NAME_RULE);
	free(path);
	strbuf_release(&err);
}
END_TEST

/* --- trees and builds ---------------------------------------------- */

static void ck_list(char *const *arr, size_t n, const char *const *want,
		    size_t n_want)
{
	size_t i;

	ck_assert_uint_eq(n, n_want);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(arr[i], want[i]);
}

#define CK_LIST(arr, n, ...)						\
	do {								\
		static const char *const want_[] = { __VA_ARGS__ };	\
		ck_list(arr, n, want_, ARRAY_SIZE(want_));		\
	} while (0)

START_TEST(test_trees_builds_valid)
{
	struct strbuf err = STRBUF_INIT;
	const struct matrix_tree *t;
	const struct matrix_build *b;
	struct matrix m;

	ck_assert_msg(matrix_load(&m, FIXTURE("matrix-trees.yaml"), &err) == 0,
		      "%s", err.buf);
	ck_assert_uint_eq(m.n_cells, 2);
	ck_assert_str_eq(m.cells[1].name, "q35");
	ck_assert_uint_eq(m.n_trees, 2);
	ck_assert_uint_eq(m.n_builds, 2);

	/* A path, every default, resolved against the file's directory. */
	t = &m.trees[0];
	ck_assert_str_eq(t->name, "local");
	ck_assert_str_eq(t->path, HVM_TEST_FIXTURES "/../linux");
	ck_assert_ptr_null(t->url);
	CK_LIST(t->branches, t->n_branches, MATRIX_TREE_DEFAULT_BRANCH);
	ck_assert_uint_eq(t->poll_s, MATRIX_TREE_DEFAULT_POLL_S);
	ck_assert_uint_eq(t->poll_s, 300);
	ck_assert_uint_eq(t->first, MATRIX_TREE_DEFAULT_FIRST);
	ck_assert_uint_eq(t->first, 5);
	ck_assert_int_eq(t->tips_first, 0);
	ck_assert_uint_eq(t->line, 8);
	ck_assert_uint_eq(t->column, 5);

	/* A URL, kept as written, and every setting given. */
	t = &m.trees[1];
	ck_assert_str_eq(t->name, "torvalds");
	ck_assert_ptr_null(t->path);
	ck_assert_str_eq(t->url, "https://git.kernel.org/pub/scm/linux/"
			 "kernel/git/torvalds/linux.git");
	CK_LIST(t->branches, t->n_branches, "master", "for-next");
	ck_assert_uint_eq(t->poll_s, 600);
	ck_assert_uint_eq(t->first, 0);
	ck_assert_uint_eq(t->line, 11);

	/* Scalar fragments, resolved though the file does not exist. */
	b = &m.builds[0];
	ck_assert_str_eq(b->name, "tiny");
	ck_assert_str_eq(b->base, "tinyconfig");
	CK_LIST(b->fragments, b->n_fragments,
		HVM_TEST_FIXTURES "/../images/configs/hvmatrix.config");
	CK_LIST(b->targets, b->n_targets, MATRIX_BUILD_DEFAULT_TARGET);
	ck_assert_str_eq(b->targets[0], "bzImage");
	ck_assert_str_eq(b->image, "arch/x86/boot/bzImage");
	ck_assert_uint_eq(b->timeout_s, 3600);
	ck_assert_uint_eq(b->line, 28);
	ck_assert_uint_eq(b->column, 5);

	/* A .config base, list fragments (one absolute), scalar target. */
	b = &m.builds[1];
	ck_assert_str_eq(b->name, "full");
	ck_assert_str_eq(b->base, HVM_TEST_FIXTURES "/configs/full.config");
	CK_LIST(b->fragments, b->n_fragments,
		HVM_TEST_FIXTURES "/configs/a.config",
		"/etc/hvmatrix/b.config");
	CK_LIST(b->targets, b->n_targets, "vmlinux");
	ck_assert_str_eq(b->image, "vmlinux");
	ck_assert_uint_eq(b->timeout_s, 7200);
	ck_assert_uint_eq(b->line, 32);

	matrix_release(&m);
	ck_assert_ptr_null(m.trees);
	ck_assert_uint_eq(m.n_builds, 0);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_trees_builds_relative)
{
	static const char text[] =
		"trees:\n"
		"  - {name: a, path: src/linux, branches: next}\n"
		"  - {name: b, path: ./linux}\n"
		"builds:\n"
		"  - name: x\n"
		"    base: ./my.config\n"
		"    fragments: [f.config, /abs/g.config, .//h.config]\n"
		"    targets: [bzImage, modules]\n"
		"cells: []\n";
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	/* No directory in the name: ".". */
	load_ok(&m, text);
	ck_assert_str_eq(m.trees[0].path, "./src/linux");
	CK_LIST(m.trees[0].branches, m.trees[0].n_branches, "next");
	ck_assert_str_eq(m.trees[1].path, "./linux");
	ck_assert_str_eq(m.builds[0].base, "./my.config");
	CK_LIST(m.builds[0].fragments, m.builds[0].n_fragments,
		"./f.config", "/abs/g.config", "./h.config");
	CK_LIST(m.builds[0].targets, m.builds[0].n_targets,
		"bzImage", "modules");
	matrix_release(&m);

	ck_assert_int_eq(matrix_load_buf(&m, "/srv/m/x.yaml", text,
					 strlen(text), &err), 0);
	ck_assert_str_eq(m.trees[0].path, "/srv/m/src/linux");
	ck_assert_str_eq(m.builds[0].base, "/srv/m/my.config");
	CK_LIST(m.builds[0].fragments, m.builds[0].n_fragments,
		"/srv/m/f.config", "/abs/g.config", "/srv/m/h.config");
	matrix_release(&m);

	ck_assert_int_eq(matrix_load_buf(&m, "matrices//x.yaml", text,
					 strlen(text), &err), 0);
	ck_assert_str_eq(m.trees[1].path, "matrices/linux");
	matrix_release(&m);

	ck_assert_int_eq(matrix_load_buf(&m, "/x.yaml", text, strlen(text),
					 &err), 0);
	ck_assert_str_eq(m.trees[0].path, "/src/linux");
	matrix_release(&m);
	ck_assert_str_eq(err.buf, "");
	strbuf_release(&err);
}
END_TEST

/* A url's login comes from a file beside the matrix, never a path's. */
START_TEST(test_trees_credentials)
{
	static const char text[] =
		"trees:\n"
		"  - {name: a, url: \"https://h/l.git\", credentials: l.cred}\n"
		"cells: []\n";
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	ck_assert_int_eq(matrix_load_buf(&m, "/srv/m/x.yaml", text,
					 strlen(text), &err), 0);
	ck_assert_str_eq(m.trees[0].credentials, "/srv/m/l.cred");
	matrix_release(&m);
	ck_load_error("trees:\n  - name: a\n    path: /x\n"
		      "    credentials: c\ncells: []\n",
		      "t.yaml:4:5: credentials: only a url's login takes a "
		      "credentials file (tree 'a' is a path)");
	strbuf_release(&err);
}
END_TEST

START_TEST(test_trees_builds_find)
{
	struct strbuf err = STRBUF_INIT;
	const struct matrix_tree *t;
	const struct matrix_build *b;
	struct matrix m;

	ck_assert_msg(matrix_load(&m, FIXTURE("matrix-trees.yaml"), &err) == 0,
		      "%s", err.buf);
	t = matrix_find_tree(&m, "torvalds");
	ck_assert_ptr_eq(t, &m.trees[1]);
	ck_assert_ptr_eq(matrix_find_tree(&m, "local"), &m.trees[0]);
	b = matrix_find_build(&m, "full");
	ck_assert_ptr_eq(b, &m.builds[1]);
	ck_assert_ptr_eq(matrix_find_build(&m, "tiny"), &m.builds[0]);
	/* Trees, builds and cells are looked up each in their own list. */
	ck_assert_ptr_null(matrix_find_tree(&m, "tiny"));
	ck_assert_ptr_null(matrix_find_build(&m, "local"));
	ck_assert_ptr_null(matrix_find_tree(&m, "pc"));
	ck_assert_ptr_null(matrix_find(&m, "tiny"));
	ck_assert_ptr_null(matrix_find_build(&m, "nope"));
	matrix_release(&m);

	/* A tree and a build may share a name. */
	load_ok(&m, "trees: [{name: same, url: \"host:linux.git\"}]\n"
		"builds: [{name: same, base: defconfig}]\ncells: []\n");
	ck_assert_str_eq(matrix_find_tree(&m, "same")->url, "host:linux.git");
	ck_assert_str_eq(matrix_find_build(&m, "same")->base, "defconfig");
	matrix_release(&m);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_trees_builds_optional)
{
	struct matrix m;

	load_ok(&m, "cells: []\n");
	ck_assert_uint_eq(m.n_trees, 0);
	ck_assert_ptr_null(m.trees);
	ck_assert_uint_eq(m.n_builds, 0);
	ck_assert_ptr_null(m.builds);
	matrix_release(&m);

	load_ok(&m, "trees:\nbuilds: []\ncells: []\n");
	ck_assert_uint_eq(m.n_trees, 0);
	ck_assert_uint_eq(m.n_builds, 0);
	matrix_release(&m);

	/* `fragments:` alone is no fragments. */
	load_ok(&m, "cells: []\nbuilds:\n  - name: b\n    base: allnoconfig\n"
		"    fragments:\n    targets: [bzImage]\n");
	ck_assert_uint_eq(m.n_builds, 1);
	ck_assert_str_eq(m.builds[0].base, "allnoconfig");
	ck_assert_uint_eq(m.builds[0].n_fragments, 0);
	matrix_release(&m);

	/* Edges of the ranges. */
	load_ok(&m, "cells: []\ntrees:\n  - name: a\n    url: git://h/l\n"
		"    poll: 10\n    first: 100000\n    order: tips-first\n"
		"    reuse: false\n"
		"  - name: b\n"
		"    url: ssh://u@h/l.git\n    poll: 86400\n"
		"    order: oldest-first\n"
		"    branches: [refs/heads/x, stable/linux-6.1.y]\n"
		"builds:\n  - name: b\n    base: defconfig\n    timeout: 60\n"
		"  - name: c\n    base: defconfig\n    timeout: 86400\n");
	ck_assert_uint_eq(m.trees[0].poll_s, 10);
	ck_assert_uint_eq(m.trees[0].first, 100000);
	ck_assert_uint_eq(m.trees[1].poll_s, 86400);
	ck_assert_int_eq(m.trees[0].tips_first, 1);
	ck_assert_int_eq(m.trees[1].tips_first, 0);
	/* reuse: false boots every cell; the default carries verdicts. */
	ck_assert_int_eq(m.trees[0].no_reuse, 1);
	ck_assert_int_eq(m.trees[1].no_reuse, 0);
	CK_LIST(m.trees[1].branches, m.trees[1].n_branches, "refs/heads/x",
		"stable/linux-6.1.y");
	ck_assert_uint_eq(m.builds[0].timeout_s, 60);
	ck_assert_uint_eq(m.builds[1].timeout_s, 86400);
	matrix_release(&m);

	/* Still no matrix without cells. */
	ck_load_error("trees: []\n", "t.yaml:1:1: no 'cells' list");
}
END_TEST

#define TREE(rest) "cells: []\ntrees:\n  - name: a\n" rest
#define BUILD(rest) "cells: []\nbuilds:\n  - name: b\n    base: defconfig\n" \
	rest

START_TEST(test_trees_errors)
{
	ck_load_error(TREE("    path: /l\n    order: newest\n"),
		      "t.yaml:5:12: order: expected oldest-first or "
		      "tips-first, got \"newest\"");
	ck_load_error(TREE("    path: /l\n    reuse: yes\n"),
		      "t.yaml:5:12: reuse: expected true or false, got "
		      "\"yes\"");
	/* Unknown keys, named after the item, with a hint. */
	ck_load_error("cells: []\ntrees:\n  - name: linux\n"
		      "    path: /srv/linux\n    pole: 60\n",
		      "t.yaml:5:5: unknown key 'pole' in tree 'linux' (did "
		      "you mean 'poll'?)");
	ck_load_error("trees:\n  - pole: 60\n    path: /x\n    name: l\n"
		      "cells: []\n",
		      "t.yaml:2:5: unknown key 'pole' in tree 'l' (did you "
		      "mean 'poll'?)");
	ck_load_error("trees:\n  - name: a\n    path: /a\n  - urll: x\n",
		      "t.yaml:4:5: unknown key 'urll' in tree #2 (did you "
		      "mean 'url'?)");
	ck_load_error(TREE("    path: /a\n    frobnicate: 1\n"),
		      "t.yaml:5:5: unknown key 'frobnicate' in tree 'a'");
	ck_load_error(TREE("    path: /a\n    path: /b\n"),
		      "t.yaml:5:5: duplicate key 'path' (first defined at "
		      "line 4)");
	ck_load_error("cells: []\ntrees:\n  - name: a\n    path: /a\n\n"
		      "  - url: h:l\n    name: a\n",
		      "t.yaml:7:11: duplicate tree name 'a' (first defined "
		      "at line 3)");

	/* Exactly one of path and url: the second one is the mistake. */
	ck_load_error(TREE("    url: https://h/l.git\n    path: /a\n"),
		      "t.yaml:5:5: tree 'a': give either path or url");
	ck_load_error(TREE("    path: /a\n    poll: 60\n    url: h:l\n"),
		      "t.yaml:6:5: tree 'a': give either path or url");
	ck_load_error(TREE("    poll: 60\n"),
		      "t.yaml:3:5: tree 'a': needs a path or a url");
	ck_load_error("cells: []\ntrees:\n  - path: /a\n",
		      "t.yaml:3:5: name: missing (every tree needs a name)");

	/* Values. */
	ck_load_error("cells: []\ntrees:\n  - name: a b\n    path: /a\n",
		      "t.yaml:3:11: name \"a b\" is not allowed: use letters, "
		      "digits, '.', '_' and '-', not starting with '.' or "
		      "'-'");
	ck_load_error("cells: []\ntrees:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		      "    path: /a\n",
		      "t.yaml:3:11: name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is too long: at "
		      "most 64 characters");
	ck_load_error(TREE("    path: /a\n    poll: 5\n"),
		      "t.yaml:5:11: poll: expected an integer number of "
		      "seconds between 10 and 86400, got \"5\"");
	ck_load_error(TREE("    path: /a\n    poll: 86401\n"),
		      "t.yaml:5:11: poll: expected an integer number of "
		      "seconds between 10 and 86400, got \"86401\"");
	ck_load_error(TREE("    path: /a\n    poll: 5m\n"),
		      "t.yaml:5:11: poll: expected an integer number of "
		      "seconds between 10 and 86400, got \"5m\"");
	ck_load_error(TREE("    path: /a\n    first: 100001\n"),
		      "t.yaml:5:12: first: expected an integer between 0 and "
		      "100000 (0: every commit), got \"100001\"");
	ck_load_error(TREE("    path: /a\n    first: -1\n"),
		      "t.yaml:5:12: first: expected an integer between 0 and "
		      "100000 (0: every commit), got \"-1\"");
	ck_load_error(TREE("    url: /srv/linux\n"),
		      "t.yaml:4:10: url: expected a git URL without blanks "
		      "(scheme://host/path or host:path; a local repository "
		      "is a path), got \"/srv/linux\"");
	ck_load_error(TREE("    path: ~/linux\n"),
		      "t.yaml:4:11: path: '~' is not expanded in matrix "
		      "files; write the whole path, got \"~/linux\"");
	ck_load_error(TREE("    path: \"\"\n"),
		      "t.yaml:4:11: path: expected a non-empty path");
	ck_load_error(TREE("    path: /a\n    branches: [master, \"a b\"]\n"),
		      "t.yaml:5:24: branches: expected a branch name without "
		      "blanks, got \"a b\"");
	ck_load_error(TREE("    path: /a\n    branches: a..b\n"),
		      "t.yaml:5:15: branches: expected a valid git branch "
		      "name (see git check-ref-format), got \"a..b\"");
	ck_load_error(TREE("    path: /a\n    branches: [-f]\n"),
		      "t.yaml:5:16: branches: expected a valid git branch "
		      "name (see git check-ref-format), got \"-f\"");
	ck_load_error(TREE("    path: /a\n    branches: [x.lock]\n"),
		      "t.yaml:5:16: branches: expected a valid git branch "
		      "name (see git check-ref-format), got \"x.lock\"");
	ck_load_error(TREE("    path: /a\n    branches: \"a\\tb\"\n"),
		      "t.yaml:5:15: branches: control characters are not "
		      "allowed, got \"a\\tb\"");
	ck_load_error(TREE("    path: /a\n    branches: [\"\"]\n"),
		      "t.yaml:5:16: branches: expected a non-empty branch "
		      "name");
	ck_load_error(TREE("    path: /a\n    branches: [master, x, master]\n"),
		      "t.yaml:5:27: branches: 'master' is listed twice");
	ck_load_error(TREE("    path: /a\n    branches: []\n"),
		      "t.yaml:5:15: branches: expected at least one branch");

	/* Shapes. */
	ck_load_error(TREE("    path: /a\n    poll: [60]\n"),
		      "t.yaml:5:11: poll: expected a single value, got a "
		      "list");
	ck_load_error(TREE("    path: /a\n    branches: {a: b}\n"),
		      "t.yaml:5:15: branches: expected a string or a list of "
		      "strings, got a mapping");
	ck_load_error(TREE("    path: /a\n    branches: [x, [y]]\n"),
		      "t.yaml:5:19: branches: expected a string for each "
		      "element, got a list");
	ck_load_error(TREE("    [path]: /a\n"),
		      "t.yaml:4:5: expected a setting name, got a list");
	ck_load_error("cells: []\ntrees: linux\n",
		      "t.yaml:2:8: trees: expected a list of trees, got a "
		      "single value");
	ck_load_error("cells: []\ntrees:\n  - linux\n",
		      "t.yaml:3:5: trees: expected a mapping for each tree, "
		      "got a single value");
	ck_load_error("trees: []\ncells: []\ntrees: []\n",
		      "t.yaml:3:1: duplicate key 'trees' (first defined at "
		      "line 1)");
	ck_load_error("cells: []\ntree: []\n",
		      "t.yaml:2:1: unknown key 'tree' (did you mean "
		      "'trees'?)");
	ck_load_error("cells: []\nbranches: [master]\n",
		      "t.yaml:2:1: unknown key 'branches' (tree settings go "
		      "in the items of the 'trees' list)");
	ck_load_error(TREE("    path: &p /a\n"),
		      "t.yaml:4:11: anchors are not supported in matrix "
		      "files");
}
END_TEST

START_TEST(test_builds_errors)
{
	ck_load_error(BUILD("    fragment: x.config\n"),
		      "t.yaml:5:5: unknown key 'fragment' in build 'b' (did "
		      "you mean 'fragments'?)");
	ck_load_error("cells: []\nbuilds:\n  - base: defconfig\n",
		      "t.yaml:3:5: name: missing (every build needs a name)");
	ck_load_error("cells: []\nbuilds:\n  - name: b\n    timeout: 600\n",
		      "t.yaml:3:5: build 'b': needs a base (defconfig, "
		      "tinyconfig, allnoconfig or a path to a .config file)");
	ck_load_error("cells: []\nbuilds:\n  - name: b\n    base: tinyconfg\n",
		      "t.yaml:4:11: base: expected defconfig, tinyconfig, "
		      "allnoconfig or a path to a .config file, got "
		      "\"tinyconfg\" (did you mean 'tinyconfig'?)");
	ck_load_error("cells: []\nbuilds:\n  - name: b\n"
		      "    base: x86_64_defconfig\n",
		      "t.yaml:4:11: base: expected defconfig, tinyconfig, "
		      "allnoconfig or a path to a .config file, got "
		      "\"x86_64_defconfig\" (a file of that name is written "
		      "./x86_64_defconfig)");
	ck_load_error(BUILD("    base: allnoconfig\n"),
		      "t.yaml:5:5: duplicate key 'base' (first defined at "
		      "line 4)");
	ck_load_error(BUILD("  - name: c\n    base: defconfig\n"
			    "  - name: b\n    base: defconfig\n"),
		      "t.yaml:7:11: duplicate build name 'b' (first defined "
		      "at line 3)");
	ck_load_error(BUILD("    targets: [bzImage, -j8]\n"),
		      "t.yaml:5:24: targets: expected a make target (no "
		      "blanks, no '=', no leading '-'), got \"-j8\"");
	ck_load_error(BUILD("    targets: O=/tmp\n"),
		      "t.yaml:5:14: targets: expected a make target (no "
		      "blanks, no '=', no leading '-'), got \"O=/tmp\"");
	ck_load_error(BUILD("    targets: []\n"),
		      "t.yaml:5:14: targets: expected at least one target");
	ck_load_error(BUILD("    fragments: [a.config, \"\"]\n"),
		      "t.yaml:5:27: fragments: expected a non-empty path");
	ck_load_error(BUILD("    image: /boot/vmlinuz\n"),
		      "t.yaml:5:12: image: expected a path inside the build "
		      "output directory, relative to it, got "
		      "\"/boot/vmlinuz\"");
	ck_load_error(BUILD("    image: arch/../../bzImage\n"),
		      "t.yaml:5:12: image: expected a path inside the build "
		      "output directory, relative to it, got "
		      "\"arch/../../bzImage\"");
	ck_load_error(BUILD("    image: [bzImage]\n"),
		      "t.yaml:5:12: image: expected a single value, got a "
		      "list");
	ck_load_error(BUILD("    timeout: 59\n"),
		      "t.yaml:5:14: timeout: expected an integer number of "
		      "seconds between 60 and 86400, got \"59\"");
	ck_load_error(BUILD("    timeout: 86401\n"),
		      "t.yaml:5:14: timeout: expected an integer number of "
		      "seconds between 60 and 86400, got \"86401\"");
	ck_load_error("cells: []\nbuilds: {name: b}\n",
		      "t.yaml:2:9: builds: expected a list of builds, got a "
		      "mapping");
	ck_load_error("cells: []\nbuilds: [[b]]\n",
		      "t.yaml:2:10: builds: expected a mapping for each "
		      "build, got a list");
	ck_load_error("cells: []\nfragments: x.config\n",
		      "t.yaml:2:1: unknown key 'fragments' (build settings go "
		      "in the items of the 'builds' list)");
	ck_load_error("cells: []\nbuild: []\n",
		      "t.yaml:2:1: unknown key 'build' (did you mean "
		      "'builds'?)");
}
END_TEST

/* ccache: a directory, resolved like fragments; none by default. */
START_TEST(test_build_ccache)
{
	static const char text[] =
		"cells: []\n"
		"builds:\n"
		"  - {name: plain, base: defconfig}\n"
		"  - name: rel\n"
		"    base: defconfig\n"
		"    ccache: cache/cc\n"
		"  - {name: dot, base: tinyconfig, ccache: ./cc}\n"
		"  - {name: abs, base: tinyconfig, ccache: /var/cache/cc}\n";
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	ck_assert_int_eq(matrix_load_buf(&m, "/srv/m/farm.yaml", text,
					 strlen(text), &err), 0);
	ck_assert_ptr_null(matrix_find_build(&m, "plain")->ccache);
	ck_assert_str_eq(matrix_find_build(&m, "rel")->ccache,
			 "/srv/m/cache/cc");
	ck_assert_str_eq(matrix_find_build(&m, "dot")->ccache, "/srv/m/cc");
	ck_assert_str_eq(matrix_find_build(&m, "abs")->ccache,
			 "/var/cache/cc");
	matrix_release(&m);

	/* No directory in the matrix file's name: ".". */
	load_ok(&m, text);
	ck_assert_str_eq(matrix_find_build(&m, "rel")->ccache, "./cache/cc");
	matrix_release(&m);
	ck_assert_str_eq(err.buf, "");

	ck_load_error(BUILD("    ccache: ~/.ccache\n"),
		      "t.yaml:5:13: ccache: '~' is not expanded in matrix "
		      "files; write the whole path, got \"~/.ccache\"");
	ck_load_error(BUILD("    ccache:\n"),
		      "t.yaml:5:12: ccache: expected a non-empty path");
	ck_load_error(BUILD("    ccache: [a, b]\n"),
		      "t.yaml:5:13: ccache: expected a single value, got a "
		      "list");
	ck_load_error(BUILD("    ccache: /a\n    ccache: /b\n"),
		      "t.yaml:6:5: duplicate key 'ccache' (first defined at "
		      "line 5)");
	ck_load_error("cells: []\nccache: /a\n",
		      "t.yaml:2:1: unknown key 'ccache' (build settings go "
		      "in the items of the 'builds' list)");
	strbuf_release(&err);
}
END_TEST

START_TEST(test_test_policy_and_confirm)
{
	static const char text[] =
		"trees:\n"
		"  - {name: every, path: /a}\n"
		"  - {name: busy, path: /b, test: tips, confirm: 5}\n"
		"cells:\n"
		"  - {name: c}\n"
		"  - {name: strict, confirm: 0}\n";
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	load_ok(&m, text);
	ck_assert_int_eq(matrix_find_tree(&m, "every")->tips_only, 0);
	ck_assert_uint_eq(matrix_find_tree(&m, "every")->confirm,
			  MATRIX_TREE_DEFAULT_CONFIRM);
	ck_assert_int_eq(matrix_find_tree(&m, "busy")->tips_only, 1);
	ck_assert_uint_eq(matrix_find_tree(&m, "busy")->confirm, 5);
	ck_assert_int_eq(matrix_find(&m, "c")->confirm, -1);
	ck_assert_int_eq(matrix_find(&m, "strict")->confirm, 0);
	matrix_release(&m);
	ck_load_error("trees: [{name: t, path: /a, test: some}]\n"
		      "cells: []\n",
		      "t.yaml:1:35: test: expected every or tips, got "
		      "\"some\"");
	ck_load_error("cells: [{name: c, confirm: 21}]\n",
		      "t.yaml:1:28: confirm: expected an integer between 0 "
		      "and 20 (runs more a new FAIL needs), got \"21\"");
	strbuf_release(&err);
}
END_TEST

START_TEST(test_trees_builds_error_untouched)
{
	static const char text[] =
		"trees: [{name: a, path: /a}]\ncells: [{name: c}]\n"
		"builds:\n  - name: b\n    base: defconfig\n    timeout: 1\n";
	struct strbuf err = STRBUF_INIT;
	struct matrix m;

	/* An error in the last item keeps the caller's matrix as it was. */
	m.path = (char *)"sentinel";
	m.cells = NULL;
	m.n_cells = 41;
	m.trees = NULL;
	m.n_trees = 42;
	m.builds = NULL;
	m.n_builds = 43;
	ck_assert_int_eq(matrix_load_buf(&m, "t.yaml", text, strlen(text),
					 &err), -1);
	ck_assert_str_eq(err.buf, "t.yaml:6:14: timeout: expected an integer "
			 "number of seconds between 60 and 86400, got \"1\"");
	ck_assert_str_eq(m.path, "sentinel");
	ck_assert_uint_eq(m.n_cells, 41);
	ck_assert_uint_eq(m.n_trees, 42);
	ck_assert_ptr_null(m.trees);
	ck_assert_uint_eq(m.n_builds, 43);
	ck_assert_ptr_null(m.builds);
	strbuf_release(&err);
}
END_TEST

/* --- editing --------------------------------------------------------- */

static void new_cell(struct cell *c, const char *name, const char *memory)
{
	cell_init(c);
	set_ok(c, "name", name);
	set_ok(c, "memory", memory);
}

START_TEST(test_add_keeps_text)
{
	static const char last_line[] =
		"    memory: 512  # the last line of the last cell\n";
	struct strbuf err = STRBUF_INIT, item = STRBUF_INIT;
	char *path = tmp_copy("matrix-commented.yaml");
	char *orig = read_all(path), *now;
	size_t at, olen = strlen(orig);
	struct matrix m;
	struct cell c;

	full_cell(&c, "added");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);

	/* Inserted right after the last cell's last line, at its indent. */
	ck_assert_ptr_nonnull(strstr(orig, last_line));
	at = (size_t)(strstr(orig, last_line) - orig) + strlen(last_line);
	cell_format_yaml(&c, 2, &item);
	ck_assert_uint_eq(strlen(now), olen + item.len);
	ck_assert_int_eq(memcmp(now, orig, at), 0);
	ck_assert_int_eq(memcmp(now + at, item.buf, item.len), 0);
	ck_assert_str_eq(now + at + item.len, orig + at);

	ck_assert_msg(matrix_load(&m, path, &err) == 0, "%s", err.buf);
	ck_assert_uint_eq(m.n_cells, 4);
	ck_assert_str_eq(m.cells[3].name, "added");
	ck_cells_equal(&m.cells[3], &c);
	ck_assert_str_eq(m.cells[1].name, "q35");
	matrix_release(&m);

	cell_release(&c);
	free(orig);
	free(now);
	free(path);
	strbuf_release(&item);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_add_duplicate_refused)
{
	struct strbuf err = STRBUF_INIT;
	char *path = tmp_copy("matrix-commented.yaml");
	char *orig = read_all(path), *now, *want;
	struct cell c;

	new_cell(&c, "q35", "1G");
	ck_assert_int_eq(matrix_edit_add_cell(path, &c, &err), -1);
	want = xstrfmt("cell 'q35' already exists in %s (line 11)", path);
	ck_assert_str_eq(err.buf, want);
	now = read_all(path);
	ck_assert_str_eq(now, orig);

	/* An invalid cell is refused before the file is even read. */
	cell_release(&c);
	new_cell(&c, "fresh", "1G");
	c.silence_s = c.timeout_s + 1;
	strbuf_reset(&err);
	ck_assert_int_eq(matrix_edit_add_cell(path, &c, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "silence"));
	free(now);
	now = read_all(path);
	ck_assert_str_eq(now, orig);

	cell_release(&c);
	free(want);
	free(orig);
	free(now);
	free(path);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_add_invalid_file_refused)
{
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/bad.yaml", tmpdir);
	char *now, *want;
	struct cell c;

	write_all(path, "cells:\n  - name: a\n    smp: lots\n");
	new_cell(&c, "b", "512");
	ck_assert_int_eq(matrix_edit_add_cell(path, &c, &err), -1);
	want = xstrfmt("%s:3:10: smp: expected an integer between 1 and 64, "
		       "got \"lots\"", path);
	ck_assert_str_eq(err.buf, want);
	now = read_all(path);
	ck_assert_str_eq(now, "cells:\n  - name: a\n    smp: lots\n");
	cell_release(&c);
	free(want);
	free(now);
	free(path);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_add_new_file)
{
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/new.yaml", tmpdir);
	struct matrix m;
	struct cell c;
	char *now;

	new_cell(&c, "first", "1G");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "cells:\n  - name: first\n    memory: 1024\n");
	ck_assert_int_eq(matrix_load(&m, path, &err), 0);
	ck_assert_uint_eq(m.n_cells, 1);
	ck_assert_uint_eq(m.cells[0].memory_mb, 1024);
	matrix_release(&m);
	cell_release(&c);
	free(now);
	free(path);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_add_into_empty_flow)
{
	struct strbuf err = STRBUF_INIT;
	char *path = tmp_copy("matrix-empty.yaml");
	struct matrix m;
	struct cell c;
	char *now;

	new_cell(&c, "x", "512");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "# No cells yet.\nversion: 1\n"
			 "cells:  # filled by 'hvmatrix matrix add'\n"
			 "  - name: x\n    memory: 512\n");
	free(now);
	cell_release(&c);

	/* And a second one goes after it ("y" would read as a boolean). */
	new_cell(&c, "y", "1024");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "# No cells yet.\nversion: 1\n"
			 "cells:  # filled by 'hvmatrix matrix add'\n"
			 "  - name: x\n    memory: 512\n"
			 "  - name: \"y\"\n    memory: 1024\n");
	ck_assert_int_eq(matrix_load(&m, path, &err), 0);
	ck_assert_uint_eq(m.n_cells, 2);
	matrix_release(&m);
	cell_release(&c);
	free(now);
	free(path);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_add_other_layouts)
{
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/m.yaml", tmpdir);
	struct cell c;
	char *now;

	new_cell(&c, "nc", "64");

	/* `cells:` with no value, followed by another key. */
	write_all(path, "cells:\nversion: 1\n");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "cells:\n  - name: nc\n    memory: 64\n"
			 "version: 1\n");
	free(now);

	/* Items at column 0, no newline at the end, a block scalar. */
	write_all(path, "cells:\n- name: a\n  description: >\n    folded\n"
		  "- name: b");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "cells:\n- name: a\n  description: >\n"
			 "    folded\n- name: b\n- name: nc\n  memory: 64\n");
	free(now);

	/* CRLF line ends stay CRLF. */
	write_all(path, "cells:\r\n  - name: a\r\n");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "cells:\r\n  - name: a\r\n  - name: nc\r\n"
			 "    memory: 64\r\n");
	free(now);

	/* Multi-byte characters before the insertion point. */
	write_all(path, "# \xc3\xa9t\xc3\xa9\ncells:\n  - name: a\n"
		  "    description: caf\xc3\xa9 \xe2\x82\xac\n# end\n");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "# \xc3\xa9t\xc3\xa9\ncells:\n  - name: a\n"
			 "    description: caf\xc3\xa9 \xe2\x82\xac\n"
			 "  - name: nc\n    memory: 64\n# end\n");
	free(now);

	/* A non-empty flow list is not rewritten. */
	write_all(path, "cells: [{name: a}]\n");
	ck_assert_int_eq(matrix_edit_add_cell(path, &c, &err), -1);
	now = read_all(path);
	ck_assert_str_eq(now, "cells: [{name: a}]\n");
	free(now);

	cell_release(&c);
	free(path);
	strbuf_release(&err);
}
END_TEST

/* orig with exactly one occurrence of cut removed. */
static char *without(const char *orig, const char *cut)
{
	const char *p = strstr(orig, cut);
	struct strbuf sb = STRBUF_INIT;

	ck_assert_msg(p != NULL, "not in fixture: %s", cut);
	ck_assert_ptr_null(strstr(p + 1, cut));
	strbuf_add(&sb, orig, (size_t)(p - orig));
	strbuf_addstr(&sb, p + strlen(cut));
	return strbuf_detach(&sb, NULL);
}

static void check_remove(const char *name, const char *cut,
			 const char *const *left, size_t n_left)
{
	struct strbuf err = STRBUF_INIT;
	char *path = tmp_copy("matrix-commented.yaml");
	char *orig = read_all(path), *now, *want;
	struct matrix m;
	size_t i;

	ck_assert_msg(matrix_edit_remove_cell(path, name, &err) == 0, "%s",
		      err.buf);
	now = read_all(path);
	want = without(orig, cut);
	ck_assert_str_eq(now, want);
	ck_assert_msg(matrix_load(&m, path, &err) == 0, "%s", err.buf);
	ck_assert_uint_eq(m.n_cells, n_left);
	for (i = 0; i < n_left; i++)
		ck_assert_str_eq(m.cells[i].name, left[i]);
	matrix_release(&m);
	free(orig);
	free(now);
	free(want);
	free(path);
	strbuf_release(&err);
}

START_TEST(test_remove_middle)
{
	static const char *const left[] = { "pc", "last" };

	/* Its heading comment and its commented-out setting go with it. */
	check_remove("q35",
		     "  # Second: Q35, which needs a heading comment.\n"
		     "  - name: q35\n    machine: q35\n    memory: 512\n"
		     "    # smp: 2   (commented out: belongs to q35)\n\n",
		     left, 2);
}
END_TEST

START_TEST(test_remove_first)
{
	static const char *const left[] = { "q35", "last" };

	/* "# First: ..." heads the list as much as the cell: it stays. */
	check_remove("pc", "  - name: pc\n    machine: pc   # i440FX\n\n",
		     left, 2);
}
END_TEST

START_TEST(test_remove_last)
{
	static const char *const left[] = { "pc", "q35" };

	/* Comments at the list's indent after it are not its own. */
	check_remove("last", "  - name: last\n    cpu: qemu64\n"
		     "    memory: 512  # the last line of the last cell\n",
		     left, 2);
}
END_TEST

START_TEST(test_remove_only_and_missing)
{
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/one.yaml", tmpdir);
	char *now, *want;
	struct matrix m;

	write_all(path, "# one cell\ncells:  # list\n  - name: a\n"
		  "    smp: 2\nversion: 1\n");
	strbuf_reset(&err);
	ck_assert_int_eq(matrix_edit_remove_cell(path, "b", &err), -1);
	want = xstrfmt("no cell 'b' in %s", path);
	ck_assert_str_eq(err.buf, want);
	now = read_all(path);
	ck_assert_str_eq(now, "# one cell\ncells:  # list\n  - name: a\n"
			 "    smp: 2\nversion: 1\n");
	free(now);

	ck_assert_msg(matrix_edit_remove_cell(path, "a", &err) == 0, "%s",
		      err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "# one cell\ncells: []  # list\nversion: 1\n");
	ck_assert_int_eq(matrix_load(&m, path, &err), 0);
	ck_assert_uint_eq(m.n_cells, 0);
	matrix_release(&m);

	free(want);
	free(now);
	free(path);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_add_then_remove_restores)
{
	struct strbuf err = STRBUF_INIT;
	char *path = tmp_copy("matrix-valid.yaml");
	char *orig = read_all(path), *now;
	struct cell c;

	full_cell(&c, "temporary");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	ck_assert_msg(matrix_edit_remove_cell(path, "temporary", &err) == 0,
		      "%s",
		      err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, orig);
	cell_release(&c);
	free(orig);
	free(now);
	free(path);
	strbuf_release(&err);
}
END_TEST

/* The trees and builds of the file at path, compared with the fixture's. */
static void ck_trees_builds_kept(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct matrix m;
	char *want;

	ck_assert_msg(matrix_load(&m, path, &err) == 0, "%s", err.buf);
	ck_assert_uint_eq(m.n_trees, 2);
	ck_assert_str_eq(m.trees[0].name, "local");
	want = xstrfmt("%s/../linux", tmpdir);
	ck_assert_str_eq(m.trees[0].path, want);
	free(want);
	CK_LIST(m.trees[1].branches, m.trees[1].n_branches, "master",
		"for-next");
	ck_assert_uint_eq(m.n_builds, 2);
	ck_assert_str_eq(m.builds[0].name, "tiny");
	ck_assert_str_eq(m.builds[1].name, "full");
	ck_assert_uint_eq(m.builds[1].timeout_s, 7200);
	ck_assert_uint_eq(m.builds[1].n_fragments, 2);
	matrix_release(&m);
	strbuf_release(&err);
}

START_TEST(test_add_with_trees_builds)
{
	static const char last_line[] =
		"    memory: 512  # the last line of the last cell\n";
	struct strbuf err = STRBUF_INIT, item = STRBUF_INIT;
	char *path = tmp_copy("matrix-trees.yaml");
	char *orig = read_all(path), *now;
	size_t at, olen = strlen(orig);
	struct matrix m;
	struct cell c;

	full_cell(&c, "added");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);

	/*
	 * At the end of the cells, not of the file (which ends with the
	 * builds): every other byte is kept.
	 */
	ck_assert_ptr_nonnull(strstr(orig, last_line));
	at = (size_t)(strstr(orig, last_line) - orig) + strlen(last_line);
	ck_assert_ptr_nonnull(strstr(orig + at, "builds:"));
	cell_format_yaml(&c, 2, &item);
	ck_assert_uint_eq(strlen(now), olen + item.len);
	ck_assert_int_eq(memcmp(now, orig, at), 0);
	ck_assert_int_eq(memcmp(now + at, item.buf, item.len), 0);
	ck_assert_str_eq(now + at + item.len, orig + at);

	ck_assert_msg(matrix_load(&m, path, &err) == 0, "%s", err.buf);
	ck_assert_uint_eq(m.n_cells, 3);
	ck_cells_equal(&m.cells[2], &c);
	matrix_release(&m);
	ck_trees_builds_kept(path);

	/* Removing it gives back the original, byte for byte. */
	ck_assert_msg(matrix_edit_remove_cell(path, "added", &err) == 0, "%s",
		      err.buf);
	free(now);
	now = read_all(path);
	ck_assert_str_eq(now, orig);

	cell_release(&c);
	free(orig);
	free(now);
	free(path);
	strbuf_release(&item);
	strbuf_release(&err);
}
END_TEST

static void check_remove_trees(const char *name, const char *cut,
			       const char *left)
{
	struct strbuf err = STRBUF_INIT;
	char *path = tmp_copy("matrix-trees.yaml");
	char *orig = read_all(path), *now, *want;
	struct matrix m;

	ck_assert_msg(matrix_edit_remove_cell(path, name, &err) == 0, "%s",
		      err.buf);
	now = read_all(path);
	want = without(orig, cut);
	ck_assert_str_eq(now, want);
	ck_assert_msg(matrix_load(&m, path, &err) == 0, "%s", err.buf);
	ck_assert_uint_eq(m.n_cells, 1);
	ck_assert_str_eq(m.cells[0].name, left);
	matrix_release(&m);
	ck_trees_builds_kept(path);
	free(orig);
	free(now);
	free(want);
	free(path);
	strbuf_release(&err);
}

START_TEST(test_remove_with_trees_builds)
{
	/* The last cell, just above the builds; the comment after it stays. */
	check_remove_trees("q35", "  - name: q35\n    machine: q35\n"
			   "    memory: 512  # the last line of the last "
			   "cell\n", "pc");
	/* The first cell, just under the trees. */
	check_remove_trees("pc", "  - name: pc\n    machine: pc\n\n", "q35");
}
END_TEST

START_TEST(test_edit_trees_builds_around)
{
	static const char text[] =
		"builds:\n- name: b\n  base: defconfig\n"
		"cells:\n- name: a\n"
		"trees:\n- name: t\n  path: /t\n";
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/m.yaml", tmpdir);
	struct cell c;
	char *now;

	/* Builds before the cells, trees after, all at column 0. */
	write_all(path, text);
	new_cell(&c, "nc", "64");
	ck_assert_msg(matrix_edit_add_cell(path, &c, &err) == 0, "%s", err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "builds:\n- name: b\n  base: defconfig\n"
			 "cells:\n- name: a\n- name: nc\n  memory: 64\n"
			 "trees:\n- name: t\n  path: /t\n");
	free(now);
	ck_assert_msg(matrix_edit_remove_cell(path, "nc", &err) == 0, "%s",
		      err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, text);
	free(now);

	/* The only cell goes: `cells: []`, the rest as it was. */
	ck_assert_msg(matrix_edit_remove_cell(path, "a", &err) == 0, "%s",
		      err.buf);
	now = read_all(path);
	ck_assert_str_eq(now, "builds:\n- name: b\n  base: defconfig\n"
			 "cells: []\ntrees:\n- name: t\n  path: /t\n");
	free(now);

	/* A broken build stops any edit, and the file stays as it is. */
	write_all(path, "cells:\n- name: a\nbuilds:\n- name: b\n");
	ck_assert_int_eq(matrix_edit_add_cell(path, &c, &err), -1);
	now = xstrfmt("%s:4:3: build 'b': needs a base (defconfig, "
		      "tinyconfig, allnoconfig or a path to a .config file)",
		      path);
	ck_assert_str_eq(err.buf, now);
	free(now);
	now = read_all(path);
	ck_assert_str_eq(now, "cells:\n- name: a\nbuilds:\n- name: b\n");
	free(now);

	cell_release(&c);
	free(path);
	strbuf_release(&err);
}
END_TEST

/* ---- interfaces: the path map and its section ---- */

START_TEST(test_interfaces_match)
{
	ck_assert(matrix_interfaces_match("arch/x86/xen/",
					  "arch/x86/xen/enlighten.c"));
	ck_assert(matrix_interfaces_match("arch/x86/xen/",
					  "arch/x86/xen/sub/dir.c"));
	ck_assert(!matrix_interfaces_match("arch/x86/xen/",
					   "arch/x86/xenon.c"));
	ck_assert(!matrix_interfaces_match("arch/x86/xen/", "arch/x86/xen"));
	ck_assert(matrix_interfaces_match("arch/x86/kernel/kvm*.c",
					  "arch/x86/kernel/kvmclock.c"));
	ck_assert(matrix_interfaces_match("arch/x86/kernel/kvm*.c",
					  "arch/x86/kernel/kvm.c"));
	/* A wildcard never crosses a '/'. */
	ck_assert(!matrix_interfaces_match("arch/x86/kernel/kvm*.c",
					   "arch/x86/kernel/kvm/x.c"));
	ck_assert(!matrix_interfaces_match("arch/x86/kernel/cpu/vmware.c",
					   "arch/x86/kernel/cpu/vmware.h"));
	/* A directory with a wildcard: any leading directory. */
	ck_assert(matrix_interfaces_match("drivers/*/xen/",
					  "drivers/net/xen/netfront.c"));
	ck_assert(!matrix_interfaces_match("drivers/*/xen/",
					   "drivers/net/xen-netfront.c"));
	ck_assert(!matrix_interfaces_match("", "README"));
}
END_TEST

static const char kinds_yaml[] =
	"cells:\n"
	"  - name: plain\n"
	"  - name: vmw\n    machine: pc,vmport=on\n"
	"  - name: vmport-off\n    machine: pc,vmport=off\n"
	"  - name: dom0\n    backend: xen\n    xen: \"4.17\"\n"
	"  - name: guest\n    backend: xen-libxl\n    xen: \"4.17\"\n"
	"  - name: kvm\n    accel: kvm\n    cpu: host\n"
	"  - name: hv\n    accel: kvm\n    cpu: host,hv-relaxed\n";

START_TEST(test_interfaces_kinds)
{
	struct matrix m;

	load_ok(&m, kinds_yaml);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[0]), 0);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[1]),
			  1u << MATRIX_KIND_VMWARE);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[2]), 0);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[3]),
			  1u << MATRIX_KIND_XEN);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[4]),
			  1u << MATRIX_KIND_XEN);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[5]),
			  1u << MATRIX_KIND_KVM);
	ck_assert_uint_eq(matrix_interfaces_kinds(&m.cells[6]),
			  1u << MATRIX_KIND_HYPERV);
	ck_assert_int_eq(matrix_interfaces_kind_find("xen"), MATRIX_KIND_XEN);
	ck_assert_int_eq(matrix_interfaces_kind_find("qemu"), -1);
	matrix_release(&m);
}
END_TEST

static int touched(const struct matrix *m, const char *cell,
		   const char *path)
{
	char *paths[] = { (char *)"MAINTAINERS", (char *)path };

	return matrix_interfaces_touched(m, matrix_find(m, cell), paths, 2);
}

START_TEST(test_interfaces_default_map)
{
	struct matrix m;

	load_ok(&m, kinds_yaml);
	ck_assert(touched(&m, "dom0", "arch/x86/xen/enlighten_pv.c"));
	ck_assert(touched(&m, "guest", "drivers/xen/events/events_base.c"));
	ck_assert(touched(&m, "guest", "include/xen/interface/xen.h"));
	ck_assert(!touched(&m, "vmw", "arch/x86/xen/enlighten_pv.c"));
	ck_assert(!touched(&m, "plain", "arch/x86/xen/enlighten_pv.c"));
	ck_assert(touched(&m, "vmw", "arch/x86/kernel/cpu/vmware.c"));
	ck_assert(!touched(&m, "dom0", "arch/x86/kernel/cpu/vmware.c"));
	ck_assert(touched(&m, "kvm", "arch/x86/kernel/kvmclock.c"));
	ck_assert(touched(&m, "kvm", "arch/x86/include/asm/kvm_para.h"));
	ck_assert(!touched(&m, "hv", "arch/x86/kernel/kvmclock.c"));
	ck_assert(touched(&m, "hv", "drivers/hv/vmbus_drv.c"));
	/* The detection every kind goes through. */
	ck_assert(touched(&m, "vmw", "arch/x86/kernel/cpu/hypervisor.c"));
	ck_assert(touched(&m, "dom0", "arch/x86/kernel/cpu/hypervisor.c"));
	ck_assert(!touched(&m, "plain", "arch/x86/kernel/cpu/hypervisor.c"));
	ck_assert(!touched(&m, "dom0", "Documentation/xen.rst"));
	matrix_release(&m);
}
END_TEST

START_TEST(test_interfaces_section)
{
	struct matrix m;
	struct strbuf sb = STRBUF_INIT;

	/* A kind's key replaces its paths; a glob's adds to its cells. */
	strbuf_addstr(&sb, kinds_yaml);
	strbuf_addstr(&sb, "interfaces:\n"
		      "  xen: [drivers/xen/]\n"
		      "  vmware:\n"
		      "  \"p*\": Documentation/\n"
		      "  dom0: [arch/x86/boot/*.S]\n");
	load_ok(&m, sb.buf);
	ck_assert_uint_eq(m.n_interfaces, 4);
	ck_assert_int_eq(m.interfaces[0].kind, MATRIX_KIND_XEN);
	ck_assert_int_eq(m.interfaces[2].kind, -1);
	ck_assert_uint_eq(m.interfaces[2].line, 22);
	ck_assert_uint_eq(m.interfaces[2].column, 3);
	ck_assert(!touched(&m, "dom0", "arch/x86/xen/enlighten_pv.c"));
	ck_assert(touched(&m, "guest", "drivers/xen/xenbus/x.c"));
	ck_assert(!touched(&m, "vmw", "arch/x86/kernel/cpu/vmware.c"));
	ck_assert(touched(&m, "plain", "Documentation/index.rst"));
	ck_assert(!touched(&m, "vmw", "Documentation/index.rst"));
	ck_assert(touched(&m, "dom0", "arch/x86/boot/header.S"));
	ck_assert(!touched(&m, "guest", "arch/x86/boot/header.S"));
	/* Kinds not given keep their built-in paths. */
	ck_assert(touched(&m, "kvm", "arch/x86/kernel/kvm.c"));
	matrix_release(&m);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_interfaces_errors)
{
	ck_load_error("cells:\n  - name: a\ninterfaces:\n  b*: [x/]\n",
		      "t.yaml:4:3: interfaces: 'b*' is no kind (xen, vmware, "
		      "kvm, hyperv) and matches no cell");
	ck_load_error("cells:\n  - name: a\ninterfaces: [xen]\n",
		      "t.yaml:3:13: interfaces: expected a mapping of kinds "
		      "(xen, vmware, kvm, hyperv) or cell globs to paths, got "
		      "a list");
	ck_load_error("cells:\n  - name: a\ninterfaces:\n  xen: [/abs]\n",
		      "t.yaml:4:9: interfaces: xen: expected a path relative "
		      "to the tree's top (a trailing / for a directory), got "
		      "\"/abs\"");
	ck_load_error("cells:\n  - name: a\ninterfaces:\n  xen: [a/../b]\n",
		      "t.yaml:4:9: interfaces: xen: expected a path without . "
		      "or .. components, got \"a/../b\"");
	ck_load_error("cells:\n  - name: a\ninterfaces:\n  xen: {a: b}\n",
		      "t.yaml:4:8: interfaces: xen: expected a path or a list "
		      "of paths, got a mapping");
	ck_load_error("cells:\n  - name: a\ninterfaces:\n  xen: [x/]\n"
		      "  xen: [y/]\n",
		      "t.yaml:5:3: duplicate key 'xen' (first defined at "
		      "line 4)");
}
END_TEST

static Suite *matrix_suite(void)
{
	Suite *s = suite_create("matrix");
	TCase *tc = tcase_create("cell");

	tcase_add_test(tc, test_cell_defaults);
	tcase_add_test(tc, test_cell_set_values);
	tcase_add_test(tc, test_cell_validate);
	tcase_add_test(tc, test_cell_yaml_round_trip);
	tcase_add_test(tc, test_cell_json);
	tcase_add_test(tc, test_cell_log_limit);
	tcase_add_test(tc, test_xen_cells);
	tcase_add_test(tc, test_executor);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_load_valid);
	tcase_add_test(tc, test_load_empty_lists);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_interfaces_match);
	tcase_add_test(tc, test_interfaces_kinds);
	tcase_add_test(tc, test_interfaces_default_map);
	tcase_add_test(tc, test_interfaces_section);
	tcase_add_test(tc, test_interfaces_errors);
	tcase_add_test(tc, test_executor_spec);
	tcase_add_test(tc, test_load_error_from_file);
	tcase_add_test(tc, test_default_path);
	tcase_add_test(tc, test_names_rejected);
	tcase_add_test(tc, test_names_one_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("trees-builds");
	tcase_add_test(tc, test_trees_builds_valid);
	tcase_add_test(tc, test_trees_builds_relative);
	tcase_add_test(tc, test_trees_credentials);
	tcase_add_test(tc, test_trees_builds_find);
	tcase_add_test(tc, test_trees_builds_optional);
	tcase_add_test(tc, test_trees_errors);
	tcase_add_test(tc, test_builds_errors);
	tcase_add_test(tc, test_build_ccache);
	tcase_add_test(tc, test_test_policy_and_confirm);
	tcase_add_test(tc, test_trees_builds_error_untouched);
	suite_add_tcase(s, tc);

	tc = tcase_create("edit");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_add_keeps_text);
	tcase_add_test(tc, test_add_duplicate_refused);
	tcase_add_test(tc, test_add_invalid_file_refused);
	tcase_add_test(tc, test_add_new_file);
	tcase_add_test(tc, test_add_into_empty_flow);
	tcase_add_test(tc, test_add_other_layouts);
	tcase_add_test(tc, test_remove_middle);
	tcase_add_test(tc, test_remove_first);
	tcase_add_test(tc, test_remove_last);
	tcase_add_test(tc, test_remove_only_and_missing);
	tcase_add_test(tc, test_add_then_remove_restores);
	tcase_add_test(tc, test_add_with_trees_builds);
	tcase_add_test(tc, test_remove_with_trees_builds);
	tcase_add_test(tc, test_edit_trees_builds_around);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(matrix_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
