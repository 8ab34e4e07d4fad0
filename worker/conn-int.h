/*
 * The connection module's own header: its types and the functions its
 * files share.  Only worker/conn*.c (and their unit test) include it;
 * the rest of the worker sees conn.h.
 *
 * One request at a time per connection.  Its bytes move in place:
 *   client -> c_in: head parsed into slices, then body bytes go upstream
 *                   straight from c_in (framing passes through);
 *   rq_out:         the upstream head we write, later the client head (or
 *                   a local reply, or re-framed body chunks);
 *   upstream -> rq_uin: response head parsed into slices, body bytes go
 *                   to the client straight from rq_uin.
 * Backpressure: a side is read only while the buffer it fills has room,
 * and room appears only as the other side drains it.
 *
 * Retries (worker/retry.h): a request whose route may retry keeps its
 * whole body in c_in (RQ_F_KEEP, growing c_in up to the listener's buffer
 * limit) and its upstream head in rq_out, so an attempt that fails before
 * any response byte went to the client can be replayed on a new
 * connection after a back-off (CONN_S_BACKOFF).  Circuit breakers
 * (worker/breaker.h) are taken around each attempt: max_pending_requests
 * while it waits for a connection, max_requests while attached,
 * max_retries from a retry's scheduling to the end of its attempt; a
 * request that finds max_connections full waits on its cluster's queue
 * in the pool (worker/upstream.h) and looks again every WRK_UPS_WAIT_MS
 * or when the pool wakes it.
 *
 * The files, one phase each:
 *   conn.c          states, set-up and teardown, the one close path, the
 *                   run loop, timers
 *   conn_head.c     reading the request head; check, route, upstream head
 *   conn_attempt.c  connections for an attempt, the pool's callbacks,
 *                   retries, fallback, failed attempts
 *   conn_resp.c     the response head and its parse
 *   conn_body.c     bytes both ways and the pump
 *   conn_reply.c    local replies
 *   conn_log.c      the access log line
 *
 * Invariants: c_state changes only in conn_set_state(); a connection ends
 * only in wrk_conn_close(); every gauge and breaker unit taken for a
 * request is given back exactly once (RQ_F_COUNTED and the units of
 * rq_bh say which are held), whatever path ends it; the client sees at
 * most one response head per request, and w_http_code counts exactly
 * those heads.
 */
#ifndef CANARYD_WORKER_CONN_INT_H
#define CANARYD_WORKER_CONN_INT_H

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>

#include "shared/alog.h"
#include "shared/cd-t.h"
#include "shared/clock.h"
#include "shared/http1.h"
#include "shared/shm-t.h"
#include "breaker.h"
#include "hdr.h"
#include "mem.h"
#include "retry.h"
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
	CONN_S_TUNNEL,		/* upgraded (101): bytes both ways, as they
				 * are, until both sides are done */
	CONN_S_CLOSED,		/* terminal, waiting to be freed */
	CONN_S__N
};

/* c_flags */
#define CONN_F_CLOSE	0x01	/* close after the current response */
#define CONN_F_DRAIN	0x02	/* the worker drains: the last response
				 * says connection: close (conn_conn_hdr) */
#define CONN_F_LINKED	0x04	/* on the all-connections list */
#define CONN_F_AGAIN	0x08	/* yielded: on the run-again list */
#define CONN_F_IO_UPS	0x10	/* c_ioq is on the upstream's socket */
#define CONN_F_IO_READ	0x20	/* c_ioq reads (else it writes) */

struct wrk_req;
struct conn_alx;
struct wrk_shadow;
struct conn_gz;

struct wrk_conn {
	struct wrk_ev		 c_ev;
	uint8_t			 c_state;	/* enum conn_state */
	uint8_t			 c_flags;	/* CONN_F_* */
	uint16_t		 c_ioq;		/* its queued read or write's
						 * ticket (worker/ioq.h), or 0 */
	struct wrk_lsn		*c_lsn;		/* the listener it came in on */
	uint32_t		 c_id;		/* for logs */
	uint32_t		 c_nreq;	/* requests begun on it */
	struct wrk_timer	 c_timer;	/* idle and request head */
	uint64_t		 c_since;	/* ms: idle since / head began */
	struct wrk_buf		*c_in;		/* client bytes; NULL when idle */
	struct wrk_req		*c_req;		/* NULL when idle */
	LIST_ENTRY(wrk_conn)	 c_entry;	/* all, then free-later */
};

/* rq_flags */
#define RQ_F_COUNTED	UINT64_C(0x00000001)	/* counted in downstream_rq_total */
#define RQ_F_HEAD	UINT64_C(0x00000002)	/* request head parsed and routed */
#define RQ_F_REQ_DONE	UINT64_C(0x00000004)	/* request fully received */
#define RQ_F_HEAD_GONE	UINT64_C(0x00000008)	/* c_in no longer holds the head */
#define RQ_F_BODY_LOST	UINT64_C(0x00000010)	/* body bytes were dropped after sending */
#define RQ_F_UHEAD_SENT	UINT64_C(0x00000020)	/* upstream head written */
#define RQ_F_UREQ_SENT	UINT64_C(0x00000040)	/* whole request written upstream */
#define RQ_F_UPS_NOREUSE UINT64_C(0x00000080)	/* upstream connection not poolable */
#define RQ_F_RESP_HEAD	UINT64_C(0x00000100)	/* response head committed to client */
#define RQ_F_RESP_DONE	UINT64_C(0x00000200)	/* response fully produced */
#define RQ_F_HEAD_METHOD UINT64_C(0x00000400)	/* HEAD request */
#define RQ_F_HTTP10	UINT64_C(0x00000800)	/* HTTP/1.0 client */
#define RQ_F_RETRIED	UINT64_C(0x00001000)	/* already retried a stale pooled conn */
#define RQ_F_UPGRADE	UINT64_C(0x00002000)	/* an upgrade the route allows: the
					 * bytes after the head go upstream
					 * as they are */
#define RQ_F_TUNNEL	UINT64_C(0x00010000)	/* the upstream said 101: a tunnel */
#define RQ_F_CHUNKED	UINT64_C(0x00004000)	/* request body is chunked */
#define RQ_F_UPS_BYTES	UINT64_C(0x00008000)	/* bytes came from the upstream */
#define RQ_F_UPS_EOF	UINT64_C(0x00020000)	/* the upstream closed its side */
#define RQ_F_UPS_WSTOP	UINT64_C(0x00040000)	/* send nothing more upstream */
#define RQ_F_KEEP	UINT64_C(0x00080000)	/* request kept whole for a retry */
#define RQ_F_NORETRY	UINT64_C(0x00100000)	/* retries abandoned: body too large */
#define RQ_F_CLI_EOF	UINT64_C(0x00200000)	/* tunnel: the client closed its side */
#define RQ_F_CLI_SHUT	UINT64_C(0x00400000)	/* tunnel: we shut the client's side */
#define RQ_F_UPS_SHUT	UINT64_C(0x00800000)	/* tunnel: we shut the upstream's side */
#define RQ_F_LOGGED	UINT64_C(0x01000000)	/* access log line written */
#define RQ_F_LOCAL	UINT64_C(0x02000000)	/* answered by a local reply */
#define RQ_F_SAID_CLOSE	UINT64_C(0x04000000)	/* its response says connection: close */
#define RQ_F_CLI_FIRST	UINT64_C(0x08000000)	/* tunnel: the client's end came first */

/* The request's hash_policy value for the load balancer, or NULL. */
#define RQ_HASH(r)	((r)->rq_hashed ? &(r)->rq_hash : NULL)
#define RQ_F_FB_WANT	UINT64_C(0x10000000)	/* retriable failure, no retry left:
					 * the route's fallback may take it */
#define RQ_F_FALLBACK	UINT64_C(0x20000000)	/* started again on the fallback */
#define RQ_F_FILT	UINT64_C(0x40000000)	/* a filter keeps state on it
					 * (rq_cors, rq_gz, a fault): see
					 * conn_filter_free() */
#define RQ_F_FAULT	UINT64_C(0x100000000)	/* a fault was injected: it
					 * counts in fault.active_faults */
#define RQ_F_FAULT_DELAY UINT64_C(0x80000000)	/* waiting out a fault's delay
					 * (BACKOFF, rq_backoff_dl) */
#define RQ_F_GZ_OK	UINT64_C(0x400000000)	/* Accept-Encoding takes gzip
					 * and the compressor is on */

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
	uint64_t		 rq_flags;	/* RQ_F_* (64 bits: room for more) */
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
	struct wrk_tried	 rq_tried;	/* hosts tried (retries) */
	uint16_t		 rq_nretries;	/* retries scheduled */
	bool			 rq_hashed;	/* rq_hash holds a hash_policy value */
	uint64_t		 rq_hash;
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
	uint32_t		 rq_wc1;	/* rt_wc index + 1 of a weighted
						 * route's pick; 0: none */
	char			 rq_rid[64];	/* x-request-id to echo */
	/* sticky set_cookie: the value to hand out (a new key, or in fleet
	 * mode a key whose version or epoch changed), "" for none */
	char			 rq_sticky_key[WRK_STICKY_VALUE_MAX + 1];
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
	uint64_t		 rq_tun_rx;	/* tunnel bytes from the client */
	uint64_t		 rq_tun_tx;	/* tunnel bytes to the client */
	uint8_t			 rq_al_have;	/* RQ_AL_* */
	struct http1_slice	 rq_al[RQ_AL__N];
	struct wrk_buf		*rq_al_head;
	struct conn_alx		*rq_alx;	/* headers the log formats
						 * name, or NULL */
	struct wrk_shadow	*rq_shadow;	/* mirrors waiting for the
						 * body (worker/shadow.h) */
	/* the HTTP filters' (conn_filter.c): the Origin a CORS policy
	 * allowed (malloc'd), the policy, a fault's abort after its delay */
	struct conn_gz		*rq_gz;		/* compressing (conn_gzip.c) */
	char			*rq_cors;
	const struct cd_cors	*rq_cors_co;
	uint16_t		 rq_fault_abort;
	struct http1	 rq_p;		/* request parser */
	struct http1	 rq_rp;		/* response parser */
	struct http1_hdr		 rq_hdrs[];	/* request, then response headers */
};

/* ---- conn.c: states, lifetime, the close path, the run loop ------------ */

const char	*wrk_conn_state_name(enum conn_state);
/* The one place c_state changes; checks the move against the table. */
void		 conn_set_state(struct wrk_conn *, enum conn_state);

/* A request for c (READ_HEAD), or NULL when out of memory. */
struct wrk_req	*conn_req_new(struct wrk_conn *c);
/* Count r in downstream_rq_total, once. */
void		 conn_req_count(struct wrk_req *);
/* Give back what r holds (its upstream must be gone) and free it. */
void		 conn_req_free(struct wrk_conn *, struct wrk_req *);
/* Arm r's timer for its earliest deadline (lazily). */
void		 conn_req_timer_sync(struct wrk_req *);
/* The response is out: linger, close, or make ready for the next one. */
void		 conn_req_end(struct wrk_conn *, struct wrk_req *);
/* No request in progress: IDLE, the idle timeout applies. */
void		 conn_go_idle(struct wrk_conn *);
void		 conn_idle_arm(struct wrk_conn *);

/* The one way a connection ends: counters, gauges, log, free-later. */
void		 wrk_conn_close(struct wrk_conn *, const char *reason,
		    bool remote);
/* Give the client what is queued (one try), then close. */
void		 conn_close_flush(struct wrk_conn *, const char *reason);
/* Drive the connection until it waits for an event. */
void		 conn_run(struct wrk_conn *);

/* Monotonic microseconds, never 0 (0 means "not set" in rq_done_us). */
static inline uint64_t
conn_now_us(void)
{
	return cd_mono_us() + 1;
}

/* ---- conn_head.c: the request head --------------------------------------- */

/* IDLE or READ_HEAD: read and parse the head, then route it. */
void		 conn_read_head(struct wrk_conn *);

/* ---- conn_attempt.c: upstream attempts ----------------------------------- */

/* How the upstream pool calls a request back (rq_uo). */
extern const struct wrk_ups_cb conn_ups_cb;

/* Start an attempt on r's chosen host: pooled connection unless fresh. */
void		 conn_attempt(struct wrk_conn *, struct wrk_req *, bool fresh);
/* Back-off over: the next attempt, on a host not tried if possible. */
void		 conn_retry_start(struct wrk_conn *, struct wrk_req *);
/* A waiting request looks again: a pooled connection, or a slot. */
void		 conn_cx_retry(struct wrk_conn *, struct wrk_req *);
/* Forget the last attempt: the next one starts from the head again. */
void		 conn_attempt_reset(struct wrk_req *);
/* The route's fallback cluster for r, or -1. */
int		 conn_fallback_cluster(const struct wrk_req *);
/* The attempt failed without a response: retry, fall back, or reply. */
void		 conn_try_failed(struct wrk_conn *, struct wrk_req *,
		    enum wrk_try_result, uint16_t code, const char *why);
/* A final response head (status st, WRK_RESP_F_* facts resp) came:
 * true when it is retried. */
bool		 conn_resp_retry(struct wrk_conn *, struct wrk_req *,
		    uint16_t st, uint32_t resp);
/* The upstream connection broke (err: errno, or 0 for EOF). */
void		 conn_ups_broken(struct wrk_conn *, struct wrk_req *, int err);
/* The upstream response cannot be parsed. */
void		 conn_ups_protocol_error(struct wrk_conn *, struct wrk_req *);
/* Give back the gauges and units of r's attempt; its max_retries unit. */
void		 conn_ups_unhold(struct wrk_req *);
void		 conn_retry_unhold(struct wrk_req *);
/* Abandon r's upstream connection (never pooled). */
void		 conn_ups_drop(struct wrk_req *, bool remote);

/* ---- conn_resp.c: the upstream response ---------------------------------- */

/* A fresh response parser for r (a HEAD request's has no body). */
void		 conn_resp_parser_init(struct wrk_req *);
/* Write the client head of r's response (status st) into rq_out; false
 * when it does not fit. */
bool		 conn_resp_build(struct wrk_conn *, struct wrk_req *,
		    uint16_t st, const struct wrk_resp_info *si);
/* Parse what rq_uin holds: head, interim responses, body. */
enum cd_rc	 conn_resp_parse(struct wrk_conn *, struct wrk_req *);
/* The upstream closed its side. */
enum cd_rc	 conn_resp_eof(struct wrk_conn *, struct wrk_req *);

/* ---- conn_body.c: bytes both ways ---------------------------------------- */

/* Read what fits into in (c_in) from the client: read(2)'s result, errno
 * kept; the bytes are appended and counted, a short read noted. */
ssize_t		 conn_in_read(struct wrk_conn *, struct wrk_buf *in);
/* Move a full buffer to a large one; 0, or -1 when it is large already
 * or none is free. */
int		 conn_in_grow(struct wrk_buf **);
/* The request was read to its end. */
void		 conn_req_complete(struct wrk_conn *, struct wrk_req *);
/* Response bytes -> client. */
enum cd_rc	 conn_tx_client(struct wrk_conn *, struct wrk_req *,
		    int *progress);
/* Move bytes both ways until nothing moves; true if it had to yield. */
bool		 conn_pump(struct wrk_conn *);
bool		 conn_io_queue(struct wrk_conn *, int, const struct iovec *,
		    int, uint8_t);
void		 conn_in_got(struct wrk_conn *, struct wrk_buf *, size_t);
enum cd_rc	 conn_head_got(struct wrk_conn *, ssize_t);
void		 conn_in_idle_put(struct wrk_conn *);

/* ---- conn_tunnel.c: upgraded connections --------------------------------- */

/* The upstream answered r's upgrade with 101 (head parsed, si: its
 * marked headers): send the client the 101 and become a tunnel. */
enum cd_rc	 conn_tunnel_start(struct wrk_conn *, struct wrk_req *,
		    struct wrk_resp_info *si);
/* Move tunnel bytes both ways until nothing moves; true if it had to
 * yield. */
bool		 conn_tunnel_pump(struct wrk_conn *);
/* The stream idle timeout ran out on a tunnel. */
void		 conn_tunnel_timeout(struct wrk_conn *, struct wrk_req *);

/* ---- conn_reply.c: local replies ----------------------------------------- */

/* The connection header r's response carries; a close is noted in r
 * (RQ_F_SAID_CLOSE), and the connection closes after the response. */
enum wrk_conn_hdr conn_conn_hdr(const struct wrk_conn *, struct wrk_req *);
/* Count the status sent to the client. */
void		 conn_count_code(struct wrk_req *, uint16_t code);
/* Feed what c_in holds to the request parser (no reading). */
void		 conn_parse_buffered(struct wrk_conn *, struct wrk_req *);
/* Answer r locally; extra: header lines or NULL. */
void		 conn_reply_x(struct wrk_conn *, struct wrk_req *,
		    uint16_t code, const char *body, size_t len,
		    const char *extra);
void		 conn_reply(struct wrk_conn *, struct wrk_req *, uint16_t code,
		    const char *body, size_t len);
/* A malformed request: the codec's reply, then close. */
void		 conn_codec_error(struct wrk_conn *, struct wrk_req *,
		    uint16_t code, const char *why, bool body);
void		 conn_parse_error(struct wrk_conn *, struct wrk_req *);
/* Envoy's "upstream connect error or disconnect/reset" reply. */
void		 conn_reset_reply(struct wrk_conn *, struct wrk_req *,
		    uint16_t code, const char *why, const char *extra);
/* A circuit breaker refused r: the overflow reply. */
void		 conn_overflow(struct wrk_conn *, struct wrk_req *);

/* ---- conn_filter.c: the HTTP filters before the router --------------------- */

/* Run the filters that apply on r's route (rt_hf.hf_on != 0), in the
 * chain's order: true when the router goes on (after a fault's delay
 * when RQ_F_FAULT_DELAY is set), false when r was answered or waits to
 * be. */
bool		 conn_filters_decode(struct wrk_conn *, struct wrk_req *,
		    const char *base);
/* A fault's delay is over: the abort, or the first attempt. */
void		 conn_filter_delay_over(struct wrk_conn *, struct wrk_req *);
/* The CORS lines r's response gets, written at out (cap bytes): their
 * length, 0 for none; does the response header name (a slice of base)
 * give way to one of them? */
size_t		 conn_filter_resp_lines(const struct wrk_req *, char *out,
		    size_t cap);
bool		 conn_filter_resp_name(const struct wrk_req *, const char *base,
		    struct http1_slice name);
#define CONN_CORS_MAX	1024	/* bytes of a response's CORS lines */
#define CONN_GZ_LINES_MAX 512	/* ... and of its compression lines */
/* What r holds for the filters, given back. */
void		 conn_filter_free(struct wrk_req *);

/* ---- conn_gzip.c: the compressor filter ------------------------------------ */

/* Read the request's Accept-Encoding (its head at base): RQ_F_GZ_OK. */
void		 conn_gz_request(struct wrk_req *, const char *base);
/* The response head is parsed and framed (rq_frame): compress it?  True
 * when it is (rq_gz, WRK_FRAME_GZIP, content-length dropped). */
bool		 conn_gz_start(struct wrk_req *);
/* Its extra head lines (content-encoding, vary, a weak etag) at out. */
size_t		 conn_gz_lines(struct wrk_req *, char *out, size_t cap);
/* Room to compress more into rq_out (after what was left from before)? */
bool		 conn_gz_ready(struct wrk_req *);
/* Compress the body slices the parser just collected; false when out
 * of memory. */
bool		 conn_gz_body(struct wrk_req *);
/* The upstream response ended (eof: by its close): finish the stream;
 * true once it is all in rq_out. */
bool		 conn_gz_finish(struct wrk_req *, bool eof);
/* Is the stream finishing, and did the response end by a close? */
bool		 conn_gz_finishing(const struct wrk_req *, bool *eof);
void		 conn_gz_free(struct wrk_req *);
/* conn_resp.c: a compressed response's work left (the end of its
 * stream) while the client reads slowly. */
enum cd_rc	 conn_resp_gz_resume(struct wrk_conn *, struct wrk_req *);
/* ... the same when no new bytes came: also the input left before. */
enum cd_rc	 conn_resp_gz_more(struct wrk_conn *, struct wrk_req *);

/* ---- conn_hdrs.c: configured header mutations ----------------------------- */

/* m empty, its values in w_scratch past the first scratch_used bytes. */
void		 conn_hm_init(struct wrk_hm *m, size_t scratch_used);
/* r's route's request mutations on the head rh describes (its lines go
 * to m, rh_mut set); false when they do not fit. */
bool		 conn_hm_request(struct wrk_conn *, struct wrk_req *,
		    struct wrk_hm *m, struct wrk_req_head *rh);
/* The same for the response head sh (its lines, the service time). */
bool		 conn_hm_response(struct wrk_conn *, struct wrk_req *,
		    struct wrk_hm *m, struct wrk_resp_head *sh);
/* The extra lines of a local reply to r with the route's response
 * mutations applied (in w_scratch past scratch_used), or extra as it
 * is when they do not fit. */
const char	*conn_hm_reply(struct wrk_conn *, struct wrk_req *,
		    uint16_t code, const char *extra, size_t scratch_used);

/* "ip:port" of c's peer (local: its own address) in buf, or absent. */
struct alog_str	 conn_sockaddr(const struct wrk_conn *c, int local, char *buf,
		    size_t len);

/* ---- conn_log.c: the access log line ------------------------------------- */

/* Note where the head keeps the logged values (slices into base). */
void		 conn_al_capture(struct wrk_req *, const char *base,
		    const struct wrk_req_info *);
/* c_in is about to drop the head: keep a copy of the logged bytes. */
void		 conn_al_keep_head(struct wrk_req *, const struct wrk_buf *);
/* The request's access log line, once, when it ends. */
void		 conn_req_log(struct wrk_conn *, struct wrk_req *);
/* The response head is parsed: keep the values its log formats read. */
void		 conn_al_resp(struct wrk_req *);
/* Free what the log kept of r's headers. */
void		 conn_al_free(struct wrk_req *);

#endif /* CANARYD_WORKER_CONN_INT_H */
