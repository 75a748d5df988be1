/*
 * err.h - the reason a call failed, filled in by the callee.
 *
 * A function that can fail returns -1 (or NULL) and, if the caller passed a
 * struct err, writes one line saying what failed and where ("file:line:
 * reason"). The text is truncated safely if it is longer than the buffer.
 * Only the caller, who knows the context, decides whether to log it.
 */
#ifndef POSTERN_UTIL_ERR_H
#define POSTERN_UTIL_ERR_H

#include <stdarg.h>

#define ERR_TEXT_MAX 1024

struct err {
	char text[ERR_TEXT_MAX];
};

/* Set the reason; err may be NULL (the caller does not care). */
void err_set(struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_vset(struct err *err, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Put context in front of an existing reason: "prefix: old reason". */
void err_prefix(struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empty the reason. */
void err_clear(struct err *err);

#endif
