/*
 * The fleet coordinator's answers to people (see fleet-int.h): operators'
 * actions, what happens while etcd is away, and the /canary view.
 *
 * An action (pause, resume, promote, rollback, from POST /canary/<route>/
 * on any instance) is a compare-and-swap on the route's state revision:
 * one that landed first is never overwritten; when the state moved on,
 * the action is judged again on the new state (FL_OP_TRIES times).  With
 * ?wait=ack the answer waits until every live instance reports the new
 * revision (MST_FLEET_WAIT_ACK_MS at most).
 *
 * etcd away (no good answer for a lease TTL): rollback and pause apply
 * here at once (202) and are written when etcd is back; resume and
 * promote need the fleet (503).  Each tick, a route this instance alone
 * sees breaching MST_FLEET_LOCAL_FACTOR times the thresholds is rolled
 * back here, and that too is written when etcd is back.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shared/log.h"
#include "etcd.h"
#include "fleet-int.h"
#include "rollout.h"

static const char *const fo_names[] = { "pause", "resume", "promote",
    "rollback" };

static void	fl_op_run(struct fl_op *);

static void
fl_op_free(struct fl_op *o)
{
	struct fl_op **p;

	for (p = &o->o_f->f_ops_head; *p != NULL; p = &(*p)->o_next)
		if (*p == o) {
			*p = o->o_next;
			break;
		}
	fl_timer_off(o->o_f, &o->o_timer);
	if (!o->o_reply && o->o_r != NULL)
		o->o_r->r_flushing = false;
	mst_fleet_state_free(&o->o_state);
	free(o);
}

void
fl_ops_free(struct fleet *f)
{
	while (f->f_ops_head != NULL)
		fl_op_free(f->f_ops_head);
}

static void
fl_answer(struct fleet *f, uint64_t id, int status, json_t *body)
{
	struct mst_fleet_msg m;
	char *s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

	memset(&m, 0, sizeof(m));
	m.fm_type = MST_FLEET_M_OP_DONE;
	m.fm_id = id;
	m.fm_status = status;
	m.fm_len = (uint32_t)strlcpy(m.fm_text, s != NULL ? s :
	    "{\"error\":\"out of memory\"}", sizeof(m.fm_text));
	if (m.fm_len >= sizeof(m.fm_text))
		m.fm_len = sizeof(m.fm_text) - 1;
	(void)fl_send(f, &m);
	free(s);
	json_decref(body);
}

/* Answer o (if it wants one) and end it. */
static void
fl_op_done(struct fl_op *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fl_op_done(struct fl_op *o, int status, const char *fmt, ...)
{
	const struct mst_fleet_state *s = &o->o_r->r_cur;
	char msg[MST_FLEET_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->o_reply)
		fl_answer(o->o_f, o->o_id, status, json_pack("{s:s,s:s,s:s,"
		    "s:s,s:I,s:i,s:s,s:s}", "route", o->o_r->r_rt->fr_name,
		    "action", fo_names[o->o_op], "result", msg, "state",
		    mst_rollout_state_name(s->fs_state), "revision",
		    (json_int_t)s->fs_rev, "step", s->fs_step, "reason",
		    s->fs_reason, "applied_here",
		    mst_rollout_state_name(o->o_r->r_applied.fs_state)));
	else if (status >= 400)
		log_warnx("fleet: route %s: the %s decided while etcd was away "
		    "was not written: %s", o->o_r->r_rt->fr_name,
		    fo_names[o->o_op], msg);
	fl_op_free(o);
}

/* etcd away: pause and rollback here and now; the rest must wait. */
static void
fl_op_local(struct fl_op *o)
{
	struct fl_route *r = o->o_r;
	struct mst_fleet_state *next = &r->r_tmp;
	char why[MST_FLEET_REASON_MAX];
	int rc;

	if (o->o_op != MST_RO_OP_PAUSE && o->o_op != MST_RO_OP_ROLLBACK) {
		fl_op_done(o, 503, "etcd is unreachable: %s needs the fleet",
		    fo_names[o->o_op]);
		return;
	}
	rc = mst_fleet_op(&r->r_dr, &r->r_applied, (enum mst_ro_op)o->o_op,
	    fl_wall_ms(), next, why, sizeof(why));
	if (rc == -1) {
		fl_op_done(o, 409, "%s", why);
		return;
	}
	if (rc == 0) {
		snprintf(next->fs_reason, sizeof(next->fs_reason), "%s by the "
		    "operator here while etcd was unreachable",
		    fo_names[o->o_op]);
		fl_apply(r, next, true);
	}
	r->r_pending = o->o_op;
	fl_op_done(o, 202, "applied here; written to etcd when it answers "
	    "again");
}

static void
fl_on_acks(struct mst_etcd *e, const struct mst_etcd_res *res, void *arg);

static void
fl_on_ack_timer(void *arg)
{
	struct fl_op *o = arg;
	char end[FL_KEY_MAX];
	struct mst_etcd_op op = { .o_kind = MST_ETCD_OP_RANGE };

	o->o_timer = NULL;
	if (fl_mono_ms() >= o->o_deadline) {
		fl_op_done(o, 504, "%s at revision %" PRId64 "; no answer "
		    "about the instances' acknowledgements in %d ms",
		    fo_names[o->o_op], o->o_rev, MST_FLEET_WAIT_ACK_MS);
		return;
	}
	op.o_key = o->o_f->f_key_met;
	op.o_klen = strlen(op.o_key);
	op.o_end = end;
	op.o_elen = mst_etcd_prefix_end(op.o_key, op.o_klen, end);
	if (mst_etcd_op(o->o_f->f_etcd, &op, fl_on_acks, o) == -1)
		o->o_timer = fl_timer(o->o_f, FL_ACK_POLL_MS, fl_on_ack_timer,
		    o);
}

/* ?wait=ack: has every fresh report acknowledged o_rev? */
static void
fl_on_acks(struct mst_etcd *e, const struct mst_etcd_res *res, void *arg)
{
	struct fl_op *o = arg;
	int64_t now = fl_wall_ms(), t;
	unsigned live = 0, acked = 0;
	char why[64];
	void *doc;
	size_t i;

	(void)e;
	for (i = 0; res->r_err == MST_ETCD_OK && i < res->r_nkvs; i++) {
		if ((doc = fl_report_load(res->r_kvs[i].kv_val,
		    res->r_kvs[i].kv_vlen, &t, why, sizeof(why))) == NULL)
			continue;
		if (now - t < mst_fleet_fresh_ms(&o->o_r->r_dr)) {
			live++;
			acked += fl_report_ack(doc, o->o_r->r_rt->fr_name) >=
			    o->o_rev;
		}
		fl_report_free(doc);
	}
	if (res->r_err == MST_ETCD_OK && live > 0 && acked == live) {
		fl_op_done(o, 200, "%s at revision %" PRId64 ", acknowledged "
		    "by %u instances", fo_names[o->o_op], o->o_rev, live);
		return;
	}
	if (fl_mono_ms() >= o->o_deadline) {
		fl_op_done(o, 504, "%s at revision %" PRId64 "; %u of %u live "
		    "instances acknowledged it in %d ms", fo_names[o->o_op],
		    o->o_rev, acked, live, MST_FLEET_WAIT_ACK_MS);
		return;
	}
	o->o_timer = fl_timer(o->o_f, FL_ACK_POLL_MS, fl_on_ack_timer, o);
}

/* The action's CAS came back. */
static void
fl_on_op_written(struct mst_etcd *e, const struct mst_etcd_res *res,
    void *arg)
{
	struct fl_op *o = arg;
	struct fl_route *r = o->o_r;
	struct mst_fleet_state *s = &r->r_tmp;
	char why[160];
	size_t i;

	(void)e;
	if (res->r_err != MST_ETCD_OK) {
		if (o->o_reply)
			fl_op_local(o);
		else
			fl_op_free(o);	/* pending: tried again later */
		return;
	}
	fl_ok(o->o_f);
	if (!res->r_succeeded) {
		for (i = 0; i < res->r_nkvs; i++)
			if (res->r_kvs[i].kv_klen == strlen(r->r_key_state) &&
			    fl_dec_state(&r->r_dr, res->r_kvs[i].kv_val,
			    res->r_kvs[i].kv_vlen, s, why, sizeof(why)) == 0) {
				s->fs_rev = res->r_kvs[i].kv_mod_rev;
				mst_fleet_state_copy(&r->r_cur, s);
			}
		if (++o->o_tries < FL_OP_TRIES) {
			fl_op_run(o);
			return;
		}
		fl_op_done(o, 409, "the state kept changing");
		return;
	}
	mst_fleet_state_copy(&r->r_cur, &o->o_state);
	r->r_cur.fs_rev = res->r_hdr.eh_revision;
	o->o_rev = res->r_hdr.eh_revision;
	o->o_f->f_st.st_decisions[o->o_reply ? MST_FLEET_A_OPERATOR :
	    MST_FLEET_A_LOCAL]++;
	if (!o->o_reply) {
		/* the fleet's state now says what was decided here */
		r->r_pending = -1;
		fl_apply(r, &r->r_cur, false);
		fl_op_done(o, 200, "written");
		return;
	}
	if (o->o_wait_ack) {
		o->o_deadline = fl_mono_ms() + MST_FLEET_WAIT_ACK_MS;
		fl_on_ack_timer(o);
		return;
	}
	fl_op_done(o, 200, "%s at revision %" PRId64, fo_names[o->o_op],
	    o->o_rev);
}

static void
fl_on_op_retry(void *arg)
{
	struct fl_op *o = arg;

	o->o_timer = NULL;
	fl_op_run(o);
}

static void
fl_op_run(struct fl_op *o)
{
	struct fleet *f = o->o_f;
	struct fl_route *r = o->o_r;
	struct mst_etcd_cmp cmp = { .c_key = r->r_key_state,
	    .c_klen = strlen(r->r_key_state), .c_target = MST_ETCD_T_MOD,
	    .c_num = r->r_cur.fs_rev };
	struct mst_fleet_verdict v;
	char why[MST_FLEET_REASON_MAX], *hist;
	int rc;

	/* etcd answers but the state is not read yet: wait for it a
	 * little rather than judge the placeholder in force before it */
	if (fl_etcd_up(f) && (!f->f_synced || !r->r_known) && o->o_reply &&
	    fl_mono_ms() < o->o_deadline) {
		o->o_timer = fl_timer(f, FL_ACK_POLL_MS, fl_on_op_retry, o);
		if (o->o_timer != NULL)
			return;
	}
	if (!fl_etcd_up(f) || !f->f_synced || !r->r_known) {
		if (o->o_reply)
			fl_op_local(o);
		else
			fl_op_free(o);
		return;
	}
	rc = mst_fleet_op(&r->r_dr, &r->r_cur, (enum mst_ro_op)o->o_op,
	    fl_wall_ms(), &o->o_state, why, sizeof(why));
	if (rc != 0) {
		if (!o->o_reply) {
			/* the fleet got there, or past it: its state rules */
			r->r_pending = -1;
			fl_apply(r, &r->r_cur, false);
		}
		fl_op_done(o, rc == 1 ? 200 : 409, "%s", rc == 1 ?
		    "already so" : why);
		return;
	}
	o->o_state.fs_fence = f->f_leader_fence;
	memset(&v, 0, sizeof(v));
	v.fv_act = o->o_reply ? MST_FLEET_A_OPERATOR : MST_FLEET_A_LOCAL;
	/* read only (the history record): o_state's weights, shared */
	v.fv_next = o->o_state;
	snprintf(v.fv_why, sizeof(v.fv_why), "%s", o->o_state.fs_reason);
	if ((hist = fl_enc_hist(&v, &r->r_cur, o->o_reply ? "operator" :
	    "local", f->f_conf->fl_node_id, fl_wall_ms())) == NULL ||
	    fl_write_state(f, r, &cmp, 1, &o->o_state, hist, fl_on_op_written,
	    o) == -1) {
		free(hist);
		fl_op_done(o, 500, "out of memory");
		return;
	}
	free(hist);
}

static struct fl_op *
fl_op_new(struct fleet *f, struct fl_route *r, int op, uint64_t id,
    bool reply)
{
	struct fl_op *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	if (mst_fleet_state_alloc(&o->o_state, r != NULL ? r->r_rt->fr_nw :
	    1) == -1) {
		free(o);
		return NULL;
	}
	o->o_f = f;
	o->o_r = r;
	o->o_op = op;
	o->o_id = id;
	o->o_reply = reply;
	o->o_next = f->f_ops_head;
	f->f_ops_head = o;
	return o;
}

void
fl_op_start(struct fleet *f, const struct mst_fleet_msg *m)
{
	struct fl_route *r = fl_route_by_name(f, m->fm_route);
	struct fl_op *o;

	if (r == NULL || m->fm_op < 0 || m->fm_op > MST_RO_OP_ROLLBACK) {
		fl_answer(f, m->fm_id, r == NULL ? 404 : 400,
		    json_pack("{s:s,s:s}", "route", m->fm_route, "error",
		    r == NULL ? "no fleet rollout on this route" :
		    "no such action"));
		return;
	}
	if ((o = fl_op_new(f, r, m->fm_op, m->fm_id, true)) == NULL) {
		fl_answer(f, m->fm_id, 500, NULL);
		return;
	}
	o->o_wait_ack = (m->fm_flags & MST_FLEET_F_WAIT_ACK) != 0;
	o->o_deadline = fl_mono_ms() + MST_FLEET_WAIT_ACK_MS;
	log_info("fleet: route %s: operator %s%s", r->r_rt->fr_name,
	    fo_names[o->o_op], o->o_wait_ack ? " (waiting for acks)" : "");
	fl_op_run(o);
}

void
fl_ops_flush(struct fleet *f)
{
	struct fl_route *r;
	struct fl_op *o;
	size_t i;

	for (i = 0; i < f->f_nroutes; i++) {
		r = &f->f_routes[i];
		if (r->r_pending == -1 || r->r_flushing || !r->r_known)
			continue;
		if ((o = fl_op_new(f, r, r->r_pending, 0, false)) == NULL)
			return;
		r->r_flushing = true;
		log_info("fleet: route %s: etcd is back: writing the %s decided "
		    "here", r->r_rt->fr_name, fo_names[o->o_op]);
		fl_op_run(o);
	}
}

void
fl_local_tick(struct fleet *f)
{
	char why[MST_FLEET_REASON_MAX];
	struct fl_route *r;
	size_t i;

	if (fl_etcd_up(f)) {
		if (f->f_synced)
			fl_ops_flush(f);
		return;
	}
	for (i = 0; i < f->f_nroutes; i++) {
		r = &f->f_routes[i];
		if (r->r_pending == MST_RO_OP_ROLLBACK ||
		    mst_fleet_local_rollback(&r->r_dr, &r->r_applied,
		    &r->r_self, fl_wall_ms(), &r->r_tmp, why, sizeof(why)) == 0)
			continue;
		f->f_st.st_local_rollbacks++;
		log_warnx("fleet: route %s: %s", r->r_rt->fr_name, why);
		fl_apply(r, &r->r_tmp, true);
		r->r_pending = MST_RO_OP_ROLLBACK;
	}
}

/* ---- the view ----------------------------------------------------------------------- */

static json_t *
fl_view_route(const struct fl_route *r)
{
	json_t *hist = json_array(), *h;
	char *st = fl_enc_state(&r->r_applied);
	size_t i;

	for (i = 0; hist != NULL && i < r->r_nhist; i++)
		if ((h = json_loads(r->r_hist[i], 0, NULL)) != NULL)
			json_array_append_new(hist, h);
	h = json_pack("{s:s,s:b,s:I,s:o,s:I,s:I,s:b,s:s?,s:s,s:o}", "name",
	    r->r_rt->fr_name, "known", r->r_known, "revision",
	    (json_int_t)r->r_cur.fs_rev, "applied",
	    st != NULL ? json_loads(st, 0, NULL) : json_null(),
	    "applied_revision", (json_int_t)r->r_applied.fs_rev,
	    "acked_revision", (json_int_t)r->r_ack_rev, "local", r->r_local,
	    "pending", r->r_pending >= 0 ? fo_names[r->r_pending] : NULL,
	    "leader_says", r->r_why, "history", hist);
	free(st);
	return h;
}

static json_t *
fl_view_members(const struct fleet *f)
{
	json_t *a = json_array(), *acks;
	const struct fl_member *m;
	size_t i, k;

	for (i = 0; a != NULL && i < f->f_nmembers; i++) {
		m = &f->f_members[i];
		acks = json_object();
		for (k = 0; acks != NULL && m->m_doc != NULL &&
		    k < f->f_nroutes; k++)
			json_object_set_new(acks, f->f_routes[k].r_rt->fr_name,
			    json_integer(fl_report_ack(m->m_doc,
			    f->f_routes[k].r_rt->fr_name)));
		json_array_append_new(a, json_pack("{s:s,s:I,s:o}", "id",
		    m->m_id, "report_age_ms", (json_int_t)m->m_age_ms, "acks",
		    acks));
	}
	return a;
}

static json_t *
fl_view_stats(const struct fleet *f)
{
	const struct mst_etcd_stats *es = mst_etcd_stats(f->f_etcd);
	json_t *dec = json_object();
	int k;

	for (k = 0; dec != NULL && k < MST_FLEET_A__N; k++)
		if (k != MST_FLEET_A_HOLD)
			json_object_set_new(dec, mst_fleet_act_name(
			    (enum mst_fleet_act)k), json_integer(
			    (json_int_t)f->f_st.st_decisions[k]));
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I}",
	    "decisions", dec, "elections", (json_int_t)f->f_st.st_elections,
	    "resigns", (json_int_t)f->f_st.st_resigns, "lease_lost",
	    (json_int_t)f->f_st.st_lease_lost, "local_rollbacks",
	    (json_int_t)f->f_st.st_local_rollbacks, "resyncs",
	    (json_int_t)f->f_st.st_resyncs, "bad_values",
	    (json_int_t)f->f_st.st_bad_values, "fenced",
	    (json_int_t)f->f_st.st_fenced, "etcd_calls",
	    (json_int_t)es->es_calls, "etcd_errors", (json_int_t)es->es_failed,
	    "etcd_switches", (json_int_t)es->es_switches, "watch_restarts",
	    (json_int_t)es->es_watch_restarts, "etcd_bad",
	    (json_int_t)(es->es_bad + es->es_dropped_kvs));
}

static json_t *
fl_view_doc(const struct fleet *f)
{
	json_t *routes = json_array();
	size_t i, idx;
	const char *ep = mst_etcd_endpoint(f->f_etcd, &idx);
	char cid[24];
	uint64_t now = fl_mono_ms();

	for (i = 0; routes != NULL && i < f->f_nroutes; i++)
		json_array_append_new(routes, fl_view_route(&f->f_routes[i]));
	snprintf(cid, sizeof(cid), "%" PRIu64, mst_etcd_cluster_id(f->f_etcd));
	return json_pack("{s:s,s:s,s:s,s:{s:s,s:I,s:b,s:b},"
	    "s:{s:s,s:i,s:b,s:I,s:s},s:{s:I,s:I},s:I,s:o,s:o,s:o}",
	    "node", f->f_conf->fl_node_id, "fleet", f->f_conf->fl_cluster,
	    "prefix", f->f_prefix,
	    "leader", "id", f->f_leader_id, "fence",
	    (json_int_t)f->f_leader_fence, "me", f->f_leader, "known",
	    f->f_leader_known,
	    "etcd", "endpoint", ep, "index", (int)idx, "up", fl_etcd_up(f),
	    "revision", (json_int_t)mst_etcd_revision(f->f_etcd), "cluster_id",
	    cid,
	    "lease", "id", (json_int_t)f->f_lease, "ttl_left_ms",
	    (json_int_t)(f->f_lease != 0 && f->f_lease_until > now ?
	    f->f_lease_until - now : 0),
	    "live_members", (json_int_t)f->f_live,
	    "members", fl_view_members(f), "routes", routes, "stats",
	    fl_view_stats(f));
}

void
fl_view(struct fleet *f)
{
	struct mst_fleet_msg m;
	size_t len, off, n;
	json_t *doc;
	char *s;

	if ((doc = fl_view_doc(f)) == NULL)
		return;
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (s == NULL)
		return;
	len = strlen(s);
	f->f_view_seq++;
	for (off = 0; off == 0 || off < len; off += n) {
		n = len - off < sizeof(m.fm_text) - 1 ? len - off :
		    sizeof(m.fm_text) - 1;
		memset(&m, 0, sizeof(m));
		m.fm_type = MST_FLEET_M_VIEW;
		m.fm_id = off;
		m.fm_rev = (int64_t)f->f_view_seq;
		m.fm_flags = off + n == len ? MST_FLEET_F_LAST : 0;
		memcpy(m.fm_text, s + off, n);
		m.fm_len = (uint32_t)n;
		if (fl_send(f, &m) == -1 || n == 0)
			break;
	}
	free(s);
}
