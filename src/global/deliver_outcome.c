/*
 * deliver_outcome.c - a delivery agent's report of each recipient: the
 * Postfix log line, the per-message log entry, the done mark, and the
 * content reader (see deliver_request.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/deliver_request.h"
#include "global/mail_addr.h"
#include "global/msg_log.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/log.h"
#include "util/mymalloc.h"

static double
seconds_between(const struct timespec *from, const struct timespec *to)
{
	double d = (double)(to->tv_sec - from->tv_sec) +
		   (double)(to->tv_nsec - from->tv_nsec) / 1e9;

	return d < 0 ? 0 : d;
}

/*
 * A delay as Postfix logs it: two significant digits, at most two
 * decimals, no trailing zeros ("0.08", "1.2", "12", "0").
 */
static void
delay_format(double d, char *buf, size_t size)
{
	int decimals = d >= 10 ? 0 : d >= 1 ? 1 : 2;
	char *end;

	snprintf(buf, size, "%.*f", decimals, d);
	if (strchr(buf, '.') == NULL)
		return;
	end = buf + strlen(buf);
	while (end[-1] == '0')
		*--end = 0;
	if (end[-1] == '.')
		end[-1] = 0;
}

/* "delay=N, delays=a/b/c/d" for now. */
static void
delays_format(const struct deliver_request *req, double conn_setup,
	      char *buf, size_t size)
{
	struct timespec now;
	char total[32], a[32], b[32], c[32], d[32];
	double transmit;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	transmit = seconds_between(&req->received, &now) - conn_setup;
	delay_format(seconds_between(&req->arrival, &now), total, sizeof(total));
	delay_format(seconds_between(&req->arrival, &req->active), a, sizeof(a));
	delay_format(seconds_between(&req->active, &req->received), b,
		     sizeof(b));
	delay_format(conn_setup, c, sizeof(c));
	delay_format(transmit < 0 ? 0 : transmit, d, sizeof(d));
	snprintf(buf, size, "delay=%s, delays=%s/%s/%s/%s", total, a, b, c, d);
}

static void
log_outcome(const struct deliver_request *req, const struct deliver_rcpt *rcpt,
	    const struct deliver_status *st, const char *status_word)
{
	char delays[200];
	char conn_use[40] = "";
	char *to = mail_addr_quote(rcpt->address);
	char *orig = NULL;

	if (rcpt->orig_rcpt[0] != 0 &&
	    strcasecmp(rcpt->orig_rcpt, rcpt->address) != 0)
		orig = mail_addr_quote(rcpt->orig_rcpt);
	delays_format(req, st->conn_setup, delays, sizeof(delays));
	if (st->conn_use > 1)
		snprintf(conn_use, sizeof(conn_use), ", conn_use=%u",
			 st->conn_use);
	log_info("%s: to=<%s>%s%s%s, relay=%s%s, %s, dsn=%s, status=%s (%s)",
		 req->queue_id, to, orig ? ", orig_to=<" : "", orig ? orig : "",
		 orig ? ">" : "", st->relay ? st->relay : "none", conn_use,
		 delays, st->dsn ? st->dsn : "4.0.0", status_word,
		 st->reason ? st->reason : "");
	free(orig);
	free(to);
}

static int
log_append(struct deliver_request *req, const struct deliver_rcpt *rcpt,
	   const struct deliver_status *st, const char *log,
	   const char *action, bool want_sync, struct err *err)
{
	struct msg_log_entry e = {
		.recipient = rcpt->address,
		.orig_rcpt = rcpt->orig_rcpt,
		.offset = rcpt->offset,
		.dsn_orcpt = rcpt->dsn_orcpt,
		.notify_flags = rcpt->dsn_notify,
		.status = st->dsn ? st->dsn : "4.0.0",
		.action = st->action ? st->action : action,
		.reason = st->reason,
		.relay = st->relay,
		.dsn_mta = st->mta_name,
		.diag_text = st->diag_text,
		.when = time(NULL),
	};

	return msg_log_append(req->ql, log, req->queue_id, &e, want_sync, err);
}

static int
mark_done(struct deliver_request *req, const struct deliver_rcpt *rcpt,
	  struct err *err)
{
	return queue_file_mark_done(req->queue_fd, req->queue_id, rcpt->offset,
				    false, err);
}

/* A finishing outcome could not be made durable: defer it instead. */
static int
fall_back_to_defer(struct deliver_request *req, size_t index,
		   const struct deliver_status *st, struct err *err)
{
	struct deliver_status retry = *st;

	log_warning("%s: %s", req->queue_id, err->text);
	retry.dsn = "4.3.0";
	retry.reason = "mail system error: cannot update the queue file";
	retry.action = NULL;
	(void)deliver_deferred(req, index, &retry, NULL);
	return -1;
}

static bool
wants_trace(const struct deliver_request *req, const struct deliver_rcpt *rcpt)
{
	return (rcpt->dsn_notify & REC_DSN_NOTIFY_SUCCESS) != 0 ||
	       (req->flags & (DELIVER_FLAG_RECORD | DELIVER_FLAG_VERIFY)) != 0;
}

/* sendmail -v: failures and delays go into the report too. */
static void
record_trace(struct deliver_request *req, const struct deliver_rcpt *rcpt,
	     const struct deliver_status *st, const char *action)
{
	struct err err;

	if ((req->flags & DELIVER_FLAG_RECORD) != 0 &&
	    log_append(req, rcpt, st, MSG_LOG_TRACE, action, false, &err) < 0)
		log_warning("%s: %s", req->queue_id, err.text);
}

/*
 * sendmail -bv: the outcome the delivery would have had goes into the
 * trace log only, and the recipient is done either way; the report to
 * the sender is the whole result.
 */
static int
deliver_verified(struct deliver_request *req, size_t index,
		 const struct deliver_status *st, bool is_deliverable,
		 struct err *err)
{
	const struct deliver_rcpt *rcpt = &req->rcpts[index];
	const char *word = is_deliverable ? "deliverable" : "undeliverable";
	struct deliver_status vst = *st;

	vst.action = word;
	/* Not done, so a later attempt asks again. */
	if (log_append(req, rcpt, &vst, MSG_LOG_TRACE, word, true, err) < 0 ||
	    mark_done(req, rcpt, err) < 0) {
		log_warning("%s: %s", req->queue_id, err->text);
		req->results[index] = DELIVER_RESULT_DEFERRED;
		return -1;
	}
	log_outcome(req, rcpt, st, word);
	req->results[index] = DELIVER_RESULT_SENT;
	return 0;
}

int
deliver_sent(struct deliver_request *req, size_t index,
	     const struct deliver_status *st, struct err *err)
{
	const struct deliver_rcpt *rcpt = &req->rcpts[index];
	struct err scratch;

	if (err == NULL)
		err = &scratch;
	if (req->flags & DELIVER_FLAG_VERIFY)
		return deliver_verified(req, index, st, true, err);
	if (wants_trace(req, rcpt) &&
	    log_append(req, rcpt, st, MSG_LOG_TRACE, "delivered", false, err) < 0)
		log_warning("%s: %s", req->queue_id, err->text);
	if (mark_done(req, rcpt, err) < 0)
		return fall_back_to_defer(req, index, st, err);
	log_outcome(req, rcpt, st, "sent");
	req->results[index] = DELIVER_RESULT_SENT;
	return 0;
}

int
deliver_bounced(struct deliver_request *req, size_t index,
		const struct deliver_status *st, struct err *err)
{
	const struct deliver_rcpt *rcpt = &req->rcpts[index];
	struct err scratch;

	if (err == NULL)
		err = &scratch;
	if (req->flags & DELIVER_FLAG_VERIFY)
		return deliver_verified(req, index, st, false, err);
	/* The bounce entry must be on disk before the recipient is done. */
	if (log_append(req, rcpt, st, MSG_LOG_BOUNCE, "failed", true, err) < 0 ||
	    mark_done(req, rcpt, err) < 0)
		return fall_back_to_defer(req, index, st, err);
	record_trace(req, rcpt, st, "failed");
	log_outcome(req, rcpt, st, "bounced");
	req->results[index] = DELIVER_RESULT_BOUNCED;
	return 0;
}

int
deliver_deferred(struct deliver_request *req, size_t index,
		 const struct deliver_status *st, struct err *err)
{
	const struct deliver_rcpt *rcpt = &req->rcpts[index];
	struct err scratch;

	if (err == NULL)
		err = &scratch;
	/* A verify probe says now what the retry would still have to say. */
	if (req->flags & DELIVER_FLAG_VERIFY)
		return deliver_verified(req, index, st, false, err);
	/* The recipient stays in the queue file; the entry is its reason. */
	if (log_append(req, rcpt, st, MSG_LOG_DEFER, "delayed", false, err) < 0)
		log_warning("%s: %s", req->queue_id, err->text);
	record_trace(req, rcpt, st, "delayed");
	log_outcome(req, rcpt, st, "deferred");
	req->results[index] = DELIVER_RESULT_DEFERRED;
	return 0;
}

void
deliver_all(struct deliver_request *req, int kind,
	    const struct deliver_status *st)
{
	for (size_t i = 0; i < req->rcpt_count; i++) {
		if (req->results[i] != 0)
			continue;
		if (kind == DELIVER_RESULT_SENT)
			(void)deliver_sent(req, i, st, NULL);
		else if (kind == DELIVER_RESULT_BOUNCED)
			(void)deliver_bounced(req, i, st, NULL);
		else
			(void)deliver_deferred(req, i, st, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Content.                                                             */

static int
content_copy(struct deliver_request *req, struct record_reader *rr,
	     deliver_content_fn *out_fn, void *ctx, struct err *err)
{
	struct strbuf data;
	int type;
	int ret;

	strbuf_init(&data, QUEUE_FILE_RECORD_LIMIT);
	for (;;) {
		ret = record_read(rr, &type, &data, err);
		if (ret <= 0) {
			if (ret == 0)
				err_set(err, "%s: unexpected end of file in the content",
					req->queue_id);
			ret = -1;
			break;
		}
		if (type == REC_TYPE_XTRA) {
			ret = 0;
			break;
		}
		if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
			err_set(err, "%s: offset %lld: unexpected record type '%c' in the content",
				req->queue_id, (long long)rr->rec_offset, type);
			ret = -1;
			break;
		}
		if (out_fn(strbuf_text(&data), strbuf_len(&data),
			   type == REC_TYPE_NORM, ctx, err) < 0) {
			ret = -1;
			break;
		}
	}
	strbuf_deinit(&data);
	return ret;
}

int
deliver_content(struct deliver_request *req, deliver_content_fn *out_fn,
		void *ctx, struct err *err)
{
	struct record_reader rr;
	struct stream *s;
	int fd = dup(req->queue_fd);
	int ret;

	if (fd < 0 || lseek(fd, req->data_offset, SEEK_SET) < 0) {
		err_set(err, "%s: read content: %s", req->queue_id,
			strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	s = stream_open(fd, 0);
	record_reader_init(&rr, s, req->queue_id, req->data_offset);
	ret = content_copy(req, &rr, out_fn, ctx, err);
	(void)stream_close(&s);
	return ret;
}
