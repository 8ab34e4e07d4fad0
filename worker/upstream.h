/*
 * Upstream side of the worker: the per-cluster copy of the host list
 * from shm, host picking, keep-alive pools keyed by (cluster, sh_id) so a
 * DNS change never reuses a connection to a vanished address, and the
 * non-blocking connect under the cluster's connect_timeout.
 *
 * A connection is CONNECTING (for one request), BUSY (a request owns it),
 * or IDLE (in its host's pool, LIFO, with a lazily armed idle timer).
 * Proxying bytes on a BUSY connection is the request's business
 * (worker/conn.c); this module only reports its events.
 */
#ifndef CANARYD_WORKER_UPSTREAM_H
#define CANARYD_WORKER_UPSTREAM_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/shm-t.h"
#include "timer.h"
#include "wrk.h"

enum ups_state {
	UPS_S_CONNECTING,	/* connect in progress, for u_req */
	UPS_S_BUSY,		/* u_req is using it */
	UPS_S_IDLE,		/* pooled, keep-alive */
	UPS_S_CLOSED,		/* terminal, waiting to be freed */
};

struct wrk_req;

/* u_flags */
#define UPS_F_CB_CX	0x01	/* holds a max_connections unit */

struct wrk_ups {
	struct wrk_ev		 u_ev;
	uint8_t			 u_state;	/* enum ups_state */
	uint8_t			 u_pidx;	/* pool index while IDLE */
	uint8_t			 u_flags;	/* UPS_F_* */
	uint16_t		 u_cluster;
	uint16_t		 u_hidx;	/* host index its gauges went to */
	uint32_t		 u_host_id;	/* sh_id */
	uint32_t		 u_nreq;	/* requests attached so far */
	struct wrk_timer	 u_timer;	/* connect timeout, then idle */
	uint64_t		 u_since;	/* ms: connect start or idle since */
	struct wrk_req		*u_req;
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
	struct shm_host		 wc_hosts[CD_MAX_HOSTS];
	struct wrk_hpool	 wc_pools[CD_MAX_HOSTS];
};

/* Allocate wrk.w_clusters; 0 or -1. */
int		 wrk_ups_init(void);

/*
 * Choose a host of cluster ci for a request: refresh the copy of the
 * host list if shm changed, apply health, panic and the lb policy.
 * Returns the host index, *host receives a copy; -1 when no host can be
 * used (counted by the caller as upstream_cx_none_healthy).  avoid is a
 * bit mask of host indices already tried (retries): while the cluster
 * offers another host, one of those is picked again only as a last
 * resort.
 */
int		 wrk_ups_pick_host(int ci, struct shm_host *host,
		    uint32_t avoid);

/*
 * The most recently pooled connection to r's chosen host, now BUSY for
 * r, or NULL when there is none.
 */
struct wrk_ups	*wrk_ups_pooled(struct wrk_req *r);

/*
 * A new non-blocking connection to r's chosen host (state CONNECTING;
 * wrk_conn_ups_ready() or wrk_conn_ups_failed() follows from the event
 * loop) under the cluster's max_connections breaker.  NULL with errno
 * EBUSY when the breaker is full even after closing one of this worker's
 * idle connections to another host of the cluster; NULL with another
 * errno when the connect failed at once (counted as a connect failure).
 */
struct wrk_ups	*wrk_ups_connect(struct wrk_req *r);

/*
 * The request is done with a healthy keep-alive connection: pool it --
 * unless a request waits for a connection slot of the cluster and wants
 * another host, or the cluster is at max_connections with requests
 * pending somewhere: then close it so the slot is freed.
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
