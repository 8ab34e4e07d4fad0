/*
 * HTTP/1 parser, the start line (see http1.h): blank lines before a
 * message, then the request-line or the status-line, each byte looked
 * at once; http1_field.c reads the field lines after it.  Each state
 * has a tight loop over its byte class; where a run ends (on its
 * delimiter, on a byte the grammar refuses, at the end of the feed or at
 * the head bound) what it read is, in this order, checked for meaning
 * (method table, target form), counted against the caller's limits and
 * recorded as a slice.  That order is the one the proxy had when a scan
 * checked the bytes and http-parser parsed them: a refusal for meaning
 * comes before the count, a refusal of the byte itself after it.  A
 * line that is all there and plain is read at once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http1-int.h"
#include "http1.h"

#define W_METHOD	"invalid method"
#define W_URL		"invalid URL"
#define W_VERSION	"invalid HTTP version"
#define W_STATUS	"invalid status line"

/* h_url_state: the request target grammar (http-parser's, which the
 * proxy kept): origin-form and asterisk are one state. */
enum h1_url {
	U_PATH,		/* path, query, fragment: any target byte */
	U_SCHEMA,	/* absolute-form: letters up to ':' */
	U_SCHEMA_SLASH,
	U_SCHEMA_SLASH2,
	U_SERVER_START,	/* authority (CONNECT's whole target) */
	U_SERVER,
	U_SERVER_AT,	/* just after '@' */
	U_DEAD,
};
/* A message starts at c_pos: forget the last one. */
static void
h1_begin(struct http1 *h)
{
	h->h_pflags &= H1_P_LEX;
	h->h_clen = H1_NO_LENGTH;
	h->h_nhdrs = 0;
	h->h_hdr_bytes = 0;
	h->h_url.s_off = h->h_url.s_len = 0;
	h->h_reason.s_off = h->h_reason.s_len = 0;
	h->h_head_end = 0;
	h->h_nhost = 0;
	h->h_idx = 0;
}

/* The first byte of a message was read. */
static void
h1_begun(struct http1 *h)
{
	h->h_flags = (h->h_flags & (HTTP1_F_NOBODY | HTTP1_F_COLLECT)) |
	    HTTP1_F_BEGUN;
}

/* Blank lines before a message; H1_GO with c_pos on its first byte. */
static int
h1_blank(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b;
	uint32_t p = c->c_pos;

	for (;; p++) {
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (h->h_state == H1_S_START_LF) {
			if (b[p] != '\n')
				return h1_bad(h, c, p, H1_W_CRLF);
			h->h_state = H1_S_START;
		} else if (b[p] == '\r')
			h->h_state = H1_S_START_LF;
		else if (b[p] != '\n')
			break;
	}
	c->c_pos = p;
	h1_begin(h);
	return H1_GO;
}

/*
 * The method, from h_mark: one of the table's, then SP.  A byte that
 * makes it no method's beginning is refused where it stands, and the
 * message has begun once its first byte begins some method.
 */
static int
h1_method(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b, *m = b + h->h_mark;
	uint32_t p = c->c_pos;
	size_t n, v;
	int k;

	p = h1_span(b, p, c->c_stop, H1_C_TCHAR);
	n = p - h->h_mark;
	if (h->h_pflags & H1_P_LEX)
		v = n;
	else if (p < c->c_stop && b[p] == ' ' &&
	    (k = h1_method_find(m, n)) >= 0) {
		h->h_method = (uint8_t)k;
		h1_begun(h);
		v = n;
	} else {
		if ((v = h1_method_prefix(m, n)) > 0)
			h1_begun(h);
		if (v < n || (p < c->c_stop && b[p] == ' '))
			return h1_bad(h, c, h->h_mark + (uint32_t)v,
			    "invalid HTTP method");
	}
	if (p >= c->c_stop)
		return h1_out(h, c, p);
	if (b[p] != ' ' || n == 0)
		return h1_bad(h, c, p, W_METHOD);
	c->c_pos = p + 1;
	h->h_state = H1_S_TARGET0;
	return H1_GO;
}

/* One byte of an absolute-form or authority target: the next state. */
static uint8_t
h1_url_step(uint8_t st, unsigned char ch)
{
	switch (st) {
	case U_SCHEMA:
		if (h1_is(ch, H1_C_ALPHA))
			return U_SCHEMA;
		return ch == ':' ? U_SCHEMA_SLASH : U_DEAD;
	case U_SCHEMA_SLASH:
		return ch == '/' ? U_SCHEMA_SLASH2 : U_DEAD;
	case U_SCHEMA_SLASH2:
		return ch == '/' ? U_SERVER_START : U_DEAD;
	case U_SERVER_AT:
		if (ch == '@')
			return U_DEAD;
		/* FALLTHROUGH */
	case U_SERVER_START:
	case U_SERVER:
		if (ch == '/' || ch == '?')
			return U_PATH;
		if (ch == '@')
			return U_SERVER_AT;
		return h1_is(ch, H1_C_HOST) ? U_SERVER : U_DEAD;
	}
	return st;
}

/* Target bytes [h_flushed, p) after the first: the first one the
 * target grammar refuses, or p. */
static uint32_t
h1_url_check(struct http1 *h, const unsigned char *b, uint32_t p)
{
	uint32_t i = h->h_flushed;

	if (h->h_url_state == U_PATH || (h->h_pflags & H1_P_LEX))
		return p;
	if (i == h->h_mark)
		i++;
	for (; i < p; i++)
		if ((h->h_url_state = h1_url_step(h->h_url_state, b[i])) ==
		    U_DEAD)
			return i;
	return p;
}

/*
 * An absolute-form "http://" target names the host itself: its
 * authority must be a valid host, with no userinfo (RFC 9110 4.2.4).
 */
static bool
h1_authority_ok(const unsigned char *t, uint32_t len)
{
	static const char http[] = "http://";
	uint32_t a;

	for (a = 0; a < 7; a++)
		if (a >= len || (t[a] | 0x20) != (unsigned char)http[a])
			return true;
	for (a = 7; a < len && t[a] != '/' && t[a] != '?'; a++)
		if (!h1_is(t[a], H1_C_HOST))
			return false;
	return true;
}

/* Count and record the target read so far (up to p). */
static int
h1_target_flush(struct http1 *h, struct h1_cur *c, uint32_t p)
{
	if (h->h_pflags & H1_P_LEX)
		return H1_GO;
	if (!h1_count(h, p - h->h_flushed)) {
		c->c_pos = p;
		return h1_fail(h, HTTP1_E_TOO_LARGE, NULL);
	}
	h->h_flushed = p;
	h->h_url.s_off = h->h_mark;
	h->h_url.s_len = p - h->h_mark;
	return H1_GO;
}

/* The first byte of the target: its form. */
static int
h1_target0(struct http1 *h, struct h1_cur *c)
{
	unsigned char ch = c->c_b[c->c_pos];

	if (!h1_is(ch, H1_C_TARGET) && ch != '#')
		return h1_bad(h, c, c->c_pos, H1_W_TARGET);
	h->h_mark = h->h_flushed = c->c_pos;
	h->h_url_state = U_PATH;
	if (h->h_method == H1_M_CONNECT)
		h->h_url_state = h1_url_step(U_SERVER_START, ch);
	else if (h1_is(ch, H1_C_ALPHA))
		h->h_url_state = U_SCHEMA;
	else if (ch != '/' && ch != '*')
		h->h_url_state = U_DEAD;
	if (h->h_url_state == U_DEAD && !(h->h_pflags & H1_P_LEX))
		return h1_bad(h, c, c->c_pos, W_URL);
	if (ch == '#')
		h->h_pflags |= H1_P_BADTARGET;
	c->c_pos++;
	h->h_state = H1_S_TARGET;
	return H1_GO;
}

/* The request target, up to SP. */
static int
h1_target(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b;
	uint32_t p = c->c_pos, bad;
	int rc;

	if (h->h_state == H1_S_TARGET0) {
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if ((rc = h1_target0(h, c)) != H1_GO)
			return rc;
		p = c->c_pos;
	}
	for (;;) {
		p = h1_span(b, p, c->c_stop, H1_C_TARGET);
		if (p >= c->c_stop || b[p] != '#')
			break;
		h->h_pflags |= H1_P_BADTARGET;	/* no fragment (RFC 9112 3.2) */
		p++;
	}
	/* the grammar first, then the count, then the byte itself */
	if ((bad = h1_url_check(h, b, p)) < p)
		return h1_bad(h, c, bad, W_URL);
	if (p >= c->c_stop && p < c->c_end)
		return h1_out(h, c, p);		/* the head bound */
	if (p < c->c_end && b[p] == ' ' && h->h_url_state != U_PATH &&
	    h->h_url_state != U_SERVER && h->h_url_state != U_SERVER_AT &&
	    !(h->h_pflags & H1_P_LEX))
		return h1_bad(h, c, p, W_URL);
	if ((rc = h1_target_flush(h, c, p)) != H1_GO)
		return rc;
	if (p >= c->c_end)
		return h1_out(h, c, p);
	if (b[p] != ' ')
		return h1_bad(h, c, p, H1_W_TARGET);
	if (!h1_authority_ok(b + h->h_mark, p - h->h_mark))
		h->h_pflags |= H1_P_BADTARGET;
	c->c_pos = p + 1;
	h->h_state = H1_S_VERSION;
	h->h_idx = 0;
	return H1_GO;
}

static inline bool
h1_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/*
 * "HTTP/" DIGIT "." DIGIT, and SP in a status line; h_idx bytes of it
 * seen so far.  All of it at once when the bytes are there and right;
 * else byte by byte, to refuse the first wrong one.
 */
static int
h1_version(struct http1 *h, struct h1_cur *c)
{
	static const char pat[] = "HTTP/d.d ";
	const unsigned char *b = c->c_b, *v;
	uint32_t p = c->c_pos;
	uint8_t want = h->h_type == HTTP1_RESPONSE ? 9 : 8;
	unsigned char ch;

	v = b + p;
	if (h->h_idx == 0 && c->c_stop - p >= want &&
	    memcmp(v, "HTTP/", 5) == 0 && h1_digit(v[5]) && v[6] == '.' &&
	    h1_digit(v[7]) && (want == 8 || v[8] == ' ')) {
		h->h_major = (uint8_t)(v[5] - '0');
		h->h_minor = (uint8_t)(v[7] - '0');
		h->h_idx = want;
		p += want;
		if (h->h_type == HTTP1_RESPONSE)
			h1_begun(h);
	}
	for (; h->h_idx < want; h->h_idx++, p++) {
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		ch = b[p];
		if (pat[h->h_idx] != 'd' ? ch != (unsigned char)pat[h->h_idx] :
		    !h1_digit(ch))
			return h1_bad(h, c, p, W_VERSION);
		if (h->h_idx == 0 && h->h_type == HTTP1_RESPONSE)
			h1_begun(h);	/* 'H' begins a response */
		else if (h->h_idx == 5)
			h->h_major = (uint8_t)(ch - '0');
		else if (h->h_idx == 7)
			h->h_minor = (uint8_t)(ch - '0');
	}
	c->c_pos = p;
	h->h_idx = 0;
	h->h_state = h->h_type == HTTP1_RESPONSE ? H1_S_STATUS :
	    H1_S_LINE_END;
	return H1_GO;
}

/* The status code, then SP and the reason phrase up to the line end. */
static int
h1_status(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b;
	uint32_t p = c->c_pos;

	for (; h->h_state == H1_S_STATUS; p++) {
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (b[p] < '0' || b[p] > '9')
			return h1_bad(h, c, p, W_STATUS);
		h->h_status = (uint16_t)(h->h_status * 10 + (b[p] - '0'));
		if (++h->h_idx == 3)
			h->h_state = H1_S_STATUS_END;
	}
	if (h->h_state == H1_S_STATUS_END) {
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (b[p] == ' ')
			p++;
		else if (b[p] != '\r' && b[p] != '\n')
			return h1_bad(h, c, p, W_STATUS);
		h->h_mark = p;
		h->h_state = H1_S_REASON;
	}
	p = h1_span_value(b, p, c->c_stop);
	if (p < c->c_end || h->h_mark < p) {
		h->h_reason.s_off = h->h_mark;
		h->h_reason.s_len = p - h->h_mark;
	}
	if (p >= c->c_stop)
		return h1_out(h, c, p);
	if (b[p] != '\r' && b[p] != '\n')
		return h1_bad(h, c, p, W_STATUS);
	c->c_pos = p + 1;
	h->h_state = b[p] == '\r' ? H1_S_LINE_LF : H1_S_FIELD;
	return H1_GO;
}

/* The line end at b[p] (CRLF or LF, before stop): the next line's
 * start, or 0. */
static inline uint32_t
h1_eol(const unsigned char *b, uint32_t p, uint32_t stop)
{
	if (p < stop && b[p] == '\n')
		return p + 1;
	if (p + 1 < stop && b[p] == '\r' && b[p + 1] == '\n')
		return p + 2;
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT at v (8 bytes there). */
static inline bool
h1_is_version(const unsigned char *v)
{
	return memcmp(v, "HTTP/", 5) == 0 && h1_digit(v[5]) && v[6] == '.' &&
	    h1_digit(v[7]);
}

/*
 * The request-line from p at once, the common way: a method of the
 * table, SP, an origin-form target without '#', SP, the version and
 * the line end, all before c_stop and within the limit.  Returns where
 * the fields start, or 0 with nothing changed (the states read it).
 */
static uint32_t
h1_request_fast(struct http1 *h, const struct h1_cur *c, uint32_t p)
{
	const unsigned char *b = c->c_b;
	uint32_t stop = c->c_stop, m1, t1, next;
	int k;

	m1 = h1_span(b, p, stop, H1_C_TCHAR);
	if (m1 + 1 >= stop || b[m1] != ' ' || b[m1 + 1] != '/' ||
	    (k = h1_method_find(b + p, m1 - p)) < 0 || k == H1_M_CONNECT)
		return 0;
	t1 = h1_span(b, m1 + 2, stop, H1_C_TARGET);
	if (stop - t1 < 10 || b[t1] != ' ' || !h1_is_version(b + t1 + 1) ||
	    (next = h1_eol(b, t1 + 9, stop)) == 0 ||
	    h->h_hdr_bytes + (t1 - m1 - 1) > h->h_hdr_limit)
		return 0;
	h1_begun(h);
	h->h_method = (uint8_t)k;
	h->h_hdr_bytes += t1 - m1 - 1;
	h->h_url.s_off = m1 + 1;
	h->h_url.s_len = t1 - m1 - 1;
	h->h_major = (uint8_t)(b[t1 + 6] - '0');
	h->h_minor = (uint8_t)(b[t1 + 8] - '0');
	return next;
}

/*
 * The status-line from p at once: the version, SP, three digits, then
 * SP and a reason or the line end, all before c_stop.  Returns where the
 * fields start, or 0 with nothing changed.
 */
static uint32_t
h1_status_fast(struct http1 *h, const struct h1_cur *c, uint32_t p)
{
	const unsigned char *b = c->c_b;
	uint32_t stop = c->c_stop, r0, r1, next;

	if (stop - p < 13 || !h1_is_version(b + p) || b[p + 8] != ' ' ||
	    !h1_digit(b[p + 9]) || !h1_digit(b[p + 10]) ||
	    !h1_digit(b[p + 11]))
		return 0;
	r0 = r1 = p + 12;
	if (b[r0] == ' ')
		r1 = h1_span_value(b, ++r0, stop);
	if ((next = h1_eol(b, r1, stop)) == 0)
		return 0;
	h1_begun(h);
	h->h_major = (uint8_t)(b[p + 5] - '0');
	h->h_minor = (uint8_t)(b[p + 7] - '0');
	h->h_status = (uint16_t)((b[p + 9] - '0') * 100 +
	    (b[p + 10] - '0') * 10 + (b[p + 11] - '0'));
	h->h_reason.s_off = r0;
	h->h_reason.s_len = r1 - r0;
	return next;
}

/* The start line; H1_GO once the fields begin. */
static int
h1_start_line(struct http1 *h, struct h1_cur *c)
{
	const unsigned char *b = c->c_b;
	uint32_t p = c->c_pos, q;
	int rc;

	switch (h->h_state) {
	case H1_S_START:
	case H1_S_START_LF:
		if ((rc = h1_blank(h, c)) != H1_GO)
			return rc;
		if (!(h->h_pflags & H1_P_LEX) &&
		    (q = h->h_type == HTTP1_RESPONSE ?
		    h1_status_fast(h, c, c->c_pos) :
		    h1_request_fast(h, c, c->c_pos)) != 0) {
			c->c_pos = q;
			h->h_state = H1_S_FIELD;
			return H1_GO;
		}
		if (h->h_type == HTTP1_RESPONSE) {
			h->h_status = 0;
			h->h_state = H1_S_VERSION;
			return H1_GO;
		}
		h->h_mark = c->c_pos;
		h->h_state = H1_S_METHOD;
		/* FALLTHROUGH */
	case H1_S_METHOD:
		return h1_method(h, c);
	case H1_S_TARGET0:
	case H1_S_TARGET:
		return h1_target(h, c);
	case H1_S_VERSION:
		return h1_version(h, c);
	case H1_S_STATUS:
	case H1_S_STATUS_END:
	case H1_S_REASON:
		return h1_status(h, c);
	case H1_S_LINE_END:
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (b[p] != '\r' && b[p] != '\n')
			return h1_bad(h, c, p, W_VERSION);
		h->h_state = b[p] == '\r' ? H1_S_LINE_LF : H1_S_FIELD;
		c->c_pos = p + 1;
		return H1_GO;
	default:	/* H1_S_LINE_LF */
		if (p >= c->c_stop)
			return h1_out(h, c, p);
		if (b[p] != '\n')
			return h1_bad(h, c, p, H1_W_CRLF);
		h->h_state = H1_S_FIELD;
		c->c_pos = p + 1;
		return H1_GO;
	}
}

int
h1_head(struct http1 *h, struct h1_cur *c)
{
	int rc;

	while (h->h_state < H1_S_FIELD)
		if ((rc = h1_start_line(h, c)) != H1_GO)
			return rc;
	return h1_fields(h, c);
}
