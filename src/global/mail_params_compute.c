/*
 * mail_params_compute.c - defaults that depend on the machine.
 *
 * myhostname comes from gethostname(), mydomain from myhostname, and
 * mynetworks from the addresses of the interfaces that are up, the way
 * Postfix computes them. The formatting of mynetworks is separate from
 * getifaddrs() so that tests can feed it made-up interfaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/argv.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"

/* What mydomain is when nothing better is known. */
#define FALLBACK_DOMAIN "localdomain"

char *
param_default_myhostname(struct mail_conf *conf, struct err *err)
{
	char host[256];
	const char *domain = FALLBACK_DOMAIN;

	if (gethostname(host, sizeof(host) - 1) < 0) {
		err_set(err, "gethostname: %s", strerror(errno));
		return NULL;
	}
	host[sizeof(host) - 1] = 0;
	if (strchr(host, '.') != NULL)
		return xstrdup(host);
	/* main.cf's mydomain only: its default derives from myhostname. */
	if (mail_conf_raw(conf, "mydomain") != NULL &&
	    mail_conf_get(conf, "mydomain", &domain, err) < 0)
		return NULL;
	return xasprintf("%s.%s", host, domain);
}

char *
param_default_mydomain(struct mail_conf *conf, struct err *err)
{
	const char *host;
	const char *dot;

	if (mail_conf_get(conf, "myhostname", &host, err) < 0)
		return NULL;
	if ((dot = strchr(host, '.')) == NULL)
		return xstrdup(FALLBACK_DOMAIN);
	return xstrdup(dot + 1);
}

static int
prefix_len(const unsigned char *mask, size_t len)
{
	int bits = 0;

	for (size_t i = 0; i < len; i++)
		for (int bit = 7; bit >= 0 && (mask[i] >> bit & 1); bit--)
			bits++;
	return bits;
}

/* Class A/B/C network of an IPv4 address; the subnet for the rest. */
static void
class_mask(const unsigned char *addr, unsigned char *mask)
{
	int bytes = addr[0] < 128   ? 1
		    : addr[0] < 192 ? 2
		    : addr[0] < 224 ? 3
				    : 0;

	if (bytes == 0)
		return;
	memset(mask, 0, 4);
	memset(mask, 0xff, (size_t)bytes);
}

/* "net/len" for one interface, as style says. */
static void
format_network(const struct param_iface *iface, const char *style,
	       struct strbuf *out)
{
	size_t len = iface->family == AF_INET ? 4 : 16;
	unsigned char net[16], mask[16];
	char text[INET6_ADDRSTRLEN];

	memcpy(mask, iface->mask, len);
	if (strcmp(style, "host") == 0)
		memset(mask, 0xff, len);
	else if (strcmp(style, "class") == 0 && iface->family == AF_INET)
		class_mask(iface->addr, mask);
	for (size_t i = 0; i < len; i++)
		net[i] = iface->addr[i] & mask[i];
	inet_ntop(iface->family, net, text, sizeof(text));
	strbuf_reset(out);
	strbuf_printf(out, iface->family == AF_INET ? "%s/%d" : "[%s]/%d", text,
		      prefix_len(mask, len));
}

static bool
argv_has(const struct argv *av, const char *text)
{
	for (size_t i = 0; i < av->count; i++)
		if (strcmp(av->items[i], text) == 0)
			return true;
	return false;
}

int
param_mynetworks_format(const struct param_iface *ifaces, size_t count,
			const char *style, bool want_ipv4, bool want_ipv6,
			char **value_out, struct err *err)
{
	static const int families[] = {AF_INET, AF_INET6};
	const bool wanted[] = {want_ipv4, want_ipv6};
	struct argv *nets;
	struct strbuf net, out;

	if (strcmp(style, "host") != 0 && strcmp(style, "subnet") != 0 &&
	    strcmp(style, "class") != 0) {
		err_set(err,
			"unknown mynetworks mask style value \"%s\" in "
			"\"%s\"",
			style, style);
		return -1;
	}
	nets = argv_create();
	strbuf_init(&net, 64);
	strbuf_init(&out, STRBUF_UNLIMITED);
	for (size_t f = 0; f < 2; f++) {
		for (size_t i = 0; wanted[f] && i < count; i++) {
			if (ifaces[i].family != families[f])
				continue;
			format_network(&ifaces[i], style, &net);
			if (argv_has(nets, strbuf_text(&net)))
				continue;
			argv_add(nets, strbuf_text(&net));
			strbuf_printf(&out, "%s%s", nets->count > 1 ? " " : "",
				      strbuf_text(&net));
		}
	}
	*value_out = xstrdup(strbuf_text(&out));
	strbuf_deinit(&out);
	strbuf_deinit(&net);
	argv_destroy(&nets);
	return 0;
}

/* Copy one getifaddrs() entry; false if it is not an up IP interface. */
static bool
iface_from_ifaddrs(const struct ifaddrs *ifa, struct param_iface *out)
{
	int family;

	if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL ||
	    (ifa->ifa_flags & IFF_UP) == 0)
		return false;
	family = ifa->ifa_addr->sa_family;
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == AF_INET) {
		memcpy(
		    out->addr,
		    &((const struct sockaddr_in *)(const void *)ifa->ifa_addr)
			 ->sin_addr,
		    4);
		memcpy(out->mask,
		       &((const struct sockaddr_in *)(const void *)
			     ifa->ifa_netmask)
			    ->sin_addr,
		       4);
		return true;
	}
	if (family == AF_INET6) {
		memcpy(
		    out->addr,
		    &((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)
			 ->sin6_addr,
		    16);
		memcpy(out->mask,
		       &((const struct sockaddr_in6 *)(const void *)
			     ifa->ifa_netmask)
			    ->sin6_addr,
		       16);
		return true;
	}
	return false;
}

/* Which families inet_protocols asks for ("all", "ipv4", "ipv6"). */
static int
wanted_families(struct mail_conf *conf, bool *ipv4_out, bool *ipv6_out,
		struct err *err)
{
	const char *value;
	struct argv *protocols;

	if (mail_conf_get(conf, "inet_protocols", &value, err) < 0)
		return -1;
	protocols = argv_split(value, TOKENS_LIST_DELIMS);
	*ipv4_out = argv_has(protocols, "all") || argv_has(protocols, "ipv4");
	*ipv6_out = argv_has(protocols, "all") || argv_has(protocols, "ipv6");
	argv_destroy(&protocols);
	return 0;
}

char *
param_default_mynetworks(struct mail_conf *conf, struct err *err)
{
	struct ifaddrs *list, *ifa;
	struct param_iface *ifaces;
	size_t count = 0, cap = 0;
	const char *style;
	bool want_ipv4, want_ipv6;
	char *value = NULL;

	if (mail_conf_get(conf, "mynetworks_style", &style, err) < 0 ||
	    wanted_families(conf, &want_ipv4, &want_ipv6, err) < 0)
		return NULL;
	if (getifaddrs(&list) < 0) {
		err_set(err, "getifaddrs: %s", strerror(errno));
		return NULL;
	}
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		cap++;
	ifaces = xcalloc(cap + 1, sizeof(*ifaces));
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		if (iface_from_ifaddrs(ifa, &ifaces[count]))
			count++;
	freeifaddrs(list);
	if (param_mynetworks_format(ifaces, count, style, want_ipv4, want_ipv6,
				    &value, err) < 0)
		value = NULL;
	free(ifaces);
	return value;
}
