/*
 * test_dns.c - unit tests for the DNS lookups (dns.h).
 *
 * Most tests replace the transport with a fake zone that builds replies by
 * hand (dns_msg.h) and a fake clock, to check MX ordering, implicit and
 * null MX, CNAMEs, the error wording, the cache and the address order. The
 * end-to-end tests run Debian's dnsmasq on 127.0.0.1 and a free port and
 * go through glibc's resolver, including TCP after a truncated UDP reply,
 * SERVFAIL and a 1-second timeout; they FAIL (never skip) when dnsmasq is
 * not installed (package dnsmasq-base, scripts/deps.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/dns.h"

#include "dns_msg.h"

/* ---- a fake zone ---------------------------------------------------- */

struct zone;
typedef void zone_fn(struct zone *z, const char *name, unsigned type,
		     struct dns_msg *m);

struct zone {
	zone_fn *answer;
	int queries;
	time_t now;
	bool want_retry;   /* the transport reports no usable reply */
	bool want_invalid; /* the transport cannot build the query */
};

static const uint8_t ip1[4] = {192, 0, 2, 1};
static const uint8_t ip2[4] = {192, 0, 2, 2};
static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

static int
zone_query(void *ctx, const char *name, unsigned type, uint8_t *answer,
	   size_t size)
{
	struct zone *z = ctx;
	struct dns_msg m = {{0}, 0};

	z->queries++;
	if (z->want_retry)
		return DNS_QUERY_RETRY;
	if (z->want_invalid)
		return DNS_QUERY_INVALID;
	z->answer(z, name, type, &m);
	assert_true(m.len <= size);
	memcpy(answer, m.bytes, m.len);
	return (int)m.len;
}

static time_t
zone_clock(void *ctx)
{
	return ((struct zone *)ctx)->now;
}

static struct dns_resolver *
zone_resolver(struct zone *z, zone_fn *answer)
{
	struct dns_resolver_ops ops = {zone_query, zone_clock, z};

	memset(z, 0, sizeof(*z));
	z->answer = answer;
	z->now = 1000;
	return dns_resolver_create_ops(&ops);
}

/* Reply header with rcode and the question echoed. */
static void
reply_start(struct dns_msg *m, unsigned rcode, unsigned an, unsigned ns,
	    const char *name, unsigned type)
{
	msg_header(m, 0x8180 | rcode, 1, an, ns, 0);
	msg_question(m, name, type);
}

static void
reply_nxdomain(struct dns_msg *m, const char *name, unsigned type)
{
	reply_start(m, DNS_RCODE_NXDOMAIN, 0, 0, name, type);
}

static void
reply_nodata(struct dns_msg *m, const char *name, unsigned type)
{
	reply_start(m, 0, 0, 1, name, type);
	msg_rr_soa(m, "example.com", 600, 60);
}

/* ---- MX ------------------------------------------------------------- */

static void
zone_main(struct zone *z, const char *name, unsigned type, struct dns_msg *m)
{
	(void)z;
	if (strcmp(name, "example.com") == 0 && type == DNS_T_MX) {
		reply_start(m, 0, 5, 0, name, type);
		msg_rr_mx(m, name, 300, 20, "c.example.com");
		msg_rr_mx(m, name, 10, 10, "a.example.com");
		msg_rr_mx(m, name, 300, 10, "b.example.com");
		msg_rr_mx(m, name, 300, 30, "A.example.com"); /* duplicate */
		msg_rr_mx(m, name, 300, 40, "bad-.example.com");
	} else if (strcmp(name, "null.example") == 0) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_mx(m, name, 300, 0, "");
	} else if (strcmp(name, "nullplus.example") == 0) {
		reply_start(m, 0, 2, 0, name, type);
		msg_rr_mx(m, name, 300, 0, "");
		msg_rr_mx(m, name, 300, 5, "mx.nullplus.example");
	} else if (strcmp(name, "allbad.example") == 0) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_mx(m, name, 300, 0, "-bad.example");
	} else if (strcmp(name, "alias.example") == 0) {
		/* The server followed the CNAME itself. */
		reply_start(m, 0, 2, 0, name, type);
		msg_rr_name(m, name, DNS_T_CNAME, 300, "Target.example");
		msg_rr_mx(m, "target.example", 300, 5, "mx.target.example");
	} else if (strcmp(name, "lazy.example") == 0) {
		/* Only the CNAME: the resolver must ask again. */
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_name(m, name, DNS_T_CNAME, 300, "target.example");
	} else if (strcmp(name, "target.example") == 0) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_mx(m, name, 300, 5, "mx.target.example");
	} else if (strcmp(name, "loop1.example") == 0 ||
		   strcmp(name, "loop2.example") == 0) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_name(m, name, DNS_T_CNAME, 300,
			    name[4] == '1' ? "loop2.example" : "loop1.example");
	} else if (strcmp(name, "nodata.example") == 0) {
		reply_nodata(m, name, type);
	} else if (strcmp(name, "servfail.example") == 0) {
		reply_start(m, DNS_RCODE_SERVFAIL, 0, 0, name, type);
	} else if (strcmp(name, "refused.example") == 0) {
		reply_start(m, DNS_RCODE_REFUSED, 0, 0, name, type);
	} else if (strcmp(name, "garbage.example") == 0) {
		msg_header(m, 0x8180, 1, 0, 0, 0);
		msg_u8(m, 0xC0);
	} else {
		reply_nxdomain(m, name, type);
	}
}

static void
mx_expect(struct dns_resolver *res, const char *domain,
	  const char *const *hosts, const unsigned *prefs, size_t count,
	  bool is_implicit)
{
	struct dns_mx_list *list;
	struct err why;

	assert_int_equal(dns_lookup_mx(res, domain, &list, &why), DNS_OK);
	assert_int_equal(list->count, count);
	assert_int_equal(list->is_implicit, is_implicit);
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(list->items[i].host, hosts[i]);
		assert_int_equal(list->items[i].pref, prefs[i]);
	}
	dns_mx_list_free(&list);
	assert_null(list);
}

static void
test_mx_order(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_main);
	bool seen_a_first = false, seen_b_first = false;

	(void)state;
	/* Equal preferences come in random order, repeatable by seed. */
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct dns_mx_list *list, *again;
		struct err why;

		dns_resolver_seed(res, seed);
		assert_int_equal(dns_lookup_mx(res, "example.com", &list, &why),
				 DNS_OK);
		dns_resolver_seed(res, seed);
		assert_int_equal(
		    dns_lookup_mx(res, "example.com", &again, &why), DNS_OK);
		/* a, b at 10 (duplicate A at 30 and bad-.example.com dropped). */
		assert_int_equal(list->count, 3);
		assert_int_equal(list->items[0].pref, 10);
		assert_int_equal(list->items[1].pref, 10);
		assert_string_equal(list->items[2].host, "c.example.com");
		assert_string_equal(list->items[0].host, again->items[0].host);
		if (strcmp(list->items[0].host, "a.example.com") == 0)
			seen_a_first = true;
		else
			seen_b_first = true;
		dns_mx_list_free(&list);
		dns_mx_list_free(&again);
	}
	assert_true(seen_a_first && seen_b_first);
	/* One query: the rest came from the cache. */
	assert_int_equal(z.queries, 1);
	dns_resolver_destroy(&res);
	assert_null(res);
	dns_resolver_destroy(&res);
}

static void
test_mx_special(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_main);
	static const char *const nullplus[] = {"mx.nullplus.example"};
	static const char *const target[] = {"mx.target.example"};
	static const char *const self_nx[] = {"nosuch.example"};
	static const char *const self_nodata[] = {"nodata.example"};
	static const unsigned five[] = {5}, zero[] = {0};
	struct dns_mx_list *list;
	struct err why;

	(void)state;
	assert_int_equal(dns_lookup_mx(res, "null.example", &list, &why),
			 DNS_NULLMX);
	assert_null(list);
	assert_string_equal(why.text,
			    "Domain null.example does not accept mail (nullMX)");
	/* "." next to a real MX is just a malformed record, dropped. */
	mx_expect(res, "nullplus.example", nullplus, five, 1, false);
	mx_expect(res, "alias.example", target, five, 1, false);
	mx_expect(res, "lazy.example", target, five, 1, false);
	/* No MX: the domain itself, whether NXDOMAIN or no data. */
	mx_expect(res, "nosuch.example", self_nx, zero, 1, true);
	mx_expect(res, "nodata.example", self_nodata, zero, 1, true);
	assert_int_equal(dns_lookup_mx(res, "allbad.example", &list, &why),
			 DNS_RETRY);
	assert_string_equal(why.text,
			    "Name service error for name=allbad.example "
			    "type=MX: Malformed or unexpected name server "
			    "reply");
	dns_resolver_destroy(&res);
}

struct error_case {
	const char *name;
	enum dns_status status;
	const char *why;
};

static void
test_errors(void **state)
{
	static const struct error_case cases[] = {
		{"servfail.example", DNS_RETRY,
		 "Host or domain name not found. Name service error for "
		 "name=servfail.example type=MX: Host not found, try again"},
		{"refused.example", DNS_FAIL,
		 "Host or domain name not found. Name service error for "
		 "name=refused.example type=MX: Non-recoverable error"},
		{"garbage.example", DNS_RETRY,
		 "Name service error for name=garbage.example type=MX: "
		 "Malformed or unexpected name server reply"},
		{"loop1.example", DNS_NOTFOUND,
		 "Name server loop for loop1.example"},
		{"nosuch.example", DNS_NOTFOUND,
		 "Host or domain name not found. Name service error for "
		 "name=nosuch.example type=MX: Host not found"},
		{"nodata.example", DNS_NOTFOUND,
		 "Host or domain name not found. Name service error for "
		 "name=nodata.example type=MX: Host found but no data "
		 "record of requested type"},
		{"a..b", DNS_FAIL,
		 "Name service error for a..b: invalid host or domain name"},
		{"", DNS_FAIL,
		 "Name service error for : invalid host or domain name"},
		{"sp ace", DNS_FAIL,
		 "Name service error for sp ace: invalid host or domain name"},
	};
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_main);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dns_answer *answer;
		struct err why;

		assert_int_equal(dns_lookup(res, cases[i].name, DNS_T_MX,
					    &answer, &why),
				 cases[i].status);
		assert_null(answer);
		assert_string_equal(why.text, cases[i].why);
	}
	z.want_retry = true;
	{
		struct dns_mx_list *list;
		struct err why;

		assert_int_equal(dns_lookup_mx(res, "fresh.example", &list,
					       &why),
				 DNS_RETRY);
		assert_null(list);
	}
	z.want_retry = false;
	z.want_invalid = true;
	{
		struct dns_answer *answer;
		struct err why;

		assert_int_equal(
		    dns_lookup(res, "x.example", DNS_T_TXT, &answer, &why),
		    DNS_FAIL);
		assert_string_equal(
		    why.text,
		    "Name service error for x.example: invalid host or "
		    "domain name");
	}
	dns_resolver_destroy(&res);
	assert_string_equal(dns_status_name(DNS_OK), "OK");
	assert_string_equal(dns_status_name(DNS_NOTFOUND), "NOTFOUND");
	assert_string_equal(dns_status_name(DNS_RETRY), "RETRY");
	assert_string_equal(dns_status_name(DNS_FAIL), "FAIL");
	assert_string_equal(dns_status_name(DNS_NULLMX), "NULLMX");
}

/* The retry message of a transport failure, exactly. */
static void
test_retry_wording(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_main);
	struct dns_answer *answer;
	struct err why;

	(void)state;
	z.want_retry = true;
	assert_int_equal(dns_lookup(res, "example.com", DNS_T_MX, &answer,
				    &why),
			 DNS_RETRY);
	assert_string_equal(why.text,
			    "Host or domain name not found. Name service "
			    "error for name=example.com type=MX: Host not "
			    "found, try again");
	/* Temporary failures are not cached. */
	assert_int_equal(dns_lookup(res, "example.com", DNS_T_MX, &answer,
				    &why),
			 DNS_RETRY);
	assert_int_equal(z.queries, 2);
	z.want_retry = false;
	assert_int_equal(dns_lookup(res, "example.com", DNS_T_MX, &answer,
				    &why),
			 DNS_OK);
	assert_int_equal(answer->count, 5);
	assert_string_equal(answer->canonical, "example.com");
	dns_answer_free(&answer);
	dns_resolver_destroy(&res);
}

/* ---- cache ------------------------------------------------------------ */

static void
test_cache_ttl(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_main);
	struct dns_answer *answer;
	struct err why;

	(void)state;
	/* example.com MX: smallest TTL 10 s. */
	assert_int_equal(dns_lookup(res, "example.com", DNS_T_MX, &answer,
				    &why),
			 DNS_OK);
	dns_answer_free(&answer);
	z.now += 9;
	/* The cache key ignores case. */
	assert_int_equal(dns_lookup(res, "EXAMPLE.com", DNS_T_MX, &answer,
				    &why),
			 DNS_OK);
	dns_answer_free(&answer);
	assert_int_equal(z.queries, 1);
	z.now += 1;
	assert_int_equal(dns_lookup(res, "example.com", DNS_T_MX, &answer,
				    &why),
			 DNS_OK);
	dns_answer_free(&answer);
	assert_int_equal(z.queries, 2);
	/* Negative answer with SOA: cached for min(600, 60) s. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(dns_lookup(res, "nodata.example", DNS_T_MX,
					    &answer, &why),
				 DNS_NOTFOUND);
	assert_int_equal(z.queries, 3);
	assert_string_equal(why.text,
			    "Host or domain name not found. Name service "
			    "error for name=nodata.example type=MX: Host "
			    "found but no data record of requested type");
	z.now += 60;
	assert_int_equal(dns_lookup(res, "nodata.example", DNS_T_MX, &answer,
				    &why),
			 DNS_NOTFOUND);
	assert_int_equal(z.queries, 4);
	/* NXDOMAIN without SOA: not cached. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(dns_lookup(res, "nosuch.example", DNS_T_MX,
					    &answer, &why),
				 DNS_NOTFOUND);
	assert_int_equal(z.queries, 6);
	dns_resolver_flush(res);
	assert_int_equal(dns_lookup(res, "nodata.example", DNS_T_MX, &answer,
				    &why),
			 DNS_NOTFOUND);
	assert_int_equal(z.queries, 7);
	dns_resolver_destroy(&res);
}

/* More names than the cache holds: it stays bounded and still works. */
static void
test_cache_full(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_main);

	(void)state;
	for (int i = 0; i < 2500; i++) {
		char name[64];
		struct dns_answer *answer;
		struct err why;

		snprintf(name, sizeof(name), "n%d.nodata.example", i);
		assert_int_equal(
		    dns_lookup(res, name, DNS_T_A, &answer, &why),
		    DNS_NOTFOUND);
		if (i % 1000 == 999)
			z.now += 100;
	}
	dns_resolver_destroy(&res);
}

/* ---- addresses -------------------------------------------------------- */

static void
zone_addrs(struct zone *z, const char *name, unsigned type,
	   struct dns_msg *m)
{
	(void)z;
	if (strcmp(name, "dual.example") == 0 && type == DNS_T_A) {
		reply_start(m, 0, 2, 0, name, type);
		msg_rr_addr(m, name, type, 300, ip1);
		msg_rr_addr(m, name, type, 300, ip2);
	} else if (strcmp(name, "dual.example") == 0) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_addr(m, name, type, 300, ip6);
	} else if (strcmp(name, "v4retry.example") == 0 && type == DNS_T_A) {
		reply_start(m, DNS_RCODE_SERVFAIL, 0, 0, name, type);
	} else if (strcmp(name, "v4retry.example") == 0) {
		reply_nodata(m, name, type);
	} else if (strcmp(name, "v6retry.example") == 0 && type == DNS_T_A) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_addr(m, name, type, 300, ip1);
	} else if (strcmp(name, "v6retry.example") == 0) {
		reply_start(m, DNS_RCODE_SERVFAIL, 0, 0, name, type);
	} else if (strcmp(name, "4.3.2.1.in-addr.arpa") == 0 ||
		   strncmp(name, "1.0.0.0.", 8) == 0) {
		reply_start(m, 0, 1, 0, name, type);
		msg_rr_name(m, name, DNS_T_PTR, 300, "ptr.example");
	} else {
		reply_nxdomain(m, name, type);
	}
}

static void
addrs_expect(struct dns_resolver *res, const char *host, unsigned families,
	     enum dns_addr_pref pref, const char *expect)
{
	struct dns_addr_list *list;
	struct err why;
	char got[256] = "";

	assert_int_equal(dns_lookup_addrs(res, host, families, pref, &list,
					  &why),
			 DNS_OK);
	for (size_t i = 0; i < list->count; i++) {
		strcat(got, i ? " " : "");
		strcat(got, list->items[i].text);
	}
	dns_addr_list_free(&list);
	assert_null(list);
	assert_string_equal(got, expect);
}

static void
test_addrs(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_addrs);
	struct dns_addr_list *list;
	struct err why;
	bool seen[2] = {false, false};

	(void)state;
	addrs_expect(res, "dual.example", DNS_WANT_IPV6, DNS_PREF_ANY,
		     "2001:db8::1");
	addrs_expect(res, "192.0.2.7", DNS_WANT_IPV4, DNS_PREF_ANY,
		     "192.0.2.7");
	addrs_expect(res, "2001:db8::9", DNS_WANT_IPV6, DNS_PREF_ANY,
		     "2001:db8::9");
	addrs_expect(res, "v6retry.example", DNS_WANT_IPV4 | DNS_WANT_IPV6,
		     DNS_PREF_IPV6, "192.0.2.1");
	for (uint64_t seed = 1; seed <= 30; seed++) {
		dns_resolver_seed(res, seed);
		assert_int_equal(dns_lookup_addrs(res, "dual.example",
						  DNS_WANT_IPV4 | DNS_WANT_IPV6,
						  DNS_PREF_IPV6, &list, &why),
				 DNS_OK);
		assert_int_equal(list->count, 3);
		assert_string_equal(list->items[0].text, "2001:db8::1");
		assert_int_equal(list->items[0].family, AF_INET6);
		seen[strcmp(list->items[1].text, "192.0.2.1") == 0] = true;
		dns_addr_list_free(&list);
		assert_int_equal(dns_lookup_addrs(res, "dual.example",
						  DNS_WANT_IPV4 | DNS_WANT_IPV6,
						  DNS_PREF_IPV4, &list, &why),
				 DNS_OK);
		assert_string_equal(list->items[2].text, "2001:db8::1");
		dns_addr_list_free(&list);
	}
	assert_true(seen[0] && seen[1]);
	/* Both types missing: the last type's reason, as Postfix logs it. */
	assert_int_equal(dns_lookup_addrs(res, "nosuch.example",
					  DNS_WANT_IPV4 | DNS_WANT_IPV6,
					  DNS_PREF_ANY, &list, &why),
			 DNS_NOTFOUND);
	assert_null(list);
	assert_string_equal(why.text,
			    "Host or domain name not found. Name service "
			    "error for name=nosuch.example type=AAAA: Host "
			    "not found");
	assert_int_equal(dns_lookup_addrs(res, "nosuch.example", DNS_WANT_IPV4,
					  DNS_PREF_ANY, &list, &why),
			 DNS_NOTFOUND);
	assert_string_equal(why.text,
			    "Host or domain name not found. Name service "
			    "error for name=nosuch.example type=A: Host not "
			    "found");
	/* A temporary failure wins over "not found". */
	assert_int_equal(dns_lookup_addrs(res, "v4retry.example",
					  DNS_WANT_IPV4 | DNS_WANT_IPV6,
					  DNS_PREF_ANY, &list, &why),
			 DNS_RETRY);
	assert_string_equal(why.text,
			    "Host or domain name not found. Name service "
			    "error for name=v4retry.example type=A: Host not "
			    "found, try again");
	assert_int_equal(dns_lookup_addrs(res, "192.0.2.7", DNS_WANT_IPV6,
					  DNS_PREF_ANY, &list, &why),
			 DNS_NOTFOUND);
	assert_string_equal(why.text, "192.0.2.7: address family disabled "
				      "by inet_protocols");
	dns_resolver_destroy(&res);
}

static void
test_ptr(void **state)
{
	struct zone z;
	struct dns_resolver *res = zone_resolver(&z, zone_addrs);
	struct dns_addr v4 = {.family = AF_INET, .bytes = {1, 2, 3, 4}};
	struct dns_addr v6 = {.family = AF_INET6, .bytes = {[15] = 1}};
	struct dns_addr none = {.family = AF_INET, .bytes = {9, 9, 9, 9}};
	struct err why;
	char *name;

	(void)state;
	assert_int_equal(dns_lookup_ptr(res, &v4, &name, &why), DNS_OK);
	assert_string_equal(name, "ptr.example");
	free(name);
	assert_int_equal(dns_lookup_ptr(res, &v6, &name, &why), DNS_OK);
	assert_string_equal(name, "ptr.example");
	free(name);
	assert_int_equal(dns_lookup_ptr(res, &none, &name, &why),
			 DNS_NOTFOUND);
	assert_null(name);
	assert_string_equal(why.text,
			    "Host or domain name not found. Name service "
			    "error for name=9.9.9.9.in-addr.arpa type=PTR: "
			    "Host not found");
	dns_resolver_destroy(&res);
}

static void
test_native(void **state)
{
	struct dns_resolver *res;
	struct zone z;
	struct dns_addr_list *list;
	struct err why;

	(void)state;
	res = zone_resolver(&z, zone_addrs);
	assert_int_equal(dns_lookup_addrs_native(res, "127.0.0.1",
						 DNS_WANT_IPV4, DNS_PREF_ANY,
						 &list, &why),
			 DNS_OK);
	assert_int_equal(list->count, 1);
	assert_string_equal(list->items[0].text, "127.0.0.1");
	dns_addr_list_free(&list);
	assert_int_equal(dns_lookup_addrs_native(res, "::1", DNS_WANT_IPV4,
						 DNS_PREF_ANY, &list, &why),
			 DNS_FAIL);
	assert_string_equal(why.text, "unable to look up host ::1: Address "
				      "family for hostname not supported");
	assert_int_equal(z.queries, 0);
	dns_resolver_destroy(&res);
}

struct parse_case {
	const char *value;
	int ret;
	unsigned families;
};

static void
test_param_parsing(void **state)
{
	static const struct parse_case cases[] = {
		{"all", 0, DNS_WANT_IPV4 | DNS_WANT_IPV6},
		{"ipv4", 0, DNS_WANT_IPV4},
		{"ipv6", 0, DNS_WANT_IPV6},
		{"ipv4, ipv6", 0, DNS_WANT_IPV4 | DNS_WANT_IPV6},
		{"", -1, 0},
		{"ipv5", -1, 0},
	};
	enum dns_addr_pref pref;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned families = 0;

		assert_int_equal(
		    dns_inet_protocols(cases[i].value, &families, &err),
		    cases[i].ret);
		if (cases[i].ret == 0)
			assert_int_equal(families, cases[i].families);
	}
	assert_string_equal(err.text, "bad inet_protocols value: ipv5");
	assert_int_equal(dns_addr_pref_parse("any", &pref, &err), 0);
	assert_int_equal(pref, DNS_PREF_ANY);
	assert_int_equal(dns_addr_pref_parse("ipv4", &pref, &err), 0);
	assert_int_equal(pref, DNS_PREF_IPV4);
	assert_int_equal(dns_addr_pref_parse("ipv6", &pref, &err), 0);
	assert_int_equal(pref, DNS_PREF_IPV6);
	assert_int_equal(dns_addr_pref_parse("both", &pref, &err), -1);
	assert_string_equal(err.text,
			    "bad smtp_address_preference value: both");
}

/* ---- dns_resolver_conf --------------------------------------------- */

struct conf_case {
	const char *text;
	const char *error; /* NULL: accepted; %s is the file name */
};

static void
test_resolver_conf(void **state)
{
	static const struct conf_case cases[] = {
		{"nameserver 127.0.0.1\n", NULL},
		{"# c\n; c\nsearch a b\ndomain a\nsortlist x\n"
		 "nameserver 127.0.0.1#5353\nnameserver 10.0.0.1\n"
		 "options timeout:1 attempts:1 use-vc edns0\n",
		 NULL},
		{"", "%s: no nameserver line"},
		{"nameserver ::1\n",
		 "%s, line 1: IPv6 nameserver ::1 is not supported here; use "
		 "an IPv4 address"},
		{"nameserver 1.2.3\n", "%s, line 1: bad nameserver address: "
				       "1.2.3"},
		{"nameserver 127.0.0.1#0\n",
		 "%s, line 1: bad nameserver port: 127.0.0.1#0"},
		{"nameserver 127.0.0.1#65536\n",
		 "%s, line 1: bad nameserver port: 127.0.0.1#65536"},
		{"nameserver 127.0.0.1#x\n",
		 "%s, line 1: bad nameserver port: 127.0.0.1#x"},
		{"nameserver\n", "%s, line 1: nameserver needs exactly one "
				 "address"},
		{"nameserver 1.1.1.1\nnameserver 1.1.1.2\nnameserver 1.1.1.3\n"
		 "nameserver 1.1.1.4\n",
		 "%s, line 4: more than 3 nameserver lines"},
		{"nameserver 1.1.1.1\noptions timeout:0\n",
		 "%s, line 2: bad option (timeout is 1-30): timeout:0"},
		{"nameserver 1.1.1.1\noptions attempts:9\n",
		 "%s, line 2: bad option (attempts is 1-5): attempts:9"},
		{"nameserver 1.1.1.1\noptions rotate\n",
		 "%s, line 2: unsupported option: rotate"},
		{"nameservers 1.1.1.1\n", "%s, line 1: unknown keyword: "
					  "nameservers"},
	};
	char path[] = "/tmp/test_dns_conf_XXXXXX";
	int fd = mkstemp(path);
	struct dns_resolver *res;
	struct err err;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *fp = fopen(path, "w");
		char expect[512];

		fputs(cases[i].text, fp);
		fclose(fp);
		res = dns_resolver_create(path, &err);
		if (cases[i].error == NULL) {
			if (res == NULL)
				fail_msg("case %zu: %s", i, err.text);
			dns_resolver_destroy(&res);
			continue;
		}
		assert_null(res);
		/* error starts with "%s", the file name. */
		snprintf(expect, sizeof(expect), "%s%s", path,
			 cases[i].error + 2);
		assert_string_equal(err.text, expect);
	}
	unlink(path);
	assert_null(dns_resolver_create("/nonexistent/resolv.conf", &err));
	assert_string_equal(err.text, "open /nonexistent/resolv.conf: No such "
				      "file or directory");
	/* Empty or NULL: the system's resolv.conf. */
	res = dns_resolver_create("", &err);
	assert_non_null(res);
	dns_resolver_destroy(&res);
	res = dns_resolver_create(NULL, &err);
	assert_non_null(res);
	dns_resolver_destroy(&res);
}

/* ---- end to end, through glibc and dnsmasq ---------------------------- */

#define DNSMASQ "/usr/sbin/dnsmasq"

struct live {
	pid_t pid;
	int port;
	char conf[64];
	int silent_fd; /* a UDP socket that never answers */
	int silent_port;
};

/* A loopback port free for UDP and TCP; with keep_fd, the UDP socket. */
static int
free_port(int *keep_fd)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		socklen_t len = sizeof(sin);
		int udp = socket(AF_INET, SOCK_DGRAM, 0);
		int tcp = socket(AF_INET, SOCK_STREAM, 0);
		int port;

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(udp, (struct sockaddr *)&sin, sizeof(sin));
		getsockname(udp, (struct sockaddr *)&sin, &len);
		port = ntohs(sin.sin_port);
		if (bind(tcp, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			close(tcp);
			if (keep_fd)
				*keep_fd = udp;
			else
				close(udp);
			return port;
		}
		close(tcp);
		close(udp);
	}
	fail_msg("no free loopback port");
	return -1;
}

static void
conf_write(const char *path, int port)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "# test resolver\nnameserver 127.0.0.1#%d\n"
		    "options timeout:1 attempts:1\n", port);
	fclose(fp);
}

static void
dnsmasq_exec(int port)
{
	char port_opt[32];
	char big[800];
	char big_opt[900];

	memset(big, 'x', 250);
	big[250] = 0;
	snprintf(port_opt, sizeof(port_opt), "--port=%d", port);
	/* Three 250-byte strings: 750 bytes, too big for 512-byte UDP. */
	snprintf(big_opt, sizeof(big_opt), "--txt-record=big.example.test,%s,%s,%s",
		 big, big, big);
	execl(DNSMASQ, DNSMASQ, "-k", port_opt, "--listen-address=127.0.0.1",
	      "--bind-interfaces", "--no-resolv", "--no-hosts",
	      "--conf-file=/dev/null", "--pid-file=", "--log-facility=-",
	      "--local=/example.test/",
	      "--mx-host=example.test,mx1.example.test,10",
	      "--mx-host=example.test,mx2.example.test,10",
	      "--mx-host=example.test,mx3.example.test,20",
	      "--mx-host=null.example.test,.,0",
	      "--host-record=mx1.example.test,192.0.2.1,2001:db8::1",
	      "--host-record=mx2.example.test,192.0.2.2",
	      "--host-record=mx3.example.test,192.0.2.3",
	      "--host-record=nomx.example.test,192.0.2.9",
	      "--cname=alias.example.test,mx1.example.test",
	      "--txt-record=example.test,v=spf1 -all", big_opt,
	      "--server=/fail.test/127.0.0.1#1", (char *)NULL);
	_exit(127);
}

static bool
live_ready(struct live *lv)
{
	struct dns_resolver *res;
	struct dns_answer *answer;
	struct err err;
	enum dns_status status;

	res = dns_resolver_create(lv->conf, &err);
	assert_non_null(res);
	status = dns_lookup(res, "example.test", DNS_T_TXT, &answer, &err);
	dns_answer_free(&answer);
	dns_resolver_destroy(&res);
	return status == DNS_OK;
}

static int
live_setup(void **state)
{
	struct live *lv = calloc(1, sizeof(*lv));

	if (access(DNSMASQ, X_OK) != 0) {
		print_error("%s not found: install Debian's dnsmasq-base "
			    "(scripts/deps.sh lists it)\n", DNSMASQ);
		free(lv);
		return -1;
	}
	lv->port = free_port(NULL);
	lv->silent_port = free_port(&lv->silent_fd);
	snprintf(lv->conf, sizeof(lv->conf), "/tmp/test_dns_live_XXXXXX");
	close(mkstemp(lv->conf));
	conf_write(lv->conf, lv->port);
	if ((lv->pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		dnsmasq_exec(lv->port);
	}
	*state = lv;
	for (int i = 0; i < 50; i++) {
		if (live_ready(lv))
			return 0;
		if (waitpid(lv->pid, NULL, WNOHANG) == lv->pid) {
			lv->pid = 0;
			print_error("dnsmasq exited at start-up\n");
			return -1;
		}
		usleep(100000);
	}
	print_error("dnsmasq did not answer on port %d\n", lv->port);
	return -1;
}

static int
live_teardown(void **state)
{
	struct live *lv = *state;

	if (lv->pid > 0) {
		kill(lv->pid, SIGTERM);
		waitpid(lv->pid, NULL, 0);
	}
	close(lv->silent_fd);
	unlink(lv->conf);
	free(lv);
	return 0;
}

static void
test_live_lookups(void **state)
{
	struct live *lv = *state;
	struct err err;
	struct dns_resolver *res = dns_resolver_create(lv->conf, &err);
	static const char *const mx3[] = {"nomx.example.test"};
	static const unsigned zero[] = {0};
	struct dns_mx_list *mx;
	struct dns_addr_list *addrs;
	struct dns_answer *answer;
	char *name;

	assert_non_null(res);
	assert_int_equal(dns_lookup_mx(res, "example.test", &mx, &err), DNS_OK);
	assert_int_equal(mx->count, 3);
	assert_false(mx->is_implicit);
	assert_int_equal(mx->items[0].pref, 10);
	assert_int_equal(mx->items[1].pref, 10);
	assert_string_equal(mx->items[2].host, "mx3.example.test");
	dns_mx_list_free(&mx);
	mx_expect(res, "nomx.example.test", mx3, zero, 1, true);
	assert_int_equal(dns_lookup_mx(res, "null.example.test", &mx, &err),
			 DNS_NULLMX);
	assert_string_equal(err.text, "Domain null.example.test does not "
				      "accept mail (nullMX)");
	addrs_expect(res, "mx1.example.test", DNS_WANT_IPV4 | DNS_WANT_IPV6,
		     DNS_PREF_IPV4, "192.0.2.1 2001:db8::1");
	addrs_expect(res, "alias.example.test", DNS_WANT_IPV4, DNS_PREF_ANY,
		     "192.0.2.1");
	assert_int_equal(dns_lookup_addrs(res, "nosuch.example.test",
					  DNS_WANT_IPV4 | DNS_WANT_IPV6,
					  DNS_PREF_ANY, &addrs, &err),
			 DNS_NOTFOUND);
	assert_string_equal(err.text,
			    "Host or domain name not found. Name service "
			    "error for name=nosuch.example.test type=AAAA: "
			    "Host not found");
	assert_int_equal(dns_lookup(res, "example.test", DNS_T_TXT, &answer,
				    &err),
			 DNS_OK);
	assert_string_equal((char *)answer->rrs[0].data, "v=spf1 -all");
	dns_answer_free(&answer);
	/* 750 bytes of TXT: UDP says truncated, glibc retries over TCP. */
	assert_int_equal(dns_lookup(res, "big.example.test", DNS_T_TXT,
				    &answer, &err),
			 DNS_OK);
	assert_int_equal(answer->rrs[0].data_len, 750);
	dns_answer_free(&answer);
	assert_int_equal(dns_lookup_ptr(res,
					&(struct dns_addr){.family = AF_INET,
							   .bytes = {192, 0, 2,
								     2}},
					&name, &err),
			 DNS_OK);
	assert_string_equal(name, "mx2.example.test");
	free(name);
	dns_resolver_destroy(&res);
}

static void
expect_retry(const char *conf, const char *domain)
{
	struct err err;
	struct dns_resolver *res = dns_resolver_create(conf, &err);
	struct dns_mx_list *mx;
	char expect[256];
	time_t start = time(NULL);

	assert_non_null(res);
	assert_int_equal(dns_lookup_mx(res, domain, &mx, &err), DNS_RETRY);
	assert_null(mx);
	snprintf(expect, sizeof(expect),
		 "Host or domain name not found. Name service error for "
		 "name=%s type=MX: Host not found, try again",
		 domain);
	assert_string_equal(err.text, expect);
	/* timeout:1 attempts:1 keeps this short. */
	assert_true(time(NULL) - start <= 3);
	dns_resolver_destroy(&res);
}

static void
test_live_failures(void **state)
{
	struct live *lv = *state;

	/* dnsmasq forwards fail.test to a dead port: SERVFAIL. */
	expect_retry(lv->conf, "fail.test");
	/* A server that never answers: timeout. */
	conf_write(lv->conf, lv->silent_port);
	expect_retry(lv->conf, "example.test");
	/* Nobody listening: refused. */
	conf_write(lv->conf, free_port(NULL));
	expect_retry(lv->conf, "example.test");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_order),
		cmocka_unit_test(test_mx_special),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_retry_wording),
		cmocka_unit_test(test_cache_ttl),
		cmocka_unit_test(test_cache_full),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_param_parsing),
		cmocka_unit_test(test_resolver_conf),
		cmocka_unit_test_setup_teardown(test_live_lookups,
						live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_live_failures,
						live_setup, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
