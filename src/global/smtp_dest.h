/*
 * smtp_dest.h - from a delivery request's nexthop to the hosts the smtp
 * and lmtp agents try, in order.
 *
 * Destinations (several may be given, separated by comma or space):
 *   SMTP: "domain" / "domain:port"     MX lookup, then the hosts' addresses
 *         "[host]" / "[host]:port"     that host's addresses, no MX lookup
 *         "[1.2.3.4]", "[ipv6:2001:db8::1]:port"
 *   LMTP: "unix:/path" (relative paths are below the queue directory),
 *         "inet:host[:port]", "inet:[addr][:port]", or "host[:port]";
 *         never an MX lookup.
 * A port is a number or a services(5) name. Lookups use global/dns.h;
 * tests swap them through struct smtp_resolver.
 */
#ifndef POSTERN_GLOBAL_SMTP_DEST_H
#define POSTERN_GLOBAL_SMTP_DEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/sock_addr.h"

#include "global/dns.h"

/* One parsed destination. */
struct smtp_dest {
	char *host;   /* name or address without brackets; UNIX: the path */
	unsigned port;
	bool want_mx; /* SMTP domain form */
	bool is_unix; /* LMTP unix:path */
};

/*
 * Parse one destination. default_port is used when none is given.
 * Returns 0, or -1 with err 'bad destination "TEXT": reason'.
 */
int smtp_dest_parse(const char *text, bool is_lmtp, unsigned default_port,
		    struct smtp_dest *out, struct err *err);
void smtp_dest_clear(struct smtp_dest *d);

/* A port number or a services(5) name; -1 when neither. */
int smtp_dest_port(const char *text);

/* One host to try. */
struct smtp_host {
	char *name;	      /* MX host name or the [host]; UNIX: myhostname */
	struct sock_addr addr; /* TCP only */
	char addr_text[SOCK_ADDR_TEXT_MAX]; /* "192.0.2.1", or the UNIX path */
	unsigned port;			    /* 0 for UNIX */
	bool is_unix;
};

/*
 * How hosts are found. mx and addrs replace dns.h's dns_lookup_mx and
 * dns_lookup_addrs (or dns_lookup_addrs_native with is_native) when not
 * NULL, for tests. With want_mx false a domain is resolved as a host.
 */
struct smtp_resolver {
	struct dns_resolver *dns;
	bool want_mx;	/* DNS is enabled for MX lookups */
	bool is_native; /* smtp_host_lookup = native: getaddrinfo */
	unsigned families;	 /* DNS_WANT_IPV4 | DNS_WANT_IPV6 */
	enum dns_addr_pref pref; /* smtp_address_preference */
	const char *myhostname;	 /* the name shown for UNIX-domain hosts */
	enum dns_status (*mx)(void *ctx, const char *domain,
			      struct dns_mx_list **list_out, struct err *why);
	enum dns_status (*addrs)(void *ctx, const char *host, unsigned families,
				 enum dns_addr_pref pref,
				 struct dns_addr_list **list_out,
				 struct err *why);
	void *ctx;
	/*
	 * Is this address one of ours (inet_interfaces, proxy_interfaces)?
	 * NULL: never. An MX host of ours ends the MX list before its
	 * preference, as in Postfix; when that leaves no host the mail
	 * "loops back to myself" (5.4.6).
	 */
	bool (*is_self)(void *self_ctx, const char *addr_text);
	void *self_ctx;
};

/* The hosts to try, in order. */
struct smtp_host_list {
	struct smtp_host *hosts;
	size_t count;
	/* Why a destination gave no hosts: dsn and Postfix's text. */
	char dsn[16];
	char reason[ERR_TEXT_MAX];
};

/*
 * Append the hosts of d to list, at most limit addresses in all (0: no
 * limit). A lookup failure does not stop the caller: it is recorded in
 * list->dsn and list->reason, in dns.h's words: 4.4.3 for DNS_RETRY,
 * 5.1.10 for a null MX, else 5.4.4.
 */
void smtp_dest_hosts(const struct smtp_resolver *res,
		     const struct smtp_dest *d, size_t limit,
		     struct smtp_host_list *list);

void smtp_host_list_free(struct smtp_host_list *list);

#endif
