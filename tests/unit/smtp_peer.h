/*
 * smtp_peer.h - for unit tests of the SMTP client session: a scripted peer
 * over a socketpair. The peer's replies are written before the session
 * runs (the client reads them in order, pipelined or not), and what the
 * client wrote is read back when it is closed. Included by the tests of
 * smtp_session.c and smtp_txn.c.
 */
#ifndef POSTERN_TESTS_SMTP_PEER_H
#define POSTERN_TESTS_SMTP_PEER_H

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "global/smtp_session.h"

struct run {
	int peer;
	struct smtp_session *s;
	struct smtp_session_conf conf;
};

/* A session configuration with the tests' defaults, to adjust before
 * run_start. */
static void
run_conf(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->conf.helo_name = "client.test";
	r->conf.line_length_limit = 998;
	r->conf.reply_line_limit = 2048;
	for (int i = 0; i < SMTP_STAGE_COUNT; i++)
		r->conf.timeout_ms[i] = 2000;
}

/* The peer has written replies; the session to "mx.test[192.0.2.1]". */
static void
run_start(struct run *r, const char *replies)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], replies, strlen(replies)),
			 (ssize_t)strlen(replies));
	r->peer = sv[0];
	r->s = smtp_session_create(sv[1], "mx.test", "192.0.2.1", &r->conf);
}

/* Close the client side and return all it wrote (caller frees). */
static char *
run_close(struct run *r)
{
	char *buf = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;

	smtp_session_destroy(&r->s);
	while ((n = read(r->peer, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(r->peer);
	return buf;
}

/* smtp_content_fn over a NULL-terminated array of whole lines. */
static int
content_lines(void *source, smtp_piece_fn *out, void *ctx, struct err *err)
{
	const char *const *lines = source;
	int ret;

	for (size_t i = 0; lines[i] != NULL; i++)
		if ((ret = out(lines[i], strlen(lines[i]), true, ctx, err)) < 0)
			return ret;
	return 0;
}

#endif
