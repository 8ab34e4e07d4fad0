/*
 * Latency histogram layout shared by the shm segment (workers record) and
 * the master (sums, quantiles, Prometheus buckets).  Constants and the
 * plain snapshot type only; the functions are in shared/hist.h.
 *
 * Buckets are log-linear over microseconds: values 0..15 have a bucket
 * each, then every power of two [2^e, 2^(e+1)) for e = 4..31 is cut into
 * 16 equal sub-buckets, so a bucket is at most 1/16 of its lower edge
 * wide (quantiles interpolated inside it are within ~3 %).  Values from
 * 2^32 us (71.6 minutes) up land in the last bucket.
 */
#ifndef CANARYD_SHARED_HIST_T_H
#define CANARYD_SHARED_HIST_T_H

#include <stdint.h>

#define CD_HIST_SUB_BITS	4
#define CD_HIST_SUB		(1 << CD_HIST_SUB_BITS)	/* per power of two */
#define CD_HIST_MAX_EXP		32	/* values below 2^32 us are exact */
#define CD_HIST_N		(CD_HIST_SUB + (CD_HIST_MAX_EXP -	\
				    CD_HIST_SUB_BITS) * CD_HIST_SUB)

/* A histogram summed out of shm (or a difference of two): plain memory. */
struct hist {
	uint64_t	 h_b[CD_HIST_N];	/* samples per bucket */
	uint64_t	 h_count;	/* sum of h_b */
	uint64_t	 h_sum_us;	/* sum of the samples, microseconds */
};

#endif /* CANARYD_SHARED_HIST_T_H */
