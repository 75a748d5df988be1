/*
 * test_deliver_request.c - unit tests for the delivery request protocol
 * and the agent's side of it.
 *
 * The codec: encode then decode gives the request back; each attribute
 * that is missing, of the wrong type or out of range is refused with its
 * reason. The agent side runs over a socketpair against a real queue file
 * in a temporary queue: reading the request, the outcomes (done marks,
 * bounce/defer/trace log entries, the log line and its delays), the
 * reply, and the content reader. The client side (deliver_request_send)
 * talks to a forked agent over a UNIX socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../remove_tree.h"

#include "../stderr_capture.h"
#include "global/deliver_request.h"
#include "global/msg_log.h"
#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/svc_clnt.h"
#include "util/attr.h"
#include "util/attr_io.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/stream.h"
#include "util/strbuf.h"

static const char *const all_queues[] = { "maildrop", "incoming", "active",
					  "deferred", "hold",     "corrupt",
					  NULL };

#define RCPT_COUNT 3
#define LONG_LINE 5000

struct fixture {
	char dir[64];
	struct queue_layout *ql;
	char id[QUEUE_ID_SIZE];
	char path[256]; /* the queue file in active/ */
	off_t rcpt_offsets[RCPT_COUNT];
	off_t data_offset;
	off_t xtra_offset;
	int sock[2]; /* [0] the agent's end, [1] qmgr's */
	struct stream *agent;
	struct stream *qmgr;
};

/* ------------------------------------------------------------------ */
/* The queue and the queue file                                         */

static void
put(struct queue_file *qf, int type, const char *text)
{
	struct err err;

	if (queue_file_put_str(qf, type, text, &err) < 0)
		fail_msg("put %c: %s", type, err.text);
}

static void
put_line(struct queue_file *qf, const char *text, size_t len)
{
	struct err err;

	if (queue_file_put_line(qf, text, len, &err) < 0)
		fail_msg("put line: %s", err.text);
}

/* A message to three recipients, with a line long enough for L pieces. */
static void
write_queue_file(struct fixture *fx)
{
	static const char *const rcpts[RCPT_COUNT] = { "user@example.com",
						       "b@example.org",
						       "c@example.net" };
	char *long_line = xmalloc(LONG_LINE);
	struct queue_file *qf;
	struct err err;

	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	if (qf == NULL)
		fail_msg("create: %s", err.text);
	put(qf, REC_TYPE_TIME, "1700000000 250000");
	put(qf, REC_TYPE_FROM, "sender@example.com");
	put(qf, REC_TYPE_ORCP, "alias@example.com");
	for (int i = 0; i < RCPT_COUNT; i++) {
		fx->rcpt_offsets[i] = queue_file_tell(qf);
		put(qf, REC_TYPE_RCPT, rcpts[i]);
	}
	put(qf, REC_TYPE_MESG, "");
	fx->data_offset = queue_file_tell(qf);
	put_line(qf, "Subject: hi", 11);
	put_line(qf, "", 0);
	memset(long_line, 'x', LONG_LINE);
	put_line(qf, long_line, LONG_LINE);
	put_line(qf, "bye\r", 4);
	fx->xtra_offset = queue_file_tell(qf);
	snprintf(fx->id, sizeof(fx->id), "%s", queue_file_id(qf));
	if (queue_file_commit(&qf, &err) < 0)
		fail_msg("commit: %s", err.text);
	if (queue_file_move(fx->ql, "incoming", "active", fx->id, &err) < 0)
		fail_msg("move: %s", err.text);
	snprintf(fx->path, sizeof(fx->path), "%s/active/%s", fx->dir, fx->id);
	free(long_line);
}

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	char path[256];

	strcpy(fx->dir, "/tmp/test_deliver_request.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	for (const char *const *q = all_queues; *q; q++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, *q);
		if (mkdir(path, 0700) < 0)
			return -1;
	}
	fx->ql = queue_layout_create(fx->dir, "deferred, defer", 1, false);
	write_queue_file(fx);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fx->sock) < 0)
		return -1;
	fx->agent = stream_open(fx->sock[0], 0);
	fx->qmgr = stream_open(fx->sock[1], 0);
	stream_set_timeout(fx->agent, 5000);
	stream_set_timeout(fx->qmgr, 5000);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	(void)stream_close(&fx->agent);
	(void)stream_close(&fx->qmgr);
	queue_layout_destroy(&fx->ql);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

/* The type byte of the record at offset. */
static char
record_type_at(const struct fixture *fx, off_t offset)
{
	char type = 0;
	int fd = open(fx->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &type, 1, offset), 1);
	close(fd);
	return type;
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */

/* A request for the fixture's message, as qmgr would send it. */
static void
request_fill(struct deliver_request *req, struct deliver_rcpt *rcpts,
	     const struct fixture *fx)
{
	static const char *const addrs[RCPT_COUNT] = { "user@example.com",
						       "b@example.org",
						       "c@example.net" };

	memset(req, 0, sizeof(*req));
	memset(rcpts, 0, RCPT_COUNT * sizeof(*rcpts));
	req->queue_name = "active";
	req->queue_id = (char *)(fx ? fx->id : "B12341267");
	req->data_offset = fx ? fx->data_offset : 300;
	req->data_size = 5100;
	req->nexthop = "example.com";
	req->encoding = "8bitmime";
	req->sender = "sender@example.com";
	req->arrival.tv_sec = 1700000000;
	req->arrival.tv_nsec = 250000000;
	req->active.tv_sec = 1700000001;
	req->active.tv_nsec = 500000000;
	req->rewrite_context = "remote";
	for (int i = 0; i < RCPT_COUNT; i++) {
		rcpts[i].offset = fx ? fx->rcpt_offsets[i] : 100 + i;
		rcpts[i].address = (char *)addrs[i];
		rcpts[i].orig_rcpt =
			(char *)(i == 0 ? "alias@example.com" : addrs[i]);
		rcpts[i].dsn_orcpt = "";
	}
	req->rcpts = rcpts;
	req->rcpt_count = RCPT_COUNT;
}

/* Encode req and decode the bytes as the agent would. */
static struct deliver_request *
round_trip(const struct deliver_request *req, struct err *err)
{
	struct strbuf msg;
	struct attr_list *list = NULL;
	struct deliver_request *got;
	size_t consumed = 0;

	strbuf_init(&msg, DELIVER_REQUEST_MAX);
	assert_int_equal(deliver_request_encode(req, &msg, err), 0);
	assert_int_equal(attr_decode((const uint8_t *)msg.data, msg.len,
				     &attr_default_limits, &list, &consumed,
				     err),
			 1);
	assert_int_equal(consumed, msg.len);
	got = deliver_request_decode(list, err);
	attr_list_destroy(&list);
	strbuf_deinit(&msg);
	return got;
}

static void
test_encode_decode(void **state)
{
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct deliver_request *got;
	struct err err;

	(void)state;
	request_fill(&req, rcpts, NULL);
	req.flags = DELIVER_FLAG_RECORD | DELIVER_FLAG_VERIFY;
	req.smtputf8 = 3;
	req.dsn_envid = "envid+2B1";
	req.dsn_ret = REC_DSN_RET_HDRS;
	req.client_name = "mail.example.com";
	req.client_addr = "192.0.2.1";
	req.client_proto = "ESMTP";
	req.client_helo = "helo.example.com";
	req.sasl_username = "joe";
	rcpts[1].dsn_orcpt = "rfc822;b@example.org";
	rcpts[1].dsn_notify = REC_DSN_NOTIFY_SUCCESS | REC_DSN_NOTIFY_FAILURE;
	got = round_trip(&req, &err);
	if (got == NULL)
		fail_msg("decode: %s", err.text);
	assert_int_equal(got->flags, 3);
	assert_string_equal(got->queue_name, "active");
	assert_string_equal(got->queue_id, "B12341267");
	assert_int_equal(got->data_offset, 300);
	assert_int_equal(got->data_size, 5100);
	assert_string_equal(got->nexthop, "example.com");
	assert_string_equal(got->encoding, "8bitmime");
	assert_int_equal(got->smtputf8, 3);
	assert_string_equal(got->sender, "sender@example.com");
	assert_string_equal(got->dsn_envid, "envid+2B1");
	assert_int_equal(got->dsn_ret, REC_DSN_RET_HDRS);
	assert_int_equal(got->arrival.tv_sec, 1700000000);
	assert_int_equal(got->arrival.tv_nsec, 250000000);
	assert_int_equal(got->active.tv_sec, 1700000001);
	assert_int_equal(got->active.tv_nsec, 500000000);
	assert_string_equal(got->client_name, "mail.example.com");
	assert_string_equal(got->client_addr, "192.0.2.1");
	assert_string_equal(got->client_proto, "ESMTP");
	assert_string_equal(got->client_helo, "helo.example.com");
	assert_string_equal(got->sasl_username, "joe");
	assert_string_equal(got->rewrite_context, "remote");
	assert_int_equal(got->rcpt_count, RCPT_COUNT);
	for (int i = 0; i < RCPT_COUNT; i++) {
		assert_int_equal(got->rcpts[i].offset, rcpts[i].offset);
		assert_string_equal(got->rcpts[i].address, rcpts[i].address);
		assert_string_equal(got->rcpts[i].orig_rcpt,
				    rcpts[i].orig_rcpt);
		assert_string_equal(got->rcpts[i].dsn_orcpt,
				    rcpts[i].dsn_orcpt);
		assert_int_equal(got->rcpts[i].dsn_notify, rcpts[i].dsn_notify);
		assert_int_equal(got->results[i], 0);
	}
	assert_int_equal(got->queue_fd, -1);
	deliver_request_free(&got);
	assert_null(got);
	deliver_request_free(&got);
}

/* NULL strings go out as "" and come back as "". */
static void
test_encode_null_strings(void **state)
{
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct deliver_request *got;
	struct err err;

	(void)state;
	request_fill(&req, rcpts, NULL);
	req.nexthop = req.encoding = req.sender = req.rewrite_context = NULL;
	got = round_trip(&req, &err);
	assert_non_null(got);
	assert_string_equal(got->nexthop, "");
	assert_string_equal(got->sender, "");
	assert_string_equal(got->dsn_envid, "");
	assert_string_equal(got->sasl_username, "");
	deliver_request_free(&got);
}

static void
test_encode_too_large(void **state)
{
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct strbuf msg;
	struct err err;

	(void)state;
	request_fill(&req, rcpts, NULL);
	strbuf_init(&msg, 200);
	assert_int_equal(deliver_request_encode(&req, &msg, &err), -1);
	assert_non_null(strstr(err.text, "message too large"));
	strbuf_deinit(&msg);
}

/* ------------------------------------------------------------------ */
/* Decoding errors: a request built attribute by attribute, one edited */

enum edit_op { KEEP, DROP, SET_INT, SET_STR, SET_BYTES, SET_LIST };

struct field {
	const char *name;
	char type;
	long long num;
	const char *str;
};

static const struct field header_fields[] = {
	{ "flags", 'i', 0, NULL },
	{ "data_offset", 'i', 300, NULL },
	{ "data_size", 'i', 1000, NULL },
	{ "smtputf8", 'i', 0, NULL },
	{ "dsn_ret", 'i', 0, NULL },
	{ "arrival_sec", 'i', 1700000000, NULL },
	{ "arrival_usec", 'i', 0, NULL },
	{ "active_sec", 'i', 1700000001, NULL },
	{ "active_usec", 'i', 0, NULL },
	{ "queue_name", 's', 0, "active" },
	{ "queue_id", 's', 0, "B12341267" },
	{ "nexthop", 's', 0, "example.com" },
	{ "encoding", 's', 0, "" },
	{ "sender", 's', 0, "a@example.com" },
	{ "dsn_envid", 's', 0, "" },
	{ "client_name", 's', 0, "" },
	{ "client_addr", 's', 0, "" },
	{ "client_proto", 's', 0, "" },
	{ "client_helo", 's', 0, "" },
	{ "sasl_username", 's', 0, "" },
	{ "rewrite_context", 's', 0, "local" },
	{ NULL, 0, 0, NULL },
};

static const struct field rcpt_fields[] = {
	{ "offset", 'i', 100, NULL },   { "address", 's', 0, "b@example.com" },
	{ "orig_rcpt", 's', 0, "" },    { "dsn_orcpt", 's', 0, "" },
	{ "dsn_notify", 'i', 0, NULL }, { NULL, 0, 0, NULL },
};

struct decode_case {
	const char *name; /* attribute edited; "rcpts" for the list */
	int rcpt;         /* 0: a header attribute; N: recipient N's */
	enum edit_op op;
	long long num;
	const char *str;
	const char *reason;
};

static void
put_field(struct strbuf *out, const struct field *f,
	  const struct decode_case *dc, bool is_edited)
{
	enum edit_op op = is_edited ? dc->op : KEEP;

	if (op == KEEP)
		op = f->type == 'i' ? SET_INT : SET_STR;
	if (op == SET_INT)
		attr_put_int(out, f->name, is_edited ? dc->num : f->num, NULL);
	else if (op == SET_STR)
		attr_put_str(out, f->name, is_edited ? dc->str : f->str, NULL);
	else if (op == SET_BYTES)
		attr_put_bytes(out, f->name, "x", 1, NULL);
	else if (op == SET_LIST) {
		attr_put_list(out, f->name, NULL);
		attr_put_end(out, NULL);
	}
}

static void
put_rcpts(struct strbuf *out, const struct decode_case *dc)
{
	int count = 2;

	if (strcmp(dc->name, "rcpts") == 0) {
		if (dc->op == DROP)
			return;
		if (dc->op == SET_INT) {
			attr_put_int(out, "rcpts", 1, NULL);
			return;
		}
		count = (int)dc->num;
	}
	attr_put_list(out, "rcpts", NULL);
	for (int i = 1; i <= count; i++) {
		if (strcmp(dc->name, "rcpt") == 0 && dc->rcpt == i) {
			attr_put_str(out, "rcpt", "not a list", NULL);
			continue;
		}
		attr_put_list(out, "rcpt", NULL);
		for (const struct field *f = rcpt_fields; f->name; f++)
			if (!(dc->rcpt == i && strcmp(dc->name, f->name) == 0 &&
			      dc->op == DROP))
				put_field(out, f, dc,
					  dc->rcpt == i &&
						  strcmp(dc->name, f->name) ==
							  0);
		attr_put_end(out, NULL);
	}
	attr_put_end(out, NULL);
}

static struct deliver_request *
decode_edited(const struct decode_case *dc, struct err *err)
{
	struct strbuf msg;
	struct attr_list *list = NULL;
	struct deliver_request *req;
	size_t consumed;

	strbuf_init(&msg, STRBUF_UNLIMITED);
	for (const struct field *f = header_fields; f->name; f++) {
		bool is_edited =
			dc->rcpt == 0 && strcmp(dc->name, f->name) == 0;

		if (!(is_edited && dc->op == DROP))
			put_field(&msg, f, dc, is_edited);
	}
	put_rcpts(&msg, dc);
	attr_put_end(&msg, NULL);
	assert_int_equal(attr_decode((const uint8_t *)msg.data, msg.len,
				     &attr_default_limits, &list, &consumed,
				     err),
			 1);
	req = deliver_request_decode(list, err);
	attr_list_destroy(&list);
	strbuf_deinit(&msg);
	return req;
}

static const struct decode_case decode_cases[] = {
	/* The unedited request is fine. */
	{ "", 0, KEEP, 0, NULL, NULL },
	{ "rcpts", 0, SET_LIST, 1, NULL, NULL },
	/* Header attributes. */
	{ "flags", 0, DROP, 0, NULL, "missing attribute flags" },
	{ "flags", 0, SET_STR, 0, "1", "attribute flags: wrong type" },
	{ "flags", 0, SET_INT, 8, NULL,
	  "attribute flags: value 8 out of range" },
	{ "flags", 0, SET_INT, -1, NULL,
	  "attribute flags: value -1 out of range" },
	{ "data_offset", 0, DROP, 0, NULL, "missing attribute data_offset" },
	{ "data_offset", 0, SET_INT, -1, NULL,
	  "attribute data_offset: value -1 out of range" },
	{ "data_size", 0, SET_BYTES, 0, NULL,
	  "attribute data_size: wrong type" },
	{ "data_size", 0, SET_INT, -5, NULL,
	  "attribute data_size: value -5 out of range" },
	{ "smtputf8", 0, SET_INT, 256, NULL,
	  "attribute smtputf8: value 256 out of range" },
	{ "dsn_ret", 0, SET_INT, 3, NULL,
	  "attribute dsn_ret: value 3 out of range" },
	{ "dsn_ret", 0, DROP, 0, NULL, "missing attribute dsn_ret" },
	{ "arrival_sec", 0, SET_INT, -1, NULL,
	  "attribute arrival_sec: value -1 out of range" },
	{ "arrival_sec", 0, SET_INT, 1LL << 41, NULL,
	  "attribute arrival_sec: value 2199023255552 out of range" },
	{ "arrival_usec", 0, SET_INT, 1000000, NULL,
	  "attribute arrival_usec: value 1000000 out of range" },
	{ "active_sec", 0, DROP, 0, NULL, "missing attribute active_sec" },
	{ "active_usec", 0, SET_INT, -1, NULL,
	  "attribute active_usec: value -1 out of range" },
	{ "queue_name", 0, DROP, 0, NULL, "missing attribute queue_name" },
	{ "queue_name", 0, SET_STR, 0, "deferred",
	  "bad queue name \"deferred\"" },
	{ "queue_name", 0, SET_STR, 0, "", "bad queue name \"\"" },
	{ "queue_id", 0, DROP, 0, NULL, "missing attribute queue_id" },
	{ "queue_id", 0, SET_INT, 5, NULL, "attribute queue_id: wrong type" },
	{ "queue_id", 0, SET_STR, 0, "../x", "bad queue ID \"../x\"" },
	{ "queue_id", 0, SET_STR, 0, "", "bad queue ID \"\"" },
	{ "nexthop", 0, DROP, 0, NULL, "missing attribute nexthop" },
	{ "encoding", 0, SET_LIST, 0, NULL, "attribute encoding: wrong type" },
	{ "sender", 0, DROP, 0, NULL, "missing attribute sender" },
	{ "dsn_envid", 0, DROP, 0, NULL, "missing attribute dsn_envid" },
	{ "client_name", 0, DROP, 0, NULL, "missing attribute client_name" },
	{ "client_addr", 0, DROP, 0, NULL, "missing attribute client_addr" },
	{ "client_proto", 0, DROP, 0, NULL, "missing attribute client_proto" },
	{ "client_helo", 0, DROP, 0, NULL, "missing attribute client_helo" },
	{ "sasl_username", 0, DROP, 0, NULL,
	  "missing attribute sasl_username" },
	{ "rewrite_context", 0, DROP, 0, NULL,
	  "missing attribute rewrite_context" },
	/* The recipient list. */
	{ "rcpts", 0, DROP, 0, NULL, "missing attribute rcpts" },
	{ "rcpts", 0, SET_INT, 0, NULL, "attribute rcpts: wrong type" },
	{ "rcpts", 0, SET_LIST, 0, NULL,
	  "request has 0 recipients (1..100000 allowed)" },
	{ "rcpt", 2, KEEP, 0, NULL, "recipient 2: not a list" },
	{ "offset", 1, DROP, 0, NULL, "recipient 1: missing attribute offset" },
	{ "offset", 2, SET_INT, -1, NULL,
	  "recipient 2: attribute offset: value -1 out of range" },
	{ "address", 2, DROP, 0, NULL,
	  "recipient 2: missing attribute address" },
	{ "address", 1, SET_STR, 0, "",
	  "recipient 1: empty recipient address" },
	{ "address", 1, SET_INT, 1, NULL,
	  "recipient 1: attribute address: wrong type" },
	{ "orig_rcpt", 1, DROP, 0, NULL,
	  "recipient 1: missing attribute orig_rcpt" },
	{ "orig_rcpt", 2, SET_BYTES, 0, NULL,
	  "recipient 2: attribute orig_rcpt: wrong type" },
	{ "dsn_orcpt", 1, DROP, 0, NULL,
	  "recipient 1: missing attribute dsn_orcpt" },
	{ "dsn_notify", 1, DROP, 0, NULL,
	  "recipient 1: missing attribute dsn_notify" },
	{ "dsn_notify", 1, SET_INT, 16, NULL,
	  "recipient 1: attribute dsn_notify: value 16 out of range" },
	{ "dsn_notify", 2, SET_STR, 0, "2",
	  "recipient 2: attribute dsn_notify: wrong type" },
};

static void
test_decode_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]);
	     i++) {
		const struct decode_case *dc = &decode_cases[i];
		struct deliver_request *req;
		struct err err;

		err_clear(&err);
		req = decode_edited(dc, &err);
		if (dc->reason == NULL) {
			if (req == NULL)
				fail_msg("case %zu: refused: %s", i, err.text);
			deliver_request_free(&req);
			continue;
		}
		if (req != NULL)
			fail_msg("case %zu (%s): accepted", i, dc->name);
		if (strcmp(err.text, dc->reason) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
				 err.text, dc->reason);
	}
}

/* ------------------------------------------------------------------ */
/* The agent side over a socketpair                                     */

/* Write req from qmgr's end, as deliver_request_send would. */
static void
qmgr_send(struct fixture *fx, const struct deliver_request *req)
{
	struct strbuf msg;
	struct err err;

	strbuf_init(&msg, DELIVER_REQUEST_MAX);
	assert_int_equal(deliver_request_encode(req, &msg, &err), 0);
	assert_int_equal(attr_write(fx->qmgr, &msg, &err), 0);
	strbuf_deinit(&msg);
}

/* Read and check the agent's greeting at qmgr's end. */
static void
qmgr_check_greeting(struct fixture *fx)
{
	struct attr_list *list = NULL;
	const char *protocol;
	long long version;
	struct err err;

	assert_int_equal(attr_read(fx->qmgr, ATTR_IO_MESSAGE_MAX, &list, &err),
			 1);
	assert_int_equal(attr_get_str(list, "protocol", &protocol, &err), 0);
	assert_string_equal(protocol, "delivery");
	assert_int_equal(attr_get_int(list, "version", &version, &err), 0);
	assert_int_equal(version, 1);
	attr_list_destroy(&list);
}

/* Send the fixture's request and read it at the agent's end. */
static struct deliver_request *
agent_read(struct fixture *fx, void (*edit)(struct deliver_request *))
{
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct deliver_request *got;
	struct err err;

	request_fill(&req, rcpts, fx);
	if (edit)
		edit(&req);
	qmgr_send(fx, &req);
	got = deliver_request_read(fx->agent, fx->ql, &err);
	if (got == NULL)
		fail_msg("read: %s", err.text);
	qmgr_check_greeting(fx);
	return got;
}

struct reply {
	long long status;
	char dsn[32];
	char reason[256];
	char results[64];
};

static void
qmgr_read_reply(struct fixture *fx, struct reply *r)
{
	struct attr_list *list = NULL;
	const char *text;
	const uint8_t *data;
	size_t len;
	struct err err;

	assert_int_equal(attr_read(fx->qmgr, ATTR_IO_MESSAGE_MAX, &list, &err),
			 1);
	assert_int_equal(attr_get_int(list, "status", &r->status, &err), 0);
	assert_int_equal(attr_get_str(list, "dsn", &text, &err), 0);
	snprintf(r->dsn, sizeof(r->dsn), "%s", text);
	assert_int_equal(attr_get_str(list, "reason", &text, &err), 0);
	snprintf(r->reason, sizeof(r->reason), "%s", text);
	assert_int_equal(attr_get_bytes(list, "results", &data, &len, &err), 0);
	assert_true(len < sizeof(r->results));
	memcpy(r->results, data, len);
	r->results[len] = 0;
	attr_list_destroy(&list);
}

static void
test_read_request(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct timespec now;

	assert_string_equal(req->queue_id, fx->id);
	assert_int_equal(req->rcpt_count, RCPT_COUNT);
	assert_true(req->queue_fd >= 0);
	assert_ptr_equal(req->ql, fx->ql);
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(req->received.tv_sec <= now.tv_sec &&
		    req->received.tv_sec >= now.tv_sec - 5);
	deliver_request_free(&req);
}

/* Collect the per-message log entries as one line each. */
static int
collect_entry(const struct msg_log_entry *e, void *ctx, struct err *err)
{
	(void)err;
	strbuf_printf(ctx, "%s|%s|%lld|%d|%s|%s|%s|%s|%s|%s\n", e->recipient,
		      e->orig_rcpt, (long long)e->offset, e->notify_flags,
		      e->status, e->action, e->reason, e->relay, e->dsn_mta,
		      e->diag_text);
	return 0;
}

static char *
log_entries(const struct fixture *fx, const char *log)
{
	struct strbuf sb;
	struct err err;
	char *text;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	if (msg_log_read(fx->ql, log, fx->id, collect_entry, &sb, &err) < 0)
		fail_msg("%s: %s", log, err.text);
	text = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return text;
}

static void
assert_log_entries(const struct fixture *fx, const char *log, const char *want)
{
	char *got = log_entries(fx, log);

	assert_string_equal(got, want);
	free(got);
}

/* True if text matches the extended regular expression re. */
static bool
matches(const char *text, const char *re)
{
	regex_t rx;
	bool is_match;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	is_match = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return is_match;
}

static void
assert_matches(const char *text, const char *re)
{
	if (!matches(text, re))
		fail_msg("\"%s\" does not match /%s/", text, re);
}

#define DELAYS "delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+"

static const struct deliver_status sent_status = {
	.relay = "local",
	.dsn = "2.0.0",
	.reason = "delivered to maildir",
};

static const struct deliver_status bounce_status = {
	.relay = "local",
	.dsn = "5.1.1",
	.reason = "unknown user: \"b\"",
};

static const struct deliver_status defer_status = {
	.relay = "mx.example.net[192.0.2.9]:25",
	.dsn = "4.4.1",
	.reason = "connect to mx.example.net[192.0.2.9]:25: Connection refused",
	.mta_name = "dns; mx.example.net",
	.diag_text = "smtp; 421 busy",
};

static void
test_outcomes(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct capture cap;
	struct reply reply;
	struct err err;
	char want[1024];
	char *text;

	capture_start(&cap);
	assert_int_equal(deliver_sent(req, 0, &sent_status, &err), 0);
	assert_int_equal(deliver_bounced(req, 1, &bounce_status, &err), 0);
	assert_int_equal(deliver_deferred(req, 2, &defer_status, &err), 0);
	text = capture_end(&cap);

	snprintf(want, sizeof(want),
		 "^postern: %s: to=<user@example\\.com>, "
		 "orig_to=<alias@example\\.com>, relay=local, " DELAYS
		 ", dsn=2\\.0\\.0, status=sent \\(delivered to maildir\\)\n"
		 "postern: %s: to=<b@example\\.org>, relay=local, " DELAYS
		 ", dsn=5\\.1\\.1, status=bounced \\(unknown user: \"b\"\\)\n"
		 "postern: %s: to=<c@example\\.net>, "
		 "relay=mx\\.example\\.net\\[192\\.0\\.2\\.9\\]:25, " DELAYS
		 ", dsn=4\\.4\\.1, status=deferred \\(connect to "
		 "mx\\.example\\.net\\[192\\.0\\.2\\.9\\]:25: Connection "
		 "refused\\)\n$",
		 fx->id, fx->id, fx->id);
	assert_matches(text, want);
	free(text);

	/* Done marks: sent and bounced, not deferred. */
	assert_int_equal(record_type_at(fx, fx->rcpt_offsets[0]), 'D');
	assert_int_equal(record_type_at(fx, fx->rcpt_offsets[1]), 'D');
	assert_int_equal(record_type_at(fx, fx->rcpt_offsets[2]), 'R');
	snprintf(want, sizeof(want),
		 "b@example.org||%lld|0|5.1.1|failed|unknown user: \"b\"|"
		 "local||\n",
		 (long long)fx->rcpt_offsets[1]);
	assert_log_entries(fx, MSG_LOG_BOUNCE, want);
	snprintf(want, sizeof(want),
		 "c@example.net||%lld|0|4.4.1|delayed|connect to "
		 "mx.example.net[192.0.2.9]:25: Connection refused|"
		 "mx.example.net[192.0.2.9]:25|dns; mx.example.net|"
		 "smtp; 421 busy\n",
		 (long long)fx->rcpt_offsets[2]);
	assert_log_entries(fx, MSG_LOG_DEFER, want);
	/* No NOTIFY=SUCCESS, no -v: no trace. */
	assert_false(msg_log_exists(fx->ql, MSG_LOG_TRACE, fx->id));

	assert_int_equal(deliver_request_reply(fx->agent, req, DELIVER_STAT_OK,
					       NULL, NULL, &err),
			 0);
	qmgr_read_reply(fx, &reply);
	assert_int_equal(reply.status, DELIVER_STAT_OK);
	assert_string_equal(reply.dsn, "2.0.0");
	assert_string_equal(reply.reason, "");
	assert_string_equal(reply.results, "SBD");
	deliver_request_free(&req);
}

/* A recipient finished by an earlier agent comes with its result set. */
static void
test_read_skips_finished(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct err err;

	assert_int_equal(deliver_sent(req, 1, &sent_status, &err), 0);
	deliver_request_free(&req);
	req = agent_read(fx, NULL);
	assert_int_equal(req->results[0], 0);
	assert_int_equal(req->results[1], DELIVER_RESULT_SENT);
	assert_int_equal(req->results[2], 0);
	deliver_request_free(&req);
}

static void
notify_success(struct deliver_request *req)
{
	req->rcpts[0].dsn_notify = REC_DSN_NOTIFY_SUCCESS;
	req->rcpts[0].dsn_orcpt = "rfc822;alias@example.com";
}

/* NOTIFY=SUCCESS: a trace entry; the action can be given. */
static void
test_trace(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, notify_success);
	struct deliver_status relayed = sent_status;
	struct capture cap;
	struct err err;
	char want[512];

	relayed.action = "relayed";
	relayed.relay = "mx.example.com[192.0.2.1]:25";
	capture_start(&cap);
	assert_int_equal(deliver_sent(req, 0, &sent_status, &err), 0);
	assert_int_equal(deliver_sent(req, 1, &sent_status, &err), 0);
	free(capture_end(&cap));
	snprintf(want, sizeof(want),
		 "user@example.com|alias@example.com|%lld|2|2.0.0|delivered|"
		 "delivered to maildir|local||\n",
		 (long long)fx->rcpt_offsets[0]);
	assert_log_entries(fx, MSG_LOG_TRACE, want);
	assert_int_equal(msg_log_remove(fx->ql, MSG_LOG_TRACE, fx->id, &err),
			 0);
	/* Marking done again is harmless; the trace entry gets the action. */
	capture_start(&cap);
	assert_int_equal(deliver_sent(req, 0, &relayed, &err), 0);
	free(capture_end(&cap));
	snprintf(want, sizeof(want),
		 "user@example.com|alias@example.com|%lld|2|2.0.0|relayed|"
		 "delivered to maildir|mx.example.com[192.0.2.1]:25||\n",
		 (long long)fx->rcpt_offsets[0]);
	assert_log_entries(fx, MSG_LOG_TRACE, want);
	deliver_request_free(&req);
}

static void
flag_record(struct deliver_request *req)
{
	req->flags = DELIVER_FLAG_RECORD;
}

/* sendmail -v: every outcome is traced, whatever NOTIFY says. */
static void
test_trace_record_flag(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, flag_record);
	struct capture cap;
	struct err err;
	char *text;

	capture_start(&cap);
	assert_int_equal(deliver_sent(req, 1, &sent_status, &err), 0);
	free(capture_end(&cap));
	text = log_entries(fx, MSG_LOG_TRACE);
	assert_non_null(strstr(text, "b@example.org||"));
	free(text);
	deliver_request_free(&req);
}

/* deliver_all fills in only the recipients without an outcome. */
static void
test_deliver_all(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct capture cap;
	struct reply reply;
	struct err err;
	char *text;

	capture_start(&cap);
	assert_int_equal(deliver_sent(req, 1, &sent_status, &err), 0);
	deliver_all(req, DELIVER_RESULT_DEFERRED, &defer_status);
	text = capture_end(&cap);
	assert_matches(text,
		       "^postern: [^\n]*status=sent[^\n]*\n"
		       "postern: [^\n]*to=<user@[^\n]*status=deferred[^\n]*\n"
		       "postern: [^\n]*to=<c@[^\n]*status=deferred[^\n]*\n$");
	free(text);
	assert_int_equal(deliver_request_reply(fx->agent, req,
					       DELIVER_STAT_DEFER, "4.4.1",
					       "connection refused", &err),
			 0);
	qmgr_read_reply(fx, &reply);
	assert_int_equal(reply.status, DELIVER_STAT_DEFER);
	assert_string_equal(reply.dsn, "4.4.1");
	assert_string_equal(reply.reason, "connection refused");
	assert_string_equal(reply.results, "DSD");
	deliver_request_free(&req);
}

static void
test_deliver_all_kinds(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct capture cap;

	capture_start(&cap);
	deliver_all(req, DELIVER_RESULT_BOUNCED, &bounce_status);
	deliver_all(req, DELIVER_RESULT_SENT, &sent_status); /* none left */
	free(capture_end(&cap));
	assert_string_equal(req->results, "BBB");
	for (int i = 0; i < RCPT_COUNT; i++)
		assert_int_equal(record_type_at(fx, fx->rcpt_offsets[i]), 'D');
	deliver_request_free(&req);

	/* A second request for the same file: all are done already. */
	req = agent_read(fx, NULL);
	capture_start(&cap);
	deliver_all(req, DELIVER_RESULT_SENT, &sent_status);
	free(capture_end(&cap));
	assert_string_equal(req->results, "SSS");
	deliver_request_free(&req);
}

/* Recipients without an outcome are reported deferred. */
static void
test_reply_unset(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct capture cap;
	struct reply reply;
	struct err err;

	capture_start(&cap);
	assert_int_equal(deliver_bounced(req, 2, &bounce_status, &err), 0);
	free(capture_end(&cap));
	assert_int_equal(deliver_request_reply(fx->agent, req, DELIVER_STAT_OK,
					       NULL, NULL, &err),
			 0);
	qmgr_read_reply(fx, &reply);
	assert_string_equal(reply.results, "DDB");
	/* Nothing was logged for them in the defer log. */
	assert_false(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	deliver_request_free(&req);
}

static void
bad_offset(struct deliver_request *req)
{
	/* Point recipient 1 at a content record instead of its R record. */
	req->rcpts[0].offset = req->data_offset;
}

/* A done mark that fails turns the outcome into a deferral. */
static void
test_mark_done_fails(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, bad_offset);
	struct capture cap;
	struct err err;
	char want[1024];
	char *text;

	capture_start(&cap);
	assert_int_equal(deliver_sent(req, 0, &sent_status, &err), -1);
	text = capture_end(&cap);
	snprintf(want, sizeof(want),
		 "%s: offset %lld: not a recipient record (type 'N')", fx->id,
		 (long long)fx->data_offset);
	assert_string_equal(err.text, want);
	snprintf(want, sizeof(want),
		 "^postern: warning: %s: %s: offset %lld: not a recipient "
		 "record \\(type 'N'\\)\n"
		 "postern: %s: to=<user@example\\.com>, "
		 "orig_to=<alias@example\\.com>, relay=local, " DELAYS
		 ", dsn=4\\.3\\.0, status=deferred \\(mail system error: "
		 "cannot update the queue file\\)\n$",
		 fx->id, fx->id, (long long)fx->data_offset, fx->id);
	assert_matches(text, want);
	free(text);
	assert_int_equal(req->results[0], DELIVER_RESULT_DEFERRED);
	snprintf(want, sizeof(want),
		 "user@example.com|alias@example.com|%lld|0|4.3.0|delayed|"
		 "mail system error: cannot update the queue file|local||\n",
		 (long long)fx->data_offset);
	assert_log_entries(fx, MSG_LOG_DEFER, want);

	/* The same for a bounce; the bounce log entry stays. */
	capture_start(&cap);
	assert_int_equal(deliver_bounced(req, 0, &bounce_status, &err), -1);
	free(capture_end(&cap));
	assert_int_equal(req->results[0], DELIVER_RESULT_DEFERRED);
	assert_true(msg_log_exists(fx->ql, MSG_LOG_BOUNCE, fx->id));
	deliver_request_free(&req);
}

/* No bounce log entry, no done mark: the recipient is deferred. */
static void
test_bounce_log_fails(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct capture cap;
	struct err err;
	char path[256], want[512];
	char *text;
	int fd;

	snprintf(path, sizeof(path), "%s/bounce", fx->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600); /* a file, not a dir */
	assert_true(fd >= 0);
	close(fd);
	capture_start(&cap);
	assert_int_equal(deliver_bounced(req, 1, &bounce_status, &err), -1);
	text = capture_end(&cap);
	snprintf(want, sizeof(want), "append to %s/%s: %s", path, fx->id,
		 strerror(ENOTDIR));
	assert_string_equal(err.text, want);
	assert_non_null(strstr(text, "status=deferred (mail system error"));
	free(text);
	assert_int_equal(record_type_at(fx, fx->rcpt_offsets[1]), 'R');
	assert_int_equal(req->results[1], DELIVER_RESULT_DEFERRED);
	assert_true(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	deliver_request_free(&req);
}

/* The log line: quoting, no orig_to when the same, relay=none. */
static void
test_log_line_forms(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct deliver_status st = sent_status;
	struct capture cap;
	char want[1024];
	char *text;

	st.relay = NULL;
	free(req->rcpts[1].address);
	req->rcpts[1].address = xstrdup("first last@example.org");
	free(req->rcpts[1].orig_rcpt);
	req->rcpts[1].orig_rcpt = xstrdup("First Last@Example.ORG");
	free(req->rcpts[2].orig_rcpt);
	req->rcpts[2].orig_rcpt = xstrdup("");
	capture_start(&cap);
	(void)deliver_deferred(req, 1, &st, NULL);
	(void)deliver_deferred(req, 2, &st, NULL);
	text = capture_end(&cap);
	snprintf(want, sizeof(want),
		 "^postern: %s: to=<\"first last\"@example\\.org>, "
		 "relay=none, " DELAYS ", dsn=2\\.0\\.0, status=deferred "
		 "\\(delivered to maildir\\)\n"
		 "postern: %s: to=<c@example\\.net>, relay=none, " DELAYS
		 ", dsn=2\\.0\\.0, status=deferred \\(delivered to "
		 "maildir\\)\n$",
		 fx->id, fx->id);
	assert_matches(text, want);
	free(text);
	deliver_request_free(&req);
}

/* The delays, with the request's times set relative to now. */
struct delay_case {
	double arrival_to_active;  /* a */
	double active_to_received; /* b */
	double conn_setup;         /* c */
	double received_ago;       /* c + d */
	const char *want;
};

static const struct delay_case delay_cases[] = {
	{ 0.08, 1.2, 0, 0, "delay=1.3, delays=0.08/1.2/0/0" },
	{ 12.3, 0, 0.5, 3.0, "delay=15, delays=12/0/0.5/2.5" },
	{ 0.004, 0.996, 0, 0.06, "delay=1.1, delays=0/1/0/0.06" },
	{ 9.96, 0.31, 0.019, 0.2, "delay=10, delays=10/0.31/0.02/0.18" },
	{ 100.4, 20, 0, 5.53, "delay=126, delays=100/20/0/5.5" },
	{ 0.5, 0, 2.0, 1.0, "delay=1.5, delays=0.5/0/2/0" },
};

static struct timespec
ago(const struct timespec *now, double seconds)
{
	long long ns = (long long)now->tv_sec * 1000000000LL + now->tv_nsec -
		       (long long)(seconds * 1e9 + 0.5);
	struct timespec ts = { .tv_sec = ns / 1000000000LL,
			       .tv_nsec = ns % 1000000000LL };

	return ts;
}

static void
test_delays(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);

	for (size_t i = 0; i < sizeof(delay_cases) / sizeof(delay_cases[0]);
	     i++) {
		const struct delay_case *dc = &delay_cases[i];
		struct deliver_status st = defer_status;
		struct timespec now;
		struct capture cap;
		char *text;

		st.conn_setup = dc->conn_setup;
		clock_gettime(CLOCK_REALTIME, &now);
		req->received = ago(&now, dc->received_ago);
		req->active =
			ago(&now, dc->received_ago + dc->active_to_received);
		req->arrival =
			ago(&now, dc->received_ago + dc->active_to_received +
					  dc->arrival_to_active);
		capture_start(&cap);
		(void)deliver_deferred(req, 0, &st, NULL);
		text = capture_end(&cap);
		if (strstr(text, dc->want) == NULL)
			fail_msg("case %zu: want \"%s\" in %s", i, dc->want,
				 text);
		free(text);
	}
	deliver_request_free(&req);
}

/* ------------------------------------------------------------------ */
/* Agent side: errors while reading                                     */

static void
test_read_closed(void **state)
{
	struct fixture *fx = *state;
	struct err err;

	shutdown(fx->sock[1], SHUT_WR);
	assert_null(deliver_request_read(fx->agent, fx->ql, &err));
	assert_string_equal(err.text, "delivery request: connection closed "
				      "before the request");
}

static void
test_read_garbage(void **state)
{
	struct fixture *fx = *state;
	struct err err;

	assert_int_equal(write(fx->sock[1], "Z", 1), 1);
	assert_null(deliver_request_read(fx->agent, fx->ql, &err));
	assert_string_equal(err.text,
			    "delivery request: unknown attribute type 0x5a");
}

static void
test_read_truncated(void **state)
{
	struct fixture *fx = *state;
	struct err err;

	assert_int_equal(write(fx->sock[1], "i\005flags", 7), 7);
	shutdown(fx->sock[1], SHUT_WR);
	assert_null(deliver_request_read(fx->agent, fx->ql, &err));
	assert_string_equal(err.text, "delivery request: unexpected end of "
				      "file in attribute message");
}

static void
test_read_bad_request(void **state)
{
	struct fixture *fx = *state;
	struct strbuf msg;
	struct err err;

	strbuf_init(&msg, 4096);
	attr_put_int(&msg, "flags", 0, NULL);
	attr_put_end(&msg, NULL);
	assert_int_equal(attr_write(fx->qmgr, &msg, &err), 0);
	strbuf_deinit(&msg);
	assert_null(deliver_request_read(fx->agent, fx->ql, &err));
	assert_string_equal(
		err.text,
		"delivery request: missing attribute rewrite_context");
}

static void
other_id(struct deliver_request *req)
{
	req->queue_id = "B12341267";
}

static void
test_read_no_queue_file(void **state)
{
	struct fixture *fx = *state;
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct err err;
	char want[512];

	request_fill(&req, rcpts, fx);
	other_id(&req);
	qmgr_send(fx, &req);
	assert_null(deliver_request_read(fx->agent, fx->ql, &err));
	snprintf(want, sizeof(want), "open %s/active/B12341267: %s", fx->dir,
		 strerror(ENOENT));
	assert_string_equal(err.text, want);
}

static void
test_read_greeting_fails(void **state)
{
	struct fixture *fx = *state;
	struct err err;
	char want[256];

	close(fx->sock[1]);
	fx->sock[1] = -1;
	(void)stream_detach(&fx->qmgr);
	assert_null(deliver_request_read(fx->agent, fx->ql, &err));
	snprintf(want, sizeof(want), "write: %s", strerror(EPIPE));
	assert_string_equal(err.text, want);
}

static void
test_reply_write_fails(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct err err;
	char want[256];

	shutdown(fx->sock[1], SHUT_RD);
	assert_int_equal(deliver_request_reply(fx->agent, req, DELIVER_STAT_OK,
					       NULL, NULL, &err),
			 -1);
	snprintf(want, sizeof(want), "write: %s", strerror(EPIPE));
	assert_string_equal(err.text, want);
	deliver_request_free(&req);
}

/* ------------------------------------------------------------------ */
/* Content                                                              */

struct pieces {
	struct strbuf out;
	int calls;
	int fail_at;
};

static int
collect_piece(const char *data, size_t len, bool is_line_end, void *ctx,
	      struct err *err)
{
	struct pieces *p = ctx;

	if (++p->calls == p->fail_at) {
		err_set(err, "no room");
		return -1;
	}
	if (len > 16)
		strbuf_printf(&p->out, "[%c*%zu]", data[0], len);
	else
		strbuf_printf(&p->out, "[%.*s]", (int)len, data);
	if (is_line_end)
		strbuf_append_char(&p->out, '\n');
	return 0;
}

static void
test_content(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct pieces p = { .fail_at = 0 };
	struct err err;

	strbuf_init(&p.out, STRBUF_UNLIMITED);
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), 0);
	assert_string_equal(strbuf_text(&p.out), "[Subject: hi]\n"
						 "[]\n"
						 "[x*2048][x*2048][x*904]\n"
						 "[bye\r]\n");
	/* Twice: the reader does not depend on the file position. */
	strbuf_reset(&p.out);
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), 0);
	assert_int_equal(strbuf_len(&p.out), strlen("[Subject: hi]\n[]\n"
						    "[x*2048][x*2048][x*904]\n"
						    "[bye\r]\n"));
	/* The callback's error stops the copy. */
	strbuf_reset(&p.out);
	p.calls = 0;
	p.fail_at = 4;
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), -1);
	assert_string_equal(err.text, "no room");
	assert_string_equal(strbuf_text(&p.out), "[Subject: hi]\n[]\n[x*2048]");
	strbuf_deinit(&p.out);
	deliver_request_free(&req);
}

static void
test_content_errors(void **state)
{
	struct fixture *fx = *state;
	struct deliver_request *req = agent_read(fx, NULL);
	struct pieces p = { .fail_at = 0 };
	struct err err;
	char want[512];

	strbuf_init(&p.out, STRBUF_UNLIMITED);
	/* A data offset in the envelope. */
	req->data_offset = fx->rcpt_offsets[1];
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), -1);
	snprintf(want, sizeof(want),
		 "%s: offset %lld: unexpected record type 'R' in the content",
		 fx->id, (long long)fx->rcpt_offsets[1]);
	assert_string_equal(err.text, want);

	/* A file cut short right after a content record. */
	req->data_offset = fx->data_offset;
	assert_int_equal(truncate(fx->path, fx->xtra_offset), 0);
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), -1);
	snprintf(want, sizeof(want),
		 "%s: unexpected end of file in the content", fx->id);
	assert_string_equal(err.text, want);

	/* ...and inside one. */
	assert_int_equal(truncate(fx->path, fx->xtra_offset - 2), 0);
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), -1);
	snprintf(want, sizeof(want),
		 "%s: offset %lld: truncated record 'N': 4 data bytes "
		 "expected, 2 present",
		 fx->id, (long long)fx->xtra_offset - 6);
	assert_string_equal(err.text, want);

	/* A data offset past the end. */
	req->data_offset = -1;
	assert_int_equal(deliver_content(req, collect_piece, &p, &err), -1);
	snprintf(want, sizeof(want), "%s: read content: %s", fx->id,
		 strerror(EINVAL));
	assert_string_equal(err.text, want);
	strbuf_deinit(&p.out);
	deliver_request_free(&req);
}

/* ------------------------------------------------------------------ */
/* Client side: deliver_request_send against a forked agent             */

struct agent {
	char path[256];
	pid_t pid;
};

enum agent_kind {
	AGENT_REAL,        /* deliver_request_read, sent to all, reply */
	AGENT_HANGUP,      /* greet, read the request, close */
	AGENT_WRONG_PROTO, /* greet as "bounce" */
	AGENT_SILENT,      /* close without a greeting */
	AGENT_ODD_REPLY,   /* reply status=7, short and odd results */
};

static void
agent_serve(struct fixture *fx, int lfd, enum agent_kind kind)
{
	struct stream *s;
	struct deliver_request *req;
	struct attr_list *list = NULL;
	struct strbuf msg;
	struct err err;
	int fd;

	sock_set_nonblock(lfd, false);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	s = stream_open(fd, 0);
	switch (kind) {
	case AGENT_REAL:
		req = deliver_request_read(s, fx->ql, &err);
		if (req == NULL)
			_exit(3);
		deliver_all(req, DELIVER_RESULT_SENT, &sent_status);
		if (deliver_request_reply(s, req, DELIVER_STAT_OK, NULL, NULL,
					  &err) < 0)
			_exit(4);
		break;
	case AGENT_HANGUP:
		(void)svc_greet(s, DELIVER_PROTOCOL, DELIVER_VERSION, &err);
		(void)attr_read(s, DELIVER_REQUEST_MAX, &list, &err);
		break;
	case AGENT_WRONG_PROTO:
		(void)svc_greet(s, "bounce", 1, &err);
		break;
	case AGENT_SILENT:
		break;
	case AGENT_ODD_REPLY:
		(void)svc_greet(s, DELIVER_PROTOCOL, DELIVER_VERSION, &err);
		(void)attr_read(s, DELIVER_REQUEST_MAX, &list, &err);
		strbuf_init(&msg, 4096);
		attr_put_int(&msg, "status", 7, NULL);
		attr_put_str(&msg, "dsn", "4.4.2", NULL);
		attr_put_str(&msg, "reason", "lost connection with mx", NULL);
		attr_put_bytes(&msg, "results", "SX", 2, NULL);
		attr_put_end(&msg, NULL);
		(void)attr_write(s, &msg, &err);
		break;
	}
	(void)stream_close(&s);
	_exit(0);
}

static void
agent_start(struct fixture *fx, struct agent *ag, enum agent_kind kind)
{
	struct err err;
	int lfd;

	snprintf(ag->path, sizeof(ag->path), "%s/agent.sock", fx->dir);
	lfd = sock_listen_unix(ag->path, 5, 0600, &err);
	if (lfd < 0)
		fail_msg("listen: %s", err.text);
	ag->pid = fork();
	assert_true(ag->pid >= 0);
	if (ag->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		agent_serve(fx, lfd, kind);
	}
	close(lfd);
}

static int
agent_wait(struct agent *ag)
{
	int status;

	assert_int_equal(waitpid(ag->pid, &status, 0), ag->pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_send(void **state)
{
	struct fixture *fx = *state;
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct deliver_reply reply;
	struct agent ag;
	struct err err;

	agent_start(fx, &ag, AGENT_REAL);
	request_fill(&req, rcpts, fx);
	if (deliver_request_send(ag.path, &req, 5000, &reply, &err) < 0)
		fail_msg("send: %s", err.text);
	assert_int_equal(agent_wait(&ag), 0);
	assert_int_equal(reply.status, DELIVER_STAT_OK);
	assert_string_equal(reply.dsn, "2.0.0");
	assert_string_equal(reply.reason, "");
	assert_string_equal(reply.results, "SSS");
	for (int i = 0; i < RCPT_COUNT; i++)
		assert_int_equal(record_type_at(fx, fx->rcpt_offsets[i]), 'D');
	deliver_reply_free(&reply);
	assert_null(reply.results);
}

static void
test_send_odd_reply(void **state)
{
	struct fixture *fx = *state;
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct deliver_reply reply;
	struct agent ag;
	struct err err;

	agent_start(fx, &ag, AGENT_ODD_REPLY);
	request_fill(&req, rcpts, fx);
	if (deliver_request_send(ag.path, &req, 5000, &reply, &err) < 0)
		fail_msg("send: %s", err.text);
	assert_int_equal(agent_wait(&ag), 0);
	assert_int_equal(reply.status, DELIVER_STAT_DEFER);
	assert_string_equal(reply.dsn, "4.4.2");
	assert_string_equal(reply.reason, "lost connection with mx");
	/* Unknown and missing results count as deferred. */
	assert_string_equal(reply.results, "SDD");
	deliver_reply_free(&reply);
}

struct send_error_case {
	enum agent_kind kind;
	const char *reason; /* after "PATH: " */
};

static const struct send_error_case send_error_cases[] = {
	{ AGENT_HANGUP, "lost connection" },
	{ AGENT_WRONG_PROTO, "unexpected protocol \"bounce\" version 1" },
	{ AGENT_SILENT, "greeting: connection closed" },
};

static void
test_send_errors(void **state)
{
	struct fixture *fx = *state;
	struct deliver_rcpt rcpts[RCPT_COUNT];
	struct deliver_request req;
	struct deliver_reply reply;
	struct agent ag;
	struct err err;
	char want[512];

	request_fill(&req, rcpts, fx);
	for (size_t i = 0;
	     i < sizeof(send_error_cases) / sizeof(send_error_cases[0]); i++) {
		agent_start(fx, &ag, send_error_cases[i].kind);
		assert_int_equal(
			deliver_request_send(ag.path, &req, 5000, &reply, &err),
			-1);
		agent_wait(&ag);
		snprintf(want, sizeof(want), "%s: %s", ag.path,
			 send_error_cases[i].reason);
		assert_string_equal(err.text, want);
		assert_null(reply.results);
		unlink(ag.path);
	}
	/* Nobody listening. */
	snprintf(want, sizeof(want), "connect to %s/nowhere: %s", fx->dir,
		 strerror(ENOENT));
	snprintf(ag.path, sizeof(ag.path), "%s/nowhere", fx->dir);
	assert_int_equal(
		deliver_request_send(ag.path, &req, 5000, &reply, &err), -1);
	assert_string_equal(err.text, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_encode_null_strings),
		cmocka_unit_test(test_encode_too_large),
		cmocka_unit_test(test_decode_errors),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_read_request),
		T(test_outcomes),
		T(test_read_skips_finished),
		T(test_trace),
		T(test_trace_record_flag),
		T(test_deliver_all),
		T(test_deliver_all_kinds),
		T(test_reply_unset),
		T(test_mark_done_fails),
		T(test_bounce_log_fails),
		T(test_log_line_forms),
		T(test_delays),
		T(test_read_closed),
		T(test_read_garbage),
		T(test_read_truncated),
		T(test_read_bad_request),
		T(test_read_no_queue_file),
		T(test_read_greeting_fails),
		T(test_reply_write_fails),
		T(test_content),
		T(test_content_errors),
		T(test_send),
		T(test_send_odd_reply),
		T(test_send_errors),
#undef T
	};

	/* A write to a closed socket must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
