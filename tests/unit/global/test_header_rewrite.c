/*
 * test_header_rewrite.c - unit tests for rewriting the addresses of one
 * header (global/header_rewrite.h).
 *
 * Golden data: the "expect" texts are what Debian's Postfix 3.7 cleanup
 * wrote into the queue file (postcat -q) for the same headers, submitted
 * over SMTP from a client in local_header_rewrite_clients, with
 * myorigin = host.example.com, append_dot_mydomain = no and canonical_maps
 * mapping joe@host.example.com to Joe.Public@example.com. The callback
 * below does what that configuration did to each address. NULL means
 * Postfix left the header exactly as it was.
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

#include "global/header_rewrite.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* Source route and trailing dot away, @myorigin added, then canonical. */
static int
like_postfix(char **addrp, void *ctx)
{
	char *addr = *addrp;
	char *colon = strchr(addr, ':');
	char *out;
	size_t len;

	(*(int *)ctx)++;
	if (strcmp(addr, "fail@x.example") == 0)
		return -1;
	out = xstrdup(addr[0] == '@' && colon != NULL ? colon + 1 : addr);
	len = strlen(out);
	if (len > 1 && out[len - 1] == '.' && strchr(out, '@') != NULL)
		out[len - 1] = 0;
	if (strchr(out, '@') == NULL) {
		char *full = xasprintf("%s@host.example.com", out);

		free(out);
		out = full;
	}
	if (strcmp(out, "joe@host.example.com") == 0) {
		free(out);
		out = xstrdup("Joe.Public@example.com");
	}
	free(addr);
	*addrp = out;
	return 0;
}

static const struct {
	const char *text;
	const char *expect;
} cases[] = {
	{ "To: joe", "To: Joe.Public@example.com" },
	{ "To: <joe>", "To: <Joe.Public@example.com>" },
	{ "To: Joe   User<joe>", "To: Joe User <Joe.Public@example.com>" },
	{ "To: \"Joe User\"<joe>",
	  "To: \"Joe User\" <Joe.Public@example.com>" },
	{ "To: joe (Joe User)", "To: Joe.Public@example.com (Joe User)" },
	{ "To: joe(Joe User)", "To: Joe.Public@example.com (Joe User)" },
	{ "To: Joe User <joe> (comment) , other@x.example",
	  "To: Joe User <Joe.Public@example.com>(comment), other@x.example" },
	{ "To: joe , other@x.example ,third@x.example",
	  "To: Joe.Public@example.com, other@x.example, third@x.example" },
	{ "To: group:;", NULL },
	{ "To: undisclosed: joe;", "To: undisclosed: Joe.Public@example.com;" },
	{ "To: \"joe smith\"@host.example.com", NULL },
	{ "To: \"joe smith\"", "To: \"joe smith\"@host.example.com" },
	{ "To: <@route.example:joe@host.example.com>",
	  "To: <Joe.Public@example.com>" },
	{ "To: joe, ", "To: Joe.Public@example.com, " },
	{ "To: joe,\n  x@x.example",
	  "To: Joe.Public@example.com, x@x.example" },
	{ "To: Joe.User <joe>", "To: Joe.User <Joe.Public@example.com>" },
	{ "To: joe@[1.2.3.4]", NULL },
	{ "To: aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, "
	  "ffffffffff, gggggggggg, hhhhhhhhhh",
	  "To: aaaaaaaaaa@host.example.com, bbbbbbbbbb@host.example.com,\n"
	  "\tcccccccccc@host.example.com, dddddddddd@host.example.com,\n"
	  "\teeeeeeeeee@host.example.com, ffffffffff@host.example.com,\n"
	  "\tgggggggggg@host.example.com, hhhhhhhhhh@host.example.com" },
	{ "To: =?utf-8?q?J=C3=B6e?= <joe>",
	  "To: =?utf-8?q?J=C3=B6e?= <Joe.Public@example.com>" },
	{ "To: Joe \"the man\" User <joe>",
	  "To: Joe \"the man\" User <Joe.Public@example.com>" },
	{ "To: \"Joe\\\"Q\" <joe>",
	  "To: \"Joe\\\"Q\" <Joe.Public@example.com>" },
	{ "To:", NULL },
	{ "To:    ", NULL },
	{ "TO:joe", "TO: Joe.Public@example.com" },
	{ "to :  joe", "to: Joe.Public@example.com" },
	{ "To:   x@x.example ,  y@x.example", NULL },
	{ "To: x@x.example (unchanged) ,  joe",
	  "To: x@x.example (unchanged), Joe.Public@example.com" },
	{ "To: joe  <joe>", "To: joe <Joe.Public@example.com>" },
	{ "To: joe@host.example.com.", "To: Joe.Public@example.com" },
	{ "To: J\xc3\xb6"
	  "e <joe>",
	  "To: J\xc3\xb6"
	  "e <Joe.Public@example.com>" },
	{ "To: a.b.c", "To: a.b.c@host.example.com" },
	{ "To: a . b", "To: a.b@host.example.com" },
	{ "To: joe;", "To: Joe.Public@example.com;" },
	{ "To: joe <>", NULL },
	{ "To: <>", NULL },
	{ "To: \"\" <joe>", "To: \"\" <Joe.Public@example.com>" },
	{ "To: (just a comment)", NULL },
	{ "To: joe (comment (nested) here)",
	  "To: Joe.Public@example.com (comment (nested) here)" },
	{ "From: Joe User <joe>", "From: Joe User <Joe.Public@example.com>" },
	{ "Sender: joe (comment here)",
	  "Sender: Joe.Public@example.com (comment here)" },
	{ "To: s@example.org, \"Quoted, Name\" <joe>, group: a, b@x.example;",
	  "To: s@example.org, \"Quoted, Name\" <Joe.Public@example.com>,\n"
	  "\tgroup: a@host.example.com, b@x.example;" },
	/* Postern leaves these alone where Postfix quotes the rest. */
	{ "To: <joe", NULL },
	{ "To: \"unterminated joe", NULL },
	{ "To: joe (unterminated", NULL },
	{ "To: joe@[1.2.3.4", NULL },
	{ "To: joe>", NULL },
	{ "To: joe <joe> <joe2>", NULL },
	{ "To: <<joe>>", NULL },
	{ "To: joe)", NULL },
	{ "To: joe]", NULL },
	{ "no colon here", NULL },
	{ ": joe", NULL },
	{ "X To: joe", NULL },
	{ "T\no: joe", NULL },
};

/* A line stays joined up to 69 columns (a leading TAB not counted). */
static const struct {
	const char *text;
	const char *expect;
} fold_cases[] = {
	{ "To: joe, uuuuuuuuuuuuuuuuuuuuuuuuuuuu041@x.example",
	  "To: Joe.Public@example.com, "
	  "uuuuuuuuuuuuuuuuuuuuuuuuuuuu041@x.example" },
	{ "To: joe, uuuuuuuuuuuuuuuuuuuuuuuuuuuuu042@x.example",
	  "To: Joe.Public@example.com,\n"
	  "\tuuuuuuuuuuuuuuuuuuuuuuuuuuuuu042@x.example" },
	{ "To: joe, wwwwwwwwwwwwwwwwwwwwwwwwwwwwww@x.example, joe, "
	  "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv045@x.example",
	  "To: Joe.Public@example.com, "
	  "wwwwwwwwwwwwwwwwwwwwwwwwwwwwww@x.example,\n"
	  "\tJoe.Public@example.com, "
	  "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv045@x.example" },
	{ "To: joe, wwwwwwwwwwwwwwwwwwwwwwwwwwwwww@x.example, joe, "
	  "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv046@x.example",
	  "To: Joe.Public@example.com, "
	  "wwwwwwwwwwwwwwwwwwwwwwwwwwwwww@x.example,\n"
	  "\tJoe.Public@example.com,\n"
	  "\tvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv046@x.example" },
};

static void
check(const char *text, size_t len, const char *expect)
{
	struct strbuf out;
	int calls = 0;
	int ret;

	strbuf_init(&out, STRBUF_UNLIMITED);
	ret = header_rewrite(text, len, 10240, like_postfix, &calls, &out);
	if (expect == NULL) {
		if (ret != 0)
			fail_msg("\"%s\": rewritten to \"%s\"", text,
				 strbuf_text(&out));
	} else {
		if (ret != 1)
			fail_msg("\"%s\": returned %d", text, ret);
		assert_string_equal(strbuf_text(&out), expect);
	}
	strbuf_deinit(&out);
}

static void
test_rewrite(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cases[i].text, strlen(cases[i].text), cases[i].expect);
	/* A NUL inside: the header is left alone. */
	check("To: joe\0x", 9, NULL);
}

static void
test_fold(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fold_cases) / sizeof(fold_cases[0]); i++)
		check(fold_cases[i].text, strlen(fold_cases[i].text),
		      fold_cases[i].expect);
}

static void
test_callback_fails(void **state)
{
	const char *text = "To: joe, fail@x.example, bob";
	struct strbuf out;
	int calls = 0;

	(void)state;
	strbuf_init(&out, STRBUF_UNLIMITED);
	assert_int_equal(header_rewrite(text, strlen(text), 100, like_postfix,
					&calls, &out),
			 -1);
	assert_int_equal(calls, 2);
	strbuf_deinit(&out);
}

static void
test_token_limit(void **state)
{
	const char *text = "To: joe, bob";
	struct strbuf out;
	int calls = 0;

	(void)state;
	strbuf_init(&out, STRBUF_UNLIMITED);
	/* joe , bob: three tokens */
	assert_int_equal(header_rewrite(text, strlen(text), 2, like_postfix,
					&calls, &out),
			 0);
	assert_int_equal(calls, 0);
	assert_int_equal(header_rewrite(text, strlen(text), 3, like_postfix,
					&calls, &out),
			 1);
	assert_string_equal(strbuf_text(&out),
			    "To: Joe.Public@example.com, bob@host.example.com");
	strbuf_deinit(&out);
}

static const struct {
	const char *text;
	enum header_rewrite_class expect;
} class_cases[] = {
	{ "From: a", HEADER_REWRITE_SENDER },
	{ "sender : a", HEADER_REWRITE_SENDER },
	{ "Reply-To: a", HEADER_REWRITE_SENDER },
	{ "Errors-To: a", HEADER_REWRITE_SENDER },
	{ "Return-Receipt-To: a", HEADER_REWRITE_SENDER },
	{ "Disposition-Notification-To: a", HEADER_REWRITE_SENDER },
	{ "Mail-Followup-To: a", HEADER_REWRITE_SENDER },
	{ "Resent-From: a", HEADER_REWRITE_SENDER },
	{ "Resent-Sender: a", HEADER_REWRITE_SENDER },
	{ "To: a", HEADER_REWRITE_RECIPIENT },
	{ "CC: a", HEADER_REWRITE_RECIPIENT },
	{ "Bcc: a", HEADER_REWRITE_RECIPIENT },
	{ "Apparently-To: a", HEADER_REWRITE_RECIPIENT },
	{ "Resent-To: a", HEADER_REWRITE_RECIPIENT },
	{ "Resent-Cc: a", HEADER_REWRITE_RECIPIENT },
	{ "Resent-Bcc: a", HEADER_REWRITE_RECIPIENT },
	{ "Resent-Reply-To: a", HEADER_REWRITE_RECIPIENT },
	{ "Delivered-To: a", HEADER_REWRITE_NONE },
	{ "X-Original-To: a", HEADER_REWRITE_NONE },
	{ "Envelope-To: a", HEADER_REWRITE_NONE },
	{ "Return-Path: <a>", HEADER_REWRITE_NONE },
	{ "Mail-Reply-To: a", HEADER_REWRITE_NONE },
	{ "In-Reply-To: <a>", HEADER_REWRITE_NONE },
	{ "Subject: a", HEADER_REWRITE_NONE },
	{ "Tox: a", HEADER_REWRITE_NONE },
	{ "T: a", HEADER_REWRITE_NONE },
	{ "To", HEADER_REWRITE_NONE },
	{ ": a", HEADER_REWRITE_NONE },
};

static void
test_class(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(class_cases) / sizeof(class_cases[0]);
	     i++) {
		const char *text = class_cases[i].text;

		if (header_rewrite_class(text, strlen(text)) !=
		    class_cases[i].expect)
			fail_msg("\"%s\": wrong class", text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_callback_fails),
		cmocka_unit_test(test_token_limit),
		cmocka_unit_test(test_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
