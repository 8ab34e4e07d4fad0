/*
 * Latency histograms (see hist.h and hist-t.h for the bucket layout).
 *
 * Invariant: a bucket's edges come from its index alone (hist_lower,
 * hist_upper), the same in every process and build, so sums over slots
 * and differences between snapshots are plain per-bucket arithmetic.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "shm-t.h"

_Static_assert(CD_HIST_N == 464, "bucket layout: see hist-t.h");

uint64_t
hist_lower(uint32_t i)
{
	uint32_t g;

	if (i < CD_HIST_SUB)
		return i;
	g = i / CD_HIST_SUB - 1;
	return (uint64_t)(CD_HIST_SUB + i % CD_HIST_SUB) << g;
}

uint64_t
hist_upper(uint32_t i)
{
	if (i < CD_HIST_SUB)
		return (uint64_t)i + 1;
	return hist_lower(i) + ((uint64_t)1 << (i / CD_HIST_SUB - 1));
}

void
hist_collect(const struct shm *s, int ci, struct hist *out)
{
	const struct shm_cluster_ctr *cc;
	const struct shm_worker *w;
	const struct shm_hist *sh;
	uint32_t i, hwm, b, k;

	memset(out, 0, sizeof(*out));
	/* as shm.c's sums: slots below the high-water mark, then the
	 * master's; slots never used are not touched */
	hwm = atomic_load_explicit(&s->hdr.h_slots_hwm, memory_order_relaxed);
	if (hwm > (uint32_t)shm_master_slot(s))
		hwm = (uint32_t)shm_master_slot(s);
	for (i = 0; i <= hwm; i++) {
		w = shm_slot(s, i < hwm ? (int)i : shm_master_slot(s));
		cc = &w->w_cl[ci];
		/* a cluster without a sample in this slot has no buckets */
		k = atomic_load_explicit(&cc->cc_hist, memory_order_acquire);
		if (k == 0)
			continue;
		sh = shm_slot_hist(s, w, k);
		for (b = 0; b < CD_HIST_N; b++)
			out->h_b[b] += atomic_load_explicit(&sh->hb_b[b],
			    memory_order_relaxed);
		out->h_sum_us += atomic_load_explicit(&cc->cc_rq_time_sum_us,
		    memory_order_relaxed);
	}
	for (b = 0; b < CD_HIST_N; b++)
		out->h_count += out->h_b[b];
}

void
hist_sub(struct hist *out, const struct hist *now, const struct hist *then)
{
	uint32_t b;

	for (b = 0; b < CD_HIST_N; b++)
		if (now->h_b[b] < then->h_b[b])
			break;
	if (b < CD_HIST_N || now->h_sum_us < then->h_sum_us) {
		if (out != now)
			memcpy(out, now, sizeof(*out));
		return;
	}
	out->h_count = 0;
	for (b = 0; b < CD_HIST_N; b++) {
		out->h_b[b] = now->h_b[b] - then->h_b[b];
		out->h_count += out->h_b[b];
	}
	out->h_sum_us = now->h_sum_us - then->h_sum_us;
}

/* One quantile in microseconds (circllhist's hist_approx_quantile). */
static double
hist_quantile_us(const struct hist *h, double q)
{
	double target = q * (double)h->h_count, lower = 0, upper, left, width;
	uint32_t b;

	for (b = 0; b < CD_HIST_N; b++) {
		if (h->h_b[b] == 0)
			continue;
		upper = lower + (double)h->h_b[b];
		if (upper >= target) {
			left = (double)hist_lower(b);
			width = (double)(hist_upper(b) - hist_lower(b));
			if (lower == target)
				return left;
			if (upper == target)
				return left + width;
			return left + (target - lower) / (double)h->h_b[b] *
			    width;
		}
		lower = upper;
	}
	return NAN;	/* not reached while h_count matches h_b */
}

void
hist_quantiles_ms(const struct hist *h, const double *q, size_t nq,
    double *out)
{
	size_t i;

	for (i = 0; i < nq; i++) {
		if (h->h_count == 0 || !(q[i] >= 0 && q[i] <= 1))
			out[i] = NAN;
		else
			/* microseconds are what we measure: no finer digits */
			out[i] = round(hist_quantile_us(h, q[i])) / 1000.0;
	}
}

uint64_t
hist_count_le(const struct hist *h, double le_ms)
{
	double le_us = le_ms * 1000.0;
	uint64_t n = 0;
	uint32_t b;

	for (b = 0; b < CD_HIST_N && (double)hist_upper(b) <= le_us; b++)
		n += h->h_b[b];
	return n;
}

int
hist_fmt(char *buf, size_t len, double v)
{
	char e[40], d[24], out[64], *p;
	int prec, x, nd = 0, n = 0, i;

	if (isnan(v))
		return snprintf(buf, len, "nan");
	if (isinf(v))
		return snprintf(buf, len, v < 0 ? "-inf" : "inf");
	if (v == 0)
		return snprintf(buf, len, signbit(v) ? "-0" : "0");
	/* the fewest significant digits that read back as v */
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(e, sizeof(e), "%.16e", v);
	p = e;
	if (*p == '-')
		out[n++] = *p++;
	d[nd++] = *p++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			d[nd++] = *p;
	x = (int)strtol(p + 1, NULL, 10);	/* p is at the 'e' */
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	if (x < -4 || x >= 16) {
		out[n++] = d[0];
		if (nd > 1) {
			out[n++] = '.';
			memcpy(out + n, d + 1, (size_t)nd - 1);
			n += nd - 1;
		}
		n += snprintf(out + n, sizeof(out) - (size_t)n, "e%c%02d",
		    x < 0 ? '-' : '+', x < 0 ? -x : x);
	} else if (x >= 0) {
		for (i = 0; i <= x; i++)
			out[n++] = i < nd ? d[i] : '0';
		if (nd > x + 1) {
			out[n++] = '.';
			for (i = x + 1; i < nd; i++)
				out[n++] = d[i];
		}
		out[n] = '\0';
	} else {
		out[n++] = '0';
		out[n++] = '.';
		for (i = 0; i < -x - 1; i++)
			out[n++] = '0';
		memcpy(out + n, d, (size_t)nd);
		n += nd;
		out[n] = '\0';
	}
	return snprintf(buf, len, "%s", out);
}
