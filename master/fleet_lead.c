/*
 * The fleet leader (see fleet-int.h): every tick it reads the members'
 * reports with one range of P/met/, decides each route with
 * mst_fleet_decide() and writes what it decided, fenced.
 *
 * A report's age is the time since the leader first saw its current
 * mod_revision, by the leader's own clock, so members' clocks do not
 * matter; a report seen for the first time (a new leader) is as old as
 * its own timestamp says, never less than 0.
 *
 * Invariant: every write is one txn that compares the leader key's
 * create_revision with our fence and the state's mod_revision with the
 * one decided on (create_revision 0 when there was none), puts the
 * state and its history record, and deletes the record
 * MST_FLEET_HIST_KEEP older.  A refused write whose leader key has
 * another create_revision ends leadership.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "etcd.h"
#include "fleet-int.h"

void
fl_members_free(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->f_nmembers; i++)
		fl_report_free(f->f_members[i].m_doc);
	free(f->f_members);
	f->f_members = NULL;
	f->f_nmembers = 0;
	f->f_live = 0;
}

static struct fl_member *
fl_member(struct fleet *f, const char *id, size_t len)
{
	struct fl_member *n;
	size_t i;

	for (i = 0; i < f->f_nmembers; i++)
		if (strlen(f->f_members[i].m_id) == len &&
		    memcmp(f->f_members[i].m_id, id, len) == 0)
			return &f->f_members[i];
	if (len >= MST_FLEET_ID_MAX || (n = reallocarray(f->f_members,
	    f->f_nmembers + 1, sizeof(*n))) == NULL)
		return NULL;
	f->f_members = n;
	n = &f->f_members[f->f_nmembers++];
	memset(n, 0, sizeof(*n));
	memcpy(n->m_id, id, len);
	return n;
}

/* One report from the range. */
static void
fl_member_kv(struct fleet *f, const struct mst_etcd_kv *kv, uint64_t now)
{
	size_t plen = strlen(f->f_key_met);
	struct fl_member *m;
	char why[160];
	int64_t t = 0, skew;
	void *doc;

	if (kv->kv_klen <= plen || (m = fl_member(f, kv->kv_key + plen,
	    kv->kv_klen - plen)) == NULL)
		return;
	m->m_mark = true;
	if (m->m_mod_rev == kv->kv_mod_rev && m->m_doc != NULL) {
		m->m_age_ms = (int64_t)(now - m->m_seen_mono);
		return;
	}
	if ((doc = fl_report_load(kv->kv_val, kv->kv_vlen, &t, why,
	    sizeof(why))) == NULL) {
		f->f_st.st_bad_values++;
		log_warnx("fleet: report of %s ignored: %s", m->m_id, why);
		fl_report_free(m->m_doc);
		m->m_doc = NULL;
		m->m_mod_rev = kv->kv_mod_rev;
		return;
	}
	/* first sight: as old as the report says; later: since it changed */
	skew = m->m_doc == NULL && m->m_mod_rev == 0 ? fl_wall_ms() - t : 0;
	if (skew < 0)
		skew = 0;
	if ((uint64_t)skew > now)
		skew = (int64_t)now;
	fl_report_free(m->m_doc);
	m->m_doc = doc;
	m->m_mod_rev = kv->kv_mod_rev;
	m->m_seen_mono = now - (uint64_t)skew;
	m->m_age_ms = skew;
}

static void
fl_members_update(struct fleet *f, const struct mst_etcd_res *r)
{
	uint64_t now = fl_mono_ms();
	size_t i, k;

	for (i = 0; i < f->f_nmembers; i++)
		f->f_members[i].m_mark = false;
	for (i = 0; i < r->r_nkvs; i++)
		fl_member_kv(f, &r->r_kvs[i], now);
	/* a member whose report is gone (its lease ended) is gone */
	for (i = k = 0; i < f->f_nmembers; i++) {
		if (!f->f_members[i].m_mark) {
			fl_report_free(f->f_members[i].m_doc);
			continue;
		}
		f->f_members[k++] = f->f_members[i];
	}
	f->f_nmembers = k;
}

int
fl_write_state(struct fleet *f, struct fl_route *r,
    const struct mst_etcd_cmp *cmp, size_t ncmp,
    const struct mst_fleet_state *next, const char *hist,
    void (*cb)(struct mst_etcd *, const struct mst_etcd_res *, void *),
    void *arg)
{
	struct mst_etcd_op ops[3], fail[2];
	char hkey[FL_KEY_MAX + 24], okey[FL_KEY_MAX + 24], *val;
	struct mst_etcd_txn t;
	size_t n = 0;
	int rc;

	if ((val = fl_enc_state(next)) == NULL)
		return -1;
	snprintf(hkey, sizeof(hkey), "%s%020" PRIu64, r->r_key_hist,
	    next->fs_seq);
	memset(ops, 0, sizeof(ops));
	memset(fail, 0, sizeof(fail));
	ops[n] = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_PUT,
	    .o_key = r->r_key_state, .o_klen = strlen(r->r_key_state),
	    .o_val = val, .o_vlen = strlen(val) };
	ops[++n] = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_PUT,
	    .o_key = hkey, .o_klen = strlen(hkey), .o_val = hist,
	    .o_vlen = strlen(hist) };
	if (next->fs_seq > MST_FLEET_HIST_KEEP) {
		snprintf(okey, sizeof(okey), "%s%020" PRIu64, r->r_key_hist,
		    next->fs_seq - MST_FLEET_HIST_KEEP);
		ops[++n] = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_DELETE,
		    .o_key = okey, .o_klen = strlen(okey) };
	}
	fail[0] = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_RANGE,
	    .o_key = f->f_key_leader, .o_klen = strlen(f->f_key_leader) };
	fail[1] = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_RANGE,
	    .o_key = r->r_key_state, .o_klen = strlen(r->r_key_state) };
	t = (struct mst_etcd_txn){ cmp, ncmp, ops, n + 1, fail, 2 };
	rc = mst_etcd_txn(f->f_etcd, &t, cb, arg);
	free(val);
	return rc;
}

/* The leader's write was refused: by the fence, or a newer state? */
static void
fl_refused(struct fleet *f, struct fl_route *r, const struct mst_etcd_res *res)
{
	const struct mst_etcd_kv *lk = NULL;
	size_t i;

	for (i = 0; i < res->r_nkvs; i++)
		if (res->r_kvs[i].kv_klen == strlen(f->f_key_leader) &&
		    memcmp(res->r_kvs[i].kv_key, f->f_key_leader,
		    res->r_kvs[i].kv_klen) == 0)
			lk = &res->r_kvs[i];
	if (lk == NULL || lk->kv_create_rev != f->f_fence) {
		f->f_st.st_fenced++;
		fl_resign(f, "a write was refused by the fence");
		return;
	}
	log_info("fleet: route %s: the state changed before the decision "
	    "landed (an operator?): deciding on the new one",
	    r->r_rt->fr_name);
}

static void
fl_on_decided(struct mst_etcd *e, const struct mst_etcd_res *res, void *arg)
{
	struct fl_route *r = arg;
	struct fleet *f = r->r_f;

	(void)e;
	r->r_writing = false;
	if (res->r_err != MST_ETCD_OK) {
		log_warnx("fleet: route %s: writing the %s decision failed: %s",
		    r->r_rt->fr_name, mst_fleet_act_name(r->r_wact), res->r_msg);
		return;
	}
	fl_ok(f);
	if (!res->r_succeeded) {
		fl_refused(f, r, res);
		return;
	}
	f->f_st.st_decisions[r->r_wact]++;
	/* known now; the watch brings it to be applied */
	mst_fleet_state_copy(&r->r_cur, &r->r_wnext);
	r->r_cur.fs_rev = res->r_hdr.eh_revision;
	r->r_known = r->r_have = true;
	log_info("fleet: route %s: %s written at revision %" PRId64 " (fence %"
	    PRId64 "): %s", r->r_rt->fr_name, mst_fleet_act_name(r->r_wact),
	    res->r_hdr.eh_revision, r->r_wnext.fs_fence, r->r_wnext.fs_reason);
}

/*
 * Write v fenced, over the state key as it is at revision base: a
 * decision on r->r_cur (its revision), a first state (0: the key must
 * not exist), or the last good state over a value that is none.
 */
static void
fl_write_verdict(struct fleet *f, struct fl_route *r,
    struct mst_fleet_verdict *v, int64_t base)
{
	struct mst_etcd_cmp cmp[2] = {
		{ .c_key = f->f_key_leader, .c_klen = strlen(f->f_key_leader),
		    .c_target = MST_ETCD_T_CREATE, .c_num = f->f_fence },
		{ .c_key = r->r_key_state, .c_klen = strlen(r->r_key_state),
		    .c_target = base == 0 ? MST_ETCD_T_CREATE : MST_ETCD_T_MOD,
		    .c_num = base },
	};
	char *hist;

	v->fv_next.fs_fence = f->f_fence;
	if ((hist = fl_enc_hist(v, &r->r_cur, "leader",
	    f->f_conf->fl_node_id, fl_wall_ms())) == NULL)
		return;
	r->r_wact = v->fv_act;
	mst_fleet_state_copy(&r->r_wnext, &v->fv_next);
	r->r_writing = fl_write_state(f, r, cmp, 2, &v->fv_next, hist,
	    fl_on_decided, r) == 0;
	free(hist);
}

/* The state key holds a value that is no state, newer than r_cur. */
static bool
fl_state_bad(const struct fl_route *r)
{
	return r->r_bad_rev != 0 && (!r->r_known ||
	    r->r_bad_rev > r->r_cur.fs_rev);
}

/*
 * No state in etcd, or a value there that is none: the last one known
 * here (a wiped store comes back where it was), else the file's weights.
 */
static void
fl_create_state(struct fleet *f, struct fl_route *r)
{
	struct mst_fleet_verdict v;
	int64_t now = fl_wall_ms();
	bool bad = fl_state_bad(r);

	fl_verdict_room(&v, r);
	v.fv_act = MST_FLEET_A_INIT;
	if (r->r_have) {
		mst_fleet_state_copy(&v.fv_next, &r->r_cur);
		v.fv_next.fs_seq = r->r_cur.fs_seq + 1;
		v.fv_next.fs_decided_ms = now;
		snprintf(v.fv_why, sizeof(v.fv_why), "etcd had %s: the "
		    "last one known here, revision %" PRId64, bad ?
		    "a value that is no state" : "no state", r->r_cur.fs_rev);
	} else {
		mst_fleet_state_init(&r->r_dr, r->r_rt->fr_w, now, &v.fv_next);
		snprintf(v.fv_why, sizeof(v.fv_why), "etcd had no state: "
		    "%.400s", v.fv_next.fs_reason);
	}
	log_info("fleet: route %s: %s", r->r_rt->fr_name, v.fv_why);
	fl_write_verdict(f, r, &v, bad ? r->r_bad_rev : 0);
}

static void
fl_decide_route(struct fleet *f, struct fl_route *r)
{
	const struct mst_fleet_rt *rt = r->r_rt;
	struct mst_fleet_input *in;
	struct mst_fleet_verdict v;
	size_t i, n = 0, live;

	if (r->r_writing)
		return;
	if (!r->r_known || fl_state_bad(r)) {
		fl_create_state(f, r);
		return;
	}
	if ((in = calloc(f->f_nmembers + 1, sizeof(*in))) == NULL)
		return;
	fl_verdict_room(&v, r);
	for (i = 0; i < f->f_nmembers; i++) {
		if (f->f_members[i].m_doc == NULL || fl_report_input(f->
		    f_members[i].m_doc, rt->fr_name,
		    rt->fr_cl[rt->fr_ro.ro_canary],
		    rt->fr_cl[rt->fr_ro.ro_stable], &in[n]) == -1)
			continue;
		in[n].fi_member = f->f_members[i].m_id;
		in[n++].fi_age_ms = f->f_members[i].m_age_ms;
	}
	mst_fleet_decide(&r->r_dr, &r->r_cur, in, n, &r->r_memo, fl_wall_ms(),
	    &v);
	free(in);
	live = v.fv_used + v.fv_unacked + v.fv_old_window;
	if (live > f->f_live)
		f->f_live = live;
	strlcpy(r->r_why, v.fv_why, sizeof(r->r_why));
	if (v.fv_act == MST_FLEET_A_HOLD)
		return;
	log_info("fleet: route %s: %s: %s", rt->fr_name,
	    mst_fleet_act_name(v.fv_act), v.fv_why);
	fl_write_verdict(f, r, &v, r->r_cur.fs_rev);
}

static void
fl_on_members(struct mst_etcd *e, const struct mst_etcd_res *res, void *arg)
{
	struct fleet *f = arg;
	size_t i;

	(void)e;
	f->f_ranging = false;
	if (res->r_err != MST_ETCD_OK || !f->f_leader)
		return;
	fl_ok(f);
	fl_members_update(f, res);
	f->f_live = 0;
	/* a leader whose lease ran out meanwhile must not write */
	if (fl_mono_ms() >= f->f_lease_until) {
		fl_lease_lost(f, "expired by our clock");
		return;
	}
	for (i = 0; i < f->f_nroutes && f->f_leader; i++)
		fl_decide_route(f, &f->f_routes[i]);
}

void
fl_lead_tick(struct fleet *f)
{
	char end[FL_KEY_MAX];
	struct mst_etcd_op op = { .o_kind = MST_ETCD_OP_RANGE };

	if (!f->f_leader || f->f_ranging || !f->f_synced)
		return;
	op.o_key = f->f_key_met;
	op.o_klen = strlen(f->f_key_met);
	op.o_end = end;
	op.o_elen = mst_etcd_prefix_end(op.o_key, op.o_klen, end);
	f->f_ranging = mst_etcd_op(f->f_etcd, &op, fl_on_members, f) == 0;
}
