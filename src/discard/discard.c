/*
 * discard.c - the discard delivery agent: reports every recipient of a
 * request as delivered without delivering anything, with the nexthop
 * text as the reason (Postfix's discard(8)).
 *
 * Skeleton: SKEL_SINGLE; master.cf "discard unix - - n - - discard".
 * Touches only the queue file of the request (done marks) and the
 * per-message logs, as mail_owner. The nexthop may start with a status
 * code ("5.7.1 policy"): as in Postfix, a code that is not 2.X.Y is
 * ignored with a warning, and the text after it is the reason.
 */
#include <stdlib.h>

#include "global/deliver_request.h"
#include "global/dsn_split.h"
#include "global/mail_server.h"
#include "global/queue_file.h"
#include "util/log.h"

static void
discard_init(struct server *server)
{
	struct err err;

	if ((server->ctx = queue_layout_for_daemon(server->conf, &err)) == NULL)
		log_fatal("%s", err.text);
}

static void
discard_exit(struct server *server)
{
	struct queue_layout *ql = server->ctx;

	queue_layout_destroy(&ql);
}

static void
discard_serve(struct server *server, struct stream *client)
{
	struct deliver_request *req;
	struct deliver_status status = { .relay = "none", .dsn = "2.0.0" };
	char dsn[DSN_SPLIT_SIZE];
	struct err err;

	if ((req = deliver_request_read(client, server->ctx, &err)) == NULL) {
		log_warning("%s", err.text);
		return;
	}
	status.reason = dsn_split(req->nexthop, dsn);
	if (dsn[0] == '2')
		status.dsn = dsn;
	else if (dsn[0] != 0)
		log_warning("sent: ignoring dsn code \"%s\"", dsn);
	if (*status.reason == 0)
		status.reason = "discarded";
	deliver_all(req, DELIVER_RESULT_SENT, &status);
	if (deliver_request_reply(client, req, DELIVER_STAT_OK, NULL, NULL,
				  &err) < 0)
		log_warning("%s: %s", req->queue_id, err.text);
	deliver_request_free(&req);
}

static const struct service_def discard_service = {
	.name = "discard",
	.kind = SKEL_SINGLE,
	.post_init = discard_init,
	.on_client = discard_serve,
	.on_exit = discard_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &discard_service);
}
