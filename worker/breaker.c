/*
 * Cluster-wide circuit breakers (see breaker.h).
 *
 * Invariant: for each cluster, priority and resource, sc_cb equals the
 * sum over live workers of cc_cb_held, plus at most one unit per worker
 * in the middle of a take (added, not yet checked and given back).  The
 * gauge moves first and the held share second, so a worker killed
 * between the two can leave at most one unit taken for good: the limit
 * can shrink by it, never be exceeded.  A bit of a struct
 * wrk_breaker_hold is set exactly while the unit it stands for is taken.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/log.h"
#include "shared/shm-t.h"
#include "breaker.h"
#include "wrk.h"

/* This worker is the only writer of its held share: no locked op. */
static void
breaker_held_add(_Atomic int32_t *h, int32_t n)
{
	atomic_store_explicit(h, atomic_load_explicit(h,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

bool
wrk_breaker_take(struct shm_cluster *sc, struct shm_cluster_ctr *held,
    int prio, int res, uint32_t limit)
{
	_Atomic int32_t *g = &sc->sc_cb[prio][res];
	int64_t v;

	v = (int64_t)atomic_fetch_add_explicit(g, 1, memory_order_relaxed) + 1;
	if (v > (int64_t)limit) {
		atomic_fetch_sub_explicit(g, 1, memory_order_relaxed);
		return false;
	}
	breaker_held_add(&held->cc_cb_held[prio][res], 1);
	return true;
}

void
wrk_breaker_give(struct shm_cluster *sc, struct shm_cluster_ctr *held,
    int prio, int res)
{
	atomic_fetch_sub_explicit(&sc->sc_cb[prio][res], 1,
	    memory_order_relaxed);
	breaker_held_add(&held->cc_cb_held[prio][res], -1);
}

uint32_t
wrk_breaker_limit(int ci, int res)
{
	const struct cd_thresholds *th =
	    &wrk.w_conf->c_clusters[ci].cl_thresholds[CD_PRIO_DEFAULT];

	switch (res) {
	case SHM_CB_CX:
		return th->th_max_connections;
	case SHM_CB_PENDING:
		return th->th_max_pending_requests;
	case SHM_CB_RQ:
		return th->th_max_requests;
	default:
		return th->th_max_retries;
	}
}

bool
wrk_breaker_acquire(int ci, int res)
{
	return wrk_breaker_take(WRK_SHM_CL(ci), WRK_SLOT_CL(ci),
	    CD_PRIO_DEFAULT, res, wrk_breaker_limit(ci, res));
}

void
wrk_breaker_release(int ci, int res)
{
	wrk_breaker_give(WRK_SHM_CL(ci), WRK_SLOT_CL(ci),
	    CD_PRIO_DEFAULT, res);
}

uint32_t
wrk_breaker_used(int ci, int res)
{
	int32_t v = atomic_load_explicit(
	    &WRK_SHM_CL(ci)->sc_cb[CD_PRIO_DEFAULT][res],
	    memory_order_relaxed);

	return v < 0 ? 0 : (uint32_t)v;
}

bool
wrk_breaker_full(int ci, int res)
{
	return wrk_breaker_used(ci, res) >= wrk_breaker_limit(ci, res);
}

bool
wrk_breaker_hold_take(struct wrk_breaker_hold *h, int ci, int res)
{
	CD_ASSERT(!wrk_breaker_holds(h, res));
	CD_ASSERT(h->bh_units == 0 || h->bh_cluster == (uint32_t)ci);
	if (!wrk_breaker_acquire(ci, res))
		return false;
	h->bh_cluster = (uint32_t)ci;
	h->bh_units |= (uint8_t)(1u << res);
	return true;
}
