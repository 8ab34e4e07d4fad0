/*
 * libFuzzer harness for the request path: the worker's HTTP/1 parser in
 * request mode (http1_init/feed/eof, driven like conn_read_head() and
 * the body loop of worker/conn.c, pipelined requests included) and the
 * header policy that writes the upstream head (wrk_hdr_mark_request,
 * wrk_hdr_build_request).
 *
 * Input: byte 0 picks the read size (1..64 bytes, or everything at once),
 * the rest is what the client sends.  Beyond memory errors it checks
 * what the proxy promises the next hop: a head it accepts and forwards
 * is rebuilt as one clean head (no bare CR/LF/NUL), which a fresh parser
 * reads back with the same framing (chunked or not, with a length or
 * not) and exactly the headers that were meant to be forwarded.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/hdr.h"
#include "shared/http1.h"
#include "fuzz.h"

#define FZ_MAXHDRS	100		/* Envoy's max_headers_count */
#define FZ_HDR_LIMIT	(60 * 1024)	/* max_request_headers_kb */
#define FZ_MAXMSGS	8		/* pipelined requests per input */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* as the worker does at start (worker/worker.c) */
	http1_global_init(FZ_HDR_LIMIT + 4096);
	return 0;
}

/* Does conn_on_head() forward this head, rather than answer locally? */
static bool
req_forwarded(const struct http1 *p, const struct wrk_req_info *ri)
{
	int major, minor;

	http1_version(p, &major, &minor);
	if (major != 1 || ri->ri_bad_te || http1_is_connect(p) ||
	    http1_upgrade(p))
		return false;
	return minor == 0 || ri->ri_nhost > 0;
}

/* Write the upstream head for a parsed request and read it back.  False
 * when the worker would answer locally and close instead. */
static bool
req_rebuild(const char *base, struct http1 *p)
{
	struct http1_hdr hdrs2[FZ_MAXHDRS + 8];
	struct wrk_req_info ri;
	struct wrk_req_head rh;
	struct http1 p2;
	enum http1_ev ev;
	uint32_t used;
	uint16_t i, fwd = 0;
	size_t cap, len;
	char *out;

	wrk_hdr_mark_request(base, p->h_hdrs, p->h_nhdrs, &ri);
	FUZZ_CHECK(ri.ri_host < (int)p->h_nhdrs);
	FUZZ_CHECK(ri.ri_rid < (int)p->h_nhdrs);
	if (!req_forwarded(p, &ri))
		return false;
	memset(&rh, 0, sizeof(rh));
	rh.rh_base = base;
	rh.rh_hdrs = p->h_hdrs;
	rh.rh_nhdrs = p->h_nhdrs;
	rh.rh_method = http1_method(p);
	rh.rh_target = base + p->h_url.s_off;
	rh.rh_target_len = p->h_url.s_len;
	rh.rh_add_xfp = !ri.ri_has_xfp;
	rh.rh_request_id = ri.ri_rid < 0 ?
	    "01234567-89ab-4cde-8f01-23456789abcd" : NULL;
	rh.rh_expected_ms = 15000;
	rh.rh_chunked = http1_chunked(p);
	for (i = 0; i < p->h_nhdrs; i++)
		if (!(p->h_hdrs[i].h_kind & WRK_H_F_DROP))
			fwd++;
	fwd += rh.rh_add_xfp + (rh.rh_request_id != NULL) + 1 +
	    rh.rh_chunked;

	cap = p->h_head_end + wrk_hdr_request_extra(p->h_nhdrs, 0);
	if ((out = malloc(cap)) == NULL)
		abort();
	len = wrk_hdr_build_request(out, cap, &rh);
	/* the worker sizes its buffer this way and answers 431 on 0 */
	FUZZ_CHECK(len > 0);
	fz_check_clean_head(out, len);

	http1_init(&p2, HTTP1_REQUEST, hdrs2, FZ_MAXHDRS + 8,
	    FZ_HDR_LIMIT * 2);
	ev = http1_feed(&p2, out, 0, (uint32_t)len, &used);
	FUZZ_CHECK(ev == HTTP1_HEAD);
	FUZZ_CHECK(p2.h_head_end == len);
	FUZZ_CHECK(p2.h_nhdrs == fwd);
	FUZZ_CHECK(http1_chunked(&p2) == http1_chunked(p));
	FUZZ_CHECK(http1_has_length(&p2) == http1_has_length(p));
	FUZZ_CHECK(strcmp(http1_method(&p2), http1_method(p)) == 0);
	free(out);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_hdr hdrs[FZ_MAXHDRS];
	struct fz_stream s;
	struct http1 p;
	enum http1_ev ev;
	uint32_t used;
	size_t start = 0, parsed, guard;
	int msg;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.fs_step = data[0] < 192 ? 1 + data[0] % 64 : size;
	data++, size--;

	for (msg = 0; msg < FZ_MAXMSGS && start < size; msg++) {
		/* a pipelined request starts at offset 0 of a new buffer,
		 * as conn.c moves the leftover bytes down */
		s.fs_data = data + start;
		s.fs_len = size - start;
		s.fs_avail = 0;
		parsed = 0;
		http1_init(&p, HTTP1_REQUEST, hdrs, FZ_MAXHDRS,
		    FZ_HDR_LIMIT);
		for (guard = 0;; guard++) {
			FUZZ_CHECK(guard < 4 * size + 64);
			if (parsed == s.fs_avail && !fz_read(&s)) {
				ev = http1_eof(&p);
				FUZZ_CHECK(ev != HTTP1_HEAD);
				goto out;
			}
			ev = http1_feed(&p, s.fs_buf, (uint32_t)parsed,
			    (uint32_t)(s.fs_avail - parsed), &used);
			FUZZ_CHECK(used <= s.fs_avail - parsed);
			parsed += used;
			if (ev == HTTP1_ERROR) {
				FUZZ_CHECK(p.h_err != HTTP1_E_NONE);
				(void)http1_errstr(&p);
				goto out;	/* the worker closes */
			}
			if (ev == HTTP1_MORE)
				FUZZ_CHECK(parsed == s.fs_avail);
			if (ev == HTTP1_HEAD) {
				FUZZ_CHECK(p.h_head_end >= parsed &&
				    p.h_head_end <= parsed + 1 &&
				    p.h_head_end <= s.fs_avail);
				fz_check_slices(&p);
				if (!req_rebuild(s.fs_buf, &p))
					goto out;
			}
			if (ev == HTTP1_DONE)
				break;
		}
		if (!http1_keep_alive(&p))
			break;
		start += parsed;
	}
out:
	free(s.fs_buf);
	return 0;
}
