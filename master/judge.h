/*
 * Pieces of canary judgement that the single-instance rollout
 * (master/rollout.c) and fleet mode (master/fleet_decide.c, the
 * coordinator master/fleet.c) share: a route's weights at a canary
 * percent, the canary's share of them, a cluster's window figures from
 * counts and a latency histogram, a cluster's cumulative totals read
 * from shm, and a ring of such snapshots that turns cumulative totals
 * into a sliding window.  Master process and its children only; no I/O
 * but reading shm.
 *
 * The breach test itself is mst_rollout_breach() (master/rollout.h).
 */
#ifndef CANARYD_MASTER_JUDGE_H
#define CANARYD_MASTER_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/hist-t.h"
#include "rollout-t.h"

struct shm;

/* One cluster's cumulative totals at one time. */
struct mst_judge_snap {
	uint64_t	 js_rq;		/* attempts: responses, retried, fallen back */
	uint64_t	 js_5xx;	/* 5xx responses, retried, fallen back */
	struct hist	 js_h;		/* upstream_rq_time */
};

/*
 * Snapshots of n clusters at once, kept one every jr_spacing (time units
 * are the caller's), so that a window's figures are the newest snapshot
 * minus the one a window older.  Zeroed, then mst_judge_ring_init().
 */
struct mst_judge_ring {
	size_t		 jr_n;		/* snapshots per entry */
	size_t		 jr_cap;	/* entries */
	size_t		 jr_alloc;	/* entries allocated: grows to jr_cap
					 * as they are written */
	size_t		 jr_len;
	size_t		 jr_head;	/* next entry to write */
	int		 jr_placed;	/* entries in the caller's memory
					 * (mst_judge_ring_place()) */
	int64_t		 jr_spacing;
	int64_t		*jr_t;
	struct mst_judge_snap *jr_s;	/* jr_cap x jr_n */
};

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

/*
 * Cluster record ci's cumulative totals, summed over the shm slots:
 * attempts are final responses (upstream_rq_<code>) plus attempts that
 * failed and were retried or handed to the fallback, which count as
 * failed too, so that retries and a fallback, which hide a broken canary
 * from clients, cannot hide it from the judgement.
 */
void	 mst_judge_snap_shm(const struct shm *, int ci,
	    struct mst_judge_snap *out);

/* dst += src, bucket by bucket (the fleet's sums). */
void	 mst_judge_snap_add(struct mst_judge_snap *dst,
	    const struct mst_judge_snap *src);

/* out = now - then (then NULL: now), a record reset in between taken as
 * starting from zero; out may be now. */
void	 mst_judge_snap_sub(struct mst_judge_snap *out,
	    const struct mst_judge_snap *now, const struct mst_judge_snap *then);

/* A ring of n snapshots per entry covering window (at most steps + 2
 * entries, spacing no less than tick).  0, or -1 out of memory. */
int	 mst_judge_ring_init(struct mst_judge_ring *, size_t n, int64_t window,
	    int64_t tick, size_t steps);
/* Bytes of every entry of such a ring, for mst_judge_ring_place(). */
size_t	 mst_judge_ring_size(size_t n, int64_t window, int64_t tick,
	    size_t steps);
/* The same ring over mem, mst_judge_ring_size() bytes aligned for a
 * uint64_t that stay the caller's: it never allocates nor frees. */
void	 mst_judge_ring_place(struct mst_judge_ring *, size_t n,
	    int64_t window, int64_t tick, size_t steps, void *mem);
void	 mst_judge_ring_free(struct mst_judge_ring *);
/* Forget every entry; start again with snaps (n of them) taken at t. */
void	 mst_judge_ring_restart(struct mst_judge_ring *, int64_t t,
	    const struct mst_judge_snap *snaps);
/* Keep snaps taken at t if the newest entry is a spacing old. */
void	 mst_judge_ring_push(struct mst_judge_ring *, int64_t t,
	    const struct mst_judge_snap *snaps);
/* The entry a window before t: the newest not younger than t - window,
 * else the oldest; its time in *at.  NULL when the ring is empty. */
const struct mst_judge_snap *mst_judge_ring_base(
	    const struct mst_judge_ring *, int64_t t, int64_t window,
	    int64_t *at);
