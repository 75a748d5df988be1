/*
 * test_dict_union.c - unit tests for unionmap: and pipemap: tables.
 *
 * Expected answers follow Debian's Postfix 3.7 (postmap -q), including how
 * unionmap joins empty results.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/dict.h"
#include "util/mymalloc.h"

#define FOLD DICT_FLAG_FOLD_FIX
#define FOUND_ERROR "\001error" /* expect DICT_ERROR */

struct answer_case {
	const char *spec;
	const char *key;
	const char *expect; /* NULL: not found */
};

static const struct answer_case answers[] = {
	{ "unionmap:{inline:{a=1}, inline:{a=2}, inline:{b=3}}", "a", "1,2" },
	{ "unionmap:{inline:{a=1}, inline:{a=2}, inline:{b=3}}", "b", "3" },
	{ "unionmap:{inline:{a=1}, inline:{a=2}, inline:{b=3}}", "c", NULL },
	{ "unionmap:{inline:{a=X}, static:Y}", "A", "X,Y" },
	{ "unionmap:{ inline:{a=1}  static:{x y} }", "a", "1,x y" },
	{ "unionmap:{inline:{a=1},,inline:{a=2}}", "a", "1,2" },
	{ "unionmap:{ static:{a b} }", "q", "a b" },
	{ "unionmap:{unionmap:{inline:{a=1},inline:{a=2}}, inline:{a=3}}", "a",
	  "1,2,3" },
	/* Empty results: a comma only after something, none found if all
	 * results are empty. */
	{ "unionmap:{inline:{a=}, inline:{a=3}}", "a", "3" },
	{ "unionmap:{inline:{a=1}, inline:{a=}}", "a", "1," },
	{ "unionmap:{inline:{a=}}", "a", NULL },
	{ "unionmap:{inline:{a=}, inline:{a=}, inline:{a=2}, inline:{a=}, "
	  "inline:{a=3}}",
	  "a", "2,,3" },
	/* The key reaches each component unfolded. */
	{ "unionmap:{regexp:{{/^A$/i yes}}}", "A", "yes" },
	{ "pipemap:{regexp:{{/^A$/i B}}, regexp:{{/^B$/i C}}}", "A", "C" },
	{ "pipemap:{inline:{a=b}, inline:{b=c}}", "a", "c" },
	{ "pipemap:{inline:{a=b}, inline:{b=c}}", "A", "c" },
	{ "pipemap:{inline:{a=b}, inline:{x=c}}", "a", NULL },
	{ "pipemap:{inline:{x=b}, fail:x}", "a", NULL },
	{ "pipemap:{inline:{a=b}}", "a", "b" },
	{ "pipemap:{inline:{a=}, static:x}", "a", "x" },
	{ "pipemap:{inline:{a={b,c}}, inline:{b=1, c=2}}", "a", NULL },
	{ "pipemap:{static:X, inline:{x=lower}, static:{last one}}", "q",
	  "last one" },
	/* A failing component fails the whole lookup. */
	{ "unionmap:{inline:{a=1}, fail:x}", "a", FOUND_ERROR },
	{ "unionmap:{fail:x, inline:{a=1}}", "a", FOUND_ERROR },
	{ "pipemap:{inline:{a=b}, fail:x}", "a", FOUND_ERROR },
};

static void
test_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const struct answer_case *ac = &answers[i];
		struct err err;
		struct dict *dict = dict_open(ac->spec, O_RDONLY, FOLD, &err);
		const char *value;
		int ret;

		if (dict == NULL)
			fail_msg("%s: %s", ac->spec, err.text);
		ret = dict_lookup(dict, ac->key, &value, &err);
		if (ac->expect == NULL) {
			if (ret != DICT_NOTFOUND)
				fail_msg("%s key %s: got %d", ac->spec,
					 ac->key, ret);
		} else if (strcmp(ac->expect, FOUND_ERROR) == 0) {
			if (ret != DICT_ERROR)
				fail_msg("%s key %s: got %d", ac->spec,
					 ac->key, ret);
			assert_string_equal(err.text,
					    "fail:x: table configured to fail "
					    "every request");
		} else {
			if (ret != DICT_FOUND)
				fail_msg("%s key %s: got %d", ac->spec,
					 ac->key, ret);
			assert_string_equal(value, ac->expect);
		}
		dict_close(&dict);
	}
}

struct error_case {
	const char *spec;
	int open_flags;
	const char *expect;
};

static const struct error_case errors[] = {
	{ "unionmap:inline:{a=1}", O_RDONLY,
	  "bad syntax: \"unionmap:inline:{a=1}\"; need "
	  "\"unionmap:{type:name...}\"" },
	{ "unionmap:{}", O_RDONLY,
	  "bad syntax: \"unionmap:{}\"; need \"unionmap:{type:name...}\"" },
	{ "unionmap:{ inline:{a=1} } x", O_RDONLY,
	  "bad syntax: \"unionmap:{ inline:{a=1} } x\"; need "
	  "\"unionmap:{type:name...}\"" },
	{ "unionmap:{ inline:{a=1}, inline:{b=1", O_RDONLY,
	  "bad syntax: \"unionmap:{ inline:{a=1}, inline:{b=1\"; need "
	  "\"unionmap:{type:name...}\"" },
	{ "pipemap:{}", O_RDONLY,
	  "bad syntax: \"pipemap:{}\"; need \"pipemap:{type:name...}\"" },
	{ "pipemap:x", O_RDONLY,
	  "bad syntax: \"pipemap:x\"; need \"pipemap:{type:name...}\"" },
	{ "unionmap:{ nosuch:x }", O_RDONLY,
	  "unsupported dictionary type: nosuch" },
	{ "unionmap:{{inline:{a=1}}}", O_RDONLY,
	  "unsupported dictionary type: {inline" },
	{ "unionmap:{ inline:{a=1} static:}", O_RDONLY,
	  "need dictionary type:name, not \"static:\"" },
	{ "pipemap:{ inline:{a=1}, inline:{b} }", O_RDONLY,
	  "missing '=' after attribute name: \"inline:{b}\"; need "
	  "\"inline:{name=value...}\"" },
	{ "unionmap:{static:x}", O_RDWR,
	  "unionmap:{static:x} map requires O_RDONLY access mode" },
	{ "pipemap:{static:x}", O_RDWR | O_CREAT,
	  "pipemap:{static:x} map requires O_RDONLY access mode" },
};

static void
test_open_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		struct err err;

		if (dict_open(errors[i].spec, errors[i].open_flags, FOLD,
			      &err) != NULL)
			fail_msg("%s opened", errors[i].spec);
		assert_string_equal(err.text, errors[i].expect);
	}
}

/* "unionmap:{" repeated depth times around static:x. */
static char *
nested_spec(int depth)
{
	size_t len = (size_t)depth * 11 + 10;
	char *spec = xmalloc(len);

	for (int i = 0; i < depth; i++)
		strcat(spec, "unionmap:{");
	strcat(spec, "static:x");
	for (int i = 0; i < depth; i++)
		strcat(spec, "}");
	return spec;
}

static void
test_nesting_limit(void **state)
{
	char *spec;
	char *expect;
	struct err err;
	struct dict *dict;
	const char *value;

	(void)state;
	spec = nested_spec(DICT_MAX_NESTING);
	dict = dict_open(spec, O_RDONLY, FOLD, &err);
	assert_non_null(dict);
	assert_int_equal(dict_lookup(dict, "k", &value, &err), DICT_FOUND);
	assert_string_equal(value, "x");
	dict_close(&dict);
	free(spec);

	spec = nested_spec(DICT_MAX_NESTING + 1);
	assert_null(dict_open(spec, O_RDONLY, FOLD, &err));
	expect = xasprintf("%s: tables nested deeper than %d levels", spec,
			   DICT_MAX_NESTING);
	assert_string_equal(err.text, expect);
	free(expect);
	free(spec);
}

static void
test_flags_and_results(void **state)
{
	struct err err;
	struct dict *dict;
	const char *value;

	(void)state;
	dict = dict_open("unionmap:{inline:{a=1}, static:2}", O_RDONLY, FOLD,
			 &err);
	assert_non_null(dict);
	assert_false(dict->flags & DICT_FLAG_FOLD_FIX);
	/* Each lookup starts a new result. */
	assert_int_equal(dict_lookup(dict, "a", &value, &err), DICT_FOUND);
	assert_string_equal(value, "1,2");
	assert_int_equal(dict_lookup(dict, "b", &value, &err), DICT_FOUND);
	assert_string_equal(value, "2");
	assert_int_equal(dict_update(dict, "a", "b", &err), DICT_ERROR);
	dict_close(&dict);
}

/* Joined results are bounded by DICT_MAX_VALUE_LEN. */
static void
test_result_too_long(void **state)
{
	size_t half = DICT_MAX_VALUE_LEN / 2 + 1;
	char *big = xmalloc(half + 1);
	struct err err;
	struct dict *dict;
	const char *value;

	(void)state;
	memset(big, 'v', half);
	assert_int_equal(setenv("POSTERN_TEST_BIG", big, 1), 0);
	dict = dict_open("unionmap:{environ:x, environ:x}", O_RDONLY, 0, &err);
	assert_non_null(dict);
	assert_int_equal(dict_lookup(dict, "POSTERN_TEST_BIG", &value, &err),
			 DICT_ERROR);
	assert_string_equal(err.text, "unionmap:{environ:x, environ:x}: "
				      "result longer than 1048576 bytes");
	big[10] = 0;
	assert_int_equal(setenv("POSTERN_TEST_BIG", big, 1), 0);
	assert_int_equal(dict_lookup(dict, "POSTERN_TEST_BIG", &value, &err),
			 DICT_FOUND);
	assert_string_equal(value, "vvvvvvvvvv,vvvvvvvvvv");
	dict_close(&dict);
	unsetenv("POSTERN_TEST_BIG");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_flags_and_results),
		cmocka_unit_test(test_result_too_long),
	};

	return cmocka_run_group_tests_name("dict_union", tests, NULL, NULL);
}
