/*
 * bounce_clnt.h - asking the bounce service for delivery status
 * notifications (RFC 3464), as qmgr does when a message is finished.
 *
 * The bounce service (private/bounce, SKEL_SINGLE) reads the message's
 * queue file (sender, DSN ENVID and RET, headers, content) and one of its
 * per-message logs (global/msg_log.h), submits the notification through
 * cleanup, and only then removes the log it used and replies. One
 * connection carries one request:
 *  1. Server greeting: protocol="bounce" version=1
 *  2. Request: op=OP queue_name=Q queue_id=ID
 *     op is one of
 *       "flush"  failed recipients (bounce log): a non-delivery report
 *       "expire" the message expired: every entry of the defer log (and
 *                the bounce log, if any) becomes failed, "status=expired,
 *                returned to sender" is logged
 *       "warn"   a delay warning from the defer log (the log is kept)
 *       "trace"  success notices (trace log, NOTIFY=SUCCESS recipients)
 *  3. Reply: status=0 when the notice was queued, or none was due (null
 *     sender with no 2bounce recipient, notify_classes excludes it); else
 *     status=1 with reason=TEXT: qmgr keeps the message and tries later.
 * The notice's queue ID is logged as Postfix does:
 *     ID: sender non-delivery notification: NEWID
 */
#ifndef POSTERN_GLOBAL_BOUNCE_CLNT_H
#define POSTERN_GLOBAL_BOUNCE_CLNT_H

#include "util/err.h"

#define BOUNCE_PROTOCOL "bounce"
#define BOUNCE_VERSION 1

#define BOUNCE_OP_FLUSH "flush"
#define BOUNCE_OP_EXPIRE "expire"
#define BOUNCE_OP_WARN "warn"
#define BOUNCE_OP_TRACE "trace"

/*
 * Send one request to the bounce service at path and wait for the reply
 * (timeout_ms per step, negative: none). 0 when status=0; -1 with err
 * ("connect to PATH: reason", the server's reason).
 */
int bounce_request(const char *path, const char *op, const char *queue_name,
		   const char *queue_id, int timeout_ms, struct err *err);

#endif
