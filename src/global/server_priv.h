/*
 * server_priv.h - what the skeleton's files share; not for daemons.
 */
#ifndef POSTERN_GLOBAL_SERVER_PRIV_H
#define POSTERN_GLOBAL_SERVER_PRIV_H

#include <stdbool.h>

#include "global/mail_server.h"
#include "global/master_proto.h"

/* The running skeleton: the public struct server plus its own state. */
struct skel {
	struct server server;
	const struct service_def *def;
	int listen_fds[MASTER_MAX_LISTEN_FDS];
	int listen_count;
	bool has_master;       /* status channel present (not -z) */
	bool is_standalone;    /* -S: one client on stdin/stdout */
	bool is_unprivileged;  /* -u: drop to mail_owner when root */
	bool want_chroot;      /* -c: chroot to queue_directory when root */
	long long max_use;     /* 0: no limit */
	long long max_idle_ms; /* 0: no limit */
	long long ipc_timeout_ms;
	long long daemon_timeout_s;
	uint64_t idle_timer;
};

/* Orderly exit: on_exit hook, then exit(0). */
_Noreturn void skel_exit(struct skel *skel, const char *why);

/* Tell master we are busy/available; exits if master is gone. */
void skel_notify(struct skel *skel, enum master_status_code status);

/* The per-kind main loops. */
_Noreturn void skel_run_single(struct skel *skel);
_Noreturn void skel_run_standalone(struct skel *skel);
_Noreturn void skel_run_event(struct skel *skel);

#endif
