/*
 * Upstream side of the worker: the per-cluster copy of the host list
 * from shm, host picking, keep-alive pools keyed by (cluster, sh_id) so a
 * DNS change never reuses a connection to a vanished address, and the
 * non-blocking connect under the cluster's connect_timeout.
 *
 * A connection is CONNECTING (for one owner), BUSY (an owner uses it),
 * or IDLE (in its host's pool, LIFO, with a lazily armed idle timer).
 * Proxying bytes on a BUSY connection is the owner's business (a request
 * of worker/conn.c); this module only reports its events, through the
 * callbacks the owner registered (struct wrk_ups_owner), never by name.
 *
 * The pool also keeps, per cluster, the owners of this worker waiting for
 * a max_connections slot, oldest first: a connection released here goes
 * to one of them, and each looks again every WRK_UPS_WAIT_MS (another
 * worker may have freed a slot).
 */
#ifndef CANARYD_WORKER_UPSTREAM_H
#define CANARYD_WORKER_UPSTREAM_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include "shared/cd-t.h"
#include "shared/conf-t.h"
#include "shared/shm-t.h"
#include "breaker.h"
#include "lb.h"
#include "timer.h"
#include "wrk.h"

enum ups_state {
	UPS_S_CONNECTING,	/* connect in progress, for u_owner */
	UPS_S_BUSY,		/* u_owner is using it */
	UPS_S_IDLE,		/* pooled, keep-alive */
	UPS_S_CLOSED,		/* terminal, waiting to be freed */
};

/* A waiting owner looks again this often (another worker may have
 * closed a connection of the cluster). */
#define WRK_UPS_WAIT_MS	5

/*
 * What the pool tells the owner of a connection, or of a place in a wait
 * queue; data is the owner's uo_data.  Calls come from the event loop
 * (a socket event or a timer), or from wrk_ups_release() for uc_wake.
 */
struct wrk_ups_cb {
	/* the new connection is up: CONNECTING -> BUSY */
	void	(*uc_ready)(void *data);
	/* the new connection failed (err: errno) or timed out (err 0); the
	 * pool closed it already */
	void	(*uc_failed)(void *data, int err);
	/* the BUSY connection has events */
	void	(*uc_event)(void *data, uint32_t events);
	/* waiting for a slot, one may be free now: look again soon (from a
	 * timer: the caller is not done with its connection yet) */
	void	(*uc_wake)(void *data);
};

/* uo_flags */
#define UPS_O_WAITING	0x01	/* on its cluster's wait queue */
#define UPS_O_OVERFLOW	0x02	/* counted in upstream_cx_overflow */

/*
 * An owner of upstream connections (embedded in a request), as the pool
 * knows it: how to call it, and its place in a wait queue.  From its
 * first wait for a slot to the moment it gets a connection or gives up
 * (wrk_ups_unwait()), it is on the queue of cluster uo_cluster and has
 * been counted once as upstream_cx_overflow.
 */
struct wrk_ups_owner {
	const struct wrk_ups_cb	*uo_cb;
	void			*uo_data;
	TAILQ_ENTRY(wrk_ups_owner) uo_wait;	/* UPS_O_WAITING */
	uint32_t		 uo_host_id;	/* sh_id of the host it wants */
	uint32_t		 uo_cluster;	/* UPS_O_WAITING: whose queue */
	uint8_t			 uo_flags;	/* UPS_O_* */
};

TAILQ_HEAD(wrk_ups_waitq, wrk_ups_owner);

struct wrk_ups {
	struct wrk_ev		 u_ev;
	uint8_t			 u_state;	/* enum ups_state */
	uint32_t		 u_pidx;	/* pool index while IDLE */
	struct wrk_breaker_hold	 u_bh;		/* its max_connections unit */
	uint32_t		 u_cluster;
	uint32_t		 u_hidx;	/* host index its gauges went to */
	uint32_t		 u_host_id;	/* sh_id */
	uint32_t		 u_nreq;	/* requests attached so far */
	struct wrk_timer	 u_timer;	/* connect timeout, then idle */
	uint64_t		 u_since;	/* ms: connect start or idle since */
	struct wrk_ups_owner	*u_owner;	/* CONNECTING, BUSY */
	LIST_ENTRY(wrk_ups)	 u_entry;	/* pool, or free-later list */
};

LIST_HEAD(wrk_ups_list, wrk_ups);

struct wrk_hpool {
	uint32_t		 hp_id;		/* sh_id of the host */
	uint32_t		 hp_nidle;
	struct wrk_ups_list	 hp_idle;	/* most recently used first */
};

/* One cluster as this worker sees it. */
struct wrk_cluster {
	uint32_t		 wc_seq;	/* shm host list sequence copied */
	bool			 wc_valid;
	uint32_t		 wc_n;
	uint64_t		 wc_rr;		/* round robin position */
	uint32_t		 wc_nidle;	/* idle connections, all pools */
	struct wrk_ups_waitq	 wc_wait;	/* owners waiting for a slot */
	struct wrk_lb_table	 wc_lb;		/* RING_HASH, MAGLEV */
	/* wc_cap each (the cluster's host records), allocated when the
	 * cluster is first used: most clusters of a large configuration
	 * never are */
	uint32_t		 wc_cap;
	struct shm_host		*wc_hosts;
	struct wrk_hpool	*wc_pools;
	uint32_t		*wc_flags;	/* sh_flags of one pick */
};

/*
 * The hosts a request tried (retries), by sh_id: the last WRK_TRIED_MAX
 * distinct ones, whatever the cluster's size.  Zeroed: none.
 */
#define WRK_TRIED_MAX	16
struct wrk_tried {
	uint32_t		 t_id[WRK_TRIED_MAX];
	uint32_t		 t_n;		/* ids recorded in all */
};

static inline bool
wrk_tried_has(const struct wrk_tried *t, uint32_t id)
{
	uint32_t i, n;

	if (t == NULL)
		return false;
	n = t->t_n < WRK_TRIED_MAX ? t->t_n : WRK_TRIED_MAX;
	for (i = 0; i < n; i++)
		if (t->t_id[i] == id)
			return true;
	return false;
}

static inline void
wrk_tried_add(struct wrk_tried *t, uint32_t id)
{
	if (!wrk_tried_has(t, id))
		t->t_id[t->t_n++ % WRK_TRIED_MAX] = id;
}

/* Allocate wrk.w_clusters; 0 or -1. */
int		 wrk_ups_init(void);

/*
 * Choose a host of cluster ci for a request: refresh the copy of the
 * host list if shm changed, apply health, panic and the lb policy.
 * Returns the host index, *host receives a copy; -1 when no host can be
 * used (counted by the caller as upstream_cx_none_healthy).  avoid: the
 * hosts already tried (retries), or NULL: while the cluster offers
 * another host, one of those is picked again only as a last resort.  hash: the request's hash_policy value for a hashing
 * balancer, or NULL.
 */
int		 wrk_ups_pick_host(int ci, struct shm_host *host,
		    const struct wrk_tried *avoid, const uint64_t *hash);

/* Set up an owner (once): its callbacks and what they are passed. */
void		 wrk_ups_owner_init(struct wrk_ups_owner *,
		    const struct wrk_ups_cb *, void *data);

/*
 * The most recently pooled connection to host (index hidx) of cluster
 * ci, now BUSY for o, or NULL when there is none.  o leaves the wait
 * queue when it gets one.
 */
struct wrk_ups	*wrk_ups_pooled(struct wrk_ups_owner *o, int ci, int hidx,
		    const struct shm_host *host);

/*
 * A new non-blocking connection to host (index hidx) of cluster ci under
 * the cluster's max_connections breaker, for o:
 *   CD_OK     *up is CONNECTING; uc_ready or uc_failed follows;
 *   CD_AGAIN  no slot, even after closing one of this worker's idle
 *             connections to another host of the cluster: o waits on the
 *             cluster's queue (counted once as upstream_cx_overflow) for
 *             uc_wake, or looks again after WRK_UPS_WAIT_MS;
 *   CD_ERR    the connect failed at once (counted as a connect failure),
 *             *err says why.
 * o leaves the wait queue unless the answer is CD_AGAIN.
 */
enum cd_rc	 wrk_ups_connect(struct wrk_ups_owner *o, int ci, int hidx,
		    const struct shm_host *host, struct wrk_ups **up, int *err);

/* o no longer waits for a slot (it is done, or gave up); no-op when it
 * does not wait. */
void		 wrk_ups_unwait(struct wrk_ups_owner *o);

/*
 * The owner is done with a healthy keep-alive connection: pool it --
 * unless an owner waits for a connection slot of the cluster and wants
 * another host, or the cluster is at max_connections with requests
 * pending somewhere: then close it so the slot is freed.  A waiting
 * owner that wants this host is woken to take it.
 */
void		 wrk_ups_release(struct wrk_ups *);

/* Close a connection; remote: the peer ended it (for the counters). */
void		 wrk_ups_close(struct wrk_ups *, bool remote);

/* Drain: close every pooled connection. */
void		 wrk_ups_close_idle(void);

/* Free connections closed during this loop turn (stale events are gone). */
void		 wrk_ups_reap(void);

/* Connections open (tests, drain). */
uint32_t	 wrk_ups_count(void);

#endif /* CANARYD_WORKER_UPSTREAM_H */
