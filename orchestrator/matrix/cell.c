/*
 * cell: the settings of one cell, their defaults, and the only code that
 * decides whether a value is valid. The matrix loader and the CLI both go
 * through cell_set(), so a value the CLI accepts is one the loader accepts.
 * This module never starts anything and never touches files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "matrix/cell.h"
#include "matrix/cell-probes.h"
#include "lib/fsutil.h"
#include "lib/xmalloc.h"

#define CELL_MEMORY_MIN 16u
#define CELL_MEMORY_MAX 65536u
#define CELL_SMP_MAX 64u
#define CELL_SECONDS_MAX 86400u
/* Below 64 KiB a boot's log is cut before the kernel is up. */
#define CELL_LOG_LIMIT_MIN (64u << 10)
#define CELL_LOG_LIMIT_MAX (1u << 30)

/* Longest value quoted back in an error message. */
#define ERR_VALUE_MAX 60

/*
 * QEMU options hvmatrix passes itself: a cell that repeated one would
 * silently fight with the harness (two -m, a second -serial that steals
 * the console the judge reads). `use` names the setting to use instead.
 */
static const struct {
	const char *word;
	const char *use;
} reserved_args[] = {
	{ "-kernel", NULL },
	{ "-initrd", NULL },
	{ "-append", "cmdline" },
	{ "-serial", NULL },
	{ "-nographic", NULL },
	{ "-display", NULL },
	{ "-no-reboot", NULL },
	{ "-sandbox", NULL },
	{ "-accel", "accel" },
	{ "-enable-kvm", "accel" },
	{ "-machine", "machine" },
	{ "-M", "machine" },
	{ "-cpu", "cpu" },
	{ "-m", "memory" },
	{ "-smp", "smp" },
};

/* Append s for an error message: quoted, escaped, shortened. */
static void add_value(struct strbuf *sb, const char *s)
{
	strbuf_add_quoted(sb, s, ERR_VALUE_MAX);
}

static int bad_value(struct strbuf *err, const char *key, const char *what,
		     const char *value)
{
	strbuf_addf(err, "%s: expected %s, got ", key, what);
	add_value(err, value);
	return -1;
}

/* Length of the UTF-8 sequence at s (of a string), 0 if ill-formed. */
size_t cell_utf8_len(const unsigned char *s, uint32_t *cp)
{
	size_t n = strbuf_utf8_decode(s, strnlen((const char *)s, 4), 0, cp);

	return *cp == STRBUF_UTF8_BAD ? 0 : n;
}

/*
 * String settings are UTF-8 text without control characters: a newline in
 * a machine type or an expectation is always a mistake, and control
 * characters would garble `matrix list` and the dashboard. Only free text
 * (the description, maybe a YAML block scalar) may have newlines and tabs.
 */
static int check_text_ws(const char *key, const char *s, int free_text,
			 struct strbuf *err)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		size_t n = cell_utf8_len(p, &cp);

		if (!n) {
			strbuf_addf(err, "%s: not valid UTF-8", key);
			return -1;
		}
		if (free_text && (*p == '\n' || *p == '\t')) {
			p++;
			continue;
		}
		if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
			strbuf_addf(err, "%s: control characters are not "
				    "allowed, got ", key);
			add_value(err, s);
			return -1;
		}
		p += n;
	}
	return 0;
}

static int check_text(const char *key, const char *s, struct strbuf *err)
{
	return check_text_ws(key, s, 0, err);
}

/* A word QEMU gets as one argument: no blanks, no empty string. */
static int check_word(const char *key, const char *s, const char *what,
		      struct strbuf *err)
{
	if (check_text(key, s, err))
		return -1;
	if (!*s || strpbrk(s, " \t"))
		return bad_value(err, key, what, s);
	return 0;
}

static int check_qemu_arg(const char *s, struct strbuf *err)
{
	const char *opt = s;
	size_t i;

	if (check_text("qemu_args", s, err))
		return -1;
	if (!*s) {
		strbuf_addstr(err, "qemu_args: empty argument");
		return -1;
	}
	/* QEMU reads "--m" as "-m". */
	if (opt[0] == '-' && opt[1] == '-')
		opt++;
	for (i = 0; i < ARRAY_SIZE(reserved_args); i++) {
		if (strcmp(opt, reserved_args[i].word))
			continue;
		strbuf_addf(err, "qemu_args: \"%s\" is set by hvmatrix", s);
		if (reserved_args[i].use)
			strbuf_addf(err, "; use the '%s' setting instead",
				    reserved_args[i].use);
		else
			strbuf_addstr(err, " and cannot be overridden");
		return -1;
	}
	return 0;
}

static int check_cmdline(const char *s, struct strbuf *err)
{
	if (check_text("cmdline", s, err))
		return -1;
	/* The guest finds its run nonce and agent settings by these. */
	if (strstr(s, "hvmatrix.")) {
		strbuf_addstr(err, "cmdline: \"hvmatrix.\" is reserved for "
			      "the parameters hvmatrix passes itself");
		return -1;
	}
	if (strstr(s, "HVMATRIX")) {
		strbuf_addstr(err, "cmdline: \"HVMATRIX\" is reserved for the "
			      "run nonce");
		return -1;
	}
	return 0;
}

/*
 * An expectation is a console string, or a fact the judge checks without
 * any kernel's wording (judge/expect.c, whose vocabulary this mirrors:
 * the matrix sits below the judge): hypervisor= and guest_type=.
 */
static int check_expect(const char *s, struct strbuf *err)
{
	static const char *const hvs[] = {
		"xen", "kvm", "vmware", "hyperv", "none",
	};
	static const char *const gts[] = { "PV", "PVH", "HVM" };
	size_t i;

	if (check_text("expect", s, err))
		return -1;
	if (!*s) {
		strbuf_addstr(err, "expect: expected a non-empty string");
		return -1;
	}
	if (!strncmp(s, "hypervisor=", 11)) {
		for (i = 0; i < ARRAY_SIZE(hvs); i++)
			if (!strcasecmp(s + 11, hvs[i]))
				return 0;
		strbuf_addstr(err, "expect: hypervisor= expects xen, kvm, "
			      "vmware, hyperv or none");
		return -1;
	}
	if (!strncmp(s, "guest_type=", 11)) {
		for (i = 0; i < ARRAY_SIZE(gts); i++)
			if (!strcasecmp(s + 11, gts[i]))
				return 0;
		strbuf_addstr(err, "expect: guest_type= expects PV, PVH or "
			      "HVM");
		return -1;
	}
	return 0;
}

/*
 * Parse a decimal number of at most 10 digits (no sign, no blanks), then
 * an optional unit from units[] (NULL-terminated, with multipliers): 10
 * digits times any unsigned multiplier fits in 64 bits.
 */
static int parse_uint(const char *s, const char *const *units,
		      const unsigned *mult, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t n = 0, i;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 10)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (!n)
		return -1;
	if (!s[n]) {
		*out = v;
		return 0;
	}
	for (i = 0; units && units[i]; i++) {
		if (!strcasecmp(s + n, units[i])) {
			*out = v * mult[i];
			return 0;
		}
	}
	return -1;
}

static int set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = *value ? xstrdup(value) : NULL;
	return 0;
}

static void list_append(char ***arr, size_t *n, const char *value)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = xstrdup(value);
}

static int set_name(struct cell *c, const char *v, struct strbuf *err)
{
	/* It names the cell's console log files. */
	if (fsutil_check_name(v, err))
		return -1;
	return set_str(&c->name, v);
}

static int set_description(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_text_ws("description", v, 1, err))
		return -1;
	return set_str(&c->description, v);
}

static int set_backend(struct cell *c, const char *v, struct strbuf *err)
{
	if (!strcmp(v, "qemu"))
		c->backend = CELL_BACKEND_QEMU;
	else if (!strcmp(v, "xen"))
		c->backend = CELL_BACKEND_XEN;
	else if (!strcmp(v, "xen-libxl"))
		c->backend = CELL_BACKEND_XEN_LIBXL;
	else
		return bad_value(err, "backend", "qemu, xen or xen-libxl", v);
	return 0;
}

static int set_guest(struct cell *c, const char *v, struct strbuf *err)
{
	if (!strcmp(v, "pv"))
		c->guest = CELL_GUEST_PV;
	else if (!strcmp(v, "pvh"))
		c->guest = CELL_GUEST_PVH;
	else if (!strcmp(v, "hvm"))
		c->guest = CELL_GUEST_HVM;
	else
		return bad_value(err, "guest", "pv, pvh or hvm", v);
	return 0;
}

static int set_xen(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_word("xen", v, "a Xen build name or path without blanks",
		       err))
		return -1;
	return set_str(&c->xen, v);
}

static int set_xen_cmdline(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_text("xen_cmdline", v, err))
		return -1;
	return set_str(&c->xen_cmdline, v);
}

static int set_qemu(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_word("qemu", v, "a program name or path without blanks "
		       "(arguments go in qemu_args)", err))
		return -1;
	return set_str(&c->qemu, v);
}

static int set_accel(struct cell *c, const char *v, struct strbuf *err)
{
	if (!strcmp(v, "tcg"))
		c->accel = CELL_ACCEL_TCG;
	else if (!strcmp(v, "kvm"))
		c->accel = CELL_ACCEL_KVM;
	else
		return bad_value(err, "accel", "tcg or kvm", v);
	return 0;
}

static int set_machine(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_word("machine", v, "a QEMU machine type without blanks "
		       "(e.g. pc, q35, pc,vmport=on)", err))
		return -1;
	return set_str(&c->machine, v);
}

static int set_cpu(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_word("cpu", v, "a QEMU CPU model without blanks "
		       "(e.g. max, qemu64, max,-hypervisor)", err))
		return -1;
	return set_str(&c->cpu, v);
}

static int set_memory(struct cell *c, const char *v, struct strbuf *err)
{
	static const char *const units[] = {
		"M", "MB", "MiB", "G", "GB", "GiB", NULL
	};
	static const unsigned mult[] = { 1, 1, 1, 1024, 1024, 1024 };
	unsigned long long mb;

	if (parse_uint(v, units, mult, &mb) || mb < CELL_MEMORY_MIN ||
	    mb > CELL_MEMORY_MAX)
		return bad_value(err, "memory", "an integer in MiB between 16 "
				 "and 65536", v);
	c->memory_mb = (unsigned)mb;
	return 0;
}

static int set_smp(struct cell *c, const char *v, struct strbuf *err)
{
	unsigned long long n;

	if (parse_uint(v, NULL, NULL, &n) || n < 1 || n > CELL_SMP_MAX)
		return bad_value(err, "smp", "an integer between 1 and 64", v);
	c->smp = (unsigned)n;
	return 0;
}

static int parse_seconds(const char *key, const char *v, unsigned *out,
			 struct strbuf *err)
{
	unsigned long long n;

	if (parse_uint(v, NULL, NULL, &n) || n < 1 || n > CELL_SECONDS_MAX)
		return bad_value(err, key, "an integer number of seconds "
				 "between 1 and 86400", v);
	*out = (unsigned)n;
	return 0;
}

static int set_confirm(struct cell *c, const char *v, struct strbuf *err)
{
	unsigned long long n;

	if (parse_uint(v, NULL, NULL, &n) || n > CELL_CONFIRM_MAX)
		return bad_value(err, "confirm", "an integer between 0 and 20 "
				 "(runs more a new FAIL needs)", v);
	c->confirm = (int)n;
	return 0;
}

static int set_timeout(struct cell *c, const char *v, struct strbuf *err)
{
	return parse_seconds("timeout", v, &c->timeout_s, err);
}

static int set_silence(struct cell *c, const char *v, struct strbuf *err)
{
	return parse_seconds("silence", v, &c->silence_s, err);
}

static int set_log_limit(struct cell *c, const char *v, struct strbuf *err)
{
	static const char *const units[] = {
		"K", "KiB", "M", "MiB", "G", "GiB", NULL
	};
	static const unsigned mult[] = {
		1u << 10, 1u << 10, 1u << 20, 1u << 20, 1u << 30, 1u << 30
	};
	unsigned long long n;

	if (parse_uint(v, units, mult, &n) || n < CELL_LOG_LIMIT_MIN ||
	    n > CELL_LOG_LIMIT_MAX)
		return bad_value(err, "log_limit", "a number of bytes between "
				 "64K and 1G (K, M, G: KiB, MiB, GiB)", v);
	c->log_limit = (size_t)n;
	return 0;
}

static int set_qemu_args(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_qemu_arg(v, err))
		return -1;
	list_append(&c->qemu_args, &c->n_qemu_args, v);
	return 0;
}

static int set_cmdline(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_cmdline(v, err))
		return -1;
	return set_str(&c->cmdline, v);
}

static int set_expect(struct cell *c, const char *v, struct strbuf *err)
{
	if (check_expect(v, err))
		return -1;
	list_append(&c->expect, &c->n_expect, v);
	return 0;
}

static int set_requires(struct cell *c, const char *v, struct strbuf *err)
{
	if (strcmp(v, "kvm")) {
		strbuf_addstr(err, "requires: unknown requirement ");
		add_value(err, v);
		strbuf_addstr(err, " (known: kvm)");
		return -1;
	}
	c->requires |= CELL_REQUIRE_KVM;
	return 0;
}

static int set_executor(struct cell *c, const char *v, struct strbuf *err)
{
	if (!strcmp(v, "local"))
		c->executor = CELL_EXECUTOR_LOCAL;
	else if (!strcmp(v, "slurm"))
		c->executor = CELL_EXECUTOR_SLURM;
	else
		return bad_value(err, "executor", "local or slurm", v);
	return 0;
}

static const struct cell_key {
	const char *name;
	int is_list;
	int (*set)(struct cell *c, const char *value, struct strbuf *err);
} cell_keys[] = {
	{ "name", 0, set_name },
	{ "description", 0, set_description },
	{ "backend", 0, set_backend },
	{ "qemu", 0, set_qemu },
	{ "accel", 0, set_accel },
	{ "machine", 0, set_machine },
	{ "cpu", 0, set_cpu },
	{ "memory", 0, set_memory },
	{ "smp", 0, set_smp },
	{ "qemu_args", 1, set_qemu_args },
	{ "cmdline", 0, set_cmdline },
	{ "timeout", 0, set_timeout },
	{ "silence", 0, set_silence },
	{ "expect", 1, set_expect },
	{ "requires", 1, set_requires },
	{ "xen", 0, set_xen },
	{ "xen_cmdline", 0, set_xen_cmdline },
	{ "guest", 0, set_guest },
	{ "log_limit", 0, set_log_limit },
	{ "confirm", 0, set_confirm },
	{ "executor", 0, set_executor },
	{ "probes", 1, cell_probes_set },
	{ "clock_tolerance", 0, cell_probes_set_tolerance },
	{ "migrate_to", 0, cell_probes_set_migrate_to },
};

static const struct cell_key *find_key(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cell_keys); i++)
		if (!strcmp(cell_keys[i].name, key))
			return &cell_keys[i];
	return NULL;
}

void cell_init(struct cell *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = CELL_BACKEND_QEMU;
	c->qemu = xstrdup(CELL_DEFAULT_QEMU);
	c->accel = CELL_ACCEL_TCG;
	c->machine = xstrdup(CELL_DEFAULT_MACHINE);
	c->cpu = xstrdup(CELL_DEFAULT_CPU);
	c->memory_mb = CELL_DEFAULT_MEMORY_MB;
	c->smp = CELL_DEFAULT_SMP;
	c->timeout_s = CELL_DEFAULT_TIMEOUT_S;
	c->silence_s = CELL_DEFAULT_SILENCE_S;
	c->confirm = -1;
	c->log_limit = CELL_DEFAULT_LOG_LIMIT;
}

static void list_free(char **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

/* Leaves the cell zeroed: releasing twice is harmless. */
void cell_release(struct cell *c)
{
	free(c->name);
	free(c->description);
	free(c->qemu);
	free(c->machine);
	free(c->cpu);
	free(c->cmdline);
	free(c->xen);
	free(c->xen_cmdline);
	list_free(c->qemu_args, c->n_qemu_args);
	list_free(c->expect, c->n_expect);
	list_free(c->probes, c->n_probes);
	free(c->migrate_to);
	memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char **list_dup(char *const *arr, size_t n)
{
	char **copy;
	size_t i;

	if (!n)
		return NULL;
	copy = xmalloc(n * sizeof(*copy));
	for (i = 0; i < n; i++)
		copy[i] = xstrdup(arr[i]);
	return copy;
}

void cell_copy(struct cell *dst, const struct cell *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->description = dup_or_null(src->description);
	dst->qemu = dup_or_null(src->qemu);
	dst->machine = dup_or_null(src->machine);
	dst->cpu = dup_or_null(src->cpu);
	dst->cmdline = dup_or_null(src->cmdline);
	dst->xen = dup_or_null(src->xen);
	dst->xen_cmdline = dup_or_null(src->xen_cmdline);
	dst->qemu_args = list_dup(src->qemu_args, src->n_qemu_args);
	dst->expect = list_dup(src->expect, src->n_expect);
	dst->probes = list_dup(src->probes, src->n_probes);
	dst->migrate_to = dup_or_null(src->migrate_to);
}

int cell_set(struct cell *c, const char *key, const char *value,
	     struct strbuf *err)
{
	const struct cell_key *k = find_key(key);

	if (!k) {
		strbuf_addf(err, "unknown setting '%s'", key);
		return -1;
	}
	return k->set(c, value, err);
}

const char *cell_key_name(size_t i)
{
	return i < ARRAY_SIZE(cell_keys) ? cell_keys[i].name : NULL;
}

int cell_key_known(const char *key, int *is_list)
{
	const struct cell_key *k = find_key(key);

	if (is_list)
		*is_list = k ? k->is_list : 0;
	return k != NULL;
}

static int check_range(const char *key, unsigned v, unsigned lo,
		       unsigned hi, struct strbuf *err)
{
	if (v >= lo && v <= hi)
		return 0;
	strbuf_addf(err, "%s: %u is out of range (%u to %u)", key, v, lo, hi);
	return -1;
}

/*
 * Besides the checks across fields, re-check every field with the same
 * helpers cell_set() uses: a cell built in code (not through cell_set)
 * must not get past here with a value the loader would refuse. Every
 * message starts with the setting it is about, so that the loader can
 * point at it.
 */
int cell_validate(const struct cell *c, struct strbuf *err)
{
	size_t i;

	if (!c->name) {
		strbuf_addstr(err, "name: missing (every cell needs a name)");
		return -1;
	}
	if (fsutil_check_name(c->name, err))
		return -1;
	if (c->description &&
	    check_text_ws("description", c->description, 1, err))
		return -1;
	if (c->backend != CELL_BACKEND_QEMU && !cell_is_xen(c)) {
		strbuf_addstr(err, "backend: unknown backend");
		return -1;
	}
	if (cell_is_xen(c) && !c->xen) {
		strbuf_addstr(err, "xen: missing (a xen cell names its Xen "
			      "build, e.g. xen: \"4.17\")");
		return -1;
	}
	if (!cell_is_xen(c) && (c->xen || c->xen_cmdline)) {
		strbuf_addf(err, "%s: only for backends xen and xen-libxl",
			    c->xen ? "xen" : "xen_cmdline");
		return -1;
	}
	if (c->backend != CELL_BACKEND_XEN_LIBXL && c->guest != CELL_GUEST_PV) {
		strbuf_addstr(err, "guest: only for backend xen-libxl");
		return -1;
	}
	/* Under Xen the kernel's command line rides in QEMU's module list,
	 * where a comma separates modules. */
	if (c->backend == CELL_BACKEND_XEN && c->cmdline &&
	    strchr(c->cmdline, ',')) {
		strbuf_addstr(err, "cmdline: a xen cell's kernel command line "
			      "cannot contain ','");
		return -1;
	}
	if (c->accel != CELL_ACCEL_TCG && c->accel != CELL_ACCEL_KVM) {
		strbuf_addstr(err, "accel: unknown accelerator");
		return -1;
	}
	if (!c->qemu || !c->machine || !c->cpu) {
		strbuf_addf(err, "%s: missing", !c->qemu ? "qemu" :
			    !c->machine ? "machine" : "cpu");
		return -1;
	}
	if (check_word("qemu", c->qemu, "a program name or path without "
		       "blanks", err) ||
	    check_word("machine", c->machine, "a QEMU machine type without "
		       "blanks", err) ||
	    check_word("cpu", c->cpu, "a QEMU CPU model without blanks", err))
		return -1;
	if (check_range("memory", c->memory_mb, CELL_MEMORY_MIN,
			CELL_MEMORY_MAX, err) ||
	    check_range("smp", c->smp, 1, CELL_SMP_MAX, err) ||
	    check_range("timeout", c->timeout_s, 1, CELL_SECONDS_MAX, err) ||
	    check_range("silence", c->silence_s, 1, CELL_SECONDS_MAX, err))
		return -1;
	if (c->log_limit < CELL_LOG_LIMIT_MIN ||
	    c->log_limit > CELL_LOG_LIMIT_MAX) {
		strbuf_addf(err, "log_limit: %zu is out of range (%u to %u)",
			    c->log_limit, CELL_LOG_LIMIT_MIN,
			    CELL_LOG_LIMIT_MAX);
		return -1;
	}
	for (i = 0; i < c->n_qemu_args; i++)
		if (check_qemu_arg(c->qemu_args[i], err))
			return -1;
	if (c->cmdline && check_cmdline(c->cmdline, err))
		return -1;
	for (i = 0; i < c->n_expect; i++)
		if (check_expect(c->expect[i], err))
			return -1;
	if (c->requires & ~CELL_REQUIRE_KVM) {
		strbuf_addstr(err, "requires: unknown requirement");
		return -1;
	}
	if (cell_probes_check(c, err))
		return -1;
	/* A silence longer than the whole run could never fire. */
	if (c->silence_s > c->timeout_s) {
		strbuf_addf(err, "silence: %u s is longer than the timeout "
			    "(%u s)", c->silence_s, c->timeout_s);
		return -1;
	}
	return 0;
}

unsigned cell_required(const struct cell *c)
{
	unsigned r = c->requires;

	if (c->accel == CELL_ACCEL_KVM)
		r |= CELL_REQUIRE_KVM;
	return r;
}

const char *cell_accel_name(enum cell_accel a)
{
	switch (a) {
	case CELL_ACCEL_TCG:
		return "tcg";
	case CELL_ACCEL_KVM:
		return "kvm";
	}
	return "unknown";
}

const char *cell_backend_name(enum cell_backend b)
{
	switch (b) {
	case CELL_BACKEND_QEMU:
		return "qemu";
	case CELL_BACKEND_XEN:
		return "xen";
	case CELL_BACKEND_XEN_LIBXL:
		return "xen-libxl";
	}
	return "unknown";
}

const char *cell_guest_name(enum cell_guest g)
{
	switch (g) {
	case CELL_GUEST_PV:
		return "pv";
	case CELL_GUEST_PVH:
		return "pvh";
	case CELL_GUEST_HVM:
		return "hvm";
	}
	return "unknown";
}

const char *cell_executor_name(enum cell_executor e)
{
	switch (e) {
	case CELL_EXECUTOR_LOCAL:
		return "local";
	case CELL_EXECUTOR_SLURM:
		return "slurm";
	default:
		return NULL;
	}
}

int cell_is_xen(const struct cell *c)
{
	return c->backend == CELL_BACKEND_XEN ||
	       c->backend == CELL_BACKEND_XEN_LIBXL;
}
