/*
 * Differential libFuzzer harness: the strict head scan of shared/http1.c
 * (http1_head_len) against http-parser itself, and the parser wrapper
 * (http1_feed, fed in small reads as worker/conn.c does) against both.
 * They must agree on where every head and every body they accept ends:
 *
 *   - when the scan accepts a head (or a valid beginning of one), plain
 *     http-parser ends that head on the same byte, or not at all in the
 *     bytes given, or refuses it;
 *   - when the wrapper reports a head, it ends where the scan says;
 *   - when the wrapper reports a complete message, plain http-parser
 *     completes it on the same byte.
 *
 * This harness is test code: it includes <http_parser.h> to drive the
 * library without the wrapper, which only shared/http1.c may do in the
 * program itself.
 *
 * Input: byte 0 picks requests (even) or responses (odd) and the read
 * size (1 + (b >> 1) % 64 bytes per read, all at once from 192 up); the
 * rest is the byte stream, up to FZ_MAXMSGS pipelined messages.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "shared/http1.h"
#include "fuzz.h"

#define FZ_MAXHDRS	100
#define FZ_HDR_LIMIT	(60 * 1024)
#define FZ_MAXMSGS	4

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

/* Where plain http-parser ends the head and the message of one stream. */
struct fz_raw {
	bool	 fr_head;	/* headers_complete seen */
	bool	 fr_done;	/* message_complete seen */
	bool	 fr_nobody;	/* 1xx, 204, 304: no body, as the wrapper */
};

static int
raw_on_head(http_parser *p)
{
	struct fz_raw *r = p->data;

	r->fr_head = true;
	if (p->type == HTTP_RESPONSE && (p->status_code / 100 == 1 ||
	    p->status_code == 204 || p->status_code == 304))
		return 1;
	return 0;
}

static int
raw_on_done(http_parser *p)
{
	struct fz_raw *r = p->data;

	r->fr_done = true;
	return 0;
}

static const http_parser_settings raw_settings = {
	.on_headers_complete = raw_on_head,
	.on_message_complete = raw_on_done,
};

/*
 * Run plain http-parser over p[0, len), one byte per call so that the
 * byte each callback fires on is known: *head gets the offset just past
 * the head (0: not ended), *done the offset just past the message (0:
 * not complete).  Returns false when it refused the bytes first.
 */
static bool
raw_parse(enum http1_kind kind, const char *p, size_t len, size_t *head,
    size_t *done)
{
	http_parser hp;
	struct fz_raw r;
	size_t i;

	memset(&r, 0, sizeof(r));
	http_parser_init(&hp, kind == HTTP1_REQUEST ? HTTP_REQUEST :
	    HTTP_RESPONSE);
	hp.data = &r;
	*head = *done = 0;
	for (i = 0; i < len; i++) {
		if (http_parser_execute(&hp, &raw_settings, p + i, 1) != 1 ||
		    HTTP_PARSER_ERRNO(&hp) != HPE_OK)
			return false;
		if (r.fr_head && *head == 0)
			*head = i + 1;
		if (r.fr_done) {
			*done = i + 1;
			break;
		}
	}
	return true;
}

/* The scan and plain http-parser on one message starting at p. */
static long
check_scan(enum http1_kind kind, const char *p, size_t len)
{
	const char *why;
	size_t head, done;
	long sl;
	bool ok;

	sl = http1_head_len(kind, p, len, &why);
	FUZZ_CHECK(sl >= -1 && sl <= (long)len);
	FUZZ_CHECK(sl != -1 || why != NULL);
	ok = raw_parse(kind, p, len, &head, &done);
	if (sl > 0 && ok)
		FUZZ_CHECK(head == 0 || head == (size_t)sl);
	if (sl > 0 && head != 0)
		FUZZ_CHECK(head == (size_t)sl);
	if (sl == 0)
		FUZZ_CHECK(head == 0);	/* no head ends before the scan's */
	return sl;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_hdr hdrs[FZ_MAXHDRS];
	enum http1_kind kind;
	struct fz_stream s;
	struct http1 p;
	enum http1_ev ev;
	uint32_t used;
	size_t start = 0, parsed, guard, rhead, rdone;
	long sl;
	int msg;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	kind = (data[0] & 1) ? HTTP1_RESPONSE : HTTP1_REQUEST;
	s.fs_step = data[0] < 192 ? 1 + (data[0] >> 1) % 64 : size;
	data++, size--;

	for (msg = 0; msg < FZ_MAXMSGS && start < size; msg++) {
		s.fs_data = data + start;
		s.fs_len = size - start;
		s.fs_avail = 0;
		parsed = 0;
		sl = check_scan(kind, (const char *)s.fs_data, s.fs_len);
		http1_init(&p, kind, hdrs, FZ_MAXHDRS, FZ_HDR_LIMIT);
		for (guard = 0;; guard++) {
			FUZZ_CHECK(guard < 4 * size + 64);
			if (parsed == s.fs_avail && !fz_read(&s))
				goto out;	/* eof: nothing more to compare */
			ev = http1_feed(&p, s.fs_buf, (uint32_t)parsed,
			    (uint32_t)(s.fs_avail - parsed), &used);
			FUZZ_CHECK(used <= s.fs_avail - parsed);
			parsed += used;
			if (ev == HTTP1_ERROR)
				goto out;
			if (ev == HTTP1_HEAD) {
				/* the wrapper's head is the scan's */
				FUZZ_CHECK(sl > 0 && p.h_head_end == (size_t)sl);
				fz_check_slices(&p);
			}
			if (ev == HTTP1_DONE)
				break;
		}
		/* a message the wrapper accepted whole ends where plain
		 * http-parser ends it */
		FUZZ_CHECK(raw_parse(kind, (const char *)s.fs_data, parsed,
		    &rhead, &rdone));
		FUZZ_CHECK(rhead == (size_t)sl);
		FUZZ_CHECK(rdone == parsed);
		if (!http1_keep_alive(&p))
			break;
		start += parsed;
	}
out:
	free(s.fs_buf);
	return 0;
}
