/*
 * test_cidr.c - unit tests for address and network parsing and matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "util/cidr.h"

#define MAPPED CIDR_FLAG_V4_MAPPED
#define WHOLE CIDR_FLAG_QUOTE_WHOLE

/* The address or network printed back, for comparison. */
static void
addr_print(const struct cidr_addr *addr, char *buf, size_t size)
{
	assert_non_null(
		inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size));
}

static unsigned
mask_len(const struct cidr_net *net)
{
	unsigned len = 0;

	for (size_t i = 0; i < CIDR_ADDR_MAX; i++)
		for (unsigned bit = 0x80; bit; bit >>= 1)
			len += (net->mask[i] & bit) != 0;
	return len;
}

struct addr_case {
	const char *text;
	int flags;
	int family; /* 0: not an address */
	const char *expect;
};

static void
test_addr_parse(void **state)
{
	static const struct addr_case cases[] = {
		{ "1.2.3.4", 0, AF_INET, "1.2.3.4" },
		{ "2001:DB8::1", 0, AF_INET6, "2001:db8::1" },
		{ "::ffff:1.2.3.4", 0, AF_INET6, "::ffff:1.2.3.4" },
		{ "::ffff:1.2.3.4", MAPPED, AF_INET, "1.2.3.4" },
		{ "::fffe:1.2.3.4", MAPPED, AF_INET6, "::fffe:102:304" },
		{ "::1", MAPPED, AF_INET6, "::1" },
		{ "1.2.3.4", MAPPED, AF_INET, "1.2.3.4" },
		{ "01.2.3.4", 0, 0, NULL },
		{ "1.2.3", 0, 0, NULL },
		{ "1.2.3.256", 0, 0, NULL },
		{ "[1.2.3.4]", 0, 0, NULL },
		{ "1::2::3", 0, 0, NULL },
		{ "fe80::1%eth0", 0, 0, NULL },
		{ "", 0, 0, NULL },
		{ "example.com", MAPPED, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct addr_case *c = &cases[i];
		struct cidr_addr addr;
		char buf[INET6_ADDRSTRLEN];
		bool is_addr = cidr_addr_parse(c->text, c->flags, &addr);

		if (is_addr != (c->family != 0))
			fail_msg("\"%s\": parsed %d", c->text, is_addr);
		assert_int_equal(addr.family, c->family);
		if (!is_addr)
			continue;
		addr_print(&addr, buf, sizeof(buf));
		assert_string_equal(buf, c->expect);
	}
}

struct net_case {
	const char *pattern;
	int flags;
	const char *expect_net; /* network printed back */
	unsigned expect_len;
};

static void
test_net_parse(void **state)
{
	static const struct net_case cases[] = {
		{ "1.2.3.0/24", 0, "1.2.3.0", 24 },
		{ "[1.2.3.0]/24", 0, "1.2.3.0", 24 },
		{ "[1.2.3.0/24]", WHOLE, "1.2.3.0", 24 },
		{ "1.2.3.4", 0, "1.2.3.4", 32 },
		{ "[1.2.3.4]", 0, "1.2.3.4", 32 },
		{ "0.0.0.0/0", 0, "0.0.0.0", 0 },
		{ "1.2.3.4/032", 0, "1.2.3.4", 32 },
		{ "2001:db8::/32", 0, "2001:db8::", 32 },
		{ "[2001:db8::]/32", WHOLE, "2001:db8::", 32 },
		{ "[2001:db8::/32]", 0, "2001:db8::", 32 },
		{ "[2001:db8::1]", 0, "2001:db8::1", 128 },
		{ "::/0", 0, "::", 0 },
		{ "::ffff:1.2.3.4/128", 0, "::ffff:1.2.3.4", 128 },
		{ "::ffff:1.2.3.4", 0, "::ffff:1.2.3.4", 128 },
		{ "[::ffff:1.2.3.4]", MAPPED, "1.2.3.4", 32 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct net_case *c = &cases[i];
		struct cidr_net net;
		struct err err = { "" };
		char buf[INET6_ADDRSTRLEN];

		if (cidr_net_parse(c->pattern, c->flags, &net, &err) < 0)
			fail_msg("\"%s\": %s", c->pattern, err.text);
		addr_print(&net.net, buf, sizeof(buf));
		assert_string_equal(buf, c->expect_net);
		assert_int_equal(mask_len(&net), c->expect_len);
	}
}

struct error_case {
	const char *pattern;
	int flags;
	const char *expect;
};

static void
test_net_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "1.2.3.4/24", 0,
		  "non-null host address bits in \"1.2.3.4/24\", perhaps you "
		  "should use \"1.2.3.0/24\" instead" },
		{ "[1.2.3.4]/24", 0,
		  "non-null host address bits in \"1.2.3.4/24\", perhaps you "
		  "should use \"1.2.3.0/24\" instead" },
		{ "[2001:db8::1]/32", WHOLE,
		  "non-null host address bits in \"[2001:db8::1]/32\", perhaps "
		  "you should use \"2001:db8::/32\" instead" },
		{ "2001:db8::/0", 0,
		  "non-null host address bits in \"2001:db8::/0\", perhaps "
		  "you should use \"::/0\" instead" },
		{ "1.2.3.0/33", 0, "bad mask length in \"1.2.3.0/33\"" },
		{ "[1.2.3.0]/64", WHOLE, "bad mask length in \"1.2.3.0/64\"" },
		{ "2001:db8::/129", 0,
		  "bad mask length in \"2001:db8::/129\"" },
		{ "1.2.3.0/99999999999", 0,
		  "bad mask length in \"1.2.3.0/99999999999\"" },
		{ "foo/99", 0, "bad mask length in \"foo/99\"" },
		{ "1.2.3.0/", 0, "bad mask value in \"1.2.3.0/\"" },
		{ "1.2.3.0/-1", 0, "bad mask value in \"1.2.3.0/-1\"" },
		{ "1.2.3.0/+24", WHOLE, "bad mask value in \"1.2.3.0/+24\"" },
		{ "1.2.3.0/24/5", 0, "bad mask value in \"1.2.3.0/24/5\"" },
		{ "[1.2.3.0]/24]", 0, "bad mask value in \"1.2.3.0/24]\"" },
		{ "1.2.3/24", 0, "bad network value in \"1.2.3/24\"" },
		{ "[1.2.3]/24", 0, "bad network value in \"1.2.3/24\"" },
		{ "[1.2.3]/24", WHOLE, "bad network value in \"[1.2.3]/24\"" },
		{ "[]/24", 0, "bad network value in \"/24\"" },
		{ "0/0", 0, "bad network value in \"0/0\"" },
		{ "[::ffff:1.2.3.0]/120", MAPPED | WHOLE,
		  "bad network value in \"[::ffff:1.2.3.0]/120\"" },
		{ "01.2.3.4", 0, "bad address pattern: \"01.2.3.4\"" },
		{ "[foo]", 0, "bad address pattern: \"foo\"" },
		{ "[foo]", WHOLE, "bad address pattern: \"[foo]\"" },
		{ "[]", 0, "bad address pattern: \"\"" },
		{ "1.2.3.4]", 0, "bad address pattern: \"1.2.3.4]\"" },
		{ "", WHOLE, "bad address pattern: \"\"" },
		{ "[1.2.3.4", 0, "missing ']' character after \"[1.2.3.4\"" },
		{ "[::1", WHOLE, "missing ']' character after \"[::1\"" },
		{ "[1.2.3.4]x", 0, "garbage after \"[1.2.3.4]\"" },
		{ "[::1]x/8", WHOLE, "garbage after \"[::1]\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct error_case *c = &cases[i];
		struct cidr_net net;
		struct err err = { "" };

		if (cidr_net_parse(c->pattern, c->flags, &net, &err) == 0)
			fail_msg("\"%s\" parsed", c->pattern);
		assert_string_equal(err.text, c->expect);
	}
}

struct match_case {
	const char *pattern;
	const char *addr;
	int flags; /* for both */
	bool is_match;
};

static void
test_net_match(void **state)
{
	static const struct match_case cases[] = {
		{ "1.2.3.0/24", "1.2.3.0", 0, true },
		{ "1.2.3.0/24", "1.2.3.255", 0, true },
		{ "1.2.3.0/24", "1.2.4.0", 0, false },
		{ "1.2.3.128/25", "1.2.3.127", 0, false },
		{ "1.2.3.128/25", "1.2.3.128", 0, true },
		{ "1.2.3.4", "1.2.3.4", 0, true },
		{ "1.2.3.4", "1.2.3.5", 0, false },
		{ "0.0.0.0/0", "255.255.255.255", 0, true },
		{ "0.0.0.0/0", "::", 0, false },
		{ "::/0", "1.2.3.4", 0, false },
		{ "::/0", "::ffff:1.2.3.4", 0, true },
		{ "::/0", "::ffff:1.2.3.4", MAPPED, false },
		{ "1.2.3.0/24", "::ffff:1.2.3.4", 0, false },
		{ "1.2.3.0/24", "::ffff:1.2.3.4", MAPPED, true },
		{ "[::ffff:1.2.3.4]", "1.2.3.4", MAPPED, true },
		{ "::ffff:1.2.3.4", "1.2.3.4", 0, false },
		{ "2001:db8::/32", "2001:db8:ffff::1", 0, true },
		{ "2001:db8::/32", "2001:db9::", 0, false },
		{ "2001:db8::/33", "2001:db8:8000::", 0, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *c = &cases[i];
		struct cidr_net net;
		struct cidr_addr addr;
		struct err err = { "" };

		assert_int_equal(
			cidr_net_parse(c->pattern, c->flags, &net, &err), 0);
		assert_true(cidr_addr_parse(c->addr, c->flags, &addr));
		if (cidr_net_match(&net, &addr) != c->is_match)
			fail_msg("%s ~ %s: expected %d", c->pattern, c->addr,
				 c->is_match);
	}
}

/* Every prefix of an address in pieces: /0 up to the full length. */
static void
test_every_prefix(void **state)
{
	static const char *const nets[] = { "0.0.0.0", "::" };
	static const char *const hosts[] = { "255.255.255.255",
					     "ffff:ffff:ffff:ffff:ffff:ffff:"
					     "ffff:ffff" };

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		unsigned max = f == 0 ? 32 : 128;

		for (unsigned len = 0; len <= max + 1; len++) {
			char pattern[64];
			struct cidr_net net;
			struct cidr_addr host;
			struct err err = { "" };
			int ret;

			snprintf(pattern, sizeof(pattern), "%s/%u", nets[f],
				 len);
			ret = cidr_net_parse(pattern, 0, &net, &err);
			if (len > max) {
				assert_int_equal(ret, -1);
				continue;
			}
			assert_int_equal(ret, 0);
			assert_int_equal(mask_len(&net), len);
			assert_true(cidr_addr_parse(hosts[f], 0, &host));
			assert_int_equal(cidr_net_match(&net, &host), len == 0);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_net_parse),
		cmocka_unit_test(test_net_errors),
		cmocka_unit_test(test_net_match),
		cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
