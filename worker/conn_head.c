/*
 * The request head: reading it into c_in, then checking it the way
 * Envoy's codec does, routing it to a cluster and a host, and writing
 * the head the upstream gets (with the client's address, on an edge
 * request), before the first attempt starts.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "accesslog.h"
#include "conn-int.h"
#include "hdr.h"
#include "lb.h"
#include "mem.h"
#include "retry.h"
#include "rewrite.h"
#include "router.h"
#include "shadow.h"
#include "upstream.h"
#include "wrk.h"

/* Counters of a weighted route's pick; a sticky value to hand out is
 * kept for the set-cookie line of the response. */
static void
conn_canary_count(struct wrk_req *r, int ci, const struct wrk_canary *ca)
{
	if (ca->ca_override_unknown)
		WRK_HC(r->rq_conn, HC_CANARY_OVERRIDE_UNKNOWN);
	if (ca->ca_by == WRK_PICK_NEW_KEY || ca->ca_by == WRK_PICK_STICKY)
		memcpy(r->rq_sticky_key, ca->ca_key, sizeof(r->rq_sticky_key));
	switch (ca->ca_by) {
	case WRK_PICK_OVERRIDE:
		WRK_CC(ci, CC_CANARY_OVERRIDE);
		break;
	case WRK_PICK_NEW_KEY:
	case WRK_PICK_STICKY:
		WRK_CC(ci, CC_CANARY_STICKY);
		break;
	case WRK_PICK_SPLIT:
		break;
	}
}

/* Where a request goes, as its head says. */
struct conn_target {
	const char	*t_path;	/* the target in origin form */
	size_t		 t_path_len;
	const char	*t_auth;	/* the absolute URL's, else Host */
	size_t		 t_auth_len;
	size_t		 t_match_len;	/* what virtual hosts match */
	const char	*t_uhost;	/* upstream head's host, or NULL */
	size_t		 t_uhost_len;
	size_t		 t_scratch;	/* bytes of w_scratch t_path uses */
};

/* Note what the parsed head says of the request and its connection. */
static void
conn_head_note(struct wrk_conn *c, struct wrk_req *r, const char *base,
    struct wrk_req_info *ri)
{
	r->rq_flags |= RQ_F_HEAD;
	r->rq_head_end = r->rq_p.h_head_end;
	r->rq_in_fwd = r->rq_head_end;
	conn_req_count(r);
	wrk_hdr_mark_request(base, r->rq_hdrs, r->rq_p.h_nhdrs, ri);
	/* use_remote_address: every request is an edge request, none is
	 * internal (Envoy's default since 1.33) */
	if (WRK_L(c)->l_use_remote_address)
		wrk_hdr_edge(base, r->rq_hdrs, r->rq_p.h_nhdrs, ri,
		    !WRK_L(c)->l_skip_xff_append);
	/* headers_with_underscores_action: DROP_HEADER drops them here,
	 * REJECT_REQUEST answers 400 in conn_head_check() */
	if (WRK_L(c)->l_headers_with_underscores != CD_US_ALLOW)
		ri->ri_underscores = wrk_hdr_underscores(base, r->rq_hdrs,
		    r->rq_p.h_nhdrs, WRK_L(c)->l_headers_with_underscores ==
		    CD_US_DROP_HEADER);
	if (wrk_alog_on())
		conn_al_capture(r, base, ri);
	if (http1_is_head_method(&r->rq_p))
		r->rq_flags |= RQ_F_HEAD_METHOD;
	if (http1_chunked(&r->rq_p))
		r->rq_flags |= RQ_F_CHUNKED;
	if (!http1_keep_alive(&r->rq_p))
		c->c_flags |= CONN_F_CLOSE;
}

/* The request target is in absolute form ("http://authority/..."). */
static bool
conn_head_absolute(const struct wrk_conn *c, const struct wrk_req *r)
{
	return r->rq_p.h_url.s_len > 7 && strncasecmp(c->c_in->b_data +
	    r->rq_p.h_url.s_off, "http://", 7) == 0;
}

/* Check the head the way Envoy's codec does; false when it was answered. */
static bool
conn_head_check(struct wrk_conn *c, struct wrk_req *r,
    const struct wrk_req_info *ri)
{
	int major, minor;

	http1_version(&r->rq_p, &major, &minor);
	if (major != 1) {
		conn_codec_error(c, r, 400, "unsupported HTTP version", true);
		return false;
	}
	if (minor == 0) {
		if (!WRK_L(c)->l_accept_http_10) {
			conn_codec_error(c, r, 426, "HTTP/1.0 not accepted",
			    true);
			return false;
		}
		r->rq_flags |= RQ_F_HTTP10;
	}
	if (ri->ri_bad_te) {
		conn_codec_error(c, r, 501, "unsupported transfer-encoding",
		    true);
		return false;
	}
	if (ri->ri_underscores && WRK_L(c)->l_headers_with_underscores ==
	    CD_US_REJECT_REQUEST) {
		conn_codec_error(c, r, 400, "header name with underscores",
		    true);
		return false;
	}
	/* HTTP/1.0 may go without Host when its target is absolute or the
	 * listener names a default_host_for_http_10; the upstream head is
	 * HTTP/1.1 and needs one (Envoy takes no other HTTP/1.0 request) */
	if (ri->ri_nhost == 0 && (!(r->rq_flags & RQ_F_HTTP10) ||
	    (WRK_L(c)->l_default_host_http10 == NULL &&
	    !conn_head_absolute(c, r)))) {
		conn_codec_error(c, r, 400, "missing host header", false);
		return false;
	}
	return true;
}

/* The value of r's first Upgrade header (a slice of base), or NULL. */
static const char *
conn_upgrade_value(const struct wrk_req *r, const char *base, size_t *len)
{
	uint16_t i;

	for (i = 0; i < r->rq_p.h_nhdrs; i++)
		if (WRK_H_KIND(r->rq_hdrs[i].h_kind) == WRK_H_UPGRADE) {
			*len = r->rq_hdrs[i].h_value.s_len;
			return base + r->rq_hdrs[i].h_value.s_off;
		}
	return NULL;
}

/* Does v[0, n) list upgrade type t (tlen bytes), ignoring case?  Its
 * entry, or NULL. */
static const struct cd_upgrade *
conn_upgrade_find(const struct cd_upgrade *v, size_t n, const char *t,
    size_t tlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i].ug_type) == tlen &&
		    strncasecmp(v[i].ug_type, t, tlen) == 0)
			return &v[i];
	return NULL;
}

/*
 * An upgrade request (Upgrade and Connection: upgrade; CONNECT aside):
 * may its route switch to that protocol?  Envoy's rule: the route's
 * upgrade_configs entry for the type decides when there is one, else the
 * connection manager's; a type neither enables is refused.  A direct
 * response or a redirect has only the manager's.  h2c is no upgrade at
 * all: Envoy's codec drops it and serves the request as a plain one.
 * True when the request goes on (RQ_F_UPGRADE set for a tunnel); false
 * when it was answered 403.
 */
static bool
conn_head_upgrade(struct wrk_conn *c, struct wrk_req *r, const char *base)
{
	const struct cd_route *rt = r->rq_route;
	const struct cd_upgrade *ug = NULL;
	const char *t;
	size_t tlen = 0;
	uint16_t i;

	if (!http1_upgrade(&r->rq_p) || http1_is_connect(&r->rq_p) ||
	    (t = conn_upgrade_value(r, base, &tlen)) == NULL)
		return true;
	if (tlen == 3 && strncasecmp(t, "h2c", 3) == 0) {
		for (i = 0; i < r->rq_p.h_nhdrs; i++)
			if (wrk_hdr_eq(base, r->rq_hdrs[i].h_name,
			    "http2-settings"))
				r->rq_hdrs[i].h_kind |= WRK_H_F_DROP;
		return true;
	}
	if (rt->rt_action == CD_RA_CLUSTER || rt->rt_action == CD_RA_WEIGHTED)
		ug = conn_upgrade_find(rt->rt_upgrades, rt->rt_nupgrades, t,
		    tlen);
	if (ug == NULL)
		ug = conn_upgrade_find(WRK_L(c)->l_upgrades,
		    WRK_L(c)->l_nupgrades, t, tlen);
	if (ug == NULL || !ug->ug_enabled) {
		/* no more requests on this connection: what follows may be
		 * the other protocol's bytes */
		WRK_HC(c, HC_RQ_WS_ON_NON_WS_ROUTE);
		log_debug("conn %u: upgrade to %.*s refused", c->c_id,
		    (int)(tlen > 64 ? 64 : tlen), t);
		c->c_flags |= CONN_F_CLOSE;
		conn_reply(c, r, 403, NULL, 0);
		return false;
	}
	r->rq_flags |= RQ_F_UPGRADE;
	for (i = 0; i < r->rq_p.h_nhdrs; i++)
		if (WRK_H_KIND(r->rq_hdrs[i].h_kind) == WRK_H_UPGRADE)
			r->rq_hdrs[i].h_kind &= ~(uint32_t)WRK_H_F_DROP;
	return true;
}

/* The path, the authority routing sees and the upstream head's host. */
static void
conn_head_target(const struct wrk_req *r, const char *base,
    const struct wrk_req_info *ri, struct conn_target *t)
{
	const struct cd_listener *l = WRK_L(r->rq_conn);
	const char *auth = "", *uhost = NULL;
	size_t alen = 0, mlen, uhost_len = 0;
	struct wrk_target tg;

	t->t_scratch = wrk_router_target(base + r->rq_p.h_url.s_off,
	    r->rq_p.h_url.s_len, wrk.w_scratch, wrk.w_scratch_len, &tg);
	if (tg.tg_auth != NULL) {
		/* absolute form: the authority in the URL is the host */
		auth = uhost = tg.tg_auth;
		alen = uhost_len = tg.tg_auth_len;
	} else if (ri->ri_host >= 0) {
		auth = base + r->rq_hdrs[ri->ri_host].h_value.s_off;
		alen = r->rq_hdrs[ri->ri_host].h_value.s_len;
	} else if (l->l_default_host_http10 != NULL) {
		/* HTTP/1.0 without Host (conn_head_check let only it by) */
		auth = uhost = l->l_default_host_http10;
		alen = uhost_len = strlen(auth);
	}
	mlen = alen;
	if (l->l_ignore_port_in_host_matching || l->l_strip_any_host_port)
		mlen = wrk_router_strip_port(auth, alen);
	if (l->l_strip_any_host_port && mlen != alen) {
		uhost = auth;
		uhost_len = mlen;
	} else if (l->l_strip_any_host_port && uhost != NULL)
		uhost_len = wrk_router_strip_port(uhost, uhost_len);
	t->t_path = tg.tg_path;
	t->t_path_len = tg.tg_path_len;
	t->t_auth = auth;
	t->t_auth_len = alen;
	t->t_match_len = mlen;
	t->t_uhost = uhost;
	t->t_uhost_len = uhost_len;
}

/*
 * The "location: ...\r\n" line of a redirect, or of a 201 or 3xx direct
 * response (the request's own URL, as Envoy gives it), written into
 * w_scratch past what t uses; NULL when there is none or it does not
 * fit.
 */
static const char *
conn_head_location(const struct wrk_req *r, const char *base,
    const struct conn_target *t, uint16_t code)
{
	const struct cd_route *rt = r->rq_route;
	const struct cd_redirect *rd = NULL;
	char *out = wrk.w_scratch + t->t_scratch, *tmp;
	size_t cap = wrk.w_scratch_len - t->t_scratch, n, q;
	struct wrk_loc lc;
	uint16_t i;

	memset(&lc, 0, sizeof(lc));
	if (rt->rt_action == CD_RA_REDIRECT)
		rd = lc.lc_rd = &rt->rt_redir;
	else if (code != 201 && code / 100 != 3)
		return NULL;
	/* the request's x-forwarded-proto, which canaryd sets when absent
	 * and on an edge request */
	lc.lc_proto = "http";
	lc.lc_proto_len = 4;
	for (i = 0; !WRK_L(r->rq_conn)->l_use_remote_address && i < r->rq_p.h_nhdrs;
	    i++)
		if (WRK_H_KIND(r->rq_hdrs[i].h_kind) ==
		    WRK_H_X_FORWARDED_PROTO) {
			lc.lc_proto = base + r->rq_hdrs[i].h_value.s_off;
			lc.lc_proto_len = r->rq_hdrs[i].h_value.s_len;
			break;
		}
	lc.lc_host = t->t_uhost != NULL ? t->t_uhost : t->t_auth;
	lc.lc_host_len = t->t_uhost != NULL ? t->t_uhost_len : t->t_auth_len;
	lc.lc_path = t->t_path;
	lc.lc_path_len = t->t_path_len;
	/* a redirect's own path rewrite comes first, as in Envoy */
	q = cap / 3;
	tmp = out + 2 * q;
	if (rd != NULL && (n = wrk_rewrite_path(&rt->rt_match, rd->rd_prefix,
	    rd->rd_prefix_len, &rd->rd_regex, t->t_path, t->t_path_len,
	    out + q, q, tmp, cap - 2 * q)) != 0 && n != WRK_RW_OVER) {
		lc.lc_path = out + q;
		lc.lc_path_len = n;
	}
	memcpy(out, "location: ", 10);
	if ((n = wrk_rewrite_location(&lc, out + 10, q - 13)) ==
	    WRK_RW_OVER)
		return NULL;
	memcpy(out + 10 + n, "\r\n", 3);
	return out;
}

/* A direct response or a redirect: the route answers itself. */
static void
conn_head_direct(struct wrk_conn *c, struct wrk_req *r, const char *base,
    const struct conn_target *t)
{
	const struct cd_route *rt = r->rq_route;
	uint16_t code = rt->rt_action == CD_RA_REDIRECT ?
	    rt->rt_redir.rd_code : rt->rt_direct_status;

	/* Envoy counts a redirect as a direct response too */
	WRK_HC(c, HC_RQ_DIRECT_RESPONSE);
	if (rt->rt_action == CD_RA_REDIRECT)
		WRK_HC(c, HC_RQ_REDIRECT);
	conn_reply_x(c, r, code, rt->rt_direct_body, rt->rt_direct_body_len,
	    conn_head_location(r, base, t, code));
}

/* One random draw per request for every runtime_fraction it meets, as
 * Envoy's stream id is. */
struct conn_draw {
	bool		 d_drawn;
	uint64_t	 d_v;
};

/* Does rf's share (the runtime's in shm, else its default) take the
 * request whose draw is arg? */
static bool
conn_head_fraction(const struct cd_fraction *rf, void *arg)
{
	struct conn_draw *d = arg;
	uint64_t v = atomic_load_explicit(shm_fraction(wrk.w_shm,
	    wrk.w_place->pl_fraction[rf->rf_index]), memory_order_relaxed);
	uint32_t num = v != 0 ? (uint32_t)(v >> 32) : rf->rf_numerator;
	uint32_t den = v != 0 ? (uint32_t)v : rf->rf_denominator;

	if (!d->d_drawn) {
		d->d_v = wrk_hdr_random();
		d->d_drawn = true;
	}
	return den != 0 && d->d_v % den < num;
}

/*
 * Route the request: its virtual host, route and cluster (a weighted
 * route picks one, counted).  The cluster's index, or -1 when the
 * request was answered (no route, a direct response, no cluster).
 */
static int
conn_head_route(struct wrk_conn *c, struct wrk_req *r, const char *base,
    const struct conn_target *t)
{
	const struct cd_vhost *vh;
	const struct cd_route *rt;
	struct conn_draw draw = { false, 0 };
	struct wrk_rq_view rv;
	struct wrk_canary ca;
	int ci = -1;
	uint32_t idx;

	if (http1_is_connect(&r->rq_p))
		c->c_flags |= CONN_F_CLOSE;
	vh = wrk_router_vhost(&c->c_lsn->ls_router, t->t_auth, t->t_match_len);
	rt = NULL;
	if (vh != NULL && !http1_is_connect(&r->rq_p)) {
		memset(&rv, 0, sizeof(rv));
		rv.rv_base = base;
		rv.rv_path = t->t_path;
		rv.rv_path_len = t->t_path_len;
		rv.rv_hdrs = r->rq_hdrs;
		rv.rv_nhdrs = r->rq_p.h_nhdrs;
		rv.rv_authority = t->t_auth;
		rv.rv_authority_len = t->t_auth_len;
		rv.rv_scratch = wrk.w_scratch + t->t_scratch;
		rv.rv_scratch_len = wrk.w_scratch_len - t->t_scratch;
		rv.rv_fraction = conn_head_fraction;
		rv.rv_fraction_arg = &draw;
		rt = wrk_router_route(&c->c_lsn->ls_router, vh, &rv);
	}
	if (rt == NULL) {
		WRK_HC(c, HC_NO_ROUTE);
		r->rq_rflags |= ALOG_RF_NR;
		log_debug("conn %u: no route for %.*s%.*s", c->c_id,
		    (int)t->t_auth_len, t->t_auth, (int)(t->t_path_len > 200 ?
		    200 : t->t_path_len), t->t_path);
		conn_reply(c, r, 404, NULL, 0);
		return -1;
	}
	r->rq_route = rt;
	if (!conn_head_upgrade(c, r, base))
		return -1;
	if (rt->rt_hf != NULL && !conn_filters_decode(c, r, base))
		return -1;
	switch (rt->rt_action) {
	case CD_RA_DIRECT:
	case CD_RA_REDIRECT:
		conn_head_direct(c, r, base, t);
		return -1;
	case CD_RA_CLUSTER:
		ci = rt->rt_cluster;
		break;
	case CD_RA_WEIGHTED:
		idx = wrk_router_pick_canary(rt, &rv,
		    shm_sp(wrk.w_shm, wrk.w_place->pl_split[rt->rt_wi]),
		    &wrk.w_splits[wrk.w_place->pl_split[rt->rt_wi]], &ca);
		ci = rt->rt_wc[idx].wc_cluster;
		r->rq_wc1 = (uint32_t)idx + 1;
		break;
	}
	WRK_HC(c, HC_RQ_ROUTER_TOTAL);
	if (ci < 0 || (size_t)ci >= wrk.w_conf->c_nclusters) {
		WRK_HC(c, HC_NO_CLUSTER);
		r->rq_rflags |= ALOG_RF_NC;
		conn_reply(c, r, rt->rt_cluster_not_found_code, NULL, 0);
		return -1;
	}
	if (rt->rt_action == CD_RA_WEIGHTED)
		conn_canary_count(r, ci, &ca);
	return ci;
}

/*
 * A host of cluster ci for the first attempt -- or of the route's
 * fallback when ci has none -- and the retry set-up of the route.  False
 * when the request was answered (no healthy upstream).
 */
static bool
conn_head_host(struct wrk_conn *c, struct wrk_req *r, int ci)
{
	const struct cd_route *rt = r->rq_route;
	const struct cd_retry_policy *rp = &rt->rt_retry;
	int hidx;

	r->rq_cluster = ci;
	if ((hidx = wrk_ups_pick_host(ci, &r->rq_host, NULL, RQ_HASH(r))) < 0) {
		WRK_CC(ci, CC_CX_NONE_HEALTHY);
		log_debug("conn %u: %s: no healthy upstream", c->c_id,
		    wrk.w_conf->c_clusters[ci].cl_name);
		/* nothing went anywhere yet: the fallback takes it as is */
		if ((ci = conn_fallback_cluster(r)) >= 0 &&
		    (hidx = wrk_ups_pick_host(ci, &r->rq_host, NULL, RQ_HASH(r))) >= 0) {
			WRK_CC(r->rq_cluster, CC_CANARY_FALLBACK);
			r->rq_flags |= RQ_F_FALLBACK;
			r->rq_cluster = ci;
		} else {
			r->rq_rflags |= ALOG_RF_UH;
			conn_reply(c, r, 503, "no healthy upstream", 19);
			return false;
		}
	}
	r->rq_hidx = hidx;
	r->rq_try_ms = (uint32_t)wrk_retry_per_try_ms(rp,
	    wrk_ns_ms(rt->rt_timeout));
	/* a route that may retry keeps the request for a replay; so does
	 * one with a fallback that a retriable failure may reach, even
	 * with num_retries 0 */
	if (rp->rp_set && rp->rp_retry_on != 0 && (rp->rp_num_retries > 0 ||
	    rt->rt_fallback >= 0))
		r->rq_flags |= RQ_F_KEEP;
	return true;
}

/*
 * The client's address as Envoy writes it into x-forwarded-for: IPv4
 * for an IPv4-mapped IPv6 peer, and for a loopback peer the address it
 * reached (the connection's local one).  False when the socket has none.
 */
static bool
conn_peer(const struct wrk_conn *c, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = sizeof(ss);
	struct in_addr a4;

	if (getpeername(c->c_ev.ev_fd, (struct sockaddr *)&ss, &sl) == -1)
		return false;
	if ((ss.ss_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 24) ==
	    127) || (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))) {
		sl = sizeof(ss);
		if (getsockname(c->c_ev.ev_fd, (struct sockaddr *)&ss,
		    &sl) == -1)
			return false;
	}
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &sin->sin_addr, buf, len) != NULL;
	if (ss.ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(&a4, &sin6->sin6_addr.s6_addr[12], sizeof(a4));
		return inet_ntop(AF_INET, &a4, buf, len) != NULL;
	}
	return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len) != NULL;
}

/*
 * Write the upstream head into rq_out (with the request id to add or
 * echo).  False when the request was answered or its connection closed.
 */
static bool
conn_head_build(struct wrk_conn *c, struct wrk_req *r, const char *base,
    const struct wrk_req_info *ri, const struct conn_target *t)
{
	const struct cd_listener *l = WRK_L(c);
	struct wrk_req_head rh;
	struct wrk_hm hm;
	struct wrk_buf *out;
	char peer[INET6_ADDRSTRLEN];
	size_t need, len;

	memset(&rh, 0, sizeof(rh));
	if (ri->ri_rid < 0 && l->l_generate_request_id) {
		wrk_hdr_uuid4(r->rq_rid);
		r->rq_rid_len = WRK_UUID_LEN;
		rh.rh_request_id = r->rq_rid;
	} else if (ri->ri_rid >= 0 && l->l_always_set_request_id_in_response &&
	    r->rq_hdrs[ri->ri_rid].h_value.s_len <= sizeof(r->rq_rid)) {
		r->rq_rid_len = (uint8_t)r->rq_hdrs[ri->ri_rid].h_value.s_len;
		memcpy(r->rq_rid, base + r->rq_hdrs[ri->ri_rid].h_value.s_off,
		    r->rq_rid_len);
	}
	rh.rh_base = base;
	rh.rh_hdrs = r->rq_hdrs;
	rh.rh_nhdrs = r->rq_p.h_nhdrs;
	rh.rh_method = http1_method(&r->rq_p);
	rh.rh_target = t->t_path;
	rh.rh_target_len = t->t_path_len;
	rh.rh_host = t->t_uhost;
	rh.rh_host_len = t->t_uhost_len;
	rh.rh_add_xfp = !ri->ri_has_xfp;
	if (l->l_use_remote_address && conn_peer(c, peer, sizeof(peer))) {
		rh.rh_external = peer;
		if (!l->l_skip_xff_append)
			rh.rh_xff_append = peer;
	}
	rh.rh_expected_ms = wrk_retry_expected_ms(r->rq_try_ms,
	    wrk_ns_ms(r->rq_route->rt_timeout), 0);
	rh.rh_chunked = (r->rq_flags & RQ_F_CHUNKED) != 0;
	rh.rh_upgrade = (r->rq_flags & RQ_F_UPGRADE) != 0;
	need = r->rq_head_end + wrk_hdr_request_extra(rh.rh_nhdrs,
	    t->t_uhost_len);
	if (r->rq_route->rt_hm_flags & (CD_RT_HM_REQ | CD_RT_HM_REWRITE)) {
		if (rh.rh_host == NULL) {
			rh.rh_host = t->t_auth;
			rh.rh_host_len = t->t_auth_len;
		}
		conn_hm_init(&hm, t->t_scratch);
		if (!conn_hm_request(c, r, &hm, &rh)) {
			conn_codec_error(c, r, 431, "request head too large",
			    true);
			return false;
		}
		need += wrk_hm_size(&hm) + rh.rh_host_len + rh.rh_target_len;
	}
	out = need <= WRK_BUF_SMALL ? wrk_buf_get() : wrk_buf_get_large();
	if (out == NULL) {
		wrk_conn_close(c, "out of buffers", false);
		return false;
	}
	r->rq_out = out;
	if ((len = wrk_hdr_build_request(out->b_data, out->b_size, &rh)) ==
	    0) {
		conn_codec_error(c, r, 431, "request head too large", true);
		return false;
	}
	r->rq_uhead_len = (uint32_t)len;
	return true;
}

/*
 * The route's mirror policies: each that takes the request gets a copy
 * of the upstream head, sent once the body is whole (conn_req_complete),
 * which the request keeps in c_in meanwhile, as for a retry.
 */
static void
conn_head_mirror(struct wrk_req *r)
{
	const struct cd_route *rt = r->rq_route;
	size_t i;

	for (i = 0; i < rt->rt_nmirror; i++) {
		if (rt->rt_mirror[i].mp_cluster < 0 ||
		    (size_t)rt->rt_mirror[i].mp_cluster >=
		    wrk.w_conf->c_nclusters ||
		    !wrk_shadow_pick(&rt->rt_mirror[i]))
			continue;
		if (wrk_shadow_new(&r->rq_shadow, &rt->rt_mirror[i], rt,
		    r->rq_out->b_data, r->rq_uhead_len,
		    (r->rq_flags & RQ_F_HEAD_METHOD) != 0))
			r->rq_flags |= RQ_F_KEEP;
	}
}

/*
 * The head is parsed: check it, route it, pick a cluster and a host,
 * write the upstream head and find a connection.  Ends in CONNECT,
 * PROXY, BACKOFF or REPLY.
 */
static void
conn_on_head(struct wrk_conn *c, struct wrk_req *r)
{
	const char *base = c->c_in->b_data;
	struct wrk_req_info ri;
	struct conn_target t;
	int ci;

	conn_head_note(c, r, base, &ri);
	if (!conn_head_check(c, r, &ri))
		return;
	conn_head_target(r, base, &ri, &t);
	if ((ci = conn_head_route(c, r, base, &t)) < 0)
		return;
	if (r->rq_route->rt_nhash > 0)
		r->rq_hashed = wrk_lb_request_hash(r->rq_route, base,
		    r->rq_hdrs, r->rq_p.h_nhdrs, t.t_path, t.t_path_len,
		    c->c_ev.ev_fd, &r->rq_hash);
	if (!conn_head_host(c, r, ci) ||
	    !conn_head_build(c, r, base, &ri, &t))
		return;
	if (r->rq_route->rt_nmirror > 0)
		conn_head_mirror(r);
	conn_resp_parser_init(r);

	/* an upgrade's bytes after the head are the other protocol's: they
	 * go upstream as they are, unparsed (Envoy's codec does the same) */
	if (r->rq_flags & RQ_F_UPGRADE)
		r->rq_in_parsed = r->rq_head_end;
	/* Envoy answers Expect: 100-continue itself, if the body is not
	 * here already */
	else if (ri.ri_expect_100) {
		conn_parse_buffered(c, r);
		if (!(r->rq_flags & RQ_F_REQ_DONE))
			r->rq_100_want = 1;
	}
	if (r->rq_flags & RQ_F_FAULT_DELAY) {
		/* a fault's delay first (conn_filter_delay_over()) */
		conn_set_state(c, CONN_S_BACKOFF);
		conn_req_timer_sync(r);
		return;
	}
	conn_attempt(c, r, false);
}

/*
 * Parse what c_in holds of the head: CD_OK more bytes are needed, CD_DONE
 * the head was handled (routed, or answered), CD_AGAIN it held only
 * blank lines between requests (idle again).
 */
static enum cd_rc
conn_head_parse(struct wrk_conn *c)
{
	struct wrk_req *r = c->c_req;
	struct wrk_buf *in = c->c_in;
	enum http1_ev ev;
	uint32_t used;

	if (r == NULL || r->rq_in_parsed >= in->b_len)
		return CD_OK;
	ev = http1_feed(&r->rq_p, in->b_data, r->rq_in_parsed,
	    in->b_len - r->rq_in_parsed, &used);
	r->rq_in_parsed += used;
	if (r->rq_p.h_flags & HTTP1_F_BEGUN)
		conn_req_count(r);
	if (ev == HTTP1_HEAD) {
		conn_on_head(c, r);
		return CD_DONE;
	}
	if (ev != HTTP1_MORE) {
		conn_parse_error(c, r);
		return CD_DONE;
	}
	if (!(r->rq_p.h_flags & HTTP1_F_BEGUN) &&
	    r->rq_in_parsed == in->b_len) {
		/* blank lines between requests: still idle */
		conn_req_free(c, r);
		in->b_len = 0;
		conn_go_idle(c);
		return CD_AGAIN;
	}
	return CD_OK;
}

/*
 * A read of the head into c_in ended: res bytes, or -errno.  CD_OK
 * something changed (parse again), CD_AGAIN nothing to read now, CD_ERR
 * the connection is closed.
 */
enum cd_rc
conn_head_got(struct wrk_conn *c, ssize_t res)
{
	struct wrk_req *r = c->c_req;

	if (res > 0) {
		conn_in_got(c, c->c_in, (size_t)res);
		if (r == NULL && (r = conn_req_new(c)) == NULL) {
			wrk_conn_close(c, "out of memory", false);
			return CD_ERR;
		}
		r->rq_io = wrk.w_now;
		return CD_OK;
	}
	if (res == 0) {
		wrk_conn_close(c, r == NULL ? "peer closed" :
		    "peer closed inside a request head", true);
		return CD_ERR;
	}
	if (res == -EAGAIN) {
		c->c_ev.ev_rready = 0;
		return CD_AGAIN;
	}
	if (res == -EINTR)
		return CD_OK;
	wrk_conn_close(c, strerror((int)-res), true);
	return CD_ERR;
}

/*
 * Read once into c_in, taking a buffer or moving to a large one first as
 * needed: conn_head_got()'s answers, and CD_DONE the request was answered
 * (head too large); CD_AGAIN too when the read was queued (c_ioq).
 */
static enum cd_rc
conn_head_read(struct wrk_conn *c)
{
	struct wrk_req *r = c->c_req;
	struct wrk_buf *in = c->c_in;
	struct iovec iov;
	ssize_t n;

	if (in == NULL && (in = c->c_in = wrk_buf_get()) == NULL) {
		wrk_conn_close(c, "out of buffers", false);
		return CD_ERR;
	}
	if (in->b_len == in->b_size) {
		if (conn_in_grow(&c->c_in) == 0)
			return CD_OK;
		if (r == NULL && (r = conn_req_new(c)) == NULL) {
			wrk_conn_close(c, "out of memory", false);
			return CD_ERR;
		}
		conn_codec_error(c, r, 431, "request head too large", true);
		return CD_DONE;
	}
	iov.iov_base = in->b_data + in->b_len;
	iov.iov_len = in->b_size - in->b_len;
	if (conn_io_queue(c, c->c_ev.ev_fd, &iov, 1, CONN_F_IO_READ))
		return CD_AGAIN;
	n = read(c->c_ev.ev_fd, iov.iov_base, iov.iov_len);
	return conn_head_got(c, n == -1 ? -errno : n);
}

void
conn_read_head(struct wrk_conn *c)
{
	enum cd_rc rc;

	for (;;) {
		if ((rc = conn_head_parse(c)) == CD_DONE)
			return;
		if (rc == CD_AGAIN)
			continue;
		if (!c->c_ev.ev_rready)
			break;
		if ((rc = conn_head_read(c)) == CD_AGAIN)
			break;
		if (rc != CD_OK)
			return;
	}
	if (c->c_ioq != 0)
		return;		/* reading into c_in: conn_io_done() goes on */
	conn_in_idle_put(c);
}

/* An idle connection holds no buffer. */
void
conn_in_idle_put(struct wrk_conn *c)
{
	if (c->c_req == NULL && c->c_in != NULL && c->c_in->b_len == 0) {
		wrk_buf_put(c->c_in);
		c->c_in = NULL;
	}
}
