/*
 * smtp_cache.h - how the smtp and lmtp agents use the connection cache
 * (the scache service, global/scache_clnt.h): when to look for a cached
 * connection and when to keep one, and the labels and property string
 * that let any agent process of the same master.cf service pick up a
 * connection another one made.
 *
 * Labels carry the service name and the HELO name, so that connections
 * made with other settings are never mixed up:
 *   destination "SERVICE:HELO:NEXTHOP"            ("smtp:me.test:example.com")
 *   endpoint    "SERVICE:HELO:[ADDR]:PORT"         ("smtp:me.test:[192.0.2.1]:25")
 *               "SERVICE:HELO:unix:PATH"           (LMTP over a UNIX socket)
 * The property string describes the connection: the server's name and
 * address, what its EHLO reply offered, when the connection was made and
 * how many transactions it carried, e.g.
 *   "host=mx.test addr=192.0.2.1 port=25 unix=0 features=5 size=0 helo=0
 *    created=123456 uses=2"
 * (names and addresses xtext-encoded; unknown names are skipped, so the
 * format can grow).
 * Policy, as Postfix's parameters say (smtp_* or lmtp_*):
 *   look up   when connection_cache_on_demand is on, or the nexthop is
 *             listed in connection_cache_destinations;
 *   keep      when the nexthop is listed, or on demand when qmgr says
 *             more mail waits (DELIVER_FLAG_CONN_STORE); and then only
 *             while the connection is younger than
 *             connection_reuse_time_limit and has carried at most
 *             1 + connection_reuse_count_limit transactions (0: no limit);
 *   ttl       connection_cache_time_limit.
 */
#ifndef POSTERN_GLOBAL_SMTP_CACHE_H
#define POSTERN_GLOBAL_SMTP_CACHE_H

#include <stdbool.h>

#include "global/scache_clnt.h"
#include "global/smtp_session.h"
#include "util/argv.h"
#include "util/err.h"
#include "util/strbuf.h"

/* A connection as the cache describes it. */
struct smtp_cache_endp {
	char *host;    /* the server's name, for "host[addr]" */
	char *addr;    /* printable address, or the UNIX path */
	unsigned port; /* 0 for UNIX */
	bool is_unix;
	struct smtp_session_state state;
	long long created_ms; /* CLOCK_MONOTONIC, system-wide: when made */
	unsigned uses;	      /* transactions carried so far */
};

/* Free the strings of e and zero it. */
void smtp_cache_endp_clear(struct smtp_cache_endp *e);

/* The property string of e, appended to out; -1 at out's limit. */
int smtp_cache_prop_encode(const struct smtp_cache_endp *e,
			   struct strbuf *out);

/*
 * Parse a property string into *e (cleared first; strings allocated).
 * 0, or -1 with err "missing NAME", "bad NAME value \"V\"" or "bad
 * property \"P\"" (no '=').
 */
int smtp_cache_prop_decode(const char *text, struct smtp_cache_endp *e,
			   struct err *err);

/* The agent's settings, as read from its parameters. */
struct smtp_cache_conf {
	const char *service;   /* master.cf service name */
	const char *helo_name; /* smtp_helo_name / lmtp_lhlo_name */
	bool cache_on_demand;
	const struct argv *cache_destinations;
	int cache_time_limit;	      /* seconds: the time to live */
	long long reuse_time_limit_ms;
	unsigned reuse_count_limit; /* 0: no limit */
};

struct smtp_cache;

/*
 * A cache user with conf (copied) talking through clnt (may be NULL: no
 * cache at all; otherwise owned by the smtp_cache from now on).
 */
struct smtp_cache *smtp_cache_create(const struct smtp_cache_conf *conf,
				     struct scache_clnt *clnt);
void smtp_cache_destroy(struct smtp_cache **cp);

/* The labels (appended to out; -1 when longer than out's limit). */
int smtp_cache_dest_label(const struct smtp_cache *c, const char *nexthop,
			  struct strbuf *out);
int smtp_cache_endp_label(const struct smtp_cache *c, const char *addr,
			  unsigned port, bool is_unix, struct strbuf *out);

/* Look in the cache for this request's nexthop? */
bool smtp_cache_want_lookup(const struct smtp_cache *c, const char *nexthop);

/* Keep the connection after this request (DELIVER_FLAG_* in flags)? */
bool smtp_cache_want_store(const struct smtp_cache *c, const char *nexthop,
			   int flags);

/* Young enough and used little enough to be kept or reused (now_ms on
 * CLOCK_MONOTONIC)? */
bool smtp_cache_is_reusable(const struct smtp_cache *c,
			    const struct smtp_cache_endp *e, long long now_ms);

/*
 * A cached connection for nexthop, or to addr:port (the path, for UNIX):
 * its descriptor (the caller's now) with *e filled, or -1 (*e zeroed).
 * Connections whose properties do not parse (a warning is logged) or that
 * are no longer reusable are closed on the way.
 */
int smtp_cache_find_dest(struct smtp_cache *c, const char *nexthop,
			 struct smtp_cache_endp *e);
int smtp_cache_find_endp(struct smtp_cache *c, const char *addr,
			 unsigned port, bool is_unix,
			 struct smtp_cache_endp *e);

/*
 * Hand fd, described by e, to the cache: under its endpoint, and under
 * nexthop too unless nexthop is NULL (a fallback relay is found again by
 * address only). fd is closed in every case. 0 when the cache took it.
 */
int smtp_cache_save(struct smtp_cache *c, const char *nexthop,
		    const struct smtp_cache_endp *e, int fd);

#endif
