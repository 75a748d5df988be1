/*
 * utf8.h - well-formed UTF-8 checks.
 *
 * "Well-formed" is the RFC 3629 definition: shortest-form sequences only,
 * no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF. ASCII,
 * including control characters and NUL, is well-formed; callers that care
 * about those check them separately.
 */
#ifndef POSTERN_UTIL_UTF8_H
#define POSTERN_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if the len bytes at bytes are well-formed UTF-8. */
bool utf8_is_valid(const void *bytes, size_t len);

/* True if any of the len bytes at bytes has the high bit set. */
bool utf8_has_8bit(const void *bytes, size_t len);

#endif
