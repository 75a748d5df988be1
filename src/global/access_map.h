/*
 * access_map.h - access(5) table lookups as smtpd's check_client_access,
 * check_helo_access, check_sender_access and check_recipient_access do
 * them, and the parsing of the action a table returns.
 *
 * Lookup order (fixed-string tables such as texthash, hash, inline; a
 * pattern table such as regexp, pcre or cidr is asked only for the whole
 * name, address or mail address):
 *   client     name, parent domains, then the address and its networks
 *              ("1.2.3.4", "1.2.3", "1.2", "1"; "2001:db8::5",
 *              "2001:db8:", "2001:db8", "2001")
 *   helo       the name as given, then its parent domains
 *   address    user+ext@domain, user@domain, domain, parent domains,
 *              user+ext@, user@; the null sender is looked up as
 *              smtpd_null_access_lookup_key
 * Parent domains are "example.com" when smtpd_access_maps is in
 * parent_domain_matches_subdomains, else ".example.com".
 * The first key found decides, even when its action is DUNNO.
 */
#ifndef POSTERN_GLOBAL_ACCESS_MAP_H
#define POSTERN_GLOBAL_ACCESS_MAP_H

#include <stdbool.h>

#include "util/dict.h"
#include "util/err.h"

struct mail_conf;

/* What was looked up: decides the reply wording and DSN adjustments. */
enum access_class {
	ACCESS_CLIENT,    /* "Client host" */
	ACCESS_HELO,      /* "Helo command" */
	ACCESS_SENDER,    /* "Sender address" */
	ACCESS_RECIPIENT, /* "Recipient address" */
};

/* The parameters that shape lookups and replies. */
struct access_settings {
	bool is_parent_style;            /* smtpd_access_maps in p_d_m_s */
	const char *null_key;            /* smtpd_null_access_lookup_key */
	const char *recipient_delimiter; /* "" for none */
	const char *double_bounce_sender;
	int reject_code; /* access_map_reject_code */
	int defer_code;  /* access_map_defer_code */
};

/* Postfix 3.7's defaults (parent style on, "<>", no delimiter, 554/450). */
void access_settings_default(struct access_settings *settings);

/*
 * The settings from conf; the strings stay owned by conf. Returns -1 with
 * err for a bad value (a non-numeric code, a failed expansion).
 */
int access_settings_load(struct mail_conf *conf,
			 struct access_settings *settings, struct err *err);

enum access_action {
	ACCESS_OK,              /* OK, RELAY, an all-numeric result */
	ACCESS_DUNNO,           /* stop searching this table; go on */
	ACCESS_REJECT,          /* REJECT, DEFER, 4NN text, 5NN text */
	ACCESS_DEFER_IF_REJECT, /* code/dsn/text as for REJECT */
	ACCESS_DEFER_IF_PERMIT, /* code/dsn/text as for REJECT */
	ACCESS_HOLD,            /* text: what Postfix logs */
	ACCESS_DISCARD,         /* text: what Postfix logs; accepts */
	ACCESS_PREPEND,         /* arg: "Header: value" */
	ACCESS_REDIRECT,        /* arg: user@domain; text: what to log */
	ACCESS_BCC,             /* arg: user@domain */
	ACCESS_FILTER,          /* arg: transport:destination; text: log */
	ACCESS_WARN,            /* arg: text to log (may be "") */
	ACCESS_INFO,            /* arg: text to log (may be "") */
	ACCESS_RESTRICTIONS,    /* arg: restriction list for smtpd */
};

/*
 * A decoded table result. For ACCESS_REJECT and the DEFER_IF_ actions the
 * SMTP reply is "CODE DSN TEXT", e.g. "554 5.7.1 <a@example.com>: Sender
 * address rejected: Access denied". HOLD and DISCARD carry the log text
 * ("<a@example.com>: Sender address triggers HOLD action"). An action
 * whose argument is missing or malformed turns into ACCESS_DUNNO with
 * warning set to Postfix's wording, for the caller to log.
 */
struct access_result {
	enum access_action action;
	int code;      /* reply code for reject-like actions */
	char dsn[16];  /* enhanced status code, "5.7.1" */
	char *text;    /* reply or log text, or NULL */
	char *arg;     /* action argument, or NULL */
	char *key;     /* the lookup key that was found */
	char *warning; /* configuration warning, or NULL */
};

/* Free the strings of result (not result itself); safe to call twice. */
void access_result_deinit(struct access_result *result);

/*
 * Decode value, found under key in table (its "type:name", for warnings),
 * for what was looked up; reply_name is what goes between "<" and ">". Fills
 * result (deinit it afterwards). Keywords are case-insensitive.
 */
void access_map_parse(const char *table, const char *key, const char *value,
		      enum access_class what, const char *reply_name,
		      const struct access_settings *settings,
		      struct access_result *result);

/*
 * The lookups. Each returns DICT_FOUND with result filled in, DICT_NOTFOUND
 * when no key was found, or DICT_ERROR with err ("TYPE:NAME: reason") and
 * result set to Postfix's deferral "451 4.3.5 <NAME>: CLASS rejected:
 * Server configuration error" (ACCESS_REJECT). Client: name may be
 * "unknown" (it is looked up like any name); reply name "name[addr]".
 * Address: the mail address in its canonical (qualified) form, "" for the
 * null sender; an address without '@' is not looked up (NOTFOUND).
 */
int access_map_check_client(struct dict *table,
			    const struct access_settings *settings,
			    const char *name, const char *addr,
			    struct access_result *result, struct err *err);
int
access_map_check_helo(struct dict *table,
		      const struct access_settings *settings, const char *helo,
		      struct access_result *result, struct err *err);
int access_map_check_address(struct dict *table,
			     const struct access_settings *settings,
			     enum access_class what, const char *address,
			     struct access_result *result, struct err *err);

/*
 * The localpart of address without its extension ("user+foo" ->
 * "user"), as Postfix splits at recipient_delimiter: at the first of the
 * delimiter characters, except for postmaster, mailer-daemon and
 * double_bounce_sender, and, when '-' is a delimiter, owner-* and
 * *-request. Returns a new string, or NULL when there is nothing to strip.
 */
char *access_strip_extension(const char *localpart,
			     const struct access_settings *settings);

/* "Client host", "Helo command", "Sender address", "Recipient address". */
const char *access_class_name(enum access_class what);

#endif
