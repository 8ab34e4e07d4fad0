/*
 * Private to the HTTP/1 parser (shared/http1.c, http1_head.c,
 * http1_field.c, http1_body.c): its states, framing flags, byte classes,
 * the feed cursor the parts pass each other and their small helpers.
 */
#ifndef CANARYD_SHARED_HTTP1_INT_H
#define CANARYD_SHARED_HTTP1_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "http1.h"

/*
 * Byte classes, one table lookup per byte in the long runs.  TCHAR: a
 * token character (RFC 9110 5.6.2: methods, field names).  VALUE: what a
 * field value or reason phrase may hold (5.5: VCHAR, SP, HTAB, obs-text;
 * not the other controls nor DEL).  TARGET: what a request target may
 * hold (VCHAR and obs-text: no SP, no control), '#' excepted so the
 * target loop stops on it.  HOST: uri-host [ ":" port ] (RFC 3986 3.2.2)
 * as a Host value or an absolute-form authority may spell it.  USER: the
 * characters of an authority the target grammar takes (userinfo, '['
 * and ']').  ALPHA: A-Z, a-z.  VCHAR: a value byte other than a blank.
 */
#define H1_C_TCHAR	0x01
#define H1_C_VALUE	0x02
#define H1_C_TARGET	0x04
#define H1_C_HOST	0x08
#define H1_C_USER	0x10
#define H1_C_ALPHA	0x20
#define H1_C_VCHAR	0x40	/* VCHAR and obs-text: a value's first byte */

extern const uint8_t h1_cls[256];

/* The first byte of b[p, stop) not of class cls, or stop: four bytes a
 * round, one test each. */
static inline uint32_t
h1_span(const unsigned char *b, uint32_t p, uint32_t stop, uint8_t cls)
{
	for (; stop - p >= 4; p += 4) {
		if (!(h1_cls[b[p]] & cls))
			return p;
		if (!(h1_cls[b[p + 1]] & cls))
			return p + 1;
		if (!(h1_cls[b[p + 2]] & cls))
			return p + 2;
		if (!(h1_cls[b[p + 3]] & cls))
			return p + 3;
	}
	while (p < stop && (h1_cls[b[p]] & cls))
		p++;
	return p;
}

/*
 * h1_span() for H1_C_VALUE, eight bytes a round where the byte order
 * allows: a word holds a byte that is no value byte when one is below
 * 0x20 or is 0x7f (the lowest such byte is found exactly; bytes from
 * 0x80 are obs-text), and HTAB, the one control a value may hold, is
 * stepped over.
 */
static inline uint32_t
h1_span_value(const unsigned char *b, uint32_t p, uint32_t stop)
{
#if defined(__SSE2__)
	/* sixteen bytes a round: a control (signed 0 .. 0x1f) but HTAB, or
	 * DEL, stops the run */
	while (stop - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		__m128i ctl = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-1)),
		    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
		__m128i bad = _mm_or_si128(_mm_andnot_si128(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), ctl),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);

		if (m != 0)
			return p + (uint32_t)__builtin_ctz(m);
		p += 16;
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w, d, m;

	while (stop - p >= 8) {
		memcpy(&w, b + p, sizeof(w));
		d = w ^ 0x7f7f7f7f7f7f7f7fULL;
		m = ((w - 0x2020202020202020ULL) & ~w) |
		    ((d - 0x0101010101010101ULL) & ~d);
		m &= 0x8080808080808080ULL;
		if (m == 0) {
			p += 8;
			continue;
		}
		p += (uint32_t)__builtin_ctzll(m) >> 3;
		if (b[p] != '\t')
			return p;
		p++;
	}
#endif
	return h1_span(b, p, stop, H1_C_VALUE);
}

/*
 * h1_span() for H1_C_TCHAR, eight bytes a round where the byte order
 * allows: a field name is mostly letters, digits and '-', which a word
 * tests at once (each byte's low seven bits in range, its high bit
 * clear, no carry between bytes).  The first byte outside those is
 * looked up: the rarer token characters are stepped over.
 */
static inline __attribute__((always_inline)) uint32_t
h1_span_token(const unsigned char *b, uint32_t p, uint32_t stop)
{
#if defined(__SSE2__)
	/* sixteen bytes a round (signed compares: obs-text is negative,
	 * outside every range) */
	while (stop - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		__m128i z = _mm_or_si128(v, _mm_set1_epi8(0x20));
		__m128i ok = _mm_or_si128(_mm_or_si128(
		    _mm_and_si128(_mm_cmpgt_epi8(z, _mm_set1_epi8('a' - 1)),
		    _mm_cmplt_epi8(z, _mm_set1_epi8('z' + 1))),
		    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		    _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)))),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
		unsigned m = ~(unsigned)_mm_movemask_epi8(ok) & 0xffff;

		if (m == 0) {
			p += 16;
			continue;
		}
		p += (uint32_t)__builtin_ctz(m);
		if (!(h1_cls[b[p]] & H1_C_TCHAR))
			return p;
		p++;
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t one = 0x0101010101010101ULL;
	const uint64_t hi = 0x8080808080808080ULL;
	uint64_t w, y, z, d, ok, bad;

	while (stop - p >= 8) {
		memcpy(&w, b + p, sizeof(w));
		y = w & ~hi;
		z = y | 0x2020202020202020ULL;	/* A-Z to a-z, no other */
		d = y ^ ('-' * one);
		ok = ((z + (0x80 - 'a') * one) & ~(z + (0x7f - 'z') * one)) |
		    ((y + (0x80 - '0') * one) & ~(y + (0x7f - '9') * one)) |
		    ~(d + (0x7f * one));
		bad = (~ok | w) & hi;	/* outside the three, or obs-text */
		if (bad == 0) {
			p += 8;
			continue;
		}
		p += (uint32_t)__builtin_ctzll(bad) >> 3;
		if (!(h1_cls[b[p]] & H1_C_TCHAR))
			return p;
		p++;
	}
#endif
	return h1_span(b, p, stop, H1_C_TCHAR);
}

/* Where the parser is.  The head states come first: h1_is_head(). */
enum h1_state {
	H1_S_START,	/* before a message: blank lines skipped */
	H1_S_START_LF,	/* CR of a blank line before the message */
	H1_S_METHOD,	/* method token, up to SP */
	H1_S_TARGET0,	/* first byte of the request target */
	H1_S_TARGET,	/* request target, up to SP */
	H1_S_VERSION,	/* "HTTP/d.d" (and SP in a status line), h_idx */
	H1_S_STATUS,	/* the three digits of the status code, h_idx */
	H1_S_STATUS_END, /* SP or the line end after the status code */
	H1_S_REASON,	/* reason phrase, up to the line end */
	H1_S_LINE_END,	/* CR or LF after the request-line */
	H1_S_LINE_LF,	/* CR seen at the end of the start line */
	H1_S_FIELD,	/* start of a field line, or the empty line */
	H1_S_NAME,	/* field name, up to ':' */
	H1_S_OWS,	/* blanks before the value */
	H1_S_VALUE,	/* field value, up to the line end */
	H1_S_VALUE_LF,	/* CR seen at the end of a field line */
	H1_S_END_LF,	/* CR of the empty line seen */
	H1_S_HEAD_LF,	/* paused on the head's last LF */
	/* body */
	H1_S_BODY_LEN,	/* h_clen bytes of body left */
	H1_S_BODY_EOF,	/* body up to the end of the stream */
	H1_S_CK_SIZE0,	/* first hex digit of a chunk size */
	H1_S_CK_SIZE,	/* more digits, h_idx of them so far */
	H1_S_CK_BWS,	/* blanks after the size */
	H1_S_CK_EXT,	/* chunk extensions, up to CR */
	H1_S_CK_SIZE_LF, /* CR seen after the size line */
	H1_S_CK_DATA,	/* h_clen bytes of chunk data left */
	H1_S_CK_DATA_CR, /* CR after chunk data */
	H1_S_CK_DATA_LF, /* LF after chunk data */
};

static inline bool
h1_is_head(uint8_t st)
{
	return st < H1_S_HEAD_LF;
}

/*
 * h_pflags: what the fields say about framing (the names http-parser's
 * flags had), and a few marks of the parser's own.
 */
#define H1_P_CHUNKED	0x0001	/* Transfer-Encoding ends in chunked */
#define H1_P_KEEP_ALIVE	0x0002	/* Connection: keep-alive */
#define H1_P_CLOSE	0x0004	/* Connection: close */
#define H1_P_CONN_UPGRADE 0x0008	/* Connection: upgrade */
#define H1_P_UPGRADE	0x0010	/* an Upgrade field with a value */
#define H1_P_LENGTH	0x0020	/* a Content-Length field */
#define H1_P_TE		0x0040	/* a Transfer-Encoding field */
#define H1_P_TRAILING	0x0080	/* reading the trailer section */
#define H1_P_SKIPBODY	0x0100	/* no body whatever the fields say */
#define H1_P_BADTARGET	0x0200	/* the target has '#' or a bad authority */
#define H1_P_CL_EMPTY	0x0800	/* an empty Content-Length: refused at
				 * the next line's first byte */
#define H1_P_TE_ONCE	0x1000	/* response: a chunked coding */
#define H1_P_TE_TWICE	0x2000	/* response: chunked more than once */
#define H1_P_TE_LAST	0x4000	/* response: chunked is the last coding */
#define H1_P_LEX	0x8000	/* http1_head_len(): the grammar alone */

/* h_clen when no Content-Length was given. */
#define H1_NO_LENGTH	UINT64_MAX

/* Methods, in http-parser's order (http1_method() names them). */
enum h1_method {
	H1_M_DELETE, H1_M_GET, H1_M_HEAD, H1_M_POST, H1_M_PUT, H1_M_CONNECT,
	H1_M_OPTIONS, H1_M_TRACE, H1_M_COPY, H1_M_LOCK, H1_M_MKCOL,
	H1_M_MOVE, H1_M_PROPFIND, H1_M_PROPPATCH, H1_M_SEARCH, H1_M_UNLOCK,
	H1_M_BIND, H1_M_REBIND, H1_M_UNBIND, H1_M_ACL, H1_M_REPORT,
	H1_M_MKACTIVITY, H1_M_CHECKOUT, H1_M_MERGE, H1_M_MSEARCH,
	H1_M_NOTIFY, H1_M_SUBSCRIBE, H1_M_UNSUBSCRIBE, H1_M_PATCH,
	H1_M_PURGE, H1_M_MKCALENDAR, H1_M_LINK, H1_M_UNLINK, H1_M_SOURCE,
	H1_M__N
};

/*
 * One feed: the bytes base[pos, end) are left.  Head bytes count toward
 * the head bound: while in a counted state, the byte at q is the
 * (q - nbase + 1)th, and stop (<= end) is the first one over the bound.
 */
struct h1_cur {
	const unsigned char	*c_b;
	uint32_t		 c_off;		/* first byte of the feed */
	uint32_t		 c_pos;
	uint32_t		 c_end;
	uint32_t		 c_stop;
	int64_t			 c_nbase;
};

extern uint32_t	 h1_max_head;

/* Start counting head bytes at c_pos (nread 0 there) / from h_nread. */
void		 h1_count_from(struct h1_cur *, uint32_t nread);

/* The events of http1_feed(), and H1_GO: go on with the next part. */
#define H1_GO	(-1)

/* Refuse the message: error kind and the words for the log. */
int		 h1_fail(struct http1 *, enum http1_err, const char *why);

/* The words of the log for the refusals the parts share. */
#define H1_W_CRLF	"CR not followed by LF"
#define H1_W_TARGET	"invalid request target"

static inline bool
h1_is(unsigned char ch, uint8_t cls)
{
	return (h1_cls[ch] & cls) != 0;
}

/* The run ended at p on c_stop: the end of the feed (more bytes), or
 * the head bound. */
static inline int
h1_out(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	c->c_pos = p;
	if (p < c->c_end)
		return h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
	return HTTP1_MORE;
}

/* Refuse the byte at p. */
static inline int
h1_bad(struct http1 *h, struct h1_cur *c, uint32_t p, const char *why)
{
	c->c_pos = p;
	return h1_fail(h, HTTP1_E_PROTOCOL, why);
}

/* n more bytes of target, names and values; false over the limit. */
static inline bool
h1_count(struct http1 *h, uint32_t n)
{
	h->h_hdr_bytes += n;
	return h->h_hdr_bytes <= h->h_hdr_limit;
}

/* The head (request-line or status-line and fields), and trailers. */
int		 h1_head(struct http1 *, struct h1_cur *);
int		 h1_fields(struct http1 *, struct h1_cur *);
/* From the head's last LF on: the body and its framing. */
int		 h1_body(struct http1 *, struct h1_cur *);

/* The method whose name is m[0, n) exactly, or -1; how many of m's
 * first bytes begin some method's name. */
int		 h1_method_find(const unsigned char *m, size_t n);
size_t		 h1_method_prefix(const unsigned char *m, size_t n);

#endif /* CANARYD_SHARED_HTTP1_INT_H */
