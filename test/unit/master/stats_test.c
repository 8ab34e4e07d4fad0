/*
 * Unit tests for the admin page renderers (master/stats*.c, clusters.c,
 * listeners.c, config_dump.c, json.c) over the seed config
 * (etc/canary/envoy-canary.yaml, loaded with conf_load_buf) and a shm
 * segment whose counters are set by hand in two worker slots, so every
 * printed total must be the sum of both.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/hist.h"
#include "shared/shm.h"
#include "master/clusters.h"
#include "master/config_dump.h"
#include "master/json.h"
#include "master/listeners.h"
#include "master/place.h"
#include "master/stats.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

#define SEED	"etc/canary/envoy-canary.yaml"

static int
starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static struct cd_conf *conf;
static struct cd_place place;
static struct shm *shm;
static struct mst_admin_ctr actr;

/* The file at path, its first from (if any) made to (as long or
 * shorter). */
static struct cd_conf *
load_file_sub(const char *path, const char *from, const char *to)
{
	struct conf_diags d;
	struct cd_conf *c;
	static char text[65536];
	size_t n;
	char *p;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	if (from != NULL && (p = strstr(text, from)) != NULL) {
		memcpy(p, to, strlen(to));
		memset(p + strlen(to), ' ', strlen(from) - strlen(to));
	}
	memset(&d, 0, sizeof(d));
	c = conf_load_buf(path, text, n, &d);
	conf_diags_free(&d);
	return c;
}

static struct cd_conf *
load_file(const char *path)
{
	return load_file_sub(path, NULL, NULL);
}

static struct cd_conf *
load_seed(void)
{
	return load_file(SEED);
}

static void
host_v4(struct shm_host *h, const char *ip, uint16_t port, uint32_t w)
{
	memset(h, 0, sizeof(*h));
	h->sh_family = AF_INET;
	inet_pton(AF_INET, ip, h->sh_addr);
	h->sh_port = port;
	h->sh_weight = w;
	h->sh_endpoint = 0;
}

/*
 * The state behind most tests: 20 requests to backend_v1 (18 x 200, 2 x
 * 503), 12 in slot 0 and 8 in slot 1; backend_v2 never used and not
 * resolved yet.
 */
static void
fixture(void)
{
	struct shm_worker *w0, *w1;
	struct shm_host h;
	int i;

	if (conf == NULL)
		conf = load_seed();
	CU_ASSERT_FATAL(conf != NULL);
	unit_place(&place);
	shm_destroy(shm);
	CU_ASSERT_FATAL((shm = unit_shm()) != NULL);
	atomic_store(&shm->hdr.h_slots_hwm, 2);
	atomic_store(&shm->hdr.h_state, SHM_S_LIVE);
	w0 = shm_slot(shm, 0);
	w1 = shm_slot(shm, 1);

	host_v4(&h, "127.0.0.1", 8081, 1);
	atomic_store(&h.sh_flags, 0);
	shm_hosts_publish(shm_cl(shm, 0), &h, 1);

	shm_add(&w0->w_cl[0].cc_c[CC_RQ_TOTAL], 12);
	shm_add(&w1->w_cl[0].cc_c[CC_RQ_TOTAL], 8);
	for (i = 0; i < 10; i++)
		shm_code_add(&w0->w_cl[0].cc_code, 200);
	for (i = 0; i < 8; i++)
		shm_code_add(&w1->w_cl[0].cc_code, 200);
	for (i = 0; i < 2; i++)
		shm_code_add(&w0->w_cl[0].cc_code, 503);
	for (i = 0; i < 1; i++)
		shm_retry_code_add(&w1->w_cl[0].cc_retry_code, 200);
	shm_add(&shm_http(shm, w0, 0)->hc_c[HC_RQ_TOTAL], 12);
	shm_add(&shm_http(shm, w1, 0)->hc_c[HC_RQ_TOTAL], 8);
	shm_add(&shm_http(shm, w0, 0)->hc_c[HC_CX_TOTAL], 3);
	shm_add(&shm_http(shm, w1, 0)->hc_c[HC_CX_TOTAL], 2);
	shm_gauge_add(&shm_http(shm, w0, 0)->hc_g[HG_CX_ACTIVE], 1);
	shm_gauge_add(&shm_http(shm, w1, 0)->hc_g[HG_CX_ACTIVE], 1);
	shm_add(&shm_http(shm, w0, 0)->hc_code[200 - CD_CODE_MIN], 10);
	shm_add(&shm_http(shm, w1, 0)->hc_code[200 - CD_CODE_MIN], 8);
	shm_add(&shm_http(shm, w1, 0)->hc_code[503 - CD_CODE_MIN], 2);
	shm_add(&shm_host_ctr(shm, w0, shm_cl(shm, 0), 0)->hc_c[HOC_RQ_TOTAL], 12);
	shm_add(&shm_host_ctr(shm, w1, shm_cl(shm, 0), 0)->hc_c[HOC_RQ_TOTAL], 8);
	shm_add(&shm_host_ctr(shm, w1, shm_cl(shm, 0), 0)->hc_c[HOC_CX_TOTAL], 2);
	shm_gauge_add(&shm_host_ctr(shm, w1, shm_cl(shm, 0), 0)->hc_g[HOG_CX_ACTIVE],
	    1);
	/* the master's own slot is summed too */
	shm_add(&shm_slot(shm, UNIT_MASTER_SLOT)->w_cl[0].cc_c[CC_HC_ATTEMPT], 4);

	memset(&actr, 0, sizeof(actr));
	actr.ac_cx_total = 3;
	actr.ac_cx_active = 1;
	actr.ac_rq_total = 5;
	actr.ac_rq_class[1] = 4;
}

static int
render(struct buf *b, int format, const struct mst_stats_filter *f)
{
	struct mst_stats_src src = { conf, &place, shm, 42, 2, &actr, NULL, NULL };
	struct mst_stat_list sl;
	int rc;

	buf_init(b);
	if (mst_stats_collect(&src, &sl) == -1) {
		mst_stats_list_free(&sl);
		return -1;
	}
	if (format == 0)
		rc = mst_stats_text(b, &sl, f);
	else if (format == 1)
		rc = mst_stats_json(b, &sl, f);
	else
		rc = mst_stats_prometheus(b, &sl, f);
	mst_stats_list_free(&sl);
	/* an empty page still has a string */
	buf_append(b, "", 0);
	return rc;
}

static int
has_line(const struct buf *b, const char *line)
{
	size_t n = strlen(line);
	const char *p = b->b_data;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == b->b_data || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

static void
stats_text_sums_slots_and_derives_classes(void)
{
	struct buf b;

	fixture();
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_total: 20"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_200: 18"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_503: 2"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_2xx: 18"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_5xx: 2"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_completed: 20"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.retry.upstream_rq_200: 1"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.retry.upstream_rq_2xx: 1"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v1.retry.upstream_rq_completed: 1"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.health_check.attempt: 4"));
	CU_ASSERT(has_line(&b, "http.ingress.downstream_rq_total: 20"));
	CU_ASSERT(has_line(&b, "http.ingress.downstream_rq_2xx: 18"));
	CU_ASSERT(has_line(&b, "http.ingress.downstream_rq_5xx: 2"));
	CU_ASSERT(has_line(&b, "http.ingress.downstream_rq_4xx: 0"));
	CU_ASSERT(has_line(&b, "http.ingress.downstream_rq_completed: 20"));
	CU_ASSERT(has_line(&b, "http.ingress.downstream_cx_active: 2"));
	CU_ASSERT(has_line(&b,
	    "listener.0.0.0.0_10000.downstream_cx_total: 5"));
	CU_ASSERT(has_line(&b,
	    "listener.0.0.0.0_10000.http.ingress.downstream_rq_2xx: 18"));
	CU_ASSERT(has_line(&b, "server.total_connections: 2"));
	CU_ASSERT(has_line(&b, "server.uptime: 42"));
	CU_ASSERT(has_line(&b, "server.concurrency: 2"));
	CU_ASSERT(has_line(&b, "server.live: 1"));
	CU_ASSERT(has_line(&b, "server.state: 0"));
	CU_ASSERT(has_line(&b, "cluster_manager.active_clusters: 2"));
	CU_ASSERT(has_line(&b, "http.admin.downstream_rq_2xx: 4"));
	CU_ASSERT(has_line(&b, "http.admin.downstream_cx_active: 1"));
	buf_free(&b);
}

static void
stats_text_per_code_stats_only_once_used(void)
{
	struct buf b;

	fixture();
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.upstream_rq_4xx") ==
	    NULL);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.upstream_rq_404") ==
	    NULL);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v2.upstream_rq_2") ==
	    NULL);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v2.upstream_rq_completed")
	    == NULL);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.retry.upstream_rq_5xx")
	    == NULL);
	CU_ASSERT(has_line(&b, "cluster.backend_v2.upstream_rq_total: 0"));
	/* health_check.* only where a checker is configured */
	CU_ASSERT(has_line(&b, "cluster.backend_v1.health_check.healthy: 1"));
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v2.health_check.") ==
	    NULL);
	/* no outlier_detection in the seed */
	CU_ASSERT(strstr(b.b_data, "outlier_detection.") == NULL);
	buf_free(&b);
}

static void
stats_text_sorted_by_name_in_byte_order(void)
{
	struct buf b;
	char *p, *nl, prev[512] = "", cur[512];
	const char *a, *c, *d;
	int sorted = 1, lines = 0, in_hist = 0;

	fixture();
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	for (p = b.b_data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		char *colon = strstr(p, ": ");
		int h;

		CU_ASSERT_FATAL(colon != NULL && colon < nl);
		snprintf(cur, sizeof(cur), "%.*s", (int)(colon - p), p);
		/* histograms come last, sorted among themselves */
		h = strlen(cur) > 17 &&
		    strcmp(cur + strlen(cur) - 17, ".upstream_rq_time") == 0;
		if (h && !in_hist) {
			in_hist = 1;
			*prev = '\0';
		} else if (!h && in_hist)
			sorted = 0;
		if (*prev != '\0' && strcmp(prev, cur) >= 0)
			sorted = 0;
		strlcpy(prev, cur, sizeof(prev));
		lines++;
	}
	CU_ASSERT(sorted);
	CU_ASSERT(in_hist);
	CU_ASSERT(lines > 150);
	/* Envoy's example: _200 < _2xx < _active */
	a = strstr(b.b_data, "cluster.backend_v1.upstream_rq_200:");
	c = strstr(b.b_data, "cluster.backend_v1.upstream_rq_2xx:");
	d = strstr(b.b_data, "cluster.backend_v1.upstream_rq_active:");
	CU_ASSERT(a != NULL && c != NULL && d != NULL && a < c && c < d);
	buf_free(&b);
}

static void
stats_membership_and_breaker_gauges(void)
{
	struct shm_host h[3];
	struct buf b;

	fixture();
	host_v4(&h[0], "10.0.0.1", 80, 1);
	host_v4(&h[1], "10.0.0.2", 80, 5);
	host_v4(&h[2], "10.0.0.3", 80, 2);
	atomic_store(&h[1].sh_flags, SHM_HF_FAILED_ACTIVE_HC);
	atomic_store(&h[2].sh_flags, SHM_HF_PENDING_ACTIVE_HC);
	shm_hosts_publish(shm_cl(shm, 0), h, 3);
	/* backend_v1 default: max_requests 100, max_retries 10 */
	atomic_store(&shm_cl(shm, 0)->sc_cb[CD_PRIO_DEFAULT][SHM_CB_RQ], 100);
	atomic_store(&shm_cl(shm, 0)->sc_cb[CD_PRIO_DEFAULT][SHM_CB_RETRY], 9);
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	CU_ASSERT(has_line(&b, "cluster.backend_v1.membership_total: 3"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.membership_healthy: 2"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.membership_degraded: 0"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.max_host_weight: 5"));
	CU_ASSERT(has_line(&b, "cluster.backend_v1.health_check.healthy: 2"));
	CU_ASSERT(has_line(&b, "cluster.backend_v2.membership_total: 0"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v1.circuit_breakers.default.rq_open: 1"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v1.circuit_breakers.default.rq_retry_open: 0"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v1.circuit_breakers.default.cx_open: 0"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v1.circuit_breakers.high.rq_open: 0"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v2.circuit_breakers.high.cx_pool_open: 0"));
	/* track_remaining is off in the seed */
	CU_ASSERT(strstr(b.b_data, "remaining_") == NULL);
	buf_free(&b);
}

static void
stats_filter_usedonly_and_type(void)
{
	struct mst_stats_filter f;
	regex_t re;
	struct buf b;
	char *p, *nl;
	int ok = 1;

	fixture();
	CU_ASSERT_FATAL(regcomp(&re, "^cluster\\.backend_v2\\.",
	    REG_EXTENDED | REG_NOSUB) == 0);
	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_ALL;
	f.sf_re = &re;
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, &f), 0);
	for (p = b.b_data; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (strncmp(p, "cluster.backend_v2.", 19) != 0)
			ok = 0;
	CU_ASSERT(ok);
	CU_ASSERT(has_line(&b, "cluster.backend_v2.upstream_rq_total: 0"));
	buf_free(&b);
	regfree(&re);

	/* a partial match, not a full one */
	CU_ASSERT_FATAL(regcomp(&re, "rq_2", REG_EXTENDED | REG_NOSUB) == 0);
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, &f), 0);
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_2xx: 18"));
	CU_ASSERT(strstr(b.b_data, "upstream_rq_total") == NULL);
	buf_free(&b);
	regfree(&re);

	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_ALL;
	f.sf_usedonly = 1;
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, &f), 0);
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_total: 20"));
	CU_ASSERT(has_line(&b, "server.live: 1"));
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v2.upstream_rq_total") ==
	    NULL);
	/* counters never written are left out, set gauges are not */
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.upstream_cx_total") ==
	    NULL);
	CU_ASSERT(strstr(b.b_data, "http.ingress.downstream_rq_4xx") == NULL);
	CU_ASSERT(has_line(&b, "server.state: 0"));
	buf_free(&b);

	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_GAUGE;
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, &f), 0);
	CU_ASSERT(has_line(&b, "server.live: 1"));
	CU_ASSERT(strstr(b.b_data, "upstream_rq_total") == NULL);
	buf_free(&b);
}

static void
stats_json_shape(void)
{
	struct buf b, pretty;

	fixture();
	CU_ASSERT_EQUAL_FATAL(render(&b, 1, NULL), 0);
	CU_ASSERT(starts_with(b.b_data, "{\"stats\":[{\"name\":\""));
	CU_ASSERT(b.b_len > 3 && strcmp(b.b_data + b.b_len - 3, "}]}") == 0);
	CU_ASSERT(strstr(b.b_data, "{\"name\":\"cluster.backend_v1."
	    "upstream_rq_total\",\"value\":20}") != NULL);
	/* well-formed: the pretty-printer is also a validator */
	buf_init(&pretty);
	CU_ASSERT(mst_json_pretty(&pretty, b.b_data, b.b_len) == 0);
	buf_free(&pretty);
	buf_free(&b);

	/* nothing matches: still a valid document */
	{
		struct mst_stats_filter f = { 0, 0, NULL };

		CU_ASSERT_EQUAL_FATAL(render(&b, 1, &f), 0);
		CU_ASSERT_STRING_EQUAL(b.b_data, "{\"stats\":[]}");
		buf_free(&b);
	}
}

/* The max_requests_per_connection counters, summed over both slots, in
 * the three formats. */
static void
stats_max_requests_counters_in_every_format(void)
{
	struct buf b;

	fixture();
	shm_add(&shm_http(shm, shm_slot(shm, 0), 0)->
	    hc_c[HC_CX_MAX_REQUESTS_REACHED], 2);
	shm_add(&shm_http(shm, shm_slot(shm, 1), 0)->
	    hc_c[HC_CX_MAX_REQUESTS_REACHED], 3);
	shm_add(&shm_slot(shm, 0)->w_cl[0].cc_c[CC_CX_MAX_REQUESTS], 1);
	shm_add(&shm_slot(shm, 1)->w_cl[0].cc_c[CC_CX_MAX_REQUESTS], 4);
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	CU_ASSERT(has_line(&b,
	    "http.ingress.downstream_cx_max_requests_reached: 5"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v1.upstream_cx_max_requests: 5"));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v2.upstream_cx_max_requests: 0"));
	buf_free(&b);
	CU_ASSERT_EQUAL_FATAL(render(&b, 1, NULL), 0);
	CU_ASSERT(strstr(b.b_data, "{\"name\":\"http.ingress."
	    "downstream_cx_max_requests_reached\",\"value\":5}") != NULL);
	CU_ASSERT(strstr(b.b_data, "{\"name\":\"cluster.backend_v1."
	    "upstream_cx_max_requests\",\"value\":5}") != NULL);
	buf_free(&b);
	CU_ASSERT_EQUAL_FATAL(render(&b, 2, NULL), 0);
	CU_ASSERT(has_line(&b, "# TYPE "
	    "envoy_http_downstream_cx_max_requests_reached counter"));
	CU_ASSERT(has_line(&b, "envoy_http_downstream_cx_max_requests_reached{"
	    "envoy_http_conn_manager_prefix=\"ingress\"} 5"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_cx_max_requests{"
	    "envoy_cluster_name=\"backend_v1\"} 5"));
	buf_free(&b);
}

static void
stats_prometheus_tags_and_families(void)
{
	struct buf b;
	char *q, *nl, prev[512] = "";
	int sorted = 1, ntype = 0, in_gauges = 0;

	fixture();
	CU_ASSERT_EQUAL_FATAL(render(&b, 2, NULL), 0);
	CU_ASSERT(has_line(&b, "# TYPE envoy_cluster_upstream_rq counter"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq{envoy_response_code="
	    "\"200\",envoy_cluster_name=\"backend_v1\"} 18"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq{envoy_response_code="
	    "\"503\",envoy_cluster_name=\"backend_v1\"} 2"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_xx{"
	    "envoy_response_code_class=\"2\",envoy_cluster_name="
	    "\"backend_v1\"} 18"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_total{"
	    "envoy_cluster_name=\"backend_v1\"} 20"));
	CU_ASSERT(has_line(&b, "envoy_cluster_retry_upstream_rq{"
	    "envoy_response_code=\"200\",envoy_cluster_name=\"backend_v1\"} 1"));
	CU_ASSERT(has_line(&b, "envoy_http_downstream_rq_xx{"
	    "envoy_response_code_class=\"2\","
	    "envoy_http_conn_manager_prefix=\"ingress\"} 18"));
	CU_ASSERT(has_line(&b, "envoy_listener_downstream_cx_total{"
	    "envoy_listener_address=\"0.0.0.0_10000\"} 5"));
	CU_ASSERT(has_line(&b, "envoy_listener_http_downstream_rq_xx{"
	    "envoy_response_code_class=\"2\","
	    "envoy_http_conn_manager_prefix=\"ingress\","
	    "envoy_listener_address=\"0.0.0.0_10000\"} 18"));
	CU_ASSERT(has_line(&b, "envoy_http_downstream_rq_total{"
	    "envoy_http_conn_manager_prefix=\"admin\"} 5"));
	CU_ASSERT(has_line(&b, "envoy_listener_admin_downstream_cx_total{} 3"));
	CU_ASSERT(has_line(&b, "envoy_server_uptime{} 42"));
	CU_ASSERT(has_line(&b, "# TYPE envoy_server_uptime gauge"));
	CU_ASSERT(has_line(&b, "envoy_cluster_circuit_breakers_default_cx_open{"
	    "envoy_cluster_name=\"backend_v1\"} 0"));
	CU_ASSERT(has_line(&b, "envoy_cluster_manager_active_clusters{} 2"));

	/* one TYPE line per family: counters sorted, then gauges sorted */
	for (q = b.b_data; (nl = strchr(q, '\n')) != NULL; q = nl + 1) {
		char fam[512], *sp;
		int rank;

		if (strncmp(q, "# TYPE ", 7) != 0)
			continue;
		snprintf(fam, sizeof(fam), "%.*s", (int)(nl - q - 7), q + 7);
		CU_ASSERT_FATAL((sp = strchr(fam, ' ')) != NULL);
		/* counters, then gauges, then histograms */
		rank = strcmp(sp, " counter") == 0 ? 0 :
		    strcmp(sp, " gauge") == 0 ? 1 : 2;
		*sp = '\0';
		if (rank < in_gauges)
			sorted = 0;	/* back to an earlier type */
		else if (rank > in_gauges) {
			in_gauges = rank;
			*prev = '\0';
		}
		if (*prev != '\0' && strcmp(prev, fam) >= 0)
			sorted = 0;
		strlcpy(prev, fam, sizeof(prev));
		ntype++;
	}
	CU_ASSERT(sorted);
	CU_ASSERT(in_gauges == 2);
	CU_ASSERT(ntype > 50);
	{
		const char *t = "# TYPE envoy_cluster_upstream_rq counter\n";
		const char *x = strstr(b.b_data, t);

		CU_ASSERT(x != NULL && strstr(x + 1, t) == NULL);
	}
	buf_free(&b);
}

/* Fleet mode's canaryd.* stats: canaryd_* families, decisions by kind
 * in one family with a label. */
static void
stats_prometheus_canaryd_families(void)
{
	struct mst_stat_list sl;
	struct buf b;

	memset(&sl, 0, sizeof(sl));
	buf_init(&sl.sl_names);
	buf_init(&b);
	CU_ASSERT(mst_stats_add(&sl, MST_STAT_GAUGE, 1, 1,
	    "canaryd.fleet.leader") == 0);
	CU_ASSERT(mst_stats_add(&sl, MST_STAT_COUNTER, 2, 1,
	    "canaryd.fleet.decisions.rollback") == 0);
	CU_ASSERT(mst_stats_add(&sl, MST_STAT_COUNTER, 5, 1,
	    "canaryd.fleet.decisions.advance") == 0);
	CU_ASSERT(mst_stats_add(&sl, MST_STAT_COUNTER, 7, 1,
	    "canaryd.fleet.etcd_requests") == 0);
	CU_ASSERT(mst_stats_prometheus(&b, &sl, NULL) == 0);
	CU_ASSERT(has_line(&b, "# TYPE canaryd_fleet_decisions counter"));
	CU_ASSERT(has_line(&b, "canaryd_fleet_decisions{canaryd_decision="
	    "\"advance\"} 5"));
	CU_ASSERT(has_line(&b, "canaryd_fleet_decisions{canaryd_decision="
	    "\"rollback\"} 2"));
	CU_ASSERT(has_line(&b, "canaryd_fleet_etcd_requests{} 7"));
	CU_ASSERT(has_line(&b, "# TYPE canaryd_fleet_leader gauge"));
	CU_ASSERT(has_line(&b, "canaryd_fleet_leader{} 1"));
	CU_ASSERT(strstr(b.b_data, "envoy_canaryd") == NULL);
	buf_reset(&b);
	CU_ASSERT(mst_stats_text(&b, &sl, NULL) == 0);
	CU_ASSERT(has_line(&b, "canaryd.fleet.decisions.rollback: 2"));
	mst_stats_list_free(&sl);
	buf_free(&b);
}

static void
health_flags_strings(void)
{
	char s[256];

	CU_ASSERT_STRING_EQUAL(mst_clusters_health_flags(0, s, sizeof(s)),
	    "healthy");
	CU_ASSERT_STRING_EQUAL(mst_clusters_health_flags(SHM_HF_FAILED_ACTIVE_HC,
	    s, sizeof(s)), "/failed_active_hc");
	CU_ASSERT_STRING_EQUAL(mst_clusters_health_flags(SHM_HF_ACTIVE_HC_TIMEOUT |
	    SHM_HF_FAILED_ACTIVE_HC, s, sizeof(s)),
	    "/failed_active_hc/active_hc_timeout");
	CU_ASSERT_STRING_EQUAL(mst_clusters_health_flags(0x3ff, s, sizeof(s)),
	    "/failed_active_hc/failed_outlier_check/failed_eds_health"
	    "/degraded_active_hc/degraded_eds_health/pending_dynamic_removal"
	    "/pending_active_hc/excluded_via_immediate_hc_fail"
	    "/active_hc_timeout/eds_status_draining");
	CU_ASSERT_STRING_EQUAL(mst_clusters_health_flags(
	    SHM_HF_PENDING_ACTIVE_HC | SHM_HF_FAILED_OUTLIER_CHECK, s,
	    sizeof(s)), "/failed_outlier_check/pending_active_hc");
}

static void
host_addr_v4_and_v6(void)
{
	struct shm_host h;
	char s[64];

	host_v4(&h, "127.0.0.1", 8081, 1);
	shm_host_addr(&h, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "127.0.0.1:8081");
	memset(&h, 0, sizeof(h));
	h.sh_family = AF_INET6;
	inet_pton(AF_INET6, "::1", h.sh_addr);
	h.sh_port = 8082;
	shm_host_addr(&h, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "[::1]:8082");
}

static const char clusters_expected[] =
    "backend_v1::observability_name::backend_v1\n"
    "backend_v1::default_priority::max_connections::100\n"
    "backend_v1::default_priority::max_pending_requests::100\n"
    "backend_v1::default_priority::max_requests::100\n"
    "backend_v1::default_priority::max_retries::10\n"
    "backend_v1::high_priority::max_connections::1024\n"
    "backend_v1::high_priority::max_pending_requests::1024\n"
    "backend_v1::high_priority::max_requests::1024\n"
    "backend_v1::high_priority::max_retries::3\n"
    "backend_v1::added_via_api::false\n"
    "backend_v1::127.0.0.1:8081::cx_active::1\n"
    "backend_v1::127.0.0.1:8081::cx_connect_fail::0\n"
    "backend_v1::127.0.0.1:8081::cx_total::2\n"
    "backend_v1::127.0.0.1:8081::rq_active::0\n"
    "backend_v1::127.0.0.1:8081::rq_error::0\n"
    "backend_v1::127.0.0.1:8081::rq_success::0\n"
    "backend_v1::127.0.0.1:8081::rq_timeout::0\n"
    "backend_v1::127.0.0.1:8081::rq_total::20\n"
    "backend_v1::127.0.0.1:8081::hostname::127.0.0.1\n"
    "backend_v1::127.0.0.1:8081::health_flags::/failed_active_hc\n"
    "backend_v1::127.0.0.1:8081::weight::1\n"
    "backend_v1::127.0.0.1:8081::region::\n"
    "backend_v1::127.0.0.1:8081::zone::\n"
    "backend_v1::127.0.0.1:8081::sub_zone::\n"
    "backend_v1::127.0.0.1:8081::canary::false\n"
    "backend_v1::127.0.0.1:8081::priority::0\n"
    "backend_v1::127.0.0.1:8081::success_rate::-1\n"
    "backend_v1::127.0.0.1:8081::local_origin_success_rate::-1\n"
    "backend_v2::observability_name::backend_v2\n"
    "backend_v2::default_priority::max_connections::100\n"
    "backend_v2::default_priority::max_pending_requests::100\n"
    "backend_v2::default_priority::max_requests::100\n"
    "backend_v2::default_priority::max_retries::10\n"
    "backend_v2::high_priority::max_connections::1024\n"
    "backend_v2::high_priority::max_pending_requests::1024\n"
    "backend_v2::high_priority::max_requests::1024\n"
    "backend_v2::high_priority::max_retries::3\n"
    "backend_v2::added_via_api::false\n";

static void
clusters_text_exact(void)
{
	struct buf b;

	fixture();
	atomic_store(&shm_cl_hosts(shm_cl(shm, 0))[0].sh_flags,
	    SHM_HF_FAILED_ACTIVE_HC);
	buf_init(&b);
	CU_ASSERT_EQUAL_FATAL(mst_clusters_text(&b, conf, &place, shm), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, clusters_expected);
	buf_free(&b);
}

/* /clusters a piece at a time, text and JSON: the pieces make the page
 * whole, whatever the piece size. */
static void
clusters_cursor_pieces_make_the_page(void)
{
	struct mst_clusters_cursor *cur;
	struct buf whole, got;
	size_t want;
	int json, rc, n;

	fixture();
	for (json = 0; json < 2; json++) {
		buf_init(&whole);
		CU_ASSERT_EQUAL_FATAL((json ? mst_clusters_json :
		    mst_clusters_text)(&whole, conf, &place, shm), 0);
		for (want = 1; want <= 1 << 20; want *= 64) {
			buf_init(&got);
			CU_ASSERT_PTR_NOT_NULL_FATAL(cur =
			    mst_clusters_cursor_new(json));
			n = 0;
			while ((rc = mst_clusters_cursor_next(cur, &got, conf,
			    &place, shm, want)) == 1)
				n++;
			CU_ASSERT_EQUAL(rc, 0);
			/* two clusters: one a piece when pieces are small,
			 * one piece when they are large */
			if (want <= 64)
				CU_ASSERT_EQUAL(n, 1);
			if (want >= 1 << 18)
				CU_ASSERT_EQUAL(n, 0);
			CU_ASSERT_EQUAL(got.b_len, whole.b_len);
			CU_ASSERT(got.b_len == whole.b_len && memcmp(
			    got.b_data, whole.b_data, got.b_len) == 0);
			mst_clusters_cursor_free(cur);
			buf_free(&got);
		}
		buf_free(&whole);
	}
}

static void
clusters_json_shape(void)
{
	struct buf b;

	fixture();
	buf_init(&b);
	CU_ASSERT_EQUAL_FATAL(mst_clusters_json(&b, conf, &place, shm), 0);
	CU_ASSERT(starts_with(b.b_data, "{\n \"cluster_statuses\": [\n  {\n"
	    "   \"name\": \"backend_v1\",\n"));
	CU_ASSERT(strstr(b.b_data, "\"observability_name\": \"backend_v2\"")
	    != NULL);
	CU_ASSERT(strstr(b.b_data, "\"address\": \"127.0.0.1\",\n"
	    "       \"port_value\": 8081") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"value\": \"20\",\n       \"name\": "
	    "\"rq_total\"") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"type\": \"GAUGE\",\n       \"value\": "
	    "\"1\",\n       \"name\": \"cx_active\"") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"weight\": 1,\n     \"hostname\": "
	    "\"127.0.0.1\",\n     \"locality\": {}\n") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"eds_health_status\": \"HEALTHY\"") !=
	    NULL);
	CU_ASSERT(strstr(b.b_data, "\"priority\": \"HIGH\"") != NULL);
	buf_free(&b);
}

/*
 * Three listeners, their counters in the records the placement gives
 * them (not their own index): each listener's listener.<address>.* and
 * http.<prefix>.* come from its record alone; /listeners lists them all.
 */
static void
stats_per_listener_records(void)
{
	struct cd_conf *three = load_file("test/configs/listeners/"
	    "three-listeners.yaml");
	struct cd_conf *seed = conf;
	static const char *const want[] = {
	    "listener.0.0.0.0_10000.downstream_cx_total: 11",
	    "listener.0.0.0.0_10001.downstream_cx_total: 12",
	    "listener.0.0.0.0_10002.downstream_cx_total: 13",
	    "http.ingress_public.downstream_rq_2xx: 100",
	    "http.ingress_internal.downstream_rq_2xx: 200",
	    "http.ops.downstream_rq_2xx: 300",
	    "listener.0.0.0.0_10002.http.ops.downstream_rq_completed: 300",
	    NULL };
	struct shm_worker *w0, *w1;
	struct buf b;
	int rec[3] = { 2, 0, 5 }, i;

	CU_ASSERT_FATAL(three != NULL);
	fixture();
	conf = three;
	/* the fixture counted into record 0: start again */
	for (i = 0; i < 3; i++)
		shm_listener_reset(shm, i);
	for (i = 0; i < 3; i++)
		place.pl_listener[i] = rec[i];
	w0 = shm_slot(shm, 0);
	w1 = shm_slot(shm, 1);
	for (i = 0; i < 3; i++) {
		shm_add(&shm_http(shm, w0, rec[i])->hc_c[HC_CX_TOTAL], 1 + i);
		shm_add(&shm_http(shm, w1, rec[i])->hc_c[HC_CX_TOTAL], 10);
		shm_add(&shm_http(shm, w1, rec[i])->hc_code[200 - CD_CODE_MIN],
		    100 * (i + 1));
	}
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	for (i = 0; want[i] != NULL; i++)
		if (!has_line(&b, want[i]))
			CU_FAIL(want[i]);
	CU_ASSERT(has_line(&b, "server.total_connections: 0"));
	buf_free(&b);
	CU_ASSERT_EQUAL_FATAL(render(&b, 2, NULL), 0);
	CU_ASSERT(has_line(&b, "envoy_listener_downstream_cx_total{"
	    "envoy_listener_address=\"0.0.0.0_10001\"} 12"));
	CU_ASSERT(has_line(&b, "envoy_http_downstream_rq_xx{"
	    "envoy_response_code_class=\"2\","
	    "envoy_http_conn_manager_prefix=\"ops\"} 300"));
	buf_free(&b);
	buf_init(&b);
	CU_ASSERT_EQUAL(mst_listeners_page(&b, conf, 0), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "public::0.0.0.0:10000\n"
	    "internal::0.0.0.0:10001\nops::0.0.0.0:10002\n");
	buf_free(&b);
	/* two managers with one stat_prefix share its http.* stats */
	conf_free(three);
	three = load_file_sub("test/configs/listeners/three-listeners.yaml",
	    "stat_prefix: ingress_internal", "stat_prefix: ops");
	CU_ASSERT_FATAL(three != NULL);
	conf = three;
	CU_ASSERT_EQUAL_FATAL(render(&b, 0, NULL), 0);
	CU_ASSERT(has_line(&b, "http.ops.downstream_rq_2xx: 500"));
	CU_ASSERT(strstr(b.b_data, "http.ingress_internal.") == NULL);
	CU_ASSERT(has_line(&b, "listener.0.0.0.0_10001.http.ops."
	    "downstream_rq_completed: 200"));
	buf_free(&b);
	conf = seed;
	conf_free(three);
	for (i = 0; i < 3; i++)
		place.pl_listener[i] = i;
}

static void
listeners_text_and_json(void)
{
	struct buf b;

	fixture();
	buf_init(&b);
	CU_ASSERT_EQUAL(mst_listeners_page(&b, conf, 0), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "main_listener::0.0.0.0:10000\n");
	buf_reset(&b);
	CU_ASSERT_EQUAL(mst_listeners_page(&b, conf, 1), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "{\n \"listener_statuses\": [\n  {\n"
	    "   \"name\": \"main_listener\",\n   \"local_address\": {\n"
	    "    \"socket_address\": {\n     \"address\": \"0.0.0.0\",\n"
	    "     \"port_value\": 10000\n    }\n   }\n  }\n ]\n}\n");
	buf_free(&b);
}

static void
json_pretty_matches_envoy_layout(void)
{
	static const char in[] = " {\"a\":1,\"b\":[],\"c\":{},\"d\":[1,"
	    "{\"e\":\"x\\\"y\\u00e9\"}],\"f\":true,\"g\":null,\"h\":-1.5e3} ";
	static const char want[] =
	    "{\n"
	    " \"a\": 1,\n"
	    " \"b\": [],\n"
	    " \"c\": {},\n"
	    " \"d\": [\n"
	    "  1,\n"
	    "  {\n"
	    "   \"e\": \"x\\\"y\\u00e9\"\n"
	    "  }\n"
	    " ],\n"
	    " \"f\": true,\n"
	    " \"g\": null,\n"
	    " \"h\": -1.5e3\n"
	    "}\n";
	struct buf b;

	buf_init(&b);
	CU_ASSERT_EQUAL(mst_json_pretty(&b, in, strlen(in)), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, want);
	buf_free(&b);
}

/* Fed a piece at a time, cut anywhere, the layout is the whole one's. */
static void
json_pp_pieces_match_the_whole(void)
{
	static const char *const docs[] = {
	    " {\"a\":1,\"b\":[],\"c\":{},\"d\":[1,{\"e\":\"x\\\"y\\u00e9\"}],"
	    "\"f\":true,\"g\":null,\"h\":-1.5e3} ",
	    "[[],{},[[]],{\"\":{}},\"\\\\\",\"a\\\\\\\"b\",123456789,-0.25,false]",
	    "{\"configs\":[{\"@type\":\"t\",\"x\":{\"y\":[{\"z\":\"{[,:]}\"}]}}]}",
	    "\"only a string\"", "42", "{}" };
	struct mst_json_pp pp;
	struct buf whole, got;
	size_t d, k, at, n;

	for (d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		buf_init(&whole);
		CU_ASSERT_EQUAL_FATAL(mst_json_pretty(&whole, docs[d],
		    strlen(docs[d])), 0);
		for (k = 1; k <= 70; k += k < 20 ? 1 : 25) {
			buf_init(&got);
			mst_json_pp_init(&pp);
			for (at = 0; at < strlen(docs[d]); at += n) {
				n = strlen(docs[d]) - at < k ?
				    strlen(docs[d]) - at : k;
				mst_json_pp_feed(&pp, &got, docs[d] + at, n);
			}
			mst_json_pp_end(&pp, &got);
			CU_ASSERT_EQUAL(got.b_len, whole.b_len);
			CU_ASSERT(got.b_len == whole.b_len && memcmp(got.b_data,
			    whole.b_data, got.b_len) == 0);
			buf_free(&got);
		}
		buf_free(&whole);
	}
}

static void
json_pretty_rejects_bad_json(void)
{
	static const char *const bad[] = { "", "{", "{\"a\":}", "[1,]",
	    "{\"a\":1", "{} x", "{a:1}", "\"\x01\"", "[01]", "[1.]", "tru",
	    "{\"a\" 1}", "\"\\x\"", "[\"\\u12\"]", "[-]" };
	char deep[300];
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init(&b);
		errno = 0;
		CU_ASSERT_EQUAL(mst_json_pretty(&b, bad[i],
		    strlen(bad[i])), -1);
		CU_ASSERT_EQUAL(errno, EINVAL);
		buf_free(&b);
	}
	/* nesting deeper than the bound */
	memset(deep, '[', sizeof(deep));
	buf_init(&b);
	CU_ASSERT_EQUAL(mst_json_pretty(&b, deep, sizeof(deep)), -1);
	buf_free(&b);
}

static void
rfc3339_like_protobuf(void)
{
	char s[64];

	mst_json_timestamp(s, sizeof(s), 1795687200123ULL);
	CU_ASSERT_STRING_EQUAL(s, "2026-11-26T10:00:00.123Z");
	mst_json_timestamp(s, sizeof(s), 1795687200000ULL);
	CU_ASSERT_STRING_EQUAL(s, "2026-11-26T10:00:00Z");
	mst_json_timestamp(s, sizeof(s), 5);
	CU_ASSERT_STRING_EQUAL(s, "1970-01-01T00:00:00.005Z");
}

static void
config_dump_six_types_in_order(void)
{
	static const char *const types[] = {
	    "\"@type\": \"type.googleapis.com/envoy.admin.v3."
		"BootstrapConfigDump\"",
	    "\"@type\": \"type.googleapis.com/envoy.admin.v3."
		"ClustersConfigDump\"",
	    "\"@type\": \"type.googleapis.com/envoy.admin.v3."
		"ListenersConfigDump\"",
	    "\"@type\": \"type.googleapis.com/envoy.admin.v3."
		"ScopedRoutesConfigDump\"",
	    "\"@type\": \"type.googleapis.com/envoy.admin.v3."
		"RoutesConfigDump\"",
	    "\"@type\": \"type.googleapis.com/envoy.admin.v3."
		"SecretsConfigDump\"",
	};
	struct buf b;
	const char *p, *q;
	size_t i;

	fixture();
	buf_init(&b);
	CU_ASSERT_EQUAL_FATAL(mst_config_dump(&b, conf, 1795687200123ULL,
	    NULL), 0);
	CU_ASSERT(starts_with(b.b_data, "{\n \"configs\": [\n  {\n   \"@type\": "
	    "\"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\",\n"
	    "   \"bootstrap\": {\n    \"node\": {\n     \"user_agent_name\": "
	    "\"canaryd\",\n"));
	for (p = b.b_data, i = 0; i < 6; i++) {
		q = strstr(p, types[i]);
		CU_ASSERT(q != NULL);
		if (q == NULL)
			break;
		p = q + 1;
	}
	CU_ASSERT(strstr(b.b_data, "   \"static_clusters\": [\n    {\n"
	    "     \"cluster\": {\n      \"@type\": \"type.googleapis.com/"
	    "envoy.config.cluster.v3.Cluster\",\n") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"@type\": \"type.googleapis.com/"
	    "envoy.config.listener.v3.Listener\"") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"@type\": \"type.googleapis.com/"
	    "envoy.config.route.v3.RouteConfiguration\"") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"last_updated\": "
	    "\"2026-11-26T10:00:00.123Z\"") != NULL);
	CU_ASSERT(strstr(b.b_data, "backend_v2") != NULL);
	CU_ASSERT(strstr(b.b_data, "\"static_resources\": {") != NULL);
	CU_ASSERT(b.b_len > 2 && strcmp(b.b_data + b.b_len - 3, "\n}\n") == 0);
	buf_free(&b);
}

static void
config_dump_resource_elements(void)
{
	struct buf b;
	const char *p;
	int n = 0;

	fixture();
	buf_init(&b);
	CU_ASSERT_EQUAL_FATAL(mst_config_dump(&b, conf, 1000,
	    "static_clusters"), 0);
	for (p = b.b_data; (p = strstr(p, "\"@type\": \"type.googleapis.com/"
	    "envoy.admin.v3.ClustersConfigDump.StaticCluster\"")) != NULL; p++)
		n++;
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(strstr(b.b_data, "BootstrapConfigDump") == NULL);
	buf_reset(&b);
	CU_ASSERT_EQUAL(mst_config_dump(&b, conf, 1000,
	    "dynamic_active_clusters"), 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "{\n \"configs\": []\n}\n");
	buf_reset(&b);
	errno = 0;
	CU_ASSERT_EQUAL(mst_config_dump(&b, conf, 1000, "nope"), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	errno = 0;
	CU_ASSERT_EQUAL(mst_config_dump(&b, conf, 1000, "bootstrap"), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	buf_free(&b);
}

/* alt_stat_name, a STATIC IPv6 host, track_remaining, outlier detection */
static const char alt_yaml[] =
    "static_resources:\n"
    "  listeners:\n"
    "  - address:\n"
    "      socket_address: { address: \"::1\", port_value: 10001 }\n"
    "    filter_chains:\n"
    "    - filters:\n"
    "      - name: envoy.filters.network.http_connection_manager\n"
    "        typed_config:\n"
    "          \"@type\": type.googleapis.com/envoy.extensions.filters.network."
    "http_connection_manager.v3.HttpConnectionManager\n"
    "          stat_prefix: edge\n"
    "          route_config:\n"
    "            virtual_hosts:\n"
    "            - name: app\n"
    "              domains: [\"*\"]\n"
    "              routes:\n"
    "              - match: { prefix: \"/\" }\n"
    "                route: { cluster: \"svc:a\" }\n"
    "          http_filters:\n"
    "          - name: envoy.filters.http.router\n"
    "            typed_config:\n"
    "              \"@type\": type.googleapis.com/envoy.extensions."
    "filters.http.router.v3.Router\n"
    "  clusters:\n"
    "  - name: \"svc:a\"\n"
    "    alt_stat_name: \"svc_alt\"\n"
    "    type: STATIC\n"
    "    connect_timeout: 1s\n"
    "    load_assignment:\n"
    "      cluster_name: \"svc:a\"\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint:\n"
    "            address:\n"
    "              socket_address: { address: \"::1\", port_value: 9000 }\n"
    "    circuit_breakers:\n"
    "      thresholds:\n"
    "      - priority: DEFAULT\n"
    "        max_connections: 5\n"
    "        track_remaining: true\n"
    "    outlier_detection:\n"
    "      consecutive_5xx: 3\n";

static void
alt_stat_name_ipv6_and_remaining(void)
{
	struct mst_stats_src src;
	struct mst_stat_list sl;
	struct conf_diags d;
	struct cd_conf *c;
	struct shm_host h;
	struct buf b;

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("alt.yaml", alt_yaml, strlen(alt_yaml), &d);
	conf_diags_free(&d);
	CU_ASSERT_FATAL(c != NULL);
	fixture();
	memset(&h, 0, sizeof(h));
	h.sh_family = AF_INET6;
	inet_pton(AF_INET6, "::1", h.sh_addr);
	h.sh_port = 9000;
	h.sh_weight = 1;
	shm_hosts_publish(shm_cl(shm, 0), &h, 1);
	atomic_store(&shm_cl(shm, 0)->sc_cb[CD_PRIO_DEFAULT][SHM_CB_CX], 2);

	memset(&src, 0, sizeof(src));
	src.ss_conf = c;
	src.ss_place = &place;
	src.ss_shm = shm;
	src.ss_uptime_s = 1;
	src.ss_concurrency = 1;
	src.ss_admin = NULL;
	buf_init(&b);
	CU_ASSERT_FATAL(mst_stats_collect(&src, &sl) == 0);
	CU_ASSERT(mst_stats_text(&b, &sl, NULL) == 0);
	CU_ASSERT(has_line(&b,
	    "cluster.svc_alt.circuit_breakers.default.remaining_cx: 3"));
	CU_ASSERT(has_line(&b,
	    "cluster.svc_alt.circuit_breakers.default.remaining_retries: 3"));
	CU_ASSERT(has_line(&b,
	    "cluster.svc_alt.circuit_breakers.default.cx_open: 0"));
	CU_ASSERT(strstr(b.b_data, "high.remaining") == NULL);
	CU_ASSERT(has_line(&b, "cluster.svc_alt.upstream_rq_total: 20"));
	CU_ASSERT(has_line(&b,
	    "cluster.svc_alt.outlier_detection.ejections_overflow: 0"));
	CU_ASSERT(strstr(b.b_data, "svc:a") == NULL);
	CU_ASSERT(strstr(b.b_data, "health_check.") == NULL);
	CU_ASSERT(has_line(&b, "listener.[__1]_10001.downstream_cx_total: 5"));
	CU_ASSERT(strstr(b.b_data, "http.admin.") == NULL);
	buf_reset(&b);
	CU_ASSERT(mst_stats_prometheus(&b, &sl, NULL) == 0);
	CU_ASSERT(has_line(&b, "envoy_listener_downstream_cx_total{"
	    "envoy_listener_address=\"[__1]_10001\"} 5"));
	CU_ASSERT(has_line(&b, "envoy_listener_http_downstream_rq_xx{"
	    "envoy_response_code_class=\"2\",envoy_http_conn_manager_prefix="
	    "\"edge\",envoy_listener_address=\"[__1]_10001\"} 18"));
	CU_ASSERT(has_line(&b, "envoy_cluster_circuit_breakers_default_"
	    "remaining_cx{envoy_cluster_name=\"svc_alt\"} 3"));
	mst_stats_list_free(&sl);

	buf_reset(&b);
	CU_ASSERT(mst_clusters_text(&b, c, &place, shm) == 0);
	CU_ASSERT(starts_with(b.b_data, "svc:a::observability_name::svc_alt\n"
	    "svc:a::outlier::success_rate_average::-1\n"
	    "svc:a::outlier::success_rate_ejection_threshold::-1\n"
	    "svc:a::outlier::local_origin_success_rate_average::-1\n"
	    "svc:a::outlier::local_origin_success_rate_ejection_threshold::-1\n"
	    "svc:a::default_priority::max_connections::5\n"));
	CU_ASSERT(has_line(&b, "svc:a::[::1]:9000::rq_total::20"));
	/* a STATIC host has no DNS name to show */
	CU_ASSERT(has_line(&b, "svc:a::[::1]:9000::hostname::"));
	buf_reset(&b);
	CU_ASSERT(mst_listeners_page(&b, c, 0) == 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "listener_0::[::1]:10001\n");
	buf_free(&b);
	conf_free(c);
}

/* ---- histograms ------------------------------------------------------- */

static void
rq_time(int slot, int ci, uint64_t us)
{
	struct shm_worker *w = shm_slot(shm, slot);

	hist_record(shm, w, &w->w_cl[ci], us);
}

static int
render_h(struct buf *b, int format, const struct mst_stats_filter *f,
    const struct mst_hist_flush *hf)
{
	struct mst_stats_src src = { conf, &place, shm, 42, 2, &actr, hf, NULL };
	struct mst_stat_list sl;
	int rc;

	buf_init(b);
	if (mst_stats_collect(&src, &sl) == -1) {
		mst_stats_list_free(&sl);
		return -1;
	}
	if (format == 0)
		rc = mst_stats_text(b, &sl, f);
	else if (format == 1)
		rc = mst_stats_json(b, &sl, f);
	else
		rc = mst_stats_prometheus(b, &sl, f);
	mst_stats_list_free(&sl);
	buf_append(b, "", 0);
	return rc;
}

/* 4 x 1 ms land in [0.992, 1.024) ms; quantiles interpolate inside. */
#define V1_1MS	"P0(%s,0.992) P25(%s,1) P50(%s,1.008) P75(%s,1.016) "	\
		"P90(%s,1.021) P95(%s,1.022) P99(%s,1.024) P99.5(%s,1.024) " \
		"P99.9(%s,1.024) P100(%s,1.024)"

static void
stats_hist_text_interval_and_cumulative(void)
{
	static struct mst_hist_flush hf;
	struct mst_stats_filter f;
	char want[512];
	struct buf b;
	const char *n = "nan";

	fixture();
	memset(&hf, 0, sizeof(hf));
	rq_time(0, 0, 1000);
	rq_time(0, 0, 1000);
	rq_time(1, 0, 1000);
	rq_time(1, 0, 1000);

	/* no flush yet: the interval is nan */
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, NULL, &hf), 0);
	snprintf(want, sizeof(want), "cluster.backend_v1.upstream_rq_time: "
	    V1_1MS, n, n, n, n, n, n, n, n, n, n);
	CU_ASSERT(has_line(&b, want));
	CU_ASSERT(has_line(&b,
	    "cluster.backend_v2.upstream_rq_time: No recorded values"));
	buf_free(&b);

	/* a flush: the interval is everything so far */
	mst_stats_hist_flush(&hf, conf, &place, shm);
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, NULL, &hf), 0);
	snprintf(want, sizeof(want), "cluster.backend_v1.upstream_rq_time: "
	    "P0(0.992,0.992) P25(1,1) P50(1.008,1.008) P75(1.016,1.016) "
	    "P90(1.021,1.021) P95(1.022,1.022) P99(1.024,1.024) "
	    "P99.5(1.024,1.024) P99.9(1.024,1.024) P100(1.024,1.024)");
	CU_ASSERT(has_line(&b, want));
	buf_free(&b);

	/* later samples show in the cumulative value at once, in the
	 * interval only after the next flush */
	rq_time(1, 0, 3000);
	rq_time(1, 0, 3000);
	rq_time(1, 0, 3000);
	rq_time(1, 0, 3000);
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, NULL, &hf), 0);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.upstream_rq_time: "
	    "P0(0.992,0.992) ") != NULL);
	CU_ASSERT(strstr(b.b_data, " P100(1.024,3.072)\n") != NULL);
	buf_free(&b);
	mst_stats_hist_flush(&hf, conf, &place, shm);
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, NULL, &hf), 0);
	/* [2944, 3072) us only */
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.upstream_rq_time: "
	    "P0(2.944,0.992) ") != NULL);
	/* cumulative: the 4th of 8 samples is the top of the 1 ms bucket */
	CU_ASSERT(strstr(b.b_data, " P50(3.008,1.024) ") != NULL);
	buf_free(&b);
	/* a quiet interval */
	mst_stats_hist_flush(&hf, conf, &place, shm);
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, NULL, &hf), 0);
	CU_ASSERT(strstr(b.b_data, "cluster.backend_v1.upstream_rq_time: "
	    "P0(nan,0.992) P25(nan,1.008) ") != NULL);
	buf_free(&b);

	/* ?type=Histograms, ?usedonly, ?filter */
	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_HISTOGRAM;
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, &f, &hf), 0);
	CU_ASSERT(starts_with(b.b_data,
	    "cluster.backend_v1.upstream_rq_time: P0(nan,0.992) "));
	CU_ASSERT(strstr(b.b_data, "\ncluster.backend_v2.upstream_rq_time: "
	    "No recorded values\n") != NULL);
	CU_ASSERT(strstr(b.b_data, "upstream_rq_total") == NULL);
	buf_free(&b);
	f.sf_usedonly = 1;
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, &f, &hf), 0);
	CU_ASSERT(strstr(b.b_data, "backend_v1.upstream_rq_time") != NULL);
	CU_ASSERT(strstr(b.b_data, "backend_v2") == NULL);
	buf_free(&b);
	f.sf_types = MST_STAT_COUNTER | MST_STAT_GAUGE;
	f.sf_usedonly = 0;
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, &f, &hf), 0);
	CU_ASSERT(strstr(b.b_data, "upstream_rq_time:") == NULL);
	CU_ASSERT(has_line(&b, "cluster.backend_v1.upstream_rq_timeout: 0"));
	buf_free(&b);
}

static void
stats_hist_flush_forgets_a_reassigned_record(void)
{
	static struct mst_hist_flush hf;
	struct buf b;

	fixture();
	memset(&hf, 0, sizeof(hf));
	rq_time(0, 0, 1000);
	mst_stats_hist_flush(&hf, conf, &place, shm);
	/* record 0 held another cluster before: its snapshot is void */
	CU_ASSERT_PTR_NOT_NULL_FATAL(hf.hf_rec[0]);
	strlcpy(hf.hf_rec[0]->hr_name, "removed_cluster",
	    sizeof(hf.hf_rec[0]->hr_name));
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 0, NULL, &hf), 0);
	CU_ASSERT(strstr(b.b_data, "backend_v1.upstream_rq_time: P0(nan,") !=
	    NULL);
	buf_free(&b);
	rq_time(0, 0, 1000);
	mst_stats_hist_flush(&hf, conf, &place, shm);
	CU_ASSERT_EQUAL(hf.hf_rec[0]->hr_ival.h_count, 2);
	CU_ASSERT_STRING_EQUAL(hf.hf_rec[0]->hr_name, "backend_v1");
	mst_stats_hist_free(&hf);
}

static void
stats_hist_json_quantiles(void)
{
	struct buf b, pretty;
	const char *want =
	    "{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,"
	    "99.5,99.9,100],\"computed_quantiles\":[{\"name\":"
	    "\"cluster.backend_v1.upstream_rq_time\",\"values\":["
	    "{\"cumulative\":0.992,\"interval\":null},"
	    "{\"cumulative\":1,\"interval\":null},";
	struct mst_stats_filter f;

	fixture();
	rq_time(0, 0, 1000);
	rq_time(0, 0, 1000);
	rq_time(1, 0, 1000);
	rq_time(1, 0, 1000);
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 1, NULL, NULL), 0);
	CU_ASSERT(strstr(b.b_data, want) != NULL);
	CU_ASSERT(strstr(b.b_data, "{\"name\":\"cluster.backend_v2."
	    "upstream_rq_time\",\"values\":[{\"cumulative\":null,"
	    "\"interval\":null},") != NULL);
	CU_ASSERT(b.b_len > 5 &&
	    strcmp(b.b_data + b.b_len - 5, "]}}]}") == 0);
	buf_init(&pretty);
	CU_ASSERT(mst_json_pretty(&pretty, b.b_data, b.b_len) == 0);
	buf_free(&pretty);
	buf_free(&b);

	/* only histograms: they are the whole array */
	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_HISTOGRAM;
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 1, &f, NULL), 0);
	CU_ASSERT(starts_with(b.b_data, "{\"stats\":[{\"histograms\":"));
	buf_init(&pretty);
	CU_ASSERT(mst_json_pretty(&pretty, b.b_data, b.b_len) == 0);
	buf_free(&pretty);
	buf_free(&b);
}

static void
stats_hist_prometheus_buckets(void)
{
	struct buf b;
	const char *t;

	fixture();
	rq_time(0, 0, 400);
	rq_time(0, 0, 400);
	rq_time(1, 0, 400);
	rq_time(1, 0, 3000);
	CU_ASSERT_EQUAL_FATAL(render_h(&b, 2, NULL, NULL), 0);
	t = strstr(b.b_data, "# TYPE envoy_cluster_upstream_rq_time histogram\n"
	    "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="
	    "\"backend_v1\",le=\"0.5\"} 3\n"
	    "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="
	    "\"backend_v1\",le=\"1\"} 3\n"
	    "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="
	    "\"backend_v1\",le=\"5\"} 4\n");
	CU_ASSERT(t != NULL);
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_time_bucket{"
	    "envoy_cluster_name=\"backend_v1\",le=\"3600000\"} 4"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_time_bucket{"
	    "envoy_cluster_name=\"backend_v1\",le=\"+Inf\"} 4"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_time_sum{"
	    "envoy_cluster_name=\"backend_v1\"} 4.2"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_time_count{"
	    "envoy_cluster_name=\"backend_v1\"} 4"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_time_bucket{"
	    "envoy_cluster_name=\"backend_v2\",le=\"+Inf\"} 0"));
	CU_ASSERT(has_line(&b, "envoy_cluster_upstream_rq_time_sum{"
	    "envoy_cluster_name=\"backend_v2\"} 0"));
	/* after every gauge family, one TYPE line for both clusters */
	CU_ASSERT(t != NULL && strstr(t, " gauge\n") == NULL &&
	    strstr(t + 1, "# TYPE envoy_cluster_upstream_rq_time ") == NULL);
	buf_free(&b);
}

static void
stats_cluster_quantiles_live_from_shm(void)
{
	static const double q[] = { 0.5, 0.99 };
	double out[2];

	fixture();
	CU_ASSERT_EQUAL(mst_stats_cluster_quantiles(shm, 1, q, 2, out), 0);
	CU_ASSERT(isnan(out[0]) && isnan(out[1]));
	rq_time(0, 1, 1000);
	rq_time(1, 1, 1000);
	CU_ASSERT_EQUAL(mst_stats_cluster_quantiles(shm, 1, q, 2, out), 0);
	CU_ASSERT_DOUBLE_EQUAL(out[0], 1.008, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(out[1], 1.024, 1e-12);	/* 1023.68 us */
	errno = 0;
	CU_ASSERT_EQUAL(mst_stats_cluster_quantiles(shm, UNIT_NCL, q,
	    2, out), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(mst_stats_cluster_quantiles(shm, -1, q, 2, out), -1);
}

#define PROM	(MST_STATS_JSON + 1)

/* The Prometheus page through its cursor; 1 when it would not stream. */
static int
render_prom(const struct mst_stats_src *src, struct mst_stat_list *sl,
    struct buf *b, const struct mst_stats_filter *f, size_t want)
{
	struct mst_prom_cursor *cur;
	int rc, whole;

	if ((cur = mst_prom_cursor_new(src, f, sl, &whole)) == NULL) {
		mst_stats_list_free(sl);
		return whole ? 1 : -1;
	}
	while ((rc = mst_prom_cursor_next(cur, src, b, want)) == 1)
		;
	mst_prom_cursor_free(cur);
	return rc;
}

/* A page at once (want 0) or want bytes a step through the cursor,
 * with one stat added the way the admin adds the runtime's. */
static int
render_c(struct cd_conf *c, struct buf *b, int form,
    const struct mst_stats_filter *f, size_t want)
{
	struct mst_stats_src src = { c, &place, shm, 42, 2, &actr, NULL, NULL };
	struct mst_stats_cursor *cur;
	struct mst_stat_list sl;
	int rc;

	buf_init(b);
	rc = want == 0 ? mst_stats_collect(&src, &sl) :
	    mst_stats_collect_base(&src, &sl);
	if (rc == 0)
		rc = mst_stats_add(&sl, MST_STAT_COUNTER, 7, 1,
		    "cluster.backend_v1.a_extra");
	if (rc == -1) {
		mst_stats_list_free(&sl);
		return -1;
	}
	if (want == 0) {
		rc = form == MST_STATS_TEXT ? mst_stats_text(b, &sl, f) :
		    form == MST_STATS_JSON ? mst_stats_json(b, &sl, f) :
		    mst_stats_prometheus(b, &sl, f);
		mst_stats_list_free(&sl);
	} else if (form == PROM) {
		rc = render_prom(&src, &sl, b, f, want);
	} else {
		if ((cur = mst_stats_cursor_new(&src, f, form, &sl)) == NULL)
			return -1;
		while ((rc = mst_stats_cursor_next(cur, &src, b, want)) == 1)
			;
		mst_stats_cursor_free(cur);
	}
	buf_append(b, "", 0);
	return rc;
}

static void
stream_same(struct cd_conf *c, const struct mst_stats_filter *f)
{
	static const size_t wants[] = { 1, 7, 100, 65536 };
	struct buf whole, piece;
	size_t i;
	int form, rc;

	for (form = MST_STATS_TEXT; form <= PROM; form++) {
		CU_ASSERT_FATAL(render_c(c, &whole, form, f, 0) == 0);
		for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
			rc = render_c(c, &piece, form, f, wants[i]);
			/* Prometheus: a dotted cluster name prints whole */
			CU_ASSERT_FATAL(rc == 0 || (rc == 1 && form == PROM &&
			    c != conf));
			if (rc == 0) {
				CU_ASSERT_EQUAL(piece.b_len, whole.b_len);
				CU_ASSERT_STRING_EQUAL(piece.b_data,
				    whole.b_data);
			}
			buf_free(&piece);
		}
		buf_free(&whole);
	}
}

/* The streamed page is the page at once, byte for byte: every filter,
 * and clusters whose stat names nest (one block then). */
static void
stats_stream_equals_whole(void)
{
	static const char nest[] = "\n  - name: backend_v2\n";
	struct mst_stats_filter f;
	struct conf_diags d;
	struct cd_conf *c;
	struct buf y;
	const char *p;
	regex_t re;
	FILE *fp;
	char tmp[65536];
	size_t n;

	fixture();
	rq_time(0, 0, 1000);
	stream_same(conf, NULL);
	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_ALL;
	f.sf_usedonly = 1;
	stream_same(conf, &f);
	f.sf_usedonly = 0;
	CU_ASSERT_FATAL(regcomp(&re, "rq_(time|total)", REG_EXTENDED |
	    REG_NOSUB) == 0);
	f.sf_re = &re;
	stream_same(conf, &f);
	f.sf_types = MST_STAT_HISTOGRAM;
	stream_same(conf, &f);
	f.sf_types = 0;
	stream_same(conf, &f);
	regfree(&re);

	/* backend_v2's stats named "backend_v1.x": inside backend_v1's */
	CU_ASSERT_FATAL((fp = fopen(SEED, "r")) != NULL);
	n = fread(tmp, 1, sizeof(tmp) - 1, fp);
	fclose(fp);
	tmp[n] = '\0';
	CU_ASSERT_FATAL((p = strstr(tmp, nest)) != NULL);
	buf_init(&y);
	buf_append(&y, tmp, (size_t)(p - tmp) + strlen(nest));
	buf_puts(&y, "    alt_stat_name: backend_v1.x\n");
	buf_puts(&y, p + strlen(nest));
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("nest.yaml", y.b_data, y.b_len, &d);
	conf_diags_free(&d);
	buf_free(&y);
	CU_ASSERT_FATAL(c != NULL);
	stream_same(c, NULL);
	conf_free(c);
}

static void
teardown_last(void)
{
	shm_destroy(shm);
	shm = NULL;
	conf_free(conf);
	conf = NULL;
}

static CU_TestInfo tests[] = {
	{ "stats_text_sums_slots_and_derives_classes",
	    stats_text_sums_slots_and_derives_classes },
	{ "stats_text_per_code_stats_only_once_used",
	    stats_text_per_code_stats_only_once_used },
	{ "stats_text_sorted_by_name_in_byte_order",
	    stats_text_sorted_by_name_in_byte_order },
	{ "stats_membership_and_breaker_gauges",
	    stats_membership_and_breaker_gauges },
	{ "stats_max_requests_counters_in_every_format",
	    stats_max_requests_counters_in_every_format },
	{ "stats_filter_usedonly_and_type", stats_filter_usedonly_and_type },
	{ "stats_json_shape", stats_json_shape },
	{ "stats_prometheus_tags_and_families",
	    stats_prometheus_tags_and_families },
	{ "stats_prometheus_canaryd_families",
	    stats_prometheus_canaryd_families },
	{ "health_flags_strings", health_flags_strings },
	{ "host_addr_v4_and_v6", host_addr_v4_and_v6 },
	{ "clusters_text_exact", clusters_text_exact },
	{ "clusters_json_shape", clusters_json_shape },
	{ "listeners_text_and_json", listeners_text_and_json },
	{ "stats_per_listener_records", stats_per_listener_records },
	{ "json_pretty_matches_envoy_layout", json_pretty_matches_envoy_layout },
	{ "json_pretty_rejects_bad_json", json_pretty_rejects_bad_json },
	{ "json_pp_pieces_match_the_whole", json_pp_pieces_match_the_whole },
	{ "clusters_cursor_pieces_make_the_page",
	    clusters_cursor_pieces_make_the_page },
	{ "rfc3339_like_protobuf", rfc3339_like_protobuf },
	{ "config_dump_six_types_in_order", config_dump_six_types_in_order },
	{ "config_dump_resource_elements", config_dump_resource_elements },
	{ "alt_stat_name_ipv6_and_remaining",
	    alt_stat_name_ipv6_and_remaining },
	{ "stats_hist_text_interval_and_cumulative",
	    stats_hist_text_interval_and_cumulative },
	{ "stats_hist_flush_forgets_a_reassigned_record",
	    stats_hist_flush_forgets_a_reassigned_record },
	{ "stats_hist_json_quantiles", stats_hist_json_quantiles },
	{ "stats_hist_prometheus_buckets", stats_hist_prometheus_buckets },
	{ "stats_cluster_quantiles_live_from_shm",
	    stats_cluster_quantiles_live_from_shm },
	{ "stats_stream_equals_whole", stats_stream_equals_whole },
	{ "teardown_last", teardown_last },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/stats", tests);
