/*
 * Unit tests for a route's runtime_fraction in worker routing
 * (worker/router.c): the route matches only when the request view's
 * fraction check says so, the check is asked only of routes whose path,
 * headers and query match, and a route with a fraction never matches
 * without a check.  Routes are built by hand, as the loader leaves them.
 */
#include <stdbool.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf-t.h"
#include "test/unit/unit.h"
#include "worker/router.h"

/* The check: says yes for fractions whose numerator is at least *arg,
 * and counts the questions. */
static int asked;

static bool
check(const struct cd_fraction *rf, void *arg)
{
	asked++;
	return rf->rf_numerator >= *(const unsigned *)arg;
}

static void
fraction_decides_between_routes(void)
{
	static char scratch[256];
	struct cd_route rt[3];
	struct cd_vhost vh;
	struct wrk_rq_view rv;
	unsigned want;

	memset(rt, 0, sizeof(rt));
	memset(&vh, 0, sizeof(vh));
	/* /a with 50 %, /a with 90 %, then everything */
	rt[0].rt_match.rm_kind = CD_PM_PREFIX;
	rt[0].rt_match.rm_value = "/a";
	rt[0].rt_match.rm_len = 2;
	rt[0].rt_match.rm_fraction.rf_set = true;
	rt[0].rt_match.rm_fraction.rf_numerator = 50;
	rt[0].rt_match.rm_fraction.rf_denominator = 100;
	rt[1] = rt[0];
	rt[1].rt_match.rm_fraction.rf_numerator = 90;
	rt[2].rt_match.rm_kind = CD_PM_PREFIX;
	rt[2].rt_match.rm_value = "/";
	rt[2].rt_match.rm_len = 1;
	vh.vh_routes = rt;
	vh.vh_nroutes = 3;
	memset(&rv, 0, sizeof(rv));
	rv.rv_base = "";
	rv.rv_scratch = scratch;
	rv.rv_scratch_len = sizeof(scratch);
	rv.rv_fraction = check;
	rv.rv_fraction_arg = &want;

	rv.rv_path = "/a/b";
	rv.rv_path_len = 4;
	want = 10;
	CU_ASSERT_PTR_EQUAL(wrk_router_route(&vh, &rv), &rt[0]);
	want = 60;
	CU_ASSERT_PTR_EQUAL(wrk_router_route(&vh, &rv), &rt[1]);
	want = 95;
	asked = 0;
	CU_ASSERT_PTR_EQUAL(wrk_router_route(&vh, &rv), &rt[2]);
	CU_ASSERT_EQUAL(asked, 2);
	/* a path that does not match is not asked about */
	rv.rv_path = "/b";
	rv.rv_path_len = 2;
	asked = 0;
	CU_ASSERT_PTR_EQUAL(wrk_router_route(&vh, &rv), &rt[2]);
	CU_ASSERT_EQUAL(asked, 0);
	/* no check: a route with a fraction never matches */
	rv.rv_path = "/a";
	rv.rv_fraction = NULL;
	CU_ASSERT_PTR_EQUAL(wrk_router_route(&vh, &rv), &rt[2]);
}

static CU_TestInfo tests[] = {
	{ "fraction_decides_between_routes", fraction_decides_between_routes },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/router_fraction", tests)
