/*
 * Local replies (Envoy's word): answers the proxy writes itself -- codec
 * errors, no route, no healthy upstream, overflow, upstream resets and
 * timeouts, direct responses.  A reply abandons the request's upstream
 * attempt and leaves the connection in REPLY; it stays open only when
 * the request was read to its end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/alog.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "shared/stats-t.h"
#include "conn-int.h"
#include "hdr.h"
#include "mem.h"
#include "wrk.h"

#define RESET_HEAD	"upstream connect error or disconnect/reset " \
			"before headers. "
#define OVERLOADED	"x-envoy-overloaded: true\r\n"

/*
 * A draining connection says close on the response to the last request
 * its client already sent: while c_in holds the start of another
 * (pipelined) request, that one is answered first.
 */
enum wrk_conn_hdr
conn_conn_hdr(const struct wrk_conn *c, struct wrk_req *r)
{
	bool more = (r->rq_flags & RQ_F_REQ_DONE) && c->c_in != NULL &&
	    r->rq_in_parsed < c->c_in->b_len;

	if ((c->c_flags & CONN_F_CLOSE) ||
	    ((c->c_flags & CONN_F_DRAIN) && !more)) {
		r->rq_flags |= RQ_F_SAID_CLOSE;
		return WRK_CONN_CLOSE;
	}
	if (r->rq_flags & RQ_F_HTTP10)
		return WRK_CONN_KEEP_ALIVE;
	return WRK_CONN_NONE;
}

void
conn_count_code(struct wrk_req *r, uint16_t code)
{
	r->rq_code = code;
	if (code >= CD_CODE_MIN && code <= CD_CODE_MAX)
		wrk_ctr(&r->rq_conn->c_lsn->ls_http->hc_code[code -
		    CD_CODE_MIN], 1);
}

/* Feed what c_in already holds to the request parser (no reading), so a
 * local reply can tell whether the connection stays usable. */
void
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

/* extra with the CORS lines r's response gets, in a buffer of its own
 * (a local reply passes the filters' encoding too). */
static const char *
conn_reply_cors(const struct wrk_req *r, const char *extra)
{
	static char lines[CD_HOSTNAME_MAX * 8 + CONN_CORS_MAX];
	size_t n = 0;

	if (extra != NULL && (n = strlcpy(lines, extra, sizeof(lines))) >=
	    sizeof(lines) - CONN_CORS_MAX)
		return extra;
	conn_filter_resp_lines(r, lines + n, CONN_CORS_MAX);
	return lines;
}

/*
 * Answer the request locally (Envoy's local reply), with extra header
 * lines ("name: value\r\n", or NULL).  Whatever upstream attempt r had
 * is abandoned.  The connection stays open only if the request was read
 * completely.
 */
void
conn_reply_x(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *body, size_t len, const char *extra)
{
	struct wrk_buf *out;
	bool head_only = (r->rq_flags & RQ_F_HEAD_METHOD) != 0;
	size_t n;

	CD_ASSERT(!(r->rq_flags & RQ_F_RESP_HEAD));
	conn_ups_drop(r, false);
	if (r->rq_cluster >= 0 && code >= CD_CODE_MIN && code <= CD_CODE_MAX)
		WRK_CODE(r->rq_cluster, code);
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
	/* the router's replies carry the route's response mutations */
	if (r->rq_route != NULL && (r->rq_route->rt_hm_flags &
	    CD_RT_HM_RESP))
		extra = conn_hm_reply(c, r, code, extra, extra != NULL &&
		    extra >= wrk.w_scratch && extra < wrk.w_scratch +
		    wrk.w_scratch_len ? (size_t)(extra - wrk.w_scratch) +
		    strlen(extra) + 1 : 0);
	if (r->rq_cors != NULL)
		extra = conn_reply_cors(r, extra);
	n = wrk_hdr_local_reply(out->b_data, out->b_size, code, body, len,
	    wrk_hdr_date(wrk.w_now_s), c->c_lsn->ls_server,
	    c->c_lsn->ls_server_len, extra, conn_conn_hdr(c, r), head_only);
	if (n == 0) {
		/* a long body (direct_response) is written from the config */
		n = wrk_hdr_local_reply(out->b_data, out->b_size, code, body,
		    len, wrk_hdr_date(wrk.w_now_s), c->c_lsn->ls_server,
		    c->c_lsn->ls_server_len, extra, conn_conn_hdr(c, r), true);
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

void
conn_reply(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *body, size_t len)
{
	conn_reply_x(c, r, code, body, len, NULL);
}

/* A malformed request: Envoy's codec error reply, then close. */
void
conn_codec_error(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *why, bool body)
{
	const char *reason = wrk_hdr_reason(code);

	log_info("conn %u: %u %s: %s", c->c_id, code, reason, why);
	WRK_HC(c, HC_CX_PROTOCOL_ERROR);
	r->rq_rflags |= ALOG_RF_DPE;
	c->c_flags |= CONN_F_CLOSE;
	if (r->rq_flags & RQ_F_RESP_HEAD) {
		wrk_conn_close(c, why, false);
		return;
	}
	conn_reply(c, r, code, body ? reason : NULL, body ? strlen(reason) : 0);
}

void
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
void
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
void
conn_overflow(struct wrk_conn *c, struct wrk_req *r)
{
	WRK_CC(r->rq_cluster, CC_RQ_PENDING_OVERFLOW);
	r->rq_rflags |= ALOG_RF_UO;
	log_debug("conn %u: %s: overflow", c->c_id,
	    wrk.w_conf->c_clusters[r->rq_cluster].cl_name);
	conn_reset_reply(c, r, 503, "overflow", OVERLOADED);
}
