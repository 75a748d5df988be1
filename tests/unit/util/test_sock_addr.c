/*
 * test_sock_addr.c - unit tests for address syntax, resolution, printing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "util/sock_addr.h"

struct parse_case {
	const char *text;
	const char *host; /* NULL: an error is expected */
	unsigned port;
	const char *error;
	bool needs_services; /* uses /etc/services */
};

static const struct parse_case parse_cases[] = {
    {"127.0.0.1:25", "127.0.0.1", 25, NULL, false},
    {"[::1]:2525", "::1", 2525, NULL, false},
    {"[fe80::1%lo]:25", "fe80::1%lo", 25, NULL, false},
    {"[mail.example.com]:587", "mail.example.com", 587, NULL, false},
    {"mail.example.com:465", "mail.example.com", 465, NULL, false},
    {"25", "", 25, NULL, false},
    {":25", "", 25, NULL, false},
    {"*:25", "", 25, NULL, false},
    {"host:0", "host", 0, NULL, false},
    {"host:65535", "host", 65535, NULL, false},
    {"host:00025", "host", 25, NULL, false},
    {"smtp", "", 25, NULL, true},
    {"localhost:smtp", "localhost", 25, NULL, true},
    {"[::1]:submission", "::1", 587, NULL, true},
    {"", NULL, 0, "address \"\": empty", false},
    {"host:", NULL, 0, "address \"host:\": missing port", false},
    {":", NULL, 0, "address \":\": missing port", false},
    {"[::1", NULL, 0, "address \"[::1\": missing \"]\"", false},
    {"[::1]", NULL, 0, "address \"[::1]\": missing port", false},
    {"[::1]:", NULL, 0, "address \"[::1]:\": missing port", false},
    {"[::1]25", NULL, 0, "address \"[::1]25\": expected \":\" after \"]\"",
     false},
    {"[]:25", NULL, 0, "address \"[]:25\": empty host in \"[]\"", false},
    {"::1:25", NULL, 0,
     "address \"::1:25\": an IPv6 address must be enclosed in \"[]\"", false},
    {"::1", NULL, 0,
     "address \"::1\": an IPv6 address must be enclosed in \"[]\"", false},
    {"host:99999", NULL, 0, "address \"host:99999\": port 99999 out of range",
     false},
    {"host:65536", NULL, 0, "address \"host:65536\": port 65536 out of range",
     false},
    {"h:123456789012345678901234567890", NULL, 0,
     "address \"h:123456789012345678901234567890\": port "
     "123456789012345678901234567890 out of range",
     false},
    {"host:abc", NULL, 0, "address \"host:abc\": unknown service \"abc\"",
     false},
    {"host:2x", NULL, 0, "address \"host:2x\": invalid port \"2x\"", false},
    {"host:-1", NULL, 0, "address \"host:-1\": invalid port \"-1\"", false},
    {"host:+25", NULL, 0, "address \"host:+25\": invalid port \"+25\"", false},
    {"host: 25", NULL, 0, "address \"host: 25\": invalid port \" 25\"", false},
    {"host:a_b", NULL, 0, "address \"host:a_b\": invalid port \"a_b\"", false},
    {"*", NULL, 0, "address \"*\": invalid port \"*\"", false},
    {"a b:25", NULL, 0, "address \"a b:25\": invalid character in host", false},
    {"[a/b]:25", NULL, 0, "address \"[a/b]:25\": invalid character in host",
     false},
    {"h\n:25", NULL, 0, "address \"h\n:25\": invalid character in host", false},
};

static void
test_hostport_parse_table(void **state)
{
	bool has_services = getservbyname("smtp", "tcp") != NULL;
	char *sentinel = (char *)"untouched";

	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *tc = &parse_cases[i];
		struct err err = {{0}};
		char *host = sentinel;
		unsigned port = 12345;
		int ret;

		if (tc->needs_services && !has_services)
			continue;
		print_message("case: %s\n", tc->text);
		ret = sock_hostport_parse(tc->text, &host, &port, &err);
		if (tc->host == NULL) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, tc->error);
			assert_ptr_equal(host, sentinel);
			assert_int_equal(port, 12345);
			continue;
		}
		assert_int_equal(ret, 0);
		assert_string_equal(host, tc->host);
		assert_int_equal(port, tc->port);
		free(host);
	}
}

static void
test_parse_long_service_name(void **state)
{
	char text[100] = "host:";
	struct err err;
	char *host;
	unsigned port;

	(void)state;
	memset(text + 5, 'a', 80);
	assert_int_equal(sock_hostport_parse(text, &host, &port, &err), -1);
	assert_non_null(strstr(err.text, ": invalid port \"aaaa"));
	assert_int_equal(sock_hostport_parse(text, &host, &port, NULL), -1);
}

static void
expect_format(const void *sa, socklen_t len, const char *addr, const char *port)
{
	struct sock_addr_text text;

	assert_int_equal(sock_addr_format(sa, len, &text), 0);
	assert_string_equal(text.addr, addr);
	assert_string_equal(text.port, port);
}

static void
test_addr_format(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(25)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
	                            .sin6_port = htons(587)};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t un_base = offsetof(struct sockaddr_un, sun_path);
	struct sock_addr_text text;

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	expect_format(&sin, sizeof(sin), "192.0.2.1", "25");
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	expect_format(&sin6, sizeof(sin6), "2001:db8::1", "587");
	/* IPv4-mapped IPv6 is shown as IPv4, as Postfix logs it. */
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr);
	expect_format(&sin6, sizeof(sin6), "192.0.2.7", "587");
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	expect_format(&sin6, sizeof(sin6), "::1", "587");
	strcpy(sun.sun_path, "/var/spool/postfix/private/smtp");
	expect_format(&sun, sizeof(sun), "/var/spool/postfix/private/smtp", "");
	expect_format(&sun, un_base + 5, "/var/", "");
	expect_format(&sun, un_base, "", "");
	memcpy(sun.sun_path, "\0abstract", 10);
	expect_format(&sun, un_base + 9, "@abstract", "");

	sin.sin_family = AF_APPLETALK;
	assert_int_equal(
	    sock_addr_format((struct sockaddr *)&sin, sizeof(sin), &text), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	sin.sin_family = AF_INET;
	assert_int_equal(sock_addr_format((struct sockaddr *)&sin, 4, &text),
	                 -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sock_addr_format((struct sockaddr *)&sin6, 20, &text),
	                 -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sock_addr_format((struct sockaddr *)&sin, 1, &text),
	                 -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_resolve_numeric_and_wildcard(void **state)
{
	struct sock_addr *addrs = NULL;
	struct sock_addr_text text;
	struct err err;

	(void)state;
	assert_int_equal(sock_resolve("127.0.0.1", 25, AF_UNSPEC, &addrs, &err),
	                 1);
	assert_int_equal(addrs[0].storage.ss_family, AF_INET);
	expect_format(&addrs[0].storage, addrs[0].len, "127.0.0.1", "25");
	free(addrs);

	assert_int_equal(sock_resolve("::1", 2525, AF_UNSPEC, &addrs, &err), 1);
	expect_format(&addrs[0].storage, addrs[0].len, "::1", "2525");
	free(addrs);

	assert_int_equal(sock_resolve("", 10025, AF_INET, &addrs, &err), 1);
	expect_format(&addrs[0].storage, addrs[0].len, "0.0.0.0", "10025");
	free(addrs);

	assert_int_equal(sock_resolve("", 0, AF_UNSPEC, &addrs, &err), 2);
	assert_int_equal(sock_addr_format((struct sockaddr *)&addrs[1].storage,
	                                  addrs[1].len, &text),
	                 0);
	assert_true(strcmp(text.addr, "::") == 0 ||
	            strcmp(text.addr, "0.0.0.0") == 0);
	free(addrs);
}

static void
test_resolve_errors(void **state)
{
	struct sock_addr *addrs = NULL;
	struct err err;

	(void)state;
	errno = 0;
	assert_int_equal(sock_resolve("127.0.0.1", 25, AF_INET6, &addrs, &err),
	                 -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_string_equal(err.text, "resolve 127.0.0.1: Address family for "
	                              "hostname not supported");
	assert_null(addrs);
	assert_int_equal(sock_resolve("::1", 25, AF_INET, &addrs, NULL), -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
}

static void
test_resolve_localhost(void **state)
{
	struct sock_addr *addrs = NULL;
	struct sock_addr_text text;
	struct err err;
	int count;

	(void)state;
	count = sock_resolve("localhost", 25, AF_UNSPEC, &addrs, &err);
	if (count < 0)
		skip();
	for (int i = 0; i < count; i++) {
		assert_int_equal(
		    sock_addr_format((struct sockaddr *)&addrs[i].storage,
		                     addrs[i].len, &text),
		    0);
		assert_true(strncmp(text.addr, "127.", 4) == 0 ||
		            strcmp(text.addr, "::1") == 0);
		for (int j = 0; j < i; j++)
			assert_true(addrs[j].len != addrs[i].len ||
			            memcmp(&addrs[j].storage, &addrs[i].storage,
			                   addrs[i].len) != 0);
	}
	free(addrs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostport_parse_table),
	    cmocka_unit_test(test_parse_long_service_name),
	    cmocka_unit_test(test_addr_format),
	    cmocka_unit_test(test_resolve_numeric_and_wildcard),
	    cmocka_unit_test(test_resolve_errors),
	    cmocka_unit_test(test_resolve_localhost),
	};

	return cmocka_run_group_tests_name("sock_addr", tests, NULL, NULL);
}
