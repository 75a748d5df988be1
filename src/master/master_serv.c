/*
 * master_serv.c - services: master.cf entries, their endpoints, reload.
 *
 * A bad master.cf line, a missing command or an endpoint that cannot be
 * created costs only that service: it is logged with file, line and
 * service, and master runs the others. On reload, a service whose endpoint
 * is unchanged keeps its listening sockets (clients never see a refused
 * connection); every service gets a fresh status channel, so processes of
 * the old configuration finish their client and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master/master.h"
#include "util/line_reader.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/tokens.h"

static char *
endpoint_of(const struct master_service *ms)
{
	if (ms->type_code == MASTER_TYPE_INET)
		return xstrdup(ms->name);
	return xasprintf("%s/%s", ms->is_private ? "private" : "public",
			 ms->name);
}

static char *
fingerprint_of(struct master *master, const struct master_serv *serv)
{
	if (serv->type_code != MASTER_TYPE_INET)
		return xasprintf("%s %s", serv->type, serv->endpoint);
	return xasprintf("%s %s %s %s", serv->type, serv->endpoint,
			 mail_conf_str(master->conf, "inet_interfaces"),
			 mail_conf_str(master->conf, "inet_protocols"));
}

/* The argv master execs: command, skeleton options, master.cf args. */
static struct argv *
exec_args(const struct master_serv *serv, const struct master_service *ms)
{
	struct argv *args = argv_create();
	char count[16];

	snprintf(count, sizeof(count), "%d", serv->listen_count);
	argv_add(args, serv->path);
	argv_add(args, "-s");
	argv_add(args, count);
	argv_add(args, "-n");
	argv_add(args, serv->name);
	argv_add(args, "-t");
	argv_add(args, serv->type);
	if (ms->is_unpriv)
		argv_add(args, "-u");
	if (ms->is_chroot)
		argv_add(args, "-c");
	for (size_t i = 1; i < ms->args->count; i++)
		argv_add(args, ms->args->items[i]);
	return args;
}

static struct master_serv *
serv_create(struct master *master, const struct master_service *ms,
	    struct err *err)
{
	struct master_serv *serv;
	char *path;

	if (ms->command[0] == '/')
		path = xstrdup(ms->command);
	else
		path = xasprintf("%s/%s",
				 mail_conf_str(master->conf, "daemon_directory"),
				 ms->command);
	if (access(path, X_OK) < 0) {
		err_set(err, "command %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	serv = xmalloc(sizeof(*serv));
	serv->master = master;
	serv->name = xstrdup(ms->name);
	serv->type = xstrdup(ms->type);
	serv->type_code = ms->type_code;
	serv->path = path;
	serv->endpoint = endpoint_of(ms);
	serv->maxproc = ms->maxproc == MASTER_MAXPROC_DEFAULT
		? (int)mail_conf_int(master->conf, "default_process_limit")
		: ms->maxproc;
	serv->wakeup = ms->wakeup;
	serv->wakeup_if_used = ms->wakeup_if_used;
	serv->lineno = ms->lineno;
	serv->fingerprint = fingerprint_of(master, serv);
	serv->status_fds[0] = serv->status_fds[1] = -1;
	return serv;
}

/* Listen on "host:port" for each inet_interfaces address, or on all. */
static int
listen_inet(struct master_serv *serv, struct err *err)
{
	struct mail_conf *conf = serv->master->conf;
	const char *protocols = mail_conf_str(conf, "inet_protocols");
	struct argv *ifaces = mail_conf_list(conf, "inet_interfaces");
	int family = AF_UNSPEC;
	int ret = 0;

	if (strstr(protocols, "ipv4") && !strstr(protocols, "ipv6"))
		family = AF_INET;
	else if (strstr(protocols, "ipv6") && !strstr(protocols, "ipv4"))
		family = AF_INET6;
	if (strchr(serv->name, ':') != NULL || ifaces->count == 0 ||
	    strcmp(ifaces->items[0], "all") == 0) {
		/* An explicit host in master.cf, or every interface. */
		argv_clear(ifaces);
		argv_add(ifaces, "");
	} else if (strcmp(ifaces->items[0], "loopback-only") == 0) {
		argv_clear(ifaces);
		if (family != AF_INET6)
			argv_add(ifaces, "127.0.0.1");
		if (family != AF_INET)
			argv_add(ifaces, "::1");
	}
	for (size_t i = 0; i < ifaces->count && ret >= 0; i++) {
		const char *host = ifaces->items[i];
		char *hostport = *host == 0 ? xstrdup(serv->name)
			: strchr(host, ':') ? xasprintf("[%s]:%s", host,
							serv->name)
					    : xasprintf("%s:%s", host,
							serv->name);
		size_t room = MASTER_MAX_LISTEN_FDS - (size_t)serv->listen_count;

		ret = sock_listen_tcp(hostport, family, MASTER_LISTEN_BACKLOG,
				      serv->listen_fds + serv->listen_count,
				      room, err);
		if (ret > 0)
			serv->listen_count += ret;
		free(hostport);
	}
	argv_destroy(&ifaces);
	return ret < 0 ? -1 : 0;
}

static int
listen_fifo(struct master_serv *serv, struct err *err)
{
	struct stat st;
	int fd;

	if (lstat(serv->endpoint, &st) == 0 && !S_ISFIFO(st.st_mode)) {
		err_set(err, "%s: exists and is not a FIFO", serv->endpoint);
		return -1;
	}
	if (mkfifo(serv->endpoint, 0622) < 0 && errno != EEXIST) {
		err_set(err, "mkfifo %s: %s", serv->endpoint, strerror(errno));
		return -1;
	}
	chmod(serv->endpoint, 0622);
	/* Read-write, so there is always a writer and never an EOF storm. */
	fd = open(serv->endpoint, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, "open %s: %s", serv->endpoint, strerror(errno));
		return -1;
	}
	serv->listen_fds[serv->listen_count++] = fd;
	return 0;
}

static int
serv_listen(struct master_serv *serv, struct err *err)
{
	int fd;

	switch (serv->type_code) {
	case MASTER_TYPE_INET:
		return listen_inet(serv, err);
	case MASTER_TYPE_FIFO:
		return listen_fifo(serv, err);
	case MASTER_TYPE_UNIX_DGRAM:
		fd = sock_bind_unix_dgram(serv->endpoint, 0666, err);
		break;
	case MASTER_TYPE_UNIX:
	case MASTER_TYPE_PASS:
		fd = sock_listen_unix(serv->endpoint, MASTER_LISTEN_BACKLOG,
				      0666, err);
		break;
	default:
		err_set(err, "unsupported service type %s", serv->type);
		return -1;
	}
	if (fd < 0)
		return -1;
	sock_set_nonblock(fd, true);
	serv->listen_fds[serv->listen_count++] = fd;
	return 0;
}

static void
serv_free(struct master_serv *serv)
{
	free(serv->name);
	free(serv->type);
	free(serv->endpoint);
	free(serv->path);
	free(serv->fingerprint);
	argv_destroy(&serv->args);
	free(serv);
}

static void
close_listeners(struct master_serv *serv)
{
	if (serv->listen_count > 0 && serv->type_code != MASTER_TYPE_INET)
		unlink(serv->endpoint);
	for (int i = 0; i < serv->listen_count; i++) {
		event_remove(serv->master->loop, serv->listen_fds[i]);
		close(serv->listen_fds[i]);
	}
	serv->listen_count = 0;
	serv->is_listen_watched = false;
}

/* Stop a service: no more listening, no more timers, status closed. */
static void
serv_retire(struct master *master, struct master_serv *serv)
{
	close_listeners(serv);
	master_wakeup_stop(serv);
	if (serv->throttle_timer)
		event_timer_cancel(master->loop, serv->throttle_timer);
	serv->throttle_timer = 0;
	master_status_stop(serv);
	serv->is_retired = true;
	if (serv->children == 0) {
		serv_free(serv);
		return;
	}
	master->retired = xreallocarray(master->retired,
					master->retired_count + 1,
					sizeof(*master->retired));
	master->retired[master->retired_count++] = serv;
}

void
master_serv_release(struct master_serv *serv)
{
	struct master *master = serv->master;

	if (!serv->is_retired || serv->children > 0)
		return;
	for (size_t i = 0; i < master->retired_count; i++) {
		if (master->retired[i] != serv)
			continue;
		master->retired[i] = master->retired[--master->retired_count];
		break;
	}
	serv_free(serv);
}

static void
add_serv(struct master *master, struct master_serv ***list, size_t *count,
	 struct master_serv *serv)
{
	(void)master;
	*list = xreallocarray(*list, *count + 1, sizeof(**list));
	(*list)[(*count)++] = serv;
}

static struct master_serv *
find_serv(struct master_serv **list, size_t count, const char *name,
	  const char *type)
{
	for (size_t i = 0; i < count; i++)
		if (list[i] != NULL && strcmp(list[i]->name, name) == 0 &&
		    strcmp(list[i]->type, type) == 0)
			return list[i];
	return NULL;
}

/* Take over the sockets of an old service with the same endpoint. */
static bool
adopt_listeners(struct master_serv *serv, struct master_serv *old)
{
	if (old == NULL || strcmp(old->fingerprint, serv->fingerprint) != 0)
		return false;
	for (int i = 0; i < old->listen_count; i++) {
		event_remove(old->master->loop, old->listen_fds[i]);
		serv->listen_fds[i] = old->listen_fds[i];
	}
	serv->listen_count = old->listen_count;
	old->listen_count = 0;
	old->is_listen_watched = false;
	return true;
}

/* Bring one parsed entry into service; false (logged) if it cannot run. */
static bool
start_entry(struct master *master, const struct master_service *ms,
	    const char *file, struct master_serv **old, size_t old_count,
	    struct master_serv ***list, size_t *count)
{
	struct master_serv *serv;
	struct master_serv *prev;
	struct err err;

	if ((serv = serv_create(master, ms, &err)) == NULL) {
		log_error("%s, line %d: service %s/%s: %s; skipping this "
			  "service",
			  file, ms->lineno, ms->name, ms->type, err.text);
		return false;
	}
	prev = find_serv(old, old_count, serv->name, serv->type);
	if (!adopt_listeners(serv, prev) && serv_listen(serv, &err) < 0) {
		log_error("%s, line %d: service %s/%s: %s; skipping this "
			  "service",
			  file, ms->lineno, ms->name, ms->type, err.text);
		close_listeners(serv);
		serv_free(serv);
		return false;
	}
	serv->args = exec_args(serv, ms);
	add_serv(master, list, count, serv);
	return true;
}

/* Parsed master.cf entries; entries that fail to parse are logged. */
struct entries {
	struct master_service *items;
	size_t count;
};

static void
entries_free(struct entries *entries)
{
	for (size_t i = 0; i < entries->count; i++)
		master_service_free(&entries->items[i]);
	free(entries->items);
}

static void
warn_skipped_line(void *ctx, const char *warning)
{
	(void)ctx;
	log_warning("%s", warning);
}

static void
read_entries(const char *file, struct entries *entries)
{
	struct line_reader *lr;
	struct strbuf line;
	struct err err;
	int ret;

	if ((lr = line_reader_open(file, &err)) == NULL) {
		log_error("%s", err.text);
		return;
	}
	line_reader_skip_leading_space(lr, warn_skipped_line, NULL);
	strbuf_init(&line, LINE_READER_MAX_LOGICAL);
	while ((ret = line_reader_next(lr, &line, &err)) > 0) {
		struct master_service ms = { 0 };

		if (entries->count >= MASTER_CONF_MAX_SERVICES) {
			log_error("%s: more than %d services; ignoring the "
				  "rest of the file",
				  file, MASTER_CONF_MAX_SERVICES);
			break;
		}
		if (master_service_parse(strbuf_text(&line), file,
					 line_reader_lineno(lr),
					 MASTER_CONF_STRICT, &ms, NULL,
					 &err) < 0) {
			log_error("%s; skipping this service", err.text);
			master_service_free(&ms);
			continue;
		}
		entries->items = xreallocarray(entries->items,
					       entries->count + 1,
					       sizeof(*entries->items));
		entries->items[entries->count++] = ms;
	}
	if (ret < 0)
		log_error("%s; ignoring the rest of the file", err.text);
	strbuf_deinit(&line);
	line_reader_close(&lr);
}

/* As Postfix's master: of two entries for one name/type, the last wins. */
static bool
is_superseded(const struct entries *entries, size_t index, const char *file)
{
	const struct master_service *ms = &entries->items[index];

	for (size_t j = index + 1; j < entries->count; j++) {
		const struct master_service *later = &entries->items[j];

		if (strcmp(later->name, ms->name) == 0 &&
		    strcmp(later->type, ms->type) == 0) {
			log_warning("%s, line %d: duplicate master.cf entry "
				    "for service %s/%s; using the entry at "
				    "line %d",
				    file, ms->lineno, ms->name, ms->type,
				    later->lineno);
			return true;
		}
	}
	return false;
}

/*
 * Read master.cf and start every entry that can run, adopting the sockets
 * of old services with the same endpoint. Returns the number started.
 */
static size_t
start_services(struct master *master, struct master_serv **old,
	       size_t old_count, struct master_serv ***list_out)
{
	char *file = xasprintf("%s/master.cf", master->config_dir);
	struct entries entries = { 0 };
	struct master_serv **list = NULL;
	size_t count = 0;

	read_entries(file, &entries);
	for (size_t i = 0; i < entries.count; i++)
		if (!is_superseded(&entries, i, file))
			start_entry(master, &entries.items[i], file, old,
				    old_count, &list, &count);
	entries_free(&entries);
	free(file);
	*list_out = list;
	return count;
}

static void
activate(struct master_serv *serv)
{
	master_status_start(serv);
	master_watch_demand(serv);
	master_wakeup_start(serv);
}

int
master_services_load(struct master *master)
{
	master->serv_count = start_services(master, NULL, 0, &master->servs);
	for (size_t i = 0; i < master->serv_count; i++)
		activate(master->servs[i]);
	return master->serv_count > 0 ? 0 : -1;
}

void
master_services_reload(struct master *master)
{
	struct master_serv **old = master->servs;
	size_t old_count = master->serv_count;
	struct mail_conf *conf;
	struct err err;

	if ((conf = mail_conf_load(master->config_dir, &err)) == NULL) {
		log_error("%s; keeping the current configuration", err.text);
		return;
	}
	mail_conf_destroy(&master->conf);
	master->conf = conf;
	master->serv_count = start_services(master, old, old_count,
					    &master->servs);
	for (size_t i = 0; i < old_count; i++)
		serv_retire(master, old[i]);
	free(old);
	for (size_t i = 0; i < master->serv_count; i++)
		activate(master->servs[i]);
}

void
master_services_close_all(struct master *master)
{
	for (size_t i = 0; i < master->serv_count; i++)
		serv_retire(master, master->servs[i]);
	free(master->servs);
	master->servs = NULL;
	master->serv_count = 0;
}
