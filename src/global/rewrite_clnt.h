/*
 * rewrite_clnt.h - the trivial-rewrite protocol, and the stub that speaks
 * it for programs that do not link the tables themselves (resolve.h).
 *
 * One connection (private/rewrite) carries any number of requests, each
 * an attribute message (util/attr.h) answered by one reply message:
 *
 *  1. Server greeting: protocol="trivial-rewrite" version=1.
 *  2. Requests and replies:
 *       request="rewrite" rule="local"|"remote" address=A
 *           -> status=0 flags=0 address=B
 *       request="resolve" [sender=S] address=A
 *           -> status=0 flags=F transport=T nexthop=N recipient=R
 *     F holds the RESOLVE_* bits of resolve.h; RESOLVE_FLAG_FAIL means a
 *     table failed and the client should try later. Addresses are in
 *     internal form, at most REWRITE_ADDR_MAX bytes.
 *  A malformed request (bad encoding, unknown request or rule, missing or
 *  oversized address) gets no reply: the server logs a warning and
 *  closes the connection.
 */
#ifndef POSTERN_GLOBAL_REWRITE_CLNT_H
#define POSTERN_GLOBAL_REWRITE_CLNT_H

#include <stddef.h>
#include <stdint.h>

#include "global/resolve.h"
#include "util/attr.h"
#include "util/err.h"
#include "util/strbuf.h"

#define REWRITE_PROTOCOL "trivial-rewrite"
#define REWRITE_VERSION 1
#define REWRITE_SERVICE "private/rewrite"

/* Attribute names. */
#define REWRITE_ATTR_PROTOCOL "protocol"
#define REWRITE_ATTR_VERSION "version"
#define REWRITE_ATTR_REQUEST "request"
#define REWRITE_ATTR_RULE "rule"
#define REWRITE_ATTR_SENDER "sender"
#define REWRITE_ATTR_ADDRESS "address"
#define REWRITE_ATTR_STATUS "status"
#define REWRITE_ATTR_FLAGS "flags"
#define REWRITE_ATTR_TRANSPORT "transport"
#define REWRITE_ATTR_NEXTHOP "nexthop"
#define REWRITE_ATTR_RECIPIENT "recipient"

#define REWRITE_REQ_REWRITE "rewrite"
#define REWRITE_REQ_RESOLVE "resolve"

/* Limits: one address, and one encoded request or reply. */
#define REWRITE_ADDR_MAX 4096
#define REWRITE_MSG_MAX (4 * REWRITE_ADDR_MAX)

/* Decoding limits for requests and replies. */
extern const struct attr_limits rewrite_limits;

enum rewrite_op {
	REWRITE_OP_REWRITE,
	REWRITE_OP_RESOLVE,
};

/* A decoded request; the strings point into the attribute list. */
struct rewrite_request {
	enum rewrite_op op;
	const char *rule;   /* REWRITE_OP_REWRITE: "local" or "remote" */
	const char *sender; /* REWRITE_OP_RESOLVE: "" when absent */
	const char *address;
};

/*
 * Check a request message and fill *req_out. 0, or -1 with err:
 * "missing attribute request", "unknown request \"X\"", "missing
 * attribute rule", "unknown rewrite rule \"X\"", "missing attribute
 * address", "address longer than 4096 bytes", or "attribute NAME: wrong
 * type". A pure function, for the daemon and the fuzzer.
 */
int rewrite_request_decode(const struct attr_list *list,
			   struct rewrite_request *req_out, struct err *err);

/*
 * Encode the requests and replies into out (appended; the message end
 * included). -1 with err only when out's limit would be passed.
 */
int rewrite_request_encode(struct strbuf *out,
			   const struct rewrite_request *req, struct err *err);
int rewrite_reply_encode_rewrite(struct strbuf *out, const char *address,
				 struct err *err);
int rewrite_reply_encode_resolve(struct strbuf *out,
				 const struct resolve_reply *reply,
				 struct err *err);

struct rewrite_clnt;

/*
 * Connect to path (queue_directory/private/rewrite, or relative to the
 * current directory) and check the greeting, waiting at most timeout_ms
 * for each step (negative: no limit). NULL with err: "connect to PATH:
 * reason", "PATH: greeting: REASON", "PATH: unexpected protocol \"X\"
 * version N".
 */
struct rewrite_clnt *
rewrite_clnt_open(const char *path, int timeout_ms, struct err *err);

/* Close the connection; NULL-safe, *rcp becomes NULL. */
void rewrite_clnt_close(struct rewrite_clnt **rcp);

/*
 * Rewrite addr in context rule ("local" or "remote"): a new string the
 * caller frees, or NULL with err ("PATH: REASON") when the exchange
 * failed. A connection the server closed (max_idle, max_use) is opened
 * again once before giving up.
 */
char *rewrite_clnt_rewrite(struct rewrite_clnt *rc, const char *rule,
			   const char *addr, struct err *err);

/*
 * Resolve addr for sender (may be NULL). 0 with *reply_out filled (free
 * with resolve_reply_free; check RESOLVE_FLAG_FAIL), or -1 with err when
 * the exchange failed. Reconnects once, as above.
 */
int rewrite_clnt_resolve(struct rewrite_clnt *rc, const char *sender,
			 const char *addr, struct resolve_reply *reply_out,
			 struct err *err);

#endif
