/*
 * Unit tests for the canaryd route metadata of the configuration loader
 * (shared/conf.c, metadata.filter_metadata.canaryd): sticky, override,
 * fallback and rollout, their defaults, the derived canary and stable
 * clusters, the /config_dump rendering, and every refused form with its
 * one exact error (file position and field path).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/conf_check.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

#define SEC	CD_NS_PER_S

/* HCM_HEAD (conf_yaml.h) is lines 1-17; the routes start on line 18. */
#define HEAD	HCM_HEAD

#define CLUSTER(n)							\
	"  - name: " n "\n"						\
	"    load_assignment:\n"					\
	"      cluster_name: " n "\n"					\
	"      endpoints: [ { lb_endpoints: [ { endpoint: { address: "	\
	"{ socket_address: { address: 127.0.0.1, port_value: 8081 } "	\
	"} } } ] } ]\n"
#define CLUSTERS "  clusters:\n" CLUSTER("v1") CLUSTER("v2") CLUSTER("v3")

/* Route lines 18-20: a weighted route, then its metadata on line 21. */
#define WROUTE(weights)							\
	"              - name: web\n"					\
	"                match: { prefix: \"/\" }\n"			\
	"                route: { weighted_clusters: { clusters: " weights \
	" } }\n"
#define W9010	"[ { name: v1, weight: 90 }, { name: v2, weight: 10 } ]"
/* line 21; the canaryd mapping starts at column 59 */
#define MD(x)								\
	"                metadata: { filter_metadata: { canaryd: " x	\
	" } }\n"
#define CROUTE								\
	"              - name: one\n"					\
	"                match: { prefix: \"/\" }\n"			\
	"                route: { cluster: v1 }\n"

#define MD_PATH	"static_resources.listeners[0].filter_chains[0]."	\
	"filters[0].typed_config.route_config.virtual_hosts[0].routes[0]." \
	"metadata.filter_metadata.canaryd"

/* yaml must fail with exactly this one error. */
static void
expect_one(const char *yaml, int line, int col, const char *text)
{
	struct conf_diags d;
	struct cd_conf *c;
	int ok;

	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NULL(c);
	ok = d.cd_n == 1 && d.cd_nerrors == 1 && d.cd_v[0].d_line == line &&
	    d.cd_v[0].d_col == col && !d.cd_v[0].d_warning &&
	    strcmp(d.cd_v[0].d_text, text) == 0;
	if (!ok) {
		fprintf(stderr, "\nwanted t.yaml:%d:%d: error: %s\ngot:\n",
		    line, col, text);
		conf_diags_print(&d, "t.yaml", stderr);
	}
	CU_ASSERT(ok);
	conf_free(c);
	conf_diags_free(&d);
}

static const struct cd_route *
route0(const struct cd_conf *c)
{
	return &c->c_listener->l_vhosts[0].vh_routes[0];
}

/* ---- accepted forms ------------------------------------------------------ */

static void
canary_options_are_stored_and_rendered(void)
{
	struct cd_conf *c;
	const struct cd_route *r;
	const struct cd_rollout *ro;

	c = ut_load_ok(HEAD WROUTE("[ { name: v1, weight: 95 }, "
	    "{ name: v2, weight: 5 }, { name: v3, weight: 0 } ]")
	    "                metadata:\n"
	    "                  filter_metadata:\n"
	    "                    canaryd:\n"
	    "                      sticky: { cookie: uid, set_cookie: true, "
	    "seed: 18446744073709551615 }\n"
	    "                      override_header: X-Canary\n"
	    "                      override_cookie: canary\n"
	    "                      fallback: v1\n"
	    "                      rollout:\n"
	    "                        canary: v2\n"
	    "                        stable: v1\n"
	    "                        steps: [2, 20, 100]\n"
	    "                        step_interval: 5s\n"
	    "                        window: 2.5s\n"
	    "                        min_requests: 0\n"
	    "                        max_error_rate_delta: 0.05\n"
	    "                        max_p99_ratio: 2\n"
	    CLUSTERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = route0(c);
	CU_ASSERT_EQUAL(r->rt_action, CD_RA_WEIGHTED);
	CU_ASSERT(r->rt_sticky.st_set);
	CU_ASSERT_STRING_EQUAL(r->rt_sticky.st_cookie, "uid");
	CU_ASSERT_PTR_NULL(r->rt_sticky.st_header);
	CU_ASSERT(r->rt_sticky.st_set_cookie);
	CU_ASSERT(r->rt_sticky.st_seed == UINT64_MAX);
	CU_ASSERT_STRING_EQUAL(r->rt_override_header, "x-canary");
	CU_ASSERT_STRING_EQUAL(r->rt_override_cookie, "canary");
	CU_ASSERT_EQUAL(r->rt_fallback, 0);
	ro = &r->rt_rollout;
	CU_ASSERT(ro->ro_set);
	CU_ASSERT_EQUAL(ro->ro_canary, 1);
	CU_ASSERT_EQUAL(ro->ro_stable, 0);
	CU_ASSERT_EQUAL(ro->ro_nsteps, 3);
	CU_ASSERT_EQUAL(ro->ro_steps[0], 2);
	CU_ASSERT_EQUAL(ro->ro_steps[1], 20);
	CU_ASSERT_EQUAL(ro->ro_steps[2], 100);
	CU_ASSERT_EQUAL(ro->ro_step_interval, 5 * SEC);
	CU_ASSERT_EQUAL(ro->ro_window, 2500 * CD_NS_PER_MS);
	CU_ASSERT_EQUAL(ro->ro_min_requests, 0);
	CU_ASSERT_DOUBLE_EQUAL(ro->ro_max_error_rate_delta, 0.05, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(ro->ro_max_p99_ratio, 2.0, 1e-12);
	/* rollout names them: v3 (weight 0) is neither */
	CU_ASSERT_EQUAL(r->rt_canary_wc, 1);
	CU_ASSERT_EQUAL(r->rt_stable_wc, 0);
	CU_ASSERT_EQUAL(r->rt_wc[2].wc_weight, 0);
	CU_ASSERT_EQUAL(r->rt_total_weight, 100);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_route_config,
	    "\"filter_metadata\":{\"canaryd\":{\"sticky\":{\"cookie\":\"uid\","
	    "\"set_cookie\":true,\"seed\":\"18446744073709551615\"},"
	    "\"override_header\":\"X-Canary\",\"override_cookie\":\"canary\","
	    "\"fallback\":\"v1\",\"rollout\":{\"canary\":\"v2\","
	    "\"stable\":\"v1\",\"steps\":[2,20,100],\"step_interval\":\"5s\","
	    "\"window\":\"2.500s\",\"min_requests\":0,"
	    "\"max_error_rate_delta\":0.05,\"max_p99_ratio\":2}}}"));
	conf_free(c);
}

static void
canary_defaults_apply(void)
{
	struct cd_conf *c;
	const struct cd_route *r;
	const struct cd_rollout *ro;

	c = ut_load_ok(HEAD WROUTE(W9010)
	    MD("{ sticky: { header: X-User }, rollout: { canary: v2, "
	    "stable: v1 } }") CLUSTERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = route0(c);
	CU_ASSERT_STRING_EQUAL(r->rt_sticky.st_header, "x-user");
	CU_ASSERT_PTR_NULL(r->rt_sticky.st_cookie);
	CU_ASSERT(!r->rt_sticky.st_set_cookie);
	CU_ASSERT(r->rt_sticky.st_seed != 0);
	CU_ASSERT_PTR_NULL(r->rt_override_header);
	CU_ASSERT_PTR_NULL(r->rt_override_cookie);
	CU_ASSERT_EQUAL(r->rt_fallback, -1);
	ro = &r->rt_rollout;
	CU_ASSERT(ro->ro_set);
	CU_ASSERT_EQUAL(ro->ro_nsteps, 6);
	CU_ASSERT(memcmp(ro->ro_steps, (uint8_t[]){ 1, 5, 10, 25, 50, 100 },
	    6) == 0);
	CU_ASSERT_EQUAL(ro->ro_step_interval, 60 * SEC);
	CU_ASSERT_EQUAL(ro->ro_window, 30 * SEC);
	CU_ASSERT_EQUAL(ro->ro_min_requests, 200);
	CU_ASSERT_DOUBLE_EQUAL(ro->ro_max_error_rate_delta, 0.01, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(ro->ro_max_p99_ratio, 1.5, 1e-12);
	conf_free(c);

	/* no canaryd metadata at all: nothing set, no fallback */
	c = ut_load_ok(HEAD WROUTE(W9010) CLUSTERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = route0(c);
	CU_ASSERT(!r->rt_sticky.st_set);
	CU_ASSERT(!r->rt_rollout.ro_set);
	CU_ASSERT_EQUAL(r->rt_fallback, -1);
	CU_ASSERT_EQUAL(r->rt_canary_wc, 1);
	CU_ASSERT_EQUAL(r->rt_stable_wc, 0);
	conf_free(c);

	/* a single-cluster route: no canary, no stable */
	c = ut_load_ok(HEAD CROUTE MD("{ fallback: v2 }") CLUSTERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = route0(c);
	CU_ASSERT_EQUAL(r->rt_fallback, 1);
	CU_ASSERT_EQUAL(r->rt_canary_wc, -1);
	CU_ASSERT_EQUAL(r->rt_stable_wc, -1);
	conf_free(c);
}

/* Smallest file weight is the canary (last on ties), largest the stable
 * one (first on ties). */
static void
canary_and_stable_follow_file_weights(void)
{
	static const struct {
		const char	*weights;
		int		 canary, stable;
	} cases[] = {
		{ W9010, 1, 0 },
		{ "[ { name: v1, weight: 10 }, { name: v2, weight: 90 } ]",
		    0, 1 },
		{ "[ { name: v1, weight: 50 }, { name: v2, weight: 50 } ]",
		    1, 0 },
		{ "[ { name: v1, weight: 80 }, { name: v2, weight: 0 }, "
		    "{ name: v3, weight: 20 } ]", 1, 0 },
		{ "[ { name: v1, weight: 5 }, { name: v2, weight: 5 }, "
		    "{ name: v3, weight: 90 } ]", 1, 2 },
		{ "[ { name: v1, weight: 1 } ]", 0, 0 },
	};
	char yaml[4096];
	struct cd_conf *c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s"
		    "              - name: web\n"
		    "                match: { prefix: \"/\" }\n"
		    "                route: { weighted_clusters: { clusters: "
		    "%s } }\n%s", HEAD, cases[i].weights, CLUSTERS);
		c = ut_load_ok(yaml);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(route0(c)->rt_canary_wc, cases[i].canary);
		CU_ASSERT_EQUAL(route0(c)->rt_stable_wc, cases[i].stable);
		conf_free(c);
	}
}

/* The default seed is a function of the route's name, else its place. */
static void
sticky_default_seed_is_stable_and_per_route(void)
{
	struct cd_conf *a, *b;
	const struct cd_vhost *vh;
	const char *yaml = HEAD
	    "              - name: web\n"
	    "                match: { prefix: \"/a\" }\n"
	    "                route: { weighted_clusters: { clusters: " W9010
	    " } }\n" MD("{ sticky: { cookie: uid } }")
	    "              - name: api\n"
	    "                match: { prefix: \"/b\" }\n"
	    "                route: { weighted_clusters: { clusters: " W9010
	    " } }\n" MD("{ sticky: { cookie: uid } }")
	    "              - match: { prefix: \"/c\" }\n"
	    "                route: { weighted_clusters: { clusters: " W9010
	    " } }\n" MD("{ sticky: { cookie: uid } }")
	    "              - match: { prefix: \"/d\" }\n"
	    "                route: { weighted_clusters: { clusters: " W9010
	    " } }\n" MD("{ sticky: { cookie: uid } }")
	    CLUSTERS;

	a = ut_load_ok(yaml);
	b = ut_load_ok(yaml);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	vh = &a->c_listener->l_vhosts[0];
	CU_ASSERT(vh->vh_routes[0].rt_sticky.st_seed !=
	    vh->vh_routes[1].rt_sticky.st_seed);
	CU_ASSERT(vh->vh_routes[2].rt_sticky.st_seed !=
	    vh->vh_routes[3].rt_sticky.st_seed);
	CU_ASSERT(vh->vh_routes[0].rt_sticky.st_seed !=
	    vh->vh_routes[2].rt_sticky.st_seed);
	CU_ASSERT(vh->vh_routes[2].rt_sticky.st_seed == b->c_listener->
	    l_vhosts[0].vh_routes[2].rt_sticky.st_seed);
	CU_ASSERT(vh->vh_routes[0].rt_sticky.st_seed == b->c_listener->
	    l_vhosts[0].vh_routes[0].rt_sticky.st_seed);
	conf_free(a);
	conf_free(b);
}

/* The user's config loads unchanged and gets canary/stable derived. */
static void
seed_config_gets_canary_and_stable(void)
{
	struct conf_diags d;
	struct cd_conf *c;
	size_t v, r;
	int weighted = 0;

	memset(&d, 0, sizeof(d));
	c = conf_load("etc/canary/envoy-canary.yaml", &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (v = 0; v < c->c_listener->l_nvhosts; v++)
		for (r = 0; r < c->c_listener->l_vhosts[v].vh_nroutes; r++) {
			const struct cd_route *rt =
			    &c->c_listener->l_vhosts[v].vh_routes[r];

			CU_ASSERT_EQUAL(rt->rt_fallback, -1);
			CU_ASSERT(!rt->rt_sticky.st_set);
			if (rt->rt_action != CD_RA_WEIGHTED)
				continue;
			weighted++;
			CU_ASSERT(rt->rt_canary_wc >= 0);
			CU_ASSERT(rt->rt_stable_wc >= 0);
			CU_ASSERT(rt->rt_canary_wc != rt->rt_stable_wc);
		}
	CU_ASSERT(weighted >= 1);
	conf_free(c);
	conf_diags_free(&d);
}

/* ---- refused forms: one error each ------------------------------------- */

static void
sticky_refused_forms(void)
{
	expect_one(HEAD CROUTE MD("{ sticky: { cookie: uid } }") CLUSTERS,
	    21, 59, MD_PATH ".sticky: only allowed on a route with "
	    "weighted_clusters");
	expect_one(HEAD WROUTE(W9010)
	    MD("{ sticky: { cookie: uid, header: x-uid } }") CLUSTERS,
	    21, 82, MD_PATH ".sticky.header: only one of cookie, header may "
	    "be set");
	expect_one(HEAD WROUTE(W9010) MD("{ sticky: { seed: 1 } }")
	    CLUSTERS, 21, 67, MD_PATH ".sticky: one of cookie, header is "
	    "required");
	expect_one(HEAD WROUTE(W9010)
	    MD("{ sticky: { header: x-uid, set_cookie: true } }") CLUSTERS,
	    21, 84, MD_PATH ".sticky.set_cookie: only allowed with cookie");
	expect_one(HEAD WROUTE(W9010) MD("{ sticky: { cookie: \"a b\" } }")
	    CLUSTERS, 21, 77, MD_PATH ".sticky.cookie: not a valid cookie "
	    "name: must be an HTTP token");
	expect_one(HEAD WROUTE(W9010) MD("{ sticky: { cookie: \"\" } }")
	    CLUSTERS, 21, 77, MD_PATH ".sticky.cookie: must not be empty");
	expect_one(HEAD WROUTE(W9010)
	    MD("{ sticky: { cookie: uid, seed: 18446744073709551616 } }")
	    CLUSTERS, 21, 88, MD_PATH ".sticky.seed: bad number "
	    "\"18446744073709551616\": want an integer "
	    "0..18446744073709551615");
	expect_one(HEAD WROUTE(W9010)
	    MD("{ sticky: { cookie: uid, seed: -1 } }")
	    CLUSTERS, 21, 88, MD_PATH ".sticky.seed: bad number \"-1\": "
	    "want an integer 0..18446744073709551615");
	expect_one(HEAD WROUTE(W9010)
	    MD("{ sticky: { cookie: uid, ttl: 5 } }")
	    CLUSTERS, 21, 82, MD_PATH ".sticky.ttl: unknown field in canaryd "
	    "sticky (canaryd.yaml(5) lists its keys)");
}

static void
override_and_fallback_refused_forms(void)
{
	expect_one(HEAD CROUTE MD("{ override_header: x-canary }") CLUSTERS,
	    21, 59, MD_PATH ".override_header: only allowed on a route with "
	    "weighted_clusters");
	expect_one(HEAD CROUTE MD("{ override_cookie: canary }") CLUSTERS,
	    21, 59, MD_PATH ".override_cookie: only allowed on a route with "
	    "weighted_clusters");
	expect_one(HEAD WROUTE(W9010) MD("{ override_header: \"x:canary\" }")
	    CLUSTERS, 21, 76, MD_PATH ".override_header: not a valid header "
	    "name: must be an HTTP token");
	expect_one(HEAD WROUTE(W9010) MD("{ override_cookie: \"a;b\" }")
	    CLUSTERS, 21, 76, MD_PATH ".override_cookie: not a valid cookie "
	    "name: must be an HTTP token");
	expect_one(HEAD WROUTE(W9010) MD("{ fallback: v9 }") CLUSTERS,
	    21, 69, MD_PATH ".fallback: unknown cluster \"v9\"");
	/* validate_clusters: false does not excuse a fallback */
	expect_one(HEAD WROUTE(W9010) MD("{ fallback: v9 }")
	    "            validate_clusters: false\n" CLUSTERS,
	    21, 69, MD_PATH ".fallback: unknown cluster \"v9\"");
	expect_one(HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                direct_response: { status: 200 }\n"
	    "                metadata: { filter_metadata: { canaryd: "
	    "{ fallback: v1 } } }\n" CLUSTERS,
	    20, 59, MD_PATH ".fallback: only allowed on a route with "
	    "cluster or weighted_clusters");
}

#define RO(x)	MD("{ rollout: { " x " } }")

static void
rollout_refused_forms(void)
{
	expect_one(HEAD CROUTE RO("canary: v2, stable: v1") CLUSTERS,
	    21, 59, MD_PATH ".rollout: only allowed on a route with "
	    "weighted_clusters");
	expect_one(HEAD WROUTE(W9010) RO("canary: v3, stable: v1") CLUSTERS,
	    21, 78, MD_PATH ".rollout.canary: \"v3\" is not one of this "
	    "route's weighted_clusters");
	expect_one(HEAD WROUTE(W9010) RO("canary: v2, stable: v2") CLUSTERS,
	    21, 90, MD_PATH ".rollout.stable: must not be the canary "
	    "cluster");
	expect_one(HEAD WROUTE(W9010) RO("canary: v2") CLUSTERS,
	    21, 68, MD_PATH ".rollout.stable: missing required field");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, steps: [5, 5]") CLUSTERS,
	    21, 105, MD_PATH ".rollout.steps[1]: 5 is not greater than the "
	    "step before it (5): steps must rise");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, steps: [0, 5]") CLUSTERS,
	    21, 102, MD_PATH ".rollout.steps[0]: 0 is out of range: must be "
	    "1..100");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, steps: [50, 101]") CLUSTERS,
	    21, 106, MD_PATH ".rollout.steps[1]: 101 is out of range: must "
	    "be 1..100");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, steps: []") CLUSTERS,
	    21, 101, MD_PATH ".rollout.steps: want at least one item");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, "
	    "10, 11, 12, 13, 14, 15, 16, 17]") CLUSTERS,
	    21, 101, MD_PATH ".rollout.steps: too many items: 17, canaryd "
	    "supports at most 16 (CD_MAX_ROLLOUT_STEPS)");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, step_interval: 0s") CLUSTERS,
	    21, 109, MD_PATH ".rollout.step_interval: must be greater than "
	    "0s");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, window: 10") CLUSTERS,
	    21, 102, MD_PATH ".rollout.window: bad duration \"10\": "
	    "want a string like \"1s\" or \"0.25s\"");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, min_requests: -1") CLUSTERS,
	    21, 108, MD_PATH ".rollout.min_requests: -1 is out of range: "
	    "must be 0..4294967295");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, max_error_rate_delta: 1.5") CLUSTERS,
	    21, 116, MD_PATH ".rollout.max_error_rate_delta: 1.5 is out of "
	    "range: must be 0..1");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, max_error_rate_delta: .nan") CLUSTERS,
	    21, 116, MD_PATH ".rollout.max_error_rate_delta: bad number "
	    "\".nan\"");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, max_p99_ratio: 0.5") CLUSTERS,
	    21, 109, MD_PATH ".rollout.max_p99_ratio: 0.5 is out of range: "
	    "must be at least 1");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, max_p99_ratio: 1e999") CLUSTERS,
	    21, 109, MD_PATH ".rollout.max_p99_ratio: bad number \"1e999\"");
	expect_one(HEAD WROUTE(W9010)
	    RO("canary: v2, stable: v1, pause: true") CLUSTERS,
	    21, 94, MD_PATH ".rollout.pause: unknown field in canaryd "
	    "rollout (canaryd.yaml(5) lists its keys)");
	/* the admin endpoints address a rollout by its route's name */
	expect_one(HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { weighted_clusters: { clusters: " W9010
	    " } }\n"
	    "                metadata: { filter_metadata: { canaryd: "
	    "{ rollout: { canary: v2, stable: v1 } } } }\n" CLUSTERS,
	    20, 59, MD_PATH ".rollout: the route needs a name: "
	    "/canary/<name>/... addresses the rollout by it");
	expect_one(HEAD
	    WROUTE(W9010) RO("canary: v2, stable: v1")
	    WROUTE(W9010) RO("canary: v2, stable: v1") CLUSTERS,
	    25, 59, "static_resources.listeners[0].filter_chains[0]."
	    "filters[0].typed_config.route_config.virtual_hosts[0]."
	    "routes[1].metadata.filter_metadata.canaryd.rollout: another "
	    "route with a rollout is named \"web\" (line 21): names of "
	    "routes with a rollout must be unique");
}

/* Same name without rollout on either side is fine. */
static void
rollout_names_only_unique_among_rollouts(void)
{
	struct cd_conf *c;

	c = ut_load_ok(HEAD WROUTE(W9010) RO("canary: v2, stable: v1")
	    WROUTE(W9010) CLUSTERS);
	CU_ASSERT_PTR_NOT_NULL(c);
	conf_free(c);
}

static CU_TestInfo tests[] = {
	{ "canary_options_are_stored_and_rendered",
	    canary_options_are_stored_and_rendered },
	{ "canary_defaults_apply", canary_defaults_apply },
	{ "canary_and_stable_follow_file_weights",
	    canary_and_stable_follow_file_weights },
	{ "sticky_default_seed_is_stable_and_per_route",
	    sticky_default_seed_is_stable_and_per_route },
	{ "seed_config_gets_canary_and_stable",
	    seed_config_gets_canary_and_stable },
	{ "sticky_refused_forms", sticky_refused_forms },
	{ "override_and_fallback_refused_forms",
	    override_and_fallback_refused_forms },
	{ "rollout_refused_forms", rollout_refused_forms },
	{ "rollout_names_only_unique_among_rollouts",
	    rollout_names_only_unique_among_rollouts },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_canary", tests);
