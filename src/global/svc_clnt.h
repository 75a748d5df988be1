/*
 * svc_clnt.h - the handshake every internal request/reply service shares.
 *
 * A service (delivery agents, bounce, trivial-rewrite) greets each new
 * connection with an attribute message protocol=NAME version=N; the
 * client checks both before it sends its request, so a client that
 * connected to the wrong socket fails with a clear reason instead of
 * talking past the server. Requests and replies are attribute messages
 * (util/attr.h).
 */
#ifndef POSTERN_GLOBAL_SVC_CLNT_H
#define POSTERN_GLOBAL_SVC_CLNT_H

#include <stddef.h>

#include "util/attr.h"
#include "util/err.h"
#include "util/stream.h"
#include "util/strbuf.h"

#define SVC_ATTR_PROTOCOL "protocol"
#define SVC_ATTR_VERSION "version"

/* Server side: send the greeting. 0, or -1 with err "write: reason". */
int svc_greet(struct stream *s, const char *protocol, int version,
	      struct err *err);

/*
 * Client side: connect to the UNIX socket path (timeout_ms for each step,
 * negative: none), read and check the greeting. Returns the stream, or
 * NULL with err: "connect to PATH: reason", "PATH: greeting: reason",
 * "PATH: unexpected protocol \"X\" version N".
 */
struct stream *svc_connect(const char *path, const char *protocol, int version,
			   int timeout_ms, struct err *err);

/*
 * Send one request and read one reply of at most max_reply bytes.
 * 1 with *reply_out; -1 with err ("write: reason", "lost connection",
 * or the decoder's reason).
 */
int svc_call(struct stream *s, const struct strbuf *request, size_t max_reply,
	     struct attr_list **reply_out, struct err *err);

#endif
