/*
 * Unit tests for the worker's header policy and head writers
 * (worker/hdr.c): what is forwarded, the exact bytes written, uuid and
 * date formats, response framing decisions.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "worker/hdr.h"
#include "shared/http1.h"

#define MAXH	32

/* Parse the head in buf (complete, CRLF CRLF) into hdrs; returns count. */
static uint16_t
parse_head(const char *buf, struct http1_hdr *hdrs, struct http1 *h,
    enum http1_kind kind)
{
	uint32_t used;

	http1_init(h, kind, hdrs, MAXH, 65536);
	CU_ASSERT_EQUAL_FATAL(http1_feed(h, buf, 0, (uint32_t)strlen(buf),
	    &used), HTTP1_HEAD);
	return h->h_nhdrs;
}

static bool
dropped(const char *buf, const struct http1_hdr *hdrs, uint16_t n,
    const char *name)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (wrk_hdr_eq(buf, hdrs[i].h_name, name))
			return (hdrs[i].h_kind & WRK_H_F_DROP) != 0;
	CU_FAIL("header not found");
	return false;
}

static void
kind_is_case_insensitive(void)
{
	CU_ASSERT_EQUAL(wrk_hdr_kind("Host", 4), WRK_H_HOST);
	CU_ASSERT_EQUAL(wrk_hdr_kind("CONNECTION", 10), WRK_H_CONNECTION);
	CU_ASSERT_EQUAL(wrk_hdr_kind("Transfer-Encoding", 17),
	    WRK_H_TRANSFER_ENCODING);
	CU_ASSERT_EQUAL(wrk_hdr_kind("X-Envoy-Retry-On", 16), WRK_H_X_ENVOY);
	CU_ASSERT_EQUAL(wrk_hdr_kind("x-envoy-", 8), WRK_H_OTHER);
	CU_ASSERT_EQUAL(wrk_hdr_kind("x-envoyish", 10), WRK_H_OTHER);
	CU_ASSERT_EQUAL(wrk_hdr_kind("hosts", 5), WRK_H_OTHER);
}

static void
kind_knows_each_special_header(void)
{
	static const struct {
		const char	*name;
		enum wrk_hkind	 kind;
	} k[] = {
		{ "te", WRK_H_TE }, { "host", WRK_H_HOST },
		{ "date", WRK_H_DATE }, { "expect", WRK_H_EXPECT },
		{ "server", WRK_H_SERVER }, { "upgrade", WRK_H_UPGRADE },
		{ "connection", WRK_H_CONNECTION },
		{ "keep-alive", WRK_H_KEEP_ALIVE },
		{ "x-request-id", WRK_H_X_REQUEST_ID },
		{ "content-length", WRK_H_CONTENT_LENGTH },
		{ "proxy-connection", WRK_H_PROXY_CONNECTION },
		{ "transfer-encoding", WRK_H_TRANSFER_ENCODING },
		{ "x-forwarded-proto", WRK_H_X_FORWARDED_PROTO },
		/* same lengths, other names */
		{ "tf", WRK_H_OTHER }, { "dote", WRK_H_OTHER },
		{ "servers", WRK_H_OTHER },
		{ "x-forwarded-prota", WRK_H_OTHER },
		/* lengths nothing special has */
		{ "", WRK_H_OTHER }, { "a", WRK_H_OTHER },
		{ "x-forwarded-proto2", WRK_H_OTHER },
		{ "content-length-and-more", WRK_H_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		CU_ASSERT_EQUAL(wrk_hdr_kind(k[i].name, strlen(k[i].name)),
		    k[i].kind);
}

static void
request_drops_hop_by_hop_and_envoy_headers(void)
{
	const char *b = "POST /p HTTP/1.1\r\n"
	    "Host: a\r\n"
	    "Connection: keep-alive, X-Secret, Host, Content-Length\r\n"
	    "Keep-Alive: 5\r\n"
	    "Proxy-Connection: x\r\n"
	    "Upgrade: h2c\r\n"
	    "TE: gzip\r\n"
	    "X-Secret: s\r\n"
	    "X-Envoy-Max-Retries: 9\r\n"
	    "x-envoy-upstream-rq-timeout-ms: 1\r\n"
	    "Expect: 100-continue\r\n"
	    "Content-Length: 2\r\n"
	    "X-Keep: k\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	uint16_t n = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, n, &ri);
	CU_ASSERT(dropped(b, hdrs, n, "connection"));
	CU_ASSERT(dropped(b, hdrs, n, "keep-alive"));
	CU_ASSERT(dropped(b, hdrs, n, "proxy-connection"));
	CU_ASSERT(dropped(b, hdrs, n, "upgrade"));
	CU_ASSERT(dropped(b, hdrs, n, "te"));
	CU_ASSERT(dropped(b, hdrs, n, "x-secret"));	/* named by Connection */
	CU_ASSERT(dropped(b, hdrs, n, "x-envoy-max-retries"));
	CU_ASSERT(dropped(b, hdrs, n, "x-envoy-upstream-rq-timeout-ms"));
	CU_ASSERT(dropped(b, hdrs, n, "expect"));
	/* framing and Host survive being named by Connection */
	CU_ASSERT(!dropped(b, hdrs, n, "host"));
	CU_ASSERT(!dropped(b, hdrs, n, "content-length"));
	CU_ASSERT(!dropped(b, hdrs, n, "x-keep"));
	CU_ASSERT(ri.ri_expect_100);
	CU_ASSERT_EQUAL(ri.ri_host, 0);
	CU_ASSERT_EQUAL(ri.ri_nhost, 1);
	CU_ASSERT(!ri.ri_has_xfp);
	CU_ASSERT_EQUAL(ri.ri_rid, -1);
}

/* headers_with_underscores_action: found; dropped only when asked */
static void
request_headers_with_underscores(void)
{
	const char *b = "GET / HTTP/1.1\r\n"
	    "Host: a\r\n"
	    "X_Forwarded_User: admin\r\n"
	    "X-Keep: k\r\n\r\n";
	const char *clean = "GET / HTTP/1.1\r\nHost: a\r\nX-Keep: k\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	uint16_t n = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, n, &ri);
	CU_ASSERT(!ri.ri_underscores);
	/* REJECT_REQUEST: seen, nothing dropped (the request gets 400) */
	CU_ASSERT(wrk_hdr_underscores(b, hdrs, n, false));
	CU_ASSERT(!dropped(b, hdrs, n, "x_forwarded_user"));
	/* DROP_HEADER */
	CU_ASSERT(wrk_hdr_underscores(b, hdrs, n, true));
	CU_ASSERT(dropped(b, hdrs, n, "x_forwarded_user"));
	CU_ASSERT(!dropped(b, hdrs, n, "x-keep"));
	CU_ASSERT(!dropped(b, hdrs, n, "host"));
	n = parse_head(clean, hdrs, &h, HTTP1_REQUEST);
	wrk_hdr_mark_request(clean, hdrs, n, &ri);
	CU_ASSERT(!wrk_hdr_underscores(clean, hdrs, n, true));
}

/* use_remote_address: the client's x-forwarded-proto and x-request-id
 * are replaced, its x-forwarded-for values joined and ours appended */
static void
request_edge_appends_the_client_address(void)
{
	const char *b = "GET /p HTTP/1.1\r\n"
	    "Host: a\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Request-Id: client-id\r\n"
	    "x-forwarded-for: 10.0.0.2, 10.0.0.3\r\n"
	    "X-Keep: k\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	struct wrk_req_head rh;
	char out[1024];
	size_t n;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, nh, &ri);
	CU_ASSERT(ri.ri_has_xfp);
	CU_ASSERT_EQUAL(ri.ri_rid, 3);
	wrk_hdr_edge(b, hdrs, nh, &ri, true);
	CU_ASSERT(!ri.ri_has_xfp);
	CU_ASSERT_EQUAL(ri.ri_rid, -1);
	CU_ASSERT(dropped(b, hdrs, nh, "x-forwarded-proto"));
	CU_ASSERT(dropped(b, hdrs, nh, "x-request-id"));
	CU_ASSERT(dropped(b, hdrs, nh, "x-forwarded-for"));
	CU_ASSERT(!dropped(b, hdrs, nh, "x-keep"));

	memset(&rh, 0, sizeof(rh));
	rh.rh_base = b;
	rh.rh_hdrs = hdrs;
	rh.rh_nhdrs = nh;
	rh.rh_method = "GET";
	rh.rh_target = "/p";
	rh.rh_target_len = 2;
	rh.rh_add_xfp = true;
	rh.rh_xff_append = "192.0.2.7";
	rh.rh_external = "192.0.2.7";
	rh.rh_request_id = "00000000-0000-4000-8000-000000000000";
	rh.rh_expected_ms = -1;
	n = wrk_hdr_build_request(out, sizeof(out), &rh);
	CU_ASSERT_FATAL(n > 0);
	out[n] = '\0';
	CU_ASSERT_STRING_EQUAL(out, "GET /p HTTP/1.1\r\n"
	    "host: a\r\n"
	    "x-keep: k\r\n"
	    "x-forwarded-for: 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.7\r\n"
	    "x-envoy-external-address: 192.0.2.7\r\n"
	    "x-forwarded-proto: http\r\n"
	    "x-request-id: 00000000-0000-4000-8000-000000000000\r\n\r\n");
	CU_ASSERT(n <= strlen(b) + wrk_hdr_request_extra(nh, 0));

	/* skip_xff_append: the client's x-forwarded-for passes as sent */
	nh = parse_head(b, hdrs, &h, HTTP1_REQUEST);
	wrk_hdr_mark_request(b, hdrs, nh, &ri);
	wrk_hdr_edge(b, hdrs, nh, &ri, false);
	CU_ASSERT(!dropped(b, hdrs, nh, "x-forwarded-for"));
}

static void
request_keeps_te_trailers_and_notes_ids(void)
{
	const char *b = "GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n"
	    "X-Forwarded-Proto: https\r\nX-Request-Id: abc\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	uint16_t n = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, n, &ri);
	CU_ASSERT(!dropped(b, hdrs, n, "te"));
	CU_ASSERT(ri.ri_has_xfp);
	CU_ASSERT_EQUAL(ri.ri_rid, 3);
	CU_ASSERT(!ri.ri_bad_te);
}

static void
request_transfer_encoding_other_than_chunked_is_bad(void)
{
	const char *ok = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n";
	const char *two = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	uint16_t n;

	n = parse_head(ok, hdrs, &h, HTTP1_REQUEST);
	wrk_hdr_mark_request(ok, hdrs, n, &ri);
	CU_ASSERT(!ri.ri_bad_te);
	CU_ASSERT(dropped(ok, hdrs, n, "transfer-encoding"));
	n = parse_head(two, hdrs, &h, HTTP1_REQUEST);
	wrk_hdr_mark_request(two, hdrs, n, &ri);
	CU_ASSERT(ri.ri_bad_te);
}

/* The upstream head of the request parsed in b: its method and target,
 * the client's headers; nothing added. */
static void
req_head(struct wrk_req_head *rh, const char *b, struct http1_hdr *hdrs,
    uint16_t nh, const struct http1 *h)
{
	memset(rh, 0, sizeof(*rh));
	rh->rh_base = b;
	rh->rh_hdrs = hdrs;
	rh->rh_nhdrs = nh;
	rh->rh_method = http1_method(h);
	rh->rh_target = b + h->h_url.s_off;
	rh->rh_target_len = h->h_url.s_len;
}

static void
upstream_request_head_is_exact(void)
{
	const char *b = "GET /a?b=1 HTTP/1.1\r\nHost: Example.COM\r\n"
	    "User-Agent:curl\r\nConnection: close\r\n"
	    "X-Envoy-Retry-On: 5xx\r\n\r\n";
	const char *want = "GET /a?b=1 HTTP/1.1\r\n"
	    "host: Example.COM\r\n"
	    "user-agent: curl\r\n"
	    "x-forwarded-proto: http\r\n"
	    "x-request-id: 00000000-0000-4000-8000-000000000000\r\n"
	    "x-envoy-expected-rq-timeout-ms: 1000\r\n"
	    "\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	struct wrk_req_head rh;
	char out[512];
	size_t n;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, nh, &ri);
	req_head(&rh, b, hdrs, nh, &h);
	rh.rh_add_xfp = !ri.ri_has_xfp;
	rh.rh_request_id = "00000000-0000-4000-8000-000000000000";
	rh.rh_expected_ms = 1000;
	n = wrk_hdr_build_request(out, sizeof(out), &rh);
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_NSTRING_EQUAL(out, want, strlen(want));
	/* too small a buffer: 0, never an overrun */
	CU_ASSERT_EQUAL(wrk_hdr_build_request(out, n - 1, &rh), 0);
	CU_ASSERT(n <= strlen(b) + wrk_hdr_request_extra(nh, 0));
}

static void
upstream_request_chunked_and_host_override(void)
{
	const char *b = "POST http://h.example:81/x HTTP/1.1\r\nHost: other\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	const char *want = "POST /x HTTP/1.1\r\nhost: h.example:81\r\n"
	    "transfer-encoding: chunked\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	struct wrk_req_head rh;
	char out[512];
	size_t n;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, nh, &ri);
	memset(&rh, 0, sizeof(rh));
	rh.rh_base = b;
	rh.rh_hdrs = hdrs;
	rh.rh_nhdrs = nh;
	rh.rh_method = "POST";
	rh.rh_target = "/x";
	rh.rh_target_len = 2;
	rh.rh_host = "h.example:81";
	rh.rh_host_len = 12;
	rh.rh_expected_ms = -1;
	rh.rh_chunked = true;
	n = wrk_hdr_build_request(out, sizeof(out), &rh);
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_NSTRING_EQUAL(out, want, strlen(want));
}

static void
response_head_replaces_server_and_reframes(void)
{
	const char *b = "HTTP/1.1 200 Fine\r\nServer: nginx\r\n"
	    "Content-Type: text/html\r\nConnection: keep-alive\r\n"
	    "Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n";
	const char *want = "HTTP/1.1 200 OK\r\n"
	    "content-type: text/html\r\n"
	    "date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "server: canaryd\r\n"
	    "x-envoy-upstream-service-time: 3\r\n"
	    "transfer-encoding: chunked\r\n"
	    "connection: close\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_resp_info si;
	struct wrk_resp_head sh;
	char out[512];
	size_t n;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_RESPONSE);

	wrk_hdr_mark_response(b, hdrs, nh, &si);
	CU_ASSERT(!si.si_has_date);
	CU_ASSERT(!si.si_conn_close);
	memset(&sh, 0, sizeof(sh));
	sh.sh_base = b;
	sh.sh_hdrs = hdrs;
	sh.sh_nhdrs = nh;
	sh.sh_status = http1_status(&h);
	sh.sh_server = "canaryd";
	sh.sh_server_len = 7;
	sh.sh_date = "Sun, 06 Nov 1994 08:49:37 GMT";
	sh.sh_service_ms = 3;
	sh.sh_chunked = true;
	sh.sh_conn = WRK_CONN_CLOSE;
	n = wrk_hdr_build_response(out, sizeof(out), &sh);
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_NSTRING_EQUAL(out, want, strlen(want));
}

/*
 * Names are written in lower case, eight bytes at a time and then one by
 * one: each length from 1 to 19, letters beside the tchars next to them
 * in ASCII ("^_`" sit between 'Z' and 'a', "|~" after 'z').  A buffer a
 * byte short of the head writes nothing.
 */
static void
response_names_lowered_at_every_length(void)
{
	const char *abc = "AbZz^_`|~QmR-0Y9aXy";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_resp_head sh;
	char b[128], want[192], low[32], out[256];
	size_t n, len, i, full;
	uint16_t nh;

	for (len = 1; len <= strlen(abc); len++) {
		for (i = 0; i < len; i++)
			low[i] = (abc[i] >= 'A' && abc[i] <= 'Z') ?
			    (char)(abc[i] | 0x20) : abc[i];
		low[len] = '\0';
		snprintf(b, sizeof(b), "HTTP/1.1 200 OK\r\n%.*s: V a\r\n"
		    "Date: d\r\nContent-Length: 0\r\n\r\n", (int)len, abc);
		snprintf(want, sizeof(want), "HTTP/1.1 200 OK\r\n%s: V a\r\n"
		    "date: d\r\ncontent-length: 0\r\nserver: s\r\n\r\n",
		    low);
		nh = parse_head(b, hdrs, &h, HTTP1_RESPONSE);
		memset(&sh, 0, sizeof(sh));
		sh.sh_base = b;
		sh.sh_hdrs = hdrs;
		sh.sh_nhdrs = nh;
		sh.sh_status = 200;
		sh.sh_has_date = true;
		sh.sh_server = "s";
		sh.sh_server_len = 1;
		sh.sh_service_ms = -1;
		sh.sh_conn = WRK_CONN_NONE;
		full = wrk_hdr_build_response(out, sizeof(out), &sh);
		CU_ASSERT_EQUAL(full, strlen(want));
		CU_ASSERT_NSTRING_EQUAL(out, want, strlen(want));
		n = wrk_hdr_build_response(out, full - 1, &sh);
		CU_ASSERT_EQUAL(n, 0);
	}
}

/* Connection values around the "keep-alive" shortcut: only a value that
 * holds the close token is one. */
static void
response_connection_values(void)
{
	static const struct {
		const char	*v;
		bool		 close;
	} cases[] = {
		{ "keep-alive", false }, { "Keep-Alive", false },
		{ "KEEP-ALIVE", false }, { "keep-alivE", false },
		{ "keep_alive", false }, { "keep-alive, close", true },
		{ "close, keep-alive", true }, { "keep-alivee", false },
		{ "keepxalive", false }, { "CLOSE", true },
		{ "closed", false }, { "foo, Close", true },
	};
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_resp_info si;
	char b[128];
	size_t i;
	uint16_t nh;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(b, sizeof(b), "HTTP/1.1 200 OK\r\nConnection: %s\r\n"
		    "Content-Length: 0\r\n\r\n", cases[i].v);
		nh = parse_head(b, hdrs, &h, HTTP1_RESPONSE);
		wrk_hdr_mark_response(b, hdrs, nh, &si);
		CU_ASSERT_EQUAL(si.si_conn_close, cases[i].close);
	}
}

/* x-envoy-expected-rq-timeout-ms in decimal, around each digit count. */
static void
upstream_request_timeout_digits(void)
{
	static const int64_t ms[] = { 0, 7, 9, 10, 42, 99, 100, 101, 999,
	    1000, 12345, 100000, 4294967296LL };
	const char *b = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_req_info ri;
	struct wrk_req_head rh;
	char out[512], want[64];
	size_t i, n;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_REQUEST);

	wrk_hdr_mark_request(b, hdrs, nh, &ri);
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		req_head(&rh, b, hdrs, nh, &h);
		rh.rh_expected_ms = ms[i];
		n = wrk_hdr_build_request(out, sizeof(out) - 1, &rh);
		CU_ASSERT(n > 0);
		out[n] = '\0';
		snprintf(want, sizeof(want),
		    "\r\nx-envoy-expected-rq-timeout-ms: %lld\r\n\r\n",
		    (long long)ms[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	}
}

static void
response_keeps_upstream_date_and_sees_close(void)
{
	const char *b = "HTTP/1.1 204 No Content\r\nDate: x\r\n"
	    "Connection: Close\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_resp_info si;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_RESPONSE);

	wrk_hdr_mark_response(b, hdrs, nh, &si);
	CU_ASSERT(si.si_has_date);
	CU_ASSERT(si.si_conn_close);
	CU_ASSERT(!dropped(b, hdrs, nh, "date"));
}

static void
response_sees_x_envoy_ratelimited(void)
{
	const char *b = "HTTP/1.1 429 Too Many Requests\r\n"
	    "X-Envoy-RateLimited: true\r\nContent-Length: 0\r\n\r\n";
	const char *other = "HTTP/1.1 429 Too Many Requests\r\n"
	    "x-envoy-ratelimited-by: edge\r\nx-ratelimit-reset: 1\r\n"
	    "Content-Length: 0\r\n\r\n";
	struct http1_hdr hdrs[MAXH];
	struct http1 h;
	struct wrk_resp_info si;
	uint16_t nh = parse_head(b, hdrs, &h, HTTP1_RESPONSE);

	wrk_hdr_mark_response(b, hdrs, nh, &si);
	CU_ASSERT(si.si_ratelimited);
	/* noted, and still passed to the client */
	CU_ASSERT(!dropped(b, hdrs, nh, "x-envoy-ratelimited"));
	nh = parse_head(other, hdrs, &h, HTTP1_RESPONSE);
	wrk_hdr_mark_response(other, hdrs, nh, &si);
	CU_ASSERT(!si.si_ratelimited);
}

static void
local_reply_bytes_are_envoys(void)
{
	const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
	const char *w503 = "HTTP/1.1 503 Service Unavailable\r\n"
	    "content-length: 19\r\n"
	    "content-type: text/plain\r\n"
	    "date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "server: canaryd\r\n\r\n"
	    "no healthy upstream";
	const char *w404 = "HTTP/1.1 404 Not Found\r\n"
	    "content-length: 0\r\n"
	    "date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "server: canaryd\r\n"
	    "connection: close\r\n\r\n";
	const char *whead = "HTTP/1.1 504 Gateway Timeout\r\n"
	    "content-length: 24\r\n"
	    "content-type: text/plain\r\n"
	    "date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "server: canaryd\r\n\r\n";
	char out[512];
	size_t n;

	n = wrk_hdr_local_reply(out, sizeof(out), 503, "no healthy upstream",
	    19, date, "canaryd", 7, NULL, WRK_CONN_NONE, false);
	CU_ASSERT_EQUAL(n, strlen(w503));
	CU_ASSERT_NSTRING_EQUAL(out, w503, strlen(w503));
	n = wrk_hdr_local_reply(out, sizeof(out), 404, NULL, 0, date,
	    "canaryd", 7, NULL, WRK_CONN_CLOSE, false);
	CU_ASSERT_EQUAL(n, strlen(w404));
	CU_ASSERT_NSTRING_EQUAL(out, w404, strlen(w404));
	n = wrk_hdr_local_reply(out, sizeof(out), 504,
	    "upstream request timeout", 24, date, "canaryd", 7, NULL,
	    WRK_CONN_NONE, true);
	CU_ASSERT_EQUAL(n, strlen(whead));
	CU_ASSERT_NSTRING_EQUAL(out, whead, strlen(whead));
	CU_ASSERT_EQUAL(wrk_hdr_local_reply(out, 40, 503, "no healthy upstream",
	    19, date, "canaryd", 7, NULL, WRK_CONN_NONE, false), 0);
}

static void
reason_phrases(void)
{
	CU_ASSERT_STRING_EQUAL(wrk_hdr_reason(200), "OK");
	CU_ASSERT_STRING_EQUAL(wrk_hdr_reason(431),
	    "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(wrk_hdr_reason(426), "Upgrade Required");
	CU_ASSERT_STRING_EQUAL(wrk_hdr_reason(299), "Unknown");
}

static void
date_is_imf_fixdate(void)
{
	char d[WRK_DATE_LEN + 1];

	wrk_hdr_format_date(d, 784111777);
	CU_ASSERT_STRING_EQUAL(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	wrk_hdr_format_date(d, 0);
	CU_ASSERT_STRING_EQUAL(d, "Thu, 01 Jan 1970 00:00:00 GMT");
	wrk_hdr_format_date(d, 1795686896);
	CU_ASSERT_STRING_EQUAL(d, "Thu, 26 Nov 2026 09:54:56 GMT");
	CU_ASSERT_STRING_EQUAL(wrk_hdr_date(784111777),
	    "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void
uuid4_format(void)
{
	const uint8_t ff[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t zero[16] = { 0 };
	const uint8_t mix[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde,
	    0xf0, 0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21 };
	char u[WRK_UUID_LEN + 1], v[WRK_UUID_LEN + 1];
	int i;

	wrk_hdr_uuid_format(u, ff);
	CU_ASSERT_STRING_EQUAL(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	wrk_hdr_uuid_format(u, zero);
	CU_ASSERT_STRING_EQUAL(u, "00000000-0000-4000-8000-000000000000");
	wrk_hdr_uuid_format(u, mix);
	CU_ASSERT_STRING_EQUAL(u, "12345678-9abc-4ef0-8fed-cba987654321");
	wrk_hdr_uuid4(u);
	wrk_hdr_uuid4(v);
	CU_ASSERT_EQUAL(strlen(u), WRK_UUID_LEN);
	CU_ASSERT(strcmp(u, v) != 0);
	for (i = 0; i < WRK_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			CU_ASSERT_EQUAL(u[i], '-');
		} else {
			CU_ASSERT(strchr("0123456789abcdef", u[i]) != NULL);
		}
	}
	CU_ASSERT_EQUAL(u[14], '4');
	CU_ASSERT(strchr("89ab", u[19]) != NULL);
}

static void
response_framing_decisions(void)
{
	/* HEAD, 1xx, 204, 304 carry no body whatever the headers say */
	CU_ASSERT_EQUAL(wrk_hdr_framing(true, 200, true, false, false, false),
	    WRK_FRAME_NONE);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 204, false, true, false, false),
	    WRK_FRAME_NONE);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 304, true, false, false, false),
	    WRK_FRAME_NONE);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 200, true, false, false, false),
	    WRK_FRAME_LENGTH);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 200, false, true, false, false),
	    WRK_FRAME_CHUNKED);
	/* close-delimited: chunked to 1.1 clients, as is to 1.0 ones */
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 200, false, false, true, false),
	    WRK_FRAME_RECHUNK);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 200, false, false, true, true),
	    WRK_FRAME_EOF);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 200, false, true, false, true),
	    WRK_FRAME_DECHUNK);
	CU_ASSERT_EQUAL(wrk_hdr_framing(false, 200, true, false, false, true),
	    WRK_FRAME_LENGTH);
}

static CU_TestInfo tests[] = {
	{ "kind_is_case_insensitive", kind_is_case_insensitive },
	{ "response_names_lowered_at_every_length",
	    response_names_lowered_at_every_length },
	{ "kind_knows_each_special_header", kind_knows_each_special_header },
	{ "request_drops_hop_by_hop_and_envoy_headers",
	    request_drops_hop_by_hop_and_envoy_headers },
	{ "request_headers_with_underscores",
	    request_headers_with_underscores },
	{ "request_edge_appends_the_client_address",
	    request_edge_appends_the_client_address },
	{ "request_keeps_te_trailers_and_notes_ids",
	    request_keeps_te_trailers_and_notes_ids },
	{ "request_transfer_encoding_other_than_chunked_is_bad",
	    request_transfer_encoding_other_than_chunked_is_bad },
	{ "upstream_request_head_is_exact", upstream_request_head_is_exact },
	{ "upstream_request_chunked_and_host_override",
	    upstream_request_chunked_and_host_override },
	{ "response_head_replaces_server_and_reframes",
	    response_head_replaces_server_and_reframes },
	{ "response_connection_values", response_connection_values },
	{ "upstream_request_timeout_digits",
	    upstream_request_timeout_digits },
	{ "response_keeps_upstream_date_and_sees_close",
	    response_keeps_upstream_date_and_sees_close },
	{ "response_sees_x_envoy_ratelimited",
	    response_sees_x_envoy_ratelimited },
	{ "local_reply_bytes_are_envoys", local_reply_bytes_are_envoys },
	{ "reason_phrases", reason_phrases },
	{ "date_is_imf_fixdate", date_is_imf_fixdate },
	{ "uuid4_format", uuid4_format },
	{ "response_framing_decisions", response_framing_decisions },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/hdr", tests)
