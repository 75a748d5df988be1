/*
 * mailbox.h - writing one message into a Maildir or an mbox file, shared
 * by the local and virtual delivery agents.
 *
 * Maildir: the message is written to an unnamed file in DIR/tmp
 * (O_TMPFILE), fsynced, linked as DIR/new/UNIQUE, and the new/ directory
 * is fsynced, so a crash leaves either nothing in new/ or the whole
 * message. Where the system cannot make unnamed files (or a process with
 * a switched uid may not name them through /proc/self/fd), the message
 * goes to DIR/tmp/UNIQUE and is renamed to DIR/new/UNIQUE, with the same
 * fsyncs. DIR, tmp/, new/ and cur/ are created (mode 0700) when missing.
 * UNIQUE follows the Maildir convention "SECONDS.PID_COUNTER.HOSTNAME".
 * mbox: the file is opened with O_APPEND (created 0600 when missing and
 * allowed), locked as mailbox_delivery_lock says (fcntl, flock, dotlock;
 * the dotlock is FILE.lock, created with O_EXCL, removed when older than
 * stale_lock_time), a
 * "From SENDER DATE" line is written and body lines starting with "From "
 * are quoted with ">"; the file is fsynced, and on any error it is
 * truncated back to its old size, so no half message stays behind.
 * Both prepend the delivery headers the caller gives, in Postfix's order
 * (Return-Path:, X-Original-To:, Delivered-To:), before the queued content.
 * Errors give a precise reason, without the mailbox prefix each agent adds
 * ("maildir delivery failed: ", "delivery failed to mailbox PATH: "), and
 * a DSN as Postfix picks it: a full file system (ENOSPC) is 4.3.1, an
 * over-quota or over-limit mailbox (EDQUOT, EFBIG, size_limit) 5.2.2 and
 * permanent, EAGAIN/ESTALE and everything else, including a lock held too
 * long or a mailbox that cannot be opened, 4.2.0 and temporary.
 */
#ifndef POSTERN_GLOBAL_MAILBOX_H
#define POSTERN_GLOBAL_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "global/deliver_request.h"
#include "util/err.h"

/* Lock methods (mailbox_delivery_lock, virtual_mailbox_lock). */
#define MAILBOX_LOCK_FCNTL (1 << 0)
#define MAILBOX_LOCK_FLOCK (1 << 1)
#define MAILBOX_LOCK_DOTLOCK (1 << 2)

/*
 * Parse a lock list ("fcntl, dotlock"). -1 with err "NAME: unknown
 * locking method: X" for an unknown name.
 */
int mailbox_lock_parse(const char *name, const char *value, int *locks_out,
		       struct err *err);

/* What to write. */
struct mailbox_msg {
	struct deliver_request *req; /* the content comes from its queue file */
	const char *sender;          /* for "From " and Return-Path: */
	const char *delivered_to;    /* Delivered-To: value, or NULL */
	const char *original_to;     /* X-Original-To: value, or NULL */
	long long size_limit;        /* mailbox_size_limit (mbox) or
				        virtual_mailbox_limit (both);
				        0: none */
	/* mbox locking; 0 means Postfix's default in brackets. */
	int lock_attempts;	     /* deliver_lock_attempts (20) */
	int lock_delay_ms;	     /* deliver_lock_delay (1000) */
	int stale_lock_time;	     /* stale_lock_time, seconds (500) */
};

/* The outcome of a write. */
struct mailbox_result {
	bool is_temporary; /* when it failed: defer (true) or bounce */
	char dsn[16];      /* "4.2.2", "5.2.2", "4.3.0" */
};

/*
 * Deliver into Maildir dir (with or without the trailing '/'). Runs with
 * the caller's current privileges. 0, or -1 with err ("create maildir
 * file DIR/tmp/X: No space left on device") and *result_out.
 */
int mailbox_maildir_deliver(const char *dir, const struct mailbox_msg *msg,
			    struct mailbox_result *result_out, struct err *err);

/*
 * The same by way of tmp/UNIQUE and a rename, which mailbox_maildir_deliver
 * takes where the system cannot make unnamed files; callable directly so
 * that this way is tested everywhere.
 */
int mailbox_maildir_deliver_named(const char *dir,
				  const struct mailbox_msg *msg,
				  struct mailbox_result *result_out,
				  struct err *err);

/*
 * Append to mbox file path with the given lock methods (MAILBOX_LOCK_*).
 * 0, or -1 with err and *result_out ("mail system is full",
 * "cannot update mailbox PATH for user X. error writing message: ...",
 * "unable to lock for exclusive access: ...").
 */
int mailbox_mbox_deliver(const char *path, int locks,
			 const struct mailbox_msg *msg,
			 struct mailbox_result *result_out, struct err *err);

/*
 * Write the message (delivery headers, then content with its line ends,
 * "\n") to fd. When is_mbox, as Postfix writes mbox files: a "From SENDER
 * DATE" line first (MAILER-DAEMON for the null sender), "From " lines
 * quoted with ">", and an empty line after the message. For pipes and
 * files too. Headers come in Postfix's order: Return-Path:,
 * X-Original-To:, Delivered-To:. 0, or -1 with err ("error writing
 * message: REASON", or deliver_content's reason) and errno kept.
 */
int mailbox_write(int fd, const struct mailbox_msg *msg, bool is_mbox,
		  struct err *err);

#endif
