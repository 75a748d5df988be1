/*
 * strbuf.h - growable byte strings with a hard size limit.
 *
 * Untrusted bytes go here, never into a fixed array. Each buffer has a limit
 * chosen by its owner; an append that would pass it changes nothing and
 * returns -1 with errno E2BIG, so the caller can answer "line too long" or
 * "message too large" instead of growing without bound. The data is always
 * NUL-terminated (the NUL is not counted in len), so text users can read
 * strbuf_text() directly; binary users use data and len.
 */
#ifndef POSTERN_UTIL_STRBUF_H
#define POSTERN_UTIL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *data;   /* always NUL-terminated */
	size_t len;   /* bytes in use, not counting the NUL */
	size_t cap;   /* bytes allocated, including room for the NUL */
	size_t limit; /* len may never exceed this */
};

/* No limit worth the name; for text we built ourselves. */
#define STRBUF_UNLIMITED ((size_t)-2)

/* Embedded use: init/deinit. Heap use: create/destroy (NULL-safe). */
void strbuf_init(struct strbuf *sb, size_t limit);
void strbuf_deinit(struct strbuf *sb);
struct strbuf *strbuf_create(size_t limit);
void strbuf_destroy(struct strbuf **sbp);

/* Append; -1 (errno E2BIG) and no change when the limit would be passed. */
int strbuf_append(struct strbuf *sb, const void *bytes, size_t len);
int strbuf_append_str(struct strbuf *sb, const char *text);
int strbuf_append_char(struct strbuf *sb, int ch);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Replace the contents with text; -1 over the limit (contents then empty). */
int strbuf_set(struct strbuf *sb, const char *text);

/* Empty the buffer, or cut it to len bytes (len <= current length). */
void strbuf_reset(struct strbuf *sb);
void strbuf_truncate(struct strbuf *sb, size_t len);

static inline const char *
strbuf_text(const struct strbuf *sb)
{
	return sb->data;
}

static inline size_t
strbuf_len(const struct strbuf *sb)
{
	return sb->len;
}

#endif
