/*
 * Per-cluster latency histograms (upstream_rq_time): the recording side
 * for workers, and for the master the sums over worker slots, interval
 * differences, quantiles as Envoy computes them, Prometheus bucket counts
 * and Envoy's way of printing a double.  Bucket layout: shared/hist-t.h.
 *
 * Workers call only hist_bucket() and hist_record(): no allocation, no
 * lock, one relaxed load/store pair per counter on the worker's own slot.
 * Everything else is for the master and never blocks.
 */
#ifndef CANARYD_SHARED_HIST_H
#define CANARYD_SHARED_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hist-t.h"
#include "shm.h"

/* The bucket a value of us microseconds falls in, < CD_HIST_N. */
static inline uint32_t
hist_bucket(uint64_t us)
{
	uint32_t e;

	if (us < CD_HIST_SUB)
		return (uint32_t)us;
	if (us >> CD_HIST_MAX_EXP)
		return CD_HIST_N - 1;
	e = 63 - (uint32_t)__builtin_clzll(us);	/* 4 .. 31 */
	return (e - CD_HIST_SUB_BITS + 1) * CD_HIST_SUB +
	    (uint32_t)((us >> (e - CD_HIST_SUB_BITS)) & (CD_HIST_SUB - 1));
}

/*
 * Worker: count one sample of us microseconds into slot w's histogram of
 * cluster record cc (one of w's), placing its buckets from the slot's
 * pool on the first sample.  The slot has one writer, so a relaxed load
 * and store (no locked instruction) is enough; the master only reads.
 */
static inline void
hist_record(const struct shm *s, struct shm_worker *w,
    struct shm_cluster_ctr *cc, uint64_t us)
{
	_Atomic uint64_t *c;
	uint32_t k;

	if ((k = atomic_load_explicit(&cc->cc_hist,
	    memory_order_relaxed)) == 0) {
		k = atomic_load_explicit(&w->w_hist_used,
		    memory_order_relaxed);
		if (k >= s->hdr.h_nhist)
			return;	/* the pool has one per record: not reached */
		atomic_store_explicit(&w->w_hist_used, ++k,
		    memory_order_relaxed);
		atomic_store_explicit(&cc->cc_hist, k, memory_order_release);
	}
	c = &shm_slot_hist(s, w, k)->hb_b[hist_bucket(us)];
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + 1, memory_order_relaxed);
	atomic_store_explicit(&cc->cc_rq_time_sum_us, atomic_load_explicit(
	    &cc->cc_rq_time_sum_us, memory_order_relaxed) + us,
	    memory_order_relaxed);
}

/* Bucket i's lower edge and (exclusive) upper edge, microseconds. */
uint64_t	 hist_lower(uint32_t i);
uint64_t	 hist_upper(uint32_t i);

/* Master: cluster record ci's upstream_rq_time summed over every slot in
 * use (workers below the high-water mark, and the master's). */
void		 hist_collect(const struct shm *, int ci, struct hist *out);

/*
 * out = now - then, the samples recorded between two snapshots.  When a
 * bucket went down (the record was reset for another cluster) then is
 * taken as empty: out = now.  out may be now.
 */
void		 hist_sub(struct hist *out, const struct hist *now,
		    const struct hist *then);

/*
 * Quantiles q[i] in [0, 1] of h, in milliseconds rounded to the
 * microsecond, the way Envoy's circllhist does: find the bucket holding
 * the q*count-th sample and interpolate linearly inside it (q = 0 gives
 * the lower edge of the first bucket used, q = 1 the upper edge of the
 * last).  out[i] is NaN when h is empty or q[i] is outside [0, 1].
 */
void		 hist_quantiles_ms(const struct hist *h, const double *q,
		    size_t nq, double *out);

/*
 * Samples under le_ms for a Prometheus "le" bucket: a fine bucket counts
 * when its upper edge is <= le_ms, so one straddling le (at most 1/16 of
 * le wide) is counted in the next bound up.
 */
uint64_t	 hist_count_le(const struct hist *, double le_ms);

/*
 * Print v as fmt's "{}" does (shortest digits that read back as v; fixed
 * notation for decimal exponents -4..15, else 1.5e+16), "nan", "inf".
 * Returns what snprintf would: the length wanted.
 */
int		 hist_fmt(char *buf, size_t len, double v);

#endif /* CANARYD_SHARED_HIST_H */
