/*
 * test_dict_cidr.c - unit tests for cidr: tables.
 *
 * Expected answers for valid tables were taken from Debian's Postfix 3.7
 * (postmap -q); the messages are those of rules Postfix would warn about
 * and skip, which make Postern's open fail. "@" stands for the table path.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/dict.h"
#include "util/mymalloc.h"

struct fixture {
	char dir[256];
	char path[300];
};

static int
setup(void **state)
{
	struct fixture *fx = xmalloc(sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	snprintf(fx->dir, sizeof(fx->dir), "%s/test_dict_cidr.XXXXXX",
		 tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/table", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct dict *
open_table(const struct fixture *fx, const char *text, struct err *err)
{
	char spec[400];
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(spec, sizeof(spec), "cidr:%s", fx->path);
	return dict_open(spec, O_RDONLY, DICT_FLAG_FOLD_FIX, err);
}

static const char mixed_table[] = "1.2.3.4 one\n"
				  "1.2.3.0/24 net\n"
				  "2001:db8::1 v6one\n"
				  "2001:db8::/32 v6net\n"
				  "0.0.0.0/0 all4\n"
				  "::/0 all6\n";

struct lookup_case {
	const char *table;
	const char *key;
	const char *expect; /* NULL: not found */
};

static const struct lookup_case lookup_cases[] = {
	{ mixed_table, "1.2.3.4", "one" },
	{ mixed_table, "1.2.3.5", "net" },
	{ mixed_table, "5.6.7.8", "all4" },
	{ mixed_table, "2001:db8::1", "v6one" },
	{ mixed_table, "2001:DB8:0::1", "v6one" },
	{ mixed_table, "2001:0db8::1", "v6one" },
	{ mixed_table, "2001:db8:1::2", "v6net" },
	{ mixed_table, "::1", "all6" },
	{ mixed_table, "::ffff:1.2.3.4", "all6" },
	/* Keys that are not plain addresses are not found. */
	{ mixed_table, "[1.2.3.4]", NULL },
	{ mixed_table, "[2001:db8::1]", NULL },
	{ mixed_table, "foo", NULL },
	{ mixed_table, "", NULL },
	{ mixed_table, "1.2.3", NULL },
	{ mixed_table, "01.2.3.4", NULL },
	{ mixed_table, "1.2.3.04", NULL },
	{ mixed_table, "1.2.3.4 ", NULL },
	{ mixed_table, "fe80::1%eth0", NULL },
	/* Bracketed patterns and odd but valid forms. */
	{ "[1.2.3.4] x\n", "1.2.3.4", "x" },
	{ "[1.2.3.0]/24 x\n", "1.2.3.9", "x" },
	{ "[1.2.3.0/24] x\n", "1.2.3.9", "x" },
	{ "[2001:db8::]/32 x\n", "2001:db8::1", "x" },
	{ "[2001:db8::/32] x\n", "2001:db8::1", "x" },
	{ "1.2.3.0/024 x\n", "1.2.3.4", "x" },
	{ "1.2.3.4/00000032 x\n", "1.2.3.4", "x" },
	{ "2001:DB8::/32 x\n", "2001:db8::1", "x" },
	{ "::ffff:1.2.3.4/128 x\n", "::ffff:1.2.3.4", "x" },
	{ "::ffff:1.2.3.4 x\n", "1.2.3.4", NULL },
	{ "::1.2.3.4 x\n", "::0102:0304", "x" },
	{ "1:2:3:4:5:6:7:: x\n", "1:2:3:4:5:6:7:0", "x" },
	{ "255.255.255.255 x\n", "255.255.255.255", "x" },
	{ "0.0.0.0/0 x\n", "::1", NULL },
	{ "1.2.3.0/31 x\n", "1.2.3.1", "x" },
	{ "1.2.3.0/31 x\n", "1.2.3.2", NULL },
	{ "2001:db8::/127 x\n", "2001:db8::1", "x" },
	{ "2001:db8::/127 x\n", "2001:db8::2", NULL },
	/* Results keep inner white space and are taken literally. */
	{ "1.2.3.4   a  b  \n", "1.2.3.4", "a  b" },
	{ "1.2.3.4\ta\n", "1.2.3.4", "a" },
	{ "1.2.3.4 $1 ${x}\n", "1.2.3.4", "$1 ${x}" },
	{ "1.2.3.4 {x}\n", "1.2.3.4", "{x}" },
	{ "1.2.3.4 a\n1.2.3.4 b\n", "1.2.3.4", "a" },
	{ "1.2.3.4 a\n#c\n b\n", "1.2.3.4", "a b" },
	/* Negation applies only within the pattern's address family. */
	{ "!1.2.3.4 not\n", "1.2.3.4", NULL },
	{ "!1.2.3.4 not\n", "1.2.3.5", "not" },
	{ "!1.2.3.4 not\n", "::1", NULL },
	{ "! 1.2.3.4 not\n", "1.2.3.5", "not" },
	{ "!!1.2.3.4 not\n", "1.2.3.4", "not" },
	{ "!::1 x\n", "1.2.3.4", NULL },
	{ "!::1 x\n", "::2", "x" },
	/* if/endif. */
	{ "if 1.2.3.0/24\n1.2.3.4 in\nendif\n0.0.0.0/0 out\n", "1.2.3.4",
	  "in" },
	{ "if 1.2.3.0/24\n1.2.3.4 in\nendif\n0.0.0.0/0 out\n", "1.2.4.4",
	  "out" },
	{ "if !1.2.3.0/24\n1.2.4.4 in\nendif\n", "1.2.4.4", "in" },
	{ "IF 1.2.3.0/24\n1.2.3.4 in\nENDIF\n", "1.2.3.4", "in" },
	{ "if [1.2.3.0/24]\n1.2.3.4 x\nendif\n", "1.2.3.4", "x" },
	{ "if !1.2.3.0/24\n::/0 in6\n0.0.0.0/0 in4\nendif\n::/0 out6\n",
	  "::1", "out6" },
	{ "if !1.2.3.0/24\n::/0 in6\n0.0.0.0/0 in4\nendif\n::/0 out6\n",
	  "1.2.4.4", "in4" },
	{ "if 0.0.0.0/0\n!1.2.3.4 x\nendif\n", "1.2.3.5", "x" },
	{ "if 1.2.3.0/24\nif !1.2.3.4\n0.0.0.0/0 other\nendif\n"
	  "1.2.3.4 four\nendif\n",
	  "1.2.3.4", "four" },
	{ "if 1.2.3.0/24\nif !1.2.3.4\n0.0.0.0/0 other\nendif\n"
	  "1.2.3.4 four\nendif\n",
	  "1.2.3.7", "other" },
};

static void
test_lookups(void **state)
{
	const struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]);
	     i++) {
		const struct lookup_case *lc = &lookup_cases[i];
		struct dict *dict;
		struct err err;
		const char *value;
		int ret;

		dict = open_table(fx, lc->table, &err);
		if (dict == NULL)
			fail_msg("table \"%s\": %s", lc->table, err.text);
		ret = dict_lookup(dict, lc->key, &value, &err);
		if (lc->expect == NULL) {
			if (ret != DICT_NOTFOUND)
				fail_msg("table \"%s\" key \"%s\": got %d",
					 lc->table, lc->key, ret);
		} else {
			if (ret != DICT_FOUND)
				fail_msg("table \"%s\" key \"%s\": got %d",
					 lc->table, lc->key, ret);
			assert_string_equal(value, lc->expect);
		}
		dict_close(&dict);
	}
}

struct error_case {
	const char *table;
	const char *expect; /* after "@, line N: " */
};

static const struct error_case error_cases[] = {
	{ "1.2.3.4/24 x\n",
	  "@, line 1: non-null host address bits in \"1.2.3.4/24\", perhaps "
	  "you should use \"1.2.3.0/24\" instead" },
	{ "2001:db8::1/64 x\n",
	  "@, line 1: non-null host address bits in \"2001:db8::1/64\", "
	  "perhaps you should use \"2001:db8::/64\" instead" },
	{ "2001:db8::/0 x\n",
	  "@, line 1: non-null host address bits in \"2001:db8::/0\", "
	  "perhaps you should use \"::/0\" instead" },
	{ "1.2.3.0/33 x\n", "@, line 1: bad mask length in \"1.2.3.0/33\"" },
	{ "2001:db8::/129 x\n",
	  "@, line 1: bad mask length in \"2001:db8::/129\"" },
	{ "1.2.3.0/99999999999 x\n",
	  "@, line 1: bad mask length in \"1.2.3.0/99999999999\"" },
	{ "foo/99 x\n", "@, line 1: bad mask length in \"foo/99\"" },
	{ "1.2.3.0/-1 x\n", "@, line 1: bad mask value in \"1.2.3.0/-1\"" },
	{ "1.2.3.0/ x\n", "@, line 1: bad mask value in \"1.2.3.0/\"" },
	{ "1.2.3.0/ 24 x\n", "@, line 1: bad mask value in \"1.2.3.0/\"" },
	{ "1.2.3.4/+24 x\n", "@, line 1: bad mask value in \"1.2.3.4/+24\"" },
	{ "1.2.3.0/24/5 x\n",
	  "@, line 1: bad mask value in \"1.2.3.0/24/5\"" },
	{ "[1.2.3.0]/24] x\n",
	  "@, line 1: bad mask value in \"1.2.3.0/24]\"" },
	{ "foo/x x\n", "@, line 1: bad mask value in \"foo/x\"" },
	{ "0/0 x\n", "@, line 1: bad network value in \"0/0\"" },
	{ "1.2.3/24 x\n", "@, line 1: bad network value in \"1.2.3/24\"" },
	{ "[]/24 x\n", "@, line 1: bad network value in \"/24\"" },
	{ "01.2.3.4 x\n", "@, line 1: bad address pattern: \"01.2.3.4\"" },
	{ "1.2.3.256 x\n", "@, line 1: bad address pattern: \"1.2.3.256\"" },
	{ "1::2::3 x\n", "@, line 1: bad address pattern: \"1::2::3\"" },
	{ "fe80::1%eth0 x\n",
	  "@, line 1: bad address pattern: \"fe80::1%eth0\"" },
	{ "[] x\n", "@, line 1: bad address pattern: \"\"" },
	{ "1.2.3.4] x\n", "@, line 1: bad address pattern: \"1.2.3.4]\"" },
	{ "[1.2.3.4 x\n",
	  "@, line 1: missing ']' character after \"[1.2.3.4\"" },
	{ "[1.2.3.4]x y\n", "@, line 1: garbage after \"[1.2.3.4]\"" },
	{ "1.2.3.4\n", "@, line 1: no lookup result" },
	{ "!\n", "@, line 1: no address pattern" },
	{ "if !\n", "@, line 1: no address pattern" },
	{ "endif\n", "@, line 1: ENDIF without matching IF" },
	{ "if 1.2.3.0/24 junk\n1.2.3.4 in\nendif\n",
	  "@, line 1: bad mask value in \"1.2.3.0/24 junk\"" },
	{ "if 1.2.3.0/24\n1.2.3.4 in\nendif junk\n",
	  "@, line 3: extra text after ENDIF" },
	{ "# c\nif 1.2.3.0/24\n1.2.3.4 in\n",
	  "@, line 2: IF has no matching ENDIF" },
	{ "ifx 1.2.3.4 x\n", "@, line 1: bad address pattern: \"ifx\"" },
	{ "1.2.3.4 x\n 1.2.3.5 y\n# c\n\n1.2.3.0/0 z\n",
	  "@, line 5: non-null host address bits in \"1.2.3.0/0\", perhaps "
	  "you should use \"0.0.0.0/0\" instead" },
};

static char *
expand_at(const char *tmpl, const char *path)
{
	const char *at = strchr(tmpl, '@');

	if (at == NULL)
		return xstrdup(tmpl);
	return xasprintf("%.*s%s%s", (int)(at - tmpl), tmpl, path, at + 1);
}

static void
test_open_errors(void **state)
{
	const struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	     i++) {
		struct err err;
		char *expect;

		if (open_table(fx, error_cases[i].table, &err) != NULL)
			fail_msg("table \"%s\" opened", error_cases[i].table);
		expect = expand_at(error_cases[i].expect, fx->path);
		assert_string_equal(err.text, expect);
		free(expect);
	}
}

static void
test_inline_and_modes(void **state)
{
	struct dict *dict;
	struct err err;
	const char *value;

	(void)state;
	dict = dict_open("cidr:{ {10.0.0.0/8 ten}, {!10.0.0.0/8 other} }",
			 O_RDONLY, DICT_FLAG_FOLD_FIX, &err);
	assert_non_null(dict);
	assert_false(dict->flags & DICT_FLAG_FOLD_FIX);
	assert_int_equal(dict_lookup(dict, "10.1.2.3", &value, &err),
			 DICT_FOUND);
	assert_string_equal(value, "ten");
	assert_int_equal(dict_lookup(dict, "11.1.2.3", &value, &err),
			 DICT_FOUND);
	assert_string_equal(value, "other");
	assert_int_equal(dict_lookup(dict, "::1", &value, &err),
			 DICT_NOTFOUND);
	assert_int_equal(dict_update(dict, "1.2.3.4", "x", &err), DICT_ERROR);
	dict_close(&dict);

	assert_null(dict_open("cidr:{ {10.0.0.1/8 ten} }", O_RDONLY, 0, &err));
	assert_string_equal(err.text,
			    "{ {10.0.0.1/8 ten} }, line 1: non-null host "
			    "address bits in \"10.0.0.1/8\", perhaps you "
			    "should use \"10.0.0.0/8\" instead");
	assert_null(dict_open("cidr:{ 10.0.0.0/8 ten }", O_RDONLY, 0, &err));
	assert_string_equal(err.text, "cidr map: no '{' at start of text in "
				      "\"10.0.0.0/8\"");
	assert_null(dict_open("cidr:{ {1.2.3.4 x} }", O_RDWR, 0, &err));
	assert_string_equal(err.text, "cidr:{ {1.2.3.4 x} } map requires "
				      "O_RDONLY access mode");
	assert_null(dict_open("cidr:/nonexistent/x", O_RDONLY, 0, &err));
	assert_string_equal(err.text, "open /nonexistent/x: No such file or "
				      "directory");
}

/* Continuation lines give the same rule as one line. */
static void
test_rule_in_pieces(void **state)
{
	static const char *const tables[] = {
		"1.2.3.0/24 a b\n",
		"1.2.3.0/24\n a b\n",
		"1.2.3.0/24\n a\n b\n",
		"1.2.3.0/24 a\n# comment\n\n\tb\n",
	};
	const struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		struct err err;
		struct dict *dict = open_table(fx, tables[i], &err);
		const char *value;

		assert_non_null(dict);
		assert_int_equal(dict_lookup(dict, "1.2.3.4", &value, &err),
				 DICT_FOUND);
		assert_string_equal(value, "a b");
		dict_close(&dict);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_inline_and_modes),
		cmocka_unit_test(test_rule_in_pieces),
	};

	return cmocka_run_group_tests_name("dict_cidr", tests, setup,
					   teardown);
}
