/*
 * test_dict_regexp.c - unit tests for regexp: and pcre: tables.
 *
 * Tables are written to a temporary directory. Expected answers were taken
 * from Debian's Postfix 3.7 (postmap -q) for valid tables; where Postfix
 * warns and skips a rule, Postern's open fails, and the expected messages
 * here are Postern's. "@" in an expected message stands for the table path.
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
#include "util/dict_pattern.h"
#include "util/line_reader.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define T_REGEXP 1
#define T_PCRE 2
#define T_BOTH (T_REGEXP | T_PCRE)

static const char *const type_names[] = { NULL, "regexp", "pcre" };

struct fixture {
	char dir[256];
	char path[300];
};

static int
setup(void **state)
{
	struct fixture *fx = xmalloc(sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	snprintf(fx->dir, sizeof(fx->dir), "%s/test_dict_regexp.XXXXXX",
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

static void
write_table(const struct fixture *fx, const char *text)
{
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static struct dict *
open_table(const struct fixture *fx, const char *type, const char *text,
	   struct err *err)
{
	char spec[400];

	write_table(fx, text);
	snprintf(spec, sizeof(spec), "%s:%s", type, fx->path);
	return dict_open(spec, O_RDONLY, DICT_FLAG_FOLD_FIX, err);
}

/* Expected text with each '@' replaced by path. */
static char *
expand_at(const char *tmpl, const char *path)
{
	char *out = xmalloc(strlen(tmpl) * 2 + strlen(path) * 4 + 1);
	char *cp = out;

	for (; *tmpl; tmpl++) {
		if (*tmpl == '@') {
			strcpy(cp, path);
			cp += strlen(path);
		} else {
			*cp++ = *tmpl;
		}
	}
	*cp = 0;
	return out;
}

struct lookup_case {
	int types;
	const char *table;
	const char *key;
	const char *expect; /* NULL: not found */
};

static const struct lookup_case lookup_cases[] = {
	/* Case-insensitive by default; captures keep the key's case. */
	{ T_BOTH, "/^a(b)?c$/ x${1}y\n", "ac", "xy" },
	{ T_BOTH, "/^a(b)?c$/ x${1}y\n", "abc", "xby" },
	{ T_BOTH, "/^a(b)?c$/ x${1}y\n", "ABC", "xBy" },
	{ T_BOTH, "/^a(b)?c$/ x$1\n", "abc", "xb" },
	{ T_BOTH, "/^a(b)?c$/ x$(1)z\n", "abc", "xbz" },
	{ T_BOTH, "/^a(b)?c$/ x$01\n", "abc", "xb" },
	{ T_BOTH, "/^a(b)?c$/ x$$1 a$$\n", "abc", "x$1 a$" },
	{ T_BOTH, "/(a)/ ${1}}\n", "a", "a}" },
	{ T_BOTH, "/(a)/ ${1}${1}\n", "a", "aa" },
	{ T_BOTH, "/(a)|(b)/ [$1][$2]\n", "a", "[a][]" },
	{ T_BOTH, "/(a)|(b)/ [$1][$2]\n", "b", "[][b]" },
	{ T_BOTH,
	  "/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/ $10-$11-${10}\n",
	  "abcdefghijk", "j-k-j" },
	{ T_BOTH, "/a/ x\n", "A", "x" },
	{ T_BOTH, "/a/i x\n", "A", NULL },
	{ T_BOTH, "/a/i x\n", "a", "x" },
	{ T_BOTH, "/a/ii x\n", "A", "x" },
	{ T_BOTH, "/a/ x\n", "b", NULL },
	/* The result keeps inner white space; braces are not special. */
	{ T_BOTH, "/a/   x   y   \n", "a", "x   y" },
	{ T_BOTH, "/a/ { x }\n", "a", "{ x }" },
	{ T_BOTH, "/a/\tx\n", "a", "x" },
	/* Delimiters: any character; '\' escapes it and stays. */
	{ T_BOTH, "|a\\|b| x\n", "a|b", "x" },
	{ T_BOTH, "|a\\|b| x\n", "a", NULL },
	{ T_BOTH, "/a\\\\/ x\n", "a\\", "x" },
	{ T_BOTH, "/a\\/b/ x\n", "a/b", "x" },
	{ T_BOTH, "%a\\%b% x\n", "a%b", "x" },
	{ T_BOTH, "_a_ x\n", "a", "x" },
	{ T_BOTH, "\"a\" x\n", "a", "x" },
	{ T_BOTH, "// x\n", "", "x" },
	{ T_BOTH, "/^$/ empty\n", "", "empty" },
	/* Negation, also doubled and with white space. */
	{ T_BOTH, "!/a/ x\n", "a", NULL },
	{ T_BOTH, "!/a/ x\n", "b", "x" },
	{ T_BOTH, "! /a/ x\n", "b", "x" },
	{ T_BOTH, "!!/a/ x\n", "a", "x" },
	{ T_BOTH, "! ! /a/ x\n", "b", NULL },
	{ T_BOTH, "!/a/ x$$y\n", "b", "x$y" },
	/* First match wins; comments and continuation lines. */
	{ T_BOTH, "/a/ b\n/a/ c\n", "a", "b" },
	{ T_BOTH, "/a/ x\n/b/ y\n!/c/ z\n", "q", "z" },
	{ T_BOTH, "# comment\n\n/a/ x\n# c\n y\n", "a", "x y" },
	{ T_BOTH, "/a/\n x\n", "a", "x" },
	/* if/endif, nesting, negation, keywords in any case. */
	{ T_BOTH, "if /a/\n/b/ ab\nendif\n/b/ b\n", "ab", "ab" },
	{ T_BOTH, "if /a/\n/b/ ab\nendif\n/b/ b\n", "b", "b" },
	{ T_BOTH, "if !/a/\n/b/ nota\nendif\n/b/ b\n", "b", "nota" },
	{ T_BOTH, "if !/a/\n/b/ nota\nendif\n/b/ b\n", "ab", "b" },
	{ T_BOTH, "if/a/\n/b/ ab\nendif\n", "ab", "ab" },
	{ T_BOTH, "IF /a/\n/b/ ab\nENDIF\n", "ab", "ab" },
	{ T_BOTH, "if /a/i\n/b/ ab\nendif\n", "AB", NULL },
	{ T_BOTH, "if xax\n/b/ y\nendif\n", "ab", "y" },
	{ T_BOTH, "if_x_\n/b/ y\nendif\n", "xb", "y" },
	{ T_BOTH, "if !!/a/\n/b/ ab\nendif\n", "ab", "ab" },
	{ T_BOTH, "if /a/\nif /b/\n/c/ abc\nendif\nendif\n/c/ c\n", "abc",
	  "abc" },
	{ T_BOTH, "if /a/\nif /b/\n/c/ abc\nendif\nendif\n/c/ c\n", "ac",
	  "c" },
	{ T_BOTH, "if /a/\n/q/ q\nendif\n/a/ after\n", "a", "after" },
	{ T_BOTH, "if /a/\nendif\n/a/ empty-block\n", "a", "empty-block" },
	/* Engine-specific syntax and flags. */
	{ T_REGEXP, "/a+/x x\n", "aa", NULL },
	{ T_REGEXP, "/a+/x x\n", "a+", "x" },
	{ T_REGEXP, "/\\(a\\)/x $1\n", "a", "a" },
	{ T_REGEXP, "/^b$/m x\n", "a\nb", "x" },
	{ T_REGEXP, "/^b$/ x\n", "a\nb", NULL },
	{ T_REGEXP, "/a.b/ x\n", "a\nb", "x" },
	{ T_REGEXP, "/a.b/m x\n", "a\nb", NULL },
	{ T_REGEXP, "/^a$/ x\n", "a\n", NULL },
	{ T_REGEXP, "/[[:upper:]]/i x\n", "a", NULL },
	{ T_PCRE, "/a b/x x\n", "ab", "x" },
	{ T_PCRE, "/^b$/m x\n", "a\nb", "x" },
	{ T_PCRE, "/a.b/ x\n", "a\nb", "x" },
	{ T_PCRE, "/a.b/s x\n", "a\nb", NULL },
	{ T_PCRE, "/^a$/ x\n", "a\n", "x" },
	{ T_PCRE, "/^a$/E x\n", "a\n", NULL },
	{ T_PCRE, "/a/A x\n", "ba", NULL },
	{ T_PCRE, "/a/A x\n", "ab", "x" },
	{ T_PCRE, "/(a+)/U x$1\n", "aaa", "xa" },
	{ T_PCRE, "/a/X x\n", "a", "x" },
	{ T_PCRE, "/(?<n>a)/ $1\n", "a", "a" },
	{ T_PCRE, "/(?:a)(b)/ $1\n", "ab", "b" },
	{ T_PCRE, "/\\d/ digit\n", "7", "digit" },
	{ T_PCRE, "/^(a+)b\\1$/ x\n", "aabaa", "x" },
	{ T_REGEXP, "/^[\\1]x$/ x\n", "1x", "x" },
	{ T_REGEXP, "/^\\\\1$/ x\n", "\\1", "x" },
	{ T_PCRE, "/(a)\\K(b)/ [$1$2]\n", "ab", "[ab]" },
	/* Repetitions within the POSIX size estimate. */
	{ T_REGEXP, "/^(ab){3}x?{500}$/ ok\n", "ababab", "ok" },
	{ T_BOTH, "/^(a{100}){100}$/ ok\n", "a", NULL },
	{ T_BOTH, "/^([a-z0-9-]+\\.){1,8}[a-z]+$/ host\n", "mx.example.com",
	  "host" },
	{ T_BOTH, "~^[[:alnum:]+/]{60,}$~ b64\n",
	  "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2",
	  "b64" },
	/* Bytes, not UTF-8: one accented letter is two characters. */
	{ T_BOTH, "/^.$/ one\n/^..$/ two\n", "\xc3\xa9", "two" },
	{ T_BOTH, "/^.$/ one\n/^..$/ two\n", "\xff", "one" },
};

static void
run_lookup_case(const struct fixture *fx, const char *type,
		const struct lookup_case *lc)
{
	struct dict *dict;
	struct err err;
	const char *value;
	int ret;

	dict = open_table(fx, type, lc->table, &err);
	if (dict == NULL)
		fail_msg("%s table \"%s\": %s", type, lc->table, err.text);
	ret = dict_lookup(dict, lc->key, &value, &err);
	if (lc->expect == NULL) {
		if (ret != DICT_NOTFOUND)
			fail_msg("%s table \"%s\" key \"%s\": got %d (%s)",
				 type, lc->table, lc->key, ret,
				 ret == DICT_FOUND ? value : err.text);
	} else {
		if (ret != DICT_FOUND)
			fail_msg("%s table \"%s\" key \"%s\": got %d",
				 type, lc->table, lc->key, ret);
		assert_string_equal(value, lc->expect);
	}
	dict_close(&dict);
	assert_null(dict);
}

static void
test_lookups(void **state)
{
	const struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]);
	     i++)
		for (int t = T_REGEXP; t <= T_PCRE; t++)
			if (lookup_cases[i].types & t)
				run_lookup_case(fx, type_names[t],
						&lookup_cases[i]);
}

struct error_case {
	int types;
	const char *table;
	const char *expect; /* '@' stands for the table path */
};

static const struct error_case error_cases[] = {
	{ T_BOTH, "/a/ x$1y\n",
	  "@, line 1: non-numeric replacement index \"1y\"" },
	{ T_BOTH, "/a/ ${a}\n",
	  "@, line 1: non-numeric replacement index \"a\"" },
	{ T_BOTH, "/a/ ${1:x}\n",
	  "@, line 1: non-numeric replacement index \"1:x\"" },
	{ T_BOTH, "/a/ $_\n",
	  "@, line 1: non-numeric replacement index \"_\"" },
	{ T_BOTH, "/(a)/ x$2\n",
	  "@, line 1: out of range replacement index \"2\"" },
	{ T_BOTH, "/(a)/ $3$2\n",
	  "@, line 1: out of range replacement index \"3\"" },
	{ T_BOTH, "/a/ x$0\n",
	  "@, line 1: out of range replacement index \"0\"" },
	{ T_BOTH, "/a/ ${12345678901234567890}\n",
	  "@, line 1: out of range replacement index "
	  "\"12345678901234567890\"" },
	{ T_BOTH, "/a/ x$.\n",
	  "@, line 1: empty replacement reference in \"x$.\"" },
	{ T_BOTH, "/a/ a$\n",
	  "@, line 1: empty replacement reference in \"a$\"" },
	{ T_BOTH, "/a/ ${}\n",
	  "@, line 1: empty replacement reference in \"${}\"" },
	{ T_BOTH, "/a/ $()\n",
	  "@, line 1: empty replacement reference in \"$()\"" },
	{ T_BOTH, "/a/ $(1\n",
	  "@, line 1: truncated replacement reference in \"$(1\"" },
	{ T_BOTH, "/a/ ${1)\n",
	  "@, line 1: truncated replacement reference in \"${1)\"" },
	{ T_BOTH, "!/(a)/ x$1\n",
	  "@, line 1: $number found in negative match replacement text" },
	{ T_BOTH, "/a/\n",
	  "@, line 1: no replacement text after the pattern" },
	{ T_BOTH, "/a/{x}\n", "@, line 1: unknown regexp option \"{\"" },
	{ T_BOTH, "/a/q x\n", "@, line 1: unknown regexp option \"q\"" },
	{ T_REGEXP, "/a/s x\n", "@, line 1: unknown regexp option \"s\"" },
	{ T_BOTH, "/a x\n", "@, line 1: no closing regexp delimiter \"/\"" },
	{ T_BOTH, "/a\\/ x\n",
	  "@, line 1: no closing regexp delimiter \"/\"" },
	{ T_BOTH, "!a! x\n", "@, line 1: no closing regexp delimiter \"a\"" },
	{ T_BOTH, "!\n", "@, line 1: no regexp" },
	{ T_BOTH, "if\n/b/ x\nendif\n", "@, line 1: no regexp" },
	{ T_BOTH, "a x\n",
	  "@, line 1: unrecognized request: expected \"/pattern/ result\", "
	  "\"if /pattern/\" or \"endif\"" },
	{ T_BOTH, "/ok/ x\nendifx\n",
	  "@, line 2: unrecognized request: expected \"/pattern/ result\", "
	  "\"if /pattern/\" or \"endif\"" },
	{ T_BOTH, "if /a/ junk\n/b/ ab\nendif\n",
	  "@, line 1: extra text after IF statement: \"junk\"" },
	{ T_BOTH, "if /a/\n/b/ ab\nendif junk\n",
	  "@, line 3: extra text after ENDIF" },
	{ T_BOTH, "if /a/\n/b/ ab\n", "@, line 1: IF has no matching ENDIF" },
	{ T_BOTH, "if /a/\nif /b/\nendif\n",
	  "@, line 1: IF has no matching ENDIF" },
	{ T_BOTH, "/b/ b\nendif\n", "@, line 2: ENDIF without matching IF" },
	{ T_BOTH, "if /(a)/\n/b/ ab$1\nendif\n",
	  "@, line 2: out of range replacement index \"1\"" },
	{ T_BOTH,
	  "if /1/\nif /2/\nif /3/\nif /4/\nif /5/\nif /6/\nif /7/\n"
	  "if /8/\nif /9/\n",
	  "@, line 9: IF statements nested deeper than 8 levels" },
	{ T_REGEXP, "/a(/ x\n", "@, line 1: Unmatched ( or \\(" },
	{ T_REGEXP, "/[/ x\n", "@, line 1: Invalid regular expression" },
	{ T_REGEXP, "/^(a*)*\\1$/ x\n",
	  "@, line 1: back-references are not supported in regexp tables "
	  "(glibc takes exponential time to match them); use a pcre table" },
	{ T_REGEXP, "/^\\(a\\)\\1$/x x\n",
	  "@, line 1: back-references are not supported in regexp tables "
	  "(glibc takes exponential time to match them); use a pcre table" },
	{ T_REGEXP, "/(a{1000}){1000}/ x\n",
	  "@, line 1: regular expression too complex after expanding its "
	  "repetitions" },
	{ T_REGEXP, "/((x?){30}){30}/ x\n",
	  "@, line 1: regular expression too complex after expanding its "
	  "repetitions" },
	{ T_REGEXP, "/^a(b)+++++++++++++++++++++b$/ x\n",
	  "@, line 1: regular expression too complex after expanding its "
	  "repetitions" },
	{ T_REGEXP, "/\\(a\\{1000\\}\\)\\{1000\\}/x x\n",
	  "@, line 1: regular expression too complex after expanding its "
	  "repetitions" },
	{ T_PCRE, "/a(/ x\n",
	  "@, line 1: error in regex at offset 2: missing closing "
	  "parenthesis" },
	{ T_PCRE, "/a{2,1}/ x\n",
	  "@, line 1: error in regex at offset 5: numbers out of order in {} "
	  "quantifier" },
	{ T_BOTH, " /a/ x\n",
	  "@, line 1: logical line must not start with white space" },
};

static void
test_open_errors(void **state)
{
	const struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	     i++) {
		const struct error_case *ec = &error_cases[i];

		for (int t = T_REGEXP; t <= T_PCRE; t++) {
			struct err err;
			struct dict *dict;
			char *expect;

			if (!(ec->types & t))
				continue;
			dict = open_table(fx, type_names[t], ec->table, &err);
			if (dict != NULL)
				fail_msg("%s table \"%s\" opened",
					 type_names[t], ec->table);
			expect = expand_at(ec->expect, fx->path);
			assert_string_equal(err.text, expect);
			free(expect);
		}
	}
}

/* The same rules written inline in the name, Postfix 3.7 style. */
static void
test_inline_rules(void **state)
{
	static const struct {
		const char *spec;
		const char *key;
		const char *expect;
	} cases[] = {
		{ "regexp:{ {/a/ x}, {/b/ y} }", "b", "y" },
		{ "regexp:{{/a/ x},{/b/ y}}", "A", "x" },
		{ "pcre:{ { /(a)/ $1 } }", "a", "a" },
		{ "regexp:{ {if /a/}, {/b/ ab}, {endif} }", "ab", "ab" },
		{ "regexp:{ {if /a/}, {/b/ ab}, {endif} }", "b", NULL },
		{ "regexp:{ {#comment}, {}, {/a/ x} }", "a", "x" },
		{ "regexp:{}", "a", NULL },
	};
	static const struct {
		const char *spec;
		const char *expect;
	} errors[] = {
		{ "regexp:{ /a/ x }",
		  "regexp map: no '{' at start of text in \"/a/\"" },
		{ "regexp:{ {/a/ x} ", "regexp map: missing '}' in "
				       "\"{ {/a/ x}\"" },
		{ "pcre:{ {/a/ x}, {/a/ y}} junk",
		  "pcre map: syntax error after '}' in \"{ {/a/ x}, {/a/ y}} "
		  "junk\"" },
		{ "regexp:{{/a/ x}{/b/ y}}",
		  "regexp map: syntax error after '}' in \"{/a/ x}{/b/ y}\"" },
		{ "pcre:{ {/a/ x}, {#c}, {}, {/a( y} }",
		  "{ {/a/ x}, {#c}, {}, {/a( y} }, line 4: no closing regexp "
		  "delimiter \"/\"" },
		{ "regexp:{ {if /a/}, {/a/ x} }",
		  "{ {if /a/}, {/a/ x} }, line 1: IF has no matching ENDIF" },
	};
	struct err err;
	const char *value;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dict *dict = dict_open(cases[i].spec, O_RDONLY, 0, &err);
		int ret;

		if (dict == NULL)
			fail_msg("%s: %s", cases[i].spec, err.text);
		ret = dict_lookup(dict, cases[i].key, &value, &err);
		if (cases[i].expect == NULL) {
			assert_int_equal(ret, DICT_NOTFOUND);
		} else {
			assert_int_equal(ret, DICT_FOUND);
			assert_string_equal(value, cases[i].expect);
		}
		dict_close(&dict);
	}
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		assert_null(dict_open(errors[i].spec, O_RDONLY, 0, &err));
		assert_string_equal(err.text, errors[i].expect);
	}
}

/* A rule split over continuation lines reads like the one-line rule. */
static void
test_rule_in_pieces(void **state)
{
	static const char *const tables[] = {
		"/^(a)(b)$/ x${1}y$2 z\n",
		"/^(a)(b)$/\n x${1}y$2 z\n",
		"/^(a)(b)$/\n x${1}y$2\n z\n",
		"/^(a)(b)$/\n\tx${1}y$2\n# comment\n z\n",
		"/^(a)(b)$/\n x${1}y$2\n\n z\n",
	};
	const struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		for (int t = T_REGEXP; t <= T_PCRE; t++) {
			struct err err;
			struct dict *dict;
			const char *value;

			dict = open_table(fx, type_names[t], tables[i], &err);
			assert_non_null(dict);
			assert_int_equal(dict_lookup(dict, "AB", &value, &err),
					 DICT_FOUND);
			assert_string_equal(value, "xAyB z");
			dict_close(&dict);
		}
	}
}

/* One table answers many keys; each result is right for its key. */
static void
test_results_per_lookup(void **state)
{
	const struct fixture *fx = *state;
	struct dict *dict;
	struct err err;
	const char *value;

	dict = open_table(fx, "pcre", "/^(.*)@(.*)$/ ${2}!$1\n/x/ $$\n",
			  &err);
	assert_non_null(dict);
	assert_int_equal(dict_lookup(dict, "u@d", &value, &err), DICT_FOUND);
	assert_string_equal(value, "d!u");
	assert_int_equal(dict_lookup(dict, "User@Example.COM", &value, &err),
			 DICT_FOUND);
	assert_string_equal(value, "Example.COM!User");
	assert_int_equal(dict_lookup(dict, "x", &value, &err), DICT_FOUND);
	assert_string_equal(value, "$");
	assert_int_equal(dict_lookup(dict, "q", &value, &err), DICT_NOTFOUND);
	assert_null(value);
	dict_close(&dict);
}

static void
test_lookup_errors(void **state)
{
	const struct fixture *fx = *state;
	struct dict *dict;
	struct err err;
	const char *value;
	char *key;
	char *expect;

	/* PCRE2 gives up past a match limit: an error, not "not found". */
	dict = open_table(fx, "pcre", "/(*LIMIT_MATCH=1)(a|b)*c/ x\n", &err);
	assert_non_null(dict);
	assert_int_equal(dict_lookup(dict, "abc", &value, &err), DICT_ERROR);
	expect = expand_at("pcre:@, line 1: matching error -47: match limit "
			   "exceeded",
			   fx->path);
	assert_string_equal(err.text, expect);
	free(expect);
	dict_close(&dict);

	/* A result that grows past DICT_MAX_VALUE_LEN. */
	dict = open_table(fx, "regexp",
			  "/(.*)/ $1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1\n",
			  &err);
	assert_non_null(dict);
	key = xmalloc(60001);
	memset(key, 'k', 60000);
	assert_int_equal(dict_lookup(dict, key, &value, &err), DICT_ERROR);
	expect = expand_at("regexp:@, line 1: result longer than 1048576 "
			   "bytes",
			   fx->path);
	assert_string_equal(err.text, expect);
	free(expect);
	key[10] = 0;
	assert_int_equal(dict_lookup(dict, key, &value, &err), DICT_FOUND);
	assert_int_equal(strlen(value), 200);
	free(key);
	dict_close(&dict);
}

static void
test_limits_and_modes(void **state)
{
	const struct fixture *fx = *state;
	struct strbuf *big = strbuf_create(STRBUF_UNLIMITED);
	struct dict *dict;
	struct err err;
	char *expect;
	char spec[400];

	/* A pattern past DICT_PATTERN_MAX_LEN, built of continuations. */
	strbuf_append_char(big, '/');
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 30000; j++)
			strbuf_append_char(big, 'a');
		strbuf_append_str(big, "\n ");
	}
	strbuf_append_str(big, "/ x\n");
	assert_null(open_table(fx, "regexp", strbuf_text(big), &err));
	expect = expand_at("@, line 1: regexp longer than 65536 bytes",
			   fx->path);
	assert_string_equal(err.text, expect);
	free(expect);
	strbuf_destroy(&big);

	/* Read-only types. */
	write_table(fx, "/a/ b\n");
	snprintf(spec, sizeof(spec), "regexp:%s", fx->path);
	assert_null(dict_open(spec, O_RDWR, 0, &err));
	expect = expand_at("regexp:@ map requires O_RDONLY access mode",
			   fx->path);
	assert_string_equal(err.text, expect);
	free(expect);

	/* Groups nested deeper than either engine accepts. */
	big = strbuf_create(STRBUF_UNLIMITED);
	strbuf_append_str(big, "/");
	for (int i = 0; i < 300; i++)
		strbuf_append_char(big, '(');
	strbuf_append_char(big, 'a');
	for (int i = 0; i < 300; i++)
		strbuf_append_char(big, ')');
	strbuf_append_str(big, "/ x\n");
	assert_null(open_table(fx, "regexp", strbuf_text(big), &err));
	expect = expand_at("@, line 1: regular expression nested deeper than "
			   "250 levels",
			   fx->path);
	assert_string_equal(err.text, expect);
	free(expect);
	assert_null(open_table(fx, "pcre", strbuf_text(big), &err));
	expect = expand_at("@, line 1: error in regex at offset 251: "
			   "parentheses are too deeply nested",
			   fx->path);
	assert_string_equal(err.text, expect);
	free(expect);
	strbuf_destroy(&big);

	/* An inline rule past the logical line limit. */
	big = strbuf_create(STRBUF_UNLIMITED);
	strbuf_append_str(big, "regexp:{ {/a/ ");
	for (int i = 0; i < LINE_READER_MAX_LOGICAL; i++)
		strbuf_append_char(big, 'x');
	strbuf_append_str(big, "} }");
	assert_null(dict_open(strbuf_text(big), O_RDONLY, 0, &err));
	assert_int_equal(strncmp(err.text, "{ {/a/ xxx", 10), 0);
	assert_int_equal(strlen(err.text), ERR_TEXT_MAX - 1);
	strbuf_destroy(&big);

	/* Missing file. */
	assert_null(dict_open("pcre:/nonexistent/table", O_RDONLY, 0, &err));
	assert_string_equal(err.text, "open /nonexistent/table: No such file "
				      "or directory");

	/* DICT_FLAG_NO_REGSUB: $N is refused, $$ still works. */
	assert_null(dict_open("regexp:{ {/(a)/ $1} }", O_RDONLY,
			      DICT_FLAG_NO_REGSUB, &err));
	assert_string_equal(err.text, "{ {/(a)/ $1} }, line 1: regular "
				      "expression substitution is not allowed");
	dict = dict_open("regexp:{ {/(a)/ $$1} }", O_RDONLY,
			 DICT_FLAG_NO_REGSUB, &err);
	assert_non_null(dict);
	dict_close(&dict);

	/* Pattern tables never fold the key, even when asked to. */
	dict = dict_open("regexp:{ {/^(.*)$/i $1} }", O_RDONLY,
			 DICT_FLAG_FOLD_FIX, &err);
	assert_non_null(dict);
	assert_false(dict->flags & DICT_FLAG_FOLD_FIX);
	assert_true(dict->flags & DICT_FLAG_PATTERN);
	dict_close(&dict);
}

static void
test_unsupported_operations(void **state)
{
	struct dict *dict;
	struct err err;

	(void)state;
	dict = dict_open("pcre:{ {/a/ b} }", O_RDONLY, 0, &err);
	assert_non_null(dict);
	assert_int_equal(dict_update(dict, "a", "b", &err), DICT_ERROR);
	assert_string_equal(err.text, "pcre:{ {/a/ b} }: update is not "
				      "supported by pcre tables");
	dict_close(&dict);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_inline_rules),
		cmocka_unit_test(test_rule_in_pieces),
		cmocka_unit_test(test_results_per_lookup),
		cmocka_unit_test(test_lookup_errors),
		cmocka_unit_test(test_limits_and_modes),
		cmocka_unit_test(test_unsupported_operations),
	};

	return cmocka_run_group_tests_name("dict_regexp", tests, setup,
					   teardown);
}
