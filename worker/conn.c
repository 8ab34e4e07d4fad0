/*
 * Downstream connections and their requests (see conn.h).
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
 * request that finds max_connections full waits on its cluster's list
 * (RQ_F_CXWAIT) and looks again every CONN_CXWAIT_MS or when a
 * connection of the cluster is released here.
 *
 * Invariants: c_state changes only in conn_set_state(); a connection ends
 * only in wrk_conn_close(); every gauge and breaker unit taken for a
 * request is given back exactly once (flags RQ_F_COUNTED, _PENDING,
 * _ATTACHED, _CB_RETRY say which are held), whatever path ends it; the
 * client sees at most one response head per request, and w_http_code
 * counts exactly those heads.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/hist.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "accesslog.h"
#include "breaker.h"
#include "conn.h"
#include "hdr.h"
#include "shared/http1.h"
#include "mem.h"
#include "retry.h"
#include "router.h"
#include "timer.h"
#include "upstream.h"
#include "worker.h"

#define CONN_RUN_MAX	32	/* state steps per event before yielding */
#define CONN_PUMP_MAX	64	/* I/O rounds per event before yielding */
#define CONN_LINGER_MS	1000	/* Envoy's delayed_close_timeout */
#define CONN_CXWAIT_MS	5	/* a request waiting for a connection slot
				 * looks again this often (another worker
				 * may have freed one) */

static const char conn_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
#define CONN_100_LEN	(sizeof(conn_100) - 1)

#define RESET_HEAD	"upstream connect error or disconnect/reset " \
			"before headers. "
#define OVERLOADED	"x-envoy-overloaded: true\r\n"

static struct wrk_slab		 conn_slab;
static struct wrk_slab		 req_slab;
static LIST_HEAD(, wrk_conn)	 conn_all = LIST_HEAD_INITIALIZER(conn_all);
static LIST_HEAD(, wrk_conn)	 conn_dead = LIST_HEAD_INITIALIZER(conn_dead);
static struct wrk_conn		*conn_again[1024];	/* run next turn */
static size_t			 conn_nagain;
static uint64_t			 conn_moves;	/* state changes */
/* per cluster: requests waiting for a max_connections slot, oldest first */
TAILQ_HEAD(conn_waitq, wrk_req);
static struct conn_waitq	*conn_cxwait;

/* Timeouts in ms, from the listener; 0 = off. */
static uint64_t	 to_idle, to_head, to_request, to_stream;

static void	conn_event(struct wrk_ev *, uint32_t);
static void	conn_timer(struct wrk_timer *);
static void	conn_req_timer(struct wrk_timer *);
static void	conn_run(struct wrk_conn *);
static void	conn_req_complete(struct wrk_conn *, struct wrk_req *);
static void	conn_reply(struct wrk_conn *, struct wrk_req *, uint16_t,
		    const char *, size_t);
static void	conn_ups_unhold(struct wrk_req *);
static void	conn_retry_unhold(struct wrk_req *);

#define CONN_OF_EV(ev)	((struct wrk_conn *)(void *)((char *)(ev) -	\
	offsetof(struct wrk_conn, c_ev)))
#define CONN_OF_TIMER(t) ((struct wrk_conn *)(void *)((char *)(t) -	\
	offsetof(struct wrk_conn, c_timer)))
#define REQ_OF_TIMER(t)	((struct wrk_req *)(void *)((char *)(t) -	\
	offsetof(struct wrk_req, rq_timer)))

/* ---- states ----------------------------------------------------------- */

static const char *const conn_state_names[CONN_S__N] = {
	[CONN_S_IDLE] = "idle",
	[CONN_S_READ_HEAD] = "read_head",
	[CONN_S_CONNECT] = "connect",
	[CONN_S_PROXY] = "proxy",
	[CONN_S_BACKOFF] = "backoff",
	[CONN_S_REPLY] = "reply",
	[CONN_S_LINGER] = "linger",
	[CONN_S_CLOSED] = "closed",
};

#define S(x)	(1u << CONN_S_##x)
static const uint16_t conn_allowed[CONN_S__N] = {
	[CONN_S_IDLE] = S(READ_HEAD) | S(CLOSED),
	[CONN_S_READ_HEAD] = S(IDLE) | S(CONNECT) | S(PROXY) | S(REPLY) |
	    S(BACKOFF) | S(CLOSED),
	[CONN_S_CONNECT] = S(CONNECT) | S(PROXY) | S(REPLY) | S(BACKOFF) |
	    S(CLOSED),
	[CONN_S_PROXY] = S(CONNECT) | S(REPLY) | S(IDLE) | S(READ_HEAD) |
	    S(BACKOFF) | S(CLOSED),
	[CONN_S_BACKOFF] = S(CONNECT) | S(PROXY) | S(REPLY) | S(BACKOFF) |
	    S(CLOSED),
	[CONN_S_REPLY] = S(IDLE) | S(READ_HEAD) | S(LINGER) | S(CLOSED),
	[CONN_S_LINGER] = S(CLOSED),
	[CONN_S_CLOSED] = 0,
};
#undef S

const char *
wrk_conn_state_name(enum conn_state s)
{
	return (unsigned)s < CONN_S__N ? conn_state_names[s] : "?";
}

static void
conn_set_state(struct wrk_conn *c, enum conn_state s)
{
	CD_ASSERT(conn_allowed[c->c_state] & (1u << s));
	if (log_level <= LOG_L_DEBUG)
		log_debug("conn %u: %s -> %s", c->c_id,
		    conn_state_names[c->c_state], conn_state_names[s]);
	c->c_state = (uint8_t)s;
	conn_moves++;
}

/* ---- set up ---------------------------------------------------------- */

static uint64_t
conn_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (uint64_t)CD_NS_TO_MS_CEIL(ns);
}

/* Monotonic microseconds, never 0 (0 means "not set" in rq_done_us). */
static uint64_t
conn_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 + 1;
}

size_t
wrk_conn_req_size(void)
{
	return offsetof(struct wrk_req, rq_hdrs) +
	    (size_t)wrk.w_hdrcap * sizeof(struct http1_hdr);
}

int
wrk_conn_init(void)
{
	const struct cd_listener *l = wrk.w_l;
	size_t i, n = wrk.w_conf->c_nclusters;

	if ((conn_cxwait = calloc(n ? n : 1, sizeof(*conn_cxwait))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		TAILQ_INIT(&conn_cxwait[i]);
	wrk_slab_init(&conn_slab, "connection", sizeof(struct wrk_conn), 256);
	wrk_slab_init(&req_slab, "request", wrk_conn_req_size(), 16);
	to_idle = conn_ms(l->l_idle_timeout);
	to_head = conn_ms(l->l_request_headers_timeout);
	to_request = conn_ms(l->l_request_timeout);
	to_stream = conn_ms(l->l_stream_idle_timeout);
	return 0;
}

int
wrk_conn_new(int fd)
{
	struct wrk_conn *c;
	int one = 1;

	if ((c = wrk_slab_get(&conn_slab)) == NULL)
		return -1;
	memset(c, 0, sizeof(*c));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (wrk_ev_add(&c->c_ev, fd, conn_event) == -1) {
		wrk_slab_put(&conn_slab, c);
		return -1;
	}
	c->c_id = ++wrk.w_next_id;
	c->c_state = CONN_S_IDLE;
	c->c_since = wrk.w_now;
	wrk_timer_init(&c->c_timer, conn_timer);
	if (to_idle > 0)
		wrk_timer_set(&c->c_timer, wrk.w_now + to_idle);
	LIST_INSERT_HEAD(&conn_all, c, c_entry);
	c->c_flags |= CONN_F_LINKED;
	wrk.w_nconns++;
	WRK_HC(HC_CX_TOTAL);
	WRK_HC(HC_CX_HTTP1_TOTAL);
	WRK_HG(HG_CX_ACTIVE, 1);
	WRK_HG(HG_CX_HTTP1_ACTIVE, 1);
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

static void
conn_resp_parser_init(struct wrk_req *r)
{
	http1_init(&r->rq_rp, HTTP1_RESPONSE, r->rq_hdrs,
	    wrk.w_hdrcap, wrk_buf_large_size());
	if (r->rq_flags & RQ_F_HEAD_METHOD)
		http1_set_nobody(&r->rq_rp);
}

static struct wrk_req *
conn_req_new(struct wrk_conn *c)
{
	struct wrk_req *r;

	if ((r = wrk_slab_get(&req_slab)) == NULL)
		return NULL;
	memset(r, 0, offsetof(struct wrk_req, rq_hdrs));
	r->rq_conn = c;
	r->rq_cluster = -1;
	r->rq_hidx = -1;
	r->rq_start = r->rq_io = wrk.w_now;
	wrk_timer_init(&r->rq_timer, conn_req_timer);
	http1_init(&r->rq_p, HTTP1_REQUEST, r->rq_hdrs, wrk.w_maxhdrs,
	    wrk.w_hdr_limit);
	c->c_req = r;
	conn_set_state(c, CONN_S_READ_HEAD);
	return r;
}

/* ---- access log --------------------------------------------------------- */

static void
conn_al_set(struct wrk_req *r, int i, uint32_t off, uint32_t len)
{
	r->rq_al[i].s_off = off;
	r->rq_al[i].s_len = len;
	r->rq_al_have |= 1u << i;
}

/*
 * Note where the head keeps what the access log prints: the path (of an
 * absolute-form target, the part after the authority), the authority
 * (the target's, else Host), x-forwarded-for, user-agent, x-request-id.
 * Slices, no copies: response headers later reuse rq_hdrs, c_in keeps
 * the bytes (conn_al_keep_head() copies them before it drops them).
 */
static void
conn_al_capture(struct wrk_req *r, const char *base,
    const struct wrk_req_info *ri)
{
	const struct http1_hdr *h;
	uint32_t off = r->rq_p.h_url.s_off, len = r->rq_p.h_url.s_len, a;
	uint16_t i;

	if (len > 7 && strncasecmp(base + off, "http://", 7) == 0) {
		for (a = 7; a < len && base[off + a] != '/' &&
		    base[off + a] != '?'; a++)
			;
		conn_al_set(r, RQ_AL_AUTH, off + 7, a - 7);
		off += a;
		len -= a;
	} else if (ri->ri_host >= 0) {
		h = &r->rq_hdrs[ri->ri_host];
		conn_al_set(r, RQ_AL_AUTH, h->h_value.s_off,
		    h->h_value.s_len);
	}
	if (len > 0)
		conn_al_set(r, RQ_AL_PATH, off, len);
	if (ri->ri_rid >= 0) {
		h = &r->rq_hdrs[ri->ri_rid];
		conn_al_set(r, RQ_AL_RID, h->h_value.s_off, h->h_value.s_len);
	}
	for (i = 0; i < r->rq_p.h_nhdrs; i++) {
		h = &r->rq_hdrs[i];
		if (h->h_name.s_len == 15 && !(r->rq_al_have &
		    (1u << RQ_AL_XFF)) && strncasecmp(base + h->h_name.s_off,
		    "x-forwarded-for", 15) == 0)
			conn_al_set(r, RQ_AL_XFF, h->h_value.s_off,
			    h->h_value.s_len);
		else if (h->h_name.s_len == 10 && !(r->rq_al_have &
		    (1u << RQ_AL_UA)) && strncasecmp(base + h->h_name.s_off,
		    "user-agent", 10) == 0)
			conn_al_set(r, RQ_AL_UA, h->h_value.s_off,
			    h->h_value.s_len);
	}
}

/* c_in is about to drop the head: keep the logged bytes (same offsets).
 * Without a buffer the line says "-" for them. */
static void
conn_al_keep_head(struct wrk_req *r, const struct wrk_buf *in)
{
	struct wrk_buf *b;
	uint32_t end = 0;
	int i;

	for (i = 0; i < RQ_AL__N; i++)
		if ((r->rq_al_have & (1u << i)) &&
		    r->rq_al[i].s_off + r->rq_al[i].s_len > end)
			end = r->rq_al[i].s_off + r->rq_al[i].s_len;
	b = end <= WRK_BUF_SMALL ? wrk_buf_get() : wrk_buf_get_large();
	if (b == NULL || b->b_size < end || in->b_len < end) {
		wrk_buf_put(b);
		r->rq_al_have = 0;
		return;
	}
	memcpy(b->b_data, in->b_data, end);
	b->b_len = end;
	r->rq_al_head = b;
}

/* The request's access log line, once, when it ends (any way). */
static void
conn_req_log(struct wrk_conn *c, struct wrk_req *r)
{
	struct alog_str *dst[RQ_AL__N];
	struct alog_rec ar;
	struct timespec ts;
	const char *base = NULL;
	char up[64];
	int i, major, minor;

	if (!wrk_alog_on() ||
	    (r->rq_flags & (RQ_F_COUNTED | RQ_F_LOGGED)) != RQ_F_COUNTED)
		return;
	r->rq_flags |= RQ_F_LOGGED;
	memset(&ar, 0, sizeof(ar));
	clock_gettime(CLOCK_REALTIME, &ts);
	ar.ar_duration_ms = wrk.w_now - r->rq_start;
	ar.ar_start_ms = (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000 - ar.ar_duration_ms;
	if (r->rq_flags & RQ_F_HEAD) {
		ar.ar_method.a_p = http1_method(&r->rq_p);
		ar.ar_method.a_len = strlen(ar.ar_method.a_p);
		http1_version(&r->rq_p, &major, &minor);
		if (major == 1)
			ar.ar_protocol = minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
		if (r->rq_al_head != NULL)
			base = r->rq_al_head->b_data;
		else if (!(r->rq_flags & RQ_F_HEAD_GONE) && c->c_in != NULL)
			base = c->c_in->b_data;
	}
	dst[RQ_AL_PATH] = &ar.ar_path;
	dst[RQ_AL_AUTH] = &ar.ar_authority;
	dst[RQ_AL_XFF] = &ar.ar_xff;
	dst[RQ_AL_UA] = &ar.ar_ua;
	dst[RQ_AL_RID] = &ar.ar_rid;
	for (i = 0; base != NULL && i < RQ_AL__N; i++)
		if (r->rq_al_have & (1u << i)) {
			dst[i]->a_p = base + r->rq_al[i].s_off;
			dst[i]->a_len = r->rq_al[i].s_len;
		}
	if (ar.ar_rid.a_p == NULL && r->rq_rid_len > 0) {
		/* generated here */
		ar.ar_rid.a_p = r->rq_rid;
		ar.ar_rid.a_len = r->rq_rid_len;
	}
	ar.ar_code = r->rq_code;
	ar.ar_flags = r->rq_rflags;
	ar.ar_rx = r->rq_p.h_body_bytes;
	ar.ar_tx = (r->rq_flags & RQ_F_LOCAL) ? r->rq_local_len :
	    r->rq_rp.h_body_bytes;
	ar.ar_svc_ms = r->rq_svc_ms1 > 0 ? (int64_t)r->rq_svc_ms1 - 1 : -1;
	if (r->rq_hidx >= 0 && (ar.ar_upstream.a_len = alog_addr(up,
	    sizeof(up), r->rq_host.sh_family, r->rq_host.sh_addr,
	    r->rq_host.sh_port)) > 0)
		ar.ar_upstream.a_p = up;
	wrk_alog_write(&ar);
}

static void
conn_req_count(struct wrk_req *r)
{
	if (r->rq_flags & RQ_F_COUNTED)
		return;
	r->rq_flags |= RQ_F_COUNTED;
	WRK_HC(HC_RQ_TOTAL);
	WRK_HC(HC_RQ_HTTP1_TOTAL);
	WRK_HG(HG_RQ_ACTIVE, 1);
}

/* Give back what the request holds; the upstream must be gone already. */
static void
conn_req_free(struct wrk_conn *c, struct wrk_req *r)
{
	CD_ASSERT(r->rq_ups == NULL);
	conn_req_log(c, r);
	conn_ups_unhold(r);
	conn_retry_unhold(r);
	wrk_timer_del(&r->rq_timer);
	wrk_buf_put(r->rq_out);
	wrk_buf_put(r->rq_uin);
	wrk_buf_put(r->rq_al_head);
	if (r->rq_flags & RQ_F_COUNTED)
		WRK_HG(HG_RQ_ACTIVE, -1);
	wrk_slab_put(&req_slab, r);
	c->c_req = NULL;
}

static uint64_t
conn_stream_idle(const struct wrk_req *r)
{
	if (r->rq_route != NULL && r->rq_route->rt_idle_timeout != CD_DUR_UNSET)
		return conn_ms(r->rq_route->rt_idle_timeout);
	return to_stream;
}

/* Earliest deadline that applies to r now, 0 for none. */
static uint64_t
conn_req_deadline(const struct wrk_req *r)
{
	uint64_t dl = UINT64_MAX, sit;

	if (!(r->rq_flags & RQ_F_HEAD) && to_head > 0 &&
	    r->rq_start + to_head < dl)
		dl = r->rq_start + to_head;
	if (!(r->rq_flags & RQ_F_REQ_DONE) && to_request > 0 &&
	    r->rq_start + to_request < dl)
		dl = r->rq_start + to_request;
	if (r->rq_route_dl != 0 && r->rq_route_dl < dl)
		dl = r->rq_route_dl;
	if (r->rq_try_dl != 0 && r->rq_try_dl < dl)
		dl = r->rq_try_dl;
	if (r->rq_backoff_dl != 0 && r->rq_backoff_dl < dl)
		dl = r->rq_backoff_dl;
	if (r->rq_wait_dl != 0 && r->rq_wait_dl < dl)
		dl = r->rq_wait_dl;
	if ((sit = conn_stream_idle(r)) > 0 && r->rq_io + sit < dl)
		dl = r->rq_io + sit;
	return dl == UINT64_MAX ? 0 : dl;
}

/*
 * Arm the request timer for its earliest deadline.  Lazy: a later
 * deadline than the armed one is left for the timer callback to find, so
 * progress on a stream costs no tree operation.
 */
static void
conn_req_timer_sync(struct wrk_req *r)
{
	uint64_t dl = conn_req_deadline(r);

	if (dl == 0)
		wrk_timer_del(&r->rq_timer);
	else if (!wrk_timer_is_armed(&r->rq_timer) ||
	    dl < r->rq_timer.t_deadline)
		wrk_timer_set(&r->rq_timer, dl);
}

/* ---- closing ----------------------------------------------------------- */

/* Off its cluster's list of requests waiting for a connection slot. */
static void
conn_cx_unwait(struct wrk_req *r)
{
	if (r->rq_flags & RQ_F_CXWAIT) {
		TAILQ_REMOVE(&conn_cxwait[r->rq_cluster], r, rq_wait);
		r->rq_flags &= ~RQ_F_CXWAIT;
	}
	r->rq_wait_dl = 0;
}

/* Cluster gauges and breaker units r holds for its upstream attempt,
 * given back once. */
static void
conn_ups_unhold(struct wrk_req *r)
{
	conn_cx_unwait(r);
	if (r->rq_flags & RQ_F_PENDING) {
		WRK_CG(r->rq_cluster, CG_RQ_PENDING_ACTIVE, -1);
		wrk_breaker_release(r->rq_cluster, SHM_CB_PENDING);
		r->rq_flags &= ~RQ_F_PENDING;
	}
	if (r->rq_flags & RQ_F_ATTACHED) {
		WRK_CG(r->rq_cluster, CG_RQ_ACTIVE, -1);
		WRK_HOG(r->rq_cluster, r->rq_hidx, HOG_RQ_ACTIVE, -1);
		wrk_breaker_release(r->rq_cluster, SHM_CB_RQ);
		r->rq_flags &= ~RQ_F_ATTACHED;
	}
}

/* The max_retries unit of a retry whose attempt is over. */
static void
conn_retry_unhold(struct wrk_req *r)
{
	if (r->rq_flags & RQ_F_CB_RETRY) {
		wrk_breaker_release(r->rq_cluster, SHM_CB_RETRY);
		r->rq_flags &= ~RQ_F_CB_RETRY;
	}
}

/* Abandon r's upstream connection (never pooled). */
static void
conn_ups_drop(struct wrk_req *r, bool remote)
{
	struct wrk_ups *u = r->rq_ups;

	conn_ups_unhold(r);
	if (u == NULL)
		return;
	r->rq_ups = NULL;
	wrk_ups_close(u, remote);
}

void
wrk_conn_close(struct wrk_conn *c, const char *reason, bool remote)
{
	struct wrk_req *r = c->c_req;

	if (c->c_state == CONN_S_CLOSED)
		return;
	if (r != NULL) {
		conn_ups_drop(r, false);
		if ((r->rq_flags & RQ_F_COUNTED) &&
		    !(r->rq_flags & RQ_F_RESP_DONE)) {
			WRK_HC(HC_CX_DESTROY_ACTIVE_RQ);
			WRK_HC(remote ? HC_RQ_RX_RESET : HC_RQ_TX_RESET);
			if (remote)
				r->rq_rflags |= ALOG_RF_DC;
		}
		conn_req_free(c, r);
	}
	wrk_buf_put(c->c_in);
	c->c_in = NULL;
	wrk_timer_del(&c->c_timer);
	close(c->c_ev.ev_fd);
	c->c_ev.ev_fd = -1;
	WRK_HC(HC_CX_DESTROY);
	WRK_HC(remote ? HC_CX_DESTROY_REMOTE : HC_CX_DESTROY_LOCAL);
	if ((c->c_flags & CONN_F_DRAIN) && !remote)
		WRK_HC(HC_CX_DRAIN_CLOSE);
	WRK_HG(HG_CX_ACTIVE, -1);
	WRK_HG(HG_CX_HTTP1_ACTIVE, -1);
	wrk.w_nconns--;
	if (log_level <= LOG_L_DEBUG)
		log_debug("conn %u: closed (%s): %s", c->c_id,
		    remote ? "remote" : "local", reason);
	conn_set_state(c, CONN_S_CLOSED);
	if (c->c_flags & CONN_F_LINKED)
		LIST_REMOVE(c, c_entry);
	c->c_flags &= ~CONN_F_LINKED;
	LIST_INSERT_HEAD(&conn_dead, c, c_entry);
}

void
wrk_conn_reap(void)
{
	static struct wrk_conn *run[sizeof(conn_again) / sizeof(conn_again[0])];
	struct wrk_conn *c;
	size_t i, n = conn_nagain;

	/* run yielded connections before freeing anything they might be;
	 * from a copy, as running one may yield it again */
	memcpy(run, conn_again, n * sizeof(run[0]));
	conn_nagain = 0;
	for (i = 0; i < n; i++) {
		c = run[i];
		c->c_flags &= ~CONN_F_AGAIN;
		if (c->c_state != CONN_S_CLOSED)
			conn_run(c);
	}
	while ((c = LIST_FIRST(&conn_dead)) != NULL) {
		LIST_REMOVE(c, c_entry);
		/* a yielded entry may still name it; drop such entries */
		for (i = 0; i < conn_nagain; i++)
			if (conn_again[i] == c)
				conn_again[i] = conn_again[--conn_nagain];
		wrk_slab_put(&conn_slab, c);
	}
}

bool
wrk_conn_pending(void)
{
	return conn_nagain > 0;
}

/* More work is ready but this event had its share: run again next turn. */
static void
conn_defer(struct wrk_conn *c)
{
	if (c->c_flags & CONN_F_AGAIN)
		return;
	if (conn_nagain == sizeof(conn_again) / sizeof(conn_again[0])) {
		wrk_conn_close(c, "too many busy connections", false);
		return;
	}
	c->c_flags |= CONN_F_AGAIN;
	conn_again[conn_nagain++] = c;
}

/*
 * Draining: every connection answers its next response with
 * `connection: close` and then closes.  An idle keep-alive connection is
 * not closed at once: its client may be sending a request right now, and
 * a close would lose it (the reload errors other proxies show).  It gets
 * idle_grace_ms to send one; wrk_conn_drain_idle() closes what is left.
 */
void
wrk_conn_drain(void)
{
	struct wrk_conn *c;

	LIST_FOREACH(c, &conn_all, c_entry)
		c->c_flags |= CONN_F_CLOSE | CONN_F_DRAIN;
}

void
wrk_conn_drain_idle(void)
{
	struct wrk_conn *c, *tmp;

	LIST_FOREACH_SAFE(c, &conn_all, c_entry, tmp)
		if (c->c_state == CONN_S_IDLE)
			wrk_conn_close(c, "draining, idle", false);
}

/* ---- local replies ----------------------------------------------------- */

static enum wrk_conn_hdr
conn_conn_hdr(const struct wrk_conn *c, const struct wrk_req *r)
{
	if ((c->c_flags & CONN_F_CLOSE) || wrk.w_draining)
		return WRK_CONN_CLOSE;
	if (r->rq_flags & RQ_F_HTTP10)
		return WRK_CONN_KEEP_ALIVE;
	return WRK_CONN_NONE;
}

static void
conn_count_code(struct wrk_req *r, uint16_t code)
{
	r->rq_code = code;
	if (code >= CD_CODE_MIN && code <= CD_CODE_MAX)
		wrk_ctr(&wrk.w_slot->w_http_code[code - CD_CODE_MIN], 1);
}

/* Feed what c_in already holds to the request parser (no reading), so a
 * local reply can tell whether the connection stays usable. */
static void
conn_parse_buffered(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *in = c->c_in;
	enum http1_ev ev;
	uint32_t used;

	while (!(r->rq_flags & RQ_F_REQ_DONE) && in != NULL &&
	    r->rq_in_parsed < in->b_len) {
		ev = http1_feed(&r->rq_p, in->b_data, r->rq_in_parsed,
		    in->b_len - r->rq_in_parsed, &used);
		r->rq_in_parsed += used;
		if (ev == HTTP1_DONE)
			conn_req_complete(c, r);
		else if (ev != HTTP1_MORE || used == 0)
			break;
	}
}

/*
 * Answer the request locally (Envoy's local reply), with extra header
 * lines ("name: value\r\n", or NULL).  Whatever upstream attempt r had
 * is abandoned.  The connection stays open only if the request was read
 * completely.
 */
static void
conn_reply_x(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *body, size_t len, const char *extra)
{
	struct wrk_buf *out;
	bool head_only = (r->rq_flags & RQ_F_HEAD_METHOD) != 0;
	size_t n;

	CD_ASSERT(!(r->rq_flags & RQ_F_RESP_HEAD));
	conn_ups_drop(r, false);
	if (r->rq_cluster >= 0 && code >= CD_CODE_MIN && code <= CD_CODE_MAX)
		wrk_ctr(&WRK_SLOT_CL(r->rq_cluster)->cc_code[code -
		    CD_CODE_MIN], 1);
	conn_req_count(r);
	if (r->rq_flags & RQ_F_HEAD)
		conn_parse_buffered(c, r);
	if (!(r->rq_flags & RQ_F_REQ_DONE))
		c->c_flags |= CONN_F_CLOSE;
	if ((out = r->rq_out) == NULL && (out = r->rq_out = wrk_buf_get()) ==
	    NULL) {
		wrk_conn_close(c, "out of buffers", false);
		return;
	}
	out->b_off = out->b_len = 0;
	n = wrk_hdr_local_reply(out->b_data, out->b_size, code, body, len,
	    wrk_hdr_date(wrk.w_now_s), wrk.w_server, wrk.w_server_len, extra,
	    conn_conn_hdr(c, r), head_only);
	if (n == 0) {
		/* a long body (direct_response) is written from the config */
		n = wrk_hdr_local_reply(out->b_data, out->b_size, code, body,
		    len, wrk_hdr_date(wrk.w_now_s), wrk.w_server,
		    wrk.w_server_len, extra, conn_conn_hdr(c, r), true);
		if (n == 0) {
			wrk_conn_close(c, "reply does not fit", false);
			return;
		}
		if (!head_only) {
			r->rq_body = body;
			r->rq_body_len = (uint32_t)len;
		}
	}
	out->b_len = (uint32_t)n;
	if (r->rq_100 == 0)
		r->rq_100_want = 0;
	r->rq_frame = WRK_FRAME_NONE;
	r->rq_route_dl = r->rq_try_dl = r->rq_backoff_dl = 0;
	r->rq_flags |= RQ_F_RESP_HEAD | RQ_F_RESP_DONE | RQ_F_LOCAL;
	r->rq_local_len = head_only ? 0 : (uint32_t)len;
	conn_count_code(r, code);
	if (c->c_state != CONN_S_REPLY)
		conn_set_state(c, CONN_S_REPLY);
}

static void
conn_reply(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *body, size_t len)
{
	conn_reply_x(c, r, code, body, len, NULL);
}

/* A malformed request: Envoy's codec error reply, then close. */
static void
conn_codec_error(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *why, bool body)
{
	const char *reason = wrk_hdr_reason(code);

	log_info("conn %u: %u %s: %s", c->c_id, code, reason, why);
	WRK_HC(HC_CX_PROTOCOL_ERROR);
	r->rq_rflags |= ALOG_RF_DPE;
	c->c_flags |= CONN_F_CLOSE;
	if (r->rq_flags & RQ_F_RESP_HEAD) {
		wrk_conn_close(c, why, false);
		return;
	}
	conn_reply(c, r, code, body ? reason : NULL, body ? strlen(reason) : 0);
}

static void
conn_parse_error(struct wrk_conn *c, struct wrk_req *r)
{
	switch (r->rq_p.h_err) {
	case HTTP1_E_TOO_MANY:
	case HTTP1_E_TOO_LARGE:
		conn_codec_error(c, r, 431, http1_errstr(&r->rq_p), true);
		break;
	case HTTP1_E_TE:
		conn_codec_error(c, r, 501, http1_errstr(&r->rq_p), true);
		break;
	default:
		conn_codec_error(c, r, 400, http1_errstr(&r->rq_p), true);
		break;
	}
}

/*
 * "upstream connect error or disconnect/reset before headers. [retried
 * and the latest ]reset reason: <why>", 503 (502 for a protocol error),
 * with extra header lines or NULL.
 */
static void
conn_reset_reply(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *why, const char *extra)
{
	char body[320];
	int n;

	n = snprintf(body, sizeof(body), RESET_HEAD "%sreset reason: %s",
	    r->rq_nretries > 0 ? "retried and the latest " : "", why);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = (int)strlen(body);
	conn_reply_x(c, r, code, body, (size_t)n, extra);
}

/*
 * A circuit breaker refused the request (max_pending_requests or
 * max_requests): Envoy's overflow reply at once, never retried, not an
 * outlier event.
 */
static void
conn_overflow(struct wrk_conn *c, struct wrk_req *r)
{
	WRK_CC(r->rq_cluster, CC_RQ_PENDING_OVERFLOW);
	r->rq_rflags |= ALOG_RF_UO;
	log_debug("conn %u: %s: overflow", c->c_id,
	    wrk.w_conf->c_clusters[r->rq_cluster].cl_name);
	conn_reset_reply(c, r, 503, "overflow", OVERLOADED);
}

/*
 * The response cannot be finished: give the client what is already
 * queued (one non-blocking try), then close, so it sees a truncated
 * response end with the connection rather than nothing at all.
 */
static enum cd_rc conn_tx_client(struct wrk_conn *, struct wrk_req *, int *);

static void
conn_close_flush(struct wrk_conn *c, const char *reason)
{
	struct wrk_req *r = c->c_req;
	int progress = 0;

	conn_ups_drop(r, false);
	if (conn_tx_client(c, r, &progress) == CD_ERR)
		return;
	wrk_conn_close(c, reason, false);
}

/* ---- attempts ------------------------------------------------------------ */

static void	conn_attempt(struct wrk_conn *, struct wrk_req *, bool fresh);

/* The request can be sent again whole: its head is in rq_out and every
 * body byte read so far is still in c_in. */
static bool
conn_replayable(const struct wrk_req *r)
{
	return (r->rq_flags & (RQ_F_KEEP | RQ_F_NORETRY | RQ_F_BODY_LOST)) ==
	    RQ_F_KEEP;
}

/* x-envoy-expected-rq-timeout-ms in the upstream head, for this attempt:
 * what is left of the route timeout shrinks with each one. */
static void
conn_ups_head_refresh(struct wrk_req *r)
{
	const struct cd_route *rt = r->rq_route;
	uint64_t elapsed = r->rq_done != 0 ? wrk.w_now - r->rq_done : 0;
	size_t n;

	n = wrk_hdr_set_expected(r->rq_out->b_data, r->rq_uhead_len,
	    r->rq_out->b_size, wrk_retry_expected_ms(r->rq_try_ms,
	    conn_ms(rt->rt_timeout), elapsed));
	if (n > 0)
		r->rq_uhead_len = (uint32_t)n;
}

/* Forget the last attempt (its connection is gone): the next one sends
 * the head and the body from the start and parses a new response. */
static void
conn_attempt_reset(struct wrk_req *r)
{
	r->rq_flags &= ~(RQ_F_UHEAD_SENT | RQ_F_UREQ_SENT | RQ_F_UPS_NOREUSE |
	    RQ_F_UPS_EOF | RQ_F_UPS_WSTOP | RQ_F_UPS_BYTES | RQ_F_CXOVF);
	r->rq_uhead_off = 0;
	r->rq_in_fwd = r->rq_head_end;
	if (r->rq_uin != NULL)
		r->rq_uin->b_off = r->rq_uin->b_len = 0;
	r->rq_uin_parsed = 0;
	r->rq_try_dl = 0;
	conn_resp_parser_init(r);
}

/*
 * The attempt ended before any response byte went to the client: may it
 * be retried?  Counts as Envoy's RetryStateImpl::shouldRetry() does
 * (retry_success, retry_limit_exceeded, retry_overflow, retry) and takes
 * the max_retries unit of the retry.  The unit of a previous retry is
 * given back first: its attempt is over.
 */
static bool
conn_retry_decide(struct wrk_req *r, enum wrk_try_result res,
    uint16_t status)
{
	const struct cd_retry_policy *rp = &r->rq_route->rt_retry;
	int ci = r->rq_cluster;
	bool sent = (r->rq_flags & RQ_F_UHEAD_SENT) || r->rq_uhead_off > 0;

	conn_retry_unhold(r);
	r->rq_flags &= ~RQ_F_FB_WANT;
	if (!rp->rp_set)
		return false;
	switch (wrk_retry_decide(rp, res, status,
	    (r->rq_flags & RQ_F_RESP_HEAD) != 0, sent, r->rq_nretries,
	    conn_replayable(r))) {
	case WRK_RETRY_NO:
		if (r->rq_nretries > 0)
			WRK_CC(ci, CC_RQ_RETRY_SUCCESS);
		return false;
	case WRK_RETRY_ABANDONED:
		return false;
	case WRK_RETRY_LIMIT:
		WRK_CC(ci, CC_RQ_RETRY_LIMIT_EXCEEDED);
		r->rq_rflags |= ALOG_RF_URX;
		r->rq_flags |= RQ_F_FB_WANT;
		return false;
	case WRK_RETRY_YES:
		break;
	}
	if (!wrk_breaker_acquire(ci, SHM_CB_RETRY)) {
		WRK_CC(ci, CC_RQ_RETRY_OVERFLOW);
		r->rq_flags |= RQ_F_FB_WANT;
		return false;
	}
	r->rq_flags |= RQ_F_CB_RETRY;
	WRK_CC(ci, CC_RQ_RETRY);
	r->rq_nretries++;
	return true;
}

/* A retry was decided and the attempt's connection is gone: wait out the
 * jittered back-off (a timer, never a sleep). */
static void
conn_retry_schedule(struct wrk_conn *c, struct wrk_req *r)
{
	uint64_t ms;

	conn_attempt_reset(r);
	ms = wrk_retry_backoff_ms(&r->rq_route->rt_retry, r->rq_nretries,
	    arc4random());
	r->rq_backoff_dl = wrk.w_now + ms;
	log_debug("conn %u: retry %u in %llu ms", c->c_id, r->rq_nretries,
	    (unsigned long long)ms);
	conn_set_state(c, CONN_S_BACKOFF);
	conn_req_timer_sync(r);
}

/*
 * The route's fallback cluster for r, or -1: none configured, r is on it
 * already (or was sent there once), or r cannot be sent again whole (its
 * body went past the retry buffer, or response bytes reached the client).
 */
static int
conn_fallback_cluster(const struct wrk_req *r)
{
	int fb = r->rq_route->rt_fallback;

	if (fb < 0 || (size_t)fb >= wrk.w_conf->c_nclusters ||
	    fb == r->rq_cluster || (r->rq_flags & (RQ_F_FALLBACK |
	    RQ_F_RESP_HEAD)))
		return -1;
	/* before the head went upstream nothing needs replaying */
	if ((r->rq_flags & RQ_F_HEAD) && r->rq_out != NULL &&
	    !conn_replayable(r))
		return -1;
	return fb;
}

static void	conn_ups_discard(struct wrk_req *);

/*
 * Start r again on its route's fallback cluster: a retriable failure
 * with no retry left, or no healthy host, in the cluster it was sent to.
 * A fresh retry budget under the same route timeout; the fallback's
 * breakers apply (overflow there is the usual 503).  st: the retriable
 * response the attempt got, whose connection is dropped here (it is not
 * passed on, so it is charged like a retried one), or 0 when the
 * attempt's connection is gone already.  False (nothing done) when there
 * is no fallback for r or it has no host to take it.
 */
static bool
conn_fallback(struct wrk_conn *c, struct wrk_req *r, uint16_t st)
{
	struct shm_host host;
	int fb, hidx, ci = r->rq_cluster;

	if ((fb = conn_fallback_cluster(r)) < 0)
		return false;
	/* a fallback with no host either: keep the first failure's answer */
	if ((hidx = wrk_ups_pick_host(fb, &host, 0)) < 0) {
		WRK_CC(fb, CC_CX_NONE_HEALTHY);
		return false;
	}
	log_debug("conn %u: %s failed, falling back to %s", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name,
	    wrk.w_conf->c_clusters[fb].cl_name);
	WRK_CC(ci, CC_CANARY_FALLBACK);
	if (st != 0) {
		wrk_ctr(&WRK_SLOT_CL(ci)->cc_retry_code[st - CD_CODE_MIN], 1);
		if (st >= 500)
			WRK_HOC(ci, r->rq_hidx, HOC_RQ_ERROR);
		conn_ups_discard(r);
	}
	/* units are counted per cluster: give back the failed one's */
	conn_ups_unhold(r);
	conn_retry_unhold(r);
	r->rq_flags &= ~(RQ_F_FB_WANT | RQ_F_RETRIED);
	r->rq_flags |= RQ_F_FALLBACK;
	r->rq_rflags &= ~(uint32_t)ALOG_RF_URX;
	r->rq_cluster = fb;
	r->rq_hidx = hidx;
	r->rq_host = host;
	r->rq_nretries = 0;
	r->rq_tried = 0;
	conn_attempt_reset(r);
	/*
	 * Through a back-off of 0 ms, like a retry: conn_retry_start() then
	 * picks the host and starts the attempt from a state that may move
	 * to any of the attempt's outcomes (PROXY may not move to PROXY).
	 */
	r->rq_backoff_dl = wrk.w_now;
	if (c->c_state != CONN_S_BACKOFF)
		conn_set_state(c, CONN_S_BACKOFF);
	conn_req_timer_sync(r);
	return true;
}

/* Back-off over: the next attempt, on a host not tried yet if the
 * cluster has one. */
static void
conn_retry_start(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster, hidx;

	if ((hidx = wrk_ups_pick_host(ci, &r->rq_host, r->rq_tried)) < 0) {
		WRK_CC(ci, CC_CX_NONE_HEALTHY);
		if (conn_fallback(c, r, 0))
			return;
		r->rq_rflags |= ALOG_RF_UH;
		conn_reply(c, r, 503, "no healthy upstream", 19);
		return;
	}
	r->rq_hidx = hidx;
	conn_ups_head_refresh(r);
	conn_attempt(c, r, false);
}

/*
 * The attempt failed without a response (its connection is gone already):
 * report it, retry it if allowed, else answer with Envoy's local reply.
 * code and why: the reply for a reset; a per-try timeout answers 504.
 */
static void
conn_try_failed(struct wrk_conn *c, struct wrk_req *r,
    enum wrk_try_result res, uint16_t code, const char *why)
{
	int ci = r->rq_cluster;

	shm_outlier_report(WRK_SHM_CL(ci), (uint32_t)r->rq_hidx,
	    res == WRK_TRY_PER_TRY_TIMEOUT ? 504 : 0);
	/* retried or failed with a 5xx: an error of that host either way */
	WRK_HOC(ci, r->rq_hidx, HOC_RQ_ERROR);
	if (conn_retry_decide(r, res, 0)) {
		conn_retry_schedule(c, r);
		return;
	}
	if ((r->rq_flags & RQ_F_FB_WANT) && conn_fallback(c, r, 0))
		return;
	r->rq_rflags |= res == WRK_TRY_PER_TRY_TIMEOUT ? ALOG_RF_UT :
	    res == WRK_TRY_CONNECT_FAIL ? ALOG_RF_UF :
	    code == 502 ? ALOG_RF_UPE : ALOG_RF_UC;
	if (res == WRK_TRY_PER_TRY_TIMEOUT)
		conn_reply(c, r, 504, "upstream request timeout", 24);
	else
		conn_reset_reply(c, r, code, why, NULL);
}

/*
 * A retriable response head came: drop it.  A body that is here in full
 * is read so the connection can be pooled; anything else closes it (a
 * connection whose response was not read to its end cannot be reused).
 */
static void
conn_ups_discard(struct wrk_req *r)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *uin = r->rq_uin;
	enum http1_ev ev = HTTP1_MORE;
	uint32_t used;
	bool reuse = false;

	if ((r->rq_flags & (RQ_F_UPS_NOREUSE | RQ_F_UPS_EOF |
	    RQ_F_UREQ_SENT)) == RQ_F_UREQ_SENT && !u->u_ev.ev_rdhup &&
	    http1_keep_alive(&r->rq_rp)) {
		while (r->rq_uin_parsed < uin->b_len) {
			ev = http1_feed(&r->rq_rp, uin->b_data,
			    r->rq_uin_parsed, uin->b_len - r->rq_uin_parsed,
			    &used);
			r->rq_uin_parsed += used;
			if (ev != HTTP1_MORE || used == 0)
				break;
		}
		reuse = ev == HTTP1_DONE && r->rq_uin_parsed == uin->b_len;
	}
	conn_ups_unhold(r);
	r->rq_ups = NULL;
	if (reuse)
		wrk_ups_release(u);
	else
		wrk_ups_close(u, false);
}

/*
 * A final response head arrived (status st): report it, and retry
 * instead of forwarding it if the policy says so.  True when retried.
 */
static bool
conn_resp_retry(struct wrk_conn *c, struct wrk_req *r, uint16_t st)
{
	int ci = r->rq_cluster;

	shm_outlier_report(WRK_SHM_CL(ci), (uint32_t)r->rq_hidx,
	    st);
	if (!conn_retry_decide(r, WRK_TRY_RESPONSE, st))
		/* no retry left: the fallback may take it instead */
		return (r->rq_flags & RQ_F_FB_WANT) && conn_fallback(c, r, st);
	/* Envoy charges a retried response as retry.upstream_rq_<code> */
	wrk_ctr(&WRK_SLOT_CL(ci)->cc_retry_code[st - CD_CODE_MIN], 1);
	if (st >= 500)
		WRK_HOC(ci, r->rq_hidx, HOC_RQ_ERROR);
	log_debug("conn %u: upstream %s: %u, retrying", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name, st);
	conn_ups_discard(r);
	conn_retry_schedule(c, r);
	return true;
}

/* ---- upstream outcomes -------------------------------------------------- */

void
wrk_conn_ups_failed(struct wrk_req *r, int err)
{
	struct wrk_conn *c = r->rq_conn;
	char why[160];

	/* upstream.c closed the connection already */
	r->rq_ups = NULL;
	conn_ups_unhold(r);
	WRK_CC(r->rq_cluster, CC_RQ_PENDING_FAILURE_EJECT);
	if (err == 0)
		snprintf(why, sizeof(why), "connection timeout");
	else
		snprintf(why, sizeof(why), "remote connection failure, "
		    "transport failure reason: delayed connect error: %s",
		    strerror(err));
	log_debug("conn %u: upstream %s: %s", c->c_id,
	    wrk.w_conf->c_clusters[r->rq_cluster].cl_name, why);
	conn_try_failed(c, r, WRK_TRY_CONNECT_FAIL, 503, why);
	conn_run(c);
}

/*
 * The upstream connection broke (EOF, reset, write error).  Before any
 * response byte: retry once on a fresh connection if this was a reused
 * pooled one (the backend closed it while idle) and the request can be
 * sent again whole, not counted as a retry; else the retry policy
 * decides, and without a retry a 503 local reply.  After the response
 * head went out: the client connection is closed, it cannot be told
 * otherwise.
 */
static void
conn_ups_broken(struct wrk_conn *c, struct wrk_req *r, int err)
{
	struct wrk_ups *u = r->rq_ups;
	int ci = r->rq_cluster;

	log_debug("conn %u: upstream %s: %s", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name,
	    err ? strerror(err) : "connection closed");
	if (r->rq_flags & RQ_F_RESP_HEAD) {
		WRK_CC(ci, CC_RQ_RX_RESET);
		WRK_HC(HC_RQ_RESET_AFTER_RESPONSE);
		r->rq_rflags |= ALOG_RF_UC;
		conn_ups_drop(r, true);
		conn_close_flush(c, "upstream reset mid-response");
		return;
	}
	if (u != NULL && u->u_nreq > 1 && !(r->rq_flags & (RQ_F_RETRIED |
	    RQ_F_UPS_BYTES | RQ_F_BODY_LOST))) {
		conn_ups_drop(r, true);
		r->rq_flags |= RQ_F_RETRIED;
		conn_attempt_reset(r);
		conn_ups_head_refresh(r);
		conn_attempt(c, r, true);
		return;
	}
	WRK_CC(ci, CC_RQ_RX_RESET);
	conn_ups_drop(r, true);
	conn_try_failed(c, r, WRK_TRY_RESET, 503, "connection termination");
}

static void
conn_ups_protocol_error(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster;

	log_debug("conn %u: upstream %s: protocol error: %s", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name, http1_errstr(&r->rq_rp));
	WRK_CC(ci, CC_CX_PROTOCOL_ERROR);
	if (r->rq_flags & RQ_F_RESP_HEAD) {
		WRK_HC(HC_RQ_RESET_AFTER_RESPONSE);
		r->rq_rflags |= ALOG_RF_UPE;
		conn_close_flush(c, "upstream protocol error mid-response");
		return;
	}
	conn_ups_drop(r, false);
	conn_try_failed(c, r, WRK_TRY_RESET, 502, "protocol error");
}

/*
 * r has a connection (pooled, or just connected): take a max_requests
 * unit and start the attempt.  At the limit the connection, sound and
 * unused, goes back to the pool and the client gets the overflow reply.
 */
static void
conn_ups_attach(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster;
	struct wrk_ups *u = r->rq_ups;

	if (!wrk_breaker_acquire(ci, SHM_CB_RQ)) {
		r->rq_ups = NULL;
		wrk_ups_release(u);
		conn_overflow(c, r);
		return;
	}
	if (r->rq_flags & RQ_F_PENDING) {
		WRK_CG(ci, CG_RQ_PENDING_ACTIVE, -1);
		wrk_breaker_release(ci, SHM_CB_PENDING);
		r->rq_flags &= ~RQ_F_PENDING;
	}
	WRK_CC(ci, CC_RQ_TOTAL);
	WRK_CG(ci, CG_RQ_ACTIVE, 1);
	WRK_HOC(ci, r->rq_hidx, HOC_RQ_TOTAL);
	WRK_HOG(ci, r->rq_hidx, HOG_RQ_ACTIVE, 1);
	r->rq_flags |= RQ_F_ATTACHED;
	/* the per-try timeout runs once the attempt has a connection and
	 * the client's request is complete */
	if (r->rq_try_ms > 0 && (r->rq_flags & RQ_F_REQ_DONE))
		r->rq_try_dl = wrk.w_now + r->rq_try_ms;
	conn_set_state(c, CONN_S_PROXY);
}

void
wrk_conn_ups_ready(struct wrk_req *r)
{
	struct wrk_conn *c = r->rq_conn;

	conn_ups_attach(c, r);
	conn_run(c);
}

void
wrk_conn_ups_event(struct wrk_req *r, uint32_t events)
{
	(void)events;
	conn_run(r->rq_conn);
}

/*
 * No connection slot (max_connections is full in every worker): count
 * the overflow once per attempt and wait on the cluster's list, looking
 * again every CONN_CXWAIT_MS or when a connection is released here.
 * Bounded by the route and stream idle timeouts.
 */
static void
conn_cx_wait(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster;

	if (!(r->rq_flags & RQ_F_CXOVF)) {
		WRK_CC(ci, CC_CX_OVERFLOW);
		r->rq_flags |= RQ_F_CXOVF;
	}
	if (!(r->rq_flags & RQ_F_CXWAIT)) {
		TAILQ_INSERT_TAIL(&conn_cxwait[ci], r, rq_wait);
		r->rq_flags |= RQ_F_CXWAIT;
	}
	r->rq_wait_dl = wrk.w_now + CONN_CXWAIT_MS;
	if (c->c_state != CONN_S_CONNECT)
		conn_set_state(c, CONN_S_CONNECT);
	conn_req_timer_sync(r);
}

/* A new connection for a pending request (it holds its pending unit). */
static void
conn_connect(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_ups *u;
	char why[160];
	int err;

	if ((u = wrk_ups_connect(r)) == NULL) {
		if ((err = errno) == EBUSY) {
			conn_cx_wait(c, r);
			return;
		}
		snprintf(why, sizeof(why), "remote connection failure, "
		    "transport failure reason: immediate connect error: %s",
		    strerror(err));
		log_debug("conn %u: upstream %s: %s", c->c_id,
		    wrk.w_conf->c_clusters[r->rq_cluster].cl_name, why);
		conn_ups_unhold(r);
		WRK_CC(r->rq_cluster, CC_RQ_PENDING_FAILURE_EJECT);
		conn_try_failed(c, r, WRK_TRY_CONNECT_FAIL, 503, why);
		return;
	}
	conn_cx_unwait(r);
	r->rq_ups = u;
	if (c->c_state != CONN_S_CONNECT)
		conn_set_state(c, CONN_S_CONNECT);
}

/* A waiting request looks again: a pooled connection, or a slot. */
static void
conn_cx_retry(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_ups *u;

	if ((u = wrk_ups_pooled(r)) != NULL) {
		conn_cx_unwait(r);
		r->rq_ups = u;
		conn_ups_attach(c, r);
		return;
	}
	conn_connect(c, r);
}

bool
wrk_conn_cx_wake(int ci, uint32_t host_id, bool *same)
{
	struct wrk_req *r, *first;

	if ((first = TAILQ_FIRST(&conn_cxwait[ci])) == NULL)
		return false;
	TAILQ_FOREACH(r, &conn_cxwait[ci], rq_wait)
		if (r->rq_host.sh_id == host_id)
			break;
	*same = r != NULL;
	if (r == NULL)
		r = first;
	/* from the timer, after the caller is done with its connection */
	r->rq_wait_dl = wrk.w_now;
	conn_req_timer_sync(r);
	return true;
}

/*
 * Start an attempt of r on its chosen host (rq_hidx, rq_host): a pooled
 * connection unless fresh, else a new one, under the breakers.  Ends in
 * PROXY, CONNECT (connecting or waiting for a slot), BACKOFF (failed at
 * once, retrying) or REPLY.
 */
static void
conn_attempt(struct wrk_conn *c, struct wrk_req *r, bool fresh)
{
	int ci = r->rq_cluster;
	struct wrk_ups *u;

	if (r->rq_hidx < 32)
		r->rq_tried |= 1u << r->rq_hidx;
	/* with a pooled connection the take at attach decides at once */
	if (!fresh && (u = wrk_ups_pooled(r)) != NULL) {
		r->rq_ups = u;
		conn_ups_attach(c, r);
		return;
	}
	/* Envoy's canCreate() first: a full cluster costs no connect */
	if (wrk_breaker_full(ci, SHM_CB_RQ)) {
		conn_overflow(c, r);
		return;
	}
	if (!(r->rq_flags & RQ_F_PENDING)) {
		if (!wrk_breaker_acquire(ci, SHM_CB_PENDING)) {
			conn_overflow(c, r);
			return;
		}
		WRK_CC(ci, CC_RQ_PENDING_TOTAL);
		WRK_CG(ci, CG_RQ_PENDING_ACTIVE, 1);
		r->rq_flags |= RQ_F_PENDING;
	}
	conn_connect(c, r);
}

/* ---- the request head ------------------------------------------------ */

/* Counters of a weighted route's pick; a new sticky key is kept for the
 * set-cookie line of the response. */
static void
conn_canary_count(struct wrk_req *r, int ci, const struct wrk_canary *ca)
{
	if (ca->ca_override_unknown)
		WRK_HC(HC_CANARY_OVERRIDE_UNKNOWN);
	switch (ca->ca_by) {
	case WRK_PICK_OVERRIDE:
		WRK_CC(ci, CC_CANARY_OVERRIDE);
		break;
	case WRK_PICK_NEW_KEY:
		memcpy(r->rq_sticky_key, ca->ca_key, sizeof(r->rq_sticky_key));
		WRK_CC(ci, CC_CANARY_STICKY);
		break;
	case WRK_PICK_STICKY:
		WRK_CC(ci, CC_CANARY_STICKY);
		break;
	case WRK_PICK_SPLIT:
		break;
	}
}

/*
 * The head is parsed: check it the way Envoy's codec does, route it, pick
 * a cluster and a host, write the upstream head and find a connection.
 * Ends in CONNECT, PROXY, BACKOFF or REPLY.
 */
static void
conn_on_head(struct wrk_conn *c, struct wrk_req *r)
{
	const struct cd_listener *l = wrk.w_l;
	const char *base = c->c_in->b_data, *target, *auth = "", *uhost = NULL;
	size_t tlen, alen = 0, mlen, uhost_len = 0, need, len;
	const struct cd_vhost *vh;
	const struct cd_route *rt;
	const struct cd_retry_policy *rp;
	struct wrk_req_info ri;
	struct wrk_rq_view rv;
	struct wrk_req_head rh;
	struct wrk_canary ca;
	struct wrk_buf *out;
	int major, minor, ci = -1, hidx;
	uint32_t idx;

	r->rq_flags |= RQ_F_HEAD;
	r->rq_head_end = r->rq_p.h_head_end;
	r->rq_in_fwd = r->rq_head_end;
	conn_req_count(r);
	http1_version(&r->rq_p, &major, &minor);
	wrk_hdr_mark_request(base, r->rq_hdrs, r->rq_p.h_nhdrs, &ri);
	if (wrk_alog_on())
		conn_al_capture(r, base, &ri);
	if (http1_is_head_method(&r->rq_p))
		r->rq_flags |= RQ_F_HEAD_METHOD;
	if (http1_chunked(&r->rq_p))
		r->rq_flags |= RQ_F_CHUNKED;
	if (!http1_keep_alive(&r->rq_p) || wrk.w_draining)
		c->c_flags |= CONN_F_CLOSE;

	if (major != 1) {
		conn_codec_error(c, r, 400, "unsupported HTTP version", true);
		return;
	}
	if (minor == 0) {
		if (!l->l_accept_http_10) {
			conn_codec_error(c, r, 426, "HTTP/1.0 not accepted",
			    true);
			return;
		}
		r->rq_flags |= RQ_F_HTTP10;
	}
	if (ri.ri_bad_te) {
		conn_codec_error(c, r, 501, "unsupported transfer-encoding",
		    true);
		return;
	}
	if (!(r->rq_flags & RQ_F_HTTP10) && ri.ri_nhost == 0) {
		conn_codec_error(c, r, 400, "missing host header", false);
		return;
	}
	if (http1_upgrade(&r->rq_p) && !http1_is_connect(&r->rq_p)) {
		/* no upgrade is configured: Envoy refuses with 403 */
		log_debug("conn %u: upgrade refused", c->c_id);
		c->c_flags |= CONN_F_CLOSE;
		conn_reply(c, r, 403, NULL, 0);
		return;
	}

	target = base + r->rq_p.h_url.s_off;
	tlen = r->rq_p.h_url.s_len;
	if (tlen > 7 && strncasecmp(target, "http://", 7) == 0) {
		/* absolute form: the authority in the URL is the host */
		auth = target + 7;
		for (alen = 0; 7 + alen < tlen && auth[alen] != '/' &&
		    auth[alen] != '?'; alen++)
			;
		target = auth + alen;
		tlen -= 7 + alen;
		if (tlen == 0)
			target = "/", tlen = 1;
		uhost = auth;
		uhost_len = alen;
	} else if (ri.ri_host >= 0) {
		auth = base + r->rq_hdrs[ri.ri_host].h_value.s_off;
		alen = r->rq_hdrs[ri.ri_host].h_value.s_len;
	}
	mlen = alen;
	if (l->l_ignore_port_in_host_matching || l->l_strip_any_host_port)
		mlen = wrk_router_strip_port(auth, alen);
	if (l->l_strip_any_host_port && mlen != alen) {
		uhost = auth;
		uhost_len = mlen;
	} else if (l->l_strip_any_host_port && uhost != NULL)
		uhost_len = wrk_router_strip_port(uhost, uhost_len);

	if (http1_is_connect(&r->rq_p))
		c->c_flags |= CONN_F_CLOSE;
	vh = wrk_router_vhost(&wrk.w_router, auth, mlen);
	rt = NULL;
	if (vh != NULL && !http1_is_connect(&r->rq_p)) {
		memset(&rv, 0, sizeof(rv));
		rv.rv_base = base;
		rv.rv_path = target;
		rv.rv_path_len = tlen;
		rv.rv_hdrs = r->rq_hdrs;
		rv.rv_nhdrs = r->rq_p.h_nhdrs;
		rv.rv_authority = auth;
		rv.rv_authority_len = alen;
		rv.rv_scratch = wrk.w_scratch;
		rv.rv_scratch_len = wrk.w_scratch_len;
		rt = wrk_router_route(vh, &rv);
	}
	if (rt == NULL) {
		WRK_HC(HC_NO_ROUTE);
		r->rq_rflags |= ALOG_RF_NR;
		log_debug("conn %u: no route for %.*s%.*s", c->c_id,
		    (int)alen, auth, (int)(tlen > 200 ? 200 : tlen), target);
		conn_reply(c, r, 404, NULL, 0);
		return;
	}
	r->rq_route = rt;
	switch (rt->rt_action) {
	case CD_RA_DIRECT:
		WRK_HC(HC_RQ_DIRECT_RESPONSE);
		conn_reply(c, r, rt->rt_direct_status, rt->rt_direct_body,
		    rt->rt_direct_body_len);
		return;
	case CD_RA_CLUSTER:
		ci = rt->rt_cluster;
		break;
	case CD_RA_WEIGHTED:
		idx = wrk_router_pick_canary(rt, &rv,
		    &wrk.w_shm->splits[wrk.w_place->pl_split[rt->rt_wi]],
		    &wrk.w_splits[wrk.w_place->pl_split[rt->rt_wi]], &ca);
		ci = rt->rt_wc[idx].wc_cluster;
		break;
	}
	WRK_HC(HC_RQ_ROUTER_TOTAL);
	if (ci < 0 || (size_t)ci >= wrk.w_conf->c_nclusters) {
		WRK_HC(HC_NO_CLUSTER);
		r->rq_rflags |= ALOG_RF_NC;
		conn_reply(c, r, rt->rt_cluster_not_found_code, NULL, 0);
		return;
	}
	if (rt->rt_action == CD_RA_WEIGHTED)
		conn_canary_count(r, ci, &ca);
	r->rq_cluster = ci;
	if ((hidx = wrk_ups_pick_host(ci, &r->rq_host, 0)) < 0) {
		WRK_CC(ci, CC_CX_NONE_HEALTHY);
		log_debug("conn %u: %s: no healthy upstream", c->c_id,
		    wrk.w_conf->c_clusters[ci].cl_name);
		/* nothing went anywhere yet: the fallback takes it as is */
		if ((ci = conn_fallback_cluster(r)) >= 0 &&
		    (hidx = wrk_ups_pick_host(ci, &r->rq_host, 0)) >= 0) {
			WRK_CC(r->rq_cluster, CC_CANARY_FALLBACK);
			r->rq_flags |= RQ_F_FALLBACK;
			r->rq_cluster = ci;
		} else {
			r->rq_rflags |= ALOG_RF_UH;
			conn_reply(c, r, 503, "no healthy upstream", 19);
			return;
		}
	}
	r->rq_hidx = hidx;
	rp = &rt->rt_retry;
	r->rq_try_ms = (uint32_t)wrk_retry_per_try_ms(rp,
	    conn_ms(rt->rt_timeout));
	/* a route that may retry keeps the request for a replay; so does
	 * one with a fallback that a retriable failure may reach, even
	 * with num_retries 0 */
	if (rp->rp_set && rp->rp_retry_on != 0 && (rp->rp_num_retries > 0 ||
	    rt->rt_fallback >= 0))
		r->rq_flags |= RQ_F_KEEP;

	/* the upstream head */
	memset(&rh, 0, sizeof(rh));
	if (ri.ri_rid < 0 && l->l_generate_request_id) {
		wrk_hdr_uuid4(r->rq_rid);
		r->rq_rid_len = WRK_UUID_LEN;
		rh.rh_request_id = r->rq_rid;
	} else if (ri.ri_rid >= 0 && l->l_always_set_request_id_in_response &&
	    r->rq_hdrs[ri.ri_rid].h_value.s_len <= sizeof(r->rq_rid)) {
		r->rq_rid_len = (uint8_t)r->rq_hdrs[ri.ri_rid].h_value.s_len;
		memcpy(r->rq_rid, base + r->rq_hdrs[ri.ri_rid].h_value.s_off,
		    r->rq_rid_len);
	}
	rh.rh_base = base;
	rh.rh_hdrs = r->rq_hdrs;
	rh.rh_nhdrs = r->rq_p.h_nhdrs;
	rh.rh_method = http1_method(&r->rq_p);
	rh.rh_target = target;
	rh.rh_target_len = tlen;
	rh.rh_host = uhost;
	rh.rh_host_len = uhost_len;
	rh.rh_add_xfp = !ri.ri_has_xfp;
	rh.rh_expected_ms = wrk_retry_expected_ms(r->rq_try_ms,
	    conn_ms(rt->rt_timeout), 0);
	rh.rh_chunked = (r->rq_flags & RQ_F_CHUNKED) != 0;
	need = r->rq_head_end + wrk_hdr_request_extra(rh.rh_nhdrs, uhost_len);
	out = need <= WRK_BUF_SMALL ? wrk_buf_get() : wrk_buf_get_large();
	if (out == NULL) {
		wrk_conn_close(c, "out of buffers", false);
		return;
	}
	r->rq_out = out;
	if ((len = wrk_hdr_build_request(out->b_data, out->b_size, &rh)) ==
	    0) {
		conn_codec_error(c, r, 431, "request head too large", true);
		return;
	}
	r->rq_uhead_len = (uint32_t)len;
	conn_resp_parser_init(r);

	/* Envoy answers Expect: 100-continue itself, if the body is not
	 * here already */
	if (ri.ri_expect_100) {
		conn_parse_buffered(c, r);
		if (!(r->rq_flags & RQ_F_REQ_DONE))
			r->rq_100_want = 1;
	}
	conn_attempt(c, r, false);
}

/* ---- reading the head --------------------------------------------------- */

/* No request in progress: the idle timeout applies (armed lazily). */
static void
conn_go_idle(struct wrk_conn *c)
{
	conn_set_state(c, CONN_S_IDLE);
	c->c_since = wrk.w_now;
	if (to_idle > 0 && !wrk_timer_is_armed(&c->c_timer))
		wrk_timer_set(&c->c_timer, wrk.w_now + to_idle);
}

/* Headers did not fit the small buffer: move them to a large one. */
static int
conn_in_grow(struct wrk_buf **bp)
{
	struct wrk_buf *b = *bp, *nb;

	if (b->b_large || (nb = wrk_buf_get_large()) == NULL)
		return -1;
	memcpy(nb->b_data, b->b_data, b->b_len);
	nb->b_len = b->b_len;
	nb->b_off = b->b_off;
	wrk_buf_put(b);
	*bp = nb;
	return 0;
}

static void
conn_read_head(struct wrk_conn *c)
{
	struct wrk_req *r;
	struct wrk_buf *in;
	enum http1_ev ev;
	uint32_t used;
	ssize_t n;
	size_t room;

	for (;;) {
		r = c->c_req;
		in = c->c_in;
		if (r != NULL && r->rq_in_parsed < in->b_len) {
			ev = http1_feed(&r->rq_p, in->b_data,
			    r->rq_in_parsed, in->b_len - r->rq_in_parsed,
			    &used);
			r->rq_in_parsed += used;
			if (r->rq_p.h_flags & HTTP1_F_BEGUN)
				conn_req_count(r);
			if (ev == HTTP1_HEAD) {
				conn_on_head(c, r);
				return;
			}
			if (ev != HTTP1_MORE) {
				conn_parse_error(c, r);
				return;
			}
			if (!(r->rq_p.h_flags & HTTP1_F_BEGUN) &&
			    r->rq_in_parsed == in->b_len) {
				/* blank lines between requests: still idle */
				conn_req_free(c, r);
				in->b_len = 0;
				conn_go_idle(c);
				continue;
			}
		}
		if (!c->c_ev.ev_rready)
			break;
		if (in == NULL && (in = c->c_in = wrk_buf_get()) == NULL) {
			wrk_conn_close(c, "out of buffers", false);
			return;
		}
		if (in->b_len == in->b_size) {
			if (conn_in_grow(&c->c_in) == -1) {
				if (r == NULL && (r = conn_req_new(c)) ==
				    NULL) {
					wrk_conn_close(c, "out of memory",
					    false);
					return;
				}
				conn_codec_error(c, r, 431,
				    "request head too large", true);
				return;
			}
			continue;
		}
		room = in->b_size - in->b_len;
		n = read(c->c_ev.ev_fd, in->b_data + in->b_len, room);
		if (n > 0) {
			WRK_HC_N(HC_CX_RX_BYTES, (uint64_t)n);
			if ((size_t)n < room)
				wrk_ev_short_read(&c->c_ev);
			in->b_len += (uint32_t)n;
			if (r == NULL && (r = conn_req_new(c)) == NULL) {
				wrk_conn_close(c, "out of memory", false);
				return;
			}
			r->rq_io = wrk.w_now;
			continue;
		}
		if (n == 0) {
			wrk_conn_close(c, r == NULL ? "peer closed" :
			    "peer closed inside a request head", true);
			return;
		}
		if (errno == EAGAIN) {
			c->c_ev.ev_rready = 0;
			break;
		}
		if (errno == EINTR)
			continue;
		wrk_conn_close(c, strerror(errno), true);
		return;
	}
	/* an idle connection holds no buffer */
	if (c->c_req == NULL && c->c_in != NULL && c->c_in->b_len == 0) {
		wrk_buf_put(c->c_in);
		c->c_in = NULL;
	}
}

/* ---- proxying ---------------------------------------------------------- */

static void
conn_req_complete(struct wrk_conn *c, struct wrk_req *r)
{
	const struct cd_route *rt = r->rq_route;

	(void)c;
	r->rq_flags |= RQ_F_REQ_DONE;
	r->rq_done = wrk.w_now;
	/* w_now is per turn and in ms: too coarse for local latencies */
	r->rq_done_us = conn_now_us();
	if (r->rq_100 == 0)
		r->rq_100_want = 0;	/* the client did not wait for it */
	if (r->rq_cluster >= 0 && rt != NULL && rt->rt_timeout > 0 &&
	    !(r->rq_flags & RQ_F_RESP_DONE))
		r->rq_route_dl = wrk.w_now + conn_ms(rt->rt_timeout);
	if (r->rq_try_ms > 0 && (r->rq_flags & RQ_F_ATTACHED) &&
	    r->rq_try_dl == 0 && !(r->rq_flags & RQ_F_RESP_DONE))
		r->rq_try_dl = wrk.w_now + r->rq_try_ms;
}

/*
 * Make room in c_in by dropping bytes already sent upstream.  The body is
 * then no longer whole, so a stale-connection retry becomes impossible.
 * Returns 1 if room was made.
 */
static int
conn_in_compact(struct wrk_req *r, struct wrk_buf *in)
{
	uint32_t keep = r->rq_in_fwd < r->rq_in_parsed ? r->rq_in_fwd :
	    r->rq_in_parsed;

	if (keep == 0)
		return 0;
	if (r->rq_al_have != 0 && !(r->rq_flags & RQ_F_HEAD_GONE))
		conn_al_keep_head(r, in);
	memmove(in->b_data, in->b_data + keep, in->b_len - keep);
	in->b_len -= keep;
	r->rq_in_parsed -= keep;
	r->rq_in_fwd -= keep;
	r->rq_flags |= RQ_F_HEAD_GONE;
	if (keep > r->rq_head_end) {
		r->rq_flags |= RQ_F_BODY_LOST;
		r->rq_head_end = 0;
	} else
		r->rq_head_end -= keep;
	return 1;
}

/*
 * c_in is full and r keeps its body for a retry: move it to a bigger
 * buffer -- the large free list first, then a malloc'd one doubling up to
 * the head plus the listener's buffer limit, freed when the request ends.
 * Past the limit the request gives up retries (Envoy's
 * retry_or_shadow_abandoned) and c_in may drop what went upstream; if it
 * was waiting out a back-off there is no attempt to carry on with, and
 * the client gets Envoy's 507.  Returns true when c_in grew.
 */
static bool
conn_in_keep(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *in = c->c_in, *nb;
	uint64_t cap = (uint64_t)r->rq_head_end + wrk.w_l->l_buffer_limit;
	uint64_t size;

	if (in->b_size < cap) {
		size = (uint64_t)in->b_size * 2;
		if (size < wrk_buf_large_size())
			size = wrk_buf_large_size();
		if (size > cap)
			size = cap;
		nb = in->b_large == WRK_BUF_C_SMALL && size ==
		    wrk_buf_large_size() ? wrk_buf_get_large() :
		    wrk_buf_get_sized((uint32_t)size);
		if (nb != NULL) {
			memcpy(nb->b_data, in->b_data, in->b_len);
			nb->b_len = in->b_len;
			nb->b_off = in->b_off;
			wrk_buf_put(in);
			c->c_in = nb;
			return true;
		}
	}
	r->rq_flags &= ~RQ_F_KEEP;
	r->rq_flags |= RQ_F_NORETRY;
	WRK_CC(r->rq_cluster, CC_RETRY_OR_SHADOW_ABANDONED);
	log_debug("conn %u: request body over %u bytes: no retry", c->c_id,
	    wrk.w_l->l_buffer_limit);
	if (c->c_state == CONN_S_BACKOFF)
		conn_reply(c, r, 507, "exceeded request buffer limit "
		    "while retrying upstream", 53);
	return false;
}

/* Client -> c_in -> request parser, body phase. */
static enum cd_rc
conn_rx_body(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_buf *in = c->c_in;
	enum http1_ev ev;
	uint32_t used;
	size_t room;
	ssize_t n;

	if ((r->rq_flags & RQ_F_REQ_DONE) || c->c_state == CONN_S_REPLY)
		return CD_OK;
	for (;;) {
		if (r->rq_in_parsed < in->b_len) {
			ev = http1_feed(&r->rq_p, in->b_data,
			    r->rq_in_parsed, in->b_len - r->rq_in_parsed,
			    &used);
			r->rq_in_parsed += used;
			if (used > 0)
				*progress = 1;
			if (ev == HTTP1_DONE) {
				conn_req_complete(c, r);
				return CD_OK;
			}
			if (ev == HTTP1_ERROR) {
				conn_ups_drop(r, false);
				conn_parse_error(c, r);
				return c->c_state == CONN_S_CLOSED ? CD_ERR :
				    CD_OK;
			}
		}
		if (!c->c_ev.ev_rready)
			return CD_OK;
		if (in->b_len == in->b_size && (r->rq_flags & RQ_F_KEEP)) {
			if (conn_in_keep(c, r)) {
				in = c->c_in;
				continue;
			}
			if (c->c_state == CONN_S_REPLY)
				return CD_OK;
		}
		if (in->b_len == in->b_size && !conn_in_compact(r, in))
			return CD_OK;
		room = in->b_size - in->b_len;
		n = read(c->c_ev.ev_fd, in->b_data + in->b_len, room);
		if (n > 0) {
			WRK_HC_N(HC_CX_RX_BYTES, (uint64_t)n);
			if ((size_t)n < room)
				wrk_ev_short_read(&c->c_ev);
			in->b_len += (uint32_t)n;
			r->rq_io = wrk.w_now;
			*progress = 1;
			continue;
		}
		if (n == 0) {
			wrk_conn_close(c, "peer closed inside a request", true);
			return CD_ERR;
		}
		if (errno == EAGAIN) {
			c->c_ev.ev_rready = 0;
			return CD_OK;
		}
		if (errno == EINTR)
			continue;
		wrk_conn_close(c, strerror(errno), true);
		return CD_ERR;
	}
}

/* Upstream head and body bytes -> upstream. */
static enum cd_rc
conn_tx_ups(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *in = c->c_in;
	struct iovec iov[2];
	size_t total = 0, k;
	ssize_t n;
	int niov = 0;

	if (u == NULL || u->u_state != UPS_S_BUSY ||
	    (r->rq_flags & (RQ_F_UREQ_SENT | RQ_F_UPS_WSTOP)))
		return CD_OK;
	if ((r->rq_flags & (RQ_F_UHEAD_SENT | RQ_F_REQ_DONE)) ==
	    (RQ_F_UHEAD_SENT | RQ_F_REQ_DONE) &&
	    r->rq_in_fwd >= r->rq_in_parsed) {
		r->rq_flags |= RQ_F_UREQ_SENT;
		return CD_OK;
	}
	if (!u->u_ev.ev_wready)
		return CD_OK;
	if (!(r->rq_flags & RQ_F_UHEAD_SENT)) {
		iov[niov].iov_base = r->rq_out->b_data + r->rq_uhead_off;
		iov[niov].iov_len = r->rq_uhead_len - r->rq_uhead_off;
		total += iov[niov++].iov_len;
	}
	if (r->rq_in_parsed > r->rq_in_fwd) {
		iov[niov].iov_base = in->b_data + r->rq_in_fwd;
		iov[niov].iov_len = r->rq_in_parsed - r->rq_in_fwd;
		total += iov[niov++].iov_len;
	}
	if (niov == 0) {
		if (r->rq_flags & RQ_F_REQ_DONE)
			r->rq_flags |= RQ_F_UREQ_SENT;
		return CD_OK;
	}
	do
		n = writev(u->u_ev.ev_fd, iov, niov);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN) {
			u->u_ev.ev_wready = 0;
			return CD_OK;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			/* it may have answered before closing (413 and the
			 * like): stop sending and read what is there */
			r->rq_flags |= RQ_F_UPS_NOREUSE | RQ_F_UPS_WSTOP;
			u->u_ev.ev_rready = 1;
			*progress = 1;
			return CD_OK;
		}
		conn_ups_broken(c, r, errno);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
	}
	*progress = 1;
	r->rq_io = wrk.w_now;
	WRK_CC_N(r->rq_cluster, CC_CX_TX_BYTES, (uint64_t)n);
	if ((size_t)n < total)
		u->u_ev.ev_wready = 0;
	k = (size_t)n;
	if (!(r->rq_flags & RQ_F_UHEAD_SENT)) {
		size_t h = r->rq_uhead_len - r->rq_uhead_off;

		if (k < h) {
			r->rq_uhead_off += (uint32_t)k;
			return CD_OK;
		}
		k -= h;
		r->rq_uhead_off = r->rq_uhead_len;
		r->rq_flags |= RQ_F_UHEAD_SENT;
	}
	r->rq_in_fwd += (uint32_t)k;
	if ((r->rq_flags & RQ_F_REQ_DONE) && r->rq_in_fwd == r->rq_in_parsed)
		r->rq_flags |= RQ_F_UREQ_SENT;
	return CD_OK;
}

static bool
conn_frame_copies(const struct wrk_req *r)
{
	return r->rq_frame == WRK_FRAME_RECHUNK ||
	    r->rq_frame == WRK_FRAME_DECHUNK;
}

/* The response head arrived: write the client head, pick the framing. */
static enum cd_rc
conn_resp_head(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *uin = r->rq_uin, *out = r->rq_out;
	struct wrk_resp_info si;
	struct wrk_resp_head sh;
	uint16_t st = http1_status(&r->rq_rp), i;
	int ci = r->rq_cluster;
	size_t need, len;

	wrk_hdr_mark_response(uin->b_data, r->rq_hdrs, r->rq_rp.h_nhdrs, &si);
	r->rq_frame = (uint8_t)wrk_hdr_framing(
	    (r->rq_flags & RQ_F_HEAD_METHOD) != 0, st,
	    http1_has_length(&r->rq_rp), http1_chunked(&r->rq_rp),
	    http1_until_eof(&r->rq_rp), (r->rq_flags & RQ_F_HTTP10) != 0);
	if (r->rq_frame == WRK_FRAME_RECHUNK || r->rq_frame == WRK_FRAME_EOF) {
		/* a length next to a non-chunked coding frames nothing */
		for (i = 0; i < r->rq_rp.h_nhdrs; i++)
			if (WRK_H_KIND(r->rq_hdrs[i].h_kind) ==
			    WRK_H_CONTENT_LENGTH)
				r->rq_hdrs[i].h_kind |= WRK_H_F_DROP;
	}
	if (r->rq_frame == WRK_FRAME_EOF || r->rq_frame == WRK_FRAME_DECHUNK ||
	    !(r->rq_flags & RQ_F_REQ_DONE))
		c->c_flags |= CONN_F_CLOSE;
	if (si.si_conn_close) {
		WRK_CC(ci, CC_CX_CLOSE_NOTIFY);
		r->rq_flags |= RQ_F_UPS_NOREUSE;
	}
	if (!(r->rq_flags & RQ_F_UHEAD_SENT))	/* answered early */
		r->rq_flags |= RQ_F_UPS_NOREUSE | RQ_F_UPS_WSTOP;
	if (r->rq_100 == 0)
		r->rq_100_want = 0;

	memset(&sh, 0, sizeof(sh));
	sh.sh_base = uin->b_data;
	sh.sh_hdrs = r->rq_hdrs;
	sh.sh_nhdrs = r->rq_rp.h_nhdrs;
	sh.sh_status = st;
	sh.sh_server = wrk.w_server;
	sh.sh_server_len = wrk.w_server_len;
	sh.sh_date = wrk_hdr_date(wrk.w_now_s);
	sh.sh_has_date = si.si_has_date;
	sh.sh_service_ms = r->rq_done != 0 ? (int64_t)(wrk.w_now - r->rq_done) :
	    -1;
	r->rq_svc_ms1 = sh.sh_service_ms >= 0 && sh.sh_service_ms < UINT32_MAX ?
	    (uint32_t)sh.sh_service_ms + 1 : 0;
	sh.sh_chunked = r->rq_frame == WRK_FRAME_RECHUNK ||
	    r->rq_frame == WRK_FRAME_CHUNKED;
	sh.sh_conn = conn_conn_hdr(c, r);
	if (wrk.w_l->l_always_set_request_id_in_response && r->rq_rid_len > 0) {
		sh.sh_request_id = r->rq_rid;
		sh.sh_request_id_len = r->rq_rid_len;
	}
	need = r->rq_rp.h_head_end + wrk_hdr_response_extra(sh.sh_nhdrs,
	    sh.sh_server_len, sh.sh_request_id_len);
	if (r->rq_sticky_key[0] != '\0')
		need += wrk_sticky_set_cookie_len(
		    r->rq_route->rt_sticky.st_cookie);
	if (out->b_size < need) {
		struct wrk_buf *nb = wrk_buf_get_large();

		if (nb == NULL || nb->b_size < need) {
			wrk_buf_put(nb);
			conn_ups_protocol_error(c, r);
			return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
		}
		wrk_buf_put(out);
		out = r->rq_out = nb;
	}
	if ((len = wrk_hdr_build_response(out->b_data, out->b_size, &sh)) ==
	    0) {
		conn_ups_protocol_error(c, r);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
	}
	/* sticky set_cookie: the new key, so the browser keeps its version */
	if (r->rq_sticky_key[0] != '\0' && (need = wrk_sticky_set_cookie(
	    out->b_data, len, out->b_size, r->rq_route->rt_sticky.st_cookie,
	    r->rq_sticky_key)) > 0)
		len = need;
	out->b_off = 0;
	out->b_len = (uint32_t)len;
	uin->b_off = r->rq_rp.h_head_end;
	if (r->rq_frame == WRK_FRAME_DECHUNK)
		http1_set_collect(&r->rq_rp);
	r->rq_flags |= RQ_F_RESP_HEAD;
	conn_count_code(r, st);
	if (st >= CD_CODE_MIN && st <= CD_CODE_MAX)
		wrk_ctr(&WRK_SLOT_CL(ci)->cc_code[st - CD_CODE_MIN], 1);
	WRK_HOC(ci, r->rq_hidx, st >= 500 ? HOC_RQ_ERROR : HOC_RQ_SUCCESS);
	return CD_OK;
}

/* The upstream response is complete: pool or close its connection. */
static void
conn_resp_done(struct wrk_conn *c, struct wrk_req *r, bool eof)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *out = r->rq_out;
	uint64_t now_us;
	bool reuse;

	r->rq_flags |= RQ_F_RESP_DONE;
	r->rq_route_dl = r->rq_try_dl = 0;
	/*
	 * Envoy's upstream_rq_time: from the end of the downstream request to
	 * the end of the final upstream response (a retried response never
	 * gets here).  A response that ended before the request did has no
	 * such span and is not recorded.
	 */
	if (r->rq_done_us != 0) {
		now_us = conn_now_us();
		hist_record(WRK_SLOT_CL(r->rq_cluster)->cc_rq_time,
		    &WRK_SLOT_CL(r->rq_cluster)->cc_rq_time_sum_us,
		    now_us > r->rq_done_us ? now_us - r->rq_done_us : 0);
	}
	if (r->rq_frame == WRK_FRAME_RECHUNK) {
		memcpy(out->b_data + out->b_len, "0\r\n\r\n", 5);
		out->b_len += 5;
	}
	/* a FIN that came with the response: the backend is closing */
	reuse = !eof && !u->u_ev.ev_rdhup &&
	    !(r->rq_flags & RQ_F_UPS_NOREUSE) &&
	    (r->rq_flags & RQ_F_UREQ_SENT) &&
	    http1_keep_alive(&r->rq_rp) &&
	    r->rq_uin_parsed == r->rq_uin->b_len;
	conn_ups_unhold(r);
	conn_retry_unhold(r);
	r->rq_ups = NULL;
	if (reuse)
		wrk_ups_release(u);
	else
		wrk_ups_close(u, eof);
	conn_set_state(c, CONN_S_REPLY);
}

/* Append one chunk "<hex>\r\n<data>\r\n" to out (room was checked). */
static void
conn_put_chunk(struct wrk_buf *out, const char *data, size_t len)
{
	int n;

	if (len == 0)
		return;
	n = snprintf(out->b_data + out->b_len, 12, "%zx\r\n", len);
	out->b_len += (uint32_t)n;
	memcpy(out->b_data + out->b_len, data, len);
	out->b_len += (uint32_t)len;
	memcpy(out->b_data + out->b_len, "\r\n", 2);
	out->b_len += 2;
}

/* Parse what rq_uin holds: head, interim responses, body. */
static enum cd_rc
conn_resp_parse(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *uin = r->rq_uin, *out;
	enum http1_ev ev;
	uint32_t avail, used, i;
	uint16_t st;

	while (r->rq_uin_parsed < uin->b_len &&
	    !(r->rq_flags & RQ_F_RESP_DONE)) {
		avail = uin->b_len - r->rq_uin_parsed;
		out = r->rq_out;
		if ((r->rq_flags & RQ_F_RESP_HEAD) && conn_frame_copies(r)) {
			/* copying modes: parse only what out can take */
			if (out->b_off == out->b_len)
				out->b_off = out->b_len = 0;
			if (out->b_size - out->b_len <= 32)
				return CD_OK;
			if (avail > out->b_size - out->b_len - 32)
				avail = out->b_size - out->b_len - 32;
		}
		ev = http1_feed(&r->rq_rp, uin->b_data, r->rq_uin_parsed,
		    avail, &used);
		r->rq_uin_parsed += used;
		if (!(r->rq_flags & RQ_F_RESP_HEAD)) {
			switch (ev) {
			case HTTP1_MORE:
				return CD_OK;
			case HTTP1_HEAD:
				st = http1_status(&r->rq_rp);
				if (st / 100 == 1 && st != 101)
					continue;	/* interim: dropped */
				if (st == 101 || st < CD_CODE_MIN ||
				    st > CD_CODE_MAX) {
					conn_ups_protocol_error(c, r);
					return c->c_state == CONN_S_CLOSED ?
					    CD_ERR : CD_OK;
				}
				if (conn_resp_retry(c, r, st))
					return CD_OK;	/* dropped: retrying */
				if (conn_resp_head(c, r) != CD_OK)
					return CD_ERR;
				if (!(r->rq_flags & RQ_F_RESP_HEAD))
					return CD_OK;	/* replied instead */
				continue;
			case HTTP1_DONE:
				/* a 1xx ended: forget it, keep reading */
				memmove(uin->b_data, uin->b_data +
				    r->rq_uin_parsed, uin->b_len -
				    r->rq_uin_parsed);
				uin->b_len -= r->rq_uin_parsed;
				uin->b_off = 0;
				r->rq_uin_parsed = 0;
				conn_resp_parser_init(r);
				continue;
			default:
				conn_ups_protocol_error(c, r);
				return c->c_state == CONN_S_CLOSED ? CD_ERR :
				    CD_OK;
			}
		}
		/* body */
		if (r->rq_frame == WRK_FRAME_RECHUNK) {
			if (r->rq_uin_parsed > uin->b_off) {
				conn_put_chunk(out, uin->b_data + uin->b_off,
				    r->rq_uin_parsed - uin->b_off);
				uin->b_off = r->rq_uin_parsed;
			}
		} else if (r->rq_frame == WRK_FRAME_DECHUNK) {
			for (i = 0; i < r->rq_rp.h_nbody; i++) {
				memcpy(out->b_data + out->b_len, uin->b_data +
				    r->rq_rp.h_body[i].s_off,
				    r->rq_rp.h_body[i].s_len);
				out->b_len += r->rq_rp.h_body[i].s_len;
			}
			uin->b_off = r->rq_uin_parsed;
		}
		if (ev == HTTP1_DONE) {
			if (!conn_frame_copies(r) && r->rq_uin_parsed <
			    uin->b_off)
				uin->b_off = r->rq_uin_parsed;
			conn_resp_done(c, r, false);
			return CD_OK;
		}
		if (ev == HTTP1_ERROR) {
			conn_ups_protocol_error(c, r);
			return CD_ERR;
		}
	}
	return CD_OK;
}

/* The upstream closed its side. */
static enum cd_rc
conn_resp_eof(struct wrk_conn *c, struct wrk_req *r)
{
	enum http1_ev ev;

	if (!(r->rq_flags & RQ_F_RESP_HEAD)) {
		conn_ups_broken(c, r, 0);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
	}
	ev = http1_eof(&r->rq_rp);
	if (ev == HTTP1_DONE) {
		if (r->rq_frame == WRK_FRAME_RECHUNK &&
		    r->rq_uin_parsed > r->rq_uin->b_off) {
			conn_put_chunk(r->rq_out, r->rq_uin->b_data +
			    r->rq_uin->b_off, r->rq_uin_parsed -
			    r->rq_uin->b_off);
			r->rq_uin->b_off = r->rq_uin_parsed;
		}
		conn_resp_done(c, r, true);
		return CD_OK;
	}
	conn_ups_broken(c, r, 0);
	return CD_ERR;
}

/* Upstream -> rq_uin -> response parser. */
static enum cd_rc
conn_rx_ups(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *uin;
	size_t room;
	ssize_t n;

	if (u == NULL || u->u_state != UPS_S_BUSY ||
	    (r->rq_flags & RQ_F_RESP_DONE))
		return CD_OK;
	if ((uin = r->rq_uin) == NULL) {
		if (!u->u_ev.ev_rready)
			return CD_OK;
		if ((uin = r->rq_uin = wrk_buf_get()) == NULL) {
			wrk_conn_close(c, "out of buffers", false);
			return CD_ERR;
		}
	}
	if (r->rq_uin_parsed < uin->b_len) {
		if (conn_resp_parse(c, r) != CD_OK)
			return CD_ERR;
		if (r->rq_ups == NULL)
			return CD_OK;
	}
	/* the end of the stream counts only once every byte before it did */
	if (r->rq_flags & RQ_F_UPS_EOF) {
		if (r->rq_uin_parsed < uin->b_len)
			return CD_OK;
		*progress = 1;
		return conn_resp_eof(c, r);
	}
	while (u->u_ev.ev_rready) {
		if (uin->b_len == uin->b_size) {
			if (!(r->rq_flags & RQ_F_RESP_HEAD)) {
				if (conn_in_grow(&r->rq_uin) == -1) {
					conn_ups_protocol_error(c, r);
					return c->c_state == CONN_S_CLOSED ?
					    CD_ERR : CD_OK;
				}
				uin = r->rq_uin;
			} else if (uin->b_off > 0 && uin->b_off <=
			    r->rq_uin_parsed) {
				memmove(uin->b_data, uin->b_data + uin->b_off,
				    uin->b_len - uin->b_off);
				uin->b_len -= uin->b_off;
				r->rq_uin_parsed -= uin->b_off;
				uin->b_off = 0;
			} else
				return CD_OK;	/* the client is slower */
		}
		room = uin->b_size - uin->b_len;
		n = read(u->u_ev.ev_fd, uin->b_data + uin->b_len, room);
		if (n > 0) {
			WRK_CC_N(r->rq_cluster, CC_CX_RX_BYTES, (uint64_t)n);
			if ((size_t)n < room)
				wrk_ev_short_read(&u->u_ev);
			uin->b_len += (uint32_t)n;
			r->rq_io = wrk.w_now;
			r->rq_flags |= RQ_F_UPS_BYTES;
			*progress = 1;
			if (conn_resp_parse(c, r) != CD_OK)
				return CD_ERR;
			if (r->rq_ups == NULL || (r->rq_flags & RQ_F_RESP_DONE))
				return CD_OK;
			continue;
		}
		if (n == 0) {
			u->u_ev.ev_rready = 0;
			r->rq_flags |= RQ_F_UPS_EOF;
			*progress = 1;
			if (r->rq_uin_parsed < uin->b_len)
				return CD_OK;	/* parse the rest first */
			return conn_resp_eof(c, r);
		}
		if (errno == EAGAIN) {
			u->u_ev.ev_rready = 0;
			return CD_OK;
		}
		if (errno == EINTR)
			continue;
		*progress = 1;
		conn_ups_broken(c, r, errno);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
	}
	return CD_OK;
}

static bool
conn_raw_body(const struct wrk_req *r)
{
	return (r->rq_flags & RQ_F_RESP_HEAD) && r->rq_uin != NULL &&
	    (r->rq_frame == WRK_FRAME_LENGTH || r->rq_frame ==
	    WRK_FRAME_CHUNKED || r->rq_frame == WRK_FRAME_EOF);
}

/* Bytes waiting for the client, in order; returns the iovec count. */
static int
conn_client_iov(struct wrk_req *r, struct iovec *iov, size_t *total)
{
	struct wrk_buf *out = r->rq_out, *uin = r->rq_uin;
	int n = 0;

	*total = 0;
	if (r->rq_100_want && r->rq_100 < CONN_100_LEN) {
		iov[n].iov_base = (void *)(uintptr_t)(conn_100 + r->rq_100);
		iov[n].iov_len = CONN_100_LEN - r->rq_100;
		*total += iov[n++].iov_len;
	}
	if (!(r->rq_flags & RQ_F_RESP_HEAD))
		return n;
	if (out != NULL && out->b_off < out->b_len) {
		iov[n].iov_base = out->b_data + out->b_off;
		iov[n].iov_len = out->b_len - out->b_off;
		*total += iov[n++].iov_len;
	}
	if (r->rq_body_len > 0) {
		iov[n].iov_base = (void *)(uintptr_t)r->rq_body;
		iov[n].iov_len = r->rq_body_len;
		*total += iov[n++].iov_len;
	}
	if (conn_raw_body(r) && r->rq_uin_parsed > uin->b_off) {
		iov[n].iov_base = uin->b_data + uin->b_off;
		iov[n].iov_len = r->rq_uin_parsed - uin->b_off;
		*total += iov[n++].iov_len;
	}
	return n;
}

/* Response bytes -> client. */
static enum cd_rc
conn_tx_client(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_buf *out = r->rq_out, *uin = r->rq_uin;
	struct iovec iov[4];
	size_t total, k, step;
	ssize_t n;
	int niov;

	if (!c->c_ev.ev_wready)
		return CD_OK;
	if ((niov = conn_client_iov(r, iov, &total)) == 0)
		return CD_OK;
	do
		n = writev(c->c_ev.ev_fd, iov, niov);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN) {
			c->c_ev.ev_wready = 0;
			return CD_OK;
		}
		wrk_conn_close(c, strerror(errno), true);
		return CD_ERR;
	}
	*progress = 1;
	r->rq_io = wrk.w_now;
	WRK_HC_N(HC_CX_TX_BYTES, (uint64_t)n);
	if ((size_t)n < total)
		c->c_ev.ev_wready = 0;
	k = (size_t)n;
	if (r->rq_100_want && r->rq_100 < CONN_100_LEN) {
		step = CONN_100_LEN - r->rq_100;
		step = k < step ? k : step;
		r->rq_100 += (uint8_t)step;
		k -= step;
	}
	if (k > 0 && out != NULL && out->b_off < out->b_len) {
		step = out->b_len - out->b_off;
		step = k < step ? k : step;
		out->b_off += (uint32_t)step;
		k -= step;
	}
	if (out != NULL && out->b_off == out->b_len && (r->rq_flags &
	    RQ_F_RESP_HEAD))
		out->b_off = out->b_len = 0;
	if (k > 0 && r->rq_body_len > 0) {
		step = k < r->rq_body_len ? k : r->rq_body_len;
		r->rq_body += step;
		r->rq_body_len -= (uint32_t)step;
		k -= step;
	}
	if (k > 0) {
		uin->b_off += (uint32_t)k;
		if (uin->b_off == uin->b_len &&
		    r->rq_uin_parsed == uin->b_len) {
			uin->b_off = uin->b_len = 0;
			r->rq_uin_parsed = 0;
		}
	}
	return CD_OK;
}

static bool
conn_out_pending(struct wrk_req *r)
{
	struct iovec iov[4];
	size_t total;

	return conn_client_iov(r, iov, &total) > 0;
}

/* The request ended cleanly: get ready for the next one. */
static void
conn_req_finish(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *in = c->c_in;
	uint32_t rest = in != NULL ? in->b_len - r->rq_in_parsed : 0;

	conn_req_log(c, r);	/* while c_in still holds its head */
	if (rest > 0) {
		/* pipelined bytes: the next request starts at offset 0 */
		memmove(in->b_data, in->b_data + r->rq_in_parsed, rest);
		in->b_len = rest;
		in->b_off = 0;
		/* a buffer grown for a kept body goes back now if it can */
		if (in->b_large != WRK_BUF_C_SMALL && rest <= WRK_BUF_SMALL) {
			struct wrk_buf *nb = wrk_buf_get();

			if (nb != NULL) {
				memcpy(nb->b_data, in->b_data, rest);
				nb->b_len = rest;
				wrk_buf_put(in);
				c->c_in = in = nb;
			}
		}
	}
	conn_req_free(c, r);
	if (rest > 0) {
		if (conn_req_new(c) == NULL)
			wrk_conn_close(c, "out of memory", false);
		return;
	}
	if (in != NULL) {
		wrk_buf_put(in);
		c->c_in = NULL;
	}
	conn_go_idle(c);
}

/*
 * Closing while the client may still be sending (a reply before its body
 * was read): closing now would answer its data with a reset, which can
 * destroy our reply in flight.  Shut our side, read and drop what comes,
 * close at its EOF or after CONN_LINGER_MS.
 */
static void
conn_linger(struct wrk_conn *c, struct wrk_req *r)
{
	conn_req_free(c, r);
	wrk_buf_put(c->c_in);
	c->c_in = NULL;
	if (shutdown(c->c_ev.ev_fd, SHUT_WR) == -1) {
		wrk_conn_close(c, "shutdown", true);
		return;
	}
	conn_set_state(c, CONN_S_LINGER);
	wrk_timer_set(&c->c_timer, wrk.w_now + CONN_LINGER_MS);
}

static void
conn_linger_read(struct wrk_conn *c)
{
	static char sink[4096];
	ssize_t n;

	while (c->c_ev.ev_rready) {
		n = read(c->c_ev.ev_fd, sink, sizeof(sink));
		if (n > 0) {
			WRK_HC_N(HC_CX_RX_BYTES, (uint64_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_ev.ev_rready = 0;
			return;
		}
		wrk_conn_close(c, "closed after reply", false);
		return;
	}
}

/* Move bytes both ways until nothing moves; true if it had to yield. */
static bool
conn_pump(struct wrk_conn *c)
{
	struct wrk_req *r = c->c_req;
	int progress, rounds = 0;

	do {
		progress = 0;
		if (conn_rx_body(c, r, &progress) == CD_ERR ||
		    c->c_state == CONN_S_CLOSED)
			return false;
		if (conn_tx_ups(c, r, &progress) == CD_ERR ||
		    c->c_state == CONN_S_CLOSED)
			return false;
		if (conn_rx_ups(c, r, &progress) == CD_ERR ||
		    c->c_state == CONN_S_CLOSED)
			return false;
		if (conn_tx_client(c, r, &progress) == CD_ERR ||
		    c->c_state == CONN_S_CLOSED)
			return false;
		if (c->c_req != r)
			return false;
	} while (progress && ++rounds < CONN_PUMP_MAX);

	if ((r->rq_flags & RQ_F_RESP_DONE) && !conn_out_pending(r)) {
		if (!(r->rq_flags & RQ_F_REQ_DONE)) {
			conn_linger(c, r);
			return false;
		}
		if ((c->c_flags & CONN_F_CLOSE) || wrk.w_draining) {
			wrk_conn_close(c, "response complete, closing", false);
			return false;
		}
		conn_req_finish(c, r);
		return false;
	}
	return progress != 0;
}

/* Drive the connection until it waits for an event. */
static void
conn_run(struct wrk_conn *c)
{
	uint64_t moves;
	bool yielded = false;
	int i;

	for (i = 0; i < CONN_RUN_MAX; i++) {
		moves = conn_moves;
		switch (c->c_state) {
		case CONN_S_IDLE:
			if (!c->c_ev.ev_rready)
				return;
			conn_read_head(c);
			break;
		case CONN_S_READ_HEAD:
			conn_read_head(c);
			break;
		case CONN_S_CONNECT:
		case CONN_S_PROXY:
		case CONN_S_BACKOFF:
		case CONN_S_REPLY:
			yielded = conn_pump(c);
			break;
		case CONN_S_LINGER:
			conn_linger_read(c);
			return;
		default:
			return;
		}
		if (c->c_state == CONN_S_CLOSED)
			return;
		if (yielded || moves == conn_moves)
			break;
	}
	if (yielded || i == CONN_RUN_MAX)
		conn_defer(c);
	if (c->c_req != NULL)
		conn_req_timer_sync(c->c_req);
}

/* ---- events and timers --------------------------------------------------- */

static void
conn_event(struct wrk_ev *ev, uint32_t events)
{
	struct wrk_conn *c = CONN_OF_EV(ev);

	if (c->c_state == CONN_S_CLOSED)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev->ev_rready = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev->ev_rdhup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ev->ev_wready = 1;
	if ((events & (EPOLLHUP | EPOLLERR)) && c->c_req != NULL &&
	    (c->c_req->rq_flags & RQ_F_REQ_DONE)) {
		/* reset by the peer: nobody is left to answer */
		wrk_conn_close(c, "peer reset", true);
		return;
	}
	conn_run(c);
}

static void
conn_timer(struct wrk_timer *t)
{
	struct wrk_conn *c = CONN_OF_TIMER(t);

	if (c->c_state == CONN_S_LINGER) {
		wrk_conn_close(c, "linger timeout", false);
		return;
	}
	if (c->c_state != CONN_S_IDLE || to_idle == 0)
		return;		/* busy: going idle re-arms */
	if (wrk.w_now - c->c_since >= to_idle) {
		WRK_HC(HC_CX_IDLE_TIMEOUT);
		wrk_conn_close(c, "idle timeout", false);
	} else
		wrk_timer_set(t, c->c_since + to_idle);
}

static void
conn_req_timer(struct wrk_timer *t)
{
	struct wrk_req *r = REQ_OF_TIMER(t);
	struct wrk_conn *c = r->rq_conn;
	uint64_t now = wrk.w_now, sit = conn_stream_idle(r);
	bool started = (r->rq_flags & RQ_F_RESP_HEAD) != 0;
	int ci = r->rq_cluster;

	if (!(r->rq_flags & RQ_F_HEAD) && to_head > 0 &&
	    now >= r->rq_start + to_head) {
		WRK_HC(HC_RQ_HEADER_TIMEOUT);
		log_info("conn %u: 408: request headers timeout", c->c_id);
		c->c_flags |= CONN_F_CLOSE;
		conn_req_count(r);
		conn_reply(c, r, 408, NULL, 0);
	} else if (!(r->rq_flags & RQ_F_REQ_DONE) && to_request > 0 &&
	    now >= r->rq_start + to_request) {
		WRK_HC(HC_RQ_TIMEOUT);
		c->c_flags |= CONN_F_CLOSE;
		if (started) {
			conn_close_flush(c, "request timeout");
			return;
		}
		conn_reply(c, r, 408, "request timeout", 15);
	} else if (r->rq_route_dl != 0 && now >= r->rq_route_dl) {
		/* never retried; it covers every attempt and back-off */
		WRK_CC(ci, CC_RQ_TIMEOUT);
		if (r->rq_ups != NULL) {
			WRK_HOC(ci, r->rq_hidx, HOC_RQ_TIMEOUT);
			if (!started) {
				WRK_HOC(ci, r->rq_hidx, HOC_RQ_ERROR);
				shm_outlier_report(WRK_SHM_CL(ci),
				    (uint32_t)r->rq_hidx, 504);
			}
		}
		log_debug("conn %u: upstream %s: route timeout", c->c_id,
		    wrk.w_conf->c_clusters[ci].cl_name);
		r->rq_rflags |= ALOG_RF_UT;
		if (started) {
			WRK_HC(HC_RQ_RESET_AFTER_RESPONSE);
			conn_close_flush(c, "upstream request timeout");
			return;
		}
		conn_reply(c, r, 504, "upstream request timeout", 24);
	} else if (r->rq_try_dl != 0 && now >= r->rq_try_dl) {
		r->rq_try_dl = 0;
		WRK_CC(ci, CC_RQ_PER_TRY_TIMEOUT);
		WRK_HOC(ci, r->rq_hidx, HOC_RQ_TIMEOUT);
		log_debug("conn %u: upstream %s: per-try timeout", c->c_id,
		    wrk.w_conf->c_clusters[ci].cl_name);
		if (started) {
			WRK_HC(HC_RQ_RESET_AFTER_RESPONSE);
			r->rq_rflags |= ALOG_RF_UT;
			conn_close_flush(c, "upstream per-try timeout");
			return;
		}
		conn_ups_drop(r, false);
		conn_try_failed(c, r, WRK_TRY_PER_TRY_TIMEOUT, 504, NULL);
	} else if (r->rq_backoff_dl != 0 && now >= r->rq_backoff_dl) {
		r->rq_backoff_dl = 0;
		conn_retry_start(c, r);
	} else if (r->rq_wait_dl != 0 && now >= r->rq_wait_dl) {
		r->rq_wait_dl = 0;
		conn_cx_retry(c, r);
	} else if (sit > 0 && now >= r->rq_io + sit) {
		WRK_HC(HC_RQ_IDLE_TIMEOUT);
		r->rq_rflags |= ALOG_RF_SI;
		if (started) {
			conn_close_flush(c, "stream idle timeout");
			return;
		}
		c->c_flags |= CONN_F_CLOSE;
		conn_req_count(r);
		conn_reply(c, r, 408, "stream timeout", 14);
	}
	if (c->c_state == CONN_S_CLOSED)
		return;
	conn_run(c);	/* writes a reply, re-arms the timer */
}
