/*
 * mailq_format.h - the queue listing as postqueue -p (mailq, sendmail
 * -bp) and postqueue -j print it, in Postfix 3.7's exact shape.
 *
 * -p, with short queue IDs (long IDs widen the columns):
 *     -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
 *     3F2A1B7C9D*     312 Mon Nov 22 16:54:58  sender@example.com
 *                                  (connect to example.org[...]: refused)
 *                                              rcpt@example.org
 *     <empty line>
 *     -- 0 Kbytes in 1 Request.
 * that is "%-11s %7d %s  %s" (long IDs: "%-17s %8d %s %s", recipients
 * at column 47), where the ID is followed by '*' (active), '!' (hold) or
 * '#' (forced to expire); a reason line (right-aligned in 78 columns) comes
 * before each recipient whose delay reason differs from the one before ("reason
 * unavailable" for none); "Mail queue is empty" when there is nothing.
 * -j: one JSON object per line (see postqueue(1)); the null sender is
 * MAILER-DAEMON in both forms.
 * Output is appended to a caller's strbuf, so it can be tested and
 * written in pieces; arrival times are shown in local time.
 */
#ifndef POSTERN_GLOBAL_MAILQ_FORMAT_H
#define POSTERN_GLOBAL_MAILQ_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "global/showq_clnt.h"
#include "util/strbuf.h"

enum mailq_style {
	MAILQ_STYLE_SENDMAIL, /* postqueue -p */
	MAILQ_STYLE_JSON,     /* postqueue -j */
};

struct mailq_format;

/* want_long_ids: enable_long_queue_ids, which widens the -p columns. */
struct mailq_format *
mailq_format_create(enum mailq_style style, bool want_long_ids);
void mailq_format_destroy(struct mailq_format **mfp);

/* One queue file: its first line (and the header before the first). */
void mailq_format_entry(struct mailq_format *mf,
			const struct showq_entry *entry, struct strbuf *out);

/* One of its recipients. */
void mailq_format_rcpt(struct mailq_format *mf, const struct showq_rcpt *rcpt,
		       struct strbuf *out);

/* The end of the current queue file. */
void mailq_format_entry_end(struct mailq_format *mf, struct strbuf *out);

/* The end of the listing: the totals, or "Mail queue is empty". */
void mailq_format_finish(struct mailq_format *mf, struct strbuf *out);

/*
 * Append text as a JSON string body (no quotes around it): '"' and '\'
 * escaped, \b \f \n \r \t, other control characters and DEL as \u00XX;
 * other bytes as they are.
 */
void mailq_json_quote(const char *text, struct strbuf *out);

#endif
