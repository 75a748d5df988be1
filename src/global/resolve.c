/*
 * resolve.c - trivial-rewrite's "resolve" operation: which transport and
 * next hop a recipient goes to, with Postfix 3.7's observed answers.
 *
 * Steps: the null address becomes empty_address_recipient; routing in
 * the local part is undone (mail_addr_route_resolve; a domain a routing
 * step produced is completed with .mydomain like rewrite does); a
 * trailing dot goes; no domain means @myhostname; a bad domain (or a
 * dotted quad without resolve_numeric_domain) is RESOLVE_FLAG_ERROR with
 * transport "error", nexthop "5.1.3 bad address syntax". Then the class
 * gives transport:nexthop, transport_maps may override it (not for
 * virtual alias domains), and the answer is cached.
 * Table failures are logged here (the library has no caller context that
 * could say more) and give RESOLVE_FLAG_FAIL, never a cached answer.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"

#include "global/mail_addr.h"
#include "global/resolve_priv.h"

#define RESOLVE_BAD_SYNTAX "5.1.3 bad address syntax"

static char *
conf_dup(struct mail_conf *conf, const char *name)
{
	return xstrdup(mail_conf_str(conf, name));
}

static struct match_list *
list_open(struct mail_conf *conf, const char *pdms, const char *pname)
{
	int flags =
		match_list_is_parent_style(pdms, pname) ? MATCH_FLAG_PARENT : 0;
	struct err err;
	struct match_list *list =
		match_list_create(pname, MATCH_LIST_DOMAIN, flags,
				  mail_conf_str(conf, pname), &err);
	const struct argv *warnings;

	if (list == NULL)
		log_fatal("%s", err.text);
	warnings = match_list_warnings(list);
	for (size_t i = 0; warnings != NULL && i < warnings->count; i++)
		log_warning("%s", warnings->items[i]);
	return list;
}

static void
load_strings(struct resolve *r, struct mail_conf *conf)
{
	r->myhostname = conf_dup(conf, "myhostname");
	r->mydomain = conf_dup(conf, "mydomain");
	r->myorigin = conf_dup(conf, "myorigin");
	r->remote_domain = conf_dup(conf, "remote_header_rewrite_domain");
	r->empty_address_recipient = conf_dup(conf, "empty_address_recipient");
	r->recipient_delimiter = conf_dup(conf, "recipient_delimiter");
	r->relayhost = conf_dup(conf, "relayhost");
	r->local_transport = conf_dup(conf, "local_transport");
	r->virtual_transport = conf_dup(conf, "virtual_transport");
	r->relay_transport = conf_dup(conf, "relay_transport");
	r->default_transport = conf_dup(conf, "default_transport");
}

static void
load_bools(struct resolve *r, struct mail_conf *conf)
{
	r->append_at_myorigin = mail_conf_bool(conf, "append_at_myorigin");
	r->append_dot_mydomain = mail_conf_bool(conf, "append_dot_mydomain");
	r->swap_bangpath = mail_conf_bool(conf, "swap_bangpath");
	r->allow_percent_hack = mail_conf_bool(conf, "allow_percent_hack");
	r->resolve_dequoted_address =
		mail_conf_bool(conf, "resolve_dequoted_address");
	r->resolve_null_domain = mail_conf_bool(conf, "resolve_null_domain");
	r->resolve_numeric_domain =
		mail_conf_bool(conf, "resolve_numeric_domain");
	r->show_table_name =
		mail_conf_bool(conf, "show_user_unknown_table_name");
}

/* Postfix logs "TYPE:NAME is unavailable. REASON" at start-up too. */
static void
warn_open_errors(const struct maps *maps)
{
	const struct argv *errors = maps_open_errors(maps);

	for (size_t i = 0; errors != NULL && i < errors->count; i++)
		log_warning("%s", errors->items[i]);
}

struct resolve *
resolve_create(struct mail_conf *conf)
{
	struct resolve *r = xcalloc(1, sizeof(*r));
	const char *pdms =
		mail_conf_str(conf, "parent_domain_matches_subdomains");
	struct err err;

	load_strings(r, conf);
	load_bools(r, conf);
	r->transport_parent_style =
		match_list_is_parent_style(pdms, "transport_maps");
	r->mydestination = list_open(conf, pdms, "mydestination");
	r->virtual_alias_domains =
		list_open(conf, pdms, "virtual_alias_domains");
	r->virtual_mailbox_domains =
		list_open(conf, pdms, "virtual_mailbox_domains");
	r->relay_domains = list_open(conf, pdms, "relay_domains");
	r->transport_maps = maps_create(
		"transport_maps", mail_conf_str(conf, "transport_maps"), 0);
	warn_open_errors(r->transport_maps);
	if (resolve_iface_load(r, mail_conf_str(conf, "inet_interfaces"),
			       mail_conf_str(conf, "proxy_interfaces"),
			       &err) < 0)
		log_fatal("%s", err.text);
	r->cache = htable_create(256);
	return r;
}

static void
cache_free_reply(void *value)
{
	struct resolve_reply *reply = value;

	resolve_reply_free(reply);
	free(reply);
}

void
resolve_destroy(struct resolve **rp)
{
	struct resolve *r = *rp;

	if (r == NULL)
		return;
	free(r->myhostname);
	free(r->mydomain);
	free(r->myorigin);
	free(r->remote_domain);
	free(r->empty_address_recipient);
	free(r->recipient_delimiter);
	free(r->relayhost);
	free(r->local_transport);
	free(r->virtual_transport);
	free(r->relay_transport);
	free(r->default_transport);
	match_list_destroy(&r->mydestination);
	match_list_destroy(&r->virtual_alias_domains);
	match_list_destroy(&r->virtual_mailbox_domains);
	match_list_destroy(&r->relay_domains);
	maps_destroy(&r->transport_maps);
	free(r->ifaces);
	htable_destroy(&r->cache, cache_free_reply);
	free(r);
	*rp = NULL;
}

void
resolve_reply_free(struct resolve_reply *reply)
{
	free(reply->transport);
	free(reply->nexthop);
	free(reply->recipient);
	reply->transport = reply->nexthop = reply->recipient = NULL;
	reply->flags = 0;
}

/* Domain-list match; a table failure is logged and remembered. */
static bool
list_matches(struct resolve *r, struct match_list *list, const char *domain)
{
	struct err err;
	int ret = match_list_match_domain(list, domain, &err);

	if (ret == MATCH_LIST_ERROR) {
		log_warning("%s", err.text);
		r->has_match_error = true;
	}
	return ret == MATCH_LIST_MATCH;
}

/* mail_addr_route_opts callback: mydestination or one of our literals. */
static bool
is_local_domain(const char *domain, void *ctx)
{
	struct resolve *r = ctx;

	return resolve_iface_is_local_literal(r, domain) ||
	       list_matches(r, r->mydestination, domain);
}

/* Lowercase copy of a domain, for list matching. */
static char *
domain_key(const char *domain)
{
	char *key = xstrdup(domain);

	for (char *cp = key; *cp; cp++)
		if (*cp >= 'A' && *cp <= 'Z')
			*cp = (char)(*cp - 'A' + 'a');
	return key;
}

static int
address_class(struct resolve *r, const char *domain)
{
	char *key = domain_key(domain);
	int cls = RESOLVE_CLASS_DEFAULT;

	if (is_local_domain(key, r))
		cls = RESOLVE_CLASS_LOCAL;
	else if (list_matches(r, r->virtual_alias_domains, key))
		cls = RESOLVE_CLASS_ALIAS;
	else if (list_matches(r, r->virtual_mailbox_domains, key))
		cls = RESOLVE_CLASS_VIRTUAL;
	else if (list_matches(r, r->relay_domains, key))
		cls = RESOLVE_CLASS_RELAY;
	free(key);
	return cls;
}

/* "name:nexthop" -> both parts (nexthop "" when absent); new strings. */
static void
split_transport(const char *value, char **transport_out, char **nexthop_out)
{
	const char *colon = strchr(value, ':');

	if (colon == NULL) {
		*transport_out = xstrdup(value);
		*nexthop_out = xstrdup("");
		return;
	}
	*transport_out = xstrndup(value, (size_t)(colon - value));
	*nexthop_out = xstrdup(colon + 1);
}

static void
reply_set(struct resolve_reply *reply, const char *transport,
	  const char *nexthop)
{
	char *new_transport = xstrdup(transport);
	char *new_nexthop = xstrdup(nexthop);

	/* Copy first: transport may be reply->transport itself. */
	free(reply->transport);
	free(reply->nexthop);
	reply->transport = new_transport;
	reply->nexthop = new_nexthop;
}

/* The class's own transport and next hop. */
static void
class_transport(struct resolve *r, int cls, const char *domain,
		struct resolve_reply *reply)
{
	const char *value = cls == RESOLVE_CLASS_LOCAL ? r->local_transport
			    : cls == RESOLVE_CLASS_VIRTUAL
				    ? r->virtual_transport
			    : cls == RESOLVE_CLASS_RELAY ? r->relay_transport
							 : r->default_transport;
	char *transport, *nexthop;

	if (cls == RESOLVE_CLASS_ALIAS) {
		reply_set(reply, "error",
			  r->show_table_name ? "5.1.1 User unknown in virtual "
					       "alias table"
					     : "5.1.1 User unknown");
		return;
	}
	split_transport(value, &transport, &nexthop);
	if (*nexthop == 0 && *r->relayhost != 0 &&
	    (cls == RESOLVE_CLASS_RELAY || cls == RESOLVE_CLASS_DEFAULT))
		reply_set(reply, transport, r->relayhost);
	else
		reply_set(reply, transport, *nexthop ? nexthop : domain);
	free(transport);
	free(nexthop);
}

/*
 * Apply a transport_maps result: "transport:nexthop"; an empty transport
 * keeps the class's, an empty nexthop after a transport means the
 * recipient domain, and ":" alone changes nothing.
 */
static void
apply_transport_entry(const char *value, const char *domain,
		      struct resolve_reply *reply)
{
	char *transport, *nexthop;

	split_transport(value, &transport, &nexthop);
	if (*transport != 0)
		reply_set(reply, transport, *nexthop ? nexthop : domain);
	else if (*nexthop != 0)
		reply_set(reply, reply->transport, nexthop);
	free(transport);
	free(nexthop);
}

/* One transport_maps probe: DICT_FOUND / DICT_NOTFOUND / DICT_ERROR. */
static int
transport_probe(struct resolve *r, const char *key, bool is_partial,
		const char **value_out)
{
	struct err err;
	int ret =
		maps_find(r->transport_maps, key, is_partial, value_out, &err);

	if (ret == DICT_ERROR)
		log_warning("%s; transport_maps lookup failure", err.text);
	return ret;
}

/* user+ext@domain -> user@domain, or NULL when there is no extension. */
static char *
strip_extension(const struct resolve *r, const char *addr)
{
	struct mail_addr_parts parts;
	size_t n;

	if (*r->recipient_delimiter == 0)
		return NULL;
	mail_addr_split(addr, &parts);
	n = strcspn(addr, r->recipient_delimiter);
	if (n == 0 || n >= parts.local_len)
		return NULL;
	return parts.domain ? xasprintf("%.*s@%s", (int)n, addr, parts.domain)
			    : xstrndup(addr, n);
}

/* Keys in Postfix's order after the full address; the caller frees. */
static struct argv *
transport_keys(const struct resolve *r, const char *addr, const char *domain)
{
	struct argv *keys = argv_create();
	char *stripped = strip_extension(r, addr);
	char *dom = domain_key(domain);

	if (stripped != NULL)
		argv_add(keys, stripped);
	argv_add(keys, dom);
	for (const char *dot = strchr(dom, '.'); dot != NULL && dot[1] != 0;
	     dot = strchr(dot + 1, '.'))
		argv_add(keys, r->transport_parent_style ? dot + 1 : dot);
	argv_add(keys, "*");
	free(stripped);
	free(dom);
	return keys;
}

/* transport_maps search; -1 when a table failed. */
static int
transport_lookup(struct resolve *r, const char *addr, const char *domain,
		 struct resolve_reply *reply)
{
	const char *value = NULL;
	struct argv *keys;
	int ret;

	if (maps_is_empty(r->transport_maps))
		return 0;
	ret = transport_probe(r, addr, false, &value);
	keys = transport_keys(r, addr, domain);
	for (size_t i = 0; ret == DICT_NOTFOUND && i < keys->count; i++)
		ret = transport_probe(r, keys->items[i], true, &value);
	argv_destroy(&keys);
	if (ret == DICT_ERROR)
		return -1;
	if (ret == DICT_FOUND)
		apply_transport_entry(value, domain, reply);
	return 0;
}

/* Dotted quad: true, with brackets added when resolve_numeric_domain. */
static bool
is_dotted_quad(const char *domain)
{
	unsigned char buf[4];

	return strspn(domain, "0123456789.") == strlen(domain) &&
	       inet_pton(AF_INET, domain, buf) == 1;
}

static void
reply_error(struct resolve_reply *reply)
{
	reply->flags |= RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ERROR;
	reply_set(reply, "error", RESOLVE_BAD_SYNTAX);
}

/*
 * Routing undone, trailing dot and null domain handled: the address to
 * classify (new string), or NULL when its syntax is bad.
 */
static char *
final_address(struct resolve *r, const char *addr, bool *is_routed_out)
{
	struct mail_addr_route_opts opts = {
		.allow_percent_hack = r->allow_percent_hack,
		.swap_bangpath = r->swap_bangpath,
		.resolve_dequoted_address = r->resolve_dequoted_address,
		.is_local_domain = is_local_domain,
		.ctx = r,
	};
	char *cur = mail_addr_route_resolve(addr, &opts, is_routed_out);
	struct mail_addr_parts parts;
	size_t len;
	char *out;

	if (strcmp(cur, addr) != 0)
		cur = resolve_dot_domain(r, cur, r->mydomain);
	len = strlen(cur);
	mail_addr_split(cur, &parts);
	if (parts.domain != NULL && len > parts.local_len + 2 &&
	    cur[len - 1] == '.')
		cur[len - 1] = 0;
	if (parts.domain != NULL && *parts.domain != 0)
		return cur;
	if (parts.domain != NULL && !r->resolve_null_domain) {
		free(cur);
		return NULL;
	}
	out = xasprintf("%.*s@%s", (int)parts.local_len, cur, r->myhostname);
	free(cur);
	return out;
}

/* Numeric domain rules and syntax; NULL (addr freed) when bad. */
static char *
check_domain(struct resolve *r, char *addr)
{
	struct mail_addr_parts parts;
	char *out;

	mail_addr_split(addr, &parts);
	if (is_dotted_quad(parts.domain)) {
		if (!r->resolve_numeric_domain) {
			free(addr);
			return NULL;
		}
		out = xasprintf("%.*s@[%s]", (int)parts.local_len, addr,
				parts.domain);
		free(addr);
		return out;
	}
	if (!mail_addr_domain_is_valid(parts.domain, strlen(parts.domain),
				       true)) {
		free(addr);
		return NULL;
	}
	return addr;
}

/* The uncached resolution; -1 when a table failed. */
static int
resolve_compute(struct resolve *r, const char *addr,
		struct resolve_reply *reply)
{
	bool is_routed = false;
	const char *domain;
	char *final;
	int cls;

	memset(reply, 0, sizeof(*reply));
	r->has_match_error = false;
	final = final_address(r, *addr ? addr : r->empty_address_recipient,
			      &is_routed);
	if (final != NULL)
		final = check_domain(r, final);
	if (final == NULL) {
		reply->recipient = xstrdup(addr);
		reply_error(reply);
		return r->has_match_error ? -1 : 0;
	}
	reply->recipient = final;
	domain = strrchr(final, '@') + 1;
	cls = address_class(r, domain);
	reply->flags = cls | (is_routed ? RESOLVE_FLAG_ROUTED : 0);
	class_transport(r, cls, domain, reply);
	if (r->has_match_error ||
	    (cls != RESOLVE_CLASS_ALIAS &&
	     transport_lookup(r, final, domain, reply) < 0)) {
		reply->flags |= RESOLVE_FLAG_FAIL;
		return -1;
	}
	return 0;
}

static void
reply_copy(struct resolve_reply *to, const struct resolve_reply *from)
{
	to->flags = from->flags;
	to->transport = xstrdup(from->transport);
	to->nexthop = xstrdup(from->nexthop);
	to->recipient = xstrdup(from->recipient);
}

static void
cache_store(struct resolve *r, const char *addr,
	    const struct resolve_reply *reply)
{
	struct resolve_reply *copy = xcalloc(1, sizeof(*copy));

	/* Bounded: start over rather than track ages. */
	if (htable_count(r->cache) >= RESOLVE_CACHE_MAX) {
		htable_destroy(&r->cache, cache_free_reply);
		r->cache = htable_create(256);
	}
	reply_copy(copy, reply);
	htable_set(r->cache, addr, copy, cache_free_reply);
}

int
resolve_addr(struct resolve *r, const char *addr,
	     struct resolve_reply *reply_out)
{
	const struct resolve_reply *cached = htable_find(r->cache, addr);

	if (cached != NULL) {
		reply_copy(reply_out, cached);
		return 0;
	}
	if (resolve_compute(r, addr, reply_out) < 0)
		return -1;
	cache_store(r, addr, reply_out);
	return 0;
}
