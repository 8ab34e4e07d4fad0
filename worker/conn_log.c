/*
 * The access log line of a request (worker/accesslog.h sends it): where
 * its head keeps the logged values, a copy of them before c_in drops the
 * head, and the record written once when the request ends.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shared/alog.h"
#include "shared/clock.h"
#include "shared/http1.h"
#include "accesslog.h"
#include "conn-int.h"
#include "hdr.h"
#include "mem.h"
#include "wrk.h"

/* Bytes of response header values a request keeps for its line. */
#define CONN_ALX_BUF	2048

/*
 * The headers the listener's log formats name beyond the default line's
 * (l_alog_req, l_alog_resp), kept for the line: request values as slices
 * of the head (like rq_al), response values copied (the response head
 * is gone by the time the line is written).
 */
struct conn_alx {
	struct http1_slice	 x_req[CD_ALOG_MAX_HDRS];
	uint32_t		 x_req_have;	/* bit i: x_req[i] is set */
	struct alog_str		 x_resp[CD_ALOG_MAX_HDRS];
	uint32_t		 x_resp_have;
	size_t			 x_len;
	char			 x_buf[CONN_ALX_BUF];
};

static struct wrk_slab	 alx_slab;
static bool		 alx_init;

static struct conn_alx *
conn_alx(struct wrk_req *r)
{
	if (r->rq_alx == NULL) {
		if (!alx_init) {
			wrk_slab_init(&alx_slab, "access log headers",
			    sizeof(struct conn_alx), 16);
			alx_init = true;
		}
		if ((r->rq_alx = wrk_slab_get(&alx_slab)) != NULL)
			memset(r->rq_alx, 0, offsetof(struct conn_alx, x_buf));
	}
	return r->rq_alx;
}

void
conn_al_free(struct wrk_req *r)
{
	if (r->rq_alx != NULL)
		wrk_slab_put(&alx_slab, r->rq_alx);
	r->rq_alx = NULL;
}

/* The index of name[0, len) in names[0, n), or -1. */
static int
conn_al_index(const char *const *names, size_t n, const char *name,
    size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* The request headers the formats name: where the head keeps them. */
static void
conn_al_capture_x(struct wrk_req *r, const char *base)
{
	const struct cd_listener *l = WRK_L(r->rq_conn);
	const struct http1_hdr *h;
	struct conn_alx *x;
	uint16_t i;
	int k;

	if ((x = conn_alx(r)) == NULL)
		return;
	for (i = 0; i < r->rq_p.h_nhdrs; i++) {
		h = &r->rq_hdrs[i];
		if ((k = conn_al_index(l->l_alog_req, l->l_alog_nreq,
		    base + h->h_name.s_off, h->h_name.s_len)) < 0 ||
		    (x->x_req_have & (1u << k)))
			continue;
		x->x_req[k] = h->h_value;
		x->x_req_have |= 1u << k;
	}
}

void
conn_al_resp(struct wrk_req *r)
{
	const struct cd_listener *l = WRK_L(r->rq_conn);
	const char *base = r->rq_uin->b_data;
	const struct http1_hdr *h;
	struct conn_alx *x;
	size_t n;
	uint16_t i;
	int k;

	if ((x = conn_alx(r)) == NULL)
		return;
	x->x_resp_have = 0;
	x->x_len = 0;
	for (i = 0; i < r->rq_rp.h_nhdrs; i++) {
		h = &r->rq_hdrs[i];
		if ((k = conn_al_index(l->l_alog_resp, l->l_alog_nresp,
		    base + h->h_name.s_off, h->h_name.s_len)) < 0 ||
		    (x->x_resp_have & (1u << k)))
			continue;
		/* values past the buffer are cut */
		n = h->h_value.s_len;
		if (n > sizeof(x->x_buf) - x->x_len)
			n = sizeof(x->x_buf) - x->x_len;
		memcpy(x->x_buf + x->x_len, base + h->h_value.s_off, n);
		x->x_resp[k].a_p = x->x_buf + x->x_len;
		x->x_resp[k].a_len = n;
		x->x_len += n;
		x->x_resp_have |= 1u << k;
	}
}

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
void
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
	if (WRK_L(r->rq_conn)->l_alog_nreq > 0)
		conn_al_capture_x(r, base);
}

/* c_in is about to drop the head: keep the logged bytes (same offsets).
 * Without a buffer the line says "-" for them. */
void
conn_al_keep_head(struct wrk_req *r, const struct wrk_buf *in)
{
	struct wrk_buf *b;
	uint32_t end = 0;
	int i;

	for (i = 0; i < RQ_AL__N; i++)
		if ((r->rq_al_have & (1u << i)) &&
		    r->rq_al[i].s_off + r->rq_al[i].s_len > end)
			end = r->rq_al[i].s_off + r->rq_al[i].s_len;
	for (i = 0; r->rq_alx != NULL && i < CD_ALOG_MAX_HDRS; i++)
		if ((r->rq_alx->x_req_have & (1u << i)) &&
		    r->rq_alx->x_req[i].s_off + r->rq_alx->x_req[i].s_len > end)
			end = r->rq_alx->x_req[i].s_off +
			    r->rq_alx->x_req[i].s_len;
	b = end <= WRK_BUF_SMALL ? wrk_buf_get() : wrk_buf_get_large();
	if (b == NULL || b->b_size < end || in->b_len < end) {
		wrk_buf_put(b);
		r->rq_al_have = 0;
		if (r->rq_alx != NULL)
			r->rq_alx->x_req_have = 0;
		return;
	}
	memcpy(b->b_data, in->b_data, end);
	b->b_len = end;
	r->rq_al_head = b;
}

/* What a request's log formats read. */
struct conn_al_ctx {
	const struct alog_rec	*a_rec;
	const struct wrk_req	*a_r;
	const char		*a_base;	/* the head's bytes, or NULL */
	char			 a_svc[24];
};

/* %REQ(name)%: the record's own values (pseudo-headers, the default
 * line's headers), the others from the slices kept for them. */
static bool
conn_al_req(void *arg, const char *name, size_t len, struct alog_str *out)
{
	const struct conn_al_ctx *a = arg;
	const struct conn_alx *x = a->a_r->rq_alx;
	const struct cd_listener *l = WRK_L(a->a_r->rq_conn);
	int k;

	if ((k = alog_rec_req(a->a_rec, name, len, out)) >= 0)
		return k == 1;
	if (x == NULL || a->a_base == NULL || (k = conn_al_index(
	    l->l_alog_req, l->l_alog_nreq, name, len)) < 0 ||
	    !(x->x_req_have & (1u << k)))
		return false;
	out->a_p = a->a_base + x->x_req[k].s_off;
	out->a_len = x->x_req[k].s_len;
	return true;
}

static bool
conn_al_resp_get(void *arg, const char *name, size_t len,
    struct alog_str *out)
{
	struct conn_al_ctx *a = arg;
	const struct conn_alx *x = a->a_r->rq_alx;
	const struct cd_listener *l = WRK_L(a->a_r->rq_conn);
	int n, k;

	if (len == 29 && memcmp(name, "x-envoy-upstream-service-time",
	    29) == 0) {
		if (a->a_rec->ar_svc_ms < 0)
			return false;
		n = snprintf(a->a_svc, sizeof(a->a_svc), "%lld",
		    (long long)a->a_rec->ar_svc_ms);
		out->a_p = a->a_svc;
		out->a_len = (size_t)n;
		return true;
	}
	if (x == NULL || (k = conn_al_index(l->l_alog_resp,
	    l->l_alog_nresp, name, len)) < 0 ||
	    !(x->x_resp_have & (1u << k)))
		return false;
	*out = x->x_resp[k];
	return true;
}

/* The request's access log line, once, when it ends (any way). */
void
conn_req_log(struct wrk_conn *c, struct wrk_req *r)
{
	struct alog_str *dst[RQ_AL__N];
	struct alog_rec ar;
	struct conn_al_ctx a;
	struct alog_src src;
	const char *base = NULL;
	char up[64], peer[64], local[64];
	unsigned int needs;
	int i, major, minor;

	if (!wrk_alog_on() ||
	    (r->rq_flags & (RQ_F_COUNTED | RQ_F_LOGGED)) != RQ_F_COUNTED)
		return;
	r->rq_flags |= RQ_F_LOGGED;
	memset(&ar, 0, sizeof(ar));
	ar.ar_duration_ms = wrk.w_now - r->rq_start;
	ar.ar_start_ms = cd_realtime_ms() - ar.ar_duration_ms;
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
	if (r->rq_flags & RQ_F_UPGRADE) {
		/* an upgrade's body is what went through the tunnel */
		ar.ar_rx = r->rq_tun_rx;
		ar.ar_tx = r->rq_tun_tx;
	}
	ar.ar_svc_ms = r->rq_svc_ms1 > 0 ? (int64_t)r->rq_svc_ms1 - 1 : -1;
	if (r->rq_hidx >= 0 && (ar.ar_upstream.a_len = alog_addr(up,
	    sizeof(up), r->rq_host.sh_family, r->rq_host.sh_addr,
	    r->rq_host.sh_port)) > 0)
		ar.ar_upstream.a_p = up;
	/* what only formats read */
	if ((needs = wrk_alog_needs()) != 0) {
		if (r->rq_cluster >= 0) {
			ar.ar_cluster.a_p =
			    wrk.w_conf->c_clusters[r->rq_cluster].cl_name;
			ar.ar_cluster.a_len = strlen(ar.ar_cluster.a_p);
		}
		if (r->rq_route != NULL && r->rq_route->rt_name != NULL) {
			ar.ar_route.a_p = r->rq_route->rt_name;
			ar.ar_route.a_len = strlen(ar.ar_route.a_p);
		}
		ar.ar_conn_id = c->c_id;
		if ((needs & ALOG_N_PEER) && c->c_ev.ev_fd != -1)
			ar.ar_direct = ar.ar_remote = conn_sockaddr(c, 0, peer,
			    sizeof(peer));
		if ((needs & ALOG_N_LOCAL) && c->c_ev.ev_fd != -1)
			ar.ar_local = conn_sockaddr(c, 1, local,
			    sizeof(local));
	}
	a.a_rec = &ar;
	a.a_r = r;
	a.a_base = base;
	src.as_rec = &ar;
	src.as_req = conn_al_req;
	src.as_resp = conn_al_resp_get;
	src.as_arg = &a;
	wrk_alog_write(WRK_L(c), &src);
}
