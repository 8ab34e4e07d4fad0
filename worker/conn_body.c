/*
 * Moving bytes both ways: client -> c_in -> upstream (the request body,
 * framing passed through, kept whole for a retry while it fits),
 * upstream -> rq_uin -> client (the response), and the pump that runs
 * the four steps until nothing moves.  A side is read only while the
 * buffer it fills has room, and room appears only as the other side
 * drains it.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "shared/http1.h"
#include "shared/log.h"
#include "conn-int.h"
#include "mem.h"
#include "shadow.h"
#include "ioq.h"
#include "upstream.h"
#include "wrk.h"

#define CONN_PUMP_MAX	64	/* I/O rounds per event before yielding */

static void	 conn_io_done(void *, int);

static const char conn_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
#define CONN_100_LEN	(sizeof(conn_100) - 1)

/* Move b's bytes to nb, at the same offsets, and give b back. */
static void
conn_buf_move(struct wrk_buf **bp, struct wrk_buf *nb)
{
	struct wrk_buf *b = *bp;

	memcpy(nb->b_data, b->b_data, b->b_len);
	nb->b_len = b->b_len;
	nb->b_off = b->b_off;
	wrk_buf_put(b);
	*bp = nb;
}

/*
 * Headers did not fit the small buffer, or a body stream filled it in one
 * read (a bulk transfer: each read(2) and write(2) then moves more, at a
 * third less CPU per GiB): move the bytes to a large buffer.  Short
 * exchanges never get here, so they keep costing a small buffer.
 */
int
conn_in_grow(struct wrk_buf **bp)
{
	struct wrk_buf *nb;

	if ((*bp)->b_large || (nb = wrk_buf_get_large()) == NULL)
		return -1;
	conn_buf_move(bp, nb);
	return 0;
}

/*
 * A body stream filled its buffer in one read: the next size up, small
 * to large, then large to bulk (fewer, larger reads and writes again:
 * about a sixth less CPU per GiB than with the large one).
 */
static void
conn_body_grow(struct wrk_buf **bp)
{
	struct wrk_buf *nb;

	if ((*bp)->b_large == WRK_BUF_C_SMALL) {
		(void)conn_in_grow(bp);
		return;
	}
	if ((*bp)->b_large != WRK_BUF_C_LARGE ||
	    (*bp)->b_size >= WRK_BUF_BULK || (nb = wrk_buf_get_bulk()) == NULL)
		return;
	conn_buf_move(bp, nb);
}

/* A read of n bytes from the client into in's room: appended, counted. */
void
conn_in_got(struct wrk_conn *c, struct wrk_buf *in, size_t n)
{
	WRK_HC_N(c, HC_CX_RX_BYTES, (uint64_t)n);
	if (n < in->b_size - in->b_len)
		wrk_ev_short_read(&c->c_ev);
	in->b_len += (uint32_t)n;
}

/* Client -> c_in: one read(2), its bytes appended and counted. */
ssize_t
conn_in_read(struct wrk_conn *c, struct wrk_buf *in)
{
	ssize_t n;

	n = read(c->c_ev.ev_fd, in->b_data + in->b_len, in->b_size - in->b_len);
	if (n > 0)
		conn_in_got(c, in, (size_t)n);
	return n;
}

void
conn_req_complete(struct wrk_conn *c, struct wrk_req *r)
{
	const struct cd_route *rt = r->rq_route;

	r->rq_flags |= RQ_F_REQ_DONE;
	r->rq_done = wrk.w_now;
	/* w_now is per turn and in ms: too coarse for local latencies */
	r->rq_done_us = conn_now_us();
	if (r->rq_100 == 0)
		r->rq_100_want = 0;	/* the client did not wait for it */
	if (r->rq_cluster >= 0 && rt != NULL && rt->rt_timeout > 0 &&
	    !(r->rq_flags & RQ_F_RESP_DONE))
		r->rq_route_dl = wrk.w_now + wrk_ns_ms(rt->rt_timeout);
	if (r->rq_try_ms > 0 && wrk_breaker_holds(&r->rq_bh, SHM_CB_RQ) &&
	    r->rq_try_dl == 0 && !(r->rq_flags & RQ_F_RESP_DONE))
		r->rq_try_dl = wrk.w_now + r->rq_try_ms;
	/* mirrors go with the whole body, kept in c_in (RQ_F_KEEP); past
	 * the buffer limit they were abandoned (retry_or_shadow_abandoned) */
	if (r->rq_shadow != NULL) {
		if ((r->rq_flags & (RQ_F_NORETRY | RQ_F_BODY_LOST)) ||
		    c->c_in == NULL || r->rq_in_parsed < r->rq_head_end)
			wrk_shadow_drop_all(&r->rq_shadow);
		else
			wrk_shadow_send_all(&r->rq_shadow, c->c_in->b_data +
			    r->rq_head_end, r->rq_in_parsed - r->rq_head_end);
	}
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
	if ((r->rq_al_have != 0 || r->rq_alx != NULL) &&
	    !(r->rq_flags & RQ_F_HEAD_GONE))
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
	uint64_t cap = (uint64_t)r->rq_head_end + WRK_L(c)->l_buffer_limit;
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
	    WRK_L(c)->l_buffer_limit);
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
	ssize_t n;

	if ((r->rq_flags & RQ_F_REQ_DONE) || c->c_state == CONN_S_REPLY)
		return CD_OK;
	for (;;) {
		if ((r->rq_flags & RQ_F_UPGRADE) &&
		    r->rq_in_parsed < in->b_len) {
			/* the other protocol's bytes: all of them go */
			r->rq_in_parsed = in->b_len;
			*progress = 1;
		} else if (r->rq_in_parsed < in->b_len) {
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
		if ((n = conn_in_read(c, in)) > 0) {
			r->rq_io = wrk.w_now;
			*progress = 1;
			if (in->b_len == in->b_size && !(r->rq_flags &
			    (RQ_F_KEEP | RQ_F_UPGRADE))) {
				conn_body_grow(&c->c_in);
				in = c->c_in;
			}
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

/* Request bytes waiting for the upstream, in order; the iovec count. */
static int
conn_ups_iov(struct wrk_conn *c, struct wrk_req *r, struct iovec *iov,
    size_t *total)
{
	int n = 0;

	*total = 0;
	if (!(r->rq_flags & RQ_F_UHEAD_SENT)) {
		iov[n].iov_base = r->rq_out->b_data + r->rq_uhead_off;
		iov[n].iov_len = r->rq_uhead_len - r->rq_uhead_off;
		*total += iov[n++].iov_len;
	}
	if (r->rq_in_parsed > r->rq_in_fwd) {
		iov[n].iov_base = c->c_in->b_data + r->rq_in_fwd;
		iov[n].iov_len = r->rq_in_parsed - r->rq_in_fwd;
		*total += iov[n++].iov_len;
	}
	return n;
}

/* A write of total bytes to the upstream ended: res bytes, or -errno. */
static enum cd_rc
conn_tx_ups_end(struct wrk_conn *c, struct wrk_req *r, ssize_t res,
    size_t total, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	size_t k;

	if (res < 0) {
		if (res == -EAGAIN) {
			u->u_ev.ev_wready = 0;
			return CD_OK;
		}
		if (res == -EINTR)
			return CD_OK;	/* nothing went: the pump goes again */
		if (res == -EPIPE || res == -ECONNRESET) {
			/* it may have answered before closing (413 and the
			 * like): stop sending and read what is there */
			r->rq_flags |= RQ_F_UPS_NOREUSE | RQ_F_UPS_WSTOP;
			u->u_ev.ev_rready = 1;
			*progress = 1;
			return CD_OK;
		}
		conn_ups_broken(c, r, (int)-res);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
	}
	*progress = 1;
	r->rq_io = wrk.w_now;
	WRK_CC_N(r->rq_cluster, CC_CX_TX_BYTES, (uint64_t)res);
	if ((size_t)res < total)
		u->u_ev.ev_wready = 0;
	k = (size_t)res;
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

/* Upstream head and body bytes -> upstream (queued in the loop's turn:
 * see conn_io_queue()). */
static enum cd_rc
conn_tx_ups(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct iovec iov[2];
	size_t total;
	ssize_t n;
	int niov;

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
	if ((niov = conn_ups_iov(c, r, iov, &total)) == 0) {
		if (r->rq_flags & RQ_F_REQ_DONE)
			r->rq_flags |= RQ_F_UREQ_SENT;
		return CD_OK;
	}
	if (conn_io_queue(c, u->u_ev.ev_fd, iov, niov, CONN_F_IO_UPS))
		return CD_OK;
	do
		n = wrk_writev(u->u_ev.ev_fd, iov, niov);
	while (n == -1 && errno == EINTR);
	return conn_tx_ups_end(c, r, n == -1 ? -errno : n, total, progress);
}

/*
 * rq_uin is full: before the response head, move it to a large buffer;
 * after, drop the body bytes the client has taken.  CD_OK room was made,
 * CD_AGAIN the client is slower (wait for it), CD_DONE the head is too
 * large (answered), CD_ERR the connection is closed.
 */
static enum cd_rc
conn_uin_room(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *uin = r->rq_uin;

	if (!(r->rq_flags & RQ_F_RESP_HEAD)) {
		if (conn_in_grow(&r->rq_uin) == 0)
			return CD_OK;
		conn_ups_protocol_error(c, r);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_DONE;
	}
	if (uin->b_off > 0 && uin->b_off <= r->rq_uin_parsed) {
		memmove(uin->b_data, uin->b_data + uin->b_off,
		    uin->b_len - uin->b_off);
		uin->b_len -= uin->b_off;
		r->rq_uin_parsed -= uin->b_off;
		uin->b_off = 0;
		return CD_OK;
	}
	return CD_AGAIN;
}

/*
 * A read from the upstream into rq_uin ended: res bytes, or -errno.
 * CD_AGAIN read again, else what conn_rx_ups() returns.
 */
static enum cd_rc
conn_rx_ups_got(struct wrk_conn *c, struct wrk_req *r, ssize_t res,
    int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *uin = r->rq_uin;
	size_t room = uin->b_size - uin->b_len;

	if (res > 0) {
		WRK_CC_N(r->rq_cluster, CC_CX_RX_BYTES, (uint64_t)res);
		if ((size_t)res < room)
			wrk_ev_short_read(&u->u_ev);
		uin->b_len += (uint32_t)res;
		r->rq_io = wrk.w_now;
		r->rq_flags |= RQ_F_UPS_BYTES;
		*progress = 1;
		if (conn_resp_parse(c, r) != CD_OK)
			return CD_ERR;
		if (r->rq_ups == NULL || (r->rq_flags &
		    (RQ_F_RESP_DONE | RQ_F_TUNNEL)))
			return CD_OK;
		if ((size_t)res == room)
			conn_body_grow(&r->rq_uin);
		return CD_AGAIN;
	}
	if (res == 0) {
		u->u_ev.ev_rready = 0;
		r->rq_flags |= RQ_F_UPS_EOF;
		*progress = 1;
		if (r->rq_uin_parsed < uin->b_len)
			return CD_OK;	/* parse the rest first */
		return conn_resp_eof(c, r);
	}
	if (res == -EAGAIN) {
		u->u_ev.ev_rready = 0;
		return CD_OK;
	}
	if (res == -EINTR)
		return CD_AGAIN;
	*progress = 1;
	conn_ups_broken(c, r, (int)-res);
	return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
}

/* Upstream -> rq_uin -> response parser. */
static enum cd_rc
conn_rx_ups(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *uin;
	enum cd_rc rc;
	ssize_t n;
	bool eof;

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
		if (r->rq_ups == NULL || (r->rq_flags & (RQ_F_TUNNEL |
		    RQ_F_RESP_DONE)))
			return CD_OK;
	} else if (r->rq_gz != NULL) {
		/* a compressed response may have work left without new
		 * bytes: its stream's end, input the client's pace held */
		if (conn_resp_gz_more(c, r) != CD_OK)
			return CD_ERR;
		if (r->rq_ups == NULL || (r->rq_flags & RQ_F_RESP_DONE) ||
		    conn_gz_finishing(r, &eof))
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
		struct iovec iov;

		if (uin->b_len == uin->b_size) {
			if ((rc = conn_uin_room(c, r)) == CD_ERR)
				return CD_ERR;
			if (rc != CD_OK)
				return CD_OK;
			uin = r->rq_uin;
		}
		iov.iov_base = uin->b_data + uin->b_len;
		iov.iov_len = uin->b_size - uin->b_len;
		if (conn_io_queue(c, u->u_ev.ev_fd, &iov, 1,
		    CONN_F_IO_UPS | CONN_F_IO_READ))
			return CD_OK;
		n = read(u->u_ev.ev_fd, iov.iov_base, iov.iov_len);
		if ((rc = conn_rx_ups_got(c, r, n == -1 ? -errno : n,
		    progress)) != CD_AGAIN)
			return rc;
		uin = r->rq_uin;
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

/* A write of total bytes to the client ended: res bytes, or -errno. */
static enum cd_rc
conn_tx_client_end(struct wrk_conn *c, struct wrk_req *r, ssize_t res,
    size_t total, int *progress)
{
	struct wrk_buf *out = r->rq_out, *uin = r->rq_uin;
	size_t k, step;

	if (res < 0) {
		if (res == -EAGAIN) {
			c->c_ev.ev_wready = 0;
			return CD_OK;
		}
		if (res == -EINTR)
			return CD_OK;	/* nothing went: the pump goes again */
		wrk_conn_close(c, strerror((int)-res), true);
		return CD_ERR;
	}
	*progress = 1;
	r->rq_io = wrk.w_now;
	WRK_HC_N(c, HC_CX_TX_BYTES, (uint64_t)res);
	if ((size_t)res < total)
		c->c_ev.ev_wready = 0;
	k = (size_t)res;
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

/* Response bytes -> client; queued when may_queue (see
 * conn_io_queue()), else written at once. */
static enum cd_rc
conn_tx_client_io(struct wrk_conn *c, struct wrk_req *r, int *progress,
    bool may_queue)
{
	struct iovec iov[4];
	size_t total;
	ssize_t n;
	int niov;

	if (!c->c_ev.ev_wready)
		return CD_OK;
	if ((niov = conn_client_iov(r, iov, &total)) == 0)
		return CD_OK;
	/* only response bytes: a 100 Continue goes while the upstream is
	 * still being reached, whose events must not wait on this write */
	if (may_queue && (r->rq_flags & RQ_F_RESP_HEAD) &&
	    !(r->rq_100_want && r->rq_100 < CONN_100_LEN) &&
	    conn_io_queue(c, c->c_ev.ev_fd, iov, niov, 0))
		return CD_OK;
	do
		n = wrk_writev(c->c_ev.ev_fd, iov, niov);
	while (n == -1 && errno == EINTR);
	return conn_tx_client_end(c, r, n == -1 ? -errno : n, total,
	    progress);
}

enum cd_rc
conn_tx_client(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	return conn_tx_client_io(c, r, progress, false);
}

/*
 * The loop's turn queues its reads and writes (worker/ioq.h): c then
 * waits for the completion (c_ioq) and runs nothing, events only mark
 * readiness, until conn_io_done() applies the result as the system call's
 * own and runs it again.  how: CONN_F_IO_UPS (the upstream's socket) and
 * CONN_F_IO_READ (a read into iov[0]).  True if queued.
 */
bool
conn_io_queue(struct wrk_conn *c, int fd, const struct iovec *iov,
    int niov, uint8_t how)
{
	uint16_t t;

	if (!wrk_ioq_open())
		return false;
	if (how & CONN_F_IO_READ)
		t = wrk_ioq_get(fd, iov[0].iov_base, iov[0].iov_len,
		    conn_io_done, c);
	else
		t = wrk_ioq_put(fd, iov, niov, conn_io_done, c);
	if (t == 0)
		return false;
	c->c_ioq = t;
	c->c_flags = (uint8_t)((c->c_flags &
	    ~(CONN_F_IO_UPS | CONN_F_IO_READ)) | how);
	return true;
}

/* A queued operation's completion: apply it, then go on. */
static void
conn_io_done(void *arg, int res)
{
	struct wrk_conn *c = arg;
	struct wrk_req *r = c->c_req;
	struct iovec iov[4];
	size_t total;
	int progress = 0;
	enum cd_rc rc;

	c->c_ioq = 0;
	if (c->c_state == CONN_S_CLOSED)
		return;
	switch (c->c_flags & (CONN_F_IO_UPS | CONN_F_IO_READ)) {
	case CONN_F_IO_READ:
		if ((rc = conn_head_got(c, res)) == CD_AGAIN)
			conn_in_idle_put(c);
		break;
	case CONN_F_IO_UPS | CONN_F_IO_READ:
		rc = conn_rx_ups_got(c, r, res, &progress);
		break;
	case CONN_F_IO_UPS:
		/* what was queued: nothing it names moved since */
		(void)conn_ups_iov(c, r, iov, &total);
		rc = conn_tx_ups_end(c, r, res, total, &progress);
		break;
	default:
		(void)conn_client_iov(r, iov, &total);
		rc = conn_tx_client_end(c, r, res, total, &progress);
		break;
	}
	if (rc != CD_ERR && c->c_state != CONN_S_CLOSED)
		conn_run(c);
}

static bool
conn_out_pending(struct wrk_req *r)
{
	struct iovec iov[4];
	size_t total;

	return conn_client_iov(r, iov, &total) > 0;
}

/* Move bytes both ways until nothing moves; true if it had to yield. */
bool
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
		    c->c_state == CONN_S_CLOSED || c->c_ioq != 0)
			return false;
		if (conn_rx_ups(c, r, &progress) == CD_ERR ||
		    c->c_state == CONN_S_CLOSED || c->c_ioq != 0)
			return false;
		if (c->c_state == CONN_S_TUNNEL)
			return false;	/* conn_run() goes on in its pump */
		if (conn_tx_client_io(c, r, &progress, true) == CD_ERR ||
		    c->c_state == CONN_S_CLOSED || c->c_ioq != 0)
			return false;
		if (c->c_req != r)
			return false;
	} while (progress && ++rounds < CONN_PUMP_MAX);

	if ((r->rq_flags & RQ_F_RESP_DONE) && !conn_out_pending(r)) {
		conn_req_end(c, r);
		return false;
	}
	return progress != 0;
}
