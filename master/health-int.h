/*
 * What the health module's files (health.c the checker, health_state.c
 * the state machine and intervals, health_resp.c the response reader)
 * share beyond health.h.  Master only.
 */
#ifndef CANARYD_MASTER_HEALTH_INT_H
#define CANARYD_MASTER_HEALTH_INT_H

#include <stdint.h>

#include "shared/conf-t.h"
#include "health.h"

/* A config duration in whole milliseconds, rounded up; 0 for none. */
static inline uint64_t
health_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (uint64_t)CD_NS_TO_MS_CEIL(ns);
}

/* A random value in [0, upper); 0 when upper is 0. */
static inline uint64_t
health_rand(mst_hc_rand_fn *rnd, uint64_t upper)
{
	if (upper == 0)
		return 0;
	if (upper > UINT32_MAX)
		upper = UINT32_MAX;
	return rnd((uint32_t)upper);
}

#endif /* CANARYD_MASTER_HEALTH_INT_H */
