/*
 * smtp_cmd.c - SMTP server command line parsing and syntax replies.
 *
 * One table row per verb: its name, how many argument words it takes,
 * and Postfix's reply when the argument is wrong. MAIL, RCPT and BDAT
 * have their own argument checks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/utf8.h"

#include "global/smtp_cmd.h"

/* BDAT sizes above this are syntax errors (Postfix parses an off_t). */
#define BDAT_SIZE_MAX ((uint64_t)INT64_MAX)

struct verb_def {
	const char *name;
	enum smtp_verb verb;
	int min_args;
	int max_args; /* -1: no limit */
	const char *syntax_reply;
};

static const struct verb_def verb_defs[] = {
	{ "HELO", SMTP_VERB_HELO, 1, -1, "501 Syntax: HELO hostname" },
	{ "EHLO", SMTP_VERB_EHLO, 1, -1, "501 Syntax: EHLO hostname" },
	{ "MAIL", SMTP_VERB_MAIL, 1, -1,
	  "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "RCPT", SMTP_VERB_RCPT, 1, -1,
	  "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "DATA", SMTP_VERB_DATA, 0, 0, "501 5.5.4 Syntax: DATA" },
	{ "BDAT", SMTP_VERB_BDAT, 1, 2, "521 5.5.4 Syntax: BDAT count [LAST]" },
	{ "RSET", SMTP_VERB_RSET, 0, 0, "501 5.5.4 Syntax: RSET" },
	{ "NOOP", SMTP_VERB_NOOP, 0, -1, NULL },
	{ "QUIT", SMTP_VERB_QUIT, 0, -1, NULL },
	{ "VRFY", SMTP_VERB_VRFY, 1, -1,
	  "501 5.5.4 Syntax: VRFY address [SMTPUTF8]" },
	{ "EXPN", SMTP_VERB_EXPN, 0, -1, NULL },
	{ "HELP", SMTP_VERB_HELP, 0, -1, NULL },
	{ "ETRN", SMTP_VERB_ETRN, 1, 1, "500 Syntax: ETRN domain" },
	{ "STARTTLS", SMTP_VERB_STARTTLS, 0, 0, "501 5.5.4 Syntax: STARTTLS" },
	{ "AUTH", SMTP_VERB_AUTH, 1, 2, "501 5.5.4 Syntax: AUTH mechanism" },
	{ "XCLIENT", SMTP_VERB_XCLIENT, 1, -1,
	  "501 5.5.4 Syntax: XCLIENT attribute=value..." },
	{ "XFORWARD", SMTP_VERB_XFORWARD, 1, -1,
	  "501 5.5.4 Syntax: XFORWARD attribute=value..." },
};

#define VERB_COUNT (sizeof(verb_defs) / sizeof(verb_defs[0]))

static bool
is_ws(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f';
}

int
smtp_bare_lf_from_name(const char *value, enum smtp_bare_lf *out)
{
	if (strcasecmp(value, "normalize") == 0 ||
	    strcasecmp(value, "yes") == 0)
		*out = SMTP_BARE_LF_NORMALIZE;
	else if (strcasecmp(value, "reject") == 0)
		*out = SMTP_BARE_LF_REJECT;
	else if (strcasecmp(value, "no") == 0)
		*out = SMTP_BARE_LF_NO;
	else
		return -1;
	return 0;
}

void
smtp_bare_lf_reply(struct strbuf *out, int code, const char *myhostname)
{
	strbuf_reset(out);
	strbuf_printf(out, "%d 5.5.2 %s Error: bare <LF> received", code,
		      myhostname);
}

static const struct verb_def *
find_verb(enum smtp_verb verb)
{
	for (size_t i = 0; i < VERB_COUNT; i++)
		if (verb_defs[i].verb == verb)
			return &verb_defs[i];
	return NULL;
}

const char *
smtp_verb_name(enum smtp_verb verb)
{
	const struct verb_def *d = find_verb(verb);

	return d ? d->name : "UNKNOWN";
}

static int
count_words(const char *text)
{
	int count = 0;

	while (*text) {
		while (is_ws((unsigned char)*text))
			text++;
		if (*text == 0)
			break;
		count++;
		while (*text && !is_ws((unsigned char)*text))
			text++;
	}
	return count;
}

/* "FROM:" / "TO:" then optional white space then something. */
static bool
take_prefix(struct smtp_cmd *cmd, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *rest;
	char *copy;

	if (strncasecmp(cmd->arg, prefix, n) != 0)
		return false;
	for (rest = cmd->arg + n; is_ws((unsigned char)*rest); rest++)
		;
	if (*rest == 0)
		return false;
	copy = xstrdup(rest);
	free(cmd->arg);
	cmd->arg = copy;
	cmd->argc = count_words(copy);
	return true;
}

/* "count [LAST]": digits only, at most BDAT_SIZE_MAX. */
static bool
parse_bdat(struct smtp_cmd *cmd)
{
	const char *p = cmd->arg;
	uint64_t size = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (size > (BDAT_SIZE_MAX - digit) / 10)
			return false;
		size = size * 10 + digit;
	}
	if (*p && !is_ws((unsigned char)*p))
		return false;
	while (is_ws((unsigned char)*p))
		p++;
	if (*p && strcasecmp(p, "LAST") != 0)
		return false;
	cmd->bdat_size = size;
	cmd->bdat_last = *p != 0;
	return true;
}

static bool
check_args(const struct verb_def *d, struct smtp_cmd *cmd)
{
	if (cmd->argc < d->min_args ||
	    (d->max_args >= 0 && cmd->argc > d->max_args))
		return false;
	switch (d->verb) {
	case SMTP_VERB_MAIL:
		return take_prefix(cmd, "FROM:");
	case SMTP_VERB_RCPT:
		return take_prefix(cmd, "TO:");
	case SMTP_VERB_BDAT:
		return parse_bdat(cmd);
	default:
		return true;
	}
}

/* Length of the line without trailing white space and CRs. */
static size_t
trimmed_len(const char *line, size_t len)
{
	while (len > 0 &&
	       (is_ws((unsigned char)line[len - 1]) || line[len - 1] == '\r'))
		len--;
	return len;
}

/* The checks that do not need the verb. */
static enum smtp_cmd_status
check_line(const char *line, size_t len, size_t trimmed,
	   enum stream_line_end end, enum smtp_bare_lf bare_lf, int flags)
{
	if (end == STREAM_END_EOF)
		return SMTP_CMD_ERR_EOF;
	if (end == STREAM_END_CUT)
		return SMTP_CMD_ERR_TOO_LONG;
	if (end == STREAM_END_LF && bare_lf == SMTP_BARE_LF_REJECT)
		return SMTP_CMD_ERR_BARE_LF;
	if (memchr(line, 0, len) || memchr(line, '\r', trimmed))
		return SMTP_CMD_ERR_BAD_CHAR;
	if ((flags & SMTP_CMD_FLAG_UTF8) && !utf8_is_valid(line, len))
		return SMTP_CMD_ERR_BAD_UTF8;
	return SMTP_CMD_OK;
}

static const struct verb_def *
lookup_word(const char *word, size_t len)
{
	for (size_t i = 0; i < VERB_COUNT; i++)
		if (strlen(verb_defs[i].name) == len &&
		    strncasecmp(word, verb_defs[i].name, len) == 0)
			return &verb_defs[i];
	return NULL;
}

enum smtp_cmd_status
smtp_cmd_parse(const char *line, size_t len, enum stream_line_end end,
	       enum smtp_bare_lf bare_lf, int flags, struct smtp_cmd *out)
{
	size_t trimmed = trimmed_len(line, len);
	size_t start = 0;
	size_t word_len;
	const struct verb_def *d;
	enum smtp_cmd_status status;

	memset(out, 0, sizeof(*out));
	status = check_line(line, len, trimmed, end, bare_lf, flags);
	if (status != SMTP_CMD_OK)
		return status;
	while (start < trimmed && is_ws((unsigned char)line[start]))
		start++;
	if (start == trimmed)
		return SMTP_CMD_ERR_EMPTY;
	for (word_len = 0; start + word_len < trimmed &&
			   !is_ws((unsigned char)line[start + word_len]);
	     word_len++)
		;
	out->word = xstrndup(line + start, word_len);
	for (start += word_len;
	     start < trimmed && is_ws((unsigned char)line[start]); start++)
		;
	out->arg = xstrndup(line + start, trimmed - start);
	out->argc = count_words(out->arg);
	d = lookup_word(out->word, word_len);
	if (d == NULL)
		return SMTP_CMD_ERR_UNKNOWN;
	out->verb = d->verb;
	return check_args(d, out) ? SMTP_CMD_OK : SMTP_CMD_ERR_SYNTAX;
}

void
smtp_cmd_free(struct smtp_cmd *cmd)
{
	free(cmd->word);
	free(cmd->arg);
	memset(cmd, 0, sizeof(*cmd));
}

const char *
smtp_cmd_reply(enum smtp_cmd_status status, enum smtp_verb verb)
{
	const struct verb_def *d;

	switch (status) {
	case SMTP_CMD_OK:
	case SMTP_CMD_ERR_EOF:
	case SMTP_CMD_ERR_BARE_LF:
		return NULL;
	case SMTP_CMD_ERR_TOO_LONG:
		return "500 5.5.2 Error: line too long";
	case SMTP_CMD_ERR_BAD_CHAR:
	case SMTP_CMD_ERR_EMPTY:
		return "500 5.5.2 Error: bad syntax";
	case SMTP_CMD_ERR_BAD_UTF8:
		return "500 5.5.2 Error: bad UTF-8 syntax";
	case SMTP_CMD_ERR_UNKNOWN:
		return "500 5.5.2 Error: command not recognized";
	case SMTP_CMD_ERR_SYNTAX:
		d = find_verb(verb);
		if (d && d->syntax_reply)
			return d->syntax_reply;
		break;
	}
	return "500 5.5.2 Error: bad syntax";
}

bool
smtp_cmd_must_close(enum smtp_cmd_status status, enum smtp_verb verb)
{
	return status == SMTP_CMD_ERR_EOF || status == SMTP_CMD_ERR_BARE_LF ||
	       (status == SMTP_CMD_ERR_SYNTAX && verb == SMTP_VERB_BDAT);
}
