/*
 * Circuit breakers for the worker (canaryd-envoy(7), CIRCUIT BREAKERS), exact across all worker
 * processes: each cluster's gauges sc_cb[prio][res] live in shared memory
 * and every worker takes and gives units with atomics (no lock a dying
 * process could keep).  A take adds first and checks after, so the number
 * of units admitted never exceeds the threshold even under races; a
 * refused take gives its unit straight back.  Every take and give also
 * moves this worker's cc_cb_held, so the master can give back what a dead
 * worker held (shm_slot_reap()).  A request or an upstream connection
 * keeps what it took in a struct wrk_breaker_hold, which gives each unit
 * back once.
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

/*
 * The units one holder has taken -- a request its max_pending_requests,
 * max_requests and max_retries units, an upstream connection its
 * max_connections unit -- one bit per resource, all of cluster
 * bh_cluster.  A unit goes back only through the hold and only while its
 * bit is set, and the bit goes with it: whatever path ends the holder,
 * each unit is given back exactly once.  A zeroed hold holds nothing.
 */
struct wrk_breaker_hold {
	uint32_t	 bh_cluster;	/* conf index, while bh_units != 0 */
	uint8_t		 bh_units;	/* 1u << SHM_CB_* */
};

_Static_assert(SHM_CB__N <= 8, "bh_units has a bit per resource");

/*
 * Take one unit of res of cluster ci into h, as wrk_breaker_acquire();
 * false at the limit, nothing taken.  h must not hold a unit of res yet,
 * nor units of another cluster.
 */
bool		 wrk_breaker_hold_take(struct wrk_breaker_hold *h, int ci,
		    int res);

static inline bool
wrk_breaker_holds(const struct wrk_breaker_hold *h, int res)
{
	return (h->bh_units & (1u << res)) != 0;
}

/*
 * Give back h's unit of res if it holds one.  True when it did: the
 * caller then undoes what goes with the unit (a gauge), once.
 */
static inline bool
wrk_breaker_hold_give(struct wrk_breaker_hold *h, int res)
{
	if (!wrk_breaker_holds(h, res))
		return false;
	h->bh_units &= (uint8_t)~(1u << res);
	wrk_breaker_release(h->bh_cluster, res);
	return true;
}

#endif /* CANARYD_WORKER_BREAKER_H */
