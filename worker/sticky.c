/*
 * Version-sticky split (see sticky.h): SipHash-2-4 keyed by the route's
 * seed, weighted rendezvous placement, cookie and header lookup, new keys
 * and the set-cookie line.  No state: everything here is a pure function
 * of its arguments, except wrk_sticky_new_key()'s randomness.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sticky.h"

/* ---- SipHash-2-4 over (key, 0, name), streamed --------------------------- */

struct sip {
	uint64_t	 v0, v1, v2, v3;
	uint64_t	 tail;		/* bytes not yet in a word */
	size_t		 ntail;
	uint64_t	 total;
};

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

static void
sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void
sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static void
sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
	s->tail = 0;
	s->ntail = 0;
	s->total = 0;
}

/* Little-endian words whatever the host, so a key lands on the same
 * cluster on every machine. */
static void
sip_update(struct sip *s, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		s->tail |= (uint64_t)b[i] << (8 * s->ntail);
		if (++s->ntail == 8) {
			sip_word(s, s->tail);
			s->tail = 0;
			s->ntail = 0;
		}
	}
	s->total += len;
}

static uint64_t
sip_final(struct sip *s)
{
	sip_word(s, s->tail | (s->total << 56));
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t
wrk_sticky_hash(uint64_t seed, const char *key, size_t klen,
    const char *name)
{
	struct sip s;
	static const unsigned char sep = 0;

	/* the second key half is fixed: the seed alone varies the hash */
	sip_init(&s, seed, 0x63616e6172796421ULL);
	sip_update(&s, key, klen);
	/* a NUL between them: ("ab", "c") and ("a", "bc") differ */
	sip_update(&s, &sep, 1);
	sip_update(&s, name, strlen(name));
	return sip_final(&s);
}

/* ---- placement ---------------------------------------------------------- */

int
wrk_sticky_pick(uint64_t seed, const char *key, size_t klen,
    const struct cd_weighted_cluster *wc, const uint32_t *w, uint32_t n)
{
	double best = 0, u, score;
	uint32_t i;
	int pick = -1;

	for (i = 0; i < n; i++) {
		if (w[i] == 0)
			continue;
		/* the top 53 bits, centred in their interval: u is never
		 * 0 or 1, so -log(u) is finite and > 0 */
		u = ((double)(wrk_sticky_hash(seed, key, klen,
		    wc[i].wc_name) >> 11) + 0.5) * 0x1p-53;
		score = (double)w[i] / -log(u);
		if (pick == -1 || score > best) {
			best = score;
			pick = (int)i;
		}
	}
	return pick;
}

/* ---- fleet mode: epochs and marks ------------------------------------- */

uint64_t
wrk_sticky_seed(uint64_t seed, uint32_t epoch)
{
	/* SipHash keyed by the result: any change of it places afresh */
	return epoch == 0 ? seed : seed ^ ((uint64_t)epoch *
	    0x9e3779b97f4a7c15ULL);
}

/* The decimal number that ends v[0, len): its start, or len when v does
 * not end in 1 .. max digits or they overflow 32 bits. */
static size_t
mark_number(const char *v, size_t len, size_t max, uint32_t *out)
{
	size_t i = len;
	uint64_t n = 0, m = 1;

	while (i > 0 && len - i < max && v[i - 1] >= '0' && v[i - 1] <= '9') {
		n += (uint64_t)(v[i - 1] - '0') * m;
		m *= 10;
		i--;
	}
	if (i == len || n > UINT32_MAX)
		return len;
	*out = (uint32_t)n;
	return i;
}

size_t
wrk_sticky_mark_parse(const char *v, size_t vlen, uint32_t *epoch,
    uint32_t *version)
{
	uint32_t e = 0, ver = 0;
	size_t i, j;

	*epoch = *version = 0;
	i = mark_number(v, vlen, 2, &ver);
	if (i == vlen || i < 2 || v[i - 1] != '.')
		return vlen;
	j = mark_number(v, i - 1, 10, &e);
	if (j == i - 1 || j < 2 || v[j - 1] != '.' || e == 0)
		return vlen;
	*epoch = e;
	*version = ver;
	return j - 1;
}

int
wrk_sticky_mark(char *out, size_t cap, const char *key, size_t klen,
    uint32_t epoch, uint32_t version)
{
	char tmp[WRK_STICKY_VALUE_MAX + 1];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%.*s.%" PRIu32 ".%" PRIu32,
	    (int)klen, key, epoch, version);
	if (n < 0 || (size_t)n >= sizeof(tmp) || (size_t)n >= cap)
		return -1;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

/* ---- finding the key ---------------------------------------------------- */

static bool
hdr_is(const char *base, const struct http1_hdr *h, const char *name,
    size_t nlen)
{
	return h->h_name.s_len == nlen && strncasecmp(base + h->h_name.s_off,
	    name, nlen) == 0;
}

/* cookie name in one Cookie value: "a=1; b=2" (RFC 6265 §4.2.1). */
static bool
cookie_find(const char *s, size_t len, const char *name, size_t nlen,
    const char **v, size_t *vlen)
{
	size_t i = 0, start, eq, end;

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		start = i;
		while (i < len && s[i] != ';')
			i++;
		end = i;
		if (i < len)
			i++;	/* past ';' */
		while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		for (eq = start; eq < end && s[eq] != '='; eq++)
			;
		if (eq == end || eq - start != nlen ||
		    memcmp(s + start, name, nlen) != 0)
			continue;
		start = eq + 1;
		if (end - start >= 2 && s[start] == '"' && s[end - 1] == '"') {
			start++;
			end--;
		}
		*v = s + start;
		*vlen = end - start;
		return true;
	}
	return false;
}

bool
wrk_sticky_cookie(const char *base, const struct http1_hdr *hdrs,
    uint16_t nhdrs, const char *name, const char **v, size_t *vlen)
{
	size_t nlen = strlen(name);
	uint16_t i;

	for (i = 0; i < nhdrs; i++) {
		if (!hdr_is(base, &hdrs[i], "cookie", 6))
			continue;
		if (cookie_find(base + hdrs[i].h_value.s_off,
		    hdrs[i].h_value.s_len, name, nlen, v, vlen))
			return *vlen > 0;
	}
	return false;
}

bool
wrk_sticky_header(const char *base, const struct http1_hdr *hdrs,
    uint16_t nhdrs, const char *name, const char **v, size_t *vlen)
{
	size_t nlen = strlen(name);
	uint16_t i;

	for (i = 0; i < nhdrs; i++) {
		if (!hdr_is(base, &hdrs[i], name, nlen))
			continue;
		*v = base + hdrs[i].h_value.s_off;
		*vlen = hdrs[i].h_value.s_len;
		return *vlen > 0;
	}
	return false;
}

/* ---- new keys and set-cookie ------------------------------------------- */

void
wrk_sticky_new_key(char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[WRK_STICKY_KEY_LEN / 2];
	size_t i;

	arc4random_buf(b, sizeof(b));
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0xf];
	}
	out[WRK_STICKY_KEY_LEN] = '\0';
}

#define SC_FMT	"set-cookie: %s=%s; Path=/; Max-Age=%d; HttpOnly; " \
		"SameSite=Lax\r\n"

size_t
wrk_sticky_set_cookie_len(const char *name)
{
	char key[WRK_STICKY_KEY_LEN + 1];

	memset(key, 'x', WRK_STICKY_KEY_LEN);
	key[WRK_STICKY_KEY_LEN] = '\0';
	return wrk_sticky_set_cookie_len_of(name, key);
}

size_t
wrk_sticky_set_cookie_len_of(const char *name, const char *value)
{
	int n;

	n = snprintf(NULL, 0, SC_FMT, name, value, WRK_STICKY_MAX_AGE);
	return n < 0 ? 0 : (size_t)n;
}

size_t
wrk_sticky_set_cookie(char *head, size_t len, size_t cap, const char *name,
    const char *key)
{
	char line[WRK_STICKY_VALUE_MAX + CD_NAME_MAX + 96];
	int n;

	if (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0)
		return 0;
	n = snprintf(line, sizeof(line), SC_FMT, name, key,
	    WRK_STICKY_MAX_AGE);
	if (n < 0 || (size_t)n >= sizeof(line) || len + (size_t)n > cap)
		return 0;
	/* before the empty line that ends the head */
	memcpy(head + len - 2, line, (size_t)n);
	memcpy(head + len - 2 + n, "\r\n", 2);
	return len + (size_t)n;
}
