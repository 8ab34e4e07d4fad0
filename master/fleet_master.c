/*
 * Fleet mode in the master (see fleet.h): the coordinator child
 * ("canaryd: fleet") forked and supervised as the resolver is, and what
 * its messages do here.
 *
 * APPLY puts a route's fleet state in force through the rollout engine
 * (mst_rollout_adopt(): the same shm path as a SIGHUP weight change, and
 * the state file) when its revision is newer than the one in force, or
 * the message says LOCAL (decided by this instance while etcd was away:
 * the revision stays) or FORCE (etcd's revisions started over); every
 * APPLY is answered APPLIED with the revision in force, which is what
 * this instance's reports acknowledge.  Operators' actions go to the
 * child as OP and come back as OP_DONE, matched by request id.  VIEW
 * pieces make up the child's /canary document, kept whole and parsed.
 *
 * Invariant: while fleet mode is on, every route with a rollout is
 * marked fleet in the rollout engine (its tick does not decide them), and
 * only an APPLY changes their weights.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "shared/buf.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "fleet-int.h"
#include "fileweights.h"
#include "fleet.h"
#include "helper.h"
#include "judge.h"
#include "loop.h"
#include "mst.h"
#include "rollout.h"
#include "stats.h"

#define FM_RESPAWN_MIN_MS	200
#define FM_RESPAWN_MAX_MS	5000
#define FM_STABLE_MS		10000	/* lived this long: backoff resets */
#define FM_VIEW_MAX		(4 * 1024 * 1024)
#define FM_OLD_MAX		8	/* stopped children not reaped yet */
#define FM_SNDBUF		(1024 * 1024)

/* A fleet route as the master applies it. */
struct fm_route {
	int64_t		 r_rev;		/* the state revision in force */
	bool		 r_local;	/* in force: decided here */
};

/* An operator's action waiting for the coordinator's answer. */
struct fm_pending {
	struct fm_pending *p_next;
	uint64_t	 p_id;
	mst_fleet_done_fn *p_done;
};

static struct {
	bool		 on;		/* the configuration has a fleet */
	pid_t		 child;
	int		 sock;		/* the master's end; -1 */
	uint64_t	 started_ms;	/* mono, of the running child */
	struct mst_timer *respawn;
	uint64_t	 backoff_ms;
	uint64_t	 restarts;
	pid_t		 old[FM_OLD_MAX];	/* stopped, not reaped yet */
	struct mst_fleet_conf conf;	/* fa_conf */
	struct mst_fleet_args args;
	struct mst_fleet_rt *routes;
	struct fm_route	*applied;	/* parallel to routes */
	size_t		 nroutes;
	size_t		 maxnw;		/* the most clusters a route has */
	uint32_t	*rw;		/* received weights: maxnw + 1 */
	struct fm_pending *pending;
	struct buf	 piece;		/* the view being received */
	int64_t		 piece_seq;
	char		*view;		/* the last whole view, JSON */
	json_t		*doc;		/* the same, parsed */
	uint64_t	 view_ms;	/* mono, when it came */
} fm = { .child = -1, .sock = -1, .piece_seq = -1 };

/* ---- identity ------------------------------------------------------------ */

int
mst_fleet_check(const struct cd_conf *conf, const char *node,
    const char *cluster, char *why, size_t whylen)
{
	const struct cd_node *n = &conf->c_node;

	if (node == NULL)
		node = n->n_id;
	if (cluster == NULL)
		cluster = n->n_cluster;
	if (!n->n_fleet.fl_set)
		return 0;
	if (node == NULL || node[0] == '\0' || cluster == NULL ||
	    cluster[0] == '\0') {
		snprintf(why, whylen, "node.metadata.canaryd.fleet needs "
		    "node.id (or --service-node) and node.cluster (or "
		    "--service-cluster)");
		return -1;
	}
	return 0;
}

int
mst_fleet_prepare(enum mst_change ch, struct cd_conf *next)
{
	char why[256];

	(void)ch;
	if (mst_fleet_check(next, mst.m_service_node, mst.m_service_cluster,
	    why, sizeof(why)) == -1) {
		log_error("fleet: %s", why);
		return -1;
	}
	return 0;
}

/* What the coordinator is told: the running configuration's fleet block
 * and the node's identity. */
static void
fm_conf(struct mst_fleet_conf *fc)
{
	const struct cd_fleet *fl = &mst.m_conf->c_node.n_fleet;
	size_t i;

	memset(fc, 0, sizeof(*fc));
	fc->fl_node_id = MST_NODE_ID(mst.m_conf);
	fc->fl_cluster = MST_NODE_CLUSTER(mst.m_conf);
	for (i = 0; i < fl->fl_netcd && i < MST_FLEET_MAX_ETCD; i++)
		fc->fl_etcd[fc->fl_netcd++] = fl->fl_etcd[i];
	fc->fl_prefix = fl->fl_prefix;
	fc->fl_lease_ttl = fl->fl_lease_ttl;
	fc->fl_report_interval = fl->fl_report_interval;
	fc->fl_state_dir = fl->fl_state_dir;
	fc->fl_traffic_wait = fl->fl_traffic_wait;
}

/* ---- routes and metrics -------------------------------------------------- */

/* The coordinator's metrics: cluster record ci's totals, from shm. */
static void
fm_read(void *arg, int ci, uint64_t *rq, uint64_t *n5xx, struct hist *h)
{
	struct mst_judge_snap s;

	(void)arg;
	mst_judge_snap_shm(mst.m_shm, ci, &s);
	*rq = s.js_rq;
	*n5xx = s.js_5xx;
	*h = s.js_h;
}

/* rr as the coordinator drives it: the file's weights (x 100 under a
 * total of 100, as the rollout engine takes them), clusters, records.
 * 0, or -1 out of memory. */
static int
fm_route_from(const struct cd_conf *conf, const struct mst_ro_route *rr,
    struct mst_fleet_rt *rt)
{
	uint64_t sum = 0;
	size_t i;

	if (mst_fleet_rt_alloc(rt, rr->rr_nwc) == -1)
		return -1;
	strlcpy(rt->fr_name, rr->rr_name, sizeof(rt->fr_name));
	rt->fr_ro = rr->rr_ro;
	rt->fr_nw = rr->rr_nwc;
	for (i = 0; i < rr->rr_nwc; i++) {
		rt->fr_w[i] = mst_fw_weight(conf, rr->rr_rt, i);
		sum += rt->fr_w[i];
		strlcpy(rt->fr_cl[i], mst_rollout_wc_name(rr, (int)i),
		    sizeof(rt->fr_cl[i]));
		rt->fr_ci[i] = rr->rr_shm_ci[i];
	}
	for (i = 0; sum < 100 && i < rr->rr_nwc; i++)
		rt->fr_w[i] *= 100;
	return 0;
}

static void
fm_routes_free(void)
{
	size_t i;

	for (i = 0; i < fm.nroutes; i++)
		mst_fleet_rt_free(&fm.routes[i]);
	free(fm.routes);
	free(fm.applied);
	free(fm.rw);
	fm.routes = NULL;
	fm.applied = NULL;
	fm.rw = NULL;
	fm.nroutes = fm.maxnw = 0;
}

/* Mark every route with a rollout fleet, and describe it for the child. */
static int
fm_routes(void)
{
	struct mst_ro *ro = mst_rollout_engine();
	size_t r, n = 0;

	fm_routes_free();
	if (ro == NULL)
		return 0;
	if ((fm.routes = calloc(ro->ro_n + 1, sizeof(*fm.routes))) == NULL ||
	    (fm.applied = calloc(ro->ro_n + 1, sizeof(*fm.applied))) == NULL)
		return -1;
	for (r = 0; r < ro->ro_n; r++) {
		if (!ro->ro_routes[r].rr_has_rollout)
			continue;
		mst_rollout_set_fleet(&ro->ro_routes[r], 1);
		if (fm_route_from(ro->ro_conf, &ro->ro_routes[r],
		    &fm.routes[n]) == -1)
			return -1;
		if (fm.routes[n].fr_nw > fm.maxnw)
			fm.maxnw = fm.routes[n].fr_nw;
		fm.nroutes = ++n;
	}
	/* one more than any route: a longer list shows as too long */
	if ((fm.rw = calloc(fm.maxnw + 1, sizeof(*fm.rw))) == NULL)
		return -1;
	return 0;
}

static ssize_t
fm_route_index(const char *name)
{
	size_t i;

	for (i = 0; i < fm.nroutes; i++)
		if (strcmp(fm.routes[i].fr_name, name) == 0)
			return (ssize_t)i;
	return -1;
}

bool
mst_fleet_decides(const char *route)
{
	return fm.on && fm_route_index(route) != -1;
}

/* ---- messages ------------------------------------------------------------ */

static int
fm_send(struct mst_fleet_msg *m)
{
	if (fm.sock == -1)
		return -1;
	if (send(fm.sock, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    -1) {
		log_warn("fleet: message to the coordinator");
		return -1;
	}
	return 0;
}

static void
fm_applied(const char *route, int64_t rev)
{
	struct mst_fleet_msg m;

	memset(&m, 0, sizeof(m));
	m.fm_type = MST_FLEET_M_APPLIED;
	strlcpy(m.fm_route, route, sizeof(m.fm_route));
	m.fm_rev = rev;
	(void)fm_send(&m);
}

/* m's state as the rollout engine takes it (w: its fm_nw weights, which
 * sv points at); -1 when it is no state. */
static int
fm_saved(const struct mst_fleet_msg *m, const uint32_t *w,
    struct mst_ro_saved *sv)
{
	if (m->fm_state > MST_RO_PROMOTED || m->fm_nw > fm.maxnw ||
	    m->fm_len >= sizeof(m->fm_text))
		return -1;
	memset(sv, 0, sizeof(*sv));
	strlcpy(sv->rs_name, m->fm_route, sizeof(sv->rs_name));
	sv->rs_state = (enum mst_ro_state)m->fm_state;
	sv->rs_step = m->fm_step;
	sv->rs_decided_ms = m->fm_decided_ms > 0 ?
	    (uint64_t)m->fm_decided_ms : cd_realtime_ms();
	sv->rs_nw = m->fm_nw;
	sv->rs_w = w;
	/* sticky placement's seed (worker/sticky.h): an attempt's number */
	sv->rs_epoch = (uint32_t)m->fm_epoch;
	/* the state file keeps the reason: it says it is the fleet's */
	if (m->fm_flags & MST_FLEET_F_LOCAL)
		snprintf(sv->rs_reason, sizeof(sv->rs_reason), "fleet, "
		    "decided here while etcd was away: %.*s", (int)m->fm_len,
		    m->fm_text);
	else
		snprintf(sv->rs_reason, sizeof(sv->rs_reason), "fleet revision "
		    "%" PRId64 ": %.*s", m->fm_rev, (int)m->fm_len, m->fm_text);
	return 0;
}

/* A route's fleet state, to put in force if it is newer. */
static void
fm_apply(const struct mst_fleet_msg *m, const uint32_t *w)
{
	struct mst_ro *ro = mst_rollout_engine();
	bool local = (m->fm_flags & MST_FLEET_F_LOCAL) != 0;
	bool force = (m->fm_flags & MST_FLEET_F_FORCE) != 0;
	struct mst_ro_route *rr;
	struct fm_route *r;
	struct mst_ro_saved sv;
	char origin[MST_ROLLOUT_ORIGIN_MAX];
	ssize_t k;

	if ((k = fm_route_index(m->fm_route)) == -1 || ro == NULL ||
	    (rr = mst_rollout_find(ro, m->fm_route)) == NULL ||
	    !rr->rr_fleet) {
		log_warnx("fleet: a state for %s, no fleet route here: ignored",
		    m->fm_route);
		return;
	}
	r = &fm.applied[k];
	if (local || force || m->fm_rev > r->r_rev) {
		if (local)
			snprintf(origin, sizeof(origin), "the fleet: decided "
			    "here while etcd was unreachable");
		else
			snprintf(origin, sizeof(origin), "the fleet: etcd "
			    "revision %" PRId64 "%s", m->fm_rev, force ?
			    " (replacing the state in force)" : "");
		if (fm_saved(m, w, &sv) == -1 || mst_rollout_adopt(ro, rr, &sv,
		    mst_rollout_now_ns(), origin) == -1)
			log_warnx("fleet: route %s: the state of revision %"
			    PRId64 " does not fit the route: ignored",
			    m->fm_route, m->fm_rev);
		else {
			if (!local)
				r->r_rev = m->fm_rev;
			r->r_local = local;
			mst_rollout_persist();
		}
	}
	fm_applied(m->fm_route, r->r_rev);
}

static void
fm_op_done(const struct mst_fleet_msg *m)
{
	struct fm_pending **pp, *p;

	for (pp = &fm.pending; (p = *pp) != NULL; pp = &p->p_next)
		if (p->p_id == m->fm_id) {
			*pp = p->p_next;
			p->p_done(p->p_id, m->fm_status, m->fm_text,
			    m->fm_len < sizeof(m->fm_text) ? m->fm_len : 0);
			free(p);
			return;
		}
}

/* Every action still waiting gets status: the coordinator is gone. */
static void
fm_pending_fail(void)
{
	static const char body[] = "{\"error\":\"the fleet coordinator "
	    "stopped before it answered\"}";
	struct fm_pending *p;

	while ((p = fm.pending) != NULL) {
		fm.pending = p->p_next;
		p->p_done(p->p_id, 503, body, sizeof(body) - 1);
		free(p);
	}
}

/* A piece of the view; the last one makes it the view in force. */
static void
fm_view_piece(const struct mst_fleet_msg *m)
{
	json_t *doc;

	if (m->fm_id == 0) {
		buf_reset(&fm.piece);
		fm.piece_seq = m->fm_rev;
	}
	if (m->fm_rev != fm.piece_seq || m->fm_id != fm.piece.b_len ||
	    m->fm_len >= sizeof(m->fm_text) ||
	    fm.piece.b_len + m->fm_len > FM_VIEW_MAX) {
		fm.piece_seq = -1;	/* a piece was lost: wait for the next */
		return;
	}
	buf_append(&fm.piece, m->fm_text, m->fm_len);
	if (!(m->fm_flags & MST_FLEET_F_LAST) || fm.piece.b_oom)
		return;
	if ((doc = json_loadb(fm.piece.b_data, fm.piece.b_len, 0, NULL)) ==
	    NULL || !json_is_object(doc)) {
		json_decref(doc);
		return;
	}
	json_decref(fm.doc);
	fm.doc = doc;
	free(fm.view);
	fm.view = strndup(fm.piece.b_data, fm.piece.b_len);
	fm.view_ms = mst_now_ms();
	fm.piece_seq = -1;
}

static void
fm_on_msg(const struct mst_fleet_msg *m, const uint32_t *w)
{
	switch (m->fm_type) {
	case MST_FLEET_M_APPLY:
		fm_apply(m, w);
		break;
	case MST_FLEET_M_OP_DONE:
		fm_op_done(m);
		break;
	case MST_FLEET_M_VIEW:
		fm_view_piece(m);
		break;
	default:
		log_warnx("fleet: message of type %" PRIu32 " from the "
		    "coordinator ignored", m->fm_type);
	}
}

static void	fm_close(void);

/*
 * One message into m, an APPLY's weights into fm.rw (no more than the
 * routes here have: a longer one is cut, and refused).  2: a message;
 * 1: one that is not (wrong size), dropped; 0: the socket closed; -1:
 * errno.
 */
static ssize_t
fm_recv(int fd, struct mst_fleet_msg *m)
{
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	iov[0].iov_base = m;
	iov[0].iov_len = sizeof(*m);
	iov[1].iov_base = fm.rw;
	iov[1].iov_len = fm.rw != NULL ? (fm.maxnw + 1) * sizeof(*fm.rw) : 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) <= 0)
		return n;
	if ((size_t)n < sizeof(*m) || (mh.msg_flags & MSG_TRUNC) ||
	    m->fm_nw > fm.maxnw || (size_t)n != sizeof(*m) +
	    (m->fm_type == MST_FLEET_M_APPLY ? m->fm_nw : 0) * sizeof(*fm.rw)) {
		log_warnx("fleet: a message of %zd bytes from the coordinator "
		    "that fits no route here: ignored", n);
		return 1;
	}
	return 2;
}

static void
fm_on_sock(int fd, uint32_t events, void *arg)
{
	struct mst_fleet_msg m;
	ssize_t n;
	int i;

	(void)events;
	(void)arg;
	for (i = 0; i < 64; i++) {
		n = fm_recv(fd, &m);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n <= 0) {
			fm_close();	/* SIGCHLD brings the respawn */
			return;
		}
		if (n == 1)
			continue;
		m.fm_route[sizeof(m.fm_route) - 1] = '\0';
		fm_on_msg(&m, fm.rw);
	}
}

int
mst_fleet_action(const char *route, enum mst_ro_op op, bool wait_ack,
    uint64_t id, mst_fleet_done_fn *done)
{
	struct mst_fleet_msg m;
	struct fm_pending *p;

	if (fm.sock == -1 || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	memset(&m, 0, sizeof(m));
	m.fm_type = MST_FLEET_M_OP;
	m.fm_flags = wait_ack ? MST_FLEET_F_WAIT_ACK : 0;
	m.fm_id = id;
	m.fm_op = (int32_t)op;
	strlcpy(m.fm_route, route, sizeof(m.fm_route));
	if (fm_send(&m) == -1) {
		free(p);
		return -1;
	}
	p->p_id = id;
	p->p_done = done;
	p->p_next = fm.pending;
	fm.pending = p;
	return 0;
}

/* ---- the child ----------------------------------------------------------- */

_Noreturn static void
fm_child_main(int sock)
{
	/* SIGTERM, or the master's end of the socket closing, stops the
	 * coordinator */
	fm.args.fa_sock = mst_helper_child(sock);
	setproctitle("fleet");
	_exit(mst_fleet_main(&fm.args));
}

static int
fm_spawn(void)
{
	int sv[2], sndbuf = FM_SNDBUF;
	size_t apply = sizeof(struct mst_fleet_msg) + fm.maxnw *
	    sizeof(uint32_t);
	pid_t pid;

	/* an APPLY of the biggest route in one datagram, twice over */
	if (2 * apply > (size_t)sndbuf)
		sndbuf = apply > INT_MAX / 2 ? INT_MAX : (int)(2 * apply);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf));
	fm_conf(&fm.conf);
	fm.args.fa_conf = &fm.conf;
	fm.args.fa_routes = fm.routes;
	fm.args.fa_nroutes = fm.nroutes;
	fm.args.fa_metrics.fx_read = fm_read;
	fm.args.fa_metrics.fx_arg = NULL;
	switch ((pid = fork())) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		fm_child_main(sv[1]);
	}
	close(sv[1]);
	fm.sock = sv[0];
	fm.child = pid;
	fm.started_ms = mst_now_ms();
	if (mst_loop_add(fm.sock, EPOLLIN, fm_on_sock, NULL) == -1) {
		close(fm.sock);
		fm.sock = -1;
		return -1;
	}
	log_info("fleet: coordinator started (pid %ld, %zu routes)",
	    (long)pid, fm.nroutes);
	return 0;
}

/* The master's end goes: the child gives its lease back and exits. */
static void
fm_close(void)
{
	if (fm.sock != -1) {
		mst_loop_del(fm.sock);
		close(fm.sock);
		fm.sock = -1;
	}
	fm_pending_fail();
}

static void
fm_on_respawn(void *arg)
{
	(void)arg;
	fm.respawn = NULL;
	if (!fm.on || fm.child != -1)
		return;
	fm.restarts++;
	if (fm_spawn() == -1) {
		log_warn("fleet: coordinator");
		fm.respawn = mst_timer_add(fm.backoff_ms, fm_on_respawn, NULL);
	}
}

bool
mst_fleet_reaped(pid_t pid, int status)
{
	size_t i;

	for (i = 0; i < FM_OLD_MAX; i++)
		if (fm.old[i] == pid) {
			fm.old[i] = 0;
			return true;
		}
	if (pid != fm.child || pid <= 0)
		return false;
	fm.child = -1;
	fm_close();
	if (!fm.on)
		return true;
	/* a child that keeps failing is started again less and less often */
	if (mst_now_ms() - fm.started_ms >= FM_STABLE_MS)
		fm.backoff_ms = FM_RESPAWN_MIN_MS;
	else
		fm.backoff_ms = fm.backoff_ms * 2 > FM_RESPAWN_MAX_MS ?
		    FM_RESPAWN_MAX_MS : fm.backoff_ms * 2;
	log_warnx("fleet: coordinator (pid %ld) exited (%s %d): again in %"
	    PRIu64 " ms", (long)pid, WIFSIGNALED(status) ? "signal" :
	    "status", WIFSIGNALED(status) ? WTERMSIG(status) :
	    WEXITSTATUS(status), fm.backoff_ms);
	mst_timer_cancel(fm.respawn);
	fm.respawn = mst_timer_add(fm.backoff_ms, fm_on_respawn, NULL);
	return true;
}

/* ---- the module ---------------------------------------------------------- */

int
mst_fleet_start(void)
{
	if (!mst.m_conf->c_node.n_fleet.fl_set)
		return 0;
	if (fm_routes() == -1) {
		log_error("fleet: out of memory");
		return -1;
	}
	fm.on = true;
	fm.backoff_ms = FM_RESPAWN_MIN_MS;
	buf_init(&fm.piece);
	if (fm_spawn() == -1) {
		log_warn("fleet: coordinator");
		return -1;
	}
	return 0;
}

void
mst_fleet_stop(void)
{
	size_t i;

	fm.on = false;
	mst_timer_cancel(fm.respawn);
	fm.respawn = NULL;
	fm_close();
	if (fm.child > 0) {
		kill(fm.child, SIGTERM);
		for (i = 0; i < FM_OLD_MAX && fm.old[i] != 0; i++)
			;
		if (i < FM_OLD_MAX)
			fm.old[i] = fm.child;
	}
	fm.child = -1;
	json_decref(fm.doc);
	fm.doc = NULL;
	free(fm.view);
	fm.view = NULL;
	buf_free(&fm.piece);
}

/*
 * A reload: the routes, their records and the fleet block may all have
 * changed, so a new coordinator starts on the new configuration; the
 * revisions in force start over, so what it reads (its snapshot, etcd)
 * is put in force again on the routes as they now are.
 */
void
mst_fleet_reload(enum mst_change ch)
{
	(void)ch;
	if (!fm.on && !mst.m_conf->c_node.n_fleet.fl_set)
		return;
	mst_fleet_stop();
	if (mst_fleet_start() == -1)
		log_error("reload: fleet mode did not restart");
}

/* ---- /canary and /stats -------------------------------------------------- */

/* The master's own part of the view: the child's pid, its restarts. */
static json_t *
fm_coordinator(void)
{
	return json_pack("{s:I,s:I,s:I}", "pid", (json_int_t)fm.child,
	    "restarts", (json_int_t)fm.restarts, "view_age_ms",
	    fm.view != NULL ? (json_int_t)(mst_now_ms() - fm.view_ms) : -1);
}

int
mst_fleet_json(struct buf *b)
{
	json_t *doc;
	char *s;

	if (!fm.on)
		return 0;
	buf_puts(b, ",\"fleet\":");
	doc = fm.doc != NULL ? json_copy(fm.doc) : json_object();
	if (doc == NULL || json_object_set_new(doc, "coordinator",
	    fm_coordinator()) != 0 || (s = json_dumps(doc,
	    JSON_COMPACT)) == NULL) {
		json_decref(doc);
		return -1;
	}
	json_decref(doc);
	buf_puts(b, s);
	free(s);
	return b->b_oom ? -1 : 0;
}

/* One history record on a line: seq, act, who, why and the sums. */
static void
fm_text_hist(struct buf *b, json_t *h)
{
	json_t *in = json_object_get(h, "inputs");
	json_t *c = json_object_get(in, "canary"), *s = json_object_get(in,
	    "stable");

	buf_printf(b, "    #%" JSON_INTEGER_FORMAT " %s, by the %s on %s "
	    "(fence %" JSON_INTEGER_FORMAT "): %s\n", json_integer_value(
	    json_object_get(h, "seq")), json_string_value(json_object_get(h,
	    "act")) ?: "?", json_string_value(json_object_get(h, "by")) ?: "?",
	    json_string_value(json_object_get(h, "node")) ?: "?",
	    json_integer_value(json_object_get(h, "fence")),
	    json_string_value(json_object_get(h, "why")) ?: "");
	/* the numbers a leader decided from (an operator needs none) */
	if (json_integer_value(json_object_get(in, "instances")) == 0)
		return;
	buf_printf(b, "      from %" JSON_INTEGER_FORMAT " instances: canary %"
	    JSON_INTEGER_FORMAT " requests %" JSON_INTEGER_FORMAT " failed, "
	    "stable %" JSON_INTEGER_FORMAT " requests %" JSON_INTEGER_FORMAT
	    " failed\n", json_integer_value(json_object_get(in, "instances")),
	    json_integer_value(json_object_get(c, "rq")),
	    json_integer_value(json_object_get(c, "5xx")),
	    json_integer_value(json_object_get(s, "rq")),
	    json_integer_value(json_object_get(s, "5xx")));
}

static void
fm_text_route(struct buf *b, json_t *r)
{
	json_t *ap = json_object_get(r, "applied"), *h;
	size_t i;

	buf_printf(b, "  route %s: fleet revision %" JSON_INTEGER_FORMAT
	    ", in force here %" JSON_INTEGER_FORMAT "%s (acknowledged %"
	    JSON_INTEGER_FORMAT "): %s, step %" JSON_INTEGER_FORMAT "\n",
	    json_string_value(json_object_get(r, "name")) ?: "?",
	    json_integer_value(json_object_get(r, "revision")),
	    json_integer_value(json_object_get(r, "applied_revision")),
	    json_is_true(json_object_get(r, "local")) ? " (decided here)" : "",
	    json_integer_value(json_object_get(r, "acked_revision")),
	    json_string_value(json_object_get(ap, "state")) ?: "?",
	    json_integer_value(json_object_get(ap, "step")));
	if (json_string_value(json_object_get(r, "pending")) != NULL)
		buf_printf(b, "    to write when etcd answers: %s\n",
		    json_string_value(json_object_get(r, "pending")));
	if (json_string_length(json_object_get(r, "leader_says")) > 0)
		buf_printf(b, "    leader says: %s\n", json_string_value(
		    json_object_get(r, "leader_says")));
	json_array_foreach(json_object_get(r, "history"), i, h)
		fm_text_hist(b, h);
}

int
mst_fleet_text(struct buf *b)
{
	json_t *d = fm.doc, *ld, *et, *m, *acks, *v;
	const char *k;
	size_t i;

	if (!fm.on)
		return 0;
	if (d == NULL) {
		buf_puts(b, "\nfleet: no word from the coordinator yet\n");
		return b->b_oom ? -1 : 0;
	}
	ld = json_object_get(d, "leader");
	et = json_object_get(d, "etcd");
	buf_printf(b, "\nfleet %s: node %s, leader %s (fence %"
	    JSON_INTEGER_FORMAT ")", json_string_value(json_object_get(d,
	    "fleet")) ?: "?", json_string_value(json_object_get(d, "node")) ?:
	    "?", json_is_true(json_object_get(ld, "known")) ?
	    json_string_value(json_object_get(ld, "id")) : "none",
	    json_integer_value(json_object_get(ld, "fence")));
	/* only the leader reads the members' reports */
	if (json_is_true(json_object_get(ld, "me")))
		buf_printf(b, " (this node), %" JSON_INTEGER_FORMAT " live "
		    "members", json_integer_value(json_object_get(d,
		    "live_members")));
	buf_printf(b, "\n  etcd %s: %s, revision %" JSON_INTEGER_FORMAT "\n",
	    json_string_value(json_object_get(et, "endpoint")) ?: "?",
	    json_is_true(json_object_get(et, "up")) ? "up" : "unreachable",
	    json_integer_value(json_object_get(et, "revision")));
	json_array_foreach(json_object_get(d, "members"), i, m) {
		buf_printf(b, "  member %s: report %.1f s old, acknowledged",
		    json_string_value(json_object_get(m, "id")) ?: "?",
		    (double)json_integer_value(json_object_get(m,
		    "report_age_ms")) / 1000.0);
		acks = json_object_get(m, "acks");
		json_object_foreach(acks, k, v)
			buf_printf(b, " %s@%" JSON_INTEGER_FORMAT, k,
			    json_integer_value(v));
		buf_puts(b, "\n");
	}
	json_array_foreach(json_object_get(d, "routes"), i, m)
		fm_text_route(b, m);
	return b->b_oom ? -1 : 0;
}

/* The view's counters and gauges, under canaryd.fleet. */
static const struct {
	const char	*s_name;	/* after canaryd.fleet. */
	const char	*s_obj;		/* in the view: object, then key */
	const char	*s_key;
	int		 s_type;
} fm_stat_map[] = {
	{ "leader", "leader", "me", MST_STAT_GAUGE },
	{ "fence", "leader", "fence", MST_STAT_GAUGE },
	{ "etcd_up", "etcd", "up", MST_STAT_GAUGE },
	{ "members", NULL, "live_members", MST_STAT_GAUGE },
	{ "elections", "stats", "elections", MST_STAT_COUNTER },
	{ "resigns", "stats", "resigns", MST_STAT_COUNTER },
	{ "lease_lost", "stats", "lease_lost", MST_STAT_COUNTER },
	{ "local_rollbacks", "stats", "local_rollbacks", MST_STAT_COUNTER },
	{ "resyncs", "stats", "resyncs", MST_STAT_COUNTER },
	{ "bad_values", "stats", "bad_values", MST_STAT_COUNTER },
	{ "etcd_bad_answers", "stats", "etcd_bad", MST_STAT_COUNTER },
	{ "fenced_writes", "stats", "fenced", MST_STAT_COUNTER },
	{ "etcd_requests", "stats", "etcd_calls", MST_STAT_COUNTER },
	{ "etcd_errors", "stats", "etcd_errors", MST_STAT_COUNTER },
	{ "etcd_switches", "stats", "etcd_switches", MST_STAT_COUNTER },
	{ "watch_restarts", "stats", "watch_restarts", MST_STAT_COUNTER },
};

static uint64_t
fm_num(json_t *v)
{
	if (json_is_true(v))
		return 1;
	return json_is_integer(v) && json_integer_value(v) > 0 ?
	    (uint64_t)json_integer_value(v) : 0;
}

int
mst_fleet_stats(struct mst_stat_list *sl)
{
	char name[CD_NAME_MAX + 64];
	json_t *o, *v;
	const char *k;
	uint64_t n;
	size_t i;
	int rc = 0;

	if (!fm.on)
		return 0;
	rc |= mst_stats_add(sl, MST_STAT_COUNTER, fm.restarts, fm.restarts != 0,
	    "canaryd.fleet.coordinator_restarts");
	for (i = 0; i < sizeof(fm_stat_map) / sizeof(fm_stat_map[0]); i++) {
		o = fm_stat_map[i].s_obj != NULL ? json_object_get(fm.doc,
		    fm_stat_map[i].s_obj) : fm.doc;
		n = fm_num(json_object_get(o, fm_stat_map[i].s_key));
		snprintf(name, sizeof(name), "canaryd.fleet.%s",
		    fm_stat_map[i].s_name);
		rc |= mst_stats_add(sl, fm_stat_map[i].s_type, n,
		    fm_stat_map[i].s_type == MST_STAT_GAUGE || n != 0, name);
	}
	o = json_object_get(json_object_get(fm.doc, "stats"), "decisions");
	json_object_foreach(o, k, v) {
		snprintf(name, sizeof(name), "canaryd.fleet.decisions.%s", k);
		rc |= mst_stats_add(sl, MST_STAT_COUNTER, fm_num(v),
		    fm_num(v) != 0, name);
	}
	return rc == 0 ? 0 : -1;
}
