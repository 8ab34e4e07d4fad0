/*
 * Unit tests for the router's index (worker/router_index.c): the domain
 * hash and the route tries must answer exactly what the plain scans of
 * worker/router.c answer.  Differential runs on thousands of random
 * tables and domain sets (test/unit/route_gen.h, fixed seeds, so a
 * failure replays), then the cases that matter by name: first match
 * across kinds, case-insensitive keys, ten thousand routes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf-t.h"
#include "test/unit/route_gen.h"
#include "test/unit/unit.h"
#include "worker/router.h"

#define DIFF_TABLES	5000
#define DIFF_REQUESTS	64

/* Index of rt in vh, or -1 for NULL: what a mismatch report prints. */
static long
route_index(const struct cd_vhost *vh, const struct cd_route *rt)
{
	return rt == NULL ? -1 : (long)(rt - vh->vh_routes);
}

static void
dump_table(const struct cd_vhost *vh, const struct rg_req *q)
{
	size_t i;

	fprintf(stderr, "\npath \"%.*s\"\n", (int)q->q_rv.rv_path_len,
	    q->q_rv.rv_path);
	for (i = 0; i < vh->vh_nroutes; i++) {
		const struct cd_route_match *m = &vh->vh_routes[i].rt_match;

		fprintf(stderr, "  %zu: kind %d \"%s\"%s%s%s%s\n", i,
		    (int)m->rm_kind, m->rm_value, m->rm_case_sensitive ? "" :
		    " icase", m->rm_nheaders ? " +header" : "",
		    m->rm_nquery ? " +query" : "", m->rm_fraction.rf_set ?
		    " +fraction" : "");
	}
}

static void
index_agrees_with_scan_on_random_tables(void)
{
	static struct rg_table t;
	struct rg g = { .rg_x = 0x15a15a15aULL };
	struct cd_listener l;
	struct wrk_router ro;
	struct rg_req q;
	const struct cd_route *a, *b;
	unsigned long n = 0, found = 0, bad = 0;
	size_t i, j;

	CU_ASSERT_EQUAL_FATAL(rg_table_init(&t), 0);
	memset(&l, 0, sizeof(l));
	l.l_vhosts = &t.t_vh;
	l.l_nvhosts = 1;
	for (i = 0; i < DIFF_TABLES; i++) {
		rg_table(&g, &t, RG_MAXROUTES);
		CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);
		for (j = 0; j < DIFF_REQUESTS; j++) {
			rg_req(&g, &t, &q);
			a = wrk_router_route(&ro, &t.t_vh, &q.q_rv);
			b = wrk_router_route_scan(&t.t_vh, &q.q_rv);
			n++;
			found += b != NULL;
			if (a != b && bad++ == 0) {
				dump_table(&t.t_vh, &q);
				fprintf(stderr, "index %ld, scan %ld\n",
				    route_index(&t.t_vh, a),
				    route_index(&t.t_vh, b));
			}
		}
		wrk_router_free(&ro);
	}
	rg_table_free(&t);
	CU_ASSERT_EQUAL(bad, 0);
	/* the requests must exercise both answers, not only "no route" */
	CU_ASSERT(found > n / 4 && found < n - n / 20);
}

static void
index_agrees_with_scan_on_random_domains(void)
{
	static struct rg_domains ds;
	struct rg g = { .rg_x = 0xd0a1115ULL };
	const struct cd_vhost *a, *b;
	struct wrk_router ro;
	char h[RG_MAXHOST + 16];
	unsigned long n = 0, found = 0, bad = 0;
	size_t i, j, len;

	for (i = 0; i < DIFF_TABLES; i++) {
		rg_domains(&g, &ds);
		CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &ds.d_l), 0);
		for (j = 0; j < DIFF_REQUESTS; j++) {
			len = rg_host(&g, &ds, h);
			a = wrk_router_vhost(&ro, h, len);
			b = wrk_router_vhost_scan(&ds.d_l, h, len);
			n++;
			found += b != NULL && b != ro.ro_star;
			if (a != b && bad++ == 0)
				fprintf(stderr, "\nhost \"%.*s\": index %ld, "
				    "scan %ld\n", (int)len, h, a == NULL ? -1 :
				    (long)(a - ds.d_vh), b == NULL ? -1 :
				    (long)(b - ds.d_vh));
		}
		wrk_router_free(&ro);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(found > n / 4);
}

/* ---- by name ------------------------------------------------------------ */

static void
set_route(struct cd_route *rt, enum cd_path_match_kind k, const char *v,
    bool cs)
{
	memset(rt, 0, sizeof(*rt));
	rt->rt_match.rm_kind = k;
	rt->rt_match.rm_value = (char *)(uintptr_t)v;
	rt->rt_match.rm_len = strlen(v);
	rt->rt_match.rm_case_sensitive = cs;
}

static void
view(struct wrk_rq_view *rv, const char *path, const struct http1_hdr *h,
    uint16_t nh, const char *base)
{
	static char scratch[512];

	memset(rv, 0, sizeof(*rv));
	rv->rv_base = base;
	rv->rv_path = path;
	rv->rv_path_len = strlen(path);
	rv->rv_hdrs = h;
	rv->rv_nhdrs = nh;
	rv->rv_scratch = scratch;
	rv->rv_scratch_len = sizeof(scratch);
}

/* Route index for path through the index (checked against the scan). */
static long
route_for(const struct wrk_router *ro, const struct cd_vhost *vh,
    const char *path, const struct http1_hdr *h, uint16_t nh,
    const char *base)
{
	const struct cd_route *rt;
	struct wrk_rq_view rv;

	view(&rv, path, h, nh, base);
	rt = wrk_router_route(ro, vh, &rv);
	CU_ASSERT_PTR_EQUAL(rt, wrk_router_route_scan(vh, &rv));
	return route_index(vh, rt);
}

static void
first_match_across_kinds(void)
{
	const char base[] = "x-a1";
	const struct http1_hdr xa = { .h_name = { 0, 3 }, .h_value = { 3, 1 } };
	struct cd_header_match hm;
	struct cd_route rts[8];
	struct cd_vhost vh;
	struct cd_listener l;
	struct wrk_router ro;

	/* 0: /a/b with a header; 1: regex /a/.*; 2: /A (any case);
	 * 3: exact /a/b; 4: /a/ separated; 5: /a; 6: /; 7: "" */
	set_route(&rts[0], CD_PM_PREFIX, "/a/b", true);
	memset(&hm, 0, sizeof(hm));
	hm.hm_name = "x-a";
	hm.hm_name_len = 3;
	hm.hm_kind = CD_HM_PRESENT;
	hm.hm_present = true;
	rts[0].rt_match.rm_headers = &hm;
	rts[0].rt_match.rm_nheaders = 1;
	set_route(&rts[1], CD_PM_REGEX, "/a/c.*", true);
	CU_ASSERT_EQUAL_FATAL(regcomp(&rts[1].rt_match.rm_re, "^(/a/c.*)$",
	    REG_EXTENDED | REG_NOSUB), 0);
	set_route(&rts[2], CD_PM_PREFIX, "/A/D", false);
	set_route(&rts[3], CD_PM_PATH, "/a/b", true);
	set_route(&rts[4], CD_PM_SEP_PREFIX, "/a/e", true);
	set_route(&rts[5], CD_PM_PREFIX, "/a", true);
	set_route(&rts[6], CD_PM_PREFIX, "/", true);
	set_route(&rts[7], CD_PM_PREFIX, "", true);
	memset(&vh, 0, sizeof(vh));
	vh.vh_routes = rts;
	vh.vh_nroutes = 8;
	memset(&l, 0, sizeof(l));
	l.l_vhosts = &vh;
	l.l_nvhosts = 1;
	CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);

	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/b", &xa, 1, base), 0);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/b", NULL, 0, base), 3);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/b?x", NULL, 0, base), 3);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/bc", NULL, 0, base), 5);
	/* the regex sits between the tree's candidates */
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/cd", &xa, 1, base), 1);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/b/c", &xa, 1, base), 0);
	/* case_sensitive: false, before the case-sensitive ones */
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/d", NULL, 0, base), 2);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/A/dX", NULL, 0, base), 2);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/A/X", NULL, 0, base), 6);
	/* separated prefix: the key, then '/' or the end of the path */
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/e", NULL, 0, base), 4);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/e/f", NULL, 0, base), 4);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/e?q", NULL, 0, base), 4);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/a/ef", NULL, 0, base), 5);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "/b", NULL, 0, base), 6);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "b", NULL, 0, base), 7);
	CU_ASSERT_EQUAL(route_for(&ro, &vh, "", NULL, 0, base), 7);
	wrk_router_free(&ro);
	regfree(&rts[1].rt_match.rm_re);
}

#define MANY	10000

/* The bench's table: MANY prefix routes "/svcN/" before the seed's
 * "/health" (exact) and "/" routes, then the same in any case. */
static void
ten_thousand_prefix_routes(void)
{
	static struct cd_route rts[MANY + 2];
	static char vals[MANY][16];
	struct cd_vhost vh;
	struct cd_listener l;
	struct wrk_router ro;
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < MANY; i++) {
			snprintf(vals[i], sizeof(vals[i]), pass ? "/SVC%zu/" :
			    "/svc%zu/", i + 1);
			set_route(&rts[i], CD_PM_PREFIX, vals[i], pass == 0);
		}
		set_route(&rts[MANY], CD_PM_PATH, "/health", true);
		set_route(&rts[MANY + 1], CD_PM_PREFIX, "/", true);
		memset(&vh, 0, sizeof(vh));
		vh.vh_routes = rts;
		vh.vh_nroutes = MANY + 2;
		memset(&l, 0, sizeof(l));
		l.l_vhosts = &vh;
		l.l_nvhosts = 1;
		CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);
#define R(p)	route_for(&ro, &vh, (p), NULL, 0, "")
		CU_ASSERT_EQUAL(R("/api"), MANY + 1);
		CU_ASSERT_EQUAL(R("/health"), MANY);
		CU_ASSERT_EQUAL(R("/svc1/"), 0);
		CU_ASSERT_EQUAL(R("/svc1/x"), 0);
		CU_ASSERT_EQUAL(R("/svc10000/x"), MANY - 1);
		CU_ASSERT_EQUAL(R("/Svc9999/x?y"), pass ? MANY - 2 : MANY + 1);
		CU_ASSERT_EQUAL(R("/svc10001/x"), MANY + 1);
		CU_ASSERT_EQUAL(R("/svc1"), MANY + 1);
		CU_ASSERT_EQUAL(R("svc1/"), -1);
#undef R
		wrk_router_free(&ro);
	}
}

/* Many domains of each kind: the hash finds each, and the lengths keep
 * Envoy's order (exact, longest suffix, longest prefix, "*"). */
static void
many_domains(void)
{
	static char names[3 * MANY][24];
	static char *doms[3 * MANY + 1];
	struct cd_vhost vh[4];
	struct cd_listener l;
	struct wrk_router ro;
	char *star[] = { "*" };
	char *wide[] = { "*.com", "api.*" };
	size_t i;

	for (i = 0; i < MANY; i++) {
		snprintf(names[i], sizeof(names[i]), "h%zu.example.com", i);
		snprintf(names[MANY + i], sizeof(names[0]), "*.s%zu.com", i);
		snprintf(names[2 * MANY + i], sizeof(names[0]), "p%zu.*", i);
		doms[i] = names[i];
		doms[MANY + i] = names[MANY + i];
		doms[2 * MANY + i] = names[2 * MANY + i];
	}
	memset(vh, 0, sizeof(vh));
	vh[0].vh_domains = doms;
	vh[0].vh_ndomains = MANY;
	vh[1].vh_domains = doms + MANY;
	vh[1].vh_ndomains = 2 * MANY;
	vh[2].vh_domains = wide;
	vh[2].vh_ndomains = 2;
	vh[3].vh_domains = star;
	vh[3].vh_ndomains = 1;
	memset(&l, 0, sizeof(l));
	l.l_vhosts = vh;
	l.l_nvhosts = 4;
	CU_ASSERT_EQUAL_FATAL(wrk_router_init(&ro, &l), 0);
#define VH(s)	wrk_router_vhost(&ro, (s), strlen(s))
#define SCAN(s)	wrk_router_vhost_scan(&l, (s), strlen(s))
	CU_ASSERT_PTR_EQUAL(VH("h9999.example.com"), &vh[0]);
	CU_ASSERT_PTR_EQUAL(VH("H0.EXAMPLE.COM"), &vh[0]);
	CU_ASSERT_PTR_EQUAL(VH("x.s42.com"), &vh[1]);
	CU_ASSERT_PTR_EQUAL(VH("p7.org"), &vh[1]);
	/* "*.com" is shorter than "*.s42.com"; "p7.*" loses to a suffix */
	CU_ASSERT_PTR_EQUAL(VH("s42.com"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH("p7.com"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH("api.org"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH(".s42.com"), &vh[2]);
	CU_ASSERT_PTR_EQUAL(VH("h1.example.org"), &vh[3]);
	CU_ASSERT_PTR_EQUAL(VH("h9999.example.com"), SCAN("h9999.example.com"));
	CU_ASSERT_PTR_EQUAL(VH("x.s42.com"), SCAN("x.s42.com"));
	CU_ASSERT_PTR_EQUAL(VH("p7.com"), SCAN("p7.com"));
#undef VH
#undef SCAN
	wrk_router_free(&ro);
}

static CU_TestInfo tests[] = {
	{ "index_agrees_with_scan_on_random_tables",
	    index_agrees_with_scan_on_random_tables },
	{ "index_agrees_with_scan_on_random_domains",
	    index_agrees_with_scan_on_random_domains },
	{ "first_match_across_kinds", first_match_across_kinds },
	{ "ten_thousand_prefix_routes", ten_thousand_prefix_routes },
	{ "many_domains", many_domains },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/router_index", tests)
