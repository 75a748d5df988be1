/*
 * match_list.h - Postfix-style pattern lists: mydestination, relay_domains,
 * mynetworks, debug_peer_list, authorized_submit_users and the like.
 *
 * A list is a parameter value: items separated by commas or white space,
 * "{ ... }" groups kept whole. Items are tried in order and the first that
 * matches decides; "!item" turns that decision into "no". An item is a
 * pattern, a "type:table" lookup (found means match), or "/file/name",
 * whose items (one or more per line, '#' lines are comments) are read as if
 * written in place, a "!" before the file name negating each of them.
 * Patterns and keys are compared without regard to case.
 *
 * Kinds (what a pattern means):
 *   STRING  exact text ("authorized_submit_users");
 *   DOMAIN  a host or domain name: "example.com" matches itself, and its
 *           subdomains too when the list is parent-style (the list's name
 *           is in parent_domain_matches_subdomains); ".example.com" matches
 *           subdomains only. A fixed-string table is asked for the name,
 *           then for each parent ("example.com", or ".example.com" when
 *           not parent-style); pattern tables only for the name;
 *   NAMADR  a DOMAIN pattern for the client name, or an address pattern
 *           for the client address: "192.0.2.1", "192.0.2.0/24",
 *           "[2001:db8::1]", "[2001:db8::]/32"; an IPv4-mapped IPv6
 *           address matches as IPv4. A table is asked for the name as in
 *           DOMAIN, then for the address. As in Postfix, an IPv6 address
 *           must be bracketed: a bare one is read as a "type:table".
 */
#ifndef POSTERN_GLOBAL_MATCH_LIST_H
#define POSTERN_GLOBAL_MATCH_LIST_H

#include <stdbool.h>

#include "util/argv.h"
#include "util/err.h"

enum match_list_kind {
	MATCH_LIST_STRING,
	MATCH_LIST_DOMAIN,
	MATCH_LIST_NAMADR,
};

/* Creation flags. */
#define MATCH_FLAG_PARENT (1 << 0) /* "example.com" matches subdomains */

/* The three outcomes of a match. */
enum match_result {
	MATCH_LIST_ERROR = -1, /* a table could not answer: err says why */
	MATCH_LIST_NO_MATCH = 0,
	MATCH_LIST_MATCH = 1,
};

/* Limits against hostile or looping configuration. */
#define MATCH_LIST_MAX_NESTING 8 /* /file inside /file inside ... */
#define MATCH_LIST_MAX_LINE (64 * 1024)

struct match_list;

/*
 * Parse text as the list called pname ("mynetworks"; it prefixes every
 * message). Tables are opened read-only here. Returns NULL with err:
 *   "PNAME: no pattern after '!'"
 *   "PNAME: open FILE: REASON"            (an unreadable /file)
 *   "PNAME: FILE, line N: line too long"  (or "... contains a NUL byte")
 *   "PNAME: FILE: /file nesting is deeper than 8"
 *   "PNAME: TYPE:NAME: REASON"            (dict_open's reason, e.g.
 *                                          "unsupported dictionary type")
 *   "PNAME: bad address pattern: \"TEXT\"", "PNAME: bad mask value in
 *   \"NET/LEN\"", "... bad mask length ...", "... bad network value ...",
 *   "PNAME: non-null host address bits in \"1.2.3.4/24\", perhaps you
 *   should use \"1.2.3.0/24\" instead", "PNAME: missing ']' character
 *   after \"TEXT\"", "PNAME: garbage after \"[ADDR]\""   (NAMADR only)
 *   "PNAME: { unbalanced ..." (str_unbrace's reason)
 * Postfix stops reading at an item that starts with '#' with a warning;
 * so do we, keeping the warning for match_list_warnings.
 */
struct match_list *
match_list_create(const char *pname, enum match_list_kind kind, int flags,
		  const char *text, struct err *err);

/* Close the tables and free; NULL-safe, sets *listp to NULL. */
void match_list_destroy(struct match_list **listp);

/* Warnings met while parsing ("PNAME: comment at end of line is not
 * supported: # rest"), for the caller to log; owned by the list. */
const struct argv *match_list_warnings(const struct match_list *list);

/*
 * Match a STRING list against text, a DOMAIN list against a name, a
 * NAMADR list against a client name and address (either may be NULL or
 * "" to leave it out). Returns enum match_result; on MATCH_LIST_ERROR err
 * says "PNAME: TABLE: REASON" and the caller must not treat it as "no"
 * (Postfix defers the request).
 */
int match_list_match_string(struct match_list *list, const char *text,
			    struct err *err);
int match_list_match_domain(struct match_list *list, const char *name,
			    struct err *err);
int match_list_match_namadr(struct match_list *list, const char *name,
			    const char *addr, struct err *err);

/*
 * True if pname is in parent_domain_matches_subdomains' value (a list):
 * the flag to give match_list_create, and access_map's parent style
 * (pname "smtpd_access_maps").
 */
bool match_list_is_parent_style(const char *parent_domain_matches_subdomains,
				const char *pname);

#endif
