/*
 * Upstream attempts of a request: finding it a connection (pooled, new,
 * or a wait for a slot) under the circuit breakers, the pool's callbacks,
 * and what follows a failed attempt -- a stale pooled connection tried
 * again, a retry after its back-off (worker/retry.h), the route's
 * fallback cluster, or the local reply.
 *
 * Invariant: a request holds breaker units only for its current cluster
 * (rq_bh); every path that moves it to another cluster or ends the
 * attempt gives them back first (conn_ups_unhold, conn_retry_unhold).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/alog.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "breaker.h"
#include "conn-int.h"
#include "hdr.h"
#include "mem.h"
#include "retry.h"
#include "upstream.h"
#include "wrk.h"

static void	conn_ups_discard(struct wrk_req *);
static void	conn_ups_ready(void *);
static void	conn_ups_failed(void *, int);
static void	conn_ups_event(void *, uint32_t);
static void	conn_ups_wake(void *);

const struct wrk_ups_cb conn_ups_cb = {
	.uc_ready = conn_ups_ready,
	.uc_failed = conn_ups_failed,
	.uc_event = conn_ups_event,
	.uc_wake = conn_ups_wake,
};

/* No longer waiting for a connection slot. */
static void
conn_cx_unwait(struct wrk_req *r)
{
	wrk_ups_unwait(&r->rq_uo);
	r->rq_wait_dl = 0;
}

/* Cluster gauges and breaker units r holds for its upstream attempt,
 * given back once. */
void
conn_ups_unhold(struct wrk_req *r)
{
	conn_cx_unwait(r);
	if (wrk_breaker_hold_give(&r->rq_bh, SHM_CB_PENDING))
		WRK_CG(r->rq_cluster, CG_RQ_PENDING_ACTIVE, -1);
	if (wrk_breaker_hold_give(&r->rq_bh, SHM_CB_RQ)) {
		WRK_CG(r->rq_cluster, CG_RQ_ACTIVE, -1);
		WRK_HOG(r->rq_cluster, r->rq_hidx, HOG_RQ_ACTIVE, -1);
	}
}

/* The max_retries unit of a retry whose attempt is over. */
void
conn_retry_unhold(struct wrk_req *r)
{
	(void)wrk_breaker_hold_give(&r->rq_bh, SHM_CB_RETRY);
}

/* Abandon r's upstream connection (never pooled). */
void
conn_ups_drop(struct wrk_req *r, bool remote)
{
	struct wrk_ups *u = r->rq_ups;

	conn_ups_unhold(r);
	if (u == NULL)
		return;
	r->rq_ups = NULL;
	wrk_ups_close(u, remote);
}

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
	    wrk_ns_ms(rt->rt_timeout), elapsed));
	if (n > 0)
		r->rq_uhead_len = (uint32_t)n;
}

/* Forget the last attempt (its connection is gone): the next one sends
 * the head and the body from the start and parses a new response. */
void
conn_attempt_reset(struct wrk_req *r)
{
	r->rq_flags &= ~(RQ_F_UHEAD_SENT | RQ_F_UREQ_SENT | RQ_F_UPS_NOREUSE |
	    RQ_F_UPS_EOF | RQ_F_UPS_WSTOP | RQ_F_UPS_BYTES);
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
    uint16_t status, uint32_t resp)
{
	const struct cd_retry_policy *rp = &r->rq_route->rt_retry;
	int ci = r->rq_cluster;
	bool sent = (r->rq_flags & RQ_F_UHEAD_SENT) || r->rq_uhead_off > 0;

	conn_retry_unhold(r);
	r->rq_flags &= ~RQ_F_FB_WANT;
	if (!rp->rp_set)
		return false;
	switch (wrk_retry_decide(rp, res, status, resp,
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
	if (!wrk_breaker_hold_take(&r->rq_bh, ci, SHM_CB_RETRY)) {
		WRK_CC(ci, CC_RQ_RETRY_OVERFLOW);
		r->rq_flags |= RQ_F_FB_WANT;
		return false;
	}
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
int
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
	if ((hidx = wrk_ups_pick_host(fb, &host, NULL, RQ_HASH(r))) < 0) {
		WRK_CC(fb, CC_CX_NONE_HEALTHY);
		return false;
	}
	log_debug("conn %u: %s failed, falling back to %s", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name,
	    wrk.w_conf->c_clusters[fb].cl_name);
	WRK_CC(ci, CC_CANARY_FALLBACK);
	if (st != 0) {
		WRK_RETRY_CODE(ci, st);
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
	memset(&r->rq_tried, 0, sizeof(r->rq_tried));
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
void
conn_retry_start(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster, hidx;

	if ((hidx = wrk_ups_pick_host(ci, &r->rq_host, &r->rq_tried,
	    RQ_HASH(r))) < 0) {
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
void
conn_try_failed(struct wrk_conn *c, struct wrk_req *r,
    enum wrk_try_result res, uint16_t code, const char *why)
{
	int ci = r->rq_cluster;

	shm_outlier_report(WRK_SHM_CL(ci), (uint32_t)r->rq_hidx,
	    res == WRK_TRY_PER_TRY_TIMEOUT ? 504 : 0);
	/* retried or failed with a 5xx: an error of that host either way */
	WRK_HOC(ci, r->rq_hidx, HOC_RQ_ERROR);
	if (conn_retry_decide(r, res, 0, 0)) {
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
 * A final response head arrived (status st, resp the WRK_RESP_F_* facts
 * of its headers): report it, and retry instead of forwarding it if the
 * policy says so.  True when retried.
 */
bool
conn_resp_retry(struct wrk_conn *c, struct wrk_req *r, uint16_t st,
    uint32_t resp)
{
	int ci = r->rq_cluster;

	shm_outlier_report(WRK_SHM_CL(ci), (uint32_t)r->rq_hidx,
	    st);
	if (!conn_retry_decide(r, WRK_TRY_RESPONSE, st, resp))
		/* no retry left: the fallback may take it instead */
		return (r->rq_flags & RQ_F_FB_WANT) && conn_fallback(c, r, st);
	/* Envoy charges a retried response as retry.upstream_rq_<code> */
	WRK_RETRY_CODE(ci, st);
	if (st >= 500)
		WRK_HOC(ci, r->rq_hidx, HOC_RQ_ERROR);
	log_debug("conn %u: upstream %s: %u, retrying", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name, st);
	conn_ups_discard(r);
	conn_retry_schedule(c, r);
	return true;
}

/* The pool's uc_failed: the new connection failed or timed out. */
static void
conn_ups_failed(void *data, int err)
{
	struct wrk_req *r = data;
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
void
conn_ups_broken(struct wrk_conn *c, struct wrk_req *r, int err)
{
	struct wrk_ups *u = r->rq_ups;
	int ci = r->rq_cluster;

	log_debug("conn %u: upstream %s: %s", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name,
	    err ? strerror(err) : "connection closed");
	if (r->rq_flags & RQ_F_RESP_HEAD) {
		WRK_CC(ci, CC_RQ_RX_RESET);
		WRK_HC(c, HC_RQ_RESET_AFTER_RESPONSE);
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

void
conn_ups_protocol_error(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster;

	log_debug("conn %u: upstream %s: protocol error: %s", c->c_id,
	    wrk.w_conf->c_clusters[ci].cl_name, http1_errstr(&r->rq_rp));
	WRK_CC(ci, CC_CX_PROTOCOL_ERROR);
	if (r->rq_flags & RQ_F_RESP_HEAD) {
		WRK_HC(c, HC_RQ_RESET_AFTER_RESPONSE);
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
 * The attempt that reaches the cluster's max_requests_per_connection is
 * the connection's last: it is closed, not pooled, after it.
 */
static void
conn_ups_attach(struct wrk_conn *c, struct wrk_req *r)
{
	int ci = r->rq_cluster;
	struct wrk_ups *u = r->rq_ups;
	const struct cd_cluster *cl = &wrk.w_conf->c_clusters[ci];

	if (!wrk_breaker_hold_take(&r->rq_bh, ci, SHM_CB_RQ)) {
		r->rq_ups = NULL;
		wrk_ups_release(u);
		conn_overflow(c, r);
		return;
	}
	if (cl->cl_max_requests_per_connection > 0 &&
	    u->u_nreq >= cl->cl_max_requests_per_connection) {
		WRK_CC(ci, CC_CX_MAX_REQUESTS);
		r->rq_flags |= RQ_F_UPS_NOREUSE;
	}
	if (wrk_breaker_hold_give(&r->rq_bh, SHM_CB_PENDING))
		WRK_CG(ci, CG_RQ_PENDING_ACTIVE, -1);
	WRK_CC(ci, CC_RQ_TOTAL);
	WRK_CG(ci, CG_RQ_ACTIVE, 1);
	WRK_HOC(ci, r->rq_hidx, HOC_RQ_TOTAL);
	WRK_HOG(ci, r->rq_hidx, HOG_RQ_ACTIVE, 1);
	/* the per-try timeout runs once the attempt has a connection and
	 * the client's request is complete */
	if (r->rq_try_ms > 0 && (r->rq_flags & RQ_F_REQ_DONE))
		r->rq_try_dl = wrk.w_now + r->rq_try_ms;
	conn_set_state(c, CONN_S_PROXY);
}

/* The pool's uc_ready: the new connection is up. */
static void
conn_ups_ready(void *data)
{
	struct wrk_req *r = data;
	struct wrk_conn *c = r->rq_conn;

	conn_ups_attach(c, r);
	conn_run(c);
}

/* The pool's uc_event: the request's connection has events. */
static void
conn_ups_event(void *data, uint32_t events)
{
	struct wrk_req *r = data;

	(void)events;
	conn_run(r->rq_conn);
}

/*
 * The pool's uc_wake: a connection slot may be free.  Look from the
 * timer, after the pool's caller is done with its connection.
 */
static void
conn_ups_wake(void *data)
{
	struct wrk_req *r = data;

	r->rq_wait_dl = wrk.w_now;
	conn_req_timer_sync(r);
}

/*
 * No connection slot (max_connections is full in every worker): the pool
 * keeps r on the cluster's queue; look again every WRK_UPS_WAIT_MS or
 * when woken.  Bounded by the route and stream idle timeouts.
 */
static void
conn_cx_wait(struct wrk_conn *c, struct wrk_req *r)
{
	r->rq_wait_dl = wrk.w_now + WRK_UPS_WAIT_MS;
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

	switch (wrk_ups_connect(&r->rq_uo, r->rq_cluster, r->rq_hidx,
	    &r->rq_host, &u, &err)) {
	case CD_AGAIN:
		conn_cx_wait(c, r);
		return;
	case CD_ERR:
		snprintf(why, sizeof(why), "remote connection failure, "
		    "transport failure reason: immediate connect error: %s",
		    strerror(err));
		log_debug("conn %u: upstream %s: %s", c->c_id,
		    wrk.w_conf->c_clusters[r->rq_cluster].cl_name, why);
		conn_ups_unhold(r);
		WRK_CC(r->rq_cluster, CC_RQ_PENDING_FAILURE_EJECT);
		conn_try_failed(c, r, WRK_TRY_CONNECT_FAIL, 503, why);
		return;
	default:
		break;
	}
	conn_cx_unwait(r);
	r->rq_ups = u;
	if (c->c_state != CONN_S_CONNECT)
		conn_set_state(c, CONN_S_CONNECT);
}

/* A waiting request looks again: a pooled connection, or a slot. */
void
conn_cx_retry(struct wrk_conn *c, struct wrk_req *r)
{
	struct wrk_ups *u;

	if ((u = wrk_ups_pooled(&r->rq_uo, r->rq_cluster, r->rq_hidx,
	    &r->rq_host)) != NULL) {
		conn_cx_unwait(r);
		r->rq_ups = u;
		conn_ups_attach(c, r);
		return;
	}
	conn_connect(c, r);
}

/*
 * Start an attempt of r on its chosen host (rq_hidx, rq_host): a pooled
 * connection unless fresh, else a new one, under the breakers.  Ends in
 * PROXY, CONNECT (connecting or waiting for a slot), BACKOFF (failed at
 * once, retrying) or REPLY.
 */
void
conn_attempt(struct wrk_conn *c, struct wrk_req *r, bool fresh)
{
	int ci = r->rq_cluster;
	struct wrk_ups *u;

	if (r->rq_hidx >= 0)
		wrk_tried_add(&r->rq_tried, r->rq_host.sh_id);
	/* with a pooled connection the take at attach decides at once */
	if (!fresh && (u = wrk_ups_pooled(&r->rq_uo, ci, r->rq_hidx,
	    &r->rq_host)) != NULL) {
		r->rq_ups = u;
		conn_ups_attach(c, r);
		return;
	}
	/* Envoy's canCreate() first: a full cluster costs no connect */
	if (wrk_breaker_full(ci, SHM_CB_RQ)) {
		conn_overflow(c, r);
		return;
	}
	if (!wrk_breaker_holds(&r->rq_bh, SHM_CB_PENDING)) {
		if (!wrk_breaker_hold_take(&r->rq_bh, ci, SHM_CB_PENDING)) {
			conn_overflow(c, r);
			return;
		}
		WRK_CC(ci, CC_RQ_PENDING_TOTAL);
		WRK_CG(ci, CG_RQ_PENDING_ACTIVE, 1);
	}
	conn_connect(c, r);
}
