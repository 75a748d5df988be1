/*
 * cleanup_clnt.h - the cleanup protocol, and the stub that speaks it.
 *
 * Programs that submit mail (smtpd, pickup, bounce) hand each message to
 * the cleanup service (private/cleanup), which checks it, adds missing
 * headers, writes the queue file and says whether it is safely on disk.
 * One connection carries one message:
 *
 *  1. Server greeting, an attribute message (util/attr.h):
 *         protocol="cleanup" version=1 status=0 queue_id=ID
 *         line_length_limit=N
 *     The queue file ID already exists in incoming/ (not yet complete).
 *     When the server cannot create it, the greeting has status != 0 and
 *     the reply attributes below instead of queue_id, and the server
 *     closes. The client checks protocol and version before anything else.
 *  2. Client request, an attribute message: flags=N (CLEANUP_FLAG_*).
 *  3. Client records, in queue file encoding (global/record.h), in this
 *     order; their data is at most line_length_limit bytes:
 *         [T "sec usec"]           arrival time (default: now), first
 *         F, S, A "name=value", i, <  full name, sender (exactly one),
 *                                  named attributes, DSN ENVID and RET
 *         [O] [n] [o] R            recipient groups (at least one R)
 *         M                        end of the envelope
 *         N, L                     content lines (L: a piece of a longer
 *                                  line, continued by the next record)
 *         X                        end of the content (not after an L)
 *         E                        end of the message
 *     Attribute names the server writes itself (create_time,
 *     rewrite_context, log_ident) are refused.
 *  4. Server reply, an attribute message, sent only after the queue file
 *     is complete and fsynced (status=0), or after it has been removed:
 *         status=S  code=SMTP-CODE  dsn=X.Y.Z  reason=TEXT
 *     reason is the bare phrase ("message file too big"); smtpd replies
 *     "CODE DSN REASON" as Postfix does ("552 5.3.4 Message size exceeds
 *     fixed limit"). After a content or limit error the server reads on to
 *     E before replying, so a streaming client never deadlocks; after a
 *     protocol error (bad order, malformed record or attribute) it replies
 *     at once and closes.
 * The whole exchange (2-4) is one request with one status reply.
 */
#ifndef POSTERN_GLOBAL_CLEANUP_CLNT_H
#define POSTERN_GLOBAL_CLEANUP_CLNT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/err.h"

#define CLEANUP_PROTOCOL "cleanup"
#define CLEANUP_VERSION 1

/* Attribute names of the protocol's attribute messages. */
#define CLEANUP_ATTR_PROTOCOL "protocol"
#define CLEANUP_ATTR_VERSION "version"
#define CLEANUP_ATTR_QUEUE_ID "queue_id"
#define CLEANUP_ATTR_LINE_LIMIT "line_length_limit"
#define CLEANUP_ATTR_FLAGS "flags"
#define CLEANUP_ATTR_STATUS "status"
#define CLEANUP_ATTR_CODE "code"
#define CLEANUP_ATTR_DSN "dsn"
#define CLEANUP_ATTR_REASON "reason"
/* An envelope attribute smtpd sends for an access-table HOLD or DISCARD
 * ("smtpd_action=hold"); cleanup acts on it and does not store it. */
#define CLEANUP_ATTR_SMTPD_ACTION "smtpd_action"

/* Request flags. */
#define CLEANUP_FLAG_LOCAL                                                     \
	(1 << 0) /* rewrite_context=local: add missing                         \
		    headers (From, Date, Message-Id) */
#define CLEANUP_FLAG_MASK (CLEANUP_FLAG_LOCAL)

/* Reply status bits, with their SMTP code, DSN and reason (Postfix's). */
#define CLEANUP_STAT_OK 0
#define CLEANUP_STAT_BAD (1 << 0) /* 451 4.3.0 internal protocol error */
#define CLEANUP_STAT_WRITE                                                     \
	(1 << 1)                   /* 451 4.3.0 queue file write error;        \
				      452 4.3.1 insufficient system storage */
#define CLEANUP_STAT_SIZE (1 << 2) /* 552 5.3.4 message file too big */
#define CLEANUP_STAT_HOPS (1 << 3) /* 554 5.4.0 too many hops */
#define CLEANUP_STAT_RCPT (1 << 4) /* 550 5.1.0 no recipients specified */
/* Content rejected by header/body checks: 550 5.7.1 (or the table's own
 * status code and text, which the server puts in the reply). */
#define CLEANUP_STAT_CONT (1 << 5)

/* The outcome of a submission. */
struct cleanup_result {
	int status; /* CLEANUP_STAT_* bits; 0 means queued */
	int code;   /* SMTP reply code: 250 on success */
	char dsn[16];
	char reason[ERR_TEXT_MAX];
};

struct cleanup_clnt;

/*
 * Connect to the cleanup service at path (queue_directory/private/cleanup,
 * or a path relative to the current directory), wait for the greeting
 * (at most timeout_ms for each step, negative: no limit) and send flags.
 * Returns a handle, or NULL with err: "connect to PATH: reason", "PATH:
 * unexpected protocol \"X\" version N", "PATH: REASON" (a greeting with a
 * failure status; then *result_out, if not NULL, has it).
 */
struct cleanup_clnt *
cleanup_open(const char *path, int flags, int timeout_ms,
	     struct cleanup_result *result_out, struct err *err);

/* The queue ID the server assigned. */
const char *cleanup_queue_id(const struct cleanup_clnt *cc);

/*
 * Envelope and content. Each returns 0, or -1 with err on a write error
 * (the submission should then be given up with cleanup_abort). Envelope
 * calls must precede the first content call; arrival time, if given, must
 * be first. sender "" is the null sender; orcpt (may be NULL) is the
 * original recipient, dsn_orcpt "type;address" and notify (0 for none)
 * the DSN parameters.
 */
int cleanup_arrival(struct cleanup_clnt *cc, const struct timespec *when,
		    struct err *err);
int
cleanup_fullname(struct cleanup_clnt *cc, const char *name, struct err *err);
int
cleanup_sender(struct cleanup_clnt *cc, const char *sender, struct err *err);
int cleanup_attr(struct cleanup_clnt *cc, const char *name, const char *value,
		 struct err *err);
/* DSN envelope ID (an i record; sendmail -V, SMTP ENVID). */
int cleanup_dsn_envid(struct cleanup_clnt *cc, const char *envid,
		      struct err *err);
int
cleanup_recipient(struct cleanup_clnt *cc, const char *rcpt, const char *orcpt,
		  const char *dsn_orcpt, int notify, struct err *err);

/*
 * One content line or piece of one (is_continued: more of this line
 * follows), without its line end; cut into pieces of line_length_limit.
 */
int cleanup_content_line(struct cleanup_clnt *cc, const void *data, size_t len,
			 bool is_continued, struct err *err);

/*
 * End the message and wait for the verdict. Fills *result_out and frees
 * the handle (*ccp becomes NULL). Returns 0 when the message was queued;
 * -1 otherwise, with err the reason ("CODE DSN reason" from the server,
 * or a connection error, then result_out says 451 4.3.0).
 */
int cleanup_finish(struct cleanup_clnt **ccp, struct cleanup_result *result_out,
		   struct err *err);

/* Give up: close the connection; the server removes the file. NULL-safe. */
void cleanup_abort(struct cleanup_clnt **ccp);

/* Fill a result from status bits (and errno for a write error). */
void
cleanup_result_set(struct cleanup_result *result, int status, int write_errno);

#endif
