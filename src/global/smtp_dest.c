/*
 * smtp_dest.c - parse nexthop destinations and find their hosts (see
 * smtp_dest.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/smtp_dest.h"
#include "util/mymalloc.h"

int
smtp_dest_port(const char *text)
{
	struct servent *se;
	char *end;
	long n;

	if (text[0] >= '0' && text[0] <= '9') {
		errno = 0;
		n = strtol(text, &end, 10);
		if (*end != 0 || errno != 0 || n < 1 || n > 65535)
			return -1;
		return (int)n;
	}
	if (text[0] == 0 || (se = getservbyname(text, "tcp")) == NULL)
		return -1;
	return ntohs((uint16_t)se->s_port);
}

static int
dest_fail(struct err *err, const char *text, const char *why)
{
	err_set(err, "bad destination \"%s\": %s", text, why);
	return -1;
}

/* "[host]rest" or "host:port": host and port. */
static int
dest_hostport(const char *text, const char *p, unsigned default_port,
	      struct smtp_dest *out, struct err *err)
{
	const char *end, *colon;
	int port;

	out->port = default_port;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return dest_fail(err, text, "missing \"]\"");
		if (strncasecmp(p + 1, "ipv6:", 5) == 0)
			p += 5;
		out->host = xstrndup(p + 1, (size_t)(end - p - 1));
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != 0 && colon == NULL)
			return dest_fail(err, text, "garbage after \"]\"");
	} else {
		colon = strrchr(p, ':');
		out->host = colon ? xstrndup(p, (size_t)(colon - p)) : xstrdup(p);
		out->want_mx = true;
	}
	if (out->host[0] == 0)
		return dest_fail(err, text, "empty host");
	if (colon != NULL) {
		if ((port = smtp_dest_port(colon + 1)) < 0)
			return dest_fail(err, text, "bad port");
		out->port = (unsigned)port;
	}
	return 0;
}

int
smtp_dest_parse(const char *text, bool is_lmtp, unsigned default_port,
		struct smtp_dest *out, struct err *err)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (is_lmtp && strncmp(p, "unix:", 5) == 0) {
		if (p[5] == 0)
			return dest_fail(err, text, "empty path");
		out->host = xstrdup(p + 5);
		out->is_unix = true;
		return 0;
	}
	if (is_lmtp && strncmp(p, "inet:", 5) == 0)
		p += 5;
	if (dest_hostport(text, p, default_port, out, err) < 0) {
		smtp_dest_clear(out);
		return -1;
	}
	if (is_lmtp)
		out->want_mx = false;
	return 0;
}

void
smtp_dest_clear(struct smtp_dest *d)
{
	free(d->host);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------------ */

static void
list_add(struct smtp_host_list *list, const char *name,
	 const struct sock_addr *addr, unsigned port)
{
	struct smtp_host *h;
	struct sock_addr_text text;

	list->hosts = xreallocarray(list->hosts, list->count + 1,
				    sizeof(*list->hosts));
	h = &list->hosts[list->count++];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->port = port;
	if (addr == NULL)
		return;
	h->addr = *addr;
	if (sock_addr_format((const struct sockaddr *)&addr->storage,
			     addr->len, &text) == 0)
		snprintf(h->addr_text, sizeof(h->addr_text), "%s", text.addr);
}

static void
list_fail(struct smtp_host_list *list, enum dns_status status,
	  const struct err *why)
{
	snprintf(list->dsn, sizeof(list->dsn), "%s",
		 status == DNS_RETRY    ? "4.4.3"
		 : status == DNS_NULLMX ? "5.1.10"
					: "5.4.4");
	snprintf(list->reason, sizeof(list->reason), "%s", why->text);
}

static void
sock_addr_from_dns(const struct dns_addr *a, unsigned port,
		   struct sock_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->storage;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		out->len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->storage;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		out->len = sizeof(*sin);
	}
}

/* The addresses of one host name, up to the limit. */
static void
host_addrs(const struct smtp_resolver *res, const char *name, unsigned port,
	   size_t limit, struct smtp_host_list *list)
{
	struct dns_addr_list *addrs = NULL;
	struct sock_addr sa;
	enum dns_status status;
	struct err why;

	err_clear(&why);
	if (res->addrs != NULL)
		status = res->addrs(res->ctx, name, res->families, res->pref,
				    &addrs, &why);
	else if (res->is_native)
		status = dns_lookup_addrs_native(res->dns, name, res->families,
						 res->pref, &addrs, &why);
	else
		status = dns_lookup_addrs(res->dns, name, res->families,
					  res->pref, &addrs, &why);
	if (status != DNS_OK) {
		list_fail(list, status, &why);
		return;
	}
	for (size_t i = 0; i < addrs->count && (limit == 0 || list->count < limit);
	     i++) {
		sock_addr_from_dns(&addrs->items[i], port, &sa);
		list_add(list, name, &sa, port);
	}
	dns_addr_list_free(&addrs);
}

/* True if some host added from index from on is one of ours. */
static bool
has_self(const struct smtp_resolver *res, const struct smtp_host_list *list,
	 size_t from)
{
	for (size_t i = from; res->is_self != NULL && i < list->count; i++)
		if (res->is_self(res->self_ctx, list->hosts[i].addr_text))
			return true;
	return false;
}

static void
list_truncate(struct smtp_host_list *list, size_t count)
{
	while (list->count > count)
		free(list->hosts[--list->count].name);
}

/*
 * The MX hosts' addresses, in order, up to the first MX host of ours:
 * that host and every host of its preference or worse are dropped.
 */
static void
mx_hosts(const struct smtp_resolver *res, const struct smtp_dest *d,
	 const struct dns_mx_list *mx, size_t limit,
	 struct smtp_host_list *list)
{
	size_t group_start = list->count;

	for (size_t i = 0; i < mx->count; i++) {
		size_t before = list->count;

		if (i == 0 || mx->items[i].pref != mx->items[i - 1].pref)
			group_start = before;
		host_addrs(res, mx->items[i].host, d->port, 0, list);
		if (has_self(res, list, before)) {
			list_truncate(list, group_start);
			if (list->count == 0) {
				snprintf(list->dsn, sizeof(list->dsn), "5.4.6");
				snprintf(list->reason, sizeof(list->reason),
					 "mail for %s loops back to myself",
					 d->host);
			}
			break;
		}
	}
	if (limit > 0)
		list_truncate(list, limit);
}

void
smtp_dest_hosts(const struct smtp_resolver *res, const struct smtp_dest *d,
		size_t limit, struct smtp_host_list *list)
{
	struct dns_mx_list *mx = NULL;
	enum dns_status status;
	struct err why;

	if (d->is_unix) {
		list_add(list, res->myhostname, NULL, 0);
		list->hosts[list->count - 1].is_unix = true;
		snprintf(list->hosts[list->count - 1].addr_text,
			 sizeof(list->hosts[0].addr_text), "%s", d->host);
		return;
	}
	if (!d->want_mx || !res->want_mx) {
		host_addrs(res, d->host, d->port, limit, list);
		return;
	}
	err_clear(&why);
	status = res->mx ? res->mx(res->ctx, d->host, &mx, &why)
			 : dns_lookup_mx(res->dns, d->host, &mx, &why);
	if (status != DNS_OK) {
		list_fail(list, status, &why);
		return;
	}
	mx_hosts(res, d, mx, limit, list);
	dns_mx_list_free(&mx);
}

void
smtp_host_list_free(struct smtp_host_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->hosts[i].name);
	free(list->hosts);
	memset(list, 0, sizeof(*list));
}
