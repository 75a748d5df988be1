/*
 * test_header_addr.c - unit tests for address lists and the recipients
 * "sendmail -t" extracts.
 *
 * Expected addresses are the internal forms Postfix's sendmail -t queues
 * for the same headers (comments and display names dropped, quoted local
 * parts unquoted, groups opened up, Resent- headers preferred).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/header_addr.h"
#include "util/strbuf.h"

/* Items joined with '|' for one compact comparison. */
static void
join(const struct argv *av, struct strbuf *out)
{
	strbuf_reset(out);
	for (size_t i = 0; i < av->count; i++)
		(void)strbuf_printf(out, "%s%s", i ? "|" : "", av->items[i]);
}

static const struct {
	const char *text;
	const char *expect;
} parse_cases[] = {
	{ "", "" },
	{ "bob@example.net", "bob@example.net" },
	{ "Bob <bob@example.net>", "bob@example.net" },
	{ "\"Smith, C\" <carol@x.test>, dave@x.test", "carol@x.test|dave@x.test" },
	{ "dave@x.test (Dave, the (nested) one)", "dave@x.test" },
	{ "list: a@x.test, b@x.test;, c@x.test", "a@x.test|b@x.test|c@x.test" },
	{ "undisclosed-recipients:;", "" },
	{ "<>", "" },
	{ "\"john smith\"@x.test", "john smith@x.test" },
	{ "\"a\\\"b\"@x.test", "a\"b@x.test" },
	{ "joe@[192.0.2.1]", "joe@[192.0.2.1]" },
	{ "<@a.test,@b.test:joe@c.test>", "@a.test,@b.test:joe@c.test" },
	{ "a@x.test,,\n\t b@x.test", "a@x.test|b@x.test" },
	{ "user", "user" },
	{ "a\\,b@x.test", "a,b@x.test" },
	/* Malformed: take what can be recognised. */
	{ "Bob <bob@x.test", "bob@x.test" },
	{ "\"unterminated@x.test", "unterminated@x.test" },
	{ "(unterminated comment a@x.test", "" },
	{ "[unterminated", "[unterminated" },
	{ "trailing\\", "trailing\\" },
};

static void
test_parse(void **state)
{
	struct strbuf got;

	(void)state;
	strbuf_init(&got, STRBUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		struct argv *av = argv_create();
		size_t n = header_addr_parse(parse_cases[i].text,
					     strlen(parse_cases[i].text), av);

		join(av, &got);
		assert_string_equal(got.data, parse_cases[i].expect);
		assert_int_equal(n, av->count);
		argv_destroy(&av);
	}
	strbuf_deinit(&got);
}

static void
test_parse_appends(void **state)
{
	struct argv *av = argv_create();

	(void)state;
	assert_int_equal(header_addr_parse("a@x", 3, av), 1);
	assert_int_equal(header_addr_parse("b@x, c@x", 8, av), 2);
	assert_int_equal(av->count, 3);
	/* The length counts, not the NUL. */
	assert_int_equal(header_addr_parse("d@x, e@x", 3, av), 1);
	assert_string_equal(av->items[3], "d@x");
	argv_destroy(&av);
}

static const struct {
	const char *headers[5];
	const char *expect;
} rcpt_cases[] = {
	{ { "To: a@x.test", "Cc: b@x.test", "Bcc: c@x.test", NULL },
	  "a@x.test|b@x.test|c@x.test" },
	{ { "TO: A <a@x.test>,\n\tb@x.test", "Subject: s", NULL },
	  "a@x.test|b@x.test" },
	{ { "From: f@x.test", "Reply-To: r@x.test", "Sender: s@x.test", NULL },
	  "" },
	{ { "To: a@x.test", "Resent-To: b@x.test", "Resent-Bcc: c@x.test",
	    "Cc: d@x.test", NULL },
	  "b@x.test|c@x.test" },
	{ { "To: a@x.test", "Resent-From: f@x.test", NULL }, "a@x.test" },
	{ { "Resent-Cc: <>", "To: a@x.test", NULL }, "" },
	{ { "To:", "Cc:   ", NULL }, "" },
};

static void
test_recipients(void **state)
{
	struct strbuf got;

	(void)state;
	strbuf_init(&got, STRBUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]);
	     i++) {
		struct header_rcpt hr;

		header_rcpt_init(&hr);
		for (const char *const *h = rcpt_cases[i].headers; *h; h++)
			header_rcpt_note(&hr, *h, strlen(*h));
		join(header_rcpt_result(&hr), &got);
		assert_string_equal(got.data, rcpt_cases[i].expect);
		header_rcpt_deinit(&hr);
	}
	strbuf_deinit(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_appends),
		cmocka_unit_test(test_recipients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
