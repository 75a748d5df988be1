/*
 * deliver_request.c - encoding, decoding and the two ends of a delivery
 * request (see deliver_request.h for the exchange).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "global/deliver_request.h"
#include "global/queue_id.h"
#include "global/rec_type.h"
#include "global/svc_clnt.h"
#include "util/attr_io.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* Attribute names. */
#define DA_FLAGS "flags"
#define DA_QUEUE_NAME "queue_name"
#define DA_QUEUE_ID "queue_id"
#define DA_DATA_OFFSET "data_offset"
#define DA_DATA_SIZE "data_size"
#define DA_NEXTHOP "nexthop"
#define DA_ENCODING "encoding"
#define DA_SMTPUTF8 "smtputf8"
#define DA_SENDER "sender"
#define DA_DSN_ENVID "dsn_envid"
#define DA_DSN_RET "dsn_ret"
#define DA_ARRIVAL_SEC "arrival_sec"
#define DA_ARRIVAL_USEC "arrival_usec"
#define DA_ACTIVE_SEC "active_sec"
#define DA_ACTIVE_USEC "active_usec"
#define DA_CLIENT_NAME "client_name"
#define DA_CLIENT_ADDR "client_addr"
#define DA_CLIENT_PROTO "client_proto"
#define DA_CLIENT_HELO "client_helo"
#define DA_SASL_USERNAME "sasl_username"
#define DA_REWRITE_CONTEXT "rewrite_context"
#define DA_RCPTS "rcpts"
#define DA_RCPT "rcpt"
#define DA_OFFSET "offset"
#define DA_ADDRESS "address"
#define DA_ORIG_RCPT "orig_rcpt"
#define DA_DSN_ORCPT "dsn_orcpt"
#define DA_DSN_NOTIFY "dsn_notify"
#define DA_STATUS "status"
#define DA_DSN "dsn"
#define DA_REASON "reason"
#define DA_RESULTS "results"

/* ------------------------------------------------------------------ */
/* Encoding.                                                            */

static int
put_rcpt(struct strbuf *out, const struct deliver_rcpt *rcpt, struct err *err)
{
	return attr_put_list(out, DA_RCPT, err) < 0 ||
			       attr_put_int(out, DA_OFFSET, rcpt->offset, err) < 0 ||
			       attr_put_str(out, DA_ADDRESS, rcpt->address, err) < 0 ||
			       attr_put_str(out, DA_ORIG_RCPT, rcpt->orig_rcpt, err) < 0 ||
			       attr_put_str(out, DA_DSN_ORCPT, rcpt->dsn_orcpt, err) < 0 ||
			       attr_put_int(out, DA_DSN_NOTIFY, rcpt->dsn_notify, err) < 0 ||
			       attr_put_end(out, err) < 0
		       ? -1
		       : 0;
}

static int
put_strings(struct strbuf *out, const struct deliver_request *req,
	    struct err *err)
{
	const struct {
		const char *name;
		const char *value;
	} strings[] = {
		{ DA_QUEUE_NAME, req->queue_name },
		{ DA_QUEUE_ID, req->queue_id },
		{ DA_NEXTHOP, req->nexthop },
		{ DA_ENCODING, req->encoding },
		{ DA_SENDER, req->sender },
		{ DA_DSN_ENVID, req->dsn_envid },
		{ DA_CLIENT_NAME, req->client_name },
		{ DA_CLIENT_ADDR, req->client_addr },
		{ DA_CLIENT_PROTO, req->client_proto },
		{ DA_CLIENT_HELO, req->client_helo },
		{ DA_SASL_USERNAME, req->sasl_username },
		{ DA_REWRITE_CONTEXT, req->rewrite_context },
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (attr_put_str(out, strings[i].name,
				 strings[i].value ? strings[i].value : "",
				 err) < 0)
			return -1;
	return 0;
}

static int
put_numbers(struct strbuf *out, const struct deliver_request *req,
	    struct err *err)
{
	const struct {
		const char *name;
		long long value;
	} numbers[] = {
		{ DA_FLAGS, req->flags },
		{ DA_DATA_OFFSET, req->data_offset },
		{ DA_DATA_SIZE, req->data_size },
		{ DA_SMTPUTF8, req->smtputf8 },
		{ DA_DSN_RET, req->dsn_ret },
		{ DA_ARRIVAL_SEC, req->arrival.tv_sec },
		{ DA_ARRIVAL_USEC, req->arrival.tv_nsec / 1000 },
		{ DA_ACTIVE_SEC, req->active.tv_sec },
		{ DA_ACTIVE_USEC, req->active.tv_nsec / 1000 },
	};

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (attr_put_int(out, numbers[i].name, numbers[i].value, err) <
		    0)
			return -1;
	return 0;
}

int
deliver_request_encode(const struct deliver_request *req, struct strbuf *out,
		       struct err *err)
{
	if (put_numbers(out, req, err) < 0 || put_strings(out, req, err) < 0 ||
	    attr_put_list(out, DA_RCPTS, err) < 0)
		return -1;
	for (size_t i = 0; i < req->rcpt_count; i++)
		if (put_rcpt(out, &req->rcpts[i], err) < 0)
			return -1;
	return attr_put_end(out, err) < 0 || attr_put_end(out, err) < 0 ? -1
									: 0;
}

/* ------------------------------------------------------------------ */
/* Decoding.                                                            */

static char *
get_str(const struct attr_list *msg, const char *name, struct err *err,
	int *bad)
{
	const char *value;

	if (attr_get_str(msg, name, &value, err) < 0) {
		*bad = 1;
		return xstrdup("");
	}
	return xstrdup(value);
}

static long long
get_int(const struct attr_list *msg, const char *name, long long min,
	long long max, struct err *err, int *bad)
{
	long long value = 0;

	if (attr_get_int(msg, name, &value, err) < 0) {
		*bad = 1;
		return 0;
	}
	if (value < min || value > max) {
		err_set(err, "attribute %s: value %lld out of range", name,
			value);
		*bad = 1;
		return 0;
	}
	return value;
}

static int
decode_rcpt(const struct attr_list *item, struct deliver_rcpt *rcpt,
	    struct err *err)
{
	int bad = 0;

	rcpt->offset = (off_t)get_int(item, DA_OFFSET, 0, (1LL << 62), err,
				      &bad);
	rcpt->dsn_notify = (int)get_int(item, DA_DSN_NOTIFY, 0, 15, err, &bad);
	rcpt->address = get_str(item, DA_ADDRESS, err, &bad);
	rcpt->orig_rcpt = get_str(item, DA_ORIG_RCPT, err, &bad);
	rcpt->dsn_orcpt = get_str(item, DA_DSN_ORCPT, err, &bad);
	if (!bad && rcpt->address[0] == 0) {
		err_set(err, "empty recipient address");
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int
decode_rcpts(const struct attr_list *msg, struct deliver_request *req,
	     struct err *err)
{
	const struct attr_list *list;

	if (attr_get_list(msg, DA_RCPTS, &list, err) < 0)
		return -1;
	if (list->count == 0 || list->count > DELIVER_RCPT_MAX) {
		err_set(err, "request has %zu recipients (1..%d allowed)",
			list->count, DELIVER_RCPT_MAX);
		return -1;
	}
	req->rcpts = xcalloc(list->count, sizeof(*req->rcpts));
	req->results = xcalloc(list->count + 1, 1);
	for (size_t i = 0; i < list->count; i++) {
		const struct attr *item = &list->items[i];

		req->rcpt_count = i + 1;
		if (item->type != ATTR_LIST) {
			err_set(err, "recipient %zu: not a list", i + 1);
			return -1;
		}
		if (decode_rcpt(item->list, &req->rcpts[i], err) < 0) {
			err_prefix(err, "recipient %zu", i + 1);
			return -1;
		}
	}
	return 0;
}

static void
decode_header(const struct attr_list *msg, struct deliver_request *req,
	      struct err *err, int *bad)
{
	req->flags = (int)get_int(msg, DA_FLAGS, 0, DELIVER_FLAG_MASK, err, bad);
	req->data_offset = (off_t)get_int(msg, DA_DATA_OFFSET, 0, 1LL << 62,
					  err, bad);
	req->data_size = get_int(msg, DA_DATA_SIZE, 0, 1LL << 62, err, bad);
	req->smtputf8 = (int)get_int(msg, DA_SMTPUTF8, 0, 255, err, bad);
	req->dsn_ret = (int)get_int(msg, DA_DSN_RET, 0, 2, err, bad);
	req->arrival.tv_sec = (time_t)get_int(msg, DA_ARRIVAL_SEC, 0,
					      1LL << 40, err, bad);
	req->arrival.tv_nsec = 1000 * (long)get_int(msg, DA_ARRIVAL_USEC, 0,
						    999999, err, bad);
	req->active.tv_sec = (time_t)get_int(msg, DA_ACTIVE_SEC, 0, 1LL << 40,
					     err, bad);
	req->active.tv_nsec = 1000 * (long)get_int(msg, DA_ACTIVE_USEC, 0,
						   999999, err, bad);
	req->queue_name = get_str(msg, DA_QUEUE_NAME, err, bad);
	req->queue_id = get_str(msg, DA_QUEUE_ID, err, bad);
	req->nexthop = get_str(msg, DA_NEXTHOP, err, bad);
	req->encoding = get_str(msg, DA_ENCODING, err, bad);
	req->sender = get_str(msg, DA_SENDER, err, bad);
	req->dsn_envid = get_str(msg, DA_DSN_ENVID, err, bad);
	req->client_name = get_str(msg, DA_CLIENT_NAME, err, bad);
	req->client_addr = get_str(msg, DA_CLIENT_ADDR, err, bad);
	req->client_proto = get_str(msg, DA_CLIENT_PROTO, err, bad);
	req->client_helo = get_str(msg, DA_CLIENT_HELO, err, bad);
	req->sasl_username = get_str(msg, DA_SASL_USERNAME, err, bad);
	req->rewrite_context = get_str(msg, DA_REWRITE_CONTEXT, err, bad);
}

struct deliver_request *
deliver_request_decode(const struct attr_list *msg, struct err *err)
{
	struct deliver_request *req = xcalloc(1, sizeof(*req));
	int bad = 0;

	req->queue_fd = -1;
	decode_header(msg, req, err, &bad);
	if (!bad && !is_valid_queue_id(req->queue_id)) {
		err_set(err, "bad queue ID \"%s\"", req->queue_id);
		bad = 1;
	}
	if (!bad && strcmp(req->queue_name, "active") != 0) {
		err_set(err, "bad queue name \"%s\"", req->queue_name);
		bad = 1;
	}
	if (bad || decode_rcpts(msg, req, err) < 0) {
		deliver_request_free(&req);
		return NULL;
	}
	return req;
}

void
deliver_request_free(struct deliver_request **reqp)
{
	struct deliver_request *req = *reqp;

	if (req == NULL)
		return;
	for (size_t i = 0; i < req->rcpt_count; i++) {
		free(req->rcpts[i].address);
		free(req->rcpts[i].orig_rcpt);
		free(req->rcpts[i].dsn_orcpt);
	}
	free(req->rcpts);
	free(req->results);
	char **strings[] = { &req->queue_name,	 &req->queue_id,
			     &req->nexthop,	 &req->encoding,
			     &req->sender,	 &req->dsn_envid,
			     &req->client_name,	 &req->client_addr,
			     &req->client_proto, &req->client_helo,
			     &req->sasl_username, &req->rewrite_context };
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	if (req->queue_fd >= 0)
		(void)close(req->queue_fd);
	free(req);
	*reqp = NULL;
}

/* ------------------------------------------------------------------ */
/* Client side.                                                         */

static void
reply_decode(const struct attr_list *msg, size_t rcpt_count,
	     struct deliver_reply *reply)
{
	long long status = DELIVER_STAT_DEFER;
	const char *dsn = "4.3.0";
	const char *reason = "";
	const uint8_t *results = NULL;
	size_t len = 0;

	(void)attr_get_int(msg, DA_STATUS, &status, NULL);
	(void)attr_get_str(msg, DA_DSN, &dsn, NULL);
	(void)attr_get_str(msg, DA_REASON, &reason, NULL);
	(void)attr_get_bytes(msg, DA_RESULTS, &results, &len, NULL);
	reply->status = status == DELIVER_STAT_OK ? DELIVER_STAT_OK
						  : DELIVER_STAT_DEFER;
	snprintf(reply->dsn, sizeof(reply->dsn), "%s", dsn);
	snprintf(reply->reason, sizeof(reply->reason), "%s", reason);
	reply->results = xmalloc(rcpt_count + 1);
	for (size_t i = 0; i < rcpt_count; i++) {
		int r = i < len ? results[i] : DELIVER_RESULT_DEFERRED;

		reply->results[i] = (r == DELIVER_RESULT_SENT ||
				     r == DELIVER_RESULT_BOUNCED)
					    ? (char)r
					    : DELIVER_RESULT_DEFERRED;
	}
	reply->results[rcpt_count] = 0;
}

int
deliver_request_send(const char *path, const struct deliver_request *req,
		     int timeout_ms, struct deliver_reply *reply_out,
		     struct err *err)
{
	struct stream *s;
	struct strbuf msg;
	struct attr_list *reply = NULL;
	int ret = -1;

	memset(reply_out, 0, sizeof(*reply_out));
	s = svc_connect(path, DELIVER_PROTOCOL, DELIVER_VERSION, timeout_ms,
			err);
	if (s == NULL)
		return -1;
	strbuf_init(&msg, DELIVER_REQUEST_MAX);
	if (deliver_request_encode(req, &msg, err) == 0 &&
	    svc_call(s, &msg, ATTR_IO_MESSAGE_MAX + 2 * req->rcpt_count,
		     &reply, err) == 1) {
		reply_decode(reply, req->rcpt_count, reply_out);
		ret = 0;
	} else {
		err_prefix(err, "%s", path);
	}
	attr_list_destroy(&reply);
	strbuf_deinit(&msg);
	(void)stream_close(&s);
	return ret;
}

void
deliver_reply_free(struct deliver_reply *reply)
{
	free(reply->results);
	reply->results = NULL;
}

/* ------------------------------------------------------------------ */
/* Agent side: reading the request and replying.                        */

/*
 * Open the queue file and take a shared lock, which tells a restarted
 * qmgr that this message is still being worked on.
 */
static int
open_queue_file(struct deliver_request *req, struct err *err)
{
	req->queue_fd = queue_file_open(req->ql, req->queue_name,
					req->queue_id, O_RDWR, err);
	if (req->queue_fd < 0)
		return -1;
	if (flock(req->queue_fd, LOCK_SH) < 0) {
		err_set(err, "lock %s: %s", req->queue_id, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A restarted qmgr may hand out a recipient that an agent of its
 * predecessor finished meanwhile: such recipients get their result now,
 * and agents skip every recipient whose result is set.
 */
static void
skip_finished(struct deliver_request *req)
{
	for (size_t i = 0; i < req->rcpt_count; i++) {
		char type = 0;

		if (pread(req->queue_fd, &type, 1, req->rcpts[i].offset) == 1 &&
		    type == REC_TYPE_DONE)
			req->results[i] = DELIVER_RESULT_SENT;
	}
}

struct deliver_request *
deliver_request_read(struct stream *client, const struct queue_layout *ql,
		     struct err *err)
{
	struct attr_list *msg = NULL;
	struct deliver_request *req = NULL;
	int ret;

	if (svc_greet(client, DELIVER_PROTOCOL, DELIVER_VERSION, err) < 0)
		return NULL;
	ret = attr_read(client, DELIVER_REQUEST_MAX, &msg, err);
	if (ret == 0)
		err_set(err, "connection closed before the request");
	if (ret == 1)
		req = deliver_request_decode(msg, err);
	attr_list_destroy(&msg);
	if (req == NULL) {
		err_prefix(err, "delivery request");
		return NULL;
	}
	req->ql = ql;
	(void)clock_gettime(CLOCK_REALTIME, &req->received);
	if (open_queue_file(req, err) < 0)
		deliver_request_free(&req);
	else
		skip_finished(req);
	return req;
}

int
deliver_request_reply(struct stream *client, struct deliver_request *req,
		      int status, const char *dsn, const char *reason,
		      struct err *err)
{
	struct strbuf msg;
	bool is_all_done = true;
	int ret;

	for (size_t i = 0; i < req->rcpt_count; i++) {
		if (req->results[i] == 0)
			req->results[i] = DELIVER_RESULT_DEFERRED;
		if (req->results[i] == DELIVER_RESULT_DEFERRED)
			is_all_done = false;
	}
	/*
	 * A file that stays in the queue gets its done marks made durable
	 * with one fsync, so a crash later does not deliver them again. When
	 * every recipient is finished, qmgr removes the file next: as with
	 * Postfix's unsynced done marks, only a crash in between could
	 * repeat a delivery, and no mail is ever lost by it.
	 */
	if (!is_all_done && fsync(req->queue_fd) < 0)
		log_warning("%s: fsync queue file: %s", req->queue_id,
			    strerror(errno));
	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX + req->rcpt_count);
	ret = attr_put_int(&msg, DA_STATUS, status, err) < 0 ||
			      attr_put_str(&msg, DA_DSN, dsn ? dsn : "2.0.0",
					   err) < 0 ||
			      attr_put_str(&msg, DA_REASON, reason ? reason : "",
					   err) < 0 ||
			      attr_put_bytes(&msg, DA_RESULTS, req->results,
					     req->rcpt_count, err) < 0 ||
			      attr_put_end(&msg, err) < 0 ||
			      attr_write(client, &msg, err) < 0
		      ? -1
		      : 0;
	strbuf_deinit(&msg);
	return ret;
}
