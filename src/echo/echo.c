/*
 * echo.c - a trivial service for testing master and the three skeletons.
 *
 * master.cf: "NAME unix|inet|fifo ... echo [trigger|multi]".
 *   (default)  SKEL_SINGLE. On connect it sends "echo PID as USER\n" so
 *              tests can tell processes apart and check the privilege drop,
 *              then returns each line it reads until end of file, a read
 *              timeout (ipc_timeout), or a line "quit". A line "crash" makes
 *              it abort, so tests can exercise master's crash handling.
 *   multi      SKEL_MULTI: the same greeting ("... multi"), then echoes raw
 *              bytes for any number of concurrent clients.
 *   trigger    SKEL_TRIGGER: logs "trigger: REQUEST" for each wake-up.
 * Touches nothing but its clients and the log.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_server.h"
#include "util/log.h"

#define ECHO_LINE_MAX 4096

static const char *
user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw != NULL ? pw->pw_name : "?";
}

static void
echo_serve(struct server *server, struct stream *client)
{
	struct strbuf line;
	enum stream_line_end end;

	stream_set_timeout(client,
			   (int)mail_conf_time(server->conf, "ipc_timeout") *
				   1000);
	stream_printf(client, "echo %ld as %s\n", (long)getpid(), user_name());
	stream_flush(client);
	strbuf_init(&line, ECHO_LINE_MAX);
	while (stream_read_line(client, &line, &end) > 0) {
		if (strcmp(strbuf_text(&line), "quit") == 0)
			break;
		if (strcmp(strbuf_text(&line), "crash") == 0)
			abort();
		stream_write(client, line.data, line.len);
		stream_puts(client, "\n");
		if (stream_flush(client) < 0)
			break;
	}
	strbuf_deinit(&line);
}

static void
echo_multi_read(struct event_loop *loop, int fd, void *ctx)
{
	struct server *server = ctx;
	char buf[ECHO_LINE_MAX];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || write(fd, buf, (size_t)n) != n) {
		event_remove(loop, fd);
		close(fd);
		server_client_done(server);
	}
}

static void
echo_multi_accept(struct server *server, int fd)
{
	char greeting[128];
	int len = snprintf(greeting, sizeof(greeting), "echo %ld as %s multi\n",
			   (long)getpid(), user_name());

	if (write(fd, greeting, (size_t)len) != len ||
	    event_add_read(server->loop, fd, echo_multi_read, server) < 0) {
		close(fd);
		server_client_done(server);
	}
}

static void
echo_trigger(struct server *server, const uint8_t *buf, size_t len)
{
	(void)server;
	log_info("trigger: %.*s", (int)len, (const char *)buf);
}

static const struct service_def echo_single = {
	.name = "echo",
	.kind = SKEL_SINGLE,
	.on_client = echo_serve,
};

static const struct service_def echo_multi = {
	.name = "echo",
	.kind = SKEL_MULTI,
	.on_accept = echo_multi_accept,
};

static const struct service_def echo_trigger_service = {
	.name = "echo",
	.kind = SKEL_TRIGGER,
	.on_trigger = echo_trigger,
};

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[argc - 1] : "";

	if (strcmp(mode, "multi") == 0)
		return skel_main(argc, argv, &echo_multi);
	if (strcmp(mode, "trigger") == 0)
		return skel_main(argc, argv, &echo_trigger_service);
	return skel_main(argc, argv, &echo_single);
}
