/*
 * err.c - the reason a call failed, filled in by the callee.
 */
#include <stdio.h>
#include <string.h>

#include "util/err.h"

void
err_vset(struct err *err, const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
}

void
err_set(struct err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, fmt, ap);
	va_end(ap);
}

void
err_prefix(struct err *err, const char *fmt, ...)
{
	char prefix[ERR_TEXT_MAX];
	char old[ERR_TEXT_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->text, sizeof(old));
	snprintf(err->text, sizeof(err->text), "%s: %s", prefix, old);
}

void
err_clear(struct err *err)
{
	if (err != NULL)
		err->text[0] = 0;
}
