/*
 * xtext.c - RFC 3461 xtext decoding and encoding.
 */
#include <stdint.h>

#include "global/xtext.h"

static int
hex_value(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int
xtext_decode(const char *in, int flags, struct strbuf *out)
{
	const uint8_t *p = (const uint8_t *)in;

	for (size_t i = 0; p[i]; i++) {
		int ch = p[i];

		if (ch == '+') {
			int hi = hex_value(p[i + 1]);
			int lo = hi < 0 ? -1 : hex_value(p[i + 2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			ch = hi * 16 + lo;
			i += 2;
		} else if (ch >= 0x80 ? !(flags & XTEXT_FLAG_UTF8)
				      : (ch < '!' || ch > '~')) {
			return -1;
		}
		if (strbuf_append_char(out, ch) < 0)
			return -1;
	}
	return 0;
}

int
xtext_encode(const void *in, size_t len, struct strbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *p = in;

	for (size_t i = 0; i < len; i++) {
		int rc;

		if (p[i] >= '!' && p[i] <= '~' && p[i] != '+' && p[i] != '=')
			rc = strbuf_append_char(out, p[i]);
		else
			rc = strbuf_printf(out, "+%c%c", hex[p[i] >> 4],
					   hex[p[i] & 15]);
		if (rc < 0)
			return -1;
	}
	return 0;
}
