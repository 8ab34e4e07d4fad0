/*
 * HTTP/1 parser, the body (see http1.h): from the head's last LF to the
 * end of the message.  A body is framed by Content-Length, by the
 * chunked coding, or by the end of the stream (a response only; see
 * http1_eof()); the decision is http-parser's, kept as it was.
 *
 * The chunked framing is strict (RFC 9112 7.1): chunk-size is 1 to 16 hex
 * digits, below 0xfffffffffffffff0; then optional blanks (SP first) and extensions that start with
 * ';' and hold no control byte; lines end in CRLF exactly; data is
 * followed by CRLF exactly; the trailer section is field lines without
 * control bytes, none starting with a blank (obs-fold), up to an empty
 * line, read by http1_head.c.  A chunk-size line and the trailer section
 * each count toward the head bound.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1-int.h"
#include "http1.h"
#include "text.h"

#define W_CHUNK		"invalid chunked framing"
#define W_CHUNK_SIZE	"invalid character in chunk size header"

/* n body bytes at off: counted, and recorded in collect mode.  True
 * when the slice array is full (the feed stops there). */
static bool
h1_body_bytes(struct http1 *h, uint32_t off, uint32_t n)
{
	struct http1_slice *s;

	h->h_body_bytes += n;
	if (!(h->h_flags & HTTP1_F_COLLECT) || n == 0)
		return false;
	if (h->h_nbody > 0) {
		s = &h->h_body[h->h_nbody - 1];
		if (s->s_off + s->s_len == off) {
			s->s_len += n;
			return false;
		}
	}
	s = &h->h_body[h->h_nbody++];
	s->s_off = off;
	s->s_len = n;
	return h->h_nbody == HTTP1_MAXBODY;
}

/* The message ends at c_pos. */
static int
h1_done(struct http1 *h)
{
	h->h_flags |= HTTP1_F_DONE;
	h->h_state = H1_S_START;
	return HTTP1_DONE;
}

/* Is the request an upgrade, or CONNECT: is the rest another protocol? */
static bool
h1_upgrading(const struct http1 *h)
{
	if ((h->h_pflags & (H1_P_UPGRADE | H1_P_CONN_UPGRADE)) ==
	    (H1_P_UPGRADE | H1_P_CONN_UPGRADE))
		return h->h_type == HTTP1_REQUEST || h->h_status == 101;
	return h->h_method == H1_M_CONNECT && h->h_type == HTTP1_REQUEST;
}

/*
 * The head's last LF, which HTTP1_HEAD left unread (it counts toward the
 * head bound a second time, as it did), then the body's framing.
 */
static int
h1_body_start(struct http1 *h, struct h1_cur *c)
{
	bool check = (h->h_pflags & H1_P_CHUNKED) &&
	    !(h->h_flags & (HTTP1_F_NOBODY | HTTP1_F_NOSTATUSBODY));
	bool has_body;

	if (c->c_pos >= c->c_stop) {
		if (c->c_pos < c->c_end)
			return h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
		return HTTP1_MORE;
	}
	if (check && c->c_b[c->c_pos] != '\n')
		return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
	c->c_pos++;
	h->h_nread = 0;
	has_body = (h->h_pflags & H1_P_CHUNKED) || (h->h_clen > 0 &&
	    h->h_clen != H1_NO_LENGTH);
	if (h1_upgrading(h) && (h->h_method == H1_M_CONNECT ||
	    (h->h_pflags & H1_P_SKIPBODY) || !has_body)) {
		/* CONNECT with chunked: the framing never ended */
		if (check)
			return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
		h1_count_from(c, 0);
		return h1_done(h);
	}
	if (h->h_pflags & H1_P_SKIPBODY) {
		h1_count_from(c, 0);
		return h1_done(h);
	}
	if (h->h_pflags & H1_P_CHUNKED) {
		h->h_state = H1_S_CK_SIZE0;
		h1_count_from(c, 0);
		return H1_GO;
	}
	if (h->h_pflags & H1_P_TE) {
		/* not chunked last: a request cannot be framed (RFC 9112
		 * 6.3), a response runs until close */
		if (h->h_type == HTTP1_REQUEST) {
			c->c_pos--;
			return h1_fail(h, HTTP1_E_TE, NULL);
		}
		h->h_state = H1_S_BODY_EOF;
	} else if (h->h_clen != H1_NO_LENGTH && h->h_clen > 0)
		h->h_state = H1_S_BODY_LEN;
	else if (h->h_clen == 0 || h->h_type == HTTP1_REQUEST) {
		h1_count_from(c, 0);
		return h1_done(h);
	} else
		h->h_state = H1_S_BODY_EOF;
	c->c_stop = c->c_end;
	return H1_GO;
}

/* Body bytes up to h_clen (BODY_LEN, CK_DATA) or the end of the feed. */
static int
h1_body_data(struct http1 *h, struct h1_cur *c)
{
	uint32_t n = c->c_end - c->c_pos;
	bool full;

	if (h->h_state != H1_S_BODY_EOF && n > h->h_clen)
		n = (uint32_t)h->h_clen;
	full = h1_body_bytes(h, c->c_pos, n);
	c->c_pos += n;
	if (h->h_state == H1_S_BODY_EOF)
		return full ? HTTP1_BODY : HTTP1_MORE;
	h->h_clen -= n;
	if (h->h_clen > 0)
		return full ? HTTP1_BODY : HTTP1_MORE;
	if (h->h_state == H1_S_BODY_LEN) {
		h1_count_from(c, 0);
		return h1_done(h);
	}
	h->h_state = H1_S_CK_DATA_CR;
	if (!full)
		return H1_GO;
	/* the slice array is full: stop after the CR, as before */
	if (c->c_pos == c->c_end)
		return HTTP1_BODY;
	if (c->c_b[c->c_pos] != '\r')
		return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
	c->c_pos++;
	h->h_state = H1_S_CK_DATA_LF;
	return HTTP1_BODY;
}

/* One byte of a chunk-size line: H1_GO, or the error. */
static int
h1_chunk_size(struct http1 *h, unsigned char ch)
{
	int d;

	switch (h->h_state) {
	case H1_S_CK_SIZE0:
	case H1_S_CK_SIZE:
		if ((d = text_hexval(ch)) >= 0) {
			if (h->h_state == H1_S_CK_SIZE0) {
				h->h_clen = 0;
				h->h_idx = 0;
				h->h_state = H1_S_CK_SIZE;
			}
			/* 16 digits at most, and http-parser's bound on
			 * the value: no size from 0xfffffffffffffff0 on */
			if (++h->h_idx > 16 ||
			    h->h_clen > (UINT64_MAX - 16) / 16)
				return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
			h->h_clen = h->h_clen * 16 + (uint64_t)d;
			return H1_GO;
		}
		if (h->h_state == H1_S_CK_SIZE0 || (ch != '\r' && ch != ';' &&
		    ch != ' '))
			return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK_SIZE);
		/* FALLTHROUGH */
	case H1_S_CK_BWS:
		if (ch == ';')
			h->h_state = H1_S_CK_EXT;
		else if (ch == '\r')
			h->h_state = H1_S_CK_SIZE_LF;
		else if (ch == ' ' || ch == '\t')
			h->h_state = H1_S_CK_BWS;
		else
			return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
		return H1_GO;
	case H1_S_CK_EXT:
		if (ch == '\r')
			h->h_state = H1_S_CK_SIZE_LF;
		else if (!(h1_cls[ch] & H1_C_VALUE))
			return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
		return H1_GO;
	}
	return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
}

/*
 * The framing around chunk data: size lines (counted toward the head
 * bound, each from its first byte), the CRLF after data.
 */
static int
h1_chunk_line(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b;
	uint32_t p = c->c_pos;
	int rc;

	for (;; p++) {
		if (p >= c->c_stop) {
			c->c_pos = p;
			if (p < c->c_end)
				return h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
			return HTTP1_MORE;
		}
		c->c_pos = p;
		switch (h->h_state) {
		case H1_S_CK_DATA_CR:
			if (b[p] != '\r')
				return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
			h->h_state = H1_S_CK_DATA_LF;
			continue;
		case H1_S_CK_DATA_LF:
			if (b[p] != '\n')
				return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
			c->c_pos = p + 1;
			h->h_state = H1_S_CK_SIZE0;
			h1_count_from(c, 0);
			return H1_GO;
		case H1_S_CK_SIZE_LF:
			if (b[p] != '\n')
				return h1_fail(h, HTTP1_E_PROTOCOL, W_CHUNK);
			c->c_pos = p + 1;
			if (h->h_clen > 0) {
				h->h_state = H1_S_CK_DATA;
				c->c_stop = c->c_end;
				return H1_GO;
			}
			h->h_pflags |= H1_P_TRAILING;
			h->h_state = H1_S_FIELD;
			h1_count_from(c, 0);
			return H1_GO;
		}
		if ((rc = h1_chunk_size(h, b[p])) != H1_GO)
			return rc;
	}
}

int
h1_body(struct http1 *h, struct h1_cur *c)
{
	switch (h->h_state) {
	case H1_S_HEAD_LF:
		return h1_body_start(h, c);
	case H1_S_BODY_LEN:
	case H1_S_BODY_EOF:
	case H1_S_CK_DATA:
		if (c->c_pos == c->c_end)
			return HTTP1_MORE;
		return h1_body_data(h, c);
	default:
		return h1_chunk_line(h, c);
	}
}
