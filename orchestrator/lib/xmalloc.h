/*
 * xmalloc: allocation that aborts on out-of-memory, and fatal setup errors.
 * Runtime errors must be returned and survived, never passed to die().
 */
#ifndef HVM_XMALLOC_H
#define HVM_XMALLOC_H

#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow an array of *nr elements to hold at least `want`. */
#define ALLOC_GROW(arr, want, alloc)                                      \
	do {                                                              \
		if ((size_t)(want) > (alloc)) {                           \
			(alloc) = (alloc) ? (alloc) * 2 : 8;              \
			if ((alloc) < (size_t)(want))                     \
				(alloc) = (want);                         \
			(arr) = xrealloc((arr), (alloc) * sizeof(*(arr))); \
		}                                                         \
	} while (0)

/* Print "hvmatrix: message" to stderr and exit 2 (setup errors only). */
void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
