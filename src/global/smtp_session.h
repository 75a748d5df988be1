/*
 * smtp_session.h - the SMTP and LMTP client protocol over one connection.
 *
 * Used by the smtp and lmtp delivery agents (src/smtp, src/lmtp): the
 * agent connects, hands the descriptor to a session, and the session
 * speaks the protocol: the greeting, EHLO (HELO when EHLO is refused, or
 * always with smtp_never_send_ehlo) or LHLO, the extensions SIZE,
 * PIPELINING, 8BITMIME, DSN and SMTPUTF8, then one mail transaction:
 * MAIL, RCPT and DATA in one round trip when PIPELINING is offered, else
 * one by one, the content with CRLF line ends and dot-stuffing, the final
 * dot, and RSET or QUIT. In LMTP mode the server answers the final dot
 * once per accepted recipient.
 * Outcomes are worded as Postfix words them: "host X[A] said: 550 ...
 * (in reply to RCPT TO command)", "lost connection with X[A] while
 * sending message body", "conversation with X[A] timed out while ...".
 * A recipient is reported sent only after the server accepted the final
 * dot for it, so nothing is reported delivered that might not be.
 * Security: every reply is untrusted and goes through smtp_reply.h.
 */
#ifndef POSTERN_GLOBAL_SMTP_SESSION_H
#define POSTERN_GLOBAL_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "global/mime_downgrade.h"
#include "util/err.h"

/* Protocol stages, each with its own timeout. */
enum smtp_stage {
	SMTP_STAGE_GREETING, /* uses the helo timeout, as Postfix does */
	SMTP_STAGE_HELO,     /* EHLO, HELO or LHLO */
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA, /* the DATA command */
	SMTP_STAGE_BODY, /* the content */
	SMTP_STAGE_DOT,	 /* the final dot and its reply */
	SMTP_STAGE_RSET,
	SMTP_STAGE_QUIT,
	SMTP_STAGE_COUNT
};

/* Extensions the server offered. */
#define SMTP_FEATURE_ESMTP (1 << 0) /* EHLO (or LHLO) was accepted */
#define SMTP_FEATURE_SIZE (1 << 1)
#define SMTP_FEATURE_PIPELINING (1 << 2)
#define SMTP_FEATURE_8BITMIME (1 << 3)
#define SMTP_FEATURE_DSN (1 << 4)
#define SMTP_FEATURE_SMTPUTF8 (1 << 5)

/* Settings, from the agent's parameters; must outlive the session. */
struct smtp_session_conf {
	bool is_lmtp;
	bool never_send_ehlo;	  /* smtp_never_send_ehlo */
	const char *helo_name;	  /* smtp_helo_name / lmtp_lhlo_name */
	size_t line_length_limit; /* smtp_line_length_limit; 0: none */
	size_t reply_line_limit;  /* longest reply line kept (line_length_limit) */
	int timeout_ms[SMTP_STAGE_COUNT]; /* STREAM_NO_TIMEOUT: none */
	/* 8-bit MIME made 7-bit for a server without 8BITMIME. */
	bool want_mime_downgrade; /* !disable_mime_output_conversion */
	struct mime_downgrade_limits mime_limits;
};

/*
 * An outcome: the server's reply code (0 when there was none: a lost
 * connection, a timeout, a protocol error), the DSN status, Postfix's
 * reason text and the DSN diagnostic ("smtp; 550 5.1.1 ...", NULL when
 * there was no reply). Strings are owned by the outcome.
 */
struct smtp_outcome {
	int code;
	char dsn[16];
	char *reason;
	char *diag;
};

void smtp_outcome_clear(struct smtp_outcome *o);

/* Move src into dst (dst cleared first; src left empty). */
void smtp_outcome_move(struct smtp_outcome *dst, struct smtp_outcome *src);

/* Set an outcome without a server reply (code 0). */
void smtp_outcome_set(struct smtp_outcome *o, const char *dsn,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What happened to one recipient. */
enum smtp_rcpt_state {
	SMTP_RCPT_TODO,	  /* no outcome yet (not tried, or no final answer) */
	SMTP_RCPT_SENT,	  /* the server took responsibility */
	SMTP_RCPT_BOUNCE, /* refused for good (5xx) */
	SMTP_RCPT_SOFT,	  /* refused for now (4xx, lost connection, ...) */
};

struct smtp_txn_rcpt {
	const char *address;   /* in: internal form */
	const char *dsn_orcpt; /* in: "rfc822;addr" or "" */
	int dsn_notify;	       /* in: REC_DSN_NOTIFY_* bits */
	enum smtp_rcpt_state state; /* out */
	struct smtp_outcome outcome; /* out: reply (SENT: the final one) */
	bool is_accepted;	     /* internal: RCPT got 2xx */
};

/* A piece of content, as deliver_request.h's deliver_content gives it. */
typedef int smtp_piece_fn(const char *data, size_t len, bool is_line_end,
			  void *ctx, struct err *err);
/* Produce the whole content through out (deliver_content's shape). */
typedef int smtp_content_fn(void *source, smtp_piece_fn *out, void *out_ctx,
			    struct err *err);

/* One mail transaction. */
struct smtp_txn {
	const char *sender; /* "" for the null sender */
	long long size;	    /* for SIZE=; 0: unknown */
	bool is_8bit;	    /* encoding 8bit: BODY=8BITMIME */
	bool is_7bit;	    /* encoding 7bit: BODY=7BIT, never converted */
	bool is_smtputf8;   /* asks for SMTPUTF8 (sent when offered) */
	bool is_smtputf8_required; /* UTF-8 addresses: bounce without it */
	bool is_verify;	    /* sendmail -bv: RCPT replies decide, no DATA */
	const char *dsn_envid; /* "" for none */
	int dsn_ret;	       /* REC_DSN_RET_*, 0 for none */
	struct smtp_txn_rcpt *rcpts;
	size_t rcpt_count;
	smtp_content_fn *content;
	void *content_source;
	bool is_mail_failed; /* out: MAIL refused, or the connection failed
				before its reply (a stale kept connection) */
};

struct smtp_session;

/*
 * A session over fd (connected, owned by the session from now on). host
 * is the server's name and addr its printable address, for "host[addr]"
 * in reasons. Never fails.
 */
struct smtp_session *smtp_session_create(int fd, const char *host,
					 const char *addr,
					 const struct smtp_session_conf *conf);

/* Close the connection (no QUIT) and free; NULL-safe. */
void smtp_session_destroy(struct smtp_session **sp);

/* "host[addr]" of the session. */
const char *smtp_session_namaddr(const struct smtp_session *s);

/*
 * Read the greeting and say EHLO/HELO/LHLO. Returns 0, or -1 with *out
 * set: a non-2xx greeting ("host X[A] refused to talk to me: 554 ..."),
 * a refused HELO/LHLO ("host X[A] said: ... (in reply to HELO
 * command)"), a lost connection, a timeout or a protocol error (code 0).
 */
int smtp_session_start(struct smtp_session *s, struct smtp_outcome *out);

/* The extensions offered, SMTP_FEATURE_* bits. */
unsigned smtp_session_features(const struct smtp_session *s);

/* The server's SIZE limit; 0 when it gave none. */
long long smtp_session_size_limit(const struct smtp_session *s);

/*
 * Run one transaction for the recipients whose state is SMTP_RCPT_TODO,
 * and set each one's state and outcome. A message larger than the
 * server's SIZE limit bounces (5.3.4) and one that needs SMTPUTF8 bounces
 * when it is not offered (5.6.7), without a transaction. Without 8BITMIME
 * from the server, content not known to be 7bit goes through
 * mime_downgrade.h (when conf->want_mime_downgrade); a MIME structure
 * nested too deep for it bounces every recipient (5.6.0, "MIME nesting
 * exceeds safety limit") and the message is not finished. A failure of the
 * whole transaction (MAIL or DATA refused, a lost connection...) gives
 * every recipient without a final outcome the same one. Returns 0 when
 * the connection is still in step (it may carry QUIT), -1 when it is
 * not (lost, timed out, out of step, or the content could not be read:
 * then err says why too).
 */
int smtp_session_send(struct smtp_session *s, struct smtp_txn *txn,
		      struct err *err);

/* Say QUIT without waiting for the reply (smtp_skip_quit_response). */
void smtp_session_quit(struct smtp_session *s);

/*
 * Say RSET and read its reply, before a kept connection carries its next
 * transaction. Returns 0 for a 2xx reply; -1 with *out set otherwise: a
 * refusal ("host X[A] said: ... (in reply to RSET command)") or a lost
 * connection, a timeout or a protocol error (the session is then broken).
 */
int smtp_session_rset(struct smtp_session *s, struct smtp_outcome *out);

/* False once the session is out of step: it may only be closed. */
bool smtp_session_is_usable(const struct smtp_session *s);

/*
 * What a connection handed to another session (in this process or, via
 * the connection cache, another one) carries besides its descriptor: the
 * outcome of the greeting and EHLO.
 */
struct smtp_session_state {
	unsigned features;    /* SMTP_FEATURE_* */
	long long size_limit; /* 0: none announced */
	bool is_helo;	      /* HELO was used */
};

/*
 * Take the connection out of *sp for a later smtp_session_resume: returns
 * its descriptor with *state_out filled, frees the rest, and sets *sp to
 * NULL. Returns -1 and leaves *sp alone (QUIT it, or destroy it) when the
 * connection is not fit for reuse: out of step, or the server sent bytes
 * that no command asked for.
 */
int smtp_session_detach(struct smtp_session **sp,
			struct smtp_session_state *state_out);

/*
 * A session over fd, a connection that passed its greeting and EHLO in
 * an earlier session (state as smtp_session_detach gave it); host and
 * addr as for smtp_session_create. Never fails.
 */
struct smtp_session *smtp_session_resume(int fd, const char *host,
					 const char *addr,
					 const struct smtp_session_conf *conf,
					 const struct smtp_session_state *state);

#endif
