/*
 * smtpd.c - the SMTP server daemon: service definition and configuration.
 *
 * Skeleton SKEL_SINGLE, master.cf type inet ("smtp inet n - n - - smtpd",
 * or any "host:port inet ..." service): one client at a time. It reads
 * main.cf once, then smtpd_proto.c speaks SMTP with each
 * client and hands accepted mail to the cleanup service
 * (public/$cleanup_service_name). Touches nothing but its client, the
 * cleanup socket, the lookup tables its restrictions name, and the log.
 * pre_init (privileged, as in Postfix) reads main.cf and opens those
 * tables, so root-only table files work, and sets up the DNS resolver
 * (before any chroot, so resolv.conf and dns_resolver_conf are read);
 * all else runs as mail_owner. It also talks to the name servers: the
 * client's reverse name (smtpd_peer.c) and the DNS-based restrictions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "global/mail_server.h"

#include "smtpd/smtpd.h"
#include "smtpd/smtpd_check.h"

static char *
expand_str(struct mail_conf *conf, const char *name)
{
	return xstrdup(mail_conf_str(conf, name));
}

static int
time_ms(struct mail_conf *conf, const char *name)
{
	long long secs = mail_conf_time(conf, name);

	return secs > 2000000 ? 2000000000 : (int)(secs * 1000);
}

static struct argv *
lower_list(struct mail_conf *conf, const char *name)
{
	struct argv *list = mail_conf_list(conf, name);

	for (size_t i = 0; i < list->count; i++)
		for (char *cp = list->items[i]; *cp; cp++)
			if (*cp >= 'A' && *cp <= 'Z')
				*cp = (char)(*cp - 'A' + 'a');
	return list;
}

/* Postfix's cleanup service is public (master.cf private = n). */
static char *
cleanup_path(struct mail_conf *conf)
{
	struct strbuf path;
	char *result;

	strbuf_init(&path, STRBUF_UNLIMITED);
	(void)strbuf_printf(&path, "public/%s",
			    mail_conf_str(conf, "cleanup_service_name"));
	result = xstrdup(path.data);
	strbuf_deinit(&path);
	return result;
}

static void
conf_load_limits(struct smtpd_conf *sc, struct mail_conf *conf)
{
	sc->message_size_limit = mail_conf_size(conf, "message_size_limit");
	sc->queue_minfree = mail_conf_size(conf, "queue_minfree");
	sc->line_length_limit = (int)mail_conf_int(conf, "line_length_limit");
	sc->recipient_limit = (int)mail_conf_int(conf, "smtpd_recipient_limit");
	sc->timeout_ms = time_ms(conf, "smtpd_timeout");
	sc->ipc_timeout_ms = time_ms(conf, "ipc_timeout");
	sc->hard_error_limit =
		(int)mail_conf_int(conf, "smtpd_hard_error_limit");
	sc->soft_error_limit =
		(int)mail_conf_int(conf, "smtpd_soft_error_limit");
	sc->error_sleep_ms = time_ms(conf, "smtpd_error_sleep_time");
	sc->junk_command_limit =
		(int)mail_conf_int(conf, "smtpd_junk_command_limit");
}

/*
 * local_header_rewrite_clients. Postern knows permit_inet_interfaces,
 * permit_mynetworks and (never true without SASL and TLS)
 * permit_sasl_authenticated, permit_tls_clientcerts and
 * permit_tls_all_clientcerts; anything else is a fatal error.
 */
static void
header_clients_load(struct smtpd_conf *sc, struct mail_conf *conf)
{
	static const char *const known[] = {
		"permit_inet_interfaces",   "permit_mynetworks",
		"permit_sasl_authenticated", "permit_tls_clientcerts",
		"permit_tls_all_clientcerts",
	};
	struct argv *words = lower_list(conf, "local_header_rewrite_clients");

	for (size_t i = 0; i < words->count; i++) {
		bool is_known = false;

		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			is_known |= strcmp(words->items[i], known[k]) == 0;
		if (!is_known)
			log_fatal("local_header_rewrite_clients: unsupported "
				  "restriction \"%s\"",
				  words->items[i]);
		if (strcmp(words->items[i], "permit_inet_interfaces") == 0 &&
		    sc->resolve == NULL)
			sc->resolve = resolve_create(conf);
	}
	sc->local_header_clients = words;
}

struct smtpd_conf *
smtpd_conf_load(struct mail_conf *conf)
{
	struct smtpd_conf *sc = xcalloc(1, sizeof(*sc));
	const char *bare_lf = mail_conf_str(conf, "smtpd_forbid_bare_newline");
	struct err err;

	sc->banner = expand_str(conf, "smtpd_banner");
	sc->myhostname = expand_str(conf, "myhostname");
	sc->mail_name = expand_str(conf, "mail_name");
	sc->cleanup_path = cleanup_path(conf);
	conf_load_limits(sc, conf);
	sc->is_helo_required = mail_conf_bool(conf, "smtpd_helo_required");
	sc->is_vrfy_disabled = mail_conf_bool(conf, "disable_vrfy_command");
	sc->is_smtputf8_enabled = mail_conf_bool(conf, "smtputf8_enable");
	sc->is_strict_rfc821 = mail_conf_bool(conf, "strict_rfc821_envelopes");
	sc->is_strict_smtputf8 = mail_conf_bool(conf, "strict_smtputf8");
	sc->is_unauth_pipe_forbidden =
		mail_conf_bool(conf, "smtpd_forbid_unauth_pipelining");
	if (smtp_bare_lf_from_name(bare_lf, &sc->bare_lf) < 0)
		log_fatal("invalid smtpd_forbid_bare_newline value: \"%s\"",
			  bare_lf);
	sc->bare_lf_code = (int)mail_conf_int(
		conf, "smtpd_forbid_bare_newline_reject_code");
	sc->discard_ehlo = lower_list(conf, "smtpd_discard_ehlo_keywords");
	sc->want_peername = mail_conf_bool(conf, "smtpd_peername_lookup");
	sc->use_system_resolver =
		*mail_conf_str(conf, "dns_resolver_conf") == 0;
	sc->dns = dns_resolver_create(mail_conf_str(conf, "dns_resolver_conf"),
				      &err);
	if (sc->dns == NULL)
		log_fatal("dns_resolver_conf: %s", err.text);
	if ((sc->check = smtpd_check_create(conf, sc->dns, &err)) == NULL)
		log_fatal("%s", err.text);
	header_clients_load(sc, conf);
	return sc;
}

void
smtpd_conf_destroy(struct smtpd_conf **confp)
{
	struct smtpd_conf *sc = *confp;

	if (sc == NULL)
		return;
	free(sc->banner);
	free(sc->myhostname);
	free(sc->mail_name);
	free(sc->cleanup_path);
	argv_destroy(&sc->discard_ehlo);
	argv_destroy(&sc->local_header_clients);
	resolve_destroy(&sc->resolve);
	smtpd_check_destroy(&sc->check);
	dns_resolver_destroy(&sc->dns);
	free(sc);
	*confp = NULL;
}

static void
smtpd_init(struct server *server)
{
	server->ctx = smtpd_conf_load(server->conf);
}

/* The skeleton opens the client with STREAM_AUTOFLUSH (see smtpd_service):
 * replies to pipelined commands go out in one batch when the client's input
 * is used up. */
static void
smtpd_serve(struct server *server, struct stream *client)
{
	smtpd_session_run(server->ctx, client);
}

static void
smtpd_exit(struct server *server)
{
	struct smtpd_conf *sc = server->ctx;

	smtpd_conf_destroy(&sc);
	server->ctx = NULL;
}

static const struct service_def smtpd_service = {
	.name = "smtpd",
	.kind = SKEL_SINGLE,
	.stream_flags = STREAM_AUTOFLUSH,
	.pre_init = smtpd_init,
	.on_client = smtpd_serve,
	.on_exit = smtpd_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &smtpd_service);
}
