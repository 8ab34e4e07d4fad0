/*
 * The stat list behind /stats (see stats.h): every counter, gauge and
 * histogram with its value summed from shm now, sorted by name, and the
 * histogram snapshots behind the interval values.  Master only; no I/O
 * and no globals, so the unit tests can check every value.  The text,
 * JSON and Prometheus forms of the list are stats_text.c, stats_json.c
 * and stats_prom.c.
 *
 * Invariant: every number is read from shm when the list is built.  Per
 * status code counters are summed per code, and the <N>xx and _completed
 * totals are derived from those same sums, so the classes always add up
 * to the total on one page.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/hist.h"
#include "shared/shm.h"
#include "shared/stats-t.h"
#include "stats-int.h"
#include "stats.h"

#define STAT_NAME(id, name)	name,

static const char *const http_c_names[HC__N] = { CD_HTTP_COUNTERS(STAT_NAME) };
static const char *const http_g_names[HG__N] = { CD_HTTP_GAUGES(STAT_NAME) };
static const char *const cl_c_names[CC__N] = { CD_CLUSTER_COUNTERS(STAT_NAME) };
static const char *const cl_g_names[CG__N] = { CD_CLUSTER_GAUGES(STAT_NAME) };

static const char *const prio_names[CD_NPRIO] = { "default", "high" };

/* Envoy's supported quantiles, as fractions and as /stats prints them. */
static const double hist_q[MST_HIST_NQ] = {
	0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1
};
const char *const mst_stats_q_names[MST_HIST_NQ] = {
	"0", "25", "50", "75", "90", "95", "99", "99.5", "99.9", "100"
};
/* Envoy's default histogram bucket bounds, ms (Prometheus "le"). */
const double mst_stats_le[MST_HIST_NLE] = {
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000
};

static uint32_t
cb_load(const struct shm *shm, int cl, int prio, int res)
{
	int32_t v;

	v = atomic_load_explicit(&shm_cl(shm, cl)->sc_cb[prio][res],
	    memory_order_relaxed);
	return v < 0 ? 0 : (uint32_t)v;
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
static int sl_add(struct mst_stat_list *, int, uint64_t, int, const char *,
    ...) __attribute__((format(printf, 5, 6)));

/* Room for one more entry: 0, or -1 (out of memory, noted). */
static int
sl_room(struct mst_stat_list *sl)
{
	struct mst_stat *v;
	size_t cap;

	if (sl->sl_n < sl->sl_cap)
		return 0;
	cap = sl->sl_cap != 0 ? sl->sl_cap * 2 : 256;
	if ((v = reallocarray(sl->sl_v, cap, sizeof(*v))) == NULL) {
		sl->sl_oom = 1;
		return -1;
	}
	sl->sl_v = v;
	sl->sl_cap = cap;
	return 0;
}

/* The entry whose name was just written at off (rc: how that went). */
static int
sl_entry(struct mst_stat_list *sl, int rc, size_t off, int type,
    uint64_t value, int used)
{
	struct mst_stat *st;

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

static int
sl_add(struct mst_stat_list *sl, int type, uint64_t value, int used,
    const char *fmt, ...)
{
	va_list ap;
	size_t off;
	int rc;

	if (sl->sl_oom || sl_room(sl) == -1)
		return -1;
	off = sl->sl_names.b_len;
	va_start(ap, fmt);
	rc = buf_vprintf(&sl->sl_names, fmt, ap);
	va_end(ap);
	return sl_entry(sl, rc, off, type, value, used);
}

/* sl_add() for prefix and suffix as they are: no format to run, as for
 * most of a cluster's stats. */
static int
sl_add_cat(struct mst_stat_list *sl, int type, uint64_t value, int used,
    const char *prefix, size_t plen, const char *suffix)
{
	size_t off;
	int rc;

	if (sl->sl_oom || sl_room(sl) == -1)
		return -1;
	off = sl->sl_names.b_len;
	rc = buf_append(&sl->sl_names, prefix, plen) == -1 ||
	    buf_puts(&sl->sl_names, suffix) == -1 ? -1 : 0;
	return sl_entry(sl, rc, off, type, value, used);
}

#define ADD_C(sl, v, ...)	sl_add((sl), MST_STAT_COUNTER, (v), (v) != 0, \
				    __VA_ARGS__)
/* a gauge the master sets itself counts as written (?usedonly) */
#define ADD_G(sl, v, used, ...)	sl_add((sl), MST_STAT_GAUGE, (v), (used), \
				    __VA_ARGS__)
/* a gauge named prefix (plen bytes) then suffix: no format to run */
#define CAT_G(sl, v, used, pfx, plen, suffix)				\
	sl_add_cat((sl), MST_STAT_GAUGE, (v), (used), (pfx), (plen), (suffix))

/* "" when the manager has no stat_prefix */
static const char *
http_prefix(const struct cd_listener *l)
{
	return l->l_stat_prefix != NULL ? l->l_stat_prefix : "";
}

/*
 * Listeners whose managers share a stat_prefix share its counters, as in
 * Envoy: the sums of http.<prefix>.* run over every listener that has it
 * (the chain cd_listener's l_prefix_next makes).  A sum's listeners, lm:
 * li and those chained after it (LM_PREFIX(li)), or li alone (LM_ONE(li)).
 */
#define LM_ONE(li)	(2 * (li))
#define LM_PREFIX(li)	(2 * (li) + 1)
#define LM_FOREACH(i, conf, lm)						\
	for ((i) = (lm) / 2; (i) != SIZE_MAX; (i) = lm_next((conf), (lm), (i)))

/* The listener of lm after i, SIZE_MAX for none. */
static size_t
lm_next(const struct cd_conf *conf, size_t lm, size_t i)
{
	if (!(lm & 1) || conf->c_listeners[i].l_prefix_next == 0)
		return SIZE_MAX;
	return conf->c_listeners[i].l_prefix_next - 1;
}

static uint64_t
sum_c(const struct mst_stats_src *src, size_t lm, int id)
{
	uint64_t v = 0;
	size_t i;

	LM_FOREACH(i, src->ss_conf, lm)
		v += shm_sum_http_c(src->ss_shm,
		    src->ss_place->pl_listener[i], id);
	return v;
}

static int64_t
sum_g(const struct mst_stats_src *src, size_t lm, int id)
{
	int64_t v = 0;
	size_t i;

	LM_FOREACH(i, src->ss_conf, lm)
		v += shm_sum_http_g(src->ss_shm,
		    src->ss_place->pl_listener[i], id);
	return v;
}

/* Per status class and _completed, from the per code sums of lm. */
static void
sum_classes(const struct mst_stats_src *src, size_t lm, uint64_t cls[6],
    uint64_t *done)
{
	uint64_t v;
	size_t i;
	int code;

	memset(cls, 0, 6 * sizeof(*cls));
	*done = 0;
	LM_FOREACH(i, src->ss_conf, lm) {
		for (code = CD_CODE_MIN; code <= CD_CODE_MAX; code++) {
			v = shm_sum_http_code(src->ss_shm,
			    src->ss_place->pl_listener[i], code);
			cls[code / 100] += v;
			*done += v;
		}
	}
}

/* http.<prefix>.*: once per prefix, at its first listener. */
static void
collect_http(struct mst_stat_list *sl, const struct mst_stats_src *src,
    size_t li)
{
	const char *p = http_prefix(&src->ss_conf->c_listeners[li]);
	size_t lm = LM_PREFIX(li);
	uint64_t cls[6], done, v;
	int i;

	if (src->ss_conf->c_listeners[li].l_prefix_later)
		return;		/* an earlier listener has the prefix */
	for (i = 0; i < HC_FILTER_FIRST; i++) {
		if (i == HC_CX_OVERFLOW)
			continue;	/* a listener stat in Envoy: below */
		v = sum_c(src, lm, i);
		ADD_C(sl, v, "http.%s.%s", p, http_c_names[i]);
	}
	for (i = 0; i < HG_FILTER_FIRST; i++) {
		v = mst_stats_gauge(sum_g(src, lm, i));
		ADD_G(sl, v, v != 0, "http.%s.%s", p, http_g_names[i]);
	}
	sum_classes(src, lm, cls, &done);
	/* eager in Envoy's connection manager: printed even when 0 */
	for (i = 1; i <= 5; i++)
		ADD_C(sl, cls[i], "http.%s.downstream_rq_%dxx", p, i);
	ADD_C(sl, done, "http.%s.downstream_rq_completed", p);
}

/* listener.<address>.*: the connections of listener li alone. */
static void
collect_listener(struct mst_stat_list *sl, const struct mst_stats_src *src,
    size_t li)
{
	const struct cd_listener *l = &src->ss_conf->c_listeners[li];
	const char *p = http_prefix(l);
	size_t lm = LM_ONE(li);
	char la[CD_HOSTNAME_MAX + 16];
	uint64_t cls[6], done, v;
	int i;

	listener_stat_addr(l, la, sizeof(la));
	ADD_C(sl, sum_c(src, lm, HC_CX_TOTAL),
	    "listener.%s.downstream_cx_total", la);
	ADD_C(sl, sum_c(src, lm, HC_CX_DESTROY),
	    "listener.%s.downstream_cx_destroy", la);
	v = mst_stats_gauge(sum_g(src, lm, HG_CX_ACTIVE));
	ADD_G(sl, v, v != 0, "listener.%s.downstream_cx_active", la);
	/* max_connections_per_worker refusals (and out of memory) */
	ADD_C(sl, sum_c(src, lm, HC_CX_OVERFLOW), "listener.%s.%s", la,
	    http_c_names[HC_CX_OVERFLOW]);
	sum_classes(src, lm, cls, &done);
	for (i = 1; i <= 5; i++)
		ADD_C(sl, cls[i], "listener.%s.http.%s.downstream_rq_%dxx",
		    la, p, i);
	ADD_C(sl, done, "listener.%s.http.%s.downstream_rq_completed", la, p);
}

static const char *const rl_names[SHM_RL__N] = {
	[SHM_RL_ENABLED] = "enabled",
	[SHM_RL_ENFORCED] = "enforced",
	[SHM_RL_RATE_LIMITED] = "rate_limited",
	[SHM_RL_OK] = "ok",
};

/*
 * The HTTP filters' statistics, for the filters the chains of the
 * listeners with li's stat_prefix hold, once per prefix: fault, cors and
 * the compressor under http.<stat_prefix>.
 */
static void
collect_filters(struct mst_stat_list *sl, const struct mst_stats_src *src,
    size_t li)
{
	const struct cd_conf *conf = src->ss_conf;
	const char *p = http_prefix(&conf->c_listeners[li]), *lib = NULL;
	size_t lm = LM_PREFIX(li);
	unsigned int chain = 0;
	uint64_t v;
	size_t i, k;
	int id;

	if (conf->c_listeners[li].l_prefix_later)
		return;		/* an earlier listener has the prefix */
	LM_FOREACH(i, conf, lm)
		for (k = 0; k < conf->c_listeners[i].l_nhf; k++) {
			chain |= 1u << conf->c_listeners[i].l_hf_order[k];
			if (lib == NULL && conf->c_listeners[i].l_hf.hf_cmp !=
			    NULL)
				lib = conf->c_listeners[i].l_hf.hf_cmp->cp_name;
		}
	if (chain & (1u << CD_HF_FAULT)) {
		for (id = HC_FAULT_ABORTS; id <= HC_FAULT_OVERFLOW; id++)
			ADD_C(sl, sum_c(src, lm, id), "http.%s.%s", p,
			    http_c_names[id]);
		v = mst_stats_gauge(sum_g(src, lm, HG_FAULT_ACTIVE));
		ADD_G(sl, v, v != 0, "http.%s.%s", p,
		    http_g_names[HG_FAULT_ACTIVE]);
	}
	if (chain & (1u << CD_HF_CORS))
		for (id = HC_CORS_ORIGIN_VALID; id <= HC_CORS_ORIGIN_INVALID;
		    id++)
			ADD_C(sl, sum_c(src, lm, id), "http.%s.%s", p,
			    http_c_names[id]);
	if (lib != NULL)
		for (id = HC_GZ_COMPRESSED; id <= HC_GZ_OUT; id++)
			ADD_C(sl, sum_c(src, lm, id),
			    "http.%s.compressor.%s.gzip.%s", p, lib,
			    http_c_names[id]);
}

static int
lrl_prefix_cmp(const void *a, const void *b)
{
	const struct cd_lrl *const *x = a, *const *y = b;

	return strcmp((*x)->lr_stat_prefix, (*y)->lr_stat_prefix);
}

/*
 * Each local_ratelimit bucket under <its stat_prefix>.http_local_rate_limit.
 * (buckets of one prefix summed, as Envoy's counters of one name are one):
 * the buckets sorted by prefix, so each prefix is one run of them.
 */
static void
collect_ratelimits(struct mst_stat_list *sl, const struct mst_stats_src *src)
{
	const struct cd_conf *conf = src->ss_conf;
	const struct cd_lrl **by;
	uint64_t v[SHM_RL__N];
	size_t i, j, k, n = conf->c_nlrl;

	if (n == 0)
		return;
	if ((by = reallocarray(NULL, n, sizeof(*by))) == NULL) {
		sl->sl_oom = 1;
		return;
	}
	memcpy(by, conf->c_lrl, n * sizeof(*by));
	qsort(by, n, sizeof(*by), lrl_prefix_cmp);
	for (i = 0; i < n; i = j) {
		memset(v, 0, sizeof(v));
		for (j = i; j < n && strcmp(by[j]->lr_stat_prefix,
		    by[i]->lr_stat_prefix) == 0; j++)
			for (k = 0; k < SHM_RL__N; k++)
				v[k] += atomic_load_explicit(&shm_ratelimit(
				    src->ss_shm, src->ss_place->pl_ratelimit[
				    by[j]->lr_index])->rl_c[k],
				    memory_order_relaxed);
		for (k = 0; k < SHM_RL__N; k++)
			ADD_C(sl, v[k], "%s.http_local_rate_limit.%s",
			    by[i]->lr_stat_prefix, rl_names[k]);
	}
	free(by);
}

/* Per code counters are created lazily by Envoy: print non-zero ones, and
 * a class or _completed total once a code under it was counted. */
static void
collect_codes(struct mst_stat_list *sl, const struct shm *shm, int ci,
    const char *cn, int retry)
{
	const char *sub = retry ? "retry." : "";
	uint64_t codes[CD_NCODES], cls[5], other, done = 0, v;
	int code, i;

	/* the codes a slot had no entry for count in their class only */
	shm_sum_cluster_codes(shm, ci, retry, codes, cls, &other);
	for (code = CD_CODE_MIN; code <= CD_CODE_MAX; code++) {
		v = codes[code - CD_CODE_MIN];
		if (v == 0)
			continue;
		ADD_C(sl, v, "cluster.%s.%supstream_rq_%d", cn, sub, code);
	}
	for (i = 1; i <= 5; i++) {
		done += cls[i - 1];
		if (cls[i - 1] != 0)
			ADD_C(sl, cls[i - 1], "cluster.%s.%supstream_rq_%dxx",
			    cn, sub, i);
	}
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
	/* no sample (most clusters of a large file): every bucket is 0 */
	for (i = 0; i < MST_HIST_NLE; i++)
		hs->hs_le[i] = h.h_count == 0 ? 0 :
		    hist_count_le(&h, mst_stats_le[i]);
	if (hf != NULL && hf->hf_flushes > 0 && (size_t)ci < hf->hf_n &&
	    hf->hf_rec[ci] != NULL &&
	    strcmp(hf->hf_rec[ci]->hr_name, cl->cl_name) == 0)
		hist_quantiles_ms(&hf->hf_rec[ci]->hr_ival, hist_q,
		    MST_HIST_NQ, hs->hs_ival);
	else if (hf != NULL && hf->hf_flushes > 0 && h.h_count == 0)
		/* no sample at all: nothing in the interval either */
		hist_quantiles_ms(&h, hist_q, MST_HIST_NQ, hs->hs_ival);
	else
		for (i = 0; i < MST_HIST_NQ; i++)
			hs->hs_ival[i] = NAN;
	if (sl_add(sl, MST_STAT_HISTOGRAM, h.h_count, h.h_count != 0,
	    "cluster.%s.upstream_rq_time", cn) == -1)
		return;
	sl->sl_v[sl->sl_n - 1].st_hist = sl->sl_nh++;
}

/* The cluster's hosts: membership, health, ejections, weights. */
static void
collect_hosts(struct mst_stat_list *sl, const struct shm *shm,
    const struct cd_cluster *cl, int ci, const char *pfx, size_t plen)
{
	struct shm_host *hosts;
	uint64_t healthy = 0, hc_healthy = 0, ejected = 0, maxw = 0;
	uint32_t n = 0, h, seq, f;

	hosts = shm_hosts_dup(shm_cl(shm, ci), &n, &seq);
	for (h = 0; h < n; h++) {
		f = shm_host_flags(shm, ci, h);
		if ((f & SHM_HF_UNHEALTHY) == 0)
			healthy++;
		if ((f & SHM_HF_FAILED_ACTIVE_HC) == 0)
			hc_healthy++;
		if (f & SHM_HF_FAILED_OUTLIER_CHECK)
			ejected++;
		if (hosts[h].sh_weight > maxw)
			maxw = hosts[h].sh_weight;
	}
	free(hosts);
	CAT_G(sl, n, 1, pfx, plen, "membership_total");
	CAT_G(sl, healthy, 1, pfx, plen, "membership_healthy");
	CAT_G(sl, 0, 1, pfx, plen, "membership_degraded");
	CAT_G(sl, 0, 1, pfx, plen, "membership_excluded");
	CAT_G(sl, maxw, 1, pfx, plen, "max_host_weight");
	if (cl->cl_hc != NULL)
		CAT_G(sl, hc_healthy, 1, pfx, plen, "health_check.healthy");
	/* the master flags ejected hosts itself: the flags are the count */
	if (cl->cl_outlier.od_set)
		CAT_G(sl, ejected, 1, pfx, plen,
		    "outlier_detection.ejections_active");
}

/* circuit_breakers.<priority>.*: open flags, and what remains. */
static void
collect_breakers(struct mst_stat_list *sl, const struct shm *shm,
    const struct cd_cluster *cl, int ci, const char *cn)
{
	const struct cd_thresholds *th;
	uint32_t cur[SHM_CB__N];
	char pfx[CD_NAME_MAX + 64];
	size_t plen;
	uint64_t v;
	int p, r;

	for (p = 0; p < CD_NPRIO; p++) {
		th = &cl->cl_thresholds[p];
		/* "cluster.<name>.circuit_breakers.<priority>." once */
		plen = (size_t)snprintf(pfx, sizeof(pfx),
		    "cluster.%s.circuit_breakers.%s.", cn, prio_names[p]);
		if (plen >= sizeof(pfx))
			plen = sizeof(pfx) - 1;
		for (r = 0; r < SHM_CB__N; r++)
			cur[r] = cb_load(shm, ci, p, r);
		v = cur[SHM_CB_CX] >= th->th_max_connections;
		CAT_G(sl, v, v, pfx, plen, "cx_open");
		/* no max_connection_pools setting: that breaker never opens */
		CAT_G(sl, 0, 0, pfx, plen, "cx_pool_open");
		v = cur[SHM_CB_PENDING] >= th->th_max_pending_requests;
		CAT_G(sl, v, v, pfx, plen, "rq_pending_open");
		v = cur[SHM_CB_RQ] >= th->th_max_requests;
		CAT_G(sl, v, v, pfx, plen, "rq_open");
		v = cur[SHM_CB_RETRY] >= th->th_max_retries;
		CAT_G(sl, v, v, pfx, plen, "rq_retry_open");
		if (!th->th_track_remaining)
			continue;
#define REMAINING(max, c)	((c) >= (max) ? 0 : (uint64_t)((max) - (c)))
		CAT_G(sl, REMAINING(th->th_max_connections, cur[SHM_CB_CX]), 1,
		    pfx, plen, "remaining_cx");
		CAT_G(sl, REMAINING(th->th_max_pending_requests,
		    cur[SHM_CB_PENDING]), 1, pfx, plen, "remaining_pending");
		CAT_G(sl, REMAINING(th->th_max_requests, cur[SHM_CB_RQ]), 1,
		    pfx, plen, "remaining_rq");
		CAT_G(sl, REMAINING(th->th_max_retries, cur[SHM_CB_RETRY]), 1,
		    pfx, plen, "remaining_retries");
#undef REMAINING
	}
}

static void
collect_cluster(struct mst_stat_list *sl, const struct mst_stats_src *src,
    const struct cd_cluster *cl, int ci)
{
	const struct shm *shm = src->ss_shm;
	char cn[CD_NAME_MAX + 8], pfx[CD_NAME_MAX + 24];
	size_t plen;
	uint64_t v;
	int i;

	cluster_stat_prefix(cl, cn, sizeof(cn));
	plen = (size_t)snprintf(pfx, sizeof(pfx), "cluster.%s.", cn);
	if (plen >= sizeof(pfx))
		plen = sizeof(pfx) - 1;
	for (i = 0; i < CC__N; i++) {
		/* Envoy creates these scopes only with a checker / detector */
		if (cl->cl_hc == NULL &&
		    strncmp(cl_c_names[i], "health_check.", 13) == 0)
			continue;
		if (!cl->cl_outlier.od_set &&
		    strncmp(cl_c_names[i], "outlier_detection.", 18) == 0)
			continue;
		v = shm_sum_cluster_c(shm, ci, i);
		sl_add_cat(sl, MST_STAT_COUNTER, v, v != 0, pfx, plen,
		    cl_c_names[i]);
	}
	for (i = 0; i < CG__N; i++) {
		v = mst_stats_gauge(shm_sum_cluster_g(shm, ci, i));
		sl_add_cat(sl, MST_STAT_GAUGE, v, v != 0, pfx, plen,
		    cl_g_names[i]);
	}
	collect_codes(sl, shm, ci, cn, 0);
	collect_codes(sl, shm, ci, cn, 1);
	collect_hist(sl, src, cl, ci, cn);
	collect_hosts(sl, shm, cl, ci, pfx, plen);
	CAT_G(sl, 0, 0, pfx, plen, "version");
	CAT_G(sl, 0, 0, pfx, plen, "warming_state");
	collect_breakers(sl, shm, cl, ci, cn);
}

static void
collect_server(struct mst_stat_list *sl, const struct mst_stats_src *src)
{
	const struct shm *shm = src->ss_shm;
	uint64_t n = src->ss_conf->c_nclusters;
	int64_t cx = 0;
	size_t i;

	for (i = 0; i < src->ss_conf->c_nlisteners; i++)
		cx += sum_g(src, LM_ONE(i), HG_CX_ACTIVE);

	ADD_G(sl, n, 1, "cluster_manager.active_clusters");
	ADD_G(sl, 0, 1, "cluster_manager.warming_clusters");
	ADD_C(sl, n, "cluster_manager.cluster_added");

	ADD_G(sl, atomic_load(&shm->hdr.h_live), 1, "server.live");
	ADD_G(sl, atomic_load(&shm->hdr.h_state), 1, "server.state");
	ADD_G(sl, src->ss_uptime_s, 1, "server.uptime");
	ADD_G(sl, src->ss_concurrency < 0 ? 0 : (uint64_t)src->ss_concurrency,
	    1, "server.concurrency");
	ADD_G(sl, mst_stats_gauge(cx), 1,
	    "server.total_connections");
	ADD_G(sl, 0, 1, "server.version");
	ADD_G(sl, 0, 1, "server.hot_restart_epoch");
	ADD_C(sl, 0, "server.static_unknown_fields");
	ADD_C(sl, atomic_load(&shm->hdr.h_reloads), "server.config_reload");
	ADD_C(sl, atomic_load(&shm->hdr.h_reload_fails),
	    "server.config_reload_fail");
	ADD_C(sl, atomic_load(&shm->hdr.h_reload_deferred),
	    "server.config_reload_deferred");
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
	ADD_C(sl, ac->ac_rbac_denied, "http.admin.rbac.denied");
	ADD_C(sl, ac->ac_header_timeout,
	    "http.admin.downstream_rq_header_timeout");
	ADD_C(sl, ac->ac_cx_evicted, "http.admin.downstream_cx_evicted");
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

/* The names in place and the list sorted: 0, or -1 with errno ENOMEM. */
static int
sl_finish(struct mst_stat_list *sl)
{
	size_t i;

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

/* Every stat, or (clusters 0) every stat but the clusters'. */
static void
collect_all(struct mst_stat_list *sl, const struct mst_stats_src *src,
    int clusters)
{
	const struct cd_conf *conf = src->ss_conf;
	size_t i;

	for (i = 0; i < conf->c_nlisteners; i++) {
		collect_http(sl, src, i);
		collect_listener(sl, src, i);
		collect_filters(sl, src, i);
	}
	collect_ratelimits(sl, src);
	for (i = 0; clusters && i < conf->c_nclusters; i++)
		collect_cluster(sl, src, &conf->c_clusters[i],
		    src->ss_place->pl_cluster[i]);
	collect_server(sl, src);
	if (src->ss_admin != NULL)
		collect_admin(sl, src->ss_admin);
}

int
mst_stats_collect(const struct mst_stats_src *src, struct mst_stat_list *sl)
{
	memset(sl, 0, sizeof(*sl));
	buf_init(&sl->sl_names);
	collect_all(sl, src, 1);
	return sl_finish(sl);
}

int
mst_stats_collect_base(const struct mst_stats_src *src,
    struct mst_stat_list *sl)
{
	memset(sl, 0, sizeof(*sl));
	buf_init(&sl->sl_names);
	collect_all(sl, src, 0);
	return sl_finish(sl);
}

int
mst_stats_collect_clusters(const struct mst_stats_src *src, size_t i,
    size_t n, int hist_only, struct mst_stat_list *sl)
{
	const struct cd_cluster *cl;
	char cn[CD_NAME_MAX + 8];

	memset(sl, 0, sizeof(*sl));
	buf_init(&sl->sl_names);
	for (; n > 0 && i < src->ss_conf->c_nclusters; i++, n--) {
		cl = &src->ss_conf->c_clusters[i];
		if (hist_only) {
			cluster_stat_prefix(cl, cn, sizeof(cn));
			collect_hist(sl, src, cl, src->ss_place->pl_cluster[i],
			    cn);
		} else
			collect_cluster(sl, src, cl,
			    src->ss_place->pl_cluster[i]);
	}
	return sl_finish(sl);
}

void
mst_stats_cluster_prefix(const struct cd_cluster *cl, char *buf, size_t len)
{
	cluster_stat_prefix(cl, buf, len);
}

int
mst_stats_add(struct mst_stat_list *sl, int type, uint64_t value, int used,
    const char *name)
{
	const char *was = sl->sl_names.b_data;
	struct mst_stat st;
	size_t i, lo, hi, mid;

	if (sl_add(sl, type, value, used, "%s", name) == -1) {
		errno = ENOMEM;
		return -1;
	}
	/* the name buffer may have moved: every pointer again */
	if (sl->sl_names.b_data != was)
		for (i = 0; i + 1 < sl->sl_n; i++)
			sl->sl_v[i].st_name = sl->sl_names.b_data +
			    sl->sl_v[i].st_off;
	/* the list is sorted but for the new last entry: insert it */
	st = sl->sl_v[sl->sl_n - 1];
	st.st_name = sl->sl_names.b_data + st.st_off;
	for (lo = 0, hi = sl->sl_n - 1; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(sl->sl_v[mid].st_name, st.st_name) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&sl->sl_v[lo + 1], &sl->sl_v[lo],
	    (sl->sl_n - 1 - lo) * sizeof(*sl->sl_v));
	sl->sl_v[lo] = st;
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

void
mst_stats_hist_flush(struct mst_hist_flush *hf, const struct cd_conf *conf,
    const struct cd_place *pl, const struct shm *shm)
{
	struct mst_hist_rec *hr;
	struct hist now;
	size_t i;
	int ci;

	if (hf->hf_rec == NULL) {
		if ((hf->hf_rec = calloc(shm->hdr.h_ncl,
		    sizeof(*hf->hf_rec))) == NULL)
			return;
		hf->hf_n = shm->hdr.h_ncl;
	}
	for (i = 0; i < conf->c_nclusters; i++) {
		ci = pl->pl_cluster[i];
		if (ci < 0 || (size_t)ci >= hf->hf_n)
			continue;
		hist_collect(shm, ci, &now);
		if ((hr = hf->hf_rec[ci]) == NULL) {
			if (now.h_count == 0)
				continue;	/* nothing yet: no entry */
			if ((hr = hf->hf_rec[ci] = calloc(1,
			    sizeof(*hr))) == NULL)
				continue;
		}
		/* a record taken over by another cluster: nothing before */
		if (strcmp(hr->hr_name, conf->c_clusters[i].cl_name) != 0) {
			memset(&hr->hr_last, 0, sizeof(hr->hr_last));
			strlcpy(hr->hr_name, conf->c_clusters[i].cl_name,
			    sizeof(hr->hr_name));
		}
		hist_sub(&hr->hr_ival, &now, &hr->hr_last);
		hr->hr_last = now;
	}
	hf->hf_flushes++;
}

void
mst_stats_hist_free(struct mst_hist_flush *hf)
{
	size_t i;

	for (i = 0; i < hf->hf_n; i++)
		free(hf->hf_rec[i]);
	free(hf->hf_rec);
	memset(hf, 0, sizeof(*hf));
}

int
mst_stats_cluster_quantiles(const struct shm *shm, int shm_ci,
    const double *q, size_t nq, double *out)
{
	struct hist h;

	if (shm_ci < 0 || (uint32_t)shm_ci >= shm->hdr.h_ncl) {
		errno = EINVAL;
		return -1;
	}
	hist_collect(shm, shm_ci, &h);
	hist_quantiles_ms(&h, q, nq, out);
	return 0;
}
