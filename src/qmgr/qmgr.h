/*
 * qmgr.h - the queue manager's state, shared by its modules.
 *
 * qmgr.c          skeleton, triggers, scans of incoming/ and deferred/
 * qmgr_message.c  loading a queue file into memory, and a message's fate
 *                 once every recipient has had its attempt
 * qmgr_sched.c    transports, destination queues, concurrency windows,
 *                 and choosing the next delivery
 * qmgr_deliver.c  one delivery request on its way to an agent and back
 *
 * Everything is single-threaded on the skeleton's event loop. A message
 * is referenced by its entries (groups of recipients for one destination);
 * when the last entry is finished the message is decided: deleted,
 * deferred, or handed to bounce first.
 */
#ifndef POSTERN_QMGR_QMGR_H
#define POSTERN_QMGR_QMGR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "global/conc_feedback.h"
#include "global/deliver_request.h"
#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "global/resolve.h"
#include "util/events.h"
#include "util/htable.h"

struct qmgr_queue;

/* One recipient still to deliver. */
struct qmgr_rcpt {
	off_t offset;
	char *address;
	char *orig_rcpt;
	char *dsn_orcpt;
	int dsn_notify;
};

struct qmgr_message {
	struct qmgr *qmgr;
	char *id;
	struct deliver_request tmpl; /* envelope fields shared by requests */
	struct qmgr_rcpt *rcpts;
	size_t rcpt_count;
	char *redirect_to;    /* header/body check REDIRECT, or NULL */
	char *content_filter; /* FILTER "transport:nexthop", or NULL */
	off_t warn_offset; /* the W record, -1 if none */
	long long warn_time;
	int refcount;	   /* entries not finished */
	bool has_deferred; /* some recipient was deferred this time */
	struct qmgr_message *prev, *next;
};

/* Some recipients of one message for one destination queue. */
struct qmgr_entry {
	struct qmgr_message *msg;
	struct qmgr_queue *queue;
	size_t *rcpt_index;
	size_t rcpt_count;
	struct qmgr_entry *next;
};

/* A message's entries in one queue, taken in turn with other messages'. */
struct qmgr_job {
	struct qmgr_entry *head, *tail;
	struct qmgr_job *next;
};

/* One destination of one transport. */
struct qmgr_queue {
	struct qmgr_transport *transport;
	char *name;    /* the key: nexthop, or recipient for limit 1 */
	char *nexthop;
	struct qmgr_job *jobs_head, *jobs_tail; /* round robin */
	size_t pending; /* entries waiting */
	int busy;	/* deliveries in progress */
	int window;	/* concurrency allowed now */
	int failures, failed_cohorts;
	double credit; /* feedback not yet a whole window step */
	bool is_dead;
	char *dead_reason, *dead_dsn;
	uint64_t unthrottle_timer;
	int64_t next_delivery_ms; /* rate delay */
};

struct qmgr_transport {
	struct qmgr *qmgr;
	char *name;
	struct htable *queues; /* name -> struct qmgr_queue */
	int concurrency_limit; /* per destination, 0: none */
	int recipient_limit;   /* per request, 0: none */
	long long rate_delay_ms;
	struct conc_feedback positive, negative;
	int busy;
	bool is_dead;
	char *dead_reason;
	uint64_t unthrottle_timer;
};

struct qmgr {
	struct mail_conf *conf;
	struct event_loop *loop;
	struct queue_layout *ql;
	struct resolve *resolve;
	struct htable *transports; /* name -> struct qmgr_transport */
	struct qmgr_message *messages; /* in memory (active/) */
	struct htable *message_ids;    /* their IDs */
	int message_count;
	bool want_incoming, want_deferred, want_all_deferred, want_active;
	bool is_clogged; /* a scan stopped at qmgr_message_active_limit */
	uint64_t scan_timer;
	uint64_t active_retry_timer;
	/* Files just moved to active/ whose writer still held the lock (it
	 * was fsyncing a file already marked complete): tried again soon. */
	struct argv *busy_ids;
	uint64_t busy_timer;
	int busy_rounds;
	int64_t spare_retry_ms; /* retire without spares until then */
	int scan_budget; /* incoming files this scan round may still move */
	/* Parameters. */
	int active_limit;
	int initial_concurrency;
	int default_concurrency_limit;
	int default_recipient_limit;
	int failed_cohort_limit;
	int process_limit;
	long long default_rate_delay_ms;
	long long min_backoff, max_backoff;
	long long max_lifetime, bounce_lifetime;
	long long queue_run_delay;
	long long transport_retry;
	long long ipc_timeout_ms;
	char *defer_transports; /* list as given */
	char *bounce_path;
};

/* qmgr.c */
void qmgr_request_scan(struct qmgr *qmgr);

/* qmgr_message.c */
int qmgr_message_load(struct qmgr *qmgr, const char *id);
void qmgr_message_entry_done(struct qmgr_message *msg);
void qmgr_message_free(struct qmgr_message *msg);

/* qmgr_sched.c */
void qmgr_sched_add_message(struct qmgr *qmgr, struct qmgr_message *msg);
void qmgr_sched_run(struct qmgr *qmgr);
void qmgr_sched_feedback(struct qmgr_queue *queue, bool is_ok,
			 const char *dsn, const char *reason);
void qmgr_sched_forget_dead(struct qmgr *qmgr);
void qmgr_sched_transport_dead(struct qmgr_transport *transport,
			       const char *reason);
void qmgr_entry_defer(struct qmgr_entry *entry, const char *relay,
		      const char *dsn, const char *reason);
void qmgr_entry_free(struct qmgr_entry *entry);

/* qmgr_deliver.c */
void qmgr_deliver_start(struct qmgr *qmgr, struct qmgr_entry *entry);

#endif
