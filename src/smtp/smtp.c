/*
 * smtp.c - the SMTP delivery agent: delivers qmgr's requests to remote
 * mail servers (Postfix's smtp(8)). The work is in global/smtp_agent.c,
 * shared with the lmtp agent.
 *
 * Skeleton: SKEL_SINGLE; master.cf "smtp unix - - n - - smtp" (and
 * "relay unix - - n - - smtp"). Runs as mail_owner; touches only the
 * queue file of the request (done marks) and the per-message logs, and
 * talks to the network and DNS.
 */
#include "global/smtp_agent.h"

int
main(int argc, char **argv)
{
	return smtp_agent_main(argc, argv, false);
}
