/*
 * smtp_agent.c - the smtp/lmtp delivery agent's service (see
 * smtp_agent.h): hosts in order, one session each, outcomes reported
 * through deliver_request.h, connections reused through the connection
 * cache (smtp_cache.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "global/deliver_request.h"
#include "global/dns.h"
#include "global/mail_params.h"
#include "global/mail_server.h"
#include "global/resolve.h"
#include "global/scache_clnt.h"
#include "global/smtp_agent.h"
#include "global/smtp_cache.h"
#include "global/smtp_dest.h"
#include "global/smtp_session.h"
#include "util/argv.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/tokens.h"

struct smtp_agent {
	bool is_lmtp;
	struct smtp_session_conf sconf;
	char *helo_name;
	int connect_timeout_ms;
	size_t mx_address_limit;
	size_t mx_session_limit;
	bool skip_5xx_greeting;
	unsigned default_port;
	char *fallback_relay;
	char *bind4, *bind6;
	char *myhostname;
	struct smtp_resolver res;
	struct resolve *self; /* inet_interfaces and proxy_interfaces */
	struct smtp_cache *cache; /* connection reuse (smtp_connection_*) */
};

/* The connection a transaction runs over, and what the cache keeps of
 * it (e.uses: transactions so far, over all agent processes). */
struct conn {
	struct smtp_session *s;
	struct smtp_cache_endp e;
};

/* One request on its way. */
struct attempt {
	struct smtp_agent *a;
	struct deliver_request *req;
	struct smtp_txn txn;
	struct smtp_outcome site; /* the last failure of a whole host */
	char relay[SOCK_ADDR_TEXT_MAX + 300];
	char mta[300];
	size_t sessions;
	bool has_session;
	bool is_done; /* stop trying hosts */
	bool is_fallback; /* trying smtp_fallback_relay */
	bool want_lookup; /* look in the connection cache */
	struct timespec start;
	double conn_setup;
	unsigned conn_use; /* deliveries over the current connection */
};

/* ------------------------------------------------------------------ */
/* Set-up.                                                              */

/* "smtp_NAME" or "lmtp_NAME" (lhlo for helo with LMTP). */
static const char *
param(const struct smtp_agent *a, const char *name, char *buf, size_t size)
{
	if (a->is_lmtp && strncmp(name, "helo_", 5) == 0)
		snprintf(buf, size, "lmtp_lhlo_%s", name + 5);
	else
		snprintf(buf, size, "%s_%s", a->is_lmtp ? "lmtp" : "smtp", name);
	return buf;
}

#define P(name) param(a, name, pbuf, sizeof(pbuf))

static int
time_ms(struct mail_conf *conf, const char *name)
{
	long long s = mail_conf_time(conf, name);

	return s > 2000000 ? 2000000000 : (int)(s * 1000);
}

static void
agent_timeouts(struct smtp_agent *a, struct mail_conf *conf)
{
	static const struct {
		enum smtp_stage stage;
		const char *name;
	} map[] = {
		{ SMTP_STAGE_GREETING, "helo_timeout" },
		{ SMTP_STAGE_HELO, "helo_timeout" },
		{ SMTP_STAGE_MAIL, "mail_timeout" },
		{ SMTP_STAGE_RCPT, "rcpt_timeout" },
		{ SMTP_STAGE_DATA, "data_init_timeout" },
		{ SMTP_STAGE_BODY, "data_xfer_timeout" },
		{ SMTP_STAGE_DOT, "data_done_timeout" },
		{ SMTP_STAGE_RSET, "quit_timeout" },
		{ SMTP_STAGE_QUIT, "quit_timeout" },
	};
	char pbuf[80];

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		a->sconf.timeout_ms[map[i].stage] = time_ms(conf, P(map[i].name));
	a->connect_timeout_ms = time_ms(conf, P("connect_timeout"));
	if (a->connect_timeout_ms == 0)
		a->connect_timeout_ms = -1;
}

static bool
list_has(struct mail_conf *conf, const char *name, const char *word)
{
	struct argv *av = mail_conf_list(conf, name);
	bool found = false;

	for (size_t i = 0; i < av->count; i++)
		if (strcasecmp(av->items[i], word) == 0)
			found = true;
	argv_destroy(&av);
	return found;
}

static bool
agent_is_self(void *ctx, const char *addr_text)
{
	return resolve_is_our_address(ctx, addr_text);
}

static void
agent_resolver(struct smtp_agent *a, struct mail_conf *conf)
{
	char pbuf[80];
	const char *level = mail_conf_str(conf, P("dns_support_level"));
	bool has_dns = !mail_conf_bool(conf, "disable_dns_lookups") &&
		       strcmp(level, "disabled") != 0 &&
		       list_has(conf, P("host_lookup"), "dns");
	struct err err;

	if (dns_inet_protocols(mail_conf_str(conf, "inet_protocols"),
			       &a->res.families, &err) < 0 ||
	    dns_addr_pref_parse(mail_conf_str(conf, P("address_preference")),
				&a->res.pref, &err) < 0)
		log_fatal("%s", err.text);
	a->res.want_mx = has_dns && !a->is_lmtp;
	a->res.is_native = !has_dns;
	a->res.myhostname = a->myhostname;
	a->res.dns = dns_resolver_create(
		mail_conf_str(conf, "dns_resolver_conf"), &err);
	if (a->res.dns == NULL)
		log_fatal("%s", err.text);
	/* Our own addresses, so an MX pointing at us is a loop, not a peer. */
	a->self = resolve_create(conf);
	a->res.is_self = agent_is_self;
	a->res.self_ctx = a->self;
}

/* The connection cache: private/$connection_cache_service_name. */
static void
agent_cache(struct smtp_agent *a, struct mail_conf *conf, const char *service)
{
	char pbuf[80];
	struct argv *dests =
		mail_conf_list(conf, P("connection_cache_destinations"));
	long long ttl = mail_conf_time(conf, P("connection_cache_time_limit"));
	struct smtp_cache_conf cc = {
		.service = service,
		.helo_name = a->helo_name,
		.cache_on_demand =
			mail_conf_bool(conf, P("connection_cache_on_demand")),
		.cache_destinations = dests,
		.cache_time_limit = ttl > SCACHE_TTL_MAX ? SCACHE_TTL_MAX
							 : (int)ttl,
		.reuse_time_limit_ms =
			mail_conf_time(conf,
				       P("connection_reuse_time_limit")) *
			1000,
		.reuse_count_limit = (unsigned)mail_conf_int(
			conf, P("connection_reuse_count_limit")),
	};
	char *path = xasprintf(
		"private/%s",
		mail_conf_str(conf, "connection_cache_service_name"));

	a->cache = smtp_cache_create(
		&cc, scache_clnt_create(
			     path,
			     time_ms(conf, "connection_cache_protocol_timeout"),
			     SCACHE_CLNT_RETRY_MS));
	free(path);
	argv_destroy(&dests);
}

struct smtp_agent *
smtp_agent_create(struct mail_conf *conf, bool is_lmtp, const char *service)
{
	struct smtp_agent *a = xmalloc(sizeof(*a));
	char pbuf[80];
	int port;

	a->is_lmtp = is_lmtp;
	a->helo_name = xstrdup(mail_conf_str(conf, P("helo_name")));
	a->myhostname = xstrdup(mail_conf_str(conf, "myhostname"));
	a->sconf.is_lmtp = is_lmtp;
	a->sconf.helo_name = a->helo_name;
	a->sconf.never_send_ehlo =
		!is_lmtp && mail_conf_bool(conf, "smtp_never_send_ehlo");
	a->sconf.line_length_limit =
		(size_t)mail_conf_int(conf, P("line_length_limit"));
	a->sconf.reply_line_limit =
		(size_t)mail_conf_int(conf, "line_length_limit");
	a->sconf.want_mime_downgrade =
		!mail_conf_bool(conf, "disable_mime_output_conversion");
	mime_downgrade_limits_read(conf, &a->sconf.mime_limits);
	agent_timeouts(a, conf);
	a->mx_address_limit = (size_t)mail_conf_int(conf, P("mx_address_limit"));
	a->mx_session_limit = (size_t)mail_conf_int(conf, P("mx_session_limit"));
	a->skip_5xx_greeting = mail_conf_bool(conf, P("skip_5xx_greeting"));
	port = smtp_dest_port(mail_conf_str(conf, P("tcp_port")));
	a->default_port = port > 0 ? (unsigned)port : is_lmtp ? 24 : 25;
	a->fallback_relay = xstrdup(mail_conf_str(conf, P("fallback_relay")));
	a->bind4 = xstrdup(mail_conf_str(conf, P("bind_address")));
	a->bind6 = xstrdup(mail_conf_str(conf, P("bind_address6")));
	agent_resolver(a, conf);
	agent_cache(a, conf, service);
	return a;
}

/* ------------------------------------------------------------------ */
/* Connections.                                                         */

/* QUIT (when still in step), close and free; NULL-safe. */
static void
conn_close(struct conn **kp)
{
	struct conn *k = *kp;

	if (k == NULL)
		return;
	*kp = NULL;
	smtp_session_quit(k->s);
	smtp_session_destroy(&k->s);
	smtp_cache_endp_clear(&k->e);
	free(k);
}

void
smtp_agent_destroy(struct smtp_agent **ap)
{
	struct smtp_agent *a = *ap;

	if (a == NULL)
		return;
	*ap = NULL;
	smtp_cache_destroy(&a->cache);
	dns_resolver_destroy(&a->res.dns);
	resolve_destroy(&a->self);
	free(a->helo_name);
	free(a->myhostname);
	free(a->fallback_relay);
	free(a->bind4);
	free(a->bind6);
	free(a);
}

/* ------------------------------------------------------------------ */
/* Connecting.                                                          */

static int
bind_local(const struct smtp_agent *a, int fd, int family)
{
	const char *text = family == AF_INET6 ? a->bind6 : a->bind4;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	if (text[0] == 0)
		return 0;
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		len = sizeof(*sin6);
		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			log_fatal("bad smtp_bind_address6 value: %s", text);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		len = sizeof(*sin);
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			log_fatal("bad smtp_bind_address value: %s", text);
	}
	return bind(fd, (struct sockaddr *)&ss, len);
}

static int
tcp_connect(const struct smtp_agent *a, const struct smtp_host *h)
{
	int family = h->addr.storage.ss_family;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int saved;

	if (fd < 0)
		return -1;
	if (bind_local(a, fd, family) == 0 &&
	    sock_connect_fd(fd, &h->addr, a->connect_timeout_ms) == 0)
		return fd;
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

/* A connected descriptor, or -1 with o set ("connect to X[A]:P: ..."). */
static int
host_connect(const struct smtp_agent *a, const struct smtp_host *h,
	     struct smtp_outcome *o)
{
	int fd;

	if (h->is_unix) {
		fd = sock_connect_unix(h->addr_text, a->connect_timeout_ms,
				       NULL);
		if (fd < 0)
			smtp_outcome_set(o, "4.4.1", "connect to %s[%s]: %s",
					 h->name, h->addr_text,
					 strerror(errno));
		return fd;
	}
	if ((fd = tcp_connect(a, h)) < 0)
		smtp_outcome_set(o, "4.4.1", "connect to %s[%s]:%u: %s",
				 h->name, h->addr_text, h->port,
				 strerror(errno));
	return fd;
}

/* ------------------------------------------------------------------ */
/* Reporting.                                                           */

static double
seconds_since(const struct timespec *t0)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
report(struct attempt *t, size_t i, const struct smtp_outcome *o, int kind)
{
	struct deliver_status st = {
		.relay = t->relay,
		.dsn = o->dsn[0] ? o->dsn : "4.0.0",
		.reason = o->reason ? o->reason : "delivery failed",
		.mta_name = o->code != 0 ? t->mta : NULL,
		.diag_text = o->diag,
		.conn_setup = t->conn_setup,
		.conn_use = t->conn_use,
	};
	struct err err;

	if (t->req->results[i] != 0)
		return;
	if (kind == DELIVER_RESULT_SENT)
		(void)deliver_sent(t->req, i, &st, &err);
	else if (kind == DELIVER_RESULT_BOUNCED)
		(void)deliver_bounced(t->req, i, &st, &err);
	else
		(void)deliver_deferred(t->req, i, &st, &err);
}

/* Report what this session settled; keep soft failures for the next. */
static void
report_session(struct attempt *t)
{
	for (size_t i = 0; i < t->txn.rcpt_count; i++) {
		struct smtp_txn_rcpt *r = &t->txn.rcpts[i];

		if (r->state == SMTP_RCPT_SENT)
			report(t, i, &r->outcome, DELIVER_RESULT_SENT);
		else if (r->state == SMTP_RCPT_BOUNCE)
			report(t, i, &r->outcome, DELIVER_RESULT_BOUNCED);
		if (r->outcome.dsn[0] == '4' && r->outcome.code == 0 &&
		    strcmp(r->outcome.dsn, "4.3.0") == 0)
			t->is_done = true; /* our own trouble: stop here */
	}
}

/* Every recipient without an outcome: deferred (or bounced by kind). */
static void
report_rest(struct attempt *t, int kind)
{
	for (size_t i = 0; i < t->txn.rcpt_count; i++) {
		struct smtp_txn_rcpt *r = &t->txn.rcpts[i];

		if (r->state == SMTP_RCPT_SENT || r->state == SMTP_RCPT_BOUNCE)
			continue;
		report(t, i, r->outcome.reason ? &r->outcome : &t->site,
		       r->outcome.reason ? DELIVER_RESULT_DEFERRED : kind);
	}
}

static bool
all_settled(const struct attempt *t)
{
	for (size_t i = 0; i < t->txn.rcpt_count; i++)
		if (t->txn.rcpts[i].state != SMTP_RCPT_SENT &&
		    t->txn.rcpts[i].state != SMTP_RCPT_BOUNCE)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Sessions.                                                            */

/* relay=host[addr]:port (host[path] for UNIX) and the DSN MTA name. */
static void
set_relay(struct attempt *t, const char *host, const char *addr,
	  unsigned port, bool is_unix)
{
	if (is_unix)
		snprintf(t->relay, sizeof(t->relay), "%s[%s]", host, addr);
	else
		snprintf(t->relay, sizeof(t->relay), "%s[%s]:%u", host, addr,
			 port);
	snprintf(t->mta, sizeof(t->mta), "dns; %s", host);
}

static int
queue_content(void *source, smtp_piece_fn *out, void *ctx, struct err *err)
{
	return deliver_content(source, out, ctx, err);
}

/* Greeting failed: a 5xx without smtp_skip_5xx_greeting bounces all. */
static void
start_failed(struct attempt *t, struct smtp_outcome *o)
{
	if (o->code / 100 == 5 && !t->a->skip_5xx_greeting) {
		smtp_outcome_move(&t->site, o);
		report_rest(t, DELIVER_RESULT_BOUNCED);
		t->is_done = true;
		return;
	}
	smtp_outcome_move(&t->site, o);
}

/*
 * After a transaction that ended in step: hand the connection to the
 * cache when this request wants it kept and the reuse limits allow, else
 * QUIT. Takes k.
 */
static void
session_done(struct attempt *t, struct conn *k)
{
	struct smtp_agent *a = t->a;
	int fd;

	if (!smtp_session_is_usable(k->s) ||
	    !smtp_cache_want_store(a->cache, t->req->nexthop, t->req->flags) ||
	    !smtp_cache_is_reusable(a->cache, &k->e, clock_ms()) ||
	    (fd = smtp_session_detach(&k->s, &k->e.state)) < 0) {
		conn_close(&k);
		return;
	}
	/* A fallback relay is found again by address, not for the nexthop. */
	(void)smtp_cache_save(a->cache, t->is_fallback ? NULL : t->req->nexthop,
			      &k->e, fd);
	smtp_cache_endp_clear(&k->e);
	free(k);
}

/*
 * One transaction over k's connection; then report what it settled and
 * keep or close the connection. Returns false, with the recipients as
 * they were and the connection closed, when a cached connection
 * (is_reused) failed at RSET or MAIL: the caller connects afresh.
 */
static bool
session_run(struct attempt *t, struct conn *k, bool is_reused)
{
	enum smtp_rcpt_state *before =
		xcalloc(t->txn.rcpt_count, sizeof(*before));
	struct smtp_outcome o = { 0 };
	struct err err;
	int ret;

	for (size_t i = 0; i < t->txn.rcpt_count; i++) {
		struct smtp_txn_rcpt *r = &t->txn.rcpts[i];

		r->is_accepted = false;
		if (r->state == SMTP_RCPT_SOFT)
			r->state = SMTP_RCPT_TODO;
		before[i] = r->state;
	}
	if (is_reused && smtp_session_rset(k->s, &o) < 0) {
		smtp_outcome_clear(&o);
		ret = -2;
	} else {
		ret = smtp_session_send(k->s, &t->txn, &err);
		if (is_reused && t->txn.is_mail_failed)
			ret = -2;
	}
	if (ret == -2) {
		for (size_t i = 0; i < t->txn.rcpt_count; i++) {
			smtp_outcome_clear(&t->txn.rcpts[i].outcome);
			t->txn.rcpts[i].state = before[i];
		}
		free(before);
		conn_close(&k);
		return false;
	}
	free(before);
	t->sessions++;
	t->has_session = true;
	k->e.uses++;
	t->conn_use = k->e.uses;
	report_session(t);
	session_done(t, k);
	return true;
}

/* A connection from the cache (fd, described by e, which it takes):
 * see session_run. */
static bool
try_cached(struct attempt *t, int fd, struct smtp_cache_endp *e)
{
	struct conn *k = xcalloc(1, sizeof(*k));

	k->e = *e;
	memset(e, 0, sizeof(*e));
	k->s = smtp_session_resume(fd, k->e.host, k->e.addr, &t->a->sconf,
				   &k->e.state);
	set_relay(t, k->e.host, k->e.addr, k->e.port, k->e.is_unix);
	t->conn_setup = seconds_since(&t->start);
	if (session_run(t, k, true))
		return true;
	snprintf(t->relay, sizeof(t->relay), "none");
	return false;
}

/* A fresh connection's description, for the log and the cache. */
static struct conn *
conn_create(struct smtp_session *s, const struct smtp_host *h)
{
	struct conn *k = xcalloc(1, sizeof(*k));

	k->s = s;
	k->e.host = xstrdup(h->name);
	k->e.addr = xstrdup(h->addr_text);
	k->e.port = h->is_unix ? 0 : h->port;
	k->e.is_unix = h->is_unix;
	k->e.created_ms = clock_ms();
	return k;
}

static void
try_host(struct attempt *t, const struct smtp_host *h)
{
	struct smtp_outcome o = { 0 };
	struct smtp_cache_endp e;
	struct smtp_session *s;
	struct conn *k;
	int fd;

	if (t->want_lookup &&
	    (fd = smtp_cache_find_endp(t->a->cache, h->addr_text, h->port,
				       h->is_unix, &e)) >= 0 &&
	    try_cached(t, fd, &e))
		return;
	set_relay(t, h->name, h->addr_text, h->port, h->is_unix);
	if ((fd = host_connect(t->a, h, &o)) < 0) {
		log_info("%s", o.reason); /* as Postfix: no queue ID */
		smtp_outcome_move(&t->site, &o);
		return;
	}
	s = smtp_session_create(fd, h->name, h->addr_text, &t->a->sconf);
	k = conn_create(s, h);
	if (smtp_session_start(s, &o) < 0) {
		start_failed(t, &o);
		conn_close(&k);
		return;
	}
	t->conn_setup = seconds_since(&t->start);
	(void)session_run(t, k, false);
}

/* Try the hosts of one destination list ("a, b c"). */
static void
try_destinations(struct attempt *t, const char *text, bool is_fallback,
		 struct smtp_host_list *list)
{
	struct argv *dests = argv_split(text, TOKENS_LIST_DELIMS);
	struct smtp_dest d;
	struct err err;

	t->is_fallback = is_fallback;
	for (size_t i = 0; i < dests->count && !t->is_done; i++) {
		size_t first = list->count;

		if (smtp_dest_parse(dests->items[i], t->a->is_lmtp,
				    t->a->default_port, &d, &err) < 0) {
			smtp_outcome_set(&t->site, "4.3.5", "%s", err.text);
			log_warning("%s: %s", t->req->queue_id, err.text);
			continue;
		}
		smtp_dest_hosts(&t->a->res, &d, t->a->mx_address_limit, list);
		smtp_dest_clear(&d);
		for (size_t h = first; h < list->count && !t->is_done; h++) {
			if (all_settled(t))
				t->is_done = true;
			else if (!is_fallback && t->a->mx_session_limit > 0 &&
				 t->sessions >= t->a->mx_session_limit)
				break;
			else
				try_host(t, &list->hosts[h]);
		}
		if (list->count == first && list->reason[0] != 0 &&
		    t->site.reason == NULL)
			smtp_outcome_set(&t->site, list->dsn, "%s",
					 list->reason);
	}
	argv_destroy(&dests);
}

static void
txn_fill(struct attempt *t)
{
	struct deliver_request *req = t->req;
	bool is_utf8 = false;

	t->txn.sender = req->sender;
	t->txn.size = req->data_size;
	/* "8bit" as Postfix queue files say; "8bitmime" accepted too. */
	t->txn.is_8bit = strcmp(req->encoding, "8bit") == 0 ||
			 strcmp(req->encoding, "8bitmime") == 0;
	t->txn.is_7bit = strcmp(req->encoding, "7bit") == 0;
	t->txn.is_smtputf8 = req->smtputf8 != 0;
	t->txn.is_verify = (req->flags & DELIVER_FLAG_VERIFY) != 0;
	t->txn.dsn_envid = req->dsn_envid;
	t->txn.dsn_ret = req->dsn_ret;
	t->txn.content = queue_content;
	t->txn.content_source = req;
	t->txn.rcpt_count = req->rcpt_count;
	t->txn.rcpts = xcalloc(req->rcpt_count, sizeof(*t->txn.rcpts));
	for (const char *p = req->sender; *p; p++)
		is_utf8 |= (unsigned char)*p >= 0x80;
	for (size_t i = 0; i < req->rcpt_count; i++) {
		t->txn.rcpts[i].address = req->rcpts[i].address;
		t->txn.rcpts[i].dsn_orcpt = req->rcpts[i].dsn_orcpt;
		t->txn.rcpts[i].dsn_notify = req->rcpts[i].dsn_notify;
		for (const char *p = req->rcpts[i].address; *p; p++)
			is_utf8 |= (unsigned char)*p >= 0x80;
	}
	t->txn.is_smtputf8_required = t->txn.is_smtputf8 && is_utf8;
}

static void
txn_free(struct attempt *t)
{
	for (size_t i = 0; i < t->txn.rcpt_count; i++)
		smtp_outcome_clear(&t->txn.rcpts[i].outcome);
	free(t->txn.rcpts);
	smtp_outcome_clear(&t->site);
}

/* Deliver; returns DELIVER_STAT_*. */
static int
agent_deliver(struct attempt *t)
{
	struct smtp_host_list list = { 0 };
	struct smtp_cache_endp e;
	int kind, fd;

	snprintf(t->relay, sizeof(t->relay), "none");
	t->want_lookup = smtp_cache_want_lookup(t->a->cache, t->req->nexthop);
	if (t->want_lookup &&
	    (fd = smtp_cache_find_dest(t->a->cache, t->req->nexthop, &e)) >= 0)
		(void)try_cached(t, fd, &e);
	if (!all_settled(t))
		try_destinations(t, t->req->nexthop, false, &list);
	if (!t->is_done && !all_settled(t))
		try_destinations(t, t->a->fallback_relay, true, &list);
	if (t->site.reason == NULL)
		smtp_outcome_set(&t->site, "4.4.3", "%s",
				 list.reason[0] ? list.reason
						: "no mail exchanger found");
	/* No host at all, and the name service said no for good: bounce. */
	kind = list.count == 0 && t->site.dsn[0] == '5'
		       ? DELIVER_RESULT_BOUNCED
		       : DELIVER_RESULT_DEFERRED;
	smtp_host_list_free(&list);
	report_rest(t, kind);
	return t->has_session || kind == DELIVER_RESULT_BOUNCED
		       ? DELIVER_STAT_OK
		       : DELIVER_STAT_DEFER;
}

void
smtp_agent_serve(struct smtp_agent *a, struct stream *client,
		 const struct queue_layout *ql)
{
	struct attempt t = { .a = a };
	struct err err;
	int status;

	if ((t.req = deliver_request_read(client, ql, &err)) == NULL) {
		log_warning("%s", err.text);
		return;
	}
	(void)clock_gettime(CLOCK_REALTIME, &t.start);
	txn_fill(&t);
	status = agent_deliver(&t);
	if (deliver_request_reply(client, t.req, status,
				  status == DELIVER_STAT_DEFER ? t.site.dsn
							       : NULL,
				  status == DELIVER_STAT_DEFER ? t.site.reason
							       : NULL,
				  &err) < 0)
		log_warning("%s: %s", t.req->queue_id, err.text);
	txn_free(&t);
	deliver_request_free(&t.req);
}

/* ------------------------------------------------------------------ */
/* The daemons' skeleton callbacks, shared by smtp and lmtp.            */

struct agent_main {
	struct queue_layout *ql;
	struct smtp_agent *agent;
};

/*
 * Privileged: the resolver reads dns_resolver_conf and the tables are
 * opened before the drop to mail_owner, as in every other daemon.
 */
static void
agent_init(struct server *server, bool is_lmtp)
{
	struct agent_main *m = xmalloc(sizeof(*m));
	struct err err;

	if ((m->ql = queue_layout_for_daemon(server->conf, &err)) == NULL)
		log_fatal("%s", err.text);
	m->agent = smtp_agent_create(server->conf, is_lmtp,
				     server->service_name);
	server->ctx = m;
}

static void
smtp_init(struct server *server)
{
	agent_init(server, false);
}

static void
lmtp_init(struct server *server)
{
	agent_init(server, true);
}

static void
agent_exit(struct server *server)
{
	struct agent_main *m = server->ctx;

	smtp_agent_destroy(&m->agent);
	queue_layout_destroy(&m->ql);
	free(m);
}

static void
agent_serve(struct server *server, struct stream *client)
{
	struct agent_main *m = server->ctx;

	smtp_agent_serve(m->agent, client, m->ql);
}

static const struct service_def smtp_service = {
	.name = "smtp",
	.kind = SKEL_SINGLE,
	.pre_init = smtp_init,
	.on_client = agent_serve,
	.on_exit = agent_exit,
};

static const struct service_def lmtp_service = {
	.name = "lmtp",
	.kind = SKEL_SINGLE,
	.pre_init = lmtp_init,
	.on_client = agent_serve,
	.on_exit = agent_exit,
};

int
smtp_agent_main(int argc, char **argv, bool is_lmtp)
{
	return skel_main(argc, argv, is_lmtp ? &lmtp_service : &smtp_service);
}
