/*
 * Unit tests for the HTTP/1 parser (shared/http1.c): slices into
 * the caller's buffer, stops at the end of the head and of the message,
 * limits and error classes, response framing facts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "worker/hdr.h"
#include "shared/http1.h"

#define MAXH	8
#define BOUND	(128 * 1024)	/* http1_global_init() for the bound test */

static struct http1_hdr	hdrs[MAXH];

static bool
slice_is(const char *base, struct http1_slice s, const char *want)
{
	return s.s_len == strlen(want) && memcmp(base + s.s_off, want,
	    s.s_len) == 0;
}

static void
request_head_slices_and_stop_at_head(void)
{
	const char *b = "GET /a/b?c=d HTTP/1.1\r\nHost: x.org\r\n"
	    "X-Pad:   v  \r\n\r\nGET /next HTTP/1.1\r\n";
	struct http1 h;
	uint32_t used, off;
	int ma, mi;

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	CU_ASSERT(slice_is(b, h.h_url, "/a/b?c=d"));
	CU_ASSERT_EQUAL(h.h_nhdrs, 2);
	CU_ASSERT(slice_is(b, hdrs[0].h_name, "Host"));
	CU_ASSERT(slice_is(b, hdrs[0].h_value, "x.org"));
	CU_ASSERT(slice_is(b, hdrs[1].h_value, "v"));	/* blanks trimmed */
	CU_ASSERT_EQUAL(h.h_head_end, (uint32_t)(strstr(b, "GET /next") - b));
	CU_ASSERT_STRING_EQUAL(http1_method(&h), "GET");
	http1_version(&h, &ma, &mi);
	CU_ASSERT(ma == 1 && mi == 1);
	CU_ASSERT(http1_keep_alive(&h));
	/* resuming ends the message without reading into the next one */
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_DONE);
	CU_ASSERT_EQUAL(off + used, h.h_head_end);
}

static void
head_split_across_feeds_keeps_slices(void)
{
	const char *b = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5"
	    "\r\nX-Long-Name: long-value\r\n\r\nhello";
	uint32_t len = (uint32_t)strlen(b), off = 0, used, step;
	enum http1_ev ev = HTTP1_MORE;
	struct http1 h;

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	/* three bytes at a time, as a slow client would send them */
	while (off < len && ev == HTTP1_MORE) {
		step = len - off < 3 ? len - off : 3;
		ev = http1_feed(&h, b, off, step, &used);
		off += used;
		if (ev == HTTP1_MORE)
			CU_ASSERT_EQUAL(used, step);
	}
	CU_ASSERT_EQUAL_FATAL(ev, HTTP1_HEAD);
	CU_ASSERT(slice_is(b, h.h_url, "/upload"));
	CU_ASSERT(slice_is(b, hdrs[2].h_name, "X-Long-Name"));
	CU_ASSERT(slice_is(b, hdrs[2].h_value, "long-value"));
	CU_ASSERT(http1_has_length(&h));
	CU_ASSERT(!http1_chunked(&h));
	ev = http1_feed(&h, b, off, len - off, &used);
	CU_ASSERT_EQUAL(ev, HTTP1_DONE);
	CU_ASSERT_EQUAL(off + used, len);
}

static void
chunked_request_body_completes(void)
{
	const char *b = "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\nextra";
	struct http1 h;
	uint32_t used, off;

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	CU_ASSERT(http1_chunked(&h));
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_DONE);
	CU_ASSERT_EQUAL(off + used, (uint32_t)(strstr(b, "extra") - b));
	CU_ASSERT_EQUAL(h.h_nhdrs, 2);	/* the trailer is not a header */
}

static void
errors_are_classified(void)
{
	struct http1 h;
	uint32_t used;
	const char *cl_te = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	const char *many = "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
	const char *big = "GET / HTTP/1.1\r\nHost: 0123456789\r\n\r\n";
	const char *junk = "\x01GET / HTTP/1.1\r\n\r\n";
	const char *fold = "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n";

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, cl_te, 0, (uint32_t)strlen(cl_te),
	    &used), HTTP1_ERROR);
	CU_ASSERT_EQUAL(h.h_err, HTTP1_E_PROTOCOL);
	http1_init(&h, HTTP1_REQUEST, hdrs, 2, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, many, 0, (uint32_t)strlen(many),
	    &used), HTTP1_ERROR);
	CU_ASSERT_EQUAL(h.h_err, HTTP1_E_TOO_MANY);
	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 10);
	CU_ASSERT_EQUAL(http1_feed(&h, big, 0, (uint32_t)strlen(big),
	    &used), HTTP1_ERROR);
	CU_ASSERT_EQUAL(h.h_err, HTTP1_E_TOO_LARGE);
	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, junk, 0, (uint32_t)strlen(junk),
	    &used), HTTP1_ERROR);
	CU_ASSERT(!(h.h_flags & HTTP1_F_BEGUN));
	/* obs-fold would need the value's pieces glued: refused */
	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, fold, 0, (uint32_t)strlen(fold),
	    &used), HTTP1_ERROR);
	/* an error sticks */
	CU_ASSERT_EQUAL(http1_feed(&h, fold, 0, 1, &used), HTTP1_ERROR);
}

static void
eof_inside_head_is_an_error_between_messages_not(void)
{
	const char *part = "GET / HT";
	struct http1 h;
	uint32_t used;

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_eof(&h), HTTP1_MORE);
	CU_ASSERT_EQUAL(http1_feed(&h, part, 0, (uint32_t)strlen(part),
	    &used), HTTP1_MORE);
	CU_ASSERT_EQUAL(http1_eof(&h), HTTP1_ERROR);
	CU_ASSERT_EQUAL(h.h_err, HTTP1_E_EOF);
}

static void
response_interim_then_final(void)
{
	const char *b = "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct http1 h;
	uint32_t used, off;

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	CU_ASSERT_EQUAL(http1_status(&h), 100);
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_DONE);
	off += used;
	CU_ASSERT_EQUAL(off, (uint32_t)(strstr(b, "HTTP/1.1 200") - b));
	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_HEAD);
	CU_ASSERT_EQUAL(http1_status(&h), 200);
	CU_ASSERT(slice_is(b, h.h_reason, "OK"));
}

static void
response_to_head_has_no_body(void)
{
	const char *b = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
	struct http1 h;
	uint32_t used, off;

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 1024);
	http1_set_nobody(&h);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	CU_ASSERT(!http1_until_eof(&h));
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_DONE);
}

static void
close_delimited_response_ends_at_eof(void)
{
	const char *b = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nsome body";
	struct http1 h;
	uint32_t used, off;

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	CU_ASSERT(http1_until_eof(&h));
	CU_ASSERT(!http1_keep_alive(&h));
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_MORE);
	CU_ASSERT_EQUAL(http1_eof(&h), HTTP1_DONE);
}

static void
truncated_length_response_is_an_error_at_eof(void)
{
	const char *b = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	struct http1 h;
	uint32_t used, off;

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_MORE);
	CU_ASSERT_EQUAL(http1_eof(&h), HTTP1_ERROR);
}

static void
collect_mode_records_dechunked_body(void)
{
	const char *b = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	struct http1 h;
	uint32_t used, off, i;
	char got[16];
	size_t n = 0;

	http1_init(&h, HTTP1_RESPONSE, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	http1_set_collect(&h);
	off = used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, (uint32_t)strlen(b) - off,
	    &used), HTTP1_DONE);
	for (i = 0; i < h.h_nbody; i++) {
		memcpy(got + n, b + h.h_body[i].s_off, h.h_body[i].s_len);
		n += h.h_body[i].s_len;
	}
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_NSTRING_EQUAL(got, "abcde", 5);
}

static void
upgrade_request_is_flagged(void)
{
	const char *b = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n";
	struct http1 h;
	uint32_t used;

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, 0, (uint32_t)strlen(b), &used),
	    HTTP1_HEAD);
	CU_ASSERT(http1_upgrade(&h));
	CU_ASSERT(!http1_is_connect(&h));
}

static void
next_message_after_done_on_the_same_parser(void)
{
	const char *b = "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: t\r\n\r\n"
	    "\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\n";
	uint32_t len = (uint32_t)strlen(b), off = 0, used;
	struct http1 h;

	http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 1024);
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, len - off, &used), HTTP1_HEAD);
	off += used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, len - off, &used), HTTP1_DONE);
	off += used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, len - off, &used), HTTP1_HEAD);
	CU_ASSERT(slice_is(b, h.h_url, "/two"));
	CU_ASSERT_EQUAL(h.h_nhdrs, 1);
	CU_ASSERT(!http1_chunked(&h));
	off += used;
	CU_ASSERT_EQUAL(http1_feed(&h, b, off, len - off, &used), HTTP1_DONE);
	CU_ASSERT_EQUAL(off + used, len);
}

/* Feed b[0, len) step bytes at a time; the last event. */
static enum http1_ev
feed_steps(struct http1 *h, const char *b, uint32_t len, uint32_t step)
{
	enum http1_ev ev = HTTP1_MORE;
	uint32_t off = 0, avail = 0, used;

	while (off < len || ev == HTTP1_HEAD) {
		if (off == avail)
			avail = avail + step > len ? len : avail + step;
		ev = http1_feed(h, b, off, avail - off, &used);
		off += used;
		if (ev == HTTP1_DONE || ev == HTTP1_ERROR)
			break;
	}
	return ev;
}

static void
head_bound_counts_every_head_byte(void)
{
	static char b[3 * BOUND];
	static const uint32_t steps[] = { 1000, 3 * BOUND };
	struct http1 h;
	uint32_t n, i, s;

	http1_global_init(BOUND);
	for (s = 0; s < 2; s++) {
		/* a head of exactly the bound ends, and its last LF is
		 * counted again when the body starts: over; one byte less
		 * is fine */
		for (i = 0; i < 2; i++) {
			n = (uint32_t)snprintf(b, sizeof(b), "GET / HTTP/1.1\r\n"
			    "Host: h\r\nX: %0*d\r\n\r\n", BOUND - 32 - (int)i,
			    0);
			CU_ASSERT_EQUAL(n, BOUND - i);
			http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 3 * BOUND);
			CU_ASSERT_EQUAL(feed_steps(&h, b, n, steps[s]),
			    i == 0 ? HTTP1_ERROR : HTTP1_DONE);
			CU_ASSERT_EQUAL(h.h_err, i == 0 ? HTTP1_E_TOO_LARGE :
			    HTTP1_E_NONE);
		}
		/* blank lines before a message count */
		for (n = 0; n < BOUND + 2; n += 2)
			memcpy(b + n, "\r\n", 2);
		n += (uint32_t)snprintf(b + n, sizeof(b) - n,
		    "GET / HTTP/1.1\r\n\r\n");
		http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 3 * BOUND);
		CU_ASSERT_EQUAL(feed_steps(&h, b, n, steps[s]), HTTP1_ERROR);
		CU_ASSERT_EQUAL(h.h_err, HTTP1_E_TOO_LARGE);
		CU_ASSERT(!(h.h_flags & HTTP1_F_BEGUN));
		/* and so does a chunk-size line, from its first byte */
		n = (uint32_t)snprintf(b, sizeof(b), "POST / HTTP/1.1\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n1;%0*d\r\nx\r\n0\r\n"
		    "\r\n", BOUND, 0);
		http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 3 * BOUND);
		CU_ASSERT_EQUAL(feed_steps(&h, b, n, steps[s]), HTTP1_ERROR);
		CU_ASSERT_EQUAL(h.h_err, HTTP1_E_TOO_LARGE);
		n = (uint32_t)snprintf(b, sizeof(b), "POST / HTTP/1.1\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n1;%0*d\r\nx\r\n0\r\n"
		    "\r\n", BOUND - 10, 0);
		http1_init(&h, HTTP1_REQUEST, hdrs, MAXH, 3 * BOUND);
		CU_ASSERT_EQUAL(feed_steps(&h, b, n, steps[s]), HTTP1_DONE);
	}
}

static CU_TestInfo tests[] = {
	{ "request_head_slices_and_stop_at_head",
	    request_head_slices_and_stop_at_head },
	{ "head_split_across_feeds_keeps_slices",
	    head_split_across_feeds_keeps_slices },
	{ "chunked_request_body_completes", chunked_request_body_completes },
	{ "errors_are_classified", errors_are_classified },
	{ "eof_inside_head_is_an_error_between_messages_not",
	    eof_inside_head_is_an_error_between_messages_not },
	{ "response_interim_then_final", response_interim_then_final },
	{ "response_to_head_has_no_body", response_to_head_has_no_body },
	{ "close_delimited_response_ends_at_eof",
	    close_delimited_response_ends_at_eof },
	{ "truncated_length_response_is_an_error_at_eof",
	    truncated_length_response_is_an_error_at_eof },
	{ "collect_mode_records_dechunked_body",
	    collect_mode_records_dechunked_body },
	{ "upgrade_request_is_flagged", upgrade_request_is_flagged },
	{ "head_bound_counts_every_head_byte",
	    head_bound_counts_every_head_byte },
	{ "next_message_after_done_on_the_same_parser",
	    next_message_after_done_on_the_same_parser },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/http1", tests)
