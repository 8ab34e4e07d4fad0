/*
 * The exact weighted split (canaryd's default for weighted_clusters).
 *
 * Position k of the shared counter maps to the cluster whose weight
 * interval contains (k * m) mod T, where T is the sum of the weights
 * divided by their gcd and m is the integer nearest T/phi that is coprime
 * with T.  k -> (k * m) mod T is a permutation of [0, T), so every T
 * consecutive positions hit each cluster exactly weight/gcd times (90/10:
 * every 10 requests give 9 and 1, so 20 give 18 and 2), and the golden
 * ratio stride spreads each cluster's positions evenly over the period.
 * Stateless: any worker computes position k from k alone.
 */
#ifndef CANARYD_SHARED_SPLIT_H
#define CANARYD_SHARED_SPLIT_H

#include <stdint.h>

/*
 * Weights reduced for picking; built once per weight change.  The
 * cumulative weights live in storage the owner gives the plan once
 * (split_plan_storage()), sized to the route's clusters: any number of
 * them, and nothing allocated when the weights change.
 */
struct split_plan {
	uint32_t	 sp_n;			/* clusters */
	uint32_t	 sp_cap;		/* room in sp_upper */
	uint64_t	 sp_period;		/* T = sum / gcd, > 0 */
	uint64_t	 sp_stride;		/* m, coprime with T */
	uint64_t	*sp_upper;		/* cumulative reduced weights */
};

/* Give p room for cap clusters' weights: upper[cap], the caller's. */
void		 split_plan_storage(struct split_plan *p, uint64_t *upper,
		    uint32_t cap);

/* Build the plan for n weights; -1 if they sum to 0, n is 0 or more than
 * the plan has room for. */
int		 split_plan_init(struct split_plan *, const uint32_t *w,
		    uint32_t n);

/* Index of the cluster for sequence position pos. */
uint32_t	 split_pick_exact(const struct split_plan *, uint64_t pos);

/* Index of the cluster for a uniform random value in [0, 2^32). */
uint32_t	 split_pick_random(const struct split_plan *, uint32_t r);

#endif /* CANARYD_SHARED_SPLIT_H */
