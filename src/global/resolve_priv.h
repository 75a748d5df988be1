/*
 * resolve_priv.h - what the parts of the resolver (resolve.c,
 * resolve_rewrite.c, resolve_iface.c) share. Not for other modules:
 * they use resolve.h.
 */
#ifndef POSTERN_GLOBAL_RESOLVE_PRIV_H
#define POSTERN_GLOBAL_RESOLVE_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "global/maps.h"
#include "global/match_list.h"
#include "global/resolve.h"
#include "util/htable.h"

/* One address of ours: IPv4 (4 bytes) or IPv6 (16 bytes). */
struct resolve_iface {
	int family;
	unsigned char addr[16];
};

struct resolve {
	/* Rewriting. */
	char *myhostname;
	char *mydomain;
	char *myorigin;
	char *remote_domain; /* remote_header_rewrite_domain */
	bool append_at_myorigin;
	bool append_dot_mydomain;
	bool swap_bangpath;
	bool allow_percent_hack;
	/* Resolving. */
	bool resolve_dequoted_address;
	bool resolve_null_domain;
	bool resolve_numeric_domain;
	bool show_table_name; /* show_user_unknown_table_name */
	bool transport_parent_style;
	char *empty_address_recipient;
	char *recipient_delimiter;
	char *relayhost;
	char *local_transport;
	char *virtual_transport;
	char *relay_transport;
	char *default_transport;
	struct match_list *mydestination;
	struct match_list *virtual_alias_domains;
	struct match_list *virtual_mailbox_domains;
	struct match_list *relay_domains;
	struct maps *transport_maps;
	struct resolve_iface *ifaces; /* inet_interfaces + proxy_interfaces */
	size_t iface_count;
	/* Per-process cache of answers: addr -> struct resolve_reply. */
	struct htable *cache;
	/* Set by the is_local_domain callback when a table failed. */
	bool has_match_error;
};

/*
 * Collect the addresses of inet_interfaces ("all": every address of
 * every interface that is up; "loopback-only"; or host names and
 * addresses) and proxy_interfaces. -1 with err when a name does not
 * resolve ("inet_interfaces: resolve HOST: reason") or getifaddrs fails.
 */
int resolve_iface_load(struct resolve *r, const char *inet_interfaces,
		       const char *proxy_interfaces, struct err *err);

/* True if domain is an address literal ("[192.0.2.1]", "[IPv6:::1]",
 * any case) of one of our interfaces. */
bool
resolve_iface_is_local_literal(const struct resolve *r, const char *domain);

/*
 * Take addr (freed here) and return it with ".dot_domain" appended to a
 * domain that has no dot, when append_dot_mydomain and dot_domain is not
 * empty; address literals and empty domains stay as they are.
 */
char *
resolve_dot_domain(const struct resolve *r, char *addr, const char *dot_domain);

#endif
