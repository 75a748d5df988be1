/*
 * fuzz_attr.c - libFuzzer target for the internal-protocol decoder.
 *
 * Decodes the input as a stream of messages; each decoded message is
 * re-encoded and decoded again, which must give the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/attr.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
encode_list(struct strbuf *out, const struct attr_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct attr *a = &list->items[i];

		switch (a->type) {
		case ATTR_INT:
			attr_put_int(out, a->name, a->num, NULL);
			break;
		case ATTR_STR:
			attr_put_str(out, a->name, (const char *)a->data, NULL);
			break;
		case ATTR_BYTES:
			attr_put_bytes(out, a->name, a->data, a->len, NULL);
			break;
		case ATTR_LIST:
			attr_put_list(out, a->name, NULL);
			encode_list(out, a->list);
			break;
		}
	}
	attr_put_end(out, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_list *list;
	size_t used;

	while (size > 0 &&
	       attr_decode(data, size, &attr_default_limits, &list, &used,
			   NULL) == 1) {
		struct strbuf *again = strbuf_create(STRBUF_UNLIMITED);
		struct attr_list *copy;
		size_t again_used;

		encode_list(again, list);
		ASSERT(attr_decode((const uint8_t *)again->data, again->len,
				   &attr_default_limits, &copy, &again_used,
				   NULL) == 1);
		ASSERT(again_used == again->len);
		attr_list_destroy(&copy);
		attr_list_destroy(&list);
		strbuf_destroy(&again);
		data += used;
		size -= used;
	}
	return 0;
}
