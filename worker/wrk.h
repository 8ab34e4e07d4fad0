/*
 * The worker's shared context: the one per-process struct wrk every
 * worker module reads (configuration, shm, the slot it counts into, the
 * loop's clock), the epoll registration its sockets use, and the counter
 * macros that write this worker's shm slot.  Worker process only; the
 * entry point the master calls is worker/worker.h.
 *
 * Types and inline helpers, plus the few functions that set the context
 * up (worker/wrk.c): no module of the data plane is needed to include it,
 * so every one of them may.
 */
#ifndef CANARYD_WORKER_WRK_H
#define CANARYD_WORKER_WRK_H

#include <sys/types.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shared/cd-t.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm.h"
#include "router.h"

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
struct wrk_hm_line;

/*
 * One listener as this worker runs it: its socket, its route table, the
 * limits its connection manager sets, and its counters in our slot.
 * Every downstream connection points at the one it came in on.
 */
struct wrk_lsn {
	struct wrk_ev		 ls_ev;		/* the listening socket */
	const struct cd_listener *ls_l;
	struct shm_http_ctr	*ls_http;	/* our slot's record of it */
	int			 ls_tag;	/* its record: the access log
						 * tags (shared/alog.h) */
	uint32_t		 ls_nconns;	/* its connections open here */
	struct wrk_router	 ls_router;
	uint16_t		 ls_maxhdrs;	/* request headers allowed */
	uint32_t		 ls_hdr_limit;	/* request header bytes allowed */
	bool			 ls_local;	/* bound to a loopback address:
						 * every client is on this host */
	const char		*ls_server;	/* server header value */
	size_t			 ls_server_len;
	/* its manager's timeouts in ms, 0: off (worker/conn.c) */
	uint64_t		 ls_to_idle, ls_to_head, ls_to_request,
				 ls_to_stream;
};

/* Per-process worker state. */
struct wrk {
	const struct cd_conf	*w_conf;
	const struct cd_place	*w_place;	/* wa_place */
	struct wrk_lsn		*w_lsn;		/* w_nlsn, wrk_setup()'s */
	size_t			 w_nlsn;
	size_t			 w_nlfd;	/* listening sockets still open */
	struct shm		*w_shm;
	struct shm_worker	*w_slot;	/* our counters */
	int			 w_index;
	int			 w_epfd;
	uint64_t		 w_now;		/* monotonic ms, once per turn */
	time_t			 w_now_s;	/* realtime seconds, for date */
	bool			 w_draining;
	uint32_t		 w_nconns;	/* downstream connections open */
	uint32_t		 w_next_id;	/* connection ids for logs */
	struct wrk_split_cache	*w_splits;	/* h_nsplits entries */
	struct wrk_cluster	*w_clusters;	/* c_nclusters entries */
	uint16_t		 w_hdrcap;	/* header slots per request: the
						 * most any listener allows */
	char			*w_scratch;	/* route matching copies,
						 * mutated header values */
	size_t			 w_scratch_len;
	struct wrk_hm_line	*w_hm_lines;	/* a mutated head's lines */
	uint32_t		 w_hm_cap;
};

extern struct wrk wrk;

/* Register fd edge-triggered for in, out and peer close; 0 or -1. */
int		 wrk_ev_add(struct wrk_ev *, int fd, wrk_ev_cb *);

/* writev(2), as write(2) when there is one piece: the kernel then
 * imports no iovec array. */
struct iovec;
ssize_t		 wrk_writev(int fd, const struct iovec *, int niov);

/*
 * A peer on this host: loopback moves a byte at memory speed, so a socket
 * buffer only has to cover the time the reader waits for a CPU, and the
 * kernel's autotuning (megabytes) holds a bulk body's bytes long enough
 * to leave the cache before the other side copies them.  Both buffers of
 * such a socket are fixed at WRK_SOCKBUF_LOCAL (the kernel doubles it for
 * its own overhead).  Sockets to other hosts keep autotuning: their
 * buffers have a bandwidth-delay product to cover.
 */
#define WRK_SOCKBUF_LOCAL	(256 * 1024)

struct sockaddr;
/* true for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 */
bool		 wrk_addr_loopback(const struct sockaddr *);
/* Fix fd's send and receive buffers at WRK_SOCKBUF_LOCAL. */
void		 wrk_sock_local(int fd);
/* true when fd is bound to a loopback address */
bool		 wrk_fd_loopback(int fd);

/* Ask the scheduler for a slice of us microseconds (0: keep the
 * kernel's), and log which this worker runs with. */
void		 wrk_sched_slice(int us);

/* Read the clocks into w_now and w_now_s: once per loop turn. */
void		 wrk_clock(void);

/*
 * Size what the listeners' limits ask for (w_conf, w_place, w_slot set):
 * each listener's router and limits, header slots, the buffer free
 * lists, the split caches.  Allocations made once, here; exits when one
 * fails.
 */
void		 wrk_setup(void);

/* A configured duration (ns, <= 0 for unset) in ms, rounded up; 0: off. */
static inline uint64_t
wrk_ns_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (uint64_t)CD_NS_TO_MS_CEIL(ns);
}

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
 * Index of conf cluster ci's records in shm (shm_cl(), the slot's
 * w_cl[]).  It differs from ci after a structural reload, when the master
 * keeps the records of clusters that keep their name; worker-local arrays
 * (w_clusters) stay indexed by ci.
 */
#define WRK_SHM_CI(ci)		(wrk.w_place->pl_cluster[(ci)])
#define WRK_SHM_CL(ci)		(shm_cl(wrk.w_shm, WRK_SHM_CI(ci)))
#define WRK_SLOT_CL(ci)		(&wrk.w_slot->w_cl[WRK_SHM_CI(ci)])

/*
 * A listener's HTTP counters: WRK_LHC and friends name the listener
 * (struct wrk_lsn *), WRK_HC and friends a downstream connection (struct
 * wrk_conn *, worker/conn-int.h), whose listener they count for.
 */
#define WRK_LHC_N(ls, id, n)	wrk_ctr(&(ls)->ls_http->hc_c[(id)], (n))
#define WRK_LHC(ls, id)		WRK_LHC_N(ls, id, 1)
#define WRK_LHG(ls, id, n)	wrk_gauge(&(ls)->ls_http->hc_g[(id)], (n))
#define WRK_HC(c, id)		WRK_LHC((c)->c_lsn, id)
#define WRK_HC_N(c, id, n)	WRK_LHC_N((c)->c_lsn, id, n)
#define WRK_HG(c, id, n)	WRK_LHG((c)->c_lsn, id, n)
/* the listener a connection came in on */
#define WRK_L(c)		((c)->c_lsn->ls_l)
#define WRK_CC(cl, id)		wrk_ctr(&WRK_SLOT_CL(cl)->cc_c[(id)], 1)
#define WRK_CC_N(cl, id, n)	wrk_ctr(&WRK_SLOT_CL(cl)->cc_c[(id)], (n))
#define WRK_CG(cl, id, n)	wrk_gauge(&WRK_SLOT_CL(cl)->cc_g[(id)], (n))
#define WRK_HOST_CTR(cl, h)						\
	shm_host_ctr(wrk.w_shm, wrk.w_slot, WRK_SHM_CL(cl), (uint32_t)(h))
#define WRK_HOC(cl, h, id)						\
	wrk_ctr(&WRK_HOST_CTR(cl, h)->hc_c[(id)], 1)
#define WRK_HOG(cl, h, id, n)						\
	wrk_gauge(&WRK_HOST_CTR(cl, h)->hc_g[(id)], (n))
/* upstream_rq_<code>, retry.upstream_rq_<code> of conf cluster cl */
#define WRK_CODE(cl, code)	shm_code_add(&WRK_SLOT_CL(cl)->cc_code, (code))
#define WRK_RETRY_CODE(cl, code)					\
	shm_retry_code_add(&WRK_SLOT_CL(cl)->cc_retry_code, (code))

#endif /* CANARYD_WORKER_WRK_H */
