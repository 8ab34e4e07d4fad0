/*
 * The health checker's pure part (see health.h): the per-host state
 * machine as Envoy runs it, the interval to the next check, the expected
 * statuses, and the request bytes.  No sockets, no timers, no globals:
 * the unit tests drive every transition.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/shm-t.h"
#include "health-int.h"
#include "health.h"

void
mst_hc_state_init(struct mst_hc_state *st)
{
	memset(st, 0, sizeof(*st));
	st->hs_flags = SHM_HF_FAILED_ACTIVE_HC;
	st->hs_first = true;
}

enum mst_hc_transition
mst_hc_state_step(struct mst_hc_state *st, const struct cd_health_check *hc,
    enum mst_hc_result r)
{
	enum mst_hc_transition t = MST_HC_T_UNCHANGED;

	if (r == MST_HC_R_SUCCESS) {
		st->hs_failures = 0;
		if (st->hs_flags & SHM_HF_FAILED_ACTIVE_HC) {
			/* the first result ever counts at once: a faster
			 * start for a little less caution, as Envoy */
			if (st->hs_first ||
			    ++st->hs_successes >= hc->hc_healthy_threshold) {
				st->hs_flags &= ~(SHM_HF_FAILED_ACTIVE_HC |
				    SHM_HF_ACTIVE_HC_TIMEOUT);
				st->hs_successes = 0;
				t = MST_HC_T_CHANGED;
			} else
				t = MST_HC_T_PENDING;
		}
		st->hs_first = false;
		return t;
	}

	st->hs_successes = 0;
	if ((st->hs_flags & SHM_HF_FAILED_ACTIVE_HC) == 0) {
		/* a wrong status is an answer, not a glitch: no threshold */
		if (r == MST_HC_R_FAILURE ||
		    ++st->hs_failures >= hc->hc_unhealthy_threshold) {
			st->hs_flags |= SHM_HF_FAILED_ACTIVE_HC;
			st->hs_failures = 0;
			t = MST_HC_T_CHANGED;
		} else
			t = MST_HC_T_PENDING;
	}
	/* lets a failed host toggle between "times out" and "fails" */
	if (r == MST_HC_R_TIMEOUT && (st->hs_flags & SHM_HF_FAILED_ACTIVE_HC))
		st->hs_flags |= SHM_HF_ACTIVE_HC_TIMEOUT;
	else
		st->hs_flags &= ~SHM_HF_ACTIVE_HC_TIMEOUT;
	st->hs_first = false;
	return t;
}

uint64_t
mst_hc_interval_ms(const struct cd_health_check *hc, enum mst_hc_result r,
    enum mst_hc_transition t, bool had_traffic, mst_hc_rand_fn *rnd)
{
	bool ok = r == MST_HC_R_SUCCESS, pending = t == MST_HC_T_PENDING;
	int64_t base = CD_DUR_UNSET;
	uint64_t ms;

	/*
	 * Envoy waits no_traffic_interval (60 s by default) until the
	 * cluster's first real connection; canaryd does only when the user
	 * asked for it (canaryd-envoy(7), HEALTH CHECKING).  The conf loader fills
	 * no_traffic_healthy_interval from no_traffic_interval.
	 */
	if (!had_traffic && (hc->hc_no_traffic_interval != CD_DUR_UNSET ||
	    hc->hc_no_traffic_healthy_interval != CD_DUR_UNSET)) {
		if (ok && !pending)
			base = hc->hc_no_traffic_healthy_interval;
		else
			base = hc->hc_no_traffic_interval;
	}
	if (base == CD_DUR_UNSET) {
		if (ok)
			base = pending ? hc->hc_healthy_edge_interval :
			    hc->hc_interval;
		else
			base = pending ? hc->hc_unhealthy_edge_interval :
			    hc->hc_unhealthy_interval;
	}
	if (base == CD_DUR_UNSET)	/* a conf built by hand */
		base = hc->hc_interval;
	ms = health_ms(base);
	ms += health_rand(rnd, (uint64_t)hc->hc_interval_jitter_percent * ms / 100);
	ms += health_rand(rnd, health_ms(hc->hc_interval_jitter));
	return ms == 0 ? 1 : ms;
}

bool
mst_hc_status_expected(const struct cd_health_check *hc, int status)
{
	size_t i;

	if (hc->hc_nexpected == 0)
		return status == 200;
	for (i = 0; i < hc->hc_nexpected && i < CD_MAX_STATUS_RANGES; i++)
		if (status >= hc->hc_expected[i].sr_start &&
		    status < hc->hc_expected[i].sr_end)
			return true;
	return false;
}

char *
mst_hc_request(const struct cd_cluster *cl, size_t *lenp)
{
	const struct cd_health_check *hc = cl->cl_hc;
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: Envoy/HC\r\n%s\r\n",
	    hc->hc_method != NULL ? hc->hc_method : "GET", hc->hc_path,
	    hc->hc_host != NULL ? hc->hc_host : cl->cl_name,
	    hc->hc_reuse_connection ? "" : "Connection: close\r\n");
	if (b.b_oom) {
		buf_free(&b);
		return NULL;
	}
	*lenp = b.b_len;
	return b.b_data;	/* the caller owns it now: free(3) */
}
