/*
 * dns_mx.c - what the smtp agent asks of DNS: the mail exchangers of a
 * domain, the addresses of a host (by DNS or getaddrinfo), and PTR names.
 *
 * Policy that Postfix applies lives here: null MX (RFC 7505), the implicit
 * MX when a domain has none (RFC 5321 5.1), random order among equal MX
 * preferences and among a host's addresses, the inet_protocols filter and
 * the smtp_address_preference order.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/argv.h"
#include "util/log.h"
#include "util/mymalloc.h"

#include "global/dns_priv.h"

/* A host name as Postfix accepts one in MX data: letters, digits, '-',
 * '_', dots between non-empty labels of at most 63 bytes. */
static bool
hostname_is_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 255)
		return false;
	for (const char *cp = name; *cp; cp++) {
		if (*cp == '.') {
			if (label == 0 || cp[-1] == '-')
				return false;
			label = 0;
		} else if ((*cp >= 'a' && *cp <= 'z') ||
			   (*cp >= 'A' && *cp <= 'Z') ||
			   (*cp >= '0' && *cp <= '9') || *cp == '_' ||
			   (*cp == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && name[len - 1] != '-';
}

struct mx_sort {
	struct dns_mx mx;
	uint64_t key;
};

static int
mx_compare(const void *a, const void *b)
{
	const struct mx_sort *x = a, *y = b;

	if (x->mx.pref != y->mx.pref)
		return x->mx.pref < y->mx.pref ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static bool
mx_is_duplicate(const struct mx_sort *items, size_t count, const char *host)
{
	for (size_t i = 0; i < count; i++)
		if (dns_name_equal(items[i].mx.host, host))
			return true;
	return false;
}

/* Valid, distinct exchangers of answer in preference order. */
static struct dns_mx_list *
mx_list_build(struct dns_resolver *res, const char *domain,
	      const struct dns_answer *answer)
{
	struct mx_sort *items = xcalloc(answer->count, sizeof(*items));
	struct dns_mx_list *list = xmalloc(sizeof(*list));
	size_t count = 0;

	for (size_t i = 0; i < answer->count; i++) {
		const struct dns_rr *rr = &answer->rrs[i];

		if (!hostname_is_valid(rr->target)) {
			log_warning("malformed domain name in resource data "
				    "of MX record for %s: %.100s",
				    domain, rr->target);
			continue;
		}
		if (mx_is_duplicate(items, count, rr->target))
			continue;
		items[count].mx.pref = rr->pref;
		items[count].mx.host = xstrdup(rr->target);
		items[count].key = dns_random(res);
		count++;
	}
	/* qsort is not stable; the random key breaks ties among equals. */
	qsort(items, count, sizeof(*items), mx_compare);
	list->items = xcalloc(count, sizeof(*list->items));
	for (size_t i = 0; i < count; i++)
		list->items[i] = items[i].mx;
	list->count = count;
	free(items);
	return list;
}

static struct dns_mx_list *
mx_list_implicit(const char *domain)
{
	struct dns_mx_list *list = xmalloc(sizeof(*list));

	list->items = xcalloc(1, sizeof(*list->items));
	list->items[0].host = xstrdup(domain);
	list->count = 1;
	list->is_implicit = true;
	return list;
}

enum dns_status
dns_lookup_mx(struct dns_resolver *res, const char *domain,
	      struct dns_mx_list **list_out, struct err *why)
{
	struct dns_answer *answer;
	enum dns_status status;

	*list_out = NULL;
	status = dns_lookup(res, domain, DNS_T_MX, &answer, why);
	if (status == DNS_NOTFOUND) {
		*list_out = mx_list_implicit(domain);
		return DNS_OK;
	}
	if (status != DNS_OK)
		return status;
	if (answer->count == 1 && answer->rrs[0].target[0] == 0) {
		dns_answer_free(&answer);
		err_set(why, "Domain %s does not accept mail (nullMX)",
			domain);
		return DNS_NULLMX;
	}
	*list_out = mx_list_build(res, domain, answer);
	dns_answer_free(&answer);
	if ((*list_out)->count == 0) {
		dns_mx_list_free(list_out);
		err_set(why,
			"Name service error for name=%s type=MX: Malformed "
			"or unexpected name server reply",
			domain);
		return DNS_RETRY;
	}
	return DNS_OK;
}

void
dns_mx_list_free(struct dns_mx_list **listp)
{
	struct dns_mx_list *list = *listp;

	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].host);
	free(list->items);
	free(list);
	*listp = NULL;
}

int
dns_inet_protocols(const char *value, unsigned *families_out,
		   struct err *err)
{
	struct argv *words = argv_split(value, ", \t\r\n");
	unsigned families = 0;
	int status = 0;

	for (size_t i = 0; i < words->count; i++) {
		if (strcmp(words->items[i], "all") == 0)
			families |= DNS_WANT_IPV4 | DNS_WANT_IPV6;
		else if (strcmp(words->items[i], "ipv4") == 0)
			families |= DNS_WANT_IPV4;
		else if (strcmp(words->items[i], "ipv6") == 0)
			families |= DNS_WANT_IPV6;
		else
			status = -1;
	}
	argv_destroy(&words);
	if (status < 0 || families == 0) {
		err_set(err, "bad inet_protocols value: %s", value);
		return -1;
	}
	*families_out = families;
	return 0;
}

int
dns_addr_pref_parse(const char *value, enum dns_addr_pref *pref_out,
		    struct err *err)
{
	if (strcmp(value, "any") == 0)
		*pref_out = DNS_PREF_ANY;
	else if (strcmp(value, "ipv4") == 0)
		*pref_out = DNS_PREF_IPV4;
	else if (strcmp(value, "ipv6") == 0)
		*pref_out = DNS_PREF_IPV6;
	else {
		err_set(err, "bad smtp_address_preference value: %s", value);
		return -1;
	}
	return 0;
}

static void
addr_add(struct dns_addr_list *list, int family, const void *bytes)
{
	struct dns_addr *addr;

	list->items = xreallocarray(list->items, list->count + 1,
				    sizeof(*list->items));
	addr = &list->items[list->count++];
	memset(addr, 0, sizeof(*addr));
	addr->family = family;
	memcpy(addr->bytes, bytes, family == AF_INET ? 4 : 16);
	inet_ntop(family, bytes, addr->text, sizeof(addr->text));
}

/* Shuffle, then move the preferred family to the front (stable). */
static void
addr_order(struct dns_resolver *res, struct dns_addr_list *list,
	   enum dns_addr_pref pref)
{
	struct dns_addr *sorted;
	size_t out = 0;
	int first;

	for (size_t i = list->count; i > 1; i--) {
		size_t j = (size_t)(dns_random(res) % i);
		struct dns_addr tmp = list->items[i - 1];

		list->items[i - 1] = list->items[j];
		list->items[j] = tmp;
	}
	if (pref == DNS_PREF_ANY || list->count < 2)
		return;
	first = pref == DNS_PREF_IPV4 ? AF_INET : AF_INET6;
	sorted = xcalloc(list->count, sizeof(*sorted));
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].family == first)
			sorted[out++] = list->items[i];
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].family != first)
			sorted[out++] = list->items[i];
	free(list->items);
	list->items = sorted;
}

/* An address literal needs no lookup. */
static struct dns_addr_list *
addr_literal(const char *host, unsigned families)
{
	struct dns_addr_list *list;
	uint8_t bytes[16];
	int family;

	if (inet_pton(AF_INET, host, bytes) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, host, bytes) == 1)
		family = AF_INET6;
	else
		return NULL;
	list = xmalloc(sizeof(*list));
	if ((family == AF_INET && (families & DNS_WANT_IPV4)) ||
	    (family == AF_INET6 && (families & DNS_WANT_IPV6)))
		addr_add(list, family, bytes);
	return list;
}

enum dns_status
dns_lookup_addrs(struct dns_resolver *res, const char *host,
		 unsigned families, enum dns_addr_pref pref,
		 struct dns_addr_list **list_out, struct err *why)
{
	static const unsigned types[] = {DNS_T_A, DNS_T_AAAA};
	struct dns_addr_list *list;
	enum dns_status worst = DNS_NOTFOUND;
	struct err retry_why = {{0}};

	*list_out = NULL;
	if ((list = addr_literal(host, families)) != NULL) {
		if (list->count > 0) {
			*list_out = list;
			return DNS_OK;
		}
		dns_addr_list_free(&list);
		err_set(why, "%s: address family disabled by inet_protocols",
			host);
		return DNS_NOTFOUND;
	}
	list = xmalloc(sizeof(*list));
	for (size_t t = 0; t < 2; t++) {
		struct dns_answer *answer;
		enum dns_status status;

		if (!(families & (t == 0 ? DNS_WANT_IPV4 : DNS_WANT_IPV6)))
			continue;
		status = dns_lookup(res, host, types[t], &answer, why);
		if (status == DNS_RETRY || (status == DNS_FAIL &&
					    worst != DNS_RETRY)) {
			worst = status;
			err_set(&retry_why, "%s", why ? why->text : "");
		}
		if (status != DNS_OK)
			continue;
		for (size_t i = 0; i < answer->count; i++)
			addr_add(list, t == 0 ? AF_INET : AF_INET6,
				 answer->rrs[i].data);
		dns_answer_free(&answer);
	}
	if (list->count == 0) {
		dns_addr_list_free(&list);
		if (worst != DNS_NOTFOUND)
			err_set(why, "%s", retry_why.text);
		return worst;
	}
	addr_order(res, list, pref);
	*list_out = list;
	return DNS_OK;
}

static enum dns_status
native_error(struct err *why, const char *host, int code)
{
	err_set(why, "unable to look up host %s: %s", host, gai_strerror(code));
	if (code == EAI_AGAIN)
		return DNS_RETRY;
	if (code == EAI_NONAME || code == EAI_NODATA)
		return DNS_NOTFOUND;
	return DNS_FAIL;
}

enum dns_status
dns_lookup_addrs_native(struct dns_resolver *res, const char *host,
			unsigned families, enum dns_addr_pref pref,
			struct dns_addr_list **list_out, struct err *why)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *cur;
	struct dns_addr_list *list;
	int code;

	*list_out = NULL;
	hints.ai_family = families == DNS_WANT_IPV4   ? AF_INET
			  : families == DNS_WANT_IPV6 ? AF_INET6
						      : AF_UNSPEC;
	if ((code = getaddrinfo(host, NULL, &hints, &ai)) != 0)
		return native_error(why, host, code);
	list = xmalloc(sizeof(*list));
	for (cur = ai; cur != NULL; cur = cur->ai_next) {
		if (cur->ai_family == AF_INET)
			addr_add(list, AF_INET,
				 &((struct sockaddr_in *)cur->ai_addr)->sin_addr);
		else if (cur->ai_family == AF_INET6)
			addr_add(list, AF_INET6,
				 &((struct sockaddr_in6 *)cur->ai_addr)
					  ->sin6_addr);
	}
	freeaddrinfo(ai);
	if (list->count == 0) {
		dns_addr_list_free(&list);
		return native_error(why, host, EAI_NODATA);
	}
	addr_order(res, list, pref);
	*list_out = list;
	return DNS_OK;
}

void
dns_addr_list_free(struct dns_addr_list **listp)
{
	struct dns_addr_list *list = *listp;

	if (list == NULL)
		return;
	free(list->items);
	free(list);
	*listp = NULL;
}

/* "4.3.2.1.in-addr.arpa" or the 32 nibbles of ip6.arpa. */
static char *
ptr_name(const struct dns_addr *addr)
{
	static const char hex[] = "0123456789abcdef";
	char name[80];
	size_t len = 0;

	if (addr->family == AF_INET)
		return xasprintf("%u.%u.%u.%u.in-addr.arpa", addr->bytes[3],
				 addr->bytes[2], addr->bytes[1],
				 addr->bytes[0]);
	for (int i = 15; i >= 0; i--) {
		name[len++] = hex[addr->bytes[i] & 0xF];
		name[len++] = '.';
		name[len++] = hex[addr->bytes[i] >> 4];
		name[len++] = '.';
	}
	memcpy(name + len, "ip6.arpa", 9);
	return xstrdup(name);
}

enum dns_status
dns_lookup_ptr(struct dns_resolver *res, const struct dns_addr *addr,
	       char **name_out, struct err *why)
{
	char *name = ptr_name(addr);
	struct dns_answer *answer;
	enum dns_status status;

	*name_out = NULL;
	status = dns_lookup(res, name, DNS_T_PTR, &answer, why);
	free(name);
	if (status != DNS_OK)
		return status;
	*name_out = xstrdup(answer->rrs[0].target);
	dns_answer_free(&answer);
	return DNS_OK;
}
