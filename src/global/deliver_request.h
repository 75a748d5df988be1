/*
 * deliver_request.h - the delivery request protocol between qmgr and the
 * delivery agents (local, virtual, smtp, lmtp, pipe, discard, error), and
 * the agent's side of reporting each recipient's outcome.
 *
 * qmgr connects to the agent's service socket (private/TRANSPORT, a
 * SKEL_SINGLE service); one connection carries one request:
 *
 *  1. Agent greeting, an attribute message (util/attr.h):
 *         protocol="delivery" version=1
 *  2. qmgr's request, one attribute message (DELIVER_ATTR_* names):
 *         flags queue_name queue_id data_offset data_size nexthop
 *         encoding smtputf8 sender dsn_envid dsn_ret arrival_sec
 *         arrival_usec active_sec active_usec client_name client_addr
 *         client_proto client_helo sasl_username rewrite_context
 *         rcpts = list of lists, each:
 *             offset address orig_rcpt dsn_orcpt dsn_notify
 *  3. Agent's reply, after every recipient's outcome is durable:
 *         status=0|1 dsn=X.Y.Z reason=TEXT results=BYTES
 *     results holds one byte per recipient, in request order:
 *     DELIVER_RESULT_SENT, _BOUNCED or _DEFERRED. status=1 says the
 *     destination or transport failed as a whole (connection refused, a
 *     421 greeting): qmgr counts it against the destination's
 *     concurrency; dsn and reason then describe that failure.
 *
 * Outcomes are durable before the reply, so a crashed qmgr never repeats
 * a delivery: a delivered or bounced recipient is marked done in the
 * queue file (after its bounce log entry is on disk); a deferred one
 * keeps its record and gets a defer log entry (global/msg_log.h). The
 * agent also writes the Postfix log line for each recipient:
 *   ID: to=<a>, orig_to=<b>, relay=R, delay=N, delays=a/b/c/d, dsn=X.Y.Z,
 *       status=sent|bounced|deferred (reason)
 * Should the agent die, qmgr defers every recipient it has no result for.
 */
#ifndef POSTERN_GLOBAL_DELIVER_REQUEST_H
#define POSTERN_GLOBAL_DELIVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "global/queue_file.h"
#include "util/attr.h"
#include "util/err.h"
#include "util/stream.h"
#include "util/strbuf.h"

#define DELIVER_PROTOCOL "delivery"
#define DELIVER_VERSION 1

/* Request flags (DELIVER_ATTR_FLAGS). */
#define DELIVER_FLAG_VERIFY (1 << 0) /* sendmail -bv: report, don't deliver */
#define DELIVER_FLAG_RECORD (1 << 1) /* sendmail -v: trace every outcome */
/* The destination has more mail waiting: keep the connection open for
 * it (smtp_connection_cache_on_demand; see global/scache_clnt.h). */
#define DELIVER_FLAG_CONN_STORE (1 << 2)
#define DELIVER_FLAG_MASK ((1 << 3) - 1)

/* Per-recipient results in the reply. */
#define DELIVER_RESULT_SENT 'S'
#define DELIVER_RESULT_BOUNCED 'B'
#define DELIVER_RESULT_DEFERRED 'D'

/* Reply status. */
#define DELIVER_STAT_OK 0
#define DELIVER_STAT_DEFER 1 /* the destination failed as a whole */

/* Largest request: room for many recipients with long addresses. */
#define DELIVER_REQUEST_MAX (8 * 1024 * 1024)
/* Most recipients in one request (qmgr's recipient limits are lower). */
#define DELIVER_RCPT_MAX 100000

/* One recipient of a request. */
struct deliver_rcpt {
	off_t offset;	 /* its R record in the queue file */
	char *address;	 /* internal form; "" never occurs */
	char *orig_rcpt; /* before rewriting; may equal address */
	char *dsn_orcpt; /* "rfc822;addr" or "" */
	int dsn_notify;	 /* REC_DSN_NOTIFY_* bits, 0 for none */
};

/*
 * A request. Strings are never NULL ("" when absent). The agent-side
 * fields are filled in by deliver_request_read.
 */
struct deliver_request {
	int flags;
	char *queue_name; /* "active" */
	char *queue_id;
	off_t data_offset;    /* first content record */
	long long data_size;  /* content length (for SIZE=) */
	char *nexthop;	      /* from the transport's nexthop or the domain */
	char *encoding;	      /* "7bit", "8bit" (Postfix's) or "" */
	int smtputf8;
	char *sender; /* "" for the null sender */
	char *dsn_envid;
	int dsn_ret; /* REC_DSN_RET_*, 0 for none */
	struct timespec arrival; /* message arrival */
	struct timespec active;	 /* when qmgr took it into active/ */
	char *client_name, *client_addr, *client_proto, *client_helo;
	char *sasl_username;
	char *rewrite_context; /* "local" or "remote" */
	struct deliver_rcpt *rcpts;
	size_t rcpt_count;

	/* Agent side. */
	int queue_fd;		     /* the queue file, O_RDWR */
	const struct queue_layout *ql;
	struct timespec received;    /* when the agent read the request */
	char *results;		     /* one DELIVER_RESULT_* per recipient, 0 unset */
};

/* ------------------------------------------------------------------ */
/* Client side (qmgr; local's mailbox_transport hand-off).              */

/*
 * Encode req (the agent-side fields are ignored) as one request message.
 * -1 with err when out's limit is passed.
 */
int deliver_request_encode(const struct deliver_request *req,
			   struct strbuf *out, struct err *err);

/* The reply, as the client sees it. */
struct deliver_reply {
	int status;
	char dsn[16];
	char reason[ERR_TEXT_MAX];
	char *results; /* rcpt_count bytes, NUL-terminated; caller frees */
};

/*
 * Talk to the agent at socket path (absolute, or relative to the current
 * directory): read its greeting, send the request, read the reply. Each
 * step has timeout_ms (negative: none). Returns 0 with *reply_out; -1
 * with err ("connect to PATH: reason", "PATH: unexpected protocol", "PATH:
 * lost connection (agent died?)"), in which case no reply was had and
 * every recipient without a durable outcome must be deferred by the caller.
 */
int deliver_request_send(const char *path, const struct deliver_request *req,
			 int timeout_ms, struct deliver_reply *reply_out,
			 struct err *err);

void deliver_reply_free(struct deliver_reply *reply);

/* ------------------------------------------------------------------ */
/* Agent side.                                                          */

/*
 * Serve one connection: send the greeting, read and decode the request,
 * open its queue file O_RDWR. Recipients already marked done in the file
 * (a restarted qmgr may hand out one that an agent of its predecessor
 * finished meanwhile) come with their result set: agents skip every
 * recipient whose req->results[i] is not 0. Returns a request (caller frees with
 * deliver_request_free after deliver_request_reply), or NULL with err
 * (protocol error, or "open PATH: reason"): the agent then logs the
 * reason and closes the connection, and qmgr defers the recipients.
 */
struct deliver_request *deliver_request_read(struct stream *client,
					     const struct queue_layout *ql,
					     struct err *err);

/* Decode a request message (also for the fuzz target and tests). */
struct deliver_request *deliver_request_decode(const struct attr_list *msg,
					       struct err *err);

/*
 * Send the reply: status, dsn and reason (for DELIVER_STAT_DEFER; NULL
 * otherwise) and the results. Recipients without a result are reported
 * deferred (the agent should have given each one an outcome). 0, or -1
 * with err on a write error.
 */
int deliver_request_reply(struct stream *client, struct deliver_request *req,
			  int status, const char *dsn, const char *reason,
			  struct err *err);

void deliver_request_free(struct deliver_request **reqp);

/* What the agent says about one recipient. */
struct deliver_status {
	const char *relay;  /* "local", "virtual", "none", "host[addr]:port" */
	const char *dsn;    /* "2.0.0", "5.1.1", "4.4.1" */
	const char *reason; /* "delivered to maildir" */
	/* Optional: the remote MTA and its reply, for DSN reports. */
	const char *mta_name;	  /* "dns; mx.example.com" or NULL */
	const char *diag_text;	  /* "smtp; 550 5.1.1 no such user" or NULL */
	const char *action;	  /* DSN action; NULL: "delivered" / "failed" /
				     "delayed" as the outcome says */
	double conn_setup;	  /* seconds of delays=c (connection set-up) */
	unsigned conn_use;	  /* deliveries over this connection so far,
				     this one included; "conn_use=N" is
				     logged when > 1 (a reused connection) */
};

/*
 * Report one recipient's outcome (index into req->rcpts): log the line,
 * write the per-message log entry (trace for DSN SUCCESS or -v, bounce,
 * defer), mark the recipient done when it is finished, and record the
 * result. Returns 0; -1 with err when the outcome could not be made durable (a
 * bounce log or done mark failed): the recipient is then reported
 * deferred with that reason, and delivered again later.
 * With DELIVER_FLAG_RECORD every outcome also goes into the trace log.
 * With DELIVER_FLAG_VERIFY the agent has delivered nothing: sent means
 * "deliverable", bounced and deferred mean "undeliverable", each goes
 * into the trace log only and the recipient is done.
 */
int deliver_sent(struct deliver_request *req, size_t index,
		 const struct deliver_status *st, struct err *err);
int deliver_bounced(struct deliver_request *req, size_t index,
		    const struct deliver_status *st, struct err *err);
int deliver_deferred(struct deliver_request *req, size_t index,
		     const struct deliver_status *st, struct err *err);

/*
 * Report the same outcome for every recipient that has none yet (a
 * destination that failed as a whole). kind is one of DELIVER_RESULT_*.
 */
void deliver_all(struct deliver_request *req, int kind,
		 const struct deliver_status *st);

/*
 * Copy the message content to out_fn, piece by piece: data (without a
 * line end) and is_line_end when the piece ends a line. Reads the queue
 * file from data_offset up to the extracted segment. 0, or -1 with err
 * ("PATH: offset N: reason") or the callback's -1 and err.
 */
typedef int deliver_content_fn(const char *data, size_t len, bool is_line_end,
			       void *ctx, struct err *err);
int deliver_content(struct deliver_request *req, deliver_content_fn *out_fn,
		    void *ctx, struct err *err);

#endif
