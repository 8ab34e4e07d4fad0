/*
 * The worker process: entry point called by the master after fork, and
 * the state every worker module shares (one instance per process).
 *
 * A worker accepts on its own SO_REUSEPORT socket, parses HTTP/1.1,
 * routes, proxies, enforces timeouts and counts into its own shm slot, in
 * one epoll loop that never blocks.  It learns only from the inherited
 * configuration and shm.  Exit status: 0 drained or told to quit,
 * 1 please respawn, 2 do not respawn (a bad worker slot).
 */
#ifndef CANARYD_WORKER_WORKER_H
#define CANARYD_WORKER_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "shared/cd-t.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"
#include "router.h"

struct wrk_args {
	const struct cd_conf	*wa_conf;
	const struct cd_place	*wa_place;	/* conf's shm records */
	struct shm		*wa_shm;
	int			 wa_slot;	/* index into shm->slots, this worker's counters */
	int			 wa_index;	/* worker number, for logs */
	int			 wa_listen_fd;	/* its own SO_REUSEPORT socket, non-blocking, listening */
	uint64_t		 wa_drain_ms;	/* --drain-time-s: bound on a drain */
};

/* Run the worker; never returns.  Master only calls it after fork. */
_Noreturn void	 wrk_main(const struct wrk_args *);

/*
 * An epoll registration.  Sockets are registered once, edge-triggered for
 * reading and writing; ev_rready / ev_wready remember that the socket may
 * have more to read / room to write, and are cleared when a syscall says
 * EAGAIN (or reads short), so no syscall is made only to learn that.
 */
struct wrk_ev;
typedef void wrk_ev_cb(struct wrk_ev *, uint32_t events);

struct wrk_ev {
	wrk_ev_cb	*ev_cb;
	int		 ev_fd;
	uint8_t		 ev_rready;
	uint8_t		 ev_wready;
	uint8_t		 ev_rdhup;	/* peer closed: reads end in EOF */
};

/*
 * A read returned less than asked: the socket is drained, no need to
 * read until the next edge -- unless the peer's FIN came with the data,
 * which brings no further edge, so read on to see the EOF.
 */
static inline void
wrk_ev_short_read(struct wrk_ev *ev)
{
	if (!ev->ev_rdhup)
		ev->ev_rready = 0;
}

struct wrk_cluster;

/* Per-process worker state. */
struct wrk {
	const struct cd_conf	*w_conf;
	const struct cd_place	*w_place;	/* wa_place */
	const struct cd_listener *w_l;
	struct shm		*w_shm;
	struct shm_worker	*w_slot;	/* our counters */
	int			 w_index;
	int			 w_epfd;
	int			 w_lfd;		/* listening socket */
	uint64_t		 w_now;		/* monotonic ms, once per turn */
	time_t			 w_now_s;	/* realtime seconds, for date */
	bool			 w_draining;
	uint32_t		 w_nconns;	/* downstream connections open */
	uint32_t		 w_next_id;	/* connection ids for logs */
	struct wrk_router	 w_router;
	struct wrk_split_cache	*w_splits;	/* CD_MAX_SPLITS entries */
	struct wrk_cluster	*w_clusters;	/* c_nclusters entries */
	uint16_t		 w_maxhdrs;	/* request headers allowed */
	uint16_t		 w_hdrcap;	/* header slots per request */
	uint32_t		 w_hdr_limit;	/* request header bytes allowed */
	char			*w_scratch;	/* route matching copies */
	size_t			 w_scratch_len;
	const char		*w_server;	/* server header value */
	size_t			 w_server_len;
};

extern struct wrk wrk;

/* Register fd edge-triggered for in, out and peer close; 0 or -1. */
int		 wrk_ev_add(struct wrk_ev *, int fd, wrk_ev_cb *);

/*
 * Counters.  Each field of a slot has one writer, this process, so a
 * relaxed load and store suffice (no locked instruction on the hot path);
 * readers in the master still see whole values.
 */
static inline void
wrk_ctr(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void
wrk_gauge(_Atomic int64_t *g, int64_t n)
{
	atomic_store_explicit(g, atomic_load_explicit(g,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

/*
 * Index of conf cluster ci's records in shm (shm->clusters[], the slot's
 * w_cl[]).  It differs from ci after a structural reload, when the master
 * keeps the records of clusters that keep their name; worker-local arrays
 * (w_clusters) stay indexed by ci.
 */
#define WRK_SHM_CI(ci)		(wrk.w_place->pl_cluster[(ci)])
#define WRK_SHM_CL(ci)		(&wrk.w_shm->clusters[WRK_SHM_CI(ci)])
#define WRK_SLOT_CL(ci)		(&wrk.w_slot->w_cl[WRK_SHM_CI(ci)])

#define WRK_HC(id)		wrk_ctr(&wrk.w_slot->w_http_c[(id)], 1)
#define WRK_HC_N(id, n)		wrk_ctr(&wrk.w_slot->w_http_c[(id)], (n))
#define WRK_HG(id, n)		wrk_gauge(&wrk.w_slot->w_http_g[(id)], (n))
#define WRK_CC(cl, id)		wrk_ctr(&WRK_SLOT_CL(cl)->cc_c[(id)], 1)
#define WRK_CC_N(cl, id, n)	wrk_ctr(&WRK_SLOT_CL(cl)->cc_c[(id)], (n))
#define WRK_CG(cl, id, n)	wrk_gauge(&WRK_SLOT_CL(cl)->cc_g[(id)], (n))
#define WRK_HOC(cl, h, id)						\
	wrk_ctr(&WRK_SLOT_CL(cl)->cc_host_c[(h)][(id)], 1)
#define WRK_HOG(cl, h, id, n)						\
	wrk_gauge(&WRK_SLOT_CL(cl)->cc_host_g[(h)][(id)], (n))

#endif /* CANARYD_WORKER_WORKER_H */
