/*
 * Split records and worker split caches outside a segment, for the
 * router and sticky tests: each gets room for UNIT_SPLIT_ROOM clusters
 * from static storage (a few in turn), so nothing is left to free.
 */
#ifndef CANARYD_TEST_UNIT_WORKER_UNIT_SPLIT_H
#define CANARYD_TEST_UNIT_WORKER_UNIT_SPLIT_H

#include <string.h>

#include "shared/shm.h"
#include "shared/split.h"
#include "worker/router.h"

#define UNIT_SPLIT_ROOM	16
#define UNIT_SPLIT_KEEP	8	/* caches and records in use at once */

/* sp zeroed, with room (published weights live there). */
static inline void
unit_split_reset(struct shm_split *sp)
{
	static uint32_t w[UNIT_SPLIT_KEEP][UNIT_SPLIT_ROOM];
	static unsigned next;

	memset(sp, 0, sizeof(*sp));
	shm_split_attach(sp, w[next++ % UNIT_SPLIT_KEEP], UNIT_SPLIT_ROOM);
}

/* sc zeroed, with room, as wrk_split_cache_init() gives it. */
static inline void
unit_split_cache(struct wrk_split_cache *sc)
{
	static uint64_t upper[UNIT_SPLIT_KEEP][UNIT_SPLIT_ROOM];
	static uint32_t w[UNIT_SPLIT_KEEP][UNIT_SPLIT_ROOM];
	static unsigned next;
	unsigned k = next++ % UNIT_SPLIT_KEEP;

	memset(sc, 0, sizeof(*sc));
	split_plan_storage(&sc->sc_plan, upper[k], UNIT_SPLIT_ROOM);
	sc->sc_w = w[k];
	sc->sc_cap = UNIT_SPLIT_ROOM;
}

#endif /* CANARYD_TEST_UNIT_WORKER_UNIT_SPLIT_H */
