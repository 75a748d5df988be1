/*
 * bounce.h - shared state of the bounce daemon's two files.
 *
 * bounce.c speaks the protocol and decides who gets which notice;
 * bounce_notice.c reads the message and its logs and submits a notice
 * through cleanup (the text itself comes from global/dsn_report.c).
 */
#ifndef POSTERN_BOUNCE_BOUNCE_H
#define POSTERN_BOUNCE_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "global/dsn_report.h"
#include "global/msg_log.h"
#include "global/queue_file.h"
#include "util/err.h"
#include "util/strbuf.h"

/* notify_classes bits that concern bounce. */
#define BOUNCE_NOTIFY_BOUNCE (1 << 0)
#define BOUNCE_NOTIFY_2BOUNCE (1 << 1)
#define BOUNCE_NOTIFY_DELAY (1 << 2)

/* main.cf values, read once after the privilege drop. */
struct bounce_params {
	struct queue_layout *ql;
	char *cleanup_path;  /* public/$cleanup_service_name */
	char *double_bounce; /* $double_bounce_sender@$myhostname */
	const char *myhostname;
	const char *mail_name;
	const char *bounce_notice_recipient;
	const char *twobounce_notice_recipient; /* 2bounce_notice_recipient */
	const char *delay_notice_recipient;
	int notify_classes; /* BOUNCE_NOTIFY_* */
	int timeout_ms;     /* ipc_timeout */
	long long bounce_size_limit;
	long long delay_warning_time;
	long long maximal_queue_lifetime;
	long long bounce_queue_lifetime; /* for mail from <> */
};

/* What the queue file says about the message. */
struct bounce_message {
	char *sender; /* internal form; "" for <> */
	char *envid;  /* "" for none */
	char *message_id;
	int ret; /* REC_DSN_RET_*, 0 for none */
	time_t arrival;
	long long content_length;
	bool is_8bit;
	int trace_flags; /* REC_TRACE_FLAG_*: sendmail -v or -bv */
	struct dsn_line *lines; /* headers, and the body if it may be sent */
	size_t line_count;
	size_t line_cap;
};

/* Entries of one or more per-message logs, owned copies. */
struct bounce_entries {
	struct msg_log_entry *items;
	size_t count;
	size_t cap;
};

/*
 * Read the queue file id in queue_name: envelope facts, the headers, and
 * the body when it is no longer than bounce_size_limit. -1 with err (the
 * queue_file_open or queue_file_walk reason).
 */
int bounce_message_read(const struct bounce_params *p, const char *queue_name,
			const char *id, struct bounce_message *msg,
			struct err *err);
void bounce_message_free(struct bounce_message *msg);

/*
 * Append the entries of log (MSG_LOG_*) of message id. Returns how many
 * were added (0 for a missing log), or -1 with err.
 */
int bounce_entries_read(const struct bounce_params *p, const char *log,
			const char *id, struct bounce_entries *list,
			struct err *err);
void bounce_entries_free(struct bounce_entries *list);

/* Append a copy of entry (for filtering one list into another). */
void bounce_entries_add(struct bounce_entries *list,
			const struct msg_log_entry *entry);

/*
 * Submit one notice to rcpt (internal form), from sender ("" or the
 * double-bounce address), with the report info describes (its to, queue
 * and message fields are filled in here). Returns 0 with the new queue ID
 * appended to new_id, or -1 with err (cleanup's reason).
 */
int
bounce_notice_send(const struct bounce_params *p, struct dsn_report_info *info,
		   const char *id, const struct bounce_message *msg,
		   const char *sender, const char *rcpt,
		   const struct bounce_entries *list, const char *force_action,
		   struct strbuf *new_id, struct err *err);

#endif
