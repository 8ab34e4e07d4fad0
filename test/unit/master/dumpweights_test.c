/*
 * Unit tests for master/dumpweights.c: after weights are set in place,
 * the /config_dump JSON strings are byte for byte what the loader renders
 * for a file with those weights, whether numbers keep their count of
 * digits (rewritten in place) or not (copied), after one reload or
 * several; a "weight" that is not a weighted cluster's refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "shared/log.h"
#include "master/dumpweights.h"
#include "master/fileweights.h"
#include "master/mst.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

/* Two weighted routes over v1 and v2: w[0], w[1] and w[2], w[3]; node
 * metadata with a "weight" key when md. */
static struct cd_conf *
load(const unsigned *w, int md)
{
	struct conf_diags d;
	struct cd_conf *c;
	char yaml[4096];
	int n;

	n = snprintf(yaml, sizeof(yaml), "%s" HCM_HEAD
	    "              - match: { prefix: \"/a\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n"
	    "                    - { name: v1, weight: %u }\n"
	    "                    - { name: v2, weight: %u }\n"
	    "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n"
	    "                    - { name: v1, weight: %u }\n"
	    "                    - { name: v2, weight: %u }\n"
	    "  clusters:\n" CLUSTER_V1
	    "  - name: v2\n"
	    "    load_assignment:\n"
	    "      cluster_name: v2\n"
	    "      endpoints: [ { lb_endpoints: [ { endpoint: { address: "
	    "{ socket_address: { address: 127.0.0.1, port_value: 8082 } "
	    "} } } ] } ]\n",
	    md ? "node: { id: n, metadata: { team: { weight: 5 } } }\n" : "",
	    w[0], w[1], w[2], w[3]);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("dumpweights.yaml", yaml, (size_t)n, &d);
	conf_diags_free(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* c's weights set to w, as the weight-only reload sets them: beside c,
 * whose own weights stay the file's as loaded (the workers'). */
static void
set(struct cd_conf *c, const unsigned *w)
{
	const struct cd_wspan *s;
	uint32_t w32[4], was[4];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(c->c_nwspans, 4);
	for (i = 0; i < c->c_nwspans; i++) {
		s = &c->c_wspans[i];
		was[i] = s->ws_rt->rt_wc[s->ws_k].wc_weight;
		w32[i] = w[i];
	}
	CU_ASSERT_EQUAL_FATAL(mst_fw_prepare(c), 0);
	mst_fw_set(c, w32);
	for (i = 0; i < c->c_nwspans; i++) {
		s = &c->c_wspans[i];
		CU_ASSERT_EQUAL(mst_fw_weight(c, s->ws_rt, s->ws_k), w[i]);
		CU_ASSERT_EQUAL(s->ws_rt->rt_wc[s->ws_k].wc_weight, was[i]);
	}
	mst_dumpw_stale(c);
}

static void
same_json(const struct cd_conf *a, const struct cd_conf *b)
{
	CU_ASSERT_STRING_EQUAL(a->c_json_bootstrap, b->c_json_bootstrap);
	CU_ASSERT_STRING_EQUAL(a->c_listeners[0].l_json,
	    b->c_listeners[0].l_json);
	CU_ASSERT_STRING_EQUAL(a->c_listeners[0].l_json_routes,
	    b->c_listeners[0].l_json_routes);
	CU_ASSERT_STRING_EQUAL(a->c_json_listener, b->c_json_listener);
	CU_ASSERT_STRING_EQUAL(a->c_json_route_config,
	    b->c_json_route_config);
}

/* From the file's weights through each of steps (nsteps x 4), the dump
 * asked for after the steps where ask[] says so. */
static void
run(const unsigned (*steps)[4], const int *ask, size_t nsteps)
{
	static const unsigned first[4] = { 90, 10, 7, 3 };
	struct cd_conf *c, *want;
	size_t i;

	c = load(first, 0);
	CU_ASSERT_EQUAL_FATAL(mst_dumpw_index(c), 0);
	mst.m_conf = c;
	for (i = 0; i < nsteps; i++) {
		set(c, steps[i]);
		if (!ask[i])
			continue;
		CU_ASSERT_EQUAL(mst_dumpw_fresh(), 0);
		want = load(steps[i], 0);
		same_json(c, want);
		conf_free(want);
	}
	mst.m_conf = NULL;
	conf_free(c);
}

static void
same_digits_in_place(void)
{
	static const unsigned s[][4] = { { 85, 15, 6, 4 }, { 85, 15, 6, 4 } };
	static const int ask[] = { 1, 1 };

	run(s, ask, 2);
}

static void
digits_change(void)
{
	/* longer, shorter, and both at once with the same total length */
	static const unsigned s[][4] = { { 900, 10, 7, 3 }, { 9, 1, 7, 3 },
	    { 10, 9, 70, 3 }, { 1, 90, 70, 3 }, { 100, 7, 60, 40 },
	    { 4294967294u, 1, 1, 1 } };
	static const int ask[] = { 1, 1, 1, 1, 1, 1 };

	run(s, ask, 6);
}

static void
several_reloads_then_asked(void)
{
	static const unsigned s[][4] = { { 900, 10, 7, 3 }, { 9, 1, 70, 30 },
	    { 60, 40, 7, 3 }, { 60, 40, 1000, 3 }, { 60, 40, 7, 3 } };
	static const int ask[] = { 0, 0, 1, 0, 1 };

	run(s, ask, 5);
}

static void
another_weight_key_refuses(void)
{
	static const unsigned w[4] = { 90, 10, 7, 3 };
	struct cd_conf *c = load(w, 1);
	int level = log_level;

	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_bootstrap, "\"weight\":5"));
	log_level = LOG_L_WARN;		/* the refusal logs at info */
	CU_ASSERT_EQUAL(mst_dumpw_index(c), -1);
	CU_ASSERT_EQUAL(mst_dumpw_index(c), -1);	/* for good */
	log_level = level;
	conf_free(c);
}

static CU_TestInfo tests[] = {
	{ "same_digits_in_place", same_digits_in_place },
	{ "digits_change", digits_change },
	{ "several_reloads_then_asked", several_reloads_then_asked },
	{ "another_weight_key_refuses", another_weight_key_refuses },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/dumpweights", tests);
