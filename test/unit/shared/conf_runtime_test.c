/*
 * Unit tests for the loader's runtime (shared/conf_runtime.c and its rows
 * in conf_bootstrap.c and conf_route.c): static layers flattened into
 * sorted dotted keys (fractions and empty mappings are values), the admin
 * layer, Envoy's checks across layers, disk and RTDS layers refused with
 * advice, runtime_fraction with its defaults and slot numbers, and
 * runtime_key_prefix's keys, which a rollout may not share.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

#define CL	"  clusters:\n" CLUSTER_V1				\
	"  - name: v2\n"						\
	"    load_assignment:\n"					\
	"      cluster_name: v2\n"					\
	"      endpoints: [ { lb_endpoints: [ { endpoint: { address: "	\
	"{ socket_address: { address: 127.0.0.1, port_value: 8082 } "	\
	"} } } ] } ]\n"
#define ROUTE_V1							\
	"              - match: { prefix: \"/\" }\n"		\
	"                route: { cluster: v1 }\n"

/* Load yaml; *first: the first diagnostic's "line: text", or "". */
static struct cd_conf *
load(const char *yaml, char *first, size_t len)
{
	struct conf_diags d;
	struct cd_conf *c;

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", yaml, strlen(yaml), &d);
	first[0] = '\0';
	if (d.cd_n > 0 && snprintf(first, len, "%d: ", d.cd_v[0].d_line) > 0)
		strlcat(first, d.cd_v[0].d_text, len);
	conf_diags_free(&d);
	return c;
}

static void
static_layers_flatten_and_sort(void)
{
	const struct cd_rt_layer *ly;
	const struct cd_runtime *rn;
	struct cd_conf *c;
	char err[512];

	c = load("layered_runtime:\n"
	    "  layers:\n"
	    "  - name: static_layer_0\n"
	    "    static_layer:\n"
	    "      routing:\n"
	    "        traffic_split: { greeter_v2: 30, greeter_v1: \"70\" }\n"
	    "      health_check.min_interval: 5\n"
	    "      frac: { numerator: 5, denominator: TEN_THOUSAND }\n"
	    "      empty: {}\n"
	    "      on: true\n"
	    "  - name: admin\n"
	    "    admin_layer: {}\n"
	    HCM_HEAD ROUTE_V1 CL, err, sizeof(err));
	/* no route reads these keys: each is a warning, in file order */
	CU_ASSERT_STRING_EQUAL(err, "6: layered_runtime.layers[0]."
	    "static_layer: ignored by canaryd: no route reads runtime key "
	    "\"routing.traffic_split.greeter_v2\" (canaryd reads the keys of "
	    "runtime_key_prefix and runtime_fraction)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rn = &c->c_runtime;
	CU_ASSERT(rn->rn_set);
	CU_ASSERT_EQUAL(rn->rn_nlayers, 2);
	CU_ASSERT_EQUAL(rn->rn_admin, 1);
	ly = &rn->rn_layers[0];
	CU_ASSERT_EQUAL(ly->ly_kind, CD_RTL_STATIC);
	CU_ASSERT_EQUAL_FATAL(ly->ly_n, 6);
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[0].re_key, "empty");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[0].re_value, "{}");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[1].re_key, "frac");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[1].re_value,
	    "denominator: TEN_THOUSAND\nnumerator: 5");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[2].re_key,
	    "health_check.min_interval");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[3].re_key, "on");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[3].re_value, "true");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[4].re_key,
	    "routing.traffic_split.greeter_v1");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[4].re_value, "70");
	CU_ASSERT_STRING_EQUAL(ly->ly_entries[5].re_value, "30");
	CU_ASSERT_EQUAL(rn->rn_layers[1].ly_kind, CD_RTL_ADMIN);
	/* /config_dump shows the layers as written */
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_bootstrap, "\"layered_runtime\":"
	    "{\"layers\":[{\"name\":\"static_layer_0\",\"static_layer\":{"
	    "\"routing\":{\"traffic_split\":{\"greeter_v2\":30,"));
	conf_free(c);
	/* no layers: one admin layer, as in Envoy */
	c = load("layered_runtime: { layers: [] }\n" HCM_HEAD ROUTE_V1 CL,
	    err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_runtime.rn_nlayers, 1);
	CU_ASSERT_EQUAL(c->c_runtime.rn_admin, 0);
	CU_ASSERT_STRING_EQUAL(c->c_runtime.rn_layers[0].ly_name, "");
	conf_free(c);
	/* no layered_runtime: no layers at all */
	c = load(HCM_HEAD ROUTE_V1 CL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(c->c_runtime.rn_set);
	CU_ASSERT_EQUAL(c->c_runtime.rn_nlayers, 0);
	conf_free(c);
}

/* yaml is refused, its first error on line saying part. */
static void
refused(const char *yaml, int line, const char *part)
{
	struct cd_conf *c;
	char err[1024], want[16];

	c = load(yaml, err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	conf_free(c);
	snprintf(want, sizeof(want), "%d: ", line);
	if (strncmp(err, want, strlen(want)) != 0 ||
	    strstr(err, part) == NULL)
		fprintf(stderr, "\nwanted line %d \"%s\", got %s\n", line, part,
		    err);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, part));
}

static void
layers_are_checked_as_envoy_does(void)
{
	refused("layered_runtime:\n  layers:\n"
	    "  - { name: a, admin_layer: {} }\n"
	    "  - { name: a, static_layer: { x: 1 } }\n"
	    HCM_HEAD ROUTE_V1 CL, 4, "duplicate layer name \"a\"");
	refused("layered_runtime:\n  layers:\n"
	    "  - { name: a, admin_layer: {} }\n"
	    "  - { name: b, admin_layer: {} }\n"
	    HCM_HEAD ROUTE_V1 CL, 4, "too many admin layers");
	refused("layered_runtime:\n  layers:\n"
	    "  - name: disk\n"
	    "    disk_layer: { symlink_root: /srv/runtime/current }\n"
	    HCM_HEAD ROUTE_V1 CL, 4, "not supported by canaryd: canaryd reads "
	    "no runtime directories; put the values in a static_layer");
	refused("layered_runtime:\n  layers:\n"
	    "  - { name: r, rtds_layer: { name: rt } }\n"
	    HCM_HEAD ROUTE_V1 CL, 3, "canaryd loads static configuration "
	    "only");
	refused("layered_runtime:\n  layers:\n"
	    "  - name: s\n"
	    "    static_layer: { a: { b: [1, 2] } }\n"
	    HCM_HEAD ROUTE_V1 CL, 4, "invalid runtime value");
	refused("layered_runtime:\n  layers:\n"
	    "  - { name: s }\n"
	    HCM_HEAD ROUTE_V1 CL, 3, "one of static_layer, admin_layer is "
	    "required");
}

#define FRACTION(x)							\
	"              - match:\n"					\
	"                  prefix: \"/a\"\n"				\
	"                  runtime_fraction: " x "\n"			\
	"                route: { cluster: v2 }\n"

static void
runtime_fractions_are_numbered(void)
{
	const struct cd_route *rt;
	struct cd_conf *c;
	char err[512];

	c = load(HCM_HEAD FRACTION("{ default_value: { numerator: 25 } }")
	    FRACTION("{ default_value: { numerator: 3, denominator: MILLION }, "
	    "runtime_key: shift.b }") ROUTE_V1 CL, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_nfractions, 2);
	rt = c->c_listener->l_vhosts[0].vh_routes;
	CU_ASSERT(rt[0].rt_match.rm_fraction.rf_set);
	CU_ASSERT_EQUAL(rt[0].rt_match.rm_fraction.rf_numerator, 25);
	CU_ASSERT_EQUAL(rt[0].rt_match.rm_fraction.rf_denominator, 100);
	CU_ASSERT_PTR_NULL(rt[0].rt_match.rm_fraction.rf_key);
	CU_ASSERT_EQUAL(rt[0].rt_match.rm_fraction.rf_index, 0);
	CU_ASSERT_EQUAL(rt[1].rt_match.rm_fraction.rf_denominator, 1000000);
	CU_ASSERT_STRING_EQUAL(rt[1].rt_match.rm_fraction.rf_key, "shift.b");
	CU_ASSERT_EQUAL(rt[1].rt_match.rm_fraction.rf_index, 1);
	CU_ASSERT_FALSE(rt[2].rt_match.rm_fraction.rf_set);
	conf_free(c);
	refused(HCM_HEAD FRACTION("{ runtime_key: k }") ROUTE_V1 CL, 20,
	    "runtime_fraction.default_value: missing required field");
	refused(HCM_HEAD FRACTION("{ default_value: { numerator: 1, "
	    "denominator: THOUSAND } }") ROUTE_V1 CL, 20,
	    "unknown denominator \"THOUSAND\"");
}

#define WEIGHTED(meta)							\
	"              - name: web\n"					\
	"                match: { prefix: \"/\" }\n"			\
	"                route:\n"					\
	"                  weighted_clusters:\n"			\
	"                    runtime_key_prefix: routing.split.web\n"	\
	"                    clusters: [ { name: v1, weight: 9 }, "	\
	"{ name: v2, weight: 1 } ]\n" meta

static void
runtime_key_prefix_names_each_clusters_key(void)
{
	const struct cd_route *rt;
	struct cd_conf *c;
	char err[512];

	c = load(HCM_HEAD WEIGHTED("") CL, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rt = c->c_listener->l_vhosts[0].vh_routes;
	CU_ASSERT_STRING_EQUAL(rt->rt_runtime_prefix, "routing.split.web");
	CU_ASSERT_STRING_EQUAL(rt->rt_wc[0].wc_runtime_key,
	    "routing.split.web.v1");
	CU_ASSERT_STRING_EQUAL(rt->rt_wc[1].wc_runtime_key,
	    "routing.split.web.v2");
	conf_free(c);
	refused(HCM_HEAD WEIGHTED("                metadata: { "
	    "filter_metadata: { canaryd: { rollout: { canary: v2, stable: v1 "
	    "} } } }\n") CL, 24, "the weights come from the runtime already");
}

/*
 * Fuzzing found these: a duplicated field's second value was walked over
 * the first's target.  layered_runtime twice, the second with fewer
 * layers, crashed the loader; regex_rewrite twice in one route leaked
 * the first compiled regex (LeakSanitizer, make SANITIZE=1 test).  Both
 * are one error each, and the load frees everything it built.
 */
static void
duplicate_fields_leave_the_first_alone(void)
{
	static const char *const rt[] = {
	    "layered_runtime:\n"
	    "  layers:\n"
	    "  - { name: a, static_layer: { k: 1 } }\n"
	    "  - { name: b, static_layer: { k: 2 } }\n"
	    "  - { name: c, admin_layer: {} }\n"
	    "layered_runtime:\n"
	    "  layers:\n"
	    "  - { name: a, static_layer: { k: 1 } }\n",
	    "layered_runtime:\n"
	    "  layers:\n"
	    "  - { name: a, admin_layer: {} }\n"
	    "  - { name: b, static_layer: { k: 2 } }\n"
	    "layered_runtime: { layers: [] }\n",
	    NULL };
	struct conf_diags d;
	char yaml[4096];
	size_t i, k;

	for (i = 0; rt[i] != NULL; i++) {
		snprintf(yaml, sizeof(yaml), "%s" HCM_HEAD ROUTE_V1 CL, rt[i]);
		memset(&d, 0, sizeof(d));
		CU_ASSERT_PTR_NULL(conf_load_buf("t.yaml", yaml, strlen(yaml),
		    &d));
		CU_ASSERT_EQUAL(d.cd_nerrors, 1);
		for (k = 0; k < d.cd_n; k++)
			if (!d.cd_v[k].d_warning)
				CU_ASSERT_PTR_NOT_NULL(strstr(d.cd_v[k].d_text,
				    "duplicate field"));
		conf_diags_free(&d);
	}
	refused(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  cluster: v1\n"
	    "                  regex_rewrite: { pattern: { regex: \"a(b)\" }, "
	    "substitution: \"\\\\1\" }\n"
	    "                  regex_rewrite: { pattern: { regex: \"c\" }, "
	    "substitution: d }\n" CL, 22, "duplicate field (also on line 21)");
	/* the RouteAction twice: its fields land in the route itself */
	refused(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1, regex_rewrite: { pattern: "
	    "{ regex: a }, substitution: b } }\n"
	    "                route: { cluster: v1, regex_rewrite: { pattern: "
	    "{ regex: c }, substitution: d } }\n" CL, 20,
	    "duplicate field (also on line 19)");
}

static CU_TestInfo tests[] = {
	{ "static_layers_flatten_and_sort", static_layers_flatten_and_sort },
	{ "layers_are_checked_as_envoy_does",
	    layers_are_checked_as_envoy_does },
	{ "runtime_fractions_are_numbered", runtime_fractions_are_numbered },
	{ "runtime_key_prefix_names_each_clusters_key",
	    runtime_key_prefix_names_each_clusters_key },
	{ "duplicate_fields_leave_the_first_alone",
	    duplicate_fields_leave_the_first_alone },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_runtime", tests)
