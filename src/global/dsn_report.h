/*
 * dsn_report.h - the text of a delivery status notification (RFC 3464).
 *
 * The bounce service turns a message's per-message log into a
 * multipart/report message, shaped as Postfix 3.7 shapes it: headers
 * (From: MAILER-DAEMON@myhostname (Mail Delivery System), Subject, To,
 * Auto-Submitted, MIME), a text/plain part for people, a
 * message/delivery-status part (Reporting-MTA, X-Postfix-Queue-ID, ...,
 * one block per recipient) and the original message as message/rfc822
 * or only its headers as text/rfc822-headers. The builder is a pure
 * function of its inputs: the caller reads the queue file and the log,
 * and sends the lines it gets to cleanup.
 */
#ifndef POSTERN_GLOBAL_DSN_REPORT_H
#define POSTERN_GLOBAL_DSN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "global/msg_log.h"
#include "util/err.h"
#include "util/strbuf.h"

enum dsn_report_kind {
	DSN_REPORT_FAILURE, /* "Undelivered Mail Returned to Sender" */
	DSN_REPORT_DELAY,   /* "Delayed Mail (still being retried)" */
	DSN_REPORT_SUCCESS, /* "Successful Mail Delivery Report" */
	DSN_REPORT_TRACE,   /* "Mail Delivery Status Report" (sendmail -v,
			       -bv): every recipient, whatever happened */
};

/* Bytes of a line that the report wraps (the text part's recipients). */
#define DSN_REPORT_WRAP 78

/* One line of the original message, or a piece of a longer one. */
struct dsn_line {
	const char *data;
	size_t len;
	bool is_continued; /* more of this line follows in the next piece */
};

/* What the report says about the message. */
struct dsn_report_info {
	enum dsn_report_kind kind;
	/* A postmaster notice: "Postmaster Copy: Undelivered Mail" or
	 * "Postmaster Warning: Delayed Mail", Auto-Submitted: auto-generated.
	 */
	bool is_postmaster_copy;
	/* Return only the headers whatever RET says (postmaster copies,
	 * delay and success notices). */
	bool want_headers_only;
	const char *myhostname;
	const char *mail_name;  /* "Postfix": X-Postfix-Queue-ID */
	const char *queue_id;   /* the original message's */
	const char *sender;     /* its envelope sender, "" for <> */
	const char *to;         /* the notice's recipient (external form) */
	const char *envid;      /* DSN ENVID, NULL or "" for none */
	const char *message_id; /* "<id>" of the original, or NULL */
	int ret;                /* REC_DSN_RET_*, 0 when not given */
	time_t arrival;         /* Arrival-Date */
	time_t now;             /* makes the MIME boundary */
	/* Delay notices: Will-Retry-Until (0: none), and the two durations
	 * the text quotes, in seconds. */
	time_t retry_until;
	long long delay_warning_time;
	long long maximal_queue_lifetime;
	/* The original's content length, and the most that is returned in
	 * full (bounce_size_limit): a longer message returns its headers. */
	long long content_length;
	long long bounce_size_limit;
	bool is_8bit; /* the original has 8-bit bytes: 8bit encoding */
};

/* Receives each line of the report, without a line end. */
typedef int
dsn_report_out_fn(const struct dsn_line *line, void *ctx, struct err *err);

/*
 * Write the whole report (headers, empty line, body) through out: the
 * recipients' blocks from entries (their action as logged; force_action
 * not NULL replaces it, as "failed" for expired mail), and the original
 * message from content (count pieces: its headers, an empty line and as
 * much of the body as the caller read, or just the headers when the
 * report returns headers only; the builder stops at the first empty line
 * then). Returns 0, or out's -1 with its err.
 */
int dsn_report_build(const struct dsn_report_info *info,
		     const struct msg_log_entry *entries, size_t entry_count,
		     const char *force_action, const struct dsn_line *content,
		     size_t content_count, dsn_report_out_fn *out, void *ctx,
		     struct err *err);

/* True if the report returns the original in full (message/rfc822). */
bool dsn_report_is_full(const struct dsn_report_info *info);

/* The notice's Subject (without "Subject: "). */
const char *dsn_report_subject(const struct dsn_report_info *info);

/*
 * Append to out a duration as the text part words it: "4 hour(s)",
 * "5 day(s)", "90 minute(s)", "30 second(s)" (the largest unit that
 * divides it).
 */
void dsn_report_duration(long long seconds, struct strbuf *out);

#endif
