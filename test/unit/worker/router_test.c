/*
 * Unit tests for worker routing (worker/router.c): virtual host order and
 * wildcards, route match kinds, the weighted pick over a shm split, and
 * host picking with health and panic.  Configuration structs are built by
 * hand, the way the loader leaves them.
 */
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf-t.h"
#include "shared/shm.h"
#include "test/unit/unit.h"
#include "test/unit/worker/unit_split.h"
#include "worker/router.h"

static char scratch[4096];

/* ---- virtual hosts -------------------------------------------------- */

/* The virtual host for s through the index, which must give what the
 * plain walk over the domains gives. */
static const struct cd_vhost *
vhost_of(const struct wrk_router *ro, const struct cd_listener *l,
    const char *s)
{
	const struct cd_vhost *vh = wrk_router_vhost(ro, s, strlen(s));

	CU_ASSERT_PTR_EQUAL(vh, wrk_router_vhost_scan(l, s, strlen(s)));
	return vh;
}

static void
vhost_order_exact_suffix_prefix_star(void)
{
	char *d0[] = { "*" };
	char *d1[] = { "foo.*", "f.*" };
	char *d2[] = { "*.example.com", "*.com" };
	char *d3[] = { "www.example.com", "example.com:8080" };
	char *d4[] = { "*-bar.example.com" };
	struct cd_vhost vh[5];
	struct cd_listener l;
	struct wrk_router ro;

	memset(vh, 0, sizeof(vh));
	memset(&l, 0, sizeof(l));
	vh[0].vh_domains = d0, vh[0].vh_ndomains = 1;
	vh[1].vh_domains = d1, vh[1].vh_ndomains = 2;
	vh[2].vh_domains = d2, vh[2].vh_ndomains = 2;
	vh[3].vh_domains = d3, vh[3].vh_ndomains = 2;
	vh[4].vh_domains = d4, vh[4].vh_ndomains = 1;
	l.l_vhosts = vh;
	l.l_nvhosts = 5;
	CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);

#define VH(s)	vhost_of(&ro, &l, (s))
	CU_ASSERT_PTR_EQUAL(VH("www.example.com"), &vh[3]);
	CU_ASSERT_PTR_EQUAL(VH("WWW.Example.COM"), &vh[3]);
	CU_ASSERT_PTR_EQUAL(VH("example.com:8080"), &vh[3]);
	/* the longest suffix wins, whatever the order in the config */
	CU_ASSERT_PTR_EQUAL(VH("a-bar.example.com"), &vh[4]);
	CU_ASSERT_PTR_EQUAL(VH("api.example.com"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH("x.com"), &vh[2]);
	/* the wildcard stands for at least one character */
	CU_ASSERT_PTR_EQUAL(VH("-bar.example.com"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH(".com"), &vh[0]);
	/* suffix before prefix, longest prefix first */
	CU_ASSERT_PTR_EQUAL(VH("foo.com"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH("foo.org"), &vh[1]);
	CU_ASSERT_PTR_EQUAL(VH("f.org"), &vh[1]);
	/* the port is part of the host */
	CU_ASSERT_PTR_EQUAL(VH("www.example.com:80"), &vh[0]);
	CU_ASSERT_PTR_EQUAL(VH("other"), &vh[0]);
	CU_ASSERT_PTR_EQUAL(VH(""), &vh[0]);
#undef VH
	wrk_router_free(&ro);
}

static void
no_star_means_no_vhost(void)
{
	char *d[] = { "a.com" };
	struct cd_vhost vh;
	struct cd_listener l;
	struct wrk_router ro;

	memset(&vh, 0, sizeof(vh));
	memset(&l, 0, sizeof(l));
	vh.vh_domains = d;
	vh.vh_ndomains = 1;
	l.l_vhosts = &vh;
	l.l_nvhosts = 1;
	CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);
	CU_ASSERT_PTR_NULL(vhost_of(&ro, &l, "b.com"));
	CU_ASSERT_PTR_EQUAL(vhost_of(&ro, &l, "a.com"), &vh);
	wrk_router_free(&ro);
}

static void
strip_port(void)
{
	CU_ASSERT_EQUAL(wrk_router_strip_port("a.com:80", 8), 5);
	CU_ASSERT_EQUAL(wrk_router_strip_port("a.com", 5), 5);
	CU_ASSERT_EQUAL(wrk_router_strip_port("a.com:", 6), 6);
	CU_ASSERT_EQUAL(wrk_router_strip_port("[::1]:8080", 10), 5);
	CU_ASSERT_EQUAL(wrk_router_strip_port("[::1]", 5), 5);
	CU_ASSERT_EQUAL(wrk_router_strip_port("::1", 3), 3);
}

/* ---- routes ---------------------------------------------------------- */

static void
anchor(regex_t *re, const char *pat)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "^(%s)$", pat);
	CU_ASSERT_EQUAL_FATAL(regcomp(re, buf, REG_EXTENDED | REG_NOSUB), 0);
}

static void
set_match(struct cd_route *rt, enum cd_path_match_kind k, const char *v)
{
	memset(rt, 0, sizeof(*rt));
	rt->rt_match.rm_kind = k;
	rt->rt_match.rm_value = (char *)(uintptr_t)v;
	rt->rt_match.rm_len = strlen(v);
	rt->rt_match.rm_case_sensitive = true;
	if (k == CD_PM_REGEX)
		anchor(&rt->rt_match.rm_re, v);
}

/* The request "GET path" with the given raw head (header lines). */
struct req {
	char		 buf[1024];
	struct http1_hdr	 hdrs[16];
	struct wrk_rq_view rv;
};

static void
mkreq(struct req *q, const char *path, const char *const *h)
{
	size_t off = 0;
	uint16_t n = 0;

	memset(q, 0, sizeof(*q));
	for (; h != NULL && *h != NULL; h += 2, n++) {
		size_t nl = strlen(h[0]), vl = strlen(h[1]);

		memcpy(q->buf + off, h[0], nl);
		q->hdrs[n].h_name.s_off = (uint32_t)off;
		q->hdrs[n].h_name.s_len = (uint32_t)nl;
		off += nl;
		memcpy(q->buf + off, h[1], vl);
		q->hdrs[n].h_value.s_off = (uint32_t)off;
		q->hdrs[n].h_value.s_len = (uint32_t)vl;
		off += vl;
	}
	q->rv.rv_base = q->buf;
	q->rv.rv_path = path;
	q->rv.rv_path_len = strlen(path);
	q->rv.rv_hdrs = q->hdrs;
	q->rv.rv_nhdrs = n;
	q->rv.rv_scratch = scratch;
	q->rv.rv_scratch_len = sizeof(scratch);
}

/* The route of vh for q, through the compiled index, which must give
 * what the plain scan gives. */
static const struct cd_route *
route_of(const struct cd_vhost *vh, const struct req *q)
{
	const struct cd_route *rt;
	struct cd_listener l;
	struct wrk_router ro;

	memset(&l, 0, sizeof(l));
	l.l_vhosts = (struct cd_vhost *)(uintptr_t)vh;
	l.l_nvhosts = 1;
	CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);
	rt = wrk_router_route(&ro, vh, &q->rv);
	CU_ASSERT_PTR_EQUAL(rt, wrk_router_route_scan(vh, &q->rv));
	wrk_router_free(&ro);
	return rt;
}

static const struct cd_route *
route1(struct cd_route *rt, const char *path, const char *const *h)
{
	struct cd_vhost vh;
	struct req q;

	memset(&vh, 0, sizeof(vh));
	vh.vh_routes = rt;
	vh.vh_nroutes = 1;
	mkreq(&q, path, h);
	return route_of(&vh, &q);
}

#define MATCHES(rt, p)	(route1((rt), (p), NULL) != NULL)

static void
path_match_kinds(void)
{
	struct cd_route rt;

	set_match(&rt, CD_PM_PREFIX, "/api");
	CU_ASSERT(MATCHES(&rt, "/api"));
	CU_ASSERT(MATCHES(&rt, "/apiary"));
	CU_ASSERT(!MATCHES(&rt, "/API"));
	CU_ASSERT(!MATCHES(&rt, "/ap"));
	/* prefix sees the query string */
	set_match(&rt, CD_PM_PREFIX, "/a?x=1");
	CU_ASSERT(MATCHES(&rt, "/a?x=1&y=2"));

	set_match(&rt, CD_PM_PATH, "/health");
	CU_ASSERT(MATCHES(&rt, "/health"));
	CU_ASSERT(MATCHES(&rt, "/health?full=1"));
	CU_ASSERT(MATCHES(&rt, "/health#frag"));
	CU_ASSERT(!MATCHES(&rt, "/health/"));
	CU_ASSERT(!MATCHES(&rt, "/healthz"));

	set_match(&rt, CD_PM_SEP_PREFIX, "/api/dev");
	CU_ASSERT(MATCHES(&rt, "/api/dev"));
	CU_ASSERT(MATCHES(&rt, "/api/dev/"));
	CU_ASSERT(MATCHES(&rt, "/api/dev/v1"));
	CU_ASSERT(MATCHES(&rt, "/api/dev?x"));
	CU_ASSERT(!MATCHES(&rt, "/api/developer"));

	/* regex: full match, query removed */
	set_match(&rt, CD_PM_REGEX, "/v[0-9]+/items");
	CU_ASSERT(MATCHES(&rt, "/v12/items"));
	CU_ASSERT(MATCHES(&rt, "/v1/items?sort=asc"));
	CU_ASSERT(!MATCHES(&rt, "/v1/items/7"));
	CU_ASSERT(!MATCHES(&rt, "x/v1/items"));
	regfree(&rt.rt_match.rm_re);
}

static void
case_insensitive_path(void)
{
	struct cd_route rt;

	set_match(&rt, CD_PM_PREFIX, "/Api");
	rt.rt_match.rm_case_sensitive = false;
	CU_ASSERT(MATCHES(&rt, "/aPI/x"));
	set_match(&rt, CD_PM_PATH, "/Health");
	rt.rt_match.rm_case_sensitive = false;
	CU_ASSERT(MATCHES(&rt, "/HEALTH?x"));
}

static void
header_matchers(void)
{
	const char *const yes[] = { "X-Canary", "yes", "X-N", "42", NULL };
	const char *const no[] = { "x-canary", "no", NULL };
	const char *const twice[] = { "x-canary", "a", "x-canary", "b", NULL };
	struct cd_header_match hm;
	struct cd_route rt;

	set_match(&rt, CD_PM_PREFIX, "/");
	rt.rt_match.rm_headers = &hm;
	rt.rt_match.rm_nheaders = 1;

	memset(&hm, 0, sizeof(hm));
	hm.hm_name = "x-canary";
	hm.hm_name_len = 8;
	hm.hm_kind = CD_HM_STRING;
	hm.hm_str.sm_kind = CD_SM_EXACT;
	hm.hm_str.sm_value = "yes";
	hm.hm_str.sm_len = 3;
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	CU_ASSERT(route1(&rt, "/", no) == NULL);
	CU_ASSERT(route1(&rt, "/", NULL) == NULL);
	/* inverted: a different value matches, an absent header does not */
	hm.hm_invert = true;
	CU_ASSERT(route1(&rt, "/", no) != NULL);
	CU_ASSERT(route1(&rt, "/", yes) == NULL);
	CU_ASSERT(route1(&rt, "/", NULL) == NULL);
	hm.hm_invert = false;
	/* treat_missing_header_as_empty */
	hm.hm_str.sm_value = "";
	hm.hm_str.sm_len = 0;
	hm.hm_missing_as_empty = true;
	CU_ASSERT(route1(&rt, "/", NULL) != NULL);
	hm.hm_missing_as_empty = false;
	/* repeated headers are matched joined with "," */
	hm.hm_str.sm_value = "a,b";
	hm.hm_str.sm_len = 3;
	CU_ASSERT(route1(&rt, "/", twice) != NULL);

	/* present_match, both ways */
	hm.hm_kind = CD_HM_PRESENT;
	hm.hm_present = true;
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	CU_ASSERT(route1(&rt, "/", NULL) == NULL);
	hm.hm_present = false;
	CU_ASSERT(route1(&rt, "/", NULL) != NULL);
	CU_ASSERT(route1(&rt, "/", yes) == NULL);

	/* range_match [start, end) */
	hm.hm_name = "x-n";
	hm.hm_name_len = 3;
	hm.hm_kind = CD_HM_RANGE;
	hm.hm_range_start = 40;
	hm.hm_range_end = 43;
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	hm.hm_range_end = 42;
	CU_ASSERT(route1(&rt, "/", yes) == NULL);

	/* string kinds with ignore_case */
	hm.hm_name = "x-canary";
	hm.hm_name_len = 8;
	hm.hm_kind = CD_HM_STRING;
	hm.hm_str.sm_kind = CD_SM_PREFIX;
	hm.hm_str.sm_value = "Y";
	hm.hm_str.sm_len = 1;
	hm.hm_str.sm_ignore_case = true;
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	hm.hm_str.sm_ignore_case = false;
	CU_ASSERT(route1(&rt, "/", yes) == NULL);
	hm.hm_str.sm_kind = CD_SM_SUFFIX;
	hm.hm_str.sm_value = "es";
	hm.hm_str.sm_len = 2;
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	hm.hm_str.sm_kind = CD_SM_CONTAINS;
	hm.hm_str.sm_value = "e";
	hm.hm_str.sm_len = 1;
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	CU_ASSERT(route1(&rt, "/", no) == NULL);
	hm.hm_str.sm_kind = CD_SM_REGEX;
	anchor(&hm.hm_str.sm_re, "y.s");
	CU_ASSERT(route1(&rt, "/", yes) != NULL);
	CU_ASSERT(route1(&rt, "/", no) == NULL);
	regfree(&hm.hm_str.sm_re);
}

static void
query_parameter_matchers(void)
{
	struct cd_query_match qm;
	struct cd_route rt;

	set_match(&rt, CD_PM_PREFIX, "/");
	rt.rt_match.rm_query = &qm;
	rt.rt_match.rm_nquery = 1;
	memset(&qm, 0, sizeof(qm));
	qm.qm_name = "debug";
	qm.qm_present = true;
	CU_ASSERT(MATCHES(&rt, "/x?debug"));
	CU_ASSERT(MATCHES(&rt, "/x?a=1&debug=0"));
	CU_ASSERT(!MATCHES(&rt, "/x?debugger=1"));
	CU_ASSERT(!MATCHES(&rt, "/x"));
	qm.qm_present = false;
	qm.qm_str.sm_kind = CD_SM_EXACT;
	qm.qm_str.sm_value = "1";
	qm.qm_str.sm_len = 1;
	CU_ASSERT(MATCHES(&rt, "/x?debug=1"));
	/* only the first value of a repeated key counts */
	CU_ASSERT(!MATCHES(&rt, "/x?debug=0&debug=1"));
	CU_ASSERT(!MATCHES(&rt, "/x?debug"));
	CU_ASSERT(!MATCHES(&rt, "/x#?debug=1"));
}

static void
first_matching_route_wins(void)
{
	struct cd_route rts[3];
	struct cd_vhost vh;
	struct req q;

	set_match(&rts[0], CD_PM_PATH, "/health");
	set_match(&rts[1], CD_PM_PREFIX, "/");
	set_match(&rts[2], CD_PM_PREFIX, "/health");
	memset(&vh, 0, sizeof(vh));
	vh.vh_routes = rts;
	vh.vh_nroutes = 3;
	mkreq(&q, "/health", NULL);
	CU_ASSERT_PTR_EQUAL(route_of(&vh, &q), &rts[0]);
	mkreq(&q, "/healthz", NULL);
	CU_ASSERT_PTR_EQUAL(route_of(&vh, &q), &rts[1]);
}

/* ---- weighted clusters ------------------------------------------------ */

static struct shm_split	split;

static void
weighted_route(struct cd_route *rt, struct cd_weighted_cluster *wc,
    uint32_t w0, uint32_t w1)
{
	memset(rt, 0, sizeof(*rt));
	memset(wc, 0, 2 * sizeof(*wc));
	wc[0].wc_cluster = 0;
	wc[0].wc_weight = w0;
	wc[1].wc_cluster = 1;
	wc[1].wc_weight = w1;
	rt->rt_action = CD_RA_WEIGHTED;
	rt->rt_wc = wc;
	rt->rt_nwc = 2;
	rt->rt_split_mode = CD_SPLIT_EXACT;
}

static void
exact_split_twenty_picks_give_18_and_2_mid_period(void)
{
	const uint32_t w[2] = { 90, 10 };
	struct cd_weighted_cluster wc[2];
	struct wrk_split_cache sc;
	struct cd_route rt;
	uint64_t start;
	int i, n[2];

	weighted_route(&rt, wc, 90, 10);
	unit_split_reset(&split);
	shm_split_publish(&split, w, 2, 1);
	for (start = 0; start < 30; start += 7) {
		/* other workers moved the shared counter already */
		atomic_store(&split.sp_next, start);
		unit_split_cache(&sc);
		n[0] = n[1] = 0;
		for (i = 0; i < 20; i++)
			n[wrk_router_pick_weighted(&rt, &split, &sc)]++;
		CU_ASSERT_EQUAL(n[0], 18);
		CU_ASSERT_EQUAL(n[1], 2);
		CU_ASSERT_EQUAL(atomic_load(&split.sp_next), start + 20);
	}
}

static void
exact_split_follows_published_weights(void)
{
	const uint32_t w[2] = { 50, 50 };
	struct cd_weighted_cluster wc[2];
	struct wrk_split_cache sc;
	struct cd_route rt;
	int i, n[2] = { 0, 0 };

	weighted_route(&rt, wc, 90, 10);
	unit_split_reset(&split);
	unit_split_cache(&sc);
	/* before the master publishes: the configured weights */
	for (i = 0; i < 10; i++)
		n[wrk_router_pick_weighted(&rt, &split, &sc)]++;
	CU_ASSERT_EQUAL(n[0], 9);
	CU_ASSERT_EQUAL(n[1], 1);
	/* a reload publishes 50/50: the cache notices the new sequence */
	shm_split_publish(&split, w, 2, 1);
	n[0] = n[1] = 0;
	for (i = 0; i < 10; i++)
		n[wrk_router_pick_weighted(&rt, &split, &sc)]++;
	CU_ASSERT_EQUAL(n[0], 5);
	CU_ASSERT_EQUAL(n[1], 5);
}

/*
 * During a structural reload the route's shm split may hold another
 * generation's weights (3 clusters here): the route keeps its own 90/10,
 * still exact, still on the shared counter.
 */
static void
split_of_another_generation_uses_route_weights(void)
{
	const uint32_t w[3] = { 1, 1, 1 };
	struct cd_weighted_cluster wc[2];
	struct wrk_split_cache sc;
	struct cd_route rt;
	int i, n[2] = { 0, 0 };

	weighted_route(&rt, wc, 90, 10);
	unit_split_reset(&split);
	unit_split_cache(&sc);
	shm_split_publish(&split, w, 3, 1);
	for (i = 0; i < 20; i++)
		n[wrk_router_pick_weighted(&rt, &split, &sc)]++;
	CU_ASSERT_EQUAL(n[0], 18);
	CU_ASSERT_EQUAL(n[1], 2);
	CU_ASSERT_EQUAL(atomic_load(&split.sp_next), 20);
}

static void
random_split_uses_both_clusters(void)
{
	struct cd_weighted_cluster wc[2];
	struct wrk_split_cache sc;
	struct cd_route rt;
	int i, n[2] = { 0, 0 };

	weighted_route(&rt, wc, 50, 50);
	rt.rt_split_mode = CD_SPLIT_RANDOM;
	unit_split_reset(&split);
	unit_split_cache(&sc);
	for (i = 0; i < 2000; i++)
		n[wrk_router_pick_weighted(&rt, &split, &sc)]++;
	CU_ASSERT(n[0] > 800 && n[1] > 800);
	/* random mode leaves the shared counter alone */
	CU_ASSERT_EQUAL(atomic_load(&split.sp_next), 0);
}

/* ---- hosts ------------------------------------------------------------ */

static void
hosts_init(struct shm_host *h, uint32_t n)
{
	uint32_t i;

	memset(h, 0, n * sizeof(*h));
	for (i = 0; i < n; i++) {
		h[i].sh_weight = 1;
		h[i].sh_id = i + 1;
	}
}

static void
round_robin_skips_unhealthy(void)
{
	struct shm_host h[4];
	uint32_t f[4] = { 0, SHM_HF_FAILED_ACTIVE_HC, 0, 0 };
	int seen[4] = { 0 }, i, idx;
	bool panic;

	hosts_init(h, 4);
	for (i = 0; i < 30; i++) {
		idx = wrk_router_pick_host(h, f, 4, 50, CD_LB_ROUND_ROBIN,
		    (uint64_t)i, 0, &panic);
		CU_ASSERT_FATAL(idx >= 0 && idx < 4);
		CU_ASSERT(!panic);
		seen[idx]++;
	}
	CU_ASSERT_EQUAL(seen[1], 0);
	CU_ASSERT_EQUAL(seen[0], 10);
	CU_ASSERT_EQUAL(seen[2], 10);
	CU_ASSERT_EQUAL(seen[3], 10);
	/* degraded and pending flags are not "unhealthy" for balancing */
	f[1] = SHM_HF_DEGRADED_ACTIVE_HC;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 4; i++)
		seen[wrk_router_pick_host(h, f, 4, 50, CD_LB_ROUND_ROBIN,
		    (uint64_t)i, 0, &panic)]++;
	CU_ASSERT_EQUAL(seen[1], 1);
}

static void
panic_uses_every_host_below_threshold(void)
{
	struct shm_host h[4];
	uint32_t f[4] = { SHM_HF_FAILED_ACTIVE_HC, SHM_HF_FAILED_OUTLIER_CHECK,
	    SHM_HF_FAILED_ACTIVE_HC, 0 };
	int seen[4] = { 0 }, i;
	bool panic;

	hosts_init(h, 4);
	/* 25 % healthy < 50 %: panic, all hosts take traffic */
	for (i = 0; i < 8; i++) {
		seen[wrk_router_pick_host(h, f, 4, 50, CD_LB_ROUND_ROBIN,
		    (uint64_t)i, 0, &panic)]++;
		CU_ASSERT(panic);
	}
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(seen[i], 2);
	/* 25 % >= 20 %: no panic, only the healthy host */
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 4, 20, CD_LB_ROUND_ROBIN,
	    0, 0, &panic), 3);
	CU_ASSERT(!panic);
	/* one host, unhealthy: panic keeps sending to it (Envoy) */
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 1, 50, CD_LB_ROUND_ROBIN,
	    0, 0, &panic), 0);
	CU_ASSERT(panic);
	/* threshold 0 disables panic: nothing to pick */
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 1, 0, CD_LB_ROUND_ROBIN,
	    0, 0, &panic), -1);
	CU_ASSERT(!panic);
	/* no hosts at all (DNS not answered yet) */
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 0, 50, CD_LB_ROUND_ROBIN,
	    0, 0, &panic), -1);
}

static void
weights_and_random(void)
{
	struct shm_host h[2];
	uint32_t f[2] = { 0, 0 };
	int seen[2] = { 0 }, i;
	bool panic;

	hosts_init(h, 2);
	h[0].sh_weight = 3;
	for (i = 0; i < 8; i++)
		seen[wrk_router_pick_host(h, f, 2, 50, CD_LB_ROUND_ROBIN,
		    (uint64_t)i, 0, &panic)]++;
	CU_ASSERT_EQUAL(seen[0], 6);
	CU_ASSERT_EQUAL(seen[1], 2);
	/* random: the 32-bit value scales onto the weights */
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 2, 50, CD_LB_RANDOM, 0, 0,
	    &panic), 0);
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 2, 50, CD_LB_RANDOM, 0,
	    0xffffffffu, &panic), 1);
	CU_ASSERT_EQUAL(wrk_router_pick_host(h, f, 2, 50, CD_LB_RANDOM, 0,
	    0xbfffffffu, &panic), 0);
}

static CU_TestInfo tests[] = {
	{ "vhost_order_exact_suffix_prefix_star",
	    vhost_order_exact_suffix_prefix_star },
	{ "no_star_means_no_vhost", no_star_means_no_vhost },
	{ "strip_port", strip_port },
	{ "path_match_kinds", path_match_kinds },
	{ "case_insensitive_path", case_insensitive_path },
	{ "header_matchers", header_matchers },
	{ "query_parameter_matchers", query_parameter_matchers },
	{ "first_matching_route_wins", first_matching_route_wins },
	{ "exact_split_twenty_picks_give_18_and_2_mid_period",
	    exact_split_twenty_picks_give_18_and_2_mid_period },
	{ "exact_split_follows_published_weights",
	    exact_split_follows_published_weights },
	{ "split_of_another_generation_uses_route_weights",
	    split_of_another_generation_uses_route_weights },
	{ "random_split_uses_both_clusters", random_split_uses_both_clusters },
	{ "round_robin_skips_unhealthy", round_robin_skips_unhealthy },
	{ "panic_uses_every_host_below_threshold",
	    panic_uses_every_host_below_threshold },
	{ "weights_and_random", weights_and_random },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/router", tests)
