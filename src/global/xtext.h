/*
 * xtext.h - RFC 3461 xtext, the encoding of ENVID, ORCPT and AUTH= values.
 *
 * xtext is printable ASCII ('!'..'~') where '+', '=' and everything else
 * is written "+XX" (two hex digits). Decoding is as lenient as Postfix:
 * lowercase hex digits and a raw '=' are accepted. A decoded NUL is
 * always an error, so decoded text is safe as a C string.
 */
#ifndef POSTERN_GLOBAL_XTEXT_H
#define POSTERN_GLOBAL_XTEXT_H

#include <stddef.h>

#include "util/strbuf.h"

/* Also accept raw bytes >= 0x80 (RFC 6533 utf-8-addr-unitext). */
#define XTEXT_FLAG_UTF8 (1 << 0)

/*
 * Decode in (NUL-terminated) and append the result to out. Returns 0, or
 * -1 for a byte outside xtext, a "+" not followed by two hex digits, a
 * decoded NUL, or out's limit; out then holds a partial result.
 */
int xtext_decode(const char *in, int flags, struct strbuf *out);

/* Append the xtext encoding of len bytes at in to out; -1 at the limit. */
int xtext_encode(const void *in, size_t len, struct strbuf *out);

#endif
