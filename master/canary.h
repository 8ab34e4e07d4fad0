/*
 * GET /canary (master only): every weighted route of the rollout engine
 * (rollout.h) with its weights now, its rollout state, and per cluster
 * the requests, success rate and latency over the route's window, as JSON
 * for the live page and scripts, or as text for people.  Read-only: the
 * operator's actions are the engine's (mst_rollout_op()).
 */
#ifndef CANARYD_MASTER_CANARY_H
#define CANARYD_MASTER_CANARY_H

#include <stdint.h>

#include "shared/buf.h"
#include "rollout.h"

/*
 * {"routes":[...]} (one = NULL), or the one route's object (the reply to
 * an operator action), then a newline; now_ns in the engine's clock.
 * 0, or -1 out of memory.
 */
int	 mst_canary_json(struct buf *, const struct mst_ro *, int64_t now_ns,
	    const struct mst_ro_route *one);
/* The same for people: a block per route.  0, or -1 out of memory. */
int	 mst_canary_text(struct buf *, const struct mst_ro *, int64_t now_ns);

#endif /* CANARYD_MASTER_CANARY_H */
