/*
 * mail_server.h - the skeleton every daemon is built on.
 *
 * A daemon's main() describes its service and hands control to skel_main:
 *
 *     static const struct service_def echo_service = {
 *         .name = "echo", .kind = SKEL_SINGLE, .on_client = echo_serve,
 *     };
 *     int main(int argc, char **argv) { return skel_main(argc, argv, &echo_service); }
 *
 * The skeleton owns everything else: the command line master passes
 * (-n NAME -t TYPE -s COUNT -u -c -o P=V -v -z; -S serves one client on
 * stdin/stdout without master, as sendmail -bs needs), main.cf loading
 * with -o overrides, logging,
 * chdir to queue_directory, chroot and the drop to mail_owner when started
 * as root, the master status channel, the inherited listening sockets,
 * max_use and max_idle, ipc_timeout on streams, the daemon_timeout
 * watchdog, and orderly exit when master goes away or sends SIGTERM.
 *
 * Kinds:
 *   SKEL_SINGLE   one client at a time (smtpd, cleanup, delivery agents):
 *                 on_client runs with the connected stream, then returns.
 *   SKEL_MULTI    many clients on the event loop (trivial-rewrite, showq):
 *                 on_accept takes the new descriptor and registers it with
 *                 server->loop; call server_client_done when it is closed.
 *   SKEL_TRIGGER  wake-up driven (qmgr, pickup): on_trigger runs with the
 *                 bytes of each request ("W" from master's wakeup timer).
 */
#ifndef POSTERN_GLOBAL_MAIL_SERVER_H
#define POSTERN_GLOBAL_MAIL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "global/mail_conf.h"
#include "util/events.h"
#include "util/stream.h"

enum skel_kind {
	SKEL_SINGLE,
	SKEL_MULTI,
	SKEL_TRIGGER,
};

/* What the skeleton hands to the service's callbacks. */
struct server {
	struct mail_conf *conf;
	const char *service_name; /* -n, or the service_def name */
	const char *service_type; /* -t: "unix", "inet", "fifo", ... */
	struct event_loop *loop;  /* MULTI and TRIGGER kinds, from post_init on */
	void *ctx;                /* the daemon's own state */
	int use_count;            /* clients or triggers served so far */
	int client_count;         /* MULTI: clients open now */
	const struct argv *args;  /* command arguments after the options */
};

typedef void server_hook_fn(struct server *server);
typedef void server_client_fn(struct server *server, struct stream *client);
typedef void server_accept_fn(struct server *server, int client_fd);
typedef void server_trigger_fn(struct server *server, const uint8_t *buf,
			       size_t len);

struct service_def {
	const char *name;
	enum skel_kind kind;
	/* Never exits for max_idle or max_use (qmgr, as in Postfix). */
	bool is_long_lived;
	/* SKEL_SINGLE: flags for the client's stream (STREAM_AUTOFLUSH...). */
	int stream_flags;
	/* Runs privileged, before chroot and the drop to mail_owner. */
	server_hook_fn *pre_init;
	/* Runs as mail_owner, before the first client. */
	server_hook_fn *post_init;
	server_client_fn *on_client;   /* SKEL_SINGLE */
	server_accept_fn *on_accept;   /* SKEL_MULTI */
	server_trigger_fn *on_trigger; /* SKEL_TRIGGER */
	/* Runs once before an orderly exit. */
	server_hook_fn *on_exit;
};

/* Run the service; returns the process exit status. */
int skel_main(int argc, char **argv, const struct service_def *def);

/* SKEL_MULTI: a client registered by on_accept is finished. */
void server_client_done(struct server *server);

/* Largest trigger request SKEL_TRIGGER reads in one go. */
#define SERVER_TRIGGER_MAX 1024

/* Trigger connections a trigger service takes per wake-up, at most. */
#define SERVER_TRIGGER_BATCH 256

#endif
