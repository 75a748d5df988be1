/*
 * test_smtp_cmd.c - unit tests for the SMTP command line parser.
 *
 * Reply texts and accept/reject decisions were observed on Debian's
 * Postfix 3.7.11 smtpd; "ours" marks deliberate differences documented
 * in smtp_cmd.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/smtp_cmd.h"

#define CRLF STREAM_END_CRLF
#define LF STREAM_END_LF
#define CUT STREAM_END_CUT
#define EOF_ STREAM_END_EOF
#define NORM SMTP_BARE_LF_NORMALIZE
#define REJ SMTP_BARE_LF_REJECT
#define NO SMTP_BARE_LF_NO
#define U8 SMTP_CMD_FLAG_UTF8

struct cmd_case {
	const char *line;
	size_t len; /* 0: strlen(line) */
	enum stream_line_end end;
	enum smtp_bare_lf mode;
	int flags;
	enum smtp_cmd_status status;
	enum smtp_verb verb;
	const char *arg; /* NULL: do not check */
	int argc;        /* checked when arg is checked */
	const char *reply;
};

#define NOT_RECOGNIZED "500 5.5.2 Error: command not recognized"
#define BAD_SYNTAX "500 5.5.2 Error: bad syntax"
#define BAD_UTF8 "500 5.5.2 Error: bad UTF-8 syntax"
#define MAIL_SYNTAX "501 5.5.4 Syntax: MAIL FROM:<address>"
#define RCPT_SYNTAX "501 5.5.4 Syntax: RCPT TO:<address>"
#define BDAT_SYNTAX "521 5.5.4 Syntax: BDAT count [LAST]"

static const struct cmd_case cmd_cases[] = {
	/* HELO / EHLO */
	{ "HELO x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO, "x", 1,
	  NULL },
	{ "HELO x y", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO, "x y", 2,
	  NULL },
	{ "HELO  x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO, "x", 1,
	  NULL },
	{ "HELO\tx", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO, "x", 1,
	  NULL },
	{ "helo x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO, "x", 1,
	  NULL },
	{ "eHlO x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_EHLO, "x", 1,
	  NULL },
	{ "  HELO x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO, "x", 1,
	  NULL },
	{ "HELO \xc3\xa9", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELO,
	  "\xc3\xa9", 1, NULL },
	{ "HELO", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_HELO, "", 0,
	  "501 Syntax: HELO hostname" },
	{ "HELO   ", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_HELO, "",
	  0, "501 Syntax: HELO hostname" },
	{ "EHLO", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_EHLO, "", 0,
	  "501 Syntax: EHLO hostname" },
	{ "EHLO ", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_EHLO, "",
	  0, "501 Syntax: EHLO hostname" },
	{ "EHLO x y", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_EHLO, "x y", 2,
	  NULL },
	/* MAIL */
	{ "MAIL FROM:<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_MAIL,
	  "<a@b.org>", 1, NULL },
	{ "MAIL FROM: <a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_MAIL, "<a@b.org>", 1, NULL },
	{ "MAIL FROM:\t <a@b.org> SIZE=5 ", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_MAIL, "<a@b.org> SIZE=5", 2, NULL },
	{ "mail from:<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_MAIL,
	  "<a@b.org>", 1, NULL },
	{ "MAIL  FROM:<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_MAIL, "<a@b.org>", 1, NULL },
	{ "MAIL FROM:a@b.org", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_MAIL,
	  "a@b.org", 1, NULL },
	{ "MAIL FROM:<>", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_MAIL, "<>",
	  1, NULL },
	{ "MAIL FROM:<\"a b\"@c.org>", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_MAIL, "<\"a b\"@c.org>", 2, NULL },
	{ "MAIL FROM :<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_MAIL, NULL, 0, MAIL_SYNTAX },
	{ "MAIL FROM<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_MAIL, NULL, 0, MAIL_SYNTAX },
	{ "MAIL FROM:", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL,
	  NULL, 0, MAIL_SYNTAX },
	{ "MAIL FROM: ", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL,
	  NULL, 0, MAIL_SYNTAX },
	{ "MAIL", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL, NULL,
	  0, MAIL_SYNTAX },
	{ "MAIL TO:<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_MAIL, NULL, 0, MAIL_SYNTAX },
	{ "MAILFROM:<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN,
	  SMTP_VERB_UNKNOWN, NULL, 0, NOT_RECOGNIZED },
	/* RCPT */
	{ "RCPT TO:<a@example.org>", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_RCPT, "<a@example.org>", 1, NULL },
	{ "rcpt to: <a@example.org> NOTIFY=NEVER", 0, CRLF, NORM, U8,
	  SMTP_CMD_OK, SMTP_VERB_RCPT, "<a@example.org> NOTIFY=NEVER", 2,
	  NULL },
	{ "RCPT TO :<a@example.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_RCPT, NULL, 0, RCPT_SYNTAX },
	{ "RCPT TO<a@example.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_RCPT, NULL, 0, RCPT_SYNTAX },
	{ "RCPT TO:", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_RCPT,
	  NULL, 0, RCPT_SYNTAX },
	{ "RCPT", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_RCPT, NULL,
	  0, RCPT_SYNTAX },
	{ "RCPT FROM:<a@example.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_RCPT, NULL, 0, RCPT_SYNTAX },
	/* Verbs without arguments */
	{ "DATA", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_DATA, "", 0, NULL },
	{ "data ", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_DATA, "", 0,
	  NULL },
	{ "DATA x", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_DATA, "x",
	  1, "501 5.5.4 Syntax: DATA" },
	{ "RSET", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_RSET, "", 0, NULL },
	{ "RSET ", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_RSET, "", 0,
	  NULL },
	{ "RSET x", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_RSET, "x",
	  1, "501 5.5.4 Syntax: RSET" },
	{ "STARTTLS", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_STARTTLS, "", 0,
	  NULL },
	{ "STARTTLS x", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_STARTTLS, "x", 1, "501 5.5.4 Syntax: STARTTLS" },
	{ "NOOP", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "", 0, NULL },
	{ "NOOP x y", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "x y", 2,
	  NULL },
	{ "QUIT", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_QUIT, "", 0, NULL },
	{ "QUIT x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_QUIT, "x", 1,
	  NULL },
	/* VRFY EXPN HELP ETRN */
	{ "VRFY", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_VRFY, "", 0,
	  "501 5.5.4 Syntax: VRFY address [SMTPUTF8]" },
	{ "VRFY a", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_VRFY, "a", 1,
	  NULL },
	{ "VRFY a SMTPUTF8", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_VRFY,
	  "a SMTPUTF8", 2, NULL },
	{ "EXPN", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_EXPN, "", 0, NULL },
	{ "EXPN a", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_EXPN, "a", 1,
	  NULL },
	{ "HELP", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELP, "", 0, NULL },
	{ "help me", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_HELP, "me", 1,
	  NULL },
	{ "ETRN", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_ETRN, "", 0,
	  "500 Syntax: ETRN domain" },
	{ "ETRN x y", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_ETRN,
	  "x y", 2, "500 Syntax: ETRN domain" },
	{ "ETRN @example.org", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_ETRN,
	  "@example.org", 1, NULL },
	/* AUTH XCLIENT XFORWARD */
	{ "AUTH", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_AUTH, "", 0,
	  "501 5.5.4 Syntax: AUTH mechanism" },
	{ "AUTH PLAIN", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_AUTH, "PLAIN",
	  1, NULL },
	{ "AUTH PLAIN AGZvbwBiYXI=", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_AUTH, "PLAIN AGZvbwBiYXI=", 2, NULL },
	{ "AUTH PLAIN x y", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_AUTH, "PLAIN x y", 3, "501 5.5.4 Syntax: AUTH mechanism" },
	{ "XCLIENT", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_XCLIENT,
	  "", 0, "501 5.5.4 Syntax: XCLIENT attribute=value..." },
	{ "XCLIENT NAME=x ADDR=1.2.3.4", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_XCLIENT, "NAME=x ADDR=1.2.3.4", 2, NULL },
	{ "XFORWARD", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_XFORWARD, "", 0,
	  "501 5.5.4 Syntax: XFORWARD attribute=value..." },
	{ "XFORWARD NAME=x", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_XFORWARD,
	  "NAME=x", 1, NULL },
	/* BDAT */
	{ "BDAT", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT, "", 0,
	  BDAT_SYNTAX },
	{ "BDAT x", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT, "x",
	  1, BDAT_SYNTAX },
	{ "BDAT -1", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT,
	  NULL, 0, BDAT_SYNTAX },
	{ "BDAT +5", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT,
	  NULL, 0, BDAT_SYNTAX },
	{ "BDAT 10 LAST x", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_BDAT, NULL, 0, BDAT_SYNTAX },
	{ "BDAT 10 FOO", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT,
	  NULL, 0, BDAT_SYNTAX },
	{ "BDAT 10LAST", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT,
	  NULL, 0, BDAT_SYNTAX },
	{ "BDAT 99999999999999999999", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_BDAT, NULL, 0, BDAT_SYNTAX },
	{ "BDAT 9223372036854775808", 0, CRLF, NORM, U8, SMTP_CMD_ERR_SYNTAX,
	  SMTP_VERB_BDAT, NULL, 0, BDAT_SYNTAX },
	{ "BDAT 10", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_BDAT, "10", 1,
	  NULL },
	/* Unknown commands, empty lines */
	{ "FOO", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN, "",
	  0, NOT_RECOGNIZED },
	{ "FOO bar", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN,
	  "bar", 1, NOT_RECOGNIZED },
	{ "TURN", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN,
	  NULL, 0, NOT_RECOGNIZED },
	{ "SEND FROM:<a@b.org>", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN,
	  SMTP_VERB_UNKNOWN, NULL, 0, NOT_RECOGNIZED },
	{ "GET / HTTP/1.0", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN,
	  SMTP_VERB_UNKNOWN, "/ HTTP/1.0", 2, NOT_RECOGNIZED },
	{ "NOOP\xc3\xa9", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN,
	  SMTP_VERB_UNKNOWN, NULL, 0, NOT_RECOGNIZED },
	{ "N\xc3\xa9OP", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN,
	  SMTP_VERB_UNKNOWN, NULL, 0, NOT_RECOGNIZED },
	{ "", 0, CRLF, NORM, U8, SMTP_CMD_ERR_EMPTY, SMTP_VERB_UNKNOWN, NULL, 0,
	  BAD_SYNTAX },
	{ " ", 0, CRLF, NORM, U8, SMTP_CMD_ERR_EMPTY, SMTP_VERB_UNKNOWN, NULL,
	  0, BAD_SYNTAX },
	{ "\t\v\f", 0, CRLF, NORM, U8, SMTP_CMD_ERR_EMPTY, SMTP_VERB_UNKNOWN,
	  NULL, 0, BAD_SYNTAX },
	/* NUL and CR (ours: Postfix cuts at NUL, CR is white space) */
	{ "NOOP\0", 5, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN,
	  NULL, 0, BAD_SYNTAX },
	{ "NO\0OP", 5, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN,
	  NULL, 0, BAD_SYNTAX },
	{ "MAIL FROM:<a@b.org>\0junk", 24, CRLF, NORM, U8,
	  SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN, NULL, 0, BAD_SYNTAX },
	{ "\0", 1, CRLF, NORM, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN,
	  NULL, 0, BAD_SYNTAX },
	{ "NOOP\rx", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_CHAR,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_SYNTAX },
	{ "\rNOOP", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN,
	  NULL, 0, BAD_SYNTAX },
	{ "MAIL FROM:<a@b.org>\rRCPT TO:<x@y>", 0, CRLF, NORM, U8,
	  SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN, NULL, 0, BAD_SYNTAX },
	{ "NOOP\r", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "", 0,
	  NULL },
	{ "RSET \r\r ", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_RSET, "", 0,
	  NULL },
	{ "\r", 0, CRLF, NORM, U8, SMTP_CMD_ERR_EMPTY, SMTP_VERB_UNKNOWN, NULL,
	  0, BAD_SYNTAX },
	/* Other control characters are data (as in Postfix) */
	{ "NOOP \x01", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "\x01",
	  1, NULL },
	{ "NO\x01OP", 0, CRLF, NORM, U8, SMTP_CMD_ERR_UNKNOWN,
	  SMTP_VERB_UNKNOWN, NULL, 0, NOT_RECOGNIZED },
	/* UTF-8 (Postfix with smtputf8_enable = yes) */
	{ "NOOP \xe9", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "FOO \xe9", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "HELO \xe9", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xc0\xaf", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xed\xa0\x80", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xf4\x90\x80\x80", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xe0\x80\x80", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xc2", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xc2\x20", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \x80", 0, CRLF, NORM, U8, SMTP_CMD_ERR_BAD_UTF8,
	  SMTP_VERB_UNKNOWN, NULL, 0, BAD_UTF8 },
	{ "NOOP \xf0\x9f\x98\x80", 0, CRLF, NORM, U8, SMTP_CMD_OK,
	  SMTP_VERB_NOOP, NULL, 0, NULL },
	{ "NOOP \xef\xbf\xbf", 0, CRLF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_NOOP,
	  NULL, 0, NULL },
	{ "NOOP \xe9", 0, CRLF, NORM, 0, SMTP_CMD_OK, SMTP_VERB_NOOP, "\xe9", 1,
	  NULL },
	/* Line ends */
	{ "NOOP", 0, LF, NORM, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "", 0, NULL },
	{ "NOOP", 0, LF, NO, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "", 0, NULL },
	{ "NOOP", 0, LF, REJ, U8, SMTP_CMD_ERR_BARE_LF, SMTP_VERB_UNKNOWN, NULL,
	  0, NULL },
	{ "NOOP", 0, CRLF, REJ, U8, SMTP_CMD_OK, SMTP_VERB_NOOP, "", 0, NULL },
	{ "NOOP", 0, EOF_, NORM, U8, SMTP_CMD_ERR_EOF, SMTP_VERB_UNKNOWN, NULL,
	  0, NULL },
	{ "", 0, EOF_, NORM, U8, SMTP_CMD_ERR_EOF, SMTP_VERB_UNKNOWN, NULL, 0,
	  NULL },
	{ "NOOP xxxx", 0, CUT, NORM, U8, SMTP_CMD_ERR_TOO_LONG,
	  SMTP_VERB_UNKNOWN, NULL, 0, "500 5.5.2 Error: line too long" },
	{ "MAIL FROM:a@b.org", 0, CUT, NO, 0, SMTP_CMD_ERR_TOO_LONG,
	  SMTP_VERB_UNKNOWN, NULL, 0, "500 5.5.2 Error: line too long" },
	/* Order: a cut line is refused before its bytes are looked at. */
	{ "\0\xe9", 2, CUT, REJ, U8, SMTP_CMD_ERR_TOO_LONG, SMTP_VERB_UNKNOWN,
	  NULL, 0, "500 5.5.2 Error: line too long" },
	{ "\0\xe9", 2, LF, REJ, U8, SMTP_CMD_ERR_BARE_LF, SMTP_VERB_UNKNOWN,
	  NULL, 0, NULL },
	{ "\xe9\0", 2, LF, NORM, U8, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN,
	  NULL, 0, BAD_SYNTAX },
};

static void
check_case(size_t i, const struct cmd_case *c)
{
	size_t len = c->len ? c->len : strlen(c->line);
	struct smtp_cmd cmd;
	enum smtp_cmd_status st;
	const char *reply;

	st = smtp_cmd_parse(c->line, len, c->end, c->mode, c->flags, &cmd);
	if (st != c->status || cmd.verb != c->verb)
		fail_msg("case %zu '%s': status %d verb %d, want %d %d", i,
			 c->line, st, cmd.verb, c->status, c->verb);
	if (c->arg) {
		assert_non_null(cmd.arg);
		if (strcmp(cmd.arg, c->arg) != 0 || cmd.argc != c->argc)
			fail_msg("case %zu '%s': arg '%s' (%d), want '%s' (%d)",
				 i, c->line, cmd.arg, cmd.argc, c->arg,
				 c->argc);
	}
	reply = smtp_cmd_reply(st, cmd.verb);
	if (c->reply == NULL)
		assert_null(reply);
	else if (reply == NULL || strcmp(reply, c->reply) != 0)
		fail_msg("case %zu '%s': reply '%s', want '%s'", i, c->line,
			 reply ? reply : "(null)", c->reply);
	smtp_cmd_free(&cmd);
	assert_null(cmd.arg);
	assert_null(cmd.word);
}

static void
test_cmd_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cmd_cases) / sizeof(cmd_cases[0]); i++)
		check_case(i, &cmd_cases[i]);
}

static void
test_word_and_bdat(void **state)
{
	struct smtp_cmd cmd;

	(void)state;
	assert_int_equal(
		smtp_cmd_parse("  get / HTTP/1.0", 16, CRLF, NORM, 0, &cmd),
		SMTP_CMD_ERR_UNKNOWN);
	assert_string_equal(cmd.word, "get");
	smtp_cmd_free(&cmd);
	assert_int_equal(smtp_cmd_parse("Connect x", 9, CRLF, NORM, 0, &cmd),
			 SMTP_CMD_ERR_UNKNOWN);
	assert_string_equal(cmd.word, "Connect");
	smtp_cmd_free(&cmd);
	assert_int_equal(smtp_cmd_parse("", 0, CRLF, NORM, 0, &cmd),
			 SMTP_CMD_ERR_EMPTY);
	assert_null(cmd.word);
	assert_null(cmd.arg);
	smtp_cmd_free(&cmd);
	assert_int_equal(
		smtp_cmd_parse("bdat 0010 last", 14, CRLF, NORM, 0, &cmd),
		SMTP_CMD_OK);
	assert_int_equal(cmd.verb, SMTP_VERB_BDAT);
	assert_int_equal(cmd.bdat_size, 10);
	assert_true(cmd.bdat_last);
	assert_string_equal(cmd.word, "bdat");
	smtp_cmd_free(&cmd);
	assert_int_equal(smtp_cmd_parse("BDAT  0", 7, CRLF, NORM, 0, &cmd),
			 SMTP_CMD_OK);
	assert_int_equal(cmd.bdat_size, 0);
	assert_false(cmd.bdat_last);
	smtp_cmd_free(&cmd);
	assert_int_equal(smtp_cmd_parse("BDAT 9223372036854775807 LAST", 29,
					CRLF, NORM, 0, &cmd),
			 SMTP_CMD_OK);
	assert_true(cmd.bdat_size == (uint64_t)INT64_MAX);
	assert_true(cmd.bdat_last);
	smtp_cmd_free(&cmd);
}

/* The parser never reads past len: the line need not be terminated. */
static void
test_not_terminated(void **state)
{
	char buf[16];
	struct smtp_cmd cmd;

	(void)state;
	memcpy(buf, "NOOPXXXXXXXXXXXX", 16);
	assert_int_equal(smtp_cmd_parse(buf, 4, CRLF, NORM, U8, &cmd),
			 SMTP_CMD_OK);
	assert_int_equal(cmd.verb, SMTP_VERB_NOOP);
	assert_string_equal(cmd.arg, "");
	smtp_cmd_free(&cmd);
	memcpy(buf, "MAIL FROM:<a>XXX", 16);
	assert_int_equal(smtp_cmd_parse(buf, 13, CRLF, NORM, U8, &cmd),
			 SMTP_CMD_OK);
	assert_string_equal(cmd.arg, "<a>");
	smtp_cmd_free(&cmd);
}

static void
test_must_close(void **state)
{
	(void)state;
	assert_true(smtp_cmd_must_close(SMTP_CMD_ERR_EOF, SMTP_VERB_UNKNOWN));
	assert_true(
		smtp_cmd_must_close(SMTP_CMD_ERR_BARE_LF, SMTP_VERB_UNKNOWN));
	assert_true(smtp_cmd_must_close(SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT));
	assert_false(smtp_cmd_must_close(SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL));
	assert_false(
		smtp_cmd_must_close(SMTP_CMD_ERR_TOO_LONG, SMTP_VERB_UNKNOWN));
	assert_false(smtp_cmd_must_close(SMTP_CMD_OK, SMTP_VERB_QUIT));
}

static void
test_names_and_modes(void **state)
{
	enum smtp_bare_lf mode = SMTP_BARE_LF_NO;
	struct strbuf *out = strbuf_create(200);

	(void)state;
	assert_string_equal(smtp_verb_name(SMTP_VERB_MAIL), "MAIL");
	assert_string_equal(smtp_verb_name(SMTP_VERB_XFORWARD), "XFORWARD");
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
	assert_int_equal(smtp_bare_lf_from_name("normalize", &mode), 0);
	assert_int_equal(mode, SMTP_BARE_LF_NORMALIZE);
	assert_int_equal(smtp_bare_lf_from_name("yes", &mode), 0);
	assert_int_equal(mode, SMTP_BARE_LF_NORMALIZE);
	assert_int_equal(smtp_bare_lf_from_name("reject", &mode), 0);
	assert_int_equal(mode, SMTP_BARE_LF_REJECT);
	assert_int_equal(smtp_bare_lf_from_name("No", &mode), 0);
	assert_int_equal(mode, SMTP_BARE_LF_NO);
	assert_int_equal(smtp_bare_lf_from_name("maybe", &mode), -1);
	assert_int_equal(mode, SMTP_BARE_LF_NO);
	strbuf_append_str(out, "junk");
	smtp_bare_lf_reply(out, 550, "mx.example.org");
	assert_string_equal(
		strbuf_text(out),
		"550 5.5.2 mx.example.org Error: bare <LF> received");
	strbuf_destroy(&out);
	assert_null(smtp_cmd_reply(SMTP_CMD_OK, SMTP_VERB_NOOP));
	assert_null(smtp_cmd_reply(SMTP_CMD_ERR_EOF, SMTP_VERB_NOOP));
	assert_null(smtp_cmd_reply(SMTP_CMD_ERR_BARE_LF, SMTP_VERB_NOOP));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_table),
		cmocka_unit_test(test_word_and_bdat),
		cmocka_unit_test(test_not_terminated),
		cmocka_unit_test(test_must_close),
		cmocka_unit_test(test_names_and_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
