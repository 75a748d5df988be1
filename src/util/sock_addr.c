/*
 * sock_addr.c - socket addresses: Postfix's syntax, resolution, printing.
 *
 * Parses "host:port" and its variants with an error for every way the text
 * can be wrong, resolves with getaddrinfo, and prints addresses the way
 * Postfix logs them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "util/mymalloc.h"
#include "util/sock_addr.h"

#define PORT_MAX 65535

/* Longest service name accepted for lookup in /etc/services. */
#define SERVICE_NAME_MAX 64

/*
 * Port text to number: digits (0-65535) or a tcp service name. Returns 0,
 * or -1 with err (without the address prefix).
 */
static int
parse_port(const char *text, unsigned *port_out, struct err *err)
{
	struct servent ent;
	struct servent *found = NULL;
	char buf[1024];
	const char *cp;

	if (*text == 0) {
		err_set(err, "missing port");
		return -1;
	}
	if (isdigit((unsigned char)*text)) {
		unsigned long value = 0;

		for (cp = text; isdigit((unsigned char)*cp); cp++)
			if (value <= PORT_MAX)
				value = value * 10 + (unsigned long)(*cp - '0');
		if (*cp != 0) {
			err_set(err, "invalid port \"%s\"", text);
			return -1;
		}
		if (value > PORT_MAX) {
			err_set(err, "port %s out of range", text);
			return -1;
		}
		*port_out = (unsigned)value;
		return 0;
	}
	cp = text;
	while (isalnum((unsigned char)*cp) || *cp == '-')
		cp++;
	if (!isalpha((unsigned char)*text) || *cp != 0 ||
	    cp - text > SERVICE_NAME_MAX) {
		err_set(err, "invalid port \"%s\"", text);
		return -1;
	}
	if (getservbyname_r(text, "tcp", &ent, buf, sizeof(buf), &found) != 0 ||
	    found == NULL) {
		err_set(err, "unknown service \"%s\"", text);
		return -1;
	}
	*port_out = ntohs((uint16_t)found->s_port);
	return 0;
}

/* Host characters: those of names and of IPv4/IPv6 addresses with scope. */
static bool
is_host_text(const char *host)
{
	for (const char *cp = host; *cp; cp++)
		if (!isalnum((unsigned char)*cp) && !strchr("-._:%", *cp))
			return false;
	return true;
}

/*
 * Split text into a host part and a port part (copies in *host_out and
 * *port_out). Returns 0, or -1 with the reason in err.
 */
static int
split_hostport(const char *text, char **host_out, char **port_out,
               struct err *err)
{
	const char *colon;

	if (*text == '[') {
		const char *close_bracket = strchr(text, ']');

		if (close_bracket == NULL) {
			err_set(err, "missing \"]\"");
			return -1;
		}
		if (close_bracket[1] == 0) {
			err_set(err, "missing port");
			return -1;
		}
		if (close_bracket[1] != ':') {
			err_set(err, "expected \":\" after \"]\"");
			return -1;
		}
		if (close_bracket == text + 1) {
			err_set(err, "empty host in \"[]\"");
			return -1;
		}
		*host_out =
		    xstrndup(text + 1, (size_t)(close_bracket - text - 1));
		*port_out = xstrdup(close_bracket + 2);
		return 0;
	}
	colon = strchr(text, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		err_set(err, "an IPv6 address must be enclosed in \"[]\"");
		return -1;
	}
	if (colon == NULL) {
		*host_out = xstrdup("");
		*port_out = xstrdup(text);
		return 0;
	}
	*host_out = xstrndup(text, (size_t)(colon - text));
	*port_out = xstrdup(colon + 1);
	return 0;
}

/* Validate the host part and convert the port part; -1 with err. */
static int
check_parts(const char *host, const char *port, unsigned *port_out,
            struct err *err)
{
	if (strcmp(host, "*") != 0 && !is_host_text(host)) {
		err_set(err, "invalid character in host");
		return -1;
	}
	return parse_port(port, port_out, err);
}

int
sock_hostport_parse(const char *text, char **host_out, unsigned *port_out,
                    struct err *err)
{
	char *host = NULL;
	char *port = NULL;
	unsigned value;
	int ret = -1;

	if (*text == 0)
		err_set(err, "empty");
	else if (split_hostport(text, &host, &port, err) == 0)
		ret = check_parts(host, port, &value, err);
	free(port);
	if (ret < 0) {
		free(host);
		err_prefix(err, "address \"%s\"", text);
		return -1;
	}
	if (strcmp(host, "*") == 0)
		host[0] = 0;
	*host_out = host;
	*port_out = value;
	return 0;
}

static bool
is_numeric_host(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	       inet_pton(AF_INET6, host, &a6) == 1;
}

/* errno for a getaddrinfo failure: temporary, no such host, or other. */
static int
gai_errno(int rc)
{
	switch (rc) {
	case EAI_SYSTEM:
		return errno;
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return EADDRNOTAVAIL;
	default:
		return EINVAL;
	}
}

/* Copy the distinct addresses of res into a new array. */
static int
collect_addrs(const struct addrinfo *res, struct sock_addr **addrs_out)
{
	struct sock_addr *addrs;
	const struct addrinfo *ai;
	size_t count = 0;
	size_t i;

	for (ai = res; ai != NULL; ai = ai->ai_next)
		count++;
	addrs = xcalloc(count, sizeof(*addrs));
	count = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(addrs->storage))
			continue;
		for (i = 0; i < count; i++)
			if (addrs[i].len == ai->ai_addrlen &&
			    memcmp(&addrs[i].storage, ai->ai_addr,
			           ai->ai_addrlen) == 0)
				break;
		if (i < count)
			continue;
		memcpy(&addrs[count].storage, ai->ai_addr, ai->ai_addrlen);
		addrs[count++].len = ai->ai_addrlen;
	}
	*addrs_out = addrs;
	return (int)count;
}

int
sock_resolve(const char *host, unsigned port, int family,
             struct sock_addr **addrs_out, struct err *err)
{
	struct addrinfo hints = {.ai_family = family,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char service[SOCK_PORT_TEXT_MAX];
	int rc;

	snprintf(service, sizeof(service), "%u", port);
	if (*host == 0)
		hints.ai_flags |= AI_PASSIVE;
	else if (is_numeric_host(host))
		hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(*host ? host : NULL, service, &hints, &res);
	if (rc != 0) {
		err_set(err, "resolve %s: %s", *host ? host : "*",
		        rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		errno = gai_errno(rc);
		return -1;
	}
	rc = collect_addrs(res, addrs_out);
	freeaddrinfo(res);
	return rc;
}

/* IPv6, with an IPv4-mapped address shown as plain IPv4. */
static int
format_inet6(const struct sockaddr_in6 *sin6, struct sock_addr_text *out)
{
	struct in_addr mapped;

	snprintf(out->port, sizeof(out->port), "%u", ntohs(sin6->sin6_port));
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(&mapped, &sin6->sin6_addr.s6_addr[12], sizeof(mapped));
		inet_ntop(AF_INET, &mapped, out->addr, sizeof(out->addr));
		return 0;
	}
	if (getnameinfo((const struct sockaddr *)sin6, sizeof(*sin6), out->addr,
	                sizeof(out->addr), NULL, 0, NI_NUMERICHOST) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
format_unix(const struct sockaddr_un *sun, socklen_t len,
            struct sock_addr_text *out)
{
	size_t path_len = len - offsetof(struct sockaddr_un, sun_path);
	const char *path = sun->sun_path;
	size_t used = 0;

	if (len <= offsetof(struct sockaddr_un, sun_path))
		return 0;
	if (path_len > sizeof(sun->sun_path))
		path_len = sizeof(sun->sun_path);
	if (path[0] == 0) {
		out->addr[used++] = '@';
		path++;
		path_len--;
	}
	path_len = strnlen(path, path_len);
	/* UNSAFE: addr holds sizeof(sun_path) + 2 bytes or more. */
	memcpy(out->addr + used, path, path_len);
	out->addr[used + path_len] = 0;
	return 0;
}

int
sock_addr_format(const struct sockaddr *sa, socklen_t len,
                 struct sock_addr_text *out)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(sa->sa_family)) {
		errno = EINVAL;
		return -1;
	}
	switch (sa->sa_family) {
	case AF_UNIX:
		return format_unix((const struct sockaddr_un *)sa, len, out);
	case AF_INET:
		if (len < sizeof(*sin))
			break;
		inet_ntop(AF_INET, &sin->sin_addr, out->addr,
		          sizeof(out->addr));
		snprintf(out->port, sizeof(out->port), "%u",
		         ntohs(sin->sin_port));
		return 0;
	case AF_INET6:
		if (len < sizeof(*sin6))
			break;
		return format_inet6(sin6, out);
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
	errno = EINVAL;
	return -1;
}

int
sock_local_addr(int fd, struct sock_addr_text *out)
{
	struct sock_addr addr = {.len = sizeof(addr.storage)};

	if (getsockname(fd, (struct sockaddr *)&addr.storage, &addr.len) < 0)
		return -1;
	return sock_addr_format((struct sockaddr *)&addr.storage, addr.len,
	                        out);
}

int
sock_peer_addr(int fd, struct sock_addr_text *out)
{
	struct sock_addr addr = {.len = sizeof(addr.storage)};

	if (getpeername(fd, (struct sockaddr *)&addr.storage, &addr.len) < 0)
		return -1;
	return sock_addr_format((struct sockaddr *)&addr.storage, addr.len,
	                        out);
}

int
sock_local_port(int fd)
{
	struct sock_addr addr = {.len = sizeof(addr.storage)};

	if (getsockname(fd, (struct sockaddr *)&addr.storage, &addr.len) < 0)
		return -1;
	if (addr.storage.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&addr.storage)->sin_port);
	if (addr.storage.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr.storage)->sin6_port);
	errno = EAFNOSUPPORT;
	return -1;
}
