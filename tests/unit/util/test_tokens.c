/*
 * test_tokens.c - unit tests for in-place tokenizing, braces and name=value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/argv.h"
#include "util/tokens.h"

struct split_case {
	const char *input;
	const char *expect[6];
};

static void
test_split_list(void **state)
{
	static const struct split_case cases[] = {
		{ "a, b,c", { "a", "b", "c" } },
		{ "  ,, a\t\tb \n", { "a", "b" } },
		{ "", { NULL } },
		{ ", \t", { NULL } },
		{ "one", { "one" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct argv *av = argv_split(cases[i].input, TOKENS_LIST_DELIMS);
		size_t n = 0;

		for (; cases[i].expect[n]; n++)
			assert_string_equal(av->items[n], cases[i].expect[n]);
		assert_int_equal(av->count, n);
		assert_null(av->items[n]);
		argv_destroy(&av);
	}
}

static void
test_split_braced(void **state)
{
	static const struct split_case cases[] = {
		{ "a, { b c, d }, e", { "a", "{ b c, d }", "e" } },
		{ "inline:{ x=1, {y = 2 3} } z", { "inline:{ x=1, {y = 2 3} }",
						   "z" } },
		{ "{ unbalanced, x", { "{ unbalanced, x" } },
		{ "}stray, x", { "}stray", "x" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct argv *av = argv_split_braced(cases[i].input,
						    TOKENS_LIST_DELIMS);
		size_t n = 0;

		for (; cases[i].expect[n]; n++)
			assert_string_equal(av->items[n], cases[i].expect[n]);
		assert_int_equal(av->count, n);
		argv_destroy(&av);
	}
}

static void
test_unbrace(void **state)
{
	struct err err;
	char plain[] = "  text  ";
	char group[] = " {  inner { nested } text } ";
	char open[] = "{ no end";
	char trailing[] = "{ a } b";

	(void)state;
	assert_string_equal(str_unbrace(plain, &err), "text");
	assert_string_equal(str_unbrace(group, &err), "inner { nested } text");
	assert_null(str_unbrace(open, &err));
	assert_string_equal(err.text, "missing '}' in \"{ no end\"");
	assert_null(str_unbrace(trailing, &err));
	assert_string_equal(err.text, "syntax error after '}' in \"{ a } b\"");
}

static void
test_nameval(void **state)
{
	struct err err;
	char good[] = "  name  =  some value  ";
	char empty_value[] = "name=";
	char no_eq[] = "name value";
	char no_name[] = " = value";
	char *name;
	char *value;

	(void)state;
	assert_int_equal(str_split_nameval(good, &name, &value, &err), 0);
	assert_string_equal(name, "name");
	assert_string_equal(value, "some value");
	assert_int_equal(str_split_nameval(empty_value, &name, &value, &err), 0);
	assert_string_equal(value, "");
	assert_int_equal(str_split_nameval(no_eq, &name, &value, &err), -1);
	assert_string_equal(err.text, "missing '=' after attribute name");
	assert_int_equal(str_split_nameval(no_name, &name, &value, &err), -1);
	assert_string_equal(err.text, "missing attribute name");
}

static void
test_small_helpers(void **state)
{
	char upper[] = "MiXeD 123";

	(void)state;
	assert_string_equal(str_lowercase(upper), "mixed 123");
	assert_true(str_is_blank(" \t\n"));
	assert_false(str_is_blank(" x "));
	assert_true(str_has_prefix("regexp:/x", "regexp:"));
	assert_false(str_has_prefix("reg", "regexp:"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_list),
		cmocka_unit_test(test_split_braced),
		cmocka_unit_test(test_unbrace),
		cmocka_unit_test(test_nameval),
		cmocka_unit_test(test_small_helpers),
	};

	return cmocka_run_group_tests_name("tokens", tests, NULL, NULL);
}
