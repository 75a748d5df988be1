/*
 * scache_clnt.h - the connection cache protocol (the scache service),
 * and the client stub the smtp and lmtp agents use.
 *
 * scache keeps open connections for a short time so that another
 * delivery agent process can reuse them. It knows nothing of SMTP: a
 * connection is a descriptor with an opaque property string, filed under
 *   an endpoint label  (the agent's name for "this server, these
 *                       settings", e.g. "smtp:[192.0.2.1]:25:helo"), and
 *   a destination label (transport:nexthop), which maps to endpoint
 *                       labels, each with its own destination property.
 * One connection to private/scache (connection_cache_service_name)
 * carries any number of requests, each an attribute message answered by
 * one reply message; descriptors travel with the message bytes
 * (util/unix_fd.h):
 *
 *  1. Server greeting: protocol="scache" version=1.
 *  2. request="save_endp" ttl=N label=ENDP prop=P     + the descriptor
 *         -> status=0        the cache keeps it for ttl seconds at most
 *     request="find_endp" label=ENDP
 *         -> status=0 prop=P + the descriptor, or status=1 (none)
 *     request="save_dest" ttl=N label=DEST prop=DP endp_label=ENDP
 *         -> status=0
 *     request="find_dest" label=DEST
 *         -> status=0 prop=DP endp_prop=P + the descriptor, or status=1
 *  A descriptor found is handed out once: it leaves the cache. A
 *  malformed request gets no reply: the server logs a warning and closes
 *  the connection.
 */
#ifndef POSTERN_GLOBAL_SCACHE_CLNT_H
#define POSTERN_GLOBAL_SCACHE_CLNT_H

#include <stddef.h>

#include "util/attr.h"
#include "util/err.h"
#include "util/strbuf.h"

#define SCACHE_PROTOCOL "scache"
#define SCACHE_VERSION 1

/* Attribute names. */
#define SCACHE_ATTR_REQUEST "request"
#define SCACHE_ATTR_TTL "ttl"
#define SCACHE_ATTR_LABEL "label"
#define SCACHE_ATTR_PROP "prop"
#define SCACHE_ATTR_ENDP_LABEL "endp_label"
#define SCACHE_ATTR_ENDP_PROP "endp_prop"
#define SCACHE_ATTR_STATUS "status"

#define SCACHE_REQ_SAVE_ENDP "save_endp"
#define SCACHE_REQ_FIND_ENDP "find_endp"
#define SCACHE_REQ_SAVE_DEST "save_dest"
#define SCACHE_REQ_FIND_DEST "find_dest"

/* Reply status. */
#define SCACHE_STAT_OK 0
#define SCACHE_STAT_NOTFOUND 1

/* Limits: one label, one property string, one encoded message. */
#define SCACHE_LABEL_MAX 1024
#define SCACHE_PROP_MAX 2048
#define SCACHE_MSG_MAX 8192
/* Longest time to live a request may ask for (the daemon caps it lower,
 * at connection_cache_ttl_limit). */
#define SCACHE_TTL_MAX 3600

/* Decoding limits for requests and replies. */
extern const struct attr_limits scache_limits;

enum scache_op {
	SCACHE_OP_SAVE_ENDP,
	SCACHE_OP_FIND_ENDP,
	SCACHE_OP_SAVE_DEST,
	SCACHE_OP_FIND_DEST,
};

/* A decoded request; the strings point into the attribute list. */
struct scache_request {
	enum scache_op op;
	long long ttl;		/* save_*: seconds, 1..SCACHE_TTL_MAX */
	const char *label;	/* endpoint or destination label */
	const char *prop;	/* save_*: property string ("" allowed) */
	const char *endp_label; /* save_dest */
};

/*
 * Check a request message and fill *req_out. 0, or -1 with err: "missing
 * attribute NAME", "attribute NAME: wrong type", "unknown request
 * \"X\"", "empty label", "label longer than 1024 bytes", "prop longer
 * than 2048 bytes", "endp_label ..." likewise, "ttl N out of range". A
 * pure function, for the daemon and tests.
 */
int scache_request_decode(const struct attr_list *list,
			  struct scache_request *req_out, struct err *err);

/*
 * Encode a request, or a reply (dest_prop and endp_prop may be NULL:
 * left out), into out (appended, message end included). -1 with err only
 * when out's limit would be passed.
 */
int scache_request_encode(struct strbuf *out, const struct scache_request *req,
			  struct err *err);
int scache_reply_encode(struct strbuf *out, int status, const char *prop,
			const char *endp_prop, struct err *err);

struct scache_clnt;

/*
 * A client of the service at path (relative to the current directory:
 * daemons run in queue_directory, so "private/scache"). Nothing happens
 * until the first request: the connection is made then and kept, and
 * each exchange must finish within timeout_ms (connection_cache_protocol_
 * timeout). Never fails.
 *
 * The client never reports an error to its caller. Any trouble (no such
 * service, a timeout, a bad reply) is logged as a warning the first time
 * it happens after a success, the connection is closed, the request
 * counts as "not saved" or "not found", and the service is left alone
 * for retry_ms (SCACHE_CLNT_RETRY_MS) before the next try: delivery
 * never waits on a cache that is down, and a master.cf without scache
 * costs one warning per process.
 */
#define SCACHE_CLNT_RETRY_MS 10000

struct scache_clnt *scache_clnt_create(const char *path, int timeout_ms,
				       int retry_ms);
void scache_clnt_destroy(struct scache_clnt **scp);

/*
 * Hand the connection fd to the cache under endp_label for at most ttl
 * seconds. fd is closed in every case (the cache has its own copy).
 * Returns 0 when the cache took it, -1 when not.
 */
int scache_clnt_save_endp(struct scache_clnt *sc, int ttl,
			  const char *endp_label, const char *endp_prop,
			  int fd);

/*
 * A connection filed under endp_label: its descriptor (the caller owns
 * it) with *endp_prop_out (caller frees), or -1 when there is none or
 * the cache could not be asked (*endp_prop_out then NULL).
 */
int scache_clnt_find_endp(struct scache_clnt *sc, const char *endp_label,
			  char **endp_prop_out);

/* Map dest_label to endp_label for at most ttl seconds. 0, or -1. */
int scache_clnt_save_dest(struct scache_clnt *sc, int ttl,
			  const char *dest_label, const char *dest_prop,
			  const char *endp_label);

/*
 * scache_clnt_save_endp and then scache_clnt_save_dest(dest_label,
 * dest_prop, endp_label) in one exchange: both requests are sent
 * together and both replies read after them, which saves the server a
 * wake-up and the caller a round trip. 0 when the cache took both, else
 * -1; fd is closed in every case.
 */
int scache_clnt_save_endp_dest(struct scache_clnt *sc, int ttl,
			       const char *endp_label, const char *endp_prop,
			       int fd, const char *dest_label,
			       const char *dest_prop);

/*
 * A connection to some endpoint of dest_label: the descriptor with
 * *dest_prop_out and *endp_prop_out (caller frees both), or -1 (both
 * NULL) as scache_clnt_find_endp.
 */
int scache_clnt_find_dest(struct scache_clnt *sc, const char *dest_label,
			  char **dest_prop_out, char **endp_prop_out);

#endif
