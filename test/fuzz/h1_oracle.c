/*
 * The oracle of test/fuzz/fuzz_diff.c: canaryd's HTTP/1 parsing as it was
 * before shared/http1.c read messages itself -- a strict scan of every
 * head (oh1_head_len) in front of nodejs http-parser 2.9 (Debian's,
 * non-strict), the checks over the whole head and the strict chunked
 * framing check, kept here unchanged (the names renamed) so the parser is
 * compared byte for byte against the behaviour it replaced.  Test code
 * only: the program does not link http-parser.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "shared/text.h"
#include "h1_oracle.h"

_Static_assert(sizeof(http_parser) <= sizeof(((struct oh1 *)0)->h_parser),
    "struct oh1 too small for http_parser");

#define H1_LAST_NONE	0
#define H1_LAST_FIELD	1
#define H1_LAST_VALUE	2

#define H1_P(h)		((http_parser *)(void *)(h)->h_parser)
#define H1_CP(h)	((const http_parser *)(const void *)(h)->h_parser)

static int
h1_fail(struct oh1 *h, enum http1_err e)
{
	h->h_err = e;
	return -1;
}

/*
 * Byte classes of RFC 9110, one table lookup per byte on the hot path:
 * H1_C_TCHAR a token character (5.6.2: methods, field names); H1_C_VALUE
 * what a field value or reason phrase may hold (5.5: VCHAR, SP, HTAB and
 * obs-text, not the other controls nor DEL); H1_C_TARGET what a request
 * target may hold (VCHAR and obs-text: no SP, no control).
 */
#define H1_C_TCHAR	0x01
#define H1_C_VALUE	0x02
#define H1_C_TARGET	0x04
#define H1_C_VT		(H1_C_VALUE | H1_C_TARGET)
#define H1_C_ALL	(H1_C_TCHAR | H1_C_VALUE | H1_C_TARGET)

static const uint8_t h1_cls[256] = {
	['\t'] = H1_C_VALUE,		[' '] = H1_C_VALUE,
	['!'] = H1_C_ALL,		['"'] = H1_C_VT,
	['#' ... '\''] = H1_C_ALL,	['(' ... ')'] = H1_C_VT,
	['*' ... '+'] = H1_C_ALL,	[','] = H1_C_VT,
	['-' ... '.'] = H1_C_ALL,	['/'] = H1_C_VT,
	['0' ... '9'] = H1_C_ALL,	[':' ... '@'] = H1_C_VT,
	['A' ... 'Z'] = H1_C_ALL,	['[' ... ']'] = H1_C_VT,
	['^' ... '`'] = H1_C_ALL,	['a' ... 'z'] = H1_C_ALL,
	['{'] = H1_C_VT,		['|'] = H1_C_ALL,
	['}'] = H1_C_VT,		['~'] = H1_C_ALL,
	[0x80 ... 0xff] = H1_C_VT,	/* obs-text */
};

/* A byte a header value (or request target) may not hold: controls
 * other than HTAB, and DEL (RFC 9110 5.5). */
static inline bool
h1_is_ctl(unsigned char ch)
{
	return !(h1_cls[ch] & H1_C_VALUE);
}

static int
h1_check_name(struct oh1 *h, const char *at, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (at[i] == ' ' || at[i] == '\t' ||
		    h1_is_ctl((unsigned char)at[i]))
			return h1_fail(h, HTTP1_E_PROTOCOL);
	return 0;
}

static int
h1_check_value(struct oh1 *h, const char *at, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (h1_is_ctl((unsigned char)at[i]))
			return h1_fail(h, HTTP1_E_PROTOCOL);
	return 0;
}

static int
h1_on_begin(http_parser *p)
{
	struct oh1 *h = p->data;

	h->h_flags = (h->h_flags & (HTTP1_F_NOBODY | HTTP1_F_COLLECT)) |
	    HTTP1_F_BEGUN;
	h->h_nhdrs = 0;
	h->h_hdr_bytes = 0;
	h->h_url.s_off = h->h_url.s_len = 0;
	h->h_reason.s_off = h->h_reason.s_len = 0;
	h->h_head_end = 0;
	h->h_last = H1_LAST_NONE;
	h->h_ck_state = 0;
	h->h_ck_left = 0;
	h->h_ck_digits = 0;
	return 0;
}

/* Grow slice s by [at, at + len), which must follow it directly (a split
 * across feeds); anything else (obs-fold after a non-empty first part)
 * is refused. */
static int
h1_extend(struct oh1 *h, struct http1_slice *s, const char *at,
    size_t len, bool fresh)
{
	uint32_t off = (uint32_t)(at - h->h_base);

	if (fresh) {
		s->s_off = off;
		s->s_len = (uint32_t)len;
		return 0;
	}
	if (off != s->s_off + s->s_len)
		return h1_fail(h, HTTP1_E_PROTOCOL);
	s->s_len += (uint32_t)len;
	return 0;
}

/* The request target counts towards the head limit, as in Envoy (its
 * :path is a header there). */
static int
h1_count(struct oh1 *h, size_t len)
{
	h->h_hdr_bytes += (uint32_t)len;
	if (h->h_hdr_bytes > h->h_hdr_limit)
		return h1_fail(h, HTTP1_E_TOO_LARGE);
	return 0;
}

static int
h1_on_url(http_parser *p, const char *at, size_t len)
{
	struct oh1 *h = p->data;
	size_t i;

	for (i = 0; i < len; i++)
		if (at[i] == ' ' || h1_is_ctl((unsigned char)at[i]) ||
		    at[i] == '\t')
			return h1_fail(h, HTTP1_E_PROTOCOL);
	if (h1_count(h, len) == -1)
		return -1;
	return h1_extend(h, &h->h_url, at, len, h->h_url.s_len == 0);
}

static int
h1_on_status(http_parser *p, const char *at, size_t len)
{
	struct oh1 *h = p->data;

	return h1_extend(h, &h->h_reason, at, len, h->h_reason.s_len == 0);
}

static int
h1_on_field(http_parser *p, const char *at, size_t len)
{
	struct oh1 *h = p->data;
	struct http1_hdr *hd;

	/* trailers pass through as body bytes: checked, not recorded */
	if (h1_check_name(h, at, len) == -1)
		return -1;
	if (h->h_flags & HTTP1_F_HEAD)
		return 0;
	if (h1_count(h, len) == -1)
		return -1;
	if (h->h_last != H1_LAST_FIELD) {
		if (h->h_nhdrs == h->h_maxhdrs)
			return h1_fail(h, HTTP1_E_TOO_MANY);
		hd = &h->h_hdrs[h->h_nhdrs++];
		hd->h_value.s_off = hd->h_value.s_len = 0;
		hd->h_kind = 0;
		h->h_last = H1_LAST_FIELD;
		return h1_extend(h, &hd->h_name, at, len, true);
	}
	return h1_extend(h, &h->h_hdrs[h->h_nhdrs - 1].h_name, at, len, false);
}

/*
 * A value that starts a line: only blanks stand between it and the
 * previous LF.  That is obs-fold (RFC 9112 5.2), which http-parser takes
 * as a continuation -- and when the folded line's first part is empty it
 * reports the continuation as the whole value ("Content-Length:\r\n 5"
 * reads as 5), so it is refused however it comes.  An empty value is
 * reported with no bytes at the start of the next line: look back past
 * its line end first (a fold of blanks only shows up there).  The head
 * is whole in the buffer from its first byte, so the look back stays
 * inside it; it runs once per value, over its leading blanks only.
 */
static bool
h1_is_fold(const struct oh1 *h, const char *at, size_t len)
{
	if (len == 0 && at > h->h_base && at[-1] == '\n')
		at--;
	if (len == 0 && at > h->h_base && at[-1] == '\r')
		at--;
	while (at > h->h_base && (at[-1] == ' ' || at[-1] == '\t'))
		at--;
	return at > h->h_base && at[-1] == '\n';
}

static int
h1_on_value(http_parser *p, const char *at, size_t len)
{
	struct oh1 *h = p->data;
	struct http1_hdr *hd;
	bool fresh;

	if (h1_check_value(h, at, len) == -1)
		return -1;
	if (h->h_flags & HTTP1_F_HEAD)
		return 0;	/* trailers: h1_chunk_check() refuses folds */
	if (h->h_nhdrs == 0)
		return h1_fail(h, HTTP1_E_PROTOCOL);
	if (h1_count(h, len) == -1)
		return -1;
	hd = &h->h_hdrs[h->h_nhdrs - 1];
	fresh = h->h_last != H1_LAST_VALUE;
	if (fresh && h1_is_fold(h, at, len))
		return h1_fail(h, HTTP1_E_PROTOCOL);
	h->h_last = H1_LAST_VALUE;
	return h1_extend(h, &hd->h_value, at, len, fresh);
}

static bool
h1_slice_is(const struct oh1 *h, struct http1_slice s, const char *lit)
{
	return s.s_len == strlen(lit) && strncasecmp(h->h_base + s.s_off, lit,
	    s.s_len) == 0;
}

/* A Host value: uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2),
 * any case, possibly empty; no userinfo, path or blank. */
static bool
h1_is_host(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') ||
		    strchr("-._~%!$&'()*+,;=:[]", ch) != NULL) || ch == '\0')
			return false;
	}
	return true;
}

/*
 * The request target: no fragment (RFC 9112 3.2: it is not part of any
 * form), and an absolute-form "http://" authority is a valid host, with
 * no userinfo (RFC 9110 4.2.4), since it takes the place of Host.
 */
static bool
h1_is_target(const char *t, size_t len)
{
	size_t a;

	if (memchr(t, '#', len) != NULL)
		return false;
	if (len < 7 || strncasecmp(t, "http://", 7) != 0)
		return true;
	for (a = 7; a < len && t[a] != '/' && t[a] != '?'; a++)
		;
	return memchr(t + 7, '@', a - 7) == NULL && h1_is_host(t + 7, a - 7);
}

/*
 * Checks over the whole head.  A request has a valid target and at most
 * one Host, a valid one (RFC 9112 3.2: anything else is a 400).  In a response the chunked coding is applied
 * once at most and is the last one (RFC 9112 6.1), over all
 * Transfer-Encoding lines together: "chunked, chunked" would otherwise be
 * read until close and passed on as data.  A request's transfer-encoding
 * is judged by the worker's header policy (anything but one "chunked" is
 * a 501 there).
 */
static int
h1_check_head(struct oh1 *h, bool request)
{
	const char *v, *end, *tok;
	unsigned nhost = 0, nchunked = 0;
	bool last_chunked = false;
	size_t tlen;
	uint16_t i;

	if (request && !h1_is_target(h->h_base + h->h_url.s_off,
	    h->h_url.s_len)) {
		h->h_why = "invalid request target";
		return h1_fail(h, HTTP1_E_PROTOCOL);
	}
	for (i = 0; i < h->h_nhdrs; i++) {
		const struct http1_hdr *hd = &h->h_hdrs[i];

		if (request && h1_slice_is(h, hd->h_name, "host")) {
			if (++nhost > 1)
				h->h_why = "more than one host header";
			else if (!h1_is_host(h->h_base + hd->h_value.s_off,
			    hd->h_value.s_len))
				h->h_why = "invalid host header";
			if (h->h_why != NULL)
				return h1_fail(h, HTTP1_E_PROTOCOL);
		}
		if (request ||
		    !h1_slice_is(h, hd->h_name, "transfer-encoding"))
			continue;
		v = h->h_base + hd->h_value.s_off;
		end = v + hd->h_value.s_len;
		while (v < end) {
			while (v < end && (*v == ' ' || *v == '\t' ||
			    *v == ','))
				v++;
			for (tok = v; v < end && *v != ','; v++)
				;
			for (tlen = (size_t)(v - tok); tlen > 0 &&
			    (tok[tlen - 1] == ' ' || tok[tlen - 1] == '\t');
			    tlen--)
				;
			if (tlen == 0)
				continue;
			last_chunked = tlen == 7 &&
			    strncasecmp(tok, "chunked", 7) == 0;
			if (last_chunked)
				nchunked++;
		}
	}
	if (nchunked > 1 || (nchunked == 1 && !last_chunked)) {
		h->h_why = "chunked is not applied once, last";
		return h1_fail(h, HTTP1_E_TE);
	}
	return 0;
}

static int
h1_on_headers_complete(http_parser *p)
{
	struct oh1 *h = p->data;
	uint16_t i;

	/* http-parser may keep blanks at the end of a value */
	for (i = 0; i < h->h_nhdrs; i++) {
		struct http1_slice *v = &h->h_hdrs[i].h_value;

		while (v->s_len > 0 && (h->h_base[v->s_off + v->s_len - 1] ==
		    ' ' || h->h_base[v->s_off + v->s_len - 1] == '\t'))
			v->s_len--;
	}
	if (h1_check_head(h, p->type == HTTP_REQUEST) == -1)
		return -1;
	h->h_flags |= HTTP1_F_HEAD;
	http_parser_pause(p, 1);
	/* 1xx, 204 and 304 have no body whatever their headers say
	 * (RFC 9112 6.3); http-parser would wait for chunks after a
	 * "transfer-encoding: chunked" there */
	if (p->type == HTTP_RESPONSE && (p->status_code / 100 == 1 ||
	    p->status_code == 204 || p->status_code == 304)) {
		h->h_flags |= HTTP1_F_NOSTATUSBODY;
		return 1;
	}
	return (h->h_flags & HTTP1_F_NOBODY) ? 1 : 0;
}

static int
h1_on_body(http_parser *p, const char *at, size_t len)
{
	struct oh1 *h = p->data;
	uint32_t off = (uint32_t)(at - h->h_base);
	struct http1_slice *s;

	h->h_body_bytes += len;
	if (!(h->h_flags & HTTP1_F_COLLECT))
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
	if (h->h_nbody == HTTP1_MAXBODY)
		http_parser_pause(p, 1);
	return 0;
}

static int
h1_on_complete(http_parser *p)
{
	struct oh1 *h = p->data;

	h->h_flags |= HTTP1_F_DONE;
	http_parser_pause(p, 1);
	return 0;
}

/*
 * Strict chunked framing (RFC 9112 7.1), run over the body bytes the
 * parser consumed: chunk-size is 1 to 16 hex digits; then optional
 * blanks and extensions that start with ';' and hold no control byte;
 * lines end in CRLF exactly; data is followed by CRLF exactly; the
 * trailer section is lines without control bytes, none starting with a
 * blank (obs-fold), up to an empty line.
 * http-parser still does the parsing; this only refuses what it would
 * let through.
 */
enum h1_ck {
	CK_HEAD_LF,	/* the head's last LF, consumed after HTTP1_HEAD */
	CK_SIZE,	/* chunk-size digits */
	CK_BWS,		/* blanks after the size: ';' or CR next */
	CK_EXT,		/* chunk extensions, up to CR */
	CK_SIZE_LF,	/* CR seen after the size line */
	CK_DATA,	/* h_ck_left data bytes */
	CK_DATA_CR,	/* CR after data */
	CK_DATA_LF,
	CK_TRAILER,	/* start of a trailer line (or the empty line) */
	CK_TRAILER_LINE,	/* inside a trailer line, up to CR */
	CK_TRAILER_LF,	/* CR seen at the end of a trailer line */
	CK_END_LF,	/* CR of the empty line seen */
	CK_DONE,
};

/* The states that want one given byte, and the state it leads to. */
static const struct {
	uint8_t	 want;
	uint8_t	 next;
} h1_ck_fixed[] = {
	[CK_HEAD_LF] = { '\n', CK_SIZE },
	[CK_DATA_CR] = { '\r', CK_DATA_LF },
	[CK_DATA_LF] = { '\n', CK_SIZE },
	[CK_TRAILER_LF] = { '\n', CK_TRAILER },
	[CK_END_LF] = { '\n', CK_DONE },
};

/* One byte of the chunked framing outside chunk data; -1: refused. */
static int
h1_chunk_step(struct oh1 *h, unsigned char ch)
{
	uint8_t st = h->h_ck_state;
	int d;

	switch (st) {
	case CK_HEAD_LF:
	case CK_DATA_CR:
	case CK_DATA_LF:
	case CK_TRAILER_LF:
	case CK_END_LF:
		if (ch != h1_ck_fixed[st].want)
			return -1;
		h->h_ck_state = h1_ck_fixed[st].next;
		return 0;
	case CK_SIZE:
		if ((d = text_hexval(ch)) >= 0) {
			if (++h->h_ck_digits > 16)
				return -1;
			h->h_ck_left = h->h_ck_left * 16 + (uint64_t)d;
			return 0;
		}
		if (h->h_ck_digits == 0)
			return -1;
		/* FALLTHROUGH */
	case CK_BWS:
		if (ch == ';')
			h->h_ck_state = CK_EXT;
		else if (ch == '\r')
			h->h_ck_state = CK_SIZE_LF;
		else if (ch == ' ' || ch == '\t')
			h->h_ck_state = CK_BWS;
		else
			return -1;
		return 0;
	case CK_EXT:
	case CK_TRAILER_LINE:
		if (ch == '\r')
			h->h_ck_state = st == CK_EXT ? CK_SIZE_LF : CK_TRAILER_LF;
		else if (h1_is_ctl(ch))
			return -1;
		return 0;
	case CK_SIZE_LF:
		if (ch != '\n')
			return -1;
		h->h_ck_digits = 0;
		h->h_ck_state = h->h_ck_left > 0 ? CK_DATA : CK_TRAILER;
		return 0;
	case CK_TRAILER:
		if (ch == '\r')
			h->h_ck_state = CK_END_LF;
		else if (h1_is_ctl(ch) || ch == ' ' || ch == '\t')
			return -1;	/* obs-fold too */
		else
			h->h_ck_state = CK_TRAILER_LINE;
		return 0;
	default:
		return -1;	/* bytes after the end */
	}
}

static int
h1_chunk_check(struct oh1 *h, const unsigned char *p, size_t len)
{
	size_t i, n;

	for (i = 0; i < len; i++) {
		if (h->h_ck_state != CK_DATA) {
			if (h1_chunk_step(h, p[i]) == -1)
				return -1;
			continue;
		}
		n = len - i;
		if (n > h->h_ck_left)
			n = (size_t)h->h_ck_left;
		h->h_ck_left -= n;
		i += n - 1;
		if (h->h_ck_left == 0)
			h->h_ck_state = CK_DATA_CR;
	}
	return 0;
}

/*
 * The strict head scan (see oh1_head_len() in h1_oracle.h).  One state per
 * place in the grammar; h_sc_n counts through "HTTP/d.d" and the status
 * digits.  It checks the bytes only: http-parser still does the parsing,
 * and the two must end the head on the same LF.
 */
enum h1_sc {
	SC_START,	/* before the message: blank lines skipped */
	SC_START_LF,	/* CR of a blank line before the message */
	SC_METHOD,	/* method token, up to SP */
	SC_TARGET0,	/* first byte of the request target */
	SC_TARGET,	/* request target, up to SP */
	SC_VERSION,	/* "HTTP/d.d" (and SP in a status line) */
	SC_STATUS,	/* the three digits of the status code */
	SC_STATUS_END,	/* SP or the line end after the status code */
	SC_REASON,	/* reason phrase, up to the line end */
	SC_LINE_END,	/* CR or LF after the request-line */
	/* from here on h1_scan_field() */
	SC_LINE_LF,	/* CR seen at the end of the start line */
	SC_FIELD,	/* start of a header line, or the empty line */
	SC_NAME,	/* field name, up to ':' */
	SC_VALUE,	/* field value, up to the line end */
	SC_VALUE_LF,	/* CR seen in a field line */
	SC_END_LF,	/* CR of the empty line seen */
	SC_DONE,	/* the head ended; nothing more to scan */
	SC_BAD,		/* not a head */
};

#define H1_VERSION	"HTTP/d.d "	/* 'd': one digit */
#define H1_VERSION_LEN	8		/* without the SP of a status line */

/* tchar of RFC 9110 5.6.2: what a method or field name is made of. */
static inline bool
h1_is_tchar(unsigned char ch)
{
	return h1_cls[ch] & H1_C_TCHAR;
}

/* One byte of the start line: the next state, SC_BAD with *why set. */
static uint8_t
h1_scan_start(uint8_t st, uint8_t *n, bool response, unsigned char ch,
    const char **why)
{
	unsigned char want;

	if (st == SC_START && response && ch != '\r' && ch != '\n') {
		st = SC_VERSION;	/* a status line starts here */
		*n = 0;
	}
	switch (st) {
	case SC_START:
		if (ch == '\r')
			return SC_START_LF;
		if (ch == '\n')
			return SC_START;
		if (h1_is_tchar(ch))
			return SC_METHOD;
		break;
	case SC_START_LF:
		if (ch == '\n')
			return SC_START;
		*why = "CR not followed by LF";
		return SC_BAD;
	case SC_METHOD:
		if (ch == ' ')
			return SC_TARGET0;
		if (h1_is_tchar(ch))
			return SC_METHOD;
		break;
	case SC_TARGET0:
	case SC_TARGET:
		if (ch == ' ' && st == SC_TARGET) {
			*n = 0;
			return SC_VERSION;
		}
		if (h1_cls[ch] & H1_C_TARGET)
			return SC_TARGET;
		*why = "invalid request target";
		return SC_BAD;
	case SC_VERSION:
		want = (unsigned char)H1_VERSION[*n];
		if (want == 'd' ? !(ch >= '0' && ch <= '9') : ch != want) {
			*why = "invalid HTTP version";
			return SC_BAD;
		}
		if (++*n < H1_VERSION_LEN + (response ? 1 : 0))
			return SC_VERSION;
		*n = 0;
		return response ? SC_STATUS : SC_LINE_END;
	case SC_STATUS:
		if (ch >= '0' && ch <= '9')
			return ++*n == 3 ? SC_STATUS_END : SC_STATUS;
		break;
	case SC_STATUS_END:
	case SC_REASON:
		if (ch == ' ' || (st == SC_REASON && !h1_is_ctl(ch)))
			return SC_REASON;
		/* FALLTHROUGH */
	case SC_LINE_END:
		if (ch == '\r')
			return SC_LINE_LF;
		if (ch == '\n')
			return SC_FIELD;
		if (st == SC_LINE_END) {
			*why = "invalid HTTP version";
			return SC_BAD;
		}
		break;
	}
	*why = st == SC_START || st == SC_METHOD ? "invalid method" :
	    "invalid status line";
	return SC_BAD;
}

/* One byte of the field lines (or the end of the start line). */
static uint8_t
h1_scan_field(uint8_t st, unsigned char ch, const char **why)
{
	switch (st) {
	case SC_LINE_LF:
	case SC_VALUE_LF:
	case SC_END_LF:
		if (ch == '\n')
			return st == SC_END_LF ? SC_DONE : SC_FIELD;
		*why = "CR not followed by LF";
		return SC_BAD;
	case SC_FIELD:
		if (ch == '\r')
			return SC_END_LF;
		if (ch == '\n')
			return SC_DONE;
		if (ch == ' ' || ch == '\t') {
			*why = "obsolete line folding";
			return SC_BAD;
		}
		/* FALLTHROUGH */
	case SC_NAME:
		if (ch == ':' && st == SC_NAME)
			return SC_VALUE;
		if (h1_is_tchar(ch))
			return SC_NAME;
		*why = "invalid header name";
		return SC_BAD;
	case SC_VALUE:
		if (ch == '\r')
			return SC_VALUE_LF;
		if (ch == '\n')
			return SC_FIELD;
		if (!h1_is_ctl(ch))
			return SC_VALUE;
		*why = "invalid header value";
		return SC_BAD;
	}
	*why = "bytes after the head";
	return SC_BAD;
}

/* Bytes at p that state st keeps to itself (a name's tchars, a value's
 * bytes ...); 0 for states that look at every byte. */
static inline size_t
h1_scan_run(uint8_t st, const unsigned char *p, size_t len)
{
	uint8_t cls;
	size_t i = 0;

	switch (st) {
	case SC_METHOD:
	case SC_NAME:
		cls = H1_C_TCHAR;
		break;
	case SC_TARGET:
		cls = H1_C_TARGET;
		break;
	case SC_VALUE:
	case SC_REASON:
		cls = H1_C_VALUE;
		break;
	default:
		return 0;
	}
	while (i < len && (h1_cls[p[i]] & cls))
		i++;
	return i;
}

/*
 * Scan p[0, len) on from *state.  Returns 1 with *used the bytes through
 * the head's last LF, 0 when all of p was a valid part of a head, -1 with
 * *why set when p[*used] cannot be part of one.
 */
static int
h1_scan(uint8_t *state, uint8_t *n, bool response, const unsigned char *p,
    size_t len, size_t *used, const char **why)
{
	uint8_t st = *state;
	size_t i;

	for (i = 0; i < len; i++) {
		/* the long runs of a state in one tight loop: they end on
		 * the byte the state machine must look at */
		i += h1_scan_run(st, p + i, len - i);
		if (i == len)
			break;
		st = st < SC_LINE_LF ? h1_scan_start(st, n, response, p[i],
		    why) : h1_scan_field(st, p[i], why);
		if (st == SC_BAD) {
			*used = i;
			return -1;
		}
		if (st == SC_DONE) {
			*state = st;
			*used = i + 1;
			return 1;
		}
	}
	*state = st;
	*used = len;
	return 0;
}

long
oh1_head_len(enum http1_kind kind, const char *p, size_t len,
    const char **why)
{
	uint8_t st = SC_START, n = 0;
	size_t used;
	int rc;

	*why = NULL;
	rc = h1_scan(&st, &n, kind == HTTP1_RESPONSE,
	    (const unsigned char *)p, len, &used, why);
	if (rc < 0)
		return -1;
	return rc == 0 ? 0 : (long)used;
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
oh1_global_init(uint32_t max_head)
{
	if (max_head > HTTP_MAX_HEADER_SIZE)
		http_parser_set_max_header_size(max_head);
}

void
oh1_init(struct oh1 *h, enum http1_kind kind,
    struct http1_hdr *hdrs, uint16_t maxhdrs, uint32_t hdr_limit)
{
	memset(h, 0, sizeof(*h));
	http_parser_init(H1_P(h), kind == HTTP1_REQUEST ? HTTP_REQUEST :
	    HTTP_RESPONSE);
	H1_P(h)->data = h;
	h->h_hdrs = hdrs;
	h->h_maxhdrs = maxhdrs;
	h->h_hdr_limit = hdr_limit;
}

static enum http1_ev
h1_error(struct oh1 *h)
{
	enum http_errno e = HTTP_PARSER_ERRNO(H1_P(h));

	if (h->h_err != HTTP1_E_NONE)
		return HTTP1_ERROR;
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		h->h_err = HTTP1_E_TOO_LARGE;
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		h->h_err = HTTP1_E_TE;
		break;
	case HPE_INVALID_EOF_STATE:
		h->h_err = HTTP1_E_EOF;
		break;
	default:
		h->h_err = HTTP1_E_PROTOCOL;
		break;
	}
	return HTTP1_ERROR;
}

enum http1_ev
oh1_feed(struct oh1 *h, const char *base, uint32_t off,
    uint32_t len, uint32_t *used)
{
	http_parser *p = H1_P(h);
	uint8_t before;
	size_t n, lim = 0;
	int sc = 0;

	if (h->h_err != HTTP1_E_NONE) {
		*used = 0;
		return HTTP1_ERROR;
	}
	if (HTTP_PARSER_ERRNO(p) == HPE_PAUSED)
		http_parser_pause(p, 0);
	h->h_base = base;
	h->h_nbody = 0;
	before = h->h_flags;
	if (h->h_sc_state == SC_DONE && (before & HTTP1_F_DONE))
		h->h_sc_state = SC_START;	/* the next message */
	if (h->h_sc_state != SC_DONE) {
		/* http-parser sees the head only up to its last LF or up to
		 * the first byte the scan refuses */
		sc = h1_scan(&h->h_sc_state, &h->h_sc_n,
		    p->type == HTTP_RESPONSE, (const unsigned char *)base + off,
		    len, &lim, &h->h_why);
		if (sc != 0)
			len = (uint32_t)lim;
	}
	n = http_parser_execute(p, &h1_settings, base + off, len);
	*used = (uint32_t)n;
	if (sc < 0 || (sc > 0 && HTTP_PARSER_ERRNO(p) == HPE_OK)) {
		/* refused by the scan, or a head only the scan ended */
		if (sc > 0)
			h->h_why = "head ends where http-parser does not";
		if (h->h_err == HTTP1_E_NONE)
			h->h_err = HTTP1_E_PROTOCOL;
		return HTTP1_ERROR;
	}
	if ((before & HTTP1_F_HEAD) && (p->flags & F_CHUNKED) &&
	    !(h->h_flags & (HTTP1_F_NOBODY | HTTP1_F_NOSTATUSBODY))) {
		/* h_head_end is no help here: the caller may have moved the
		 * body to offset 0 since; the check starts at the LF */
		if (h1_chunk_check(h, (const unsigned char *)base + off, n) ==
		    -1) {
			h->h_err = HTTP1_E_PROTOCOL;
			return HTTP1_ERROR;
		}
		if ((h->h_flags & HTTP1_F_DONE) &&
		    !(before & HTTP1_F_DONE) && h->h_ck_state != CK_DONE) {
			h->h_err = HTTP1_E_PROTOCOL;
			return HTTP1_ERROR;
		}
	}
	switch (HTTP_PARSER_ERRNO(p)) {
	case HPE_OK:
		return HTTP1_MORE;
	case HPE_PAUSED:
		if ((h->h_flags & HTTP1_F_HEAD) &&
		    !(before & HTTP1_F_HEAD)) {
			/* paused on the head's last LF, before consuming it */
			h->h_head_end = off + (uint32_t)n + 1;
			if (sc <= 0 || n + 1 != lim) {
				h->h_why = "head ends where the scan does not";
				h->h_err = HTTP1_E_PROTOCOL;
				return HTTP1_ERROR;
			}
			return HTTP1_HEAD;
		}
		if ((h->h_flags & HTTP1_F_DONE) &&
		    !(before & HTTP1_F_DONE))
			return HTTP1_DONE;
		if (h->h_nbody == HTTP1_MAXBODY)
			return HTTP1_BODY;
		return HTTP1_MORE;
	default:
		return h1_error(h);
	}
}

enum http1_ev
oh1_eof(struct oh1 *h)
{
	http_parser *p = H1_P(h);
	uint8_t before = h->h_flags;

	if (h->h_err != HTTP1_E_NONE)
		return HTTP1_ERROR;
	if (!(h->h_flags & HTTP1_F_BEGUN) ||
	    (h->h_flags & HTTP1_F_DONE))
		return HTTP1_MORE;
	if (!(h->h_flags & HTTP1_F_HEAD)) {
		h->h_err = HTTP1_E_EOF;
		return HTTP1_ERROR;
	}
	if (HTTP_PARSER_ERRNO(p) == HPE_PAUSED)
		http_parser_pause(p, 0);
	h->h_nbody = 0;
	(void)http_parser_execute(p, &h1_settings, NULL, 0);
	if ((h->h_flags & HTTP1_F_DONE) && !(before & HTTP1_F_DONE))
		return HTTP1_DONE;
	if (HTTP_PARSER_ERRNO(p) != HPE_OK &&
	    HTTP_PARSER_ERRNO(p) != HPE_PAUSED)
		return h1_error(h);
	h->h_err = HTTP1_E_EOF;
	return HTTP1_ERROR;
}

void
oh1_set_nobody(struct oh1 *h)
{
	h->h_flags |= HTTP1_F_NOBODY;
}

void
oh1_set_collect(struct oh1 *h)
{
	h->h_flags |= HTTP1_F_COLLECT;
}

const char *
oh1_method(const struct oh1 *h)
{
	return http_method_str((enum http_method)H1_CP(h)->method);
}

bool
oh1_is_head_method(const struct oh1 *h)
{
	return H1_CP(h)->method == HTTP_HEAD;
}

bool
oh1_is_connect(const struct oh1 *h)
{
	return H1_CP(h)->method == HTTP_CONNECT;
}

void
oh1_version(const struct oh1 *h, int *major, int *minor)
{
	*major = H1_CP(h)->http_major;
	*minor = H1_CP(h)->http_minor;
}

uint16_t
oh1_status(const struct oh1 *h)
{
	return (uint16_t)H1_CP(h)->status_code;
}

bool
oh1_keep_alive(const struct oh1 *h)
{
	return http_should_keep_alive(H1_CP(h)) != 0;
}

bool
oh1_chunked(const struct oh1 *h)
{
	return (H1_CP(h)->flags & F_CHUNKED) != 0;
}

bool
oh1_has_length(const struct oh1 *h)
{
	return (H1_CP(h)->flags & F_CONTENTLENGTH) != 0;
}

uint64_t
oh1_content_length(const struct oh1 *h)
{
	return oh1_has_length(h) ? H1_CP(h)->content_length : 0;
}

bool
oh1_upgrade(const struct oh1 *h)
{
	const http_parser *p = H1_CP(h);

	return (p->flags & F_UPGRADE) && (p->flags & F_CONNECTION_UPGRADE);
}

bool
oh1_until_eof(const struct oh1 *h)
{
	const http_parser *p = H1_CP(h);
	unsigned int st = p->status_code;

	if (h->h_flags & HTTP1_F_NOBODY)
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
oh1_errstr(const struct oh1 *h)
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
	default:
		break;
	}
	return http_errno_description(HTTP_PARSER_ERRNO(H1_CP(h)));
}
