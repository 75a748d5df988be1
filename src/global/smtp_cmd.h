/*
 * smtp_cmd.h - SMTP server command lines: verb, argument, syntax replies.
 *
 * A pure parser for one command line as util/stream.h's stream_read_line
 * returns it (bytes without the line end, plus how the line ended). It
 * knows RFC 5321 syntax and Postfix 3.7's reply texts; it knows nothing
 * of session state, so smtpd applies its own order of checks (Postfix,
 * for example, answers "503 5.5.1 Error: need RCPT command" to "DATA x"
 * before it complains about the argument).
 * Security: the line is untrusted; it is never modified, every byte is
 * checked, the result owns copies bounded by the line.
 */
#ifndef POSTERN_GLOBAL_SMTP_CMD_H
#define POSTERN_GLOBAL_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/stream.h"
#include "util/strbuf.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN, /* Postfix: "500 5.5.2 Error: command not recognized" */
	SMTP_VERB_HELP, /* Postfix: "500 5.5.2 Error: command not recognized" */
	SMTP_VERB_ETRN,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_XCLIENT,
	SMTP_VERB_XFORWARD,
};

/*
 * smtpd_forbid_bare_newline, as Postfix 3.9 defines it (and Debian's
 * 3.7.11 back-port behaves, checked by experiment):
 *   NORMALIZE ("normalize", "yes"): a bare LF ends a command or content
 *     line like CRLF, but only "." ending in CRLF after a line that ended
 *     in CRLF ends DATA; any other "." line is dropped from the content.
 *   REJECT ("reject"): the same end-of-data rule; a command line ending
 *     in bare LF is answered with the bare-LF reply and the session ends;
 *     a message that contained one is refused at its end with that reply
 *     and the session goes on.
 *   NO ("no", Postfix before 3.9): a bare LF is a line end everywhere and
 *     "." ending in LF or CRLF ends DATA.
 * The reply is "<smtpd_forbid_bare_newline_reject_code> 5.5.2
 * <myhostname> Error: bare <LF> received" (code 550 by default).
 */
enum smtp_bare_lf {
	SMTP_BARE_LF_NO,
	SMTP_BARE_LF_NORMALIZE,
	SMTP_BARE_LF_REJECT,
};

/* Parse a smtpd_forbid_bare_newline value; -1 if it is none of them. */
int smtp_bare_lf_from_name(const char *value, enum smtp_bare_lf *out);

/* The bare-LF reply into out (replacing its contents, no CRLF). */
void smtp_bare_lf_reply(struct strbuf *out, int code, const char *myhostname);

/* smtp_cmd_parse flags. */
#define SMTP_CMD_FLAG_UTF8 (1 << 0) /* smtputf8_enable: lines must be UTF-8 */

enum smtp_cmd_status {
	SMTP_CMD_OK = 0,
	SMTP_CMD_ERR_EOF,      /* the peer closed inside the line: no reply */
	SMTP_CMD_ERR_TOO_LONG, /* "500 5.5.2 Error: line too long" */
	SMTP_CMD_ERR_BARE_LF,  /* smtp_bare_lf_reply, then end the session */
	SMTP_CMD_ERR_BAD_CHAR, /* NUL or CR: "500 5.5.2 Error: bad syntax" */
	SMTP_CMD_ERR_BAD_UTF8, /* "500 5.5.2 Error: bad UTF-8 syntax" */
	SMTP_CMD_ERR_EMPTY,    /* "500 5.5.2 Error: bad syntax" */
	SMTP_CMD_ERR_UNKNOWN,  /* "500 5.5.2 Error: command not recognized" */
	SMTP_CMD_ERR_SYNTAX,   /* the verb's "Syntax:" reply, see below */
};

struct smtp_cmd {
	enum smtp_verb verb; /* also set with SMTP_CMD_ERR_SYNTAX */
	char *word; /* the first word as sent (for smtpd_forbidden_commands
		     * and logs); NULL when the line has none */
	/*
	 * MAIL: the text after "FROM:" (path and parameters, for
	 * mail_addr_parse_path); RCPT: after "TO:"; other verbs: the rest
	 * of the line. Leading and trailing white space removed; "" if none.
	 */
	char *arg;
	int argc;           /* number of white-space separated words in arg */
	uint64_t bdat_size; /* BDAT chunk size */
	bool bdat_last;     /* BDAT ... LAST */
};

/*
 * Parse one command line. line[0..len) may hold any bytes; end is how
 * stream_read_line said it ended. Checks, in this order: EOF inside the
 * line; a line cut at the reader's limit (line_length_limit) is refused
 * whole (Postfix 3.7 silently truncates it and runs what is left; we do
 * not run a command we did not see in full; the caller must discard the
 * rest of the line, up to its real end, before the next command); bare
 * LF in REJECT mode; NUL and CR bytes (a CR only at the end is taken as
 * white space; Postfix 3.7 cuts the line at a NUL and treats CR as white
 * space anywhere); with SMTP_CMD_FLAG_UTF8, well-formed UTF-8; an empty
 * line; the verb (case-insensitive, white space before it allowed); the
 * verb's argument syntax. White space is SP, HT, VT and FF.
 * Fills *out (free with smtp_cmd_free whatever the result).
 */
enum smtp_cmd_status
smtp_cmd_parse(const char *line, size_t len, enum stream_line_end end,
	       enum smtp_bare_lf bare_lf, int flags, struct smtp_cmd *out);

/* Free what smtp_cmd_parse stored and zero *cmd. */
void smtp_cmd_free(struct smtp_cmd *cmd);

/*
 * The reply for a status; for SMTP_CMD_ERR_SYNTAX the verb's Postfix
 * text ("501 5.5.4 Syntax: MAIL FROM:<address>", "501 Syntax: HELO
 * hostname", "521 5.5.4 Syntax: BDAT count [LAST]", ...). NULL for
 * SMTP_CMD_OK, SMTP_CMD_ERR_EOF and SMTP_CMD_ERR_BARE_LF (see
 * smtp_bare_lf_reply).
 */
const char *smtp_cmd_reply(enum smtp_cmd_status status, enum smtp_verb verb);

/* True if smtpd must end the session after the reply (Postfix does for
 * EOF, bare LF in a command, and a bad BDAT command). */
bool smtp_cmd_must_close(enum smtp_cmd_status status, enum smtp_verb verb);

/* The canonical upper-case name of a verb ("MAIL"); "UNKNOWN". */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
