/*
 * local_expand.c - the pure logic of the local delivery agent: taking a
 * recipient apart (local part, user, extension), the $name expansion of
 * forward_path and friends, classifying alias destinations, parsing the
 * class lists of allow_mail_to_* and prepend_delivered_header, reading
 * Delivered-To: headers, and the words for a failed command.
 *
 * No system calls and no global state, so tests/unit/local can test it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

const struct local_class_name local_allow_names[] = {
	{ "alias", LOCAL_CLASS_ALIAS },
	{ "forward", LOCAL_CLASS_FORWARD },
	{ "include", LOCAL_CLASS_INCLUDE },
	{ NULL, 0 },
};

const struct local_class_name local_delivered_names[] = {
	{ "command", LOCAL_DELIVERED_COMMAND },
	{ "file", LOCAL_DELIVERED_FILE },
	{ "forward", LOCAL_DELIVERED_FORWARD },
	{ NULL, 0 },
};

/* ------------------------------------------------------------------ */
/* Addresses.                                                           */

static char *
lower_copy(const char *text, size_t len)
{
	char *copy = xstrndup(text, len);

	return str_lowercase(copy);
}

/* Where the extension starts in local, or 0 for none. */
static size_t
ext_offset(const char *local, const char *delimiters,
	   bool owner_request_special)
{
	size_t len = strlen(local);
	size_t i;

	if (delimiters == NULL || *delimiters == 0)
		return 0;
	if (strcmp(local, "postmaster") == 0 ||
	    strcmp(local, "mailer-daemon") == 0)
		return 0;
	for (i = 1; i < len; i++)
		if (strchr(delimiters, local[i]) != NULL)
			break;
	if (i >= len)
		return 0;
	if (owner_request_special && local[i] == '-' &&
	    (strncmp(local, "owner-", 6) == 0 ||
	     (len > 8 && strcmp(local + len - 8, "-request") == 0)))
		return 0;
	return i;
}

void
local_addr_split(const char *address, const char *delimiters,
		 bool owner_request_special, struct local_addr *out,
		 bool *is_bad_ext_out)
{
	const char *at = strrchr(address, '@');
	size_t local_len = at ? (size_t)(at - address) : strlen(address);
	size_t ext;

	memset(out, 0, sizeof(*out));
	*is_bad_ext_out = false;
	out->local = lower_copy(address, local_len);
	out->domain = at ? lower_copy(at + 1, strlen(at + 1)) : NULL;
	ext = ext_offset(out->local, delimiters, owner_request_special);
	if (ext == 0) {
		out->user = xstrdup(out->local);
		return;
	}
	out->user = xstrndup(out->local, ext);
	if (strchr(out->local + ext + 1, '/') != NULL) {
		*is_bad_ext_out = true;
		return;
	}
	out->extension = xstrdup(out->local + ext + 1);
	out->delim[0] = out->local[ext];
}

void
local_addr_free(struct local_addr *addr)
{
	free(addr->local);
	free(addr->domain);
	free(addr->user);
	free(addr->extension);
	memset(addr, 0, sizeof(*addr));
}

/* ------------------------------------------------------------------ */
/* Expansion.                                                           */

int
local_filter(const char *text, const char *filter, struct strbuf *out)
{
	int ret = 0;

	for (; *text; text++) {
		if (filter == NULL || strchr(filter, *text) != NULL)
			ret |= strbuf_append_char(out, *text);
		else
			ret |= strbuf_append_char(out, '_');
	}
	return ret < 0 ? -1 : 0;
}

static const char *
var_value(const struct local_vars *vars, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t offset;
	} table[] = {
		{ "user", offsetof(struct local_vars, user) },
		{ "home", offsetof(struct local_vars, home) },
		{ "shell", offsetof(struct local_vars, shell) },
		{ "recipient", offsetof(struct local_vars, recipient) },
		{ "extension", offsetof(struct local_vars, extension) },
		{ "domain", offsetof(struct local_vars, domain) },
		{ "local", offsetof(struct local_vars, local) },
		{ "recipient_delimiter",
		  offsetof(struct local_vars, recipient_delimiter) },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strlen(table[i].name) == len &&
		    strncmp(table[i].name, name, len) == 0)
			return *(const char *const *)((const char *)vars +
						      table[i].offset);
	return NULL;
}

struct expander {
	const struct local_vars *vars;
	const char *filter;
	struct strbuf *out;
	bool is_undef;
	bool is_full; /* out's limit was reached */
	int depth;
	struct err *err;
	const char *pattern;
};

static int expand_text(struct expander *ex, const char *text, size_t len);

static int
syntax_error(struct expander *ex)
{
	err_set(ex->err, "bad expansion syntax: %s", ex->pattern);
	return -1;
}

/* The end of a "{...}" group starting at text (the closing brace). */
static const char *
group_end(const char *text, const char *end)
{
	int nest = 0;

	for (const char *p = text; p < end; p++) {
		if (*p == '{')
			nest++;
		else if (*p == '}' && --nest == 0)
			return p;
	}
	return NULL;
}

/* Expand a branch: "{text}" keeps its inside, bare text as it is. */
static int
expand_branch(struct expander *ex, const char *text, size_t len)
{
	while (len > 0 && isspace((unsigned char)*text))
		text++, len--;
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len >= 2 && text[0] == '{' && text[len - 1] == '}')
		return expand_text(ex, text + 1, len - 2);
	return expand_text(ex, text, len);
}

/* The inside of "${...}": name, then optional ?value / :value. */
static int
expand_braced(struct expander *ex, const char *text, size_t len)
{
	size_t name_len = 0;
	const char *value;
	const char *rest;
	const char *colon;
	const char *end = text + len;

	while (name_len < len && (isalnum((unsigned char)text[name_len]) ||
				  text[name_len] == '_'))
		name_len++;
	if (name_len == 0)
		return syntax_error(ex);
	value = var_value(ex->vars, text, name_len);
	rest = text + name_len;
	if (rest == end) {
		if (value == NULL)
			ex->is_undef = true;
		else if (local_filter(value, ex->filter, ex->out) < 0)
			ex->is_full = true;
		return 0;
	}
	if (*rest == ':')
		return (value == NULL || *value == 0)
			       ? expand_branch(ex, rest + 1,
					       (size_t)(end - rest - 1))
			       : 0;
	if (*rest != '?')
		return syntax_error(ex);
	rest++;
	/* ${name?{a}:{b}} */
	colon = NULL;
	if (rest < end && *rest == '{') {
		const char *close = group_end(rest, end);

		if (close == NULL)
			return syntax_error(ex);
		colon = close + 1;
		while (colon < end && isspace((unsigned char)*colon))
			colon++;
		if (colon == end)
			colon = NULL;
		else if (*colon != ':')
			return syntax_error(ex);
	}
	if (value != NULL && *value != 0)
		return expand_branch(ex, rest,
				     (size_t)((colon ? colon : end) - rest));
	return colon ? expand_branch(ex, colon + 1, (size_t)(end - colon - 1))
		     : 0;
}

/* "$..." at text: *used_out gets the bytes consumed. */
static int
expand_ref(struct expander *ex, const char *text, size_t len, size_t *used_out)
{
	size_t n = 1;

	if (len >= 2 && text[1] == '$') {
		if (strbuf_append_char(ex->out, '$') < 0)
			ex->is_full = true;
		*used_out = 2;
		return 0;
	}
	if (len >= 2 && (text[1] == '{' || text[1] == '(')) {
		char open = text[1], close = open == '{' ? '}' : ')';
		int nest = 0;

		for (n = 1; n < len; n++) {
			if (text[n] == open)
				nest++;
			else if (text[n] == close && --nest == 0)
				break;
		}
		if (n >= len)
			return syntax_error(ex);
		*used_out = n + 1;
		return expand_braced(ex, text + 2, n - 2);
	}
	while (n < len && (isalnum((unsigned char)text[n]) || text[n] == '_'))
		n++;
	if (n == 1)
		return syntax_error(ex);
	*used_out = n;
	{
		const char *value = var_value(ex->vars, text + 1, n - 1);

		if (value == NULL)
			ex->is_undef = true;
		else if (local_filter(value, ex->filter, ex->out) < 0)
			ex->is_full = true;
	}
	return 0;
}

static int
expand_text(struct expander *ex, const char *text, size_t len)
{
	size_t used;

	if (++ex->depth > 20) {
		err_set(ex->err, "expansion nested too deeply: %s",
			ex->pattern);
		return -1;
	}
	while (len > 0) {
		if (*text != '$') {
			if (strbuf_append_char(ex->out, *text) < 0)
				ex->is_full = true;
			text++, len--;
			continue;
		}
		if (expand_ref(ex, text, len, &used) < 0)
			return -1;
		text += used, len -= used;
	}
	ex->depth--;
	return 0;
}

int
local_expand(const char *pattern, const struct local_vars *vars,
	     const char *filter, struct strbuf *out, bool *is_undef_out,
	     struct err *err)
{
	struct expander ex = {
		.vars = vars,
		.filter = filter,
		.out = out,
		.err = err,
		.pattern = pattern,
	};
	int ret = expand_text(&ex, pattern, strlen(pattern));

	*is_undef_out = ex.is_undef;
	if (ret == 0 && ex.is_full) {
		err_set(err, "expansion result too long: %s", pattern);
		return -1;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Destinations and lists.                                              */

enum local_token_kind
local_token_classify(const char *token, const char **target_out)
{
	*target_out = token;
	if (*token == '|') {
		*target_out = token + 1;
		return LOCAL_TOKEN_COMMAND;
	}
	if (*token == '/')
		return LOCAL_TOKEN_FILE;
	if (strncasecmp(token, ":include:", 9) == 0) {
		token += 9;
		while (isspace((unsigned char)*token))
			token++;
		*target_out = token;
		return LOCAL_TOKEN_INCLUDE;
	}
	return LOCAL_TOKEN_ADDRESS;
}

int
local_class_parse(const char *param, const char *value,
		  const struct local_class_name *names, int *mask_out,
		  struct err *err)
{
	char *copy = xstrdup(value);
	char *cursor = copy;
	char *word;
	int mask = 0;
	size_t i;

	while ((word = str_token(&cursor, TOKENS_LIST_DELIMS)) != NULL) {
		for (i = 0; names[i].name != NULL; i++)
			if (strcasecmp(names[i].name, word) == 0)
				break;
		if (names[i].name == NULL) {
			err_set(err, "%s: unknown value: %s", param, word);
			free(copy);
			return -1;
		}
		mask |= names[i].bit;
	}
	free(copy);
	*mask_out = mask;
	return 0;
}

bool
local_delivered_header(const char *line, size_t len, struct strbuf *value_out)
{
	static const char name[] = "delivered-to:";
	size_t start = sizeof(name) - 1;
	size_t end = len;

	if (len < start || strncasecmp(line, name, start) != 0)
		return false;
	while (start < end && isspace((unsigned char)line[start]))
		start++;
	while (end > start && isspace((unsigned char)line[end - 1]))
		end--;
	strbuf_reset(value_out);
	for (size_t i = start; i < end; i++)
		strbuf_append_char(value_out, tolower((unsigned char)line[i]));
	return true;
}

/* ------------------------------------------------------------------ */
/* Commands.                                                            */

void
local_exit_status(int status, struct local_exit_info *out)
{
	static const struct local_exit_info table[] = {
		{ "5.3.0", "command line usage error", false },      /* 64 */
		{ "5.6.0", "data format error", false },             /* 65 */
		{ "5.3.0", "cannot open input", false },             /* 66 */
		{ "5.1.1", "user unknown", false },                  /* 67 */
		{ "5.1.2", "host name unknown", false },             /* 68 */
		{ "5.3.0", "service unavailable", false },           /* 69 */
		{ "5.3.0", "internal software error", false },       /* 70 */
		{ "4.3.0", "system resource problem", true },        /* 71 */
		{ "5.3.0", "critical OS file missing", false },      /* 72 */
		{ "5.2.0", "can't create user output file", false }, /* 73 */
		{ "5.3.0", "input/output error", false },            /* 74 */
		{ "4.3.0", "temporary failure", true },              /* 75 */
		{ "5.5.0", "remote error in protocol", false },      /* 76 */
		{ "5.7.0", "permission denied", false },             /* 77 */
		{ "5.3.5", "local configuration error", false },     /* 78 */
	};

	if (status >= 64 && status <= 78) {
		*out = table[status - 64];
		return;
	}
	out->dsn = "5.3.0";
	out->text = "unknown error";
	out->is_temporary = false;
}

void
local_command_reason(const char *what, long number, const char *command,
		     const char *output, size_t output_len, struct strbuf *out)
{
	if (strcmp(what, "time") == 0)
		strbuf_printf(out, "Command time limit exceeded: \"%s\"",
			      command);
	else
		strbuf_printf(out, "Command died with %s %ld: \"%s\"", what,
			      number, command);
	while (output_len > 0 && isspace((unsigned char)output[output_len - 1]))
		output_len--;
	if (output_len == 0)
		return;
	strbuf_append_str(out, ". Command output: ");
	for (size_t i = 0; i < output_len; i++) {
		unsigned char ch = (unsigned char)output[i];

		strbuf_append_char(out, iscntrl(ch) ? ' ' : ch);
	}
}
