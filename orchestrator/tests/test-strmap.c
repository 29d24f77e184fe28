/*
 * test-strmap: the string index (lib/strmap.c) the dashboard's manifest
 * and the runs' string pool share: FNV-1a's published values, entries
 * numbered in the order they came, found again after the map grew, and
 * the growth rule the manifest's line order depends on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strmap.h"
#include "lib/xmalloc.h"

START_TEST(fnv_is_fnv1a_64)
{
	/* The reference values of FNV-1a, 64 bits. */
	ck_assert_uint_eq(strmap_fnv(STRMAP_FNV0, "", 0),
			  0xcbf29ce484222325ULL);
	ck_assert_uint_eq(strmap_fnv(STRMAP_FNV0, "a", 1),
			  0xaf63dc4c8601ec8cULL);
	ck_assert_uint_eq(strmap_fnv(STRMAP_FNV0, "foobar", 6),
			  0x85944171f73967e8ULL);
	/* A string with its NUL; NULL is "". */
	ck_assert_uint_eq(strmap_fnv_str(STRMAP_FNV0, "a"),
			  strmap_fnv(STRMAP_FNV0, "a", 2));
	ck_assert_uint_eq(strmap_fnv_str(STRMAP_FNV0, NULL),
			  strmap_fnv_str(STRMAP_FNV0, ""));
	/* Chained, "ab" then "" is not "a" then "b". */
	ck_assert_uint_ne(strmap_fnv_str(strmap_fnv_str(STRMAP_FNV0, "ab"), ""),
			  strmap_fnv_str(strmap_fnv_str(STRMAP_FNV0, "a"),
					 "b"));
}
END_TEST

/* A pool as the callers keep one: strs[entry], in the order added. */
struct pool {
	struct strmap map;
	char **strs;
	size_t n, alloc;
};

static uint32_t pool_put(struct pool *p, const char *s)
{
	int added;
	uint32_t e = strmap_put(&p->map, p->strs, s, &added);

	if (added) {
		ck_assert_uint_eq(e, p->n);
		ALLOC_GROW(p->strs, p->n + 1, p->alloc);
		p->strs[p->n++] = xstrdup(s);
	}
	return e;
}

static void pool_release(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->strs[i]);
	free(p->strs);
	strmap_release(&p->map);
}

START_TEST(entries_in_order_found_after_growing)
{
	struct pool p = { STRMAP_INIT, NULL, 0, 0 };
	char name[32];
	size_t i;
	int added;

	ck_assert_uint_eq(strmap_get(&p.map, p.strs, "x"), STRMAP_NONE);
	ck_assert_ptr_null(p.map.slots);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "page/%zu.html", i);
		ck_assert_uint_eq(pool_put(&p, name), i);
	}
	ck_assert_uint_eq(p.map.n, 5000);
	ck_assert_uint_ge(p.map.cap, 2 * 5000);
	ck_assert_uint_eq(p.map.cap & (p.map.cap - 1), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "page/%zu.html", i);
		ck_assert_uint_eq(strmap_get(&p.map, p.strs, name), i);
		ck_assert_uint_eq(strmap_put(&p.map, p.strs, name, &added),
				  i);
		ck_assert_int_eq(added, 0);
	}
	ck_assert_uint_eq(strmap_get(&p.map, p.strs, "page/5000.html"),
			  STRMAP_NONE);
	ck_assert_uint_eq(strmap_get(&p.map, p.strs, ""), STRMAP_NONE);
	/* Every entry has exactly one slot. */
	{
		size_t used = 0;

		for (i = 0; i < p.map.cap; i++)
			used += p.map.slots[i] != 0;
		ck_assert_uint_eq(used, 5000);
	}
	pool_release(&p);
}
END_TEST

/*
 * The map is at most half full, from 1024 slots, and a put checks that
 * before it looks: even a string already there can make it grow. The
 * manifest is written in slot order, so this rule is part of its bytes.
 */
START_TEST(grows_before_looking)
{
	struct pool p = { STRMAP_INIT, NULL, 0, 0 };
	char name[32];
	size_t i;

	for (i = 0; i < 512; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		pool_put(&p, name);
	}
	ck_assert_uint_eq(p.map.cap, 1024);
	ck_assert_uint_eq(pool_put(&p, "0"), 0);
	ck_assert_uint_eq(p.map.cap, 2048);
	ck_assert_uint_eq(p.map.n, 512);
	for (i = 0; i < 512; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		ck_assert_uint_eq(strmap_get(&p.map, p.strs, name), i);
	}
	pool_release(&p);
}
END_TEST

/*
 * Where an entry goes: its string's FNV-1a (with the NUL) modulo the
 * slots, then the next free one. The manifest's order is this layout.
 */
START_TEST(slot_is_the_hash)
{
	struct pool p = { STRMAP_INIT, NULL, 0, 0 };
	size_t at = (size_t)strmap_fnv_str(STRMAP_FNV0, "index.html") & 1023;

	pool_put(&p, "index.html");
	ck_assert_uint_eq(p.map.cap, 1024);
	ck_assert_uint_eq(p.map.slots[at], 1);
	/* A second string on the same slot takes the next one. */
	{
		char name[32];
		size_t i;

		for (i = 0;; i++) {
			snprintf(name, sizeof(name), "p%zu", i);
			if (((size_t)strmap_fnv_str(STRMAP_FNV0, name) &
			     1023) == at)
				break;
		}
		ck_assert_uint_eq(pool_put(&p, name), 1);
		ck_assert_uint_eq(p.map.slots[(at + 1) & 1023], 2);
	}
	pool_release(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, fnv_is_fnv1a_64);
	tcase_add_test(tc, entries_in_order_found_after_growing);
	tcase_add_test(tc, grows_before_looking);
	tcase_add_test(tc, slot_is_the_hash);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
