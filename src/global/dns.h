/*
 * dns.h - DNS lookups for outbound mail: MX, A, AAAA, TXT and PTR.
 *
 * A struct dns_resolver owns a private glibc resolver state (res_ninit),
 * so nothing here touches the process-wide _res, plus a per-process cache
 * of replies that lives as long as their TTL. Queries go out with
 * res_nmkquery/res_nsend, which retries over TCP by itself when a UDP reply
 * comes back truncated; replies are read by our own parser (dns_parse.h).
 *
 * Every lookup returns one of enum dns_status and, when it is not DNS_OK,
 * a reason in Postfix's words in why:
 *   "Host or domain name not found. Name service error for name=X type=MX:
 *    Host not found"                                    (DNS_NOTFOUND)
 *   "... type=A: Host found but no data record of requested type"
 *                                                       (DNS_NOTFOUND)
 *   "... type=MX: Host not found, try again"            (DNS_RETRY)
 *   "... type=MX: Non-recoverable error"                (DNS_FAIL)
 *   "Name service error for name=X type=MX: Malformed or unexpected name
 *    server reply"                                      (DNS_RETRY)
 *   "Name service error for X: invalid host or domain name"   (DNS_FAIL)
 *   "Domain X does not accept mail (nullMX)"            (DNS_NULLMX)
 * The smtp agent maps DNS_NOTFOUND, DNS_FAIL and DNS_NULLMX (5.1.10) to
 * bounces and DNS_RETRY to deferrals.
 *
 * dns_resolver_conf (main.cf, Postern's own) may name another file in
 * resolv.conf syntax, read by Postern itself because glibc always reads
 * /etc/resolv.conf: "nameserver ADDR" with an IPv4 address and an optional
 * "#PORT" suffix (Postern's extension; glibc would take '#' as a comment),
 * at most 3 of them, and "options" with timeout:N, attempts:N, use-vc,
 * edns0. "search", "domain" and "sortlist" lines are accepted and ignored:
 * mail lookups never use a search list, as in Postfix.
 */
#ifndef POSTERN_GLOBAL_DNS_H
#define POSTERN_GLOBAL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

#include "global/dns_parse.h"

enum dns_status {
	DNS_OK,
	DNS_NOTFOUND, /* NXDOMAIN, or the name has no record of the type */
	DNS_RETRY,    /* SERVFAIL, timeout, malformed reply: try later */
	DNS_FAIL,     /* refused, not implemented, invalid name: give up */
	DNS_NULLMX,   /* the domain's only MX is "." (RFC 7505) */
};

/*
 * Raw query transport, replaceable for tests. Writes the reply to answer
 * (size bytes) and returns its length; DNS_QUERY_RETRY when no usable
 * reply came (timeout, every server failed); DNS_QUERY_INVALID when name
 * cannot be put in a query.
 */
#define DNS_QUERY_RETRY (-1)
#define DNS_QUERY_INVALID (-2)
typedef int dns_query_fn(void *ctx, const char *name, unsigned type,
			 uint8_t *answer, size_t size);
typedef time_t dns_clock_fn(void *ctx);

struct dns_resolver_ops {
	dns_query_fn *query;
	dns_clock_fn *clock; /* NULL: time(NULL) */
	void *ctx;
};

struct dns_resolver;

/*
 * A resolver reading /etc/resolv.conf, then resolv_conf when it is not
 * NULL or "" (dns_resolver_conf). NULL with err "Name service
 * initialization failure" or "FILE, line N: reason".
 */
struct dns_resolver *dns_resolver_create(const char *resolv_conf,
					 struct err *err);

/* A resolver that sends nothing to the network: ops does the queries. */
struct dns_resolver *dns_resolver_create_ops(const struct dns_resolver_ops *ops);
void dns_resolver_destroy(struct dns_resolver **resp);

/* Make the order among equal MX preferences and addresses repeatable. */
void dns_resolver_seed(struct dns_resolver *res, uint64_t seed);

/* Forget every cached reply. */
void dns_resolver_flush(struct dns_resolver *res);

/*
 * Records of type for name, after following CNAMEs (at most 10; more is
 * "Name server loop for X", DNS_NOTFOUND). On DNS_OK, *answer_out holds
 * copies of the records (owner = the canonical name) and canonical is the
 * name at the end of the CNAME chain; the caller frees with
 * dns_answer_free. On other results *answer_out is NULL and why is set.
 */
struct dns_answer {
	char *canonical;
	struct dns_rr *rrs;
	size_t count;
};

enum dns_status dns_lookup(struct dns_resolver *res, const char *name,
			   unsigned type, struct dns_answer **answer_out,
			   struct err *why);
void dns_answer_free(struct dns_answer **answerp);

/*
 * The mail exchangers of domain, sorted by preference, random order among
 * equal preferences, duplicates and records with malformed host names
 * dropped (with a warning). When the domain has no MX (NXDOMAIN or no MX
 * record) the list is the domain itself at preference 0 and is_implicit is
 * true: the caller's address lookup then reports what is missing, as
 * Postfix does ("name=X type=A: Host not found"). Caller frees with
 * dns_mx_list_free.
 */
struct dns_mx {
	uint16_t pref;
	char *host;
};

struct dns_mx_list {
	struct dns_mx *items;
	size_t count;
	bool is_implicit;
};

enum dns_status dns_lookup_mx(struct dns_resolver *res, const char *domain,
			      struct dns_mx_list **list_out, struct err *why);
void dns_mx_list_free(struct dns_mx_list **listp);

/* inet_protocols as flags; smtp_address_preference as an enum. */
#define DNS_WANT_IPV4 1U
#define DNS_WANT_IPV6 2U

enum dns_addr_pref {
	DNS_PREF_ANY,
	DNS_PREF_IPV4,
	DNS_PREF_IPV6,
};

/*
 * Parse inet_protocols ("all", "ipv4", "ipv6", "ipv4, ipv6") and
 * smtp_address_preference ("any", "ipv4", "ipv6"). -1 with err
 * "bad inet_protocols value: X" / "bad smtp_address_preference value: X".
 */
int dns_inet_protocols(const char *value, unsigned *families_out,
		       struct err *err);
int dns_addr_pref_parse(const char *value, enum dns_addr_pref *pref_out,
			struct err *err);

/*
 * The addresses of host: A records when families has DNS_WANT_IPV4, AAAA
 * when it has DNS_WANT_IPV6, shuffled (smtp_randomize_addresses), then the
 * preferred family first. An IP address literal is returned as is. DNS_OK
 * when any type gave an address; otherwise DNS_RETRY if one lookup failed
 * temporarily, else the last type's result and reason. text is the
 * printable address. Caller frees with dns_addr_list_free.
 */
struct dns_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
	char text[46];
};

struct dns_addr_list {
	struct dns_addr *items;
	size_t count;
};

enum dns_status dns_lookup_addrs(struct dns_resolver *res, const char *host,
				 unsigned families, enum dns_addr_pref pref,
				 struct dns_addr_list **list_out,
				 struct err *why);

/*
 * The same through getaddrinfo (smtp_host_lookup = native: /etc/hosts,
 * NSS). Errors read "unable to look up host X: REASON"; EAI_AGAIN is
 * DNS_RETRY, EAI_NONAME/EAI_NODATA DNS_NOTFOUND, others DNS_FAIL.
 */
enum dns_status dns_lookup_addrs_native(struct dns_resolver *res,
					const char *host, unsigned families,
					enum dns_addr_pref pref,
					struct dns_addr_list **list_out,
					struct err *why);
void dns_addr_list_free(struct dns_addr_list **listp);

/*
 * The name of an address by PTR (in-addr.arpa / ip6.arpa). On DNS_OK,
 * *name_out is the first PTR target (caller frees).
 */
enum dns_status dns_lookup_ptr(struct dns_resolver *res,
			       const struct dns_addr *addr, char **name_out,
			       struct err *why);

/* "OK", "NOTFOUND", ... for logs and tests. */
const char *dns_status_name(enum dns_status status);

#endif
