/*
 * attr_kv.h - for unit tests of attribute-message protocols: write a
 * request from a table of name/value pairs, and decode a message whole.
 * Included by the tests of the clients and servers that speak util/attr.h.
 */
#ifndef POSTERN_TESTS_ATTR_KV_H
#define POSTERN_TESTS_ATTR_KV_H

#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"
#include "util/strbuf.h"

/* One attribute of a test message: int when str is NULL. */
struct kv {
	const char *name;
	const char *str;
	long long num;
};

/* The attributes of kvs (up to a NULL name), then the end mark. */
static void
kv_encode(struct strbuf *out, const struct kv *kvs)
{
	for (; kvs->name != NULL; kvs++) {
		if (kvs->str != NULL)
			assert_int_equal(
				attr_put_str(out, kvs->name, kvs->str, NULL),
				0);
		else
			assert_int_equal(
				attr_put_int(out, kvs->name, kvs->num, NULL),
				0);
	}
	assert_int_equal(attr_put_end(out, NULL), 0);
}

/* The one message msg holds, decoded within limits. */
static struct attr_list *
kv_decode(const struct strbuf *msg, const struct attr_limits *limits)
{
	struct attr_list *list = NULL;
	size_t consumed = 0;

	assert_int_equal(attr_decode((const uint8_t *)msg->data, msg->len,
				     limits, &list, &consumed, NULL),
			 1);
	assert_int_equal(consumed, msg->len);
	return list;
}

#endif
