/*
 * The exact weighted split: see split.h for the sequence and why it is
 * exact.  Pure functions, no state: used by workers on every weighted
 * request and by unit tests.
 */
#include <stddef.h>
#include <stdint.h>

#include "split.h"

static uint64_t
gcd64(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

void
split_plan_storage(struct split_plan *p, uint64_t *upper, uint32_t cap)
{
	p->sp_upper = upper;
	p->sp_cap = upper != NULL ? cap : 0;
	p->sp_n = 0;
}

int
split_plan_init(struct split_plan *p, const uint32_t *w, uint32_t n)
{
	uint64_t g = 0, sum = 0, target, d;
	uint32_t i;

	if (n == 0 || n > p->sp_cap)
		return -1;
	for (i = 0; i < n; i++)
		g = gcd64(g, w[i]);
	if (g == 0)
		return -1;
	p->sp_n = n;
	for (i = 0; i < n; i++) {
		sum += w[i] / g;
		p->sp_upper[i] = sum;
	}
	p->sp_period = sum;

	/* Nearest integer to T/phi that is coprime with T; T=1 gives 0. */
	target = (uint64_t)((double)sum * 0.6180339887498949 + 0.5);
	if (target >= sum)
		target = sum - 1;
	for (d = 0; d <= sum; d++) {
		if (target >= d && gcd64(target - d, sum) == 1) {
			target -= d;
			break;
		}
		if (target + d < sum && gcd64(target + d, sum) == 1) {
			target += d;
			break;
		}
	}
	p->sp_stride = sum == 1 ? 0 : target;
	return 0;
}

static uint32_t
split_locate(const struct split_plan *p, uint64_t x)
{
	uint32_t lo = 0, hi = p->sp_n - 1;

	/* first i with x < upper[i]; zero weights have empty intervals */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x < p->sp_upper[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint32_t
split_pick_exact(const struct split_plan *p, uint64_t pos)
{
	uint64_t x;

	/* (pos mod T) * m mod T in 128 bits: T < 2^64 */
	x = (unsigned __int128)(pos % p->sp_period) * p->sp_stride %
	    p->sp_period;
	return split_locate(p, x);
}

uint32_t
split_pick_random(const struct split_plan *p, uint32_t r)
{
	uint64_t x;

	x = (uint64_t)(((unsigned __int128)r * p->sp_period) >> 32);
	return split_locate(p, x);
}
