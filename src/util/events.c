/*
 * events.c - an epoll event loop with timers.
 *
 * Handlers live in a table indexed by fd. Each epoll registration carries
 * the fd and a generation number; removing an fd bumps the generation, so
 * events already fetched for the old registration are recognised as stale.
 * Timers sit in a binary heap ordered by (expiry, id); ids grow, so equal
 * expiries run in the order they were added.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mymalloc.h"

#define EVENT_BATCH 64

struct fd_slot {
	event_fd_fn *read_fn;
	void *read_ctx;
	event_fd_fn *write_fn;
	void *write_ctx;
	uint32_t gen;     /* bumped whenever the fd leaves epoll */
	bool is_in_epoll; /* epoll knows this fd */
};

struct timer {
	int64_t expiry;
	uint64_t id;
	event_timer_fn *fn;
	void *ctx;
};

struct event_loop {
	int epoll_fd;
	struct fd_slot *slots;
	size_t slot_count;
	size_t fd_count; /* fds with at least one handler */
	struct timer *heap;
	size_t timer_count;
	size_t timer_cap;
	uint64_t next_timer_id;
	bool is_stopped;
};

int64_t
event_time_ms(void)
{
	return clock_ms();
}

struct event_loop *
event_loop_create(void)
{
	struct event_loop *loop = xmalloc(sizeof(*loop));

	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		log_fatal("epoll_create1: %s", strerror(errno));
	loop->next_timer_id = 1;
	return loop;
}

void
event_loop_destroy(struct event_loop **loopp)
{
	struct event_loop *loop = *loopp;

	if (loop == NULL)
		return;
	close(loop->epoll_fd);
	free(loop->slots);
	free(loop->heap);
	free(loop);
	*loopp = NULL;
}

/* The slot of fd, growing the table as needed. */
static struct fd_slot *
slot_get(struct event_loop *loop, int fd)
{
	size_t want = (size_t)fd + 1;
	size_t count = loop->slot_count ? loop->slot_count : 16;

	if (want > loop->slot_count) {
		while (count < want)
			count *= 2;
		loop->slots =
		    xreallocarray(loop->slots, count, sizeof(*loop->slots));
		memset(loop->slots + loop->slot_count, 0,
		       (count - loop->slot_count) * sizeof(*loop->slots));
		loop->slot_count = count;
	}
	return &loop->slots[fd];
}

static uint32_t
slot_events(const struct fd_slot *slot)
{
	return (slot->read_fn ? EPOLLIN : 0) | (slot->write_fn ? EPOLLOUT : 0);
}

/* Tell epoll what slot now wants; -1 with errno if it refuses. */
static int
slot_sync(struct event_loop *loop, int fd, struct fd_slot *slot)
{
	struct epoll_event ev = {.events = slot_events(slot)};
	int op = slot->is_in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (ev.events == 0) {
		if (slot->is_in_epoll) {
			(void)epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd,
			                NULL);
			loop->fd_count--;
		}
		slot->is_in_epoll = false;
		slot->gen++;
		return 0;
	}
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)slot->gen << 32;
	if (epoll_ctl(loop->epoll_fd, op, fd, &ev) < 0) {
		/* The fd was closed and reused behind our back: start over. */
		if (op != EPOLL_CTL_MOD || errno != ENOENT ||
		    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	if (!slot->is_in_epoll)
		loop->fd_count++;
	slot->is_in_epoll = true;
	return 0;
}

static int
add_handler(struct event_loop *loop, int fd, bool is_write, event_fd_fn *fn,
            void *ctx)
{
	struct fd_slot *slot;
	struct fd_slot saved;

	ASSERT(fn != NULL);
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	slot = slot_get(loop, fd);
	saved = *slot;
	if (is_write) {
		slot->write_fn = fn;
		slot->write_ctx = ctx;
	} else {
		slot->read_fn = fn;
		slot->read_ctx = ctx;
	}
	if (slot_sync(loop, fd, slot) < 0) {
		*slot = saved;
		return -1;
	}
	return 0;
}

int
event_add_read(struct event_loop *loop, int fd, event_fd_fn *fn, void *ctx)
{
	return add_handler(loop, fd, false, fn, ctx);
}

int
event_add_write(struct event_loop *loop, int fd, event_fd_fn *fn, void *ctx)
{
	return add_handler(loop, fd, true, fn, ctx);
}

static void
remove_handlers(struct event_loop *loop, int fd, bool want_read,
                bool want_write)
{
	struct fd_slot *slot;

	if (fd < 0 || (size_t)fd >= loop->slot_count)
		return;
	slot = &loop->slots[fd];
	if (!slot->is_in_epoll)
		return;
	if (want_read) {
		slot->read_fn = NULL;
		slot->read_ctx = NULL;
	}
	if (want_write) {
		slot->write_fn = NULL;
		slot->write_ctx = NULL;
	}
	/* Shrinking the interest set cannot fail for an fd epoll knows. */
	(void)slot_sync(loop, fd, slot);
}

void
event_remove_read(struct event_loop *loop, int fd)
{
	remove_handlers(loop, fd, true, false);
}

void
event_remove_write(struct event_loop *loop, int fd)
{
	remove_handlers(loop, fd, false, true);
}

void
event_remove(struct event_loop *loop, int fd)
{
	remove_handlers(loop, fd, true, true);
}

/* Heap order: earlier expiry first, then lower id. */
static bool
timer_before(const struct timer *a, const struct timer *b)
{
	return a->expiry < b->expiry ||
	       (a->expiry == b->expiry && a->id < b->id);
}

static void
heap_swap(struct timer *heap, size_t i, size_t j)
{
	struct timer tmp = heap[i];

	heap[i] = heap[j];
	heap[j] = tmp;
}

static void
heap_up(struct timer *heap, size_t i)
{
	while (i > 0 && timer_before(&heap[i], &heap[(i - 1) / 2])) {
		heap_swap(heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct timer *heap, size_t count, size_t i)
{
	for (;;) {
		size_t least = i;

		if (2 * i + 1 < count &&
		    timer_before(&heap[2 * i + 1], &heap[least]))
			least = 2 * i + 1;
		if (2 * i + 2 < count &&
		    timer_before(&heap[2 * i + 2], &heap[least]))
			least = 2 * i + 2;
		if (least == i)
			return;
		heap_swap(heap, i, least);
		i = least;
	}
}

/* Take the timer at index i out of the heap. */
static struct timer
heap_take(struct event_loop *loop, size_t i)
{
	struct timer taken = loop->heap[i];

	loop->timer_count--;
	if (i < loop->timer_count) {
		loop->heap[i] = loop->heap[loop->timer_count];
		heap_down(loop->heap, loop->timer_count, i);
		heap_up(loop->heap, i);
	}
	return taken;
}

uint64_t
event_timer_add(struct event_loop *loop, int delay_ms, event_timer_fn *fn,
                void *ctx)
{
	uint64_t id = loop->next_timer_id++;
	struct timer *t;

	ASSERT(fn != NULL);
	if (loop->timer_count == loop->timer_cap) {
		loop->timer_cap = loop->timer_cap ? 2 * loop->timer_cap : 16;
		loop->heap = xreallocarray(loop->heap, loop->timer_cap,
		                           sizeof(*loop->heap));
	}
	t = &loop->heap[loop->timer_count];
	t->expiry = event_time_ms() + (delay_ms > 0 ? delay_ms : 0);
	t->id = id;
	t->fn = fn;
	t->ctx = ctx;
	heap_up(loop->heap, loop->timer_count++);
	return id;
}

bool
event_timer_cancel(struct event_loop *loop, uint64_t id)
{
	for (size_t i = 0; i < loop->timer_count; i++) {
		if (loop->heap[i].id == id) {
			(void)heap_take(loop, i);
			return true;
		}
	}
	return false;
}

/* Milliseconds until the first timer, capped by max_wait_ms (<0: none). */
static int
wait_time(const struct event_loop *loop, int max_wait_ms)
{
	int64_t left;

	if (loop->timer_count == 0)
		return max_wait_ms < 0 ? -1 : max_wait_ms;
	left = loop->heap[0].expiry - event_time_ms();
	if (left < 0)
		left = 0;
	if (max_wait_ms >= 0 && left > max_wait_ms)
		left = max_wait_ms;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Run the timers due now that existed before this round began. */
static int
run_timers(struct event_loop *loop, uint64_t id_limit)
{
	int64_t now = event_time_ms();
	int calls = 0;

	while (loop->timer_count > 0 && loop->heap[0].expiry <= now &&
	       loop->heap[0].id < id_limit) {
		struct timer t = heap_take(loop, 0);
		t.fn(loop, t.ctx);
		calls++;
	}
	return calls;
}

/* Deliver one epoll event, unless its registration went away. */
static int
dispatch(struct event_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	uint32_t bad = EPOLLERR | EPOLLHUP;
	struct fd_slot *slot = &loop->slots[fd];
	int calls = 0;

	if (slot->gen != gen || !slot->is_in_epoll)
		return 0;
	if ((ev->events & (EPOLLIN | bad)) && slot->read_fn != NULL) {
		slot->read_fn(loop, fd, slot->read_ctx);
		calls++;
		/* The callback may have grown the table or removed fd. */
		slot = &loop->slots[fd];
		if (slot->gen != gen || !slot->is_in_epoll)
			return calls;
	}
	if ((ev->events & (EPOLLOUT | bad)) && slot->write_fn != NULL) {
		slot->write_fn(loop, fd, slot->write_ctx);
		calls++;
	}
	return calls;
}

int
event_loop_run_once(struct event_loop *loop, int max_wait_ms)
{
	struct epoll_event events[EVENT_BATCH];
	uint64_t id_limit = loop->next_timer_id;
	int calls = 0;
	int n;

	n = epoll_wait(loop->epoll_fd, events, EVENT_BATCH,
	               wait_time(loop, max_wait_ms));
	if (n < 0) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	for (int i = 0; i < n; i++)
		calls += dispatch(loop, &events[i]);
	return calls + run_timers(loop, id_limit);
}

int
event_loop_run(struct event_loop *loop)
{
	int ret = 0;

	while (!loop->is_stopped &&
	       (loop->fd_count > 0 || loop->timer_count > 0)) {
		if (event_loop_run_once(loop, -1) < 0) {
			ret = -1;
			break;
		}
	}
	loop->is_stopped = false;
	return ret;
}

void
event_loop_stop(struct event_loop *loop)
{
	loop->is_stopped = true;
}
