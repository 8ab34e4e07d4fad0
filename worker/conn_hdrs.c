/*
 * The configured header mutations of a request's route on the heads the
 * proxy writes: the upstream request head, the client's response head and
 * the local replies the router makes (direct responses, redirects,
 * upstream failures), in Envoy's order -- the weighted cluster's first,
 * then the route's, the virtual host's and the route configuration's
 * (reversed by most_specific_header_mutations_wins), each level
 * evaluated against the head the previous ones left.
 *
 * Values are Envoy's formats (shared/alog.h); what they read comes from
 * here: the request's headers (the mutated head while it is built, the
 * upstream head it became later), the response's, and the request's
 * record (addresses only when a format asks, as they cost a syscall).
 * Everything is written into w_scratch and the worker's line array:
 * nothing is allocated.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shared/alog.h"
#include "shared/clock.h"
#include "shared/http1.h"
#include "conn-int.h"
#include "hdr.h"
#include "rewrite.h"
#include "wrk.h"

/* What the formats of a request read, and the buffers they need. */
struct hm_ctx {
	struct wrk_req		*x_r;
	struct wrk_hm		*x_m;		/* the head being mutated */
	bool			 x_response;	/* x_m holds response lines */
	/* the request's pseudo-headers and, once it exists, its upstream
	 * head (the request as sent) */
	const char		*x_method;
	const char		*x_path;
	size_t			 x_path_len;
	const char		*x_auth;
	size_t			 x_auth_len;
	const char		*x_uhead;
	size_t			 x_uhead_len;
	/* before an upstream head exists: the request's own, in c_in */
	const char		*x_rbase;
	const struct http1_hdr	*x_rhdrs;
	uint16_t		 x_nrhdrs;
	struct alog_rec		 x_rec;
	char			 x_addr[3][64];	/* direct, remote, local */
	char			 x_up[64];
};

/* A pseudo-header of the request, or false. */
static bool
hm_pseudo(const struct hm_ctx *x, const char *name, size_t len,
    struct alog_str *out)
{
	if (len == 5 && memcmp(name, ":path", 5) == 0) {
		out->a_p = x->x_path;
		out->a_len = x->x_path_len;
	} else if (len == 7 && memcmp(name, ":method", 7) == 0) {
		out->a_p = x->x_method;
		out->a_len = strlen(x->x_method);
	} else if (len == 10 && memcmp(name, ":authority", 10) == 0) {
		out->a_p = x->x_auth;
		out->a_len = x->x_auth_len;
	} else if (len == 7 && memcmp(name, ":scheme", 7) == 0) {
		out->a_p = "http";
		out->a_len = 4;
	} else
		return false;
	return out->a_p != NULL;
}

/* A request header from the request's slices (the first one passed). */
static bool
hm_slice_get(const struct hm_ctx *x, const char *name, size_t len,
    struct alog_str *out)
{
	const struct http1_hdr *h;
	uint16_t i;

	for (i = 0; x->x_rbase != NULL && i < x->x_nrhdrs; i++) {
		h = &x->x_rhdrs[i];
		if ((h->h_kind & WRK_H_F_DROP) || h->h_name.s_len != len ||
		    strncasecmp(x->x_rbase + h->h_name.s_off, name, len) != 0)
			continue;
		out->a_p = x->x_rbase + h->h_value.s_off;
		out->a_len = h->h_value.s_len;
		return true;
	}
	return false;
}

static bool
hm_req_get(void *arg, const char *name, size_t len, struct alog_str *out)
{
	const struct hm_ctx *x = arg;
	char n[129];

	if (len > 0 && name[0] == ':')
		return hm_pseudo(x, name, len, out);
	if (len == 4 && memcmp(name, "host", 4) == 0)
		return hm_pseudo(x, ":authority", 10, out);
	if (!x->x_response)
		return wrk_hm_get(x->x_m, name, len, out);
	if (x->x_uhead == NULL)
		return hm_slice_get(x, name, len, out);
	if (len >= sizeof(n))
		return false;
	memcpy(n, name, len);
	n[len] = '\0';
	return alog_header(x->x_uhead, x->x_uhead_len, n, out);
}

static bool
hm_resp_get(void *arg, const char *name, size_t len, struct alog_str *out)
{
	const struct hm_ctx *x = arg;

	return x->x_response && wrk_hm_get(x->x_m, name, len, out);
}

/*
 * The request line and Host of the upstream head in rq_out: the request
 * as it went (rewritten), for the formats of the response; before there
 * is one (a direct response, no healthy host), the request's own head,
 * still in c_in with its slices.
 */
static void
hm_from_uhead(struct hm_ctx *x, const struct wrk_conn *c,
    const struct wrk_req *r)
{
	const char *h, *sp, *e;
	struct alog_str v;

	if (!(r->rq_flags & RQ_F_HEAD))
		return;
	if ((r->rq_out == NULL || r->rq_uhead_len == 0) &&
	    !(r->rq_flags & RQ_F_HEAD_GONE) && c->c_in != NULL) {
		x->x_rbase = c->c_in->b_data;
		x->x_rhdrs = r->rq_hdrs;
		x->x_nrhdrs = r->rq_p.h_nhdrs;
		x->x_path = x->x_rbase + r->rq_p.h_url.s_off;
		x->x_path_len = r->rq_p.h_url.s_len;
		if (hm_slice_get(x, "host", 4, &v)) {
			x->x_auth = v.a_p;
			x->x_auth_len = v.a_len;
		}
		return;
	}
	if (r->rq_out == NULL || r->rq_uhead_len == 0)
		return;
	h = r->rq_out->b_data;
	x->x_uhead = h;
	x->x_uhead_len = r->rq_uhead_len;
	if ((sp = memchr(h, ' ', r->rq_uhead_len)) == NULL ||
	    (e = memchr(sp + 1, ' ', r->rq_uhead_len - (size_t)(sp + 1 -
	    h))) == NULL)
		return;
	x->x_path = sp + 1;
	x->x_path_len = (size_t)(e - sp - 1);
	if (alog_header(h, r->rq_uhead_len, "host", &v)) {
		x->x_auth = v.a_p;
		x->x_auth_len = v.a_len;
	}
}

/* "ip:port" of the connection's peer (local: its own address). */
struct alog_str
conn_sockaddr(const struct wrk_conn *c, int local, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = sizeof(ss);
	struct alog_str s = { NULL, 0 };
	int rc;

	rc = local ? getsockname(c->c_ev.ev_fd, (struct sockaddr *)&ss, &sl) :
	    getpeername(c->c_ev.ev_fd, (struct sockaddr *)&ss, &sl);
	if (rc == -1)
		return s;
	if (ss.ss_family == AF_INET)
		s.a_len = alog_addr(buf, len, AF_INET, &sin->sin_addr,
		    ntohs(sin->sin_port));
	else if (ss.ss_family == AF_INET6)
		s.a_len = alog_addr(buf, len, AF_INET6, &sin6->sin6_addr,
		    ntohs(sin6->sin6_port));
	if (s.a_len > 0)
		s.a_p = buf;
	return s;
}

/*
 * Envoy's downstream remote address: the peer, except that without
 * use_remote_address the last address of x-forwarded-for is trusted
 * (with port 0, as Envoy prints it).
 */
static struct alog_str
hm_remote(struct hm_ctx *x, struct alog_str direct)
{
	struct alog_str xff, s = direct;
	unsigned char a[16];
	const char *p;
	char ip[64];
	size_t n;
	int af;

	if (WRK_L(x->x_r->rq_conn)->l_use_remote_address ||
	    !hm_req_get(x, "x-forwarded-for", 15, &xff))
		return s;
	p = memrchr(xff.a_p, ',', xff.a_len);
	p = p != NULL ? p + 1 : xff.a_p;
	n = xff.a_len - (size_t)(p - xff.a_p);
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(ip))
		return s;
	memcpy(ip, p, n);
	ip[n] = '\0';
	af = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, ip, a) != 1 || (n = alog_addr(x->x_addr[1],
	    sizeof(x->x_addr[1]), af, a, 0)) == 0)
		return s;
	s.a_p = x->x_addr[1];
	s.a_len = n;
	return s;
}

/* The record the formats read, with what their needs ask for. */
static void
hm_record(struct hm_ctx *x, struct wrk_conn *c, uint16_t code)
{
	struct wrk_req *r = x->x_r;
	const struct cd_route *rt = r->rq_route;
	struct alog_rec *ar = &x->x_rec;
	unsigned int needs = rt->rt_hm_needs;
	struct alog_str direct = { NULL, 0 };
	int major, minor;

	memset(ar, 0, sizeof(*ar));
	ar->ar_duration_ms = wrk.w_now - r->rq_start;
	if (needs & ALOG_N_TIME)
		ar->ar_start_ms = cd_realtime_ms() - ar->ar_duration_ms;
	http1_version(&r->rq_p, &major, &minor);
	ar->ar_protocol = minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
	ar->ar_code = code;
	ar->ar_flags = r->rq_rflags;
	ar->ar_rx = r->rq_p.h_body_bytes;
	ar->ar_conn_id = c->c_id;
	if (rt->rt_name != NULL) {
		ar->ar_route.a_p = rt->rt_name;
		ar->ar_route.a_len = strlen(rt->rt_name);
	}
	if (r->rq_cluster >= 0) {
		ar->ar_cluster.a_p = wrk.w_conf->c_clusters[r->rq_cluster].cl_name;
		ar->ar_cluster.a_len = strlen(ar->ar_cluster.a_p);
	}
	/* the upstream host is chosen after the request head is final */
	if (x->x_response && r->rq_hidx >= 0 && (ar->ar_upstream.a_len =
	    alog_addr(x->x_up, sizeof(x->x_up), r->rq_host.sh_family,
	    r->rq_host.sh_addr, r->rq_host.sh_port)) > 0)
		ar->ar_upstream.a_p = x->x_up;
	if (needs & ALOG_N_PEER) {
		direct = conn_sockaddr(c, 0, x->x_addr[0], sizeof(x->x_addr[0]));
		ar->ar_direct = direct;
		ar->ar_remote = hm_remote(x, direct);
	}
	if (needs & ALOG_N_LOCAL)
		ar->ar_local = conn_sockaddr(c, 1, x->x_addr[2],
		    sizeof(x->x_addr[2]));
}

/* A copy of s in m's buffer, or NULL when it does not fit. */
static const char *
hm_keep(struct wrk_hm *m, const char *s, size_t len)
{
	size_t avail;
	char *p = wrk_hm_room(m, &avail);

	if (len > avail) {
		m->m_over = true;
		return NULL;
	}
	memcpy(p, s, len);
	wrk_hm_take(m, len);
	return p;
}

/*
 * Host becomes host[0, len) (Envoy's updateAuthority): with the route's
 * append_x_forwarded_host, the old one is appended to x-forwarded-host.
 */
static void
hm_set_host(struct hm_ctx *x, struct wrk_hm *m, struct wrk_req_head *rh,
    const char *host, size_t len, bool append)
{
	struct alog_str xfh;
	size_t avail, n = 0;
	char *p;

	if (len == 0)
		return;
	if (append && x->x_r->rq_route->rt_rw.rw_append_xfh &&
	    rh->rh_host_len > 0) {
		p = wrk_hm_room(m, &avail);
		if (wrk_hm_get(m, "x-forwarded-host", 16, &xfh)) {
			if (xfh.a_len + 1 > avail) {
				m->m_over = true;
				return;
			}
			memcpy(p, xfh.a_p, xfh.a_len);
			p[xfh.a_len] = ',';
			n = xfh.a_len + 1;
		}
		if (n + rh->rh_host_len > avail) {
			m->m_over = true;
			return;
		}
		memcpy(p + n, rh->rh_host, rh->rh_host_len);
		n += rh->rh_host_len;
		wrk_hm_take(m, n);
		wrk_hm_remove(m, "x-forwarded-host", 16);
		wrk_hm_push(m, "x-forwarded-host", 16, p, n);
	}
	rh->rh_host = host;
	rh->rh_host_len = len;
	x->x_auth = host;
	x->x_auth_len = len;
}

/* The name auto_host_rewrite gives: the chosen host's endpoint
 * hostname, else a DNS cluster's endpoint name; NULL for none. */
static const char *
hm_auto_host(const struct wrk_req *r)
{
	const struct cd_cluster *cl;
	const struct cd_endpoint *ep;

	if (r->rq_hidx < 0 || r->rq_cluster < 0)
		return NULL;
	cl = &wrk.w_conf->c_clusters[r->rq_cluster];
	if (r->rq_host.sh_endpoint >= cl->cl_nendpoints)
		return NULL;
	ep = &cl->cl_endpoints[r->rq_host.sh_endpoint];
	if (ep->ep_hostname != NULL && ep->ep_hostname[0] != '\0')
		return ep->ep_hostname;
	return cl->cl_type == CD_CT_STRICT_DNS ? ep->ep_address : NULL;
}

/* The route's Host and path rewrites, after the header mutations. */
static void
hm_rewrite(struct hm_ctx *x, struct wrk_hm *m, struct wrk_req_head *rh)
{
	const struct cd_route *rt = x->x_r->rq_route;
	const struct cd_rewrite *rw = &rt->rt_rw;
	struct alog_str v;
	size_t avail, n, plen;
	const char *h;
	char *p;

	if (rw->rw_host != NULL)
		hm_set_host(x, m, rh, rw->rw_host, strlen(rw->rw_host), true);
	else if (rw->rw_host_header != NULL && wrk_hm_get(m,
	    rw->rw_host_header, strlen(rw->rw_host_header), &v) &&
	    (h = hm_keep(m, v.a_p, v.a_len)) != NULL)
		hm_set_host(x, m, rh, h, v.a_len, true);
	else if (rw->rw_host_regex.rs_set) {
		for (plen = 0; plen < rh->rh_target_len &&
		    rh->rh_target[plen] != '?' && rh->rh_target[plen] != '#';
		    plen++)
			;
		p = wrk_hm_room(m, &avail);
		n = wrk_rewrite_sub(&rw->rw_host_regex, rh->rh_target, plen,
		    p, avail / 2, p + avail / 2, avail - avail / 2);
		if (n != WRK_RW_OVER && n > 0) {
			wrk_hm_take(m, n);
			hm_set_host(x, m, rh, p, n, true);
		}
	} else if (rw->rw_auto_host && (h = hm_auto_host(x->x_r)) != NULL)
		hm_set_host(x, m, rh, h, strlen(h), true);
	p = wrk_hm_room(m, &avail);
	n = wrk_rewrite_path(&rt->rt_match, rw->rw_prefix, rw->rw_prefix_len,
	    &rw->rw_regex, rh->rh_target, rh->rh_target_len, p, avail / 2,
	    p + avail / 2, avail - avail / 2);
	if (n == WRK_RW_OVER)
		m->m_over = true;
	if (n == 0 || n == WRK_RW_OVER)
		return;
	wrk_hm_take(m, n);
	/* Envoy keeps the path the client sent for the upstream to see */
	wrk_hm_remove(m, "x-envoy-original-path", 21);
	wrk_hm_push(m, "x-envoy-original-path", 21, rh->rh_target,
	    rh->rh_target_len);
	rh->rh_target = p;
	rh->rh_target_len = n;
}

/*
 * Each level of r's route on m, Envoy's order; resp: the response
 * lists.  Between the weighted cluster's and the others, a request takes
 * the weighted cluster's host_rewrite_literal (into rh).
 */
static void
hm_levels(struct hm_ctx *x, struct wrk_hm *m, bool resp,
    struct wrk_req_head *rh)
{
	const struct cd_route *rt = x->x_r->rq_route;
	const struct cd_weighted_cluster *wc = NULL;
	const struct cd_hdr_mut *hm;
	struct alog_src src;
	size_t i;

	src.as_rec = &x->x_rec;
	src.as_req = hm_req_get;
	src.as_resp = hm_resp_get;
	src.as_arg = x;
	if (x->x_r->rq_wc1 > 0) {
		wc = &rt->rt_wc[x->x_r->rq_wc1 - 1];
		hm = &wc->wc_hdrs;
		wrk_hm_apply(m, resp ? &hm->hm_resp : &hm->hm_req, &src);
	}
	if (!resp && wc != NULL && wc->wc_host != NULL)
		hm_set_host(x, m, rh, wc->wc_host, strlen(wc->wc_host),
		    false);
	for (i = 0; i < 3; i++) {
		hm = rt->rt_hm_levels[i];
		wrk_hm_apply(m, resp ? &hm->hm_resp : &hm->hm_req, &src);
	}
}

void
conn_hm_init(struct wrk_hm *m, size_t scratch_used)
{
	wrk_hm_init(m, wrk.w_hm_lines, wrk.w_hm_cap, wrk.w_scratch +
	    scratch_used, wrk.w_scratch_len - scratch_used);
}

/* The x-forwarded-for of an edge request: the client's values joined,
 * then the address appended, written into m's buffer. */
static void
hm_push_xff(struct wrk_hm *m, const struct wrk_req_head *rh)
{
	const struct http1_hdr *h;
	size_t avail, n = 0, vl;
	char *p = wrk_hm_room(m, &avail);
	uint16_t i;

	for (i = 0; i < rh->rh_nhdrs; i++) {
		h = &rh->rh_hdrs[i];
		if (WRK_H_KIND(h->h_kind) != WRK_H_X_FORWARDED_FOR ||
		    (vl = h->h_value.s_len) == 0)
			continue;
		if (n + vl + 2 > avail) {
			m->m_over = true;
			return;
		}
		memcpy(p + n, rh->rh_base + h->h_value.s_off, vl);
		memcpy(p + n + vl, ", ", 2);
		n += vl + 2;
	}
	vl = strlen(rh->rh_xff_append);
	if (n + vl > avail) {
		m->m_over = true;
		return;
	}
	memcpy(p + n, rh->rh_xff_append, vl);
	wrk_hm_take(m, n + vl);
	wrk_hm_push(m, "x-forwarded-for", 15, p, n + vl);
}

/* The request head rh would write, as lines in m. */
static void
hm_request_lines(struct wrk_hm *m, const struct wrk_req_head *rh)
{
	const struct http1_hdr *h;
	uint16_t i;

	for (i = 0; i < rh->rh_nhdrs; i++) {
		h = &rh->rh_hdrs[i];
		if ((h->h_kind & WRK_H_F_DROP) ||
		    WRK_H_KIND(h->h_kind) == WRK_H_HOST)
			continue;
		wrk_hm_push(m, rh->rh_base + h->h_name.s_off, h->h_name.s_len,
		    rh->rh_base + h->h_value.s_off, h->h_value.s_len);
	}
	if (rh->rh_xff_append != NULL)
		hm_push_xff(m, rh);
	if (rh->rh_external != NULL)
		wrk_hm_push(m, "x-envoy-external-address", 24,
		    rh->rh_external, strlen(rh->rh_external));
	if (rh->rh_add_xfp)
		wrk_hm_push(m, "x-forwarded-proto", 17, "http", 4);
	if (rh->rh_request_id != NULL)
		wrk_hm_push(m, "x-request-id", 12, rh->rh_request_id,
		    strlen(rh->rh_request_id));
}

bool
conn_hm_request(struct wrk_conn *c, struct wrk_req *r, struct wrk_hm *m,
    struct wrk_req_head *rh)
{
	struct hm_ctx x;

	memset(&x, 0, sizeof(x));
	x.x_r = r;
	x.x_m = m;
	x.x_method = rh->rh_method;
	x.x_path = rh->rh_target;
	x.x_path_len = rh->rh_target_len;
	x.x_auth = rh->rh_host;
	x.x_auth_len = rh->rh_host_len;
	hm_request_lines(m, rh);
	hm_record(&x, c, 0);
	hm_levels(&x, m, false, rh);
	hm_rewrite(&x, m, rh);
	rh->rh_mut = m;
	return !m->m_over;
}

/* The formats' view of a response to r, with its lines in m. */
static void
hm_response_ctx(struct hm_ctx *x, struct wrk_conn *c, struct wrk_req *r,
    struct wrk_hm *m, uint16_t code)
{
	memset(x, 0, sizeof(*x));
	x->x_r = r;
	x->x_m = m;
	x->x_response = true;
	x->x_method = http1_method(&r->rq_p);
	hm_from_uhead(x, c, r);
	hm_record(x, c, code);
}

bool
conn_hm_response(struct wrk_conn *c, struct wrk_req *r, struct wrk_hm *m,
    struct wrk_resp_head *sh)
{
	const struct http1_hdr *h;
	struct alog_str v;
	struct hm_ctx x;
	size_t avail;
	uint16_t i;
	char *p;
	int n;

	for (i = 0; i < sh->sh_nhdrs; i++) {
		h = &sh->sh_hdrs[i];
		if (!(h->h_kind & WRK_H_F_DROP))
			wrk_hm_push(m, sh->sh_base + h->h_name.s_off,
			    h->h_name.s_len, sh->sh_base + h->h_value.s_off,
			    h->h_value.s_len);
	}
	/* Envoy's router sets it before the route's mutations see the head */
	if (sh->sh_service_ms >= 0) {
		p = wrk_hm_room(m, &avail);
		n = snprintf(p, avail, "%lld", (long long)sh->sh_service_ms);
		if (n > 0 && (size_t)n < avail) {
			wrk_hm_take(m, (size_t)n);
			wrk_hm_push(m, "x-envoy-upstream-service-time", 29, p,
			    (size_t)n);
		}
		sh->sh_service_ms = -1;
	}
	hm_response_ctx(&x, c, r, m, sh->sh_status);
	hm_levels(&x, m, true, NULL);
	sh->sh_has_date = wrk_hm_get(m, "date", 4, &v);
	sh->sh_mut = m;
	return !m->m_over;
}

const char *
conn_hm_reply(struct wrk_conn *c, struct wrk_req *r, uint16_t code,
    const char *extra, size_t scratch_used)
{
	const char *p = extra, *colon, *eol, *v;
	struct wrk_hm m;
	struct hm_ctx x;
	size_t avail, n = 0, i;
	char *out;

	conn_hm_init(&m, scratch_used);
	/* the reply's own lines ("name: value\r\n" each) */
	while (p != NULL && (eol = strstr(p, "\r\n")) != NULL) {
		if ((colon = memchr(p, ':', (size_t)(eol - p))) != NULL) {
			for (v = colon + 1; v < eol && *v == ' '; v++)
				;
			wrk_hm_push(&m, p, (size_t)(colon - p), v,
			    (size_t)(eol - v));
		}
		p = eol + 2;
	}
	hm_response_ctx(&x, c, r, &m, code);
	hm_levels(&x, &m, true, NULL);
	out = wrk_hm_room(&m, &avail);
	if (m.m_over || wrk_hm_size(&m) + 1 > avail)
		return extra;
	for (i = 0; i < m.m_n; i++) {
		if (m.m_v[i].l_dead)
			continue;
		memcpy(out + n, m.m_v[i].l_name, m.m_v[i].l_nlen);
		memcpy(out + n + m.m_v[i].l_nlen, ": ", 2);
		n += m.m_v[i].l_nlen + 2;
		memcpy(out + n, m.m_v[i].l_val, m.m_v[i].l_vlen);
		memcpy(out + n + m.m_v[i].l_vlen, "\r\n", 2);
		n += m.m_v[i].l_vlen + 2;
	}
	out[n] = '\0';
	return out;
}
