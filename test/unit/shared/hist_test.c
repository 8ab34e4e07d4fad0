/*
 * Unit tests for shared/hist.c: the bucket layout, quantiles against the
 * exact ones of a known sample, Prometheus bound counts, interval
 * differences, the sum over shm slots, and fmt-style number printing.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/hist.h"
#include "shared/shm.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

static void
add(struct hist *h, uint64_t us)
{
	h->h_b[hist_bucket(us)]++;
	h->h_count++;
	h->h_sum_us += us;
}

static int
near(double got, double want, double rel)
{
	return fabs(got - want) <= rel * want;
}

static void
hist_buckets_tile_the_range(void)
{
	uint64_t v, prev_upper = 0;
	uint32_t i, b;
	int ok = 1;

	for (i = 0; i < CD_HIST_N; i++) {
		if (hist_lower(i) != prev_upper ||
		    hist_upper(i) <= hist_lower(i))
			ok = 0;
		/* no bucket wider than 1/16 of where it starts */
		if (i >= CD_HIST_SUB && (hist_upper(i) - hist_lower(i)) * 16 >
		    hist_lower(i))
			ok = 0;
		if (hist_bucket(hist_lower(i)) != i ||
		    hist_bucket(hist_upper(i) - 1) != i)
			ok = 0;
		prev_upper = hist_upper(i);
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(hist_upper(CD_HIST_N - 1), (uint64_t)1 << 32);
	/* every value lands in the bucket whose edges hold it */
	for (v = 0; v < 200000; v += 7) {
		b = hist_bucket(v);
		if (!(hist_lower(b) <= v && v < hist_upper(b)))
			ok = 0;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(hist_bucket(0), 0);
	CU_ASSERT_EQUAL(hist_bucket(15), 15);
	CU_ASSERT_EQUAL(hist_bucket(16), 16);
	/* two hours: past the last edge, kept in the last bucket */
	CU_ASSERT_EQUAL(hist_bucket(7200000000ULL), CD_HIST_N - 1);
	CU_ASSERT_EQUAL(hist_bucket(UINT64_MAX), CD_HIST_N - 1);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A long-tailed latency sample: p50/p95/p99 within 3 % of exact. */
static void
hist_quantiles_match_exact_within_3_percent(void)
{
	static const double q[] = { 0.5, 0.95, 0.99 };
	static uint64_t v[20000];
	struct hist h;
	double out[3], exact;
	uint64_t x = 88172645463325252ULL;
	size_t i, n = sizeof(v) / sizeof(v[0]);

	memset(&h, 0, sizeof(h));
	for (i = 0; i < n; i++) {
		/* xorshift64: deterministic; 200 us .. ~200 ms, log-uniform */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (uint64_t)(200.0 * pow(1000.0,
		    (double)(x >> 11) / 9007199254740992.0));
		add(&h, v[i]);
	}
	qsort(v, n, sizeof(v[0]), cmp_u64);
	hist_quantiles_ms(&h, q, 3, out);
	for (i = 0; i < 3; i++) {
		exact = (double)v[(size_t)(q[i] * (double)(n - 1))] / 1000.0;
		CU_ASSERT(near(out[i], exact, 0.03));
	}
}

static void
hist_quantiles_of_one_value_interpolate_in_its_bucket(void)
{
	static const double q[] = { 0, 0.25, 0.5, 0.9, 1 };
	struct hist h;
	double out[5];
	int i;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 4; i++)
		add(&h, 1000);	/* bucket [992, 1024) us */
	hist_quantiles_ms(&h, q, 5, out);
	CU_ASSERT_DOUBLE_EQUAL(out[0], 0.992, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(out[1], 1.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(out[2], 1.008, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(out[3], 1.021, 1e-12);	/* 1020.8 rounded */
	CU_ASSERT_DOUBLE_EQUAL(out[4], 1.024, 1e-12);
}

static void
hist_quantiles_nan_when_empty_or_q_out_of_range(void)
{
	static const double q[] = { 0.5, -0.1, 1.5, NAN };
	struct hist h;
	double out[4];

	memset(&h, 0, sizeof(h));
	hist_quantiles_ms(&h, q, 1, out);
	CU_ASSERT(isnan(out[0]));
	add(&h, 5);
	hist_quantiles_ms(&h, q, 4, out);
	CU_ASSERT_DOUBLE_EQUAL(out[0], 0.006, 1e-12);	/* [5, 6) us */
	CU_ASSERT(isnan(out[1]));
	CU_ASSERT(isnan(out[2]));
	CU_ASSERT(isnan(out[3]));
}

static void
hist_count_le_counts_buckets_wholly_below(void)
{
	struct hist h;

	memset(&h, 0, sizeof(h));
	add(&h, 400);		/* [400, 416) */
	add(&h, 1000);		/* [992, 1024): straddles 1 ms */
	add(&h, 3000);
	add(&h, 7200000000ULL);	/* two hours: only under +Inf */
	CU_ASSERT_EQUAL(hist_count_le(&h, 0.5), 1);
	CU_ASSERT_EQUAL(hist_count_le(&h, 1), 1);
	CU_ASSERT_EQUAL(hist_count_le(&h, 2.5), 2);
	CU_ASSERT_EQUAL(hist_count_le(&h, 5), 3);
	CU_ASSERT_EQUAL(hist_count_le(&h, 3600000), 3);
	CU_ASSERT_EQUAL(h.h_count, 4);
}

static void
hist_sub_gives_interval_and_survives_reset(void)
{
	struct hist a, b, d;

	memset(&a, 0, sizeof(a));
	add(&a, 100);
	add(&a, 2000);
	b = a;
	add(&b, 2000);
	add(&b, 50000);
	hist_sub(&d, &b, &a);
	CU_ASSERT_EQUAL(d.h_count, 2);
	CU_ASSERT_EQUAL(d.h_sum_us, 52000);
	CU_ASSERT_EQUAL(d.h_b[hist_bucket(2000)], 1);
	CU_ASSERT_EQUAL(d.h_b[hist_bucket(100)], 0);
	/* the record was reset and refilled: a bucket went down */
	memset(&b, 0, sizeof(b));
	add(&b, 7);
	hist_sub(&d, &b, &a);
	CU_ASSERT_EQUAL(d.h_count, 1);
	CU_ASSERT_EQUAL(d.h_b[7], 1);
	/* in place */
	hist_sub(&b, &b, &a);
	CU_ASSERT_EQUAL(b.h_count, 1);
}

static void
hist_collect_sums_used_slots_and_master(void)
{
	struct shm *s;
	struct hist h;

	CU_ASSERT_FATAL((s = unit_shm()) != NULL);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	hist_record(s, shm_slot(s, 0), &shm_slot(s, 0)->w_cl[3], 1000);
	hist_record(s, shm_slot(s, 1), &shm_slot(s, 1)->w_cl[3], 1000);
	hist_record(s, shm_slot(s, 1), &shm_slot(s, 1)->w_cl[3], 20);
	hist_record(s, shm_slot(s, UNIT_MASTER_SLOT), &shm_slot(s, UNIT_MASTER_SLOT)->w_cl[3], 3);
	/* above the high-water mark: never used, not read */
	hist_record(s, shm_slot(s, 5), &shm_slot(s, 5)->w_cl[3], 99);
	/* another cluster */
	hist_record(s, shm_slot(s, 0), &shm_slot(s, 0)->w_cl[2], 99);
	hist_collect(s, 3, &h);
	CU_ASSERT_EQUAL(h.h_count, 4);
	CU_ASSERT_EQUAL(h.h_sum_us, 2023);
	CU_ASSERT_EQUAL(h.h_b[hist_bucket(1000)], 2);
	CU_ASSERT_EQUAL(h.h_b[3], 1);
	CU_ASSERT_EQUAL(h.h_b[hist_bucket(99)], 0);
	shm_destroy(s);
}

static void
check_fmt(double v, const char *want)
{
	char b[64];

	hist_fmt(b, sizeof(b), v);
	CU_ASSERT_STRING_EQUAL(b, want);
	if (strcmp(b, want) != 0)
		fprintf(stderr, "hist_fmt(%.17g) = %s, want %s\n", v, b, want);
}

static void
hist_fmt_prints_like_fmt_braces(void)
{
	char small[4];

	check_fmt(1, "1");
	check_fmt(1.05, "1.05");
	check_fmt(2.5, "2.5");
	check_fmt(0, "0");
	check_fmt(0.001, "0.001");
	check_fmt(0.992, "0.992");
	check_fmt(123.456, "123.456");
	check_fmt(1234567, "1234567");
	check_fmt(3600000, "3600000");
	check_fmt(0.1 + 0.2, "0.30000000000000004");
	check_fmt(0.0001, "0.0001");
	check_fmt(0.00001, "1e-05");
	check_fmt(1.5e-7, "1.5e-07");
	check_fmt(1e15, "1000000000000000");
	check_fmt(1e16, "1e+16");
	check_fmt(-2.5, "-2.5");
	check_fmt(NAN, "nan");
	check_fmt(INFINITY, "inf");
	/* truncated like snprintf, full length returned */
	CU_ASSERT_EQUAL(hist_fmt(small, sizeof(small), 123.456), 7);
	CU_ASSERT_STRING_EQUAL(small, "123");
}

static CU_TestInfo tests[] = {
	{ "hist_buckets_tile_the_range", hist_buckets_tile_the_range },
	{ "hist_quantiles_match_exact_within_3_percent",
	    hist_quantiles_match_exact_within_3_percent },
	{ "hist_quantiles_of_one_value_interpolate_in_its_bucket",
	    hist_quantiles_of_one_value_interpolate_in_its_bucket },
	{ "hist_quantiles_nan_when_empty_or_q_out_of_range",
	    hist_quantiles_nan_when_empty_or_q_out_of_range },
	{ "hist_count_le_counts_buckets_wholly_below",
	    hist_count_le_counts_buckets_wholly_below },
	{ "hist_sub_gives_interval_and_survives_reset",
	    hist_sub_gives_interval_and_survives_reset },
	{ "hist_collect_sums_used_slots_and_master",
	    hist_collect_sums_used_slots_and_master },
	{ "hist_fmt_prints_like_fmt_braces", hist_fmt_prints_like_fmt_braces },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/hist", tests);
