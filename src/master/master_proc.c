/*
 * master_proc.c - processes: spawning on demand, status, reaping, throttling.
 *
 * master listens on a service's sockets itself only while none of the
 * service's processes is free and the service is below maxproc: a
 * connection then starts one more process, which takes the connection from
 * the shared listener. Children report busy/available on the status pipe.
 * A process that exits abnormally before serving anyone, or too many
 * crashes in a row, throttles the service for service_throttle_time, so a
 * broken command or configuration cannot make master fork in a tight loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/master.h"
#include "util/log.h"
#include "util/mymalloc.h"

static bool
has_room(const struct master_serv *serv)
{
	return serv->maxproc == 0 || serv->total < serv->maxproc;
}

static void demand_ready(struct event_loop *loop, int fd, void *ctx);

/* Watch the listeners for demand exactly when a new process could help. */
void
master_watch_demand(struct master_serv *serv)
{
	struct event_loop *loop = serv->master->loop;
	bool want = !serv->is_retired && !serv->master->is_stopping &&
		    serv->avail == 0 && has_room(serv) &&
		    serv->throttled_until == 0;

	if (want == serv->is_listen_watched)
		return;
	for (int i = 0; i < serv->listen_count; i++) {
		if (want)
			event_add_read(loop, serv->listen_fds[i], demand_ready,
				       serv);
		else
			event_remove(loop, serv->listen_fds[i]);
	}
	serv->is_listen_watched = want;
}

static void
demand_ready(struct event_loop *loop, int fd, void *ctx)
{
	struct master_serv *serv = ctx;

	(void)loop;
	(void)fd;
	serv->has_been_used = true;
	master_spawn(serv);
}

static void
unthrottle(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;

	(void)loop;
	serv->throttle_timer = 0;
	serv->throttled_until = 0;
	serv->crash_count = 0;
	master_watch_demand(serv);
}

static void
throttle(struct master_serv *serv)
{
	long long delay = mail_conf_time(serv->master->conf,
					 "service_throttle_time");

	if (serv->throttled_until != 0 || serv->is_retired)
		return;
	log_warning("%s: bad command startup -- throttling", serv->path);
	serv->throttled_until = event_time_ms() + delay * 1000;
	serv->throttle_timer = event_timer_add(serv->master->loop,
					       (int)(delay * 1000), unthrottle,
					       serv);
	master_watch_demand(serv);
}

/* In the child: put the descriptors where the skeleton expects them. */
static void
child_setup_fds(const struct master_serv *serv)
{
	int fds[MASTER_MAX_LISTEN_FDS + 1];
	int count = serv->listen_count;

	/* Move everything out of the way first, then into place. */
	fds[0] = fcntl(serv->status_fds[1], F_DUPFD, 64);
	for (int i = 0; i < count; i++)
		fds[i + 1] = fcntl(serv->listen_fds[i], F_DUPFD, 64);
	for (int i = 0; i <= count; i++) {
		if (fds[i] < 0 || dup2(fds[i], MASTER_STATUS_FD + i) < 0) {
			log_error("%s: set up descriptors: %s", serv->path,
				  strerror(errno));
			_exit(1);
		}
	}
	for (int fd = 3; fd < MASTER_STATUS_FD; fd++)
		close(fd);
	close_range(MASTER_LISTEN_FD + count, ~0U, 0);
}

static void
child_exec(const struct master_serv *serv)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	child_setup_fds(serv);
	setenv("MAIL_CONFIG", serv->master->config_dir, 1);
	execv(serv->path, serv->args->items);
	log_error("%s: exec: %s", serv->path, strerror(errno));
	_exit(1);
}

void
master_spawn(struct master_serv *serv)
{
	struct master_child *child;
	char key[24];
	pid_t pid;

	if (!has_room(serv) || serv->throttled_until != 0)
		return;
	if ((pid = fork()) < 0) {
		log_warning("fork: %s", strerror(errno));
		throttle(serv);
		return;
	}
	if (pid == 0)
		child_exec(serv);
	child = xmalloc(sizeof(*child));
	child->pid = pid;
	child->serv = serv;
	child->generation = serv->generation;
	child->is_avail = true;
	snprintf(key, sizeof(key), "%ld", (long)pid);
	htable_insert(serv->master->children, key, child);
	serv->total++;
	serv->avail++;
	serv->children++;
	master_watch_demand(serv);
}

static struct master_child *
find_child(struct master *master, pid_t pid)
{
	char key[24];

	snprintf(key, sizeof(key), "%ld", (long)pid);
	return htable_find(master->children, key);
}

static bool
is_current(const struct master_child *child)
{
	return child->generation == child->serv->generation &&
	       !child->serv->is_retired;
}

static void
apply_status(struct master *master, const struct master_status *st)
{
	struct master_child *child = find_child(master, st->pid);
	struct master_serv *serv;
	bool want_avail = st->status == MASTER_STAT_AVAIL;

	if (child == NULL || !is_current(child) || child->is_avail == want_avail)
		return;
	serv = child->serv;
	child->is_avail = want_avail;
	if (!want_avail) {
		child->has_served = true;
		serv->has_been_used = true;
	}
	serv->avail += want_avail ? 1 : -1;
	master_watch_demand(serv);
}

static void
read_status(struct event_loop *loop, int fd, void *ctx)
{
	struct master_serv *serv = ctx;
	struct master_status records[64];
	ssize_t n;

	(void)loop;
	n = read(fd, records, sizeof(records));
	if (n <= 0)
		return;
	for (size_t i = 0; i < (size_t)n / sizeof(records[0]); i++)
		apply_status(serv->master, &records[i]);
}

void
master_status_start(struct master_serv *serv)
{
	if (pipe2(serv->status_fds, O_CLOEXEC) < 0)
		log_fatal("pipe: %s", strerror(errno));
	/* master never waits on a read; children may wait on a full pipe. */
	fcntl(serv->status_fds[0], F_SETFL, O_NONBLOCK);
	event_add_read(serv->master->loop, serv->status_fds[0], read_status,
		       serv);
}

/* Close the channel: this generation's processes see it and exit. */
void
master_status_stop(struct master_serv *serv)
{
	if (serv->status_fds[0] < 0)
		return;
	event_remove(serv->master->loop, serv->status_fds[0]);
	close(serv->status_fds[0]);
	close(serv->status_fds[1]);
	serv->status_fds[0] = serv->status_fds[1] = -1;
	serv->generation++;
	serv->total = serv->avail = 0;
}

static bool
is_crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGABRT || sig == SIGSYS;
}

/* Log an abnormal end; returns true if it counts against the service. */
static bool
report_exit(const struct master_child *child, int status)
{
	const char *path = child->serv->path;

	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		log_warning("process %s pid %ld exit status %d", path,
			    (long)child->pid, WEXITSTATUS(status));
		return true;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		log_warning("process %s pid %ld killed by signal %d", path,
			    (long)child->pid, sig);
		return is_crash_signal(sig);
	}
	return false;
}

static void
count_crash(struct master_serv *serv, const struct master_child *child)
{
	int64_t now = event_time_ms();

	if (now - serv->crash_window_start > MASTER_CRASH_WINDOW_MS) {
		serv->crash_window_start = now;
		serv->crash_count = 0;
	}
	if (!child->has_served || ++serv->crash_count >= MASTER_CRASH_LIMIT)
		throttle(serv);
}

static void
forget_child(struct master *master, struct master_child *child, int status)
{
	struct master_serv *serv = child->serv;
	char key[24];
	/* While stopping, the deaths are ours: nothing to report. */
	bool is_bad = !master->is_stopping && report_exit(child, status);

	if (is_current(child)) {
		serv->total--;
		if (child->is_avail)
			serv->avail--;
		if (is_bad)
			count_crash(serv, child);
	}
	serv->children--;
	snprintf(key, sizeof(key), "%ld", (long)child->pid);
	htable_remove(master->children, key, free);
	if (serv->is_retired)
		master_serv_release(serv);
	else
		master_watch_demand(serv);
}

void
master_reap_children(struct master *master)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct master_child *child = find_child(master, pid);

		if (child != NULL)
			forget_child(master, child, status);
	}
}

void
master_signal_children(struct master *master, int sig)
{
	struct htable_entry **list = htable_entries(master->children, false);

	for (size_t i = 0; list[i] != NULL; i++) {
		struct master_child *child = list[i]->value;

		kill(child->pid, sig);
	}
	free(list);
}
