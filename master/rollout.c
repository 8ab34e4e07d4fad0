/*
 * Automated rollout and rollback, and the /canary figures (see
 * rollout.h).
 *
 * Invariant: for every route the engine knows, rr_w[] is what shm holds
 * for its split (the engine is the only writer between two loads of the
 * file), and the weights always sum to rr_total, so the canary's share
 * is a percent of a fixed total.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/clock.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "shared/text.h"
#include "fileweights.h"
#include "loop.h"
#include "mst.h"
#include "privmem.h"
#include "rollout.h"
#include "stats.h"

/* "waiting" kinds, so that a reason repeated every tick is logged once */
enum ro_wait {
	RO_W_NONE,
	RO_W_SAMPLE,	/* too few requests */
	RO_W_HEALTHY,	/* healthy, the step interval is not over */
};

static const struct text_name ro_state_names[] = {
	{ MST_RO_PROGRESSING, "progressing" },
	{ MST_RO_PAUSED, "paused" },
	{ MST_RO_ROLLED_BACK, "rolled_back" },
	{ MST_RO_PROMOTED, "promoted" },
};

const char *
mst_rollout_state_name(enum mst_ro_state s)
{
	return text_name(ro_state_names, TEXT_NELEM(ro_state_names), (int)s,
	    "unknown");
}

/* ---- snapshots --------------------------------------------------------- */

/* Snapshots of rr's clusters now, from shm (mst_judge_snap_shm()). */
static void
ro_snaps(const struct mst_ro *ro, const struct mst_ro_route *rr,
    struct mst_judge_snap *out)
{
	size_t i;

	for (i = 0; i < rr->rr_nwc; i++)
		mst_judge_snap_shm(ro->ro_shm, rr->rr_shm_ci[i], &out[i]);
}

/* Forget every snapshot and start the ring with one taken now. */
static void
ro_ring_restart(const struct mst_ro *ro, struct mst_ro_route *rr,
    int64_t now)
{
	ro_snaps(ro, rr, rr->rr_snap);
	mst_judge_ring_restart(&rr->rr_ring, now, rr->rr_snap);
}

/* Window figures against snapshots now[] (rr_nwc of them): each minus
 * the snapshot one window before t; totals since the record began. */
static void
ro_figures_from(const struct mst_ro_route *rr,
    const struct mst_judge_snap *now, int64_t t, struct mst_ro_fig *out)
{
	const struct mst_judge_snap *base;
	struct mst_judge_snap d;
	int64_t at = t;
	double span;
	size_t i;

	base = mst_judge_ring_base(&rr->rr_ring, t, rr->rr_window, &at);
	span = base != NULL ? (double)(t - at) / (double)CD_NS_PER_S : 0;
	for (i = 0; i < rr->rr_nwc; i++) {
		/* a record reset for another cluster counts from zero */
		mst_judge_snap_sub(&d, &now[i], base != NULL ? &base[i] :
		    NULL);
		mst_judge_fig(&out[i], d.js_rq, d.js_5xx, &d.js_h, span);
		out[i].rf_total_rq = now[i].js_rq;
		out[i].rf_total_5xx = now[i].js_5xx;
	}
}

void
mst_rollout_figures(const struct mst_ro *ro, const struct mst_ro_route *rr,
    int64_t now_ns, struct mst_ro_fig *out)
{
	/* the route's scratch: the master is one thread */
	ro_snaps(ro, rr, rr->rr_snap);
	ro_figures_from(rr, rr->rr_snap, now_ns, out);
}

/* ---- judgement ----------------------------------------------------------- */

int
mst_rollout_breach(const struct cd_rollout *ro, const struct mst_ro_fig *c,
    const struct mst_ro_fig *s, char *why, size_t len, int *sample_met)
{
	double delta, cp, sp, ratio;

	*sample_met = c->rf_rq >= ro->ro_min_requests &&
	    s->rf_rq >= ro->ro_min_requests && c->rf_rq > 0 && s->rf_rq > 0;
	if (!*sample_met) {
		snprintf(why, len, "waiting for the sample: canary %" PRIu64
		    " and stable %" PRIu64 " requests in the window, %" PRIu32
		    " each needed", c->rf_rq, s->rf_rq, ro->ro_min_requests);
		return 0;
	}
	delta = c->rf_err_rate - s->rf_err_rate;
	if (delta > ro->ro_max_error_rate_delta) {
		snprintf(why, len, "5xx rate canary %.4f (%" PRIu64 "/%" PRIu64
		    ") - stable %.4f (%" PRIu64 "/%" PRIu64 ") = %.4f > "
		    "max_error_rate_delta %g", c->rf_err_rate, c->rf_5xx,
		    c->rf_rq, s->rf_err_rate, s->rf_5xx, s->rf_rq, delta,
		    ro->ro_max_error_rate_delta);
		return 1;
	}
	/* no latency sample (only local replies): nothing to compare */
	if (!isnan(c->rf_p99) && !isnan(s->rf_p99)) {
		cp = fmax(c->rf_p99, MST_ROLLOUT_P99_FLOOR_MS);
		sp = fmax(s->rf_p99, MST_ROLLOUT_P99_FLOOR_MS);
		ratio = cp / sp;
		if (ratio > ro->ro_max_p99_ratio) {
			snprintf(why, len, "p99 canary %.3f ms / stable %.3f "
			    "ms = %.2f > max_p99_ratio %g (floor %g ms)",
			    c->rf_p99, s->rf_p99, ratio, ro->ro_max_p99_ratio,
			    MST_ROLLOUT_P99_FLOOR_MS);
			return 1;
		}
	} else
		ratio = NAN;
	snprintf(why, len, "healthy: 5xx rate canary %.4f stable %.4f "
	    "(delta %.4f), p99 ratio %.2f, %" PRIu64 "/%" PRIu64 " requests",
	    c->rf_err_rate, s->rf_err_rate, delta, ratio, c->rf_rq, s->rf_rq);
	return 0;
}

/* ---- weights ------------------------------------------------------------- */

static void
ro_publish(struct mst_ro *ro, struct mst_ro_route *rr)
{
	shm_split_publish_epoch(shm_sp(ro->ro_shm, rr->rr_split), rr->rr_w,
	    (uint32_t)rr->rr_nwc, 1, rr->rr_epoch);
}

double
mst_rollout_canary_pct(const struct mst_ro_route *rr)
{
	return mst_judge_pct(rr->rr_w, rr->rr_total, rr->rr_canary);
}

/* Canary at pct percent of the route (mst_judge_weights_at()). */
static void
ro_set_canary_pct(struct mst_ro *ro, struct mst_ro_route *rr, unsigned pct)
{
	mst_judge_weights_at(rr->rr_w, rr->rr_nwc, rr->rr_total,
	    rr->rr_canary, rr->rr_stable, pct);
	ro_publish(ro, rr);
}

const char *
mst_rollout_wc_name(const struct mst_ro_route *rr, int i)
{
	return rr->rr_rt->rt_wc[i].wc_name;
}

/* A decision was made on rr: when, and that the state file is behind. */
static void
ro_decided(struct mst_ro *ro, struct mst_ro_route *rr)
{
	rr->rr_decided_ms = cd_realtime_ms();
	strlcpy(rr->rr_origin, "decided here", sizeof(rr->rr_origin));
	ro->ro_dirty = 1;
}

static void
ro_rollback(struct mst_ro *ro, struct mst_ro_route *rr, const char *why)
{
	ro_decided(ro, rr);
	ro_set_canary_pct(ro, rr, 0);
	rr->rr_state = MST_RO_ROLLED_BACK;
	rr->rr_rollbacks++;
	rr->rr_logged = RO_W_NONE;
	snprintf(rr->rr_reason, sizeof(rr->rr_reason), "rolled back: %s",
	    why);
}

static void
ro_promote(struct mst_ro *ro, struct mst_ro_route *rr, const char *why)
{
	ro_decided(ro, rr);
	ro_set_canary_pct(ro, rr, 100);
	rr->rr_state = MST_RO_PROMOTED;
	rr->rr_step = (int)rr->rr_ro.ro_nsteps - 1;
	rr->rr_promotions++;
	rr->rr_logged = RO_W_NONE;
	snprintf(rr->rr_reason, sizeof(rr->rr_reason), "promoted: %s", why);
}

/* Move to step i (its percent); the last step ends the rollout. */
static void
ro_take_step(struct mst_ro *ro, struct mst_ro_route *rr, int i,
    int64_t now, const char *why)
{
	unsigned pct = rr->rr_ro.ro_steps[i];

	ro_decided(ro, rr);
	rr->rr_step = i;
	rr->rr_step_since = now;
	rr->rr_logged = RO_W_NONE;
	if (i == (int)rr->rr_ro.ro_nsteps - 1) {
		ro_set_canary_pct(ro, rr, pct);
		rr->rr_state = MST_RO_PROMOTED;
		rr->rr_promotions++;
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "promoted: "
		    "last step %u%% reached; %s", pct, why);
		log_info("canary %s: promoted: %s at %u%% (%" PRIu32 " of %"
		    PRIu64 "), %s", rr->rr_name,
		    mst_rollout_wc_name(rr, rr->rr_canary), pct,
		    rr->rr_w[rr->rr_canary], rr->rr_total, why);
		return;
	}
	ro_set_canary_pct(ro, rr, pct);
	snprintf(rr->rr_reason, sizeof(rr->rr_reason), "step %d/%zu: %u%%; "
	    "%s", i + 1, rr->rr_ro.ro_nsteps, pct, why);
	log_info("canary %s: step %d/%zu: %s at %u%% (weight %" PRIu32 " of %"
	    PRIu64 "), %s", rr->rr_name, i + 1, rr->rr_ro.ro_nsteps,
	    mst_rollout_wc_name(rr, rr->rr_canary), pct,
	    rr->rr_w[rr->rr_canary], rr->rr_total, why);
}

/* ---- the tick ------------------------------------------------------------ */

static void
ro_judge(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct mst_ro_fig *fig, int64_t now)
{
	const struct cd_rollout *c = &rr->rr_ro;
	char why[MST_ROLLOUT_REASON_MAX - 64];
	int met, breach, no_canary_traffic;
	int64_t left;

	breach = mst_rollout_breach(c, &fig[rr->rr_canary],
	    &fig[rr->rr_stable], why, sizeof(why), &met);
	if (breach) {
		log_warnx("canary %s: breach: %s: rolling back %s to 0 "
		    "(its weight %" PRIu32 " goes to %s)", rr->rr_name, why,
		    mst_rollout_wc_name(rr, rr->rr_canary),
		    rr->rr_w[rr->rr_canary],
		    mst_rollout_wc_name(rr, rr->rr_stable));
		ro_rollback(ro, rr, why);
		return;
	}
	/* at weight 0 the canary gets no traffic: no sample can come */
	no_canary_traffic = rr->rr_w[rr->rr_canary] == 0 && rr->rr_step == -1;
	if (!met && !no_canary_traffic) {
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "%s", why);
		if (rr->rr_logged != RO_W_SAMPLE)
			log_info("canary %s: %s", rr->rr_name, why);
		rr->rr_logged = RO_W_SAMPLE;
		return;
	}
	left = rr->rr_step_since + c->ro_step_interval - now;
	if (left > 0) {
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "%s; next step "
		    "in %.1f s", why, (double)left / CD_NS_PER_S);
		if (rr->rr_logged != RO_W_HEALTHY)
			log_info("canary %s: %s", rr->rr_name, rr->rr_reason);
		rr->rr_logged = RO_W_HEALTHY;
		return;
	}
	ro_take_step(ro, rr, rr->rr_step + 1, now, no_canary_traffic ?
	    "the canary had no traffic to judge" : why);
}

void
mst_rollout_tick(struct mst_ro *ro, int64_t now)
{
	mst_rollout_tick_some(ro, now, 0, ro->ro_n);
}

void
mst_rollout_tick_some(struct mst_ro *ro, int64_t now, size_t from, size_t n)
{
	struct mst_ro_route *rr;
	size_t r;

	for (r = from; r < ro->ro_n && r < from + n; r++) {
		rr = &ro->ro_routes[r];
		ro_snaps(ro, rr, rr->rr_snap);
		/* figures against the ring before this tick joins it */
		ro_figures_from(rr, rr->rr_snap, now, rr->rr_fig);
		if (rr->rr_has_rollout && rr->rr_state == MST_RO_PROGRESSING &&
		    !rr->rr_fleet)
			ro_judge(ro, rr, rr->rr_fig, now);
		mst_judge_ring_push(&rr->rr_ring, now, rr->rr_snap);
	}
}

/* ---- operators ----------------------------------------------------------- */

int
mst_rollout_op(struct mst_ro *ro, struct mst_ro_route *rr, enum mst_ro_op op,
    int64_t now, struct buf *why)
{
	static const char *const opn[] = { "pause", "resume", "promote",
	    "rollback" };

	if (!rr->rr_has_rollout) {
		buf_printf(why, "route %s has no rollout configured\n",
		    rr->rr_name);
		return -1;
	}
	switch (op) {
	case MST_RO_OP_PAUSE:
		if (rr->rr_state != MST_RO_PROGRESSING)
			goto conflict;
		rr->rr_state = MST_RO_PAUSED;
		ro_decided(ro, rr);
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "paused by the "
		    "operator at %.1f%%", mst_rollout_canary_pct(rr));
		break;
	case MST_RO_OP_RESUME:
		if (rr->rr_state == MST_RO_PROMOTED)
			goto conflict;
		if (rr->rr_state == MST_RO_ROLLED_BACK) {
			/* judge the new attempt on its own traffic only */
			rr->rr_state = MST_RO_PROGRESSING;
			ro_ring_restart(ro, rr, now);
			ro_take_step(ro, rr, 0, now, "resumed by the operator "
			    "after a rollback");
			if (rr->rr_state == MST_RO_PROGRESSING)
				return 0;
			break;
		}
		if (rr->rr_state == MST_RO_PAUSED) {
			rr->rr_state = MST_RO_PROGRESSING;
			ro_decided(ro, rr);
			rr->rr_step_since = now;
			rr->rr_logged = RO_W_NONE;
			snprintf(rr->rr_reason, sizeof(rr->rr_reason),
			    "resumed by the operator at %.1f%%",
			    mst_rollout_canary_pct(rr));
		}
		break;
	case MST_RO_OP_PROMOTE:
		ro_promote(ro, rr, "by the operator");
		break;
	case MST_RO_OP_ROLLBACK:
		ro_rollback(ro, rr, "by the operator");
		break;
	}
	log_info("canary %s: operator %s: %s, %s weight %" PRIu32 ", %s "
	    "weight %" PRIu32, rr->rr_name, opn[op],
	    mst_rollout_state_name(rr->rr_state),
	    mst_rollout_wc_name(rr, rr->rr_canary), rr->rr_w[rr->rr_canary],
	    mst_rollout_wc_name(rr, rr->rr_stable), rr->rr_w[rr->rr_stable]);
	return 0;
conflict:
	buf_printf(why, "route %s is %s: %s does not apply\n", rr->rr_name,
	    mst_rollout_state_name(rr->rr_state), opn[op]);
	return -1;
}

const char *
mst_rollout_listener(const struct mst_ro *ro, const struct mst_ro_route *rr)
{
	const char *n = ro->ro_conf->c_listeners[rr->rr_listener].l_name;

	return n != NULL ? n : "listener_0";
}

/* Does rr's name, or its "<listener>/<name>", say name? */
static bool
ro_route_is(const struct mst_ro *ro, const struct mst_ro_route *rr,
    const char *name, bool qualified)
{
	const char *l = mst_rollout_listener(ro, rr);
	size_t n = strlen(l);

	if (!qualified)
		return strcmp(rr->rr_name, name) == 0;
	return strncmp(name, l, n) == 0 && name[n] == '/' &&
	    strcmp(name + n + 1, rr->rr_name) == 0;
}

struct mst_ro_route *
mst_rollout_find(struct mst_ro *ro, const char *name)
{
	struct mst_ro_route *found = NULL;
	size_t r;
	int pass;

	/* a route name of its own first; then "<listener>/<route>" */
	for (pass = 0; pass < 2 && found == NULL; pass++)
		for (r = 0; r < ro->ro_n; r++) {
			if (!ro_route_is(ro, &ro->ro_routes[r], name, pass))
				continue;
			if (found != NULL)
				return NULL;	/* in several listeners */
			found = &ro->ro_routes[r];
		}
	return found;
}

/* ---- building ------------------------------------------------------------ */

/* Bytes of a route's arrays for n clusters (ro_route_place()). */
static size_t
ro_route_size(size_t n)
{
	return (n > 0 ? n : 1) * (sizeof(struct mst_judge_snap) +
	    sizeof(struct mst_ro_fig) + sizeof(int) + sizeof(uint32_t));
}

/* Bytes of rt's snapshot ring, whichever window ro_route_roles() takes. */
static size_t
ro_ring_room(const struct cd_route *rt)
{
	int64_t tick = MST_ROLLOUT_TICK_MS * CD_NS_PER_MS;
	size_t a, b = 0;

	a = mst_judge_ring_size(rt->rt_nwc, MST_ROLLOUT_VIEW_WINDOW, tick,
	    MST_ROLLOUT_RING_STEPS);
	if (rt->rt_rollout.ro_window > 0)
		b = mst_judge_ring_size(rt->rt_nwc, rt->rt_rollout.ro_window,
		    tick, MST_ROLLOUT_RING_STEPS);
	return a > b ? a : b;
}

/* rr's arrays for n clusters at p (ro_route_size() bytes, zero). */
static void
ro_route_place(struct mst_ro_route *rr, size_t n, char *p)
{
	if (n == 0)
		n = 1;
	/* the widest alignment first */
	rr->rr_snap = (struct mst_judge_snap *)(void *)p;
	rr->rr_fig = (struct mst_ro_fig *)(void *)(p + n *
	    sizeof(struct mst_judge_snap));
	rr->rr_shm_ci = (int *)(void *)((char *)rr->rr_fig + n *
	    sizeof(struct mst_ro_fig));
	rr->rr_w = (uint32_t *)(void *)(rr->rr_shm_ci + n);
}

/* rt's name, or one made of its place: 1 when it has one of its own. */
static int
ro_route_name(const struct cd_route *rt, const struct cd_route_it *it,
    char name[CD_NAME_MAX])
{
	if (rt->rt_name != NULL && rt->rt_name[0] != '\0') {
		strlcpy(name, rt->rt_name, CD_NAME_MAX);
		return 1;
	}
	if (it->ri_l == 0)
		/* stable across reloads while the route keeps its place */
		snprintf(name, CD_NAME_MAX, "route_%zu_%zu", it->ri_v,
		    it->ri_r - 1);
	else
		snprintf(name, CD_NAME_MAX, "route_%zu_%zu_%zu", it->ri_l,
		    it->ri_v, it->ri_r - 1);
	return 0;
}

/* Name, split record, clusters and weights (what shm holds) of rr. */
static void
ro_route_weights(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct cd_route *rt, const struct cd_route_it *it)
{
	const struct cd_place *pl = ro->ro_place;
	uint32_t *w = rr->rr_w, seq;
	size_t i, n;

	rr->rr_rt = rt;
	rr->rr_split = pl->pl_split[rt->rt_wi];
	rr->rr_named = ro_route_name(rt, it, rr->rr_name);
	rr->rr_listener = (int)it->ri_l;
	/* what shm holds: the file's weights, published by the caller */
	n = shm_split_read(shm_sp(ro->ro_shm, rr->rr_split), w,
	    (uint32_t)rr->rr_nwc, &seq);
	rr->rr_total = 0;
	for (i = 0; i < rr->rr_nwc; i++) {
		rr->rr_shm_ci[i] = pl->pl_cluster[rt->rt_wc[i].wc_cluster];
		if (n != rr->rr_nwc)
			rr->rr_w[i] = mst_fw_weight(ro->ro_conf, rt, i);
		rr->rr_total += rr->rr_w[i];
	}
}

void
mst_rollout_reread(struct mst_ro *ro)
{
	struct mst_ro_route *rr;
	uint32_t *w, seq;
	size_t r, i;

	for (r = 0; r < ro->ro_n; r++) {
		rr = &ro->ro_routes[r];
		/* the engine writes a rollout route's weights itself; the
		 * snapshot scratch holds the copy (a snapshot is wider) */
		w = (uint32_t *)(void *)rr->rr_snap;
		if (rr->rr_has_rollout || shm_split_read(
		    shm_sp(ro->ro_shm, rr->rr_split), w, (uint32_t)rr->rr_nwc,
		    &seq) != rr->rr_nwc)
			continue;
		rr->rr_total = 0;
		for (i = 0; i < rr->rr_nwc; i++) {
			rr->rr_w[i] = w[i];
			rr->rr_total += w[i];
		}
	}
}

/*
 * Which clusters are canary and stable: the rollout block's, else the
 * override's pair (compared, never driven), else none; and the window.
 */
static void
ro_route_roles(struct mst_ro_route *rr, const struct cd_route *rt)
{
	rr->rr_canary = rr->rr_stable = -1;
	rr->rr_has_rollout = rt->rt_rollout.ro_set &&
	    rt->rt_rollout.ro_nsteps > 0 && rr->rr_total > 0;
	rr->rr_window = MST_ROLLOUT_VIEW_WINDOW;
	if (rr->rr_has_rollout) {
		rr->rr_ro = rt->rt_rollout;
		rr->rr_canary = rr->rr_ro.ro_canary;
		rr->rr_stable = rr->rr_ro.ro_stable;
		if (rr->rr_canary < 0 || (size_t)rr->rr_canary >= rr->rr_nwc ||
		    rr->rr_stable < 0 || (size_t)rr->rr_stable >= rr->rr_nwc ||
		    rr->rr_canary == rr->rr_stable) {
			log_error("canary %s: rollout canary/stable are not "
			    "two of the route's clusters: rollout ignored",
			    rr->rr_name);
			rr->rr_has_rollout = 0;
			rr->rr_canary = rr->rr_stable = -1;
		} else if (rr->rr_ro.ro_window > 0)
			rr->rr_window = rr->rr_ro.ro_window;
	}
	if (!rr->rr_has_rollout && rt->rt_canary_wc >= 0 &&
	    rt->rt_stable_wc >= 0 && rt->rt_canary_wc != rt->rt_stable_wc &&
	    (size_t)rt->rt_canary_wc < rr->rr_nwc &&
	    (size_t)rt->rt_stable_wc < rr->rr_nwc) {
		/* the override's pair: compared, never driven */
		rr->rr_canary = rt->rt_canary_wc;
		rr->rr_stable = rt->rt_stable_wc;
	}
}

/* The snapshot ring over rr's window at mem (ro_ring_room()), with a
 * first snapshot. */
static void
ro_route_ring(const struct mst_ro *ro, struct mst_ro_route *rr, void *mem,
    int64_t now)
{
	mst_judge_ring_place(&rr->rr_ring, rr->rr_nwc, rr->rr_window,
	    MST_ROLLOUT_TICK_MS * CD_NS_PER_MS, MST_ROLLOUT_RING_STEPS, mem);
	ro_ring_restart(ro, rr, now);
}

/* A rollout starts at the last step not above the file's percent. */
static void
ro_route_start(struct mst_ro *ro, struct mst_ro_route *rr)
{
	size_t i;
	int k;

	/* a total below 100 cannot hold every percent (1 of 2 has no 10 %):
	 * the same split with weights x 100 can */
	if (rr->rr_total < 100) {
		for (i = 0; i < rr->rr_nwc; i++)
			rr->rr_w[i] *= 100;
		rr->rr_total *= 100;
		ro_publish(ro, rr);
	}
	/* the last step not above the file's canary percent (1e-9: 10 of
	 * 100 is 10 % even in floating point) */
	for (k = 0; k < (int)rr->rr_ro.ro_nsteps; k++)
		if (rr->rr_ro.ro_steps[k] <= mst_rollout_canary_pct(rr) + 1e-9)
			rr->rr_step = k;
	if (rr->rr_step == (int)rr->rr_ro.ro_nsteps - 1) {
		rr->rr_state = MST_RO_PROMOTED;
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "the file's "
		    "weights are at the last step (%u%%)",
		    rr->rr_ro.ro_steps[rr->rr_step]);
	} else
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "started from "
		    "the file's weights: %s at %.1f%%, step %d of %zu",
		    mst_rollout_wc_name(rr, rr->rr_canary),
		    mst_rollout_canary_pct(rr), rr->rr_step + 1,
		    rr->rr_ro.ro_nsteps);
	log_info("canary %s: rollout %s: %s", rr->rr_name,
	    mst_rollout_state_name(rr->rr_state), rr->rr_reason);
}

static void
ro_route_init(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct cd_route *rt, void *ring, int64_t now)
{
	ro_route_roles(rr, rt);
	ro_route_ring(ro, rr, ring, now);
	rr->rr_state = MST_RO_PROGRESSING;
	rr->rr_step = -1;
	rr->rr_step_since = now;
	strlcpy(rr->rr_origin, "the configuration", sizeof(rr->rr_origin));
	if (rr->rr_has_rollout) {
		rr->rr_sig = mst_rollout_sig(ro->ro_conf, rt);
		ro_route_start(ro, rr);
	} else
		snprintf(rr->rr_reason, sizeof(rr->rr_reason), "no rollout");
}

/*
 * rr takes a state decided before (kept across a reload, or saved in the
 * state file): state, step, weights (scaled to rr's total when the file's
 * total changed: the shares are what was decided), reason.  -1 when the
 * weights do not fit the route.
 */
static int
ro_route_adopt(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct mst_ro_saved *sv, int64_t now, const char *origin)
{
	uint64_t sum = 0, acc = 0;
	size_t i;

	if (sv->rs_nw != rr->rr_nwc || sv->rs_step >= (int)rr->rr_ro.ro_nsteps)
		return -1;
	for (i = 0; i < sv->rs_nw; i++)
		sum += sv->rs_w[i];
	if (sum == 0)
		return -1;
	for (i = 0; i < rr->rr_nwc; i++) {
		rr->rr_w[i] = (uint32_t)(sv->rs_w[i] * rr->rr_total / sum);
		acc += rr->rr_w[i];
	}
	/* what rounding lost goes to the stable cluster */
	rr->rr_w[rr->rr_stable] += (uint32_t)(rr->rr_total - acc);
	rr->rr_state = sv->rs_state;
	rr->rr_step = sv->rs_step;
	rr->rr_epoch = sv->rs_epoch;
	rr->rr_step_since = now;
	rr->rr_decided_ms = sv->rs_decided_ms;
	strlcpy(rr->rr_origin, origin, sizeof(rr->rr_origin));
	strlcpy(rr->rr_reason, sv->rs_reason, sizeof(rr->rr_reason));
	ro_publish(ro, rr);
	return 0;
}

void
mst_rollout_set_fleet(struct mst_ro_route *rr, int on)
{
	rr->rr_fleet = on && rr->rr_has_rollout;
}

int
mst_rollout_adopt(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct mst_ro_saved *sv, int64_t now, const char *origin)
{
	enum mst_ro_state was = rr->rr_state;

	if (!rr->rr_has_rollout || ro_route_adopt(ro, rr, sv, now,
	    origin) == -1)
		return -1;
	if (rr->rr_state != was && rr->rr_state == MST_RO_ROLLED_BACK)
		rr->rr_rollbacks++;
	if (rr->rr_state != was && rr->rr_state == MST_RO_PROMOTED)
		rr->rr_promotions++;
	rr->rr_logged = RO_W_NONE;
	ro->ro_dirty = 1;
	log_info("canary %s: %s at %.1f%% (%s): %s", rr->rr_name,
	    mst_rollout_state_name(rr->rr_state), mst_rollout_canary_pct(rr),
	    origin, rr->rr_reason);
	return 0;
}

/* rr as the state file would keep it. */
static void
ro_route_save(const struct mst_ro_route *rr, struct mst_ro_saved *sv)
{
	memset(sv, 0, sizeof(*sv));
	strlcpy(sv->rs_name, rr->rr_name, sizeof(sv->rs_name));
	sv->rs_sig = rr->rr_sig;
	sv->rs_state = rr->rr_state;
	sv->rs_step = rr->rr_step;
	sv->rs_decided_ms = rr->rr_decided_ms;
	sv->rs_w = rr->rr_w;	/* rr's, while sv is used */
	sv->rs_nw = rr->rr_nwc;
	strlcpy(sv->rs_reason, rr->rr_reason, sizeof(sv->rs_reason));
	sv->rs_epoch = rr->rr_epoch;
}

/* rr takes sv's state if sv is the same route; logged either way. */
static void
ro_route_resume_from(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct mst_ro_saved *sv, int64_t now, const char *origin)
{
	if (sv->rs_sig != rr->rr_sig) {
		strlcpy(rr->rr_origin, "the configuration (its rollout or "
		    "canary cluster changed)", sizeof(rr->rr_origin));
		log_info("canary %s: the rollout block or the canary/stable "
		    "clusters changed: a fresh rollout from the file's "
		    "weights", rr->rr_name);
		return;
	}
	if (ro_route_adopt(ro, rr, sv, now, origin) == -1) {
		log_warnx("canary %s: the state %s does not fit the route: a "
		    "fresh rollout from the file's weights", rr->rr_name,
		    origin);
		return;
	}
	log_info("canary %s: rollout %s at %.1f%% (%s): %s", rr->rr_name,
	    mst_rollout_state_name(rr->rr_state), mst_rollout_canary_pct(rr),
	    origin, rr->rr_reason);
}

void
mst_rollout_restore(struct mst_ro *ro, const struct mst_ro_saved *sv,
    size_t n, int64_t now)
{
	struct mst_ro_route *rr;
	size_t r, k;

	for (r = 0; r < ro->ro_n; r++) {
		rr = &ro->ro_routes[r];
		for (k = 0; rr->rr_has_rollout && k < n; k++)
			if (strcmp(sv[k].rs_name, rr->rr_name) == 0)
				ro_route_resume_from(ro, rr, &sv[k], now,
				    "from the state file");
	}
}

/*
 * prev's route of rr's name, on rr's listener if one is, looked for from
 * *hint on: routes mostly keep their order across a reload, so that is
 * one comparison a route, not one per route.  NULL when none.
 */
static struct mst_ro_route *
ro_prev_route(struct mst_ro *prev, const struct mst_ro_route *rr,
    size_t *hint)
{
	struct mst_ro_route *o, *other = NULL;
	size_t k, i;

	for (k = 0; prev != NULL && k < prev->ro_n; k++) {
		i = (*hint + k) % prev->ro_n;
		o = &prev->ro_routes[i];
		if (strcmp(o->rr_name, rr->rr_name) != 0)
			continue;
		if (o->rr_listener == rr->rr_listener) {
			*hint = i + 1;
			return o;
		}
		other = o;
	}
	return other;
}

/*
 * One mapping for ro's routes, their arrays and their rings (privmem.h):
 * the engine is rebuilt on every reload, long after the workers forked,
 * and heap the workers share would cost a copy-on-write fault a page.
 * Ring entries are touched as they are written.  Where the routes begin,
 * or NULL (ENOMEM).
 */
static char *
ro_map(struct mst_ro *ro, const struct cd_conf *conf, size_t n)
{
	const struct cd_route *rt;
	struct cd_route_it it;
	size_t len = n * sizeof(*ro->ro_routes);

	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL)
		if (rt->rt_action == CD_RA_WEIGHTED)
			len += ro_route_size(rt->rt_nwc) + ro_ring_room(rt);
	if ((ro->ro_mem = mst_privmem_map(len)) == NULL)
		return NULL;
	ro->ro_mem_len = len;
	ro->ro_routes = ro->ro_mem;
	return (char *)ro->ro_mem + n * sizeof(*ro->ro_routes);
}

/* rr, zero, for rt, its arrays and ring at p (ro_map()). */
static void
ro_route_build(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct cd_route *rt, const struct cd_route_it *it, char *p,
    int64_t now)
{
	rr->rr_nwc = rt->rt_nwc;
	ro_route_place(rr, rr->rr_nwc, p);
	ro_route_weights(ro, rr, rt, it);
	ro_route_init(ro, rr, rt, p + ro_route_size(rr->rr_nwc), now);
}

/* rr, just built, is the route old (of the engine replaced) was. */
static void
ro_route_carry(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct mst_ro_route *old, int64_t now)
{
	struct mst_ro_saved sv;

	rr->rr_rollbacks = old->rr_rollbacks;
	rr->rr_promotions = old->rr_promotions;
	if (rr->rr_has_rollout && old->rr_has_rollout) {
		ro_route_save(old, &sv);
		ro_route_resume_from(ro, rr, &sv, now, "kept across a reload");
	}
}

int
mst_rollout_init(struct mst_ro *ro, const struct cd_conf *conf,
    const struct cd_place *pl, struct shm *shm, int64_t now,
    struct mst_ro *prev)
{
	struct mst_ro_route *rr, *old;
	const struct cd_route *rt;
	struct cd_route_it it;
	size_t n, hint = 0;
	char *p;

	memset(ro, 0, sizeof(*ro));
	ro->ro_conf = conf;
	ro->ro_place = pl;
	ro->ro_shm = shm;
	if ((n = conf->c_nweighted) == 0)
		return 0;
	if ((p = ro_map(ro, conf, n)) == NULL)
		return -1;
	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL) {
		if (rt->rt_action != CD_RA_WEIGHTED)
			continue;
		rr = &ro->ro_routes[ro->ro_n++];
		ro_route_build(ro, rr, rt, &it, p, now);
		p += ro_route_size(rr->rr_nwc) + ro_ring_room(rt);
		if ((old = ro_prev_route(prev, rr, &hint)) != NULL)
			ro_route_carry(ro, rr, old, now);
	}
	return 0;
}

/* Does conf have ro's routes, by name and listener, each with room
 * enough in ro's mapping, in ro's order? */
static int
ro_same_shape(const struct mst_ro *ro, const struct cd_conf *conf)
{
	const struct mst_ro_route *rr;
	const struct cd_route *rt;
	struct cd_route_it it;
	char name[CD_NAME_MAX];
	size_t r = 0;

	if (ro->ro_n == 0 || conf->c_nweighted != ro->ro_n)
		return 0;
	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL) {
		if (rt->rt_action != CD_RA_WEIGHTED)
			continue;
		rr = &ro->ro_routes[r++];
		(void)ro_route_name(rt, &it, name);
		if (rt->rt_nwc != rr->rr_nwc ||
		    ro_ring_room(rt) != ro_ring_room(rr->rr_rt) ||
		    strcmp(name, rr->rr_name) != 0 ||
		    (int)it.ri_l != rr->rr_listener)
			return 0;
	}
	return 1;
}

/* rr again, for rt, over its own memory, then what it was carried. */
static void
ro_route_rebuild(struct mst_ro *ro, struct mst_ro_route *rr,
    const struct cd_route *rt, const struct cd_route_it *it, int64_t now)
{
	struct mst_ro_route old = *rr;
	char *p = (char *)rr->rr_snap;
	size_t n = rr->rr_nwc > 0 ? rr->rr_nwc : 1;

	/* the figures are scratch until the next tick, and wider than a
	 * weight: they keep old's weights while rr is built */
	old.rr_w = (uint32_t *)(void *)rr->rr_fig;
	memcpy(old.rr_w, rr->rr_w, rr->rr_nwc * sizeof(*rr->rr_w));
	memset(rr, 0, sizeof(*rr));
	memset(p, 0, n * sizeof(struct mst_judge_snap));
	memset(p + n * (sizeof(struct mst_judge_snap) +
	    sizeof(struct mst_ro_fig)), 0, n * (sizeof(int) +
	    sizeof(uint32_t)));
	ro_route_build(ro, rr, rt, it, p, now);
	ro_route_carry(ro, rr, &old, now);
	memset(rr->rr_fig, 0, n * sizeof(*rr->rr_fig));
}

int
mst_rollout_refresh(struct mst_ro *ro, const struct cd_conf *conf,
    const struct cd_place *pl, struct shm *shm, int64_t now)
{
	const struct cd_route *rt;
	struct cd_route_it it;
	size_t r = 0;

	if (!ro_same_shape(ro, conf))
		return -1;
	ro->ro_conf = conf;
	ro->ro_place = pl;
	ro->ro_shm = shm;
	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL)
		if (rt->rt_action == CD_RA_WEIGHTED)
			ro_route_rebuild(ro, &ro->ro_routes[r++], rt, &it,
			    now);
	return 0;
}

void
mst_rollout_free(struct mst_ro *ro)
{
	if (ro == NULL)
		return;
	/* the rings are in the mapping too: nothing else to free */
	mst_privmem_unmap(ro->ro_mem, ro->ro_mem_len);
	memset(ro, 0, sizeof(*ro));
}

int
mst_rollout_stats(const struct mst_ro *ro, struct mst_stat_list *sl)
{
	const struct mst_ro_route *rr;
	char name[CD_NAME_MAX + 64];
	size_t r;
	int rc = 0;

	for (r = 0; r < ro->ro_n && rc == 0; r++) {
		rr = &ro->ro_routes[r];
		if (!rr->rr_has_rollout)
			continue;
		snprintf(name, sizeof(name), "canary.%s.rollout.rollbacks",
		    rr->rr_name);
		rc |= mst_stats_add(sl, MST_STAT_COUNTER, rr->rr_rollbacks,
		    rr->rr_rollbacks != 0, name);
		snprintf(name, sizeof(name), "canary.%s.rollout.promotions",
		    rr->rr_name);
		rc |= mst_stats_add(sl, MST_STAT_COUNTER, rr->rr_promotions,
		    rr->rr_promotions != 0, name);
		snprintf(name, sizeof(name), "canary.%s.rollout.state",
		    rr->rr_name);
		rc |= mst_stats_add(sl, MST_STAT_GAUGE, (uint64_t)rr->rr_state,
		    1, name);
		snprintf(name, sizeof(name), "canary.%s.rollout.step",
		    rr->rr_name);
		rc |= mst_stats_add(sl, MST_STAT_GAUGE,
		    (uint64_t)(rr->rr_step + 1), 1, name);
		snprintf(name, sizeof(name), "canary.%s.rollout.canary_weight",
		    rr->rr_name);
		rc |= mst_stats_add(sl, MST_STAT_GAUGE,
		    rr->rr_w[rr->rr_canary], 1, name);
	}
	return rc == 0 ? 0 : -1;
}

/* ---- the master's engine ------------------------------------------------- */

static struct mst_ro ro_engine;
static int ro_running;
static struct mst_timer *ro_timer;
/*
 * With many weighted routes the tick goes a slice at a time, RO_SLICES
 * timers a second, each route still once a second: at 1,000 routes one
 * whole tick (a snapshot of every cluster's totals and histogram across
 * the slots) held the loop for 25-30 ms.  A few routes tick together.
 */
#define RO_SLICES		10
#define RO_SLICE_MIN_ROUTES	128
static size_t ro_slice;		/* the next slice, 0 .. RO_SLICES - 1 */
static int ro_save_failing;	/* the last write failed (logged once) */

void
mst_rollout_persist(void)
{
	size_t r;

	if (!ro_running || !ro_engine.ro_dirty || mst.m_state_dir == NULL)
		return;
	for (r = 0; r < ro_engine.ro_n; r++)
		if (ro_engine.ro_routes[r].rr_has_rollout)
			break;
	if (r == ro_engine.ro_n)
		return;		/* nothing to keep: no file written */
	if (mst_rollout_state_write(mst.m_state_dir, &ro_engine) == -1) {
		if (!ro_save_failing)
			log_error("canary: cannot write the rollout state in "
			    "%s (decisions will not survive a restart): %s",
			    mst.m_state_dir, strerror(errno));
		ro_save_failing = 1;
		return;
	}
	if (ro_save_failing)
		log_info("canary: rollout state written in %s again",
		    mst.m_state_dir);
	ro_save_failing = 0;
	ro_engine.ro_dirty = 0;
}

/* The state file's decisions, for the routes it still fits. */
static void
ro_restore_saved(void)
{
	struct mst_ro_saved *sv;
	char why[512];
	size_t n;
	int rc;

	if (mst.m_state_dir == NULL)
		return;
	rc = mst_rollout_state_read(mst.m_state_dir, &sv, &n, why,
	    sizeof(why));
	if (rc == -1) {
		log_crit("canary: rollout state unusable (%s): every rollout "
		    "starts from the configuration", why);
		ro_engine.ro_dirty = 1;		/* replace it */
		return;
	}
	if (rc == 1)
		return;
	mst_rollout_restore(&ro_engine, sv, n, mst_rollout_now_ns());
	mst_rollout_saved_free(sv, n);
}

int64_t
mst_rollout_now_ns(void)
{
	return (int64_t)mst_now_ms() * CD_NS_PER_MS;
}

struct mst_ro *
mst_rollout_engine(void)
{
	return ro_running ? &ro_engine : NULL;
}

static void
ro_on_tick(void *arg)
{
	size_t n = ro_engine.ro_n, from;
	uint64_t ms = MST_ROLLOUT_TICK_MS;

	(void)arg;
	ro_timer = NULL;
	if (!ro_running)
		return;
	if (n < RO_SLICE_MIN_ROUTES)
		mst_rollout_tick(&ro_engine, mst_rollout_now_ns());
	else {
		ro_slice %= RO_SLICES;
		from = n * ro_slice / RO_SLICES;
		mst_rollout_tick_some(&ro_engine, mst_rollout_now_ns(), from,
		    n * (ro_slice + 1) / RO_SLICES - from);
		ro_slice++;
		ms = MST_ROLLOUT_TICK_MS / RO_SLICES;
	}
	mst_rollout_persist();
	if ((ro_timer = mst_timer_add(ms, ro_on_tick, NULL)) == NULL)
		log_error("canary: no timer: rollouts stop being judged");
}

int
mst_rollout_start(void)
{
	if (mst_rollout_init(&ro_engine, mst.m_conf, mst.m_place, mst.m_shm,
	    mst_rollout_now_ns(), NULL) == -1) {
		log_error("canary: out of memory for the rollout engine");
		mst_rollout_free(&ro_engine);
		return -1;
	}
	ro_running = 1;
	ro_restore_saved();
	mst_rollout_persist();
	if (ro_timer == NULL && (ro_timer = mst_timer_add(MST_ROLLOUT_TICK_MS,
	    ro_on_tick, NULL)) == NULL) {
		log_error("canary: no timer for the rollout engine");
		return -1;
	}
	return 0;
}

void
mst_rollout_reload(void)
{
	struct mst_ro next;

	if (!ro_running)
		return;
	/* the same routes (a reload of weights): over the memory the
	 * engine has, so a reload touches no new page */
	if (mst_rollout_refresh(&ro_engine, mst.m_conf, mst.m_place,
	    mst.m_shm, mst_rollout_now_ns()) == 0)
		goto done;
	if (mst_rollout_init(&next, mst.m_conf, mst.m_place, mst.m_shm,
	    mst_rollout_now_ns(), &ro_engine) == -1) {
		/* the old engine points into a config that may be gone */
		log_error("canary: out of memory: rollouts stop until the "
		    "next reload");
		mst_rollout_free(&next);
		mst_rollout_free(&ro_engine);
		return;
	}
	mst_rollout_free(&ro_engine);
	ro_engine = next;
done:
	ro_engine.ro_dirty = 1;
	mst_rollout_persist();
}

void
mst_rollout_stop(void)
{
	ro_running = 0;
	mst_timer_cancel(ro_timer);
	ro_timer = NULL;
	mst_rollout_free(&ro_engine);
}
