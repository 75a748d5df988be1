/*
 * master.h - the supervisor's state, shared by its files.
 *
 * master.c      start-up, options, pid file and lock, signals, main loop
 * master_serv.c services: reading master.cf, listening endpoints, reload
 * master_proc.c processes: spawning on demand, status, reaping, throttling
 * master_wake.c wakeup timers
 */
#ifndef POSTERN_MASTER_MASTER_H
#define POSTERN_MASTER_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "global/mail_conf.h"
#include "global/master_conf.h"
#include "global/master_proto.h"
#include "util/argv.h"
#include "util/events.h"
#include "util/htable.h"

/* Abnormal exits within MASTER_CRASH_WINDOW_MS that throttle a service. */
#define MASTER_CRASH_LIMIT 5
#define MASTER_CRASH_WINDOW_MS (60 * 1000)

/* Listen queue length for every stream service. */
#define MASTER_LISTEN_BACKLOG 1024

struct master;

/* One service in effect: a master.cf entry with its sockets and processes. */
struct master_serv {
	struct master *master;
	char *name;               /* column 1 */
	char *type;               /* column 2 */
	enum master_type type_code;
	char *endpoint;           /* socket path or host:port, for messages */
	char *path;               /* absolute path of the command */
	struct argv *args;        /* argv for exec, options included */
	int maxproc;              /* 0: no limit */
	int wakeup;               /* seconds; 0: none */
	bool wakeup_if_used;
	bool has_been_used;
	int lineno;
	char *fingerprint;        /* what decides if sockets can be kept */
	int listen_fds[MASTER_MAX_LISTEN_FDS];
	int listen_count;
	bool is_listen_watched;   /* master waits for demand on listen fds */
	int status_fds[2];        /* [0] master reads, [1] children write */
	int generation;           /* bumped on reload; older children ignored */
	int total;                /* processes of this generation */
	int avail;                /* ... of which waiting for a client */
	int children;             /* processes of any generation */
	bool is_retired;          /* removed by reload; freed when childless */
	int64_t throttled_until;  /* 0, or monotonic ms */
	uint64_t throttle_timer;
	uint64_t wakeup_timer;
	int crash_count;
	int64_t crash_window_start;
};

struct master_child {
	pid_t pid;
	struct master_serv *serv;
	int generation;
	bool is_avail;
	bool has_served;
};

struct master {
	char *config_dir;
	struct mail_conf *conf;
	struct event_loop *loop;
	struct master_serv **servs; /* services in effect, master.cf order */
	size_t serv_count;
	struct master_serv **retired; /* removed, with children still alive */
	size_t retired_count;
	struct htable *children;    /* decimal pid -> struct master_child */
	int signal_fd;
	bool is_stopping;
};

/* master_serv.c */
int master_services_load(struct master *master);
void master_services_reload(struct master *master);
void master_services_close_all(struct master *master);
void master_serv_release(struct master_serv *serv);

/* master_proc.c */
void master_watch_demand(struct master_serv *serv);
void master_spawn(struct master_serv *serv);
void master_status_start(struct master_serv *serv);
void master_status_stop(struct master_serv *serv);
void master_reap_children(struct master *master);
void master_signal_children(struct master *master, int sig);

/* master_wake.c */
void master_wakeup_start(struct master_serv *serv);
void master_wakeup_stop(struct master_serv *serv);

#endif
