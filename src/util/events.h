/*
 * events.h - an epoll event loop with timers.
 *
 * A loop watches descriptors for readability and writability and runs
 * timers on the monotonic clock, calling back into its owner. Callbacks may
 * add and remove descriptors and timers freely, including the descriptor
 * whose callback is running: an event that was pending for a descriptor
 * removed (or removed and registered again) during the same round is
 * dropped, never delivered to the wrong handler. The loop never closes or
 * reads descriptors itself, and holds no global state.
 */
#ifndef POSTERN_UTIL_EVENTS_H
#define POSTERN_UTIL_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;

/*
 * Called when fd is readable (or writable). Hang-up and error conditions
 * count as both, so the handler finds out through its read or write call.
 */
typedef void event_fd_fn(struct event_loop *loop, int fd, void *ctx);

/* Called once when a timer expires. */
typedef void event_timer_fn(struct event_loop *loop, void *ctx);

/*
 * A new loop. Fatal (log_fatal) if the kernel refuses an epoll instance,
 * which only happens when the process is out of descriptors or memory.
 */
struct event_loop *event_loop_create(void);

/* Free the loop (registered fds stay open); *loopp becomes NULL. */
void event_loop_destroy(struct event_loop **loopp);

/*
 * Call fn(loop, fd, ctx) whenever fd is readable (writable), replacing any
 * earlier read (write) handler of fd. Level-triggered: the handler runs
 * again each round until it has drained the condition or removed itself.
 * Returns 0, or -1 with errno from epoll_ctl (EPERM for a regular file,
 * EBADF for a closed fd), in which case nothing changed.
 */
int event_add_read(struct event_loop *loop, int fd, event_fd_fn *fn, void *ctx);
int event_add_write(struct event_loop *loop, int fd, event_fd_fn *fn,
                    void *ctx);

/*
 * Stop watching fd for reading, for writing, or both (event_remove). Safe
 * for fds that are not registered. Remove an fd before closing it: epoll
 * keeps watching a closed fd while a dup of it is open elsewhere.
 */
void event_remove_read(struct event_loop *loop, int fd);
void event_remove_write(struct event_loop *loop, int fd);
void event_remove(struct event_loop *loop, int fd);

/*
 * Run fn(loop, ctx) once, delay_ms milliseconds from now (a negative delay
 * counts as 0). Timers with the same expiry run in the order they were
 * added; a timer added by a callback never runs in the same round, even
 * with delay 0. Returns an id (never 0) for event_timer_cancel.
 */
uint64_t event_timer_add(struct event_loop *loop, int delay_ms,
                         event_timer_fn *fn, void *ctx);

/*
 * Cancel a pending timer. Returns true when it was pending (it will now
 * never run), false when it already ran, was cancelled, or never existed.
 */
bool event_timer_cancel(struct event_loop *loop, uint64_t id);

/*
 * Wait at most max_wait_ms (negative: until something happens) for ready
 * fds or the next timer, then run the ready fd callbacks and the expired
 * timers. Returns the number of callbacks run (0 after a quiet wait or a
 * signal), or -1 with errno if epoll_wait failed.
 */
int event_loop_run_once(struct event_loop *loop, int max_wait_ms);

/*
 * Run rounds until event_loop_stop is called, or until there is nothing
 * left to wait for (no fd and no timer). Returns 0, or -1 with errno if
 * epoll_wait failed. The stop request is consumed on return.
 */
int event_loop_run(struct event_loop *loop);

/* Make event_loop_run return after the current callback's round. */
void event_loop_stop(struct event_loop *loop);

/* The loop's notion of now: CLOCK_MONOTONIC in milliseconds. */
int64_t event_time_ms(void);

#endif
