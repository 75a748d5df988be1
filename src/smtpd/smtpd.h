/*
 * smtpd.h - shared state of the SMTP server's files.
 *
 * smtpd.c loads struct smtpd_conf once per process (post_init) and runs
 * one struct smtpd_session per client. smtpd_proto.c is the command loop
 * and the session commands, smtpd_mail.c the mail transaction (MAIL,
 * RCPT, DATA and the hand-off to cleanup), smtpd_check.c the access
 * policy. Nothing here is global: the conf hangs off server->ctx.
 */
#ifndef POSTERN_SMTPD_SMTPD_H
#define POSTERN_SMTPD_SMTPD_H

#include <stdbool.h>
#include <stdint.h>

#include "util/argv.h"
#include "util/sock_addr.h"
#include "util/stream.h"
#include "util/strbuf.h"

#include "global/cleanup_clnt.h"
#include "global/dns.h"
#include "global/esmtp_param.h"
#include "global/resolve.h"
#include "global/mail_conf.h"
#include "global/smtp_cmd.h"

struct smtpd_check;

/* main.cf, read once per process; read-only afterwards. */
struct smtpd_conf {
	char *banner; /* smtpd_banner, expanded */
	char *myhostname;
	char *mail_name;
	char *cleanup_path;           /* public/$cleanup_service_name */
	long long message_size_limit; /* 0: no limit */
	long long queue_minfree;      /* bytes the queue must keep free */
	int line_length_limit;
	int recipient_limit;       /* smtpd_recipient_limit */
	int timeout_ms;            /* smtpd_timeout */
	int ipc_timeout_ms;        /* ipc_timeout, for cleanup */
	int hard_error_limit;      /* smtpd_hard_error_limit */
	int soft_error_limit;      /* smtpd_soft_error_limit */
	int error_sleep_ms;        /* smtpd_error_sleep_time */
	int junk_command_limit;    /* smtpd_junk_command_limit */
	bool is_helo_required;     /* smtpd_helo_required */
	bool is_vrfy_disabled;     /* disable_vrfy_command */
	bool is_smtputf8_enabled;  /* smtputf8_enable */
	bool is_strict_rfc821;     /* strict_rfc821_envelopes */
	bool is_strict_smtputf8;   /* strict_smtputf8 */
	bool is_unauth_pipe_forbidden; /* smtpd_forbid_unauth_pipelining */
	enum smtp_bare_lf bare_lf; /* smtpd_forbid_bare_newline */
	int bare_lf_code;          /* smtpd_forbid_bare_newline_reject_code */
	struct argv *discard_ehlo; /* smtpd_discard_ehlo_keywords, lower */
	bool want_peername;        /* smtpd_peername_lookup */
	struct dns_resolver *dns;  /* dns_resolver_conf */
	bool use_system_resolver;  /* dns_resolver_conf empty: peer name
				      lookups through the C library */
	struct smtpd_check *check; /* access policy */
	/* local_header_rewrite_clients: who gets the local rewrite context
	 * (headers qualified and completed by cleanup). */
	struct argv *local_header_clients;
	struct resolve *resolve; /* our addresses, for permit_inet_interfaces */
};

/* Load the conf; configuration errors are fatal (log_fatal). */
struct smtpd_conf *smtpd_conf_load(struct mail_conf *conf);
void smtpd_conf_destroy(struct smtpd_conf **confp);

/* Per-command counters for the "disconnect from" line. */
enum smtpd_counter {
	SMTPD_CNT_HELO,
	SMTPD_CNT_EHLO,
	SMTPD_CNT_MAIL,
	SMTPD_CNT_RCPT,
	SMTPD_CNT_DATA,
	SMTPD_CNT_BDAT,
	SMTPD_CNT_RSET,
	SMTPD_CNT_NOOP,
	SMTPD_CNT_VRFY,
	SMTPD_CNT_ETRN,
	SMTPD_CNT_QUIT,
	SMTPD_CNT_UNKNOWN,
	SMTPD_CNT_COUNT,
};

/* Why the session ended, for the closing log line. */
enum smtpd_end {
	SMTPD_END_NONE,    /* still running */
	SMTPD_END_QUIT,    /* QUIT, or we closed after a 421 */
	SMTPD_END_LOST,    /* "lost connection after X" */
	SMTPD_END_TIMEOUT, /* "timeout after X" */
};

/*
 * How the client's name was found (Postfix's name_status and
 * reverse_name_status): the name is verified, the lookup failed for now,
 * there is no name, or the name does not lead back to the address.
 */
enum smtpd_peer_status {
	SMTPD_PEER_OK,
	SMTPD_PEER_TEMP,
	SMTPD_PEER_PERM,
	SMTPD_PEER_FORGED,
};

struct smtpd_session {
	const struct smtpd_conf *conf;
	struct stream *stream;
	char *name;         /* verified client name, or "unknown" */
	char *reverse_name; /* the PTR name, unverified, or "unknown" */
	enum smtpd_peer_status name_status;
	enum smtpd_peer_status reverse_status;
	struct sock_addr_text peer;
	struct sock_addr_text local;
	char *namaddr;        /* "unknown[192.0.2.1]" */
	char *helo_name;      /* NULL before HELO/EHLO */
	const char *protocol; /* "SMTP" after HELO, "ESMTP" after EHLO */
	const char *where;    /* last command, for "lost connection after" */
	int error_count;
	int junk_count;
	enum smtpd_end end;
	unsigned ok_count[SMTPD_CNT_COUNT];
	unsigned total_count[SMTPD_CNT_COUNT];
	/* The mail transaction; sender NULL when there is none. */
	char *sender;
	struct esmtp_params mail;
	int rcpt_count;
	char *first_rcpt;
	struct cleanup_clnt *cleanup;
	char *queue_id;
	bool is_queue_broken; /* cleanup failed: DATA must say 451 */
	bool is_ill_pipelining; /* sent ahead where RFC 2920 forbids it */
	bool is_early_talker;   /* input before our greeting */
	bool is_stand_alone;    /* not a socket (smtpd -S): no pipelining test */
	uint64_t data_bytes;  /* "(N bytes)" in DATA's lost/timeout lines */
	/* Access-table actions for the whole message, done at DATA. */
	bool act_hold, act_discard;
	char *act_filter, *act_redirect;
	struct argv *act_bcc, *act_prepend;
	struct strbuf line;
	struct strbuf reply;
};

/* Serve one client on stream (which stays the caller's). */
void smtpd_session_run(const struct smtpd_conf *conf, struct stream *stream);

/*
 * smtpd_peer.c: the client's name as Postfix finds it. A PTR lookup of
 * addr gives the reverse name; the name is kept as the client name only
 * when its A (IPv4 client) or AAAA (IPv6) records include addr, else it
 * is "unknown" with a warning "hostname X does not resolve to address
 * A[: reason]". Temporary DNS trouble gives SMTPD_PEER_TEMP. Fills the
 * session's name, reverse_name and both statuses (names are malloc'ed).
 */
void smtpd_peer_lookup(struct smtpd_session *sess, struct dns_resolver *dns);

/* smtpd_proto.c helpers used by smtpd_mail.c. */

/*
 * Send a reply (text without CRLF, "250 2.1.0 Ok"). A 4xx/5xx reply
 * counts as an error and is delayed once the client has made more than
 * smtpd_soft_error_limit errors.
 */
void smtpd_reply(struct smtpd_session *sess, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Read one line into sess->line; 1, or 0 after the session ended
 * (lost connection or timeout, logged and answered here). */
int smtpd_read_line(struct smtpd_session *sess, enum stream_line_end *end);

/* "QUEUEID" or "NOQUEUE", for log lines. */
const char *smtpd_queue_label(const struct smtpd_session *sess);

/* smtpd_mail.c: the transaction commands; each replies itself. */
void smtpd_mail_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd);
void smtpd_rcpt_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd);
void smtpd_data_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd);
void smtpd_vrfy_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd);

/* A policy stage (smtpd_check_mail, _rcpt, ...), and the call that runs
 * it for the session: logs the NOQUEUE lines and replies on refusal;
 * returns 0 to go on, -1 after a reply. rcpt may be NULL. */
struct smtpd_request;
typedef int smtpd_check_fn(struct smtpd_check *check,
			   const struct smtpd_request *req,
			   struct strbuf *reply_out);
int smtpd_mail_policy(struct smtpd_session *sess, const char *verb,
		      smtpd_check_fn *stage, const char *rcpt);

/* Forget the transaction (RSET, HELO, end of DATA, end of session);
 * an open cleanup submission is given up. */
void smtpd_mail_reset(struct smtpd_session *sess);

#endif
