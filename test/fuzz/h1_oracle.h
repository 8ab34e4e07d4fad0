/*
 * The oracle of test/fuzz/fuzz_diff.c (h1_oracle.c): the HTTP/1 parsing
 * canaryd had before shared/http1.c, a scan in front of http-parser, with
 * the same API as shared/http1.h under the prefix oh1_.  The slices,
 * events, errors and h_flags mean what they mean there.
 */
#ifndef CANARYD_TEST_FUZZ_H1_ORACLE_H
#define CANARYD_TEST_FUZZ_H1_ORACLE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/http1.h"

struct oh1 {
	alignas(8) unsigned char h_parser[32];	/* http_parser, opaque here */
	const char	*h_base;	/* buffer of the current feed */
	struct http1_hdr	*h_hdrs;	/* caller's array */
	uint16_t	 h_maxhdrs;
	uint16_t	 h_nhdrs;
	uint32_t	 h_hdr_bytes;	/* target, names, values so far */
	uint32_t	 h_hdr_limit;
	struct http1_slice h_url;		/* request target */
	struct http1_slice h_reason;	/* response reason phrase */
	uint32_t	 h_head_end;	/* offset of the first body byte */
	uint8_t		 h_flags;	/* HTTP1_F_* */
	uint8_t		 h_last;	/* last data callback, for continuations */
	uint8_t		 h_err;		/* enum http1_err */
	uint8_t		 h_nbody;
	struct http1_slice h_body[HTTP1_MAXBODY];	/* collect mode */
	uint64_t	 h_body_bytes;	/* body bytes parsed (de-chunked) */
	uint64_t	 h_ck_left;	/* chunk data bytes still to come */
	uint8_t		 h_ck_state;	/* strict chunked framing check */
	uint8_t		 h_ck_digits;	/* hex digits of this chunk size */
	uint8_t		 h_sc_state;	/* strict head scan */
	uint8_t		 h_sc_n;	/* its position in a fixed token */
	const char	*h_why;		/* what the strict checks refused */
};

void		 oh1_global_init(uint32_t max_head);
void		 oh1_init(struct oh1 *, enum http1_kind,
		    struct http1_hdr *hdrs, uint16_t maxhdrs, uint32_t hdr_limit);
long		 oh1_head_len(enum http1_kind, const char *p, size_t len,
		    const char **why);
enum http1_ev	 oh1_feed(struct oh1 *, const char *base,
		    uint32_t off, uint32_t len, uint32_t *used);
enum http1_ev	 oh1_eof(struct oh1 *);
void		 oh1_set_nobody(struct oh1 *);
void		 oh1_set_collect(struct oh1 *);
const char	*oh1_method(const struct oh1 *);
bool		 oh1_is_head_method(const struct oh1 *);
bool		 oh1_is_connect(const struct oh1 *);
void		 oh1_version(const struct oh1 *, int *major, int *minor);
uint16_t	 oh1_status(const struct oh1 *);
bool		 oh1_keep_alive(const struct oh1 *);
bool		 oh1_chunked(const struct oh1 *);
bool		 oh1_has_length(const struct oh1 *);
uint64_t	 oh1_content_length(const struct oh1 *);
bool		 oh1_upgrade(const struct oh1 *);
bool		 oh1_until_eof(const struct oh1 *);
const char	*oh1_errstr(const struct oh1 *);

#endif /* CANARYD_TEST_FUZZ_H1_ORACLE_H */
