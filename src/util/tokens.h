/*
 * tokens.h - splitting text in place: tokens, brace groups, name=value.
 *
 * These are the building blocks of every Postfix-style syntax: lists
 * separated by commas or white space, "{ ... }" groups that protect
 * delimiters ("inline:{ a=b, c=d }", "-o name={ value with spaces }"), and
 * "name = value" lines. All functions work in place on a writable string
 * and return pointers into it.
 */
#ifndef POSTERN_UTIL_TOKENS_H
#define POSTERN_UTIL_TOKENS_H

#include <stdbool.h>

#include "util/err.h"

/* Delimiters of Postfix lists: comma and white space. */
#define TOKENS_LIST_DELIMS ", \t\r\n"

/*
 * Next token at *cursor, skipping leading delimiters; NUL-terminates it and
 * advances *cursor past it. Returns NULL at the end of the text.
 */
char *str_token(char **cursor, const char *delims);

/*
 * As str_token, but a "{...}" group (nested groups allowed) is part of the
 * token even when it contains delimiters. An unbalanced group makes the
 * rest of the text one token; str_unbrace then reports it.
 */
char *str_token_braced(char **cursor, const char *delims);

/*
 * If text is "{ inner }", strip the braces and surrounding white space of
 * inner and return it; otherwise return text unchanged. Returns NULL with
 * err set for "{ unbalanced" or "{ inner } trailing".
 */
char *str_unbrace(char *text, struct err *err);

/* Strip leading and trailing white space; returns the new start. */
char *str_trim(char *text);

/* Lowercase ASCII letters in place; returns text. */
char *str_lowercase(char *text);

/*
 * Split "name = value" (white space around '=' and at both ends removed).
 * Returns -1 with err set if there is no '=' or no name.
 */
int str_split_nameval(char *text, char **name_out, char **value_out,
		      struct err *err);

/* True if text is empty or white space only. */
bool str_is_blank(const char *text);

/* True if text starts with prefix. */
bool str_has_prefix(const char *text, const char *prefix);

#endif
