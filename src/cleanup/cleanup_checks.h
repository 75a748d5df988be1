/*
 * cleanup_checks.h - header_checks, mime_header_checks and body_checks in
 * the cleanup daemon (header_checks(5), Postfix 3.7 semantics).
 *
 * The tables are opened once per process (cleanup_checks_create, from
 * pre_init). A table that cannot be opened is logged then, and, as in
 * Postfix 3.7, every message that reaches it is deferred (451 4.3.0), so
 * no mail passes unchecked. Per message, each
 * primary header and each body line (up to body_checks_size_limit bytes of
 * body) is looked up; the first table that has the key decides. A lookup
 * error defers the message (451 4.3.0). Results that outlive the content
 * are kept per message and written to the queue file's extracted segment
 * (cleanup_checks_extracted) or applied at commit (hold, discard).
 * MIME is not parsed: Content-* and MIME-Version headers of the primary
 * header block use mime_header_checks, everything after the headers is
 * body; nested_header_checks is declared but not used yet.
 */
#ifndef POSTERN_CLEANUP_CLEANUP_CHECKS_H
#define POSTERN_CLEANUP_CLEANUP_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "global/cleanup_clnt.h"
#include "global/mail_conf.h"

struct cleanup_checks;

/* Open the tables conf names; open errors are logged (log_error) and
 * kept by the maps (global/maps.h) to fail the lookups that reach them. */
struct cleanup_checks *cleanup_checks_create(struct mail_conf *conf);
void cleanup_checks_destroy(struct cleanup_checks **checksp);

/* Note the envelope facts the action log lines name (origin, protocol,
 * HELO name, last recipient). Called for every envelope record. */
void cleanup_checks_note(struct cleanup_state *st, int type, const char *data,
			 size_t len);

/*
 * An smtpd access-table action for the whole message ("hold" or
 * "discard"), sent as the envelope attribute CLEANUP_ATTR_SMTPD_ACTION.
 * -1 for another word.
 */
int cleanup_checks_smtpd_action(struct cleanup_state *st, const char *action);

/* What to do with a header or body line after its check. */
enum cleanup_check_fate {
	CHECK_KEEP,    /* write the line as it is */
	CHECK_DROP,    /* IGNORE, STRIP: leave it out */
	CHECK_REPLACE, /* write *replace_out instead */
};

/*
 * Check one logical header (folded lines joined with '\n'). Writes a
 * PREPEND line itself (through write_fn) before returning; *replace_out
 * (owned by the caller, free it) is set for CHECK_REPLACE.
 */
typedef void
cleanup_write_fn(struct cleanup_state *st, const char *text, size_t len);
enum cleanup_check_fate
cleanup_checks_header(struct cleanup_state *st, const char *text, size_t len,
		      cleanup_write_fn *write_fn, char **replace_out);

/*
 * The same for one body line or piece of one (is_continued: more of the
 * line follows). Dropping the last piece of a line whose earlier pieces
 * were kept turns into replacing it with "", so the line still ends.
 */
enum cleanup_check_fate
cleanup_checks_body(struct cleanup_state *st, const char *data, size_t len,
		    bool is_continued, cleanup_write_fn *write_fn,
		    char **replace_out);

/* True once a REJECT or DISCARD ended the processing of the content. */
bool cleanup_checks_is_stopped(const struct cleanup_state *st);

/* True when a DISCARD fired: the file is removed, the client told OK. */
bool cleanup_checks_is_discarded(const struct cleanup_state *st);

/*
 * Write the extracted segment records: BCC recipients, FILTER, REDIRECT,
 * and the named attribute more ("name=value") when it is not NULL.
 */
void cleanup_checks_extracted(struct cleanup_state *st, const char *more);

/* After a commit: move a HOLD message to hold/ (a failure there turns
 * into a write error and removes the file). */
void cleanup_checks_committed(struct cleanup_state *st);

/* Put a REJECT's code, status and text into the reply. */
void cleanup_checks_reply(const struct cleanup_state *st,
			  struct cleanup_result *res);

/* Free the per-message state. */
void cleanup_checks_clear(struct cleanup_state *st);

#endif
