/*
 * mail_addr.h - envelope addresses: SMTP path parsing, quoting, routing.
 *
 * Postfix keeps addresses in an "internal" form: the local part with RFC
 * 5322 quoting removed, then "@domain" if there is a domain ("a b@ex.com",
 * "" for the null sender). The external form quotes the local part where
 * RFC 5322 needs it ("\"a b\"@ex.com"). The domain is what follows the
 * LAST '@', so an unquoted '@' can live in the local part ("a@b@ex.com").
 *
 * mail_addr_parse_path turns the text after "MAIL FROM:" / "RCPT TO:" into
 * the internal form and the ESMTP parameter text that follows the path.
 * Security: the input is untrusted network data; every byte is checked,
 * output is bounded by MAIL_ADDR_MAX_LEN, nothing is logged here.
 */
#ifndef POSTERN_GLOBAL_MAIL_ADDR_H
#define POSTERN_GLOBAL_MAIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/*
 * Hard cap on the internal form of a parsed address, in bytes. RFC 5321
 * says local part 64, domain 255, path 256; Postfix enforces only the
 * domain limits (255 bytes, labels of 63) and lets the local part grow to
 * whatever fits in a 2048-byte command line. We keep Postfix's domain
 * rules, accept long local parts like Postfix, and cap the whole address
 * at this size so no other layer ever sees an unbounded address.
 */
#define MAIL_ADDR_MAX_LEN 1024

/* Domain limits (Postfix's valid_hostname rules). */
#define MAIL_ADDR_DOMAIN_MAX 255
#define MAIL_ADDR_LABEL_MAX 63

/* Which command the path came from: null paths and reply texts differ. */
enum mail_addr_role {
	MAIL_ADDR_SENDER,    /* MAIL FROM: the null path <> is allowed */
	MAIL_ADDR_RECIPIENT, /* RCPT TO (and VRFY): the null path is not */
};

/* mail_addr_parse_path and mail_addr_check_8bit flags. */
#define MAIL_ADDR_FLAG_STRICT_RFC821 (1 << 0)   /* strict_rfc821_envelopes */
#define MAIL_ADDR_FLAG_SMTPUTF8 (1 << 1)        /* client sent SMTPUTF8 */
#define MAIL_ADDR_FLAG_STRICT_SMTPUTF8 (1 << 2) /* strict_smtputf8 */

enum mail_addr_status {
	MAIL_ADDR_OK = 0,
	/* "501 5.1.7 Bad sender address syntax" or "501 5.1.3 Bad recipient
	 * address syntax" (too long addresses included). */
	MAIL_ADDR_ERR_SYNTAX,
	/* "553 5.6.7 Must declare SMTPUTF8 to send unicode address" */
	MAIL_ADDR_ERR_NEED_SMTPUTF8,
};

struct mail_addr_path {
	char *addr;     /* internal form; "" is the null path */
	char *params;   /* text after the path, white space trimmed, or "" */
	bool had_route; /* a source route "@a,@b:" was present and removed */
};

/*
 * Parse the argument of MAIL FROM: / RCPT TO: (leading white space is
 * skipped). The grammar is RFC 5321's Path with the leniencies Postfix
 * has even with strict_rfc821_envelopes = yes:
 *   - white space between the tokens inside <...>: "< a @ b.org >";
 *   - nested brackets "<<a@b.org>>";
 *   - a source route "<@a,@b:user@dom>" is accepted and removed;
 *   - RFC 5322 local parts: dots anywhere ("a..b", ".a", "a."), quoted
 *     strings and words mixed ("a.\"b c\""), backslash escapes in and out
 *     of quotes, '!' and '%', even an unquoted '@' ("a@b@dom": local part
 *     "a@b");
 *   - domain "b.org." with one trailing dot, underscores in labels.
 * Without MAIL_ADDR_FLAG_STRICT_RFC821 Postfix also accepts, and so do we:
 * a path without angle brackets ("user@dom"), (comments) anywhere, a
 * display name before the bracket inside the path ("<Joe <a@b.org>>"),
 * and an empty local part ("<@dom>", "<\"\"@dom>").
 * Domains are checked like Postfix: a host name (labels of letters,
 * digits, '-', '_', at most 63 bytes, not starting or ending with '-',
 * not all-numeric, 255 bytes in all), or an address literal [1.2.3.4] /
 * [IPv6:addr] ("IPv6:" in any case). Well-formed UTF-8 is accepted in
 * the local part and in domain labels here; whether the client may use
 * it is mail_addr_check_8bit's business, because Postfix decides that
 * only after the ESMTP parameters (which carry SMTPUTF8). Postfix 3.7's
 * MAIL FROM order, observed: address syntax (this function), parameters
 * (esmtp_param_parse), UTF-8 domain without SMTPUTF8 (501), SIZE against
 * message_size_limit (552), UTF-8 local part with strict_smtputf8 (553).
 * Deliberately stricter than Postfix (junk no real client sends): control
 * characters and invalid UTF-8 anywhere, ':' or ';' or ',' outside a
 * source route, quoted strings in the domain, a bad source-route domain,
 * "<>x", "<@x:>", "a@b>", and an '@' inside a local part that has no
 * domain ("<\"a@b\">", which the internal form cannot tell from "a@b").
 * Only MAIL_ADDR_FLAG_STRICT_RFC821 matters here.
 *
 * On success fills *out (free with mail_addr_path_free) and returns
 * MAIL_ADDR_OK. Otherwise *out is left empty, err (may be NULL) says what
 * was wrong for the log, and the status selects the reply.
 */
enum mail_addr_status
mail_addr_parse_path(const char *text, enum mail_addr_role role, int flags,
		     struct mail_addr_path *out, struct err *err);

/* Free what mail_addr_parse_path stored; the struct may be reused. */
void mail_addr_path_free(struct mail_addr_path *path);

/*
 * The SMTPUTF8 rules, after the parameters were parsed: with
 * MAIL_ADDR_FLAG_SMTPUTF8 (the client declared it) anything goes;
 * without it a UTF-8 domain is a syntax error (Postfix: "Bad ... address
 * syntax"), and a UTF-8 local part is MAIL_ADDR_ERR_NEED_SMTPUTF8 with
 * MAIL_ADDR_FLAG_STRICT_SMTPUTF8 and fine without (Postfix's default).
 * The domain rule is checked first; Postfix answers the SIZE check
 * between the two, so smtpd should send a NEED_SMTPUTF8 reply only after
 * its SIZE check passed.
 */
enum mail_addr_status
mail_addr_check_8bit(const char *addr, int flags, struct err *err);

/* Postfix's reply text for a status ("501 5.1.7 Bad sender ..."). */
const char *
mail_addr_reply(enum mail_addr_status status, enum mail_addr_role role);

/*
 * The parts of an internal-form address, split at the last '@'. local
 * points into addr; domain is NULL when there is no '@'.
 */
struct mail_addr_parts {
	const char *local;
	size_t local_len;
	const char *domain;
};

void mail_addr_split(const char *addr, struct mail_addr_parts *out);

/*
 * True if this local part must be quoted to be an RFC 5322 local part:
 * it is not a dot-atom (atext runs separated by single dots; bytes >= 0x80
 * count as atext, as in RFC 6532). The empty local part needs quoting.
 */
bool mail_addr_local_needs_quoting(const char *local, size_t len);

/*
 * Internal to external form: quote the local part where needed, escaping
 * '"' and '\' ("a b@x" -> "\"a b\"@x", "a\"b@x" -> "\"a\\\"b\"@x").
 * "" stays "" (the null path). Returns a new string (caller frees).
 */
char *mail_addr_quote(const char *addr);

/*
 * External to internal form: remove the quotes and backslash escapes of
 * the local part ("\"a b\"@x" -> "a b@x"). The domain is the part after
 * the last '@' outside quotes and is copied unchanged. Returns a new
 * string (caller frees).
 */
char *mail_addr_unquote(const char *addr);

/* Lowercase the ASCII letters of the domain part in place; returns addr. */
char *mail_addr_lowercase_domain(char *addr);

/*
 * Routing in the local part: the tricks an open relay check must refuse.
 * Bits returned by mail_addr_routing: '%' (percent hack,
 * "user%other@ourdomain"), '!' (bang path, "other!user@ourdomain"), and
 * '@' (an '@' inside the local part, which needs quoting or the lenient
 * parser: "\"user@other\"@ourdomain" = "user@other@ourdomain").
 */
#define MAIL_ADDR_ROUTE_PERCENT (1 << 0)
#define MAIL_ADDR_ROUTE_BANG (1 << 1)
#define MAIL_ADDR_ROUTE_AT (1 << 2)

int mail_addr_routing(const char *addr);

/* True if the local part has any of the routing operators above. */
bool mail_addr_has_routing(const char *addr);

/*
 * How Postfix's resolver treats routing in the local part (observed with
 * Postfix 3.7's reject_unauth_destination), as a pure function so smtpd's
 * relay check and trivial-rewrite agree:
 *   repeat: if the domain is local (is_local_domain, given the domain
 *   lowercased and without a trailing dot) and the local part contains an
 *   '@' (only with resolve_dequoted_address), drop "@domain" and go again;
 *   a local domain without such '@' is final. With no '@' left:
 *   swap_bangpath turns "site!rest" into "rest@site", else
 *   allow_percent_hack turns "user%site" (last '%') into "user@site", and
 *   we go again. Otherwise the address is final.
 * The result is "routed" when its local part still contains '@', '!' or
 * '%'. Postfix's reject_unauth_destination refuses a routed address even
 * for a local domain, so with defaults "u%ours@ours" and "ours!u@ours" are
 * accepted, "u%other@ours", "other!u@ours" and "\"u@other\"@ours" refused,
 * and with allow_percent_hack = no even "u%ours@ours" is refused.
 */
struct mail_addr_route_opts {
	bool allow_percent_hack;
	bool swap_bangpath;
	bool resolve_dequoted_address;
	bool (*is_local_domain)(const char *domain, void *ctx);
	void *ctx;
};

/*
 * Apply the rules above to an internal-form address. Returns the final
 * address (caller frees) and sets *is_routed_out.
 */
char *mail_addr_route_resolve(const char *addr,
			      const struct mail_addr_route_opts *opts,
			      bool *is_routed_out);

/*
 * Domain syntax as used by the path parser: a host name or an address
 * literal (see mail_addr_parse_path); allow_utf8 permits UTF-8 labels.
 */
bool mail_addr_domain_is_valid(const char *domain, size_t len, bool allow_utf8);

#endif
