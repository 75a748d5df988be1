/*
 * mymalloc.h - allocation helpers that never return NULL.
 *
 * Every allocation comes back zeroed, except xmalloc_uninit's (for large
 * buffers that are always written before they are read, where zeroing
 * would cost more than the work done with them). Failure is fatal: the process logs
 * "fatal: out of memory" with the size asked for and exits, so callers never
 * test for NULL. Overflowing size products are treated the same way.
 */
#ifndef POSTERN_UTIL_MYMALLOC_H
#define POSTERN_UTIL_MYMALLOC_H

#include <stddef.h>

/* Zeroed block of len bytes (len 0 gives a valid unique pointer). */
void *xmalloc(size_t len);

/* A block of len bytes whose content is undefined. */
void *xmalloc_uninit(size_t len);

/* Zeroed array of count elements of size bytes; fatal on overflow. */
void *xcalloc(size_t count, size_t size);

/* Resize ptr to len bytes; bytes past the old length are NOT zeroed. */
void *xrealloc(void *ptr, size_t len);

/* Resize an array to count elements of size bytes; fatal on overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);

/* Copies of text and bytes; the copy of bytes gets a terminating NUL. */
char *xstrdup(const char *text);
char *xstrndup(const char *text, size_t max_len);
void *xmemdup(const void *bytes, size_t len);

/* Formatted text in a fresh allocation. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
