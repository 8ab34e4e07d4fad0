/*
 * HTTP/1.x parser, the entry points (see http1.h): the feed loop, the end
 * of the stream, the facts about a parsed head, the method table and
 * the field name classes.  The head is read by http1_head.c (start line)
 * and http1_field.c (field lines, trailers too), the body by
 * http1_body.c; http1-int.h holds what the parts share.
 *
 * Invariant: h_hdrs[0, h_nhdrs) are the head's fields, in order; trailer
 * fields are checked and read for what they say of framing, never
 * recorded.  A feed reads each byte once and stops where the caller must
 * act: the head's last LF, the end of the message, a full body slice
 * array, or the first byte it refuses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http1-int.h"
#include "http1.h"

#define H1_MAX_HEAD_MIN	(80 * 1024)

uint32_t	 h1_max_head = H1_MAX_HEAD_MIN;

/* Byte classes (http1-int.h). */
#define T	H1_C_TCHAR
#define V	(H1_C_VALUE | H1_C_VCHAR)
#define G	H1_C_TARGET
#define S	H1_C_HOST
#define A	H1_C_ALPHA
const uint8_t h1_cls[256] = {
	['\t'] = H1_C_VALUE,		[' '] = H1_C_VALUE,
	['!'] = T | V | G | S,		['"'] = V | G,
	['#'] = T | V,			['$' ... '\''] = T | V | G | S,
	['(' ... ')'] = V | G | S,	['*' ... '+'] = T | V | G | S,
	[','] = V | G | S,		['-' ... '.'] = T | V | G | S,
	['/'] = V | G,			['0' ... '9'] = T | V | G | S,
	[':' ... ';'] = V | G | S,	['<'] = V | G,
	['='] = V | G | S,		['>' ... '@'] = V | G,
	['A' ... 'Z'] = T | V | G | S | A, ['['] = V | G | S,
	['\\'] = V | G,			[']'] = V | G | S,
	['^'] = T | V | G,		['_'] = T | V | G | S,
	['`'] = T | V | G,		['a' ... 'z'] = T | V | G | S | A,
	['{'] = V | G,			['|'] = T | V | G,
	['}'] = V | G,			['~'] = T | V | G | S,
	[0x80 ... 0xff] = V | G,	/* obs-text */
};
#undef T
#undef V
#undef G
#undef S
#undef A

/* The methods http-parser knows, by enum h1_method. */
static const char *const h1_mname[H1_M__N] = {
	"DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS",
	"TRACE", "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH",
	"SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT",
	"MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY",
	"SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK",
	"UNLINK", "SOURCE",
};

/* The methods of each name length, as enum h1_method + 1 (0 ends). */
#define H1_M_MAXLEN	11
static const uint8_t h1_mbylen[H1_M_MAXLEN + 1][10] = {
	[3] = { H1_M_GET + 1, H1_M_PUT + 1, H1_M_ACL + 1 },
	[4] = { H1_M_HEAD + 1, H1_M_POST + 1, H1_M_COPY + 1, H1_M_LOCK + 1,
	    H1_M_MOVE + 1, H1_M_BIND + 1, H1_M_LINK + 1 },
	[5] = { H1_M_TRACE + 1, H1_M_MKCOL + 1, H1_M_MERGE + 1,
	    H1_M_PATCH + 1, H1_M_PURGE + 1 },
	[6] = { H1_M_DELETE + 1, H1_M_SEARCH + 1, H1_M_UNLOCK + 1,
	    H1_M_REBIND + 1, H1_M_UNBIND + 1, H1_M_REPORT + 1,
	    H1_M_NOTIFY + 1, H1_M_UNLINK + 1, H1_M_SOURCE + 1 },
	[7] = { H1_M_CONNECT + 1, H1_M_OPTIONS + 1 },
	[8] = { H1_M_PROPFIND + 1, H1_M_CHECKOUT + 1, H1_M_MSEARCH + 1 },
	[9] = { H1_M_PROPPATCH + 1, H1_M_SUBSCRIBE + 1 },
	[10] = { H1_M_MKACTIVITY + 1, H1_M_MKCALENDAR + 1 },
	[11] = { H1_M_UNSUBSCRIBE + 1 },
};

int
h1_method_find(const unsigned char *m, size_t n)
{
	const uint8_t *id;

	if (n > H1_M_MAXLEN)
		return -1;
	for (id = h1_mbylen[n]; *id != 0; id++)
		if (h1_mname[*id - 1][0] == m[0] &&
		    memcmp(h1_mname[*id - 1], m, n) == 0)
			return *id - 1;
	return -1;
}

size_t
h1_method_prefix(const unsigned char *m, size_t n)
{
	size_t best = 0, i;
	int k;

	for (k = 0; k < H1_M__N; k++) {
		for (i = 0; i < n && h1_mname[k][i] == (char)m[i]; i++)
			;
		if (i > best)
			best = i;
	}
	return best;
}

/* A token of 8 bytes at p, as a word (any byte order: compared to
 * another loaded the same way). */
static inline uint64_t
h1_ld8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * p[0, n) is lit ignoring case.  lit is lower-case letters and '-', p
 * token characters: setting bit 5 lowers a letter and leaves '-' alone,
 * and turns no other token character into either.  Words of 8, 4, 2
 * bytes, then one byte: n is a constant where this is inlined.
 */
static inline bool
h1_ieq(const char *p, const char *lit, size_t n)
{
	uint32_t a4, l4;
	uint16_t a2, l2;
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		if ((h1_ld8(p + i) | 0x2020202020202020ULL) != h1_ld8(lit + i))
			return false;
	if (i + 4 <= n) {
		memcpy(&a4, p + i, 4);
		memcpy(&l4, lit + i, 4);
		if ((a4 | 0x20202020U) != l4)
			return false;
		i += 4;
	}
	if (i + 2 <= n) {
		memcpy(&a2, p + i, 2);
		memcpy(&l2, lit + i, 2);
		if ((uint16_t)(a2 | 0x2020U) != l2)
			return false;
		i += 2;
	}
	return i == n || ((unsigned char)p[i] | 0x20) == (unsigned char)lit[i];
}

#define H1_IS(p, n, lit)	((n) == sizeof(lit) - 1 && \
				    h1_ieq((p), (lit), sizeof(lit) - 1))

enum http1_hkind
http1_hdr_kind(const char *n, size_t len)
{
	switch (len) {
	case 2:
		return H1_IS(n, len, "te") ? HTTP1_H_TE : HTTP1_H_OTHER;
	case 4:
		if (H1_IS(n, len, "host"))
			return HTTP1_H_HOST;
		return H1_IS(n, len, "date") ? HTTP1_H_DATE : HTTP1_H_OTHER;
	case 6:
		if (H1_IS(n, len, "expect"))
			return HTTP1_H_EXPECT;
		return H1_IS(n, len, "server") ? HTTP1_H_SERVER : HTTP1_H_OTHER;
	case 7:
		return H1_IS(n, len, "upgrade") ? HTTP1_H_UPGRADE :
		    HTTP1_H_OTHER;
	case 10:
		if (H1_IS(n, len, "connection"))
			return HTTP1_H_CONNECTION;
		if (H1_IS(n, len, "keep-alive"))
			return HTTP1_H_KEEP_ALIVE;
		break;
	case 14:
		if (H1_IS(n, len, "content-length"))
			return HTTP1_H_CONTENT_LENGTH;
		break;
	case 16:
		if (H1_IS(n, len, "proxy-connection"))
			return HTTP1_H_PROXY_CONNECTION;
		break;
	case 17:
		if (H1_IS(n, len, "transfer-encoding"))
			return HTTP1_H_TRANSFER_ENCODING;
		break;
	}
	if (len <= 8 || ((unsigned char)n[0] | 0x20) != 'x')
		return HTTP1_H_OTHER;
	if (h1_ieq(n, "x-envoy-", 8))
		return HTTP1_H_X_ENVOY;
	if (H1_IS(n, len, "x-request-id"))
		return HTTP1_H_X_REQUEST_ID;
	if (H1_IS(n, len, "x-forwarded-for"))
		return HTTP1_H_X_FORWARDED_FOR;
	if (H1_IS(n, len, "x-forwarded-proto"))
		return HTTP1_H_X_FORWARDED_PROTO;
	return HTTP1_H_OTHER;
}

int
h1_fail(struct http1 *h, enum http1_err e, const char *why)
{
	h->h_err = e;
	h->h_why = why;
	return HTTP1_ERROR;
}

void
h1_count_from(struct h1_cur *c, uint32_t nread)
{
	int64_t lim;

	c->c_nbase = (int64_t)c->c_pos - nread;
	lim = c->c_nbase + h1_max_head;
	c->c_stop = lim < c->c_end ? (uint32_t)(lim < 0 ? 0 : lim) :
	    c->c_end;
}

/* Does the parser count head bytes in this state (the head bound)? */
static bool
h1_counted(const struct http1 *h)
{
	if (h1_is_head(h->h_state) || h->h_state == H1_S_HEAD_LF)
		return true;
	return h->h_state >= H1_S_CK_SIZE0 && h->h_state <= H1_S_CK_SIZE_LF;
}

void
http1_global_init(uint32_t max_head)
{
	if (max_head > H1_MAX_HEAD_MIN)
		h1_max_head = max_head;
}

void
http1_init(struct http1 *h, enum http1_kind kind,
    struct http1_hdr *hdrs, uint16_t maxhdrs, uint32_t hdr_limit)
{
	memset(h, 0, sizeof(*h));
	h->h_type = (uint8_t)kind;
	h->h_hdrs = hdrs;
	h->h_maxhdrs = maxhdrs;
	h->h_hdr_limit = hdr_limit;
}

/* Run the parts over c until one stops. */
static int
h1_run(struct http1 *h, struct h1_cur *c)
{
	int rc;

	if (h->h_pflags & H1_P_LEX)
		c->c_stop = c->c_end;
	else if (h1_counted(h))
		h1_count_from(c, h->h_nread);
	else
		c->c_stop = c->c_end;
	do {
		if (!h1_is_head(h->h_state))
			rc = h1_body(h, c);
		else if (h->h_pflags & H1_P_TRAILING)
			rc = h1_fields(h, c);
		else
			rc = h1_head(h, c);
	} while (rc == H1_GO);
	/* HTTP1_HEAD leaves the last LF unread, but it was counted */
	if (h1_counted(h) && rc != HTTP1_ERROR)
		h->h_nread = (uint32_t)((int64_t)c->c_pos - c->c_nbase +
		    (rc == HTTP1_HEAD));
	return rc;
}

enum http1_ev
http1_feed(struct http1 *h, const char *base, uint32_t off,
    uint32_t len, uint32_t *used)
{
	struct h1_cur c;
	int rc;

	if (h->h_err != HTTP1_E_NONE) {
		*used = 0;
		return HTTP1_ERROR;
	}
	h->h_base = base;
	h->h_nbody = 0;
	c.c_b = (const unsigned char *)base;
	c.c_off = c.c_pos = off;
	c.c_end = off + len;
	rc = h1_run(h, &c);
	*used = c.c_pos - off;
	return (enum http1_ev)rc;
}

long
http1_head_len(enum http1_kind kind, const char *p, size_t len,
    const char **why)
{
	struct http1 h;
	struct h1_cur c;
	int rc;

	*why = NULL;
	http1_init(&h, kind, NULL, 0, 0);
	h.h_pflags = H1_P_LEX;
	h.h_base = p;
	c.c_b = (const unsigned char *)p;
	c.c_off = c.c_pos = 0;
	c.c_end = len > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)len;
	rc = h1_run(&h, &c);
	if (rc == HTTP1_ERROR) {
		*why = h.h_why;
		return -1;
	}
	return rc == HTTP1_HEAD ? (long)h.h_head_end : 0;
}

enum http1_ev
http1_eof(struct http1 *h)
{
	if (h->h_err != HTTP1_E_NONE)
		return HTTP1_ERROR;
	if (!(h->h_flags & HTTP1_F_BEGUN) ||
	    (h->h_flags & HTTP1_F_DONE))
		return HTTP1_MORE;
	h->h_nbody = 0;
	if (h->h_state != H1_S_BODY_EOF)
		return (enum http1_ev)h1_fail(h, HTTP1_E_EOF, NULL);
	h->h_flags |= HTTP1_F_DONE;
	h->h_state = H1_S_START;
	return HTTP1_DONE;
}

void
http1_set_nobody(struct http1 *h)
{
	h->h_flags |= HTTP1_F_NOBODY;
}

void
http1_set_collect(struct http1 *h)
{
	h->h_flags |= HTTP1_F_COLLECT;
}

const char *
http1_method(const struct http1 *h)
{
	return h1_mname[h->h_method];
}

bool
http1_is_head_method(const struct http1 *h)
{
	return h->h_method == H1_M_HEAD;
}

bool
http1_is_connect(const struct http1 *h)
{
	return h->h_method == H1_M_CONNECT;
}

void
http1_version(const struct http1 *h, int *major, int *minor)
{
	*major = h->h_major;
	*minor = h->h_minor;
}

uint16_t
http1_status(const struct http1 *h)
{
	return h->h_status;
}

/* Does the body run until the peer closes?  (Requests never do.) */
static bool
h1_needs_eof(const struct http1 *h)
{
	if (h->h_type == HTTP1_REQUEST)
		return false;
	if (h->h_status / 100 == 1 || h->h_status == 204 ||
	    h->h_status == 304 || (h->h_pflags & H1_P_SKIPBODY))
		return false;
	if ((h->h_pflags & (H1_P_TE | H1_P_CHUNKED)) == H1_P_TE)
		return true;
	return !(h->h_pflags & H1_P_CHUNKED) && h->h_clen == H1_NO_LENGTH;
}

/* HTTP/1.1 and later stay open unless "close"; HTTP/1.0 (and a
 * minor version 0 of any major) only with "keep-alive". */
bool
http1_keep_alive(const struct http1 *h)
{
	if (h->h_major > 0 && h->h_minor > 0) {
		if (h->h_pflags & H1_P_CLOSE)
			return false;
	} else if (!(h->h_pflags & H1_P_KEEP_ALIVE))
		return false;
	return !h1_needs_eof(h);
}

bool
http1_chunked(const struct http1 *h)
{
	return (h->h_pflags & H1_P_CHUNKED) != 0;
}

bool
http1_has_length(const struct http1 *h)
{
	return (h->h_pflags & H1_P_LENGTH) != 0;
}

uint64_t
http1_content_length(const struct http1 *h)
{
	return http1_has_length(h) ? h->h_clen : 0;
}

bool
http1_upgrade(const struct http1 *h)
{
	return (h->h_pflags & (H1_P_UPGRADE | H1_P_CONN_UPGRADE)) ==
	    (H1_P_UPGRADE | H1_P_CONN_UPGRADE);
}

bool
http1_until_eof(const struct http1 *h)
{
	uint16_t st = h->h_status;

	if (h->h_flags & HTTP1_F_NOBODY)
		return false;
	if (st / 100 == 1 || st == 204 || st == 304)
		return false;
	if (h->h_pflags & H1_P_CHUNKED)
		return false;
	if ((h->h_pflags & (H1_P_LENGTH | H1_P_TE)) == H1_P_LENGTH)
		return false;
	return true;
}

const char *
http1_errstr(const struct http1 *h)
{
	if (h->h_why != NULL)
		return h->h_why;
	switch (h->h_err) {
	case HTTP1_E_TOO_MANY:
		return "too many headers";
	case HTTP1_E_TOO_LARGE:
		return "headers too large";
	case HTTP1_E_TE:
		return "invalid transfer-encoding";
	case HTTP1_E_EOF:
		return "stream ended inside a message";
	case HTTP1_E_NONE:
		return "success";
	default:
		break;
	}
	return "malformed message";
}

bool
http1_has_token(const char *v, size_t len, const char *tok)
{
	size_t i = 0, s, e, tl = strlen(tok);

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return true;
	}
	return false;
}
