/*
 * dsn_split.c - split a leading RFC 3463 status code off a text.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "global/dsn_split.h"

/* Skip one to three digits; NULL if there are none or more. */
static const char *
skip_digits(const char *p)
{
	int n = 0;

	while (isdigit((unsigned char)p[n]) && n < 4)
		n++;
	return n >= 1 && n <= 3 ? p + n : NULL;
}

const char *
dsn_split(const char *text, char *dsn_out)
{
	const char *p = text;

	dsn_out[0] = 0;
	if (strchr("245", *p) == NULL || *p == 0 || p[1] != '.')
		return text;
	if ((p = skip_digits(p + 2)) == NULL || *p != '.')
		return text;
	if ((p = skip_digits(p + 1)) == NULL ||
	    (*p != 0 && !isspace((unsigned char)*p)))
		return text;
	snprintf(dsn_out, DSN_SPLIT_SIZE, "%.*s", (int)(p - text), text);
	while (isspace((unsigned char)*p))
		p++;
	return p;
}
