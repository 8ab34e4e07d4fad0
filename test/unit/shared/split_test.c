/*
 * Unit tests for the exact weighted split (shared/split.c).
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/split.h"
#include "test/unit/unit.h"

/* room for the biggest split here; every plan of the tests uses it */
#define SPLIT_T_MAX	1000
static uint64_t split_t_upper[SPLIT_T_MAX];
#define PLAN_ROOM	{ .sp_cap = SPLIT_T_MAX, .sp_upper = split_t_upper }

static void
count_picks(const struct split_plan *p, uint64_t start, uint64_t n,
    uint64_t *counts)
{
	uint64_t k;

	memset(counts, 0, sizeof(uint64_t) * SPLIT_T_MAX);
	for (k = start; k < start + n; k++)
		counts[split_pick_exact(p, k)]++;
}

static void
twenty_requests_at_90_10_give_18_and_2(void)
{
	const uint32_t w[] = { 90, 10 };
	struct split_plan p = PLAN_ROOM;
	uint64_t c[SPLIT_T_MAX], start;

	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 2), 0);
	CU_ASSERT_EQUAL(p.sp_period, 10);
	/* whatever the shared counter's position when the user starts */
	for (start = 0; start < 50; start++) {
		count_picks(&p, start, 20, c);
		CU_ASSERT_EQUAL(c[0], 18);
		CU_ASSERT_EQUAL(c[1], 2);
	}
}

static void
every_period_is_exact_for_uneven_weights(void)
{
	const uint32_t w[] = { 50, 30, 15, 5 };
	struct split_plan p = PLAN_ROOM;
	uint64_t c[SPLIT_T_MAX], start;

	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 4), 0);
	CU_ASSERT_EQUAL(p.sp_period, 20);
	for (start = 0; start < 100; start += 7) {
		count_picks(&p, start, 20, c);
		CU_ASSERT_EQUAL(c[0], 10);
		CU_ASSERT_EQUAL(c[1], 6);
		CU_ASSERT_EQUAL(c[2], 3);
		CU_ASSERT_EQUAL(c[3], 1);
	}
}

static void
large_coprime_weights_are_exact_over_total_weight(void)
{
	const uint32_t w[] = { 997, 3 };
	struct split_plan p = PLAN_ROOM;
	uint64_t c[SPLIT_T_MAX];

	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 2), 0);
	CU_ASSERT_EQUAL(p.sp_period, 1000);
	count_picks(&p, 12345, 1000, c);
	CU_ASSERT_EQUAL(c[0], 997);
	CU_ASSERT_EQUAL(c[1], 3);
}

static void
sequence_is_smooth_not_bunched(void)
{
	const uint32_t w[] = { 50, 50 };
	struct split_plan p = PLAN_ROOM;
	uint64_t c[SPLIT_T_MAX], k;
	uint32_t w2[] = { 70, 30 };

	/* 50/50: no cluster twice in a row more than once per period */
	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 2), 0);
	for (k = 0; k < 100; k++)
		CU_ASSERT_NOT_EQUAL(split_pick_exact(&p, k),
		    split_pick_exact(&p, k + 1));
	/* 70/30: any 5 consecutive requests hold 1 or 2 of the 30 */
	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w2, 2), 0);
	for (k = 0; k < 100; k++) {
		count_picks(&p, k, 5, c);
		CU_ASSERT(c[1] >= 1 && c[1] <= 2);
	}
}

static void
zero_weight_cluster_is_never_picked(void)
{
	const uint32_t w[] = { 0, 7, 0, 3 };
	struct split_plan p = PLAN_ROOM;
	uint64_t k;
	uint32_t r;

	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 4), 0);
	for (k = 0; k < 1000; k++) {
		r = split_pick_exact(&p, k);
		CU_ASSERT(r == 1 || r == 3);
	}
	for (k = 0; k < 1000; k++) {
		r = split_pick_random(&p, (uint32_t)(k * 4294967u));
		CU_ASSERT(r == 1 || r == 3);
	}
}

static void
all_zero_weights_are_rejected(void)
{
	const uint32_t w[] = { 0, 0 };
	struct split_plan p = PLAN_ROOM;

	CU_ASSERT_EQUAL(split_plan_init(&p, w, 2), -1);
	CU_ASSERT_EQUAL(split_plan_init(&p, w, 0), -1);
}

static void
single_cluster_always_wins(void)
{
	const uint32_t w[] = { 42 };
	struct split_plan p = PLAN_ROOM;
	uint64_t k;

	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 1), 0);
	for (k = 0; k < 50; k++)
		CU_ASSERT_EQUAL(split_pick_exact(&p, k), 0);
	CU_ASSERT_EQUAL(split_pick_random(&p, 0xffffffffu), 0);
}

static void
random_pick_follows_weights_over_the_range(void)
{
	const uint32_t w[] = { 90, 10 };
	struct split_plan p = PLAN_ROOM;
	uint64_t c[2] = { 0, 0 }, k;

	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, 2), 0);
	/* an even sweep of the 32-bit range hits each interval by weight */
	for (k = 0; k < 1000; k++)
		c[split_pick_random(&p, (uint32_t)(k * 4294968ull))]++;
	CU_ASSERT_EQUAL(c[0], 900);
	CU_ASSERT_EQUAL(c[1], 100);
}

/* Weights 1..n scaled by k: every period of sum(1..n) positions gives
 * cluster i exactly i + 1. */
static void
check_period(uint32_t n, uint32_t k)
{
	static uint64_t c[SPLIT_T_MAX];
	static uint32_t w[SPLIT_T_MAX];
	struct split_plan p = PLAN_ROOM;
	uint64_t period = (uint64_t)n * (n + 1) / 2, start;
	uint32_t i, bad = 0;

	for (i = 0; i < n; i++)
		w[i] = (i + 1) * k;
	CU_ASSERT_EQUAL_FATAL(split_plan_init(&p, w, n), 0);
	CU_ASSERT_EQUAL(p.sp_n, n);
	CU_ASSERT_EQUAL(p.sp_period, period);
	/* from any position of the shared counter */
	for (start = 0; start < 3 * period; start += period + 7) {
		count_picks(&p, start, period, c);
		for (i = 0; i < n; i++)
			bad += c[i] != i + 1;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
forty_clusters_are_exact_over_a_period(void)
{
	check_period(40, 3);
}

static void
a_thousand_clusters_are_exact_over_a_period(void)
{
	check_period(1000, 1);
}

static void
a_plan_takes_no_more_clusters_than_its_room(void)
{
	static uint64_t upper[3];
	const uint32_t w[] = { 1, 2, 3, 4 };
	struct split_plan p;

	split_plan_storage(&p, upper, 3);
	CU_ASSERT_EQUAL(split_plan_init(&p, w, 4), -1);
	CU_ASSERT_EQUAL(split_plan_init(&p, w, 3), 0);
	CU_ASSERT_EQUAL(split_pick_exact(&p, 0), 0);
	split_plan_storage(&p, NULL, 3);
	CU_ASSERT_EQUAL(p.sp_cap, 0);
	CU_ASSERT_EQUAL(split_plan_init(&p, w, 1), -1);
}

static CU_TestInfo tests[] = {
	{ "twenty_requests_at_90_10_give_18_and_2",
	    twenty_requests_at_90_10_give_18_and_2 },
	{ "every_period_is_exact_for_uneven_weights",
	    every_period_is_exact_for_uneven_weights },
	{ "large_coprime_weights_are_exact_over_total_weight",
	    large_coprime_weights_are_exact_over_total_weight },
	{ "sequence_is_smooth_not_bunched", sequence_is_smooth_not_bunched },
	{ "zero_weight_cluster_is_never_picked",
	    zero_weight_cluster_is_never_picked },
	{ "all_zero_weights_are_rejected", all_zero_weights_are_rejected },
	{ "single_cluster_always_wins", single_cluster_always_wins },
	{ "random_pick_follows_weights_over_the_range",
	    random_pick_follows_weights_over_the_range },
	{ "forty_clusters_are_exact_over_a_period",
	    forty_clusters_are_exact_over_a_period },
	{ "a_thousand_clusters_are_exact_over_a_period",
	    a_thousand_clusters_are_exact_over_a_period },
	{ "a_plan_takes_no_more_clusters_than_its_room",
	    a_plan_takes_no_more_clusters_than_its_room },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/split", tests)
