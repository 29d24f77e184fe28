/*
 * cell-format: a cell written out, as YAML `matrix edit` saves and loads
 * back unchanged, and as the JSON of `matrix list --json`. Validity is
 * cell.c's; this module only writes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "matrix/cell.h"
#include "matrix/cell-probes.h"
#include "lib/xmalloc.h"

/*
 * Can s be written as a plain YAML scalar and read back as the same
 * string, by libyaml and by YAML 1.1 readers that turn yes/no/on/off into
 * booleans and digits into numbers?
 */
static int yaml_plain_ok(const char *s)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null",
	};
	size_t i;

	if (!*s || s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789._/+=-")])
		return 0;
	if (strchr("-+.=0123456789", s[0]))
		return 0;
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return 0;
	return 1;
}

static void yaml_add_str(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (yaml_plain_ok(s)) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '"');
	while (*p) {
		uint32_t cp;
		size_t n = cell_utf8_len(p, &cp);

		if (!n) {
			/* Not UTF-8: libyaml could not read it back anyway. */
			strbuf_addf(out, "\\x%02x", *p++);
			continue;
		}
		if (cp == '"' || cp == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (int)cp);
		} else if (cp == '\n') {
			strbuf_addstr(out, "\\n");
		} else if (cp == '\t') {
			strbuf_addstr(out, "\\t");
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			strbuf_addf(out, "\\x%02x", (unsigned)cp);
		} else if (cp == 0xfeff || cp == 0xfffe || cp == 0xffff) {
			/* libyaml refuses these unescaped. */
			strbuf_addf(out, "\\u%04x", (unsigned)cp);
		} else {
			strbuf_add(out, p, n);
		}
		p += n;
	}
	strbuf_addch(out, '"');
}

static void yaml_add_list(struct strbuf *out, int indent, const char *key,
			  char *const *arr, size_t n)
{
	struct strbuf flow = STRBUF_INIT;
	size_t i;

	/* One line when it fits in 80 columns, else one item per line. */
	strbuf_addf(&flow, "%*s  %s: [", indent, "", key);
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(&flow, ", ");
		yaml_add_str(&flow, arr[i]);
	}
	strbuf_addstr(&flow, "]\n");
	if (flow.len <= 81) {
		strbuf_add(out, flow.buf, flow.len);
		goto out;
	}
	strbuf_addf(out, "%*s  %s:\n", indent, "", key);
	for (i = 0; i < n; i++) {
		strbuf_addf(out, "%*s    - ", indent, "");
		yaml_add_str(out, arr[i]);
		strbuf_addch(out, '\n');
	}
out:
	strbuf_release(&flow);
}

static void yaml_add_key_str(struct strbuf *out, int indent, const char *key,
			     const char *value)
{
	strbuf_addf(out, "%*s  %s: ", indent, "", key);
	yaml_add_str(out, value);
	strbuf_addch(out, '\n');
}

static void yaml_add_key_uint(struct strbuf *out, int indent,
			      const char *key, unsigned value)
{
	strbuf_addf(out, "%*s  %s: %u\n", indent, "", key, value);
}

/* A size in the shortest form set_log_limit() reads back: 16M, 65536. */
static void yaml_add_key_size(struct strbuf *out, int indent,
			      const char *key, size_t value)
{
	static const char units[] = "GMK";
	size_t i;

	for (i = 0; i < 3; i++) {
		size_t unit = (size_t)1 << (10 * (3 - i));

		if (value && !(value % unit)) {
			strbuf_addf(out, "%*s  %s: %zu%c\n", indent, "", key,
				    value / unit, units[i]);
			return;
		}
	}
	strbuf_addf(out, "%*s  %s: %zu\n", indent, "", key, value);
}

void cell_format_yaml(const struct cell *c, int indent, struct strbuf *out)
{
	strbuf_addf(out, "%*s- name: ", indent, "");
	yaml_add_str(out, c->name ? c->name : "");
	strbuf_addch(out, '\n');
	if (c->description)
		yaml_add_key_str(out, indent, "description", c->description);
	if (c->backend != CELL_BACKEND_QEMU)
		yaml_add_key_str(out, indent, "backend",
				 cell_backend_name(c->backend));
	if (c->qemu && strcmp(c->qemu, CELL_DEFAULT_QEMU))
		yaml_add_key_str(out, indent, "qemu", c->qemu);
	if (c->accel != CELL_ACCEL_TCG)
		yaml_add_key_str(out, indent, "accel",
				 cell_accel_name(c->accel));
	if (c->machine && strcmp(c->machine, CELL_DEFAULT_MACHINE))
		yaml_add_key_str(out, indent, "machine", c->machine);
	if (c->cpu && strcmp(c->cpu, CELL_DEFAULT_CPU))
		yaml_add_key_str(out, indent, "cpu", c->cpu);
	if (c->memory_mb != CELL_DEFAULT_MEMORY_MB)
		yaml_add_key_uint(out, indent, "memory", c->memory_mb);
	if (c->smp != CELL_DEFAULT_SMP)
		yaml_add_key_uint(out, indent, "smp", c->smp);
	if (c->n_qemu_args)
		yaml_add_list(out, indent, "qemu_args", c->qemu_args,
			      c->n_qemu_args);
	if (c->cmdline)
		yaml_add_key_str(out, indent, "cmdline", c->cmdline);
	if (c->timeout_s != CELL_DEFAULT_TIMEOUT_S)
		yaml_add_key_uint(out, indent, "timeout", c->timeout_s);
	if (c->silence_s != CELL_DEFAULT_SILENCE_S)
		yaml_add_key_uint(out, indent, "silence", c->silence_s);
	if (c->log_limit != CELL_DEFAULT_LOG_LIMIT)
		yaml_add_key_size(out, indent, "log_limit", c->log_limit);
	if (c->confirm >= 0)
		yaml_add_key_uint(out, indent, "confirm", (unsigned)c->confirm);
	if (c->n_expect)
		yaml_add_list(out, indent, "expect", c->expect, c->n_expect);
	if (c->requires & CELL_REQUIRE_KVM)
		strbuf_addf(out, "%*s  requires: [kvm]\n", indent, "");
	if (c->xen)
		yaml_add_key_str(out, indent, "xen", c->xen);
	if (c->xen_cmdline)
		yaml_add_key_str(out, indent, "xen_cmdline", c->xen_cmdline);
	if (c->guest != CELL_GUEST_PV)
		yaml_add_key_str(out, indent, "guest",
				 cell_guest_name(c->guest));
	if (c->executor != CELL_EXECUTOR_DEFAULT)
		yaml_add_key_str(out, indent, "executor",
				 cell_executor_name(c->executor));
	if (c->probes_set)
		yaml_add_list(out, indent, "probes", c->probes, c->n_probes);
	if (c->clock_tolerance != 0)
		strbuf_addf(out, "%*s  clock_tolerance: %g\n", indent, "",
			    c->clock_tolerance);
	if (c->migrate_to)
		yaml_add_key_str(out, indent, "migrate_to", c->migrate_to);
}

static void json_add_list(struct strbuf *out, char *const *arr, size_t n)
{
	size_t i;

	strbuf_addch(out, '[');
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		strbuf_add_json_str(out, arr[i]);
	}
	strbuf_addch(out, ']');
}

void cell_format_json(const struct cell *c, struct strbuf *out)
{
	const char *probes[CELL_PROBES_MAX];
	size_t n;

	strbuf_addstr(out, "{\"name\": ");
	strbuf_add_json_str(out, c->name);
	strbuf_addstr(out, ", \"description\": ");
	strbuf_add_json_str(out, c->description);
	strbuf_addstr(out, ", \"backend\": ");
	strbuf_add_json_str(out, cell_backend_name(c->backend));
	strbuf_addstr(out, ", \"qemu\": ");
	strbuf_add_json_str(out, c->qemu);
	strbuf_addstr(out, ", \"accel\": ");
	strbuf_add_json_str(out, cell_accel_name(c->accel));
	strbuf_addstr(out, ", \"machine\": ");
	strbuf_add_json_str(out, c->machine);
	strbuf_addstr(out, ", \"cpu\": ");
	strbuf_add_json_str(out, c->cpu);
	strbuf_addf(out, ", \"memory\": %u, \"smp\": %u", c->memory_mb, c->smp);
	strbuf_addstr(out, ", \"qemu_args\": ");
	json_add_list(out, c->qemu_args, c->n_qemu_args);
	strbuf_addstr(out, ", \"cmdline\": ");
	strbuf_add_json_str(out, c->cmdline);
	strbuf_addf(out, ", \"timeout\": %u, \"silence\": %u", c->timeout_s,
		    c->silence_s);
	strbuf_addf(out, ", \"log_limit\": %zu", c->log_limit);
	if (c->confirm >= 0)
		strbuf_addf(out, ", \"confirm\": %d", c->confirm);
	else
		strbuf_addstr(out, ", \"confirm\": null");
	strbuf_addstr(out, ", \"expect\": ");
	json_add_list(out, c->expect, c->n_expect);
	strbuf_addstr(out, ", \"requires\": [");
	if (c->requires & CELL_REQUIRE_KVM)
		strbuf_addstr(out, "\"kvm\"");
	strbuf_addstr(out, "], \"xen\": ");
	strbuf_add_json_str(out, c->xen);
	strbuf_addstr(out, ", \"xen_cmdline\": ");
	strbuf_add_json_str(out, c->xen_cmdline);
	strbuf_addstr(out, ", \"guest\": ");
	strbuf_add_json_str(out, c->backend == CELL_BACKEND_XEN_LIBXL ?
			    cell_guest_name(c->guest) : NULL);
	strbuf_addstr(out, ", \"executor\": ");
	strbuf_add_json_str(out, cell_executor_name(c->executor));
	n = cell_probes_effective(c, probes);
	strbuf_addstr(out, ", \"probes\": ");
	json_add_list(out, (char *const *)probes, n);
	strbuf_addf(out, ", \"clock_tolerance\": %g", c->clock_tolerance ?
		    c->clock_tolerance : CELL_DEFAULT_CLOCK_TOLERANCE);
	strbuf_addstr(out, ", \"migrate_to\": ");
	strbuf_add_json_str(out, c->migrate_to);
	strbuf_addch(out, '}');
}
