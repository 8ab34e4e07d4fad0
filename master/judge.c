/*
 * Shared judgement arithmetic (see judge.h).
 *
 * Invariant: weights always sum to the total they were given, so a
 * canary percent is a share of a fixed total on every instance.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/hist.h"
#include "shared/shm.h"
#include "shared/stats-t.h"
#include "judge.h"

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

void
mst_judge_snap_shm(const struct shm *shm, int ci, struct mst_judge_snap *s)
{
	uint64_t codes[CD_NCODES], cls[5], other, n;
	int k;

	/* the class totals are exact, whichever codes had an entry */
	shm_sum_cluster_codes(shm, ci, 0, codes, cls, &other);
	s->js_rq = 0;
	for (k = 0; k < 5; k++)
		s->js_rq += cls[k];
	s->js_5xx = cls[4];
	n = shm_sum_cluster_c(shm, ci, CC_RQ_RETRY) +
	    shm_sum_cluster_c(shm, ci, CC_CANARY_FALLBACK);
	s->js_rq += n;
	s->js_5xx += n;
	hist_collect(shm, ci, &s->js_h);
}

void
mst_judge_snap_add(struct mst_judge_snap *dst,
    const struct mst_judge_snap *src)
{
	uint32_t b;

	dst->js_rq += src->js_rq;
	dst->js_5xx += src->js_5xx;
	for (b = 0; b < CD_HIST_N; b++)
		dst->js_h.h_b[b] += src->js_h.h_b[b];
	dst->js_h.h_count += src->js_h.h_count;
	dst->js_h.h_sum_us += src->js_h.h_sum_us;
}

void
mst_judge_snap_sub(struct mst_judge_snap *out, const struct mst_judge_snap *now,
    const struct mst_judge_snap *then)
{
	if (then == NULL || now->js_rq < then->js_rq ||
	    now->js_5xx < then->js_5xx) {
		if (out != now)
			*out = *now;
		return;
	}
	out->js_rq = now->js_rq - then->js_rq;
	out->js_5xx = now->js_5xx - then->js_5xx;
	hist_sub(&out->js_h, &now->js_h, &then->js_h);
}

/* Room for the entry at jr_head: 0, or -1 (the ring is freed). */
static int
ring_grow(struct mst_judge_ring *r)
{
	size_t want, n = r->jr_n > 0 ? r->jr_n : 1;
	int64_t *t;
	struct mst_judge_snap *s;

	if (r->jr_head < r->jr_alloc)
		return 0;
	want = r->jr_alloc == 0 ? 2 : 2 * r->jr_alloc;
	if (want > r->jr_cap)
		want = r->jr_cap;
	if ((t = reallocarray(r->jr_t, want, sizeof(*t))) != NULL)
		r->jr_t = t;
	if (t == NULL || (s = reallocarray(r->jr_s, want * n,
	    sizeof(*s))) == NULL) {
		mst_judge_ring_free(r);
		return -1;
	}
	r->jr_s = s;
	r->jr_alloc = want;
	return 0;
}

/* r empty, for n snapshots an entry over window. */
static void
ring_shape(struct mst_judge_ring *r, size_t n, int64_t window, int64_t tick,
    size_t steps)
{
	memset(r, 0, sizeof(*r));
	r->jr_n = n;
	r->jr_spacing = steps > 0 ? window / (int64_t)steps : window;
	if (r->jr_spacing < tick)
		r->jr_spacing = tick;
	if (r->jr_spacing <= 0)
		r->jr_spacing = 1;
	r->jr_cap = (size_t)(window / r->jr_spacing) + 2;
}

int
mst_judge_ring_init(struct mst_judge_ring *r, size_t n, int64_t window,
    int64_t tick, size_t steps)
{
	ring_shape(r, n, window, tick, steps);
	/* a snapshot holds a histogram: entries are allocated as they
	 * are written, so a route that never ran a window costs little */
	return ring_grow(r);
}

size_t
mst_judge_ring_size(size_t n, int64_t window, int64_t tick, size_t steps)
{
	struct mst_judge_ring r;

	ring_shape(&r, n, window, tick, steps);
	return r.jr_cap * ((n > 0 ? n : 1) * sizeof(*r.jr_s) +
	    sizeof(*r.jr_t));
}

void
mst_judge_ring_place(struct mst_judge_ring *r, size_t n, int64_t window,
    int64_t tick, size_t steps, void *mem)
{
	ring_shape(r, n, window, tick, steps);
	r->jr_s = mem;
	r->jr_t = (int64_t *)(void *)(r->jr_s + r->jr_cap * (n > 0 ? n : 1));
	r->jr_alloc = r->jr_cap;
	r->jr_placed = 1;
}

void
mst_judge_ring_free(struct mst_judge_ring *r)
{
	if (!r->jr_placed) {
		free(r->jr_t);
		free(r->jr_s);
	}
	r->jr_placed = 0;
	r->jr_t = NULL;
	r->jr_s = NULL;
	r->jr_len = r->jr_cap = r->jr_alloc = 0;
}

static void
ring_put(struct mst_judge_ring *r, int64_t t, const struct mst_judge_snap *s)
{
	if (r->jr_cap == 0 || ring_grow(r) == -1)
		return;	/* out of memory: the window reads nothing */
	r->jr_t[r->jr_head] = t;
	memcpy(&r->jr_s[r->jr_head * r->jr_n], s, r->jr_n * sizeof(*s));
	r->jr_head = (r->jr_head + 1) % r->jr_cap;
	if (r->jr_len < r->jr_cap)
		r->jr_len++;
}

void
mst_judge_ring_restart(struct mst_judge_ring *r, int64_t t,
    const struct mst_judge_snap *s)
{
	r->jr_len = 0;
	r->jr_head = 0;
	ring_put(r, t, s);
}

void
mst_judge_ring_push(struct mst_judge_ring *r, int64_t t,
    const struct mst_judge_snap *s)
{
	size_t last = (r->jr_head + r->jr_cap - 1) % r->jr_cap;

	if (r->jr_len == 0 || t - r->jr_t[last] >= r->jr_spacing)
		ring_put(r, t, s);
}

const struct mst_judge_snap *
mst_judge_ring_base(const struct mst_judge_ring *r, int64_t t,
    int64_t window, int64_t *at)
{
	size_t k, slot, oldest, best;

	if (r->jr_len == 0)
		return NULL;
	oldest = (r->jr_head + r->jr_cap - r->jr_len) % r->jr_cap;
	best = oldest;
	for (k = 0; k < r->jr_len; k++) {
		slot = (oldest + k) % r->jr_cap;
		if (r->jr_t[slot] <= t - window)
			best = slot;
	}
	*at = r->jr_t[best];
	return &r->jr_s[best * r->jr_n];
}
