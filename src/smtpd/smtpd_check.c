/*
 * smtpd_check.c - smtpd's access policy: the restriction engine.
 *
 * Each list is parsed once into steps. A request walks the lists of its
 * stage in Postfix's order (client, helo, sender, relay, recipient); in
 * each, the first step that permits ends that list, the first that refuses
 * ends the request. warn_if_reject, defer_if_reject and defer_if_permit
 * keep their state for one smtpd_check_* call. An access table may answer
 * with a restriction list of its own, run in place (no tables inside).
 * The relay test resolves routing in the local part exactly as
 * trivial-rewrite will (mail_addr_route_resolve), so the percent hack,
 * bang paths and quoted '@' cannot smuggle a remote destination past it.
 * Security: sees untrusted names and addresses; a table that fails defers
 * (451), never permits.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "smtpd/smtpd_check_impl.h"

static const struct {
	const char *name;
	enum step_kind kind;
	bool is_relay_safe; /* stops relaying: Postfix's startup check */
} step_names[] = {
	{ "permit", STEP_PERMIT, false },
	{ "dunno", STEP_DUNNO, false },
	{ "reject", STEP_REJECT, true },
	{ "defer", STEP_DEFER, true },
	{ "warn_if_reject", STEP_WARN_IF_REJECT, false },
	{ "defer_if_permit", STEP_DEFER_IF_PERMIT, true },
	{ "defer_if_reject", STEP_DEFER_IF_REJECT, false },
	{ "permit_mynetworks", STEP_PERMIT_MYNETWORKS, false },
	{ "permit_sasl_authenticated", STEP_PERMIT_SASL, false },
	{ "permit_auth_destination", STEP_PERMIT_AUTH_DEST, false },
	{ "reject_unauth_destination", STEP_REJECT_UNAUTH_DEST, true },
	{ "defer_unauth_destination", STEP_DEFER_UNAUTH_DEST, true },
	{ "check_client_access", STEP_CHECK_CLIENT_ACCESS, false },
	{ "check_helo_access", STEP_CHECK_HELO_ACCESS, false },
	{ "check_sender_access", STEP_CHECK_SENDER_ACCESS, false },
	{ "check_recipient_access", STEP_CHECK_RCPT_ACCESS, false },
	{ "reject_non_fqdn_helo_hostname", STEP_NON_FQDN_HELO, false },
	{ "reject_non_fqdn_hostname", STEP_NON_FQDN_HELO, false },
	{ "reject_invalid_helo_hostname", STEP_INVALID_HELO, false },
	{ "reject_invalid_hostname", STEP_INVALID_HELO, false },
	{ "reject_non_fqdn_sender", STEP_NON_FQDN_SENDER, false },
	{ "reject_non_fqdn_recipient", STEP_NON_FQDN_RCPT, false },
	{ "reject_unlisted_recipient", STEP_UNLISTED_RCPT, false },
	{ "check_recipient_maps", STEP_UNLISTED_RCPT, false },
	{ "reject_unlisted_sender", STEP_UNLISTED_SENDER, false },
	{ "reject_unauth_pipelining", STEP_UNAUTH_PIPELINING, false },
	{ "reject_rbl_client", STEP_RBL_CLIENT, false },
	{ "reject_rhsbl_client", STEP_RHSBL_CLIENT, false },
	{ "reject_rhsbl_reverse_client", STEP_RHSBL_REVERSE_CLIENT, false },
	{ "reject_rhsbl_sender", STEP_RHSBL_SENDER, false },
	{ "reject_rhsbl_helo", STEP_RHSBL_HELO, false },
	{ "reject_rhsbl_recipient", STEP_RHSBL_RCPT, false },
	{ "permit_dnswl_client", STEP_DNSWL_CLIENT, false },
	{ "reject_unknown_sender_domain", STEP_UNKNOWN_SENDER_DOMAIN, false },
	{ "reject_unknown_recipient_domain", STEP_UNKNOWN_RCPT_DOMAIN, false },
	{ "reject_unknown_helo_hostname", STEP_UNKNOWN_HELO, false },
	{ "reject_unknown_hostname", STEP_UNKNOWN_HELO, false },
	{ "reject_unknown_client_hostname", STEP_UNKNOWN_CLIENT, false },
	{ "reject_unknown_client", STEP_UNKNOWN_CLIENT, false },
	{ "reject_unknown_reverse_client_hostname", STEP_UNKNOWN_REVERSE_CLIENT,
	  false },
};

static const char *const list_params[LIST_COUNT] = {
	"smtpd_client_restrictions",	  "smtpd_helo_restrictions",
	"smtpd_sender_restrictions",	  "smtpd_relay_restrictions",
	"smtpd_recipient_restrictions",	  "smtpd_data_restrictions",
	"smtpd_end_of_data_restrictions",
};

bool
check_is_table_step(enum step_kind kind)
{
	return kind == STEP_CHECK_CLIENT_ACCESS ||
	       kind == STEP_CHECK_HELO_ACCESS ||
	       kind == STEP_CHECK_SENDER_ACCESS ||
	       kind == STEP_CHECK_RCPT_ACCESS;
}

enum step_kind
check_step_kind(const char *word)
{
	for (size_t i = 0; i < sizeof(step_names) / sizeof(step_names[0]); i++)
		if (strcasecmp(word, step_names[i].name) == 0)
			return step_names[i].kind;
	return STEP_UNKNOWN;
}

static int
step_parse(struct step *step, const char *word, const struct argv *words,
	   size_t *ip, const char *pname, struct err *err)
{
	step->name = xstrdup(word);
	step->kind = check_step_kind(word);
	/* As in Postfix, the next word is the domain, whatever it is; a
	 * missing one draws a warning per request. */
	if (check_dns_step_has_arg(step->kind)) {
		if (*ip + 1 < words->count)
			step->arg = xstrdup(words->items[++*ip]);
		return 0;
	}
	if (!check_is_table_step(step->kind))
		return 0;
	if (*ip + 1 >= words->count) {
		err_set(err, "%s: missing table after %s", pname, word);
		return -1;
	}
	*ip += 1;
	step->table =
		dict_open(words->items[*ip], O_RDONLY, DICT_FLAG_FOLD_FIX, err);
	if (step->table == NULL) {
		err_prefix(err, "%s: %s", pname, word);
		return -1;
	}
	return 0;
}

int
check_rlist_parse(struct rlist *list, struct argv *words, struct err *err)
{
	int ret = 0;

	list->steps = xcalloc(words->count + 1, sizeof(*list->steps));
	for (size_t i = 0; i < words->count && ret == 0; i++)
		ret = step_parse(&list->steps[list->count++], words->items[i],
				 words, &i, list->pname, err);
	return ret;
}

void
check_rlist_free(struct rlist *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->steps[i].name);
		free(list->steps[i].arg);
		dict_close(&list->steps[i].table);
	}
	free(list->steps);
	list->steps = NULL;
	list->count = 0;
}

static bool
rlist_is_relay_safe(const struct rlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		for (size_t j = 0;
		     j < sizeof(step_names) / sizeof(step_names[0]); j++)
			if (step_names[j].kind == list->steps[i].kind &&
			    step_names[j].is_relay_safe)
				return true;
	return false;
}

static struct match_list *
list_open(struct mail_conf *conf, const char *pname, enum match_list_kind kind,
	  struct err *err)
{
	const char *pdms =
		mail_conf_str(conf, "parent_domain_matches_subdomains");
	int flags =
		match_list_is_parent_style(pdms, pname) ? MATCH_FLAG_PARENT : 0;
	struct match_list *list = match_list_create(
		pname, kind, flags, mail_conf_str(conf, pname), err);
	const struct argv *warnings;

	if (list == NULL)
		return NULL;
	warnings = match_list_warnings(list);
	for (size_t i = 0; warnings != NULL && i < warnings->count; i++)
		log_warning("%s", warnings->items[i]);
	return list;
}

static bool
is_local_domain(const char *domain, void *ctx)
{
	struct smtpd_check *check = ctx;
	struct err err;
	int ret = match_list_match_domain(check->mydestination, domain, &err);

	if (ret == MATCH_LIST_ERROR) {
		log_warning("%s", err.text);
		check->has_match_error = true;
	}
	return ret == MATCH_LIST_MATCH;
}

static int
check_open_lists(struct smtpd_check *check, struct mail_conf *conf,
		 struct err *err)
{
	struct {
		struct match_list **listp;
		const char *pname;
		enum match_list_kind kind;
	} lists[] = {
		{ &check->mynetworks, "mynetworks", MATCH_LIST_NAMADR },
		{ &check->mydestination, "mydestination", MATCH_LIST_DOMAIN },
		{ &check->relay_domains, "relay_domains", MATCH_LIST_DOMAIN },
		{ &check->virtual_alias_domains, "virtual_alias_domains",
		  MATCH_LIST_DOMAIN },
		{ &check->virtual_mailbox_domains, "virtual_mailbox_domains",
		  MATCH_LIST_DOMAIN },
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		*lists[i].listp =
			list_open(conf, lists[i].pname, lists[i].kind, err);
		if (*lists[i].listp == NULL)
			return -1;
	}
	return 0;
}

static void
check_open_maps(struct smtpd_check *check, struct mail_conf *conf)
{
	struct argv *local = mail_conf_list(conf, "local_recipient_maps");

	check->has_local_rcpt_maps = local->count > 0;
	argv_destroy(&local);
	check->local_rcpt_maps = check_maps_open(conf, "local_recipient_maps");
	check->virtual_alias_maps = check_maps_open(conf, "virtual_alias_maps");
	check->virtual_mailbox_maps =
		check_maps_open(conf, "virtual_mailbox_maps");
	check->relay_rcpt_maps = check_maps_open(conf, "relay_recipient_maps");
	/* Every table unimplemented: do not reject everyone. */
	if (maps_is_empty(check->local_rcpt_maps) &&
	    check->has_local_rcpt_maps) {
		log_warning("local_recipient_maps: no usable table; "
			    "local recipients are not checked");
		check->has_local_rcpt_maps = false;
	}
}

static int
code_of(struct mail_conf *conf, const char *pname)
{
	return (int)mail_conf_int(conf, pname);
}

static void
check_load_settings(struct smtpd_check *check, struct mail_conf *conf)
{
	check->route.allow_percent_hack =
		mail_conf_bool(conf, "allow_percent_hack");
	check->route.swap_bangpath = mail_conf_bool(conf, "swap_bangpath");
	check->route.resolve_dequoted_address =
		mail_conf_bool(conf, "resolve_dequoted_address");
	check->route.is_local_domain = is_local_domain;
	check->route.ctx = check;
	check->myorigin = xstrdup(mail_conf_str(conf, "myorigin"));
	check->relay_code = code_of(conf, "relay_domains_reject_code");
	check->reject_code = code_of(conf, "reject_code");
	check->defer_code = code_of(conf, "defer_code");
	check->non_fqdn_code = code_of(conf, "non_fqdn_reject_code");
	check->bad_name_code = code_of(conf, "invalid_hostname_reject_code");
	check->unk_local_code =
		code_of(conf, "unknown_local_recipient_reject_code");
	check->unk_relay_code =
		code_of(conf, "unknown_relay_recipient_reject_code");
	check->unk_valias_code =
		code_of(conf, "unknown_virtual_alias_reject_code");
	check->unk_vmbox_code =
		code_of(conf, "unknown_virtual_mailbox_reject_code");
	check->is_delayed = mail_conf_bool(conf, "smtpd_delay_reject");
	check->want_unlisted_rcpt =
		mail_conf_bool(conf, "smtpd_reject_unlisted_recipient");
	check->want_unlisted_sender =
		mail_conf_bool(conf, "smtpd_reject_unlisted_sender");
	check->show_table_name =
		mail_conf_bool(conf, "show_user_unknown_table_name");
}

static int
check_parse_lists(struct smtpd_check *check, struct mail_conf *conf,
		  struct err *err)
{
	check->lists = xcalloc(LIST_COUNT, sizeof(*check->lists));
	for (int i = 0; i < LIST_COUNT; i++) {
		struct rlist *list = &check->lists[i];
		struct argv *words = mail_conf_list(conf, list_params[i]);
		int ret;

		list->pname = list_params[i];
		list->id = (enum list_id)i;
		ret = check_rlist_parse(list, words, err);
		argv_destroy(&words);
		if (ret < 0)
			return -1;
	}
	return 0;
}

struct smtpd_check *
smtpd_check_create(struct mail_conf *conf, struct dns_resolver *dns,
		   struct err *err)
{
	struct smtpd_check *check = xcalloc(1, sizeof(*check));

	check_load_settings(check, conf);
	check->dns = dns;
	if (check_dns_settings(check, conf, err) < 0 ||
	    access_settings_load(conf, &check->access, err) < 0 ||
	    check_open_lists(check, conf, err) < 0) {
		smtpd_check_destroy(&check);
		return NULL;
	}
	check_open_maps(check, conf);
	if (check_parse_lists(check, conf, err) < 0) {
		smtpd_check_destroy(&check);
		return NULL;
	}
	if (!rlist_is_relay_safe(&check->lists[LIST_RELAY]) &&
	    !rlist_is_relay_safe(&check->lists[LIST_RECIPIENT])) {
		err_set(err, "in parameter smtpd_relay_restrictions or "
			     "smtpd_recipient_restrictions, specify at least "
			     "one working instance of: "
			     "reject_unauth_destination, "
			     "defer_unauth_destination, reject, defer, "
			     "defer_if_permit or check_relay_domains");
		smtpd_check_destroy(&check);
		return NULL;
	}
	return check;
}

void
smtpd_check_destroy(struct smtpd_check **checkp)
{
	struct smtpd_check *check = *checkp;

	if (check == NULL)
		return;
	for (int i = 0; check->lists != NULL && i < LIST_COUNT; i++)
		check_rlist_free(&check->lists[i]);
	free(check->lists);
	match_list_destroy(&check->mynetworks);
	match_list_destroy(&check->mydestination);
	match_list_destroy(&check->relay_domains);
	match_list_destroy(&check->virtual_alias_domains);
	match_list_destroy(&check->virtual_mailbox_domains);
	maps_destroy(&check->local_rcpt_maps);
	maps_destroy(&check->virtual_alias_maps);
	maps_destroy(&check->virtual_mailbox_maps);
	maps_destroy(&check->relay_rcpt_maps);
	free(check->myorigin);
	check_dns_deinit(check);
	free(check);
	*checkp = NULL;
}

bool
smtpd_check_is_delayed(const struct smtpd_check *check)
{
	return check->is_delayed;
}

bool
smtpd_check_is_mynetworks(struct smtpd_check *check, const char *addr)
{
	struct err err;
	int ret = match_list_match_namadr(check->mynetworks, NULL, addr, &err);

	if (ret == MATCH_LIST_ERROR)
		log_warning("%s", err.text);
	return ret == MATCH_LIST_MATCH;
}

void
check_event(struct check_run *run, const char *event, const char *text)
{
	if (run->req->events_out == NULL)
		return;
	argv_add(run->req->events_out, event);
	argv_add(run->req->events_out, text);
}

enum verdict
check_refuse(struct check_run *run, int code, const char *dsn,
	     const char *fmt, ...)
{
	char dsn_buf[16];
	va_list ap;

	snprintf(dsn_buf, sizeof(dsn_buf), "%s", dsn);
	if (run->defer_if_reject && code / 100 == 5) {
		code = run->check->defer_code;
		dsn_buf[0] = '4';
	}
	strbuf_reset(run->reply);
	(void)strbuf_printf(run->reply, "%d %s ", code, dsn_buf);
	va_start(ap, fmt);
	(void)strbuf_vprintf(run->reply, fmt, ap);
	va_end(ap);
	if (run->warn_next) {
		check_event(run, "reject_warning", run->reply->data);
		strbuf_reset(run->reply);
		return VERDICT_DUNNO;
	}
	return VERDICT_REFUSE;
}

enum verdict
check_config_error(struct check_run *run)
{
	strbuf_set(run->reply, "451 4.3.5 Server configuration error");
	return VERDICT_REFUSE;
}

char *
check_domain_key(const char *addr, const char *myorigin)
{
	struct mail_addr_parts parts;
	char *key;
	size_t len;

	mail_addr_split(addr, &parts);
	key = xstrdup(parts.domain != NULL ? parts.domain : myorigin);
	for (char *cp = key; *cp; cp++)
		if (*cp >= 'A' && *cp <= 'Z')
			*cp = (char)(*cp - 'A' + 'a');
	len = strlen(key);
	if (len > 0 && key[len - 1] == '.')
		key[len - 1] = 0;
	return key;
}

/* Virtual alias, virtual mailbox or relay domain: MATCH_LIST_*. */
static int
is_hosted_domain(struct smtpd_check *check, const char *domain)
{
	struct match_list *lists[] = { check->virtual_alias_domains,
				       check->virtual_mailbox_domains,
				       check->relay_domains };
	struct err err;
	int ret = MATCH_LIST_NO_MATCH;

	for (size_t i = 0; i < 3 && ret == MATCH_LIST_NO_MATCH; i++)
		if ((ret = match_list_match_domain(lists[i], domain, &err)) ==
		    MATCH_LIST_ERROR)
			log_warning("%s", err.text);
	return ret;
}

/*
 * Is rcpt a destination we accept mail for without relay permission?
 * Returns 1 yes, 0 no, -1 a table failed.
 */
int
check_is_auth_destination(struct smtpd_check *check, const char *rcpt)
{
	bool is_routed = false;
	char *final, *domain;
	int ret;

	check->has_match_error = false;
	final = mail_addr_route_resolve(rcpt, &check->route, &is_routed);
	domain = check_domain_key(final, check->myorigin);
	if (check->has_match_error)
		ret = -1;
	else if (is_routed)
		ret = 0;
	else if (is_local_domain(domain, check))
		ret = 1;
	else
		ret = is_hosted_domain(check, domain);
	if (check->has_match_error)
		ret = -1;
	free(final);
	free(domain);
	return ret < 0 ? -1 : ret == MATCH_LIST_MATCH;
}

static enum verdict
step_unauth_dest(struct check_run *run, const struct step *step)
{
	const char *rcpt = run->req->rcpt;
	int code = run->check->relay_code;
	int ret;

	if (rcpt == NULL)
		return VERDICT_DUNNO;
	if ((ret = check_is_auth_destination(run->check, rcpt)) < 0)
		return check_config_error(run);
	if (step->kind == STEP_PERMIT_AUTH_DEST)
		return ret ? VERDICT_PERMIT : VERDICT_DUNNO;
	if (ret)
		return VERDICT_DUNNO;
	if (step->kind == STEP_DEFER_UNAUTH_DEST)
		return check_refuse(run, 454, "4.7.1",
				    "<%s>: Relay access denied", rcpt);
	return check_refuse(run, code, code / 100 == 4 ? "4.7.1" : "5.7.1",
			    "<%s>: Relay access denied", rcpt);
}

/* "<name>: Class rejected" of a generic reject/defer in list id. */
static void
list_reply_name(const struct check_run *run, enum list_id id,
		struct strbuf *out)
{
	const struct smtpd_request *req = run->req;

	switch (id) {
	case LIST_CLIENT:
		(void)strbuf_printf(out, "<%s[%s]>: Client host", req->name,
				    req->addr);
		break;
	case LIST_HELO:
		(void)strbuf_printf(out, "<%s>: Helo command",
				    req->helo ? req->helo : "");
		break;
	case LIST_SENDER:
		(void)strbuf_printf(out, "<%s>: Sender address",
				    req->sender ? req->sender : "");
		break;
	case LIST_DATA:
		strbuf_set(out, "<DATA>: Data command");
		break;
	case LIST_EOD:
		strbuf_set(out, "<END-OF-MESSAGE>: End-of-data");
		break;
	default:
		(void)strbuf_printf(out, "<%s>: Recipient address",
				    req->rcpt ? req->rcpt : "");
		break;
	}
}

static enum verdict
step_generic(struct check_run *run, enum list_id id, enum step_kind kind)
{
	struct strbuf name;
	enum verdict verdict;
	int code = kind == STEP_REJECT ? run->check->reject_code
				       : run->check->defer_code;
	const char *what = kind == STEP_REJECT	     ? "Access denied"
			   : kind == STEP_DEFER	     ? "Try again later"
						     : "defer_if_permit requested";

	strbuf_init(&name, STRBUF_UNLIMITED);
	list_reply_name(run, id, &name);
	if (kind == STEP_DEFER_IF_PERMIT) {
		strbuf_reset(&run->deferred);
		(void)strbuf_printf(&run->deferred, "%d 4.7.1 %s rejected: %s",
				    code, name.data, what);
		strbuf_deinit(&name);
		return VERDICT_DUNNO;
	}
	verdict = check_refuse(run, code, code / 100 == 4 ? "4.7.1" : "5.7.1",
			       "%s rejected: %s", name.data, what);
	strbuf_deinit(&name);
	return verdict;
}

static enum verdict
step_addr(struct check_run *run, const struct step *step)
{
	const struct smtpd_request *req = run->req;

	switch (step->kind) {
	case STEP_NON_FQDN_HELO:
		return check_non_fqdn_helo(run);
	case STEP_INVALID_HELO:
		return check_invalid_helo(run);
	case STEP_NON_FQDN_SENDER:
		return check_non_fqdn_addr(run, req->sender, true);
	case STEP_NON_FQDN_RCPT:
		return check_non_fqdn_addr(run, req->rcpt, false);
	case STEP_UNLISTED_RCPT:
		run->rcpt_maps_done = true;
		return check_unlisted(run, req->rcpt, false);
	default:
		run->sender_maps_done = true;
		return check_unlisted(run, req->sender, true);
	}
}

static enum verdict
step_run(struct check_run *run, enum list_id id, const struct step *step)
{
	switch (step->kind) {
	case STEP_PERMIT:
		return VERDICT_PERMIT;
	case STEP_DUNNO:
		return VERDICT_DUNNO;
	case STEP_REJECT:
	case STEP_DEFER:
	case STEP_DEFER_IF_PERMIT:
		return step_generic(run, id, step->kind);
	case STEP_DEFER_IF_REJECT:
		run->defer_if_reject = true;
		return VERDICT_DUNNO;
	case STEP_PERMIT_MYNETWORKS:
		return smtpd_check_is_mynetworks(run->check, run->req->addr)
			       ? VERDICT_PERMIT
			       : VERDICT_DUNNO;
	case STEP_PERMIT_SASL:
		return run->req->is_sasl_authenticated ? VERDICT_PERMIT
						       : VERDICT_DUNNO;
	case STEP_PERMIT_AUTH_DEST:
	case STEP_REJECT_UNAUTH_DEST:
	case STEP_DEFER_UNAUTH_DEST:
		return step_unauth_dest(run, step);
	case STEP_CHECK_CLIENT_ACCESS:
	case STEP_CHECK_HELO_ACCESS:
	case STEP_CHECK_SENDER_ACCESS:
	case STEP_CHECK_RCPT_ACCESS:
		return check_access(run, id, step);
	case STEP_UNAUTH_PIPELINING:
		if (!run->req->is_pipelining_improper)
			return VERDICT_DUNNO;
		return check_refuse(run, 503, "5.5.0",
				    "<%s>: Client host rejected: Improper use "
				    "of SMTP command pipelining",
				    run->req->namaddr ? run->req->namaddr : "");
	case STEP_UNKNOWN:
	case STEP_WARN_IF_REJECT:
		break;
	default:
		if (check_is_dns_step(step->kind))
			return check_dns_step(run, step);
		return step_addr(run, step);
	}
	log_warning("unknown smtpd restriction: \"%s\"", step->name);
	return check_config_error(run);
}

enum verdict
check_rlist_run(struct check_run *run, const struct rlist *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct step *step = &list->steps[i];
		enum verdict verdict;

		if (step->kind == STEP_WARN_IF_REJECT) {
			run->warn_next = true;
			continue;
		}
		verdict = step_run(run, list->id, step);
		run->warn_next = false;
		if (verdict != VERDICT_DUNNO)
			return verdict;
	}
	return VERDICT_DUNNO;
}

/* Run lists first..last in order; 0 or -1 with run->reply set. */
static int
run_lists(struct smtpd_check *check, const struct smtpd_request *req,
	  struct strbuf *reply_out, const enum list_id *ids, size_t count,
	  bool want_maps)
{
	struct check_run run = { .check = check, .req = req,
				 .reply = reply_out };
	int ret = 0;

	strbuf_reset(reply_out);
	strbuf_init(&run.deferred, STRBUF_UNLIMITED);
	for (size_t i = 0; i < count && ret == 0; i++)
		if (check_rlist_run(&run, &check->lists[ids[i]]) == VERDICT_REFUSE)
			ret = -1;
	if (ret == 0 && want_maps && check->want_unlisted_sender &&
	    !run.sender_maps_done &&
	    check_unlisted(&run, req->sender, true) == VERDICT_REFUSE)
		ret = -1;
	if (ret == 0 && want_maps && check->want_unlisted_rcpt &&
	    !run.rcpt_maps_done &&
	    check_unlisted(&run, req->rcpt, false) == VERDICT_REFUSE)
		ret = -1;
	if (ret == 0 && run.deferred.len > 0) {
		strbuf_set(reply_out, run.deferred.data);
		ret = -1;
	}
	strbuf_deinit(&run.deferred);
	return ret;
}

int
smtpd_check_helo(struct smtpd_check *check, const struct smtpd_request *req,
		 struct strbuf *reply_out)
{
	static const enum list_id ids[] = { LIST_HELO };

	if (check->is_delayed)
		return 0;
	return run_lists(check, req, reply_out, ids, 1, false);
}

int
smtpd_check_mail(struct smtpd_check *check, const struct smtpd_request *req,
		 struct strbuf *reply_out)
{
	static const enum list_id ids[] = { LIST_CLIENT, LIST_SENDER };

	if (check->is_delayed)
		return 0;
	return run_lists(check, req, reply_out, ids, 2, false);
}

int
smtpd_check_rcpt(struct smtpd_check *check, const struct smtpd_request *req,
		 struct strbuf *reply_out)
{
	static const enum list_id all[] = { LIST_CLIENT, LIST_HELO,
					    LIST_SENDER, LIST_RELAY,
					    LIST_RECIPIENT };

	if (check->is_delayed)
		return run_lists(check, req, reply_out, all, 5, true);
	return run_lists(check, req, reply_out, all + 3, 2, true);
}

int
smtpd_check_data(struct smtpd_check *check, const struct smtpd_request *req,
		 struct strbuf *reply_out)
{
	static const enum list_id ids[] = { LIST_DATA };

	return run_lists(check, req, reply_out, ids, 1, false);
}

int
smtpd_check_eod(struct smtpd_check *check, const struct smtpd_request *req,
		struct strbuf *reply_out)
{
	static const enum list_id ids[] = { LIST_EOD };

	return run_lists(check, req, reply_out, ids, 1, false);
}
