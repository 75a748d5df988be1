/*
 * dsn_report.c - builds the text of a delivery status notification.
 *
 * See dsn_report.h. The field names, subjects, part descriptions and the
 * From: line are Postfix's (they are what people and programs look for);
 * the prose of the text part is our own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "global/dsn_report.h"
#include "global/header_fix.h"
#include "global/rec_type.h"
#include "util/strbuf.h"

/* Where the lines go; the first failure stops all output. */
struct writer {
	dsn_report_out_fn *out;
	void *ctx;
	struct err *err;
	int status;
	struct strbuf line;
};

static void
emit_bytes(struct writer *w, const char *data, size_t len, bool is_continued)
{
	struct dsn_line line = { data, len, is_continued };

	if (w->status == 0)
		w->status = w->out(&line, w->ctx, w->err);
}

static void
emit(struct writer *w, const char *text)
{
	emit_bytes(w, text, strlen(text), false);
}

static void __attribute__((format(printf, 2, 3)))
emitf(struct writer *w, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&w->line);
	va_start(ap, fmt);
	(void)strbuf_vprintf(&w->line, fmt, ap);
	va_end(ap);
	emit_bytes(w, w->line.data, w->line.len, false);
}

/* Emit text cut at spaces into lines of DSN_REPORT_WRAP, indented by 4. */
static void
emit_wrapped(struct writer *w, const char *text)
{
	struct strbuf out;
	const char *cp = text;

	strbuf_init(&out, STRBUF_UNLIMITED);
	while (*cp) {
		size_t word = strcspn(cp, " ");

		if (out.len > 0 && out.len + 1 + word > DSN_REPORT_WRAP) {
			emit_bytes(w, out.data, out.len, false);
			strbuf_set(&out, "   ");
		}
		if (out.len > 0)
			(void)strbuf_append_char(&out, ' ');
		(void)strbuf_append(&out, cp, word);
		cp += word;
		cp += strspn(cp, " ");
	}
	emit_bytes(w, out.data, out.len, false);
	strbuf_deinit(&out);
}

static bool
is_set(const char *text)
{
	return text != NULL && *text != 0;
}

void
dsn_report_duration(long long seconds, struct strbuf *out)
{
	static const struct {
		long long size;
		const char *name;
	} units[] = {
		{ 86400, "day" },
		{ 3600, "hour" },
		{ 60, "minute" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (seconds > 0 && seconds % units[i].size == 0) {
			(void)strbuf_printf(out, "%lld %s(s)",
					    seconds / units[i].size,
					    units[i].name);
			return;
		}
	}
	(void)strbuf_printf(out, "%lld second(s)", seconds);
}

const char *
dsn_report_subject(const struct dsn_report_info *info)
{
	switch (info->kind) {
	case DSN_REPORT_DELAY:
		return info->is_postmaster_copy
			       ? "Postmaster Warning: Delayed Mail"
			       : "Delayed Mail (still being retried)";
	case DSN_REPORT_SUCCESS:
		return "Successful Mail Delivery Report";
	case DSN_REPORT_TRACE:
		return "Mail Delivery Status Report";
	case DSN_REPORT_FAILURE:
	default:
		return info->is_postmaster_copy
			       ? "Postmaster Copy: Undelivered Mail"
			       : "Undelivered Mail Returned to Sender";
	}
}

bool
dsn_report_is_full(const struct dsn_report_info *info)
{
	return info->kind == DSN_REPORT_FAILURE && !info->want_headers_only &&
	       info->ret != REC_DSN_RET_HDRS &&
	       info->content_length <= info->bounce_size_limit;
}

static void
put_headers(struct writer *w, const struct dsn_report_info *info,
	    const char *boundary)
{
	emitf(w, "From: MAILER-DAEMON@%s (Mail Delivery System)",
	      info->myhostname);
	emitf(w, "Subject: %s", dsn_report_subject(info));
	emitf(w, "To: %s", info->to);
	if (is_set(info->message_id)) {
		emitf(w, "References: %s", info->message_id);
		emitf(w, "In-Reply-To: %s", info->message_id);
	}
	emitf(w, "Auto-Submitted: %s",
	      info->is_postmaster_copy ? "auto-generated" : "auto-replied");
	emit(w, "MIME-Version: 1.0");
	emit(w, "Content-Type: multipart/report; report-type=delivery-status;");
	emitf(w, "\tboundary=\"%s\"", boundary);
	emitf(w, "Content-Transfer-Encoding: %s",
	      info->is_8bit ? "8bit" : "7bit");
	emit(w, "");
	emit(w, "This is a MIME-encapsulated message.");
	emit(w, "");
}

/* The introduction of the text part, before the recipients. */
static void
put_intro(struct writer *w, const struct dsn_report_info *info)
{
	struct strbuf dur;

	emitf(w, "This report comes from the mail system at host %s.",
	      info->myhostname);
	emit(w, "");
	switch (info->kind) {
	case DSN_REPORT_DELAY:
		strbuf_init(&dur, STRBUF_UNLIMITED);
		emit(w, "This is a warning only: there is no need to send "
			"your message again.");
		emit(w, "");
		dsn_report_duration(info->delay_warning_time, &dur);
		emitf(w,
		      "Your message has waited for delivery for more "
		      "than %s.",
		      dur.data);
		strbuf_reset(&dur);
		dsn_report_duration(info->maximal_queue_lifetime, &dur);
		emitf(w,
		      "The mail system will keep trying until it is %s "
		      "old.",
		      dur.data);
		strbuf_deinit(&dur);
		emit(w, "");
		emit(w, "If you need help, write to postmaster.");
		break;
	case DSN_REPORT_SUCCESS:
		emit(w, "As you asked, here is the delivery report for your "
			"message. It was");
		emit(w, "delivered to the recipients listed below. Where it "
			"went into a mailbox,");
		emit(w, "no further notices will follow; other systems on "
			"the way may still");
		emit(w, "report errors.");
		break;
	case DSN_REPORT_TRACE:
		emit(w, "Here is the delivery report you asked for: what "
			"happened to each");
		emit(w, "recipient, or for an address check (sendmail -bv), "
			"what would happen.");
		break;
	case DSN_REPORT_FAILURE:
	default:
		emit(w, "Your message could not be delivered to one or more "
			"of its recipients.");
		emit(w, "A copy of it is attached below.");
		emit(w, "");
		emit(w, "If you need help, write to postmaster and include "
			"this report; you may");
		emit(w, "remove your own text from the attached message.");
		break;
	}
	emit(w, "");
	emit(w, "                   The mail system");
	emit(w, "");
}

/*
 * The reason as a status report gives it: "delivery via RELAY: REASON"
 * when a delivery agent got as far as a relay, else the reason alone.
 */
static void
append_trace_reason(struct strbuf *text, const struct dsn_report_info *info,
		    const struct msg_log_entry *e)
{
	if (info->kind == DSN_REPORT_TRACE && is_set(e->relay) &&
	    strcmp(e->relay, "none") != 0)
		(void)strbuf_printf(text, "delivery via %s: ", e->relay);
	(void)strbuf_append_str(text, e->reason);
}

/* One recipient in the text part: "<a@b> (expanded from <c@d>): why". */
static void
put_text_rcpt(struct writer *w, const struct dsn_report_info *info,
	      const struct msg_log_entry *e)
{
	struct strbuf text;

	strbuf_init(&text, STRBUF_UNLIMITED);
	(void)strbuf_printf(&text, "<%s>", e->recipient);
	if (is_set(e->orig_rcpt) && strcmp(e->orig_rcpt, e->recipient) != 0)
		(void)strbuf_printf(&text, " (expanded from <%s>)",
				    e->orig_rcpt);
	(void)strbuf_append_str(&text, ": ");
	if (info->kind == DSN_REPORT_SUCCESS && is_set(e->relay))
		(void)strbuf_printf(&text, "delivery via %s: ", e->relay);
	append_trace_reason(&text, info, e);
	emit_wrapped(w, text.data);
	emit(w, "");
	strbuf_deinit(&text);
}

static void
put_date_field(struct writer *w, const char *name, time_t when)
{
	struct strbuf date;

	strbuf_init(&date, STRBUF_UNLIMITED);
	header_fix_date(when, &date);
	emitf(w, "%s: %s", name, date.data);
	strbuf_deinit(&date);
}

/* One recipient's block of the delivery-status part. */
static void
put_status_rcpt(struct writer *w, const struct dsn_report_info *info,
		const struct msg_log_entry *e, const char *force_action)
{
	emitf(w, "Final-Recipient: rfc822; %s", e->recipient);
	if (is_set(e->dsn_orcpt))
		emitf(w, "Original-Recipient: %s", e->dsn_orcpt);
	else
		emitf(w, "Original-Recipient: rfc822; %s",
		      is_set(e->orig_rcpt) ? e->orig_rcpt : e->recipient);
	emitf(w, "Action: %s", force_action != NULL ? force_action : e->action);
	emitf(w, "Status: %s", e->status);
	if (is_set(e->dsn_mta))
		emitf(w, "Remote-MTA: %s", e->dsn_mta);
	if (is_set(e->diag_text)) {
		emitf(w, "Diagnostic-Code: %s", e->diag_text);
	} else {
		struct strbuf reason;

		strbuf_init(&reason, STRBUF_UNLIMITED);
		append_trace_reason(&reason, info, e);
		emitf(w, "Diagnostic-Code: X-%s; %s", info->mail_name,
		      reason.data);
		strbuf_deinit(&reason);
	}
	if (info->kind == DSN_REPORT_DELAY && info->retry_until > 0)
		put_date_field(w, "Will-Retry-Until", info->retry_until);
	emit(w, "");
}

static void
put_status_part(struct writer *w, const struct dsn_report_info *info,
		const struct msg_log_entry *entries, size_t count,
		const char *force_action)
{
	emit(w, "Content-Description: Delivery report");
	emit(w, "Content-Type: message/delivery-status");
	emit(w, "");
	emitf(w, "Reporting-MTA: dns; %s", info->myhostname);
	if (is_set(info->envid))
		emitf(w, "Original-Envelope-Id: %s", info->envid);
	emitf(w, "X-%s-Queue-ID: %s", info->mail_name, info->queue_id);
	emitf(w, "X-%s-Sender: rfc822; %s", info->mail_name, info->sender);
	put_date_field(w, "Arrival-Date", info->arrival);
	emit(w, "");
	for (size_t i = 0; i < count; i++)
		put_status_rcpt(w, info, &entries[i], force_action);
}

/* The third part: the whole original, or its headers. */
static void
put_original(struct writer *w, const struct dsn_report_info *info,
	     const struct dsn_line *content, size_t count)
{
	bool is_full = dsn_report_is_full(info);
	bool is_line_start = true;

	emitf(w, "Content-Description: %s%s",
	      info->kind == DSN_REPORT_SUCCESS || info->kind == DSN_REPORT_TRACE
		      ? ""
		      : "Undelivered ",
	      is_full ? "Message" : "Message Headers");
	emitf(w, "Content-Type: %s",
	      is_full ? "message/rfc822" : "text/rfc822-headers");
	emitf(w, "Content-Transfer-Encoding: %s",
	      info->is_8bit ? "8bit" : "7bit");
	emit(w, "");
	for (size_t i = 0; i < count; i++) {
		const struct dsn_line *l = &content[i];

		if (!is_full && is_line_start && l->len == 0 &&
		    !l->is_continued)
			break;
		emit_bytes(w, l->data, l->len, l->is_continued);
		is_line_start = !l->is_continued;
	}
	/* A piece that said "more follows" must be ended. */
	if (!is_line_start)
		emit(w, "");
	emit(w, "");
}

int
dsn_report_build(const struct dsn_report_info *info,
		 const struct msg_log_entry *entries, size_t entry_count,
		 const char *force_action, const struct dsn_line *content,
		 size_t content_count, dsn_report_out_fn *out, void *ctx,
		 struct err *err)
{
	struct writer w = { .out = out, .ctx = ctx, .err = err };
	struct strbuf boundary;

	strbuf_init(&w.line, STRBUF_UNLIMITED);
	strbuf_init(&boundary, STRBUF_UNLIMITED);
	(void)strbuf_printf(&boundary, "%s.%lld/%s", info->queue_id,
			    (long long)info->now, info->myhostname);
	put_headers(&w, info, boundary.data);
	emitf(&w, "--%s", boundary.data);
	emit(&w, "Content-Description: Notification");
	emit(&w, "Content-Type: text/plain; charset=us-ascii");
	emit(&w, "");
	put_intro(&w, info);
	for (size_t i = 0; i < entry_count; i++)
		put_text_rcpt(&w, info, &entries[i]);
	emitf(&w, "--%s", boundary.data);
	put_status_part(&w, info, entries, entry_count, force_action);
	emitf(&w, "--%s", boundary.data);
	put_original(&w, info, content, content_count);
	emitf(&w, "--%s--", boundary.data);
	strbuf_deinit(&boundary);
	strbuf_deinit(&w.line);
	return w.status;
}
