/*
 * showq_clnt.h - the showq protocol: the queue listing behind postqueue
 * -p/-j, mailq and sendmail -bp.
 *
 * The client sends nothing; the server (showq, or showq -S on a pipe)
 * writes attribute messages (util/attr.h) and closes:
 *  1. greeting:       protocol="showq" version=1
 *  2. per queue file: queue_name queue_id arrival_time message_size
 *                     forced_expire sender recipients=[rcpt...] more
 *     where each rcpt is a list (address [delay_reason]) and more=1 says
 *     that continuation messages (recipients=[...] more) follow with the
 *     rest of this file's recipients, so no message holds more than
 *     SHOWQ_RCPT_CHUNK recipients or grows much past SHOWQ_CHUNK_BYTES.
 *  3. end:            status=0
 * sender is the envelope sender as queued ("" for the null sender; the
 * listing shows MAILER-DAEMON). Recipients already done are not sent.
 * The encoders below are the server's; the reader is the client's.
 */
#ifndef POSTERN_GLOBAL_SHOWQ_CLNT_H
#define POSTERN_GLOBAL_SHOWQ_CLNT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/stream.h"
#include "util/strbuf.h"

#define SHOWQ_PROTOCOL "showq"
#define SHOWQ_VERSION 1

#define SHOWQ_ATTR_PROTOCOL "protocol"
#define SHOWQ_ATTR_VERSION "version"
#define SHOWQ_ATTR_QUEUE_NAME "queue_name"
#define SHOWQ_ATTR_QUEUE_ID "queue_id"
#define SHOWQ_ATTR_ARRIVAL_TIME "arrival_time"
#define SHOWQ_ATTR_MESSAGE_SIZE "message_size"
#define SHOWQ_ATTR_FORCED_EXPIRE "forced_expire"
#define SHOWQ_ATTR_SENDER "sender"
#define SHOWQ_ATTR_RECIPIENTS "recipients"
#define SHOWQ_ATTR_RCPT "rcpt"
#define SHOWQ_ATTR_ADDRESS "address"
#define SHOWQ_ATTR_DELAY_REASON "delay_reason"
#define SHOWQ_ATTR_MORE "more"
#define SHOWQ_ATTR_STATUS "status"

/* Recipients per message, and the size after which a message is sent. */
#define SHOWQ_RCPT_CHUNK 256
#define SHOWQ_CHUNK_BYTES (64 * 1024)

/* Largest message a client accepts: a chunk plus one huge recipient. */
#define SHOWQ_MESSAGE_MAX (4 * 1024 * 1024)

/* One queue file, as listed. */
struct showq_entry {
	const char *queue_name;
	const char *queue_id;
	long long arrival_time; /* seconds since the epoch */
	long long message_size; /* bytes of header and body */
	bool is_forced_expire;
	const char *sender; /* "" for the null sender */
};

/* One recipient still to be delivered. */
struct showq_rcpt {
	const char *address;
	const char *delay_reason; /* "" when none is known */
};

/* ------------------------------------------------------------------ */
/* Server side: each appends one encoded message to out (emptied first). */

int showq_put_greeting(struct strbuf *out, struct err *err);

/*
 * A queue file's message with its first count recipients (count may be
 * 0); is_more says continuation messages follow.
 */
int showq_put_entry(struct strbuf *out, const struct showq_entry *entry,
		    const struct showq_rcpt *rcpts, size_t count, bool is_more,
		    struct err *err);

/* A continuation message with more recipients of the same file. */
int showq_put_more(struct strbuf *out, const struct showq_rcpt *rcpts,
		   size_t count, bool is_more, struct err *err);

int showq_put_end(struct strbuf *out, struct err *err);

/* ------------------------------------------------------------------ */
/* Client side. */

struct showq_clnt;

/*
 * Take over stream (the client owns it from now on and closes it) and
 * check the greeting. NULL with err: "greeting: connection closed",
 * "unexpected protocol \"X\" version N", or a read error.
 */
struct showq_clnt *showq_clnt_open(struct stream *stream, struct err *err);

/*
 * The next queue file. Returns 1 with *entry_out (strings valid until
 * the next call to showq_clnt_next), 0 at the end message, -1 with err
 * ("unexpected end of the queue listing", "queue listing: missing
 * attribute queue_id", read and decode errors).
 */
int showq_clnt_next(struct showq_clnt *sc, struct showq_entry *entry_out,
		    struct err *err);

/*
 * The next recipient of the current queue file. Returns 1 with *rcpt_out
 * (valid until the next call), 0 after the last one, -1 with err.
 */
int showq_clnt_next_rcpt(struct showq_clnt *sc, struct showq_rcpt *rcpt_out,
			 struct err *err);

/* Close the stream and free; NULL-safe, *scp becomes NULL. */
void showq_clnt_close(struct showq_clnt **scp);

#endif
