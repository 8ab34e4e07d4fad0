/*
 * Unit tests for the strictness of shared/http1.c beyond what http-parser
 * took (issue 5, request smuggling): names with blanks or controls, control
 * bytes in values and targets, targets counted in the head limit, and
 * the strict chunked framing check, obs-fold, for requests and
 * responses, whole and one byte per feed.  Each bad case was let
 * through before the fix.  The word-at-a-time spans over names and
 * values (shared/http1-int.h) stop on exactly the byte the class table
 * stops on, whatever the byte and where it falls in a word.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "shared/http1-int.h"
#include "shared/http1.h"

#define MAXH	16

static struct http1_hdr	hdrs[MAXH];

/*
 * Parse msg (len bytes) as one message, step bytes per feed; returns the
 * last event: DONE for a good message, ERROR (h_err set) for a bad one.
 */
static enum http1_ev
parse(enum http1_kind kind, const char *msg, size_t len, uint32_t step,
    struct http1 *h)
{
	enum http1_ev ev = HTTP1_MORE;
	uint32_t off = 0, avail = 0, used;
	int guard;

	http1_init(h, kind, hdrs, MAXH, 4096);
	for (guard = 0; guard < 100000; guard++) {
		if (off == avail) {
			if (avail == len)
				return ev;
			avail = avail + step > len ? (uint32_t)len :
			    avail + step;
		}
		ev = http1_feed(h, msg, off, avail - off, &used);
		off += used;
		if (ev == HTTP1_DONE || ev == HTTP1_ERROR)
			return ev;
	}
	return HTTP1_ERROR;
}

static void
expect_req(const char *msg, size_t len, enum http1_ev want)
{
	struct http1 h;
	uint32_t step;

	for (step = 1; step <= len; step = step < 8 ? step + 1 : step * 4) {
		enum http1_ev got = parse(HTTP1_REQUEST, msg, len,
		    step, &h);

		if (got != want)
			fprintf(stderr, "\nstep %u: got %d want %d: %.*s\n",
			    step, got, want, (int)len, msg);
		CU_ASSERT_EQUAL(got, want);
		if (want == HTTP1_ERROR)
			CU_ASSERT_EQUAL(h.h_err, HTTP1_E_PROTOCOL);
	}
}

#define REQ_OK(s)	expect_req((s), sizeof(s) - 1, HTTP1_DONE)
#define REQ_BAD(s)	expect_req((s), sizeof(s) - 1, HTTP1_ERROR)
#define GET		"GET / HTTP/1.1\r\nHost: t\r\n"
#define POST_CHUNKED	"POST / HTTP/1.1\r\nHost: t\r\n" \
			"Transfer-Encoding: chunked\r\n\r\n"

static void
header_names_with_blanks_are_refused(void)
{
	REQ_BAD("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked"
	    "\r\n\r\n0\r\n\r\n");
	REQ_BAD("POST / HTTP/1.1\r\nHost: t\r\nContent-Length : 0\r\n\r\n");
	REQ_BAD(GET "X A: b\r\n\r\n");
	REQ_BAD(GET "X-A\t: b\r\n\r\n");
	REQ_OK(GET "X-A: b\r\n\r\n");
}

static void
control_bytes_in_values_are_refused(void)
{
	REQ_BAD(GET "X-A: a\0b\r\n\r\n");
	REQ_BAD(GET "X-A: \0\r\n\r\n");
	REQ_BAD(GET "X-A: a\001b\r\n\r\n");
	REQ_BAD(GET "X-A: a\177b\r\n\r\n");
	REQ_BAD(GET "X-A: \033[31m\r\n\r\n");
	/* HTAB and obs-text stay legal */
	REQ_OK(GET "X-A: a\tb \xe9\r\n\r\n");
}

static void
control_bytes_in_targets_are_refused(void)
{
	REQ_BAD("GET /a\tb HTTP/1.1\r\nHost: t\r\n\r\n");
	REQ_BAD("GET /a\fb HTTP/1.1\r\nHost: t\r\n\r\n");
	REQ_OK("GET /a%09b HTTP/1.1\r\nHost: t\r\n\r\n");
}

static void
target_counts_towards_the_head_limit(void)
{
	static char b[8192];
	struct http1 h;
	size_t n;

	n = (size_t)snprintf(b, sizeof(b), "GET /%0*d HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", 5000, 0);
	CU_ASSERT_EQUAL(parse(HTTP1_REQUEST, b, n, (uint32_t)n, &h),
	    HTTP1_ERROR);
	CU_ASSERT_EQUAL(h.h_err, HTTP1_E_TOO_LARGE);
	n = (size_t)snprintf(b, sizeof(b), "GET /%0*d HTTP/1.1\r\nHost: t\r\n"
	    "\r\n", 3000, 0);
	CU_ASSERT_EQUAL(parse(HTTP1_REQUEST, b, n, (uint32_t)n, &h),
	    HTTP1_DONE);
}

static void
chunked_framing_is_strict(void)
{
	REQ_OK(POST_CHUNKED "5\r\nhello\r\n0\r\n\r\n");
	REQ_OK(POST_CHUNKED "5;a=b;c=\"d e\"\r\nhello\r\nA\r\n0123456789"
	    "\r\n0\r\nX-T: 1\r\n\r\n");
	REQ_OK(POST_CHUNKED "5 ;a\r\nhello\r\n0000000000000000\r\n\r\n");
	REQ_BAD(POST_CHUNKED "00000000000000005\r\nhello\r\n0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5 5\r\nhello\r\n0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5;a=\0\r\nhello\r\n0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5;a\001\r\nhello\r\n0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5\r\nhelloXX0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5\nhello\r\n0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5\r\nhello\n0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5\r\nhello\r\n0\r\nX-T: \0\r\n\r\n");
	REQ_BAD(POST_CHUNKED "5\r\nhello\r\n0\r\nX T: 1\r\n\r\n");
}

static void
chunked_responses_are_checked_too(void)
{
	static const char good[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
	static const char bad[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n3\r\nabcXX0\r\n\r\n";
	static const char head_only[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n";
	struct http1 h;
	uint32_t used, off;

	CU_ASSERT_EQUAL(parse(HTTP1_RESPONSE, good, sizeof(good) - 1, 1,
	    &h), HTTP1_DONE);
	CU_ASSERT_EQUAL(parse(HTTP1_RESPONSE, bad, sizeof(bad) - 1, 1,
	    &h), HTTP1_ERROR);
	/* the answer to HEAD has no body to check */
	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 4096);
	http1_set_nobody(&h);
	CU_ASSERT_EQUAL(http1_feed(&h, head_only, 0, sizeof(head_only) - 1,
	    &used), HTTP1_HEAD);
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, head_only, off, sizeof(head_only) -
	    1 - off, &used), HTTP1_DONE);
}

static void
chunked_body_moved_to_offset_zero_is_still_checked(void)
{
	/* conn.c may move the body to the start of its buffer after the
	 * head: the check must not rely on offsets from the head */
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n";
	static const char body[] = "\n5\r\nhello\r\n0\r\n\r\n";
	static const char badbody[] = "\n5\r\nhelloXX0\r\n\r\n";
	struct http1 h;
	uint32_t used;

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 4096);
	CU_ASSERT_EQUAL(http1_feed(&h, head, 0, sizeof(head) - 1, &used),
	    HTTP1_HEAD);
	CU_ASSERT_EQUAL(used, sizeof(head) - 2);	/* the LF is left */
	CU_ASSERT_EQUAL(http1_feed(&h, body, 0, sizeof(body) - 1, &used),
	    HTTP1_DONE);

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 4096);
	CU_ASSERT_EQUAL(http1_feed(&h, head, 0, sizeof(head) - 1, &used),
	    HTTP1_HEAD);
	CU_ASSERT_EQUAL(http1_feed(&h, badbody, 0, sizeof(badbody) - 1,
	    &used), HTTP1_ERROR);
}

static void
responses_without_a_body_ignore_chunked(void)
{
	/* RFC 9112 6.3: whatever the headers say; before, http-parser
	 * waited for chunks that never come and the request hung */
	static const char *const m[] = {
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked"
		    "\r\n\r\nHTTP/1.1",
		"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked"
		    "\r\n\r\nHTTP/1.1",
		"HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked"
		    "\r\n\r\nHTTP/1.1",
	};
	struct http1 h;
	uint32_t used, off, len;
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		len = (uint32_t)strlen(m[i]);
		http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 4096);
		CU_ASSERT_EQUAL(http1_feed(&h, m[i], 0, len, &used),
		    HTTP1_HEAD);
		off = used;
		CU_ASSERT_EQUAL(http1_feed(&h, m[i], off, len - off,
		    &used), HTTP1_DONE);
		/* the next response is not read into */
		CU_ASSERT_EQUAL(off + used, len - 8);
	}
}

static void
every_obs_fold_is_refused(void)
{
	static const char resp_fold[] = "HTTP/1.1 200 OK\r\nContent-Length:"
	    "\r\n 2\r\n\r\nok";
	static const char resp_ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2"
	    "\r\n\r\nok";
	struct http1 h;

	/* issue 5: obs-fold -> 400, whatever the first line part held;
	 * an empty one used to pass as if the fold were the value */
	REQ_BAD(GET "X-A: one\r\n two\r\n\r\n");
	REQ_BAD(GET "X-A:\r\n two\r\n\r\n");
	REQ_BAD(GET "X-A: \r\n\ttwo\r\n\r\n");
	REQ_BAD(GET "X-A:\n two\n\n");
	REQ_BAD(GET "X-A:\r\n \r\nX-B: 1\r\n\r\n");
	REQ_BAD(GET "X-A: 1\r\n\t\r\n\r\n");
	REQ_BAD("POST / HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n 0\r\n"
	    "\r\n");
	/* in the trailer section too */
	REQ_BAD(POST_CHUNKED "0\r\nX-T: 1\r\n 2\r\n\r\n");
	REQ_BAD(POST_CHUNKED "0\r\n\tX-T: 1\r\n\r\n");
	/* blanks inside and around a value are no fold */
	REQ_OK(GET "X-A:   one  two  \r\nX-B:\t\tx\r\n\r\n");
	REQ_OK(GET "X-A:\r\nX-B: \r\n\r\n");
	REQ_OK(GET "X-A:\nX-B:\t\n\n");
	REQ_OK(POST_CHUNKED "0\r\nX-T: 1 2\r\n\r\n");
	/* responses (canaryd answers 502) */
	CU_ASSERT_EQUAL(parse(HTTP1_RESPONSE, resp_fold,
	    sizeof(resp_fold) - 1, 1, &h), HTTP1_ERROR);
	CU_ASSERT_EQUAL(parse(HTTP1_RESPONSE, resp_fold,
	    sizeof(resp_fold) - 1, sizeof(resp_fold) - 1, &h),
	    HTTP1_ERROR);
	CU_ASSERT_EQUAL(parse(HTTP1_RESPONSE, resp_ok, sizeof(resp_ok) - 1,
	    1, &h), HTTP1_DONE);
}

/*
 * Each byte value at each place of a 40-byte run of name bytes and of
 * value bytes, from each start up to 20 bytes before: the spans stop
 * where h1_span() over the class table stops.
 */
static void
fast_spans_stop_where_the_table_does(void)
{
	unsigned char b[64];
	uint32_t at, p0, want, got;
	int ch, bad = 0;

	for (ch = 0; ch < 256; ch++)
		for (at = 0; at < 40; at++)
			for (p0 = 0; p0 <= at && p0 < 20; p0++) {
				memset(b, 'a', sizeof(b));
				b[at] = (unsigned char)ch;
				want = h1_span(b, p0, 40, H1_C_TCHAR);
				got = h1_span_token(b, p0, 40);
				bad += want != got;
				memset(b, 'v', sizeof(b));
				b[3] = ' ';
				b[at] = (unsigned char)ch;
				want = h1_span(b, p0, 40, H1_C_VALUE);
				got = h1_span_value(b, p0, 40);
				bad += want != got;
			}
	CU_ASSERT_EQUAL(bad, 0);
}

static CU_TestInfo tests[] = {
	{ "fast_spans_stop_where_the_table_does",
	    fast_spans_stop_where_the_table_does },
	{ "header_names_with_blanks_are_refused",
	    header_names_with_blanks_are_refused },
	{ "control_bytes_in_values_are_refused",
	    control_bytes_in_values_are_refused },
	{ "control_bytes_in_targets_are_refused",
	    control_bytes_in_targets_are_refused },
	{ "target_counts_towards_the_head_limit",
	    target_counts_towards_the_head_limit },
	{ "chunked_framing_is_strict", chunked_framing_is_strict },
	{ "chunked_responses_are_checked_too",
	    chunked_responses_are_checked_too },
	{ "chunked_body_moved_to_offset_zero_is_still_checked",
	    chunked_body_moved_to_offset_zero_is_still_checked },
	{ "responses_without_a_body_ignore_chunked",
	    responses_without_a_body_ignore_chunked },
	{ "every_obs_fold_is_refused", every_obs_fold_is_refused },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/http1_strict", tests);
