/*
 * fuzz_dns_reply.c - libFuzzer target for the DNS reply parser and the
 * lookups built on it.
 *
 * The input is one raw DNS message. It is parsed directly (every record
 * must have a name, MX/CNAME/PTR/NS a target, A/AAAA 4/16 bytes of data),
 * then served as the answer to every query of a resolver whose transport
 * is replaced, so the CNAME chase, the MX policy and the address lookup
 * all run on it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/dns.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *data;
	size_t size;
};

static int
fuzz_query(void *ctx, const char *name, unsigned type, uint8_t *answer,
	   size_t size)
{
	const struct input *in = ctx;

	(void)name;
	(void)type;
	if (in->size > size)
		return DNS_QUERY_RETRY;
	memcpy(answer, in->data, in->size);
	return (int)in->size;
}

static void
check_reply(const struct dns_reply *reply)
{
	for (size_t i = 0; i < reply->answer_count; i++) {
		const struct dns_rr *rr = &reply->answers[i];

		ASSERT(rr->name != NULL && strlen(rr->name) < DNS_NAME_TEXT_MAX);
		if (rr->type == DNS_T_MX || rr->type == DNS_T_CNAME ||
		    rr->type == DNS_T_PTR || rr->type == DNS_T_NS)
			ASSERT(rr->target != NULL);
		if (rr->type == DNS_T_A)
			ASSERT(rr->data_len == 4);
		if (rr->type == DNS_T_AAAA)
			ASSERT(rr->data_len == 16);
	}
}

static void
run_lookups(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct dns_resolver_ops ops = {.query = fuzz_query, .ctx = &in};
	struct dns_resolver *res = dns_resolver_create_ops(&ops);
	struct dns_mx_list *mx;
	struct dns_addr_list *addrs;
	struct err why;

	dns_resolver_seed(res, 1);
	if (dns_lookup_mx(res, "example.com", &mx, &why) == DNS_OK)
		ASSERT(mx->count > 0);
	dns_mx_list_free(&mx);
	if (dns_lookup_addrs(res, "mx.example.com",
			     DNS_WANT_IPV4 | DNS_WANT_IPV6, DNS_PREF_IPV6,
			     &addrs, &why) == DNS_OK)
		ASSERT(addrs->count > 0);
	dns_addr_list_free(&addrs);
	dns_resolver_destroy(&res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err;
	struct dns_reply *reply = dns_reply_parse(data, size, &err);

	if (reply != NULL)
		check_reply(reply);
	dns_reply_free(&reply);
	run_lookups(data, size);
	return 0;
}
