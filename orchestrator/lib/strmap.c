/*
 * strmap: see strmap.h. The map doubles when it would be half full, from
 * 1024 slots; growing moves the entries in slot order. Both are part of
 * the map's order, which callers may write out (the dashboard's
 * manifest): change them and such a file changes its line order.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strmap.h"
#include "lib/xmalloc.h"

#define FIRST_CAP 1024

uint64_t strmap_fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

uint64_t strmap_fnv_str(uint64_t h, const char *s)
{
	if (!s)
		s = "";
	return strmap_fnv(h, s, strlen(s) + 1);
}

/* The slot holding s, or the free slot where it would go. */
static size_t find_slot(const struct strmap *m, char *const *strs,
			const char *s)
{
	size_t i = (size_t)strmap_fnv_str(STRMAP_FNV0, s) & (m->cap - 1);

	while (m->slots[i] && strcmp(strs[m->slots[i] - 1], s))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void grow(struct strmap *m, char *const *strs)
{
	uint32_t *old = m->slots;
	size_t old_cap = m->cap, i;

	m->cap = old_cap ? old_cap * 2 : FIRST_CAP;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old_cap; i++)
		if (old[i])
			m->slots[find_slot(m, strs, strs[old[i] - 1])] = old[i];
	free(old);
}

uint32_t strmap_put(struct strmap *m, char *const *strs, const char *s,
		    int *added)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		grow(m, strs);
	i = find_slot(m, strs, s);
	*added = !m->slots[i];
	if (*added)
		m->slots[i] = (uint32_t)++m->n;
	return m->slots[i] - 1;
}

uint32_t strmap_get(const struct strmap *m, char *const *strs,
		    const char *s)
{
	size_t i;

	if (!m->cap)
		return STRMAP_NONE;
	i = find_slot(m, strs, s);
	return m->slots[i] ? m->slots[i] - 1 : STRMAP_NONE;
}

void strmap_release(struct strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
