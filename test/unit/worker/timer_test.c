/*
 * Unit tests for worker timers (worker/timer.c): earliest first, ties,
 * re-arming and deleting, re-arming from a callback, and the first
 * deadline kept right through random arms, moves and deletes.
 */
#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "worker/timer.h"

struct probe {
	struct wrk_timer	 p_t;
	int			 p_id;
	uint64_t		 p_rearm;	/* re-arm to this once, if set */
};

static int	fired[16];
static int	nfired;

static void
probe_cb(struct wrk_timer *t)
{
	struct probe *p = (struct probe *)(void *)((char *)t -
	    offsetof(struct probe, p_t));

	fired[nfired++] = p->p_id;
	if (p->p_rearm != 0) {
		wrk_timer_set(t, p->p_rearm);
		p->p_rearm = 0;
	}
}

static void
fire_in_deadline_order(void)
{
	struct probe p[4];
	int i;

	nfired = 0;
	for (i = 0; i < 4; i++) {
		p[i].p_id = i;
		p[i].p_rearm = 0;
		wrk_timer_init(&p[i].p_t, probe_cb);
	}
	CU_ASSERT_EQUAL(wrk_timer_next(0), -1);
	wrk_timer_set(&p[0].p_t, 300);
	wrk_timer_set(&p[1].p_t, 100);
	wrk_timer_set(&p[2].p_t, 200);
	wrk_timer_set(&p[3].p_t, 100);		/* same deadline as p[1] */
	CU_ASSERT_EQUAL(wrk_timer_count(), 4);
	CU_ASSERT_EQUAL(wrk_timer_next(40), 60);
	CU_ASSERT_EQUAL(wrk_timer_run(99), 0);
	CU_ASSERT_EQUAL(wrk_timer_run(200), 3);
	CU_ASSERT_EQUAL(nfired, 3);
	CU_ASSERT(fired[0] == 1 || fired[0] == 3);
	CU_ASSERT(fired[1] == 1 || fired[1] == 3);
	CU_ASSERT_EQUAL(fired[2], 2);
	CU_ASSERT(!wrk_timer_is_armed(&p[1].p_t));
	CU_ASSERT(wrk_timer_is_armed(&p[0].p_t));
	CU_ASSERT_EQUAL(wrk_timer_next(500), 0);
	CU_ASSERT_EQUAL(wrk_timer_run(500), 1);
	CU_ASSERT_EQUAL(wrk_timer_count(), 0);
}

static void
rearm_and_delete(void)
{
	struct probe a, b;

	nfired = 0;
	a.p_id = 1, a.p_rearm = 0;
	b.p_id = 2, b.p_rearm = 0;
	wrk_timer_init(&a.p_t, probe_cb);
	wrk_timer_init(&b.p_t, probe_cb);
	wrk_timer_set(&a.p_t, 100);
	wrk_timer_set(&b.p_t, 200);
	wrk_timer_set(&a.p_t, 300);	/* moved later */
	wrk_timer_del(&b.p_t);
	wrk_timer_del(&b.p_t);		/* harmless twice */
	CU_ASSERT_EQUAL(wrk_timer_count(), 1);
	CU_ASSERT_EQUAL(wrk_timer_run(250), 0);
	CU_ASSERT_EQUAL(wrk_timer_run(300), 1);
	CU_ASSERT_EQUAL(fired[0], 1);
	CU_ASSERT_EQUAL(wrk_timer_count(), 0);
}

static void
callback_may_rearm(void)
{
	struct probe a;

	nfired = 0;
	a.p_id = 7;
	a.p_rearm = 150;
	wrk_timer_init(&a.p_t, probe_cb);
	wrk_timer_set(&a.p_t, 100);
	CU_ASSERT_EQUAL(wrk_timer_run(120), 1);
	CU_ASSERT(wrk_timer_is_armed(&a.p_t));
	CU_ASSERT_EQUAL(wrk_timer_next(120), 30);
	CU_ASSERT_EQUAL(wrk_timer_run(150), 1);
	CU_ASSERT_EQUAL(nfired, 2);
	CU_ASSERT_EQUAL(wrk_timer_count(), 0);
}

/* The earliest armed deadline of p[0, n), by looking at each. */
static uint64_t
earliest(const struct probe *p, int n)
{
	uint64_t m = UINT64_MAX;
	int i;

	for (i = 0; i < n; i++)
		if (wrk_timer_is_armed(&p[i].p_t) && p[i].p_t.t_deadline < m)
			m = p[i].p_t.t_deadline;
	return m;
}

static void
first_kept_through_churn(void)
{
	struct probe p[32];
	uint64_t seed = 12345, m;
	int i, k, step;

	nfired = 0;
	for (i = 0; i < 32; i++) {
		p[i].p_id = i;
		p[i].p_rearm = 0;
		wrk_timer_init(&p[i].p_t, probe_cb);
	}
	for (step = 0; step < 20000; step++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (int)(seed >> 59);		/* 0 .. 31 */
		if ((seed >> 33) % 3 == 0)
			wrk_timer_del(&p[k].p_t);
		else	/* few distinct deadlines: ties and moves both ways */
			wrk_timer_set(&p[k].p_t, 1000 + (seed >> 40) % 50);
		m = earliest(p, 32);
		if (m == UINT64_MAX) {
			CU_ASSERT_EQUAL_FATAL(wrk_timer_next(0), -1);
		} else {
			CU_ASSERT_EQUAL_FATAL(wrk_timer_next(999),
			    (int)(m - 999));
		}
		if (step % 1000 == 999) {	/* fire the earliest ones */
			nfired = 0;
			(void)wrk_timer_run(1010);
			CU_ASSERT_EQUAL_FATAL(earliest(p, 32) > 1010, true);
		}
	}
	for (i = 0; i < 32; i++)
		wrk_timer_del(&p[i].p_t);
	CU_ASSERT_EQUAL(wrk_timer_count(), 0);
	CU_ASSERT_EQUAL(wrk_timer_next(0), -1);
}

static CU_TestInfo tests[] = {
	{ "fire_in_deadline_order", fire_in_deadline_order },
	{ "rearm_and_delete", rearm_and_delete },
	{ "callback_may_rearm", callback_may_rearm },
	{ "first_kept_through_churn", first_kept_through_churn },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/timer", tests)
