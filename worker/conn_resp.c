/*
 * The upstream response: its parser, the head written for the client
 * (framing, the proxy's headers), the body bytes copied when the framing
 * changes, and its end, which pools or closes the upstream connection.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/hist.h"
#include "shared/http1.h"
#include "shared/stats-t.h"
#include "accesslog.h"
#include "conn-int.h"
#include "hdr.h"
#include "mem.h"
#include "sticky.h"
#include "upstream.h"
#include "wrk.h"

void
conn_resp_parser_init(struct wrk_req *r)
{
	http1_init(&r->rq_rp, HTTP1_RESPONSE, r->rq_hdrs,
	    wrk.w_hdrcap, wrk_buf_large_size());
	if (r->rq_flags & RQ_F_HEAD_METHOD)
		http1_set_nobody(&r->rq_rp);
}

/* The framings that send the client chunks. */
#define CONN_FRAMES_CHUNKED	((1u << WRK_FRAME_CHUNKED) | \
	(1u << WRK_FRAME_RECHUNK) | (1u << WRK_FRAME_GZIP))

static bool
conn_frame_copies(const struct wrk_req *r)
{
	return r->rq_frame >= WRK_FRAME_RECHUNK;
}

/*
 * The response head's framing toward the client, and what it says of
 * both connections: close the client's after it, do not pool the
 * upstream one.
 */
static void
conn_resp_frame(struct wrk_conn *c, struct wrk_req *r, uint16_t st,
    const struct wrk_resp_info *si)
{
	uint16_t i;

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
	if (si->si_conn_close) {
		WRK_CC(r->rq_cluster, CC_CX_CLOSE_NOTIFY);
		r->rq_flags |= RQ_F_UPS_NOREUSE;
	}
	if (!(r->rq_flags & RQ_F_UHEAD_SENT))	/* answered early */
		r->rq_flags |= RQ_F_UPS_NOREUSE | RQ_F_UPS_WSTOP;
	if (r->rq_100 == 0)
		r->rq_100_want = 0;
}

/*
 * Write the client head into rq_out, moving to a large buffer if it needs
 * one; false when it does not fit even there.
 */
/* A filter adds lines to the response head (RQ_F_FILT): the upstream's
 * own CORS headers give way to a policy's; the room they need. */
static size_t
conn_resp_cors_drop(struct wrk_req *r, const struct wrk_resp_head *sh)
{
	uint16_t i;

	for (i = 0; r->rq_cors != NULL && i < sh->sh_nhdrs; i++)
		if (conn_filter_resp_name(r, sh->sh_base, r->rq_hdrs[i].h_name))
			r->rq_hdrs[i].h_kind |= WRK_H_F_DROP;
	return CONN_CORS_MAX + CONN_GZ_LINES_MAX;
}

/* The filters' lines (CORS, compression) before the empty line that ends
 * head[0, len). */
static size_t
conn_resp_lines_add(struct wrk_req *r, struct wrk_buf *out, size_t len)
{
	size_t n = 0;

	if (len < 4 || memcmp(out->b_data + len - 4, "\r\n\r\n", 4) != 0 ||
	    out->b_size - len < CONN_CORS_MAX + CONN_GZ_LINES_MAX)
		return len;
	len -= 2;
	if (r->rq_cors != NULL)
		n = conn_filter_resp_lines(r, out->b_data + len, CONN_CORS_MAX);
	if (r->rq_gz != NULL)
		n += conn_gz_lines(r, out->b_data + len + n,
		    CONN_GZ_LINES_MAX);
	memcpy(out->b_data + len + n, "\r\n", 2);
	return len + n + 2;
}

bool
conn_resp_build(struct wrk_conn *c, struct wrk_req *r, uint16_t st,
    const struct wrk_resp_info *si)
{
	struct wrk_buf *out = r->rq_out;
	struct wrk_resp_head sh;
	struct wrk_hm hm;
	size_t need, len;

	memset(&sh, 0, sizeof(sh));
	sh.sh_base = r->rq_uin->b_data;
	sh.sh_hdrs = r->rq_hdrs;
	sh.sh_nhdrs = r->rq_rp.h_nhdrs;
	sh.sh_status = st;
	sh.sh_server = c->c_lsn->ls_server;
	sh.sh_server_len = c->c_lsn->ls_server_len;
	sh.sh_date = wrk_hdr_date(wrk.w_now_s);
	sh.sh_has_date = si->si_has_date;
	sh.sh_service_ms = r->rq_done != 0 ? (int64_t)(wrk.w_now - r->rq_done) :
	    -1;
	r->rq_svc_ms1 = sh.sh_service_ms >= 0 && sh.sh_service_ms < UINT32_MAX ?
	    (uint32_t)sh.sh_service_ms + 1 : 0;
	sh.sh_chunked = ((1u << r->rq_frame) & CONN_FRAMES_CHUNKED) != 0;
	/* a 101 carries the upstream's connection: upgrade instead */
	sh.sh_conn = (r->rq_flags & RQ_F_TUNNEL) ? WRK_CONN_NONE :
	    conn_conn_hdr(c, r);
	if (WRK_L(c)->l_always_set_request_id_in_response && r->rq_rid_len > 0) {
		sh.sh_request_id = r->rq_rid;
		sh.sh_request_id_len = r->rq_rid_len;
	}
	need = r->rq_rp.h_head_end + wrk_hdr_response_extra(sh.sh_nhdrs,
	    sh.sh_server_len, sh.sh_request_id_len);
	if (r->rq_route->rt_hm_flags & CD_RT_HM_RESP) {
		conn_hm_init(&hm, 0);
		if (!conn_hm_response(c, r, &hm, &sh))
			return false;
		need += wrk_hm_size(&hm);
	}
	if (r->rq_sticky_key[0] != '\0')
		need += wrk_sticky_set_cookie_len_of(
		    r->rq_route->rt_sticky.st_cookie, r->rq_sticky_key);
	if (r->rq_flags & RQ_F_FILT)
		need += conn_resp_cors_drop(r, &sh);
	if (out->b_size < need) {
		struct wrk_buf *nb = wrk_buf_get_large();

		if (nb == NULL || nb->b_size < need) {
			wrk_buf_put(nb);
			return false;
		}
		wrk_buf_put(out);
		out = r->rq_out = nb;
	}
	if ((len = wrk_hdr_build_response(out->b_data, out->b_size, &sh)) ==
	    0)
		return false;
	/* sticky set_cookie: the new key (in fleet mode, a key's new mark),
	 * so the browser keeps its version */
	if (r->rq_sticky_key[0] != '\0' && (need = wrk_sticky_set_cookie(
	    out->b_data, len, out->b_size, r->rq_route->rt_sticky.st_cookie,
	    r->rq_sticky_key)) > 0)
		len = need;
	if (r->rq_flags & RQ_F_FILT)
		len = conn_resp_lines_add(r, out, len);
	out->b_off = 0;
	out->b_len = (uint32_t)len;
	return true;
}

/* The response head arrived (si: its marked headers' facts): write the
 * client head, pick the framing. */
static enum cd_rc
conn_resp_head(struct wrk_conn *c, struct wrk_req *r,
    const struct wrk_resp_info *si)
{
	uint16_t st = http1_status(&r->rq_rp);
	int ci = r->rq_cluster;

	conn_resp_frame(c, r, st, si);
	if ((r->rq_flags & RQ_F_FILT) && (r->rq_flags & RQ_F_GZ_OK))
		(void)conn_gz_start(r);
	if (WRK_L(c)->l_alog_nresp > 0 && wrk_alog_on())
		conn_al_resp(r);
	if (!conn_resp_build(c, r, st, si)) {
		conn_ups_protocol_error(c, r);
		return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_OK;
	}
	r->rq_uin->b_off = r->rq_rp.h_head_end;
	if (r->rq_frame == WRK_FRAME_DECHUNK || r->rq_frame == WRK_FRAME_GZIP)
		http1_set_collect(&r->rq_rp);
	r->rq_flags |= RQ_F_RESP_HEAD;
	conn_count_code(r, st);
	if (st >= CD_CODE_MIN && st <= CD_CODE_MAX)
		WRK_CODE(ci, st);
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
		hist_record(wrk.w_shm, wrk.w_slot,
		    WRK_SLOT_CL(r->rq_cluster),
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

/*
 * A parser event before the final response head: CD_OK parse on (an
 * interim response dropped, or the head written), CD_AGAIN more bytes
 * are needed, CD_DONE stop (retrying, or answered instead), CD_ERR the
 * connection is closed.
 */
static enum cd_rc
conn_resp_head_ev(struct wrk_conn *c, struct wrk_req *r, enum http1_ev ev)
{
	struct wrk_buf *uin = r->rq_uin;
	struct wrk_resp_info si;
	uint16_t st;

	switch (ev) {
	case HTTP1_MORE:
		return CD_AGAIN;
	case HTTP1_HEAD:
		st = http1_status(&r->rq_rp);
		if (st / 100 == 1 && st != 101)
			return CD_OK;		/* interim: dropped */
		/* a 101 before our head went out whole is no answer to it */
		if (st == 101 && (r->rq_flags & (RQ_F_UPGRADE |
		    RQ_F_UHEAD_SENT)) == (RQ_F_UPGRADE | RQ_F_UHEAD_SENT)) {
			wrk_hdr_mark_response(uin->b_data, r->rq_hdrs,
			    r->rq_rp.h_nhdrs, &si);
			return conn_tunnel_start(c, r, &si) == CD_ERR ?
			    CD_ERR : CD_DONE;
		}
		if (st == 101 || st < CD_CODE_MIN || st > CD_CODE_MAX)
			break;
		/* marked before the retry decision, which reads headers */
		wrk_hdr_mark_response(uin->b_data, r->rq_hdrs,
		    r->rq_rp.h_nhdrs, &si);
		if (conn_resp_retry(c, r, st, si.si_ratelimited ?
		    WRK_RESP_F_RATELIMITED : 0))
			return CD_DONE;		/* dropped: retrying */
		if (conn_resp_head(c, r, &si) != CD_OK)
			return CD_ERR;
		if (!(r->rq_flags & RQ_F_RESP_HEAD))
			return CD_DONE;		/* replied instead */
		return CD_OK;
	case HTTP1_DONE:
		/* a 1xx ended: forget it, keep reading */
		memmove(uin->b_data, uin->b_data + r->rq_uin_parsed,
		    uin->b_len - r->rq_uin_parsed);
		uin->b_len -= r->rq_uin_parsed;
		uin->b_off = 0;
		r->rq_uin_parsed = 0;
		conn_resp_parser_init(r);
		return CD_OK;
	default:
		break;
	}
	conn_ups_protocol_error(c, r);
	return c->c_state == CONN_S_CLOSED ? CD_ERR : CD_DONE;
}

/* Body bytes just parsed in a copying framing: re-chunk or de-chunk them
 * into out. */
static void
conn_resp_copy(struct wrk_req *r, struct wrk_buf *uin, struct wrk_buf *out)
{
	uint32_t i;

	if (r->rq_frame == WRK_FRAME_RECHUNK) {
		if (r->rq_uin_parsed > uin->b_off) {
			conn_put_chunk(out, uin->b_data + uin->b_off,
			    r->rq_uin_parsed - uin->b_off);
			uin->b_off = r->rq_uin_parsed;
		}
	} else if (r->rq_frame == WRK_FRAME_GZIP) {
		(void)conn_gz_body(r);
		uin->b_off = r->rq_uin_parsed;
	} else if (r->rq_frame == WRK_FRAME_DECHUNK) {
		for (i = 0; i < r->rq_rp.h_nbody; i++) {
			memcpy(out->b_data + out->b_len, uin->b_data +
			    r->rq_rp.h_body[i].s_off,
			    r->rq_rp.h_body[i].s_len);
			out->b_len += r->rq_rp.h_body[i].s_len;
		}
		uin->b_off = r->rq_uin_parsed;
	}
}

/* Parse what rq_uin holds: head, interim responses, body. */
enum cd_rc
conn_resp_parse(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_buf *uin = r->rq_uin, *out;
	enum http1_ev ev;
	enum cd_rc rc;
	uint32_t avail, used;
	bool eof;

	while (r->rq_uin_parsed < uin->b_len &&
	    !(r->rq_flags & (RQ_F_RESP_DONE | RQ_F_TUNNEL))) {
		avail = uin->b_len - r->rq_uin_parsed;
		out = r->rq_out;
		if ((r->rq_flags & RQ_F_RESP_HEAD) && r->rq_gz != NULL) {
			/* what was left goes first, then a chunk's worth;
			 * nothing more once the stream is finishing */
			if (conn_gz_finishing(r, &eof))
				return conn_resp_gz_resume(c, r);
			if (!conn_gz_ready(r))
				return CD_OK;
			if (avail > r->rq_route->rt_hf->hf_cmp->cp_chunk_size)
				avail = r->rq_route->rt_hf->hf_cmp->cp_chunk_size;
		} else if ((r->rq_flags & RQ_F_RESP_HEAD) &&
		    conn_frame_copies(r)) {
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
			if ((rc = conn_resp_head_ev(c, r, ev)) == CD_OK)
				continue;
			return rc == CD_ERR ? CD_ERR : CD_OK;
		}
		/* body */
		if (conn_frame_copies(r))
			conn_resp_copy(r, uin, out);
		if (ev == HTTP1_DONE) {
			if (!conn_frame_copies(r) && r->rq_uin_parsed <
			    uin->b_off)
				uin->b_off = r->rq_uin_parsed;
			if (r->rq_gz != NULL && !conn_gz_finish(r, false))
				return CD_OK;	/* conn_resp_gz_resume() */
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
enum cd_rc
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
		if (r->rq_gz != NULL && !conn_gz_finish(r, true))
			return CD_OK;	/* conn_resp_gz_resume() */
		conn_resp_done(c, r, true);
		return CD_OK;
	}
	conn_ups_broken(c, r, 0);
	return CD_ERR;
}

enum cd_rc
conn_resp_gz_more(struct wrk_conn *c, struct wrk_req *r)
{
	bool eof;

	if (!(r->rq_flags & RQ_F_RESP_HEAD))
		return CD_OK;
	if (conn_gz_finishing(r, &eof))
		return conn_resp_gz_resume(c, r);
	(void)conn_gz_ready(r);		/* input left from before */
	return CD_OK;
}

enum cd_rc
conn_resp_gz_resume(struct wrk_conn *c, struct wrk_req *r)
{
	bool eof = false;

	if (conn_gz_finishing(r, &eof) && conn_gz_finish(r, eof))
		conn_resp_done(c, r, eof);
	return CD_OK;
}
