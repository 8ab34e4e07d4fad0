/*
 * Unit tests for the fleet's decisions (master/fleet_decide.c) and the
 * judgement arithmetic they share with the single-instance rollout
 * (master/judge.c): which reports count, the fleet's sums and merged
 * p99, two breaches in a row to roll back, waiting and pausing on too
 * little traffic, advancing after a clean step interval and not before
 * every instance has acknowledged, operators' actions, and the local
 * safety rollback of an instance cut off from etcd.  Time is an
 * argument: nothing sleeps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/hist.h"
#include "master/fleet_decide.h"
#include "master/judge.h"
#include "test/unit/unit.h"

#define T0	1700000000000LL		/* wall clock of the step, ms */
#define REV	41

static struct cd_rollout fd_ro;
static struct mst_fleet_route fd_route;

/* canary is cluster 1, stable 0; steps 1 10 50 100; 10 s interval */
static void
setup(void)
{
	memset(&fd_ro, 0, sizeof(fd_ro));
	fd_ro.ro_set = true;
	fd_ro.ro_canary = 1;
	fd_ro.ro_stable = 0;
	fd_ro.ro_steps[0] = 1;
	fd_ro.ro_steps[1] = 10;
	fd_ro.ro_steps[2] = 50;
	fd_ro.ro_steps[3] = 100;
	fd_ro.ro_nsteps = 4;
	fd_ro.ro_step_interval = 10 * CD_NS_PER_S;
	fd_ro.ro_window = 30 * CD_NS_PER_S;
	fd_ro.ro_min_requests = 100;
	fd_ro.ro_max_error_rate_delta = 0.01;
	fd_ro.ro_max_p99_ratio = 1.5;
	fd_route.fr_ro = &fd_ro;
	fd_route.fr_nw = 2;
	fd_route.fr_total = 100;
	fd_route.fr_max_wait_ms = 60000;
}

/* s zeroed with room for 16 weights, static storage (a few in turn):
 * nothing to free. */
static void
fd_room(struct mst_fleet_state *s)
{
	static uint32_t w[8][16];
	static unsigned next;

	memset(s, 0, sizeof(*s));
	s->fs_w = w[next++ % 8];
	s->fs_wcap = 16;
}

/* A state at step (percent from the steps), revision REV, from T0. */
static void
state_at(struct mst_fleet_state *s, int step)
{
	fd_room(s);
	s->fs_state = MST_RO_PROGRESSING;
	s->fs_step = step;
	s->fs_nw = 2;
	s->fs_w[1] = step >= 0 ? fd_ro.ro_steps[step] : 0;
	s->fs_w[0] = 100 - s->fs_w[1];
	s->fs_epoch = 3;
	s->fs_fence = 7;
	s->fs_decided_ms = T0;
	s->fs_seq = 20;
	s->fs_rev = REV;
}

/* Every field the same, the weights compared, not their rooms. */
static bool
same_state(const struct mst_fleet_state *a, const struct mst_fleet_state *b)
{
	struct mst_fleet_state x = *a, y = *b;

	x.fs_w = y.fs_w = NULL;
	x.fs_wcap = y.fs_wcap = 0;
	return memcmp(&x, &y, sizeof(x)) == 0 && a->fs_nw == b->fs_nw &&
	    memcmp(a->fs_w, b->fs_w, a->fs_nw * sizeof(*a->fs_w)) == 0;
}

static void
sample(struct mst_judge_snap *s, uint64_t rq, uint64_t n5xx, uint64_t us)
{
	memset(s, 0, sizeof(*s));
	s->js_rq = rq;
	s->js_5xx = n5xx;
	s->js_h.h_b[hist_bucket(us)] = rq;
	s->js_h.h_count = rq;
	s->js_h.h_sum_us = rq * us;
}

/* A fresh report acknowledging REV, window from T0: canary (crq, c5xx,
 * 20 ms), stable (srq, 0, 20 ms). */
static void
report(struct mst_fleet_input *in, uint64_t crq, uint64_t c5xx,
    uint64_t srq)
{
	memset(in, 0, sizeof(*in));
	in->fi_member = "m";
	in->fi_age_ms = 500;
	in->fi_ack_rev = REV;
	in->fi_window_ms = T0 + 10;
	sample(&in->fi_canary, crq, c5xx, 20000);
	sample(&in->fi_stable, srq, 0, 20000);
}

static void
decide(const struct mst_fleet_state *cur, const struct mst_fleet_input *in,
    size_t n, struct mst_fleet_memo *memo, int64_t now,
    struct mst_fleet_verdict *v)
{
	static uint32_t w[16];	/* a verdict is read before the next */

	memset(v, 0, sizeof(*v));
	v->fv_next.fs_w = w;
	v->fv_next.fs_wcap = 16;
	mst_fleet_decide(&fd_route, cur, in, n, memo, now, v);
}

/* ---- judge.c ------------------------------------------------------------------ */

static void
weights_at_keep_the_total_and_the_others(void)
{
	uint32_t w[3] = { 70, 20, 10 };

	/* canary 2, stable 1: the pair holds 30 of 100 */
	mst_judge_weights_at(w, 3, 100, 2, 1, 25);
	CU_ASSERT(w[0] == 70 && w[1] == 5 && w[2] == 25);
	mst_judge_weights_at(w, 3, 100, 2, 1, 50);
	CU_ASSERT(w[0] == 70 && w[1] == 0 && w[2] == 30);
	mst_judge_weights_at(w, 3, 100, 2, 1, 0);
	CU_ASSERT(w[0] == 70 && w[1] == 30 && w[2] == 0);
	CU_ASSERT_DOUBLE_EQUAL(mst_judge_pct(w, 100, 1), 30.0, 1e-9);
	/* a bad pair changes nothing */
	mst_judge_weights_at(w, 3, 100, 1, 1, 50);
	CU_ASSERT(w[1] == 30 && w[2] == 0);
}

/* ---- state and reports ----------------------------------------------------------- */

static void
state_starts_from_the_file_weights(void)
{
	const uint32_t w1[2] = { 90, 10 }, w0[2] = { 100, 0 },
	    w100[2] = { 0, 100 }, w5[2] = { 95, 5 };
	struct mst_fleet_state s;

	setup();
	fd_room(&s);
	mst_fleet_state_init(&fd_route, w1, T0, &s);
	CU_ASSERT_EQUAL(s.fs_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(s.fs_step, 1);
	CU_ASSERT_EQUAL(s.fs_decided_ms, T0);
	CU_ASSERT_EQUAL(s.fs_epoch, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fs_reason, "10.0%"));
	mst_fleet_state_init(&fd_route, w0, T0, &s);
	CU_ASSERT_EQUAL(s.fs_step, -1);
	mst_fleet_state_init(&fd_route, w5, T0, &s);
	CU_ASSERT_EQUAL(s.fs_step, 0);
	mst_fleet_state_init(&fd_route, w100, T0, &s);
	CU_ASSERT_EQUAL(s.fs_state, MST_RO_PROMOTED);
	CU_ASSERT_EQUAL(s.fs_step, 3);
}

static void
only_fresh_acked_reports_of_this_step_count(void)
{
	struct mst_fleet_input in[7];
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;
	int i;

	setup();
	state_at(&cur, 1);
	for (i = 0; i < 7; i++)
		report(&in[i], 100, 0, 900);
	in[1].fi_age_ms = MST_FLEET_FRESH_MS;		/* stale */
	in[2].fi_age_ms = -1;				/* clock trouble */
	in[3].fi_ack_rev = REV - 1;			/* not applied yet */
	in[4].fi_window_ms = T0 - MST_FLEET_SKEW_MS - 1;	/* old window */
	in[5].fi_window_ms = T0 - MST_FLEET_SKEW_MS;	/* within the skew */
	in[6].fi_age_ms = MST_FLEET_FRESH_MS - 1;	/* just fresh */
	decide(&cur, in, 7, &memo, T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.fv_used, 3);
	CU_ASSERT_EQUAL(v.fv_stale, 2);
	CU_ASSERT_EQUAL(v.fv_unacked, 1);
	CU_ASSERT_EQUAL(v.fv_old_window, 1);
	CU_ASSERT_EQUAL(v.fv_canary.rf_rq, 300);
	CU_ASSERT_EQUAL(v.fv_stable.rf_rq, 2700);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
}

static void
p99_comes_from_merged_buckets(void)
{
	struct mst_fleet_input in[2];
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 1);
	/* A: 1000 fast canary requests (p99 1 ms); B: 100 slow (100 ms).
	 * Together 9 % are slow: the fleet's p99 is B's latency, where the
	 * mean of the two p99s would say 50 ms. */
	report(&in[0], 1000, 0, 1000);
	sample(&in[0].fi_canary, 1000, 0, 1000);
	report(&in[1], 100, 0, 1000);
	sample(&in[1].fi_canary, 100, 0, 100000);
	decide(&cur, in, 2, &memo, T0 + 1000, &v);
	CU_ASSERT(v.fv_canary.rf_p99 > 94.0 && v.fv_canary.rf_p99 < 106.0);
	CU_ASSERT_EQUAL(v.fv_canary.rf_rq, 1100);
	/* stable at 20 ms: 100 / 20 = 5 > 1.5, a breach */
	CU_ASSERT_EQUAL(v.fv_breaches, 1);
}

/* ---- rollback ---------------------------------------------------------------------- */

static void
fleet_breach_no_instance_sees_alone_rolls_back_on_the_second(void)
{
	struct mst_fleet_input in[3];
	struct mst_fleet_state cur, next;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;
	char why[256];
	int i;

	setup();
	state_at(&cur, 1);
	fd_room(&next);
	/* 60 canary requests each (below min_requests 100), 5 % failing:
	 * no instance can judge, the fleet's 180 can */
	for (i = 0; i < 3; i++) {
		report(&in[i], 60, 3, 600);
		CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &in[i],
		    T0 + 1000, &next, why, sizeof(why)), 0);
	}
	decide(&cur, in, 3, &memo, T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_EQUAL(v.fv_breaches, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_why, "breach 1 of 2"));
	decide(&cur, in, 3, &memo, T0 + 2000, &v);
	CU_ASSERT_EQUAL_FATAL(v.fv_act, MST_FLEET_A_ROLLBACK);
	CU_ASSERT_EQUAL(v.fv_breaches, 2);
	CU_ASSERT_EQUAL(v.fv_next.fs_state, MST_RO_ROLLED_BACK);
	CU_ASSERT(v.fv_next.fs_w[1] == 0 && v.fv_next.fs_w[0] == 100);
	CU_ASSERT_EQUAL(v.fv_next.fs_epoch, cur.fs_epoch + 1);
	CU_ASSERT_EQUAL(v.fv_next.fs_seq, cur.fs_seq + 1);
	CU_ASSERT_EQUAL(v.fv_next.fs_decided_ms, T0 + 2000);
	CU_ASSERT_EQUAL(v.fv_canary.rf_rq, 180);
	CU_ASSERT_EQUAL(v.fv_canary.rf_5xx, 9);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_next.fs_reason, "rolled back: 2 "
	    "breaches in a row over 3 instances"));
}

static void
a_clean_decision_between_breaches_resets_the_count(void)
{
	struct mst_fleet_input bad, good;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 1);
	report(&bad, 200, 20, 2000);
	report(&good, 200, 0, 2000);
	decide(&cur, &bad, 1, &memo, T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.fv_breaches, 1);
	decide(&cur, &good, 1, &memo, T0 + 2000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	decide(&cur, &bad, 1, &memo, T0 + 3000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_EQUAL(v.fv_breaches, 1);
}

static void
an_unacked_instance_never_holds_back_a_rollback(void)
{
	struct mst_fleet_input in[2];
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 2);
	report(&in[0], 200, 40, 2000);
	report(&in[1], 200, 0, 2000);
	in[1].fi_ack_rev = REV - 3;
	decide(&cur, in, 2, &memo, T0 + 1000, &v);
	decide(&cur, in, 2, &memo, T0 + 2000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_ROLLBACK);
	CU_ASSERT_EQUAL(v.fv_unacked, 1);
}

static void
a_new_state_revision_restarts_the_breach_count(void)
{
	struct mst_fleet_input bad;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 1);
	report(&bad, 200, 20, 2000);
	decide(&cur, &bad, 1, &memo, T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.fv_breaches, 1);
	cur.fs_rev = REV + 1;
	bad.fi_ack_rev = REV + 1;
	decide(&cur, &bad, 1, &memo, T0 + 2000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_EQUAL(v.fv_breaches, 1);
}

/* ---- advance and wait ----------------------------------------------------------------- */

static void
advance_after_a_clean_step_interval_only(void)
{
	struct mst_fleet_input in[2];
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 1);
	report(&in[0], 150, 0, 1500);
	report(&in[1], 150, 1, 1500);
	decide(&cur, in, 2, &memo, T0 + 9999, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_why, "next step in"));
	decide(&cur, in, 2, &memo, T0 + 10000, &v);
	CU_ASSERT_EQUAL_FATAL(v.fv_act, MST_FLEET_A_ADVANCE);
	CU_ASSERT_EQUAL(v.fv_next.fs_step, 2);
	CU_ASSERT(v.fv_next.fs_w[1] == 50 && v.fv_next.fs_w[0] == 50);
	CU_ASSERT_EQUAL(v.fv_next.fs_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(v.fv_next.fs_decided_ms, T0 + 10000);
	CU_ASSERT_EQUAL(v.fv_next.fs_seq, cur.fs_seq + 1);
	CU_ASSERT_EQUAL(v.fv_next.fs_epoch, cur.fs_epoch);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_next.fs_reason, "step 3/4: 50%"));
}

static void
an_unacked_instance_holds_back_an_advance(void)
{
	struct mst_fleet_input in[2];
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 1);
	report(&in[0], 300, 0, 1500);
	report(&in[1], 300, 0, 1500);
	in[1].fi_ack_rev = REV - 1;
	decide(&cur, in, 2, &memo, T0 + 20000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_why, "1 instances have not "
	    "applied revision 41"));
	/* a dead instance (stale report) does not hold it back */
	in[1].fi_age_ms = MST_FLEET_FRESH_MS + 1;
	decide(&cur, in, 2, &memo, T0 + 20000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_ADVANCE);
}

static void
a_breach_restarts_the_clean_clock(void)
{
	struct mst_fleet_input bad, good;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 1);
	report(&bad, 200, 20, 2000);
	report(&good, 200, 0, 2000);
	decide(&cur, &bad, 1, &memo, T0 + 8000, &v);
	decide(&cur, &good, 1, &memo, T0 + 12000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_why, "next step in 6.0 s"));
	decide(&cur, &good, 1, &memo, T0 + 18000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_ADVANCE);
}

static void
the_last_step_promotes(void)
{
	struct mst_fleet_input in;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 2);
	report(&in, 500, 0, 500);
	decide(&cur, &in, 1, &memo, T0 + 10000, &v);
	CU_ASSERT_EQUAL_FATAL(v.fv_act, MST_FLEET_A_PROMOTE);
	CU_ASSERT_EQUAL(v.fv_next.fs_state, MST_RO_PROMOTED);
	CU_ASSERT_EQUAL(v.fv_next.fs_step, 3);
	CU_ASSERT(v.fv_next.fs_w[1] == 100 && v.fv_next.fs_w[0] == 0);
	/* promoted: nothing more to decide */
	mst_fleet_state_copy(&cur, &v.fv_next);
	decide(&cur, &in, 1, &memo, T0 + 30000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
}

static void
too_little_traffic_waits_then_pauses(void)
{
	struct mst_fleet_input in;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, 0);
	report(&in, 5, 0, 500);
	decide(&cur, &in, 1, &memo, T0 + 59999, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
	CU_ASSERT_FALSE(v.fv_sample_met);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_why, "waiting for the sample"));
	decide(&cur, &in, 1, &memo, T0 + 60000, &v);
	CU_ASSERT_EQUAL_FATAL(v.fv_act, MST_FLEET_A_PAUSE);
	CU_ASSERT_EQUAL(v.fv_next.fs_state, MST_RO_PAUSED);
	CU_ASSERT(v.fv_next.fs_w[1] == 1 && v.fv_next.fs_w[0] == 99);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_next.fs_reason, "too little "
	    "traffic 60 s into the step over 1 instances"));
	/* no report at all waits (and pauses) the same way */
	decide(&cur, NULL, 0, &memo, T0 + 1000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
}

static void
before_the_first_step_no_canary_traffic_still_advances(void)
{
	struct mst_fleet_input in;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;

	setup();
	state_at(&cur, -1);
	report(&in, 0, 0, 500);
	decide(&cur, &in, 1, &memo, T0 + 10000, &v);
	CU_ASSERT_EQUAL_FATAL(v.fv_act, MST_FLEET_A_ADVANCE);
	CU_ASSERT_EQUAL(v.fv_next.fs_step, 0);
	CU_ASSERT_EQUAL(v.fv_next.fs_w[1], 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.fv_next.fs_reason, "no traffic to "
	    "judge"));
	/* but not blind: with nobody reporting it holds */
	decide(&cur, NULL, 0, &memo, T0 + 10000, &v);
	CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
}

static void
only_a_progressing_route_is_decided(void)
{
	static const enum mst_ro_state st[] = { MST_RO_PAUSED,
	    MST_RO_ROLLED_BACK, MST_RO_PROMOTED };
	struct mst_fleet_input in;
	struct mst_fleet_state cur;
	struct mst_fleet_memo memo = { 0 };
	struct mst_fleet_verdict v;
	size_t i;

	setup();
	report(&in, 500, 400, 500);
	for (i = 0; i < 3; i++) {
		state_at(&cur, 1);
		cur.fs_state = st[i];
		decide(&cur, &in, 1, &memo, T0 + 1000, &v);
		decide(&cur, &in, 1, &memo, T0 + 2000, &v);
		CU_ASSERT_EQUAL(v.fv_act, MST_FLEET_A_HOLD);
		CU_ASSERT(same_state(&v.fv_next, &cur));
	}
}

/* ---- operators ---------------------------------------------------------------------------- */

static void
operator_actions_follow_the_single_instance_rules(void)
{
	struct mst_fleet_state cur, next;
	char why[128];

	setup();
	state_at(&cur, 1);
	fd_room(&next);
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_PAUSE, T0 + 5,
	    &next, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(next.fs_state, MST_RO_PAUSED);
	CU_ASSERT_EQUAL(next.fs_w[1], 10);
	CU_ASSERT_EQUAL(next.fs_seq, cur.fs_seq + 1);
	cur = next;
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_PAUSE, T0 + 6,
	    &next, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "paused"));
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_RESUME,
	    T0 + 7, &next, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(next.fs_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(next.fs_decided_ms, T0 + 7);
	cur = next;
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_RESUME,
	    T0 + 8, &next, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_ROLLBACK,
	    T0 + 9, &next, why, sizeof(why)), 0);
	CU_ASSERT(next.fs_state == MST_RO_ROLLED_BACK && next.fs_w[1] == 0);
	CU_ASSERT_EQUAL(next.fs_epoch, cur.fs_epoch + 1);
	cur = next;
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_ROLLBACK,
	    T0 + 10, &next, why, sizeof(why)), 1);
	/* resume after a rollback: a new attempt from the first step */
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_RESUME,
	    T0 + 11, &next, why, sizeof(why)), 0);
	CU_ASSERT(next.fs_state == MST_RO_PROGRESSING && next.fs_step == 0 &&
	    next.fs_w[1] == 1);
	CU_ASSERT_EQUAL(next.fs_epoch, cur.fs_epoch + 1);
	cur = next;
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_PROMOTE,
	    T0 + 12, &next, why, sizeof(why)), 0);
	CU_ASSERT(next.fs_state == MST_RO_PROMOTED && next.fs_w[1] == 100 &&
	    next.fs_w[0] == 0);
	cur = next;
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_PROMOTE,
	    T0 + 13, &next, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_RESUME,
	    T0 + 14, &next, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(mst_fleet_op(&fd_route, &cur, MST_RO_OP_PAUSE,
	    T0 + 14, &next, why, sizeof(why)), -1);
}

/* ---- etcd away ---------------------------------------------------------------------------- */

static void
local_rollback_needs_one_and_a_half_times_the_threshold(void)
{
	struct mst_fleet_input self;
	struct mst_fleet_state cur, next;
	char why[512];

	setup();
	state_at(&cur, 2);
	fd_room(&next);
	/* 1.2 % more 5xx: over 1 %, under 1.5 % */
	report(&self, 1000, 12, 1000);
	CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &self,
	    T0 + 1, &next, why, sizeof(why)), 0);
	report(&self, 1000, 16, 1000);
	CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &self,
	    T0 + 1, &next, why, sizeof(why)), 1);
	CU_ASSERT(next.fs_state == MST_RO_ROLLED_BACK && next.fs_w[1] == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "local safety rollback"));
	CU_ASSERT_PTR_NOT_NULL(strstr(next.fs_reason, "local safety"));
	/* p99 ratio 2 (over 1.5, under 2.25), then 3 */
	report(&self, 1000, 0, 1000);
	sample(&self.fi_canary, 1000, 0, 40000);
	CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &self,
	    T0 + 1, &next, why, sizeof(why)), 0);
	sample(&self.fi_canary, 1000, 0, 60000);
	CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &self,
	    T0 + 1, &next, why, sizeof(why)), 1);
	/* too small a sample, or nothing to roll back */
	report(&self, 99, 90, 1000);
	CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &self,
	    T0 + 1, &next, why, sizeof(why)), 0);
	report(&self, 1000, 900, 1000);
	cur.fs_state = MST_RO_PAUSED;
	CU_ASSERT_EQUAL(mst_fleet_local_rollback(&fd_route, &cur, &self,
	    T0 + 1, &next, why, sizeof(why)), 0);
}

static CU_TestInfo tests[] = {
	{ "weights_at_keep_the_total_and_the_others",
	    weights_at_keep_the_total_and_the_others },
	{ "state_starts_from_the_file_weights",
	    state_starts_from_the_file_weights },
	{ "only_fresh_acked_reports_of_this_step_count",
	    only_fresh_acked_reports_of_this_step_count },
	{ "p99_comes_from_merged_buckets", p99_comes_from_merged_buckets },
	{ "fleet_breach_no_instance_sees_alone_rolls_back_on_the_second",
	    fleet_breach_no_instance_sees_alone_rolls_back_on_the_second },
	{ "a_clean_decision_between_breaches_resets_the_count",
	    a_clean_decision_between_breaches_resets_the_count },
	{ "an_unacked_instance_never_holds_back_a_rollback",
	    an_unacked_instance_never_holds_back_a_rollback },
	{ "a_new_state_revision_restarts_the_breach_count",
	    a_new_state_revision_restarts_the_breach_count },
	{ "advance_after_a_clean_step_interval_only",
	    advance_after_a_clean_step_interval_only },
	{ "an_unacked_instance_holds_back_an_advance",
	    an_unacked_instance_holds_back_an_advance },
	{ "a_breach_restarts_the_clean_clock",
	    a_breach_restarts_the_clean_clock },
	{ "the_last_step_promotes", the_last_step_promotes },
	{ "too_little_traffic_waits_then_pauses",
	    too_little_traffic_waits_then_pauses },
	{ "before_the_first_step_no_canary_traffic_still_advances",
	    before_the_first_step_no_canary_traffic_still_advances },
	{ "only_a_progressing_route_is_decided",
	    only_a_progressing_route_is_decided },
	{ "operator_actions_follow_the_single_instance_rules",
	    operator_actions_follow_the_single_instance_rules },
	{ "local_rollback_needs_one_and_a_half_times_the_threshold",
	    local_rollback_needs_one_and_a_half_times_the_threshold },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/fleet_decide", tests);
