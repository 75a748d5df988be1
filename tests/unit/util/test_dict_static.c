/*
 * test_dict_static.c - unit tests for static:, fail:, environ: and inline:.
 *
 * Expected answers and messages follow Debian's Postfix 3.7 (postmap -q),
 * except where noted.
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

struct answer_case {
	const char *spec;
	int dict_flags;
	const char *key;
	const char *expect; /* NULL: not found */
};

static void
check_answer(const struct answer_case *ac)
{
	struct err err;
	struct dict *dict = dict_open(ac->spec, O_RDONLY, ac->dict_flags, &err);
	const char *value;
	int ret;

	if (dict == NULL)
		fail_msg("%s: %s", ac->spec, err.text);
	ret = dict_lookup(dict, ac->key, &value, &err);
	if (ac->expect == NULL) {
		if (ret != DICT_NOTFOUND)
			fail_msg("%s key \"%s\": got %d", ac->spec, ac->key,
				 ret);
	} else {
		if (ret != DICT_FOUND)
			fail_msg("%s key \"%s\": got %d", ac->spec, ac->key,
				 ret);
		assert_string_equal(value, ac->expect);
	}
	dict_close(&dict);
	assert_null(dict);
}

struct error_case {
	const char *spec;
	int open_flags;
	const char *expect;
};

static void
check_error(const struct error_case *ec)
{
	struct err err;

	if (dict_open(ec->spec, ec->open_flags, DICT_FLAG_FOLD_FIX, &err))
		fail_msg("%s opened", ec->spec);
	assert_string_equal(err.text, ec->expect);
}

#define FOLD DICT_FLAG_FOLD_FIX

static void
test_static(void **state)
{
	static const struct answer_case answers[] = {
		{ "static:foo", FOLD, "anything", "foo" },
		{ "static:foo", FOLD, "", "foo" },
		{ "static:{ foo bar }", FOLD, "a", "foo bar" },
		{ "static:{foo}", FOLD, "a", "foo" },
		{ "static:{}", FOLD, "a", "" },
		{ "static:{ }", FOLD, "a", "" },
		{ "static:a b", FOLD, "a", "a b" },
		{ "static:{{a}}", FOLD, "a", "{a}" },
		{ "static:{ { a } }", FOLD, "a", "{ a }" },
		{ "static:{ a  b }", FOLD, "a", "a  b" },
		{ "static: {a}", FOLD, "a", " {a}" },
		{ "static:$x", FOLD, "a", "$x" },
	};
	static const struct error_case errors[] = {
		{ "static:{ a } x", O_RDONLY,
		  "bad static:name syntax: syntax error after '}' in "
		  "\"{ a } x\"" },
		{ "static:{ a", O_RDONLY,
		  "bad static:name syntax: missing '}' in \"{ a\"" },
		{ "static:{a}}", O_RDONLY,
		  "bad static:name syntax: syntax error after '}' in "
		  "\"{a}}\"" },
		{ "static:{a} ", O_RDONLY,
		  "bad static:name syntax: syntax error after '}' in "
		  "\"{a} \"" },
		{ "static:", O_RDONLY,
		  "need dictionary type:name, not \"static:\"" },
		{ "static:x", O_RDWR,
		  "static:x map requires O_RDONLY access mode" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		check_answer(&answers[i]);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		check_error(&errors[i]);
}

static void
test_fail(void **state)
{
	static const char expect[] = "fail:oops: table configured to fail "
				     "every request";
	struct err err;
	struct dict *dict = dict_open("fail:oops", O_RDWR | O_CREAT, 0, &err);
	const char *key;
	const char *value;

	(void)state;
	assert_non_null(dict);
	assert_int_equal(dict_lookup(dict, "a", &value, &err), DICT_ERROR);
	assert_string_equal(err.text, expect);
	err.text[0] = 0;
	assert_int_equal(dict_update(dict, "a", "b", &err), DICT_ERROR);
	assert_string_equal(err.text, expect);
	err.text[0] = 0;
	assert_int_equal(dict_remove(dict, "a", &err), DICT_ERROR);
	assert_string_equal(err.text, expect);
	err.text[0] = 0;
	assert_int_equal(dict_sequence(dict, DICT_SEQ_FIRST, &key, &value,
				       &err),
			 DICT_ERROR);
	assert_string_equal(err.text, expect);
	dict_close(&dict);

	assert_null(dict_open("fail:", O_RDONLY, 0, &err));
	assert_string_equal(err.text, "need dictionary type:name, not "
				      "\"fail:\"");
}

static void
test_environ(void **state)
{
	static const struct answer_case answers[] = {
		{ "environ:x", 0, "POSTERN_TEST_VAR", "some value" },
		{ "environ:x", 0, "postern_test_lower", "low" },
		/* With folding the key is lowercased first, as in Postfix. */
		{ "environ:x", FOLD, "POSTERN_TEST_LOWER", "low" },
		{ "environ:x", FOLD, "POSTERN_TEST_VAR", NULL },
		{ "environ:x", 0, "POSTERN_TEST_UNSET", NULL },
		{ "environ:x", 0, "POSTERN_TEST_EMPTY", "" },
	};
	static const struct error_case errors[] = {
		{ "environ:", O_RDONLY,
		  "need dictionary type:name, not \"environ:\"" },
		{ "environ:x", O_WRONLY,
		  "environ:x map requires O_RDONLY access mode" },
	};

	(void)state;
	setenv("POSTERN_TEST_VAR", "some value", 1);
	setenv("postern_test_lower", "low", 1);
	setenv("POSTERN_TEST_EMPTY", "", 1);
	unsetenv("POSTERN_TEST_UNSET");
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		check_answer(&answers[i]);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		check_error(&errors[i]);
}

static void
test_inline(void **state)
{
	static const struct answer_case answers[] = {
		{ "inline:{a=b, c=d}", FOLD, "a", "b" },
		{ "inline:{a=b, c=d}", FOLD, "C", "d" },
		{ "inline:{a=b, c=d}", FOLD, "e", NULL },
		{ "inline:{a=b c=d}", FOLD, "c", "d" },
		{ "inline:{ a=b, { c = d e } }", FOLD, "c", "d e" },
		{ "inline:{a=}", FOLD, "a", "" },
		{ "inline:{a=b=c}", FOLD, "a", "b=c" },
		{ "inline:{a=b,,c=d}", FOLD, "c", "d" },
		{ "inline:{ { a = { b } } }", FOLD, "a", "{ b }" },
		/* A key given twice keeps the last value. */
		{ "inline:{a=b, a=c}", FOLD, "a", "c" },
		{ "inline:{ {a=b}, {A=c} }", FOLD, "a", "c" },
		/* Folding: keys stored lower case; without it, as written. */
		{ "inline:{A=b}", FOLD, "A", "b" },
		{ "inline:{A=b}", FOLD, "a", "b" },
		{ "inline:{A=b}", 0, "A", "b" },
		{ "inline:{A=b}", 0, "a", NULL },
		{ "inline:{A=B}", FOLD, "a", "B" },
	};
	static const struct error_case errors[] = {
		{ "inline:{ a = b , { c = d e } }", O_RDONLY,
		  "missing '=' after attribute name: \"inline:{ a = b , { c "
		  "= d e } }\"; need \"inline:{name=value...}\"" },
		{ "inline:a=b", O_RDONLY,
		  "bad syntax: \"inline:a=b\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{a}", O_RDONLY,
		  "missing '=' after attribute name: \"inline:{a}\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{}", O_RDONLY,
		  "bad syntax: \"inline:{}\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{ }", O_RDONLY,
		  "bad syntax: \"inline:{ }\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{ {a=b}, x }", O_RDONLY,
		  "missing '=' after attribute name: \"inline:{ {a=b}, x }\"; "
		  "need \"inline:{name=value...}\"" },
		{ "inline:{ {a=b} }x", O_RDONLY,
		  "bad syntax: \"inline:{ {a=b} }x\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{ {a=b", O_RDONLY,
		  "bad syntax: \"inline:{ {a=b\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{a=b}}", O_RDONLY,
		  "bad syntax: \"inline:{a=b}}\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline: {a=b}", O_RDONLY,
		  "bad syntax: \"inline: {a=b}\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{ {a=b}x }", O_RDONLY,
		  "syntax error after '}' in \"{a=b}x\": "
		  "\"inline:{ {a=b}x }\"; need \"inline:{name=value...}\"" },
		{ "inline:{ {a b=c} }", O_RDONLY,
		  "missing '=' after attribute name: \"inline:{ {a b=c} }\"; "
		  "need \"inline:{name=value...}\"" },
		{ "inline:{ {} }", O_RDONLY,
		  "missing '=' after attribute name: \"inline:{ {} }\"; need "
		  "\"inline:{name=value...}\"" },
		/* Postfix accepts an empty key here; Postern refuses it. */
		{ "inline:{=b}", O_RDONLY,
		  "missing attribute name: \"inline:{=b}\"; need "
		  "\"inline:{name=value...}\"" },
		{ "inline:{a=b}", O_RDWR,
		  "inline:{a=b} map requires O_RDONLY access mode" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		check_answer(&answers[i]);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		check_error(&errors[i]);
}

static void
test_inline_sequence(void **state)
{
	struct err err;
	struct dict *dict;
	const char *key;
	const char *value;

	(void)state;
	dict = dict_open("inline:{c=3, A=1, b=2}", O_RDONLY, FOLD, &err);
	assert_non_null(dict);
	assert_int_equal(dict_sequence(dict, DICT_SEQ_FIRST, &key, &value,
				       &err),
			 DICT_FOUND);
	assert_string_equal(key, "a");
	assert_string_equal(value, "1");
	assert_int_equal(dict_sequence(dict, DICT_SEQ_NEXT, &key, &value,
				       &err),
			 DICT_FOUND);
	assert_string_equal(key, "b");
	assert_int_equal(dict_sequence(dict, DICT_SEQ_NEXT, &key, &value,
				       &err),
			 DICT_FOUND);
	assert_string_equal(key, "c");
	assert_string_equal(value, "3");
	assert_int_equal(dict_sequence(dict, DICT_SEQ_NEXT, &key, &value,
				       &err),
			 DICT_NOTFOUND);
	assert_int_equal(dict_sequence(dict, DICT_SEQ_FIRST, &key, &value,
				       &err),
			 DICT_FOUND);
	assert_string_equal(key, "a");
	dict_close(&dict);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_environ),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_inline_sequence),
	};

	return cmocka_run_group_tests_name("dict_static", tests, NULL, NULL);
}
