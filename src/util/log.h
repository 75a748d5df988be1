/*
 * log.h - logging in Postfix's line shape.
 *
 * A process picks its sinks once at start-up: stderr (commands: "postconf:
 * warning: text", the tag's last component only), a file (maillog_file), and/or syslog. Every sink gets one
 * line per call, written with a single write so concurrent writers appending
 * to one file never interleave. File lines look like syslog's:
 *     Nov 22 16:54:58 host postfix/smtpd[123]: warning: text
 * Control characters in the text are replaced with '?', so peer data cannot
 * forge extra log lines. Levels: info, warning, error, fatal (exit 1) and
 * panic (abort, for broken invariants). The sink choice is the only
 * process-wide state here; it is owned by whoever calls log_init.
 */
#ifndef POSTERN_UTIL_LOG_H
#define POSTERN_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "util/err.h"

enum log_level {
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
};

/*
 * Name this process in every line: tag is "postfix/smtpd" for a daemon or
 * "postconf" for a command. Starts with stderr on and no other sinks.
 */
void log_init(const char *tag);

/* Name the host in file lines by the first label of name, instead of
 * the system's host name. */
void log_set_host(const char *name);

/* The tag given to log_init (or "postern" before it). */
const char *log_tag(void);

/* Name stderr lines with tag instead of the tag's last component. */
void log_set_stderr_tag(const char *tag);

/* Turn the plain stderr sink on or off. */
void log_to_stderr(bool enable);

/*
 * Append Postfix-shaped lines to path (created 0644 if missing). Returns -1
 * with err set when the file cannot be opened. "/dev/stdout" and
 * "/dev/stderr" are written through the existing descriptors.
 */
int log_to_file(const char *path, struct err *err);

/* Send lines to syslog(3) with the given facility (LOG_MAIL usually). */
void log_to_syslog(int facility);

/* Verbosity for log_debug: the number of -v flags. */
void log_set_verbose(int level);
int log_verbose(void);

/* Called once by log_fatal before exit (e.g. to remove a partial file). */
void log_set_fatal_hook(void (*hook)(void));

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void log_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void log_message(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Never compiled out: a broken invariant aborts with file and line. */
#define ASSERT(cond)                                                          \
	((cond) ? (void)0                                                      \
		: log_panic("%s:%d: assertion failed: %s", __FILE__, __LINE__, \
			    #cond))

#endif
