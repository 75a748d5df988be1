/*
 * header_rewrite.h - rewrite the addresses of one message header and write
 * the header back, as Postfix's cleanup does for canonical mapping,
 * masquerading and address completion.
 *
 * header_rewrite_class tells which headers carry sender addresses (From,
 * Sender, Reply-To, Errors-To, Return-Receipt-To,
 * Disposition-Notification-To, Mail-Followup-To, Resent-From,
 * Resent-Sender) and which recipient addresses (To, Cc, Bcc, Apparently-To,
 * Resent-To, Resent-Cc, Resent-Bcc, Resent-Reply-To): Postfix 3.7's lists,
 * found by running it. Delivered-To, X-Original-To, Return-Path and all
 * others are never rewritten.
 *
 * header_rewrite tokenizes the address list (RFC 5322: phrases, quoted
 * strings, comments, domain literals, <...>, groups), hands each address
 * in internal form to a callback, and when at least one address changed
 * writes the header back: the name as it was, ": ", display names,
 * comments and group syntax kept, tokens spaced as Postfix spaces them,
 * and the address list folded after commas so that a line stays under 70
 * columns, a continuation line's leading TAB not counted. A header where
 * nothing changed, or that does not tokenize (unterminated quoted string,
 * comment or domain literal, stray or unbalanced angle brackets, NUL
 * bytes, more than token_limit tokens), is left exactly as it was.
 */
#ifndef POSTERN_GLOBAL_HEADER_REWRITE_H
#define POSTERN_GLOBAL_HEADER_REWRITE_H

#include <stddef.h>

#include "util/strbuf.h"

enum header_rewrite_class {
	HEADER_REWRITE_NONE,
	HEADER_REWRITE_SENDER,
	HEADER_REWRITE_RECIPIENT,
};

/* The class of a logical header "Name: value" (name without case). */
enum header_rewrite_class header_rewrite_class(const char *text, size_t len);

/*
 * Rewrite one address: *addrp is the address in internal form (unquoted,
 * xmalloc'ed); replace it (freeing the old one) to change it. Return 0,
 * or -1 to give up the whole header.
 */
typedef int header_rewrite_fn(char **addrp, void *ctx);

/*
 * Rewrite the logical header text[0..len) (no final newline). Returns 1
 * with the new header in out (reset first; its lines joined by "\n\t"),
 * 0 when the header stays as it is, or -1 when fn returned -1.
 */
int header_rewrite(const char *text, size_t len, size_t token_limit,
		   header_rewrite_fn *fn, void *ctx, struct strbuf *out);

#endif
