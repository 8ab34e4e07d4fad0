/*
 * Upstream connections and host selection (see upstream.h).
 *
 * Invariants: an IDLE connection is on exactly one pool list, the one at
 * wc_pools[u_pidx] of its cluster, whose hp_id is its u_host_id; a
 * CONNECTING or BUSY connection has u_owner set and is on no list; a CLOSED
 * one is on ups_dead until the loop turn ends, so a stale epoll event
 * in the same batch still finds valid memory (and ignores it).
 * Gauges are decremented at the host index they were incremented at.
 * A connection holds one max_connections unit (u_bh) from its
 * connect to its close, whatever its state, so the breaker counts every
 * connection of the cluster in every worker, idle ones included.  An
 * owner is on a wait queue exactly while UPS_O_WAITING is set, and on
 * the queue of uo_cluster.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/shm.h"
#include "breaker.h"
#include "mem.h"
#include "router.h"
#include "upstream.h"
#include "wrk.h"

#define UPS_POOL_MAX	256	/* idle connections kept per host */
/*
 * While this worker pools idle connections, it looks this often whether
 * another worker waits for a connection slot of a cluster that is at
 * max_connections: an idle connection here would otherwise keep the slot
 * until its idle timeout (an hour) while that request starves.
 */
#define UPS_WATCH_MS	100

static struct wrk_slab		 ups_slab;
static struct wrk_ups_list	 ups_dead = LIST_HEAD_INITIALIZER(ups_dead);
static uint32_t			 ups_open;
static uint32_t			 ups_nidle;	/* idle, all clusters */
static struct wrk_timer		 ups_watch;

static void	ups_event(struct wrk_ev *, uint32_t);
static void	ups_timer(struct wrk_timer *);
static void	ups_watch_fire(struct wrk_timer *);

#define UPS_OF_EV(ev)	((struct wrk_ups *)(void *)((char *)(ev) -	\
	offsetof(struct wrk_ups, u_ev)))
#define UPS_OF_TIMER(t)	((struct wrk_ups *)(void *)((char *)(t) -	\
	offsetof(struct wrk_ups, u_timer)))

int
wrk_ups_init(void)
{
	size_t i, n = wrk.w_conf->c_nclusters;

	if ((wrk.w_clusters = calloc(n ? n : 1, sizeof(*wrk.w_clusters))) ==
	    NULL)
		return -1;
	for (i = 0; i < n; i++)
		TAILQ_INIT(&wrk.w_clusters[i].wc_wait);
	wrk_slab_init(&ups_slab, "upstream", sizeof(struct wrk_ups), 64);
	wrk_timer_init(&ups_watch, ups_watch_fire);
	return 0;
}

/* Move a whole list to another head (LIST has no tail to fix up). */
static void
ups_list_move(struct wrk_ups_list *dst, struct wrk_ups_list *src)
{
	dst->lh_first = src->lh_first;
	if (dst->lh_first != NULL)
		dst->lh_first->u_entry.le_prev = &dst->lh_first;
	LIST_INIT(src);
}

/* Room for cap hosts in wc's arrays (empty pools: none is in use). */
static void
ups_room(struct wrk_cluster *wc, uint32_t cap)
{
	uint32_t j;

	if (cap == 0)
		cap = 1;
	if (wc->wc_hosts != NULL && wc->wc_cap >= cap)
		return;
	free(wc->wc_hosts);
	free(wc->wc_pools);
	free(wc->wc_flags);
	if ((wc->wc_hosts = calloc(cap, sizeof(*wc->wc_hosts))) == NULL ||
	    (wc->wc_pools = calloc(cap, sizeof(*wc->wc_pools))) == NULL ||
	    (wc->wc_flags = calloc(cap, sizeof(*wc->wc_flags))) == NULL)
		fatal("calloc");
	for (j = 0; j < cap; j++)
		LIST_INIT(&wc->wc_pools[j].hp_idle);
	wc->wc_cap = cap;
}

/*
 * Copy cluster ci's host list again if the master published a new one.
 * Pools follow their host by sh_id; pools of hosts that are gone are
 * closed, so no request reuses a connection to a vanished address.
 */
static void
ups_refresh(int ci, struct wrk_cluster *wc)
{
	struct shm_cluster *sc = WRK_SHM_CL(ci);
	struct wrk_ups_list *old = NULL;
	uint32_t *oldid = NULL, oldn, seq, n, i, j, nidle = 0;
	struct wrk_ups *u;

	seq = shm_hosts_seq(sc);
	if (wc->wc_valid && seq == wc->wc_seq)
		return;
	oldn = wc->wc_valid ? wc->wc_n : 0;
	if (oldn > 0 && ((old = calloc(oldn, sizeof(*old))) == NULL ||
	    (oldid = calloc(oldn, sizeof(*oldid))) == NULL))
		fatal("calloc");
	for (j = 0; j < oldn; j++) {
		oldid[j] = wc->wc_pools[j].hp_id;
		ups_list_move(&old[j], &wc->wc_pools[j].hp_idle);
		wc->wc_pools[j].hp_nidle = 0;
	}
	ups_room(wc, sc->sc_hcap);
	n = shm_hosts_read_cap(sc, wc->wc_hosts, wc->wc_cap, &seq);
	for (i = 0; i < n; i++) {
		struct wrk_hpool *hp = &wc->wc_pools[i];

		hp->hp_id = wc->wc_hosts[i].sh_id;
		hp->hp_nidle = 0;
		for (j = 0; j < oldn; j++) {
			if (oldid[j] != hp->hp_id || LIST_EMPTY(&old[j]))
				continue;
			ups_list_move(&hp->hp_idle, &old[j]);
			LIST_FOREACH(u, &hp->hp_idle, u_entry) {
				u->u_pidx = i;
				hp->hp_nidle++;
			}
			break;
		}
		nidle += hp->hp_nidle;
	}
	ups_nidle -= wc->wc_nidle - nidle;
	wc->wc_nidle = nidle;
	wc->wc_n = n;
	wc->wc_seq = seq;
	wc->wc_valid = true;
	for (j = 0; j < oldn; j++) {
		while ((u = LIST_FIRST(&old[j])) != NULL) {
			LIST_REMOVE(u, u_entry);
			/* off every list now: close must not unlink it again */
			u->u_state = UPS_S_BUSY;
			wrk_ups_close(u, false);
		}
	}
	free(old);
	free(oldid);
}

/*
 * A retry's host when the first pick was tried already: the lb policy
 * over the eligible hosts (healthy ones, or all in panic) not in avoid.
 * -1 when there is none.
 */
static int
ups_pick_other(const struct cd_cluster *cl, struct wrk_cluster *wc,
    bool panic, const struct wrk_tried *avoid)
{
	struct shm_host *sub;
	uint32_t *zero, *map, i, m = 0;
	bool p2;
	int k;

	sub = calloc(wc->wc_n, sizeof(*sub));
	zero = calloc(wc->wc_n, sizeof(*zero));
	map = calloc(wc->wc_n, sizeof(*map));
	if (sub == NULL || zero == NULL || map == NULL)
		fatal("calloc");
	for (i = 0; i < wc->wc_n; i++) {
		if (wrk_tried_has(avoid, wc->wc_hosts[i].sh_id))
			continue;
		if (!panic && (wc->wc_flags[i] & SHM_HF_UNHEALTHY) != 0)
			continue;
		sub[m] = wc->wc_hosts[i];
		map[m++] = i;
	}
	k = m == 0 ? -1 : wrk_router_pick_host(sub, zero, m, 0, cl->cl_lb,
	    wc->wc_rr++, cl->cl_lb == CD_LB_RANDOM ? arc4random() : 0, &p2);
	k = k < 0 ? -1 : (int)map[k];
	free(sub);
	free(zero);
	free(map);
	return k;
}

int
wrk_ups_pick_host(int ci, struct shm_host *host,
    const struct wrk_tried *avoid, const uint64_t *hash)
{
	const struct cd_cluster *cl = &wrk.w_conf->c_clusters[ci];
	struct wrk_cluster *wc = &wrk.w_clusters[ci];
	struct shm_cluster *sc = WRK_SHM_CL(ci);
	uint32_t *flags, i, rnd = 0;
	bool panic;
	int idx, other;

	ups_refresh(ci, wc);
	flags = wc->wc_flags;
	for (i = 0; i < wc->wc_n; i++)
		flags[i] = atomic_load_explicit(&shm_cl_hosts(sc)[i].sh_flags,
		    memory_order_relaxed);
	if (cl->cl_lb == CD_LB_RANDOM)
		rnd = arc4random();
	if (cl->cl_lb == CD_LB_ROUND_ROBIN || cl->cl_lb == CD_LB_RANDOM)
		idx = wrk_router_pick_host(wc->wc_hosts, flags, wc->wc_n,
		    cl->cl_panic_threshold, cl->cl_lb, wc->wc_rr++, rnd,
		    &panic);
	else
		idx = wrk_lb_pick(cl, &wc->wc_lb, wc->wc_seq, wc->wc_hosts,
		    flags, wc->wc_n, hash, wrk.w_shm, WRK_SHM_CI(ci), &panic);
	if (panic)
		WRK_CC(ci, CC_LB_HEALTHY_PANIC);
	/* like Envoy's previous_hosts predicate: another host if there is
	 * one, else the one tried before */
	if (idx >= 0 && wc->wc_n > 1 &&
	    wrk_tried_has(avoid, wc->wc_hosts[idx].sh_id) &&
	    (other = ups_pick_other(cl, wc, panic, avoid)) >= 0)
		idx = other;
	if (idx >= 0)
		*host = wc->wc_hosts[idx];
	return idx;
}

static socklen_t
ups_sockaddr(const struct shm_host *h, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (h->sh_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(h->sh_port);
		memcpy(&s6->sin6_addr, h->sh_addr, 16);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(h->sh_port);
		memcpy(&s4->sin_addr, h->sh_addr, 4);
		return sizeof(*s4);
	}
}

/* Take u off its pool (it becomes BUSY, or is about to be closed). */
static void
ups_unpool(struct wrk_ups *u)
{
	struct wrk_cluster *wc = &wrk.w_clusters[u->u_cluster];

	LIST_REMOVE(u, u_entry);
	wc->wc_pools[u->u_pidx].hp_nidle--;
	wc->wc_nidle--;
	ups_nidle--;
	u->u_state = UPS_S_BUSY;
}

void
wrk_ups_owner_init(struct wrk_ups_owner *o, const struct wrk_ups_cb *cb,
    void *data)
{
	o->uo_cb = cb;
	o->uo_data = data;
	o->uo_flags = 0;
}

/* No slot for o: wait on cluster ci's queue, counted once per wait. */
static void
ups_wait(struct wrk_ups_owner *o, int ci, uint32_t host_id)
{
	if (!(o->uo_flags & UPS_O_OVERFLOW)) {
		WRK_CC(ci, CC_CX_OVERFLOW);
		o->uo_flags |= UPS_O_OVERFLOW;
	}
	if (!(o->uo_flags & UPS_O_WAITING)) {
		TAILQ_INSERT_TAIL(&wrk.w_clusters[ci].wc_wait, o, uo_wait);
		o->uo_cluster = (uint32_t)ci;
		o->uo_flags |= UPS_O_WAITING;
	}
	o->uo_host_id = host_id;
}

void
wrk_ups_unwait(struct wrk_ups_owner *o)
{
	if (o->uo_flags & UPS_O_WAITING)
		TAILQ_REMOVE(&wrk.w_clusters[o->uo_cluster].wc_wait, o,
		    uo_wait);
	o->uo_flags &= ~(UPS_O_WAITING | UPS_O_OVERFLOW);
}

/*
 * A connection of cluster ci to host host_id is about to be pooled: true
 * when an owner of this worker waits for a slot of the cluster.  The
 * first that wants that host is woken, else the oldest; *same says which
 * (pool the connection: it will take it; or close it, so its slot goes
 * to the waiting owner).
 */
static bool
ups_wake(int ci, uint32_t host_id, bool *same)
{
	struct wrk_ups_waitq *q = &wrk.w_clusters[ci].wc_wait;
	struct wrk_ups_owner *o, *first;

	if ((first = TAILQ_FIRST(q)) == NULL)
		return false;
	TAILQ_FOREACH(o, q, uo_wait)
		if (o->uo_host_id == host_id)
			break;
	*same = o != NULL;
	if (o == NULL)
		o = first;
	o->uo_cb->uc_wake(o->uo_data);
	return true;
}

struct wrk_ups *
wrk_ups_pooled(struct wrk_ups_owner *o, int ci, int hidx,
    const struct shm_host *host)
{
	struct wrk_cluster *wc = &wrk.w_clusters[ci];
	struct wrk_ups *u;

	if ((uint32_t)hidx >= wc->wc_n ||
	    wc->wc_pools[hidx].hp_id != host->sh_id ||
	    (u = LIST_FIRST(&wc->wc_pools[hidx].hp_idle)) == NULL)
		return NULL;
	wrk_ups_unwait(o);
	ups_unpool(u);
	u->u_owner = o;
	u->u_nreq++;
	return u;
}

/* Close one of this worker's idle connections of cluster ci to a host
 * other than host_id, if it has one, to free its connection slot. */
static bool
ups_close_idle_other(int ci, uint32_t host_id)
{
	struct wrk_cluster *wc = &wrk.w_clusters[ci];
	struct wrk_ups *u;
	uint32_t i;

	if (wc->wc_nidle == 0)
		return false;
	for (i = 0; i < wc->wc_n; i++) {
		if (wc->wc_pools[i].hp_id == host_id ||
		    (u = LIST_FIRST(&wc->wc_pools[i].hp_idle)) == NULL)
			continue;
		wrk_ups_close(u, false);
		return true;
	}
	return false;
}

/*
 * A non-blocking socket connecting to host; -1 with errno when socket()
 * or connect() failed at once.
 */
static int
ups_socket(int ci, int hidx, const struct shm_host *host)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1, saved;

	sslen = ups_sockaddr(host, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (wrk_addr_loopback((struct sockaddr *)&ss))
		wrk_sock_local(fd);	/* before connect: the window scale
					 * it offers fits the buffer */
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1 &&
	    errno != EINPROGRESS) {
		saved = errno;
		close(fd);
		/* an attempt all the same: count it like a late failure */
		WRK_CC(ci, CC_CX_TOTAL);
		WRK_CC(ci, CC_CX_HTTP1_TOTAL);
		WRK_HOC(ci, hidx, HOC_CX_TOTAL);
		WRK_CC(ci, CC_CX_CONNECT_FAIL);
		WRK_HOC(ci, hidx, HOC_CX_CONNECT_FAIL);
		WRK_CC(ci, CC_CX_DESTROY);
		WRK_CC(ci, CC_CX_DESTROY_REMOTE);
		errno = saved;
		return -1;
	}
	return fd;
}

enum cd_rc
wrk_ups_connect(struct wrk_ups_owner *o, int ci, int hidx,
    const struct shm_host *host, struct wrk_ups **up, int *err)
{
	const struct cd_cluster *cl = &wrk.w_conf->c_clusters[ci];
	struct wrk_breaker_hold bh = { 0, 0 };
	struct wrk_ups *u = NULL;
	int fd;

	*up = NULL;
	if (!wrk_breaker_hold_take(&bh, ci, SHM_CB_CX) &&
	    (!ups_close_idle_other(ci, host->sh_id) ||
	    !wrk_breaker_hold_take(&bh, ci, SHM_CB_CX))) {
		ups_wait(o, ci, host->sh_id);
		return CD_AGAIN;
	}
	wrk_ups_unwait(o);
	if ((fd = ups_socket(ci, hidx, host)) == -1 ||
	    (u = wrk_slab_get(&ups_slab)) == NULL ||
	    wrk_ev_add(&u->u_ev, fd, ups_event) == -1) {
		*err = fd != -1 && u == NULL ? ENOMEM : errno;
		if (fd != -1)
			close(fd);
		if (u != NULL)
			wrk_slab_put(&ups_slab, u);
		(void)wrk_breaker_hold_give(&bh, SHM_CB_CX);
		return CD_ERR;
	}
	u->u_bh = bh;
	u->u_state = UPS_S_CONNECTING;
	u->u_cluster = (uint32_t)ci;
	u->u_hidx = (uint32_t)hidx;
	u->u_host_id = host->sh_id;
	u->u_nreq = 1;
	u->u_owner = o;
	u->u_since = wrk.w_now;
	wrk_timer_init(&u->u_timer, ups_timer);
	wrk_timer_set(&u->u_timer, wrk.w_now +
	    wrk_ns_ms(cl->cl_connect_timeout));
	ups_open++;
	WRK_CC(ci, CC_CX_TOTAL);
	WRK_CC(ci, CC_CX_HTTP1_TOTAL);
	WRK_CG(ci, CG_CX_ACTIVE, 1);
	WRK_HOC(ci, hidx, HOC_CX_TOTAL);
	WRK_HOG(ci, hidx, HOG_CX_ACTIVE, 1);
	*up = u;
	return CD_OK;
}

/* Cluster ci is at max_connections and some request, in any worker,
 * waits for a connection: an idle connection only keeps a slot from it. */
static bool
ups_saturated(int ci)
{
	return wrk_breaker_full(ci, SHM_CB_CX) &&
	    wrk_breaker_used(ci, SHM_CB_PENDING) > 0;
}

static void
ups_watch_arm(void)
{
	if (ups_nidle > 0 && !wrk_timer_is_armed(&ups_watch))
		wrk_timer_set(&ups_watch, wrk.w_now + UPS_WATCH_MS);
}

/* Give the slots of idle connections to requests waiting elsewhere. */
static void
ups_watch_fire(struct wrk_timer *t)
{
	struct wrk_cluster *wc;
	struct wrk_ups *u;
	uint32_t i, want;
	size_t ci;

	(void)t;
	for (ci = 0; ci < wrk.w_conf->c_nclusters && ups_nidle > 0; ci++) {
		wc = &wrk.w_clusters[ci];
		if (wc->wc_nidle == 0 || !ups_saturated((int)ci))
			continue;
		want = wrk_breaker_used((int)ci, SHM_CB_PENDING);
		for (i = 0; i < wc->wc_n && want > 0; i++)
			while (want > 0 && (u = LIST_FIRST(
			    &wc->wc_pools[i].hp_idle)) != NULL) {
				wrk_ups_close(u, false);
				want--;
			}
	}
	ups_watch_arm();
}

void
wrk_ups_release(struct wrk_ups *u)
{
	const struct cd_cluster *cl = &wrk.w_conf->c_clusters[u->u_cluster];
	struct wrk_cluster *wc = &wrk.w_clusters[u->u_cluster];
	struct wrk_hpool *hp = NULL;
	uint64_t idle = wrk_ns_ms(cl->cl_idle_timeout);
	uint32_t i;
	bool same;

	u->u_owner = NULL;
	if (wrk.w_draining) {
		wrk_ups_close(u, false);
		return;
	}
	/* a request here waits for a slot: pool it for that request if it
	 * wants this host, else free the slot; nobody here waits but the
	 * cluster is full and someone elsewhere does: free the slot */
	if (ups_wake(u->u_cluster, u->u_host_id, &same) ? !same :
	    ups_saturated(u->u_cluster)) {
		wrk_ups_close(u, false);
		return;
	}
	if (u->u_hidx < wc->wc_n && wc->wc_pools[u->u_hidx].hp_id ==
	    u->u_host_id) {
		i = u->u_hidx;
		hp = &wc->wc_pools[i];
	} else {
		for (i = 0; i < wc->wc_n; i++)
			if (wc->wc_pools[i].hp_id == u->u_host_id) {
				hp = &wc->wc_pools[i];
				break;
			}
	}
	if (hp == NULL || hp->hp_nidle >= UPS_POOL_MAX) {
		wrk_ups_close(u, false);
		return;
	}
	u->u_state = UPS_S_IDLE;
	u->u_pidx = i;
	LIST_INSERT_HEAD(&hp->hp_idle, u, u_entry);
	hp->hp_nidle++;
	wc->wc_nidle++;
	ups_nidle++;
	ups_watch_arm();
	u->u_since = wrk.w_now;
	/* lazy: an armed timer (earlier deadline) re-checks when it fires */
	if (idle > 0 && !wrk_timer_is_armed(&u->u_timer))
		wrk_timer_set(&u->u_timer, wrk.w_now + idle);
}

void
wrk_ups_close(struct wrk_ups *u, bool remote)
{
	int ci = u->u_cluster;

	if (u->u_state == UPS_S_CLOSED)
		return;
	if (u->u_state == UPS_S_IDLE)
		ups_unpool(u);	/* BUSY without a request now */
	if (u->u_state == UPS_S_BUSY && u->u_owner != NULL)
		WRK_CC(ci, CC_CX_DESTROY_WITH_ACTIVE_RQ);
	(void)wrk_breaker_hold_give(&u->u_bh, SHM_CB_CX);
	wrk_timer_del(&u->u_timer);
	close(u->u_ev.ev_fd);
	u->u_ev.ev_fd = -1;
	WRK_CC(ci, CC_CX_DESTROY);
	WRK_CC(ci, remote ? CC_CX_DESTROY_REMOTE : CC_CX_DESTROY_LOCAL);
	WRK_CG(ci, CG_CX_ACTIVE, -1);
	WRK_HOG(ci, u->u_hidx, HOG_CX_ACTIVE, -1);
	ups_open--;
	u->u_state = UPS_S_CLOSED;
	u->u_owner = NULL;
	LIST_INSERT_HEAD(&ups_dead, u, u_entry);
}

void
wrk_ups_close_idle(void)
{
	size_t ci;
	uint32_t i;
	struct wrk_ups *u;

	for (ci = 0; ci < wrk.w_conf->c_nclusters; ci++) {
		struct wrk_cluster *wc = &wrk.w_clusters[ci];

		for (i = 0; i < wc->wc_n; i++)
			while ((u = LIST_FIRST(&wc->wc_pools[i].hp_idle)) !=
			    NULL)
				wrk_ups_close(u, false);
	}
}

void
wrk_ups_reap(void)
{
	struct wrk_ups *u;

	while ((u = LIST_FIRST(&ups_dead)) != NULL) {
		LIST_REMOVE(u, u_entry);
		wrk_slab_put(&ups_slab, u);
	}
}

uint32_t
wrk_ups_count(void)
{
	return ups_open;
}

static void
ups_connect_failed(struct wrk_ups *u, int err, bool timeout)
{
	struct wrk_ups_owner *o = u->u_owner;
	int ci = u->u_cluster;

	if (timeout)
		WRK_CC(ci, CC_CX_CONNECT_TIMEOUT);
	WRK_CC(ci, CC_CX_CONNECT_FAIL);
	WRK_HOC(ci, u->u_hidx, HOC_CX_CONNECT_FAIL);
	u->u_owner = NULL;
	wrk_ups_close(u, !timeout);
	o->uo_cb->uc_failed(o->uo_data, timeout ? 0 : err);
}

static void
ups_timer(struct wrk_timer *t)
{
	struct wrk_ups *u = UPS_OF_TIMER(t);
	const struct cd_cluster *cl = &wrk.w_conf->c_clusters[u->u_cluster];
	uint64_t idle;

	switch (u->u_state) {
	case UPS_S_CONNECTING:
		log_debug("upstream %s: connect timeout", cl->cl_name);
		ups_connect_failed(u, ETIMEDOUT, true);
		break;
	case UPS_S_IDLE:
		idle = wrk_ns_ms(cl->cl_idle_timeout);
		if (idle == 0)
			break;
		if (wrk.w_now - u->u_since >= idle) {
			WRK_CC(u->u_cluster, CC_CX_IDLE_TIMEOUT);
			wrk_ups_close(u, false);
		} else
			wrk_timer_set(t, u->u_since + idle);
		break;
	default:
		/* busy: wrk_ups_release() re-arms */
		break;
	}
}

static void
ups_event(struct wrk_ev *ev, uint32_t events)
{
	struct wrk_ups *u = UPS_OF_EV(ev);
	char junk[64];
	socklen_t len;
	ssize_t n;
	int err;

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev->ev_rready = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev->ev_rdhup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ev->ev_wready = 1;
	switch (u->u_state) {
	case UPS_S_CONNECTING:
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		err = 0;
		len = sizeof(err);
		if (getsockopt(ev->ev_fd, SOL_SOCKET, SO_ERROR, &err, &len) ==
		    -1)
			err = errno;
		if (err != 0) {
			log_debug("upstream %s: connect: %s",
			    wrk.w_conf->c_clusters[u->u_cluster].cl_name,
			    strerror(err));
			ups_connect_failed(u, err, false);
			return;
		}
		u->u_state = UPS_S_BUSY;
		u->u_owner->uo_cb->uc_ready(u->u_owner->uo_data);
		return;
	case UPS_S_BUSY:
		u->u_owner->uo_cb->uc_event(u->u_owner->uo_data, events);
		return;
	case UPS_S_IDLE:
		if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
		/* a pooled connection has nothing to say: it is closing */
		n = read(ev->ev_fd, junk, sizeof(junk));
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			ev->ev_rready = 0;
			return;
		}
		if (n > 0)
			WRK_CC(u->u_cluster, CC_CX_PROTOCOL_ERROR);
		wrk_ups_close(u, n <= 0);
		return;
	default:
		return;
	}
}
