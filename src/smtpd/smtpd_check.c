/*
 * smtpd_check.c - smtpd's access policy: the restriction lists.
 *
 * Each list is parsed once into steps. A request walks
 * smtpd_relay_restrictions, then smtpd_recipient_restrictions; in each,
 * the first step that permits ends that list, the first that refuses ends
 * the request. The relay test resolves routing in the local part exactly
 * as trivial-rewrite will (mail_addr_route_resolve), so the percent hack,
 * bang paths and quoted '@' cannot smuggle a remote destination past it.
 * Security: sees untrusted addresses; a table that fails defers (451),
 * never permits.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"

#include "global/access_map.h"
#include "global/mail_addr.h"
#include "global/match_list.h"

#include "smtpd/smtpd_check.h"

enum step_kind {
	STEP_UNKNOWN,
	STEP_PERMIT,
	STEP_REJECT,
	STEP_DEFER,
	STEP_PERMIT_MYNETWORKS,
	STEP_PERMIT_SASL,
	STEP_PERMIT_AUTH_DEST,
	STEP_REJECT_UNAUTH_DEST,
	STEP_DEFER_UNAUTH_DEST,
	STEP_CHECK_RCPT_ACCESS,
};

static const struct {
	const char *name;
	enum step_kind kind;
	bool is_relay_safe; /* stops relaying: Postfix's startup check */
} step_names[] = {
	{ "permit", STEP_PERMIT, false },
	{ "reject", STEP_REJECT, true },
	{ "defer", STEP_DEFER, true },
	{ "permit_mynetworks", STEP_PERMIT_MYNETWORKS, false },
	{ "permit_sasl_authenticated", STEP_PERMIT_SASL, false },
	{ "permit_auth_destination", STEP_PERMIT_AUTH_DEST, false },
	{ "reject_unauth_destination", STEP_REJECT_UNAUTH_DEST, true },
	{ "defer_unauth_destination", STEP_DEFER_UNAUTH_DEST, true },
	{ "check_recipient_access", STEP_CHECK_RCPT_ACCESS, false },
};

struct step {
	enum step_kind kind;
	char *name;         /* as written, for warnings */
	struct dict *table; /* check_recipient_access */
};

struct rlist {
	const char *pname;
	struct step *steps;
	size_t count;
};

struct smtpd_check {
	struct rlist relay;
	struct rlist recipient;
	struct match_list *mynetworks;
	struct match_list *mydestination;
	struct match_list *relay_domains;
	struct mail_addr_route_opts route;
	struct access_settings access;
	char *myorigin;
	int relay_code;       /* relay_domains_reject_code */
	bool has_match_error; /* set by is_local during one resolve */
};

/* The outcome of one step or list. */
enum verdict {
	VERDICT_DUNNO,
	VERDICT_PERMIT,
	VERDICT_REFUSE,
};

static int
step_parse(struct step *step, const char *word, const struct argv *words,
	   size_t *ip, const char *pname, struct err *err)
{
	step->name = xstrdup(word);
	step->kind = STEP_UNKNOWN;
	for (size_t i = 0; i < sizeof(step_names) / sizeof(step_names[0]); i++)
		if (strcasecmp(word, step_names[i].name) == 0)
			step->kind = step_names[i].kind;
	if (step->kind != STEP_CHECK_RCPT_ACCESS)
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

static int
rlist_parse(struct rlist *list, struct mail_conf *conf, const char *pname,
	    struct err *err)
{
	struct argv *words = mail_conf_list(conf, pname);
	int ret = 0;

	list->pname = pname;
	list->steps = xcalloc(words->count + 1, sizeof(*list->steps));
	for (size_t i = 0; i < words->count && ret == 0; i++)
		ret = step_parse(&list->steps[list->count++], words->items[i],
				 words, &i, pname, err);
	argv_destroy(&words);
	return ret;
}

static void
rlist_free(struct rlist *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->steps[i].name);
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
	check->mynetworks =
		list_open(conf, "mynetworks", MATCH_LIST_NAMADR, err);
	if (check->mynetworks == NULL)
		return -1;
	check->mydestination =
		list_open(conf, "mydestination", MATCH_LIST_DOMAIN, err);
	if (check->mydestination == NULL)
		return -1;
	check->relay_domains =
		list_open(conf, "relay_domains", MATCH_LIST_DOMAIN, err);
	return check->relay_domains == NULL ? -1 : 0;
}

struct smtpd_check *
smtpd_check_create(struct mail_conf *conf, struct err *err)
{
	struct smtpd_check *check = xcalloc(1, sizeof(*check));

	check->route.allow_percent_hack =
		mail_conf_bool(conf, "allow_percent_hack");
	check->route.swap_bangpath = mail_conf_bool(conf, "swap_bangpath");
	check->route.resolve_dequoted_address =
		mail_conf_bool(conf, "resolve_dequoted_address");
	check->route.is_local_domain = is_local_domain;
	check->route.ctx = check;
	check->myorigin = xstrdup(mail_conf_str(conf, "myorigin"));
	check->relay_code =
		(int)mail_conf_int(conf, "relay_domains_reject_code");
	if (access_settings_load(conf, &check->access, err) < 0 ||
	    check_open_lists(check, conf, err) < 0 ||
	    rlist_parse(&check->relay, conf, "smtpd_relay_restrictions", err) <
		    0 ||
	    rlist_parse(&check->recipient, conf, "smtpd_recipient_restrictions",
			err) < 0) {
		smtpd_check_destroy(&check);
		return NULL;
	}
	if (!rlist_is_relay_safe(&check->relay) &&
	    !rlist_is_relay_safe(&check->recipient)) {
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
	rlist_free(&check->relay);
	rlist_free(&check->recipient);
	match_list_destroy(&check->mynetworks);
	match_list_destroy(&check->mydestination);
	match_list_destroy(&check->relay_domains);
	free(check->myorigin);
	free(check);
	*checkp = NULL;
}

bool
smtpd_check_is_mynetworks(struct smtpd_check *check,
			  const struct smtpd_client *client)
{
	struct err err;
	int ret = match_list_match_namadr(check->mynetworks, NULL, client->addr,
					  &err);

	if (ret == MATCH_LIST_ERROR)
		log_warning("%s", err.text);
	return ret == MATCH_LIST_MATCH;
}

static void
config_error(struct strbuf *reply_out)
{
	strbuf_set(reply_out, "451 4.3.5 Server configuration error");
}

/* The domain as match lists want it: lowercase, no trailing dot. */
static char *
domain_key(const char *addr, const char *myorigin)
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

/*
 * Is rcpt a destination we accept mail for without relay permission?
 * Returns 1 yes, 0 no, -1 a table failed.
 */
static int
is_auth_destination(struct smtpd_check *check, const char *rcpt)
{
	bool is_routed = false;
	char *final, *domain;
	int ret;
	struct err err;

	check->has_match_error = false;
	final = mail_addr_route_resolve(rcpt, &check->route, &is_routed);
	domain = domain_key(final, check->myorigin);
	if (check->has_match_error)
		ret = -1;
	else if (is_routed)
		ret = 0;
	else if (is_local_domain(domain, check))
		ret = 1;
	else if ((ret = match_list_match_domain(check->relay_domains, domain,
						&err)) == MATCH_LIST_ERROR)
		log_warning("%s", err.text);
	if (check->has_match_error)
		ret = -1;
	free(final);
	free(domain);
	return ret < 0 ? -1 : ret == MATCH_LIST_MATCH;
}

static enum verdict
step_unauth_dest(struct smtpd_check *check, const struct step *step,
		 const char *rcpt, struct strbuf *reply_out)
{
	int ret = is_auth_destination(check, rcpt);

	if (ret < 0) {
		config_error(reply_out);
		return VERDICT_REFUSE;
	}
	if (step->kind == STEP_PERMIT_AUTH_DEST)
		return ret ? VERDICT_PERMIT : VERDICT_DUNNO;
	if (ret)
		return VERDICT_DUNNO;
	if (step->kind == STEP_DEFER_UNAUTH_DEST)
		strbuf_printf(reply_out, "454 4.7.1 <%s>: Relay access denied",
			      rcpt);
	else
		strbuf_printf(reply_out, "%d %s <%s>: Relay access denied",
			      check->relay_code,
			      check->relay_code / 100 == 4 ? "4.7.1" : "5.7.1",
			      rcpt);
	return VERDICT_REFUSE;
}

static enum verdict
step_rcpt_access(struct smtpd_check *check, const struct step *step,
		 const char *rcpt, struct strbuf *reply_out)
{
	struct access_result result = { 0 };
	struct err err;
	enum verdict verdict = VERDICT_DUNNO;
	int ret =
		access_map_check_address(step->table, &check->access,
					 ACCESS_RECIPIENT, rcpt, &result, &err);

	if (ret == DICT_ERROR)
		log_warning("%s: %s", step->name, err.text);
	if (ret != DICT_NOTFOUND && result.warning != NULL)
		log_warning("%s", result.warning);
	if (ret == DICT_NOTFOUND) {
		verdict = VERDICT_DUNNO;
	} else if (result.action == ACCESS_OK) {
		verdict = VERDICT_PERMIT;
	} else if (result.action == ACCESS_REJECT) {
		strbuf_printf(reply_out, "%d %s %s", result.code, result.dsn,
			      result.text);
		verdict = VERDICT_REFUSE;
	} else if (result.action != ACCESS_DUNNO) {
		log_warning("%s: action of key %s is not supported yet",
			    step->name, result.key ? result.key : "?");
		config_error(reply_out);
		verdict = VERDICT_REFUSE;
	}
	access_result_deinit(&result);
	return verdict;
}

static enum verdict
step_run(struct smtpd_check *check, const struct step *step,
	 const struct smtpd_client *client, const char *rcpt,
	 struct strbuf *reply_out)
{
	switch (step->kind) {
	case STEP_PERMIT:
		return VERDICT_PERMIT;
	case STEP_REJECT:
		strbuf_printf(reply_out,
			      "554 5.7.1 <%s>: Recipient address rejected: "
			      "Access denied",
			      rcpt);
		return VERDICT_REFUSE;
	case STEP_DEFER:
		strbuf_printf(reply_out,
			      "450 4.7.1 <%s>: Recipient address rejected: "
			      "Try again later",
			      rcpt);
		return VERDICT_REFUSE;
	case STEP_PERMIT_MYNETWORKS:
		return smtpd_check_is_mynetworks(check, client) ? VERDICT_PERMIT
								: VERDICT_DUNNO;
	case STEP_PERMIT_SASL:
		return client->is_sasl_authenticated ? VERDICT_PERMIT
						     : VERDICT_DUNNO;
	case STEP_PERMIT_AUTH_DEST:
	case STEP_REJECT_UNAUTH_DEST:
	case STEP_DEFER_UNAUTH_DEST:
		return step_unauth_dest(check, step, rcpt, reply_out);
	case STEP_CHECK_RCPT_ACCESS:
		return step_rcpt_access(check, step, rcpt, reply_out);
	case STEP_UNKNOWN:
		break;
	}
	log_warning("unknown smtpd restriction: \"%s\"", step->name);
	config_error(reply_out);
	return VERDICT_REFUSE;
}

static enum verdict
rlist_run(struct smtpd_check *check, const struct rlist *list,
	  const struct smtpd_client *client, const char *rcpt,
	  struct strbuf *reply_out)
{
	for (size_t i = 0; i < list->count; i++) {
		enum verdict verdict = step_run(check, &list->steps[i], client,
						rcpt, reply_out);

		if (verdict != VERDICT_DUNNO)
			return verdict;
	}
	return VERDICT_DUNNO;
}

int
smtpd_check_rcpt(struct smtpd_check *check, const struct smtpd_client *client,
		 const char *rcpt, struct strbuf *reply_out)
{
	strbuf_reset(reply_out);
	if (rlist_run(check, &check->relay, client, rcpt, reply_out) ==
	    VERDICT_REFUSE)
		return -1;
	if (rlist_run(check, &check->recipient, client, rcpt, reply_out) ==
	    VERDICT_REFUSE)
		return -1;
	return 0;
}
