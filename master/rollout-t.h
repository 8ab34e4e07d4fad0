/*
 * The rollout's types that its judgement pieces share with the single-
 * instance engine (master/rollout.h), the shared arithmetic
 * (master/judge.h) and fleet mode (master/fleet_decide.h): a rollout's
 * states, the operators' actions and one cluster's window figures.  A
 * types header: no prototypes, so judge.h and rollout.h both include it
 * without including each other.
 */
#ifndef CANARYD_MASTER_ROLLOUT_T_H
#define CANARYD_MASTER_ROLLOUT_T_H

#include <stdint.h>

#define MST_ROLLOUT_REASON_MAX	512

enum mst_ro_state {
	MST_RO_PROGRESSING,	/* judged every tick, steps when healthy */
	MST_RO_PAUSED,		/* operator: weights held, nothing judged */
	MST_RO_ROLLED_BACK,	/* canary weight 0 until an operator acts */
	MST_RO_PROMOTED,	/* the last step is reached: done */
};

enum mst_ro_op {
	MST_RO_OP_PAUSE,
	MST_RO_OP_RESUME,
	MST_RO_OP_PROMOTE,
	MST_RO_OP_ROLLBACK,
};

/* One cluster over a route's window (and since start). */
struct mst_ro_fig {
	uint64_t	 rf_rq;		/* responses in the window */
	uint64_t	 rf_5xx;
	double		 rf_err_rate;	/* rf_5xx / rf_rq; NaN: no response */
	double		 rf_p50, rf_p95, rf_p99;	/* ms; NaN: no sample */
	double		 rf_rps;	/* rf_rq over the span */
	double		 rf_span_s;	/* what the window covers so far */
	uint64_t	 rf_total_rq;	/* since the record began */
	uint64_t	 rf_total_5xx;
};

#endif /* CANARYD_MASTER_ROLLOUT_T_H */
