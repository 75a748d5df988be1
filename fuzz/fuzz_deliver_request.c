/*
 * fuzz_deliver_request.c - libFuzzer target for the delivery request
 * decoder.
 *
 * The input is decoded as an attribute message (the agent's view of what
 * qmgr sent), then as a delivery request. A request that is accepted is
 * encoded again and decoded again, which must give the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/deliver_request.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct deliver_request *
decode(const uint8_t *data, size_t size)
{
	struct attr_list *list = NULL;
	struct deliver_request *req = NULL;
	struct err err;
	size_t used;

	if (attr_decode(data, size, &attr_default_limits, &list, &used, &err) ==
	    1) {
		err_clear(&err);
		req = deliver_request_decode(list, &err);
		ASSERT(req != NULL || err.text[0] != 0);
	}
	attr_list_destroy(&list);
	return req;
}

static void
check_same(const struct deliver_request *a, const struct deliver_request *b)
{
	ASSERT(a->flags == b->flags);
	ASSERT(strcmp(a->queue_id, b->queue_id) == 0);
	ASSERT(strcmp(a->sender, b->sender) == 0);
	ASSERT(a->data_offset == b->data_offset);
	ASSERT(a->arrival.tv_sec == b->arrival.tv_sec);
	ASSERT(a->arrival.tv_nsec == b->arrival.tv_nsec);
	ASSERT(a->rcpt_count == b->rcpt_count);
	for (size_t i = 0; i < a->rcpt_count; i++) {
		ASSERT(a->rcpts[i].offset == b->rcpts[i].offset);
		ASSERT(a->rcpts[i].dsn_notify == b->rcpts[i].dsn_notify);
		ASSERT(strcmp(a->rcpts[i].address, b->rcpts[i].address) == 0);
		ASSERT(strcmp(a->rcpts[i].orig_rcpt, b->rcpts[i].orig_rcpt) ==
		       0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deliver_request *req = decode(data, size);
	struct deliver_request *again;
	struct strbuf *out;
	struct err err;

	if (req == NULL)
		return 0;
	ASSERT(req->rcpt_count >= 1 && req->rcpt_count <= DELIVER_RCPT_MAX);
	ASSERT(strcmp(req->queue_name, "active") == 0);
	ASSERT(req->queue_fd == -1);
	for (size_t i = 0; i < req->rcpt_count; i++)
		ASSERT(req->rcpts[i].address[0] != 0 && req->results[i] == 0);
	out = strbuf_create(STRBUF_UNLIMITED);
	ASSERT(deliver_request_encode(req, out, &err) == 0);
	again = decode((const uint8_t *)out->data, out->len);
	ASSERT(again != NULL);
	check_same(req, again);
	deliver_request_free(&again);
	deliver_request_free(&req);
	strbuf_destroy(&out);
	return 0;
}
