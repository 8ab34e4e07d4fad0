/*
 * Downstream connections (see conn-int.h for the module and its files):
 * the state table and the one place a state changes, a connection's and
 * a request's set-up and teardown, the one close path, the run loop that
 * drives a connection until it waits, and the idle, linger and request
 * timers.
 *
 * Invariants: c_state changes only in conn_set_state(), along
 * conn_allowed[]; a connection ends only in wrk_conn_close(); a closed
 * connection is freed only in wrk_conn_reap(), after the loop turn's
 * events ran.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "conn-int.h"
#include "conn.h"
#include "mem.h"
#include "shadow.h"
#include "timer.h"
#include "ioq.h"
#include "upstream.h"
#include "wrk.h"

#define CONN_RUN_MAX	32	/* state steps per event before yielding */
#define CONN_LINGER_MS	1000	/* Envoy's delayed_close_timeout */

static struct wrk_slab		 conn_slab;
static struct wrk_slab		 req_slab;
static LIST_HEAD(, wrk_conn)	 conn_all = LIST_HEAD_INITIALIZER(conn_all);
static LIST_HEAD(, wrk_conn)	 conn_dead = LIST_HEAD_INITIALIZER(conn_dead);
static struct wrk_conn		*conn_again[1024];	/* run next turn */
static size_t			 conn_nagain;
static uint64_t			 conn_moves;	/* state changes */

/* Timeouts in ms, from the listener; 0 = off. */
/* the timeouts of a connection's listener, in ms (0: off) */
#define TO_IDLE(c)	((c)->c_lsn->ls_to_idle)
#define TO_HEAD(c)	((c)->c_lsn->ls_to_head)
#define TO_REQUEST(c)	((c)->c_lsn->ls_to_request)
#define TO_STREAM(c)	((c)->c_lsn->ls_to_stream)
/* draining (wrk_conn_drain()): since when, and the idle grace */
static uint64_t	 drain_since, drain_grace;

static void	conn_event(struct wrk_ev *, uint32_t);
static void	conn_timer(struct wrk_timer *);
static void	conn_req_timer(struct wrk_timer *);

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
	[CONN_S_TUNNEL] = "tunnel",
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
	    S(BACKOFF) | S(TUNNEL) | S(CLOSED),
	[CONN_S_BACKOFF] = S(CONNECT) | S(PROXY) | S(REPLY) | S(BACKOFF) |
	    S(CLOSED),
	[CONN_S_REPLY] = S(IDLE) | S(READ_HEAD) | S(LINGER) | S(CLOSED),
	[CONN_S_LINGER] = S(CLOSED),
	[CONN_S_TUNNEL] = S(CLOSED),
	[CONN_S_CLOSED] = 0,
};
#undef S

const char *
wrk_conn_state_name(enum conn_state s)
{
	return (unsigned)s < CONN_S__N ? conn_state_names[s] : "?";
}

void
conn_set_state(struct wrk_conn *c, enum conn_state s)
{
	CD_ASSERT(conn_allowed[c->c_state] & (1u << s));
	if (log_level <= LOG_L_DEBUG)
		log_debug("conn %u: %s -> %s", c->c_id,
		    conn_state_names[c->c_state], conn_state_names[s]);
	c->c_state = (uint8_t)s;
	conn_moves++;
}

/* Size of struct wrk_req with wrk.w_hdrcap header slots. */
static size_t
conn_req_size(void)
{
	return offsetof(struct wrk_req, rq_hdrs) +
	    (size_t)wrk.w_hdrcap * sizeof(struct http1_hdr);
}

int
wrk_conn_init(void)
{
	const struct cd_listener *l;
	struct wrk_lsn *ls;
	size_t i;

	wrk_slab_init(&conn_slab, "connection", sizeof(struct wrk_conn), 256);
	wrk_slab_init(&req_slab, "request", conn_req_size(), 16);
	for (i = 0; i < wrk.w_nlsn; i++) {
		ls = &wrk.w_lsn[i];
		l = ls->ls_l;
		ls->ls_to_idle = wrk_ns_ms(l->l_idle_timeout);
		ls->ls_to_head = wrk_ns_ms(l->l_request_headers_timeout);
		ls->ls_to_request = wrk_ns_ms(l->l_request_timeout);
		ls->ls_to_stream = wrk_ns_ms(l->l_stream_idle_timeout);
	}
	return 0;
}

struct wrk_conn *
wrk_conn_new(int fd, struct wrk_lsn *ls)
{
	struct wrk_conn *c;
	int one = 1;

	if ((c = wrk_slab_get(&conn_slab)) == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ls->ls_local)
		wrk_sock_local(fd);
	if (wrk_ev_add(&c->c_ev, fd, conn_event) == -1) {
		wrk_slab_put(&conn_slab, c);
		return NULL;
	}
	c->c_lsn = ls;
	c->c_id = ++wrk.w_next_id;
	c->c_state = CONN_S_IDLE;
	c->c_since = wrk.w_now;
	wrk_timer_init(&c->c_timer, conn_timer);
	if (wrk.w_draining)
		c->c_flags |= CONN_F_DRAIN;
	conn_idle_arm(c);
	LIST_INSERT_HEAD(&conn_all, c, c_entry);
	c->c_flags |= CONN_F_LINKED;
	wrk.w_nconns++;
	ls->ls_nconns++;
	WRK_HC(c, HC_CX_TOTAL);
	WRK_HC(c, HC_CX_HTTP1_TOTAL);
	WRK_HG(c, HG_CX_ACTIVE, 1);
	WRK_HG(c, HG_CX_HTTP1_ACTIVE, 1);
	return c;
}

struct wrk_req *
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
	wrk_ups_owner_init(&r->rq_uo, &conn_ups_cb, r);
	http1_init(&r->rq_p, HTTP1_REQUEST, r->rq_hdrs, c->c_lsn->ls_maxhdrs,
	    c->c_lsn->ls_hdr_limit);
	c->c_req = r;
	conn_set_state(c, CONN_S_READ_HEAD);
	return r;
}

/*
 * A request began (Envoy's new stream): count it.  The one that reaches
 * max_requests_per_connection is the connection's last: its response
 * says connection: close, as Envoy's HTTP/1 codec does.
 */
void
conn_req_count(struct wrk_req *r)
{
	struct wrk_conn *c = r->rq_conn;
	uint32_t max = WRK_L(c)->l_max_requests_per_connection;

	if (r->rq_flags & RQ_F_COUNTED)
		return;
	r->rq_flags |= RQ_F_COUNTED;
	WRK_HC(c, HC_RQ_TOTAL);
	WRK_HC(c, HC_RQ_HTTP1_TOTAL);
	WRK_HG(c, HG_RQ_ACTIVE, 1);
	if (max > 0 && ++c->c_nreq >= max) {
		c->c_flags |= CONN_F_CLOSE;
		WRK_HC(c, HC_CX_MAX_REQUESTS_REACHED);
	}
}

/* Give back what the request holds; the upstream must be gone already. */
void
conn_req_free(struct wrk_conn *c, struct wrk_req *r)
{
	CD_ASSERT(r->rq_ups == NULL);
	conn_req_log(c, r);
	conn_ups_unhold(r);
	conn_retry_unhold(r);
	CD_ASSERT(r->rq_bh.bh_units == 0);
	wrk_timer_del(&r->rq_timer);
	wrk_buf_put(r->rq_out);
	wrk_buf_put(r->rq_uin);
	wrk_buf_put(r->rq_al_head);
	conn_al_free(r);
	if (r->rq_shadow != NULL)
		wrk_shadow_drop_all(&r->rq_shadow);
	if (r->rq_flags & RQ_F_COUNTED)
		WRK_HG(c, HG_RQ_ACTIVE, -1);
	if (r->rq_flags & RQ_F_TUNNEL)
		WRK_HG(c, HG_CX_UPGRADES_ACTIVE, -1);
	if (r->rq_flags & RQ_F_FILT)
		conn_filter_free(r);
	wrk_slab_put(&req_slab, r);
	c->c_req = NULL;
}

static uint64_t
conn_stream_idle(const struct wrk_req *r)
{
	if (r->rq_route != NULL && r->rq_route->rt_idle_timeout != CD_DUR_UNSET)
		return wrk_ns_ms(r->rq_route->rt_idle_timeout);
	return TO_STREAM(r->rq_conn);
}

/* Earliest deadline that applies to r now, 0 for none. */
static uint64_t
conn_req_deadline(const struct wrk_req *r)
{
	uint64_t dl = UINT64_MAX, sit, to_head, to_request;

	/* a tunnel has only its idle timeout, as Envoy's upgraded stream */
	if (r->rq_flags & RQ_F_TUNNEL)
		return (sit = conn_stream_idle(r)) > 0 ? r->rq_io + sit : 0;
	to_head = TO_HEAD(r->rq_conn);
	to_request = TO_REQUEST(r->rq_conn);
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
void
conn_req_timer_sync(struct wrk_req *r)
{
	uint64_t dl = conn_req_deadline(r);

	if (dl == 0)
		wrk_timer_del(&r->rq_timer);
	else if (!wrk_timer_is_armed(&r->rq_timer) ||
	    dl < r->rq_timer.t_deadline)
		wrk_timer_set(&r->rq_timer, dl);
}

void
wrk_conn_close(struct wrk_conn *c, const char *reason, bool remote)
{
	struct wrk_req *r = c->c_req;

	if (c->c_state == CONN_S_CLOSED)
		return;
	if (c->c_ioq != 0) {
		wrk_ioq_cancel(c->c_ioq, c);
		c->c_ioq = 0;
	}
	if (r != NULL) {
		conn_ups_drop(r, false);
		if ((r->rq_flags & RQ_F_COUNTED) &&
		    !(r->rq_flags & RQ_F_RESP_DONE)) {
			WRK_HC(c, HC_CX_DESTROY_ACTIVE_RQ);
			WRK_HC(c, remote ? HC_RQ_RX_RESET : HC_RQ_TX_RESET);
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
	WRK_HC(c, HC_CX_DESTROY);
	WRK_HC(c, remote ? HC_CX_DESTROY_REMOTE : HC_CX_DESTROY_LOCAL);
	if ((c->c_flags & CONN_F_DRAIN) && !remote)
		WRK_HC(c, HC_CX_DRAIN_CLOSE);
	WRK_HG(c, HG_CX_ACTIVE, -1);
	WRK_HG(c, HG_CX_HTTP1_ACTIVE, -1);
	wrk.w_nconns--;
	c->c_lsn->ls_nconns--;
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
 * Draining loses no request.  The proxy closes a connection only after a
 * response that said `connection: close` (conn_conn_hdr() says it on the
 * last response of what the client already sent), or when it has been
 * idle for the grace with nothing unread.  A response whose head went out
 * before the drain began said nothing: its connection goes idle and gets
 * the grace, and the request its client sends meanwhile is answered (with
 * `connection: close`).  Closing at once would meet the next request of
 * a busy keep-alive client on the wire: the reload errors other proxies
 * show.
 */
void
wrk_conn_drain(uint64_t grace_ms)
{
	struct wrk_conn *c;

	drain_since = wrk.w_now;
	drain_grace = grace_ms;
	LIST_FOREACH(c, &conn_all, c_entry) {
		c->c_flags |= CONN_F_DRAIN;
		if (c->c_state == CONN_S_IDLE)
			conn_idle_arm(c);
	}
}

/* When a draining idle connection has had its grace. */
static uint64_t
conn_drain_deadline(const struct wrk_conn *c)
{
	return (c->c_since > drain_since ? c->c_since : drain_since) +
	    drain_grace;
}

/* Arm an idle connection's timer for its first deadline: the idle
 * timeout, or the end of its drain grace. */
void
conn_idle_arm(struct wrk_conn *c)
{
	uint64_t dl = 0, dd;

	if (TO_IDLE(c) > 0)
		dl = c->c_since + TO_IDLE(c);
	if (c->c_flags & CONN_F_DRAIN) {
		dd = conn_drain_deadline(c);
		if (dl == 0 || dd < dl)
			dl = dd;
	}
	if (dl != 0)
		wrk_timer_set(&c->c_timer, dl);
}

/* Bytes (or the end) from the client wait on the socket: a draining
 * connection is not closed under them. */
static bool
conn_has_input(const struct wrk_conn *c)
{
	char b;

	return recv(c->c_ev.ev_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * The response cannot be finished: give the client what is already
 * queued (one non-blocking try), then close, so it sees a truncated
 * response end with the connection rather than nothing at all.
 */
void
conn_close_flush(struct wrk_conn *c, const char *reason)
{
	struct wrk_req *r = c->c_req;
	int progress = 0;

	conn_ups_drop(r, false);
	if (conn_tx_client(c, r, &progress) == CD_ERR)
		return;
	wrk_conn_close(c, reason, false);
}

/* No request in progress: the idle timeout applies (armed lazily: a
 * timer that fires early re-arms), and a draining connection's grace. */
void
conn_go_idle(struct wrk_conn *c)
{
	conn_set_state(c, CONN_S_IDLE);
	c->c_since = wrk.w_now;
	if ((c->c_flags & CONN_F_DRAIN) || !wrk_timer_is_armed(&c->c_timer))
		conn_idle_arm(c);
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
			WRK_HC_N(c, HC_CX_RX_BYTES, (uint64_t)n);
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

void
conn_req_end(struct wrk_conn *c, struct wrk_req *r)
{
	if (!(r->rq_flags & RQ_F_REQ_DONE)) {
		conn_linger(c, r);
		return;
	}
	if ((c->c_flags & CONN_F_CLOSE) || (r->rq_flags & RQ_F_SAID_CLOSE)) {
		wrk_conn_close(c, "response complete, closing", false);
		return;
	}
	conn_req_finish(c, r);
}

/* Drive the connection until it waits for an event. */
void
conn_run(struct wrk_conn *c)
{
	uint64_t moves;
	bool yielded = false;
	int i;

	if (c->c_ioq != 0)
		return;		/* conn_io_done() runs it */
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
		case CONN_S_TUNNEL:
			yielded = conn_tunnel_pump(c);
			break;
		default:
			return;
		}
		if (c->c_state == CONN_S_CLOSED || c->c_ioq != 0)
			return;
		if (yielded || moves == conn_moves)
			break;
	}
	if (yielded || i == CONN_RUN_MAX)
		conn_defer(c);
	if (c->c_req != NULL)
		conn_req_timer_sync(c->c_req);
}

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
	if (c->c_state != CONN_S_IDLE)
		return;		/* busy: going idle re-arms */
	if (TO_IDLE(c) > 0 && wrk.w_now - c->c_since >= TO_IDLE(c)) {
		WRK_HC(c, HC_CX_IDLE_TIMEOUT);
		wrk_conn_close(c, "idle timeout", false);
		return;
	}
	if ((c->c_flags & CONN_F_DRAIN) && wrk.w_now >= conn_drain_deadline(c)) {
		if (!conn_has_input(c)) {
			wrk_conn_close(c, "draining, idle", false);
			return;
		}
		c->c_ev.ev_rready = 1;	/* it came as we looked: serve it */
		conn_run(c);
		return;
	}
	conn_idle_arm(c);
}

/*
 * The route's timeout ran out: never retried, it covers every attempt
 * and back-off.  started: the response head went to the client.
 */
static void
conn_route_timeout(struct wrk_conn *c, struct wrk_req *r, bool started)
{
	int ci = r->rq_cluster;

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
		WRK_HC(c, HC_RQ_RESET_AFTER_RESPONSE);
		conn_close_flush(c, "upstream request timeout");
		return;
	}
	conn_reply(c, r, 504, "upstream request timeout", 24);
}

/* The attempt's per-try timeout ran out: a failed attempt, if nothing
 * went to the client yet. */
static void
conn_try_timeout(struct wrk_conn *c, struct wrk_req *r, bool started)
{
	int ci = r->rq_cluster;

	WRK_CC(ci, CC_RQ_PER_TRY_TIMEOUT);
	WRK_HOC(ci, r->rq_hidx, HOC_RQ_TIMEOUT);
	log_debug("conn %u: upstream %s: per-try timeout", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name);
	if (started) {
		WRK_HC(c, HC_RQ_RESET_AFTER_RESPONSE);
		r->rq_rflags |= ALOG_RF_UT;
		conn_close_flush(c, "upstream per-try timeout");
		return;
	}
	conn_ups_drop(r, false);
	conn_try_failed(c, r, WRK_TRY_PER_TRY_TIMEOUT, 504, NULL);
}

static void
conn_req_timer(struct wrk_timer *t)
{
	struct wrk_req *r = REQ_OF_TIMER(t);
	struct wrk_conn *c = r->rq_conn;
	uint64_t now = wrk.w_now, sit = conn_stream_idle(r);
	bool started = (r->rq_flags & RQ_F_RESP_HEAD) != 0;

	if (r->rq_flags & RQ_F_TUNNEL) {
		if (sit > 0 && now >= r->rq_io + sit) {
			conn_tunnel_timeout(c, r);
			return;
		}
		conn_run(c);	/* re-arms the timer */
		return;
	}
	if (!(r->rq_flags & RQ_F_HEAD) && TO_HEAD(c) > 0 &&
	    now >= r->rq_start + TO_HEAD(c)) {
		WRK_HC(c, HC_RQ_HEADER_TIMEOUT);
		log_info("conn %u: 408: request headers timeout", c->c_id);
		c->c_flags |= CONN_F_CLOSE;
		conn_req_count(r);
		conn_reply(c, r, 408, NULL, 0);
	} else if (!(r->rq_flags & RQ_F_REQ_DONE) && TO_REQUEST(c) > 0 &&
	    now >= r->rq_start + TO_REQUEST(c)) {
		WRK_HC(c, HC_RQ_TIMEOUT);
		c->c_flags |= CONN_F_CLOSE;
		if (started) {
			conn_close_flush(c, "request timeout");
			return;
		}
		conn_reply(c, r, 408, "request timeout", 15);
	} else if (r->rq_route_dl != 0 && now >= r->rq_route_dl) {
		conn_route_timeout(c, r, started);
	} else if (r->rq_try_dl != 0 && now >= r->rq_try_dl) {
		r->rq_try_dl = 0;
		conn_try_timeout(c, r, started);
	} else if (r->rq_backoff_dl != 0 && now >= r->rq_backoff_dl) {
		r->rq_backoff_dl = 0;
		if (r->rq_flags & RQ_F_FAULT_DELAY)
			conn_filter_delay_over(c, r);
		else
			conn_retry_start(c, r);
	} else if (r->rq_wait_dl != 0 && now >= r->rq_wait_dl) {
		r->rq_wait_dl = 0;
		conn_cx_retry(c, r);
	} else if (sit > 0 && now >= r->rq_io + sit) {
		WRK_HC(c, HC_RQ_IDLE_TIMEOUT);
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
