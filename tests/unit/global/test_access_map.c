/*
 * test_access_map.c - unit tests for access(5) lookups and actions.
 *
 * Golden data: the key orders and replies below are what Debian's Postfix
 * 3.7 smtpd answered for the same tables and SMTP dialogues (texthash
 * tables, XCLIENT to set the client, one key removed per run to learn the
 * next one looked up).
 */
#include <fcntl.h>
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

#include "util/dict.h"
#include "util/mymalloc.h"

#include "global/access_map.h"
#include "global/mail_conf.h"

static char dir[64];
static char table_path[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_access_map.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(table_path, sizeof(table_path), "%s/access", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(table_path);
	rmdir(dir);
	return 0;
}

static struct dict *
open_table(const char *type, const char *text)
{
	FILE *fp = fopen(table_path, "w");
	char *spec = xasprintf("%s:%s", type, table_path);
	struct err err;
	struct dict *dict;

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	dict = dict_open(spec, O_RDONLY, DICT_FLAG_FOLD_FIX, &err);
	if (dict == NULL)
		fail_msg("%s: %s", spec, err.text);
	free(spec);
	return dict;
}

enum check { CLIENT, HELO, SENDER, RECIPIENT };

struct order_case {
	bool is_parent_style;
	const char *delimiter;
	enum check check;
	const char *subject;   /* client name, helo, or address */
	const char *addr;      /* client address */
	const char *keys[12];  /* keys in the table */
	const char *order[12]; /* the keys found, one per run */
};

static const struct order_case order_cases[] = {
	{ true,
	  "",
	  CLIENT,
	  "host.a.example",
	  "2001:db8:1:2::5",
	  { "2001:db8:1:2::5", "2001:db8:1:2:", "2001:db8:1:2", "2001:db8:1",
	    "2001:db8", "2001", "2001:db8:1:2::", "host.a.example", "a.example",
	    "example", ".a.example", ".example" },
	  { "host.a.example", "a.example", "example", "2001:db8:1:2::5",
	    "2001:db8:1:2:", "2001:db8:1:2", "2001:db8:1", "2001:db8",
	    "2001" } },
	{ true,
	  "",
	  CLIENT,
	  "h.b.example",
	  "10.20.30.40",
	  { "10.20.30.40", "10.20.30", "10.20", "10", "h.b.example",
	    "b.example", "example" },
	  { "h.b.example", "b.example", "example", "10.20.30.40", "10.20.30",
	    "10.20", "10" } },
	{ true,
	  "",
	  CLIENT,
	  "unknown",
	  "10.20.30.40",
	  { "unknown", "10.20.30.40", "10.20" },
	  { "unknown", "10.20.30.40", "10.20" } },
	{ false,
	  "",
	  CLIENT,
	  "h.b.example",
	  "10.20.30.40",
	  { "h.b.example", ".b.example", ".example", "b.example", "example",
	    "10.20.30.40" },
	  { "h.b.example", ".b.example", ".example", "10.20.30.40" } },
	{ true,
	  "",
	  HELO,
	  "Helo.Dot.Example.",
	  NULL,
	  { "helo.dot.example.", "helo.dot.example", "dot.example.",
	    "dot.example", "example." },
	  { "helo.dot.example.", "dot.example.", "example." } },
	{ true,
	  "+",
	  SENDER,
	  "User+Foo@Sub.B.Example",
	  NULL,
	  { "user+foo@sub.b.example", "user@sub.b.example", "sub.b.example",
	    "b.example", "user+foo@", "user@" },
	  { "user+foo@sub.b.example", "user@sub.b.example", "sub.b.example",
	    "b.example", "user+foo@", "user@" } },
	{ true,
	  "+",
	  RECIPIENT,
	  "r+x@example.org",
	  NULL,
	  { "r+x@example.org", "r@example.org", "example.org", "r+x@", "r@",
	    "org" },
	  { "r+x@example.org", "r@example.org", "example.org", "org", "r+x@",
	    "r@" } },
	{ true, "", SENDER, "", NULL, { "<>", "" }, { "<>" } },
	{ true,
	  "+",
	  RECIPIENT,
	  "postmaster+x@example.org",
	  NULL,
	  { "postmaster+x@example.org", "postmaster@example.org", "example.org",
	    "postmaster+x@", "postmaster@" },
	  { "postmaster+x@example.org", "postmaster@example.org", "example.org",
	    "postmaster+x@", "postmaster@" } },
	{ true,
	  "+",
	  SENDER,
	  "owner-list+x@a.example",
	  NULL,
	  { "owner-list+x@a.example", "owner-list@a.example", "owner-list+x@",
	    "owner-list@" },
	  { "owner-list+x@a.example", "owner-list@a.example", "owner-list+x@",
	    "owner-list@" } },
	{ false,
	  "-+",
	  SENDER,
	  "owner-list+x@a.b.example",
	  NULL,
	  { "owner-list+x@a.b.example", "owner-list@a.b.example",
	    "owner@a.b.example", "a.b.example", "owner-list+x@", "owner-list@",
	    "owner@" },
	  { "owner-list+x@a.b.example", "a.b.example", "owner-list+x@" } },
	{ false,
	  "-+",
	  RECIPIENT,
	  "list-request+y@example.org",
	  NULL,
	  { "list-request+y@example.org", "list-request@example.org",
	    "list@example.org", "list-request+y@", "list-request@", "list@",
	    ".org", "example.org" },
	  { "list-request+y@example.org", "list@example.org", "example.org",
	    ".org", "list-request+y@", "list@" } },
	{ true,
	  "+",
	  SENDER,
	  "+foo@q.test",
	  NULL,
	  { "+foo@q.test", "@q.test", "q.test", "+foo@", "@" },
	  { "+foo@q.test", "q.test", "+foo@" } },
};

static int
run_check(struct dict *table, const struct access_settings *settings,
	  const struct order_case *c, struct access_result *result,
	  struct err *err)
{
	switch (c->check) {
	case CLIENT:
		return access_map_check_client(table, settings, c->subject,
					       c->addr, result, err);
	case HELO:
		return access_map_check_helo(table, settings, c->subject,
					     result, err);
	default:
		return access_map_check_address(
			table, settings,
			c->check == SENDER ? ACCESS_SENDER : ACCESS_RECIPIENT,
			c->subject, result, err);
	}
}

/* Table text of the keys not yet found; "" keys are left out. */
static char *
table_text(const char *const *keys, const bool *is_gone)
{
	char *text = xstrdup("");

	for (size_t i = 0; i < 12 && keys[i]; i++) {
		char *next;

		if (is_gone[i] || *keys[i] == 0)
			continue;
		next = xasprintf("%s%s REJECT K=%s\n", text, keys[i], keys[i]);
		free(text);
		text = next;
	}
	return text;
}

static void
check_order(const struct order_case *c, size_t n)
{
	struct access_settings settings;
	bool is_gone[12] = { false };
	size_t found = 0;

	access_settings_default(&settings);
	settings.is_parent_style = c->is_parent_style;
	settings.recipient_delimiter = c->delimiter;
	for (;;) {
		char *text = table_text(c->keys, is_gone);
		struct dict *table = open_table("texthash", text);
		struct access_result result;
		struct err err;
		int ret = run_check(table, &settings, c, &result, &err);

		dict_close(&table);
		free(text);
		if (ret == DICT_NOTFOUND)
			break;
		assert_int_equal(ret, DICT_FOUND);
		if (c->order[found] == NULL ||
		    strcasecmp(result.key, c->order[found]) != 0)
			fail_msg("case %zu step %zu: found %s, want %s", n,
				 found, result.key,
				 c->order[found] ? c->order[found] : "nothing");
		for (size_t i = 0; i < 12 && c->keys[i]; i++)
			if (strcasecmp(c->keys[i], result.key) == 0)
				is_gone[i] = true;
		access_result_deinit(&result);
		found++;
	}
	if (c->order[found] != NULL)
		fail_msg("case %zu: %s not found", n, c->order[found]);
}

static void
test_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]);
	     i++)
		check_order(order_cases + i, i);
}

/* Pattern tables see only the whole name, address or mail address. */
static void
test_pattern_tables(void **state)
{
	struct access_settings settings;
	struct access_result result;
	struct err err;
	struct dict *table;

	(void)state;
	access_settings_default(&settings);
	settings.recipient_delimiter = "+";
	table = open_table("regexp", "/^sub\\.b\\.example$/ REJECT\n"
				     "/^u@$/ REJECT\n/^10\\.20\\.30$/ REJECT\n"
				     "/^U\\+x@Sub\\.B\\.Example$/ OK\n");
	assert_int_equal(
		access_map_check_address(table, &settings, ACCESS_SENDER,
					 "u@sub.b.example", &result, &err),
		DICT_NOTFOUND);
	assert_int_equal(access_map_check_client(table, &settings, "unknown",
						 "10.20.30.40", &result, &err),
			 DICT_NOTFOUND);
	assert_int_equal(
		access_map_check_address(table, &settings, ACCESS_SENDER,
					 "U+x@Sub.B.Example", &result, &err),
		DICT_FOUND);
	assert_int_equal(result.action, ACCESS_OK);
	access_result_deinit(&result);
	dict_close(&table);

	table = open_table("cidr", "10.0.0.0/8 REJECT\n");
	assert_int_equal(access_map_check_client(table, &settings,
						 "h.b.example", "10.20.30.40",
						 &result, &err),
			 DICT_FOUND);
	assert_string_equal(result.key, "10.20.30.40");
	assert_string_equal(result.text, "<h.b.example[10.20.30.40]>: Client "
					 "host rejected: Access denied");
	access_result_deinit(&result);
	dict_close(&table);

	table = dict_open("inline:{ {user@=DISCARD} }", O_RDONLY,
			  DICT_FLAG_FOLD_FIX, &err);
	assert_non_null(table);
	assert_int_equal(
		access_map_check_address(table, &settings, ACCESS_RECIPIENT,
					 "User@x.example", &result, &err),
		DICT_FOUND);
	assert_int_equal(result.action, ACCESS_DISCARD);
	assert_string_equal(result.text, "<User@x.example>: Recipient address "
					 "triggers DISCARD action");
	access_result_deinit(&result);
	assert_int_equal(access_map_check_address(table, &settings,
						  ACCESS_RECIPIENT, "user",
						  &result, &err),
			 DICT_NOTFOUND);
	dict_close(&table);
}

struct parse_case {
	const char *value;
	enum access_action action;
	int code;
	const char *dsn;
	const char *text; /* reply or log text */
	const char *arg;
	const char *warning;
};

/* Rows leave out the trailing fields they do not need (NULL or 0). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define WARN_PREFIX "access table texthash:/t entry \"a@q.test\" "

static const struct parse_case parse_cases[] = {
	{ "REJECT", ACCESS_REJECT, 554, "5.7.1",
	  "<a@q.test>: Sender address rejected: Access denied" },
	{ "reject", ACCESS_REJECT, 554, "5.7.1",
	  "<a@q.test>: Sender address rejected: Access denied" },
	{ "REJECT go away", ACCESS_REJECT, 554, "5.7.1",
	  "<a@q.test>: Sender address rejected: go away" },
	{ "REJECT 4.1.1 bad", ACCESS_REJECT, 554, "5.1.7",
	  "<a@q.test>: Sender address rejected: bad" },
	{ "REJECT 5.1.1 bad", ACCESS_REJECT, 554, "5.1.7",
	  "<a@q.test>: Sender address rejected: bad" },
	{ "REJECT 4.7.1  spaced  text", ACCESS_REJECT, 554, "5.7.1",
	  "<a@q.test>: Sender address rejected: spaced  text" },
	{ "  REJECT lead", ACCESS_REJECT, 554, "5.7.1",
	  "<a@q.test>: Sender address rejected: lead" },
	{ "DEFER", ACCESS_REJECT, 450, "4.7.1",
	  "<a@q.test>: Sender address rejected: Access denied" },
	{ "DEFER 5.7.1 later", ACCESS_REJECT, 450, "4.7.1",
	  "<a@q.test>: Sender address rejected: later" },
	{ "DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT, 450, "4.7.1",
	  "<a@q.test>: Sender address rejected: Service unavailable" },
	{ "DEFER_IF_PERMIT 5.1.1 ugh", ACCESS_DEFER_IF_PERMIT, 450, "4.1.7",
	  "<a@q.test>: Sender address rejected: ugh" },
	{ "defer_if_reject x", ACCESS_DEFER_IF_REJECT, 450, "4.7.1",
	  "<a@q.test>: Sender address rejected: x" },
	{ "DUNNO", ACCESS_DUNNO },
	{ "dunno text", ACCESS_DUNNO },
	{ "123", ACCESS_OK },
	{ "550", ACCESS_OK },
	{ "OK", ACCESS_OK },
	{ "ok whatever", ACCESS_OK },
	{ "RELAY", ACCESS_OK },
	{ "550 no", ACCESS_REJECT, 550, "5.7.1",
	  "<a@q.test>: Sender address rejected: no" },
	{ "550 5.1.1 no", ACCESS_REJECT, 550, "5.1.7",
	  "<a@q.test>: Sender address rejected: no" },
	{ "450 5.1.1 no", ACCESS_REJECT, 450, "4.1.7",
	  "<a@q.test>: Sender address rejected: no" },
	{ "421 bye", ACCESS_REJECT, 421, "4.7.1",
	  "<a@q.test>: Sender address rejected: bye" },
	{ "650 odd", ACCESS_RESTRICTIONS, 0, "", NULL, "650 odd" },
	{ "550-multi no", ACCESS_RESTRICTIONS, 0, "", NULL, "550-multi no" },
	{ "4.7.1 x", ACCESS_RESTRICTIONS, 0, "", NULL, "4.7.1 x" },
	{ "DUNNOx", ACCESS_RESTRICTIONS, 0, "", NULL, "DUNNOx" },
	{ "permit_mynetworks, reject", ACCESS_RESTRICTIONS, 0, "", NULL,
	  "permit_mynetworks, reject" },
	{ "WARN careful", ACCESS_WARN, 0, "", NULL, "careful" },
	{ "WARN", ACCESS_WARN, 0, "", NULL, "" },
	{ "INFO hello", ACCESS_INFO, 0, "", NULL, "hello" },
	{ "HOLD", ACCESS_HOLD, 0, "",
	  "<a@q.test>: Sender address triggers HOLD action", "" },
	{ "HOLD stop", ACCESS_HOLD, 0, "", "<a@q.test>: Sender address stop",
	  "stop" },
	{ "DISCARD", ACCESS_DISCARD, 0, "",
	  "<a@q.test>: Sender address triggers DISCARD action", "" },
	{ "DISCARD bye", ACCESS_DISCARD, 0, "",
	  "<a@q.test>: Sender address bye", "bye" },
	{ "FILTER", ACCESS_DUNNO, 0, "", NULL, NULL,
	  WARN_PREFIX "has FILTER entry without value" },
	{ "FILTER foo", ACCESS_DUNNO, 0, "", NULL, NULL,
	  WARN_PREFIX "requires transport:destination" },
	{ "FILTER smtp:[1.2.3.4]", ACCESS_FILTER, 0, "",
	  "<a@q.test>: Sender address triggers FILTER smtp:[1.2.3.4]",
	  "smtp:[1.2.3.4]" },
	{ "REDIRECT", ACCESS_DUNNO, 0, "", NULL, NULL,
	  WARN_PREFIX "requires user@domain target" },
	{ "REDIRECT x@y", ACCESS_REDIRECT, 0, "",
	  "<a@q.test>: Sender address triggers REDIRECT x@y", "x@y" },
	{ "BCC", ACCESS_DUNNO, 0, "", NULL, NULL,
	  WARN_PREFIX "requires user@domain target" },
	{ "bcc x@y", ACCESS_BCC, 0, "", NULL, "x@y" },
	{ "PREPEND", ACCESS_DUNNO, 0, "", NULL, NULL,
	  WARN_PREFIX "requires header: text" },
	{ "PREPEND bad", ACCESS_DUNNO, 0, "", NULL, NULL,
	  WARN_PREFIX "requires header: text" },
	{ "PREPEND X-A: b", ACCESS_PREPEND, 0, "", NULL, "X-A: b" },
	/* Postfix 3.7 prints uninitialized bytes here; we use the default. */
	{ "REJECT 5.7.1", ACCESS_REJECT, 554, "5.7.1",
	  "<a@q.test>: Sender address rejected: Access denied" },
};

static void
expect_str(const char *got, const char *want, size_t i, const char *what)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("case %zu %s: got \"%s\", want \"%s\"", i, what,
			 got ? got : "(null)", want ? want : "(null)");
}

static void
test_parse(void **state)
{
	struct access_settings settings;

	(void)state;
	access_settings_default(&settings);
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *c = parse_cases + i;
		struct access_result result;

		access_map_parse("texthash:/t", "a@q.test", c->value,
				 ACCESS_SENDER, "a@q.test", &settings, &result);
		if (result.action != c->action)
			fail_msg("case %zu (%s): action %d, want %d", i,
				 c->value, result.action, c->action);
		assert_int_equal(result.code, c->code);
		expect_str(result.dsn, c->dsn ? c->dsn : "", i, "dsn");
		expect_str(result.text, c->text, i, "text");
		expect_str(result.arg, c->arg, i, "arg");
		expect_str(result.warning, c->warning, i, "warning");
		expect_str(result.key, "a@q.test", i, "key");
		access_result_deinit(&result);
		access_result_deinit(&result);
	}
}

struct dsn_case {
	const char *dsn;
	const char *want[4]; /* sender, recipient, client, helo */
};

static const struct dsn_case dsn_cases[] = {
	{ "5.1.0", { "5.1.0", "5.1.0", "5.0.0", "5.0.0" } },
	{ "5.1.1", { "5.1.7", "5.1.1", "5.0.0", "5.0.0" } },
	{ "5.1.2", { "5.1.8", "5.1.2", "5.0.0", "5.0.0" } },
	{ "5.1.3", { "5.1.7", "5.1.3", "5.0.0", "5.0.0" } },
	{ "5.1.4", { "5.1.7", "5.1.4", "5.0.0", "5.0.0" } },
	{ "5.1.6", { "5.1.7", "5.1.6", "5.0.0", "5.0.0" } },
	{ "5.1.7", { "5.1.7", "5.1.3", "5.0.0", "5.0.0" } },
	{ "5.1.8", { "5.1.8", "5.1.2", "5.0.0", "5.0.0" } },
	{ "5.1.9", { "5.1.0", "5.1.0", "5.0.0", "5.0.0" } },
	{ "5.2.1", { "5.2.1", "5.2.1", "5.2.1", "5.2.1" } },
};

static void
test_dsn_fix(void **state)
{
	static const enum access_class classes[] = {
		ACCESS_SENDER, ACCESS_RECIPIENT, ACCESS_CLIENT, ACCESS_HELO
	};
	struct access_settings settings;

	(void)state;
	access_settings_default(&settings);
	for (size_t i = 0; i < sizeof(dsn_cases) / sizeof(dsn_cases[0]); i++) {
		char *value = xasprintf("REJECT %s t", dsn_cases[i].dsn);

		for (size_t j = 0; j < 4; j++) {
			struct access_result result;

			access_map_parse("t", "k", value, classes[j], "n",
					 &settings, &result);
			expect_str(result.dsn, dsn_cases[i].want[j], i, "dsn");
			access_result_deinit(&result);
		}
		free(value);
	}
}

/* A table that cannot answer: DICT_ERROR, and Postfix's 451 reply. */
static void
test_lookup_error(void **state)
{
	struct access_settings settings;
	struct access_result result;
	struct err err;
	struct dict *table = open_table("texthash", "x OK\n");
	char *name = xmalloc(70000);
	char *want = xasprintf("texthash:%s: lookup key longer than 65536 "
			       "bytes",
			       table_path);

	(void)state;
	access_settings_default(&settings);
	memset(name, 'a', 69999);
	assert_int_equal(access_map_check_client(table, &settings, "h.example",
						 name, &result, &err),
			 DICT_ERROR);
	assert_string_equal(err.text, want);
	assert_int_equal(result.action, ACCESS_REJECT);
	assert_int_equal(result.code, 451);
	assert_string_equal(result.dsn, "4.3.5");
	assert_true(strstr(result.text,
			   "]>: Client host rejected: Server configuration "
			   "error") != NULL);
	access_result_deinit(&result);
	dict_close(&table);
	free(name);
	free(want);
}

static void
test_settings(void **state)
{
	struct mail_conf *conf = mail_conf_create(dir);
	struct access_settings settings;
	struct err err;

	(void)state;
	assert_int_equal(access_settings_load(conf, &settings, &err), 0);
	assert_true(settings.is_parent_style);
	assert_string_equal(settings.null_key, "<>");
	assert_string_equal(settings.recipient_delimiter, "");
	assert_string_equal(settings.double_bounce_sender, "double-bounce");
	assert_int_equal(settings.reject_code, 554);
	assert_int_equal(settings.defer_code, 450);
	mail_conf_set(conf, "parent_domain_matches_subdomains", "mynetworks");
	mail_conf_set(conf, "access_map_reject_code", "550");
	mail_conf_set(conf, "recipient_delimiter", "+-");
	assert_int_equal(access_settings_load(conf, &settings, &err), 0);
	assert_false(settings.is_parent_style);
	assert_int_equal(settings.reject_code, 550);
	assert_string_equal(settings.recipient_delimiter, "+-");
	mail_conf_set(conf, "access_map_defer_code", "soon");
	assert_int_equal(access_settings_load(conf, &settings, &err), -1);
	assert_string_equal(err.text, "bad numerical configuration: "
				      "access_map_defer_code = soon");
	mail_conf_destroy(&conf);
}

static void
test_strip_extension(void **state)
{
	static const char *const cases[][3] = {
		/* delimiters, localpart, stripped or NULL */
		{ "+", "user+foo", "user" },
		{ "+", "user", NULL },
		{ "+", "+foo", NULL },
		{ "", "user+foo", NULL },
		{ "+", "Postmaster+x", "Postmaster" },
		{ "+", "postmaster", NULL },
		{ "+", "MAILER-DAEMON", NULL },
		{ "+", "double-bounce", NULL },
		{ "-", "owner-list", NULL },
		{ "-+", "list-request+y", "list" },
		{ "-", "list-request", NULL },
		{ "+", "owner-list+x", "owner-list" },
		{ "+-", "a-b+c", "a" },
	};
	struct access_settings settings;

	(void)state;
	access_settings_default(&settings);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got;

		settings.recipient_delimiter = cases[i][0];
		got = access_strip_extension(cases[i][1], &settings);
		expect_str(got, cases[i][2], i, "stripped");
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_pattern_tables),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dsn_fix),
		cmocka_unit_test(test_lookup_error),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_strip_extension),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
