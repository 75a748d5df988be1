/*
 * local.h - what the files of the local delivery agent share.
 *
 * One delivery request may carry several recipients; each one is
 * expanded (aliases, .forward files, :include: files) into a tree whose
 * leaves are deliveries: a mailbox, a file, a command, a hand-off to
 * another transport, or an address that is forwarded as a new message
 * through cleanup. Each leaf gives an outcome; local.c turns the outcomes
 * of one queue recipient into the Postfix log lines and the queue file
 * update. local_expand.c holds the pure logic (unit-tested on its own).
 */
#ifndef POSTERN_LOCAL_LOCAL_H
#define POSTERN_LOCAL_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "global/deliver_request.h"
#include "util/argv.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Recursion limit of alias and .forward expansion (Postfix's). */
#define LOCAL_MAX_LEVEL 100
/* Largest .forward or :include: file read. */
#define LOCAL_FILE_MAX (1024 * 1024)
/* Command output kept for the bounce reason. */
#define LOCAL_OUTPUT_MAX 2048

/* Where a destination came from (allow_mail_to_commands/files). */
#define LOCAL_CLASS_ALIAS (1 << 0)
#define LOCAL_CLASS_FORWARD (1 << 1)
#define LOCAL_CLASS_INCLUDE (1 << 2)

/* prepend_delivered_header classes. */
#define LOCAL_DELIVERED_COMMAND (1 << 0)
#define LOCAL_DELIVERED_FILE (1 << 1)
#define LOCAL_DELIVERED_FORWARD (1 << 2)

enum local_exp {
	LOCAL_EXP_NONE,
	LOCAL_EXP_ALIAS,
	LOCAL_EXP_FORWARD,
	LOCAL_EXP_INCLUDE,
};

/* ------------------------------------------------------------------ */
/* Pure logic (local_expand.c).                                         */

/*
 * A recipient address taken apart as local(8) does: local is the local
 * part folded to lower case, domain what follows the last '@' (NULL when
 * there is none), user the local part without its extension, extension
 * the text after the recipient_delimiter character delim (both NULL when
 * there is none). All strings are owned by the struct.
 */
struct local_addr {
	char *local;
	char *domain;
	char *user;
	char *extension;
	char delim[2]; /* the delimiter that was found, or "" */
};

/*
 * Split address. delimiters is recipient_delimiter ("" for none). The
 * split happens at the first delimiter character after the first byte,
 * never for postmaster and mailer-daemon, and, when owner_request_special
 * and the delimiter is '-', never for owner-* and *-request. An extension
 * with '/' is refused (Postfix: "address with illegal extension"): the
 * address keeps its user and gets no extension, and *is_bad_ext_out says
 * so. Free with local_addr_free.
 */
void local_addr_split(const char *address, const char *delimiters,
		      bool owner_request_special, struct local_addr *out,
		      bool *is_bad_ext_out);
void local_addr_free(struct local_addr *addr);

/* The names local expansions know; NULL values are undefined. */
struct local_vars {
	const char *user, *home, *shell, *recipient, *extension, *domain,
		*local, *recipient_delimiter;
};

/*
 * Expand pattern ($name, ${name}, $(name), $$, ${name?value},
 * ${name:value}, ${name?{a}:{b}}) with vars, replacing each character of
 * a value that is not in filter by '_' (filter NULL: no filtering).
 * Appends to out. *is_undef_out is set when a plain reference names an
 * undefined value (Postfix then skips the whole item). -1 with err for a
 * syntax error ("bad expansion syntax: TEXT"), nesting deeper than 20
 * ("expansion nested too deeply: TEXT") or out's limit ("expansion
 * result too long: TEXT").
 */
int local_expand(const char *pattern, const struct local_vars *vars,
		 const char *filter, struct strbuf *out, bool *is_undef_out,
		 struct err *err);

/*
 * Replace characters of text not in filter by '_' (append to out). -1
 * when out's limit was reached.
 */
int local_filter(const char *text, const char *filter, struct strbuf *out);

enum local_token_kind {
	LOCAL_TOKEN_ADDRESS,
	LOCAL_TOKEN_FILE,    /* "/path" */
	LOCAL_TOKEN_COMMAND, /* "|command" */
	LOCAL_TOKEN_INCLUDE, /* ":include:/path" (any case) */
};

/*
 * Classify one destination of an alias value or .forward line (as
 * alias_value_split returns it). *target_out points into token: the
 * command after '|', the path after ":include:" (white space skipped),
 * or the whole token.
 */
enum local_token_kind
local_token_classify(const char *token, const char **target_out);

/* A list parameter's names and their bits. */
struct local_class_name {
	const char *name;
	int bit;
};

/*
 * Parse value ("alias, forward") of parameter param. -1 with err
 * "PARAM: unknown value: X" for a name not in names (NULL-terminated).
 */
int local_class_parse(const char *param, const char *value,
		      const struct local_class_name *names, int *mask_out,
		      struct err *err);

extern const struct local_class_name local_allow_names[];
extern const struct local_class_name local_delivered_names[];

/*
 * If line is a "Delivered-To:" header (name in any case), put its value,
 * trimmed and folded to lower case, into value_out and return true.
 */
bool
local_delivered_header(const char *line, size_t len, struct strbuf *value_out);

/*
 * What a command's exit status means (sysexits.h, as Postfix reads it):
 * the DSN, the text, and whether to defer. Statuses outside 64..78 are
 * permanent with DSN 5.3.0 and text "unknown error".
 */
struct local_exit_info {
	const char *dsn;
	const char *text;
	bool is_temporary;
};
void local_exit_status(int status, struct local_exit_info *out);

/*
 * The reason for a failed command, as Postfix words it: "Command died
 * with status N: \"CMD\"" (or "with signal N", or "Command time limit
 * exceeded: \"CMD\""), then ". Command output: OUTPUT" when there was
 * output (control characters and line ends become spaces). Appends to
 * out.
 */
void
local_command_reason(const char *what, long number, const char *command,
		     const char *output, size_t output_len, struct strbuf *out);

/* ------------------------------------------------------------------ */
/* The agent (local.c and friends).                                     */

struct maps;
struct resolve;

/* Parameters, read once after start-up. */
struct local_params {
	const char *myhostname, *mail_name, *myorigin;
	const char *recipient_delimiter;
	bool owner_request_special, expand_owner_alias;
	int allow_mail_to_commands, allow_mail_to_files; /* LOCAL_CLASS_* */
	int prepend_delivered_header;                    /* LOCAL_DELIVERED_* */
	bool frozen_delivered_to, enable_original_recipient;
	struct argv *forward_path;
	const char *home_mailbox, *mail_spool_directory;
	const char *mailbox_command, *mailbox_transport, *fallback_transport;
	const char *luser_relay;
	const char *command_execution_directory, *local_command_shell;
	const char *command_expansion_filter, *forward_expansion_filter;
	const char *execution_directory_expansion_filter;
	long long command_time_limit, mailbox_size_limit;
	long long duplicate_filter_limit, ipc_timeout;
	int mailbox_locks;
	bool strict_mailbox_ownership, require_home_directory;
	struct argv *export_environment;
	const char *default_privs;
};

/* Whose rights a delivery runs with, and the passwd facts. */
struct local_user {
	uid_t uid;
	gid_t gid;
	char *logname; /* NULL: no user context */
	char *home;
	char *shell;
};

/* The agent's state, made once. */
struct local_ctx {
	struct local_params p;
	struct argv *alias_specs; /* one "type:name" per table */
	struct maps **alias_maps; /* one maps per table, same order */
	struct maps *mailbox_command_maps;
	struct maps *mailbox_transport_maps;
	struct maps *fallback_transport_maps;
	struct resolve *resolve;
	const char *service_name; /* our master.cf name: "local" */
	bool is_root;
	struct local_user default_privs;
};

/* One pending forward: a new message for one sender. */
struct local_fwd_rcpt {
	char *address;
	size_t index; /* the queue recipient it came from */
};
struct local_fwd {
	char *sender;
	char *delivered; /* Delivered-To: for the new message, or NULL */
	struct local_fwd_rcpt *rcpts;
	size_t count, cap;
};

/* One leaf's outcome, reported by local.c at the end of the request. */
struct local_outcome {
	size_t index;  /* the queue recipient */
	int kind;      /* DELIVER_RESULT_*, or 0 for a pending forward,
			  or 'P' when another transport reported it */
	char *address; /* the address the log line shows */
	char dsn[16];
	char *reason;
	size_t fwd; /* pending forward: its batch */
};

/* Per-request state. */
struct local_state {
	struct local_ctx *ctx;
	struct deliver_request *req;
	size_t index;              /* the queue recipient being delivered */
	struct htable *dup_filter; /* keys of destinations done */
	struct htable *delivered;  /* Delivered-To: values of the message */
	struct local_outcome *outcomes;
	size_t outcome_count, outcome_cap;
	struct local_fwd *fwds;
	size_t fwd_count;
};

/* How one level of expansion sees the recipient. */
struct local_attr {
	int level;
	const char *address; /* full address at this level */
	const char *orig_rcpt;
	struct local_addr parts;
	const char *sender;    /* changed by owner- aliases */
	const char *delivered; /* Delivered-To: value */
	enum local_exp exp_type;
	const char *exp_from; /* the alias or user being expanded */
};

/* local.c: record a leaf's outcome. reason is formatted. */
void local_outcome(struct local_state *st, const struct local_attr *attr,
		   int kind, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/*
 * sendmail -bv: true when the request only verifies, after recording the
 * leaf as deliverable ("delivers to WHAT[: DETAIL]"); the caller then
 * delivers nothing.
 */
bool local_verify_only(struct local_state *st, const struct local_attr *attr,
		       const char *what, const char *detail);
/* True if key was seen before (and remember it, within the limit). */
bool local_been_here(struct local_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* local_recipient.c: deliver one address (level 0: the queue recipient). */
void local_deliver_recipient(struct local_state *st, struct local_attr *attr,
			     const struct local_user *usr);
/* Deliver one destination token of an alias, .forward or :include:. */
void local_deliver_token(struct local_state *st, struct local_attr *attr,
			 const struct local_user *usr, const char *token);
/* Deliver each destination of an alias value or file line. */
size_t local_deliver_value(struct local_state *st, struct local_attr *attr,
			   const struct local_user *usr, const char *value);
/*
 * The transport from maps (looked up by address) or else param; NULL for
 * none. A lookup error records a deferral and sets *is_error.
 */
const char *
local_transport_find(struct local_state *st, struct local_attr *attr,
		     struct maps *maps, const char *param, bool *is_error);
/* Hand the queue recipient to transport "name[:nexthop]". */
void local_deliver_pass(struct local_state *st, struct local_attr *attr,
			const char *transport);

/* local_alias.c: true when an alias took care of the recipient. */
bool local_deliver_alias(struct local_state *st, struct local_attr *attr,
			 const struct local_user *usr);
void local_deliver_include(struct local_state *st, struct local_attr *attr,
			   const struct local_user *usr, const char *path);

/* local_forward.c: .forward files; forwarding as a new message. */
bool local_deliver_dotforward(struct local_state *st, struct local_attr *attr,
			      const struct local_user *usr);
void local_forward_append(struct local_state *st, struct local_attr *attr,
			  const char *address);
void local_forward_finish(struct local_state *st);

/* local_mailbox.c: mailbox, file; user lookups and privileges. */
bool local_deliver_mailbox(struct local_state *st, struct local_attr *attr);
void local_deliver_file(struct local_state *st, struct local_attr *attr,
			const struct local_user *usr, const char *path);
/* getpwnam: 1 found (usr_out filled, free with local_user_free), 0 not
 * found, -1 lookup error (err). */
int local_user_lookup(const char *name, struct local_user *usr_out,
		      struct err *err);
int local_user_by_uid(uid_t uid, struct local_user *usr_out, struct err *err);
void local_user_copy(struct local_user *dst, const struct local_user *src);
void local_user_free(struct local_user *usr);

/*
 * Run fn with usr's rights: when the agent is root, in a child that
 * became usr (gid as given) for good; otherwise directly. fn fills res
 * (kind, dsn, reason) and may append up to LOCAL_FILE_MAX bytes to data.
 */
struct local_result {
	int kind; /* DELIVER_RESULT_* */
	char dsn[16];
	char reason[ERR_TEXT_MAX];
};
typedef void
local_priv_fn(void *ctx, struct local_result *res, struct strbuf *data);
void local_run_as(const struct local_ctx *ctx, uid_t uid, gid_t gid,
		  local_priv_fn *fn, void *fn_ctx, struct local_result *res,
		  struct strbuf *data);
void
local_result_set(struct local_result *res, int kind, const char *dsn,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Read a .forward or :include: file (a local_priv_fn; ctx is a struct
 * local_file_read): refuses what is not a regular file and what others
 * may write. res->kind 0 with an empty reason: the file is not there;
 * kind 0 with a reason: skip it, logging the reason; DELIVER_RESULT_SENT:
 * data holds the text and res->reason the owner's uid in decimal.
 */
struct local_file_read {
	const char *path;
	const char *what; /* ":include: file" or "file" (for messages) */
};
void local_read_file(void *ctx, struct local_result *res, struct strbuf *data);
/* Deliver each line of a file's text; the number of destinations. */
size_t local_deliver_lines(struct local_state *st, struct local_attr *attr,
			   const struct local_user *usr, char *text);

/* local_command.c: run a command with the message on its stdin. */
void local_deliver_command(struct local_state *st, struct local_attr *attr,
			   const struct local_user *usr, const char *command,
			   bool is_mailbox_command);

#endif
