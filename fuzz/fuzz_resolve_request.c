/*
 * fuzz_resolve_request.c - libFuzzer target for trivial-rewrite's request
 * handling: the bytes a client sends are decoded as the daemon decodes
 * them (attr_decode with rewrite_limits, rewrite_request_decode), each
 * valid request is re-encoded and must decode to the same request, and
 * is then answered by a resolver built from built-in defaults plus a few
 * domain lists, so rewriting and resolving see arbitrary addresses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/mail_conf.h"
#include "global/resolve.h"
#include "global/rewrite_clnt.h"
#include "util/log.h"
#include "util/mymalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct resolve *
fuzz_resolver(void)
{
	/* A fuzzing harness may keep one resolver for the whole run. */
	static struct resolve *r;
	struct mail_conf *conf;

	if (r != NULL)
		return r;
	log_to_stderr(false);
	conf = mail_conf_create("/nonexistent");
	mail_conf_set(conf, "myhostname", "mx.example.com");
	mail_conf_set(conf, "mydomain", "example.com");
	mail_conf_set(conf, "inet_interfaces", "127.0.0.1");
	mail_conf_set(conf, "virtual_alias_domains", "valias.example");
	mail_conf_set(conf, "virtual_mailbox_domains", "vmbox.example");
	mail_conf_set(conf, "relay_domains", "relay.example");
	mail_conf_set(conf, "relayhost", "[relay.example]:25");
	mail_conf_set(conf, "append_dot_mydomain", "yes");
	mail_conf_set(conf, "resolve_numeric_domain", "yes");
	r = resolve_create(conf);
	mail_conf_destroy(&conf);
	return r;
}

static void
check_roundtrip(const struct rewrite_request *req)
{
	struct strbuf out;
	struct attr_list *list = NULL;
	struct rewrite_request again;
	size_t consumed = 0;

	strbuf_init(&out, STRBUF_UNLIMITED);
	if (rewrite_request_encode(&out, req, NULL) < 0 ||
	    attr_decode((const uint8_t *)out.data, out.len, &rewrite_limits,
			&list, &consumed, NULL) != 1 ||
	    consumed != out.len ||
	    rewrite_request_decode(list, &again, NULL) < 0 ||
	    again.op != req->op || strcmp(again.address, req->address) != 0)
		abort();
	attr_list_destroy(&list);
	strbuf_deinit(&out);
}

static void
answer(const struct rewrite_request *req)
{
	struct resolve *r = fuzz_resolver();
	struct resolve_reply reply;
	struct strbuf out;
	char *addr;

	strbuf_init(&out, STRBUF_UNLIMITED);
	if (req->op == REWRITE_OP_REWRITE) {
		addr = resolve_rewrite(r, req->rule, req->address);
		rewrite_reply_encode_rewrite(&out, addr, NULL);
		free(addr);
	} else {
		(void)resolve_addr(r, req->address, &reply);
		if (reply.transport == NULL || reply.nexthop == NULL ||
		    reply.recipient == NULL)
			abort();
		rewrite_reply_encode_resolve(&out, &reply, NULL);
		resolve_reply_free(&reply);
	}
	strbuf_deinit(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used = 0;

	while (used < size) {
		struct attr_list *list = NULL;
		struct rewrite_request req;
		size_t consumed = 0;

		if (attr_decode(data + used, size - used, &rewrite_limits,
				&list, &consumed, NULL) != 1)
			break;
		used += consumed;
		if (rewrite_request_decode(list, &req, NULL) == 0) {
			check_roundtrip(&req);
			answer(&req);
		}
		attr_list_destroy(&list);
	}
	return 0;
}
