/*
 * header_action.c - header_checks(5) results (see header_action.h).
 *
 * The warnings, the default reject text and the status code rules are
 * what Postfix 3.7's cleanup logs and replies for the same tables (checked
 * with a real instance; the cases are the golden data in
 * test_header_action.c). No logging here: warnings go to the caller.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"

#include "global/header_action.h"
#include "global/header_parse.h"

#define REJECT_DSN "5.7.1"
#define REJECT_TEXT "message content rejected"

void
header_action_deinit(struct header_action *action)
{
	free(action->text);
	free(action->reason);
	free(action->warning);
	action->text = action->reason = action->warning = NULL;
}

const char *
header_action_log_word(enum header_action_kind kind)
{
	static const char *const words[] = {
		[HEADER_ACTION_REJECT] = "reject",
		[HEADER_ACTION_DISCARD] = "discard",
		[HEADER_ACTION_HOLD] = "hold",
		[HEADER_ACTION_WARN] = "warning",
		[HEADER_ACTION_INFO] = "info",
		[HEADER_ACTION_STRIP] = "strip",
		[HEADER_ACTION_PASS] = "pass",
		[HEADER_ACTION_PREPEND] = "prepend",
		[HEADER_ACTION_REPLACE] = "replace",
		[HEADER_ACTION_REDIRECT] = "redirect",
		[HEADER_ACTION_FILTER] = "filter",
		[HEADER_ACTION_BCC] = "bcc",
	};

	if ((size_t)kind >= sizeof(words) / sizeof(words[0]))
		return NULL;
	return words[kind];
}

/* Length of a leading "4.D.D" or "5.D.D" status code ending at white space
 * or the end of text (1-3 digits per later part); 0 when there is none. */
static size_t
dsn_length(const char *text)
{
	const char *cp = text + 2;
	size_t digits;

	if ((text[0] != '4' && text[0] != '5') || text[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		digits = strspn(cp, "0123456789");
		if (digits < 1 || digits > 3)
			return 0;
		cp += digits;
		if (part == 0 && *cp++ != '.')
			return 0;
	}
	return *cp == 0 || isspace((unsigned char)*cp) ? (size_t)(cp - text)
						       : 0;
}

/* "D.D.D text": the table's own status code, or 5.7.1 in front. */
static void
set_reject(struct header_action *action, const char *text)
{
	size_t len = text ? dsn_length(text) : 0;
	const char *rest;

	action->kind = HEADER_ACTION_REJECT;
	if (len == 0) {
		action->reason = xasprintf("%s %s", REJECT_DSN,
					   text ? text : REJECT_TEXT);
		action->code = 550;
		return;
	}
	rest = text + len + strspn(text + len, " \t");
	action->reason = xasprintf("%.*s %s", (int)len, text, rest);
	action->code = text[0] == '4' ? 451 : 550;
}

static bool
is_header_text(const char *text)
{
	return text != NULL && header_name_len(text, strlen(text)) > 0;
}

/* Actions whose text is a line: PREPEND and REPLACE. */
static void
check_line_action(struct header_action *action, const char *map_name,
		  const char *word, bool is_header)
{
	if (action->text == NULL && action->kind == HEADER_ACTION_PREPEND) {
		action->warning = xasprintf(
			"PREPEND action without text in %s map", map_name);
	} else if (is_header && !is_header_text(action->text)) {
		action->warning = xasprintf(
			"bad %s header text \"%s\" in %s map -- need "
			"\"headername: headervalue\"",
			word, action->text ? action->text : "", map_name);
	}
}

/* Actions whose argument is checked: FILTER, REDIRECT, BCC. */
static void
check_target_action(struct header_action *action, const char *map_name)
{
	const char *text = action->text ? action->text : "";

	if (action->kind == HEADER_ACTION_FILTER) {
		if (action->text == NULL)
			action->warning = xasprintf(
				"missing FILTER command argument in %s map",
				map_name);
		else if (strchr(text, ':') == NULL)
			action->warning =
				xasprintf("bad FILTER command %s in %s -- need "
					  "transport:destination",
					  text, map_name);
	} else if (strchr(text, '@') == NULL) {
		bool is_bcc = action->kind == HEADER_ACTION_BCC;

		action->warning = xasprintf(
			"bad %s %s \"%s\" in %s map -- need user@domain",
			is_bcc ? "BCC" : "REDIRECT",
			is_bcc ? "address" : "target", text, map_name);
	}
}

static const struct {
	const char *word;
	enum header_action_kind kind;
} keywords[] = {
	{ "DUNNO", HEADER_ACTION_DUNNO },
	{ "OK", HEADER_ACTION_DUNNO },
	{ "DISCARD", HEADER_ACTION_DISCARD },
	{ "HOLD", HEADER_ACTION_HOLD },
	{ "WARN", HEADER_ACTION_WARN },
	{ "INFO", HEADER_ACTION_INFO },
	{ "IGNORE", HEADER_ACTION_IGNORE },
	{ "STRIP", HEADER_ACTION_STRIP },
	{ "PASS", HEADER_ACTION_PASS },
	{ "PREPEND", HEADER_ACTION_PREPEND },
	{ "REPLACE", HEADER_ACTION_REPLACE },
	{ "REDIRECT", HEADER_ACTION_REDIRECT },
	{ "FILTER", HEADER_ACTION_FILTER },
	{ "BCC", HEADER_ACTION_BCC },
};

void
header_action_parse(const char *map_name, const char *value, bool is_header,
		    struct header_action *action)
{
	const char *start = value + strspn(value, " \t");
	size_t word_len = strcspn(start, " \t");
	const char *rest = start + word_len + strspn(start + word_len, " \t");
	char *word = xstrndup(start, word_len);
	size_t i;

	memset(action, 0, sizeof(*action));
	if (*rest != 0)
		action->text = xstrdup(rest);
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcasecmp(word, keywords[i].word) == 0)
			break;
	if (strcasecmp(word, "REJECT") == 0) {
		set_reject(action, action->text);
	} else if (i == sizeof(keywords) / sizeof(keywords[0])) {
		action->warning = xasprintf("unknown command in %s map: %s",
					    map_name, start);
	} else {
		action->kind = keywords[i].kind;
		if (action->kind == HEADER_ACTION_PREPEND ||
		    action->kind == HEADER_ACTION_REPLACE)
			check_line_action(action, map_name, keywords[i].word,
					  is_header);
		else if (action->kind >= HEADER_ACTION_REDIRECT)
			check_target_action(action, map_name);
	}
	if (action->warning != NULL) {
		/* A bad result has no effect but the warning. */
		free(action->text);
		free(action->reason);
		action->text = action->reason = NULL;
		action->kind = HEADER_ACTION_DUNNO;
	}
	free(word);
}
