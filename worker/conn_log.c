/*
 * The access log line of a request (worker/accesslog.h sends it): where
 * its head keeps the logged values, a copy of them before c_in drops the
 * head, and the record written once when the request ends.
 */
#include <stdint.h>
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
void
conn_req_log(struct wrk_conn *c, struct wrk_req *r)
{
	struct alog_str *dst[RQ_AL__N];
	struct alog_rec ar;
	const char *base = NULL;
	char up[64];
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
	wrk_alog_write(&ar);
}
