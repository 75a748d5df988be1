/*
 * smtpd_check.h - smtpd's access policy: the restriction lists.
 *
 * Kept apart from the protocol engine: smtpd_proto.c and smtpd_mail.c ask
 * "may this recipient be accepted?" and get a Postfix-worded reply back.
 * Lists are parsed once per process from smtpd_relay_restrictions and
 * smtpd_recipient_restrictions; mynetworks, mydestination and
 * relay_domains are match lists (global/match_list.h).
 */
#ifndef POSTERN_SMTPD_SMTPD_CHECK_H
#define POSTERN_SMTPD_SMTPD_CHECK_H

#include <stdbool.h>

#include "util/err.h"
#include "util/strbuf.h"

#include "global/mail_conf.h"

struct smtpd_check;

/* What the policy knows about the client. */
struct smtpd_client {
	const char *name; /* "unknown" until reverse DNS exists */
	const char *addr; /* "192.0.2.1" */
	bool is_sasl_authenticated;
};

/*
 * Parse the restriction lists and open the match lists. Returns NULL with
 * err on a configuration error: a bad list ("mynetworks: bad address
 * pattern ..."), a restriction that needs an argument and has none
 * ("smtpd_recipient_restrictions: missing table after
 * check_recipient_access"), or lists that cannot stop relaying (Postfix's
 * fatal: "in parameter smtpd_relay_restrictions or
 * smtpd_recipient_restrictions, specify at least one working instance of:
 * reject_unauth_destination, defer_unauth_destination, reject, defer,
 * defer_if_permit or check_relay_domains"). Unknown restriction names are
 * accepted here and refused per request, as Postfix does.
 */
struct smtpd_check *smtpd_check_create(struct mail_conf *conf, struct err *err);

void smtpd_check_destroy(struct smtpd_check **checkp);

/*
 * Decide on RCPT TO (rcpt in internal form; also used for VRFY): the relay
 * restrictions, then, unless they refused, the recipient restrictions.
 * Returns 0 to accept, or -1 with reply_out the refusal ("554 5.7.1
 * <x@example.org>: Relay access denied", "454 4.7.1 ...", "451 4.3.5
 * Server configuration error" when a table failed or a restriction is
 * unknown; the reason is logged here as a warning).
 */
int
smtpd_check_rcpt(struct smtpd_check *check, const struct smtpd_client *client,
		 const char *rcpt, struct strbuf *reply_out);

/* True if the client address is in mynetworks (errors: false, logged). */
bool smtpd_check_is_mynetworks(struct smtpd_check *check,
			       const struct smtpd_client *client);

#endif
