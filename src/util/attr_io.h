/*
 * attr_io.h - attribute messages (util/attr.h) over a stream.
 *
 * attr_read takes exactly one message off a stream and no byte more, so
 * a protocol may mix attribute messages with other framing (the cleanup
 * protocol follows its request with raw records). It is meant for the
 * small messages of a protocol's handshake and replies: max_message
 * bounds what it reads.
 */
#ifndef POSTERN_UTIL_ATTR_IO_H
#define POSTERN_UTIL_ATTR_IO_H

#include <stddef.h>

#include "util/attr.h"
#include "util/err.h"
#include "util/stream.h"
#include "util/strbuf.h"

/* Largest message attr_read accepts by default. */
#define ATTR_IO_MESSAGE_MAX 4096

/*
 * Read one message of at most max_message bytes. Returns 1 with *list_out
 * (caller destroys); 0 at end of file before the first byte; -1 with err:
 * "unexpected end of file in attribute message", "read error: REASON",
 * "attribute message longer than N bytes", or the decoder's reason.
 */
int attr_read(struct stream *s, size_t max_message, struct attr_list **list_out,
	      struct err *err);

/* Write an encoded message and flush. 0, or -1 with err "write: REASON". */
int attr_write(struct stream *s, const struct strbuf *msg, struct err *err);

#endif
