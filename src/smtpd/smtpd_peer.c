/*
 * smtpd_peer.c - the SMTP client's hostname, found and verified.
 *
 * Postfix's rule: the PTR record of the client address gives the reverse
 * name; that name becomes the client name only if its own addresses (A
 * for an IPv4 client, AAAA for IPv6) include the client address. A name
 * that fails the test is logged ("hostname X does not resolve to address
 * A") and the client is "unknown". The statuses say why, for
 * reject_unknown_client_hostname and
 * reject_unknown_reverse_client_hostname (a temporary DNS failure there
 * means 450, not the configured code).
 * With dns_resolver_conf empty the lookups go through the C library
 * (getnameinfo, getaddrinfo), so /etc/hosts and nsswitch.conf count, as
 * they do for Postfix; with it set, through our resolver (dns.h), which
 * is how tests point smtpd at their own DNS server.
 * Security: PTR data is controlled by whoever owns the address block;
 * the name is checked for hostname syntax before anyone uses it.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "global/mail_addr.h"

#include "smtpd/smtpd.h"

#define NAME_UNKNOWN "unknown"

/* The text address as a struct dns_addr; false if it is not one. */
static bool
addr_parse(const char *text, struct dns_addr *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->text, sizeof(out->text), "%s", text);
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		return true;
	}
	return false;
}

/* A host name, not an address in disguise ("1.2.3.4" as a PTR target). */
static bool
is_valid_hostname(const char *name)
{
	uint8_t bytes[16];

	if (*name == 0 || *name == '[' ||
	    !mail_addr_domain_is_valid(name, strlen(name), false))
		return false;
	return inet_pton(AF_INET, name, bytes) != 1 &&
	       inet_pton(AF_INET6, name, bytes) != 1;
}

static enum smtpd_peer_status
status_of(enum dns_status status)
{
	return status == DNS_RETRY ? SMTPD_PEER_TEMP : SMTPD_PEER_PERM;
}

/*
 * Does name lead back to addr? OK, TEMP (lookup failed for now) or FORGED;
 * logs Postfix's warning when it does not.
 */
static enum smtpd_peer_status
peer_confirm(struct dns_resolver *dns, const char *name,
	     const struct dns_addr *addr)
{
	unsigned families =
		addr->family == AF_INET ? DNS_WANT_IPV4 : DNS_WANT_IPV6;
	size_t len = addr->family == AF_INET ? 4 : 16;
	struct dns_addr_list *list = NULL;
	enum dns_status status;
	struct err why;

	status = dns_lookup_addrs(dns, name, families, DNS_PREF_ANY, &list,
				  &why);
	if (status != DNS_OK) {
		/* Worded as getaddrinfo's errors, which Postfix prints. */
		log_warning("hostname %s does not resolve to address %s: %s",
			    name, addr->text,
			    status == DNS_RETRY
				    ? "Temporary failure in name resolution"
				    : "Name or service not known");
		return status == DNS_RETRY ? SMTPD_PEER_TEMP
					   : SMTPD_PEER_FORGED;
	}
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].family == addr->family &&
		    memcmp(list->items[i].bytes, addr->bytes, len) == 0) {
			dns_addr_list_free(&list);
			return SMTPD_PEER_OK;
		}
	dns_addr_list_free(&list);
	log_warning("hostname %s does not resolve to address %s", name,
		    addr->text);
	return SMTPD_PEER_FORGED;
}

/* The PTR name through the C library: DNS_OK, DNS_RETRY or DNS_NOTFOUND. */
static enum dns_status
system_ptr(const struct dns_addr *addr, char **name_out)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	char host[NI_MAXHOST];
	int ret;

	if (addr->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr->bytes, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr->bytes, 16);
		len = sizeof(*sin6);
	}
	ret = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL,
			  0, NI_NAMEREQD);
	if (ret != 0)
		return ret == EAI_AGAIN ? DNS_RETRY : DNS_NOTFOUND;
	*name_out = xstrdup(host);
	return DNS_OK;
}

/* peer_confirm through the C library, with getaddrinfo's own words. */
static enum smtpd_peer_status
system_confirm(const char *name, const struct dns_addr *addr)
{
	struct addrinfo hints = { .ai_family = addr->family,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	size_t len = addr->family == AF_INET ? 4 : 16;
	bool is_match = false;
	int ret = getaddrinfo(name, NULL, &hints, &res);

	if (ret != 0) {
		log_warning("hostname %s does not resolve to address %s: %s",
			    name, addr->text, gai_strerror(ret));
		return ret == EAI_AGAIN ? SMTPD_PEER_TEMP : SMTPD_PEER_FORGED;
	}
	for (struct addrinfo *ai = res; ai != NULL && !is_match;
	     ai = ai->ai_next) {
		const void *bytes =
			ai->ai_family == AF_INET
				? (const void *)&((struct sockaddr_in *)
							  ai->ai_addr)
					  ->sin_addr
				: (const void *)&((struct sockaddr_in6 *)
							  ai->ai_addr)
					  ->sin6_addr;

		is_match = ai->ai_family == addr->family &&
			   memcmp(bytes, addr->bytes, len) == 0;
	}
	freeaddrinfo(res);
	if (!is_match)
		log_warning("hostname %s does not resolve to address %s", name,
			    addr->text);
	return is_match ? SMTPD_PEER_OK : SMTPD_PEER_FORGED;
}

void
smtpd_peer_lookup(struct smtpd_session *sess, struct dns_resolver *dns)
{
	struct dns_addr addr;
	enum dns_status status;
	char *ptr = NULL;
	struct err why;

	sess->name_status = sess->reverse_status = SMTPD_PEER_PERM;
	if (dns == NULL || !addr_parse(sess->peer.addr, &addr)) {
		sess->name = xstrdup(NAME_UNKNOWN);
		sess->reverse_name = xstrdup(NAME_UNKNOWN);
		return;
	}
	status = sess->conf->use_system_resolver
			 ? system_ptr(&addr, &ptr)
			 : dns_lookup_ptr(dns, &addr, &ptr, &why);
	if (status == DNS_OK && !is_valid_hostname(ptr)) {
		log_warning("%s: malformed or numeric hostname in PTR record: "
			    "%.100s",
			    addr.text, ptr);
		status = DNS_NOTFOUND;
	}
	if (status != DNS_OK) {
		free(ptr);
		sess->name_status = sess->reverse_status = status_of(status);
		sess->name = xstrdup(NAME_UNKNOWN);
		sess->reverse_name = xstrdup(NAME_UNKNOWN);
		return;
	}
	sess->reverse_status = SMTPD_PEER_OK;
	sess->reverse_name = ptr;
	sess->name_status = sess->conf->use_system_resolver
				    ? system_confirm(ptr, &addr)
				    : peer_confirm(dns, ptr, &addr);
	sess->name = xstrdup(sess->name_status == SMTPD_PEER_OK ? ptr
								: NAME_UNKNOWN);
}
