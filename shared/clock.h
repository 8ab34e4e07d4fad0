/*
 * Clocks for every process: monotonic time for timers and durations,
 * real time for what people and logs read.  One definition each, so a
 * timer in the master and one in a worker tick the same way.
 */
#ifndef CANARYD_SHARED_CLOCK_H
#define CANARYD_SHARED_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds. */
static inline uint64_t
cd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Monotonic microseconds. */
static inline uint64_t
cd_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wall-clock (CLOCK_REALTIME) milliseconds since the epoch. */
static inline uint64_t
cd_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* CANARYD_SHARED_CLOCK_H */
