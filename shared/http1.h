/*
 * HTTP/1.x parsing for the whole binary (worker data plane, admin
 * server, health checker): one strict RFC 9112 parser that reads each
 * byte once, checking and parsing in the same pass (shared/http1.c and
 * its parts shared/http1_*.c).
 *
 * The caller owns the bytes: it feeds [off, off + len) of a buffer and the
 * parser only records (offset, length) slices into it, never copies.
 * Slices stay valid while the buffer keeps its offsets (a buffer may be
 * copied to a larger one at the same offsets); a head is read from one
 * buffer, from its first byte to its last.  The parser stops (pauses)
 * at the end of the head and at the end of the message, so the caller can
 * route, and never reads into a pipelined next request.
 *
 * What it accepts, refuses and how it frames a body is what the proxy
 * did when it checked heads itself and left the parsing to http-parser
 * 2.9 (Debian's, non-strict): the method table, Content-Length and
 * Transfer-Encoding rules, keep-alive and upgrade are that library's;
 * test/fuzz/fuzz_diff.c keeps the two compared byte for byte.
 */
#ifndef CANARYD_SHARED_HTTP1_H
#define CANARYD_SHARED_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http1_slice {
	uint32_t	 s_off;
	uint32_t	 s_len;
};

/*
 * One header line: name and value slices (value without surrounding
 * blanks), and its class: the parser sets h_kind to the http1_hkind of
 * the name; the caller may add its own bits above the low byte (e.g.
 * WRK_H_F_DROP, worker/hdr.h).
 */
struct http1_hdr {
	struct http1_slice h_name;
	struct http1_slice h_value;
	uint32_t	 h_kind;
};

/*
 * The field names the parser and the proxy's header policy treat
 * specially, recognised while the name is read (any case).  X_ENVOY is
 * any name longer than "x-envoy-" that starts with it.  worker/hdr.h
 * gives each the same value as WRK_H_*.
 */
enum http1_hkind {
	HTTP1_H_OTHER,
	HTTP1_H_HOST,
	HTTP1_H_CONNECTION,
	HTTP1_H_KEEP_ALIVE,
	HTTP1_H_PROXY_CONNECTION,
	HTTP1_H_TRANSFER_ENCODING,
	HTTP1_H_UPGRADE,
	HTTP1_H_TE,
	HTTP1_H_EXPECT,
	HTTP1_H_X_ENVOY,
	HTTP1_H_X_FORWARDED_PROTO,
	HTTP1_H_X_FORWARDED_FOR,
	HTTP1_H_X_REQUEST_ID,
	HTTP1_H_CONTENT_LENGTH,
	HTTP1_H_SERVER,
	HTTP1_H_DATE,
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
	uint8_t		 h_err;		/* enum http1_err */
	uint8_t		 h_nbody;
	/* the rest is the parser's own (shared/http1-int.h) */
	uint8_t		 h_type;	/* enum http1_kind */
	uint8_t		 h_state;	/* where in the grammar */
	uint8_t		 h_vstate;	/* inside a special field value */
	uint8_t		 h_idx;		/* position in a fixed word */
	uint8_t		 h_hkind;	/* enum http1_hkind of this field */
	uint8_t		 h_method;	/* index in the method table */
	uint8_t		 h_major;
	uint8_t		 h_minor;
	uint8_t		 h_url_state;	/* request target grammar */
	uint16_t	 h_status;
	uint16_t	 h_host;	/* first Host field, when h_nhost > 0 */
	uint16_t	 h_nhost;
	uint32_t	 h_pflags;	/* framing facts, H1_P_* */
	uint32_t	 h_mark;	/* where the current token began */
	uint32_t	 h_flushed;	/* how much of it is recorded */
	uint32_t	 h_nread;	/* head bytes so far, for the bound */
	uint64_t	 h_clen;	/* content-length, then bytes left */
	struct http1_slice h_body[HTTP1_MAXBODY];	/* collect mode */
	uint64_t	 h_body_bytes;	/* body bytes parsed (de-chunked) */
	const char	*h_why;		/* what was refused, for logs */
};

/*
 * Raise the bound on the bytes of one head (start line, fields, line
 * ends and the blank lines before it; also of one chunk-size line and of
 * a trailer section): 80 KiB unless max_head is larger.  Once per
 * process, before parsing; a head over it is HTTP1_E_TOO_LARGE.
 */
void		 http1_global_init(uint32_t max_head);

/*
 * Start a message parser.  hdrs (maxhdrs entries) receives the header
 * slices; more than maxhdrs headers, or more than hdr_limit bytes of names
 * and values, stop the parse with HTTP1_E_TOO_MANY / _TOO_LARGE.
 */
void		 http1_init(struct http1 *, enum http1_kind,
		    struct http1_hdr *hdrs, uint16_t maxhdrs, uint32_t hdr_limit);

/*
 * The lexical grammar of a head alone (RFC 9112), without the checks
 * that need meaning (method table, target form, Content-Length, Host,
 * limits): request-line (method token, one SP, a target without
 * blanks or controls, one SP, exactly "HTTP/" DIGIT "." DIGIT) or
 * status-line ("HTTP/" DIGIT "." DIGIT SP 3DIGIT, then SP and a reason
 * without controls), header lines of a token name, ':' and a value
 * without controls other than HTAB, up to the empty line.  A CR is only
 * ever the first half of CRLF; a bare LF ends a line as CRLF does (RFC
 * 9112 2.2); blank lines before a message are skipped.  A line that
 * starts with a blank (obs-fold) is refused.
 * Returns the length of the head in p[0, len) (through its last LF), 0
 * when p is a valid beginning that needs more bytes, -1 when it is not a
 * valid head; *why then says what was wrong.  http1_feed() reads heads
 * with the same states, so a head it accepts ends where this says.
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

/* The http1_hkind of a field name (len bytes of token characters, any
 * case), as the parser gives it in h_kind. */
enum http1_hkind http1_hdr_kind(const char *name, size_t len);

#endif /* CANARYD_SHARED_HTTP1_H */
