/*
 * Admin page renderers (see stats.h): the stat snapshot and its text, JSON
 * and Prometheus forms, /clusters, /listeners, /config_dump and the JSON
 * pretty-printer.  Master only; no I/O and no globals, so the unit tests
 * can check every byte.
 *
 * Invariant: every number printed is read from shm when the page is built.
 * Per status code counters are summed per code, and the <N>xx and
 * _completed totals are derived from those same sums, so the classes always
 * add up to the total on one page.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/buf.h"
#include "shared/hist.h"
#include "shared/shm.h"
#include "shared/stats-t.h"
#include "shared/text.h"
#include "shared/version.h"
#include "stats.h"

#define STAT_NAME(id, name)	name,

static const char *const http_c_names[HC__N] = { CD_HTTP_COUNTERS(STAT_NAME) };
static const char *const http_g_names[HG__N] = { CD_HTTP_GAUGES(STAT_NAME) };
static const char *const cl_c_names[CC__N] = { CD_CLUSTER_COUNTERS(STAT_NAME) };
static const char *const cl_g_names[CG__N] = { CD_CLUSTER_GAUGES(STAT_NAME) };
static const char *const host_c_names[HOC__N] = { CD_HOST_COUNTERS(STAT_NAME) };
static const char *const host_g_names[HOG__N] = { CD_HOST_GAUGES(STAT_NAME) };

static const char *const prio_names[CD_NPRIO] = { "default", "high" };

/* Envoy's supported quantiles, as fractions and as /stats prints them. */
static const double hist_q[MST_HIST_NQ] = {
	0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1
};
static const char *const hist_q_names[MST_HIST_NQ] = {
	"0", "25", "50", "75", "90", "95", "99", "99.5", "99.9", "100"
};
/* Envoy's default histogram bucket bounds, ms (Prometheus "le"). */
static const double hist_le[MST_HIST_NLE] = {
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000
};

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

/* Gauges are signed in shm (add/sub from many slots); Envoy's are not. */
static uint64_t
gauge_u(int64_t v)
{
	return v < 0 ? 0 : (uint64_t)v;
}

static uint32_t
cb_load(const struct shm *shm, int cl, int prio, int res)
{
	int32_t v;

	v = atomic_load_explicit(&shm->clusters[cl].sc_cb[prio][res],
	    memory_order_relaxed);
	return v < 0 ? 0 : (uint32_t)v;
}

static uint32_t
host_flags(const struct shm *shm, int cl, uint32_t h)
{
	return atomic_load_explicit(&shm->clusters[cl].sc_hosts[h].sh_flags,
	    memory_order_relaxed);
}

/* The name a cluster's stats live under: alt_stat_name if set (Envoy's
 * observability name), ':' made '_' as Envoy's stat names do. */
static void
cluster_stat_prefix(const struct cd_cluster *cl, char *buf, size_t len)
{
	const char *s;
	char *p;

	if (cl->cl_alt_stat_name != NULL)
		s = cl->cl_alt_stat_name;
	else if (cl->cl_stat_name != NULL)
		s = cl->cl_stat_name;
	else
		s = cl->cl_name;
	strlcpy(buf, s, len);
	for (p = buf; *p != '\0'; p++)
		if (*p == ':')
			*p = '_';
}

/* "0.0.0.0_10000", "[__1]_10000": Envoy's listener stat scope. */
static void
listener_stat_addr(const struct cd_listener *l, char *buf, size_t len)
{
	const char *a = l->l_addr.sa_address != NULL ? l->l_addr.sa_address :
	    "0.0.0.0";
	char *p;

	if (strchr(a, ':') != NULL)
		snprintf(buf, len, "[%s]_%u", a, l->l_addr.sa_port);
	else
		snprintf(buf, len, "%s_%u", a, l->l_addr.sa_port);
	for (p = buf; *p != '\0'; p++)
		if (*p == ':')
			*p = '_';
}

/* ---- the stat list ---------------------------------------------------- */

static int sl_add(struct mst_stat_list *, int, uint64_t, int, const char *,
    ...) __attribute__((format(printf, 5, 6)));

static int
sl_add(struct mst_stat_list *sl, int type, uint64_t value, int used,
    const char *fmt, ...)
{
	struct mst_stat *st, *v;
	va_list ap;
	size_t off, cap;
	int rc;

	if (sl->sl_oom)
		return -1;
	if (sl->sl_n == sl->sl_cap) {
		cap = sl->sl_cap != 0 ? sl->sl_cap * 2 : 256;
		if ((v = reallocarray(sl->sl_v, cap, sizeof(*v))) == NULL) {
			sl->sl_oom = 1;
			return -1;
		}
		sl->sl_v = v;
		sl->sl_cap = cap;
	}
	off = sl->sl_names.b_len;
	va_start(ap, fmt);
	rc = buf_vprintf(&sl->sl_names, fmt, ap);
	va_end(ap);
	/* the NUL goes into the buffer too: names sit back to back */
	if (rc == -1 || buf_append(&sl->sl_names, "", 1) == -1) {
		sl->sl_oom = 1;
		return -1;
	}
	st = &sl->sl_v[sl->sl_n++];
	st->st_name = NULL;
	st->st_off = off;
	st->st_value = value;
	st->st_type = type;
	st->st_used = used;
	st->st_hist = 0;
	return 0;
}

#define ADD_C(sl, v, ...)	sl_add((sl), MST_STAT_COUNTER, (v), (v) != 0, \
				    __VA_ARGS__)
/* a gauge the master sets itself counts as written (?usedonly) */
#define ADD_G(sl, v, used, ...)	sl_add((sl), MST_STAT_GAUGE, (v), (used), \
				    __VA_ARGS__)

static void
collect_http(struct mst_stat_list *sl, const struct cd_listener *l,
    const struct shm *shm)
{
	const char *p = l->l_stat_prefix != NULL ? l->l_stat_prefix : "";
	uint64_t cls[6] = { 0 }, done = 0, v;
	char la[CD_HOSTNAME_MAX + 16];
	int i, code;

	for (i = 0; i < HC__N; i++) {
		if (i == HC_CX_OVERFLOW)
			continue;	/* a listener stat in Envoy: below */
		v = shm_sum_http_c(shm, i);
		ADD_C(sl, v, "http.%s.%s", p, http_c_names[i]);
	}
	for (i = 0; i < HG__N; i++) {
		v = gauge_u(shm_sum_http_g(shm, i));
		ADD_G(sl, v, v != 0, "http.%s.%s", p, http_g_names[i]);
	}
	for (code = CD_CODE_MIN; code <= CD_CODE_MAX; code++) {
		v = shm_sum_http_code(shm, code);
		cls[code / 100] += v;
		done += v;
	}
	/* eager in Envoy's connection manager: printed even when 0 */
	for (i = 1; i <= 5; i++)
		ADD_C(sl, cls[i], "http.%s.downstream_rq_%dxx", p, i);
	ADD_C(sl, done, "http.%s.downstream_rq_completed", p);

	/* one listener, so its connection counts are the manager's */
	listener_stat_addr(l, la, sizeof(la));
	v = shm_sum_http_c(shm, HC_CX_TOTAL);
	ADD_C(sl, v, "listener.%s.downstream_cx_total", la);
	v = shm_sum_http_c(shm, HC_CX_DESTROY);
	ADD_C(sl, v, "listener.%s.downstream_cx_destroy", la);
	v = gauge_u(shm_sum_http_g(shm, HG_CX_ACTIVE));
	ADD_G(sl, v, v != 0, "listener.%s.downstream_cx_active", la);
	/* max_connections_per_worker refusals (and out of memory) */
	v = shm_sum_http_c(shm, HC_CX_OVERFLOW);
	ADD_C(sl, v, "listener.%s.%s", la, http_c_names[HC_CX_OVERFLOW]);
	for (i = 1; i <= 5; i++)
		ADD_C(sl, cls[i], "listener.%s.http.%s.downstream_rq_%dxx",
		    la, p, i);
	ADD_C(sl, done, "listener.%s.http.%s.downstream_rq_completed", la, p);
}

/* Per code counters are created lazily by Envoy: print non-zero ones, and
 * a class or _completed total once a code under it was counted. */
static void
collect_codes(struct mst_stat_list *sl, const struct shm *shm, int ci,
    const char *cn, int retry)
{
	const char *sub = retry ? "retry." : "";
	uint64_t cls[6] = { 0 }, done = 0, v;
	int code, i;

	for (code = CD_CODE_MIN; code <= CD_CODE_MAX; code++) {
		v = retry ? shm_sum_cluster_retry_code(shm, ci, code) :
		    shm_sum_cluster_code(shm, ci, code);
		if (v == 0)
			continue;
		ADD_C(sl, v, "cluster.%s.%supstream_rq_%d", cn, sub, code);
		cls[code / 100] += v;
		done += v;
	}
	for (i = 1; i <= 5; i++)
		if (cls[i] != 0)
			ADD_C(sl, cls[i], "cluster.%s.%supstream_rq_%dxx", cn,
			    sub, i);
	if (done != 0)
		ADD_C(sl, done, "cluster.%s.%supstream_rq_completed", cn, sub);
}

/*
 * cluster.<n>.upstream_rq_time: cumulative from shm now, the interval
 * from the last flush when it was taken for this same cluster.
 */
static void
collect_hist(struct mst_stat_list *sl, const struct mst_stats_src *src,
    const struct cd_cluster *cl, int ci, const char *cn)
{
	const struct mst_hist_flush *hf = src->ss_hist;
	struct mst_hist_stat *hs, *v;
	struct hist h;
	size_t cap;
	int i;

	if (sl->sl_oom)
		return;
	if (sl->sl_nh == sl->sl_hcap) {
		cap = sl->sl_hcap != 0 ? sl->sl_hcap * 2 : 8;
		if ((v = reallocarray(sl->sl_h, cap, sizeof(*v))) == NULL) {
			sl->sl_oom = 1;
			return;
		}
		sl->sl_h = v;
		sl->sl_hcap = cap;
	}
	hs = &sl->sl_h[sl->sl_nh];
	hist_collect(src->ss_shm, ci, &h);
	hist_quantiles_ms(&h, hist_q, MST_HIST_NQ, hs->hs_cum);
	hs->hs_count = h.h_count;
	hs->hs_sum_us = h.h_sum_us;
	for (i = 0; i < MST_HIST_NLE; i++)
		hs->hs_le[i] = hist_count_le(&h, hist_le[i]);
	if (hf != NULL && hf->hf_flushes > 0 &&
	    strcmp(hf->hf_name[ci], cl->cl_name) == 0)
		hist_quantiles_ms(&hf->hf_ival[ci], hist_q, MST_HIST_NQ,
		    hs->hs_ival);
	else
		for (i = 0; i < MST_HIST_NQ; i++)
			hs->hs_ival[i] = NAN;
	if (sl_add(sl, MST_STAT_HISTOGRAM, h.h_count, h.h_count != 0,
	    "cluster.%s.upstream_rq_time", cn) == -1)
		return;
	sl->sl_v[sl->sl_n - 1].st_hist = sl->sl_nh++;
}

static void
collect_cluster(struct mst_stat_list *sl, const struct mst_stats_src *src,
    const struct cd_cluster *cl, int ci)
{
	const struct shm *shm = src->ss_shm;
	struct shm_host hosts[CD_MAX_HOSTS];
	const struct cd_thresholds *th;
	char cn[CD_NAME_MAX + 8];
	uint64_t v, healthy = 0, hc_healthy = 0, ejected = 0, maxw = 0;
	uint32_t n, h, seq, f, cur[SHM_CB__N];
	const char *pn;
	int i, p, r;

	cluster_stat_prefix(cl, cn, sizeof(cn));
	for (i = 0; i < CC__N; i++) {
		/* Envoy creates these scopes only with a checker / detector */
		if (cl->cl_hc == NULL &&
		    strncmp(cl_c_names[i], "health_check.", 13) == 0)
			continue;
		if (!cl->cl_outlier.od_set &&
		    strncmp(cl_c_names[i], "outlier_detection.", 18) == 0)
			continue;
		v = shm_sum_cluster_c(shm, ci, i);
		ADD_C(sl, v, "cluster.%s.%s", cn, cl_c_names[i]);
	}
	for (i = 0; i < CG__N; i++) {
		v = gauge_u(shm_sum_cluster_g(shm, ci, i));
		ADD_G(sl, v, v != 0, "cluster.%s.%s", cn, cl_g_names[i]);
	}
	collect_codes(sl, shm, ci, cn, 0);
	collect_codes(sl, shm, ci, cn, 1);
	collect_hist(sl, src, cl, ci, cn);

	n = shm_hosts_read(&shm->clusters[ci], hosts, &seq);
	for (h = 0; h < n; h++) {
		f = host_flags(shm, ci, h);
		if ((f & SHM_HF_UNHEALTHY) == 0)
			healthy++;
		if ((f & SHM_HF_FAILED_ACTIVE_HC) == 0)
			hc_healthy++;
		if (f & SHM_HF_FAILED_OUTLIER_CHECK)
			ejected++;
		if (hosts[h].sh_weight > maxw)
			maxw = hosts[h].sh_weight;
	}
	ADD_G(sl, n, 1, "cluster.%s.membership_total", cn);
	ADD_G(sl, healthy, 1, "cluster.%s.membership_healthy", cn);
	ADD_G(sl, 0, 1, "cluster.%s.membership_degraded", cn);
	ADD_G(sl, 0, 1, "cluster.%s.membership_excluded", cn);
	ADD_G(sl, maxw, 1, "cluster.%s.max_host_weight", cn);
	if (cl->cl_hc != NULL)
		ADD_G(sl, hc_healthy, 1, "cluster.%s.health_check.healthy", cn);
	/* the master flags ejected hosts itself: the flags are the count */
	if (cl->cl_outlier.od_set)
		ADD_G(sl, ejected, 1,
		    "cluster.%s.outlier_detection.ejections_active", cn);
	ADD_G(sl, 0, 0, "cluster.%s.version", cn);
	ADD_G(sl, 0, 0, "cluster.%s.warming_state", cn);

	for (p = 0; p < CD_NPRIO; p++) {
		th = &cl->cl_thresholds[p];
		pn = prio_names[p];
		for (r = 0; r < SHM_CB__N; r++)
			cur[r] = cb_load(shm, ci, p, r);
		v = cur[SHM_CB_CX] >= th->th_max_connections;
		ADD_G(sl, v, v, "cluster.%s.circuit_breakers.%s.cx_open", cn, pn);
		/* no max_connection_pools setting: that breaker never opens */
		ADD_G(sl, 0, 0, "cluster.%s.circuit_breakers.%s.cx_pool_open",
		    cn, pn);
		v = cur[SHM_CB_PENDING] >= th->th_max_pending_requests;
		ADD_G(sl, v, v, "cluster.%s.circuit_breakers.%s.rq_pending_open",
		    cn, pn);
		v = cur[SHM_CB_RQ] >= th->th_max_requests;
		ADD_G(sl, v, v, "cluster.%s.circuit_breakers.%s.rq_open", cn, pn);
		v = cur[SHM_CB_RETRY] >= th->th_max_retries;
		ADD_G(sl, v, v, "cluster.%s.circuit_breakers.%s.rq_retry_open",
		    cn, pn);
		if (!th->th_track_remaining)
			continue;
#define REMAINING(max, c)	((c) >= (max) ? 0 : (uint64_t)((max) - (c)))
		ADD_G(sl, REMAINING(th->th_max_connections, cur[SHM_CB_CX]), 1,
		    "cluster.%s.circuit_breakers.%s.remaining_cx", cn, pn);
		ADD_G(sl, REMAINING(th->th_max_pending_requests,
		    cur[SHM_CB_PENDING]), 1,
		    "cluster.%s.circuit_breakers.%s.remaining_pending", cn, pn);
		ADD_G(sl, REMAINING(th->th_max_requests, cur[SHM_CB_RQ]), 1,
		    "cluster.%s.circuit_breakers.%s.remaining_rq", cn, pn);
		ADD_G(sl, REMAINING(th->th_max_retries, cur[SHM_CB_RETRY]), 1,
		    "cluster.%s.circuit_breakers.%s.remaining_retries", cn, pn);
#undef REMAINING
	}
}

static void
collect_server(struct mst_stat_list *sl, const struct mst_stats_src *src)
{
	const struct shm *shm = src->ss_shm;
	uint64_t n = src->ss_conf->c_nclusters;

	ADD_G(sl, n, 1, "cluster_manager.active_clusters");
	ADD_G(sl, 0, 1, "cluster_manager.warming_clusters");
	ADD_C(sl, n, "cluster_manager.cluster_added");

	ADD_G(sl, atomic_load(&shm->hdr.h_live), 1, "server.live");
	ADD_G(sl, atomic_load(&shm->hdr.h_state), 1, "server.state");
	ADD_G(sl, src->ss_uptime_s, 1, "server.uptime");
	ADD_G(sl, src->ss_concurrency < 0 ? 0 : (uint64_t)src->ss_concurrency,
	    1, "server.concurrency");
	ADD_G(sl, gauge_u(shm_sum_http_g(shm, HG_CX_ACTIVE)), 1,
	    "server.total_connections");
	ADD_G(sl, 0, 1, "server.version");
	ADD_G(sl, 0, 1, "server.hot_restart_epoch");
	ADD_C(sl, 0, "server.static_unknown_fields");
	ADD_C(sl, atomic_load(&shm->hdr.h_reloads), "server.config_reload");
	ADD_C(sl, atomic_load(&shm->hdr.h_reload_fails),
	    "server.config_reload_fail");
}

static void
collect_admin(struct mst_stat_list *sl, const struct mst_admin_ctr *ac)
{
	int i;

	ADD_C(sl, ac->ac_cx_total, "http.admin.downstream_cx_total");
	ADD_G(sl, ac->ac_cx_active, ac->ac_cx_active != 0,
	    "http.admin.downstream_cx_active");
	ADD_C(sl, ac->ac_rq_total, "http.admin.downstream_rq_total");
	for (i = 0; i < 5; i++)
		ADD_C(sl, ac->ac_rq_class[i], "http.admin.downstream_rq_%dxx",
		    i + 1);
	ADD_C(sl, ac->ac_cx_total, "listener.admin.downstream_cx_total");
	ADD_G(sl, ac->ac_cx_active, ac->ac_cx_active != 0,
	    "listener.admin.downstream_cx_active");
}

static int
stat_cmp(const void *a, const void *b)
{
	const struct mst_stat *x = a, *y = b;

	return strcmp(x->st_name, y->st_name);
}

int
mst_stats_collect(const struct mst_stats_src *src, struct mst_stat_list *sl)
{
	const struct cd_conf *conf = src->ss_conf;
	size_t i;

	memset(sl, 0, sizeof(*sl));
	buf_init(&sl->sl_names);
	if (conf->c_listener != NULL)
		collect_http(sl, conf->c_listener, src->ss_shm);
	for (i = 0; i < conf->c_nclusters && i < CD_MAX_CLUSTERS; i++)
		collect_cluster(sl, src, &conf->c_clusters[i],
		    src->ss_place->pl_cluster[i]);
	collect_server(sl, src);
	if (src->ss_admin != NULL)
		collect_admin(sl, src->ss_admin);
	if (sl->sl_oom) {
		errno = ENOMEM;
		return -1;
	}
	/* the name buffer has stopped moving: offsets become pointers */
	for (i = 0; i < sl->sl_n; i++)
		sl->sl_v[i].st_name = sl->sl_names.b_data + sl->sl_v[i].st_off;
	if (sl->sl_n > 0)
		qsort(sl->sl_v, sl->sl_n, sizeof(*sl->sl_v), stat_cmp);
	return 0;
}

int
mst_stats_add(struct mst_stat_list *sl, int type, uint64_t value, int used,
    const char *name)
{
	size_t i;

	if (sl_add(sl, type, value, used, "%s", name) == -1) {
		errno = ENOMEM;
		return -1;
	}
	/* the name buffer may have moved: every pointer again, then sort */
	for (i = 0; i < sl->sl_n; i++)
		sl->sl_v[i].st_name = sl->sl_names.b_data + sl->sl_v[i].st_off;
	qsort(sl->sl_v, sl->sl_n, sizeof(*sl->sl_v), stat_cmp);
	return 0;
}

void
mst_stats_list_free(struct mst_stat_list *sl)
{
	free(sl->sl_v);
	free(sl->sl_h);
	buf_free(&sl->sl_names);
	memset(sl, 0, sizeof(*sl));
}

int
mst_stats_match(const struct mst_stats_filter *f, const struct mst_stat *st)
{
	if (f == NULL)
		return 1;
	if ((st->st_type & f->sf_types) == 0)
		return 0;
	if (f->sf_usedonly && !st->st_used)
		return 0;
	if (f->sf_re != NULL && regexec(f->sf_re, st->st_name, 0, NULL, 0) != 0)
		return 0;
	return 1;
}

int
mst_stats_text(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f)
{
	const struct mst_hist_stat *hs;
	const struct mst_stat *st;
	char iv[32], cv[32];
	size_t i;
	int q;

	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type != MST_STAT_HISTOGRAM && mst_stats_match(f, st))
			buf_printf(b, "%s: %" PRIu64 "\n", st->st_name,
			    st->st_value);
	}
	/* Envoy: histograms after counters and gauges, sorted by name */
	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type != MST_STAT_HISTOGRAM ||
		    !mst_stats_match(f, st))
			continue;
		hs = &sl->sl_h[st->st_hist];
		if (hs->hs_count == 0) {
			buf_printf(b, "%s: No recorded values\n", st->st_name);
			continue;
		}
		buf_printf(b, "%s:", st->st_name);
		for (q = 0; q < MST_HIST_NQ; q++) {
			hist_fmt(iv, sizeof(iv), hs->hs_ival[q]);
			hist_fmt(cv, sizeof(cv), hs->hs_cum[q]);
			buf_printf(b, " P%s(%s,%s)", hist_q_names[q], iv, cv);
		}
		buf_puts(b, "\n");
	}
	return b->b_oom ? -1 : 0;
}

/* A JSON number for v; NaN and infinities become null. */
void
mst_stats_json_num(struct buf *b, double v)
{
	char s[64];

	if (!isfinite(v)) {
		buf_puts(b, "null");
		return;
	}
	hist_fmt(s, sizeof(s), v);
	buf_puts(b, s);
}

/* The last element of the "stats" array: every matching histogram. */
static void
json_histograms(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f, int first)
{
	const struct mst_hist_stat *hs;
	const struct mst_stat *st;
	size_t i;
	int q, n = 0;

	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type != MST_STAT_HISTOGRAM ||
		    !mst_stats_match(f, st))
			continue;
		if (n++ == 0) {
			buf_puts(b, first ? "" : ",");
			buf_puts(b, "{\"histograms\":"
			    "{\"supported_quantiles\":[");
			for (q = 0; q < MST_HIST_NQ; q++)
				buf_printf(b, "%s%s", q > 0 ? "," : "",
				    hist_q_names[q]);
			buf_puts(b, "],\"computed_quantiles\":[");
		} else
			buf_puts(b, ",");
		hs = &sl->sl_h[st->st_hist];
		buf_puts(b, "{\"name\":");
		buf_json_str(b, st->st_name, strlen(st->st_name));
		buf_puts(b, ",\"values\":[");
		for (q = 0; q < MST_HIST_NQ; q++) {
			buf_puts(b, q > 0 ? ",{\"cumulative\":" :
			    "{\"cumulative\":");
			mst_stats_json_num(b, hs->hs_cum[q]);
			buf_puts(b, ",\"interval\":");
			mst_stats_json_num(b, hs->hs_ival[q]);
			buf_puts(b, "}");
		}
		buf_puts(b, "]}");
	}
	if (n > 0)
		buf_puts(b, "]}}");
}

int
mst_stats_json(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f)
{
	size_t i;
	int first = 1;

	buf_puts(b, "{\"stats\":[");
	for (i = 0; i < sl->sl_n; i++) {
		if (sl->sl_v[i].st_type == MST_STAT_HISTOGRAM ||
		    !mst_stats_match(f, &sl->sl_v[i]))
			continue;
		buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
		buf_json_str(b, sl->sl_v[i].st_name, strlen(sl->sl_v[i].st_name));
		buf_printf(b, ",\"value\":%" PRIu64 "}", sl->sl_v[i].st_value);
		first = 0;
	}
	json_histograms(b, sl, f, first);
	buf_puts(b, "]}");
	return b->b_oom ? -1 : 0;
}

/* ---- Prometheus -------------------------------------------------------- */

/*
 * Envoy's default tag extractors (well_known_names.cc) that can match a
 * canaryd stat, in Envoy's order, which is also the label order.  Each is
 * applied to the original name; the characters of its first capture group
 * are removed from the metric name and the second group is the value.
 */
enum prom_tag_id {
	TAG_RESPONSE_CODE,	/* _rq(_(\d{3}))$ */
	TAG_RESPONSE_CODE_CLASS,	/* _rq_((\d))xx$ */
	TAG_CLUSTER_NAME,	/* ^cluster\.((.*?)\.) */
	TAG_HCM_PREFIX,		/* ^(?:|listener(?=\.).*?\.)http\.((.*?)\.) */
	TAG_LISTENER_ADDRESS,	/* ^listener\.(((?:[_.[:digit:]]*|
				   [_\[\]aAbBcCdDeEfF[:digit:]]*))\.) */
	TAG_CANARY_ROUTE,	/* canaryd's: ^canary\.((.*?)\.)rollout\. */
	TAG__N
};

static const char *const prom_tag_names[TAG__N] = {
	"envoy_response_code",
	"envoy_response_code_class",
	"envoy_cluster_name",
	"envoy_http_conn_manager_prefix",
	"envoy_listener_address",
	"canaryd_route",
};

struct prom_tag {
	int	 t_id;
	size_t	 t_off;		/* value: a slice of the stat name */
	size_t	 t_len;
};

struct prom_ent {
	const struct mst_stat *pe_st;
	size_t		 pe_fam_off;
	const char	*pe_fam;
	struct prom_tag	 pe_tags[TAG__N];
	int		 pe_ntags;
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
prom_tag(struct prom_ent *pe, char *rm, int id, size_t voff, size_t vlen,
    size_t roff, size_t rlen)
{
	struct prom_tag *t = &pe->pe_tags[pe->pe_ntags++];

	t->t_id = id;
	t->t_off = voff;
	t->t_len = vlen;
	memset(rm + roff, 1, rlen);
}

/* Fill pe's tags and mark in rm (strlen(name) bytes) what leaves the name. */
static void
prom_extract(const char *s, size_t len, char *rm, struct prom_ent *pe)
{
	const char *d;
	size_t p, q, last;

	if (len >= 7 && is_digit(s[len - 1]) && is_digit(s[len - 2]) &&
	    is_digit(s[len - 3]) && memcmp(s + len - 7, "_rq_", 4) == 0)
		prom_tag(pe, rm, TAG_RESPONSE_CODE, len - 3, 3, len - 4, 4);
	if (len >= 7 && memcmp(s + len - 2, "xx", 2) == 0 &&
	    is_digit(s[len - 3]) && memcmp(s + len - 7, "_rq_", 4) == 0)
		prom_tag(pe, rm, TAG_RESPONSE_CODE_CLASS, len - 3, 1,
		    len - 3, 1);
	if (strncmp(s, "cluster.", 8) == 0 &&
	    (d = strchr(s + 8, '.')) != NULL)
		prom_tag(pe, rm, TAG_CLUSTER_NAME, 8, (size_t)(d - s) - 8,
		    8, (size_t)(d - s) - 7);

	/* http.<prefix>. or listener.<...>.http.<prefix>. */
	p = 0;
	if (strncmp(s, "http.", 5) == 0)
		p = 5;
	else if (strncmp(s, "listener.", 9) == 0 &&
	    (d = strstr(s + 8, ".http.")) != NULL)
		p = (size_t)(d - s) + 6;
	if (p != 0 && (d = strchr(s + p, '.')) != NULL) {
		q = (size_t)(d - s);
		prom_tag(pe, rm, TAG_HCM_PREFIX, p, q - p, p, q - p + 1);
	}

	/* the rollout engine's canary.<route>.rollout.*: one family */
	if (strncmp(s, "canary.", 7) == 0 &&
	    (d = strstr(s + 7, ".rollout.")) != NULL && d > s + 7)
		prom_tag(pe, rm, TAG_CANARY_ROUTE, 7, (size_t)(d - s) - 7,
		    7, (size_t)(d - s) - 6);

	if (strncmp(s, "listener.", 9) == 0) {
		/* first alternative: the longest run of [_.0-9] up to a dot */
		last = 0;
		for (q = 9; q < len && (is_digit(s[q]) || s[q] == '_' ||
		    s[q] == '.'); q++)
			if (s[q] == '.')
				last = q;
		if (last != 0)
			prom_tag(pe, rm, TAG_LISTENER_ADDRESS, 9, last - 9, 9,
			    last - 8);
		else {
			/* second: bracketed hex ([__1]_80), then a dot */
			for (q = 9; q < len && (is_digit(s[q]) || s[q] == '_' ||
			    s[q] == '[' || s[q] == ']' ||
			    (s[q] >= 'a' && s[q] <= 'f') ||
			    (s[q] >= 'A' && s[q] <= 'F')); q++)
				;
			if (q < len && s[q] == '.')
				prom_tag(pe, rm, TAG_LISTENER_ADDRESS, 9, q - 9,
				    9, q - 8);
		}
	}
}

static int
prom_cmp(const void *a, const void *b)
{
	const struct prom_ent *x = a, *y = b;
	int c;

	/* counters, then gauges, then histograms: the type bits ascend */
	if (x->pe_st->st_type != y->pe_st->st_type)
		return x->pe_st->st_type < y->pe_st->st_type ? -1 : 1;
	if ((c = strcmp(x->pe_fam, y->pe_fam)) != 0)
		return c;
	return strcmp(x->pe_st->st_name, y->pe_st->st_name);
}

static void
prom_label_value(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			buf_append(b, "\\", 1);
		if (s[i] == '\n')
			buf_append(b, "\\n", 2);
		else
			buf_append(b, &s[i], 1);
	}
}

/* {tag="value",...[,le="<le>"]}: "{}" even with no label, as Envoy. */
static void
prom_labels(struct buf *b, const struct prom_ent *pe, const char *le)
{
	int k;

	buf_append(b, "{", 1);
	for (k = 0; k < pe->pe_ntags; k++) {
		buf_printf(b, "%s%s=\"", k > 0 ? "," : "",
		    prom_tag_names[pe->pe_tags[k].t_id]);
		prom_label_value(b, pe->pe_st->st_name + pe->pe_tags[k].t_off,
		    pe->pe_tags[k].t_len);
		buf_append(b, "\"", 1);
	}
	if (le != NULL)
		buf_printf(b, "%sle=\"%s\"", pe->pe_ntags > 0 ? "," : "", le);
	buf_append(b, "}", 1);
}

/*
 * One histogram series: cumulative _bucket counts at Envoy's bounds (a
 * fine bucket counts under a bound when its upper edge is <= the bound,
 * shared/hist.h), +Inf, _sum in ms, _count.
 */
static void
prom_histogram(struct buf *b, const struct prom_ent *pe,
    const struct mst_hist_stat *hs)
{
	char le[32];
	int i;

	for (i = 0; i < MST_HIST_NLE; i++) {
		hist_fmt(le, sizeof(le), hist_le[i]);
		buf_printf(b, "%s_bucket", pe->pe_fam);
		prom_labels(b, pe, le);
		buf_printf(b, " %" PRIu64 "\n", hs->hs_le[i]);
	}
	buf_printf(b, "%s_bucket", pe->pe_fam);
	prom_labels(b, pe, "+Inf");
	buf_printf(b, " %" PRIu64 "\n", hs->hs_count);
	buf_printf(b, "%s_sum", pe->pe_fam);
	prom_labels(b, pe, NULL);
	hist_fmt(le, sizeof(le), (double)hs->hs_sum_us / 1000.0);
	buf_printf(b, " %s\n", le);
	buf_printf(b, "%s_count", pe->pe_fam);
	prom_labels(b, pe, NULL);
	buf_printf(b, " %" PRIu64 "\n", hs->hs_count);
}

int
mst_stats_prometheus(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f)
{
	struct prom_ent *ents = NULL, *pe;
	struct buf fams;
	char *rm = NULL, *nrm;
	size_t i, j, n = 0, len, rmcap = 0;
	const char *prev = NULL;
	int prev_type = 0, rc = -1;

	buf_init(&fams);
	if (sl->sl_n > 0 &&
	    (ents = calloc(sl->sl_n, sizeof(*ents))) == NULL)
		goto out;
	for (i = 0; i < sl->sl_n; i++) {
		const struct mst_stat *st = &sl->sl_v[i];

		if (!mst_stats_match(f, st))
			continue;
		len = strlen(st->st_name);
		if (len + 1 > rmcap) {
			if ((nrm = realloc(rm, len + 1)) == NULL)
				goto out;
			rm = nrm;
			rmcap = len + 1;
		}
		memset(rm, 0, len + 1);
		pe = &ents[n++];
		pe->pe_st = st;
		prom_extract(st->st_name, len, rm, pe);
		pe->pe_fam_off = fams.b_len;
		buf_puts(&fams, "envoy_");
		for (j = 0; j < len; j++) {
			char c = st->st_name[j];

			if (rm[j])
				continue;
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    is_digit(c) || c == '_'))
				c = '_';
			buf_append(&fams, &c, 1);
		}
		buf_append(&fams, "", 1);
	}
	if (fams.b_oom)
		goto out;
	for (i = 0; i < n; i++)
		ents[i].pe_fam = fams.b_data + ents[i].pe_fam_off;
	if (n > 0)
		qsort(ents, n, sizeof(*ents), prom_cmp);

	for (i = 0; i < n; i++) {
		pe = &ents[i];
		if (prev == NULL || prev_type != pe->pe_st->st_type ||
		    strcmp(prev, pe->pe_fam) != 0)
			buf_printf(b, "# TYPE %s %s\n", pe->pe_fam,
			    pe->pe_st->st_type == MST_STAT_COUNTER ? "counter" :
			    pe->pe_st->st_type == MST_STAT_GAUGE ? "gauge" :
			    "histogram");
		prev = pe->pe_fam;
		prev_type = pe->pe_st->st_type;
		if (pe->pe_st->st_type == MST_STAT_HISTOGRAM) {
			prom_histogram(b, pe, &sl->sl_h[pe->pe_st->st_hist]);
			continue;
		}
		buf_puts(b, pe->pe_fam);
		prom_labels(b, pe, NULL);
		buf_printf(b, " %" PRIu64 "\n", pe->pe_st->st_value);
	}
	rc = b->b_oom ? -1 : 0;
out:
	if (rc == -1)
		errno = ENOMEM;
	free(rm);
	free(ents);
	buf_free(&fams);
	return rc;
}

/* ---- histograms ------------------------------------------------------- */

void
mst_stats_hist_flush(struct mst_hist_flush *hf, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm)
{
	struct hist now;
	size_t i;
	int ci;

	for (i = 0; i < conf->c_nclusters && i < CD_MAX_CLUSTERS; i++) {
		ci = pl->pl_cluster[i];
		if (ci < 0 || ci >= CD_MAX_CLUSTERS)
			continue;
		hist_collect(shm, ci, &now);
		/* a record taken over by another cluster: nothing before */
		if (strcmp(hf->hf_name[ci], conf->c_clusters[i].cl_name) != 0) {
			memset(&hf->hf_last[ci], 0, sizeof(hf->hf_last[ci]));
			strlcpy(hf->hf_name[ci], conf->c_clusters[i].cl_name,
			    sizeof(hf->hf_name[ci]));
		}
		hist_sub(&hf->hf_ival[ci], &now, &hf->hf_last[ci]);
		hf->hf_last[ci] = now;
	}
	hf->hf_flushes++;
}

int
mst_stats_cluster_quantiles(const struct shm *shm, int shm_ci,
    const double *q, size_t nq, double *out)
{
	struct hist h;

	if (shm_ci < 0 || shm_ci >= CD_MAX_CLUSTERS) {
		errno = EINVAL;
		return -1;
	}
	hist_collect(shm, shm_ci, &h);
	hist_quantiles_ms(&h, q, nq, out);
	return 0;
}

/* ---- /clusters ----------------------------------------------------------- */

const char *
mst_stats_health_flags(uint32_t flags, char *buf, size_t len)
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

static void
host_ip(const struct shm_host *h, char *buf, size_t len)
{
	if (inet_ntop(h->sh_family == AF_INET6 ? AF_INET6 : AF_INET,
	    h->sh_addr, buf, (socklen_t)len) == NULL)
		strlcpy(buf, "?", len);
}

void
mst_stats_host_addr(const struct shm_host *h, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	host_ip(h, ip, sizeof(ip));
	if (h->sh_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, h->sh_port);
	else
		snprintf(buf, len, "%s:%u", ip, h->sh_port);
}

/*
 * Envoy's hostname: a STRICT_DNS host carries the name it was resolved
 * from, a STATIC one only what endpoint.hostname says.
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
	if (cl->cl_type == CD_CT_STRICT_DNS && ep->ep_address != NULL)
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
		hs[n].hs_value = gauge_u(shm_sum_host_g(shm, ci, (int)h, i));
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

int
mst_stats_clusters(struct buf *b, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm)
{
	static const char *const od[] = { "success_rate_average",
	    "success_rate_ejection_threshold",
	    "local_origin_success_rate_average",
	    "local_origin_success_rate_ejection_threshold" };
	struct shm_host hosts[CD_MAX_HOSTS];
	struct host_stat hs[HOC__N + HOG__N];
	const struct cd_thresholds *th;
	const struct cd_cluster *cl;
	char addr[INET6_ADDRSTRLEN + 16], flags[256];
	const char *cn;
	uint32_t n, h, seq;
	size_t ci, i, nhs;
	int p;

	for (ci = 0; ci < conf->c_nclusters && ci < CD_MAX_CLUSTERS; ci++) {
		cl = &conf->c_clusters[ci];
		cn = cl->cl_name;
		buf_printf(b, "%s::observability_name::%s\n", cn,
		    cluster_obs_name(cl));
		if (cl->cl_outlier.od_set)
			for (i = 0; i < sizeof(od) / sizeof(od[0]); i++)
				buf_printf(b, "%s::outlier::%s::-1\n", cn, od[i]);
		for (p = 0; p < CD_NPRIO; p++) {
			th = &cl->cl_thresholds[p];
			buf_printf(b, "%s::%s_priority::max_connections::%u\n",
			    cn, prio_names[p], th->th_max_connections);
			buf_printf(b,
			    "%s::%s_priority::max_pending_requests::%u\n",
			    cn, prio_names[p], th->th_max_pending_requests);
			buf_printf(b, "%s::%s_priority::max_requests::%u\n",
			    cn, prio_names[p], th->th_max_requests);
			buf_printf(b, "%s::%s_priority::max_retries::%u\n",
			    cn, prio_names[p], th->th_max_retries);
		}
		buf_printf(b, "%s::added_via_api::false\n", cn);

		n = shm_hosts_read(&shm->clusters[pl->pl_cluster[ci]], hosts,
		    &seq);
		for (h = 0; h < n; h++) {
			mst_stats_host_addr(&hosts[h], addr, sizeof(addr));
			nhs = host_stats(shm, pl->pl_cluster[ci], h, hs);
			qsort(hs, nhs, sizeof(hs[0]), host_stat_cmp);
			for (i = 0; i < nhs; i++)
				buf_printf(b, "%s::%s::%s::%" PRIu64 "\n", cn,
				    addr, hs[i].hs_name, hs[i].hs_value);
			buf_printf(b, "%s::%s::hostname::%s\n", cn, addr,
			    host_hostname(cl, &hosts[h]));
			buf_printf(b, "%s::%s::health_flags::%s\n", cn, addr,
			    mst_stats_health_flags(host_flags(shm,
			    pl->pl_cluster[ci], h), flags, sizeof(flags)));
			buf_printf(b, "%s::%s::weight::%u\n", cn, addr,
			    hosts[h].sh_weight);
			buf_printf(b, "%s::%s::region::\n", cn, addr);
			buf_printf(b, "%s::%s::zone::\n", cn, addr);
			buf_printf(b, "%s::%s::sub_zone::\n", cn, addr);
			buf_printf(b, "%s::%s::canary::false\n", cn, addr);
			buf_printf(b, "%s::%s::priority::0\n", cn, addr);
			buf_printf(b, "%s::%s::success_rate::-1\n", cn, addr);
			buf_printf(b, "%s::%s::local_origin_success_rate::-1\n",
			    cn, addr);
		}
	}
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
	uint32_t f = host_flags(shm, ci, h);
	size_t i, n;
	int first;

	host_ip(host, ip, sizeof(ip));
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

int
mst_stats_clusters_json(struct buf *b, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm)
{
	struct shm_host hosts[CD_MAX_HOSTS];
	const struct cd_thresholds *th;
	const struct cd_cluster *cl;
	struct buf c;
	uint32_t n, h, seq;
	size_t ci;
	int p, rc;

	buf_init(&c);
	buf_puts(&c, "{\"cluster_statuses\":[");
	for (ci = 0; ci < conf->c_nclusters && ci < CD_MAX_CLUSTERS; ci++) {
		cl = &conf->c_clusters[ci];
		buf_puts(&c, ci > 0 ? ",{\"name\":" : "{\"name\":");
		buf_json_str(&c, cl->cl_name, strlen(cl->cl_name));
		n = shm_hosts_read(&shm->clusters[pl->pl_cluster[ci]], hosts,
		    &seq);
		if (n > 0) {
			buf_puts(&c, ",\"host_statuses\":[");
			for (h = 0; h < n; h++) {
				if (h > 0)
					buf_puts(&c, ",");
				json_host_status(&c, cl, shm,
				    pl->pl_cluster[ci], h,
				    &hosts[h]);
			}
			buf_puts(&c, "]");
		}
		buf_puts(&c, ",\"circuit_breakers\":{\"thresholds\":[");
		for (p = 0; p < CD_NPRIO; p++) {
			th = &cl->cl_thresholds[p];
			buf_printf(&c, "%s{%s\"max_connections\":%u,"
			    "\"max_pending_requests\":%u,\"max_requests\":%u,"
			    "\"max_retries\":%u}", p > 0 ? "," : "",
			    p == CD_PRIO_HIGH ? "\"priority\":\"HIGH\"," : "",
			    th->th_max_connections, th->th_max_pending_requests,
			    th->th_max_requests, th->th_max_retries);
		}
		buf_puts(&c, "]},\"observability_name\":");
		buf_json_str(&c, cluster_obs_name(cl),
		    strlen(cluster_obs_name(cl)));
		buf_puts(&c, "}");
	}
	buf_puts(&c, "]}");
	rc = c.b_oom ? -1 : mst_stats_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}

/* ---- /listeners ---------------------------------------------------------- */

int
mst_stats_listeners(struct buf *b, const struct cd_conf *conf, int json)
{
	const struct cd_listener *l = conf->c_listener;
	const char *name, *a;
	struct buf c;
	int rc;

	if (l == NULL)
		return json ? buf_puts(b, "{}\n") : 0;
	name = l->l_name != NULL ? l->l_name : "listener_0";
	a = l->l_addr.sa_address != NULL ? l->l_addr.sa_address : "0.0.0.0";
	if (!json) {
		if (strchr(a, ':') != NULL)
			buf_printf(b, "%s::[%s]:%u\n", name, a, l->l_addr.sa_port);
		else
			buf_printf(b, "%s::%s:%u\n", name, a, l->l_addr.sa_port);
		return b->b_oom ? -1 : 0;
	}
	buf_init(&c);
	buf_puts(&c, "{\"listener_statuses\":[{\"name\":");
	buf_json_str(&c, name, strlen(name));
	buf_puts(&c, ",\"local_address\":{\"socket_address\":{\"address\":");
	buf_json_str(&c, a, strlen(a));
	buf_printf(&c, ",\"port_value\":%u}}}]}", l->l_addr.sa_port);
	rc = c.b_oom ? -1 : mst_stats_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}

/* ---- /config_dump ------------------------------------------------------- */

#define TYPE_PREFIX	"type.googleapis.com/"

int
mst_stats_rfc3339(char *buf, size_t len, uint64_t ms)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	char ymd[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ymd, sizeof(ymd), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return snprintf(buf, len, "1970-01-01T00:00:00Z");
	if (ms % 1000 == 0)
		return snprintf(buf, len, "%sZ", ymd);
	return snprintf(buf, len, "%s.%03uZ", ymd, (unsigned int)(ms % 1000));
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * Append the compact object obj with key:value (already JSON) as its first
 * member, unless it already starts with that key.  A missing or malformed
 * object becomes {key:value} alone.
 */
static void
json_prepend(struct buf *b, const char *key, const char *value,
    const char *obj)
{
	const char *p = obj != NULL ? skip_ws(obj) : "";
	char first[64];

	snprintf(first, sizeof(first), "{\"%s\"", key);
	if (*p != '{') {
		buf_printf(b, "{\"%s\":%s}", key, value);
		return;
	}
	if (strncmp(p, first, strlen(first)) == 0) {
		buf_puts(b, p);
		return;
	}
	buf_printf(b, "{\"%s\":%s", key, value);
	p = skip_ws(p + 1);
	if (*p != '}')
		buf_puts(b, ",");
	buf_puts(b, p);
}

/* The message obj packed as an Any: "@type" first. */
static void
json_any(struct buf *b, const char *type, const char *obj)
{
	char t[160];

	snprintf(t, sizeof(t), "\"" TYPE_PREFIX "%s\"", type);
	json_prepend(b, "@type", t, obj);
}

static void
cd_bootstrap(struct buf *b, const struct cd_conf *conf, const char *ts)
{
	unsigned int maj = 0, min = 0, pat = 0;
	char node[512];
	int nv;

	/* the node Envoy describes itself with; proto3 JSON drops zeros */
	sscanf(CANARYD_VERSION, "%u.%u.%u", &maj, &min, &pat);
	nv = snprintf(node, sizeof(node), "{\"user_agent_name\":\"canaryd\","
	    "\"user_agent_build_version\":{\"version\":{");
	if (maj != 0)
		nv += snprintf(node + nv, sizeof(node) - (size_t)nv,
		    "\"major_number\":%u%s", maj, min || pat ? "," : "");
	if (min != 0)
		nv += snprintf(node + nv, sizeof(node) - (size_t)nv,
		    "\"minor_number\":%u%s", min, pat ? "," : "");
	if (pat != 0)
		nv += snprintf(node + nv, sizeof(node) - (size_t)nv,
		    "\"patch\":%u", pat);
	snprintf(node + nv, sizeof(node) - (size_t)nv, "},\"metadata\":{"
	    "\"build.type\":\"RELEASE\",\"revision.status\":\"Clean\","
	    "\"ssl.version\":\"no-ssl\"}}}");

	buf_puts(b, "{\"@type\":\"" TYPE_PREFIX
	    "envoy.admin.v3.BootstrapConfigDump\",\"bootstrap\":");
	json_prepend(b, "node", node, conf->c_json_bootstrap);
	buf_printf(b, ",\"last_updated\":\"%s\"}", ts);
}

/* Static resources: {"@type"?, "<field>":<Any>, "last_updated":ts} */
static void
cd_static(struct buf *b, const char *elem_type, const char *field,
    const char *msg_type, const char *msg, const char *ts)
{
	if (elem_type != NULL)
		buf_printf(b, "{\"@type\":\"" TYPE_PREFIX "%s\",\"%s\":",
		    elem_type, field);
	else
		buf_printf(b, "{\"%s\":", field);
	json_any(b, msg_type, msg);
	buf_printf(b, ",\"last_updated\":\"%s\"}", ts);
}

enum cd_res_kind {
	CD_RES_CLUSTERS,
	CD_RES_LISTENERS,
	CD_RES_ROUTES,
	CD_RES_EMPTY,		/* repeated, nothing static lands there */
	CD_RES_SCALAR,		/* not repeated: Envoy wants ?mask= */
};

static const struct {
	const char	*r_name;
	enum cd_res_kind r_kind;
} cd_resources[] = {
	{ "static_clusters",		CD_RES_CLUSTERS },
	{ "static_listeners",		CD_RES_LISTENERS },
	{ "static_route_configs",	CD_RES_ROUTES },
	{ "dynamic_active_clusters",	CD_RES_EMPTY },
	{ "dynamic_warming_clusters",	CD_RES_EMPTY },
	{ "dynamic_listeners",		CD_RES_EMPTY },
	{ "dynamic_route_configs",	CD_RES_EMPTY },
	{ "inline_scoped_route_configs", CD_RES_EMPTY },
	{ "dynamic_scoped_route_configs", CD_RES_EMPTY },
	{ "static_secrets",		CD_RES_EMPTY },
	{ "dynamic_active_secrets",	CD_RES_EMPTY },
	{ "dynamic_warming_secrets",	CD_RES_EMPTY },
	{ "bootstrap",			CD_RES_SCALAR },
	{ "last_updated",		CD_RES_SCALAR },
	{ "version_info",		CD_RES_SCALAR },
};

#define CLUSTER_T	"envoy.config.cluster.v3.Cluster"
#define LISTENER_T	"envoy.config.listener.v3.Listener"
#define ROUTE_T		"envoy.config.route.v3.RouteConfiguration"

static void
cd_clusters(struct buf *b, const struct cd_conf *conf, const char *ts,
    const char *elem_type)
{
	size_t i;

	for (i = 0; i < conf->c_nclusters; i++) {
		if (i > 0)
			buf_puts(b, ",");
		cd_static(b, elem_type, "cluster", CLUSTER_T,
		    conf->c_json_clusters != NULL ? conf->c_json_clusters[i] :
		    NULL, ts);
	}
}

int
mst_stats_config_dump(struct buf *b, const struct cd_conf *conf,
    uint64_t loaded_ms, const char *resource)
{
	enum cd_res_kind kind = CD_RES_EMPTY;
	struct buf c;
	char ts[64];
	size_t i;
	int rc;

	if (resource != NULL) {
		for (i = 0; i < sizeof(cd_resources) / sizeof(cd_resources[0]);
		    i++)
			if (strcmp(resource, cd_resources[i].r_name) == 0)
				break;
		if (i == sizeof(cd_resources) / sizeof(cd_resources[0])) {
			errno = ENOENT;
			return -1;
		}
		if ((kind = cd_resources[i].r_kind) == CD_RES_SCALAR) {
			errno = EINVAL;
			return -1;
		}
	}
	mst_stats_rfc3339(ts, sizeof(ts), loaded_ms);
	buf_init(&c);
	buf_puts(&c, "{\"configs\":[");
	if (resource == NULL) {
		cd_bootstrap(&c, conf, ts);
		buf_puts(&c, ",{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.ClustersConfigDump\"");
		if (conf->c_nclusters > 0) {
			buf_puts(&c, ",\"static_clusters\":[");
			cd_clusters(&c, conf, ts, NULL);
			buf_puts(&c, "]");
		}
		buf_puts(&c, "},{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.ListenersConfigDump\"");
		if (conf->c_listener != NULL) {
			buf_puts(&c, ",\"static_listeners\":[");
			cd_static(&c, NULL, "listener", LISTENER_T,
			    conf->c_json_listener, ts);
			buf_puts(&c, "]");
		}
		buf_puts(&c, "},{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.ScopedRoutesConfigDump\"}");
		buf_puts(&c, ",{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.RoutesConfigDump\"");
		if (conf->c_listener != NULL) {
			buf_puts(&c, ",\"static_route_configs\":[");
			cd_static(&c, NULL, "route_config", ROUTE_T,
			    conf->c_json_route_config, ts);
			buf_puts(&c, "]");
		}
		buf_puts(&c, "},{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.SecretsConfigDump\"}");
	} else if (kind == CD_RES_CLUSTERS)
		cd_clusters(&c, conf, ts,
		    "envoy.admin.v3.ClustersConfigDump.StaticCluster");
	else if (kind == CD_RES_LISTENERS && conf->c_listener != NULL)
		cd_static(&c, "envoy.admin.v3.ListenersConfigDump.StaticListener",
		    "listener", LISTENER_T, conf->c_json_listener, ts);
	else if (kind == CD_RES_ROUTES && conf->c_listener != NULL)
		cd_static(&c,
		    "envoy.admin.v3.RoutesConfigDump.StaticRouteConfig",
		    "route_config", ROUTE_T, conf->c_json_route_config, ts);
	buf_puts(&c, "]}");
	rc = c.b_oom ? -1 : mst_stats_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}

/* ---- JSON pretty-printer ----------------------------------------------- */

#define JP_MAX_DEPTH	100

struct jp {
	const char	*j_s;
	size_t		 j_len;
	size_t		 j_pos;
	struct buf	*j_out;
};

static void
jp_ws(struct jp *j)
{
	while (j->j_pos < j->j_len && (j->j_s[j->j_pos] == ' ' ||
	    j->j_s[j->j_pos] == '\t' || j->j_s[j->j_pos] == '\n' ||
	    j->j_s[j->j_pos] == '\r'))
		j->j_pos++;
}

static int
jp_peek(struct jp *j)
{
	jp_ws(j);
	return j->j_pos < j->j_len ? (unsigned char)j->j_s[j->j_pos] : -1;
}

static void
jp_newline(struct jp *j, int level)
{
	static const char sp[] = "                                ";
	int n;

	buf_append(j->j_out, "\n", 1);
	while (level > 0) {
		n = level < (int)sizeof(sp) - 1 ? level : (int)sizeof(sp) - 1;
		buf_append(j->j_out, sp, (size_t)n);
		level -= n;
	}
}

/* A string, copied as written (escapes stay escapes). */
static int
jp_string(struct jp *j)
{
	size_t start = j->j_pos, i;
	unsigned char c;

	if (j->j_pos >= j->j_len || j->j_s[j->j_pos] != '"')
		return -1;
	for (j->j_pos++; j->j_pos < j->j_len; j->j_pos++) {
		c = (unsigned char)j->j_s[j->j_pos];
		if (c == '"') {
			j->j_pos++;
			buf_append(j->j_out, j->j_s + start, j->j_pos - start);
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (++j->j_pos >= j->j_len)
			return -1;
		switch (j->j_s[j->j_pos]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			break;
		case 'u':
			for (i = 1; i <= 4; i++)
				if (j->j_pos + i >= j->j_len ||
				    text_hexval(j->j_s[j->j_pos + i]) < 0)
					return -1;
			j->j_pos += 4;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

static int
jp_digits(struct jp *j)
{
	size_t start = j->j_pos;

	while (j->j_pos < j->j_len && is_digit(j->j_s[j->j_pos]))
		j->j_pos++;
	return j->j_pos > start ? 0 : -1;
}

static int
jp_number(struct jp *j)
{
	size_t start = j->j_pos;

	if (j->j_s[j->j_pos] == '-')
		j->j_pos++;
	if (j->j_pos < j->j_len && j->j_s[j->j_pos] == '0')
		j->j_pos++;
	else if (jp_digits(j) == -1)
		return -1;
	if (j->j_pos < j->j_len && j->j_s[j->j_pos] == '.') {
		j->j_pos++;
		if (jp_digits(j) == -1)
			return -1;
	}
	if (j->j_pos < j->j_len && (j->j_s[j->j_pos] == 'e' ||
	    j->j_s[j->j_pos] == 'E')) {
		j->j_pos++;
		if (j->j_pos < j->j_len && (j->j_s[j->j_pos] == '+' ||
		    j->j_s[j->j_pos] == '-'))
			j->j_pos++;
		if (jp_digits(j) == -1)
			return -1;
	}
	buf_append(j->j_out, j->j_s + start, j->j_pos - start);
	return 0;
}

static int
jp_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if (j->j_len - j->j_pos < n || memcmp(j->j_s + j->j_pos, lit, n) != 0)
		return -1;
	j->j_pos += n;
	buf_append(j->j_out, lit, n);
	return 0;
}

static int
jp_value(struct jp *j, int level)
{
	int c, close, n;

	if (level > JP_MAX_DEPTH)
		return -1;
	switch ((c = jp_peek(j))) {
	case '{':
	case '[':
		close = c == '{' ? '}' : ']';
		j->j_pos++;
		buf_append(j->j_out, c == '{' ? "{" : "[", 1);
		if (jp_peek(j) == close) {
			j->j_pos++;
			buf_append(j->j_out, close == '}' ? "}" : "]", 1);
			return 0;
		}
		for (n = 0;; n++) {
			if (n > 0)
				buf_append(j->j_out, ",", 1);
			jp_newline(j, level + 1);
			if (c == '{') {
				if (jp_peek(j) != '"' || jp_string(j) == -1)
					return -1;
				if (jp_peek(j) != ':')
					return -1;
				j->j_pos++;
				buf_append(j->j_out, ": ", 2);
			}
			if (jp_value(j, level + 1) == -1)
				return -1;
			switch (jp_peek(j)) {
			case ',':
				j->j_pos++;
				continue;
			case '}':
			case ']':
				if (jp_peek(j) != close)
					return -1;
				j->j_pos++;
				jp_newline(j, level);
				buf_append(j->j_out, close == '}' ? "}" : "]", 1);
				return 0;
			default:
				return -1;
			}
		}
	case '"':
		return jp_string(j);
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jp_number(j);
		return -1;
	}
}

int
mst_stats_json_pretty(struct buf *out, const char *json, size_t len)
{
	struct jp j;

	j.j_s = json;
	j.j_len = len;
	j.j_pos = 0;
	j.j_out = out;
	if (jp_value(&j, 0) == -1 || jp_peek(&j) != -1) {
		errno = EINVAL;
		return -1;
	}
	buf_append(out, "\n", 1);
	if (out->b_oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
