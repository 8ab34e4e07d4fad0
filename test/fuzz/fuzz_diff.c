/*
 * Differential libFuzzer harness: shared/http1.c against the parsing it
 * replaced (h1_oracle.c: the old strict scan in front of http-parser,
 * with its whole-head and chunked framing checks).  Both read the same
 * stream, fed the same way (small reads, each in a fresh buffer, a new
 * parser for each pipelined message), and must agree after every feed:
 *
 *   - the event, and the bytes used (unless it is an error);
 *   - the error kind, whether the message had begun and the fields
 *     recorded so far (the admin server looks at them on an error);
 *   - where the head ends, the target, reason and every field slice;
 *   - the body slices of collect mode and the body byte count;
 *   - what callers ask of a head and of a whole message: method,
 *     version, status, keep-alive, chunked, length, upgrade, until-EOF;
 *   - at the end of the stream, what http1_eof() says.
 *
 * http1_head_len() must agree with the old scan on every message's
 * bytes, its reason for a refusal included.
 *
 * Input: byte 0 picks requests (even) or responses (odd) and the read
 * size (1 + (b >> 1) % 64 bytes per read, all at once from 192 up); byte
 * 1 the options: bit 0 the response answers HEAD, bit 1 collect mode,
 * bits 2-4 the field count limit (0: 100, else 1-7), bits 5-7 the limit
 * on target, name and value bytes (0: 60 KiB, else 8 << n); the rest is
 * the byte stream, up to FZ_MAXMSGS pipelined messages.
 *
 * Where the parser deliberately differs (fz_known_difference(),
 * fz_framing_unchecked()), the comparison stops.  Not compared on an error: which words the log gets,
 * and what http-parser took on past a chunked framing error until the
 * end of the feed (body bytes, the end of the message).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/http1.h"
#include "fuzz.h"
#include "h1_oracle.h"

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
	oh1_global_init(FZ_HDR_LIMIT + 4096);
	return 0;
}

/* One message's two parsers and what they were given. */
struct fz_pair {
	struct http1		 fp_n;
	struct oh1		 fp_o;
	struct http1_hdr	 fp_nh[FZ_MAXHDRS];
	struct http1_hdr	 fp_oh[FZ_MAXHDRS];
};

static bool
fz_slice_eq(struct http1_slice a, struct http1_slice b)
{
	return a.s_off == b.s_off && a.s_len == b.s_len;
}

/*
 * Inputs where the parser differs on purpose: a field name that starts
 * with "transfer-encoding" and goes on is another field (RFC 9110 5.1),
 * which http-parser took for a Transfer-Encoding.
 */
static bool
fz_known_difference(const uint8_t *p, size_t len)
{
	static const char te[] = "transfer-encoding";
	size_t i;

	for (i = 0; i + sizeof(te) <= len; i++)
		if (strncasecmp((const char *)p + i, te, sizeof(te) - 1) == 0 &&
		    p[i + sizeof(te) - 1] != 0 &&
		    (isalnum(p[i + sizeof(te) - 1]) ||
		    strchr("!#$%&'*+-.^_`|~", p[i + sizeof(te) - 1]) != NULL))
			return true;
	return false;
}

/* The fields recorded so far are the same. */
static void
fz_check_fields(const struct fz_pair *fp)
{
	uint16_t i;

	FUZZ_CHECK(fp->fp_n.h_nhdrs == fp->fp_o.h_nhdrs);
	for (i = 0; i < fp->fp_n.h_nhdrs; i++)
		FUZZ_CHECK(fz_slice_eq(fp->fp_nh[i].h_name,
		    fp->fp_oh[i].h_name));
}

/* What a caller asks of a head, or of a whole message. */
static void
fz_check_facts(const struct fz_pair *fp)
{
	const struct http1 *n = &fp->fp_n;
	const struct oh1 *o = &fp->fp_o;
	int nma, nmi, oma, omi;

	FUZZ_CHECK(strcmp(http1_method(n), oh1_method(o)) == 0);
	FUZZ_CHECK(http1_is_head_method(n) == oh1_is_head_method(o));
	FUZZ_CHECK(http1_is_connect(n) == oh1_is_connect(o));
	http1_version(n, &nma, &nmi);
	oh1_version(o, &oma, &omi);
	FUZZ_CHECK(nma == oma && nmi == omi);
	FUZZ_CHECK(http1_status(n) == oh1_status(o));
	FUZZ_CHECK(http1_keep_alive(n) == oh1_keep_alive(o));
	FUZZ_CHECK(http1_chunked(n) == oh1_chunked(o));
	FUZZ_CHECK(http1_has_length(n) == oh1_has_length(o));
	FUZZ_CHECK(http1_content_length(n) == oh1_content_length(o));
	FUZZ_CHECK(http1_upgrade(n) == oh1_upgrade(o));
	FUZZ_CHECK(http1_until_eof(n) == oh1_until_eof(o));
}

/* After a feed (or the end of the stream) that gave ev to both. */
static void
fz_check_state(const struct fz_pair *fp, enum http1_ev ev)
{
	const struct http1 *n = &fp->fp_n;
	const struct oh1 *o = &fp->fp_o;
	uint8_t i;

	FUZZ_CHECK(n->h_err == o->h_err);
	fz_check_fields(fp);
	if (ev == HTTP1_ERROR) {
		FUZZ_CHECK((n->h_flags & ~HTTP1_F_DONE) ==
		    (o->h_flags & ~HTTP1_F_DONE));
		return;
	}
	FUZZ_CHECK(n->h_flags == o->h_flags);
	FUZZ_CHECK(n->h_body_bytes == o->h_body_bytes);
	FUZZ_CHECK(n->h_nbody == o->h_nbody);
	for (i = 0; i < n->h_nbody; i++)
		FUZZ_CHECK(fz_slice_eq(n->h_body[i], o->h_body[i]));
	if (ev == HTTP1_HEAD) {
		FUZZ_CHECK(n->h_head_end == o->h_head_end);
		FUZZ_CHECK(fz_slice_eq(n->h_url, o->h_url));
		FUZZ_CHECK(fz_slice_eq(n->h_reason, o->h_reason));
		FUZZ_CHECK(n->h_hdr_bytes == o->h_hdr_bytes);
		for (i = 0; i < n->h_nhdrs; i++)
			FUZZ_CHECK(fz_slice_eq(fp->fp_nh[i].h_value,
			    fp->fp_oh[i].h_value));
		fz_check_slices(n);
	}
	if (ev == HTTP1_HEAD || ev == HTTP1_DONE)
		fz_check_facts(fp);
}

/* http1_head_len() and the old scan on the bytes of a message. */
static void
fz_check_head_len(enum http1_kind kind, const uint8_t *p, size_t len)
{
	const char *nwhy, *owhy;
	long nl, ol;

	nl = http1_head_len(kind, (const char *)p, len, &nwhy);
	ol = oh1_head_len(kind, (const char *)p, len, &owhy);
	FUZZ_CHECK(nl == ol);
	if (nl == -1)
		FUZZ_CHECK(nwhy != NULL && owhy != NULL &&
		    strcmp(nwhy, owhy) == 0);
}

static void
fz_pair_init(struct fz_pair *fp, enum http1_kind kind, uint8_t opt)
{
	uint16_t maxh = (opt >> 2) & 7 ? (opt >> 2) & 7 : FZ_MAXHDRS;
	uint32_t lim = opt >> 5 ? 8u << (opt >> 5) : FZ_HDR_LIMIT;

	http1_init(&fp->fp_n, kind, fp->fp_nh, maxh, lim);
	oh1_init(&fp->fp_o, kind, fp->fp_oh, maxh, lim);
	if (kind == HTTP1_RESPONSE && (opt & 1)) {
		http1_set_nobody(&fp->fp_n);
		oh1_set_nobody(&fp->fp_o);
	}
	if (kind == HTTP1_RESPONSE && (opt & 2)) {
		http1_set_collect(&fp->fp_n);
		oh1_set_collect(&fp->fp_o);
	}
}

/*
 * The old parsing checked chunked framing only while http-parser's
 * chunked flag was up, and a trailer field named Transfer-Encoding takes
 * it down: from the feed that holds one on, the old framing was
 * http-parser's lax one (a bare CR and any byte ended the message).  The
 * parser keeps the strict framing there; nothing left to compare.
 */
static bool
fz_framing_unchecked(const struct fz_pair *fp, bool chunked)
{
	return chunked && (fp->fp_o.h_flags & HTTP1_F_HEAD) &&
	    !oh1_chunked(&fp->fp_o);
}

/* Feed one message (from s's start) to both; bytes it took, or 0 when
 * the stream ended or an error stopped it. */
static size_t
fz_message(struct fz_pair *fp, struct fz_stream *s, size_t size)
{
	enum http1_ev ev, oev;
	uint32_t used, oused;
	size_t parsed = 0, guard;
	bool chunked = false;

	for (guard = 0;; guard++) {
		FUZZ_CHECK(guard < 4 * size + 64);
		if (parsed == s->fs_avail && !fz_read(s)) {
			ev = http1_eof(&fp->fp_n);
			oev = oh1_eof(&fp->fp_o);
			FUZZ_CHECK(ev == oev);
			fz_check_state(fp, ev);
			return 0;
		}
		ev = http1_feed(&fp->fp_n, s->fs_buf, (uint32_t)parsed,
		    (uint32_t)(s->fs_avail - parsed), &used);
		oev = oh1_feed(&fp->fp_o, s->fs_buf, (uint32_t)parsed,
		    (uint32_t)(s->fs_avail - parsed), &oused);
		if (fz_framing_unchecked(fp, chunked))
			return 0;
		if (ev == HTTP1_HEAD)
			chunked = oh1_chunked(&fp->fp_o) &&
			    !(fp->fp_o.h_flags & (HTTP1_F_NOBODY |
			    HTTP1_F_NOSTATUSBODY));
		FUZZ_CHECK(ev == oev);
		FUZZ_CHECK(used <= s->fs_avail - parsed);
		fz_check_state(fp, ev);
		if (ev == HTTP1_ERROR) {
			(void)http1_errstr(&fp->fp_n);
			return 0;
		}
		FUZZ_CHECK(used == oused);
		parsed += used;
		if (ev == HTTP1_DONE)
			return parsed;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_pair fp;
	enum http1_kind kind;
	struct fz_stream s;
	size_t start = 0, parsed;
	uint8_t opt;
	int msg;

	if (size < 2 || fz_known_difference(data + 2, size - 2))
		return 0;
	memset(&s, 0, sizeof(s));
	kind = (data[0] & 1) ? HTTP1_RESPONSE : HTTP1_REQUEST;
	s.fs_step = data[0] < 192 ? 1 + (data[0] >> 1) % 64 : size;
	opt = data[1];
	data += 2, size -= 2;

	for (msg = 0; msg < FZ_MAXMSGS && start < size; msg++) {
		s.fs_data = data + start;
		s.fs_len = size - start;
		s.fs_avail = 0;
		fz_check_head_len(kind, s.fs_data, s.fs_len);
		fz_pair_init(&fp, kind, opt);
		if ((parsed = fz_message(&fp, &s, size)) == 0)
			break;
		if (!http1_keep_alive(&fp.fp_n))
			break;
		start += parsed;
	}
	free(s.fs_buf);
	return 0;
}
