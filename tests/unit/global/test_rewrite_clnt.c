/*
 * test_rewrite_clnt.c - unit tests for the trivial-rewrite protocol codec
 * and client stub: request decoding (every error message), round trips,
 * messages fed in pieces, and the stub against a forked fake server
 * (greeting checks, replies, reconnect after the server closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../attr_kv.h"

#include "util/attr_io.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/stream.h"

#include "global/rewrite_clnt.h"

static char long_addr[REWRITE_ADDR_MAX + 2];

static const struct decode_case {
	struct kv kvs[5];
	int op;           /* -1: expect an error */
	const char *rule; /* or the error text */
	const char *sender;
	const char *address;
} decode_cases[] = {
	{ { { "request", "rewrite", 0 },
	    { "rule", "local", 0 },
	    { "address", "u", 0 } },
	  REWRITE_OP_REWRITE,
	  "local",
	  NULL,
	  "u" },
	{ { { "request", "rewrite", 0 },
	    { "rule", "remote", 0 },
	    { "address", "", 0 },
	    { "extra", "ignored", 0 } },
	  REWRITE_OP_REWRITE,
	  "remote",
	  NULL,
	  "" },
	{ { { "request", "resolve", 0 },
	    { "sender", "s@x", 0 },
	    { "address", "u@x", 0 } },
	  REWRITE_OP_RESOLVE,
	  NULL,
	  "s@x",
	  "u@x" },
	{ { { "request", "resolve", 0 }, { "address", "u@x", 0 } },
	  REWRITE_OP_RESOLVE,
	  NULL,
	  "",
	  "u@x" },
	{ { { "address", "u", 0 } },
	  -1,
	  "missing attribute request",
	  NULL,
	  NULL },
	{ { { "request", NULL, 1 }, { "address", "u", 0 } },
	  -1,
	  "attribute request: wrong type",
	  NULL,
	  NULL },
	{ { { "request", "verify", 0 }, { "address", "u", 0 } },
	  -1,
	  "unknown request \"verify\"",
	  NULL,
	  NULL },
	{ { { "request", "rewrite", 0 }, { "address", "u", 0 } },
	  -1,
	  "missing attribute rule",
	  NULL,
	  NULL },
	{ { { "request", "rewrite", 0 },
	    { "rule", "canonical", 0 },
	    { "address", "u", 0 } },
	  -1,
	  "unknown rewrite rule \"canonical\"",
	  NULL,
	  NULL },
	{ { { "request", "resolve", 0 } },
	  -1,
	  "missing attribute address",
	  NULL,
	  NULL },
	{ { { "request", "resolve", 0 }, { "address", NULL, 5 } },
	  -1,
	  "attribute address: wrong type",
	  NULL,
	  NULL },
	{ { { "request", "resolve", 0 },
	    { "sender", NULL, 5 },
	    { "address", "u", 0 } },
	  -1,
	  "attribute sender: wrong type",
	  NULL,
	  NULL },
	{ { { "request", "resolve", 0 }, { "address", long_addr, 0 } },
	  -1,
	  "address longer than 4096 bytes",
	  NULL,
	  NULL },
	{ { { "request", "resolve", 0 },
	    { "sender", long_addr, 0 },
	    { "address", "u", 0 } },
	  -1,
	  "sender longer than 4096 bytes",
	  NULL,
	  NULL },
};

static void
test_request_decode(void **state)
{
	(void)state;
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]);
	     i++) {
		const struct decode_case *c = &decode_cases[i];
		struct rewrite_request req;
		struct strbuf msg;
		struct attr_list *list;
		struct err err;
		int ret;

		strbuf_init(&msg, STRBUF_UNLIMITED);
		kv_encode(&msg, c->kvs);
		list = kv_decode(&msg, &rewrite_limits);
		ret = rewrite_request_decode(list, &req, &err);
		if (c->op < 0) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, c->rule);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(req.op, c->op);
			assert_string_equal(req.address, c->address);
			if (c->rule != NULL)
				assert_string_equal(req.rule, c->rule);
			if (c->sender != NULL)
				assert_string_equal(req.sender, c->sender);
		}
		attr_list_destroy(&list);
		strbuf_deinit(&msg);
	}
}

/* Encoded requests decode back, also when they arrive in pieces. */
static void
test_request_roundtrip_in_pieces(void **state)
{
	static const struct rewrite_request reqs[] = {
		{ REWRITE_OP_REWRITE, "local", NULL, "a!b" },
		{ REWRITE_OP_RESOLVE, NULL, "s@x", "u@[127.0.0.1]" },
		{ REWRITE_OP_RESOLVE, NULL, NULL, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct strbuf msg;

		strbuf_init(&msg, STRBUF_UNLIMITED);
		assert_int_equal(rewrite_request_encode(&msg, &reqs[i], NULL),
				 0);
		for (size_t cut = 0; cut < msg.len; cut++) {
			struct attr_list *list = NULL;
			size_t consumed = 0;

			assert_int_equal(attr_decode((const uint8_t *)msg.data,
						     cut, &rewrite_limits,
						     &list, &consumed, NULL),
					 0);
		}
		{
			struct attr_list *list =
				kv_decode(&msg, &rewrite_limits);
			struct rewrite_request back;

			assert_int_equal(
				rewrite_request_decode(list, &back, NULL), 0);
			assert_int_equal(back.op, reqs[i].op);
			assert_string_equal(back.address, reqs[i].address);
			assert_string_equal(
				back.sender != NULL ? back.sender : "",
				reqs[i].sender != NULL ? reqs[i].sender : "");
			attr_list_destroy(&list);
		}
		strbuf_deinit(&msg);
	}
}

/* The fake server. */

struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

struct fake_script {
	const char *proto;
	int version;
	int connections; /* to accept */
	int per_conn;    /* requests answered per connection */
};

static void
fake_answer(struct stream *s, const struct attr_list *req)
{
	const char *request = "", *addr = "";
	struct strbuf out;

	(void)attr_get_str(req, REWRITE_ATTR_REQUEST, &request, NULL);
	(void)attr_get_str(req, REWRITE_ATTR_ADDRESS, &addr, NULL);
	strbuf_init(&out, STRBUF_UNLIMITED);
	if (strcmp(request, "rewrite") == 0) {
		char *up = xasprintf("%s@rewritten", addr);

		(void)rewrite_reply_encode_rewrite(&out, up, NULL);
		free(up);
	} else if (strcmp(addr, "badreply") == 0) {
		(void)attr_put_int(&out, REWRITE_ATTR_FLAGS, 0, NULL);
		(void)attr_put_end(&out, NULL);
	} else {
		struct resolve_reply reply = {
			.flags = 16,
			.transport = "smtp",
			.nexthop = (char *)addr,
			.recipient = (char *)addr,
		};

		(void)rewrite_reply_encode_resolve(&out, &reply, NULL);
	}
	(void)attr_write(s, &out, NULL);
	strbuf_deinit(&out);
}

static _Noreturn void
fake_serve(int lfd, const struct fake_script *sc)
{
	sock_set_nonblock(lfd, false);
	for (int c = 0; c < sc->connections; c++) {
		int fd = accept(lfd, NULL, NULL);
		struct stream *s;
		struct strbuf greet;

		if (fd < 0)
			_exit(2);
		s = stream_open(fd, 0);
		strbuf_init(&greet, STRBUF_UNLIMITED);
		(void)attr_put_str(&greet, "protocol", sc->proto, NULL);
		(void)attr_put_int(&greet, "version", sc->version, NULL);
		(void)attr_put_end(&greet, NULL);
		(void)attr_write(s, &greet, NULL);
		strbuf_deinit(&greet);
		for (int i = 0; i < sc->per_conn; i++) {
			struct attr_list *req = NULL;

			if (attr_read(s, REWRITE_MSG_MAX, &req, NULL) != 1)
				break;
			fake_answer(s, req);
			attr_list_destroy(&req);
		}
		stream_close(&s);
	}
	_exit(0);
}

static void
fake_start(struct fake *f, const struct fake_script *sc)
{
	int lfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_rewrite_clnt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/rewrite", f->dir);
	lfd = sock_listen_unix(f->path, 5, 0600, NULL);
	assert_true(lfd >= 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		fake_serve(lfd, sc);
	close(lfd);
}

static void
fake_stop(struct fake *f)
{
	int status = 0;

	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	rmdir(f->dir);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_client_requests(void **state)
{
	static const struct fake_script sc = { "trivial-rewrite", 1, 1, 3 };
	struct fake f;
	struct rewrite_clnt *rc;
	struct resolve_reply reply;
	struct err err;
	char *addr;

	(void)state;
	fake_start(&f, &sc);
	rc = rewrite_clnt_open(f.path, 5000, &err);
	if (rc == NULL)
		fail_msg("%s", err.text);
	addr = rewrite_clnt_rewrite(rc, "local", "u", &err);
	assert_string_equal(addr, "u@rewritten");
	free(addr);
	assert_int_equal(rewrite_clnt_resolve(rc, "s", "u@x", &reply, &err), 0);
	assert_int_equal(reply.flags, 16);
	assert_string_equal(reply.transport, "smtp");
	assert_string_equal(reply.nexthop, "u@x");
	assert_string_equal(reply.recipient, "u@x");
	resolve_reply_free(&reply);
	assert_int_equal(
		rewrite_clnt_resolve(rc, NULL, "badreply", &reply, &err), -1);
	assert_null(reply.transport);
	{
		char *want = xasprintf("%s: reply: missing attribute transport",
				       f.path);

		assert_string_equal(err.text, want);
		free(want);
	}
	rewrite_clnt_close(&rc);
	assert_null(rc);
	fake_stop(&f);
}

/* The server closes after each request: the stub opens a new one. */
static void
test_client_reconnects(void **state)
{
	static const struct fake_script sc = { "trivial-rewrite", 1, 3, 1 };
	struct fake f;
	struct rewrite_clnt *rc;
	struct err err;

	(void)state;
	fake_start(&f, &sc);
	rc = rewrite_clnt_open(f.path, 5000, &err);
	assert_non_null(rc);
	for (int i = 0; i < 3; i++) {
		char *addr = rewrite_clnt_rewrite(rc, "remote", "v", &err);

		if (addr == NULL)
			fail_msg("request %d: %s", i, err.text);
		assert_string_equal(addr, "v@rewritten");
		free(addr);
		/* Let the server close its end before the next request. */
		usleep(20000);
	}
	/* No fourth connection: the exchange fails with the path named. */
	assert_null(rewrite_clnt_rewrite(rc, "remote", "v", &err));
	assert_non_null(strstr(err.text, f.path));
	rewrite_clnt_close(&rc);
	fake_stop(&f);
}

static void
test_client_bad_greeting(void **state)
{
	static const struct fake_script cases[] = {
		{ "cleanup", 1, 1, 0 },
		{ "trivial-rewrite", 2, 1, 0 },
	};
	static const char *const expect[] = {
		"unexpected protocol \"cleanup\" version 1",
		"unexpected protocol \"trivial-rewrite\" version 2",
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct fake f;
		struct err err;
		char *want;

		fake_start(&f, &cases[i]);
		assert_null(rewrite_clnt_open(f.path, 5000, &err));
		want = xasprintf("%s: %s", f.path, expect[i]);
		assert_string_equal(err.text, want);
		free(want);
		fake_stop(&f);
	}
}

static void
test_client_connect_error(void **state)
{
	struct err err;

	(void)state;
	assert_null(
		rewrite_clnt_open("/nonexistent/private/rewrite", 1000, &err));
	assert_string_equal(err.text, "connect to /nonexistent/private/"
				      "rewrite: No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_decode),
		cmocka_unit_test(test_request_roundtrip_in_pieces),
		cmocka_unit_test(test_client_requests),
		cmocka_unit_test(test_client_reconnects),
		cmocka_unit_test(test_client_bad_greeting),
		cmocka_unit_test(test_client_connect_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
