/*
 * Unit tests for worker/lb.c: the ring and Maglev tables (a key keeps
 * its host, keys spread by weight, a removed or unhealthy host moves only
 * its own keys), LEAST_REQUEST against active counts in shm, and the
 * request hash of a route's hash_policy.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/http1.h"
#include "shared/shm.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"
#include "worker/lb.h"

#define NKEYS	30000

static void
hosts_init(struct shm_host *h, uint32_t n, const uint32_t *w)
{
	uint32_t i;

	memset(h, 0, n * sizeof(*h));
	for (i = 0; i < n; i++) {
		h[i].sh_family = 2;
		h[i].sh_addr[0] = 10;
		h[i].sh_addr[3] = (uint8_t)(i + 1);
		h[i].sh_port = 8080;
		h[i].sh_weight = w != NULL ? w[i] : 1;
		h[i].sh_id = i + 1;
	}
}

static void
cluster_init(struct cd_cluster *cl, enum cd_lb_policy lb)
{
	memset(cl, 0, sizeof(*cl));
	cl->cl_lb = lb;
	cl->cl_ring_min = 1024;
	cl->cl_ring_max = 8388608;
	cl->cl_maglev_size = 65537;
	cl->cl_lr_choices = 2;
	cl->cl_panic_threshold = 50;
}

/* The host of key k (its hash is k mixed). */
static int
pick(const struct cd_cluster *cl, struct wrk_lb_table *t, uint32_t seq,
    const struct shm_host *h, const uint32_t *flags, uint32_t n, uint64_t k)
{
	uint64_t key = wrk_lb_hash(&k, sizeof(k));
	bool panic;

	return wrk_lb_pick(cl, t, seq, h, flags, n, &key, NULL, 0, &panic);
}

static void
hashing_spreads_by_weight_and_keeps_keys(enum cd_lb_policy lb)
{
	static const uint32_t w[3] = { 1, 1, 2 };
	struct shm_host h[3];
	uint32_t flags[3] = { 0, 0, 0 }, count[3] = { 0, 0, 0 };
	struct cd_cluster cl;
	struct wrk_lb_table t;
	uint64_t k;
	int *first, idx;

	cluster_init(&cl, lb);
	hosts_init(h, 3, w);
	memset(&t, 0, sizeof(t));
	CU_ASSERT_FATAL((first = calloc(NKEYS, sizeof(*first))) != NULL);
	for (k = 0; k < NKEYS; k++) {
		first[k] = idx = pick(&cl, &t, 1, h, flags, 3, k);
		CU_ASSERT_FATAL(idx >= 0 && idx < 3);
		count[idx]++;
	}
	/* 1:1:2 within 5 points of the total */
	CU_ASSERT(abs((int)count[0] - NKEYS / 4) < NKEYS / 20);
	CU_ASSERT(abs((int)count[1] - NKEYS / 4) < NKEYS / 20);
	CU_ASSERT(abs((int)count[2] - NKEYS / 2) < NKEYS / 20);
	/* the same key, the same host, every time */
	for (k = 0; k < 1000; k++)
		CU_ASSERT_EQUAL(pick(&cl, &t, 1, h, flags, 3, k), first[k]);
	/* host 1 unhealthy: only its keys move */
	flags[1] = SHM_HF_FAILED_ACTIVE_HC;
	for (k = 0; k < NKEYS; k++) {
		idx = pick(&cl, &t, 1, h, flags, 3, k);
		CU_ASSERT(idx != 1);
		if (first[k] != 1)
			CU_ASSERT_EQUAL(idx, first[k]);
	}
	wrk_lb_table_free(&t);
	free(first);
}

static void
ring_hash_spreads_by_weight_and_keeps_keys(void)
{
	hashing_spreads_by_weight_and_keeps_keys(CD_LB_RING_HASH);
}

static void
maglev_spreads_by_weight_and_keeps_keys(void)
{
	hashing_spreads_by_weight_and_keeps_keys(CD_LB_MAGLEV);
}

/* A host removed from the list: its keys move, and of the others' keys
 * a bounded share (the ring's) or nearly none (Maglev's). */
static void
removing_a_host_moves_mostly_its_keys(void)
{
	enum cd_lb_policy lbs[2] = { CD_LB_RING_HASH, CD_LB_MAGLEV };
	struct shm_host h[4];
	uint32_t flags[4] = { 0 }, moved, i;
	struct cd_cluster cl;
	struct wrk_lb_table t;
	uint64_t k;
	int before[NKEYS / 3], after;

	for (i = 0; i < 2; i++) {
		cluster_init(&cl, lbs[i]);
		hosts_init(h, 4, NULL);
		memset(&t, 0, sizeof(t));
		for (k = 0; k < NKEYS / 3; k++)
			before[k] = pick(&cl, &t, 1, h, flags, 4, k);
		/* the last host goes: a new list, a new sequence */
		moved = 0;
		for (k = 0; k < NKEYS / 3; k++) {
			after = pick(&cl, &t, 2, h, flags, 3, k);
			CU_ASSERT(after >= 0 && after < 3);
			if (before[k] != 3 && after != before[k])
				moved++;
		}
		/* keys of the kept hosts stay (a few percent for Maglev) */
		/* the ring gives every host ceil(minimum_ring_size / n)
		 * points, as Envoy's does: one host fewer adds points to the
		 * others, which take some keys (here about 10 %); Maglev's
		 * permutations move almost none */
		CU_ASSERT(moved < NKEYS / 3 / (i == 0 ? 5 : 50));
		wrk_lb_table_free(&t);
	}
}

/* Without a hash value a hashing balancer picks at random: every host
 * gets some. */
static void
no_hash_picks_at_random(void)
{
	struct shm_host h[2];
	uint32_t flags[2] = { 0, 0 }, count[2] = { 0, 0 }, i;
	struct cd_cluster cl;
	struct wrk_lb_table t;
	bool panic;
	int idx;

	cluster_init(&cl, CD_LB_RING_HASH);
	hosts_init(h, 2, NULL);
	memset(&t, 0, sizeof(t));
	for (i = 0; i < 1000; i++) {
		idx = wrk_lb_pick(&cl, &t, 1, h, flags, 2, NULL, NULL, 0,
		    &panic);
		CU_ASSERT_FATAL(idx == 0 || idx == 1);
		count[idx]++;
	}
	CU_ASSERT(count[0] > 300 && count[1] > 300);
	wrk_lb_table_free(&t);
}

/* LEAST_REQUEST: of the hosts drawn, the one with fewer active requests
 * across every worker's slot. */
static void
least_request_prefers_the_idle_host(void)
{
	struct shm *s = unit_shm();
	struct shm_host h[2];
	uint32_t flags[2] = { 0, 0 }, count[2] = { 0, 0 }, i;
	struct cd_cluster cl;
	struct wrk_lb_table t;
	bool panic;
	int idx;

	CU_ASSERT_FATAL(s != NULL);
	cluster_init(&cl, CD_LB_LEAST_REQUEST);
	cl.cl_lr_choices = 8;
	hosts_init(h, 2, NULL);
	memset(&t, 0, sizeof(t));
	/* host 0 busy in two workers' slots */
	atomic_store(&shm_host_ctr(s, shm_slot(s, 0), shm_cl(s, 3), 0)->hc_g[HOG_RQ_ACTIVE],
	    4);
	atomic_store(&shm_host_ctr(s, shm_slot(s, 1), shm_cl(s, 3), 0)->hc_g[HOG_RQ_ACTIVE],
	    3);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	for (i = 0; i < 1000; i++) {
		idx = wrk_lb_pick(&cl, &t, 1, h, flags, 2, NULL, s, 3, &panic);
		CU_ASSERT_FATAL(idx == 0 || idx == 1);
		count[idx]++;
	}
	/* only when all 8 draws hit host 0 (1 in 256) does it win */
	CU_ASSERT(count[1] > 950);
	/* an unhealthy host is never drawn */
	flags[1] = SHM_HF_FAILED_ACTIVE_HC;
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(wrk_lb_pick(&cl, &t, 1, h, flags, 2, NULL, s, 3,
		    &panic), 0);
	shm_destroy(s);
}

/* Envoy's combination: each value found is mixed in, a terminal policy
 * with a value ends the list, a missing value is skipped. */
static void
request_hash_follows_the_policies(void)
{
	static const char head[] = "x-user: ann\r\ncookie: a=1; sid=\"s9\"\r\n";
	struct http1_hdr hdrs[2];
	struct cd_route rt;
	const char *path = "/p?x=1&user=bo&y=2";
	uint64_t h1, h2, want;
	char hn[] = "x-user", cn[] = "sid", qn[] = "user", miss[] = "nope";

	memset(hdrs, 0, sizeof(hdrs));
	hdrs[0].h_name.s_off = 0;
	hdrs[0].h_name.s_len = 6;
	hdrs[0].h_value.s_off = 8;
	hdrs[0].h_value.s_len = 3;
	hdrs[1].h_name.s_off = 13;
	hdrs[1].h_name.s_len = 6;
	hdrs[1].h_value.s_off = 21;
	hdrs[1].h_value.s_len = 13;
	memset(&rt, 0, sizeof(rt));
	rt.rt_hash[0].hp_kind = CD_HASH_HEADER;
	rt.rt_hash[0].hp_name = hn;
	rt.rt_nhash = 1;
	CU_ASSERT(wrk_lb_request_hash(&rt, head, hdrs, 2, path, strlen(path),
	    -1, &h1));
	CU_ASSERT_EQUAL(h1, wrk_lb_hash("ann", 3));

	/* a missing header, then the cookie (quotes removed), then the
	 * query parameter: rotate and xor */
	rt.rt_hash[0].hp_name = miss;
	rt.rt_hash[1].hp_kind = CD_HASH_COOKIE;
	rt.rt_hash[1].hp_name = cn;
	rt.rt_hash[2].hp_kind = CD_HASH_QUERY;
	rt.rt_hash[2].hp_name = qn;
	rt.rt_nhash = 3;
	CU_ASSERT(wrk_lb_request_hash(&rt, head, hdrs, 2, path, strlen(path),
	    -1, &h2));
	want = wrk_lb_hash("s9", 2);
	want = ((want << 1) | (want >> 63)) ^ wrk_lb_hash("bo", 2);
	CU_ASSERT_EQUAL(h2, want);

	/* a terminal cookie ends it before the query parameter */
	rt.rt_hash[1].hp_terminal = true;
	CU_ASSERT(wrk_lb_request_hash(&rt, head, hdrs, 2, path, strlen(path),
	    -1, &h2));
	CU_ASSERT_EQUAL(h2, wrk_lb_hash("s9", 2));

	/* nothing found: no hash */
	rt.rt_hash[1].hp_name = miss;
	rt.rt_hash[2].hp_name = miss;
	CU_ASSERT_FALSE(wrk_lb_request_hash(&rt, head, hdrs, 2, path,
	    strlen(path), -1, &h2));
}

/* 1,000 hosts, every third unhealthy: never picked; the healthy ones
 * all reached (Maglev: each has dozens of entries), most of them on the
 * ring (an arc may be small enough that no key lands on it). */
static void
hashing_many_hosts(enum cd_lb_policy lb, uint32_t want_reached)
{
	enum { N = 1000 };
	struct shm_host *h;
	uint32_t *flags, *count, i, reached = 0;
	struct cd_cluster cl;
	struct wrk_lb_table t;
	uint64_t k;
	int idx;

	cluster_init(&cl, lb);
	CU_ASSERT_FATAL((h = calloc(N, sizeof(*h))) != NULL);
	CU_ASSERT_FATAL((flags = calloc(N, sizeof(*flags))) != NULL);
	CU_ASSERT_FATAL((count = calloc(N, sizeof(*count))) != NULL);
	hosts_init(h, N, NULL);
	for (i = 0; i < N; i++) {
		h[i].sh_addr[2] = (uint8_t)((i + 1) >> 8);
		if (i % 3 == 0)
			flags[i] = SHM_HF_FAILED_ACTIVE_HC;
	}
	memset(&t, 0, sizeof(t));
	for (k = 0; k < NKEYS; k++) {
		idx = pick(&cl, &t, 1, h, flags, N, k);
		CU_ASSERT_FATAL(idx >= 0 && idx < N);
		CU_ASSERT(flags[idx] == 0);
		count[idx]++;
	}
	for (i = 0; i < N; i++)
		if (count[i] > 0)
			reached++;
	CU_ASSERT(reached >= want_reached);
	CU_ASSERT(reached <= N - (N + 2) / 3);
	wrk_lb_table_free(&t);
	free(h);
	free(flags);
	free(count);
}

static void
maglev_over_a_thousand_hosts(void)
{
	hashing_many_hosts(CD_LB_MAGLEV, 1000 - 334);
}

static void
ring_hash_over_a_thousand_hosts(void)
{
	hashing_many_hosts(CD_LB_RING_HASH, 500);
}

static CU_TestInfo tests[] = {
	{ "maglev_over_a_thousand_hosts", maglev_over_a_thousand_hosts },
	{ "ring_hash_over_a_thousand_hosts",
	    ring_hash_over_a_thousand_hosts },
	{ "ring_hash_spreads_by_weight_and_keeps_keys",
	    ring_hash_spreads_by_weight_and_keeps_keys },
	{ "maglev_spreads_by_weight_and_keeps_keys",
	    maglev_spreads_by_weight_and_keeps_keys },
	{ "removing_a_host_moves_mostly_its_keys",
	    removing_a_host_moves_mostly_its_keys },
	{ "no_hash_picks_at_random", no_hash_picks_at_random },
	{ "least_request_prefers_the_idle_host",
	    least_request_prefers_the_idle_host },
	{ "request_hash_follows_the_policies",
	    request_hash_follows_the_policies },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/lb", tests);
