/*
 * mymalloc.c - allocation helpers that never return NULL.
 *
 * Out of memory is an environment failure, so it goes through log_fatal like
 * any other: one message naming the size, then exit.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/mymalloc.h"

static void
out_of_memory(size_t len)
{
	log_fatal("out of memory allocating %zu bytes", len);
}

void *
xmalloc(size_t len)
{
	void *ptr = calloc(1, len ? len : 1);

	if (ptr == NULL)
		out_of_memory(len);
	return ptr;
}

void *
xmalloc_uninit(size_t len)
{
	void *ptr = malloc(len ? len : 1);

	if (ptr == NULL)
		out_of_memory(len);
	return ptr;
}

void *
xcalloc(size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		log_fatal("allocation overflow: %zu elements of %zu bytes", count,
			  size);
	return xmalloc(count * size);
}

void *
xrealloc(void *ptr, size_t len)
{
	void *grown = realloc(ptr, len ? len : 1);

	if (grown == NULL)
		out_of_memory(len);
	return grown;
}

void *
xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		log_fatal("allocation overflow: %zu elements of %zu bytes", count,
			  size);
	return xrealloc(ptr, count * size);
}

char *
xstrdup(const char *text)
{
	return xmemdup(text, strlen(text));
}

char *
xstrndup(const char *text, size_t max_len)
{
	return xmemdup(text, strnlen(text, max_len));
}

void *
xmemdup(const void *bytes, size_t len)
{
	char *copy;

	if (len == SIZE_MAX)
		out_of_memory(len);
	copy = xmalloc(len + 1);
	if (len)
		memcpy(copy, bytes, len);
	return copy;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		log_fatal("out of memory formatting text");
	va_end(ap);
	return text;
}
