/*
 * HTTP/1.x parsing for the whole binary (worker data plane, admin
 * server, health checker): a thin wrapper over nodejs http-parser
 * (shared/http1.c is the only file that includes <http_parser.h>, so a
 * parser swap touches one module).
 *
 * The caller owns the bytes: it feeds [off, off + len) of a buffer and the
 * callbacks only record (offset, length) slices into it, never copies.
 * Slices stay valid while the buffer keeps its offsets (a buffer may be
 * copied to a larger one at the same offsets).  The parser stops (pauses)
 * at the end of the head and at the end of the message, so the caller can
 * route, and never reads into a pipelined next request.
 */
#ifndef CANARYD_SHARED_HTTP1_H
#define CANARYD_SHARED_HTTP1_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http1_slice {
	uint32_t	 s_off;
	uint32_t	 s_len;
};

/* One header line: name and value slices (value without surrounding
 * blanks), and the class the caller gives it (e.g. WRK_H_*, worker/hdr.h). */
struct http1_hdr {
	struct http1_slice h_name;
	struct http1_slice h_value;
	uint32_t	 h_kind;
};

enum http1_kind {
	HTTP1_REQUEST,
	HTTP1_RESPONSE,
};

/* What http1_feed() stopped on. */
enum http1_ev {
	HTTP1_MORE,		/* everything consumed, need more bytes */
	HTTP1_HEAD,		/* end of the head; h_head_end is set */
	HTTP1_BODY,		/* collect mode: body slice array is full */
	HTTP1_DONE,		/* end of the message (last byte consumed) */
	HTTP1_ERROR,	/* h_err says why */
};

enum http1_err {
	HTTP1_E_NONE,
	HTTP1_E_PROTOCOL,	/* malformed message */
	HTTP1_E_TOO_MANY,	/* more headers than allowed */
	HTTP1_E_TOO_LARGE,	/* header bytes over the limit */
	HTTP1_E_TE,		/* transfer-encoding other than chunked */
	HTTP1_E_EOF,	/* stream ended inside a message */
};

#define HTTP1_MAXBODY	8	/* body slices per feed in collect mode */

/* h_flags */
#define HTTP1_F_BEGUN	0x01	/* first byte of a message seen */
#define HTTP1_F_HEAD	0x02	/* head complete */
#define HTTP1_F_DONE	0x04	/* message complete */
#define HTTP1_F_NOBODY	0x08	/* response to HEAD: no body */
#define HTTP1_F_COLLECT	0x10	/* record body slices (de-chunking) */
#define HTTP1_F_NOSTATUSBODY 0x20	/* 1xx, 204, 304: no body */

struct http1 {
	alignas(8) unsigned char h_parser[32];	/* http_parser, opaque here */
	const char	*h_base;	/* buffer of the current feed */
	struct http1_hdr	*h_hdrs;	/* caller's array */
	uint16_t	 h_maxhdrs;
	uint16_t	 h_nhdrs;
	uint32_t	 h_hdr_bytes;	/* target, names, values so far */
	uint32_t	 h_hdr_limit;
	struct http1_slice h_url;		/* request target */
	struct http1_slice h_reason;	/* response reason phrase */
	uint32_t	 h_head_end;	/* offset of the first body byte */
	uint8_t		 h_flags;	/* HTTP1_F_* */
	uint8_t		 h_last;	/* last data callback, for continuations */
	uint8_t		 h_err;		/* enum http1_err */
	uint8_t		 h_nbody;
	struct http1_slice h_body[HTTP1_MAXBODY];	/* collect mode */
	uint64_t	 h_body_bytes;	/* body bytes parsed (de-chunked) */
	uint64_t	 h_ck_left;	/* chunk data bytes still to come */
	uint8_t		 h_ck_state;	/* strict chunked framing check */
	uint8_t		 h_ck_digits;	/* hex digits of this chunk size */
	uint8_t		 h_sc_state;	/* strict head scan (http1.c) */
	uint8_t		 h_sc_n;	/* its position in a fixed token */
	const char	*h_why;		/* what the strict checks refused */
};

/* Raise http-parser's global head size limit (bytes); once per process. */
void		 http1_global_init(uint32_t max_head);

/*
 * Start a message parser.  hdrs (maxhdrs entries) receives the header
 * slices; more than maxhdrs headers, or more than hdr_limit bytes of names
 * and values, stop the parse with HTTP1_E_TOO_MANY / _TOO_LARGE.
 */
void		 http1_init(struct http1 *, enum http1_kind,
		    struct http1_hdr *hdrs, uint16_t maxhdrs, uint32_t hdr_limit);

/*
 * The strict scan every head goes through before http-parser sees it
 * (RFC 9112): request-line (method token, one SP, a target without
 * blanks or controls, one SP, exactly "HTTP/" DIGIT "." DIGIT) or
 * status-line ("HTTP/" DIGIT "." DIGIT SP 3DIGIT, then SP and a reason
 * without controls), header lines of a token name, ':' and a value
 * without controls other than HTAB, up to the empty line.  A CR is only
 * ever the first half of CRLF; a bare LF ends a line as CRLF does (RFC
 * 9112 2.2); blank lines before a message are skipped, as http-parser
 * does.  A line that starts with a blank (obs-fold) is refused.
 * Returns the length of the head in p[0, len) (through its last LF), 0
 * when p is a valid beginning that needs more bytes, -1 when it is not a
 * valid head; *why then says what was wrong.  http1_feed() runs the same
 * scan incrementally, and refuses a head where http-parser and the scan
 * would end it at different bytes.
 */
long		 http1_head_len(enum http1_kind, const char *p, size_t len,
		    const char **why);

/*
 * Parse base[off, off + len).  *used receives the bytes consumed; the
 * caller feeds from off + *used next time.  After HTTP1_HEAD the head
 * ends at h_head_end, which may be one byte past off + *used: feed again
 * from off + *used (the parser consumes that byte then).
 */
enum http1_ev http1_feed(struct http1 *, const char *base,
		    uint32_t off, uint32_t len, uint32_t *used);

/* The peer closed: DONE when that ends a close-delimited body, MORE when
 * no message was in progress, else ERROR (HTTP1_E_EOF). */
enum http1_ev http1_eof(struct http1 *);

/* Response parser: the request was HEAD, so the response has no body. */
void		 http1_set_nobody(struct http1 *);
/* Response parser: record body slices in h_body (de-chunking). */
void		 http1_set_collect(struct http1 *);

/* Valid once the head is complete. */
const char	*http1_method(const struct http1 *);
bool		 http1_is_head_method(const struct http1 *);
bool		 http1_is_connect(const struct http1 *);
void		 http1_version(const struct http1 *, int *major,
		    int *minor);
uint16_t	 http1_status(const struct http1 *);
bool		 http1_keep_alive(const struct http1 *);
bool		 http1_chunked(const struct http1 *);
bool		 http1_has_length(const struct http1 *);
/* The Content-Length value; 0 when the head has none. */
uint64_t	 http1_content_length(const struct http1 *);
/* Request asked for a protocol upgrade (Upgrade + Connection: upgrade). */
bool		 http1_upgrade(const struct http1 *);
/* Response body runs until the connection closes. */
bool		 http1_until_eof(const struct http1 *);
/* The parser's own words for the last error, for logs. */
const char	*http1_errstr(const struct http1 *);

/*
 * Does the comma-separated header value v (len bytes, no NUL needed) hold
 * the token tok, compared ignoring ASCII case, blanks around each element
 * ignored (RFC 9110 5.6.1)?  "Connection: foo, close" holds "close".
 */
bool		 http1_has_token(const char *v, size_t len, const char *tok);

#endif /* CANARYD_SHARED_HTTP1_H */
