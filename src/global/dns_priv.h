/*
 * dns_priv.h - what dns.c, dns_conf.c and dns_mx.c share inside the DNS
 * module. Not for other modules: they use dns.h.
 */
#ifndef POSTERN_GLOBAL_DNS_PRIV_H
#define POSTERN_GLOBAL_DNS_PRIV_H

#include <resolv.h>
#include <stdint.h>

#include "util/err.h"
#include "util/htable.h"

#include "global/dns.h"

struct dns_resolver {
	struct __res_state state; /* private: never the global _res */
	bool has_state;
	struct dns_resolver_ops ops;
	uint64_t rng;
	struct htable *cache;
	uint8_t *buf; /* DNS_MSG_MAX bytes for the reply */
};

/*
 * Read a resolv.conf-style file (see dns.h) and point state at its name
 * servers and options. -1 with err "FILE, line N: reason".
 */
int dns_conf_apply(struct __res_state *state, const char *path,
		   struct err *err);

/* The next pseudo-random number of this resolver (xorshift64*). */
uint64_t dns_random(struct dns_resolver *res);

#endif
