/*
 * attr.c - the internal protocol's one codec: lists of named attributes.
 *
 * The decoder walks the bytes with a cursor and never reads past len; a
 * message that ends early reports "incomplete" (0) rather than an error,
 * so a caller can decode straight from a growing receive buffer.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/attr.h"
#include "util/mymalloc.h"

#define ATTR_END '.'
#define VARINT_MAX_BYTES 10

const struct attr_limits attr_default_limits = {
	.max_count = 131072, /* a delivery request's recipients */
	.max_value = 4 * 1024 * 1024,
	.max_depth = 4,
	.max_message = 16 * 1024 * 1024,
};

/* Encoding. */

static bool
valid_name(const char *name, size_t len)
{
	if (len == 0 || len > ATTR_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_'))
			return false;
	}
	return true;
}

static int
put_varint(struct strbuf *out, unsigned long long value)
{
	uint8_t bytes[VARINT_MAX_BYTES];
	size_t n = 0;

	do {
		bytes[n] = (uint8_t)(value & 0x7f);
		value >>= 7;
		if (value)
			bytes[n] |= 0x80;
		n++;
	} while (value);
	return strbuf_append(out, bytes, n);
}

static int
put_head(struct strbuf *out, enum attr_type type, const char *name,
	 struct err *err)
{
	size_t len = strlen(name);

	if (!valid_name(name, len)) {
		err_set(err, "invalid attribute name \"%.70s\"", name);
		return -1;
	}
	if (strbuf_append_char(out, type) < 0 || put_varint(out, len) < 0 ||
	    strbuf_append(out, name, len) < 0) {
		err_set(err, "attribute %s: message too large", name);
		return -1;
	}
	return 0;
}

int
attr_put_int(struct strbuf *out, const char *name, long long value,
	     struct err *err)
{
	unsigned long long zigzag = ((unsigned long long)value << 1) ^
				    (unsigned long long)(value >> 63);

	if (put_head(out, ATTR_INT, name, err) < 0)
		return -1;
	if (put_varint(out, zigzag) < 0) {
		err_set(err, "attribute %s: message too large", name);
		return -1;
	}
	return 0;
}

static int
put_counted(struct strbuf *out, enum attr_type type, const char *name,
	    const void *data, size_t len, struct err *err)
{
	if (put_head(out, type, name, err) < 0)
		return -1;
	if (put_varint(out, len) < 0 || strbuf_append(out, data, len) < 0) {
		err_set(err, "attribute %s: message too large", name);
		return -1;
	}
	return 0;
}

int
attr_put_str(struct strbuf *out, const char *name, const char *value,
	     struct err *err)
{
	return put_counted(out, ATTR_STR, name, value, strlen(value), err);
}

int
attr_put_bytes(struct strbuf *out, const char *name, const void *data,
	       size_t len, struct err *err)
{
	return put_counted(out, ATTR_BYTES, name, data, len, err);
}

int
attr_put_list(struct strbuf *out, const char *name, struct err *err)
{
	return put_head(out, ATTR_LIST, name, err);
}

int
attr_put_end(struct strbuf *out, struct err *err)
{
	if (strbuf_append_char(out, ATTR_END) < 0) {
		err_set(err, "message too large");
		return -1;
	}
	return 0;
}

/* Decoding. */

enum decode_status {
	DECODE_OK = 1,
	DECODE_SHORT = 0,
	DECODE_BAD = -1,
};

struct cursor {
	const uint8_t *pos;
	const uint8_t *end;
	const struct attr_limits *limits;
	struct err *err;
};

static enum decode_status
get_varint(struct cursor *cur, unsigned long long *out)
{
	unsigned long long value = 0;

	for (int i = 0; i < VARINT_MAX_BYTES; i++) {
		uint8_t byte;

		if (cur->pos >= cur->end)
			return DECODE_SHORT;
		byte = *cur->pos++;
		if (i == VARINT_MAX_BYTES - 1 && byte > 1) {
			err_set(cur->err, "integer too large");
			return DECODE_BAD;
		}
		value |= (unsigned long long)(byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			*out = value;
			return DECODE_OK;
		}
	}
	err_set(cur->err, "integer too long");
	return DECODE_BAD;
}

/* Read a counted byte string of at most max bytes; *data_out points into
 * the buffer. */
static enum decode_status
get_counted(struct cursor *cur, size_t max, const char *what,
	    const uint8_t **data_out, size_t *len_out)
{
	unsigned long long len;
	enum decode_status st = get_varint(cur, &len);

	if (st != DECODE_OK)
		return st;
	if (len > max) {
		err_set(cur->err, "%s longer than %zu bytes", what, max);
		return DECODE_BAD;
	}
	if ((size_t)(cur->end - cur->pos) < len)
		return DECODE_SHORT;
	*data_out = cur->pos;
	*len_out = (size_t)len;
	cur->pos += len;
	return DECODE_OK;
}

static struct attr *
list_add(struct attr_list *list)
{
	if (list->count == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->items = xreallocarray(list->items, list->cap,
					    sizeof(*list->items));
	}
	memset(&list->items[list->count], 0, sizeof(list->items[0]));
	return &list->items[list->count++];
}

static enum decode_status decode_list(struct cursor *cur, size_t depth,
				      struct attr_list *list);

static enum decode_status
decode_value(struct cursor *cur, size_t depth, struct attr *attr)
{
	unsigned long long raw;
	const uint8_t *data;
	size_t len;
	enum decode_status st;

	switch (attr->type) {
	case ATTR_INT:
		if ((st = get_varint(cur, &raw)) == DECODE_OK)
			attr->num = (long long)(raw >> 1) ^ -(long long)(raw & 1);
		return st;
	case ATTR_STR:
	case ATTR_BYTES:
		st = get_counted(cur, cur->limits->max_value, "value", &data,
				 &len);
		if (st != DECODE_OK)
			return st;
		if (attr->type == ATTR_STR && memchr(data, 0, len) != NULL) {
			err_set(cur->err, "attribute %s: NUL in text",
				attr->name);
			return DECODE_BAD;
		}
		attr->data = xmemdup(data, len);
		attr->len = len;
		return DECODE_OK;
	case ATTR_LIST:
		attr->list = xmalloc(sizeof(*attr->list));
		return decode_list(cur, depth + 1, attr->list);
	}
	return DECODE_BAD;
}

static enum decode_status
decode_attr(struct cursor *cur, size_t depth, struct attr_list *list,
	    uint8_t type)
{
	const uint8_t *name;
	size_t name_len;
	struct attr *attr;
	enum decode_status st;

	if (type != ATTR_INT && type != ATTR_STR && type != ATTR_BYTES &&
	    type != ATTR_LIST) {
		err_set(cur->err, "unknown attribute type 0x%02x", type);
		return DECODE_BAD;
	}
	if (type == ATTR_LIST && depth + 1 >= cur->limits->max_depth) {
		err_set(cur->err, "lists nested deeper than %zu",
			cur->limits->max_depth);
		return DECODE_BAD;
	}
	st = get_counted(cur, ATTR_MAX_NAME, "attribute name", &name,
			 &name_len);
	if (st != DECODE_OK)
		return st;
	if (!valid_name((const char *)name, name_len)) {
		err_set(cur->err, "invalid attribute name");
		return DECODE_BAD;
	}
	if (list->count >= cur->limits->max_count) {
		err_set(cur->err, "more than %zu attributes",
			cur->limits->max_count);
		return DECODE_BAD;
	}
	attr = list_add(list);
	attr->name = xmemdup(name, name_len);
	attr->type = (enum attr_type)type;
	return decode_value(cur, depth, attr);
}

static enum decode_status
decode_list(struct cursor *cur, size_t depth, struct attr_list *list)
{
	for (;;) {
		uint8_t type;
		enum decode_status st;

		if (cur->pos >= cur->end)
			return DECODE_SHORT;
		type = *cur->pos++;
		if (type == ATTR_END)
			return DECODE_OK;
		if ((st = decode_attr(cur, depth, list, type)) != DECODE_OK)
			return st;
	}
}

int
attr_decode(const uint8_t *buf, size_t len, const struct attr_limits *limits,
	    struct attr_list **list_out, size_t *consumed_out, struct err *err)
{
	struct attr_list *list = xmalloc(sizeof(*list));
	struct cursor cur = {
		.pos = buf,
		.end = buf + (len < limits->max_message ? len
							: limits->max_message),
		.limits = limits,
		.err = err,
	};
	enum decode_status st = decode_list(&cur, 0, list);

	*list_out = NULL;
	if (st == DECODE_SHORT && len >= limits->max_message) {
		err_set(err, "message longer than %zu bytes",
			limits->max_message);
		st = DECODE_BAD;
	}
	if (st != DECODE_OK) {
		attr_list_destroy(&list);
		return st;
	}
	*list_out = list;
	*consumed_out = (size_t)(cur.pos - buf);
	return 1;
}

void
attr_list_destroy(struct attr_list **listp)
{
	struct attr_list *list = *listp;

	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		free(list->items[i].data);
		attr_list_destroy(&list->items[i].list);
	}
	free(list->items);
	free(list);
	*listp = NULL;
}

const struct attr *
attr_find(const struct attr_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
}

static const struct attr *
find_typed(const struct attr_list *list, const char *name,
	   enum attr_type type, struct err *err)
{
	const struct attr *attr = attr_find(list, name);

	if (attr == NULL) {
		err_set(err, "missing attribute %s", name);
		return NULL;
	}
	if (attr->type != type) {
		err_set(err, "attribute %s: wrong type", name);
		return NULL;
	}
	return attr;
}

int
attr_get_int(const struct attr_list *list, const char *name, long long *out,
	     struct err *err)
{
	const struct attr *attr = find_typed(list, name, ATTR_INT, err);

	if (attr == NULL)
		return -1;
	*out = attr->num;
	return 0;
}

int
attr_get_str(const struct attr_list *list, const char *name,
	     const char **out, struct err *err)
{
	const struct attr *attr = find_typed(list, name, ATTR_STR, err);

	if (attr == NULL)
		return -1;
	*out = (const char *)attr->data;
	return 0;
}

int
attr_get_bytes(const struct attr_list *list, const char *name,
	       const uint8_t **data_out, size_t *len_out, struct err *err)
{
	const struct attr *attr = find_typed(list, name, ATTR_BYTES, err);

	if (attr == NULL)
		return -1;
	*data_out = attr->data;
	*len_out = attr->len;
	return 0;
}

int
attr_get_list(const struct attr_list *list, const char *name,
	      const struct attr_list **out, struct err *err)
{
	const struct attr *attr = find_typed(list, name, ATTR_LIST, err);

	if (attr == NULL)
		return -1;
	*out = attr->list;
	return 0;
}
