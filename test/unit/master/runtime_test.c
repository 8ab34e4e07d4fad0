/*
 * Unit tests for the master's runtime (master/runtime.c): lookups over
 * the layers (the admin layer where it stands), Envoy's value types,
 * fractions and weights from keys, the admin layer's set and remove,
 * GET /runtime's JSON, and publishing into shm: every route on a
 * configuration, only what changed afterwards, a changed split starting
 * a fresh period.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "master/runtime.h"
#include "shared/conf.h"
#include "shared/shm.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

#define YAML								\
	"layered_runtime:\n"						\
	"  layers:\n"							\
	"  - name: base\n"						\
	"    static_layer:\n"						\
	"      split: { web: { v1: 70, v2: 30 } }\n"			\
	"      shift: { numerator: 25, denominator: TEN_THOUSAND }\n"	\
	"      both: base\n"						\
	"  - name: admin\n"						\
	"    admin_layer: {}\n"						\
	"  - name: last\n"						\
	"    static_layer: { both: last }\n"				\
	HCM_HEAD							\
	"              - match:\n"					\
	"                  prefix: \"/a\"\n"				\
	"                  runtime_fraction: { default_value: { "	\
	"numerator: 10 }, runtime_key: shift }\n"			\
	"                route: { cluster: v1 }\n"			\
	"              - name: web\n"					\
	"                match: { prefix: \"/\" }\n"			\
	"                route:\n"					\
	"                  weighted_clusters:\n"			\
	"                    runtime_key_prefix: split.web\n"		\
	"                    clusters: [ { name: v1, weight: 9 }, "	\
	"{ name: v2, weight: 1 } ]\n"					\
	"  clusters:\n" CLUSTER_V1					\
	"  - name: v2\n"						\
	"    load_assignment:\n"					\
	"      cluster_name: v2\n"					\
	"      endpoints: [ { lb_endpoints: [ { endpoint: { address: "	\
	"{ socket_address: { address: 127.0.0.1, port_value: 8082 } "	\
	"} } } ] } ]\n"

static struct cd_conf *
conf(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", YAML, strlen(YAML), &d);
	if (c == NULL)
		conf_diags_print(&d, "t.yaml", stderr);
	conf_diags_free(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static void
values_come_from_the_last_layer_that_has_them(void)
{
	struct cd_conf *c = conf();
	struct mst_rt_admin ad = { NULL, 0, 0 };
	const struct cd_runtime *rn = &c->c_runtime;

	CU_ASSERT_STRING_EQUAL(mst_runtime_value(rn, &ad, "split.web.v1"),
	    "70");
	CU_ASSERT_STRING_EQUAL(mst_runtime_value(rn, &ad, "both"), "last");
	CU_ASSERT_PTR_NULL(mst_runtime_value(rn, &ad, "split.web"));
	CU_ASSERT_PTR_NULL(mst_runtime_value(rn, &ad, NULL));
	/* the admin layer overrides the layer before it, not the one after */
	CU_ASSERT_EQUAL(mst_runtime_set(&ad, "split.web.v1", "5"), 0);
	CU_ASSERT_EQUAL(mst_runtime_set(&ad, "both", "admin"), 0);
	CU_ASSERT_EQUAL(mst_runtime_set(&ad, "a.new", "x"), 0);
	CU_ASSERT_STRING_EQUAL(mst_runtime_value(rn, &ad, "split.web.v1"),
	    "5");
	CU_ASSERT_STRING_EQUAL(mst_runtime_value(rn, &ad, "both"), "last");
	CU_ASSERT_EQUAL(mst_runtime_nkeys(rn, &ad), 5);
	/* sorted; an empty value removes */
	CU_ASSERT_STRING_EQUAL(ad.ad_v[0].kv_key, "a.new");
	CU_ASSERT_EQUAL(mst_runtime_set(&ad, "a.new", ""), 0);
	CU_ASSERT_EQUAL(mst_runtime_set(&ad, "never.set", ""), 0);
	CU_ASSERT_EQUAL(ad.ad_n, 2);
	CU_ASSERT_STRING_EQUAL(ad.ad_v[0].kv_key, "both");
	mst_runtime_admin_free(&ad);
	CU_ASSERT_EQUAL(ad.ad_n, 0);
	conf_free(c);
}

static void
value_types_are_envoys(void)
{
	uint64_t u = 0;

	CU_ASSERT(mst_runtime_uint("42", &u) && u == 42);
	CU_ASSERT(mst_runtime_uint(" 7.9 ", &u) && u == 7);
	CU_ASSERT(mst_runtime_uint("1e3", &u) && u == 1000);
	CU_ASSERT_FALSE(mst_runtime_uint("-1", &u));
	CU_ASSERT_FALSE(mst_runtime_uint("true", &u));
	CU_ASSERT_FALSE(mst_runtime_uint("ten", &u));
	CU_ASSERT_FALSE(mst_runtime_uint("", &u));
	CU_ASSERT_FALSE(mst_runtime_uint("nan", &u));
}

#define WORD(n, d)	((uint64_t)(n) << 32 | (d))

static void
fractions_follow_their_key(void)
{
	struct cd_conf *c = conf();
	struct mst_rt_admin ad = { NULL, 0, 0 };
	const struct cd_runtime *rn = &c->c_runtime;
	const struct cd_fraction *rf =
	    &c->c_listener->l_vhosts[0].vh_routes[0].rt_match.rm_fraction;

	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(25, 10000));
	/* a number is a percentage; above 100 always */
	mst_runtime_set(&ad, "shift", "40");
	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(40, 100));
	mst_runtime_set(&ad, "shift", "101");
	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(1, 1));
	mst_runtime_set(&ad, "shift", "{numerator: 3, denominator: MILLION}");
	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(3, 1000000));
	mst_runtime_set(&ad, "shift", "numerator: 8");
	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(8, 100));
	/* anything else: the route's default */
	mst_runtime_set(&ad, "shift", "true");
	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(10, 100));
	mst_runtime_set(&ad, "shift", "numerator: 8, colour: red");
	CU_ASSERT_EQUAL(mst_runtime_fraction(rn, &ad, rf), WORD(10, 100));
	mst_runtime_admin_free(&ad);
	conf_free(c);
}

static void
weights_follow_their_keys(void)
{
	struct cd_conf *c = conf();
	struct mst_rt_admin ad = { NULL, 0, 0 };
	const struct cd_route *rt = &c->c_listener->l_vhosts[0].vh_routes[1];
	uint32_t w[UNIT_NWEIGHTS];

	CU_ASSERT(mst_runtime_weights(c, &ad, rt, w));
	CU_ASSERT(w[0] == 70 && w[1] == 30);
	/* a key that is no integer: that cluster's file weight */
	mst_runtime_set(&ad, "split.web.v1", "not a number");
	CU_ASSERT(mst_runtime_weights(c, &ad, rt, w));
	CU_ASSERT(w[0] == 9 && w[1] == 30);
	/* all zero: the file's stay */
	mst_runtime_set(&ad, "split.web.v1", "0");
	mst_runtime_set(&ad, "split.web.v2", "0");
	CU_ASSERT_FALSE(mst_runtime_weights(c, &ad, rt, w));
	CU_ASSERT(w[0] == 9 && w[1] == 1);
	mst_runtime_set(&ad, "split.web.v1", "4294967296");
	CU_ASSERT_FALSE(mst_runtime_weights(c, &ad, rt, w));
	mst_runtime_admin_free(&ad);
	conf_free(c);
}

static void
json_is_envoys_runtime_page(void)
{
	struct cd_conf *c = conf();
	struct mst_rt_admin ad = { NULL, 0, 0 };
	struct buf b;

	mst_runtime_set(&ad, "both", "a\"b");
	buf_init(&b);
	CU_ASSERT_EQUAL(mst_runtime_json(&b, &c->c_runtime, &ad), 0);
	buf_append(&b, "", 1);
	CU_ASSERT_STRING_EQUAL(b.b_data, "{\"entries\":{"
	    "\"both\":{\"final_value\":\"last\",\"layer_values\":[\"base\","
	    "\"a\\\"b\",\"last\"]},"
	    "\"shift\":{\"final_value\":\"denominator: TEN_THOUSAND\\n"
	    "numerator: 25\",\"layer_values\":[\"denominator: TEN_THOUSAND\\n"
	    "numerator: 25\",\"\",\"\"]},"
	    "\"split.web.v1\":{\"final_value\":\"70\",\"layer_values\":[\"70\","
	    "\"\",\"\"]},"
	    "\"split.web.v2\":{\"final_value\":\"30\",\"layer_values\":[\"30\","
	    "\"\",\"\"]}},"
	    "\"layers\":[\"base\",\"admin\",\"last\"]}");
	buf_free(&b);
	mst_runtime_admin_free(&ad);
	conf_free(c);
}

static void
publish_writes_what_changed(void)
{
	struct cd_conf *c = conf();
	struct mst_rt_admin ad = { NULL, 0, 0 };
	struct shm *shm = unit_shm();
	struct cd_place pl;
	uint32_t w[UNIT_NWEIGHTS], seq;
	int split;

	CU_ASSERT_PTR_NOT_NULL_FATAL(shm);
	unit_place(&pl);
	pl.pl_split[0] = split = 5;
	pl.pl_fraction[0] = 7;
	CU_ASSERT_EQUAL(mst_runtime_publish(shm, c, &pl, &ad, true), 1);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm, split), w,
	    UNIT_NWEIGHTS, &seq), 2);
	CU_ASSERT(w[0] == 70 && w[1] == 30);
	CU_ASSERT_EQUAL(atomic_load(shm_fraction(shm, 7)), WORD(25, 10000));
	/* nothing changed: nothing written, the period goes on */
	atomic_store(&shm_sp(shm, split)->sp_next, 77);
	CU_ASSERT_EQUAL(mst_runtime_publish(shm, c, &pl, &ad, false), 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_sp(shm, split)->sp_next), 77);
	/* a key changed: a fresh period on the new weights */
	mst_runtime_set(&ad, "split.web.v1", "3");
	mst_runtime_set(&ad, "shift", "50");
	CU_ASSERT_EQUAL(mst_runtime_publish(shm, c, &pl, &ad, false), 1);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm, split), w,
	    UNIT_NWEIGHTS, &seq), 2);
	CU_ASSERT(w[0] == 3 && w[1] == 30);
	CU_ASSERT_EQUAL(atomic_load(&shm_sp(shm, split)->sp_next), 0);
	CU_ASSERT_EQUAL(atomic_load(shm_fraction(shm, 7)), WORD(50, 100));
	mst_runtime_admin_free(&ad);
	shm_destroy(shm);
	conf_free(c);
}

static CU_TestInfo tests[] = {
	{ "values_come_from_the_last_layer_that_has_them",
	    values_come_from_the_last_layer_that_has_them },
	{ "value_types_are_envoys", value_types_are_envoys },
	{ "fractions_follow_their_key", fractions_follow_their_key },
	{ "weights_follow_their_keys", weights_follow_their_keys },
	{ "json_is_envoys_runtime_page", json_is_envoys_runtime_page },
	{ "publish_writes_what_changed", publish_writes_what_changed },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("master/runtime", tests)
