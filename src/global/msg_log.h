/*
 * msg_log.h - the per-message logs: bounce/ID, defer/ID and trace/ID.
 *
 * Delivery agents append one entry per recipient outcome; qmgr looks at
 * which logs exist to decide a message's fate (a defer log: back to
 * deferred/; a bounce log: ask bounce for a notice); bounce turns them
 * into DSN reports; postqueue shows the defer log's reasons. Each log
 * lives in its own queue (MSG_LOG_*), hashed like the queue files when
 * hash_queue_names lists it. An entry is a block of "name=value" lines
 * ended by an empty line, written with one O_APPEND write so concurrent
 * writers never interleave:
 *     recipient=a@b
 *     orig_rcpt=c@d          (when different from recipient)
 *     offset=N               (its R record in the queue file)
 *     dsn_orcpt=rfc822;a@b   (when given)
 *     notify_flags=N
 *     status=5.1.1
 *     action=failed          (failed, delayed, delivered, relayed, expanded)
 *     reason=unknown user: "a"
 *     relay=local            (the log line's relay=)
 *     dsn_mta=dns; mx.b      (optional: remote MTA)
 *     diag_text=smtp; 550 ...(optional: its reply)
 *     time=SECONDS           (when the outcome happened)
 * Values have their line ends replaced by spaces. Readers skip unknown
 * names and refuse blocks without recipient or status, lines longer than
 * MSG_LOG_LINE_MAX, and more than MSG_LOG_ENTRY_MAX entries.
 */
#ifndef POSTERN_GLOBAL_MSG_LOG_H
#define POSTERN_GLOBAL_MSG_LOG_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "global/queue_file.h"
#include "util/err.h"

#define MSG_LOG_BOUNCE "bounce"
#define MSG_LOG_DEFER "defer"
#define MSG_LOG_TRACE "trace"

#define MSG_LOG_LINE_MAX 8192
#define MSG_LOG_ENTRY_MAX 200000

struct msg_log_entry {
	const char *recipient;
	const char *orig_rcpt; /* NULL or "" when the same */
	off_t offset;	       /* -1 when unknown */
	const char *dsn_orcpt; /* NULL or "" for none */
	int notify_flags;      /* REC_DSN_NOTIFY_* */
	const char *status;    /* "5.1.1" */
	const char *action;    /* "failed", "delayed", "delivered", ... */
	const char *reason;
	const char *relay;     /* NULL or "" for none */
	const char *dsn_mta;   /* NULL or "" for none */
	const char *diag_text; /* NULL or "" for none */
	time_t when;
};

/*
 * Append one entry to log (MSG_LOG_*) of message id, creating the file
 * (mode 0600) and its hash directories as needed; fsync it when
 * want_sync (bounce entries, before the recipient is marked done).
 * -1 with err "append to PATH: reason".
 */
int msg_log_append(const struct queue_layout *ql, const char *log,
		   const char *id, const struct msg_log_entry *entry,
		   bool want_sync, struct err *err);

/*
 * Call fn for each entry of the log, in order; the strings are valid
 * during the call only (absent ones are ""). Returns the number of
 * entries, 0 if the log does not exist, -1 with err ("PATH: line N:
 * reason", "open PATH: reason") or fn's -1.
 */
typedef int msg_log_fn(const struct msg_log_entry *entry, void *ctx,
		       struct err *err);
int msg_log_read(const struct queue_layout *ql, const char *log,
		 const char *id, msg_log_fn *fn, void *ctx, struct err *err);

/* Parse log text from memory (the fuzz target and tests use it). */
int msg_log_parse(const char *text, size_t len, const char *name,
		  msg_log_fn *fn, void *ctx, struct err *err);

/* True if the log exists. */
bool msg_log_exists(const struct queue_layout *ql, const char *log,
		    const char *id);

/* Remove the log; a missing one is fine. -1 with err otherwise. */
int msg_log_remove(const struct queue_layout *ql, const char *log,
		   const char *id, struct err *err);

#endif
