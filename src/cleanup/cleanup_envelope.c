/*
 * cleanup_envelope.c - check the client's envelope records and write them.
 *
 * The file's envelope starts with the arrival time, the creation time and
 * the rewrite context (the order Postfix writes), then what the client
 * sent. Recipient attributes (O, n, o) are held until their recipient
 * arrives, so a duplicate recipient (same address, original recipient and
 * DSN parameters) can be dropped as a whole; the first
 * duplicate_filter_limit recipients are remembered for that. The sender
 * and each recipient are rewritten first (cleanup_rewrite.c: canonical
 * maps, masquerading, virtual aliases, BCC recipients); always_bcc comes
 * last in the envelope (Postfix puts it after the content).
 * Security: every record is untrusted; its data has already been bounded
 * by line_length_limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cleanup_checks.h"
#include "cleanup_rewrite.h"
#include "global/cleanup_clnt.h"
#include "global/rec_type.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* Attributes only cleanup writes. */
static const char *const reserved_attrs[] = {
	REC_ATTR_CREATE_TIME,
	REC_ATTR_REWRITE_CONTEXT,
	REC_ATTR_LOG_IDENT,
	NULL,
};

static int
check_attr(const char *data, size_t len, struct err *err)
{
	const char *eq = memchr(data, '=', len);

	for (size_t i = 0; eq != NULL && reserved_attrs[i] != NULL; i++) {
		if (strlen(reserved_attrs[i]) == (size_t)(eq - data) &&
		    strncmp(data, reserved_attrs[i], (size_t)(eq - data)) ==
			    0) {
			err_set(err, "attribute %s is reserved",
				reserved_attrs[i]);
			return -1;
		}
	}
	return 0;
}

/* HOLD or DISCARD from smtpd's access tables; not written to the file. */
static int
smtpd_action(struct cleanup_state *st, const char *data, struct err *err)
{
	const char *action = data + strlen(CLEANUP_ATTR_SMTPD_ACTION) + 1;

	if (cleanup_checks_smtpd_action(st, action) < 0) {
		err_set(err, "unknown %s \"%s\"", CLEANUP_ATTR_SMTPD_ACTION,
			action);
		return -1;
	}
	return 0;
}

/* The records that open every envelope, once the arrival time is known. */
static void
write_start(struct cleanup_state *st)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld %ld", (long long)st->arrival.tv_sec,
		 st->arrival.tv_nsec / 1000);
	cleanup_out(st, REC_TYPE_TIME, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s=%lld", REC_ATTR_CREATE_TIME,
		 (long long)st->create_time);
	cleanup_out(st, REC_TYPE_ATTR, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s=%s", REC_ATTR_REWRITE_CONTEXT,
		 (st->flags & CLEANUP_FLAG_LOCAL) ? "local" : "remote");
	cleanup_out(st, REC_TYPE_ATTR, buf, strlen(buf));
	/* When qmgr should tell the sender the mail is still queued. */
	if (st->params->delay_warning_time > 0) {
		snprintf(buf, sizeof(buf), REC_WARN_FORMAT,
			 (long long)st->arrival.tv_sec +
				 st->params->delay_warning_time);
		cleanup_out(st, REC_TYPE_WARN, buf, strlen(buf));
	}
	st->phase = PHASE_ENVELOPE;
}

static int
take_time(struct cleanup_state *st, const char *data, struct err *err)
{
	long long sec;
	long usec;

	if (st->phase != PHASE_START) {
		err_set(err, "arrival time record after other records");
		return -1;
	}
	if (queue_file_parse_time(data, &sec, &usec) < 0) {
		err_set(err, "malformed arrival time record");
		return -1;
	}
	st->arrival.tv_sec = (time_t)sec;
	st->arrival.tv_nsec = usec * 1000;
	write_start(st);
	return 0;
}

/* Keep a record's data that may come once (recipient attributes are
 * held until their recipient comes). */
static int
hold(char **slot, const char *data, const char *what, struct err *err)
{
	if (*slot != NULL) {
		err_set(err, "duplicate %s record", what);
		return -1;
	}
	*slot = xstrdup(data);
	return 0;
}

static void
drop_held(struct cleanup_state *st)
{
	free(st->orcpt);
	free(st->dsn_orcpt);
	free(st->notify);
	st->orcpt = st->dsn_orcpt = st->notify = NULL;
}

/* True the first time this recipient (with its attributes) is seen. */
static bool
is_new_recipient(struct cleanup_state *st, const char *rcpt, const char *orcpt,
		 const char *dsn_orcpt, const char *notify)
{
	struct strbuf key;
	bool is_new;

	strbuf_init(&key, STRBUF_UNLIMITED);
	(void)strbuf_printf(&key, "%s\n%s\n%s\n%s", dsn_orcpt ? dsn_orcpt : "",
			    notify ? notify : "", orcpt ? orcpt : "", rcpt);
	is_new = htable_find(st->dups, key.data) == NULL;
	if (is_new &&
	    htable_count(st->dups) < (size_t)st->params->duplicate_filter_limit)
		(void)htable_insert(st->dups, key.data, st);
	strbuf_deinit(&key);
	return is_new;
}

void
cleanup_rewrite_out(struct cleanup_state *st, const char *rcpt,
		    const char *orcpt, const char *dsn_orcpt,
		    const char *notify)
{
	if (!is_new_recipient(st, rcpt, orcpt, dsn_orcpt, notify))
		return;
	if (orcpt != NULL)
		cleanup_out(st, REC_TYPE_ORCP, orcpt, strlen(orcpt));
	if (notify != NULL)
		cleanup_out(st, REC_TYPE_DSN_NOTIFY, notify, strlen(notify));
	if (dsn_orcpt != NULL)
		cleanup_out(st, REC_TYPE_DSN_ORCPT, dsn_orcpt,
			    strlen(dsn_orcpt));
	cleanup_out(st, REC_TYPE_RCPT, rcpt, strlen(rcpt));
	st->rcpt_count++;
}

static int
take_recipient(struct cleanup_state *st, const char *data, size_t len,
	       struct err *err)
{
	if (len == 0) {
		err_set(err, "empty recipient record");
		return -1;
	}
	cleanup_rewrite_recipient(st, data);
	drop_held(st);
	return 0;
}

/* The sender, rewritten, and its BCC recipient. */
static int
take_sender(struct cleanup_state *st, const char *data, struct err *err)
{
	if (st->sender != NULL) {
		err_set(err, "duplicate sender record");
		return -1;
	}
	st->sender = cleanup_rewrite_sender(st, data);
	cleanup_out(st, REC_TYPE_FROM, st->sender, strlen(st->sender));
	cleanup_rewrite_sender_bcc(st);
	return 0;
}

static int
take_end(struct cleanup_state *st, struct err *err)
{
	if (st->sender == NULL) {
		err_set(err, "no sender record");
		return -1;
	}
	if (st->orcpt || st->notify || st->dsn_orcpt) {
		err_set(err, "recipient attributes without a recipient");
		return -1;
	}
	cleanup_rewrite_always_bcc(st);
	if (st->rcpt_count == 0 && st->errs == 0)
		st->errs |= CLEANUP_STAT_RCPT;
	cleanup_out(st, REC_TYPE_MESG, "", 0);
	cleanup_message_start(st);
	return 0;
}

int
cleanup_envelope(struct cleanup_state *st, int type, const char *data,
		 size_t len, struct err *err)
{
	if (type == REC_TYPE_TIME)
		return take_time(st, data, err);
	if (!rec_type_in_segment(REC_SEG_ENVELOPE, type) ||
	    type == REC_TYPE_DONE || type == REC_TYPE_DRCP ||
	    type == REC_TYPE_WARN) {
		err_set(err, "unexpected record type '%c' in the envelope",
			type);
		return -1;
	}
	if (queue_file_check_data(type, data, len, err) < 0)
		return -1;
	if (st->phase == PHASE_START)
		write_start(st);
	switch (type) {
	case REC_TYPE_FULL:
		if (hold(&st->fullname, data, "full name", err) < 0)
			return -1;
		break;
	case REC_TYPE_FROM:
		return take_sender(st, data, err);
	case REC_TYPE_ATTR:
		if (check_attr(data, len, err) < 0)
			return -1;
		if (strncmp(data, CLEANUP_ATTR_SMTPD_ACTION "=",
			    strlen(CLEANUP_ATTR_SMTPD_ACTION) + 1) == 0)
			return smtpd_action(st, data, err);
		if (strcmp(data, REC_ATTR_ENCODING "=" REC_ATTR_ENC_8BIT) == 0)
			st->is_8bit_given = true;
		break;
	case REC_TYPE_ORCP:
		return hold(&st->orcpt, data, "original recipient", err);
	case REC_TYPE_DSN_NOTIFY:
		return hold(&st->notify, data, "dsn_notify_flags", err);
	case REC_TYPE_DSN_ORCPT:
		return hold(&st->dsn_orcpt, data, "dsn_original_recipient",
			    err);
	case REC_TYPE_RCPT:
		return take_recipient(st, data, len, err);
	case REC_TYPE_MESG:
		return take_end(st, err);
	}
	cleanup_out(st, type, data, len);
	return 0;
}

void
cleanup_state_clear(struct cleanup_state *st)
{
	drop_held(st);
	free(st->sender);
	free(st->fullname);
	st->sender = st->fullname = NULL;
	htable_destroy(&st->dups, NULL);
	header_parser_destroy(&st->hp);
	cleanup_checks_clear(st);
}
