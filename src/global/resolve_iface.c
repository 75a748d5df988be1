/*
 * resolve_iface.c - the addresses that count as ours for the resolver:
 * inet_interfaces and proxy_interfaces. "user@[192.0.2.1]" is a local
 * address when 192.0.2.1 is one of them, as in Postfix.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/argv.h"
#include "util/mymalloc.h"
#include "util/sock_addr.h"
#include "util/tokens.h"

#include "global/resolve_priv.h"

static void
iface_add(struct resolve *r, int family, const void *addr)
{
	struct resolve_iface *ifc;

	r->ifaces = xreallocarray(r->ifaces, r->iface_count + 1,
				  sizeof(*r->ifaces));
	ifc = &r->ifaces[r->iface_count++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->family = family;
	memcpy(ifc->addr, addr, family == AF_INET ? 4 : 16);
}

static void
iface_add_sockaddr(struct resolve *r, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		iface_add(r, AF_INET,
			  &((const struct sockaddr_in *)(const void *)sa)
				   ->sin_addr);
	else if (sa->sa_family == AF_INET6)
		iface_add(r, AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)
				   ->sin6_addr);
}

static int
iface_load_all(struct resolve *r, struct err *err)
{
	struct ifaddrs *list;

	if (getifaddrs(&list) < 0) {
		err_set(err, "inet_interfaces: getifaddrs: %s",
			strerror(errno));
		return -1;
	}
	for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		if (ifa->ifa_addr != NULL && (ifa->ifa_flags & IFF_UP) != 0)
			iface_add_sockaddr(r, ifa->ifa_addr);
	freeifaddrs(list);
	return 0;
}

static void
iface_load_loopback(struct resolve *r)
{
	struct in_addr a4 = { .s_addr = htonl(INADDR_LOOPBACK) };

	iface_add(r, AF_INET, &a4);
	iface_add(r, AF_INET6, &in6addr_loopback);
}

/* One host name or address, brackets allowed ("[::1]"). */
static int
iface_load_host(struct resolve *r, const char *pname, const char *item,
		struct err *err)
{
	char *host = xstrdup(item);
	size_t len = strlen(host);
	struct sock_addr *addrs = NULL;
	int count;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = 0;
	}
	count = sock_resolve(host, 0, AF_UNSPEC, &addrs, err);
	free(host);
	if (count < 0) {
		err_prefix(err, "%s", pname);
		return -1;
	}
	for (int i = 0; i < count; i++)
		iface_add_sockaddr(r,
				   (const struct sockaddr *)&addrs[i].storage);
	free(addrs);
	return 0;
}

static int
iface_load_list(struct resolve *r, const char *pname, const char *value,
		bool is_inet, struct err *err)
{
	struct argv *items = argv_split(value, TOKENS_LIST_DELIMS);
	int ret = 0;

	for (size_t i = 0; i < items->count && ret == 0; i++) {
		const char *item = items->items[i];

		if (is_inet && strcasecmp(item, "all") == 0)
			ret = iface_load_all(r, err);
		else if (is_inet && strcasecmp(item, "loopback-only") == 0)
			iface_load_loopback(r);
		else
			ret = iface_load_host(r, pname, item, err);
	}
	argv_destroy(&items);
	return ret;
}

int
resolve_iface_load(struct resolve *r, const char *inet_interfaces,
		   const char *proxy_interfaces, struct err *err)
{
	if (iface_load_list(r, "inet_interfaces", inet_interfaces, true, err) <
	    0)
		return -1;
	return iface_load_list(r, "proxy_interfaces", proxy_interfaces, false,
			       err);
}

/* Parse "[1.2.3.4]" or "[IPv6:...]" into family and bytes. */
static bool
literal_parse(const char *domain, int *family_out, unsigned char *addr_out)
{
	size_t len = strlen(domain);
	char text[INET6_ADDRSTRLEN + 8];
	const char *inner;
	size_t inner_len;

	if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
		return false;
	inner = domain + 1;
	inner_len = len - 2;
	if (inner_len >= sizeof(text))
		return false;
	memcpy(text, inner, inner_len);
	text[inner_len] = 0;
	if (strncasecmp(text, "ipv6:", 5) == 0) {
		*family_out = AF_INET6;
		return inet_pton(AF_INET6, text + 5, addr_out) == 1;
	}
	*family_out = AF_INET;
	return inet_pton(AF_INET, text, addr_out) == 1;
}

bool
resolve_iface_is_local_literal(const struct resolve *r, const char *domain)
{
	unsigned char addr[16] = { 0 };
	int family;

	if (!literal_parse(domain, &family, addr))
		return false;
	for (size_t i = 0; i < r->iface_count; i++)
		if (r->ifaces[i].family == family &&
		    memcmp(r->ifaces[i].addr, addr,
			   family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

bool
resolve_is_our_address(const struct resolve *r, const char *addr)
{
	char literal[INET6_ADDRSTRLEN + 16];

	snprintf(literal, sizeof(literal), strchr(addr, ':') ? "[ipv6:%s]"
							     : "[%s]",
		 addr);
	return resolve_iface_is_local_literal(r, literal);
}
