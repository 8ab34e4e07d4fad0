/*
 * The /canary page, JSON and text (see canary.h).  Figures come from the
 * engine (mst_rollout_figures(), live from shm), so the page and the
 * rollout's own judgement see the same numbers; in fleet mode the
 * fleet's part (leader, members, decisions) comes from its coordinator
 * (mst_fleet_json(), master/fleet.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/shm.h"
#include "canary.h"
#include "fleet.h"
#include "json.h"
#include "rollout.h"

/* The route's canary and stable names: "canary":..,"stable":.. */
static void
json_pair(struct buf *b, const struct mst_ro_route *rr)
{
	buf_puts(b, "\"canary\":");
	mst_json_str(b, mst_rollout_wc_name(rr, rr->rr_canary));
	buf_puts(b, ",\"stable\":");
	mst_json_str(b, mst_rollout_wc_name(rr, rr->rr_stable));
}

/* "rollout": the block's state and thresholds, or null. */
static void
json_rollout(struct buf *b, const struct mst_ro_route *rr)
{
	const struct cd_rollout *c = &rr->rr_ro;
	char ts[64];
	size_t i;

	buf_puts(b, ",\"rollout\":");
	if (!rr->rr_has_rollout) {
		buf_puts(b, "null");
		return;
	}
	buf_printf(b, "{\"state\":\"%s\",\"step\":%d,\"step_percent\":",
	    mst_rollout_state_name(rr->rr_state), rr->rr_step);
	if (rr->rr_step >= 0)
		buf_printf(b, "%u", c->ro_steps[rr->rr_step]);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"steps\":[");
	for (i = 0; i < c->ro_nsteps; i++)
		buf_printf(b, "%s%u", i > 0 ? "," : "", c->ro_steps[i]);
	buf_puts(b, "],\"reason\":");
	mst_json_str(b, rr->rr_reason);
	/* where the state came from, and when it was decided */
	buf_puts(b, ",\"origin\":");
	mst_json_str(b, rr->rr_origin);
	buf_puts(b, ",\"decided\":");
	if (rr->rr_decided_ms != 0 && mst_json_timestamp(ts, sizeof(ts),
	    rr->rr_decided_ms) > 0)
		mst_json_str(b, ts);
	else
		buf_puts(b, "null");
	buf_puts(b, ",");
	json_pair(b, rr);
	buf_puts(b, ",\"canary_percent\":");
	mst_json_num(b, mst_rollout_canary_pct(rr));
	buf_puts(b, ",\"step_interval_s\":");
	mst_json_num(b, (double)c->ro_step_interval / CD_NS_PER_S);
	buf_printf(b, ",\"min_requests\":%" PRIu32
	    ",\"max_error_rate_delta\":", c->ro_min_requests);
	mst_json_num(b, c->ro_max_error_rate_delta);
	buf_puts(b, ",\"max_p99_ratio\":");
	mst_json_num(b, c->ro_max_p99_ratio);
	buf_puts(b, ",\"p99_floor_ms\":");
	mst_json_num(b, MST_ROLLOUT_P99_FLOOR_MS);
	buf_printf(b, ",\"rollbacks\":%" PRIu64 ",\"promotions\":%"
	    PRIu64 "%s}", rr->rr_rollbacks, rr->rr_promotions,
	    rr->rr_fleet ? ",\"fleet\":true" : "");
}

/* "clusters": each cluster's figures over the window. */
static void
json_clusters(struct buf *b, const struct mst_ro *ro,
    const struct mst_ro_route *rr, const struct mst_ro_fig *fig)
{
	const struct mst_ro_fig *f;
	size_t i;

	buf_puts(b, ",\"clusters\":{");
	for (i = 0; i < rr->rr_nwc; i++) {
		f = &fig[i];
		buf_puts(b, i > 0 ? "," : "");
		mst_json_key(b, mst_rollout_wc_name(rr, (int)i));
		buf_printf(b, "{\"requests\":%" PRIu64 ",\"errors_5xx\":%"
		    PRIu64 ",\"success_rate\":", f->rf_rq, f->rf_5xx);
		mst_json_num(b, 1.0 - f->rf_err_rate);
		buf_puts(b, ",\"rq_per_s\":");
		mst_json_num(b, f->rf_rps);
		buf_puts(b, ",\"p50_ms\":");
		mst_json_num(b, f->rf_p50);
		buf_puts(b, ",\"p95_ms\":");
		mst_json_num(b, f->rf_p95);
		buf_puts(b, ",\"p99_ms\":");
		mst_json_num(b, f->rf_p99);
		buf_printf(b, ",\"total_requests\":%" PRIu64 ",\"total_5xx\":%"
		    PRIu64, f->rf_total_rq, f->rf_total_5xx);
		/* mirrored requests sent to it (a dark launch); their
		 * answers count in the figures above */
		buf_printf(b, ",\"shadow_requests\":%" PRIu64 "}",
		    shm_sum_cluster_c(ro->ro_shm, rr->rr_shm_ci[i],
		    CC_CANARY_SHADOW));
	}
	buf_puts(b, "}");
}

/* The p99 ratio the engine judges by: both floored, NaN without both. */
static double
p99_ratio(const struct mst_ro_fig *c, const struct mst_ro_fig *s)
{
	if (isnan(c->rf_p99) || isnan(s->rf_p99))
		return NAN;
	return fmax(c->rf_p99, MST_ROLLOUT_P99_FLOOR_MS) /
	    fmax(s->rf_p99, MST_ROLLOUT_P99_FLOOR_MS);
}

/* "deltas": canary against stable, or null without the pair. */
static void
json_deltas(struct buf *b, const struct mst_ro_route *rr,
    const struct mst_ro_fig *fig)
{
	const struct mst_ro_fig *c, *s;

	buf_puts(b, ",\"deltas\":");
	if (rr->rr_canary < 0) {
		buf_puts(b, "null");
		return;
	}
	c = &fig[rr->rr_canary];
	s = &fig[rr->rr_stable];
	buf_puts(b, "{");
	json_pair(b, rr);
	buf_puts(b, ",\"error_rate_delta\":");
	mst_json_num(b, c->rf_err_rate - s->rf_err_rate);
	buf_puts(b, ",\"p99_ratio\":");
	mst_json_num(b, p99_ratio(c, s));
	buf_puts(b, ",\"p99_ratio_raw\":");
	mst_json_num(b, c->rf_p99 / s->rf_p99);
	buf_puts(b, "}");
}

static void
json_route(struct buf *b, const struct mst_ro *ro,
    const struct mst_ro_route *rr, int64_t now)
{
	struct mst_ro_fig *fig = rr->rr_fig;	/* the route's scratch */
	size_t i;

	mst_rollout_figures(ro, rr, now, fig);
	buf_puts(b, "{\"name\":");
	mst_json_str(b, rr->rr_name);
	buf_printf(b, ",\"generated_name\":%s,\"listener\":",
	    rr->rr_named ? "false" : "true");
	mst_json_str(b, mst_rollout_listener(ro, rr));
	buf_puts(b, ",\"weights\":{");
	for (i = 0; i < rr->rr_nwc; i++) {
		buf_puts(b, i > 0 ? "," : "");
		mst_json_key(b, mst_rollout_wc_name(rr, (int)i));
		buf_printf(b, "%" PRIu32, rr->rr_w[i]);
	}
	buf_printf(b, "},\"total_weight\":%" PRIu64, rr->rr_total);
	if (rr->rr_rt->rt_runtime_prefix != NULL) {
		/* where the weights come from: the runtime's keys */
		buf_puts(b, ",\"runtime_key_prefix\":");
		mst_json_str(b, rr->rr_rt->rt_runtime_prefix);
	}
	buf_puts(b, ",\"window_s\":");
	mst_json_num(b, (double)rr->rr_window / CD_NS_PER_S);
	json_rollout(b, rr);
	json_clusters(b, ro, rr, fig);
	json_deltas(b, rr, fig);
	buf_puts(b, "}");
}

int
mst_canary_json(struct buf *b, const struct mst_ro *ro, int64_t now,
    const struct mst_ro_route *one)
{
	size_t r;

	if (one != NULL) {
		json_route(b, ro, one, now);
		buf_puts(b, "\n");
		return b->b_oom ? -1 : 0;
	}
	buf_puts(b, "{\"routes\":[");
	for (r = 0; r < ro->ro_n; r++) {
		buf_puts(b, r > 0 ? "," : "");
		json_route(b, ro, &ro->ro_routes[r], now);
	}
	buf_puts(b, "]");
	if (mst_fleet_json(b) == -1)
		return -1;
	buf_puts(b, "}\n");
	return b->b_oom ? -1 : 0;
}

/* v with prec decimals (and a sign when sign), or "-" for no value, in
 * a column of width w. */
static void
text_num(struct buf *b, int w, int prec, int sign, double v)
{
	char s[64];

	if (isfinite(v))
		snprintf(s, sizeof(s), sign ? "%+.*f" : "%.*f", prec, v);
	else
		strlcpy(s, "-", sizeof(s));
	buf_printf(b, " %*s", w, s);
}

/* "  rollout: ..." and its reason, or "none". */
static void
text_rollout(struct buf *b, const struct mst_ro_route *rr)
{
	if (!rr->rr_has_rollout) {
		buf_puts(b, "  rollout: none\n");
		return;
	}
	buf_printf(b, "  rollout: %s, step ",
	    mst_rollout_state_name(rr->rr_state));
	if (rr->rr_step >= 0)
		buf_printf(b, "%d/%zu (%u%%)", rr->rr_step + 1,
		    rr->rr_ro.ro_nsteps, rr->rr_ro.ro_steps[rr->rr_step]);
	else
		buf_printf(b, "0/%zu (before the first)", rr->rr_ro.ro_nsteps);
	buf_printf(b, ", canary %s, stable %s\n  reason: %s\n  state from: %s\n",
	    mst_rollout_wc_name(rr, rr->rr_canary),
	    mst_rollout_wc_name(rr, rr->rr_stable), rr->rr_reason,
	    rr->rr_origin);
}

/* One line per cluster under a header, names in a column. */
static void
text_clusters(struct buf *b, const struct mst_ro_route *rr,
    const struct mst_ro_fig *fig)
{
	size_t i, w = strlen("cluster");
	int nw;

	for (i = 0; i < rr->rr_nwc; i++)
		if (strlen(mst_rollout_wc_name(rr, (int)i)) > w)
			w = strlen(mst_rollout_wc_name(rr, (int)i));
	nw = (int)w;
	buf_printf(b, "  %-*s %8s %10s %8s %8s %9s %9s %9s\n", nw,
	    "cluster", "weight", "requests", "rq/s", "success",
	    "p50_ms", "p95_ms", "p99_ms");
	for (i = 0; i < rr->rr_nwc; i++) {
		buf_printf(b, "  %-*s %8" PRIu32 " %10" PRIu64, nw,
		    mst_rollout_wc_name(rr, (int)i), rr->rr_w[i],
		    fig[i].rf_rq);
		text_num(b, 8, 1, 0, fig[i].rf_rps);
		text_num(b, 7, 2, 0, 100.0 * (1.0 - fig[i].rf_err_rate));
		buf_puts(b, isfinite(fig[i].rf_err_rate) ? "%" : " ");
		text_num(b, 9, 3, 0, fig[i].rf_p50);
		text_num(b, 9, 3, 0, fig[i].rf_p95);
		text_num(b, 9, 3, 0, fig[i].rf_p99);
		buf_puts(b, "\n");
	}
}

int
mst_canary_text(struct buf *b, const struct mst_ro *ro, int64_t now)
{
	const struct mst_ro_route *rr;
	const struct mst_ro_fig *c, *s;
	struct mst_ro_fig *fig;
	size_t r;

	if (ro->ro_n == 0)
		buf_puts(b, "no weighted routes\n");
	for (r = 0; r < ro->ro_n; r++) {
		rr = &ro->ro_routes[r];
		fig = rr->rr_fig;	/* the route's scratch */
		mst_rollout_figures(ro, rr, now, fig);
		if (r > 0)
			buf_puts(b, "\n");
		if (ro->ro_conf->c_nlisteners > 1)
			buf_printf(b, "route %s (listener %s): window %gs\n",
			    rr->rr_name, mst_rollout_listener(ro, rr),
			    (double)rr->rr_window / CD_NS_PER_S);
		else
			buf_printf(b, "route %s: window %gs\n", rr->rr_name,
			    (double)rr->rr_window / CD_NS_PER_S);
		if (rr->rr_rt->rt_runtime_prefix != NULL)
			buf_printf(b, "  weights: runtime keys %s.<cluster>\n",
			    rr->rr_rt->rt_runtime_prefix);
		text_rollout(b, rr);
		text_clusters(b, rr, fig);
		if (rr->rr_canary < 0)
			continue;
		c = &fig[rr->rr_canary];
		s = &fig[rr->rr_stable];
		buf_printf(b, "  %s vs %s: 5xx rate delta",
		    mst_rollout_wc_name(rr, rr->rr_canary),
		    mst_rollout_wc_name(rr, rr->rr_stable));
		text_num(b, 0, 4, 1, c->rf_err_rate - s->rf_err_rate);
		buf_puts(b, ", p99 ratio");
		text_num(b, 0, 2, 0, p99_ratio(c, s));
		buf_puts(b, "\n");
	}
	if (mst_fleet_text(b) == -1)
		return -1;
	return b->b_oom ? -1 : 0;
}
