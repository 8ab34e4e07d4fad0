/*
 * The fleet coordinator's life (see fleet.h and fleet-int.h): its loop,
 * the lease, the election, the master's socket and the tick.
 *
 * Lease: granted with lease_ttl, kept alive every third of it.  We count
 * it expired lease_ttl after sending the last keepalive that etcd
 * answered, so by our clock it ends before etcd's does; an expired or
 * lost lease ends leadership at once (before any other leader can
 * exist), and a new lease registers the instance again.
 *
 * Election: a txn "create P/ctl/leader if its create_revision is 0", on
 * our lease; the revision it lands at is our fence.  Seeing the key go
 * (watch), or come back with another create_revision, ends leadership.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "etcd.h"
#include "evl.h"
#include "fleet-int.h"

#define FL_GRANT_RETRY_MS	1000
#define FL_KA_RETRY_MS		100
#define FL_REVOKE_WAIT_MS	1000

uint64_t
fl_mono_ms(void)
{
	return cd_mono_ms();
}

int64_t
fl_wall_ms(void)
{
	return (int64_t)cd_realtime_ms();
}

void
fl_ok(struct fleet *f)
{
	bool was_away = f->f_last_ok != 0 && !fl_etcd_up(f);

	f->f_last_ok = fl_mono_ms();
	/* back after being away: read everything now rather than wait for
	 * the watch to come back and learn its revision is compacted */
	if (was_away && f->f_synced) {
		log_info("fleet: etcd answers again: reading %s again",
		    f->f_key_ctl);
		fl_resync(f);
	}
}

bool
fl_etcd_up(const struct fleet *f)
{
	return f->f_last_ok != 0 &&
	    fl_mono_ms() - f->f_last_ok < (uint64_t)f->f_ttl_s * 1000;
}

void *
fl_timer(struct fleet *f, uint64_t ms, mst_evl_timer_cb *cb, void *arg)
{
	void *t = f->f_ops.eo_timer_add(f->f_ops.eo_ctx, ms, cb, arg);

	if (t == NULL)
		log_warnx("fleet: no timer: out of memory");
	return t;
}

void
fl_timer_off(struct fleet *f, void **t)
{
	if (*t != NULL)
		f->f_ops.eo_timer_cancel(f->f_ops.eo_ctx, *t);
	*t = NULL;
}

/* ---- the master's socket --------------------------------------------------- */

static void	fl_on_sock(int, uint32_t, void *);

static int
fl_sock_events(struct fleet *f)
{
	return f->f_ops.eo_mod(f->f_ops.eo_ctx, f->f_sock, EPOLLIN |
	    (f->f_outq != NULL ? EPOLLOUT : 0), fl_on_sock, f);
}

/* One queued message, its weights after it in the same datagram. */
static int
fl_send_one(int sock, const struct fl_out *q)
{
	struct iovec iov[2];
	struct msghdr mh;

	iov[0].iov_base = (void *)(uintptr_t)&q->q_msg;
	iov[0].iov_len = sizeof(q->q_msg);
	iov[1].iov_base = q->q_w;
	iov[1].iov_len = q->q_msg.fm_nw * sizeof(*q->q_w);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = q->q_msg.fm_nw > 0 ? 2 : 1;
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 ? -1 : 0;
}

/* Send what waits; 0, or -1 when the socket failed. */
static int
fl_flush(struct fleet *f)
{
	struct fl_out *q;

	while ((q = f->f_outq) != NULL) {
		if (fl_send_one(f->f_sock, q) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			log_warn("fleet: the master's socket");
			return -1;
		}
		f->f_outq = q->q_next;
		free(q->q_w);
		free(q);
	}
	return 0;
}

int
fl_send(struct fleet *f, struct mst_fleet_msg *m)
{
	m->fm_nw = 0;
	return fl_send_w(f, m, NULL);
}

int
fl_send_w(struct fleet *f, struct mst_fleet_msg *m, const uint32_t *w)
{
	struct fl_out *q, **tail;
	bool was_empty = f->f_outq == NULL;

	/* a view is sent every second: one that cannot go is dropped */
	if (m->fm_type == MST_FLEET_M_VIEW && !was_empty)
		return 0;
	if ((q = calloc(1, sizeof(*q))) == NULL || (m->fm_nw > 0 &&
	    (q->q_w = calloc(m->fm_nw, sizeof(*w))) == NULL)) {
		free(q);
		log_warnx("fleet: out of memory for a message to the master");
		return -1;
	}
	q->q_msg = *m;
	if (m->fm_nw > 0)
		memcpy(q->q_w, w, m->fm_nw * sizeof(*w));
	for (tail = &f->f_outq; *tail != NULL; tail = &(*tail)->q_next)
		;
	*tail = q;
	if (fl_flush(f) == -1)
		return -1;
	if (was_empty != (f->f_outq == NULL))
		(void)fl_sock_events(f);
	return 0;
}

static void
fl_on_msg(struct fleet *f, const struct mst_fleet_msg *m)
{
	switch (m->fm_type) {
	case MST_FLEET_M_APPLIED:
		fl_applied(f, m);
		break;
	case MST_FLEET_M_OP:
		fl_op_start(f, m);
		break;
	case MST_FLEET_M_VIEW:
		fl_view(f);
		break;
	default:
		log_warnx("fleet: message of type %" PRIu32 " from the master "
		    "ignored", m->fm_type);
		break;
	}
}

static void
fl_on_sock(int fd, uint32_t events, void *arg)
{
	struct fleet *f = arg;
	struct mst_fleet_msg m;
	ssize_t n;
	int i;

	if ((events & EPOLLOUT) && fl_flush(f) == 0 && f->f_outq == NULL)
		(void)fl_sock_events(f);
	for (i = 0; i < 64; i++) {
		n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n <= 0) {
			log_info("fleet: the master closed its end: stopping");
			f->f_ops.eo_del(f->f_ops.eo_ctx, fd);
			f->f_stop = true;
			mst_evl_stop(f->f_loop);
			return;
		}
		if ((size_t)n != sizeof(m)) {
			log_warnx("fleet: a message of %zd bytes from the master "
			    "ignored", n);
			continue;
		}
		m.fm_route[sizeof(m.fm_route) - 1] = '\0';
		fl_on_msg(f, &m);
	}
}

static void
fl_on_signal(int fd, uint32_t events, void *arg)
{
	struct fleet *f = arg;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("fleet: caught signal %" PRIu32 ": stopping", si.ssi_signo);
	f->f_stop = true;
	mst_evl_stop(f->f_loop);
}

/* ---- lease ------------------------------------------------------------------------ */

static void	fl_grant(struct fleet *);

static void	fl_on_ka_timer(void *);

static void
fl_on_ka(struct mst_etcd *e, const struct mst_etcd_res *r, void *arg)
{
	struct fleet *f = arg;

	(void)e;
	f->f_ka_busy = false;
	if (r->r_err != MST_ETCD_OK) {
		/* at once again: the client may be on another member now,
		 * and the lease has less than a TTL left */
		if (f->f_lease != 0) {
			fl_timer_off(f, &f->f_t_ka);
			f->f_t_ka = fl_timer(f, FL_KA_RETRY_MS, fl_on_ka_timer,
			    f);
		}
		return;		/* the tick watches the deadline */
	}
	fl_ok(f);
	if (r->r_id != f->f_lease || f->f_lease == 0)
		return;		/* about a lease already given up */
	if (r->r_ttl <= 0) {
		fl_lease_lost(f, "etcd says it is gone");
		return;
	}
	f->f_lease_until = f->f_ka_sent + (uint64_t)r->r_ttl * 1000;
}

static void
fl_on_ka_timer(void *arg)
{
	struct fleet *f = arg;

	f->f_t_ka = NULL;
	if (f->f_lease == 0)
		return;
	if (!f->f_ka_busy) {
		f->f_ka_sent = fl_mono_ms();
		f->f_ka_busy = mst_etcd_lease(f->f_etcd, MST_ETCD_KEEPALIVE,
		    f->f_lease, fl_on_ka, f) == 0;
	}
	f->f_t_ka = fl_timer(f, (uint64_t)f->f_ttl_s * 1000 / 3,
	    fl_on_ka_timer, f);
}

static void
fl_on_grant_retry(void *arg)
{
	struct fleet *f = arg;

	f->f_t_grant = NULL;
	fl_grant(f);
}

static void
fl_on_grant(struct mst_etcd *e, const struct mst_etcd_res *r, void *arg)
{
	struct fleet *f = arg;

	(void)e;
	f->f_granting = false;
	if (r->r_err != MST_ETCD_OK || r->r_id == 0 || r->r_ttl <= 0) {
		log_warnx("fleet: no lease from etcd (%s): again in %d ms",
		    r->r_msg[0] != '\0' ? r->r_msg : "no TTL",
		    FL_GRANT_RETRY_MS);
		if (f->f_t_grant == NULL)
			f->f_t_grant = fl_timer(f, FL_GRANT_RETRY_MS,
			    fl_on_grant_retry, f);
		return;
	}
	fl_ok(f);
	f->f_lease = r->r_id;
	f->f_lease_until = f->f_grant_sent + (uint64_t)r->r_ttl * 1000;
	log_info("fleet: %s registered on lease %" PRId64 " (ttl %" PRId64
	    " s)", f->f_conf->fl_node_id, f->f_lease, r->r_ttl);
	fl_timer_off(f, &f->f_t_ka);
	f->f_t_ka = fl_timer(f, (uint64_t)f->f_ttl_s * 1000 / 3,
	    fl_on_ka_timer, f);
	fl_report(f);
	fl_campaign(f);
}

static void
fl_grant(struct fleet *f)
{
	if (f->f_granting || f->f_lease != 0 || f->f_stop)
		return;
	f->f_grant_sent = fl_mono_ms();
	f->f_granting = mst_etcd_lease(f->f_etcd, MST_ETCD_GRANT, f->f_ttl_s,
	    fl_on_grant, f) == 0;
}

void
fl_lease_lost(struct fleet *f, const char *why)
{
	if (f->f_lease == 0)
		return;
	f->f_st.st_lease_lost++;
	log_warnx("fleet: lease %" PRId64 " lost: %s", f->f_lease, why);
	fl_resign(f, "the lease is lost");
	f->f_lease = 0;
	f->f_ka_busy = false;
	fl_timer_off(f, &f->f_t_ka);
	fl_grant(f);
}

/* ---- election ----------------------------------------------------------------------- */

void
fl_resign(struct fleet *f, const char *why)
{
	size_t i;

	if (!f->f_leader)
		return;
	f->f_leader = false;
	f->f_fence = 0;
	f->f_st.st_resigns++;
	log_warnx("fleet: %s is no longer the leader: %s",
	    f->f_conf->fl_node_id, why);
	fl_members_free(f);
	for (i = 0; i < f->f_nroutes; i++)
		f->f_routes[i].r_writing = false;
}

void
fl_leader_seen(struct fleet *f, const char *id, size_t idlen, int64_t fence,
    int64_t lease)
{
	const char *me = f->f_conf->fl_node_id;

	f->f_leader_known = true;
	f->f_leader_fence = fence;
	snprintf(f->f_leader_id, sizeof(f->f_leader_id), "%.*s", (int)idlen,
	    id);
	if (f->f_leader && fence != f->f_fence)
		fl_resign(f, "the leader key was written again");
	/* our own key on our live lease (read again after a resync): we
	 * are the leader it names, fenced by it */
	if (!f->f_leader && lease != 0 && lease == f->f_lease &&
	    idlen == strlen(me) && memcmp(id, me, idlen) == 0 &&
	    fl_mono_ms() < f->f_lease_until) {
		f->f_leader = true;
		f->f_fence = fence;
		f->f_st.st_elections++;
		log_info("fleet: %s is the leader (fence %" PRId64 ")", me,
		    fence);
	}
}

void
fl_leader_gone(struct fleet *f)
{
	f->f_leader_known = false;
	f->f_leader_id[0] = '\0';
	f->f_leader_fence = 0;
	fl_resign(f, "the leader key is gone");
	fl_campaign(f);
}

static void
fl_on_campaign(struct mst_etcd *e, const struct mst_etcd_res *r, void *arg)
{
	struct fleet *f = arg;
	size_t i;

	(void)e;
	f->f_campaigning = false;
	if (r->r_err != MST_ETCD_OK)
		return;		/* again at the next tick */
	fl_ok(f);
	if (!r->r_succeeded) {
		if (r->r_nkvs > 0)
			fl_leader_seen(f, r->r_kvs[0].kv_val,
			    r->r_kvs[0].kv_vlen, r->r_kvs[0].kv_create_rev,
			    r->r_kvs[0].kv_lease);
		return;
	}
	/* a key on a lease given up meanwhile goes with that lease */
	if (f->f_lease == 0 || f->f_lease != f->f_campaign_lease)
		return;
	/* the watch may have told us first (fl_leader_seen) */
	fl_leader_seen(f, f->f_conf->fl_node_id,
	    strlen(f->f_conf->fl_node_id), r->r_hdr.eh_revision, f->f_lease);
	if (!f->f_leader)
		return;
	for (i = 0; i < f->f_nroutes; i++)
		memset(&f->f_routes[i].r_memo, 0,
		    sizeof(f->f_routes[i].r_memo));
	fl_lead_tick(f);
}

void
fl_campaign(struct fleet *f)
{
	const char *id = f->f_conf->fl_node_id;
	struct mst_etcd_cmp c = { .c_key = f->f_key_leader,
	    .c_klen = strlen(f->f_key_leader), .c_target = MST_ETCD_T_CREATE,
	    .c_result = MST_ETCD_R_EQUAL, .c_num = 0 };
	struct mst_etcd_op put = { .o_kind = MST_ETCD_OP_PUT,
	    .o_key = c.c_key, .o_klen = c.c_klen, .o_val = id,
	    .o_vlen = strlen(id), .o_lease = f->f_lease };
	struct mst_etcd_op get = { .o_kind = MST_ETCD_OP_RANGE,
	    .o_key = c.c_key, .o_klen = c.c_klen };
	struct mst_etcd_txn t = { &c, 1, &put, 1, &get, 1 };

	if (f->f_leader || f->f_campaigning || f->f_lease == 0 ||
	    !f->f_synced || f->f_leader_known || f->f_stop ||
	    fl_mono_ms() >= f->f_lease_until)
		return;
	f->f_campaign_lease = f->f_lease;
	f->f_campaigning = mst_etcd_txn(f->f_etcd, &t, fl_on_campaign, f) ==
	    0;
}

/* ---- the tick ---------------------------------------------------------------------- */

static void
fl_on_tick(void *arg)
{
	struct fleet *f = arg;

	f->f_t_tick = NULL;
	if (f->f_lease != 0 && fl_mono_ms() >= f->f_lease_until)
		fl_lease_lost(f, "no keepalive answer within the TTL");
	if (f->f_lease == 0 && f->f_t_grant == NULL)
		fl_grant(f);
	if (!f->f_synced)
		fl_resync(f);
	fl_campaign(f);
	if (f->f_leader)
		fl_lead_tick(f);
	fl_local_tick(f);
	fl_view(f);
	f->f_t_tick = fl_timer(f, MST_FLEET_TICK_MS, fl_on_tick, f);
}

static void
fl_on_report_timer(void *arg)
{
	struct fleet *f = arg;

	f->f_t_report = NULL;
	fl_report(f);
	f->f_t_report = fl_timer(f, f->f_report_ms, fl_on_report_timer, f);
}

/* ---- set-up --------------------------------------------------------------------------- */

int
fl_route_alloc(struct fl_route *r, size_t n)
{
	if (n == 0)
		n = 1;
	if ((r->r_now = calloc(2 * n, sizeof(*r->r_now))) == NULL ||
	    (r->r_vname = calloc(n, sizeof(*r->r_vname))) == NULL ||
	    (r->r_v = calloc(n, sizeof(*r->r_v))) == NULL ||
	    mst_fleet_state_alloc(&r->r_cur, n) == -1 ||
	    mst_fleet_state_alloc(&r->r_applied, n) == -1 ||
	    mst_fleet_state_alloc(&r->r_wnext, n) == -1 ||
	    mst_fleet_state_alloc(&r->r_tmp, n) == -1)
		return -1;
	r->r_win = r->r_now + n;
	return 0;
}

void
fl_route_free(struct fl_route *r)
{
	size_t k;

	mst_judge_ring_free(&r->r_ring);
	for (k = 0; k < r->r_nhist; k++)
		free(r->r_hist[k]);
	r->r_nhist = 0;
	free(r->r_now);
	free(r->r_vname);
	free(r->r_v);
	r->r_now = r->r_win = NULL;
	r->r_vname = NULL;
	r->r_v = NULL;
	mst_fleet_state_free(&r->r_cur);
	mst_fleet_state_free(&r->r_applied);
	mst_fleet_state_free(&r->r_wnext);
	mst_fleet_state_free(&r->r_tmp);
}

int
mst_fleet_rt_alloc(struct mst_fleet_rt *rt, size_t n)
{
	char *p;

	memset(rt, 0, sizeof(*rt));
	if (n == 0)
		n = 1;
	/* one block: names, then metrics indices, then weights */
	if ((p = calloc(n, sizeof(*rt->fr_cl) + sizeof(*rt->fr_ci) +
	    sizeof(*rt->fr_w))) == NULL)
		return -1;
	rt->fr_cl = (char (*)[CD_NAME_MAX])(void *)p;
	rt->fr_ci = (int *)(void *)(p + n * sizeof(*rt->fr_cl));
	rt->fr_w = (uint32_t *)(void *)(rt->fr_ci + n);
	return 0;
}

void
mst_fleet_rt_free(struct mst_fleet_rt *rt)
{
	free(rt->fr_cl);
	memset(rt, 0, sizeof(*rt));
}

void
fl_verdict_room(struct mst_fleet_verdict *v, struct fl_route *r)
{
	memset(v, 0, sizeof(*v));
	v->fv_next.fs_w = r->r_tmp.fs_w;
	v->fv_next.fs_wcap = r->r_tmp.fs_wcap;
}

static int
fl_setup_route(struct fleet *f, struct fl_route *r,
    const struct mst_fleet_rt *rt)
{
	const struct cd_rollout *ro = &rt->fr_ro;
	char esc[3 * CD_NAME_MAX];
	int64_t window_ms;
	size_t i;

	r->r_f = f;
	r->r_rt = rt;
	r->r_pending = -1;
	r->r_dr.fr_ro = ro;
	r->r_dr.fr_nw = rt->fr_nw;
	if (fl_route_alloc(r, rt->fr_nw) == -1) {
		log_warnx("fleet: out of memory");
		return -1;
	}
	for (i = 0; i < rt->fr_nw; i++)
		r->r_dr.fr_total += rt->fr_w[i];
	r->r_dr.fr_max_wait_ms = f->f_conf->fl_traffic_wait > 0 ?
	    f->f_conf->fl_traffic_wait / CD_NS_PER_MS :
	    5 * ro->ro_step_interval / CD_NS_PER_MS;
	if (r->r_dr.fr_max_wait_ms < 60000)
		r->r_dr.fr_max_wait_ms = 60000;
	/* a report every report_interval: three may be missed at most */
	r->r_dr.fr_fresh_ms = 3 * (int64_t)f->f_report_ms > MST_FLEET_FRESH_MS ?
	    3 * (int64_t)f->f_report_ms : MST_FLEET_FRESH_MS;
	if (rt->fr_nw < 2 || ro->ro_nsteps == 0 || r->r_dr.fr_total == 0 ||
	    ro->ro_canary < 0 || ro->ro_stable < 0 || ro->ro_canary ==
	    ro->ro_stable || (size_t)ro->ro_canary >= rt->fr_nw ||
	    (size_t)ro->ro_stable >= rt->fr_nw) {
		log_warnx("fleet: route %s: not a rollout this can drive",
		    rt->fr_name);
		return -1;
	}
	if (fl_key_escape(rt->fr_name, esc, sizeof(esc)) == -1 ||
	    (size_t)snprintf(r->r_key_state, sizeof(r->r_key_state),
	    "%sroute/%s/state", f->f_key_ctl, esc) >= sizeof(r->r_key_state) ||
	    (size_t)snprintf(r->r_key_hist, sizeof(r->r_key_hist),
	    "%sroute/%s/hist/", f->f_key_ctl, esc) >= sizeof(r->r_key_hist)) {
		log_warnx("fleet: route %s: name too long", rt->fr_name);
		return -1;
	}
	window_ms = ro->ro_window > 0 ? ro->ro_window / CD_NS_PER_MS : 30000;
	if (mst_judge_ring_init(&r->r_ring, rt->fr_nw, window_ms,
	    (int64_t)f->f_report_ms, FL_RING_STEPS) == -1) {
		log_warnx("fleet: out of memory");
		return -1;
	}
	return 0;
}

static int
fl_setup(struct fleet *f, const struct mst_fleet_args *a)
{
	const struct mst_fleet_conf *c = a->fa_conf;
	char id[3 * MST_FLEET_ID_MAX], name[MST_FLEET_ID_MAX];
	size_t i, n;

	f->f_args = a;
	f->f_conf = c;
	f->f_sock = a->fa_sock;
	f->f_sigfd = -1;
	f->f_ttl_s = c->fl_lease_ttl > 0 ? c->fl_lease_ttl / CD_NS_PER_S :
	    MST_FLEET_LEASE_TTL_S;
	if (f->f_ttl_s < MST_FLEET_LEASE_TTL_MIN_S)
		f->f_ttl_s = MST_FLEET_LEASE_TTL_MIN_S;
	f->f_report_ms = c->fl_report_interval > 0 ?
	    (uint64_t)(c->fl_report_interval / CD_NS_PER_MS) :
	    MST_FLEET_REPORT_MS;
	if (c->fl_node_id == NULL || c->fl_node_id[0] == '\0' ||
	    c->fl_cluster == NULL || c->fl_cluster[0] == '\0' ||
	    fl_key_escape(c->fl_node_id, id, sizeof(id)) == -1) {
		log_warnx("fleet: node.id and node.cluster are required");
		return -1;
	}
	if (c->fl_prefix != NULL)
		strlcpy(f->f_prefix, c->fl_prefix, sizeof(f->f_prefix));
	else
		snprintf(f->f_prefix, sizeof(f->f_prefix), "/canaryd/%s",
		    c->fl_cluster);
	n = strlen(f->f_prefix);
	while (n > 0 && f->f_prefix[n - 1] == '/')
		f->f_prefix[--n] = '\0';
	if ((size_t)snprintf(f->f_key_ctl, sizeof(f->f_key_ctl), "%s/ctl/",
	    f->f_prefix) >= sizeof(f->f_key_ctl) ||
	    (size_t)snprintf(f->f_key_leader, sizeof(f->f_key_leader),
	    "%sleader", f->f_key_ctl) >= sizeof(f->f_key_leader) ||
	    (size_t)snprintf(f->f_key_met, sizeof(f->f_key_met), "%s/met/",
	    f->f_prefix) >= sizeof(f->f_key_met) ||
	    (size_t)snprintf(f->f_key_me, sizeof(f->f_key_me), "%s%s",
	    f->f_key_met, id) >= sizeof(f->f_key_me)) {
		log_warnx("fleet: prefix or node.id too long");
		return -1;
	}
	/* the fleet's name as one file name */
	strlcpy(name, c->fl_cluster, sizeof(name));
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == '/')
			name[i] = '_';
	snprintf(f->f_snap_path, sizeof(f->f_snap_path), "%s/fleet-%s.json",
	    c->fl_state_dir != NULL ? c->fl_state_dir : MST_FLEET_STATE_DIR,
	    name);
	if ((f->f_routes = calloc(a->fa_nroutes > 0 ? a->fa_nroutes : 1,
	    sizeof(*f->f_routes))) == NULL)
		return -1;
	for (i = 0; i < a->fa_nroutes; i++, f->f_nroutes++)
		if (fl_setup_route(f, &f->f_routes[f->f_nroutes],
		    &a->fa_routes[i]) == -1)
			return -1;
	return 0;
}

static int
fl_setup_io(struct fleet *f)
{
	struct mst_etcd_conf ec;
	sigset_t set;
	char err[256];

	if ((f->f_loop = mst_evl_new()) == NULL)
		return -1;
	mst_evl_ops(f->f_loop, &f->f_ops);
	memset(&ec, 0, sizeof(ec));
	ec.ec_endpoints = f->f_conf->fl_etcd;
	ec.ec_nendpoints = f->f_conf->fl_netcd;
	ec.ec_loop = &f->f_ops;
	ec.ec_reset_cb = fl_on_reset;
	ec.ec_arg = f;
	if ((f->f_etcd = mst_etcd_new(&ec, err, sizeof(err))) == NULL) {
		log_warnx("fleet: etcd: %s", err);
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 || (f->f_sigfd =
	    signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    mst_evl_add(f->f_loop, f->f_sigfd, EPOLLIN, fl_on_signal, f) ==
	    -1 || mst_evl_add(f->f_loop, f->f_sock, EPOLLIN, fl_on_sock, f) ==
	    -1) {
		log_warn("fleet: signals and the master's socket");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	return 0;
}

static void
fl_on_revoked(struct mst_etcd *e, const struct mst_etcd_res *r, void *arg)
{
	struct fleet *f = arg;

	(void)e;
	(void)r;
	f->f_lease = 0;
}

/* Leaving: give the lease back, so leadership and the report go now
 * rather than a TTL later.  Waits FL_REVOKE_WAIT_MS at most. */
static void
fl_leave(struct fleet *f)
{
	uint64_t until = fl_mono_ms() + FL_REVOKE_WAIT_MS;

	fl_resign(f, "stopping");
	if (f->f_lease == 0 || mst_etcd_lease(f->f_etcd, MST_ETCD_REVOKE,
	    f->f_lease, fl_on_revoked, f) == -1)
		return;
	while (f->f_lease != 0 && fl_mono_ms() < until)
		if (mst_evl_run_once(f->f_loop, 50) == -1)
			break;
}

static void
fl_teardown(struct fleet *f)
{
	struct fl_out *q;
	size_t i;

	fl_timer_off(f, &f->f_t_tick);
	fl_timer_off(f, &f->f_t_report);
	fl_timer_off(f, &f->f_t_ka);
	fl_timer_off(f, &f->f_t_grant);
	fl_ops_free(f);
	fl_members_free(f);
	mst_etcd_unwatch(f->f_watch);
	mst_etcd_free(f->f_etcd);
	/* one more than f_nroutes when the last set-up failed half-way */
	for (i = 0; f->f_routes != NULL && i <= f->f_nroutes &&
	    i < f->f_args->fa_nroutes; i++)
		fl_route_free(&f->f_routes[i]);
	free(f->f_routes);
	while ((q = f->f_outq) != NULL) {
		f->f_outq = q->q_next;
		free(q->q_w);
		free(q);
	}
	if (f->f_sigfd != -1)
		close(f->f_sigfd);
	mst_evl_free(f->f_loop);
}

int
mst_fleet_main(const struct mst_fleet_args *a)
{
	struct fleet f;
	int rc = 1;

	memset(&f, 0, sizeof(f));
	log_setproc("fleet");
	if (fl_setup(&f, a) == 0 && fl_setup_io(&f) == 0) {
		log_info("fleet: %s in fleet %s, keys under %s, %zu routes, "
		    "etcd %s", f.f_conf->fl_node_id, f.f_conf->fl_cluster,
		    f.f_prefix, f.f_nroutes, mst_etcd_endpoint(f.f_etcd, NULL));
		fl_snapshot_load(&f);
		fl_grant(&f);
		fl_resync(&f);
		f.f_t_tick = fl_timer(&f, MST_FLEET_TICK_MS, fl_on_tick, &f);
		f.f_t_report = fl_timer(&f, f.f_report_ms, fl_on_report_timer,
		    &f);
		rc = mst_evl_run(f.f_loop) == -1 ? 1 : 0;
		fl_leave(&f);
	}
	fl_teardown(&f);
	return rc;
}
