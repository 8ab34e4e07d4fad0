/*
 * Header policy, head writers, local replies, date and uuid (see hdr.h).
 * Everything here is a pure function of its arguments except the
 * one-entry date cache.  Writers never overrun: each returns 0 when the
 * head does not fit, and the caller retries with a larger buffer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hdr.h"

/* ---- small writer -------------------------------------------------- */

struct hw {
	char	*w_p;
	char	*w_end;
	bool	 w_over;
};

static void
hw_put(struct hw *w, const void *s, size_t n)
{
	if ((size_t)(w->w_end - w->w_p) < n) {
		w->w_over = true;
		return;
	}
	memcpy(w->w_p, s, n);
	w->w_p += n;
}

#define HW_LIT(w, s)	hw_put((w), (s), sizeof(s) - 1)

static void
hw_str(struct hw *w, const char *s)
{
	hw_put(w, s, strlen(s));
}

/* High bit of each byte of x: 'A' <= byte <= 'Z', moved to 0x20. */
#define UPPER_BITS(x, lo)						\
	(((((x) & (lo)) + ((lo) / 0x7f) * 0x3f) &			\
	    ~(((x) & (lo)) + ((lo) / 0x7f) * 0x25) & ~(x) & ~(lo)) >> 2)

static inline void
lower8(char *d, const char *s)
{
	const uint64_t lo = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t x;

	memcpy(&x, s, sizeof(x));
	x |= UPPER_BITS(x, lo);
	memcpy(d, &x, sizeof(x));
}

static inline void
lower4(char *d, const char *s)
{
	const uint32_t lo = 0x7f7f7f7fU;
	uint32_t x;

	memcpy(&x, s, sizeof(x));
	x |= UPPER_BITS(x, lo);
	memcpy(d, &x, sizeof(x));
}

/*
 * n bytes of s to d, A-Z as a-z, in words of eight or four bytes (a
 * byte of 0x80 or more is never changed); the last word overlaps the
 * one before rather than going byte by byte.
 */
static void
lower_to(char *d, const char *s, size_t n)
{
	size_t i;
	unsigned char ch;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8)
			lower8(d + i, s + i);
		if (i < n)
			lower8(d + n - 8, s + n - 8);
	} else if (n >= 4) {
		lower4(d, s);
		lower4(d + n - 4, s + n - 4);
	} else
		for (i = 0; i < n; i++) {
			ch = (unsigned char)s[i];
			d[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch | 0x20) :
			    (char)ch;
		}
}

static void
hw_lower(struct hw *w, const char *s, size_t n)
{
	if ((size_t)(w->w_end - w->w_p) < n) {
		w->w_over = true;
		return;
	}
	lower_to(w->w_p, s, n);
	w->w_p += n;
}

/* Decimal, two digits a division. */
static void
hw_u64(struct hw *w, uint64_t v)
{
	static const char d2[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	char tmp[24];
	size_t i = sizeof(tmp);

	for (; v >= 100; v /= 100) {
		i -= 2;
		memcpy(tmp + i, d2 + 2 * (v % 100), 2);
	}
	if (v >= 10) {
		i -= 2;
		memcpy(tmp + i, d2 + 2 * v, 2);
	} else
		tmp[--i] = (char)('0' + v);
	hw_put(w, tmp + i, sizeof(tmp) - i);
}

static void
hw_status_line(struct hw *w, uint16_t code)
{
	if (code == 200) {	/* most answers: one copy */
		HW_LIT(w, "HTTP/1.1 200 OK\r\n");
		return;
	}
	HW_LIT(w, "HTTP/1.1 ");
	hw_u64(w, code);
	HW_LIT(w, " ");
	hw_str(w, wrk_hdr_reason(code));
	HW_LIT(w, "\r\n");
}

/* ---- classification ------------------------------------------------ */

static bool
ieq(const char *a, size_t alen, const char *lit)
{
	return strlen(lit) == alen && strncasecmp(a, lit, alen) == 0;
}

bool
wrk_hdr_eq(const char *base, struct http1_slice s, const char *lit)
{
	return ieq(base + s.s_off, s.s_len, lit);
}

enum wrk_hkind
wrk_hdr_kind(const char *n, size_t len)
{
	return (enum wrk_hkind)http1_hdr_kind(n, len);
}

/* Next comma-separated token of [*pp, end), blanks trimmed; false at end. */
static bool
hdr_next_token(const char **pp, const char *end, const char **tok,
    size_t *tlen)
{
	const char *p = *pp;

	while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
		p++;
	if (p == end)
		return false;
	*tok = p;
	while (p < end && *p != ',')
		p++;
	*tlen = (size_t)(p - *tok);
	while (*tlen > 0 && ((*tok)[*tlen - 1] == ' ' ||
	    (*tok)[*tlen - 1] == '\t'))
		(*tlen)--;
	*pp = p;
	return true;
}

/* Drop the headers a Connection header names (RFC 7230 6.1). */
static void
hdr_drop_nominated(const char *base, struct http1_hdr *h, uint16_t n,
    struct http1_slice v)
{
	const char *p = base + v.s_off, *end = p + v.s_len, *tok;
	size_t tlen;

	while (hdr_next_token(&p, end, &tok, &tlen)) {
		uint16_t i;

		if (ieq(tok, tlen, "close") ||
		    ieq(tok, tlen, "keep-alive") || ieq(tok, tlen, "upgrade"))
			continue;
		for (i = 0; i < n; i++) {
			enum wrk_hkind k = WRK_H_KIND(h[i].h_kind);

			if (k == WRK_H_HOST || k == WRK_H_CONTENT_LENGTH ||
			    k == WRK_H_TRANSFER_ENCODING)
				continue;
			if (h[i].h_name.s_len == tlen && strncasecmp(base +
			    h[i].h_name.s_off, tok, tlen) == 0)
				h[i].h_kind |= WRK_H_F_DROP;
		}
	}
}

void
wrk_hdr_mark_request(const char *base, struct http1_hdr *h, uint16_t n,
    struct wrk_req_info *ri)
{
	bool nominated = false;
	uint16_t i;

	memset(ri, 0, sizeof(*ri));
	ri->ri_host = ri->ri_rid = -1;
	for (i = 0; i < n; i++) {
		enum wrk_hkind k = WRK_H_KIND(h[i].h_kind);
		uint32_t drop = 0;

		switch (k) {
		case WRK_H_HOST:
			if (ri->ri_nhost++ == 0)
				ri->ri_host = i;
			break;
		case WRK_H_CONNECTION:
			nominated = true;
			/* FALLTHROUGH */
		case WRK_H_KEEP_ALIVE:
		case WRK_H_PROXY_CONNECTION:
		case WRK_H_UPGRADE:
		case WRK_H_X_ENVOY:
			drop = WRK_H_F_DROP;
			break;
		case WRK_H_TRANSFER_ENCODING:
			ri->ri_nte++;
			if (!wrk_hdr_eq(base, h[i].h_value, "chunked"))
				ri->ri_bad_te = true;
			drop = WRK_H_F_DROP;
			break;
		case WRK_H_TE:
			if (!wrk_hdr_eq(base, h[i].h_value, "trailers"))
				drop = WRK_H_F_DROP;
			break;
		case WRK_H_EXPECT:
			if (wrk_hdr_eq(base, h[i].h_value, "100-continue")) {
				ri->ri_expect_100 = true;
				drop = WRK_H_F_DROP;
			}
			break;
		case WRK_H_X_FORWARDED_PROTO:
			ri->ri_has_xfp = true;
			break;
		case WRK_H_X_REQUEST_ID:
			if (ri->ri_rid == -1)
				ri->ri_rid = i;
			break;
		default:
			break;
		}
		h[i].h_kind = (uint32_t)k | drop;
	}
	if (ri->ri_nte > 1)
		ri->ri_bad_te = true;
	if (!nominated)
		return;
	for (i = 0; i < n; i++)
		if (WRK_H_KIND(h[i].h_kind) == WRK_H_CONNECTION)
			hdr_drop_nominated(base, h, n, h[i].h_value);
}

void
wrk_hdr_edge(const char *base, struct http1_hdr *h, uint16_t n,
    struct wrk_req_info *ri, bool xff)
{
	uint16_t i;

	(void)base;
	for (i = 0; i < n; i++)
		switch (WRK_H_KIND(h[i].h_kind)) {
		case WRK_H_X_FORWARDED_PROTO:
		case WRK_H_X_REQUEST_ID:
			h[i].h_kind |= WRK_H_F_DROP;
			break;
		case WRK_H_X_FORWARDED_FOR:
			if (xff)
				h[i].h_kind |= WRK_H_F_DROP;
			break;
		default:
			break;
		}
	ri->ri_has_xfp = false;
	ri->ri_rid = -1;
}

bool
wrk_hdr_underscores(const char *base, struct http1_hdr *h, uint16_t n,
    bool drop)
{
	bool seen = false;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (memchr(base + h[i].h_name.s_off, '_',
		    h[i].h_name.s_len) == NULL)
			continue;
		seen = true;
		if (!drop)
			break;
		h[i].h_kind |= WRK_H_F_DROP;
	}
	return seen;
}

/*
 * v[0, n) is "keep-alive" in any case, the value nearly every upstream
 * sends (then it holds no "close"): two loads, the letters' case bit
 * set, '-' compared as it is.
 */
static bool
hdr_keep_alive(const char *v, size_t n)
{
	/* the case bit of each letter of "keep-ali", none for '-' */
	static const unsigned char fold[8] = { 0x20, 0x20, 0x20, 0x20, 0,
	    0x20, 0x20, 0x20 };
	uint64_t a, l, m;

	if (n != 10)
		return false;
	memcpy(&a, v, sizeof(a));
	memcpy(&l, "keep-ali", sizeof(l));
	memcpy(&m, fold, sizeof(m));
	return (a | m) == l && ((unsigned char)v[8] | 0x20) == 'v' &&
	    ((unsigned char)v[9] | 0x20) == 'e';
}

void
wrk_hdr_mark_response(const char *base, struct http1_hdr *h, uint16_t n,
    struct wrk_resp_info *si)
{
	uint16_t i;

	memset(si, 0, sizeof(*si));
	for (i = 0; i < n; i++) {
		enum wrk_hkind k = WRK_H_KIND(h[i].h_kind);
		uint32_t drop = 0;

		switch (k) {
		case WRK_H_CONNECTION:
			if (!hdr_keep_alive(base + h[i].h_value.s_off,
			    h[i].h_value.s_len) &&
			    http1_has_token(base + h[i].h_value.s_off,
			    h[i].h_value.s_len, "close"))
				si->si_conn_close = true;
			/* FALLTHROUGH */
		case WRK_H_KEEP_ALIVE:
		case WRK_H_PROXY_CONNECTION:
		case WRK_H_UPGRADE:
		case WRK_H_TRANSFER_ENCODING:
		case WRK_H_SERVER:
			drop = WRK_H_F_DROP;
			break;
		case WRK_H_DATE:
			si->si_has_date = true;
			break;
		case WRK_H_X_ENVOY:
			/* any value: Envoy looks only for the header */
			if (wrk_hdr_eq(base, h[i].h_name,
			    "x-envoy-ratelimited"))
				si->si_ratelimited = true;
			break;
		default:
			break;
		}
		h[i].h_kind = (uint32_t)k | drop;
	}
}

/* ---- heads ---------------------------------------------------------- */

size_t
wrk_hdr_request_extra(uint16_t nhdrs, size_t host_len)
{
	/* per header: ": " and CRLF where the client may have sent ":" and
	 * LF; then the request line, host, and the headers we add (two
	 * addresses on an edge request among them) */
	return (size_t)nhdrs * 4 + host_len + 384;
}

/* "name: value\r\n", the name in lower case: one bound for the line. */
static void
hw_header(struct hw *w, const char *base, const struct http1_hdr *h)
{
	size_t nl = h->h_name.s_len, vl = h->h_value.s_len;
	char *p = w->w_p;

	if ((size_t)(w->w_end - p) < nl + vl + 4) {
		w->w_over = true;
		return;
	}
	lower_to(p, base + h->h_name.s_off, nl);
	p += nl;
	memcpy(p, ": ", 2);
	memcpy(p + 2, base + h->h_value.s_off, vl);
	p += 2 + vl;
	memcpy(p, "\r\n", 2);
	w->w_p = p + 2;
}

/* x-forwarded-for: the client's values in order, joined, then ours. */
static void
hw_xff(struct hw *w, const struct wrk_req_head *rh)
{
	const struct http1_hdr *h;
	uint16_t i;

	HW_LIT(w, "x-forwarded-for: ");
	for (i = 0; i < rh->rh_nhdrs; i++) {
		h = &rh->rh_hdrs[i];
		if (WRK_H_KIND(h->h_kind) != WRK_H_X_FORWARDED_FOR ||
		    h->h_value.s_len == 0)
			continue;
		hw_put(w, rh->rh_base + h->h_value.s_off, h->h_value.s_len);
		HW_LIT(w, ", ");
	}
	hw_str(w, rh->rh_xff_append);
	HW_LIT(w, "\r\n");
}

/* The live lines of a mutated head; skip: a name left out, or NULL. */
static void
hw_mut(struct hw *w, const struct wrk_hm *m, const char *skip)
{
	const struct wrk_hm_line *l;
	uint32_t i;

	for (i = 0; i < m->m_n; i++) {
		l = &m->m_v[i];
		if (l->l_dead || (skip != NULL && ieq(l->l_name, l->l_nlen,
		    skip)))
			continue;
		hw_lower(w, l->l_name, l->l_nlen);
		HW_LIT(w, ": ");
		hw_put(w, l->l_val, l->l_vlen);
		HW_LIT(w, "\r\n");
	}
}

/* The client's headers as they pass, and the ones the proxy adds. */
static void
hw_request_headers(struct hw *w, const struct wrk_req_head *rh)
{
	uint16_t i;

	for (i = 0; i < rh->rh_nhdrs; i++) {
		const struct http1_hdr *h = &rh->rh_hdrs[i];

		if (h->h_kind & WRK_H_F_DROP)
			continue;
		if (rh->rh_host != NULL && WRK_H_KIND(h->h_kind) == WRK_H_HOST)
			continue;
		hw_header(w, rh->rh_base, h);
	}
	if (rh->rh_xff_append != NULL)
		hw_xff(w, rh);
	if (rh->rh_external != NULL) {
		HW_LIT(w, "x-envoy-external-address: ");
		hw_str(w, rh->rh_external);
		HW_LIT(w, "\r\n");
	}
	if (rh->rh_add_xfp)
		HW_LIT(w, "x-forwarded-proto: http\r\n");
	if (rh->rh_request_id != NULL) {
		HW_LIT(w, "x-request-id: ");
		hw_str(w, rh->rh_request_id);
		HW_LIT(w, "\r\n");
	}
}

size_t
wrk_hdr_build_request(char *out, size_t cap, const struct wrk_req_head *rh)
{
	struct hw w = { out, out + cap, false };

	hw_str(&w, rh->rh_method);
	HW_LIT(&w, " ");
	hw_put(&w, rh->rh_target, rh->rh_target_len);
	HW_LIT(&w, " HTTP/1.1\r\n");
	if (rh->rh_host != NULL) {
		HW_LIT(&w, "host: ");
		hw_put(&w, rh->rh_host, rh->rh_host_len);
		HW_LIT(&w, "\r\n");
	}
	if (rh->rh_mut != NULL)
		hw_mut(&w, rh->rh_mut, NULL);
	else
		hw_request_headers(&w, rh);
	if (rh->rh_expected_ms >= 0) {
		HW_LIT(&w, "x-envoy-expected-rq-timeout-ms: ");
		hw_u64(&w, (uint64_t)rh->rh_expected_ms);
		HW_LIT(&w, "\r\n");
	}
	if (rh->rh_chunked)
		HW_LIT(&w, "transfer-encoding: chunked\r\n");
	if (rh->rh_upgrade)
		HW_LIT(&w, "connection: upgrade\r\n");
	HW_LIT(&w, "\r\n");
	return w.w_over ? 0 : (size_t)(w.w_p - out);
}

#define EXPECTED_NAME	"x-envoy-expected-rq-timeout-ms: "
#define EXPECTED_LEN	(sizeof(EXPECTED_NAME) - 1)

size_t
wrk_hdr_set_expected(char *head, size_t len, size_t cap, int64_t ms)
{
	char line[EXPECTED_LEN + 24 + 2];
	char *p, *eol, *at;
	size_t n = 0, old;
	struct hw w = { line, line + sizeof(line), false };

	if (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0)
		return 0;
	if (ms >= 0) {
		hw_put(&w, EXPECTED_NAME, EXPECTED_LEN);
		hw_u64(&w, (uint64_t)ms);
		HW_LIT(&w, "\r\n");
		n = (size_t)(w.w_p - line);
	}
	/* ours is the only one: the client's x-envoy-* never pass */
	p = memmem(head, len, "\r\n" EXPECTED_NAME, 2 + EXPECTED_LEN);
	if (p != NULL) {
		at = p + 2;
		if ((eol = memmem(at, len - (size_t)(at - head), "\r\n",
		    2)) == NULL)
			return 0;
		old = (size_t)(eol + 2 - at);
	} else {
		at = head + len - 2;	/* before the blank line */
		old = 0;
	}
	if (len - old + n > cap)
		return 0;
	memmove(at + n, at + old, len - (size_t)(at - head) - old);
	memcpy(at, line, n);
	return len - old + n;
}

size_t
wrk_hdr_response_extra(uint16_t nhdrs, size_t server_len, size_t rid_len)
{
	return (size_t)nhdrs * 4 + server_len + rid_len + 256;
}

static void
hw_conn(struct hw *w, enum wrk_conn_hdr conn)
{
	if (conn == WRK_CONN_CLOSE)
		HW_LIT(w, "connection: close\r\n");
	else if (conn == WRK_CONN_KEEP_ALIVE)
		HW_LIT(w, "connection: keep-alive\r\n");
}

size_t
wrk_hdr_build_response(char *out, size_t cap, const struct wrk_resp_head *sh)
{
	struct hw w = { out, out + cap, false };
	uint16_t i;

	hw_status_line(&w, sh->sh_status);
	if (sh->sh_mut != NULL)
		hw_mut(&w, sh->sh_mut, "server");
	else
		for (i = 0; i < sh->sh_nhdrs; i++) {
			const struct http1_hdr *h = &sh->sh_hdrs[i];

			if (!(h->h_kind & WRK_H_F_DROP))
				hw_header(&w, sh->sh_base, h);
		}
	if (!sh->sh_has_date) {
		HW_LIT(&w, "date: ");
		hw_put(&w, sh->sh_date, WRK_DATE_LEN);
		HW_LIT(&w, "\r\n");
	}
	HW_LIT(&w, "server: ");
	hw_put(&w, sh->sh_server, sh->sh_server_len);
	HW_LIT(&w, "\r\n");
	if (sh->sh_service_ms >= 0) {
		HW_LIT(&w, "x-envoy-upstream-service-time: ");
		hw_u64(&w, (uint64_t)sh->sh_service_ms);
		HW_LIT(&w, "\r\n");
	}
	if (sh->sh_request_id != NULL) {
		HW_LIT(&w, "x-request-id: ");
		hw_put(&w, sh->sh_request_id, sh->sh_request_id_len);
		HW_LIT(&w, "\r\n");
	}
	if (sh->sh_chunked)
		HW_LIT(&w, "transfer-encoding: chunked\r\n");
	hw_conn(&w, sh->sh_conn);
	HW_LIT(&w, "\r\n");
	return w.w_over ? 0 : (size_t)(w.w_p - out);
}

size_t
wrk_hdr_local_reply(char *out, size_t cap, uint16_t code, const char *body,
    size_t body_len, const char *date, const char *server, size_t server_len,
    const char *extra, enum wrk_conn_hdr conn, bool head_only)
{
	struct hw w = { out, out + cap, false };

	hw_status_line(&w, code);
	HW_LIT(&w, "content-length: ");
	hw_u64(&w, body_len);
	HW_LIT(&w, "\r\n");
	if (body_len > 0)
		HW_LIT(&w, "content-type: text/plain\r\n");
	HW_LIT(&w, "date: ");
	hw_put(&w, date, WRK_DATE_LEN);
	HW_LIT(&w, "\r\nserver: ");
	hw_put(&w, server, server_len);
	HW_LIT(&w, "\r\n");
	if (extra != NULL)
		hw_str(&w, extra);
	hw_conn(&w, conn);
	HW_LIT(&w, "\r\n");
	if (!head_only && body_len > 0)
		hw_put(&w, body, body_len);
	return w.w_over ? 0 : (size_t)(w.w_p - out);
}

const char *
wrk_hdr_reason(uint16_t code)
{
	switch (code) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 102: return "Processing";
	case 103: return "Early Hints";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 207: return "Multi-Status";
	case 208: return "Already Reported";
	case 226: return "IM Used";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 305: return "Use Proxy";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Entity";
	case 423: return "Locked";
	case 424: return "Failed Dependency";
	case 425: return "Too Early";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 506: return "Variant Also Negotiates";
	case 507: return "Insufficient Storage";
	case 508: return "Loop Detected";
	case 510: return "Not Extended";
	case 511: return "Network Authentication Required";
	}
	return "Unknown";
}

/* ---- date and uuid -------------------------------------------------- */

static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void
wrk_hdr_format_date(char *out, time_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	int y;

	/* by hand: strftime would follow the locale */
	gmtime_r(&t, &tm);
	memcpy(out, days + 3 * tm.tm_wday, 3);
	out[3] = ',';
	out[4] = ' ';
	put2(out + 5, tm.tm_mday);
	out[7] = ' ';
	memcpy(out + 8, months + 3 * tm.tm_mon, 3);
	out[11] = ' ';
	y = tm.tm_year + 1900;
	put2(out + 12, y / 100);
	put2(out + 14, y % 100);
	out[16] = ' ';
	put2(out + 17, tm.tm_hour);
	out[19] = ':';
	put2(out + 20, tm.tm_min);
	out[22] = ':';
	put2(out + 23, tm.tm_sec);
	memcpy(out + 25, " GMT", 5);
}

const char *
wrk_hdr_date(time_t now)
{
	static char cache[WRK_DATE_LEN + 1];
	static time_t cached = -1;

	if (now != cached) {
		wrk_hdr_format_date(cache, now);
		cached = now;
	}
	return cache;
}

void
wrk_hdr_uuid_format(char *out, const uint8_t in[16])
{
#define HEX_ROW(a)	#a "0" #a "1" #a "2" #a "3" #a "4" #a "5" #a "6" \
			#a "7" #a "8" #a "9" #a "a" #a "b" #a "c" #a "d" \
			#a "e" #a "f"
	/* each byte's two digits, by the byte */
	static const char hex2[] = HEX_ROW(0) HEX_ROW(1) HEX_ROW(2)
	    HEX_ROW(3) HEX_ROW(4) HEX_ROW(5) HEX_ROW(6) HEX_ROW(7) HEX_ROW(8)
	    HEX_ROW(9) HEX_ROW(a) HEX_ROW(b) HEX_ROW(c) HEX_ROW(d) HEX_ROW(e)
	    HEX_ROW(f);
#undef HEX_ROW
	/* where each byte's digits go: 8-4-4-4-12 */
	static const uint8_t at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21,
	    24, 26, 28, 30, 32, 34 };
	uint8_t b[16];
	int i;

	memcpy(b, in, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	/* unrolled, at[] folds into the stores: no loop per request */
#pragma GCC unroll 16
	for (i = 0; i < 16; i++)
		memcpy(out + at[i], hex2 + 2 * b[i], 2);
	out[8] = out[13] = out[18] = out[23] = '-';
	out[WRK_UUID_LEN] = '\0';
}

/*
 * Request ids need to be unique, not secret: xoshiro256** seeded from
 * arc4random once per process, because libbsd's arc4random makes a
 * getpid(2) syscall on every call to notice forks.
 */
static uint64_t	 rng_s[4];
static bool	 rng_seeded;

void
wrk_hdr_seed(void)
{
	do
		arc4random_buf(rng_s, sizeof(rng_s));
	while ((rng_s[0] | rng_s[1] | rng_s[2] | rng_s[3]) == 0);
	rng_seeded = true;
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(void)
{
	uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return r;
}

uint64_t
wrk_hdr_random(void)
{
	if (!rng_seeded)
		wrk_hdr_seed();
	return rng_next();
}

void
wrk_hdr_uuid4(char *out)
{
	uint64_t w[2];
	uint8_t b[16];

	if (!rng_seeded)
		wrk_hdr_seed();
	w[0] = rng_next();
	w[1] = rng_next();
	memcpy(b, w, sizeof(b));
	wrk_hdr_uuid_format(out, b);
}

/* ---- framing -------------------------------------------------------- */

enum wrk_frame
wrk_hdr_framing(bool head_request, uint16_t status, bool has_length,
    bool chunked, bool until_eof, bool client_http10)
{
	if (head_request || status / 100 == 1 || status == 204 ||
	    status == 304)
		return WRK_FRAME_NONE;
	if (until_eof)
		return client_http10 ? WRK_FRAME_EOF : WRK_FRAME_RECHUNK;
	if (chunked)
		return client_http10 ? WRK_FRAME_DECHUNK : WRK_FRAME_CHUNKED;
	if (has_length)
		return WRK_FRAME_LENGTH;
	return WRK_FRAME_NONE;
}
