/*
 * cleanup.h - state shared by the files of the cleanup daemon.
 *
 * cleanup.c serves the protocol (global/cleanup_clnt.h) and owns the
 * per-message state; cleanup_envelope.c checks and writes the envelope
 * records; cleanup_message.c parses the content, adds missing headers and
 * writes it. Every write goes through cleanup_out, which enforces
 * message_size_limit and turns write errors into a status.
 */
#ifndef POSTERN_CLEANUP_CLEANUP_H
#define POSTERN_CLEANUP_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "global/header_fix.h"
#include "global/header_parse.h"
#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "util/err.h"
#include "util/htable.h"

/* Parameters, read once in post_init. */
struct cleanup_params {
	struct queue_layout *layout;
	long long message_size_limit;
	long long header_size_limit;
	long long hopcount_limit;
	long long line_length_limit;
	long long duplicate_filter_limit;
	long long delay_warning_time; /* seconds; 0: no delay warnings */
	bool always_add_missing_headers;
	bool detect_8bit_encoding_header;
	const char *myhostname;
	const char *header_from_format;
	const char *undisclosed_recipients_header;
	struct cleanup_rewrite *rewrite; /* cleanup_rewrite.h */
	struct cleanup_checks *checks;   /* cleanup_checks.h */
};

enum cleanup_phase {
	PHASE_START,    /* nothing read yet; an arrival time may come */
	PHASE_ENVELOPE, /* envelope records */
	PHASE_CONTENT,  /* after M */
	PHASE_EXTRA,    /* after X: only E may come */
};

struct cleanup_state {
	const struct cleanup_params *params;
	struct queue_file *qf;
	char queue_id[QUEUE_ID_SIZE];
	int flags;       /* CLEANUP_FLAG_* */
	int errs;        /* CLEANUP_STAT_* */
	int write_errno; /* errno of a write error, for the reply */
	enum cleanup_phase phase;
	struct timespec arrival;
	time_t create_time;
	char *sender;   /* NULL until the S record */
	char *fullname; /* NULL unless an F record came */
	char *orcpt;    /* pending recipient attributes */
	char *dsn_orcpt;
	char *notify;
	long rcpt_count;
	struct htable *dups;
	bool in_cont; /* last content record was L */
	bool in_body_line;    /* the last body piece continues in the next */
	bool is_8bit_given;   /* the client said encoding=8bit (BODY=8BITMIME) */
	bool has_8bit_header; /* Content-Transfer-Encoding: 8bit or binary */
	struct header_parser *hp;
	struct header_seen seen;
	struct cleanup_check_state *checks; /* cleanup_checks.c; may be NULL */
};

/*
 * Append a record to the queue file unless an error was already found;
 * sets CLEANUP_STAT_WRITE (logged) or CLEANUP_STAT_SIZE. Content lines
 * (is_line) are cut into pieces as the queue file wants them.
 */
void
cleanup_out(struct cleanup_state *st, int type, const void *data, size_t len);
void cleanup_out_line(struct cleanup_state *st, const char *data, size_t len);

/*
 * Handle one envelope record. Returns 0, or -1 with err for a protocol
 * error (the message is then refused at once).
 */
int cleanup_envelope(struct cleanup_state *st, int type, const char *data,
		     size_t len, struct err *err);

/* Content: start at M, each N or L record, end at X. -1 as above. */
void cleanup_message_start(struct cleanup_state *st);
int cleanup_message_record(struct cleanup_state *st, int type, const char *data,
			   size_t len, struct err *err);
int cleanup_message_end(struct cleanup_state *st, struct err *err);

/* Free what the envelope and message code keep. */
void cleanup_state_clear(struct cleanup_state *st);

#endif
