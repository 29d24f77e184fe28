/*
 * matrix-interfaces: the `interfaces` section and the path map it
 * overrides (see matrix-interfaces.h). A kind's key replaces that kind's
 * built-in paths (an empty list turns the kind off); any other key is a
 * glob of cell names whose paths are added to the cells it matches, and
 * it must match one. The answers are cheap: a handful of fnmatch(3) calls
 * per changed path, and the caller caps the paths.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix-interfaces.h"
#include "matrix/matrix-sections.h"
#include "matrix/matrix-value.h"
#include "lib/xmalloc.h"

static const char *const kind_names[MATRIX_KIND_COUNT] = {
	[MATRIX_KIND_XEN] = "xen",
	[MATRIX_KIND_VMWARE] = "vmware",
	[MATRIX_KIND_KVM] = "kvm",
	[MATRIX_KIND_HYPERV] = "hyperv",
};

/*
 * The built-in map: where Linux keeps each interface's guest side. The
 * common detection code (hypervisor.c) picks between all of them, so it
 * is in every list.
 */
static const char *const xen_paths[] = {
	"arch/x86/xen/", "drivers/xen/", "include/xen/",
	"arch/x86/include/asm/xen/", "include/uapi/xen/",
	"arch/x86/kernel/cpu/hypervisor.c", "arch/x86/include/asm/hypervisor.h",
	NULL,
};
static const char *const vmware_paths[] = {
	"arch/x86/kernel/cpu/vmware.c", "arch/x86/include/asm/vmware.h",
	"arch/x86/kernel/cpu/hypervisor.c", "arch/x86/include/asm/hypervisor.h",
	NULL,
};
static const char *const kvm_paths[] = {
	"arch/x86/kernel/kvm*.c", "arch/x86/include/asm/kvm*",
	"arch/x86/include/uapi/asm/kvm_para.h",
	"include/linux/kvm_para.h", "include/uapi/linux/kvm_para.h",
	"arch/x86/kernel/cpu/hypervisor.c", "arch/x86/include/asm/hypervisor.h",
	NULL,
};
static const char *const hyperv_paths[] = {
	"arch/x86/hyperv/", "arch/x86/kernel/cpu/mshyperv.c",
	"arch/x86/include/asm/mshyperv.h", "include/asm-generic/mshyperv.h",
	"drivers/hv/",
	"arch/x86/kernel/cpu/hypervisor.c", "arch/x86/include/asm/hypervisor.h",
	NULL,
};

static const char *const *const default_paths[MATRIX_KIND_COUNT] = {
	[MATRIX_KIND_XEN] = xen_paths,
	[MATRIX_KIND_VMWARE] = vmware_paths,
	[MATRIX_KIND_KVM] = kvm_paths,
	[MATRIX_KIND_HYPERV] = hyperv_paths,
};

const char *matrix_interfaces_kind_name(unsigned kind)
{
	return kind < MATRIX_KIND_COUNT ? kind_names[kind] : NULL;
}

int matrix_interfaces_kind_find(const char *name)
{
	unsigned k;

	for (k = 0; k < MATRIX_KIND_COUNT; k++)
		if (!strcmp(kind_names[k], name))
			return (int)k;
	return -1;
}

/* Does the comma-separated option list s hold word (up to a comma)? */
static int has_option(const char *s, const char *word)
{
	size_t n = strlen(word);

	while (s && *s) {
		if (!strncmp(s, word, n) && (!s[n] || s[n] == ','))
			return 1;
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return 0;
}

/* A Hyper-V enlightenment among the cpu's flags ("host,hv-relaxed"). */
static int has_hv_flag(const char *cpu)
{
	const char *s = cpu;

	while (s && *s) {
		if (!strncmp(s, "hv-", 3) || !strncmp(s, "hv_", 3))
			return 1;
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return 0;
}

unsigned matrix_interfaces_kinds(const struct cell *c)
{
	unsigned kinds = 0;
	int hv = has_hv_flag(c->cpu);

	if (cell_is_xen(c))
		kinds |= 1u << MATRIX_KIND_XEN;
	if (has_option(c->machine, "vmport=on"))
		kinds |= 1u << MATRIX_KIND_VMWARE;
	if (hv)
		kinds |= 1u << MATRIX_KIND_HYPERV;
	else if (cell_required(c) & CELL_REQUIRE_KVM)
		kinds |= 1u << MATRIX_KIND_KVM;
	return kinds;
}

static int is_glob(const char *s)
{
	return s[strcspn(s, "*?[")] != '\0';
}

int matrix_interfaces_match(const char *pattern, const char *path)
{
	size_t plen = strlen(pattern);
	char *dir;
	const char *slash;
	int hit = 0;

	if (!plen)
		return 0;
	if (pattern[plen - 1] != '/')
		return fnmatch(pattern, path, FNM_PATHNAME) == 0;
	if (!is_glob(pattern))
		return !strncmp(pattern, path, plen);
	/* A directory with wildcards: each leading directory of path. */
	dir = xstrdup(path);
	for (slash = strchr(path, '/'); slash && !hit;
	     slash = strchr(slash + 1, '/')) {
		size_t n = (size_t)(slash - path) + 1;

		dir[n] = '\0';
		hit = fnmatch(pattern, dir, FNM_PATHNAME) == 0;
		dir[n] = path[n];
	}
	free(dir);
	return hit;
}

static int any_match(const char *const *patterns, size_t n_patterns,
		     char *const *paths, size_t n_paths)
{
	size_t i, k;

	for (i = 0; i < n_paths; i++)
		for (k = 0; k < n_patterns; k++)
			if (matrix_interfaces_match(patterns[k], paths[i]))
				return 1;
	return 0;
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

int matrix_interfaces_touched(const struct matrix *m, const struct cell *c,
			      char *const *paths, size_t n_paths)
{
	unsigned kinds = matrix_interfaces_kinds(c), given = 0, k;
	size_t i;

	for (i = 0; i < m->n_interfaces; i++) {
		const struct matrix_interface *e = &m->interfaces[i];
		int mine = e->kind >= 0 ? (kinds >> e->kind) & 1 :
			   fnmatch(e->key, c->name, 0) == 0;

		if (e->kind >= 0)
			given |= 1u << e->kind;
		if (mine && any_match((const char *const *)e->paths,
				      e->n_paths, paths, n_paths))
			return 1;
	}
	for (k = 0; k < MATRIX_KIND_COUNT; k++) {
		if (!((kinds >> k) & 1) || ((given >> k) & 1))
			continue;
		if (any_match(default_paths[k], count(default_paths[k]),
			      paths, n_paths))
			return 1;
	}
	return 0;
}

/* ---- the section ---- */

/* A path pattern as written: relative, no "." or ".." component. */
static int check_pattern(const char *key, const char *v, struct strbuf *err)
{
	const char *p;

	if (matrix_value_controls(key, v, err))
		return -1;
	if (!*v || *v == '/' || strstr(v, "//"))
		return matrix_value_bad(err, key, "a path relative to the "
					"tree's top (a trailing / for a "
					"directory)", v);
	for (p = v; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if ((p[0] == '.' && (!p[1] || p[1] == '/')) ||
		    (p[0] == '.' && p[1] == '.' && (!p[2] || p[2] == '/')))
			return matrix_value_bad(err, key, "a path without . "
						"or .. components", v);
	}
	return 0;
}

static int fail_value(struct matrix_yaml *y, struct strbuf *msg)
{
	int ret = matrix_yaml_fail(y, &y->ev.start_mark, "interfaces: %s",
				   msg->buf);

	strbuf_release(msg);
	return ret;
}

/* The list of one key; the current event is its first. */
static int parse_paths(struct matrix_yaml *y, struct matrix_interface *e)
{
	struct strbuf msg = STRBUF_INIT;
	int seq;

	if (matrix_yaml_is_null(y))
		return 0;	/* `xen:` alone: no paths */
	seq = y->ev.type == YAML_SEQUENCE_START_EVENT;
	if (!seq && y->ev.type != YAML_SCALAR_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "interfaces: "
					"%s: expected a path or a list of "
					"paths, got %s", e->key,
					matrix_yaml_node_kind(y->ev.type));
	for (;;) {
		if (seq) {
			if (matrix_yaml_next(y))
				return -1;
			if (y->ev.type == YAML_SEQUENCE_END_EVENT)
				return 0;
			if (y->ev.type != YAML_SCALAR_EVENT)
				return matrix_yaml_fail(y, &y->ev.start_mark,
					"interfaces: %s: expected a path for "
					"each element, got %s", e->key,
					matrix_yaml_node_kind(y->ev.type));
		}
		if (check_pattern(e->key, matrix_yaml_scalar(y), &msg))
			return fail_value(y, &msg);
		matrix_value_list_add(&e->paths, &e->n_paths,
				      xstrdup(matrix_yaml_scalar(y)));
		if (!seq)
			return 0;
	}
}

void matrix_interfaces_free(struct matrix_interface *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		matrix_value_list_free(v[i].paths, v[i].n_paths);
	}
	free(v);
}

int matrix_interfaces_parse(struct matrix_yaml *y,
			    struct matrix_interface **out, size_t *n)
{
	struct seen_key *seen = NULL;
	size_t n_seen = 0, alloc_seen = 0, alloc = 0;
	struct strbuf msg = STRBUF_INIT;
	yaml_mark_t mark;
	int rc, ret = -1;

	if (matrix_yaml_is_null(y))
		return 0;
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return matrix_yaml_fail(y, &y->ev.start_mark, "interfaces: "
					"expected a mapping of kinds (xen, "
					"vmware, kvm, hyperv) or cell globs "
					"to paths, got %s",
					matrix_yaml_node_kind(y->ev.type));
	while ((rc = matrix_yaml_next_key(y, seen, n_seen, &mark)) == 0) {
		const char *key = matrix_yaml_scalar(y);
		struct matrix_interface *e;

		if (matrix_value_controls("interfaces", key, &msg) ||
		    (!*key && matrix_value_bad(&msg, "interfaces", "a kind "
					       "or a glob of cell names",
					       key))) {
			matrix_yaml_fail(y, &mark, "%s", msg.buf);
			goto out;
		}
		matrix_yaml_seen_add(&seen, &n_seen, &alloc_seen, key, &mark);
		ALLOC_GROW(*out, *n + 1, alloc);
		e = &(*out)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->key = xstrdup(key);
		e->kind = matrix_interfaces_kind_find(key);
		e->line = mark.line + 1;
		e->column = mark.column + 1;
		if (matrix_yaml_next(y) || parse_paths(y, e))
			goto out;
	}
	ret = rc < 0 ? -1 : 0;
out:
	strbuf_release(&msg);
	matrix_yaml_seen_free(seen, n_seen);
	return ret;
}

int matrix_interfaces_check(struct matrix_yaml *y,
			    const struct matrix_interface *v, size_t n,
			    const struct cell *cells, size_t n_cells)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		yaml_mark_t mark;

		if (v[i].kind >= 0)
			continue;
		for (k = 0; k < n_cells; k++)
			if (!fnmatch(v[i].key, cells[k].name, 0))
				break;
		if (k < n_cells)
			continue;
		memset(&mark, 0, sizeof(mark));
		mark.line = v[i].line - 1;
		mark.column = v[i].column - 1;
		return matrix_yaml_fail(y, &mark, "interfaces: '%s' is no "
					"kind (xen, vmware, kvm, hyperv) and "
					"matches no cell", v[i].key);
	}
	return 0;
}
