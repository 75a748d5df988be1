/*
 * strbuf.c - growable byte strings with a hard size limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

#define STRBUF_MIN_CAP 64

void
strbuf_init(struct strbuf *sb, size_t limit)
{
	sb->cap = STRBUF_MIN_CAP;
	sb->data = xmalloc(sb->cap);
	sb->len = 0;
	sb->limit = limit;
}

void
strbuf_deinit(struct strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

struct strbuf *
strbuf_create(size_t limit)
{
	struct strbuf *sb = xmalloc(sizeof(*sb));

	strbuf_init(sb, limit);
	return sb;
}

void
strbuf_destroy(struct strbuf **sbp)
{
	if (*sbp == NULL)
		return;
	strbuf_deinit(*sbp);
	free(*sbp);
	*sbp = NULL;
}

/* Make room for extra more bytes plus the NUL; -1 past the limit. */
static int
reserve(struct strbuf *sb, size_t extra)
{
	size_t need;

	if (extra > sb->limit - sb->len) {
		errno = E2BIG;
		return -1;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	while (sb->cap < need)
		sb->cap = sb->cap > ((size_t)-1) / 2 ? need : sb->cap * 2;
	sb->data = xrealloc(sb->data, sb->cap);
	return 0;
}

int
strbuf_append(struct strbuf *sb, const void *bytes, size_t len)
{
	if (reserve(sb, len) < 0)
		return -1;
	if (len)
		memcpy(sb->data + sb->len, bytes, len);
	sb->len += len;
	sb->data[sb->len] = 0;
	return 0;
}

int
strbuf_append_str(struct strbuf *sb, const char *text)
{
	return strbuf_append(sb, text, strlen(text));
}

int
strbuf_append_char(struct strbuf *sb, int ch)
{
	char byte = (char)ch;

	return strbuf_append(sb, &byte, 1);
}

int
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list probe;
	int need;

	va_copy(probe, ap);
	need = vsnprintf(NULL, 0, fmt, probe);
	va_end(probe);
	if (need < 0 || reserve(sb, (size_t)need) < 0)
		return -1;
	vsnprintf(sb->data + sb->len, (size_t)need + 1, fmt, ap);
	sb->len += (size_t)need;
	return 0;
}

int
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return ret;
}

int
strbuf_set(struct strbuf *sb, const char *text)
{
	strbuf_reset(sb);
	return strbuf_append_str(sb, text);
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->data[0] = 0;
}

void
strbuf_truncate(struct strbuf *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->data[len] = 0;
	}
}
