/*
 * dns_conf.c - read the file named by dns_resolver_conf.
 *
 * glibc reads only /etc/resolv.conf, so Postern reads the other file
 * itself and overrides the name servers and options of a private resolver
 * state. The syntax is resolv.conf's, plus "#PORT" after a name server
 * address (dns.h has the details). Errors name the file and line.
 * Security: the file is configuration, read with the line reader's limits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/line_reader.h"
#include "util/strbuf.h"

#include "global/dns_priv.h"

#define CONF_LINE_MAX 4096

struct conf_ctx {
	struct __res_state *state;
	struct sockaddr_in servers[MAXNS];
	int server_count;
	const char *path;
	int lineno;
	struct err *err;
};

static int conf_fail(struct conf_ctx *cx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
conf_fail(struct conf_ctx *cx, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	err_set(cx->err, "%s, line %d: %s", cx->path, cx->lineno, reason);
	return -1;
}

/* A decimal number in [min, max] ending at the end of text. */
static int
number_parse(const char *text, long min, long max, long *out)
{
	char *end;
	long value;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || *end != 0 || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

static int
nameserver_parse(struct conf_ctx *cx, const char *value)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(53)};
	char addr[64];
	const char *hash = strchr(value, '#');
	size_t len = hash ? (size_t)(hash - value) : strlen(value);
	struct in6_addr in6;
	long port;

	if (cx->server_count >= MAXNS)
		return conf_fail(cx, "more than %d nameserver lines", MAXNS);
	if (len >= sizeof(addr))
		return conf_fail(cx, "bad nameserver address: %s", value);
	memcpy(addr, value, len);
	addr[len] = 0;
	if (inet_pton(AF_INET6, addr, &in6) == 1)
		return conf_fail(cx,
				 "IPv6 nameserver %s is not supported here; "
				 "use an IPv4 address",
				 addr);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return conf_fail(cx, "bad nameserver address: %s", value);
	if (hash != NULL) {
		if (number_parse(hash + 1, 1, 65535, &port) < 0)
			return conf_fail(cx, "bad nameserver port: %s", value);
		sin.sin_port = htons((uint16_t)port);
	}
	cx->servers[cx->server_count++] = sin;
	return 0;
}

static int
option_parse(struct conf_ctx *cx, const char *opt)
{
	long value;

	if (strncmp(opt, "timeout:", 8) == 0) {
		if (number_parse(opt + 8, 1, 30, &value) < 0)
			return conf_fail(cx, "bad option (timeout is 1-30): %s",
					 opt);
		cx->state->retrans = (int)value;
	} else if (strncmp(opt, "attempts:", 9) == 0) {
		if (number_parse(opt + 9, 1, 5, &value) < 0)
			return conf_fail(cx, "bad option (attempts is 1-5): %s",
					 opt);
		cx->state->retry = (int)value;
	} else if (strcmp(opt, "use-vc") == 0) {
		cx->state->options |= RES_USEVC;
	} else if (strcmp(opt, "edns0") == 0) {
		cx->state->options |= RES_USE_EDNS0;
	} else {
		return conf_fail(cx, "unsupported option: %s", opt);
	}
	return 0;
}

/* One line, already split into words (at least one). */
static int
line_apply(struct conf_ctx *cx, const struct argv *words)
{
	const char *key = words->items[0];

	if (strcmp(key, "nameserver") == 0) {
		if (words->count != 2)
			return conf_fail(cx, "%s needs exactly one address",
					 key);
		return nameserver_parse(cx, words->items[1]);
	}
	if (strcmp(key, "options") == 0) {
		for (size_t i = 1; i < words->count; i++)
			if (option_parse(cx, words->items[i]) < 0)
				return -1;
		return 0;
	}
	if (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0 ||
	    strcmp(key, "sortlist") == 0)
		return 0;
	return conf_fail(cx, "unknown keyword: %s", key);
}

static int
conf_read(struct conf_ctx *cx, struct line_reader *lr)
{
	struct strbuf line;
	int status;

	strbuf_init(&line, CONF_LINE_MAX);
	while ((status = line_reader_next(lr, &line, cx->err)) == 1) {
		struct argv *words;

		cx->lineno = line_reader_lineno(lr);
		if (strbuf_text(&line)[0] == ';')
			continue;
		words = argv_split(strbuf_text(&line), " \t");
		status = words->count ? line_apply(cx, words) : 0;
		argv_destroy(&words);
		if (status < 0)
			break;
	}
	strbuf_deinit(&line);
	return status < 0 ? -1 : 0;
}

int
dns_conf_apply(struct __res_state *state, const char *path, struct err *err)
{
	struct conf_ctx cx = {.state = state, .path = path, .err = err};
	struct line_reader *lr = line_reader_open(path, err);

	if (lr == NULL)
		return -1;
	if (conf_read(&cx, lr) < 0) {
		line_reader_close(&lr);
		return -1;
	}
	line_reader_close(&lr);
	if (cx.server_count == 0) {
		err_set(err, "%s: no nameserver line", path);
		return -1;
	}
	/*
	 * glibc's res_send notices that nsaddr_list changed and rebuilds its
	 * private copy (and closes sockets to the old servers) on next use.
	 */
	state->nscount = cx.server_count;
	for (int i = 0; i < cx.server_count; i++)
		state->nsaddr_list[i] = cx.servers[i];
	return 0;
}
