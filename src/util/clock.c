/*
 * clock.c - the monotonic clock in milliseconds (a vDSO call, no system
 * call).
 */
#include <time.h>

#include "util/clock.h"

int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
