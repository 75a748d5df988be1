/*
 * access_map.c - access(5) lookups and actions (see access_map.h).
 *
 * The key order, the reply shapes and the DSN adjustments follow what
 * Postfix 3.7's smtpd answers for the same tables (checked with a real
 * instance; the cases are the golden data in test_access_map.c).
 * Security: keys come from SMTP clients; tables decide only through the
 * framework's bounded lookups. No logging here: warnings go to the caller.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"

#include "global/access_map.h"
#include "global/mail_conf.h"
#include "global/match_list.h"

#define FIXED_ONLY true /* a partial key: ask fixed-string tables only */

void
access_settings_default(struct access_settings *settings)
{
	settings->is_parent_style = true;
	settings->null_key = "<>";
	settings->recipient_delimiter = "";
	settings->double_bounce_sender = "double-bounce";
	settings->reject_code = 554;
	settings->defer_code = 450;
}

int
access_settings_load(struct mail_conf *conf, struct access_settings *settings,
		     struct err *err)
{
	const char *parent;
	long long reject_code;
	long long defer_code;

	if (mail_conf_get(conf, "parent_domain_matches_subdomains", &parent,
			  err) < 0 ||
	    mail_conf_get(conf, "smtpd_null_access_lookup_key",
			  &settings->null_key, err) < 0 ||
	    mail_conf_get(conf, "recipient_delimiter",
			  &settings->recipient_delimiter, err) < 0 ||
	    mail_conf_get(conf, "double_bounce_sender",
			  &settings->double_bounce_sender, err) < 0 ||
	    mail_conf_get_int(conf, "access_map_reject_code", &reject_code,
			      err) < 0 ||
	    mail_conf_get_int(conf, "access_map_defer_code", &defer_code, err) <
		    0)
		return -1;
	settings->is_parent_style =
		match_list_is_parent_style(parent, "smtpd_access_maps");
	settings->reject_code = (int)reject_code;
	settings->defer_code = (int)defer_code;
	return 0;
}

const char *
access_class_name(enum access_class what)
{
	switch (what) {
	case ACCESS_CLIENT:
		return "Client host";
	case ACCESS_HELO:
		return "Helo command";
	case ACCESS_SENDER:
		return "Sender address";
	case ACCESS_RECIPIENT:
		return "Recipient address";
	}
	return "Access";
}

void
access_result_deinit(struct access_result *result)
{
	free(result->text);
	free(result->arg);
	free(result->key);
	free(result->warning);
	result->text = result->arg = result->key = result->warning = NULL;
}

/* Length of a leading "D.DDD.DDD" enhanced status code (class 2, 4, 5)
 * followed by white space or the end; 0 if there is none. */
static size_t
dsn_length(const char *text)
{
	const char *cp = text;
	size_t digits;

	if (strchr("245", *cp) == NULL || *cp == 0 || cp[1] != '.')
		return 0;
	cp += 2;
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

/*
 * As Postfix adjusts a table's DSN for what was looked up: x.1.N is an
 * address status, sender and recipient flavours swap, and other classes
 * get x.0.0.
 */
static void
dsn_fix(char *dsn, enum access_class what)
{
	static const char sender_map[] = "0787777780"; /* x.1.0 - x.1.9 */
	static const char rcpt_map[] = "0123456320";

	if (strncmp(dsn + 1, ".1.", 3) != 0)
		return;
	if (what == ACCESS_SENDER || what == ACCESS_RECIPIENT) {
		const char *map = what == ACCESS_SENDER ? sender_map : rcpt_map;

		if (isdigit((unsigned char)dsn[4]) && dsn[5] == 0)
			dsn[4] = map[dsn[4] - '0'];
		else
			strcpy(dsn + 4, "0");
		return;
	}
	strcpy(dsn + 2, "0.0");
}

/* Fill a reject-like result: "<NAME>: CLASS rejected: TEXT". */
static void
set_reply(struct access_result *result, enum access_action action, int code,
	  const char *text, const char *def_text, enum access_class what,
	  const char *reply_name)
{
	size_t len = dsn_length(text);

	result->action = action;
	result->code = code;
	if (len > 0 && len < sizeof(result->dsn)) {
		memcpy(result->dsn, text, len);
		result->dsn[len] = 0;
		text += len + strspn(text + len, " \t");
	} else {
		snprintf(result->dsn, sizeof(result->dsn), "%c.7.1",
			 code / 100 == 4 ? '4' : '5');
	}
	if (code >= 400 && code < 600)
		result->dsn[0] = (char)('0' + code / 100);
	dsn_fix(result->dsn, what);
	result->text =
		xasprintf("<%s>: %s rejected: %s", reply_name,
			  access_class_name(what), *text ? text : def_text);
}

static void
set_warning(struct access_result *result, const char *table, const char *key,
	    const char *what)
{
	result->action = ACCESS_DUNNO;
	result->warning =
		xasprintf("access table %s entry \"%s\" %s", table, key, what);
}

static bool
is_all_digits(const char *text)
{
	return *text && strspn(text, "0123456789") == strlen(text);
}

/* "Name: value": a header name of printable non-space characters. */
static bool
is_header(const char *text)
{
	size_t len = strcspn(text, ":");

	if (len == 0 || text[len] != ':')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)text[i]))
			return false;
	return true;
}

/* Actions that take an argument and log or record it. */
static bool
parse_argument_action(const char *table, const char *key, const char *word,
		      const char *rest, enum access_class what,
		      const char *reply_name, struct access_result *result)
{
	const char *cls = access_class_name(what);

	if (strcasecmp(word, "FILTER") == 0) {
		if (*rest == 0)
			set_warning(result, table, key,
				    "has FILTER entry without value");
		else if (strchr(rest, ':') == NULL)
			set_warning(result, table, key,
				    "requires transport:destination");
		else
			result->action = ACCESS_FILTER;
	} else if (strcasecmp(word, "REDIRECT") == 0 ||
		   strcasecmp(word, "BCC") == 0) {
		if (strchr(rest, '@') == NULL)
			set_warning(result, table, key,
				    "requires user@domain target");
		else
			result->action = toupper((unsigned char)*word) == 'B'
						 ? ACCESS_BCC
						 : ACCESS_REDIRECT;
	} else if (strcasecmp(word, "PREPEND") == 0) {
		if (!is_header(rest))
			set_warning(result, table, key,
				    "requires header: text");
		else
			result->action = ACCESS_PREPEND;
	} else if (strcasecmp(word, "WARN") == 0) {
		result->action = ACCESS_WARN;
	} else if (strcasecmp(word, "INFO") == 0) {
		result->action = ACCESS_INFO;
	} else if (strcasecmp(word, "HOLD") == 0 ||
		   strcasecmp(word, "DISCARD") == 0) {
		bool is_hold = toupper((unsigned char)*word) == 'H';

		result->action = is_hold ? ACCESS_HOLD : ACCESS_DISCARD;
		result->text =
			*rest ? xasprintf("<%s>: %s %s", reply_name, cls, rest)
			      : xasprintf("<%s>: %s triggers %s action",
					  reply_name, cls,
					  is_hold ? "HOLD" : "DISCARD");
	} else {
		return false;
	}
	if (result->warning == NULL)
		result->arg = xstrdup(rest);
	/* What the log says for the two that name a destination. */
	if (result->action == ACCESS_FILTER || result->action == ACCESS_REDIRECT)
		result->text = xasprintf("<%s>: %s triggers %s %s", reply_name,
					 cls,
					 result->action == ACCESS_FILTER
						 ? "FILTER"
						 : "REDIRECT",
					 rest);
	return true;
}

/* Reject-like keywords and "4NN text" / "5NN text". */
static bool
parse_reject_action(const char *word, const char *rest, enum access_class what,
		    const char *reply_name,
		    const struct access_settings *settings,
		    struct access_result *result)
{
	static const char denied[] = "Access denied";
	static const char unavailable[] = "Service unavailable";

	if (strcasecmp(word, "REJECT") == 0)
		set_reply(result, ACCESS_REJECT, settings->reject_code, rest,
			  denied, what, reply_name);
	else if (strcasecmp(word, "DEFER") == 0)
		set_reply(result, ACCESS_REJECT, settings->defer_code, rest,
			  denied, what, reply_name);
	else if (strcasecmp(word, "DEFER_IF_REJECT") == 0)
		set_reply(result, ACCESS_DEFER_IF_REJECT, settings->defer_code,
			  rest, unavailable, what, reply_name);
	else if (strcasecmp(word, "DEFER_IF_PERMIT") == 0)
		set_reply(result, ACCESS_DEFER_IF_PERMIT, settings->defer_code,
			  rest, unavailable, what, reply_name);
	else if (strlen(word) == 3 && is_all_digits(word) &&
		 (*word == '4' || *word == '5') && *rest != 0)
		set_reply(result, ACCESS_REJECT, atoi(word), rest, "", what,
			  reply_name);
	else
		return false;
	return true;
}

void
access_map_parse(const char *table, const char *key, const char *value,
		 enum access_class what, const char *reply_name,
		 const struct access_settings *settings,
		 struct access_result *result)
{
	const char *start = value + strspn(value, " \t");
	size_t word_len = strcspn(start, " \t");
	char *word = xstrndup(start, word_len);
	const char *rest = start + word_len + strspn(start + word_len, " \t");

	memset(result, 0, sizeof(*result));
	result->key = xstrdup(key);
	if (strcasecmp(word, "DUNNO") == 0)
		result->action = ACCESS_DUNNO;
	else if (strcasecmp(word, "OK") == 0 ||
		 strcasecmp(word, "RELAY") == 0 || is_all_digits(start))
		result->action = ACCESS_OK;
	else if (!parse_reject_action(word, rest, what, reply_name, settings,
				      result) &&
		 !parse_argument_action(table, key, word, rest, what,
					reply_name, result)) {
		result->action = ACCESS_RESTRICTIONS;
		result->arg = xstrdup(start);
	}
	free(word);
}

/* One lookup: DICT_FOUND (result filled), DICT_NOTFOUND or DICT_ERROR. */
static int
lookup_key(struct dict *table, const char *key, bool is_partial,
	   enum access_class what, const char *reply_name,
	   const struct access_settings *settings, struct access_result *result,
	   struct err *err)
{
	const char *value;
	char *spec;
	int ret;

	if (is_partial && (table->flags & DICT_FLAG_FIXED) == 0)
		return DICT_NOTFOUND;
	spec = xasprintf("%s:%s", table->type, table->name);
	ret = dict_lookup(table, key, &value, err);
	if (ret == DICT_FOUND) {
		access_map_parse(spec, key, value, what, reply_name, settings,
				 result);
	} else if (ret == DICT_ERROR) {
		memset(result, 0, sizeof(*result));
		result->key = xstrdup(key);
		set_reply(result, ACCESS_REJECT, 451, "4.3.5",
			  "Server configuration error", what, reply_name);
	}
	free(spec);
	return ret;
}

/* The name, then its parent domains (fixed-string tables only). */
static int
check_domain(struct dict *table, const struct access_settings *settings,
	     const char *name, bool is_partial, enum access_class what,
	     const char *reply_name, struct access_result *result,
	     struct err *err)
{
	int ret = lookup_key(table, name, is_partial, what, reply_name,
			     settings, result, err);

	for (const char *dot = strchr(name + 1, '.');
	     ret == DICT_NOTFOUND && dot != NULL; dot = strchr(dot + 1, '.'))
		ret = lookup_key(
			table, settings->is_parent_style ? dot + 1 : dot,
			FIXED_ONLY, what, reply_name, settings, result, err);
	return ret;
}

/* The address, then its networks, cut at the last '.' or ':'. */
static int
check_addr(struct dict *table, const struct access_settings *settings,
	   const char *addr, const char *reply_name,
	   struct access_result *result, struct err *err)
{
	char *key = xstrdup(addr);
	int delim = strchr(addr, ':') ? ':' : '.';
	char *cut;
	int ret = lookup_key(table, key, false, ACCESS_CLIENT, reply_name,
			     settings, result, err);

	while (ret == DICT_NOTFOUND && (cut = strrchr(key, delim)) != NULL) {
		*cut = 0;
		ret = lookup_key(table, key, FIXED_ONLY, ACCESS_CLIENT,
				 reply_name, settings, result, err);
	}
	free(key);
	return ret;
}

int
access_map_check_client(struct dict *table,
			const struct access_settings *settings,
			const char *name, const char *addr,
			struct access_result *result, struct err *err)
{
	char *reply_name = xasprintf("%s[%s]", name, addr);
	int ret = check_domain(table, settings, name, false, ACCESS_CLIENT,
			       reply_name, result, err);

	if (ret == DICT_NOTFOUND)
		ret = check_addr(table, settings, addr, reply_name, result,
				 err);
	free(reply_name);
	return ret;
}

int
access_map_check_helo(struct dict *table,
		      const struct access_settings *settings, const char *helo,
		      struct access_result *result, struct err *err)
{
	return check_domain(table, settings, helo, false, ACCESS_HELO, helo,
			    result, err);
}

char *
access_strip_extension(const char *localpart,
		       const struct access_settings *settings)
{
	const char *delims = settings->recipient_delimiter;
	size_t len = strlen(localpart);
	size_t cut;

	if (*delims == 0 || strcasecmp(localpart, "postmaster") == 0 ||
	    strcasecmp(localpart, "mailer-daemon") == 0 ||
	    strcasecmp(localpart, settings->double_bounce_sender) == 0)
		return NULL;
	if (strchr(delims, '-') != NULL &&
	    (strncasecmp(localpart, "owner-", 6) == 0 ||
	     (len > 8 && strcasecmp(localpart + len - 8, "-request") == 0)))
		return NULL;
	cut = strcspn(localpart, delims);
	if (cut == 0 || cut == len)
		return NULL;
	return xstrndup(localpart, cut);
}

/* Keys after the whole address: user@domain, domain..., user+ext@, user@. */
static int
check_address_parts(struct dict *table, const struct access_settings *settings,
		    enum access_class what, const char *address, const char *at,
		    struct access_result *result, struct err *err)
{
	char *localpart = xstrndup(address, (size_t)(at - address));
	char *bare = access_strip_extension(localpart, settings);
	char *key = NULL;
	int ret = DICT_NOTFOUND;

	if (bare != NULL) {
		key = xasprintf("%s%s", bare, at);
		ret = lookup_key(table, key, FIXED_ONLY, what, address,
				 settings, result, err);
		free(key);
	}
	if (ret == DICT_NOTFOUND)
		ret = check_domain(table, settings, at + 1, FIXED_ONLY, what,
				   address, result, err);
	for (int i = 0; i < 2 && ret == DICT_NOTFOUND; i++) {
		const char *user = i == 0 ? localpart : bare;

		if (user == NULL)
			break;
		key = xasprintf("%s@", user);
		ret = lookup_key(table, key, FIXED_ONLY, what, address,
				 settings, result, err);
		free(key);
	}
	free(bare);
	free(localpart);
	return ret;
}

int
access_map_check_address(struct dict *table,
			 const struct access_settings *settings,
			 enum access_class what, const char *address,
			 struct access_result *result, struct err *err)
{
	const char *at;
	int ret;

	if (*address == 0)
		return lookup_key(table, settings->null_key, false, what, "",
				  settings, result, err);
	if ((at = strrchr(address, '@')) == NULL)
		return DICT_NOTFOUND;
	ret = lookup_key(table, address, false, what, address, settings, result,
			 err);
	if (ret == DICT_NOTFOUND)
		ret = check_address_parts(table, settings, what, address, at,
					  result, err);
	return ret;
}
