/*
 * smtpd_check.h - smtpd's access policy: the restriction lists.
 *
 * Kept apart from the protocol engine: smtpd_proto.c and smtpd_mail.c ask
 * "may this client / sender / recipient / DATA go on?" and get a
 * Postfix-worded reply back. Lists are parsed once per process from
 * smtpd_client_restrictions, smtpd_helo_restrictions,
 * smtpd_sender_restrictions, smtpd_relay_restrictions,
 * smtpd_recipient_restrictions, smtpd_data_restrictions and
 * smtpd_end_of_data_restrictions. With smtpd_delay_reject = yes (the
 * default) the client, helo and sender lists run at RCPT TO, before the
 * relay and recipient lists, as in Postfix.
 */
#ifndef POSTERN_SMTPD_SMTPD_CHECK_H
#define POSTERN_SMTPD_SMTPD_CHECK_H

#include <stdbool.h>

#include "util/argv.h"
#include "util/err.h"
#include "util/strbuf.h"

#include "global/mail_conf.h"

struct smtpd_check;

/* What the policy knows about one request. */
struct smtpd_request {
	const char *name; /* verified client name, or "unknown" */
	const char *reverse_name; /* PTR name, unverified, or "unknown" */
	const char *addr; /* client address, "192.0.2.1" */
	/* Why name / reverse_name is missing: a temporary DNS failure
	 * (reject_unknown_*client_hostname then say 450) or not. */
	bool is_name_unknown, is_name_tempfail;
	bool is_reverse_unknown, is_reverse_tempfail;
	bool is_sasl_authenticated;
	const char *helo;   /* NULL before HELO/EHLO */
	const char *sender; /* NULL outside a transaction; "" null sender */
	const char *rcpt;   /* the recipient at RCPT/VRFY, else NULL */
	const char *namaddr; /* "unknown[192.0.2.1]", for replies */
	/* The client sent ahead where it may not: more input is waiting
	 * after a command of a non-ESMTP session, or after DATA. */
	bool is_pipelining_improper;
	/*
	 * Log events the caller must write in its NOQUEUE/queue-ID line
	 * format, as pairs: the event word ("reject_warning", "warn",
	 * "info") then its text. Owned by the caller; may be NULL.
	 */
	struct argv *events_out;
};

/*
 * Parse the restriction lists and open the tables they name. Returns NULL
 * with err on a configuration error: a bad list ("mynetworks: bad address
 * pattern ..."), a restriction that needs a table and has none
 * ("smtpd_recipient_restrictions: missing table after
 * check_recipient_access"), or lists that cannot stop relaying (Postfix's
 * fatal: "in parameter smtpd_relay_restrictions or
 * smtpd_recipient_restrictions, specify at least one working instance of:
 * ..."). Unknown restriction names are accepted here and refused per
 * request with a warning, as Postfix does. A table type that does not
 * exist yet (proxy:, unix:, nis: in local_recipient_maps' default) is
 * skipped with a startup warning. Bad unknown_*_tempfail_action values
 * are configuration errors too.
 */
struct dns_resolver;
/* dns (borrowed, outlives the check) serves the DNS-based restrictions. */
struct smtpd_check *smtpd_check_create(struct mail_conf *conf,
				       struct dns_resolver *dns,
				       struct err *err);

void smtpd_check_destroy(struct smtpd_check **checkp);

/* smtpd_delay_reject. */
bool smtpd_check_is_delayed(const struct smtpd_check *check);

/*
 * The stages. Each returns 0 to go on, or -1 with reply_out the refusal
 * ("554 5.7.1 <x@example.org>: Relay access denied", "451 4.3.5 Server
 * configuration error" after a table failure or an unknown restriction,
 * which is logged here as a warning).
 *   helo  smtpd_helo_restrictions, only when delay_reject is off
 *   mail  client, helo (delay off: client only) and sender restrictions
 *         when delay_reject is off; nothing otherwise
 *   rcpt  (delay on: client, helo, sender), relay, recipient lists, then
 *         the unlisted-recipient/-sender tests
 *   data  smtpd_data_restrictions; eod smtpd_end_of_data_restrictions
 */
int smtpd_check_helo(struct smtpd_check *check,
		     const struct smtpd_request *req, struct strbuf *reply_out);
int smtpd_check_mail(struct smtpd_check *check,
		     const struct smtpd_request *req, struct strbuf *reply_out);
int smtpd_check_rcpt(struct smtpd_check *check,
		     const struct smtpd_request *req, struct strbuf *reply_out);
int smtpd_check_data(struct smtpd_check *check,
		     const struct smtpd_request *req, struct strbuf *reply_out);
int smtpd_check_eod(struct smtpd_check *check,
		    const struct smtpd_request *req, struct strbuf *reply_out);

/* True if the client address is in mynetworks (errors: false, logged). */
bool smtpd_check_is_mynetworks(struct smtpd_check *check, const char *addr);

#endif
