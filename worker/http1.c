/*
 * http-parser wrapper (see http1.h).  The callbacks record slices and
 * pause the parser at the end of the head and of the message; nothing
 * else.  Invariant: h_hdrs[0, h_nhdrs) are the head's headers, in order;
 * trailers of a chunked body are not recorded (they pass through as body
 * bytes).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <http_parser.h>

#include "http1.h"

_Static_assert(sizeof(http_parser) <= sizeof(((struct wrk_http1 *)0)->h_parser),
    "struct wrk_http1 too small for http_parser");

#define H1_LAST_NONE	0
#define H1_LAST_FIELD	1
#define H1_LAST_VALUE	2

#define H1_P(h)		((http_parser *)(void *)(h)->h_parser)
#define H1_CP(h)	((const http_parser *)(const void *)(h)->h_parser)

static int
h1_fail(struct wrk_http1 *h, enum wrk_http1_err e)
{
	h->h_err = e;
	return -1;
}

static int
h1_on_begin(http_parser *p)
{
	struct wrk_http1 *h = p->data;

	h->h_flags = (h->h_flags & (WRK_HTTP1_F_NOBODY | WRK_HTTP1_F_COLLECT)) |
	    WRK_HTTP1_F_BEGUN;
	h->h_nhdrs = 0;
	h->h_hdr_bytes = 0;
	h->h_url.s_off = h->h_url.s_len = 0;
	h->h_reason.s_off = h->h_reason.s_len = 0;
	h->h_head_end = 0;
	h->h_last = H1_LAST_NONE;
	return 0;
}

/* Grow slice s by [at, at + len), which must follow it directly (a split
 * across feeds); anything else (obs-fold) is refused. */
static int
h1_extend(struct wrk_http1 *h, struct wrk_slice *s, const char *at,
    size_t len, bool fresh)
{
	uint32_t off = (uint32_t)(at - h->h_base);

	if (fresh) {
		s->s_off = off;
		s->s_len = (uint32_t)len;
		return 0;
	}
	if (off != s->s_off + s->s_len)
		return h1_fail(h, WRK_HTTP1_E_PROTOCOL);
	s->s_len += (uint32_t)len;
	return 0;
}

static int
h1_on_url(http_parser *p, const char *at, size_t len)
{
	struct wrk_http1 *h = p->data;

	return h1_extend(h, &h->h_url, at, len, h->h_url.s_len == 0);
}

static int
h1_on_status(http_parser *p, const char *at, size_t len)
{
	struct wrk_http1 *h = p->data;

	return h1_extend(h, &h->h_reason, at, len, h->h_reason.s_len == 0);
}

static int
h1_count(struct wrk_http1 *h, size_t len)
{
	h->h_hdr_bytes += (uint32_t)len;
	if (h->h_hdr_bytes > h->h_hdr_limit)
		return h1_fail(h, WRK_HTTP1_E_TOO_LARGE);
	return 0;
}

static int
h1_on_field(http_parser *p, const char *at, size_t len)
{
	struct wrk_http1 *h = p->data;
	struct wrk_hdr *hd;

	if (h->h_flags & WRK_HTTP1_F_HEAD)
		return 0;	/* trailer */
	if (h1_count(h, len) == -1)
		return -1;
	if (h->h_last != H1_LAST_FIELD) {
		if (h->h_nhdrs == h->h_maxhdrs)
			return h1_fail(h, WRK_HTTP1_E_TOO_MANY);
		hd = &h->h_hdrs[h->h_nhdrs++];
		hd->h_value.s_off = hd->h_value.s_len = 0;
		hd->h_kind = 0;
		h->h_last = H1_LAST_FIELD;
		return h1_extend(h, &hd->h_name, at, len, true);
	}
	return h1_extend(h, &h->h_hdrs[h->h_nhdrs - 1].h_name, at, len, false);
}

static int
h1_on_value(http_parser *p, const char *at, size_t len)
{
	struct wrk_http1 *h = p->data;
	struct wrk_hdr *hd;
	bool fresh;

	if (h->h_flags & WRK_HTTP1_F_HEAD)
		return 0;
	if (h->h_nhdrs == 0)
		return h1_fail(h, WRK_HTTP1_E_PROTOCOL);
	if (h1_count(h, len) == -1)
		return -1;
	hd = &h->h_hdrs[h->h_nhdrs - 1];
	fresh = h->h_last != H1_LAST_VALUE;
	h->h_last = H1_LAST_VALUE;
	return h1_extend(h, &hd->h_value, at, len, fresh);
}

static int
h1_on_headers_complete(http_parser *p)
{
	struct wrk_http1 *h = p->data;
	uint16_t i;

	/* http-parser may keep blanks at the end of a value */
	for (i = 0; i < h->h_nhdrs; i++) {
		struct wrk_slice *v = &h->h_hdrs[i].h_value;

		while (v->s_len > 0 && (h->h_base[v->s_off + v->s_len - 1] ==
		    ' ' || h->h_base[v->s_off + v->s_len - 1] == '\t'))
			v->s_len--;
	}
	h->h_flags |= WRK_HTTP1_F_HEAD;
	http_parser_pause(p, 1);
	return (h->h_flags & WRK_HTTP1_F_NOBODY) ? 1 : 0;
}

static int
h1_on_body(http_parser *p, const char *at, size_t len)
{
	struct wrk_http1 *h = p->data;
	uint32_t off = (uint32_t)(at - h->h_base);
	struct wrk_slice *s;

	h->h_body_bytes += len;
	if (!(h->h_flags & WRK_HTTP1_F_COLLECT))
		return 0;
	if (h->h_nbody > 0) {
		s = &h->h_body[h->h_nbody - 1];
		if (s->s_off + s->s_len == off) {
			s->s_len += (uint32_t)len;
			return 0;
		}
	}
	s = &h->h_body[h->h_nbody++];
	s->s_off = off;
	s->s_len = (uint32_t)len;
	if (h->h_nbody == WRK_HTTP1_MAXBODY)
		http_parser_pause(p, 1);
	return 0;
}

static int
h1_on_complete(http_parser *p)
{
	struct wrk_http1 *h = p->data;

	h->h_flags |= WRK_HTTP1_F_DONE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings h1_settings = {
	.on_message_begin = h1_on_begin,
	.on_url = h1_on_url,
	.on_status = h1_on_status,
	.on_header_field = h1_on_field,
	.on_header_value = h1_on_value,
	.on_headers_complete = h1_on_headers_complete,
	.on_body = h1_on_body,
	.on_message_complete = h1_on_complete,
};

void
wrk_http1_global_init(uint32_t max_head)
{
	if (max_head > HTTP_MAX_HEADER_SIZE)
		http_parser_set_max_header_size(max_head);
}

void
wrk_http1_init(struct wrk_http1 *h, enum wrk_http1_kind kind,
    struct wrk_hdr *hdrs, uint16_t maxhdrs, uint32_t hdr_limit)
{
	memset(h, 0, sizeof(*h));
	http_parser_init(H1_P(h), kind == WRK_HTTP1_REQUEST ? HTTP_REQUEST :
	    HTTP_RESPONSE);
	H1_P(h)->data = h;
	h->h_hdrs = hdrs;
	h->h_maxhdrs = maxhdrs;
	h->h_hdr_limit = hdr_limit;
}

static enum wrk_http1_ev
h1_error(struct wrk_http1 *h)
{
	enum http_errno e = HTTP_PARSER_ERRNO(H1_P(h));

	if (h->h_err != WRK_HTTP1_E_NONE)
		return WRK_HTTP1_ERROR;
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		h->h_err = WRK_HTTP1_E_TOO_LARGE;
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		h->h_err = WRK_HTTP1_E_TE;
		break;
	case HPE_INVALID_EOF_STATE:
		h->h_err = WRK_HTTP1_E_EOF;
		break;
	default:
		h->h_err = WRK_HTTP1_E_PROTOCOL;
		break;
	}
	return WRK_HTTP1_ERROR;
}

enum wrk_http1_ev
wrk_http1_feed(struct wrk_http1 *h, const char *base, uint32_t off,
    uint32_t len, uint32_t *used)
{
	http_parser *p = H1_P(h);
	uint8_t before;
	size_t n;

	if (h->h_err != WRK_HTTP1_E_NONE) {
		*used = 0;
		return WRK_HTTP1_ERROR;
	}
	if (HTTP_PARSER_ERRNO(p) == HPE_PAUSED)
		http_parser_pause(p, 0);
	h->h_base = base;
	h->h_nbody = 0;
	before = h->h_flags;
	n = http_parser_execute(p, &h1_settings, base + off, len);
	*used = (uint32_t)n;
	switch (HTTP_PARSER_ERRNO(p)) {
	case HPE_OK:
		return WRK_HTTP1_MORE;
	case HPE_PAUSED:
		if ((h->h_flags & WRK_HTTP1_F_HEAD) &&
		    !(before & WRK_HTTP1_F_HEAD)) {
			/* paused on the head's last LF, before consuming it */
			h->h_head_end = off + (uint32_t)n + 1;
			return WRK_HTTP1_HEAD;
		}
		if ((h->h_flags & WRK_HTTP1_F_DONE) &&
		    !(before & WRK_HTTP1_F_DONE))
			return WRK_HTTP1_DONE;
		if (h->h_nbody == WRK_HTTP1_MAXBODY)
			return WRK_HTTP1_BODY;
		return WRK_HTTP1_MORE;
	default:
		return h1_error(h);
	}
}

enum wrk_http1_ev
wrk_http1_eof(struct wrk_http1 *h)
{
	http_parser *p = H1_P(h);
	uint8_t before = h->h_flags;

	if (h->h_err != WRK_HTTP1_E_NONE)
		return WRK_HTTP1_ERROR;
	if (!(h->h_flags & WRK_HTTP1_F_BEGUN) ||
	    (h->h_flags & WRK_HTTP1_F_DONE))
		return WRK_HTTP1_MORE;
	if (!(h->h_flags & WRK_HTTP1_F_HEAD)) {
		h->h_err = WRK_HTTP1_E_EOF;
		return WRK_HTTP1_ERROR;
	}
	if (HTTP_PARSER_ERRNO(p) == HPE_PAUSED)
		http_parser_pause(p, 0);
	h->h_nbody = 0;
	(void)http_parser_execute(p, &h1_settings, NULL, 0);
	if ((h->h_flags & WRK_HTTP1_F_DONE) && !(before & WRK_HTTP1_F_DONE))
		return WRK_HTTP1_DONE;
	if (HTTP_PARSER_ERRNO(p) != HPE_OK &&
	    HTTP_PARSER_ERRNO(p) != HPE_PAUSED)
		return h1_error(h);
	h->h_err = WRK_HTTP1_E_EOF;
	return WRK_HTTP1_ERROR;
}

void
wrk_http1_set_nobody(struct wrk_http1 *h)
{
	h->h_flags |= WRK_HTTP1_F_NOBODY;
}

void
wrk_http1_set_collect(struct wrk_http1 *h)
{
	h->h_flags |= WRK_HTTP1_F_COLLECT;
}

const char *
wrk_http1_method(const struct wrk_http1 *h)
{
	return http_method_str((enum http_method)H1_CP(h)->method);
}

bool
wrk_http1_is_head_method(const struct wrk_http1 *h)
{
	return H1_CP(h)->method == HTTP_HEAD;
}

bool
wrk_http1_is_connect(const struct wrk_http1 *h)
{
	return H1_CP(h)->method == HTTP_CONNECT;
}

void
wrk_http1_version(const struct wrk_http1 *h, int *major, int *minor)
{
	*major = H1_CP(h)->http_major;
	*minor = H1_CP(h)->http_minor;
}

uint16_t
wrk_http1_status(const struct wrk_http1 *h)
{
	return (uint16_t)H1_CP(h)->status_code;
}

bool
wrk_http1_keep_alive(const struct wrk_http1 *h)
{
	return http_should_keep_alive(H1_CP(h)) != 0;
}

bool
wrk_http1_chunked(const struct wrk_http1 *h)
{
	return (H1_CP(h)->flags & F_CHUNKED) != 0;
}

bool
wrk_http1_has_length(const struct wrk_http1 *h)
{
	return (H1_CP(h)->flags & F_CONTENTLENGTH) != 0;
}

bool
wrk_http1_upgrade(const struct wrk_http1 *h)
{
	const http_parser *p = H1_CP(h);

	return (p->flags & F_UPGRADE) && (p->flags & F_CONNECTION_UPGRADE);
}

bool
wrk_http1_until_eof(const struct wrk_http1 *h)
{
	const http_parser *p = H1_CP(h);
	unsigned int st = p->status_code;

	if (h->h_flags & WRK_HTTP1_F_NOBODY)
		return false;
	if (st / 100 == 1 || st == 204 || st == 304)
		return false;
	if (p->flags & F_CHUNKED)
		return false;
	if ((p->flags & F_CONTENTLENGTH) && !p->uses_transfer_encoding)
		return false;
	return true;
}

const char *
wrk_http1_errstr(const struct wrk_http1 *h)
{
	switch (h->h_err) {
	case WRK_HTTP1_E_TOO_MANY:
		return "too many headers";
	case WRK_HTTP1_E_TOO_LARGE:
		return "headers too large";
	case WRK_HTTP1_E_TE:
		return "invalid transfer-encoding";
	case WRK_HTTP1_E_EOF:
		return "stream ended inside a message";
	default:
		break;
	}
	return http_errno_description(HTTP_PARSER_ERRNO(H1_CP(h)));
}
