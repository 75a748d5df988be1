/*
 * error.c - the error delivery agent: bounces every recipient of a
 * request with the nexthop text as the reason (Postfix's error(8)); run
 * under the service name "retry" it defers them instead (retry(8)).
 *
 * Skeleton: SKEL_SINGLE; master.cf "error unix - - n - - error" and
 * "retry unix - - n - - error". Touches only the queue file of the
 * request (done marks) and the per-message logs, as mail_owner. The
 * nexthop may start with a status code ("5.1.1 no such user"); otherwise
 * the code is 5.0.0 (4.0.0 for retry). A code of the wrong class is
 * ignored with a warning, as Postfix does.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "global/deliver_request.h"
#include "global/dsn_split.h"
#include "global/mail_server.h"
#include "global/queue_file.h"
#include "util/log.h"

static void
error_init(struct server *server)
{
	struct err err;

	if ((server->ctx = queue_layout_for_daemon(server->conf, &err)) == NULL)
		log_fatal("%s", err.text);
}

static void
error_exit(struct server *server)
{
	struct queue_layout *ql = server->ctx;

	queue_layout_destroy(&ql);
}

static void
error_serve(struct server *server, struct stream *client)
{
	bool is_retry = strcmp(server->service_name, "retry") == 0;
	struct deliver_status status = {
		.relay = "none",
		.dsn = is_retry ? "4.0.0" : "5.0.0",
	};
	struct deliver_request *req;
	char dsn[DSN_SPLIT_SIZE];
	struct err err;

	if ((req = deliver_request_read(client, server->ctx, &err)) == NULL) {
		log_warning("%s", err.text);
		return;
	}
	status.reason = dsn_split(req->nexthop, dsn);
	if (dsn[0] == status.dsn[0])
		status.dsn = dsn;
	else if (dsn[0] != 0)
		log_warning("%s: ignoring dsn code \"%s\"",
			    is_retry ? "defer" : "bounce", dsn);
	if (*status.reason == 0)
		status.reason = "Address is undeliverable";
	deliver_all(req,
		    is_retry ? DELIVER_RESULT_DEFERRED : DELIVER_RESULT_BOUNCED,
		    &status);
	if (deliver_request_reply(client, req, DELIVER_STAT_OK, NULL, NULL,
				  &err) < 0)
		log_warning("%s: %s", req->queue_id, err.text);
	deliver_request_free(&req);
}

static const struct service_def error_service = {
	.name = "error",
	.kind = SKEL_SINGLE,
	.post_init = error_init,
	.on_client = error_serve,
	.on_exit = error_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &error_service);
}
