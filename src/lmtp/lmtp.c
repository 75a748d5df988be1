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
#include <stdlib.h>

#include "global/mail_server.h"
#include "global/queue_file.h"
#include "global/smtp_agent.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct lmtp_main {
	struct queue_layout *ql;
	struct smtp_agent *agent;
};

static void
lmtp_init(struct server *server)
{
	struct lmtp_main *m = xmalloc(sizeof(*m));
	struct err err;

	if ((m->ql = queue_layout_for_daemon(server->conf, &err)) == NULL)
		log_fatal("%s", err.text);
	m->agent = smtp_agent_create(server->conf, true);
	server->ctx = m;
}

static void
lmtp_exit(struct server *server)
{
	struct lmtp_main *m = server->ctx;

	smtp_agent_destroy(&m->agent);
	queue_layout_destroy(&m->ql);
	free(m);
}

static void
lmtp_serve(struct server *server, struct stream *client)
{
	struct lmtp_main *m = server->ctx;

	smtp_agent_serve(m->agent, client, m->ql);
}

static const struct service_def lmtp_service = {
	.name = "lmtp",
	.kind = SKEL_SINGLE,
	.post_init = lmtp_init,
	.on_client = lmtp_serve,
	.on_exit = lmtp_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &lmtp_service);
}
