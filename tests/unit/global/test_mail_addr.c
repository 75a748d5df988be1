/*
 * test_mail_addr.c - unit tests for SMTP path parsing, quoting and the
 * local-part routing helpers.
 *
 * Expected values marked "Postfix" were observed on Debian's Postfix
 * 3.7.11 smtpd (MAIL FROM / RCPT TO replies, and the address echoed by a
 * check_sender_access REJECT); those marked "ours" are deliberate
 * differences documented in mail_addr.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/mymalloc.h"

#include "global/mail_addr.h"

#define S MAIL_ADDR_SENDER
#define R MAIL_ADDR_RECIPIENT
#define STRICT MAIL_ADDR_FLAG_STRICT_RFC821
#define UTF8 MAIL_ADDR_FLAG_SMTPUTF8
#define STRICT_UTF8 MAIL_ADDR_FLAG_STRICT_SMTPUTF8
#define OK MAIL_ADDR_OK
#define BAD MAIL_ADDR_ERR_SYNTAX
#define NEED_UTF8 MAIL_ADDR_ERR_NEED_SMTPUTF8

struct path_case {
	const char *input;
	enum mail_addr_role role;
	int flags;
	enum mail_addr_status status;
	const char *addr;   /* OK: internal form; error: part of err text */
	const char *params; /* OK only; NULL means "" */
	bool had_route;
};

static const struct path_case path_cases[] = {
	/* Plain paths, white space, parameters (Postfix). */
	{ "<a@b.org>", S, 0, OK, "a@b.org", NULL, false },
	{ "<a@b.org>", S, STRICT, OK, "a@b.org", NULL, false },
	{ " <a@b.org>", S, STRICT, OK, "a@b.org", NULL, false },
	{ "\t <a@b.org>", S, 0, OK, "a@b.org", NULL, false },
	{ "\v<a@b.org>", S, 0, OK, "a@b.org", NULL, false },
	{ "<>", S, STRICT, OK, "", NULL, false },
	{ "<> SIZE=10", S, 0, OK, "", "SIZE=10", false },
	{ "<a@b.org> SIZE=123 BODY=8BITMIME", S, 0, OK, "a@b.org",
	  "SIZE=123 BODY=8BITMIME", false },
	{ "<a@b.org>  SIZE=123 \t", S, 0, OK, "a@b.org", "SIZE=123", false },
	{ "<a@b.org>\tSIZE=5", S, 0, OK, "a@b.org", "SIZE=5", false },
	{ "<a@b.org>\vSIZE=5", S, 0, OK, "a@b.org", "SIZE=5", false },
	{ "<a@b.org> x", S, 0, OK, "a@b.org", "x", false },
	{ "<a@b.org> <c@d.org>", S, 0, OK, "a@b.org", "<c@d.org>", false },
	{ "<A@B.ORG>", S, 0, OK, "A@B.ORG", NULL, false },
	{ "<a>", S, STRICT, OK, "a", NULL, false },
	{ "<postmaster>", R, STRICT, OK, "postmaster", NULL, false },
	/* Without brackets: lenient only (Postfix). */
	{ "a@b.org", S, 0, OK, "a@b.org", NULL, false },
	{ "a@b.org", S, STRICT, BAD, "without <>", NULL, false },
	{ "a@b.org SIZE=10", S, 0, OK, "a@b.org", "SIZE=10", false },
	{ "a b@c.org", S, 0, OK, "a", "b@c.org", false },
	{ "a", S, 0, OK, "a", NULL, false },
	{ "\"a b\"@c.org", S, 0, OK, "a b@c.org", NULL, false },
	{ "\"a b\"@c.org", S, STRICT, BAD, "without <>", NULL, false },
	/* Quoted local parts and escapes (Postfix). */
	{ "<\"a b\"@b.org>", S, STRICT, OK, "a b@b.org", NULL, false },
	{ "<\"a\\\"b\"@b.org>", S, STRICT, OK, "a\"b@b.org", NULL, false },
	{ "<\"a\\\\b\"@b.org>", S, STRICT, OK, "a\\b@b.org", NULL, false },
	{ "<\"a\\b\"@b.org>", S, STRICT, OK, "ab@b.org", NULL, false },
	{ "<\"a@b\"@b.org>", S, STRICT, OK, "a@b@b.org", NULL, false },
	{ "<\"a>b\"@b.org>", S, STRICT, OK, "a>b@b.org", NULL, false },
	{ "<\"ab\"@b.org>", S, STRICT, OK, "ab@b.org", NULL, false },
	{ "<a.\"b c\"@d.org>", S, STRICT, OK, "a.b c@d.org", NULL, false },
	{ "<\" \"@b.org>", S, STRICT, OK, " @b.org", NULL, false },
	{ "<\"<>\">", S, STRICT, OK, "<>", NULL, false },
	{ "<\"\">", S, STRICT, OK, "", NULL, false },
	{ "<\"\">", R, 0, BAD, "null recipient", NULL, false },
	{ "<\"a@b\">", S, 0, BAD, "without domain", NULL, false },
	{ "\"@\"", S, 0, BAD, "without domain", NULL, false },
	{ "<\"\"@b.org>", S, 0, OK, "@b.org", NULL, false },
	{ "<\"\"@b.org>", S, STRICT, BAD, "empty local part", NULL, false },
	{ "<a\\\\b@c.org>", S, STRICT, OK, "a\\b@c.org", NULL, false },
	{ "<a\\b@c.org>", S, STRICT, OK, "ab@c.org", NULL, false },
	{ "<a\\>b@c.org>", S, STRICT, OK, "a>b@c.org", NULL, false },
	{ "<a b@b.org>", S, 0, BAD, "words without", NULL, false },
	{ "<\"a\"b@c.org>", S, 0, BAD, "words without", NULL, false },
	{ "<a\"b\"@c.org>", S, 0, BAD, "words without", NULL, false },
	{ "<\"a b@b.org>", S, 0, BAD, "unterminated quoted", NULL, false },
	{ "<\"a>b@c.org>", S, 0, BAD, "unterminated quoted", NULL, false },
	{ "<\"a\\", S, 0, BAD, "backslash", NULL, false },
	{ "<\"a", S, 0, BAD, "unterminated quoted", NULL, false },
	{ "<a@b.org\\>", S, 0, BAD, "unbalanced", NULL, false },
	/* Dots and specials in the local part. */
	{ "<a..b@c.org>", S, STRICT, OK, "a..b@c.org", NULL, false },
	{ "<.a@c.org>", S, STRICT, OK, ".a@c.org", NULL, false },
	{ "<a.@c.org>", S, STRICT, OK, "a.@c.org", NULL, false },
	{ "<.@c.org>", S, STRICT, OK, ".@c.org", NULL, false },
	{ "<a!b@c.org>", S, STRICT, OK, "a!b@c.org", NULL, false },
	{ "<a%b@c.org>", S, STRICT, OK, "a%b@c.org", NULL, false },
	{ "<a@b@c.org>", S, STRICT, OK, "a@b@c.org", NULL, false },
	{ "<a;b@c.org>", S, 0, BAD, "';'", NULL, false },
	{ "<a,b@c.org>", S, 0, BAD, "','", NULL, false },
	{ "<a[b@c.org>", S, 0, BAD, "address literal", NULL, false },
	{ "<a[b]@c.org>", S, 0, BAD, "address literal in local", NULL, false },
	{ "<a:b@c.org>", S, 0, BAD, "':'", NULL, false },     /* ours */
	{ "<x.org:a@b.org>", S, 0, BAD, "':'", NULL, false }, /* ours */
	{ "<:a@b.org>", S, 0, BAD, "':'", NULL, false },      /* ours */
	{ "<a@b.org, c@d.org>", S, 0, BAD, "','", NULL, false },
	{ "<a@b.org; c@d.org>", S, 0, BAD, "';'", NULL, false },
	/* Source routes: accepted and removed (Postfix). */
	{ "<@x.org:a@b.org>", S, STRICT, OK, "a@b.org", NULL, true },
	{ "<@x.org,@y.org:a@b.org>", S, STRICT, OK, "a@b.org", NULL, true },
	{ "<@[1.2.3.4]:a@b.org>", S, STRICT, OK, "a@b.org", NULL, true },
	{ "<@x.org:a@example.org>", R, 0, OK, "a@example.org", NULL, true },
	{ "<@x.org,a@b.org>", S, 0, BAD, "bad source route", NULL, false },
	{ "<@x.org a@b.org>", S, 0, BAD, "words without", NULL, false },
	{ "<@x.org:>", S, 0, BAD, "without mailbox", NULL, false },   /* ours */
	{ "<@:a@b.org>", S, 0, BAD, "source route", NULL, false },    /* ours */
	{ "<@x!y:a@b.org>", S, 0, BAD, "source route", NULL, false }, /* ours */
	{ "<@x.org:@y.org:a@b.org>", S, 0, BAD, "':'", NULL, false },
	{ "<@x.org>", S, 0, OK, "@x.org", NULL, false },
	{ "<@x.org>", S, STRICT, BAD, "empty local part", NULL, false },
	{ "<@b.org>", S, 0, OK, "@b.org", NULL, false },
	{ "<@>", S, 0, BAD, "bad domain", NULL, false },
	/* Brackets, comments, display names. */
	{ "<<a@b.org>>", S, STRICT, OK, "a@b.org", NULL, false },
	{ "<<>>", S, STRICT, OK, "", NULL, false },
	{ "<Joe <a@b.org>>", S, 0, OK, "a@b.org", NULL, false },
	{ "<\"Joe X\" <a@b.org>>", S, 0, OK, "a@b.org", NULL, false },
	{ "<Joe <a@b.org>>", S, STRICT, BAD, "unbalanced", NULL, false },
	{ "<a(comment)@b.org>", S, 0, OK, "a@b.org", NULL, false },
	{ "<a(comment)@b.org>", S, STRICT, BAD, "comment", NULL, false },
	{ "<a@b.org (c)>", S, 0, OK, "a@b.org", NULL, false },
	{ "<a@b.org(c (nested) \\) x)>", S, 0, OK, "a@b.org", NULL, false },
	{ "<()a@b.org>", S, 0, OK, "a@b.org", NULL, false },
	{ "<a@(c)b.org>", S, 0, OK, "a@b.org", NULL, false },
	{ "<a(b@c.org>", S, 0, BAD, "unterminated comment", NULL, false },
	{ "(c) <a@b.org>", S, 0, OK, "", "<a@b.org>", false },
	{ "<a @b.org>", S, STRICT, OK, "a@b.org", NULL, false },
	{ "<a@ b.org>", S, STRICT, OK, "a@b.org", NULL, false },
	{ "< a@b.org>", S, STRICT, OK, "a@b.org", NULL, false },
	{ "<a@b.org >", S, STRICT, OK, "a@b.org", NULL, false },
	{ "<a@b.org", S, STRICT, BAD, "without <>", NULL, false },
	{ "<a@b.org", S, 0, BAD, "unbalanced", NULL, false },
	{ "<a@b.org>x", S, 0, BAD, "unbalanced", NULL, false },
	{ "<a@b.org>SIZE=5", S, 0, BAD, "unbalanced", NULL, false },
	{ "<a <b> @c.org>", S, 0, BAD, "unbalanced", NULL, false },
	{ "<>x", S, 0, BAD, "unbalanced", NULL, false },      /* ours */
	{ "a@b.org>", S, 0, BAD, "unbalanced", NULL, false }, /* ours */
	{ "<a@b.org> )", S, 0, OK, "a@b.org", ")", false },
	{ "<a@b.org)>", S, 0, BAD, "unexpected ')'", NULL, false },
	{ "<a]@b.org>", S, 0, BAD, "unexpected ']'", NULL, false },
	/* Null recipients. */
	{ "<>", R, 0, BAD, "null recipient", NULL, false },
	{ "<<>>", R, 0, BAD, "null recipient", NULL, false },
	{ "", S, 0, BAD, "missing address", NULL, false },
	{ "   ", S, 0, BAD, "missing address", NULL, false },
	/* Domains (Postfix valid_hostname / address literal rules). */
	{ "<a@b_c.org>", S, 0, OK, "a@b_c.org", NULL, false },
	{ "<a@b.org.>", S, 0, OK, "a@b.org.", NULL, false },
	{ "<a@b.123>", S, 0, OK, "a@b.123", NULL, false },
	{ "<a@xn--caf-dma.org>", S, 0, OK, "a@xn--caf-dma.org", NULL, false },
	{ "<a@localhost>", S, 0, OK, "a@localhost", NULL, false },
	{ "<a@[192.0.2.1]>", S, STRICT, OK, "a@[192.0.2.1]", NULL, false },
	{ "<a@[01.2.3.4]>", S, 0, OK, "a@[01.2.3.4]", NULL, false },
	{ "<a@[IPv6:2001:db8::1]>", S, 0, OK, "a@[IPv6:2001:db8::1]", NULL,
	  false },
	{ "<a@[IPv6:2001:DB8::1]>", S, 0, OK, "a@[IPv6:2001:DB8::1]", NULL,
	  false },
	{ "<a@[ipv6:::1]>", S, 0, OK, "a@[ipv6:::1]", NULL, false },
	{ "<a@[IPv6:::ffff:1.2.3.4]>", S, 0, OK, "a@[IPv6:::ffff:1.2.3.4]",
	  NULL, false },
	{ "<a@[300.0.2.1]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[1.2.3.1000]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[foo]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[IPv6:fe80::1%eth0]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[IPv6:1.2.3.4]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[IPv6:]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[1.2.3]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[1.2.3.4.]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[192.0.2.1>", S, 0, BAD, "unterminated address literal", NULL,
	  false },
	{ "<a@[192.0.2.1]x>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@x[192.0.2.1]>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@[1.2.3.4\\]>", S, 0, BAD, "address literal", NULL, false },
	{ "<a@1.2.3.4>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@123>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b->", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b-.org>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@-b.org>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@.b.org>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b..>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b.org..>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b..org>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b$.org>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b,c.org>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@\"b\".org>", S, 0, BAD, "bad domain", NULL, false }, /* ours */
	{ "<a@>", S, 0, BAD, "bad domain", NULL, false },
	{ "<a@b c.org>", S, 0, BAD, "bad domain", NULL, false },
	/* Control characters and 8-bit. */
	{ "<a@b.org\x01>", S, 0, BAD, "control character", NULL, false },
	{ "<a@b.org\x7f>", S, 0, BAD, "control character", NULL, false },
	{ "<a\rb@b.org>", S, 0, BAD, "control character", NULL, false },
	{ "<\"a\x01"
	  "b\"@c.org>",
	  S, 0, BAD, "control character", NULL, false }, /* ours */
	{ "<\"a\\\x01"
	  "b\"@c.org>",
	  S, 0, BAD, "backslash", NULL, false },
	{ "<a(\x01)@c.org>", S, 0, BAD, "control character in comment", NULL,
	  false },
	{ "<a\xc3\xa9@c.org>", S, 0, OK, "a\xc3\xa9@c.org", NULL, false },
	{ "<a\xc3\xa9@c.org>", R, STRICT, OK, "a\xc3\xa9@c.org", NULL, false },
	{ "<\"a\xc3\xa9 b\"@c.org>", S, 0, OK, "a\xc3\xa9 b@c.org", NULL,
	  false },
	/* 8-bit policy comes later (mail_addr_check_8bit), as in Postfix. */
	{ "<a\xc3\xa9@c.org>", S, STRICT_UTF8, OK, "a\xc3\xa9@c.org", NULL,
	  false },
	{ "<a@b\xc3\xa9.org>", S, 0, OK, "a@b\xc3\xa9.org", NULL, false },
	{ "<@b\xc3\xa9.org:a@b.org>", S, 0, OK, "a@b.org", NULL, true },
	{ "<a\xe9@c.org>", S, UTF8, BAD, "malformed UTF-8", NULL, false },
	{ "<a\xe9@c.org>", S, 0, BAD, "malformed UTF-8", NULL, false },
	{ "<a@b\xe9.org>", S, UTF8, BAD, "bad domain", NULL, false },
	{ "<a@b\xc0\xaf.org>", S, UTF8, BAD, "bad domain", NULL, false },
	{ "<a@[1.2.3.\xc3\xa9]>", S, UTF8, BAD, "address literal", NULL,
	  false },
};

static void
test_parse_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]);
	     i++) {
		const struct path_case *c = &path_cases[i];
		struct mail_addr_path path;
		struct err err;
		enum mail_addr_status status;

		err_clear(&err);
		status = mail_addr_parse_path(c->input, c->role, c->flags,
					      &path, &err);
		if (status != c->status)
			fail_msg("case %zu '%s': status %d, want %d (%s)", i,
				 c->input, status, c->status, err.text);
		if (status == MAIL_ADDR_OK) {
			assert_string_equal(path.addr, c->addr);
			assert_string_equal(path.params,
					    c->params ? c->params : "");
			assert_int_equal(path.had_route, c->had_route);
		} else {
			assert_null(path.addr);
			if (strstr(err.text, c->addr) == NULL)
				fail_msg(
					"case %zu '%s': reason '%s' lacks '%s'",
					i, c->input, err.text, c->addr);
		}
		mail_addr_path_free(&path);
	}
}

/* Quoting what the parser produced and parsing it again is stable. */
static void
test_parse_quote_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]);
	     i++) {
		const struct path_case *c = &path_cases[i];
		struct mail_addr_path path;
		struct mail_addr_path again;
		char *quoted;
		char *bracketed;
		char *unquoted;

		if (c->status != MAIL_ADDR_OK)
			continue;
		assert_int_equal(mail_addr_parse_path(c->input, c->role,
						      c->flags, &path, NULL),
				 MAIL_ADDR_OK);
		quoted = mail_addr_quote(path.addr);
		bracketed = xasprintf("<%s>", quoted);
		unquoted = mail_addr_unquote(quoted);
		assert_string_equal(unquoted, path.addr);
		assert_int_equal(mail_addr_parse_path(bracketed, c->role,
						      c->flags & ~STRICT,
						      &again, NULL),
				 MAIL_ADDR_OK);
		assert_string_equal(again.addr, path.addr);
		mail_addr_path_free(&again);
		mail_addr_path_free(&path);
		free(unquoted);
		free(bracketed);
		free(quoted);
	}
}

/* Limits: Postfix's domain rules, our cap on the whole address. */
static void
test_parse_limits(void **state)
{
	char label63[64];
	char label64[65];
	char text[4096];
	char local[2000];
	struct mail_addr_path path;
	struct err err;

	(void)state;
	memset(label63, 'y', 63);
	label63[63] = 0;
	memset(label64, 'y', 64);
	label64[64] = 0;
	snprintf(text, sizeof(text), "<a@%s.org>", label63);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), OK);
	mail_addr_path_free(&path);
	snprintf(text, sizeof(text), "<a@%s.org>", label64);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), BAD);
	/* 4 x 63 + 3 dots = 255 bytes: fine, also with a trailing dot. */
	snprintf(text, sizeof(text), "<a@%s.%s.%s.%s>", label63, label63,
		 label63, label63);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), OK);
	mail_addr_path_free(&path);
	snprintf(text, sizeof(text), "<a@%s.%s.%s.%s.>", label63, label63,
		 label63, label63);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), OK);
	mail_addr_path_free(&path);
	snprintf(text, sizeof(text), "<a@%s.%s.%s.%s.zz>", label63, label63,
		 label63, label63);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), BAD);
	/* Long local parts are fine up to the cap (Postfix: no limit). */
	memset(local, 'x', 500);
	local[500] = 0;
	snprintf(text, sizeof(text), "<%s@b.org>", local);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), OK);
	assert_int_equal(strlen(path.addr), 506);
	mail_addr_path_free(&path);
	memset(local, 'x', MAIL_ADDR_MAX_LEN - 6);
	local[MAIL_ADDR_MAX_LEN - 6] = 0;
	snprintf(text, sizeof(text), "<%s@b.org>", local);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), OK);
	assert_int_equal(strlen(path.addr), MAIL_ADDR_MAX_LEN);
	mail_addr_path_free(&path);
	snprintf(text, sizeof(text), "<%sx@b.org>", local);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), BAD);
	assert_non_null(strstr(err.text, "longer than 1024"));
	memset(local, 'x', 1500);
	local[1500] = 0;
	snprintf(text, sizeof(text), "<%s>", local);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), BAD);
	assert_non_null(strstr(err.text, "longer than 1024"));
	/* A path token far over the cap is refused before lexing. */
	memset(text, 'x', 3000);
	text[0] = '<';
	text[3000] = 0;
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), BAD);
	assert_non_null(strstr(err.text, "longer than 1024"));
	/* Quoted strings count decoded: escapes do not hide length. */
	memset(local, 'x', 1100);
	local[1100] = 0;
	snprintf(text, sizeof(text), "<\"%s\"@b.org>", local);
	assert_int_equal(mail_addr_parse_path(text, S, 0, &path, &err), BAD);
}

struct utf8_case {
	const char *addr;
	int flags;
	enum mail_addr_status status;
	const char *reason;
};

/* Postfix 3.7: smtputf8_enable = yes, strict_smtputf8 = no / yes. */
static const struct utf8_case utf8_cases[] = {
	{ "a@b.org", 0, OK, NULL },
	{ "a@b.org", STRICT_UTF8, OK, NULL },
	{ "", STRICT_UTF8, OK, NULL },
	{ "a\xc3\xa9@c.org", 0, OK, NULL },
	{ "a\xc3\xa9@c.org", STRICT_UTF8, NEED_UTF8, "without SMTPUTF8" },
	{ "a\xc3\xa9@c.org", UTF8 | STRICT_UTF8, OK, NULL },
	{ "a\xc3\xa9", STRICT_UTF8, NEED_UTF8, "without SMTPUTF8" },
	{ "a@b\xc3\xa9.org", 0, BAD, "UTF-8 domain" },
	{ "a@b\xc3\xa9.org", STRICT_UTF8, BAD, "UTF-8 domain" },
	{ "a\xc3\xa9@b\xc3\xa9.org", STRICT_UTF8, BAD, "UTF-8 domain" },
	{ "a@b\xc3\xa9.org", UTF8, OK, NULL },
};

static void
test_check_8bit(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	     i++) {
		struct err err;
		enum mail_addr_status st;

		err_clear(&err);
		st = mail_addr_check_8bit(utf8_cases[i].addr,
					  utf8_cases[i].flags, &err);
		if (st != utf8_cases[i].status)
			fail_msg("case %zu: status %d", i, st);
		if (utf8_cases[i].reason)
			assert_non_null(strstr(err.text, utf8_cases[i].reason));
	}
}

static void
test_replies(void **state)
{
	(void)state;
	assert_string_equal(mail_addr_reply(BAD, S),
			    "501 5.1.7 Bad sender address syntax");
	assert_string_equal(mail_addr_reply(BAD, R),
			    "501 5.1.3 Bad recipient address syntax");
	assert_string_equal(
		mail_addr_reply(NEED_UTF8, S),
		"553 5.6.7 Must declare SMTPUTF8 to send unicode address");
	assert_string_equal(
		mail_addr_reply(NEED_UTF8, R),
		"553 5.6.7 Must declare SMTPUTF8 to send unicode address");
	assert_string_equal(mail_addr_reply(OK, S), "250 2.1.0 Ok");
	assert_string_equal(mail_addr_reply(OK, R), "250 2.1.5 Ok");
}

struct quote_case {
	const char *internal;
	const char *external;
};

/* The external forms are what Postfix 3.7 logs as from=<...>. */
static const struct quote_case quote_cases[] = {
	{ "a b@b.org", "\"a b\"@b.org" },
	{ "a..b@c.org", "\"a..b\"@c.org" },
	{ ".a@c.org", "\".a\"@c.org" },
	{ "a.b.@c.org", "\"a.b.\"@c.org" },
	{ "a\\b@b.org", "\"a\\\\b\"@b.org" },
	{ "a\"b@b.org", "\"a\\\"b\"@b.org" },
	{ "a@b@b.org", "\"a@b\"@b.org" },
	{ "@b.org", "\"\"@b.org" },
	{ "<>", "\"<>\"" },
	{ "a,b@c.org", "\"a,b\"@c.org" },
	{ "a(b@c.org", "\"a(b\"@c.org" },
	{ "a b", "\"a b\"" },
	{ "a.b@c.org", "a.b@c.org" },
	{ "a%b@c.org", "a%b@c.org" },
	{ "a!b@c.org", "a!b@c.org" },
	{ "a'b@c.org", "a'b@c.org" },
	{ "a+tag=x{}|~^`#$&*/?@c.org", "a+tag=x{}|~^`#$&*/?@c.org" },
	{ "x@c.org", "x@c.org" },
	{ "a\xc3\xa9@c.org", "a\xc3\xa9@c.org" },
	{ "postmaster", "postmaster" },
	{ "", "" },
	{ "a@[IPv6:::1]", "a@[IPv6:::1]" },
};

static void
test_quote_unquote(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]);
	     i++) {
		char *q = mail_addr_quote(quote_cases[i].internal);
		char *u = mail_addr_unquote(quote_cases[i].external);

		assert_string_equal(q, quote_cases[i].external);
		assert_string_equal(u, quote_cases[i].internal);
		free(q);
		free(u);
	}
}

static void
test_unquote_more(void **state)
{
	static const struct quote_case cases[] = {
		/* external, internal */
		{ "\"a\"@b", "a@b" },
		{ "\"a\".\"b\"@c", "a.b@c" },
		{ "\"a@b\"@c", "a@b@c" },
		{ "\"x@y\"", "x@y" },
		{ "a\\@b@c", "a@b@c" },
		{ "\"\"", "" },
		{ "\"a\\\"", "a\"" },
		{ "\"a@", "a@" },
		{ "plain@Dom.ORG", "plain@Dom.ORG" },
		{ "a@\"b\"", "a@\"b\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = mail_addr_unquote(cases[i].internal);

		assert_string_equal(u, cases[i].external);
		free(u);
	}
}

static void
test_needs_quoting(void **state)
{
	(void)state;
	assert_true(mail_addr_local_needs_quoting("", 0));
	assert_true(mail_addr_local_needs_quoting("a b", 3));
	assert_true(mail_addr_local_needs_quoting(".", 1));
	assert_true(mail_addr_local_needs_quoting("a\x01", 2));
	assert_true(mail_addr_local_needs_quoting("a\x7f", 2));
	assert_false(mail_addr_local_needs_quoting("a.b.c", 5));
	assert_false(mail_addr_local_needs_quoting("a..b", 1)); /* len 1: "a" */
	assert_true(mail_addr_local_needs_quoting("a..b", 4));
	assert_false(mail_addr_local_needs_quoting("\xc3\xa9", 2));
}

static void
test_split_and_lowercase(void **state)
{
	struct mail_addr_parts parts;
	char mixed[] = "User.Name@Sub.EXAMPLE.Org";
	char nodomain[] = "UPPER";
	char twoat[] = "A@B@C.ORG";
	char literal[] = "a@[IPv6:ABCD::1]";

	(void)state;
	mail_addr_split("a@b@c.org", &parts);
	assert_int_equal(parts.local_len, 3);
	assert_memory_equal(parts.local, "a@b", 3);
	assert_string_equal(parts.domain, "c.org");
	mail_addr_split("postmaster", &parts);
	assert_int_equal(parts.local_len, 10);
	assert_null(parts.domain);
	mail_addr_split("@x", &parts);
	assert_int_equal(parts.local_len, 0);
	assert_string_equal(parts.domain, "x");
	mail_addr_split("", &parts);
	assert_int_equal(parts.local_len, 0);
	assert_null(parts.domain);
	assert_string_equal(mail_addr_lowercase_domain(mixed),
			    "User.Name@sub.example.org");
	assert_string_equal(mail_addr_lowercase_domain(nodomain), "UPPER");
	assert_string_equal(mail_addr_lowercase_domain(twoat), "A@B@c.org");
	assert_string_equal(mail_addr_lowercase_domain(literal),
			    "a@[ipv6:abcd::1]");
}

static void
test_domain_is_valid(void **state)
{
	(void)state;
	assert_true(mail_addr_domain_is_valid("example.org", 11, false));
	assert_true(mail_addr_domain_is_valid("a", 1, false));
	assert_true(mail_addr_domain_is_valid("1a", 2, false));
	assert_false(mail_addr_domain_is_valid("", 0, false));
	assert_false(mail_addr_domain_is_valid(".", 1, false));
	assert_false(mail_addr_domain_is_valid("1.2", 3, false));
	assert_false(mail_addr_domain_is_valid("[1.2.3.4", 8, false));
	assert_true(mail_addr_domain_is_valid("[1.2.3.4]", 9, false));
	assert_false(mail_addr_domain_is_valid("[IPv6:::1", 9, false));
	/* the length argument is honoured */
	assert_true(mail_addr_domain_is_valid("b.org>junk", 5, false));
}

static void
test_routing_bits(void **state)
{
	(void)state;
	assert_int_equal(mail_addr_routing("a@b.org"), 0);
	assert_int_equal(mail_addr_routing("a%b@c.org"),
			 MAIL_ADDR_ROUTE_PERCENT);
	assert_int_equal(mail_addr_routing("b!a@c.org"), MAIL_ADDR_ROUTE_BANG);
	assert_int_equal(mail_addr_routing("a@b@c.org"), MAIL_ADDR_ROUTE_AT);
	assert_int_equal(mail_addr_routing("x!a%b@c@d.org"),
			 MAIL_ADDR_ROUTE_PERCENT | MAIL_ADDR_ROUTE_BANG |
				 MAIL_ADDR_ROUTE_AT);
	assert_int_equal(mail_addr_routing("a@b%c.org"), 0);
	assert_int_equal(mail_addr_routing("a@b!c.org"), 0);
	assert_int_equal(mail_addr_routing("a%b"), MAIL_ADDR_ROUTE_PERCENT);
	assert_int_equal(mail_addr_routing("b!a"), MAIL_ADDR_ROUTE_BANG);
	assert_false(mail_addr_has_routing("plain@example.org"));
	assert_true(mail_addr_has_routing("a%b"));
}

static bool
is_local(const char *domain, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	return strcmp(domain, "example.org") == 0 ||
	       strcmp(domain, "localhost") == 0;
}

struct route_case {
	const char *addr;
	const char *final;
	bool is_routed;
	bool relay_ok; /* what Postfix 3.7 answered: 250 (true) or 554 */
};

/* Postfix defaults: allow_percent_hack, swap_bangpath and
 * resolve_dequoted_address all yes; mydestination example.org. */
static const struct route_case route_default[] = {
	{ "c@example.org", "c@example.org", false, true },
	{ "c@EXAMPLE.ORG", "c@EXAMPLE.ORG", false, true },
	{ "c@example.org.", "c@example.org.", false, true },
	{ "c%other.org@example.org", "c@other.org", false, false },
	{ "c%example.org@example.org", "c@example.org", false, true },
	{ "c%other.org", "c@other.org", false, false },
	{ "other.org!c@example.org", "c@other.org", false, false },
	{ "other.org!c", "c@other.org", false, false },
	{ "example.org!c", "c@example.org", false, true },
	{ "example.org!c@example.org", "c@example.org", false, true },
	{ "c@other.org@example.org", "c@other.org", false, false },
	{ "c@example.org@example.org", "c@example.org", false, true },
	{ "c%other.org@example.org", "c@other.org", false, false },
	{ "c!d!e@example.org", "d!e@c", true, false },
	{ "c%d%e@example.org", "c%d@e", true, false },
	{ "c@localhost", "c@localhost", false, true },
	{ "c@[127.0.0.1]", "c@[127.0.0.1]", false, false },
	{ "c d@example.org", "c d@example.org", false, true },
	{ "!c@example.org", "!c", true, false },
	{ "c!@example.org", "c!", true, false },
	{ "c@other.org", "c@other.org", false, false },
	{ "postmaster", "postmaster", false, true },
};

/* All three off (in main.cf, so trivial-rewrite saw them too). */
static const struct route_case route_off[] = {
	{ "c@example.org", "c@example.org", false, true },
	{ "c%other.org@example.org", "c%other.org@example.org", true, false },
	{ "c%example.org@example.org", "c%example.org@example.org", true,
	  false },
	{ "c%other.org", "c%other.org", true, false },
	{ "other.org!c@example.org", "other.org!c@example.org", true, false },
	{ "other.org!c", "other.org!c", true, false },
	{ "example.org!c", "example.org!c", true, false },
	{ "example.org!c@example.org", "example.org!c@example.org", true,
	  false },
	{ "c@other.org@example.org", "c@other.org@example.org", true, false },
	{ "c@example.org@example.org", "c@example.org@example.org", true,
	  false },
	{ "c!d!e@example.org", "c!d!e@example.org", true, false },
	{ "c%d%e@example.org", "c%d%e@example.org", true, false },
	{ "c d@example.org", "c d@example.org", false, true },
};

static void
check_routes(const struct route_case *cases, size_t count, bool on)
{
	int calls = 0;
	struct mail_addr_route_opts opts = {
		.allow_percent_hack = on,
		.swap_bangpath = on,
		.resolve_dequoted_address = on,
		.is_local_domain = is_local,
		.ctx = &calls,
	};

	for (size_t i = 0; i < count; i++) {
		bool routed = !cases[i].is_routed;
		char *final =
			mail_addr_route_resolve(cases[i].addr, &opts, &routed);
		struct mail_addr_parts parts;
		bool local;
		bool relay_ok;
		char *dom;

		if (strcmp(final, cases[i].final) != 0 ||
		    routed != cases[i].is_routed)
			fail_msg("%s: got '%s' routed=%d, want '%s' %d",
				 cases[i].addr, final, routed, cases[i].final,
				 cases[i].is_routed);
		/* reject_unauth_destination: local destination, not routed. */
		mail_addr_split(final, &parts);
		dom = parts.domain ? xstrdup(parts.domain) : NULL;
		if (dom && dom[0] && dom[strlen(dom) - 1] == '.')
			dom[strlen(dom) - 1] = 0;
		for (char *d = dom; d && *d; d++)
			if (*d >= 'A' && *d <= 'Z')
				*d = (char)(*d - 'A' + 'a');
		local = dom == NULL || is_local(dom, &calls);
		relay_ok = local && !routed;
		if (relay_ok != cases[i].relay_ok)
			fail_msg("%s: relay_ok %d, Postfix said %d",
				 cases[i].addr, relay_ok, cases[i].relay_ok);
		free(dom);
		free(final);
	}
	assert_true(calls > 0);
}

static void
test_route_resolve(void **state)
{
	(void)state;
	check_routes(route_default,
		     sizeof(route_default) / sizeof(route_default[0]), true);
	check_routes(route_off, sizeof(route_off) / sizeof(route_off[0]),
		     false);
}

/* Mixed options: only the enabled operator is acted on. */
static void
test_route_mixed(void **state)
{
	int calls = 0;
	struct mail_addr_route_opts opts = {
		.allow_percent_hack = true,
		.is_local_domain = is_local,
		.ctx = &calls,
	};
	bool routed;
	char *final;

	(void)state;
	final = mail_addr_route_resolve("c%example.org@example.org", &opts,
					&routed);
	assert_string_equal(final, "c@example.org");
	assert_false(routed);
	free(final);
	final = mail_addr_route_resolve("example.org!c@example.org", &opts,
					&routed);
	assert_string_equal(final, "example.org!c@example.org");
	assert_true(routed);
	free(final);
	/* A long chain terminates. */
	final = mail_addr_route_resolve(
		"a%example.org%example.org%example.org@example.org", &opts,
		&routed);
	assert_string_equal(final, "a@example.org");
	assert_false(routed);
	free(final);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_path),
		cmocka_unit_test(test_parse_quote_roundtrip),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_check_8bit),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_quote_unquote),
		cmocka_unit_test(test_unquote_more),
		cmocka_unit_test(test_needs_quoting),
		cmocka_unit_test(test_split_and_lowercase),
		cmocka_unit_test(test_domain_is_valid),
		cmocka_unit_test(test_routing_bits),
		cmocka_unit_test(test_route_resolve),
		cmocka_unit_test(test_route_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
