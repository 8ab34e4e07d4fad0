/*
 * HTTP header policy for the worker: which request and response headers
 * pass through the proxy, the heads it writes (upstream request, client
 * response, local replies), the date cache, uuid4 request ids, reason
 * phrases and the response framing decision.  Pure functions over slices
 * (shared/http1.h) and caller buffers, so unit tests need no sockets.
 * Behaviour follows Envoy (canaryd-envoy(7), LOCAL REPLIES and HEADERS).
 */
#ifndef CANARYD_WORKER_HDR_H
#define CANARYD_WORKER_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shared/http1.h"

struct alog_src;
struct alog_str;
struct cd_hdr_ops;

/*
 * Header classes (http1_hdr.h_kind low byte): the parser's own
 * (enum http1_hkind, shared/http1.h), which it sets while it reads each
 * name, so the policy below never compares a name again.
 */
enum wrk_hkind {
	WRK_H_OTHER = HTTP1_H_OTHER,
	WRK_H_HOST = HTTP1_H_HOST,
	WRK_H_CONNECTION = HTTP1_H_CONNECTION,
	WRK_H_KEEP_ALIVE = HTTP1_H_KEEP_ALIVE,
	WRK_H_PROXY_CONNECTION = HTTP1_H_PROXY_CONNECTION,
	WRK_H_TRANSFER_ENCODING = HTTP1_H_TRANSFER_ENCODING,
	WRK_H_UPGRADE = HTTP1_H_UPGRADE,
	WRK_H_TE = HTTP1_H_TE,
	WRK_H_EXPECT = HTTP1_H_EXPECT,
	WRK_H_X_ENVOY = HTTP1_H_X_ENVOY,	/* x-envoy-* */
	WRK_H_X_FORWARDED_PROTO = HTTP1_H_X_FORWARDED_PROTO,
	WRK_H_X_FORWARDED_FOR = HTTP1_H_X_FORWARDED_FOR,
	WRK_H_X_REQUEST_ID = HTTP1_H_X_REQUEST_ID,
	WRK_H_CONTENT_LENGTH = HTTP1_H_CONTENT_LENGTH,
	WRK_H_SERVER = HTTP1_H_SERVER,
	WRK_H_DATE = HTTP1_H_DATE,
};

#define WRK_H_KIND(k)		((k) & 0xff)
#define WRK_H_F_DROP		0x100	/* not forwarded */

#define WRK_DATE_LEN		29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define WRK_UUID_LEN		36

/* Class of a header name (token characters, any case): the one the
 * parser gives it in h_kind. */
enum wrk_hkind	 wrk_hdr_kind(const char *name, size_t len);

/* Facts about a request head, gathered while marking it. */
struct wrk_req_info {
	int		 ri_host;	/* first Host header, -1 if none */
	int		 ri_rid;	/* first x-request-id, -1 if none */
	uint16_t	 ri_nhost;
	uint16_t	 ri_nte;	/* transfer-encoding headers */
	bool		 ri_has_xfp;
	bool		 ri_expect_100;
	bool		 ri_bad_te;	/* transfer-encoding not exactly "chunked" */
	bool		 ri_underscores;	/* a header name with '_' */
};

/*
 * Take each request header's class (h_kind, as the parser set it) and
 * mark with WRK_H_F_DROP the ones the
 * proxy must not forward: hop-by-hop (connection and the names it lists,
 * keep-alive, proxy-connection, transfer-encoding, upgrade, te other than
 * "trailers"), expect: 100-continue (answered locally) and every x-envoy-*
 * header from the client.  Host, content-length and transfer-encoding are
 * never dropped because Connection names them: that would change framing.
 */
void		 wrk_hdr_mark_request(const char *base, struct http1_hdr *,
		    uint16_t n, struct wrk_req_info *);

/*
 * An edge request (the listener's use_remote_address): the client's
 * x-forwarded-proto and x-request-id are not trusted, so they are
 * marked WRK_H_F_DROP and forgotten in ri (canaryd sets its own), and
 * with xff its x-forwarded-for headers too: wrk_hdr_build_request()
 * writes them again as one, with the client address appended.
 */
void		 wrk_hdr_edge(const char *base, struct http1_hdr *h,
		    uint16_t n, struct wrk_req_info *ri, bool xff);

/*
 * headers_with_underscores_action for the request headers h[0..n):
 * true when a name holds an underscore; with drop, each such header is
 * also marked WRK_H_F_DROP (Envoy's DROP_HEADER).
 */
bool		 wrk_hdr_underscores(const char *base, struct http1_hdr *h,
		    uint16_t n, bool drop);

/* Facts about a response head. */
struct wrk_resp_info {
	bool		 si_has_date;
	bool		 si_conn_close;	/* upstream said connection: close */
	bool		 si_ratelimited;	/* has x-envoy-ratelimited */
};

/* Mark response headers (classed by the parser) not passed to the
 * client: connection, keep-alive, proxy-connection, upgrade,
 * transfer-encoding (re-framed) and server (replaced).  A 101 that starts
 * a tunnel keeps connection and upgrade (worker/conn_tunnel.c unmarks
 * them), as Envoy does. */
void		 wrk_hdr_mark_response(const char *base, struct http1_hdr *,
		    uint16_t n, struct wrk_resp_info *);

/* Connection header the proxy writes on a response. */
enum wrk_conn_hdr {
	WRK_CONN_NONE,
	WRK_CONN_CLOSE,
	WRK_CONN_KEEP_ALIVE,	/* HTTP/1.0 client asked for keep-alive */
};

/*
 * A head being mutated by configuration (hdr_mut.c): its header lines,
 * each a slice of the input or of m_buf, where evaluated values go.
 * The caller owns both arrays; m_over says one of them ran out.
 */
struct wrk_hm_line {
	const char	*l_name;
	const char	*l_val;
	uint32_t	 l_vlen;
	uint16_t	 l_nlen;
	uint8_t		 l_dead;	/* removed */
};

struct wrk_hm {
	struct wrk_hm_line *m_v;
	uint32_t	 m_n;
	uint32_t	 m_cap;
	char		*m_buf;
	size_t		 m_used;
	size_t		 m_buflen;
	bool		 m_over;
};

void		 wrk_hm_init(struct wrk_hm *, struct wrk_hm_line *v,
		    uint32_t cap, char *buf, size_t buflen);
/* A line at the end (name and value not copied: they must outlive m). */
void		 wrk_hm_push(struct wrk_hm *, const char *name, size_t nlen,
		    const char *val, size_t vlen);
/* Room left in the value buffer, and taking n bytes of it for a value
 * written there. */
char		*wrk_hm_room(struct wrk_hm *, size_t *avail);
void		 wrk_hm_take(struct wrk_hm *, size_t n);
/* The first line called name (any case), or false. */
bool		 wrk_hm_get(const struct wrk_hm *, const char *name,
		    size_t nlen, struct alog_str *out);
void		 wrk_hm_remove(struct wrk_hm *, const char *name, size_t nlen);
/* One level's removals and additions, Envoy's way (hdr_mut.c); values
 * are evaluated against src. */
void		 wrk_hm_apply(struct wrk_hm *, const struct cd_hdr_ops *,
		    const struct alog_src *src);
/* Bytes the live lines take as "name: value\r\n". */
size_t		 wrk_hm_size(const struct wrk_hm *);

struct wrk_req_head {
	const char		*rh_base;	/* buffer of the slices */
	const struct http1_hdr	*rh_hdrs;	/* marked */
	uint16_t		 rh_nhdrs;
	const char		*rh_method;
	const char		*rh_target;	/* origin-form request target */
	size_t			 rh_target_len;
	const char		*rh_host;	/* non-NULL: replaces Host */
	size_t			 rh_host_len;
	bool			 rh_add_xfp;	/* x-forwarded-proto: http */
	const char		*rh_xff_append;	/* appended to x-forwarded-for
						 * (the dropped ones, joined),
						 * or NULL */
	const char		*rh_external;	/* x-envoy-external-address,
						 * or NULL */
	const char		*rh_request_id;	/* NULL: keep the client's */
	int64_t			 rh_expected_ms;	/* -1: no header */
	bool			 rh_chunked;	/* body is chunked */
	bool			 rh_upgrade;	/* an upgrade: upgrade headers
						 * pass (not marked), and
						 * "connection: upgrade" */
	/* non-NULL: the header lines instead of rh_hdrs and the added
	 * ones above (rh_host then must be set) */
	const struct wrk_hm	*rh_mut;
};

/* Bytes wrk_hdr_build_request() may need beyond the client's head. */
size_t		 wrk_hdr_request_extra(uint16_t nhdrs, size_t host_len);
/* Write the upstream request head; returns its length, 0 if cap is short. */
size_t		 wrk_hdr_build_request(char *out, size_t cap,
		    const struct wrk_req_head *);

/*
 * Set the x-envoy-expected-rq-timeout-ms value of an upstream head
 * (head[0, len), ending in the blank line) for another attempt: replaced,
 * added, or removed when ms < 0.  Returns the new length, 0 if cap is
 * short or head is not a complete head.
 */
size_t		 wrk_hdr_set_expected(char *head, size_t len, size_t cap,
		    int64_t ms);

struct wrk_resp_head {
	const char		*sh_base;
	const struct http1_hdr	*sh_hdrs;	/* marked */
	uint16_t		 sh_nhdrs;
	uint16_t		 sh_status;
	const char		*sh_server;
	size_t			 sh_server_len;
	const char		*sh_date;	/* added when !sh_has_date */
	bool			 sh_has_date;
	int64_t			 sh_service_ms;	/* -1: no header */
	bool			 sh_chunked;	/* add transfer-encoding */
	enum wrk_conn_hdr	 sh_conn;
	const char		*sh_request_id;	/* NULL: none */
	size_t			 sh_request_id_len;
	/* non-NULL: the header lines instead of sh_hdrs (a "server" line
	 * among them is left out: sh_server is the one) */
	const struct wrk_hm	*sh_mut;
};

size_t		 wrk_hdr_response_extra(uint16_t nhdrs, size_t server_len,
		    size_t rid_len);
/* Write the client response head; returns its length, 0 if cap is short. */
size_t		 wrk_hdr_build_response(char *out, size_t cap,
		    const struct wrk_resp_head *);

/*
 * Write a complete local reply the way Envoy does: status line,
 * content-length, content-type: text/plain (only with a body), date,
 * server, extra (preformatted "name: value\r\n" lines, may be NULL), then
 * connection per conn.  head_only: a HEAD request, headers only.
 * Returns the length, 0 if cap is short.
 */
size_t		 wrk_hdr_local_reply(char *out, size_t cap, uint16_t code,
		    const char *body, size_t body_len, const char *date,
		    const char *server, size_t server_len, const char *extra,
		    enum wrk_conn_hdr conn, bool head_only);

/* The standard reason phrase, "Unknown" for codes without one. */
const char	*wrk_hdr_reason(uint16_t code);

/* "Sun, 06 Nov 1994 08:49:37 GMT" (WRK_DATE_LEN chars and a NUL). */
void		 wrk_hdr_format_date(char *out, time_t t);
/* The date for now (CLOCK_REALTIME seconds), formatted once a second. */
const char	*wrk_hdr_date(time_t now);

/* Random version 4 uuid, lower-case, WRK_UUID_LEN chars and a NUL.
 * Unique, not secret (a fast generator); wrk_hdr_seed() after fork. */
void		 wrk_hdr_uuid4(char *out);
void		 wrk_hdr_seed(void);
/* 64 random bits from the same fast generator (not secret). */
uint64_t	 wrk_hdr_random(void);
/* Format 16 bytes as a version 4 uuid (sets the version and variant). */
void		 wrk_hdr_uuid_format(char *out, const uint8_t b[16]);

/* How a response body travels to the client. */
enum wrk_frame {
	WRK_FRAME_NONE,		/* no body (HEAD, 1xx, 204, 304) */
	WRK_FRAME_LENGTH,	/* content-length, bytes pass through */
	WRK_FRAME_CHUNKED,	/* chunked, framing passes through */
	WRK_FRAME_EOF,		/* close-delimited to an HTTP/1.0 client */
	/* from here on the body is copied into rq_out, re-framed */
	WRK_FRAME_RECHUNK,	/* close-delimited upstream, chunked to client */
	WRK_FRAME_DECHUNK,	/* chunked upstream, HTTP/1.0 client: unframed */
	WRK_FRAME_GZIP,		/* any upstream framing, de-framed, gzip'd,
				 * chunked to the client (conn_gzip.c) */
};

enum wrk_frame	 wrk_hdr_framing(bool head_request, uint16_t status,
		    bool has_length, bool chunked, bool until_eof,
		    bool client_http10);

/* Case-insensitive equality of a slice of base and a C string. */
bool		 wrk_hdr_eq(const char *base, struct http1_slice, const char *s);

#endif /* CANARYD_WORKER_HDR_H */
