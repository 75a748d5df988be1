/*
 * log.c - logging in Postfix's line shape.
 *
 * Formats each message once into a bounded buffer, cleans control
 * characters, then hands the same text to every enabled sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define LOG_TEXT_MAX 4096

/* The process's choice of sinks, set at start-up by log_init and friends. */
static struct {
	char tag[128];
	char stderr_tag[128]; /* "" means the tag's last component */
	char host[256];
	bool to_stderr;
	int file_fd;
	bool to_syslog;
	int verbose;
	void (*fatal_hook)(void);
	bool in_fatal;
} log_state = { .tag = "postern", .to_stderr = true, .file_fd = -1 };

static const char *const level_prefix[] = {
	[LOG_LEVEL_INFO] = "",
	[LOG_LEVEL_WARNING] = "warning: ",
	[LOG_LEVEL_ERROR] = "error: ",
	[LOG_LEVEL_FATAL] = "fatal: ",
	[LOG_LEVEL_PANIC] = "panic: ",
};

static const int level_priority[] = {
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_FATAL] = LOG_CRIT,
	[LOG_LEVEL_PANIC] = LOG_CRIT,
};

void
log_init(const char *tag)
{
	char host[sizeof(log_state.host)] = "";

	snprintf(log_state.tag, sizeof(log_state.tag), "%s", tag);
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	log_set_host(host);
}

void
log_set_host(const char *name)
{
	char *dot;

	snprintf(log_state.host, sizeof(log_state.host), "%s", name);
	/* syslog shows the short host name; do the same in files. */
	if ((dot = strchr(log_state.host, '.')) != NULL)
		*dot = 0;
}

const char *
log_tag(void)
{
	return log_state.tag;
}

void
log_set_stderr_tag(const char *tag)
{
	snprintf(log_state.stderr_tag, sizeof(log_state.stderr_tag), "%s",
		 tag);
}

void
log_to_stderr(bool enable)
{
	log_state.to_stderr = enable;
}

int
log_to_file(const char *path, struct err *err)
{
	int fd;

	if (strcmp(path, "/dev/stdout") == 0)
		fd = dup(STDOUT_FILENO);
	else if (strcmp(path, "/dev/stderr") == 0)
		fd = dup(STDERR_FILENO);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (log_state.file_fd >= 0)
		close(log_state.file_fd);
	log_state.file_fd = fd;
	return 0;
}

void
log_to_syslog(int facility)
{
	openlog(log_state.tag, LOG_PID | LOG_NDELAY, facility);
	log_state.to_syslog = true;
}

void
log_set_verbose(int level)
{
	log_state.verbose = level;
}

int
log_verbose(void)
{
	return log_state.verbose;
}

void
log_set_fatal_hook(void (*hook)(void))
{
	log_state.fatal_hook = hook;
}

static void
clean_controls(char *text)
{
	for (unsigned char *cp = (unsigned char *)text; *cp; cp++)
		if (*cp < 0x20 || *cp == 0x7f)
			*cp = '?';
}

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void
write_file_line(const char *text)
{
	char line[LOG_TEXT_MAX + 512];
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int len;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	len = snprintf(line, sizeof(line) - 1, "%s %s %s[%ld]: %s", stamp,
		       log_state.host, log_state.tag, (long)getpid(), text);
	if (len < 0)
		return;
	if ((size_t)len > sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	write_all(log_state.file_fd, line, (size_t)len);
}

static void
write_stderr_line(const char *text)
{
	char line[LOG_TEXT_MAX + 256];
	const char *name = strrchr(log_state.tag, '/');
	int len;

	/* Commands say "postconf: warning: ..." on stderr, as Postfix's do. */
	name = name != NULL ? name + 1 : log_state.tag;
	if (log_state.stderr_tag[0] != 0)
		name = log_state.stderr_tag;
	len = snprintf(line, sizeof(line) - 1, "%s: %s", name, text);
	if (len < 0)
		return;
	if ((size_t)len > sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	write_all(STDERR_FILENO, line, (size_t)len);
}

void
log_message(enum log_level level, const char *fmt, va_list ap)
{
	char text[LOG_TEXT_MAX];
	size_t prefix_len;
	int saved_errno = errno;

	prefix_len = (size_t)snprintf(text, sizeof(text), "%s",
				      level_prefix[level]);
	vsnprintf(text + prefix_len, sizeof(text) - prefix_len, fmt, ap);
	clean_controls(text);
	if (log_state.to_stderr)
		write_stderr_line(text);
	if (log_state.file_fd >= 0)
		write_file_line(text);
	if (log_state.to_syslog)
		syslog(level_priority[level], "%s", text);
	errno = saved_errno;
}

#define LOG_AT(level)                                                         \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_message(level, fmt, ap);                                   \
		va_end(ap);                                                    \
	} while (0)

void
log_info(const char *fmt, ...)
{
	LOG_AT(LOG_LEVEL_INFO);
}

void
log_debug(const char *fmt, ...)
{
	if (log_state.verbose > 0)
		LOG_AT(LOG_LEVEL_INFO);
}

void
log_warning(const char *fmt, ...)
{
	LOG_AT(LOG_LEVEL_WARNING);
}

void
log_error(const char *fmt, ...)
{
	LOG_AT(LOG_LEVEL_ERROR);
}

void
log_fatal(const char *fmt, ...)
{
	LOG_AT(LOG_LEVEL_FATAL);
	if (log_state.fatal_hook != NULL && !log_state.in_fatal) {
		log_state.in_fatal = true;
		log_state.fatal_hook();
	}
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	LOG_AT(LOG_LEVEL_PANIC);
	abort();
}
