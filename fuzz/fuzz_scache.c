/*
 * fuzz_scache.c - libFuzzer target for the connection cache's parsers:
 * the bytes are decoded as the scache daemon decodes a client's requests
 * (attr_decode with scache_limits, scache_request_decode), each valid
 * request must survive a re-encoding; and the text up to the first NUL
 * is parsed as the property string an smtp agent gets back from the
 * cache (smtp_cache_prop_decode), which must encode and decode again to
 * the same connection.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/scache_clnt.h"
#include "global/smtp_cache.h"
#include "util/log.h"
#include "util/mymalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_request(const struct scache_request *req)
{
	struct strbuf out;
	struct attr_list *list = NULL;
	struct scache_request again;
	size_t consumed = 0;

	strbuf_init(&out, STRBUF_UNLIMITED);
	if (scache_request_encode(&out, req, NULL) < 0 ||
	    attr_decode((const uint8_t *)out.data, out.len, &scache_limits,
			&list, &consumed, NULL) != 1 ||
	    consumed != out.len ||
	    scache_request_decode(list, &again, NULL) < 0 ||
	    again.op != req->op || strcmp(again.label, req->label) != 0)
		abort();
	attr_list_destroy(&list);
	strbuf_deinit(&out);
}

static void
requests(const uint8_t *data, size_t size)
{
	size_t used = 0;

	while (used < size) {
		struct attr_list *list = NULL;
		struct scache_request req;
		size_t consumed = 0;

		if (attr_decode(data + used, size - used, &scache_limits, &list,
				&consumed, NULL) != 1)
			break;
		used += consumed;
		if (scache_request_decode(list, &req, NULL) == 0)
			check_request(&req);
		attr_list_destroy(&list);
	}
}

static void
props(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct smtp_cache_endp e, back;
	struct strbuf out;

	if (smtp_cache_prop_decode(text, &e, NULL) == 0) {
		strbuf_init(&out, STRBUF_UNLIMITED);
		if (smtp_cache_prop_encode(&e, &out) < 0 ||
		    smtp_cache_prop_decode(strbuf_text(&out), &back, NULL) < 0 ||
		    strcmp(back.host, e.host) != 0 ||
		    strcmp(back.addr, e.addr) != 0 || back.port != e.port ||
		    back.uses != e.uses || back.created_ms != e.created_ms ||
		    back.state.size_limit != e.state.size_limit)
			abort();
		smtp_cache_endp_clear(&back);
		smtp_cache_endp_clear(&e);
		strbuf_deinit(&out);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_to_stderr(false);
	requests(data, size);
	props(data, size);
	return 0;
}
