/*
 * Outlier detection in the master (see outlier.h).
 *
 * The master keeps, per cluster with outlier_detection, one record per
 * host indexed like sc_hosts[] and sc_od_hosts[] (moved together when the
 * host list changes, by sh_id), holding what Envoy's host monitor holds:
 * whether the host is ejected, since when, how many times, and the
 * ejection-time multiplier.  Invariant: od_ejected of a record and
 * SHM_HF_FAILED_OUTLIER_CHECK of its host agree, and odc_active counts
 * them.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "shared/shm.h"
#include "loop.h"
#include "mst.h"
#include "outlier.h"

struct od_host {
	uint32_t	 od_id;		/* sh_id; 0: no host */
	uint32_t	 od_backoff;	/* ejection time multiplier */
	uint32_t	 od_ejections;	/* times ejected */
	bool		 od_ejected;
	bool		 od_unejected;	/* od_unejected_ms is valid */
	uint64_t	 od_ejected_ms;
	uint64_t	 od_unejected_ms;
};

struct od_cluster {
	uint32_t	 odc_nhosts;
	uint32_t	 odc_cap;	/* the cluster's host records */
	uint32_t	 odc_active;	/* hosts ejected */
	struct mst_timer *odc_timer;	/* interval sweep */
	struct od_host	 odc_hosts[];	/* odc_cap */
};

/* A host's state and shared counters from before a host list change. */
struct od_prev {
	struct od_host	 op_h;
	uint32_t	 op_5xx, op_gw, op_rq;
};

static struct od_cluster **od_cl;	/* per conf cluster, NULL: none */
static size_t od_ncl;
static struct mst_timer *od_poll_timer;

bool
mst_outlier_should_eject(uint32_t active, uint32_t nhosts,
    uint32_t max_percent, bool always_eject_one_host)
{
	if (nhosts == 0)
		return false;
	if (max_percent > 100)
		max_percent = 100;
	if (always_eject_one_host && active == 0)
		return true;
	return ((uint64_t)active + 1) * 100 <= (uint64_t)max_percent * nhosts;
}

uint32_t
mst_outlier_backoff_next(uint32_t backoff, uint64_t base_ms, uint64_t max_ms)
{
	if ((uint64_t)backoff * base_ms < max_ms + base_ms &&
	    backoff < UINT32_MAX)
		backoff++;
	return backoff;
}

uint64_t
mst_outlier_ejection_ms(uint32_t backoff, uint64_t base_ms, uint64_t max_ms)
{
	uint64_t ms = (uint64_t)backoff * base_ms;

	return ms < max_ms ? ms : max_ms;
}

void
mst_outlier_times_ms(const struct cd_outlier *od, uint64_t *base_ms,
    uint64_t *max_ms)
{
	*base_ms = od->od_base_ejection_time > 0 ?
	    (uint64_t)CD_NS_TO_MS_CEIL(od->od_base_ejection_time) : 30000;
	*max_ms = od->od_max_ejection_time > 0 ?
	    (uint64_t)CD_NS_TO_MS_CEIL(od->od_max_ejection_time) : 300000;
	if (*max_ms < *base_ms)
		*max_ms = *base_ms;
}

static void
od_count(int ci, int id)
{
	shm_add(&MST_MCTR(ci)->cc_c[id], 1);
}

static const char *
od_name(int ci, uint32_t i, char *buf, size_t len)
{
	shm_host_addr(&shm_cl_hosts(MST_SC(ci))[i], buf, len);
	return buf;
}

static void
od_uneject(int ci, uint32_t i, uint64_t now, const char *why)
{
	struct shm_cluster *sc = MST_SC(ci);
	struct od_host *h = &od_cl[ci]->odc_hosts[i];
	char name[64];

	CD_ASSERT(h->od_ejected && od_cl[ci]->odc_active > 0);
	h->od_ejected = false;
	h->od_unejected = true;
	h->od_unejected_ms = now;
	od_cl[ci]->odc_active--;
	/* start from zero, or a host one error short of the threshold
	 * would go again on the first error */
	atomic_store_explicit(&shm_cl_od(sc)[i].oh_5xx, 0,
	    memory_order_relaxed);
	atomic_store_explicit(&shm_cl_od(sc)[i].oh_gateway, 0,
	    memory_order_relaxed);
	atomic_fetch_and_explicit(&shm_cl_hosts(sc)[i].sh_flags,
	    ~SHM_HF_FAILED_OUTLIER_CHECK, memory_order_release);
	log_info("cluster %s: host %s back in service (%s)",
	    mst.m_conf->c_clusters[ci].cl_name, od_name(ci, i, name,
	    sizeof(name)), why);
}

/* Envoy's DetectorImpl::ejectHost() for a consecutive-error type. */
static void
od_eject(int ci, uint32_t i, uint32_t req, uint64_t now)
{
	const struct cd_outlier *od = &mst.m_conf->c_clusters[ci].cl_outlier;
	struct od_cluster *odc = od_cl[ci];
	struct od_host *h = &odc->odc_hosts[i];
	uint64_t base, max;
	uint32_t pct;
	char name[64];
	bool gw = req == SHM_OD_REQ_GATEWAY;

	/* always_eject_one_host isn't configurable yet: Envoy's false */
	if (!mst_outlier_should_eject(odc->odc_active, odc->odc_nhosts,
	    od->od_max_ejection_percent, false)) {
		od_count(ci, CC_OD_EJECTIONS_OVERFLOW);
		log_debug("cluster %s: host %s not ejected: "
		    "max_ejection_percent %u reached",
		    mst.m_conf->c_clusters[ci].cl_name,
		    od_name(ci, i, name, sizeof(name)),
		    od->od_max_ejection_percent);
		return;
	}
	pct = gw ? od->od_enforcing_consecutive_gateway_failure :
	    od->od_enforcing_consecutive_5xx;
	if (pct == 0 || (pct < 100 && arc4random_uniform(100) >= pct))
		return;		/* detected, not enforced */

	mst_outlier_times_ms(od, &base, &max);
	odc->odc_active++;
	od_count(ci, CC_OD_EJECTIONS_ENFORCED_TOTAL);
	od_count(ci, gw ? CC_OD_EJECTIONS_ENFORCED_GATEWAY :
	    CC_OD_EJECTIONS_ENFORCED_5XX);
	h->od_ejected = true;
	h->od_ejections++;
	h->od_ejected_ms = now;
	h->od_backoff = mst_outlier_backoff_next(h->od_backoff, base, max);
	atomic_fetch_or_explicit(&shm_cl_hosts(MST_SC(ci))[i].sh_flags,
	    SHM_HF_FAILED_OUTLIER_CHECK, memory_order_release);
	log_info("cluster %s: host %s ejected: consecutive %s (ejection %u, "
	    "for %llu ms)", mst.m_conf->c_clusters[ci].cl_name,
	    od_name(ci, i, name, sizeof(name)), gw ? "gateway failures" :
	    "5xx", h->od_ejections, (unsigned long long)
	    mst_outlier_ejection_ms(h->od_backoff, base, max));
}

/* A worker saw a threshold reached (onConsecutiveErrorWorker). */
static void
od_consecutive(int ci, uint32_t i, uint32_t req, uint64_t now)
{
	struct shm_outlier_host *oh = &shm_cl_od(MST_SC(ci))[i];

	if (od_cl[ci]->odc_hosts[i].od_ejected)
		return;		/* as Envoy: the counter isn't reset either */
	od_count(ci, req == SHM_OD_REQ_GATEWAY ?
	    CC_OD_EJECTIONS_DETECTED_GATEWAY : CC_OD_EJECTIONS_DETECTED_5XX);
	od_eject(ci, i, req, now);
	/* a new run of errors may be detected again, ejected or not */
	atomic_store_explicit(req == SHM_OD_REQ_GATEWAY ? &oh->oh_gateway :
	    &oh->oh_5xx, 0, memory_order_relaxed);
}

void
mst_outlier_poll(uint64_t now)
{
	struct shm_cluster *sc;
	uint32_t i, req;
	int ci;

	for (ci = 0; (size_t)ci < od_ncl; ci++) {
		if (od_cl[ci] == NULL)
			continue;
		sc = MST_SC(ci);
		for (i = 0; i < od_cl[ci]->odc_nhosts; i++) {
			if (atomic_load_explicit(&shm_cl_od(sc)[i].oh_req,
			    memory_order_relaxed) == 0)
				continue;
			req = atomic_exchange_explicit(
			    &shm_cl_od(sc)[i].oh_req, 0,
			    memory_order_acquire);
			/* Envoy's worker reports the gateway failure first */
			if (req & SHM_OD_REQ_GATEWAY)
				od_consecutive(ci, i, SHM_OD_REQ_GATEWAY, now);
			if (req & SHM_OD_REQ_5XX)
				od_consecutive(ci, i, SHM_OD_REQ_5XX, now);
		}
	}
}

void
mst_outlier_sweep(int ci, uint64_t now)
{
	const struct cd_outlier *od;
	struct od_cluster *odc;
	struct od_host *h;
	uint64_t base, max, interval;
	uint32_t i;

	if (ci < 0 || (size_t)ci >= od_ncl || (odc = od_cl[ci]) == NULL)
		return;
	od = &mst.m_conf->c_clusters[ci].cl_outlier;
	mst_outlier_times_ms(od, &base, &max);
	interval = (uint64_t)CD_NS_TO_MS_CEIL(od->od_interval);
	for (i = 0; i < odc->odc_nhosts; i++) {
		h = &odc->odc_hosts[i];
		if (h->od_ejected && now - h->od_ejected_ms >=
		    mst_outlier_ejection_ms(h->od_backoff, base, max))
			od_uneject(ci, i, now, "ejection time over");
	}
	/* a host that stayed in service a whole interval earns back one
	 * step of its multiplier */
	for (i = 0; i < odc->odc_nhosts; i++) {
		h = &odc->odc_hosts[i];
		if (!h->od_ejected && h->od_unejected &&
		    now - h->od_unejected_ms >= interval && h->od_backoff > 0)
			h->od_backoff--;
	}
}

static void
od_on_poll(void *arg)
{
	(void)arg;
	od_poll_timer = NULL;
	mst_outlier_poll(mst_now_ms());
	od_poll_timer = mst_timer_add(MST_OUTLIER_POLL_MS, od_on_poll, NULL);
}

static void
od_on_interval(void *arg)
{
	int ci = (int)(intptr_t)arg;
	uint64_t ms;

	if (od_cl[ci] == NULL)
		return;
	od_cl[ci]->odc_timer = NULL;
	mst_outlier_sweep(ci, mst_now_ms());
	ms = (uint64_t)CD_NS_TO_MS_CEIL(
	    mst.m_conf->c_clusters[ci].cl_outlier.od_interval);
	od_cl[ci]->odc_timer = mst_timer_add(ms > 0 ? ms : 10000,
	    od_on_interval, arg);
}

void
mst_outlier_hosts_changed(int ci)
{
	struct shm_cluster *sc;
	struct od_cluster *odc;
	struct od_prev *old;
	struct shm_host *hosts;
	uint32_t n, nold, i, j, seq, cap;

	if (ci < 0 || (size_t)ci >= od_ncl || (odc = od_cl[ci]) == NULL)
		return;
	sc = MST_SC(ci);
	nold = odc->odc_nhosts;
	cap = sc->sc_hcap < odc->odc_cap ? sc->sc_hcap : odc->odc_cap;
	old = calloc(nold + 1, sizeof(*old));
	if (old == NULL || (hosts = shm_hosts_dup(sc, &n, &seq)) == NULL) {
		log_warn("cluster %s: outlier detection",
		    mst.m_conf->c_clusters[ci].cl_name);
		free(old);
		return;
	}
	for (j = 0; j < nold; j++) {
		old[j].op_h = odc->odc_hosts[j];
		old[j].op_5xx = atomic_load(&shm_cl_od(sc)[j].oh_5xx);
		old[j].op_gw = atomic_load(&shm_cl_od(sc)[j].oh_gateway);
		old[j].op_rq = atomic_load(&shm_cl_od(sc)[j].oh_req);
	}
	if (n > cap)
		n = cap;
	memset(odc->odc_hosts, 0, odc->odc_cap * sizeof(odc->odc_hosts[0]));
	odc->odc_active = 0;
	for (i = 0; i < cap; i++) {
		uint32_t v5 = 0, vg = 0, vr = 0;

		if (i < n) {
			for (j = 0; j < nold; j++)
				if (old[j].op_h.od_id == hosts[i].sh_id)
					break;
			if (j < nold) {
				odc->odc_hosts[i] = old[j].op_h;
				v5 = old[j].op_5xx;
				vg = old[j].op_gw;
				vr = old[j].op_rq;
			}
			odc->odc_hosts[i].od_id = hosts[i].sh_id;
			if (odc->odc_hosts[i].od_ejected)
				odc->odc_active++;
		}
		/* XXX a worker reporting with an index from before this
		 * change may still count one result against the wrong
		 * host; the next success zeroes it */
		atomic_store(&shm_cl_od(sc)[i].oh_5xx, v5);
		atomic_store(&shm_cl_od(sc)[i].oh_gateway, vg);
		atomic_store(&shm_cl_od(sc)[i].oh_req, vr);
	}
	odc->odc_nhosts = n;
	free(old);
	free(hosts);
}

void
mst_outlier_hc_success(int ci, uint32_t i)
{
	/* successful_active_health_check_uneject_host isn't configurable
	 * yet: Envoy's default, true */
	if (ci < 0 || (size_t)ci >= od_ncl || od_cl[ci] == NULL ||
	    i >= od_cl[ci]->odc_nhosts || !od_cl[ci]->odc_hosts[i].od_ejected)
		return;
	od_uneject(ci, i, mst_now_ms(), "active health check passed");
}

int
mst_outlier_start(void)
{
	const struct cd_conf *conf = mst.m_conf;
	struct shm_cluster *sc;
	size_t ci;
	int any = 0;

	od_ncl = conf->c_nclusters;
	if ((od_cl = calloc(od_ncl ? od_ncl : 1, sizeof(*od_cl))) == NULL) {
		od_ncl = 0;
		log_warn("outlier detection");
		return -1;
	}
	for (ci = 0; ci < conf->c_nclusters; ci++) {
		const struct cd_outlier *od = &conf->c_clusters[ci].cl_outlier;

		if (!od->od_set)
			continue;
		sc = MST_SC(ci);
		if ((od_cl[ci] = calloc(1, sizeof(*od_cl[ci]) +
		    sc->sc_hcap * sizeof(struct od_host))) == NULL) {
			log_warn("cluster %s: outlier detection",
			    conf->c_clusters[ci].cl_name);
			return -1;
		}
		od_cl[ci]->odc_cap = sc->sc_hcap;
		sc->sc_od_5xx = od->od_consecutive_5xx;
		sc->sc_od_gateway = od->od_consecutive_gateway_failure;
		sc->sc_od_enabled = 1;
		mst_outlier_hosts_changed((int)ci);
		od_on_interval((void *)(intptr_t)ci);
		any = 1;
	}
	if (any)
		od_poll_timer = mst_timer_add(MST_OUTLIER_POLL_MS, od_on_poll,
		    NULL);
	return 0;
}

void
mst_outlier_stop(void)
{
	int ci;

	mst_timer_cancel(od_poll_timer);
	od_poll_timer = NULL;
	for (ci = 0; (size_t)ci < od_ncl; ci++) {
		if (od_cl[ci] == NULL)
			continue;
		mst_timer_cancel(od_cl[ci]->odc_timer);
		free(od_cl[ci]);
	}
	free(od_cl);
	od_cl = NULL;
	od_ncl = 0;
}
