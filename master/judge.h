/*
 * Pure pieces of canary judgement that the single-instance rollout
 * (master/rollout.c) and the fleet's decision (master/fleet_decide.c)
 * share: a route's weights at a canary percent, the canary's share of
 * them, and a cluster's window figures from counts and a latency
 * histogram.  Master process only; no state, no I/O.
 *
 * The breach test itself is mst_rollout_breach() (master/rollout.h).
 */
#ifndef CANARYD_MASTER_JUDGE_H
#define CANARYD_MASTER_JUDGE_H

#include <stddef.h>
#include <stdint.h>

struct hist;
struct mst_ro_fig;

/*
 * Canary at pct percent of total, stable the rest of what canary and
 * stable hold together (the canary gets at most that pair); the other
 * clusters keep their weights, so w keeps summing to total.  canary and
 * stable are indices of w (n entries) and differ.
 */
void	 mst_judge_weights_at(uint32_t *w, size_t n, uint64_t total,
	    int canary, int stable, unsigned pct);

/* The canary's share of total, percent (0 when total is 0). */
double	 mst_judge_pct(const uint32_t *w, uint64_t total, int canary);

/*
 * Figures of one cluster over a window: rq attempts of which n5xx
 * failed, latencies h (NULL: none), over span_s seconds.  Totals since
 * the record began are the window's own (the caller may set them).
 */
void	 mst_judge_fig(struct mst_ro_fig *, uint64_t rq, uint64_t n5xx,
	    const struct hist *h, double span_s);

#endif /* CANARYD_MASTER_JUDGE_H */
