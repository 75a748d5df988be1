/*
 * cleanup_message.c - the content: headers checked and completed, body.
 *
 * Content records go through the header parser (global/header_parse.h).
 * Each header is noted (global/header_fix.h), counted against
 * hopcount_limit, logged if it is a Message-ID, dropped if Postfix drops
 * it, else written line by line, after its addresses are rewritten if it
 * is a sender or recipient header (cleanup_rewrite_header). When the
 * headers end, the missing ones are added for local clients, for remote
 * ones when remote_header_rewrite_domain is set (as Postfix does), or for
 * all with always_add_missing_headers, and an empty line separates them
 * from the body. Before all that, each header and body line goes through
 * header_checks and body_checks (cleanup_checks.c), which may drop,
 * replace or precede it, or stop the processing (REJECT, DISCARD). Log
 * lines are Postfix's:
 *     QUEUEID: message-id=<...>
 *     warning: QUEUEID: message rejected: hopcount exceeded
 * Security: the content is untrusted; the parser bounds each header by
 * header_size_limit and the writer bounds the file by message_size_limit.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cleanup_checks.h"
#include "cleanup_rewrite.h"
#include "global/cleanup_clnt.h"
#include "global/rec_type.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/strbuf.h"

static void
log_message_id(struct cleanup_state *st, enum header_kind kind,
	       const char *text, size_t len)
{
	size_t vlen;
	const char *value = header_value(text, len, &vlen);

	log_info("%s: %smessage-id=%.*s", st->queue_id,
		 kind == HDR_RESENT_MESSAGE_ID ? "resent-" : "", (int)vlen,
		 value);
}

/* A logical header goes out as its physical lines. */
static void
write_header(struct cleanup_state *st, const char *text, size_t len)
{
	const char *nl;

	while ((nl = memchr(text, '\n', len)) != NULL) {
		cleanup_out_line(st, text, (size_t)(nl - text));
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
	cleanup_out_line(st, text, len);
}

/*
 * detect_8bit_encoding_header: "Content-Transfer-Encoding: 8bit" (or
 * binary), in the message header or at the start of a body line (the
 * header of a MIME part), marks the message 8-bit though the client did
 * not say BODY=8BITMIME, so the smtp client declares it or converts it.
 * A body line that merely looks like such a header costs a BODY=8BITMIME
 * on 7-bit data, which is harmless.
 */
static void
note_8bit_encoding(struct cleanup_state *st, const char *text, size_t len)
{
	static const char name[] = "content-transfer-encoding:";
	size_t at = sizeof(name) - 1;
	size_t end;

	if (!st->params->detect_8bit_encoding_header || st->has_8bit_header ||
	    len < at || strncasecmp(text, name, at) != 0)
		return;
	while (at < len && strchr(" \t\n", text[at]) != NULL)
		at++;
	for (end = at; end < len && (isalnum((unsigned char)text[end]) ||
				     text[end] == '-');
	     end++)
		;
	if ((end - at == 4 && strncasecmp(text + at, "8bit", 4) == 0) ||
	    (end - at == 6 && strncasecmp(text + at, "binary", 6) == 0))
		st->has_8bit_header = true;
}

/* What cleanup itself does with a header that passed the checks. */
static void
take_header(struct cleanup_state *st, const char *text, size_t len)
{
	enum header_kind kind = header_fix_kind(text, len);
	char *rewritten;

	header_fix_note(&st->seen, kind);
	note_8bit_encoding(st, text, len);
	if (kind == HDR_RECEIVED &&
	    st->seen.hop_count >= st->params->hopcount_limit &&
	    (st->errs & CLEANUP_STAT_HOPS) == 0) {
		log_warning("%s: message rejected: hopcount exceeded",
			    st->queue_id);
		st->errs |= CLEANUP_STAT_HOPS;
	}
	if (kind == HDR_MESSAGE_ID || kind == HDR_RESENT_MESSAGE_ID)
		log_message_id(st, kind, text, len);
	if (header_fix_is_dropped(kind))
		return;
	rewritten = cleanup_rewrite_header(st, text, len);
	if (rewritten != NULL)
		write_header(st, rewritten, strlen(rewritten));
	else
		write_header(st, text, len);
	free(rewritten);
}

static int
on_header(const char *text, size_t len, bool is_truncated, void *ctx)
{
	struct cleanup_state *st = ctx;
	char *replace = NULL;
	enum cleanup_check_fate fate;

	(void)is_truncated; /* Postfix drops the excess silently too. */
	if (cleanup_checks_is_stopped(st))
		return 0;
	fate = cleanup_checks_header(st, text, len, write_header, &replace);
	if (cleanup_checks_is_stopped(st) || fate == CHECK_DROP)
		;
	else if (fate == CHECK_REPLACE)
		take_header(st, replace, strlen(replace));
	else
		take_header(st, text, len);
	free(replace);
	return 0;
}

static void
add_missing(struct cleanup_state *st)
{
	const struct cleanup_params *p = st->params;
	struct header_fix_input in = {
		.queue_id = st->queue_id,
		.create_time = st->create_time,
		.arrival_time = st->arrival.tv_sec,
		.sender = st->sender,
		.fullname = st->fullname,
		.myhostname = p->myhostname,
		.header_from_format = p->header_from_format,
		.undisclosed_recipients_header =
			p->undisclosed_recipients_header,
	};
	struct argv *added = argv_create();
	struct strbuf id;

	strbuf_init(&id, STRBUF_UNLIMITED);
	header_fix_missing(&st->seen, &in, added, &id);
	for (size_t i = 0; i < added->count; i++)
		write_header(st, added->items[i], strlen(added->items[i]));
	if (id.len > 0)
		log_info("%s: %smessage-id=<%s>", st->queue_id,
			 st->seen.has_resent ? "resent-" : "", id.data);
	strbuf_deinit(&id);
	argv_destroy(&added);
}

static int
on_done(bool want_separator, void *ctx)
{
	struct cleanup_state *st = ctx;
	unsigned id_bit = 1u << (st->seen.has_resent ? HDR_RESENT_MESSAGE_ID
						     : HDR_MESSAGE_ID);

	if (cleanup_checks_is_stopped(st))
		return 0;
	if (cleanup_rewrite_has_header_context(st) ||
	    st->params->always_add_missing_headers)
		add_missing(st);
	else if ((st->seen.mask & id_bit) == 0)
		log_info("%s: %smessage-id=<>", st->queue_id,
			 st->seen.has_resent ? "resent-" : "");
	if (want_separator)
		cleanup_out_line(st, "", 0);
	return 0;
}

static int
on_body(const char *data, size_t len, bool is_continued, void *ctx)
{
	struct cleanup_state *st = ctx;
	int type = is_continued ? REC_TYPE_CONT : REC_TYPE_NORM;
	char *replace = NULL;
	enum cleanup_check_fate fate;

	if ((is_continued && len == 0) || cleanup_checks_is_stopped(st))
		return 0;
	if (!st->in_body_line)
		note_8bit_encoding(st, data, len);
	st->in_body_line = is_continued;
	fate = cleanup_checks_body(st, data, len, is_continued,
				   cleanup_out_line, &replace);
	if (fate == CHECK_REPLACE)
		cleanup_out(st, type, replace, strlen(replace));
	else if (fate == CHECK_KEEP)
		cleanup_out(st, type, data, len);
	free(replace);
	return 0;
}

static const struct header_parse_ops cleanup_parse_ops = {
	.on_header = on_header,
	.on_done = on_done,
	.on_body = on_body,
};

void
cleanup_message_start(struct cleanup_state *st)
{
	st->hp = header_parser_create((size_t)st->params->header_size_limit,
				      &cleanup_parse_ops, st);
	st->phase = PHASE_CONTENT;
}

int
cleanup_message_record(struct cleanup_state *st, int type, const char *data,
		       size_t len, struct err *err)
{
	if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
		err_set(err, "unexpected record type '%c' in the content",
			type);
		return -1;
	}
	st->in_cont = type == REC_TYPE_CONT;
	return header_parser_feed(st->hp, data, len, st->in_cont);
}

int
cleanup_message_end(struct cleanup_state *st, struct err *err)
{
	if (st->in_cont) {
		err_set(err, "content ends inside a continued line");
		return -1;
	}
	st->phase = PHASE_EXTRA;
	if (header_parser_finish(st->hp) < 0)
		return -1;
	cleanup_checks_extracted(st, st->has_8bit_header && !st->is_8bit_given
					     ? REC_ATTR_ENCODING
					     "=" REC_ATTR_ENC_8BIT
					     : NULL);
	return 0;
}
