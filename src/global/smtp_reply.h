/*
 * smtp_reply.h - SMTP/LMTP server replies, as the client reads them.
 *
 * A pure parser fed with the lines util/stream.h's stream_read_line
 * returns: "NNN-text" lines continue a reply, "NNN text" (or a bare
 * "NNN") ends it. Every line must carry the same code (2xx-5xx); a
 * malformed line or mixed codes make the reply a protocol error. The
 * enhanced status code (RFC 2034) is taken from the first line when its
 * class matches the reply code, else it is "X.0.0" as Postfix uses.
 * A line longer than the reader's limit is kept up to the limit and the
 * rest of it is dropped; the stored text is bounded as well (truncated).
 * Security: the lines are untrusted peer data; nothing here is unbounded.
 */
#ifndef POSTERN_GLOBAL_SMTP_REPLY_H
#define POSTERN_GLOBAL_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/stream.h"
#include "util/strbuf.h"

/* Most bytes of reply text kept (all lines, "\n" between them). */
#define SMTP_REPLY_TEXT_MAX 4096

/* A reply, complete or in the making. */
struct smtp_reply {
	int code;	    /* 200..599 once complete; 0 before */
	char dsn[16];	    /* "5.1.1", or "X.0.0" when the server gave none */
	bool has_dsn;	    /* the server gave an enhanced status code */
	struct strbuf text; /* whole lines with their codes, "\n" between */
	size_t line_count;
	bool is_complete;
	bool is_skipping;  /* inside the rest of an over-long line */
	bool is_last_line; /* the line being read ends the reply */
};

/* Set up an empty reply (text bounded by SMTP_REPLY_TEXT_MAX). */
void smtp_reply_init(struct smtp_reply *reply);
void smtp_reply_deinit(struct smtp_reply *reply);

/* Empty the reply for the next one. */
void smtp_reply_reset(struct smtp_reply *reply);

/*
 * Feed one line piece (without its line end) and how it ended. Returns 1
 * when the reply is complete, 0 when it needs more lines, -1 with err for
 * a protocol error: 'malformed reply line: "TEXT"', "mixed reply codes
 * 250 and 550", or "missing line end before end of input" (end is
 * STREAM_END_EOF). After 1 or -1, smtp_reply_reset before feeding more.
 */
int smtp_reply_feed(struct smtp_reply *reply, const char *line, size_t len,
		    enum stream_line_end end, struct err *err);

/*
 * The reply text on one line ("\n" turned into spaces), as Postfix logs
 * it, into out (emptied first, bounded by out's limit).
 */
void smtp_reply_oneline(const struct smtp_reply *reply, struct strbuf *out);

/*
 * Line number index (0-based) of the reply, without its "NNN-" prefix,
 * into *text_out and *len_out (not NUL-terminated). Returns false when there
 * is no such line.
 */
bool smtp_reply_line(const struct smtp_reply *reply, size_t index,
		     const char **text_out, size_t *len_out);

#endif
