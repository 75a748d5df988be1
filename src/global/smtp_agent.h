/*
 * smtp_agent.h - the smtp and lmtp delivery agents' service: one delivery
 * request from qmgr, delivered over SMTP or LMTP (src/smtp and src/lmtp
 * are two small mains around this, as Postfix has one binary under two
 * names). The agent turns the nexthop into hosts (smtp_dest.h), tries
 * them in order up to smtp_mx_address_limit addresses and
 * smtp_mx_session_limit sessions, then $smtp_fallback_relay, and speaks
 * the protocol through smtp_session.h. Parameters are the smtp_* ones, or
 * the lmtp_* ones for LMTP (lmtp_lhlo_name, lmtp_lhlo_timeout).
 * A connection whose transaction ended in step is handed to the
 * connection cache (the scache service, smtp_cache.h) when the nexthop is
 * in smtp_connection_cache_destinations, or with
 * smtp_connection_cache_on_demand when qmgr says more mail waits for it;
 * any smtp process of the same service may then take it for the next
 * request to that nexthop or address: RSET before its next MAIL; not
 * reused when idle longer than smtp_connection_cache_time_limit, older
 * than smtp_connection_reuse_time_limit, or used more than
 * 1 + smtp_connection_reuse_count_limit times. One that fails at RSET or
 * MAIL is closed and the hosts are tried afresh. Without the cache every
 * connection ends with QUIT after its transaction.
 */
#ifndef POSTERN_GLOBAL_SMTP_AGENT_H
#define POSTERN_GLOBAL_SMTP_AGENT_H

#include <stdbool.h>

#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "util/stream.h"

struct smtp_agent;

/*
 * Read the parameters (fatal on a bad value) and open the DNS resolver.
 * service is the master.cf service name, which names this agent's
 * connections in the cache.
 */
struct smtp_agent *smtp_agent_create(struct mail_conf *conf, bool is_lmtp,
				     const char *service);
void smtp_agent_destroy(struct smtp_agent **ap);

/* The whole daemon: main() of smtp (is_lmtp false) and lmtp. */
int smtp_agent_main(int argc, char **argv, bool is_lmtp);

/*
 * Serve one connection from qmgr: read the request, deliver, report each
 * recipient (deliver_request.h) and reply.
 */
void smtp_agent_serve(struct smtp_agent *a, struct stream *client,
		      const struct queue_layout *ql);

#endif
