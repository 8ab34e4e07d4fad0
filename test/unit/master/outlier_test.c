/*
 * Unit tests for outlier detection: the workers' side in shared/shm.c
 * (shm_outlier_report's consecutive counters and request bits) and the
 * master's decisions in master/outlier.c (ejection within
 * max_ejection_percent, enforcement, ejection time growth, the interval
 * sweep, unejection on a passing health check, host list changes), driven
 * with explicit times over a fresh shm segment; no timers fire.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "master/mst.h"
#include "master/place.h"
#include "master/outlier.h"
#include "master/stats.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

/* every cluster at its own records, as at start */
static struct cd_place place;

static const char od_yaml[] =
    HCM_HEAD
    "              - match: { prefix: \"/\" }\n"
    "                route: { cluster: svc }\n"
    "  clusters:\n"
    "  - name: svc\n"
    "    type: STATIC\n"
    "    connect_timeout: 1s\n"
    "    load_assignment:\n"
    "      cluster_name: svc\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: 127.0.0.1, port_value: 9001 }\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: 127.0.0.1, port_value: 9002 }\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: 127.0.0.1, port_value: 9003 }\n"
    "    outlier_detection:\n"
    "      consecutive_5xx: 3\n"
    "      consecutive_gateway_failure: 2\n"
    "      interval: 1s\n"
    "      base_ejection_time: 1s\n"
    "      max_ejection_time: 3s\n"
    "      max_ejection_percent: 34\n"
    "  - name: plain\n"
    "    type: STATIC\n"
    "    connect_timeout: 1s\n"
    "    load_assignment:\n"
    "      cluster_name: plain\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: 127.0.0.1, port_value: 9004 }\n";

static struct mst saved;
static int saved_level;
static struct cd_conf *oconf;

static void
host_at(struct shm_host *h, uint16_t port, uint32_t id)
{
	memset(h, 0, sizeof(*h));
	h->sh_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", h->sh_addr);
	h->sh_port = port;
	h->sh_weight = 1;
	h->sh_id = id;
}

/* A fresh segment with svc's three hosts (ids 1..3), detector started. */
static void
fixture(void)
{
	struct conf_diags d;
	struct shm_host h[3];
	uint32_t i;

	saved = mst;
	saved_level = log_level;
	log_level = LOG_L_WARN;		/* every ejection logs at info */
	memset(&d, 0, sizeof(d));
	oconf = conf_load_buf("od.yaml", od_yaml, strlen(od_yaml), &d);
	conf_diags_free(&d);
	CU_ASSERT_FATAL(oconf != NULL);
	CU_ASSERT_FATAL(oconf->c_clusters[0].cl_outlier.od_set);
	mst.m_conf = oconf;
	unit_place(&place);
	mst.m_place = &place;
	CU_ASSERT_FATAL((mst.m_shm = unit_shm()) != NULL);
	for (i = 0; i < 3; i++)
		host_at(&h[i], (uint16_t)(9001 + i), i + 1);
	shm_hosts_publish(shm_cl(mst.m_shm, 0), h, 3);
	CU_ASSERT_FATAL(mst_outlier_start() == 0);
}

static void
teardown(void)
{
	mst_outlier_stop();
	shm_destroy(mst.m_shm);
	conf_free(oconf);
	oconf = NULL;
	mst = saved;
	log_level = saved_level;
}

static uint32_t
flags(int ci, uint32_t i)
{
	return atomic_load(&shm_cl_hosts(shm_cl(mst.m_shm, ci))[i].sh_flags);
}

static uint64_t
ctr(int ci, int id)
{
	return atomic_load(
	    &shm_slot(mst.m_shm, UNIT_MASTER_SLOT)->w_cl[ci].cc_c[id]);
}

static void
report(uint32_t host, int status, int times)
{
	int k;

	for (k = 0; k < times; k++)
		shm_outlier_report(shm_cl(mst.m_shm, 0), host, status);
}

/* ---- pure decisions ---- */

static void
max_ejection_percent_as_envoy(void)
{
	/* the default 10 %: fewer than 10 hosts never eject */
	CU_ASSERT(!mst_outlier_should_eject(0, 1, 10, false));
	CU_ASSERT(!mst_outlier_should_eject(0, 9, 10, false));
	CU_ASSERT(mst_outlier_should_eject(0, 10, 10, false));
	CU_ASSERT(!mst_outlier_should_eject(1, 10, 10, false));
	/* (active + 1) / n within the percentage */
	CU_ASSERT(mst_outlier_should_eject(0, 2, 50, false));
	CU_ASSERT(!mst_outlier_should_eject(1, 2, 50, false));
	CU_ASSERT(mst_outlier_should_eject(1, 2, 100, false));
	CU_ASSERT(mst_outlier_should_eject(0, 1, 100, false));
	CU_ASSERT(mst_outlier_should_eject(1, 2, 250, false));	/* clamped */
	/* always_eject_one_host: one, whatever the percentage */
	CU_ASSERT(mst_outlier_should_eject(0, 1, 10, true));
	CU_ASSERT(!mst_outlier_should_eject(1, 3, 10, true));
	CU_ASSERT(!mst_outlier_should_eject(0, 0, 100, true));
}

static void
ejection_time_grows_to_max(void)
{
	static const uint64_t want[] = { 30000, 60000, 90000, 120000, 150000,
	    180000, 210000, 240000, 270000, 300000, 300000, 300000 };
	uint64_t base, max;
	uint32_t b = 0, last = 0;
	size_t k;
	struct cd_outlier od;

	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		b = mst_outlier_backoff_next(b, 30000, 300000);
		CU_ASSERT_EQUAL(mst_outlier_ejection_ms(b, 30000, 300000),
		    want[k]);
		last = b;
	}
	/* the multiplier stops growing once past max + base */
	CU_ASSERT_EQUAL(last, 11);
	CU_ASSERT_EQUAL(mst_outlier_backoff_next(last, 30000, 300000), 11);

	memset(&od, 0, sizeof(od));
	od.od_base_ejection_time = 400 * CD_NS_PER_S;
	od.od_max_ejection_time = 300 * CD_NS_PER_S;
	mst_outlier_times_ms(&od, &base, &max);
	CU_ASSERT_EQUAL(base, 400000);
	CU_ASSERT_EQUAL(max, 400000);	/* never below base */
}

/* ---- worker side ---- */

static void
report_counts_consecutive_errors(void)
{
	struct shm_outlier_host *oh;

	fixture();
	oh = &shm_cl_od(shm_cl(mst.m_shm, 0))[0];
	CU_ASSERT_EQUAL(shm_cl(mst.m_shm, 0)->sc_od_enabled, 1);
	CU_ASSERT_EQUAL(shm_cl(mst.m_shm, 0)->sc_od_5xx, 3);
	CU_ASSERT_EQUAL(shm_cl(mst.m_shm, 0)->sc_od_gateway, 2);
	CU_ASSERT_EQUAL(shm_cl(mst.m_shm, 1)->sc_od_enabled, 0);

	report(0, 500, 2);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_5xx), 2);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_req), 0);
	report(0, 200, 1);	/* a success zeroes both */
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_5xx), 0);
	report(0, 500, 3);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_req), SHM_OD_REQ_5XX);
	/* past the threshold nothing fires again */
	atomic_store(&oh->oh_req, 0);
	report(0, 500, 5);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_req), 0);
	report(0, 404, 1);	/* a 4xx is a success here */
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_5xx), 0);

	/* connect failure (0) counts as 503: gateway and 5xx */
	report(0, 0, 1);
	report(0, 502, 1);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_gateway), 2);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_req), SHM_OD_REQ_GATEWAY);
	/* a 500 is no gateway failure: that count starts again */
	report(0, 500, 1);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_gateway), 0);
	CU_ASSERT_EQUAL(atomic_load(&oh->oh_req),
	    SHM_OD_REQ_GATEWAY | SHM_OD_REQ_5XX);

	/* no outlier_detection: nothing is counted */
	shm_outlier_report(shm_cl(mst.m_shm, 1), 0, 500);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_od(shm_cl(mst.m_shm, 1))[0].
	    oh_5xx), 0);
	/* an index out of range is ignored */
	shm_outlier_report(shm_cl(mst.m_shm, 0), UNIT_NHOSTS, 500);
	teardown();
}

/* ---- master side ---- */

static void
consecutive_5xx_ejects_then_sweep_returns_host(void)
{
	fixture();
	report(1, 503, 3);	/* gateway (2) and 5xx (3) both reached */
	mst_outlier_poll(1000);
	/* gateway enforcement defaults to 0 %: detected only */
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_DETECTED_GATEWAY), 1);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_GATEWAY), 0);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_DETECTED_5XX), 1);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_5XX), 1);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_TOTAL), 1);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	CU_ASSERT_EQUAL(flags(0, 0), 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_od(shm_cl(mst.m_shm, 0))[1].
	    oh_5xx), 0);
	/* nothing new: polling again changes nothing */
	mst_outlier_poll(1100);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_TOTAL), 1);

	/* base_ejection_time 1 s x 1 */
	mst_outlier_sweep(0, 1999);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_sweep(0, 2000);
	CU_ASSERT_EQUAL(flags(0, 1), 0);

	/* ejected again: 2 s this time */
	report(1, 500, 3);
	mst_outlier_poll(2500);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_sweep(0, 4499);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_sweep(0, 4500);
	CU_ASSERT_EQUAL(flags(0, 1), 0);
	/* each interval in service takes one step off the multiplier (2):
	 * after two, the next ejection lasts 1 s again */
	mst_outlier_sweep(0, 5500);
	mst_outlier_sweep(0, 6500);
	report(1, 500, 3);
	mst_outlier_poll(7000);
	mst_outlier_sweep(0, 7999);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_sweep(0, 8000);
	CU_ASSERT_EQUAL(flags(0, 1), 0);
	/* back in service for less than an interval: no step back, the
	 * multiplier (1) grows to 2 */
	mst_outlier_sweep(0, 8500);
	report(1, 500, 3);
	mst_outlier_poll(8600);
	mst_outlier_sweep(0, 10599);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_sweep(0, 10600);
	CU_ASSERT_EQUAL(flags(0, 1), 0);
	teardown();
}

static void
max_percent_overflow_and_gateway_enforcement(void)
{
	struct mst_stats_src src;
	struct mst_stat_list sl;
	size_t k;
	int found = 0;

	fixture();
	report(0, 500, 3);
	mst_outlier_poll(1000);
	CU_ASSERT_EQUAL(flags(0, 0), SHM_HF_FAILED_OUTLIER_CHECK);
	/* 2 of 3 would be 67 % > 34 %: overflow, not ejected */
	report(2, 500, 3);
	mst_outlier_poll(1100);
	CU_ASSERT_EQUAL(flags(0, 2), 0);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_OVERFLOW), 1);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_TOTAL), 1);
	/* the counter was reset: a new run of 3 is needed to try again */
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_od(shm_cl(mst.m_shm, 0))[2].
	    oh_5xx), 0);

	/* ejections_active is read from the flags */
	memset(&src, 0, sizeof(src));
	memset(&src, 0, sizeof(src));
	src.ss_conf = oconf;
	src.ss_place = mst.m_place;
	src.ss_shm = mst.m_shm;
	memset(&sl, 0, sizeof(sl));
	CU_ASSERT_FATAL(mst_stats_collect(&src, &sl) == 0);
	for (k = 0; k < sl.sl_n; k++)
		if (strcmp(sl.sl_v[k].st_name,
		    "cluster.svc.outlier_detection.ejections_active") == 0) {
			CU_ASSERT_EQUAL(sl.sl_v[k].st_value, 1);
			found = 1;
		} else
			CU_ASSERT(strstr(sl.sl_v[k].st_name,
			    "plain.outlier_detection") == NULL);
	CU_ASSERT(found);
	mst_stats_list_free(&sl);

	/* enforcing_consecutive_gateway_failure 100: gateway ejects too */
	mst_outlier_sweep(0, 2000);
	CU_ASSERT_EQUAL(flags(0, 0), 0);
	oconf->c_clusters[0].cl_outlier.od_enforcing_consecutive_gateway_failure
	    = 100;
	report(2, 504, 2);
	mst_outlier_poll(2100);
	CU_ASSERT_EQUAL(flags(0, 2), SHM_HF_FAILED_OUTLIER_CHECK);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_GATEWAY), 1);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_TOTAL), 2);
	teardown();
}

static void
enforcing_zero_detects_without_ejecting(void)
{
	fixture();
	oconf->c_clusters[0].cl_outlier.od_enforcing_consecutive_5xx = 0;
	report(0, 500, 3);
	mst_outlier_poll(1000);
	CU_ASSERT_EQUAL(flags(0, 0), 0);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_DETECTED_5XX), 1);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_ENFORCED_TOTAL), 0);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_OVERFLOW), 0);
	/* counted again after a new run */
	report(0, 500, 3);
	mst_outlier_poll(1100);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_DETECTED_5XX), 2);
	teardown();
}

static void
passing_health_check_unejects(void)
{
	fixture();
	report(0, 500, 3);
	mst_outlier_poll(1000);
	CU_ASSERT_EQUAL(flags(0, 0), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_hc_success(0, 1);	/* another host: nothing */
	CU_ASSERT_EQUAL(flags(0, 0), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_hc_success(0, 0);
	CU_ASSERT_EQUAL(flags(0, 0), 0);
	/* and the slot is free for another ejection */
	report(2, 500, 3);
	mst_outlier_poll(1100);
	CU_ASSERT_EQUAL(flags(0, 2), SHM_HF_FAILED_OUTLIER_CHECK);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_OVERFLOW), 0);
	mst_outlier_hc_success(1, 0);	/* no detector on that cluster */
	teardown();
}

static void
host_list_change_moves_state_with_the_host(void)
{
	struct shm_host h[3];
	struct shm_cluster *sc;

	fixture();
	sc = shm_cl(mst.m_shm, 0);
	report(2, 500, 3);
	mst_outlier_poll(1000);
	CU_ASSERT_EQUAL(flags(0, 2), SHM_HF_FAILED_OUTLIER_CHECK);
	report(1, 500, 2);	/* one short of the threshold */

	/* host 1 (id 1) leaves; id 3 (ejected) moves to 0, id 2 to 1; a new
	 * host id 4 comes at 2.  dns.c carries sh_flags along. */
	host_at(&h[0], 9003, 3);
	atomic_store(&h[0].sh_flags, SHM_HF_FAILED_OUTLIER_CHECK);
	host_at(&h[1], 9002, 2);
	host_at(&h[2], 9005, 4);
	shm_hosts_publish(sc, h, 3);
	mst_outlier_hosts_changed(0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_od(sc)[1].oh_5xx), 2);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_od(sc)[2].oh_5xx), 0);
	/* the ejection lasts as it would have */
	mst_outlier_sweep(0, 1999);
	CU_ASSERT_EQUAL(flags(0, 0), SHM_HF_FAILED_OUTLIER_CHECK);
	mst_outlier_sweep(0, 2000);
	CU_ASSERT_EQUAL(flags(0, 0), 0);
	/* the moved counter reaches the threshold at its new index */
	report(1, 500, 1);
	mst_outlier_poll(2100);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);

	/* the ejected host leaves: the active count drops with it, so
	 * with 50 % one of the two hosts left may go */
	oconf->c_clusters[0].cl_outlier.od_max_ejection_percent = 50;
	host_at(&h[0], 9003, 3);
	host_at(&h[1], 9005, 4);
	shm_hosts_publish(sc, h, 2);
	mst_outlier_hosts_changed(0);
	report(1, 500, 3);
	mst_outlier_poll(2200);
	CU_ASSERT_EQUAL(flags(0, 1), SHM_HF_FAILED_OUTLIER_CHECK);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_OVERFLOW), 0);
	report(0, 500, 3);
	mst_outlier_poll(2300);
	CU_ASSERT_EQUAL(flags(0, 0), 0);
	CU_ASSERT_EQUAL(ctr(0, CC_OD_EJECTIONS_OVERFLOW), 1);
	teardown();
}

static CU_TestInfo tests[] = {
	{ "max_ejection_percent_as_envoy", max_ejection_percent_as_envoy },
	{ "ejection_time_grows_to_max", ejection_time_grows_to_max },
	{ "report_counts_consecutive_errors",
	    report_counts_consecutive_errors },
	{ "consecutive_5xx_ejects_then_sweep_returns_host",
	    consecutive_5xx_ejects_then_sweep_returns_host },
	{ "max_percent_overflow_and_gateway_enforcement",
	    max_percent_overflow_and_gateway_enforcement },
	{ "enforcing_zero_detects_without_ejecting",
	    enforcing_zero_detects_without_ejecting },
	{ "passing_health_check_unejects", passing_health_check_unejects },
	{ "host_list_change_moves_state_with_the_host",
	    host_list_change_moves_state_with_the_host },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("master/outlier", tests);
