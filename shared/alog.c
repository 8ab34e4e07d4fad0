/*
 * Access log formatting (Envoy's default format), shared by the workers
 * and the master; see alog.h.  Pure functions but for a one-second cache
 * of the broken-down start time, per process.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alog.h"
#include "log.h"

/*
 * Bytes kept of each string field: their sum plus the fixed part stays
 * under ALOG_LINE_MAX (checked below), so a line is one atomic pipe write.
 */
#define ALOG_MAX_METHOD		32
#define ALOG_MAX_PATH		1536
#define ALOG_MAX_XFF		256
#define ALOG_MAX_UA		512
#define ALOG_MAX_RID		128
#define ALOG_MAX_AUTHORITY	256
#define ALOG_MAX_UPSTREAM	64
/* "[2026-11-26T10:00:00.123Z] " 27, protocol 8, five numbers of at most
 * 20 digits, the flags (under 64), quotes and spaces (under 32) */
#define ALOG_FIXED		(27 + 8 + 5 * 20 + 64 + 32)

_Static_assert(ALOG_FIXED + ALOG_MAX_METHOD + ALOG_MAX_PATH + ALOG_MAX_XFF +
    ALOG_MAX_UA + ALOG_MAX_RID + ALOG_MAX_AUTHORITY + ALOG_MAX_UPSTREAM <
    ALOG_LINE_MAX - ALOG_TAG_LEN, "an access log line and its tag must "
    "fit one atomic pipe write");

static const char *const alog_flag_names[ALOG_RF__N] = {
#define X(id, s)	s,
	ALOG_RESPONSE_FLAGS(X)
#undef X
};

size_t
alog_flags(char *dst, size_t cap, uint32_t flags)
{
	size_t n = 0, l;
	int i;

	CD_ASSERT(cap >= 64);
	for (i = 0; i < ALOG_RF__N; i++) {
		if (!(flags & (1u << i)))
			continue;
		l = strlen(alog_flag_names[i]);
		if (n > 0)
			dst[n++] = ',';
		memcpy(dst + n, alog_flag_names[i], l);
		n += l;
	}
	if (n == 0)
		dst[n++] = '-';
	dst[n] = '\0';
	return n;
}

size_t
alog_addr(char *dst, size_t cap, int af, const void *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if ((af != AF_INET && af != AF_INET6) ||
	    inet_ntop(af, addr, ip, sizeof(ip)) == NULL)
		return 0;
	n = snprintf(dst, cap, af == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	    port);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* Copy at most max bytes of s, or "-" when absent; control bytes -> '?'. */
static char *
alog_put_str(char *p, const struct alog_str *s, size_t max)
{
	size_t i, n;
	unsigned char ch;

	if (s->a_p == NULL) {
		*p++ = '-';
		return p;
	}
	n = s->a_len < max ? s->a_len : max;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s->a_p[i];
		*p++ = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	return p;
}

static char *
alog_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

char *
alog_put_time(char *p, uint64_t ms)
{
	static time_t cached_s = (time_t)-1;
	static char cached[20];		/* "2026-11-26T10:00:00" */
	time_t s = (time_t)(ms / 1000);
	unsigned int frac = (unsigned int)(ms % 1000);
	struct tm tm;

	if (s != cached_s) {
		if (gmtime_r(&s, &tm) == NULL ||
		    strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S",
		    &tm) != sizeof(cached) - 1) {
			memcpy(cached, "1970-01-01T00:00:00", sizeof(cached));
			cached_s = (time_t)-1;
		} else
			cached_s = s;
	}
	memcpy(p, cached, sizeof(cached) - 1);
	p += sizeof(cached) - 1;
	*p++ = '.';
	*p++ = (char)('0' + frac / 100);
	*p++ = (char)('0' + frac / 10 % 10);
	*p++ = (char)('0' + frac % 10);
	*p++ = 'Z';
	return p;
}

size_t
alog_format(char *dst, size_t cap, const struct alog_rec *r)
{
	char *p = dst;

	CD_ASSERT(cap >= ALOG_LINE_MAX);
	*p++ = '[';
	p = alog_put_time(p, r->ar_start_ms);
	*p++ = ']';
	*p++ = ' ';
	*p++ = '"';
	p = alog_put_str(p, &r->ar_method, ALOG_MAX_METHOD);
	*p++ = ' ';
	p = alog_put_str(p, &r->ar_path, ALOG_MAX_PATH);
	*p++ = ' ';
	if (r->ar_protocol != NULL) {
		size_t l = strlen(r->ar_protocol);

		if (l > 8)
			l = 8;
		memcpy(p, r->ar_protocol, l);
		p += l;
	} else
		*p++ = '-';
	*p++ = '"';
	*p++ = ' ';
	p = alog_put_u64(p, r->ar_code);
	*p++ = ' ';
	p += alog_flags(p, 64, r->ar_flags);
	*p++ = ' ';
	p = alog_put_u64(p, r->ar_rx);
	*p++ = ' ';
	p = alog_put_u64(p, r->ar_tx);
	*p++ = ' ';
	p = alog_put_u64(p, r->ar_duration_ms);
	*p++ = ' ';
	if (r->ar_svc_ms >= 0)
		p = alog_put_u64(p, (uint64_t)r->ar_svc_ms);
	else
		*p++ = '-';
	*p++ = ' ';
	*p++ = '"';
	p = alog_put_str(p, &r->ar_xff, ALOG_MAX_XFF);
	*p++ = '"';
	*p++ = ' ';
	*p++ = '"';
	p = alog_put_str(p, &r->ar_ua, ALOG_MAX_UA);
	*p++ = '"';
	*p++ = ' ';
	*p++ = '"';
	p = alog_put_str(p, &r->ar_rid, ALOG_MAX_RID);
	*p++ = '"';
	*p++ = ' ';
	*p++ = '"';
	p = alog_put_str(p, &r->ar_authority, ALOG_MAX_AUTHORITY);
	*p++ = '"';
	*p++ = ' ';
	*p++ = '"';
	p = alog_put_str(p, &r->ar_upstream, ALOG_MAX_UPSTREAM);
	*p++ = '"';
	*p++ = '\n';
	return (size_t)(p - dst);
}

bool
alog_header(const char *head, size_t len, const char *name,
    struct alog_str *val)
{
	const char *p = head, *e = head + len, *eol, *colon, *v, *ve;
	size_t nlen = strlen(name);

	/* skip the request line */
	if ((eol = memchr(p, '\n', (size_t)(e - p))) == NULL)
		return false;
	for (p = eol + 1; p < e; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(e - p))) == NULL)
			eol = e;
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (ve == p)
			break;		/* the blank line: end of the head */
		if ((colon = memchr(p, ':', (size_t)(ve - p))) == NULL ||
		    (size_t)(colon - p) != nlen ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		val->a_p = v;
		val->a_len = (size_t)(ve - v);
		return true;
	}
	return false;
}

/* A record field as a header value: 1, or 0 when it is absent. */
static int
alog_rec_str(const struct alog_str *s, struct alog_str *v)
{
	*v = *s;
	return s->a_p != NULL;
}

int
alog_rec_req(const struct alog_rec *r, const char *name, size_t len,
    struct alog_str *v)
{
#define IS(s)	(len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
	if (IS(":path"))
		return alog_rec_str(&r->ar_path, v);
	if (IS(":method"))
		return alog_rec_str(&r->ar_method, v);
	if (IS(":authority") || IS("host"))
		return alog_rec_str(&r->ar_authority, v);
	if (IS(":scheme")) {
		v->a_p = "http";
		v->a_len = 4;
		return 1;
	}
	if (IS("x-forwarded-for"))
		return alog_rec_str(&r->ar_xff, v);
	if (IS("user-agent"))
		return alog_rec_str(&r->ar_ua, v);
	if (IS("x-request-id"))
		return alog_rec_str(&r->ar_rid, v);
#undef IS
	return -1;
}
