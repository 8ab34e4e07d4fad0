/*
 * Unit tests for the regex limits of the config loader (shared/conf.c,
 * re_translate): glibc's regcomp expands stacked and counted repetitions
 * into trees of exponential or product size, so a route regex such as
 * "a+++++..." (found by test/fuzz/fuzz_conf) made the master allocate
 * gigabytes.  canaryd now refuses what RE2 refuses: a repetition of a
 * repetition, counts over 1000, nested counts whose product is over 1000.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/unit.h"

#define HCM_T	"type.googleapis.com/envoy.extensions.filters.network." \
		"http_connection_manager.v3.HttpConnectionManager"
#define ROUTER_T "type.googleapis.com/envoy.extensions.filters.http." \
		"router.v3.Router"

/* A config whose only route matches safe_regex re; NULL on error. */
static struct cd_conf *
load_re(const char *re, struct conf_diags *d)
{
	static char y[8192];
	int n;

	n = snprintf(y, sizeof(y),
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, "
	    "port_value: 10000 } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: ingress\n"
	    "          http_filters:\n"
	    "          - name: envoy.filters.http.router\n"
	    "            typed_config: { \"@type\": " ROUTER_T " }\n"
	    "          route_config:\n"
	    "            virtual_hosts:\n"
	    "            - name: app\n"
	    "              domains: [\"*\"]\n"
	    "              routes:\n"
	    "              - match: { safe_regex: { regex: '%s' } }\n"
	    "                route: { cluster: v1 }\n"
	    "  clusters:\n"
	    "  - name: v1\n"
	    "    load_assignment:\n"
	    "      cluster_name: v1\n"
	    "      endpoints: [ { lb_endpoints: [ { endpoint: { address: "
	    "{ socket_address: { address: 127.0.0.1, port_value: 8081 } "
	    "} } } ] } ]\n", re);
	CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(y));
	memset(d, 0, sizeof(*d));
	return conf_load_buf("t.yaml", y, (size_t)n, d);
}

static int
re_loads(const char *re)
{
	struct conf_diags d;
	struct cd_conf *c = load_re(re, &d);
	int ok = c != NULL;

	if (!ok) {
		fprintf(stderr, "\nregex '%s':\n", re);
		conf_diags_print(&d, "t.yaml", stderr);
	}
	conf_free(c);
	conf_diags_free(&d);
	return ok;
}

/* Refused, with why in the message. */
static int
re_refused(const char *re, const char *why)
{
	struct conf_diags d;
	struct cd_conf *c = load_re(re, &d);
	size_t i;
	int found = 0;

	for (i = 0; i < d.cd_n; i++)
		if (strstr(d.cd_v[i].d_text, why) != NULL)
			found = 1;
	if (c != NULL || !found) {
		fprintf(stderr, "\nregex '%s': wanted \"%s\", got:\n", re, why);
		conf_diags_print(&d, "t.yaml", stderr);
	}
	conf_free(c);
	conf_diags_free(&d);
	return c == NULL && found;
}

static void
stacked_repetitions_are_refused(void)
{
	char re[128];

	CU_ASSERT(re_refused("/a++", "bad repetition operator"));
	CU_ASSERT(re_refused("/a**", "bad repetition operator"));
	CU_ASSERT(re_refused("/a*{2}", "bad repetition operator"));
	CU_ASSERT(re_refused("/a+?+", "bad repetition operator"));
	CU_ASSERT(re_refused("/a{2}{3}", "bad repetition operator"));
	/* the fuzzer's find: 70 stacked '+', refused at once */
	memset(re, '+', 70);
	re[0] = 'a';
	re[70] = '\0';
	CU_ASSERT(re_refused(re, "bad repetition operator"));
	/* lazy forms and literals that look like counts stay fine */
	CU_ASSERT(re_loads("/a+?b*?c??"));
	CU_ASSERT(re_loads("/v[0-9]{1,3}5+"));
	CU_ASSERT(re_loads("/x\\{2\\}+"));
}

static void
counts_over_1000_are_refused(void)
{
	CU_ASSERT(re_refused("/a{1001}", "over 1000"));
	CU_ASSERT(re_refused("/a{2,1001}", "over 1000"));
	CU_ASSERT(re_refused("/(a{100}){11}", "over 1000"));
	CU_ASSERT(re_refused("/((a{10}b){10}){11}", "over 1000"));
	CU_ASSERT(re_refused("/((a{10})(b{2})){101}", "over 1000"));
	CU_ASSERT(re_loads("/a{1000}"));
	CU_ASSERT(re_loads("/(a{10}){100}"));
	CU_ASSERT(re_loads("/(a{10})b{1000}"));	/* siblings add, not multiply */
}

static void
refused_regexes_cost_little(void)
{
	struct timespec t0, t1;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT(re_refused("/((a{30}){30}){30}", "over 1000"));
	CU_ASSERT(re_refused("/(((((a+)+)+)+)+)++", "bad repetition"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CU_ASSERT(ms < 500.0);
}

static CU_TestInfo tests[] = {
	{ "stacked_repetitions_are_refused", stacked_repetitions_are_refused },
	{ "counts_over_1000_are_refused", counts_over_1000_are_refused },
	{ "refused_regexes_cost_little", refused_regexes_cost_little },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/conf_regex", tests);
