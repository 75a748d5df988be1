/*
 * attr.h - the internal protocol's one codec: lists of named attributes.
 *
 * Daemons talk in messages, each a list of named values: integers, text,
 * binary blobs and nested lists. The wire form is binary-safe and
 * self-delimiting, so a reader knows where a message ends without a
 * separate length:
 *     message   = *attribute END
 *     attribute = type name value
 *     type      = 'i' (integer) / 's' (text) / 'b' (bytes) / 'l' (list)
 *     name      = varint(length) bytes        [a-z0-9_], 1..ATTR_MAX_NAME
 *     value     = varint(zigzag(int))          for 'i'
 *               / varint(length) bytes         for 's' (no NUL) and 'b'
 *               / *attribute END               for 'l'
 *     END       = '.'
 * Varints are unsigned LEB128 of at most 10 bytes. Decoding is a pure
 * function over bytes with limits on everything (count, name, value,
 * depth, total size), so it can be fuzzed and unit-tested without sockets.
 * Unknown names are simply left unread by the receiver, which lets
 * protocols grow; changing the meaning of a name needs a new version.
 */
#ifndef POSTERN_UTIL_ATTR_H
#define POSTERN_UTIL_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"

#define ATTR_MAX_NAME 64

enum attr_type {
	ATTR_INT = 'i',
	ATTR_STR = 's',
	ATTR_BYTES = 'b',
	ATTR_LIST = 'l',
};

struct attr_limits {
	size_t max_count;   /* attributes in one list */
	size_t max_value;   /* bytes in one text or blob value */
	size_t max_depth;   /* nesting of lists */
	size_t max_message; /* bytes in one encoded message */
};

/* Limits suitable for requests between daemons. */
extern const struct attr_limits attr_default_limits;

struct attr_list;

struct attr {
	char *name;
	enum attr_type type;
	long long num;          /* ATTR_INT */
	uint8_t *data;          /* ATTR_STR (NUL-terminated) and ATTR_BYTES */
	size_t len;             /* length of data, without the NUL */
	struct attr_list *list; /* ATTR_LIST */
};

struct attr_list {
	struct attr *items;
	size_t count;
	size_t cap;
};

/*
 * Encoding appends to out. Each returns 0, or -1 when out's limit would be
 * passed or the name is invalid (err says which). A list is opened with
 * attr_put_list and closed with attr_put_end; so is the whole message.
 */
int attr_put_int(struct strbuf *out, const char *name, long long value,
		 struct err *err);
int attr_put_str(struct strbuf *out, const char *name, const char *value,
		 struct err *err);
int attr_put_bytes(struct strbuf *out, const char *name, const void *data,
		   size_t len, struct err *err);
int attr_put_list(struct strbuf *out, const char *name, struct err *err);
int attr_put_end(struct strbuf *out, struct err *err);

/*
 * Decode one message from buf. Returns 1 with *list_out (caller destroys)
 * and *consumed_out set; 0 if buf holds only part of a message (read more
 * and call again with the longer buffer); -1 with err if the bytes are
 * malformed or pass a limit (the connection should then be dropped).
 */
int attr_decode(const uint8_t *buf, size_t len,
		const struct attr_limits *limits, struct attr_list **list_out,
		size_t *consumed_out, struct err *err);

void attr_list_destroy(struct attr_list **listp);

/* First attribute called name, or NULL. */
const struct attr *attr_find(const struct attr_list *list, const char *name);

/*
 * Typed reads: 0 on success; -1 with err "missing attribute NAME" or
 * "attribute NAME: wrong type". Text and bytes stay owned by the list.
 */
int attr_get_int(const struct attr_list *list, const char *name,
		 long long *out, struct err *err);
int attr_get_str(const struct attr_list *list, const char *name,
		 const char **out, struct err *err);
int attr_get_bytes(const struct attr_list *list, const char *name,
		   const uint8_t **data_out, size_t *len_out, struct err *err);
int attr_get_list(const struct attr_list *list, const char *name,
		  const struct attr_list **out, struct err *err);

#endif
