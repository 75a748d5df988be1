/*
 * smtpd_check_impl.h - what smtpd_check.c shares with its helper files.
 *
 * smtpd_check.c owns the restriction engine (lists, generic actions,
 * access tables); smtpd_check_addr.c the name and address tests
 * (reject_non_fqdn_*, reject_invalid_helo_hostname, reject_unlisted_*);
 * smtpd_check_dns.c the DNS-based ones (DNSBL, DNSWL, reject_unknown_*).
 * Not for the rest of smtpd: use smtpd_check.h.
 */
#ifndef POSTERN_SMTPD_SMTPD_CHECK_IMPL_H
#define POSTERN_SMTPD_SMTPD_CHECK_IMPL_H

#include <stdbool.h>

#include "util/dict.h"
#include "util/strbuf.h"

#include "global/access_map.h"
#include "global/mail_addr.h"
#include "global/maps.h"
#include "global/match_list.h"

#include "smtpd/smtpd_check.h"

/* The outcome of one step or list. */
enum verdict {
	VERDICT_DUNNO,
	VERDICT_PERMIT,
	VERDICT_REFUSE,
};

enum step_kind {
	STEP_UNKNOWN,
	STEP_PERMIT,
	STEP_DUNNO,
	STEP_REJECT,
	STEP_DEFER,
	STEP_WARN_IF_REJECT,
	STEP_DEFER_IF_PERMIT,
	STEP_DEFER_IF_REJECT,
	STEP_PERMIT_MYNETWORKS,
	STEP_PERMIT_SASL,
	STEP_PERMIT_AUTH_DEST,
	STEP_REJECT_UNAUTH_DEST,
	STEP_DEFER_UNAUTH_DEST,
	STEP_CHECK_CLIENT_ACCESS,
	STEP_CHECK_HELO_ACCESS,
	STEP_CHECK_SENDER_ACCESS,
	STEP_CHECK_RCPT_ACCESS,
	STEP_NON_FQDN_HELO,
	STEP_INVALID_HELO,
	STEP_NON_FQDN_SENDER,
	STEP_NON_FQDN_RCPT,
	STEP_UNLISTED_RCPT,
	STEP_UNLISTED_SENDER,
	STEP_UNAUTH_PIPELINING,
	/* smtpd_check_dns.c */
	STEP_RBL_CLIENT,
	STEP_RHSBL_CLIENT,
	STEP_RHSBL_REVERSE_CLIENT,
	STEP_RHSBL_SENDER,
	STEP_RHSBL_HELO,
	STEP_RHSBL_RCPT,
	STEP_DNSWL_CLIENT,
	STEP_UNKNOWN_SENDER_DOMAIN,
	STEP_UNKNOWN_RCPT_DOMAIN,
	STEP_UNKNOWN_HELO,
	STEP_UNKNOWN_CLIENT,
	STEP_UNKNOWN_REVERSE_CLIENT,
};


struct step {
	enum step_kind kind;
	char *name;         /* as written, for warnings */
	struct dict *table; /* check_*_access */
	char *arg;          /* DNSBL steps: "domain[=d.d.d.d]", or NULL */
};

/* The lists, in evaluation order. */
enum list_id {
	LIST_CLIENT,
	LIST_HELO,
	LIST_SENDER,
	LIST_RELAY,
	LIST_RECIPIENT,
	LIST_DATA,
	LIST_EOD,
	LIST_COUNT,
};

struct rlist {
	const char *pname;
	enum list_id id;
	struct step *steps;
	size_t count;
};

struct smtpd_check {
	struct rlist *lists; /* indexed by enum list_id in smtpd_check.c */
	struct match_list *mynetworks;
	struct match_list *mydestination;
	struct match_list *relay_domains;
	struct match_list *virtual_alias_domains;
	struct match_list *virtual_mailbox_domains;
	struct maps *local_rcpt_maps;
	struct maps *virtual_alias_maps;
	struct maps *virtual_mailbox_maps;
	struct maps *relay_rcpt_maps;
	bool has_local_rcpt_maps; /* local_recipient_maps is not empty */
	struct mail_addr_route_opts route;
	struct access_settings access;
	char *myorigin;
	int relay_code;       /* relay_domains_reject_code */
	int reject_code;      /* reject_code */
	int defer_code;       /* defer_code */
	int non_fqdn_code;    /* non_fqdn_reject_code */
	int bad_name_code;    /* invalid_hostname_reject_code */
	int unk_local_code;   /* unknown_local_recipient_reject_code */
	int unk_relay_code;   /* unknown_relay_recipient_reject_code */
	int unk_valias_code;  /* unknown_virtual_alias_reject_code */
	int unk_vmbox_code;   /* unknown_virtual_mailbox_reject_code */
	bool is_delayed;      /* smtpd_delay_reject */
	bool want_unlisted_rcpt;   /* smtpd_reject_unlisted_recipient */
	bool want_unlisted_sender; /* smtpd_reject_unlisted_sender */
	bool show_table_name;      /* show_user_unknown_table_name */
	bool has_match_error;      /* set by is_local during one resolve */
	/* smtpd_check_dns.c */
	struct dns_resolver *dns;  /* borrowed from smtpd_conf */
	struct maps *rbl_reply_maps;
	char *rbl_reply;           /* default_rbl_reply, unexpanded */
	int rbl_code;              /* maps_rbl_reject_code */
	int unk_addr_code;         /* unknown_address_reject_code */
	int unk_client_code;       /* unknown_client_reject_code */
	int unk_name_code;         /* unknown_hostname_reject_code */
	bool is_addr_tf_defer;     /* unknown_address_tempfail_action */
	bool is_helo_tf_defer;     /* unknown_helo_hostname_tempfail_action */
};

/*
 * One evaluation (one smtpd_check_* call): the request, the reply being
 * built, and the state of warn_if_reject / defer_if_reject /
 * defer_if_permit.
 */
struct check_run {
	struct smtpd_check *check;
	const struct smtpd_request *req;
	struct strbuf *reply;
	bool warn_next;         /* warn_if_reject before this step */
	bool defer_if_reject;   /* defer_if_reject seen */
	struct strbuf deferred; /* defer_if_permit reply, "" if none */
	int depth;              /* nested restriction lists */
	bool rcpt_maps_done;    /* reject_unlisted_recipient ran */
	bool sender_maps_done;  /* reject_unlisted_sender ran */
};

/*
 * Refuse with "CODE DSN TEXT" where TEXT comes from fmt; applies
 * warn_if_reject (logs, returns DUNNO) and defer_if_reject (4xx).
 */
enum verdict check_refuse(struct check_run *run, int code, const char *dsn,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* 451 4.3.5 Server configuration error (not softened, not a warning). */
enum verdict check_config_error(struct check_run *run);

/* The routing domain of an address, lower case, no trailing dot. */
char *check_domain_key(const char *addr, const char *myorigin);

/* smtpd_check.c: the engine, for the nested lists of access tables. */
bool check_is_table_step(enum step_kind kind);
enum step_kind check_step_kind(const char *word);
/* Parse words into list (list->pname set); -1 with err. */
int check_rlist_parse(struct rlist *list, struct argv *words, struct err *err);
void check_rlist_free(struct rlist *list);
enum verdict check_rlist_run(struct check_run *run, const struct rlist *list);
/* Queue a log event (see smtpd_request.events_out). */
void check_event(struct check_run *run, const char *event, const char *text);

/* Is rcpt a destination we accept without relay permission? 1, 0, or
 * -1 when a table failed. */
int check_is_auth_destination(struct smtpd_check *check, const char *rcpt);

/*
 * smtpd_check_dns.c. check_dns_settings loads its parameters (-1 with
 * err for a bad *_tempfail_action); check_dns_step runs one DNS step.
 */
int check_dns_settings(struct smtpd_check *check, struct mail_conf *conf,
		       struct err *err);
void check_dns_deinit(struct smtpd_check *check);
bool check_is_dns_step(enum step_kind kind);
bool check_dns_step_has_arg(enum step_kind kind);
enum verdict check_dns_step(struct check_run *run, const struct step *step);

/* Class-adjusted DSN: "4.7.1" with code 554 gives "5.7.1". */
void check_dsn_for(int code, const char *dsn, char out[16]);

/* The domain class of an address as the unlisted tests decide it: true
 * for our final destinations (local, virtual alias, virtual mailbox). */
int check_is_final_domain(struct smtpd_check *check, const char *domain);

/* smtpd_check_access.c: check_client/helo/sender/recipient_access. */
enum verdict check_access(struct check_run *run, enum list_id id,
			  const struct step *step);

/* smtpd_check_addr.c */
enum verdict check_non_fqdn_helo(struct check_run *run);
enum verdict check_invalid_helo(struct check_run *run);
enum verdict check_non_fqdn_addr(struct check_run *run, const char *addr,
				 bool is_sender);
enum verdict check_unlisted(struct check_run *run, const char *addr,
			    bool is_sender);
/*
 * Open the tables of parameter pname (global/maps: a table that will not
 * open fails every lookup, so the mail is deferred). Types Postern does
 * not implement yet (proxy:, unix:, nis:) are left out with a warning.
 */
struct maps *check_maps_open(struct mail_conf *conf, const char *pname);

#endif
