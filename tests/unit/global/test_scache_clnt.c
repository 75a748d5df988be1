/*
 * test_scache_clnt.c - unit tests for the connection cache protocol codec
 * and client stub: request decoding (every error message), round trips,
 * messages fed in pieces, and the stub against a forked fake server that
 * follows a script per connection: descriptors both ways, one connection
 * for many requests, a reconnect after the server closed, a missing or
 * wrong server, bad replies and a stalled one, each failure turned into
 * "not found" / "not saved" with one warning in the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "../attr_kv.h"

#include "util/attr.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/unix_fd.h"

#include "global/scache_clnt.h"

/* ------------------------------------------------------------------ */
/* Codec.                                                               */

static char long_label[SCACHE_LABEL_MAX + 2];
static char long_prop[SCACHE_PROP_MAX - 1]; /* fits the codec's value limit */

static const struct decode_case {
	struct kv kvs[6];
	int op;	       /* -1: expect an error */
	const char *text; /* the label, or the error */
} decode_cases[] = {
	{ { { "request", "save_endp", 0 },
	    { "ttl", NULL, 2 },
	    { "label", "e", 0 },
	    { "prop", "", 0 } },
	  SCACHE_OP_SAVE_ENDP,
	  "e" },
	{ { { "request", "find_endp", 0 },
	    { "label", "e", 0 },
	    { "extra", "ignored", 0 } },
	  SCACHE_OP_FIND_ENDP,
	  "e" },
	{ { { "request", "save_dest", 0 },
	    { "ttl", NULL, SCACHE_TTL_MAX },
	    { "label", "d", 0 },
	    { "prop", "dp", 0 },
	    { "endp_label", "e", 0 } },
	  SCACHE_OP_SAVE_DEST,
	  "d" },
	{ { { "request", "find_dest", 0 }, { "label", "d", 0 } },
	  SCACHE_OP_FIND_DEST,
	  "d" },
	{ { { "label", "e", 0 } }, -1, "missing attribute request" },
	{ { { "request", NULL, 1 } }, -1, "attribute request: wrong type" },
	{ { { "request", "flush", 0 }, { "label", "e", 0 } },
	  -1,
	  "unknown request \"flush\"" },
	{ { { "request", "find_endp", 0 } }, -1, "missing attribute label" },
	{ { { "request", "find_endp", 0 }, { "label", "", 0 } },
	  -1,
	  "empty label" },
	{ { { "request", "find_dest", 0 }, { "label", long_label, 0 } },
	  -1,
	  "label longer than 1024 bytes" },
	{ { { "request", "save_endp", 0 },
	    { "label", "e", 0 },
	    { "prop", "", 0 } },
	  -1,
	  "missing attribute ttl" },
	{ { { "request", "save_endp", 0 },
	    { "ttl", "2", 0 },
	    { "label", "e", 0 },
	    { "prop", "", 0 } },
	  -1,
	  "attribute ttl: wrong type" },
	{ { { "request", "save_endp", 0 },
	    { "ttl", NULL, 0 },
	    { "label", "e", 0 },
	    { "prop", "", 0 } },
	  -1,
	  "ttl 0 out of range" },
	{ { { "request", "save_dest", 0 },
	    { "ttl", NULL, SCACHE_TTL_MAX + 1 },
	    { "label", "d", 0 },
	    { "prop", "", 0 },
	    { "endp_label", "e", 0 } },
	  -1,
	  "ttl 3601 out of range" },
	{ { { "request", "save_endp", 0 }, { "ttl", NULL, 1 }, { "label", "e", 0 } },
	  -1,
	  "missing attribute prop" },
	{ { { "request", "save_endp", 0 },
	    { "ttl", NULL, 1 },
	    { "label", "e", 0 },
	    { "prop", NULL, 3 } },
	  -1,
	  "attribute prop: wrong type" },
	{ { { "request", "save_dest", 0 },
	    { "ttl", NULL, 1 },
	    { "label", "d", 0 },
	    { "prop", "", 0 } },
	  -1,
	  "missing attribute endp_label" },
	{ { { "request", "save_dest", 0 },
	    { "ttl", NULL, 1 },
	    { "label", "d", 0 },
	    { "prop", "", 0 },
	    { "endp_label", "", 0 } },
	  -1,
	  "empty endp_label" },
	{ { { "request", "save_dest", 0 },
	    { "ttl", NULL, 1 },
	    { "label", "d", 0 },
	    { "prop", "", 0 },
	    { "endp_label", long_label, 0 } },
	  -1,
	  "endp_label longer than 1024 bytes" },
};

static void
test_request_decode(void **state)
{
	(void)state;
	memset(long_label, 'a', sizeof(long_label) - 1);
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]);
	     i++) {
		const struct decode_case *c = &decode_cases[i];
		struct scache_request req;
		struct strbuf msg;
		struct attr_list *list;
		struct err err;
		int ret;

		strbuf_init(&msg, STRBUF_UNLIMITED);
		kv_encode(&msg, c->kvs);
		list = kv_decode(&msg, &scache_limits);
		ret = scache_request_decode(list, &req, &err);
		if (c->op < 0) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, c->text);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(req.op, c->op);
			assert_string_equal(req.label, c->text);
		}
		attr_list_destroy(&list);
		strbuf_deinit(&msg);
	}
}

/* A value over the codec's limit is refused before the request decoder. */
static void
test_prop_over_codec_limit(void **state)
{
	static char huge[SCACHE_PROP_MAX + 2];
	struct strbuf msg;
	struct attr_list *list = NULL;
	size_t consumed;
	struct err err;

	(void)state;
	memset(huge, 'p', sizeof(huge) - 1);
	strbuf_init(&msg, STRBUF_UNLIMITED);
	kv_encode(&msg, (struct kv[]){ { "request", "save_endp", 0 },
				    { "ttl", NULL, 1 },
				    { "label", "e", 0 },
				    { "prop", huge, 0 },
				    { NULL, NULL, 0 } });
	assert_int_equal(attr_decode((const uint8_t *)msg.data, msg.len,
				     &scache_limits, &list, &consumed, &err),
			 -1);
	strbuf_deinit(&msg);
}

/* Encoded requests and replies decode back, also in pieces. */
static void
test_roundtrip_in_pieces(void **state)
{
	const struct scache_request reqs[] = {
		{ SCACHE_OP_SAVE_ENDP, 2, "smtp:h:[192.0.2.1]:25", "a=b c=d",
		  NULL },
		{ SCACHE_OP_FIND_ENDP, 0, "e", NULL, NULL },
		{ SCACHE_OP_SAVE_DEST, 7, "smtp:h:example.com", long_prop,
		  "smtp:h:[192.0.2.1]:25" },
		{ SCACHE_OP_FIND_DEST, 0, "d", NULL, NULL },
	};

	(void)state;
	memset(long_prop, 'x', sizeof(long_prop) - 1);
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct scache_request back;
		struct attr_list *list;
		struct strbuf msg;

		strbuf_init(&msg, SCACHE_MSG_MAX);
		assert_int_equal(scache_request_encode(&msg, &reqs[i], NULL),
				 0);
		for (size_t cut = 0; cut < msg.len; cut++) {
			struct attr_list *part = NULL;
			size_t consumed = 0;

			assert_int_equal(attr_decode((const uint8_t *)msg.data,
						     cut, &scache_limits, &part,
						     &consumed, NULL),
					 0);
		}
		list = kv_decode(&msg, &scache_limits);
		assert_int_equal(scache_request_decode(list, &back, NULL), 0);
		assert_int_equal(back.op, reqs[i].op);
		assert_string_equal(back.label, reqs[i].label);
		if (reqs[i].prop != NULL) {
			assert_int_equal(back.ttl, reqs[i].ttl);
			assert_string_equal(back.prop, reqs[i].prop);
		}
		if (reqs[i].endp_label != NULL)
			assert_string_equal(back.endp_label,
					    reqs[i].endp_label);
		attr_list_destroy(&list);
		strbuf_deinit(&msg);
	}
	{
		struct strbuf msg;
		struct attr_list *list;
		const char *v;
		long long status;

		strbuf_init(&msg, SCACHE_MSG_MAX);
		assert_int_equal(scache_reply_encode(&msg, 0, "dp", "ep", NULL),
				 0);
		list = kv_decode(&msg, &scache_limits);
		assert_int_equal(attr_get_int(list, "status", &status, NULL),
				 0);
		assert_int_equal(status, 0);
		assert_int_equal(attr_get_str(list, "prop", &v, NULL), 0);
		assert_string_equal(v, "dp");
		assert_int_equal(attr_get_str(list, "endp_prop", &v, NULL), 0);
		assert_string_equal(v, "ep");
		attr_list_destroy(&list);
		strbuf_reset(&msg);
		assert_int_equal(scache_reply_encode(&msg, 1, NULL, NULL, NULL),
				 0);
		list = kv_decode(&msg, &scache_limits);
		assert_null(attr_find(list, "prop"));
		attr_list_destroy(&list);
		strbuf_deinit(&msg);
	}
}

/* ------------------------------------------------------------------ */
/* The fake server.                                                     */

/* What the fake does with one request. */
enum fake_action {
	FAKE_END,     /* end of this connection's script: wait for EOF */
	FAKE_REPLY,   /* check the request, then reply */
	FAKE_CLOSE,   /* read the request, then close without a reply */
	FAKE_STALL,   /* read the request, never reply */
};

struct fake_step {
	enum fake_action action;
	const char *request; /* expected request name */
	bool expect_fd;	     /* a descriptor comes with it; reads "ping" */
	/* The reply: status (-1: leave it out), props (NULL: left out). */
	int status;
	const char *prop, *endp_prop;
	bool send_fd; /* send a pipe read end holding "pong" */
	bool extra;   /* bytes after the reply */
};

#define FAKE_MAX_CONN 3
#define FAKE_MAX_STEP 5

struct fake_script {
	const char *proto; /* greeting */
	int version;
	struct fake_step conns[FAKE_MAX_CONN][FAKE_MAX_STEP];
};

struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

static int
fake_conn_count(const struct fake_script *sc)
{
	int n = 0;

	while (n < FAKE_MAX_CONN && sc->conns[n][0].action != FAKE_END)
		n++;
	return n == 0 ? 1 : n;
}

/*
 * Read one request: the list and the descriptor that came with it. Bytes
 * past it (a request sent right behind it) stay in *in for the next call.
 */
static struct attr_list *
fake_read(int fd, struct strbuf *in, int *got_fd)
{
	struct attr_list *list = NULL;
	size_t used = 0;
	char buf[512];

	*got_fd = -1;
	while (in->len == 0 ||
	       attr_decode((const uint8_t *)in->data, in->len,
			   &attr_default_limits, &list, &used, NULL) != 1) {
		int one;
		ssize_t n = unix_fd_recv(fd, buf, sizeof(buf), &one);

		if (n <= 0)
			_exit(3);
		if (one >= 0)
			*got_fd = one;
		strbuf_append(in, buf, (size_t)n);
	}
	memmove(in->data, in->data + used, in->len - used);
	strbuf_truncate(in, in->len - used);
	return list;
}

static void
fake_check(const struct fake_step *st, const struct attr_list *req,
	   int got_fd)
{
	const char *name = "";
	char buf[8] = { 0 };

	(void)attr_get_str(req, "request", &name, NULL);
	if (strcmp(name, st->request) != 0)
		_exit(4);
	if (st->expect_fd != (got_fd >= 0))
		_exit(5);
	if (got_fd >= 0 && (read(got_fd, buf, 4) != 4 ||
			    strcmp(buf, "ping") != 0))
		_exit(6);
}

static void
fake_reply(int fd, const struct fake_step *st)
{
	struct strbuf out;
	int p[2] = { -1, -1 };

	strbuf_init(&out, STRBUF_UNLIMITED);
	if (st->status >= 0)
		(void)attr_put_int(&out, "status", st->status, NULL);
	if (st->prop != NULL)
		(void)attr_put_str(&out, "prop", st->prop, NULL);
	if (st->endp_prop != NULL)
		(void)attr_put_str(&out, "endp_prop", st->endp_prop, NULL);
	(void)attr_put_end(&out, NULL);
	if (st->extra)
		(void)strbuf_append_str(&out, "junk");
	if (st->send_fd && (pipe(p) < 0 || write(p[1], "pong", 4) != 4))
		_exit(7);
	if (unix_fd_send(fd, out.data, out.len, p[0], 5000) < 0)
		_exit(8);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	strbuf_deinit(&out);
}

static void
fake_conn(int fd, const struct fake_script *sc, int c)
{
	struct strbuf greet, in;
	char buf[64];

	strbuf_init(&greet, STRBUF_UNLIMITED);
	(void)attr_put_str(&greet, "protocol", sc->proto, NULL);
	(void)attr_put_int(&greet, "version", sc->version, NULL);
	(void)attr_put_end(&greet, NULL);
	if (unix_fd_send(fd, greet.data, greet.len, -1, 5000) < 0)
		_exit(9);
	strbuf_deinit(&greet);
	strbuf_init(&in, STRBUF_UNLIMITED);
	for (int i = 0; i < FAKE_MAX_STEP; i++) {
		const struct fake_step *st = &sc->conns[c][i];
		struct attr_list *req;
		int got_fd;

		if (st->action == FAKE_END)
			break;
		req = fake_read(fd, &in, &got_fd);
		fake_check(st, req, got_fd);
		attr_list_destroy(&req);
		if (got_fd >= 0)
			close(got_fd);
		if (st->action == FAKE_CLOSE)
			return;
		if (st->action == FAKE_STALL) {
			if (read(fd, buf, sizeof(buf)) < 0) /* until the client quits */
				_exit(10);
			return;
		}
		fake_reply(fd, st);
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static _Noreturn void
fake_serve(int lfd, const struct fake_script *sc)
{
	int count = fake_conn_count(sc);

	sock_set_nonblock(lfd, false);
	for (int c = 0; c < count; c++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(2);
		fake_conn(fd, sc, c);
		close(fd);
	}
	_exit(0);
}

static void
fake_start(struct fake *f, const struct fake_script *sc)
{
	int lfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_scache_clnt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/scache", f->dir);
	f->pid = -1;
	if (sc == NULL)
		return;
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

	if (f->pid > 0) {
		assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	unlink(f->path);
	rmdir(f->dir);
}

/* ------------------------------------------------------------------ */
/* The log.                                                             */

struct logcap {
	char path[64];
};

static int
log_setup(void **state)
{
	struct logcap *lc = xcalloc(1, sizeof(*lc));
	struct err err;
	int fd;

	snprintf(lc->path, sizeof(lc->path), "/tmp/test_scache_log.XXXXXX");
	fd = mkstemp(lc->path);
	assert_true(fd >= 0);
	close(fd);
	log_init("postfix/smtp");
	log_to_stderr(false);
	assert_int_equal(log_to_file(lc->path, &err), 0);
	*state = lc;
	return 0;
}

static int
log_teardown(void **state)
{
	struct logcap *lc = *state;

	unlink(lc->path);
	free(lc);
	return 0;
}

/* The warnings logged since the last call, one per line ("" if none). */
static char *
log_take(void **state)
{
	struct logcap *lc = *state;
	FILE *fp = fopen(lc->path, "r");
	struct strbuf out;
	char line[4096];

	assert_non_null(fp);
	strbuf_init(&out, STRBUF_UNLIMITED);
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *w = strstr(line, "warning: ");

		if (w != NULL)
			strbuf_append_str(&out, w + 9);
	}
	fclose(fp);
	assert_int_equal(truncate(lc->path, 0), 0);
	return out.data;
}

static void
expect_log(void **state, const char *want)
{
	char *got = log_take(state);

	assert_string_equal(got, want);
	free(got);
}

/* A pipe's read end with "ping" waiting in it, to hand to the cache. */
static int
ping_fd(void)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "ping", 4), 4);
	close(p[1]);
	return p[0];
}

static bool
fd_is_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static void
expect_pong(int fd)
{
	char buf[8] = { 0 };

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, 4), 4);
	assert_string_equal(buf, "pong");
	close(fd);
}

/* ------------------------------------------------------------------ */
/* The client.                                                          */

#define REPLY(req, st, p, ep, fd) { FAKE_REPLY, req, false, st, p, ep, fd, false }

static void
test_client_requests_on_one_connection(void **state)
{
	static const struct fake_script sc = {
		"scache", 1,
		{ { { FAKE_REPLY, "save_endp", true, 0, NULL, NULL, false, false },
		    REPLY("save_dest", 0, NULL, NULL, false),
		    REPLY("find_endp", 0, "P", NULL, true),
		    REPLY("find_dest", 0, "DP", "EP", true),
		    REPLY("find_endp", 1, NULL, NULL, false) } },
	};
	struct scache_clnt *sc_clnt;
	struct fake f;
	char *p1, *p2;
	int fd;

	fake_start(&f, &sc);
	sc_clnt = scache_clnt_create(f.path, 5000, 60000);
	fd = ping_fd();
	assert_int_equal(scache_clnt_save_endp(sc_clnt, 2, "e", "P", fd), 0);
	assert_true(fd_is_closed(fd));
	assert_int_equal(scache_clnt_save_dest(sc_clnt, 2, "d", "DP", "e"), 0);
	fd = scache_clnt_find_endp(sc_clnt, "e", &p1);
	expect_pong(fd);
	assert_string_equal(p1, "P");
	free(p1);
	fd = scache_clnt_find_dest(sc_clnt, "d", &p1, &p2);
	expect_pong(fd);
	assert_string_equal(p1, "DP");
	assert_string_equal(p2, "EP");
	free(p1);
	free(p2);
	assert_int_equal(scache_clnt_find_endp(sc_clnt, "e", &p1), -1);
	assert_null(p1);
	scache_clnt_destroy(&sc_clnt);
	assert_null(sc_clnt);
	fake_stop(&f);
	expect_log(state, "");
}

/* save_endp and save_dest go out together; both replies are read. */
static void
test_client_saves_endp_and_dest_together(void **state)
{
	static const struct fake_script sc = {
		"scache", 1,
		{ { { FAKE_REPLY, "save_endp", true, 0, NULL, NULL, false, false },
		    REPLY("save_dest", 0, NULL, NULL, false),
		    { FAKE_REPLY, "save_endp", true, 0, NULL, NULL, false, false },
		    REPLY("save_dest", 7, NULL, NULL, false) } },
	};
	struct scache_clnt *c;
	struct fake f;
	char *want;
	int fd;

	fake_start(&f, &sc);
	c = scache_clnt_create(f.path, 5000, 60000);
	fd = ping_fd();
	assert_int_equal(
		scache_clnt_save_endp_dest(c, 2, "e", "P", fd, "d", "DP"), 0);
	assert_true(fd_is_closed(fd));
	expect_log(state, "");
	/* A bad second reply fails the pair, with the usual warning. */
	fd = ping_fd();
	assert_int_equal(
		scache_clnt_save_endp_dest(c, 2, "e", "P", fd, "d", "DP"), -1);
	assert_true(fd_is_closed(fd));
	scache_clnt_destroy(&c);
	fake_stop(&f);
	want = xasprintf("connection cache %s: bad reply: unexpected status 7; "
			 "not caching connections for now\n",
			 f.path);
	expect_log(state, want);
	free(want);
}

/* The server closed between requests: one retry on a new connection. */
static void
test_client_reconnects(void **state)
{
	static const struct fake_script sc = {
		"scache", 1,
		{ { REPLY("find_endp", 1, NULL, NULL, false),
		    { FAKE_CLOSE, "find_endp", false, 0, NULL, NULL, false,
		      false } },
		  { REPLY("find_endp", 0, "P", NULL, true) } },
	};
	struct scache_clnt *c;
	struct fake f;
	char *p;

	fake_start(&f, &sc);
	c = scache_clnt_create(f.path, 5000, 60000);
	assert_int_equal(scache_clnt_find_endp(c, "e", &p), -1);
	expect_pong(scache_clnt_find_endp(c, "e", &p));
	assert_string_equal(p, "P");
	free(p);
	scache_clnt_destroy(&c);
	fake_stop(&f);
	expect_log(state, "");
}

/* No server: not found, not saved (fd closed), one warning, and no
 * further try until the retry time. */
static void
test_client_without_server(void **state)
{
	struct scache_clnt *c;
	struct fake f;
	char *p, *want;
	int fd;

	fake_start(&f, NULL);
	c = scache_clnt_create(f.path, 5000, 60000);
	assert_int_equal(scache_clnt_find_dest(c, "d", &p, &p), -1);
	assert_null(p);
	want = xasprintf("connection cache %s: connect to %s: No such file "
			 "or directory; not caching connections for now\n",
			 f.path, f.path);
	expect_log(state, want);
	free(want);
	fd = ping_fd();
	assert_int_equal(scache_clnt_save_endp(c, 2, "e", "", fd), -1);
	assert_true(fd_is_closed(fd));
	assert_int_equal(scache_clnt_save_dest(c, 2, "d", "", "e"), -1);
	assert_int_equal(scache_clnt_find_endp(c, "e", &p), -1);
	expect_log(state, "");
	scache_clnt_destroy(&c);
	fake_stop(&f);
}

static void
test_client_wrong_greeting(void **state)
{
	static const struct fake_script sc = { "delivery", 1, { { { 0 } } } };
	struct scache_clnt *c;
	struct fake f;
	char *p, *want;

	fake_start(&f, &sc);
	c = scache_clnt_create(f.path, 5000, 60000);
	assert_int_equal(scache_clnt_find_endp(c, "e", &p), -1);
	scache_clnt_destroy(&c);
	fake_stop(&f);
	want = xasprintf("connection cache %s: %s: unexpected protocol "
			 "\"delivery\" version 1; not caching connections "
			 "for now\n",
			 f.path, f.path);
	expect_log(state, want);
	free(want);
}

/* Replies that make no sense: each one a warning, the connection closed
 * (the next case is a new connection, retry_ms 0). */
static void
test_client_bad_replies(void **state)
{
	static const struct {
		struct fake_step step;
		bool is_find;
		const char *why;
	} cases[] = {
		{ REPLY("find_endp", -1, "P", NULL, false), true,
		  "bad reply: missing attribute status" },
		{ REPLY("find_endp", 7, NULL, NULL, false), true,
		  "bad reply: unexpected status 7" },
		{ REPLY("find_endp", 0, "P", NULL, false), true,
		  "bad reply: reply without a descriptor" },
		{ REPLY("find_endp", 1, NULL, NULL, true), true,
		  "bad reply: unexpected descriptor in a reply" },
		{ REPLY("find_endp", 0, NULL, NULL, true), true,
		  "bad reply: missing attribute prop" },
		{ REPLY("save_dest", 0, NULL, NULL, true), false,
		  "bad reply: unexpected descriptor in a reply" },
		{ { FAKE_REPLY, "find_endp", false, 1, NULL, NULL, false, true },
		  true, "unexpected data after the reply" },
		{ { FAKE_CLOSE, "find_endp", false, 0, NULL, NULL, false, false },
		  true, "lost connection" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_script sc = { "scache", 1, { { cases[i].step } } };
		struct scache_clnt *c;
		struct fake f;
		char *p = NULL, *want;

		fake_start(&f, &sc);
		c = scache_clnt_create(f.path, 5000, 0);
		if (cases[i].is_find)
			assert_int_equal(scache_clnt_find_endp(c, "e", &p), -1);
		else
			assert_int_equal(
				scache_clnt_save_dest(c, 1, "d", "", "e"), -1);
		assert_null(p);
		scache_clnt_destroy(&c);
		fake_stop(&f);
		want = xasprintf("connection cache %s: %s; not caching "
				 "connections for now\n",
				 f.path, cases[i].why);
		expect_log(state, want);
		free(want);
	}
}

static void
test_client_timeout(void **state)
{
	static const struct fake_script sc = {
		"scache", 1,
		{ { { FAKE_STALL, "find_dest", false, 0, NULL, NULL, false,
		      false } } },
	};
	struct scache_clnt *c;
	struct fake f;
	char *p, *q, *want;

	fake_start(&f, &sc);
	c = scache_clnt_create(f.path, 200, 60000);
	assert_int_equal(scache_clnt_find_dest(c, "d", &p, &q), -1);
	scache_clnt_destroy(&c);
	fake_stop(&f);
	want = xasprintf("connection cache %s: read reply: Connection timed "
			 "out; not caching connections for now\n",
			 f.path);
	expect_log(state, want);
	free(want);
}

/* A failure is logged again only after a success in between. */
static void
test_client_warns_once_until_success(void **state)
{
	static const struct fake_script sc = {
		"scache", 1,
		{ { REPLY("find_endp", 5, NULL, NULL, false) },
		  { REPLY("find_endp", 5, NULL, NULL, false) },
		  { REPLY("find_endp", 1, NULL, NULL, false),
		    REPLY("find_endp", 5, NULL, NULL, false) } },
	};
	struct scache_clnt *c;
	struct fake f;
	char *p, *want, *got;

	fake_start(&f, &sc);
	c = scache_clnt_create(f.path, 5000, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(scache_clnt_find_endp(c, "e", &p), -1);
	scache_clnt_destroy(&c);
	fake_stop(&f);
	want = xasprintf("connection cache %s: bad reply: unexpected status 5; "
			 "not caching connections for now\n",
			 f.path);
	got = log_take(state);
	assert_int_equal(strlen(got), 2 * strlen(want));
	assert_memory_equal(got, want, strlen(want));
	assert_string_equal(got + strlen(want), want);
	free(got);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_decode),
		cmocka_unit_test(test_prop_over_codec_limit),
		cmocka_unit_test(test_roundtrip_in_pieces),
		cmocka_unit_test(test_client_requests_on_one_connection),
		cmocka_unit_test(test_client_saves_endp_and_dest_together),
		cmocka_unit_test(test_client_reconnects),
		cmocka_unit_test(test_client_without_server),
		cmocka_unit_test(test_client_wrong_greeting),
		cmocka_unit_test(test_client_bad_replies),
		cmocka_unit_test(test_client_timeout),
		cmocka_unit_test(test_client_warns_once_until_success),
	};

	return cmocka_run_group_tests(tests, log_setup, log_teardown);
}
