/*
 * dsn_split.h - an RFC 3463 status code at the start of a text, as
 * transport nexthops carry one ("error:5.1.1 no such user",
 * "discard:5.7.1 policy"), used by the discard and error agents.
 */
#ifndef POSTERN_GLOBAL_DSN_SPLIT_H
#define POSTERN_GLOBAL_DSN_SPLIT_H

#include <stddef.h>

#define DSN_SPLIT_SIZE 16 /* room for "5.123.123" and the NUL */

/*
 * If text starts with a status code "C.S.D" (C one of 2, 4, 5; S and D
 * one to three digits) followed by white space or the end, copy it to
 * dsn_out (DSN_SPLIT_SIZE bytes) and return where the rest starts, white
 * space skipped. Otherwise leave dsn_out empty and return text.
 */
const char *dsn_split(const char *text, char *dsn_out);

#endif
