/*
 * dns.c - the resolver object, its reply cache, and record lookups that
 * follow CNAMEs.
 *
 * One query is res_nmkquery + res_nsend on the resolver's private state
 * (res_nsend retries over TCP when the UDP reply is truncated, unless told
 * to use TCP from the start by "options use-vc"). Each reply is parsed by
 * dns_parse.c, classified by its rcode, and kept in the cache for the
 * smallest TTL of its answers (negative answers: the SOA's negative TTL,
 * RFC 2308); temporary failures are never cached.
 */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "global/dns_priv.h"

#define CNAME_MAX 10
#define CACHE_MAX 1000
#define CACHE_TTL_MAX 86400
#define QUERY_MAX 1024

struct cache_entry {
	time_t expires;
	enum dns_status status;
	char *why;
	struct dns_reply *reply;
};

static int
res_query_send(void *ctx, const char *name, unsigned type, uint8_t *answer,
	       size_t size)
{
	struct __res_state *state = ctx;
	unsigned char query[QUERY_MAX];
	int qlen, n;

	qlen = res_nmkquery(state, ns_o_query, name, ns_c_in, (int)type, NULL,
			    0, NULL, query, sizeof(query));
	if (qlen < 0)
		return DNS_QUERY_INVALID;
	n = res_nsend(state, query, qlen, answer, (int)size);
	if (n < 0)
		return DNS_QUERY_RETRY;
	return n;
}

static struct dns_resolver *
resolver_alloc(void)
{
	struct dns_resolver *res = xmalloc(sizeof(*res));

	res->cache = htable_create(64);
	res->buf = xmalloc(DNS_MSG_MAX);
	dns_resolver_seed(res, (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32);
	return res;
}

struct dns_resolver *
dns_resolver_create(const char *resolv_conf, struct err *err)
{
	struct dns_resolver *res = resolver_alloc();

	if (res_ninit(&res->state) < 0) {
		err_set(err, "Name service initialization failure");
		dns_resolver_destroy(&res);
		return NULL;
	}
	res->has_state = true;
	res->ops.query = res_query_send;
	res->ops.ctx = &res->state;
	if (resolv_conf != NULL && *resolv_conf != 0 &&
	    dns_conf_apply(&res->state, resolv_conf, err) < 0) {
		dns_resolver_destroy(&res);
		return NULL;
	}
	return res;
}

struct dns_resolver *
dns_resolver_create_ops(const struct dns_resolver_ops *ops)
{
	struct dns_resolver *res = resolver_alloc();

	res->ops = *ops;
	return res;
}

static void
cache_entry_free(void *value)
{
	struct cache_entry *entry = value;

	free(entry->why);
	dns_reply_free(&entry->reply);
	free(entry);
}

void
dns_resolver_destroy(struct dns_resolver **resp)
{
	struct dns_resolver *res = *resp;

	if (res == NULL)
		return;
	if (res->has_state)
		res_nclose(&res->state);
	htable_destroy(&res->cache, cache_entry_free);
	free(res->buf);
	free(res);
	*resp = NULL;
}

void
dns_resolver_seed(struct dns_resolver *res, uint64_t seed)
{
	res->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

uint64_t
dns_random(struct dns_resolver *res)
{
	res->rng ^= res->rng >> 12;
	res->rng ^= res->rng << 25;
	res->rng ^= res->rng >> 27;
	return res->rng * 0x2545F4914F6CDD1DULL;
}

void
dns_resolver_flush(struct dns_resolver *res)
{
	htable_destroy(&res->cache, cache_entry_free);
	res->cache = htable_create(64);
}

static time_t
resolver_now(struct dns_resolver *res)
{
	return res->ops.clock ? res->ops.clock(res->ops.ctx) : time(NULL);
}

const char *
dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK:
		return "OK";
	case DNS_NOTFOUND:
		return "NOTFOUND";
	case DNS_RETRY:
		return "RETRY";
	case DNS_FAIL:
		return "FAIL";
	case DNS_NULLMX:
		return "NULLMX";
	}
	return "?";
}

/* "Host or domain name not found. ..." with the resolver's wording. */
static enum dns_status
host_error(struct err *why, enum dns_status status, const char *name,
	   unsigned type, const char *text)
{
	char buf[8];

	err_set(why,
		"Host or domain name not found. Name service error for "
		"name=%s type=%s: %s",
		name, dns_type_name(type, buf), text);
	return status;
}

static enum dns_status
malformed(struct err *why, const char *name, unsigned type)
{
	char buf[8];

	err_set(why,
		"Name service error for name=%s type=%s: Malformed or "
		"unexpected name server reply",
		name, dns_type_name(type, buf));
	return DNS_RETRY;
}

/* Non-empty, at most 255 bytes, printable, no empty label. */
static bool
name_is_queryable(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 255 || name[0] == '.' || strstr(name, ".."))
		return false;
	for (const char *cp = name; *cp; cp++)
		if ((unsigned char)*cp <= 0x20 || (unsigned char)*cp >= 0x7f)
			return false;
	return true;
}

/* Classify a parsed reply; NOERROR with no answer is "no data". */
static enum dns_status
reply_classify(const struct dns_reply *reply, const char *name, unsigned type,
	       struct err *why)
{
	switch (reply->rcode) {
	case DNS_RCODE_NOERROR:
		if (reply->answer_count == 0)
			return host_error(why, DNS_NOTFOUND, name, type,
					  "Host found but no data record of "
					  "requested type");
		return DNS_OK;
	case DNS_RCODE_NXDOMAIN:
		return host_error(why, DNS_NOTFOUND, name, type,
				  "Host not found");
	case DNS_RCODE_SERVFAIL:
		return host_error(why, DNS_RETRY, name, type,
				  "Host not found, try again");
	default:
		return host_error(why, DNS_FAIL, name, type,
				  "Non-recoverable error");
	}
}

/* Send one query; *reply_out is set for DNS_OK and DNS_NOTFOUND. */
static enum dns_status
query_send(struct dns_resolver *res, const char *name, unsigned type,
	   struct dns_reply **reply_out, struct err *why)
{
	struct err perr;
	struct dns_reply *reply;
	enum dns_status status;
	int n;

	*reply_out = NULL;
	n = res->ops.query(res->ops.ctx, name, type, res->buf, DNS_MSG_MAX);
	if (n == DNS_QUERY_INVALID) {
		err_set(why, "Name service error for %s: invalid host or "
			     "domain name", name);
		return DNS_FAIL;
	}
	if (n < 0)
		return host_error(why, DNS_RETRY, name, type,
				  "Host not found, try again");
	if (n > DNS_MSG_MAX)
		return malformed(why, name, type);
	reply = dns_reply_parse(res->buf, (size_t)n, &perr);
	if (reply == NULL) {
		char buf[8];

		log_warning("DNS reply for name=%s type=%s: %s", name,
			    dns_type_name(type, buf), perr.text);
		return malformed(why, name, type);
	}
	status = reply_classify(reply, name, type, why);
	if (status == DNS_OK || status == DNS_NOTFOUND)
		*reply_out = reply;
	else
		dns_reply_free(&reply);
	return status;
}

static uint32_t
reply_ttl(const struct dns_reply *reply, enum dns_status status)
{
	uint32_t ttl = CACHE_TTL_MAX;

	if (status != DNS_OK)
		return reply->has_soa ? reply->neg_ttl : 0;
	for (size_t i = 0; i < reply->answer_count; i++)
		if (reply->answers[i].ttl < ttl)
			ttl = reply->answers[i].ttl;
	return ttl;
}

static void
cache_make_room(struct dns_resolver *res, time_t now)
{
	struct htable_entry **entries;

	if (htable_count(res->cache) < CACHE_MAX)
		return;
	entries = htable_entries(res->cache, false);
	for (size_t i = 0; entries[i] != NULL; i++) {
		struct cache_entry *entry = entries[i]->value;

		if (entry->expires <= now)
			htable_remove(res->cache, entries[i]->key,
				      cache_entry_free);
	}
	free(entries);
	if (htable_count(res->cache) >= CACHE_MAX)
		dns_resolver_flush(res);
}

/*
 * The reply for (name, type), from the cache or the network. The reply
 * stays owned by the cache: valid until the next query for the same key.
 */
static enum dns_status
query_cached(struct dns_resolver *res, const char *name, unsigned type,
	     const struct dns_reply **reply_out, struct err *why)
{
	char *key = xasprintf("%u:%s", type, name);
	struct err local;
	struct cache_entry *entry;
	struct dns_reply *reply;
	enum dns_status status;
	time_t now = resolver_now(res);

	for (char *cp = key; *cp; cp++)
		*cp = (char)(*cp >= 'A' && *cp <= 'Z' ? *cp + 32 : *cp);
	entry = htable_find(res->cache, key);
	if (entry != NULL && entry->expires > now) {
		free(key);
		err_set(why, "%s", entry->why);
		*reply_out = entry->reply;
		return entry->status;
	}
	err_clear(&local);
	status = query_send(res, name, type, &reply, &local);
	err_set(why, "%s", local.text);
	*reply_out = reply;
	if (reply != NULL) {
		entry = xmalloc(sizeof(*entry));
		entry->status = status;
		entry->why = xstrdup(local.text);
		entry->reply = reply;
		entry->expires = now + (time_t)reply_ttl(reply, status);
		cache_make_room(res, now);
		htable_set(res->cache, key, entry, cache_entry_free);
	}
	free(key);
	return status;
}

/* The end of the CNAME chain that starts at name, inside one reply. */
static const char *
cname_follow(const struct dns_reply *reply, const char *name)
{
	for (size_t hop = 0; hop <= reply->answer_count; hop++) {
		size_t i;

		for (i = 0; i < reply->answer_count; i++)
			if (reply->answers[i].type == DNS_T_CNAME &&
			    dns_name_equal(reply->answers[i].name, name))
				break;
		if (i == reply->answer_count)
			return name;
		name = reply->answers[i].target;
	}
	return name;
}

static void
rr_copy(struct dns_rr *dst, const struct dns_rr *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->target = src->target ? xstrdup(src->target) : NULL;
	dst->data = src->data ? xmemdup(src->data, src->data_len) : NULL;
}

/* Copies of the records of type owned by owner, or NULL if none. */
static struct dns_answer *
answer_collect(const struct dns_reply *reply, const char *owner,
	       unsigned type)
{
	struct dns_answer *answer;
	size_t count = 0;

	for (size_t i = 0; i < reply->answer_count; i++)
		if (reply->answers[i].type == type &&
		    dns_name_equal(reply->answers[i].name, owner))
			count++;
	if (count == 0)
		return NULL;
	answer = xmalloc(sizeof(*answer));
	answer->canonical = xstrdup(owner);
	answer->rrs = xcalloc(count, sizeof(*answer->rrs));
	for (size_t i = 0; i < reply->answer_count; i++)
		if (reply->answers[i].type == type &&
		    dns_name_equal(reply->answers[i].name, owner))
			rr_copy(&answer->rrs[answer->count++],
				&reply->answers[i]);
	return answer;
}

enum dns_status
dns_lookup(struct dns_resolver *res, const char *name, unsigned type,
	   struct dns_answer **answer_out, struct err *why)
{
	char *current;

	*answer_out = NULL;
	if (!name_is_queryable(name)) {
		err_set(why, "Name service error for %s: invalid host or "
			     "domain name", name);
		return DNS_FAIL;
	}
	current = xstrdup(name);
	for (int hop = 0; hop <= CNAME_MAX; hop++) {
		const struct dns_reply *reply;
		enum dns_status status;
		const char *end;
		char *next;

		status = query_cached(res, current, type, &reply, why);
		if (status != DNS_OK) {
			free(current);
			return status;
		}
		end = type == DNS_T_CNAME ? current : cname_follow(reply, current);
		*answer_out = answer_collect(reply, end, type);
		if (*answer_out != NULL) {
			free(current);
			return DNS_OK;
		}
		if (dns_name_equal(end, current)) {
			host_error(why, DNS_NOTFOUND, current, type,
				   "Host found but no data record of "
				   "requested type");
			free(current);
			return DNS_NOTFOUND;
		}
		next = xstrdup(end);
		free(current);
		current = next;
	}
	free(current);
	err_set(why, "Name server loop for %s", name);
	return DNS_NOTFOUND;
}

void
dns_answer_free(struct dns_answer **answerp)
{
	struct dns_answer *answer = *answerp;

	if (answer == NULL)
		return;
	for (size_t i = 0; i < answer->count; i++) {
		free(answer->rrs[i].name);
		free(answer->rrs[i].target);
		free(answer->rrs[i].data);
	}
	free(answer->rrs);
	free(answer->canonical);
	free(answer);
	*answerp = NULL;
}
