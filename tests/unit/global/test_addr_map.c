/*
 * test_addr_map.c - unit tests for canonical mapping, virtual alias
 * expansion, masquerading and table lists (global/addr_map.h, maps.h).
 *
 * Golden data: the results below are what Debian's Postfix 3.7 cleanup
 * wrote into queue files (postcat -q) for the same texthash tables, with
 * recipient_delimiter = +, mydestination and myorigin = example.com, and
 * the warnings it logged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/argv.h"
#include "util/dict.h"
#include "util/mymalloc.h"

#include "global/addr_map.h"
#include "global/maps.h"

static int
is_local(const char *domain, void *ctx, struct err *err)
{
	(void)ctx;
	if (strcmp(domain, "broken.example") == 0) {
		err_set(err, "mydestination: lookup failed");
		return -1;
	}
	return strcmp(domain, "example.com") == 0;
}

static struct addr_map_ctx
ctx_make(const char *delim)
{
	return (struct addr_map_ctx){ .recipient_delimiter = delim,
				      .is_local_domain = is_local,
				      .warnings = argv_create() };
}

struct canon_case {
	const char *table;
	const char *in;
	bool want_propagate;
	int status;
	const char *out;     /* the address, or err text on failure */
	const char *warning; /* or NULL */
};

static const struct canon_case canon_cases[] = {
	/* user@domain, extension propagated */
	{ "inline:{a@example.com=x@y.org}", "a+ext@example.com", true,
	  ADDR_MAP_OK, "x+ext@y.org", NULL },
	{ "inline:{a@example.com=x@y.org}", "a+ext@example.com", false,
	  ADDR_MAP_OK, "x@y.org", NULL },
	/* user only for local domains */
	{ "inline:{b=c@d.org}", "b+q@example.com", true, ADDR_MAP_OK,
	  "c+q@d.org", NULL },
	{ "inline:{b=c@d.org}", "b@nowhere.org", true, ADDR_MAP_OK,
	  "b@nowhere.org", NULL },
	{ "inline:{b=c@d.org}", "b", true, ADDR_MAP_OK, "c@d.org", NULL },
	/* user@domain before user+ext */
	{ "inline:{b@example.com=X1@o.org, b+q=X2@o.org}", "b+q@example.com",
	  true, ADDR_MAP_OK, "X1+q@o.org", NULL },
	/* @domain: "@new" keeps the local part, no extension otherwise */
	{ "inline:{@other.net=@new.net}", "u+v@other.net", true, ADDR_MAP_OK,
	  "u+v@new.net", NULL },
	{ "inline:{@other.net=z@new.net}", "u+v@other.net", true, ADDR_MAP_OK,
	  "z@new.net", NULL },
	{ "inline:{@example.com=catch@x.org}", "who+1@example.com", true,
	  ADDR_MAP_OK, "catch@x.org", NULL },
	/* keys fold case; the result keeps it */
	{ "inline:{Up@Example.com=low@x.org}", "up@example.com", true,
	  ADDR_MAP_OK, "low@x.org", NULL },
	/* quoted results are unquoted */
	{ "inline:{ {sp@example.com=\"a b\"@x.org} }", "sp@example.com", true,
	  ADDR_MAP_OK, "a b@x.org", NULL },
	/* a list: the first one, with a warning */
	{ "inline:{{multi@example.com=m1@x.org, m2@x.org}}",
	  "multi@example.com", true, ADDR_MAP_OK, "m1@x.org",
	  "multi-valued test_maps entry for multi@example.com" },
	/* repeated to a fixed point */
	{ "inline:{ca@example.com=cb@example.com, cb@example.com=cc@x.org}",
	  "ca@example.com", true, ADDR_MAP_OK, "cc@x.org", NULL },
	{ "inline:{keep@example.com=keep@example.com}", "keep+e@example.com",
	  true, ADDR_MAP_OK, "keep+e@example.com", NULL },
	{ "inline:{p@x.org=q@x.org, q@x.org=p@x.org}", "p@x.org", true,
	  ADDR_MAP_LIMIT, "unreasonable test_maps map nesting for p@x.org",
	  NULL },
	/* failures */
	{ "fail:down", "a@x.org", true, ADDR_MAP_ERROR,
	  "fail:down lookup error for \"a@x.org\": ", NULL },
	{ "inline:{a=b}", "a@broken.example", true, ADDR_MAP_ERROR,
	  "mydestination: lookup failed", NULL },
	{ "nosuchtype:x", "a@x.org", true, ADDR_MAP_ERROR,
	  "nosuchtype:x lookup error for \"a@x.org\": unsupported dictionary "
	  "type: nosuchtype",
	  NULL },
};

static void
test_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]);
	     i++) {
		const struct canon_case *c = &canon_cases[i];
		struct maps *maps = maps_create("test_maps", c->table, 0);
		struct addr_map_ctx ac = ctx_make("+");
		char *addr = xstrdup(c->in);
		struct err err = { "" };
		int ret = addr_map_canonical(maps, &ac, &addr,
					     c->want_propagate, &err);

		if (ret != c->status)
			fail_msg("case %zu: status %d, want %d (%s)", i, ret,
				 c->status, err.text);
		if (ret == ADDR_MAP_OK)
			assert_string_equal(addr, c->out);
		else if (strncmp(err.text, c->out, strlen(c->out)) != 0)
			fail_msg("case %zu: err \"%s\"", i, err.text);
		if (c->warning != NULL) {
			assert_int_equal(ac.warnings->count, 1);
			assert_string_equal(ac.warnings->items[0], c->warning);
		} else {
			assert_int_equal(ac.warnings->count, 0);
		}
		free(addr);
		argv_destroy(&ac.warnings);
		maps_destroy(&maps);
	}
}

struct expand_case {
	const char *in;
	long expansion_limit;
	int status;
	const char *out; /* addresses joined by " ", or err text */
};

#define VIRTUAL_TABLE                                                          \
	"inline:{ {a@example.com=b@example.com, c@other.org},"                 \
	"{b@example.com=b@example.com, d@x.org, c@other.org},"                 \
	"x@example.com=y@example.com, y@example.com=x@example.com,"            \
	"@vd.org=catch@x.org, u@vd.org=u@vd.org, p@example.com=q@x.org,"       \
	"self@example.com=SELF@example.com,"                                   \
	"{sp@example.com=\"a b\"@x.org, \"c.d\"@x.org},"                       \
	"{big@example.com=b1@x.org, b2@x.org, b3@x.org, b4@x.org},"            \
	"{c@example.com=a1@example.com, c2@x.org},"                            \
	"{a1@example.com=a1@x.org, a2@x.org} }"

static const struct expand_case expand_cases[] = {
	{ "a@example.com", 1000, ADDR_MAP_OK,
	  "b@example.com c@other.org d@x.org" },
	{ "c@other.org", 1000, ADDR_MAP_OK, "c@other.org" },
	{ "z+t@vd.org", 1000, ADDR_MAP_OK, "catch@x.org" },
	{ "u+t@vd.org", 1000, ADDR_MAP_OK, "u+t@vd.org" },
	{ "p+t@example.com", 1000, ADDR_MAP_OK, "q+t@x.org" },
	{ "self@example.com", 1000, ADDR_MAP_OK, "SELF@example.com" },
	{ "sp@example.com", 1000, ADDR_MAP_OK, "a b@x.org c.d@x.org" },
	{ "c@example.com", 3, ADDR_MAP_OK, "a1@x.org c2@x.org a2@x.org" },
	{ "big@example.com", 3, ADDR_MAP_LIMIT,
	  "unreasonable virtual_alias_maps map expansion size for "
	  "big@example.com" },
	{ "x@example.com", 1000, ADDR_MAP_LIMIT,
	  "unreasonable virtual_alias_maps map nesting for x@example.com" },
};

static void
join(const struct argv *av, char *buf, size_t size)
{
	buf[0] = 0;
	for (size_t i = 0; i < av->count; i++) {
		if (i > 0)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, av->items[i], size - strlen(buf) - 1);
	}
}

static void
test_expand(void **state)
{
	struct maps *maps = maps_create("virtual_alias_maps", VIRTUAL_TABLE, 0);

	(void)state;
	assert_int_equal(maps_open_errors(maps)->count, 0);
	for (size_t i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]);
	     i++) {
		const struct expand_case *c = &expand_cases[i];
		struct addr_map_ctx ac = ctx_make("+");
		struct argv *out = argv_create();
		struct err err = { "" };
		char buf[512];
		int ret = addr_map_expand(maps, &ac, c->in, true, 1000,
					  c->expansion_limit, out, &err);

		if (ret != c->status)
			fail_msg("case %zu: status %d (%s)", i, ret, err.text);
		if (ret == ADDR_MAP_OK) {
			join(out, buf, sizeof(buf));
			assert_string_equal(buf, c->out);
		} else {
			assert_string_equal(err.text, c->out);
		}
		argv_destroy(&out);
		argv_destroy(&ac.warnings);
	}
	maps_destroy(&maps);
}

static void
test_expand_error(void **state)
{
	struct maps *maps = maps_create("virtual_alias_maps",
					"inline:{a@x.org=b@y.org} "
					"fail:gone",
					0);
	struct addr_map_ctx ac = ctx_make("");
	struct argv *out = argv_create();
	struct err err;

	(void)state;
	/* a is found in the first table; b reaches the failing one */
	assert_int_equal(addr_map_expand(maps, &ac, "a@x.org", true, 1000, 1000,
					 out, &err),
			 ADDR_MAP_ERROR);
	assert_true(strncmp(err.text, "fail:gone lookup error for \"b@y.org\"",
			    36) == 0);
	argv_destroy(&out);
	argv_destroy(&ac.warnings);
	maps_destroy(&maps);
}

/* Pattern tables see only the whole address. */
static void
test_pattern_whole_address(void **state)
{
	char dir[] = "/tmp/test_addr_map.XXXXXX";
	char path[128];
	char spec[160];
	FILE *fp;
	struct maps *maps;
	struct addr_map_ctx ac = ctx_make("+");
	char *addr;
	struct err err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/canonical", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("/^b$/ wrong@x.org\n/^(.*)@example\\.com$/ $1@rx.org\n", fp);
	fclose(fp);
	snprintf(spec, sizeof(spec), "regexp:%s", path);
	maps = maps_create("canonical_maps", spec, 0);
	assert_int_equal(maps_open_errors(maps)->count, 0);
	addr = xstrdup("b+q@example.com");
	assert_int_equal(addr_map_canonical(maps, &ac, &addr, true, &err),
			 ADDR_MAP_OK);
	assert_string_equal(addr, "b+q@rx.org");
	free(addr);
	addr = xstrdup("b@other.org");
	assert_int_equal(addr_map_canonical(maps, &ac, &addr, true, &err),
			 ADDR_MAP_OK);
	assert_string_equal(addr, "b@other.org");
	free(addr);
	maps_destroy(&maps);
	argv_destroy(&ac.warnings);
	unlink(path);
	rmdir(dir);
}

static void
test_maps_open_error(void **state)
{
	struct maps *maps =
		maps_create("canonical_maps", "inline:{a=b}, nosuchtype:/x", 0);
	const struct argv *errors = maps_open_errors(maps);
	const char *value;
	struct err err;

	(void)state;
	assert_string_equal(maps_title(maps), "canonical_maps");
	assert_false(maps_is_empty(maps));
	assert_int_equal(errors->count, 1);
	assert_string_equal(errors->items[0],
			    "nosuchtype:/x is unavailable. unsupported "
			    "dictionary type: nosuchtype");
	/* found before the broken table is reached */
	assert_int_equal(maps_find(maps, "a", false, &value, &err), DICT_FOUND);
	assert_string_equal(value, "b");
	assert_int_equal(maps_find(maps, "c", false, &value, &err), DICT_ERROR);
	maps_destroy(&maps);
	maps_destroy(&maps);
	maps = maps_create("x", "", 0);
	assert_true(maps_is_empty(maps));
	assert_int_equal(maps_find(maps, "c", false, &value, &err),
			 DICT_NOTFOUND);
	maps_destroy(&maps);
}

struct masq_case {
	const char *in;
	const char *out; /* NULL: unchanged */
};

static void
test_masquerade(void **state)
{
	static const struct masq_case cases[] = {
		{ "z@a.keep.example.com", NULL },
		{ "z@b.example.com", "z@example.com" },
		{ "z@B.Example.COM", "z@example.com" },
		{ "z@example.com", NULL },
		{ "z@xexample.com", NULL },
		{ "root@b.example.com", NULL },
		{ "z@other.org", NULL },
		{ "z", NULL },
	};
	struct argv *domains =
		argv_split("!keep.example.com, example.com", ", ");
	struct argv *exceptions = argv_split("root", ", ");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out =
			addr_map_masquerade(cases[i].in, domains, exceptions);

		if (cases[i].out == NULL)
			assert_null(out);
		else
			assert_string_equal(out, cases[i].out);
		free(out);
	}
	argv_destroy(&domains);
	argv_destroy(&exceptions);
}

static void
test_ext_offset(void **state)
{
	static const struct {
		const char *local;
		const char *delims;
		size_t want;
	} cases[] = {
		{ "a+b", "+", 1 },         { "ab", "+", 2 },
		{ "+ab", "+", 3 },         { "a+b-c", "-+", 1 },
		{ "owner-list", "-", 10 }, { "list-request", "-", 12 },
		{ "list-x", "-", 4 },      { "a+b", "", 3 },
		{ "a+b", NULL, 3 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(addr_map_ext_offset(cases[i].local,
						     strlen(cases[i].local),
						     cases[i].delims),
				 cases[i].want);
}

static void
test_parse_result(void **state)
{
	static const struct {
		const char *value;
		const char *want;
	} cases[] = {
		{ "a@x, \"b c\"@y", "a@x b c@y" },
		{ "Joe <j@x> (c, d), k@y", "j@x k@y" },
		{ "\"a,b\"@x", "a,b@x" },
		{ "a\\,b@x", "a,b@x" },
		{ "", "" },
		{ " , ,", "" },
		{ "@new.net", "@new.net" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct argv *out = argv_create();
		char buf[256];

		addr_map_parse_result(cases[i].value, out);
		join(out, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
		argv_destroy(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_error),
		cmocka_unit_test(test_pattern_whole_address),
		cmocka_unit_test(test_maps_open_error),
		cmocka_unit_test(test_masquerade),
		cmocka_unit_test(test_ext_offset),
		cmocka_unit_test(test_parse_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
