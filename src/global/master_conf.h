/*
 * master_conf.h - master.cf read into an array of service entries.
 *
 * One logical line (continuations joined, comments skipped) is one service:
 *     service type private unpriv chroot wakeup maxproc command [args...]
 * "-" in columns 3-7 means the built-in default. Arguments are kept in order
 * with "{ ... }" groups unbraced, and "-o name=value", "-o { name = value }"
 * are also parsed into (name, value) pairs. Used by master, which must
 * refuse anything odd (MASTER_CONF_STRICT), and by postconf, which must show
 * what the file says: without the strict flag an unknown service type, a
 * malformed -o, or an inet service marked private is kept verbatim and
 * reported in the warnings list instead of failing the whole file.
 */
#ifndef POSTERN_GLOBAL_MASTER_CONF_H
#define POSTERN_GLOBAL_MASTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/argv.h"
#include "util/err.h"

/* Limits against hostile or broken files. */
#define MASTER_CONF_MAX_SERVICES 10000  /* entries in one file */
#define MASTER_CONF_MAX_LINES 1000000   /* physical lines in one file */
#define MASTER_CONF_MAX_ARGS 1024       /* command words in one entry */
#define MASTER_CONF_MAX_NAME 512        /* bytes in a service name */
#define MASTER_CONF_MAX_WAKEUP 31536000 /* one year, in seconds */
#define MASTER_CONF_MAX_PROC 1000000    /* processes for one service */

/* The eight columns, in file order (names as postconf -F prints them). */
enum master_field {
	MASTER_FIELD_SERVICE,
	MASTER_FIELD_TYPE,
	MASTER_FIELD_PRIVATE,
	MASTER_FIELD_UNPRIV,
	MASTER_FIELD_CHROOT,
	MASTER_FIELD_WAKEUP,
	MASTER_FIELD_MAXPROC,
	MASTER_FIELD_COMMAND,
	MASTER_FIELD_COUNT,
};

/* The five option columns are fields[MASTER_FIELD_PRIVATE..MAXPROC]. */
#define MASTER_FIELD_FIRST_OPTION MASTER_FIELD_PRIVATE
#define MASTER_FIELD_LAST_OPTION MASTER_FIELD_MAXPROC

enum master_type {
	MASTER_TYPE_UNKNOWN, /* kept verbatim (postconf only) */
	MASTER_TYPE_INET,
	MASTER_TYPE_UNIX,
	MASTER_TYPE_UNIX_DGRAM,
	MASTER_TYPE_FIFO,
	MASTER_TYPE_PASS,
};

/* maxproc "-": the value of default_process_limit, resolved by master. */
#define MASTER_MAXPROC_DEFAULT (-1)

/* One "-o name=value" of an entry. */
struct master_opt {
	char *name;
	char *value;
	size_t arg_index; /* args->items[arg_index] is "name=value" */
};

struct master_service {
	char *fields[MASTER_FIELD_COMMAND]; /* raw columns 1-7 ("-" kept) */
	const char *name;            /* fields[0]: "smtp", "[::1]:submission" */
	const char *type;            /* fields[1] verbatim: "inet", or unknown */
	enum master_type type_code;
	/* Columns 3-7 parsed, "-" replaced by the built-in default. */
	bool is_private;             /* default yes */
	bool is_unpriv;              /* default yes */
	bool is_chroot;              /* default no (Postfix 3.0 and later) */
	int wakeup;                  /* seconds, 0 = never (default) */
	bool wakeup_if_used;         /* trailing '?': only if used */
	int maxproc;                 /* 0 = no limit, or MASTER_MAXPROC_DEFAULT */
	/* Column 8 and after. */
	const char *command;         /* args->items[0], e.g. "smtpd" */
	struct argv *args;           /* command and arguments, braces removed;
				      * a parsed -o argument is "name=value" */
	struct master_opt *opts;     /* parsed -o pairs, in order */
	size_t opt_count;
	int lineno;                  /* where the logical line started */
	char *raw;                   /* the logical line as read */
	bool is_superseded;          /* a later entry has the same name/type */
};

struct master_conf {
	char *path;                  /* file name used in messages */
	struct master_service *services;
	size_t count;
	/*
	 * Problems that did not fail the load, "FILE, line N: reason":
	 * duplicate entries always; without MASTER_CONF_STRICT also unknown
	 * types, malformed -o arguments and private inet services. Also, in
	 * Postfix's words, a first line that starts with white space, which
	 * is skipped: "FILE: logical line must not start with whitespace:
	 * \"text\"" (see line_reader.h).
	 */
	struct argv *warnings;
};

/* Flags for master_conf_load and master_conf_read. */
#define MASTER_CONF_STRICT (1 << 0)

/*
 * Read master.cf from path. Returns NULL with err "open PATH: reason" or
 * "PATH, line N: reason" (too few fields, bad column values, limits, and
 * with MASTER_CONF_STRICT the problems listed above). The caller destroys
 * the result.
 */
struct master_conf *master_conf_load(const char *path, int flags,
				     struct err *err);

/* As master_conf_load, from an open stream (not closed); name in messages. */
struct master_conf *master_conf_read(FILE *fp, const char *name, int flags,
				     struct err *err);

/* NULL-safe; sets *confp to NULL. */
void master_conf_destroy(struct master_conf **confp);

/*
 * Parse one logical line into svc (which the caller later passes to
 * master_service_free). name and lineno are for messages; problems that
 * are only warnings go to warnings (may be NULL) unless flags has
 * MASTER_CONF_STRICT. Returns -1 with err set on errors.
 */
int master_service_parse(const char *line, const char *name, int lineno,
			 int flags, struct master_service *svc,
			 struct argv *warnings, struct err *err);

/* Free what an entry owns and zero it. */
void master_service_free(struct master_service *svc);

/*
 * The entry for name/type that is in effect (the last one in the file), or
 * NULL. type NULL matches any type.
 */
const struct master_service *master_conf_find(const struct master_conf *conf,
					      const char *name,
					      const char *type);

/*
 * Service names (column 1) in file order, each once. Used to tell
 * per-service parameter names (relay_destination_concurrency_limit) from
 * typos. The caller destroys the argv.
 */
struct argv *master_conf_service_names(const struct master_conf *conf);

/*
 * Parameters that exist because of the services in this file, the way
 * Postfix derives them from the command: delivery agents run by the queue
 * manager (smtp, lmtp, local, virtual, error, pipe) get
 * NAME_destination_concurrency_limit and friends, pipe and spawn get
 * NAME_time_limit. Calls fn(name, default, ctx) for each, in file order;
 * names may repeat when two entries share a name, and may also be declared
 * parameters (the declared default then wins, as with a "local" service's
 * local_destination_concurrency_limit; callers check).
 */
typedef void master_param_fn(const char *name, const char *default_value,
			     void *ctx);
void master_conf_derived_params(const struct master_conf *conf,
				master_param_fn *fn, void *ctx);

/* "inet", "unix", ... for a known type; NULL for MASTER_TYPE_UNKNOWN. */
const char *master_type_name(enum master_type type);

/* The type called text, or MASTER_TYPE_UNKNOWN. */
enum master_type master_type_parse(const char *text);

/* Column names as postconf -F prints them ("unprivileged", ...). */
const char *master_field_name(enum master_field field);

/* The field called text, or -1. */
int master_field_parse(const char *text);

#endif
