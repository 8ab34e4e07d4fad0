/*
 * libFuzzer harness for the response path: the worker's HTTP/1 parser in
 * response mode, driven like conn_resp_parse() and conn_resp_eof() of
 * worker/conn.c (interim 1xx responses skipped, de-chunking collect mode
 * for HTTP/1.0 clients, HEAD requests), and the header policy that writes
 * the client's head (wrk_hdr_mark_response, wrk_hdr_framing,
 * wrk_hdr_build_response).
 *
 * Input: byte 0 picks the read size (1..64 bytes, or everything at once);
 * byte 1 bit 0: the request was HEAD, bit 1: the client speaks HTTP/1.0;
 * the rest is what the upstream sends.  Beyond memory errors it checks
 * what the client is promised: the head written is one clean head that a
 * fresh parser reads back with the framing the proxy chose (never both a
 * length and chunked, so a response cannot be split), and de-chunked body
 * slices lie inside what was read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/hdr.h"
#include "shared/http1.h"
#include "fuzz.h"

#define FZ_MAXHDRS	100
#define FZ_HDR_LIMIT	(80 * 1024)
#define FZ_DATE		"Sun, 06 Nov 1994 08:49:37 GMT"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	http1_global_init(FZ_HDR_LIMIT + 4096);
	return 0;
}

/* Write the client head as conn_resp_head() does and read it back. */
static enum wrk_frame
resp_rebuild(const char *base, struct http1 *p, bool head_req,
    bool http10)
{
	struct http1_hdr hdrs2[FZ_MAXHDRS + 8];
	struct wrk_resp_info si;
	struct wrk_resp_head sh;
	struct http1 p2;
	enum http1_ev ev;
	enum wrk_frame fr;
	uint32_t used;
	uint16_t i;
	size_t cap, len;
	char *out;

	wrk_hdr_mark_response(base, p->h_hdrs, p->h_nhdrs, &si);
	fr = wrk_hdr_framing(head_req, http1_status(p),
	    http1_has_length(p), http1_chunked(p),
	    http1_until_eof(p), http10);
	if (fr == WRK_FRAME_RECHUNK || fr == WRK_FRAME_EOF)
		for (i = 0; i < p->h_nhdrs; i++)
			if (WRK_H_KIND(p->h_hdrs[i].h_kind) ==
			    WRK_H_CONTENT_LENGTH)
				p->h_hdrs[i].h_kind |= WRK_H_F_DROP;
	memset(&sh, 0, sizeof(sh));
	sh.sh_base = base;
	sh.sh_hdrs = p->h_hdrs;
	sh.sh_nhdrs = p->h_nhdrs;
	sh.sh_status = http1_status(p);
	sh.sh_server = "canaryd";
	sh.sh_server_len = 7;
	sh.sh_date = FZ_DATE;
	sh.sh_has_date = si.si_has_date;
	sh.sh_service_ms = 3;
	sh.sh_chunked = fr == WRK_FRAME_RECHUNK || fr == WRK_FRAME_CHUNKED;
	sh.sh_conn = http10 ? WRK_CONN_NONE : WRK_CONN_CLOSE;
	sh.sh_request_id = "01234567-89ab-4cde-8f01-23456789abcd";
	sh.sh_request_id_len = WRK_UUID_LEN;

	cap = p->h_head_end + wrk_hdr_response_extra(sh.sh_nhdrs,
	    sh.sh_server_len, sh.sh_request_id_len);
	if ((out = malloc(cap)) == NULL)
		abort();
	len = wrk_hdr_build_response(out, cap, &sh);
	FUZZ_CHECK(len > 0);
	fz_check_clean_head(out, len);

	http1_init(&p2, HTTP1_RESPONSE, hdrs2, FZ_MAXHDRS + 8,
	    FZ_HDR_LIMIT * 2);
	if (head_req)
		http1_set_nobody(&p2);
	ev = http1_feed(&p2, out, 0, (uint32_t)len, &used);
	FUZZ_CHECK(ev == HTTP1_HEAD);
	FUZZ_CHECK(p2.h_head_end == len);
	FUZZ_CHECK(http1_status(&p2) == http1_status(p));
	/* one framing, and the one chosen */
	FUZZ_CHECK(!(http1_chunked(&p2) && http1_has_length(&p2)));
	if (fr == WRK_FRAME_CHUNKED || fr == WRK_FRAME_RECHUNK)
		FUZZ_CHECK(http1_chunked(&p2));
	if (fr == WRK_FRAME_LENGTH)
		FUZZ_CHECK(http1_has_length(&p2) &&
		    !http1_chunked(&p2));
	if (fr == WRK_FRAME_EOF || fr == WRK_FRAME_DECHUNK)
		FUZZ_CHECK(!http1_chunked(&p2) &&
		    !http1_has_length(&p2));
	free(out);
	return fr;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_hdr hdrs[FZ_MAXHDRS];
	struct fz_stream s;
	struct http1 p;
	enum http1_ev ev;
	enum wrk_frame fr = WRK_FRAME_NONE;
	bool head_req, http10, have_head = false;
	uint32_t used, i;
	size_t parsed = 0, guard;
	uint16_t st;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.fs_step = data[0] < 192 ? 1 + data[0] % 64 : size;
	head_req = data[1] & 1;
	http10 = (data[1] & 2) != 0;
	data += 2, size -= 2;

	s.fs_data = data;
	s.fs_len = size;
	http1_init(&p, HTTP1_RESPONSE, hdrs, FZ_MAXHDRS, FZ_HDR_LIMIT);
	if (head_req)
		http1_set_nobody(&p);
	for (guard = 0;; guard++) {
		FUZZ_CHECK(guard < 4 * size + 64);
		if (parsed == s.fs_avail && !fz_read(&s)) {
			ev = http1_eof(&p);
			FUZZ_CHECK(ev != HTTP1_HEAD);
			if (ev == HTTP1_DONE)
				FUZZ_CHECK(have_head &&
				    http1_until_eof(&p));
			break;
		}
		ev = http1_feed(&p, s.fs_buf, (uint32_t)parsed,
		    (uint32_t)(s.fs_avail - parsed), &used);
		FUZZ_CHECK(used <= s.fs_avail - parsed);
		parsed += used;
		if (ev == HTTP1_ERROR) {
			FUZZ_CHECK(p.h_err != HTTP1_E_NONE);
			(void)http1_errstr(&p);
			break;	/* 502, or the client connection closed */
		}
		if (ev == HTTP1_MORE)
			FUZZ_CHECK(parsed == s.fs_avail);
		if (!have_head && ev == HTTP1_HEAD) {
			FUZZ_CHECK(p.h_head_end >= parsed &&
			    p.h_head_end <= parsed + 1 &&
			    p.h_head_end <= s.fs_avail);
			fz_check_slices(&p);
			st = http1_status(&p);
			if (st / 100 == 1 && st != 101)
				continue;	/* interim: dropped */
			if (st == 101 || st < 100 || st > 599)
				break;		/* 502 */
			fr = resp_rebuild(s.fs_buf, &p, head_req, http10);
			if (fr == WRK_FRAME_DECHUNK)
				http1_set_collect(&p);
			have_head = true;
			continue;
		}
		if (!have_head && ev == HTTP1_DONE) {
			/* a 1xx ended: a new parser for what follows,
			 * which conn.c moves to offset 0 */
			fz_shift(&s, parsed);
			parsed = 0;
			http1_init(&p, HTTP1_RESPONSE, hdrs,
			    FZ_MAXHDRS, FZ_HDR_LIMIT);
			if (head_req)
				http1_set_nobody(&p);
			continue;
		}
		if (have_head && fr == WRK_FRAME_DECHUNK) {
			FUZZ_CHECK(p.h_nbody <= HTTP1_MAXBODY);
			for (i = 0; i < p.h_nbody; i++)
				FUZZ_CHECK(p.h_body[i].s_off +
				    (uint64_t)p.h_body[i].s_len <= parsed);
		}
		if (have_head && ev == HTTP1_DONE)
			break;
	}
	free(s.fs_buf);
	return 0;
}
