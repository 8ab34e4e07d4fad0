/*
 * Unit tests for master/rollout.c: the rollout state machine (steps to
 * promotion, a breach rolling back, no judgement below min_requests, the
 * operator's actions, the p99 floor, the start step from the file's
 * weights), the /canary renderings, and the engine's memory: rebuilt in
 * place on a reload of the same routes, and not in a forked child.
 * Traffic is written by hand into a
 * fresh shm segment (the master's slot, which every sum includes) and the
 * engine is ticked with explicit times: no timer fires, nothing sleeps.
 *
 * The rollout block is set on the loaded route by hand, so these tests do
 * not depend on the YAML parsing of it (test/unit/shared covers that).
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/hist.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "master/canary.h"
#include "master/mst.h"
#include "master/place.h"
#include "master/rollout.h"
#include "master/stats.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

#define S(x)	((int64_t)(x) * CD_NS_PER_S)
#define MS(x)	((int64_t)(x) * CD_NS_PER_MS)

static const char ro_yaml_head[] =
    HCM_HEAD
    "              - match: { prefix: \"/\" }\n"
    "                name: web\n"
    "                route:\n"
    "                  weighted_clusters:\n"
    "                    clusters:\n";

static const char ro_yaml_tail[] =
    "  clusters:\n"
    "  - name: v1\n"
    "    type: STATIC\n"
    "    connect_timeout: 1s\n"
    "    load_assignment:\n"
    "      cluster_name: v1\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: 127.0.0.1, port_value: 9001 }\n"
    "  - name: v2\n"
    "    type: STATIC\n"
    "    connect_timeout: 1s\n"
    "    load_assignment:\n"
    "      cluster_name: v2\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: 127.0.0.1, port_value: 9002 }\n";

static struct cd_conf *conf;
static struct cd_place place;
static struct shm *shm;
static struct mst_ro ro;
static int saved_level;

/* v1 and v2 with the file weights w1 and w2; returns the route. */
static struct cd_route *
setup(unsigned w1, unsigned w2)
{
	struct conf_diags d;
	struct buf y;
	struct cd_route *rt;
	uint32_t w[2];

	saved_level = log_level;
	log_level = LOG_L_OFF;
	buf_init(&y);
	buf_puts(&y, ro_yaml_head);
	buf_printf(&y, "                    - name: v1\n"
	    "                      weight: %u\n"
	    "                    - name: v2\n"
	    "                      weight: %u\n", w1, w2);
	buf_puts(&y, ro_yaml_tail);
	memset(&d, 0, sizeof(d));
	conf = conf_load_buf("rollout.yaml", y.b_data, y.b_len, &d);
	conf_diags_free(&d);
	buf_free(&y);
	CU_ASSERT_FATAL(conf != NULL);
	CU_ASSERT_FATAL((shm = unit_shm()) != NULL);
	unit_place(&place);
	rt = &conf->c_listener->l_vhosts[0].vh_routes[0];
	CU_ASSERT_FATAL(rt->rt_action == CD_RA_WEIGHTED);
	w[0] = w1;
	w[1] = w2;
	shm_split_publish(shm_sp(shm, place.pl_split[rt->rt_wi]), w, 2, 1);
	return rt;
}

/* steps [10, 50, 100], interval 1 s, window 2 s, 10 requests, 0.05, 1.5 */
static void
set_rollout(struct cd_route *rt)
{
	struct cd_rollout *c = &rt->rt_rollout;

	memset(c, 0, sizeof(*c));
	c->ro_set = true;
	c->ro_canary = 1;
	c->ro_stable = 0;
	c->ro_steps[0] = 10;
	c->ro_steps[1] = 50;
	c->ro_steps[2] = 100;
	c->ro_nsteps = 3;
	c->ro_step_interval = S(1);
	c->ro_window = S(2);
	c->ro_min_requests = 10;
	c->ro_max_error_rate_delta = 0.05;
	c->ro_max_p99_ratio = 1.5;
}

static void
teardown(void)
{
	mst_rollout_free(&ro);
	shm_destroy(shm);
	shm = NULL;
	conf_free(conf);
	conf = NULL;
	log_level = saved_level;
}

/* ok responses and bad (503) ones on cluster ci (conf index), each ok
 * one taking us microseconds upstream. */
static void
traffic(int ci, uint64_t ok, uint64_t bad, uint64_t us)
{
	struct shm_worker *w = shm_slot(shm, UNIT_MASTER_SLOT);
	struct shm_cluster_ctr *cc = &w->w_cl[place.pl_cluster[ci]];
	uint64_t i;

	for (i = 0; i < ok; i++) {
		shm_code_add(&cc->cc_code, 200);
		hist_record(shm, w, cc, us);
	}
	for (i = 0; i < bad; i++)
		shm_code_add(&cc->cc_code, 503);
}

static void
weights(const struct cd_route *rt, uint32_t *w1, uint32_t *w2)
{
	uint32_t w[UNIT_NWEIGHTS], seq;

	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm,
	    place.pl_split[rt->rt_wi]), w, UNIT_NWEIGHTS, &seq), 2);
	*w1 = w[0];
	*w2 = w[1];
}

static void
promote_path_steps_then_promoted(void)
{
	struct cd_route *rt = setup(90, 10);
	struct mst_ro_route *rr;
	uint32_t w1, w2;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(100),
	    NULL) == 0);
	CU_ASSERT_FATAL((rr = mst_rollout_find(&ro, "web")) != NULL);
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(rr->rr_step, 0);	/* the file is at 10 % */

	/* healthy, but the step interval is not over yet */
	traffic(0, 90, 0, 1000);
	traffic(1, 10, 0, 1000);
	mst_rollout_tick(&ro, S(100) + MS(500));
	CU_ASSERT_EQUAL(rr->rr_step, 0);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 90 && w2 == 10);
	CU_ASSERT(strstr(rr->rr_reason, "next step in") != NULL);

	traffic(0, 50, 0, 1000);
	traffic(1, 50, 0, 1000);
	mst_rollout_tick(&ro, S(101));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(rr->rr_step, 1);
	weights(rt, &w1, &w2);
	CU_ASSERT_EQUAL(w1, 50);
	CU_ASSERT_EQUAL(w2, 50);

	traffic(0, 50, 0, 1000);
	traffic(1, 50, 0, 1000);
	mst_rollout_tick(&ro, S(102));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROMOTED);
	CU_ASSERT_EQUAL(rr->rr_step, 2);
	CU_ASSERT_EQUAL(rr->rr_promotions, 1);
	weights(rt, &w1, &w2);
	CU_ASSERT_EQUAL(w1, 0);
	CU_ASSERT_EQUAL(w2, 100);

	/* promoted is final: more ticks change nothing */
	traffic(1, 0, 100, 1000);
	mst_rollout_tick(&ro, S(104));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROMOTED);
	teardown();
}

static void
breach_rolls_back_with_the_numbers(void)
{
	struct cd_route *rt = setup(50, 50);
	struct mst_ro_route *rr;
	uint32_t w1, w2;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(10),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	CU_ASSERT_EQUAL(rr->rr_step, 1);	/* 50 % */
	/* canary fails 30 % */
	traffic(0, 100, 0, 1000);
	traffic(1, 70, 30, 1000);
	mst_rollout_tick(&ro, S(10) + MS(300));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_ROLLED_BACK);
	CU_ASSERT_EQUAL(rr->rr_rollbacks, 1);
	weights(rt, &w1, &w2);
	CU_ASSERT_EQUAL(w1, 100);
	CU_ASSERT_EQUAL(w2, 0);
	CU_ASSERT(strstr(rr->rr_reason, "0.3000 (30/100)") != NULL);
	CU_ASSERT(strstr(rr->rr_reason, "max_error_rate_delta 0.05") != NULL);

	/* it stays there: healthy traffic does not bring it back */
	traffic(0, 100, 0, 1000);
	mst_rollout_tick(&ro, S(20));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_ROLLED_BACK);
	weights(rt, &w1, &w2);
	CU_ASSERT_EQUAL(w2, 0);
	teardown();
}

static void
latency_breach_rolls_back(void)
{
	struct cd_route *rt = setup(50, 50);
	struct mst_ro_route *rr;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(10),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	traffic(0, 100, 0, 20000);	/* 20 ms */
	traffic(1, 100, 0, 80000);	/* 80 ms: ratio 4 */
	mst_rollout_tick(&ro, S(11));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_ROLLED_BACK);
	CU_ASSERT(strstr(rr->rr_reason, "max_p99_ratio 1.5") != NULL);
	teardown();
}

static void
retried_and_fallen_back_attempts_count_as_failures(void)
{
	struct cd_route *rt = setup(50, 50);
	struct shm_cluster_ctr *cc;
	struct mst_ro_route *rr;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(10),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	/* clients see only successes: the canary's failures were retried
	 * (20) or went to the fallback (10) */
	traffic(0, 100, 0, 1000);
	traffic(1, 100, 0, 1000);
	cc = &shm_slot(shm, UNIT_MASTER_SLOT)->w_cl[place.pl_cluster[1]];
	shm_add(&cc->cc_c[CC_RQ_RETRY], 20);
	shm_add(&cc->cc_c[CC_CANARY_FALLBACK], 10);
	mst_rollout_tick(&ro, S(10) + MS(100));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_ROLLED_BACK);
	CU_ASSERT(strstr(rr->rr_reason, "canary 0.2308 (30/130)") != NULL);
	teardown();
}

static void
no_judgement_below_min_requests(void)
{
	struct cd_route *rt = setup(90, 10);
	struct mst_ro_route *rr;
	uint32_t w1, w2;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(10),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	/* every canary request fails, but 9 < min_requests */
	traffic(0, 500, 0, 1000);
	traffic(1, 0, 9, 1000);
	mst_rollout_tick(&ro, S(15));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(rr->rr_step, 0);	/* no step either */
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 90 && w2 == 10);
	CU_ASSERT(strstr(rr->rr_reason, "waiting for the sample: canary 9 "
	    "and stable 500") != NULL);
	/* the tenth one completes the sample: now it is judged */
	traffic(1, 0, 1, 1000);
	mst_rollout_tick(&ro, S(15) + MS(100));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_ROLLED_BACK);
	teardown();
}

static void
window_forgets_old_errors(void)
{
	struct cd_route *rt = setup(90, 10);
	struct mst_ro_route *rr;
	int t;

	set_rollout(rt);
	rt->rt_rollout.ro_step_interval = S(100);
	rt->rt_rollout.ro_min_requests = 50;
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(0),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	/* 40 canary errors while stable has no sample; stable traffic
	 * starts at 3 s: by the time the sample is met, the window (2 s)
	 * no longer holds the errors */
	traffic(1, 0, 40, 1000);
	for (t = 1; t <= 5; t++) {
		traffic(1, 30, 0, 1000);
		if (t >= 3)
			traffic(0, 30, 0, 1000);
		mst_rollout_tick(&ro, S(t));
		CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);
		if (t == 2)
			CU_ASSERT(strstr(rr->rr_reason, "waiting for the "
			    "sample: canary 100 and stable 0") != NULL);
	}
	CU_ASSERT(strstr(rr->rr_reason, "healthy: 5xx rate canary 0.0000 "
	    "stable 0.0000") != NULL);
	teardown();
}

static void
operator_actions(void)
{
	struct cd_route *rt = setup(90, 10);
	struct mst_ro_route *rr;
	struct buf why;
	uint32_t w1, w2;

	set_rollout(rt);
	buf_init(&why);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(10),
	    NULL) == 0);
	rr = &ro.ro_routes[0];

	/* pause holds the weights, whatever the traffic says */
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_PAUSE, S(10), &why),
	    0);
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PAUSED);
	traffic(0, 100, 0, 1000);
	traffic(1, 0, 100, 1000);
	mst_rollout_tick(&ro, S(20));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PAUSED);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 90 && w2 == 10);
	/* pause twice does not apply */
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_PAUSE, S(20), &why),
	    -1);
	CU_ASSERT(strstr(why.b_data, "is paused") != NULL);

	/* rollback now */
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_ROLLBACK, S(21),
	    &why), 0);
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_ROLLED_BACK);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 100 && w2 == 0);

	/* resume after a rollback: the first step, judged on new traffic
	 * only (the 100 failures before are not held against it) */
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_RESUME, S(22),
	    &why), 0);
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(rr->rr_step, 0);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 90 && w2 == 10);
	traffic(0, 90, 0, 1000);
	traffic(1, 10, 0, 1000);
	mst_rollout_tick(&ro, S(22) + MS(500));
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);

	/* promote now */
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_PROMOTE, S(23),
	    &why), 0);
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROMOTED);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 0 && w2 == 100);
	buf_reset(&why);
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_RESUME, S(24),
	    &why), -1);
	CU_ASSERT(strstr(why.b_data, "is promoted") != NULL);

	/* paused -> resume continues at the current step */
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_ROLLBACK, S(25),
	    &why), 0);
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_RESUME, S(26),
	    &why), 0);
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_PAUSE, S(26),
	    &why), 0);
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_RESUME, S(27),
	    &why), 0);
	CU_ASSERT_EQUAL(rr->rr_state, MST_RO_PROGRESSING);
	CU_ASSERT_EQUAL(rr->rr_step, 0);
	CU_ASSERT_EQUAL(rr->rr_rollbacks, 2);
	CU_ASSERT_EQUAL(rr->rr_promotions, 1);
	buf_free(&why);
	teardown();
}

static void
route_without_rollout_is_listed_not_driven(void)
{
	struct mst_ro_route *rr;
	struct buf b, why;

	setup(90, 10);
	conf->c_listener->l_vhosts[0].vh_routes[0].rt_name = NULL;
	buf_init(&b);
	buf_init(&why);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(ro.ro_n, 1);
	rr = &ro.ro_routes[0];
	CU_ASSERT_STRING_EQUAL(rr->rr_name, "route_0_0");
	CU_ASSERT_EQUAL(rr->rr_window, MST_ROLLOUT_VIEW_WINDOW);
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, rr, MST_RO_OP_PROMOTE, S(1), &why),
	    -1);
	CU_ASSERT(strstr(why.b_data, "no rollout") != NULL);
	traffic(0, 9, 1, 1000);
	mst_rollout_tick(&ro, S(2));
	CU_ASSERT_EQUAL(mst_canary_json(&b, &ro, S(3), NULL), 0);
	CU_ASSERT(strstr(b.b_data, "\"name\":\"route_0_0\",\"generated_name\":"
	    "true,\"listener\":\"listener_0\",\"weights\":{\"v1\":90,"
	    "\"v2\":10}") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"rollout\":null") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"v1\":{\"requests\":10,\"errors_5xx\":1,"
	    "\"success_rate\":0.9,") != NULL);
	buf_free(&b);
	buf_free(&why);
	teardown();
}

static void
p99_floor_hides_loopback_noise(void)
{
	struct cd_rollout c;
	struct mst_ro_fig cf, sf;
	char why[256];
	int met;

	memset(&c, 0, sizeof(c));
	c.ro_min_requests = 10;
	c.ro_max_error_rate_delta = 0.01;
	c.ro_max_p99_ratio = 1.5;
	memset(&cf, 0, sizeof(cf));
	memset(&sf, 0, sizeof(sf));
	cf.rf_rq = sf.rf_rq = 100;
	cf.rf_err_rate = sf.rf_err_rate = 0;
	/* 0.2 ms against 0.1 ms: twice as slow, but both under the floor */
	cf.rf_p99 = 0.2;
	sf.rf_p99 = 0.1;
	CU_ASSERT_EQUAL(mst_rollout_breach(&c, &cf, &sf, why, sizeof(why),
	    &met), 0);
	CU_ASSERT(met);
	/* 12 ms against 5 ms: 12 / max(5, 10) = 1.2 */
	cf.rf_p99 = 12;
	sf.rf_p99 = 5;
	CU_ASSERT_EQUAL(mst_rollout_breach(&c, &cf, &sf, why, sizeof(why),
	    &met), 0);
	/* 40 ms against 20 ms: 2 > 1.5 */
	cf.rf_p99 = 40;
	sf.rf_p99 = 20;
	CU_ASSERT_EQUAL(mst_rollout_breach(&c, &cf, &sf, why, sizeof(why),
	    &met), 1);
	CU_ASSERT(strstr(why, "p99 canary 40.000 ms / stable 20.000 ms = 2.00")
	    != NULL);
	/* no latency sample at all (only local replies): not a breach */
	cf.rf_p99 = NAN;
	CU_ASSERT_EQUAL(mst_rollout_breach(&c, &cf, &sf, why, sizeof(why),
	    &met), 0);
	/* the error delta must exceed the limit, not equal it */
	cf.rf_p99 = sf.rf_p99 = 1;
	cf.rf_err_rate = 0.25;
	sf.rf_err_rate = 0.25;
	CU_ASSERT_EQUAL(mst_rollout_breach(&c, &cf, &sf, why, sizeof(why),
	    &met), 0);
}

static void
start_step_from_the_file(void)
{
	struct cd_route *rt = setup(70, 30);
	struct mst_ro_route *rr;
	uint32_t w1, w2;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	CU_ASSERT_EQUAL(rr->rr_step, 0);	/* 10 <= 30 < 50 */
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 70 && w2 == 30);	/* the file's, untouched */
	teardown();

	/* canary at 0: before the first step; it has no traffic to judge,
	 * so the first step comes after the interval without a sample */
	rt = setup(100, 0);
	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	CU_ASSERT_EQUAL(rr->rr_step, -1);
	mst_rollout_tick(&ro, S(1) + MS(500));
	CU_ASSERT_EQUAL(rr->rr_step, -1);
	mst_rollout_tick(&ro, S(2));
	CU_ASSERT_EQUAL(rr->rr_step, 0);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 90 && w2 == 10);
	teardown();

	/* a total of 2 holds no 10 %: weights x 100, same split */
	rt = setup(1, 1);
	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	rr = &ro.ro_routes[0];
	CU_ASSERT_EQUAL(rr->rr_step, 1);
	CU_ASSERT_EQUAL(rr->rr_total, 200);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 100 && w2 == 100);
	teardown();

	/* the file already at 100 %: promoted from the start */
	rt = setup(0, 100);
	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	CU_ASSERT_EQUAL(ro.ro_routes[0].rr_state, MST_RO_PROMOTED);
	teardown();
}

/* ro over a 50/50 route with a rollout, rolled back by the operator at
 * 1 s; the route. */
static struct cd_route *
rolled_back(void)
{
	struct cd_route *rt = setup(50, 50);
	struct buf why;

	set_rollout(rt);
	buf_init(&why);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	mst_rollout_op(&ro, &ro.ro_routes[0], MST_RO_OP_ROLLBACK, S(1), &why);
	buf_free(&why);
	return rt;
}

static void
reload_keeps_counters_and_state_of_a_route_by_name(void)
{
	static char changed[] = "{\"name\":\"v2\",\"type\":\"LOGICAL_DNS\"}";
	struct cd_route *rt = rolled_back();
	struct mst_ro next;
	uint32_t w1, w2;

	CU_ASSERT(ro.ro_dirty);
	/* a reload publishes the file's weights before the engine runs */
	shm_split_publish(shm_sp(shm, place.pl_split[rt->rt_wi]),
	    (uint32_t[]){ 50, 50 }, 2, 1);
	CU_ASSERT_FATAL(mst_rollout_init(&next, conf, &place, shm, S(2),
	    &ro) == 0);
	/* the same block and clusters: the decision stands */
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_state, MST_RO_ROLLED_BACK);
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_rollbacks, 1);
	CU_ASSERT_STRING_EQUAL(next.ro_routes[0].rr_origin,
	    "kept across a reload");
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 100 && w2 == 0);
	mst_rollout_free(&next);

	/* another canary cluster definition: a fresh rollout */
	/* (the config's strings live in its arena: point at another) */
	conf->c_json_clusters[1] = changed;
	CU_ASSERT_FATAL(mst_rollout_init(&next, conf, &place, shm, S(3),
	    &ro) == 0);
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_state, MST_RO_PROGRESSING);
	CU_ASSERT(strncmp(next.ro_routes[0].rr_origin, "the configuration",
	    17) == 0);
	mst_rollout_free(&next);
	teardown();
}

/* A reload of the same routes rebuilds the engine over its own memory,
 * to what a new engine from it would be. */
static void
refresh_is_a_reload_over_the_same_memory(void)
{
	struct cd_route *rt = rolled_back();
	struct mst_ro next;
	struct mst_ro_route *before, *a, *b;
	uint32_t w1, w2;

	traffic(1, 20, 0, 1000);
	mst_rollout_tick(&ro, S(4));
	CU_ASSERT(ro.ro_routes[0].rr_ring.jr_len > 1);
	/* what a new engine makes of it, the file's weights in shm */
	shm_split_publish(shm_sp(shm, place.pl_split[rt->rt_wi]),
	    (uint32_t[]){ 50, 50 }, 2, 1);
	CU_ASSERT_FATAL(mst_rollout_init(&next, conf, &place, shm, S(5),
	    &ro) == 0);
	shm_split_publish(shm_sp(shm, place.pl_split[rt->rt_wi]),
	    (uint32_t[]){ 50, 50 }, 2, 1);
	before = ro.ro_routes;
	CU_ASSERT_EQUAL_FATAL(mst_rollout_refresh(&ro, conf, &place, shm,
	    S(5)), 0);
	CU_ASSERT_PTR_EQUAL(ro.ro_routes, before);
	a = &ro.ro_routes[0];
	b = &next.ro_routes[0];
	CU_ASSERT_EQUAL(a->rr_state, MST_RO_ROLLED_BACK);
	CU_ASSERT_EQUAL(a->rr_state, b->rr_state);
	CU_ASSERT_EQUAL(a->rr_step, b->rr_step);
	CU_ASSERT_EQUAL(a->rr_rollbacks, b->rr_rollbacks);
	CU_ASSERT_EQUAL(a->rr_total, b->rr_total);
	CU_ASSERT(a->rr_w[0] == b->rr_w[0] && a->rr_w[1] == b->rr_w[1]);
	CU_ASSERT_STRING_EQUAL(a->rr_origin, "kept across a reload");
	CU_ASSERT_STRING_EQUAL(a->rr_reason, b->rr_reason);
	CU_ASSERT_EQUAL(a->rr_sig, b->rr_sig);
	CU_ASSERT_EQUAL(a->rr_window, b->rr_window);
	/* a window starts again, with one snapshot; no figures yet */
	CU_ASSERT_EQUAL(a->rr_ring.jr_len, 1);
	CU_ASSERT_EQUAL(a->rr_ring.jr_len, b->rr_ring.jr_len);
	CU_ASSERT_EQUAL(a->rr_snap[1].js_rq, b->rr_snap[1].js_rq);
	CU_ASSERT_EQUAL(a->rr_fig[1].rf_rq, 0);
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 100 && w2 == 0);
	mst_rollout_free(&next);
	teardown();
}

/* Other routes (here a name) are a new engine's: refresh leaves ro. */
static void
refresh_refuses_other_routes(void)
{
	static char other[] = "api";
	struct cd_route *rt = setup(90, 10);
	char *name = rt->rt_name;

	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	rt->rt_name = other;	/* the config's strings are its arena's */
	CU_ASSERT_EQUAL(mst_rollout_refresh(&ro, conf, &place, shm, S(2)),
	    -1);
	CU_ASSERT_STRING_EQUAL(ro.ro_routes[0].rr_name, "web");
	rt->rt_name = name;
	CU_ASSERT_EQUAL(mst_rollout_refresh(&ro, conf, &place, shm, S(2)), 0);
	teardown();
}

/* Is the page of p mapped in this process? */
static int
mapped(const void *p)
{
	long pg = sysconf(_SC_PAGESIZE);

	return msync((void *)((uintptr_t)p & ~(uintptr_t)(pg - 1)),
	    (size_t)pg, MS_ASYNC) == 0;
}

/* The engine is the master's alone: a child forked after it (a worker)
 * has the configuration, not the engine's memory. */
static void
engine_memory_is_not_a_childs(void)
{
	struct cd_route *rt = setup(90, 10);
	uint32_t *w;
	int status;
	pid_t pid;

	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	w = ro.ro_routes[0].rr_w;
	CU_ASSERT(mapped(ro.ro_routes) && mapped(w));
	if ((pid = fork()) == 0)
		_exit(mapped(conf) && mapped(rt) && !mapped(ro.ro_routes) &&
		    !mapped(w) ? 0 : 1);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* and the master's stays, written as before */
	ro.ro_routes[0].rr_w[0] = 90;
	CU_ASSERT(mapped(ro.ro_routes));
	teardown();
}

/* A scratch directory for state files, removed by st_rmdir(). */
static void
st_mkdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/canaryd-unit.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

static void
st_rmdir(const char *dir)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/rollout.state", dir);
	unlink(p);
	rmdir(dir);
}

static void
st_put(const char *dir, const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/rollout.state", dir);
	CU_ASSERT_FATAL((fp = fopen(p, "w")) != NULL);
	fputs(text, fp);
	fclose(fp);
}

/* Decisions written, read back and applied to a fresh engine. */
static void
state_file_round_trip_and_restore(void)
{
	struct cd_route *rt = setup(90, 10);
	struct mst_ro_saved *sv;
	struct mst_ro next;
	char dir[64], why[256];
	struct buf b;
	uint32_t w1, w2;
	size_t n;

	set_rollout(rt);
	buf_init(&b);
	st_mkdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL(mst_rollout_state_read(dir, &sv, &n, why,
	    sizeof(why)), 1);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	/* a reason with blanks, a newline and a percent sign survives */
	mst_rollout_op(&ro, &ro.ro_routes[0], MST_RO_OP_ROLLBACK, S(1), &b);
	strlcpy(ro.ro_routes[0].rr_reason, "rolled back: 5% \"off\"\nnext",
	    sizeof(ro.ro_routes[0].rr_reason));
	CU_ASSERT_EQUAL(mst_rollout_state_write(dir, &ro), 0);
	CU_ASSERT_EQUAL_FATAL(mst_rollout_state_read(dir, &sv, &n, why,
	    sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(sv[0].rs_name, "web");
	CU_ASSERT_EQUAL(sv[0].rs_state, MST_RO_ROLLED_BACK);
	CU_ASSERT_EQUAL(sv[0].rs_sig, ro.ro_routes[0].rr_sig);
	CU_ASSERT(sv[0].rs_nw == 2 && sv[0].rs_w[0] == 100 &&
	    sv[0].rs_w[1] == 0);
	CU_ASSERT_STRING_EQUAL(sv[0].rs_reason, "rolled back: 5% \"off\"\nnext");
	CU_ASSERT(sv[0].rs_decided_ms > 0);

	/* a restart: the file's weights in shm, then the saved state */
	shm_split_publish(shm_sp(shm, place.pl_split[rt->rt_wi]),
	    (uint32_t[]){ 90, 10 }, 2, 1);
	CU_ASSERT_FATAL(mst_rollout_init(&next, conf, &place, shm, S(5),
	    NULL) == 0);
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_state, MST_RO_PROGRESSING);
	mst_rollout_restore(&next, sv, n, S(5));
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_state, MST_RO_ROLLED_BACK);
	CU_ASSERT_STRING_EQUAL(next.ro_routes[0].rr_origin,
	    "from the state file");
	weights(rt, &w1, &w2);
	CU_ASSERT(w1 == 100 && w2 == 0);

	/* a saved state of another signature is not taken */
	sv[0].rs_sig ^= 1;
	mst_rollout_free(&next);
	CU_ASSERT_FATAL(mst_rollout_init(&next, conf, &place, shm, S(6),
	    NULL) == 0);
	mst_rollout_restore(&next, sv, n, S(6));
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_state, MST_RO_PROGRESSING);
	mst_rollout_free(&next);
	mst_rollout_saved_free(sv, n);
	st_rmdir(dir);
	buf_free(&b);
	teardown();
}

/* A file that does not read exactly is not used, and says where. */
static void
state_file_refuses_what_does_not_read(void)
{
	static const struct {
		const char	*text;
		const char	*why;
	} bad[] = {
		{ "", "empty" },
		{ "something else\n", ":1: not a canaryd" },
		{ "canaryd-rollout-state 1\nroute web\n", ":2: not a route" },
		{ "canaryd-rollout-state 1\nroute web 00000000000000ff "
		    "sideways 0 1 100,0 x\n", ":2:" },
		{ "canaryd-rollout-state 1\nroute web 00000000000000ff "
		    "paused 99 1 100,0 x\n", ":2:" },
		{ "canaryd-rollout-state 1\nroute web 00000000000000ff "
		    "paused 0 1 100,x x\n", ":2:" },
		{ "canaryd-rollout-state 1\nroute web 00000000000000ff "
		    "paused 0 1 100,0 a%zz\n", ":2:" },
		{ "canaryd-rollout-state 1\nroute web 00000000000000ff "
		    "paused 0 1 100,0 x", ":2: line unterminated" },
	};
	struct mst_ro_saved *sv;
	char dir[64], why[256];
	size_t i, n;

	st_mkdir(dir, sizeof(dir));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st_put(dir, bad[i].text);
		why[0] = '\0';
		CU_ASSERT_EQUAL(mst_rollout_state_read(dir, &sv, &n, why,
		    sizeof(why)), -1);
		CU_ASSERT_PTR_NULL(sv);
		if (strstr(why, bad[i].why) == NULL)
			fprintf(stderr, "\ncase %zu: %s\n", i, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, bad[i].why));
	}
	st_put(dir, "canaryd-rollout-state 1\nroute a%20b 00000000000000ff "
	    "paused -1 1 7 %00\n");
	CU_ASSERT_EQUAL_FATAL(mst_rollout_state_read(dir, &sv, &n, why,
	    sizeof(why)), 0);
	CU_ASSERT(n == 1 && strcmp(sv[0].rs_name, "a b") == 0 &&
	    sv[0].rs_step == -1 && sv[0].rs_reason[0] == '\0');
	mst_rollout_saved_free(sv, n);
	st_rmdir(dir);
}

static void
text_and_json_shapes(void)
{
	struct cd_route *rt = setup(90, 10);
	struct buf b;

	set_rollout(rt);
	buf_init(&b);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	traffic(0, 900, 0, 2000);
	traffic(1, 95, 5, 2000);
	mst_rollout_tick(&ro, S(2));
	CU_ASSERT_EQUAL(mst_canary_json(&b, &ro, S(2), NULL), 0);
	CU_ASSERT(strncmp(b.b_data, "{\"routes\":[{\"name\":\"web\",", 25) == 0);
	/* a delta of exactly max_error_rate_delta is healthy: next step */
	CU_ASSERT(strstr(b.b_data, "\"weights\":{\"v1\":50,\"v2\":50}") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"rollout\":{\"state\":\"progressing\","
	    "\"step\":1,\"step_percent\":50,\"steps\":[10,50,100],\"reason\":")
	    != NULL);
	CU_ASSERT(strstr(b.b_data, "\"v2\":{\"requests\":100,\"errors_5xx\":5,"
	    "\"success_rate\":0.95,") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"deltas\":{\"canary\":\"v2\",\"stable\":"
	    "\"v1\",\"error_rate_delta\":0.05,\"p99_ratio\":1,") != NULL);
	buf_reset(&b);
	CU_ASSERT_EQUAL(mst_canary_text(&b, &ro, S(2)), 0);
	CU_ASSERT(strstr(b.b_data, "route web: window 2s\n"
	    "  rollout: progressing, step 2/3 (50%), canary v2, stable v1\n")
	    != NULL);
	CU_ASSERT(strstr(b.b_data, "  cluster   weight   requests     rq/s "
	    " success    p50_ms    p95_ms    p99_ms\n"
	    "  v1            50        900") != NULL);
	CU_ASSERT(strstr(b.b_data, "  v2 vs v1: 5xx rate delta +0.0500, p99 "
	    "ratio 1.00\n") != NULL);
	buf_free(&b);
	teardown();
}

static void
stats_for_routes_with_a_rollout(void)
{
	struct cd_route *rt = setup(90, 10);
	struct mst_stat_list sl;
	struct buf b, why;

	set_rollout(rt);
	buf_init(&b);
	buf_init(&why);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(1),
	    NULL) == 0);
	mst_rollout_op(&ro, &ro.ro_routes[0], MST_RO_OP_ROLLBACK, S(2), &why);
	memset(&sl, 0, sizeof(sl));
	buf_init(&sl.sl_names);
	CU_ASSERT_EQUAL(mst_rollout_stats(&ro, &sl), 0);
	CU_ASSERT_EQUAL(mst_stats_text(&b, &sl, NULL), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data,
	    "canary.web.rollout.canary_weight: 0\n"
	    "canary.web.rollout.promotions: 0\n"
	    "canary.web.rollout.rollbacks: 1\n"
	    "canary.web.rollout.state: 2\n"
	    "canary.web.rollout.step: 1\n");
	mst_stats_list_free(&sl);
	buf_free(&b);
	buf_free(&why);
	teardown();
}

/* A listener named name on port port whose one route, "web", splits
 * 90/10 between v1 and v2. */
static void
web_listener(struct buf *y, const char *name, int port)
{
	buf_printf(y,
	    "  - name: %s\n"
	    "    address: { socket_address: { address: 127.0.0.1, "
	    "port_value: %d } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: %s\n"
	    "          http_filters: [ { name: envoy.filters.http.router, "
	    "typed_config: { \"@type\": " ROUTER_T " } } ]\n"
	    "          route_config:\n"
	    "            virtual_hosts:\n"
	    "            - name: app\n"
	    "              domains: [\"*\"]\n"
	    "              routes:\n"
	    "              - match: { prefix: \"/\" }\n"
	    "                name: web\n"
	    "                route: { weighted_clusters: { clusters: [ "
	    "{ name: v1, weight: 90 }, { name: v2, weight: 10 } ] } }\n",
	    name, port, name);
}

/* Routes of two listeners called "web": each goes by <listener>/web. */
static void
a_name_in_two_listeners_goes_by_listener(void)
{
	struct conf_diags d;
	struct mst_ro_route *a, *b;
	struct buf y;

	saved_level = log_level;
	log_level = LOG_L_OFF;
	buf_init(&y);
	buf_puts(&y, "static_resources:\n  listeners:\n");
	web_listener(&y, "front", 10000);
	web_listener(&y, "back", 10001);
	buf_puts(&y, ro_yaml_tail);
	memset(&d, 0, sizeof(d));
	conf = conf_load_buf("rollout.yaml", y.b_data, y.b_len, &d);
	conf_diags_print(&d, "rollout.yaml", stderr);
	conf_diags_free(&d);
	buf_free(&y);
	CU_ASSERT_FATAL(conf != NULL);
	CU_ASSERT_FATAL((shm = unit_shm()) != NULL);
	unit_place(&place);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &place, shm, S(10),
	    NULL) == 0);
	CU_ASSERT_EQUAL(ro.ro_n, 2);
	CU_ASSERT_PTR_NULL(mst_rollout_find(&ro, "web"));
	CU_ASSERT_PTR_NULL(mst_rollout_find(&ro, "side/web"));
	CU_ASSERT_FATAL((a = mst_rollout_find(&ro, "front/web")) != NULL);
	CU_ASSERT_FATAL((b = mst_rollout_find(&ro, "back/web")) != NULL);
	CU_ASSERT_PTR_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(a->rr_listener, 0);
	CU_ASSERT_EQUAL(b->rr_listener, 1);
	CU_ASSERT_STRING_EQUAL(mst_rollout_listener(&ro, b), "back");
	CU_ASSERT_NOT_EQUAL(a->rr_split, b->rr_split);
	teardown();
}

/*
 * A split of forty versions (v1 the canary, v0 the stable, 38 more that
 * keep their weights) through the master's own placement: its weights in
 * the record's room, a rollout's steps, the state file and a restore.
 */
static void
forty_variants_roll_out_and_survive_a_restart(void)
{
	struct cd_place pl;
	struct shm_size sz;
	struct mst_ro_saved *sv;
	struct mst_ro next;
	struct cd_route *rt;
	struct conf_diags d;
	uint32_t w[40], seq, bad = 0;
	char dir[64], why[256];
	struct buf y;
	size_t n;
	int i;

	saved_level = log_level;
	log_level = LOG_L_OFF;
	buf_init(&y);
	buf_puts(&y, ro_yaml_head);
	for (i = 0; i < 40; i++)
		buf_printf(&y, "                    - { name: v%d, weight: %d "
		    "}\n", i, i == 0 ? 100 : i == 1 ? 0 : i);
	buf_puts(&y, "  clusters:\n");
	for (i = 0; i < 40; i++)
		buf_printf(&y, "  - name: v%d\n    load_assignment:\n"
		    "      cluster_name: v%d\n      endpoints: [ { lb_endpoints: "
		    "[ { endpoint: { address: { socket_address: { address: "
		    "127.0.0.1, port_value: %d } } } } ] } ]\n", i, i, 9000 + i);
	memset(&d, 0, sizeof(d));
	conf = conf_load_buf("rollout.yaml", y.b_data, y.b_len, &d);
	conf_diags_free(&d);
	buf_free(&y);
	CU_ASSERT_FATAL(conf != NULL);
	mst_place_size(conf, 1, 0, &sz);
	CU_ASSERT_EQUAL(sz.ss_weights, 40 + 256);
	CU_ASSERT_FATAL((shm = shm_create(&sz)) != NULL);
	CU_ASSERT_FATAL(mst_place_first(&pl, conf) == 0);
	mst_place_split_rooms(shm, conf, &pl);
	mst_place_publish_weights(shm, conf, &pl);
	rt = &conf->c_listener->l_vhosts[0].vh_routes[0];
	CU_ASSERT_EQUAL(shm_sp(shm, pl.pl_split[rt->rt_wi])->sp_wcap, 40);
	set_rollout(rt);
	CU_ASSERT_FATAL(mst_rollout_init(&ro, conf, &pl, shm, S(1),
	    NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(ro.ro_routes[0].rr_nwc, 40);
	CU_ASSERT_EQUAL(ro.ro_routes[0].rr_total, 100 + 39 * 40 / 2 - 1);
	/* promoted: the canary takes the pair's weight, the others stay */
	buf_init(&y);
	CU_ASSERT_EQUAL(mst_rollout_op(&ro, &ro.ro_routes[0],
	    MST_RO_OP_PROMOTE, S(2), &y), 0);
	buf_free(&y);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm, pl.pl_split[rt->rt_wi]), w,
	    40, &seq), 40);
	CU_ASSERT(w[0] == 0 && w[1] == 100);
	for (i = 2; i < 40; i++)
		bad += w[i] != (uint32_t)i;
	CU_ASSERT_EQUAL(bad, 0);
	/* the state file keeps all forty, a new engine takes them back */
	st_mkdir(dir, sizeof(dir));
	CU_ASSERT_EQUAL(mst_rollout_state_write(dir, &ro), 0);
	CU_ASSERT_EQUAL_FATAL(mst_rollout_state_read(dir, &sv, &n, why,
	    sizeof(why)), 0);
	CU_ASSERT_FATAL(n == 1 && sv[0].rs_nw == 40);
	CU_ASSERT(sv[0].rs_w[1] == 100 && sv[0].rs_w[39] == 39);
	mst_place_publish_weights(shm, conf, &pl);	/* the file's again */
	CU_ASSERT_FATAL(mst_rollout_init(&next, conf, &pl, shm, S(3),
	    NULL) == 0);
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_w[1], 0);
	mst_rollout_restore(&next, sv, n, S(3));
	CU_ASSERT_EQUAL(next.ro_routes[0].rr_state, MST_RO_PROMOTED);
	CU_ASSERT(next.ro_routes[0].rr_w[1] == 100 &&
	    next.ro_routes[0].rr_w[0] == 0 && next.ro_routes[0].rr_w[39] == 39);
	mst_rollout_saved_free(sv, n);
	mst_rollout_free(&next);
	st_rmdir(dir);
	mst_place_free(&pl);
	teardown();
}

static CU_TestInfo tests[] = {
	{ "forty_variants_roll_out_and_survive_a_restart",
	    forty_variants_roll_out_and_survive_a_restart },
	{ "promote_path_steps_then_promoted",
	    promote_path_steps_then_promoted },
	{ "a_name_in_two_listeners_goes_by_listener",
	    a_name_in_two_listeners_goes_by_listener },
	{ "breach_rolls_back_with_the_numbers",
	    breach_rolls_back_with_the_numbers },
	{ "latency_breach_rolls_back", latency_breach_rolls_back },
	{ "retried_and_fallen_back_attempts_count_as_failures",
	    retried_and_fallen_back_attempts_count_as_failures },
	{ "no_judgement_below_min_requests", no_judgement_below_min_requests },
	{ "window_forgets_old_errors", window_forgets_old_errors },
	{ "operator_actions", operator_actions },
	{ "route_without_rollout_is_listed_not_driven",
	    route_without_rollout_is_listed_not_driven },
	{ "p99_floor_hides_loopback_noise", p99_floor_hides_loopback_noise },
	{ "start_step_from_the_file", start_step_from_the_file },
	{ "reload_keeps_counters_and_state_of_a_route_by_name",
	    reload_keeps_counters_and_state_of_a_route_by_name },
	{ "refresh_is_a_reload_over_the_same_memory",
	    refresh_is_a_reload_over_the_same_memory },
	{ "refresh_refuses_other_routes", refresh_refuses_other_routes },
	{ "engine_memory_is_not_a_childs", engine_memory_is_not_a_childs },
	{ "state_file_round_trip_and_restore",
	    state_file_round_trip_and_restore },
	{ "state_file_refuses_what_does_not_read",
	    state_file_refuses_what_does_not_read },
	{ "text_and_json_shapes", text_and_json_shapes },
	{ "stats_for_routes_with_a_rollout", stats_for_routes_with_a_rollout },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/rollout", tests);
