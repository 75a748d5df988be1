/*
 * test_header_action.c - unit tests for header_checks(5) result decoding.
 *
 * Golden data: the reasons, codes and warnings below are what Debian's
 * Postfix 3.7 cleanup replied and logged for the same header_checks
 * results (regexp tables, messages sent over SMTP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "global/header_action.h"

struct parse_case {
	const char *value;
	bool is_header;
	enum header_action_kind kind;
	const char *text;    /* NULL: none */
	const char *reason;  /* REJECT only */
	int code;            /* REJECT only */
	const char *warning; /* NULL: none */
};

static const struct parse_case parse_cases[] = {
	/* REJECT: default text, own text, own status code, 4.X.X. */
	{ "REJECT", true, HEADER_ACTION_REJECT, NULL,
	  "5.7.1 message content rejected", 550, NULL },
	{ "REJECT go away now", true, HEADER_ACTION_REJECT, "go away now",
	  "5.7.1 go away now", 550, NULL },
	{ "REJECT 5.7.0 custom dsn", true, HEADER_ACTION_REJECT,
	  "5.7.0 custom dsn", "5.7.0 custom dsn", 550, NULL },
	{ "REJECT 4.7.1 try later", true, HEADER_ACTION_REJECT,
	  "4.7.1 try later", "4.7.1 try later", 451, NULL },
	{ "REJECT 4.7.1", true, HEADER_ACTION_REJECT, "4.7.1", "4.7.1 ", 451,
	  NULL },
	{ "REJECT 6.7.1 bad code", true, HEADER_ACTION_REJECT, "6.7.1 bad code",
	  "5.7.1 6.7.1 bad code", 550, NULL },
	{ "REJECT 5.7.1x no", true, HEADER_ACTION_REJECT, "5.7.1x no",
	  "5.7.1 5.7.1x no", 550, NULL },
	{ "reject lower case", true, HEADER_ACTION_REJECT, "lower case",
	  "5.7.1 lower case", 550, NULL },
	{ "  REJECT\t spaced", true, HEADER_ACTION_REJECT, "spaced",
	  "5.7.1 spaced", 550, NULL },
	/* Optional texts. */
	{ "DISCARD", true, HEADER_ACTION_DISCARD, NULL, NULL, 0, NULL },
	{ "DISCARD 5.7.1 text", true, HEADER_ACTION_DISCARD, "5.7.1 text", NULL,
	  0, NULL },
	{ "HOLD held it", true, HEADER_ACTION_HOLD, "held it", NULL, 0, NULL },
	{ "WARN", false, HEADER_ACTION_WARN, NULL, NULL, 0, NULL },
	{ "INFO informed", true, HEADER_ACTION_INFO, "informed", NULL, 0,
	  NULL },
	{ "STRIP stripped", true, HEADER_ACTION_STRIP, "stripped", NULL, 0,
	  NULL },
	{ "PASS", true, HEADER_ACTION_PASS, NULL, NULL, 0, NULL },
	{ "IGNORE", true, HEADER_ACTION_IGNORE, NULL, NULL, 0, NULL },
	{ "DUNNO", true, HEADER_ACTION_DUNNO, NULL, NULL, 0, NULL },
	{ "ok", true, HEADER_ACTION_DUNNO, NULL, NULL, 0, NULL },
	/* Lines. */
	{ "PREPEND X-Added: yes", true, HEADER_ACTION_PREPEND, "X-Added: yes",
	  NULL, 0, NULL },
	{ "PREPEND any text", false, HEADER_ACTION_PREPEND, "any text", NULL, 0,
	  NULL },
	{ "PREPEND not a header", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "bad PREPEND header text \"not a header\" in header_checks map -- "
	  "need \"headername: headervalue\"" },
	{ "PREPEND", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "PREPEND action without text in header_checks map" },
	{ "REPLACE X-Replaced: done", true, HEADER_ACTION_REPLACE,
	  "X-Replaced: done", NULL, 0, NULL },
	{ "REPLACE replaced line", false, HEADER_ACTION_REPLACE,
	  "replaced line", NULL, 0, NULL },
	{ "REPLACE not a header", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "bad REPLACE header text \"not a header\" in header_checks map -- "
	  "need \"headername: headervalue\"" },
	/* Targets. */
	{ "REDIRECT other@example.net", true, HEADER_ACTION_REDIRECT,
	  "other@example.net", NULL, 0, NULL },
	{ "REDIRECT nobody", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "bad REDIRECT target \"nobody\" in header_checks map -- need "
	  "user@domain" },
	{ "REDIRECT", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "bad REDIRECT target \"\" in header_checks map -- need "
	  "user@domain" },
	{ "BCC copy@example.net", true, HEADER_ACTION_BCC, "copy@example.net",
	  NULL, 0, NULL },
	{ "BCC nobody", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "bad BCC address \"nobody\" in header_checks map -- need "
	  "user@domain" },
	{ "FILTER smtp:[127.0.0.1]:10025", true, HEADER_ACTION_FILTER,
	  "smtp:[127.0.0.1]:10025", NULL, 0, NULL },
	{ "FILTER nocolon", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "bad FILTER command nocolon in header_checks -- need "
	  "transport:destination" },
	{ "FILTER", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "missing FILTER command argument in header_checks map" },
	/* Unknown. */
	{ "FROBNICATE now", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "unknown command in header_checks map: FROBNICATE now" },
	{ "REJECTX", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "unknown command in header_checks map: REJECTX" },
	{ "", true, HEADER_ACTION_DUNNO, NULL, NULL, 0,
	  "unknown command in header_checks map: " },
};

static void
assert_str_or_null(const char *want, const char *got)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(want, got);
	}
}

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		struct header_action action;

		header_action_parse("header_checks", c->value, c->is_header,
				    &action);
		print_message("case %zu: %s\n", i, c->value);
		assert_int_equal(c->kind, action.kind);
		assert_str_or_null(c->text, action.text);
		assert_str_or_null(c->reason, action.reason);
		assert_int_equal(c->code, action.code);
		assert_str_or_null(c->warning, action.warning);
		header_action_deinit(&action);
		header_action_deinit(&action); /* twice is safe */
	}
}

static void
test_map_name_in_warning(void **state)
{
	struct header_action action;

	(void)state;
	header_action_parse("body_checks", "NOPE", false, &action);
	assert_string_equal("unknown command in body_checks map: NOPE",
			    action.warning);
	header_action_deinit(&action);
}

static void
test_log_words(void **state)
{
	static const struct {
		enum header_action_kind kind;
		const char *word;
	} cases[] = {
		{ HEADER_ACTION_DUNNO, NULL },
		{ HEADER_ACTION_IGNORE, NULL },
		{ HEADER_ACTION_REJECT, "reject" },
		{ HEADER_ACTION_DISCARD, "discard" },
		{ HEADER_ACTION_HOLD, "hold" },
		{ HEADER_ACTION_WARN, "warning" },
		{ HEADER_ACTION_INFO, "info" },
		{ HEADER_ACTION_STRIP, "strip" },
		{ HEADER_ACTION_PASS, "pass" },
		{ HEADER_ACTION_PREPEND, "prepend" },
		{ HEADER_ACTION_REPLACE, "replace" },
		{ HEADER_ACTION_REDIRECT, "redirect" },
		{ HEADER_ACTION_FILTER, "filter" },
		{ HEADER_ACTION_BCC, "bcc" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_str_or_null(cases[i].word,
				   header_action_log_word(cases[i].kind));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_map_name_in_warning),
		cmocka_unit_test(test_log_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
