/*
 * Shared judgement arithmetic (see judge.h).
 *
 * Invariant: weights always sum to the total they were given, so a
 * canary percent is a share of a fixed total on every instance.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "shared/hist.h"
#include "judge.h"
#include "rollout.h"

void
mst_judge_weights_at(uint32_t *w, size_t n, uint64_t total, int canary,
    int stable, unsigned pct)
{
	uint64_t pair, want;

	if (canary < 0 || stable < 0 || (size_t)canary >= n ||
	    (size_t)stable >= n || canary == stable)
		return;
	pair = (uint64_t)w[canary] + w[stable];
	want = (total * pct + 50) / 100;
	if (want > pair)
		want = pair;
	w[canary] = (uint32_t)want;
	w[stable] = (uint32_t)(pair - want);
}

double
mst_judge_pct(const uint32_t *w, uint64_t total, int canary)
{
	if (total == 0 || canary < 0)
		return 0;
	return 100.0 * (double)w[canary] / (double)total;
}

void
mst_judge_fig(struct mst_ro_fig *f, uint64_t rq, uint64_t n5xx,
    const struct hist *h, double span_s)
{
	static const double q[3] = { 0.5, 0.95, 0.99 };
	double v[3] = { NAN, NAN, NAN };

	memset(f, 0, sizeof(*f));
	f->rf_rq = rq;
	f->rf_5xx = n5xx;
	f->rf_total_rq = rq;
	f->rf_total_5xx = n5xx;
	f->rf_err_rate = rq > 0 ? (double)n5xx / (double)rq : NAN;
	if (h != NULL)
		hist_quantiles_ms(h, q, 3, v);
	f->rf_p50 = v[0];
	f->rf_p95 = v[1];
	f->rf_p99 = v[2];
	f->rf_span_s = span_s;
	f->rf_rps = span_s > 0 ? (double)rq / span_s : NAN;
}
