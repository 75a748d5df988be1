/*
 * sock_addr.h - socket addresses: Postfix's syntax, resolution, printing.
 *
 * Addresses are written as Postfix writes them: "host:port",
 * "[ipv6-or-host]:port", or a port alone; ports may be numbers or
 * /etc/services names. Printed addresses follow Postfix's logs: no
 * brackets, and IPv4-mapped IPv6 addresses shown as IPv4.
 */
#ifndef POSTERN_UTIL_SOCK_ADDR_H
#define POSTERN_UTIL_SOCK_ADDR_H

#include <sys/socket.h>

#include "util/err.h"

/* A resolved address, big enough for any family. */
struct sock_addr {
	struct sockaddr_storage storage;
	socklen_t len;
};

/* Fits an IPv6 address with a scope, and any UNIX-domain path. */
#define SOCK_ADDR_TEXT_MAX 128
#define SOCK_PORT_TEXT_MAX 8

/*
 * Printable form of an address: addr is "192.0.2.1", "2001:db8::1" (no
 * brackets; an IPv4-mapped IPv6 address is shown as plain IPv4, as Postfix
 * does) or a UNIX-domain path ("" when unnamed, "@name" when abstract);
 * port is "25", or "" for UNIX-domain sockets.
 */
struct sock_addr_text {
	char addr[SOCK_ADDR_TEXT_MAX];
	char port[SOCK_PORT_TEXT_MAX];
};

/*
 * Split "host:port", "[host]:port", ":port", "*:port" or a port alone into
 * host (a new string the caller frees; "" for any address: empty, "*" or
 * absent) and port (0-65535; a service name is looked up for tcp). An IPv6
 * address must be bracketed. Returns 0, or -1 with err 'address "TEXT":
 * reason' (empty, missing port, missing "]", port out of range, unknown
 * service, ...), and *host_out untouched.
 */
int sock_hostport_parse(const char *text, char **host_out, unsigned *port_out,
                        struct err *err);

/*
 * Resolve host ("" for the wildcard address of each family) and port for
 * TCP with getaddrinfo (AI_NUMERICHOST when host is a numeric address).
 * family is AF_UNSPEC, AF_INET or AF_INET6. Returns the number of distinct
 * addresses (>= 1) with *addrs_out an array the caller frees, or -1 with
 * err "resolve HOST: reason" and errno EAGAIN (temporary failure),
 * EADDRNOTAVAIL (no such host or no address of that family) or other.
 */
int sock_resolve(const char *host, unsigned port, int family,
                 struct sock_addr **addrs_out, struct err *err);

/*
 * Printable address and port of sa. Returns 0, or -1 with errno
 * EAFNOSUPPORT for a family other than IPv4, IPv6 and UNIX, or EINVAL for
 * a truncated address.
 */
int sock_addr_format(const struct sockaddr *sa, socklen_t len,
                     struct sock_addr_text *out);

/* The local or remote address of a socket. Returns 0, or -1 with errno. */
int sock_local_addr(int fd, struct sock_addr_text *out);
int sock_peer_addr(int fd, struct sock_addr_text *out);

/* The local TCP port of a socket (after binding port 0), or -1 with errno. */
int sock_local_port(int fd);

#endif
