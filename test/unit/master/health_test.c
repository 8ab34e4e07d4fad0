/*
 * Unit tests for master/health.c's pure parts: Envoy's per-host state
 * machine, the choice of the next interval, expected_statuses, the check
 * request bytes and the response parser; and, without running the event
 * loop (so without a socket), how the checker follows the host list and
 * when it declares itself initialised.  The checks' I/O is covered by
 * test/integration/test_health.py.
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
#include "master/health.h"
#include "master/mst.h"
#include "master/place.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

/* every cluster at its own records, as at start */
static struct cd_place place;

#define SEED	"etc/canary/envoy-canary.yaml"
#define MS	CD_NS_PER_MS

static struct cd_health_check
hc_make(uint32_t unhealthy, uint32_t healthy)
{
	struct cd_health_check hc;

	memset(&hc, 0, sizeof(hc));
	hc.hc_timeout = 1000 * MS;
	hc.hc_interval = 5000 * MS;
	hc.hc_unhealthy_threshold = unhealthy;
	hc.hc_healthy_threshold = healthy;
	hc.hc_no_traffic_interval = CD_DUR_UNSET;
	hc.hc_no_traffic_healthy_interval = CD_DUR_UNSET;
	hc.hc_unhealthy_interval = 5000 * MS;
	hc.hc_unhealthy_edge_interval = 5000 * MS;
	hc.hc_healthy_edge_interval = 5000 * MS;
	hc.hc_reuse_connection = true;
	hc.hc_path = "/health";
	return hc;
}

static uint32_t
rnd_max(uint32_t upper)
{
	return upper - 1;
}

static uint32_t
rnd_zero(uint32_t upper)
{
	(void)upper;
	return 0;
}

/* ---- state machine ---- */

static void
new_host_starts_failed_and_first_success_clears_at_once(void)
{
	struct cd_health_check hc = hc_make(3, 5);
	struct mst_hc_state st;

	mst_hc_state_init(&st);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT(st.hs_first);
	/* healthy_threshold 5 does not apply to the very first result */
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, 0);
	CU_ASSERT(!st.hs_first);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_UNCHANGED);
}

static void
failed_host_needs_healthy_threshold_after_first_check(void)
{
	struct cd_health_check hc = hc_make(3, 3);
	struct mst_hc_state st;

	mst_hc_state_init(&st);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_FAILURE),
	    MST_HC_T_UNCHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_PENDING);
	/* a failure in between starts the count again */
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK),
	    MST_HC_T_UNCHANGED);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, 0);
}

static void
bad_status_fails_healthy_host_at_once(void)
{
	struct cd_health_check hc = hc_make(3, 1);
	struct mst_hc_state st;

	mst_hc_state_init(&st);
	mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_FAILURE),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	/* healthy_threshold 1: one success brings it back */
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, 0);
}

static void
network_failures_count_to_unhealthy_threshold(void)
{
	struct cd_health_check hc = hc_make(3, 1);
	struct mst_hc_state st;

	mst_hc_state_init(&st);
	mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_TIMEOUT),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(st.hs_flags, 0);	/* no timeout flag: healthy */
	/* a success resets the count */
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_UNCHANGED);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(st.hs_flags, 0);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK),
	    MST_HC_T_UNCHANGED);
}

static void
timeout_flag_follows_the_last_failure_of_a_failed_host(void)
{
	struct cd_health_check hc = hc_make(2, 2);
	struct mst_hc_state st;

	mst_hc_state_init(&st);
	mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_TIMEOUT),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(st.hs_flags, 0);
	/* the timeout that fails the host also marks it */
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_TIMEOUT),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags,
	    SHM_HF_FAILED_ACTIVE_HC | SHM_HF_ACTIVE_HC_TIMEOUT);
	mst_hc_state_step(&st, &hc, MST_HC_R_FAILURE);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	mst_hc_state_step(&st, &hc, MST_HC_R_TIMEOUT);
	CU_ASSERT_EQUAL(st.hs_flags,
	    SHM_HF_FAILED_ACTIVE_HC | SHM_HF_ACTIVE_HC_TIMEOUT);
	mst_hc_state_step(&st, &hc, MST_HC_R_NETWORK);
	CU_ASSERT_EQUAL(st.hs_flags, SHM_HF_FAILED_ACTIVE_HC);
	mst_hc_state_step(&st, &hc, MST_HC_R_TIMEOUT);
	/* a pending success keeps the flag; the healing one clears it */
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_PENDING);
	CU_ASSERT_EQUAL(st.hs_flags,
	    SHM_HF_FAILED_ACTIVE_HC | SHM_HF_ACTIVE_HC_TIMEOUT);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_SUCCESS),
	    MST_HC_T_CHANGED);
	CU_ASSERT_EQUAL(st.hs_flags, 0);
}

static void
first_timeout_of_a_new_host_sets_timeout_flag(void)
{
	struct cd_health_check hc = hc_make(3, 1);
	struct mst_hc_state st;

	mst_hc_state_init(&st);
	CU_ASSERT_EQUAL(mst_hc_state_step(&st, &hc, MST_HC_R_TIMEOUT),
	    MST_HC_T_UNCHANGED);
	CU_ASSERT_EQUAL(st.hs_flags,
	    SHM_HF_FAILED_ACTIVE_HC | SHM_HF_ACTIVE_HC_TIMEOUT);
	CU_ASSERT(!st.hs_first);
}

/* ---- intervals ---- */

static void
interval_by_result_and_transition(void)
{
	struct cd_health_check hc = hc_make(3, 3);

	hc.hc_interval = 1000 * MS;
	hc.hc_unhealthy_interval = 2000 * MS;
	hc.hc_unhealthy_edge_interval = 300 * MS;
	hc.hc_healthy_edge_interval = 400 * MS;
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, true, rnd_max), 1000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_CHANGED, true, rnd_max), 1000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_PENDING, true, rnd_max), 400);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_FAILURE,
	    MST_HC_T_UNCHANGED, true, rnd_max), 2000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_TIMEOUT,
	    MST_HC_T_CHANGED, true, rnd_max), 2000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_NETWORK,
	    MST_HC_T_PENDING, true, rnd_max), 300);
}

static void
no_traffic_interval_only_when_set(void)
{
	struct cd_health_check hc = hc_make(3, 1);

	hc.hc_interval = 1000 * MS;
	hc.hc_unhealthy_interval = 1000 * MS;
	/* unset: the configured interval from the start (canaryd) */
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, false, rnd_max), 1000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_FAILURE,
	    MST_HC_T_UNCHANGED, false, rnd_max), 1000);
	/* set (the loader copies it to no_traffic_healthy_interval) */
	hc.hc_no_traffic_interval = 7000 * MS;
	hc.hc_no_traffic_healthy_interval = 9000 * MS;
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, false, rnd_max), 9000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_PENDING, false, rnd_max), 7000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_FAILURE,
	    MST_HC_T_UNCHANGED, false, rnd_max), 7000);
	/* once the cluster had a connection, the normal intervals */
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, true, rnd_max), 1000);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_FAILURE,
	    MST_HC_T_UNCHANGED, true, rnd_max), 1000);
}

static void
interval_jitter_is_added(void)
{
	struct cd_health_check hc = hc_make(3, 1);

	hc.hc_interval = 1000 * MS;
	hc.hc_interval_jitter_percent = 10;
	hc.hc_interval_jitter = 50 * MS;
	/* random 0..99 from the percentage, 0..49 from the fixed jitter */
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, true, rnd_max), 1000 + 99 + 49);
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, true, rnd_zero), 1000);
	/* a zero interval (a hand-built conf) still waits 1 ms */
	hc = hc_make(3, 1);
	hc.hc_interval = 0;
	CU_ASSERT_EQUAL(mst_hc_interval_ms(&hc, MST_HC_R_SUCCESS,
	    MST_HC_T_UNCHANGED, true, rnd_zero), 1);
}

/* ---- statuses and request ---- */

static void
expected_statuses_default_and_ranges(void)
{
	struct cd_health_check hc = hc_make(3, 1);

	CU_ASSERT(mst_hc_status_expected(&hc, 200));
	CU_ASSERT(!mst_hc_status_expected(&hc, 204));
	CU_ASSERT(!mst_hc_status_expected(&hc, 503));
	hc.hc_expected[0].sr_start = 200;
	hc.hc_expected[0].sr_end = 300;
	hc.hc_expected[1].sr_start = 404;
	hc.hc_expected[1].sr_end = 405;
	hc.hc_nexpected = 2;
	CU_ASSERT(mst_hc_status_expected(&hc, 200));
	CU_ASSERT(mst_hc_status_expected(&hc, 299));
	CU_ASSERT(!mst_hc_status_expected(&hc, 300));	/* half-open */
	CU_ASSERT(mst_hc_status_expected(&hc, 404));
	CU_ASSERT(!mst_hc_status_expected(&hc, 405));
	CU_ASSERT(!mst_hc_status_expected(&hc, 199));
}

static struct cd_conf *
load_seed(void)
{
	struct conf_diags d;
	struct cd_conf *c;
	static char text[65536];
	size_t n;
	FILE *fp;

	if ((fp = fopen(SEED, "r")) == NULL)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf(SEED, text, n, &d);
	conf_diags_free(&d);
	return c;
}

static void
request_has_envoy_headers(void)
{
	static const char want[] = "GET /health HTTP/1.1\r\n"
	    "Host: backend_v1\r\nUser-Agent: Envoy/HC\r\n\r\n";
	struct cd_conf *conf = load_seed();
	struct cd_cluster *cl;
	struct cd_health_check hc;
	char *req;
	size_t len;

	CU_ASSERT_FATAL(conf != NULL);
	cl = &conf->c_clusters[0];
	CU_ASSERT_FATAL(cl->cl_hc != NULL);
	CU_ASSERT_EQUAL(mst_health_new_host_flags(cl), SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(mst_health_new_host_flags(&conf->c_clusters[1]), 0);
	CU_ASSERT_FATAL((req = mst_hc_request(cl, &len)) != NULL);
	CU_ASSERT_EQUAL(len, strlen(want));
	CU_ASSERT_STRING_EQUAL(req, want);
	free(req);

	/* http_health_check.host, no reuse: Connection: close */
	hc = *cl->cl_hc;
	hc.hc_host = "health.internal";
	hc.hc_reuse_connection = false;
	cl->cl_hc = &hc;
	CU_ASSERT_FATAL((req = mst_hc_request(cl, &len)) != NULL);
	CU_ASSERT_STRING_EQUAL(req, "GET /health HTTP/1.1\r\n"
	    "Host: health.internal\r\nUser-Agent: Envoy/HC\r\n"
	    "Connection: close\r\n\r\n");
	free(req);
	conf_free(conf);
}

/* ---- the checker's host bookkeeping (no loop, so no check runs) ---- */

static int ready_calls;

static void
count_ready(void)
{
	ready_calls++;
}

static void
publish(struct shm_cluster *sc, const uint32_t *ids, uint32_t n,
    uint32_t new_flags)
{
	struct shm_host h[UNIT_NHOSTS], cur[UNIT_NHOSTS];
	uint32_t i, j, ncur, seq;

	/* as dns.c: a known host keeps its flags, a new one gets new_flags */
	ncur = shm_hosts_read(sc, cur, &seq);
	for (i = 0; i < n; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].sh_family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", h[i].sh_addr);
		h[i].sh_port = (uint16_t)(20000 + ids[i]);
		h[i].sh_weight = 1;
		h[i].sh_id = ids[i];
		atomic_store(&h[i].sh_flags, new_flags);
		for (j = 0; j < ncur; j++)
			if (cur[j].sh_id == ids[i])
				atomic_store(&h[i].sh_flags,
				    atomic_load(&cur[j].sh_flags));
	}
	shm_hosts_publish(sc, h, n);
}

static void
checker_follows_hosts_and_initialises(void)
{
	static const uint32_t start[] = { 1, 2 }, next[] = { 2, 3 },
	    last[] = { 3 };
	struct cd_conf *conf = load_seed();
	struct mst saved = mst;
	struct shm_cluster *sc;
	uint32_t ids[UNIT_NHOSTS], i, flags;
	int lvl = log_level;

	CU_ASSERT_FATAL(conf != NULL);
	CU_ASSERT_FATAL(conf->c_clusters[0].cl_hc != NULL);
	log_level = LOG_L_WARN;
	mst.m_conf = conf;
	unit_place(&place);
	mst.m_place = &place;
	CU_ASSERT_FATAL((mst.m_shm = unit_shm()) != NULL);
	sc = shm_cl(mst.m_shm, 0);
	flags = mst_health_new_host_flags(&conf->c_clusters[0]);

	/* hosts present at start: failed until checked, awaited */
	publish(sc, start, 2, 0);
	publish(shm_cl(mst.m_shm, 1), start, 2, 0);
	ready_calls = 0;
	CU_ASSERT_FATAL(mst_health_start(count_ready) == 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_hosts(sc)[0].sh_flags),
	    SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_hosts(sc)[1].sh_flags),
	    SHM_HF_FAILED_ACTIVE_HC);
	/* backend_v2 has no health check: untouched */
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_hosts(shm_cl(mst.m_shm, 1))[0].
	    sh_flags), 0);
	CU_ASSERT(!mst_health_initialized());

	/* host 1 leaves before its first result, 3 comes: 2 still awaited */
	publish(sc, next, 2, flags);
	mst_health_hosts_changed(0);
	mst_health_hosts_changed(1);
	CU_ASSERT(!mst_health_initialized());
	CU_ASSERT_EQUAL(ready_calls, 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl_hosts(sc)[1].sh_flags),
	    SHM_HF_FAILED_ACTIVE_HC);
	/* host 2 leaves: nobody left from the start, so initialised */
	publish(sc, last, 1, flags);
	mst_health_hosts_changed(0);
	CU_ASSERT(mst_health_initialized());
	CU_ASSERT_EQUAL(ready_calls, 1);

	/* a whole new list of UNIT_NHOSTS hosts, twice */
	for (i = 0; i < UNIT_NHOSTS; i++)
		ids[i] = 100 + i;
	publish(sc, ids, UNIT_NHOSTS, flags);
	mst_health_hosts_changed(0);
	for (i = 0; i < UNIT_NHOSTS; i++)
		ids[i] = 200 + i;
	publish(sc, ids, UNIT_NHOSTS, flags);
	mst_health_hosts_changed(0);
	for (i = 0; i < UNIT_NHOSTS; i++)
		CU_ASSERT_EQUAL(atomic_load(&shm_cl_hosts(sc)[i].sh_flags),
		    SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(ready_calls, 1);
	/* no check ran: nothing counted */
	CU_ASSERT_EQUAL(atomic_load(&shm_slot(mst.m_shm, UNIT_MASTER_SLOT)->
	    w_cl[0].cc_c[CC_HC_ATTEMPT]), 0);

	mst_health_stop();
	CU_ASSERT(!mst_health_initialized());
	shm_destroy(mst.m_shm);
	conf_free(conf);
	mst = saved;
	log_level = lvl;
}

static void
nothing_to_check_is_initialised_at_once(void)
{
	struct mst saved = mst;
	struct cd_conf *conf = load_seed();

	CU_ASSERT_FATAL(conf != NULL);
	conf->c_clusters[0].cl_hc = NULL;	/* arena memory: no free */
	mst.m_conf = conf;
	unit_place(&place);
	mst.m_place = &place;
	CU_ASSERT_FATAL((mst.m_shm = unit_shm()) != NULL);
	ready_calls = 0;
	CU_ASSERT_FATAL(mst_health_start(count_ready) == 0);
	CU_ASSERT(mst_health_initialized());
	CU_ASSERT_EQUAL(ready_calls, 0);	/* state.c asks instead */
	mst_health_stop();
	shm_destroy(mst.m_shm);
	conf_free(conf);
	mst = saved;
}

/* ---- response parser ---- */

/* Feed s whole; returns the rc, *used what was consumed. */
static enum mst_hc_rc
feed(struct mst_hc_resp *r, const char *s, size_t *used)
{
	return mst_hc_resp_feed(r, s, strlen(s), used);
}

/* Feed s one byte at a time; returns the rc at the first non-AGAIN. */
static enum mst_hc_rc
feed_bytes(struct mst_hc_resp *r, const char *s, size_t *at)
{
	enum mst_hc_rc rc = MST_HC_AGAIN;
	size_t i, used;

	for (i = 0; s[i] != '\0'; i++) {
		rc = mst_hc_resp_feed(r, s + i, 1, &used);
		CU_ASSERT_EQUAL(used, 1);
		if (rc != MST_HC_AGAIN)
			break;
	}
	*at = i;
	return rc;
}

static void
parse_content_length_response(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Length: 5\r\n\r\nhello";
	struct mst_hc_resp r;
	size_t used, at;

	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, resp, &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(used, strlen(resp));
	CU_ASSERT_EQUAL(r.r_status, 200);
	CU_ASSERT(!r.r_close);

	/* the same, a byte at a time: done exactly at the last byte */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed_bytes(&r, resp, &at), MST_HC_DONE);
	CU_ASSERT_EQUAL(at, strlen(resp) - 1);
	CU_ASSERT_EQUAL(r.r_status, 200);

	/* bytes after the response are left over */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 503 Service Unavailable\r\n"
	    "content-length: 2\r\n\r\nokJUNK", &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(r.r_status, 503);
	CU_ASSERT_EQUAL(used, strlen("HTTP/1.1 503 Service Unavailable\r\n"
	    "content-length: 2\r\n\r\nok"));
}

static void
parse_chunked_with_extensions_and_trailers(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5;name=value\r\nhello\r\n"
	    "A\r\n0123456789\r\n"
	    "0\r\nX-Trailer: 1\r\n\r\n";
	struct mst_hc_resp r;
	size_t used, at;

	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, resp, &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(used, strlen(resp));
	CU_ASSERT(!r.r_close);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed_bytes(&r, resp, &at), MST_HC_DONE);
	CU_ASSERT_EQUAL(at, strlen(resp) - 1);

	/* missing CRLF after chunk data */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\n"
	    "transfer-encoding: chunked\r\n\r\n2\r\nabX\r\n", &used),
	    MST_HC_ERR);
	/* not a chunk size */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\n"
	    "transfer-encoding: chunked\r\n\r\nzz\r\n", &used), MST_HC_ERR);
}

static void
parse_body_to_close_and_http10(void)
{
	struct mst_hc_resp r;
	size_t used;

	/* no length: the body runs to the close */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\n\r\nsome body",
	    &used), MST_HC_AGAIN);
	CU_ASSERT_EQUAL(mst_hc_resp_eof(&r), MST_HC_DONE);
	CU_ASSERT(r.r_close);
	CU_ASSERT_EQUAL(r.r_status, 200);

	/* HTTP/1.0 closes unless keep-alive */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.0 200 OK\r\ncontent-length: 0\r\n"
	    "\r\n", &used), MST_HC_DONE);
	CU_ASSERT(r.r_close);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.0 200 OK\r\ncontent-length: 0\r\n"
	    "Connection: Keep-Alive\r\n\r\n", &used), MST_HC_DONE);
	CU_ASSERT(!r.r_close);
	/* HTTP/1.1 with connection: close */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n"
	    "connection: upgrade, close\r\n\r\n", &used), MST_HC_DONE);
	CU_ASSERT(r.r_close);

	/* a close before the head is complete is an error */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\ncontent-le", &used),
	    MST_HC_AGAIN);
	CU_ASSERT_EQUAL(mst_hc_resp_eof(&r), MST_HC_ERR);
	/* and in a body with a length */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n"
	    "\r\nshort", &used), MST_HC_AGAIN);
	CU_ASSERT_EQUAL(mst_hc_resp_eof(&r), MST_HC_ERR);
}

static void
parse_interim_no_body_and_head(void)
{
	struct mst_hc_resp r;
	size_t used;

	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 204 No Content\r\n\r\n", &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(r.r_status, 204);
	/* HEAD: the length describes a body that isn't sent */
	mst_hc_resp_init(&r, true);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n"
	    "\r\n", &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(r.r_status, 200);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 304 Not Modified\r\n"
	    "content-length: 10\r\n\r\n", &used), MST_HC_DONE);
	/* bare LF line ends are accepted */
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 503 x\ncontent-length: 1\n\nz",
	    &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(r.r_status, 503);
}

static void
parse_rejects_garbage_and_bounds_memory(void)
{
	static char big[MST_HC_HEAD_MAX + 64];
	struct mst_hc_resp r;
	size_t used, n;

	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "SSH-2.0-OpenSSH_9.2\r\n", &used),
	    MST_HC_ERR);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 20 OK\r\n", &used), MST_HC_ERR);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/2.0 200 OK\r\n", &used), MST_HC_ERR);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\nno colon here\r\n",
	    &used), MST_HC_ERR);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n",
	    &used), MST_HC_ERR);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(feed(&r, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n"
	    "content-length: 2\r\n", &used), MST_HC_ERR);

	/* one overlong header line is skipped, not stored */
	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(big + n, 'a', 3 * MST_HC_LINE_MAX);
	n += 3 * MST_HC_LINE_MAX;
	n += (size_t)snprintf(big + n, sizeof(big) - n,
	    "\r\ncontent-length: 0\r\n\r\n");
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(mst_hc_resp_feed(&r, big, n, &used), MST_HC_DONE);
	CU_ASSERT_EQUAL(used, n);
	CU_ASSERT_EQUAL(r.r_status, 200);

	/* an overlong status line is an error */
	memset(big, 'H', MST_HC_LINE_MAX + 10);
	memcpy(big, "HTTP/1.1 200 ", 13);
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(mst_hc_resp_feed(&r, big, MST_HC_LINE_MAX + 10,
	    &used), MST_HC_ERR);

	/* headers without end: an error once past the bound */
	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n");
	while (n + 8 < sizeof(big)) {
		memcpy(big + n, "A: b\r\n", 6);
		n += 6;
	}
	mst_hc_resp_init(&r, false);
	CU_ASSERT_EQUAL(mst_hc_resp_feed(&r, big, n, &used), MST_HC_ERR);
	CU_ASSERT(used <= MST_HC_HEAD_MAX + 1);
}

static CU_TestInfo tests[] = {
	{ "new_host_starts_failed_and_first_success_clears_at_once",
	    new_host_starts_failed_and_first_success_clears_at_once },
	{ "failed_host_needs_healthy_threshold_after_first_check",
	    failed_host_needs_healthy_threshold_after_first_check },
	{ "bad_status_fails_healthy_host_at_once",
	    bad_status_fails_healthy_host_at_once },
	{ "network_failures_count_to_unhealthy_threshold",
	    network_failures_count_to_unhealthy_threshold },
	{ "timeout_flag_follows_the_last_failure_of_a_failed_host",
	    timeout_flag_follows_the_last_failure_of_a_failed_host },
	{ "first_timeout_of_a_new_host_sets_timeout_flag",
	    first_timeout_of_a_new_host_sets_timeout_flag },
	{ "interval_by_result_and_transition",
	    interval_by_result_and_transition },
	{ "no_traffic_interval_only_when_set",
	    no_traffic_interval_only_when_set },
	{ "interval_jitter_is_added", interval_jitter_is_added },
	{ "expected_statuses_default_and_ranges",
	    expected_statuses_default_and_ranges },
	{ "request_has_envoy_headers", request_has_envoy_headers },
	{ "checker_follows_hosts_and_initialises",
	    checker_follows_hosts_and_initialises },
	{ "nothing_to_check_is_initialised_at_once",
	    nothing_to_check_is_initialised_at_once },
	{ "parse_content_length_response", parse_content_length_response },
	{ "parse_chunked_with_extensions_and_trailers",
	    parse_chunked_with_extensions_and_trailers },
	{ "parse_body_to_close_and_http10", parse_body_to_close_and_http10 },
	{ "parse_interim_no_body_and_head", parse_interim_no_body_and_head },
	{ "parse_rejects_garbage_and_bounds_memory",
	    parse_rejects_garbage_and_bounds_memory },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("master/health", tests);
