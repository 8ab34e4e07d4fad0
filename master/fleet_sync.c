/*
 * The fleet coordinator reading etcd and applying what it reads (see
 * fleet-int.h): a consistent read of the leader key and every route's
 * state (one txn of ranges), then a watch on P/ctl/ from the revision
 * after it; the states it delivers go to the master when their revision
 * is newer than the one applied.  A compacted start revision, or a store
 * that went back (a restore, a wipe: another cluster id, a lower
 * revision), means reading everything again.  Also this instance's
 * report and the snapshot file.
 *
 * Invariant: a weight reaches the master only from a state that decoded
 * and checked out against the route (fl_dec_state) or from a decision
 * taken here; anything else under the prefix is counted and ignored.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "etcd.h"
#include "fleet-int.h"
#include "judge.h"

#define FL_SNAP_MAX	(1024 * 1024)

struct fl_route *
fl_route_by_name(struct fleet *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->f_nroutes; i++)
		if (strcmp(f->f_routes[i].r_rt->fr_name, name) == 0)
			return &f->f_routes[i];
	return NULL;
}

static bool
fl_key_is(const struct mst_etcd_kv *kv, const char *key)
{
	return kv->kv_klen == strlen(key) &&
	    memcmp(kv->kv_key, key, kv->kv_klen) == 0;
}

static bool
fl_key_under(const struct mst_etcd_kv *kv, const char *prefix)
{
	size_t n = strlen(prefix);

	return kv->kv_klen > n && memcmp(kv->kv_key, prefix, n) == 0;
}

/* ---- the snapshot file ----------------------------------------------------------- */

/* Write the applied states where a restart without etcd finds them:
 * a temporary file, fsync, rename over the old one, fsync the folder. */
static void
fl_snapshot_save(struct fleet *f)
{
	char tmp[sizeof(f->f_snap_path) + 8], dir[sizeof(f->f_snap_path)];
	char *s, *slash;
	size_t len;
	int fd, ok;

	if ((s = fl_enc_snapshot(f)) == NULL)
		return;
	len = strlen(s);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->f_snap_path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("fleet: snapshot %s", tmp);
		free(s);
		return;
	}
	ok = write(fd, s, len) == (ssize_t)len && fsync(fd) == 0;
	free(s);
	if (close(fd) == -1 || !ok || rename(tmp, f->f_snap_path) == -1) {
		log_warn("fleet: snapshot %s", f->f_snap_path);
		(void)unlink(tmp);
		return;
	}
	strlcpy(dir, f->f_snap_path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if ((fd = open(dir[0] != '\0' ? dir : "/", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) != -1) {
			(void)fsync(fd);
			close(fd);
		}
	}
}

/* The state a route holds before etcd says anything: the snapshot's,
 * else 100 % stable (never a canary share nobody decided). */
void
fl_snapshot_load(struct fleet *f)
{
	struct mst_fleet_state *s;
	struct fl_route *r;
	char *buf, why[256];
	ssize_t n = -1;
	size_t i;
	int fd;

	if ((buf = malloc(FL_SNAP_MAX)) != NULL &&
	    (fd = open(f->f_snap_path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, FL_SNAP_MAX);
		close(fd);
	}
	if (n > 0 && fl_dec_snapshot(f, buf, (size_t)n, why, sizeof(why)) ==
	    -1)
		log_warnx("fleet: snapshot %s: %s", f->f_snap_path, why);
	else if (n > 0)
		log_info("fleet: snapshot %s read", f->f_snap_path);
	free(buf);
	for (i = 0; i < f->f_nroutes; i++) {
		r = &f->f_routes[i];
		if (r->r_have) {
			fl_apply(r, &r->r_cur, false);
			continue;
		}
		s = &r->r_tmp;
		mst_fleet_state_init(&r->r_dr, r->r_rt->fr_w, fl_wall_ms(), s);
		mst_judge_weights_at(s->fs_w, s->fs_nw, r->r_dr.fr_total,
		    r->r_rt->fr_ro.ro_canary, r->r_rt->fr_ro.ro_stable, 0);
		s->fs_state = MST_RO_PAUSED;
		snprintf(s->fs_reason, sizeof(s->fs_reason), "no fleet state "
		    "yet: 100%% stable until etcd answers");
		fl_apply(r, s, true);
	}
}

/* ---- applying -------------------------------------------------------------------- */

void
fl_apply(struct fl_route *r, const struct mst_fleet_state *s, bool local)
{
	struct fleet *f = r->r_f;
	struct mst_fleet_msg m;
	bool force = !local && (r->r_force || r->r_local);

	if (!local && !force && s->fs_rev <= r->r_sent_rev)
		return;
	memset(&m, 0, sizeof(m));
	m.fm_type = MST_FLEET_M_APPLY;
	m.fm_flags = local ? MST_FLEET_F_LOCAL : force ? MST_FLEET_F_FORCE : 0;
	strlcpy(m.fm_route, r->r_rt->fr_name, sizeof(m.fm_route));
	m.fm_rev = local ? r->r_applied.fs_rev : s->fs_rev;
	m.fm_state = (uint32_t)s->fs_state;
	m.fm_step = s->fs_step;
	m.fm_epoch = s->fs_epoch;
	m.fm_decided_ms = s->fs_decided_ms;
	m.fm_nw = (uint32_t)s->fs_nw;
	m.fm_len = (uint32_t)strlcpy(m.fm_text, s->fs_reason,
	    sizeof(m.fm_text));
	if (m.fm_len >= sizeof(m.fm_text))
		m.fm_len = sizeof(m.fm_text) - 1;
	log_info("fleet: route %s: applying %s, step %d, canary at %.1f%% "
	    "(%s%" PRId64 "): %s", r->r_rt->fr_name,
	    mst_rollout_state_name(s->fs_state), s->fs_step,
	    mst_judge_pct(s->fs_w, r->r_dr.fr_total, r->r_rt->fr_ro.ro_canary),
	    local ? "decided here, etcd at revision " : "revision ",
	    m.fm_rev, s->fs_reason);
	mst_fleet_state_copy(&r->r_applied, s);
	r->r_applied.fs_rev = m.fm_rev;
	r->r_local = local;
	if (!local) {
		r->r_sent_rev = s->fs_rev;
		r->r_force = false;
	}
	/* s's weights: r_applied's copy now (s may be r_tmp, reused) */
	(void)fl_send_w(f, &m, r->r_applied.fs_w);
	if (!local)
		fl_snapshot_save(f);
}

/* The master applied a state: acknowledge it, start the window over. */
void
fl_applied(struct fleet *f, const struct mst_fleet_msg *m)
{
	const struct mst_fleet_metrics *x = &f->f_args->fa_metrics;
	struct fl_route *r = fl_route_by_name(f, m->fm_route);
	struct mst_judge_snap *snaps;
	size_t i;

	if (r == NULL)
		return;
	snaps = r->r_now;
	if (m->fm_rev > r->r_ack_rev || m->fm_rev == r->r_sent_rev)
		r->r_ack_rev = m->fm_rev;
	for (i = 0; i < r->r_rt->fr_nw; i++)
		x->fx_read(x->fx_arg, r->r_rt->fr_ci[i], &snaps[i].js_rq,
		    &snaps[i].js_5xx, &snaps[i].js_h);
	r->r_window_mono = fl_mono_ms();
	r->r_window_ms = fl_wall_ms();
	mst_judge_ring_restart(&r->r_ring, (int64_t)r->r_window_mono, snaps);
}

/* A state key's value arrived (range or watch). */
static void
fl_state_kv(struct fl_route *r, const struct mst_etcd_kv *kv)
{
	struct fleet *f = r->r_f;
	struct mst_fleet_state *s = &r->r_tmp;
	char why[256];

	if (fl_dec_state(&r->r_dr, kv->kv_val, kv->kv_vlen, s, why,
	    sizeof(why)) == -1) {
		f->f_st.st_bad_values++;
		/* the leader writes the last good state back over it */
		r->r_bad_rev = kv->kv_mod_rev;
		log_warnx("fleet: route %s: state at revision %" PRId64
		    " ignored: %s", r->r_rt->fr_name, kv->kv_mod_rev, why);
		return;
	}
	r->r_bad_rev = 0;
	s->fs_rev = kv->kv_mod_rev;
	mst_fleet_state_copy(&r->r_cur, s);
	r->r_known = r->r_have = true;
	/* a decision taken here waits to be written: it stays in force */
	if (r->r_pending == -1)
		fl_apply(r, &r->r_cur, false);
}

static void
fl_hist_kv(struct fl_route *r, const struct mst_etcd_kv *kv)
{
	char *copy;

	if (kv->kv_vlen == 0 || kv->kv_val[0] != '{' ||
	    (copy = strdup(kv->kv_val)) == NULL) {
		r->r_f->f_st.st_bad_values++;
		return;
	}
	if (r->r_nhist == FL_VIEW_HIST)
		free(r->r_hist[--r->r_nhist]);
	memmove(&r->r_hist[1], &r->r_hist[0], r->r_nhist *
	    sizeof(r->r_hist[0]));
	r->r_hist[0] = copy;
	r->r_nhist++;
}

/* One key under P/ctl/ changed. */
static void
fl_ctl_event(struct fleet *f, const struct mst_etcd_ev *ev)
{
	const struct mst_etcd_kv *kv = &ev->ev_kv;
	struct fl_route *r;
	size_t i;

	if (fl_key_is(kv, f->f_key_leader)) {
		if (ev->ev_type == MST_ETCD_EV_PUT)
			fl_leader_seen(f, kv->kv_val, kv->kv_vlen,
			    kv->kv_create_rev, kv->kv_lease);
		else
			fl_leader_gone(f);
		return;
	}
	for (i = 0; i < f->f_nroutes; i++) {
		r = &f->f_routes[i];
		if (fl_key_is(kv, r->r_key_state)) {
			if (ev->ev_type == MST_ETCD_EV_PUT)
				fl_state_kv(r, kv);
			else {
				r->r_known = false;	/* weights stay */
				r->r_bad_rev = 0;
			}
			return;
		}
		if (fl_key_under(kv, r->r_key_hist)) {
			if (ev->ev_type == MST_ETCD_EV_PUT)
				fl_hist_kv(r, kv);
			return;
		}
	}
	f->f_st.st_bad_values++;
	log_debug("fleet: a key under %s no route of ours has: ignored",
	    f->f_key_ctl);
}

/* ---- reading etcd ------------------------------------------------------------------ */

static void
fl_on_watch(struct mst_etcd_watch *w, enum mst_etcd_wkind k,
    const struct mst_etcd_wres *res, void *arg)
{
	struct fleet *f = arg;
	size_t i;

	switch (k) {
	case MST_ETCD_W_CREATED:
	case MST_ETCD_W_PROGRESS:
		fl_ok(f);
		break;
	case MST_ETCD_W_EVENTS:
		fl_ok(f);
		for (i = 0; i < res->w_nevs; i++)
			fl_ctl_event(f, &res->w_evs[i]);
		break;
	case MST_ETCD_W_COMPACTED:
		log_info("fleet: the watch's start revision is compacted (at %"
		    PRId64 "): reading %s again", res->w_compact_rev,
		    f->f_key_ctl);
		mst_etcd_unwatch(w);
		f->f_watch = NULL;
		f->f_synced = false;
		fl_resync(f);
		break;
	case MST_ETCD_W_BROKEN:
		break;		/* the client starts it again */
	}
}

/* The read of everything: leader key and states, one revision. */
static void
fl_on_resync(struct mst_etcd *e, const struct mst_etcd_res *res, void *arg)
{
	struct fleet *f = arg;
	char end[FL_KEY_MAX];
	size_t i, k, elen;
	bool seen;

	f->f_resyncing = false;
	if (res->r_err != MST_ETCD_OK || f->f_stop)
		return;		/* the tick tries again */
	fl_ok(f);
	f->f_st.st_resyncs++;
	if (f->f_snap_cluster != 0 && res->r_hdr.eh_cluster_id != 0 &&
	    res->r_hdr.eh_cluster_id != f->f_snap_cluster) {
		log_warnx("fleet: etcd is another cluster (id %" PRIu64 ", was %"
		    PRIu64 "): its revisions start over", res->r_hdr.
		    eh_cluster_id, f->f_snap_cluster);
		for (i = 0; i < f->f_nroutes; i++)
			f->f_routes[i].r_force = true;
	}
	f->f_snap_cluster = res->r_hdr.eh_cluster_id;
	for (seen = false, k = 0; k < res->r_nkvs; k++)
		if (fl_key_is(&res->r_kvs[k], f->f_key_leader)) {
			fl_leader_seen(f, res->r_kvs[k].kv_val, res->r_kvs[k].
			    kv_vlen, res->r_kvs[k].kv_create_rev,
			    res->r_kvs[k].kv_lease);
			seen = true;
		}
	if (!seen) {
		f->f_leader_known = false;
		fl_resign(f, "no leader key");
	}
	for (i = 0; i < f->f_nroutes; i++) {
		f->f_routes[i].r_known = false;
		f->f_routes[i].r_bad_rev = 0;
		for (k = 0; k < res->r_nkvs; k++)
			if (fl_key_is(&res->r_kvs[k], f->f_routes[i].
			    r_key_state))
				fl_state_kv(&f->f_routes[i], &res->r_kvs[k]);
	}
	mst_etcd_unwatch(f->f_watch);
	elen = mst_etcd_prefix_end(f->f_key_ctl, strlen(f->f_key_ctl), end);
	f->f_watch = mst_etcd_watch(e, f->f_key_ctl, strlen(f->f_key_ctl), end,
	    elen, res->r_hdr.eh_revision + 1, fl_on_watch, f);
	f->f_synced = f->f_watch != NULL;
	fl_ops_flush(f);
	fl_campaign(f);
}

void
fl_resync(struct fleet *f)
{
	struct mst_etcd_op ops[1 + 64];
	struct mst_etcd_txn t;
	size_t i, n = 0;

	if (f->f_resyncing || f->f_stop)
		return;
	memset(ops, 0, sizeof(ops));
	ops[n].o_kind = MST_ETCD_OP_RANGE;
	ops[n].o_key = f->f_key_leader;
	ops[n++].o_klen = strlen(f->f_key_leader);
	for (i = 0; i < f->f_nroutes && n < sizeof(ops) / sizeof(ops[0]);
	    i++) {
		ops[n].o_kind = MST_ETCD_OP_RANGE;
		ops[n].o_key = f->f_routes[i].r_key_state;
		ops[n++].o_klen = strlen(f->f_routes[i].r_key_state);
	}
	memset(&t, 0, sizeof(t));
	t.t_succ = ops;
	t.t_nsucc = n;
	f->f_resyncing = mst_etcd_txn(f->f_etcd, &t, fl_on_resync, f) == 0;
}

void
fl_on_reset(struct mst_etcd *e, const char *why, void *arg)
{
	struct fleet *f = arg;
	size_t i;

	(void)e;
	log_warnx("fleet: etcd's data went back (%s): reading everything "
	    "again; the last states known here stand until then", why);
	fl_resign(f, "etcd's data went back");
	f->f_leader_known = false;
	for (i = 0; i < f->f_nroutes; i++) {
		f->f_routes[i].r_known = false;
		f->f_routes[i].r_force = true;
	}
	mst_etcd_unwatch(f->f_watch);
	f->f_watch = NULL;
	f->f_synced = false;
	fl_resync(f);
}

/* ---- this instance's report -------------------------------------------------------- */

static void
fl_on_reported(struct mst_etcd *e, const struct mst_etcd_res *r, void *arg)
{
	struct fleet *f = arg;

	(void)e;
	f->f_reporting = false;
	if (r->r_err == MST_ETCD_OK) {
		fl_ok(f);
		return;
	}
	if (r->r_err == MST_ETCD_E_SERVER &&
	    r->r_code == MST_ETCD_GRPC_NOT_FOUND)
		fl_lease_lost(f, r->r_msg);
}

/* r's figures over its window, now: into rr (names, samples in win). */
static void
fl_window(struct fleet *f, struct fl_route *r, struct fl_rep_route *rr,
    struct mst_judge_snap *win)
{
	struct mst_judge_snap *now = r->r_now;
	const struct mst_fleet_metrics *x = &f->f_args->fa_metrics;
	const struct mst_judge_snap *base;
	const struct mst_fleet_rt *rt = r->r_rt;
	int64_t t = (int64_t)fl_mono_ms(), at = t, window;
	size_t i;

	for (i = 0; i < rt->fr_nw; i++)
		x->fx_read(x->fx_arg, rt->fr_ci[i], &now[i].js_rq,
		    &now[i].js_5xx, &now[i].js_h);
	if (r->r_ring.jr_len == 0)
		mst_judge_ring_restart(&r->r_ring, t, now);
	window = rt->fr_ro.ro_window > 0 ? rt->fr_ro.ro_window / CD_NS_PER_MS :
	    30000;
	base = mst_judge_ring_base(&r->r_ring, t, window, &at);
	memset(rr, 0, sizeof(*rr));
	rr->rr_name = rt->fr_name;
	rr->rr_ack = r->r_ack_rev;
	rr->rr_window_ms = fl_wall_ms() - (t - at);
	rr->rr_nv = rt->fr_nw;
	rr->rr_vname = r->r_vname;
	rr->rr_v = r->r_v;
	for (i = 0; i < rt->fr_nw; i++) {
		mst_judge_snap_sub(&win[i], &now[i], base != NULL ? &base[i] :
		    NULL);
		rr->rr_vname[i] = rt->fr_cl[i];
		rr->rr_v[i] = &win[i];
	}
	mst_judge_ring_push(&r->r_ring, t, now);
	r->r_self.fi_member = f->f_conf->fl_node_id;
	r->r_self.fi_ack_rev = rr->rr_ack;
	r->r_self.fi_window_ms = rr->rr_window_ms;
	r->r_self.fi_canary = win[rt->fr_ro.ro_canary];
	r->r_self.fi_stable = win[rt->fr_ro.ro_stable];
}

void
fl_report(struct fleet *f)
{
	struct fl_rep_route *rr;
	struct mst_etcd_op put;
	char *doc = NULL;
	size_t i;

	rr = calloc(f->f_nroutes + 1, sizeof(*rr));
	if (rr != NULL) {
		for (i = 0; i < f->f_nroutes; i++)
			fl_window(f, &f->f_routes[i], &rr[i],
			    f->f_routes[i].r_win);
		doc = fl_enc_report(f->f_conf->fl_node_id, fl_wall_ms(),
		    ++f->f_report_seq, rr, f->f_nroutes);
	}
	free(rr);
	if (doc == NULL || f->f_lease == 0 || f->f_reporting) {
		free(doc);
		return;
	}
	memset(&put, 0, sizeof(put));
	put.o_kind = MST_ETCD_OP_PUT;
	put.o_key = f->f_key_me;
	put.o_klen = strlen(f->f_key_me);
	put.o_val = doc;
	put.o_vlen = strlen(doc);
	put.o_lease = f->f_lease;
	f->f_reporting = mst_etcd_op(f->f_etcd, &put, fl_on_reported, f) == 0;
	free(doc);
}
