/*
 * Helpers shared by the libFuzzer harnesses of test/fuzz/: feeding a
 * message to the worker's parser wrapper the way worker/conn.c does, but
 * in pieces whose size the input chooses, each piece in a freshly
 * allocated buffer of exactly the bytes read so far.  A slice or pointer
 * kept across feeds then points into freed memory, and a read past what
 * was handed to the parser runs off the allocation: ASan reports both.
 *
 * FUZZ_CHECK aborts (libFuzzer saves the input) when an invariant the
 * worker relies on does not hold; it stays on whatever NDEBUG says.
 */
#ifndef CANARYD_TEST_FUZZ_FUZZ_H
#define CANARYD_TEST_FUZZ_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/http1.h"

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The message bytes and how much of them the "socket" delivered. */
struct fz_stream {
	const uint8_t	*fs_data;	/* the whole input */
	size_t		 fs_len;
	size_t		 fs_step;	/* bytes per read, >= 1 */
	size_t		 fs_avail;	/* delivered so far */
	char		*fs_buf;	/* exactly fs_avail bytes, or NULL */
};

/* Deliver the next read: a new buffer holding fs_data[0, fs_avail + step).
 * Returns 0 when nothing was left to deliver. */
static inline int
fz_read(struct fz_stream *s)
{
	size_t n;

	if (s->fs_avail == s->fs_len)
		return 0;
	n = s->fs_len - s->fs_avail;
	if (n > s->fs_step)
		n = s->fs_step;
	s->fs_avail += n;
	free(s->fs_buf);
	if ((s->fs_buf = malloc(s->fs_avail)) == NULL)
		abort();
	memcpy(s->fs_buf, s->fs_data, s->fs_avail);
	return 1;
}

/* Drop the first n delivered bytes, as conn.c moves leftover bytes to
 * the start of its buffer once a message is over; a new buffer again. */
static inline void
fz_shift(struct fz_stream *s, size_t n)
{
	s->fs_data += n;
	s->fs_len -= n;
	s->fs_avail -= n;
	free(s->fs_buf);
	if ((s->fs_buf = malloc(s->fs_avail + 1)) == NULL)
		abort();
	memcpy(s->fs_buf, s->fs_data, s->fs_avail);
}

/* Every slice of a complete head lies inside the head. */
static inline void
fz_check_slices(const struct http1 *h)
{
	uint16_t i;

	FUZZ_CHECK(h->h_nhdrs <= h->h_maxhdrs);
	FUZZ_CHECK(h->h_url.s_off + (uint64_t)h->h_url.s_len <= h->h_head_end);
	FUZZ_CHECK(h->h_reason.s_off + (uint64_t)h->h_reason.s_len <=
	    h->h_head_end);
	for (i = 0; i < h->h_nhdrs; i++) {
		const struct http1_hdr *hd = &h->h_hdrs[i];

		FUZZ_CHECK(hd->h_name.s_len > 0);
		FUZZ_CHECK(hd->h_name.s_off + (uint64_t)hd->h_name.s_len <=
		    h->h_head_end);
		FUZZ_CHECK(hd->h_value.s_off + (uint64_t)hd->h_value.s_len <=
		    h->h_head_end);
	}
}

/*
 * A head the proxy wrote (out[0, len)) must be one clean head: no NUL,
 * every CR followed by LF and every LF preceded by CR, so no header value
 * can smuggle a line break to the next hop.
 */
static inline void
fz_check_clean_head(const char *out, size_t len)
{
	size_t i;

	FUZZ_CHECK(len >= 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < len; i++) {
		FUZZ_CHECK(out[i] != '\0');
		if (out[i] == '\r')
			FUZZ_CHECK(i + 1 < len && out[i + 1] == '\n');
		if (out[i] == '\n')
			FUZZ_CHECK(i > 0 && out[i - 1] == '\r');
	}
	/* the blank line ends it: nothing after the first one */
	for (i = 0; i + 4 < len; i++)
		FUZZ_CHECK(memcmp(out + i, "\r\n\r\n", 4) != 0);
}

#endif /* CANARYD_TEST_FUZZ_FUZZ_H */
