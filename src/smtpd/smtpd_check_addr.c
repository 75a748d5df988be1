/*
 * smtpd_check_addr.c - smtpd's name and address restrictions.
 *
 * reject_non_fqdn_helo_hostname, reject_invalid_helo_hostname,
 * reject_non_fqdn_sender/recipient, and reject_unlisted_recipient/sender
 * with local_recipient_maps, virtual_alias_maps, virtual_mailbox_maps and
 * relay_recipient_maps, in Postfix's replies. The address class (local,
 * virtual alias, virtual mailbox, relay, other) is decided from the
 * routed domain exactly as the relay test does.
 * Security: names and addresses are untrusted; a table that fails defers.
 */
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "smtpd/smtpd_check_impl.h"

/* A HELO name without one trailing dot, as Postfix tests it. */
static char *
helo_trimmed(const char *helo)
{
	char *name = xstrdup(helo);
	size_t len = strlen(name);

	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = 0;
	return name;
}

enum verdict
check_non_fqdn_helo(struct check_run *run)
{
	const char *helo = run->req->helo;
	char *name;
	bool is_bad;

	if (helo == NULL || *helo == '[')
		return VERDICT_DUNNO;
	name = helo_trimmed(helo);
	is_bad = !mail_addr_domain_is_valid(name, strlen(name), true) ||
		 strchr(name, '.') == NULL;
	free(name);
	if (!is_bad)
		return VERDICT_DUNNO;
	return check_refuse(run, run->check->non_fqdn_code, "5.5.2",
			    "<%s>: Helo command rejected: need "
			    "fully-qualified hostname",
			    helo);
}

enum verdict
check_invalid_helo(struct check_run *run)
{
	const char *helo = run->req->helo;
	char *name;
	bool is_bad;

	if (helo == NULL)
		return VERDICT_DUNNO;
	name = helo_trimmed(helo);
	is_bad = !mail_addr_domain_is_valid(name, strlen(name), true);
	free(name);
	if (!is_bad)
		return VERDICT_DUNNO;
	return check_refuse(run, run->check->bad_name_code, "5.5.2",
			    "<%s>: Helo command rejected: Invalid name", helo);
}

enum verdict
check_non_fqdn_addr(struct check_run *run, const char *addr, bool is_sender)
{
	struct mail_addr_parts parts;

	if (addr == NULL || *addr == 0)
		return VERDICT_DUNNO;
	mail_addr_split(addr, &parts);
	if (parts.domain != NULL &&
	    (*parts.domain == '[' || strchr(parts.domain, '.') != NULL))
		return VERDICT_DUNNO;
	return check_refuse(run, run->check->non_fqdn_code,
			    is_sender ? "5.1.7" : "5.1.3",
			    "<%s>: %s address rejected: need fully-qualified "
			    "address",
			    addr, is_sender ? "Sender" : "Recipient");
}

/* "type:name" whose type Postern implements. */
static bool
is_known_table(const char *spec)
{
	const char *colon = strchr(spec, ':');
	char *type;
	bool is_known;

	if (colon == NULL)
		return false;
	type = xstrndup(spec, (size_t)(colon - spec));
	is_known = dict_type_is_known(type);
	free(type);
	return is_known;
}

struct maps *
check_maps_open(struct mail_conf *conf, const char *pname)
{
	struct argv *specs = mail_conf_list(conf, pname);
	const struct argv *errors;
	struct strbuf text;
	struct maps *maps;

	strbuf_init(&text, STRBUF_UNLIMITED);
	for (size_t i = 0; i < specs->count; i++) {
		if (!is_known_table(specs->items[i])) {
			/* proxy:, unix:, nis: are not implemented yet */
			log_warning("%s: table \"%s\" is not implemented; "
				    "ignoring it",
				    pname, specs->items[i]);
			continue;
		}
		(void)strbuf_printf(&text, "%s%s", text.len > 0 ? ", " : "",
				    specs->items[i]);
	}
	argv_destroy(&specs);
	/* A table that will not open defers the mail that needs it. */
	maps = maps_create(pname, text.data, 0);
	strbuf_deinit(&text);
	errors = maps_open_errors(maps);
	for (size_t i = 0; i < errors->count; i++)
		log_warning("%s: %s", pname, errors->items[i]);
	return maps;
}

/* Look key up in every table; DICT_FOUND, DICT_NOTFOUND or DICT_ERROR. */
static int
maps_find_key(struct maps *maps, const char *key, bool is_whole)
{
	const char *value;
	struct err err;
	int ret = maps_find(maps, key, !is_whole, &value, &err);

	if (ret == DICT_ERROR)
		log_warning("%s: %s", maps_title(maps), err.text);
	return ret;
}

/*
 * Postfix's address lookup order: user+ext@domain, user@domain, then (for
 * local domains) user+ext and user, else @domain.
 */
static int
maps_find_addr(struct smtpd_check *check, struct maps *maps,
	       const char *addr, bool is_local)
{
	struct mail_addr_parts parts;
	char *local, *bare, *keys[5] = { 0 };
	size_t n = 0;
	int ret = DICT_NOTFOUND;

	mail_addr_split(addr, &parts);
	local = xstrndup(addr, parts.local_len);
	bare = access_strip_extension(local, &check->access);
	keys[n++] = xstrdup(addr);
	if (bare != NULL && parts.domain != NULL)
		keys[n++] = xasprintf("%s@%s", bare, parts.domain);
	if (is_local) {
		keys[n++] = xstrdup(local);
		if (bare != NULL)
			keys[n++] = xstrdup(bare);
	} else if (parts.domain != NULL) {
		keys[n++] = xasprintf("@%s", parts.domain);
	}
	for (size_t i = 0; i < n && ret == DICT_NOTFOUND; i++)
		ret = maps_find_key(maps, keys[i], i == 0);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(local);
	free(bare);
	return ret;
}

enum addr_class {
	CLASS_LOCAL,
	CLASS_ALIAS,
	CLASS_VIRTUAL,
	CLASS_RELAY,
	CLASS_DEFAULT,
	CLASS_ERROR,
};

static int
domain_in(struct match_list *list, const char *domain)
{
	struct err err;
	int ret = match_list_match_domain(list, domain, &err);

	if (ret == MATCH_LIST_ERROR)
		log_warning("%s", err.text);
	return ret;
}

static enum addr_class
addr_class(struct smtpd_check *check, const char *domain)
{
	struct match_list *lists[] = { check->mydestination,
				       check->virtual_alias_domains,
				       check->virtual_mailbox_domains,
				       check->relay_domains };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		int ret = domain_in(lists[i], domain);

		if (ret == MATCH_LIST_ERROR)
			return CLASS_ERROR;
		if (ret == MATCH_LIST_MATCH)
			return (enum addr_class)i;
	}
	return CLASS_DEFAULT;
}

int
check_is_final_domain(struct smtpd_check *check, const char *domain)
{
	enum addr_class cls = addr_class(check, domain);

	if (cls == CLASS_ERROR)
		return -1;
	return cls == CLASS_LOCAL || cls == CLASS_ALIAS || cls == CLASS_VIRTUAL;
}

static enum verdict
unknown_user(struct check_run *run, const char *addr, bool is_sender,
	     int code, const char *table)
{
	const char *what = is_sender ? "Sender" : "Recipient";

	if (!run->check->show_table_name)
		return check_refuse(run, code, is_sender ? "5.1.0" : "5.1.1",
				    "<%s>: %s address rejected: User unknown",
				    addr, what);
	return check_refuse(run, code, is_sender ? "5.1.0" : "5.1.1",
			    "<%s>: %s address rejected: User unknown in %s "
			    "table",
			    addr, what, table);
}

/* The table test for one address class; DICT_* as maps_find_addr. */
static int
class_lookup(struct smtpd_check *check, enum addr_class cls,
	     const char *addr)
{
	struct maps *maps = NULL;

	if (cls == CLASS_LOCAL && check->has_local_rcpt_maps)
		maps = check->local_rcpt_maps;
	else if (cls == CLASS_ALIAS)
		return DICT_NOTFOUND; /* virtual_alias_maps already said no */
	else if (cls == CLASS_VIRTUAL)
		maps = check->virtual_mailbox_maps;
	else if (cls == CLASS_RELAY && !maps_is_empty(check->relay_rcpt_maps))
		maps = check->relay_rcpt_maps;
	if (maps == NULL)
		return DICT_FOUND; /* nothing to check */
	return maps_find_addr(check, maps, addr, cls == CLASS_LOCAL);
}

static enum verdict
unlisted_verdict(struct check_run *run, const char *addr, bool is_sender,
		 enum addr_class cls, int ret)
{
	static const char *const tables[] = { "local recipient",
					      "virtual alias",
					      "virtual mailbox",
					      "relay recipient" };
	struct smtpd_check *check = run->check;
	int codes[] = { check->unk_local_code, check->unk_valias_code,
			check->unk_vmbox_code, check->unk_relay_code };

	if (ret == DICT_FOUND)
		return VERDICT_DUNNO;
	if (ret == DICT_ERROR)
		return check_refuse(run, 451, "4.3.0",
				    "<%s>: Temporary lookup failure", addr);
	return unknown_user(run, addr, is_sender, codes[cls], tables[cls]);
}

enum verdict
check_unlisted(struct check_run *run, const char *addr, bool is_sender)
{
	struct smtpd_check *check = run->check;
	bool is_routed = false;
	char *final, *domain;
	enum addr_class cls;
	int ret;

	if (addr == NULL || *addr == 0)
		return VERDICT_DUNNO;
	final = mail_addr_route_resolve(addr, &check->route, &is_routed);
	domain = check_domain_key(final, check->myorigin);
	cls = is_routed ? CLASS_DEFAULT : addr_class(check, domain);
	free(final);
	free(domain);
	if (cls == CLASS_ERROR)
		return check_config_error(run);
	if (cls == CLASS_DEFAULT)
		return VERDICT_DUNNO;
	ret = maps_find_addr(check, check->virtual_alias_maps, addr,
			     cls == CLASS_LOCAL);
	if (ret == DICT_NOTFOUND)
		ret = class_lookup(check, cls, addr);
	return unlisted_verdict(run, addr, is_sender, cls, ret);
}
