/*
 * Unit tests for the version-sticky split and the overrides
 * (worker/sticky.c, wrk_router_pick_canary() in worker/router.c): the
 * seeded hash, the weighted rendezvous pick (same key same cluster,
 * distribution, monotone on a weight change, weight 0 never picked),
 * cookie and header lookup, new keys, the set-cookie line, and which
 * cluster a request on a weighted route goes to and why.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf-t.h"
#include "shared/shm.h"
#include "test/unit/unit.h"
#include "test/unit/worker/unit_split.h"
#include "worker/router.h"
#include "worker/sticky.h"

#define SEED	0x5eedULL

static struct cd_weighted_cluster wc3[3] = {
	{ .wc_name = "backend_v1", .wc_cluster = 0 },
	{ .wc_name = "backend_v2", .wc_cluster = 1 },
	{ .wc_name = "backend_v3", .wc_cluster = 2 },
};

static void
key_of(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "user-%u", i);
}

/* ---- hash and pick ------------------------------------------------------- */

static void
hash_is_deterministic_and_depends_on_every_input(void)
{
	uint64_t h = wrk_sticky_hash(SEED, "abc", 3, "v1");

	CU_ASSERT(h == wrk_sticky_hash(SEED, "abc", 3, "v1"));
	CU_ASSERT(h != wrk_sticky_hash(SEED + 1, "abc", 3, "v1"));
	CU_ASSERT(h != wrk_sticky_hash(SEED, "abd", 3, "v1"));
	CU_ASSERT(h != wrk_sticky_hash(SEED, "abc", 3, "v2"));
	/* the key length counts, not a NUL in it */
	CU_ASSERT(h != wrk_sticky_hash(SEED, "abcd", 3 + 1, "v1"));
	/* key and name are kept apart */
	CU_ASSERT(wrk_sticky_hash(SEED, "ab", 2, "c") !=
	    wrk_sticky_hash(SEED, "a", 1, "bc"));
	/* word boundaries: lengths around 8 all hash */
	CU_ASSERT(wrk_sticky_hash(SEED, "1234567", 7, "") !=
	    wrk_sticky_hash(SEED, "12345678", 8, ""));
}

static void
pick_same_key_same_cluster_and_scale_free(void)
{
	const uint32_t a[2] = { 90, 10 }, b[2] = { 9, 1 };
	char key[32];
	unsigned int i;
	int p;

	for (i = 0; i < 2000; i++) {
		key_of(key, sizeof(key), i);
		p = wrk_sticky_pick(SEED, key, strlen(key), wc3, a, 2);
		CU_ASSERT(p == 0 || p == 1);
		CU_ASSERT_EQUAL(wrk_sticky_pick(SEED, key, strlen(key), wc3,
		    a, 2), p);
		/* only the ratio of the weights matters */
		CU_ASSERT_EQUAL(wrk_sticky_pick(SEED, key, strlen(key), wc3,
		    b, 2), p);
	}
}

static void
pick_never_chooses_weight_zero(void)
{
	const uint32_t w[3] = { 0, 100, 0 }, z[3] = { 0, 0, 0 };
	const uint32_t w2[3] = { 50, 0, 50 };
	char key[32];
	unsigned int i;
	int p;

	for (i = 0; i < 5000; i++) {
		key_of(key, sizeof(key), i);
		CU_ASSERT_EQUAL(wrk_sticky_pick(SEED, key, strlen(key), wc3,
		    w, 3), 1);
		p = wrk_sticky_pick(SEED, key, strlen(key), wc3, w2, 3);
		CU_ASSERT(p == 0 || p == 2);
	}
	CU_ASSERT_EQUAL(wrk_sticky_pick(SEED, "k", 1, wc3, z, 3), -1);
	CU_ASSERT_EQUAL(wrk_sticky_pick(SEED, "k", 1, wc3, z, 0), -1);
}

/* 1000 distinct keys at 90/10: v2 gets 10 % +- 3 %; many keys at
 * 70/20/10 land within 1 % of each weight. */
static void
pick_distribution_follows_weights(void)
{
	const uint32_t w[2] = { 90, 10 }, w3[3] = { 70, 20, 10 };
	char key[32];
	unsigned int i, n[3] = { 0, 0, 0 }, seed;
	int p;

	for (seed = 0; seed < 5; seed++) {
		n[0] = n[1] = 0;
		for (i = 0; i < 1000; i++) {
			key_of(key, sizeof(key), i);
			n[wrk_sticky_pick(seed, key, strlen(key), wc3, w,
			    2)]++;
		}
		CU_ASSERT(n[1] >= 70 && n[1] <= 130);
	}
	n[0] = n[1] = n[2] = 0;
	for (i = 0; i < 100000; i++) {
		key_of(key, sizeof(key), i);
		p = wrk_sticky_pick(SEED, key, strlen(key), wc3, w3, 3);
		n[p]++;
	}
	CU_ASSERT(n[0] >= 69000 && n[0] <= 71000);
	CU_ASSERT(n[1] >= 19000 && n[1] <= 21000);
	CU_ASSERT(n[2] >= 9000 && n[2] <= 11000);
}

/* Raising one weight moves keys only to that cluster; lowering one
 * moves keys only away from it.  One weight changes per step. */
static void
pick_is_monotone_on_weight_change(void)
{
	static const uint32_t steps[][3] = {
		{ 90, 10, 0 }, { 80, 10, 0 }, { 80, 20, 0 }, { 80, 20, 5 },
		{ 40, 20, 5 }, { 40, 50, 5 }, { 40, 50, 40 }, { 0, 50, 40 },
		{ 0, 50, 1 },
	};
	enum { NK = 20000 };
	static int before[NK], start[NK];
	char key[32];
	size_t s;
	unsigned int i, moved, j;
	int p, up_ok = 1, down_ok = 1;

	for (i = 0; i < NK; i++) {
		key_of(key, sizeof(key), i);
		start[i] = before[i] = wrk_sticky_pick(SEED, key, strlen(key),
		    wc3, steps[0], 3);
	}
	for (s = 1; s < sizeof(steps) / sizeof(steps[0]); s++) {
		for (j = 0; j < 3 && steps[s][j] == steps[s - 1][j]; j++)
			;
		CU_ASSERT_FATAL(j < 3);
		moved = 0;
		for (i = 0; i < NK; i++) {
			key_of(key, sizeof(key), i);
			p = wrk_sticky_pick(SEED, key, strlen(key), wc3,
			    steps[s], 3);
			if (p != before[i]) {
				moved++;
				if (steps[s][j] > steps[s - 1][j] &&
				    p != (int)j)
					up_ok = 0;
				if (steps[s][j] < steps[s - 1][j] &&
				    before[i] != (int)j)
					down_ok = 0;
			}
			before[i] = p;
		}
		CU_ASSERT(moved > 0);
	}
	CU_ASSERT(up_ok);
	CU_ASSERT(down_ok);
	/* 90/10 -> 80/20 in one go (the example): every v2 key
	 * stays, and about 10 % of all keys join it */
	moved = 0;
	for (i = 0; i < NK; i++) {
		key_of(key, sizeof(key), i);
		p = wrk_sticky_pick(SEED, key, strlen(key), wc3,
		    (const uint32_t[]){ 80, 20, 0 }, 3);
		if (start[i] == 1)
			CU_ASSERT_EQUAL_FATAL(p, 1);
		if (p != start[i])
			moved++;
	}
	CU_ASSERT(moved >= NK * 8 / 100 && moved <= NK * 12 / 100);
}

/* ---- finding keys ------------------------------------------------------ */

struct req {
	char		 buf[1024];
	struct http1_hdr	 hdrs[16];
	uint16_t	 n;
};

/* "name: value" lines, one per array entry, NULL-terminated. */
static void
mkhdrs(struct req *q, const char *const *lines)
{
	size_t off = 0, len, nl;
	const char *colon;

	memset(q, 0, sizeof(*q));
	for (; *lines != NULL; lines++) {
		len = strlen(*lines);
		memcpy(q->buf + off, *lines, len);
		colon = strchr(*lines, ':');
		nl = (size_t)(colon - *lines);
		q->hdrs[q->n].h_name.s_off = (uint32_t)off;
		q->hdrs[q->n].h_name.s_len = (uint32_t)nl;
		q->hdrs[q->n].h_value.s_off = (uint32_t)(off + nl + 2);
		q->hdrs[q->n].h_value.s_len = (uint32_t)(len - nl - 2);
		q->n++;
		off += len;
	}
}

static bool
cookie(struct req *q, const char *name, char *out)
{
	const char *v;
	size_t len;

	if (!wrk_sticky_cookie(q->buf, q->hdrs, q->n, name, &v, &len))
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

static void
cookie_lookup_follows_rfc6265(void)
{
	struct req q;
	char v[64];

	mkhdrs(&q, (const char *[]){ "Host: x",
	    "Cookie: xuid=1; uid=abc; b=2", NULL });
	CU_ASSERT(cookie(&q, "uid", v));
	CU_ASSERT_STRING_EQUAL(v, "abc");
	CU_ASSERT(cookie(&q, "b", v));
	CU_ASSERT_STRING_EQUAL(v, "2");
	CU_ASSERT(!cookie(&q, "ui", v));
	CU_ASSERT(!cookie(&q, "UID", v));	/* names are case-sensitive */

	mkhdrs(&q, (const char *[]){ "cookie: a=1", "COOKIE: uid=\"q1\" ",
	    NULL });
	CU_ASSERT(cookie(&q, "uid", v));
	CU_ASSERT_STRING_EQUAL(v, "q1");

	mkhdrs(&q, (const char *[]){ "cookie: uid=; a=1", NULL });
	CU_ASSERT(!cookie(&q, "uid", v));	/* empty: no key */
	mkhdrs(&q, (const char *[]){ "x-cookie: uid=1", NULL });
	CU_ASSERT(!cookie(&q, "uid", v));
	mkhdrs(&q, (const char *[]){ "cookie: uid", NULL });
	CU_ASSERT(!cookie(&q, "uid", v));
}

static void
header_lookup_is_case_insensitive_and_skips_empty(void)
{
	struct req q;
	const char *v;
	size_t len;

	mkhdrs(&q, (const char *[]){ "X-User-Id: 42", "x-user-id: 43",
	    NULL });
	CU_ASSERT(wrk_sticky_header(q.buf, q.hdrs, q.n, "x-user-id", &v,
	    &len));
	CU_ASSERT(len == 2 && memcmp(v, "42", 2) == 0);
	CU_ASSERT(!wrk_sticky_header(q.buf, q.hdrs, q.n, "x-user", &v,
	    &len));
	mkhdrs(&q, (const char *[]){ "x-user-id: ", NULL });
	q.hdrs[0].h_value.s_len = 0;
	CU_ASSERT(!wrk_sticky_header(q.buf, q.hdrs, q.n, "x-user-id", &v,
	    &len));
}

static void
new_keys_are_128_bit_hex_and_differ(void)
{
	char a[WRK_STICKY_KEY_LEN + 1], b[WRK_STICKY_KEY_LEN + 1];

	wrk_sticky_new_key(a);
	wrk_sticky_new_key(b);
	CU_ASSERT_EQUAL(strlen(a), 32);
	CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), 32);
	CU_ASSERT(strcmp(a, b) != 0);
}

static void
set_cookie_goes_before_the_empty_line(void)
{
	char head[256] = "HTTP/1.1 200 OK\r\nserver: canaryd\r\n\r\n";
	const char *want = "HTTP/1.1 200 OK\r\nserver: canaryd\r\n"
	    "set-cookie: uid=0123456789abcdef0123456789abcdef; Path=/; "
	    "Max-Age=2592000; HttpOnly; SameSite=Lax\r\n\r\n";
	size_t len = strlen(head), n;

	n = wrk_sticky_set_cookie(head, len, sizeof(head), "uid",
	    "0123456789abcdef0123456789abcdef");
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT(n > 0 && memcmp(head, want, n) == 0);
	CU_ASSERT_EQUAL(n - len, wrk_sticky_set_cookie_len("uid"));
	/* too small, or not a whole head: nothing changes */
	strlcpy(head, "HTTP/1.1 200 OK\r\n\r\n", sizeof(head));
	CU_ASSERT_EQUAL(wrk_sticky_set_cookie(head, strlen(head),
	    strlen(head) + 10, "uid", "k"), 0);
	CU_ASSERT_STRING_EQUAL(head, "HTTP/1.1 200 OK\r\n\r\n");
	CU_ASSERT_EQUAL(wrk_sticky_set_cookie(head, 10, sizeof(head), "uid",
	    "k"), 0);
}

/* ---- wrk_router_pick_canary() ------------------------------------------- */

static struct shm_split	csplit;

/* A 90/10/0 route over backend_v1..v3: canary v2, stable v1. */
static void
canary_route(struct cd_route *rt)
{
	static struct cd_weighted_cluster wc[3];
	const uint32_t w[3] = { 90, 10, 0 };
	size_t i;

	memcpy(wc, wc3, sizeof(wc));
	for (i = 0; i < 3; i++)
		wc[i].wc_weight = w[i];
	memset(rt, 0, sizeof(*rt));
	rt->rt_action = CD_RA_WEIGHTED;
	rt->rt_wc = wc;
	rt->rt_nwc = 3;
	rt->rt_total_weight = 100;
	rt->rt_split_mode = CD_SPLIT_EXACT;
	rt->rt_canary_wc = 1;
	rt->rt_stable_wc = 0;
	rt->rt_fallback = -1;
	rt->rt_override_header = "x-canary";
	rt->rt_override_cookie = "canary";
	rt->rt_sticky.st_set = true;
	rt->rt_sticky.st_header = "x-user";
	rt->rt_sticky.st_seed = SEED;
	unit_split_reset(&csplit);
	shm_split_publish(&csplit, w, 3, 1);
}

static uint32_t
pick(const struct cd_route *rt, struct wrk_split_cache *sc,
    const char *const *lines, struct wrk_canary *ca)
{
	static struct req q;
	static char scratch[256];
	struct wrk_rq_view rv;

	mkhdrs(&q, lines);
	memset(&rv, 0, sizeof(rv));
	rv.rv_base = q.buf;
	rv.rv_path = "/";
	rv.rv_path_len = 1;
	rv.rv_hdrs = q.hdrs;
	rv.rv_nhdrs = q.n;
	rv.rv_scratch = scratch;
	rv.rv_scratch_len = sizeof(scratch);
	return wrk_router_pick_canary(rt, &rv, &csplit, sc, ca);
}

static void
override_values_pick_their_cluster(void)
{
	struct wrk_split_cache sc;
	struct wrk_canary ca;
	struct cd_route rt;
	uint64_t pos;

	canary_route(&rt);
	unit_split_cache(&sc);
	pos = atomic_load(&csplit.sp_next);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ "x-canary: always",
	    NULL }, &ca), 1);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_OVERRIDE);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ "X-Canary: NEVER",
	    NULL }, &ca), 0);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_OVERRIDE);
	/* weight 0: reachable only this way */
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){
	    "x-canary: backend_v3", "x-user: u1", NULL }, &ca), 2);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_OVERRIDE);
	CU_ASSERT(!ca.ca_override_unknown);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){
	    "cookie: a=1; canary=backend_v2", NULL }, &ca), 1);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_OVERRIDE);
	/* overrides use no split position */
	CU_ASSERT_EQUAL(atomic_load(&csplit.sp_next), pos);

	/* unknown: flagged, and the normal way is taken */
	pick(&rt, &sc, (const char *[]){ "x-canary: v9", NULL }, &ca);
	CU_ASSERT(ca.ca_override_unknown);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_SPLIT);
	CU_ASSERT_EQUAL(atomic_load(&csplit.sp_next), pos + 1);
	pick(&rt, &sc, (const char *[]){ "cookie: canary=Backend_v2",
	    "x-user: u7", NULL }, &ca);
	CU_ASSERT(ca.ca_override_unknown);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_STICKY);
	/* a header that names nothing, a cookie that does: the cookie */
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ "x-canary: what",
	    "cookie: canary=never", NULL }, &ca), 0);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_OVERRIDE);
}

static void
sticky_key_places_without_split_position(void)
{
	struct wrk_split_cache sc;
	struct wrk_canary ca;
	struct cd_route rt;
	char line[64];
	uint64_t pos;
	uint32_t first, idx;
	unsigned int i, n[3] = { 0, 0, 0 };
	int j;

	canary_route(&rt);
	unit_split_cache(&sc);
	pos = atomic_load(&csplit.sp_next);
	first = pick(&rt, &sc, (const char *[]){ "x-user: alice", NULL },
	    &ca);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_STICKY);
	for (j = 0; j < 100; j++)
		CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){
		    "x-user: alice", NULL }, &ca), first);
	CU_ASSERT_EQUAL(atomic_load(&csplit.sp_next), pos);
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "x-user: u%u", i);
		idx = pick(&rt, &sc, (const char *[]){ line, NULL }, &ca);
		n[idx]++;
	}
	CU_ASSERT(n[1] >= 70 && n[1] <= 130);
	CU_ASSERT_EQUAL(n[2], 0);

	/* weights changed at run time (SIGHUP, rollout): read from shm */
	shm_split_publish(&csplit, (const uint32_t[]){ 0, 100, 0 }, 3, 1);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ "x-user: alice",
	    NULL }, &ca), 1);

	/* no key: the exact split */
	pick(&rt, &sc, (const char *[]){ "x-other: 1", NULL }, &ca);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_SPLIT);
	CU_ASSERT_EQUAL(ca.ca_key[0], '\0');
}

static void
set_cookie_makes_a_key_only_when_none_came(void)
{
	struct wrk_split_cache sc;
	struct wrk_canary ca;
	struct cd_route rt;
	char line[96];
	uint32_t idx;

	canary_route(&rt);
	rt.rt_sticky.st_header = NULL;
	rt.rt_sticky.st_cookie = "uid";
	rt.rt_sticky.st_set_cookie = true;
	unit_split_cache(&sc);
	idx = pick(&rt, &sc, (const char *[]){ "host: x", NULL }, &ca);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_NEW_KEY);
	CU_ASSERT_EQUAL(strlen(ca.ca_key), WRK_STICKY_KEY_LEN);
	/* the browser sends it back: same cluster, no new key */
	snprintf(line, sizeof(line), "cookie: uid=%s", ca.ca_key);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ line, NULL }, &ca),
	    idx);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_STICKY);
	CU_ASSERT_EQUAL(ca.ca_key[0], '\0');
}

static void
marks_parse_and_format_round_trip(void)
{
	char out[WRK_STICKY_VALUE_MAX + 1], big[WRK_STICKY_VALUE_MAX + 8];
	uint32_t e, v;

	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("abc.7.1", 7, &e, &v), 3);
	CU_ASSERT(e == 7 && v == 1);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("a.b.4294967295.12", 17, &e, &v),
	    3);
	CU_ASSERT(e == 4294967295U && v == 12);
	/* no mark: all of it is the key, epoch 0 */
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("abc", 3, &e, &v), 3);
	CU_ASSERT_EQUAL(e, 0);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("abc.1", 5, &e, &v), 5);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("abc.0.1", 7, &e, &v), 7);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("abc.4294967296.1", 16, &e,
	    &v), 16);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("abc.1.123", 9, &e, &v), 9);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse(".1.1", 4, &e, &v), 4);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse("a.x1.1", 6, &e, &v), 6);
	CU_ASSERT_EQUAL(e, 0);

	CU_ASSERT_EQUAL(wrk_sticky_mark(out, sizeof(out), "k", 1, 3, 1), 0);
	CU_ASSERT_STRING_EQUAL(out, "k.3.1");
	/* in place, from a longer value */
	strlcpy(out, "key.9.0", sizeof(out));
	CU_ASSERT_EQUAL(wrk_sticky_mark(out, sizeof(out), out, 3, 10, 1), 0);
	CU_ASSERT_STRING_EQUAL(out, "key.10.1");
	memset(big, 'k', sizeof(big));
	CU_ASSERT_EQUAL(wrk_sticky_mark(out, sizeof(out), big, sizeof(big),
	    1, 1), -1);
	CU_ASSERT_STRING_EQUAL(out, "key.10.1");
	CU_ASSERT_EQUAL(wrk_sticky_seed(SEED, 0), SEED);
	CU_ASSERT_NOT_EQUAL(wrk_sticky_seed(SEED, 1), wrk_sticky_seed(SEED,
	    2));
}

/* The canary's users under a key and epoch: in [0, n). */
static unsigned int
canary_users(const struct cd_route *rt, struct wrk_split_cache *sc,
    unsigned int n, unsigned int *who)
{
	struct wrk_canary ca;
	char line[64];
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "x-user: u%u", i);
		if (pick(rt, sc, (const char *[]){ line, NULL }, &ca) == 1)
			who[k++] = i;
	}
	return k;
}

static void
fleet_epoch_places_a_new_attempt_afresh(void)
{
	static unsigned int a[1000], b[1000];
	struct wrk_split_cache sc;
	struct cd_route rt;
	unsigned int na, nb, i, j, same = 0;

	canary_route(&rt);
	unit_split_cache(&sc);
	shm_split_publish_epoch(&csplit, (const uint32_t[]){ 90, 10, 0 }, 3,
	    1, 1);
	na = canary_users(&rt, &sc, 1000, a);
	/* header keys: the same on every instance, the same next time */
	CU_ASSERT_EQUAL(canary_users(&rt, &sc, 1000, b), na);
	CU_ASSERT_EQUAL(memcmp(a, b, na * sizeof(a[0])), 0);
	CU_ASSERT_EQUAL(sc.sc_epoch, 1);
	/* a new attempt: about as many users, mostly others */
	shm_split_publish_epoch(&csplit, (const uint32_t[]){ 90, 10, 0 }, 3,
	    1, 2);
	nb = canary_users(&rt, &sc, 1000, b);
	CU_ASSERT(nb >= 70 && nb <= 130);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			same += a[i] == b[j];
	CU_ASSERT(same < na / 2);
}

static void
fleet_cookie_carries_version_and_epoch(void)
{
	struct wrk_split_cache sc;
	struct wrk_canary ca;
	struct cd_route rt;
	char line[128], key[WRK_STICKY_VALUE_MAX + 1];
	uint32_t idx, e, v;
	unsigned int i;

	canary_route(&rt);
	rt.rt_sticky.st_header = NULL;
	rt.rt_sticky.st_cookie = "uid";
	rt.rt_sticky.st_set_cookie = true;
	unit_split_cache(&sc);
	shm_split_publish_epoch(&csplit, (const uint32_t[]){ 50, 50, 0 }, 3,
	    1, 4);
	/* a new key carries its version and epoch */
	idx = pick(&rt, &sc, (const char *[]){ "host: x", NULL }, &ca);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_NEW_KEY);
	CU_ASSERT_EQUAL(wrk_sticky_mark_parse(ca.ca_key, strlen(ca.ca_key),
	    &e, &v), WRK_STICKY_KEY_LEN);
	CU_ASSERT(e == 4 && v == idx);
	/* sent back as given: same version, nothing to set */
	snprintf(line, sizeof(line), "cookie: uid=%s", ca.ca_key);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ line, NULL }, &ca),
	    idx);
	CU_ASSERT_EQUAL(ca.ca_by, WRK_PICK_STICKY);
	CU_ASSERT_EQUAL(ca.ca_key[0], '\0');
	/* a key the canary got stays there while the canary has weight,
	 * even where the weights (a lagging instance) say stable */
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "user%u", i);
		snprintf(line, sizeof(line), "cookie: uid=%s.4.1", key);
		CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){ line, NULL },
		    &ca), 1);
		CU_ASSERT_EQUAL(ca.ca_key[0], '\0');
	}
	shm_split_publish_epoch(&csplit, (const uint32_t[]){ 99, 1, 0 }, 3,
	    1, 4);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){
	    "cookie: uid=user3.4.1", NULL }, &ca), 1);
	/* a rollback (canary 0) moves it, and says so */
	shm_split_publish_epoch(&csplit, (const uint32_t[]){ 100, 0, 0 }, 3,
	    1, 5);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){
	    "cookie: uid=user3.4.1", NULL }, &ca), 0);
	CU_ASSERT_STRING_EQUAL(ca.ca_key, "user3.5.0");
	/* a stable mark never holds a user back from the canary */
	shm_split_publish_epoch(&csplit, (const uint32_t[]){ 0, 100, 0 }, 3,
	    1, 5);
	CU_ASSERT_EQUAL(pick(&rt, &sc, (const char *[]){
	    "cookie: uid=user3.5.0", NULL }, &ca), 1);
	CU_ASSERT_STRING_EQUAL(ca.ca_key, "user3.5.1");
	/* outside fleet mode a dot is part of the key, as before */
	shm_split_publish(&csplit, (const uint32_t[]){ 50, 50, 0 }, 3, 1);
	pick(&rt, &sc, (const char *[]){ "cookie: uid=user3.5.1", NULL },
	    &ca);
	CU_ASSERT_EQUAL(ca.ca_key[0], '\0');
	CU_ASSERT_EQUAL(sc.sc_epoch, 0);
}

static CU_TestInfo tests[] = {
	{ "hash_is_deterministic_and_depends_on_every_input",
	    hash_is_deterministic_and_depends_on_every_input },
	{ "pick_same_key_same_cluster_and_scale_free",
	    pick_same_key_same_cluster_and_scale_free },
	{ "pick_never_chooses_weight_zero", pick_never_chooses_weight_zero },
	{ "pick_distribution_follows_weights",
	    pick_distribution_follows_weights },
	{ "pick_is_monotone_on_weight_change",
	    pick_is_monotone_on_weight_change },
	{ "cookie_lookup_follows_rfc6265", cookie_lookup_follows_rfc6265 },
	{ "header_lookup_is_case_insensitive_and_skips_empty",
	    header_lookup_is_case_insensitive_and_skips_empty },
	{ "new_keys_are_128_bit_hex_and_differ",
	    new_keys_are_128_bit_hex_and_differ },
	{ "set_cookie_goes_before_the_empty_line",
	    set_cookie_goes_before_the_empty_line },
	{ "override_values_pick_their_cluster",
	    override_values_pick_their_cluster },
	{ "sticky_key_places_without_split_position",
	    sticky_key_places_without_split_position },
	{ "set_cookie_makes_a_key_only_when_none_came",
	    set_cookie_makes_a_key_only_when_none_came },
	{ "marks_parse_and_format_round_trip",
	    marks_parse_and_format_round_trip },
	{ "fleet_epoch_places_a_new_attempt_afresh",
	    fleet_epoch_places_a_new_attempt_afresh },
	{ "fleet_cookie_carries_version_and_epoch",
	    fleet_cookie_carries_version_and_epoch },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/sticky", tests);
