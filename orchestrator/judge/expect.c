/*
 * expect: a cell's expectations of one run's guest (see expect.h). The
 * facts come from the payload and the kernel; the words of the releases
 * the farm boots (5.10, 6.1, 6.12, 7.x) are known here only as a fallback.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge/expect.h"
#include "lib/xmalloc.h"

static const char *const fact_keys[EXPECT_N_FACTS] = {
	"hypervisor", "guest_type",
};

/* What a cell may expect; matrix/cell.c checks against the same lists. */
static const char *const hypervisors[] = {
	"xen", "kvm", "vmware", "hyperv", "none",
};

static const char *const guest_types[] = { "PV", "PVH", "HVM" };

/*
 * The names a kernel, the payload or a cell gives a hypervisor, as one
 * word: Linux's x86_hyper names ("Hypervisor detected: NAME"), CPUID's
 * signatures as the payload reports them, /sys/hypervisor/type. QEMU's
 * own TCG signature offers no paravirt interface: as none.
 */
static const struct {
	const char *name, *hv;
} hv_names[] = {
	{ "xen", "xen" }, { "Xen PV", "xen" }, { "Xen HVM", "xen" },
	{ "Xen PVH", "xen" }, { "kvm", "kvm" }, { "vmware", "vmware" },
	{ "hyperv", "hyperv" }, { "Microsoft Hyper-V", "hyperv" },
	{ "Hyper-V", "hyperv" }, { "none", "none" }, { "tcg", "none" },
};

static const char *hv_norm(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(hv_names); i++)
		if (!strcasecmp(name, hv_names[i].name))
			return hv_names[i].hv;
	return NULL;
}

static const char *gt_norm(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(guest_types); i++)
		if (!strcasecmp(name, guest_types[i]))
			return guest_types[i];
	return NULL;
}

/*
 * Kernel lines that say a fact, each ending its line (after printk's time
 * stamp, or init's "kernel said: " replay). 5.10 says "Booting
 * paravirtualized kernel on Xen PVH" (default_banner) where 5.13 on say
 * "Booting kernel on Xen PVH" (xen_banner), and "... on Xen" for PV in
 * both wordings; HVM guests keep default_banner's words.
 */
static const struct {
	const char *words, *hv, *gt;
} banners[] = {
	{ "kernel on Xen PVH", "xen", "PVH" },
	{ "kernel on Xen HVM", "xen", "HVM" },
	{ "kernel on Xen", "xen", "PV" },
	{ "Hypervisor detected: Xen PV", "xen", "PV" },
	{ "Hypervisor detected: Xen HVM", "xen", NULL },
	{ "Hypervisor detected: VMware", "vmware", NULL },
	{ "kernel on VMware hypervisor", "vmware", NULL },
	{ "Hypervisor detected: KVM", "kvm", NULL },
	{ "kernel on KVM", "kvm", NULL },
	{ "Hypervisor detected: Microsoft Hyper-V", "hyperv", NULL },
};

/* The banner `line` ends with (trailing blanks aside), or -1. */
static int banner_of(const char *line)
{
	size_t n = strlen(line), k, i;

	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	for (i = 0; i < ARRAY_SIZE(banners); i++) {
		k = strlen(banners[i].words);
		if (n < k || memcmp(line + n - k, banners[i].words, k))
			continue;
		/* a word of its own: "... on Xen" is not "... on XenServer" */
		if (n > k && isalnum((unsigned char)line[n - k - 1]))
			continue;
		return (int)i;
	}
	return -1;
}

static int in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(s, list[i]))
			return 1;
	return 0;
}

int expect_is_fact(const char *s, const char **bad)
{
	size_t i, k;

	*bad = NULL;
	for (i = 0; i < EXPECT_N_FACTS; i++) {
		k = strlen(fact_keys[i]);
		if (strncmp(s, fact_keys[i], k) || s[k] != '=')
			continue;
		if (i == EXPECT_HYPERVISOR &&
		    !in_list(s + k + 1, hypervisors, ARRAY_SIZE(hypervisors)))
			*bad = "hypervisor= expects xen, kvm, vmware, hyperv "
			       "or none";
		if (i == EXPECT_GUEST_TYPE &&
		    !in_list(s + k + 1, guest_types, ARRAY_SIZE(guest_types)))
			*bad = "guest_type= expects PV, PVH or HVM";
		return 1;
	}
	return 0;
}

void expect_init(struct expect *e, char *const *list, size_t n)
{
	size_t i, k;
	const char *bad;

	memset(e, 0, sizeof(*e));
	e->v = xcalloc(n + 1, sizeof(*e->v));
	e->n = n;
	for (i = 0; i < n; i++) {
		struct expect_item *it = &e->v[i];
		const char *val;

		it->text = xstrdup(list[i]);
		it->kind = EXPECT_TEXT;
		if (!expect_is_fact(list[i], &bad) || bad)
			continue;
		it->kind = strncmp(list[i], "hypervisor=", 11) ?
			   EXPECT_GUEST_TYPE : EXPECT_HYPERVISOR;
		k = strlen(fact_keys[it->kind]) + 1;
		val = it->kind == EXPECT_HYPERVISOR ? hv_norm(list[i] + k) :
		      gt_norm(list[i] + k);
		it->value = xstrdup(val);
	}
}

void expect_release(struct expect *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].text);
		free(e->v[i].value);
	}
	free(e->v);
	for (i = 0; i < EXPECT_N_FACTS; i++) {
		free(e->fact[i]);
		free(e->said[i]);
	}
	free(e->fact_line);
	free(e->detected);
	memset(e, 0, sizeof(*e));
}

static void set(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* " key=" in a fact line: its word (to the next blank) in buf. */
static const char *word(const char *line, const char *key, char *buf,
			size_t size)
{
	const char *p = line;
	size_t k = strlen(key), n;

	while ((p = strstr(p, key))) {
		if (p > line && p[-1] == ' ' && p[k] == '=')
			break;
		p += k;
	}
	if (!p)
		return NULL;
	p += k + 1;
	n = strcspn(p, " ");
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

int expect_fact_line(struct expect *e, const char *nonce, const char *line)
{
	char buf[128];
	const char *p = line + strlen(EXPECT_FACT_PREFIX);

	if (strncmp(line, EXPECT_FACT_PREFIX, strlen(EXPECT_FACT_PREFIX)) ||
	    strncmp(p, "nonce=", 6) || strncmp(p + 6, nonce, strlen(nonce)) ||
	    p[6 + strlen(nonce)] != ' ')
		return 0;
	set(&e->fact[EXPECT_HYPERVISOR],
	    hv_norm(word(line, "hypervisor", buf, sizeof(buf))));
	set(&e->fact[EXPECT_GUEST_TYPE],
	    gt_norm(word(line, "guest_type", buf, sizeof(buf))));
	set(&e->fact_line, line);
	return 1;
}

void expect_console_line(struct expect *e, const char *line)
{
	static const char init[] = "hvmatrix-init: kernel=";
	size_t i;
	int b;

	if (!strncmp(line, init, strlen(init))) {
		const char *hv = strstr(line, " hypervisor=");

		/* The last field: "Xen PV" has a blank. */
		if (hv)
			set(&e->detected, hv + strlen(" hypervisor="));
		return;
	}
	b = banner_of(line);
	if (b >= 0) {
		set(&e->said[EXPECT_HYPERVISOR], banners[b].hv);
		if (banners[b].gt)
			set(&e->said[EXPECT_GUEST_TYPE], banners[b].gt);
	}
	for (i = 0; i < e->n; i++)
		if (e->v[i].kind == EXPECT_TEXT && !e->v[i].seen &&
		    strstr(line, e->v[i].text))
			e->v[i].seen = 1;
}

/* hypervisor=want: the payload's facts and the kernel's detection agree
 * with it (either may be silent, not both); the banners only when both
 * are. */
static int hv_met(const struct expect *e, const char *want,
		  struct strbuf *why)
{
	const char *f = e->fact[EXPECT_HYPERVISOR];
	const char *k = hv_norm(e->detected);
	const char *s = e->said[EXPECT_HYPERVISOR];

	if (f && strcmp(f, want)) {
		strbuf_addf(why, "the payload found hypervisor=%s", f);
		return 0;
	}
	if (k && strcmp(k, want)) {
		strbuf_addf(why, "the kernel detected %s%s",
			    strcmp(k, "none") ? "" : "no hypervisor: ",
			    e->detected);
		return 0;
	}
	if (f || k)
		return 1;
	if (s && !strcmp(s, want))
		return 1;
	strbuf_addf(why, "%s", s ? "the kernel's words name another "
		    "hypervisor" : "neither the payload nor the kernel told "
		    "which hypervisor this is");
	if (s)
		strbuf_addf(why, " (%s)", s);
	return 0;
}

static int gt_met(const struct expect *e, const char *want,
		  struct strbuf *why)
{
	const char *f = e->fact[EXPECT_GUEST_TYPE];
	const char *s = e->said[EXPECT_GUEST_TYPE];

	if (f ? !strcmp(f, want) : s && !strcmp(s, want))
		return 1;
	if (f || s)
		strbuf_addf(why, "the %s says guest_type=%s", f ? "payload" :
			    "kernel's banner", f ? f : s);
	else
		strbuf_addstr(why, "the guest did not tell its Xen guest type "
			      "(no /sys/hypervisor/guest_type, no banner)");
	return 0;
}

int expect_unmet(const struct expect *e, struct strbuf *why,
		 const char **line)
{
	size_t i;
	int b;

	*line = NULL;
	for (i = 0; i < e->n; i++) {
		const struct expect_item *it = &e->v[i];

		if (it->kind == EXPECT_HYPERVISOR && hv_met(e, it->value, why))
			continue;
		if (it->kind == EXPECT_GUEST_TYPE && gt_met(e, it->value, why))
			continue;
		if (it->kind == EXPECT_TEXT) {
			if (it->seen)
				continue;
			/* Another release's words for the same fact. */
			b = banner_of(it->text);
			if (b >= 0 && hv_met(e, banners[b].hv, why) &&
			    (!banners[b].gt || gt_met(e, banners[b].gt, why)))
				continue;
			if (b < 0)
				strbuf_addf(why, "not in the console");
		}
		*line = e->fact_line;
		return (int)i;
	}
	return -1;
}
