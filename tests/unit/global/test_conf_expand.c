/*
 * test_conf_expand.c - unit tests for the $name expansion language.
 *
 * A table of expansions covering every form, each checked against Postfix
 * 3.7.11's answer for the same text, read both as text and as a parameter;
 * then recursion, nesting and size limits, undefined names, a failing
 * provider, the reference scanner and compatibility-level comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../stderr_capture.h"

#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/conf_expand.h"
#include "global/mail_conf.h"

/*
 * Expansion. The expected values are Postfix 3.7.11's for the same text,
 * with main.cf "a = $nosuch", "b = yes", "e =" (observed through
 * syslog_name, which postlog prints unchanged).
 */

struct expand_case {
	const char *text;
	const char *expect; /* NULL: error expected */
	const char *error;
};

static const struct expand_case expand_cases[] = {
	{"plain text", "plain text", NULL},
	{"", "", NULL},
	{"x$nosuch", "x", NULL},
	{"x$$", "x$", NULL},
	{"$$$$mail_name", "$$mail_name", NULL},
	{"x$(mail_name)|${mail_name}|$mail_name.x", "xPostfix|Postfix|Postfix.x",
	 NULL},
	{"x${mail_name}}", "xPostfix}", NULL},
	{"x$mail_name-x$mail_name_x", "xPostfix-x", NULL},
	{"x${ mail_name }", "xPostfix", NULL},
	{"x${  mail_name  }x", "xPostfixx", NULL},
	{"x$b", "xyes", NULL},
	{"x$a|$e|", "x||", NULL},
	/* ${name?value} and ${name:value} test the raw value. */
	{"x${nosuch?x}|${nosuch:y}|${mail_name?x}|${mail_name:y}", "x|y|x|", NULL},
	{"x${proxy_interfaces?x}|${proxy_interfaces:y}", "x|y", NULL},
	{"x${a?x}|${a:y}|${e?x}|${e:y}", "xx|||y", NULL},
	{"x${mail_name?}|${mail_name:}", "x|", NULL},
	{"x${mail_name?a}b}", "xab}", NULL},
	{"x${mail_name?$mail_name}", "xPostfix", NULL},
	{"x${mail_name?  a  }x", "x  a  x", NULL},
	{"x${nosuch:  b  }x", "x  b  x", NULL},
	{"x${mail_name?a:b}", "xa:b", NULL},
	{"x${nosuch?a:b}", "x", NULL},
	{"x${mail_name:a?b}", "x", NULL},
	/* ${name?{value}:{value}} */
	{"x${mail_name?{A B}:{C D}}|${nosuch?{A}:{B}}", "xA B|B", NULL},
	{"x${mail_name?{x}}", "xx", NULL},
	{"x${mail_name?{a}:b}", "xa", NULL},
	{"x${nosuch?{a}:b}", "xb", NULL},
	{"x${nosuch?{a} : {b}}", "xb", NULL},
	{"x${nosuch ? {a} : {b}}", "xb", NULL},
	{"x${mail_name?{  a  }}x", "x  a  x", NULL},
	{"x${nosuch?{a}:{  c  }}x", "x  c  x", NULL},
	{"x${nosuch?{a}:  c  }x", "x  c  x", NULL},
	{"x${nosuch?{a}: }x", "x x", NULL},
	{"x${mail_name?{a}:}x", "xax", NULL},
	{"x${nosuch?{a}:}x", "xx", NULL},
	{"x${mail_name?{a}  }", "xa", NULL},
	{"x${mail_name?{a{b}c}}", "xa{b}c", NULL},
	{"x$(mail_name?(a))x", "x(a)x", NULL},
	{"x${nosuch?{$nosuch2}:{$mail_name}}", "xPostfix", NULL},
	/* ${{text} op {text} ? {a} : {b}} */
	{"x${{3.6} <level {2} ? {lt} : {ge}}|${{10} < {9} ? {lt} : {ge}}|"
	 "${{abc} == {abc} ? {eq} : {ne}}",
	 "xge|ge|eq", NULL},
	{"x${{a} != {b} ? {x}:{y}}", "xx", NULL},
	{"x${{a}=={b}?{x}:{y}}", "xy", NULL},
	{"x${{$mail_name} == {Postfix} ? {$mail_name yes} : {no}}", "xPostfix yes",
	 NULL},
	{"x${{abc} < {abd} ? {x} : {y}}", "xx", NULL},
	{"x${{2} <level {3.6} ? {x} : {y}}", "xx", NULL},
	{"x${{3.6} ==level {3.6.0} ? {x} : {y}}", "xx", NULL},
	{"x${{3.10} <level {3.9} ? {x} : {y}}", "xy", NULL},
	{"x${{3.6.1} >level {3.6} ? {x} : {y}}", "xx", NULL},
	{"x${{0} <level {1} ? {x} : {y}}", "xx", NULL},
	{"x${{1} <level {1.0.0} ? {x} : {y}}", "xy", NULL},
	{"x${{3.6} <=level {3.6} ? {x} : {y}}|${{3.6} !=level {3.6.0} ? {x} "
	 ": {y}}|${{3.7} >=level {3.6} ? {x} : {y}}",
	 "xx|y|x", NULL},
	{"x${{a} == {a} ? {x}}", "xx", NULL},
	{"x${{a} == {b} ? {x}}", "x", NULL},
	{"x${{a} == {a}}", "xtrue", NULL},
	{"x${{a} == {b}}", "x", NULL},
	{"x${{ a } == {a} ? {x} : {y}}", "xy", NULL},
	{"x${{ 10 } == {10} ? {x} : {y}}", "xy", NULL},
	{"x${{10} <= {10} ? {x} : {y}}|${{10} >= {9} ? {x} : {y}}|"
	 "${{10} > {9} ? {x} : {y}}|${{010} == {10} ? {x} : {y}}",
	 "xx|x|x|x", NULL},
	{"x${{-1} < {2} ? {x} : {y}}", "xx", NULL},
	{"x${{+1} == {1} ? {x}:{y}}", "xy", NULL},
	{"x${{ } == {} ? {x}:{y}}", "xy", NULL},
	{"x${{a} == {a} ?}", "x", NULL},
	{"x${{a} == {a} ? {x} :}", "xx", NULL},
	{"x${{a} == {a} ? {${{b}=={b}?{in}:{out}}} : {y}}", "xin", NULL},
	{"x${{a} == {a} ? {  t  } : {f}}x", "x  t  x", NULL},
	{"x${{a} == {b} ? {t} :   f  }x", "x   f  x", NULL},
	{"x${{a} == {a} ?   t  }x", "x   t  x", NULL},
	{"x${{a} == {a} ? x : y}", "x x : y", NULL},
	{"x${{a} == {b} ? x : y}", "x", NULL},
	{"x${{a} == {a} ? {t}   }x", "xtx", NULL},
	{"x${{a}  ==  {a}  ?  {x}  :  {y}  }", "xx", NULL},
	{"x${{a} == {b} : {y}}|${{a} == {a} : {y}}|${{a} == {b} :y}", "xy||y",
	 NULL},
	{"x${{$a} == {} ? {e}:{ne}}", "xe", NULL},
	{"x${{$b} == {yes} ? {Y} : {N}}", "xY", NULL},
	{"${{$compatibility_level} <level {2} ? {subnet} : {host}}", "subnet",
	 NULL},
	/* Errors: Postfix rejects each of these too. */
	{"x$", NULL, "missing parameter name after '$' in \"x$\""},
	{"x$-x", NULL, "missing parameter name after '$' in \"x$-x\""},
	{"$ x", NULL, "missing parameter name after '$' in \"$ x\""},
	{"x${}", NULL, "missing parameter name in \"x${}\""},
	{"x$()", NULL, "missing parameter name in \"x$()\""},
	{"x${?a}", NULL, "missing parameter name in \"x${?a}\""},
	{"x${mail_name", NULL, "missing '}' in \"x${mail_name\""},
	{"x$(mail_name", NULL, "missing ')' in \"x$(mail_name\""},
	{"x${mail_name x}", NULL, "bad parameter name syntax at \" x\""},
	{"x${mail-name}x", NULL, "bad parameter name syntax at \"-name\""},
	{"x${mail_name?{a}:{b}:{c}}", NULL, "unexpected text at \":{c}\""},
	{"x${nosuch:{a}:{b}}", NULL, "unexpected text at \":{b}\""},
	{"x${nosuch:{a}x}x", NULL, "unexpected text at \"x\""},
	{"x${mail_name?{a}x}", NULL, "':' expected at \"x\""},
	{"x${mail_name?{a}:{b}x}", NULL, "unexpected text at \"x\""},
	{"x${mail_name?{a}", NULL, "missing '}' in \"x${mail_name?{a}\""},
	{"x${mail_name?{a}:{b}", NULL, "missing '}' in \"x${mail_name?{a}:{b}\""},
	{"x$(mail_name?{a)})x", NULL, "missing '}' at \"{a\""},
	{"x$(nosuch?{a}:{b)})x", NULL, "missing '}' at \"{b\""},
	{"x${{a} ==level {b} ? {x} : {y}}", NULL,
	 "malformed compatibility level: \"a\""},
	{"x${{3.6a} ==level {1} ? {x}:{y}}", NULL,
	 "malformed compatibility level: \"3.6a\""},
	{"x${{1} <level {} ? {x}:{y}}", NULL,
	 "malformed compatibility level: \"\""},
	{"x${{a}==b ? {x} : {y}}", NULL,
	 "bad operator suffix at \"b ? {x} : {y}\""},
	{"x${{a} ==lvl {a}}", NULL, "bad operator suffix at \"lvl {a}\""},
	{"x${{99999999999999999999} == {1} ? {x} : {y}}", NULL,
	 "number out of range: \"99999999999999999999\""},
	{"x${{1} == {99999999999999999999}}", NULL,
	 "number out of range: \"99999999999999999999\""},
	{"x${{a}} x", NULL,
	 "\"==\", \"!=\", \"<\", \"<=\", \">\" or \">=\" expected at end of "
	 "\"x${{a}} x\""},
	{"x${{a} =~ {a}}", NULL,
	 "\"==\", \"!=\", \"<\", \"<=\", \">\" or \">=\" expected at \"=~ "
	 "{a}\""},
	{"x${{a} < }", NULL, "\"{text}\" expected at end of \"x${{a} < }\""},
	{"x${{a} < b}", NULL, "\"{text}\" expected at \"b\""},
	{"x${{a} < {b}", NULL, "missing '}' in \"x${{a} < {b}\""},
	{"x${{a}", NULL, "missing '}' in \"x${{a}\""},
	{"x$({a) == {a}}", NULL, "missing '}' at \"{a\""},
	{"x$({a} == {a)}", NULL, "missing '}' at \"{a\""},
	{"x${{a} == {a} ? {x} junk}", NULL, "':' expected at \"junk\""},
	{"x${{a} == {a} x}", NULL, "'?' or ':' expected at \"x\""},
	{"x${{a} == {a} ? {x} : {y} : {z}}", NULL, "unexpected text at \": {z}\""},
	{"x${{a} == {b} : {y} {z}}", NULL, "unexpected text at \"{z}\""},
	/* An error in a chosen branch counts; in the other one it does not. */
	{"${mail_name?{$}}", NULL,
	 "missing parameter name after '$' in "
	 "\"${mail_name?{$}}\""},
	{"${nosuch?{$}}", "", NULL},
	{"${{a} == {b} ? {$} : {ok}}", "ok", NULL},
	{"$bad", NULL, "parameter bad: missing '}' in \"${x\""},
	{"${bad?set}", "set", NULL},
	{"${{$bad} == {}}", NULL, "parameter bad: missing '}' in \"${x\""},
};

static struct mail_conf *
expand_conf(void)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");

	mail_conf_set(conf, "a", "$nosuch");
	mail_conf_set(conf, "b", "yes");
	mail_conf_set(conf, "e", "");
	mail_conf_set(conf, "bad", "${x");
	return conf;
}

static void
test_expand_table(void **state)
{
	struct mail_conf *conf = expand_conf();
	struct strbuf out;
	struct err err;

	(void)state;
	strbuf_init(&out, MAIL_CONF_MAX_VALUE);
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]);
	     i++) {
		const struct expand_case *c = &expand_cases[i];
		int ret;

		strbuf_reset(&out);
		err_clear(&err);
		ret = mail_conf_expand(conf, c->text, &out, &err);
		if (c->expect != NULL) {
			if (ret != 0)
				fail_msg("\"%s\": %s", c->text, err.text);
			assert_string_equal(strbuf_text(&out), c->expect);
		} else {
			if (ret == 0)
				fail_msg("\"%s\" gave \"%s\"", c->text,
					 strbuf_text(&out));
			assert_string_equal(err.text, c->error);
		}
	}
	strbuf_deinit(&out);
	mail_conf_destroy(&conf);
}

/* The same values read through mail_conf_get: errors name the parameter. */
static void
test_expand_through_get(void **state)
{
	struct mail_conf *conf = expand_conf();
	struct err err;
	const char *value;

	(void)state;
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]);
	     i++) {
		const struct expand_case *c = &expand_cases[i];
		char *expect;

		mail_conf_set(conf, "t", c->text);
		if (c->expect != NULL) {
			assert_int_equal(mail_conf_get(conf, "t", &value, &err),
					 0);
			assert_string_equal(value, c->expect);
			continue;
		}
		assert_int_equal(mail_conf_get(conf, "t", &value, &err), -1);
		expect = strncmp(c->error, "parameter ", 10) == 0
			     ? xstrdup(c->error)
			     : xasprintf("parameter t: %s", c->error);
		assert_string_equal(err.text, expect);
		free(expect);
	}
	mail_conf_destroy(&conf);
}

struct recursion_case {
	const char *settings[8]; /* name, value pairs, then NULL */
	const char *name;
	const char *error;
};

static void
test_expand_recursion(void **state)
{
	static const struct recursion_case cases[] = {
		{{"a", "$a"}, "a", "parameter a: recursion: a -> a"},
		{{"a", "x${a}y"}, "a", "parameter a: recursion: a -> a"},
		{{"a", "$b", "b", "$a"},
		 "a",
		 "parameter b: recursion: a -> b -> a"},
		{{"a", "$b", "b", "$c", "c", "$b"},
		 "a",
		 "parameter c: recursion: b -> c -> b"},
		{{"a", "${{$b} == {x}}", "b", "${b?{$b}}"},
		 "a",
		 "parameter b: recursion: b -> b"},
		{{"mynetworks_style", "$mynetworks"},
		 "mynetworks",
		 "parameter mynetworks: default value depends on itself"},
	};
	struct err err;
	const char *value;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_conf *conf = mail_conf_create("/nonexistent");

		for (size_t j = 0; cases[i].settings[j] != NULL; j += 2)
			mail_conf_set(conf, cases[i].settings[j],
				      cases[i].settings[j + 1]);
		assert_int_equal(
		    mail_conf_get(conf, cases[i].name, &value, &err), -1);
		assert_string_equal(err.text, cases[i].error);
		mail_conf_destroy(&conf);
	}
}

/* A self-reference that is only tested, never expanded, is fine. */
static void
test_expand_self_test_is_fine(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	const char *value;

	(void)state;
	mail_conf_set(conf, "a", "x${a?{set}}");
	assert_int_equal(mail_conf_get(conf, "a", &value, NULL), 0);
	assert_string_equal(value, "xset");
	mail_conf_destroy(&conf);
}

/* Set n0 = $n1, ..., n(count-1) = end. */
static struct mail_conf *
chain_conf(int count)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	char name[16], value[16];

	for (int i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(value, sizeof(value), "$n%d", i + 1);
		mail_conf_set(conf, name, i + 1 < count ? value : "end");
	}
	return conf;
}

static void
test_expand_depth_limit(void **state)
{
	struct mail_conf *conf;
	struct strbuf out;
	struct err err;
	const char *value;

	(void)state;
	/* As Postfix: 100 nested references work, 101 do not. */
	strbuf_init(&out, MAIL_CONF_MAX_VALUE);
	conf = chain_conf(MAIL_CONF_MAX_DEPTH);
	assert_int_equal(mail_conf_expand(conf, "$n0", &out, &err), 0);
	assert_string_equal(strbuf_text(&out), "end");
	assert_int_equal(mail_conf_get(conf, "n0", &value, &err), 0);
	mail_conf_destroy(&conf);

	/* A parameter's own value is level 0, like the text above. */
	conf = chain_conf(MAIL_CONF_MAX_DEPTH + 1);
	strbuf_reset(&out);
	assert_int_equal(mail_conf_expand(conf, "$n0", &out, &err), -1);
	assert_string_equal(err.text, "parameter n99: expansion nested deeper "
				      "than 100 levels at $n100");
	assert_int_equal(mail_conf_get(conf, "n0", &value, &err), 0);
	assert_string_equal(value, "end");
	mail_conf_destroy(&conf);

	conf = chain_conf(MAIL_CONF_MAX_DEPTH + 2);
	assert_int_equal(mail_conf_get(conf, "n0", &value, &err), -1);
	assert_string_equal(err.text, "parameter n100: expansion nested "
				      "deeper than 100 levels at $n101");
	mail_conf_destroy(&conf);
	strbuf_deinit(&out);
}

/* "${mail_name?" (or "${mail_name?{") count times, "x", then closers. */
static char *
nested_text(int count, bool is_braced)
{
	struct strbuf sb;
	char *text;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	for (int i = 0; i < count; i++)
		strbuf_append_str(&sb,
				  is_braced ? "${mail_name?{" : "${mail_name?");
	strbuf_append_char(&sb, 'x');
	for (int i = 0; i < count; i++)
		strbuf_append_str(&sb, is_braced ? "}}" : "}");
	text = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return text;
}

static void
test_expand_nested_branches(void **state)
{
	/* Postfix 3.7 takes 100 nested conditionals and refuses 101. */
	static const struct {
		int count;
		bool is_braced;
		int expect;
	} cases[] = {
		{1, false, 0},      {100, false, 0}, {101, false, -1},
		{100, true, 0},     {101, true, -1}, {100000, false, -1},
		{100000, true, -1},
	};
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	struct strbuf out;
	struct err err;

	(void)state;
	strbuf_init(&out, MAIL_CONF_MAX_VALUE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = nested_text(cases[i].count, cases[i].is_braced);

		strbuf_reset(&out);
		assert_int_equal(mail_conf_expand(conf, text, &out, &err),
				 cases[i].expect);
		if (cases[i].expect == 0)
			assert_string_equal(strbuf_text(&out), "x");
		else
			assert_non_null(strstr(err.text, "expansion nested "
							 "deeper than 100 "
							 "levels at \""));
		free(text);
	}
	/* Operands count as well (Postfix does not limit those). */
	for (int count = 99; count <= 101; count++) {
		struct strbuf text;

		strbuf_init(&text, STRBUF_UNLIMITED);
		for (int i = 0; i < count; i++)
			strbuf_append_str(&text, "${{");
		strbuf_append_char(&text, 'x');
		for (int i = 0; i < count; i++)
			strbuf_append_str(&text, i == 0 ? "} == {x}}"
							: "} == {true}}");
		strbuf_reset(&out);
		assert_int_equal(
		    mail_conf_expand(conf, strbuf_text(&text), &out, &err),
		    count <= 100 ? 0 : -1);
		if (count <= 100)
			assert_string_equal(strbuf_text(&out), "true");
		strbuf_deinit(&text);
	}
	strbuf_deinit(&out);
	mail_conf_destroy(&conf);
}

static void
test_expand_size_limit(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	char name[16], value[32];
	struct strbuf out;
	struct err err;
	const char *result;

	(void)state;
	/* d0 is 2^0 bytes, d1 2^1, ..., d20 is 1 MiB; d21 is too much. */
	mail_conf_set(conf, "d0", "x");
	for (int i = 1; i <= 21; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		snprintf(value, sizeof(value), "$d%d$d%d", i - 1, i - 1);
		mail_conf_set(conf, name, value);
	}
	assert_int_equal(mail_conf_get(conf, "d20", &result, &err), 0);
	assert_int_equal(strlen(result), MAIL_CONF_MAX_VALUE);
	assert_int_equal(mail_conf_get(conf, "d21", &result, &err), -1);
	assert_string_equal(err.text, "parameter d21: expanded value longer "
				      "than 1048576 bytes");
	/* The caller's buffer limit applies to plain text as well. */
	strbuf_init(&out, 4);
	assert_int_equal(mail_conf_expand(conf, "abcde", &out, &err), -1);
	assert_string_equal(err.text, "expanded value longer than 4 bytes");
	strbuf_reset(&out);
	assert_int_equal(mail_conf_expand(conf, "${d2}x", &out, &err), -1);
	assert_string_equal(err.text, "expanded value longer than 4 bytes");
	assert_int_equal(mail_conf_expand(conf, "${{$d3} == {}}", &out, &err),
			 -1);
	assert_string_equal(err.text,
			    "parameter d3: expanded value longer than 4 bytes");
	strbuf_deinit(&out);
	mail_conf_destroy(&conf);
}

static void
test_undefined_warnings(void **state)
{
	struct mail_conf *conf = mail_conf_create("/cfg");
	struct capture cap;
	struct strbuf out;
	char *log;

	(void)state;
	strbuf_init(&out, 100);
	capture_start(&cap);
	assert_int_equal(mail_conf_expand(conf, "$nosuch", &out, NULL), 0);
	mail_conf_warn_undefined(conf, true);
	assert_int_equal(
	    mail_conf_expand(conf, "$nosuch $mail_name ${other:x}", &out, NULL),
	    0);
	log = capture_end(&cap);
	assert_string_equal(strbuf_text(&out), " Postfix x");
	assert_string_equal(log, "postern: warning: /cfg/main.cf: undefined "
				 "parameter: nosuch\n"
				 "postern: warning: /cfg/main.cf: undefined "
				 "parameter: other\n");
	free(log);
	strbuf_deinit(&out);
	mail_conf_destroy(&conf);
}

/*
 * The engine on its own, with a table for a provider.
 */

struct table_provider {
	const char *const *pairs; /* name, value, ..., NULL */
	const char *failing;      /* lookups of this name fail */
	int lookups;
};

static int
table_lookup(void *ctx, const char *name, const char **value_out,
	     struct err *err)
{
	struct table_provider *tp = ctx;

	tp->lookups++;
	if (tp->failing != NULL && strcmp(name, tp->failing) == 0) {
		err_set(err, "lookup of %s failed", name);
		return -1;
	}
	for (size_t i = 0; tp->pairs[i] != NULL; i += 2) {
		if (strcmp(tp->pairs[i], name) == 0) {
			*value_out = tp->pairs[i + 1];
			return 1;
		}
	}
	return 0;
}

static void
test_engine_provider(void **state)
{
	static const char *const pairs[] = {
		"a", "[$b$b$b]", "b", "${c?{$c}}", "c", "x", "f", "$broken", NULL,
	};
	struct table_provider tp = {pairs, "broken", 0};
	const struct conf_expand_ops ops = {table_lookup, &tp, 4};
	struct strbuf out;
	struct err err;

	(void)state;
	strbuf_init(&out, 100);
	assert_int_equal(conf_expand(&ops, NULL, "$a", &out, &err), 0);
	assert_string_equal(strbuf_text(&out), "[xxx]");
	/* a, b (and the test of c), c: each name is looked up once. */
	assert_int_equal(tp.lookups, 4);
	/* Provider errors come through as the provider worded them. */
	strbuf_reset(&out);
	assert_int_equal(conf_expand(&ops, "top", "1$f", &out, &err), -1);
	assert_string_equal(err.text, "lookup of broken failed");
	assert_int_equal(conf_expand(&ops, "top", "${broken?x}", &out, NULL),
			 -1);
	/* The depth limit comes from the ops; err may be NULL. */
	strbuf_reset(&out);
	assert_int_equal(conf_expand(&ops, "top", "$a", &out, &err), 0);
	assert_int_equal(
	    conf_expand(&ops, "top", "${c?{${c?{$a}}}}", &out, &err), -1);
	assert_string_equal(err.text, "parameter b: expansion nested deeper "
				      "than 4 levels at \"$c\"");
	assert_int_equal(conf_expand(&ops, NULL, "$", &out, NULL), -1);
	strbuf_deinit(&out);
}

static void
collect(const char *name, size_t len, void *ctx)
{
	struct strbuf *sb = ctx;

	strbuf_append(sb, name, len);
	strbuf_append_char(sb, '|');
}

static void
test_engine_refs(void **state)
{
	static const struct {
		const char *text;
		const char *expect;
	} cases[] = {
		{"", ""},
		{"plain", ""},
		{"$a $b_1.x", "a|b_1|"},
		{"${ c } $(d) $$e $", "c|d|"},
		{"${f?{$g}:{$h}} ${{$i} == {$j} ? {$k}}", "f|g|h|i|j|k|"},
		{"${l", ""},
		{"$a ${b?$c} $(d $e", "a|b|c|"},
		{"$-x ${} $( )", ""},
	};
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, STRBUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		conf_expand_refs(cases[i].text, collect, &sb);
		assert_string_equal(strbuf_text(&sb), cases[i].expect);
	}
	strbuf_deinit(&sb);
}

static void
test_engine_levels(void **state)
{
	static const struct {
		const char *left, *right;
		int cmp; /* -1, 0, 1, or 2 for an error */
	} cases[] = {
		{"0", "0", 0},          {"2", "3.6", -1},
		{"3.6", "3.6.0", 0},    {"3.10", "3.9", 1},
		{"3.6.1", "3.6", 1},    {"10", "9", 1},
		{"1.2.3", "1.2.4", -1}, {"", "1", 2},
		{"1", "", 2},           {"3.6a", "1", 2},
		{"1.2.3.4", "1", 2},    {"1.", "1", 2},
		{".1", "1", 2},         {"-1", "1", 2},
		{"1 ", "1", 2},         {"99999999999999999999999", "1", 2},
	};
	struct err err;
	int cmp;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = conf_compare_levels(cases[i].left, cases[i].right,
					      &cmp, &err);

		if (cases[i].cmp == 2) {
			const char *bad =
			    conf_compare_levels(cases[i].left, "0", &cmp,
						NULL) < 0
				? cases[i].left
				: cases[i].right;
			char *expect = xasprintf("malformed compatibility "
						 "level: \"%s\"",
						 bad);

			assert_int_equal(ret, -1);
			assert_string_equal(err.text, expect);
			free(expect);
			continue;
		}
		assert_int_equal(ret, 0);
		assert_int_equal(cmp < 0 ? -1 : cmp > 0, cases[i].cmp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_table),
		cmocka_unit_test(test_expand_through_get),
		cmocka_unit_test(test_expand_recursion),
		cmocka_unit_test(test_expand_self_test_is_fine),
		cmocka_unit_test(test_expand_depth_limit),
		cmocka_unit_test(test_expand_nested_branches),
		cmocka_unit_test(test_expand_size_limit),
		cmocka_unit_test(test_undefined_warnings),
		cmocka_unit_test(test_engine_provider),
		cmocka_unit_test(test_engine_refs),
		cmocka_unit_test(test_engine_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
