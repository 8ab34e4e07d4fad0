/*
 * Upgraded connections (WebSocket and the other HTTP/1.1 upgrades): once
 * the upstream answers an upgrade request its route allows with 101
 * Switching Protocols, the client connection and the upstream connection
 * carry each other's bytes as they are until both directions are done.
 *
 *   client -> c_in [rq_in_fwd, b_len) -> upstream
 *   upstream -> rq_uin [b_off, b_len) -> client, after the 101 head
 *                                        (rq_out)
 *
 * Back-pressure: a side is read only while the buffer it fills has room,
 * and room appears only as the other side takes the bytes, so a slow
 * reader on either end holds at most one buffer per direction here and
 * stops its peer through TCP.
 *
 * Ends: a side's end of stream (its FIN) is passed on to the other side
 * once every byte it sent before went out (shutdown(2) of our writing
 * half), and the other direction carries on; when both directions have
 * ended, both connections close.  A read or write error on either side
 * ends the tunnel: the other side gets one try at what is buffered for
 * it, then both close.  The stream idle timeout (the route's idle_timeout,
 * else the manager's stream_idle_timeout) closes a tunnel that moved no
 * byte for that long.  The upstream connection is never pooled again.
 *
 * Counters, as Envoy's: downstream_cx_upgrades_total and the gauge
 * downstream_cx_upgrades_active; upstream_rq_101 (and 1xx) and the
 * downstream 1xx for the 101; connection bytes both sides.  The request
 * stays active (downstream_rq_active, upstream_rq_active) and logs its
 * line when the tunnel ends, with the tunnel's bytes each way.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "conn-int.h"
#include "hdr.h"
#include "mem.h"
#include "upstream.h"
#include "wrk.h"

#define TUN_PUMP_MAX	64	/* I/O rounds per event before yielding */

enum cd_rc
conn_tunnel_start(struct wrk_conn *c, struct wrk_req *r,
    struct wrk_resp_info *si)
{
	struct wrk_buf *in = c->c_in;
	int ci = r->rq_cluster;
	uint32_t k;
	uint16_t i;

	/* connection: upgrade and the upgrade header go to the client on a
	 * 101, as Envoy passes them */
	for (i = 0; i < r->rq_rp.h_nhdrs; i++) {
		k = WRK_H_KIND(r->rq_hdrs[i].h_kind);
		if (k == WRK_H_CONNECTION || k == WRK_H_UPGRADE)
			r->rq_hdrs[i].h_kind &= ~(uint32_t)WRK_H_F_DROP;
	}
	r->rq_flags |= RQ_F_TUNNEL;
	r->rq_frame = WRK_FRAME_NONE;
	if (!conn_resp_build(c, r, 101, si)) {
		r->rq_flags &= ~RQ_F_TUNNEL;
		conn_ups_protocol_error(c, r);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_DONE;
	}
	/* never pooled again, and no retry can replay what follows */
	r->rq_flags |= RQ_F_RESP_HEAD | RQ_F_UPS_NOREUSE;
	r->rq_flags &= ~RQ_F_KEEP;
	r->rq_route_dl = r->rq_try_dl = r->rq_wait_dl = 0;
	r->rq_uin->b_off = r->rq_rp.h_head_end;
	conn_count_code(r, 101);
	wrk_ctr(&WRK_SLOT_CL(ci)->cc_code[101 - CD_CODE_MIN], 1);
	WRK_HOC(ci, r->rq_hidx, HOC_RQ_SUCCESS);
	shm_outlier_report(WRK_SHM_CL(ci), (uint32_t)r->rq_hidx, 101);
	WRK_HC(c, HC_CX_UPGRADES_TOTAL);
	WRK_HG(c, HG_CX_UPGRADES_ACTIVE, 1);
	/* the bytes that followed the head, sent or not, are the tunnel's */
	r->rq_tun_rx = in->b_len > r->rq_head_end ? in->b_len -
	    r->rq_head_end : 0;
	/* the client's head is done with (the log keeps its copy): what
	 * c_in holds past it is tunnel bytes not yet sent upstream */
	if (r->rq_in_fwd > 0) {
		if (r->rq_al_have != 0 && !(r->rq_flags & RQ_F_HEAD_GONE))
			conn_al_keep_head(r, in);
		memmove(in->b_data, in->b_data + r->rq_in_fwd,
		    in->b_len - r->rq_in_fwd);
		in->b_len -= r->rq_in_fwd;
		r->rq_in_fwd = 0;
		r->rq_head_end = 0;
		r->rq_flags |= RQ_F_HEAD_GONE;
	}
	r->rq_in_parsed = in->b_len;
	r->rq_io = wrk.w_now;
	log_debug("conn %u: upstream %s: switching protocols", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name);
	conn_set_state(c, CONN_S_TUNNEL);
	return CD_OK;
}

/*
 * A side broke (err: errno): the other one gets one try at what is
 * buffered for it, then both close.  client: the client's side broke.
 */
static enum cd_rc
tun_fail(struct wrk_conn *c, struct wrk_req *r, bool client, int err)
{
	struct wrk_buf *uin = r->rq_uin;

	log_debug("conn %u: tunnel: %s: %s", c->c_id, client ? "client" :
	    "upstream", strerror(err));
	if (client) {
		r->rq_rflags |= ALOG_RF_DC;
		wrk_conn_close(c, "tunnel: client reset", true);
		return CD_ERR;
	}
	r->rq_rflags |= ALOG_RF_UC;
	WRK_CC(r->rq_cluster, CC_RQ_RX_RESET);
	conn_ups_drop(r, true);
	if (r->rq_out->b_off == r->rq_out->b_len && uin->b_off < uin->b_len &&
	    write(c->c_ev.ev_fd, uin->b_data + uin->b_off,
	    uin->b_len - uin->b_off) == -1)
		log_debug("conn %u: tunnel: last bytes: %s", c->c_id,
		    strerror(errno));
	wrk_conn_close(c, "tunnel: upstream reset", false);
	return CD_ERR;
}

/* Client -> c_in, while it has room. */
static enum cd_rc
tun_rx_client(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_buf *in = c->c_in;
	ssize_t n;

	if (r->rq_flags & RQ_F_CLI_EOF)
		return CD_OK;
	while (c->c_ev.ev_rready) {
		if (in->b_len == in->b_size) {
			if (r->rq_in_fwd == 0)
				return CD_OK;	/* upstream is slower */
			memmove(in->b_data, in->b_data + r->rq_in_fwd,
			    in->b_len - r->rq_in_fwd);
			in->b_len -= r->rq_in_fwd;
			r->rq_in_fwd = 0;
		}
		if ((n = conn_in_read(c, in)) > 0) {
			r->rq_tun_rx += (uint64_t)n;
			r->rq_io = wrk.w_now;
			*progress = 1;
			continue;
		}
		if (n == 0) {
			c->c_ev.ev_rready = 0;
			if (!(r->rq_flags & RQ_F_UPS_EOF))
				r->rq_flags |= RQ_F_CLI_FIRST;
			r->rq_flags |= RQ_F_CLI_EOF;
			*progress = 1;
			return CD_OK;
		}
		if (errno == EAGAIN) {
			c->c_ev.ev_rready = 0;
			return CD_OK;
		}
		if (errno != EINTR)
			return tun_fail(c, r, true, errno);
	}
	return CD_OK;
}

/* c_in -> upstream; the client's end passed on after its last byte. */
static enum cd_rc
tun_tx_ups(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *in = c->c_in;
	size_t len;
	ssize_t n;

	while (r->rq_in_fwd < in->b_len && u->u_ev.ev_wready) {
		len = in->b_len - r->rq_in_fwd;
		n = write(u->u_ev.ev_fd, in->b_data + r->rq_in_fwd, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				u->u_ev.ev_wready = 0;
				break;
			}
			return tun_fail(c, r, false, errno);
		}
		WRK_CC_N(r->rq_cluster, CC_CX_TX_BYTES, (uint64_t)n);
		r->rq_io = wrk.w_now;
		*progress = 1;
		if ((size_t)n < len)
			u->u_ev.ev_wready = 0;
		r->rq_in_fwd += (uint32_t)n;
		if (r->rq_in_fwd == in->b_len)
			r->rq_in_fwd = in->b_len = 0;
	}
	if ((r->rq_flags & (RQ_F_CLI_EOF | RQ_F_UPS_SHUT)) == RQ_F_CLI_EOF &&
	    r->rq_in_fwd == in->b_len) {
		r->rq_flags |= RQ_F_UPS_SHUT;
		*progress = 1;
		if (shutdown(u->u_ev.ev_fd, SHUT_WR) == -1 && errno != ENOTCONN)
			return tun_fail(c, r, false, errno);
	}
	return CD_OK;
}

/* Upstream -> rq_uin, while it has room. */
static enum cd_rc
tun_rx_ups(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_ups *u = r->rq_ups;
	struct wrk_buf *uin = r->rq_uin;
	size_t room;
	ssize_t n;

	if (r->rq_flags & RQ_F_UPS_EOF)
		return CD_OK;
	while (u->u_ev.ev_rready) {
		if (uin->b_len == uin->b_size) {
			if (uin->b_off == 0)
				return CD_OK;	/* the client is slower */
			memmove(uin->b_data, uin->b_data + uin->b_off,
			    uin->b_len - uin->b_off);
			uin->b_len -= uin->b_off;
			uin->b_off = 0;
		}
		room = uin->b_size - uin->b_len;
		n = read(u->u_ev.ev_fd, uin->b_data + uin->b_len, room);
		if (n > 0) {
			WRK_CC_N(r->rq_cluster, CC_CX_RX_BYTES, (uint64_t)n);
			if ((size_t)n < room)
				wrk_ev_short_read(&u->u_ev);
			uin->b_len += (uint32_t)n;
			r->rq_io = wrk.w_now;
			*progress = 1;
			continue;
		}
		if (n == 0) {
			u->u_ev.ev_rready = 0;
			r->rq_flags |= RQ_F_UPS_EOF;
			*progress = 1;
			return CD_OK;
		}
		if (errno == EAGAIN) {
			u->u_ev.ev_rready = 0;
			return CD_OK;
		}
		if (errno != EINTR)
			return tun_fail(c, r, false, errno);
	}
	return CD_OK;
}

/* The 101 head, then rq_uin -> client; the upstream's end passed on
 * after its last byte. */
static enum cd_rc
tun_tx_client(struct wrk_conn *c, struct wrk_req *r, int *progress)
{
	struct wrk_buf *out = r->rq_out, *uin = r->rq_uin;
	struct iovec iov[2];
	size_t total, k, step;
	ssize_t n;
	int niov;

	while (c->c_ev.ev_wready) {
		niov = 0;
		total = 0;
		if (out->b_off < out->b_len) {
			iov[niov].iov_base = out->b_data + out->b_off;
			iov[niov].iov_len = out->b_len - out->b_off;
			total += iov[niov++].iov_len;
		}
		if (uin->b_off < uin->b_len) {
			iov[niov].iov_base = uin->b_data + uin->b_off;
			iov[niov].iov_len = uin->b_len - uin->b_off;
			total += iov[niov++].iov_len;
		}
		if (niov == 0)
			break;
		n = writev(c->c_ev.ev_fd, iov, niov);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->c_ev.ev_wready = 0;
				break;
			}
			return tun_fail(c, r, true, errno);
		}
		WRK_HC_N(c, HC_CX_TX_BYTES, (uint64_t)n);
		r->rq_io = wrk.w_now;
		*progress = 1;
		if ((size_t)n < total)
			c->c_ev.ev_wready = 0;
		k = (size_t)n;
		if (out->b_off < out->b_len) {
			step = out->b_len - out->b_off;
			step = k < step ? k : step;
			out->b_off += (uint32_t)step;
			k -= step;
		}
		uin->b_off += (uint32_t)k;
		r->rq_tun_tx += k;
		if (uin->b_off == uin->b_len)
			uin->b_off = uin->b_len = 0;
	}
	if ((r->rq_flags & (RQ_F_UPS_EOF | RQ_F_CLI_SHUT)) == RQ_F_UPS_EOF &&
	    out->b_off == out->b_len && uin->b_off == uin->b_len) {
		r->rq_flags |= RQ_F_CLI_SHUT;
		*progress = 1;
		if (shutdown(c->c_ev.ev_fd, SHUT_WR) == -1 && errno != ENOTCONN)
			return tun_fail(c, r, true, errno);
	}
	return CD_OK;
}

/* Both directions ended: the stream is complete, both sides close (the
 * one whose end came first closed remotely). */
static void
tun_end(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_ups *u = r->rq_ups;
	bool cli_first = (r->rq_flags & RQ_F_CLI_FIRST) != 0;

	r->rq_flags |= RQ_F_RESP_DONE;
	conn_ups_unhold(r);
	r->rq_ups = NULL;
	u->u_owner = NULL;	/* no request is cut: a clean end */
	wrk_ups_close(u, !cli_first);
	wrk_conn_close(c, "tunnel closed", cli_first);
}

bool
conn_tunnel_pump(struct wrk_conn *c)
{
	struct wrk_req *r = c->c_req;
	int progress, rounds = 0;

	do {
		progress = 0;
		if (tun_rx_client(c, r, &progress) == CD_ERR ||
		    tun_tx_ups(c, r, &progress) == CD_ERR ||
		    tun_rx_ups(c, r, &progress) == CD_ERR ||
		    tun_tx_client(c, r, &progress) == CD_ERR)
			return false;
	} while (progress && ++rounds < TUN_PUMP_MAX);
	if ((r->rq_flags & (RQ_F_CLI_SHUT | RQ_F_UPS_SHUT)) ==
	    (RQ_F_CLI_SHUT | RQ_F_UPS_SHUT)) {
		tun_end(c, r);
		return false;
	}
	return progress != 0;
}

void
conn_tunnel_timeout(struct wrk_conn *c, struct wrk_req *r)
{
	WRK_HC(c, HC_RQ_IDLE_TIMEOUT);
	r->rq_rflags |= ALOG_RF_SI;
	log_debug("conn %u: tunnel: stream idle timeout", c->c_id);
	conn_ups_drop(r, false);
	wrk_conn_close(c, "tunnel: stream idle timeout", false);
}
