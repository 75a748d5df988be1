/*
 * clock.h - the monotonic clock in milliseconds, for deadlines, timeouts
 * and ages (never for dates).
 */
#ifndef POSTERN_UTIL_CLOCK_H
#define POSTERN_UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_ms(void);

#endif
