/*
 * test_match_list.c - unit tests for Postfix-style pattern lists.
 *
 * Expected answers follow Postfix 3.7's list semantics (first match wins,
 * "!" negates, parent-style domains, bracketed IPv6 networks, /file
 * includes); tables are real texthash, cidr, regexp and inline tables in a
 * temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/mymalloc.h"

#include "global/match_list.h"

#define NO MATCH_LIST_NO_MATCH
#define YES MATCH_LIST_MATCH
#define PARENT MATCH_FLAG_PARENT

static char dir[64];

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

static const char *const files[][2] = {
	{ "hash", "example.com x\n.dot.example y\n10.1.2.3 z\n" },
	{ "cidr", "10.0.0.0/8 x\n[2001:db8::]/32 y\n" },
	{ "re", "/^mail\\./ x\n/^exact\\.example$/ y\n" },
	{ "list", "# comment\nfoo.example bar.example\n!baz.example\n"
		  "  qux.example # trailing words\nbaz.example\n" },
	{ "outer", "DIR/inner\nouter.example\n" },
	{ "inner", "inner.example\n" },
	{ "loop", "DIR/loop\n" },
	{ "nets", "192.0.2.0/24\n[2001:db8::]/32\n" },
};

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_match_list.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = xstrdup(files[i][1]);
		char *at = strstr(text, "DIR");

		if (at != NULL) {
			char *fixed = xasprintf("%.*s%s%s", (int)(at - text),
						text, dir, at + 3);
			free(text);
			text = fixed;
		}
		write_file(files[i][0], text);
		free(text);
	}
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* "DIR" in text becomes the temporary directory. */
static char *
with_dir(const char *text)
{
	char *out = xstrdup("");
	const char *cp = text;
	const char *at;
	char *next;

	while ((at = strstr(cp, "DIR")) != NULL) {
		next = xasprintf("%s%.*s%s", out, (int)(at - cp), cp, dir);
		free(out);
		out = next;
		cp = at + 3;
	}
	next = xasprintf("%s%s", out, cp);
	free(out);
	return next;
}

struct match_case {
	enum match_list_kind kind;
	int flags;
	const char *list;
	const char *name;
	const char *addr;
	int want;
};

static const struct match_case match_cases[] = {
	/* Domain lists: exact, parent style both ways, .domain. */
	{ MATCH_LIST_DOMAIN, 0, "example.com", "example.com", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "example.com", "sub.example.com", NULL, NO },
	{ MATCH_LIST_DOMAIN, PARENT, "example.com", "sub.example.com", NULL,
	  YES },
	{ MATCH_LIST_DOMAIN, PARENT, "EXAMPLE.Com", "A.Sub.Example.COM", NULL,
	  YES },
	{ MATCH_LIST_DOMAIN, PARENT, "example.com", "badexample.com", NULL,
	  NO },
	{ MATCH_LIST_DOMAIN, 0, ".example.com", "sub.example.com", NULL, YES },
	{ MATCH_LIST_DOMAIN, PARENT, ".example.com", "sub.example.com", NULL,
	  YES },
	{ MATCH_LIST_DOMAIN, 0, ".example.com", "example.com", NULL, NO },
	{ MATCH_LIST_DOMAIN, PARENT, "example.com", "", NULL, NO },
	/* Negation: first match wins. */
	{ MATCH_LIST_DOMAIN, PARENT, "!sub.example.com, example.com",
	  "sub.example.com", NULL, NO },
	{ MATCH_LIST_DOMAIN, PARENT, "!sub.example.com, example.com",
	  "other.example.com", NULL, YES },
	{ MATCH_LIST_DOMAIN, PARENT, "example.com !sub.example.com",
	  "sub.example.com", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "!!example.com", "example.com", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "{ a.example, b.example }", "b.example", NULL,
	  YES },
	/* Fixed-string tables: name, then parents per style. */
	{ MATCH_LIST_DOMAIN, PARENT, "texthash:DIR/hash", "a.b.example.com",
	  NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "texthash:DIR/hash", "a.b.example.com", NULL,
	  NO },
	{ MATCH_LIST_DOMAIN, 0, "texthash:DIR/hash", "Example.COM", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "texthash:DIR/hash", "x.dot.example", NULL,
	  YES },
	{ MATCH_LIST_DOMAIN, PARENT, "texthash:DIR/hash", "x.dot.example", NULL,
	  NO },
	{ MATCH_LIST_DOMAIN, PARENT, "!texthash:DIR/hash, com",
	  "www.example.com", NULL, NO },
	{ MATCH_LIST_DOMAIN, PARENT, "inline:{ example.com=1 }",
	  "mx.example.com", NULL, YES },
	/* Pattern tables: the whole name only. */
	{ MATCH_LIST_DOMAIN, PARENT, "regexp:DIR/re", "mail.example.org", NULL,
	  YES },
	{ MATCH_LIST_DOMAIN, PARENT, "regexp:DIR/re", "sub.exact.example", NULL,
	  NO },
	{ MATCH_LIST_DOMAIN, PARENT, "regexp:DIR/re", "EXACT.example", NULL,
	  YES },
	/* /file lists, negated files, nesting. */
	{ MATCH_LIST_DOMAIN, 0, "DIR/list", "bar.example", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "DIR/list", "baz.example", NULL, NO },
	{ MATCH_LIST_DOMAIN, 0, "DIR/list", "qux.example", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "DIR/list", "trailing", NULL, NO },
	{ MATCH_LIST_DOMAIN, 0, "!DIR/list, foo.example, other.example",
	  "foo.example", NULL, NO },
	{ MATCH_LIST_DOMAIN, 0, "!DIR/list, foo.example, baz.example",
	  "baz.example", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "DIR/outer", "inner.example", NULL, YES },
	{ MATCH_LIST_DOMAIN, 0, "DIR/outer", "outer.example", NULL, YES },
	/* Strings: exact, folded. */
	{ MATCH_LIST_STRING, 0, "root, Postfix", "postfix", NULL, YES },
	{ MATCH_LIST_STRING, 0, "!root, static:x", "ROOT", NULL, NO },
	{ MATCH_LIST_STRING, 0, "!root, static:x", "anyone", NULL, YES },
	{ MATCH_LIST_STRING, PARENT, "example.com", "sub.example.com", NULL,
	  NO },
	/* Name/address lists. */
	{ MATCH_LIST_NAMADR, PARENT, "192.168.0.0/16", "host", "192.168.5.5",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "192.168.0.0/16", "host", "10.0.0.1", NO },
	{ MATCH_LIST_NAMADR, PARENT, "0.0.0.0/0", NULL, "10.0.0.1", YES },
	{ MATCH_LIST_NAMADR, PARENT, "0.0.0.0/0", NULL, "2001:db8::1", NO },
	{ MATCH_LIST_NAMADR, PARENT, "[2001:db8::]/32", NULL, "2001:db8:1::5",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "[2001:db8::]/32", NULL, "2001:db9::1",
	  NO },
	{ MATCH_LIST_NAMADR, PARENT, "[2001:db8::/32]", NULL, "2001:DB8::1",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "[2001:DB8::1]", NULL, "2001:db8:0:0::1",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "[::1]/128", NULL, "::1", YES },
	{ MATCH_LIST_NAMADR, PARENT, "127.0.0.1", NULL, "::ffff:127.0.0.1",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "[127.0.0.1]", NULL, "127.0.0.1", YES },
	{ MATCH_LIST_NAMADR, PARENT, "1.2.3.4", NULL, "1.2.3.40", NO },
	{ MATCH_LIST_NAMADR, PARENT, "1.2.3", NULL, "1.2.3.4", NO },
	{ MATCH_LIST_NAMADR, PARENT, "!192.168.1.0/24, 192.168.0.0/16", NULL,
	  "192.168.1.5", NO },
	{ MATCH_LIST_NAMADR, PARENT, "!192.168.1.0/24, 192.168.0.0/16", NULL,
	  "192.168.2.5", YES },
	{ MATCH_LIST_NAMADR, PARENT, "example.com", "mx.example.com",
	  "10.0.0.1", YES },
	{ MATCH_LIST_NAMADR, 0, "example.com", "mx.example.com", "10.0.0.1",
	  NO },
	{ MATCH_LIST_NAMADR, 0, ".example.com", "mx.example.com", "10.0.0.1",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "!example.com, 10.0.0.0/8",
	  "mx.example.com", "10.0.0.1", NO },
	{ MATCH_LIST_NAMADR, PARENT, "cidr:DIR/cidr", "mx.example.com",
	  "10.9.9.9", YES },
	{ MATCH_LIST_NAMADR, PARENT, "cidr:DIR/cidr", "unknown", "2001:db8::7",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "cidr:DIR/cidr", "unknown", "11.0.0.1",
	  NO },
	{ MATCH_LIST_NAMADR, PARENT, "texthash:DIR/hash", "unknown", "10.1.2.3",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "texthash:DIR/hash", "unknown", "10.1.2.4",
	  NO },
	{ MATCH_LIST_NAMADR, PARENT, "texthash:DIR/hash", "mx.example.com",
	  "192.0.2.1", YES },
	{ MATCH_LIST_NAMADR, PARENT, "DIR/nets", NULL, "192.0.2.77", YES },
	{ MATCH_LIST_NAMADR, PARENT, "!DIR/nets, 0.0.0.0/0", NULL, "192.0.2.77",
	  NO },
	{ MATCH_LIST_NAMADR, PARENT, "!DIR/nets, 0.0.0.0/0", NULL, "192.0.3.1",
	  YES },
	{ MATCH_LIST_NAMADR, PARENT, "", "a", "1.2.3.4", NO },
};

static int
run_match(struct match_list *list, const struct match_case *c, struct err *err)
{
	switch (c->kind) {
	case MATCH_LIST_STRING:
		return match_list_match_string(list, c->name, err);
	case MATCH_LIST_DOMAIN:
		return match_list_match_domain(list, c->name, err);
	default:
		return match_list_match_namadr(list, c->name, c->addr, err);
	}
}

static void
test_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]);
	     i++) {
		const struct match_case *c = match_cases + i;
		char *text = with_dir(c->list);
		struct err err = { { 0 } };
		struct match_list *list = match_list_create(
			"mynetworks", c->kind, c->flags, text, &err);

		if (list == NULL)
			fail_msg("case %zu: %s: %s", i, text, err.text);
		if (run_match(list, c, &err) != c->want)
			fail_msg("case %zu: list \"%s\" name %s addr %s: want "
				 "%d",
				 i, text, c->name ? c->name : "-",
				 c->addr ? c->addr : "-", c->want);
		match_list_destroy(&list);
		assert_null(list);
		free(text);
	}
}

struct error_case {
	enum match_list_kind kind;
	const char *list;
	const char *want; /* DIR replaced */
};

static const struct error_case error_cases[] = {
	{ MATCH_LIST_DOMAIN, "a, !", "mynetworks: no pattern after '!'" },
	{ MATCH_LIST_DOMAIN, "!!!", "mynetworks: no pattern after '!'" },
	{ MATCH_LIST_DOMAIN, "DIR/missing",
	  "mynetworks: open DIR/missing: No such file or directory" },
	{ MATCH_LIST_DOMAIN, "DIR/loop",
	  "mynetworks: DIR/loop: /file nesting is deeper than 8" },
	{ MATCH_LIST_DOMAIN, "nosuchtype:/x",
	  "mynetworks: unsupported dictionary type: nosuchtype" },
	{ MATCH_LIST_NAMADR, "::1/128",
	  "mynetworks: need dictionary type:name, not \"::1/128\"" },
	{ MATCH_LIST_NAMADR, "1.2.3.4/24",
	  "mynetworks: non-null host address bits in \"1.2.3.4/24\", perhaps "
	  "you should use \"1.2.3.0/24\" instead" },
	{ MATCH_LIST_NAMADR, "[2001:db8::1]/32",
	  "mynetworks: non-null host address bits in \"[2001:db8::1]/32\", "
	  "perhaps you should use \"2001:db8::/32\" instead" },
	{ MATCH_LIST_NAMADR, "1.2.3.0/33",
	  "mynetworks: bad mask length in \"1.2.3.0/33\"" },
	{ MATCH_LIST_NAMADR, "1.2.3.0/x",
	  "mynetworks: bad mask value in \"1.2.3.0/x\"" },
	{ MATCH_LIST_NAMADR, "1.2.3/24",
	  "mynetworks: bad network value in \"1.2.3/24\"" },
	{ MATCH_LIST_NAMADR, "[1.2.3.0]/64",
	  "mynetworks: bad mask length in \"1.2.3.0/64\"" },
	{ MATCH_LIST_NAMADR, "[::1",
	  "mynetworks: missing ']' character after \"[::1\"" },
	{ MATCH_LIST_NAMADR, "[::1]x", "mynetworks: garbage after \"[::1]\"" },
	{ MATCH_LIST_NAMADR, "[foo]",
	  "mynetworks: bad address pattern: \"[foo]\"" },
	{ MATCH_LIST_DOMAIN, "x { a, b",
	  "mynetworks: missing '}' in \"{ a, b\"" },
	{ MATCH_LIST_DOMAIN, "{a}b", "mynetworks: syntax error after '}' in " },
};

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	     i++) {
		char *text = with_dir(error_cases[i].list);
		char *want = with_dir(error_cases[i].want);
		struct err err = { { 0 } };
		struct match_list *list = match_list_create(
			"mynetworks", error_cases[i].kind, 0, text, &err);

		if (list != NULL)
			fail_msg("case %zu: \"%s\" parsed", i, text);
		if (strncmp(err.text, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
				 err.text, want);
		free(text);
		free(want);
	}
}

/* An unreadable /file names the file (skipped as root, who reads all). */
static void
test_unreadable_file(void **state)
{
	char path[128];
	struct err err = { { 0 } };
	struct match_list *list;

	(void)state;
	if (geteuid() == 0)
		skip();
	write_file("secret", "a.example\n");
	snprintf(path, sizeof(path), "%s/secret", dir);
	chmod(path, 0);
	list = match_list_create("relay_domains", MATCH_LIST_DOMAIN, 0, path,
				 &err);
	assert_null(list);
	assert_true(strstr(err.text, "Permission denied") != NULL);
	unlink(path);
}

/* A lookup failure is ERROR, never "no", and stops the walk. */
static void
test_lookup_error(void **state)
{
	char *text = with_dir("texthash:DIR/hash, 0.0.0.0/0");
	char *name = xmalloc(70000);
	char *want = with_dir("mynetworks: texthash:DIR/hash: lookup key "
			      "longer than 65536 bytes");
	struct err err = { { 0 } };
	struct match_list *list = match_list_create(
		"mynetworks", MATCH_LIST_NAMADR, PARENT, text, &err);

	(void)state;
	assert_non_null(list);
	memset(name, 'a', 69999);
	assert_int_equal(match_list_match_namadr(list, name, "1.2.3.4", &err),
			 MATCH_LIST_ERROR);
	assert_string_equal(err.text, want);
	match_list_destroy(&list);
	free(text);
	free(name);
	free(want);
}

static void
test_comment_warning(void **state)
{
	struct err err = { { 0 } };
	struct match_list *list =
		match_list_create("relay_domains", MATCH_LIST_DOMAIN, 0,
				  "a.example #b.example c.example", &err);
	const struct argv *warnings;

	(void)state;
	assert_non_null(list);
	warnings = match_list_warnings(list);
	assert_int_equal(warnings->count, 1);
	assert_string_equal(warnings->items[0],
			    "relay_domains: comment at end of line is not "
			    "supported: #b.example c.example");
	assert_int_equal(match_list_match_domain(list, "c.example", &err), NO);
	assert_int_equal(match_list_match_domain(list, "a.example", &err), YES);
	match_list_destroy(&list);
	match_list_destroy(&list);
}

static void
test_parent_style(void **state)
{
	static const char *const value =
		"debug_peer_list,fast_flush_domains,mynetworks,"
		"permit_mx_backup_networks,qmqpd_authorized_clients,"
		"relay_domains,smtpd_access_maps";

	(void)state;
	assert_true(match_list_is_parent_style(value, "mynetworks"));
	assert_true(match_list_is_parent_style(value, "smtpd_access_maps"));
	assert_false(match_list_is_parent_style(value, "mydestination"));
	assert_false(match_list_is_parent_style("", "mynetworks"));
	assert_true(match_list_is_parent_style(" a, mynetworks b", "b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_lookup_error),
		cmocka_unit_test(test_comment_warning),
		cmocka_unit_test(test_parent_style),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
