/*
 * test_smtp_dest.c - unit tests for nexthop destinations and host lists:
 * the SMTP and LMTP forms, bad ones with their messages, and MX order,
 * the address limit and lookup failures through a fake resolver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/mymalloc.h"

#include "global/smtp_dest.h"

struct dest_case {
	const char *text;
	bool is_lmtp;
	const char *host; /* NULL: error expected, message in want_err */
	unsigned port;
	bool want_mx;
	bool is_unix;
	const char *want_err;
};

static const struct dest_case dest_cases[] = {
	{ "example.com", false, "example.com", 25, true, false, NULL },
	{ "example.com:2525", false, "example.com", 2525, true, false, NULL },
	{ "[mail.example.com]", false, "mail.example.com", 25, false, false, NULL },
	{ "[192.0.2.1]:587", false, "192.0.2.1", 587, false, false, NULL },
	{ "[ipv6:2001:db8::1]:26", false, "2001:db8::1", 26, false, false, NULL },
	{ "unix:/var/run/lmtp", true, "/var/run/lmtp", 0, false, true, NULL },
	{ "unix:private/dovecot-lmtp", true, "private/dovecot-lmtp", 0, false,
	  true, NULL },
	{ "inet:lmtp.example:2003", true, "lmtp.example", 2003, false, false,
	  NULL },
	{ "inet:[127.0.0.1]", true, "127.0.0.1", 25, false, false, NULL },
	{ "host.example", true, "host.example", 25, false, false, NULL },
	{ "[192.0.2.1", false, NULL, 0, false, false,
	  "bad destination \"[192.0.2.1\": missing \"]\"" },
	{ "[192.0.2.1]x", false, NULL, 0, false, false,
	  "bad destination \"[192.0.2.1]x\": garbage after \"]\"" },
	{ "[]:25", false, NULL, 0, false, false,
	  "bad destination \"[]:25\": empty host" },
	{ "example.com:99999", false, NULL, 0, false, false,
	  "bad destination \"example.com:99999\": bad port" },
	{ "example.com:nosuchservice", false, NULL, 0, false, false,
	  "bad destination \"example.com:nosuchservice\": bad port" },
	{ "unix:", true, NULL, 0, false, false,
	  "bad destination \"unix:\": empty path" },
};

static void
test_dest_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dest_cases) / sizeof(dest_cases[0]); i++) {
		const struct dest_case *c = &dest_cases[i];
		struct smtp_dest d;
		struct err err;
		int ret = smtp_dest_parse(c->text, c->is_lmtp, 25, &d, &err);

		if (c->host == NULL) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, c->want_err);
			continue;
		}
		assert_int_equal(ret, 0);
		assert_string_equal(d.host, c->host);
		assert_int_equal(d.port, c->port);
		assert_int_equal(d.want_mx, c->want_mx);
		assert_int_equal(d.is_unix, c->is_unix);
		smtp_dest_clear(&d);
	}
	assert_int_equal(smtp_dest_port("smtp"), 25);
	assert_int_equal(smtp_dest_port("0"), -1);
	assert_int_equal(smtp_dest_port(""), -1);
}

/* Fake DNS: mx.test has two MX hosts; each host has two addresses. */
static enum dns_status
fake_mx(void *ctx, const char *domain, struct dns_mx_list **list_out,
	struct err *why)
{
	struct dns_mx_list *list;

	(void)ctx;
	if (strcmp(domain, "mx.test") != 0) {
		err_set(why, "Host or domain name not found. Name service "
			     "error for name=%s type=MX: Host not found, try "
			     "again", domain);
		return DNS_RETRY;
	}
	list = xcalloc(1, sizeof(*list));
	list->items = xcalloc(2, sizeof(*list->items));
	list->count = 2;
	list->items[0] = (struct dns_mx){ 10, xstrdup("a.mx.test") };
	list->items[1] = (struct dns_mx){ 20, xstrdup("b.mx.test") };
	*list_out = list;
	return DNS_OK;
}

static enum dns_status
fake_addrs(void *ctx, const char *host, unsigned families,
	   enum dns_addr_pref pref, struct dns_addr_list **list_out,
	   struct err *why)
{
	struct dns_addr_list *list;
	uint8_t base = host[0] == 'a' ? 1 : 3;

	(void)ctx, (void)families, (void)pref;
	if (strcmp(host, "nx.test") == 0) {
		err_set(why, "Host or domain name not found. Name service "
			     "error for name=nx.test type=A: Host not found");
		return DNS_NOTFOUND;
	}
	list = xcalloc(1, sizeof(*list));
	list->items = xcalloc(2, sizeof(*list->items));
	list->count = 2;
	for (int i = 0; i < 2; i++) {
		list->items[i].family = AF_INET;
		memcpy(list->items[i].bytes, (uint8_t[]){ 192, 0, 2, 0 }, 4);
		list->items[i].bytes[3] = (uint8_t)(base + i);
	}
	*list_out = list;
	return DNS_OK;
}

static const struct smtp_resolver fake = {
	.want_mx = true,
	.myhostname = "me.test",
	.mx = fake_mx,
	.addrs = fake_addrs,
};

static void
hosts_of(const char *text, bool is_lmtp, size_t limit,
	 struct smtp_host_list *list)
{
	struct smtp_dest d;
	struct err err;

	assert_int_equal(smtp_dest_parse(text, is_lmtp, 25, &d, &err), 0);
	smtp_dest_hosts(&fake, &d, limit, list);
	smtp_dest_clear(&d);
}

static void
test_hosts(void **state)
{
	struct smtp_host_list list = { 0 };

	(void)state;
	hosts_of("mx.test", false, 3, &list);
	assert_int_equal(list.count, 3);
	assert_string_equal(list.hosts[0].name, "a.mx.test");
	assert_string_equal(list.hosts[0].addr_text, "192.0.2.1");
	assert_string_equal(list.hosts[1].addr_text, "192.0.2.2");
	assert_string_equal(list.hosts[2].name, "b.mx.test");
	assert_string_equal(list.hosts[2].addr_text, "192.0.2.3");
	assert_int_equal(list.hosts[2].port, 25);
	smtp_host_list_free(&list);

	hosts_of("[a.host]:2525", false, 0, &list);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.hosts[0].name, "a.host");
	assert_int_equal(list.hosts[1].port, 2525);
	smtp_host_list_free(&list);

	hosts_of("other.test", false, 0, &list);
	assert_int_equal(list.count, 0);
	assert_string_equal(list.dsn, "4.4.3");
	assert_string_equal(list.reason,
			    "Host or domain name not found. Name service error "
			    "for name=other.test type=MX: Host not found, try "
			    "again");
	smtp_host_list_free(&list);

	hosts_of("[nx.test]", false, 0, &list);
	assert_string_equal(list.dsn, "5.4.4");
	smtp_host_list_free(&list);

	hosts_of("unix:private/lmtp", true, 0, &list);
	assert_int_equal(list.count, 1);
	assert_true(list.hosts[0].is_unix);
	assert_string_equal(list.hosts[0].name, "me.test");
	assert_string_equal(list.hosts[0].addr_text, "private/lmtp");
	smtp_host_list_free(&list);
}

static bool
fake_is_self(void *ctx, const char *addr_text)
{
	return strcmp(addr_text, (const char *)ctx) == 0;
}

/* An MX host of ours cuts the list there; the best one: a mail loop. */
static void
test_self(void **state)
{
	struct smtp_resolver res = fake;
	struct smtp_host_list list = { 0 };
	struct smtp_dest d;
	struct err err;

	(void)state;
	res.is_self = fake_is_self;
	assert_int_equal(smtp_dest_parse("mx.test", false, 25, &d, &err), 0);
	res.self_ctx = "192.0.2.4"; /* b.mx.test, preference 20 */
	smtp_dest_hosts(&res, &d, 0, &list);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.hosts[1].name, "a.mx.test");
	smtp_host_list_free(&list);

	res.self_ctx = "192.0.2.2"; /* a.mx.test, preference 10 */
	smtp_dest_hosts(&res, &d, 0, &list);
	assert_int_equal(list.count, 0);
	assert_string_equal(list.dsn, "5.4.6");
	assert_string_equal(list.reason, "mail for mx.test loops back to "
					 "myself");
	smtp_host_list_free(&list);
	smtp_dest_clear(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dest_parse),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
