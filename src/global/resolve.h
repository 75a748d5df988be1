/*
 * resolve.h - address rewriting and resolution, as trivial-rewrite does
 * them: the library qmgr, cleanup and smtpd link, and the trivial-rewrite
 * daemon serves to everything else.
 *
 * rewrite: canonicalize an address in context "local" (append @myorigin
 * to a bare user, .mydomain to a one-label domain when
 * append_dot_mydomain, bang paths per swap_bangpath, strip source routes)
 * or "remote" (append remote_header_rewrite_domain or nothing).
 *
 * resolve: decide where a (canonical) recipient goes. Address class, in
 * Postfix's order: local (domain in mydestination, or an address literal
 * of inet_interfaces/proxy_interfaces), virtual alias
 * (virtual_alias_domains: "User unknown in virtual alias table"), virtual
 * mailbox (virtual_mailbox_domains), relay (relay_domains), default. The
 * class gives the transport (local_transport, virtual_transport,
 * relay_transport, default_transport) and nexthop (the domain, or
 * relayhost for default when set); transport_maps override both, searched
 * for the full address, then the domain, then its parent domains
 * (".domain" when parent_domain_matches_subdomains does not list
 * transport_maps), then "*"; an entry "transport:" keeps the class's
 * nexthop, ":nexthop" the class's transport, "error:text" and
 * "[host]:port" as in transport(5). A transport's value "name:nexthop"
 * (e.g. relayhost in default_transport = smtp:[relay]:25) is split too.
 * The percent hack, '!' paths and '@' in the local part route as
 * mail_addr_route_resolve says. Results are cached per process
 * (RESOLVE_CACHE_MAX entries) since tables may change only on reload.
 */
#ifndef POSTERN_GLOBAL_RESOLVE_H
#define POSTERN_GLOBAL_RESOLVE_H

#include <stdbool.h>

#include "global/mail_conf.h"
#include "util/err.h"

#define RESOLVE_CACHE_MAX 10000

/* Address classes (resolve_reply.flags). */
#define RESOLVE_CLASS_LOCAL (1 << 0)
#define RESOLVE_CLASS_ALIAS (1 << 1)   /* virtual_alias_domains */
#define RESOLVE_CLASS_VIRTUAL (1 << 2) /* virtual_mailbox_domains */
#define RESOLVE_CLASS_RELAY (1 << 3)
#define RESOLVE_CLASS_DEFAULT (1 << 4)
#define RESOLVE_CLASS_MASK ((1 << 5) - 1)
/* Other flags. */
#define RESOLVE_FLAG_ROUTED (1 << 8) /* routing syntax was used */
#define RESOLVE_FLAG_ERROR (1 << 9)  /* the address is bad */
#define RESOLVE_FLAG_FAIL (1 << 10)  /* a table lookup failed: try later */

struct resolve_reply {
	int flags;
	char *transport; /* "local", "smtp", "error" */
	char *nexthop;	 /* "example.com", "[10.0.0.1]:25", or error text */
	char *recipient; /* the address as resolved (routing stripped) */
};

struct resolve;

/* Open the tables and read the parameters. Fatal on a bad parameter. */
struct resolve *resolve_create(struct mail_conf *conf);
void resolve_destroy(struct resolve **rp);

/*
 * Resolve addr (internal form, canonical). Fills *reply_out, which the
 * caller frees with resolve_reply_free. Returns 0, or -1 when a lookup
 * table failed (reply flags RESOLVE_FLAG_FAIL; retry later).
 */
int resolve_addr(struct resolve *r, const char *addr,
		 struct resolve_reply *reply_out);

void resolve_reply_free(struct resolve_reply *reply);

/*
 * True if addr ("192.0.2.1", "2001:db8::1") is one of our addresses:
 * inet_interfaces (all interfaces for "all") or proxy_interfaces.
 */
bool resolve_is_our_address(const struct resolve *r, const char *addr);

/*
 * Rewrite addr in context "local" or "remote" (anything else: local);
 * a new string the caller frees. "" (the null sender) stays "".
 */
char *resolve_rewrite(struct resolve *r, const char *context,
		      const char *addr);

#endif
