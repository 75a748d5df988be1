/*
 * mime_downgrade.h - 8-bit MIME content made 7-bit for a server that does
 * not announce 8BITMIME, as Postfix's smtp and lmtp clients do it.
 *
 * A streaming converter: content goes in as the pieces deliver_content
 * gives (bytes without a line end, and whether the piece ends its line)
 * and comes out the same way through a callback. It walks the MIME
 * structure: the primary header, multipart parts (boundaries from
 * Content-Type, innermost first, matched as prefixes of the line as
 * Postfix matches them), message/rfc822 and the parts of multipart/digest
 * (message/rfc822 by default). In each header block a
 * Content-Transfer-Encoding of 8bit or binary is taken out and, at the end
 * of the block, replaced by "Content-Transfer-Encoding: 7bit" (multipart
 * and message types other than message/global) or "...: quoted-printable"
 * (anything else), whose body is then encoded (RFC 2045: '=', controls
 * other than TAB and bytes above 126 as =XX, soft line breaks with '=' so
 * no line passes 76 columns, white space before a line end encoded).
 * Everything else goes out unchanged: 7-bit parts, parts without an 8-bit
 * Content-Transfer-Encoding even when they hold 8-bit bytes, 8-bit
 * headers, preambles and epilogues, multipart bodies without a boundary.
 * Malformed MIME is walked as far as it makes sense and never lost.
 * Memory is bounded: header_limit bytes of one header (a longer one goes
 * out unchanged and uninterpreted), boundary_limit bytes of each boundary
 * (the rest is ignored, as in Postfix), and at most nesting_limit + 2
 * multipart levels open at once; one more is an error, "MIME nesting
 * exceeds safety limit", on which Postfix's client bounces the message
 * (5.6.0) without finishing it. These are the facts measured against
 * Postfix 3.7; tests/unit/global/test_mime_downgrade.c holds them.
 * Security: the content is untrusted.
 */
#ifndef POSTERN_GLOBAL_MIME_DOWNGRADE_H
#define POSTERN_GLOBAL_MIME_DOWNGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "global/mail_conf.h"
#include "util/err.h"

struct mime_downgrade_limits {
	size_t nesting_limit;  /* mime_nesting_limit, at least 1 */
	size_t boundary_limit; /* mime_boundary_length_limit, at least 1 */
	size_t header_limit;   /* header_size_limit, at least 1 */
};

/* Read the three limits from conf (fatal on a bad value). */
void mime_downgrade_limits_read(struct mail_conf *conf,
				struct mime_downgrade_limits *out);

/*
 * Where the converted content goes, piece by piece (the shape of
 * deliver_content's callback). A negative return stops the conversion and
 * is handed back to the feeder unchanged, err as the callback set it.
 */
typedef int mime_downgrade_out_fn(const char *data, size_t len,
				  bool is_line_end, void *ctx, struct err *err);

struct mime_downgrade;

/* A converter for one message; limits are copied. Never fails. */
struct mime_downgrade *
mime_downgrade_create(const struct mime_downgrade_limits *limits,
		      mime_downgrade_out_fn *out, void *ctx);

/* NULL-safe; sets *mdp to NULL. */
void mime_downgrade_destroy(struct mime_downgrade **mdp);

/*
 * Feed one piece of content: data (no line end; may be empty) and whether
 * it ends its line. Returns 0; the output callback's negative value (its
 * err); or -1 with err "MIME nesting exceeds safety limit" (then
 * mime_downgrade_is_mime_error is true). After a failure every call fails
 * the same way.
 */
int mime_downgrade_feed(struct mime_downgrade *md, const char *data, size_t len,
			bool is_line_end, struct err *err);

/*
 * End of content: flushes what is held back (an open header, the rest of
 * an unfinished line, which then counts as finished). Returns as
 * mime_downgrade_feed.
 */
int mime_downgrade_finish(struct mime_downgrade *md, struct err *err);

/* True when the conversion failed on the content's MIME structure (as
 * opposed to the output callback). */
bool mime_downgrade_is_mime_error(const struct mime_downgrade *md);

#endif
