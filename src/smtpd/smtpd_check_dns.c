/*
 * smtpd_check_dns.c - smtpd's DNS-based restrictions.
 *
 * DNS blocklists and allowlists (reject_rbl_client, reject_rhsbl_client,
 * _reverse_client, _sender, _helo, _recipient, permit_dnswl_client),
 * whose reply comes from default_rbl_reply or rbl_reply_maps expanded
 * with $rbl_* and the request's attributes; and the existence tests
 * reject_unknown_sender_domain, _recipient_domain (MX, then A, then AAAA;
 * null MX refused), _helo_hostname and _client_hostname /
 * _reverse_client_hostname (from the session's reverse lookup). Replies,
 * codes and log lines are Postfix 3.7's. A DNSBL that cannot be reached
 * is logged and ignored; the existence tests defer on DNS trouble as
 * unknown_*_tempfail_action says.
 * Security: names, addresses and DNS data (TXT text) are untrusted: TXT
 * text is made printable and bounded, and never expanded as a template.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "global/conf_expand.h"
#include "global/dns.h"

#include "smtpd/smtpd_check_impl.h"

/* The longest TXT text put in a reply, as in Postfix. */
#define RBL_TXT_LIMIT 500
#define RBL_REPLY_LIMIT 4096

/* ---- settings -------------------------------------------------------- */

static int
tempfail_action(struct mail_conf *conf, const char *pname, bool *is_defer_out,
		struct err *err)
{
	const char *value = mail_conf_str(conf, pname);

	if (strcasecmp(value, "defer_if_permit") == 0)
		*is_defer_out = false;
	else if (strcasecmp(value, "defer") == 0)
		*is_defer_out = true;
	else {
		err_set(err, "invalid %s value: \"%s\"", pname, value);
		return -1;
	}
	return 0;
}

int
check_dns_settings(struct smtpd_check *check, struct mail_conf *conf,
		   struct err *err)
{
	const char *raw = mail_conf_raw(conf, "default_rbl_reply");

	if (raw == NULL)
		raw = mail_conf_default(conf, "default_rbl_reply");
	check->rbl_reply = xstrdup(raw != NULL ? raw : "");
	check->rbl_code = (int)mail_conf_int(conf, "maps_rbl_reject_code");
	check->unk_addr_code =
		(int)mail_conf_int(conf, "unknown_address_reject_code");
	check->unk_client_code =
		(int)mail_conf_int(conf, "unknown_client_reject_code");
	check->unk_name_code =
		(int)mail_conf_int(conf, "unknown_hostname_reject_code");
	check->rbl_reply_maps = check_maps_open(conf, "rbl_reply_maps");
	if (tempfail_action(conf, "unknown_address_tempfail_action",
			    &check->is_addr_tf_defer, err) < 0 ||
	    tempfail_action(conf, "unknown_helo_hostname_tempfail_action",
			    &check->is_helo_tf_defer, err) < 0)
		return -1;
	return 0;
}

void
check_dns_deinit(struct smtpd_check *check)
{
	free(check->rbl_reply);
	check->rbl_reply = NULL;
	maps_destroy(&check->rbl_reply_maps);
}

bool
check_is_dns_step(enum step_kind kind)
{
	return kind >= STEP_RBL_CLIENT && kind <= STEP_UNKNOWN_REVERSE_CLIENT;
}

bool
check_dns_step_has_arg(enum step_kind kind)
{
	return kind >= STEP_RBL_CLIENT && kind <= STEP_DNSWL_CLIENT;
}

void
check_dsn_for(int code, const char *dsn, char out[16])
{
	snprintf(out, 16, "%s", dsn);
	out[0] = (char)('0' + code / 100);
}

/*
 * A temporary failure: refused at once ("defer"), or remembered and
 * given only if the request would otherwise be accepted.
 */
static enum verdict
check_tempfail(struct check_run *run, bool is_defer, const char *dsn,
	       const char *what, const char *class, const char *why)
{
	if (is_defer)
		return check_refuse(run, 450, dsn, "<%s>: %s rejected: %s",
				    what, class, why);
	if (run->deferred.len == 0)
		(void)strbuf_printf(&run->deferred,
				    "450 %s <%s>: %s rejected: %s", dsn, what,
				    class, why);
	return VERDICT_DUNNO;
}

/* ---- DNS list lookups ------------------------------------------------ */

/* One octet pattern: "N", or "[" N or N..M items separated by ";" "]". */
static int
octet_match(const char **cpp, unsigned value)
{
	const char *cp = *cpp;
	bool is_set = *cp == '[', is_match = false;
	char *end;

	if (is_set)
		cp++;
	do {
		unsigned long lo, hi;

		if (!isdigit((unsigned char)*cp))
			return -1;
		lo = hi = strtoul(cp, &end, 10);
		cp = end;
		if (is_set && strncmp(cp, "..", 2) == 0) {
			if (!isdigit((unsigned char)cp[2]))
				return -1;
			hi = strtoul(cp + 2, &end, 10);
			cp = end;
		}
		if (lo > 255 || hi > 255 || lo > hi)
			return -1;
		is_match |= value >= lo && value <= hi;
	} while (is_set && *cp == ';' && *++cp);
	if (is_set && *cp++ != ']')
		return -1;
	*cpp = cp;
	return is_match;
}

/* Does the A record addr match the "=d.d.d.d" filter? 1, 0, -1 bad. */
static int
filter_match(const char *filter, const uint8_t addr[4])
{
	const char *cp = filter;
	bool is_match = true;

	for (int i = 0; i < 4; i++) {
		int ret = octet_match(&cp, addr[i]);

		if (ret < 0 || (i < 3 && *cp++ != '.'))
			return -1;
		is_match &= ret == 1;
	}
	return *cp == 0 ? is_match : -1;
}

enum dnsxl_result {
	DNSXL_LISTED,
	DNSXL_NOT_LISTED,
	DNSXL_RETRY,  /* DNS trouble: logged */
	DNSXL_CONFIG, /* bad filter: logged */
};

/* The TXT text of qname, printable, records joined with " / ". */
static char *
dnsxl_txt(struct dns_resolver *dns, const char *qname)
{
	struct dns_answer *answer = NULL;
	struct strbuf text;
	struct err why;
	char *result;

	if (dns_lookup(dns, qname, DNS_T_TXT, &answer, &why) != DNS_OK)
		return NULL;
	strbuf_init(&text, STRBUF_UNLIMITED);
	for (size_t i = 0; i < answer->count && text.len < RBL_TXT_LIMIT; i++) {
		const struct dns_rr *rr = &answer->rrs[i];

		if (text.len > 0)
			(void)strbuf_append_str(&text, " / ");
		for (size_t j = 0; j < rr->data_len && text.len < RBL_TXT_LIMIT;
		     j++) {
			unsigned char c = rr->data[j];

			(void)strbuf_append_char(
				&text, c < 0x20 || c >= 0x7f ? '?' : (char)c);
		}
	}
	dns_answer_free(&answer);
	result = text.len > 0 ? xstrdup(text.data) : NULL;
	strbuf_deinit(&text);
	return result;
}

/*
 * Is prefix listed under arg ("domain[=d.d.d.d]")? On DNSXL_LISTED and
 * txt_out not NULL, *txt_out is the TXT text or NULL.
 */
static enum dnsxl_result
dnsxl_lookup(struct smtpd_check *check, const char *prefix, const char *arg,
	     char **txt_out)
{
	const char *eq = strchr(arg, '=');
	char *qname = eq ? xasprintf("%s.%.*s", prefix, (int)(eq - arg), arg)
			 : xasprintf("%s.%s", prefix, arg);
	enum dnsxl_result result = DNSXL_NOT_LISTED;
	struct dns_answer *answer = NULL;
	struct err why;
	enum dns_status status;

	status = dns_lookup(check->dns, qname, DNS_T_A, &answer, &why);
	if (status == DNS_RETRY || status == DNS_FAIL) {
		log_warning("%s: RBL lookup error: %s", qname, why.text);
		result = DNSXL_RETRY;
	}
	for (size_t i = 0; status == DNS_OK && i < answer->count &&
			   result == DNSXL_NOT_LISTED;
	     i++) {
		int ret;

		if (answer->rrs[i].type != DNS_T_A ||
		    answer->rrs[i].data_len != 4)
			continue;
		ret = eq ? filter_match(eq + 1, answer->rrs[i].data) : 1;
		if (ret < 0) {
			log_warning("%s: bad DNS list reply filter \"%s\"", arg,
				    eq + 1);
			result = DNSXL_CONFIG;
		} else if (ret > 0) {
			result = DNSXL_LISTED;
		}
	}
	dns_answer_free(&answer);
	if (result == DNSXL_LISTED && txt_out != NULL)
		*txt_out = dnsxl_txt(check->dns, qname);
	free(qname);
	return result;
}

/* The reversed client address: "4.3.2.1", or 32 nibbles for IPv6. */
static char *
addr_reversed(const char *addr)
{
	uint8_t bytes[16];
	struct strbuf out;
	char *result;

	if (inet_pton(AF_INET, addr, bytes) == 1)
		return xasprintf("%u.%u.%u.%u", bytes[3], bytes[2], bytes[1],
				 bytes[0]);
	if (inet_pton(AF_INET6, addr, bytes) != 1)
		return NULL;
	strbuf_init(&out, STRBUF_UNLIMITED);
	for (int i = 15; i >= 0; i--)
		(void)strbuf_printf(&out, "%s%x.%x", i < 15 ? "." : "",
				    bytes[i] & 0xf, bytes[i] >> 4);
	result = xstrdup(out.data);
	strbuf_deinit(&out);
	return result;
}

/* ---- the reply template ---------------------------------------------- */

struct rbl_expand {
	const struct smtpd_request *req;
	const char *class, *what, *domain, *txt;
	char code[8];
	struct argv *values; /* owns what lookup hands out */
};

/* A value for the template: '$' doubled, so it is never expanded. */
static const char *
rbl_value(struct rbl_expand *ex, const char *value)
{
	struct strbuf text;

	strbuf_init(&text, STRBUF_UNLIMITED);
	for (const char *cp = value; *cp; cp++) {
		if (*cp == '$')
			(void)strbuf_append_char(&text, '$');
		(void)strbuf_append_char(&text, *cp);
	}
	argv_add(ex->values, text.data);
	strbuf_deinit(&text);
	return ex->values->items[ex->values->count - 1];
}

/* "user" of "user@domain" ("<>" for the null address), or "domain". */
static const char *
addr_part(struct rbl_expand *ex, const char *addr, bool want_domain)
{
	const char *at;
	char *copy;
	const char *result;

	if (addr == NULL || *addr == 0)
		return want_domain ? "" : "<>";
	at = strrchr(addr, '@');
	if (want_domain)
		return at ? at + 1 : "";
	copy = at ? xstrndup(addr, (size_t)(at - addr)) : xstrdup(addr);
	result = rbl_value(ex, copy);
	free(copy);
	return result;
}

static const char *
rbl_attr(struct rbl_expand *ex, const char *name)
{
	const struct smtpd_request *req = ex->req;
	const char *sender = req->sender, *rcpt = req->rcpt;

	if (strcmp(name, "client") == 0)
		return req->namaddr;
	if (strcmp(name, "client_address") == 0)
		return req->addr;
	if (strcmp(name, "client_name") == 0)
		return req->name;
	if (strcmp(name, "reverse_client_name") == 0)
		return req->reverse_name ? req->reverse_name : req->name;
	if (strcmp(name, "helo_name") == 0)
		return req->helo ? req->helo : "";
	if (strcmp(name, "rbl_class") == 0)
		return ex->class;
	if (strcmp(name, "rbl_code") == 0)
		return ex->code;
	if (strcmp(name, "rbl_domain") == 0)
		return ex->domain;
	if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
		return ex->txt ? ex->txt : "";
	if (strcmp(name, "rbl_what") == 0)
		return ex->what;
	if (strcmp(name, "sender") == 0)
		return sender && *sender ? sender : "<>";
	if (strcmp(name, "sender_name") == 0)
		return addr_part(ex, sender, false);
	if (strcmp(name, "sender_domain") == 0)
		return addr_part(ex, sender, true);
	if (strcmp(name, "recipient") == 0)
		return rcpt && *rcpt ? rcpt : "<>";
	if (strcmp(name, "recipient_name") == 0)
		return addr_part(ex, rcpt, false);
	if (strcmp(name, "recipient_domain") == 0)
		return addr_part(ex, rcpt, true);
	return NULL;
}

static int
rbl_lookup(void *ctx, const char *name, const char **value_out, struct err *err)
{
	struct rbl_expand *ex = ctx;
	const char *value = rbl_attr(ex, name);

	(void)err;
	if (value == NULL) {
		log_warning("unknown macro name \"%s\" in expansion request",
			    name);
		return 0;
	}
	*value_out = rbl_value(ex, value);
	return 1;
}

/* The template for arg: rbl_reply_maps, else default_rbl_reply. */
static int
rbl_template(struct smtpd_check *check, const char *arg,
	     const char **template_out)
{
	struct err err;
	int ret;

	*template_out = check->rbl_reply;
	if (maps_is_empty(check->rbl_reply_maps))
		return 0;
	ret = maps_find(check->rbl_reply_maps, arg, false, template_out, &err);
	if (ret == DICT_ERROR) {
		log_warning("%s", err.text);
		return -1;
	}
	if (ret == DICT_NOTFOUND)
		*template_out = check->rbl_reply;
	return 0;
}

/* "CODE [D.D.D] text": the refusal, or a configuration error. */
static enum verdict
rbl_refuse_with(struct check_run *run, const char *text)
{
	const char *cp;
	char dsn[16];
	int code;
	size_t len;

	if (!isdigit((unsigned char)text[0]) ||
	    !isdigit((unsigned char)text[1]) ||
	    !isdigit((unsigned char)text[2]) ||
	    (text[3] != ' ' && text[3] != 0) ||
	    (text[0] != '4' && text[0] != '5')) {
		log_warning("rbl response code configuration error: %s", text);
		return check_config_error(run);
	}
	code = atoi(text);
	cp = text[3] == 0 ? text + 3 : text + 4;
	len = strspn(cp, "0123456789.");
	check_dsn_for(code, "5.7.1", dsn);
	if (len >= 5 && len < sizeof(dsn) && (*cp == '4' || *cp == '5') &&
	    cp[1] == '.' && (cp[len] == ' ' || cp[len] == 0)) {
		char given[16];

		snprintf(given, sizeof(given), "%.*s", (int)len, cp);
		check_dsn_for(code, given, dsn);
		cp += len;
	}
	while (*cp == ' ')
		cp++;
	return check_refuse(run, code, dsn, "%s", cp);
}

static enum verdict
rbl_refuse(struct check_run *run, const char *arg, const char *class,
	   const char *what, const char *txt)
{
	struct rbl_expand ex = {
		.req = run->req, .class = class, .what = what, .txt = txt
	};
	struct conf_expand_ops ops = { .lookup = rbl_lookup,
				       .ctx = &ex,
				       .max_depth = 10 };
	const char *template;
	char *domain = xstrndup(arg, strcspn(arg, "="));
	struct strbuf reply;
	enum verdict verdict;
	struct err err;

	ex.domain = domain;
	snprintf(ex.code, sizeof(ex.code), "%d", run->check->rbl_code);
	ex.values = argv_create();
	strbuf_init(&reply, RBL_REPLY_LIMIT);
	if (rbl_template(run->check, arg, &template) < 0) {
		verdict = check_config_error(run);
	} else if (conf_expand(&ops, NULL, template, &reply, &err) < 0) {
		log_warning("%s: bad rbl reply template for domain %s: %s",
			    "rbl_reply_maps", domain, err.text);
		verdict = check_config_error(run);
	} else {
		verdict = rbl_refuse_with(run, reply.data);
	}
	strbuf_deinit(&reply);
	argv_destroy(&ex.values);
	free(domain);
	return verdict;
}

/* ---- the DNS list steps ---------------------------------------------- */

/* A name usable in a DNS list query: no literal, trailing dot removed. */
static char *
rhsbl_name(const char *name)
{
	char *copy;
	size_t len;

	if (name == NULL || *name == 0 || *name == '[')
		return NULL;
	copy = xstrdup(name);
	len = strlen(copy);
	if (len > 1 && copy[len - 1] == '.')
		copy[len - 1] = 0;
	if (!mail_addr_domain_is_valid(copy, strlen(copy), false)) {
		free(copy);
		return NULL;
	}
	return copy;
}

/* The routed domain of a sender or recipient address, or NULL. */
static char *
addr_domain(struct smtpd_check *check, const char *addr)
{
	bool is_routed = false;
	char *final, *domain, *name;

	if (addr == NULL || *addr == 0)
		return NULL;
	final = mail_addr_route_resolve(addr, &check->route, &is_routed);
	domain = check_domain_key(final, check->myorigin);
	free(final);
	name = rhsbl_name(domain);
	free(domain);
	return name;
}

static enum verdict
step_rbl(struct check_run *run, const struct step *step, const char *prefix,
	 const char *class, const char *what)
{
	char *txt = NULL;
	enum verdict verdict = VERDICT_DUNNO;

	switch (dnsxl_lookup(run->check, prefix, step->arg, &txt)) {
	case DNSXL_LISTED:
		verdict = rbl_refuse(run, step->arg, class, what, txt);
		break;
	case DNSXL_CONFIG:
		verdict = check_config_error(run);
		break;
	default:
		break;
	}
	free(txt);
	return verdict;
}

static enum verdict
step_dnswl(struct check_run *run, const struct step *step)
{
	const struct smtpd_request *req = run->req;
	char *prefix = addr_reversed(req->addr);
	enum verdict verdict = VERDICT_DUNNO;

	/* Never a way around reject_unauth_destination. */
	if (prefix == NULL ||
	    (req->rcpt != NULL &&
	     check_is_auth_destination(run->check, req->rcpt) != 1)) {
		free(prefix);
		return VERDICT_DUNNO;
	}
	switch (dnsxl_lookup(run->check, prefix, step->arg, NULL)) {
	case DNSXL_LISTED:
		verdict = VERDICT_PERMIT;
		break;
	case DNSXL_RETRY:
		run->defer_if_reject = true;
		break;
	case DNSXL_CONFIG:
		verdict = check_config_error(run);
		break;
	default:
		break;
	}
	free(prefix);
	return verdict;
}

static enum verdict
step_dnsbl(struct check_run *run, const struct step *step)
{
	const struct smtpd_request *req = run->req;
	const char *class = "Client host", *what = NULL;
	char *prefix = NULL;
	enum verdict verdict = VERDICT_DUNNO;

	switch (step->kind) {
	case STEP_RBL_CLIENT:
		prefix = addr_reversed(req->addr);
		what = req->addr;
		break;
	case STEP_RHSBL_CLIENT:
		if (!req->is_name_unknown)
			prefix = rhsbl_name(what = req->name);
		break;
	case STEP_RHSBL_REVERSE_CLIENT:
		class = "Unverified Client host";
		if (!req->is_reverse_unknown)
			prefix = rhsbl_name(what = req->reverse_name);
		break;
	case STEP_RHSBL_HELO:
		class = "Helo command";
		prefix = rhsbl_name(what = req->helo);
		break;
	case STEP_RHSBL_SENDER:
		class = "Sender address";
		prefix = addr_domain(run->check, what = req->sender);
		break;
	default:
		class = "Recipient address";
		prefix = addr_domain(run->check, what = req->rcpt);
		break;
	}
	if (prefix != NULL)
		verdict = step_rbl(run, step, prefix, class, what);
	free(prefix);
	return verdict;
}

/* ---- existence tests ------------------------------------------------- */

/* Any record of the types? DNS_OK, DNS_RETRY (any failed for now) or
 * DNS_NOTFOUND. */
static enum dns_status
any_record(struct dns_resolver *dns, const char *name, const unsigned *types,
	   size_t count)
{
	enum dns_status result = DNS_NOTFOUND;

	for (size_t i = 0; i < count; i++) {
		struct dns_answer *answer = NULL;
		struct err why;
		enum dns_status status =
			dns_lookup(dns, name, types[i], &answer, &why);

		dns_answer_free(&answer);
		if (status == DNS_OK)
			return DNS_OK;
		if (status == DNS_RETRY || status == DNS_FAIL)
			result = DNS_RETRY;
	}
	return result;
}

/* Postfix's mail host test: MX (null MX says no), else A, else AAAA. */
static enum dns_status
mailhost_lookup(struct dns_resolver *dns, const char *domain)
{
	static const unsigned addr_types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_mx_list *list = NULL;
	struct err why;
	enum dns_status status;
	bool has_mx;

	status = dns_lookup_mx(dns, domain, &list, &why);
	has_mx = status == DNS_OK && !list->is_implicit && list->count > 0;
	dns_mx_list_free(&list);
	if (status == DNS_NULLMX || has_mx)
		return status;
	if (status == DNS_RETRY || status == DNS_FAIL)
		return DNS_RETRY;
	return any_record(dns, domain, addr_types, 2);
}

static enum verdict
step_unknown_domain(struct check_run *run, bool is_sender)
{
	struct smtpd_check *check = run->check;
	const char *addr = is_sender ? run->req->sender : run->req->rcpt;
	const char *class = is_sender ? "Sender address" : "Recipient address";
	const char *dsn = is_sender ? "4.1.8" : "4.1.2";
	char *domain, dsn_buf[16];
	enum dns_status status = DNS_NOTFOUND;
	enum verdict verdict = VERDICT_DUNNO;
	bool is_routed = false;
	char *final;
	int is_final;

	if (addr == NULL || *addr == 0)
		return VERDICT_DUNNO;
	final = mail_addr_route_resolve(addr, &check->route, &is_routed);
	domain = check_domain_key(final, check->myorigin);
	free(final);
	is_final = is_routed ? 0 : check_is_final_domain(check, domain);
	if (is_final < 0) {
		free(domain);
		return check_config_error(run);
	}
	if (is_final || *domain == '[') {
		free(domain);
		return VERDICT_DUNNO;
	}
	if (mail_addr_domain_is_valid(domain, strlen(domain), false))
		status = mailhost_lookup(check->dns, domain);
	if (status == DNS_NULLMX)
		verdict = check_refuse(
			run, is_sender ? 550 : 556,
			is_sender ? "5.7.27" : "5.1.10",
			"<%s>: %s rejected: Domain %s does not accept mail "
			"(nullMX)",
			addr, class, domain);
	else if (status == DNS_RETRY)
		verdict = check_tempfail(run, check->is_addr_tf_defer, dsn,
					 addr, class, "Domain not found");
	else if (status != DNS_OK) {
		check_dsn_for(check->unk_addr_code, dsn, dsn_buf);
		verdict = check_refuse(run, check->unk_addr_code, dsn_buf,
				       "<%s>: %s rejected: Domain not found",
				       addr, class);
	}
	free(domain);
	return verdict;
}

static enum verdict
step_unknown_helo(struct check_run *run)
{
	static const unsigned types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX };
	struct smtpd_check *check = run->check;
	const char *helo = run->req->helo;
	enum dns_status status = DNS_NOTFOUND;
	char dsn[16], *name;

	if (helo == NULL || *helo == '[')
		return VERDICT_DUNNO; /* literals: reject_invalid_helo_hostname
				       */
	if ((name = rhsbl_name(helo)) != NULL)
		status = any_record(check->dns, name, types, 3);
	free(name);
	if (status == DNS_OK)
		return VERDICT_DUNNO;
	if (status == DNS_RETRY)
		return check_tempfail(run, check->is_helo_tf_defer, "4.7.1",
				      helo, "Helo command", "Host not found");
	check_dsn_for(check->unk_name_code, "4.7.1", dsn);
	return check_refuse(run, check->unk_name_code, dsn,
			    "<%s>: Helo command rejected: Host not found",
			    helo);
}

static enum verdict
step_unknown_client(struct check_run *run, bool is_reverse)
{
	const struct smtpd_request *req = run->req;
	bool is_unknown =
		is_reverse ? req->is_reverse_unknown : req->is_name_unknown;
	bool is_temp =
		is_reverse ? req->is_reverse_tempfail : req->is_name_tempfail;
	int code = is_temp ? 450 : run->check->unk_client_code;
	char dsn[16];

	if (!is_unknown)
		return VERDICT_DUNNO;
	check_dsn_for(code, "4.7.25", dsn);
	return check_refuse(
		run, code, dsn,
		"Client host rejected: cannot find your %shostname, "
		"[%s]",
		is_reverse ? "reverse " : "", req->addr);
}

enum verdict
check_dns_step(struct check_run *run, const struct step *step)
{
	if (check_dns_step_has_arg(step->kind) && step->arg == NULL) {
		log_warning("restriction %s requires domain name argument",
			    step->name);
		return VERDICT_DUNNO;
	}
	switch (step->kind) {
	case STEP_DNSWL_CLIENT:
		return step_dnswl(run, step);
	case STEP_UNKNOWN_SENDER_DOMAIN:
		return step_unknown_domain(run, true);
	case STEP_UNKNOWN_RCPT_DOMAIN:
		return step_unknown_domain(run, false);
	case STEP_UNKNOWN_HELO:
		return step_unknown_helo(run);
	case STEP_UNKNOWN_CLIENT:
		return step_unknown_client(run, false);
	case STEP_UNKNOWN_REVERSE_CLIENT:
		return step_unknown_client(run, true);
	default:
		return step_dnsbl(run, step);
	}
}
