/*
 * header_fix.h - which headers a message has, and the ones cleanup adds.
 *
 * cleanup notes each header it passes (header_fix_note): which of the
 * headers it cares about were seen, whether any was a Resent- header, and
 * how many Received: headers there were (the hop count). When the headers
 * end, header_fix_missing lists what to add, as Postfix 3.7 adds it when
 * the client is local or always_add_missing_headers is set, in its order:
 *     Message-Id: <YYYYMMDDHHMMSS.QUEUEID@myhostname>   (UTC file creation
 *                 time; "<QUEUEID@myhostname>" with long queue IDs)
 *     Date: Sun,  2 Nov 2026 18:05:34 +0000 (UTC)      (arrival, local time)
 *     From: "Full Name" <sender> | From: sender | From: MAILER-DAEMON
 *     undisclosed_recipients_header, when set and there is no To/Cc/Bcc
 * With a Resent- header present, the Resent- forms are checked and added.
 * Bcc, Resent-Bcc, Return-Path and Content-Length headers are dropped, as
 * Postfix drops them (Bcc from SMTP and sendmail alike).
 */
#ifndef POSTERN_GLOBAL_HEADER_FIX_H
#define POSTERN_GLOBAL_HEADER_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/argv.h"
#include "util/strbuf.h"

enum header_kind {
	HDR_OTHER,
	HDR_FROM,
	HDR_TO,
	HDR_CC,
	HDR_BCC,
	HDR_DATE,
	HDR_MESSAGE_ID,
	HDR_RESENT_FROM,
	HDR_RESENT_TO,
	HDR_RESENT_CC,
	HDR_RESENT_BCC,
	HDR_RESENT_DATE,
	HDR_RESENT_MESSAGE_ID,
	HDR_RESENT_OTHER, /* Resent-Reply-To, Resent-Sender */
	HDR_RECEIVED,
	HDR_RETURN_PATH,
	HDR_CONTENT_LENGTH,
};

/* What the headers so far contained. Zero it to start. */
struct header_seen {
	unsigned mask; /* 1 << enum header_kind */
	bool has_resent;
	int hop_count; /* Received: headers */
};

/* The kind of a logical header (case-insensitive name match). */
enum header_kind header_fix_kind(const char *text, size_t len);

/* True for the kinds cleanup removes from the message. */
bool header_fix_is_dropped(enum header_kind kind);

/* Record a header of this kind. */
void header_fix_note(struct header_seen *seen, enum header_kind kind);

/* What header_fix_missing needs to know about the message. */
struct header_fix_input {
	const char *queue_id;
	time_t create_time;   /* queue file creation: the Message-Id stamp */
	time_t arrival_time;  /* the Date: header */
	const char *sender;   /* internal form; "" for the null sender */
	const char *fullname; /* sender's full name, or NULL */
	const char *myhostname;
	const char *header_from_format; /* "standard" or "obsolete" */
	const char *undisclosed_recipients_header; /* "" for none */
};

/*
 * Append to out each header to add (one logical header per element,
 * without a line end), in order. message_id_out (may be NULL) receives
 * the added message ID without brackets, or stays empty when none was
 * added.
 */
void header_fix_missing(const struct header_seen *seen,
			const struct header_fix_input *in, struct argv *out,
			struct strbuf *message_id_out);

/* Append an RFC 5322 date in local time, as Postfix writes it, to out. */
void header_fix_date(time_t when, struct strbuf *out);

/*
 * Append a display name as an RFC 5322 phrase: as it is when it holds
 * only atoms and spaces, else quoted with '"' and '\' escaped.
 */
void header_fix_phrase(const char *name, struct strbuf *out);

#endif
