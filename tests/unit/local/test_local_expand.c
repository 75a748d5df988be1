/*
 * test_local_expand.c - unit tests for the pure logic of the local
 * delivery agent: address splitting and extensions, $name expansion of
 * forward_path and friends, destination classification, class lists,
 * Delivered-To: headers, and the words for failed commands.
 *
 * The module belongs to the local program, not to a library, so it is
 * compiled into this test directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "local/local_expand.c"

/* ------------------------------------------------------------------ */

struct split_case {
	const char *address;
	const char *delimiters;
	bool owner_request_special;
	const char *local, *domain, *user, *extension, *delim;
	bool is_bad_ext;
};

static void
test_addr_split(void **state)
{
	static const struct split_case cases[] = {
		{ "User@Example.COM", "", true, "user", "example.com", "user",
		  NULL, "", false },
		{ "user+foo@x", "+", true, "user+foo", "x", "user", "foo", "+",
		  false },
		{ "user+foo+bar@x", "+", true, "user+foo+bar", "x", "user",
		  "foo+bar", "+", false },
		{ "user-foo@x", "+-", true, "user-foo", "x", "user", "foo", "-",
		  false },
		{ "user+foo@x", "", true, "user+foo", "x", "user+foo", NULL, "",
		  false },
		/* The first byte never starts an extension. */
		{ "+foo@x", "+", true, "+foo", "x", "+foo", NULL, "", false },
		/* owner- and -request keep their '-'. */
		{ "owner-list@x", "-", true, "owner-list", "x", "owner-list",
		  NULL, "", false },
		{ "list-request@x", "-", true, "list-request", "x",
		  "list-request", NULL, "", false },
		{ "owner-list@x", "-", false, "owner-list", "x", "owner",
		  "list", "-", false },
		{ "owner-list@x", "+-", true, "owner-list", "x", "owner-list",
		  NULL, "", false },
		{ "mailer-daemon@x", "-", false, "mailer-daemon", "x",
		  "mailer-daemon", NULL, "", false },
		/* No domain. */
		{ "bare", "+", true, "bare", NULL, "bare", NULL, "", false },
		/* Local part with an '@' in it: the last one splits. */
		{ "a@b@c", "", true, "a@b", "c", "a@b", NULL, "", false },
		/* A '/' in the extension is refused. */
		{ "user+a/b@x", "+", true, "user+a/b", "x", "user", NULL, "",
		  true },
		{ "@x", "+", true, "", "x", "", NULL, "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct split_case *c = &cases[i];
		struct local_addr a;
		bool is_bad;

		local_addr_split(c->address, c->delimiters,
				 c->owner_request_special, &a, &is_bad);
		assert_string_equal(a.local, c->local);
		if (c->domain)
			assert_string_equal(a.domain, c->domain);
		else
			assert_null(a.domain);
		assert_string_equal(a.user, c->user);
		if (c->extension)
			assert_string_equal(a.extension, c->extension);
		else
			assert_null(a.extension);
		assert_string_equal(a.delim, c->delim);
		assert_int_equal(is_bad, c->is_bad_ext);
		local_addr_free(&a);
		assert_null(a.local);
	}
}

/* ------------------------------------------------------------------ */

struct expand_case {
	const char *pattern;
	const char *expect; /* NULL: error */
	bool is_undef;
};

static const struct local_vars test_vars = {
	.user = "joe",
	.home = "/home/joe",
	.shell = "/bin/sh",
	.recipient = "joe+box@example.com",
	.extension = "box",
	.domain = "example.com",
	.local = "joe+box",
	.recipient_delimiter = "+",
};

static const struct local_vars plain_vars = {
	.user = "joe",
	.home = "/home/joe",
	.recipient = "joe@example.com",
	.domain = "example.com",
	.local = "joe",
};

static void
run_expand(const struct local_vars *vars, const struct expand_case *cases,
	   size_t count, const char *filter)
{
	for (size_t i = 0; i < count; i++) {
		struct strbuf out;
		struct err err;
		bool is_undef = false;
		int ret;

		strbuf_init(&out, 4096);
		ret = local_expand(cases[i].pattern, vars, filter, &out,
				   &is_undef, &err);
		if (cases[i].expect == NULL) {
			assert_int_equal(ret, -1);
			assert_non_null(
				strstr(err.text, "bad expansion syntax: "));
		} else {
			assert_int_equal(ret, 0);
			assert_string_equal(strbuf_text(&out), cases[i].expect);
			assert_int_equal(is_undef, cases[i].is_undef);
		}
		strbuf_deinit(&out);
	}
}

static void
test_expand_forward_path(void **state)
{
	/* The default forward_path, with and without an extension. */
	static const char *const def =
		"$home/.forward${recipient_delimiter}${extension}";
	const struct expand_case with_ext[] = {
		{ def, "/home/joe/.forward+box", false },
		{ "$home/.forward", "/home/joe/.forward", false },
	};
	const struct expand_case without_ext[] = {
		/* Undefined plain references: Postfix skips the item. */
		{ def, "/home/joe/.forward", true },
		{ "$home/.forward", "/home/joe/.forward", false },
		{ "$shell", "", true },
	};

	(void)state;
	run_expand(&test_vars, with_ext, 2, NULL);
	run_expand(&plain_vars, without_ext, 3, NULL);
}

static void
test_expand_syntax(void **state)
{
	static const struct expand_case cases[] = {
		{ "$user", "joe", false },
		{ "${user}", "joe", false },
		{ "$(user)", "joe", false },
		{ "a$$b", "a$b", false },
		{ "${extension?+$extension}", "+box", false },
		{ "${nosuch?x}", "", false },
		{ "${nosuch:fallback}", "fallback", false },
		{ "${user:fallback}", "", false },
		{ "${extension?{yes}:{no}}", "yes", false },
		{ "${nosuch?{yes}:{no}}", "no", false },
		{ "${nosuch?{yes} : {no $user}}", "no joe", false },
		{ "$user@$domain", "joe@example.com", false },
		{ "$nosuch/x", "/x", true },
		{ "plain text", "plain text", false },
		{ "${user", NULL, false },
		{ "$", NULL, false },
		{ "$-", NULL, false },
		{ "${}", NULL, false },
		{ "${user!x}", NULL, false },
		{ "${nosuch?{a}x}", NULL, false },
	};

	(void)state;
	run_expand(&test_vars, cases, sizeof(cases) / sizeof(cases[0]), NULL);
}

static void
test_expand_filter(void **state)
{
	const struct local_vars vars = {
		.user = "joe;rm -rf $HOME",
		.extension = "a`b`",
	};
	static const struct expand_case cases[] = {
		/* Only values are filtered, never the pattern's own text. */
		{ "/x/$user;", "/x/joe_rm_-rf__HOME;", false },
		{ "${extension}", "a_b_", false },
	};

	(void)state;
	struct strbuf out;

	strbuf_init(&out, 64);
	assert_int_equal(local_filter("a b", "ab", &out), 0);
	assert_string_equal(strbuf_text(&out), "a_b");
	strbuf_deinit(&out);
	run_expand(&vars, cases, 2,
		   "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyz"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
}

static void
test_expand_limit(void **state)
{
	struct strbuf out;
	struct err err;
	bool is_undef;

	(void)state;
	strbuf_init(&out, 4);
	assert_int_equal(
		local_expand("$home", &test_vars, NULL, &out, &is_undef, &err),
		-1);
	assert_string_equal(err.text, "expansion result too long: $home");
	assert_true(out.len <= 4);
	strbuf_reset(&out);
	assert_int_equal(
		local_expand("abcdef", &test_vars, NULL, &out, &is_undef, &err),
		-1);
	assert_string_equal(err.text, "expansion result too long: abcdef");
	strbuf_reset(&out);
	assert_int_equal(local_expand("$$$$$$$$$$", &test_vars, NULL, &out,
				      &is_undef, &err),
			 -1);
	strbuf_deinit(&out);
	strbuf_init(&out, 4096);
	{
		struct strbuf pattern;

		strbuf_init(&pattern, 4096);
		for (int i = 0; i < 25; i++)
			strbuf_append_str(&pattern, "${user?");
		strbuf_append_str(&pattern, "x");
		for (int i = 0; i < 25; i++)
			strbuf_append_str(&pattern, "}");
		assert_int_equal(local_expand(strbuf_text(&pattern), &test_vars,
					      NULL, &out, &is_undef, &err),
				 -1);
		assert_true(strncmp(err.text,
				    "expansion nested too deeply: ", 29) == 0);
		strbuf_deinit(&pattern);
	}
	strbuf_deinit(&out);
}

/* ------------------------------------------------------------------ */

static void
test_token_classify(void **state)
{
	static const struct {
		const char *token;
		enum local_token_kind kind;
		const char *target;
	} cases[] = {
		{ "|/usr/bin/procmail -a x", LOCAL_TOKEN_COMMAND,
		  "/usr/bin/procmail -a x" },
		{ "/var/mail/archive", LOCAL_TOKEN_FILE, "/var/mail/archive" },
		{ "/var/mail/maildir/", LOCAL_TOKEN_FILE,
		  "/var/mail/maildir/" },
		{ ":include:/etc/list", LOCAL_TOKEN_INCLUDE, "/etc/list" },
		{ ":INCLUDE: /etc/list", LOCAL_TOKEN_INCLUDE, "/etc/list" },
		{ "user@example.com", LOCAL_TOKEN_ADDRESS, "user@example.com" },
		{ "user", LOCAL_TOKEN_ADDRESS, "user" },
		{ "relative/path", LOCAL_TOKEN_ADDRESS, "relative/path" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *target;

		assert_int_equal(local_token_classify(cases[i].token, &target),
				 cases[i].kind);
		assert_string_equal(target, cases[i].target);
	}
}

static void
test_class_parse(void **state)
{
	int mask = -1;
	struct err err;

	(void)state;
	assert_int_equal(local_class_parse("allow_mail_to_commands",
					   "alias, forward", local_allow_names,
					   &mask, &err),
			 0);
	assert_int_equal(mask, LOCAL_CLASS_ALIAS | LOCAL_CLASS_FORWARD);
	assert_int_equal(local_class_parse("allow_mail_to_files", "Include",
					   local_allow_names, &mask, &err),
			 0);
	assert_int_equal(mask, LOCAL_CLASS_INCLUDE);
	assert_int_equal(local_class_parse("allow_mail_to_files", "",
					   local_allow_names, &mask, &err),
			 0);
	assert_int_equal(mask, 0);
	assert_int_equal(local_class_parse("prepend_delivered_header",
					   "command, file, forward",
					   local_delivered_names, &mask, &err),
			 0);
	assert_int_equal(mask, LOCAL_DELIVERED_COMMAND | LOCAL_DELIVERED_FILE |
				       LOCAL_DELIVERED_FORWARD);
	assert_int_equal(local_class_parse("allow_mail_to_files",
					   "alias, bogus", local_allow_names,
					   &mask, &err),
			 -1);
	assert_string_equal(err.text,
			    "allow_mail_to_files: unknown value: bogus");
}

static void
test_delivered_header(void **state)
{
	static const struct {
		const char *line;
		const char *value; /* NULL: not the header */
	} cases[] = {
		{ "Delivered-To: User@Example.COM", "user@example.com" },
		{ "delivered-to:a@b  ", "a@b" },
		{ "DELIVERED-TO: \t x@y", "x@y" },
		{ "Delivered-To:", "" },
		{ "X-Delivered-To: a@b", NULL },
		{ "Delivered-Tox: a@b", NULL },
		{ "Delivered", NULL },
	};
	struct strbuf value;

	(void)state;
	strbuf_init(&value, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool is_it = local_delivered_header(
			cases[i].line, strlen(cases[i].line), &value);

		assert_int_equal(is_it, cases[i].value != NULL);
		if (is_it)
			assert_string_equal(strbuf_text(&value),
					    cases[i].value);
	}
	strbuf_deinit(&value);
}

static void
test_exit_status(void **state)
{
	static const struct {
		int status;
		const char *dsn, *text;
		bool is_temporary;
	} cases[] = {
		{ 64, "5.3.0", "command line usage error", false },
		{ 67, "5.1.1", "user unknown", false },
		{ 71, "4.3.0", "system resource problem", true },
		{ 73, "5.2.0", "can't create user output file", false },
		{ 75, "4.3.0", "temporary failure", true },
		{ 77, "5.7.0", "permission denied", false },
		{ 78, "5.3.5", "local configuration error", false },
		{ 1, "5.3.0", "unknown error", false },
		{ 63, "5.3.0", "unknown error", false },
		{ 79, "5.3.0", "unknown error", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct local_exit_info info;

		local_exit_status(cases[i].status, &info);
		assert_string_equal(info.dsn, cases[i].dsn);
		assert_string_equal(info.text, cases[i].text);
		assert_int_equal(info.is_temporary, cases[i].is_temporary);
	}
}

static void
test_command_reason(void **state)
{
	static const struct {
		const char *what;
		long number;
		const char *output;
		const char *expect;
	} cases[] = {
		{ "status", 67, "", "Command died with status 67: \"cmd\"" },
		{ "signal", 9, "\n\n", "Command died with signal 9: \"cmd\"" },
		{ "time", 0, "", "Command time limit exceeded: \"cmd\"" },
		{ "status", 1, "no such\nuser\n",
		  "Command died with status 1: \"cmd\". Command output: "
		  "no such user" },
	};
	struct strbuf out;

	(void)state;
	strbuf_init(&out, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&out);
		local_command_reason(cases[i].what, cases[i].number, "cmd",
				     cases[i].output, strlen(cases[i].output),
				     &out);
		assert_string_equal(strbuf_text(&out), cases[i].expect);
	}
	strbuf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_split),
		cmocka_unit_test(test_expand_forward_path),
		cmocka_unit_test(test_expand_syntax),
		cmocka_unit_test(test_expand_filter),
		cmocka_unit_test(test_expand_limit),
		cmocka_unit_test(test_token_classify),
		cmocka_unit_test(test_class_parse),
		cmocka_unit_test(test_delivered_header),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_command_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
