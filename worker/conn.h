/*
 * Downstream connections and the requests on them: the state machine
 * that reads a request, routes it, drives the upstream exchange, writes
 * the response (or a local reply, as Envoy words them) and then keeps the
 * connection alive or closes it through one path, wrk_conn_close().
 *
 * Memory: an idle keep-alive connection holds only struct wrk_conn (no
 * buffer, no request); a request takes a struct wrk_req and I/O buffers
 * from the free lists (worker/mem.h) and gives them back when it ends.
 * A request kept for a retry may grow c_in past the large buffer up to
 * the listener's buffer limit (a sized buffer, freed when it ends).
 */
#ifndef CANARYD_WORKER_CONN_H
#define CANARYD_WORKER_CONN_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include "shared/shm-t.h"
#include "shared/http1.h"
#include "breaker.h"
#include "mem.h"
#include "sticky.h"
#include "timer.h"
#include "upstream.h"
#include "wrk.h"

enum conn_state {
	CONN_S_IDLE,		/* keep-alive, waiting for the next request */
	CONN_S_READ_HEAD,	/* reading request line and headers */
	CONN_S_CONNECT,		/* waiting for an upstream connection:
				 * connecting, or for a connection slot */
	CONN_S_PROXY,		/* request attached to an upstream */
	CONN_S_BACKOFF,		/* between attempts: retry back-off */
	CONN_S_REPLY,		/* writing the rest of a response or a reply */
	CONN_S_LINGER,		/* answered, write side shut, draining input */
	CONN_S_CLOSED,		/* terminal, waiting to be freed */
	CONN_S__N
};

/* c_flags */
#define CONN_F_CLOSE	0x01	/* close after the current response */
#define CONN_F_DRAIN	0x02	/* closing because the worker drains */
#define CONN_F_LINKED	0x04	/* on the all-connections list */
#define CONN_F_AGAIN	0x08	/* yielded: on the run-again list */

struct wrk_req;

struct wrk_conn {
	struct wrk_ev		 c_ev;
	uint8_t			 c_state;	/* enum conn_state */
	uint8_t			 c_flags;	/* CONN_F_* */
	uint32_t		 c_id;		/* for logs */
	struct wrk_timer	 c_timer;	/* idle and request head */
	uint64_t		 c_since;	/* ms: idle since / head began */
	struct wrk_buf		*c_in;		/* client bytes; NULL when idle */
	struct wrk_req		*c_req;		/* NULL when idle */
	LIST_ENTRY(wrk_conn)	 c_entry;	/* all, then free-later */
};

/* rq_flags */
#define RQ_F_COUNTED	0x00000001	/* counted in downstream_rq_total */
#define RQ_F_HEAD	0x00000002	/* request head parsed and routed */
#define RQ_F_REQ_DONE	0x00000004	/* request fully received */
#define RQ_F_HEAD_GONE	0x00000008	/* c_in no longer holds the head */
#define RQ_F_BODY_LOST	0x00000010	/* body bytes were dropped after sending */
#define RQ_F_UHEAD_SENT	0x00000020	/* upstream head written */
#define RQ_F_UREQ_SENT	0x00000040	/* whole request written upstream */
#define RQ_F_UPS_NOREUSE 0x00000080	/* upstream connection not poolable */
#define RQ_F_RESP_HEAD	0x00000100	/* response head committed to client */
#define RQ_F_RESP_DONE	0x00000200	/* response fully produced */
#define RQ_F_HEAD_METHOD 0x00000400	/* HEAD request */
#define RQ_F_HTTP10	0x00000800	/* HTTP/1.0 client */
#define RQ_F_RETRIED	0x00001000	/* already retried a stale pooled conn */
#define RQ_F_CHUNKED	0x00004000	/* request body is chunked */
#define RQ_F_UPS_BYTES	0x00008000	/* bytes came from the upstream */
#define RQ_F_UPS_EOF	0x00020000	/* the upstream closed its side */
#define RQ_F_UPS_WSTOP	0x00040000	/* send nothing more upstream */
#define RQ_F_KEEP	0x00080000	/* request kept whole for a retry */
#define RQ_F_NORETRY	0x00100000	/* retries abandoned: body too large */
#define RQ_F_LOGGED	0x01000000	/* access log line written */
#define RQ_F_LOCAL	0x02000000	/* answered by a local reply */
#define RQ_F_FB_WANT	0x10000000	/* retriable failure, no retry left:
					 * the route's fallback may take it */
#define RQ_F_FALLBACK	0x20000000	/* started again on the fallback */

/* rq_al[] slots and rq_al_have bits */
#define RQ_AL_PATH	0
#define RQ_AL_AUTH	1
#define RQ_AL_XFF	2
#define RQ_AL_UA	3
#define RQ_AL_RID	4
#define RQ_AL__N	5

/*
 * Breaker units (rq_bh) and the gauges that go with them: while the
 * request holds its max_pending_requests unit it counts in
 * upstream_rq_pending_active; while it holds its max_requests unit it is
 * attached to a connection and counts in upstream_rq_active (cluster and
 * host); a max_retries unit lasts from a retry's scheduling to the end of
 * its attempt.  (The upstream connection holds the max_connections unit.)
 */

struct wrk_req {
	struct wrk_conn		*rq_conn;
	struct wrk_ups		*rq_ups;
	const struct cd_route	*rq_route;
	int			 rq_cluster;	/* -1 until chosen */
	int			 rq_hidx;	/* -1 until a host is chosen */
	struct shm_host		 rq_host;
	uint32_t		 rq_flags;	/* RQ_F_* */
	uint16_t		 rq_code;	/* status sent to the client */
	uint8_t			 rq_frame;	/* enum wrk_frame */
	uint8_t			 rq_100;	/* "100 Continue" bytes sent */
	uint8_t			 rq_100_want;	/* 1: send one */
	struct wrk_timer	 rq_timer;	/* route/request/stream timeouts */
	uint64_t		 rq_start;	/* ms: first byte */
	uint64_t		 rq_done;	/* ms: request complete, or 0 */
	uint64_t		 rq_done_us;	/* us (monotonic): the same, for
						 * upstream_rq_time, or 0 */
	uint64_t		 rq_io;		/* ms: last progress */
	uint64_t		 rq_route_dl;	/* ms: route timeout, or 0 */
	uint64_t		 rq_req_dl;	/* ms: request_timeout, or 0 */
	uint64_t		 rq_try_dl;	/* ms: per-try timeout, or 0 */
	uint64_t		 rq_backoff_dl;	/* ms: back-off ends, or 0 */
	uint64_t		 rq_wait_dl;	/* ms: look for a slot, or 0 */
	uint32_t		 rq_try_ms;	/* per-try timeout in use */
	uint32_t		 rq_tried;	/* host indices tried (bits) */
	uint16_t		 rq_nretries;	/* retries scheduled */
	struct wrk_ups_owner	 rq_uo;		/* what the pool calls back */
	struct wrk_breaker_hold	 rq_bh;		/* breaker units held */
	uint32_t		 rq_in_parsed;	/* c_in offset parsed up to */
	uint32_t		 rq_in_fwd;	/* c_in offset of next body byte out */
	uint32_t		 rq_head_end;	/* c_in offset of the first body byte */
	uint32_t		 rq_uhead_len;	/* upstream head length in rq_out */
	uint32_t		 rq_uhead_off;	/* upstream head bytes written */
	struct wrk_buf		*rq_out;	/* upstream head, then client head */
	const char		*rq_body;	/* local reply body to write */
	uint32_t		 rq_body_len;
	struct wrk_buf		*rq_uin;	/* upstream bytes; b_off: next
						 * body byte for the client */
	uint32_t		 rq_uin_parsed;
	uint8_t			 rq_rid_len;
	char			 rq_rid[64];	/* x-request-id to echo */
	/* sticky set_cookie: the new key to hand out, "" for none */
	char			 rq_sticky_key[WRK_STICKY_KEY_LEN + 1];
	/*
	 * Access log (only filled while it is on): Envoy's response flags,
	 * the service time, the local reply's body length, and where the
	 * request's logged values are -- slices into c_in's head, or into
	 * rq_al_head, a copy made before c_in drops the head.  rq_al_have
	 * says which slices are set (absent ones print "-").
	 */
	uint32_t		 rq_rflags;	/* enum alog_rf bits */
	uint32_t		 rq_svc_ms1;	/* service time ms + 1; 0: none */
	uint32_t		 rq_local_len;	/* RQ_F_LOCAL: body bytes */
	uint8_t			 rq_al_have;	/* RQ_AL_* */
	struct http1_slice	 rq_al[RQ_AL__N];
	struct wrk_buf		*rq_al_head;
	struct http1	 rq_p;		/* request parser */
	struct http1	 rq_rp;		/* response parser */
	struct http1_hdr		 rq_hdrs[];	/* request, then response headers */
};

/* Size of struct wrk_req with wrk.w_hdrcap header slots. */
size_t		 wrk_conn_req_size(void);
/* Set up free lists; 0 or -1. */
int		 wrk_conn_init(void);

/* Take over an accepted socket: the new connection, IDLE, or NULL (the
 * caller closes fd). */
struct wrk_conn	*wrk_conn_new(int fd);

/* The one way a connection ends: counters, gauges, log, free-later. */
void		 wrk_conn_close(struct wrk_conn *, const char *reason,
		    bool remote);

/* Start draining: every connection closes after its next response. */
void		 wrk_conn_drain(void);
/* The idle grace is over: close the connections still idle. */
void		 wrk_conn_drain_idle(void);

/* Run connections that yielded, then free the ones closed during this
 * loop turn; wrk_conn_pending(): some yielded again (poll, don't wait). */
void		 wrk_conn_reap(void);
bool		 wrk_conn_pending(void);

const char	*wrk_conn_state_name(enum conn_state);

#endif /* CANARYD_WORKER_CONN_H */
