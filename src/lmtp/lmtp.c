/*
 * lmtp.c - the LMTP delivery agent: delivers qmgr's requests to LMTP
 * servers such as Dovecot or Cyrus (Postfix's smtp(8) under the name
 * lmtp). The work is in global/smtp_agent.c, shared with the smtp agent.
 *
 * Skeleton: SKEL_SINGLE; master.cf "lmtp unix - - n - - lmtp". Runs as
 * mail_owner; touches only the queue file of the request (done marks)
 * and the per-message logs, and talks to the network, UNIX-domain
 * sockets named by the nexthop, and DNS.
 */
#include "global/smtp_agent.h"

int
main(int argc, char **argv)
{
	return smtp_agent_main(argc, argv, true);
}
