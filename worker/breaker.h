/*
 * Circuit breakers for the worker (canaryd-envoy(7), CIRCUIT BREAKERS), exact across all worker
 * processes: each cluster's gauges sc_cb[prio][res] live in shared memory
 * and every worker takes and gives units with atomics (no lock a dying
 * process could keep).  A take adds first and checks after, so the number
 * of units admitted never exceeds the threshold even under races; a
 * refused take gives its unit straight back.  Every take and give also
 * moves this worker's cc_cb_held, so the master can give back what a dead
 * worker held (shm_slot_reap()).
 *
 * Routes have no priority field: canaryd uses DEFAULT for every request.
 */
#ifndef CANARYD_WORKER_BREAKER_H
#define CANARYD_WORKER_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/shm-t.h"

/*
 * Take one unit of res from sc's gauge at prio if that keeps it within
 * limit; held is this worker's share (cc_cb_held of its slot).  Returns
 * false, with nothing taken, at the limit.  A few relaxed atomics.
 */
bool		 wrk_breaker_take(struct shm_cluster *sc,
		    struct shm_cluster_ctr *held, int prio, int res,
		    uint32_t limit);
/* Give back one unit taken with wrk_breaker_take(). */
void		 wrk_breaker_give(struct shm_cluster *sc,
		    struct shm_cluster_ctr *held, int prio, int res);

/* The same for cluster ci of this worker (priority DEFAULT, the
 * cluster's configured thresholds, this worker's slot). */
bool		 wrk_breaker_acquire(int ci, int res);
void		 wrk_breaker_release(int ci, int res);
/* True when res of cluster ci is at its limit now (a check without a
 * take, as Envoy's canCreate(); the take decides). */
bool		 wrk_breaker_full(int ci, int res);
/* Units of res of cluster ci in use by all workers (>= 0). */
uint32_t	 wrk_breaker_used(int ci, int res);
/* The threshold for res of cluster ci. */
uint32_t	 wrk_breaker_limit(int ci, int res);

#endif /* CANARYD_WORKER_BREAKER_H */
