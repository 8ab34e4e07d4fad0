/*
 * /clusters, as text and as JSON (see clusters.h): every cluster's
 * thresholds and hosts with their counters and health, from the running
 * configuration and shm.  Master only; no I/O and no globals.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/shm.h"
#include "shared/stats-t.h"
#include "clusters.h"
#include "json.h"
#include "stats.h"

#define STAT_NAME(id, name)	name,

static const char *const host_c_names[HOC__N] = { CD_HOST_COUNTERS(STAT_NAME) };
static const char *const host_g_names[HOG__N] = { CD_HOST_GAUGES(STAT_NAME) };
static const char *const prio_names[CD_NPRIO] = { "default", "high" };

/* Health flags in the order Envoy prints them (host_utility.cc). */
static const struct {
	uint32_t	 hf_flag;
	const char	*hf_name;
} health_flags[] = {
	{ SHM_HF_FAILED_ACTIVE_HC,	 "/failed_active_hc" },
	{ SHM_HF_FAILED_OUTLIER_CHECK,	 "/failed_outlier_check" },
	{ SHM_HF_FAILED_EDS_HEALTH,	 "/failed_eds_health" },
	{ SHM_HF_DEGRADED_ACTIVE_HC,	 "/degraded_active_hc" },
	{ SHM_HF_DEGRADED_EDS_HEALTH,	 "/degraded_eds_health" },
	{ SHM_HF_PENDING_DYNAMIC_REMOVAL, "/pending_dynamic_removal" },
	{ SHM_HF_PENDING_ACTIVE_HC,	 "/pending_active_hc" },
	{ SHM_HF_EXCLUDED_IMMEDIATE_HC,	 "/excluded_via_immediate_hc_fail" },
	{ SHM_HF_ACTIVE_HC_TIMEOUT,	 "/active_hc_timeout" },
	{ SHM_HF_EDS_STATUS_DRAINING,	 "/eds_status_draining" },
};

const char *
mst_clusters_health_flags(uint32_t flags, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(health_flags) / sizeof(health_flags[0]); i++)
		if (flags & health_flags[i].hf_flag)
			strlcat(buf, health_flags[i].hf_name, len);
	if (buf[0] == '\0')
		strlcpy(buf, "healthy", len);
	return buf;
}

/*
 * Envoy's hostname: a STRICT_DNS or LOGICAL_DNS host carries the name it
 * was resolved from, a STATIC one only what endpoint.hostname says.
 */
static const char *
host_hostname(const struct cd_cluster *cl, const struct shm_host *h)
{
	const struct cd_endpoint *ep;

	if (h->sh_endpoint >= cl->cl_nendpoints)
		return "";
	ep = &cl->cl_endpoints[h->sh_endpoint];
	if (ep->ep_hostname != NULL)
		return ep->ep_hostname;
	if (cl->cl_type != CD_CT_STATIC && ep->ep_address != NULL)
		return ep->ep_address;
	return "";
}

struct host_stat {
	const char	*hs_name;
	uint64_t	 hs_value;
	int		 hs_gauge;
};

static int
host_stat_cmp(const void *a, const void *b)
{
	const struct host_stat *x = a, *y = b;

	return strcmp(x->hs_name, y->hs_name);
}

/* A host's counters then gauges, in the X-macro (Envoy's) order. */
static size_t
host_stats(const struct shm *shm, int ci, uint32_t h, struct host_stat *hs)
{
	size_t n = 0;
	int i;

	for (i = 0; i < HOC__N; i++, n++) {
		hs[n].hs_name = host_c_names[i];
		hs[n].hs_value = shm_sum_host_c(shm, ci, (int)h, i);
		hs[n].hs_gauge = 0;
	}
	for (i = 0; i < HOG__N; i++, n++) {
		hs[n].hs_name = host_g_names[i];
		hs[n].hs_value = mst_stats_gauge(shm_sum_host_g(shm, ci, (int)h, i));
		hs[n].hs_gauge = 1;
	}
	return n;
}

static const char *
cluster_obs_name(const struct cd_cluster *cl)
{
	return cl->cl_alt_stat_name != NULL ? cl->cl_alt_stat_name :
	    cl->cl_name;
}

/* Cluster ci's lines.  0, or -1 (out of memory). */
static int
cluster_text(struct buf *b, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm, size_t ci)
{
	static const char *const od[] = { "success_rate_average",
	    "success_rate_ejection_threshold",
	    "local_origin_success_rate_average",
	    "local_origin_success_rate_ejection_threshold" };
	struct shm_host *hosts;
	struct host_stat hs[HOC__N + HOG__N];
	const struct cd_thresholds *th;
	const struct cd_cluster *cl = &conf->c_clusters[ci];
	char addr[INET6_ADDRSTRLEN + 16], flags[256];
	const char *cn = cl->cl_name;
	uint32_t n, h, seq;
	size_t i, nhs;
	int p;

	buf_printf(b, "%s::observability_name::%s\n", cn,
	    cluster_obs_name(cl));
	if (cl->cl_outlier.od_set)
		for (i = 0; i < sizeof(od) / sizeof(od[0]); i++)
			buf_printf(b, "%s::outlier::%s::-1\n", cn, od[i]);
	for (p = 0; p < CD_NPRIO; p++) {
		th = &cl->cl_thresholds[p];
		buf_printf(b, "%s::%s_priority::max_connections::%u\n",
		    cn, prio_names[p], th->th_max_connections);
		buf_printf(b, "%s::%s_priority::max_pending_requests::%u\n",
		    cn, prio_names[p], th->th_max_pending_requests);
		buf_printf(b, "%s::%s_priority::max_requests::%u\n",
		    cn, prio_names[p], th->th_max_requests);
		buf_printf(b, "%s::%s_priority::max_retries::%u\n",
		    cn, prio_names[p], th->th_max_retries);
	}
	buf_printf(b, "%s::added_via_api::false\n", cn);

	if ((hosts = shm_hosts_dup(shm_cl(shm, pl->pl_cluster[ci]), &n,
	    &seq)) == NULL)
		return -1;
	for (h = 0; h < n; h++) {
		shm_host_addr(&hosts[h], addr, sizeof(addr));
		nhs = host_stats(shm, pl->pl_cluster[ci], h, hs);
		qsort(hs, nhs, sizeof(hs[0]), host_stat_cmp);
		for (i = 0; i < nhs; i++)
			buf_printf(b, "%s::%s::%s::%" PRIu64 "\n", cn, addr,
			    hs[i].hs_name, hs[i].hs_value);
		buf_printf(b, "%s::%s::hostname::%s\n", cn, addr,
		    host_hostname(cl, &hosts[h]));
		buf_printf(b, "%s::%s::health_flags::%s\n", cn, addr,
		    mst_clusters_health_flags(shm_host_flags(shm,
		    pl->pl_cluster[ci], h), flags, sizeof(flags)));
		buf_printf(b, "%s::%s::weight::%u\n", cn, addr,
		    hosts[h].sh_weight);
		buf_printf(b, "%s::%s::region::\n", cn, addr);
		buf_printf(b, "%s::%s::zone::\n", cn, addr);
		buf_printf(b, "%s::%s::sub_zone::\n", cn, addr);
		buf_printf(b, "%s::%s::canary::false\n", cn, addr);
		buf_printf(b, "%s::%s::priority::0\n", cn, addr);
		buf_printf(b, "%s::%s::success_rate::-1\n", cn, addr);
		buf_printf(b, "%s::%s::local_origin_success_rate::-1\n", cn,
		    addr);
	}
	free(hosts);
	return 0;
}

int
mst_clusters_text(struct buf *b, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm)
{
	size_t ci;

	for (ci = 0; ci < conf->c_nclusters; ci++)
		if (cluster_text(b, conf, pl, shm, ci) == -1)
			return -1;
	return b->b_oom ? -1 : 0;
}

static void
json_host_status(struct buf *c, const struct cd_cluster *cl,
    const struct shm *shm, int ci, uint32_t h, const struct shm_host *host)
{
	/* HostHealthStatus booleans, in field-number order (eds is 3rd) */
	static const struct {
		uint32_t	 flag;
		const char	*name;
	} hhs[] = {
		{ SHM_HF_FAILED_ACTIVE_HC, "failed_active_health_check" },
		{ SHM_HF_FAILED_OUTLIER_CHECK, "failed_outlier_check" },
		{ 0, NULL },	/* eds_health_status */
		{ SHM_HF_DEGRADED_ACTIVE_HC, "failed_active_degraded_check" },
		{ SHM_HF_PENDING_DYNAMIC_REMOVAL, "pending_dynamic_removal" },
		{ SHM_HF_PENDING_ACTIVE_HC, "pending_active_hc" },
		{ SHM_HF_EXCLUDED_IMMEDIATE_HC,
		    "excluded_via_immediate_hc_fail" },
		{ SHM_HF_ACTIVE_HC_TIMEOUT, "active_hc_timeout" },
	};
	struct host_stat hs[HOC__N + HOG__N];
	char ip[INET6_ADDRSTRLEN];
	const char *eds, *hn;
	uint32_t f = shm_host_flags(shm, ci, h);
	size_t i, n;
	int first;

	shm_host_ip(host, ip, sizeof(ip));
	buf_printf(c, "{\"address\":{\"socket_address\":{\"address\":\"%s\","
	    "\"port_value\":%u}},\"stats\":[", ip, host->sh_port);
	/* SimpleMetric: type (omitted for COUNTER), value (a uint64, so a
	 * string, omitted when 0), name */
	n = host_stats(shm, ci, h, hs);
	for (i = 0; i < n; i++) {
		buf_puts(c, i > 0 ? ",{" : "{");
		if (hs[i].hs_gauge)
			buf_puts(c, "\"type\":\"GAUGE\",");
		if (hs[i].hs_value != 0)
			buf_printf(c, "\"value\":\"%" PRIu64 "\",",
			    hs[i].hs_value);
		buf_printf(c, "\"name\":\"%s\"}", hs[i].hs_name);
	}
	buf_puts(c, "],\"health_status\":{");
	if (f & SHM_HF_FAILED_EDS_HEALTH)
		eds = "UNHEALTHY";
	else if (f & SHM_HF_EDS_STATUS_DRAINING)
		eds = "DRAINING";
	else if (f & SHM_HF_DEGRADED_EDS_HEALTH)
		eds = "DEGRADED";
	else
		eds = "HEALTHY";
	first = 1;
	for (i = 0; i < sizeof(hhs) / sizeof(hhs[0]); i++) {
		if (hhs[i].name == NULL)
			buf_printf(c, "%s\"eds_health_status\":\"%s\"",
			    first ? "" : ",", eds);
		else if (f & hhs[i].flag)
			buf_printf(c, "%s\"%s\":true", first ? "" : ",",
			    hhs[i].name);
		else
			continue;
		first = 0;
	}
	buf_printf(c, "},\"weight\":%u", host->sh_weight);
	hn = host_hostname(cl, host);
	if (*hn != '\0') {
		buf_puts(c, ",\"hostname\":");
		buf_json_str(c, hn, strlen(hn));
	}
	buf_puts(c, ",\"locality\":{}}");
}

/* Cluster ci's ClusterStatus, compact, a comma before it unless it is
 * the first.  0, or -1 (out of memory). */
static int
cluster_json(struct buf *c, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm, size_t ci)
{
	const struct cd_cluster *cl = &conf->c_clusters[ci];
	const struct cd_thresholds *th;
	struct shm_host *hosts;
	uint32_t n, h, seq;
	int p;

	buf_puts(c, ci > 0 ? ",{\"name\":" : "{\"name\":");
	buf_json_str(c, cl->cl_name, strlen(cl->cl_name));
	if ((hosts = shm_hosts_dup(shm_cl(shm, pl->pl_cluster[ci]), &n,
	    &seq)) == NULL)
		return -1;
	if (n > 0) {
		buf_puts(c, ",\"host_statuses\":[");
		for (h = 0; h < n; h++) {
			if (h > 0)
				buf_puts(c, ",");
			json_host_status(c, cl, shm, pl->pl_cluster[ci], h,
			    &hosts[h]);
		}
		buf_puts(c, "]");
	}
	free(hosts);
	buf_puts(c, ",\"circuit_breakers\":{\"thresholds\":[");
	for (p = 0; p < CD_NPRIO; p++) {
		th = &cl->cl_thresholds[p];
		buf_printf(c, "%s{%s\"max_connections\":%u,"
		    "\"max_pending_requests\":%u,\"max_requests\":%u,"
		    "\"max_retries\":%u}", p > 0 ? "," : "",
		    p == CD_PRIO_HIGH ? "\"priority\":\"HIGH\"," : "",
		    th->th_max_connections, th->th_max_pending_requests,
		    th->th_max_requests, th->th_max_retries);
	}
	buf_puts(c, "]},\"observability_name\":");
	buf_json_str(c, cluster_obs_name(cl), strlen(cluster_obs_name(cl)));
	buf_puts(c, "}");
	return c->b_oom ? -1 : 0;
}

int
mst_clusters_json(struct buf *b, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm)
{
	struct buf c;
	size_t ci;
	int rc = 0;

	buf_init(&c);
	buf_puts(&c, "{\"cluster_statuses\":[");
	for (ci = 0; ci < conf->c_nclusters && rc == 0; ci++)
		rc = cluster_json(&c, conf, pl, shm, ci);
	buf_puts(&c, "]}");
	if (rc == 0)
		rc = c.b_oom ? -1 : mst_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}

struct mst_clusters_cursor {
	int			 cc_json;
	int			 cc_begun;	/* JSON: the head is out */
	size_t			 cc_ci;		/* the next cluster */
	struct buf		 cc_c;		/* JSON: compact scratch */
	struct mst_json_pp	 cc_pp;
};

struct mst_clusters_cursor *
mst_clusters_cursor_new(int json)
{
	struct mst_clusters_cursor *cur;

	if ((cur = calloc(1, sizeof(*cur))) == NULL)
		return NULL;
	cur->cc_json = json;
	buf_init(&cur->cc_c);
	mst_json_pp_init(&cur->cc_pp);
	return cur;
}

void
mst_clusters_cursor_free(struct mst_clusters_cursor *cur)
{
	if (cur == NULL)
		return;
	buf_free(&cur->cc_c);
	free(cur);
}

int
mst_clusters_cursor_next(struct mst_clusters_cursor *cur, struct buf *b,
    const struct cd_conf *conf, const struct cd_place *pl,
    const struct shm *shm, size_t want)
{
	size_t start = b->b_len, done = 0;
	int rc = 0;

	if (cur->cc_json && !cur->cc_begun) {
		cur->cc_begun = 1;
		buf_puts(&cur->cc_c, "{\"cluster_statuses\":[");
	}
	/* one cluster at least, then up to want */
	while (cur->cc_ci < conf->c_nclusters && rc == 0 && (done++ == 0 ||
	    b->b_len - start + cur->cc_c.b_len < want)) {
		if (cur->cc_json)
			rc = cluster_json(&cur->cc_c, conf, pl, shm,
			    cur->cc_ci);
		else
			rc = cluster_text(b, conf, pl, shm, cur->cc_ci);
		cur->cc_ci++;
	}
	if (cur->cc_json && cur->cc_ci == conf->c_nclusters)
		buf_puts(&cur->cc_c, "]}");
	if (cur->cc_json) {
		mst_json_pp_feed(&cur->cc_pp, b, cur->cc_c.b_data,
		    cur->cc_c.b_len);
		buf_reset(&cur->cc_c);
		if (cur->cc_ci == conf->c_nclusters)
			mst_json_pp_end(&cur->cc_pp, b);
	}
	if (rc == -1 || b->b_oom || cur->cc_c.b_oom)
		return -1;
	return cur->cc_ci < conf->c_nclusters ? 1 : 0;
}
