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
#include <stdlib.h>

#include "global/mail_server.h"
#include "global/queue_file.h"
#include "global/smtp_agent.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct smtp_main {
	struct queue_layout *ql;
	struct smtp_agent *agent;
};

static void
smtp_init(struct server *server)
{
	struct smtp_main *m = xmalloc(sizeof(*m));
	struct err err;

	if ((m->ql = queue_layout_for_daemon(server->conf, &err)) == NULL)
		log_fatal("%s", err.text);
	m->agent = smtp_agent_create(server->conf, false);
	server->ctx = m;
}

static void
smtp_exit(struct server *server)
{
	struct smtp_main *m = server->ctx;

	smtp_agent_destroy(&m->agent);
	queue_layout_destroy(&m->ql);
	free(m);
}

static void
smtp_serve(struct server *server, struct stream *client)
{
	struct smtp_main *m = server->ctx;

	smtp_agent_serve(m->agent, client, m->ql);
}

static const struct service_def smtp_service = {
	.name = "smtp",
	.kind = SKEL_SINGLE,
	.post_init = smtp_init,
	.on_client = smtp_serve,
	.on_exit = smtp_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &smtp_service);
}
