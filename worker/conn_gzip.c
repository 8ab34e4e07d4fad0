/*
 * The compressor filter on a response (canaryd.yaml(5), HTTP FILTERS):
 * the request's Accept-Encoding is read when its head is routed
 * (conn_gz_request()); the response head decides (conn_gz_start()); its
 * body, whatever its upstream framing, is de-framed by the parser
 * (collect mode), deflated with zlib into gzip and sent chunked
 * (WRK_FRAME_GZIP, conn_gz_body()); the end of the upstream response
 * finishes the stream (conn_gz_finish()), which may take more turns
 * than one while the client reads slowly -- the upstream connection is
 * kept that long.
 *
 * Input the compressor could not take for want of room in rq_out is kept
 * in gz_left, and no more is parsed until it is taken.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "shared/http1.h"
#include "shared/log.h"
#include "conn-int.h"
#include "gzip.h"
#include "hdr.h"
#include "wrk.h"

#define GZ_HDR		10	/* "%08x\r\n" before a chunk's data */
#define GZ_TAIL		7	/* "\r\n" after it, "0\r\n\r\n" at the end */
#define GZ_MIN_OUT	256	/* room worth deflating into */

struct conn_gz {
	z_stream	 gz_z;
	char		*gz_left;	/* input not taken yet */
	size_t		 gz_nleft, gz_capleft;
	bool		 gz_finish;	/* the upstream response ended */
	bool		 gz_ended;	/* Z_STREAM_END and "0\r\n\r\n" out */
	bool		 gz_eof;	/* it ended by the upstream's close */
	struct wrk_conn	*gz_c;		/* its counters' connection */
};

/* ---- the request ------------------------------------------------------- */

void
conn_gz_request(struct wrk_req *r, const char *base)
{
	const struct cd_compressor *cp = r->rq_route->rt_hf->hf_cmp;
	const char *v = NULL;
	size_t len = 0;
	uint16_t i;

	for (i = 0; i < r->rq_p.h_nhdrs; i++)
		if (wrk_hdr_eq(base, r->rq_hdrs[i].h_name, "accept-encoding")) {
			if (v == NULL) {
				v = base + r->rq_hdrs[i].h_value.s_off;
				len = r->rq_hdrs[i].h_value.s_len;
			}
			if (cp->cp_remove_accept_encoding)
				r->rq_hdrs[i].h_kind |= WRK_H_F_DROP;
		}
	switch (wrk_gz_accept(v, len)) {
	case WRK_GZ_NO_HEADER:
		WRK_HC(r->rq_conn, HC_GZ_NO_ACCEPT);
		return;
	case WRK_GZ_IDENTITY:
		WRK_HC(r->rq_conn, HC_GZ_IDENTITY);
		return;
	case WRK_GZ_NOT_VALID:
		WRK_HC(r->rq_conn, HC_GZ_NOT_VALID);
		return;
	case WRK_GZ_WILDCARD:
		WRK_HC(r->rq_conn, HC_GZ_WILDCARD);
		break;
	case WRK_GZ_GZIP:
		WRK_HC(r->rq_conn, HC_GZ_USED);
		break;
	}
	if (!(r->rq_flags & (RQ_F_HEAD_METHOD | RQ_F_HTTP10 | RQ_F_UPGRADE)))
		r->rq_flags |= RQ_F_GZ_OK | RQ_F_FILT;
}

/* ---- the response head --------------------------------------------------- */

/* The value of response header name, or NULL. */
static const char *
gz_resp_hdr(const struct wrk_req *r, const char *name, size_t *len,
    uint16_t *at)
{
	const char *base = r->rq_uin->b_data;
	uint16_t i;

	for (i = 0; i < r->rq_rp.h_nhdrs; i++)
		if (!(r->rq_hdrs[i].h_kind & WRK_H_F_DROP) &&
		    wrk_hdr_eq(base, r->rq_hdrs[i].h_name, name)) {
			*len = r->rq_hdrs[i].h_value.s_len;
			if (at != NULL)
				*at = i;
			return base + r->rq_hdrs[i].h_value.s_off;
		}
	return NULL;
}

static bool
gz_has_token(const char *v, size_t len, const char *tok)
{
	size_t n = strlen(tok), i;

	for (i = 0; v != NULL && i + n <= len; i++)
		if (strncasecmp(v + i, tok, n) == 0)
			return true;
	return false;
}

/* Should this response be compressed?  Envoy's checks, in its order. */
static bool
gz_wanted(const struct wrk_req *r, const struct cd_compressor *cp)
{
	const char *v;
	size_t len = 0;

	if (r->rq_frame != WRK_FRAME_LENGTH && r->rq_frame !=
	    WRK_FRAME_CHUNKED && r->rq_frame != WRK_FRAME_RECHUNK)
		return false;
	v = gz_resp_hdr(r, "content-type", &len, NULL);
	if (!wrk_gz_ctype_ok(cp, v, len))
		return false;
	if ((v = gz_resp_hdr(r, "cache-control", &len, NULL)) != NULL &&
	    gz_has_token(v, len, "no-transform"))
		return false;
	if (cp->cp_disable_on_etag && gz_resp_hdr(r, "etag", &len,
	    NULL) != NULL) {
		WRK_HC(r->rq_conn, HC_GZ_ETAG);
		return false;
	}
	if (r->rq_frame == WRK_FRAME_LENGTH &&
	    r->rq_rp.h_clen < cp->cp_min_length) {
		WRK_HC(r->rq_conn, HC_GZ_TOO_SMALL);
		return false;
	}
	if (gz_resp_hdr(r, "content-encoding", &len, NULL) != NULL ||
	    ((v = gz_resp_hdr(r, "transfer-encoding", &len, NULL)) != NULL &&
	    (gz_has_token(v, len, "gzip") || gz_has_token(v, len, "deflate"))))
		return false;
	return true;
}

bool
conn_gz_start(struct wrk_req *r)
{
	const struct cd_compressor *cp = r->rq_route->rt_hf->hf_cmp;
	struct conn_gz *gz;
	uint16_t i;

	if (!gz_wanted(r, cp)) {
		WRK_HC(r->rq_conn, HC_GZ_NOT_COMPRESSED);
		return false;
	}
	if ((gz = calloc(1, sizeof(*gz))) == NULL)
		return false;
	if (deflateInit2(&gz->gz_z, cp->cp_level, Z_DEFLATED,
	    (int)cp->cp_window_bits + 16, (int)cp->cp_mem_level,
	    cp->cp_strategy) != Z_OK) {
		free(gz);
		WRK_HC(r->rq_conn, HC_GZ_NOT_COMPRESSED);
		return false;
	}
	r->rq_gz = gz;
	gz->gz_c = r->rq_conn;
	WRK_HC(r->rq_conn, HC_GZ_COMPRESSED);
	for (i = 0; i < r->rq_rp.h_nhdrs; i++)
		if (WRK_H_KIND(r->rq_hdrs[i].h_kind) == WRK_H_CONTENT_LENGTH)
			r->rq_hdrs[i].h_kind |= WRK_H_F_DROP;
	r->rq_frame = WRK_FRAME_GZIP;
	return true;
}

size_t
conn_gz_lines(struct wrk_req *r, char *out, size_t cap)
{
	const char *etag;
	size_t len = 0;
	uint16_t at = 0;
	int n;

	n = snprintf(out, cap, "content-encoding: gzip\r\n"
	    "vary: Accept-Encoding\r\n");
	if (n < 0 || (size_t)n >= cap)
		return 0;
	/* a strong entity tag cannot name the compressed bytes: weak */
	if ((etag = gz_resp_hdr(r, "etag", &len, &at)) != NULL && !(len > 2 &&
	    etag[0] == 'W' && etag[1] == '/')) {
		r->rq_hdrs[at].h_kind |= WRK_H_F_DROP;
		if ((size_t)n + len + 16 < cap)
			n += snprintf(out + n, cap - (size_t)n,
			    "etag: W/%.*s\r\n", (int)len, etag);
	}
	return (size_t)n;
}

/* ---- the body -------------------------------------------------------------- */

/* "%08x\r\n" of n (< 2^32) at p, without a NUL. */
static void
gz_hex8(char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 7; i >= 0; i--, n >>= 4)
		p[i] = hex[n & 0xf];
	p[8] = '\r';
	p[9] = '\n';
}

/* Deflate what gz_z holds as input into out as one chunk; flush is
 * Z_NO_FLUSH or Z_FINISH.  False when out has no room. */
static bool
gz_deflate(struct conn_gz *gz, struct wrk_buf *out, int flush)
{
	size_t room, made;
	char *p;
	int rc;

	if (out->b_off == out->b_len)
		out->b_off = out->b_len = 0;
	room = out->b_size - out->b_len;
	if (room < GZ_HDR + GZ_TAIL + GZ_MIN_OUT)
		return false;
	p = out->b_data + out->b_len;
	gz->gz_z.next_out = (Bytef *)p + GZ_HDR;
	gz->gz_z.avail_out = (uInt)(room - GZ_HDR - GZ_TAIL);
	rc = deflate(&gz->gz_z, flush);
	made = room - GZ_HDR - GZ_TAIL - gz->gz_z.avail_out;
	if (made > 0) {
		gz_hex8(p, made);
		memcpy(p + GZ_HDR + made, "\r\n", 2);
		out->b_len += (uint32_t)(GZ_HDR + made + 2);
		WRK_HC_N(gz->gz_c, HC_GZ_OUT, made);
	}
	if (rc == Z_STREAM_END) {
		memcpy(out->b_data + out->b_len, "0\r\n\r\n", 5);
		out->b_len += 5;
		gz->gz_ended = true;
	}
	return true;
}

/* Keep p[0, n) after what is left for later. */
static bool
gz_append_left(struct conn_gz *gz, const char *p, size_t n)
{
	char *np;

	if (gz->gz_nleft + n > gz->gz_capleft) {
		if ((np = realloc(gz->gz_left, gz->gz_nleft + n)) == NULL)
			return false;
		gz->gz_left = np;
		gz->gz_capleft = gz->gz_nleft + n;
	}
	memcpy(gz->gz_left + gz->gz_nleft, p, n);
	gz->gz_nleft += n;
	return true;
}

/* Deflate what is left from before; true when nothing is left. */
static bool
gz_drain_left(struct conn_gz *gz, struct wrk_buf *out)
{
	while (gz->gz_nleft > 0) {
		gz->gz_z.next_in = (Bytef *)gz->gz_left;
		gz->gz_z.avail_in = (uInt)gz->gz_nleft;
		if (!gz_deflate(gz, out, Z_NO_FLUSH)) {
			gz->gz_z.avail_in = 0;
			return false;
		}
		memmove(gz->gz_left, gz->gz_z.next_in, gz->gz_z.avail_in);
		gz->gz_nleft = gz->gz_z.avail_in;
		gz->gz_z.avail_in = 0;
		if (gz->gz_nleft > 0)
			return false;
	}
	return true;
}

bool
conn_gz_ready(struct wrk_req *r)
{
	struct conn_gz *gz = r->rq_gz;
	struct wrk_buf *out = r->rq_out;

	if (!gz_drain_left(gz, out))
		return false;
	if (out->b_off == out->b_len)
		out->b_off = out->b_len = 0;
	return out->b_size - out->b_len >= GZ_HDR + GZ_TAIL + GZ_MIN_OUT;
}

bool
conn_gz_body(struct wrk_req *r)
{
	struct conn_gz *gz = r->rq_gz;
	const char *base = r->rq_uin->b_data;
	uint8_t i;
	bool ok = true;

	for (i = 0; i < r->rq_rp.h_nbody; i++) {
		WRK_HC_N(r->rq_conn, HC_GZ_IN, r->rq_rp.h_body[i].s_len);
		if (gz->gz_nleft > 0) {
			/* out is full: the rest waits */
			ok = ok && gz_append_left(gz, base +
			    r->rq_rp.h_body[i].s_off, r->rq_rp.h_body[i].s_len);
			continue;
		}
		gz->gz_z.next_in = (Bytef *)(uintptr_t)(base +
		    r->rq_rp.h_body[i].s_off);
		gz->gz_z.avail_in = r->rq_rp.h_body[i].s_len;
		while (gz->gz_z.avail_in > 0 && gz_deflate(gz, r->rq_out,
		    Z_NO_FLUSH))
			;
		if (gz->gz_z.avail_in > 0)
			ok = ok && gz_append_left(gz,
			    (const char *)gz->gz_z.next_in, gz->gz_z.avail_in);
		gz->gz_z.avail_in = 0;
	}
	return ok;
}

bool
conn_gz_finish(struct wrk_req *r, bool eof)
{
	struct conn_gz *gz = r->rq_gz;

	gz->gz_finish = true;
	gz->gz_eof = gz->gz_eof || eof;
	if (!gz_drain_left(gz, r->rq_out))
		return false;
	gz->gz_z.avail_in = 0;
	while (!gz->gz_ended && gz_deflate(gz, r->rq_out, Z_FINISH))
		;
	return gz->gz_ended;
}

bool
conn_gz_finishing(const struct wrk_req *r, bool *eof)
{
	if (r->rq_gz == NULL || !r->rq_gz->gz_finish)
		return false;
	*eof = r->rq_gz->gz_eof;
	return true;
}

void
conn_gz_free(struct wrk_req *r)
{
	if (r->rq_gz == NULL)
		return;
	deflateEnd(&r->rq_gz->gz_z);
	free(r->rq_gz->gz_left);
	free(r->rq_gz);
	r->rq_gz = NULL;
}
