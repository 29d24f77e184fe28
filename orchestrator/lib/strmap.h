/*
 * strmap: a hash index over strings its caller keeps in an array: entry i
 * is strs[i], entries numbered in the order they were added, and the map
 * finds a string's entry. It stores no string and no value, only where
 * each entry is (open addressing, linear probing, FNV-1a), so a string
 * pool and a table of (name, value) rows both keep their own arrays and
 * share this. The slots are public: walking them in order is the map's
 * order, the same for the same calls on any run.
 */
#ifndef HVM_STRMAP_H
#define HVM_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a's offset basis: the start of a chain of strmap_fnv calls. */
#define STRMAP_FNV0 14695981039346656037ULL
#define STRMAP_NONE UINT32_MAX

struct strmap {
	uint32_t *slots;	/* an entry + 1; 0: free */
	size_t cap;		/* a power of two, 0 before the first put */
	size_t n;		/* entries */
};

#define STRMAP_INIT { NULL, 0, 0 }

/* FNV-1a of len bytes, continuing h (STRMAP_FNV0 to start). */
uint64_t strmap_fnv(uint64_t h, const void *data, size_t len);
/* ... of s and its NUL (NULL as ""), so chained strings stay apart. */
uint64_t strmap_fnv_str(uint64_t h, const char *s);

/*
 * The entry of s. A string not in the map becomes entry m->n (the count
 * before the call) and *added is set: the caller stores it at strs[that
 * entry] before the next call. The map may grow first, on any call.
 */
uint32_t strmap_put(struct strmap *m, char *const *strs, const char *s,
		    int *added);
/* The entry of s, or STRMAP_NONE. */
uint32_t strmap_get(const struct strmap *m, char *const *strs,
		    const char *s);
void strmap_release(struct strmap *m);

#endif
