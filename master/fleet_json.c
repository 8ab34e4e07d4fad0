/*
 * The values fleet mode keeps under its prefix, as JSON (see fleet.h and
 * fleet-int.h): a route's state, an instance's report, a decision's
 * history record, and the snapshot file in state_dir.  Pure: no I/O.
 *
 * Invariant: a value that does not check out -- not JSON, another shape,
 * weights that do not sum to the route's total, a step the rollout does
 * not have, a bucket index outside the histogram -- is refused whole
 * with a reason, so a foreign or damaged value under the prefix can
 * never change a weight.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shared/hist-t.h"
#include "fleet-int.h"
#include "rollout.h"

#define FJ_VERSION	1
#define FJ_COUNT_MAX	((json_int_t)1 << 53)	/* exact in a double */

int
fl_key_escape(const char *name, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t o = 0;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (o + 4 > outlen)
			return -1;
		if (*p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f) {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else
			out[o++] = (char)*p;
	}
	if (o + 1 > outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

static void fj_why(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fj_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

static char *
fj_dump(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* A number that may be NaN: JSON has no NaN, null stands for it. */
static json_t *
fj_real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* ---- states ------------------------------------------------------------------ */

static json_t *
fj_weights(const uint32_t *w, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_integer(w[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
fj_state(const struct mst_fleet_state *s)
{
	return json_pack("{s:i,s:s,s:i,s:o,s:I,s:I,s:I,s:I,s:s}", "v",
	    FJ_VERSION, "state", mst_rollout_state_name(s->fs_state), "step",
	    s->fs_step, "weights", fj_weights(s->fs_w, s->fs_nw), "epoch",
	    (json_int_t)s->fs_epoch, "fence", (json_int_t)s->fs_fence,
	    "decided_ms", (json_int_t)s->fs_decided_ms, "seq",
	    (json_int_t)s->fs_seq, "reason", s->fs_reason);
}

char *
fl_enc_state(const struct mst_fleet_state *s)
{
	return fj_dump(fj_state(s));
}

static int
fj_state_name(const char *name, enum mst_ro_state *out)
{
	int k;

	for (k = MST_RO_PROGRESSING; k <= MST_RO_PROMOTED; k++)
		if (strcmp(name, mst_rollout_state_name(
		    (enum mst_ro_state)k)) == 0) {
			*out = (enum mst_ro_state)k;
			return 0;
		}
	return -1;
}

/* w: exactly r's clusters, summing to its total. */
static int
fj_dec_weights(const struct mst_fleet_route *r, json_t *a,
    struct mst_fleet_state *s, char *why, size_t len)
{
	uint64_t sum = 0;
	json_int_t v;
	size_t i;

	/* the local route's count bounds what is read (and the state's
	 * room holds it) */
	if (!json_is_array(a) || json_array_size(a) != r->fr_nw ||
	    r->fr_nw > s->fs_wcap) {
		fj_why(why, len, "weights: %zu clusters wanted", r->fr_nw);
		return -1;
	}
	for (i = 0; i < r->fr_nw; i++) {
		if (!json_is_integer(json_array_get(a, i)) ||
		    (v = json_integer_value(json_array_get(a, i))) < 0 ||
		    v > UINT32_MAX) {
			fj_why(why, len, "weights[%zu]: not a weight", i);
			return -1;
		}
		s->fs_w[i] = (uint32_t)v;
		sum += (uint64_t)v;
	}
	s->fs_nw = r->fr_nw;
	if (sum != r->fr_total) {
		fj_why(why, len, "weights sum to %" PRIu64 ", the route's to %"
		    PRIu64, sum, r->fr_total);
		return -1;
	}
	return 0;
}

int
fl_dec_state(const struct mst_fleet_route *r, const char *v, size_t len,
    struct mst_fleet_state *s, char *why, size_t wlen)
{
	json_int_t ver = 0, step = 0, epoch = 0, fence = 0, dec = 0, seq = 0;
	const char *state = NULL, *reason = "";
	json_error_t jerr;
	json_t *root, *w = NULL;
	uint32_t *room = s->fs_w;	/* s keeps its room */
	size_t cap = s->fs_wcap;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->fs_w = room;
	s->fs_wcap = cap;
	if ((root = json_loadb(v, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		fj_why(why, wlen, "not JSON: %s", jerr.text);
		return -1;
	}
	if (json_unpack(root, "{s:I,s:s,s:I,s:o,s:I,s:I,s:I,s:I,s?s}", "v",
	    &ver, "state", &state, "step", &step, "weights", &w, "epoch",
	    &epoch, "fence", &fence, "decided_ms", &dec, "seq", &seq, "reason",
	    &reason) != 0 || ver != FJ_VERSION)
		fj_why(why, wlen, "not a fleet state (version %d)", FJ_VERSION);
	else if (fj_state_name(state, &s->fs_state) == -1)
		fj_why(why, wlen, "state \"%.32s\" unknown", state);
	else if (step < -1 || step >= (json_int_t)r->fr_ro->ro_nsteps)
		fj_why(why, wlen, "step %lld: the rollout has %zu", step,
		    r->fr_ro->ro_nsteps);
	else if (epoch < 0 || fence < 0 || dec < 0 || seq < 0)
		fj_why(why, wlen, "a negative epoch, fence, time or seq");
	else if (fj_dec_weights(r, w, s, why, wlen) == 0) {
		s->fs_step = (int)step;
		s->fs_epoch = (uint64_t)epoch;
		s->fs_fence = fence;
		s->fs_decided_ms = dec;
		s->fs_seq = (uint64_t)seq;
		strlcpy(s->fs_reason, reason, sizeof(s->fs_reason));
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* ---- reports ------------------------------------------------------------------- */

/* [[bucket, count], ...] of the non-empty buckets. */
static json_t *
fj_buckets(const struct hist *h)
{
	json_t *a = json_array();
	uint32_t b;

	for (b = 0; a != NULL && b < CD_HIST_N; b++)
		if (h->h_b[b] != 0 && json_array_append_new(a,
		    json_pack("[i,I]", (int)b, (json_int_t)h->h_b[b])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
fj_rep_route(const struct fl_rep_route *rr)
{
	json_t *vers = json_object(), *o;
	size_t i;

	for (i = 0; vers != NULL && i < rr->rr_nv; i++) {
		o = json_pack("{s:I,s:I,s:o}", "rq", (json_int_t)rr->rr_v[i]->
		    js_rq, "err", (json_int_t)rr->rr_v[i]->js_5xx, "h",
		    fj_buckets(&rr->rr_v[i]->js_h));
		if (json_object_set_new(vers, rr->rr_vname[i], o) != 0) {
			json_decref(vers);
			return NULL;
		}
	}
	return json_pack("{s:I,s:I,s:o}", "ack", (json_int_t)rr->rr_ack, "ws",
	    (json_int_t)rr->rr_window_ms, "vers", vers);
}

char *
fl_enc_report(const char *id, int64_t t, uint64_t seq,
    const struct fl_rep_route *rr, size_t n)
{
	json_t *routes = json_object();
	size_t i;

	for (i = 0; routes != NULL && i < n; i++)
		if (json_object_set_new(routes, rr[i].rr_name,
		    fj_rep_route(&rr[i])) != 0) {
			json_decref(routes);
			return NULL;
		}
	return fj_dump(json_pack("{s:i,s:s,s:I,s:I,s:o}", "v", FJ_VERSION,
	    "id", id, "t", (json_int_t)t, "seq", (json_int_t)seq, "routes",
	    routes));
}

void *
fl_report_load(const char *v, size_t len, int64_t *t, char *why,
    size_t wlen)
{
	json_int_t ver = 0, tt = 0;
	json_error_t jerr;
	json_t *root, *routes = NULL;

	if ((root = json_loadb(v, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		fj_why(why, wlen, "not JSON: %s", jerr.text);
		return NULL;
	}
	if (json_unpack(root, "{s:I,s:I,s:o}", "v", &ver, "t", &tt, "routes",
	    &routes) != 0 || ver != FJ_VERSION || !json_is_object(routes) ||
	    tt < 0) {
		fj_why(why, wlen, "not a fleet report (version %d)",
		    FJ_VERSION);
		json_decref(root);
		return NULL;
	}
	*t = tt;
	return root;
}

void
fl_report_free(void *doc)
{
	json_decref(doc);
}

static json_t *
fj_route(void *doc, const char *route)
{
	json_t *r = json_object_get(json_object_get(doc, "routes"), route);

	return json_is_object(r) ? r : NULL;
}

/* One version's figures; -1 when they do not check out. */
static int
fj_dec_version(json_t *o, struct mst_judge_snap *s)
{
	json_int_t rq = 0, err = 0, b, c;
	json_t *h = NULL, *pair;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (o == NULL)
		return 0;	/* no traffic there yet */
	if (json_unpack(o, "{s:I,s:I,s:o}", "rq", &rq, "err", &err, "h",
	    &h) != 0 || rq < 0 || err < 0 || err > rq || rq > FJ_COUNT_MAX ||
	    !json_is_array(h))
		return -1;
	s->js_rq = (uint64_t)rq;
	s->js_5xx = (uint64_t)err;
	for (i = 0; i < json_array_size(h); i++) {
		pair = json_array_get(h, i);
		if (json_unpack(pair, "[I,I]", &b, &c) != 0 || b < 0 ||
		    b >= CD_HIST_N || c < 0 || c > FJ_COUNT_MAX)
			return -1;
		s->js_h.h_b[b] += (uint64_t)c;
		s->js_h.h_count += (uint64_t)c;
	}
	return 0;
}

int
fl_report_input(void *doc, const char *route, const char *canary,
    const char *stable, struct mst_fleet_input *in)
{
	json_int_t ack = 0, ws = 0;
	json_t *r = fj_route(doc, route), *vers = NULL;

	if (r == NULL || json_unpack(r, "{s:I,s:I,s:o}", "ack", &ack, "ws",
	    &ws, "vers", &vers) != 0 || !json_is_object(vers))
		return -1;
	in->fi_ack_rev = ack;
	in->fi_window_ms = ws;
	if (fj_dec_version(json_object_get(vers, canary), &in->fi_canary) ==
	    -1 || fj_dec_version(json_object_get(vers, stable),
	    &in->fi_stable) == -1)
		return -1;
	return 0;
}

int64_t
fl_report_ack(void *doc, const char *route)
{
	json_t *ack = json_object_get(fj_route(doc, route), "ack");

	return json_is_integer(ack) ? json_integer_value(ack) : -1;
}

/* ---- history --------------------------------------------------------------------- */

static json_t *
fj_fig(const struct mst_ro_fig *f)
{
	return json_pack("{s:I,s:I,s:o,s:o}", "rq", (json_int_t)f->rf_rq,
	    "5xx", (json_int_t)f->rf_5xx, "error_rate",
	    fj_real(f->rf_err_rate), "p99_ms", fj_real(f->rf_p99));
}

static json_t *
fj_brief(const struct mst_fleet_state *s)
{
	return json_pack("{s:s,s:i,s:o,s:I}", "state",
	    mst_rollout_state_name(s->fs_state), "step", s->fs_step, "weights",
	    fj_weights(s->fs_w, s->fs_nw), "epoch", (json_int_t)s->fs_epoch);
}

char *
fl_enc_hist(const struct mst_fleet_verdict *v,
    const struct mst_fleet_state *from, const char *by, const char *node,
    int64_t t)
{
	json_t *inputs;

	inputs = json_pack("{s:i,s:i,s:i,s:i,s:i,s:b,s:o,s:o}", "instances",
	    (int)v->fv_used, "stale", (int)v->fv_stale, "unacked",
	    (int)v->fv_unacked, "old_window", (int)v->fv_old_window,
	    "breaches", (int)v->fv_breaches, "sample_met", v->fv_sample_met,
	    "canary", fj_fig(&v->fv_canary), "stable", fj_fig(&v->fv_stable));
	return fj_dump(json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:o,s:o,s:s,"
	    "s:o}", "seq", (json_int_t)v->fv_next.fs_seq, "t", (json_int_t)t,
	    "act", mst_fleet_act_name(v->fv_act), "by", by, "node", node,
	    "fence", (json_int_t)v->fv_next.fs_fence, "from_revision",
	    (json_int_t)from->fs_rev, "from", from->fs_nw > 0 ? fj_brief(from) :
	    json_null(), "to",
	    fj_brief(&v->fv_next), "why", v->fv_why, "inputs", inputs));
}

/* ---- the snapshot file ------------------------------------------------------------ */

char *
fl_enc_snapshot(const struct fleet *f)
{
	const struct fl_route *r;
	json_t *routes = json_object();
	char cid[24];
	size_t i;

	for (i = 0; routes != NULL && i < f->f_nroutes; i++) {
		r = &f->f_routes[i];
		if (r->r_local || r->r_applied.fs_rev == 0)
			continue;	/* only what etcd held */
		if (json_object_set_new(routes, r->r_rt->fr_name,
		    json_pack("{s:I,s:o}", "rev", (json_int_t)r->r_applied.
		    fs_rev, "state", fj_state(&r->r_applied))) != 0) {
			json_decref(routes);
			return NULL;
		}
	}
	snprintf(cid, sizeof(cid), "%" PRIu64, f->f_snap_cluster);
	return fj_dump(json_pack("{s:i,s:s,s:s,s:s,s:o}", "v", FJ_VERSION,
	    "fleet", f->f_conf->fl_cluster, "node", f->f_conf->fl_node_id,
	    "cluster_id", cid, "routes", routes));
}

/* One route of the snapshot into r->r_cur; -1 when it does not check. */
static int
fj_snap_route(struct fl_route *r, json_t *o, char *why, size_t len)
{
	json_int_t rev = 0;
	json_t *st = NULL;
	char *s;
	int rc;

	if (json_unpack(o, "{s:I,s:o}", "rev", &rev, "state", &st) != 0 ||
	    rev <= 0 || (s = json_dumps(st, JSON_COMPACT)) == NULL) {
		fj_why(why, len, "route %s: not a snapshot entry",
		    r->r_rt->fr_name);
		return -1;
	}
	rc = fl_dec_state(&r->r_dr, s, strlen(s), &r->r_cur, why, len);
	free(s);
	if (rc == 0) {
		r->r_cur.fs_rev = rev;
		r->r_have = true;
	}
	return rc;
}

int
fl_dec_snapshot(struct fleet *f, const char *v, size_t len, char *why,
    size_t wlen)
{
	const char *fleet = NULL, *cid = NULL;
	json_int_t ver = 0;
	json_error_t jerr;
	json_t *root, *routes = NULL, *o;
	size_t i;
	int rc = -1;

	if ((root = json_loadb(v, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		fj_why(why, wlen, "not JSON: %s", jerr.text);
		return -1;
	}
	if (json_unpack(root, "{s:I,s:s,s:s,s:o}", "v", &ver, "fleet", &fleet,
	    "cluster_id", &cid, "routes", &routes) != 0 || ver != FJ_VERSION ||
	    !json_is_object(routes))
		fj_why(why, wlen, "not a fleet snapshot (version %d)",
		    FJ_VERSION);
	else if (strcmp(fleet, f->f_conf->fl_cluster) != 0)
		fj_why(why, wlen, "the snapshot of fleet %.64s", fleet);
	else {
		f->f_snap_cluster = strtoull(cid, NULL, 10);
		rc = 0;
		for (i = 0; i < f->f_nroutes; i++)
			if ((o = json_object_get(routes, f->f_routes[i].r_rt->
			    fr_name)) != NULL && fj_snap_route(&f->f_routes[i],
			    o, why, wlen) == -1)
				rc = -1;
	}
	json_decref(root);
	return rc;
}
