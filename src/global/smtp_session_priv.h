/*
 * smtp_session_priv.h - what smtp_session.c and smtp_txn.c share: the
 * session's state and its reading, writing and outcome helpers. Not for
 * the agents: they use smtp_session.h.
 */
#ifndef POSTERN_GLOBAL_SMTP_SESSION_PRIV_H
#define POSTERN_GLOBAL_SMTP_SESSION_PRIV_H

#include <stdbool.h>

#include "global/smtp_reply.h"
#include "global/smtp_session.h"
#include "util/stream.h"
#include "util/strbuf.h"

/* How a reply becomes a reason. */
enum reply_wording {
	REPLY_SAID,    /* "host X[A] said: REPLY (in reply to CMD command)" */
	REPLY_REFUSED, /* "host X[A] refused to talk to me: REPLY" */
	REPLY_PLAIN,   /* the reply alone (a 250 for status=sent) */
};

struct smtp_session {
	struct stream *stream;
	const struct smtp_session_conf *conf;
	char *namaddr;	   /* "host[addr]" */
	unsigned features; /* SMTP_FEATURE_* */
	long long size_limit;
	bool is_helo;	  /* HELO was used (EHLO refused or never sent) */
	bool is_broken;	  /* out of step: only close it */
	struct smtp_reply reply;
	struct strbuf line;    /* one reply line */
	struct strbuf oneline; /* a reply for a reason text */
};

/*
 * Read one reply at stage into s->reply: 0, or -1 with o set (lost
 * connection, timeout, protocol error; the session is then broken).
 */
int session_read_reply(struct smtp_session *s, enum smtp_stage stage,
		       struct smtp_outcome *o);

/* Buffer a command line / flush: 0, or -1 with o set (broken). */
int session_write_command(struct smtp_session *s, enum smtp_stage stage,
			  const char *cmd, struct smtp_outcome *o);
int session_flush(struct smtp_session *s, enum smtp_stage stage,
		  struct smtp_outcome *o);

/* o from s->reply, worded as asked (command for REPLY_SAID). */
void session_reply_outcome(struct smtp_session *s, struct smtp_outcome *o,
			   enum reply_wording wording, const char *command);

/* o for a lost connection (cause other than ETIMEDOUT) or a timeout. */
void session_broken(struct smtp_session *s, enum smtp_stage stage, int cause,
		    struct smtp_outcome *o);

#endif
