/*
 * Unit tests for HTTP/1 framing against the smuggling cases public suites
 * found (D1-D8): each feeds the exact bytes through the HTTP/1 parser
 * (shared/http1.c) the way the worker does, whole and in small reads,
 * and checks both the answer (400, 501 or 502 and a close, or a
 * forwarded request) and what would go upstream: the heads the worker
 * writes (wrk_hdr_build_request, with the target wrk_router_target()
 * gives) and the body bytes after each.  A refused message sends
 * nothing upstream; in particular no second request ever comes out of
 * one.  D6 (extension methods) and its configuration switch are here
 * too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "test/unit/conf_yaml.h"
#include "shared/conf.h"
#include "shared/http1.h"
#include "worker/hdr.h"
#include "worker/router.h"

#define MAXH	16
#define UPCAP	4096

/* What the worker did with a client's bytes. */
struct run {
	uint16_t	 code;		/* 0: forwarded, else the answer */
	int		 nreq;		/* requests written upstream */
	size_t		 uplen;
	char		 up[UPCAP];	/* heads written, bodies as read */
	char		 scratch[UPCAP];
	const char	*why;
};

static void
up_put(struct run *r, const char *p, size_t n)
{
	CU_ASSERT_FATAL(r->uplen + n <= sizeof(r->up));
	memcpy(r->up + r->uplen, p, n);
	r->uplen += n;
}

/* conn_parse_error()'s codes; a response error is always a 502. */
static uint16_t
error_code(const struct http1 *h, enum http1_kind kind)
{
	if (kind == HTTP1_RESPONSE)
		return 502;
	switch (h->h_err) {
	case HTTP1_E_TOO_MANY:
	case HTTP1_E_TOO_LARGE:
		return 431;
	case HTTP1_E_TE:
		return 501;
	default:
		return 400;
	}
}

/* The upstream head of one parsed request, as conn_on_head() writes it
 * (without the ids and timeout header, which the proxy adds). */
static uint16_t
req_forward(struct run *r, const char *msg, struct http1 *h)
{
	struct wrk_req_info ri;
	struct wrk_req_head rh;
	struct wrk_target tg;
	char head[UPCAP];
	size_t n;

	wrk_hdr_mark_request(msg, h->h_hdrs, h->h_nhdrs, &ri);
	if (ri.ri_bad_te)
		return 501;
	if (ri.ri_nhost == 0)
		return 400;
	(void)wrk_router_target(msg + h->h_url.s_off, h->h_url.s_len,
	    r->scratch, sizeof(r->scratch), &tg);
	memset(&rh, 0, sizeof(rh));
	rh.rh_base = msg;
	rh.rh_hdrs = h->h_hdrs;
	rh.rh_nhdrs = h->h_nhdrs;
	rh.rh_method = http1_method(h);
	rh.rh_target = tg.tg_path;
	rh.rh_target_len = tg.tg_path_len;
	rh.rh_host = tg.tg_auth;
	rh.rh_host_len = tg.tg_auth_len;
	rh.rh_expected_ms = -1;
	rh.rh_chunked = http1_chunked(h);
	n = wrk_hdr_build_request(head, sizeof(head), &rh);
	CU_ASSERT_FATAL(n > 0);
	up_put(r, head, n);
	r->nreq++;
	return 0;
}

/*
 * Feed msg step bytes at a time, message after message, as the worker
 * reads a connection.  A request is forwarded at its head and its body
 * follows; a response counts as forwarded when it is complete.  Stops at
 * the first answer the proxy gives itself.
 */
static void
run_msgs(enum http1_kind kind, const char *msg, size_t len, uint32_t step,
    struct run *r)
{
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	uint32_t off = 0, avail = 0, used, mark = 0;
	enum http1_ev ev;
	bool body;
	int guard;

	memset(r, 0, sizeof(*r));
	http1_init(&h, kind, hdrs, MAXH, 4096);
	for (guard = 0; guard < 100000; guard++) {
		if (off == avail) {
			if (avail == len)
				break;
			avail = avail + step > len ? (uint32_t)len :
			    avail + step;
		}
		body = kind == HTTP1_REQUEST && (h.h_flags & HTTP1_F_HEAD);
		ev = http1_feed(&h, msg, off, avail - off, &used);
		if (body && off + used > mark)
			up_put(r, msg + mark, off + used - mark); /* body */
		off += used;
		if (off > mark)
			mark = off;
		switch (ev) {
		case HTTP1_ERROR:
			r->code = error_code(&h, kind);
			r->why = http1_errstr(&h);
			return;
		case HTTP1_HEAD:
			mark = h.h_head_end;
			if (kind == HTTP1_REQUEST &&
			    (r->code = req_forward(r, msg, &h)) != 0)
				return;
			break;
		case HTTP1_DONE:
			if (kind == HTTP1_RESPONSE)
				r->nreq++;
			http1_init(&h, kind, hdrs, MAXH, 4096);
			break;
		default:
			break;
		}
	}
}

/* Every read size gives the same outcome as the whole message at once. */
static void
expect_run(enum http1_kind kind, const char *msg, size_t len,
    uint16_t code, int nreq, const char *up)
{
	struct run r;
	uint32_t step;

	for (step = 1; step <= len; step = step < 8 ? step + 1 : step * 4) {
		run_msgs(kind, msg, len, step, &r);
		if (r.code != code || r.nreq != nreq ||
		    r.uplen != strlen(up) || memcmp(r.up, up, r.uplen) != 0)
			fprintf(stderr, "\nstep %u: code %u (%s) nreq %d up "
			    "%.*s\n", step, r.code, r.why ? r.why : "-",
			    r.nreq, (int)r.uplen, r.up);
		CU_ASSERT_EQUAL(r.code, code);
		CU_ASSERT_EQUAL(r.nreq, nreq);
		CU_ASSERT_EQUAL(r.uplen, strlen(up));
		CU_ASSERT(memcmp(r.up, up, r.uplen) == 0);
	}
	run_msgs(kind, msg, len, (uint32_t)len, &r);
	CU_ASSERT_EQUAL(r.code, code);
	CU_ASSERT_EQUAL(r.nreq, nreq);
}

#define REQ(m, code, n, up)	expect_run(HTTP1_REQUEST, (m), \
				    sizeof(m) - 1, (code), (n), (up))
#define RESP(m, code, n)	expect_run(HTTP1_RESPONSE, (m), \
				    sizeof(m) - 1, (code), (n), "")

#define SMUGGLED	"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
#define UP_GET		"GET / HTTP/1.1\r\nhost: t\r\n\r\n"

/* D1: a bare CR in a field line used to swallow the next byte and make
 * the rest of the line a header of its own. */
static void
d1_bare_cr_in_a_field_line(void)
{
	REQ("POST / HTTP/1.1\r\nHost: t\r\nX:\rXContent-Length: 35\r\n\r\n"
	    SMUGGLED, 400, 0, "");
	REQ("POST / HTTP/1.1\r\nHost: t\r\nX:\rTransfer-Encoding: chunked\r\n"
	    "\r\n0\r\n\r\n" SMUGGLED, 400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400, 0, "");
	REQ("GET / HTTP/1.1\rHost: t\r\n\r\n", 400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost\r: t\r\n\r\n", 400, 0, "");
	/* the control: the same request without the CR */
	REQ("POST / HTTP/1.1\r\nHost: t\r\nX:\r\nContent-Length: 3\r\n\r\n"
	    "abc", 0, 1, "POST / HTTP/1.1\r\nhost: t\r\nx: \r\n"
	    "content-length: 3\r\n\r\nabc");
}

/* D2: CR LF CR and any byte used to end the head: two requests out of
 * one, or a body missing its first byte. */
static void
d2_cr_lf_cr_does_not_end_a_head(void)
{
	REQ("GET / HTTP/1.1\r\nHost: t\r\n\rX" SMUGGLED, 400, 0, "");
	REQ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\rabc",
	    400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost: t\r\n\r\r\n", 400, 0, "");
	/* the control: pipelining proper gives two requests */
	REQ("GET / HTTP/1.1\r\nHost: t\r\n\r\n" SMUGGLED, 0, 2,
	    UP_GET "GET /smuggled HTTP/1.1\r\nhost: t\r\n\r\n");
	/* a bare LF ends lines and the head (RFC 9112 2.2), sent on as
	 * CRLF */
	REQ("GET / HTTP/1.1\nHost: t\n\n", 0, 1, UP_GET);
}

/* D3: one Host only (RFC 9112 3.2). */
static void
d3_two_host_headers_are_a_400(void)
{
	REQ("GET / HTTP/1.1\r\nHost: t\r\nHost: evil\r\n\r\n", 400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost: t\r\nX: 1\r\nhOST: t\r\n\r\n", 400, 0,
	    "");
	REQ("GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0, 1, UP_GET);
	/* and a valid one: uri-host [ ":" port ] */
	REQ("GET / HTTP/1.1\r\nHost: t/x\r\n\r\n", 400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost: u@t\r\n\r\n", 400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost: t t\r\n\r\n", 400, 0, "");
	REQ("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0, 1,
	    "GET / HTTP/1.1\r\nhost: [::1]:80\r\n\r\n");
}

/* D4: the version is exactly "HTTP/" DIGIT "." DIGIT. */
static void
d4_version_token_is_exact(void)
{
	REQ("GET /v H\0\1\2/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET /v HTiP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET /v http/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET /v HTTP/1.1 \r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET /v HTTP/11\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET  /v HTTP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET /v\r\nHost: t\r\n\r\n", 400, 0, "");
	RESP("HTiP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 502, 0);
	RESP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 1);
	REQ("GET /v HTTP/1.1\r\nHost: t\r\n\r\n", 0, 1,
	    "GET /v HTTP/1.1\r\nhost: t\r\n\r\n");
}

/* D5: absolute-form with an empty path and a query. */
static void
d5_absolute_form_empty_path_with_query(void)
{
	char scratch[64];
	struct wrk_target tg;
	size_t n;

	n = wrk_router_target("http://t?q=1", 12, scratch, sizeof(scratch),
	    &tg);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT(tg.tg_auth_len == 1 && memcmp(tg.tg_auth, "t", 1) == 0);
	CU_ASSERT(tg.tg_path_len == 5 && memcmp(tg.tg_path, "/?q=1", 5) ==
	    0);
	CU_ASSERT_EQUAL(wrk_router_target("HTTP://t:80", 11, scratch,
	    sizeof(scratch), &tg), 0);
	CU_ASSERT(tg.tg_auth_len == 4 && tg.tg_path_len == 1 &&
	    tg.tg_path[0] == '/');
	CU_ASSERT_EQUAL(wrk_router_target("http://t/a?b", 12, scratch,
	    sizeof(scratch), &tg), 0);
	CU_ASSERT(tg.tg_path_len == 4 && memcmp(tg.tg_path, "/a?b", 4) == 0);
	CU_ASSERT_EQUAL(wrk_router_target("/x?y", 4, scratch,
	    sizeof(scratch), &tg), 0);
	CU_ASSERT(tg.tg_auth == NULL && tg.tg_path_len == 4);
	/* what goes upstream: "/?q=1" and the URL's authority as host */
	REQ("GET http://t?q=1 HTTP/1.1\r\nHost: t\r\n\r\n", 0, 1,
	    "GET /?q=1 HTTP/1.1\r\nhost: t\r\n\r\n");
	REQ("GET http://t HTTP/1.1\r\nHost: t\r\n\r\n", 0, 1, UP_GET);
	/* the authority stands for Host: no userinfo; no fragment at all */
	REQ("GET http://u:p@t/ HTTP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET http://t#f HTTP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("GET /a#f HTTP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
}

/* D6: extension methods get 400 (http-parser knows its table only), and
 * the switch Envoy offers for them is refused at load when set. */
static void
d6_extension_methods_and_their_switch(void)
{
	static const char on[] = HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                direct_response: { status: 200 }\n"
	    "          http_protocol_options: { allow_custom_methods: true }\n";
	static const char off[] = HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                direct_response: { status: 200 }\n"
	    "          http_protocol_options: { allow_custom_methods: false }\n";
	struct conf_diags d;
	struct cd_conf *c;

	REQ("QUERY / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", 400,
	    0, "");
	REQ("FOO-BAR / HTTP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("G@T / HTTP/1.1\r\nHost: t\r\n\r\n", 400, 0, "");
	REQ("PATCH / HTTP/1.1\r\nHost: t\r\n\r\n", 0, 1,
	    "PATCH / HTTP/1.1\r\nhost: t\r\n\r\n");

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", on, sizeof(on) - 1, &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(d.cd_nerrors, 1);
	if (d.cd_n == 1) {
		CU_ASSERT_EQUAL(d.cd_v[0].d_line, 20);
		CU_ASSERT_EQUAL(d.cd_v[0].d_col, 58);
		CU_ASSERT(strstr(d.cd_v[0].d_text, "allow_custom_methods: "
		    "true is not supported by canaryd: its HTTP/1 parser "
		    "(http-parser) reads only the methods of its own table")
		    != NULL);
	}
	conf_free(c);
	conf_diags_free(&d);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", off, sizeof(off) - 1, &d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	conf_free(c);
	conf_diags_free(&d);
}

/* D7: a response that applies chunked twice is a 502, not a body read
 * until close. */
static void
d7_response_chunked_twice_is_a_502(void)
{
	RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
	    "0\r\n\r\n", 502, 0);
	RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 502, 0);
	RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
	    "0\r\n\r\n", 502, 0);
	RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 0, 1);
	/* on the request side the header policy answers 501, as before */
	REQ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, "
	    "chunked\r\n\r\n0\r\n\r\n", 501, 0, "");
}

/* D8: the bare CR cases of D1 and D2 in an upstream response. */
static void
d8_bare_cr_in_a_response_is_a_502(void)
{
	RESP("HTTP/1.1 200 OK\r\nX-A:\rXContent-Length: 2\r\n\r\nok", 502, 0);
	RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\rXok", 502, 0);
	RESP("HTTP/1.1 200 OK\rContent-Length: 2\r\n\r\nok", 502, 0);
	RESP("HTTP/1.1 200 O\rK\r\nContent-Length: 2\r\n\r\nok", 502, 0);
	RESP("HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", 502, 0);
	RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 1);
	RESP("HTTP/1.1 204\r\n\r\n", 0, 1);
	RESP("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
	    "Content-Length: 0\r\n\r\n", 0, 2);
}

/* The scan alone (http1_head_len) ends heads where the parser does. */
static void
head_len_matches_the_parser(void)
{
	const char *why;

	CU_ASSERT_EQUAL(http1_head_len(HTTP1_REQUEST, UP_GET,
	    sizeof(UP_GET) - 1, &why), (long)sizeof(UP_GET) - 1);
	CU_ASSERT_EQUAL(http1_head_len(HTTP1_REQUEST, UP_GET,
	    sizeof(UP_GET) - 2, &why), 0);
	CU_ASSERT_EQUAL(http1_head_len(HTTP1_REQUEST, "\r\n\nGET / HTTP/1.1"
	    "\r\n\r\nxx", 23, &why), 21);
	CU_ASSERT_EQUAL(http1_head_len(HTTP1_REQUEST, "GET / HTTP/1.1\r\n\rX",
	    18, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "CR not followed by LF");
	CU_ASSERT_EQUAL(http1_head_len(HTTP1_RESPONSE, "HTTP/1.1 200\n\n",
	    14, &why), 14);
}

static CU_TestInfo tests[] = {
	{ "d1_bare_cr_in_a_field_line", d1_bare_cr_in_a_field_line },
	{ "d2_cr_lf_cr_does_not_end_a_head",
	    d2_cr_lf_cr_does_not_end_a_head },
	{ "d3_two_host_headers_are_a_400", d3_two_host_headers_are_a_400 },
	{ "d4_version_token_is_exact", d4_version_token_is_exact },
	{ "d5_absolute_form_empty_path_with_query",
	    d5_absolute_form_empty_path_with_query },
	{ "d6_extension_methods_and_their_switch",
	    d6_extension_methods_and_their_switch },
	{ "d7_response_chunked_twice_is_a_502",
	    d7_response_chunked_twice_is_a_502 },
	{ "d8_bare_cr_in_a_response_is_a_502",
	    d8_bare_cr_in_a_response_is_a_502 },
	{ "head_len_matches_the_parser", head_len_matches_the_parser },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/framing", tests);
