/*
 * HTTP/1 parser, the field lines (see http1.h): name, ':', blanks, value,
 * line end, up to the empty line that ends the head, each byte looked at
 * once.  A line that is all there and plain is read at once
 * (h1_line_fast); any other goes through the states, which refuse what
 * they must where it stands.  As for the start line (http1_head.c), a
 * run is checked for meaning (a special value), then counted against
 * the limits, then recorded.  The fields that frame a message are read
 * as http-parser read them (Content-Length digits, the lists of
 * Connection and Transfer-Encoding, Upgrade), their quirks included.
 *
 * Field lines serve the trailer section too (H1_P_TRAILING): there lines
 * end in CRLF only and nothing is counted or recorded, but the framing
 * fields still set their flags, as http-parser read them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http1-int.h"
#include "http1.h"

#define W_NAME		"invalid header name"
#define W_VALUE		"invalid header value"
#define W_FOLD		"obsolete line folding"
#define W_CL		"invalid character in content-length header"

/* h_vstate: the special field values, byte by byte (trailers too).  MATCH + w: inside word w; DONE + w: word w whole. */
enum h1_v {
	V_NONE,		/* nothing to look at */
	V_CL_NUM,	/* Content-Length digits */
	V_CL_WS,	/* blanks after them */
	V_TOKEN,	/* inside a list element: up to ',' */
	V_TOK_START,	/* start of a list element */
	V_GENERAL,	/* given up on this value */
	V_MATCH,
	V_DONE = V_MATCH + 4,
};

/* The words of Connection and Transfer-Encoding values, and the flag
 * each sets when it is an element of its own. */
enum { W_KEEP_ALIVE, W_CLOSE, W_UPGRADE, W_CHUNKED };
static const char *const h1_words[] = {
	"keep-alive", "close", "upgrade", "chunked",
};
static const uint32_t h1_word_flag[] = {
	H1_P_KEEP_ALIVE, H1_P_CLOSE, H1_P_CONN_UPGRADE, H1_P_CHUNKED,
};

/*
 * The name read so far ends at p: count it and give it its h_hdrs entry
 * (trailers: nothing).  A name has its entry once some of it was
 * counted.  False, with the error set, over a limit.
 */
static inline bool
h1_name_flush(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	struct http1_hdr *hd;

	if (h->h_pflags & (H1_P_TRAILING | H1_P_LEX))
		return true;
	c->c_pos = p;
	if (!h1_count(h, p - h->h_flushed)) {
		h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
		return false;
	}
	if (h->h_flushed == h->h_mark) {
		if (h->h_nhdrs == h->h_maxhdrs) {
			h1_fail(h, HTTP1_E_TOO_MANY, NULL);
			return false;
		}
		hd = &h->h_hdrs[h->h_nhdrs++];
		hd->h_name.s_off = h->h_mark;
		hd->h_value.s_off = hd->h_value.s_len = 0;
		hd->h_kind = HTTP1_H_OTHER;
	} else
		hd = &h->h_hdrs[h->h_nhdrs - 1];
	hd->h_name.s_len = p - h->h_mark;
	h->h_flushed = p;
	return true;
}

/* The name ends on ':' at p: its class, and what the class does. */
static int
h1_name_end(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	uint8_t k;

	k = (uint8_t)http1_hdr_kind((const char *)c->c_b + h->h_mark,
	    p - h->h_mark);
	h->h_hkind = k;
	if (k == HTTP1_H_TRANSFER_ENCODING) {
		/* several Transfer-Encoding fields are one list: chunked
		 * must end the last (Debian's CVE-2020-8287 fix) */
		h->h_pflags |= H1_P_TE;
		h->h_pflags &= ~H1_P_CHUNKED;
	}
	if (h->h_pflags & (H1_P_TRAILING | H1_P_LEX))
		return H1_GO;
	if (!h1_name_flush(h, c, p))
		return HTTP1_ERROR;
	h->h_hdrs[h->h_nhdrs - 1].h_kind = k;
	if (k == HTTP1_H_HOST && h->h_nhost++ == 0)
		h->h_host = (uint16_t)(h->h_nhdrs - 1);
	return H1_GO;
}

/* Connection and Transfer-Encoding: the word an element starting with
 * c (lower case) may be, or -1. */
static int
h1_word_for(uint8_t hkind, unsigned char c)
{
	if (hkind == HTTP1_H_TRANSFER_ENCODING)
		return c == 'c' ? W_CHUNKED : -1;
	switch (c) {
	case 'k':
		return W_KEEP_ALIVE;
	case 'c':
		return W_CLOSE;
	case 'u':
		return W_UPGRADE;
	}
	return -1;
}

/*
 * The first byte of a value (not a blank): start its special reading.
 * Content-Length is digits, given once; an Upgrade field with a value
 * asks for an upgrade.
 */
static int
h1_value_start(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	unsigned char ch = c->c_b[p];
	int w;

	h->h_mark = h->h_flushed = p;
	h->h_vstate = V_NONE;
	if (h->h_pflags & H1_P_LEX)
		return H1_GO;
	switch (h->h_hkind) {
	case HTTP1_H_CONTENT_LENGTH:
		if (ch < '0' || ch > '9')
			return h1_bad(h, c, p, W_CL);
		if (h->h_pflags & H1_P_LENGTH)
			return h1_bad(h, c, p,
			    "unexpected content-length header");
		h->h_pflags |= H1_P_LENGTH;
		h->h_clen = (uint64_t)(ch - '0');
		h->h_vstate = V_CL_NUM;
		break;
	case HTTP1_H_UPGRADE:
		h->h_pflags |= H1_P_UPGRADE;
		break;
	case HTTP1_H_CONNECTION:
	case HTTP1_H_PROXY_CONNECTION:
	case HTTP1_H_TRANSFER_ENCODING:
		w = h1_word_for(h->h_hkind, ch | 0x20);
		h->h_vstate = w < 0 ? V_TOKEN : (uint8_t)(V_MATCH + w);
		h->h_idx = 0;
		break;
	}
	return H1_GO;
}

/* One byte of a Connection or Transfer-Encoding value after the first
 * (http-parser's reading of the list, its quirks included). */
static void
h1_token_step(struct http1 *h, unsigned char ch)
{
	unsigned char c = ch | 0x20;
	uint8_t v = h->h_vstate;
	int w;

	if (v >= V_DONE) {
		if (ch == ',' && h->h_hkind != HTTP1_H_TRANSFER_ENCODING) {
			h->h_pflags |= h1_word_flag[v - V_DONE];
			h->h_vstate = V_TOK_START;
		} else if (ch != ' ')
			h->h_vstate = V_TOKEN;
	} else if (v >= V_MATCH) {
		w = v - V_MATCH;
		if (c != (unsigned char)h1_words[w][++h->h_idx])
			h->h_vstate = V_TOKEN;
		else if (h1_words[w][h->h_idx + 1] == '\0')
			h->h_vstate = (uint8_t)(V_DONE + w);
	} else if (v == V_TOKEN) {
		if (ch == ',')
			h->h_vstate = V_TOK_START;
	} else if (v == V_TOK_START) {
		if ((w = h1_word_for(h->h_hkind, c)) >= 0) {
			h->h_vstate = (uint8_t)(V_MATCH + w);
			h->h_idx = 0;
		} else if (h1_is(c, H1_C_TCHAR))
			h->h_vstate = V_TOKEN;
		else if (c != ' ')
			h->h_vstate = V_GENERAL;
	}
}

/* Value bytes [from, p) through the special reading; the first byte a
 * Content-Length refuses, or p. */
static uint32_t
h1_value_run(struct http1 *h, const unsigned char *b, uint32_t from,
    uint32_t p)
{
	unsigned char ch;

	for (; from < p; from++) {
		ch = b[from];
		if (h->h_vstate == V_CL_NUM) {
			if (ch == ' ')
				h->h_vstate = V_CL_WS;
			else if (ch < '0' || ch > '9' ||
			    h->h_clen > (UINT64_MAX - 10) / 10)
				return from;
			else
				h->h_clen = h->h_clen * 10 + (uint64_t)(ch - '0');
		} else if (h->h_vstate == V_CL_WS) {
			if (ch != ' ')
				return from;
		} else if (h->h_vstate != V_GENERAL)
			h1_token_step(h, ch);
	}
	return p;
}

/*
 * A whole special value b[from - 1, p) the common way: Content-Length
 * digits alone, a Connection or Transfer-Encoding value that is one of
 * its words (then blanks).  True when it took the value as the byte by
 * byte reading would have.
 */
static bool
h1_value_quick(struct http1 *h, const unsigned char *b, uint32_t from,
    uint32_t p)
{
	const char *w;
	uint32_t i, n;

	if (h->h_vstate == V_CL_NUM) {
		if (p - from > 18)
			return false;	/* may be near the bound */
		for (i = from; i < p && b[i] >= '0' && b[i] <= '9'; i++)
			h->h_clen = h->h_clen * 10 + (uint64_t)(b[i] - '0');
		if (i == p)
			return true;
		h->h_clen = (uint64_t)(b[from - 1] - '0');
		return false;
	}
	if (h->h_vstate < V_MATCH || h->h_vstate >= V_DONE)
		return false;
	w = h1_words[h->h_vstate - V_MATCH];
	while (p > from && b[p - 1] == ' ')
		p--;
	n = (uint32_t)strlen(w);
	if (p - from != n - 1)
		return false;
	for (i = 1; i < n; i++)
		if ((b[from + i - 1] | 0x20) != (unsigned char)w[i])
			return false;
	h->h_vstate = (uint8_t)(h->h_vstate - V_MATCH + V_DONE);
	return true;
}

/*
 * The value read so far ends at p: its special reading, count and slice
 * (blanks at its end stay until the line ends).  whole: the line ends
 * at p.
 */
static int
h1_value_flush(struct http1 *h, struct h1_cur *c, uint32_t p, bool whole)
{
	uint32_t from = h->h_flushed == h->h_mark ? h->h_mark + 1 :
	    h->h_flushed;

	if (h->h_vstate != V_NONE && from < p && !(whole &&
	    from == h->h_mark + 1 && h1_value_quick(h, c->c_b, from, p)) &&
	    (from = h1_value_run(h, c->c_b, from, p)) < p)
		return h1_bad(h, c, from, W_CL);
	if (h->h_pflags & (H1_P_TRAILING | H1_P_LEX)) {
		h->h_flushed = p;
		return H1_GO;
	}
	if (!h1_count(h, p - h->h_flushed)) {
		c->c_pos = p;
		return h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
	}
	h->h_flushed = p;
	h->h_hdrs[h->h_nhdrs - 1].h_value.s_off = h->h_mark;
	h->h_hdrs[h->h_nhdrs - 1].h_value.s_len = p - h->h_mark;
	return H1_GO;
}

/*
 * A response's Transfer-Encoding value: is chunked applied, once, last,
 * over all its fields together (RFC 9112 6.1)?  "chunked, chunked"
 * would otherwise be read until close.
 */
static void
h1_te_codings(struct http1 *h, const unsigned char *v, uint32_t len)
{
	uint32_t i = 0, s, e;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (s = i; i < len && v[i] != ','; i++)
			;
		for (e = i; e > s && (v[e - 1] == ' ' || v[e - 1] == '\t');
		    e--)
			;
		if (e == s)
			continue;
		h->h_pflags &= ~H1_P_TE_LAST;
		if (e - s == 7 &&
		    strncasecmp((const char *)v + s, "chunked", 7) == 0) {
			h->h_pflags |= (h->h_pflags & H1_P_TE_ONCE) ?
			    H1_P_TE_TWICE : H1_P_TE_ONCE;
			h->h_pflags |= H1_P_TE_LAST;
		}
	}
}

/* h1_value_end() for a special value, a trailer, or the grammar alone. */
static int
h1_value_end_slow(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	struct http1_slice *v;
	int rc;

	if ((rc = h1_value_flush(h, c, p, true)) != H1_GO)
		return rc;
	if (h->h_vstate >= V_DONE)
		h->h_pflags |= h1_word_flag[h->h_vstate - V_DONE];
	if (h->h_pflags & (H1_P_TRAILING | H1_P_LEX))
		return H1_GO;
	v = &h->h_hdrs[h->h_nhdrs - 1].h_value;
	while (v->s_len > 0 && (c->c_b[v->s_off + v->s_len - 1] == ' ' ||
	    c->c_b[v->s_off + v->s_len - 1] == '\t'))
		v->s_len--;
	if (h->h_hkind == HTTP1_H_TRANSFER_ENCODING &&
	    h->h_type == HTTP1_RESPONSE)
		h1_te_codings(h, c->c_b + v->s_off, v->s_len);
	return H1_GO;
}

/* The value ends at p (CR or LF): flags, the slice without its
 * trailing blanks (its first byte is no blank). */
static inline int
h1_value_end(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	struct http1_hdr *hd;
	uint32_t e;

	if (h->h_vstate != V_NONE || (h->h_pflags & (H1_P_TRAILING |
	    H1_P_LEX)))
		return h1_value_end_slow(h, c, p);
	if (!h1_count(h, p - h->h_flushed)) {
		c->c_pos = p;
		return h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
	}
	for (e = p; c->c_b[e - 1] == ' ' || c->c_b[e - 1] == '\t'; e--)
		;
	hd = &h->h_hdrs[h->h_nhdrs - 1];
	hd->h_value.s_off = h->h_mark;
	hd->h_value.s_len = e - h->h_mark;
	return H1_GO;
}

/* An empty value: the line ends at p already. */
static void
h1_value_empty(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	struct http1_slice *v;

	if (h->h_pflags & H1_P_LEX)
		return;
	if (h->h_hkind == HTTP1_H_CONTENT_LENGTH)
		h->h_pflags |= H1_P_CL_EMPTY;
	if (h->h_pflags & H1_P_TRAILING)
		return;
	/* where the next line starts, as http-parser gave it */
	v = &h->h_hdrs[h->h_nhdrs - 1].h_value;
	v->s_off = p + (c->c_b[p] == '\r' ? 2 : 1);
	v->s_len = 0;
}

/* A field name stopped on something else than ':' at p. */
static int
h1_name_stop(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	h->h_state = H1_S_NAME;
	if (p >= c->c_stop && p < c->c_end)
		return h1_out(h, c, p);		/* the head bound */
	if (!h1_name_flush(h, c, p))
		return HTTP1_ERROR;
	if (p >= c->c_end)
		return h1_out(h, c, p);
	return h1_bad(h, c, p, W_NAME);
}

/* A field value stopped on something else than its line end at p. */
static int
h1_value_stop(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	int rc;

	h->h_state = H1_S_VALUE;
	if (p >= c->c_stop && p < c->c_end)
		return h1_out(h, c, p);		/* the head bound */
	if ((rc = h1_value_flush(h, c, p, false)) != H1_GO)
		return rc;
	if (p >= c->c_end)
		return h1_out(h, c, p);
	return h1_bad(h, c, p, W_VALUE);
}

/* A valid Host value: uri-host [ ":" port ], possibly empty. */
static bool
h1_host_ok(const unsigned char *v, uint32_t len)
{
	return h1_span(v, 0, len, H1_C_HOST) == len;
}

/*
 * Checks over the whole head.  A request has a valid target and at most
 * one Host, a valid one (RFC 9112 3.2: anything else is a 400).  In a
 * response the chunked coding is applied once at most and is the last
 * one (RFC 9112 6.1), over all Transfer-Encoding fields together.  A
 * request's transfer-encoding is judged by the worker's header policy
 * (anything but one "chunked" is a 501 there).
 */
static int
h1_head_check(struct http1 *h, struct h1_cur *c)
{
	const struct http1_slice *v;

	if (h->h_type == HTTP1_RESPONSE) {
		if ((h->h_pflags & H1_P_TE_TWICE) ||
		    (h->h_pflags & (H1_P_TE_ONCE | H1_P_TE_LAST)) ==
		    H1_P_TE_ONCE)
			return h1_fail(h, HTTP1_E_TE,
			    "chunked is not applied once, last");
		return H1_GO;
	}
	if (h->h_pflags & H1_P_BADTARGET)
		return h1_fail(h, HTTP1_E_PROTOCOL, H1_W_TARGET);
	if (h->h_nhost == 0)
		return H1_GO;
	v = &h->h_hdrs[h->h_host].h_value;
	if (!h1_host_ok(c->c_b + v->s_off, v->s_len))
		return h1_fail(h, HTTP1_E_PROTOCOL, "invalid host header");
	if (h->h_nhost > 1)
		return h1_fail(h, HTTP1_E_PROTOCOL,
		    "more than one host header");
	return H1_GO;
}

/*
 * The empty line ends at the LF at p.  The head: pause before the LF
 * (HTTP1_HEAD); 1xx, 204 and 304 have no body whatever their fields say
 * (RFC 9112 6.3), nor has the answer to HEAD.  The trailer section: the
 * message ends with the LF.
 */
static int
h1_head_end(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	uint16_t st = h->h_status;
	int rc;

	c->c_pos = p;
	if (h->h_pflags & H1_P_TRAILING) {
		c->c_pos = p + 1;
		h->h_pflags &= ~H1_P_TRAILING;
		h->h_flags |= HTTP1_F_DONE;
		h->h_state = H1_S_START;
		return HTTP1_DONE;
	}
	h->h_head_end = p + 1;
	h->h_state = H1_S_HEAD_LF;
	if (h->h_pflags & H1_P_LEX)
		return HTTP1_HEAD;
	/* Transfer-Encoding next to Content-Length (RFC 9112 6.1) */
	if ((h->h_pflags & (H1_P_TE | H1_P_LENGTH)) ==
	    (H1_P_TE | H1_P_LENGTH))
		return h1_fail(h, HTTP1_E_PROTOCOL,
		    "unexpected content-length header");
	if ((rc = h1_head_check(h, c)) != H1_GO)
		return rc;
	h->h_flags |= HTTP1_F_HEAD;
	if (h->h_type == HTTP1_RESPONSE && (st / 100 == 1 || st == 204 ||
	    st == 304)) {
		h->h_flags |= HTTP1_F_NOSTATUSBODY;
		h->h_pflags |= H1_P_SKIPBODY;
	} else if (h->h_flags & HTTP1_F_NOBODY)
		h->h_pflags |= H1_P_SKIPBODY;
	return HTTP1_HEAD;
}

/* A field line starts at p with no name: the empty line, or refused. */
static int
h1_line_other(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	unsigned char ch = c->c_b[p];

	if (ch == ' ' || ch == '\t')
		return h1_bad(h, c, p, W_FOLD);
	if (ch != '\r' && (ch != '\n' || (h->h_pflags & H1_P_TRAILING)))
		return h1_bad(h, c, p, W_NAME);
	if (h->h_pflags & H1_P_CL_EMPTY)
		return h1_bad(h, c, p, W_CL);
	if (ch == '\n')
		return h1_head_end(h, c, p);
	c->c_pos = p + 1;
	h->h_state = H1_S_END_LF;
	return H1_GO;
}

/*
 * A whole Connection or Proxy-Connection value v[0, n) that is one of
 * its words, then blanks: its flag (what h1_token_step() would end on).
 */
static bool
h1_conn_quick(struct http1 *h, const unsigned char *v, uint32_t n)
{
	static const uint8_t len[] = { 10, 5, 7 };
	int w;
	uint32_t i;

	while (n > 0 && v[n - 1] == ' ')
		n--;
	if (n == 0 || (w = h1_word_for(HTTP1_H_CONNECTION, v[0] | 0x20)) < 0 ||
	    n != len[w])
		return false;
	for (i = 1; i < n; i++)
		if ((v[i] | 0x20) != (unsigned char)h1_words[w][i])
			return false;
	h->h_pflags |= h1_word_flag[w];
	return true;
}

/*
 * A special value v[0, n) of field kind k, whole, the common way:
 * Content-Length digits alone (the first one), a Connection word.
 * False: read it the general way.
 */
static bool
h1_special_quick(struct http1 *h, uint8_t k, const unsigned char *v,
    uint32_t n)
{
	uint64_t cl = 0;
	uint32_t i;

	if (k == HTTP1_H_CONNECTION || k == HTTP1_H_PROXY_CONNECTION)
		return h1_conn_quick(h, v, n);
	if (k != HTTP1_H_CONTENT_LENGTH || n > 19 ||
	    (h->h_pflags & H1_P_LENGTH))
		return false;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		cl = cl * 10 + (uint64_t)(v[i] - '0');
	}
	h->h_pflags |= H1_P_LENGTH;
	h->h_clen = cl;
	return true;
}

/* The kinds whose values the parser reads (h1_value_start()). */
#define H1_K_SPECIAL	(1u << HTTP1_H_CONTENT_LENGTH | \
			 1u << HTTP1_H_CONNECTION | \
			 1u << HTTP1_H_PROXY_CONNECTION | \
			 1u << HTTP1_H_UPGRADE | \
			 1u << HTTP1_H_TRANSFER_ENCODING)

/*
 * Whole field lines from p the common way, as many as there are: each
 * a token character first, name, ':', blanks, a value, CRLF or LF, all
 * before c_stop, within the limits, nothing to refuse, no special
 * reading past h1_special_quick().  Returns where the first line it did
 * not take starts (p when none): the general states read that one.
 * The counts live in locals while it runs, so the entries it writes do
 * not make the compiler load them again.
 */
static uint32_t
h1_lines_fast(struct http1 *h, const struct h1_cur *c, uint32_t p)
{
	const unsigned char *b = c->c_b;
	const uint32_t stop = c->c_stop, limit = h->h_hdr_limit;
	const uint16_t maxh = h->h_maxhdrs;
	struct http1_hdr *const hdrs = h->h_hdrs;
	uint32_t n1, v0, v1, e, next, nbytes = h->h_hdr_bytes;
	uint16_t nh = h->h_nhdrs;
	struct http1_hdr *hd;
	uint8_t k;

	for (; p < stop && h1_is(b[p], H1_C_TCHAR); p = next) {
		n1 = h1_span_token(b, p + 1, stop);
		if (n1 + 2 >= stop || b[n1] != ':')
			break;
		v0 = n1 + 1;
		if (b[v0] != ' ' || !h1_is(b[v0 + 1], H1_C_VCHAR)) {
			/* other than the usual single SP */
			while (v0 < stop && (b[v0] == ' ' || b[v0] == '\t'))
				v0++;
			if (v0 >= stop || !h1_is(b[v0], H1_C_VALUE))
				break;	/* an empty value, or a refusal */
		} else
			v0++;
		v1 = h1_span_value(b, v0 + 1, stop);
		if (v1 >= stop)
			break;
		if (b[v1] == '\n')
			next = v1 + 1;
		else if (b[v1] == '\r' && v1 + 1 < stop && b[v1 + 1] == '\n')
			next = v1 + 2;
		else
			break;
		if (nh == maxh || nbytes + (n1 - p) + (v1 - v0) > limit)
			break;
		k = (uint8_t)http1_hdr_kind((const char *)b + p, n1 - p);
		if (((1u << k) & H1_K_SPECIAL) &&
		    !h1_special_quick(h, k, b + v0, v1 - v0))
			break;
		for (e = v1; b[e - 1] == ' ' || b[e - 1] == '\t'; e--)
			;
		hd = &hdrs[nh];
		hd->h_name.s_off = p;
		hd->h_name.s_len = n1 - p;
		hd->h_value.s_off = v0;
		hd->h_value.s_len = e - v0;
		hd->h_kind = k;
		nbytes += (n1 - p) + (v1 - v0);
		if (k == HTTP1_H_HOST && h->h_nhost++ == 0)
			h->h_host = nh;
		nh++;
	}
	h->h_hdr_bytes = nbytes;
	h->h_nhdrs = nh;
	return p;
}

/*
 * Field lines up to the empty line: one pass from any state, the common
 * line (name, ':', blanks, value, line end) straight through.
 */
int
h1_fields(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b;
	uint32_t p = c->c_pos;
	int rc;

	switch (h->h_state) {
	case H1_S_FIELD:
field:
		h->h_state = H1_S_FIELD;
		if (!(h->h_pflags & (H1_P_CL_EMPTY | H1_P_TRAILING | H1_P_LEX)))
			p = h1_lines_fast(h, c, p);
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (!h1_is(b[p], H1_C_TCHAR))
			return h1_line_other(h, c, p);
		if (h->h_pflags & H1_P_CL_EMPTY)
			return h1_bad(h, c, p, W_CL);
		h->h_mark = h->h_flushed = p++;
		/* FALLTHROUGH */
	case H1_S_NAME:
		p = h1_span_token(b, p, c->c_stop);
		if (p >= c->c_stop || b[p] != ':')
			return h1_name_stop(h, c, p);
		if ((rc = h1_name_end(h, c, p)) != H1_GO)
			return rc;
		p++;
		/* FALLTHROUGH */
	case H1_S_OWS:
		if (p < c->c_stop && b[p] == ' ')
			p++;	/* the usual one */
		while (p < c->c_stop && (b[p] == ' ' || b[p] == '\t'))
			p++;
		h->h_state = H1_S_OWS;
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (!h1_is(b[p], H1_C_VALUE)) {
			if ((b[p] != '\r' && b[p] != '\n') || (b[p] == '\n' &&
			    (h->h_pflags & H1_P_TRAILING)))
				return h1_bad(h, c, p, W_VALUE);
			h1_value_empty(h, c, p);
			if (b[p++] == '\n')
				goto field;
			goto value_lf;
		}
		if ((rc = h1_value_start(h, c, p)) != H1_GO)
			return rc;
		p++;
		/* FALLTHROUGH */
	case H1_S_VALUE:
		p = h1_span_value(b, p, c->c_stop);
		if (p >= c->c_stop || (b[p] != '\r' && (b[p] != '\n' ||
		    (h->h_pflags & H1_P_TRAILING))))
			return h1_value_stop(h, c, p);
		if ((rc = h1_value_end(h, c, p)) != H1_GO)
			return rc;
		if (b[p++] == '\n')
			goto field;
		/* FALLTHROUGH */
	case H1_S_VALUE_LF:
value_lf:
		h->h_state = H1_S_VALUE_LF;
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (b[p] != '\n')
			return h1_bad(h, c, p, H1_W_CRLF);
		p++;
		goto field;
	default:	/* H1_S_END_LF */
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (b[p] != '\n')
			return h1_bad(h, c, p, H1_W_CRLF);
		return h1_head_end(h, c, p);
	}
}
