/*
 * Fleet decisions (see fleet_decide.h).
 *
 * Invariant: a state this file produces keeps the route's weights
 * summing to fr_total, carries a decision sequence one higher than the
 * state it came from and the time of the decision, and moves the
 * canary's weight only to one of the rollout's steps, to 0 (rolled
 * back) or leaves it (paused).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/conf-t.h"
#include "shared/hist-t.h"
#include "fleet_decide.h"
#include "judge.h"
#include "rollout.h"

#define FD_WHY_MAX	(MST_FLEET_REASON_MAX - 96)

static const char *const fd_act_names[MST_FLEET_A__N] = {
	[MST_FLEET_A_HOLD] = "hold",
	[MST_FLEET_A_ADVANCE] = "advance",
	[MST_FLEET_A_PROMOTE] = "promote",
	[MST_FLEET_A_ROLLBACK] = "rollback",
	[MST_FLEET_A_PAUSE] = "pause",
	[MST_FLEET_A_OPERATOR] = "operator",
	[MST_FLEET_A_INIT] = "init",
	[MST_FLEET_A_LOCAL] = "local",
};

const char *
mst_fleet_act_name(enum mst_fleet_act a)
{
	return (size_t)a < MST_FLEET_A__N ? fd_act_names[a] : "unknown";
}

static double
fd_pct(const struct mst_fleet_route *r, const struct mst_fleet_state *s)
{
	return mst_judge_pct(s->fs_w, r->fr_total, r->fr_ro->ro_canary);
}

int
mst_fleet_state_alloc(struct mst_fleet_state *s, size_t n)
{
	memset(s, 0, sizeof(*s));
	if ((s->fs_w = calloc(n > 0 ? n : 1, sizeof(*s->fs_w))) == NULL)
		return -1;
	s->fs_wcap = n;
	return 0;
}

void
mst_fleet_state_free(struct mst_fleet_state *s)
{
	free(s->fs_w);
	memset(s, 0, sizeof(*s));
}

void
mst_fleet_state_copy(struct mst_fleet_state *dst,
    const struct mst_fleet_state *src)
{
	uint32_t *w = dst->fs_w;
	size_t cap = dst->fs_wcap;

	if (dst == src)
		return;
	*dst = *src;
	dst->fs_w = w;
	dst->fs_wcap = cap;
	dst->fs_nw = src->fs_nw < cap ? src->fs_nw : cap;
	if (dst->fs_nw > 0 && w != src->fs_w)
		memcpy(dst->fs_w, src->fs_w, dst->fs_nw * sizeof(*w));
}

/* next: cur moved on by one decision at now. */
static void
fd_next(const struct mst_fleet_state *cur, int64_t now,
    struct mst_fleet_state *next)
{
	mst_fleet_state_copy(next, cur);
	next->fs_decided_ms = now;
	next->fs_seq = cur->fs_seq + 1;
}

static void
fd_set_pct(const struct mst_fleet_route *r, struct mst_fleet_state *s,
    unsigned pct)
{
	mst_judge_weights_at(s->fs_w, s->fs_nw, r->fr_total,
	    r->fr_ro->ro_canary, r->fr_ro->ro_stable, pct);
}

/* Step i of the rollout; the last one promotes. */
static void
fd_step(const struct mst_fleet_route *r, const struct mst_fleet_state *cur,
    int i, int64_t now, const char *why, struct mst_fleet_state *next)
{
	const struct cd_rollout *ro = r->fr_ro;
	unsigned pct = ro->ro_steps[i];

	fd_next(cur, now, next);
	next->fs_step = i;
	fd_set_pct(r, next, pct);
	if (i == (int)ro->ro_nsteps - 1) {
		next->fs_state = MST_RO_PROMOTED;
		snprintf(next->fs_reason, sizeof(next->fs_reason), "promoted: "
		    "last step %u%% reached; %s", pct, why);
	} else {
		next->fs_state = MST_RO_PROGRESSING;
		snprintf(next->fs_reason, sizeof(next->fs_reason), "step "
		    "%d/%zu: %u%%; %s", i + 1, ro->ro_nsteps, pct, why);
	}
}

static void
fd_rollback(const struct mst_fleet_route *r,
    const struct mst_fleet_state *cur, int64_t now, const char *why,
    struct mst_fleet_state *next)
{
	fd_next(cur, now, next);
	fd_set_pct(r, next, 0);
	next->fs_state = MST_RO_ROLLED_BACK;
	/* sticky users of the canary go back to stable, and stay there */
	next->fs_epoch = cur->fs_epoch + 1;
	snprintf(next->fs_reason, sizeof(next->fs_reason), "rolled back: %s",
	    why);
}

void
mst_fleet_state_init(const struct mst_fleet_route *r, const uint32_t *w,
    int64_t now, struct mst_fleet_state *out)
{
	const struct cd_rollout *ro = r->fr_ro;
	uint32_t *room = out->fs_w;	/* out keeps its room */
	size_t cap = out->fs_wcap, k;
	double pct;

	memset(out, 0, sizeof(*out));
	out->fs_w = room;
	out->fs_wcap = cap;
	out->fs_nw = r->fr_nw < cap ? r->fr_nw : cap;
	if (out->fs_nw > 0)
		memcpy(out->fs_w, w, out->fs_nw * sizeof(*w));
	out->fs_state = MST_RO_PROGRESSING;
	out->fs_step = -1;
	out->fs_epoch = 1;
	out->fs_decided_ms = now;
	pct = fd_pct(r, out);
	/* 1e-9: 10 of 100 is 10 % even in floating point */
	for (k = 0; k < ro->ro_nsteps; k++)
		if (ro->ro_steps[k] <= pct + 1e-9)
			out->fs_step = (int)k;
	if (ro->ro_nsteps > 0 && out->fs_step == (int)ro->ro_nsteps - 1) {
		out->fs_state = MST_RO_PROMOTED;
		snprintf(out->fs_reason, sizeof(out->fs_reason), "the file's "
		    "weights are at the last step (%u%%)",
		    ro->ro_steps[out->fs_step]);
	} else
		snprintf(out->fs_reason, sizeof(out->fs_reason), "started from "
		    "the file's weights: canary at %.1f%%, step %d of %zu", pct,
		    out->fs_step + 1, ro->ro_nsteps);
}

/* Sort the reports and add up those that count (see fleet_decide.h). */
static void
fd_merge(const struct mst_fleet_route *r, const struct mst_fleet_state *cur,
    const struct mst_fleet_input *in, size_t n, struct mst_fleet_verdict *out,
    struct mst_judge_snap *c, struct mst_judge_snap *s)
{
	int64_t fresh = mst_fleet_fresh_ms(r);
	size_t i;

	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		if (in[i].fi_age_ms >= fresh || in[i].fi_age_ms < 0)
			out->fv_stale++;
		else if (in[i].fi_ack_rev != cur->fs_rev)
			out->fv_unacked++;
		else if (in[i].fi_window_ms + MST_FLEET_SKEW_MS <
		    cur->fs_decided_ms)
			out->fv_old_window++;
		else {
			out->fv_used++;
			mst_judge_snap_add(c, &in[i].fi_canary);
			mst_judge_snap_add(s, &in[i].fi_stable);
		}
	}
}

/* A breach: the first in a row waits for a second one. */
static void
fd_breach(const struct mst_fleet_route *r, const struct mst_fleet_state *cur,
    struct mst_fleet_memo *memo, int64_t now, const char *why,
    struct mst_fleet_verdict *out)
{
	char reason[FD_WHY_MAX];

	memo->fm_breaches++;
	memo->fm_clean_ms = now;
	out->fv_breaches = memo->fm_breaches;
	if (memo->fm_breaches < MST_FLEET_BREACHES) {
		snprintf(out->fv_why, sizeof(out->fv_why), "breach %u of %d in "
		    "a row over %u instances: %s", memo->fm_breaches,
		    MST_FLEET_BREACHES, out->fv_used, why);
		return;
	}
	memo->fm_breaches = 0;
	snprintf(reason, sizeof(reason), "%d breaches in a row over %u "
	    "instances: %.300s", MST_FLEET_BREACHES, out->fv_used, why);
	out->fv_act = MST_FLEET_A_ROLLBACK;
	fd_rollback(r, cur, now, reason, &out->fv_next);
	snprintf(out->fv_why, sizeof(out->fv_why), "%s", reason);
}

/* Healthy or waiting: advance, pause or hold. */
static void
fd_healthy(const struct mst_fleet_route *r, const struct mst_fleet_state *cur,
    const struct mst_fleet_memo *memo, int64_t now, const char *why,
    struct mst_fleet_verdict *out)
{
	const struct cd_rollout *ro = r->fr_ro;
	int64_t since, left;
	bool no_canary;

	/* at weight 0 before the first step no canary sample can come */
	no_canary = cur->fs_step == -1 && cur->fs_w[ro->ro_canary] == 0;
	if (!out->fv_sample_met && !no_canary) {
		if (now - cur->fs_decided_ms >= r->fr_max_wait_ms) {
			out->fv_act = MST_FLEET_A_PAUSE;
			fd_next(cur, now, &out->fv_next);
			out->fv_next.fs_state = MST_RO_PAUSED;
			snprintf(out->fv_next.fs_reason,
			    sizeof(out->fv_next.fs_reason), "paused: too little "
			    "traffic %" PRId64 " s into the step over %u "
			    "instances: %.300s", (now - cur->fs_decided_ms) /
			    1000, out->fv_used, why);
			snprintf(out->fv_why, sizeof(out->fv_why), "%s",
			    out->fv_next.fs_reason);
		} else
			snprintf(out->fv_why, sizeof(out->fv_why), "%s (%u "
			    "instances counted)", why, out->fv_used);
		return;
	}
	since = memo->fm_clean_ms > cur->fs_decided_ms ? memo->fm_clean_ms :
	    cur->fs_decided_ms;
	left = since + ro->ro_step_interval / CD_NS_PER_MS - now;
	if (left > 0)
		snprintf(out->fv_why, sizeof(out->fv_why), "%s; next step in "
		    "%.1f s", why, (double)left / 1000.0);
	else if (out->fv_unacked > 0)
		snprintf(out->fv_why, sizeof(out->fv_why), "healthy; %u "
		    "instances have not applied revision %" PRId64 " yet",
		    out->fv_unacked, cur->fs_rev);
	else if (out->fv_used == 0)
		snprintf(out->fv_why, sizeof(out->fv_why), "no instance "
		    "reports on this step");
	else {
		out->fv_act = cur->fs_step + 1 == (int)ro->ro_nsteps - 1 ?
		    MST_FLEET_A_PROMOTE : MST_FLEET_A_ADVANCE;
		fd_step(r, cur, cur->fs_step + 1, now, no_canary && !out->
		    fv_sample_met ? "the canary had no traffic to judge" : why,
		    &out->fv_next);
		snprintf(out->fv_why, sizeof(out->fv_why), "%s",
		    out->fv_next.fs_reason);
	}
}

void
mst_fleet_decide(const struct mst_fleet_route *r,
    const struct mst_fleet_state *cur, const struct mst_fleet_input *in,
    size_t n, struct mst_fleet_memo *memo, int64_t now,
    struct mst_fleet_verdict *out)
{
	struct mst_fleet_state room = out->fv_next;	/* its weights' room */
	struct mst_judge_snap c, s;
	char why[FD_WHY_MAX];
	int met;

	memset(out, 0, sizeof(*out));
	out->fv_next.fs_w = room.fs_w;
	out->fv_next.fs_wcap = room.fs_wcap;
	mst_fleet_state_copy(&out->fv_next, cur);
	if (memo->fm_rev != cur->fs_rev) {
		memo->fm_rev = cur->fs_rev;
		memo->fm_breaches = 0;
		memo->fm_clean_ms = cur->fs_decided_ms;
	}
	fd_merge(r, cur, in, n, out, &c, &s);
	mst_judge_fig(&out->fv_canary, c.js_rq, c.js_5xx, &c.js_h, 0);
	mst_judge_fig(&out->fv_stable, s.js_rq, s.js_5xx, &s.js_h, 0);
	if (cur->fs_state != MST_RO_PROGRESSING ||
	    (size_t)r->fr_ro->ro_nsteps == 0) {
		snprintf(out->fv_why, sizeof(out->fv_why), "%s: nothing to "
		    "decide", mst_rollout_state_name(cur->fs_state));
		return;
	}
	if (mst_rollout_breach(r->fr_ro, &out->fv_canary, &out->fv_stable,
	    why, sizeof(why), &met)) {
		out->fv_sample_met = true;
		fd_breach(r, cur, memo, now, why, out);
		return;
	}
	memo->fm_breaches = 0;
	out->fv_sample_met = met != 0;
	fd_healthy(r, cur, memo, now, why, out);
}

int
mst_fleet_op(const struct mst_fleet_route *r,
    const struct mst_fleet_state *cur, enum mst_ro_op op, int64_t now,
    struct mst_fleet_state *next, char *why, size_t len)
{
	static const char *const opn[] = { "pause", "resume", "promote",
	    "rollback" };

	mst_fleet_state_copy(next, cur);
	switch (op) {
	case MST_RO_OP_PAUSE:
		if (cur->fs_state != MST_RO_PROGRESSING)
			break;
		fd_next(cur, now, next);
		next->fs_state = MST_RO_PAUSED;
		snprintf(next->fs_reason, sizeof(next->fs_reason), "paused by "
		    "the operator at %.1f%%", fd_pct(r, cur));
		return 0;
	case MST_RO_OP_RESUME:
		if (cur->fs_state == MST_RO_PROMOTED)
			break;
		if (cur->fs_state == MST_RO_PROGRESSING)
			return 1;
		if (cur->fs_state == MST_RO_ROLLED_BACK) {
			/* a new attempt, judged on its own traffic only */
			fd_step(r, cur, 0, now, "resumed by the operator after "
			    "a rollback", next);
			next->fs_epoch = cur->fs_epoch + 1;
			return 0;
		}
		fd_next(cur, now, next);
		next->fs_state = MST_RO_PROGRESSING;
		snprintf(next->fs_reason, sizeof(next->fs_reason), "resumed by "
		    "the operator at %.1f%%", fd_pct(r, cur));
		return 0;
	case MST_RO_OP_PROMOTE:
		if (cur->fs_state == MST_RO_PROMOTED)
			return 1;
		fd_step(r, cur, (int)r->fr_ro->ro_nsteps - 1, now, "by the "
		    "operator", next);
		fd_set_pct(r, next, 100);
		snprintf(next->fs_reason, sizeof(next->fs_reason), "promoted: by "
		    "the operator");
		return 0;
	case MST_RO_OP_ROLLBACK:
		if (cur->fs_state == MST_RO_ROLLED_BACK)
			return 1;
		fd_rollback(r, cur, now, "by the operator", next);
		return 0;
	}
	snprintf(why, len, "state %s: %s does not apply",
	    mst_rollout_state_name(cur->fs_state),
	    (size_t)op < 4 ? opn[op] : "the action");
	return -1;
}

int
mst_fleet_local_rollback(const struct mst_fleet_route *r,
    const struct mst_fleet_state *cur, const struct mst_fleet_input *self,
    int64_t now, struct mst_fleet_state *next, char *why, size_t len)
{
	struct cd_rollout strict = *r->fr_ro;
	struct mst_ro_fig c, s;
	char breach[FD_WHY_MAX];
	int met;

	if (cur->fs_state != MST_RO_PROGRESSING ||
	    cur->fs_w[strict.ro_canary] == 0)
		return 0;
	strict.ro_max_error_rate_delta *= MST_FLEET_LOCAL_FACTOR;
	strict.ro_max_p99_ratio *= MST_FLEET_LOCAL_FACTOR;
	mst_judge_fig(&c, self->fi_canary.js_rq, self->fi_canary.js_5xx,
	    &self->fi_canary.js_h, 0);
	mst_judge_fig(&s, self->fi_stable.js_rq, self->fi_stable.js_5xx,
	    &self->fi_stable.js_h, 0);
	if (!mst_rollout_breach(&strict, &c, &s, breach, sizeof(breach), &met))
		return 0;
	snprintf(why, len, "local safety rollback, etcd unreachable (%g x the "
	    "thresholds, this instance alone): %s", MST_FLEET_LOCAL_FACTOR,
	    breach);
	fd_rollback(r, cur, now, why, next);
	return 1;
}
