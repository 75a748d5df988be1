/*
 * cleanup_rewrite.h - address rewriting in the cleanup daemon: canonical
 * maps, masquerading, virtual aliases and automatic BCC recipients.
 *
 * The tables are opened once (cleanup_rewrite_create, from post_init);
 * the functions below apply them to one message's envelope. A table that
 * fails, or an expansion past its limits, defers the message: the
 * warning is logged as Postfix logs it and CLEANUP_STAT_WRITE is set, so
 * the client hears "451 4.3.0".
 */
#ifndef POSTERN_CLEANUP_CLEANUP_REWRITE_H
#define POSTERN_CLEANUP_CLEANUP_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "global/mail_conf.h"

struct cleanup_rewrite;
struct cleanup_state;

/* Open the tables named in conf; never fails (see global/maps.h). */
struct cleanup_rewrite *cleanup_rewrite_create(struct mail_conf *conf);
void cleanup_rewrite_destroy(struct cleanup_rewrite **rwp);

/*
 * The envelope sender after sender_canonical_maps, canonical_maps and
 * masquerading (each as its class list says); a new string the caller
 * frees. "" (the null sender) stays "".
 */
char *cleanup_rewrite_sender(struct cleanup_state *st, const char *sender);

/*
 * Write the BCC recipients for the (rewritten) sender: sender_bcc_maps.
 * Call after the sender record.
 */
void cleanup_rewrite_sender_bcc(struct cleanup_state *st);

/*
 * Rewrite one envelope recipient (recipient_canonical_maps,
 * canonical_maps, masquerading), add its recipient_bcc_maps copy, expand
 * virtual_alias_maps, and write each resulting recipient with
 * cleanup_rewrite_out (the held O/n/o attributes go with each).
 */
void cleanup_rewrite_recipient(struct cleanup_state *st, const char *rcpt);

/*
 * True when the message's headers are rewritten (and missing headers
 * added): a local client, or a remote one when remote_header_rewrite_domain
 * is set, as in Postfix.
 */
bool cleanup_rewrite_has_header_context(const struct cleanup_state *st);

/*
 * Rewrite the addresses of a sender or recipient header (the logical
 * header text[0..len), without its line end): address completion,
 * canonical maps and masquerading, as the message's rewrite context and
 * the *_classes parameters say. Returns the new header (lines joined by
 * "\n\t"), which the caller frees, or NULL to keep the header as it is
 * (not such a header, nothing changed, not parseable, or a table failed:
 * then the message is deferred as above).
 */
char *
cleanup_rewrite_header(struct cleanup_state *st, const char *text, size_t len);

/* always_bcc, at the end of the envelope when there are recipients. */
void cleanup_rewrite_always_bcc(struct cleanup_state *st);

/*
 * Provided by cleanup_envelope.c: write one final recipient with its
 * original recipient (NULL: none), DSN original recipient and notify
 * (NULL: none), unless the duplicate filter has seen it.
 */
void cleanup_rewrite_out(struct cleanup_state *st, const char *rcpt,
			 const char *orcpt, const char *dsn_orcpt,
			 const char *notify);

#endif
