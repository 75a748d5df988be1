/*
 * header_action.h - decode what a header_checks or body_checks table
 * returns (header_checks(5) actions), as Postfix 3.7's cleanup reads it.
 *
 * The result is "ACTION [text]"; the keyword is case-insensitive. A result
 * whose argument is missing or malformed, or whose keyword is unknown,
 * decodes to HEADER_ACTION_DUNNO with a warning in Postfix's words for the
 * caller to log ("unknown command in header_checks map: FOO bar"). Why not
 * access_map_parse: access(5) results carry SMTP reply shapes ("<name>:
 * Class rejected: text", 554 codes, restriction lists) that these tables
 * do not have, and these have actions (IGNORE, REPLACE, STRIP, PASS) that
 * access(5) does not.
 */
#ifndef POSTERN_GLOBAL_HEADER_ACTION_H
#define POSTERN_GLOBAL_HEADER_ACTION_H

#include <stdbool.h>

enum header_action_kind {
	HEADER_ACTION_DUNNO,    /* DUNNO, OK, or a bad result: no effect */
	HEADER_ACTION_REJECT,   /* refuse the message; reason, code */
	HEADER_ACTION_DISCARD,  /* accept and drop; text (may be NULL) */
	HEADER_ACTION_HOLD,     /* put on hold; text (may be NULL) */
	HEADER_ACTION_WARN,     /* log "warning"; text (may be NULL) */
	HEADER_ACTION_INFO,     /* log "info"; text (may be NULL) */
	HEADER_ACTION_IGNORE,   /* delete the line silently */
	HEADER_ACTION_STRIP,    /* log "strip" and delete the line */
	HEADER_ACTION_PASS,     /* log "pass"; no more checks */
	HEADER_ACTION_PREPEND,  /* text: a line to put before this one */
	HEADER_ACTION_REPLACE,  /* text: the line that replaces this one */
	HEADER_ACTION_REDIRECT, /* text: user@domain */
	HEADER_ACTION_FILTER,   /* text: transport:destination */
	HEADER_ACTION_BCC,      /* text: user@domain */
};

struct header_action {
	enum header_action_kind kind;
	char *text;    /* the optional text or argument, NULL when none */
	char *reason;  /* REJECT: "D.D.D text" as logged and replied */
	int code;      /* REJECT: 550, or 451 for a 4.X.X status */
	char *warning; /* configuration warning to log, or NULL */
};

/*
 * Decode value, returned by one of the tables of parameter map_name
 * ("header_checks", "body_checks", ...). is_header says whether the input
 * was a header (PREPEND and REPLACE texts must then be headers). Fills
 * action; header_action_deinit frees its strings. Never fails.
 */
void header_action_parse(const char *map_name, const char *value,
			 bool is_header, struct header_action *action);

/* Free the strings of action (not action itself); safe to call twice. */
void header_action_deinit(struct header_action *action);

/* The word Postfix logs for an action ("reject", "warning", ...), or NULL
 * for actions that log nothing (DUNNO, IGNORE). */
const char *header_action_log_word(enum header_action_kind kind);

#endif
