/*
 * Fleet mode's decisions, as pure functions: what the fleet leader does
 * with one route's rollout given its state in etcd and the members'
 * reports, what an operator's action turns a state into, and the one
 * rule an instance may apply alone while etcd is unreachable.  Used by
 * the coordinator child ("canaryd: fleet", master/fleet.c); no I/O, no
 * clock: time comes in as arguments, so the unit tests drive every rule.
 *
 * The rules (canaryd(8), FLEET):
 *  - A report counts when it is fresher than MST_FLEET_FRESH_MS (or three
 *    report intervals, when that is longer: fr_fresh_ms), it
 *    acknowledges the route's current state (its ack_rev is the state's
 *    revision) and its window began after the current step (at
 *    decided_ms, within MST_FLEET_SKEW_MS of clock difference).
 *  - Canary and stable are judged on the fleet's sums: requests and
 *    failures added up, p99 read from the merged histogram buckets
 *    (never an average of the instances' p99s), by the single-instance
 *    breach test (mst_rollout_breach(), master/rollout.h).
 *  - MST_FLEET_BREACHES breaches in a row roll back; a breach restarts
 *    the step's clean clock.
 *  - Too little traffic: wait; still too little fr_max_wait_ms after the
 *    step began: pause, saying why.
 *  - A clean step_interval advances one step; the last step promotes.
 *    A live instance that has not acknowledged the current state holds
 *    an advance back, never a rollback.
 *  - etcd unreachable: no advance, no promotion; an instance rolls back
 *    on its own only for a breach of MST_FLEET_LOCAL_FACTOR times the
 *    thresholds with min_requests met on its traffic alone.
 */
#ifndef CANARYD_MASTER_FLEET_DECIDE_H
#define CANARYD_MASTER_FLEET_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/hist-t.h"
#include "judge.h"
#include "rollout.h"

#define MST_FLEET_FRESH_MS	3000	/* a report older than this is out */
#define MST_FLEET_SKEW_MS	1000	/* clock difference tolerated */
#define MST_FLEET_BREACHES	2	/* in a row, to roll back */
#define MST_FLEET_LOCAL_FACTOR	1.5	/* etcd away: thresholds x this */
#define MST_FLEET_REASON_MAX	MST_ROLLOUT_REASON_MAX

/* A route's rollout as the fleet decides it. */
struct mst_fleet_route {
	const struct cd_rollout *fr_ro;	/* steps, thresholds, canary/stable */
	size_t		 fr_nw;		/* clusters of the route */
	uint64_t	 fr_total;	/* sum of the weights, fixed */
	int64_t		 fr_max_wait_ms;	/* too little traffic: pause */
	/* a report older than this is out; 0: MST_FLEET_FRESH_MS */
	int64_t		 fr_fresh_ms;
};

/* How old a report of r may be and still count. */
static inline int64_t
mst_fleet_fresh_ms(const struct mst_fleet_route *r)
{
	return r->fr_fresh_ms > 0 ? r->fr_fresh_ms : MST_FLEET_FRESH_MS;
}

/*
 * A route's fleet state: the value of P/ctl/route/<r>/state, and the
 * revision etcd holds it at (what reports acknowledge).  Its weights are
 * its own, room for the route's clusters (mst_fleet_state_alloc()): a
 * state is copied with mst_fleet_state_copy(), never by assignment.
 */
struct mst_fleet_state {
	enum mst_ro_state fs_state;
	int		 fs_step;	/* index in ro_steps; -1: before it */
	uint32_t	*fs_w;		/* fs_nw weights, room for fs_wcap */
	size_t		 fs_nw;
	size_t		 fs_wcap;
	uint64_t	 fs_epoch;	/* a new attempt: sticky cookies reset */
	int64_t		 fs_fence;	/* the leader's token that wrote it */
	int64_t		 fs_decided_ms;	/* wall clock: the step began */
	uint64_t	 fs_seq;	/* decisions so far: the history key */
	char		 fs_reason[MST_FLEET_REASON_MAX];
	int64_t		 fs_rev;	/* mod_revision in etcd; 0: none */
};

/* One member's report for the route being decided: canary and stable
 * over the member's window (counts, failures, latency buckets). */
struct mst_fleet_input {
	const char	*fi_member;
	int64_t		 fi_age_ms;	/* since the report last changed */
	int64_t		 fi_ack_rev;	/* state revision it applies */
	int64_t		 fi_window_ms;	/* wall clock: its window began */
	struct mst_judge_snap fi_canary;
	struct mst_judge_snap fi_stable;
};

/* What the leader remembers of a route between decisions (not stored:
 * a new leader starts from the state alone). */
struct mst_fleet_memo {
	int64_t		 fm_rev;	/* the state revision it is about */
	unsigned	 fm_breaches;	/* in a row */
	int64_t		 fm_clean_ms;	/* clean since (wall clock) */
};

enum mst_fleet_act {
	MST_FLEET_A_HOLD,	/* nothing to write (fv_why says why) */
	MST_FLEET_A_ADVANCE,	/* next step */
	MST_FLEET_A_PROMOTE,	/* the last step */
	MST_FLEET_A_ROLLBACK,
	MST_FLEET_A_PAUSE,	/* too little traffic for too long */
	MST_FLEET_A_OPERATOR,	/* an operator's action (mst_fleet_op) */
	MST_FLEET_A_INIT,	/* a state written where etcd had none */
	MST_FLEET_A_LOCAL,	/* decided here while etcd was away */
	MST_FLEET_A__N
};

/* A decision and what it was made from (the history record). */
struct mst_fleet_verdict {
	enum mst_fleet_act fv_act;
	char		 fv_why[MST_FLEET_REASON_MAX];
	struct mst_ro_fig fv_canary;	/* the fleet's sums */
	struct mst_ro_fig fv_stable;
	unsigned	 fv_used;	/* reports counted */
	unsigned	 fv_stale;	/* older than mst_fleet_fresh_ms() */
	unsigned	 fv_unacked;	/* fresh, another state revision */
	unsigned	 fv_old_window;	/* fresh, acked, window before step */
	unsigned	 fv_breaches;	/* in a row, this one included */
	bool		 fv_sample_met;
	struct mst_fleet_state fv_next;	/* to write unless HOLD */
};

const char *mst_fleet_act_name(enum mst_fleet_act);

/*
 * s zeroed, with room for n weights (0, or -1 out of memory); _free
 * gives the room back (s zeroed).  _copy: dst takes src's state, its
 * weights copied into dst's own room (as many as it holds: every state
 * of a route has room for the route's clusters); dst == src is a no-op.
 */
int	 mst_fleet_state_alloc(struct mst_fleet_state *, size_t n);
void	 mst_fleet_state_free(struct mst_fleet_state *);
void	 mst_fleet_state_copy(struct mst_fleet_state *dst,
	    const struct mst_fleet_state *src);

/*
 * The state a route starts from when etcd has none: progressing at the
 * last step not above the canary percent of the weights w (the file's),
 * promoted when that is the last step.  w has r->fr_nw entries.
 */
void	 mst_fleet_state_init(const struct mst_fleet_route *,
	    const uint32_t *w, int64_t now_ms, struct mst_fleet_state *out);

/*
 * The leader's decision for one route, at now_ms (wall clock), from
 * cur and the n reports in (every member's, fresh or not).  memo is
 * updated (reset when it belongs to another revision).  out->fv_next is
 * the state to write, fence and revision left to the caller; it must have
 * its room (mst_fleet_state_alloc()), which out keeps.
 */
void	 mst_fleet_decide(const struct mst_fleet_route *,
	    const struct mst_fleet_state *cur, const struct mst_fleet_input *in,
	    size_t n, struct mst_fleet_memo *memo, int64_t now_ms,
	    struct mst_fleet_verdict *out);

/*
 * An operator's action on cur: 0 with next filled, or -1 (why filled)
 * when it does not apply (pause on a route that is not progressing,
 * resume on a promoted one), as mst_rollout_op() decides.
 */
int	 mst_fleet_op(const struct mst_fleet_route *,
	    const struct mst_fleet_state *cur, enum mst_ro_op, int64_t now_ms,
	    struct mst_fleet_state *next, char *why, size_t len);

/*
 * etcd unreachable: does this instance's own sample (self) breach
 * MST_FLEET_LOCAL_FACTOR times the thresholds, min_requests met?  1 with
 * why filled, else 0.  next is the rolled-back state to apply locally.
 */
int	 mst_fleet_local_rollback(const struct mst_fleet_route *,
	    const struct mst_fleet_state *cur,
	    const struct mst_fleet_input *self, int64_t now_ms,
	    struct mst_fleet_state *next, char *why, size_t len);

#endif /* CANARYD_MASTER_FLEET_DECIDE_H */
