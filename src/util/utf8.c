/*
 * utf8.c - well-formed UTF-8 checks (RFC 3629).
 */
#include <stdint.h>

#include "util/utf8.h"

/*
 * Length of the sequence that starts with lead, and the smallest and
 * largest allowed second byte (which rules out overlong forms, surrogates
 * and code points above U+10FFFF). Returns 0 for a byte that cannot start
 * a sequence.
 */
static size_t
lead_info(uint8_t lead, uint8_t *lo_out, uint8_t *hi_out)
{
	*lo_out = 0x80;
	*hi_out = 0xBF;
	if (lead >= 0xC2 && lead <= 0xDF)
		return 2;
	if (lead == 0xE0)
		*lo_out = 0xA0;
	else if (lead == 0xED)
		*hi_out = 0x9F;
	if (lead >= 0xE0 && lead <= 0xEF)
		return 3;
	if (lead == 0xF0)
		*lo_out = 0x90;
	else if (lead == 0xF4)
		*hi_out = 0x8F;
	if (lead >= 0xF0 && lead <= 0xF4)
		return 4;
	return 0;
}

bool
utf8_is_valid(const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	size_t i = 0;

	while (i < len) {
		uint8_t lo;
		uint8_t hi;
		size_t n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = lead_info(p[i], &lo, &hi);
		if (n == 0 || len - i < n)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (size_t k = 2; k < n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return false;
		i += n;
	}
	return true;
}

bool
utf8_has_8bit(const void *bytes, size_t len)
{
	const uint8_t *p = bytes;

	for (size_t i = 0; i < len; i++)
		if (p[i] & 0x80)
			return true;
	return false;
}
