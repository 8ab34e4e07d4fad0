/*
 * Access log lines in Envoy's default format, for the workers (one line
 * per downstream request, sent to the master through a pipe) and the
 * master (one line per admin request):
 *
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%
 *   %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED%
 *   %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 *   "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%"
 *   "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n
 *
 * (one line; wrapped here).  A line never exceeds ALOG_LINE_MAX bytes, so
 * one write(2) of whole lines to a pipe is atomic: string fields are cut
 * to fixed lengths to guarantee it.
 */
#ifndef CANARYD_SHARED_ALOG_H
#define CANARYD_SHARED_ALOG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alog-t.h"

struct cd_arena;

#define ALOG_LINE_MAX		PIPE_BUF	/* 4096 on Linux */
/*
 * A worker's line to the master starts with a tag of ALOG_TAG_LEN bytes
 * that names the listener (its shm record, shared/place-t.h) and the one
 * access log of that listener it goes to, access_log[i]: record *
 * ALOG_TAG_LOGS + i, six bits a byte, most significant first, each byte
 * 0x40 | bits (so never a newline); the master drops the tag.  A tagged
 * line is then at most ALOG_LINE_MAX bytes, one atomic pipe write.
 */
#define ALOG_TAG_LEN		5
#define ALOG_TAG_LOGS		4	/* access logs per listener */
/* the listener records a tag can name: 30 bits, two of them the log's */
#define ALOG_TAG_RECORDS	(1u << 28)

/* The tag of access_log[i] of the listener with record rec (less than
 * ALOG_TAG_RECORDS) into dst[0, ALOG_TAG_LEN). */
static inline void
alog_tag_put(char *dst, uint32_t rec, uint32_t i)
{
	uint32_t v = rec * ALOG_TAG_LOGS + i;
	int k;

	for (k = ALOG_TAG_LEN - 1; k >= 0; k--, v >>= 6)
		dst[k] = (char)(0x40 | (v & 0x3f));
}

/* The record and log of the tag p[0, len) starts with: false when it
 * does not start with one. */
static inline bool
alog_tag_get(const char *p, size_t len, uint32_t *rec, uint32_t *i)
{
	uint32_t v = 0;
	int k;

	if (len < ALOG_TAG_LEN)
		return false;
	for (k = 0; k < ALOG_TAG_LEN; k++) {
		if (((unsigned char)p[k] & 0xc0) != 0x40)
			return false;
		v = v << 6 | ((unsigned char)p[k] & 0x3f);
	}
	*rec = v / ALOG_TAG_LOGS;
	*i = v % ALOG_TAG_LOGS;
	return true;
}

/*
 * Envoy's response flags (the short form); the bit order is the order
 * Envoy prints them in, comma-separated.  Only those canaryd can raise.
 */
#define ALOG_RESPONSE_FLAGS(X)						\
	X(ALOG_RF_UH,	"UH")	/* no healthy upstream */		\
	X(ALOG_RF_UT,	"UT")	/* upstream request timeout */		\
	X(ALOG_RF_UF,	"UF")	/* upstream connection failure */	\
	X(ALOG_RF_UC,	"UC")	/* upstream connection termination */	\
	X(ALOG_RF_UO,	"UO")	/* upstream overflow (breaker) */	\
	X(ALOG_RF_NR,	"NR")	/* no route */				\
	X(ALOG_RF_DI,	"DI")	/* a fault's delay */			\
	X(ALOG_RF_FI,	"FI")	/* a fault's abort */			\
	X(ALOG_RF_RL,	"RL")	/* local rate limit */			\
	X(ALOG_RF_DC,	"DC")	/* downstream connection termination */	\
	X(ALOG_RF_URX,	"URX")	/* upstream retry limit exceeded */	\
	X(ALOG_RF_SI,	"SI")	/* stream idle timeout */		\
	X(ALOG_RF_DPE,	"DPE")	/* downstream protocol error */		\
	X(ALOG_RF_UPE,	"UPE")	/* upstream protocol error */		\
	X(ALOG_RF_NC,	"NC")	/* no cluster */

enum alog_rf_bit {
#define X(id, s)	id##_BIT,
	ALOG_RESPONSE_FLAGS(X)
#undef X
	ALOG_RF__N
};

enum alog_rf {
#define X(id, s)	id = 1u << id##_BIT,
	ALOG_RESPONSE_FLAGS(X)
#undef X
};

/* A string that may be absent (a_p == NULL: printed as "-"). */
struct alog_str {
	const char	*a_p;
	size_t		 a_len;
};

/* Everything one line says; the formatter only reads it. */
struct alog_rec {
	uint64_t	 ar_start_ms;	/* realtime, ms since the epoch */
	struct alog_str	 ar_method;
	struct alog_str	 ar_path;	/* the path as the client sent it */
	const char	*ar_protocol;	/* "HTTP/1.1"; NULL: "-" */
	uint16_t	 ar_code;	/* 0: no response was sent */
	uint32_t	 ar_flags;	/* enum alog_rf bits */
	uint64_t	 ar_rx;		/* request body bytes */
	uint64_t	 ar_tx;		/* response body bytes */
	uint64_t	 ar_duration_ms;
	int64_t		 ar_svc_ms;	/* upstream service time; -1: "-" */
	struct alog_str	 ar_xff;
	struct alog_str	 ar_ua;
	struct alog_str	 ar_rid;
	struct alog_str	 ar_authority;
	struct alog_str	 ar_upstream;	/* "ip:port" */
	/* What only formats read (alog_fmt_eval()); the caller fills what
	 * the format's f_needs asks for: */
	struct alog_str	 ar_remote;	/* trusted client "ip:port" */
	struct alog_str	 ar_direct;	/* the connection's peer "ip:port" */
	struct alog_str	 ar_local;	/* the address it reached */
	struct alog_str	 ar_cluster;	/* the upstream cluster's name */
	struct alog_str	 ar_route;	/* the route's name */
	uint64_t	 ar_conn_id;
};

/*
 * Write rec's line (with its '\n') to dst and return its length; cap must
 * be at least ALOG_LINE_MAX.  Control bytes in strings are written as
 * '?' so one request is always one line.
 */
size_t		 alog_format(char *dst, size_t cap, const struct alog_rec *);

/* "2026-11-26T10:00:00.123Z" for ms since the epoch at p (24 bytes);
 * returns the end.  The seconds part is cached per process. */
char		*alog_put_time(char *p, uint64_t ms);

/* The response flags field alone ("UF,URX" or "-"), NUL-terminated;
 * returns its length.  cap >= 64. */
size_t		 alog_flags(char *dst, size_t cap, uint32_t flags);

/* "ip:port" ("[ip6]:port") for an address of family af (AF_INET or
 * AF_INET6) given as raw bytes; returns the length, 0 if unknown. */
size_t		 alog_addr(char *dst, size_t cap, int af, const void *addr,
		    uint16_t port);

/*
 * The value of the first header called name (any case) in a raw HTTP/1
 * head (request line, header lines, CRLF or LF ends), without the
 * surrounding blanks; false if there is none.  For the master's admin
 * requests; the workers take values from their parser.
 */
bool		 alog_header(const char *head, size_t len, const char *name,
		    struct alog_str *val);

/*
 * %REQ(name)% of the request headers a record holds itself (name lower
 * case): the pseudo-headers :path, :method, :authority (and host),
 * :scheme, and x-forwarded-for, user-agent, x-request-id.  1 with *v
 * set, 0 when the record has no value for it, -1 when name is none of
 * them (the caller looks elsewhere).
 */
int		 alog_rec_req(const struct alog_rec *, const char *name,
		    size_t len, struct alog_str *v);

/* ---- substitution formats (alog_fmt.c) ------------------------------ */

#define ALOG_FMT_MAX_TOKS	64	/* commands and texts in one format */
#define ALOG_FMT_MAX_LEN	4096	/* bytes of a format */

/*
 * Parse Envoy's format s[0, len) into f (its tokens and their text in
 * arena a).  Master only (the configuration loader).  0, or -1 with
 * *why (a reason and what to do) and *at (the offset in s) set.
 */
int		 alog_fmt_parse(struct cd_arena *a, const char *s, size_t len,
		    struct alog_fmt *f, const char **why, size_t *at);

/*
 * What a format is evaluated against: the record, and header lookups by
 * lower-case name (as_req also answers the pseudo-headers :path,
 * :method, :authority and :scheme), each false when there is no such
 * header.  A lookup may be NULL (no headers of that kind).
 */
struct alog_src {
	const struct alog_rec	*as_rec;
	bool		(*as_req)(void *, const char *, size_t,
			    struct alog_str *);
	bool		(*as_resp)(void *, const char *, size_t,
			    struct alog_str *);
	void		*as_arg;
};

/* alog_fmt_eval() flags */
#define ALOG_F_OMIT_EMPTY	0x1	/* a value that is not there is "",
					 * not "-" (header values) */

/*
 * Write f's value for src into dst[0, cap) (no NUL); returns its length,
 * or (size_t)-1 when it does not fit.  Never blocks, never allocates.
 */
size_t		 alog_fmt_eval(char *dst, size_t cap, const struct alog_fmt *f,
		    const struct alog_src *src, int flags);

/*
 * One access log line of layout lo for src, its '\n' included, into
 * dst[0, cap) (cap >= ALOG_LINE_MAX); returns its length, less than
 * ALOG_LINE_MAX - ALOG_TAG_LEN (a tag goes before it).  A text line longer than that is cut; a newline inside
 * it becomes a space (one request, one line).  A JSON line that would
 * not fit is written again with every string value cut to
 * ALOG_JSON_CUT bytes, so it stays valid JSON.  Never allocates.
 */
#define ALOG_JSON_CUT	64
size_t		 alog_layout_line(char *dst, size_t cap,
		    const struct alog_layout *lo, const struct alog_src *src);

#endif /* CANARYD_SHARED_ALOG_H */
